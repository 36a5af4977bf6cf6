//! `ethernet_switching`: the MAC table, as NAPALM's `get_mac_address_table`.
//!
//! The plugin probes instead of trusting a `switch_style` fact: it asks for the ELS / legacy
//! switching table first and falls back to the MX bridge table when the device does not know
//! that RPC (or answers with an empty switching table):
//!
//! | style | RPC (`extensive`) | entry | mac / interface / vlan |
//! |---|---|---|---|
//! | ELS (`VLAN_L2NG`) | `get-ethernet-switching-table-information` | `l2ng-l2ald-mac-entry-vlan` | `l2ng-l2-mac-address` / `l2ng-l2-mac-logical-interface` / `l2ng-l2-vlan-id` |
//! | MX (`BRIDGE_DOMAIN`) | `get-bridge-mac-table` | `l2ald-mac-entry` | `l2-mac-address` / `l2-mac-logical-interface` / `l2-bridge-vlan` |
//! | legacy EX (`VLAN`) | `get-ethernet-switching-table-information` | `ethernet-switching-table/mac-table-entry` | `mac-address` / `mac-interface(s)` / `mac-vlan-tag`; `static` = `mac-type` `Static` |
//!
//! The brief forms that nest the MACs of one VLAN / bridge domain under a group element
//! (MX `l2ald-mac-entry/l2-mac-entry`, ELS `l2ng-l2ald-mac-entry-vlan/l2ng-mac-entry`) are
//! accepted too; nested entries take the group's VLAN.
//!
//! NAPALM's rules: flood entries (MAC `*`) are skipped, `active` is always true, `moves` and
//! `last_move` are 0, `static` can only be true for the legacy table, a VLAN of `none` is 0,
//! and an `l2-learning subsystem` rpc-error means an empty table. Order is the device's.
//!
//! Tables have tens of thousands of entries, so this parser streams over the reply with
//! the [`Scanner`] instead of building a tree: it keeps only the entry being read (borrowing the
//! text from the reply) and allocates just the output strings.

use std::borrow::Cow;

use crate::common::{call_or_rpc_error, is_unknown_rpc, mac, payloads};
use crate::xml::{Doc, El, Scanner, Token, XmlError, name_is};
use nbfacts_sdk::{CollectError, Device, DeviceError, MacEntry, RpcError, parse_error};

/// The switching-table RPC (ELS and legacy EX).
pub const SWITCHING_RPC: &str = "<get-ethernet-switching-table-information><extensive/></get-ethernet-switching-table-information>";
/// The MX bridge-table RPC.
pub const BRIDGE_RPC: &str = "<get-bridge-mac-table><extensive/></get-bridge-mac-table>";

const SWITCHING: &str = "get-ethernet-switching-table-information";
const BRIDGE: &str = "get-bridge-mac-table";

/// Runs the `ethernet_switching` collector.
pub fn collect(device: &dyn Device) -> Result<Vec<MacEntry>, CollectError> {
    match call_or_rpc_error(device, SWITCHING_RPC)? {
        Ok(reply) => {
            let entries = parse_mac_table(SWITCHING, &reply)?;
            if !entries.is_empty() {
                return Ok(entries);
            }
            // An MX may answer the switching RPC with an empty table: its MACs are in the
            // bridge table. Anything but a bridge table keeps the (empty) answer.
            match call_or_rpc_error(device, BRIDGE_RPC)? {
                Ok(reply) => parse_mac_table(BRIDGE, &reply),
                Err(_) => Ok(entries),
            }
        }
        Err(e) if l2_learning_down(&e) => Ok(Vec::new()),
        Err(e) if is_unknown_rpc(&e) => match call_or_rpc_error(device, BRIDGE_RPC)? {
            Ok(reply) => parse_mac_table(BRIDGE, &reply),
            Err(e) if l2_learning_down(&e) || is_unknown_rpc(&e) => Ok(Vec::new()),
            Err(e) => Err(CollectError::Device(DeviceError::Rpc(e))),
        },
        Err(e) => Err(CollectError::Device(DeviceError::Rpc(e))),
    }
}

/// NAPALM: "Device hasn't got its l2 subsystem running" gives an empty table.
fn l2_learning_down(e: &RpcError) -> bool {
    e.error_message.contains("l2-learning subsystem")
}

#[derive(Clone, Copy, PartialEq)]
enum Style {
    Els,
    Bridge,
    Legacy,
}

