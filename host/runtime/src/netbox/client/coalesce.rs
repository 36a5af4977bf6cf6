//! Read coalescing: concurrent list reads of one endpoint that differ only in the values of one
//! filter (`device_id`, `address`, `mac_address`, …) go to NetBox as one request with all the
//! values, and the answer is split back to each caller by the objects' own fields.
//!
//! Why: NetBox spends most of a small read on the request itself (about 25–45 ms of a
//! gunicorn worker on these machines for an answer with no objects, against 0.1–0.3 ms per
//! object of a `fields=` projection), so a fleet reconciling many devices at once is bounded by
//! request count, not by what it reads.
//!
//! How ("group commit"): a call whose group (branch, endpoint, the other filters, the filter
//! key) has no request in flight is sent at once, so a lone caller waits for nothing; calls
//! that arrive while one is in flight queue up, and the first of them sends the union of the
//! queue's values when the one in flight is done. Each caller gets, in NetBox's order, the
//! objects whose field matches one of its own values, under NetBox's own filter semantics
//! ([`Match`]). Exactness comes first: only values whose meaning is certain are merged (other
//! calls pass through), an object the split cannot attribute makes every caller of the batch
//! read alone, and so does a 400 (one bad value must not fail the others); any other error
//! reaches every caller.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::sync::oneshot;

use super::NetBoxError;

/// How the objects of a list endpoint relate to the values of one of its filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Match {
    /// A non-negative integer field at this JSON pointer (ids, ASNs), NetBox's integer filter.
    Number(&'static str),
    /// A string field at this JSON pointer compared exactly (NetBox's `CharFilter`, which
    /// strips surrounding whitespace: values with any are not merged).
    Text(&'static str),
    /// `ipam.IPAddress.address` under NetBox's `address` filter: a value without a mask
    /// matches the host part, one with a mask the address and mask exactly.
    Address,
    /// `dcim.MACAddress.mac_address` under NetBox's MAC filter (the same 48-bit address,
    /// whatever the spelling).
    Mac,
}

/// The filters whose results say which value they matched: (endpoint, filter key) → match.
/// NetBox's own models, whose filter semantics are known, and netbox-routing's BGP routers by
/// device (a device filter like NetBox's own: values OR'ed, 400 for a device that does not
/// exist, checked against netbox-routing 0.5.1); other plugin endpoints pass through.
pub(super) fn rule(path: &str, key: &str) -> Option<Match> {
    Some(match (path, key) {
        ("/api/dcim/interfaces/", "device_id") => Match::Number("/device/id"),
        ("/api/dcim/inventory-items/", "device_id") => Match::Number("/device/id"),
        ("/api/dcim/devices/", "name") => Match::Text("/name"),
        ("/api/dcim/devices/", "id") => Match::Number("/id"),
        ("/api/ipam/ip-addresses/", "address") => Match::Address,
        ("/api/ipam/ip-addresses/", "id") => Match::Number("/id"),
        ("/api/dcim/mac-addresses/", "mac_address") => Match::Mac,
        ("/api/ipam/asns/", "asn") => Match::Number("/asn"),
        ("/api/ipam/vrfs/", "name") => Match::Text("/name"),
        ("/api/ipam/rirs/", "slug") => Match::Text("/slug"),
        ("/api/plugins/routing/bgp/router/", "device_id") => Match::Number("/assigned_object/id"),
        _ => return None,
    })
}

/// A filter value in canonical form: equal values mean the same filter, and an object's
/// [`Match::keys`] are compared with it.
pub(super) type Norm = String;

impl Match {
    /// The canonical form of `value`, or `None` when this value is not merged (its meaning
    /// to NetBox is not certain: it might be skipped, refused or read differently).
    pub(super) fn norm(self, value: &str) -> Option<Norm> {
        match self {
            Match::Number(_) => {
                let ok = !value.is_empty()
                    && value.len() <= 18
                    && value.bytes().all(|b| b.is_ascii_digit());
                ok.then(|| value.parse::<u64>().ok().map(|n| n.to_string()))
                    .flatten()
            }
            Match::Text(_) => {
                let ok = !value.is_empty() && value.trim() == value && !value.contains('\0');
                ok.then(|| value.to_string())
            }
            Match::Address => match value.split_once('/') {
                None => value.parse::<IpAddr>().ok().map(|ip| format!("h {ip}")),
                Some((host, len)) => {
                    let ip = host.parse::<IpAddr>().ok()?;
                    let max = if ip.is_ipv4() { 32 } else { 128 };
                    let ok = !len.is_empty()
                        && len.len() <= 3
                        && len.bytes().all(|b| b.is_ascii_digit());
                    let len: u8 = ok.then(|| len.parse().ok()).flatten()?;
                    (len <= max).then(|| format!("n {ip}/{len}"))
                }
            },
            Match::Mac => mac_hex(value),
        }
    }

    /// What is sent for a canonical value (MACs as 12 bare hex digits, which NetBox reads as
    /// the same address and which take less than half the request line of `aa%3Abb%3A…`).
    pub(super) fn wire(self, norm: &str) -> String {
        match self {
            Match::Address => norm.get(2..).unwrap_or_default().to_string(),
            Match::Mac => norm.to_ascii_uppercase(),
            Match::Number(_) | Match::Text(_) => norm.to_string(),
        }
    }

    /// The field to project (`fields=id,<field>`) to evaluate the match without the objects.
    pub(super) fn field(self) -> &'static str {
        match self {
            Match::Address => "address",
            Match::Mac => "mac_address",
            Match::Number(p) | Match::Text(p) => {
                p.trim_start_matches('/').split('/').next().unwrap_or("id")
            }
        }
    }

    /// The canonical values `object` matches.
    pub(super) fn keys(self, object: &Value) -> Vec<Norm> {
        match self {
            Match::Number(p) => object
                .pointer(p)
                .and_then(Value::as_u64)
                .map(|n| vec![n.to_string()])
                .unwrap_or_default(),
            Match::Text(p) => object
                .pointer(p)
                .and_then(Value::as_str)
                .map(|s| vec![s.to_string()])
                .unwrap_or_default(),
            Match::Address => {
                let Some((host, len)) = object
                    .get("address")
                    .and_then(Value::as_str)
                    .and_then(|a| a.split_once('/'))
                else {
                    return Vec::new();
                };
                match (host.parse::<IpAddr>(), len.parse::<u8>()) {
                    (Ok(ip), Ok(len)) => vec![format!("h {ip}"), format!("n {ip}/{len}")],
                    _ => Vec::new(),
                }
            }
            Match::Mac => object
                .get("mac_address")
                .and_then(Value::as_str)
                .and_then(mac_hex)
                .into_iter()
                .collect(),
        }
    }
}

