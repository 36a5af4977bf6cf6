//! Generated Junos replies of any size, for benchmarks and the device simulator.
//!
//! The replies look like what a QFX (ELS) sends over NETCONF: an `<rpc-reply>` with the
//! `junos` namespace declaration, a default namespace on the payload, `junos:style`
//! attributes, indentation and the trailing `<cli><banner>`. Values are synthetic: MACs are
//! locally administered (`02:…`), IPv4 addresses come from RFC 5737 / RFC 6598 space.
//!
//! ```
//! let reply = nbfacts_junos::generate::els_mac_table(1000);
//! let entries = nbfacts_junos::mac_table::parse_mac_table("bench", &reply).unwrap();
//! assert_eq!(entries.len(), 1000);
//! ```

use std::fmt::Write;

const REPLY_OPEN: &str = "<rpc-reply xmlns:junos=\"http://xml.juniper.net/junos/21.4R3/junos\">\n";
const REPLY_CLOSE: &str =
    "    <cli>\n        <banner>{master:0}</banner>\n    </cli>\n</rpc-reply>\n";

/// A locally administered MAC for `n`.
pub fn mac(n: usize) -> String {
    let n = n as u64;
    format!(
        "02:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        (n >> 32) & 0xff,
        (n >> 24) & 0xff,
        (n >> 16) & 0xff,
        (n >> 8) & 0xff,
        n & 0xff
    )
}

/// An interface name for `n` (48 ports per FPC).
pub fn interface(n: usize) -> String {
    format!("xe-{}/0/{}", (n / 48) % 10, n % 48)
}

/// A `get-ethernet-switching-table-information` (extensive) reply with `n` MACs spread over
/// 48 ports and 200 VLANs, as an ELS switch sends it.
pub fn els_mac_table(n: usize) -> String {
    let mut out = String::with_capacity(200 + n * 900);
    out.push_str(REPLY_OPEN);
    out.push_str(
        "    <l2ng-l2ald-rtb-macdb xmlns=\"http://xml.juniper.net/junos/21.4R3/junos-l2al\">\n",
    );
    for i in 0..n {
        let vlan = 100 + i % 200;
        let _ = write!(
            out,
            "        <l2ng-l2ald-mac-entry-vlan junos:style=\"extensive\">
            <l2ng-l2-mac-address>{mac}</l2ng-l2-mac-address>
            <mac-count-global>{n}</mac-count-global>
            <learnt-mac-count>{n}</learnt-mac-count>
            <l2ng-l2-mac-routing-instance>default-switch</l2ng-l2-mac-routing-instance>
            <l2ng-l2-vlan-id>{vlan}</l2ng-l2-vlan-id>
            <l2ng-l2-mac-vlan-name>vlan-{vlan}</l2ng-l2-mac-vlan-name>
            <l2ng-l2-mac-logical-interface>{ifname}.0</l2ng-l2-mac-logical-interface>
            <l2ng-l2-mac-ifl-generation>{generation}</l2ng-l2-mac-ifl-generation>
            <l2ng-l2-mac-entry-flags>in_hash,in_ifd,in_ifl,in_vlan,in_rtt,kernel,in_ifbd</l2ng-l2-mac-entry-flags>
            <l2ng-l2-mac-epoch>1</l2ng-l2-mac-epoch>
            <l2ng-l2-mac-sequence-number>0</l2ng-l2-mac-sequence-number>
            <l2ng-l2-mac-learn-mask>0x00000001</l2ng-l2-mac-learn-mask>
        </l2ng-l2ald-mac-entry-vlan>
",
            mac = mac(i),
            ifname = interface(i),
            generation = 130 + i % 48,
        );
    }
    out.push_str("    </l2ng-l2ald-rtb-macdb>\n");
    out.push_str(REPLY_CLOSE);
    out
}

/// A `get-lldp-neighbors-information` reply with `n` neighbours, one per local port.
pub fn lldp_neighbors(n: usize) -> String {
    let mut out = String::with_capacity(200 + n * 600);
    out.push_str(REPLY_OPEN);
    out.push_str("    <lldp-neighbors-information junos:style=\"brief\">\n");
    for i in 0..n {
        let _ = write!(
            out,
            "        <lldp-neighbor-information>
            <lldp-local-port-id>{local}</lldp-local-port-id>
            <lldp-local-parent-interface-name>-</lldp-local-parent-interface-name>
            <lldp-remote-chassis-id-subtype>Mac address</lldp-remote-chassis-id-subtype>
            <lldp-remote-chassis-id>{chassis}</lldp-remote-chassis-id>
            <lldp-remote-port-id-subtype>Interface name</lldp-remote-port-id-subtype>
            <lldp-remote-port-id>et-0/0/{port}</lldp-remote-port-id>
            <lldp-remote-port-description>to leaf{i}</lldp-remote-port-description>
            <lldp-remote-system-name>spine{spine}.example.net</lldp-remote-system-name>
        </lldp-neighbor-information>
",
            local = local_port(i),
            chassis = mac(0x0100_0000 + i / 48),
            port = i % 48,
            spine = i / 48,
        );
    }
    out.push_str("    </lldp-neighbors-information>\n");
    out.push_str(REPLY_CLOSE);
    out
}