impl Style {
    fn mac_element(self) -> &'static str {
        match self {
            Style::Els => "l2ng-l2-mac-address",
            Style::Bridge => "l2-mac-address",
            Style::Legacy => "mac-address",
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Field {
    Mac,
    Interface,
    Vlan,
    Type,
    Output,
}

enum Role {
    Entry(Style),
    Leaf(Field),
    Other,
}

fn role(name: &str) -> Role {
    let is = |literal| name_is(name, literal);
    if is("l2ng-l2ald-mac-entry-vlan") || is("l2ng-mac-entry") {
        Role::Entry(Style::Els)
    } else if is("l2ald-mac-entry") || is("l2-mac-entry") {
        Role::Entry(Style::Bridge)
    } else if is("mac-table-entry") {
        Role::Entry(Style::Legacy)
    } else if is("l2ng-l2-mac-address") || is("l2-mac-address") || is("mac-address") {
        Role::Leaf(Field::Mac)
    } else if is("l2ng-l2-mac-logical-interface")
        || is("l2-mac-logical-interface")
        || is("mac-interface")
        || is("mac-interfaces")
    {
        Role::Leaf(Field::Interface)
    } else if is("l2ng-l2-vlan-id") || is("l2-bridge-vlan") || is("mac-vlan-tag") {
        Role::Leaf(Field::Vlan)
    } else if is("mac-type") {
        Role::Leaf(Field::Type)
    } else if is("output") {
        Role::Leaf(Field::Output)
    } else {
        Role::Other
    }
}

/// The entry being read.
struct Frame<'a> {
    style: Style,
    mac: Option<Cow<'a, str>>,
    interface: Option<Cow<'a, str>>,
    vlan: Option<(Cow<'a, str>, &'static str)>,
    static_type: bool,
    /// True once an entry was found inside this one: it is a group, not an entry.
    group: bool,
}

/// Parses any of the three MAC-table replies (`rpc` names the RPC in errors).
pub fn parse_mac_table(rpc: &str, reply: &str) -> Result<Vec<MacEntry>, CollectError> {
    let malformed = |e: XmlError| parse_error(rpc, "", format!("malformed XML: {e}"));
    let mut scanner = Scanner::new(reply);
    let mut frames: Vec<Frame<'_>> = Vec::with_capacity(4);
    let mut out = Vec::with_capacity(reply.len() / 700);
    let mut field: Option<(Field, &'static str)> = None;
    let mut text: Cow<'_, str> = Cow::Borrowed("");
    while let Some(token) = scanner.next_token().map_err(malformed)? {
        match token {
            Token::Start(tag) => match role(tag.local) {
                Role::Entry(style) => {
                    if let Some(parent) = frames.last_mut() {
                        parent.group = true;
                    }
                    frames.push(Frame {
                        style,
                        mac: None,
                        interface: None,
                        vlan: None,
                        static_type: false,
                        group: false,
                    });
                }
                Role::Leaf(f) => {
                    field = Some((f, leaf_name(f, tag.local)));
                    text = Cow::Borrowed("");
                }
                Role::Other => field = None,
            },
            Token::Empty(tag) => {
                if let Role::Leaf(f) = role(tag.local)
                    && let Some(frame) = frames.last_mut()
                {
                    let name = leaf_name(f, tag.local);
                    assign(frame, f, name, Cow::Borrowed(""));
                }
            }
            Token::Text(t) => {
                if field.is_some() {
                    let chunk = t.decode().map_err(malformed)?;
                    if text.is_empty() {
                        text = chunk;
                    } else {
                        text.to_mut().push_str(&chunk);
                    }
                }
            }
            Token::CData(c) => {
                if field.is_some() {
                    text.to_mut().push_str(c);
                }
            }
            Token::End(name) => {
                if let Some((f, leaf)) = field.take() {
                    let value = std::mem::replace(&mut text, Cow::Borrowed(""));
                    if f == Field::Output {
                        if value.to_ascii_lowercase().contains("not running") {
                            return Ok(Vec::new());
                        }
                    } else if let Some(frame) = frames.last_mut() {
                        assign(frame, f, leaf, value);
                    }
                } else if matches!(role(name), Role::Entry(_))
                    && let Some(frame) = frames.pop()
                {
                    emit(rpc, frame, frames.last(), &mut out)?;
                }
            }
        }
    }
    Ok(out)
}

/// Like [`parse_mac_table`], for a reply already in a [`Doc`] (for example one loaded from
/// Junos JSON). Same rules, walking the tree instead of streaming.
pub fn parse_mac_table_doc(rpc: &str, doc: &Doc<'_>) -> Result<Vec<MacEntry>, CollectError> {
    let not_running = payloads(doc)
        .iter()
        .any(|p| p.el.is("output") && p.el.text().to_ascii_lowercase().contains("not running"));
    let mut out = Vec::new();
    if !not_running {
        for root in doc.roots() {
            walk(rpc, root, None, &mut out)?;
        }
    }
    Ok(out)
}

fn walk<'d>(
    rpc: &str,
    el: El<'d, '_>,
    parent: Option<&Frame<'d>>,
    out: &mut Vec<MacEntry>,
) -> Result<(), CollectError> {
    match role(el.name()) {
        Role::Entry(style) => {
            let mut frame = Frame {
                style,
                mac: None,
                interface: None,
                vlan: None,
                static_type: false,
                group: false,
            };
            gather(el, &mut frame);
            let nested: Vec<El<'d, '_>> = el
                .children()
                .filter(|c| matches!(role(c.name()), Role::Entry(_)))
                .collect();
            frame.group = !nested.is_empty();
            for child in nested {
                walk(rpc, child, Some(&frame), out)?;
            }
            emit(rpc, frame, parent, out)
        }
        Role::Leaf(_) => Ok(()),
        Role::Other => {
            for child in el.children() {
                walk(rpc, child, parent, out)?;
            }
            Ok(())
        }
    }
}

/// Assigns the leaves of an entry (at any depth, but not inside nested entries).
fn gather<'d>(el: El<'d, '_>, frame: &mut Frame<'d>) {
    for child in el.children() {
        match role(child.name()) {
            Role::Leaf(f) => assign(
                frame,
                f,
                leaf_name(f, child.name()),
                Cow::Borrowed(child.text()),
            ),
            Role::Entry(_) => {}
            Role::Other => gather(child, frame),
        }
    }
}

