//! Jobs: one run of collectors over devices, with everything it found and everything it wrote.
//!
//! A [`Job`] is the unit operators look at and undo. [`run`] collects every requested collector
//! from every target, reconciles the facts into a [`ChangeSet`] per (device, collector) and,
//! depending on the [`Mode`], writes it (`apply`), writes it into a NetBox branch (`branch`) or
//! only stores it for review (`report`). Every object written is recorded with its state
//! before and after, so [`mod@rollback`] can undo the job later.
//!
//! Failure is contained: a device that cannot be reached, a plugin that traps or a NetBox
//! refusal fails that one (device, collector) result, never the others.

pub mod connect;
pub mod rollback;
pub mod store;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::device::DeviceSession;
use crate::netbox::client::Tally;
use crate::netbox::{NetBox, Target};
use crate::reconcile::{self, ChangeSet, Context, Outcome, Refused, Written, bgp::AsnPolicy};
use crate::registry::Registry;
use crate::{CollectRequest, Facts};

pub use connect::{EnvLookup, ProfileConnectors, ReplayConnector, SshConnector};
pub use rollback::{RollbackReport, rollback};
pub use store::{PlanState, Store, StoreError};

/// How a job treats the change sets it computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Write the change sets to NetBox.
    #[default]
    Apply,
    /// Store the change sets for review (`nbfacts report show/apply/skip`).
    Report,
    /// Write the change sets into a NetBox branch (netbox-branching) named after the job.
    Branch,
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Mode::Apply => "apply",
            Mode::Report => "report",
            Mode::Branch => "branch",
        })
    }
}

/// A job's state; the names are NetBox's job states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Created, waiting for a worker.
    #[default]
    Pending,
    /// Waiting for its scheduled time.
    Scheduled,
    /// Collecting or writing.
    Running,
    /// Every collection succeeded.
    Completed,
    /// At least one collection failed; the others are recorded.
    Failed,
    /// The job itself could not run (for example NetBox was unreachable).
    Errored,
}

impl std::fmt::Display for JobState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        f.write_str(&s)
    }
}

/// What happened to one change-set entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Written to NetBox (or to the branch).
    Applied,
    /// Refused by NetBox; the result's `refused` list has its message.
    Refused,
    /// Skipped by a reviewer.
    Skipped,
}

/// One (device, collector) of a job.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CollectionResult {
    /// Device name.
    pub device: String,
    /// NetBox device id.
    pub device_id: Option<u64>,
    /// Collector name.
    pub collector: String,
    /// Why this collection failed (collection, reconciliation or writing), if it did.
    pub error: Option<String>,
    /// What the collection would change (absent when collecting failed, and when the run
    /// kept it in the store instead: see [`Sink::with_store`] and [`Store::job`]).
    pub changeset: Option<ChangeSet>,
    /// The change set's entry counts (present whenever it was computed, in memory or not).
    #[serde(default)]
    pub counts: Option<reconcile::Counts>,
    /// The change set's notes (for example "the routing plugin is not installed").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Objects written, in write order.
    pub written: Vec<Written>,
    /// Entries NetBox refused, with its message.
    pub refused: Vec<Refused>,
    /// Per entry id: applied, refused or skipped. Entries absent here are pending (report
    /// mode) or had nothing to write.
    pub decisions: BTreeMap<u32, Decision>,
    /// Milliseconds spent collecting (plugin and device).
    pub collect_ms: u64,
    /// Of `collect_ms`, the milliseconds the plugin's own code ran (its parsers). The rest is
    /// the device and the sandbox's copying in and out: a collection whose time is mostly
    /// here has a slow parser, not a slow device.
    #[serde(default)]
    pub plugin_ms: u64,
    /// The failure was transient (connection, timeout): worth another attempt.
    #[serde(default)]
    pub retryable: bool,
    /// The plugin was stopped by the sandbox (a limit) or crashed.
    #[serde(default)]
    pub trapped: bool,
    /// Milliseconds spent reconciling and writing.
    pub write_ms: u64,
    /// NetBox read requests made while reconciling and writing (pages and retries count).
    /// Reads shared by the whole run (see [`reconcile::RunCache`]) count on the first
    /// collection that needs them, and a request that concurrent collections share (a
    /// coalesced read, see [`crate::netbox::NetBox::list`]) on the one that sent it, so the
    /// results of a job add up to its requests.
    #[serde(default)]
    pub netbox_reads: u64,
    /// NetBox write requests made while writing (bulk requests count once).
    #[serde(default)]
    pub netbox_writes: u64,
}

