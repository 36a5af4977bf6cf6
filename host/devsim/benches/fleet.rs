//! Fleet collection: nbfacts against a simulated fleet with per-RPC latency, and NAPALM against
//! the same fleet as the baseline.
//!
//! The simulator runs in a child process (this binary again, in its simulator role), so the
//! peak RSS reported for nbfacts is the host side's alone: sessions, the plugin runtime and
//! the collected facts. nbfacts collects all seven standard Junos collectors from every
//! device through `nbfacts-host`'s SSH sessions and the built-in Junos plugin, `concurrency`
//! devices at a time, one SSH connection per device shared by its collectors. Latency bounds
//! the run: with `R` RPCs served, the ideal wall time is `R × latency ÷ concurrency`, and the
//! benchmark prints wall ÷ ideal (target: at most 1.5). NAPALM 5.2 (the venv of
//! `scripts/interop-setup`, `tests/interop/napalm_fleet.py`) then runs the NAPALM getters
//! that the same collectors answer, on a thread pool, against the same devices.
//!
//! ```sh
//! cargo bench -p nbfacts-devsim --bench fleet                # quick: 16 devices
//! cargo bench -p nbfacts-devsim --bench fleet -- --full      # 200 devices, 100 ms, 64 at a time
//! cargo bench -p nbfacts-devsim --bench fleet -- --devices 50 --latency-ms 20 \
//!     --concurrency 16 --napalm-workers 8 [--no-napalm]
//! ```
//!
//! `NBFACTS_BENCH_FULL=1` is `--full`; `NBFACTS_VENV` chooses the venv.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::indexing_slicing
)]

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nbfacts_devsim::{DeviceSize, Faults, FleetSpec, Simulator, SimulatorConfig};
use nbfacts_host::session::{
    Credentials, HostKeyPolicy, HostKeyVerifier, NetconfSession, Secret, SessionOptions, SshTarget,
};
use nbfacts_host::{CollectRequest, Registry, Runtime, RuntimeConfig};
use serde_json::{Value, json};

/// The seven standard Junos collectors.
const COLLECTORS: &[&str] = &[
    "inventory",
    "interfaces",
    "ethernet_switching",
    "lldp",
    "bgp",
    "arp",
    "ndp",
];

/// Set in the child that serves the fleet.
const ROLE_VAR: &str = "NBFACTS_FLEET_BENCH_SIMULATOR";

#[derive(Debug, Clone)]
struct Params {
    devices: usize,
    latency: Duration,
    concurrency: usize,
    napalm_workers: usize,
    napalm: bool,
}

fn params() -> Params {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let full = args.iter().any(|a| a == "--full")
        || std::env::var("NBFACTS_BENCH_FULL").is_ok_and(|v| v == "1");
    let mut p = if full {
        Params {
            devices: 200,
            latency: Duration::from_millis(100),
            concurrency: 64,
            napalm_workers: 20,
            napalm: true,
        }
    } else {
        Params {
            devices: 16,
            latency: Duration::from_millis(50),
            concurrency: 8,
            napalm_workers: 4,
            napalm: true,
        }
    };
    let value = |flag: &str| -> Option<u64> {
        let at = args.iter().position(|a| a == flag)?;
        let v = args.get(at + 1)?;
        Some(
            v.parse()
                .unwrap_or_else(|_| panic!("{flag}: not a number: {v}")),
        )
    };
    if let Some(n) = value("--devices") {
        p.devices = n as usize;
    }
    if let Some(ms) = value("--latency-ms") {
        p.latency = Duration::from_millis(ms);
    }
    if let Some(n) = value("--concurrency") {
        p.concurrency = n as usize;
    }
    if let Some(n) = value("--napalm-workers") {
        p.napalm_workers = n as usize;
    }
    if args.iter().any(|a| a == "--no-napalm") {
        p.napalm = false;
    }
    p
}

