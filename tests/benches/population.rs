//! First population of NetBox from simulated devices: objects per write request and wall
//! time with bulk writes, against the same work with one request per object (how the seeds'
//! plugin writes). Needs the local NetBox (`scripts/netbox up`; `set -a; eval "$(scripts/netbox
//! env)"; set +a`):
//!
//! `cargo bench -p nbfacts-tests --bench population [-- DEVICES] [--bulk-only]`  (default 3;
//! the figure is 50 devices, which takes NetBox on this machine well over half an hour
//! per mode)
//!
//! After the bulk population, the same job runs again on the unchanged devices: what every
//! periodic run costs once NetBox holds the facts (it reads every object back and writes
//! nothing).
//!
//! Device size as the issue gives it: 48 interfaces, 500 MACs, 20 LLDP neighbours, 10 BGP
//! peers, 200 ARP entries. Each mode starts from the same NetBox state: the bulk run's writes
//! are rolled back before the one-by-one run.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Instant;

use nbfacts_devsim::{DeviceSize, FleetSpec};
use nbfacts_host::job::{self, Job, Mode, RunSpec, Sink};
use nbfacts_host::netbox::{
    AddressPreference, DeviceFilter, NetBox, NetBoxConfig, PlatformMap, Secret, ensure_setup,
    resolve_targets,
};
use serde_json::{Value, json};

const COLLECTORS: [&str; 6] = [
    "inventory",
    "interfaces",
    "ethernet_switching",
    "lldp",
    "bgp",
    "arp",
];

#[tokio::main]
async fn main() {
    let devices: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(3);
    let Ok(url) = std::env::var("NETBOX_URL") else {
        eprintln!(
            "population: NETBOX_URL is not set (scripts/netbox up; set -a; eval \"$(scripts/netbox env)\"; set +a); skipped"
        );
        return;
    };
    let nb = NetBox::new(NetBoxConfig::new(
        url,
        Secret::new(std::env::var("NETBOX_TOKEN").unwrap()),
    ))
    .unwrap();
    ensure_setup(&nb).await.unwrap();
    let site = format!("pop-{}", std::process::id());
    let spec = FleetSpec::new(
        devices,
        DeviceSize::new(
            48,
            500,
            20.min(devices.saturating_sub(1)).max(1),
            10,
            200,
            0,
        ),
    )
    .with_prefix(format!("{site}-"));
    seed(&nb, &site, &spec).await;

    let (sim, connector, _dir) = nbfacts_tests::simulated_fleet(&spec).await;
    let registry = nbfacts_tests::junos_registry().await;
    let targets = resolve_targets(
        &nb,
        &DeviceFilter {
            sites: vec![site.clone()],
            ..DeviceFilter::default()
        },
        &PlatformMap::default(),
        AddressPreference::Primary,
    )
    .await
    .unwrap();
    assert_eq!(targets.len(), devices);

    let mut figures = Vec::new();
    let bulk_only = std::env::args().any(|a| a == "--bulk-only");
    let modes = [
        ("bulk (250 per request)", 250),
        ("one request per object", 1),
    ];
    // One apply job over the fleet: the job, its wall time, NetBox reads and write requests.
    let apply = async |name: &str, batch: usize| {
        let before = nb.counts();
        let t = Instant::now();
        let mut job = Job::new(name, Mode::Apply);
        job::run(
            &mut job,
            &registry,
            &connector,
            &Sink::new(nb.clone(), nb.clone()).with_batch(batch),
            &targets,
            &RunSpec::new(COLLECTORS),
        )
        .await;
        let after = nb.counts();
        let reads = after.reads - before.reads;
        (job, t.elapsed(), reads, after.writes - before.writes)
    };
    for (label, batch) in modes.into_iter().take(if bulk_only { 1 } else { 2 }) {
        let (mut job, wall, reads, writes) = apply("population", batch).await;
        let objects = job.writes();
        println!(
            "{label}: {devices} devices, {objects} objects written with {writes} write requests ({:.1} objects per request) and {reads} reads in {:.1} s; {} collections failed",
            objects as f64 / writes.max(1) as f64,
            wall.as_secs_f64(),
            job.results.iter().filter(|r| !r.ok()).count()
        );
        figures.push(wall.as_secs_f64());
        if batch > 1 {
            let (mut rerun, wall, reads, writes) = apply("population rerun", batch).await;
            println!(
                "rerun on unchanged devices: {reads} reads, {writes} writes in {:.1} s",
                wall.as_secs_f64()
            );
            // Its own writes (last-seen refreshes, if any) are undone with the first run's.
            let report = job::rollback(&nb, &mut rerun).await.unwrap();
            if !report.complete() {
                println!("rerun rollback left {} object(s)", report.refused.len());
            }
        }
        // Back to the same starting point for the next mode.
        let report = job::rollback(&nb, &mut job).await.unwrap();
        if !report.complete() {
            println!("rollback left {} object(s):", report.refused.len());
            for why in report.refused.iter().take(10) {
                println!("  {why}");
            }
        }
    }
    if let [bulk, single] = figures[..] {
        println!(
            "one-request-per-object / bulk wall time: {:.1}x",
            single / bulk
        );
    }
    sim.shutdown().await;
}

async fn seed(nb: &NetBox, site: &str, spec: &FleetSpec) {
    async fn ensure(nb: &NetBox, path: &str, key: &str, value: &str, body: Value) -> u64 {
        nb.get_or_create(path, key, value, body).await.unwrap()["id"]
            .as_u64()
            .unwrap()
    }
    let site_id = ensure(
        nb,
        "/api/dcim/sites/",
        "slug",
        site,
        json!({"name": site, "slug": site}),
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
    ensure(
        nb,
        "/api/ipam/prefixes/",
        "prefix",
        "10.0.0.0/8",
        json!({"prefix": "10.0.0.0/8", "status": "active"}),
    )
    .await;
    let bodies: Vec<Value> = (0..spec.devices)
        .map(|i| json!({"name": spec.name(i), "site": site_id, "device_type": dt, "role": role, "platform": platform, "status": "active"}))
        .collect();
    nb.create_many("/api/dcim/devices/", bodies).await.unwrap();
}
