//! `interfaces`: NAPALM's `get_interfaces`, `get_interfaces_ip`, `get_network_instances` and
//! `get_vlans` from one collection.
//!
//! | part | RPC |
//! |---|---|
//! | interfaces | `get-interface-information` (full): physical and logical interfaces in one list |
//! | addresses | `get-interface-information` terse: `logical-interface/address-family/interface-address/ifa-local` |
//! | instances | `<get-configuration>` of `routing-instances/instance`, plus a synthetic `default` |
//! | VLANs | `get-vlan-information` (ELS or legacy EX), else `get-bridge-instance-information` (MX) |
//!
//! Every part is optional: a device that answers one RPC with an rpc-error simply has none of
//! that part (a router has no VLAN table). Only when every RPC fails is the first error
//! returned.
//!
//! NAPALM's value rules, kept here: a logical interface inherits `is_up`, `last_flapped`,
//! speed, MTU and MAC from its physical interface and is disabled only with
//! `if-config-flags/iff-down`; `last_flapped` of 0 or absent is `-1`; the speed is the first
//! number of `speed` (`Gbps` ×1000; `Auto` reads the link partner's speed), `-1` otherwise;
//! the MTU is the first word of `mtu` as a number, else 0 (`Unlimited`); a missing MAC is
//! the string `None`. Addresses keep the prefix length after `/`, or 32 / 128 without one;
//! families other than `inet`/`inet6` are dropped. The `default` instance holds every
//! interface that no configured instance claims.

use nbfacts_sdk::{
    CollectError, Device, DeviceError, Interface, InterfaceAddress, Interfaces, IpFamily,
    NetworkInstance, RpcError, Vlan, parse_error,
};

use crate::common::{call_or_rpc_error, ip, mac, parse, payloads, payloads_named, seconds};
use crate::xml::{Doc, El};

/// The full interface RPC.
pub const FULL_RPC: &str = "<get-interface-information/>";
/// The terse interface RPC (addresses with prefix lengths).
pub const TERSE_RPC: &str = "<get-interface-information><terse/></get-interface-information>";
/// The routing-instance configuration request (the exact filter NAPALM sends).
pub const INSTANCES_RPC: &str = "<get-configuration><configuration><routing-instances><instance/></routing-instances></configuration></get-configuration>";
/// The VLAN table of ELS and legacy EX switches.
pub const VLANS_RPC: &str = "<get-vlan-information/>";
/// The bridge-domain table of MX routers.
pub const BRIDGE_RPC: &str = "<get-bridge-instance-information/>";

const INTERFACES: &str = "get-interface-information";
const CONFIG: &str = "get-configuration";
const VLANS: &str = "get-vlan-information";
const BRIDGE: &str = "get-bridge-instance-information";

/// Runs the `interfaces` collector.
pub fn collect(device: &dyn Device) -> Result<Interfaces, CollectError> {
    let mut first_error: Option<RpcError> = None;
    let mut any = false;
    let mut get = |rpc: &str| -> Result<Option<String>, CollectError> {
        match call_or_rpc_error(device, rpc)? {
            Ok(reply) => {
                any = true;
                Ok(Some(reply))
            }
            Err(e) => {
                first_error.get_or_insert(e);
                Ok(None)
            }
        }
    };
    let full = get(FULL_RPC)?;
    let terse = get(TERSE_RPC)?;
    let config = get(INSTANCES_RPC)?;
    let mut vlans = Vec::new();
    let mut vlan_reply = get(VLANS_RPC)?;
    if let Some(reply) = &vlan_reply {
        vlans = parse_vlans(VLANS, reply)?;
    }
    if vlans.is_empty() {
        // An MX has bridge domains rather than VLANs.
        vlan_reply = get(BRIDGE_RPC)?;
        if let Some(reply) = &vlan_reply {
            vlans = parse_vlans(BRIDGE, reply)?;
        }
    }
    if !any && let Some(e) = first_error {
        return Err(CollectError::Device(DeviceError::Rpc(e)));
    }
    let interfaces = match &full {
        Some(reply) => parse_interfaces(reply)?,
        None => Vec::new(),
    };
    let addresses = match &terse {
        Some(reply) => parse_addresses(reply)?,
        None => Vec::new(),
    };
    let instances = match &config {
        Some(reply) => parse_instances(reply, &interfaces)?,
        None => Vec::new(),
    };
    Ok(Interfaces {
        interfaces,
        addresses,
        instances,
        vlans,
    })
}

