//! Fleet collection: nbfacts against a simulated fleet with per-RPC latency, and NAPALM against
//! the same fleet as the baseline.
//!
//! The simulator runs in a child process (this binary again, in its simulator role), so the
//! peak RSS reported for nbfacts is the host side's alone: sessions, the plugin runtime and
//! the collected facts. nbfacts collects all seven standard Junos collectors from every
//! device through `nbfacts-host`'s SSH sessions and the built-in Junos plugin, `concurrency`
//! devices at a time, one SSH connection per device shared by its collectors. Latency bounds
//! the run: with `R` RPCs served, the ideal wall time is `R × latency ÷ concurrency`, and the
//! benchmark prints wall ÷ ideal (target: at most 1.5). NAPALM 5.2 (the venv of
//! `scripts/interop-setup`, `tests/interop/napalm_fleet.py`) then runs the NAPALM getters
//! that the same collectors answer, on a thread pool, against the same devices.
//!
//! With `--report`, nbfacts runs a report-mode job instead (the issue's "collect and report"):
//! the devices come from NetBox (seeded once and kept: site `fleetbench`, devices
//! `fleetbench-NNN`, platform `junos`, primary IPv4 127.0.0.1 in VRF `fleetbench-sim`, i.e.
//! the simulator, each device on its own port), every collection is reconciled against
//! NetBox's current state and the job with its change sets is stored in the embedded store;
//! nothing is written to NetBox. It prints wall time, host peak RSS and NetBox reads per
//! device. Needs the local NetBox (`scripts/netbox up`; `set -a; eval "$(scripts/netbox
//! env)"; set +a`). `--no-coalesce` turns off the client's read coalescing, for comparison.
//! Concurrency trades memory for NetBox requests (fewer devices at once share fewer reads):
//! measured on 2 cores, 64 at a time took 61 s at 143 MiB and 1.10 reads per device, 128 took
//! 36–39 s at 211–236 MiB and 0.55–0.62 reads.
//!
//! ```sh
//! cargo bench -p nbfacts-devsim --bench fleet                # quick: 16 devices
//! cargo bench -p nbfacts-devsim --bench fleet -- --full      # 200 devices, 100 ms, 64 at a time
//! cargo bench -p nbfacts-devsim --bench fleet -- --devices 50 --latency-ms 20 \
//!     --concurrency 16 --napalm-workers 8 [--no-napalm]
//! # the issue's target: 1000 devices, collect and report
//! cargo bench -p nbfacts-devsim --bench fleet -- --devices 1000 --latency-ms 0 \
//!     --concurrency 128 --report --no-napalm
//! ```
//!
//! `NBFACTS_BENCH_FULL=1` is `--full`; `NBFACTS_VENV` chooses the venv.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::indexing_slicing
)]

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nbfacts_devsim::{DeviceSize, Faults, FleetSpec, Simulator, SimulatorConfig};
use nbfacts_host::job::{self, Job, Mode, RunSpec, Sink, SshConnector, Store};
use nbfacts_host::netbox::{
    AddressPreference, DeviceFilter, NetBox, NetBoxConfig, PlatformMap, Secret as NbSecret,
    ensure_setup, resolve_targets,
};
use nbfacts_host::session::{
    CredentialProfile, Credentials, HostKeyPolicy, HostKeyVerifier, NetconfSession, Secret,
    SecretSource, SessionOptions, SshTarget,
};
use nbfacts_host::{CollectRequest, Registry, Runtime, RuntimeConfig};
use serde_json::{Value, json};

/// The seven standard Junos collectors.
const COLLECTORS: &[&str] = &[
    "inventory",
    "interfaces",
    "ethernet_switching",
    "lldp",
    "bgp",
    "arp",
    "ndp",
];

/// Set in the child that serves the fleet.
const ROLE_VAR: &str = "NBFACTS_FLEET_BENCH_SIMULATOR";

/// Device names of the report run (unique to this benchmark in the shared NetBox).
const REPORT_PREFIX: &str = "fleetbench-";

#[derive(Debug, Clone)]
struct Params {
    devices: usize,
    latency: Duration,
    concurrency: usize,
    napalm_workers: usize,
    napalm: bool,
    report: bool,
    coalesce: bool,
}

