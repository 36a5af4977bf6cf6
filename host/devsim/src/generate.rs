//! Generated Junos devices: a consistent fleet of ELS switches whose size scales for benchmarks.
//!
//! Device `i` of a fleet of `n` is named `{prefix}{i:03}` and answers the RPCs the Junos
//! plugin (and NAPALM's junos driver) sends, in the XML shapes a QFX running Junos 21.4 with
//! ELS returns: software information, chassis inventory, route engine, interfaces (full and
//! terse), the ELS MAC table and VLANs, LLDP (summary and per-interface detail), routing
//! instances, BGP (neighbours and summary), ARP and IPv6 neighbours.
//!
//! The fleet is consistent: LLDP links pair up (device `a` port `2m` sees device
//! `a+m+1` port `2m+1`, which sees `a` back), each link has a /31 whose two ends are the
//! interface addresses, and the first BGP peers are the LLDP neighbours on those addresses
//! with the neighbour's AS. All values are synthetic: 10.0.0.0/8 link addresses,
//! RFC 5737/3849 documentation addresses and locally administered MACs.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

/// How big each generated device is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeviceSize {
    /// Physical interfaces (at least the LLDP neighbour count; `lo0` comes on top).
    pub interfaces: usize,
    /// MAC table entries.
    pub macs: usize,
    /// LLDP neighbours.
    pub lldp: usize,
    /// BGP peers.
    pub bgp: usize,
    /// ARP entries.
    pub arp: usize,
    /// IPv6 neighbour entries.
    pub ndp: usize,
}

impl Default for DeviceSize {
    fn default() -> Self {
        Self {
            interfaces: 48,
            macs: 500,
            lldp: 8,
            bgp: 8,
            arp: 200,
            ndp: 50,
        }
    }
}

impl DeviceSize {
    /// A size with every count given.
    pub fn new(
        interfaces: usize,
        macs: usize,
        lldp: usize,
        bgp: usize,
        arp: usize,
        ndp: usize,
    ) -> Self {
        Self {
            interfaces,
            macs,
            lldp,
            bgp,
            arp,
            ndp,
        }
    }
}

/// A fleet of generated devices.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FleetSpec {
    /// Number of devices.
    pub devices: usize,
    /// Device names are `{prefix}{index:03}`.
    pub prefix: String,
    /// Size of every device.
    pub size: DeviceSize,
}

impl FleetSpec {
    /// `devices` devices named `sim000`, `sim001`, … of `size`.
    pub fn new(devices: usize, size: DeviceSize) -> Self {
        Self {
            devices,
            prefix: "sim".to_string(),
            size,
        }
    }

    /// Uses `prefix` for device names.
    #[must_use]
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The name of device `index`.
    pub fn name(&self, index: usize) -> String {
        format!("{}{index:03}", self.prefix)
    }
}

/// The replies of one generated device.
#[derive(Debug, Clone)]
pub struct GeneratedDevice {
    /// The device's host name.
    pub name: String,
    /// Reply file name (NAPALM naming, as [`nbfacts_sdk::testing::reply_file_name`]) → payload.
    pub files: HashMap<String, Arc<str>>,
    /// Per-interface LLDP detail, keyed by local interface name.
    pub lldp_detail: HashMap<String, Arc<str>>,
    /// The terse interface listing (`get-interface-information` with `<terse/>`).
    pub interfaces_terse: Arc<str>,
}

/// One end of an LLDP link.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Link {
    local_port: usize,
    peer: usize,
    peer_port: usize,
    /// Our address and the peer's, in the link's /31.
    local_ip: String,
    peer_ip: String,
}

const MODEL: &str = "qfx5120-48y-8c";
const VERSION: &str = "21.4R3-S4.9";

fn ifname(port: usize) -> String {
    format!("xe-0/0/{port}")
}