fn leaf_name(field: Field, name: &str) -> &'static str {
    match (field, name) {
        (Field::Vlan, "l2ng-l2-vlan-id") => "l2ng-l2-vlan-id",
        (Field::Vlan, "l2-bridge-vlan") => "l2-bridge-vlan",
        (Field::Vlan, _) => "mac-vlan-tag",
        (Field::Mac, _) => "mac-address",
        (Field::Interface, _) => "interface",
        (Field::Type, _) => "mac-type",
        (Field::Output, _) => "output",
    }
}

fn assign<'a>(frame: &mut Frame<'a>, field: Field, name: &'static str, value: Cow<'a, str>) {
    match field {
        Field::Mac => frame.mac = Some(value),
        // Legacy tables list interfaces in `mac-interfaces-list`; keep the first.
        Field::Interface => {
            if frame.interface.is_none() {
                frame.interface = Some(value);
            }
        }
        Field::Vlan => frame.vlan = Some((value, name)),
        Field::Type => frame.static_type = value.trim_ascii() == "Static",
        Field::Output => {}
    }
}

fn emit(
    rpc: &str,
    frame: Frame<'_>,
    parent: Option<&Frame<'_>>,
    out: &mut Vec<MacEntry>,
) -> Result<(), CollectError> {
    if frame.group {
        return Ok(());
    }
    let Some(address) = frame.mac else {
        if frame.interface.is_some() {
            return Err(parse_error(
                rpc,
                frame.style.mac_element(),
                "a MAC table entry has no MAC address",
            ));
        }
        // A group without entries (an empty VLAN in a brief table).
        return Ok(());
    };
    let address = address.trim_ascii();
    if address == "*" {
        return Ok(());
    }
    let vlan = match frame
        .vlan
        .as_ref()
        .or_else(|| parent.and_then(|p| p.vlan.as_ref()))
    {
        Some((text, name)) => vlan_id(rpc, name, text.trim_ascii())?,
        None => 0,
    };
    out.push(MacEntry {
        mac: mac(address),
        interface: frame
            .interface
            .as_deref()
            .map(str::trim)
            .unwrap_or("")
            .to_string(),
        vlan,
        is_static: frame.style == Style::Legacy && frame.static_type,
        active: true,
        moves: 0,
        last_move: 0.0,
        extra: Vec::new(),
    });
    Ok(())
}

