//! # nbfacts-host: the embeddable nbfacts runtime
//!
//! The host owns every side effect of nbfacts — device sessions, scheduling, NetBox writes,
//! state — and runs vendor plugins (WebAssembly components) that only fetch and parse.
//! The `nbfacts` command-line tool is a thin layer over this library.
//!
//! Main types:
//! * [`Runtime`]: the wasmtime engine and the compiled-plugin cache; loads [`Plugin`]s.
//! * [`Registry`]: maps driver names (and aliases such as `netbox_facts.napalm.junos`) to
//!   plugins and dispatches collections.
//! * [`DeviceSession`]: what a plugin's `session` is backed by; [`ReplayDevice`] answers from
//!   recorded replies.
//!
//! ```no_run
//! # async fn demo(wasm: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use nbfacts_host::{CollectRequest, Registry, ReplayDevice, Runtime, RuntimeConfig};
//!
//! let runtime = Runtime::new(RuntimeConfig::default())?;
//! let mut registry = Registry::new();
//! registry.add(runtime.load(wasm, "junos.wasm").await?)?;
//! let device = Arc::new(ReplayDevice::new("recorded/router1", "junos"));
//! let facts = registry.collect("junos", CollectRequest::new("lldp"), device).await?;
//! println!("{facts:?}");
//! # Ok(()) }
//! ```
//!
//! ## Design decisions
//!
//! * **One engine, a fresh store per call.** A trapped instance can never be re-entered, and
//!   instantiating from an `InstancePre` with the pooling allocator costs microseconds, so
//!   every collection gets a clean instance and nothing leaks between calls.
//! * **Deadlines by epoch, memory by limiter.** A ticker thread advances the engine epoch every
//!   5 ms; at each tick the plugin yields to the executor and the deadline is checked, so a
//!   spinning plugin neither blocks its thread nor outlives its deadline.
//! * **Refuse early.** A component that imports filesystem or sockets, or that was built
//!   against another contract version, is refused at load with a message that names it,
//!   never with a decode error at run time.
//! * **No global state.** No global logger, no environment reads; configuration is passed in.
#![deny(unsafe_code)]
// Errors are returned once per collection or request, never in a hot loop; keeping them
// unboxed keeps matching on them simple for embedders.
#![allow(clippy::result_large_err)]

pub mod api;
pub mod device;
pub mod error;
pub mod host;
pub mod job;
pub mod netbox;
pub mod plan;
pub mod plugin;
pub mod reconcile;
pub mod registry;
pub mod session;

pub use device::{BoxFuture, DeviceSession, ReplayDevice};
pub use error::{CollectionError, Limit, PluginError, PluginFailure};
pub use nbfacts_sdk::{self as facts, CollectRequest, Facts, PluginInfo};
pub use plugin::{CallTimes, Limits, Plugin, Runtime, RuntimeConfig};
pub use registry::Registry;