impl CollectionResult {
    /// True when the collection succeeded (refused entries do not make it fail).
    pub fn ok(&self) -> bool {
        self.error.is_none()
    }

    /// A copy without the change set (its counts stay).
    pub fn without_changeset(&self) -> Self {
        // Destructured field by field, so a field added later cannot be forgotten here.
        let Self {
            device,
            device_id,
            collector,
            error,
            changeset,
            counts,
            notes,
            written,
            refused,
            decisions,
            collect_ms,
            plugin_ms,
            retryable,
            trapped,
            write_ms,
            netbox_reads,
            netbox_writes,
        } = self;
        Self {
            device: device.clone(),
            device_id: *device_id,
            collector: collector.clone(),
            error: error.clone(),
            changeset: None,
            counts: counts.or_else(|| changeset.as_ref().map(ChangeSet::counts)),
            notes: match (notes.is_empty(), changeset) {
                (true, Some(set)) => set.notes.clone(),
                _ => notes.clone(),
            },
            written: written.clone(),
            refused: refused.clone(),
            decisions: decisions.clone(),
            collect_ms: *collect_ms,
            plugin_ms: *plugin_ms,
            retryable: *retryable,
            trapped: *trapped,
            write_ms: *write_ms,
            netbox_reads: *netbox_reads,
            netbox_writes: *netbox_writes,
        }
    }

    /// Records a writer outcome; returns the error that stopped it, if any.
    fn record(&mut self, outcome: Outcome) -> Option<String> {
        for w in &outcome.written {
            self.decisions.insert(w.entry, Decision::Applied);
        }
        for r in &outcome.refused {
            self.decisions.insert(r.entry, Decision::Refused);
        }
        self.written.extend(outcome.written);
        self.refused.extend(outcome.refused);
        outcome.stopped
    }
}

/// A job and everything it did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Store id (assigned by [`Store::create_job`]).
    pub id: u64,
    /// Name (the plan's, or what started the job).
    pub name: String,
    /// Mode.
    pub mode: Mode,
    /// State.
    pub state: JobState,
    /// When created, started and finished (ISO 8601 UTC).
    pub created: String,
    /// Start time.
    pub started: Option<String>,
    /// End time.
    pub finished: Option<String>,
    /// The NetBox branch written to (branch mode): its name and schema id.
    pub branch: Option<(String, String)>,
    /// One result per (device, collector).
    pub results: Vec<CollectionResult>,
    /// Log lines (`time level message`).
    pub log: Vec<String>,
    /// Set once the job has been rolled back.
    pub rolled_back: Option<String>,
    /// Set when the job was cancelled (its state is then `failed`).
    #[serde(default)]
    pub cancelled: bool,
    /// What started the job (`manual`, `schedule`, `netbox-link`, `webhook`, …).
    #[serde(default)]
    pub trigger: String,
}

impl Job {
    /// A pending job.
    pub fn new(name: impl Into<String>, mode: Mode) -> Self {
        Self {
            name: name.into(),
            mode,
            created: reconcile::rfc3339(std::time::SystemTime::now()),
            ..Self::default()
        }
    }

    /// Appends a log line.
    pub fn log(&mut self, level: &str, message: impl AsRef<str>) {
        self.log.push(format!(
            "{} {level} {}",
            reconcile::rfc3339(std::time::SystemTime::now()),
            message.as_ref()
        ));
    }

    /// Entry counts over every change set.
    pub fn counts(&self) -> reconcile::Counts {
        let mut total = reconcile::Counts::default();
        let counts = self.results.iter().filter_map(|r| {
            r.counts
                .or_else(|| r.changeset.as_ref().map(ChangeSet::counts))
        });
        for n in counts {
            total.new += n.new;
            total.changed += n.changed;
            total.confirmed += n.confirmed;
            total.stale += n.stale;
            total.skipped += n.skipped;
        }
        total
    }

    /// Objects written by the job.
    pub fn writes(&self) -> usize {
        self.results.iter().map(|r| r.written.len()).sum()
    }

    fn settle(&mut self) {
        self.state = if self.results.iter().all(CollectionResult::ok) {
            JobState::Completed
        } else {
            JobState::Failed
        };
        self.finished = Some(reconcile::rfc3339(std::time::SystemTime::now()));
    }
}

/// Opens device sessions for targets (SSH, recorded replies, the simulator).
pub trait Connector: Send + Sync {
    /// A session to `target`. Sessions connect lazily, so this fails only when the target
    /// cannot be addressed at all (no management address, no recorded replies).
    fn open(&self, target: &Target) -> Result<Arc<dyn DeviceSession>, String>;
}

