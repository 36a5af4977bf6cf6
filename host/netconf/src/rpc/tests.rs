use super::*;
use crate::error::Error;
use crate::framing::{Decoder, Encoder, FramingError};
use crate::server::{IncomingRpc, ServerSession};

const JUNOS_REPLY: &str = r#"<rpc-reply xmlns="urn:ietf:params:xml:ns:netconf:base:1.0" xmlns:junos="http://xml.juniper.net/junos/21.4R0/junos" message-id="1">
<lldp-neighbors-information junos:style="brief">
<lldp-neighbor-information>
<lldp-local-port-id>ge-0/0/0</lldp-local-port-id>
<lldp-remote-system-name>r2 &amp; co &#x41;</lldp-remote-system-name>
<!-- comment kept -->
<descr><![CDATA[<raw> & stuff]]></descr>
<time junos:seconds="300">  5 min  </time>
</lldp-neighbor-information>
</lldp-neighbors-information>
</rpc-reply>"#;

fn payload_between_tags(xml: &str) -> &str {
    let open = xml.find("<rpc-reply").unwrap();
    let start = open + xml[open..].find('>').unwrap() + 1;
    let end = xml.rfind("</rpc-reply>").unwrap();
    &xml[start..end]
}

#[test]
fn rpcs_get_increasing_message_ids() {
    let mut client = ClientSession::new();
    let first = client.rpc("<get-lldp-neighbors-information/>");
    let second = client.rpc("<get-interface-information><terse/></get-interface-information>");
    let close = client.close_session();
    assert_eq!(
        first.xml(),
        r#"<rpc message-id="1" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><get-lldp-neighbors-information/></rpc>"#
    );
    assert_eq!(second.message_id(), 2);
    assert!(second.xml().starts_with(r#"<rpc message-id="2" "#));
    assert_eq!(close.message_id(), 3);
    assert_eq!(
        close.into_xml(),
        r#"<rpc message-id="3" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><close-session/></rpc>"#
    );
    assert_eq!(client.pending().collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(
        build_rpc("a\"b", "<x/>"),
        r#"<rpc message-id="a&quot;b" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><x/></rpc>"#
    );
}

#[test]
fn junos_reply_payload_is_preserved_byte_for_byte() {
    let mut client = ClientSession::new();
    client.rpc("<get-lldp-neighbors-information/>");
    let reply = client.receive_reply(JUNOS_REPLY.to_owned()).unwrap();
    assert_eq!(reply.message_id(), Some("1"));
    assert_eq!(reply.payload(), payload_between_tags(JUNOS_REPLY));
    assert!(reply.payload().contains("r2 &amp; co &#x41;"));
    assert!(reply.payload().contains("<![CDATA[<raw> & stuff]]>"));
    assert!(
        reply
            .payload()
            .starts_with("\n<lldp-neighbors-information junos:style=\"brief\">")
    );
    assert!(reply.payload().ends_with("</lldp-neighbors-information>\n"));
    assert!(reply.attributes().iter().any(|(k, _)| k == "xmlns:junos"));
    assert!(!reply.is_ok());
    assert!(reply.rpc_errors().is_empty());
    assert_eq!(reply.as_xml(), JUNOS_REPLY);
    assert_eq!(client.pending().count(), 0);
    let payload = reply.payload().to_owned();
    assert_eq!(reply.into_payload(), payload);
}

#[test]
fn ok_reply_and_empty_reply() {
    let mut client = ClientSession::new();
    client.close_session();
    let reply = client
        .receive_reply(r#"<nc:rpc-reply xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0" message-id="1"><nc:ok/></nc:rpc-reply>"#.into())
        .unwrap();
    assert!(reply.is_ok());
    assert_eq!(reply.payload(), "<nc:ok/>");

    let reply =
        RpcReply::parse("<?xml version=\"1.0\"?>\n<rpc-reply message-id=\"5\"/>\n".into()).unwrap();
    assert_eq!(reply.payload(), "");
    assert!(!reply.is_ok());
    assert_eq!(reply.into_payload(), "");

    let reply = RpcReply::parse("<rpc-reply><ok></ok></rpc-reply>".into()).unwrap();
    assert!(reply.is_ok());
}

const WARNING_REPLY: &str = r#"<rpc-reply xmlns:junos="http://xml.juniper.net/junos/20.4R3/junos" message-id="1">
<rpc-error>
<error-type>protocol</error-type>
<error-tag>operation-failed</error-tag>
<error-severity>warning</error-severity>
<error-message>
statement not found
</error-message>
</rpc-error>
<route-information><route-table/></route-information>
</rpc-reply>"#;

#[test]
fn junos_warnings_do_not_fail_the_call() {
    let mut client = ClientSession::new();
    client.rpc("<get-route-information/>");
    let reply = client.receive_reply(WARNING_REPLY.to_owned()).unwrap();
    let warnings: Vec<_> = reply.warnings().collect();
    assert_eq!(warnings.len(), 1);
    assert_eq!(
        warnings[0].error_message.as_deref(),
        Some("statement not found")
    );
    assert_eq!(warnings[0].error_severity, Severity::Warning);
    assert!(!reply.has_errors());
    assert!(
        reply
            .payload()
            .contains("<route-information><route-table/></route-information>")
    );
}

const ERROR_REPLY: &str = r#"<rpc-reply message-id="1">
<rpc-error>
<error-type>protocol</error-type>
<error-tag>operation-failed</error-tag>
<error-severity>error</error-severity>
<error-message>
Could not connect to re0 : No route to host
</error-message>
</rpc-error>
<rpc-error>
<error-type>application</error-type>
<error-tag>invalid-value</error-tag>
<error-severity>error</error-severity>
<error-app-tag>too-big</error-app-tag>
<error-path>/rpc/get-software-information</error-path>
<error-message xml:lang="en">value &lt;x&gt; too big</error-message>
<error-info><bad-element>x</bad-element>
<junos:re-name xmlns:junos="urn:j">re0</junos:re-name></error-info>
<source-daemon>mgd</source-daemon>
</rpc-error>
<multi-routing-engine-results><multi-routing-engine-item><re-name>re1</re-name></multi-routing-engine-item></multi-routing-engine-results>
</rpc-reply>"#;

#[test]
fn severity_error_fails_the_call_and_keeps_the_payload() {
    let mut client = ClientSession::new();
    client.rpc("<get-software-information/>");
    let error = client.receive_reply(ERROR_REPLY.to_owned()).unwrap_err();
    assert_eq!(client.pending().count(), 0, "the request is answered");
    assert_eq!(
        error.to_string(),
        "device returned rpc-error: error protocol/operation-failed: Could not connect to re0 : No route to host (and 1 more)"
    );
    assert_eq!(error.rpc_errors().len(), 2);
    let ReplyError::Rpc(reply) = error else {
        panic!("expected ReplyError::Rpc")
    };
    assert!(reply.payload().contains("<re-name>re1</re-name>"));
    let second = &reply.rpc_errors()[1];
    let expected = RpcError::new("application", "invalid-value", "value <x> too big")
        .with_app_tag("too-big")
        .with_path("/rpc/get-software-information")
        .with_info("<bad-element>x</bad-element>\n<junos:re-name xmlns:junos=\"urn:j\">re0</junos:re-name>");
    assert_eq!(*second, expected);
    assert_eq!(
        second.to_string(),
        "error application/invalid-value: value <x> too big (at /rpc/get-software-information)"
    );
}

#[test]
fn unknown_or_missing_severity_counts_as_error() {
    assert_eq!(Severity::parse(" WARNING\n"), Severity::Warning);
    assert_eq!(Severity::parse("fatal"), Severity::Error);
    let reply = RpcReply::parse(
        "<rpc-reply><rpc-error><error-tag>x</error-tag><error-info/></rpc-error></rpc-reply>"
            .into(),
    )
    .unwrap();
    assert!(reply.has_errors());
    assert_eq!(reply.rpc_errors()[0].error_info.as_deref(), Some(""));
    assert_eq!(reply.rpc_errors()[0].error_severity, Severity::Error);
}

#[test]
fn message_id_mismatch_is_a_typed_error_and_keeps_the_request_pending() {
    let mut client = ClientSession::new();
    client.rpc("<get-lldp-neighbors-information/>");
    let error = client
        .receive_reply(r#"<rpc-reply message-id="2"><data/></rpc-reply>"#.into())
        .unwrap_err();
    assert!(
        matches!(&error, ReplyError::MessageIdMismatch { expected: 1, found } if found == "2"),
        "{error:?}"
    );
    assert_eq!(client.pending().collect::<Vec<_>>(), [1]);
    // "01" is not "1": ids are compared as the strings we sent.
    assert!(matches!(
        client.receive_reply(r#"<rpc-reply message-id="01"/>"#.into()),
        Err(ReplyError::MessageIdMismatch { .. })
    ));
    client
        .receive_reply(r#"<rpc-reply message-id="1"><data/></rpc-reply>"#.into())
        .unwrap();
}

#[test]
fn unsolicited_and_id_less_replies() {
    let mut client = ClientSession::new();
    assert!(matches!(
        client.receive_reply(r#"<rpc-reply message-id="1"/>"#.into()),
        Err(ReplyError::Unsolicited { message_id: Some(id) }) if id == "1"
    ));
    client.rpc("<a/>");
    client.rpc("<b/>");
    // No message-id: the answer to the oldest request (servers answer in order).
    let reply = client
        .receive_reply("<rpc-reply><ok/></rpc-reply>".into())
        .unwrap();
    assert!(reply.is_ok());
    assert_eq!(client.pending().collect::<Vec<_>>(), [2]);
    client
        .receive_reply(r#"<rpc-reply message-id="2"><ok/></rpc-reply>"#.into())
        .unwrap();
}

#[test]
fn malformed_replies_are_message_errors() {
    let mut client = ClientSession::new();
    for (xml, check) in [
        (
            "<rpc-reply message-id=\"1\"><data></rpc-reply>",
            "malformed XML",
        ),
        ("<rpc-reply message-id=\"1\"><data>", "malformed XML"),
        ("<hello/>", "expected a <rpc-reply> message, found <hello>"),
        ("<rpc-reply/><rpc-reply/>", "after the root element"),
        ("<rpc-reply/>trailing", "after the root element"),
        ("", "no root element"),
    ] {
        client.rpc("<get/>");
        let error = client.receive_reply(xml.to_owned()).unwrap_err();
        assert!(matches!(error, ReplyError::Message(_)), "{xml}: {error:?}");
        assert!(error.to_string().contains(check), "{xml}: {error}");
    }
}

#[test]
fn errors_convert_into_the_crate_error() {
    let framing: Error = FramingError::EmptyMessage.into();
    let message: Error = MessageError::NoRootElement.into();
    let reply: Error = ReplyError::Unsolicited { message_id: None }.into();
    assert!(matches!(framing, Error::Framing(_)));
    assert!(matches!(message, Error::Message(_)));
    assert_eq!(
        reply.to_string(),
        "received an rpc-reply (message-id None) but no request is pending"
    );
}

#[test]
fn client_hello_requires_a_session_id() {
    let mut client = ClientSession::new();
    assert_eq!(client.framing(), Framing::EndOfMessage);
    assert_eq!(
        client.receive_hello(&Hello::client().to_xml()).unwrap_err(),
        MessageError::MissingSessionId
    );
    assert_eq!(
        client
            .receive_hello(&Hello::new([crate::BASE_1_0], Some(3)).to_xml())
            .unwrap(),
        Framing::EndOfMessage
    );
    assert_eq!(client.session_id(), Some(3));
    assert!(client.peer_hello().is_some());
}

/// Drives a client and a server against each other through the encoders and decoders, with
/// the bytes delivered one at a time.
#[test]
fn full_session_over_both_framings_byte_by_byte() {
    for server_hello in [Hello::server(77), Hello::new([crate::BASE_1_0], Some(77))] {
        let mut client = ClientSession::new();
        let mut server = ServerSession::with_hello(server_hello.clone());
        let (mut client_enc, mut server_enc) = (
            Encoder::new(Framing::EndOfMessage),
            Encoder::new(Framing::EndOfMessage),
        );
        let (mut client_dec, mut server_dec) = (
            Decoder::new(Framing::EndOfMessage),
            Decoder::new(Framing::EndOfMessage),
        );

        // Hellos cross.
        let to_server = client_enc
            .encode_to_vec(client.hello_xml().as_bytes())
            .unwrap();
        let to_client = server_enc
            .encode_to_vec(server.hello_xml().as_bytes())
            .unwrap();
        let hello = deliver(&mut server_dec, &to_server).pop().unwrap();
        let framing = server.receive_hello(hello.as_str().unwrap()).unwrap();
        server_dec.set_framing(framing).unwrap();
        server_enc.set_framing(framing);
        let hello = deliver(&mut client_dec, &to_client).pop().unwrap();
        assert_eq!(
            client.receive_hello(hello.as_str().unwrap()).unwrap(),
            framing
        );
        client_dec.set_framing(framing).unwrap();
        client_enc.set_framing(framing);
        assert_eq!(client.session_id(), Some(77));

        // Two pipelined requests, answered in order.
        let mut wire = Vec::new();
        for op in [
            "<get-lldp-neighbors-information/>",
            "<get-arp-table-information><no-resolve/></get-arp-table-information>",
        ] {
            client_enc
                .encode(client.rpc(op).xml().as_bytes(), &mut wire)
                .unwrap();
        }
        let mut answers = Vec::new();
        for message in deliver(&mut server_dec, &wire) {
            let rpc = IncomingRpc::parse(message.as_str().unwrap()).unwrap();
            let reply = rpc.reply_with(
                &[("xmlns:junos", "http://xml.juniper.net/junos/21.4R0/junos")],
                &format!(
                    "<{}-reply>\n  data &amp; more\n</{0}-reply>",
                    rpc.operation()
                ),
            );
            server_enc.encode(reply.as_bytes(), &mut answers).unwrap();
        }
        let replies = deliver(&mut client_dec, &answers);
        assert_eq!(replies.len(), 2);
        let mut payloads = Vec::new();
        for message in replies {
            let reply = client
                .receive_reply(message.into_string().unwrap())
                .unwrap();
            payloads.push(reply.into_payload());
        }
        assert_eq!(
            payloads,
            [
                "<get-lldp-neighbors-information-reply>\n  data &amp; more\n</get-lldp-neighbors-information-reply>",
                "<get-arp-table-information-reply>\n  data &amp; more\n</get-arp-table-information-reply>",
            ]
        );
        client_dec.finish().unwrap();
        server_dec.finish().unwrap();
    }
}

fn deliver(decoder: &mut Decoder, bytes: &[u8]) -> Vec<crate::Message> {
    let mut out = Vec::new();
    for byte in bytes {
        decoder.feed(std::slice::from_ref(byte));
        while let Some(message) = decoder.next_message().unwrap() {
            out.push(message);
        }
    }
    out
}

/// Real replies from the shared fixtures (optional: skipped when the directory is absent).
/// Each is framed both ways, delivered in odd-sized reads, and its payload compared with the
/// text between the rpc-reply tags.
#[test]
fn recorded_junos_replies_decode_and_keep_their_payload() {
    let dir = std::env::var_os("NBFACTS_FIXTURES").map_or_else(
        || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures"),
        std::path::PathBuf::from,
    );
    let mut files = Vec::new();
    collect_xml(&dir.join("dev/junos"), &mut files);
    if files.is_empty() {
        eprintln!("no fixtures under {}; skipped", dir.display());
        return;
    }
    let mut checked = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let trimmed = text.trim().trim_end_matches("]]>]]>").trim();
        let single_reply = trimmed.matches("<rpc-reply").count() == 1
            && trimmed.ends_with("</rpc-reply>")
            && (trimmed.starts_with("<rpc-reply") || trimmed.starts_with("<?xml"));
        if !single_reply {
            continue;
        }
        for framing in [Framing::EndOfMessage, Framing::Chunked] {
            let wire = if text.trim_end().ends_with("]]>]]>") && framing == Framing::EndOfMessage {
                text.as_bytes().to_vec()
            } else {
                Encoder::new(framing)
                    .encode_to_vec(trimmed.as_bytes())
                    .unwrap()
            };
            let mut decoder = Decoder::new(framing);
            let mut messages = Vec::new();
            for piece in wire.chunks(7) {
                decoder.feed(piece);
                while let Some(message) = decoder.next_message().unwrap() {
                    messages.push(message);
                }
            }
            decoder.finish().unwrap();
            assert_eq!(messages.len(), 1, "{}", file.display());
            let xml = messages.pop().unwrap().into_string().unwrap();
            let reply =
                RpcReply::parse(xml.clone()).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            assert_eq!(
                reply.payload(),
                payload_between_tags(&xml),
                "{}",
                file.display()
            );
        }
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} recorded replies found");
}

fn collect_xml(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_xml(&path, out);
        } else if path.extension().is_some_and(|e| e == "xml") {
            out.push(path);
        }
    }
}
