//! A zero-copy XML pull scanner for device replies.
//!
//! It replaced quick-xml in the plugin's parsers because of where the time went inside the
//! sandbox (profiled with `tests/benches/plugin_runtime.rs`): quick-xml validates UTF-8
//! again for every event although the reply is already a `&str`, finds the `:` of every name
//! with `str::find(char)` (a word-at-a-time loop that is slow on 32-bit WebAssembly), and keeps
//! a copy of every open tag name. This scanner works on the `&str` it is given:
//!
//! * text and tags are found with `memchr` (SIMD128 inside the sandbox, AVX2 natively);
//! * a tag's name, its local part (after the last `:`) and its end are found in one pass over
//!   the name;
//! * the names of open elements are kept as offsets into the input, and an end tag must
//!   match the element it closes;
//! * text is handed out raw; [`Text::decode`] resolves entities and XML line endings only
//!   when the text contains `&` or `\r` (otherwise it borrows).
//!
//! Whitespace-only text (indentation) is not reported. Comments, processing instructions,
//! the XML declaration and document type declarations are skipped. Malformed input (an end
//! tag that does not match, elements left open, an unterminated tag, comment or CDATA
//! section, an unknown entity) is an [`XmlError`] with the byte offset where it was found.

use std::borrow::Cow;

use memchr::{memchr, memchr2, memchr3, memmem};

use super::XmlError;

/// One piece of a document.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Token<'a> {
    /// `<name ...>`.
    Start(Tag<'a>),
    /// `<name .../>`: a start immediately followed by its end.
    Empty(Tag<'a>),
    /// `</name>`, with the local part of the name.
    End(&'a str),
    /// Character data between tags, not only whitespace.
    Text(Text<'a>),
    /// The content of a `<![CDATA[...]]>` section, verbatim.
    CData(&'a str),
}

/// A start or empty-element tag.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tag<'a> {
    /// The qualified name (`junos:comment`).
    pub name: &'a str,
    /// The local part of the name (`comment`).
    pub local: &'a str,
    /// Everything between the name and `>` (or `/>`): the attributes, unparsed.
    pub attrs: &'a str,
    /// Byte offset of the attributes in the input, for error positions.
    attrs_at: usize,
}

/// Raw character data and where it starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Text<'a> {
    /// The text as it is in the input: entities are not resolved yet.
    pub raw: &'a str,
    at: usize,
}

/// Pulls [`Token`]s out of a document.
#[derive(Debug)]
pub struct Scanner<'a> {
    input: &'a str,
    pos: usize,
    /// Open elements: where each one's qualified name is in `input`.
    open: Vec<Open>,
}

/// An open element's name: `input[at..at + len]`, its local part from `at + local`.
#[derive(Debug, Clone, Copy)]
struct Open {
    at: u32,
    len: u32,
    local: u32,
}

impl Open {
    fn name<'a>(&self, input: &'a str) -> &'a str {
        slice(input, self.at as usize, (self.at + self.len) as usize)
    }

    fn local<'a>(&self, input: &'a str) -> &'a str {
        slice(
            input,
            (self.at + self.local) as usize,
            (self.at + self.len) as usize,
        )
    }
}

