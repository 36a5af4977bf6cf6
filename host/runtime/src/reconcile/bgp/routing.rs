//! BGP sessions into netbox-routing (0.5): a BGP router per device and local AS, a scope per
//! routing instance (its VRF; the global table is no VRF), and a peer per neighbour that points
//! at the neighbour's IP address object and remote ASN, as the rest of the BGP reconciler
//! found or creates them.
//!
//! Identity follows the plugin's unique constraints: a router is (device, ASN), a scope is
//! (router, VRF), a peer is (scope, address). Peers are compared on their remote AS and
//! whether they are enabled; drift on a peer nbfacts owns is updated, on another peer it is
//! reported and left. Peers nbfacts created that the device no longer reports are stale and
//! deleted; routers and scopes are left in place (settings and address families of other
//! tools may hang off them).
//!
//! The plugin's serializers do not list `tags`: NetBox silently drops them on a write and never
//! returns them. NetBox's `add_tags` is honoured though, so objects are tagged through it, and
//! ownership is read with a `tag` filter — only for the peers the plan would change or delete.
//! An unchanged device therefore costs one read here (see [`existing`]): the peers of its
//! scopes; the scopes, with their routers nested, are read once per run for every device.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use serde_json::{Map, Value, json};

use super::super::{
    ChangeSet, Context, EntryState, Operation, ReconcileError, add_owned_tags, id_of,
    plugin_recreatable, set_field,
};
use crate::netbox::TAG_SLUG;

const ROUTERS: &str = "/api/plugins/routing/bgp/router/";
const SCOPES: &str = "/api/plugins/routing/bgp/scope/";
const PEERS: &str = "/api/plugins/routing/bgp/peer/";

/// Write phases: after the ASNs (1) and the peer addresses (2) they refer to.
const ROUTER_PHASE: u8 = 3;
const SCOPE_PHASE: u8 = 4;
const PEER_PHASE: u8 = 5;

/// A BGP session the device reports, with the NetBox objects it refers to.
#[derive(Debug, Clone)]
pub(super) struct Session {
    /// Routing instance (`global` for the default one).
    pub instance: String,
    /// The instance's VRF; `None` for the global table.
    pub vrf: Option<u64>,
    /// The AS the device speaks in the instance (0 when unknown).
    pub local_as: i64,
    /// The neighbour's address.
    pub address: IpAddr,
    /// The remote ASN object (an id, or a reference to the entry creating it); `None` when it
    /// cannot be written.
    pub remote_as: Option<Value>,
    /// The remote AS number, for reasons.
    pub remote_as_number: i64,
    /// Whether the session is administratively enabled.
    pub enabled: bool,
    /// The neighbour's IP address object (an id, or a reference to the entry creating it).
    pub ip: Value,
}

/// Identity of a peer across routers and scopes: (local AS, VRF, address).
pub(super) type PeerKey = (i64, Option<u64>, IpAddr);

/// The device's netbox-routing BGP objects. The plugin filters peers by scope only and scopes
/// by router only, so the device's scopes are taken from every scope, read once per run
/// ([`RunCache::bgp_scopes`](super::super::RunCache::bgp_scopes); kept when their router is
/// assigned to this device, the routers come nested), and the peers of those scopes are one
/// read. A scope missing there is looked for again in NetBox before it is created (see
/// [`routing_objects`]), and so is a router missing from the scopes.
pub(super) async fn existing(ctx: &Context) -> Result<Existing, ReconcileError> {
    let scopes = ctx.cache.bgp_scopes(&ctx.netbox).await?;
    Existing::of_scopes(ctx, scopes.iter().cloned()).await
}

/// Like [`existing`], reading the device's scopes now: through the plugin's search on the
/// device name (kept when their router is assigned to this device).
async fn existing_now(ctx: &Context) -> Result<Existing, ReconcileError> {
    let scopes = ctx
        .netbox
        .list(SCOPES, &[("q".to_string(), ctx.device.name.clone())])
        .await?;
    Existing::of_scopes(ctx, scopes.into_iter()).await
}

