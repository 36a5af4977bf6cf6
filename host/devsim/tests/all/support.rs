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