fn params() -> Params {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let full = args.iter().any(|a| a == "--full")
        || std::env::var("NBFACTS_BENCH_FULL").is_ok_and(|v| v == "1");
    let mut p = if full {
        Params {
            devices: 200,
            latency: Duration::from_millis(100),
            concurrency: 64,
            napalm_workers: 20,
            napalm: true,
            report: false,
            coalesce: true,
        }
    } else {
        Params {
            devices: 16,
            latency: Duration::from_millis(50),
            concurrency: 8,
            napalm_workers: 4,
            napalm: true,
            report: false,
            coalesce: true,
        }
    };
    let value = |flag: &str| -> Option<u64> {
        let at = args.iter().position(|a| a == flag)?;
        let v = args.get(at + 1)?;
        Some(
            v.parse()
                .unwrap_or_else(|_| panic!("{flag}: not a number: {v}")),
        )
    };
    if let Some(n) = value("--devices") {
        p.devices = n as usize;
    }
    if let Some(ms) = value("--latency-ms") {
        p.latency = Duration::from_millis(ms);
    }
    if let Some(n) = value("--concurrency") {
        p.concurrency = n as usize;
    }
    if let Some(n) = value("--napalm-workers") {
        p.napalm_workers = n as usize;
    }
    if args.iter().any(|a| a == "--no-napalm") {
        p.napalm = false;
    }
    p.report = args.iter().any(|a| a == "--report");
    p.coalesce = !args.iter().any(|a| a == "--no-coalesce");
    p
}

fn main() {
    if std::env::var_os(ROLE_VAR).is_some() {
        simulator_role();
        return;
    }
    let p = params();
    let netbox = if p.report {
        let Some(nb) = netbox_client(&p) else {
            println!(
                "fleet --report: NETBOX_URL/NETBOX_TOKEN are not set (scripts/netbox up; set -a; \
                 eval \"$(scripts/netbox env)\"; set +a); skipped"
            );
            return;
        };
        Some(nb)
    } else {
        None
    };
    let mut sim = SimProcess::start(&p);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    if let Some(nb) = &netbox {
        let report = rt.block_on(report_with_nbfacts(&p, &sim, nb));
        let host_hwm = vm_hwm_kib(std::process::id());
        print_report(&p, &report, host_hwm, sim.hwm_kib());
        if p.napalm {
            print_napalm(&p, &mut sim, 0, report.wall);
        }
        sim.stop();
        return;
    }
    let nbfacts = rt.block_on(collect_with_nbfacts(&p, &sim));
    let host_hwm = vm_hwm_kib(std::process::id());

    let rpcs_nbfacts = sim.rpcs();
    let ideal = p.latency.as_secs_f64() * rpcs_nbfacts as f64 / p.concurrency as f64;
    let ratio = nbfacts.wall.as_secs_f64() / ideal;
    println!(
        "fleet: {} devices, {} ms per RPC, device size {:?}",
        p.devices,
        p.latency.as_millis(),
        DeviceSize::default()
    );
    println!(
        "nbfacts: {} collectors × {} devices, {} at a time: wall {:.2} s; {} RPCs served; \
         ideal {:.2} s; wall/ideal {:.2} (target ≤ 1.5){}",
        COLLECTORS.len(),
        p.devices,
        p.concurrency,
        nbfacts.wall.as_secs_f64(),
        rpcs_nbfacts,
        ideal,
        ratio,
        if ratio <= 1.5 {
            ""
        } else {
            "  ** above target **"
        }
    );
    println!(
        "nbfacts: {} collections ok, {} failed{}; SSH connections {} (1 per device)",
        nbfacts.ok,
        nbfacts.failed.len(),
        nbfacts
            .failed
            .first()
            .map(|f| format!(" (first: {f})"))
            .unwrap_or_default(),
        nbfacts.connections
    );
    let sim_hwm = sim.hwm_kib();
    println!(
        "nbfacts host peak RSS (VmHWM; the simulator runs in child process {}): {:.1} MiB; \
         simulator peak RSS {:.1} MiB",
        sim.child.id(),
        host_hwm as f64 / 1024.0,
        sim_hwm as f64 / 1024.0
    );

    if p.napalm {
        print_napalm(&p, &mut sim, rpcs_nbfacts, nbfacts.wall);
    }
    sim.stop();
}

