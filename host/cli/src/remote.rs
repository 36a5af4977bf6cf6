//! `nbfacts collect --host …`: flags for a live device session, and progress on stderr.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::ValueEnum;
use nbfacts_host::session::{
    CredentialProfile, HostKeyPolicy, HostKeyVerifier, NetconfSession, SecretSource,
    SessionOptions, SshTarget,
};
use tracing::Instrument;

/// How an unknown host key is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PolicyArg {
    /// The key must already be in the known-hosts file.
    Strict,
    /// Trust on first use: record unknown hosts, refuse changed keys.
    AcceptNew,
}

impl From<PolicyArg> for HostKeyPolicy {
    fn from(p: PolicyArg) -> Self {
        match p {
            PolicyArg::Strict => HostKeyPolicy::Strict,
            PolicyArg::AcceptNew => HostKeyPolicy::AcceptNew,
        }
    }
}

/// Flags for collecting from a device over SSH.
#[derive(Debug, clap::Args)]
pub struct RemoteArgs {
    /// Collect from this device (host name or IP address) over SSH/NETCONF.
    #[arg(long, value_name = "HOST", conflicts_with = "replay")]
    pub host: Option<String>,

    /// SSH port of the device.
    #[arg(long, default_value_t = 830, requires = "host")]
    pub port: u16,

    /// Device name for messages (default: the host).
    #[arg(long, requires = "host")]
    pub name: Option<String>,

    /// SSH user name.
    #[arg(long, env = "NBFACTS_USERNAME", requires = "host")]
    pub username: Option<String>,

    /// Read the password from this environment variable (never pass it on the command line).
    #[arg(long, value_name = "VAR", requires = "host")]
    pub password_env: Option<String>,

    /// Read the password from this file (first line).
    #[arg(
        long,
        value_name = "FILE",
        requires = "host",
        conflicts_with = "password_env"
    )]
    pub password_file: Option<PathBuf>,

    /// OpenSSH private key for public-key authentication (tried before a password).
    #[arg(long, value_name = "FILE", requires = "host")]
    pub key: Option<PathBuf>,

    /// Read the private key's passphrase from this environment variable.
    #[arg(long, value_name = "VAR", requires = "key")]
    pub key_passphrase_env: Option<String>,

    /// Known-hosts file (OpenSSH format). Default: $NBFACTS_HOME/known_hosts.
    #[arg(long, value_name = "FILE", requires = "host")]
    pub known_hosts: Option<PathBuf>,

    /// What to do with a host key that is not in the known-hosts file.
    #[arg(long, value_enum, default_value_t = PolicyArg::Strict, requires = "host")]
    pub host_key_policy: PolicyArg,

    /// Accept only a host key with this SHA-256 fingerprint (repeatable; the known-hosts file
    /// is then not used).
    #[arg(
        long = "host-key-fingerprint",
        value_name = "SHA256:…",
        requires = "host"
    )]
    pub fingerprints: Vec<String>,

    /// Seconds to connect and exchange keys.
    #[arg(long, default_value_t = 15, value_name = "SECS")]
    pub connect_timeout: u64,

    /// Seconds to authenticate.
    #[arg(long, default_value_t = 15, value_name = "SECS")]
    pub auth_timeout: u64,

    /// Seconds for one RPC or command to be answered.
    #[arg(long, default_value_t = 120, value_name = "SECS")]
    pub rpc_timeout: u64,

    /// Close the connection after this many idle seconds (0: never).
    #[arg(long, default_value_t = 600, value_name = "SECS")]
    pub idle_timeout: u64,

    /// Send an SSH keepalive after this many silent seconds (0: never).
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    pub keepalive: u64,
}

/// A problem with the flags (exit code 2) or with the device (exit code 1).
#[derive(Debug)]
pub enum OpenError {
    /// Bad or missing flags, unreadable credentials.
    Usage(String),
    /// The device could not be reached, was not trusted, or refused the login.
    Device(String),
}