fn main() {
    if std::env::var_os(ROLE_VAR).is_some() {
        simulator_role();
        return;
    }
    let p = params();
    let mut sim = SimProcess::start(&p);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let nbfacts = rt.block_on(collect_with_nbfacts(&p, &sim));
    let host_hwm = vm_hwm_kib(std::process::id());

    let rpcs_nbfacts = sim.rpcs();
    let ideal = p.latency.as_secs_f64() * rpcs_nbfacts as f64 / p.concurrency as f64;
    let ratio = nbfacts.wall.as_secs_f64() / ideal;
    println!(
        "fleet: {} devices, {} ms per RPC, device size {:?}",
        p.devices,
        p.latency.as_millis(),
        DeviceSize::default()
    );
    println!(
        "nbfacts: {} collectors × {} devices, {} at a time: wall {:.2} s; {} RPCs served; \
         ideal {:.2} s; wall/ideal {:.2} (target ≤ 1.5){}",
        COLLECTORS.len(),
        p.devices,
        p.concurrency,
        nbfacts.wall.as_secs_f64(),
        rpcs_nbfacts,
        ideal,
        ratio,
        if ratio <= 1.5 {
            ""
        } else {
            "  ** above target **"
        }
    );
    println!(
        "nbfacts: {} collections ok, {} failed{}; SSH connections {} (1 per device)",
        nbfacts.ok,
        nbfacts.failed.len(),
        nbfacts
            .failed
            .first()
            .map(|f| format!(" (first: {f})"))
            .unwrap_or_default(),
        nbfacts.connections
    );
    let sim_hwm = sim.hwm_kib();
    println!(
        "nbfacts host peak RSS (VmHWM; the simulator runs in child process {}): {:.1} MiB; \
         simulator peak RSS {:.1} MiB",
        sim.child.id(),
        host_hwm as f64 / 1024.0,
        sim_hwm as f64 / 1024.0
    );

    if p.napalm {
        match napalm(&p, &sim) {
            Ok((napalm, wall)) => {
                let rpcs = sim.rpcs() - rpcs_nbfacts;
                let ideal_napalm = p.latency.as_secs_f64() * rpcs as f64 / p.napalm_workers as f64;
                println!(
                    "napalm: same devices, getters {}, {} workers: wall {:.2} s; {} RPCs \
                     served; wall/ideal {:.2}; failed devices {}, getter errors {}{}",
                    napalm_getters().join(","),
                    p.napalm_workers,
                    wall,
                    rpcs,
                    wall / ideal_napalm,
                    napalm["failed_devices"],
                    napalm["getter_errors"],
                    napalm["first_errors"]
                        .as_array()
                        .and_then(|e| e.first())
                        .map(|e| format!(" (first: {e})"))
                        .unwrap_or_default()
                );
                println!(
                    "ratio: NAPALM wall / nbfacts wall = {:.1}×",
                    wall / nbfacts.wall.as_secs_f64()
                );
            }
            Err(e) => println!("napalm: not run: {e}"),
        }
    }
    sim.stop();
}

// ---------------------------------------------------------------------------------------------
// nbfacts
// ---------------------------------------------------------------------------------------------

struct NbfactsRun {
    wall: Duration,
    ok: usize,
    failed: Vec<String>,
    connections: u64,
}

async fn collect_with_nbfacts(p: &Params, sim: &SimProcess) -> NbfactsRun {
    let runtime = Runtime::new(RuntimeConfig {
        cache_dir: Some(Path::new(env!("CARGO_TARGET_TMPDIR")).join("nbfacts-plugin-cache")),
        ..RuntimeConfig::default()
    })
    .unwrap();
    let mut registry = Registry::new();
    registry
        .add(
            runtime
                .load(nbfacts_builtin::JUNOS.wasm, "builtin:junos")
                .await
                .unwrap(),
        )
        .unwrap();
    let registry = Arc::new(registry);
    let verifier = Arc::new(HostKeyVerifier::new(
        HostKeyPolicy::Strict,
        sim.known_hosts.clone(),
    ));
    let credentials = Arc::new(Credentials::password(
        nbfacts_devsim::DEFAULT_USER,
        Secret::new(nbfacts_devsim::DEFAULT_PASSWORD),
    ));
    let mut options = SessionOptions::default();
    options.connect_timeout = Duration::from_secs(60);
    options.auth_timeout = Duration::from_secs(60);
    options.rpc_timeout = Duration::from_secs(120);
    let limit = Arc::new(tokio::sync::Semaphore::new(p.concurrency));

    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (name, port) in &sim.devices {
        let session = Arc::new(NetconfSession::new(
            SshTarget::new(name.clone(), "127.0.0.1", *port),
            "junos",
            credentials.clone(),
            verifier.clone(),
            options.clone(),
        ));
        let (registry, limit) = (registry.clone(), limit.clone());
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await.unwrap();
            let mut results = Vec::new();
            for collector in COLLECTORS {
                let r = registry
                    .collect("junos", CollectRequest::new(collector), session.clone())
                    .await;
                results.push(
                    r.map(|_| ())
                        .map_err(|e| format!("{}: {collector}: {e}", session.target().name)),
                );
            }
            session.close().await;
            (results, session.stats().connections)
        });
    }
    let (mut ok, mut failed, mut connections) = (0, Vec::new(), 0);
    while let Some(done) = tasks.join_next().await {
        let (results, conns) = done.unwrap();
        connections += conns;
        for r in results {
            match r {
                Ok(()) => ok += 1,
                Err(e) => failed.push(e),
            }
        }
    }
    NbfactsRun {
        wall: started.elapsed(),
        ok,
        failed,
        connections,
    }
}