/// What a run collects and how it writes.
#[derive(Clone)]
pub struct RunSpec {
    /// Collectors to run on every device, in order.
    pub collectors: Vec<String>,
    /// Only interfaces matching this are considered (every collector).
    pub interface_filter: Option<Regex>,
    /// Where ASN objects go.
    pub asn_policy: AsnPolicy,
    /// Driver to use instead of the one from the platform map.
    pub driver_override: Option<String>,
    /// Devices collected at once.
    pub concurrency: usize,
    /// Waited on before each device (session limits, per-device locks); `None`: no limits.
    pub gate: Option<Arc<dyn Gate>>,
    /// Set to stop the run: devices not started yet are not collected.
    pub cancel: Arc<AtomicBool>,
    /// Extra attempts for a device whose collections all failed with a transient error
    /// (connection, timeout), with exponential backoff from `backoff`.
    pub retries: u32,
    /// First backoff.
    pub backoff: std::time::Duration,
    /// Called after each device with its results.
    pub on_device: Option<DeviceCallback>,
}

impl std::fmt::Debug for dyn Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Gate")
    }
}

/// Called after each device of a run with its results.
pub type DeviceCallback = Arc<dyn Fn(&Target, &[CollectionResult]) + Send + Sync>;

/// Admission of a device into a run: a session slot, a per-profile slot, the device's lock.
pub trait Gate: Send + Sync {
    /// Waits until `target` may be collected; the returned guard releases it when dropped.
    fn enter<'a>(
        &'a self,
        target: &'a Target,
    ) -> crate::device::BoxFuture<'a, Box<dyn std::any::Any + Send>>;
}

impl std::fmt::Debug for RunSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunSpec")
            .field("collectors", &self.collectors)
            .field("interface_filter", &self.interface_filter)
            .field("driver_override", &self.driver_override)
            .field("concurrency", &self.concurrency)
            .field("retries", &self.retries)
            .finish_non_exhaustive()
    }
}

impl RunSpec {
    /// A spec running `collectors` with the defaults.
    pub fn new(collectors: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            collectors: collectors.into_iter().map(Into::into).collect(),
            interface_filter: None,
            asn_policy: AsnPolicy::default(),
            driver_override: None,
            concurrency: 16,
            gate: None,
            cancel: Arc::default(),
            retries: 0,
            backoff: std::time::Duration::from_secs(2),
            on_device: None,
        }
    }
}

/// Where a run reads NetBox and where it writes.
///
/// Devices are collected concurrently, but in apply and branch mode reconciling and writing
/// happen one change set at a time: two devices that see the same neighbour address or the
/// same ASN must not both find it missing and both create it. Report mode writes nothing, so
/// its devices reconcile concurrently, which lets their NetBox reads share requests.
#[derive(Debug, Clone)]
pub struct Sink {
    /// Reads (the current state reconcilers compare with).
    pub netbox: NetBox,
    /// Writes: the same client, or one acting in a branch.
    pub writer: NetBox,
    write_lock: Arc<tokio::sync::Mutex<()>>,
    cache: Arc<reconcile::RunCache>,
    /// Other devices of the run reconcile at the same time (see [`Context::shared_reads`]).
    shared_reads: bool,
    /// Devices in the run.
    run_devices: usize,
    batch: usize,
    store: Option<Store>,
    spill: Option<Spill>,
}

impl Sink {
    /// Reads from `netbox`, writes with `writer`.
    pub fn new(netbox: NetBox, writer: NetBox) -> Self {
        Self {
            netbox,
            writer,
            write_lock: Arc::default(),
            cache: Arc::default(),
            shared_reads: false,
            run_devices: 1,
            batch: 250,
            store: None,
            spill: None,
        }
    }

    /// Keeps each change set in `store` as soon as its collection is reconciled (and
    /// written), under the job's id, so a run holds only their counts in memory: a report over
    /// a thousand devices proposes gigabytes of objects. [`Store::job`] loads them back.
    #[must_use]
    pub fn with_store(mut self, store: Store) -> Self {
        self.store = Some(store);
        self
    }

    /// At most `batch` objects per bulk write request (default 250).
    #[must_use]
    pub fn with_batch(mut self, batch: usize) -> Self {
        self.batch = batch.max(1);
        self
    }
}

/// Change sets on their way to the store during a run (see [`Sink::with_store`]).
#[derive(Debug, Clone)]
struct Spill {
    tx: tokio::sync::mpsc::Sender<Spilled>,
}

