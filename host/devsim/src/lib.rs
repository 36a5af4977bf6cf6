//! # nbfacts-devsim: simulated network devices that real SSH/NETCONF clients accept
//!
//! A [`Simulator`] serves one or many simulated Junos devices, each on its own port: a real SSH
//! server (russh) with a `netconf` subsystem speaking NETCONF 1.0 and 1.1, and exec channels
//! for CLI commands. OpenSSH's `ssh -s … netconf`, ncclient, NAPALM and nbfacts itself connect
//! to it as to a device. Replies come from a directory of recorded replies (the NAPALM-style
//! layout that `nbfacts collect --replay` reads, answered by the same rules) or from a
//! [generator](generate) that scales a device's size for benchmarks. Faults can be injected:
//! latency per RPC, a dropped connection, malformed or truncated replies, refused
//! authentication.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use nbfacts_devsim::{Simulator, SimulatorConfig};
//!
//! let sim = Simulator::start(SimulatorConfig::replay_dir("examples/replay/edge1")?).await?;
//! for device in sim.devices() {
//!     println!("{} on port {} ({})", device.name, device.addr.port(), device.fingerprint);
//! }
//! sim.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! ## Design decisions
//!
//! * **Ready means listening.** [`Simulator::start`] binds every device's listener before it
//!   returns, so a test can connect right away; no sleeps, no polling.
//! * **Same answers as replay.** Directory devices use `nbfacts_sdk::testing`'s file naming and
//!   its unknown-RPC error, so collecting through the simulator gives exactly what `--replay`
//!   gives for the same directory.
//! * **One port per device.** Fleet tests see devices the way a collector sees real ones:
//!   separate connections, host keys and sessions.
//! * **Protocol code is not here.** Framing, hellos and `<rpc>` parsing are `nbfacts-netconf`'s;
//!   this crate adds answers, SSH and faults, and serves the same NETCONF on stdin/stdout
//!   ([`netconf::serve_stdio`]) for use as an OpenSSH `Subsystem netconf` command.
#![deny(unsafe_code)]

pub mod faults;
pub mod generate;
pub mod netconf;
pub mod replies;
pub mod ssh;
pub mod stats;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use russh::keys::{Algorithm, HashAlg, PrivateKey};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::Instrument;

pub use faults::{Faults, RpcSelector};
pub use generate::{DeviceSize, FleetSpec};
pub use netconf::{DeviceContext, NetconfVersions};
pub use replies::{Answer, Replies, RepliesError};
pub use ssh::AuthConfig;
pub use stats::StatsSnapshot;

/// The user name the simulator accepts by default.
pub const DEFAULT_USER: &str = "nbfacts";
/// The password the simulator accepts by default.
pub const DEFAULT_PASSWORD: &str = "nbfacts";

/// One device to simulate.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DeviceSpec {
    /// The device's name (for logs and the handle).
    pub name: String,
    /// What it answers.
    pub replies: Replies,
    /// The port to listen on; 0 picks a free one.
    pub port: u16,
}

impl DeviceSpec {
    /// A device named `name` answering from `replies` on any free port.
    pub fn new(name: impl Into<String>, replies: Replies) -> Self {
        Self {
            name: name.into(),
            replies,
            port: 0,
        }
    }

    /// Listens on `port`.
    #[must_use]
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }
}

/// What to simulate and how.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SimulatorConfig {
    /// The address listeners bind to (default 127.0.0.1).
    pub bind: IpAddr,
    /// The devices.
    pub devices: Vec<DeviceSpec>,
    /// Who may log in (default: user `nbfacts`, password `nbfacts`).
    pub auth: AuthConfig,
    /// One host key for every device; `None` gives each device its own random key.
    pub host_key: Option<PrivateKey>,
    /// NETCONF versions offered.
    pub versions: NetconfVersions,
    /// Injected faults, for every device.
    pub faults: Faults,
    /// How long a refused authentication attempt takes (OpenSSH-like clients retry).
    pub auth_rejection_time: Duration,
}

impl SimulatorConfig {
    /// Simulates `devices` with the defaults.
    pub fn new(devices: Vec<DeviceSpec>) -> Self {
        Self {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            devices,
            auth: AuthConfig::password(DEFAULT_USER, DEFAULT_PASSWORD),
            host_key: None,
            versions: NetconfVersions::default(),
            faults: Faults::default(),
            auth_rejection_time: Duration::from_millis(100),
        }
    }

