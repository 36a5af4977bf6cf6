//! Scheduler overhead: 10,000 plans, 1,000 of them due at once. Measures the scheduler pass
//! (scan every plan, queue the due ones, record their jobs) and the time from "due" to a
//! worker starting each job.
//!
//! `cargo bench -p nbfacts-host --bench scheduler [-- PLANS DUE]`
//!
//! NetBox is an address that refuses connections, so each job ends at once (errored: NetBox
//! unreachable) and what is measured is the scheduler, the queue and the store, not devices.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use nbfacts_host::Registry;
use nbfacts_host::host::{ConnectorFactory, Host, HostConfig, JobEvent};
use nbfacts_host::job::{Connector, PlanState, ReplayConnector, Store};
use nbfacts_host::netbox::{NetBox, NetBoxConfig, Secret};
use nbfacts_host::plan::Plan;

struct Nowhere;

impl ConnectorFactory for Nowhere {
    fn connector(&self, _plan: &Plan) -> Result<Arc<dyn Connector>, String> {
        Ok(Arc::new(ReplayConnector::new("/nonexistent")))
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let plans = args.first().copied().unwrap_or(10_000);
    let due = args.get(1).copied().unwrap_or(1_000);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("store.redb")).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let setup = Instant::now();
    for i in 0..plans {
        let mut p = Plan::new(format!("plan{i:05}"), ["lldp"]);
        p.filter.devices = vec![format!("dev{i:05}")];
        p.interval = Some(Duration::from_secs(3600));
        store.put_plan(&p).unwrap();
        let last = if i < due { now - 7200 } else { now };
        store
            .put_plan_state(
                &p.name,
                &PlanState {
                    last_run: Some(last),
                    ..PlanState::default()
                },
            )
            .unwrap();
    }
    println!(
        "setup: {plans} plans stored in {:.2} s",
        setup.elapsed().as_secs_f64()
    );

    let mut config = NetBoxConfig::new("http://127.0.0.1:9", Secret::new("x"));
    config.retries = 0;
    config.timeout = Duration::from_secs(2);
    let host = Host::new(
        HostConfig {
            workers: 8,
            ..HostConfig::default()
        },
        store,
        NetBox::new(config).unwrap(),
        Arc::new(Registry::new()),
        Arc::new(Nowhere),
    );
    let mut events = host.subscribe();
    host.start_workers();

    let t0 = Instant::now();
    let queued = host.schedule_due().unwrap();
    let pass = t0.elapsed();
    assert_eq!(queued, due);
    let mut started = Vec::with_capacity(due);
    let mut finished = 0;
    while finished < due {
        match events.recv().await {
            Ok(JobEvent::Running { .. }) => started.push(t0.elapsed()),
            Ok(JobEvent::Finished { .. }) => finished += 1,
            Ok(_) => {}
            Err(e) => panic!("{e}"),
        }
    }
    let total = t0.elapsed();
    started.sort();
    let pct = |p: f64| started[((started.len() as f64 - 1.0) * p) as usize];
    println!(
        "scheduler pass over {plans} plans, {due} due: {:.1} ms ({:.1} µs per plan scanned, {:.0} µs per job queued)",
        pass.as_secs_f64() * 1e3,
        pass.as_secs_f64() * 1e6 / plans as f64,
        pass.as_secs_f64() * 1e6 / due as f64
    );
    println!(
        "due → started: first {:.1} ms, p50 {:.1} ms, p99 {:.1} ms, last {:.1} ms; all {due} jobs finished in {:.2} s ({:.2} ms per job with 8 workers)",
        started[0].as_secs_f64() * 1e3,
        pct(0.5).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        pct(1.0).as_secs_f64() * 1e3,
        total.as_secs_f64(),
        total.as_secs_f64() * 1e3 / due as f64
    );
    host.shutdown(Duration::from_secs(5)).await;
}
