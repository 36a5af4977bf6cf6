//! The Junos-specific collectors (L2 circuits, EVPN, OSPF) end to end into a real NetBox:
//! generated replies → the sandboxed plugin → reconcilers → NetBox, then a re-run that must
//! write nothing, and a rollback.

use std::collections::HashMap;
use std::sync::Arc;

use nbfacts_host::job::{self, Connector, Job, JobState, Mode, RunSpec, Sink, Store};
use nbfacts_host::netbox::{
    AddressPreference, DeviceFilter, PlatformMap, Target, ensure_setup, resolve_targets,
};
use nbfacts_host::{DeviceSession, Registry, ReplayDevice, Runtime, RuntimeConfig};
use nbfacts_junos::generate;

use super::netbox::{netbox, seed};

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
    let runtime = Runtime::new(RuntimeConfig::default()).unwrap();
    let mut registry = Registry::new();
    registry
        .add(
            runtime
                .load(nbfacts_tests::JUNOS, "builtin:junos")
                .await
                .unwrap(),
        )
        .unwrap();
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
    let nb = netbox();
    ensure_setup(&nb).await.unwrap();
    let name = format!("pe-{}", std::process::id());
    seed(&nb, &name).await;
    let store = Store::open(tempfile::tempdir().unwrap().keep().join("s.redb")).unwrap();

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
    assert!(written("evpn", "/api/vpn/l2vpns/") > 0);
    assert!(written("ospf", "/api/extras/journal-entries/") == 1);
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