/// Bytes that end a name: whitespace and other control characters, `/`, `>` and `=`.
fn ends_name(b: u8) -> bool {
    b <= b' ' || matches!(b, b'/' | b'>' | b'=')
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_space_char(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// A tag without a name at `lt`.
#[cold]
#[inline(never)]
fn no_name(lt: usize) -> XmlError {
    error(lt, "expected an element name after '<'")
}

fn error(position: usize, message: impl Into<String>) -> XmlError {
    XmlError {
        position: position as u64,
        message: message.into(),
    }
}

/// The local part of a (possibly prefixed) name: `junos:seconds` → `seconds`.
pub fn local(name: &str) -> &str {
    match name.bytes().rposition(|b| b == b':') {
        Some(colon) => name.get(colon + 1..).unwrap_or(name),
        None => name,
    }
}

impl<'a> Scanner<'a> {
    /// A scanner at the start of `input`.
    pub fn new(input: &'a str) -> Self {
        Self {
            input,
            pos: 0,
            open: Vec::with_capacity(32),
        }
    }

    /// The next token, or `None` at the end of a well-formed document.
    // Inlined into each parser's loop inside the sandbox, where a call also pays a deadline
    // check and returns the token through linear memory: sandboxed MAC table 112.4 -> 108.9
    // and 114.6 -> 113.6 ms, EVPN database 120.2 -> 115.9 ms (builds compared in one
    // process). Natively the same hint made the MAC table 1.5-2.5% slower, so native builds
    // keep the compiler's choice.
    #[cfg_attr(target_arch = "wasm32", inline(always))]
    pub fn next_token(&mut self) -> Result<Option<Token<'a>>, XmlError> {
        let input = self.input;
        let bytes = input.as_bytes();
        loop {
            let pos = self.pos;
            let Some(&first) = bytes.get(pos) else {
                return self.end_of_input(pos);
            };
            if first != b'<' {
                let (end, blank) = scan_text(bytes, pos);
                self.pos = end;
                // Indentation, and anything outside the root element, is not reported.
                if blank || self.open.is_empty() {
                    continue;
                }
                let raw = slice(input, pos, end);
                return Ok(Some(Token::Text(Text { raw, at: pos })));
            }
            match bytes.get(pos + 1) {
                Some(b'/') => return self.end_tag(pos).map(Some),
                Some(b'!') => {
                    if let Some(cdata) = self.markup_decl(pos)? {
                        return Ok(Some(Token::CData(cdata)));
                    }
                }
                Some(b'?') => self.processing_instruction(pos)?,
                _ => return self.start_tag(pos).map(Some),
            }
        }
    }

    // Rare paths are functions of their own, marked cold: Cranelift does not shrink-wrap, so
    // the registers and the shadow-stack frame a function's rare paths need (formatting an
    // error, say) are saved and set up on every call, fast path included. With them outlined,
    // `end_tag`'s fast path is small enough for Wasmtime to inline into `next_token`.

    /// The end of the input: fine when no element is open.
    #[cold]
    #[inline(never)]
    fn end_of_input(&self, pos: usize) -> Result<Option<Token<'a>>, XmlError> {
        match self.open.last() {
            None => Ok(None),
            Some(open) => Err(error(
                pos,
                format!(
                    "unexpected end of document: <{}> and {} more elements are not closed",
                    open.name(self.input),
                    self.open.len() - 1
                ),
            )),
        }
    }

    /// Skips `<?...?>` at `lt`.
    #[cold]
    #[inline(never)]
    fn processing_instruction(&mut self, lt: usize) -> Result<(), XmlError> {
        let end = find(self.input.as_bytes(), lt + 2, b"?>")
            .ok_or_else(|| error(lt, "unterminated processing instruction"))?;
        self.pos = end + 2;
        Ok(())
    }

    // Inlined into `next_token` (and so into each parser's loop) inside the sandbox, where a
    // call also pays a deadline check and returns the token through linear memory: sandboxed
    // MAC table 108.0 -> 102.5 and 110.1 -> 103.9 ms, LLDP 9.69 -> 9.31 ms, ARP 69.4 -> 63.6 ms,
    // EVPN database 113.6 -> 110.2 ms (builds compared in one process). Natively it stays a
    // call, which keeps `next_token` small enough to inline where the compiler sees fit.
    #[cfg_attr(target_arch = "wasm32", inline(always))]
    #[cfg_attr(not(target_arch = "wasm32"), inline(never))]
    fn start_tag(&mut self, lt: usize) -> Result<Token<'a>, XmlError> {
        let input = self.input;
        let bytes = input.as_bytes();
        let name_start = lt + 1;
        let (i, colon) = scan_name(bytes, name_start);
        if i == name_start {
            return Err(no_name(lt));
        }
        let name = slice(input, name_start, i);
        let local = colon.map_or(name, |c| slice(input, c + 1, i));
        // Most tags end right after their name.
        let gt = if bytes.get(i) == Some(&b'>') {
            i
        } else {
            self.tag_end(lt, i)?
        };
        self.pos = gt + 1;
        let empty = gt > i && bytes.get(gt - 1) == Some(&b'/');
        let attrs_end = if empty { gt - 1 } else { gt };
        let tag = Tag {
            name,
            local,
            attrs: slice(input, i, attrs_end),
            attrs_at: i,
        };
        if empty {
            Ok(Token::Empty(tag))
        } else {
            self.open.push(Open {
                at: name_start as u32,
                len: (i - name_start) as u32,
                local: colon.map_or(0, |c| (c + 1 - name_start) as u32),
            });
            Ok(Token::Start(tag))
        }
    }

    /// Where the tag at `lt` ends when its name (ending at `i`) is followed by attributes or
    /// `/>`: the first '>' outside a quoted attribute value.
    #[inline(never)]
    fn tag_end(&self, lt: usize, i: usize) -> Result<usize, XmlError> {
        let input = self.input;
        let bytes = input.as_bytes();
        let unterminated = |at: usize, what: &str| {
            let name = slice(input, lt + 1, i);
            error(at, format!("unterminated {what} <{name}"))
        };
        let mut at = i;
        loop {
            let rest = bytes.get(at..).unwrap_or_default();
            let found =
                at + memchr3(b'>', b'"', b'\'', rest).ok_or_else(|| unterminated(lt, "tag"))?;
            match bytes.get(found) {
                Some(b'>') => return Ok(found),
                Some(&quote) => {
                    let after = bytes.get(found + 1..).unwrap_or_default();
                    let close = memchr(quote, after)
                        .ok_or_else(|| unterminated(found, "attribute value in"))?;
                    at = found + 1 + close + 1;
                }
                None => return Err(unterminated(lt, "tag")),
            }
        }
    }

    #[inline(never)]
    fn end_tag(&mut self, lt: usize) -> Result<Token<'a>, XmlError> {
        let input = self.input;
        let bytes = input.as_bytes();
        let name_start = lt + 2;
        // Nearly always the end tag is exactly `</` + the open element's name + `>`.
        if let Some(&open) = self.open.last() {
            let expected = open.name(input);
            let end = name_start + expected.len();
            if bytes.get(end) == Some(&b'>')
                && bytes
                    .get(name_start..end)
                    .is_some_and(|found| same(found, expected.as_bytes()))
            {
                self.open.pop();
                self.pos = end + 1;
                return Ok(Token::End(open.local(input)));
            }
        }
        self.end_tag_slow(lt)
    }

    /// An end tag that is not simply `</` + the open element's name + `>`: space before the
    /// `>` (allowed), or an error.
    #[cold]
    #[inline(never)]
    fn end_tag_slow(&mut self, lt: usize) -> Result<Token<'a>, XmlError> {
        let input = self.input;
        let bytes = input.as_bytes();
        let name_start = lt + 2;
        let Some(open) = self.open.pop() else {
            let gt = memchr(b'>', bytes.get(name_start..).unwrap_or_default())
                .map_or(bytes.len(), |i| name_start + i);
            let name = slice(input, name_start, gt).trim_end();
            return Err(error(lt, format!("</{name}> closes no open element")));
        };
        let expected = open.name(input);
        let gt = memchr(b'>', bytes.get(name_start..).unwrap_or_default())
            .map(|i| name_start + i)
            .ok_or_else(|| error(lt, "unterminated end tag"))?;
        let name = slice(input, name_start, gt).trim_end_matches(is_space_char);
        if name != expected {
            return Err(error(
                lt,
                format!("expected </{expected}>, found </{name}>"),
            ));
        }
        self.pos = gt + 1;
        Ok(Token::End(open.local(input)))
    }

    /// `<!--...-->`, `<![CDATA[...]]>` or `<!DOCTYPE ...>` at `lt`; returns CDATA content.
    #[inline(never)]
    fn markup_decl(&mut self, lt: usize) -> Result<Option<&'a str>, XmlError> {
        let input = self.input;
        let bytes = input.as_bytes();
        let rest = bytes.get(lt..).unwrap_or_default();
        if rest.starts_with(b"<!--") {
            let end =
                find(bytes, lt + 4, b"-->").ok_or_else(|| error(lt, "unterminated comment"))?;
            self.pos = end + 3;
            Ok(None)
        } else if rest.starts_with(b"<![CDATA[") {
            let start = lt + 9;
            let end = find(bytes, start, b"]]>")
                .ok_or_else(|| error(lt, "unterminated CDATA section"))?;
            self.pos = end + 3;
            Ok(Some(slice(input, start, end)))
        } else {
            // A document type declaration, possibly with an internal subset in brackets.
            let mut depth = 0usize;
            let mut i = lt + 2;
            while let Some(&b) = bytes.get(i) {
                match b {
                    b'[' => depth += 1,
                    b']' => depth = depth.saturating_sub(1),
                    b'>' if depth == 0 => {
                        self.pos = i + 1;
                        return Ok(None);
                    }
                    _ => {}
                }
                i += 1;
            }
            Err(error(lt, "unterminated declaration"))
        }
    }
}