/// The local port of neighbour `i` in [`lldp_neighbors`] (unique for up to 4 800 neighbours
/// per FPC slot digit; beyond that, ports are reused across slots).
pub fn local_port(i: usize) -> String {
    format!("xe-{}/{}/{}", i / 4800, (i / 48) % 100, i % 48)
}

/// A `get-lldp-interface-neighbors` reply (the per-interface detail) for `local`.
pub fn lldp_interface_detail(local: &str, i: usize) -> String {
    format!(
        "{REPLY_OPEN}    <lldp-neighbors-information junos:style=\"detail\">
        <lldp-neighbor-information>
            <lldp-index>{index}</lldp-index>
            <lldp-ttl>120</lldp-ttl>
            <lldp-age>12</lldp-age>
            <lldp-local-interface>{local}</lldp-local-interface>
            <lldp-local-parent-interface-name>-</lldp-local-parent-interface-name>
            <lldp-local-port-id>{index}</lldp-local-port-id>
            <lldp-remote-chassis-id-subtype>Mac address</lldp-remote-chassis-id-subtype>
            <lldp-remote-chassis-id>{chassis}</lldp-remote-chassis-id>
            <lldp-remote-port-id-subtype>Interface name</lldp-remote-port-id-subtype>
            <lldp-remote-port-id>et-0/0/{port}</lldp-remote-port-id>
            <lldp-remote-port-description>to leaf{i}</lldp-remote-port-description>
            <lldp-remote-system-name>spine{spine}.example.net</lldp-remote-system-name>
            <lldp-system-description>
                <lldp-remote-system-description>Juniper Networks, Inc. qfx5220-32cd Ethernet Switch, kernel JUNOS 21.4R3-S4.9</lldp-remote-system-description>
            </lldp-system-description>
            <lldp-remote-system-capabilities-supported>Bridge Router</lldp-remote-system-capabilities-supported>
            <lldp-remote-system-capabilities-enabled>Bridge Router</lldp-remote-system-capabilities-enabled>
            <lldp-remote-management-address-type>IPv4(1)</lldp-remote-management-address-type>
            <lldp-remote-management-address>100.64.{hi}.{lo}</lldp-remote-management-address>
        </lldp-neighbor-information>
    </lldp-neighbors-information>
{REPLY_CLOSE}",
        index = 500 + i,
        chassis = mac(0x0100_0000 + i / 48),
        port = i % 48,
        spine = i / 48,
        hi = (i / 250) % 256,
        lo = i % 250 + 1,
    )
}

/// A `get-arp-table-information` (no-resolve) reply with `n` entries.
pub fn arp_table(n: usize) -> String {
    let mut out = String::with_capacity(200 + n * 400);
    out.push_str(REPLY_OPEN);
    out.push_str("    <arp-table-information xmlns=\"http://xml.juniper.net/junos/21.4R3/junos-arp\" junos:style=\"no-resolve\">\n");
    for i in 0..n {
        let _ = write!(
            out,
            "        <arp-table-entry>
            <mac-address>{mac}</mac-address>
            <ip-address>100.{b}.{c}.{d}</ip-address>
            <interface-name>irb.{vlan}</interface-name>
            <time-to-expire junos:seconds=\"{ttl}\"> {ttl}</time-to-expire>
            <arp-table-entry-flags>
                <none/>
            </arp-table-entry-flags>
        </arp-table-entry>
",
            mac = mac(0x0200_0000 + i),
            b = 64 + (i >> 16) % 64,
            c = (i >> 8) & 0xff,
            d = i & 0xff,
            vlan = 100 + i % 200,
            ttl = 1200 - i % 1200,
        );
    }
    let _ = write!(
        out,
        "        <arp-entry-count>{n}</arp-entry-count>\n    </arp-table-information>\n"
    );
    out.push_str(REPLY_CLOSE);
    out
}

/// The VTEP / PE loopback of remote `n` (RFC 6598 space).
fn vtep(n: usize) -> String {
    format!("100.127.{}.{}", (n / 250) % 256, n % 250 + 1)
}