impl Existing {
    /// The device's objects among `scopes`, with the peers of its scopes (one read).
    async fn of_scopes(
        ctx: &Context,
        scopes: impl Iterator<Item = Value>,
    ) -> Result<Self, ReconcileError> {
        let device_url = format!("/api/dcim/devices/{}/", ctx.device.id);
        let scopes: Vec<Value> = scopes
            .filter(|s| {
                s.pointer("/router/assigned_object/url")
                    .and_then(Value::as_str)
                    .is_some_and(|u| u.ends_with(&device_url))
            })
            .collect();
        let mut routers: Vec<Value> = Vec::new();
        for r in scopes.iter().filter_map(|s| s.get("router")) {
            if !routers.iter().any(|x| id_of(x) == id_of(r)) {
                routers.push(r.clone());
            }
        }
        let scope_ids: Vec<String> = scopes
            .iter()
            .filter_map(id_of)
            .map(|id| id.to_string())
            .collect();
        // `list_any` makes no request for an empty list of values.
        let peers = ctx
            .netbox
            .list_any(PEERS, &[], "scope_id", &scope_ids)
            .await?;
        Ok(Existing {
            routers,
            scopes,
            peers,
        })
    }
}

/// Writes (or confirms) the netbox-routing objects of `sessions` against `existing` (from
/// [`existing`]); owned peers that are not in `reported` go stale. `asns` maps AS numbers to
/// their ASN objects (ids or references).
pub(super) async fn routing_objects(
    ctx: &Context,
    mut existing: Existing,
    sessions: &[Session],
    reported: &BTreeSet<PeerKey>,
    asns: &BTreeMap<i64, Value>,
    set: &mut ChangeSet,
) -> Result<(), ReconcileError> {
    // The scopes read for the run may predate this device's last write (a context used
    // again, another job meanwhile): read them again before concluding one is missing.
    let missing_scope = |existing: &Existing| {
        sessions.iter().any(|s| {
            s.local_as > 0
                && existing
                    .router(s.local_as)
                    .and_then(|r| existing.scope(r, s.vrf))
                    .is_none()
        })
    };
    // The device's routers come first: that read is shared with other devices' reads, while
    // the scope search is one request per device, and a device without routers has no scopes
    // (a device's first BGP collection, and every device in a report on a new fleet).
    let device_q = [("device_id".to_string(), ctx.device.id.to_string())];
    let mut device_routers = None;
    if missing_scope(&existing) {
        let routers = ctx.netbox.list(ROUTERS, &device_q).await?;
        existing = if routers.is_empty() {
            Existing::default()
        } else {
            existing_now(ctx).await?
        };
        device_routers = Some(routers);
    }
    // A router without scopes is not among the scopes' routers: read the device's routers
    // before concluding one is missing.
    if sessions
        .iter()
        .any(|s| s.local_as > 0 && existing.router(s.local_as).is_none())
    {
        let routers = match device_routers {
            Some(routers) => routers,
            None => ctx.netbox.list(ROUTERS, &device_q).await?,
        };
        for r in routers {
            if !existing.routers.iter().any(|x| id_of(x) == id_of(&r)) {
                existing.routers.push(r);
            }
        }
    }
    let plan = Plan {
        device_id: ctx.device.id,
        device: &ctx.device.name,
        sessions,
        reported,
        asns,
        existing,
    };
    let (candidates, needs_router) = plan.prerequisites();
    // The plugin's filter sets have no `id` filter (0.5.1 ignores it): the tagged peers are
    // read by the scopes of the candidates instead.
    let candidate_scopes: Vec<String> = plan
        .existing
        .peers
        .iter()
        .filter(|p| id_of(p).is_some_and(|id| candidates.contains(&id)))
        .filter_map(|p| p.pointer("/scope/id").and_then(Value::as_u64))
        .collect::<BTreeSet<_>>()
        .iter()
        .map(u64::to_string)
        .collect();
    let tagged = [("tag".to_string(), TAG_SLUG.to_string())];
    let owned: BTreeSet<u64> = ctx
        .netbox
        .list_any(PEERS, &tagged, "scope_id", &candidate_scopes)
        .await?
        .iter()
        .filter_map(id_of)
        .filter(|id| candidates.contains(id))
        .collect();
    let device_type = if needs_router {
        ctx.netbox.object_type_id("dcim", "device").await?
    } else {
        None
    };
    plan.emit(&owned, device_type, set);
    Ok(())
}

