//! The Junos-specific collectors (L2 circuits, EVPN, OSPF) end to end into a real NetBox:
//! generated replies → the sandboxed plugin → reconcilers → NetBox, then a re-run that must
//! write nothing, and a rollback.

use std::collections::HashMap;
use std::sync::Arc;

use nbfacts_host::job::{self, Connector, Job, JobState, Mode, RunSpec, Sink, Store};
use nbfacts_host::netbox::{
    AddressPreference, DeviceFilter, PlatformMap, Target, ensure_setup, resolve_targets,
};
use nbfacts_host::{DeviceSession, ReplayDevice};
use nbfacts_junos::generate;

use super::netbox::{netbox, seed};

/// Both tests here collect the same generated EVPN MACs, and MAC objects are shared by every
/// device that sees them: run concurrently, one test's writes would show up as changes in the
/// other's re-run. They take turns.
pub(crate) static SHARED_MACS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

struct Memory(HashMap<String, Arc<str>>);

impl Connector for Memory {
    fn open(&self, target: &Target) -> Result<Arc<dyn DeviceSession>, String> {
        Ok(Arc::new(ReplayDevice::from_memory(
            &target.name,
            "junos",
            self.0.clone(),
        )))
    }
}

fn replies() -> Memory {
    let files = [
        (
            "get-l2ckt-connection-information.xml",
            generate::l2circuit_connections(6),
        ),
        (
            "get-evpn-instance-information.xml",
            generate::evpn_instance(4, 2),
        ),
        (
            "get-evpn-database-information.xml",
            generate::evpn_database(40),
        ),
        (
            "get-ospf-neighbor-informationall.xml",
            generate::ospf_neighbors(3),
        ),
    ];
    Memory(
        files
            .into_iter()
            .map(|(k, v)| (k.to_string(), Arc::from(v.as_str())))
            .collect(),
    )
}

