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
