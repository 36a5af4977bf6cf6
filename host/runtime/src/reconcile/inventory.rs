//! The `inventory` collector into NetBox: the device serial number when it changed (with a
//! journal entry that also records OS version and host name), and inventory items for the
//! chassis parts (matched by name and parent, NetBox's uniqueness rule).

use std::collections::HashMap;

use nbfacts_sdk::Inventory;
use serde_json::{Value, json};

use crate::netbox::NetBoxError;

use super::{
    ChangeSet, Context, DEVICE_FIELDS, EntryState, Operation, ReconcileError, id_of, is_owned,
    owned_tags, projection, set_field,
};

const DEVICES: &str = "/api/dcim/devices/";
const ITEMS: &str = "/api/dcim/inventory-items/";
const JOURNAL: &str = "/api/extras/journal-entries/";

/// Builds the change set for the inventory facts of one device.
pub async fn reconcile(ctx: &Context, facts: &Inventory) -> Result<ChangeSet, ReconcileError> {
    let mut set = ChangeSet::new(&ctx.device.name, "inventory");
    // A list read by id with a projection, not the device's own URL: other devices' reads
    // share its request, and NetBox does not render the device's config context.
    let devices = ctx
        .netbox
        .list(
            DEVICES,
            &[
                ("id".to_string(), ctx.device.id.to_string()),
                projection(DEVICE_FIELDS),
            ],
        )
        .await?;
    let Some(device) = devices.iter().find(|d| id_of(d) == Some(ctx.device.id)) else {
        return Err(ReconcileError::NetBox(NetBoxError::Status {
            method: "GET".into(),
            path: format!("{DEVICES}?id={}", ctx.device.id),
            status: 404,
            message: format!("device {} is no longer in NetBox", ctx.device.name),
        }));
    };
    let serial = facts.facts.serial_number.trim();
    let current = device.get("serial").and_then(Value::as_str).unwrap_or("");
    let label = format!("serial of {}", ctx.device.name);
    if serial.is_empty() {
        set.push(
            EntryState::Skipped,
            "dcim.device",
            Some(ctx.device.id),
            label,
            Operation::None,
            "the device reported no serial number",
            0,
        );
    } else if serial == current {
        set.push(
            EntryState::Confirmed,
            "dcim.device",
            Some(ctx.device.id),
            label,
            Operation::None,
            "matches the device",
            0,
        );
    } else {
        set.push(
            EntryState::Changed,
            "dcim.device",
            Some(ctx.device.id),
            label,
            Operation::Update {
                endpoint: DEVICES.into(),
                id: ctx.device.id,
                patch: json!({ "serial": serial }),
                before: json!({ "serial": current }),
            },
            format!("serial {current:?} → {serial:?}"),
            0,
        );
        set.push(
            EntryState::New,
            "extras.journalentry",
            None,
            format!("journal of {}", ctx.device.name),
            Operation::Create {
                endpoint: JOURNAL.into(),
                payload: json!({
                    "assigned_object_type": "dcim.device",
                    "assigned_object_id": ctx.device.id,
                    "kind": if current.is_empty() { "info" } else { "warning" },
                    "comments": format!(
                        "nbfacts {}: serial {:?} → {:?}; model {}, OS {}, host name {}.",
                        ctx.now, current, serial, facts.facts.model, facts.facts.os_version, facts.facts.hostname
                    ),
                    "tags": owned_tags(),
                }),
                key: "journal:serial".into(),
            },
            "records the serial change",
            1,
        );
    }

    // Inventory items, parents first (the facts list parents before children).
    let existing = ctx
        .netbox
        .list(ITEMS, &[("device_id".into(), ctx.device.id.to_string())])
        .await?;
    let by_path: HashMap<(Option<u64>, &str), &Value> = existing
        .iter()
        .filter_map(|i| {
            Some((
                // `parent` is a plain id in NetBox 4 (a nested object in some versions).
                (
                    i.get("parent")
                        .and_then(|p| p.as_u64().or_else(|| p.get("id").and_then(Value::as_u64))),
                    i.get("name")?.as_str()?,
                ),
                i,
            ))
        })
        .collect();
    // Path (parents + name) → existing id or the key of the item created in this run.
    let mut known: HashMap<Vec<String>, Value> = HashMap::new();
    for item in &facts.items {
        if item.name.is_empty() {
            continue;
        }
        let mut path = item.parents.clone();
        path.push(item.name.clone());
        let parent_ref = if item.parents.is_empty() {
            Some(Value::Null)
        } else {
            known.get(&item.parents).cloned()
        };
        let Some(parent_ref) = parent_ref else {
            continue;
        };
        let label = format!("{} on {}", path.join(" / "), ctx.device.name);
        let name = truncate(&item.name, 64);
        let wanted = json!({
            "part_id": truncate(&item.part_number, 50),
            "serial": truncate(&item.serial_number, 50),
            "description": truncate(&item.description, 200),
        });
        let current = parent_ref
            .as_u64()
            .map(Some)
            .or_else(|| parent_ref.is_null().then_some(None))
            .and_then(|p| by_path.get(&(p, name.as_str())));
        match current {
            Some(cur) => {
                let id = id_of(cur);
                if let Some(id) = id {
                    known.insert(path.clone(), json!(id));
                }
                let mut patch = serde_json::Map::new();
                let mut before = serde_json::Map::new();
                for key in ["part_id", "serial", "description"] {
                    if cur.get(key) != wanted.get(key) {
                        patch.insert(key.into(), wanted.get(key).cloned().unwrap_or(Value::Null));
                        before.insert(key.into(), cur.get(key).cloned().unwrap_or(Value::Null));
                    }
                }
                match (patch.is_empty(), is_owned(cur), id) {
                    (true, _, _) => {
                        set.push(
                            EntryState::Confirmed,
                            "dcim.inventoryitem",
                            id,
                            label,
                            Operation::None,
                            "matches the device",
                            2,
                        );
                    }
                    (false, true, Some(id)) => {
                        set.push(
                            EntryState::Changed,
                            "dcim.inventoryitem",
                            Some(id),
                            label,
                            Operation::Update {
                                endpoint: ITEMS.into(),
                                id,
                                patch: Value::Object(patch),
                                before: Value::Object(before),
                            },
                            "part changed on the device",
                            2,
                        );
                    }
                    _ => {
                        set.push(
                            EntryState::Skipped,
                            "dcim.inventoryitem",
                            id,
                            label,
                            Operation::None,
                            "differs, but nbfacts does not own this item",
                            2,
                        );
                    }
                }
            }
            None => {
                let key = format!("item:{}", path.join("/"));
                let mut payload = json!({
                    "device": ctx.device.id,
                    "name": name,
                    "discovered": true,
                    "tags": owned_tags(),
                });
                if let (Some(obj), Some(w)) = (payload.as_object_mut(), wanted.as_object()) {
                    obj.extend(w.clone());
                }
                if !parent_ref.is_null() {
                    set_field(&mut payload, "parent", parent_ref.clone());
                }
                known.insert(path.clone(), json!({ "$ref": key }));
                let depth = u8::try_from(item.parents.len()).unwrap_or(u8::MAX).min(7);
                set.push(
                    EntryState::New,
                    "dcim.inventoryitem",
                    None,
                    label,
                    Operation::Create {
                        endpoint: ITEMS.into(),
                        payload,
                        key,
                    },
                    "chassis part reported by the device",
                    2 + depth,
                );
            }
        }
    }
    Ok(set)
}

fn truncate(s: &str, max: usize) -> String {
    s.trim().chars().take(max).collect()
}
