//! One sandboxed call: the store, its limits, the host imports, and turning traps into errors
//! an operator can act on.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nbfacts_sdk::{CollectRequest, Facts, PluginInfo};
use wasmtime::component::{Component, HasSelf, Linker, Resource, ResourceTable};
use wasmtime::{CallHook, Engine, ResourceLimiter, Store, StoreContextMut, Trap, UpdateDeadline};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::bindings::nbfacts::collector::{device, log, types as wit};
use super::bindings::{Plugin as PluginBindings, PluginPre, SessionHandle};
use super::{CallTimes, Limits};
use crate::device::DeviceSession;
use crate::error::{CollectionError, Limit, PluginError, PluginFailure};

/// The `nbfacts:collector` version this host implements.
pub const SUPPORTED_WIT: &str = "0.1.0";

/// Interfaces a plugin may import. Rust's standard library imports the WASI CLI and I/O
/// interfaces even when a plugin never uses them; they are linked with no capabilities (no
/// environment, no arguments, stdin closed, stdout discarded, stderr captured for panic
/// messages). Filesystem, sockets and anything else are refused at load.
const ALLOWED_IMPORT_PREFIXES: &[&str] = &[
    "wasi:cli/environment@",
    "wasi:cli/exit@",
    "wasi:cli/stdin@",
    "wasi:cli/stdout@",
    "wasi:cli/stderr@",
    "wasi:cli/terminal-input@",
    "wasi:cli/terminal-output@",
    "wasi:cli/terminal-stdin@",
    "wasi:cli/terminal-stdout@",
    "wasi:cli/terminal-stderr@",
    "wasi:io/",
    "wasi:clocks/monotonic-clock@",
    "wasi:clocks/wall-clock@",
    "wasi:random/",
];

const LOG_LINES_PER_CALL: u32 = 1_000;
const LOG_LINE_BYTES: usize = 4_096;
const STDERR_BYTES: usize = 1 << 20;

/// Everything one store holds.
pub struct StoreData {
    wasi: WasiCtx,
    table: ResourceTable,
    limiter: MemoryLimiter,
    session: Option<Arc<dyn DeviceSession>>,
    device_calls: u32,
    max_device_calls: u32,
    max_reply_bytes: usize,
    log_lines: u32,
    deadline_hit: bool,
    plugin: String,
    device_name: String,
    clock: CallClock,
}

impl WasiView for StoreData {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Splits a call's wall time between the plugin's own code and the host functions it calls
/// (device requests, logging, growing its memory), from wasmtime's call hooks: one event at
/// every entry into and exit from WebAssembly. Time outside any call (instantiating, copying
/// the results out) is not counted here.
#[derive(Default)]
struct CallClock {
    /// When the innermost running frame began or resumed.
    since: Option<Instant>,
    /// The nesting of calls, innermost last: `true` for plugin code, `false` for a host
    /// function (which may call back into the plugin, for example to allocate a reply).
    stack: Vec<bool>,
    plugin: Duration,
    host_calls: Duration,
}

impl CallClock {
    fn on(&mut self, hook: CallHook, now: Instant) {
        self.charge(now);
        match hook {
            CallHook::CallingWasm => self.stack.push(true),
            CallHook::CallingHost => self.stack.push(false),
            CallHook::ReturningFromWasm | CallHook::ReturningFromHost => {
                self.stack.pop();
            }
        }
    }

    /// Counts the time since the last event to whatever was running then.
    fn charge(&mut self, now: Instant) {
        if let (Some(since), Some(&in_plugin)) = (self.since, self.stack.last()) {
            let spent = now.saturating_duration_since(since);
            if in_plugin {
                self.plugin += spent;
            } else {
                self.host_calls += spent;
            }
        }
        self.since = Some(now);
    }

