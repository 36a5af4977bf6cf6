//! The optional NetBox plugins nbfacts integrates with, against a real NetBox: netbox-branching
//! (jobs write into a branch) and netbox-routing (BGP sessions written into it when present).
//!
//! `scripts/netbox up` enables both. The tests read `NB_PLUGINS` (the variable the script uses)
//! to know which plugins to expect, so the "absent" cases run with:
//!
//! ```text
//! NB_PLUGINS=branching scripts/netbox restart     # NetBox without the routing plugin
//! eval "$(scripts/netbox env)"
//! NB_PLUGINS=branching cargo test -p nbfacts-tests --test all -- --ignored netbox_plugins
//! scripts/netbox restart                          # back to both plugins
//! ```

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nbfacts_host::job::{self, Connector, Job, JobState, Mode, RunSpec, Sink, Store};
use nbfacts_host::netbox::branch::{
    self, BranchError, BranchOptions, branching_installed, ensure_branch, find_branch,
};
use nbfacts_host::netbox::{
    AddressPreference, DeviceFilter, NetBox, PlatformMap, TAG_SLUG, Target, ensure_setup,
    resolve_targets,
};
use nbfacts_host::reconcile::{self, Action, Context, EntryState};
use nbfacts_host::{CollectRequest, DeviceSession, Facts, ReplayDevice};
use serde_json::json;

use super::netbox::{netbox, seed};
use super::{load, tight_runtime};

/// Whether the running NetBox is expected to load `plugin` (`branching`, `routing`).
pub(crate) fn expected(plugin: &str) -> bool {
    std::env::var("NB_PLUGINS")
        .map(|list| list.split_whitespace().any(|p| p == plugin))
        .unwrap_or(true)
}

fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{prefix}-{}-{nanos}", std::process::id())
}

