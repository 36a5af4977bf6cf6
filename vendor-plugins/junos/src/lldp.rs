//! `lldp`: NAPALM's `get_lldp_neighbors` and `get_lldp_neighbors_detail` in one list.
//!
//! 1. `get-lldp-neighbors-information` gives the neighbour table. An rpc-error (LLDP not
//!    configured) or a not-running `<output>` gives an empty list.
//! 2. For every local interface in the table (`lldp-local-interface`, else
//!    `lldp-local-port-id`: the detail getter's precedence), the per-interface detail:
//!    `get-lldp-interface-neighbors` (`interface-device`), or on a "syntax error"
//!    `get-lldp-interface-neighbors-information` (`interface-name`), the RPC older / non-ELS
//!    switches know. That one is tried first when the table names interfaces in
//!    `lldp-local-interface` (pre-ELS output), as NAPALM does for its `VLAN` switch style. Like
//!    NAPALM, once the other RPC worked it is used for the remaining interfaces; when neither
//!    exists, the table alone is returned (`detailed` false).
//!
//! One record per neighbour. `local_interface` is the interface the detail was asked for;
//! `local_port_id` is the table's `lldp-local-port-id` (NAPALM's `get_lldp_neighbors` keys on
//! it first). The remote chassis id goes through `mac()`, the capabilities are translated to
//! NAPALM's sorted lower-case names.
//!
//! Deviation from NAPALM: when the table lists several neighbours on one interface, NAPALM
//! appends that interface's detail once per table row (duplicating neighbours); the detail is
//! read once per interface here.

use std::collections::HashMap;

use nbfacts_sdk::{CollectError, Device, LldpNeighbor, parse_error};

use crate::common::{call_or_rpc_error, escape, is_unknown_rpc, mac, parse, payloads_named};
use crate::xml::{Doc, El};

/// The neighbour-table RPC.
pub const TABLE_RPC: &str = "<get-lldp-neighbors-information/>";
const TABLE: &str = "get-lldp-neighbors-information";
const DETAIL: &str = "get-lldp-interface-neighbors";
const DETAIL_OLD: &str = "get-lldp-interface-neighbors-information";

/// One row of the neighbour table.
#[derive(Debug, Clone, PartialEq)]
pub struct TableRow {
    /// `lldp-local-interface`, else `lldp-local-port-id`.
    pub interface: String,
    /// `lldp-local-port-id` (may be empty).
    pub port_id: String,
    /// True when the row names its interface in `lldp-local-interface`, as pre-ELS switches
    /// do; their per-interface RPC is `get-lldp-interface-neighbors-information`.
    pub legacy: bool,
    /// The row as a summary-only neighbour record.
    pub neighbor: LldpNeighbor,
}

/// Runs the `lldp` collector.
pub fn collect(device: &dyn Device) -> Result<Vec<LldpNeighbor>, CollectError> {
    let table = match call_or_rpc_error(device, TABLE_RPC)? {
        Ok(reply) => parse_table(&reply)?,
        Err(_) => return Ok(Vec::new()),
    };
    // Rows grouped by interface, in table order.
    let mut order: Vec<&str> = Vec::new();
    let mut groups: HashMap<&str, Vec<&TableRow>> = HashMap::new();
    for row in &table {
        groups
            .entry(row.interface.as_str())
            .or_insert_with(|| {
                order.push(row.interface.as_str());
                Vec::new()
            })
            .push(row);
    }
    let mut out = Vec::with_capacity(table.len());
    // The per-interface RPC in use; `None` once neither exists on this device. Pre-ELS
    // switches (NAPALM's `VLAN` switch style) name the local interface differently and know
    // the older RPC, so that one is tried first there.
    let legacy = table.first().is_some_and(|r| r.legacy);
    let mut detail_rpc = Some(if legacy { DETAIL_OLD } else { DETAIL });
    for interface in order {
        let rows = groups.get(interface).map(Vec::as_slice).unwrap_or_default();
        let Some(first) = rows.first() else { continue };
        let detail = match detail_rpc {
            Some(rpc) => fetch_detail(device, &mut detail_rpc, rpc, first)?,
            None => None,
        };
        match detail {
            Some(neighbors) if !neighbors.is_empty() => out.extend(neighbors),
            _ => out.extend(rows.iter().map(|r| r.neighbor.clone())),
        }
    }
    Ok(out)
}

