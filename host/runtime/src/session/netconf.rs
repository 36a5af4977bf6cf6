//! [`NetconfSession`]: a [`DeviceSession`] over SSH, NETCONF on the `netconf` subsystem and
//! CLI on exec channels.
//!
//! Framing, hellos and reply parsing are `nbfacts-netconf`'s ([`ClientSession`], [`Decoder`],
//! [`Encoder`]); this module moves bytes, applies timeouts, and maps failures to
//! [`DeviceError`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use nbfacts_netconf::{ClientSession, Decoder, Encoder, Framing, ReplyError};
use nbfacts_sdk::{DeviceError, DeviceInfo, RpcError};
use russh::ChannelStream;
use russh::client::Msg;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Mutex;

use super::credentials::Credentials;
use super::known_hosts::HostKeyVerifier;
use super::ssh::SshConnection;
use super::{Excerpt, SessionError, SessionOptions, SshTarget};
use crate::device::{BoxFuture, DeviceSession};

/// Counters of one session, for tests, progress and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionStats {
    /// SSH connections opened (1 when every collector reused the first).
    pub connections: u64,
    /// NETCONF channels opened.
    pub netconf_channels: u64,
    /// RPCs answered (with data or an `rpc-error`).
    pub rpcs: u64,
    /// Reply bytes received on the NETCONF channel.
    pub reply_bytes: u64,
}

/// A device session over SSH (see the [module documentation](super)).
pub struct NetconfSession {
    target: SshTarget,
    driver: String,
    credentials: Arc<Credentials>,
    verifier: Arc<HostKeyVerifier>,
    options: SessionOptions,
    connection: Mutex<Option<Arc<SshConnection>>>,
    netconf: Mutex<Option<Channel>>,
    connections: AtomicU64,
    netconf_channels: AtomicU64,
    rpcs: AtomicU64,
    reply_bytes: AtomicU64,
}

impl std::fmt::Debug for NetconfSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetconfSession")
            .field("target", &self.target)
            .field("driver", &self.driver)
            .field("credentials", &self.credentials)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// An open NETCONF channel and its protocol state.
struct Channel {
    connection: Arc<SshConnection>,
    stream: ChannelStream<Msg>,
    session: ClientSession,
    decoder: Decoder,
    encoder: Encoder,
    buf: Vec<u8>,
}

impl NetconfSession {
    /// A session to `target`; nothing is connected until the first call (or [`connect`]).
    ///
    /// [`connect`]: NetconfSession::connect
    pub fn new(
        target: SshTarget,
        driver: &str,
        credentials: Arc<Credentials>,
        verifier: Arc<HostKeyVerifier>,
        options: SessionOptions,
    ) -> Self {
        Self {
            target,
            driver: driver.to_string(),
            credentials,
            verifier,
            options,
            connection: Mutex::new(None),
            netconf: Mutex::new(None),
            connections: AtomicU64::new(0),
            netconf_channels: AtomicU64::new(0),
            rpcs: AtomicU64::new(0),
            reply_bytes: AtomicU64::new(0),
        }
    }

    /// The device.
    pub fn target(&self) -> &SshTarget {
        &self.target
    }

    /// Counters so far.
    pub fn stats(&self) -> SessionStats {
        SessionStats {
            connections: self.connections.load(Ordering::Relaxed),
            netconf_channels: self.netconf_channels.load(Ordering::Relaxed),
            rpcs: self.rpcs.load(Ordering::Relaxed),
            reply_bytes: self.reply_bytes.load(Ordering::Relaxed),
        }
    }

    /// Connects and opens the NETCONF channel now (otherwise the first RPC does), so that
    /// trust and credential problems are reported before any collector runs.
    pub async fn connect(&self) -> Result<(), SessionError> {
        let mut guard = self.netconf.lock().await;
        self.ensure_channel(&mut guard).await.map(|_| ())
    }

    /// Ends the session politely: `<close-session/>`, then SSH disconnect. Errors are ignored
    /// (the device may already be gone).
    pub async fn close(&self) {
        let mut guard = self.netconf.lock().await;
        if let Some(mut channel) = guard.take() {
            let limit = self
                .options
                .rpc_timeout
                .min(std::time::Duration::from_secs(5));
            let request = channel.session.close_session();
            let _ = tokio::time::timeout(limit, async {
                channel.send(request.xml()).await?;
                channel.receive(&self.target.name, "close-session").await
            })
            .await;
            let _ = channel.stream.shutdown().await;
        }
        drop(guard);
        if let Some(connection) = self.connection.lock().await.take() {
            connection.disconnect().await;
        }
    }

