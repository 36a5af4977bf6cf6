//! OSPF → neighbour IP addresses, and the adjacency table as a journal entry.
//!
//! Neighbour addresses become IP addresses (discovery method `ospf`) under the same rules as
//! ARP: only inside a NetBox prefix, in that prefix's VRF. OSPFv3 neighbours are link-local
//! and are only journalled. When the routing plugin (`netbox_routing`) is installed, its OSPF
//! instance, area and interface objects are written too; either way the device gets a journal
//! entry with the adjacency table when the table changed since nbfacts's last entry.

use serde_json::{Value, json};

use super::bgp::routing_plugin_installed;
use super::changeset::{ChangeSet, EntryState, Operation};
use super::neighbors::{self, Sighting};
use super::{Context, ReconcileError};
use nbfacts_sdk::{Ospf, OspfVersion};

const JOURNAL: &str = "/api/extras/journal-entries/";
const INSTANCES: &str = "/api/plugins/routing/ospf/instance/";
const AREAS: &str = "/api/plugins/routing/ospf/area/";
const OSPF_IFACES: &str = "/api/plugins/routing/ospf/interface/";
const IFACES: &str = "/api/dcim/interfaces/";
const MARKER: &str = "nbfacts: OSPF adjacencies\n";

/// The adjacency table as journal text (stable order; no timers, so it only changes when an
/// adjacency does).
pub fn adjacency_table(facts: &Ospf) -> String {
    let mut rows: Vec<String> = facts
        .neighbors
        .iter()
        .map(|n| {
            format!(
                "| {} | {} | {} | {} | {} | {} |",
                n.instance,
                match n.version {
                    OspfVersion::V2 => "v2",
                    OspfVersion::V3 => "v3",
                },
                n.interface,
                n.neighbor_id,
                n.address,
                n.state
            )
        })
        .collect();
    rows.sort();
    format!(
        "{MARKER}\n| instance | version | interface | neighbour id | address | state |\n|---|---|---|---|---|---|\n{}",
        rows.join("\n")
    )
}

/// Builds the change set for the OSPF facts of one device.
pub async fn reconcile(ctx: &Context, facts: &Ospf) -> Result<ChangeSet, ReconcileError> {
    let mut set = ChangeSet::new(&ctx.device.name, "ospf");
    if routing_plugin_installed(ctx).await? {
        set.notes.push(
            "The NetBox routing plugin is installed: OSPF instances, areas and interfaces are \
             written to it."
                .into(),
        );
        routing_objects(ctx, facts, &mut set).await?;
    } else {
        set.notes.push(
            "The NetBox routing plugin (netbox-routing) is not installed: OSPF adjacencies are \
             kept as a journal entry on the device."
                .into(),
        );
    }
    let sightings: Vec<Sighting> = facts
        .neighbors
        .iter()
        .filter(|n| n.version == OspfVersion::V2 && !n.address.is_empty())
        .filter(|n| ctx.wants_interface(&n.interface))
        .map(|n| Sighting {
            interface: n.interface.clone(),
            mac: String::new(),
            ip: n.address.clone(),
            vlan: 0,
        })
        .collect();
    if !sightings.is_empty() {
        set.absorb(neighbors::reconcile(ctx, "ospf", &sightings).await?);
    }
    if facts.neighbors.is_empty() {
        return Ok(set);
    }
    let table = adjacency_table(facts);
    let journals = ctx
        .netbox
        .list(
            JOURNAL,
            &[
                ("assigned_object_type".into(), "dcim.device".into()),
                ("assigned_object_id".into(), ctx.device.id.to_string()),
            ],
        )
        .await?;
    let last = journals
        .iter()
        .filter_map(|j| j.get("comments").and_then(Value::as_str))
        .rfind(|c| c.starts_with(MARKER));
    if last == Some(table.as_str()) {
        set.push(
            EntryState::Confirmed,
            "extras.journalentry",
            None,
            format!("OSPF journal of {}", ctx.device.name),
            Operation::None,
            "adjacency table unchanged since the last journal entry",
            3,
        );
        return Ok(set);
    }
    let down = facts.neighbors.iter().any(|n| n.state != "Full");
    set.push(
        EntryState::New,
        "extras.journalentry",
        None,
        format!("OSPF journal of {}", ctx.device.name),
        Operation::Create {
            endpoint: JOURNAL.into(),
            payload: json!({
                "assigned_object_type": "dcim.device", "assigned_object_id": ctx.device.id,
                "kind": if down { "warning" } else { "info" }, "comments": table,
            }),
            key: "journal:ospf".into(),
        },
        if last.is_some() {
            "the adjacency table changed"
        } else {
            "first OSPF adjacency table"
        },
        3,
    );
    Ok(set)
}

