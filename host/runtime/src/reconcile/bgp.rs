//! The `bgp` collector into NetBox: an ASN object for every remote AS (which needs an RIR:
//! configured, and created when allowed) and the peer IP addresses, VRF-aware (the routing
//! instance names the VRF; `global` is no VRF).
//!
//! Whether the NetBox routing plugin is installed is read from `/api/status/` at run time; the
//! change set says so in a note. With the plugin, the sessions are written to it as well (see
//! `routing`): a BGP router per device and local AS (whose ASN object is then needed too), a
//! scope per routing instance, a peer per neighbour. Without it, the writes are ASNs and peer
//! IPs only.
//!
//! Reads on an unchanged device: the ASNs and the peer addresses; with the plugin, its objects
//! first (the peers of the device's scopes; the scopes themselves are read once per run), which
//! name the ASNs, so those are read only when one is missing there. VRFs are read by name only
//! when neither the scopes nor the peer addresses name them.

mod routing;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use nbfacts_sdk::{Bgp, BgpInstance};
use serde_json::{Value, json};

use super::{
    ChangeSet, Context, EntryState, Operation, ReconcileError, fact_fields, id_of, ips_by_host,
    owned_tags, set_field,
};

const ASNS: &str = "/api/ipam/asns/";
pub(super) const RIRS: &str = "/api/ipam/rirs/";
const IPS: &str = "/api/ipam/ip-addresses/";
const VRFS: &str = "/api/ipam/vrfs/";

/// Where ASN objects go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsnPolicy {
    /// Slug of the RIR new ASNs are filed under.
    pub rir: String,
    /// Create that RIR (as private) if it is missing.
    pub create_rir: bool,
}

impl Default for AsnPolicy {
    fn default() -> Self {
        Self {
            rir: "nbfacts-discovered".into(),
            create_rir: true,
        }
    }
}

/// True when NetBox reports the routing plugin (`netbox_routing`) in `/api/status/`.
pub async fn routing_plugin_installed(ctx: &Context) -> Result<bool, ReconcileError> {
    let status = ctx.netbox.status().await?;
    Ok(status
        .get("plugins")
        .and_then(Value::as_object)
        .is_some_and(|p| p.keys().any(|k| k == "netbox_routing")))
}

/// The AS a routing instance speaks as: the instance's, else the first one its peers report
/// (0 when unknown).
fn local_as(instance: &BgpInstance) -> i64 {
    if instance.local_as > 0 {
        return instance.local_as;
    }
    instance
        .peers
        .iter()
        .map(|p| p.local_as)
        .find(|a| *a > 0)
        .unwrap_or(0)
}