/// Reads the detail for one interface, switching `detail_rpc` to the other RPC on a syntax
/// error (and to `None` when both are unknown). `None` when there is no detail to be had.
fn fetch_detail(
    device: &dyn Device,
    detail_rpc: &mut Option<&'static str>,
    first: &'static str,
    row: &TableRow,
) -> Result<Option<Vec<LldpNeighbor>>, CollectError> {
    let mut rpc = first;
    for attempt in 0..2 {
        match call_or_rpc_error(device, &detail_request(rpc, &row.interface))? {
            Ok(reply) => {
                *detail_rpc = Some(rpc);
                return parse_detail(rpc, &reply, &row.interface, &row.port_id).map(Some);
            }
            Err(e) if is_unknown_rpc(&e) => {
                if attempt == 0 {
                    rpc = if rpc == DETAIL { DETAIL_OLD } else { DETAIL };
                } else {
                    *detail_rpc = None;
                }
            }
            // The interface went away between the two calls, or similar: keep the table row.
            Err(e) => {
                nbfacts_sdk::log::warn(&format!(
                    "LLDP detail for {} failed ({}); using the neighbour table",
                    row.interface, e.error_message
                ));
                return Ok(None);
            }
        }
    }
    Ok(None)
}

/// The per-interface detail request for `interface` with `rpc`.
pub fn detail_request(rpc: &str, interface: &str) -> String {
    let arg = if rpc == DETAIL {
        "interface-device"
    } else {
        "interface-name"
    };
    // `concat` rather than `format!`: no formatting machinery for a string sent per neighbour.
    let interface = escape(interface);
    [
        "<", rpc, "><", arg, ">", &interface, "</", arg, "></", rpc, ">",
    ]
    .concat()
}

/// Parses the neighbour table.
pub fn parse_table(reply: &str) -> Result<Vec<TableRow>, CollectError> {
    parse_table_doc(&parse(TABLE, reply)?)
}

/// Like [`parse_table`], for a reply already in a [`Doc`] (for example one loaded from Junos
/// JSON).
pub fn parse_table_doc(doc: &Doc<'_>) -> Result<Vec<TableRow>, CollectError> {
    let mut out = Vec::new();
    for payload in payloads_named(TABLE, doc, "lldp-neighbors-information")? {
        for item in payload.el.children_named("lldp-neighbor-information") {
            let port_id = item.text_of("lldp-local-port-id");
            let interface = item.nonempty("lldp-local-interface").unwrap_or(port_id);
            if interface.is_empty() {
                return Err(parse_error(
                    TABLE,
                    "lldp-local-interface",
                    "a neighbour has neither lldp-local-interface nor lldp-local-port-id",
                ));
            }
            out.push(TableRow {
                interface: interface.to_string(),
                port_id: port_id.to_string(),
                legacy: item.nonempty("lldp-local-interface").is_some(),
                neighbor: neighbor(item, interface, port_id, false),
            });
        }
    }
    Ok(out)
}

/// Parses a per-interface detail reply: the neighbours seen on `interface`.
pub fn parse_detail(
    rpc: &str,
    reply: &str,
    interface: &str,
    port_id: &str,
) -> Result<Vec<LldpNeighbor>, CollectError> {
    parse_detail_doc(rpc, &parse(rpc, reply)?, interface, port_id)
}

/// Like [`parse_detail`], for a reply already in a [`Doc`] (for example one loaded from Junos
/// JSON).
pub fn parse_detail_doc(
    rpc: &str,
    doc: &Doc<'_>,
    interface: &str,
    port_id: &str,
) -> Result<Vec<LldpNeighbor>, CollectError> {
    let mut out = Vec::new();
    for payload in payloads_named(rpc, doc, "lldp-neighbors-information")? {
        for item in payload.el.children_named("lldp-neighbor-information") {
            out.push(neighbor(item, interface, port_id, true));
        }
    }
    Ok(out)
}

