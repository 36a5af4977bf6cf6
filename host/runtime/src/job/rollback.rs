//! Undoing a job: restore what it changed, delete what it created, recreate what it deleted.
//!
//! Writes are undone newest first, so an object created by the job is deleted after the
//! objects that point at it. Before touching an object, its `last_updated` in NetBox is
//! compared with what the job left: an object changed since by someone else is not touched,
//! and the report names it.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::Job;
use crate::netbox::{NetBox, NetBoxError};
use crate::reconcile::{Action, Operation, Written};

/// What a rollback did, object by object.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RollbackReport {
    /// Objects deleted (the job had created them).
    pub deleted: Vec<String>,
    /// Objects restored to their earlier fields.
    pub restored: Vec<String>,
    /// Objects recreated (the job had deleted them), with their new ids.
    pub recreated: Vec<String>,
    /// Objects left alone, with the reason (changed since, already gone, NetBox refused).
    pub refused: Vec<String>,
}

impl RollbackReport {
    /// True when every write of the job was undone.
    pub fn complete(&self) -> bool {
        self.refused.is_empty()
    }
}

/// Undoes every write of `job` in NetBox. The job is marked rolled back when the report is
/// complete; a partial rollback can be run again after the refusals are dealt with.
///
/// Requests are batched: the current state of every object is read with a few list requests,
/// and consecutive undos on the same endpoint go out as one bulk request.
pub async fn rollback(netbox: &NetBox, job: &mut Job) -> Result<RollbackReport, NetBoxError> {
    let mut report = RollbackReport::default();
    let writes = writes_in_order(job);
    let mut ids: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for (w, _) in &writes {
        if w.action != Action::Deleted {
            ids.entry(w.endpoint.clone()).or_default().push(w.id);
        }
    }
    // The current state of every object the job created or updated.
    let mut current: HashMap<(String, u64), Value> = HashMap::new();
    for (endpoint, mut list) in ids {
        list.sort_unstable();
        list.dedup();
        for obj in read_by_id(netbox, &endpoint, &list).await? {
            if let Some(id) = obj.get("id").and_then(Value::as_u64) {
                current.insert((endpoint.clone(), id), obj);
            }
        }
    }

    // Undo newest first; consecutive undos of one kind on one endpoint form a batch.
    let mut batch: Vec<&Written> = Vec::new();
    for (w, keys) in writes.iter().rev() {
        if ends_batch(&batch, w) {
            undo_batch(netbox, &batch, &mut current, &mut report).await?;
            batch.clear();
        }
        let key = (w.endpoint.clone(), w.id);
        if w.action != Action::Deleted {
            let Some(now) = current.get(&key) else {
                if w.action == Action::Created {
                    // Gone already (deleted by hand, or with an object it belonged to).
                    report
                        .deleted
                        .push(format!("{} (already gone)", label_of(w)));
                } else {
                    report.refused.push(format!(
                        "{}: no longer exists in NetBox; nothing to restore",
                        label_of(w)
                    ));
                }
                continue;
            };
            if let Some(field) = changed_field(keys, &w.after, now) {
                report.refused.push(format!(
                    "{}: `{field}` was changed in NetBox since this job wrote it (last updated {}); left as it is",
                    label_of(w),
                    now.get("last_updated").and_then(Value::as_str).unwrap_or("?")
                ));
                continue;
            }
        }
        batch.push(w);
    }
    undo_batch(netbox, &batch, &mut current, &mut report).await?;

    if report.complete() {
        job.rolled_back = Some(crate::reconcile::rfc3339(std::time::SystemTime::now()));
        job.log("info", "rolled back");
    } else {
        job.log(
            "warning",
            format!(
                "rollback incomplete: {} object(s) left as they are",
                report.refused.len()
            ),
        );
    }
    Ok(report)
}

