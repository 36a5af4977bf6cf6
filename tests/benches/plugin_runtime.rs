//! Plugin runtime costs: loading a precompiled component, instantiating per call, a trivial
//! export call, and the Junos parsers natively vs inside the sandbox.
//!
//! A bench binary rather than criterion so that native and WebAssembly runs interleave in one
//! process and the ratio is computed from the same run. Run with:
//!
//! ```sh
//! cargo bench -p nbfacts-tests --bench plugin_runtime            # everything
//! cargo bench -p nbfacts-tests --bench plugin_runtime -- evpn    # parser cases matching a word
//! cargo bench -p nbfacts-tests --bench plugin_runtime -- micro   # load, instantiate, call only
//! cargo bench -p nbfacts-tests --bench plugin_runtime -- describe   # one of them
//! ```
//!
//! Each parser case prints two lines: the whole call on each side and their ratio, then a
//! split into parts, each the best of the runs (the sandbox's from [`nbfacts_host::CallTimes`]): how long each side
//! took to read the replies, how long the parser itself ran natively and inside the sandbox,
//! and what the sandbox adds around it (instantiating, copying the facts out).
//!
//! The two sides are not built alike by default: the plugin gets the `plugin` profile (fat
//! LTO, one codegen unit) and, in `.cargo/config.toml`, LLVM's inline threshold raised to 1000
//! for `wasm32-wasip2`; the native parser gets the bench profile. For a like-for-like native
//! baseline, build the native side the same way (a separate target directory, about 12
//! minutes from nothing on two cores):
//!
//! ```sh
//! CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS="-C llvm-args=-inline-threshold=1000" \
//! CARGO_PROFILE_BENCH_LTO=fat CARGO_PROFILE_BENCH_CODEGEN_UNITS=1 \
//!     cargo bench -p nbfacts-tests --bench plugin_runtime --target-dir target/fair -- lldp
//! ```
//!
//! Knobs for measuring and profiling one parser case:
//!
//! * `NBFACTS_BENCH_REPS=N`: runs per side (default 11; the best run counts).
//! * `NBFACTS_BENCH_ONLY=native` or `=wasm`: runs one side only, for a profile of that side.
//! * `NBFACTS_BENCH_PROFILE=PLUGIN.wasm`: runs that plugin build instead of the embedded one,
//!   compiled with a perf map so that `perf` names its functions; with
//!   `NBFACTS_BENCH_CACHE=DIR` the compiled code is also written to `DIR` as an ELF file, which
//!   `perf annotate` can disassemble. Several builds separated by `:` (`A.wasm:B.wasm`) are
//!   run in turn within each run, one line each: on a noisy machine an A/B comparison
//!   inside one process is much steadier than separate processes.
//!
//! ```sh
//! CARGO_PROFILE_PLUGIN_STRIP=false cargo build --target wasm32-wasip2 --profile plugin \
//!     -p nbfacts-junos --target-dir target/prof
//! NBFACTS_BENCH_ONLY=wasm NBFACTS_BENCH_REPS=41 \
//!     NBFACTS_BENCH_PROFILE=target/prof/wasm32-wasip2/plugin/nbfacts_junos.wasm \
//!     perf record -g -D 3000 target/release/deps/plugin_runtime-* evpn
//! ```
//!
//! (`-D 3000` leaves out the first three seconds, when the plugin is compiled.)
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::indexing_slicing
)]

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nbfacts_host::{CallTimes, CollectRequest, ReplayDevice, Runtime, RuntimeConfig};
use nbfacts_junos::generate;
use nbfacts_sdk::testing::FakeDevice;
use nbfacts_sdk::{Collector, Device, DeviceError, DeviceInfo};

/// The native side's device, timing its reads, so that the parser's own time can be told
/// apart from handing it the reply (the sandbox side's equivalent is `CallTimes`).
struct TimedDevice {
    inner: FakeDevice,
    reading: Cell<Duration>,
}

impl TimedDevice {
    fn timed<T>(&self, read: impl FnOnce() -> T) -> T {
        let t = Instant::now();
        let out = read();
        self.reading.set(self.reading.get() + t.elapsed());
        out
    }
}

impl Device for TimedDevice {
    fn netconf_rpc(&self, rpc: &str) -> Result<String, DeviceError> {
        self.timed(|| self.inner.netconf_rpc(rpc))
    }

    fn cli(&self, command: &str) -> Result<String, DeviceError> {
        self.timed(|| self.inner.cli(command))
    }

    fn info(&self) -> DeviceInfo {
        self.inner.info()
    }
}

