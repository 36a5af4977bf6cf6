//! The embeddable host: plans, the scheduler, the run queue and job events.
//!
//! Every trigger takes the same path: [`Host::enqueue`] (manual runs, the schedule) and
//! [`Host::collect_device`] (the NetBox link and webhooks) put a run on one priority queue;
//! workers take runs off it and execute them with [`job::run`], through a gate that enforces
//! the global session limit, the per-credentials-profile limit and a per-device lock.
//!
//! ```no_run
//! # async fn demo(host: nbfacts_host::host::Host) -> Result<(), Box<dyn std::error::Error>> {
//! use nbfacts_host::host::Trigger;
//! use nbfacts_host::plan::Plan;
//!
//! host.add_plan(Plan::new("leafs", ["lldp", "arp"]))?;
//! let mut events = host.subscribe();
//! let queued = host.enqueue("leafs", Trigger::Manual, None)?;
//! let job = host.wait(queued.job()).await?;
//! println!("job {} {}", job.id, job.state);
//! # let _ = events.try_recv(); Ok(()) }
//! ```

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use tokio::sync::{Notify, Semaphore, broadcast};

use crate::job::{
    self, CollectionResult, Connector, Gate, Job, JobState, PlanState, RunSpec, Sink, Store,
    StoreError,
};
use crate::netbox::{DeviceFilter, NetBox, PlatformMap, Target, resolve_targets};
use crate::plan::{Plan, Priority};
use crate::registry::Registry;

/// Builds the connector for a plan (its credentials profile, its timeouts).
pub trait ConnectorFactory: Send + Sync {
    /// The connector for `plan`, or why there is none (an unknown credentials profile).
    fn connector(&self, plan: &Plan) -> Result<Arc<dyn Connector>, String>;
}

/// Limits and timing of a host.
#[derive(Debug, Clone)]
pub struct HostConfig {
    /// Device sessions open at once, over all jobs.
    pub max_sessions: usize,
    /// Device sessions at once per credentials profile.
    pub max_per_profile: usize,
    /// Jobs running at once.
    pub workers: usize,
    /// How often the scheduler looks for due plans.
    pub tick: Duration,
    /// Extra attempts for a device after a transient failure.
    pub retries: u32,
    /// First retry backoff (doubles each attempt).
    pub backoff: Duration,
    /// Platform slug → driver.
    pub platforms: PlatformMap,
}

impl Default for HostConfig {
    fn default() -> Self {
        Self {
            max_sessions: 64,
            max_per_profile: 16,
            workers: 4,
            tick: Duration::from_secs(1),
            retries: 2,
            backoff: Duration::from_secs(2),
            platforms: PlatformMap::default(),
        }
    }
}

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Trigger {
    /// `nbfacts run`, the API, an embedding program.
    Manual,
    /// The plan's interval.
    Schedule,
    /// The "Collect facts" link on a NetBox device page.
    NetboxLink,
    /// A NetBox webhook (the device changed).
    Webhook,
}

impl Trigger {
    fn name(self) -> &'static str {
        match self {
            Trigger::Manual => "manual",
            Trigger::Schedule => "schedule",
            Trigger::NetboxLink => "netbox-link",
            Trigger::Webhook => "webhook",
        }
    }
}

/// Which devices of a plan a run covers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum Devices {
    /// These device names (within the plan's filter).
    Names(Vec<String>),
    /// This NetBox device id (within the plan's filter).
    Id(u64),
}

/// The outcome of an enqueue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "job", rename_all = "snake_case")]
pub enum Enqueued {
    /// A new job was queued.
    Queued(u64),
    /// The same run was already pending; nothing was added.
    AlreadyPending(u64),
}

impl Enqueued {
    /// The job id either way.
    pub fn job(self) -> u64 {
        match self {
            Enqueued::Queued(j) | Enqueued::AlreadyPending(j) => j,
        }
    }
}