/// The device's netbox-routing BGP objects as NetBox returned them.
#[derive(Debug, Default)]
pub(super) struct Existing {
    routers: Vec<Value>,
    scopes: Vec<Value>,
    peers: Vec<Value>,
}

impl Existing {
    /// ASN objects the routers and peers name: AS number → id.
    pub(super) fn asn_ids(&self) -> BTreeMap<i64, u64> {
        let named = self
            .routers
            .iter()
            .filter_map(|r| r.get("asn"))
            .chain(self.peers.iter().filter_map(|p| p.get("remote_as")));
        named
            .filter_map(|a| Some((a.get("asn")?.as_i64()?, id_of(a)?)))
            .collect()
    }

    /// VRFs the scopes are in: name → id.
    pub(super) fn vrf_ids(&self) -> BTreeMap<String, u64> {
        self.scopes
            .iter()
            .filter_map(|s| s.get("vrf"))
            .filter_map(|v| Some((v.get("name")?.as_str()?.to_string(), id_of(v)?)))
            .collect()
    }

    fn router(&self, asn: i64) -> Option<u64> {
        self.routers
            .iter()
            .find(|r| r.pointer("/asn/asn").and_then(Value::as_i64) == Some(asn))
            .and_then(id_of)
    }

    fn scope(&self, router: u64, vrf: Option<u64>) -> Option<u64> {
        self.scopes
            .iter()
            .find(|s| {
                s.pointer("/router/id").and_then(Value::as_u64) == Some(router)
                    && s.pointer("/vrf/id").and_then(Value::as_u64) == vrf
            })
            .and_then(id_of)
    }

    fn peer(&self, scope: u64, address: IpAddr) -> Option<&Value> {
        self.peers.iter().find(|p| {
            p.pointer("/scope/id").and_then(Value::as_u64) == Some(scope)
                && address_of(p) == Some(address)
        })
    }
}

fn address_of(peer: &Value) -> Option<IpAddr> {
    peer.pointer("/peer/address")?
        .as_str()?
        .split('/')
        .next()?
        .parse()
        .ok()
}

fn key_of(peer: &Value) -> Option<PeerKey> {
    let asn = peer.pointer("/scope/router/asn/asn")?.as_i64()?;
    let vrf = peer.pointer("/scope/vrf/id").and_then(Value::as_u64);
    Some((asn, vrf, address_of(peer)?))
}

/// How an existing peer differs from the session: the patch, the same fields before, and a
/// description for the reason.
#[derive(Debug, Default)]
struct Drift {
    patch: Map<String, Value>,
    before: Map<String, Value>,
    text: Vec<String>,
}

fn drift(current: &Value, session: &Session) -> Drift {
    let mut d = Drift::default();
    if let Some(want) = &session.remote_as {
        // A reference (an ASN created in this change set) never equals an existing id.
        let have = current
            .pointer("/remote_as/id")
            .cloned()
            .unwrap_or(Value::Null);
        if &have != want {
            let shown = current
                .pointer("/remote_as/asn")
                .and_then(Value::as_i64)
                .map_or_else(|| "none".to_string(), |a| format!("AS{a}"));
            d.text.push(format!(
                "remote AS {shown} → AS{}",
                session.remote_as_number
            ));
            d.patch.insert("remote_as".into(), want.clone());
            d.before.insert("remote_as".into(), have);
        }
    }
    let have = current.get("enabled").and_then(Value::as_bool);
    if have != Some(session.enabled) {
        d.text
            .push(format!("enabled {have:?} → {}", session.enabled));
        d.patch.insert("enabled".into(), json!(session.enabled));
        d.before.insert(
            "enabled".into(),
            current.get("enabled").cloned().unwrap_or(Value::Null),
        );
    }
    d
}

/// Sessions against what NetBox has, for one device. Pure: [`Plan::prerequisites`] says what
/// else must be read, [`Plan::emit`] writes the entries.
struct Plan<'a> {
    device_id: u64,
    device: &'a str,
    sessions: &'a [Session],
    reported: &'a BTreeSet<PeerKey>,
    asns: &'a BTreeMap<i64, Value>,
    existing: Existing,
}

/// A router or scope for the peers: its reference and, when it exists, its id.
type Parent = Option<(Value, Option<u64>)>;