/// A 48-bit MAC written `aa:bb:cc:dd:ee:ff`, `aa-bb-…` or `aabbccddeeff` → 12 lower-case hex
/// digits; anything else `None`.
fn mac_hex(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let hex: Vec<u8> = match bytes.len() {
        12 => bytes.to_vec(),
        17 => {
            let sep = *bytes.get(2)?;
            if sep != b':' && sep != b'-' {
                return None;
            }
            let mut out = Vec::with_capacity(12);
            for (i, b) in bytes.iter().enumerate() {
                if i % 3 == 2 {
                    if *b != sep {
                        return None;
                    }
                } else {
                    out.push(*b);
                }
            }
            out
        }
        _ => return None,
    };
    hex.iter()
        .all(u8::is_ascii_hexdigit)
        .then(|| String::from_utf8_lossy(&hex).to_ascii_lowercase())
}

/// Splits `objects` (NetBox's answer to the union of the callers' values) into each caller's
/// share, in NetBox's order. `Err` when some object matches no caller's value: the split does
/// not understand the answer, so it must not be trusted.
pub(super) fn split(
    matcher: Match,
    objects: &[Value],
    callers: &[Vec<Norm>],
) -> Result<Vec<Vec<Value>>, usize> {
    let mut by_value: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, values) in callers.iter().enumerate() {
        for v in values {
            let list = by_value.entry(v.as_str()).or_default();
            if list.last() != Some(&i) {
                list.push(i);
            }
        }
    }
    let mut out = vec![Vec::new(); callers.len()];
    let mut unattributed = 0;
    for object in objects {
        let mut to: Vec<usize> = matcher
            .keys(object)
            .iter()
            .filter_map(|k| by_value.get(k.as_str()))
            .flatten()
            .copied()
            .collect();
        to.sort_unstable();
        to.dedup();
        if to.is_empty() {
            unattributed += 1;
        }
        for i in to {
            if let Some(share) = out.get_mut(i) {
                share.push(object.clone());
            }
        }
    }
    if unattributed > 0 {
        return Err(unattributed);
    }
    Ok(out)
}