/// CPU time of the calling thread. Native parsers and sandboxed plugins both run on this
/// thread (the plugin on a fiber of it), so on a shared machine this is the fairer clock:
/// wall time also counts the time other processes held the core.
#[allow(unsafe_code)]
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec and the clock id is a constant the kernel
    // knows; clock_gettime writes only into `ts`.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn fmt(d: Duration) -> String {
    let ns = d.as_nanos() as f64;
    if ns < 10_000.0 {
        format!("{ns:.0} ns")
    } else if ns < 10_000_000.0 {
        format!("{:.1} µs", ns / 1e3)
    } else {
        format!("{:.2} ms", ns / 1e6)
    }
}

/// `cargo bench ... -- WORD...` runs only the parser cases whose label contains a WORD.
fn filters() -> Vec<String> {
    std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect()
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async_main());
}

async fn async_main() {
    let cache = tempfile::tempdir().unwrap();
    let config = RuntimeConfig {
        cache_dir: Some(cache.path().to_path_buf()),
        ..RuntimeConfig::default()
    };
    let runtime = Runtime::new(config).unwrap();

    // Compile once (fills the cache).
    let t = Instant::now();
    let plugins = match std::env::var("NBFACTS_BENCH_PROFILE") {
        // Profiling: plugins built with symbols, compiled in memory with a perf map.
        Ok(paths) => {
            let mut plugins = Vec::new();
            for path in paths.split(':') {
                // A runtime (and instance pool) each: builds taking turns in one pool slot
                // would each find the other's memory image there and have to replace it.
                let profiling = Runtime::new(RuntimeConfig {
                    perf_map: true,
                    cache_dir: std::env::var_os("NBFACTS_BENCH_CACHE").map(Into::into),
                    ..RuntimeConfig::default()
                })
                .unwrap();
                let plugin = profiling
                    .load_file(std::path::Path::new(path))
                    .await
                    .unwrap();
                plugins.push((path.to_string(), plugin));
            }
            plugins
        }
        Err(_) => vec![(
            String::new(),
            runtime
                .load(nbfacts_tests::JUNOS, "builtin:junos")
                .await
                .unwrap(),
        )],
    };
    let junos = &plugins[0].1;
    println!(
        "first load (compile + cache write + describe): {}",
        fmt(t.elapsed())
    );

    let words = filters();
    let micro = |name: &str| words.is_empty() || words.iter().any(|w| w == "micro" || w == name);
    if micro("load") {
        // Load from the cache: digest, deserialize (mmap), import/export checks, InstancePre,
        // describe().
        let mut loads = Vec::new();
        for _ in 0..30 {
            let t = Instant::now();
            let p = runtime
                .load(nbfacts_tests::JUNOS, "builtin:junos")
                .await
                .unwrap();
            loads.push(t.elapsed());
            drop(p);
        }
        println!("load precompiled (target ≤ 1 ms): {}", fmt(median(loads)));
    }
    if micro("instantiate") {
        // Instantiate per call: Store::new + instantiate through InstancePre (pooling allocator).
        let mut inst = Vec::new();
        for _ in 0..15 {
            let n = 2_000;
            let t = Instant::now();
            for _ in 0..n {
                junos.bench_instantiate().await.unwrap();
            }
            inst.push(t.elapsed() / n);
        }
        println!(
            "instantiate per call (target ≤ 20 µs): {}",
            fmt(median(inst))
        );
    }
    if micro("describe") {
        // A trivial export: describe() on a live instance.
        let mut calls = Vec::new();
        for _ in 0..15 {
            let n = 20_000;
            let t = Instant::now();
            junos.bench_describe(n).await.unwrap();
            calls.push(t.elapsed() / n as u32);
        }
        println!(
            "describe() call, live instance (target ≤ 2 µs): {}",
            fmt(median(calls))
        );
    }
    parser_ratio(
        &plugins,
        "ethernet_switching, 50,000 MACs",
        "ethernet_switching",
        vec![(
            "get-ethernet-switching-table-information",
            generate::els_mac_table(50_000),
        )],
        11,
    )
    .await;
    parser_ratio(
        &plugins,
        "lldp, 1,000 neighbours",
        "lldp",
        vec![
            (
                "get-lldp-neighbors-information",
                generate::lldp_neighbors(1_000),
            ),
            (
                "get-lldp-interface-neighbors",
                generate::lldp_interface_detail(&generate::local_port(0), 0),
            ),
        ],
        11,
    )
    .await;
    parser_ratio(
        &plugins,
        "arp, 50,000 entries",
        "arp",
        vec![("get-arp-table-information", generate::arp_table(50_000))],
        11,
    )
    .await;
    parser_ratio(
        &plugins,
        "evpn, 100,000 MACs in the EVPN database (issue target <= 1.5x)",
        "evpn",
        vec![
            (
                "get-evpn-instance-information",
                generate::evpn_instance(16, 4),
            ),
            (
                "get-evpn-database-information",
                generate::evpn_database(100_000),
            ),
        ],
        11,
    )
    .await;
}