    /// The live connection, connecting if there is none or it has ended.
    async fn connection(&self) -> Result<Arc<SshConnection>, SessionError> {
        let mut guard = self.connection.lock().await;
        if let Some(c) = guard.as_ref().filter(|c| !c.is_closed()) {
            return Ok(c.clone());
        }
        *guard = None;
        let connection = Arc::new(
            SshConnection::connect(
                &self.target,
                &self.credentials,
                self.verifier.clone(),
                &self.options,
            )
            .await?,
        );
        self.connections.fetch_add(1, Ordering::Relaxed);
        *guard = Some(connection.clone());
        Ok(connection)
    }

    /// Forgets `connection` if it is still the current one (after a failure on it).
    async fn forget(&self, connection: &Arc<SshConnection>) {
        let mut guard = self.connection.lock().await;
        if guard.as_ref().is_some_and(|c| Arc::ptr_eq(c, connection))
            && let Some(c) = guard.take()
        {
            c.disconnect().await;
        }
    }

    async fn ensure_channel<'g>(
        &self,
        guard: &'g mut Option<Channel>,
    ) -> Result<&'g mut Channel, SessionError> {
        if guard.as_ref().is_some_and(|c| c.connection.is_closed()) {
            *guard = None;
        }
        if guard.is_none() {
            let connection = self.connection().await?;
            let opened = tokio::time::timeout(
                self.options.rpc_timeout,
                self.open_channel(connection.clone()),
            )
            .await
            .unwrap_or_else(|_| {
                Err(SessionError::Timeout {
                    device: self.target.name.clone(),
                    during: "the NETCONF hello exchange".into(),
                    after: self.options.rpc_timeout,
                })
            });
            match opened {
                Ok(channel) => *guard = Some(channel),
                Err(e) => {
                    if !matches!(e, SessionError::SubsystemRefused { .. }) {
                        self.forget(&connection).await;
                    }
                    return Err(e);
                }
            }
        }
        guard.as_mut().ok_or_else(|| SessionError::Dropped {
            device: self.target.name.clone(),
            during: "opening the NETCONF channel".into(),
        })
    }

    async fn open_channel(&self, connection: Arc<SshConnection>) -> Result<Channel, SessionError> {
        let stream = connection.open_subsystem("netconf").await?;
        let mut channel = Channel {
            connection,
            stream,
            session: ClientSession::new(),
            decoder: Decoder::new(Framing::EndOfMessage)
                .with_max_message_size(self.options.max_reply_bytes),
            encoder: Encoder::new(Framing::EndOfMessage),
            buf: vec![0; 64 * 1024],
        };
        let device = &self.target.name;
        let hello = channel.session.hello_xml();
        channel
            .send(&hello)
            .await
            .map_err(|e| e.into_session(device, "the NETCONF hello"))?;
        let server_hello = channel
            .read_message()
            .await
            .map_err(|e| e.into_session(device, "the NETCONF hello"))?;
        let framing =
            channel
                .session
                .receive_hello(&server_hello)
                .map_err(|e| SessionError::Protocol {
                    device: device.clone(),
                    during: "the NETCONF hello".into(),
                    reason: e.to_string(),
                })?;
        channel
            .decoder
            .set_framing(framing)
            .map_err(|e| SessionError::Protocol {
                device: device.clone(),
                during: "the NETCONF hello".into(),
                reason: e.to_string(),
            })?;
        channel.encoder.set_framing(framing);
        self.netconf_channels.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(
            device = %device,
            session_id = channel.session.session_id().unwrap_or_default(),
            %framing,
            "NETCONF session open."
        );
        Ok(channel)
    }

    async fn rpc(&self, rpc: &str) -> Result<String, DeviceError> {
        let operation = nbfacts_sdk::testing::operation_name(rpc).unwrap_or_else(|| "rpc".into());
        let mut guard = self.netconf.lock().await;
        let channel = self.ensure_channel(&mut guard).await?;
        let request = channel.session.rpc(rpc);
        let device = &self.target.name;
        let exchange = async {
            channel.send(request.xml()).await?;
            channel.receive(device, &operation).await
        };
        let outcome = tokio::time::timeout(self.options.rpc_timeout, exchange).await;
        let failure = match outcome {
            Ok(Ok(Reply::Data(payload))) => {
                self.rpcs.fetch_add(1, Ordering::Relaxed);
                self.reply_bytes
                    .fetch_add(payload.len() as u64, Ordering::Relaxed);
                return Ok(payload);
            }
            Ok(Ok(Reply::Error(e))) => {
                self.rpcs.fetch_add(1, Ordering::Relaxed);
                return Err(DeviceError::Rpc(e));
            }
            Ok(Err(e)) => e.into_session(device, &format!("the RPC {operation}")),
            Err(_) => SessionError::Timeout {
                device: device.clone(),
                during: format!("the RPC {operation}"),
                after: self.options.rpc_timeout,
            },
        };
        // The channel's state is unknown now (a reply may still be in flight): drop it, and the
        // connection too if it has ended. The next call starts afresh.
        if let Some(channel) = guard.take()
            && channel.connection.is_closed()
        {
            self.forget(&channel.connection).await;
        }
        tracing::warn!(device = %device, rpc = %operation, error = %failure, "RPC failed.");
        Err(failure.into())
    }

    async fn run_cli(&self, command: &str) -> Result<String, DeviceError> {
        let connection = self.connection().await?;
        let limit = self.options.rpc_timeout;
        let output = match tokio::time::timeout(
            limit,
            connection.exec(command, self.options.max_reply_bytes),
        )
        .await
        {
            Ok(Ok(out)) => out,
            Ok(Err(e)) => {
                if connection.is_closed() {
                    self.forget(&connection).await;
                }
                return Err(e.into());
            }
            Err(_) => {
                return Err(SessionError::Timeout {
                    device: self.target.name.clone(),
                    during: format!("the command '{command}'"),
                    after: limit,
                }
                .into());
            }
        };
        let stderr = String::from_utf8_lossy(&output.stderr).trim().to_string();
        match output.exit_status {
            Some(0) | None => Ok(String::from_utf8_lossy(&output.stdout).into_owned()),
            // "command not found": the session cannot do this.
            Some(127) => Err(DeviceError::NotSupported(stderr)),
            Some(status) => Err(DeviceError::Rpc(RpcError {
                error_type: "application".into(),
                error_tag: "operation-failed".into(),
                error_severity: "error".into(),
                error_message: if stderr.is_empty() {
                    format!("the command exited with status {status}")
                } else {
                    stderr
                },
                error_path: command.to_string(),
            })),
        }
    }
}

