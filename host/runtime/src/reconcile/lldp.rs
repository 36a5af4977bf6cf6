//! The `lldp` collector into NetBox: a cable between the two interfaces, only when both
//! devices exist, are in the same site, both interfaces exist and neither is cabled; every
//! other case is an entry that says why nothing was written. A journal entry on the cable
//! records its discovery.
//!
//! The remote device is found by its LLDP system name exactly, then with domain labels stripped
//! one at a time (`leaf1.dc1.example.net` → `leaf1.dc1.example` → `leaf1.dc1` → `leaf1`); never
//! fuzzily. The remote interface is the remote port id, else the port description, exactly.

use std::collections::HashSet;

use nbfacts_sdk::LldpNeighbor;
use serde_json::{Value, json};

use super::{
    ChangeSet, Context, DEVICE_FIELDS, EntryState, IFACE_FIELDS, Operation, ReconcileError,
    fact_fields, id_of, owned_tags, projection,
};

const DEVICES: &str = "/api/dcim/devices/";
const IFACES: &str = "/api/dcim/interfaces/";
const CABLES: &str = "/api/dcim/cables/";
const JOURNAL: &str = "/api/extras/journal-entries/";

/// Candidate device names for an LLDP system name, most specific first.
pub fn name_candidates(system_name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut name = system_name.trim();
    while !name.is_empty() {
        out.push(name.to_string());
        match name.rsplit_once('.') {
            Some((head, _)) => name = head,
            None => break,
        }
    }
    out
}

