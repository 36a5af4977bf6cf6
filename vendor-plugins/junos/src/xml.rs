//! A small read-only XML tree for Junos replies.
//!
//! Junos replies come in several dressings: with or without the `<rpc-reply>` wrapper, with
//! default namespaces and `junos:` prefixed attributes, or post-processed by PyEZ/ncclient
//! (`junos:style` becomes `style` or `junos_style`). The tree therefore works on **local
//! names** only: element `<junos:foo>` is `foo`, attribute `junos:seconds` is `seconds`.
//!
//! Design: one pass with quick-xml into an arena (`Vec<Node>`); element names are interned to
//! integers so lookups compare integers; text borrows from the input where no entity has to be
//! resolved. Text is trimmed on access (`<time-to-expire> 1031</time-to-expire>`).

use std::borrow::Cow;
use std::collections::HashMap;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

/// Index of a node in [`Doc::nodes`].
type NodeId = u32;
const NONE: NodeId = u32::MAX;

#[derive(Debug)]
struct Node<'a> {
    name: u32,
    text: Cow<'a, str>,
    attrs: Vec<(u32, String)>,
    first_child: NodeId,
    last_child: NodeId,
    next_sibling: NodeId,
}

/// A parsed XML document.
#[derive(Debug)]
pub struct Doc<'a> {
    nodes: Vec<Node<'a>>,
    names: HashMap<String, u32>,
    names_by_id: Vec<String>,
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

fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

impl<'a> Doc<'a> {
    /// Parses `input`. Fails on malformed XML (unclosed or mismatched tags, bad syntax).
    pub fn parse(input: &'a str) -> Result<Self, XmlError> {
        let mut doc = Doc {
            nodes: Vec::with_capacity(input.len() / 40),
            names: HashMap::new(),
            names_by_id: Vec::new(),
            root_children: Vec::new(),
        };
        let mut reader = Reader::from_str(input);
        reader.config_mut().check_end_names = true;
        let mut stack: Vec<NodeId> = Vec::with_capacity(32);
        let err = |reader: &Reader<&[u8]>, message: String| XmlError {
            position: reader.buffer_position(),
            message,
        };
        loop {
            let event = reader
                .read_event()
                .map_err(|e| err(&reader, e.to_string()))?;
            match event {
                Event::Start(e) => {
                    let id = doc.push_element(&e, &stack, &reader)?;
                    stack.push(id);
                }
                Event::Empty(e) => {
                    doc.push_element(&e, &stack, &reader)?;
                }
                Event::End(_) => {
                    stack.pop();
                }
                Event::Text(t) => {
                    if let Some(&top) = stack.last() {
                        let text = t.xml10_content();
                        doc.append_text(top, text);
                    }
                }
                Event::CData(c) => {
                    if let Some(&top) = stack.last() {
                        let text = c.xml10_content();
                        doc.append_text(top, text);
                    }
                }
                Event::GeneralRef(r) => {
                    if let Some(&top) = stack.last() {
                        let resolved = match r.resolve_char_ref() {
                            Ok(Some(c)) => c.to_string(),
                            Ok(None) => quick_xml::escape::resolve_predefined_entity(&r)
                                .map(str::to_string)
                                .ok_or_else(|| {
                                    err(&reader, format!("unknown entity &{};", &*r))
                                })?,
                            Err(e) => return Err(err(&reader, e.to_string())),
                        };
                        doc.append_text(top, Cow::Owned(resolved));
                    }
                }
                Event::Eof => break,
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
            }
        }
        if !stack.is_empty() {
            return Err(err(&reader, "unexpected end of document: unclosed elements".into()));
        }
        Ok(doc)
    }

    /// An empty document, to be filled through [`Doc::open`], [`Doc::attr`], [`Doc::text`]
    /// and [`Doc::close`] (used to load other encodings, such as Junos JSON, into the same tree).
    pub fn builder() -> Self {
        Doc {
            nodes: Vec::new(),
            names: HashMap::new(),
            names_by_id: Vec::new(),
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
        let key = local(name);
        let key = key.strip_prefix("junos_").unwrap_or(key);
        let key = self.intern(key);
        if let Some(&top) = stack.last() {
            self.node_mut(top).attrs.push((key, value.to_string()));
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
        stack.pop();
    }

    fn intern(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.names.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.insert(name.to_string(), id);
        self.names_by_id.push(name.to_string());
        id
    }

    fn push_element(
        &mut self,
        e: &BytesStart<'_>,
        stack: &[NodeId],
        reader: &Reader<&[u8]>,
    ) -> Result<NodeId, XmlError> {
        let name = self.intern(local(e.local_name().as_ref()));
        let mut attrs = Vec::new();
        for attr in e.attributes() {
            let attr = attr.map_err(|err| XmlError {
                position: reader.buffer_position(),
                message: err.to_string(),
            })?;
            let key = attr.key.as_ref();
            if key.starts_with("xmlns") {
                continue;
            }
            // PyEZ rewrites `junos:style` to `junos_style`; treat both as `style`.
            let key = local(key);
            let key = key.strip_prefix("junos_").unwrap_or(key);
            let key = self.intern(key);
            let value = attr
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|err| XmlError {
                    position: reader.buffer_position(),
                    message: err.to_string(),
                })?
                .into_owned();
            attrs.push((key, value));
        }
        Ok(self.link_new(name, attrs, stack))
    }

    fn link_new(&mut self, name: u32, attrs: Vec<(u32, String)>, stack: &[NodeId]) -> NodeId {
        let id = self.nodes.len() as NodeId;
        self.nodes.push(Node {
            name,
            text: Cow::Borrowed(""),
            attrs,
            first_child: NONE,
            last_child: NONE,
            next_sibling: NONE,
        });
        match stack.last() {
            Some(&parent) => {
                let last = self.node(parent).last_child;
                if last == NONE {
                    self.node_mut(parent).first_child = id;
                } else {
                    self.node_mut(last).next_sibling = id;
                }
                self.node_mut(parent).last_child = id;
            }
            None => self.root_children.push(id),
        }
        id
    }

    fn append_text(&mut self, id: NodeId, text: Cow<'a, str>) {
        let node = self.node_mut(id);
        if node.text.is_empty() {
            node.text = text;
        } else {
            node.text.to_mut().push_str(&text);
        }
    }

    // Node ids are only ever created by `push_element`, as indexes of the node just pushed, and
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
        self.names.get(name).copied()
    }

