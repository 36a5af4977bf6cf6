//! NETCONF message framing over a byte stream (RFC 6242 §4).
//!
//! Two framings exist:
//!
//! * NETCONF 1.0 **end-of-message**: each message is followed by `]]>]]>`.
//! * NETCONF 1.1 **chunked**: a message is one or more chunks `\n#<size>\n<data>` followed by
//!   `\n##\n`; `size` is 1..=4294967295 written in decimal without leading zeros.
//!
//! [`Decoder`] turns bytes into [`Message`]s, [`Encoder`] does the reverse.

use std::fmt;
use std::num::NonZeroU32;

use memchr::memmem;

use crate::error::MessageError;

/// The NETCONF 1.0 end-of-message delimiter.
pub const EOM_DELIMITER: &[u8] = b"]]>]]>";

/// Default cap on the size of one decoded message: 256 MiB.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 256 * 1024 * 1024;

/// The largest chunk size RFC 6242 allows.
pub const MAX_CHUNK_SIZE: u32 = u32::MAX;

/// Chunk size the [`Encoder`] uses unless told otherwise: 64 KiB.
pub const DEFAULT_ENCODE_CHUNK_SIZE: NonZeroU32 = match NonZeroU32::new(64 * 1024) {
    Some(size) => size,
    None => NonZeroU32::MIN,
};

/// Which framing a byte stream uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Framing {
    /// NETCONF 1.0: messages end with `]]>]]>`. Every session starts in this framing.
    EndOfMessage,
    /// NETCONF 1.1 chunked framing (RFC 6242 §4.2), used after both hellos advertise
    /// `urn:ietf:params:netconf:base:1.1`.
    Chunked,
}

impl fmt::Display for Framing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::EndOfMessage => "end-of-message (NETCONF 1.0)",
            Self::Chunked => "chunked (NETCONF 1.1)",
        })
    }
}

/// The byte stream (or a message to send) does not follow the framing rules.
///
/// Decoding errors are final: once [`Decoder::next_message`] has returned one, it returns the
/// same error on every later call, because the position of the next message boundary is lost.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FramingError {
    /// NETCONF 1.0: something other than whitespace or `<` where a message should start.
    #[error(
        "unexpected byte {} at stream offset {offset} where a NETCONF 1.0 message should start \
         (only whitespace may separate messages, and a message starts with '<')",
        ShowByte(*byte)
    )]
    Garbage {
        /// Offset of the byte in the whole stream.
        offset: u64,
        /// The byte.
        byte: u8,
    },
    /// NETCONF 1.1: a chunk header or end-of-chunks marker is malformed.
    #[error(
        "bad chunk header at stream offset {offset}: expected {expected}, found {}",
        ShowByte(*found)
    )]
    BadChunkHeader {
        /// Offset of the offending byte in the whole stream.
        offset: u64,
        /// What the grammar allows at that point.
        expected: &'static str,
        /// The byte found instead.
        found: u8,
    },
    /// NETCONF 1.1: a chunk size above 4294967295.
    #[error("chunk size at stream offset {offset} exceeds the RFC 6242 maximum of 4294967295")]
    ChunkSizeTooLarge {
        /// Offset of the digit that made the size too large.
        offset: u64,
    },
    /// NETCONF 1.1: end-of-chunks (`\n##\n`) before any chunk.
    #[error("chunked message at stream offset {offset} ends before its first chunk")]
    EmptyChunkedMessage {
        /// Offset of the second `#` of the end-of-chunks marker.
        offset: u64,
    },
    /// A message is larger than the decoder's limit.
    #[error("message of at least {size} bytes exceeds the limit of {limit} bytes")]
    MessageTooLarge {
        /// The configured limit ([`Decoder::with_max_message_size`]).
        limit: usize,
        /// The size known so far (the message is at least this large).
        size: u64,
    },
    /// The stream ended inside a message ([`Decoder::finish`]).
    #[error("stream ended inside a {framing} message ({buffered} bytes of it received)")]
    Truncated {
        /// The framing in use.
        framing: Framing,
        /// How many bytes of the incomplete message (including framing) were received.
        buffered: u64,
    },
    /// [`Decoder::set_framing`] was called while a chunked message was half decoded.
    #[error("cannot switch framing while a chunked message is partially decoded")]
    SwitchInsideMessage,
    /// [`Encoder`]: the message contains `]]>]]>` and cannot be sent with NETCONF 1.0 framing.
    #[error(
        "message contains the end-of-message delimiter ]]>]]> and cannot be framed for NETCONF 1.0"
    )]
    DelimiterInMessage,
    /// [`Encoder`]: neither framing can carry an empty message.
    #[error("an empty message cannot be framed")]
    EmptyMessage,
}

