//! Device sessions over SSH: NETCONF (the `netconf` subsystem) and CLI (exec channels).
//!
//! [`NetconfSession`] is the [`DeviceSession`](crate::DeviceSession) a plugin talks to when
//! the device is real (or simulated): one SSH connection per device, opened on first use and
//! reused by every collector of a run, with the NETCONF channel opened once and RPCs
//! serialised on it. CLI commands run on their own exec channels of the same connection.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use nbfacts_host::DeviceSession;
//! use nbfacts_host::session::{
//!     CredentialProfile, HostKeyPolicy, HostKeyVerifier, NetconfSession, SecretSource,
//!     SessionOptions, SshTarget,
//! };
//!
//! let credentials = CredentialProfile::new("netconf")
//!     .with_password(SecretSource::Env("DEVICE_PASSWORD".into()))
//!     .resolve(&|var| std::env::var(var).ok())?;
//! let verifier = Arc::new(HostKeyVerifier::new(HostKeyPolicy::Strict, "/home/me/.ssh/known_hosts"));
//! let session = NetconfSession::new(
//!     SshTarget::new("edge1", "192.0.2.10", 830),
//!     "junos",
//!     Arc::new(credentials),
//!     verifier,
//!     SessionOptions::default(),
//! );
//! let reply = session.netconf_rpc("<get-software-information/>").await?;
//! session.close().await;
//! # let _ = reply; Ok(()) }
//! ```
//!
//! ## Design decisions
//!
//! * **Lazy connect, reconnect on next use.** A session connects when first used. When the
//!   connection drops (or an RPC times out, which leaves the channel in an unknown state) the
//!   RPC in flight fails with a transport or timeout error and the session forgets the
//!   connection; the next call connects afresh. A run never retries an RPC by itself: the
//!   scheduler decides about retries.
//! * **Host key before credentials.** The key is checked during key exchange; a refused key
//!   ends the connection before the user name or any secret is sent.
//! * **Errors for operators.** Every error names the device; none contains a secret. Timeouts
//!   map to the WIT `timeout` error, `<rpc-error>` replies to `rpc`, the rest to `transport`.

pub mod credentials;
pub mod known_hosts;
pub mod netconf;
pub mod ssh;

use std::fmt;
use std::time::Duration;

use nbfacts_sdk::DeviceError;

pub use credentials::{CredentialError, CredentialProfile, Credentials, Secret, SecretSource};
pub use known_hosts::{HostKeyError, HostKeyPolicy, HostKeyVerifier, Verdict, fingerprint};
pub use netconf::{NetconfSession, SessionStats};
pub use ssh::SshConnection;

/// Where a device is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshTarget {
    /// The device's name (inventory name, or the host as given); used in every message.
    pub name: String,
    /// Host name or IP address.
    pub host: String,
    /// SSH port (830 is NETCONF's, 22 SSH's).
    pub port: u16,
}

impl SshTarget {
    /// A target.
    pub fn new(name: impl Into<String>, host: impl Into<String>, port: u16) -> Self {
        Self {
            name: name.into(),
            host: host.into(),
            port,
        }
    }

    /// `host:port`, with brackets around IPv6 literals.
    pub fn addr(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// Timeouts and limits of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionOptions {
    /// TCP connect plus key exchange and host-key check.
    pub connect_timeout: Duration,
    /// Authentication.
    pub auth_timeout: Duration,
    /// One RPC or CLI command, from sending it to the end of the reply; also the hello
    /// exchange.
    pub rpc_timeout: Duration,
    /// Close the connection after this long without traffic (`None`: never).
    pub idle_timeout: Option<Duration>,
    /// Send an SSH keepalive after this long without traffic from the device (`None`: never).
    pub keepalive_interval: Option<Duration>,
    /// Give up on the connection after this many unanswered keepalives.
    pub keepalive_max: usize,
    /// The largest reply accepted, in bytes; larger ones fail with a `limit` error.
    pub max_reply_bytes: usize,
}

impl Default for SessionOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(15),
            auth_timeout: Duration::from_secs(15),
            rpc_timeout: Duration::from_secs(120),
            idle_timeout: Some(Duration::from_secs(600)),
            keepalive_interval: Some(Duration::from_secs(30)),
            keepalive_max: 3,
            max_reply_bytes: nbfacts_netconf::DEFAULT_MAX_MESSAGE_SIZE,
        }
    }
}

