#!/usr/bin/env python3
"""Writes the recorded replies of a simulated Junos switch (an ELS/L2NG QFX) into a directory,
in the layout of NAPALM's junos mocked data (`get-foo-information.xml`, with an `instance`
value appended for per-instance RPCs), which `nbfacts collect --replay DIR` and NAPALM's test
double both read.

Sizes scale for benchmarks:

    python3 bench/gen_device.py OUT --name edge1 --interfaces 48 --macs 500 --lldp 20 \
        --bgp 10 --arp 200 --ndp 50

All values are synthetic (RFC 5737/3849 addresses, locally administered MACs).
"""
import argparse
from pathlib import Path
from xml.sax.saxutils import escape


def mac(n, prefix=0x02):
    b = [prefix, (n >> 32) & 0xFF, (n >> 24) & 0xFF, (n >> 16) & 0xFF, (n >> 8) & 0xFF, n & 0xFF]
    return ":".join(f"{x:02x}" for x in b)


def ifname(i):
    return f"xe-0/0/{i}"


def e(tag, text):
    return f"<{tag}>{escape(str(text))}</{tag}>"


def software(name):
    return f"""<software-information>
{e('host-name', name)}
{e('product-model', 'qfx5120-48y-8c')}
{e('product-name', 'qfx5120-48y-8c')}
{e('junos-version', '21.4R3-S4.9')}
<package-information>{e('name', 'junos')}{e('comment', 'JUNOS Software Release [21.4R3-S4.9]')}</package-information>
</software-information>
"""


def chassis(name):
    serial = "WS" + "".join(f"{ord(c) % 10}" for c in name)[:8].ljust(8, "0")
    return f"""<chassis-inventory>
<chassis style="inventory">
{e('name', 'Chassis')}{e('serial-number', serial)}{e('description', 'QFX5120-48Y-8C')}
<chassis-module>{e('name', 'Routing Engine 0')}{e('part-number', 'BUILTIN')}{e('serial-number', 'BUILTIN')}{e('description', 'QFX Routing Engine')}</chassis-module>
<chassis-module>{e('name', 'FPC 0')}{e('version', 'REV 24')}{e('part-number', '650-100148')}{e('serial-number', serial + 'F0')}{e('description', 'QFX5120-48Y-8C')}
<chassis-sub-module>{e('name', 'PIC 0')}{e('part-number', 'BUILTIN')}{e('serial-number', 'BUILTIN')}{e('description', '48x25G-8x100G')}
<chassis-sub-sub-module>{e('name', 'Xcvr 0')}{e('version', 'REV 01')}{e('part-number', '740-031980')}{e('serial-number', serial + 'X0')}{e('description', 'SFP+-10G-SR')}</chassis-sub-sub-module>
</chassis-sub-module>
</chassis-module>
<chassis-module>{e('name', 'Power Supply 0')}{e('version', 'REV 03')}{e('part-number', '740-073147')}{e('serial-number', serial + 'P0')}{e('description', 'JPSU-650W-AC-AO')}</chassis-module>
</chassis>
</chassis-inventory>
"""


def route_engine():
    return """<route-engine-information>
<route-engine>
<slot>0</slot><mastership-state>master</mastership-state><status>OK</status>
<model>QFX Routing Engine</model>
<up-time seconds="8697600">100 days, 16 minutes</up-time>
</route-engine>
</route-engine-information>
"""


def interfaces(n):
    out = ['<interface-information style="normal">']
    for i in range(n):
        up = "up" if i % 7 != 6 else "down"
        desc = f"<description>uplink {i}</description>" if i % 3 == 0 else ""
        out.append(f"""<physical-interface>
{e('name', ifname(i))}
<admin-status format="Enabled">up</admin-status>
{e('oper-status', up)}
{desc}
<mtu>9216</mtu>
<speed>10Gbps</speed>
{e('current-physical-address', mac(0x100000 + i))}
<interface-flapped seconds="{86400 + i}">2026-01-01 00:00:00 UTC (1d 00:00 ago)</interface-flapped>
<logical-interface>
{e('name', ifname(i) + '.0')}
<if-config-flags><iff-snmp-traps/></if-config-flags>
<address-family>
<address-family-name>inet</address-family-name>
<interface-address><ifa-local>198.51.{i // 64}.{(i % 64) * 4 + 1}/30</ifa-local></interface-address>
</address-family>
</logical-interface>
</physical-interface>""")
    out.append("""<physical-interface>
<name>lo0</name>
<admin-status format="Enabled">up</admin-status>
<oper-status>up</oper-status>
<mtu>Unlimited</mtu>
<speed>Unlimited</speed>
<logical-interface>
<name>lo0.0</name>
<address-family><address-family-name>inet</address-family-name>
<interface-address><ifa-local>192.0.2.1</ifa-local></interface-address></address-family>
<address-family><address-family-name>inet6</address-family-name>
<interface-address><ifa-local>2001:db8::1</ifa-local></interface-address></address-family>
</logical-interface>
</physical-interface>""")
    out.append("</interface-information>\n")
    return "\n".join(out)