impl Plan<'_> {
    /// The peers whose ownership decides the plan (drifted or no longer reported), and whether
    /// a router is created (which needs the object type id of devices).
    fn prerequisites(&self) -> (BTreeSet<u64>, bool) {
        let mut candidates = BTreeSet::new();
        let mut needs_router = false;
        for s in self.sessions {
            let Some(router) = self.existing.router(s.local_as) else {
                needs_router |= s.local_as > 0 && self.asns.contains_key(&s.local_as);
                continue;
            };
            let current = self
                .existing
                .scope(router, s.vrf)
                .and_then(|scope| self.existing.peer(scope, s.address));
            if let Some(current) = current.filter(|c| !drift(c, s).patch.is_empty()) {
                candidates.extend(id_of(current));
            }
        }
        candidates.extend(self.unreported().filter_map(id_of));
        (candidates, needs_router)
    }

    /// Peers of the device's scopes that the device does not report.
    fn unreported(&self) -> impl Iterator<Item = &Value> {
        self.existing
            .peers
            .iter()
            .filter(|p| key_of(p).is_some_and(|k| !self.reported.contains(&k)))
    }

    /// Pushes the entries: routers, scopes, peers, stale peers. `owned` holds the ids of the
    /// candidate peers that carry nbfacts's tag.
    fn emit(&self, owned: &BTreeSet<u64>, device_type: Option<u64>, set: &mut ChangeSet) {
        let mut routers: BTreeMap<i64, Parent> = BTreeMap::new();
        let mut scopes: BTreeMap<(i64, Option<u64>), Parent> = BTreeMap::new();
        let mut done = BTreeSet::new();
        for s in self.sessions {
            if !done.insert((s.local_as, s.vrf, s.address)) {
                continue;
            }
            let router = routers
                .entry(s.local_as)
                .or_insert_with(|| self.router(s.local_as, device_type, set))
                .clone();
            let scope = match router {
                Some((router, router_id)) => scopes
                    .entry((s.local_as, s.vrf))
                    .or_insert_with(|| Some(self.scope(s, router, router_id, set)))
                    .clone(),
                None => None,
            };
            self.peer(s, scope, owned, set);
        }
        for current in self.unreported() {
            let Some(id) = id_of(current).filter(|id| owned.contains(id)) else {
                continue;
            };
            let shown = current
                .pointer("/peer/address")
                .and_then(Value::as_str)
                .unwrap_or("?");
            let before = plugin_recreatable(current);
            set.push(
                EntryState::Stale,
                "netbox_routing.bgppeer",
                Some(id),
                format!("BGP peer {shown} of {}", self.device),
                Operation::Delete {
                    endpoint: PEERS.into(),
                    id,
                    before,
                },
                "created by nbfacts, no longer reported by the device",
                PEER_PHASE,
            );
        }
    }

    fn router(&self, asn: i64, device_type: Option<u64>, set: &mut ChangeSet) -> Parent {
        let label = format!("BGP router AS{asn} on {}", self.device);
        if let Some(id) = self.existing.router(asn) {
            set.push(
                EntryState::Confirmed,
                "netbox_routing.bgprouter",
                Some(id),
                label,
                Operation::None,
                "already in NetBox",
                ROUTER_PHASE,
            );
            return Some((json!(id), Some(id)));
        }
        let asn_ref = self.asns.get(&asn).filter(|_| asn > 0);
        let (Some(asn_ref), Some(device_type)) = (asn_ref, device_type) else {
            let reason = if asn <= 0 {
                "the device does not report its local AS".to_string()
            } else if asn_ref.is_none() {
                format!("the ASN object AS{asn} cannot be written (see its entry)")
            } else {
                "NetBox does not list the object type dcim.device".to_string()
            };
            set.push(
                EntryState::Skipped,
                "netbox_routing.bgprouter",
                None,
                label,
                Operation::None,
                reason,
                ROUTER_PHASE,
            );
            return None;
        };
        let key = format!("bgp-router:{asn}");
        set.push(
            EntryState::New,
            "netbox_routing.bgprouter",
            None,
            label,
            Operation::Create {
                endpoint: ROUTERS.into(),
                payload: json!({
                    "assigned_object_type": device_type,
                    "assigned_object_id": self.device_id,
                    "asn": asn_ref,
                    "add_tags": add_owned_tags(),
                }),
                key: key.clone(),
            },
            format!("the device speaks BGP as AS{asn}"),
            ROUTER_PHASE,
        );
        Some((json!({ "$ref": key }), None))
    }

    fn scope(
        &self,
        s: &Session,
        router: Value,
        router_id: Option<u64>,
        set: &mut ChangeSet,
    ) -> (Value, Option<u64>) {
        let label = format!(
            "BGP scope {} of AS{} on {}",
            s.instance, s.local_as, self.device
        );
        if let Some(id) = router_id.and_then(|r| self.existing.scope(r, s.vrf)) {
            set.push(
                EntryState::Confirmed,
                "netbox_routing.bgpscope",
                Some(id),
                label,
                Operation::None,
                "already in NetBox",
                SCOPE_PHASE,
            );
            return (json!(id), Some(id));
        }
        let key = format!("bgp-scope:{}:{:?}", s.local_as, s.vrf);
        set.push(
            EntryState::New,
            "netbox_routing.bgpscope",
            None,
            label,
            Operation::Create {
                endpoint: SCOPES.into(),
                payload: json!({
                    "router": router,
                    "vrf": s.vrf,
                    "add_tags": add_owned_tags(),
                }),
                key: key.clone(),
            },
            "the device has BGP peers in this routing instance",
            SCOPE_PHASE,
        );
        (json!({ "$ref": key }), None)
    }

    fn peer(&self, s: &Session, scope: Parent, owned: &BTreeSet<u64>, set: &mut ChangeSet) {
        const KIND: &str = "netbox_routing.bgppeer";
        let label = format!(
            "BGP peer {} of {} in {}",
            s.address, self.device, s.instance
        );
        let Some((scope, scope_id)) = scope else {
            set.push(
                EntryState::Skipped,
                KIND,
                None,
                label,
                Operation::None,
                format!("no BGP router for AS{} (see its entry)", s.local_as),
                PEER_PHASE,
            );
            return;
        };
        let Some(current) = scope_id.and_then(|id| self.existing.peer(id, s.address)) else {
            let mut payload = json!({
                "scope": scope,
                "peer": s.ip,
                "enabled": s.enabled,
                "status": "active",
                "add_tags": add_owned_tags(),
            });
            if let Some(remote_as) = &s.remote_as {
                set_field(&mut payload, "remote_as", remote_as.clone());
            }
            set.push(
                EntryState::New,
                KIND,
                None,
                label,
                Operation::Create {
                    endpoint: PEERS.into(),
                    payload,
                    key: format!("bgp-peer:{}:{:?}:{}", s.local_as, s.vrf, s.address),
                },
                format!("BGP neighbour in AS{}", s.remote_as_number),
                PEER_PHASE,
            );
            return;
        };
        let id = id_of(current);
        let d = drift(current, s);
        if d.patch.is_empty() {
            set.push(
                EntryState::Confirmed,
                KIND,
                id,
                label,
                Operation::None,
                "matches the device",
                PEER_PHASE,
            );
        } else if let Some(id) = id.filter(|id| owned.contains(id)) {
            set.push(
                EntryState::Changed,
                KIND,
                Some(id),
                label,
                Operation::Update {
                    endpoint: PEERS.into(),
                    id,
                    patch: Value::Object(d.patch),
                    before: Value::Object(d.before),
                },
                d.text.join("; "),
                PEER_PHASE,
            );
        } else {
            set.push(
                EntryState::Skipped,
                KIND,
                id,
                label,
                Operation::None,
                format!(
                    "drift on a BGP peer nbfacts does not own (left as is): {}",
                    d.text.join("; ")
                ),
                PEER_PHASE,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEVICE: u64 = 7;

    fn session(address: &str, remote_as: i64, asn_ref: Option<Value>) -> Session {
        Session {
            instance: "global".into(),
            vrf: None,
            local_as: 65000,
            address: address.parse().unwrap(),
            remote_as: asn_ref,
            remote_as_number: remote_as,
            enabled: true,
            ip: json!({ "$ref": format!("ip:{address}:None") }),
        }
    }

    fn reported(sessions: &[Session]) -> BTreeSet<PeerKey> {
        sessions
            .iter()
            .map(|s| (s.local_as, s.vrf, s.address))
            .collect()
    }

    /// The plugin's answers, as NetBox 4.7 with netbox-routing 0.5.1 gives them (trimmed).
    fn existing(peers: Vec<Value>) -> Existing {
        let router =
            json!({"id": 1, "asn": {"id": 10, "asn": 65000}, "assigned_object_id": DEVICE});
        Existing {
            routers: vec![router.clone()],
            scopes: vec![json!({"id": 2, "router": router, "vrf": null})],
            peers,
        }
    }

    fn peer(id: u64, address: &str, remote_as: (u64, i64), enabled: bool) -> Value {
        json!({
            "id": id,
            "scope": {"id": 2, "router": {"id": 1, "asn": {"id": 10, "asn": 65000}}, "vrf": null},
            "peer": {"id": 100 + id, "address": format!("{address}/32")},
            "remote_as": {"id": remote_as.0, "asn": remote_as.1},
            "enabled": enabled, "status": "active", "source": null, "local_as": null,
        })
    }

    fn plan<'a>(
        sessions: &'a [Session],
        reported: &'a BTreeSet<PeerKey>,
        asns: &'a BTreeMap<i64, Value>,
        existing: Existing,
    ) -> Plan<'a> {
        Plan {
            device_id: DEVICE,
            device: "edge1",
            sessions,
            reported,
            asns,
            existing,
        }
    }

    fn summary(set: &ChangeSet) -> Vec<(EntryState, &str)> {
        set.entries
            .iter()
            .map(|e| (e.state, e.object_type.as_str()))
            .collect()
    }

    #[test]
    fn a_new_device_gets_router_scope_and_peers_chained_by_reference() {
        let asns: BTreeMap<i64, Value> =
            [(65000, json!({"$ref": "asn:65000"})), (65100, json!(11))].into();
        let sessions = vec![
            session("192.0.2.1", 65100, Some(json!(11))),
            session("192.0.2.2", 65100, Some(json!(11))),
        ];
        let reported = reported(&sessions);
        let p = plan(&sessions, &reported, &asns, Existing::default());
        assert_eq!(p.prerequisites(), (BTreeSet::new(), true));
        let mut set = ChangeSet::new("edge1", "bgp");
        p.emit(&BTreeSet::new(), Some(9), &mut set);
        assert_eq!(
            summary(&set),
            vec![
                (EntryState::New, "netbox_routing.bgprouter"),
                (EntryState::New, "netbox_routing.bgpscope"),
                (EntryState::New, "netbox_routing.bgppeer"),
                (EntryState::New, "netbox_routing.bgppeer"),
            ]
        );
        let Operation::Create { payload, .. } = &set.entries[0].operation else {
            panic!()
        };
        assert_eq!(
            payload,
            &json!({"assigned_object_type": 9, "assigned_object_id": DEVICE,
                    "asn": {"$ref": "asn:65000"}, "add_tags": [{"slug": TAG_SLUG}]})
        );
        let Operation::Create { payload, .. } = &set.entries[2].operation else {
            panic!()
        };
        assert_eq!(payload["scope"], json!({"$ref": "bgp-scope:65000:None"}));
        assert_eq!(payload["peer"], json!({"$ref": "ip:192.0.2.1:None"}));
        assert_eq!(payload["remote_as"], json!(11));
        assert!(set.entries.iter().all(|e| e.phase >= ROUTER_PHASE));
    }

    #[test]
    fn an_unchanged_device_is_confirmed_without_further_reads() {
        let asns: BTreeMap<i64, Value> = [(65000, json!(10)), (65100, json!(11))].into();
        let sessions = vec![session("192.0.2.1", 65100, Some(json!(11)))];
        let reported = reported(&sessions);
        let p = plan(
            &sessions,
            &reported,
            &asns,
            existing(vec![peer(3, "192.0.2.1", (11, 65100), true)]),
        );
        assert_eq!(p.prerequisites(), (BTreeSet::new(), false));
        let mut set = ChangeSet::new("edge1", "bgp");
        p.emit(&BTreeSet::new(), None, &mut set);
        assert!(set.is_noop());
        assert_eq!(set.counts().confirmed, 3);
    }

    #[test]
    fn drift_is_updated_on_owned_peers_and_reported_on_others() {
        let asns: BTreeMap<i64, Value> = [(65000, json!(10)), (65200, json!(12))].into();
        let mut sessions = vec![session("192.0.2.1", 65200, Some(json!(12)))];
        sessions[0].enabled = false;
        let reported = reported(&sessions);
        let p = plan(
            &sessions,
            &reported,
            &asns,
            existing(vec![peer(3, "192.0.2.1", (11, 65100), true)]),
        );
        assert_eq!(p.prerequisites().0, BTreeSet::from([3]));
        let mut set = ChangeSet::new("edge1", "bgp");
        p.emit(&BTreeSet::from([3]), None, &mut set);
        let e = set.entries.last().unwrap();
        assert_eq!(e.state, EntryState::Changed, "{}", e.reason);
        assert_eq!(
            e.operation,
            Operation::Update {
                endpoint: PEERS.into(),
                id: 3,
                patch: json!({"remote_as": 12, "enabled": false}),
                before: json!({"remote_as": 11, "enabled": true}),
            }
        );
        assert!(e.reason.contains("AS65100 → AS65200"), "{}", e.reason);

        let mut set = ChangeSet::new("edge1", "bgp");
        p.emit(&BTreeSet::new(), None, &mut set);
        let e = set.entries.last().unwrap();
        assert_eq!(e.state, EntryState::Skipped);
        assert!(e.reason.contains("does not own"), "{}", e.reason);
        assert!(set.is_noop());
    }

    #[test]
    fn unreported_peers_go_stale_only_when_owned_and_keep_their_tag_for_rollback() {
        let asns: BTreeMap<i64, Value> = [(65000, json!(10)), (65100, json!(11))].into();
        let sessions = vec![session("192.0.2.1", 65100, Some(json!(11)))];
        let reported = reported(&sessions);
        let p = plan(
            &sessions,
            &reported,
            &asns,
            existing(vec![
                peer(3, "192.0.2.1", (11, 65100), true),
                peer(4, "192.0.2.4", (11, 65100), true),
                peer(5, "192.0.2.5", (11, 65100), true),
            ]),
        );
        assert_eq!(p.prerequisites(), (BTreeSet::from([4, 5]), false));
        let mut set = ChangeSet::new("edge1", "bgp");
        // 4 carries the tag, 5 was made by someone else.
        p.emit(&BTreeSet::from([4]), None, &mut set);
        let stale: Vec<&crate::reconcile::Entry> = set
            .entries
            .iter()
            .filter(|e| e.state == EntryState::Stale)
            .collect();
        assert_eq!(stale.len(), 1);
        let Operation::Delete { id, before, .. } = &stale[0].operation else {
            panic!()
        };
        assert_eq!(*id, 4);
        assert_eq!(before["add_tags"], json!([{"slug": TAG_SLUG}]));
        assert_eq!(before["remote_as"]["id"], json!(11));
        assert!(
            before.get("source").is_none(),
            "null references are left out"
        );
    }

    #[test]
    fn a_peer_keeps_its_object_while_reported_in_the_summary_only() {
        // The summary-only neighbour is not a session but is reported.
        let asns: BTreeMap<i64, Value> = [(65000, json!(10))].into();
        let reported = BTreeSet::from([(65000, None, "192.0.2.4".parse().unwrap())]);
        let p = plan(
            &[],
            &reported,
            &asns,
            existing(vec![peer(4, "192.0.2.4", (11, 65100), true)]),
        );
        assert_eq!(p.prerequisites(), (BTreeSet::new(), false));
    }

    #[test]
    fn without_a_writable_local_asn_the_router_and_its_peers_are_skipped() {
        let asns: BTreeMap<i64, Value> = [(65100, json!(11))].into();
        let sessions = vec![session("192.0.2.1", 65100, Some(json!(11)))];
        let reported = reported(&sessions);
        let p = plan(&sessions, &reported, &asns, Existing::default());
        assert_eq!(p.prerequisites(), (BTreeSet::new(), false));
        let mut set = ChangeSet::new("edge1", "bgp");
        p.emit(&BTreeSet::new(), Some(9), &mut set);
        assert_eq!(
            summary(&set),
            vec![
                (EntryState::Skipped, "netbox_routing.bgprouter"),
                (EntryState::Skipped, "netbox_routing.bgppeer"),
            ]
        );
        assert!(set.entries[0].reason.contains("AS65000"));
    }
}
