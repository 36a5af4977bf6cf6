//! The scheduler against a real NetBox: enqueue-once, cancellation, schedule state surviving a
//! restart (an overdue plan runs once), enable/disable and interval changes, per-device locks
//! and retries of transient device failures.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use nbfacts_host::device::BoxFuture;
use nbfacts_host::facts::{DeviceError, DeviceInfo};
use nbfacts_host::host::{ConnectorFactory, Enqueued, Host, HostConfig, Trigger};
use nbfacts_host::job::{Connector, JobState, PlanState, Store};
use nbfacts_host::netbox::{Target, ensure_setup};
use nbfacts_host::plan::Plan;
use nbfacts_host::{DeviceSession, ReplayDevice};

use super::netbox::{netbox, seed};

/// A device answering from a small ARP table, slowly, failing its first `fail_first` RPCs
/// with a transport error, and counting how many sessions use it at once.
struct Device {
    inner: ReplayDevice,
    delay: Duration,
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    active: AtomicUsize,
    max_active: AtomicUsize,
    calls: AtomicUsize,
    fail_first: AtomicUsize,
}

impl DeviceSession for Device {
    fn netconf_rpc<'a>(&'a self, rpc: &'a str) -> BoxFuture<'a, Result<String, DeviceError>> {
        Box::pin(async move {
            self.shared.calls.fetch_add(1, Ordering::SeqCst);
            if self
                .shared
                .fail_first
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                return Err(DeviceError::Transport("connection reset (injected)".into()));
            }
            let now = self.shared.active.fetch_add(1, Ordering::SeqCst) + 1;
            self.shared.max_active.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(self.delay).await;
            self.shared.active.fetch_sub(1, Ordering::SeqCst);
            self.inner.netconf_rpc(rpc).await
        })
    }
    fn cli<'a>(&'a self, command: &'a str) -> BoxFuture<'a, Result<String, DeviceError>> {
        self.inner.cli(command)
    }
    fn info(&self) -> DeviceInfo {
        self.inner.info()
    }
}

struct Factory {
    shared: Arc<Shared>,
    delay: Duration,
}

impl ConnectorFactory for Factory {
    fn connector(&self, _plan: &Plan) -> Result<Arc<dyn Connector>, String> {
        Ok(Arc::new(Conn {
            shared: self.shared.clone(),
            delay: self.delay,
        }))
    }
}

struct Conn {
    shared: Arc<Shared>,
    delay: Duration,
}

impl Connector for Conn {
    fn open(&self, target: &Target) -> Result<Arc<dyn DeviceSession>, String> {
        let arp = "<arp-table-information><arp-table-entry><mac-address>00:11:22:33:44:55</mac-address>\
             <ip-address>203.0.113.77</ip-address><interface-name>ge-0/0/0.0</interface-name>\
             <time-to-expire>100</time-to-expire></arp-table-entry></arp-table-information>";
        let files = [(
            "get-arp-table-information.xml".to_string(),
            Arc::<str>::from(arp),
        )]
        .into_iter()
        .collect();
        Ok(Arc::new(Device {
            inner: ReplayDevice::from_memory(&target.name, "junos", files),
            delay: self.delay,
            shared: self.shared.clone(),
        }))
    }
}

async fn host(store: &Store, shared: Arc<Shared>, delay: Duration) -> Host {
    let registry = nbfacts_tests::junos_registry().await;
    Host::new(
        HostConfig {
            workers: 2,
            retries: 2,
            backoff: Duration::from_millis(20),
            tick: Duration::from_millis(100),
            ..HostConfig::default()
        },
        store.clone(),
        netbox(),
        Arc::new(registry),
        Arc::new(Factory { shared, delay }),
    )
}

