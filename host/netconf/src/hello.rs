//! The `<hello>` exchange (RFC 6241 §8.1) and framing negotiation (RFC 6242 §4.1).

use quick_xml::events::Event;

use crate::error::MessageError;
use crate::framing::Framing;
use crate::xml::{XmlReader, local_name, write_text_element};

/// Capability of NETCONF 1.0 (end-of-message framing).
pub const BASE_1_0: &str = "urn:ietf:params:netconf:base:1.0";
/// Capability of NETCONF 1.1 (chunked framing).
pub const BASE_1_1: &str = "urn:ietf:params:netconf:base:1.1";
/// The NETCONF XML namespace, used by `<hello>`, `<rpc>` and `<rpc-reply>`.
pub const NETCONF_NS: &str = "urn:ietf:params:xml:ns:netconf:base:1.0";

/// A `<hello>` message: the capabilities a peer offers and, from a server, the session id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hello {
    capabilities: Vec<String>,
    session_id: Option<u32>,
}

impl Hello {
    /// A hello with the given capabilities and session id.
    pub fn new(
        capabilities: impl IntoIterator<Item = impl Into<String>>,
        session_id: Option<u32>,
    ) -> Self {
        Self {
            capabilities: capabilities.into_iter().map(Into::into).collect(),
            session_id,
        }
    }

    /// The client hello nbfacts sends: base 1.0 and base 1.1, no session id.
    pub fn client() -> Self {
        Self::new([BASE_1_0, BASE_1_1], None)
    }

    /// A server hello offering base 1.0 and base 1.1 with `session_id`.
    pub fn server(session_id: u32) -> Self {
        Self::new([BASE_1_0, BASE_1_1], Some(session_id))
    }

    /// Adds a capability.
    #[must_use]
    pub fn with_capability(mut self, uri: impl Into<String>) -> Self {
        self.capabilities.push(uri.into());
        self
    }

    /// The capability URIs, in the order given.
    pub fn capabilities(&self) -> &[String] {
        &self.capabilities
    }

    /// The session id (present in a server hello only).
    pub fn session_id(&self) -> Option<u32> {
        self.session_id
    }

    /// Whether the hello lists `uri`. Parameters after `?` in the listed URI are ignored, so
    /// `urn:ietf:params:netconf:capability:with-defaults:1.0?basic-mode=explicit` matches
    /// `urn:ietf:params:netconf:capability:with-defaults:1.0`.
    pub fn has_capability(&self, uri: &str) -> bool {
        self.capabilities
            .iter()
            .any(|c| c == uri || c.split_once('?').is_some_and(|(base, _)| base == uri))
    }