/// A change set as JSON, with its device and collector.
type Spilled = (String, String, Vec<u8>);

/// The change sets the spill writer could not store, and why.
type Unstored = (Vec<Spilled>, Option<String>);

/// Change sets stored at once at most (bytes of JSON); more wait for the next transaction.
const SPILL_BATCH_BYTES: usize = 32 << 20;

impl Spill {
    /// Starts the writer for job `job`: change sets are stored by one thread, as many per
    /// transaction as have arrived meanwhile. The writer ends when every sender is gone and
    /// returns the sets it could not store, with the error.
    fn start(store: Store, job: u64) -> (Self, tokio::task::JoinHandle<Unstored>) {
        // A bounded queue: reconciling waits for the disk rather than piling sets up.
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Spilled>(16);
        let writer = tokio::task::spawn_blocking(move || {
            let mut failed = Vec::new();
            let mut error = None;
            while let Some(first) = rx.blocking_recv() {
                let mut bytes = first.2.len();
                let mut batch = vec![first];
                while bytes < SPILL_BATCH_BYTES {
                    let Ok(next) = rx.try_recv() else { break };
                    bytes += next.2.len();
                    batch.push(next);
                }
                if let Err(e) = store.put_changesets(job, &batch) {
                    error = Some(e.to_string());
                    failed.extend(batch);
                }
            }
            (failed, error)
        });
        (Self { tx }, writer)
    }

    /// Sends `set` to the store; gives it back when it cannot go (the writer has stopped).
    async fn keep(&self, device: &str, collector: &str, set: ChangeSet) -> Option<ChangeSet> {
        let Ok(bytes) = serde_json::to_vec(&set) else {
            return Some(set);
        };
        let item = (device.to_string(), collector.to_string(), bytes);
        match self.tx.send(item).await {
            Ok(()) => None,
            Err(_) => Some(set),
        }
    }
}

/// The client a job writes with: NetBox itself, or (branch mode) a netbox-branching branch
/// named after the job, created and provisioned first. Records the branch in the job.
pub async fn writer_for(job: &mut Job, netbox: &NetBox) -> Result<NetBox, String> {
    if job.mode != Mode::Branch {
        return Ok(netbox.clone());
    }
    let name = format!("nbfacts-job-{}-{}", job.id, job.name);
    let branch = crate::netbox::branch::ensure_branch(
        netbox,
        &name,
        &crate::netbox::branch::BranchOptions {
            description: format!("Changes proposed by nbfacts job {} ({})", job.id, job.name),
            ..Default::default()
        },
    )
    .await
    .map_err(|e| format!("branch mode: {e}"))?;
    job.log(
        "info",
        format!(
            "writing into NetBox branch {} (schema {})",
            branch.name, branch.schema_id
        ),
    );
    job.branch = Some((branch.name.clone(), branch.schema_id.clone()));
    Ok(netbox.in_branch(&branch.schema_id))
}

