//! Junos `| display json` replies loaded into the same [`Doc`] tree as XML replies, so one
//! parser handles both encodings.
//!
//! Junos JSON maps XML one to one: every element becomes a key whose value is a **list** of
//! objects (one per occurrence), a leaf's text is under `"data"` (`[{"data": "10.0.0.1"}]`),
//! attributes are under `"attributes"` (`{"junos:seconds": "27082"}`), and an empty element is
//! `[{}]`, `[null]` or `[{"data": [null]}]`. Text still carries XML escapes (`IPv4-&gt;EVPN`),
//! which are decoded here.
//!
//! Design: a small hand-written reader that builds the tree while it reads, instead of
//! `serde_json::Value`: `Value` sorts object keys (document order would be lost between
//! sibling elements of different names) and keeps only the last of duplicate keys, which
//! Junos emits when same-named elements are not adjacent. Strings without escapes are borrowed
//! from the input.
//!
//! [`load`] is the entry point the collectors use: it detects the encoding by the first
//! non-blank byte (`{` is JSON) and also unwraps a JSON body that arrived as the text of an
//! XML `<output>` element (a CLI `| display json` run over NETCONF).

use std::borrow::Cow;

use nbfacts_sdk::{CollectError, parse_error};

use crate::common::{parse, payloads};
use crate::xml::{Doc, XmlError};

/// Parses a reply in either encoding, naming `rpc` in errors.
pub fn load<'a>(rpc: &str, reply: &'a str) -> Result<Doc<'a>, CollectError> {
    if is_json(reply) {
        return parse_json(reply).map_err(|e| malformed(rpc, &e));
    }
    let doc = parse(rpc, reply)?;
    let wrapped = {
        let found = payloads(&doc);
        match found.as_slice() {
            [only] if only.el.is("output") && is_json(only.el.text()) => {
                Some(only.el.text().to_string())
            }
            _ => None,
        }
    };
    match wrapped {
        Some(body) => parse_json_owned(&body).map_err(|e| malformed(rpc, &e)),
        None => Ok(doc),
    }
}

fn malformed(rpc: &str, e: &XmlError) -> CollectError {
    parse_error(rpc, "", format!("malformed JSON: {e}"))
}

/// True when `text` looks like a JSON document (its first non-blank byte is `{`).
pub fn is_json(text: &str) -> bool {
    text.trim_start().starts_with('{')
}

/// Parses Junos JSON into a [`Doc`], borrowing text from `input` where it can.
pub fn parse_json(input: &str) -> Result<Doc<'_>, XmlError> {
    build(input, Cow::Borrowed)
}

/// Like [`parse_json`], with every string copied, so the tree outlives `input`.
pub fn parse_json_owned(input: &str) -> Result<Doc<'static>, XmlError> {
    build(input, |s: &str| Cow::Owned(s.to_string()))
}

fn build<'a, 'i>(
    input: &'i str,
    keep: impl Fn(&'i str) -> Cow<'a, str>,
) -> Result<Doc<'a>, XmlError> {
    let mut reader = Reader {
        input,
        pos: 0,
        keep,
        doc: Doc::builder(),
        stack: Vec::with_capacity(16),
    };
    reader.skip_ws();
    reader.expect(b'{')?;
    reader.members()?;
    reader.skip_ws();
    if reader.pos < input.len() {
        return Err(reader.error("trailing characters after the JSON document"));
    }
    Ok(reader.doc)
}

/// A JSON string: borrowed when it has no escapes.
enum Str<'i> {
    Raw(&'i str),
    Owned(String),
}

impl Str<'_> {
    fn as_str(&self) -> &str {
        match self {
            Str::Raw(s) => s,
            Str::Owned(s) => s,
        }
    }
}

struct Reader<'i, 'a, F> {
    input: &'i str,
    pos: usize,
    keep: F,
    doc: Doc<'a>,
    stack: Vec<u32>,
}

