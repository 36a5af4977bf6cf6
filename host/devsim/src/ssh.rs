//! The SSH side of a simulated device: a russh server with a `netconf` subsystem and exec.
//!
//! Each device has its own listener and accept loop (so each gets its own port, as real
//! devices have their own addresses). Connections run russh's server session; a `netconf`
//! subsystem request starts [`crate::netconf::serve`] on the channel, an exec request answers
//! the command from the device's recorded CLI output.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use russh::keys::PublicKey;
use russh::server::{
    self, Auth, ChannelOpenHandle, Msg, PublicKeyOffer, Session, VerifiedPublicKey,
};
use russh::{Channel, ChannelId, Disconnect, MethodKind, MethodSet};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::Instrument;

use crate::netconf::{DeviceContext, Ending, serve};

/// Who may log in.
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct AuthConfig {
    /// The user name accepted.
    pub username: String,
    /// The password accepted, if password authentication is on.
    pub password: Option<String>,
    /// Public keys accepted for the user.
    pub authorized_keys: Vec<PublicKey>,
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfig")
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("authorized_keys", &self.authorized_keys.len())
            .finish()
    }
}

impl AuthConfig {
    /// User `username` with `password`.
    pub fn password(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            username: username.into(),
            password: Some(password.into()),
            authorized_keys: Vec::new(),
        }
    }

    /// Also accepts `key`.
    #[must_use]
    pub fn with_key(mut self, key: PublicKey) -> Self {
        self.authorized_keys.push(key);
        self
    }

    fn methods(&self) -> MethodSet {
        let mut set = MethodSet::empty();
        if !self.authorized_keys.is_empty() {
            set.push(MethodKind::PublicKey);
        }
        if self.password.is_some() {
            set.push(MethodKind::Password);
        }
        set
    }

    fn key_allowed(&self, user: &str, key: &PublicKey) -> bool {
        user == self.username
            && self
                .authorized_keys
                .iter()
                .any(|k| k.key_data() == key.key_data())
    }
}

/// What the accept loop of one device needs.
pub(crate) struct Listener {
    pub(crate) listener: TcpListener,
    pub(crate) config: Arc<server::Config>,
    pub(crate) device: Arc<DeviceContext>,
    pub(crate) auth: Arc<AuthConfig>,
    pub(crate) shutdown: watch::Receiver<bool>,
}