/// Runs `spec` on `targets` and records everything in `job` (which the caller stores).
///
/// Up to `spec.concurrency` devices are collected at once. LLDP runs last, after every
/// device's inventory and interfaces are written, so a cable between two devices of the same
/// run finds both ends on the first run.
pub async fn run(
    job: &mut Job,
    registry: &Registry,
    connector: &dyn Connector,
    sink: &Sink,
    targets: &[Target],
    spec: &RunSpec,
) {
    use futures_util::StreamExt;
    job.state = JobState::Running;
    job.started = Some(reconcile::rfc3339(std::time::SystemTime::now()));
    let (later, first): (Vec<String>, Vec<String>) =
        spec.collectors.iter().cloned().partition(|c| c == "lldp");
    let mut passes = vec![first];
    if !later.is_empty() {
        passes.push(later);
    }
    let mut by_device: Vec<Vec<CollectionResult>> = vec![Vec::new(); targets.len()];
    let (spill, writer) = match &sink.store {
        Some(store) => {
            let (spill, writer) = Spill::start(store.clone(), job.id);
            (Some(spill), Some(writer))
        }
        None => (None, None),
    };
    let run_sink = Sink {
        spill,
        // Report mode reconciles devices at the same time (see [`Sink`]).
        shared_reads: job.mode == Mode::Report && targets.len() > 1 && spec.concurrency > 1,
        run_devices: targets.len(),
        ..sink.clone()
    };
    let sink = &run_sink;
    for collectors in passes.into_iter().filter(|p| !p.is_empty()) {
        let pass = RunSpec {
            collectors,
            ..spec.clone()
        };
        let mode = job.mode;
        // Futures built up front (not in a stream adapter's closure), so the whole run stays
        // `Send` for `tokio::spawn` (rust-lang/rust#102211).
        let runs: Vec<_> = targets
            .iter()
            .enumerate()
            .map(|(i, target)| {
                let pass = &pass;
                Box::pin(async move {
                    (
                        i,
                        run_gated(mode, registry, connector, sink, target, pass).await,
                    )
                })
            })
            .collect();
        let mut stream = futures_util::stream::iter(runs).buffer_unordered(spec.concurrency.max(1));
        while let Some((i, results)) = stream.next().await {
            if let Some(slot) = by_device.get_mut(i) {
                slot.extend(results);
            }
        }
    }
    // Every sender gone, the writer stores what is left and ends.
    drop(run_sink);
    let unstored = match writer {
        Some(writer) => writer
            .await
            .unwrap_or_else(|e| (Vec::new(), Some(format!("the writer failed: {e}")))),
        None => (Vec::new(), None),
    };
    if let (failed, Some(error)) = unstored {
        job.log(
            "error",
            format!(
                "{} change set(s) could not be stored as they were computed ({error}); they \
                 stay in the job record",
                failed.len()
            ),
        );
        for (device, collector, bytes) in failed {
            let slot = by_device
                .iter_mut()
                .flatten()
                .find(|r| r.device == device && r.collector == collector);
            if let (Some(r), Ok(set)) = (slot, serde_json::from_slice(&bytes)) {
                r.changeset = Some(set);
            }
        }
    }
    for results in by_device {
        for r in &results {
            match &r.error {
                None => job.log(
                    "info",
                    format!(
                        "{} {}: {}",
                        r.device,
                        r.collector,
                        r.counts.map(|c| c.to_string()).unwrap_or_default()
                    ),
                ),
                Some(e) => job.log("error", format!("{} {}: {e}", r.device, r.collector)),
            }
        }
        job.results.extend(results);
    }
    if spec.cancel.load(Ordering::Relaxed) {
        job.cancelled = true;
        job.log("warning", "cancelled");
    }
    job.settle();
}

/// One device through the gate, with retries of transient failures and the cancel flag.
async fn run_gated(
    mode: Mode,
    registry: &Registry,
    connector: &dyn Connector,
    sink: &Sink,
    target: &Target,
    spec: &RunSpec,
) -> Vec<CollectionResult> {
    let cancelled = || {
        spec.collectors
            .iter()
            .map(|c| CollectionResult {
                device: target.name.clone(),
                device_id: Some(target.id),
                collector: c.clone(),
                error: Some("cancelled before this device was collected".into()),
                ..CollectionResult::default()
            })
            .collect::<Vec<_>>()
    };
    let mut attempt = 0;
    loop {
        if spec.cancel.load(Ordering::Relaxed) {
            return cancelled();
        }
        let guard = match &spec.gate {
            Some(gate) => Some(gate.enter(target).await),
            None => None,
        };
        if spec.cancel.load(Ordering::Relaxed) {
            return cancelled();
        }
        let results = run_device(mode, registry, connector, sink, target, spec).await;
        drop(guard);
        let transient = !results.is_empty() && results.iter().all(|r| r.retryable);
        if !transient || attempt >= spec.retries {
            if let Some(f) = &spec.on_device {
                f(target, &results);
            }
            return results;
        }
        let wait = spec.backoff.saturating_mul(1 << attempt.min(10));
        tracing::info!(device = %target.name, attempt, wait_ms = wait.as_millis() as u64, "Transient failure; retrying.");
        attempt += 1;
        tokio::time::sleep(wait).await;
    }
}

/// True for failures worth retrying: the connection or the device's answer timed out or broke.
pub fn is_transient(e: &crate::CollectionError) -> bool {
    use nbfacts_sdk::{CollectError, DeviceError};
    matches!(
        e,
        crate::CollectionError::Plugin(f)
            if matches!(
                f.error,
                CollectError::Timeout(_)
                    | CollectError::Device(DeviceError::Transport(_) | DeviceError::Timeout(_))
            )
    )
}