// ---------------------------------------------------------------------------------------------
// nbfacts
// ---------------------------------------------------------------------------------------------

/// The built-in Junos plugin, as the host loads it.
async fn bench_registry() -> Registry {
    let runtime = Runtime::new(RuntimeConfig {
        cache_dir: Some(Path::new(env!("CARGO_TARGET_TMPDIR")).join("nbfacts-plugin-cache")),
        ..RuntimeConfig::default()
    })
    .unwrap();
    let mut registry = Registry::new();
    registry
        .add(
            runtime
                .load(nbfacts_builtin::JUNOS.wasm, "builtin:junos")
                .await
                .unwrap(),
        )
        .unwrap();
    registry
}

/// Timeouts for a thousand devices connecting at once to one simulator process.
fn bench_session_options() -> SessionOptions {
    let mut options = SessionOptions::default();
    options.connect_timeout = Duration::from_secs(60);
    options.auth_timeout = Duration::from_secs(60);
    options.rpc_timeout = Duration::from_secs(120);
    options
}

struct NbfactsRun {
    wall: Duration,
    ok: usize,
    failed: Vec<String>,
    connections: u64,
}

async fn collect_with_nbfacts(p: &Params, sim: &SimProcess) -> NbfactsRun {
    let registry = Arc::new(bench_registry().await);
    let verifier = Arc::new(HostKeyVerifier::new(
        HostKeyPolicy::Strict,
        sim.known_hosts.clone(),
    ));
    let credentials = Arc::new(Credentials::password(
        nbfacts_devsim::DEFAULT_USER,
        Secret::new(nbfacts_devsim::DEFAULT_PASSWORD),
    ));
    let options = bench_session_options();
    let limit = Arc::new(tokio::sync::Semaphore::new(p.concurrency));

    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (name, port) in &sim.devices {
        let session = Arc::new(NetconfSession::new(
            SshTarget::new(name.clone(), "127.0.0.1", *port),
            "junos",
            credentials.clone(),
            verifier.clone(),
            options.clone(),
        ));
        let (registry, limit) = (registry.clone(), limit.clone());
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await.unwrap();
            let mut results = Vec::new();
            for collector in COLLECTORS {
                let r = registry
                    .collect("junos", CollectRequest::new(collector), session.clone())
                    .await;
                results.push(
                    r.map(|_| ())
                        .map_err(|e| format!("{}: {collector}: {e}", session.target().name)),
                );
            }
            session.close().await;
            (results, session.stats().connections)
        });
    }
    let (mut ok, mut failed, mut connections) = (0, Vec::new(), 0);
    while let Some(done) = tasks.join_next().await {
        let (results, conns) = done.unwrap();
        connections += conns;
        for r in results {
            match r {
                Ok(()) => ok += 1,
                Err(e) => failed.push(e),
            }
        }
    }
    NbfactsRun {
        wall: started.elapsed(),
        ok,
        failed,
        connections,
    }
}

// ---------------------------------------------------------------------------------------------
// nbfacts in report mode: collect, reconcile against NetBox, store the change sets
// ---------------------------------------------------------------------------------------------

/// Site of the bench's devices in NetBox (their names are `fleetbench-NNN`).
const REPORT_SITE: &str = "fleetbench";

struct ReportRun {
    wall: Duration,
    store: Duration,
    ok: usize,
    failed: Vec<String>,
    reads: u64,
    job_reads: u64,
    netbox_cpu: f64,
    host_cpu: f64,
    per_collector: Vec<String>,
    writes: u64,
    counts: nbfacts_host::reconcile::Counts,
    store_bytes: u64,
}

fn netbox_client(p: &Params) -> Option<NetBox> {
    let url = std::env::var("NETBOX_URL").ok()?;
    let token = std::env::var("NETBOX_TOKEN").ok()?;
    let mut config = NetBoxConfig::new(url, NbSecret::new(token));
    config.coalesce = p.coalesce;
    // Seeding creates devices in bulk on a NetBox that other users load too.
    config.timeout = Duration::from_secs(120);
    Some(NetBox::new(config).unwrap())
}

async fn ensure(nb: &NetBox, path: &str, key: &str, value: &str, body: Value) -> u64 {
    nb.get_or_create(path, key, value, body).await.unwrap()["id"]
        .as_u64()
        .unwrap()
}

