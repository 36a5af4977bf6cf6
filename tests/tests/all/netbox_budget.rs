//! The request budget of a re-run: collecting an unchanged device again writes nothing and
//! reads NetBox at most twice per device and collector, whatever the size of its tables (up to
//! the values one filtered request carries: about 90 IPv6 addresses, more of anything shorter;
//! MAC tables of any size; lists read through GraphQL up to NetBox's page size of 1000).
//!
//! A simulated fleet (real SSH/NETCONF) goes through every collector into the real NetBox
//! twice; the job records each collection's NetBox requests (`netbox_reads`,
//! `netbox_writes`; a GraphQL query is a read), and the second run is held to the budget
//! below. Rolling the first run back then removes everything it wrote.

use std::collections::BTreeMap;

use nbfacts_devsim::{DeviceSize, FleetSpec};
use nbfacts_host::job::{self, Job, JobState, Mode, RunSpec, Sink, Store};
use nbfacts_host::netbox::{
    AddressPreference, DeviceFilter, NetBox, PlatformMap, TAG_SLUG, Target, ensure_setup,
    resolve_targets,
};
use serde_json::json;

use super::netbox::{netbox, seed};
use super::netbox_plugins::expected;

const COLLECTORS: [&str; 10] = [
    "inventory",
    "interfaces",
    "ethernet_switching",
    "lldp",
    "bgp",
    "arp",
    "ndp",
    "l2_circuits",
    "evpn",
    "ospf",
];

/// NetBox reads one device's re-run may make per collector, once the reads a whole run shares
/// are made (the prefix list: `arp`, `ndp`, `ospf`; the BGP scopes with netbox-routing: `bgp`;
/// `/api/status/` is cached per process).
fn budget(collector: &str) -> u64 {
    match collector {
        // The MACs, by the device they were seen on.
        "ethernet_switching" => 1,
        // inventory: the device and its items; interfaces: the interfaces and the addresses;
        // lldp: the neighbours and both ends' interfaces; arp, ndp: MACs and addresses;
        // bgp: the peer addresses and, with netbox-routing, the peers of the device's scopes
        // (which name the ASNs), else the ASNs; ospf: the neighbour addresses and one GraphQL
        // read of the adjacency journal and, with netbox-routing, the device's OSPF interfaces;
        // l2_circuits: one GraphQL read of the device's interfaces (with their addresses, for
        // the PE address, and the L2VPNs they terminate) and the state journal; evpn: one
        // GraphQL read of the L2VPNs (route targets and VLAN terminations nested) and the
        // VLANs, and the MACs.
        _ => 2,
    }
}

/// Reads the run shares, paid by the first device that needs them: the prefix list, and with
/// netbox-routing every BGP scope (the plugin filters scopes by router only).
fn shared(collector: &str) -> u64 {
    match collector {
        "arp" | "ndp" | "ospf" => 1,
        "bgp" if expected("routing") => 1,
        _ => 0,
    }
}

