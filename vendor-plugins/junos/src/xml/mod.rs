//! A small read-only XML tree for Junos replies.
//!
//! Junos replies come in several dressings: with or without the `<rpc-reply>` wrapper, with
//! default namespaces and `junos:` prefixed attributes, or post-processed by PyEZ/ncclient
//! (`junos:style` becomes `style` or `junos_style`). The tree therefore works on **local
//! names** only: element `<junos:foo>` is `foo`, attribute `junos:seconds` is `seconds`.
//!
//! Design: one pass with the [`Scanner`] into an arena (`Vec<Node>`) in document (pre-)order; element
//! names are interned to integers (with a small non-cryptographic hash) so lookups compare
//! integers; text and attribute values borrow from the input where no entity or line-ending
//! normalisation has to be applied. Text is trimmed on access
//! (`<time-to-expire> 1031</time-to-expire>`). Because the arena is in document order, the
//! descendants of an element are the contiguous range of nodes up to the end of its subtree,
//! so [`El::descendants_named`] needs no allocation and no recursion. Whitespace-only text
//! between child elements (indentation) is not kept, so containers cost no text allocation.

use std::borrow::Cow;
mod names;
mod scan;

use names::Names;

pub use scan::{Scanner, Tag, Text, Token, local, name_is};

/// Index of a node in [`Doc::nodes`].
type NodeId = u32;
const NONE: NodeId = u32::MAX;

#[derive(Debug)]
struct Node<'a> {
    name: u32,
    text: Cow<'a, str>,
    attrs: Vec<(u32, Cow<'a, str>)>,
    parent: NodeId,
    first_child: NodeId,
    last_child: NodeId,
    next_sibling: NodeId,
    /// One past the last node of this element's subtree; `NONE` while the element is open.
    end: NodeId,
}

/// A parsed XML document.
#[derive(Debug)]
pub struct Doc<'a> {
    nodes: Vec<Node<'a>>,
    names: Names<'a>,
    root_children: Vec<NodeId>,
}

/// An XML syntax error, with the byte offset where it was found.
#[derive(Debug, Clone, PartialEq)]
pub struct XmlError {
    /// Byte offset in the input.
    pub position: u64,
    /// What was wrong.
    pub message: String,
}

impl std::fmt::Display for XmlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (at byte {})", self.message, self.position)
    }
}

/// `str::trim`, answered without decoding characters when `text` starts and ends with
/// printable ASCII (nearly every value: `str::trim` is a per-character loop).
fn trim(text: &str) -> &str {
    let printable = |b: Option<&u8>| b.is_some_and(|&b| b > b' ' && b < 0x7f);
    let bytes = text.as_bytes();
    if printable(bytes.first()) && printable(bytes.last()) {
        text
    } else {
        text.trim()
    }
}

/// Attribute names lose their prefix, and PyEZ's `junos_` rewrite is undone.
fn attr_key(name: &str) -> &str {
    let key = local(name);
    key.strip_prefix("junos_").unwrap_or(key)
}

impl<'a> Doc<'a> {
    /// Parses `input`. Fails on malformed XML (unclosed or mismatched tags, bad syntax).
    pub fn parse(input: &'a str) -> Result<Self, XmlError> {
        let mut doc = Doc {
            nodes: Vec::with_capacity(input.len() / 40),
            names: Names::with_capacity(48),
            root_children: Vec::new(),
        };
        let mut scanner = Scanner::new(input);
        let mut stack: Vec<NodeId> = Vec::with_capacity(32);
        while let Some(token) = scanner.next_token()? {
            match token {
                Token::Start(tag) => {
                    let id = doc.push_element(&tag, &stack)?;
                    stack.push(id);
                }
                Token::Empty(tag) => {
                    let id = doc.push_element(&tag, &stack)?;
                    doc.finish(id);
                }
                Token::End(_) => {
                    if let Some(id) = stack.pop() {
                        doc.finish(id);
                    }
                }
                Token::Text(text) => {
                    if let Some(&top) = stack.last() {
                        doc.append_text(top, text.decode()?);
                    }
                }
                Token::CData(text) => {
                    if let Some(&top) = stack.last() {
                        doc.append_text(top, Cow::Borrowed(text));
                    }
                }
            }
        }
        Ok(doc)
    }

    /// An empty document, to be filled through [`Doc::open`], [`Doc::attr`], [`Doc::text`]
    /// and [`Doc::close`] (used to load other encodings, such as Junos JSON, into the same tree).
    pub fn builder() -> Self {
        Doc {
            nodes: Vec::new(),
            names: Names::with_capacity(16),
            root_children: Vec::new(),
        }
    }

    /// Builder: opens element `name` under the element on top of `stack` and pushes it.
    pub fn open(&mut self, stack: &mut Vec<u32>, name: &str) {
        let name = self.intern(local(name));
        let id = self.link_new(name, Vec::new(), stack);
        stack.push(id);
    }

