//! Sans-IO NETCONF for nbfacts: framing (RFC 6242) and the messages a collector needs
//! (RFC 6241 `<hello>`, `<rpc>`, `<rpc-reply>`, `<rpc-error>`, `<close-session>`).
//!
//! This crate never touches a socket. It takes the bytes a transport (the russh NETCONF
//! subsystem in `nbfacts-host`, the device simulator in the tests) read, and returns messages;
//! it builds messages and returns the bytes to write. The async glue stays thin and this part
//! is tested byte by byte.
//!
//! # Main types
//!
//! * [`Decoder`]: push bytes with [`Decoder::feed`], pull [`Message`]s with
//!   [`Decoder::next_message`], call [`Decoder::finish`] at end of stream.
//! * [`Encoder`]: frames outgoing messages.
//! * [`Framing`]: [`Framing::EndOfMessage`] (NETCONF 1.0, `]]>]]>`) or [`Framing::Chunked`]
//!   (NETCONF 1.1); [`negotiate`] picks one from two [`Hello`]s.
//! * [`ClientSession`]: our hello, the negotiated framing, message-id allocation, building
//!   `<rpc>`s ([`Request`]) and matching [`RpcReply`]s to them.
//! * [`RpcReply`]: the payload (inner XML, byte for byte), `<ok/>`, and decoded
//!   [`RpcError`]s; warnings ride along with the payload, errors become [`ReplyError::Rpc`].
//! * Server side, for simulators: [`ServerSession`], [`IncomingRpc`], [`build_rpc_reply`],
//!   [`build_error_reply`].
//! * Errors, layered: [`FramingError`] (byte stream), [`MessageError`] (XML content),
//!   [`ReplyError`] (matching and device-reported failure); [`Error`] wraps all three.
//!
//! # Example: the client side of a session
//!
//! ```
//! use nbfacts_netconf::{ClientSession, Decoder, Encoder, Framing};
//!
//! # fn main() -> Result<(), nbfacts_netconf::Error> {
//! let mut client = ClientSession::new();
//! let mut decoder = Decoder::new(Framing::EndOfMessage);
//! let mut encoder = Encoder::new(Framing::EndOfMessage);
//!
//! // Send our hello (always end-of-message framed).
//! let _to_server: Vec<u8> = encoder.encode_to_vec(client.hello_xml().as_bytes())?;
//!
//! // The server's hello arrives, possibly in several reads.
//! let server_hello = b"<hello xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><capabilities>\
//!     <capability>urn:ietf:params:netconf:base:1.0</capability>\
//!     <capability>urn:ietf:params:netconf:base:1.1</capability>\
//!     </capabilities><session-id>4711</session-id></hello>]]>]]>";
//! decoder.feed(&server_hello[..40]);
//! assert!(decoder.next_message()?.is_none());
//! decoder.feed(&server_hello[40..]);
//! let hello = decoder.next_message()?.expect("a complete hello");
//! let framing = client.receive_hello(hello.as_str()?)?;
//! assert_eq!(framing, Framing::Chunked);
//! // Switch both directions right after the hello, before reading on.
//! decoder.set_framing(framing)?;
//! encoder.set_framing(framing);
//!
//! // Ask for LLDP neighbours.
//! let request = client.rpc("<get-lldp-neighbors-information/>");
//! assert_eq!(
//!     request.xml(),
//!     r#"<rpc message-id="1" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><get-lldp-neighbors-information/></rpc>"#
//! );
//! let _to_server = encoder.encode_to_vec(request.xml().as_bytes())?;
//!
//! // The reply arrives chunked.
//! let reply = br#"<rpc-reply xmlns:junos="http://xml.juniper.net/junos/21.4R0/junos" message-id="1"><lldp-neighbors-information/></rpc-reply>"#;
//! let mut wire = format!("\n#{}\n", reply.len()).into_bytes();
//! wire.extend_from_slice(reply);
//! wire.extend_from_slice(b"\n##\n");
//! decoder.feed(&wire);
//! let message = decoder.next_message()?.expect("a complete reply");
//! let reply = client.receive_reply(message.into_string()?)?;
//! assert_eq!(reply.payload(), "<lldp-neighbors-information/>");
//! assert_eq!(reply.warnings().count(), 0);
//! # Ok(())
//! # }
//! ```
//!
//! # Design decisions
//!
//! * **Sans-IO.** No tokio, no sockets, no clocks: the same code serves the russh client, the
//!   simulator and unit tests that split input at every byte boundary. Timeouts belong to the
//!   caller.
//! * **Lazy decoding in [`Decoder::next_message`].** [`Decoder::feed`] only buffers, so bytes
//!   after the hello are decoded with whatever framing the caller switches to, and a
//!   framing switch never re-interprets bytes already turned into a message.
//! * **Remembered search position, one copy.** The `]]>]]>` search (memchr's SIMD `memmem`)
//!   resumes where the last one stopped, so a reply delivered in 16 KiB reads is scanned
//!   once; a large end-of-message reply is handed out as the buffer itself, and chunk data
//!   is copied once into the message. The benchmark `benches/framing.rs` compares both
//!   framings with a plain copy of the same bytes.
//! * **Bounded memory.** A message larger than [`Decoder::with_max_message_size`] (default
//!   [`DEFAULT_MAX_MESSAGE_SIZE`], 256 MiB) is an error as soon as its size is known (for
//!   chunked framing: from the chunk header, before the data arrives).
//! * **Defined garbage handling.** Whitespace between messages is skipped; anything else where
//!   a message should start is [`FramingError::Garbage`] (1.0) or
//!   [`FramingError::BadChunkHeader`] (1.1). Framing errors are final, because the next
//!   message boundary is unknown after one.
//! * **Payload byte for byte.** [`RpcReply::payload`] is a slice of the received message, not
//!   a re-serialisation: vendor plugins parse it and must see what the device sent
//!   (namespaces, `junos:` attributes, whitespace).
//! * **Warnings are not failures.** Junos sends `<rpc-error>` with severity `warning` next to
//!   data; only severity `error` (or an unknown severity) fails a call. A failing reply keeps
//!   its payload in [`ReplyError::Rpc`], because multi-RE devices return the data of the
//!   routing engines that did answer.
//! * **Local names only.** Elements and attributes match by local name; prefixes
//!   (`nc:rpc-reply`) and namespaces are ignored, as real servers differ.
//! * **quick-xml** for the XML pieces: it is fast, allocation-light and reports byte
//!   positions, which makes the byte-for-byte payload slice possible.

#![forbid(unsafe_code)]

mod error;
mod framing;
mod hello;
mod rpc;
mod server;
mod xml;

pub use error::{Error, MessageError};
pub use framing::{
    DEFAULT_ENCODE_CHUNK_SIZE, DEFAULT_MAX_MESSAGE_SIZE, Decoder, EOM_DELIMITER, Encoder, Framing,
    FramingError, MAX_CHUNK_SIZE, Message,
};
pub use hello::{BASE_1_0, BASE_1_1, Hello, NETCONF_NS, negotiate};
pub use rpc::{ClientSession, ReplyError, Request, RpcError, RpcReply, Severity, build_rpc};
pub use server::{IncomingRpc, ServerSession, build_error_reply, build_rpc_reply};
