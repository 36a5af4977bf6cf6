//! The embedded store: jobs, their change sets, plans and schedule state in one redb file.
//!
//! Records are JSON values, so adding a field to a record never needs a migration (serde
//! defaults fill it in). A job's change sets are kept apart from its record, one per (device,
//! collector): a report over a thousand devices holds gigabytes of proposed objects, and
//! listing jobs, waiting for one or reviewing one device must not read them all.
//!
//! redb rather than sled: it is maintained, its file format is stable and every write is an
//! ACID transaction, so a crash never leaves a job half-recorded.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use super::{CollectionResult, Job};
use crate::reconcile::ChangeSet;

const JOBS: TableDefinition<u64, &[u8]> = TableDefinition::new("jobs");
/// Change sets by (job id, device, collector).
const CHANGESETS: TableDefinition<(u64, &str, &str), &[u8]> = TableDefinition::new("changesets");
const COUNTERS: TableDefinition<&str, u64> = TableDefinition::new("counters");
const PLANS: TableDefinition<&str, &[u8]> = TableDefinition::new("plans");
const PLAN_STATE: TableDefinition<&str, &[u8]> = TableDefinition::new("plan_state");

/// What the scheduler remembers about a plan between restarts.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PlanState {
    /// When the last run was started (seconds since the Unix epoch).
    pub last_run: Option<u64>,
    /// Its job.
    pub last_job: Option<u64>,
    /// How it ended (`None` while running).
    pub last_result: Option<super::JobState>,
}

/// The store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database file could not be opened or written.
    #[error("store {path}: {message}")]
    Database {
        /// The database file.
        path: PathBuf,
        /// What redb said.
        message: String,
    },
    /// A record could not be decoded (written by an incompatible version).
    #[error("store {path}: record {key} is unreadable: {message}")]
    Record {
        /// The database file.
        path: PathBuf,
        /// The record key.
        key: u64,
        /// The decode error.
        message: String,
    },
    /// No job with that id.
    #[error("no job {0} in the store")]
    NoSuchJob(u64),
}

/// The embedded store. Cheap to clone; safe to share between tasks.
///
/// The database file is opened for each operation and closed after it, so several nbfacts
/// processes share one store (`nbfacts serve` runs while `nbfacts plan add` or `nbfacts job
/// show` are used): redb locks the file while it is open, and an operation finding it locked
/// waits (up to [`LOCK_WAIT`]) instead of failing.
#[derive(Debug, Clone)]
pub struct Store {
    slot: Arc<std::sync::Mutex<Slot>>,
    path: PathBuf,
}

/// The open database, if any, and when it was last used.
#[derive(Debug)]
struct Slot {
    db: Option<Database>,
    used: std::time::Instant,
}

impl Slot {
    fn get(&self, path: &Path) -> Result<&Database, StoreError> {
        self.db.as_ref().ok_or_else(|| StoreError::Database {
            path: path.to_path_buf(),
            message: "the store is not open".into(),
        })
    }
}

/// An open store is closed after this long without use, so other processes get their turn.
const IDLE_CLOSE: std::time::Duration = std::time::Duration::from_millis(100);

/// redb's page cache (its default is 1 GiB). The store is written in bursts (a run's change
/// sets, up to 32 MiB per transaction) and read one record at a time, so a small cache costs
/// little time; with the default, storing a thousand devices' change sets kept most of them
/// in memory. 16 MiB together with a spill queue of 16 change sets took a fleet report's host
/// peak RSS from 313 to 268 MiB at the same wall time (64 MiB and 64 sets before).
const CACHE_BYTES: usize = 16 << 20;

/// How long an operation waits for another process to release the store.
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