/// Builds the change set for the BGP facts of one device.
pub async fn reconcile(
    ctx: &Context,
    facts: &Bgp,
    policy: &AsnPolicy,
) -> Result<ChangeSet, ReconcileError> {
    let mut set = ChangeSet::new(&ctx.device.name, "bgp");
    let routing = routing_plugin_installed(ctx).await?;
    if routing {
        set.notes.push(
            "The NetBox routing plugin is installed: BGP routers, scopes and peers are written \
             to it, with the ASNs and peer IP addresses they refer to."
                .into(),
        );
    } else {
        set.notes.push(
            "The NetBox routing plugin is not installed: writing ASNs and peer IP addresses only."
                .into(),
        );
    }
    let peers: Vec<(&BgpInstance, &nbfacts_sdk::BgpPeer)> = facts
        .instances
        .iter()
        .flat_map(|i| i.peers.iter().map(move |p| (i, p)))
        .filter(|(_, p)| !p.summary_only)
        .collect();
    // With the plugin, a device without peers still has its stale BGP peers removed.
    if peers.is_empty() && !routing {
        return Ok(set);
    }

    // ASNs: the remote ones, and with the plugin the local ones (a BGP router needs its ASN).
    let mut asns: BTreeSet<i64> = peers
        .iter()
        .map(|(_, p)| p.remote_as)
        .filter(|a| *a > 0)
        .collect();
    if routing {
        asns.extend(
            facts
                .instances
                .iter()
                .filter(|i| i.peers.iter().any(|p| !p.summary_only))
                .map(local_as)
                .filter(|a| *a > 0),
        );
    }
    // With the plugin, the device's BGP objects are read first: they name most ASNs and VRFs.
    let existing_routing = if routing {
        Some(routing::existing(ctx).await?)
    } else {
        None
    };
    // ASN → the ASN object (its id, or a reference to the entry creating it).
    let mut asn_refs: BTreeMap<i64, Value> = BTreeMap::new();
    let mut known = existing_routing
        .as_ref()
        .map(routing::Existing::asn_ids)
        .unwrap_or_default();
    known.retain(|a, _| asns.contains(a));
    let unknown: Vec<String> = asns
        .iter()
        .filter(|a| !known.contains_key(a))
        .map(i64::to_string)
        .collect();
    // `list_any` makes no request for an empty list of values.
    for e in ctx.netbox.list_any(ASNS, &[], "asn", &unknown).await? {
        if let (Some(asn), Some(id)) = (e.get("asn").and_then(Value::as_i64), id_of(&e)) {
            known.entry(asn).or_insert(id);
        }
    }
    let missing: Vec<i64> = asns
        .iter()
        .copied()
        .filter(|a| !known.contains_key(a))
        .collect();
    for (asn, id) in &known {
        asn_refs.insert(*asn, json!(id));
        set.push(
            EntryState::Confirmed,
            "ipam.asn",
            Some(*id),
            format!("AS{asn}"),
            Operation::None,
            "already in NetBox",
            1,
        );
    }
    if !missing.is_empty() {
        // Shared reads mean a report, which creates nothing: the answer holds for the run.
        let rir_exists = ctx
            .cache
            .rir_exists(&ctx.netbox, &policy.rir, ctx.shared_reads)
            .await?;
        let rir_ok = if !rir_exists {
            if policy.create_rir {
                set.push(
                    EntryState::New,
                    "ipam.rir",
                    None,
                    format!("RIR {}", policy.rir),
                    Operation::Create {
                        endpoint: RIRS.into(),
                        payload: json!({
                            "name": policy.rir,
                            "slug": policy.rir,
                            "is_private": true,
                            "description": "ASNs discovered by nbfacts",
                            "tags": owned_tags(),
                        }),
                        key: "rir".into(),
                    },
                    "configured RIR for discovered ASNs is missing",
                    0,
                );
                true
            } else {
                false
            }
        } else {
            true
        };
        for asn in missing {
            if !rir_ok {
                set.push(
                    EntryState::Skipped,
                    "ipam.asn",
                    None,
                    format!("AS{asn}"),
                    Operation::None,
                    format!(
                        "RIR {:?} does not exist and creating it is not allowed",
                        policy.rir
                    ),
                    1,
                );
                continue;
            }
            let key = format!("asn:{asn}");
            asn_refs.insert(asn, json!({ "$ref": key }));
            let reason = if peers.iter().any(|(_, p)| p.remote_as == asn) {
                format!("remote AS of a BGP peer of {}", ctx.device.name)
            } else {
                format!("local AS of {} (its BGP router)", ctx.device.name)
            };
            set.push(
                EntryState::New,
                "ipam.asn",
                None,
                format!("AS{asn}"),
                Operation::Create {
                    endpoint: ASNS.into(),
                    payload: json!({
                        "asn": asn,
                        "rir": { "slug": policy.rir },
                        "tags": owned_tags(),
                        "custom_fields": fact_fields("bgp", &ctx.now),
                    }),
                    key,
                },
                reason,
                1,
            );
        }
    }

    // Peer addresses, in the instance's VRF.
    // (With the plugin, the VRFs of summary-only peers too: they keep their peer objects.)
    let vrf_names: Vec<String> = facts
        .instances
        .iter()
        .filter(|i| routing || i.peers.iter().any(|p| !p.summary_only))
        .map(|i| i.name.clone())
        .filter(|i| i != "global")
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let addresses: Vec<String> = peers
        .iter()
        .map(|(_, p)| p.remote_address.clone())
        .collect();
    let existing_ips = ips_by_host(ctx, &addresses).await?;
    // VRF name → id: as the device's BGP scopes and the peer addresses name them, else read.
    let mut vrf_ids = existing_routing
        .as_ref()
        .map(routing::Existing::vrf_ids)
        .unwrap_or_default();
    for v in existing_ips.iter().filter_map(|ip| ip.get("vrf")) {
        if let (Some(name), Some(id)) = (v.get("name").and_then(Value::as_str), id_of(v)) {
            vrf_ids.entry(name.to_string()).or_insert(id);
        }
    }
    let unknown: Vec<String> = vrf_names
        .iter()
        .filter(|n| !vrf_ids.contains_key(n.as_str()))
        .cloned()
        .collect();
    for v in ctx.netbox.list_any(VRFS, &[], "name", &unknown).await? {
        if let (Some(name), Some(id)) = (v.get("name").and_then(Value::as_str), id_of(&v)) {
            vrf_ids.entry(name.to_string()).or_insert(id);
        }
    }
    // The instance's VRF: `Some(None)` for the global table, `None` when NetBox lacks the VRF.
    let vrf_of = |instance: &str| -> Option<Option<u64>> {
        if instance == "global" {
            return Some(None);
        }
        vrf_ids.get(instance).map(|id| Some(*id))
    };
    // (address, VRF) → the IP address object (its id, or a reference to the entry creating it).
    let mut ip_refs: BTreeMap<(IpAddr, Option<u64>), Value> = BTreeMap::new();
    for (instance, peer) in &peers {
        let instance = instance.name.as_str();
        let Ok(ip) = peer.remote_address.parse::<IpAddr>() else {
            continue;
        };
        let label = format!("{ip} (BGP peer of {} in {instance})", ctx.device.name);
        let Some(vrf) = vrf_of(instance) else {
            set.push(
                EntryState::Skipped,
                "ipam.ipaddress",
                None,
                label,
                Operation::None,
                format!("VRF {instance:?} does not exist in NetBox"),
                2,
            );
            continue;
        };
        if ip_refs.contains_key(&(ip, vrf)) {
            continue;
        }
        let found = existing_ips.iter().find(|e| {
            e.get("address")
                .and_then(Value::as_str)
                .and_then(|a| a.split('/').next())
                .and_then(|a| a.parse::<IpAddr>().ok())
                == Some(ip)
                && e.pointer("/vrf/id").and_then(Value::as_u64) == vrf
        });
        if let Some(found) = found {
            let id = id_of(found);
            ip_refs.insert((ip, vrf), id.map_or(Value::Null, |id| json!(id)));
            set.push(
                EntryState::Confirmed,
                "ipam.ipaddress",
                id,
                label,
                Operation::None,
                "already in NetBox",
                2,
            );
            continue;
        }
        let len = if ip.is_ipv4() { 32 } else { 128 };
        let mut payload = json!({
            "address": format!("{ip}/{len}"),
            "status": "active",
            "description": format!("BGP peer AS{}", peer.remote_as),
            "tags": owned_tags(),
            "custom_fields": fact_fields("bgp", &ctx.now),
        });
        if let Some(vrf) = vrf {
            set_field(&mut payload, "vrf", json!(vrf));
        }
        let key = format!("ip:{ip}:{vrf:?}");
        ip_refs.insert((ip, vrf), json!({ "$ref": key }));
        set.push(
            EntryState::New,
            "ipam.ipaddress",
            None,
            label,
            Operation::Create {
                endpoint: IPS.into(),
                payload,
                key,
            },
            "BGP peer address",
            2,
        );
    }
    if !routing {
        return Ok(set);
    }

    // netbox-routing: the sessions whose address has an IP address object, and every peer the
    // device reports (summary-only ones too), which keeps their peer objects from going stale.
    let mut sessions = Vec::new();
    for (instance, peer) in &peers {
        let Ok(address) = peer.remote_address.parse::<IpAddr>() else {
            continue;
        };
        let Some(vrf) = vrf_of(&instance.name) else {
            continue;
        };
        let Some(ip) = ip_refs.get(&(address, vrf)).filter(|r| !r.is_null()) else {
            continue;
        };
        sessions.push(routing::Session {
            instance: instance.name.clone(),
            vrf,
            local_as: local_as(instance),
            address,
            remote_as: asn_refs.get(&peer.remote_as).cloned(),
            remote_as_number: peer.remote_as,
            enabled: peer.is_enabled,
            ip: ip.clone(),
        });
    }
    let mut reported = BTreeSet::new();
    for instance in &facts.instances {
        let Some(vrf) = vrf_of(&instance.name) else {
            continue;
        };
        for peer in &instance.peers {
            if let Ok(address) = peer.remote_address.parse::<IpAddr>() {
                reported.insert((local_as(instance), vrf, address));
            }
        }
    }
    let existing = existing_routing.unwrap_or_default();
    routing::routing_objects(ctx, existing, &sessions, &reported, &asn_refs, &mut set).await?;
    Ok(set)
}
