//! `arp` and `ndp`: NAPALM's `get_arp_table` and `get_ipv6_neighbors_table`.
//!
//! * ARP: `get-arp-table-information` (`no-resolve`, `expiration-time`), one
//!   `arp-table-entry` per neighbour: `interface-name`, `mac-address` through NAPALM's `mac()`,
//!   `ip-address` through `ip()`, `time-to-expire` as the age in seconds (`-1` when absent,
//!   for example on permanent entries).
//! * NDP: `get-ipv6-nd-information`, one `ipv6-nd-entry` per neighbour. A neighbour without a
//!   link-layer address says `none`, which becomes `""` (NAPALM's `mac_is_none` case); the
//!   state is kept lower-case (`reachable`, `stale`, …).
//!
//! Both keep the device's order. An entry without an IP address is a parse error naming the
//! element; a table that is not there (`<output>`) is empty.

use nbfacts_sdk::{ArpEntry, CollectError, Device, NdpEntry, parse_error};

use crate::common::{call, ip, mac, number, parse, payloads_named};
use crate::xml::Doc;

/// The RPC `arp` sends.
pub const ARP_RPC: &str =
    "<get-arp-table-information><no-resolve/><expiration-time/></get-arp-table-information>";
/// The RPC `ndp` sends.
pub const NDP_RPC: &str = "<get-ipv6-nd-information/>";

const ARP: &str = "get-arp-table-information";
const NDP: &str = "get-ipv6-nd-information";

/// Runs the `arp` collector.
pub fn collect_arp(device: &dyn Device) -> Result<Vec<ArpEntry>, CollectError> {
    parse_arp(&call(device, ARP_RPC)?)
}

/// Runs the `ndp` collector.
pub fn collect_ndp(device: &dyn Device) -> Result<Vec<NdpEntry>, CollectError> {
    parse_ndp(&call(device, NDP_RPC)?)
}

/// Parses a `get-arp-table-information` reply.
pub fn parse_arp(reply: &str) -> Result<Vec<ArpEntry>, CollectError> {
    parse_arp_doc(&parse(ARP, reply)?)
}

/// Like [`parse_arp`], for a reply already in a [`Doc`] (for example one loaded from Junos
/// JSON).
pub fn parse_arp_doc(doc: &Doc<'_>) -> Result<Vec<ArpEntry>, CollectError> {
    let mut out = Vec::new();
    for table in payloads_named(ARP, doc, "arp-table-information")? {
        for entry in table.el.children_named("arp-table-entry") {
            let address = entry.nonempty("ip-address").ok_or_else(|| {
                parse_error(ARP, "ip-address", "an arp-table-entry has no ip-address")
            })?;
            out.push(ArpEntry {
                interface: entry.text_of("interface-name").to_string(),
                mac: mac(entry.text_of("mac-address")),
                ip: ip(address),
                age: number(ARP, entry, "time-to-expire")?.unwrap_or(-1.0),
                extra: Vec::new(),
            });
        }
    }
    Ok(out)
}

/// Parses a `get-ipv6-nd-information` reply.
pub fn parse_ndp(reply: &str) -> Result<Vec<NdpEntry>, CollectError> {
    parse_ndp_doc(&parse(NDP, reply)?)
}