    /// The top-level elements (usually one).
    pub fn roots(&self) -> impl Iterator<Item = El<'_, 'a>> {
        self.root_children.iter().map(move |&id| El { doc: self, id })
    }

    /// The first top-level element.
    pub fn root(&self) -> Option<El<'_, 'a>> {
        self.roots().next()
    }

    /// Every element named `name`, in document order, at any depth.
    pub fn descendants(&self, name: &str) -> impl Iterator<Item = El<'_, 'a>> {
        let want = self.name_id(name);
        (0..self.nodes.len() as NodeId)
            .filter(move |&id| Some(self.node(id).name) == want)
            .map(move |id| El { doc: self, id })
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
        self.doc
            .names_by_id
            .get(id as usize)
            .map(String::as_str)
            .unwrap_or("")
    }

    /// True if the element's local name is `name`.
    pub fn is(&self, name: &str) -> bool {
        self.doc.name_id(name) == Some(self.doc.node(self.id).name)
    }

    /// The element's own text, trimmed (empty if none).
    pub fn text(&self) -> &'d str {
        self.doc.node(self.id).text.trim()
    }

    /// The value of attribute `name` (local name; `junos_` prefix stripped).
    pub fn attr(&self, name: &str) -> Option<&'d str> {
        let want = self.doc.name_id(name)?;
        self.doc
            .node(self.id)
            .attrs
            .iter()
            .find(|(k, _)| *k == want)
            .map(|(_, v)| v.as_str())
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

    /// The trimmed text of the first child named `name`, if that child exists.
    pub fn child_text(&self, name: &str) -> Option<&'d str> {
        self.child(name).map(|c| c.text())
    }

    /// The trimmed text of the first child named `name`, or `""`.
    pub fn text_of(&self, name: &str) -> &'d str {
        self.child_text(name).unwrap_or("")
    }

    /// Follows a `/`-separated path of child names (`bgp-option-information/holdtime`).
    pub fn path(&self, path: &str) -> Option<El<'d, 'a>> {
        path.split('/')
            .try_fold(*self, |el, step| el.child(step))
    }

    /// Every element named `name` below this one (not including itself), in document order.
    pub fn descendants(&self, name: &str) -> Vec<El<'d, 'a>> {
        let mut out = Vec::new();
        let Some(want) = self.doc.name_id(name) else {
            return out;
        };
        let mut stack = vec![self.doc.node(self.id).first_child];
        while let Some(mut id) = stack.pop() {
            while id != NONE {
                let node = self.doc.node(id);
                if node.name == want {
                    out.push(El { doc: self.doc, id });
                }
                if node.first_child != NONE {
                    // Visit the subtree before the next sibling, to keep document order.
                    stack.push(node.next_sibling);
                    id = node.first_child;
                    continue;
                }
                id = node.next_sibling;
            }
        }
        out
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
        assert_eq!(entry.child("time-to-expire").unwrap().attr("seconds"), Some("1031"));
        assert_eq!(entry.text_of("interface-name"), "spine-1 & co");
        assert_eq!(entry.children().count(), 3);
    }

    #[test]
    fn pyez_attribute_form_is_the_same() {
        let doc = Doc::parse(r#"<a junos_style="brief"><b seconds="4"/></a>"#).unwrap();
        assert_eq!(doc.root().unwrap().attr("style"), Some("brief"));
        assert_eq!(doc.root().unwrap().path("b").unwrap().attr("seconds"), Some("4"));
    }

    #[test]
    fn descendants_keep_document_order() {
        let doc = Doc::parse("<r><x><n>1</n><y><n>2</n></y></x><n>3</n></r>").unwrap();
        let root = doc.root().unwrap();
        let got: Vec<_> = root.descendants("n").iter().map(|e| e.text()).collect();
        assert_eq!(got, ["1", "2", "3"]);
        let got: Vec<_> = doc.descendants("n").map(|e| e.text()).collect();
        assert_eq!(got, ["1", "2", "3"]);
    }

    #[test]
    fn malformed_xml_is_an_error() {
        assert!(Doc::parse("<a><b></a>").is_err());
        assert!(Doc::parse("<a><b>").is_err());
    }
}