/// `objects` without repeats of an id (an object that matched values of two requests of one
/// batch), first occurrence kept.
pub(super) fn dedup_by_id(objects: Vec<Value>) -> Vec<Value> {
    let mut seen = HashSet::new();
    objects
        .into_iter()
        .filter(|o| {
            o.get("id")
                .and_then(Value::as_u64)
                .is_none_or(|id| seen.insert(id))
        })
        .collect()
}

/// The union of the callers' values, each once, in first-seen order.
pub(super) fn union(callers: &[Vec<Norm>]) -> Vec<Norm> {
    let mut seen = HashSet::new();
    callers
        .iter()
        .flatten()
        .filter(|v| seen.insert(v.as_str()))
        .cloned()
        .collect()
}

/// What a caller of [`Coalescer::run`] gets.
#[derive(Debug)]
pub(super) enum Shared {
    /// Its share of the batch's answer (or the error every caller of the batch gets).
    Done(Result<Vec<Value>, NetBoxError>),
    /// The batch could not answer it exactly: it reads on its own.
    Alone,
}

struct Waiter {
    values: Vec<Norm>,
    reply: oneshot::Sender<Shared>,
}

#[derive(Default)]
struct Group {
    /// Held while the group's request is in flight.
    turn: tokio::sync::Mutex<()>,
    /// Calls waiting for the next request; `Some` while its leader waits for the turn.
    pending: Mutex<Option<Vec<Waiter>>>,
}

/// The batches of one client and its clones.
#[derive(Default)]
pub(super) struct Coalescer {
    groups: Mutex<HashMap<String, Arc<Group>>>,
}

impl std::fmt::Debug for Coalescer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Coalescer")
    }
}

/// Closes the leader's batch if the leader goes away before sending it: the waiters then read
/// alone instead of waiting for a request nobody sends.
struct LeaderGuard<'a> {
    group: &'a Group,
    armed: bool,
}

impl Drop for LeaderGuard<'_> {
    fn drop(&mut self) {
        if self.armed
            && let Ok(mut pending) = self.group.pending.lock()
        {
            pending.take();
        }
    }
}

