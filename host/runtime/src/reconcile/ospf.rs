//! OSPF → neighbour IP addresses, and the adjacency table as a journal entry.
//!
//! Neighbour addresses become IP addresses (discovery method `ospf`) under the same rules as
//! ARP: only inside a NetBox prefix, in that prefix's VRF. OSPFv3 neighbours are link-local
//! and are only journalled. When the routing plugin (`netbox_routing`) is installed, its OSPF
//! instance, area and interface objects are written too; either way the device gets a journal
//! entry with the adjacency table when the table changed since nbfacts's last entry.
//!
//! netbox-routing objects: an OSPF instance per routing instance of the device (router id =
//! the device's loopback address, as for L2 circuits), the areas (global, created when
//! missing), and an OSPF interface for every interface that runs OSPFv2 and exists in NetBox
//! (one per interface, the plugin's unique constraint). An OSPF interface nbfacts owns that moved
//! to another instance or area (or changed passive) is updated; one it owns that the device no
//! longer reports is stale and deleted. Instances and areas are left in place (other devices'
//! interfaces and other tools' settings hang off them). The plugin drops `tags`, so objects
//! are tagged through `add_tags`; ownership is read from the tags NetBox's GraphQL API
//! returns for them.
//!
//! Reads on an unchanged device: one GraphQL request (see [`graphql`]) for the device's OSPF
//! interfaces (their instances, areas and tags nested) and the newest adjacency journal entry,
//! and the neighbour addresses. Instances, areas, the device's interfaces and its loopback
//! address are read only when something is created or moved.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::bgp::routing_plugin_installed;
use super::changeset::{ChangeSet, EntryState, Operation};
use super::graphql::{self, List};
use super::neighbors::{self, Sighting};
use super::{
    Context, ReconcileError, add_owned_tags, id_of, is_owned, plugin_recreatable, set_field,
};
use nbfacts_sdk::{Ospf, OspfVersion};