/// Accepts connections until shutdown, then waits for the open ones to be told goodbye.
pub(crate) async fn accept_loop(mut l: Listener) {
    let session_ids = Arc::new(AtomicU32::new(1));
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = l.shutdown.changed() => break,
            accepted = l.listener.accept() => match accepted {
                Ok((socket, peer)) => {
                    l.device.stats.connections.fetch_add(1, Ordering::Relaxed);
                    let _ = socket.set_nodelay(true);
                    let handler = Connection {
                        device: l.device.clone(),
                        auth: l.auth.clone(),
                        channels: HashMap::new(),
                        session_ids: session_ids.clone(),
                    };
                    let span = tracing::debug_span!("devsim_connection", device = %l.device.name, %peer);
                    connections.spawn(
                        connection(socket, l.config.clone(), handler, l.shutdown.clone()).instrument(span),
                    );
                }
                Err(e) => {
                    // Out of file descriptors and the like: report, back off briefly, go on.
                    tracing::warn!(device = %l.device.name, error = %e, "Accept failed.");
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(l.listener);
    while connections.join_next().await.is_some() {}
}

async fn connection(
    socket: tokio::net::TcpStream,
    config: Arc<server::Config>,
    handler: Connection,
    mut shutdown: watch::Receiver<bool>,
) {
    let session = match server::run_stream(config, socket, handler).await {
        Ok(s) => s,
        Err(e) => {
            tracing::debug!(error = %e, "SSH handshake failed.");
            return;
        }
    };
    let handle = session.handle();
    tokio::select! {
        _ = shutdown.changed() => {
            let _ = handle
                .disconnect(Disconnect::ByApplication, "simulator shutting down".into(), "en".into())
                .await;
        }
        result = session => {
            if let Err(e) = result {
                tracing::debug!(error = %e, "Connection ended with an error.");
            }
        }
    }
}

/// russh's per-connection handler.
struct Connection {
    device: Arc<DeviceContext>,
    auth: Arc<AuthConfig>,
    channels: HashMap<ChannelId, Channel<Msg>>,
    session_ids: Arc<AtomicU32>,
}

impl Connection {
    fn refuse(&self) -> Auth {
        self.device
            .stats
            .auth_failures
            .fetch_add(1, Ordering::Relaxed);
        Auth::Reject {
            proceed_with_methods: Some(self.auth.methods()),
            partial_success: false,
        }
    }
}

impl server::Handler for Connection {
    type Error = russh::Error;

    async fn auth_none(&mut self, _user: &str) -> Result<Auth, Self::Error> {
        Ok(Auth::Reject {
            proceed_with_methods: Some(self.auth.methods()),
            partial_success: false,
        })
    }

    async fn auth_password(&mut self, user: &str, password: &str) -> Result<Auth, Self::Error> {
        let ok = !self.device.faults.reject_auth
            && user == self.auth.username
            && self.auth.password.as_deref() == Some(password);
        Ok(if ok { Auth::Accept } else { self.refuse() })
    }

    async fn auth_publickey_offered(
        &mut self,
        user: &str,
        offer: PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        if !self.device.faults.reject_auth && self.auth.key_allowed(user, offer.public_key) {
            Ok(Auth::Accept)
        } else {
            Ok(Auth::Reject {
                proceed_with_methods: Some(self.auth.methods()),
                partial_success: false,
            })
        }
    }

    async fn auth_publickey(
        &mut self,
        user: &str,
        key: VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        let ok = !self.device.faults.reject_auth && self.auth.key_allowed(user, key.public_key);
        Ok(if ok { Auth::Accept } else { self.refuse() })
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.channels.insert(channel.id(), channel);
        reply.accept().await;
        Ok(())
    }

    async fn channel_close(
        &mut self,
        channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.channels.remove(&channel);
        Ok(())
    }

    async fn subsystem_request(
        &mut self,
        channel: ChannelId,
        name: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let Some(ch) = self.channels.remove(&channel).filter(|_| name == "netconf") else {
            session.channel_failure(channel)?;
            return Ok(());
        };
        session.channel_success(channel)?;
        let device = self.device.clone();
        let handle = session.handle();
        let session_id = self.session_ids.fetch_add(1, Ordering::Relaxed);
        let span = tracing::debug_span!("devsim_netconf", device = %device.name, session_id);
        tokio::spawn(
            async move {
                let status = match serve(ch.into_stream(), &device, session_id).await {
                    Ok(Ending::Drop) => {
                        let _ = handle
                            .disconnect(
                                Disconnect::ByApplication,
                                "fault injected: connection dropped".into(),
                                "en".into(),
                            )
                            .await;
                        return;
                    }
                    Ok(_) => 0,
                    Err(e) => {
                        tracing::debug!(error = %e, "NETCONF session failed.");
                        1
                    }
                };
                // End the channel as sshd does when a subsystem exits: exit status, EOF, close.
                // Without the status, OpenSSH's `ssh -s` exits with 255 after a clean
                // close-session.
                let _ = handle.exit_status_request(channel, status).await;
                let _ = handle.eof(channel).await;
                let _ = handle.close(channel).await;
            }
            .instrument(span),
        );
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let Some(ch) = self.channels.remove(&channel) else {
            session.channel_failure(channel)?;
            return Ok(());
        };
        session.channel_success(channel)?;
        let command = String::from_utf8_lossy(data).trim().to_string();
        let device = self.device.clone();
        let span = tracing::debug_span!("devsim_exec", device = %device.name);
        tokio::spawn(
            async move {
                device.stats.commands.fetch_add(1, Ordering::Relaxed);
                if !device.faults.latency.is_zero() {
                    tokio::time::sleep(device.faults.latency).await;
                }
                let status = match device.replies.cli(&command) {
                    Some(text) => {
                        let _ = ch.data_bytes(text.as_bytes().to_vec()).await;
                        0
                    }
                    None => {
                        let message = format!("no recorded output for the command '{command}'\n");
                        let _ = ch.extended_data_bytes(1, message.into_bytes()).await;
                        127
                    }
                };
                let _ = ch.exit_status(status).await;
                let _ = ch.eof().await;
                let _ = ch.close().await;
            }
            .instrument(span),
        );
        Ok(())
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_failure(channel)?;
        Ok(())
    }
}

/// The address a listener is bound to, for the handle.
pub(crate) fn local_addr(listener: &TcpListener) -> std::io::Result<SocketAddr> {
    listener.local_addr()
}
