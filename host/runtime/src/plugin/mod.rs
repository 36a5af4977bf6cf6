//! The WebAssembly plugin runtime: one engine, compiled-plugin cache, sandboxed calls.
//!
//! * [`Runtime`] owns the wasmtime [`Engine`] (component model, async, epoch interruption,
//!   pooling allocator) and an epoch ticker thread that stops when the runtime is dropped.
//! * [`Runtime::load`] validates a component (its `nbfacts:collector` version and that it
//!   imports nothing the sandbox does not grant), compiles it once — or loads the compiled
//!   artifact from the on-disk cache, keyed by engine and wasm digest — and calls `describe()`.
//! * [`Plugin::collect`] runs one collection in a fresh `Store` instantiated through an
//!   `InstancePre`, under a memory cap, a wall-clock deadline, optional fuel, and caps on
//!   device calls and reply sizes. A trap, panic, loop or memory bomb fails that call only.

mod bindings;
mod convert;
mod sandbox;

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use nbfacts_sdk::{CollectRequest, Facts, PluginInfo};
use sha2::{Digest, Sha256};
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::device::DeviceSession;
use crate::error::{CollectionError, PluginError};

pub use sandbox::SUPPORTED_WIT;

/// Sandbox limits applied to every collection.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Linear-memory cap per instance, in bytes. Default 512 MiB.
    pub memory_bytes: u64,
    /// Wall-clock deadline of one collection, device waits included. Default 120 s.
    pub deadline: Duration,
    /// Optional fuel budget per collection (about 86 fuel per byte of XML parsed). Default off.
    pub fuel: Option<u64>,
    /// Most device calls (`netconf-rpc` + `cli`) one collection may make. Default 10,000.
    pub max_device_calls: u32,
    /// Largest reply handed to a plugin, in bytes. Default 256 MiB.
    pub max_reply_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory_bytes: 512 << 20,
            deadline: Duration::from_secs(120),
            fuel: None,
            max_device_calls: 10_000,
            max_reply_bytes: 256 << 20,
        }
    }
}

/// How the runtime is set up.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Limits for every collection.
    pub limits: Limits,
    /// Where compiled plugins are cached; `None` compiles in memory at every load.
    pub cache_dir: Option<PathBuf>,
    /// Instances that may run at once (pooling allocator slots); `0` uses on-demand allocation.
    pub max_instances: u32,
    /// Linear memory kept resident (and zeroed in place) when a pooled instance ends, per
    /// slot. Reusing resident pages avoids a page fault per 4 KiB on the next call; it costs
    /// up to this much RSS per slot that has been used.
    pub keep_resident_bytes: usize,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            cache_dir: None,
            max_instances: 256,
            keep_resident_bytes: 16 << 20,
        }
    }
}

/// Epoch tick period: the granularity of deadlines and of yielding to other tasks.
const EPOCH_TICK: Duration = Duration::from_millis(5);

/// The plugin runtime. Cheap to clone; clones share the engine.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<RuntimeInner>,
}

