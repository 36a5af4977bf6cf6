//! # nbfacts-sdk: write an nbfacts vendor plugin
//!
//! A vendor plugin teaches nbfacts how to *fetch and parse* facts from one family of network
//! devices. It is a WebAssembly component built for `wasm32-wasip2` that the nbfacts host runs
//! in a sandbox: the plugin never sees sockets, credentials or NetBox. It asks the host's
//! [`Device`] for RPC replies or CLI output and returns typed [`Facts`].
//!
//! A plugin author writes one `impl Collector for T` and one `export_collector!(T)`. Nothing
//! else: no `unsafe`, no direct dependency on `wit-bindgen`.
//!
//! ```
//! use nbfacts_sdk::{
//!     export_collector, ArpEntry, CollectError, CollectRequest, Collector, Device, Driver,
//!     Facts, PluginMeta,
//! };
//!
//! struct Acme;
//!
//! impl Collector for Acme {
//!     fn meta() -> PluginMeta {
//!         PluginMeta::new("acme", env!("CARGO_PKG_VERSION"))
//!             .driver(Driver { name: "acmeos".into(), aliases: vec![] })
//!             .collectors(&["arp"])
//!             .capabilities(&["cli"])
//!     }
//!
//!     fn collect(request: &CollectRequest, device: &dyn Device) -> Result<Facts, CollectError> {
//!         match request.collector.as_str() {
//!             "arp" => {
//!                 let text = device.cli("show arp").map_err(CollectError::Device)?;
//!                 Ok(Facts::Arp(parse_arp(&text)))
//!             }
//!             other => Err(nbfacts_sdk::not_supported(other)),
//!         }
//!     }
//! }
//!
//! /// `10.0.0.1 00:11:22:33:44:55 eth0 120` per line.
//! fn parse_arp(text: &str) -> Vec<ArpEntry> {
//!     text.lines()
//!         .filter_map(|line| {
//!             let mut f = line.split_whitespace();
//!             Some(ArpEntry {
//!                 ip: f.next()?.to_string(),
//!                 mac: f.next()?.to_uppercase(),
//!                 interface: f.next()?.to_string(),
//!                 age: f.next()?.parse().ok()?,
//!                 extra: vec![],
//!             })
//!         })
//!         .collect()
//! }
//!
//! export_collector!(Acme);
//!
//! // Native test against a recorded reply: no WebAssembly needed.
//! use nbfacts_sdk::testing::FakeDevice;
//! let device = FakeDevice::new().with_cli("show arp", "10.0.0.1 00:11:22:33:44:55 eth0 120\n");
//! let facts = Acme::collect(&CollectRequest::new("arp"), &device).unwrap();
//! let Facts::Arp(entries) = facts else { panic!("wrong facts") };
//! assert_eq!(entries[0].mac, "00:11:22:33:44:55");
//! ```
//!
//! Build the component with `cargo build --target wasm32-wasip2 --release`; the `.wasm` file in
//! `target/wasm32-wasip2/release/` is the plugin.
//!
//! ## Design
//!
//! * The WIT contract (`wit/collector.wit`, package `nbfacts:collector`) is the only definition
//!   of the interface. This crate carries a copy (CI checks that it is identical to the
//!   repository's `wit/`) and generates the guest bindings once, privately; the types are
//!   re-exported from [`facts`] under their WIT names.
//! * [`describe`](Collector::meta) is stamped with [`WIT_VERSION`] and [`SDK_VERSION`] by the
//!   SDK, so the host can refuse a plugin built against an incompatible contract at load time.
//! * The [`Device`] trait is what parsers see. In the component it is the host's session; in
//!   native tests it is [`testing::FakeDevice`], which replays recorded replies with the same
//!   rules as the host's replay device.
//! * Each collection runs in a fresh instance that is thrown away afterwards. A plugin that
//!   parses big replies can install [`arena::CallArena`], a bump allocator that exploits this,
//!   with `nbfacts_sdk::use_call_arena!();` next to `export_collector!` (the Junos plugin does,
//!   and declares a larger initial memory in its `build.rs` so that collections of a few
//!   megabytes never grow memory; the arena's documentation says why that matters).
#![deny(unsafe_code)]

#[doc(hidden)]
pub mod __bindings {
    // Generated code: the only place that touches wit-bindgen. Not part of the public API.
    #![allow(missing_docs, clippy::all, missing_debug_implementations, unsafe_code)]
    wit_bindgen::generate!({
        world: "plugin",
        path: "wit",
        additional_derives: [serde::Serialize, serde::Deserialize, PartialEq],
        export_macro_name: "__export_plugin",
        pub_export_macro: true,
        default_bindings_module: "nbfacts_sdk::__bindings",
        generate_unused_types: true,
    });
}

pub mod arena;
pub mod facts;
pub mod log;
pub mod napalm;
pub mod testing;

pub use facts::*;

/// The version of the `nbfacts:collector` WIT package this SDK implements.
pub const WIT_VERSION: &str = "0.1.0";

/// This SDK's version, reported by plugins in `describe()`.
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Access to the device, as a plugin sees it.
///
/// In a plugin this is the host's NETCONF/CLI session; in native tests it is
/// [`testing::FakeDevice`]. Calls block until the device answers or the host gives up.
pub trait Device {
    /// Sends one NETCONF RPC (the operation element, e.g. `<get-arp-table-information/>`) and
    /// returns the XML inside `<rpc-reply>`.
    fn netconf_rpc(&self, rpc: &str) -> Result<String, DeviceError>;