/// Why a session operation failed. Every variant names the device; none carries a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// TCP connect or key exchange failed.
    #[error("{device}: cannot connect to {addr}: {reason}")]
    Connect {
        /// Device name.
        device: String,
        /// `host:port`.
        addr: String,
        /// Why.
        reason: String,
    },
    /// Connect plus key exchange took too long.
    #[error("{device}: no SSH session with {addr} within {after:?}")]
    ConnectTimeout {
        /// Device name.
        device: String,
        /// `host:port`.
        addr: String,
        /// The configured timeout.
        after: Duration,
    },
    /// The host key was refused or could not be checked.
    #[error("{0}")]
    HostKey(Box<HostKeyError>),
    /// The device refused the credentials.
    #[error(
        "{device}: authentication failed for user {user} (tried: {tried}; the device offers: {offered})"
    )]
    Auth {
        /// Device name.
        device: String,
        /// The user name.
        user: String,
        /// Methods tried.
        tried: String,
        /// Methods the device said it accepts.
        offered: String,
    },
    /// Authentication took too long.
    #[error("{device}: authentication did not complete within {after:?}")]
    AuthTimeout {
        /// Device name.
        device: String,
        /// The configured timeout.
        after: Duration,
    },
    /// The device refused to start the subsystem.
    #[error(
        "{device}: the device refused the SSH subsystem '{subsystem}' (is NETCONF over SSH \
         enabled? On Junos: set system services netconf ssh)"
    )]
    SubsystemRefused {
        /// Device name.
        device: String,
        /// The subsystem name.
        subsystem: String,
    },
    /// The device refused an exec request.
    #[error("{device}: the device refused to run a command over SSH exec")]
    ExecRefused {
        /// Device name.
        device: String,
    },
    /// The connection dropped.
    #[error("{device}: the connection dropped during {during}")]
    Dropped {
        /// Device name.
        device: String,
        /// What was in flight.
        during: String,
    },
    /// An SSH-level failure on an established connection.
    #[error("{device}: SSH transport error: {reason}")]
    Transport {
        /// Device name.
        device: String,
        /// Why.
        reason: String,
    },
    /// The device broke the NETCONF protocol (framing, hello, reply).
    #[error("{device}: NETCONF protocol error during {during}: {reason}")]
    Protocol {
        /// Device name.
        device: String,
        /// What was in flight.
        during: String,
        /// Why.
        reason: String,
    },
    /// No complete reply within the RPC timeout.
    #[error("{device}: no reply to {during} within {after:?}")]
    Timeout {
        /// Device name.
        device: String,
        /// What was in flight.
        during: String,
        /// The configured timeout.
        after: Duration,
    },
    /// A reply larger than the configured cap.
    #[error("{device}: reply exceeds the limit of {limit} bytes")]
    ReplyTooLarge {
        /// Device name.
        device: String,
        /// The configured limit.
        limit: usize,
    },
}

impl SessionError {
    /// True when the error is about trust or credentials (host key, authentication): retrying
    /// will not help until an operator acts.
    pub fn is_trust_failure(&self) -> bool {
        matches!(self, SessionError::HostKey(_) | SessionError::Auth { .. })
    }
}

impl From<SessionError> for DeviceError {
    fn from(e: SessionError) -> Self {
        let text = e.to_string();
        match e {
            SessionError::ConnectTimeout { .. }
            | SessionError::AuthTimeout { .. }
            | SessionError::Timeout { .. } => DeviceError::Timeout(text),
            SessionError::ReplyTooLarge { .. } => DeviceError::Limit(text),
            _ => DeviceError::Transport(text),
        }
    }
}

/// A short, single-line excerpt of a message for error texts (device output, never secrets).
pub(crate) struct Excerpt<'a>(pub &'a [u8]);

impl fmt::Display for Excerpt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let head = self.0.get(..120).unwrap_or(self.0);
        let text: String = String::from_utf8_lossy(head)
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        if head.len() < self.0.len() {
            write!(f, "{text}…")
        } else {
            f.write_str(&text)
        }
    }
}
