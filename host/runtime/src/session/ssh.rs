//! The SSH transport: one russh connection per device, channels on demand.
//!
//! [`SshConnection::connect`] opens TCP, runs key exchange, checks the host key with the run's
//! [`HostKeyVerifier`] *before* any credential is sent, and
//! authenticates (public key first, then password, as OpenSSH does). Each step has its own
//! timeout. Keepalives and an idle timeout are russh's, configured from [`SessionOptions`].
//! The connection then hands out channels: the `netconf` subsystem (kept open by the NETCONF
//! session) and one exec channel per CLI command.

use std::sync::{Arc, Mutex};

use russh::client::{self, AuthResult};
use russh::keys::{PrivateKeyWithHashAlg, PublicKey, PublicKeyOrCertificate};
use russh::{ChannelMsg, ChannelStream, Disconnect};

use super::credentials::Credentials;
use super::known_hosts::{HostKeyError, HostKeyVerifier, Verdict};
use super::{SessionError, SessionOptions, SshTarget};

/// An authenticated SSH connection to one device.
pub struct SshConnection {
    handle: client::Handle<Client>,
    target: SshTarget,
}

impl std::fmt::Debug for SshConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SshConnection")
            .field("target", &self.target)
            .field("closed", &self.handle.is_closed())
            .finish()
    }
}

/// What an exec channel produced.
#[derive(Debug, Clone, Default)]
pub struct ExecOutput {
    /// Standard output.
    pub stdout: Vec<u8>,
    /// Standard error.
    pub stderr: Vec<u8>,
    /// The exit status, if the server sent one.
    pub exit_status: Option<u32>,
}

impl SshConnection {
    /// Connects, verifies the host key and authenticates.
    pub async fn connect(
        target: &SshTarget,
        credentials: &Credentials,
        verifier: Arc<HostKeyVerifier>,
        options: &SessionOptions,
    ) -> Result<Self, SessionError> {
        let config = Arc::new(client::Config {
            inactivity_timeout: options.idle_timeout,
            keepalive_interval: options.keepalive_interval,
            keepalive_max: options.keepalive_max,
            nodelay: true,
            ..client::Config::default()
        });
        let refused = Arc::new(Mutex::new(None));
        let handler = Client {
            device: target.name.clone(),
            host: target.host.clone(),
            port: target.port,
            verifier,
            refused: refused.clone(),
        };
        let addr = (target.host.as_str(), target.port);
        let connecting = client::connect(config, addr, handler);
        let mut handle = match tokio::time::timeout(options.connect_timeout, connecting).await {
            Err(_) => {
                return Err(SessionError::ConnectTimeout {
                    device: target.name.clone(),
                    addr: target.addr(),
                    after: options.connect_timeout,
                });
            }
            Ok(Err(e)) => {
                // A refused host key surfaces from russh as `UnknownKey`; report ours instead.
                let refusal = refused.lock().unwrap_or_else(|p| p.into_inner()).take();
                return Err(match refusal {
                    Some(host_key) => SessionError::HostKey(Box::new(host_key)),
                    None => SessionError::Connect {
                        device: target.name.clone(),
                        addr: target.addr(),
                        reason: describe(&e),
                    },
                });
            }
            Ok(Ok(handle)) => handle,
        };
        let auth = authenticate(&mut handle, credentials);
        match tokio::time::timeout(options.auth_timeout, auth).await {
            Err(_) => {
                return Err(SessionError::AuthTimeout {
                    device: target.name.clone(),
                    after: options.auth_timeout,
                });
            }
            Ok(Err(e)) => {
                return Err(SessionError::Connect {
                    device: target.name.clone(),
                    addr: target.addr(),
                    reason: format!("during authentication: {}", describe(&e)),
                });
            }
            Ok(Ok(Some(offered))) => {
                return Err(SessionError::Auth {
                    device: target.name.clone(),
                    user: credentials.username().to_string(),
                    tried: credentials.methods(),
                    offered,
                });
            }
            Ok(Ok(None)) => {}
        }
        tracing::debug!(device = %target.name, addr = %target.addr(), "SSH session established.");
        Ok(Self {
            handle,
            target: target.clone(),
        })
    }

    /// True once the connection has ended (dropped, timed out or closed).
    pub fn is_closed(&self) -> bool {
        self.handle.is_closed()
    }

    /// Opens a session channel and starts the subsystem `name` on it.
    pub async fn open_subsystem(
        &self,
        name: &str,
    ) -> Result<ChannelStream<client::Msg>, SessionError> {
        let mut channel = self
            .handle
            .channel_open_session()
            .await
            .map_err(|e| self.dropped(&e))?;
        channel
            .request_subsystem(true, name)
            .await
            .map_err(|e| self.dropped(&e))?;
        loop {
            match channel.wait().await {
                Some(ChannelMsg::Success) => return Ok(channel.into_stream()),
                Some(ChannelMsg::Failure) | Some(ChannelMsg::Close) | Some(ChannelMsg::Eof) => {
                    return Err(SessionError::SubsystemRefused {
                        device: self.target.name.clone(),
                        subsystem: name.to_string(),
                    });
                }
                Some(_) => {}
                None => {
                    return Err(SessionError::Dropped {
                        device: self.target.name.clone(),
                        during: format!("the {name} subsystem request"),
                    });
                }
            }
        }
    }

