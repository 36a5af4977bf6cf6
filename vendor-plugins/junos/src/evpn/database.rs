//! The EVPN MAC database: `get-evpn-database-information`, streamed for XML replies.

use std::borrow::Cow;

use nbfacts_sdk::{CollectError, EvpnMac, parse_error};

use super::{DATABASE, id};
use crate::common::{canonical_ip, ip, mac, payloads_named};
use crate::json::{is_json, load};
use crate::xml::{Doc, El, Scanner, Token, XmlError, name_is};

/// Parses a `get-evpn-database-information` reply (XML or Junos JSON).
///
/// The database runs to tens of thousands of MACs, so an XML reply is read in one streaming
/// pass that keeps only the entry being read (like [`crate::mac_table`]); a reply without an
/// `evpn-database-information` element (a not-running `<output>`, JSON inside `<output>`, an
/// unexpected payload) goes through the tree path, which gives the same answers as for the
/// other RPCs.
pub fn parse_database(reply: &str) -> Result<Vec<EvpnMac>, CollectError> {
    if !is_json(reply)
        && let Some(macs) = stream_database(reply)?
    {
        return Ok(macs);
    }
    parse_database_doc(&load(DATABASE, reply)?)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Table,
    Instance,
    InstanceName,
    Entry,
    Field(Field),
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Field {
    Vlan,
    Vni,
    VniAlt,
    Mac,
    Source,
    Timestamp,
    TimestampAlt,
    Ip,
}

fn kind(name: &str, parent: Option<Kind>) -> Kind {
    let is = |literal| name_is(name, literal);
    match parent {
        _ if is("evpn-database-information") => Kind::Table,
        Some(Kind::Table) if is("evpn-database-instance") => Kind::Instance,
        Some(Kind::Instance) if is("instance-name") => Kind::InstanceName,
        Some(Kind::Instance | Kind::Table) if is("mac-entry") => Kind::Entry,
        Some(Kind::Entry) => {
            let field = if is("vlan-id") {
                Field::Vlan
            } else if is("vni-id") {
                Field::Vni
            } else if is("vni") {
                Field::VniAlt
            } else if is("mac-address") {
                Field::Mac
            } else if is("active-source") {
                Field::Source
            } else if is("timestamp") {
                Field::Timestamp
            } else if is("active-source-timestamp") {
                Field::TimestampAlt
            } else if is("ip-address") {
                Field::Ip
            } else {
                return Kind::Other;
            };
            Kind::Field(field)
        }
        _ => Kind::Other,
    }
}

/// The fields of the entry being read, borrowed from the reply unless they had entities.
#[derive(Default)]
struct Entry<'a> {
    vlan: Cow<'a, str>,
    vni: Cow<'a, str>,
    vni_alt: Cow<'a, str>,
    mac: Cow<'a, str>,
    source: Cow<'a, str>,
    timestamp: Cow<'a, str>,
    timestamp_alt: Cow<'a, str>,
    ips: Vec<String>,
}

impl<'a> Entry<'a> {
    fn clear(&mut self) {
        *self = Entry {
            ips: std::mem::take(&mut self.ips),
            ..Entry::default()
        };
        self.ips.clear();
    }

    fn set(&mut self, field: Field, text: Cow<'a, str>) {
        let slot = match field {
            Field::Vlan => &mut self.vlan,
            Field::Vni => &mut self.vni,
            Field::VniAlt => &mut self.vni_alt,
            Field::Mac => &mut self.mac,
            Field::Source => &mut self.source,
            Field::Timestamp => &mut self.timestamp,
            Field::TimestampAlt => &mut self.timestamp_alt,
            Field::Ip => {
                let text = text.trim_ascii();
                if !text.is_empty() {
                    self.ips.push(ip(text));
                }
                return;
            }
        };
        // The first occurrence wins, as `El::child_text` does.
        if slot.trim_ascii().is_empty() {
            *slot = trimmed(text);
        }
    }

    fn emit(&mut self, instance: &str) -> Result<EvpnMac, CollectError> {
        if self.mac.is_empty() {
            return Err(parse_error(
                DATABASE,
                "mac-address",
                "a mac-entry has no mac-address",
            ));
        }
        let mut vni = number::<u32>("vni-id", &self.vni)?;
        if vni == 0 {
            vni = number("vni", &self.vni_alt)?;
        }
        let address = source_address(&self.source);
        let timestamp = if self.timestamp.is_empty() {
            &mut self.timestamp_alt
        } else {
            &mut self.timestamp
        };
        Ok(EvpnMac {
            instance: instance.to_string(),
            vlan_id: number("vlan-id", &self.vlan)?,
            vni,
            mac: mac(&self.mac),
            remote: address.is_some(),
            active_source: match address {
                Some(address) => address,
                None => std::mem::take(&mut self.source).into_owned(),
            },
            ip_addresses: std::mem::take(&mut self.ips),
            timestamp: std::mem::take(timestamp).into_owned(),
            extra: Vec::new(),
        })
    }
}

