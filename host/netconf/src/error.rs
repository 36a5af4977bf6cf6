//! Error types, layered like the protocol: framing → message → reply.

use crate::framing::FramingError;
use crate::rpc::ReplyError;

/// A message was framed correctly but its content is not the NETCONF message we expected.
///
/// Raised when parsing a `<hello>`, an `<rpc>` or an `<rpc-reply>`, and when negotiating the
/// hello exchange.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MessageError {
    /// The message bytes are not UTF-8 (NETCONF messages are UTF-8 XML).
    #[error("message is not valid UTF-8 (invalid byte at offset {valid_up_to})")]
    NotUtf8 {
        /// Length of the valid UTF-8 prefix.
        valid_up_to: usize,
    },
    /// The XML is not well-formed.
    #[error("malformed XML at offset {offset}: {reason}")]
    Xml {
        /// Byte offset in the message where the parser gave up.
        offset: u64,
        /// What the XML parser reported.
        reason: String,
    },
    /// An entity reference other than the five predefined ones or a character reference.
    #[error("unknown XML entity reference &{0};")]
    UnknownEntity(String),
    /// The message holds no element at all.
    #[error("message has no root element")]
    NoRootElement,
    /// The root element is not the one this parser handles.
    #[error("expected a <{expected}> message, found <{found}>")]
    UnexpectedRoot {
        /// Local name of the element we wanted.
        expected: &'static str,
        /// Local name of the element we got.
        found: String,
    },
    /// Something other than whitespace, comments or processing instructions follows the
    /// root element.
    #[error("unexpected content after the root element")]
    TrailingContent,
    /// The `<session-id>` of a hello is not an unsigned 32-bit number.
    #[error("session-id {0:?} is not a number in 0..=4294967295")]
    BadSessionId(String),
    /// A server hello without `<session-id>` (RFC 6241 §8.1 requires one).
    #[error("the server hello has no session-id")]
    MissingSessionId,
    /// A client hello with a `<session-id>` (RFC 6241 §8.1 forbids it).
    #[error("the client hello carries a session-id, which a client must not send")]
    UnexpectedSessionId,
    /// The two hellos share no NETCONF base version.
    #[error("no common NETCONF base version; the peer offers: {peer}")]
    NoCommonBase {
        /// The base capabilities the peer offered (comma separated; may be empty).
        peer: String,
    },
    /// An `<rpc>` without an operation element.
    #[error("<rpc> holds no operation element")]
    MissingOperation,
    /// An `<rpc>` with more than one operation element.
    #[error("<rpc> holds more than one operation (<{0}> follows the first)")]
    ExtraOperation(String),
}

impl MessageError {
    pub(crate) fn xml(offset: u64, reason: impl std::fmt::Display) -> Self {
        Self::Xml {
            offset,
            reason: reason.to_string(),
        }
    }
}

/// Any error of this crate, for callers that handle all layers in one place.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The byte stream does not follow the negotiated framing.
    #[error(transparent)]
    Framing(#[from] FramingError),
    /// A message is not the NETCONF message expected.
    #[error(transparent)]
    Message(#[from] MessageError),
    /// An `<rpc-reply>` does not answer the request, or reports an error.
    #[error(transparent)]
    Reply(#[from] ReplyError),
}
