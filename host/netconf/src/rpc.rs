//! Client side: `<rpc>` building with message ids, `<rpc-reply>` parsing and matching,
//! `<rpc-error>` decoding.

use std::collections::VecDeque;
use std::fmt;
use std::ops::Range;

use quick_xml::events::Event;

use crate::error::MessageError;
use crate::framing::Framing;
use crate::hello::{Hello, NETCONF_NS, negotiate};
use crate::xml::{self, XmlReader, local_name, write_text_element};

/// `error-severity` of an `<rpc-error>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Severity {
    /// The operation failed (also used for a missing or unknown severity).
    #[default]
    Error,
    /// The operation succeeded with a remark; Junos sends these next to the data.
    Warning,
}

impl Severity {
    /// Parses an `error-severity` value. Anything but `warning` counts as an error, so an
    /// unknown severity never passes silently.
    pub fn parse(text: &str) -> Self {
        if text.trim().eq_ignore_ascii_case("warning") {
            Self::Warning
        } else {
            Self::Error
        }
    }

    /// The RFC 6241 spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One `<rpc-error>` element (RFC 6241 §4.3). Text fields are trimmed; `error_info` is the raw
/// inner XML of `<error-info>` (it usually holds elements such as `<bad-element>`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct RpcError {
    /// `error-type`: `transport`, `rpc`, `protocol` or `application`.
    pub error_type: String,
    /// `error-tag`, e.g. `operation-failed`, `invalid-value`.
    pub error_tag: String,
    /// `error-severity`.
    pub error_severity: Severity,
    /// `error-app-tag`.
    pub error_app_tag: Option<String>,
    /// `error-path`.
    pub error_path: Option<String>,
    /// `error-message`.
    pub error_message: Option<String>,
    /// Raw inner XML of `error-info`.
    pub error_info: Option<String>,
}

impl RpcError {
    /// An error of severity `error`.
    pub fn new(
        error_type: impl Into<String>,
        error_tag: impl Into<String>,
        error_message: impl Into<String>,
    ) -> Self {
        Self {
            error_type: error_type.into(),
            error_tag: error_tag.into(),
            error_message: Some(error_message.into()),
            ..Self::default()
        }
    }

    /// Sets the severity.
    #[must_use]
    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.error_severity = severity;
        self
    }

    /// Sets `error-path`.
    #[must_use]
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.error_path = Some(path.into());
        self
    }

    /// Sets `error-app-tag`.
    #[must_use]
    pub fn with_app_tag(mut self, app_tag: impl Into<String>) -> Self {
        self.error_app_tag = Some(app_tag.into());
        self
    }

    /// Sets `error-info` (raw XML, written as is).
    #[must_use]
    pub fn with_info(mut self, info_xml: impl Into<String>) -> Self {
        self.error_info = Some(info_xml.into());
        self
    }

    /// Whether this is a warning (does not fail the call).
    pub fn is_warning(&self) -> bool {
        self.error_severity == Severity::Warning
    }

    /// Appends the `<rpc-error>` element.
    pub(crate) fn write_xml(&self, out: &mut String) {
        out.push_str("<rpc-error>");
        write_text_element(out, "error-type", &self.error_type);
        write_text_element(out, "error-tag", &self.error_tag);
        write_text_element(out, "error-severity", self.error_severity.as_str());
        if let Some(app_tag) = &self.error_app_tag {
            write_text_element(out, "error-app-tag", app_tag);
        }
        if let Some(path) = &self.error_path {
            write_text_element(out, "error-path", path);
        }
        if let Some(message) = &self.error_message {
            write_text_element(out, "error-message", message);
        }
        if let Some(info) = &self.error_info {
            out.push_str("<error-info>");
            out.push_str(info);
            out.push_str("</error-info>");
        }
        out.push_str("</rpc-error>");
    }

    /// Parses the children of an `<rpc-error>` whose start tag was just read.
    fn parse(reader: &mut XmlReader<'_>) -> Result<Self, MessageError> {
        let mut error = Self::default();
        loop {
            match reader.next()? {
                Event::Start(e) => {
                    let name = local_name(&e);
                    if name == "error-info" {
                        let (start, end) = reader.skip_to_end(&e)?;
                        error.error_info = Some(reader.slice(start, end)?.trim().to_owned());
                        continue;
                    }
                    let field = match name {
                        "error-type" => Field::Type,
                        "error-tag" => Field::Tag,
                        "error-severity" => Field::Severity,
                        "error-app-tag" => Field::AppTag,
                        "error-path" => Field::Path,
                        "error-message" => Field::Message,
                        _ => {
                            reader.skip_to_end(&e)?;
                            continue;
                        }
                    };
                    let text = reader.text_to_end()?.trim().to_owned();
                    error.set(field, text);
                }
                Event::Empty(e) if local_name(&e) == "error-info" => {
                    error.error_info = Some(String::new());
                }
                Event::End(_) => return Ok(error),
                Event::Eof => return Err(reader.eof()),
                _ => {}
            }
        }
    }

    fn set(&mut self, field: Field, text: String) {
        match field {
            Field::Type => self.error_type = text,
            Field::Tag => self.error_tag = text,
            Field::Severity => self.error_severity = Severity::parse(&text),
            Field::AppTag => self.error_app_tag = Some(text),
            Field::Path => self.error_path = Some(text),
            Field::Message => self.error_message = Some(text),
        }
    }
}