/// The bench's devices in NetBox, created when missing (kept between runs): site
/// `fleetbench`, platform `junos`, and a primary IPv4 address that is the simulator's
/// (127.0.0.1, in a VRF of their own that allows the same address on every device; each
/// device is reached on its own simulator port).
async fn seed_report_fleet(nb: &NetBox, spec: &FleetSpec) {
    let t = Instant::now();
    let site = ensure(
        nb,
        "/api/dcim/sites/",
        "slug",
        REPORT_SITE,
        json!({"name": REPORT_SITE, "slug": REPORT_SITE}),
    )
    .await;
    let maker = ensure(
        nb,
        "/api/dcim/manufacturers/",
        "slug",
        "juniper",
        json!({"name": "Juniper", "slug": "juniper"}),
    )
    .await;
    let dt = ensure(
        nb,
        "/api/dcim/device-types/",
        "slug",
        "qfx5120-48y",
        json!({"manufacturer": maker, "model": "QFX5120-48Y", "slug": "qfx5120-48y"}),
    )
    .await;
    let role = ensure(
        nb,
        "/api/dcim/device-roles/",
        "slug",
        "leaf",
        json!({"name": "Leaf", "slug": "leaf", "color": "2196f3"}),
    )
    .await;
    let platform = ensure(
        nb,
        "/api/dcim/platforms/",
        "slug",
        "junos",
        json!({"name": "Junos", "slug": "junos"}),
    )
    .await;
    let vrf = ensure(
        nb,
        "/api/ipam/vrfs/",
        "name",
        "fleetbench-sim",
        json!({"name": "fleetbench-sim", "enforce_unique": false,
               "description": "management addresses of the fleet benchmark's simulated devices"}),
    )
    .await;
    let site_q = [("site_id".to_string(), site.to_string())];
    let existing = nb.list("/api/dcim/devices/", &site_q).await.unwrap();
    let have: std::collections::HashSet<&str> =
        existing.iter().filter_map(|d| d["name"].as_str()).collect();
    let missing: Vec<Value> = (0..spec.devices)
        .map(|i| spec.name(i))
        .filter(|n| !have.contains(n.as_str()))
        .map(|n| json!({"name": n, "site": site, "device_type": dt, "role": role, "platform": platform, "status": "active"}))
        .collect();
    let created = missing.len();
    for chunk in missing.chunks(25) {
        nb.create_many("/api/dcim/devices/", chunk.to_vec())
            .await
            .unwrap();
    }
    // Management interface + address for the devices without a primary address.
    let devices = nb.list("/api/dcim/devices/", &site_q).await.unwrap();
    let bare: Vec<u64> = devices
        .iter()
        .filter(|d| d["primary_ip4"].is_null())
        .filter_map(|d| d["id"].as_u64())
        .collect();
    for chunk in bare.chunks(25) {
        let ifaces = nb
            .create_many(
                "/api/dcim/interfaces/",
                chunk
                    .iter()
                    .map(|id| json!({"device": id, "name": "mgmt0", "type": "1000base-t", "mgmt_only": true}))
                    .collect(),
            )
            .await
            .unwrap();
        let ips = nb
            .create_many(
                "/api/ipam/ip-addresses/",
                ifaces
                    .iter()
                    .map(|i| json!({"address": "127.0.0.1/32", "vrf": vrf, "status": "active",
                                    "assigned_object_type": "dcim.interface", "assigned_object_id": i["id"]}))
                    .collect(),
            )
            .await
            .unwrap();
        nb.update_many(
            "/api/dcim/devices/",
            chunk
                .iter()
                .zip(&ips)
                .map(|(id, ip)| json!({"id": id, "primary_ip4": ip["id"]}))
                .collect(),
        )
        .await
        .unwrap();
    }
    if created > 0 || !bare.is_empty() {
        println!(
            "seeded NetBox: {created} devices, {} management addresses in {:.1} s",
            bare.len(),
            t.elapsed().as_secs_f64()
        );
    }
}

