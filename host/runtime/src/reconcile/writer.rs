//! Applying a change set to NetBox in bulk.
//!
//! Entries are written phase by phase; within a phase, creates, then updates, then deletes,
//! each grouped by endpoint into list requests (NetBox's bulk endpoints). NetBox's bulk create
//! is all-or-nothing, so when a batch is refused with a validation error the entries it names
//! are set aside with NetBox's message and the rest of the batch is sent again: one bad entry
//! never stops the others. A failure that is not a validation error (NetBox down, timeouts
//! after retries) stops the apply; everything written until then is in the outcome, so a job
//! records exactly what it did and a re-run continues from NetBox's real state.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::changeset::{ChangeSet, Entry, Operation};
use crate::netbox::{NetBox, NetBoxError};

/// Objects per bulk request.
const BATCH: usize = 250;

/// What the writer did to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Created by this apply.
    Created,
    /// Updated by this apply.
    Updated,
    /// Deleted by this apply.
    Deleted,
}

/// One object written, with enough to undo it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Written {
    /// The change-set entry.
    pub entry: u32,
    /// List endpoint of the object.
    pub endpoint: String,
    /// NetBox object id.
    pub id: u64,
    /// What was done.
    pub action: Action,
    /// The changed fields before (updates) or the whole object (deletes).
    pub before: Value,
    /// The object as NetBox returned it after the write (`null` for deletes).
    pub after: Value,
    /// When it was written, as a position in one order over every write of this process:
    /// a job's collections are recorded device by device, but their writes interleave (and
    /// depend on each other across devices: an LLDP cable between two devices, a BGP peer
    /// on another device's address), so rollback undoes writes by this, newest first.
    /// 0 in records made before it existed (their recorded order is used).
    #[serde(default)]
    pub seq: u64,
}

impl Written {
    /// A write made now.
    pub fn new(
        entry: u32,
        endpoint: &str,
        id: u64,
        action: Action,
        before: Value,
        after: Value,
    ) -> Self {
        Self {
            entry,
            endpoint: endpoint.to_string(),
            id,
            action,
            before,
            after,
            seq: next_seq(),
        }
    }
}

/// Nanoseconds since the Unix epoch, moved past the last value handed out, so values are
/// unique and increasing within a process (even if the clock steps back) and roughly ordered
/// across processes (a report applied later sorts after the job's own writes).
fn next_seq() -> u64 {
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    let mut last = LAST.load(Ordering::Relaxed);
    loop {
        let next = now.max(last + 1);
        match LAST.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next,
            Err(seen) => last = seen,
        }
    }
}

/// An entry NetBox refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refused {
    /// The change-set entry.
    pub entry: u32,
    /// NetBox's message.
    pub message: String,
}

/// The result of applying a change set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// Objects written, in write order.
    pub written: Vec<Written>,
    /// Entries NetBox refused (validation errors), with its message.
    pub refused: Vec<Refused>,
    /// The error that stopped the apply early, if any (every entry after it is unwritten).
    pub stopped: Option<String>,
}

/// Applies the entries of `set` whose ids are in `only` (all when `None`).
pub async fn apply(netbox: &NetBox, set: &ChangeSet, only: Option<&[u32]>) -> Outcome {
    apply_batched(netbox, set, only, BATCH).await
}

/// [`apply`] with at most `batch` objects per bulk request (1: one request per object, the
/// way a writer without bulk support works; benchmarks compare the two).
pub async fn apply_batched(
    netbox: &NetBox,
    set: &ChangeSet,
    only: Option<&[u32]>,
    batch: usize,
) -> Outcome {
    let batch = batch.max(1);
    let mut outcome = Outcome::default();
    let mut created: HashMap<String, u64> = HashMap::new();
    let selected: Vec<&Entry> = set
        .entries
        .iter()
        .filter(|e| only.is_none_or(|ids| ids.contains(&e.id)))
        .filter(|e| !matches!(e.operation, Operation::None))
        .collect();
    let mut phases: BTreeMap<u8, Vec<&Entry>> = BTreeMap::new();
    for e in selected {
        phases.entry(e.phase).or_default().push(e);
    }
    for entries in phases.values() {
        if let Err(e) = apply_phase(netbox, entries, batch, &mut created, &mut outcome).await {
            outcome.stopped = Some(e.to_string());
            return outcome;
        }
    }
    outcome
}

