//! The NETCONF server side of a simulated device, over any byte stream.
//!
//! [`serve`] speaks NETCONF (RFC 6241/6242) on an `AsyncRead + AsyncWrite`: the SSH
//! `netconf` subsystem channel, or stdin/stdout when the simulator runs as an OpenSSH
//! `Subsystem netconf` command ([`serve_stdio`]). Framing, hellos and `<rpc>` parsing come from
//! `nbfacts-netconf`; this module adds the device's answers and the injected faults.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use nbfacts_netconf::{
    BASE_1_0, BASE_1_1, Decoder, Encoder, Framing, FramingError, Hello, IncomingRpc, MessageError,
    RpcError, ServerSession, build_error_reply,
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::faults::Faults;
use crate::replies::{Answer, Replies};
use crate::stats::DeviceStats;

/// The `xmlns:junos` a Junos device declares on every `<rpc-reply>`.
pub const JUNOS_NS: &str = "http://xml.juniper.net/junos/21.4R0/junos";

/// Which NETCONF versions the device offers in its hello.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum NetconfVersions {
    /// Base 1.0 and 1.1: chunked framing with clients that offer 1.1.
    #[default]
    Both,
    /// Base 1.0 only: end-of-message framing.
    V1_0,
    /// Base 1.1 only: chunked framing (clients must offer 1.1).
    V1_1,
}

impl NetconfVersions {
    /// Parses `1.0`, `1.1` or `both`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "1.0" => Some(Self::V1_0),
            "1.1" => Some(Self::V1_1),
            "both" | "1.0,1.1" => Some(Self::Both),
            _ => None,
        }
    }

    fn bases(self) -> &'static [&'static str] {
        match self {
            Self::Both => &[BASE_1_0, BASE_1_1],
            Self::V1_0 => &[BASE_1_0],
            Self::V1_1 => &[BASE_1_1],
        }
    }
}

/// What a device serves, shared by all its connections.
#[derive(Debug)]
pub struct DeviceContext {
    /// The device's name.
    pub name: String,
    /// Its replies.
    pub replies: Replies,
    /// Injected faults.
    pub faults: Faults,
    /// NETCONF versions offered.
    pub versions: NetconfVersions,
    /// Counters.
    pub stats: DeviceStats,
}

/// How a NETCONF session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Ending {
    /// The client sent `<close-session/>`.
    Closed,
    /// The client closed the stream.
    Eof,
    /// An injected fault ends the connection: the caller should drop it.
    Drop,
}