/// Something that happened to a job.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum JobEvent {
    /// Queued.
    Queued {
        /// Job id.
        job: u64,
        /// Plan name.
        plan: String,
    },
    /// A worker took the job off the queue.
    Running {
        /// Job id.
        job: u64,
    },
    /// Devices resolved; collection starts.
    Started {
        /// Job id.
        job: u64,
        /// Devices it will collect.
        devices: usize,
    },
    /// One device finished.
    Device {
        /// Job id.
        job: u64,
        /// Device name.
        device: String,
        /// Every collection on it succeeded.
        ok: bool,
    },
    /// Finished (completed, failed or errored).
    Finished {
        /// Job id.
        job: u64,
        /// Final state.
        state: JobState,
    },
}

/// A plan with its schedule.
#[derive(Debug, Clone, Serialize)]
pub struct PlanStatus {
    /// The plan.
    pub plan: Plan,
    /// Last run and result.
    pub state: PlanState,
    /// When it runs next (seconds since the epoch); `None` for manual-only or disabled plans.
    pub next_run: Option<u64>,
    /// A run is queued or running.
    pub pending: bool,
}

/// The host failed to do what was asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HostError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No such plan.
    #[error("no plan named `{0}`")]
    NoSuchPlan(String),
    /// The plan is not valid.
    #[error("{0}")]
    InvalidPlan(String),
    /// No such job.
    #[error("no job {0}")]
    NoSuchJob(u64),
    /// NetBox could not be read.
    #[error("NetBox: {0}")]
    NetBox(#[from] crate::netbox::NetBoxError),
    /// The host is shutting down.
    #[error("nbfacts is shutting down")]
    ShuttingDown,
}

/// Prometheus counters.
#[derive(Debug, Default)]
pub struct Metrics {
    jobs_by_state: Mutex<HashMap<&'static str, u64>>,
    collections_ok: AtomicU64,
    collections_failed: AtomicU64,
    collect_ms_total: AtomicU64,
    plugin_ms_total: AtomicU64,
    write_ms_total: AtomicU64,
    plugin_traps: AtomicU64,
}

struct Queued {
    priority: Priority,
    seq: u64,
    job: u64,
    plan: Plan,
    devices: Option<Devices>,
    key: (String, Option<Devices>),
}