async fn report_with_nbfacts(p: &Params, sim: &SimProcess, nb: &NetBox) -> ReportRun {
    let spec = FleetSpec::new(p.devices, DeviceSize::default()).with_prefix(REPORT_PREFIX);
    ensure_setup(nb).await.unwrap();
    seed_report_fleet(nb, &spec).await;
    let registry = Arc::new(bench_registry().await);
    let options = bench_session_options();
    let credentials = CredentialProfile::new(nbfacts_devsim::DEFAULT_USER)
        .with_password(SecretSource::Env("SIMULATOR_PASSWORD".into()))
        .resolve(&|_| Some(nbfacts_devsim::DEFAULT_PASSWORD.to_string()))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let before = nb.counts();
    let cpu_before = netbox_cpu_seconds();
    // The inventory step of a run: the plan's devices from NetBox.
    let targets = resolve_targets(
        nb,
        &DeviceFilter {
            sites: vec![REPORT_SITE.into()],
            devices: (0..p.devices).map(|i| spec.name(i)).collect(),
            ..DeviceFilter::default()
        },
        &PlatformMap::default(),
        AddressPreference::Primary,
    )
    .await
    .unwrap();
    assert_eq!(targets.len(), p.devices, "devices of the bench in NetBox");
    let ports: std::collections::HashMap<&str, u16> = sim
        .devices
        .iter()
        .map(|(n, port)| (n.as_str(), *port))
        .collect();
    let mut connector = SshConnector::new(
        Arc::new(credentials),
        Arc::new(HostKeyVerifier::new(
            HostKeyPolicy::Strict,
            sim.known_hosts.clone(),
        )),
        options,
        830,
    );
    for t in &targets {
        // The simulator serves every device on its primary address, each on its own port.
        let address = t.address.as_deref().expect("a primary address");
        connector = connector.with_override(&t.name, address, ports[t.name.as_str()]);
    }
    let store = Store::open(dir.path().join("store.redb")).unwrap();
    let mut job = Job::new("fleet-report", Mode::Report);
    store.create_job(&mut job).unwrap();
    let mut run = RunSpec::new(COLLECTORS.iter().copied());
    run.concurrency = p.concurrency;
    job::run(
        &mut job,
        &registry,
        &connector,
        &Sink::new(nb.clone(), nb.clone()).with_store(store.clone()),
        &targets,
        &run,
    )
    .await;
    let stored = Instant::now();
    store.put_job(&job).unwrap();
    let store_time = stored.elapsed();
    let wall = started.elapsed();
    let after = nb.counts();
    let failed: Vec<String> = job
        .results
        .iter()
        .filter_map(|r| {
            r.error
                .as_ref()
                .map(|e| format!("{} {}: {e}", r.device, r.collector))
        })
        .collect();
    let job_reads: u64 = job.results.iter().map(|r| r.netbox_reads).sum();
    let netbox_cpu = netbox_cpu_seconds() - cpu_before;
    let host_cpu = own_cpu_seconds();
    // Where the time went, per collector: mean collection time, mean reconcile time (which
    // includes waiting for shared requests), reads.
    let mut per: std::collections::BTreeMap<&str, (u64, u64, u64, u64)> = Default::default();
    for r in &job.results {
        let e = per.entry(r.collector.as_str()).or_default();
        e.0 += 1;
        e.1 += r.collect_ms;
        e.2 += r.write_ms;
        e.3 += r.netbox_reads;
    }
    let per_collector: Vec<String> = per
        .iter()
        .map(|(c, (n, collect, reconcile, reads))| {
            format!(
                "{c}: collect {} ms, reconcile {} ms, {:.2} reads",
                collect / n.max(&1),
                reconcile / n.max(&1),
                *reads as f64 / *n.max(&1) as f64
            )
        })
        .collect();
    ReportRun {
        wall,
        store: store_time,
        ok: job.results.len() - failed.len(),
        failed,
        reads: after.reads - before.reads,
        job_reads,
        netbox_cpu,
        host_cpu,
        per_collector,
        writes: after.writes - before.writes,
        counts: job.counts(),
        store_bytes: std::fs::metadata(dir.path().join("store.redb"))
            .map(|m| m.len())
            .unwrap_or(0),
    }
}