/// Like [`parse_ndp`], for a reply already in a [`Doc`] (for example one loaded from Junos
/// JSON).
pub fn parse_ndp_doc(doc: &Doc<'_>) -> Result<Vec<NdpEntry>, CollectError> {
    let mut out = Vec::new();
    for table in payloads_named(NDP, doc, "ipv6-nd-information")? {
        for entry in table.el.children_named("ipv6-nd-entry") {
            let address = entry.nonempty("ipv6-nd-neighbor-address").ok_or_else(|| {
                parse_error(
                    NDP,
                    "ipv6-nd-neighbor-address",
                    "an ipv6-nd-entry has no neighbour address",
                )
            })?;
            let l2 = entry.text_of("ipv6-nd-neighbor-l2-address");
            let mut extra = Vec::new();
            if let Some(router) = entry.nonempty("ipv6-nd-isrouter") {
                extra.push(("is-router".to_string(), router.to_string()));
            }
            out.push(NdpEntry {
                interface: entry.text_of("ipv6-nd-interface-name").to_string(),
                mac: if l2.eq_ignore_ascii_case("none") {
                    String::new()
                } else {
                    mac(l2)
                },
                ip: ip(address),
                age: number(NDP, entry, "ipv6-nd-expire")?.unwrap_or(-1.0),
                state: entry.text_of("ipv6-nd-state").to_ascii_lowercase(),
                extra,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nbfacts_sdk::testing::FakeDevice;

    const ARP_REPLY: &str = r#"<rpc-reply xmlns:junos="http://xml.juniper.net/junos/20.4R3/junos">
  <arp-table-information xmlns="http://xml.juniper.net/junos/20.4R3/junos-arp" junos:style="no-resolve">
    <arp-table-entry>
      <mac-address>00:00:5e:00:53:0a</mac-address>
      <ip-address>192.0.2.10</ip-address>
      <interface-name>irb.100</interface-name>
      <time-to-expire junos:seconds="1187"> 1187</time-to-expire>
      <arp-table-entry-flags><none/></arp-table-entry-flags>
    </arp-table-entry>
    <arp-table-entry>
      <mac-address>00:00:5e:00:53:0b</mac-address>
      <ip-address>192.0.2.11</ip-address>
      <interface-name>ge-0/0/1.0</interface-name>
      <arp-table-entry-flags><permanent/></arp-table-entry-flags>
    </arp-table-entry>
    <arp-entry-count>2</arp-entry-count>
  </arp-table-information>
  <cli><banner>{master:0}</banner></cli>
</rpc-reply>"#;

    #[test]
    fn arp_entries_in_device_order() {
        let entries = parse_arp(ARP_REPLY).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].mac, "00:00:5E:00:53:0A");
        assert_eq!(entries[0].ip, "192.0.2.10");
        assert_eq!(entries[0].interface, "irb.100");
        assert_eq!(entries[0].age, 1187.0);
        assert_eq!(entries[1].age, -1.0);
    }

    #[test]
    fn arp_through_the_device() {
        let dev = FakeDevice::new().with_reply("get-arp-table-information", ARP_REPLY);
        assert_eq!(collect_arp(&dev).unwrap().len(), 2);
        assert_eq!(dev.calls(), ["get-arp-table-information"]);
        let missing = FakeDevice::new();
        assert!(matches!(
            collect_arp(&missing),
            Err(CollectError::Device(_))
        ));
    }

    #[test]
    fn arp_without_an_address_or_with_a_bad_age_is_a_parse_error() {
        let reply = "<arp-table-information><arp-table-entry><mac-address>00:00:5e:00:53:0a</mac-address></arp-table-entry></arp-table-information>";
        match parse_arp(reply) {
            Err(CollectError::Parse(e)) => {
                assert_eq!(e.rpc, "get-arp-table-information");
                assert_eq!(e.element, "ip-address");
            }
            other => panic!("expected a parse error, got {other:?}"),
        }
        let reply = "<arp-table-information><arp-table-entry><ip-address>192.0.2.1</ip-address><time-to-expire>soon</time-to-expire></arp-table-entry></arp-table-information>";
        match parse_arp(reply) {
            Err(CollectError::Parse(e)) => assert_eq!(e.element, "time-to-expire"),
            other => panic!("expected a parse error, got {other:?}"),
        }
        assert!(matches!(
            parse_arp("<arp-table-information><arp-table-entry>"),
            Err(CollectError::Parse(_))
        ));
        assert!(matches!(
            parse_arp("<route-information/>"),
            Err(CollectError::Parse(_))
        ));
    }

    #[test]
    fn ndp_none_mac_is_empty_and_state_lower_case() {
        let reply = r#"<rpc-reply><ipv6-nd-information xmlns="http://xml.juniper.net/junos/20.4R3/junos-routing">
  <ipv6-nd-entry>
    <ipv6-nd-neighbor-address>2001:0DB8:0:1::5</ipv6-nd-neighbor-address>
    <ipv6-nd-neighbor-l2-address>none</ipv6-nd-neighbor-l2-address>
    <ipv6-nd-state>Incomplete</ipv6-nd-state>
    <ipv6-nd-expire>1</ipv6-nd-expire>
    <ipv6-nd-isrouter>no</ipv6-nd-isrouter>
    <ipv6-nd-interface-name>ae1.0</ipv6-nd-interface-name>
  </ipv6-nd-entry>
  <ipv6-nd-entry>
    <ipv6-nd-neighbor-address>fe80::200:5eff:fe00:530c</ipv6-nd-neighbor-address>
    <ipv6-nd-neighbor-l2-address>00:00:5e:00:53:0c</ipv6-nd-neighbor-l2-address>
    <ipv6-nd-state>reachable</ipv6-nd-state>
    <ipv6-nd-expire>26</ipv6-nd-expire>
    <ipv6-nd-interface-name>ae1.0</ipv6-nd-interface-name>
  </ipv6-nd-entry>
</ipv6-nd-information></rpc-reply>"#;
        let entries = parse_ndp(reply).unwrap();
        assert_eq!(entries[0].mac, "");
        assert_eq!(entries[0].ip, "2001:db8:0:1::5");
        assert_eq!(entries[0].state, "incomplete");
        assert_eq!(entries[1].mac, "00:00:5E:00:53:0C");
        assert_eq!(entries[1].age, 26.0);
    }

    #[test]
    fn not_running_output_is_empty() {
        assert!(
            parse_ndp("<output>IPv6 is not running</output>")
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn multi_routing_engine_replies_are_merged_in_order() {
        let reply = r#"<rpc-reply xmlns:junos="http://xml.juniper.net/junos/21.4R3/junos">
<multi-routing-engine-results>
  <multi-routing-engine-item><re-name>fpc0</re-name>
    <arp-table-information xmlns="http://xml.juniper.net/junos/21.4R3/junos-arp">
      <arp-table-entry><mac-address>00:00:5e:00:53:01</mac-address><ip-address>192.0.2.1</ip-address><interface-name>irb.1</interface-name></arp-table-entry>
    </arp-table-information></multi-routing-engine-item>
  <multi-routing-engine-item><re-name>fpc1</re-name>
    <arp-table-information xmlns="http://xml.juniper.net/junos/21.4R3/junos-arp">
      <arp-table-entry><mac-address>00:00:5e:00:53:02</mac-address><ip-address>192.0.2.2</ip-address><interface-name>irb.1</interface-name></arp-table-entry>
    </arp-table-information></multi-routing-engine-item>
</multi-routing-engine-results></rpc-reply>"#;
        let e = parse_arp(reply).unwrap();
        assert_eq!(
            e.iter().map(|e| e.ip.as_str()).collect::<Vec<_>>(),
            ["192.0.2.1", "192.0.2.2"]
        );
    }
}