// Word-at-a-time helpers. The scanner's remaining per-byte work is in names (the tags of a
// Junos reply are long: `l2ng-l2-mac-logical-interface`) and indentation; eight bytes per step
// matter most inside WebAssembly, where every loop iteration also pays the deadline check.

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

fn word(bytes: &[u8], at: usize) -> Option<u64> {
    let chunk: [u8; 8] = bytes.get(at..at + 8)?.try_into().ok()?;
    Some(u64::from_le_bytes(chunk))
}

/// High bit set in each byte of `x` that is greater than 0x20 (or not ASCII): exact per byte.
fn above_space(x: u64) -> u64 {
    (((x & !HI).wrapping_add(LO * (0x7f - 0x20))) | x) & HI
}

/// High bit set in each byte of `x` equal to `b`: exact per byte.
fn equal_to(x: u64, b: u8) -> u64 {
    let y = x ^ (LO * u64::from(b));
    !(((y & !HI).wrapping_add(!HI)) | y) & HI
}

/// The end of the name starting at `start` (the first whitespace, control character, `/`,
/// `>` or `=`) and the position of its last `:`.
fn scan_name(bytes: &[u8], start: usize) -> (usize, Option<usize>) {
    let mut i = start;
    let mut colon = None;
    while let Some(x) = word(bytes, i) {
        let stop =
            (!above_space(x) & HI) | equal_to(x, b'/') | equal_to(x, b'>') | equal_to(x, b'=');
        let colons = equal_to(x, b':');
        if stop == 0 {
            if colons != 0 {
                colon = Some(i + (63 - colons.leading_zeros() as usize) / 8);
            }
            i += 8;
            continue;
        }
        let end = stop.trailing_zeros() as usize / 8;
        // Colons before the end of the name only.
        let before = colons & ((1u64 << (end * 8)) - 1);
        if before != 0 {
            colon = Some(i + (63 - before.leading_zeros() as usize) / 8);
        }
        return (i + end, colon);
    }
    while let Some(&b) = bytes.get(i) {
        if ends_name(b) {
            break;
        }
        if b == b':' {
            colon = Some(i);
        }
        i += 1;
    }
    (i, colon)
}

