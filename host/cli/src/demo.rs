//! `nbfacts demo`: simulated devices, a local NetBox, one collection run, the summary.
//!
//! The demo seeds NetBox with a site and the simulated devices (idempotently), starts the
//! device simulator in this process (real SSH/NETCONF on loopback ports), runs the seven
//! standard collectors and the Junos L2 circuit, EVPN and OSPF collectors against it in apply mode and prints what changed. Run again, it
//! changes nothing and says so.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use nbfacts_devsim::generate::{DeviceSize, FleetSpec};
use nbfacts_devsim::{Simulator, SimulatorConfig};
use nbfacts_host::job::{Mode, RunSpec, SshConnector};
use nbfacts_host::netbox::{DeviceFilter, NetBox, ensure_setup};
use nbfacts_host::session::{
    CredentialProfile, HostKeyPolicy, HostKeyVerifier, SecretSource, SessionOptions,
};
use serde_json::{Value, json};

use crate::home::Home;
use crate::jobs::{self, NetBoxArgs, STANDARD_COLLECTORS};

/// Site slug of the demo devices.
const SITE: &str = "nbfacts-demo";

/// `nbfacts demo` flags.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub netbox: NetBoxArgs,
    /// Number of simulated devices.
    #[arg(long, default_value_t = 3)]
    pub devices: usize,
}

/// Runs the demo.
pub async fn run(
    home: &Home,
    registry: &nbfacts_host::Registry,
    args: &DemoArgs,
) -> anyhow::Result<ExitCode> {
    let nb = args.netbox.client()?;
    let n = args.devices.clamp(1, 50);
    eprintln!("nbfacts demo: NetBox {}", nb.url());
    ensure_setup(&nb)
        .await
        .context("preparing NetBox (nbfacts netbox init)")?;

    let spec = FleetSpec::new(n, DeviceSize::new(12, 60, (n - 1).min(4), 4, 40, 10))
        .with_prefix("demo-sw");
    seed(&nb, &spec).await.context("seeding NetBox")?;

    let sim = Simulator::start(SimulatorConfig::fleet(&spec))
        .await
        .context("starting the device simulator")?;
    // Trust exactly the simulator's keys: a known_hosts file written from them.
    let known_hosts = home.root().join("demo_known_hosts");
    let lines: String = sim
        .devices()
        .iter()
        .map(|d| d.known_hosts_line() + "\n")
        .collect();
    std::fs::write(&known_hosts, lines)
        .with_context(|| format!("writing {}", known_hosts.display()))?;
    // The simulator's default login (user nbfacts, password nbfacts), handed over in memory.
    let credentials = CredentialProfile::new(nbfacts_devsim::DEFAULT_USER)
        .with_password(SecretSource::Env("NBFACTS_DEMO_PASSWORD".into()))
        .resolve(&|_| Some(nbfacts_devsim::DEFAULT_PASSWORD.to_string()))?;
    let mut connector = SshConnector::new(
        Arc::new(credentials),
        Arc::new(HostKeyVerifier::new(HostKeyPolicy::Strict, known_hosts)),
        SessionOptions::default(),
        830,
    );
    for d in sim.devices() {
        eprintln!(
            "nbfacts demo: simulated {} on {} ({})",
            d.name, d.addr, d.fingerprint
        );
        connector = connector.with_override(&d.name, &d.addr.ip().to_string(), d.addr.port());
    }

    let store = jobs::store(home)?;
    let filter = DeviceFilter {
        sites: vec![SITE.to_string()],
        ..DeviceFilter::default()
    };
    let spec =
        RunSpec::new(
            STANDARD_COLLECTORS
                .iter()
                .copied()
                .chain(["l2_circuits", "evpn", "ospf"]),
        );
    let job = jobs::run_job(
        &store,
        registry,
        &connector,
        &nb,
        &filter,
        &spec,
        Mode::Apply,
        "demo",
    )
    .await;
    sim.shutdown().await;
    let job = job?;
    jobs::print_summary(&job);
    println!(
        "NetBox: {}/dcim/devices/?site={SITE}  (jobs: `nbfacts job list`, undo: `nbfacts job rollback {}`)",
        nb.url(),
        job.id
    );
    Ok(jobs::exit_for(&job))
}

/// Creates (if missing) the site, the device type, role and platform, a prefix for the
/// simulated neighbours' addresses, and one device per simulated device.
async fn seed(nb: &NetBox, spec: &FleetSpec) -> anyhow::Result<()> {
    let site = ensure(
        nb,
        "/api/dcim/sites/",
        "slug",
        SITE,
        json!({"name": "nbfacts demo", "slug": SITE, "status": "active"}),
    )
    .await?;
    let manufacturer = ensure(
        nb,
        "/api/dcim/manufacturers/",
        "slug",
        "juniper",
        json!({"name": "Juniper", "slug": "juniper"}),
    )
    .await?;
    let device_type = ensure(
        nb,
        "/api/dcim/device-types/",
        "slug",
        "qfx5120-48y",
        json!({"manufacturer": manufacturer, "model": "QFX5120-48Y", "slug": "qfx5120-48y"}),
    )
    .await?;
    let role = ensure(
        nb,
        "/api/dcim/device-roles/",
        "slug",
        "leaf",
        json!({"name": "Leaf", "slug": "leaf", "color": "2196f3"}),
    )
    .await?;
    let platform = ensure(
        nb,
        "/api/dcim/platforms/",
        "slug",
        "junos",
        json!({"name": "Junos", "slug": "junos"}),
    )
    .await?;
    // The simulated devices' link, ARP and neighbour addresses live in 10/8 and 2001:db8::/32;
    // ARP/NDP facts are only written inside prefixes NetBox knows.
    for prefix in ["10.0.0.0/8", "100.64.0.0/10", "2001:db8::/32"] {
        ensure(
            nb,
            "/api/ipam/prefixes/",
            "prefix",
            prefix,
            json!({"prefix": prefix, "status": "active", "description": "nbfacts demo"}),
        )
        .await?;
    }
    for i in 0..spec.devices {
        let name = spec.name(i);
        ensure(
            nb,
            "/api/dcim/devices/",
            "name",
            &name,
            json!({
                "name": name, "site": site, "device_type": device_type, "role": role,
                "platform": platform, "status": "active",
            }),
        )
        .await?;
    }
    Ok(())
}

async fn ensure(
    nb: &NetBox,
    path: &str,
    key: &str,
    value: &str,
    body: Value,
) -> anyhow::Result<u64> {
    nb.get_or_create(path, key, value, body)
        .await?
        .get("id")
        .and_then(Value::as_u64)
        .with_context(|| format!("NetBox returned no id for {path} {value}"))
}