def mac_table(n, ports):
    out = ["<l2ng-l2ald-rtb-macdb>"]
    for i in range(n):
        out.append(
            '<l2ng-l2ald-mac-entry-vlan style="extensive">'
            f"{e('l2ng-l2-mac-address', mac(0x200000 + i))}"
            "<l2ng-l2-mac-routing-instance>default-switch</l2ng-l2-mac-routing-instance>"
            f"{e('l2ng-l2-vlan-id', 100 + i % 16)}"
            f"{e('l2ng-l2-mac-vlan-name', f'VLAN{100 + i % 16}')}"
            f"{e('l2ng-l2-mac-logical-interface', ifname(i % ports) + '.0')}"
            "<l2ng-l2-mac-entry-flags>in_hash,in_ifd,in_ifl,in_vlan</l2ng-l2-mac-entry-flags>"
            "</l2ng-l2ald-mac-entry-vlan>"
        )
    out.append("</l2ng-l2ald-rtb-macdb>\n")
    return "\n".join(out)


def vlans(ports):
    out = ["<vlan-information>"]
    for v in range(16):
        members = "".join(
            f"<l2ng-l2rtb-vlan-member>{e('l2ng-l2rtb-vlan-member-interface', ifname(p) + '.0*')}</l2ng-l2rtb-vlan-member>"
            for p in range(v % ports, ports, 16)
        )
        out.append(
            "<l2ng-l2ald-vlan-instance-group><l2ng-l2rtb-name>default-switch</l2ng-l2rtb-name>"
            f"{e('l2ng-l2rtb-vlan-name', f'VLAN{100 + v}')}{e('l2ng-l2rtb-vlan-tag', 100 + v)}"
            f"{members}</l2ng-l2ald-vlan-instance-group>"
        )
    out.append("</vlan-information>\n")
    return "\n".join(out)


def lldp_summary(n):
    out = ["<lldp-neighbors-information>"]
    for i in range(n):
        out.append(
            "<lldp-neighbor-information>"
            f"{e('lldp-local-port-id', ifname(i))}"
            "<lldp-local-parent-interface-name>-</lldp-local-parent-interface-name>"
            "<lldp-remote-chassis-id-subtype>Mac address</lldp-remote-chassis-id-subtype>"
            f"{e('lldp-remote-chassis-id', mac(0x300000 + i))}"
            f"{e('lldp-remote-port-description', 'et-0/0/' + str(i % 32))}"
            f"{e('lldp-remote-system-name', f'peer{i}.example.net')}"
            "</lldp-neighbor-information>"
        )
    out.append("</lldp-neighbors-information>\n")
    return "\n".join(out)


def lldp_detail():
    # NAPALM's test double answers every per-interface call from this one file.
    return f"""<lldp-neighbors-information>
<lldp-neighbor-information>
<lldp-local-interface>xe-0/0/0</lldp-local-interface>
<lldp-local-parent-interface-name>-</lldp-local-parent-interface-name>
<lldp-local-port-id>516</lldp-local-port-id>
<lldp-remote-chassis-id-subtype>Mac address</lldp-remote-chassis-id-subtype>
{e('lldp-remote-chassis-id', mac(0x300000))}
<lldp-remote-port-id-subtype>Interface name</lldp-remote-port-id-subtype>
<lldp-remote-port-id>et-0/0/0</lldp-remote-port-id>
<lldp-remote-port-description>to edge</lldp-remote-port-description>
<lldp-remote-system-name>peer0.example.net</lldp-remote-system-name>
<lldp-system-description><lldp-remote-system-description>Juniper Networks, Inc. qfx5120-48y-8c Ethernet Switch, kernel JUNOS 21.4R3-S4.9</lldp-remote-system-description></lldp-system-description>
<lldp-remote-system-capabilities-supported>Bridge Router</lldp-remote-system-capabilities-supported>
<lldp-remote-system-capabilities-enabled>Bridge Router</lldp-remote-system-capabilities-enabled>
</lldp-neighbor-information>
</lldp-neighbors-information>
"""


def arp(n, ports):
    out = ['<arp-table-information style="no-resolve">']
    for i in range(n):
        out.append(
            "<arp-table-entry>"
            f"{e('mac-address', mac(0x400000 + i))}"
            f"{e('ip-address', f'203.0.{113 + i // 65000}.{i % 250 + 1}' if i < 250 else f'10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}')}"
            f"{e('interface-name', ifname(i % ports) + '.0')}"
            f"<time-to-expire> {1200 - i % 1200}</time-to-expire>"
            "<arp-table-entry-flags><none/></arp-table-entry-flags>"
            "</arp-table-entry>"
        )
    out.append("</arp-table-information>\n")
    return "\n".join(out)


