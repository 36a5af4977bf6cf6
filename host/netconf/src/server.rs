//! Server side, for device simulators: the server hello, incoming `<rpc>` parsing and
//! `<rpc-reply>` building.

use quick_xml::events::Event;

use crate::error::MessageError;
use crate::framing::Framing;
use crate::hello::{Hello, NETCONF_NS, negotiate};
use crate::rpc::RpcError;
use crate::xml::{self, XmlReader, local_name};

/// An `<rpc>` received by a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingRpc {
    attributes: Vec<(String, String)>,
    operation: String,
    operation_attributes: Vec<(String, String)>,
    inner_xml: String,
    arguments: Vec<(String, String)>,
}

impl IncomingRpc {
    /// Parses an `<rpc>` message.
    ///
    /// The operation is the single element inside `<rpc>`. Its direct children become the
    /// [`arguments`](Self::arguments): `<interface-name>ge-0/0/0</interface-name>` gives
    /// `("interface-name", "ge-0/0/0")`, a flag such as `<terse/>` gives `("terse", "")`.
    /// The text of nested elements is concatenated; use [`inner_xml`](Self::inner_xml) for
    /// structured arguments such as filters.
    pub fn parse(xml: &str) -> Result<Self, MessageError> {
        let mut reader = XmlReader::new(xml);
        let (root, empty) = reader.root("rpc")?;
        let attributes = xml::attributes(&root)?;
        if empty {
            return Err(MessageError::MissingOperation);
        }
        let mut rpc: Option<Self> = None;
        loop {
            let (start, op_empty) = match reader.next()? {
                Event::Start(e) => (e, false),
                Event::Empty(e) => (e, true),
                Event::End(_) => break,
                Event::Eof => return Err(reader.eof()),
                _ => continue,
            };
            if rpc.is_some() {
                return Err(MessageError::ExtraOperation(local_name(&start).to_owned()));
            }
            let mut parsed = Self {
                attributes: Vec::new(),
                operation: local_name(&start).to_owned(),
                operation_attributes: xml::attributes(&start)?,
                inner_xml: String::new(),
                arguments: Vec::new(),
            };
            if !op_empty {
                let inner_start = reader.position();
                let inner_end = parse_arguments(&mut reader, &mut parsed.arguments)?;
                parsed.inner_xml = reader.slice(inner_start, inner_end)?.to_owned();
            }
            rpc = Some(parsed);
        }
        reader.end_of_document()?;
        let mut rpc = rpc.ok_or(MessageError::MissingOperation)?;
        rpc.attributes = attributes;
        Ok(rpc)
    }

    /// The `message-id` attribute (RFC 6241 requires it; a server answers a request without
    /// one with an `missing-attribute` error).
    pub fn message_id(&self) -> Option<&str> {
        xml::attribute(&self.attributes, "message-id")
    }

    /// All attributes of `<rpc>` as (qualified name, value); a reply echoes them.
    pub fn attributes(&self) -> &[(String, String)] {
        &self.attributes
    }

    /// Local name of the operation element, e.g. `get-interface-information`.
    pub fn operation(&self) -> &str {
        &self.operation
    }

    /// Attributes of the operation element, e.g. `format="text"` on Junos `<command>`.
    pub fn operation_attributes(&self) -> &[(String, String)] {
        &self.operation_attributes
    }

    /// The raw inner XML of the operation element.
    pub fn inner_xml(&self) -> &str {
        &self.inner_xml
    }

    /// The direct children of the operation as (local name, trimmed text), in order.
    pub fn arguments(&self) -> &[(String, String)] {
        &self.arguments
    }

    /// The first argument named `name`.
    pub fn argument(&self, name: &str) -> Option<&str> {
        self.arguments
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    fn echoed<'s>(&'s self, extra: &[(&'s str, &'s str)]) -> Vec<(&'s str, &'s str)> {
        let mut attributes: Vec<(&str, &str)> = self
            .attributes
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        for &(name, value) in extra {
            if !attributes.iter().any(|(k, _)| *k == name) {
                attributes.push((name, value));
            }
        }
        attributes
    }

    /// An `<rpc-reply>` with `payload` (inserted as is) that echoes the attributes of the
    /// `<rpc>`, message-id included.
    pub fn reply(&self, payload: &str) -> String {
        build_rpc_reply(&self.echoed(&[]), payload)
    }

    /// Like [`reply`](Self::reply), with extra attributes on `<rpc-reply>` such as
    /// `xmlns:junos`. Attributes the `<rpc>` already had win.
    pub fn reply_with(&self, extra_attributes: &[(&str, &str)], payload: &str) -> String {
        build_rpc_reply(&self.echoed(extra_attributes), payload)
    }

    /// An `<rpc-reply><ok/></rpc-reply>`.
    pub fn ok_reply(&self) -> String {
        self.reply("<ok/>")
    }