/// Formats a byte for error messages: printable ASCII quoted, anything else in hex.
struct ShowByte(u8);

impl fmt::Display for ShowByte {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_ascii_graphic() || self.0 == b' ' {
            write!(f, "'{}'", char::from(self.0))
        } else {
            write!(f, "0x{:02x}", self.0)
        }
    }
}

/// One complete NETCONF message, without framing.
///
/// The bytes are exactly what the peer sent between the delimiters (NETCONF 1.0) or the
/// concatenated chunk data (NETCONF 1.1).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Message {
    bytes: Vec<u8>,
}

impl Message {
    /// Wraps bytes as a message.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self {
            bytes: bytes.into(),
        }
    }

    /// The message bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The message bytes, owned.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the message is empty (the decoder never returns an empty message).
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The message as text; NETCONF messages are UTF-8 XML.
    pub fn as_str(&self) -> Result<&str, MessageError> {
        std::str::from_utf8(&self.bytes).map_err(|e| MessageError::NotUtf8 {
            valid_up_to: e.valid_up_to(),
        })
    }

    /// The message as an owned string, without copying.
    pub fn into_string(self) -> Result<String, MessageError> {
        String::from_utf8(self.bytes).map_err(|e| MessageError::NotUtf8 {
            valid_up_to: e.utf8_error().valid_up_to(),
        })
    }
}

impl fmt::Debug for Message {
    /// Shows the length and the first 80 bytes, so that logging a 10 MB reply stays readable.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let head = self.bytes.get(..80).unwrap_or(&self.bytes);
        f.debug_struct("Message")
            .field("len", &self.bytes.len())
            .field("head", &String::from_utf8_lossy(head))
            .finish()
    }
}

/// Whitespace as XML defines it; the only bytes allowed between messages.
fn is_xml_whitespace(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\r' | b'\n')
}

/// Decoder state for end-of-message framing. Indices are into `Decoder::buf`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EomState {
    /// Between messages, whitespace consumed; `after_lf` if the last byte consumed was a LF,
    /// which a switch to chunked framing hands on (a chunk header starts with a LF).
    Boundary { after_lf: bool },
    /// Inside a message that starts at `pos`; `pos..searched` holds no delimiter start.
    Message { searched: usize },
}

/// Decoder state for chunked framing (RFC 6242 §4.2 grammar, one state per position).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    /// Between messages, skipping whitespace; `after_lf` if the last byte was a LF.
    Boundary { after_lf: bool },
    /// After a LF inside a message: expect `#`.
    Hash,
    /// After `#`: expect the first size digit (1-9) or the second `#` of end-of-chunks.
    SizeStart,
    /// Reading size digits; expect a digit or LF.
    Size { value: u64 },
    /// Copying chunk data.
    Data { remaining: u64 },
    /// After chunk data: expect LF.
    AfterData,
    /// After `##`: expect LF.
    EndLf,
}

/// What one header byte did in chunked framing.
enum Step {
    Continue(ChunkState),
    Complete,
}