/// Parses the full `get-interface-information` reply.
pub fn parse_interfaces(reply: &str) -> Result<Vec<Interface>, CollectError> {
    parse_interfaces_doc(&parse(INTERFACES, reply)?)
}

/// Like [`parse_interfaces`], for a reply already in a [`Doc`] (for example one loaded from Junos
/// JSON).
pub fn parse_interfaces_doc(doc: &Doc<'_>) -> Result<Vec<Interface>, CollectError> {
    let mut out = Vec::new();
    for payload in payloads_named(INTERFACES, doc, "interface-information")? {
        for physical in payload.el.children_named("physical-interface") {
            let name = required_name(physical)?;
            let is_up = physical.text_of("oper-status") == "up";
            let last_flapped = flapped(physical)?;
            let speed = speed(physical);
            let mtu = mtu(physical.text_of("mtu"));
            let mac_address = match physical.child_text("current-physical-address") {
                Some(text) if !text.is_empty() => mac(text),
                _ => "None".to_string(),
            };
            out.push(Interface {
                name: name.to_string(),
                parent: String::new(),
                is_up,
                is_enabled: physical
                    .child_text("admin-status")
                    .is_none_or(|s| s == "up"),
                description: physical.text_of("description").to_string(),
                last_flapped,
                mtu,
                speed,
                mac_address: mac_address.clone(),
                extra: Vec::new(),
            });
            for logical in physical.children_named("logical-interface") {
                out.push(Interface {
                    name: required_name(logical)?.to_string(),
                    parent: name.to_string(),
                    is_up,
                    is_enabled: logical.path("if-config-flags/iff-down").is_none(),
                    description: logical.text_of("description").to_string(),
                    last_flapped,
                    mtu,
                    speed,
                    mac_address: mac_address.clone(),
                    extra: Vec::new(),
                });
            }
        }
    }
    Ok(out)
}

fn required_name<'d>(el: El<'d, '_>) -> Result<&'d str, CollectError> {
    el.nonempty("name")
        .ok_or_else(|| parse_error(INTERFACES, "name", format!("a {} has no name", el.name())))
}

/// `interface-flapped/@seconds`; NAPALM turns 0 or absent into `-1`.
fn flapped(physical: El<'_, '_>) -> Result<f64, CollectError> {
    Ok(match seconds(INTERFACES, physical, "interface-flapped")? {
        Some(s) if s != 0 => s as f64,
        _ => -1.0,
    })
}

/// NAPALM's speed rule: the first run of digits (or `Auto`) in `speed` and the word after it.
fn speed(physical: El<'_, '_>) -> f64 {
    let text = physical.text_of("speed");
    let parsed = match first_number_or_auto(text) {
        Some(Speed::Auto) => {
            let partner = physical
                .path("ethernet-autonegotiation/link-partner-speed")
                .map(|e| e.text())
                .unwrap_or("");
            first_number(partner)
        }
        Some(Speed::Number(value, unit)) => Some((value, unit)),
        None => None,
    };
    match parsed {
        Some((value, unit)) if unit.eq_ignore_ascii_case("gbps") => value * 1000.0,
        Some((value, _)) => value,
        None => -1.0,
    }
}

enum Speed<'t> {
    Number(f64, &'t str),
    Auto,
}

/// `re.search(r"(\d+|[Aa]uto)(\w*)", text)`.
fn first_number_or_auto(text: &str) -> Option<Speed<'_>> {
    for (i, c) in text.char_indices() {
        let rest = text.get(i..)?;
        if c.is_ascii_digit() {
            return number_at(rest).map(|(v, u)| Speed::Number(v, u));
        }
        if rest.starts_with("Auto") || rest.starts_with("auto") {
            return Some(Speed::Auto);
        }
    }
    None
}

/// `re.search(r"(\d+)(\w*)", text)`.
fn first_number(text: &str) -> Option<(f64, &str)> {
    let start = text.find(|c: char| c.is_ascii_digit())?;
    number_at(text.get(start..)?)
}

fn number_at(text: &str) -> Option<(f64, &str)> {
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let value: f64 = text.get(..digits_end)?.parse().ok()?;
    let rest = text.get(digits_end..)?;
    let word_end = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    Some((value, rest.get(..word_end)?))
}