fn neighbor(item: El<'_, '_>, interface: &str, port_id: &str, detailed: bool) -> LldpNeighbor {
    let mut extra = Vec::new();
    for (element, key) in [
        (
            "lldp-remote-chassis-id-subtype",
            "remote-chassis-id-subtype",
        ),
        ("lldp-remote-port-id-subtype", "remote-port-id-subtype"),
        (
            "lldp-remote-management-address",
            "remote-management-address",
        ),
    ] {
        if let Some(value) = item.nonempty(element) {
            extra.push((key.to_string(), value.to_string()));
        }
    }
    if detailed && let Some(index) = item.nonempty("lldp-local-port-id") {
        extra.push(("local-port-index".to_string(), index.to_string()));
    }
    LldpNeighbor {
        local_interface: interface.to_string(),
        local_port_id: port_id.to_string(),
        parent_interface: item.text_of("lldp-local-parent-interface-name").to_string(),
        remote_chassis_id: mac(item.text_of("lldp-remote-chassis-id")),
        remote_port: item.text_of("lldp-remote-port-id").to_string(),
        remote_port_description: item.text_of("lldp-remote-port-description").to_string(),
        remote_system_name: item.text_of("lldp-remote-system-name").to_string(),
        remote_system_description: item
            .path("lldp-system-description/lldp-remote-system-description")
            .map(|e| e.text())
            .unwrap_or("")
            .to_string(),
        remote_system_capab: capabilities(
            item.text_of("lldp-remote-system-capabilities-supported"),
        ),
        remote_system_enable_capab: capabilities(
            item.text_of("lldp-remote-system-capabilities-enabled"),
        ),
        detailed,
        extra,
    }
}