fn print_napalm(p: &Params, sim: &mut SimProcess, rpcs_before: u64, nbfacts_wall: Duration) {
    match napalm(p, sim) {
        Ok((napalm, wall)) => {
            let rpcs = sim.rpcs() - rpcs_before;
            let ideal_napalm = p.latency.as_secs_f64() * rpcs as f64 / p.napalm_workers as f64;
            println!(
                "napalm: same devices, getters {}, {} workers: wall {:.2} s; {} RPCs \
                 served; wall/ideal {:.2}; failed devices {}, getter errors {}{}",
                napalm_getters().join(","),
                p.napalm_workers,
                wall,
                rpcs,
                wall / ideal_napalm,
                napalm["failed_devices"],
                napalm["getter_errors"],
                napalm["first_errors"]
                    .as_array()
                    .and_then(|e| e.first())
                    .map(|e| format!(" (first: {e})"))
                    .unwrap_or_default()
            );
            println!(
                "ratio: NAPALM wall / nbfacts wall = {:.1}×",
                wall / nbfacts_wall.as_secs_f64()
            );
        }
        Err(e) => println!("napalm: not run: {e}"),
    }
}

fn print_report(p: &Params, r: &ReportRun, host_hwm: u64, sim_hwm: u64) {
    println!(
        "fleet: {} devices, {} ms per RPC, device size {:?}",
        p.devices,
        p.latency.as_millis(),
        DeviceSize::default()
    );
    println!(
        "nbfacts report: {} collectors × {} devices, {} at a time, coalescing {}: wall {:.2} s \
         (target ≤ 60 s; inventory from NetBox, collect, reconcile, store; storing the job \
         {:.2} s, {:.1} MiB)",
        COLLECTORS.len(),
        p.devices,
        p.concurrency,
        if p.coalesce { "on" } else { "off" },
        r.wall.as_secs_f64(),
        r.store.as_secs_f64(),
        r.store_bytes as f64 / (1024.0 * 1024.0)
    );
    println!(
        "nbfacts report: NetBox reads {} ({:.2} per device; {:.2} per device recorded by the \
         job's collections), writes {}; entries {}",
        r.reads,
        r.reads as f64 / p.devices as f64,
        r.job_reads as f64 / p.devices as f64,
        r.writes,
        r.counts
    );
    println!(
        "nbfacts report: CPU during the run: NetBox (gunicorn + PostgreSQL, all users) {:.1} s, \
         nbfacts host {:.1} s (the whole process); per device and collector: {}",
        r.netbox_cpu,
        r.host_cpu,
        r.per_collector.join("; ")
    );
    println!(
        "nbfacts report: {} collections ok, {} failed{}",
        r.ok,
        r.failed.len(),
        r.failed
            .first()
            .map(|f| format!(" (first: {f})"))
            .unwrap_or_default()
    );
    println!(
        "nbfacts host peak RSS (VmHWM; the simulator runs in a child process): {:.1} MiB \
         (target ≤ 300 MiB); simulator peak RSS {:.1} MiB",
        host_hwm as f64 / 1024.0,
        sim_hwm as f64 / 1024.0
    );
}

// ---------------------------------------------------------------------------------------------
// NAPALM
// ---------------------------------------------------------------------------------------------

/// The NAPALM getters that the seven collectors answer.
fn napalm_getters() -> Vec<&'static str> {
    COLLECTORS
        .iter()
        .flat_map(|c| nbfacts_sdk::napalm::getters(c).iter().copied())
        .collect()
}

fn napalm(p: &Params, sim: &SimProcess) -> Result<(Value, f64), String> {
    let venv = std::env::var_os("NBFACTS_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp/nbfacts-interop-venv"));
    let python = venv.join("bin/python");
    if !python.is_file() {
        return Err(format!(
            "{} is missing; run scripts/interop-setup",
            python.display()
        ));
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/napalm_fleet.py");
    let ports: Vec<String> = sim.devices.iter().map(|(_, p)| p.to_string()).collect();
    let out = Command::new(python)
        .arg(script)
        .args(["--ports", &ports.join(","), "--workers"])
        .arg(p.napalm_workers.to_string())
        .args(napalm_getters())
        .env("NBFACTS_INTEROP_PASSWORD", nbfacts_devsim::DEFAULT_PASSWORD)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("napalm_fleet.py: {}", out.status));
    }
    let v: Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    let wall = v["wall_s"].as_f64().ok_or("no wall_s")?;
    Ok((v, wall))
}

// ---------------------------------------------------------------------------------------------
// The simulator, in a child process
// ---------------------------------------------------------------------------------------------