/// NAPALM's MTU rule: the first word of `mtu` as an integer, else 0.
fn mtu(text: &str) -> i64 {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .find(|w| !w.is_empty())
        .and_then(|w| w.parse().ok())
        .unwrap_or(0)
}

/// Parses the terse `get-interface-information` reply into addresses.
pub fn parse_addresses(reply: &str) -> Result<Vec<InterfaceAddress>, CollectError> {
    parse_addresses_doc(&parse(INTERFACES, reply)?)
}

/// Like [`parse_addresses`], for a reply already in a [`Doc`] (for example one loaded from Junos
/// JSON).
pub fn parse_addresses_doc(doc: &Doc<'_>) -> Result<Vec<InterfaceAddress>, CollectError> {
    let mut out = Vec::new();
    for payload in payloads_named(INTERFACES, doc, "interface-information")? {
        for physical in payload.el.children_named("physical-interface") {
            for logical in physical.children_named("logical-interface") {
                let interface = logical.text_of("name");
                if interface.is_empty() {
                    continue;
                }
                for family_el in logical.children_named("address-family") {
                    let (family, max) = match family_el.text_of("address-family-name") {
                        "inet" => (IpFamily::Ipv4, 32),
                        "inet6" => (IpFamily::Ipv6, 128),
                        _ => continue,
                    };
                    for address in family_el.children_named("interface-address") {
                        let Some(local) = address.nonempty("ifa-local") else {
                            continue;
                        };
                        let (addr, prefix) = match local.split_once('/') {
                            Some((addr, len)) => (addr, len.trim().parse().unwrap_or(max)),
                            None => (local, max),
                        };
                        out.push(InterfaceAddress {
                            interface: interface.to_string(),
                            family,
                            address: ip(addr),
                            prefix_length: prefix,
                            extra: Vec::new(),
                        });
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Parses the routing-instance configuration; `interfaces` (from the full reply) fill the
/// synthetic `default` instance.
pub fn parse_instances(
    reply: &str,
    interfaces: &[Interface],
) -> Result<Vec<NetworkInstance>, CollectError> {
    parse_instances_doc(&parse(CONFIG, reply)?, interfaces)
}

/// Like [`parse_instances`], for a reply already in a [`Doc`] (for example one loaded from Junos
/// JSON).
pub fn parse_instances_doc(
    doc: &Doc<'_>,
    interfaces: &[Interface],
) -> Result<Vec<NetworkInstance>, CollectError> {
    let mut out = Vec::new();
    for payload in payloads(doc) {
        let configuration = if payload.el.is("configuration") {
            payload.el
        } else if payload.el.is("data") {
            match payload.el.child("configuration") {
                Some(c) => c,
                None => continue,
            }
        } else {
            continue;
        };
        for ri in configuration
            .children_named("routing-instances")
            .flat_map(|r| r.children_named("instance"))
        {
            let name = ri
                .nonempty("name")
                .ok_or_else(|| parse_error(CONFIG, "name", "a routing instance has no name"))?;
            let raw_type = ri.nonempty("instance-type").unwrap_or("default");
            let mut members: Vec<String> = Vec::new();
            let bridged = ri
                .children_named("bridge-domains")
                .flat_map(|b| b.children_named("domain"))
                .flat_map(|d| d.children_named("interface"));
            for interface in ri.children_named("interface").chain(bridged) {
                let name = interface.text_of("name");
                if !name.is_empty() && !members.iter().any(|m| m == name) {
                    members.push(name.to_string());
                }
            }
            out.push(NetworkInstance {
                name: name.to_string(),
                instance_type: instance_type(raw_type).to_string(),
                route_distinguisher: ri
                    .path("route-distinguisher/rd-type")
                    .map(|e| e.text())
                    .unwrap_or("")
                    .to_string(),
                interfaces: members,
                extra: Vec::new(),
            });
        }
    }
    if !out.iter().any(|i| i.name == "default") {
        let claimed: std::collections::HashSet<&str> = out
            .iter()
            .flat_map(|i| i.interfaces.iter().map(String::as_str))
            .collect();
        out.push(NetworkInstance {
            name: "default".to_string(),
            instance_type: "DEFAULT_INSTANCE".to_string(),
            route_distinguisher: String::new(),
            interfaces: interfaces
                .iter()
                .filter(|i| !claimed.contains(i.name.as_str()))
                .map(|i| i.name.clone())
                .collect(),
            extra: Vec::new(),
        });
    }
    Ok(out)
}

/// NAPALM's (OpenConfig) instance type names; other types are passed through.
fn instance_type(raw: &str) -> &str {
    match raw {
        "default" => "DEFAULT_INSTANCE",
        "vrf" => "L3VRF",
        "evpn" => "BGP_EVPN",
        "vpls" => "BGP_VPLS",
        "l2vpn" => "L2VPN",
        "forwarding" => "L2P2P",
        other => other,
    }
}

/// Parses a VLAN table: `get-vlan-information` (ELS `l2ng-l2ald-vlan-instance-group` or
/// legacy `vlan`) or `get-bridge-instance-information` (`l2ald-bridge-instance-group`).
pub fn parse_vlans(rpc: &str, reply: &str) -> Result<Vec<Vlan>, CollectError> {
    parse_vlans_doc(rpc, &parse(rpc, reply)?)
}

/// Like [`parse_vlans`], for a reply already in a [`Doc`] (for example one loaded from Junos
/// JSON).
pub fn parse_vlans_doc(rpc: &str, doc: &Doc<'_>) -> Result<Vec<Vlan>, CollectError> {
    let mut out = Vec::new();
    for payload in payloads(doc) {
        let table = payload.el;
        for group in table.children_named("l2ng-l2ald-vlan-instance-group") {
            let members = group
                .children_named("l2ng-l2rtb-vlan-member")
                .flat_map(|m| m.children_named("l2ng-l2rtb-vlan-member-interface"));
            push_vlan(
                rpc,
                &mut out,
                group,
                "l2ng-l2rtb-vlan-tag",
                "l2ng-l2rtb-vlan-name",
                members,
            )?;
        }
        for group in table.children_named("l2ald-bridge-instance-group") {
            let members = group.children_named("l2rtb-interface-name");
            push_vlan(
                rpc,
                &mut out,
                group,
                "l2rtb-bridge-vlan",
                "l2rtb-bridging-domain",
                members,
            )?;
        }
        for vlan in table.children_named("vlan") {
            let members = vlan.descendants("vlan-member-interface");
            push_vlan(
                rpc,
                &mut out,
                vlan,
                "vlan-tag",
                "vlan-name",
                members.into_iter(),
            )?;
        }
    }
    Ok(out)
}

fn push_vlan<'d, 'a>(
    rpc: &str,
    out: &mut Vec<Vlan>,
    group: El<'d, 'a>,
    tag: &str,
    name: &str,
    members: impl Iterator<Item = El<'d, 'a>>,
) -> Result<(), CollectError> {
    let text = group.text_of(tag);
    if text.is_empty() || text.eq_ignore_ascii_case("none") {
        return Ok(());
    }
    let vlan_id = text
        .parse()
        .map_err(|_| parse_error(rpc, tag, format!("expected a VLAN id, got {text:?}")))?;
    let mut interfaces = Vec::new();
    for member in members {
        let interface = member.text().trim_end_matches('*');
        // NAPALM drops the header placeholders some releases print as members.
        if interface.is_empty()
            || matches!(
                interface,
                "None" | "l2rtb-interface-name" | "l2ng-l2rtb-vlan-member-interface"
            )
        {
            continue;
        }
        interfaces.push(interface.to_string());
    }
    out.push(Vlan {
        vlan_id,
        name: group.text_of(name).to_string(),
        interfaces,
        extra: Vec::new(),
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use nbfacts_sdk::testing::FakeDevice;

    const FULL: &str = r#"<rpc-reply xmlns:junos="http://xml.juniper.net/junos/21.4R3/junos">
<interface-information xmlns="http://xml.juniper.net/junos/21.4R3/junos-interface" junos:style="normal">
  <physical-interface>
    <name>ge-0/0/0</name>
    <admin-status junos:format="Enabled">up</admin-status>
    <oper-status>up</oper-status>
    <description>uplink</description>
    <mtu>1514</mtu>
    <speed>Auto</speed>
    <current-physical-address>00:00:5e:00:53:01</current-physical-address>
    <interface-flapped junos:seconds="3600">2024-01-01 00:00:00 UTC (01:00:00 ago)</interface-flapped>
    <ethernet-autonegotiation><link-partner-speed>1000 Mbps</link-partner-speed></ethernet-autonegotiation>
    <logical-interface>
      <name>ge-0/0/0.0</name>
      <description>unit 0</description>
      <if-config-flags><iff-up/><iff-snmp-traps/></if-config-flags>
    </logical-interface>
    <logical-interface>
      <name>ge-0/0/0.100</name>
      <if-config-flags><iff-down/></if-config-flags>
    </logical-interface>
  </physical-interface>
  <physical-interface>
    <name>xe-0/0/1</name>
    <admin-status>down</admin-status>
    <oper-status>down</oper-status>
    <mtu>9192</mtu>
    <speed>10Gbps</speed>
    <current-physical-address>Unspecified</current-physical-address>
    <interface-flapped junos:seconds="0">Never</interface-flapped>
  </physical-interface>
  <physical-interface>
    <name>lo0</name>
    <oper-status>up</oper-status>
    <mtu>Unlimited</mtu>
    <speed>Unlimited</speed>
  </physical-interface>
</interface-information>
</rpc-reply>"#;

    const TERSE: &str = r#"<rpc-reply><interface-information junos:style="terse" xmlns:junos="j">
  <physical-interface><name>ge-0/0/0</name>
    <logical-interface><name>ge-0/0/0.0</name>
      <address-family><address-family-name>inet</address-family-name>
        <interface-address><ifa-local junos:emit="emit">192.0.2.1/31</ifa-local></interface-address>
      </address-family>
      <address-family><address-family-name>inet6</address-family-name>
        <interface-address><ifa-local>2001:0db8::1/127</ifa-local></interface-address>
        <interface-address><ifa-local>fe80::200:5eff:fe00:5301/64</ifa-local></interface-address>
      </address-family>
      <address-family><address-family-name>mpls</address-family-name></address-family>
    </logical-interface>
  </physical-interface>
  <physical-interface><name>irb</name>
    <logical-interface><name>irb.100</name>
      <address-family><address-family-name>inet</address-family-name>
        <interface-address><ifa-local>198.51.100.1</ifa-local></interface-address>
      </address-family>
    </logical-interface>
  </physical-interface>
</interface-information></rpc-reply>"#;

    const CONFIG_REPLY: &str = r#"<rpc-reply><configuration junos:commit-seconds="1" xmlns:junos="j">
  <routing-instances>
    <instance><name>blue</name><instance-type>vrf</instance-type>
      <interface><name>ge-0/0/0.100</name></interface>
      <route-distinguisher><rd-type>64500:1</rd-type></route-distinguisher>
    </instance>
    <instance><name>mgmt</name><instance-type>virtual-router</instance-type></instance>
    <instance><name>bd</name><instance-type>virtual-switch</instance-type>
      <bridge-domains><domain><name>d1</name><interface><name>xe-0/0/1.0</name></interface></domain></bridge-domains>
    </instance>
  </routing-instances>
</configuration></rpc-reply>"#;

    const ELS_VLANS: &str = r#"<rpc-reply><vlan-information>
  <l2ng-l2ald-vlan-instance-group>
    <l2ng-l2rtb-vlan-name>users</l2ng-l2rtb-vlan-name><l2ng-l2rtb-vlan-tag>100</l2ng-l2rtb-vlan-tag>
    <l2ng-l2rtb-vlan-member><l2ng-l2rtb-vlan-member-interface>ge-0/0/0.0*</l2ng-l2rtb-vlan-member-interface></l2ng-l2rtb-vlan-member>
    <l2ng-l2rtb-vlan-member><l2ng-l2rtb-vlan-member-interface>ae1.0</l2ng-l2rtb-vlan-member-interface></l2ng-l2rtb-vlan-member>
  </l2ng-l2ald-vlan-instance-group>
  <l2ng-l2ald-vlan-instance-group>
    <l2ng-l2rtb-vlan-name>empty</l2ng-l2rtb-vlan-name><l2ng-l2rtb-vlan-tag>200</l2ng-l2rtb-vlan-tag>
    <l2ng-l2rtb-vlan-member><l2ng-l2rtb-vlan-member-interface/></l2ng-l2rtb-vlan-member>
  </l2ng-l2ald-vlan-instance-group>
</vlan-information></rpc-reply>"#;

    #[test]
    fn physical_and_logical_interfaces() {
        let i = parse_interfaces(FULL).unwrap();
        let names: Vec<_> = i.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(
            names,
            ["ge-0/0/0", "ge-0/0/0.0", "ge-0/0/0.100", "xe-0/0/1", "lo0"]
        );
        assert!(i[0].is_up && i[0].is_enabled);
        assert_eq!(i[0].speed, 1000.0, "Auto reads the link partner's speed");
        assert_eq!((i[0].mtu, i[0].last_flapped), (1514, 3600.0));
        assert_eq!(i[0].mac_address, "00:00:5E:00:53:01");
        assert_eq!(i[1].parent, "ge-0/0/0");
        assert_eq!(
            (i[1].description.as_str(), i[1].speed, i[1].mtu),
            ("unit 0", 1000.0, 1514)
        );
        assert!(
            i[1].is_enabled && !i[2].is_enabled,
            "iff-down disables a unit"
        );
        assert!(!i[3].is_up && !i[3].is_enabled);
        assert_eq!((i[3].speed, i[3].last_flapped), (10000.0, -1.0));
        assert_eq!(i[3].mac_address, "Unspecified");
        assert_eq!((i[4].speed, i[4].mtu), (-1.0, 0));
        assert_eq!(i[4].mac_address, "None");
        assert!(i[4].is_enabled, "no admin-status: enabled");
    }

    #[test]
    fn speed_and_mtu_rules() {
        assert_eq!(mtu("1514"), 1514);
        assert_eq!(mtu("Unlimited"), 0);
        assert_eq!(mtu(""), 0);
        let s = |text: &str| {
            let xml = format!("<physical-interface><speed>{text}</speed></physical-interface>");
            let doc = crate::xml::Doc::parse(&xml).unwrap();
            speed(doc.root().unwrap())
        };
        assert_eq!(s("800mbps"), 800.0);
        assert_eq!(s("32000mbps"), 32000.0);
        assert_eq!(s("100Gbps"), 100000.0);
        assert_eq!(s("Auto"), -1.0);
        assert_eq!(s(""), -1.0);
    }

    #[test]
    fn addresses_from_terse() {
        let a = parse_addresses(TERSE).unwrap();
        let got: Vec<_> = a
            .iter()
            .map(|a| (a.interface.as_str(), a.address.as_str(), a.prefix_length))
            .collect();
        assert_eq!(
            got,
            [
                ("ge-0/0/0.0", "192.0.2.1", 31),
                ("ge-0/0/0.0", "2001:db8::1", 127),
                ("ge-0/0/0.0", "fe80::200:5eff:fe00:5301", 64),
                ("irb.100", "198.51.100.1", 32),
            ]
        );
        assert_eq!(a[1].family, IpFamily::Ipv6);
    }

    #[test]
    fn instances_and_default() {
        let interfaces = parse_interfaces(FULL).unwrap();
        let i = parse_instances(CONFIG_REPLY, &interfaces).unwrap();
        let blue = &i[0];
        assert_eq!(
            (
                blue.instance_type.as_str(),
                blue.route_distinguisher.as_str()
            ),
            ("L3VRF", "64500:1")
        );
        assert_eq!(blue.interfaces, ["ge-0/0/0.100"]);
        assert_eq!(i[1].instance_type, "virtual-router");
        assert_eq!(i[2].interfaces, ["xe-0/0/1.0"]);
        let default = i.last().unwrap();
        assert_eq!(default.name, "default");
        assert_eq!(default.instance_type, "DEFAULT_INSTANCE");
        assert_eq!(
            default.interfaces,
            ["ge-0/0/0", "ge-0/0/0.0", "xe-0/0/1", "lo0"]
        );
    }

    #[test]
    fn vlan_styles() {
        let v = parse_vlans(VLANS, ELS_VLANS).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!((v[0].vlan_id, v[0].name.as_str()), (100, "users"));
        assert_eq!(v[0].interfaces, ["ge-0/0/0.0", "ae1.0"]);
        assert!(v[1].interfaces.is_empty());
        let legacy = r#"<vlan-information><vlan><vlan-instance>0</vlan-instance><vlan-name>voice</vlan-name><vlan-tag>20</vlan-tag>
  <vlan-detail><vlan-member-list><vlan-member><vlan-member-interface>ge-0/0/3.0*</vlan-member-interface></vlan-member>
  <vlan-member><vlan-member-interface>None</vlan-member-interface></vlan-member></vlan-member-list></vlan-detail></vlan>
  <vlan><vlan-name>default</vlan-name><vlan-tag>none</vlan-tag></vlan></vlan-information>"#;
        let v = parse_vlans(VLANS, legacy).unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(
            (v[0].vlan_id, v[0].interfaces.clone()),
            (20, vec!["ge-0/0/3.0".to_string()])
        );
        let bridge = r#"<l2ald-bridge-instance-information><l2ald-bridge-instance-group>
  <l2rtb-name>default-switch</l2rtb-name><l2rtb-bridging-domain>bd10</l2rtb-bridging-domain><l2rtb-bridge-vlan>10</l2rtb-bridge-vlan>
  <l2rtb-interface-name>ae0.10</l2rtb-interface-name><l2rtb-interface-name>l2rtb-interface-name</l2rtb-interface-name>
</l2ald-bridge-instance-group></l2ald-bridge-instance-information>"#;
        let v = parse_vlans(BRIDGE, bridge).unwrap();
        assert_eq!((v[0].vlan_id, v[0].name.as_str()), (10, "bd10"));
        assert_eq!(v[0].interfaces, ["ae0.10"]);
        match parse_vlans(
            VLANS,
            "<vlan-information><vlan><vlan-tag>x1</vlan-tag></vlan></vlan-information>",
        ) {
            Err(CollectError::Parse(e)) => {
                assert_eq!((e.rpc.as_str(), e.element.as_str()), (VLANS, "vlan-tag"))
            }
            other => panic!("expected a parse error, got {other:?}"),
        }
    }

    #[test]
    fn collect_probes_every_part() {
        let dev = FakeDevice::new()
            .with_reply(INTERFACES, FULL)
            .with_reply(VLANS, ELS_VLANS);
        let facts = collect(&dev).unwrap();
        assert_eq!(facts.interfaces.len(), 5);
        // The full reply answers the terse request too (the mock ignores arguments), and it
        // has no addresses.
        assert!(facts.addresses.is_empty());
        assert!(facts.instances.is_empty(), "no configuration reply");
        assert_eq!(facts.vlans.len(), 2);
        assert_eq!(
            dev.calls(),
            [
                INTERFACES,
                INTERFACES,
                "_configuration__routing_instances__instance____routing_instances___configuration_",
                VLANS
            ]
        );
        // A router: no VLAN table, bridge table asked, nothing there either.
        let router = FakeDevice::new().with_reply(INTERFACES, FULL);
        assert!(collect(&router).unwrap().vlans.is_empty());
        assert_eq!(router.calls().last().map(String::as_str), Some(BRIDGE));
        // Nothing answers: the device error.
        assert!(matches!(
            collect(&FakeDevice::new()),
            Err(CollectError::Device(_))
        ));
    }

    #[test]
    fn nameless_interface_is_a_parse_error() {
        match parse_interfaces(
            "<interface-information><physical-interface><mtu>1</mtu></physical-interface></interface-information>",
        ) {
            Err(CollectError::Parse(e)) => {
                assert_eq!(e.rpc, INTERFACES);
                assert_eq!(e.element, "name");
            }
            other => panic!("expected a parse error, got {other:?}"),
        }
    }

    #[test]
    fn multi_routing_engine_and_not_running_replies() {
        let reply = r#"<rpc-reply xmlns:junos="http://xml.juniper.net/junos/21.4R3/junos">
<multi-routing-engine-results>
  <multi-routing-engine-item><re-name>fpc0</re-name>
    <interface-information xmlns="http://xml.juniper.net/junos/21.4R3/junos-interface" junos:style="terse">
      <physical-interface><name>ge-0/0/0</name><admin-status>up</admin-status><oper-status>up</oper-status></physical-interface>
    </interface-information></multi-routing-engine-item>
  <multi-routing-engine-item><re-name>fpc1</re-name>
    <interface-information xmlns="http://xml.juniper.net/junos/21.4R3/junos-interface" junos:style="terse">
      <physical-interface><name>ge-1/0/0</name><admin-status>up</admin-status><oper-status>down</oper-status></physical-interface>
    </interface-information></multi-routing-engine-item>
</multi-routing-engine-results></rpc-reply>"#;
        let i = parse_interfaces(reply).unwrap();
        assert_eq!(
            i.iter()
                .map(|i| (i.name.as_str(), i.is_up))
                .collect::<Vec<_>>(),
            [("ge-0/0/0", true), ("ge-1/0/0", false)]
        );
        let off = "<rpc-reply><output>error: the l2-learning subsystem is not running</output></rpc-reply>";
        assert!(parse_vlans(VLANS, off).unwrap().is_empty());
        assert!(parse_interfaces(off).unwrap().is_empty());
    }
}