/// A reply: data, or the device's `<rpc-error>`.
enum Reply {
    Data(String),
    Error(RpcError),
}

/// Failures while moving NETCONF messages.
enum WireError {
    Io(std::io::Error),
    Closed,
    Framing(nbfacts_netconf::FramingError),
    Message(String),
}

impl WireError {
    fn into_session(self, device: &str, during: &str) -> SessionError {
        let device = device.to_string();
        let during = during.to_string();
        match self {
            WireError::Closed => SessionError::Dropped { device, during },
            WireError::Io(e) => SessionError::Transport {
                device,
                reason: format!("{e} during {during}"),
            },
            WireError::Framing(nbfacts_netconf::FramingError::MessageTooLarge {
                limit, ..
            }) => SessionError::ReplyTooLarge { device, limit },
            WireError::Framing(nbfacts_netconf::FramingError::Truncated { .. }) => {
                SessionError::Dropped { device, during }
            }
            WireError::Framing(e) => SessionError::Protocol {
                device,
                during,
                reason: e.to_string(),
            },
            WireError::Message(reason) => SessionError::Protocol {
                device,
                during,
                reason,
            },
        }
    }
}

impl Channel {
    async fn send(&mut self, xml: &str) -> Result<(), WireError> {
        let bytes = self
            .encoder
            .encode_to_vec(xml.as_bytes())
            .map_err(WireError::Framing)?;
        self.stream.write_all(&bytes).await.map_err(WireError::Io)?;
        self.stream.flush().await.map_err(WireError::Io)
    }

    async fn read_message(&mut self) -> Result<String, WireError> {
        loop {
            match self.decoder.next_message() {
                Ok(Some(message)) => {
                    return message
                        .into_string()
                        .map_err(|e| WireError::Message(e.to_string()));
                }
                Ok(None) => {}
                Err(e) => return Err(WireError::Framing(e)),
            }
            let n = self
                .stream
                .read(&mut self.buf)
                .await
                .map_err(WireError::Io)?;
            if n == 0 {
                self.decoder.finish().map_err(WireError::Framing)?;
                return Err(WireError::Closed);
            }
            self.decoder.feed(self.buf.get(..n).unwrap_or_default());
        }
    }