/// A locally administered unicast MAC: `category` keeps the kinds apart (0 chassis and
/// interfaces, 1 MAC table, 2 ARP, 3 neighbour discovery).
fn mac(category: u8, device: usize, n: usize) -> String {
    let b = [
        0x02 | (category << 4),
        ((device >> 8) & 0xff) as u8,
        (device & 0xff) as u8,
        ((n >> 16) & 0xff) as u8,
        ((n >> 8) & 0xff) as u8,
        (n & 0xff) as u8,
    ];
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn chassis_mac(device: usize) -> String {
    mac(0, device, 0xffffff)
}

/// The AS of fleet device `index`: 4-byte private ASes, one per device.
fn fleet_as(index: usize) -> u64 {
    4_200_000_000 + index as u64
}

/// Address `n` of the 10.0.0.0/8 link space.
fn link_ip(n: usize) -> String {
    format!("10.{}.{}.{}", (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff)
}

/// The LLDP links of device `a`: port `2m` → `a+m+1` (their port `2m+1`), port `2m+1` →
/// `a-m-1` (their port `2m`). Ports whose peer would be the device itself have no link.
fn links(a: usize, spec: &FleetSpec) -> Vec<Link> {
    let n = spec.devices.max(1);
    let pairs = spec.size.lldp.div_ceil(2);
    let mut out = Vec::new();
    for port in 0..spec.size.lldp {
        let m = port / 2;
        let d = (m + 1) % n;
        if d == 0 {
            continue;
        }
        // The link is owned by the device on its even port; its id numbers the /31.
        let (owner, peer, peer_port) = if port % 2 == 0 {
            (a, (a + d) % n, port + 1)
        } else {
            ((a + n - d) % n, (a + n - d) % n, port - 1)
        };
        if peer_port >= spec.size.lldp {
            continue;
        }
        let id = owner * pairs + m;
        let (even_ip, odd_ip) = (link_ip(2 * id), link_ip(2 * id + 1));
        let (local_ip, peer_ip) = if port % 2 == 0 {
            (even_ip, odd_ip)
        } else {
            (odd_ip, even_ip)
        };
        out.push(Link {
            local_port: port,
            peer,
            peer_port,
            local_ip,
            peer_ip,
        });
    }
    out
}

/// Generates device `index` of `spec`.
pub fn device(index: usize, spec: &FleetSpec) -> GeneratedDevice {
    let name = spec.name(index);
    let size = &spec.size;
    let ports = size.interfaces.max(size.lldp).max(1);
    let links = links(index, spec);
    let mut files = HashMap::new();
    let mut put = |file: &str, text: String| {
        files.insert(file.to_string(), Arc::<str>::from(text));
    };
    put("get-software-information.xml", software(&name));
    put("get-chassis-inventory.xml", chassis(index));
    put("get-route-engine-information.xml", route_engine(index));
    put(
        "get-interface-information.xml",
        interfaces(index, ports, &links, false),
    );
    put(
        "get-ethernet-switching-table-information.xml",
        mac_table(index, size.macs, ports),
    );
    put("get-vlan-information.xml", vlans(ports));
    put(
        "get-lldp-neighbors-information.xml",
        lldp_summary(index, spec, &links),
    );
    put("get-arp-table-information.xml", arp(index, size.arp, ports));
    put("get-ipv6-nd-information.xml", ndp(index, size.ndp, ports));
    put("get-instance-information.xml", instances());
    let neighbors = bgp_neighbors(index, spec, &links, false);
    put("get-bgp-neighbor-information.xml", neighbors.clone());
    put("get-bgp-neighbor-informationmaster.xml", neighbors);
    put(
        "get-bgp-summary-informationmaster.xml",
        bgp_neighbors(index, spec, &links, true),
    );
    put("show_version.txt", show_version(&name));
    // Junos-specific protocols, at a fixed small size (the plugin's own generators).
    put(
        "get-l2ckt-connection-information.xml",
        nbfacts_junos::generate::l2circuit_connections(8),
    );
    put(
        "get-evpn-instance-information.xml",
        nbfacts_junos::generate::evpn_instance(8, 2),
    );
    put(
        "get-evpn-database-information.xml",
        nbfacts_junos::generate::evpn_database(64),
    );
    put(
        "get-ospf-neighbor-informationall.xml",
        nbfacts_junos::generate::ospf_neighbors(4),
    );
    let lldp_detail = links
        .iter()
        .map(|l| {
            (
                ifname(l.local_port),
                Arc::<str>::from(lldp_detail(index, spec, l)),
            )
        })
        .collect();
    GeneratedDevice {
        name,
        files,
        lldp_detail,
        interfaces_terse: interfaces(index, ports, &links, true).into(),
    }
}

/// Escapes text for element content.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(c),
        }
    }
    out
}