/// Collects, reconciles and (per `mode`) writes every collector of `spec` on one device.
pub async fn run_device(
    mode: Mode,
    registry: &Registry,
    connector: &dyn Connector,
    sink: &Sink,
    target: &Target,
    spec: &RunSpec,
) -> Vec<CollectionResult> {
    let blank = |collector: &str| CollectionResult {
        device: target.name.clone(),
        device_id: Some(target.id),
        collector: collector.to_string(),
        ..CollectionResult::default()
    };
    let driver = spec
        .driver_override
        .clone()
        .unwrap_or_else(|| target.driver.clone());
    let fail_all = |message: String| {
        spec.collectors
            .iter()
            .map(|c| CollectionResult {
                error: Some(message.clone()),
                ..blank(c)
            })
            .collect::<Vec<_>>()
    };
    if driver.is_empty() {
        return fail_all(format!(
            "device {} has no platform in NetBox, so no driver can be chosen; set its platform \
             or the plan's driver override",
            target.name
        ));
    }
    let session = match connector.open(target) {
        Ok(s) => s,
        Err(e) => return fail_all(e),
    };
    let ctx = Context::new(
        sink.netbox.clone(),
        target.clone(),
        spec.interface_filter.clone(),
    )
    .with_cache(sink.cache.clone())
    .with_run(sink.shared_reads, sink.run_devices);
    let mut results = Vec::new();
    for collector in &spec.collectors {
        let mut result = blank(collector);
        let started = Instant::now();
        let (facts, times) = registry
            .collect_timed(&driver, CollectRequest::new(collector), session.clone())
            .await;
        result.collect_ms = started.elapsed().as_millis() as u64;
        result.plugin_ms = times.plugin.as_millis() as u64;
        // Report mode writes nothing, so devices reconcile at the same time (and their reads
        // share requests); apply and branch take turns (see [`Sink`]).
        let _writing = match mode {
            Mode::Report => None,
            Mode::Apply | Mode::Branch => Some(sink.write_lock.lock().await),
        };
        let started = Instant::now();
        // This collection's requests, whatever the other devices do meanwhile.
        let tally = Tally::default();
        let writer = sink.writer.tallied(&tally);
        let ctx = Context {
            netbox: sink.netbox.tallied(&tally),
            ..ctx.clone()
        };
        match facts {
            Err(e) => {
                result.retryable = is_transient(&e);
                result.trapped = matches!(
                    e,
                    crate::CollectionError::Limit { .. } | crate::CollectionError::Crashed { .. }
                );
                result.error = Some(e.to_string());
            }
            Ok(facts) => match reconcile_facts(&ctx, &facts, spec).await {
                Err(e) => result.error = Some(format!("reconciling with NetBox: {e}")),
                Ok(set) => {
                    if mode != Mode::Report {
                        let outcome =
                            reconcile::apply_batched(&writer, &set, None, sink.batch).await;
                        if let Some(stopped) = result.record(outcome) {
                            result.error = Some(format!(
                                "writing to NetBox stopped: {stopped}; {} object(s) were \
                                 written before and are recorded in this job",
                                result.written.len()
                            ));
                        }
                    }
                    result.counts = Some(set.counts());
                    result.notes = set.notes.clone();
                    result.changeset = match &sink.spill {
                        Some(spill) => spill.keep(&target.name, collector, set).await,
                        None => Some(set),
                    };
                }
            },
        }
        result.write_ms = started.elapsed().as_millis() as u64;
        let counts = tally.counts();
        result.netbox_reads = counts.reads;
        result.netbox_writes = counts.writes;
        results.push(result);
    }
    session.close().await;
    results
}

/// Reconciles one collector's facts with NetBox.
pub async fn reconcile_facts(
    ctx: &Context,
    facts: &Facts,
    spec: &RunSpec,
) -> Result<ChangeSet, reconcile::ReconcileError> {
    use reconcile::neighbors;
    match facts {
        Facts::Inventory(f) => reconcile::inventory::reconcile(ctx, f).await,
        Facts::Interfaces(f) => reconcile::interfaces::reconcile(ctx, f).await,
        Facts::EthernetSwitching(f) => {
            neighbors::reconcile(ctx, "ethernet_switching", &neighbors::from_mac_table(f)).await
        }
        Facts::Lldp(f) => reconcile::lldp::reconcile(ctx, f).await,
        Facts::Bgp(f) => reconcile::bgp::reconcile(ctx, f, &spec.asn_policy).await,
        Facts::Arp(f) => neighbors::reconcile(ctx, "arp", &neighbors::from_arp(f)).await,
        Facts::Ndp(f) => neighbors::reconcile(ctx, "ndp", &neighbors::from_ndp(f)).await,
        Facts::L2Circuits(f) => reconcile::l2vpn::reconcile_l2_circuits(ctx, f).await,
        Facts::Evpn(f) => reconcile::l2vpn::reconcile_evpn(ctx, f).await,
        Facts::Ospf(f) => reconcile::ospf::reconcile(ctx, f).await,
        other => Err(reconcile::ReconcileError::Unsupported(format!(
            "nbfacts does not write {} facts to NetBox yet",
            facts_kind(other)
        ))),
    }
}