/// The end of the text starting at `start` (the next `<`, or the end of input) and whether
/// the text is only whitespace (in well-formed XML, bytes up to 0x20 are). Text between tags
/// is mostly short (a value, or indentation), so it is scanned a word at a time, with
/// `memchr` taking over for long runs.
fn scan_text(bytes: &[u8], start: usize) -> (usize, bool) {
    let mut i = start;
    let mut blank = true;
    for _ in 0..8 {
        let Some(x) = word(bytes, i) else {
            break;
        };
        let lt = equal_to(x, b'<');
        if lt != 0 {
            let end = lt.trailing_zeros() as usize / 8;
            let before = if end == 0 {
                0
            } else {
                above_space(x) & (u64::MAX >> (64 - end * 8))
            };
            return (i + end, blank && before == 0);
        }
        blank &= above_space(x) == 0;
        i += 8;
    }
    let end = memchr(b'<', bytes.get(i..).unwrap_or_default()).map_or(bytes.len(), |n| i + n);
    let rest = bytes.get(i..end).unwrap_or_default();
    (end, blank && rest.iter().all(|&b| b <= b' '))
}

/// `name == literal` for element names, eight bytes at a time: a `match` on strings compiles
/// to `memcmp`, which inside WebAssembly is a byte-by-byte loop.
//
// Inside the sandbox it is inlined, with `same`, into the classifiers that call it: a call
// there also pays a deadline check, and inlined against a literal the length test and the
// word compares fold to constants. Builds compared in one process: sandboxed MAC table (whose
// `role` tries up to a dozen names per element) 102.3 -> 94.9 ms; EVPN database 110.4 -> 113.5
// and 110.9 -> 115.0 ms, LLDP 9.11 -> 9.26 ms, ARP 63.2 -> 63.7 ms (their classifiers try few
// names, and the bigger code costs a little). Native builds keep the compiler's choice.
#[cfg_attr(target_arch = "wasm32", inline(always))]
pub fn name_is(name: &str, literal: &str) -> bool {
    same(name.as_bytes(), literal.as_bytes())
}