fn el(out: &mut String, tag: &str, text: impl std::fmt::Display) {
    let _ = write!(out, "<{tag}>{}</{tag}>", esc(&text.to_string()));
}

fn software(name: &str) -> String {
    let mut s = String::from("<software-information>\n");
    el(&mut s, "host-name", name);
    el(&mut s, "product-model", MODEL);
    el(&mut s, "product-name", MODEL);
    el(&mut s, "junos-version", VERSION);
    let _ = write!(
        s,
        "\n<package-information><name>junos</name><comment>JUNOS Software Release [{VERSION}]</comment></package-information>\n</software-information>\n"
    );
    s
}

fn serial(index: usize) -> String {
    format!("SIM{index:07}")
}

fn chassis(index: usize) -> String {
    let sn = serial(index);
    format!(
        r#"<chassis-inventory>
<chassis style="inventory">
<name>Chassis</name><serial-number>{sn}</serial-number><description>QFX5120-48Y-8C</description>
<chassis-module><name>Routing Engine 0</name><part-number>BUILTIN</part-number><serial-number>BUILTIN</serial-number><description>QFX Routing Engine</description></chassis-module>
<chassis-module><name>FPC 0</name><version>REV 24</version><part-number>650-100148</part-number><serial-number>{sn}F0</serial-number><description>QFX5120-48Y-8C</description>
<chassis-sub-module><name>PIC 0</name><part-number>BUILTIN</part-number><serial-number>BUILTIN</serial-number><description>48x25G-8x100G</description>
<chassis-sub-sub-module><name>Xcvr 0</name><version>REV 01</version><part-number>740-031980</part-number><serial-number>{sn}X0</serial-number><description>SFP+-10G-SR</description></chassis-sub-sub-module>
</chassis-sub-module>
</chassis-module>
<chassis-module><name>Power Supply 0</name><version>REV 03</version><part-number>740-073147</part-number><serial-number>{sn}P0</serial-number><description>JPSU-650W-AC-AO</description></chassis-module>
</chassis>
</chassis-inventory>
"#
    )
}

fn route_engine(index: usize) -> String {
    let up = 8_697_600 + index as u64 * 60;
    format!(
        r#"<route-engine-information>
<route-engine>
<slot>0</slot><mastership-state>master</mastership-state><status>OK</status>
<model>QFX Routing Engine</model>
<up-time seconds="{up}">{} days, {} minutes</up-time>
</route-engine>
</route-engine-information>
"#,
        up / 86_400,
        up % 86_400 / 60
    )
}

/// The address of `port`'s unit 0: the link address for LLDP ports, else a /30 from
/// 198.51.100.0/24-style documentation space scaled over 10.128/9.
fn port_address(index: usize, port: usize, links: &[Link]) -> String {
    match links.iter().find(|l| l.local_port == port) {
        Some(l) => format!("{}/31", l.local_ip),
        None => {
            let n = (index * 4096 + port) * 4 + 1;
            format!(
                "10.{}.{}.{}/30",
                128 + ((n >> 16) & 0x7f),
                (n >> 8) & 0xff,
                n & 0xff
            )
        }
    }
}