/// Push bytes in, pull complete messages out.
///
/// * [`feed`](Self::feed) buffers bytes as they arrive, in pieces of any size;
/// * [`next_message`](Self::next_message) returns the next complete message, or `None` when
///   more bytes are needed; call it until it returns `None` after each `feed`;
/// * [`finish`](Self::finish) at end of stream reports a message cut short;
/// * [`set_framing`](Self::set_framing) switches to chunked framing after the hello exchange.
///
/// Cost: each byte is copied once into the buffer and searched once; an end-of-message reply
/// that starts at the beginning of the buffer is handed out without a second copy, a chunked
/// reply is assembled with one copy of its data. The search resumes where the previous one
/// stopped, so many small reads cost no more than one large one.
///
/// End-of-message framing: whitespace between messages is skipped; any other byte where a
/// message should start is [`FramingError::Garbage`] (a message must start with `<`). Chunked
/// framing: whitespace before a message is skipped too, as long as the header's LF comes last
/// right before `#` (some servers send a newline after the `]]>]]>` of their hello); inside a
/// message the grammar is enforced byte for byte.
pub struct Decoder {
    framing: Framing,
    limit: usize,
    /// Received bytes not yet consumed start at `pos`.
    buf: Vec<u8>,
    pos: usize,
    /// Stream offset of `buf[0]`, for error messages.
    base: u64,
    eom: EomState,
    chunk: ChunkState,
    /// Chunked framing: the data of the message being assembled.
    assembled: Vec<u8>,
    finder: memmem::Finder<'static>,
    failed: Option<FramingError>,
}

impl fmt::Debug for Decoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decoder")
            .field("framing", &self.framing)
            .field("limit", &self.limit)
            .field("buffered", &self.buffered())
            .field("stream_offset", &self.stream_offset())
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

impl Decoder {
    /// A decoder for `framing` with the default size limit ([`DEFAULT_MAX_MESSAGE_SIZE`]).
    /// Sessions start with [`Framing::EndOfMessage`].
    pub fn new(framing: Framing) -> Self {
        Self {
            framing,
            limit: DEFAULT_MAX_MESSAGE_SIZE,
            buf: Vec::new(),
            pos: 0,
            base: 0,
            eom: EomState::Boundary { after_lf: false },
            chunk: ChunkState::Boundary { after_lf: false },
            assembled: Vec::new(),
            finder: memmem::Finder::new(EOM_DELIMITER),
            failed: None,
        }
    }

    /// Sets the largest message (without framing) the decoder accepts; a larger one is
    /// [`FramingError::MessageTooLarge`], reported as soon as the size is known to exceed it.
    #[must_use]
    pub fn with_max_message_size(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }

    /// The largest accepted message size.
    pub fn max_message_size(&self) -> usize {
        self.limit
    }

    /// The framing in use.
    pub fn framing(&self) -> Framing {
        self.framing
    }

    /// Switches framing for the bytes that follow the last returned message.
    ///
    /// Call it right after [`next_message`](Self::next_message) returned the peer's hello and
    /// before asking for the next message: bytes already fed but not yet decoded are then
    /// decoded with the new framing. Fails only when leaving chunked framing in the middle of
    /// a chunked message.
    pub fn set_framing(&mut self, framing: Framing) -> Result<(), FramingError> {
        if framing == self.framing {
            return Ok(());
        }
        if self.framing == Framing::Chunked && !matches!(self.chunk, ChunkState::Boundary { .. }) {
            return Err(FramingError::SwitchInsideMessage);
        }
        // End-of-message framing never consumes bytes of an unfinished message, so nothing is
        // lost by restarting at `pos`; only whether the last consumed whitespace was a LF.
        let after_lf = matches!(self.eom, EomState::Boundary { after_lf: true });
        self.framing = framing;
        self.eom = EomState::Boundary { after_lf: false };
        self.chunk = ChunkState::Boundary { after_lf };
        Ok(())
    }

    /// Bytes received but not yet returned as part of a message (including framing bytes and
    /// the data of a partially assembled chunked message).
    pub fn buffered(&self) -> usize {
        self.buf
            .len()
            .saturating_sub(self.pos)
            .saturating_add(self.assembled.len())
    }

    /// Offset in the stream of the next byte to decode.
    pub fn stream_offset(&self) -> u64 {
        self.base.saturating_add(self.pos as u64)
    }