enum Field {
    Type,
    Tag,
    Severity,
    AppTag,
    Path,
    Message,
}

impl fmt::Display for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}/{}",
            self.error_severity, self.error_type, self.error_tag
        )?;
        if let Some(message) = &self.error_message {
            write!(f, ": {message}")?;
        }
        if let Some(path) = &self.error_path {
            write!(f, " (at {path})")?;
        }
        Ok(())
    }
}

impl std::error::Error for RpcError {}

/// A parsed `<rpc-reply>`.
///
/// The payload is the exact text between `<rpc-reply …>` and `</rpc-reply>`, byte for byte:
/// vendor plugins parse it, so nothing is normalised. It includes any `<rpc-error>` and `<ok/>`
/// elements, which are also decoded into [`rpc_errors`](Self::rpc_errors) and
/// [`is_ok`](Self::is_ok).
#[derive(Clone, PartialEq, Eq)]
pub struct RpcReply {
    xml: String,
    payload: Range<usize>,
    attributes: Vec<(String, String)>,
    ok: bool,
    rpc_errors: Vec<RpcError>,
}

impl fmt::Debug for RpcReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RpcReply")
            .field("message_id", &self.message_id())
            .field("payload_len", &self.payload.len())
            .field("ok", &self.ok)
            .field("rpc_errors", &self.rpc_errors)
            .finish()
    }
}

impl RpcReply {
    /// Parses an `<rpc-reply>` message. Takes the message by value so that the payload can be
    /// borrowed from it without a copy.
    pub fn parse(xml: String) -> Result<Self, MessageError> {
        let mut reader = XmlReader::new(&xml);
        let (root, empty) = reader.root("rpc-reply")?;
        let attributes = xml::attributes(&root)?;
        let mut ok = false;
        let mut rpc_errors = Vec::new();
        let payload = if empty {
            let at = reader.position();
            at..at
        } else {
            let start = reader.position();
            loop {
                let before = reader.position();
                match reader.next()? {
                    Event::Start(e) if local_name(&e) == "rpc-error" => {
                        rpc_errors.push(RpcError::parse(&mut reader)?);
                    }
                    Event::Start(e) => {
                        ok |= local_name(&e) == "ok";
                        reader.skip_to_end(&e)?;
                    }
                    Event::Empty(e) => ok |= local_name(&e) == "ok",
                    Event::End(_) => break start..before,
                    Event::Eof => return Err(reader.eof()),
                    _ => {}
                }
            }
        };
        reader.end_of_document()?;
        drop(reader);
        Ok(Self {
            xml,
            payload,
            attributes,
            ok,
            rpc_errors,
        })
    }

    /// The `message-id` attribute, if present.
    pub fn message_id(&self) -> Option<&str> {
        xml::attribute(&self.attributes, "message-id")
    }