fn interfaces(index: usize, ports: usize, links: &[Link], terse: bool) -> String {
    let mut s = String::with_capacity(ports * if terse { 400 } else { 900 });
    s.push_str(if terse {
        "<interface-information style=\"terse\">\n"
    } else {
        "<interface-information style=\"normal\">\n"
    });
    for port in 0..ports {
        let name = ifname(port);
        let up = links.iter().any(|l| l.local_port == port) || port % 7 != 6;
        let oper = if up { "up" } else { "down" };
        let addr = port_address(index, port, links);
        s.push_str("<physical-interface>\n");
        el(&mut s, "name", &name);
        if terse {
            let _ = write!(
                s,
                "\n<admin-status>up</admin-status>\n<oper-status>{oper}</oper-status>\n\
                 <logical-interface>\n<name>{name}.0</name>\n<admin-status>up</admin-status>\n\
                 <oper-status>{oper}</oper-status>\n<filter-information></filter-information>\n\
                 <address-family>\n<address-family-name>inet</address-family-name>\n\
                 <interface-address>\n<ifa-local emit=\"emit\">{addr}</ifa-local>\n</interface-address>\n\
                 </address-family>\n</logical-interface>\n</physical-interface>\n"
            );
            continue;
        }
        s.push_str("\n<admin-status format=\"Enabled\">up</admin-status>\n");
        el(&mut s, "oper-status", oper);
        s.push('\n');
        if let Some(l) = links.iter().find(|l| l.local_port == port) {
            el(
                &mut s,
                "description",
                format!("to sim peer {} {}", l.peer, ifname(l.peer_port)),
            );
            s.push('\n');
        } else if port % 3 == 0 {
            el(&mut s, "description", format!("access port {port}"));
            s.push('\n');
        }
        let _ = write!(
            s,
            "<mtu>9216</mtu>\n<speed>10Gbps</speed>\n<current-physical-address>{}</current-physical-address>\n\
             <interface-flapped seconds=\"{}\">2026-01-01 00:00:00 UTC (1d 00:00 ago)</interface-flapped>\n\
             <logical-interface>\n<name>{name}.0</name>\n<if-config-flags><iff-snmp-traps/></if-config-flags>\n\
             <address-family>\n<address-family-name>inet</address-family-name>\n\
             <interface-address><ifa-local>{addr}</ifa-local></interface-address>\n</address-family>\n\
             </logical-interface>\n</physical-interface>\n",
            mac(0, index, port),
            86_400 + port
        );
    }
    let lo4 = format!("192.0.2.{}", index % 254 + 1);
    let lo6 = format!("2001:db8::{:x}", index + 1);
    if terse {
        let _ = write!(
            s,
            "<physical-interface>\n<name>lo0</name>\n<admin-status>up</admin-status>\n<oper-status>up</oper-status>\n\
             <logical-interface>\n<name>lo0.0</name>\n<admin-status>up</admin-status>\n<oper-status>up</oper-status>\n\
             <address-family>\n<address-family-name>inet</address-family-name>\n\
             <interface-address>\n<ifa-local emit=\"emit\">{lo4}</ifa-local>\n</interface-address>\n</address-family>\n\
             <address-family>\n<address-family-name>inet6</address-family-name>\n\
             <interface-address>\n<ifa-local emit=\"emit\">{lo6}</ifa-local>\n</interface-address>\n</address-family>\n\
             </logical-interface>\n</physical-interface>\n</interface-information>\n"
        );
    } else {
        let _ = write!(
            s,
            "<physical-interface>\n<name>lo0</name>\n<admin-status format=\"Enabled\">up</admin-status>\n\
             <oper-status>up</oper-status>\n<mtu>Unlimited</mtu>\n<speed>Unlimited</speed>\n\
             <logical-interface>\n<name>lo0.0</name>\n\
             <address-family><address-family-name>inet</address-family-name>\n\
             <interface-address><ifa-local>{lo4}</ifa-local></interface-address></address-family>\n\
             <address-family><address-family-name>inet6</address-family-name>\n\
             <interface-address><ifa-local>{lo6}</ifa-local></interface-address></address-family>\n\
             </logical-interface>\n</physical-interface>\n</interface-information>\n"
        );
    }
    s
}

