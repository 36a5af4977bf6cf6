//! Embedding nbfacts: a host, a plan, a run, and its events — no CLI, no global logger.
//!
//! Needs a NetBox (`scripts/netbox up`, then `set -a; eval "$(scripts/netbox env)"; set +a`):
//!
//! ```sh
//! cargo run -p nbfacts-host --example embed
//! ```
//!
//! It makes sure NetBox has a device `edge1` (site `nbfacts-embed`), adds a plan for it that
//! collects interfaces and ARP, runs the plan through the host's queue with the device
//! answering from the recorded replies in `examples/replay/edge1`, prints the job events as
//! they arrive and the result.

// Indexing into JSON values returns `Null` for missing keys; it never panics.
#![allow(clippy::indexing_slicing)]

use std::sync::Arc;
use std::time::Duration;

use nbfacts_host::host::{ConnectorFactory, Host, HostConfig, JobEvent, Trigger};
use nbfacts_host::job::{Connector, ReplayConnector, Store};
use nbfacts_host::netbox::{NetBox, NetBoxConfig, Secret, ensure_setup};
use nbfacts_host::plan::Plan;
use nbfacts_host::{Registry, Runtime, RuntimeConfig};
use serde_json::{Value, json};

/// Every plan reads recorded replies: device NAME answers from `examples/replay/NAME`.
struct Recorded;

impl ConnectorFactory for Recorded {
    fn connector(&self, _plan: &Plan) -> Result<Arc<dyn Connector>, String> {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/replay");
        Ok(Arc::new(ReplayConnector::new(root)))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("NETBOX_URL").map_err(|_| "set NETBOX_URL and NETBOX_TOKEN")?;
    let token = std::env::var("NETBOX_TOKEN").map_err(|_| "set NETBOX_TOKEN")?;
    let netbox = NetBox::new(NetBoxConfig::new(url, Secret::new(token)))?;
    ensure_setup(&netbox).await?;
    seed(&netbox).await?;

    // The plugin runtime and the built-in Junos plugin.
    let runtime = Runtime::new(RuntimeConfig::default())?;
    let mut registry = Registry::new();
    for builtin in nbfacts_builtin::ALL {
        registry.add(runtime.load(builtin.wasm, builtin.name).await?)?;
    }

    // The host: a store, NetBox, the plugins, and how to reach devices.
    let dir = std::env::temp_dir().join(format!("nbfacts-embed-{}", std::process::id()));
    let host = Host::new(
        HostConfig::default(),
        Store::open(dir.join("store.redb"))?,
        netbox,
        Arc::new(registry),
        Arc::new(Recorded),
    );
    let mut plan = Plan::new("embed-edge1", ["interfaces", "arp"]);
    plan.filter.devices = vec!["edge1".into()];
    host.add_plan(plan)?;

    let mut events = host.subscribe();
    host.start_workers();
    let job = host.enqueue("embed-edge1", Trigger::Manual, None)?.job();
    let printer = tokio::spawn(async move {
        while let Ok(event) = events.recv().await {
            println!(
                "event: {}",
                serde_json::to_string(&event).unwrap_or_default()
            );
            if matches!(event, JobEvent::Finished { .. }) {
                break;
            }
        }
    });
    let record = host.wait(job).await?;
    let _ = printer.await;
    println!(
        "job {} {}: {}; {} object(s) written",
        record.id,
        record.state,
        record.counts(),
        record.writes()
    );
    host.shutdown(Duration::from_secs(5)).await;
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}

/// Site, device type, role, platform and the device `edge1`, if missing.
async fn seed(nb: &NetBox) -> Result<(), Box<dyn std::error::Error>> {
    async fn ensure(
        nb: &NetBox,
        path: &str,
        key: &str,
        value: &str,
        body: Value,
    ) -> Result<Value, Box<dyn std::error::Error>> {
        Ok(nb.get_or_create(path, key, value, body).await?)
    }
    let site = ensure(
        nb,
        "/api/dcim/sites/",
        "slug",
        "nbfacts-embed",
        json!({"name": "nbfacts embed", "slug": "nbfacts-embed"}),
    )
    .await?;
    let maker = ensure(
        nb,
        "/api/dcim/manufacturers/",
        "slug",
        "juniper",
        json!({"name": "Juniper", "slug": "juniper"}),
    )
    .await?;
    let dtype = ensure(
        nb,
        "/api/dcim/device-types/",
        "slug",
        "mx480",
        json!({"manufacturer": maker["id"], "model": "MX480", "slug": "mx480"}),
    )
    .await?;
    let role = ensure(
        nb,
        "/api/dcim/device-roles/",
        "slug",
        "edge",
        json!({"name": "Edge", "slug": "edge", "color": "ff9800"}),
    )
    .await?;
    let platform = ensure(
        nb,
        "/api/dcim/platforms/",
        "slug",
        "junos",
        json!({"name": "Junos", "slug": "junos"}),
    )
    .await?;
    ensure(
        nb,
        "/api/dcim/devices/",
        "name",
        "edge1",
        json!({
            "name": "edge1", "site": site["id"], "device_type": dtype["id"], "role": role["id"],
            "platform": platform["id"], "status": "active",
        }),
    )
    .await?;
    Ok(())
}