/// NAPALM's capability translation: a case-insensitive substring match, sorted.
///
/// One pass over the text, comparing a phrase only where its first byte is: inside the
/// sandbox a substring search per phrase (`memmem`, which first builds a searcher) cost about
/// 3% of an LLDP collection, against under 1% natively.
pub fn capabilities(text: &str) -> Vec<String> {
    // By NAPALM's name, so that the matches come out sorted.
    const TABLE: [(&str, &str); 8] = [
        ("bridge", "bridge"),
        ("docsis cable device", "docsis-cable-device"),
        ("other", "other"),
        ("repeater", "repeater"),
        ("router", "router"),
        ("station only", "station"),
        ("telephone", "telephone"),
        ("wlan access point", "wlan-access-point"),
    ];
    let bytes = text.as_bytes();
    let mut found = 0u8;
    for (i, b) in bytes.iter().enumerate() {
        let b = b.to_ascii_lowercase();
        for (k, (phrase, _)) in TABLE.iter().enumerate() {
            // The first byte rules out nearly every phrase before anything is compared.
            if phrase.as_bytes().first() == Some(&b)
                && bytes
                    .get(i..i + phrase.len())
                    .is_some_and(|w| w.eq_ignore_ascii_case(phrase.as_bytes()))
            {
                found |= 1 << k;
            }
        }
    }
    TABLE
        .iter()
        .enumerate()
        .filter(|(k, _)| found & (1 << k) != 0)
        .map(|(_, (_, name))| name.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use nbfacts_sdk::testing::FakeDevice;

    /// NAPALM's rule, written plainly: lower-case the text, keep the phrases it contains.
    fn napalm_capabilities(text: &str) -> Vec<String> {
        let lower = text.to_lowercase();
        let mut out: Vec<String> = [
            ("other", "other"),
            ("repeater", "repeater"),
            ("bridge", "bridge"),
            ("wlan access point", "wlan-access-point"),
            ("router", "router"),
            ("telephone", "telephone"),
            ("docsis cable device", "docsis-cable-device"),
            ("station only", "station"),
        ]
        .iter()
        .filter(|(phrase, _)| lower.contains(phrase))
        .map(|(_, name)| name.to_string())
        .collect();
        out.sort();
        out
    }

    #[test]
    fn capabilities_match_napalms_substring_rule() {
        for text in [
            "",
            "Bridge Router",
            "bridge router WLAN Access Point ",
            "Repeater Bridge WLAN-Access-Point Router Telephone DOCSIS-Cable-Device Station-Only Other",
            "Repeater Bridge WLAN Access Point Router Telephone DOCSIS Cable Device Station Only Other",
            "ROUTERS, bridges",
            "Rout",
            "Routerrouter",
            "rrouter",
            "Brücke Router",
            "Station only, other",
            "wlan access poin",
            "telephone",
            " ",
        ] {
            assert_eq!(capabilities(text), napalm_capabilities(text), "{text:?}");
        }
    }

    const TABLE_REPLY: &str = r#"<rpc-reply xmlns:junos="http://xml.juniper.net/junos/21.4R3/junos">
    <lldp-neighbors-information junos:style="brief">
        <lldp-neighbor-information>
            <lldp-local-port-id>xe-0/0/1</lldp-local-port-id>
            <lldp-local-parent-interface-name>ae1</lldp-local-parent-interface-name>
            <lldp-remote-chassis-id-subtype>Mac address</lldp-remote-chassis-id-subtype>
            <lldp-remote-chassis-id>00:00:5e:00:53:aa</lldp-remote-chassis-id>
            <lldp-remote-port-id-subtype>Interface name</lldp-remote-port-id-subtype>
            <lldp-remote-port-id>et-0/0/7</lldp-remote-port-id>
            <lldp-remote-system-name>spine1</lldp-remote-system-name>
        </lldp-neighbor-information>
        <lldp-neighbor-information>
            <lldp-local-interface>me0.0</lldp-local-interface>
            <lldp-local-parent-interface-name>-</lldp-local-parent-interface-name>
            <lldp-remote-chassis-id>192.0.2.7</lldp-remote-chassis-id>
            <lldp-remote-port-description>Port 7</lldp-remote-port-description>
            <lldp-remote-system-name>oob-switch</lldp-remote-system-name>
        </lldp-neighbor-information>
    </lldp-neighbors-information>
    <cli><banner>{master:0}</banner></cli>
</rpc-reply>"#;

    const DETAIL_REPLY: &str = r#"<lldp-neighbors-information junos_style="detail">
    <lldp-neighbor-information>
        <lldp-local-interface>xe-0/0/1</lldp-local-interface>
        <lldp-local-parent-interface-name>ae1</lldp-local-parent-interface-name>
        <lldp-local-port-id>517</lldp-local-port-id>
        <lldp-remote-chassis-id>00:00:5e:00:53:aa</lldp-remote-chassis-id>
        <lldp-remote-port-id>et-0/0/7</lldp-remote-port-id>
        <lldp-remote-port-description>to leaf1</lldp-remote-port-description>
        <lldp-remote-system-name>spine1</lldp-remote-system-name>
        <lldp-system-description>
            <lldp-remote-system-description>Juniper Networks, Inc. qfx5220</lldp-remote-system-description>
        </lldp-system-description>
        <lldp-remote-system-capabilities-supported>Bridge Router WLAN Access Point </lldp-remote-system-capabilities-supported>
        <lldp-remote-system-capabilities-enabled>Router</lldp-remote-system-capabilities-enabled>
    </lldp-neighbor-information>
</lldp-neighbors-information>"#;

    #[test]
    fn table_keys_and_fields() {
        let rows = parse_table(TABLE_REPLY).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[0].interface.as_str(), rows[0].port_id.as_str()),
            ("xe-0/0/1", "xe-0/0/1")
        );
        assert_eq!(
            (rows[1].interface.as_str(), rows[1].port_id.as_str()),
            ("me0.0", "")
        );
        let n = &rows[0].neighbor;
        assert_eq!(n.remote_chassis_id, "00:00:5E:00:53:AA");
        assert_eq!(n.parent_interface, "ae1");
        assert!(!n.detailed);
        assert_eq!(rows[1].neighbor.remote_chassis_id, "192.0.2.7");
    }

    #[test]
    fn detail_is_read_per_interface_with_fallback_rpc() {
        // Only the older per-interface RPC exists on this device.
        let dev = FakeDevice::new()
            .with_reply(TABLE, TABLE_REPLY)
            .with_reply(DETAIL_OLD, DETAIL_REPLY);
        let n = collect(&dev).unwrap();
        assert_eq!(
            dev.calls(),
            [TABLE, DETAIL, DETAIL_OLD, DETAIL_OLD],
            "switches to the RPC that worked"
        );
        assert_eq!(n.len(), 2);
        assert!(n.iter().all(|n| n.detailed));
        assert_eq!(n[0].local_interface, "xe-0/0/1");
        assert_eq!(
            n[0].remote_system_description,
            "Juniper Networks, Inc. qfx5220"
        );
        assert_eq!(
            n[0].remote_system_capab,
            ["bridge", "router", "wlan-access-point"]
        );
        assert_eq!(n[0].remote_system_enable_capab, ["router"]);
        // The mock answers every interface with the same detail; the key stays the interface
        // that was asked for.
        assert_eq!(n[1].local_interface, "me0.0");
        assert_eq!(n[1].local_port_id, "");
    }

    #[test]
    fn without_detail_rpcs_the_table_is_returned() {
        let dev = FakeDevice::new().with_reply(TABLE, TABLE_REPLY);
        let n = collect(&dev).unwrap();
        assert_eq!(n.len(), 2);
        assert!(n.iter().all(|n| !n.detailed));
        assert_eq!(
            dev.calls(),
            [TABLE, DETAIL, DETAIL_OLD],
            "gives up after one interface"
        );
        assert_eq!(n[1].remote_port_description, "Port 7");
    }

    #[test]
    fn lldp_off_is_empty() {
        assert!(collect(&FakeDevice::new()).unwrap().is_empty());
        let off = FakeDevice::new().with_reply(TABLE, "<output>LLDP is not running</output>");
        assert!(collect(&off).unwrap().is_empty());
    }

    #[test]
    fn malformed_table_names_rpc_and_element() {
        let reply = "<lldp-neighbors-information><lldp-neighbor-information><lldp-remote-system-name>x</lldp-remote-system-name></lldp-neighbor-information></lldp-neighbors-information>";
        match parse_table(reply) {
            Err(CollectError::Parse(e)) => {
                assert_eq!(e.rpc, TABLE);
                assert_eq!(e.element, "lldp-local-interface");
            }
            other => panic!("expected a parse error, got {other:?}"),
        }
    }

    #[test]
    fn requests_escape_the_interface() {
        assert_eq!(
            detail_request(DETAIL, "ge-0/0/0"),
            "<get-lldp-interface-neighbors><interface-device>ge-0/0/0</interface-device></get-lldp-interface-neighbors>"
        );
        assert!(
            detail_request(DETAIL_OLD, "a<b").contains("<interface-name>a&lt;b</interface-name>")
        );
    }

    #[test]
    fn generated_neighbours() {
        let reply = crate::generate::lldp_neighbors(100);
        let rows = parse_table(&reply).unwrap();
        assert_eq!(rows.len(), 100);
        let detail = crate::generate::lldp_interface_detail(&rows[5].interface, 5);
        let n = parse_detail(DETAIL, &detail, &rows[5].interface, &rows[5].port_id).unwrap();
        assert_eq!(n[0].remote_system_capab, ["bridge", "router"]);
    }

    #[test]
    fn namespaced_multi_routing_engine_table() {
        let reply = r#"<rpc-reply xmlns="urn:ietf:params:xml:ns:netconf:base:1.0" xmlns:junos="http://xml.juniper.net/junos/21.4R3/junos">
<multi-routing-engine-results><multi-routing-engine-item><re-name>fpc1</re-name>
  <lldp-neighbors-information xmlns="http://xml.juniper.net/junos/21.4R3/junos-lldp" junos:style="brief">
    <lldp-neighbor-information>
      <lldp-local-port-id>ge-1/0/1</lldp-local-port-id>
      <lldp-remote-port-id>eth0</lldp-remote-port-id>
      <lldp-remote-system-name>server1</lldp-remote-system-name>
    </lldp-neighbor-information>
  </lldp-neighbors-information>
</multi-routing-engine-item></multi-routing-engine-results></rpc-reply>"#;
        let rows = parse_table(reply).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].interface, "ge-1/0/1");
        assert_eq!(rows[0].neighbor.remote_port, "eth0");
    }

    #[test]
    fn pre_els_tables_try_the_older_rpc_first() {
        let table = "<lldp-neighbors-information><lldp-neighbor-information><lldp-local-interface>fe-0/0/2.0</lldp-local-interface><lldp-remote-system-name>r</lldp-remote-system-name></lldp-neighbor-information></lldp-neighbors-information>";
        let dev = FakeDevice::new()
            .with_reply(TABLE, table)
            .with_reply(DETAIL_OLD, DETAIL_REPLY);
        let n = collect(&dev).unwrap();
        assert_eq!(dev.calls(), [TABLE, DETAIL_OLD]);
        assert_eq!(n[0].local_interface, "fe-0/0/2.0");
        assert!(n[0].detailed);
    }
}