fn mac_table(index: usize, n: usize, ports: usize) -> String {
    let mut s = String::with_capacity(n * 420 + 64);
    s.push_str("<l2ng-l2ald-rtb-macdb>\n");
    for i in 0..n {
        let _ = writeln!(
            s,
            "<l2ng-l2ald-mac-entry-vlan style=\"extensive\"><l2ng-l2-mac-address>{}</l2ng-l2-mac-address>\
             <l2ng-l2-mac-routing-instance>default-switch</l2ng-l2-mac-routing-instance>\
             <l2ng-l2-vlan-id>{}</l2ng-l2-vlan-id><l2ng-l2-mac-vlan-name>VLAN{}</l2ng-l2-mac-vlan-name>\
             <l2ng-l2-mac-logical-interface>{}.0</l2ng-l2-mac-logical-interface>\
             <l2ng-l2-mac-entry-flags>in_hash,in_ifd,in_ifl,in_vlan</l2ng-l2-mac-entry-flags>\
             </l2ng-l2ald-mac-entry-vlan>",
            mac(1, index, i),
            100 + i % 16,
            100 + i % 16,
            ifname(i % ports)
        );
    }
    s.push_str("</l2ng-l2ald-rtb-macdb>\n");
    s
}

fn vlans(ports: usize) -> String {
    let mut s = String::from("<vlan-information>\n");
    for v in 0..16 {
        let _ = write!(
            s,
            "<l2ng-l2ald-vlan-instance-group><l2ng-l2rtb-name>default-switch</l2ng-l2rtb-name>\
             <l2ng-l2rtb-vlan-name>VLAN{}</l2ng-l2rtb-vlan-name><l2ng-l2rtb-vlan-tag>{}</l2ng-l2rtb-vlan-tag>",
            100 + v,
            100 + v
        );
        for p in (v % ports..ports).step_by(16) {
            let _ = write!(
                s,
                "<l2ng-l2rtb-vlan-member><l2ng-l2rtb-vlan-member-interface>{}.0*</l2ng-l2rtb-vlan-member-interface></l2ng-l2rtb-vlan-member>",
                ifname(p)
            );
        }
        s.push_str("</l2ng-l2ald-vlan-instance-group>\n");
    }
    s.push_str("</vlan-information>\n");
    s
}

fn lldp_summary(index: usize, spec: &FleetSpec, links: &[Link]) -> String {
    let _ = index;
    let mut s = String::from("<lldp-neighbors-information style=\"brief\">\n");
    for l in links {
        let _ = writeln!(
            s,
            "<lldp-neighbor-information><lldp-local-port-id>{}</lldp-local-port-id>\
             <lldp-local-parent-interface-name>-</lldp-local-parent-interface-name>\
             <lldp-remote-chassis-id-subtype>Mac address</lldp-remote-chassis-id-subtype>\
             <lldp-remote-chassis-id>{}</lldp-remote-chassis-id>\
             <lldp-remote-port-id-subtype>Interface name</lldp-remote-port-id-subtype>\
             <lldp-remote-port-id>{}</lldp-remote-port-id>\
             <lldp-remote-system-name>{}</lldp-remote-system-name></lldp-neighbor-information>",
            ifname(l.local_port),
            chassis_mac(l.peer),
            ifname(l.peer_port),
            esc(&spec.name(l.peer))
        );
    }
    s.push_str("</lldp-neighbors-information>\n");
    s
}

fn lldp_detail(index: usize, spec: &FleetSpec, l: &Link) -> String {
    let _ = index;
    format!(
        "<lldp-neighbors-information style=\"detail\">\n<lldp-neighbor-information>\n\
         <lldp-local-interface>{local}</lldp-local-interface>\n\
         <lldp-local-parent-interface-name>-</lldp-local-parent-interface-name>\n\
         <lldp-local-port-id>{local_id}</lldp-local-port-id>\n\
         <lldp-remote-chassis-id-subtype>Mac address</lldp-remote-chassis-id-subtype>\n\
         <lldp-remote-chassis-id>{chassis}</lldp-remote-chassis-id>\n\
         <lldp-remote-port-id-subtype>Interface name</lldp-remote-port-id-subtype>\n\
         <lldp-remote-port-id>{port}</lldp-remote-port-id>\n\
         <lldp-remote-port-description>to sim peer {index} {local}</lldp-remote-port-description>\n\
         <lldp-remote-system-name>{peer}</lldp-remote-system-name>\n\
         <lldp-system-description><lldp-remote-system-description>Juniper Networks, Inc. {MODEL} Ethernet Switch, kernel JUNOS {VERSION}</lldp-remote-system-description></lldp-system-description>\n\
         <lldp-remote-system-capabilities-supported>Bridge Router</lldp-remote-system-capabilities-supported>\n\
         <lldp-remote-system-capabilities-enabled>Bridge Router</lldp-remote-system-capabilities-enabled>\n\
         <lldp-remote-management-address>192.0.2.{mgmt}</lldp-remote-management-address>\n\
         </lldp-neighbor-information>\n</lldp-neighbors-information>\n",
        local = ifname(l.local_port),
        local_id = 500 + l.local_port,
        chassis = chassis_mac(l.peer),
        port = ifname(l.peer_port),
        peer = esc(&spec.name(l.peer)),
        mgmt = l.peer % 254 + 1,
    )
}

