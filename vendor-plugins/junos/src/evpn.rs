//! `evpn`: EVPN instances, the EVPN MAC database, L3 contexts and the IP prefix database.
//!
//! | part | RPC | entries |
//! |---|---|---|
//! | instances | `get-evpn-instance-information` (`extensive`) | `evpn-instance` |
//! | MACs | `get-evpn-database-information` | `evpn-database-instance/mac-entry` |
//! | L3 contexts | `get-evpn-l3-context-information` (`extensive`) | `evpn-l3-context` |
//! | IP prefixes | `get-evpn-ip-prefix-database-information` | `evpn-pfxdb-l3-context/…-entry` |
//!
//! Instances: `evpn-instance-name` (required), `route-distinguisher`, `evpn-encap-type`
//! lower-cased, the VLANs of `bridge-domain-status-table/bridge-domain` (`vlan-id`; `domain-id`
//! is the VNI when the encapsulation is VXLAN), the ESIs (`evpn-esi`: `evpn-esi-value`, the
//! local interface, the remote PEs; the mode comes from the `evpn-interface-status-table` row
//! with the same ESI) and the neighbours (`evpn-neighbor-route-information/
//! evpn-neighbor-address`). Route targets are taken from any `*import-target`,
//! `*export-target` or `vrf-target` element of the instance; the releases in our recorded
//! replies do not report them, so the lists are then empty.
//!
//! MACs (read in one streaming pass, see [`parse_database`]): `mac-address` (normalised like
//! NAPALM's `mac()`), `vlan-id`, `vni-id`,
//! `active-source` (remote when it is an IP address: a VTEP or a PE), `timestamp` and every
//! `ip-address`. A VLAN or VNI missing from the database row is filled in from the instance's
//! VLAN → VNI map.
//!
//! IP prefixes: one entry per prefix and table. Locally exported prefixes (`IPv4->EVPN`
//! tables) have no route distinguisher or next hop; received ones (`EVPN->IPv4`) take the
//! route distinguisher and VNI of their first advertisement and every advertiser's
//! `adv-bgp-nexthop`. `extra` says which (`direction`: `ip-to-evpn` / `evpn-to-ip`).
//!
//! Any of the four RPCs answered with an `rpc-error` (EVPN not supported or not configured,
//! an unknown command on an older release) contributes nothing, as does a not-running
//! `<output>`.

use std::collections::HashMap;

use nbfacts_sdk::{
    CollectError, Device, Evpn, EvpnEsi, EvpnInstance, EvpnIpPrefix, EvpnL3Context, EvpnMac,
    EvpnVlan, parse_error,
};

use crate::common::{call_optional, ip, mac, payloads_named};
use crate::json::load;

mod database;

use crate::xml::{Doc, El};
pub use database::{parse_database, parse_database_doc};

/// The RPC for the instances.
pub const INSTANCE_RPC: &str =
    "<get-evpn-instance-information><extensive/></get-evpn-instance-information>";
/// The RPC for the MAC database.
pub const DATABASE_RPC: &str = "<get-evpn-database-information/>";
/// The RPC for the L3 contexts.
pub const L3_CONTEXT_RPC: &str =
    "<get-evpn-l3-context-information><extensive/></get-evpn-l3-context-information>";
/// The RPC for the IP prefix database.
pub const IP_PREFIX_RPC: &str = "<get-evpn-ip-prefix-database-information/>";

const INSTANCES: &str = "get-evpn-instance-information";
const DATABASE: &str = "get-evpn-database-information";
const L3_CONTEXTS: &str = "get-evpn-l3-context-information";
const IP_PREFIXES: &str = "get-evpn-ip-prefix-database-information";

/// Runs the `evpn` collector.
pub fn collect(device: &dyn Device) -> Result<Evpn, CollectError> {
    let instances = match call_optional(device, INSTANCE_RPC)? {
        Some(reply) => parse_instances(&reply)?,
        None => Vec::new(),
    };
    let mut macs = match call_optional(device, DATABASE_RPC)? {
        Some(reply) => parse_database(&reply)?,
        None => Vec::new(),
    };
    fill_vlans(&instances, &mut macs);
    let l3_contexts = match call_optional(device, L3_CONTEXT_RPC)? {
        Some(reply) => parse_l3_contexts(&reply)?,
        None => Vec::new(),
    };
    let ip_prefixes = match call_optional(device, IP_PREFIX_RPC)? {
        Some(reply) => parse_ip_prefixes(&reply)?,
        None => Vec::new(),
    };
    Ok(Evpn {
        instances,
        macs,
        l3_contexts,
        ip_prefixes,
    })
}