    /// Reads until the reply to the pending request (notifications are skipped).
    async fn receive(&mut self, device: &str, operation: &str) -> Result<Reply, WireError> {
        loop {
            let xml = self.read_message().await?;
            if is_notification(&xml) {
                tracing::debug!(device = %device, "Skipped a NETCONF notification.");
                continue;
            }
            let head = Excerpt(xml.as_bytes()).to_string();
            return match self.session.receive_reply(xml) {
                Ok(reply) => Ok(Reply::Data(reply.into_payload())),
                Err(ReplyError::Rpc(reply)) => {
                    let first = reply.errors().next().cloned().unwrap_or_default();
                    Ok(Reply::Error(to_sdk_error(&first, operation)))
                }
                Err(e) => Err(WireError::Message(format!(
                    "{e} (the reply starts: {head})"
                ))),
            };
        }
    }
}

fn is_notification(xml: &str) -> bool {
    let head = xml.trim_start();
    let head = head
        .strip_prefix("<?xml")
        .and_then(|rest| rest.find("?>").and_then(|i| rest.get(i + 2..)))
        .unwrap_or(head)
        .trim_start();
    head.starts_with("<notification") || head.starts_with("<ncEvent:notification")
}

/// The SDK's view of an `<rpc-error>`: `error-path`, else Junos's `<bad-element>`.
fn to_sdk_error(e: &nbfacts_netconf::RpcError, operation: &str) -> RpcError {
    let path = e
        .error_path
        .clone()
        .filter(|p| !p.is_empty())
        .or_else(|| e.error_info.as_deref().and_then(bad_element))
        .unwrap_or_default();
    let _ = operation;
    RpcError {
        error_type: e.error_type.clone(),
        error_tag: e.error_tag.clone(),
        error_severity: e.error_severity.as_str().to_string(),
        error_message: e
            .error_message
            .clone()
            .unwrap_or_default()
            .trim()
            .to_string(),
        error_path: path,
    }
}

/// The text of `<bad-element>` inside an `error-info` fragment.
fn bad_element(info: &str) -> Option<String> {
    let start = info.find("bad-element>")? + "bad-element>".len();
    let rest = info.get(start..)?;
    let end = rest.find('<')?;
    let text = rest.get(..end)?.trim();
    (!text.is_empty()).then(|| {
        text.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    })
}

impl DeviceSession for NetconfSession {
    fn netconf_rpc<'a>(&'a self, rpc: &'a str) -> BoxFuture<'a, Result<String, DeviceError>> {
        Box::pin(self.rpc(rpc))
    }

    fn cli<'a>(&'a self, command: &'a str) -> BoxFuture<'a, Result<String, DeviceError>> {
        Box::pin(self.run_cli(command))
    }

    fn info(&self) -> DeviceInfo {
        DeviceInfo {
            name: self.target.name.clone(),
            driver: self.driver.clone(),
            address: self.target.host.clone(),
            transports: "netconf,cli".to_string(),
            extra: vec![("port".to_string(), self.target.port.to_string())],
        }
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(NetconfSession::close(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rpc_errors_map_bad_element_to_the_path() {
        let e = nbfacts_netconf::RpcError::new("protocol", "operation-failed", "syntax error")
            .with_info("<bad-element>get-nothing</bad-element>");
        let sdk = to_sdk_error(&e, "get-nothing");
        assert_eq!(
            DeviceError::Rpc(sdk),
            nbfacts_sdk::testing::unknown_rpc_error("get-nothing")
        );
        let e = nbfacts_netconf::RpcError::new("application", "invalid-value", " bad ")
            .with_path("/a/b");
        let sdk = to_sdk_error(&e, "x");
        assert_eq!(sdk.error_path, "/a/b");
        assert_eq!(sdk.error_message, "bad");
    }

    #[test]
    fn notifications_are_recognised() {
        assert!(is_notification(
            "<?xml version=\"1.0\"?>\n<notification xmlns=\"x\"/>"
        ));
        assert!(!is_notification("<rpc-reply/>"));
    }

    #[test]
    fn session_errors_map_to_device_errors() {
        let t: DeviceError = SessionError::Timeout {
            device: "d".into(),
            during: "x".into(),
            after: std::time::Duration::from_secs(1),
        }
        .into();
        assert!(matches!(t, DeviceError::Timeout(m) if m.contains("d:")));
        let l: DeviceError = SessionError::ReplyTooLarge {
            device: "d".into(),
            limit: 5,
        }
        .into();
        assert!(matches!(l, DeviceError::Limit(_)));
        let d: DeviceError = SessionError::Dropped {
            device: "d".into(),
            during: "the RPC x".into(),
        }
        .into();
        assert!(matches!(d, DeviceError::Transport(m) if m.contains("dropped")));
    }
}