async fn target(nb: &NetBox, name: &str) -> Target {
    let filter = DeviceFilter {
        devices: vec![name.to_string()],
        ..Default::default()
    };
    resolve_targets(
        nb,
        &filter,
        &PlatformMap::default(),
        AddressPreference::Primary,
    )
    .await
    .unwrap()
    .remove(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a running NetBox: scripts/netbox up"]
async fn netbox_plugins_detected_as_configured() {
    let nb = netbox();
    ensure_setup(&nb).await.unwrap();
    let name = unique("plug");
    seed(&nb, &name).await;
    let ctx = Context::new(nb.clone(), target(&nb, &name).await, None);
    assert_eq!(
        reconcile::bgp::routing_plugin_installed(&ctx)
            .await
            .unwrap(),
        expected("routing"),
        "NB_PLUGINS={:?}; see this file's header to run NetBox without the routing plugin",
        std::env::var("NB_PLUGINS").ok()
    );
    assert_eq!(
        branching_installed(&nb).await.unwrap(),
        expected("branching")
    );
    if !expected("branching") {
        let e = ensure_branch(&nb, &unique("never"), &BranchOptions::default())
            .await
            .unwrap_err();
        assert!(matches!(e, BranchError::PluginMissing { .. }), "{e}");
        assert!(e.to_string().contains("netbox-branching"), "{e}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a running NetBox: scripts/netbox up"]
async fn netbox_branch_takes_writes_that_main_does_not_see() {
    if !expected("branching") {
        eprintln!(
            "NB_PLUGINS has no `branching`: covered by netbox_plugins_detected_as_configured"
        );
        return;
    }
    let nb = netbox();
    ensure_setup(&nb).await.unwrap();
    // The device exists in main before the branch: a branch is a copy of main when provisioned.
    let device = unique("br");
    seed(&nb, &device).await;

    let job = unique("nbfacts-test-job");
    let options = BranchOptions {
        timeout: Duration::from_secs(90),
        ..BranchOptions::default()
    };
    let branch = ensure_branch(&nb, &job, &options).await.unwrap();
    assert!(branch.is_ready(), "{branch:?}");
    assert!(!branch.schema_id.is_empty());
    // Idempotent: the same job name finds the same branch.
    let again = ensure_branch(&nb, &job, &options).await.unwrap();
    assert_eq!(again.id, branch.id);
    assert_eq!(
        find_branch(&nb, &job).await.unwrap().map(|b| b.id),
        Some(branch.id)
    );

    let in_branch = nb.in_branch(&branch.schema_id);
    // A plain object through the client…
    let slug = unique("branch-site");
    in_branch
        .create("/api/dcim/sites/", json!({"name": slug, "slug": slug}))
        .await
        .unwrap();
    let q = [("slug".to_string(), slug.clone())];
    assert_eq!(
        in_branch.list("/api/dcim/sites/", &q).await.unwrap().len(),
        1
    );
    assert_eq!(nb.list("/api/dcim/sites/", &q).await.unwrap().len(), 0);

    // …and a reconciler's writes: the interfaces of a device, through the writer.
    let runtime = tight_runtime();
    let plugin = load(&runtime, nbfacts_tests::JUNOS, "builtin:junos").await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/replay/edge1");
    let Facts::Interfaces(ifaces) = plugin
        .collect(
            CollectRequest::new("interfaces"),
            Arc::new(ReplayDevice::new(&dir, "junos")),
        )
        .await
        .unwrap()
    else {
        panic!("not interfaces facts")
    };
    let target = target(&in_branch, &device).await;
    let ctx = Context::new(in_branch.clone(), target.clone(), None);
    let set = reconcile::interfaces::reconcile(&ctx, &ifaces)
        .await
        .unwrap();
    assert!(set.counts().new > 0);
    let outcome = reconcile::apply(&in_branch, &set, None).await;
    assert!(
        outcome.stopped.is_none() && outcome.refused.is_empty(),
        "{outcome:?}"
    );
    let q = [("device_id".to_string(), target.id.to_string())];
    let in_branch_ifaces = in_branch.list("/api/dcim/interfaces/", &q).await.unwrap();
    assert!(!in_branch_ifaces.is_empty());
    assert_eq!(nb.list("/api/dcim/interfaces/", &q).await.unwrap().len(), 0);
    // A re-run inside the branch sees its own writes.
    let set = reconcile::interfaces::reconcile(&ctx, &ifaces)
        .await
        .unwrap();
    assert!(set.is_noop(), "{:?}", set.counts());

    branch::delete_branch(&nb, branch.id).await.unwrap();
    assert!(find_branch(&nb, &job).await.unwrap().is_none());
}

const BGP_ROUTERS: &str = "/api/plugins/routing/bgp/router/";
const BGP_SCOPES: &str = "/api/plugins/routing/bgp/scope/";
const BGP_PEERS: &str = "/api/plugins/routing/bgp/peer/";

/// Replies from memory, whatever the device.
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

/// edge1's BGP replies (four peers in the global table, local AS 65000) with addresses and AS
/// numbers of this test process: ASNs and peer addresses are shared by every device that sees
/// them, and the rollback at the end must be free to delete the ones this test created.
/// `drop_last` removes the fourth neighbour.
fn bgp_replies(drop_last: bool) -> (Memory, [IpAddr; 4], i64) {
    let pid = std::process::id();
    // IPv6 documentation space, tagged with the process id (the IPv4 test ranges are taken
    // by the simulator and generated replies).
    let net = format!("2001:db8:b9b:{:x}:{:x}::", pid >> 16, pid & 0xffff);
    let base = 4_200_000_000 + i64::from(pid % 1_000_000) * 10;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/replay/edge1");
    let mut files = HashMap::new();
    for file in [
        "get-instance-information.xml",
        "get-bgp-neighbor-information.xml",
        "get-bgp-neighbor-informationmaster.xml",
        "get-bgp-summary-informationmaster.xml",
    ] {
        let mut text = std::fs::read_to_string(dir.join(file))
            .unwrap()
            .replace("198.51.100.", &net)
            .replace(">65000<", &format!(">{}<", base + 9));
        for n in 0..4 {
            text = text.replace(&format!(">6510{n}<"), &format!(">{}<", base + n));
        }
        if drop_last {
            if let Some(start) = text.rfind("<bgp-peer style=\"detail\">") {
                let end = start + text[start..].find("</bgp-peer>").unwrap() + "</bgp-peer>".len();
                text.replace_range(start..end, "");
            }
            let last = format!("{net}4<");
            text = text
                .lines()
                .filter(|l| !l.contains(&last))
                .collect::<Vec<_>>()
                .join("\n");
        }
        files.insert(file.to_string(), Arc::from(text.as_str()));
    }
    let addresses = [1, 2, 3, 4].map(|h| format!("{net}{h}").parse().unwrap());
    (Memory(files), addresses, base + 9)
}

async fn bgp_job(nb: &NetBox, store: &Store, name: &str, replies: &Memory) -> Job {
    collector_job(nb, store, name, replies, "bgp").await
}

/// One collector on device `name` in apply mode; every collection must succeed.
async fn collector_job(
    nb: &NetBox,
    store: &Store,
    name: &str,
    replies: &Memory,
    collector: &str,
) -> Job {
    let registry = nbfacts_tests::junos_registry().await;
    let targets = vec![target(nb, name).await];
    let mut job = Job::new(format!("{collector}-routing"), Mode::Apply);
    store.create_job(&mut job).unwrap();
    job::run(
        &mut job,
        &registry,
        replies,
        &Sink::new(nb.clone(), nb.clone()),
        &targets,
        &RunSpec::new([collector]),
    )
    .await;
    store.put_job(&job).unwrap();
    assert_eq!(job.state, JobState::Completed, "{:#?}", job.log);
    assert!(
        job.results.iter().all(|r| r.refused.is_empty()),
        "{:#?}",
        job.results
    );
    job
}

fn written(job: &Job, endpoint: &str, action: Action) -> usize {
    job.results
        .iter()
        .flat_map(|r| r.written.iter())
        .filter(|w| w.endpoint == endpoint && w.action == action)
        .count()
}

fn entries(job: &Job) -> Vec<&reconcile::Entry> {
    job.results
        .iter()
        .filter_map(|r| r.changeset.as_ref())
        .flat_map(|c| c.entries.iter())
        .collect()
}

/// BGP through a job with netbox-routing present: the first run creates the router, the scope
/// and a peer per neighbour; a re-run writes nothing; a neighbour the device drops goes stale
/// and is deleted (and a rollback of that brings it back, still owned); the rollback of the
/// first job removes every routing object it created. Without the plugin (NB_PLUGINS, see the
/// header): ASNs and peer addresses only, and no routing entries at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a running NetBox: scripts/netbox up"]
async fn netbox_plugins_bgp_sessions_in_netbox_routing() {
    let nb = netbox();
    ensure_setup(&nb).await.unwrap();
    let name = unique("bgprt");
    let device = seed(&nb, &name).await;
    let store = Store::open(tempfile::tempdir().unwrap().keep().join("s.redb")).unwrap();
    let (all, addresses, local_as) = bgp_replies(false);

    let first = bgp_job(&nb, &store, &name, &all).await;
    let notes: Vec<&String> = first
        .results
        .iter()
        .filter_map(|r| r.changeset.as_ref())
        .flat_map(|c| c.notes.iter())
        .collect();
    // The remote ASes; with the plugin the local one too (the router's).
    let asns = if expected("routing") { 5 } else { 4 };
    assert_eq!(written(&first, "/api/ipam/asns/", Action::Created), asns);
    assert_eq!(
        written(&first, "/api/ipam/ip-addresses/", Action::Created),
        4
    );
    if !expected("routing") {
        assert!(
            notes
                .iter()
                .any(|n| n.contains("routing plugin is not installed")),
            "{notes:?}"
        );
        assert!(
            entries(&first)
                .iter()
                .all(|e| !e.object_type.starts_with("netbox_routing")),
            "{:#?}",
            entries(&first)
        );
        let second = bgp_job(&nb, &store, &name, &all).await;
        assert_eq!(second.writes(), 0);
        let mut record = store.job(first.id).unwrap();
        let report = job::rollback(&nb, &mut record).await.unwrap();
        assert!(report.complete(), "{:#?}", report.refused);
        return;
    }
    assert!(
        notes
            .iter()
            .any(|n| n.contains("routing plugin is installed")),
        "{notes:?}"
    );
    assert_eq!(written(&first, BGP_ROUTERS, Action::Created), 1);
    assert_eq!(written(&first, BGP_SCOPES, Action::Created), 1);
    assert_eq!(written(&first, BGP_PEERS, Action::Created), 4);
    let device_q = [("device_id".to_string(), device.to_string())];
    let routers = nb.list(BGP_ROUTERS, &device_q).await.unwrap();
    assert_eq!(routers.len(), 1);
    assert_eq!(routers[0]["asn"]["asn"], json!(local_as));
    let router = routers[0]["id"].as_u64().unwrap().to_string();
    let scopes = nb
        .list(BGP_SCOPES, &[("router_id".to_string(), router.clone())])
        .await
        .unwrap();
    assert_eq!(scopes.len(), 1);
    assert!(scopes[0]["vrf"].is_null(), "global table: no VRF");
    let scope = scopes[0]["id"].as_u64().unwrap().to_string();
    let scope_q = [("scope_id".to_string(), scope.clone())];
    let peers = nb.list(BGP_PEERS, &scope_q).await.unwrap();
    let mut got: Vec<(IpAddr, i64)> = peers
        .iter()
        .map(|p| {
            let address = p["peer"]["address"].as_str().unwrap();
            let address = address.split('/').next().unwrap().parse().unwrap();
            (address, p["remote_as"]["asn"].as_i64().unwrap())
        })
        .collect();
    got.sort();
    let want: Vec<(IpAddr, i64)> = addresses.into_iter().zip(local_as - 9..).collect();
    assert_eq!(got, want);
    // Owned: the plugin does not return tags, but filters by them (not by `id`, though).
    let tag = ("tag".to_string(), TAG_SLUG.to_string());
    let owned = |endpoint: &'static str, key: &'static str, value: String| {
        let nb = nb.clone();
        let query = [tag.clone(), (key.to_string(), value)];
        async move { nb.list(endpoint, &query).await.unwrap().len() }
    };
    assert_eq!(owned(BGP_ROUTERS, "device_id", device.to_string()).await, 1);
    assert_eq!(owned(BGP_SCOPES, "router_id", router.clone()).await, 1);
    assert_eq!(owned(BGP_PEERS, "scope_id", scope.clone()).await, 4);

    // A re-run on the unchanged device writes nothing.
    let before = nb.counts();
    let second = bgp_job(&nb, &store, &name, &all).await;
    assert_eq!(second.writes(), 0, "{:#?}", entries(&second));
    assert_eq!(nb.counts().writes, before.writes, "a re-run must not write");
    assert!(
        entries(&second)
            .iter()
            .all(|e| e.state == EntryState::Confirmed)
    );
    // Reads: the device lookup, the device's scopes (routers nested), their peers (which name
    // the ASNs), and the peer addresses. (The status is cached per process.)
    let reads = nb.counts().reads - before.reads;
    println!("re-run of bgp with netbox-routing: {reads} reads (device lookup included), 0 writes");
    assert!(reads <= 4, "{reads} reads on an unchanged device");
    assert_eq!(second.results[0].netbox_reads, reads - 1);

    // The device drops a neighbour: its peer is stale and deleted, the others stay.
    let (fewer, _, _) = bgp_replies(true);
    let third = bgp_job(&nb, &store, &name, &fewer).await;
    let stale: Vec<_> = entries(&third)
        .into_iter()
        .filter(|e| e.state == EntryState::Stale)
        .collect();
    assert_eq!(stale.len(), 1, "{stale:#?}");
    assert!(
        stale[0].label.contains(&addresses[3].to_string()),
        "{}",
        stale[0].label
    );
    assert_eq!(third.writes(), 1);
    assert_eq!(written(&third, BGP_PEERS, Action::Deleted), 1);
    assert_eq!(nb.list(BGP_PEERS, &scope_q).await.unwrap().len(), 3);
    // Undoing that brings the peer back, still owned: the next run deletes it again.
    let mut record = store.job(third.id).unwrap();
    let report = job::rollback(&nb, &mut record).await.unwrap();
    assert!(report.complete(), "{:#?}", report.refused);
    assert_eq!(owned(BGP_PEERS, "scope_id", scope.clone()).await, 4);
    let fourth = bgp_job(&nb, &store, &name, &fewer).await;
    assert_eq!(written(&fourth, BGP_PEERS, Action::Deleted), 1);
    assert_eq!(fourth.writes(), 1);

    // Rolling back the first job removes what it created: peers, scope, router, addresses, ASNs.
    let mut record = store.job(first.id).unwrap();
    let report = job::rollback(&nb, &mut record).await.unwrap();
    assert!(report.complete(), "{:#?}", report.refused);
    assert!(nb.list(BGP_ROUTERS, &device_q).await.unwrap().is_empty());
    assert!(
        nb.list(BGP_PEERS, &[("q".into(), addresses[0].to_string())])
            .await
            .unwrap()
            .is_empty()
    );
    let asn = nb
        .list("/api/ipam/asns/", &[("asn".into(), local_as.to_string())])
        .await
        .unwrap();
    assert!(asn.is_empty(), "{asn:?}");
}

const OSPF_INSTANCES: &str = "/api/plugins/routing/ospf/instance/";
const OSPF_AREAS: &str = "/api/plugins/routing/ospf/area/";
const OSPF_IFACES: &str = "/api/plugins/routing/ospf/interface/";

/// Three OSPF neighbours (two with `drop_last`) in an area and on addresses of this test
/// process (areas are shared by every device in them, and the rollback at the end must be free
/// to delete the one this test created), with the interfaces they are on.
fn ospf_replies(drop_last: bool) -> (Memory, String, Vec<String>) {
    let pid = std::process::id();
    let area = format!(
        "0.{}.{}.{}",
        (pid >> 16) & 0xff,
        (pid >> 8) & 0xff,
        pid & 0xff
    );
    let net = format!("100.{}.{}.", 64 + pid % 60, (pid / 60) % 256);
    let mut text = nbfacts_junos::generate::ospf_neighbors(3)
        .replace(
            "<ospf-area>0.0.0.0</ospf-area>",
            &format!("<ospf-area>{area}</ospf-area>"),
        )
        .replace(
            "<neighbor-address>100.64.0.",
            &format!("<neighbor-address>{net}"),
        );
    let interfaces: Vec<String> = text
        .split("<interface-name>")
        .skip(1)
        .map(|r| r.split('<').next().unwrap().to_string())
        .collect();
    assert_eq!(interfaces.len(), 3);
    if drop_last {
        let start = text.rfind("<ospf-neighbor>").unwrap();
        let end =
            start + text[start..].find("</ospf-neighbor>").unwrap() + "</ospf-neighbor>".len();
        text.replace_range(start..end, "");
    }
    let files = HashMap::from([(
        "get-ospf-neighbor-informationall.xml".to_string(),
        Arc::from(text.as_str()),
    )]);
    (Memory(files), area, interfaces)
}

/// OSPF through jobs with netbox-routing present: the first run creates the instance, the area
/// and an OSPF interface per neighbour's interface, all tagged (through `add_tags`: the plugin
/// drops `tags`); a re-run writes nothing; an interface the device drops goes stale and is
/// deleted, and the next run with the same table writes nothing (not even the journal); a
/// rollback of that brings the OSPF interface back, still owned, so the run after deletes it
/// again; an OSPF interface someone else made is left alone; the rollback of the first job
/// keeps the area while an OSPF interface made since is in it (deleting the area would delete
/// that interface too), and removes everything once it is gone. Without the plugin
/// (NB_PLUGINS, see the header): neighbour addresses and the journal only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a running NetBox: scripts/netbox up"]
async fn netbox_plugins_ospf_in_netbox_routing() {
    let nb = netbox();
    ensure_setup(&nb).await.unwrap();
    let name = unique("ospfrt");
    let device = seed(&nb, &name).await;
    let pid = std::process::id();
    let (all, area, ifnames) = ospf_replies(false);
    // The router id (a loopback address of this test) and the interfaces, plus a spare one.
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
            "address": format!("100.126.{}.{}/32", (pid >> 8) % 250, pid & 0xff),
            "assigned_object_type": "dcim.interface", "assigned_object_id": lo["id"],
        }),
    )
    .await
    .unwrap();
    let mut iface_ids = HashMap::new();
    for ifname in ifnames.iter().map(String::as_str).chain(["xe-0/0/47.0"]) {
        let i = nb
            .create(
                "/api/dcim/interfaces/",
                json!({"device": device, "name": ifname, "type": "virtual"}),
            )
            .await
            .unwrap();
        iface_ids.insert(ifname.to_string(), i["id"].as_u64().unwrap());
    }
    let store = Store::open(tempfile::tempdir().unwrap().keep().join("s.redb")).unwrap();
    let ospf_job = |replies| collector_job(&nb, &store, &name, replies, "ospf");
    let (fewer, _, _) = ospf_replies(true);

    let first = ospf_job(&all).await;
    assert_eq!(
        written(&first, "/api/extras/journal-entries/", Action::Created),
        1
    );
    if !expected("routing") {
        assert!(
            entries(&first)
                .iter()
                .all(|e| !e.object_type.starts_with("netbox_routing")),
            "{:#?}",
            entries(&first)
        );
        let second = ospf_job(&all).await;
        assert_eq!(second.writes(), 0);
        let mut record = store.job(first.id).unwrap();
        let report = job::rollback(&nb, &mut record).await.unwrap();
        assert!(report.complete(), "{:#?}", report.refused);
        return;
    }
    assert_eq!(written(&first, OSPF_INSTANCES, Action::Created), 1);
    assert_eq!(written(&first, OSPF_AREAS, Action::Created), 1);
    assert_eq!(written(&first, OSPF_IFACES, Action::Created), 3);
    // Owned: the plugin does not return tags, but filters by them.
    let tag = ("tag".to_string(), TAG_SLUG.to_string());
    let device_q = ("device_id".to_string(), device.to_string());
    let area_q = ("area_id".to_string(), area.clone());
    let count = |endpoint: &'static str, query: Vec<(String, String)>| {
        let nb = nb.clone();
        async move { nb.list(endpoint, &query).await.unwrap().len() }
    };
    assert_eq!(
        count(OSPF_INSTANCES, vec![device_q.clone(), tag.clone()]).await,
        1
    );
    assert_eq!(
        count(OSPF_AREAS, vec![area_q.clone(), tag.clone()]).await,
        1
    );
    assert_eq!(
        count(OSPF_IFACES, vec![device_q.clone(), tag.clone()]).await,
        3
    );

    // A re-run on the unchanged device writes nothing and reads little.
    let before = nb.counts();
    let second = ospf_job(&all).await;
    assert_eq!(second.writes(), 0, "{:#?}", entries(&second));
    assert_eq!(nb.counts().writes, before.writes, "a re-run must not write");
    assert!(
        entries(&second)
            .iter()
            .filter(|e| e.object_type.starts_with("netbox_routing"))
            .all(|e| e.state == EntryState::Confirmed),
        "{:#?}",
        entries(&second)
    );
    let reads = second.results[0].netbox_reads;
    println!("re-run of ospf with netbox-routing: {reads} reads, 0 writes");
    // OSPF interfaces, neighbour addresses, the journal; the prefix list once per run.
    assert!(reads <= 4, "{reads} reads on an unchanged device");

    // The device drops a neighbour: its interface's OSPF object is stale and deleted.
    let third = ospf_job(&fewer).await;
    let stale: Vec<_> = entries(&third)
        .into_iter()
        .filter(|e| e.state == EntryState::Stale)
        .collect();
    assert_eq!(stale.len(), 1, "{stale:#?}");
    assert!(stale[0].label.contains(&ifnames[2]), "{}", stale[0].label);
    assert_eq!(written(&third, OSPF_IFACES, Action::Deleted), 1);
    // …and the changed adjacency table is journalled.
    assert_eq!(third.writes(), 2, "{:#?}", entries(&third));
    assert_eq!(count(OSPF_IFACES, vec![device_q.clone()]).await, 2);
    // Regression: the journal comparison took the oldest entry (NetBox lists newest first),
    // so a changed table was journalled again on every run.
    let again = ospf_job(&fewer).await;
    assert_eq!(again.writes(), 0, "{:#?}", entries(&again));

    // Undoing the stale deletion brings the OSPF interface back, still owned.
    let mut record = store.job(third.id).unwrap();
    let report = job::rollback(&nb, &mut record).await.unwrap();
    assert!(report.complete(), "{:#?}", report.refused);
    assert_eq!(report.recreated.len(), 1, "{report:#?}");
    assert_eq!(
        count(OSPF_IFACES, vec![device_q.clone(), tag.clone()]).await,
        3
    );
    let fourth = ospf_job(&fewer).await;
    assert_eq!(written(&fourth, OSPF_IFACES, Action::Deleted), 1);

    // An OSPF interface nbfacts did not make is neither stale nor touched.
    let instance = nb
        .list(OSPF_INSTANCES, std::slice::from_ref(&device_q))
        .await
        .unwrap()[0]["id"]
        .clone();
    let area_id = nb
        .list(OSPF_AREAS, std::slice::from_ref(&area_q))
        .await
        .unwrap()[0]["id"]
        .clone();
    let theirs = nb
        .create(
            OSPF_IFACES,
            json!({"instance": instance, "area": area_id, "interface": iface_ids["xe-0/0/47.0"]}),
        )
        .await
        .unwrap();
    let fifth = ospf_job(&fewer).await;
    assert_eq!(fifth.writes(), 0, "{:#?}", entries(&fifth));
    assert!(entries(&fifth).iter().all(|e| e.state != EntryState::Stale));

    // The rollback of the first job keeps the area and the instance the other OSPF interface
    // needs (deleting the area would delete it too)…
    let mut record = store.job(first.id).unwrap();
    let report = job::rollback(&nb, &mut record).await.unwrap();
    assert!(!report.complete());
    assert!(
        report
            .refused
            .iter()
            .any(|r| r.contains("area") && r.contains("depend on it")),
        "{:#?}",
        report.refused
    );
    assert_eq!(count(OSPF_AREAS, vec![area_q.clone()]).await, 1);
    assert_eq!(count(OSPF_IFACES, vec![device_q.clone()]).await, 1);
    // …and removes them once it is gone.
    nb.delete(&format!("{OSPF_IFACES}{}/", theirs["id"]))
        .await
        .unwrap();
    let report = job::rollback(&nb, &mut record).await.unwrap();
    assert!(report.complete(), "{:#?}", report.refused);
    assert_eq!(count(OSPF_AREAS, vec![area_q]).await, 0);
    assert_eq!(count(OSPF_INSTANCES, vec![device_q]).await, 0);
}