    /// Builder: adds an attribute to the element on top of `stack`.
    pub fn attr(&mut self, stack: &[u32], name: &str, value: &str) {
        let key = self.intern(attr_key(name));
        if let Some(&top) = stack.last() {
            self.node_mut(top)
                .attrs
                .push((key, Cow::Owned(value.to_string())));
        }
    }

    /// Builder: appends text to the element on top of `stack`.
    pub fn text(&mut self, stack: &[u32], text: Cow<'a, str>) {
        if let Some(&top) = stack.last() {
            self.append_text(top, text);
        }
    }

    /// Builder: closes the element on top of `stack`.
    pub fn close(&mut self, stack: &mut Vec<u32>) {
        if let Some(id) = stack.pop() {
            self.finish(id);
        }
    }

    fn intern(&mut self, name: &str) -> u32 {
        match self.names.get(name) {
            Some(id) => id,
            None => self.names.intern(Cow::Owned(name.to_string())),
        }
    }

    /// Like [`Doc::intern`] for a name that lives in the input: no copy is made.
    fn intern_borrowed(&mut self, name: &'a str) -> u32 {
        self.names.intern(Cow::Borrowed(name))
    }

    fn push_element(&mut self, tag: &Tag<'a>, stack: &[NodeId]) -> Result<NodeId, XmlError> {
        let name = self.intern_borrowed(tag.local);
        let mut attrs = Vec::new();
        for attr in tag.attributes() {
            let (key, value) = attr?;
            if key.starts_with("xmlns") {
                continue;
            }
            // PyEZ rewrites `junos:style` to `junos_style`; treat both as `style`.
            let key = self.intern_borrowed(attr_key(key));
            attrs.push((key, value));
        }
        Ok(self.link_new(name, attrs, stack))
    }

    fn link_new(&mut self, name: u32, attrs: Vec<(u32, Cow<'a, str>)>, stack: &[NodeId]) -> NodeId {
        let id = self.nodes.len() as NodeId;
        let parent = stack.last().copied().unwrap_or(NONE);
        self.nodes.push(Node {
            name,
            text: Cow::Borrowed(""),
            attrs,
            parent,
            first_child: NONE,
            last_child: NONE,
            next_sibling: NONE,
            end: NONE,
        });
        if parent == NONE {
            self.root_children.push(id);
        } else {
            let last = self.node(parent).last_child;
            if last == NONE {
                self.node_mut(parent).first_child = id;
            } else {
                self.node_mut(last).next_sibling = id;
            }
            self.node_mut(parent).last_child = id;
        }
        id
    }

    /// Marks the element `id` closed: its subtree ends at the current end of the arena.
    fn finish(&mut self, id: NodeId) {
        let end = self.nodes.len() as NodeId;
        self.node_mut(id).end = end;
    }

    fn append_text(&mut self, id: NodeId, text: Cow<'a, str>) {
        let node = self.node_mut(id);
        let blank = trim(&text).is_empty();
        if trim(&node.text).is_empty() {
            // Nothing meaningful yet: keep the new chunk (borrowed, no copy) unless it is only
            // indentation between child elements.
            if !blank || node.text.is_empty() {
                node.text = text;
            }
        } else if !blank || matches!(node.text, Cow::Owned(_)) {
            // Real text in several chunks (around entity references): concatenate. A blank
            // chunk after borrowed text can only be indentation after a child element.
            node.text.to_mut().push_str(&text);
        }
    }

    // Node ids are only ever created by `link_new`, as indexes of the node just pushed, and
    // nodes are never removed, so every id in the tree is in range.
    #[allow(clippy::indexing_slicing)]
    fn node(&self, id: NodeId) -> &Node<'a> {
        &self.nodes[id as usize]
    }

    #[allow(clippy::indexing_slicing)]
    fn node_mut(&mut self, id: NodeId) -> &mut Node<'a> {
        &mut self.nodes[id as usize]
    }

    fn name_id(&self, name: &str) -> Option<u32> {
        self.names.get(name)
    }

    /// Number of elements in the document.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when the document has no element.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The top-level elements (usually one).
    pub fn roots(&self) -> impl Iterator<Item = El<'_, 'a>> {
        self.root_children
            .iter()
            .map(move |&id| El { doc: self, id })
    }

    /// The first top-level element.
    pub fn root(&self) -> Option<El<'_, 'a>> {
        self.roots().next()
    }

    /// Every element named `name`, in document order, at any depth.
    pub fn descendants(&self, name: &str) -> impl Iterator<Item = El<'_, 'a>> {
        Named {
            doc: self,
            want: self.name_id(name),
            next: 0,
            end: self.nodes.len() as NodeId,
        }
    }

    /// The first element named `name`, at any depth.
    pub fn find(&self, name: &str) -> Option<El<'_, 'a>> {
        self.descendants(name).next()
    }
}