    /// An `<rpc-reply>` holding `errors`.
    pub fn error_reply(&self, errors: &[RpcError]) -> String {
        build_error_reply(&self.echoed(&[]), errors)
    }
}

/// Reads the children of the operation element up to its end tag; returns the end tag's
/// position (the end of the inner XML).
fn parse_arguments(
    reader: &mut XmlReader<'_>,
    arguments: &mut Vec<(String, String)>,
) -> Result<usize, MessageError> {
    loop {
        let before = reader.position();
        match reader.next()? {
            Event::Start(e) => {
                let name = local_name(&e).to_owned();
                let value = reader.text_to_end()?;
                arguments.push((name, value.trim().to_owned()));
            }
            Event::Empty(e) => arguments.push((local_name(&e).to_owned(), String::new())),
            Event::End(_) => return Ok(before),
            Event::Eof => return Err(reader.eof()),
            _ => {}
        }
    }
}

/// Builds `<rpc-reply …attributes>payload</rpc-reply>`. Attributes are (name, unescaped
/// value); the NETCONF default namespace is added unless an `xmlns` attribute is given.
pub fn build_rpc_reply(attributes: &[(&str, &str)], payload: &str) -> String {
    let mut out = String::with_capacity(payload.len() + 128);
    out.push_str("<rpc-reply");
    if !attributes.iter().any(|(name, _)| *name == "xmlns") {
        xml::write_attribute(&mut out, "xmlns", NETCONF_NS);
    }
    for (name, value) in attributes {
        xml::write_attribute(&mut out, name, value);
    }
    out.push('>');
    out.push_str(payload);
    out.push_str("</rpc-reply>");
    out
}

/// Builds an `<rpc-reply>` holding one `<rpc-error>` per entry of `errors`.
pub fn build_error_reply(attributes: &[(&str, &str)], errors: &[RpcError]) -> String {
    let mut payload = String::new();
    for error in errors {
        error.write_xml(&mut payload);
    }
    build_rpc_reply(attributes, &payload)
}

/// The server half of the hello exchange.
#[derive(Debug, Clone)]
pub struct ServerSession {
    hello: Hello,
    peer: Option<Hello>,
    framing: Framing,
}

impl ServerSession {
    /// A session that offers [`Hello::server`] with `session_id` (base 1.0 and 1.1).
    pub fn new(session_id: u32) -> Self {
        Self::with_hello(Hello::server(session_id))
    }

