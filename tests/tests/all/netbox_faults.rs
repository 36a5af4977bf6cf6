//! NetBox misbehaving, through the fault-injecting proxy (`nbfacts_tests::fault_proxy`) in front
//! of a real NetBox: 5xx, 429 with `Retry-After`, hangs past the client's timeout, answers lost
//! after NetBox did the work, and validation errors.
//!
//! What the client promises (see `Repeat` in `host/runtime/src/netbox/client.rs`): reads and
//! updates are retried with backoff; a create is retried only when NetBox certainly did not
//! process it (429, 503, connection refused). A create whose answer was lost is not repeated:
//! the writer stops with the error, and the re-run finds what was made by its identity.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nbfacts_host::netbox::{NetBox, NetBoxConfig, Secret, Target, ensure_setup};
use nbfacts_host::reconcile::neighbors::{self, Sighting};
use nbfacts_host::reconcile::{self, ChangeSet, Context, EntryState, Operation, ReconcileError};
use nbfacts_host::{CollectRequest, Facts, ReplayDevice};
use nbfacts_sdk::Interfaces;
use nbfacts_tests::fault_proxy::{Fault, FaultProxy, Rule};
use serde_json::{Value, json};

use super::netbox::{netbox, seed, target};
use super::{load, tight_runtime};

const IFACES: &str = "/api/dcim/interfaces/";
const MACS: &str = "/api/dcim/mac-addresses/";
const IPS: &str = "/api/ipam/ip-addresses/";
/// Addresses for made-up ARP neighbours (RFC 2544 benchmarking range, unused elsewhere).
const NEIGHBOUR_PREFIX: &str = "198.18.0.0/15";

/// A random number (std's hasher keys are random per process and per call).
fn random() -> u64 {
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
}

/// `n` ARP sightings on `interface` with MAC and IP addresses no other run uses.
fn fresh_sightings(interface: &str, n: usize) -> Vec<Sighting> {
    (0..n)
        .map(|_| {
            let r = random().to_be_bytes();
            Sighting {
                interface: interface.into(),
                mac: format!(
                    "02:{:02X}:{:02X}:{:02X}:{:02X}:{:02X}",
                    r[0], r[1], r[2], r[3], r[4]
                ),
                ip: format!("198.{}.{}.{}", 18 + (r[5] & 1), r[6], r[7].max(1)),
                vlan: 0,
            }
        })
        .collect()
}

/// A seeded device, NetBox directly, and NetBox through the proxy with a short timeout.
struct Rig {
    proxy: FaultProxy,
    direct: NetBox,
    proxied: NetBox,
    target: Target,
}

impl Rig {
    async fn new(prefix: &str) -> Self {
        let direct = netbox();
        ensure_setup(&direct).await.unwrap();
        // A new device every time: the tests expect its interfaces to be missing at first.
        let name = format!(
            "{prefix}-{}-{:x}",
            std::process::id(),
            random() & 0xffff_ffff
        );
        seed(&direct, &name).await;
        let prefix_q = [("prefix".to_string(), NEIGHBOUR_PREFIX.to_string())];
        if direct
            .list("/api/ipam/prefixes/", &prefix_q)
            .await
            .unwrap()
            .is_empty()
        {
            direct
                .create(
                    "/api/ipam/prefixes/",
                    json!({"prefix": NEIGHBOUR_PREFIX, "status": "active"}),
                )
                .await
                .unwrap();
        }
        let upstream = std::env::var("NETBOX_URL").unwrap();
        let proxy = FaultProxy::start(&upstream).await.unwrap();
        let token = std::env::var("NETBOX_TOKEN").unwrap();
        let mut config = NetBoxConfig::new(proxy.url(), Secret::new(token));
        config.timeout = Duration::from_secs(3);
        config.retries = 3;
        config.backoff = Duration::from_millis(20);
        let proxied = NetBox::new(config).unwrap();
        let target = target(&direct, &name).await;
        Self {
            proxy,
            direct,
            proxied,
            target,
        }
    }

    fn ctx(&self) -> Context {
        Context::new(self.proxied.clone(), self.target.clone(), None)
    }