/// An element of a [`Doc`].
#[derive(Clone, Copy)]
pub struct El<'d, 'a> {
    doc: &'d Doc<'a>,
    id: NodeId,
}

impl std::fmt::Debug for El<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<{}>", self.name())
    }
}

impl<'d, 'a> El<'d, 'a> {
    /// The local name.
    pub fn name(&self) -> &'d str {
        let id = self.doc.node(self.id).name;
        self.doc.names.name(id).unwrap_or("")
    }

    /// True if the element's local name is `name`.
    pub fn is(&self, name: &str) -> bool {
        self.doc.name_id(name) == Some(self.doc.node(self.id).name)
    }

    /// The element's own text, trimmed (empty if none).
    pub fn text(&self) -> &'d str {
        trim(&self.doc.node(self.id).text)
    }

    /// The value of attribute `name` (local name; `junos_` prefix stripped).
    pub fn attr(&self, name: &str) -> Option<&'d str> {
        let want = self.doc.name_id(name)?;
        self.doc
            .node(self.id)
            .attrs
            .iter()
            .find(|(k, _)| *k == want)
            .map(|(_, v)| v.as_ref())
    }

    /// The parent element (`None` for a top-level element).
    pub fn parent(&self) -> Option<El<'d, 'a>> {
        let parent = self.doc.node(self.id).parent;
        (parent != NONE).then_some(El {
            doc: self.doc,
            id: parent,
        })
    }

    /// The child elements, in order.
    pub fn children(&self) -> Children<'d, 'a> {
        Children {
            doc: self.doc,
            next: self.doc.node(self.id).first_child,
            want: None,
            any: true,
        }
    }

    /// The child elements named `name`, in order.
    pub fn children_named(&self, name: &str) -> Children<'d, 'a> {
        let want = self.doc.name_id(name);
        Children {
            doc: self.doc,
            next: if want.is_some() {
                self.doc.node(self.id).first_child
            } else {
                NONE
            },
            want,
            any: false,
        }
    }

    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<El<'d, 'a>> {
        self.children_named(name).next()
    }

    /// True when the element has a child named `name` (`<peer-addpath-not-supported/>`).
    pub fn has_child(&self, name: &str) -> bool {
        self.child(name).is_some()
    }

    /// The trimmed text of the first child named `name`, if that child exists.
    pub fn child_text(&self, name: &str) -> Option<&'d str> {
        self.child(name).map(|c| c.text())
    }

    /// The trimmed text of the first child named `name`, or `""`.
    pub fn text_of(&self, name: &str) -> &'d str {
        self.child_text(name).unwrap_or("")
    }

    /// The trimmed text of the first child named `name` if it is not empty.
    pub fn nonempty(&self, name: &str) -> Option<&'d str> {
        self.child_text(name).filter(|t| !t.is_empty())
    }

    /// Follows a `/`-separated path of child names (`bgp-option-information/holdtime`).
    pub fn path(&self, path: &str) -> Option<El<'d, 'a>> {
        path.split('/').try_fold(*self, |el, step| el.child(step))
    }

    /// Every element named `name` below this one (not including itself), in document order.
    pub fn descendants(&self, name: &str) -> Vec<El<'d, 'a>> {
        self.descendants_named(name).collect()
    }

    /// Like [`El::descendants`], as an iterator that does not allocate.
    pub fn descendants_named(&self, name: &str) -> Named<'d, 'a> {
        let node = self.doc.node(self.id);
        let end = if node.end == NONE {
            self.doc.nodes.len() as NodeId
        } else {
            node.end
        };
        Named {
            doc: self.doc,
            want: self.doc.name_id(name),
            next: self.id + 1,
            end,
        }
    }

    /// The first element named `name` below this one.
    pub fn find(&self, name: &str) -> Option<El<'d, 'a>> {
        self.descendants_named(name).next()
    }
}

/// Iterator over child elements.
#[derive(Debug)]
pub struct Children<'d, 'a> {
    doc: &'d Doc<'a>,
    next: NodeId,
    want: Option<u32>,
    any: bool,
}

impl<'d, 'a> Iterator for Children<'d, 'a> {
    type Item = El<'d, 'a>;

    fn next(&mut self) -> Option<Self::Item> {
        while self.next != NONE {
            let id = self.next;
            let node = self.doc.node(id);
            self.next = node.next_sibling;
            if self.any || Some(node.name) == self.want {
                return Some(El { doc: self.doc, id });
            }
        }
        None
    }
}

/// Iterator over the elements with one name in a range of the arena (a subtree or the whole
/// document), in document order.
#[derive(Debug)]
pub struct Named<'d, 'a> {
    doc: &'d Doc<'a>,
    want: Option<u32>,
    next: NodeId,
    end: NodeId,
}

