//! Jobs against a real NetBox: apply then re-run writes nothing, report mode with per-entry
//! apply and skip, rollback (including refusing an object changed since), all through the
//! job API that `nbfacts sync` and the scheduler use.

use nbfacts_host::Registry;
use nbfacts_host::job::{
    self, Decision, Job, JobState, Mode, ReplayConnector, ReportSelection, RunSpec, Sink, Store,
};
use nbfacts_host::netbox::{
    AddressPreference, DeviceFilter, NetBox, PlatformMap, ensure_setup, resolve_targets,
};
use nbfacts_host::reconcile::{Action, Operation};
use serde_json::json;

use super::netbox::{netbox, seed};

async fn registry() -> Registry {
    nbfacts_tests::junos_registry().await
}

/// A replay root with one device directory named `name` (a copy of examples/replay/edge1).
fn replay_root(name: &str) -> std::path::PathBuf {
    let root = tempfile::tempdir().unwrap().keep();
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/replay/edge1");
    let dst = root.join(name);
    std::fs::create_dir_all(&dst).unwrap();
    for entry in std::fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dst.join(entry.file_name())).unwrap();
    }
    root
}

async fn run(
    nb: &NetBox,
    store: &Store,
    root: &std::path::Path,
    name: &str,
    mode: Mode,
    collectors: &[&str],
) -> Job {
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
    assert_eq!(targets.len(), 1);
    let mut job = Job::new("test", mode);
    store.create_job(&mut job).unwrap();
    job::run(
        &mut job,
        &registry().await,
        &ReplayConnector::new(root),
        &Sink::new(nb.clone(), nb.clone()).with_store(store.clone()),
        &targets,
        &RunSpec::new(collectors.iter().copied()),
    )
    .await;
    // The change sets went to the store while the job ran; only their counts stayed.
    assert!(job.results.iter().all(|r| r.changeset.is_none()));
    store.put_job(&job).unwrap();
    let stored = store.job(job.id).unwrap();
    for (r, s) in job.results.iter().zip(&stored.results) {
        assert_eq!(r.counts, s.changeset.as_ref().map(|c| c.counts()));
    }
    stored
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a running NetBox: scripts/netbox up"]
async fn netbox_job_apply_rerun_noop_then_rollback_refuses_changed_objects() {
    let nb = netbox();
    ensure_setup(&nb).await.unwrap();
    let name = format!("jobs-apply-{}", std::process::id());
    seed(&nb, &name).await;
    let root = replay_root(&name);
    let store = Store::open(tempfile::tempdir().unwrap().keep().join("s.redb")).unwrap();
    let collectors = ["inventory", "interfaces", "arp"];

    let first = run(&nb, &store, &root, &name, Mode::Apply, &collectors).await;
    assert_eq!(first.state, JobState::Completed, "{:#?}", first.log);
    assert!(first.writes() > 10, "{}", first.writes());

    let before = nb.counts();
    let second = run(&nb, &store, &root, &name, Mode::Apply, &collectors).await;
    assert_eq!(second.state, JobState::Completed);
    assert_eq!(second.writes(), 0);
    assert_eq!(nb.counts().writes, before.writes, "a re-run must not write");
    let reads = nb.counts().reads - before.reads;
    println!(
        "re-run: {reads} reads for {} collectors (plus the device lookup)",
        collectors.len()
    );
    // The read budget, collector by collector (the device lookup is one more read).
    for collector in collectors {
        let before = nb.counts();
        let job = run(&nb, &store, &root, &name, Mode::Apply, &[collector]).await;
        assert_eq!(job.writes(), 0);
        let reads = nb.counts().reads - before.reads - 1;
        println!("re-run {collector}: {reads} reads, 0 writes");
        assert!(
            reads <= 3,
            "{collector}: {reads} reads on an unchanged device"
        );
    }

    // Someone renames one interface the job created: rollback must leave it and say so.
    let created_iface = first
        .results
        .iter()
        .flat_map(|r| r.written.iter())
        .find(|w| w.endpoint == "/api/dcim/interfaces/" && w.action == Action::Created)
        .unwrap()
        .clone();
    nb.update_many(
        "/api/dcim/interfaces/",
        vec![json!({"id": created_iface.id, "name": "renamed-by-a-human"})],
    )
    .await
    .unwrap();
    let mut record = store.job(first.id).unwrap();
    let report = job::rollback(&nb, &mut record).await.unwrap();
    store.put_job(&record).unwrap();
    println!(
        "rollback: {} deleted, {} restored, {} left",
        report.deleted.len(),
        report.restored.len(),
        report.refused.len()
    );
    assert!(report.deleted.len() > 10);
    assert!(
        report
            .refused
            .iter()
            .any(|r| r.contains(&format!("interfaces {} ", created_iface.id))
                && r.contains("`name`")),
        "{:#?}",
        report.refused
    );
    assert!(
        record.rolled_back.is_none(),
        "an incomplete rollback is not final"
    );
    // Everything the job created is gone except objects someone changed since.
    let remaining = nb
        .list(
            "/api/dcim/interfaces/",
            &[
                ("device".into(), name.clone()),
                ("tag".into(), "automatically-discovered".into()),
            ],
        )
        .await
        .unwrap();
    for iface in &remaining {
        assert!(
            report
                .refused
                .iter()
                .any(|r| r.contains(&format!("interfaces {} ", iface["id"].as_u64().unwrap()))),
            "interface {} survived the rollback without a refusal: {:#?}",
            iface["name"],
            report.refused
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a running NetBox: scripts/netbox up"]
async fn netbox_job_report_mode_writes_nothing_until_applied_and_skips_entries() {
    let nb = netbox();
    ensure_setup(&nb).await.unwrap();
    let name = format!("jobs-report-{}", std::process::id());
    seed(&nb, &name).await;
    let root = replay_root(&name);
    let store = Store::open(tempfile::tempdir().unwrap().keep().join("s.redb")).unwrap();

    let before = nb.counts();
    let report = run(&nb, &store, &root, &name, Mode::Report, &["interfaces"]).await;
    assert_eq!(report.state, JobState::Completed);
    assert_eq!(
        nb.counts().writes,
        before.writes,
        "report mode must not write"
    );
    let set = report.results[0].changeset.clone().unwrap();
    let creates: Vec<u32> = set
        .entries
        .iter()
        .filter(|e| match &e.operation {
            // Interfaces that do not depend on another entry of the set.
            Operation::Create {
                endpoint, payload, ..
            } => endpoint == "/api/dcim/interfaces/" && !payload.to_string().contains("$ref"),
            _ => false,
        })
        .map(|e| e.id)
        .collect();
    assert!(creates.len() > 3);

    // Skip one entry, apply one, then apply the rest.
    let mut record = store.job(report.id).unwrap();
    let skip = format!("{name}/interfaces/{}", creates[0]);
    assert_eq!(
        job::skip_report(&mut record, &ReportSelection::parse(&[skip]).unwrap()),
        1
    );
    let one = format!("{name}/interfaces/{}", creates[1]);
    let written = job::apply_report(
        &mut record,
        &nb,
        Some(&ReportSelection::parse(&[one]).unwrap()),
    )
    .await
    .unwrap();
    assert_eq!(written, 1);
    let rest = job::apply_report(&mut record, &nb, None).await.unwrap();
    assert!(rest >= creates.len() - 2, "{rest}");
    store.put_job(&record).unwrap();
    let record = store.job(report.id).unwrap();
    let decisions = &record.results[0].decisions;
    assert_eq!(decisions.get(&creates[0]), Some(&Decision::Skipped));
    assert_eq!(decisions.get(&creates[1]), Some(&Decision::Applied));

    // The skipped interface is not in NetBox; the others are.
    let skipped_label = &set.entries[creates[0] as usize].label;
    let skipped_name = skipped_label.split(' ').next().unwrap();
    let found = nb
        .list(
            "/api/dcim/interfaces/",
            &[
                ("device".into(), name.clone()),
                ("name".into(), skipped_name.into()),
            ],
        )
        .await
        .unwrap();
    assert!(
        found.is_empty(),
        "skipped entry {skipped_label} was written"
    );

    // And the report's writes roll back like an apply job's.
    let mut record = store.job(report.id).unwrap();
    let rb = job::rollback(&nb, &mut record).await.unwrap();
    assert!(rb.complete(), "{:#?}", rb.refused);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a running NetBox: scripts/netbox up"]
async fn netbox_job_branch_mode_writes_into_a_branch_only() {
    let nb = netbox();
    ensure_setup(&nb).await.unwrap();
    if !nbfacts_host::netbox::branch::branching_installed(&nb)
        .await
        .unwrap()
    {
        panic!("branch mode needs netbox-branching: scripts/netbox up installs it");
    }
    let name = format!("jobs-branch-{}", std::process::id());
    seed(&nb, &name).await;
    let root = replay_root(&name);
    let targets = resolve_targets(
        &nb,
        &DeviceFilter {
            devices: vec![name.clone()],
            ..DeviceFilter::default()
        },
        &PlatformMap::default(),
        AddressPreference::Primary,
    )
    .await
    .unwrap();
    let mut job = Job::new("branch-test", Mode::Branch);
    job.id = std::process::id().into();
    let writer = job::writer_for(&mut job, &nb).await.unwrap();
    let before = nb.counts();
    job::run(
        &mut job,
        &registry().await,
        &ReplayConnector::new(&root),
        &Sink::new(nb.clone(), writer.clone()),
        &targets,
        &RunSpec::new(["interfaces"]),
    )
    .await;
    assert_eq!(job.state, JobState::Completed, "{:#?}", job.log);
    assert!(job.writes() > 0);
    assert!(nb.counts().writes > before.writes);
    let (branch, _) = job.branch.clone().unwrap();
    let query = [("device".to_string(), name.clone())];
    let in_main = nb.list("/api/dcim/interfaces/", &query).await.unwrap();
    let in_branch = writer.list("/api/dcim/interfaces/", &query).await.unwrap();
    assert!(in_main.is_empty(), "branch-mode writes leaked into main");
    assert!(!in_branch.is_empty());
    let found = nbfacts_host::netbox::branch::find_branch(&nb, &branch)
        .await
        .unwrap()
        .unwrap();
    nbfacts_host::netbox::branch::delete_branch(&nb, found.id)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a running NetBox: scripts/netbox up"]
async fn netbox_job_stale_objects_are_deleted_only_when_owned_and_rollback_recreates_them() {
    let nb = netbox();
    ensure_setup(&nb).await.unwrap();
    let name = format!("jobs-stale-{}", std::process::id());
    let device = seed(&nb, &name).await;
    let root = replay_root(&name);
    let store = Store::open(tempfile::tempdir().unwrap().keep().join("s.redb")).unwrap();
    // Two interfaces the device does not report: one nbfacts owns (tagged), one it does not.
    let owned = nb
        .create(
            "/api/dcim/interfaces/",
            json!({"device": device, "name": "xe-9/9/8", "type": "10gbase-x-sfpp",
                   "tags": [{"slug": "automatically-discovered"}]}),
        )
        .await
        .unwrap();
    let foreign = nb
        .create(
            "/api/dcim/interfaces/",
            json!({"device": device, "name": "xe-9/9/9", "type": "10gbase-x-sfpp"}),
        )
        .await
        .unwrap();

    let job = run(&nb, &store, &root, &name, Mode::Apply, &["interfaces"]).await;
    assert_eq!(job.state, JobState::Completed, "{:#?}", job.log);
    let set = job.results[0].changeset.as_ref().unwrap();
    let stale: Vec<_> = set
        .entries
        .iter()
        .filter(|e| e.state == nbfacts_host::reconcile::EntryState::Stale)
        .collect();
    assert_eq!(stale.len(), 1, "{stale:#?}");
    assert_eq!(stale[0].object_id, owned["id"].as_u64());
    let gone = nb
        .get(&format!("/api/dcim/interfaces/{}/", owned["id"]), &[])
        .await;
    assert_eq!(
        gone.unwrap_err().status(),
        Some(404),
        "owned stale interface kept"
    );
    nb.get(&format!("/api/dcim/interfaces/{}/", foreign["id"]), &[])
        .await
        .expect("an interface nbfacts does not own must never be deleted");

    // Rollback recreates what the job deleted (and deletes what it created).
    let mut record = store.job(job.id).unwrap();
    let report = job::rollback(&nb, &mut record).await.unwrap();
    assert!(report.complete(), "{:#?}", report.refused);
    assert_eq!(report.recreated.len(), 1, "{report:#?}");
    let back = nb
        .list(
            "/api/dcim/interfaces/",
            &[
                ("device_id".into(), device.to_string()),
                ("name".into(), "xe-9/9/8".into()),
            ],
        )
        .await
        .unwrap();
    assert_eq!(back.len(), 1);
    assert!(nbfacts_host::reconcile::is_owned(&back[0]));
}