    /// Runs one operational CLI command and returns its text.
    fn cli(&self, command: &str) -> Result<String, DeviceError>;

    /// What the host knows about the device.
    fn info(&self) -> DeviceInfo;
}

/// What a plugin declares about itself; the SDK adds the WIT and SDK versions.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginMeta {
    /// Lower-case kebab-case plugin name.
    pub name: String,
    /// The plugin's own version.
    pub version: String,
    /// Drivers served, with aliases.
    pub drivers: Vec<Driver>,
    /// Collector names implemented.
    pub collectors: Vec<String>,
    /// Optional capabilities (`netconf`, `cli`).
    pub capabilities: Vec<String>,
}

impl PluginMeta {
    /// A plugin with no drivers or collectors yet.
    pub fn new(name: &str, version: &str) -> Self {
        Self {
            name: name.to_string(),
            version: version.to_string(),
            drivers: Vec::new(),
            collectors: Vec::new(),
            capabilities: Vec::new(),
        }
    }

    /// Adds a driver.
    #[must_use]
    pub fn driver(mut self, driver: Driver) -> Self {
        self.drivers.push(driver);
        self
    }

    /// Adds collectors.
    #[must_use]
    pub fn collectors(mut self, names: &[&str]) -> Self {
        self.collectors.extend(names.iter().map(|n| n.to_string()));
        self
    }

    /// Adds capabilities.
    #[must_use]
    pub fn capabilities(mut self, names: &[&str]) -> Self {
        self.capabilities
            .extend(names.iter().map(|n| n.to_string()));
        self
    }

    /// The full `describe()` answer, stamped with this SDK's versions.
    pub fn into_plugin_info(self) -> PluginInfo {
        PluginInfo {
            name: self.name,
            version: self.version,
            wit_version: WIT_VERSION.to_string(),
            sdk_version: SDK_VERSION.to_string(),
            drivers: self.drivers,
            collectors: self.collectors,
            capabilities: self.capabilities,
        }
    }
}

/// The one trait a vendor plugin implements.
pub trait Collector {
    /// Name, version, drivers and collectors of the plugin. Must be cheap and constant.
    fn meta() -> PluginMeta;

    /// Runs `request.collector` against `device`.
    ///
    /// Return [`not_supported`] for a collector the plugin does not implement, an empty result
    /// when the device has nothing (a protocol that is not running), and
    /// [`CollectError::Parse`] (see [`parse_error`]) for a malformed reply.
    fn collect(request: &CollectRequest, device: &dyn Device) -> Result<Facts, CollectError>;
}

/// The standard "not implemented" error for a collector name.
pub fn not_supported(collector: &str) -> CollectError {
    CollectError::NotSupported(format!(
        "collector '{collector}' is not implemented by this plugin"
    ))
}

/// A typed parse error naming the RPC and the element.
pub fn parse_error(rpc: &str, element: &str, message: impl Into<String>) -> CollectError {
    CollectError::Parse(ParseError {
        rpc: rpc.to_string(),
        element: element.to_string(),
        message: message.into(),
    })
}

impl CollectRequest {
    /// A request for `collector` with no options.
    pub fn new(collector: &str) -> Self {
        Self {
            collector: collector.to_string(),
            options: Vec::new(),
        }
    }

    /// The value of option `name`, if given.
    pub fn option(&self, name: &str) -> Option<&str> {
        self.options
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The host's session, seen through [`Device`]. Used by [`export_collector!`].
#[doc(hidden)]
#[derive(Debug)]
pub struct HostSession<'a>(pub &'a __bindings::nbfacts::collector::device::Session);

impl Device for HostSession<'_> {
    fn netconf_rpc(&self, rpc: &str) -> Result<String, DeviceError> {
        self.0.netconf_rpc(rpc)
    }

    fn cli(&self, command: &str) -> Result<String, DeviceError> {
        self.0.cli(command)
    }

    fn info(&self) -> DeviceInfo {
        self.0.info()
    }
}

/// Exports a [`Collector`] implementation as the plugin's component interface.
///
/// Use it once per plugin crate, at the top level: `nbfacts_sdk::export_collector!(MyPlugin);`
#[macro_export]
macro_rules! export_collector {
    ($plugin:ty) => {
        // The generated export glue is `unsafe` FFI; the plugin author's code is not.
        #[allow(unsafe_code)]
        const _: () = {
            struct NbfactsPluginExport;

            impl $crate::__bindings::exports::nbfacts::collector::collector::Guest
                for NbfactsPluginExport
            {
                fn describe() -> $crate::PluginInfo {
                    <$plugin as $crate::Collector>::meta().into_plugin_info()
                }

                fn collect(
                    request: $crate::CollectRequest,
                    session: &$crate::__bindings::nbfacts::collector::device::Session,
                ) -> ::core::result::Result<$crate::Facts, $crate::CollectError> {
                    <$plugin as $crate::Collector>::collect(&request, &$crate::HostSession(session))
                }
            }

            // Native builds (unit tests) have no component exports: the symbol names are not
            // valid outside WebAssembly.
            #[cfg(target_arch = "wasm32")]
            $crate::__bindings::__export_plugin!(NbfactsPluginExport with_types_in $crate::__bindings);
        };
    };
}
