//! Errors of the plugin runtime, layered the way the runtime is: loading a plugin, dispatching
//! a (driver, collector) pair, and running one collection.

use std::fmt;
use std::time::Duration;

/// Loading a plugin failed. The plugin is not registered; other plugins are unaffected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PluginError {
    /// The bytes are not a WebAssembly component, or it failed to compile.
    #[error("cannot compile plugin {source_name}: {message}")]
    Compile {
        /// Where the plugin came from (file path or `builtin:NAME`).
        source_name: String,
        /// The compiler's message.
        message: String,
    },
    /// The plugin was built against a WIT contract this host cannot run.
    #[error(
        "plugin {plugin} was built against nbfacts:collector@{found}; this host supports nbfacts:collector@{supported}"
    )]
    IncompatibleWit {
        /// The plugin's name and version where known, else its source.
        plugin: String,
        /// The contract version the plugin was built against.
        found: String,
        /// The range this host accepts, e.g. `0.1.0 to 0.1.0`.
        supported: String,
    },
    /// The plugin imports something the sandbox does not grant (filesystem, sockets, …).
    #[error("plugin {source_name} imports {import}, which the nbfacts sandbox does not grant")]
    ForbiddenImport {
        /// Where the plugin came from.
        source_name: String,
        /// The import's name, e.g. `wasi:filesystem/types@0.2.6`.
        import: String,
    },
    /// The plugin declares more initial linear memory than the memory cap allows.
    #[error(
        "plugin {source_name} starts with {needs} bytes of linear memory, more than the memory cap of {cap} bytes; raise the cap (Limits::memory_bytes) to run it"
    )]
    MemoryCap {
        /// Where the plugin came from.
        source_name: String,
        /// The plugin's initial memory, in bytes.
        needs: u64,
        /// The cap, in bytes.
        cap: u64,
    },
    /// The plugin failed while describing itself.
    #[error("plugin {source_name} failed in describe(): {message}")]
    Describe {
        /// Where the plugin came from.
        source_name: String,
        /// What went wrong.
        message: String,
    },
    /// Two plugins claim the same driver name or alias.
    #[error("driver '{driver}' is declared by both plugin {first} and plugin {second}")]
    DuplicateDriver {
        /// The contested name.
        driver: String,
        /// The plugin registered first.
        first: String,
        /// The plugin being registered.
        second: String,
    },
    /// Reading the plugin file or the compiled-plugin cache failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The engine could not be set up.
    #[error("cannot set up the WebAssembly engine: {0}")]
    Engine(String),
}

/// Which sandbox limit stopped a plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Limit {
    /// The wall-clock deadline of one collection.
    Deadline(Duration),
    /// The memory cap of one instance, in bytes.
    Memory(u64),
    /// The fuel budget (instructions, roughly).
    Fuel(u64),
    /// The wasm stack.
    Stack,
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Limit::Deadline(d) => write!(f, "deadline of {:.1} s exceeded", d.as_secs_f64()),
            Limit::Memory(b) => write!(f, "memory cap of {} MiB exceeded", b / (1024 * 1024)),
            Limit::Fuel(n) => write!(f, "fuel budget of {n} exhausted"),
            Limit::Stack => write!(f, "stack overflow (recursion too deep)"),
        }
    }
}

/// One collection failed. Only this collection is affected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CollectionError {
    /// No plugin serves this (driver, collector) pair.
    #[error("{collector} is not implemented for driver '{driver}'. Supported drivers: [{}]", supported.join(", "))]
    NotImplemented {
        /// The collector asked for.
        collector: String,
        /// The driver asked for.
        driver: String,
        /// Drivers that do implement the collector.
        supported: Vec<String>,
    },
    /// The plugin hit a sandbox limit and was stopped.
    #[error("plugin {plugin} stopped: {limit}")]
    Limit {
        /// `name version` of the plugin.
        plugin: String,
        /// Which limit.
        limit: Limit,
    },
    /// The plugin crashed (panic or another trap).
    #[error("plugin {plugin} crashed: {message}")]
    Crashed {
        /// `name version` of the plugin.
        plugin: String,
        /// The panic message or trap description.
        message: String,
    },
    /// The plugin returned an error.
    #[error("{0}")]
    Plugin(#[from] PluginFailure),
    /// The host could not run the plugin (instance pool exhausted, internal error).
    #[error("cannot run plugin {plugin}: {message}")]
    Host {
        /// `name version` of the plugin.
        plugin: String,
        /// What went wrong.
        message: String,
    },
}

/// An error the plugin itself returned from `collect`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{collector} failed: {}", describe_collect_error(.error))]
pub struct PluginFailure {
    /// The collector that failed.
    pub collector: String,
    /// The plugin's error.
    pub error: nbfacts_sdk::CollectError,
}

/// A one-line description of a plugin's collect error.
pub fn describe_collect_error(e: &nbfacts_sdk::CollectError) -> String {
    use nbfacts_sdk::CollectError as E;
    match e {
        E::NotSupported(m) => format!("not supported: {m}"),
        E::Device(d) => describe_device_error(d),
        E::Parse(p) if p.element.is_empty() => {
            format!("cannot parse the reply to {}: {}", p.rpc, p.message)
        }
        E::Parse(p) => format!(
            "cannot parse the reply to {} at <{}>: {}",
            p.rpc, p.element, p.message
        ),
        E::Timeout(m) => format!("timeout: {m}"),
        E::Denied(m) => format!("denied by the device: {m}"),
    }
}

/// A one-line description of a device error.
pub fn describe_device_error(e: &nbfacts_sdk::DeviceError) -> String {
    use nbfacts_sdk::DeviceError as D;
    match e {
        D::Rpc(r) => {
            let mut s = format!("device returned rpc-error {}", r.error_tag);
            if !r.error_message.is_empty() {
                s.push_str(": ");
                s.push_str(&r.error_message);
            }
            if !r.error_path.is_empty() {
                s.push_str(&format!(" ({})", r.error_path));
            }
            s
        }
        D::Transport(m) => format!("device connection failed: {m}"),
        D::Timeout(m) => format!("device did not answer in time: {m}"),
        D::NotSupported(m) => format!("not supported by the session: {m}"),
        D::Limit(m) => format!("host limit reached: {m}"),
    }
}