/// Every write of `job`, oldest first, with the fields it set: those are what "changed since
/// by someone else" is judged on (NetBox itself touches other fields, e.g. an interface's
/// cable).
///
/// The job records writes collection by collection, device by device, but devices write in
/// turns and depend on each other's objects (an LLDP cable on another device's interface, a
/// BGP peer on another device's address), so the order is each write's sequence number;
/// records made before writes had one keep their recorded order.
fn writes_in_order(job: &Job) -> Vec<(Written, Vec<String>)> {
    let mut writes = Vec::new();
    for r in &job.results {
        for w in &r.written {
            let op = r
                .changeset
                .as_ref()
                .and_then(|c| c.entries.iter().find(|e| e.id == w.entry))
                .map(|e| &e.operation);
            let keys = match op {
                Some(Operation::Create { payload, .. }) => keys_of(payload),
                Some(Operation::Update { patch, .. }) => keys_of(patch),
                _ => Vec::new(),
            };
            writes.push((w.clone(), keys));
        }
    }
    writes.sort_by_key(|(w, _)| w.seq);
    writes
}

/// The objects `ids` of `endpoint` that exist. An `id` filter reads up to a page of them at
/// once; endpoints that ignore it (netbox-routing 0.5.1 has no `id` filter, and answers with
/// the whole list) are noticed by the count of the answer and read one object at a time by
/// detail URL instead.
async fn read_by_id(
    netbox: &NetBox,
    endpoint: &str,
    ids: &[u64],
) -> Result<Vec<Value>, NetBoxError> {
    const PAGE: usize = 100;
    let mut out = Vec::new();
    for chunk in ids.chunks(PAGE) {
        let mut query: Vec<(String, String)> = chunk
            .iter()
            .map(|id| ("id".to_string(), id.to_string()))
            .collect();
        query.push(("limit".into(), PAGE.to_string()));
        let page = netbox.get(endpoint, &query).await?;
        let count = page.get("count").and_then(Value::as_u64);
        let results = page.get("results").and_then(Value::as_array);
        match (count, results) {
            (Some(n), Some(results)) if n <= chunk.len() as u64 => {
                out.extend(results.iter().cloned());
            }
            _ => {
                for id in chunk {
                    match netbox.get(&format!("{endpoint}{id}/"), &[]).await {
                        Ok(obj) => out.push(obj),
                        Err(e) if e.status() == Some(404) => {}
                        Err(e) => return Err(e),
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Objects NetBox deletes along with another one (`on_delete=CASCADE`) that a job does not
/// create itself: (endpoint, endpoint of the dependants, their filter on the object's id). An
/// object of the job with such dependants left is not deleted: the delete would take
/// other devices' objects with it. (netbox-routing's OSPF interfaces cascade from their area,
/// and an area is shared by every device in it.)
const CASCADES: &[(&str, &str, &str)] = &[(
    "/api/plugins/routing/ospf/area/",
    "/api/plugins/routing/ospf/interface/",
    "area_id",
)];

/// The created objects of `batch` that still have cascading dependants, with their count.
async fn cascading(
    netbox: &NetBox,
    batch: &[&Written],
) -> Result<HashMap<u64, usize>, NetBoxError> {
    let mut out = HashMap::new();
    let Some(first) = batch.first() else {
        return Ok(out);
    };
    for (endpoint, dependants, key) in CASCADES {
        if first.endpoint != *endpoint {
            continue;
        }
        let ids: Vec<String> = batch.iter().map(|w| w.id.to_string()).collect();
        for d in netbox.list_any(dependants, &[], key, &ids).await? {
            let parent = d
                .get(key.trim_end_matches("_id"))
                .and_then(|p| p.get("id").or(Some(p)))
                .and_then(Value::as_u64);
            if let Some(parent) = parent {
                *out.entry(parent).or_default() += 1;
            }
        }
    }
    Ok(out)
}

/// Undoes writes of one action on one endpoint: bulk first, one by one when NetBox refuses
/// the batch, so one protected object does not keep the others.
async fn undo_batch(
    netbox: &NetBox,
    batch: &[&Written],
    current: &mut HashMap<(String, u64), Value>,
    report: &mut RollbackReport,
) -> Result<(), NetBoxError> {
    let Some(first) = batch.first() else {
        return Ok(());
    };
    let endpoint = first.endpoint.as_str();
    match first.action {
        Action::Created => {
            let used = cascading(netbox, batch).await?;
            let mut ids = Vec::new();
            let mut kept = Vec::new();
            for w in batch {
                match used.get(&w.id) {
                    Some(n) => report.refused.push(format!(
                        "{}: not deleted: {n} object(s) made since depend on it and NetBox \
                         would delete them with it",
                        label_of(w)
                    )),
                    None => {
                        ids.push(w.id);
                        kept.push(*w);
                    }
                }
            }
            let batch = kept.as_slice();
            match netbox.delete_many(endpoint, &ids).await {
                Ok(()) => {
                    for w in batch {
                        current.remove(&(w.endpoint.clone(), w.id));
                        report.deleted.push(label_of(w));
                    }
                }
                Err(e) if refusal(&e) => {
                    for w in batch {
                        match netbox.delete_many(endpoint, &[w.id]).await {
                            Ok(()) => {
                                current.remove(&(w.endpoint.clone(), w.id));
                                report.deleted.push(label_of(w));
                            }
                            // Deleted since it was read: with an object it belonged to, or by
                            // a bulk request whose answer was lost and that was sent again.
                            Err(e) if gone(&e) => {
                                current.remove(&(w.endpoint.clone(), w.id));
                                report
                                    .deleted
                                    .push(format!("{} (already gone)", label_of(w)));
                            }
                            Err(e) if refusal(&e) => report
                                .refused
                                .push(format!("{}: cannot delete: {e}", label_of(w))),
                            Err(e) => return Err(e),
                        }
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Action::Updated => {
            let patches: Vec<Value> = batch.iter().map(|w| restore_patch(w)).collect();
            let restored = match netbox.update_many(endpoint, patches).await {
                Ok(objects) => objects,
                Err(e) if refusal(&e) => {
                    let mut objects = Vec::new();
                    for w in batch {
                        match netbox.update_many(endpoint, vec![restore_patch(w)]).await {
                            Ok(mut o) => objects.append(&mut o),
                            Err(e) if refusal(&e) => report
                                .refused
                                .push(format!("{}: cannot restore: {e}", label_of(w))),
                            Err(e) => return Err(e),
                        }
                    }
                    objects
                }
                Err(e) => return Err(e),
            };
            for obj in restored {
                let id = obj.get("id").and_then(Value::as_u64).unwrap_or(0);
                if let Some(w) = batch.iter().find(|w| w.id == id) {
                    report.restored.push(label_of(w));
                }
                current.insert((endpoint.to_string(), id), obj);
            }
        }
        Action::Deleted => {
            for w in batch {
                match netbox.create(endpoint, writable(&w.before)).await {
                    Ok(obj) => report.recreated.push(format!(
                        "{} (now id {})",
                        label_of(w),
                        obj.get("id").and_then(Value::as_u64).unwrap_or(0)
                    )),
                    Err(e) if refusal(&e) => report
                        .refused
                        .push(format!("{}: cannot recreate: {e}", label_of(w))),
                    Err(e) => return Err(e),
                }
            }
        }
    }
    Ok(())
}

/// Objects per undo request: NetBox deletes (and change-logs) bulk deletes object by object,
/// so a request of thousands outlasts the client's timeout.
const UNDO_BATCH: usize = 250;

/// True when `next` cannot join `batch`: the batch is full, another kind of undo, another
/// endpoint, or an object the batch already undoes a newer write of (two collectors of one
/// job can update one object; the older write is judged against what undoing the newer one
/// leaves, not against what the newer one wrote).
fn ends_batch(batch: &[&Written], next: &Written) -> bool {
    batch.first().is_some_and(|b| {
        batch.len() >= UNDO_BATCH
            || b.endpoint != next.endpoint
            || b.action != next.action
            || batch.iter().any(|w| w.id == next.id)
    })
}

fn keys_of(fields: &Value) -> Vec<String> {
    fields
        .as_object()
        .map(|m| m.keys().filter(|k| *k != "id").cloned().collect())
        .unwrap_or_default()
}

/// The first of `keys` whose value differs between what the job left (`after`) and NetBox
/// now, compared in request form (nested objects as ids, choices as values).
fn changed_field(keys: &[String], after: &Value, now: &Value) -> Option<String> {
    keys.iter()
        .find(|k| {
            let a = after.get(k.as_str()).map(flatten_field);
            let b = now.get(k.as_str()).map(flatten_field);
            a != b
        })
        .cloned()
}

fn flatten_field(v: &Value) -> Value {
    match v {
        Value::Array(items) if items.iter().all(|t| t.get("slug").is_some()) => {
            let mut slugs: Vec<String> = items
                .iter()
                .filter_map(|t| t.get("slug").and_then(Value::as_str).map(str::to_string))
                .collect();
            slugs.sort();
            Value::from(slugs)
        }
        other => flatten(other),
    }
}

/// NetBox answered that the object does not exist: 404 for one object, 400 naming the id
/// for a bulk request.
fn gone(e: &NetBoxError) -> bool {
    match e {
        NetBoxError::Status { status: 404, .. } => true,
        NetBoxError::Status {
            status: 400,
            message,
            ..
        } => message.contains("does not exist"),
        _ => false,
    }
}

/// NetBox said no (validation, protected object, conflict), as opposed to failing.
fn refusal(e: &NetBoxError) -> bool {
    e.is_validation() || matches!(e.status(), Some(404 | 409))
}

fn restore_patch(w: &Written) -> Value {
    let mut patch = writable(&w.before);
    if let Some(m) = patch.as_object_mut() {
        m.insert("id".into(), Value::from(w.id));
    }
    patch
}

fn label_of(w: &Written) -> String {
    let object = if w.after.is_null() {
        &w.before
    } else {
        &w.after
    };
    let display = object
        .get("display")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let kind = w
        .endpoint
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    if display.is_empty() {
        format!("{kind} {}", w.id)
    } else {
        format!("{kind} {} ({display})", w.id)
    }
}

/// An object as NetBox returned it, turned back into a request body: read-only fields
/// dropped, nested objects replaced by their ids, choices by their values, tags by slugs.
fn writable(object: &Value) -> Value {
    const READ_ONLY: &[&str] = &[
        "id",
        "url",
        "display",
        "display_url",
        "created",
        "last_updated",
        "_occupied",
        "cable_end",
        "link_peers",
        "link_peers_type",
        "connected_endpoints",
        "connected_endpoints_type",
        "connected_endpoints_reachable",
        "_depth",
        "count_ipaddresses",
        "count_fhrp_groups",
        "family",
    ];
    let Some(map) = object.as_object() else {
        return object.clone();
    };
    let mut out = Map::new();
    for (k, v) in map {
        if READ_ONLY.contains(&k.as_str()) {
            continue;
        }
        let value = if k == "tags" {
            Value::Array(
                v.as_array()
                    .map(|tags| {
                        tags.iter()
                            .filter_map(|t| t.get("slug").cloned())
                            .map(|slug| serde_json::json!({ "slug": slug }))
                            .collect()
                    })
                    .unwrap_or_default(),
            )
        } else {
            flatten(v)
        };
        out.insert(k.clone(), value);
    }
    Value::Object(out)
}

fn flatten(v: &Value) -> Value {
    match v {
        Value::Object(m) if m.contains_key("id") => m.get("id").cloned().unwrap_or(Value::Null),
        Value::Object(m) if m.contains_key("value") && m.contains_key("label") => {
            m.get("value").cloned().unwrap_or(Value::Null)
        }
        Value::Array(items) => Value::Array(items.iter().map(flatten).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn writable_drops_read_only_fields_and_flattens_references() {
        let obj = json!({
            "id": 5, "url": "x", "display": "xe-0/0/0", "name": "xe-0/0/0",
            "device": {"id": 3, "name": "edge1"}, "type": {"value": "10gbase-x-sfpp", "label": "SFP+"},
            "tags": [{"id": 1, "slug": "automatically-discovered", "name": "A"}],
            "custom_fields": {"nbfacts_last_seen": "2026-01-01T00:00:00Z"},
            "last_updated": "t"
        });
        assert_eq!(
            writable(&obj),
            json!({
                "name": "xe-0/0/0", "device": 3, "type": "10gbase-x-sfpp",
                "tags": [{"slug": "automatically-discovered"}],
                "custom_fields": {"nbfacts_last_seen": "2026-01-01T00:00:00Z"}
            })
        );
    }

    #[test]
    fn a_second_write_of_one_object_starts_a_new_batch() {
        let update = |entry, id| Written {
            entry,
            endpoint: "/api/ipam/ip-addresses/".into(),
            id,
            action: Action::Updated,
            before: json!({}),
            after: json!({}),
            seq: 0,
        };
        let (a, b, c) = (update(1, 10), update(2, 11), update(3, 10));
        // Undone newest first: c (id 10) and b (id 11) share a request; a (id 10 again) waits
        // until c is undone, so it is judged against what undoing c leaves.
        assert!(!ends_batch(&[&c], &b));
        assert!(ends_batch(&[&c, &b], &a));
        assert!(!ends_batch(&[], &a));
        let full: Vec<Written> = (0..UNDO_BATCH as u64).map(|i| update(0, 100 + i)).collect();
        let full: Vec<&Written> = full.iter().collect();
        assert!(ends_batch(&full, &b));
        assert!(!ends_batch(&full[1..], &b));
        let created = Written {
            action: Action::Created,
            ..update(4, 12)
        };
        assert!(ends_batch(&[&b], &created));
    }

    #[test]
    fn writes_are_undone_in_the_order_they_were_made_across_devices() {
        use crate::job::CollectionResult;
        let write = |id, seq| Written {
            entry: 0,
            endpoint: "/api/dcim/interfaces/".into(),
            id,
            action: Action::Created,
            before: Value::Null,
            after: json!({}),
            seq,
        };
        // Device a finished first, so its results come first, but b wrote its interface (1)
        // before a's LLDP collection cabled it (2): the cable must be undone first.
        let mut job = Job::new("t", crate::job::Mode::Apply);
        job.results.push(CollectionResult {
            device: "a".into(),
            collector: "lldp".into(),
            written: vec![write(2, 20)],
            ..CollectionResult::default()
        });
        job.results.push(CollectionResult {
            device: "b".into(),
            collector: "interfaces".into(),
            written: vec![write(1, 10), write(3, 30)],
            ..CollectionResult::default()
        });
        let order: Vec<u64> = writes_in_order(&job).iter().map(|(w, _)| w.id).collect();
        assert_eq!(order, vec![1, 2, 3]);

        // Records without sequence numbers keep their recorded order.
        for r in &mut job.results {
            for w in &mut r.written {
                w.seq = 0;
            }
        }
        let order: Vec<u64> = writes_in_order(&job).iter().map(|(w, _)| w.id).collect();
        assert_eq!(order, vec![2, 1, 3]);
    }

    #[test]
    fn sequence_numbers_increase() {
        let a = Written::new(0, "/x/", 1, Action::Created, Value::Null, Value::Null);
        let b = Written::new(0, "/x/", 2, Action::Created, Value::Null, Value::Null);
        assert!(b.seq > a.seq);
    }

    #[test]
    fn an_object_already_gone_is_told_from_a_refusal() {
        let status = |status, message: &str| NetBoxError::Status {
            method: "DELETE".into(),
            path: "/api/dcim/mac-addresses/".into(),
            status,
            message: message.into(),
        };
        assert!(gone(&status(404, "Not found.")));
        assert!(gone(&status(
            400,
            r#"[{"errors":{"id":["Object with ID 6125 does not exist"]},"id":6125}]"#
        )));
        assert!(!gone(&status(
            409,
            "Unable to delete: 1 dependent object(s) prevent deletion."
        )));
        assert!(!gone(&status(400, "name: This field is required.")));
    }
}