fn arp(index: usize, n: usize, ports: usize) -> String {
    let mut s = String::with_capacity(n * 300 + 64);
    s.push_str("<arp-table-information style=\"no-resolve\">\n");
    for i in 0..n {
        let ip = format!(
            "10.{}.{}.{}",
            64 + (i >> 16) % 64,
            (i >> 8) & 0xff,
            i & 0xff
        );
        let _ = writeln!(
            s,
            "<arp-table-entry><mac-address>{}</mac-address><ip-address>{ip}</ip-address>\
             <interface-name>{}.0</interface-name><time-to-expire> {}</time-to-expire>\
             <arp-table-entry-flags><none/></arp-table-entry-flags></arp-table-entry>",
            mac(2, index, i),
            ifname(i % ports),
            1200 - i % 1200
        );
    }
    let _ = write!(
        s,
        "<arp-entry-count>{n}</arp-entry-count>\n</arp-table-information>\n"
    );
    s
}

fn ndp(index: usize, n: usize, ports: usize) -> String {
    let mut s = String::with_capacity(n * 400 + 64);
    s.push_str("<ipv6-nd-information>\n");
    for i in 0..n {
        let _ = writeln!(
            s,
            "<ipv6-nd-entry><ipv6-nd-neighbor-address>2001:db8:{:x}::{:x}</ipv6-nd-neighbor-address>\
             <ipv6-nd-neighbor-l2-address>{}</ipv6-nd-neighbor-l2-address>\
             <ipv6-nd-state>reachable</ipv6-nd-state><ipv6-nd-expire>{}</ipv6-nd-expire>\
             <ipv6-nd-isrouter>no</ipv6-nd-isrouter><ipv6-nd-issecure>no</ipv6-nd-issecure>\
             <ipv6-nd-interface-name>{}.0</ipv6-nd-interface-name></ipv6-nd-entry>",
            index + 1,
            i + 1,
            mac(3, index, i),
            20 + i % 10,
            ifname(i % ports)
        );
    }
    let _ = write!(
        s,
        "<ipv6-nd-total>{n}</ipv6-nd-total>\n</ipv6-nd-information>\n"
    );
    s
}

fn instances() -> String {
    "<instance-information style=\"terse\">\n\
     <instance-core><instance-name>master</instance-name><instance-type>forwarding</instance-type></instance-core>\n\
     <instance-core><instance-name>__juniper_private1__</instance-name><instance-type>forwarding</instance-type></instance-core>\n\
     </instance-information>\n"
        .to_string()
}

/// A BGP peer of a generated device.
struct Peer {
    address: String,
    local_address: String,
    peer_as: u64,
    description: String,
    peer_id: String,
    up: bool,
}

fn peers(index: usize, spec: &FleetSpec, links: &[Link]) -> Vec<Peer> {
    let mut out = Vec::new();
    for (p, l) in links.iter().enumerate().take(spec.size.bgp) {
        out.push(Peer {
            address: l.peer_ip.clone(),
            local_address: l.local_ip.clone(),
            peer_as: fleet_as(l.peer),
            description: spec.name(l.peer),
            peer_id: format!("192.0.2.{}", l.peer % 254 + 1),
            up: p % 5 != 4,
        });
    }
    for p in out.len()..spec.size.bgp {
        // External peers beyond the fleet links: 100.64.0.0/10 style numbering in 198.18/15.
        let n = p + 1;
        out.push(Peer {
            address: format!("198.18.{}.{}", (n >> 8) & 0xff, n & 0xff),
            local_address: format!("198.19.{}.{}", (index >> 8) & 0xff, index & 0xff),
            peer_as: 65_100 + (p as u64 % 400),
            description: format!("transit{p}"),
            peer_id: format!("203.0.113.{}", p % 254 + 1),
            up: p % 5 != 4,
        });
    }
    out
}

