//! Misbehaving plugins fail only their own call, with an error that names the limit, while a
//! concurrent call on a good plugin succeeds.

use std::time::{Duration, Instant};

use nbfacts_host::{CollectRequest, CollectionError, Facts, Limit, PluginError};

use super::{arp_device, load, tight_runtime};

/// The bad and the good call's results, and how long the calls took (loading excluded:
/// compiling plugins in a debug build on a busy machine takes seconds).
async fn run(
    collector: &str,
) -> (
    Result<Facts, CollectionError>,
    Result<Facts, CollectionError>,
    Duration,
) {
    let runtime = tight_runtime();
    let bad = load(&runtime, nbfacts_tests::MISBEHAVE, "misbehave").await;
    let good = load(&runtime, nbfacts_tests::MISBEHAVE, "misbehave").await;
    let device = arp_device();
    let bad_call = bad.collect(CollectRequest::new(collector), device.clone());
    let good_call = async {
        // Start the good call while the bad one is running.
        tokio::time::sleep(Duration::from_millis(50)).await;
        good.collect(CollectRequest::new("ok"), device.clone())
            .await
    };
    let started = Instant::now();
    let (bad, good) = tokio::join!(bad_call, good_call);
    (bad, good, started.elapsed())
}

fn assert_good(result: Result<Facts, CollectionError>) {
    match result {
        Ok(Facts::Arp(entries)) => assert_eq!(entries.len(), 1),
        other => panic!("the concurrent good call must succeed, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn infinite_loop_is_stopped_by_the_deadline() {
    let (bad, good, elapsed) = run("spin").await;
    match bad {
        Err(CollectionError::Limit {
            limit: Limit::Deadline(d),
            ref plugin,
        }) => {
            assert_eq!(d, Duration::from_secs(2));
            assert!(plugin.starts_with("misbehave"), "{plugin}");
        }
        other => panic!("expected a deadline error, got {other:?}"),
    }
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    let message = bad.unwrap_err().to_string();
    assert!(message.contains("deadline of 2.0 s exceeded"), "{message}");
    assert_good(good);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unbounded_allocation_is_stopped_by_the_memory_cap() {
    let (bad, good, _) = run("hog").await;
    match &bad {
        Err(CollectionError::Limit {
            limit: Limit::Memory(cap),
            ..
        }) => assert_eq!(*cap, 64 << 20),
        other => panic!("expected a memory error, got {other:?}"),
    }
    assert!(
        bad.unwrap_err()
            .to_string()
            .contains("memory cap of 64 MiB exceeded")
    );
    assert_good(good);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panic_is_reported_with_its_message() {
    let (bad, good, _) = run("panic").await;
    match &bad {
        Err(CollectionError::Crashed { message, .. }) => {
            assert!(message.contains("panics on purpose"), "{message}")
        }
        other => panic!("expected a crash, got {other:?}"),
    }
    assert_good(good);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_recursion_is_a_stack_overflow() {
    let (bad, good, _) = run("recurse").await;
    // Rust keeps most of its stack in linear memory, so a runaway recursion ends either on the
    // engine's wasm stack limit or as an out-of-bounds access below the linear-memory stack.
    match &bad {
        Err(CollectionError::Limit {
            limit: Limit::Stack,
            ..
        }) => {}
        Err(CollectionError::Crashed { message, .. }) => {
            assert!(message.contains("overflowed its stack"), "{message}")
        }
        other => panic!("expected a stack overflow, got {other:?}"),
    }
    assert!(bad.unwrap_err().to_string().contains("stack"));
    assert_good(good);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_output_is_stopped_by_the_memory_cap() {
    let (bad, good, _) = run("huge").await;
    match &bad {
        Err(CollectionError::Limit {
            limit: Limit::Memory(_),
            ..
        }) => {}
        other => panic!("expected a memory error, got {other:?}"),
    }
    assert_good(good);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moderately_large_output_is_delivered_whole() {
    let runtime = tight_runtime();
    let plugin = load(&runtime, nbfacts_tests::MISBEHAVE, "misbehave").await;
    let mut request = CollectRequest::new("huge");
    request.options.push(("count".into(), "20000".into()));
    match plugin.collect(request, arp_device()).await {
        Ok(Facts::Arp(entries)) => {
            assert_eq!(entries.len(), 20_000);
            assert_eq!(entries[19_999].interface, "ge-0/0/19999");
        }
        other => panic!("expected 20,000 entries, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_tight_loop_hits_the_call_cap_or_the_deadline() {
    let (bad, good, _) = run("rpc-loop").await;
    match &bad {
        Err(CollectionError::Limit {
            limit: Limit::Deadline(_),
            ..
        }) => {}
        other => panic!("expected the deadline to stop the loop, got {other:?}"),
    }
    assert_good(good);
}

#[tokio::test]
async fn a_trapped_call_does_not_poison_the_plugin() {
    let runtime = tight_runtime();
    let plugin = load(&runtime, nbfacts_tests::MISBEHAVE, "misbehave").await;
    let device = arp_device();
    assert!(
        plugin
            .collect(CollectRequest::new("panic"), device.clone())
            .await
            .is_err()
    );
    assert_good(plugin.collect(CollectRequest::new("ok"), device).await);
}

#[tokio::test]
async fn wrong_wit_version_is_refused_at_load() {
    let runtime = tight_runtime();
    let err = runtime
        .load(nbfacts_tests::WRONG_WIT, "wrong-wit.wasm")
        .await
        .unwrap_err();
    match &err {
        PluginError::IncompatibleWit {
            plugin,
            found,
            supported,
        } => {
            assert_eq!(plugin, "wrong-wit.wasm");
            assert_eq!(found, "0.2.0");
            assert_eq!(supported, "0.1.0 to 0.1.0");
        }
        other => panic!("expected IncompatibleWit, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "plugin wrong-wit.wasm was built against nbfacts:collector@0.2.0; \
         this host supports nbfacts:collector@0.1.0 to 0.1.0"
    );
}

#[tokio::test]
async fn filesystem_access_is_refused_at_load() {
    let runtime = tight_runtime();
    let err = runtime
        .load(nbfacts_tests::FS_USER, "fs-user.wasm")
        .await
        .unwrap_err();
    match &err {
        PluginError::ForbiddenImport { import, .. } => {
            assert!(import.starts_with("wasi:filesystem/"), "{import}")
        }
        other => panic!("expected ForbiddenImport, got {other:?}"),
    }
}

#[tokio::test]
async fn garbage_is_not_a_plugin() {
    let runtime = tight_runtime();
    let err = runtime
        .load(b"\0asm garbage", "garbage.wasm")
        .await
        .unwrap_err();
    assert!(matches!(err, PluginError::Compile { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("cannot compile plugin garbage.wasm")
    );
}

#[tokio::test]
async fn compiled_plugins_are_cached_on_disk() {
    let cache = tempfile::tempdir().unwrap();
    let config = nbfacts_host::RuntimeConfig {
        cache_dir: Some(cache.path().to_path_buf()),
        ..Default::default()
    };
    let runtime = nbfacts_host::Runtime::new(config.clone()).unwrap();
    let first = runtime.load(nbfacts_tests::MISBEHAVE, "m").await.unwrap();
    let files: Vec<_> = walk(cache.path());
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].ends_with(format!("{}.cwasm", first.digest())));
    // A second runtime loads from the cache and works.
    let runtime = nbfacts_host::Runtime::new(config).unwrap();
    let second = runtime.load(nbfacts_tests::MISBEHAVE, "m").await.unwrap();
    assert_good(
        second
            .collect(CollectRequest::new("ok"), arp_device())
            .await,
    );
    // A corrupt cache entry is replaced, not fatal. (Replace it by rename, as anything that
    // writes the cache must: the loaded plugins above map the old file.)
    drop((first, second));
    let tmp = cache.path().join("corrupt.tmp");
    std::fs::write(&tmp, b"corrupt").unwrap();
    std::fs::rename(&tmp, &files[0]).unwrap();
    let runtime = nbfacts_host::Runtime::new(nbfacts_host::RuntimeConfig {
        cache_dir: Some(cache.path().to_path_buf()),
        ..Default::default()
    })
    .unwrap();
    let third = runtime.load(nbfacts_tests::MISBEHAVE, "m").await.unwrap();
    assert_good(third.collect(CollectRequest::new("ok"), arp_device()).await);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// The Junos plugin starts with 16 MiB of linear memory (its call arena uses it before growing
/// memory). Under a smaller cap it is refused at load with a message that says so, in either
/// allocation mode, rather than failing every call.
#[tokio::test]
async fn a_cap_below_a_plugins_initial_memory_is_refused_at_load() {
    for max_instances in [4, 0] {
        let runtime = nbfacts_host::Runtime::new(nbfacts_host::RuntimeConfig {
            limits: nbfacts_host::Limits {
                memory_bytes: 8 << 20,
                ..Default::default()
            },
            max_instances,
            ..Default::default()
        })
        .unwrap();
        let err = runtime
            .load(nbfacts_tests::JUNOS, "builtin:junos")
            .await
            .unwrap_err();
        assert!(matches!(err, PluginError::MemoryCap { needs, .. } if needs == 16 << 20));
        assert_eq!(
            err.to_string(),
            "plugin builtin:junos starts with 16777216 bytes of linear memory, more than the \
             memory cap of 8388608 bytes; raise the cap (Limits::memory_bytes) to run it"
        );
    }
    // At the cap it loads and runs.
    let runtime = nbfacts_host::Runtime::new(nbfacts_host::RuntimeConfig {
        limits: nbfacts_host::Limits {
            memory_bytes: 16 << 20,
            ..Default::default()
        },
        ..Default::default()
    })
    .unwrap();
    let junos = runtime.load(nbfacts_tests::JUNOS, "junos").await.unwrap();
    let facts = junos
        .collect(CollectRequest::new("arp"), arp_device())
        .await;
    assert!(
        matches!(facts, Ok(Facts::Arp(ref entries)) if entries.len() == 1),
        "{facts:?}"
    );
}

/// A device that takes `delay` to answer each request.
struct SlowDevice {
    inner: std::sync::Arc<nbfacts_host::ReplayDevice>,
    delay: Duration,
}

type Reply<'a> = nbfacts_host::BoxFuture<'a, Result<String, nbfacts_host::facts::DeviceError>>;

impl SlowDevice {
    fn after_delay<'a>(&'a self, reply: Reply<'a>) -> Reply<'a> {
        Box::pin(async move {
            tokio::time::sleep(self.delay).await;
            reply.await
        })
    }
}

impl nbfacts_host::DeviceSession for SlowDevice {
    fn netconf_rpc<'a>(&'a self, rpc: &'a str) -> Reply<'a> {
        self.after_delay(self.inner.netconf_rpc(rpc))
    }

    fn cli<'a>(&'a self, command: &'a str) -> Reply<'a> {
        self.after_delay(self.inner.cli(command))
    }

    fn info(&self) -> nbfacts_host::facts::DeviceInfo {
        self.inner.info()
    }
}

#[tokio::test]
async fn a_calls_time_is_split_between_the_device_and_the_plugins_code() {
    let runtime = tight_runtime();
    let plugin = load(&runtime, nbfacts_tests::MISBEHAVE, "misbehave").await;
    let delay = Duration::from_millis(300);
    let device = std::sync::Arc::new(SlowDevice {
        inner: arp_device(),
        delay,
    });
    let started = Instant::now();
    let (facts, times) = plugin
        .collect_timed(CollectRequest::new("ok"), device)
        .await;
    let elapsed = started.elapsed();
    assert_good(facts);
    // Waiting for the device counts as a host call, not as the plugin's time.
    assert!(times.host_calls >= delay, "{times:?}");
    assert!(times.plugin < delay, "{times:?}");
    // No time is counted twice: the parts fit in the call as timed from outside.
    assert!(times.total() <= elapsed, "{times:?} in {elapsed:?}");

    // A plugin that spins until the deadline spends it in its own code.
    let (spun, times) = plugin
        .collect_timed(CollectRequest::new("spin"), arp_device())
        .await;
    assert!(spun.is_err());
    assert!(times.plugin >= Duration::from_millis(1_500), "{times:?}");
    assert!(times.host_calls < Duration::from_millis(500), "{times:?}");
}