    /// Runs `command` on an exec channel and collects its output, up to `max_bytes`.
    pub async fn exec(&self, command: &str, max_bytes: usize) -> Result<ExecOutput, SessionError> {
        let mut channel = self
            .handle
            .channel_open_session()
            .await
            .map_err(|e| self.dropped(&e))?;
        channel
            .exec(true, command.as_bytes())
            .await
            .map_err(|e| self.dropped(&e))?;
        let mut out = ExecOutput::default();
        loop {
            match channel.wait().await {
                Some(ChannelMsg::Data { data }) => out.stdout.extend_from_slice(&data),
                Some(ChannelMsg::ExtendedData { data, .. }) => out.stderr.extend_from_slice(&data),
                Some(ChannelMsg::ExitStatus { exit_status }) => out.exit_status = Some(exit_status),
                Some(ChannelMsg::Failure) => {
                    return Err(SessionError::ExecRefused {
                        device: self.target.name.clone(),
                    });
                }
                Some(ChannelMsg::Close) | None => break,
                Some(_) => {}
            }
            if out.stdout.len() + out.stderr.len() > max_bytes {
                let _ = channel.close().await;
                return Err(SessionError::ReplyTooLarge {
                    device: self.target.name.clone(),
                    limit: max_bytes,
                });
            }
        }
        if out.exit_status.is_none() && self.handle.is_closed() {
            return Err(SessionError::Dropped {
                device: self.target.name.clone(),
                during: "a CLI command".to_string(),
            });
        }
        Ok(out)
    }

    /// Says goodbye to the server; the connection is unusable afterwards.
    pub async fn disconnect(&self) {
        let _ = self
            .handle
            .disconnect(Disconnect::ByApplication, "nbfacts: done", "en")
            .await;
    }

    fn dropped(&self, e: &russh::Error) -> SessionError {
        SessionError::Transport {
            device: self.target.name.clone(),
            reason: describe(e),
        }
    }
}

/// `Ok(None)` on success; `Ok(Some(methods the server offers))` when refused.
async fn authenticate(
    handle: &mut client::Handle<Client>,
    credentials: &Credentials,
) -> Result<Option<String>, russh::Error> {
    let user = credentials.username();
    let mut offered = String::new();
    if let Some(key) = credentials.private_key() {
        let hash = if key.algorithm().is_rsa() {
            handle.best_supported_rsa_hash().await?.flatten()
        } else {
            None
        };
        let key = PrivateKeyWithHashAlg::new(key.clone(), hash);
        match handle.authenticate_publickey(user, key).await? {
            AuthResult::Success => return Ok(None),
            AuthResult::Failure {
                remaining_methods, ..
            } => offered = methods(&remaining_methods),
        }
    }
    if let Some(password) = credentials.password_secret() {
        match handle
            .authenticate_password(user, password.expose())
            .await?
        {
            AuthResult::Success => return Ok(None),
            AuthResult::Failure {
                remaining_methods, ..
            } => offered = methods(&remaining_methods),
        }
    }
    Ok(Some(offered))
}

fn methods(set: &russh::MethodSet) -> String {
    set.iter().map(<&str>::from).collect::<Vec<_>>().join(", ")
}

/// A russh error as an operator reads it.
pub(crate) fn describe(e: &russh::Error) -> String {
    match e {
        russh::Error::IO(io) => io.to_string(),
        russh::Error::Disconnect | russh::Error::HUP => "the device closed the connection".into(),
        russh::Error::KeepaliveTimeout => "the device stopped answering keepalives".into(),
        russh::Error::InactivityTimeout => "the connection was idle too long".into(),
        russh::Error::ConnectionTimeout => "connection timed out".into(),
        russh::Error::SendError | russh::Error::RecvError => "the connection is closed".into(),
        other => other.to_string(),
    }
}

/// russh's per-connection callbacks: host-key verification.
struct Client {
    device: String,
    host: String,
    port: u16,
    verifier: Arc<HostKeyVerifier>,
    /// Why the host key was refused, for [`SshConnection::connect`] to report.
    refused: Arc<Mutex<Option<HostKeyError>>>,
}

impl client::Handler for Client {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        server_public_key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let key: PublicKey = match server_public_key {
            PublicKeyOrCertificate::PublicKey { key, .. } => key.clone(),
            PublicKeyOrCertificate::Certificate(cert) => cert.public_key().clone().into(),
        };
        let (verifier, device, host, port) = (
            self.verifier.clone(),
            self.device.clone(),
            self.host.clone(),
            self.port,
        );
        // The known-hosts file is read (and maybe appended to) off the async workers.
        let span = tracing::debug_span!("host_key", device = %self.device);
        let verdict = tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            verifier.verify(&device, &host, port, &key)
        })
        .await
        .map_err(|e| russh::Error::IO(std::io::Error::other(e.to_string())))?;
        match verdict {
            Ok(v) => {
                if v == Verdict::Learned {
                    tracing::debug!(device = %self.device, "Host key learned.");
                }
                Ok(true)
            }
            Err(e) => {
                tracing::warn!(device = %self.device, error = %e, "Host key refused.");
                *self.refused.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                Ok(false)
            }
        }
    }
}