fn bgp_neighbors(index: usize, spec: &FleetSpec, links: &[Link], summary: bool) -> String {
    let peers = peers(index, spec, links);
    let local_as = fleet_as(index);
    let router_id = format!("192.0.2.{}", index % 254 + 1);
    let mut s = String::from("<bgp-information>\n");
    if summary {
        let _ = writeln!(
            s,
            "<group-count>1</group-count><peer-count>{}</peer-count><down-peer-count>{}</down-peer-count>",
            peers.len(),
            peers.iter().filter(|p| !p.up).count()
        );
    }
    for (i, p) in peers.iter().enumerate() {
        let state = if p.up { "Established" } else { "Active" };
        if summary {
            let _ = writeln!(
                s,
                "<bgp-peer style=\"terse\"><peer-address>{}</peer-address><peer-as>{}</peer-as>\
                 <input-messages>{}</input-messages><output-messages>{}</output-messages>\
                 <route-queue-count>0</route-queue-count><flap-count>{}</flap-count>\
                 <elapsed-time seconds=\"{}\">1:00:00</elapsed-time><peer-state>{state}</peer-state></bgp-peer>",
                p.address,
                p.peer_as,
                1000 + i,
                900 + i,
                i % 3,
                3600 + i
            );
            continue;
        }
        let ribs = if p.up {
            "<bgp-rib style=\"detail\"><name>inet.0</name><rib-bit>20000</rib-bit><bgp-rib-state>BGP restart is complete</bgp-rib-state>\
             <send-state>in sync</send-state><active-prefix-count>10</active-prefix-count>\
             <received-prefix-count>12</received-prefix-count><accepted-prefix-count>12</accepted-prefix-count>\
             <suppressed-prefix-count>0</suppressed-prefix-count><advertised-prefix-count>5</advertised-prefix-count></bgp-rib>\n"
        } else {
            ""
        };
        let peer_id = if p.up {
            format!("<peer-id>{}</peer-id>\n", p.peer_id)
        } else {
            String::new()
        };
        let _ = write!(
            s,
            "<bgp-peer style=\"detail\">\n<peer-address>{}+179</peer-address>\n<peer-as>{}</peer-as>\n\
             <local-address>{}+{}</local-address>\n<local-as>{local_as}</local-as>\n\
             <peer-group>fabric</peer-group>\n<description>{}</description>\n<peer-type>External</peer-type>\n\
             <peer-state>{state}</peer-state>\n<last-state>OpenConfirm</last-state>\n<last-event>RecvKeepAlive</last-event>\n\
             <bgp-option-information>\n<export-policy>EXPORT</export-policy><import-policy>IMPORT</import-policy>\n\
             <bgp-options>Preference LocalAddress HoldTime AddressFamily Multipath</bgp-options>\n\
             <holdtime>90</holdtime><preference>170</preference>\n</bgp-option-information>\n\
             {peer_id}<local-id>{router_id}</local-id>\n<active-holdtime>90</active-holdtime>\n\
             <keepalive-interval>30</keepalive-interval>\n\
             <peer-4byte-as-capability-advertised>{}</peer-4byte-as-capability-advertised>\n\
             {ribs}<flap-count>{}</flap-count>\n<input-messages>{}</input-messages><input-updates>{}</input-updates>\n\
             <output-messages>{}</output-messages><output-updates>{}</output-updates>\n</bgp-peer>\n",
            p.address,
            p.peer_as,
            p.local_address,
            51_000 + i,
            esc(&p.description),
            p.peer_as,
            i % 3,
            1000 + i,
            20 + i,
            900 + i,
            10 + i
        );
    }
    s.push_str("</bgp-information>\n");
    s
}