    /// All attributes of `<rpc-reply>` as (qualified name, value), namespace declarations
    /// included (e.g. `xmlns:junos`).
    pub fn attributes(&self) -> &[(String, String)] {
        &self.attributes
    }

    /// The inner XML of `<rpc-reply>`, byte for byte.
    pub fn payload(&self) -> &str {
        self.xml.get(self.payload.clone()).unwrap_or_default()
    }

    /// The payload, owned.
    pub fn into_payload(mut self) -> String {
        self.xml.truncate(self.payload.end);
        self.xml.drain(..self.payload.start);
        self.xml
    }

    /// The whole reply document.
    pub fn as_xml(&self) -> &str {
        &self.xml
    }

    /// Whether the reply holds `<ok/>`.
    pub fn is_ok(&self) -> bool {
        self.ok
    }

    /// Every `<rpc-error>` directly under `<rpc-reply>`, warnings included, in document order.
    pub fn rpc_errors(&self) -> &[RpcError] {
        &self.rpc_errors
    }

    /// The `<rpc-error>`s of severity `warning`.
    pub fn warnings(&self) -> impl Iterator<Item = &RpcError> {
        self.rpc_errors.iter().filter(|e| e.is_warning())
    }

    /// The `<rpc-error>`s of severity `error`.
    pub fn errors(&self) -> impl Iterator<Item = &RpcError> {
        self.rpc_errors.iter().filter(|e| !e.is_warning())
    }

    /// Whether any `<rpc-error>` has severity `error`.
    pub fn has_errors(&self) -> bool {
        self.errors().next().is_some()
    }
}

/// An `<rpc-reply>` that does not answer the pending request or reports failure.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ReplyError {
    /// The reply is not a well-formed `<rpc-reply>`.
    #[error(transparent)]
    Message(#[from] MessageError),
    /// A reply arrived while no request was pending.
    #[error("received an rpc-reply (message-id {message_id:?}) but no request is pending")]
    Unsolicited {
        /// The reply's message-id.
        message_id: Option<String>,
    },
    /// The reply's message-id is not that of the oldest pending request. The request stays
    /// pending; the session is out of step and should be closed.
    #[error("rpc-reply has message-id {found:?} but the pending request is {expected}")]
    MessageIdMismatch {
        /// The id of the oldest pending request.
        expected: u64,
        /// The id in the reply.
        found: String,
    },
    /// The reply carries at least one `<rpc-error>` of severity `error`. The whole reply (with
    /// any partial data, e.g. from the routing engine that did answer) is kept.
    #[error("{}", describe_failure(.0))]
    Rpc(Box<RpcReply>),
}

impl ReplyError {
    /// The `<rpc-error>`s of severity `error`, when the device reported failure.
    pub fn rpc_errors(&self) -> Vec<&RpcError> {
        match self {
            Self::Rpc(reply) => reply.errors().collect(),
            _ => Vec::new(),
        }
    }
}

fn describe_failure(reply: &RpcReply) -> String {
    let mut errors = reply.errors();
    let mut text = match errors.next() {
        Some(first) => format!("device returned rpc-error: {first}"),
        None => String::from("device returned rpc-error"),
    };
    let more = errors.count();
    if more > 0 {
        text.push_str(&format!(" (and {more} more)"));
    }
    text
}

/// An `<rpc>` ready to send, with the message-id the reply must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    message_id: u64,
    xml: String,
}

impl Request {
    /// The message-id.
    pub fn message_id(&self) -> u64 {
        self.message_id
    }

    /// The `<rpc>` document (without framing).
    pub fn xml(&self) -> &str {
        &self.xml
    }

    /// The `<rpc>` document, owned.
    pub fn into_xml(self) -> String {
        self.xml
    }
}

/// Builds `<rpc message-id="…" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">operation</rpc>`.
/// `operation` is inserted as is and must be well-formed XML.
pub fn build_rpc(message_id: &str, operation: &str) -> String {
    let mut out = String::with_capacity(operation.len() + 96);
    out.push_str("<rpc");
    xml::write_attribute(&mut out, "message-id", message_id);
    xml::write_attribute(&mut out, "xmlns", NETCONF_NS);
    out.push('>');
    out.push_str(operation);
    out.push_str("</rpc>");
    out
}

