//! Small helpers over quick-xml shared by the message parsers.
//!
//! Everything matches on local names and ignores namespace prefixes: Junos and other servers
//! use both `<rpc-reply>` and `<nc:rpc-reply>`.

use quick_xml::XmlVersion;
use quick_xml::escape::{escape, resolve_predefined_entity};
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::reader::Reader;

use crate::error::MessageError;

/// A pull parser over a message that knows byte positions, so raw inner XML can be sliced out.
pub(crate) struct XmlReader<'a> {
    src: &'a str,
    reader: Reader<&'a [u8]>,
}

/// Converts a quick-xml position to an index; positions never exceed the input length.
fn index(position: u64) -> usize {
    usize::try_from(position).unwrap_or(usize::MAX)
}

impl<'a> XmlReader<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        Self {
            src,
            reader: Reader::from_str(src),
        }
    }

    /// Byte offset of the next event.
    pub(crate) fn position(&self) -> usize {
        index(self.reader.buffer_position())
    }

    pub(crate) fn next(&mut self) -> Result<Event<'a>, MessageError> {
        self.reader
            .read_event()
            .map_err(|e| MessageError::xml(self.reader.error_position(), e))
    }

    /// The raw source between two positions.
    pub(crate) fn slice(&self, start: usize, end: usize) -> Result<&'a str, MessageError> {
        self.src.get(start..end).ok_or_else(|| {
            MessageError::xml(start as u64, "internal: position off a char boundary")
        })
    }

    /// Skips the prolog (declaration, comments, whitespace) and returns the root element and
    /// whether it is empty (`<x/>`). Fails unless its local name is `expected`.
    pub(crate) fn root(
        &mut self,
        expected: &'static str,
    ) -> Result<(BytesStart<'a>, bool), MessageError> {
        loop {
            let (start, empty) = match self.next()? {
                Event::Start(e) => (e, false),
                Event::Empty(e) => (e, true),
                Event::Text(t) if is_blank(&t) => continue,
                Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => continue,
                Event::Eof => return Err(MessageError::NoRootElement),
                _ => return Err(MessageError::xml(0, "text before the root element")),
            };
            if local_name(&start) != expected {
                return Err(MessageError::UnexpectedRoot {
                    expected,
                    found: local_name(&start).to_owned(),
                });
            }
            return Ok((start, empty));
        }
    }

    /// After the root element ended: only whitespace, comments and PIs may follow.
    pub(crate) fn end_of_document(&mut self) -> Result<(), MessageError> {
        loop {
            match self.next()? {
                Event::Eof => return Ok(()),
                Event::Text(t) if is_blank(&t) => {}
                Event::Comment(_) | Event::PI(_) => {}
                _ => return Err(MessageError::TrailingContent),
            }
        }
    }

    /// After a start tag: the text content up to the matching end tag (text of nested
    /// elements included, entities resolved), untrimmed.
    pub(crate) fn text_to_end(&mut self) -> Result<String, MessageError> {
        let mut depth = 0usize;
        let mut out = String::new();
        loop {
            match self.next()? {
                Event::Start(_) => depth += 1,
                Event::End(_) => {
                    if depth == 0 {
                        return Ok(out);
                    }
                    depth -= 1;
                }
                Event::Text(t) => out.push_str(&t.xml10_content()),
                Event::CData(c) => out.push_str(&c.xml10_content()),
                Event::GeneralRef(r) => push_reference(&mut out, &r)?,
                Event::Eof => return Err(self.eof()),
                _ => {}
            }
        }
    }

    /// After a start tag: skips to the matching end tag and returns the raw inner XML range.
    pub(crate) fn skip_to_end(
        &mut self,
        start: &BytesStart<'_>,
    ) -> Result<(usize, usize), MessageError> {
        let span = self
            .reader
            .read_to_end(start.name())
            .map_err(|e| MessageError::xml(self.reader.error_position(), e))?;
        Ok((index(span.start), index(span.end)))
    }

    pub(crate) fn eof(&self) -> MessageError {
        MessageError::xml(
            self.reader.buffer_position(),
            "unexpected end of message inside an element",
        )
    }
}

/// Whether a text event is only whitespace.
pub(crate) fn is_blank(text: &str) -> bool {
    text.bytes()
        .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

/// The local name of an element (the part after any `prefix:`).
pub(crate) fn local_name<'s>(start: &'s BytesStart<'_>) -> &'s str {
    let name = start.name().0;
    name.rsplit_once(':').map_or(name, |(_, local)| local)
}

/// Appends what an entity or character reference stands for.
fn push_reference(out: &mut String, reference: &BytesRef<'_>) -> Result<(), MessageError> {
    if let Some(c) = reference
        .resolve_char_ref()
        .map_err(|e| MessageError::xml(0, e))?
    {
        out.push(c);
        return Ok(());
    }
    let name: &str = reference;
    match resolve_predefined_entity(name) {
        Some(text) => {
            out.push_str(text);
            Ok(())
        }
        None => Err(MessageError::UnknownEntity(name.to_owned())),
    }
}

/// The attributes of an element as (qualified name, value with entities resolved).
pub(crate) fn attributes(start: &BytesStart<'_>) -> Result<Vec<(String, String)>, MessageError> {
    start
        .attributes()
        .map(|attribute| {
            let attribute = attribute.map_err(|e| MessageError::xml(0, e))?;
            let value = attribute
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|e| MessageError::xml(0, e))?;
            Ok((attribute.key.0.to_owned(), value.into_owned()))
        })
        .collect()
}

/// The value of the attribute whose local name is `name`.
pub(crate) fn attribute<'l>(list: &'l [(String, String)], name: &str) -> Option<&'l str> {
    list.iter()
        .filter(|(key, _)| !key.starts_with("xmlns"))
        .find(|(key, _)| key.rsplit_once(':').map_or(key.as_str(), |(_, l)| l) == name)
        .map(|(_, value)| value.as_str())
}

/// Appends ` name="value"` with the value escaped.
pub(crate) fn write_attribute(out: &mut String, name: &str, value: &str) {
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    out.push_str(&escape(value));
    out.push('"');
}

/// Appends `<name>text</name>` with the text escaped.
pub(crate) fn write_text_element(out: &mut String, name: &str, text: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    out.push_str(&escape(text));
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}