struct Inner {
    config: HostConfig,
    store: Store,
    netbox: NetBox,
    registry: Arc<Registry>,
    connectors: Arc<dyn ConnectorFactory>,
    queue: Mutex<Vec<Queued>>,
    queued: Notify,
    seq: AtomicU64,
    pending: Mutex<HashMap<(String, Option<Devices>), u64>>,
    sessions: Arc<Semaphore>,
    profiles: Mutex<HashMap<String, Arc<Semaphore>>>,
    devices: Mutex<HashMap<u64, Arc<tokio::sync::Mutex<()>>>>,
    cancels: Mutex<HashMap<u64, Arc<AtomicBool>>>,
    running: Mutex<HashSet<u64>>,
    events: broadcast::Sender<JobEvent>,
    metrics: Metrics,
    stopping: AtomicBool,
    stopped: Notify,
    plans_changed: Notify,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

/// The nbfacts host. Cheap to clone.
#[derive(Clone)]
pub struct Host {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host")
            .field("store", &self.inner.store.path())
            .field("netbox", &self.inner.netbox.url())
            .finish_non_exhaustive()
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Host {
    /// A host over `store`, reading and writing `netbox`, collecting with `registry`.
    /// Nothing runs until [`Host::start`].
    pub fn new(
        config: HostConfig,
        store: Store,
        netbox: NetBox,
        registry: Arc<Registry>,
        connectors: Arc<dyn ConnectorFactory>,
    ) -> Self {
        let (events, _) = broadcast::channel(65_536);
        Self {
            inner: Arc::new(Inner {
                sessions: Arc::new(Semaphore::new(config.max_sessions.max(1))),
                config,
                store,
                netbox,
                registry,
                connectors,
                queue: Mutex::new(Vec::new()),
                queued: Notify::new(),
                seq: AtomicU64::new(0),
                pending: Mutex::new(HashMap::new()),
                profiles: Mutex::new(HashMap::new()),
                devices: Mutex::new(HashMap::new()),
                cancels: Mutex::new(HashMap::new()),
                running: Mutex::new(HashSet::new()),
                events,
                metrics: Metrics::default(),
                stopping: AtomicBool::new(false),
                stopped: Notify::new(),
                plans_changed: Notify::new(),
                tasks: Mutex::new(Vec::new()),
            }),
        }
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The NetBox client.
    pub fn netbox(&self) -> &NetBox {
        &self.inner.netbox
    }

    /// The plugin registry.
    pub fn registry(&self) -> &Registry {
        &self.inner.registry
    }

    /// Runs waiting in the queue.
    pub fn queue_len(&self) -> usize {
        lock(&self.inner.queue).len()
    }

    /// Job events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<JobEvent> {
        self.inner.events.subscribe()
    }

    /// Adds or replaces a plan; the scheduler sees the change at once.
    pub fn add_plan(&self, plan: Plan) -> Result<(), HostError> {
        plan.validate().map_err(HostError::InvalidPlan)?;
        self.inner.store.put_plan(&plan)?;
        self.inner.plans_changed.notify_one();
        Ok(())
    }

    /// Removes a plan.
    pub fn remove_plan(&self, name: &str) -> Result<(), HostError> {
        if !self.inner.store.remove_plan(name)? {
            return Err(HostError::NoSuchPlan(name.into()));
        }
        self.inner.plans_changed.notify_one();
        Ok(())
    }

    /// Enables or disables a plan's scheduled runs.
    pub fn set_enabled(&self, name: &str, enabled: bool) -> Result<(), HostError> {
        let mut plan = self
            .inner
            .store
            .plan(name)?
            .ok_or_else(|| HostError::NoSuchPlan(name.into()))?;
        plan.enabled = enabled;
        self.add_plan(plan)
    }

    /// Every plan with its schedule.
    pub fn status(&self) -> Result<Vec<PlanStatus>, HostError> {
        let pending = lock(&self.inner.pending).clone();
        let mut out = Vec::new();
        for plan in self.inner.store.plans()? {
            let state = self.inner.store.plan_state(&plan.name)?;
            let next_run = next_due(&plan, &state, now_secs());
            let is_pending = pending
                .keys()
                .any(|(p, devices)| *p == plan.name && devices.is_none());
            out.push(PlanStatus {
                plan,
                state,
                next_run,
                pending: is_pending,
            });
        }
        Ok(out)
    }

    /// Queues a run of plan `name` (on `devices` only, when given). At most one pending run
    /// per plan and device selection: a second request returns the pending job.
    pub fn enqueue(
        &self,
        name: &str,
        trigger: Trigger,
        devices: Option<Devices>,
    ) -> Result<Enqueued, HostError> {
        let plan = self
            .inner
            .store
            .plan(name)?
            .ok_or_else(|| HostError::NoSuchPlan(name.into()))?;
        self.enqueue_plan(plan, trigger, devices)
    }

    fn enqueue_plan(
        &self,
        plan: Plan,
        trigger: Trigger,
        devices: Option<Devices>,
    ) -> Result<Enqueued, HostError> {
        let mut out = self.enqueue_many(vec![(plan, trigger, devices)])?;
        out.pop().ok_or(HostError::ShuttingDown)
    }

    /// Queues several runs, recording their new jobs in one store transaction.
    fn enqueue_many(
        &self,
        runs: Vec<(Plan, Trigger, Option<Devices>)>,
    ) -> Result<Vec<Enqueued>, HostError> {
        if self.inner.stopping.load(Ordering::Relaxed) {
            return Err(HostError::ShuttingDown);
        }
        let mut pending = lock(&self.inner.pending);
        let mut out = Vec::with_capacity(runs.len());
        let mut fresh = Vec::new();
        let mut jobs = Vec::new();
        for (plan, trigger, devices) in runs {
            let key = (plan.name.clone(), devices.clone());
            if let Some(job) = pending.get(&key) {
                out.push(Enqueued::AlreadyPending(*job));
                continue;
            }
            let mut job = Job::new(plan.name.clone(), plan.mode);
            job.trigger = trigger.name().to_string();
            job.state = JobState::Pending;
            job.log(
                "info",
                format!(
                    "queued by {}{}",
                    trigger.name(),
                    match &devices {
                        Some(Devices::Names(n)) => format!(" for {}", n.join(", ")),
                        Some(Devices::Id(id)) => format!(" for NetBox device {id}"),
                        None => String::new(),
                    }
                ),
            );
            // A placeholder until the store assigns the id.
            pending.insert(key.clone(), 0);
            out.push(Enqueued::Queued(0));
            fresh.push((plan, devices, key, out.len() - 1));
            jobs.push(job);
        }
        if let Err(e) = self.inner.store.create_jobs(&mut jobs) {
            for (_, _, key, _) in &fresh {
                pending.remove(key);
            }
            return Err(e.into());
        }
        for ((plan, devices, key, slot), job) in fresh.into_iter().zip(&jobs) {
            let id = job.id;
            pending.insert(key.clone(), id);
            if let Some(o) = out.get_mut(slot) {
                *o = Enqueued::Queued(id);
            }
            lock(&self.inner.cancels).insert(id, Arc::default());
            lock(&self.inner.queue).push(Queued {
                priority: plan.priority,
                seq: self.inner.seq.fetch_add(1, Ordering::Relaxed),
                job: id,
                plan: plan.clone(),
                devices,
                key,
            });
            self.count_state(JobState::Pending);
            let _ = self.inner.events.send(JobEvent::Queued {
                job: id,
                plan: plan.name,
            });
            self.inner.queued.notify_one();
        }
        Ok(out)
    }

    /// Queues one device (by NetBox id) with every enabled plan whose filter selects it.
    /// Returns the jobs (empty when no plan matches).
    pub async fn collect_device(
        &self,
        device_id: u64,
        trigger: Trigger,
    ) -> Result<Vec<Enqueued>, HostError> {
        let mut out = Vec::new();
        for plan in self.inner.store.plans()? {
            if !plan.enabled {
                continue;
            }
            let mut filter = plan.filter.clone();
            filter.ids = vec![device_id];
            let found = resolve_targets(
                &self.inner.netbox,
                &filter,
                &self.inner.config.platforms,
                plan.connection,
            )
            .await?;
            if !found.is_empty() {
                out.push(self.enqueue_plan(plan, trigger, Some(Devices::Id(device_id)))?);
            }
        }
        Ok(out)
    }

    /// Asks a job to stop: queued, it is dropped; running, devices not started yet are
    /// skipped and collections in progress finish (nothing is left half-written).
    pub fn cancel(&self, job: u64) -> Result<bool, HostError> {
        let flag = lock(&self.inner.cancels).get(&job).cloned();
        let Some(flag) = flag else {
            return Ok(false);
        };
        flag.store(true, Ordering::Relaxed);
        let removed = {
            let mut queue = lock(&self.inner.queue);
            let position = queue.iter().position(|q| q.job == job);
            position.map(|i| queue.swap_remove(i))
        };
        if let Some(q) = removed {
            lock(&self.inner.pending).remove(&q.key);
            lock(&self.inner.cancels).remove(&job);
            let mut record = self.inner.store.job_summary(job)?;
            record.cancelled = true;
            record.state = JobState::Failed;
            record.log("warning", "cancelled before it started");
            record.finished = Some(crate::reconcile::rfc3339(SystemTime::now()));
            self.inner.store.put_job(&record)?;
            self.count_state(JobState::Failed);
            let _ = self.inner.events.send(JobEvent::Finished {
                job,
                state: JobState::Failed,
            });
        }
        Ok(true)
    }

    /// Waits until `job` has finished and returns it, with its change sets.
    pub async fn wait(&self, job: u64) -> Result<Job, HostError> {
        let mut events = self.subscribe();
        loop {
            let not_found = |e| match e {
                StoreError::NoSuchJob(j) => HostError::NoSuchJob(j),
                other => HostError::Store(other),
            };
            let record = self.inner.store.job_summary(job).map_err(not_found)?;
            if record.finished.is_some() {
                return self.inner.store.job(job).map_err(not_found);
            }
            match tokio::time::timeout(Duration::from_secs(1), events.recv()).await {
                Ok(Ok(JobEvent::Finished { job: j, .. })) if j == job => {}
                Ok(Err(broadcast::error::RecvError::Closed)) => {
                    return Err(HostError::ShuttingDown);
                }
                _ => continue,
            }
        }
    }

    /// Starts the scheduler and the workers. Call once.
    pub fn start(&self) {
        let host = self.clone();
        lock(&self.inner.tasks).push(tokio::spawn(async move { host.schedule_loop().await }));
        self.start_workers();
    }

    /// Starts only the workers: queued runs execute, nothing is scheduled (one-shot runs).
    pub fn start_workers(&self) {
        let mut tasks = lock(&self.inner.tasks);
        for _ in 0..self.inner.config.workers.max(1) {
            let host = self.clone();
            tasks.push(tokio::spawn(async move { host.worker().await }));
        }
    }

    /// Stops taking work; queued jobs are cancelled; running jobs get `grace` to finish,
    /// then are cancelled (collections in progress still finish cleanly).
    pub async fn shutdown(&self, grace: Duration) {
        self.inner.stopping.store(true, Ordering::Relaxed);
        let queued: Vec<u64> = lock(&self.inner.queue).iter().map(|q| q.job).collect();
        for job in queued {
            let _ = self.cancel(job);
        }
        self.inner.stopped.notify_waiters();
        self.inner.queued.notify_waiters();
        let deadline = tokio::time::Instant::now() + grace;
        while !lock(&self.inner.running).is_empty() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let running: Vec<u64> = lock(&self.inner.running).iter().copied().collect();
        for job in running {
            let _ = self.cancel(job);
        }
        let tasks: Vec<_> = lock(&self.inner.tasks).drain(..).collect();
        for t in tasks {
            let _ = t.await;
        }
    }

    async fn schedule_loop(&self) {
        loop {
            if self.inner.stopping.load(Ordering::Relaxed) {
                return;
            }
            if let Err(e) = self.schedule_due() {
                tracing::warn!(error = %e, "Scheduler pass failed.");
            }
            tokio::select! {
                _ = tokio::time::sleep(self.inner.config.tick) => {}
                _ = self.inner.plans_changed.notified() => {}
                _ = self.inner.stopped.notified() => return,
            }
        }
    }

    /// Queues every enabled plan whose interval has elapsed since its last run (once, however
    /// many intervals were missed).
    pub fn schedule_due(&self) -> Result<usize, HostError> {
        let now = now_secs();
        let states = self.inner.store.plan_states()?;
        let due: Vec<(Plan, Trigger, Option<Devices>)> = self
            .inner
            .store
            .plans()?
            .into_iter()
            .filter(|plan| {
                let state = states.get(&plan.name).cloned().unwrap_or_default();
                next_due(plan, &state, now).is_some_and(|due| due <= now)
            })
            .map(|plan| (plan, Trigger::Schedule, None))
            .collect();
        if due.is_empty() {
            return Ok(0);
        }
        Ok(self
            .enqueue_many(due)?
            .iter()
            .filter(|e| matches!(e, Enqueued::Queued(_)))
            .count())
    }

    fn next_queued(&self) -> Option<Queued> {
        let mut queue = lock(&self.inner.queue);
        let best = queue
            .iter()
            .enumerate()
            .max_by(|(_, a), (_, b)| a.priority.cmp(&b.priority).then(b.seq.cmp(&a.seq)))
            .map(|(i, _)| i)?;
        Some(queue.swap_remove(best))
    }

    async fn worker(&self) {
        loop {
            if self.inner.stopping.load(Ordering::Relaxed) {
                return;
            }
            let notified = self.inner.queued.notified();
            let Some(item) = self.next_queued() else {
                tokio::select! {
                    _ = notified => {}
                    _ = self.inner.stopped.notified() => return,
                    _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                }
                continue;
            };
            let job = item.job;
            lock(&self.inner.running).insert(job);
            if let Err(e) = self.execute(&item).await {
                tracing::error!(job, error = %e, "Job could not be recorded.");
            }
            lock(&self.inner.running).remove(&job);
            {
                // Only this job's entry: a newer run of the same plan may be pending already.
                let mut pending = lock(&self.inner.pending);
                if pending.get(&item.key) == Some(&job) {
                    pending.remove(&item.key);
                }
            }
            lock(&self.inner.cancels).remove(&job);
        }
    }

    async fn execute(&self, item: &Queued) -> Result<(), HostError> {
        let store = &self.inner.store;
        let _ = self.inner.events.send(JobEvent::Running { job: item.job });
        let mut record = store.job_summary(item.job)?;
        let plan = &item.plan;
        let started = now_secs();
        store.put_plan_state(
            &plan.name,
            &PlanState {
                last_run: Some(started),
                last_job: Some(item.job),
                last_result: None,
            },
        )?;
        let state = self.execute_job(item, &mut record).await;
        // The run is over: a new request for the same plan queues a new job from here on
        // (before the record shows it finished, so a waiter never sees a stale "pending").
        lock(&self.inner.pending).remove(&item.key);
        store.put_job(&record)?;
        store.put_plan_state(
            &plan.name,
            &PlanState {
                last_run: Some(started),
                last_job: Some(item.job),
                last_result: Some(state),
            },
        )?;
        self.count_state(state);
        let _ = self.inner.events.send(JobEvent::Finished {
            job: item.job,
            state,
        });
        Ok(())
    }

    async fn execute_job(&self, item: &Queued, record: &mut Job) -> JobState {
        let plan = &item.plan;
        let fail = |record: &mut Job, message: String| {
            record.state = JobState::Errored;
            record.log("error", &message);
            record.finished = Some(crate::reconcile::rfc3339(SystemTime::now()));
            JobState::Errored
        };
        let mut filter: DeviceFilter = plan.filter.clone();
        match &item.devices {
            Some(Devices::Names(names)) => filter.devices = names.clone(),
            Some(Devices::Id(id)) => filter.ids = vec![*id],
            None => {}
        }
        let targets = match resolve_targets(
            &self.inner.netbox,
            &filter,
            &self.inner.config.platforms,
            plan.connection,
        )
        .await
        {
            Ok(t) => t,
            Err(e) => return fail(record, format!("cannot list devices in NetBox: {e}")),
        };
        if targets.is_empty() {
            return fail(record, "no device in NetBox matches the plan".into());
        }
        let connector = match self.inner.connectors.connector(plan) {
            Ok(c) => c,
            Err(e) => return fail(record, e),
        };
        let interface_filter = match plan.interface_regex.as_deref().map(regex::Regex::new) {
            Some(Err(e)) => return fail(record, format!("interface_regex: {e}")),
            Some(Ok(re)) => Some(re),
            None => None,
        };
        let writer = match job::writer_for(record, &self.inner.netbox).await {
            Ok(w) => w,
            Err(e) => return fail(record, e),
        };
        let cancel = lock(&self.inner.cancels)
            .get(&item.job)
            .cloned()
            .unwrap_or_default();
        let events = self.inner.events.clone();
        let job_id = item.job;
        let host = self.clone();
        let mut spec = RunSpec::new(plan.collectors.iter().cloned());
        spec.interface_filter = interface_filter;
        spec.driver_override = plan.driver.clone();
        spec.concurrency = self.inner.config.max_sessions.max(1);
        spec.gate = Some(Arc::new(HostGate {
            host: self.clone(),
            profile: plan.credentials.clone(),
        }));
        spec.cancel = cancel;
        spec.retries = self.inner.config.retries;
        spec.backoff = self.inner.config.backoff;
        spec.on_device = Some(Arc::new(
            move |target: &Target, results: &[CollectionResult]| {
                host.count_results(results);
                let _ = events.send(JobEvent::Device {
                    job: job_id,
                    device: target.name.clone(),
                    ok: results.iter().all(CollectionResult::ok),
                });
            },
        ));
        let _ = self.inner.events.send(JobEvent::Started {
            job: item.job,
            devices: targets.len(),
        });
        self.inner
            .store
            .put_job(&{
                let mut r = record.clone();
                r.state = JobState::Running;
                r
            })
            .ok();
        job::run(
            record,
            &self.inner.registry,
            connector.as_ref(),
            &Sink::new(self.inner.netbox.clone(), writer).with_store(self.inner.store.clone()),
            &targets,
            &spec,
        )
        .await;
        record.state
    }

    fn count_state(&self, state: JobState) {
        let name = match state {
            JobState::Pending => "pending",
            JobState::Scheduled => "scheduled",
            JobState::Running => "running",
            JobState::Completed => "completed",
            JobState::Failed => "failed",
            JobState::Errored => "errored",
        };
        *lock(&self.inner.metrics.jobs_by_state)
            .entry(name)
            .or_default() += 1;
    }

    fn count_results(&self, results: &[CollectionResult]) {
        let m = &self.inner.metrics;
        for r in results {
            if r.ok() {
                m.collections_ok.fetch_add(1, Ordering::Relaxed);
            } else {
                m.collections_failed.fetch_add(1, Ordering::Relaxed);
                if r.error
                    .as_deref()
                    .is_some_and(|e| e.contains("stopped:") || e.contains("crashed"))
                {
                    m.plugin_traps.fetch_add(1, Ordering::Relaxed);
                }
            }
            m.collect_ms_total
                .fetch_add(r.collect_ms, Ordering::Relaxed);
            m.plugin_ms_total.fetch_add(r.plugin_ms, Ordering::Relaxed);
            m.write_ms_total.fetch_add(r.write_ms, Ordering::Relaxed);
        }
    }

    /// The metrics in Prometheus text format.
    pub fn metrics_text(&self) -> String {
        let m = &self.inner.metrics;
        let mut out = String::new();
        out.push_str("# HELP nbfacts_jobs_total Jobs by state transition.\n# TYPE nbfacts_jobs_total counter\n");
        let mut states: Vec<_> = lock(&m.jobs_by_state)
            .iter()
            .map(|(k, v)| (*k, *v))
            .collect();
        states.sort();
        for (state, n) in states {
            out.push_str(&format!("nbfacts_jobs_total{{state=\"{state}\"}} {n}\n"));
        }
        out.push_str("# HELP nbfacts_collections_total Device collections by result.\n# TYPE nbfacts_collections_total counter\n");
        out.push_str(&format!(
            "nbfacts_collections_total{{result=\"ok\"}} {}\nnbfacts_collections_total{{result=\"failed\"}} {}\n",
            m.collections_ok.load(Ordering::Relaxed),
            m.collections_failed.load(Ordering::Relaxed)
        ));
        out.push_str("# HELP nbfacts_collect_seconds_total Time spent collecting (device and plugin).\n# TYPE nbfacts_collect_seconds_total counter\n");
        out.push_str(&format!(
            "nbfacts_collect_seconds_total {:.3}\n",
            m.collect_ms_total.load(Ordering::Relaxed) as f64 / 1000.0
        ));
        out.push_str("# HELP nbfacts_plugin_seconds_total Of the time spent collecting, the time plugin code ran (parsers).\n# TYPE nbfacts_plugin_seconds_total counter\n");
        out.push_str(&format!(
            "nbfacts_plugin_seconds_total {:.3}\n",
            m.plugin_ms_total.load(Ordering::Relaxed) as f64 / 1000.0
        ));
        out.push_str("# HELP nbfacts_write_seconds_total Time spent reconciling and writing.\n# TYPE nbfacts_write_seconds_total counter\n");
        out.push_str(&format!(
            "nbfacts_write_seconds_total {:.3}\n",
            m.write_ms_total.load(Ordering::Relaxed) as f64 / 1000.0
        ));
        out.push_str("# HELP nbfacts_plugin_traps_total Plugin calls stopped by the sandbox or crashed.\n# TYPE nbfacts_plugin_traps_total counter\n");
        out.push_str(&format!(
            "nbfacts_plugin_traps_total {}\n",
            m.plugin_traps.load(Ordering::Relaxed)
        ));
        let nb = self.inner.netbox.counts();
        out.push_str("# HELP nbfacts_netbox_requests_total NetBox API requests.\n# TYPE nbfacts_netbox_requests_total counter\n");
        out.push_str(&format!(
            "nbfacts_netbox_requests_total{{kind=\"read\"}} {}\nnbfacts_netbox_requests_total{{kind=\"write\"}} {}\nnbfacts_netbox_requests_total{{kind=\"retry\"}} {}\n",
            nb.reads, nb.writes, nb.retries
        ));
        out.push_str(&format!(
            "# HELP nbfacts_queue_length Jobs waiting.\n# TYPE nbfacts_queue_length gauge\nnbfacts_queue_length {}\n# HELP nbfacts_running_jobs Jobs running.\n# TYPE nbfacts_running_jobs gauge\nnbfacts_running_jobs {}\n",
            lock(&self.inner.queue).len(),
            lock(&self.inner.running).len()
        ));
        out
    }
}

/// When `plan` is next due: its last run plus its interval (now when it never ran); `None`
/// for disabled or manual-only plans.
pub fn next_due(plan: &Plan, state: &PlanState, now: u64) -> Option<u64> {
    let interval = plan.interval?.as_secs();
    if !plan.enabled {
        return None;
    }
    Some(state.last_run.map_or(now, |last| last + interval))
}

/// The host's admission: a global session slot, a slot of the credentials profile, and the
/// device's lock, taken in that order and released together.
struct HostGate {
    host: Host,
    profile: String,
}

impl Gate for HostGate {
    fn enter<'a>(
        &'a self,
        target: &'a Target,
    ) -> crate::device::BoxFuture<'a, Box<dyn std::any::Any + Send>> {
        Box::pin(async move {
            let inner = &self.host.inner;
            let profile = lock(&inner.profiles)
                .entry(self.profile.clone())
                .or_insert_with(|| Arc::new(Semaphore::new(inner.config.max_per_profile.max(1))))
                .clone();
            let device = lock(&inner.devices).entry(target.id).or_default().clone();
            // The device lock first: a run waiting for a busy device holds no session slot.
            let device_guard = device.lock_owned().await;
            let session = inner.sessions.clone().acquire_owned().await.ok();
            let profile = profile.acquire_owned().await.ok();
            Box::new((device_guard, session, profile)) as Box<dyn std::any::Any + Send>
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overdue_plans_are_due_once_from_their_last_run() {
        let mut plan = Plan::new("p", ["lldp"]);
        plan.interval = Some(Duration::from_secs(3600));
        let never = PlanState::default();
        assert_eq!(next_due(&plan, &never, 1000), Some(1000));
        let ran = PlanState {
            last_run: Some(1000),
            ..PlanState::default()
        };
        assert_eq!(next_due(&plan, &ran, 1000), Some(4600));
        // Ten intervals later it is due (once: it is one due time, not ten).
        assert!(next_due(&plan, &ran, 40_000).is_some_and(|d| d <= 40_000));
        plan.enabled = false;
        assert_eq!(next_due(&plan, &ran, 40_000), None);
    }
}