struct SimProcess {
    child: Child,
    stdin: ChildStdin,
    stdout: std::io::BufReader<ChildStdout>,
    devices: Vec<(String, u16)>,
    known_hosts: PathBuf,
    _dir: tempfile::TempDir,
}

impl SimProcess {
    fn start(p: &Params) -> Self {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .env(ROLE_VAR, "1")
            .env("NBFACTS_FLEET_DEVICES", p.devices.to_string())
            .env(
                "NBFACTS_FLEET_LATENCY_MS",
                p.latency.as_millis().to_string(),
            )
            .env(
                "NBFACTS_FLEET_PREFIX",
                if p.report { REPORT_PREFIX } else { "sim" },
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        // Ready when the child prints its devices: they listen by then.
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let list: Vec<Value> = serde_json::from_str(&line).expect("the simulator's device list");
        let dir = tempfile::tempdir().unwrap();
        let known_hosts = dir.path().join("known_hosts");
        let mut kh = String::new();
        let mut devices = Vec::new();
        for d in list {
            kh.push_str(d["known_hosts"].as_str().unwrap());
            kh.push('\n');
            devices.push((
                d["name"].as_str().unwrap().to_string(),
                d["port"].as_u64().unwrap() as u16,
            ));
        }
        std::fs::write(&known_hosts, kh).unwrap();
        Self {
            child,
            stdin,
            stdout,
            devices,
            known_hosts,
            _dir: dir,
        }
    }

    fn ask(&mut self) -> Value {
        writeln!(self.stdin, "stats").unwrap();
        self.stdin.flush().unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        serde_json::from_str(&line).unwrap()
    }

    fn rpcs(&mut self) -> u64 {
        self.ask()["rpcs"].as_u64().unwrap()
    }

    fn hwm_kib(&mut self) -> u64 {
        self.ask()["hwm_kib"].as_u64().unwrap()
    }

    fn stop(mut self) {
        drop(self.stdin);
        let _ = self.child.wait();
    }
}

/// CPU seconds (user + system) used so far by NetBox's processes on this machine: the
/// gunicorn workers and PostgreSQL (other users of the same NetBox count too).
fn netbox_cpu_seconds() -> f64 {
    let tick = 100.0; // USER_HZ on Linux
    let mut total = 0u64;
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = &stat[open + 1..close];
        if comm != "gunicorn" && comm != "postgres" {
            continue;
        }
        let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
        // utime and stime are fields 14 and 15 of stat(5), 12 and 13 after `state`.
        let t = |i: usize| {
            fields
                .get(i)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        total += t(11) + t(12);
    }
    total as f64 / tick
}

/// CPU seconds (user + system) this process has used.
fn own_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let close = stat.rfind(')').unwrap();
    let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
    (fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()) as f64 / 100.0
}

/// Peak resident set size of process `pid`, in KiB (`VmHWM` of `/proc/PID/status`).
fn vm_hwm_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// The child: serves the fleet until its stdin closes, answering `stats` lines with the
/// RPCs served and its own peak RSS.
fn simulator_role() {
    let var = |name: &str| -> u64 { std::env::var(name).unwrap().parse().unwrap() };
    let spec = FleetSpec::new(var("NBFACTS_FLEET_DEVICES") as usize, DeviceSize::default())
        .with_prefix(std::env::var("NBFACTS_FLEET_PREFIX").unwrap());
    let latency = Duration::from_millis(var("NBFACTS_FLEET_LATENCY_MS"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let sim = rt.block_on(async {
        Simulator::start(
            SimulatorConfig::fleet(&spec).with_faults(Faults::none().with_latency(latency)),
        )
        .await
        .unwrap()
    });
    let list: Vec<Value> = sim
        .devices()
        .iter()
        .map(
            |d| json!({"name": d.name, "port": d.addr.port(), "known_hosts": d.known_hosts_line()}),
        )
        .collect();
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", Value::Array(list)).unwrap();
    out.flush().unwrap();
    for line in std::io::stdin().lock().lines() {
        if line.unwrap().trim() == "stats" {
            let stats = json!({
                "rpcs": sim.total_rpcs(),
                "hwm_kib": vm_hwm_kib(std::process::id()),
            });
            writeln!(out, "{stats}").unwrap();
            out.flush().unwrap();
        }
    }
    rt.block_on(sim.shutdown());
}