    /// A session that offers `hello` (which should carry a session id).
    pub fn with_hello(hello: Hello) -> Self {
        Self {
            hello,
            peer: None,
            framing: Framing::EndOfMessage,
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

    /// Takes the client's hello (which must not carry a session id), negotiates and returns
    /// the framing for everything after the hellos.
    pub fn receive_hello(&mut self, xml: &str) -> Result<Framing, MessageError> {
        let peer = Hello::parse(xml)?;
        if peer.session_id().is_some() {
            return Err(MessageError::UnexpectedSessionId);
        }
        let framing = negotiate(&self.hello, &peer)?;
        self.framing = framing;
        self.peer = Some(peer);
        Ok(framing)
    }

    /// The client's hello, once received.
    pub fn peer_hello(&self) -> Option<&Hello> {
        self.peer.as_ref()
    }

    /// Our session id.
    pub fn session_id(&self) -> Option<u32> {
        self.hello.session_id()
    }

    /// The negotiated framing ([`Framing::EndOfMessage`] before the hello exchange).
    pub fn framing(&self) -> Framing {
        self.framing
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::{ClientSession, ReplyError, RpcReply, Severity};

    #[test]
    fn parses_a_junos_rpc_with_arguments() {
        let xml = r#"<rpc message-id="12" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">
  <get-interface-information>
    <terse/>
    <interface-name> ge-0/0/0 </interface-name>
    <instance>master</instance>
  </get-interface-information>
</rpc>"#;
        let rpc = IncomingRpc::parse(xml).unwrap();
        assert_eq!(rpc.message_id(), Some("12"));
        assert_eq!(rpc.operation(), "get-interface-information");
        assert_eq!(
            rpc.arguments(),
            [
                ("terse".to_owned(), String::new()),
                ("interface-name".to_owned(), "ge-0/0/0".to_owned()),
                ("instance".to_owned(), "master".to_owned()),
            ]
        );
        assert_eq!(rpc.argument("instance"), Some("master"));
        assert_eq!(rpc.argument("missing"), None);
        assert!(rpc.inner_xml().starts_with("\n    <terse/>"));
        assert!(rpc.inner_xml().ends_with("<instance>master</instance>\n  "));
    }

    #[test]
    fn parses_empty_prefixed_and_attributed_operations() {
        let rpc = IncomingRpc::parse(
            r#"<nc:rpc xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0" nc:message-id="a&amp;b"><get-software-information/></nc:rpc>"#,
        )
        .unwrap();
        assert_eq!(rpc.operation(), "get-software-information");
        assert_eq!(rpc.message_id(), Some("a&b"));
        assert!(rpc.arguments().is_empty());
        assert_eq!(rpc.inner_xml(), "");

        let rpc = IncomingRpc::parse(
            r#"<rpc message-id="3"><command format="text">show version &amp; more</command></rpc>"#,
        )
        .unwrap();
        assert_eq!(rpc.operation(), "command");
        assert_eq!(
            rpc.operation_attributes(),
            [("format".to_owned(), "text".to_owned())]
        );
        assert_eq!(rpc.inner_xml(), "show version &amp; more");
    }

    #[test]
    fn bad_rpcs_are_typed_errors() {
        assert_eq!(
            IncomingRpc::parse("<rpc/>").unwrap_err(),
            MessageError::MissingOperation
        );
        assert_eq!(
            IncomingRpc::parse("<rpc message-id=\"1\"> </rpc>").unwrap_err(),
            MessageError::MissingOperation
        );
        assert_eq!(
            IncomingRpc::parse("<rpc><a/><b/></rpc>").unwrap_err(),
            MessageError::ExtraOperation("b".into())
        );
        assert!(matches!(
            IncomingRpc::parse("<hello/>"),
            Err(MessageError::UnexpectedRoot {
                expected: "rpc",
                ..
            })
        ));
        assert!(matches!(
            IncomingRpc::parse("<rpc><get>"),
            Err(MessageError::Xml { .. })
        ));
        let rpc = IncomingRpc::parse("<rpc><get/></rpc>").unwrap();
        assert_eq!(rpc.message_id(), None);
    }

    #[test]
    fn replies_echo_message_id_and_attributes() {
        let rpc = IncomingRpc::parse(
            r#"<rpc message-id="7" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0" xmlns:ex="http://example.net/ex" ex:user-id="fred"><get/></rpc>"#,
        )
        .unwrap();
        let reply = rpc.reply_with(
            &[
                ("xmlns:junos", "http://xml.juniper.net/junos/21.4R0/junos"),
                ("message-id", "ignored"),
            ],
            "<data/>",
        );
        assert_eq!(
            reply,
            "<rpc-reply message-id=\"7\" xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\" \
             xmlns:ex=\"http://example.net/ex\" ex:user-id=\"fred\" \
             xmlns:junos=\"http://xml.juniper.net/junos/21.4R0/junos\"><data/></rpc-reply>"
        );
        let parsed = RpcReply::parse(reply).unwrap();
        assert_eq!(parsed.message_id(), Some("7"));
        assert_eq!(parsed.payload(), "<data/>");

        let ok = RpcReply::parse(rpc.ok_reply()).unwrap();
        assert!(ok.is_ok());
    }

    #[test]
    fn reply_without_xmlns_gets_the_netconf_namespace() {
        let rpc = IncomingRpc::parse("<rpc message-id=\"x&quot;y\"><get/></rpc>").unwrap();
        assert_eq!(
            rpc.reply("<a/>"),
            "<rpc-reply xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\" message-id=\"x&quot;y\"><a/></rpc-reply>"
        );
    }

    #[test]
    fn error_reply_round_trips_through_the_client() {
        let mut client = ClientSession::new();
        let request = client.rpc("<get-bgp-summary-information/>");
        let rpc = IncomingRpc::parse(request.xml()).unwrap();
        assert_eq!(rpc.operation(), "get-bgp-summary-information");
        let error = RpcError::new("protocol", "operation-failed", "BGP is not running <here>")
            .with_path("/bgp")
            .with_app_tag("app")
            .with_info("<bad-element>bgp</bad-element>");
        let warning = RpcError::new("application", "warning", "just so you know")
            .with_severity(Severity::Warning);
        let xml = rpc.error_reply(&[warning.clone(), error.clone()]);
        let Err(ReplyError::Rpc(reply)) = client.receive_reply(xml) else {
            panic!("expected an rpc error");
        };
        assert_eq!(reply.rpc_errors(), [warning, error]);
    }

    #[test]
    fn server_session_negotiates_and_rejects_client_session_id() {
        let mut server = ServerSession::new(9);
        assert_eq!(server.session_id(), Some(9));
        let client = ClientSession::new();
        assert_eq!(
            server.receive_hello(&client.hello_xml()).unwrap(),
            Framing::Chunked
        );
        assert_eq!(server.framing(), Framing::Chunked);
        assert_eq!(server.peer_hello(), Some(client.hello()));

        let mut server = ServerSession::new(9);
        assert_eq!(
            server
                .receive_hello(&Hello::server(3).to_xml())
                .unwrap_err(),
            MessageError::UnexpectedSessionId
        );
        let mut server = ServerSession::with_hello(Hello::new([crate::BASE_1_0], Some(1)));
        assert_eq!(
            server.receive_hello(&Hello::client().to_xml()).unwrap(),
            Framing::EndOfMessage
        );
    }
}