    fn device_q(&self) -> Vec<(String, String)> {
        vec![("device_id".into(), self.target.id.to_string())]
    }

    /// Fails if any interface, MAC address or IP address of the device exists twice.
    async fn assert_no_duplicates(&self) {
        let ifaces = self.direct.list(IFACES, &self.device_q()).await.unwrap();
        assert!(!ifaces.is_empty());
        assert_unique(&ifaces, |i| i["name"].to_string(), "interface");
        let ids: Vec<String> = ifaces.iter().map(|i| i["id"].to_string()).collect();
        let macs = self
            .direct
            .list_any(MACS, &[], "interface_id", &ids)
            .await
            .unwrap();
        assert_unique(
            &macs,
            |m| format!("{} {}", m["mac_address"], m["assigned_object_id"]),
            "MAC address",
        );
        let ips = self.direct.list(IPS, &self.device_q()).await.unwrap();
        assert_unique(
            &ips,
            |a| format!("{} {}", a["address"], a["vrf"]["id"]),
            "IP address",
        );
    }
}

fn assert_unique(objects: &[Value], key: impl Fn(&Value) -> String, what: &str) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for o in objects {
        *seen.entry(key(o)).or_default() += 1;
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "duplicate {what}s: {twice:?}");
}

async fn interfaces() -> Interfaces {
    let runtime = tight_runtime();
    let plugin = load(&runtime, nbfacts_tests::JUNOS, "builtin:junos").await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/replay/edge1");
    let device = Arc::new(ReplayDevice::new(&dir, "junos"));
    let Facts::Interfaces(ifaces) = plugin
        .collect(CollectRequest::new("interfaces"), device)
        .await
        .unwrap()
    else {
        panic!("not interfaces facts")
    };
    ifaces
}