    /// The clock as the call ended: a call cut short (a trap, the deadline, a host call that
    /// never returned) may have left frames open; their time up to `now` counts too.
    fn stop(mut self, now: Instant) -> Self {
        self.charge(now);
        self
    }
}

/// Caps linear memory and remembers that it did.
struct MemoryLimiter {
    cap: usize,
    exceeded: bool,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.cap {
            self.exceeded = true;
            return Err(wasmtime::format_err!(
                "memory cap of {} bytes exceeded (wanted {desired})",
                self.cap
            ));
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }
}

pub(super) fn add_to_linker(linker: &mut Linker<StoreData>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_async(linker)?;
    PluginBindings::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    Ok(())
}

/// Loads a compiled plugin from the cache.
#[allow(unsafe_code)]
pub(super) fn deserialize_cached(engine: &Engine, path: &Path) -> wasmtime::Result<Component> {
    // SAFETY: `deserialize_file` trusts that the file holds code compiled by this engine
    // configuration. The file lives in nbfacts's own cache directory, under a subdirectory
    // keyed by `Engine::precompile_compatibility_hash`, named by the SHA-256 of the wasm it
    // was compiled from, and is written atomically (temporary file + rename) by
    // `Runtime::compile_cached`. wasmtime also checks the header and engine settings and fails
    // cleanly on a mismatch. Anyone who can write there can already replace the plugins.
    unsafe { Component::deserialize_file(engine, path) }
}

/// Refuses components that import what the sandbox does not grant or that were built against
/// another contract version, before anything runs.
pub(super) fn check_imports_exports(
    engine: &Engine,
    component: &Component,
    source_name: &str,
) -> Result<(), PluginError> {
    let ty = component.component_type();
    let ours = "nbfacts:collector/";
    for (name, _) in ty.imports(engine) {
        if let Some(rest) = name.strip_prefix(ours) {
            let version = rest.split_once('@').map(|(_, v)| v).unwrap_or("");
            if !compatible(version) {
                return Err(incompatible(source_name, version));
            }
            continue;
        }
        if !ALLOWED_IMPORT_PREFIXES.iter().any(|p| name.starts_with(p)) {
            return Err(PluginError::ForbiddenImport {
                source_name: source_name.to_string(),
                import: name.to_string(),
            });
        }
    }
    let mut found = None;
    for (name, _) in ty.exports(engine) {
        if let Some(version) = name.strip_prefix("nbfacts:collector/collector@") {
            found = Some(version.to_string());
        }
    }
    match found {
        Some(v) if compatible(&v) => Ok(()),
        Some(v) => Err(incompatible(source_name, &v)),
        None => Err(PluginError::Compile {
            source_name: source_name.to_string(),
            message: "the component does not export nbfacts:collector/collector; \
                      is it an nbfacts plugin?"
                .to_string(),
        }),
    }
}

fn incompatible(plugin: &str, found: &str) -> PluginError {
    PluginError::IncompatibleWit {
        plugin: plugin.to_string(),
        found: found.to_string(),
        supported: supported_range(),
    }
}

fn supported_range() -> String {
    let mut parts = SUPPORTED_WIT.split('.');
    let (major, minor) = (parts.next().unwrap_or("0"), parts.next().unwrap_or("0"));
    format!("{major}.{minor}.0 to {SUPPORTED_WIT}")
}

/// Before 1.0 the minor number is the breaking axis; a plugin built against a later patch may
/// use imports this host lacks.
fn compatible(version: &str) -> bool {
    let parse = |v: &str| -> Option<(u64, u64, u64)> {
        let mut it = v.split('.').map(|p| p.parse::<u64>().ok());
        Some((it.next()??, it.next()??, it.next()??))
    };
    match (parse(version), parse(SUPPORTED_WIT)) {
        (Some((a, b, c)), Some((x, y, z))) => {
            if x == 0 {
                a == 0 && b == y && c <= z
            } else {
                a == x && (b, c) <= (y, z)
            }
        }
        _ => false,
    }
}

/// The plugin's declared contract version must agree with what it exports.
pub(super) fn check_wit_version(info: &PluginInfo, source_name: &str) -> Result<(), PluginError> {
    if compatible(&info.wit_version) {
        Ok(())
    } else {
        Err(incompatible(
            &format!("{} {} ({source_name})", info.name, info.version),
            &info.wit_version,
        ))
    }
}

fn new_store(
    engine: &Engine,
    limits: &Limits,
    plugin: &str,
    session: Option<Arc<dyn DeviceSession>>,
    stderr: MemoryOutputPipe,
) -> Store<StoreData> {
    let wasi = WasiCtxBuilder::new().stderr(stderr).build();
    let device_name = session.as_ref().map(|s| s.info().name).unwrap_or_default();
    let data = StoreData {
        wasi,
        table: ResourceTable::new(),
        limiter: MemoryLimiter {
            cap: usize::try_from(limits.memory_bytes).unwrap_or(usize::MAX),
            exceeded: false,
        },
        session,
        device_calls: 0,
        max_device_calls: limits.max_device_calls,
        max_reply_bytes: limits.max_reply_bytes,
        log_lines: 0,
        deadline_hit: false,
        plugin: plugin.to_string(),
        device_name,
        clock: CallClock::default(),
    };
    let mut store = Store::new(engine, data);
    store.limiter(|d| &mut d.limiter);
    let deadline = Instant::now() + limits.deadline;
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |mut ctx: StoreContextMut<'_, StoreData>| {
        if Instant::now() >= deadline {
            ctx.data_mut().deadline_hit = true;
            Ok(UpdateDeadline::Interrupt)
        } else {
            // Yield at every tick so a busy plugin never starves other tasks on this thread.
            Ok(UpdateDeadline::Yield(1))
        }
    });
    if let Some(fuel) = limits.fuel {
        // Only possible when the engine was built with fuel; otherwise the deadline applies.
        if store.set_fuel(fuel).is_ok() {
            let _ = store.fuel_async_yield_interval(Some(1_000_000));
        }
    }
    store
}