// ---------------------------------------------------------------------------------------------
// NAPALM
// ---------------------------------------------------------------------------------------------

/// The NAPALM getters that the seven collectors answer.
fn napalm_getters() -> Vec<&'static str> {
    COLLECTORS
        .iter()
        .flat_map(|c| nbfacts_sdk::napalm::getters(c).iter().copied())
        .collect()
}

fn napalm(p: &Params, sim: &SimProcess) -> Result<(Value, f64), String> {
    let venv = std::env::var_os("NBFACTS_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp/nbfacts-interop-venv"));
    let python = venv.join("bin/python");
    if !python.is_file() {
        return Err(format!(
            "{} is missing; run scripts/interop-setup",
            python.display()
        ));
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/napalm_fleet.py");
    let ports: Vec<String> = sim.devices.iter().map(|(_, p)| p.to_string()).collect();
    let out = Command::new(python)
        .arg(script)
        .args(["--ports", &ports.join(","), "--workers"])
        .arg(p.napalm_workers.to_string())
        .args(napalm_getters())
        .env("NBFACTS_INTEROP_PASSWORD", nbfacts_devsim::DEFAULT_PASSWORD)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("napalm_fleet.py: {}", out.status));
    }
    let v: Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    let wall = v["wall_s"].as_f64().ok_or("no wall_s")?;
    Ok((v, wall))
}

// ---------------------------------------------------------------------------------------------
// The simulator, in a child process
// ---------------------------------------------------------------------------------------------

struct SimProcess {
    child: Child,
    stdin: ChildStdin,
    stdout: std::io::BufReader<ChildStdout>,
    devices: Vec<(String, u16)>,
    known_hosts: PathBuf,
    _dir: tempfile::TempDir,
}

impl SimProcess {
    fn start(p: &Params) -> Self {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .env(ROLE_VAR, "1")
            .env("NBFACTS_FLEET_DEVICES", p.devices.to_string())
            .env(
                "NBFACTS_FLEET_LATENCY_MS",
                p.latency.as_millis().to_string(),
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        // Ready when the child prints its devices: they listen by then.
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let list: Vec<Value> = serde_json::from_str(&line).expect("the simulator's device list");
        let dir = tempfile::tempdir().unwrap();
        let known_hosts = dir.path().join("known_hosts");
        let mut kh = String::new();
        let mut devices = Vec::new();
        for d in list {
            kh.push_str(d["known_hosts"].as_str().unwrap());
            kh.push('\n');
            devices.push((
                d["name"].as_str().unwrap().to_string(),
                d["port"].as_u64().unwrap() as u16,
            ));
        }
        std::fs::write(&known_hosts, kh).unwrap();
        Self {
            child,
            stdin,
            stdout,
            devices,
            known_hosts,
            _dir: dir,
        }
    }

    fn ask(&mut self) -> Value {
        writeln!(self.stdin, "stats").unwrap();
        self.stdin.flush().unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        serde_json::from_str(&line).unwrap()
    }

    fn rpcs(&mut self) -> u64 {
        self.ask()["rpcs"].as_u64().unwrap()
    }

    fn hwm_kib(&mut self) -> u64 {
        self.ask()["hwm_kib"].as_u64().unwrap()
    }

    fn stop(mut self) {
        drop(self.stdin);
        let _ = self.child.wait();
    }
}

/// Peak resident set size of process `pid`, in KiB (`VmHWM` of `/proc/PID/status`).
fn vm_hwm_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// The child: serves the fleet until its stdin closes, answering `stats` lines with the
/// RPCs served and its own peak RSS.
fn simulator_role() {
    let var = |name: &str| -> u64 { std::env::var(name).unwrap().parse().unwrap() };
    let spec = FleetSpec::new(var("NBFACTS_FLEET_DEVICES") as usize, DeviceSize::default());
    let latency = Duration::from_millis(var("NBFACTS_FLEET_LATENCY_MS"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let sim = rt.block_on(async {
        Simulator::start(
            SimulatorConfig::fleet(&spec).with_faults(Faults::none().with_latency(latency)),
        )
        .await
        .unwrap()
    });
    let list: Vec<Value> = sim
        .devices()
        .iter()
        .map(
            |d| json!({"name": d.name, "port": d.addr.port(), "known_hosts": d.known_hosts_line()}),
        )
        .collect();
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", Value::Array(list)).unwrap();
    out.flush().unwrap();
    for line in std::io::stdin().lock().lines() {
        if line.unwrap().trim() == "stats" {
            let stats = json!({
                "rpcs": sim.total_rpcs(),
                "hwm_kib": vm_hwm_kib(std::process::id()),
            });
            writeln!(out, "{stats}").unwrap();
            out.flush().unwrap();
        }
    }
    rt.block_on(sim.shutdown());
}