/// The MAC and IP addresses of `sightings` each exist exactly once.
async fn assert_neighbours_once(nb: &NetBox, sightings: &[Sighting]) {
    let macs: Vec<String> = sightings.iter().map(|s| s.mac.clone()).collect();
    let found = nb.list_any(MACS, &[], "mac_address", &macs).await.unwrap();
    assert_eq!(found.len(), macs.len(), "{found:#?}");
    assert_unique(&found, |m| m["mac_address"].to_string(), "MAC address");
    let ips: Vec<String> = sightings.iter().map(|s| s.ip.clone()).collect();
    let found = nb.list_any(IPS, &[], "address", &ips).await.unwrap();
    assert_eq!(found.len(), ips.len(), "{found:#?}");
    assert_unique(
        &found,
        |a| format!("{} {}", a["address"], a["vrf"]),
        "IP address",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a running NetBox: scripts/netbox up"]
async fn netbox_faults_reads_are_retried_through_5xx_429_and_hangs() {
    let rig = Rig::new("flt-read").await;
    let ifaces = interfaces().await;
    let ctx = rig.ctx();

    // Two 503s, then NetBox.
    rig.proxy
        .push(Rule::new("GET", IFACES, Fault::status(503)).times(2));
    let before = rig.proxied.counts();
    let set = reconcile::interfaces::reconcile(&ctx, &ifaces)
        .await
        .unwrap();
    assert!(set.counts().new > 0);
    assert_eq!(rig.proxy.injected(), 2);
    assert_eq!(rig.proxy.count("GET", IFACES), 3);
    assert_eq!(rig.proxied.counts().retries - before.retries, 2);

    // A 500 and a 502 are retried too (a read is safe to repeat).
    rig.proxy.push(Rule::new("GET", IFACES, Fault::status(500)));
    rig.proxy.push(Rule::new("GET", IFACES, Fault::status(502)));
    reconcile::interfaces::reconcile(&ctx, &ifaces)
        .await
        .unwrap();
    assert_eq!(rig.proxy.injected(), 4);

    // 429 with Retry-After: the client waits what NetBox asks, not its own 20 ms backoff.
    rig.proxy
        .push(Rule::new("GET", IFACES, Fault::too_many_requests(1)));
    let started = Instant::now();
    reconcile::interfaces::reconcile(&ctx, &ifaces)
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "Retry-After ignored: {:?}",
        started.elapsed()
    );
    assert_eq!(rig.proxy.injected(), 5);

    // A hang past the client's 3 s timeout: timed out, then retried.
    rig.proxy.push(Rule::new(
        "GET",
        IFACES,
        Fault::hang(Duration::from_secs(30)),
    ));
    let before = rig.proxied.counts();
    reconcile::interfaces::reconcile(&ctx, &ifaces)
        .await
        .unwrap();
    assert_eq!(rig.proxy.injected(), 6);
    assert_eq!(rig.proxied.counts().retries - before.retries, 1);

    // Status and headers arrive, the body stalls past the timeout: a lost answer, retried
    // (regression: it used to surface as "unexpected answer", not retried).
    rig.proxy.push(Rule::new(
        "GET",
        IFACES,
        Fault::stall_body(Duration::from_secs(30)),
    ));
    let before = rig.proxied.counts();
    reconcile::interfaces::reconcile(&ctx, &ifaces)
        .await
        .unwrap();
    assert_eq!(rig.proxy.injected(), 7);
    assert_eq!(rig.proxied.counts().retries - before.retries, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a running NetBox: scripts/netbox up"]
async fn netbox_faults_collection_fails_clearly_after_the_retries() {
    let rig = Rig::new("flt-down").await;
    let ifaces = interfaces().await;
    rig.proxy
        .push(Rule::new("GET", IFACES, Fault::status(503)).always());
    let e = reconcile::interfaces::reconcile(&rig.ctx(), &ifaces)
        .await
        .unwrap_err();
    assert!(matches!(e, ReconcileError::NetBox(ref n) if n.status() == Some(503)));
    let shown = e.to_string();
    println!("{shown}");
    for part in [
        "503",
        "GET /api/dcim/interfaces/",
        "injected 503 by the fault proxy",
        "gave up after 4 attempts",
    ] {
        assert!(shown.contains(part), "{part:?} missing from: {shown}");
    }
    assert_eq!(rig.proxy.count("GET", IFACES), 4, "1 attempt + 3 retries");

    // The same with hangs: a timeout error, after the same number of attempts.
    rig.proxy.clear();
    rig.proxy
        .push(Rule::new("GET", IFACES, Fault::hang(Duration::from_secs(30))).always());
    let e = reconcile::interfaces::reconcile(&rig.ctx(), &ifaces)
        .await
        .unwrap_err();
    let shown = e.to_string();
    assert!(
        shown.contains("did not answer GET /api/dcim/interfaces/ within 3 s"),
        "{shown}"
    );
    assert_eq!(rig.proxy.count("GET", IFACES), 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a running NetBox: scripts/netbox up"]
async fn netbox_faults_creates_retry_only_when_unprocessed() {
    let rig = Rig::new("flt-post").await;
    let ifaces = interfaces().await;
    let ctx = rig.ctx();
    let set = reconcile::interfaces::reconcile(&ctx, &ifaces)
        .await
        .unwrap();
    // 429 and 503 mean "not processed": the create is sent again and succeeds once.
    rig.proxy
        .push(Rule::new("POST", IFACES, Fault::too_many_requests(0)));
    rig.proxy.push(Rule::new("POST", MACS, Fault::status(503)));
    let outcome = reconcile::apply(&rig.proxied, &set, None).await;
    assert!(
        outcome.stopped.is_none() && outcome.refused.is_empty(),
        "{outcome:?}"
    );
    assert_eq!(rig.proxy.injected(), 2);
    rig.assert_no_duplicates().await;
    let again = reconcile::interfaces::reconcile(&ctx, &ifaces)
        .await
        .unwrap();
    assert!(again.is_noop(), "{:?}", again.counts());
}

/// A create whose answer is lost after NetBox made the objects (a 502 from a gateway, or a hang
/// past the timeout): not repeated, the apply stops with the error and records what it wrote
/// before; the re-run finds the made objects by identity, creates the rest, and duplicates
/// nothing. Covers interfaces (unique in NetBox) and MAC and IP addresses (not unique).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a running NetBox: scripts/netbox up"]
async fn netbox_faults_lost_answers_rerun_without_duplicates() {
    let rig = Rig::new("flt-lost").await;
    let ifaces = interfaces().await;
    let ctx = rig.ctx();

    // 1. Interfaces: the MAC addresses' create answer is lost (phase 2, after the interfaces).
    let set = reconcile::interfaces::reconcile(&ctx, &ifaces)
        .await
        .unwrap();
    let mac_entries = set
        .entries
        .iter()
        .filter(|e| matches!(&e.operation, Operation::Create { endpoint, .. } if endpoint == MACS))
        .count();
    assert!(mac_entries > 0, "the fixture has MAC addresses");
    rig.proxy.push(Rule::new(
        "POST",
        MACS,
        Fault::status(502).after_forwarding(),
    ));
    let outcome = reconcile::apply(&rig.proxied, &set, None).await;
    let stopped = outcome
        .stopped
        .clone()
        .expect("the lost answer stops the apply");
    assert!(
        stopped.contains("502") && stopped.contains("POST /api/dcim/mac-addresses/"),
        "{stopped}"
    );
    assert_eq!(
        rig.proxy.count("POST", MACS),
        1,
        "a lost create is not repeated"
    );
    // What was written before the failure is recorded, the lost batch is not.
    assert!(outcome.written.iter().any(|w| w.endpoint == IFACES));
    assert!(!outcome.written.iter().any(|w| w.endpoint == MACS));
    // NetBox did make the MAC addresses.
    let q = vec![("device_id".to_string(), rig.target.id.to_string())];
    assert!(!rig.direct.list(MACS, &q).await.unwrap().is_empty());

    // The re-run: the MAC addresses are found on their interfaces (confirmed, not new).
    let rerun = reconcile::interfaces::reconcile(&ctx, &ifaces)
        .await
        .unwrap();
    let still_new_macs = rerun
        .entries
        .iter()
        .filter(|e| {
            e.state == EntryState::New
                && matches!(&e.operation, Operation::Create { endpoint, .. } if endpoint == MACS)
        })
        .count();
    assert_eq!(still_new_macs, 0, "{:#?}", rerun.entries);
    let outcome = reconcile::apply(&rig.proxied, &rerun, None).await;
    assert!(
        outcome.stopped.is_none() && outcome.refused.is_empty(),
        "{outcome:?}"
    );
    let last = reconcile::interfaces::reconcile(&ctx, &ifaces)
        .await
        .unwrap();
    assert!(last.is_noop(), "{:?}", last.counts());
    rig.assert_no_duplicates().await;

    // 2. ARP neighbours (MAC and IP addresses are not unique in NetBox): the MAC addresses'
    // create answer is lost.
    let sightings = fresh_sightings("ge-0/0/0.0", 3);
    let set = neighbors::reconcile(&ctx, "arp", &sightings).await.unwrap();
    assert_eq!(set.counts().new, 6, "{:#?}", set.entries);
    rig.proxy.push(Rule::new(
        "POST",
        MACS,
        Fault::status(504).after_forwarding(),
    ));
    let outcome = reconcile::apply(&rig.proxied, &set, None).await;
    let stopped = outcome
        .stopped
        .clone()
        .expect("the lost answer stops the apply");
    assert!(stopped.contains("504"), "{stopped}");
    assert!(outcome.written.is_empty(), "{outcome:?}");
    let rerun = neighbors::reconcile(&ctx, "arp", &sightings).await.unwrap();
    assert_eq!(
        rerun.counts().new,
        3,
        "only the IP addresses: {:#?}",
        rerun.entries
    );
    let outcome = reconcile::apply(&rig.proxied, &rerun, None).await;
    assert!(
        outcome.stopped.is_none() && outcome.refused.is_empty(),
        "{outcome:?}"
    );
    assert_neighbours_once(&rig.direct, &sightings).await;

    // 3. The IP addresses' create hangs past the client's timeout after NetBox made them.
    let sightings = fresh_sightings("ge-0/0/0.0", 3);
    let set = neighbors::reconcile(&ctx, "arp", &sightings).await.unwrap();
    rig.proxy.push(Rule::new(
        "POST",
        IPS,
        Fault::hang(Duration::from_secs(30)).after_forwarding(),
    ));
    let posts_before = rig.proxy.count("POST", IPS);
    let outcome = reconcile::apply(&rig.proxied, &set, None).await;
    let stopped = outcome
        .stopped
        .clone()
        .expect("the timeout stops the apply");
    assert!(
        stopped.contains("did not answer POST /api/ipam/ip-addresses/"),
        "{stopped}"
    );
    assert_eq!(
        rig.proxy.count("POST", IPS) - posts_before,
        1,
        "not repeated"
    );
    // The MAC addresses (phase 0) were written and recorded before the failure.
    assert_eq!(
        outcome
            .written
            .iter()
            .filter(|w| w.endpoint == MACS)
            .count(),
        3
    );
    let rerun = neighbors::reconcile(&ctx, "arp", &sightings).await.unwrap();
    assert!(
        rerun.is_noop(),
        "the re-run finds everything: {:#?}",
        rerun.entries
    );
    assert_neighbours_once(&rig.direct, &sightings).await;
}

/// A 400 names the entry with NetBox's message and does not stop the other entries, whether
/// NetBox refuses it in a bulk create or a proxy-shaped refusal comes back for one batch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a running NetBox: scripts/netbox up"]
async fn netbox_faults_validation_errors_name_the_entry_and_spare_the_rest() {
    let rig = Rig::new("flt-400").await;
    let mut set = ChangeSet::new(&rig.target.name, "interfaces");
    for (name, kind) in [
        ("et-0/0/10", "100gbase-x-qsfp28"),
        ("et-0/0/11", "no-such-interface-type"),
        ("et-0/0/12", "100gbase-x-qsfp28"),
    ] {
        set.push(
            EntryState::New,
            "dcim.interface",
            None,
            format!("{name} on {}", rig.target.name),
            Operation::Create {
                endpoint: IFACES.into(),
                payload: json!({"device": rig.target.id, "name": name, "type": kind,
                    "tags": reconcile::owned_tags()}),
                key: format!("iface:{name}"),
            },
            "test",
            0,
        );
    }
    let outcome = reconcile::apply(&rig.proxied, &set, None).await;
    assert!(outcome.stopped.is_none(), "{outcome:?}");
    assert_eq!(outcome.refused.len(), 1, "{outcome:?}");
    let refused = &outcome.refused[0];
    assert_eq!(
        set.entries[refused.entry as usize].label,
        format!("et-0/0/11 on {}", rig.target.name)
    );
    assert!(refused.message.contains("400"), "{}", refused.message);
    assert!(
        refused.message.contains("no-such-interface-type")
            || refused.message.contains("not a valid choice"),
        "NetBox's own message: {}",
        refused.message
    );
    let written: Vec<u32> = outcome.written.iter().map(|w| w.entry).collect();
    assert_eq!(written, vec![0, 2]);

    // A 400 the proxy makes up for a whole batch (no per-item errors): the writer falls back to
    // one by one, so only the entries NetBox itself refuses are set aside.
    let mut set = ChangeSet::new(&rig.target.name, "interfaces");
    for name in ["et-0/0/20", "et-0/0/21"] {
        set.push(
            EntryState::New,
            "dcim.interface",
            None,
            format!("{name} on {}", rig.target.name),
            Operation::Create {
                endpoint: IFACES.into(),
                payload: json!({"device": rig.target.id, "name": name, "type": "100gbase-x-qsfp28",
                    "tags": reconcile::owned_tags()}),
                key: format!("iface:{name}"),
            },
            "test",
            0,
        );
    }
    rig.proxy.push(Rule::new(
        "POST",
        IFACES,
        Fault::status_with_body(400, r#"{"detail":"Invalid request (injected)"}"#),
    ));
    let outcome = reconcile::apply(&rig.proxied, &set, None).await;
    assert!(
        outcome.stopped.is_none() && outcome.refused.is_empty(),
        "{outcome:?}"
    );
    assert_eq!(outcome.written.len(), 2);
    rig.assert_no_duplicates().await;
}