/// Calls `describe()` in a short-lived instance.
pub(super) async fn describe(
    engine: &Engine,
    pre: &PluginPre<StoreData>,
    source_name: &str,
) -> Result<PluginInfo, PluginError> {
    let limits = Limits {
        memory_bytes: 64 << 20,
        deadline: Duration::from_secs(5),
        ..Limits::default()
    };
    let stderr = MemoryOutputPipe::new(STDERR_BYTES);
    let mut store = new_store(engine, &limits, source_name, None, stderr.clone());
    let fail = |message: String| PluginError::Describe {
        source_name: source_name.to_string(),
        message,
    };
    let call = async {
        let instance = pre.instantiate_async(&mut store).await?;
        instance
            .nbfacts_collector_collector()
            .call_describe(&mut store)
            .await
    };
    match tokio::time::timeout(limits.deadline + Duration::from_secs(1), call).await {
        Ok(Ok(info)) => Ok(info.into()),
        Ok(Err(e)) => Err(fail(explain_trap(&e, &stderr))),
        Err(_) => Err(fail("did not return within 5 s".to_string())),
    }
}

pub(super) async fn bench_instantiate(
    engine: &Engine,
    pre: &PluginPre<StoreData>,
) -> Result<(), String> {
    let mut store = new_store(
        engine,
        &Limits::default(),
        "bench",
        None,
        MemoryOutputPipe::new(1024),
    );
    pre.instantiate_async(&mut store)
        .await
        .map(drop)
        .map_err(|e| e.to_string())
}