async fn run_once(nb: &nbfacts_host::netbox::NetBox, store: &Store, name: &str) -> Job {
    let registry = nbfacts_tests::junos_registry().await;
    let targets = resolve_targets(
        nb,
        &DeviceFilter {
            devices: vec![name.to_string()],
            ..DeviceFilter::default()
        },
        &PlatformMap::default(),
        AddressPreference::Primary,
    )
    .await
    .unwrap();
    let mut job = Job::new("junos-specific", Mode::Apply);
    store.create_job(&mut job).unwrap();
    job::run(
        &mut job,
        &registry,
        &replies(),
        &Sink::new(nb.clone(), nb.clone()),
        &targets,
        &RunSpec::new(["l2_circuits", "evpn", "ospf"]),
    )
    .await;
    store.put_job(&job).unwrap();
    job
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a running NetBox: scripts/netbox up"]
async fn netbox_l2circuits_evpn_ospf_apply_rerun_noop_and_rollback() {
    let _turn = SHARED_MACS.lock().await;
    let nb = netbox();
    ensure_setup(&nb).await.unwrap();
    let name = format!("pe-{}", std::process::id());
    let device = seed(&nb, &name).await;
    let store = Store::open(tempfile::tempdir().unwrap().keep().join("s.redb")).unwrap();
    // A loopback address (the router id and local PE address) and the interface of the first
    // OSPF neighbour, so OSPF objects can attach to it.
    let pid = std::process::id();
    let lo = nb
        .create(
            "/api/dcim/interfaces/",
            serde_json::json!({"device": device, "name": "lo0.0", "type": "virtual"}),
        )
        .await
        .unwrap();
    nb.create(
        "/api/ipam/ip-addresses/",
        serde_json::json!({
            "address": format!("10.{}.{}.{}/32", 200 + pid % 50, (pid / 50) % 250, pid % 250 + 1),
            "assigned_object_type": "dcim.interface", "assigned_object_id": lo["id"],
        }),
    )
    .await
    .unwrap();
    let ospf_reply = generate::ospf_neighbors(3);
    let first_iface = ospf_reply
        .split("<interface-name>")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .unwrap()
        .to_string();
    nb.create(
        "/api/dcim/interfaces/",
        serde_json::json!({"device": device, "name": first_iface, "type": "virtual"}),
    )
    .await
    .unwrap();

    let first = run_once(&nb, &store, &name).await;
    for r in &first.results {
        println!(
            "{}: {:?} {} written; notes {:?}",
            r.collector,
            r.error,
            r.written.len(),
            r.changeset.as_ref().map(|c| &c.notes)
        );
    }
    assert_eq!(first.state, JobState::Completed, "{:#?}", first.log);
    let written = |collector: &str, endpoint: &str| {
        first
            .results
            .iter()
            .filter(|r| r.collector == collector)
            .flat_map(|r| r.written.iter())
            .filter(|w| w.endpoint == endpoint)
            .count()
    };
    assert!(written("l2_circuits", "/api/vpn/l2vpns/") > 0);
    assert!(written("l2_circuits", "/api/extras/journal-entries/") > 0);
    // EVPN L2VPNs are fabric-wide (`evpn-vni-<vni>`): an earlier run may have created them.
    let evpn_l2vpns = first
        .results
        .iter()
        .filter(|r| r.collector == "evpn")
        .filter_map(|r| r.changeset.as_ref())
        .flat_map(|c| c.entries.iter())
        .filter(|e| e.object_type == "vpn.l2vpn")
        .count();
    assert!(evpn_l2vpns > 0);
    assert!(written("evpn", "/api/dcim/mac-addresses/") > 0);
    assert!(written("ospf", "/api/extras/journal-entries/") == 1);
    if super::netbox_plugins::expected("routing") {
        // netbox-routing objects: the instance, and the OSPF interface on the one interface
        // NetBox has (the others are skipped with a reason).
        assert_eq!(written("ospf", "/api/plugins/routing/ospf/instance/"), 1);
        assert_eq!(written("ospf", "/api/plugins/routing/ospf/interface/"), 1);
    }
    // The routing plugin present or absent (NB_PLUGINS, see netbox_plugins.rs): a note says
    // which, and the adjacency table is journalled either way.
    let ospf_notes = &first
        .results
        .iter()
        .find(|r| r.collector == "ospf")
        .unwrap()
        .changeset
        .as_ref()
        .unwrap()
        .notes;
    let wanted = if super::netbox_plugins::expected("routing") {
        "routing plugin is installed"
    } else {
        "is not installed"
    };
    assert!(
        ospf_notes.iter().any(|n| n.contains(wanted)),
        "{ospf_notes:?}"
    );
    let vpws = first
        .results
        .iter()
        .flat_map(|r| r.written.iter())
        .find(|w| w.endpoint == "/api/vpn/l2vpns/")
        .unwrap();
    assert!(
        vpws.after["type"]["value"]
            .as_str()
            .unwrap()
            .contains("vpws")
    );

    let before = nb.counts();
    let second = run_once(&nb, &store, &name).await;
    assert_eq!(second.state, JobState::Completed);
    assert_eq!(second.writes(), 0, "{:#?}", second.log);
    assert_eq!(nb.counts().writes, before.writes);

    let mut record = store.job(first.id).unwrap();
    let report = job::rollback(&nb, &mut record).await.unwrap();
    assert!(report.complete(), "{:#?}", report.refused);
}

/// L2 circuits, EVPN and OSPF from simulated devices (real SSH/NETCONF) into NetBox: one
/// device in report mode (nothing written until the report is applied), one in branch mode
/// (everything it creates exists in the branch and not in main).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a running NetBox: scripts/netbox up"]
async fn netbox_junos_specific_through_the_simulator_in_report_and_branch_modes() {
    let _turn = SHARED_MACS.lock().await;
    use nbfacts_devsim::{DeviceSize, FleetSpec};

    let nb = netbox();
    ensure_setup(&nb).await.unwrap();
    let spec = FleetSpec::new(2, DeviceSize::new(8, 10, 1, 2, 10, 5))
        .with_prefix(format!("simpe{}-", std::process::id()));
    for i in 0..2 {
        seed(&nb, &spec.name(i)).await;
    }
    let (sim, connector, dir) = nbfacts_tests::simulated_fleet(&spec).await;
    let registry = nbfacts_tests::junos_registry().await;
    let store = Store::open(dir.path().join("s.redb")).unwrap();
    let collectors = ["l2_circuits", "evpn", "ospf"];
    let target = |name: String| {
        let nb = nb.clone();
        async move {
            resolve_targets(
                &nb,
                &DeviceFilter {
                    devices: vec![name],
                    ..DeviceFilter::default()
                },
                &PlatformMap::default(),
                AddressPreference::Primary,
            )
            .await
            .unwrap()
        }
    };

    // Report mode: nothing written; then the reviewed report is applied.
    let mut report = Job::new("sim-report", Mode::Report);
    store.create_job(&mut report).unwrap();
    let before = nb.counts();
    job::run(
        &mut report,
        &registry,
        &connector,
        &Sink::new(nb.clone(), nb.clone()),
        &target(spec.name(0)).await,
        &RunSpec::new(collectors),
    )
    .await;
    assert_eq!(report.state, JobState::Completed, "{:#?}", report.log);
    assert_eq!(nb.counts().writes, before.writes, "report mode wrote");
    assert!(report.counts().new > 0);
    let written = job::apply_report(&mut report, &nb, None).await.unwrap();
    assert!(written > 0);
    assert!(
        report.results.iter().all(|r| r.refused.is_empty()),
        "{:#?}",
        report
            .results
            .iter()
            .map(|r| &r.refused)
            .collect::<Vec<_>>()
    );

    // Branch mode on the second device.
    let mut branched = Job::new("sim-branch", Mode::Branch);
    store.create_job(&mut branched).unwrap();
    let writer = job::writer_for(&mut branched, &nb).await.unwrap();
    job::run(
        &mut branched,
        &registry,
        &connector,
        &Sink::new(nb.clone(), writer.clone()),
        &target(spec.name(1)).await,
        &RunSpec::new(collectors),
    )
    .await;
    assert_eq!(branched.state, JobState::Completed, "{:#?}", branched.log);
    let created: Vec<_> = branched
        .results
        .iter()
        .flat_map(|r| r.written.iter())
        .filter(|w| w.action == nbfacts_host::reconcile::Action::Created)
        .collect();
    assert!(!created.is_empty());
    for w in &created {
        let path = format!("{}{}/", w.endpoint, w.id);
        assert!(
            writer.get(&path, &[]).await.is_ok(),
            "{path} missing in the branch"
        );
        // Absent from main (an object there with the same id, created by a concurrent test,
        // has another creation time).
        match nb.get(&path, &[]).await {
            Err(e) => assert_eq!(e.status(), Some(404), "{e}"),
            Ok(other) => assert_ne!(
                other["created"], w.after["created"],
                "{path} leaked into main"
            ),
        }
    }
    let (branch, _) = branched.branch.clone().unwrap();
    let found = nbfacts_host::netbox::branch::find_branch(&nb, &branch)
        .await
        .unwrap()
        .unwrap();
    nbfacts_host::netbox::branch::delete_branch(&nb, found.id)
        .await
        .unwrap();
    sim.shutdown().await;
}