fn vlan_id(rpc: &str, element: &str, text: &str) -> Result<u16, CollectError> {
    if text.is_empty() || text.eq_ignore_ascii_case("none") {
        return Ok(0);
    }
    text.parse()
        .map_err(|_| parse_error(rpc, element, format!("expected a VLAN id, got {text:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nbfacts_sdk::testing::FakeDevice;

    const ELS: &str = r#"<rpc-reply xmlns:junos="http://xml.juniper.net/junos/21.4R3/junos">
    <l2ng-l2ald-rtb-macdb xmlns="http://xml.juniper.net/junos/21.4R3/junos-l2al">
        <l2ng-l2ald-mac-entry-vlan junos:style="extensive">
            <l2ng-l2-mac-address>00:00:5e:00:53:01</l2ng-l2-mac-address>
            <l2ng-l2-mac-routing-instance>default-switch</l2ng-l2-mac-routing-instance>
            <l2ng-l2-vlan-id>100</l2ng-l2-vlan-id>
            <l2ng-l2-mac-vlan-name>users</l2ng-l2-mac-vlan-name>
            <l2ng-l2-mac-logical-interface>xe-0/0/1.0</l2ng-l2-mac-logical-interface>
            <l2ng-l2-mac-entry-flags>in_hash,in_ifd,in_ifl,in_vlan,kernel</l2ng-l2-mac-entry-flags>
        </l2ng-l2ald-mac-entry-vlan>
        <l2ng-l2ald-mac-entry-vlan junos:style="extensive">
            <l2ng-l2-mac-address>00:00:5e:00:53:02</l2ng-l2-mac-address>
            <l2ng-l2-vlan-id>200</l2ng-l2-vlan-id>
            <l2ng-l2-mac-logical-interface>ae1.0</l2ng-l2-mac-logical-interface>
        </l2ng-l2ald-mac-entry-vlan>
    </l2ng-l2ald-rtb-macdb>
    <cli><banner>{master:0}</banner></cli>
</rpc-reply>"#;

    #[test]
    fn els_extensive_entries() {
        let entries = parse_mac_table(SWITCHING, ELS).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].mac, "00:00:5E:00:53:01");
        assert_eq!(entries[0].interface, "xe-0/0/1.0");
        assert_eq!(entries[0].vlan, 100);
        assert!(entries[0].active && !entries[0].is_static);
        assert_eq!((entries[0].moves, entries[0].last_move), (0, 0.0));
        assert_eq!(entries[1].vlan, 200);
    }

    #[test]
    fn mx_extensive_and_brief_nested_forms() {
        let extensive = r#"<l2ald-rtb-macdb>
  <l2ald-mac-entry junos_style="extensive">
    <l2-mac-address>00:00:5e:00:53:0a</l2-mac-address>
    <l2-mac-bridging-domain>bd-10</l2-mac-bridging-domain>
    <l2-bridge-vlan>10</l2-bridge-vlan>
    <l2-mac-logical-interface>ae7.10</l2-mac-logical-interface>
  </l2ald-mac-entry>
  <l2ald-mac-entry junos_style="extensive">
    <l2-mac-address>00:00:5e:00:53:0b</l2-mac-address>
    <l2-bridge-vlan>none</l2-bridge-vlan>
    <l2-mac-logical-interface>ae7.0</l2-mac-logical-interface>
  </l2ald-mac-entry>
</l2ald-rtb-macdb>"#;
        let e = parse_mac_table(BRIDGE, extensive).unwrap();
        assert_eq!(
            e.iter()
                .map(|e| (e.interface.as_str(), e.vlan))
                .collect::<Vec<_>>(),
            [("ae7.10", 10), ("ae7.0", 0)]
        );
        let brief = r#"<rpc-reply><l2ald-rtb-macdb>
  <l2ald-mac-entry junos:style="brief-rtb" xmlns:junos="http://xml.juniper.net/junos/18.2R1/junos">
    <l2-mac-routing-instance>default-switch</l2-mac-routing-instance>
    <l2-mac-bridging-domain>VL100</l2-mac-bridging-domain>
    <l2-bridge-vlan>100</l2-bridge-vlan>
    <l2-mac-entry>
      <l2-mac-address>00:00:5e:00:53:21</l2-mac-address>
      <l2-mac-flags>D</l2-mac-flags>
      <l2-mac-logical-interface>ge-0/0/9.0</l2-mac-logical-interface>
    </l2-mac-entry>
    <l2-mac-entry>
      <l2-mac-address>00:00:5e:00:53:22</l2-mac-address>
      <l2-mac-logical-interface>ae0.100</l2-mac-logical-interface>
    </l2-mac-entry>
  </l2ald-mac-entry>
  <l2ald-mac-entry>
    <l2-mac-bridging-domain>VL300</l2-mac-bridging-domain>
    <l2-bridge-vlan>300</l2-bridge-vlan>
  </l2ald-mac-entry>
</l2ald-rtb-macdb></rpc-reply>"#;
        let e = parse_mac_table(BRIDGE, brief).unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!((e[0].mac.as_str(), e[0].vlan), ("00:00:5E:00:53:21", 100));
        assert_eq!(e[1].interface, "ae0.100");
    }

    #[test]
    fn legacy_table_skips_flood_and_reads_static() {
        let legacy = r#"<ethernet-switching-table-information>
  <ethernet-switching-table junos:style="extensive" xmlns:junos="x">
    <mac-table-count>3</mac-table-count>
    <mac-table-entry junos:style="extensive">
      <mac-vlan>default</mac-vlan><mac-address>*</mac-address><mac-type>Flood</mac-type>
      <mac-interfaces-list><mac-interfaces>All-members</mac-interfaces></mac-interfaces-list>
    </mac-table-entry>
    <mac-table-entry junos:style="extensive">
      <mac-vlan>voice</mac-vlan><mac-vlan-tag>20</mac-vlan-tag>
      <mac-address>00:00:5e:00:53:31</mac-address><mac-type>Static</mac-type>
      <mac-interfaces-list><mac-interfaces>ge-0/0/3.0</mac-interfaces></mac-interfaces-list>
    </mac-table-entry>
    <mac-table-entry junos:style="extensive">
      <mac-vlan>data</mac-vlan><mac-vlan-tag>30</mac-vlan-tag>
      <mac-address>00:00:5e:00:53:32</mac-address><mac-type>Learn</mac-type>
      <mac-interface>ge-0/0/4.0</mac-interface>
    </mac-table-entry>
  </ethernet-switching-table>
</ethernet-switching-table-information>"#;
        let e = parse_mac_table(SWITCHING, legacy).unwrap();
        assert_eq!(e.len(), 2);
        assert!(e[0].is_static && !e[1].is_static);
        assert_eq!((e[0].interface.as_str(), e[0].vlan), ("ge-0/0/3.0", 20));
        assert_eq!((e[1].interface.as_str(), e[1].vlan), ("ge-0/0/4.0", 30));
    }

    #[test]
    fn probing_falls_back_to_the_bridge_table() {
        let bridge = "<l2ald-rtb-macdb><l2ald-mac-entry><l2-mac-address>00:00:5e:00:53:0a</l2-mac-address><l2-bridge-vlan>10</l2-bridge-vlan><l2-mac-logical-interface>ae7.10</l2-mac-logical-interface></l2ald-mac-entry></l2ald-rtb-macdb>";
        let dev = FakeDevice::new().with_reply("get-bridge-mac-table", bridge);
        assert_eq!(collect(&dev).unwrap().len(), 1);
        assert_eq!(
            dev.calls(),
            [
                "get-ethernet-switching-table-information",
                "get-bridge-mac-table"
            ]
        );
        let els = FakeDevice::new().with_reply(SWITCHING, ELS);
        assert_eq!(collect(&els).unwrap().len(), 2);
        assert_eq!(els.calls(), [SWITCHING]);
        // No L2 at all: both RPCs unknown.
        assert!(collect(&FakeDevice::new()).unwrap().is_empty());
    }

    #[test]
    fn not_running_output_is_empty() {
        let reply = "<rpc-reply><output>error: the l2-learning subsystem is not running</output></rpc-reply>";
        assert!(parse_mac_table(SWITCHING, reply).unwrap().is_empty());
    }

    #[test]
    fn malformed_replies_name_the_rpc_and_element() {
        let bad_vlan = "<l2ng-l2ald-rtb-macdb><l2ng-l2ald-mac-entry-vlan><l2ng-l2-mac-address>00:00:5e:00:53:01</l2ng-l2-mac-address><l2ng-l2-vlan-id>ten</l2ng-l2-vlan-id></l2ng-l2ald-mac-entry-vlan></l2ng-l2ald-rtb-macdb>";
        match parse_mac_table(SWITCHING, bad_vlan) {
            Err(CollectError::Parse(e)) => {
                assert_eq!(e.rpc, SWITCHING);
                assert_eq!(e.element, "l2ng-l2-vlan-id");
            }
            other => panic!("expected a parse error, got {other:?}"),
        }
        let no_mac = "<l2ald-rtb-macdb><l2ald-mac-entry><l2-mac-logical-interface>ae1.0</l2-mac-logical-interface></l2ald-mac-entry></l2ald-rtb-macdb>";
        match parse_mac_table(BRIDGE, no_mac) {
            Err(CollectError::Parse(e)) => assert_eq!(e.element, "l2-mac-address"),
            other => panic!("expected a parse error, got {other:?}"),
        }
        for truncated in [
            "<l2ng-l2ald-rtb-macdb><l2ng-l2ald-mac-entry-vlan>",
            "<a></b>",
        ] {
            assert!(matches!(
                parse_mac_table(SWITCHING, truncated),
                Err(CollectError::Parse(_))
            ));
        }
    }

    #[test]
    fn generated_table_round_trips() {
        let reply = crate::generate::els_mac_table(500);
        let entries = parse_mac_table(SWITCHING, &reply).unwrap();
        assert_eq!(entries.len(), 500);
        assert!(
            entries
                .iter()
                .all(|e| e.vlan > 0 && !e.interface.is_empty())
        );
    }

    #[test]
    fn multi_routing_engine_wrapper_is_transparent() {
        let reply = r#"<rpc-reply xmlns:junos="http://xml.juniper.net/junos/21.4R3/junos">
<multi-routing-engine-results><multi-routing-engine-item><re-name>fpc0</re-name>
  <l2ng-l2ald-rtb-macdb xmlns="http://xml.juniper.net/junos/21.4R3/junos-l2al">
    <l2ng-l2ald-mac-entry-vlan junos:style="extensive">
      <l2ng-l2-mac-address>00:00:5e:00:53:41</l2ng-l2-mac-address>
      <l2ng-l2-vlan-id>41</l2ng-l2-vlan-id>
      <l2ng-l2-mac-logical-interface>ge-0/0/41.0</l2ng-l2-mac-logical-interface>
    </l2ng-l2ald-mac-entry-vlan>
  </l2ng-l2ald-rtb-macdb>
</multi-routing-engine-item></multi-routing-engine-results></rpc-reply>"#;
        let e = parse_mac_table(SWITCHING, reply).unwrap();
        assert_eq!((e[0].mac.as_str(), e[0].vlan), ("00:00:5E:00:53:41", 41));
    }

    #[test]
    fn tree_walk_gives_the_same_entries_as_the_stream() {
        let inputs = [
            ELS.to_string(),
            crate::generate::els_mac_table(50),
            "<l2ald-rtb-macdb><l2ald-mac-entry><l2-bridge-vlan>7</l2-bridge-vlan><l2-mac-entry><l2-mac-address>00:00:5e:00:53:07</l2-mac-address><l2-mac-logical-interface>ae0.7</l2-mac-logical-interface></l2-mac-entry></l2ald-mac-entry></l2ald-rtb-macdb>".to_string(),
            "<ethernet-switching-table-information><ethernet-switching-table><mac-table-entry><mac-address>*</mac-address></mac-table-entry><mac-table-entry><mac-vlan-tag>5</mac-vlan-tag><mac-address>00:00:5e:00:53:05</mac-address><mac-type>Static</mac-type><mac-interfaces-list><mac-interfaces>ge-0/0/5.0</mac-interfaces></mac-interfaces-list></mac-table-entry></ethernet-switching-table></ethernet-switching-table-information>".to_string(),
            "<rpc-reply><output>l2-learning is not running</output></rpc-reply>".to_string(),
        ];
        for input in &inputs {
            let streamed = parse_mac_table(SWITCHING, input).unwrap();
            let doc = crate::xml::Doc::parse(input).unwrap();
            assert_eq!(
                parse_mac_table_doc(SWITCHING, &doc).unwrap(),
                streamed,
                "{input}"
            );
        }
        let bad = "<l2ald-rtb-macdb><l2ald-mac-entry><l2-mac-address>00:00:5e:00:53:01</l2-mac-address><l2-bridge-vlan>x</l2-bridge-vlan></l2ald-mac-entry></l2ald-rtb-macdb>";
        let doc = crate::xml::Doc::parse(bad).unwrap();
        assert!(
            matches!(parse_mac_table_doc(BRIDGE, &doc), Err(CollectError::Parse(e)) if e.element == "l2-bridge-vlan")
        );
    }
}