/// Fills a MAC's missing VLAN id or VNI from its instance's VLAN → VNI map.
pub fn fill_vlans(instances: &[EvpnInstance], macs: &mut [EvpnMac]) {
    let mut by_vlan: HashMap<(&str, u16), u32> = HashMap::new();
    let mut by_vni: HashMap<(&str, u32), u16> = HashMap::new();
    for instance in instances {
        for vlan in &instance.vlans {
            if vlan.vlan_id != 0 && vlan.vni != 0 {
                by_vlan.insert((instance.name.as_str(), vlan.vlan_id), vlan.vni);
                by_vni.insert((instance.name.as_str(), vlan.vni), vlan.vlan_id);
            }
        }
    }
    if by_vlan.is_empty() {
        return;
    }
    for m in macs {
        if m.vni == 0
            && m.vlan_id != 0
            && let Some(&vni) = by_vlan.get(&(m.instance.as_str(), m.vlan_id))
        {
            m.vni = vni;
        } else if m.vlan_id == 0
            && m.vni != 0
            && let Some(&vlan) = by_vni.get(&(m.instance.as_str(), m.vni))
        {
            m.vlan_id = vlan;
        }
    }
}

/// A number in `el`'s child `name`: `0` when absent, empty or `none`; a parse error naming the
/// element otherwise.
fn id<T: std::str::FromStr + Default>(
    rpc: &str,
    el: El<'_, '_>,
    name: &str,
) -> Result<T, CollectError> {
    match el.child_text(name) {
        None | Some("") => Ok(T::default()),
        Some(t) if t.eq_ignore_ascii_case("none") || t.eq_ignore_ascii_case("n/a") => {
            Ok(T::default())
        }
        Some(t) => t
            .parse()
            .map_err(|_| parse_error(rpc, name, format!("expected a number, got {t:?}"))),
    }
}

fn push_extra(extra: &mut Vec<(String, String)>, el: El<'_, '_>, names: &[&str]) {
    for name in names {
        if let Some(value) = el.nonempty(name) {
            extra.push(((*name).to_string(), value.to_string()));
        }
    }
}

/// Parses a `get-evpn-instance-information` reply (XML or Junos JSON).
pub fn parse_instances(reply: &str) -> Result<Vec<EvpnInstance>, CollectError> {
    parse_instances_doc(&load(INSTANCES, reply)?)
}

/// Like [`parse_instances`], for a reply already in a [`Doc`].
pub fn parse_instances_doc(doc: &Doc<'_>) -> Result<Vec<EvpnInstance>, CollectError> {
    let mut out = Vec::new();
    for payload in payloads_named(INSTANCES, doc, "evpn-instance-information")? {
        for el in payload.el.children_named("evpn-instance") {
            let mut instance = instance(el)?;
            if !payload.re_name.is_empty() {
                instance
                    .extra
                    .push(("re-name".into(), payload.re_name.to_string()));
            }
            out.push(instance);
        }
    }
    Ok(out)
}

fn instance(el: El<'_, '_>) -> Result<EvpnInstance, CollectError> {
    let name = el.nonempty("evpn-instance-name").ok_or_else(|| {
        parse_error(
            INSTANCES,
            "evpn-instance-name",
            "an evpn-instance has no evpn-instance-name",
        )
    })?;
    let encapsulation = encapsulation(el.text_of("evpn-encap-type"));
    let vxlan = encapsulation == "vxlan";
    let mut vlans = Vec::new();
    for table in el.children_named("bridge-domain-status-table") {
        for bd in table.children_named("bridge-domain") {
            let explicit_vni: u32 = id(INSTANCES, bd, "vni-id")?;
            let domain: u32 = if vxlan {
                id(INSTANCES, bd, "domain-id")?
            } else {
                0
            };
            vlans.push(EvpnVlan {
                vlan_id: id(INSTANCES, bd, "vlan-id")?,
                vni: if explicit_vni != 0 {
                    explicit_vni
                } else {
                    domain
                },
                name: bd
                    .nonempty("bridge-domain-name")
                    .or_else(|| bd.nonempty("vlan-name"))
                    .unwrap_or_default()
                    .to_string(),
            });
        }
    }
    // The local mode of each ESI, from the interface table.
    let mut modes: HashMap<&str, &str> = HashMap::new();
    for table in el.children_named("evpn-interface-status-table") {
        for row in table.children_named("evpn-interface") {
            if let (Some(esi), Some(mode)) = (
                row.nonempty("evpn-interface-esi"),
                row.nonempty("evpn-interface-mode"),
            ) {
                modes.entry(esi).or_insert(mode);
            }
        }
    }
    let mut esis = Vec::new();
    for esi in el.children_named("evpn-esi") {
        esis.push(esi_of(esi, &modes)?);
    }
    let mut neighbors = Vec::new();
    for n in el.descendants_named("evpn-neighbor-address") {
        if !n.text().is_empty() {
            neighbors.push(ip(n.text()));
        }
    }
    let mut import_targets = Vec::new();
    let mut export_targets = Vec::new();
    for child in subtree(el) {
        let n = child.name();
        let text = child.text();
        if text.is_empty() {
            continue;
        }
        if n == "vrf-target" {
            import_targets.push(text.to_string());
            export_targets.push(text.to_string());
        } else if n.ends_with("import-target") {
            import_targets.push(text.to_string());
        } else if n.ends_with("export-target") {
            export_targets.push(text.to_string());
        }
    }
    let mut extra = Vec::new();
    push_extra(
        &mut extra,
        el,
        &[
            "evpn-router-id",
            "evpn-source-vtep-ipaddr",
            "evpn-instance-control-word",
            "local-interfaces",
            "local-interfaces-up",
            "irb-interfaces",
        ],
    );
    if let Some(table) = el.child("mac-database-status-table") {
        push_extra(&mut extra, table, &["local-macs", "remote-macs"]);
    }
    Ok(EvpnInstance {
        name: name.to_string(),
        route_distinguisher: el.text_of("route-distinguisher").to_string(),
        encapsulation,
        import_targets,
        export_targets,
        vlans,
        esis,
        neighbors,
        extra,
    })
}