/// netbox-routing objects: an OSPF instance per routing instance of the device (router id =
/// the device's loopback address, as for L2 circuits), the areas (global, created when
/// missing), and an OSPF interface for every interface that runs OSPF and exists in NetBox.
async fn routing_objects(
    ctx: &Context,
    facts: &Ospf,
    set: &mut ChangeSet,
) -> Result<(), ReconcileError> {
    use std::collections::BTreeMap;
    // (instance, interface) → (area, passive), from the interface table, else the neighbours.
    let mut ospf_ifaces: BTreeMap<(String, String), (String, Option<bool>)> = BTreeMap::new();
    for i in facts
        .interfaces
        .iter()
        .filter(|i| i.version == OspfVersion::V2)
    {
        ospf_ifaces.insert(
            (i.instance.clone(), i.name.clone()),
            (i.area.clone(), Some(i.passive)),
        );
    }
    for n in facts
        .neighbors
        .iter()
        .filter(|n| n.version == OspfVersion::V2)
    {
        ospf_ifaces
            .entry((n.instance.clone(), n.interface.clone()))
            .or_insert((n.area.clone(), None));
    }
    ospf_ifaces.retain(|(_, name), (area, _)| ctx.wants_interface(name) && !area.is_empty());
    if ospf_ifaces.is_empty() {
        return Ok(());
    }
    let router_id = super::l2vpn::local_pe(ctx).await?;
    if router_id.parse::<std::net::IpAddr>().is_err() {
        set.push(
            EntryState::Skipped,
            "netbox_routing.ospfinstance",
            None,
            format!("OSPF on {}", ctx.device.name),
            Operation::None,
            "no router id: the device has no lo0.0 IPv4 address or primary IP in NetBox",
            0,
        );
        return Ok(());
    }
    let device_q = [("device_id".to_string(), ctx.device.id.to_string())];
    let instances = ctx.netbox.list(INSTANCES, &device_q).await?;
    let areas = ctx.netbox.list(AREAS, &[]).await?;
    let existing = ctx.netbox.list(OSPF_IFACES, &device_q).await?;
    let netbox_ifaces = ctx.netbox.list(IFACES, &device_q).await?;

    let mut instance_ref: BTreeMap<String, Value> = BTreeMap::new();
    let mut area_ref: BTreeMap<String, Value> = BTreeMap::new();
    for ((instance, _), (area, _)) in &ospf_ifaces {
        if !instance_ref.contains_key(instance) {
            let name = instance.clone();
            let found = instances
                .iter()
                .find(|i| i.get("name").and_then(Value::as_str) == Some(name.as_str()));
            let r = match found.and_then(super::id_of) {
                Some(id) => {
                    set.push(
                        EntryState::Confirmed,
                        "netbox_routing.ospfinstance",
                        Some(id),
                        format!("OSPF instance {name} on {}", ctx.device.name),
                        Operation::None,
                        "already in NetBox",
                        0,
                    );
                    json!(id)
                }
                None => {
                    let key = format!("ospf-instance:{name}");
                    set.push(
                        EntryState::New,
                        "netbox_routing.ospfinstance",
                        None,
                        format!("OSPF instance {name} on {}", ctx.device.name),
                        Operation::Create {
                            endpoint: INSTANCES.into(),
                            payload: json!({
                                "name": name, "device": ctx.device.id, "router_id": router_id,
                                "process_id": 1, "tags": super::owned_tags(),
                            }),
                            key: key.clone(),
                        },
                        "the device runs OSPF in this routing instance",
                        0,
                    );
                    json!({ "$ref": key })
                }
            };
            instance_ref.insert(name, r);
        }
        if !area_ref.contains_key(area) {
            let found = areas
                .iter()
                .find(|a| a.get("area_id").and_then(Value::as_str) == Some(area.as_str()));
            let r = match found.and_then(super::id_of) {
                Some(id) => json!(id),
                None => {
                    let key = format!("ospf-area:{area}");
                    let backbone = area == "0.0.0.0" || area == "0";
                    set.push(
                        EntryState::New,
                        "netbox_routing.ospfarea",
                        None,
                        format!("OSPF area {area}"),
                        Operation::Create {
                            endpoint: AREAS.into(),
                            payload: json!({
                                "area_id": area,
                                "area_type": if backbone { "backbone" } else { "standard" },
                                "tags": super::owned_tags(),
                            }),
                            key: key.clone(),
                        },
                        "an OSPF interface of the device is in it",
                        0,
                    );
                    json!({ "$ref": key })
                }
            };
            area_ref.insert(area.clone(), r);
        }
    }

    for ((instance, name), (area, passive)) in &ospf_ifaces {
        let label = format!("OSPF on {name} of {} (area {area})", ctx.device.name);
        let Some(iface_id) = netbox_ifaces
            .iter()
            .find(|i| i.get("name").and_then(Value::as_str) == Some(name.as_str()))
            .and_then(super::id_of)
        else {
            set.push(
                EntryState::Skipped,
                "netbox_routing.ospfinterface",
                None,
                label,
                Operation::None,
                format!("interface {name} is not in NetBox (the interfaces collector creates it)"),
                1,
            );
            continue;
        };
        let current = existing
            .iter()
            .find(|o| o.pointer("/interface/id").and_then(Value::as_u64) == Some(iface_id));
        match current {
            Some(o) => {
                set.push(
                    EntryState::Confirmed,
                    "netbox_routing.ospfinterface",
                    super::id_of(o),
                    label,
                    Operation::None,
                    "already in NetBox",
                    1,
                );
            }
            None => {
                let mut payload = json!({
                    "instance": instance_ref.get(instance).cloned().unwrap_or(Value::Null),
                    "area": area_ref.get(area).cloned().unwrap_or(Value::Null),
                    "interface": iface_id,
                    "tags": super::owned_tags(),
                });
                if let Some(p) = passive {
                    super::set_field(&mut payload, "passive", json!(p));
                }
                set.push(
                    EntryState::New,
                    "netbox_routing.ospfinterface",
                    None,
                    label,
                    Operation::Create {
                        endpoint: OSPF_IFACES.into(),
                        payload,
                        key: format!("ospf-iface:{name}"),
                    },
                    "the interface runs OSPF",
                    1,
                );
            }
        }
    }
    Ok(())
}