/// True when `bytes` has no `&` and no `\r`: text that needs no decoding (most values are
/// short, so this beats a `memchr2` call).
#[inline]
fn plain(bytes: &[u8]) -> bool {
    let mut i = 0;
    while let Some(x) = word(bytes, i) {
        if equal_to(x, b'&') | equal_to(x, b'\r') != 0 {
            return false;
        }
        i += 8;
    }
    !bytes
        .get(i..)
        .unwrap_or_default()
        .iter()
        .any(|&b| b == b'&' || b == b'\r')
}

/// `a == b`, eight bytes at a time; the tail is compared with one overlapping load, not a
/// `memcmp` call (a byte loop inside WebAssembly).
#[cfg_attr(target_arch = "wasm32", inline(always))]
fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n < 8 {
        return short_same(a, b);
    }
    let mut i = 0;
    while i + 8 < n {
        if word(a, i) != word(b, i) {
            return false;
        }
        i += 8;
    }
    word(a, n - 8) == word(b, n - 8)
}

/// `a == b` for slices of the same length below 8, without a loop.
#[cfg_attr(target_arch = "wasm32", inline(always))]
fn short_same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    let half = |s: &[u8], at: usize| -> Option<u32> {
        Some(u32::from_le_bytes(s.get(at..at + 4)?.try_into().ok()?))
    };
    if n >= 4 {
        return half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4);
    }
    // Lengths 0 to 3: the first, middle and last byte cover every position.
    n == 0 || (a.first() == b.first() && a.get(n / 2) == b.get(n / 2) && a.last() == b.last())
}

/// `input[start..end]`; the scanner only slices at ASCII delimiters it found itself.
fn slice(input: &str, start: usize, end: usize) -> &str {
    input.get(start..end).unwrap_or_default()
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    memmem::find(bytes.get(from..)?, needle).map(|i| from + i)
}

impl<'a> Text<'a> {
    /// The text with entities resolved and line endings normalised; borrows unless the raw
    /// text contains `&` or `\r`.
    ///
    /// The common case (no `&`, no `\r`) is answered here, inline: Cranelift does not
    /// shrink-wrap, so a call to `decode` saves and restores every register its slow path
    /// needs even when it returns at once. In the sandbox that call was 7.7% of an EVPN
    /// database parse's profile; answering inline took about 3% off the whole collection.
    #[inline]
    pub fn decode(&self) -> Result<Cow<'a, str>, XmlError> {
        if plain(self.raw.as_bytes()) {
            return Ok(Cow::Borrowed(self.raw));
        }
        decode(self.raw, self.at, false)
    }
}

impl<'a> Tag<'a> {
    /// The attributes: (qualified name, value with entities resolved and whitespace
    /// normalised). Namespace declarations are included.
    pub fn attributes(&self) -> Attributes<'a> {
        Attributes {
            raw: self.attrs,
            pos: 0,
            at: self.attrs_at,
        }
    }
}

/// Iterator over a tag's attributes.
#[derive(Debug, Clone)]
pub struct Attributes<'a> {
    raw: &'a str,
    pos: usize,
    at: usize,
}

impl<'a> Iterator for Attributes<'a> {
    type Item = Result<(&'a str, Cow<'a, str>), XmlError>;

    fn next(&mut self) -> Option<Self::Item> {
        let raw = self.raw;
        let bytes = raw.as_bytes();
        let offset = self.at;
        let mut i = self.pos;
        while bytes.get(i).is_some_and(|&b| is_space(b)) {
            i += 1;
        }
        if i >= bytes.len() {
            self.pos = i;
            return None;
        }
        let name_start = i;
        while bytes.get(i).is_some_and(|&b| !ends_name(b)) {
            i += 1;
        }
        let name = slice(raw, name_start, i);
        while bytes.get(i).is_some_and(|&b| is_space(b)) {
            i += 1;
        }
        let mut fail = |at: usize, message: String| {
            self.pos = bytes.len();
            Some(Err(error(offset + at, message)))
        };
        if name.is_empty() || bytes.get(i) != Some(&b'=') {
            return fail(
                name_start,
                format!("malformed attribute {name:?}: expected name=\"value\""),
            );
        }
        i += 1;
        while bytes.get(i).is_some_and(|&b| is_space(b)) {
            i += 1;
        }
        let quote = match bytes.get(i) {
            Some(&q @ (b'"' | b'\'')) => q,
            _ => return fail(i, format!("attribute {name} has no quoted value")),
        };
        let value_start = i + 1;
        let Some(len) = memchr(quote, bytes.get(value_start..).unwrap_or_default()) else {
            return fail(i, format!("unterminated value of attribute {name}"));
        };
        self.pos = value_start + len + 1;
        let value = slice(raw, value_start, value_start + len);
        Some(decode(value, offset + value_start, true).map(|value| (name, value)))
    }
}