impl Store {
    /// Opens (creating if missing) the store at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        if let Some(parent) = path.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        let store = Self {
            slot: Arc::new(std::sync::Mutex::new(Slot {
                db: None,
                used: std::time::Instant::now(),
            })),
            path,
        };
        // Close the file when idle; the thread ends with the last clone of the store.
        let weak = Arc::downgrade(&store.slot);
        let _ = std::thread::Builder::new()
            .name("nbfacts-store".into())
            .spawn(move || {
                while let Some(slot) = weak.upgrade() {
                    {
                        let mut slot = slot.lock().unwrap_or_else(|p| p.into_inner());
                        if slot.db.is_some() && slot.used.elapsed() >= IDLE_CLOSE {
                            slot.db = None;
                        }
                    }
                    drop(slot);
                    std::thread::sleep(IDLE_CLOSE / 2);
                }
            });
        // Create the tables so that readers never see them missing.
        store.write(|txn| {
            txn.open_table(JOBS)?;
            txn.open_table(CHANGESETS)?;
            txn.open_table(COUNTERS)?;
            txn.open_table(PLANS)?;
            txn.open_table(PLAN_STATE)?;
            Ok(())
        })?;
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn db_error(&self, e: impl std::fmt::Display) -> StoreError {
        StoreError::Database {
            path: self.path.clone(),
            message: e.to_string(),
        }
    }

    /// The open database (opened if needed), waiting while another process has it open.
    fn db(&self) -> Result<std::sync::MutexGuard<'_, Slot>, StoreError> {
        let mut slot = self.slot.lock().unwrap_or_else(|p| p.into_inner());
        slot.used = std::time::Instant::now();
        if slot.db.is_some() {
            return Ok(slot);
        }
        let deadline = std::time::Instant::now() + LOCK_WAIT;
        loop {
            match Database::builder()
                .set_cache_size(CACHE_BYTES)
                .create(&self.path)
            {
                Ok(db) => {
                    slot.db = Some(db);
                    return Ok(slot);
                }
                Err(redb::DatabaseError::DatabaseAlreadyOpen)
                    if std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(redb::DatabaseError::DatabaseAlreadyOpen) => {
                    return Err(StoreError::Database {
                        path: self.path.clone(),
                        message: format!(
                            "another nbfacts process kept the store open for {} s",
                            LOCK_WAIT.as_secs()
                        ),
                    });
                }
                Err(e) => return Err(self.db_error(e)),
            }
        }
    }

    fn write<T>(
        &self,
        f: impl FnOnce(&redb::WriteTransaction) -> Result<T, redb::Error>,
    ) -> Result<T, StoreError> {
        self.write_with(redb::Durability::Immediate, f)
    }

    fn write_with<T>(
        &self,
        durability: redb::Durability,
        f: impl FnOnce(&redb::WriteTransaction) -> Result<T, redb::Error>,
    ) -> Result<T, StoreError> {
        let slot = self.db()?;
        let db = slot.get(&self.path)?;
        let mut txn = db.begin_write().map_err(|e| self.db_error(e))?;
        txn.set_durability(durability)
            .map_err(|e| self.db_error(e))?;
        let value = f(&txn).map_err(|e| self.db_error(e))?;
        txn.commit().map_err(|e| self.db_error(e))?;
        Ok(value)
    }

    /// Records a new job, assigning its id (1, 2, …), and returns the id.
    pub fn create_job(&self, job: &mut Job) -> Result<u64, StoreError> {
        let path = self.path.clone();
        self.write(|txn| {
            let mut counters = txn.open_table(COUNTERS)?;
            let next = counters.get("job")?.map(|v| v.value()).unwrap_or(0) + 1;
            counters.insert("job", next)?;
            job.id = next;
            let bytes = serde_json::to_vec(&*job).map_err(|e| {
                redb::Error::Io(std::io::Error::other(format!(
                    "{}: cannot encode job: {e}",
                    path.display()
                )))
            })?;
            txn.open_table(JOBS)?.insert(next, bytes.as_slice())?;
            Ok(next)
        })
    }

    /// Records several new jobs in one transaction (one disk sync), assigning their ids.
    pub fn create_jobs(&self, jobs: &mut [Job]) -> Result<(), StoreError> {
        let path = self.path.clone();
        self.write(|txn| {
            let mut counters = txn.open_table(COUNTERS)?;
            let mut next = counters.get("job")?.map(|v| v.value()).unwrap_or(0);
            let mut table = txn.open_table(JOBS)?;
            for job in jobs.iter_mut() {
                next += 1;
                job.id = next;
                let bytes = serde_json::to_vec(&*job).map_err(|e| {
                    redb::Error::Io(std::io::Error::other(format!(
                        "{}: cannot encode job: {e}",
                        path.display()
                    )))
                })?;
                table.insert(next, bytes.as_slice())?;
            }
            counters.insert("job", next)?;
            Ok(())
        })
    }

    /// Every plan's schedule state, by plan name.
    pub fn plan_states(&self) -> Result<std::collections::HashMap<String, PlanState>, StoreError> {
        let slot = self.db()?;
        let db = slot.get(&self.path)?;
        let txn = db.begin_read().map_err(|e| self.db_error(e))?;
        let table = txn.open_table(PLAN_STATE).map_err(|e| self.db_error(e))?;
        let mut out = std::collections::HashMap::new();
        for item in table.iter().map_err(|e| self.db_error(e))? {
            let (key, value) = item.map_err(|e| self.db_error(e))?;
            if let Ok(state) = serde_json::from_slice(value.value()) {
                out.insert(key.value().to_string(), state);
            }
        }
        Ok(out)
    }

    /// Replaces the stored record of `job` (by its id), and stores the change sets it holds in
    /// memory (those already stored, see [`super::Sink::with_store`], stay as they are).
    pub fn put_job(&self, job: &Job) -> Result<(), StoreError> {
        // The record without its change sets. Every field is named, so a field added to
        // `Job` cannot be forgotten here.
        let record = Job {
            id: job.id,
            name: job.name.clone(),
            mode: job.mode,
            state: job.state,
            created: job.created.clone(),
            started: job.started.clone(),
            finished: job.finished.clone(),
            branch: job.branch.clone(),
            results: job
                .results
                .iter()
                .map(CollectionResult::without_changeset)
                .collect(),
            log: job.log.clone(),
            rolled_back: job.rolled_back.clone(),
            cancelled: job.cancelled,
            trigger: job.trigger.clone(),
        };
        let bytes = serde_json::to_vec(&record).map_err(|e| self.db_error(e))?;
        let sets = job
            .results
            .iter()
            .filter_map(|r| {
                let set = r.changeset.as_ref()?;
                Some(
                    serde_json::to_vec(set)
                        .map(|b| (r.device.as_str(), r.collector.as_str(), b))
                        .map_err(|e| self.db_error(e)),
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.write(|txn| {
            txn.open_table(JOBS)?.insert(job.id, bytes.as_slice())?;
            let mut table = txn.open_table(CHANGESETS)?;
            for (device, collector, bytes) in &sets {
                table.insert((job.id, *device, *collector), bytes.as_slice())?;
            }
            Ok(())
        })
    }

    /// Replaces job `id`'s record with `bytes` as they are (tests of older records).
    #[cfg(test)]
    pub(crate) fn put_raw_job(&self, id: u64, bytes: &[u8]) -> Result<(), StoreError> {
        self.write(|txn| {
            txn.open_table(JOBS)?.insert(id, bytes)?;
            Ok(())
        })
    }

    /// Stores change sets of job `job` (device, collector, JSON) in one transaction.
    ///
    /// The transaction is not flushed to disk: the job's record, saved when the run ends, is,
    /// and that makes these durable too (so does closing the store). A run that dies first
    /// loses them, but its job record still says "running" then, never "completed" without
    /// them. A fleet report of 1,000 devices took 59 s so, 61–70 s with each 32 MiB transaction
    /// flushed, and 144 s with 8 MiB ones.
    pub(crate) fn put_changesets(
        &self,
        job: u64,
        sets: &[(String, String, Vec<u8>)],
    ) -> Result<(), StoreError> {
        self.write_with(redb::Durability::None, |txn| {
            let mut table = txn.open_table(CHANGESETS)?;
            for (device, collector, bytes) in sets {
                table.insert((job, device.as_str(), collector.as_str()), bytes.as_slice())?;
            }
            Ok(())
        })
    }

    /// The job with id `id`, with every change set it computed.
    pub fn job(&self, id: u64) -> Result<Job, StoreError> {
        let mut job = self.job_summary(id)?;
        let slot = self.db()?;
        let db = slot.get(&self.path)?;
        let txn = db.begin_read().map_err(|e| self.db_error(e))?;
        let table = txn.open_table(CHANGESETS).map_err(|e| self.db_error(e))?;
        for r in job.results.iter_mut().filter(|r| r.changeset.is_none()) {
            let key = (id, r.device.as_str(), r.collector.as_str());
            if let Some(value) = table.get(key).map_err(|e| self.db_error(e))? {
                r.changeset = Some(self.decode_set(key, value.value())?);
            }
        }
        Ok(job)
    }

    /// The job with id `id` without its change sets (their entry counts are in the results).
    pub fn job_summary(&self, id: u64) -> Result<Job, StoreError> {
        let slot = self.db()?;
        let db = slot.get(&self.path)?;
        let txn = db.begin_read().map_err(|e| self.db_error(e))?;
        let table = txn.open_table(JOBS).map_err(|e| self.db_error(e))?;
        let value = table
            .get(id)
            .map_err(|e| self.db_error(e))?
            .ok_or(StoreError::NoSuchJob(id))?;
        self.decode(id, value.value())
    }

    /// The change set of (`device`, `collector`) in job `job`, if it has one.
    pub fn changeset(
        &self,
        job: u64,
        device: &str,
        collector: &str,
    ) -> Result<Option<ChangeSet>, StoreError> {
        let slot = self.db()?;
        let db = slot.get(&self.path)?;
        let txn = db.begin_read().map_err(|e| self.db_error(e))?;
        let table = txn.open_table(CHANGESETS).map_err(|e| self.db_error(e))?;
        if let Some(value) = table
            .get((job, device, collector))
            .map_err(|e| self.db_error(e))?
        {
            return self
                .decode_set((job, device, collector), value.value())
                .map(Some);
        }
        // Records written before change sets were kept apart carry them inline.
        drop((table, txn));
        drop(slot);
        let record = self.job_summary(job)?;
        Ok(record
            .results
            .into_iter()
            .find(|r| r.device == device && r.collector == collector)
            .and_then(|r| r.changeset))
    }

    /// Every job without its change sets, newest first.
    pub fn jobs(&self) -> Result<Vec<Job>, StoreError> {
        let slot = self.db()?;
        let db = slot.get(&self.path)?;
        let txn = db.begin_read().map_err(|e| self.db_error(e))?;
        let table = txn.open_table(JOBS).map_err(|e| self.db_error(e))?;
        let mut jobs = Vec::new();
        for item in table.iter().map_err(|e| self.db_error(e))?.rev() {
            let (key, value) = item.map_err(|e| self.db_error(e))?;
            jobs.push(self.decode(key.value(), value.value())?);
        }
        Ok(jobs)
    }

    /// Adds or replaces a plan.
    pub fn put_plan(&self, plan: &crate::plan::Plan) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(plan).map_err(|e| self.db_error(e))?;
        self.write(|txn| {
            txn.open_table(PLANS)?
                .insert(plan.name.as_str(), bytes.as_slice())?;
            Ok(())
        })
    }

    /// Removes a plan (and its schedule state); false when there was none.
    pub fn remove_plan(&self, name: &str) -> Result<bool, StoreError> {
        self.write(|txn| {
            txn.open_table(PLAN_STATE)?.remove(name)?;
            let removed = txn.open_table(PLANS)?.remove(name)?.is_some();
            Ok(removed)
        })
    }

    /// The plan named `name`.
    pub fn plan(&self, name: &str) -> Result<Option<crate::plan::Plan>, StoreError> {
        self.get_json(PLANS, name)
    }

    /// Every plan, by name.
    pub fn plans(&self) -> Result<Vec<crate::plan::Plan>, StoreError> {
        let slot = self.db()?;
        let db = slot.get(&self.path)?;
        let txn = db.begin_read().map_err(|e| self.db_error(e))?;
        let table = txn.open_table(PLANS).map_err(|e| self.db_error(e))?;
        let mut out = Vec::new();
        for item in table.iter().map_err(|e| self.db_error(e))? {
            let (_, value) = item.map_err(|e| self.db_error(e))?;
            out.push(
                serde_json::from_slice(value.value()).map_err(|e| StoreError::Record {
                    path: self.path.clone(),
                    key: 0,
                    message: e.to_string(),
                })?,
            );
        }
        Ok(out)
    }

    /// A plan's schedule state (default when it never ran).
    pub fn plan_state(&self, name: &str) -> Result<PlanState, StoreError> {
        Ok(self.get_json(PLAN_STATE, name)?.unwrap_or_default())
    }

    /// Records a plan's schedule state.
    pub fn put_plan_state(&self, name: &str, state: &PlanState) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(state).map_err(|e| self.db_error(e))?;
        self.write(|txn| {
            txn.open_table(PLAN_STATE)?.insert(name, bytes.as_slice())?;
            Ok(())
        })
    }

    fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        table: TableDefinition<&str, &[u8]>,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        let slot = self.db()?;
        let db = slot.get(&self.path)?;
        let txn = db.begin_read().map_err(|e| self.db_error(e))?;
        let table = txn.open_table(table).map_err(|e| self.db_error(e))?;
        let Some(value) = table.get(key).map_err(|e| self.db_error(e))? else {
            return Ok(None);
        };
        serde_json::from_slice(value.value())
            .map(Some)
            .map_err(|e| StoreError::Record {
                path: self.path.clone(),
                key: 0,
                message: format!("{key}: {e}"),
            })
    }

    fn decode(&self, key: u64, bytes: &[u8]) -> Result<Job, StoreError> {
        let mut job: Job = serde_json::from_slice(bytes).map_err(|e| StoreError::Record {
            path: self.path.clone(),
            key,
            message: e.to_string(),
        })?;
        for r in &mut job.results {
            if let (None, Some(set)) = (r.counts, &r.changeset) {
                r.counts = Some(set.counts());
                r.notes = set.notes.clone();
            }
        }
        Ok(job)
    }

    fn decode_set(
        &self,
        (job, device, collector): (u64, &str, &str),
        bytes: &[u8],
    ) -> Result<ChangeSet, StoreError> {
        serde_json::from_slice(bytes).map_err(|e| StoreError::Record {
            path: self.path.clone(),
            key: job,
            message: format!("the change set of {device} {collector}: {e}"),
        })
    }
}