async fn apply_phase(
    netbox: &NetBox,
    entries: &[&Entry],
    batch: usize,
    created: &mut HashMap<String, u64>,
    outcome: &mut Outcome,
) -> Result<(), NetBoxError> {
    // Creates, grouped by endpoint (BTreeMap: a stable order between runs).
    let mut creates: BTreeMap<&str, Vec<(&Entry, &str, Value)>> = BTreeMap::new();
    let mut updates: BTreeMap<&str, Vec<(&Entry, u64, Value, &Value)>> = BTreeMap::new();
    let mut deletes: BTreeMap<&str, Vec<(&Entry, u64, &Value)>> = BTreeMap::new();
    for entry in entries {
        match &entry.operation {
            Operation::None => {}
            Operation::Create {
                endpoint,
                payload,
                key,
            } => match resolve_refs(payload, created) {
                Ok(p) => creates.entry(endpoint).or_default().push((entry, key, p)),
                Err(missing) => outcome.refused.push(Refused {
                    entry: entry.id,
                    message: format!("depends on `{missing}`, which was not created"),
                }),
            },
            Operation::Update {
                endpoint,
                id,
                patch,
                before,
            } => match resolve_refs(patch, created) {
                Ok(p) => updates
                    .entry(endpoint)
                    .or_default()
                    .push((entry, *id, p, before)),
                Err(missing) => outcome.refused.push(Refused {
                    entry: entry.id,
                    message: format!("depends on `{missing}`, which was not created"),
                }),
            },
            Operation::Delete {
                endpoint,
                id,
                before,
            } => deletes
                .entry(endpoint)
                .or_default()
                .push((entry, *id, before)),
        }
    }

    for (endpoint, items) in creates {
        for chunk in items.chunks(batch) {
            let mut pending: Vec<&(&Entry, &str, Value)> = chunk.iter().collect();
            // Refusals that name their items narrow the batch down; otherwise go one by one.
            for _ in 0..3 {
                if pending.is_empty() {
                    break;
                }
                let payloads: Vec<Value> = pending.iter().map(|(_, _, p)| p.clone()).collect();
                match netbox.create_many(endpoint, payloads).await {
                    Ok(objects) => {
                        for ((entry, key, _), object) in pending.iter().zip(objects) {
                            let id = object.get("id").and_then(Value::as_u64).unwrap_or(0);
                            created.insert((*key).to_string(), id);
                            outcome.written.push(Written::new(
                                entry.id,
                                endpoint,
                                id,
                                Action::Created,
                                Value::Null,
                                object,
                            ));
                        }
                        pending.clear();
                    }
                    Err(e) if e.is_validation() => {
                        let bad = refused_indexes(&e, pending.len());
                        if bad.is_empty() {
                            break;
                        }
                        let message = e.to_string();
                        let mut keep = Vec::new();
                        for (i, item) in pending.into_iter().enumerate() {
                            if bad.contains(&i) {
                                outcome.refused.push(Refused {
                                    entry: item.0.id,
                                    message: message.clone(),
                                });
                            } else {
                                keep.push(item);
                            }
                        }
                        pending = keep;
                    }
                    Err(e) => return Err(e),
                }
            }
            for (entry, key, payload) in pending {
                // Last resort: one by one.
                match netbox.create(endpoint, payload.clone()).await {
                    Ok(object) => {
                        let id = object.get("id").and_then(Value::as_u64).unwrap_or(0);
                        created.insert((*key).to_string(), id);
                        outcome.written.push(Written::new(
                            entry.id,
                            endpoint,
                            id,
                            Action::Created,
                            Value::Null,
                            object,
                        ));
                    }
                    Err(e) if e.is_validation() => outcome.refused.push(Refused {
                        entry: entry.id,
                        message: e.to_string(),
                    }),
                    Err(e) => return Err(e),
                }
            }
        }
    }

    for (endpoint, items) in updates {
        for chunk in items.chunks(batch) {
            let payloads: Vec<Value> = chunk.iter().map(|(_, id, p, _)| with_id(p, *id)).collect();
            match netbox.update_many(endpoint, payloads).await {
                Ok(objects) => {
                    for ((entry, _, _, before), object) in chunk.iter().zip(objects) {
                        outcome.written.push(Written::new(
                            entry.id,
                            endpoint,
                            id_of(&object),
                            Action::Updated,
                            (*before).clone(),
                            object,
                        ));
                    }
                }
                Err(e) if e.is_validation() => {
                    // Find the culprits one by one.
                    for (entry, id, patch, before) in chunk {
                        match netbox
                            .update_many(endpoint, vec![with_id(patch, *id)])
                            .await
                        {
                            Ok(mut objects) => {
                                let after = objects.pop().unwrap_or(Value::Null);
                                outcome.written.push(Written::new(
                                    entry.id,
                                    endpoint,
                                    id_of(&after),
                                    Action::Updated,
                                    (*before).clone(),
                                    after,
                                ))
                            }
                            Err(e) if e.is_validation() => outcome.refused.push(Refused {
                                entry: entry.id,
                                message: e.to_string(),
                            }),
                            Err(e) => return Err(e),
                        }
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    for (endpoint, items) in deletes {
        for chunk in items.chunks(batch) {
            let ids: Vec<u64> = chunk.iter().map(|(_, id, _)| *id).collect();
            netbox.delete_many(endpoint, &ids).await?;
            for (entry, id, before) in chunk {
                outcome.written.push(Written::new(
                    entry.id,
                    endpoint,
                    *id,
                    Action::Deleted,
                    (*before).clone(),
                    Value::Null,
                ));
            }
        }
    }
    Ok(())
}

fn id_of(object: &Value) -> u64 {
    object.get("id").and_then(Value::as_u64).unwrap_or(0)
}

/// The patch with its object id; id 0 means the patch carries it (an object created earlier in
/// the same apply, resolved from a reference).
fn with_id(patch: &Value, id: u64) -> Value {
    let mut p = patch.clone();
    if let Some(obj) = p
        .as_object_mut()
        .filter(|o| id != 0 || !o.contains_key("id"))
    {
        obj.insert("id".into(), Value::from(id));
    }
    p
}

/// Replaces every `{"$ref": key}` in `value` by the id created for `key`.
fn resolve_refs(value: &Value, created: &HashMap<String, u64>) -> Result<Value, String> {
    match value {
        Value::Object(m) => {
            if let (1, Some(Value::String(key))) = (m.len(), m.get("$ref")) {
                return created
                    .get(key)
                    .map(|id| Value::from(*id))
                    .ok_or_else(|| key.clone());
            }
            let mut out = serde_json::Map::new();
            for (k, v) in m {
                out.insert(k.clone(), resolve_refs(v, created)?);
            }
            Ok(Value::Object(out))
        }
        Value::Array(items) => items
            .iter()
            .map(|v| resolve_refs(v, created))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        other => Ok(other.clone()),
    }
}

/// The batch positions a validation error names. NetBox 4 answers a bulk create with
/// `{"detail": "1 of 2 objects could not be created.", "errors": [{"index": 1, …}]}`.
fn refused_indexes(e: &NetBoxError, len: usize) -> Vec<usize> {
    let text = e.to_string();
    let mut out = Vec::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("\"index\":") {
        rest = rest.get(at + 8..).unwrap_or("");
        let digits: String = rest
            .trim_start()
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        if let Some(i) = digits.parse::<usize>().ok().filter(|i| *i < len) {
            out.push(i);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn refs_resolve_or_name_the_missing_key() {
        let created: HashMap<String, u64> = [("iface:xe-0/0/1".to_string(), 42)].into();
        let v = json!({"assigned_object_id": {"$ref": "iface:xe-0/0/1"}, "x": [1]});
        assert_eq!(
            resolve_refs(&v, &created).unwrap(),
            json!({"assigned_object_id": 42, "x": [1]})
        );
        let v = json!({"a": {"$ref": "nope"}});
        assert_eq!(resolve_refs(&v, &created).unwrap_err(), "nope");
    }

    #[test]
    fn bulk_errors_name_their_items() {
        let e = NetBoxError::Status {
            method: "POST".into(),
            path: "/api/x/".into(),
            status: 400,
            message:
                r#"1 of 3 objects could not be created. [{"errors":{"site":["x"]},"index":1}]"#
                    .into(),
        };
        assert_eq!(refused_indexes(&e, 3), vec![1]);
        let e = NetBoxError::Status {
            method: "POST".into(),
            path: "/api/x/".into(),
            status: 400,
            message: "bad".into(),
        };
        assert!(refused_indexes(&e, 3).is_empty());
    }
}