/// Builds the session from the flags and connects, so trust and login problems are reported
/// before any collector runs.
pub async fn open(
    args: &RemoteArgs,
    host: &str,
    driver: &str,
    default_known_hosts: PathBuf,
) -> Result<Arc<NetconfSession>, OpenError> {
    let username = args.username.clone().ok_or_else(|| {
        OpenError::Usage("--username is required with --host (or set NBFACTS_USERNAME)".into())
    })?;
    let mut profile = CredentialProfile::new(username);
    if let Some(var) = &args.password_env {
        profile = profile.with_password(SecretSource::Env(var.clone()));
    }
    if let Some(file) = &args.password_file {
        profile = profile.with_password(SecretSource::File(file.clone()));
    }
    if let Some(key) = &args.key {
        let passphrase = args.key_passphrase_env.clone().map(SecretSource::Env);
        profile = profile.with_key_file(key, passphrase);
    }
    let credentials = profile
        .resolve(&|var| std::env::var(var).ok())
        .map_err(|e| OpenError::Usage(e.to_string()))?;
    let policy = if !args.fingerprints.is_empty() {
        HostKeyPolicy::Pinned(args.fingerprints.clone())
    } else {
        args.host_key_policy.into()
    };
    let known_hosts = args.known_hosts.clone().unwrap_or(default_known_hosts);
    let verifier = Arc::new(HostKeyVerifier::new(policy, known_hosts));
    let secs = |s: u64| (s > 0).then(|| Duration::from_secs(s));
    let mut options = SessionOptions::default();
    options.connect_timeout = Duration::from_secs(args.connect_timeout.max(1));
    options.auth_timeout = Duration::from_secs(args.auth_timeout.max(1));
    options.rpc_timeout = Duration::from_secs(args.rpc_timeout.max(1));
    options.idle_timeout = secs(args.idle_timeout);
    options.keepalive_interval = secs(args.keepalive);
    let name = args.name.clone().unwrap_or_else(|| host.to_string());
    let session = Arc::new(NetconfSession::new(
        SshTarget::new(name, host, args.port),
        driver,
        Arc::new(credentials),
        verifier,
        options,
    ));
    session
        .connect()
        .await
        .map_err(|e| OpenError::Device(e.to_string()))?;
    Ok(session)
}

/// Progress of a run on stderr, shown only once it has taken a while.
///
/// On a terminal the line is redrawn in place; otherwise a line is printed every few seconds,
/// so logs of long runs in CI show that work goes on.
#[derive(Debug)]
pub struct Progress {
    state: Arc<Mutex<State>>,
    ticker: tokio::task::JoinHandle<()>,
}

#[derive(Debug)]
struct State {
    device: String,
    total: usize,
    done: usize,
    current: String,
    started: Instant,
    shown: bool,
}

/// Quiet for this long; runs shorter than this print nothing.
const QUIET: Duration = Duration::from_secs(2);

impl Progress {
    /// Starts tracking `total` collectors against `device`.
    pub fn start(device: &str, total: usize) -> Self {
        let state = Arc::new(Mutex::new(State {
            device: device.to_string(),
            total,
            done: 0,
            current: String::new(),
            started: Instant::now(),
            shown: false,
        }));
        let tty = std::io::stderr().is_terminal();
        let every = if tty {
            Duration::from_millis(250)
        } else {
            Duration::from_secs(5)
        };
        let shared = state.clone();
        let ticker = tokio::spawn(
            async move {
                tokio::time::sleep(QUIET).await;
                let mut interval = tokio::time::interval(every);
                loop {
                    interval.tick().await;
                    let mut s = shared.lock().unwrap_or_else(|p| p.into_inner());
                    s.shown = true;
                    let line = format!(
                        "nbfacts: {}: {}/{} collectors done, {} running ({:.1} s)",
                        s.device,
                        s.done,
                        s.total,
                        s.current,
                        s.started.elapsed().as_secs_f64()
                    );
                    let mut err = std::io::stderr().lock();
                    let _ = if tty {
                        write!(err, "\r\x1b[2K{line}")
                    } else {
                        writeln!(err, "{line}")
                    };
                    let _ = err.flush();
                }
            }
            .instrument(tracing::debug_span!("progress", device = %device)),
        );
        Self { state, ticker }
    }

    /// `collector` starts.
    pub fn begin(&self, collector: &str) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.current = collector.to_string();
    }

    /// The current collector finished.
    pub fn end(&self) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.done += 1;
    }

    /// Stops the display (ends the redrawn line on a terminal).
    pub fn finish(self) {
        self.ticker.abort();
        let s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if s.shown {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(
                err,
                "{}nbfacts: {}: {} collectors in {:.1} s",
                if std::io::stderr().is_terminal() {
                    "\r\x1b[2K"
                } else {
                    ""
                },
                s.device,
                s.done,
                s.started.elapsed().as_secs_f64()
            );
        }
    }
}