impl<'d, 'a> Iterator for Named<'d, 'a> {
    type Item = El<'d, 'a>;

    fn next(&mut self) -> Option<Self::Item> {
        let want = self.want?;
        let end = (self.end as usize).min(self.doc.nodes.len());
        let start = self.next as usize;
        let found = self
            .doc
            .nodes
            .get(start..end)?
            .iter()
            .position(|n| n.name == want);
        match found {
            Some(offset) => {
                let id = (start + offset) as NodeId;
                self.next = id + 1;
                Some(El { doc: self.doc, id })
            }
            None => {
                self.next = self.end;
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_names_attributes_and_trimmed_text() {
        let xml = r#"<rpc-reply xmlns:junos="http://xml.juniper.net/junos/21.4R0/junos">
  <arp-table-information xmlns="http://xml.juniper.net/junos/21.4R0/junos-arp" junos:style="no-resolve">
    <arp-table-entry>
      <mac-address>00:0c:29:aa:bb:cc</mac-address>
      <time-to-expire junos:seconds="1031"> 1031</time-to-expire>
      <interface-name>spine-1 &amp; co</interface-name>
    </arp-table-entry>
  </arp-table-information>
</rpc-reply>"#;
        let doc = Doc::parse(xml).unwrap();
        let table = doc.find("arp-table-information").unwrap();
        assert_eq!(table.attr("style"), Some("no-resolve"));
        let entry = table.child("arp-table-entry").unwrap();
        assert_eq!(entry.text_of("time-to-expire"), "1031");
        assert_eq!(
            entry.child("time-to-expire").unwrap().attr("seconds"),
            Some("1031")
        );
        assert_eq!(entry.text_of("interface-name"), "spine-1 & co");
        assert_eq!(entry.children().count(), 3);
        assert_eq!(entry.parent().unwrap().name(), "arp-table-information");
        assert!(doc.root().unwrap().parent().is_none());
    }

    #[test]
    fn pyez_attribute_form_is_the_same() {
        let doc = Doc::parse(r#"<a junos_style="brief"><b seconds="4"/></a>"#).unwrap();
        assert_eq!(doc.root().unwrap().attr("style"), Some("brief"));
        assert_eq!(
            doc.root().unwrap().path("b").unwrap().attr("seconds"),
            Some("4")
        );
    }

    #[test]
    fn descendants_keep_document_order_and_stay_in_the_subtree() {
        let doc = Doc::parse("<r><x><n>1</n><y><n>2</n></y></x><n>3</n></r>").unwrap();
        let root = doc.root().unwrap();
        let got: Vec<_> = root.descendants("n").iter().map(|e| e.text()).collect();
        assert_eq!(got, ["1", "2", "3"]);
        let got: Vec<_> = doc.descendants("n").map(|e| e.text()).collect();
        assert_eq!(got, ["1", "2", "3"]);
        let x = root.child("x").unwrap();
        let got: Vec<_> = x.descendants_named("n").map(|e| e.text()).collect();
        assert_eq!(got, ["1", "2"]);
        assert_eq!(x.find("n").unwrap().text(), "1");
        assert!(x.find("missing").is_none());
        let empty = Doc::parse("<r><e/><n>4</n></r>").unwrap();
        let e = empty.root().unwrap().child("e").unwrap();
        assert_eq!(e.descendants_named("n").count(), 0);
    }

    #[test]
    fn text_around_entities_and_indentation() {
        let doc = Doc::parse(
            "<r>\n  <a>&lt; &gt;</a>\n  <b>x &amp; y</b>\n  <c>\n    <d/>\n  </c>\n</r>",
        )
        .unwrap();
        let r = doc.root().unwrap();
        assert_eq!(r.text_of("a"), "< >");
        assert_eq!(r.text_of("b"), "x & y");
        assert_eq!(r.text_of("c"), "");
        assert_eq!(r.text(), "");
    }

    #[test]
    fn builder_builds_the_same_tree() {
        let mut doc = Doc::builder();
        let mut stack = Vec::new();
        doc.open(&mut stack, "junos:r");
        doc.attr(&stack, "junos:style", "brief");
        doc.open(&mut stack, "n");
        doc.text(&stack, Cow::Borrowed("1"));
        doc.close(&mut stack);
        doc.close(&mut stack);
        let r = doc.root().unwrap();
        assert_eq!(r.name(), "r");
        assert_eq!(r.attr("style"), Some("brief"));
        assert_eq!(r.descendants("n").len(), 1);
        assert_eq!(doc.len(), 2);
    }

    #[test]
    fn malformed_xml_is_an_error() {
        assert!(Doc::parse("<a><b></a>").is_err());
        assert!(Doc::parse("<a><b>").is_err());
    }
}