/// Every element below `el`, in document order.
fn subtree<'d, 'a>(el: El<'d, 'a>) -> Vec<El<'d, 'a>> {
    let mut out = Vec::new();
    let mut stack: Vec<El<'d, 'a>> = el.children().collect();
    stack.reverse();
    while let Some(next) = stack.pop() {
        out.push(next);
        let first = stack.len();
        stack.extend(next.children());
        if let Some(added) = stack.get_mut(first..) {
            added.reverse();
        }
    }
    out
}

fn encapsulation(text: &str) -> String {
    match text.to_ascii_lowercase().as_str() {
        "vxlan" => "vxlan".to_string(),
        "mpls" => "mpls".to_string(),
        _ => text.to_string(),
    }
}

fn esi_of(esi: El<'_, '_>, modes: &HashMap<&str, &str>) -> Result<EvpnEsi, CollectError> {
    let value = esi.nonempty("evpn-esi-value").ok_or_else(|| {
        parse_error(
            INSTANCES,
            "evpn-esi-value",
            "an evpn-esi has no evpn-esi-value",
        )
    })?;
    let local = esi.child("evpn-esi-local-intf-information");
    let mut remote_pes = Vec::new();
    let mut remote_mode = None;
    for info in esi.children_named("evpn-esi-remote-pe-information") {
        for leaf in subtree(info) {
            let name = leaf.name();
            let text = leaf.text();
            if text.is_empty() {
                continue;
            }
            if name.ends_with("mode") {
                remote_mode.get_or_insert(text);
            } else if (name.contains("address") || name.ends_with("remote-pe"))
                && text.parse::<std::net::IpAddr>().is_ok()
            {
                remote_pes.push(ip(text));
            }
        }
    }
    let mode = modes
        .get(value)
        .copied()
        .or(remote_mode)
        .or_else(|| esi.nonempty("evpn-esi-mode"))
        .unwrap_or_default();
    let mut extra = Vec::new();
    push_extra(&mut extra, esi, &["evpn-esi-status"]);
    if let Some(local) = local {
        push_extra(&mut extra, local, &["evpn-esi-local-intf-status"]);
    }
    Ok(EvpnEsi {
        esi: value.to_string(),
        mode: mode.to_string(),
        interface: local
            .map(|l| l.text_of("evpn-esi-local-intf-name"))
            .unwrap_or_default()
            .to_string(),
        remote_pes,
        extra,
    })
}

/// Parses a `get-evpn-l3-context-information` reply (XML or Junos JSON).
pub fn parse_l3_contexts(reply: &str) -> Result<Vec<EvpnL3Context>, CollectError> {
    parse_l3_contexts_doc(&load(L3_CONTEXTS, reply)?)
}