struct RuntimeInner {
    engine: Engine,
    linker: Linker<sandbox::StoreData>,
    config: RuntimeConfig,
    engine_key: String,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Runtime {
    /// Creates the engine and starts its epoch ticker.
    pub fn new(config: RuntimeConfig) -> Result<Self, PluginError> {
        let engine = match config.max_instances {
            0 => Engine::new(&base_config()),
            n => {
                let mut pool = PoolingAllocationConfig::default();
                pool.total_component_instances(n)
                    .total_memories(n)
                    .total_tables(n * 2)
                    .total_core_instances(n * 4)
                    .max_memory_size(usize::try_from(config.limits.memory_bytes).unwrap_or(usize::MAX))
                    .max_memories_per_component(4)
                    .max_core_instances_per_component(32)
                    .max_tables_per_component(8)
                    .linear_memory_keep_resident(config.keep_resident_bytes)
                    .table_keep_resident(1 << 20);
                let mut cfg = base_config();
                cfg.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
                // The pool reserves address space up front; fall back to on-demand allocation
                // where that is not possible (for example under a tight `ulimit -v`).
                Engine::new(&cfg).or_else(|_| Engine::new(&base_config()))
            }
        }
        .map_err(|e| PluginError::Engine(e.to_string()))?;

        let mut linker = Linker::new(&engine);
        sandbox::add_to_linker(&mut linker).map_err(|e| PluginError::Engine(e.to_string()))?;

        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let engine_key = format!("{:016x}", hasher.finish());

        start_epoch_ticker(&engine);
        Ok(Self {
            inner: Arc::new(RuntimeInner {
                engine,
                linker,
                config,
                engine_key,
            }),
        })
    }

    /// The limits applied to collections.
    pub fn limits(&self) -> &Limits {
        &self.inner.config.limits
    }

    /// Loads a plugin from component bytes. `source_name` names it in errors (a path, or
    /// `builtin:junos`).
    pub async fn load(&self, wasm: &[u8], source_name: &str) -> Result<Plugin, PluginError> {
        let digest = hex::encode(Sha256::digest(wasm));
        let component = self.compile_cached(wasm, &digest, source_name)?;
        sandbox::check_imports_exports(&self.inner.engine, &component, source_name)?;
        let pre = self
            .inner
            .linker
            .instantiate_pre(&component)
            .map_err(|e| PluginError::Compile {
                source_name: source_name.to_string(),
                message: format!("cannot link: {e}"),
            })?;
        let pre = bindings::PluginPre::new(pre).map_err(|e| PluginError::Compile {
            source_name: source_name.to_string(),
            message: format!("does not export the nbfacts collector interface: {e}"),
        })?;
        let info = sandbox::describe(&self.inner.engine, &pre, source_name).await?;
        sandbox::check_wit_version(&info, source_name)?;
        Ok(Plugin {
            inner: Arc::new(PluginInner {
                info,
                pre,
                digest,
                source_name: source_name.to_string(),
                runtime: self.clone(),
            }),
        })
    }

    /// Loads a plugin from a `.wasm` file.
    pub async fn load_file(&self, path: &Path) -> Result<Plugin, PluginError> {
        let wasm = tokio::fs::read(path).await.map_err(|source| PluginError::Io {
            context: format!("cannot read plugin {}", path.display()),
            source,
        })?;
        self.load(&wasm, &path.display().to_string()).await
    }

    fn compile_cached(
        &self,
        wasm: &[u8],
        digest: &str,
        source_name: &str,
    ) -> Result<Component, PluginError> {
        let compile_error = |e: wasmtime::Error| PluginError::Compile {
            source_name: source_name.to_string(),
            message: format!("{e:#}"),
        };
        let Some(cache_dir) = &self.inner.config.cache_dir else {
            return Component::new(&self.inner.engine, wasm).map_err(compile_error);
        };
        let dir = cache_dir.join(&self.inner.engine_key);
        let path = dir.join(format!("{digest}.cwasm"));
        if path.exists() {
            match sandbox::deserialize_cached(&self.inner.engine, &path) {
                Ok(component) => return Ok(component),
                Err(e) => tracing::warn!(
                    path = %path.display(),
                    error = %e,
                    "Compiled plugin in the cache is unusable; compiling again."
                ),
            }
        }
        let bytes = self
            .inner
            .engine
            .precompile_component(wasm)
            .map_err(compile_error)?;
        let io = |context: String| move |source| PluginError::Io { context, source };
        std::fs::create_dir_all(&dir)
            .map_err(io(format!("cannot create the plugin cache {}", dir.display())))?;
        let tmp = dir.join(format!("{digest}.cwasm.tmp{}", std::process::id()));
        std::fs::write(&tmp, &bytes)
            .map_err(io(format!("cannot write {}", tmp.display())))?;
        std::fs::rename(&tmp, &path)
            .map_err(io(format!("cannot write {}", path.display())))?;
        sandbox::deserialize_cached(&self.inner.engine, &path).map_err(compile_error)
    }
}

fn base_config() -> Config {
    let mut cfg = Config::new();
    cfg.wasm_component_model(true);
    cfg.epoch_interruption(true);
    cfg.consume_fuel(false);
    cfg.max_wasm_stack(1 << 20);
    cfg
}

/// A thread that advances the engine's epoch every [`EPOCH_TICK`]; it exits once the engine
/// is gone.
fn start_epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    let spawned = std::thread::Builder::new()
        .name("nbfacts-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "Cannot start the epoch ticker; plugin deadlines will not apply.");
    }
}

/// A loaded plugin. Cheap to clone.
#[derive(Clone)]
pub struct Plugin {
    inner: Arc<PluginInner>,
}

struct PluginInner {
    info: PluginInfo,
    pre: bindings::PluginPre<sandbox::StoreData>,
    digest: String,
    source_name: String,
    runtime: Runtime,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("name", &self.inner.info.name)
            .field("version", &self.inner.info.version)
            .field("source", &self.inner.source_name)
            .finish_non_exhaustive()
    }
}

impl Plugin {
    /// What the plugin declared in `describe()`.
    pub fn info(&self) -> &PluginInfo {
        &self.inner.info
    }

    /// `name version`, for messages.
    pub fn label(&self) -> String {
        format!("{} {}", self.inner.info.name, self.inner.info.version)
    }

    /// Where the plugin was loaded from.
    pub fn source_name(&self) -> &str {
        &self.inner.source_name
    }

    /// SHA-256 of the component bytes.
    pub fn digest(&self) -> &str {
        &self.inner.digest
    }

    /// True if the plugin declares `collector`.
    pub fn has_collector(&self, collector: &str) -> bool {
        self.inner.info.collectors.iter().any(|c| c == collector)
    }

    /// Benchmark support: creates a store and an instance, then drops them.
    #[doc(hidden)]
    pub async fn bench_instantiate(&self) -> Result<(), String> {
        sandbox::bench_instantiate(&self.inner.runtime.inner.engine, &self.inner.pre).await
    }

    /// Benchmark support: calls `describe()` `n` times on one live instance.
    #[doc(hidden)]
    pub async fn bench_describe(&self, n: u64) -> Result<(), String> {
        sandbox::bench_describe(&self.inner.runtime.inner.engine, &self.inner.pre, n).await
    }

    /// Runs one collection in a fresh sandboxed instance.
    pub async fn collect(
        &self,
        request: CollectRequest,
        session: Arc<dyn DeviceSession>,
    ) -> Result<Facts, CollectionError> {
        let runtime = &self.inner.runtime.inner;
        sandbox::collect(
            &runtime.engine,
            &self.inner.pre,
            &runtime.config.limits,
            &self.label(),
            request,
            session,
        )
        .await
    }
}