/// A `get-evpn-database-information` reply with `n` MACs in the `default-switch` instance:
/// VLANs 100..299 mapped to VNIs 10100..10299, one MAC in four learned locally on an access
/// port, the others from one of 16 remote VTEPs, every other MAC with a MAC+IP binding.
pub fn evpn_database(n: usize) -> String {
    let mut out = String::with_capacity(300 + n * 360);
    out.push_str(REPLY_OPEN);
    out.push_str(
        "    <evpn-database-information xmlns=\"http://xml.juniper.net/junos/21.4R3/junos-routing\">\n",
    );
    out.push_str("        <evpn-database-instance>\n            <instance-name>default-switch</instance-name>\n");
    for i in 0..n {
        let vlan = 100 + i % 200;
        let source = if i % 4 == 0 {
            format!("{}.0", interface(i))
        } else {
            vtep(i % 16)
        };
        let _ = write!(
            out,
            "            <mac-entry junos:style=\"brief\">
                <vlan-id>{vlan}</vlan-id>
                <vni-id>{vni}</vni-id>
                <mac-address>{mac}</mac-address>
                <active-source>{source}</active-source>
                <timestamp>Apr 20 08:{mm:02}:{ss:02}</timestamp>
",
            vni = 10_000 + vlan,
            mac = mac(0x0300_0000 + i),
            mm = (i / 60) % 60,
            ss = i % 60,
        );
        if i % 2 == 0 {
            let _ = writeln!(
                out,
                "                <ip-address>100.{b}.{c}.{d}</ip-address>",
                b = 64 + (i >> 16) % 64,
                c = (i >> 8) & 0xff,
                d = i & 0xff,
            );
        }
        out.push_str("            </mac-entry>\n");
    }
    out.push_str("        </evpn-database-instance>\n    </evpn-database-information>\n");
    out.push_str(REPLY_CLOSE);
    out
}

/// A `get-evpn-instance-information` (extensive) reply: `default-switch` over VXLAN with
/// `vlans` VLANs (100.. mapped to VNI 10100..), `neighbors` remote VTEPs and one all-active ESI.
pub fn evpn_instance(vlans: usize, neighbors: usize) -> String {
    let mut out = String::with_capacity(2000 + vlans * 400 + neighbors * 400);
    out.push_str(REPLY_OPEN);
    out.push_str(
        "    <evpn-instance-information xmlns=\"http://xml.juniper.net/junos/21.4R3/junos-routing\">
        <evpn-instance junos:style=\"extensive\">
            <evpn-instance-name>default-switch</evpn-instance-name>
            <route-distinguisher>100.126.0.1:1</route-distinguisher>
            <evpn-encap-type>VXLAN</evpn-encap-type>
            <evpn-interface-status-table>
                <evpn-interface>
                    <evpn-interface-name>ae0.0</evpn-interface-name>
                    <evpn-interface-esi>00:11:22:33:44:55:66:77:88:99</evpn-interface-esi>
                    <evpn-interface-mode>all-active</evpn-interface-mode>
                    <evpn-interface-status>Up</evpn-interface-status>
                </evpn-interface>
            </evpn-interface-status-table>
            <bridge-domain-status-table>
",
    );
    for i in 0..vlans {
        let vlan = 100 + i;
        let _ = write!(
            out,
            "                <bridge-domain>
                    <vlan-id>{vlan}</vlan-id>
                    <domain-id>{vni}</domain-id>
                    <interfaces>1</interfaces>
                    <interfaces-up>1</interfaces-up>
                    <mode>Extended</mode>
                </bridge-domain>
",
            vni = 10_000 + vlan,
        );
    }
    let _ = writeln!(
        out,
        "            </bridge-domain-status-table>\n            <evpn-num-neighbors>{neighbors}</evpn-num-neighbors>"
    );
    for i in 0..neighbors {
        let _ = write!(
            out,
            "            <evpn-neighbor>
                <evpn-neighbor-route-information>
                    <evpn-neighbor-address>{address}</evpn-neighbor-address>
                    <evpn-num-mac-routes>10</evpn-num-mac-routes>
                </evpn-neighbor-route-information>
            </evpn-neighbor>
",
            address = vtep(i),
        );
    }
    let _ = write!(
        out,
        "            <evpn-num-esi>1</evpn-num-esi>
            <evpn-esi>
                <evpn-esi-value>00:11:22:33:44:55:66:77:88:99</evpn-esi-value>
                <evpn-esi-local-intf-information>
                    <evpn-esi-local-intf-name>ae0.0</evpn-esi-local-intf-name>
                    <evpn-esi-local-intf-status>Up/Forwarding</evpn-esi-local-intf-status>
                </evpn-esi-local-intf-information>
                <evpn-esi-remote-pe-information>
                    <evpn-esi-remote-pe-address>{peer}</evpn-esi-remote-pe-address>
                </evpn-esi-remote-pe-information>
            </evpn-esi>
            <evpn-router-id>100.126.0.1</evpn-router-id>
            <evpn-source-vtep-ipaddr>100.126.0.1</evpn-source-vtep-ipaddr>
        </evpn-instance>
    </evpn-instance-information>
",
        peer = vtep(0),
    );
    out.push_str(REPLY_CLOSE);
    out
}

