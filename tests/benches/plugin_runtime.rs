//! Plugin runtime costs: loading a precompiled component, instantiating per call, a trivial
//! export call, and the Junos parsers natively vs inside the sandbox.
//!
//! A bench binary rather than criterion so that native and WebAssembly runs interleave in one
//! process and the ratio is computed from the same run. Run with:
//!
//! ```sh
//! cargo bench -p nbfacts-tests --bench plugin_runtime
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::time::{Duration, Instant};

use nbfacts_host::{Runtime, RuntimeConfig};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
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
    let junos = runtime
        .load(nbfacts_tests::JUNOS, "builtin:junos")
        .await
        .unwrap();
    println!("first load (compile + cache write + describe): {}", fmt(t.elapsed()));

    // Load from the cache: digest, deserialize (mmap), import/export checks, InstancePre,
    // describe().
    let mut loads = Vec::new();
    for _ in 0..30 {
        let t = Instant::now();
        let p = runtime.load(nbfacts_tests::JUNOS, "builtin:junos").await.unwrap();
        loads.push(t.elapsed());
        drop(p);
    }
    println!("load precompiled (target ≤ 1 ms): {}", fmt(median(loads)));

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
    println!("instantiate per call (target ≤ 20 µs): {}", fmt(median(inst)));

    // A trivial export: describe() on a live instance.
    let mut calls = Vec::new();
    for _ in 0..15 {
        let n = 20_000;
        let t = Instant::now();
        junos.bench_describe(n).await.unwrap();
        calls.push(t.elapsed() / n as u32);
    }
    println!("describe() call, live instance (target ≤ 2 µs): {}", fmt(median(calls)));
}

