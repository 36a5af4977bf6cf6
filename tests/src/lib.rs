//! Test support: the compiled test plugins and the shared fixtures directory.
#![forbid(unsafe_code)]

use std::path::PathBuf;

pub mod fault_proxy;

/// The Junos plugin, as shipped.
pub const JUNOS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/nbfacts-junos.wasm"));
/// A plugin whose collectors misbehave on purpose (see `tests/plugins/misbehave`).
pub const MISBEHAVE: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/nbfacts-test-misbehave.wasm"));
/// A plugin built against `nbfacts:collector@0.2.0`.
pub const WRONG_WIT: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/nbfacts-test-wrong-wit.wasm"));
/// A plugin that reads the filesystem.
pub const FS_USER: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/nbfacts-test-fs-user.wasm"));

/// The shared third-party fixtures: `$NBFACTS_FIXTURES`, default `../shared/fixtures` from the
/// workspace root. Panics with a clear message when the directory is missing, so a suite that
/// depends on it can never pass vacuously.
pub fn fixtures_dir() -> PathBuf {
    let dir = std::env::var_os("NBFACTS_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../shared/fixtures"
            ))
        });
    #[allow(clippy::panic)]
    if !dir.join("dev").is_dir() {
        panic!(
            "fixtures directory {} not found (set NBFACTS_FIXTURES to the shared fixtures)",
            dir.display()
        );
    }
    dir
}

/// A registry with the Junos plugin, as the host loads it.
///
/// # Panics
/// When the plugin does not load (a test failure).
#[allow(clippy::expect_used)]
pub async fn junos_registry() -> nbfacts_host::Registry {
    let runtime = nbfacts_host::Runtime::new(nbfacts_host::RuntimeConfig::default())
        .expect("wasmtime engine");
    let mut registry = nbfacts_host::Registry::new();
    registry
        .add(
            runtime
                .load(JUNOS, "builtin:junos")
                .await
                .expect("the Junos plugin loads"),
        )
        .expect("registered");
    registry
}

/// A simulated fleet (real SSH/NETCONF on loopback) and a connector that reaches its devices
/// by name, trusting exactly their host keys (written to a known_hosts file in the returned
/// directory) and logging in with the simulator's default credentials.
///
/// # Panics
/// When the simulator cannot start (a test failure).
#[allow(clippy::expect_used)]
pub async fn simulated_fleet(
    spec: &nbfacts_devsim::FleetSpec,
) -> (
    nbfacts_devsim::Simulator,
    nbfacts_host::job::SshConnector,
    tempfile::TempDir,
) {
    use nbfacts_host::session::{
        CredentialProfile, HostKeyPolicy, HostKeyVerifier, SecretSource, SessionOptions,
    };
    use std::sync::Arc;

    let sim = nbfacts_devsim::Simulator::start(nbfacts_devsim::SimulatorConfig::fleet(spec))
        .await
        .expect("simulator starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let known_hosts = dir.path().join("known_hosts");
    let lines: String = sim
        .devices()
        .iter()
        .map(|d| d.known_hosts_line() + "\n")
        .collect();
    std::fs::write(&known_hosts, lines).expect("known_hosts written");
    let credentials = CredentialProfile::new(nbfacts_devsim::DEFAULT_USER)
        .with_password(SecretSource::Env("SIMULATOR_PASSWORD".into()))
        .resolve(&|_| Some(nbfacts_devsim::DEFAULT_PASSWORD.to_string()))
        .expect("credentials");
    let mut connector = nbfacts_host::job::SshConnector::new(
        Arc::new(credentials),
        Arc::new(HostKeyVerifier::new(HostKeyPolicy::Strict, &known_hosts)),
        SessionOptions::default(),
        830,
    );
    for d in sim.devices() {
        connector = connector.with_override(&d.name, &d.addr.ip().to_string(), d.addr.port());
    }
    (sim, connector, dir)
}