    /// Buffers `bytes`. Decoding happens in [`next_message`](Self::next_message).
    pub fn feed(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.compact();
        self.buf.extend_from_slice(bytes);
    }

    /// Drops consumed bytes from the buffer when that is cheap (amortised O(1) per byte).
    fn compact(&mut self) {
        let pos = self.pos;
        if pos == 0 || pos < self.buf.len().saturating_sub(pos) {
            return;
        }
        self.buf.drain(..pos);
        self.base = self.base.saturating_add(pos as u64);
        self.pos = 0;
        if let EomState::Message { searched } = self.eom {
            self.eom = EomState::Message {
                searched: searched.saturating_sub(pos),
            };
        }
    }

    /// Returns the next complete message, `Ok(None)` if more bytes are needed.
    pub fn next_message(&mut self) -> Result<Option<Message>, FramingError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        let result = match self.framing {
            Framing::EndOfMessage => self.next_eom(),
            Framing::Chunked => self.next_chunked(),
        };
        if let Err(error) = &result {
            self.failed = Some(error.clone());
        }
        result.map(|bytes| bytes.map(|bytes| Message { bytes }))
    }

    /// Call at end of stream, after [`next_message`](Self::next_message) returned `None`:
    /// reports [`FramingError::Truncated`] if a message was cut short. Trailing whitespace is
    /// fine.
    pub fn finish(&mut self) -> Result<(), FramingError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        let rest = self.buf.get(self.pos..).unwrap_or_default();
        let at_boundary = match self.framing {
            Framing::EndOfMessage => matches!(self.eom, EomState::Boundary { .. }),
            Framing::Chunked => matches!(self.chunk, ChunkState::Boundary { .. }),
        };
        if at_boundary && rest.iter().all(|b| is_xml_whitespace(*b)) {
            return Ok(());
        }
        let error = FramingError::Truncated {
            framing: self.framing,
            buffered: self.buffered() as u64,
        };
        self.failed = Some(error.clone());
        Err(error)
    }

    fn too_large(&self, size: u64) -> FramingError {
        FramingError::MessageTooLarge {
            limit: self.limit,
            size,
        }
    }

    fn next_eom(&mut self) -> Result<Option<Vec<u8>>, FramingError> {
        const TAIL: usize = EOM_DELIMITER.len() - 1;
        let searched = match self.eom {
            EomState::Message { searched } => searched,
            EomState::Boundary { after_lf } => {
                let rest = self.buf.get(self.pos..).unwrap_or_default();
                let Some(offset) = rest.iter().position(|b| !is_xml_whitespace(*b)) else {
                    // Consume the whitespace so that a stream of it cannot fill memory.
                    self.eom = EomState::Boundary {
                        after_lf: rest.last().map_or(after_lf, |b| *b == b'\n'),
                    };
                    self.pos = self.buf.len();
                    return Ok(None);
                };
                let start = self.pos.saturating_add(offset);
                match rest.get(offset) {
                    Some(b'<') => {}
                    Some(&byte) => {
                        return Err(FramingError::Garbage {
                            offset: self.base.saturating_add(start as u64),
                            byte,
                        });
                    }
                    None => return Ok(None),
                }
                self.pos = start;
                start
            }
        };
        let haystack = self.buf.get(searched..).unwrap_or_default();
        match self.finder.find(haystack) {
            Some(found) => {
                let end = searched.saturating_add(found);
                let size = end.saturating_sub(self.pos);
                if size > self.limit {
                    return Err(self.too_large(size as u64));
                }
                let message = self.take(end, end.saturating_add(EOM_DELIMITER.len()));
                self.eom = EomState::Boundary { after_lf: false };
                Ok(Some(message))
            }
            None => {
                // The last TAIL bytes may hold the start of a delimiter; search them again.
                let resume = self.buf.len().saturating_sub(TAIL).max(self.pos);
                let size = resume.saturating_sub(self.pos);
                if size > self.limit {
                    return Err(self.too_large(size as u64));
                }
                self.eom = EomState::Message { searched: resume };
                Ok(None)
            }
        }
    }

    /// Takes the message `pos..end` out of the buffer; the next message starts at `next`.
    fn take(&mut self, end: usize, next: usize) -> Vec<u8> {
        let remainder = self.buf.len().saturating_sub(next);
        if self.pos == 0 && remainder <= end {
            // The common case for large replies: hand the buffer itself out as the message
            // and keep only the (smaller) remainder.
            let rest = self.buf.split_off(next.min(self.buf.len()));
            let mut message = std::mem::replace(&mut self.buf, rest);
            message.truncate(end);
            self.base = self.base.saturating_add(next as u64);
            self.pos = 0;
            message
        } else {
            let message = self
                .buf
                .get(self.pos..end)
                .map(<[u8]>::to_vec)
                .unwrap_or_default();
            self.pos = next;
            message
        }
    }

    fn next_chunked(&mut self) -> Result<Option<Vec<u8>>, FramingError> {
        loop {
            if let ChunkState::Data { remaining } = self.chunk {
                let available = self.buf.len().saturating_sub(self.pos);
                if available == 0 {
                    return Ok(None);
                }
                let n = usize::try_from(remaining).map_or(available, |r| r.min(available));
                let end = self.pos.saturating_add(n);
                if let Some(data) = self.buf.get(self.pos..end) {
                    self.assembled.extend_from_slice(data);
                }
                self.pos = end;
                let remaining = remaining.saturating_sub(n as u64);
                self.chunk = if remaining == 0 {
                    ChunkState::AfterData
                } else {
                    ChunkState::Data { remaining }
                };
                continue;
            }
            let Some(&byte) = self.buf.get(self.pos) else {
                return Ok(None);
            };
            let offset = self.stream_offset();
            self.pos = self.pos.saturating_add(1);
            match self.chunk_step(byte, offset)? {
                Step::Continue(next) => self.chunk = next,
                Step::Complete => {
                    self.chunk = ChunkState::Boundary { after_lf: false };
                    return Ok(Some(std::mem::take(&mut self.assembled)));
                }
            }
        }
    }

    /// One byte of chunk framing outside chunk data.
    fn chunk_step(&self, byte: u8, offset: u64) -> Result<Step, FramingError> {
        use ChunkState as S;
        let bad = |expected: &'static str| FramingError::BadChunkHeader {
            offset,
            expected,
            found: byte,
        };
        let next = match (self.chunk, byte) {
            (S::Boundary { .. }, b'\n') => S::Boundary { after_lf: true },
            (S::Boundary { .. }, b) if is_xml_whitespace(b) => S::Boundary { after_lf: false },
            (S::Boundary { after_lf: true }, b'#') => S::SizeStart,
            (S::Boundary { after_lf: false }, _) => {
                return Err(bad("a LF starting a chunk header"));
            }
            (S::Boundary { after_lf: true }, _) => return Err(bad("'#' after the header LF")),
            (S::AfterData, b'\n') => S::Hash,
            (S::AfterData, _) => return Err(bad("a LF after the chunk data")),
            (S::Hash, b'#') => S::SizeStart,
            (S::Hash, _) => return Err(bad("'#' after the header LF")),
            (S::SizeStart, b'#') if self.assembled.is_empty() => {
                return Err(FramingError::EmptyChunkedMessage { offset });
            }
            (S::SizeStart, b'#') => S::EndLf,
            (S::SizeStart, b'1'..=b'9') => S::Size {
                value: u64::from(byte - b'0'),
            },
            (S::SizeStart, _) => return Err(bad("a chunk size (digit 1-9) or '#'")),
            (S::Size { value }, b'0'..=b'9') => {
                let value = value * 10 + u64::from(byte - b'0');
                if value > u64::from(MAX_CHUNK_SIZE) {
                    return Err(FramingError::ChunkSizeTooLarge { offset });
                }
                S::Size { value }
            }
            (S::Size { value }, b'\n') => {
                let size = (self.assembled.len() as u64).saturating_add(value);
                if size > self.limit as u64 {
                    return Err(self.too_large(size));
                }
                S::Data { remaining: value }
            }
            (S::Size { .. }, _) => return Err(bad("a digit or the LF ending the chunk size")),
            (S::EndLf, b'\n') => return Ok(Step::Complete),
            (S::EndLf, _) => return Err(bad("the LF ending the end-of-chunks marker")),
            // Data is handled by the caller without looking at single bytes.
            (S::Data { remaining }, _) => S::Data { remaining },
        };
        Ok(Step::Continue(next))
    }
}