fn plan(name: &str, device: &str) -> Plan {
    let mut p = Plan::new(name, ["arp"]);
    p.filter.devices = vec![device.to_string()];
    p.interval = Some(Duration::from_secs(3600));
    p
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a running NetBox: scripts/netbox up"]
async fn netbox_scheduler_enqueue_once_cancel_restart_and_interval_changes() {
    let nb = netbox();
    ensure_setup(&nb).await.unwrap();
    let device = format!("sched-{}", std::process::id());
    seed(&nb, &device).await;
    let store = Store::open(tempfile::tempdir().unwrap().keep().join("s.redb")).unwrap();
    let shared = Arc::new(Shared::default());
    let h = host(&store, shared.clone(), Duration::ZERO).await;
    h.add_plan(plan("hourly", &device)).unwrap();

    // Never ran: due now, queued once however often the scheduler looks.
    assert_eq!(h.schedule_due().unwrap(), 1);
    assert_eq!(h.schedule_due().unwrap(), 0);
    let again = h.enqueue("hourly", Trigger::Manual, None).unwrap();
    let Enqueued::AlreadyPending(first) = again else {
        panic!("expected the pending job, got {again:?}")
    };
    // Cancelled while queued: it never runs.
    assert!(h.cancel(first).unwrap());
    let cancelled = store.job(first).unwrap();
    assert!(cancelled.cancelled);
    assert_eq!(cancelled.state, JobState::Failed);

    // Run it for real.
    h.start_workers();
    let mut events = h.subscribe();
    assert_eq!(h.schedule_due().unwrap(), 1);
    let done = loop {
        if let Ok(nbfacts_host::host::JobEvent::Finished { job, state }) = events.recv().await {
            break (job, state);
        }
    };
    assert_eq!(done.1, JobState::Completed);
    assert_eq!(h.schedule_due().unwrap(), 0, "not due again for an hour");
    h.shutdown(Duration::from_secs(5)).await;
    drop(h);

    // A restart keeps the schedule: still not due.
    let h = host(&store, shared.clone(), Duration::ZERO).await;
    assert_eq!(h.schedule_due().unwrap(), 0);
    // Overdue by five intervals (nbfacts was down): it runs once, not five times.
    let state = store.plan_state("hourly").unwrap();
    store
        .put_plan_state(
            "hourly",
            &PlanState {
                last_run: Some(now() - 5 * 3600),
                ..state
            },
        )
        .unwrap();
    assert_eq!(h.schedule_due().unwrap(), 1);
    assert_eq!(h.schedule_due().unwrap(), 0);
    let pending_job = store.jobs().unwrap()[0].id;
    h.cancel(pending_job).unwrap();

    // Disabled: never scheduled; enabled again: due.
    h.set_enabled("hourly", false).unwrap();
    assert_eq!(h.schedule_due().unwrap(), 0);
    h.set_enabled("hourly", true).unwrap();
    assert_eq!(h.schedule_due().unwrap(), 1);
    h.cancel(store.jobs().unwrap()[0].id).unwrap();
    // A longer interval moves the next run out without a restart.
    let mut p = plan("hourly", &device);
    p.interval = Some(Duration::from_secs(6 * 3600));
    h.add_plan(p).unwrap();
    assert_eq!(h.schedule_due().unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a running NetBox: scripts/netbox up"]
async fn netbox_scheduler_locks_devices_and_retries_transient_failures() {
    let nb = netbox();
    ensure_setup(&nb).await.unwrap();
    let device = format!("lock-{}", std::process::id());
    seed(&nb, &device).await;
    let store = Store::open(tempfile::tempdir().unwrap().keep().join("s.redb")).unwrap();
    let shared = Arc::new(Shared::default());
    let h = host(&store, shared.clone(), Duration::from_millis(300)).await;
    // Two plans on the same device, two workers: they must not collect it at once.
    h.add_plan(plan("a", &device)).unwrap();
    h.add_plan(plan("b", &device)).unwrap();
    h.start_workers();
    let ja = h.enqueue("a", Trigger::Manual, None).unwrap().job();
    let jb = h.enqueue("b", Trigger::Manual, None).unwrap().job();
    let (a, b) = tokio::join!(h.wait(ja), h.wait(jb));
    assert_eq!(a.unwrap().state, JobState::Completed);
    assert_eq!(b.unwrap().state, JobState::Completed);
    assert_eq!(
        shared.max_active.load(Ordering::SeqCst),
        1,
        "two sessions used the device at once"
    );

    // Transient failures: the first two RPCs fail with a transport error; retries recover.
    shared.fail_first.store(2, Ordering::SeqCst);
    let j = h.enqueue("a", Trigger::Manual, None).unwrap().job();
    let job = h.wait(j).await.unwrap();
    assert_eq!(job.state, JobState::Completed, "{:#?}", job.log);
    // More failures than retries: the job fails with the device's error, clearly.
    shared.fail_first.store(10, Ordering::SeqCst);
    let j = h.enqueue("a", Trigger::Manual, None).unwrap().job();
    let job = h.wait(j).await.unwrap();
    assert_eq!(job.state, JobState::Failed);
    let error = job.results[0].error.clone().unwrap();
    assert!(error.contains("connection reset"), "{error}");
    h.shutdown(Duration::from_secs(5)).await;
}