impl<'i, 'a, F: Fn(&'i str) -> Cow<'a, str>> Reader<'i, 'a, F> {
    fn error(&self, message: &str) -> XmlError {
        XmlError {
            position: self.pos as u64,
            message: message.to_string(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.input.as_bytes().get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Result<(), XmlError> {
        self.skip_ws();
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(&format!("expected '{}'", byte as char)))
        }
    }

    /// Reads `"key": value` pairs up to the closing `}` (the `{` is already read); each key is
    /// an element of the element on top of the stack.
    fn members(&mut self) -> Result<(), XmlError> {
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            self.skip_ws();
            let key = self.string()?;
            self.expect(b':')?;
            self.skip_ws();
            match key.as_str() {
                "attributes" => self.attributes()?,
                "data" => self.data()?,
                name => {
                    let name = name.to_string();
                    self.element_value(&name)?;
                }
            }
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(self.error("expected ',' or '}' in an object")),
            }
        }
    }

    /// The value of an element key: a list of occurrences, or (leniently) one occurrence.
    fn element_value(&mut self, name: &str) -> Result<(), XmlError> {
        if self.peek() == Some(b'[') {
            self.pos += 1;
            self.skip_ws();
            if self.peek() == Some(b']') {
                self.pos += 1;
                return Ok(());
            }
            loop {
                self.skip_ws();
                self.occurrence(name)?;
                self.skip_ws();
                match self.peek() {
                    Some(b',') => self.pos += 1,
                    Some(b']') => {
                        self.pos += 1;
                        return Ok(());
                    }
                    _ => return Err(self.error("expected ',' or ']' in a list")),
                }
            }
        }
        self.occurrence(name)
    }

    /// One occurrence of element `name`: an object, or a scalar taken as its text.
    fn occurrence(&mut self, name: &str) -> Result<(), XmlError> {
        self.doc.open(&mut self.stack, name);
        if self.peek() == Some(b'{') {
            self.pos += 1;
            self.members()?;
        } else {
            self.scalar_text()?;
        }
        self.doc.close(&mut self.stack);
        Ok(())
    }

    /// `"data"`: a scalar, or a list of scalars (`[null]`), as the element's text.
    fn data(&mut self) -> Result<(), XmlError> {
        if self.peek() == Some(b'[') {
            self.pos += 1;
            loop {
                self.skip_ws();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                    return Ok(());
                }
                self.scalar_text()?;
                self.skip_ws();
                if self.peek() == Some(b',') {
                    self.pos += 1;
                }
            }
        }
        self.scalar_text()
    }

    /// A string, number, `true`, `false` or `null` appended as text to the open element.
    fn scalar_text(&mut self) -> Result<(), XmlError> {
        self.skip_ws();
        match self.peek() {
            Some(b'"') => {
                let text = self.string()?;
                let text = match text {
                    Str::Raw(raw) if !raw.contains('&') => (self.keep)(raw),
                    other => Cow::Owned(unescape_xml(other.as_str())),
                };
                self.doc.text(&self.stack, text);
                Ok(())
            }
            Some(b'n') => self.word("null").map(|_| ()),
            Some(b't') => {
                let w = self.word("true")?;
                self.doc.text(&self.stack, (self.keep)(w));
                Ok(())
            }
            Some(b'f') => {
                let w = self.word("false")?;
                self.doc.text(&self.stack, (self.keep)(w));
                Ok(())
            }
            Some(b'-' | b'0'..=b'9') => {
                let start = self.pos;
                while matches!(
                    self.peek(),
                    Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                ) {
                    self.pos += 1;
                }
                let number = self
                    .input
                    .get(start..self.pos)
                    .ok_or_else(|| self.error("bad number"))?;
                self.doc.text(&self.stack, (self.keep)(number));
                Ok(())
            }
            _ => Err(self.error("expected a value")),
        }
    }

    fn word(&mut self, word: &'static str) -> Result<&'i str, XmlError> {
        let end = self.pos + word.len();
        match self.input.get(self.pos..end) {
            Some(found) if found == word => {
                self.pos = end;
                Ok(found)
            }
            _ => Err(self.error(&format!("expected {word}"))),
        }
    }

    /// `"attributes": {"junos:seconds": "27082", "xmlns": …}` (namespace declarations are
    /// dropped, as the XML reader does).
    fn attributes(&mut self) -> Result<(), XmlError> {
        self.expect(b'{')?;
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            self.skip_ws();
            let key = self.string()?;
            self.expect(b':')?;
            self.skip_ws();
            let value = if self.peek() == Some(b'"') {
                let v = self.string()?;
                unescape_xml(v.as_str())
            } else {
                let start = self.pos;
                while !matches!(self.peek(), None | Some(b',' | b'}')) {
                    self.pos += 1;
                }
                self.input
                    .get(start..self.pos)
                    .unwrap_or_default()
                    .trim()
                    .to_string()
            };
            if !key.as_str().starts_with("xmlns") {
                self.doc.attr(&self.stack, key.as_str(), &value);
            }
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(self.error("expected ',' or '}' in attributes")),
            }
        }
    }

    /// A JSON string literal (the reader is on its opening quote).
    fn string(&mut self) -> Result<Str<'i>, XmlError> {
        self.skip_ws();
        if self.peek() != Some(b'"') {
            return Err(self.error("expected a string"));
        }
        self.pos += 1;
        let start = self.pos;
        let bytes = self.input.as_bytes();
        let mut owned: Option<String> = None;
        let mut run = start;
        loop {
            match bytes.get(self.pos) {
                None => return Err(self.error("unterminated string")),
                Some(b'"') => {
                    let tail = self.input.get(run..self.pos).unwrap_or_default();
                    self.pos += 1;
                    return Ok(match owned {
                        None => Str::Raw(tail),
                        Some(mut s) => {
                            s.push_str(tail);
                            Str::Owned(s)
                        }
                    });
                }
                Some(b'\\') => {
                    let s = owned.get_or_insert_with(String::new);
                    s.push_str(self.input.get(run..self.pos).unwrap_or_default());
                    self.pos += 1;
                    let escaped = match bytes.get(self.pos) {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            let c = self.unicode_escape()?;
                            s_push(&mut owned, c);
                            run = self.pos;
                            continue;
                        }
                        _ => return Err(self.error("bad escape in a string")),
                    };
                    s.push(escaped);
                    self.pos += 1;
                    run = self.pos;
                }
                Some(_) => self.pos += 1,
            }
        }
    }

    /// `\uXXXX` (with a following low surrogate when needed); the reader is on the `u`.
    fn unicode_escape(&mut self) -> Result<char, XmlError> {
        let hex4 = |r: &mut Self| -> Result<u32, XmlError> {
            let digits = r
                .input
                .get(r.pos + 1..r.pos + 5)
                .ok_or_else(|| r.error("short \\u escape"))?;
            let v = u32::from_str_radix(digits, 16).map_err(|_| r.error("bad \\u escape"))?;
            r.pos += 5;
            Ok(v)
        };
        let first = hex4(self)?;
        let code = if (0xD800..0xDC00).contains(&first) {
            if self.input.get(self.pos..self.pos + 2) != Some("\\u") {
                return Err(self.error("unpaired surrogate"));
            }
            self.pos += 1;
            let low = hex4(self)?;
            if !(0xDC00..0xE000).contains(&low) {
                return Err(self.error("unpaired surrogate"));
            }
            0x10000 + ((first - 0xD800) << 10) + (low - 0xDC00)
        } else {
            first
        };
        char::from_u32(code).ok_or_else(|| self.error("bad \\u escape"))
    }
}