/// Frames outgoing messages.
#[derive(Debug, Clone)]
pub struct Encoder {
    framing: Framing,
    chunk_size: NonZeroU32,
}

impl Encoder {
    /// An encoder for `framing`; chunked messages use chunks of [`DEFAULT_ENCODE_CHUNK_SIZE`].
    pub fn new(framing: Framing) -> Self {
        Self {
            framing,
            chunk_size: DEFAULT_ENCODE_CHUNK_SIZE,
        }
    }

    /// Sets the largest chunk the encoder writes.
    #[must_use]
    pub fn with_chunk_size(mut self, chunk_size: NonZeroU32) -> Self {
        self.chunk_size = chunk_size;
        self
    }

    /// The framing in use.
    pub fn framing(&self) -> Framing {
        self.framing
    }

    /// Switches framing for the next message (after sending our hello).
    pub fn set_framing(&mut self, framing: Framing) {
        self.framing = framing;
    }

    /// Appends `message` with framing to `out`.
    ///
    /// Errors: [`FramingError::EmptyMessage`] for an empty message, and, in end-of-message
    /// framing, [`FramingError::DelimiterInMessage`] when the message contains `]]>]]>` or
    /// ends in a way that would make the receiver see the delimiter early. `out` is unchanged
    /// on error.
    pub fn encode(&self, message: &[u8], out: &mut Vec<u8>) -> Result<(), FramingError> {
        if message.is_empty() {
            return Err(FramingError::EmptyMessage);
        }
        match self.framing {
            Framing::EndOfMessage => {
                // The delimiter overlaps itself (`]]>` is both prefix and suffix), so also
                // check the message tail followed by the delimiter.
                let tail_start = message.len().saturating_sub(EOM_DELIMITER.len() - 1);
                let tail = message.get(tail_start..).unwrap_or_default();
                let mut joined = [0u8; 2 * EOM_DELIMITER.len() - 1];
                let joined_len = tail.len() + EOM_DELIMITER.len();
                if let Some(slot) = joined.get_mut(..joined_len) {
                    let (head, delim) = slot.split_at_mut(tail.len());
                    head.copy_from_slice(tail);
                    delim.copy_from_slice(EOM_DELIMITER);
                }
                let early =
                    memmem::find(joined.get(..joined_len).unwrap_or_default(), EOM_DELIMITER)
                        .is_some_and(|at| at < tail.len());
                if early || memmem::find(message, EOM_DELIMITER).is_some() {
                    return Err(FramingError::DelimiterInMessage);
                }
                out.reserve(message.len() + EOM_DELIMITER.len());
                out.extend_from_slice(message);
                out.extend_from_slice(EOM_DELIMITER);
            }
            Framing::Chunked => {
                let chunk_size = usize::try_from(self.chunk_size.get()).unwrap_or(usize::MAX);
                let chunks = message.len().div_ceil(chunk_size);
                out.reserve(message.len() + chunks * 13 + 4);
                for chunk in message.chunks(chunk_size) {
                    out.extend_from_slice(b"\n#");
                    out.extend_from_slice(chunk.len().to_string().as_bytes());
                    out.push(b'\n');
                    out.extend_from_slice(chunk);
                }
                out.extend_from_slice(b"\n##\n");
            }
        }
        Ok(())
    }

    /// Returns `message` with framing.
    pub fn encode_to_vec(&self, message: &[u8]) -> Result<Vec<u8>, FramingError> {
        let mut out = Vec::new();
        self.encode(message, &mut out)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
