//! Change sets: what a collection would change in NetBox, entry by entry, with a reason a human
//! can read. Reconcilers produce them; the writer applies them (or stores them for review).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What an entry means for NetBox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryState {
    /// The object is missing and will be created.
    New,
    /// The object exists and differs; it will be updated.
    Changed,
    /// The object exists and matches; nothing to write.
    Confirmed,
    /// nbfacts owns the object but the device no longer reports it.
    Stale,
    /// The fact cannot be written (a rule says no); the reason says why.
    Skipped,
}

/// The NetBox operation of an entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Operation {
    /// Nothing to write.
    None,
    /// `POST endpoint` with `payload`. Other entries may refer to the created object through
    /// `{"$ref": key}` anywhere in their payload.
    Create {
        /// API path, e.g. `/api/dcim/interfaces/`.
        endpoint: String,
        /// The object to create.
        payload: Value,
        /// A name other entries use to refer to the new object.
        key: String,
    },
    /// `PATCH endpoint` for object `id` with the changed fields only.
    Update {
        /// API path of the list endpoint.
        endpoint: String,
        /// Object id.
        id: u64,
        /// The fields to change.
        patch: Value,
        /// The same fields before the change (for rollback and review).
        before: Value,
    },
    /// `DELETE` object `id` (only ever for objects nbfacts owns).
    Delete {
        /// API path of the list endpoint.
        endpoint: String,
        /// Object id.
        id: u64,
        /// The object before deletion.
        before: Value,
    },
}

impl Operation {
    /// The write order: objects others depend on first.
    pub fn endpoint(&self) -> Option<&str> {
        match self {
            Operation::None => None,
            Operation::Create { endpoint, .. }
            | Operation::Update { endpoint, .. }
            | Operation::Delete { endpoint, .. } => Some(endpoint),
        }
    }
}

/// One line of a change set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Position in the change set (stable; used to apply or skip entries one at a time).
    pub id: u32,
    /// New, changed, confirmed, stale or skipped.
    pub state: EntryState,
    /// NetBox object type, e.g. `dcim.interface`.
    pub object_type: String,
    /// The NetBox object id, when the object exists.
    pub object_id: Option<u64>,
    /// A short description of the object (`xe-0/0/1 on edge1`).
    pub label: String,
    /// The write.
    pub operation: Operation,
    /// Why, for a human.
    pub reason: String,
    /// Write phase: phase 0 entries are written before phase 1, and so on.
    pub phase: u8,
}

/// Everything one collection on one device would change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChangeSet {
    /// Device name.
    pub device: String,
    /// Collector name.
    pub collector: String,
    /// The entries, in the order they were reconciled.
    pub entries: Vec<Entry>,
    /// Informational lines (for example "the routing plugin is not installed").
    pub notes: Vec<String>,
}

impl ChangeSet {
    /// An empty change set.
    pub fn new(device: &str, collector: &str) -> Self {
        Self {
            device: device.to_string(),
            collector: collector.to_string(),
            ..Self::default()
        }
    }

    /// Adds an entry and returns its id.
    // Every argument is one field of the entry; a builder would only restate them.
    #[allow(clippy::too_many_arguments)]
    pub fn push(
        &mut self,
        state: EntryState,
        object_type: &str,
        object_id: Option<u64>,
        label: impl Into<String>,
        operation: Operation,
        reason: impl Into<String>,
        phase: u8,
    ) -> u32 {
        let id = u32::try_from(self.entries.len()).unwrap_or(u32::MAX);
        self.entries.push(Entry {
            id,
            state,
            object_type: object_type.to_string(),
            object_id,
            label: label.into(),
            operation,
            reason: reason.into(),
            phase,
        });
        id
    }

    /// Appends the entries and notes of `other` (same device), renumbering its entry ids.
    pub fn absorb(&mut self, other: ChangeSet) {
        for mut e in other.entries {
            e.id = u32::try_from(self.entries.len()).unwrap_or(u32::MAX);
            self.entries.push(e);
        }
        self.notes.extend(other.notes);
    }

    /// Counts by state: `(new, changed, confirmed, stale, skipped)`.
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for e in &self.entries {
            match e.state {
                EntryState::New => c.new += 1,
                EntryState::Changed => c.changed += 1,
                EntryState::Confirmed => c.confirmed += 1,
                EntryState::Stale => c.stale += 1,
                EntryState::Skipped => c.skipped += 1,
            }
        }
        c
    }

    /// True when applying would write nothing.
    pub fn is_noop(&self) -> bool {
        self.entries
            .iter()
            .all(|e| matches!(e.operation, Operation::None))
    }
}

/// Entry counts by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// New objects.
    pub new: usize,
    /// Changed objects.
    pub changed: usize,
    /// Unchanged objects.
    pub confirmed: usize,
    /// Owned objects no longer reported.
    pub stale: usize,
    /// Facts not written, with a reason.
    pub skipped: usize,
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} new, {} changed, {} confirmed, {} stale, {} skipped",
            self.new, self.changed, self.confirmed, self.stale, self.skipped
        )
    }
}