fn show_version(name: &str) -> String {
    format!(
        "fpc0:\n--------------------------------------------------------------------------\n\
         Hostname: {name}\nModel: {MODEL}\nJunos: {VERSION}\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fleet(n: usize, lldp: usize) -> FleetSpec {
        FleetSpec::new(n, DeviceSize::new(12, 10, lldp, 4, 5, 3))
    }

    #[test]
    fn links_are_symmetric_across_the_fleet() {
        for (n, lldp) in [(10, 6), (3, 6), (2, 4), (200, 8), (5, 5)] {
            let spec = fleet(n, lldp);
            for a in 0..n {
                for l in links(a, &spec) {
                    assert_ne!(l.peer, a, "self link n={n} lldp={lldp}");
                    let back = links(l.peer, &spec);
                    let rev = back
                        .iter()
                        .find(|b| b.local_port == l.peer_port)
                        .unwrap_or_else(|| panic!("no reverse link for {a}:{l:?} (n={n})"));
                    assert_eq!(rev.peer, a);
                    assert_eq!(rev.peer_port, l.local_port);
                    assert_eq!(rev.local_ip, l.peer_ip);
                    assert_eq!(rev.peer_ip, l.local_ip);
                }
            }
        }
        assert!(links(0, &fleet(1, 4)).is_empty());
    }

    #[test]
    fn device_names_and_unique_values() {
        let spec = fleet(3, 4);
        let d = device(1, &spec);
        assert_eq!(d.name, "sim001");
        let sw = &d.files["get-software-information.xml"];
        assert!(sw.contains("<host-name>sim001</host-name>"), "{sw}");
        let other = device(2, &spec);
        assert_ne!(
            d.files["get-chassis-inventory.xml"],
            other.files["get-chassis-inventory.xml"]
        );
        // LLDP names the neighbouring fleet devices, with their chassis MAC.
        let lldp = &d.files["get-lldp-neighbors-information.xml"];
        assert!(
            lldp.contains("<lldp-remote-system-name>sim002</lldp-remote-system-name>"),
            "{lldp}"
        );
        assert!(lldp.contains(&chassis_mac(2)), "{lldp}");
        assert_eq!(d.lldp_detail.len(), links(1, &spec).len());
        let detail = &d.lldp_detail["xe-0/0/0"];
        assert!(detail.contains("<lldp-local-interface>xe-0/0/0</lldp-local-interface>"));
    }

    #[test]
    fn sizes_scale_the_tables() {
        let spec = FleetSpec::new(2, DeviceSize::new(48, 1000, 2, 3, 250, 7));
        let d = device(0, &spec);
        let count = |file: &str, tag: &str| d.files[file].matches(tag).count();
        assert_eq!(
            count(
                "get-ethernet-switching-table-information.xml",
                "<l2ng-l2ald-mac-entry-vlan "
            ),
            1000
        );
        assert_eq!(
            count("get-arp-table-information.xml", "<arp-table-entry>"),
            250
        );
        assert_eq!(count("get-ipv6-nd-information.xml", "<ipv6-nd-entry>"), 7);
        assert_eq!(
            count("get-bgp-neighbor-informationmaster.xml", "<bgp-peer "),
            3
        );
        assert_eq!(
            count("get-bgp-summary-informationmaster.xml", "<bgp-peer "),
            3
        );
        assert_eq!(
            count("get-interface-information.xml", "<physical-interface>"),
            49
        );
        assert_eq!(
            d.interfaces_terse.matches("<physical-interface>").count(),
            49
        );
        // Every generated document is well-formed enough to balance its tags.
        for (name, text) in &d.files {
            if name.ends_with(".xml") {
                assert_eq!(
                    text.matches("<physical-interface>").count(),
                    text.matches("</physical-interface>").count()
                );
            }
        }
    }

    #[test]
    fn macs_are_locally_administered_unicast_and_distinct_per_kind() {
        let a = mac(1, 5, 7);
        let b = mac(2, 5, 7);
        assert_ne!(a, b);
        for m in [a, b, mac(3, 65535, 0xffffff), chassis_mac(0)] {
            let first = u8::from_str_radix(&m[..2], 16).unwrap();
            assert_eq!(first & 0b11, 0b10, "{m}");
        }
    }
}