/// Resolves entity and character references; normalises `\r\n` and `\r` to `\n` (and, in
/// attribute values, tabs and line breaks to spaces, as XML 1.0 says).
#[inline(never)]
/// Text comes here only when [`plain`] found something to do (see [`Text::decode`]).
fn decode(raw: &str, at: usize, attribute: bool) -> Result<Cow<'_, str>, XmlError> {
    let bytes = raw.as_bytes();
    let special = |b: &[u8]| {
        if attribute {
            memchr3(b'&', b'\r', b'\n', b).or_else(|| memchr(b'\t', b))
        } else {
            memchr2(b'&', b'\r', b)
        }
    };
    let Some(first) = special(bytes) else {
        return Ok(Cow::Borrowed(raw));
    };
    let mut out = String::with_capacity(raw.len());
    out.push_str(slice(raw, 0, first));
    let mut i = first;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'&' => {
                let semi = memchr(b';', bytes.get(i..).unwrap_or_default())
                    .map(|n| i + n)
                    .ok_or_else(|| error(at + i, "'&' without a terminating ';'"))?;
                let name = slice(raw, i + 1, semi);
                out.push(
                    entity(name)
                        .ok_or_else(|| error(at + i, format!("unknown entity &{name};")))?,
                );
                i = semi + 1;
            }
            b'\r' => {
                out.push(if attribute { ' ' } else { '\n' });
                i += 1;
                if bytes.get(i) == Some(&b'\n') {
                    i += 1;
                }
            }
            b'\n' | b'\t' if attribute => {
                out.push(' ');
                i += 1;
            }
            _ => {
                let next =
                    special(bytes.get(i..).unwrap_or_default()).map_or(bytes.len(), |n| i + n);
                out.push_str(slice(raw, i, next));
                i = next;
            }
        }
    }
    Ok(Cow::Owned(out))
}