/// Like [`parse_l3_contexts`], for a reply already in a [`Doc`].
pub fn parse_l3_contexts_doc(doc: &Doc<'_>) -> Result<Vec<EvpnL3Context>, CollectError> {
    let mut out = Vec::new();
    for payload in payloads_named(L3_CONTEXTS, doc, "evpn-l3-context-information")? {
        for el in payload.el.children_named("evpn-l3-context") {
            let name = el.nonempty("context-name").ok_or_else(|| {
                parse_error(
                    L3_CONTEXTS,
                    "context-name",
                    "an evpn-l3-context has no context-name",
                )
            })?;
            let mut extra = Vec::new();
            push_extra(
                &mut extra,
                el,
                &[
                    "context-type",
                    "context-advertisement-mode",
                    "context-export-policy",
                ],
            );
            for vtep in el.children_named("context-source-vtep") {
                if let Some(address) = vtep.nonempty("vtep-address") {
                    extra.push(("source-vtep".into(), ip(address)));
                }
            }
            out.push(EvpnL3Context {
                name: name.to_string(),
                route_distinguisher: el.text_of("route-distinguisher").to_string(),
                vni: id(L3_CONTEXTS, el, "context-vni")?,
                encapsulation: encapsulation(el.text_of("context-encapsulation")),
                router_mac: el
                    .nonempty("context-router-mac")
                    .map(mac)
                    .unwrap_or_default(),
                extra,
            });
        }
    }
    Ok(out)
}

/// Parses a `get-evpn-ip-prefix-database-information` reply (XML or Junos JSON).
pub fn parse_ip_prefixes(reply: &str) -> Result<Vec<EvpnIpPrefix>, CollectError> {
    parse_ip_prefixes_doc(&load(IP_PREFIXES, reply)?)
}

/// Like [`parse_ip_prefixes`], for a reply already in a [`Doc`].
pub fn parse_ip_prefixes_doc(doc: &Doc<'_>) -> Result<Vec<EvpnIpPrefix>, CollectError> {
    let mut out = Vec::new();
    for payload in payloads_named(IP_PREFIXES, doc, "evpn-ip-prefix-database-information")? {
        for context in payload.el.children_named("evpn-pfxdb-l3-context") {
            let name = context.text_of("context-name");
            for table in context.children_named("evpn-pfxdb-ip-table") {
                for entry in table.children_named("evpn-pfxdb-ip-entry") {
                    let mut extra = vec![("direction".to_string(), "ip-to-evpn".to_string())];
                    push_extra(&mut extra, table, &["table-description"]);
                    push_extra(&mut extra, entry, &["entry-evpn-route-status"]);
                    out.push(EvpnIpPrefix {
                        prefix: prefix(entry)?,
                        context: name.to_string(),
                        route_distinguisher: String::new(),
                        vni: 0,
                        next_hops: Vec::new(),
                        extra,
                    });
                }
            }
            for table in context.children_named("evpn-pfxdb-evpn-ip-table") {
                for entry in table.children_named("evpn-pfxdb-evpn-ip-entry") {
                    out.push(received(name, table, entry)?);
                }
            }
        }
    }
    Ok(out)
}

fn prefix(entry: El<'_, '_>) -> Result<String, CollectError> {
    entry
        .nonempty("entry-prefix")
        .map(str::to_string)
        .ok_or_else(|| {
            parse_error(
                IP_PREFIXES,
                "entry-prefix",
                "a prefix database entry has no entry-prefix",
            )
        })
}

fn received(
    context: &str,
    table: El<'_, '_>,
    entry: El<'_, '_>,
) -> Result<EvpnIpPrefix, CollectError> {
    let mut extra = vec![("direction".to_string(), "evpn-to-ip".to_string())];
    push_extra(&mut extra, table, &["table-description"]);
    push_extra(&mut extra, entry, &["entry-etag"]);
    let mut route_distinguisher = String::new();
    let mut vni = 0;
    let mut next_hops = Vec::new();
    for (i, adv) in entry.children_named("evpn-pfxdb-evpn-ip-adv").enumerate() {
        if i == 0 {
            route_distinguisher = adv.text_of("route-distinguisher").to_string();
            vni = id(IP_PREFIXES, adv, "adv-vni")?;
        } else if let Some(rd) = adv.nonempty("route-distinguisher") {
            extra.push(("route-distinguisher".into(), rd.to_string()));
        }
        if let Some(hop) = adv.nonempty("adv-bgp-nexthop") {
            next_hops.push(ip(hop));
        }
        push_extra(
            &mut extra,
            adv,
            &[
                "adv-router-mac",
                "adv-ip-route-status",
                "adv-ip-route-error",
            ],
        );
    }
    Ok(EvpnIpPrefix {
        prefix: prefix(entry)?,
        context: context.to_string(),
        route_distinguisher,
        vni,
        next_hops,
        extra,
    })
}