/// A `get-l2ckt-connection-information` reply with `n` pseudowires spread over 8 remote PEs;
/// every tenth one is waiting for a label (`OL`).
pub fn l2circuit_connections(n: usize) -> String {
    let mut out = String::with_capacity(300 + n * 700);
    out.push_str(REPLY_OPEN);
    out.push_str(
        "    <l2circuit-connection-information xmlns=\"http://xml.juniper.net/junos/21.4R3/junos-routing\" junos:style=\"extensive\">\n",
    );
    let per_pe = n.div_ceil(8).max(1);
    for pe in 0..n.div_ceil(per_pe) {
        let _ = writeln!(
            out,
            "        <l2circuit-neighbor>\n            <neighbor-address>{}</neighbor-address>",
            vtep(pe)
        );
        for i in pe * per_pe..((pe + 1) * per_pe).min(n) {
            let up = i % 10 != 9;
            let _ = write!(
                out,
                "            <connection heading=\"Interface                 Type  St     Time last up          # Up trans\">
                <connection-id>{ifname}.{unit}(vc {vc})</connection-id>
                <connection-type>rmt</connection-type>
                <connection-status>{status}</connection-status>
                <last-change>Apr 20 08:37:43 2024</last-change>
                <up-transitions>{trans}</up-transitions>
                <remote-pe>{pe_addr}</remote-pe>
                <control-word>Yes</control-word>
                <inbound-label>{inbound}</inbound-label>
{outbound}                <local-interface>
                    <interface-name>{ifname}.{unit}</interface-name>
                    <interface-status>Up</interface-status>
                    <interface-encapsulation>VLAN</interface-encapsulation>
                </local-interface>
            </connection>
",
                ifname = interface(i),
                unit = 600 + i,
                vc = 1000 + i,
                status = if up { "Up" } else { "OL" },
                trans = usize::from(up),
                pe_addr = vtep(pe),
                inbound = 299_776 + i,
                outbound = if up {
                    format!(
                        "                <outbound-label>{}</outbound-label>\n",
                        300_000 + i
                    )
                } else {
                    String::new()
                },
            );
        }
        out.push_str("        </l2circuit-neighbor>\n");
    }
    out.push_str("    </l2circuit-connection-information>\n");
    out.push_str(REPLY_CLOSE);
    out
}

/// A `get-ospf-neighbor-information` (detail, `instance all`) reply with `n` neighbours in
/// area 0.0.0.0 of the `master` instance, all `Full` on point-to-point links.
pub fn ospf_neighbors(n: usize) -> String {
    let mut out = String::with_capacity(400 + n * 900);
    out.push_str(REPLY_OPEN);
    out.push_str(
        "    <ospf-neighbor-information-all xmlns=\"http://xml.juniper.net/junos/21.4R3/junos-routing\">
        <ospf-instance-neighbor>
            <ospf-instance-name>master</ospf-instance-name>
",
    );
    for i in 0..n {
        let up = 86_400 + 37 * i;
        let _ = write!(
            out,
            "            <ospf-neighbor>
                <neighbor-address>100.64.{hi}.{lo}</neighbor-address>
                <interface-name>{ifname}.0</interface-name>
                <ospf-neighbor-state>Full</ospf-neighbor-state>
                <neighbor-id>{rid}</neighbor-id>
                <neighbor-priority>128</neighbor-priority>
                <activity-timer>{dead}</activity-timer>
                <ospf-area>0.0.0.0</ospf-area>
                <options>0x52</options>
                <dr-address>0.0.0.0</dr-address>
                <bdr-address>0.0.0.0</bdr-address>
                <neighbor-up-time junos:seconds=\"{up}\">{up_text}</neighbor-up-time>
                <neighbor-adjacency-time junos:seconds=\"{up}\">{up_text}</neighbor-adjacency-time>
            </ospf-neighbor>
",
            hi = (i / 64) % 256,
            lo = (i % 64) * 4 + 1,
            ifname = interface(i),
            rid = vtep(i),
            dead = 30 + i % 10,
            up_text = format_args!(
                "{}d {:02}:{:02}:{:02}",
                up / 86_400,
                (up / 3600) % 24,
                (up / 60) % 60,
                up % 60
            ),
        );
    }
    out.push_str("        </ospf-instance-neighbor>\n    </ospf-neighbor-information-all>\n");
    out.push_str(REPLY_CLOSE);
    out
}