pub(super) async fn bench_describe(
    engine: &Engine,
    pre: &PluginPre<StoreData>,
    n: u64,
) -> Result<(), String> {
    let mut store = new_store(
        engine,
        &Limits::default(),
        "bench",
        None,
        MemoryOutputPipe::new(1024),
    );
    let instance = pre
        .instantiate_async(&mut store)
        .await
        .map_err(|e| e.to_string())?;
    let api = instance.nbfacts_collector_collector();
    for _ in 0..n {
        api.call_describe(&mut store)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Runs one collection, and says where its time went.
pub(super) async fn collect(
    engine: &Engine,
    pre: &PluginPre<StoreData>,
    limits: &Limits,
    plugin: &str,
    request: CollectRequest,
    session: Arc<dyn DeviceSession>,
) -> (Result<Facts, CollectionError>, CallTimes) {
    let started = Instant::now();
    let stderr = MemoryOutputPipe::new(STDERR_BYTES);
    let mut store = new_store(engine, limits, plugin, Some(session), stderr.clone());
    store.call_hook(|mut ctx, hook| {
        ctx.data_mut().clock.on(hook, Instant::now());
        Ok(())
    });
    let collector = request.collector.clone();
    let request: wit::CollectRequest = request.into();
    let mut instantiated = None;
    let call = async {
        let instance = pre.instantiate_async(&mut store).await?;
        instantiated = Some(Instant::now());
        // Whatever instantiation ran counts as instantiating.
        store.data_mut().clock = CallClock::default();
        let handle = store.data_mut().table.push(SessionHandle)?;
        let handle: Resource<SessionHandle> = Resource::new_borrow(handle.rep());
        instance
            .nbfacts_collector_collector()
            .call_collect(&mut store, &request, handle)
            .await
    };
    // The epoch callback enforces the deadline while plugin code runs; this timeout covers the
    // time spent waiting on the device inside host calls.
    let outcome = tokio::time::timeout(limits.deadline + Duration::from_millis(250), call).await;
    let result = match outcome {
        Err(_) => Err(CollectionError::Limit {
            plugin: plugin.to_string(),
            limit: Limit::Deadline(limits.deadline),
        }),
        Ok(Ok(Ok(facts))) => Ok(facts.into()),
        Ok(Ok(Err(error))) => Err(CollectionError::Plugin(PluginFailure {
            collector,
            error: error.into(),
        })),
        Ok(Err(e)) => Err(classify(e, store.data(), limits, plugin, &stderr)),
    };
    let clock = std::mem::take(&mut store.data_mut().clock).stop(Instant::now());
    // Releasing the instance (resetting its memory for the next call) is part of the call.
    drop(store);
    let total = started.elapsed();
    let instantiate = instantiated.map_or(total, |at| at.saturating_duration_since(started));
    let times = CallTimes {
        instantiate,
        plugin: clock.plugin,
        host_calls: clock.host_calls,
        results: total
            .saturating_sub(instantiate)
            .saturating_sub(clock.plugin)
            .saturating_sub(clock.host_calls),
    };
    (result, times)
}

fn classify(
    e: wasmtime::Error,
    data: &StoreData,
    limits: &Limits,
    plugin: &str,
    stderr: &MemoryOutputPipe,
) -> CollectionError {
    let limit = |limit| CollectionError::Limit {
        plugin: plugin.to_string(),
        limit,
    };
    if data.deadline_hit {
        return limit(Limit::Deadline(limits.deadline));
    }
    if data.limiter.exceeded {
        return limit(Limit::Memory(limits.memory_bytes));
    }
    match e.downcast_ref::<Trap>() {
        Some(Trap::StackOverflow) => limit(Limit::Stack),
        Some(Trap::OutOfFuel) => limit(Limit::Fuel(limits.fuel.unwrap_or(0))),
        Some(Trap::Interrupt) => limit(Limit::Deadline(limits.deadline)),
        _ => {
            let message = explain_trap(&e, stderr);
            if message.contains("pooling allocator") || message.contains("maximum concurrent") {
                CollectionError::Host {
                    plugin: plugin.to_string(),
                    message,
                }
            } else {
                CollectionError::Crashed {
                    plugin: plugin.to_string(),
                    message,
                }
            }
        }
    }
}

/// A one-line explanation of a trap, using the guest's panic message when there is one.
fn explain_trap(e: &wasmtime::Error, stderr: &MemoryOutputPipe) -> String {
    let out = stderr.contents();
    let text = String::from_utf8_lossy(&out);
    if let Some(at) = text.find("panicked at") {
        let panic: Vec<&str> = text[at..].lines().take(2).collect();
        return format!("panic: {}", panic.join(" ").trim());
    }
    match e.downcast_ref::<Trap>() {
        // Rust keeps its stack in linear memory; overflowing it is an out-of-bounds access.
        Some(Trap::MemoryOutOfBounds) => format!(
            "{} (the plugin overflowed its stack through deep recursion, or has a memory bug)",
            Trap::MemoryOutOfBounds
        ),
        Some(trap) => trap.to_string(),
        None => format!("{e:#}")
            .lines()
            .next()
            .unwrap_or_default()
            .to_string(),
    }
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

impl StoreData {
    fn device_call_allowed(&mut self) -> Result<Arc<dyn DeviceSession>, wit::DeviceError> {
        let Some(session) = self.session.clone() else {
            return Err(wit::DeviceError::NotSupported(
                "no device session during describe()".to_string(),
            ));
        };
        self.device_calls += 1;
        if self.device_calls > self.max_device_calls {
            return Err(wit::DeviceError::Limit(format!(
                "more than {} device calls in one collection",
                self.max_device_calls
            )));
        }
        Ok(session)
    }

    fn check_reply(
        &self,
        reply: Result<String, nbfacts_sdk::DeviceError>,
    ) -> Result<String, wit::DeviceError> {
        match reply {
            Ok(text) if text.len() > self.max_reply_bytes => Err(wit::DeviceError::Limit(format!(
                "reply of {} bytes is over the cap of {} bytes",
                text.len(),
                self.max_reply_bytes
            ))),
            Ok(text) => Ok(text),
            Err(e) => Err(e.into()),
        }
    }
}

impl wit::Host for StoreData {}

impl device::Host for StoreData {}

impl device::HostSession for StoreData {
    async fn netconf_rpc(
        &mut self,
        _session: Resource<SessionHandle>,
        rpc: String,
    ) -> Result<String, wit::DeviceError> {
        let session = self.device_call_allowed()?;
        let reply = session.netconf_rpc(&rpc).await;
        self.check_reply(reply)
    }

    async fn cli(
        &mut self,
        _session: Resource<SessionHandle>,
        command: String,
    ) -> Result<String, wit::DeviceError> {
        let session = self.device_call_allowed()?;
        let reply = session.cli(&command).await;
        self.check_reply(reply)
    }

    async fn info(&mut self, _session: Resource<SessionHandle>) -> wit::DeviceInfo {
        match &self.session {
            Some(s) => s.info().into(),
            None => wit::DeviceInfo {
                name: String::new(),
                driver: String::new(),
                address: String::new(),
                transports: String::new(),
                extra: Vec::new(),
            },
        }
    }

    async fn drop(&mut self, session: Resource<SessionHandle>) -> wasmtime::Result<()> {
        // Borrowed handles are never dropped by the guest; an owned one would be ours.
        if session.owned() {
            self.table.delete(session)?;
        }
        Ok(())
    }
}

impl log::Host for StoreData {
    async fn log(&mut self, level: log::Level, message: String) {
        self.log_lines += 1;
        if self.log_lines > LOG_LINES_PER_CALL {
            if self.log_lines == LOG_LINES_PER_CALL + 1 {
                tracing::warn!(plugin = %self.plugin, device = %self.device_name,
                    "Plugin logged more than {LOG_LINES_PER_CALL} lines; dropping the rest.");
            }
            return;
        }
        let message = truncate(&message, LOG_LINE_BYTES);
        let (plugin, device) = (&self.plugin, &self.device_name);
        match level {
            log::Level::Trace => tracing::trace!(%plugin, %device, "{message}"),
            log::Level::Debug => tracing::debug!(%plugin, %device, "{message}"),
            log::Level::Info => tracing::info!(%plugin, %device, "{message}"),
            log::Level::Warn => tracing::warn!(%plugin, %device, "{message}"),
            log::Level::Error => tracing::error!(%plugin, %device, "{message}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_compatibility_follows_the_pre_1_0_rule() {
        assert!(compatible("0.1.0"));
        assert!(!compatible("0.2.0"));
        assert!(
            !compatible("0.1.1"),
            "a later patch may use imports this host lacks"
        );
        assert!(!compatible("1.0.0"));
        assert!(!compatible("garbage"));
        assert_eq!(supported_range(), "0.1.0 to 0.1.0");
    }

    #[test]
    fn the_clock_charges_nested_calls_to_what_runs_in_them() {
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        let mut clock = CallClock::default();
        // The export runs 10 ms, asks the device (8 ms in all, during which the host calls
        // back into the plugin for 1 ms to allocate the reply), then runs 30 ms more.
        for (hook, ms) in [
            (CallHook::CallingWasm, 0),
            (CallHook::CallingHost, 10),
            (CallHook::CallingWasm, 15),
            (CallHook::ReturningFromWasm, 16),
            (CallHook::ReturningFromHost, 19),
            (CallHook::ReturningFromWasm, 49),
        ] {
            clock.on(hook, at(ms));
        }
        // Time outside any call (copying results out) is not counted.
        let clock = clock.stop(at(60));
        assert_eq!(clock.plugin, Duration::from_millis(10 + 1 + 30));
        assert_eq!(clock.host_calls, Duration::from_millis(5 + 3));
    }

    #[test]
    fn a_call_cut_short_counts_up_to_when_it_ended() {
        let t0 = Instant::now();
        let mut clock = CallClock::default();
        clock.on(CallHook::CallingWasm, t0);
        clock.on(CallHook::CallingHost, t0 + Duration::from_millis(5));
        // The deadline fired while the device was being waited on: no return events.
        let clock = clock.stop(t0 + Duration::from_millis(105));
        assert_eq!(clock.plugin, Duration::from_millis(5));
        assert_eq!(clock.host_calls, Duration::from_millis(100));
    }
}