impl Coalescer {
    /// Reads `values` of group `key` together with the other callers of the group. The
    /// leader of a batch calls `fetch` with the union of the batch's values; it must return
    /// every object matching any of them (under `matcher`), each once.
    pub(super) async fn run<F, Fut>(
        &self,
        key: &str,
        matcher: Match,
        values: Vec<Norm>,
        fetch: F,
    ) -> Shared
    where
        F: FnOnce(Vec<Norm>) -> Fut,
        Fut: Future<Output = Result<Vec<Value>, NetBoxError>>,
    {
        let Some(group) = self
            .groups
            .lock()
            .ok()
            .map(|mut g| g.entry(key.to_string()).or_default().clone())
        else {
            return Shared::Alone;
        };
        // Join the queued batch, or open one and lead it.
        let joined = {
            let Ok(mut pending) = group.pending.lock() else {
                return Shared::Alone;
            };
            match pending.as_mut() {
                Some(queue) => {
                    let (reply, answer) = oneshot::channel();
                    queue.push(Waiter { values, reply });
                    Err(answer)
                }
                None => {
                    *pending = Some(Vec::new());
                    Ok(values)
                }
            }
        };
        let own = match joined {
            Err(answer) => return answer.await.unwrap_or(Shared::Alone),
            Ok(own) => own,
        };
        let mut guard = LeaderGuard {
            group: &group,
            armed: true,
        };
        let _turn = group.turn.lock().await;
        let waiters = group
            .pending
            .lock()
            .ok()
            .and_then(|mut p| p.take())
            .unwrap_or_default();
        guard.armed = false;
        if waiters.is_empty() {
            // Alone in the batch: exactly its own read.
            return Shared::Done(fetch(own).await);
        }
        let mut callers = vec![own];
        let mut replies = Vec::with_capacity(waiters.len());
        for w in waiters {
            callers.push(w.values);
            replies.push(w.reply);
        }
        let answer = fetch(union(&callers)).await;
        let shares: Vec<Shared> = match answer {
            Ok(objects) => match split(matcher, &objects, &callers) {
                Ok(shares) => shares.into_iter().map(|s| Shared::Done(Ok(s))).collect(),
                Err(n) => {
                    tracing::warn!(
                        group = key,
                        objects = n,
                        "NetBox returned objects no merged value explains; the batch's callers read alone."
                    );
                    callers.iter().map(|_| Shared::Alone).collect()
                }
            },
            // One caller's value NetBox refuses must not fail the others.
            Err(e) if e.is_validation() => callers.iter().map(|_| Shared::Alone).collect(),
            Err(e) => callers
                .iter()
                .map(|_| Shared::Done(Err(e.clone())))
                .collect(),
        };
        let mut shares = shares.into_iter();
        let mine = shares.next().unwrap_or(Shared::Alone);
        for (reply, share) in replies.into_iter().zip(shares) {
            // A waiter that went away needs no answer.
            let _ = reply.send(share);
        }
        mine
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn n(m: Match, v: &str) -> Norm {
        m.norm(v).unwrap()
    }

    #[test]
    fn values_are_merged_only_when_their_meaning_is_certain() {
        let id = Match::Number("/device/id");
        assert_eq!(id.norm("0042").as_deref(), Some("42"));
        for bad in ["", "-1", "1.0", " 1", "x", "9999999999999999999999"] {
            assert_eq!(id.norm(bad), None, "{bad:?}");
        }
        let name = Match::Text("/name");
        assert_eq!(name.norm("leaf 1").as_deref(), Some("leaf 1"));
        assert_eq!(name.norm(" leaf"), None);
        assert_eq!(name.norm(""), None);
        let a = Match::Address;
        assert_eq!(a.norm("10.0.0.1").as_deref(), Some("h 10.0.0.1"));
        assert_eq!(a.norm("2001:DB8:0::1").as_deref(), Some("h 2001:db8::1"));
        assert_eq!(a.norm("10.0.0.1/24").as_deref(), Some("n 10.0.0.1/24"));
        for bad in [
            "10.0.0.1/33",
            "10.0.0.1/",
            "10.0.0.1/255.0.0.0",
            "fe80::1%eth0",
            "10.1",
            "01.2.3.4",
        ] {
            assert_eq!(a.norm(bad), None, "{bad:?}");
        }
        assert_eq!(a.wire(&n(a, "2001:DB8::1")), "2001:db8::1");
        let m = Match::Mac;
        for spelled in ["02:AB:00:00:00:01", "02-ab-00-00-00-01", "02ab00000001"] {
            assert_eq!(m.norm(spelled).as_deref(), Some("02ab00000001"));
        }
        for bad in [
            "02:ab:00:00:00",
            "02:ab-00:00:00:01",
            "zz:ab:00:00:00:01",
            "02ab0000000",
        ] {
            assert_eq!(m.norm(bad), None, "{bad:?}");
        }
        assert_eq!(m.wire("02ab00000001"), "02AB00000001");
        assert_eq!(Match::Number("/device/id").field(), "device");
        assert_eq!(Match::Number("/asn").field(), "asn");
    }

    #[test]
    fn answers_split_by_the_objects_own_fields_in_netbox_order() {
        let a = Match::Address;
        let objects = vec![
            json!({"id": 1, "address": "10.0.0.1/24"}),
            json!({"id": 2, "address": "10.0.0.1/32"}),
            json!({"id": 3, "address": "2001:db8::1/64"}),
        ];
        let callers = vec![
            vec![n(a, "10.0.0.1")],
            vec![n(a, "10.0.0.1/32"), n(a, "2001:db8:0::1")],
            vec![n(a, "192.0.2.1")],
        ];
        let shares = split(a, &objects, &callers).unwrap();
        let ids = |s: &Vec<Value>| {
            s.iter()
                .map(|o| o["id"].as_u64().unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&shares[0]), [1, 2]);
        assert_eq!(ids(&shares[1]), [2, 3]);
        assert!(shares[2].is_empty());

        let dev = Match::Number("/device/id");
        let ifaces = vec![
            json!({"id": 10, "device": {"id": 7}, "name": "a"}),
            json!({"id": 11, "device": {"id": 8}, "name": "a"}),
            json!({"id": 12, "device": {"id": 7}, "name": "b"}),
        ];
        // Callers may ask for several devices, and for the same one.
        let callers = vec![
            vec!["7".to_string()],
            vec!["8".to_string(), "7".to_string()],
        ];
        let shares = split(dev, &ifaces, &callers).unwrap();
        assert_eq!(ids(&shares[0]), [10, 12]);
        assert_eq!(ids(&shares[1]), [10, 11, 12]);

        let macs = vec![json!({"id": 5, "mac_address": "02:AB:00:00:00:01"})];
        let shares = split(
            Match::Mac,
            &macs,
            &[vec![n(Match::Mac, "02:ab:00:00:00:01")]],
        )
        .unwrap();
        assert_eq!(shares[0].len(), 1);
        // An object no value explains: the split refuses.
        assert_eq!(split(dev, &ifaces, &[vec!["7".to_string()]]), Err(1));
    }

    #[test]
    fn repeats_across_requests_of_a_batch_are_dropped() {
        let objects = vec![
            json!({"id": 1}),
            json!({"id": 2}),
            json!({"id": 1}),
            json!({"x": 0}),
        ];
        assert_eq!(dedup_by_id(objects).len(), 3);
        assert_eq!(
            union(&[vec!["a".into(), "b".into()], vec!["b".into(), "c".into()]]),
            ["a", "b", "c"]
        );
    }

    /// A fake NetBox for interfaces by device: every device has two interfaces; device 0 does
    /// not exist (NetBox answers 400 for the whole request), device 99 finds NetBox
    /// unavailable. Each request waits for a permit of `gate`, so a test decides when the
    /// request in flight is answered.
    #[derive(Clone)]
    struct Fake {
        coalescer: Arc<Coalescer>,
        calls: Arc<AtomicUsize>,
        gate: Arc<tokio::sync::Semaphore>,
    }

    impl Fake {
        fn new() -> Self {
            Self {
                coalescer: Arc::default(),
                calls: Arc::default(),
                gate: Arc::new(tokio::sync::Semaphore::new(0)),
            }
        }

        fn calls(&self) -> usize {
            self.calls.load(Ordering::SeqCst)
        }

        fn queued(&self) -> usize {
            let groups = self.coalescer.groups.lock().unwrap();
            groups
                .get("ifaces")
                .and_then(|g| g.pending.lock().unwrap().as_ref().map(Vec::len))
                .unwrap_or(0)
        }

        async fn fetch(&self, values: Vec<Norm>) -> Result<Vec<Value>, NetBoxError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            self.gate.acquire().await.unwrap().forget();
            let refuse = |status: u16| NetBoxError::Status {
                method: "GET".into(),
                path: "/api/dcim/interfaces/".into(),
                status,
                message: "no".into(),
            };
            if values.iter().any(|v| v == "0") {
                return Err(refuse(400));
            }
            if values.iter().any(|v| v == "99") {
                return Err(refuse(503));
            }
            Ok(values
                .iter()
                .flat_map(|v| {
                    let d: u64 = v.parse().unwrap();
                    [
                        json!({"id": d * 10, "device": {"id": d}}),
                        json!({"id": d * 10 + 1, "device": {"id": d}}),
                    ]
                })
                .collect())
        }

        /// Reads device `d`'s interfaces as the client does: through the coalescer, or alone
        /// when it says so.
        fn read(&self, d: u64) -> tokio::task::JoinHandle<Result<Vec<u64>, NetBoxError>> {
            let fake = self.clone();
            tokio::spawn(async move {
                let values = vec![d.to_string()];
                let shared = fake
                    .coalescer
                    .run("ifaces", Match::Number("/device/id"), values.clone(), |v| {
                        fake.fetch(v)
                    })
                    .await;
                let objects = match shared {
                    Shared::Done(r) => r?,
                    Shared::Alone => fake.fetch(values).await?,
                };
                Ok(objects.iter().map(|o| o["id"].as_u64().unwrap()).collect())
            })
        }
    }