def ndp(n, ports):
    out = ["<ipv6-nd-information>"]
    for i in range(n):
        out.append(
            "<ipv6-nd-entry>"
            f"{e('ipv6-nd-neighbor-address', f'2001:db8:1::{i + 1:x}')}"
            f"{e('ipv6-nd-neighbor-l2-address', mac(0x500000 + i))}"
            "<ipv6-nd-state>reachable</ipv6-nd-state>"
            f"{e('ipv6-nd-expire', 20 + i % 10)}"
            "<ipv6-nd-isrouter>no</ipv6-nd-isrouter><ipv6-nd-issecure>no</ipv6-nd-issecure>"
            f"{e('ipv6-nd-interface-name', ifname(i % ports) + '.0')}"
            "</ipv6-nd-entry>"
        )
    out.append(f"{e('ipv6-nd-total', n)}</ipv6-nd-information>\n")
    return "\n".join(out)


def instances():
    return """<instance-information style="terse">
<instance-core><instance-name>master</instance-name><instance-type>forwarding</instance-type></instance-core>
<instance-core><instance-name>__juniper_private1__</instance-name><instance-type>forwarding</instance-type></instance-core>
</instance-information>
"""


def bgp_neighbors(n):
    out = ["<bgp-information>"]
    for i in range(n):
        up = i % 5 != 4
        state = "Established" if up else "Active"
        ribs = (
            "<bgp-rib><name>inet.0</name><active-prefix-count>10</active-prefix-count>"
            "<received-prefix-count>12</received-prefix-count><accepted-prefix-count>12</accepted-prefix-count>"
            "<suppressed-prefix-count>0</suppressed-prefix-count><advertised-prefix-count>5</advertised-prefix-count>"
            "</bgp-rib>"
            if up
            else ""
        )
        out.append(f"""<bgp-peer style="detail">
{e('peer-address', f'198.51.100.{i + 1}+179')}
{e('peer-as', 65100 + i)}
<local-address>198.51.100.254+51234</local-address>
<local-as>65000</local-as>
<peer-group>fabric</peer-group>
{e('description', f'peer{i}')}
<peer-type>External</peer-type>
{e('peer-state', state)}
<last-state>OpenConfirm</last-state>
<last-event>RecvKeepAlive</last-event>
<bgp-option-information>
<export-policy>EXPORT</export-policy><import-policy>IMPORT</import-policy>
<bgp-options>Preference LocalAddress HoldTime AddressFamily Multipath</bgp-options>
<holdtime>90</holdtime><preference>170</preference>
</bgp-option-information>
{e('peer-id', f'192.0.2.{i + 10}') if up else ''}
{e('local-id', '192.0.2.1')}
<active-holdtime>90</active-holdtime>
<keepalive-interval>30</keepalive-interval>
<peer-4byte-as-capability-advertised>{65100 + i}</peer-4byte-as-capability-advertised>
{ribs}
<flap-count>{i % 3}</flap-count>
<input-messages>{1000 + i}</input-messages><input-updates>{20 + i}</input-updates>
<output-messages>{900 + i}</output-messages><output-updates>{10 + i}</output-updates>
</bgp-peer>""")
    out.append("</bgp-information>\n")
    return "\n".join(out)


def bgp_summary(n):
    out = ["<bgp-information>", "<group-count>1</group-count>", f"{e('peer-count', n)}"]
    for i in range(n):
        out.append(
            f"<bgp-peer>{e('peer-address', f'198.51.100.{i + 1}')}{e('peer-as', 65100 + i)}"
            f"<elapsed-time seconds=\"{3600 + i}\">1:00:00</elapsed-time>"
            f"{e('peer-state', 'Established' if i % 5 != 4 else 'Active')}</bgp-peer>"
        )
    out.append("</bgp-information>\n")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--name", default="edge1")
    ap.add_argument("--interfaces", type=int, default=48)
    ap.add_argument("--macs", type=int, default=500)
    ap.add_argument("--lldp", type=int, default=20)
    ap.add_argument("--bgp", type=int, default=10)
    ap.add_argument("--arp", type=int, default=200)
    ap.add_argument("--ndp", type=int, default=50)
    a = ap.parse_args()
    if a.bgp > 250:
        ap.error("--bgp is at most 250")
    ports = max(a.interfaces, a.lldp, 1)
    a.out.mkdir(parents=True, exist_ok=True)
    files = {
        "get-software-information.xml": software(a.name),
        "get-chassis-inventory.xml": chassis(a.name),
        "get-route-engine-information.xml": route_engine(),
        "get-interface-information.xml": interfaces(ports),
        "get-ethernet-switching-table-information.xml": mac_table(a.macs, ports),
        "get-vlan-information.xml": vlans(ports),
        "get-lldp-neighbors-information.xml": lldp_summary(a.lldp),
        "get-lldp-interface-neighbors.xml": lldp_detail(),
        "get-arp-table-information.xml": arp(a.arp, ports),
        "get-ipv6-nd-information.xml": ndp(a.ndp, ports),
        "get-instance-information.xml": instances(),
        "get-bgp-neighbor-information.xml": bgp_neighbors(a.bgp),
        "get-bgp-neighbor-informationmaster.xml": bgp_neighbors(a.bgp),
        "get-bgp-summary-informationmaster.xml": bgp_summary(a.bgp),
    }
    for name, text in files.items():
        (a.out / name).write_text(text)


if __name__ == "__main__":
    main()