    /// The hello as an XML document (without framing).
    pub fn to_xml(&self) -> String {
        let mut out = String::from(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
        out.push_str("\n<hello xmlns=\"");
        out.push_str(crate::hello::NETCONF_NS);
        out.push_str("\">\n  <capabilities>\n");
        for capability in &self.capabilities {
            out.push_str("    ");
            write_text_element(&mut out, "capability", capability);
            out.push('\n');
        }
        out.push_str("  </capabilities>\n");
        if let Some(id) = self.session_id {
            out.push_str("  ");
            write_text_element(&mut out, "session-id", &id.to_string());
            out.push('\n');
        }
        out.push_str("</hello>\n");
        out
    }

    /// Parses a `<hello>` message. Capability URIs and the session id are trimmed of
    /// surrounding whitespace; unknown elements are ignored.
    pub fn parse(xml: &str) -> Result<Self, MessageError> {
        let mut reader = XmlReader::new(xml);
        let (_, empty) = reader.root("hello")?;
        let mut hello = Self::new(Vec::<String>::new(), None);
        if !empty {
            loop {
                match reader.next()? {
                    Event::Start(e) => match local_name(&e) {
                        "capabilities" => parse_capabilities(&mut reader, &mut hello.capabilities)?,
                        "session-id" => {
                            let text = reader.text_to_end()?;
                            let id = text.trim();
                            hello.session_id = Some(
                                id.parse()
                                    .map_err(|_| MessageError::BadSessionId(id.to_owned()))?,
                            );
                        }
                        _ => {
                            reader.skip_to_end(&e)?;
                        }
                    },
                    Event::End(_) => break,
                    Event::Eof => return Err(reader.eof()),
                    _ => {}
                }
            }
        }
        reader.end_of_document()?;
        Ok(hello)
    }
}

fn parse_capabilities(
    reader: &mut XmlReader<'_>,
    out: &mut Vec<String>,
) -> Result<(), MessageError> {
    loop {
        match reader.next()? {
            Event::Start(e) if local_name(&e) == "capability" => {
                out.push(reader.text_to_end()?.trim().to_owned());
            }
            Event::Start(e) => {
                reader.skip_to_end(&e)?;
            }
            Event::End(_) => return Ok(()),
            Event::Eof => return Err(reader.eof()),
            _ => {}
        }
    }
}

/// The framing both sides use after exchanging hellos: chunked when both offer base 1.1,
/// end-of-message when both offer base 1.0 (and not both 1.1), otherwise
/// [`MessageError::NoCommonBase`].
pub fn negotiate(local: &Hello, peer: &Hello) -> Result<Framing, MessageError> {
    if local.has_capability(BASE_1_1) && peer.has_capability(BASE_1_1) {
        Ok(Framing::Chunked)
    } else if local.has_capability(BASE_1_0) && peer.has_capability(BASE_1_0) {
        Ok(Framing::EndOfMessage)
    } else {
        let bases: Vec<&str> = peer
            .capabilities
            .iter()
            .map(String::as_str)
            .filter(|c| c.starts_with("urn:ietf:params:netconf:base:"))
            .collect();
        Err(MessageError::NoCommonBase {
            peer: bases.join(", "),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JUNOS_HELLO: &str = r#"<!-- No zombies were killed during the creation of this user interface -->
<!-- user nbfacts, class j-super-user -->
<hello xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">
  <capabilities>
    <capability>urn:ietf:params:netconf:base:1.0</capability>
    <capability>urn:ietf:params:netconf:capability:candidate:1.0</capability>
    <capability>urn:ietf:params:netconf:capability:url:1.0?scheme=http,ftp,file</capability>
    <capability>urn:ietf:params:xml:ns:netconf:capability:with-defaults:1.0?basic-mode=explicit&amp;also-supported=report-all</capability>
    <capability>http://xml.juniper.net/netconf/junos/1.0</capability>
  </capabilities>
  <session-id>27351</session-id>
</hello>
"#;

    #[test]
    fn parses_a_junos_server_hello() {
        let hello = Hello::parse(JUNOS_HELLO).unwrap();
        assert_eq!(hello.session_id(), Some(27351));
        assert_eq!(hello.capabilities().len(), 5);
        assert_eq!(hello.capabilities()[0], BASE_1_0);
        assert_eq!(
            hello.capabilities()[3],
            "urn:ietf:params:xml:ns:netconf:capability:with-defaults:1.0?basic-mode=explicit&also-supported=report-all"
        );
        assert!(hello.has_capability("urn:ietf:params:netconf:capability:url:1.0"));
        assert!(!hello.has_capability(BASE_1_1));
    }

    #[test]
    fn prefixed_hello_with_whitespace_around_values() {
        let xml = "<?xml version=\"1.0\"?><nc:hello xmlns:nc=\"urn:ietf:params:xml:ns:netconf:base:1.0\">\
                   <nc:capabilities><nc:capability>\n  urn:ietf:params:netconf:base:1.1\n</nc:capability>\
                   </nc:capabilities><nc:session-id> 7 </nc:session-id></nc:hello>";
        let hello = Hello::parse(xml).unwrap();
        assert_eq!(hello.capabilities(), [BASE_1_1]);
        assert_eq!(hello.session_id(), Some(7));
    }

    #[test]
    fn client_and_server_hellos_round_trip() {
        let client = Hello::client();
        let parsed = Hello::parse(&client.to_xml()).unwrap();
        assert_eq!(parsed, client);
        assert_eq!(parsed.session_id(), None);

        let server = Hello::server(42).with_capability("urn:x?a=1&b=<2>");
        let xml = server.to_xml();
        assert!(xml.contains("<session-id>42</session-id>"));
        assert!(xml.contains("a=1&amp;b=&lt;2&gt;"));
        assert_eq!(Hello::parse(&xml).unwrap(), server);
    }

    #[test]
    fn negotiation_picks_chunked_only_when_both_offer_1_1() {
        let both = Hello::client();
        let only_1_0 = Hello::new([BASE_1_0], Some(1));
        let only_1_1 = Hello::new([BASE_1_1], Some(1));
        assert_eq!(
            negotiate(&both, &Hello::server(1)).unwrap(),
            Framing::Chunked
        );
        assert_eq!(negotiate(&both, &only_1_0).unwrap(), Framing::EndOfMessage);
        assert_eq!(negotiate(&only_1_0, &both).unwrap(), Framing::EndOfMessage);
        assert_eq!(negotiate(&both, &only_1_1).unwrap(), Framing::Chunked);
        assert_eq!(
            negotiate(&only_1_0, &only_1_1).unwrap_err(),
            MessageError::NoCommonBase {
                peer: BASE_1_1.to_owned()
            }
        );
        let none = Hello::new(["urn:other"], Some(1));
        assert!(matches!(
            negotiate(&both, &none),
            Err(MessageError::NoCommonBase { .. })
        ));
    }

    #[test]
    fn bad_hellos_are_typed_errors() {
        assert_eq!(
            Hello::parse("<hello><session-id>abc</session-id></hello>").unwrap_err(),
            MessageError::BadSessionId("abc".into())
        );
        assert_eq!(
            Hello::parse("<hello><session-id>4294967296</session-id></hello>").unwrap_err(),
            MessageError::BadSessionId("4294967296".into())
        );
        assert!(matches!(
            Hello::parse("<rpc-reply/>"),
            Err(MessageError::UnexpectedRoot {
                expected: "hello",
                ..
            })
        ));
        assert_eq!(Hello::parse("  ").unwrap_err(), MessageError::NoRootElement);
        assert!(matches!(
            Hello::parse("<hello><capabilities>"),
            Err(MessageError::Xml { .. })
        ));
        assert_eq!(
            Hello::parse("<hello/><hello/>").unwrap_err(),
            MessageError::TrailingContent
        );
        assert!(matches!(
            Hello::parse("<hello><capabilities><capability>&bogus;</capability></capabilities></hello>"),
            Err(MessageError::UnknownEntity(e)) if e == "bogus"
        ));
    }

    #[test]
    fn empty_hello_has_no_capabilities() {
        let hello = Hello::parse("<hello/>").unwrap();
        assert!(hello.capabilities().is_empty());
        assert_eq!(hello.session_id(), None);
    }
}