/// Builds the change set for the LLDP neighbours of one device.
pub async fn reconcile(ctx: &Context, facts: &[LldpNeighbor]) -> Result<ChangeSet, ReconcileError> {
    let mut set = ChangeSet::new(&ctx.device.name, "lldp");
    let neighbors: Vec<&LldpNeighbor> = facts
        .iter()
        .filter(|n| ctx.wants_interface(&n.local_interface))
        .collect();
    if neighbors.is_empty() {
        return Ok(set);
    }
    let mut candidates: Vec<String> = neighbors
        .iter()
        .flat_map(|n| name_candidates(&n.remote_system_name))
        .collect();
    candidates.sort();
    candidates.dedup();
    let devices = ctx
        .netbox
        .list_any(DEVICES, &[projection(DEVICE_FIELDS)], "name", &candidates)
        .await?;
    let mut device_ids: Vec<String> = devices
        .iter()
        .filter_map(id_of)
        .map(|id| id.to_string())
        .collect();
    device_ids.push(ctx.device.id.to_string());
    device_ids.sort();
    device_ids.dedup();
    let interfaces = ctx
        .netbox
        .list_any(
            IFACES,
            &[projection(IFACE_FIELDS)],
            "device_id",
            &device_ids,
        )
        .await?;
    let iface = |device: u64, name: &str| -> Option<&Value> {
        interfaces.iter().find(|i| {
            i.pointer("/device/id").and_then(Value::as_u64) == Some(device)
                && i.get("name").and_then(Value::as_str) == Some(name)
        })
    };

    let mut proposed: HashSet<(u64, u64)> = HashSet::new();
    for n in neighbors {
        let label = format!(
            "{} {} ↔ {} {}",
            ctx.device.name,
            n.local_interface,
            n.remote_system_name,
            remote_port(n)
        );
        let skip = |set: &mut ChangeSet, reason: String| {
            set.push(
                EntryState::Skipped,
                "dcim.cable",
                None,
                label.clone(),
                Operation::None,
                reason,
                0,
            );
        };
        let remote = name_candidates(&n.remote_system_name)
            .into_iter()
            .find_map(|c| {
                devices
                    .iter()
                    .find(|d| d.get("name").and_then(Value::as_str) == Some(c.as_str()))
            });
        let Some(remote) = remote else {
            skip(
                &mut set,
                format!(
                    "no NetBox device named {:?} (nor with domain labels stripped)",
                    n.remote_system_name
                ),
            );
            continue;
        };
        let (Some(remote_id), remote_name) = (
            id_of(remote),
            remote.get("name").and_then(Value::as_str).unwrap_or(""),
        ) else {
            continue;
        };
        let remote_site = remote.pointer("/site/id").and_then(Value::as_u64);
        if remote_site != ctx.device.site_id {
            skip(
                &mut set,
                format!("{remote_name} is in another site; nbfacts cables only within a site"),
            );
            continue;
        }
        let Some(local_if) = iface(ctx.device.id, &n.local_interface) else {
            skip(
                &mut set,
                format!(
                    "{} has no interface {} in NetBox",
                    ctx.device.name, n.local_interface
                ),
            );
            continue;
        };
        let port = remote_port(n);
        let Some(remote_if) =
            iface(remote_id, port).or_else(|| iface(remote_id, &n.remote_port_description))
        else {
            skip(
                &mut set,
                format!("{remote_name} has no interface {port:?} in NetBox"),
            );
            continue;
        };
        let (Some(a), Some(b)) = (id_of(local_if), id_of(remote_if)) else {
            continue;
        };
        let a_cable = local_if.pointer("/cable/id").and_then(Value::as_u64);
        let b_cable = remote_if.pointer("/cable/id").and_then(Value::as_u64);
        let peers_of = |i: &Value| -> Vec<u64> {
            i.get("link_peers")
                .and_then(Value::as_array)
                .map(|p| {
                    p.iter()
                        .filter_map(|x| x.get("id").and_then(Value::as_u64))
                        .collect()
                })
                .unwrap_or_default()
        };
        match (a_cable, b_cable) {
            (Some(x), Some(y)) if x == y && peers_of(local_if).contains(&b) => {
                set.push(
                    EntryState::Confirmed,
                    "dcim.cable",
                    Some(x),
                    label,
                    Operation::None,
                    "cabled as LLDP says",
                    0,
                );
            }
            (Some(_), _) => skip(
                &mut set,
                format!(
                    "{} {} is already cabled elsewhere",
                    ctx.device.name, n.local_interface
                ),
            ),
            (_, Some(_)) => skip(
                &mut set,
                format!("{remote_name} {port} is already cabled elsewhere"),
            ),
            (None, None) => {
                let pair = (a.min(b), a.max(b));
                if !proposed.insert(pair) {
                    continue;
                }
                let key = format!("cable:{}:{}", pair.0, pair.1);
                set.push(
                    EntryState::New,
                    "dcim.cable",
                    None,
                    label.clone(),
                    Operation::Create {
                        endpoint: CABLES.into(),
                        payload: json!({
                            "a_terminations": [{"object_type": "dcim.interface", "object_id": a}],
                            "b_terminations": [{"object_type": "dcim.interface", "object_id": b}],
                            "status": "connected",
                            "tags": owned_tags(),
                            "custom_fields": fact_fields("lldp", &ctx.now),
                        }),
                        key: key.clone(),
                    },
                    "both ends exist in one site and neither is cabled",
                    0,
                );
                set.push(
                    EntryState::New,
                    "extras.journalentry",
                    None,
                    format!("journal of {label}"),
                    Operation::Create {
                        endpoint: JOURNAL.into(),
                        payload: json!({
                            "assigned_object_type": "dcim.cable",
                            "assigned_object_id": { "$ref": key },
                            "kind": "info",
                            "comments": format!(
                                "Discovered by nbfacts via LLDP on {}: {} {} ↔ {} {} (chassis {}).",
                                ctx.now, ctx.device.name, n.local_interface, remote_name, port, n.remote_chassis_id
                            ),
                            "tags": owned_tags(),
                        }),
                        key: format!("journal:{key}"),
                    },
                    "records how the cable was found",
                    1,
                );
            }
        }
    }
    Ok(set)
}

fn remote_port(n: &LldpNeighbor) -> &str {
    if n.remote_port.is_empty() {
        &n.remote_port_description
    } else {
        &n.remote_port
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_labels_strip_one_at_a_time() {
        assert_eq!(
            name_candidates("leaf1.dc1.example.net"),
            [
                "leaf1.dc1.example.net",
                "leaf1.dc1.example",
                "leaf1.dc1",
                "leaf1"
            ]
        );
        assert_eq!(name_candidates("spine"), ["spine"]);
        assert!(name_candidates("").is_empty());
    }
}
