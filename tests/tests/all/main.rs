//! Cross-crate tests. One binary with modules, to keep link time down.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod api;
mod netbox;
mod netbox_budget;
mod netbox_coalesce;
mod netbox_faults;
mod netbox_jobs;
mod netbox_junos;
mod netbox_plugins;
mod netbox_scheduler;
mod parity;
mod registry;
mod sandbox;

use std::sync::Arc;
use std::time::Duration;

use nbfacts_host::{Limits, Plugin, Runtime, RuntimeConfig};

/// A runtime with tight limits, so misbehaving plugins are stopped quickly.
pub fn tight_runtime() -> Runtime {
    Runtime::new(RuntimeConfig {
        limits: Limits {
            memory_bytes: 64 << 20,
            deadline: Duration::from_secs(2),
            max_device_calls: 1_000,
            ..Limits::default()
        },
        cache_dir: None,
        max_instances: 32,
        ..RuntimeConfig::default()
    })
    .unwrap()
}

pub async fn load(runtime: &Runtime, wasm: &[u8], name: &str) -> Plugin {
    runtime.load(wasm, name).await.unwrap()
}

/// A device that answers every RPC with a small ARP table.
pub fn arp_device() -> Arc<nbfacts_host::ReplayDevice> {
    let dir = tempfile::tempdir().unwrap().keep();
    std::fs::write(
        dir.join("get-arp-table-information.xml"),
        "<arp-table-information><arp-table-entry><mac-address>00:11:22:33:44:55</mac-address>\
         <ip-address>192.0.2.1</ip-address><interface-name>ge-0/0/0.0</interface-name>\
         <time-to-expire>100</time-to-expire></arp-table-entry></arp-table-information>",
    )
    .unwrap();
    Arc::new(nbfacts_host::ReplayDevice::new(dir, "misbehave"))
}
