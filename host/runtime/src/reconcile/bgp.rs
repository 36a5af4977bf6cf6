//! The `bgp` collector into NetBox: an ASN object for every remote AS (which needs an RIR:
//! configured, and created when allowed) and the peer IP addresses, VRF-aware (the routing
//! instance names the VRF; `global` is no VRF).
//!
//! Whether the NetBox routing plugin is installed is read from `/api/status/` at run time; the
//! change set says so in a note. Writing BGP session objects through the plugin is not done yet
//! (the note says that too), so with or without the plugin the writes are ASNs and peer IPs.

use std::collections::BTreeSet;

use nbfacts_sdk::Bgp;
use serde_json::{Value, json};

use super::{
    ChangeSet, Context, EntryState, Operation, ReconcileError, fact_fields, id_of, owned_tags,
    set_field,
};

const ASNS: &str = "/api/ipam/asns/";
const RIRS: &str = "/api/ipam/rirs/";
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
    let status = ctx.cache.status(&ctx.netbox).await?;
    Ok(status
        .get("plugins")
        .and_then(Value::as_object)
        .is_some_and(|p| p.keys().any(|k| k == "netbox_routing")))
}

/// Builds the change set for the BGP facts of one device.
pub async fn reconcile(
    ctx: &Context,
    facts: &Bgp,
    policy: &AsnPolicy,
) -> Result<ChangeSet, ReconcileError> {
    let mut set = ChangeSet::new(&ctx.device.name, "bgp");
    if routing_plugin_installed(ctx).await? {
        set.notes.push(
            "The NetBox routing plugin is installed; nbfacts does not write BGP session objects yet, \
             only ASNs and peer IP addresses."
                .into(),
        );
    } else {
        set.notes.push(
            "The NetBox routing plugin is not installed: writing ASNs and peer IP addresses only."
                .into(),
        );
    }
    let peers: Vec<(&str, &nbfacts_sdk::BgpPeer)> = facts
        .instances
        .iter()
        .flat_map(|i| i.peers.iter().map(move |p| (i.name.as_str(), p)))
        .filter(|(_, p)| !p.summary_only)
        .collect();
    if peers.is_empty() {
        return Ok(set);
    }

    // ASNs.
    let asns: BTreeSet<i64> = peers
        .iter()
        .map(|(_, p)| p.remote_as)
        .filter(|a| *a > 0)
        .collect();
    let wanted: Vec<String> = asns.iter().map(i64::to_string).collect();
    let existing = ctx.netbox.list_any(ASNS, &[], "asn", &wanted).await?;
    let missing: Vec<i64> = asns
        .iter()
        .copied()
        .filter(|a| {
            !existing
                .iter()
                .any(|e| e.get("asn").and_then(Value::as_i64) == Some(*a))
        })
        .collect();
    for asn in asns.iter().filter(|a| !missing.contains(a)) {
        let id = existing
            .iter()
            .find(|e| e.get("asn").and_then(Value::as_i64) == Some(*asn))
            .and_then(id_of);
        set.push(
            EntryState::Confirmed,
            "ipam.asn",
            id,
            format!("AS{asn}"),
            Operation::None,
            "already in NetBox",
            1,
        );
    }
    if !missing.is_empty() {
        let rirs = ctx
            .netbox
            .list(RIRS, &[("slug".into(), policy.rir.clone())])
            .await?;
        let rir_ok = if rirs.is_empty() {
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
                    key: format!("asn:{asn}"),
                },
                format!("remote AS of a BGP peer of {}", ctx.device.name),
                1,
            );
        }
    }

    // Peer addresses, in the instance's VRF.
    let vrf_names: Vec<String> = peers
        .iter()
        .map(|(i, _)| i.to_string())
        .filter(|i| i != "global")
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let vrfs = if vrf_names.is_empty() {
        Vec::new()
    } else {
        ctx.netbox.list_any(VRFS, &[], "name", &vrf_names).await?
    };
    let addresses: Vec<String> = peers
        .iter()
        .map(|(_, p)| p.remote_address.clone())
        .collect();
    let existing_ips = ctx.netbox.list_any(IPS, &[], "address", &addresses).await?;
    let mut done = BTreeSet::new();
    for (instance, peer) in peers {
        let Ok(ip) = peer.remote_address.parse::<std::net::IpAddr>() else {
            continue;
        };
        let label = format!("{ip} (BGP peer of {} in {instance})", ctx.device.name);
        let vrf = if instance == "global" {
            None
        } else {
            match vrfs
                .iter()
                .find(|v| v.get("name").and_then(Value::as_str) == Some(instance))
            {
                Some(v) => id_of(v),
                None => {
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
                }
            }
        };
        if !done.insert((ip, vrf)) {
            continue;
        }
        let found = existing_ips.iter().find(|e| {
            e.get("address")
                .and_then(Value::as_str)
                .and_then(|a| a.split('/').next())
                .and_then(|a| a.parse::<std::net::IpAddr>().ok())
                == Some(ip)
                && e.pointer("/vrf/id").and_then(Value::as_u64) == vrf
        });
        if let Some(found) = found {
            set.push(
                EntryState::Confirmed,
                "ipam.ipaddress",
                id_of(found),
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
        set.push(
            EntryState::New,
            "ipam.ipaddress",
            None,
            label,
            Operation::Create {
                endpoint: IPS.into(),
                payload,
                key: format!("ip:{ip}:{vrf:?}"),
            },
            "BGP peer address",
            2,
        );
    }
    Ok(set)
}