/// The same collector natively (FakeDevice) and inside the sandbox (ReplayDevice in memory),
/// interleaved; the ratio is of the best of `reps` runs on each side (the machine is shared,
/// and interference only ever adds time), with medians shown too, and again on the thread's
/// CPU clock. Both include handing the reply to the parser and building the typed facts; the
/// sandbox side also instantiates the plugin and copies the facts out. With several plugins,
/// each run runs every one of them in turn, and each gets its own line.
///
/// A second line splits the calls into parts, each the best of the runs: natively, reading
/// the replies and the rest (the parser); in the sandbox, [`CallTimes`]. Its ratio compares
/// the parser alone on each side, without what only the sandbox does around it.
async fn parser_ratio(
    plugins: &[(String, nbfacts_host::Plugin)],
    label: &str,
    collector: &str,
    files: Vec<(&str, String)>,
    reps: usize,
) {
    let reps = std::env::var("NBFACTS_BENCH_REPS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(reps);
    let filters = filters();
    if !filters.is_empty() && !filters.iter().any(|f| label.contains(f.as_str())) {
        return;
    }
    let mut fake = FakeDevice::new();
    let mut memory: HashMap<String, Arc<str>> = HashMap::new();
    let bytes: usize = files.iter().map(|(_, t)| t.len()).sum();
    for (name, text) in &files {
        fake = fake.with_reply(name, text);
        memory.insert(format!("{name}.xml"), Arc::from(text.as_str()));
    }
    let device = TimedDevice {
        inner: fake,
        reading: Cell::new(Duration::ZERO),
    };
    let replay = Arc::new(ReplayDevice::from_memory("bench", "junos", memory));
    let request = CollectRequest::new(collector);
    let mut native = Vec::new();
    let mut native_cpu = Vec::new();
    let mut native_reading = Vec::new();
    let mut native_parse = Vec::new();
    let mut wasm = vec![Vec::new(); plugins.len()];
    let mut wasm_cpu = vec![Vec::new(); plugins.len()];
    let mut wasm_times: Vec<Vec<CallTimes>> = vec![Vec::new(); plugins.len()];
    // NBFACTS_BENCH_ONLY=native or =wasm: one side only, to profile it.
    let only = std::env::var("NBFACTS_BENCH_ONLY").unwrap_or_default();
    for _ in 0..reps {
        if only != "wasm" {
            device.reading.set(Duration::ZERO);
            let (t, c) = (Instant::now(), thread_cpu());
            let facts = nbfacts_junos::Junos::collect(&request, &device).unwrap();
            let elapsed = t.elapsed();
            native.push(elapsed);
            native_cpu.push(thread_cpu() - c);
            native_reading.push(device.reading.get());
            native_parse.push(elapsed.saturating_sub(device.reading.get()));
            std::hint::black_box(facts);
        }
        if only == "native" {
            continue;
        }
        for (i, (_, plugin)) in plugins.iter().enumerate() {
            let (t, c) = (Instant::now(), thread_cpu());
            let (facts, times) = plugin.collect_timed(request.clone(), replay.clone()).await;
            let facts = facts.unwrap();
            wasm[i].push(t.elapsed());
            wasm_cpu[i].push(thread_cpu() - c);
            wasm_times[i].push(times);
            std::hint::black_box(facts);
        }
    }
    let best = |v: &[Duration]| v.iter().copied().min().unwrap_or_default();
    let (n, nc, np) = (best(&native), best(&native_cpu), best(&native_parse));
    for (i, (name, _)) in plugins.iter().enumerate() {
        let (w, wc) = (best(&wasm[i]), best(&wasm_cpu[i]));
        let name = if name.is_empty() {
            String::new()
        } else {
            format!(" [{name}]")
        };
        println!(
            "{label}{name} ({:.1} MB): native {}, wasm {}, ratio {:.2}x (target <= 1.5x; medians {} / {}); \
             thread CPU time: native {}, wasm {}, ratio {:.2}x",
            bytes as f64 / 1e6,
            fmt(n),
            fmt(w),
            w.as_secs_f64() / n.as_secs_f64(),
            fmt(median(native.clone())),
            fmt(median(wasm[i].clone())),
            fmt(nc),
            fmt(wc),
            wc.as_secs_f64() / nc.as_secs_f64(),
        );
        let phase =
            |f: fn(&CallTimes) -> Duration| best(&wasm_times[i].iter().map(f).collect::<Vec<_>>());
        let wp = phase(|t| t.plugin);
        println!(
            "  split{name}: native reading replies {}, parser {}; wasm instantiate {}, \
             host calls {}, plugin code {}, results out {}; parser ratio {:.2}x",
            fmt(best(&native_reading)),
            fmt(np),
            fmt(phase(|t| t.instantiate)),
            fmt(phase(|t| t.host_calls)),
            fmt(wp),
            fmt(phase(|t| t.results)),
            wp.as_secs_f64() / np.as_secs_f64(),
        );
    }
}