    async fn until(cond: impl Fn() -> bool) {
        while !cond() {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn concurrent_reads_share_requests_and_get_their_own_objects() {
        let fake = Fake::new();
        // A lone read is sent as it is.
        fake.gate.add_permits(1);
        assert_eq!(fake.read(3).await.unwrap().unwrap(), [30, 31]);
        assert_eq!(fake.calls(), 1);
        // One read in flight; 19 more queue behind it (a leader and 18 waiters) and go as
        // one request.
        let first = fake.read(1);
        until(|| fake.calls() == 2).await;
        let rest: Vec<_> = (2..=20).map(|d| fake.read(d)).collect();
        until(|| fake.queued() == 18).await;
        fake.gate.add_permits(2);
        assert_eq!(first.await.unwrap().unwrap(), [10, 11]);
        for (d, r) in (2..=20u64).zip(rest) {
            assert_eq!(r.await.unwrap().unwrap(), [d * 10, d * 10 + 1]);
        }
        assert_eq!(fake.calls(), 3);
    }

    #[tokio::test]
    async fn a_refused_value_makes_the_batch_read_alone_and_other_errors_reach_everyone() {
        let fake = Fake::new();
        let first = fake.read(1);
        until(|| fake.calls() == 1).await;
        let rest: Vec<_> = [2, 0, 4].into_iter().map(|d| fake.read(d)).collect();
        until(|| fake.queued() == 2).await;
        fake.gate.add_permits(100);
        assert_eq!(first.await.unwrap().unwrap(), [10, 11]);
        let rest: Vec<_> = futures_util::future::join_all(rest).await;
        assert_eq!(rest[0].as_ref().unwrap().as_ref().unwrap(), &[20, 21]);
        assert_eq!(
            rest[1].as_ref().unwrap().as_ref().unwrap_err().status(),
            Some(400)
        );
        assert_eq!(rest[2].as_ref().unwrap().as_ref().unwrap(), &[40, 41]);
        // 1 alone, then [2, 0, 4] refused, then each of them alone.
        assert_eq!(fake.calls(), 5);

        // A fresh gate: the next read must stay in flight.
        let fake = Fake {
            gate: Arc::new(tokio::sync::Semaphore::new(0)),
            ..fake
        };
        let first = fake.read(1);
        until(|| fake.calls() == 6).await;
        let rest: Vec<_> = [2, 99].into_iter().map(|d| fake.read(d)).collect();
        until(|| fake.queued() == 1).await;
        fake.gate.add_permits(100);
        assert!(first.await.unwrap().is_ok());
        for r in rest {
            assert_eq!(r.await.unwrap().unwrap_err().status(), Some(503));
        }
        assert_eq!(fake.calls(), 7);
    }

    #[tokio::test]
    async fn waiters_read_alone_when_their_leader_goes_away() {
        let fake = Fake::new();
        // A read in flight holds the turn; a leader opens the next batch, a waiter joins it,
        // and the leader is cancelled before its batch is sent.
        let slow = fake.read(1);
        until(|| fake.calls() == 1).await;
        let leader = fake.read(2);
        until(|| fake.queued() == 0 && fake.pending_open()).await;
        let waiter = fake.read(3);
        until(|| fake.queued() == 1).await;
        leader.abort();
        assert!(leader.await.unwrap_err().is_cancelled());
        fake.gate.add_permits(2);
        assert_eq!(waiter.await.unwrap().unwrap(), [30, 31]);
        assert_eq!(slow.await.unwrap().unwrap(), [10, 11]);
        assert_eq!(fake.calls(), 2);
    }

    impl Fake {
        fn pending_open(&self) -> bool {
            let groups = self.coalescer.groups.lock().unwrap();
            groups
                .get("ifaces")
                .is_some_and(|g| g.pending.lock().unwrap().is_some())
        }
    }
}