fn facts_kind(facts: &Facts) -> &'static str {
    match facts {
        Facts::Inventory(_) => "inventory",
        Facts::Interfaces(_) => "interfaces",
        Facts::EthernetSwitching(_) => "ethernet_switching",
        Facts::Lldp(_) => "lldp",
        Facts::Bgp(_) => "bgp",
        Facts::Arp(_) => "arp",
        Facts::Ndp(_) => "ndp",
        Facts::L2Circuits(_) => "l2_circuits",
        Facts::Evpn(_) => "evpn",
        Facts::Ospf(_) => "ospf",
        Facts::Other(_) => "other",
    }
}

/// Applies reviewed entries of a report-mode job: `entries` of the result for (`device`,
/// `collector`), or every pending entry of every result when `select` is `None`.
pub async fn apply_report(
    job: &mut Job,
    writer: &NetBox,
    select: Option<&ReportSelection>,
) -> Result<usize, String> {
    if job.rolled_back.is_some() {
        return Err(format!("job {} was rolled back", job.id));
    }
    let mut applied = 0;
    for result in &mut job.results {
        let Some(set) = result.changeset.clone() else {
            continue;
        };
        let ids: Vec<u32> = set
            .entries
            .iter()
            .filter(|e| !matches!(e.operation, reconcile::Operation::None))
            .filter(|e| !result.decisions.contains_key(&e.id))
            .filter(|e| select.is_none_or(|s| s.matches(result, e.id)))
            .map(|e| e.id)
            .collect();
        if ids.is_empty() {
            continue;
        }
        let outcome = reconcile::apply(writer, &set, Some(&ids)).await;
        applied += outcome.written.len();
        if let Some(stopped) = result.record(outcome) {
            return Err(format!(
                "{} {}: writing stopped: {stopped}",
                result.device, result.collector
            ));
        }
    }
    Ok(applied)
}

/// Marks entries of a report-mode job as skipped; returns how many.
pub fn skip_report(job: &mut Job, select: &ReportSelection) -> usize {
    let mut skipped = 0;
    for result in &mut job.results {
        let Some(set) = &result.changeset else {
            continue;
        };
        for e in &set.entries {
            if !matches!(e.operation, reconcile::Operation::None)
                && !result.decisions.contains_key(&e.id)
                && select.matches_parts(&result.device, &result.collector, e.id)
            {
                result.decisions.insert(e.id, Decision::Skipped);
                skipped += 1;
            }
        }
    }
    skipped
}

/// Which entries of a report a command acts on. Entry references are `DEVICE/COLLECTOR/ID`
/// (as `nbfacts report show` prints them); a bare number selects that entry in every result.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportSelection {
    refs: Vec<(Option<String>, Option<String>, u32)>,
}

impl ReportSelection {
    /// Parses entry references.
    pub fn parse(refs: &[String]) -> Result<Self, String> {
        let mut out = Vec::new();
        for r in refs {
            let parts: Vec<&str> = r.split('/').collect();
            let parsed = match parts.as_slice() {
                [id] => id.parse().ok().map(|id| (None, None, id)),
                [device, collector, id] => id
                    .parse()
                    .ok()
                    .map(|id| (Some(device.to_string()), Some(collector.to_string()), id)),
                _ => None,
            };
            out.push(parsed.ok_or_else(|| {
                format!("bad entry reference `{r}`: expected DEVICE/COLLECTOR/ID or ID")
            })?);
        }
        Ok(Self { refs: out })
    }

    fn matches(&self, result: &CollectionResult, id: u32) -> bool {
        self.matches_parts(&result.device, &result.collector, id)
    }