    /// One device answering from the recorded replies in `dir`, named after the directory.
    pub fn replay_dir(dir: impl AsRef<Path>) -> Result<Self, RepliesError> {
        let dir = dir.as_ref();
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "device".to_string());
        Ok(Self::new(vec![DeviceSpec::new(
            name,
            Replies::from_dir(dir)?,
        )]))
    }

    /// A generated fleet.
    pub fn fleet(spec: &FleetSpec) -> Self {
        let devices = (0..spec.devices)
            .map(|i| {
                let device = generate::device(i, spec);
                DeviceSpec::new(device.name.clone(), Replies::generated(device))
            })
            .collect();
        Self::new(devices)
    }

    /// Sets the faults.
    #[must_use]
    pub fn with_faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// Sets the NETCONF versions.
    #[must_use]
    pub fn with_versions(mut self, versions: NetconfVersions) -> Self {
        self.versions = versions;
        self
    }

    /// Sets who may log in.
    #[must_use]
    pub fn with_auth(mut self, auth: AuthConfig) -> Self {
        self.auth = auth;
        self
    }

    /// Uses `key` as every device's host key.
    #[must_use]
    pub fn with_host_key(mut self, key: PrivateKey) -> Self {
        self.host_key = Some(key);
        self
    }
}

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// A listener could not be bound.
    #[error("device {device}: cannot listen on {addr}: {source}")]
    Bind {
        /// The device.
        device: String,
        /// The address.
        addr: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A host key could not be generated.
    #[error("cannot generate a host key: {0}")]
    HostKey(String),
    /// No devices configured.
    #[error("no devices to simulate")]
    NoDevices,
}

/// A running simulated device.
#[derive(Debug, Clone)]
pub struct SimDevice {
    /// Its name.
    pub name: String,
    /// Where it listens.
    pub addr: SocketAddr,
    /// The `SHA256:` fingerprint of its host key.
    pub fingerprint: String,
    /// Its host key in OpenSSH public-key format (`ssh-ed25519 AAAA…`).
    pub public_key: String,
    context: Arc<DeviceContext>,
}

impl SimDevice {
    /// Its counters now.
    pub fn stats(&self) -> StatsSnapshot {
        self.context.stats.snapshot()
    }

    /// Its OpenSSH `known_hosts` line (`[127.0.0.1]:PORT ssh-ed25519 AAAA…`).
    pub fn known_hosts_line(&self) -> String {
        let host = match self.addr.ip() {
            IpAddr::V6(ip) => format!("[{ip}]:{}", self.addr.port()),
            IpAddr::V4(ip) => format!("[{ip}]:{}", self.addr.port()),
        };
        format!("{host} {}", self.public_key)
    }
}

/// The simulator.
#[derive(Debug)]
pub struct Simulator {
    devices: Vec<SimDevice>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Simulator {
    /// Binds every device's listener, then serves in the background. Returns once all are
    /// listening.
    pub async fn start(config: SimulatorConfig) -> Result<Self, SimError> {
        if config.devices.is_empty() {
            return Err(SimError::NoDevices);
        }
        let (shutdown, shutdown_rx) = watch::channel(false);
        let auth = Arc::new(config.auth.clone());
        let mut devices = Vec::with_capacity(config.devices.len());
        let mut listeners = Vec::with_capacity(config.devices.len());
        for spec in config.devices {
            let addr = SocketAddr::new(config.bind, spec.port);
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|source| SimError::Bind {
                    device: spec.name.clone(),
                    addr,
                    source,
                })?;
            let local = ssh::local_addr(&listener).map_err(|source| SimError::Bind {
                device: spec.name.clone(),
                addr,
                source,
            })?;
            let key = match &config.host_key {
                Some(k) => k.clone(),
                None => PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519)
                    .map_err(|e| SimError::HostKey(e.to_string()))?,
            };
            let public = key.public_key().clone();
            let mut bare = public.clone();
            bare.set_comment("");
            let server_config = Arc::new(russh::server::Config {
                keys: vec![key],
                methods: russh::MethodSet::from(
                    &[russh::MethodKind::Password, russh::MethodKind::PublicKey][..],
                ),
                auth_rejection_time: config.auth_rejection_time,
                auth_rejection_time_initial: Some(Duration::ZERO),
                inactivity_timeout: Some(Duration::from_secs(3600)),
                nodelay: true,
                ..russh::server::Config::default()
            });
            let context = Arc::new(DeviceContext {
                name: spec.name.clone(),
                replies: spec.replies,
                faults: config.faults.clone(),
                versions: config.versions,
                stats: Default::default(),
            });
            devices.push(SimDevice {
                name: spec.name,
                addr: local,
                fingerprint: public.fingerprint(HashAlg::Sha256).to_string(),
                public_key: bare
                    .to_openssh()
                    .map_err(|e| SimError::HostKey(e.to_string()))?,
                context: context.clone(),
            });
            listeners.push(ssh::Listener {
                listener,
                config: server_config,
                device: context,
                auth: auth.clone(),
                shutdown: shutdown_rx.clone(),
            });
        }
        let tasks = listeners
            .into_iter()
            .map(|l| {
                let span = tracing::info_span!("devsim_device", device = %l.device.name);
                tokio::spawn(ssh::accept_loop(l).instrument(span))
            })
            .collect();
        Ok(Self {
            devices,
            shutdown,
            tasks,
        })
    }

    /// The running devices, in configuration order.
    pub fn devices(&self) -> &[SimDevice] {
        &self.devices
    }

    /// Total RPCs received by all devices.
    pub fn total_rpcs(&self) -> u64 {
        self.devices.iter().map(|d| d.stats().rpcs).sum()
    }

    /// Stops accepting, disconnects every client and waits for the listeners to finish.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}