/// `text` without surrounding ASCII whitespace, still borrowed if it was.
fn trimmed(text: Cow<'_, str>) -> Cow<'_, str> {
    match text {
        Cow::Borrowed(t) => Cow::Borrowed(t.trim_ascii()),
        Cow::Owned(t) if t.trim_ascii().len() == t.len() => Cow::Owned(t),
        Cow::Owned(t) => Cow::Owned(t.trim_ascii().to_string()),
    }
}

/// The active source as an address (a remote VTEP or PE, written as [`ip`] writes it), or
/// `None` for a local interface. Interface names never parse as addresses, and most start
/// with a letter, which skips the address parser for them.
fn source_address(source: &str) -> Option<String> {
    let first = source.as_bytes().first()?;
    if !first.is_ascii_digit() && !source.contains(':') {
        return None;
    }
    canonical_ip(source)
}

/// Like [`id`], on text already read.
fn number<T: std::str::FromStr + Default>(name: &str, text: &str) -> Result<T, CollectError> {
    if text.is_empty() || text.eq_ignore_ascii_case("none") || text.eq_ignore_ascii_case("n/a") {
        return Ok(T::default());
    }
    text.parse()
        .map_err(|_| parse_error(DATABASE, name, format!("expected a number, got {text:?}")))
}

/// The streaming pass of [`parse_database`]: `Ok(None)` when the reply has no
/// `evpn-database-information` element.
fn stream_database(reply: &str) -> Result<Option<Vec<EvpnMac>>, CollectError> {
    let malformed = |e: XmlError| parse_error(DATABASE, "", format!("malformed XML: {e}"));
    let mut scanner = Scanner::new(reply);
    let mut stack: Vec<Kind> = Vec::with_capacity(16);
    let mut seen = false;
    let mut instance = String::new();
    let mut entry = Entry::default();
    let mut text: Cow<'_, str> = Cow::Borrowed("");
    let mut out = Vec::with_capacity(reply.len() / 400);
    while let Some(token) = scanner.next_token().map_err(malformed)? {
        match token {
            Token::Start(tag) => {
                let k = kind(tag.local, stack.last().copied());
                match k {
                    Kind::Table => seen = true,
                    Kind::Instance => instance.clear(),
                    Kind::Entry => entry.clear(),
                    _ => {}
                }
                text = Cow::Borrowed("");
                stack.push(k);
            }
            Token::Empty(tag) => match kind(tag.local, stack.last().copied()) {
                Kind::Table => seen = true,
                Kind::Entry => {
                    entry.clear();
                    out.push(entry.emit(&instance)?);
                }
                _ => {}
            },
            Token::End(_) => match stack.pop() {
                Some(Kind::Entry) => out.push(entry.emit(&instance)?),
                Some(Kind::Instance) => instance.clear(),
                Some(Kind::Field(field)) => {
                    entry.set(field, std::mem::replace(&mut text, Cow::Borrowed("")));
                }
                Some(Kind::InstanceName) => {
                    instance.clear();
                    instance.push_str(text.trim_ascii());
                }
                _ => {}
            },
            Token::Text(t) => {
                if matches!(stack.last(), Some(Kind::Field(_) | Kind::InstanceName)) {
                    let chunk = t.decode().map_err(malformed)?;
                    if text.is_empty() {
                        text = chunk;
                    } else {
                        text.to_mut().push_str(&chunk);
                    }
                }
            }
            Token::CData(c) => {
                if matches!(stack.last(), Some(Kind::Field(_) | Kind::InstanceName)) {
                    text.to_mut().push_str(c);
                }
            }
        }
    }
    Ok(seen.then_some(out))
}

/// Like [`parse_database`], for a reply already in a [`Doc`].
pub fn parse_database_doc(doc: &Doc<'_>) -> Result<Vec<EvpnMac>, CollectError> {
    let mut out = Vec::new();
    for payload in payloads_named(DATABASE, doc, "evpn-database-information")? {
        for instance in payload.el.children_named("evpn-database-instance") {
            let name = instance.text_of("instance-name");
            for entry in instance.children_named("mac-entry") {
                out.push(mac_entry(name, entry)?);
            }
        }
        // Some releases list entries without the per-instance wrapper.
        for entry in payload.el.children_named("mac-entry") {
            out.push(mac_entry("", entry)?);
        }
    }
    Ok(out)
}

fn mac_entry(instance: &str, entry: El<'_, '_>) -> Result<EvpnMac, CollectError> {
    let address = entry
        .nonempty("mac-address")
        .ok_or_else(|| parse_error(DATABASE, "mac-address", "a mac-entry has no mac-address"))?;
    let source = entry.text_of("active-source");
    let remote_address = canonical_ip(source);
    let mut vni: u32 = id(DATABASE, entry, "vni-id")?;
    if vni == 0 {
        vni = id(DATABASE, entry, "vni")?;
    }
    let ip_addresses = entry
        .children_named("ip-address")
        .map(|a| a.text())
        .filter(|t| !t.is_empty())
        .map(ip)
        .collect();
    let timestamp = entry
        .nonempty("timestamp")
        .or_else(|| entry.nonempty("active-source-timestamp"))
        .unwrap_or_default();
    Ok(EvpnMac {
        instance: instance.to_string(),
        vlan_id: id(DATABASE, entry, "vlan-id")?,
        vni,
        mac: mac(address),
        remote: remote_address.is_some(),
        active_source: remote_address.unwrap_or_else(|| source.to_string()),
        ip_addresses,
        timestamp: timestamp.to_string(),
        extra: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(reply: &str) -> (Vec<EvpnMac>, Vec<EvpnMac>) {
        let streamed = stream_database(reply).unwrap().unwrap();
        let tree = parse_database_doc(&load(DATABASE, reply).unwrap()).unwrap();
        (streamed, tree)
    }

    #[test]
    fn streaming_and_tree_paths_agree() {
        let generated = crate::generate::evpn_database(500);
        let (a, b) = both(&generated);
        assert_eq!(a.len(), 500);
        assert_eq!(a, b);
        let odd = r#"<rpc-reply><multi-routing-engine-results><multi-routing-engine-item>
            <re-name>re0</re-name><evpn-database-information>
            <evpn-database-instance><instance-name>A &amp; B</instance-name>
              <mac-entry><vlan-id>none</vlan-id><vni>7</vni><mac-address>000f.532b.c5e1</mac-address>
                <active-source>00:11:22:33:44:55:66:77:88:99</active-source>
                <active-source-timestamp>Apr 20</active-source-timestamp>
                <ip-address>2001:0db8::1</ip-address><ip-address/></mac-entry>
            </evpn-database-instance>
            <mac-entry><mac-address>02:00:00:00:00:01</mac-address><active-source>192.0.2.1</active-source></mac-entry>
            <mac-entry><mac-address>02:00:00:00:00:02</mac-address><active-source> 2001:0DB8::0001 </active-source></mac-entry>
            <mac-entry><mac-address>02:00:00:00:00:03</mac-address><active-source>1-not-an-address</active-source></mac-entry>
            </evpn-database-information></multi-routing-engine-item></multi-routing-engine-results></rpc-reply>"#;
        let (a, b) = both(odd);
        assert_eq!(a, b);
        assert_eq!(a[0].instance, "A & B");
        assert_eq!((a[0].vlan_id, a[0].vni), (0, 7));
        assert_eq!(a[0].mac, "00:0F:53:2B:C5:E1");
        assert!(!a[0].remote);
        assert_eq!(a[0].timestamp, "Apr 20");
        assert_eq!(a[0].ip_addresses, ["2001:db8::1"]);
        assert_eq!(a[1].instance, "");
        assert!(a[1].remote);
        assert_eq!(a[1].active_source, "192.0.2.1");
        // A remote IPv6 source is written canonically, as NAPALM-shaped addresses are.
        assert!(a[2].remote);
        assert_eq!(a[2].active_source, "2001:db8::1");
        assert!(!a[3].remote);
        assert_eq!(a[3].active_source, "1-not-an-address");
    }

    #[test]
    fn streaming_errors_name_the_element() {
        for (reply, element) in [
            (
                "<evpn-database-information><mac-entry><vlan-id>x</vlan-id><mac-address>02:00:00:00:00:01</mac-address></mac-entry></evpn-database-information>",
                "vlan-id",
            ),
            (
                "<evpn-database-information><mac-entry/></evpn-database-information>",
                "mac-address",
            ),
            ("<evpn-database-information><mac-entry>", ""),
            ("<evpn-database-information></mac-entry>", ""),
        ] {
            match parse_database(reply) {
                Err(CollectError::Parse(e)) => {
                    assert_eq!(e.rpc, DATABASE);
                    assert_eq!(e.element, element, "{reply}");
                }
                other => panic!("parse error expected for {reply}, got {other:?}"),
            }
        }
        assert_eq!(
            stream_database("<output>EVPN is not running</output>").unwrap(),
            None
        );
        assert!(
            parse_database("<output>EVPN is not running</output>")
                .unwrap()
                .is_empty()
        );
    }
}