const JOURNAL: &str = "/api/extras/journal-entries/";
const KIND_INSTANCE: &str = "netbox_routing.ospfinstance";
const KIND_AREA: &str = "netbox_routing.ospfarea";
const KIND_IFACE: &str = "netbox_routing.ospfinterface";
/// Write phases: instances and areas, then OSPF interfaces, then stale ones.
const PHASE_PARENTS: u8 = 0;
const PHASE_IFACES: u8 = 1;
const PHASE_STALE: u8 = 2;
const INSTANCES: &str = "/api/plugins/routing/ospf/instance/";
const AREAS: &str = "/api/plugins/routing/ospf/area/";
const OSPF_IFACES: &str = "/api/plugins/routing/ospf/interface/";
const IFACES: &str = "/api/dcim/interfaces/";
const MARKER: &str = "nbfacts: OSPF adjacencies\n";
/// What is read of an OSPF interface: what the reconciler compares, its tags (ownership), and
/// every field a rollback needs to recreate it.
const OSPF_IFACE_FIELDS: &str = "id passive priority bfd authentication passphrase description \
     comments custom_fields tags { slug } instance { id name device { id } } \
     area { id area_id } interface { id name }";

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
    let routing = routing_plugin_installed(ctx).await?;
    // One read: the device's OSPF interfaces (with the plugin; their instances and areas
    // nested) and its newest adjacency journal entry (when there is a table to compare).
    let mut lists = Vec::new();
    if routing {
        lists.push(List::unpaged(
            "ospf_interface_list",
            json!({ "interface": { "device_id": ctx.device.id } }),
            OSPF_IFACE_FIELDS,
        ));
    }
    if !facts.neighbors.is_empty() {
        lists.push(
            List::new(
                "journal_entry_list",
                json!({
                    "assigned_object_type": graphql::content_type("dcim.device"),
                    "assigned_object_id": ctx.device.id,
                    "comments": { "starts_with": MARKER },
                }),
                "id comments",
            )
            .first(1),
        );
    }
    let mut read = graphql::read(&ctx.netbox, &lists).await?.into_iter();
    if routing {
        set.notes.push(
            "The NetBox routing plugin is installed: OSPF instances, areas and interfaces are \
             written to it."
                .into(),
        );
        let existing = read.next().unwrap_or_default();
        routing_objects(ctx, facts, existing, &mut set).await?;
    } else {
        set.notes.push(
            "The NetBox routing plugin (netbox-routing) is not installed: OSPF adjacencies are \
             kept as a journal entry on the device."
                .into(),
        );
    }
    let journal = read.next().unwrap_or_default();
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
    // NetBox lists journal entries newest first.
    let last = journal
        .first()
        .and_then(|j| j.get("comments"))
        .and_then(Value::as_str)
        .filter(|c| c.starts_with(MARKER))
        .map(str::to_string);
    if last.as_deref() == Some(table.as_str()) {
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

/// An interface the device runs OSPFv2 on.
#[derive(Debug, Clone, PartialEq)]
struct Want {
    instance: String,
    area: String,
    /// From the interface table; `None` when only a neighbour names the interface.
    passive: Option<bool>,
}

/// The interfaces the device reports OSPFv2 on (interface table first, then neighbours), by
/// interface name, within the plan's interface regex. Interfaces without an area are reported
/// (they keep their objects) but not written.
fn wanted(ctx: &Context, facts: &Ospf) -> (BTreeMap<String, Want>, BTreeSet<String>) {
    let mut wants: BTreeMap<String, Want> = BTreeMap::new();
    for i in facts
        .interfaces
        .iter()
        .filter(|i| i.version == OspfVersion::V2)
    {
        wants.insert(
            i.name.clone(),
            Want {
                instance: i.instance.clone(),
                area: i.area.clone(),
                passive: Some(i.passive),
            },
        );
    }
    for n in facts
        .neighbors
        .iter()
        .filter(|n| n.version == OspfVersion::V2)
    {
        wants.entry(n.interface.clone()).or_insert_with(|| Want {
            instance: n.instance.clone(),
            area: n.area.clone(),
            passive: None,
        });
    }
    wants.retain(|name, _| ctx.wants_interface(name));
    let reported = wants.keys().cloned().collect();
    wants.retain(|_, w| !w.area.is_empty());
    (wants, reported)
}

/// How an OSPF interface object differs from what the device reports: the patch (with
/// references still to resolve: `instance` and `area` hold names), the fields before, and a
/// description.
#[derive(Debug, Default, PartialEq)]
struct Drift {
    instance: Option<String>,
    area: Option<String>,
    passive: Option<bool>,
    before: serde_json::Map<String, Value>,
    text: Vec<String>,
}

impl Drift {
    fn is_empty(&self) -> bool {
        self.text.is_empty()
    }
}

fn drift(current: &Value, want: &Want) -> Drift {
    let mut d = Drift::default();
    let instance = current.pointer("/instance/name").and_then(Value::as_str);
    if instance != Some(want.instance.as_str()) {
        d.text.push(format!(
            "instance {} → {}",
            instance.unwrap_or("?"),
            want.instance
        ));
        d.instance = Some(want.instance.clone());
        d.before.insert(
            "instance".into(),
            current
                .pointer("/instance/id")
                .cloned()
                .unwrap_or(Value::Null),
        );
    }
    let area = current.pointer("/area/area_id").and_then(Value::as_str);
    if area != Some(want.area.as_str()) {
        d.text
            .push(format!("area {} → {}", area.unwrap_or("?"), want.area));
        d.area = Some(want.area.clone());
        d.before.insert(
            "area".into(),
            current.pointer("/area/id").cloned().unwrap_or(Value::Null),
        );
    }
    if let Some(p) = want.passive {
        let have = current.get("passive").and_then(Value::as_bool);
        if have != Some(p) {
            d.text.push(format!("passive {have:?} → {p}"));
            d.passive = Some(p);
            d.before.insert(
                "passive".into(),
                current.get("passive").cloned().unwrap_or(Value::Null),
            );
        }
    }
    d
}

/// The OSPF interface object of interface `name` among the device's.
fn existing_for<'a>(existing: &'a [Value], name: &str) -> Option<&'a Value> {
    existing
        .iter()
        .find(|o| o.pointer("/interface/name").and_then(Value::as_str) == Some(name))
}