async fn targets(nb: &NetBox, spec: &FleetSpec, n: usize) -> Vec<Target> {
    resolve_targets(
        nb,
        &DeviceFilter {
            devices: (0..n).map(|i| spec.name(i)).collect(),
            ..DeviceFilter::default()
        },
        &PlatformMap::default(),
        AddressPreference::Primary,
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a running NetBox: scripts/netbox up"]
async fn netbox_budget_rerun_reads_and_writes_per_collector() {
    // Simulated devices share MACs, EVPN L2VPNs and addresses with the other simulator tests.
    let _turn = super::netbox_junos::SHARED_MACS.lock().await;
    let nb = netbox();
    ensure_setup(&nb).await.unwrap();
    let pid = std::process::id();
    // Two devices (one pays the run's shared reads), a MAC table too big for one request by
    // value, and not many more objects: NetBox's RQ worker updates its search cache for each
    // one created, and other tests wait for that worker to provision their branches.
    const N: usize = 2;
    let spec = FleetSpec::new(N, DeviceSize::new(8, 120, 2, 2, 20, 10))
        .with_prefix(format!("budget{pid}-"));
    for i in 0..N {
        let device = seed(&nb, &spec.name(i)).await;
        // A loopback address of this test (the simulator's are shared by every fleet), for the
        // router id of OSPF and the local PE address of L2 circuits.
        let lo = nb
            .create(
                "/api/dcim/interfaces/",
                json!({"device": device, "name": "lo0.0", "type": "virtual"}),
            )
            .await
            .unwrap();
        nb.create(
            "/api/ipam/ip-addresses/",
            json!({
                "address": format!("100.127.{}.{}/32", (pid >> 2) % 250, (pid & 3) * 60 + i as u32 + 1),
                "assigned_object_type": "dcim.interface", "assigned_object_id": lo["id"],
            }),
        )
        .await
        .unwrap();
        // The attachment interfaces of the simulator's L2 circuits, so they get terminations.
        let circuits = nbfacts_junos::generate::l2circuit_connections(8);
        for name in circuits.split("<interface-name>").skip(1) {
            let name = name.split('<').next().unwrap();
            nb.create(
                "/api/dcim/interfaces/",
                json!({"device": device, "name": name, "type": "virtual"}),
            )
            .await
            .unwrap();
        }
    }
    let (sim, connector, dir) = nbfacts_tests::simulated_fleet(&spec).await;
    let registry = nbfacts_tests::junos_registry().await;
    let store = Store::open(dir.path().join("s.redb")).unwrap();
    let targets = targets(&nb, &spec, N).await;
    assert_eq!(targets.len(), N);

    let run = |name: &'static str| {
        let (nb, registry, connector, store, targets) =
            (&nb, &registry, &connector, &store, &targets);
        async move {
            let mut job = Job::new(name, Mode::Apply);
            store.create_job(&mut job).unwrap();
            job::run(
                &mut job,
                registry,
                connector,
                &Sink::new(nb.clone(), nb.clone()),
                targets,
                &RunSpec::new(COLLECTORS),
            )
            .await;
            store.put_job(&job).unwrap();
            job
        }
    };
    let first = run("budget-first").await;
    for r in first
        .results
        .iter()
        .filter(|r| !r.ok() || !r.refused.is_empty())
    {
        println!(
            "first run: {} {}: {:?} {:?}",
            r.device, r.collector, r.error, r.refused
        );
    }
    assert_eq!(first.state, JobState::Completed, "{:#?}", first.log);

    let before = nb.counts();
    let second = run("budget-rerun").await;
    assert_eq!(second.state, JobState::Completed, "{:#?}", second.log);
    let mut reads: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for r in &second.results {
        reads
            .entry(r.collector.as_str())
            .or_default()
            .push(r.netbox_reads);
        assert_eq!(
            r.netbox_writes,
            0,
            "{} {} wrote on a re-run: {:#?}",
            r.device,
            r.collector,
            r.changeset.as_ref().map(|c| c
                .entries
                .iter()
                .filter(|e| !matches!(e.operation, nbfacts_host::reconcile::Operation::None))
                .collect::<Vec<_>>())
        );
    }
    let after = nb.counts();
    assert_eq!(after.writes, before.writes, "a re-run must not write");
    println!(
        "re-run of {N} devices (routing plugin {}): {} reads",
        if expected("routing") {
            "present"
        } else {
            "absent"
        },
        after.reads - before.reads
    );
    println!("| collector | reads per device |");
    for (collector, mut per_device) in reads {
        per_device.sort_unstable();
        println!("| {collector} | {per_device:?} |");
        // Every device within the budget, except the one that paid the run's shared reads.
        let (most, rest) = per_device.split_last().unwrap();
        assert!(
            rest.iter().all(|r| *r <= budget(collector)),
            "{collector}: {per_device:?} reads per device, budget {}",
            budget(collector)
        );
        assert!(
            *most <= budget(collector) + shared(collector),
            "{collector}: {per_device:?} reads per device, budget {} (+{} shared by the run)",
            budget(collector),
            shared(collector)
        );
    }

    // Undo the first run. Its devices used each other's objects (an LLDP cable between them,
    // BGP peers on the other's addresses) while their results were recorded device by device,
    // so everything comes out only if writes are undone in the order they were made.
    let mut first = first;
    let report = job::rollback(&nb, &mut first).await.unwrap();
    println!(
        "rollback: {} deleted, {} restored, {} recreated, {} left",
        report.deleted.len(),
        report.restored.len(),
        report.recreated.len(),
        report.refused.len()
    );
    // The one refusal allowed: a shared OSPF area another test's interfaces still use.
    let unexpected: Vec<&String> = report
        .refused
        .iter()
        .filter(|r| !r.contains("depend on it"))
        .collect();
    assert!(unexpected.is_empty(), "{unexpected:#?}");
    for t in &targets {
        let left = nb
            .list(
                "/api/dcim/interfaces/",
                &[
                    ("device_id".into(), t.id.to_string()),
                    ("tag".into(), TAG_SLUG.into()),
                ],
            )
            .await
            .unwrap();
        assert!(
            left.is_empty(),
            "{}: {} interface(s) of the job survived its rollback",
            t.name,
            left.len()
        );
    }
    sim.shutdown().await;
}