fn s_push(owned: &mut Option<String>, c: char) {
    owned.get_or_insert_with(String::new).push(c);
}

/// Decodes the XML escapes Junos leaves in JSON text (`&lt;default&gt;`).
fn unescape_xml(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(rest.get(..at).unwrap_or_default());
        let tail = rest.get(at..).unwrap_or_default();
        let (decoded, len) = [
            ("&lt;", '<'),
            ("&gt;", '>'),
            ("&amp;", '&'),
            ("&quot;", '"'),
            ("&apos;", '\''),
        ]
        .iter()
        .find(|(entity, _)| tail.starts_with(entity))
        .map_or(('&', 1), |(entity, c)| (*c, entity.len()));
        out.push(decoded);
        rest = tail.get(len..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junos_json_becomes_the_same_tree() {
        let text = r#"{"ospf-neighbor-information-all": [{"attributes": {"xmlns": "x"},
            "ospf-instance-neighbor": [{"ospf-instance-name": [{"data": "master"}],
              "ospf-neighbor": [
                {"neighbor-address": [{"data": "10.0.0.1"}],
                 "neighbor-up-time": [{"data": "07:31:22", "attributes": {"junos:seconds": "27082"}}],
                 "flag": [null], "empty": [{"data": [null]}], "n": [{"data": 5}]},
                {"neighbor-address": [{"data": "fe80::1"}], "label": [{"data": "IPv4-&gt;EVPN \u00e9\"q"}]}
              ]}]}]}"#;
        let doc = parse_json(text).unwrap();
        let nbrs: Vec<_> = doc.descendants("ospf-neighbor").collect();
        assert_eq!(nbrs.len(), 2);
        assert_eq!(nbrs[0].text_of("neighbor-address"), "10.0.0.1");
        assert_eq!(
            nbrs[0].child("neighbor-up-time").unwrap().attr("seconds"),
            Some("27082")
        );
        assert!(nbrs[0].has_child("flag"));
        assert_eq!(nbrs[0].text_of("empty"), "");
        assert_eq!(nbrs[0].text_of("n"), "5");
        assert_eq!(nbrs[1].text_of("label"), "IPv4->EVPN é\"q");
        assert_eq!(
            doc.find("ospf-instance-neighbor")
                .unwrap()
                .text_of("ospf-instance-name"),
            "master"
        );
        let owned = parse_json_owned(text).unwrap();
        assert_eq!(owned.len(), doc.len());
    }

    #[test]
    fn duplicate_keys_keep_every_occurrence_in_order() {
        let doc = parse_json(r#"{"r": [{"a": [{"data": "1"}], "b": [{}], "a": [{"data": "2"}]}]}"#)
            .unwrap();
        let names: Vec<_> = doc.root().unwrap().children().map(|c| c.name()).collect();
        assert_eq!(names, ["a", "b", "a"]);
    }

    #[test]
    fn malformed_json_is_an_error() {
        for bad in [
            "{",
            r#"{"a": [{"data": "x"}"#,
            r#"{"a": [{"data": "x\q"}]}"#,
            r#"{"a": }"#,
            r#"{"a": [1]} x"#,
        ] {
            assert!(parse_json(bad).is_err(), "{bad}");
        }
        assert!(matches!(
            load("get-x", r#"{"a": "#),
            Err(CollectError::Parse(_))
        ));
    }

    #[test]
    fn json_inside_an_output_element_is_unwrapped() {
        let doc = load(
            "get-x",
            "<rpc-reply><output>\n{\"a\": [{\"b\": [{\"data\": \"x &amp; y\"}]}]}\n</output></rpc-reply>",
        )
        .unwrap();
        assert_eq!(doc.root().unwrap().name(), "a");
        assert_eq!(doc.root().unwrap().text_of("b"), "x & y");
        let plain = load("get-x", "<output>OSPF instance is not running</output>").unwrap();
        assert_eq!(plain.root().unwrap().name(), "output");
    }
}
