//! Shared helpers: a simulator for the shipped example device, sessions to it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use nbfacts_devsim::{SimDevice, Simulator, SimulatorConfig};
use nbfacts_host::session::{
    Credentials, HostKeyPolicy, HostKeyVerifier, NetconfSession, Secret, SessionOptions, SshTarget,
};

/// The recorded Junos device shipped with the repository.
pub fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/replay/edge1")
}

pub fn password() -> Arc<Credentials> {
    Arc::new(Credentials::password("nbfacts", Secret::new("nbfacts")))
}

/// Options with short timeouts, so failing tests fail fast.
pub fn options() -> SessionOptions {
    let mut o = SessionOptions::default();
    o.connect_timeout = Duration::from_secs(10);
    o.auth_timeout = Duration::from_secs(10);
    o.rpc_timeout = Duration::from_secs(10);
    o
}

/// A verifier that trusts exactly `device` (a known_hosts file written from its key).
pub fn trusting(dir: &Path, devices: &[&SimDevice]) -> Arc<HostKeyVerifier> {
    let path = dir.join("known_hosts");
    let text: String = devices
        .iter()
        .map(|d| format!("{}\n", d.known_hosts_line()))
        .collect();
    std::fs::write(&path, text).unwrap();
    Arc::new(HostKeyVerifier::new(HostKeyPolicy::Strict, path))
}

pub fn session(
    device: &SimDevice,
    credentials: Arc<Credentials>,
    verifier: Arc<HostKeyVerifier>,
    options: SessionOptions,
) -> NetconfSession {
    NetconfSession::new(
        SshTarget::new(device.name.clone(), "127.0.0.1", device.addr.port()),
        "junos",
        credentials,
        verifier,
        options,
    )
}

pub async fn example_simulator(
    config: impl FnOnce(SimulatorConfig) -> SimulatorConfig,
) -> Simulator {
    Simulator::start(config(SimulatorConfig::replay_dir(example_dir()).unwrap()))
        .await
        .unwrap()
}

/// The external programs the interoperability tests drive.
pub struct Interop {
    /// The venv's Python, with NAPALM 5.2 and ncclient.
    pub python: PathBuf,
    /// OpenSSH's client.
    pub ssh: PathBuf,
    /// OpenSSH's key generator.
    pub ssh_keygen: PathBuf,
    /// OpenSSH's server.
    pub sshd: PathBuf,
}

/// The interoperability tools, or `None` when NBFACTS_SKIP_INTEROP=1. A missing tool fails
/// the test, saying how to install it: CI must not pass by skipping.
pub fn interop() -> Option<Interop> {
    if std::env::var("NBFACTS_SKIP_INTEROP").is_ok_and(|v| v == "1") {
        eprintln!("interoperability test skipped: NBFACTS_SKIP_INTEROP=1");
        return None;
    }
    let venv = std::env::var_os("NBFACTS_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp/nbfacts-interop-venv"));
    let on_path = |name: &str| {
        std::env::var_os("PATH").and_then(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join(name))
                .find(|p| p.is_file())
        })
    };
    let tools = [
        (
            "python (NBFACTS_VENV)",
            Some(venv.join("bin/python")).filter(|p| p.is_file()),
        ),
        ("ssh", on_path("ssh")),
        ("ssh-keygen", on_path("ssh-keygen")),
        (
            "sshd",
            Some(PathBuf::from("/usr/sbin/sshd")).filter(|p| p.is_file()),
        ),
    ];
    let missing: Vec<&str> = tools
        .iter()
        .filter(|(_, p)| p.is_none())
        .map(|(n, _)| *n)
        .collect();
    assert!(
        missing.is_empty(),
        "interoperability tools missing: {}; run scripts/interop-setup (venv: {}), or set \
         NBFACTS_SKIP_INTEROP=1 to skip these tests",
        missing.join(", "),
        venv.display()
    );
    let [python, ssh, ssh_keygen, sshd] = tools.map(|(_, p)| p.unwrap());
    Some(Interop {
        python,
        ssh,
        ssh_keygen,
        sshd,
    })
}

/// A helper script of `tests/interop/`.
pub fn interop_script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/interop")
        .join(name)
}

/// Runs `script` with the venv's Python and parses the JSON it prints. The password reaches
/// the script through its environment, never its command line.
pub async fn run_python(
    tools: &Interop,
    script: &str,
    args: &[String],
    password: &str,
) -> serde_json::Value {
    let run = tokio::process::Command::new(&tools.python)
        .arg(interop_script(script))
        .args(args)
        .env("NBFACTS_INTEROP_PASSWORD", password)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(180), run)
        .await
        .unwrap_or_else(|_| panic!("{script} {args:?} did not finish within 180 s"))
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{script} failed: {}\n{stderr}",
        out.status
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{script} printed no JSON ({e}): {}\n{stderr}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// Generates an ed25519 key pair with OpenSSH's ssh-keygen: (private key file, public line).
pub async fn ssh_keygen(tools: &Interop, dir: &Path, name: &str) -> (PathBuf, String) {
    let key = dir.join(name);
    let out = tokio::process::Command::new(&tools.ssh_keygen)
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "nbfacts-interop",
            "-f",
        ])
        .arg(&key)
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "ssh-keygen: {out:?}");
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    (key, public.trim().to_string())
}

/// The Junos plugin built into nbfacts, in a registry (compiled once per test run into a
/// cache under the target directory).
pub async fn junos_registry() -> nbfacts_host::Registry {
    let runtime = nbfacts_host::Runtime::new(nbfacts_host::RuntimeConfig {
        cache_dir: Some(Path::new(env!("CARGO_TARGET_TMPDIR")).join("nbfacts-plugin-cache")),
        ..nbfacts_host::RuntimeConfig::default()
    })
    .unwrap();
    let plugin = runtime
        .load(nbfacts_builtin::JUNOS.wasm, "builtin:junos")
        .await
        .unwrap();
    let mut registry = nbfacts_host::Registry::new();
    registry.add(plugin).unwrap();
    registry
}