/// The client half of a NETCONF session, without I/O: our hello, the negotiated framing,
/// message-id allocation and matching of replies to requests.
///
/// Replies must come in request order (RFC 6241 §4.1: the server answers `<rpc>`s in the order
/// it received them), so several requests may be pending.
#[derive(Debug, Clone)]
pub struct ClientSession {
    hello: Hello,
    peer: Option<Hello>,
    framing: Framing,
    next_id: u64,
    pending: VecDeque<u64>,
}

impl Default for ClientSession {
    fn default() -> Self {
        Self::new()
    }
}

impl ClientSession {
    /// A session that offers [`Hello::client`] (base 1.0 and 1.1).
    pub fn new() -> Self {
        Self::with_hello(Hello::client())
    }

    /// A session that offers `hello`.
    pub fn with_hello(hello: Hello) -> Self {
        Self {
            hello,
            peer: None,
            framing: Framing::EndOfMessage,
            next_id: 1,
            pending: VecDeque::new(),
        }
    }

    /// Our hello.
    pub fn hello(&self) -> &Hello {
        &self.hello
    }

    /// Our hello as XML, to send (end-of-message framed) when the session opens.
    pub fn hello_xml(&self) -> String {
        self.hello.to_xml()
    }

    /// Takes the server's hello: checks it has a session id, negotiates and returns the
    /// framing for everything after the hellos. Switch the decoder and encoder to it.
    pub fn receive_hello(&mut self, xml: &str) -> Result<Framing, MessageError> {
        let peer = Hello::parse(xml)?;
        if peer.session_id().is_none() {
            return Err(MessageError::MissingSessionId);
        }
        let framing = negotiate(&self.hello, &peer)?;
        self.framing = framing;
        self.peer = Some(peer);
        Ok(framing)
    }

    /// The server's hello, once received.
    pub fn peer_hello(&self) -> Option<&Hello> {
        self.peer.as_ref()
    }

    /// The session id the server assigned.
    pub fn session_id(&self) -> Option<u32> {
        self.peer.as_ref().and_then(Hello::session_id)
    }

    /// The negotiated framing ([`Framing::EndOfMessage`] before the hello exchange).
    pub fn framing(&self) -> Framing {
        self.framing
    }

    /// Wraps `operation` (e.g. `<get-lldp-neighbors-information/>`) in an `<rpc>` with the
    /// next message-id and records it as pending.
    pub fn rpc(&mut self, operation: &str) -> Request {
        let message_id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        self.pending.push_back(message_id);
        Request {
            message_id,
            xml: build_rpc(&message_id.to_string(), operation),
        }
    }

    /// A `<close-session/>` request.
    pub fn close_session(&mut self) -> Request {
        self.rpc("<close-session/>")
    }

    /// Message-ids of the requests still waiting for a reply, oldest first.
    pub fn pending(&self) -> impl Iterator<Item = u64> + '_ {
        self.pending.iter().copied()
    }

    /// Takes an `<rpc-reply>` message and matches it to the oldest pending request.
    ///
    /// * A reply with another message-id is [`ReplyError::MessageIdMismatch`].
    /// * A reply without a message-id is taken as the answer to the oldest request: servers
    ///   answer in order, and some omit the id when they reject a request.
    /// * `<rpc-error>`s of severity `warning` do not fail the call; they are returned with the
    ///   payload ([`RpcReply::warnings`]). Any of severity `error` makes it
    ///   [`ReplyError::Rpc`].
    pub fn receive_reply(&mut self, xml: String) -> Result<RpcReply, ReplyError> {
        let reply = RpcReply::parse(xml)?;
        let Some(&expected) = self.pending.front() else {
            return Err(ReplyError::Unsolicited {
                message_id: reply.message_id().map(str::to_owned),
            });
        };
        if let Some(found) = reply.message_id()
            && found != expected.to_string()
        {
            return Err(ReplyError::MessageIdMismatch {
                expected,
                found: found.to_owned(),
            });
        }
        self.pending.pop_front();
        if reply.has_errors() {
            return Err(ReplyError::Rpc(Box::new(reply)));
        }
        Ok(reply)
    }
}

#[cfg(test)]
mod tests;