/// Why a NETCONF session failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// Reading or writing the stream failed.
    #[error("NETCONF stream I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The client broke the framing.
    #[error("NETCONF framing: {0}")]
    Framing(#[from] FramingError),
    /// The client's hello was unusable.
    #[error("NETCONF hello: {0}")]
    Hello(#[from] MessageError),
}

struct Wire<S> {
    io: S,
    decoder: Decoder,
    encoder: Encoder,
    buf: Vec<u8>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Wire<S> {
    async fn read(&mut self) -> Result<Option<String>, ServeError> {
        loop {
            if let Some(message) = self.decoder.next_message()? {
                return Ok(Some(message.into_string()?));
            }
            let n = self.io.read(&mut self.buf).await?;
            if n == 0 {
                self.decoder.finish()?;
                return Ok(None);
            }
            self.decoder.feed(self.buf.get(..n).unwrap_or_default());
        }
    }

    async fn write(&mut self, xml: &str) -> Result<(), ServeError> {
        let bytes = self.encoder.encode_to_vec(xml.as_bytes())?;
        self.io.write_all(&bytes).await?;
        self.io.flush().await?;
        Ok(())
    }

    fn set_framing(&mut self, framing: Framing) -> Result<(), ServeError> {
        self.decoder.set_framing(framing)?;
        self.encoder.set_framing(framing);
        Ok(())
    }
}

/// Serves one NETCONF session on `io` until the client closes it or a fault ends it.
pub async fn serve<S>(io: S, device: &DeviceContext, session_id: u32) -> Result<Ending, ServeError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let stats = &device.stats;
    stats.netconf_sessions.fetch_add(1, Ordering::Relaxed);
    let hello = device
        .versions
        .bases()
        .iter()
        .fold(
            Hello::new(Vec::<String>::new(), Some(session_id)),
            |h, b| h.with_capability(*b),
        )
        .with_capability("urn:ietf:params:netconf:capability:candidate:1.0")
        .with_capability("urn:ietf:params:netconf:capability:validate:1.0")
        .with_capability("http://xml.juniper.net/netconf/junos/1.0")
        .with_capability("http://xml.juniper.net/dmi/system/1.0");
    let mut server = ServerSession::with_hello(hello);
    let mut wire = Wire {
        io,
        decoder: Decoder::new(Framing::EndOfMessage),
        encoder: Encoder::new(Framing::EndOfMessage),
        buf: vec![0; 64 * 1024],
    };
    wire.write(&server.hello_xml()).await?;
    let Some(client_hello) = wire.read().await? else {
        return Ok(Ending::Eof);
    };
    let framing = server.receive_hello(&client_hello)?;
    wire.set_framing(framing)?;
    tracing::debug!(device = %device.name, session_id, %framing, "NETCONF session started.");

    let faults = &device.faults;
    let mut served: u64 = 0;
    while let Some(message) = wire.read().await? {
        let rpc = match IncomingRpc::parse(&message) {
            Ok(rpc) => rpc,
            Err(e) => {
                let error = RpcError::new("rpc", "malformed-message", e.to_string());
                wire.write(&build_error_reply(&[], &[error])).await?;
                continue;
            }
        };
        let op = rpc.operation().to_string();
        if faults.drop_after.is_some_and(|n| served >= n) {
            tracing::info!(device = %device.name, rpc = %op, "Fault: dropping the connection.");
            return Ok(Ending::Drop);
        }
        served += 1;
        stats.rpcs.fetch_add(1, Ordering::Relaxed);
        if !faults.latency.is_zero() {
            tokio::time::sleep(faults.latency).await;
        }
        let reply = answer(device, &rpc);
        if faults.truncated.as_ref().is_some_and(|s| s.matches(&op)) {
            let bytes = wire.encoder.encode_to_vec(reply.as_bytes())?;
            let half = bytes.get(..bytes.len() / 2).unwrap_or_default();
            wire.io.write_all(half).await?;
            wire.io.flush().await?;
            tracing::info!(device = %device.name, rpc = %op, "Fault: truncated reply.");
            return Ok(Ending::Drop);
        }
        if faults.malformed.as_ref().is_some_and(|s| s.matches(&op)) {
            // Well framed, not well-formed: the closing tag is replaced by an unclosed element.
            let broken = reply.strip_suffix("</rpc-reply>").unwrap_or(&reply);
            wire.write(&format!("{broken}<unclosed-element")).await?;
            continue;
        }
        wire.write(&reply).await?;
        if op == "close-session" {
            return Ok(Ending::Closed);
        }
    }
    Ok(Ending::Eof)
}

/// The `<rpc-reply>` for `rpc`.
fn answer(device: &DeviceContext, rpc: &IncomingRpc) -> String {
    let op = rpc.operation();
    let junos = [("xmlns:junos", JUNOS_NS)];
    if op == "command" {
        // Junos's `<command>` RPC runs a CLI command and wraps the text in `<output>`.
        let command = unescape(rpc.inner_xml());
        return match device.replies.cli(&command) {
            Some(text) => rpc.reply_with(&junos, &format!("<output>{}</output>", escape(&text))),
            None => rpc.error_reply(&[RpcError::new(
                "protocol",
                "operation-failed",
                format!("syntax error, expecting <command>: {command}"),
            )
            .with_info(format!("<bad-element>{}</bad-element>", escape(&command)))]),
        };
    }
    // Rebuild the operation element as the plugin sent it; only its name, `instance` argument
    // and (for get-configuration) its body choose the reply file.
    let operation = format!("<{op}>{}</{op}>", rpc.inner_xml());
    match device.replies.rpc(op, &operation, rpc.arguments()) {
        Answer::Reply(payload) => rpc.reply_with(&junos, strip_declaration(&payload)),
        Answer::Ok => rpc.reply_with(&junos, "<ok/>"),
        Answer::Error(e) => {
            let mut error = RpcError::new(e.error_type, e.error_tag, e.error_message);
            if !e.error_path.is_empty() {
                // Junos names the offending element in error-info, not error-path.
                error = error.with_info(format!(
                    "<bad-element>{}</bad-element>",
                    escape(&e.error_path)
                ));
            }
            rpc.error_reply(&[error])
        }
    }
}

/// A payload without its `<?xml …?>` declaration, which cannot appear inside `<rpc-reply>`.
fn strip_declaration(payload: &str) -> &str {
    let trimmed = payload.trim_start();
    if trimmed.starts_with("<?xml")
        && let Some(end) = trimmed.find("?>")
    {
        return trimmed.get(end + 2..).unwrap_or_default();
    }
    payload
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn unescape(text: &str) -> String {
    text.trim()
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// Serves one NETCONF session on stdin/stdout (for OpenSSH's `Subsystem netconf` command).
pub async fn serve_stdio(device: Arc<DeviceContext>) -> Result<Ending, ServeError> {
    let io = tokio::io::join(tokio::io::stdin(), tokio::io::stdout());
    let session_id = std::process::id();
    serve(io, &device, session_id).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use nbfacts_netconf::{ClientSession, ReplyError};
    use std::collections::HashMap;

    fn device(faults: Faults, versions: NetconfVersions) -> DeviceContext {
        let mut files = HashMap::new();
        files.insert(
            "get-software-information.xml".to_string(),
            Arc::<str>::from("<?xml version=\"1.0\"?>\n<software-information><host-name>r1</host-name></software-information>"),
        );
        files.insert(
            "show_version.txt".to_string(),
            Arc::<str>::from("Junos <21.4>"),
        );
        DeviceContext {
            name: "r1".into(),
            replies: Replies::from_files("r1", files),
            faults,
            versions,
            stats: DeviceStats::default(),
        }
    }

    /// A client on the other end of an in-memory pipe, driven by `nbfacts-netconf`.
    struct TestClient {
        wire: Wire<tokio::io::DuplexStream>,
        session: ClientSession,
    }

    impl TestClient {
        async fn connect(io: tokio::io::DuplexStream, hello: Hello) -> (Self, Framing) {
            let mut wire = Wire {
                io,
                decoder: Decoder::new(Framing::EndOfMessage),
                encoder: Encoder::new(Framing::EndOfMessage),
                buf: vec![0; 4096],
            };
            let mut session = ClientSession::with_hello(hello);
            wire.write(&session.hello_xml()).await.unwrap();
            let server_hello = wire.read().await.unwrap().unwrap();
            let framing = session.receive_hello(&server_hello).unwrap();
            wire.set_framing(framing).unwrap();
            (Self { wire, session }, framing)
        }

        async fn call(&mut self, op: &str) -> Result<String, ReplyError> {
            let request = self.session.rpc(op);
            self.wire.write(request.xml()).await.unwrap();
            let reply = self.wire.read().await.unwrap().unwrap();
            self.session.receive_reply(reply).map(|r| r.into_payload())
        }
    }

    #[tokio::test]
    async fn answers_rpcs_and_unknown_rpcs_like_a_junos_device() {
        for (versions, hello, framing) in [
            (NetconfVersions::Both, Hello::client(), Framing::Chunked),
            (
                NetconfVersions::V1_0,
                Hello::client(),
                Framing::EndOfMessage,
            ),
            (
                NetconfVersions::Both,
                Hello::new([BASE_1_0], None),
                Framing::EndOfMessage,
            ),
        ] {
            let dev = device(Faults::none(), versions);
            let (client_io, server_io) = tokio::io::duplex(1 << 16);
            let server = async { serve(server_io, &dev, 7).await.unwrap() };
            let client = async {
                let (mut c, negotiated) = TestClient::connect(client_io, hello).await;
                assert_eq!(negotiated, framing);
                let payload = c.call("<get-software-information/>").await.unwrap();
                assert_eq!(
                    payload,
                    "\n<software-information><host-name>r1</host-name></software-information>"
                );
                let Err(ReplyError::Rpc(reply)) = c.call("<get-nothing/>").await else {
                    panic!("expected rpc-error");
                };
                let e = &reply.rpc_errors()[0];
                assert_eq!(e.error_message.as_deref(), Some("syntax error"));
                assert_eq!(
                    e.error_info.as_deref(),
                    Some("<bad-element>get-nothing</bad-element>")
                );
                let out = c
                    .call("<command format=\"text\">show version</command>")
                    .await
                    .unwrap();
                assert_eq!(out, "<output>Junos &lt;21.4&gt;</output>");
                assert_eq!(c.call("<close-session/>").await.unwrap(), "<ok/>");
            };
            let (ending, ()) = tokio::join!(server, client);
            assert_eq!(ending, Ending::Closed);
            assert_eq!(dev.stats.rpcs.load(Ordering::Relaxed), 4);
        }
    }

    #[tokio::test]
    async fn faults_drop_truncate_and_malform() {
        // Drop after one RPC: the second gets no answer and the session ends with Drop.
        let dev = device(Faults::none().with_drop_after(1), NetconfVersions::Both);
        let (client_io, server_io) = tokio::io::duplex(1 << 16);
        let server = async { serve(server_io, &dev, 1).await.unwrap() };
        let client = async move {
            let (mut c, _) = TestClient::connect(client_io, Hello::client()).await;
            c.call("<get-software-information/>").await.unwrap();
            let request = c.session.rpc("<get-software-information/>");
            c.wire.write(request.xml()).await.unwrap();
            c
        };
        let (ending, _client) = tokio::join!(server, client);
        assert_eq!(ending, Ending::Drop);

        // Truncated: half a chunked message, then Drop.
        let dev = device(
            Faults::none().with_truncated(crate::faults::RpcSelector::All),
            NetconfVersions::Both,
        );
        let (client_io, server_io) = tokio::io::duplex(1 << 16);
        let server = async { serve(server_io, &dev, 1).await.unwrap() };
        let client = async move {
            let (mut c, _) = TestClient::connect(client_io, Hello::client()).await;
            let request = c.session.rpc("<get-software-information/>");
            c.wire.write(request.xml()).await.unwrap();
            c
        };
        let (ending, mut c) = tokio::join!(server, client);
        assert_eq!(ending, Ending::Drop);
        drop(dev);
        // The client sees the stream end inside a message.
        assert!(matches!(
            c.wire.read().await,
            Err(ServeError::Framing(FramingError::Truncated { .. }))
        ));

        // Malformed: framed, but not XML.
        let dev = device(
            Faults::none().with_malformed(crate::faults::RpcSelector::parse(
                "get-software-information",
            )),
            NetconfVersions::V1_0,
        );
        let (client_io, server_io) = tokio::io::duplex(1 << 16);
        let server = async { serve(server_io, &dev, 1).await.unwrap() };
        let client = async move {
            let (mut c, _) = TestClient::connect(client_io, Hello::client()).await;
            let err = c.call("<get-software-information/>").await.unwrap_err();
            assert!(matches!(err, ReplyError::Message(_)), "{err}");
            drop(c);
        };
        let (ending, ()) = tokio::join!(server, client);
        assert_eq!(ending, Ending::Eof);
    }

    #[test]
    fn declarations_are_stripped() {
        assert_eq!(strip_declaration("<?xml version=\"1.0\"?><a/>"), "<a/>");
        assert_eq!(strip_declaration("<a/>"), "<a/>");
    }
}