/// netbox-routing objects for the OSPF facts of one device (see the module documentation).
async fn routing_objects(
    ctx: &Context,
    facts: &Ospf,
    existing: Vec<Value>,
    set: &mut ChangeSet,
) -> Result<(), ReconcileError> {
    let (wants, reported) = wanted(ctx, facts);
    let device_q = [("device_id".to_string(), ctx.device.id.to_string())];

    // What the existing objects already say: the device's instances and the areas by name.
    let mut instance_ids: BTreeMap<String, u64> = BTreeMap::new();
    let mut area_ids: BTreeMap<String, u64> = BTreeMap::new();
    for o in &existing {
        let on_device =
            o.pointer("/instance/device/id").and_then(Value::as_u64) == Some(ctx.device.id);
        if let (true, Some(name), Some(id)) = (
            on_device,
            o.pointer("/instance/name").and_then(Value::as_str),
            o.pointer("/instance/id").and_then(Value::as_u64),
        ) {
            instance_ids.insert(name.to_string(), id);
        }
        if let (Some(area), Some(id)) = (
            o.pointer("/area/area_id").and_then(Value::as_str),
            o.pointer("/area/id").and_then(Value::as_u64),
        ) {
            area_ids.insert(area.to_string(), id);
        }
    }

    // Drifted and unreported objects: their ownership decides what happens.
    let stale: Vec<&Value> = existing
        .iter()
        .filter(|o| {
            o.pointer("/interface/name")
                .and_then(Value::as_str)
                .is_some_and(|n| !reported.contains(n) && ctx.wants_interface(n))
        })
        .collect();
    let mut candidates: BTreeSet<u64> = stale.iter().filter_map(|o| id_of(o)).collect();
    for (name, want) in &wants {
        if let Some(o) = existing_for(&existing, name).filter(|o| !drift(o, want).is_empty()) {
            candidates.extend(id_of(o));
        }
    }
    // GraphQL returns the tags netbox-routing's REST API leaves out.
    let owned: BTreeSet<u64> = existing
        .iter()
        .filter(|o| is_owned(o))
        .filter_map(id_of)
        .filter(|id| candidates.contains(id))
        .collect();

    // Instances and areas, read only when the objects do not name them all (something is
    // created or moved), and the device's interfaces when an OSPF interface is created.
    if wants
        .values()
        .any(|w| !instance_ids.contains_key(&w.instance))
    {
        for i in ctx.netbox.list(INSTANCES, &device_q).await? {
            if let (Some(name), Some(id)) = (i.get("name").and_then(Value::as_str), id_of(&i)) {
                instance_ids.entry(name.to_string()).or_insert(id);
            }
        }
    }
    let unknown_areas: Vec<String> = wants
        .values()
        .map(|w| w.area.clone())
        .filter(|a| !area_ids.contains_key(a))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // `list_any` makes no request for an empty list of values.
    for a in ctx
        .netbox
        .list_any(AREAS, &[], "area_id", &unknown_areas)
        .await?
    {
        if let (Some(area), Some(id)) = (a.get("area_id").and_then(Value::as_str), id_of(&a)) {
            area_ids.entry(area.to_string()).or_insert(id);
        }
    }
    let netbox_ifaces = if wants
        .keys()
        .any(|name| existing_for(&existing, name).is_none())
    {
        ctx.netbox.list(IFACES, &device_q).await?
    } else {
        Vec::new()
    };
    let router_id = if wants
        .values()
        .any(|w| !instance_ids.contains_key(&w.instance))
    {
        Some(super::l2vpn::local_pe(ctx).await?).filter(|r| r.parse::<std::net::IpAddr>().is_ok())
    } else {
        None
    };

    // Instances (confirmed, created, or skipped without a router id) and areas.
    let mut instance_ref: BTreeMap<&str, Option<Value>> = BTreeMap::new();
    let mut area_ref: BTreeMap<&str, Value> = BTreeMap::new();
    for want in wants.values() {
        let name = want.instance.as_str();
        if !instance_ref.contains_key(name) {
            let label = format!("OSPF instance {name} on {}", ctx.device.name);
            let r = match (instance_ids.get(name), &router_id) {
                (Some(id), _) => {
                    set.push(
                        EntryState::Confirmed,
                        KIND_INSTANCE,
                        Some(*id),
                        label,
                        Operation::None,
                        "already in NetBox",
                        PHASE_PARENTS,
                    );
                    Some(json!(id))
                }
                (None, Some(router_id)) => {
                    let key = format!("ospf-instance:{name}");
                    set.push(
                        EntryState::New,
                        KIND_INSTANCE,
                        None,
                        label,
                        Operation::Create {
                            endpoint: INSTANCES.into(),
                            payload: json!({
                                "name": name, "device": ctx.device.id, "router_id": router_id,
                                "process_id": 1, "add_tags": add_owned_tags(),
                            }),
                            key: key.clone(),
                        },
                        "the device runs OSPF in this routing instance",
                        PHASE_PARENTS,
                    );
                    Some(json!({ "$ref": key }))
                }
                (None, None) => {
                    set.push(
                        EntryState::Skipped,
                        KIND_INSTANCE,
                        None,
                        label,
                        Operation::None,
                        "no router id: the device has no lo0.0 IPv4 address or primary IP in \
                         NetBox",
                        PHASE_PARENTS,
                    );
                    None
                }
            };
            instance_ref.insert(name, r);
        }
        let area = want.area.as_str();
        if !area_ref.contains_key(area) {
            let r = match area_ids.get(area) {
                Some(id) => json!(id),
                None => {
                    let key = format!("ospf-area:{area}");
                    let backbone = area == "0.0.0.0" || area == "0";
                    set.push(
                        EntryState::New,
                        KIND_AREA,
                        None,
                        format!("OSPF area {area}"),
                        Operation::Create {
                            endpoint: AREAS.into(),
                            payload: json!({
                                "area_id": area,
                                "area_type": if backbone { "backbone" } else { "standard" },
                                "add_tags": add_owned_tags(),
                            }),
                            key: key.clone(),
                        },
                        "an OSPF interface of the device is in it",
                        PHASE_PARENTS,
                    );
                    json!({ "$ref": key })
                }
            };
            area_ref.insert(area, r);
        }
    }

    // OSPF interfaces.
    for (name, want) in &wants {
        let label = format!("OSPF on {name} of {} (area {})", ctx.device.name, want.area);
        let instance = instance_ref.get(want.instance.as_str()).cloned().flatten();
        let area = area_ref.get(want.area.as_str()).cloned();
        let no_instance = || {
            format!(
                "no OSPF instance {} on the device (see its entry)",
                want.instance
            )
        };
        let Some(current) = existing_for(&existing, name) else {
            let Some(iface_id) = netbox_ifaces
                .iter()
                .find(|i| i.get("name").and_then(Value::as_str) == Some(name.as_str()))
                .and_then(id_of)
            else {
                set.push(
                    EntryState::Skipped,
                    KIND_IFACE,
                    None,
                    label,
                    Operation::None,
                    format!(
                        "interface {name} is not in NetBox (the interfaces collector creates it)"
                    ),
                    PHASE_IFACES,
                );
                continue;
            };
            let (Some(instance), Some(area)) = (instance, area) else {
                set.push(
                    EntryState::Skipped,
                    KIND_IFACE,
                    None,
                    label,
                    Operation::None,
                    no_instance(),
                    PHASE_IFACES,
                );
                continue;
            };
            let mut payload = json!({
                "instance": instance, "area": area, "interface": iface_id,
                "add_tags": add_owned_tags(),
            });
            if let Some(p) = want.passive {
                set_field(&mut payload, "passive", json!(p));
            }
            set.push(
                EntryState::New,
                KIND_IFACE,
                None,
                label,
                Operation::Create {
                    endpoint: OSPF_IFACES.into(),
                    payload,
                    key: format!("ospf-iface:{name}"),
                },
                "the interface runs OSPF",
                PHASE_IFACES,
            );
            continue;
        };
        let id = id_of(current);
        let d = drift(current, want);
        if d.is_empty() {
            set.push(
                EntryState::Confirmed,
                KIND_IFACE,
                id,
                label,
                Operation::None,
                "already in NetBox",
                PHASE_IFACES,
            );
            continue;
        }
        let Some(id) = id.filter(|id| owned.contains(id)) else {
            set.push(
                EntryState::Skipped,
                KIND_IFACE,
                id,
                label,
                Operation::None,
                format!(
                    "drift on an OSPF interface nbfacts does not own (left as is): {}",
                    d.text.join("; ")
                ),
                PHASE_IFACES,
            );
            continue;
        };
        let mut patch = serde_json::Map::new();
        if d.instance.is_some() {
            let Some(instance) = instance else {
                set.push(
                    EntryState::Skipped,
                    KIND_IFACE,
                    Some(id),
                    label,
                    Operation::None,
                    no_instance(),
                    PHASE_IFACES,
                );
                continue;
            };
            patch.insert("instance".into(), instance);
        }
        if let (Some(_), Some(area)) = (&d.area, area) {
            patch.insert("area".into(), area);
        }
        if let Some(p) = d.passive {
            patch.insert("passive".into(), json!(p));
        }
        set.push(
            EntryState::Changed,
            KIND_IFACE,
            Some(id),
            label,
            Operation::Update {
                endpoint: OSPF_IFACES.into(),
                id,
                patch: Value::Object(patch),
                before: Value::Object(d.before),
            },
            d.text.join("; "),
            PHASE_IFACES,
        );
    }

    // Stale: OSPF interfaces nbfacts created that the device no longer reports.
    for current in stale {
        let Some(id) = id_of(current).filter(|id| owned.contains(id)) else {
            continue;
        };
        let name = current
            .pointer("/interface/name")
            .and_then(Value::as_str)
            .unwrap_or("?");
        set.push(
            EntryState::Stale,
            KIND_IFACE,
            Some(id),
            format!("OSPF on {name} of {}", ctx.device.name),
            Operation::Delete {
                endpoint: OSPF_IFACES.into(),
                id,
                before: plugin_recreatable(current),
            },
            "created by nbfacts, no longer reported by the device",
            PHASE_STALE,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netbox::TAG_SLUG;

    /// An OSPF interface as netbox-routing 0.5.1 returns it (trimmed).
    fn object(instance: &str, area: &str, passive: Option<bool>) -> Value {
        json!({
            "id": 3,
            "instance": {"id": 7, "name": instance, "device": {"id": 1}},
            "area": {"id": 9, "area_id": area},
            "interface": {"id": 11, "name": "xe-0/0/0.0"},
            "passive": passive, "priority": null, "bfd": null,
        })
    }

    fn want(instance: &str, area: &str, passive: Option<bool>) -> Want {
        Want {
            instance: instance.into(),
            area: area.into(),
            passive,
        }
    }

    #[test]
    fn an_unchanged_interface_has_no_drift() {
        let o = object("master", "0.0.0.0", None);
        assert!(drift(&o, &want("master", "0.0.0.0", None)).is_empty());
        // Passive is only compared when the device's interface table says.
        let o = object("master", "0.0.0.0", Some(true));
        assert!(drift(&o, &want("master", "0.0.0.0", None)).is_empty());
        assert!(drift(&o, &want("master", "0.0.0.0", Some(true))).is_empty());
    }

    #[test]
    fn a_moved_interface_drifts_with_the_fields_before() {
        let o = object("master", "0.0.0.0", Some(false));
        let d = drift(&o, &want("blue", "0.0.0.1", Some(true)));
        assert_eq!(d.instance.as_deref(), Some("blue"));
        assert_eq!(d.area.as_deref(), Some("0.0.0.1"));
        assert_eq!(d.passive, Some(true));
        assert_eq!(
            Value::Object(d.before),
            json!({"instance": 7, "area": 9, "passive": false})
        );
        assert_eq!(d.text.len(), 3, "{:?}", d.text);
    }

    #[test]
    fn stale_objects_keep_their_tag_for_a_rollback() {
        let before = plugin_recreatable(&object("master", "0.0.0.0", None));
        assert_eq!(before["add_tags"], json!([{"slug": TAG_SLUG}]));
        assert!(before.get("passive").is_none(), "nulls are left out");
        assert_eq!(before["instance"]["id"], json!(7));
    }
}