    fn matches_parts(&self, device: &str, collector: &str, id: u32) -> bool {
        self.refs.iter().any(|(d, c, i)| {
            *i == id
                && d.as_deref().is_none_or(|d| d == device)
                && c.as_deref().is_none_or(|c| c == collector)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selections_parse_and_match() {
        let s = ReportSelection::parse(&["edge1/arp/3".into(), "7".into()]).unwrap();
        assert!(s.matches_parts("edge1", "arp", 3));
        assert!(!s.matches_parts("edge2", "arp", 3));
        assert!(s.matches_parts("edge2", "lldp", 7));
        assert!(ReportSelection::parse(&["a/b".into()]).is_err());
    }

    #[test]
    fn job_states_print_as_netbox_names() {
        assert_eq!(JobState::Completed.to_string(), "completed");
        assert_eq!(Mode::Branch.to_string(), "branch");
    }

    #[test]
    fn store_assigns_ids_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("store.redb")).unwrap();
        let mut a = Job::new("first", Mode::Report);
        let mut b = Job::new("second", Mode::Apply);
        assert_eq!(store.create_job(&mut a).unwrap(), 1);
        assert_eq!(store.create_job(&mut b).unwrap(), 2);
        b.state = JobState::Completed;
        store.put_job(&b).unwrap();
        drop(store);
        let store = Store::open(dir.path().join("store.redb")).unwrap();
        let jobs = store.jobs().unwrap();
        assert_eq!(jobs.len(), 2);
        assert_eq!(jobs[0].name, "second");
        assert_eq!(jobs[0].state, JobState::Completed);
        assert!(matches!(store.job(9), Err(StoreError::NoSuchJob(9))));
    }

    fn result_with_set(device: &str, entries: usize) -> CollectionResult {
        let mut set = ChangeSet::new(device, "arp");
        for i in 0..entries {
            set.push(
                reconcile::EntryState::New,
                "ipam.ipaddress",
                None,
                format!("10.0.0.{i}/32"),
                reconcile::Operation::None,
                "learned",
                0,
            );
        }
        set.notes.push("a note".into());
        CollectionResult {
            device: device.into(),
            collector: "arp".into(),
            counts: Some(set.counts()),
            notes: set.notes.clone(),
            changeset: Some(set),
            ..CollectionResult::default()
        }
    }

    #[test]
    fn change_sets_are_stored_apart_from_the_job() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("store.redb")).unwrap();
        let mut job = Job::new("report", Mode::Report);
        store.create_job(&mut job).unwrap();
        job.results = vec![result_with_set("edge1", 3), result_with_set("edge2", 1)];
        job.results.push(CollectionResult {
            device: "edge3".into(),
            collector: "arp".into(),
            error: Some("unreachable".into()),
            ..CollectionResult::default()
        });
        store.put_job(&job).unwrap();

        let summary = store.job_summary(job.id).unwrap();
        assert!(summary.results.iter().all(|r| r.changeset.is_none()));
        assert_eq!(summary.results[0].counts.unwrap().new, 3);
        assert_eq!(summary.results[0].notes, ["a note"]);
        assert_eq!(summary.counts().new, 4);
        assert_eq!(store.jobs().unwrap()[0].results[1].changeset, None);

        let full = store.job(job.id).unwrap();
        assert_eq!(full, job);
        let one = store.changeset(job.id, "edge2", "arp").unwrap().unwrap();
        assert_eq!(one.entries.len(), 1);
        assert_eq!(store.changeset(job.id, "edge3", "arp").unwrap(), None);
    }

    #[test]
    fn records_with_inline_change_sets_still_read() {
        // A record as stores before change sets were kept apart wrote it.
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("store.redb")).unwrap();
        let mut job = Job::new("old", Mode::Report);
        store.create_job(&mut job).unwrap();
        let mut old = result_with_set("edge1", 2);
        old.counts = None;
        old.notes.clear();
        job.results = vec![old];
        let bytes = serde_json::to_vec(&job).unwrap();
        store.put_raw_job(job.id, &bytes).unwrap();
        let summary = store.job_summary(job.id).unwrap();
        assert_eq!(summary.results[0].counts.unwrap().new, 2);
        assert_eq!(summary.results[0].notes, ["a note"]);
        let set = store.changeset(job.id, "edge1", "arp").unwrap().unwrap();
        assert_eq!(set.entries.len(), 2);
    }

    #[tokio::test]
    async fn a_run_spills_change_sets_as_they_come() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("store.redb")).unwrap();
        let (spill, writer) = Spill::start(store.clone(), 7);
        for i in 0..200 {
            let set = result_with_set(&format!("edge{i}"), 5).changeset.unwrap();
            assert!(spill.keep(&format!("edge{i}"), "arp", set).await.is_none());
        }
        drop(spill);
        let (failed, error) = writer.await.unwrap();
        assert!(failed.is_empty() && error.is_none());
        let set = store.changeset(7, "edge123", "arp").unwrap().unwrap();
        assert_eq!(set.device, "edge123");
        assert_eq!(set.entries.len(), 5);
    }
}