/// The character an entity or character reference (without `&` and `;`) stands for.
fn entity(name: &str) -> Option<char> {
    match name {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => {
            let code = name.strip_prefix('#')?;
            let value = match code.strip_prefix('x') {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => code.parse().ok()?,
            };
            char::from_u32(value).filter(|&c| c != '\0')
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn tokens(input: &str) -> Result<Vec<String>, XmlError> {
        let mut s = Scanner::new(input);
        let mut out = Vec::new();
        while let Some(t) = s.next_token()? {
            out.push(match t {
                Token::Start(t) => format!("start {} {} [{}]", t.name, t.local, t.attrs.trim()),
                Token::Empty(t) => format!("empty {} {} [{}]", t.name, t.local, t.attrs.trim()),
                Token::End(n) => format!("end {n}"),
                Token::Text(t) => format!("text {}", t.decode()?),
                Token::CData(c) => format!("cdata {c}"),
            });
        }
        Ok(out)
    }

    #[test]
    fn scans_elements_text_and_markup() {
        let doc = "<?xml version=\"1.0\"?>\n<!DOCTYPE r [<!ENTITY x \"y\">]>\n<rpc-reply xmlns:junos=\"http://xml.juniper.net/junos/\">\n  <!-- a > comment -->\n  <junos:a junos:style=\"brief\" q='>'>x &amp; y&#33;&#x3f;</junos:a >\n  <b/><c k=\"v\" /><![CDATA[<raw>]]>\n</rpc-reply>\n";
        assert_eq!(
            tokens(doc).unwrap(),
            [
                "start rpc-reply rpc-reply [xmlns:junos=\"http://xml.juniper.net/junos/\"]",
                "start junos:a a [junos:style=\"brief\" q='>']",
                "text x & y!?",
                "end a",
                "empty b b []",
                "empty c c [k=\"v\"]",
                "cdata <raw>",
                "end rpc-reply",
            ]
        );
    }

    #[test]
    fn text_borrows_unless_it_must_change() {
        let mut s = Scanner::new("<a>plain</a><b>x\r\ny\rz</b>");
        let Some(Token::Start(_)) = s.next_token().unwrap() else {
            unreachable!()
        };
        let Some(Token::Text(t)) = s.next_token().unwrap() else {
            unreachable!()
        };
        assert!(matches!(t.decode().unwrap(), Cow::Borrowed("plain")));
        assert_eq!(tokens("<b>x\r\ny\rz</b>").unwrap()[1], "text x\ny\nz");
    }

    #[test]
    fn attributes_are_decoded_and_normalised() {
        let mut s = Scanner::new("<a junos:seconds=\"5\" note='a&lt;b\tc' x = \"1\"/>");
        let Some(Token::Empty(tag)) = s.next_token().unwrap() else {
            unreachable!()
        };
        let attrs: Vec<(&str, String)> = tag
            .attributes()
            .map(|a| a.map(|(k, v)| (k, v.into_owned())))
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            attrs,
            [
                ("junos:seconds", "5".to_string()),
                ("note", "a<b c".to_string()),
                ("x", "1".to_string())
            ]
        );
        let mut s = Scanner::new("<a b=c/>");
        let Some(Token::Empty(tag)) = s.next_token().unwrap() else {
            unreachable!()
        };
        assert!(tag.attributes().next().unwrap().is_err());
    }

    #[test]
    fn malformed_documents_are_errors_with_positions() {
        for (doc, message) in [
            ("<a><b></a>", "expected </b>, found </a>"),
            (
                "<a><b>",
                "unexpected end of document: <b> and 1 more elements are not closed",
            ),
            ("</a>", "</a> closes no open element"),
            ("<a", "unterminated tag <a"),
            ("<a x=\"1>", "unterminated attribute value in <a"),
            ("<a><!-- x", "unterminated comment"),
            ("<a><![CDATA[x", "unterminated CDATA section"),
            ("<a>&bogus;</a>", "unknown entity &bogus;"),
            ("<a>&#xD800;</a>", "unknown entity &#xD800;"),
            ("<a>AT&T</a>", "'&' without a terminating ';'"),
            ("< a/>", "expected an element name after '<'"),
        ] {
            let err = tokens(doc).unwrap_err();
            assert_eq!(err.message, message, "{doc}");
        }
        assert_eq!(tokens("<a><b></a>").unwrap_err().position, 6);
    }

    #[test]
    fn word_helpers_match_bytewise_definitions() {
        let samples: [&[u8]; 9] = [
            b"l2ng-l2-mac-logical-interface>",
            b"junos:a junos:style=\"x\">",
            b"abcdefgh/>",
            b"a:b:c:d:e:f:g:h:i:j k",
            b"\xc3\xa9t\xc3\xa9:x\ty",
            b"        \n      x",
            b"   \n   <a>   x   <",
            b"0123456789012345678901234567890123456789012345678901234567890123456789012345<",
            b"                                                                          \n    <",
        ];
        for bytes in samples {
            for start in 0..bytes.len() {
                let mut end = start;
                let mut colon = None;
                while let Some(&b) = bytes.get(end) {
                    if ends_name(b) {
                        break;
                    }
                    if b == b':' {
                        colon = Some(end);
                    }
                    end += 1;
                }
                assert_eq!(
                    scan_name(bytes, start),
                    (end, colon),
                    "{bytes:?} from {start}"
                );
                let rest = &bytes[start..];
                let text_end = rest
                    .iter()
                    .position(|&b| b == b'<')
                    .map_or(bytes.len(), |n| start + n);
                let text = &bytes[start..text_end];
                assert_eq!(
                    scan_text(bytes, start),
                    (text_end, text.iter().all(|&b| b <= b' '))
                );
                assert!(same(rest, rest));
                assert!(!same(rest, &bytes[..rest.len()]) || rest == &bytes[..rest.len()]);
            }
        }
    }

    #[test]
    fn same_finds_a_difference_at_any_position() {
        let a: Vec<u8> = (0..40u8).map(|i| b'a' + i % 26).collect();
        for len in 0..a.len() {
            let x = &a[..len];
            assert!(same(x, x));
            assert!(!same(x, &a[..len.saturating_sub(1)]) || len == 0);
            for at in 0..len {
                let mut y = x.to_vec();
                y[at] ^= 0x20;
                assert!(!same(x, &y), "length {len}, difference at {at}");
            }
        }
    }

    #[test]
    fn local_names() {
        assert_eq!(local("junos:seconds"), "seconds");
        assert_eq!(local("seconds"), "seconds");
    }
}
