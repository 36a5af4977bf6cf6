//! NAPALM-shaped output, and NAPALM's rules for comparing results.
//!
//! Users coming from NAPALM (or from the "NetBox Facts" plugin, which runs NAPALM getters) can
//! diff nbfacts output against NAPALM directly, and NAPALM's own `expected_result.json` files
//! are a test oracle for every plugin. [`to_napalm`] turns [`Facts`] into the JSON a NAPALM
//! getter returns; [`compare`] compares two results the way NAPALM's test harness does.
//!
//! | collector | getters |
//! |---|---|
//! | `inventory` | `get_facts` |
//! | `interfaces` | `get_interfaces`, `get_interfaces_ip`, `get_network_instances`, `get_vlans` |
//! | `ethernet_switching` | `get_mac_address_table` |
//! | `lldp` | `get_lldp_neighbors`, `get_lldp_neighbors_detail` |
//! | `bgp` | `get_bgp_neighbors`, `get_bgp_neighbors_detail` |
//! | `arp` | `get_arp_table` |
//! | `ndp` | `get_ipv6_neighbors_table` |

use serde_json::{Map, Value, json};

use crate::{Facts, IpFamily};

/// The NAPALM getters that a collector's facts answer (empty for collectors NAPALM lacks).
pub fn getters(collector: &str) -> &'static [&'static str] {
    match collector {
        "inventory" => &["get_facts"],
        "interfaces" => &[
            "get_interfaces",
            "get_interfaces_ip",
            "get_network_instances",
            "get_vlans",
        ],
        "ethernet_switching" => &["get_mac_address_table"],
        "lldp" => &["get_lldp_neighbors", "get_lldp_neighbors_detail"],
        "bgp" => &["get_bgp_neighbors", "get_bgp_neighbors_detail"],
        "arp" => &["get_arp_table"],
        "ndp" => &["get_ipv6_neighbors_table"],
        _ => &[],
    }
}

/// The result NAPALM's `getter` would return, built from `facts`.
///
/// Fails when `facts` are not the collector's facts for that getter.
pub fn to_napalm(getter: &str, facts: &Facts) -> Result<Value, String> {
    let wrong = || format!("{getter} cannot be built from {} facts", kind(facts));
    Ok(match (getter, facts) {
        ("get_facts", Facts::Inventory(inv)) => {
            let f = &inv.facts;
            json!({
                "vendor": f.vendor,
                "model": f.model,
                "serial_number": f.serial_number,
                "os_version": f.os_version,
                "hostname": f.hostname,
                "fqdn": f.fqdn,
                "uptime": f.uptime,
                "interface_list": f.interface_list,
            })
        }
        ("get_interfaces", Facts::Interfaces(i)) => {
            let mut out = Map::new();
            for iface in &i.interfaces {
                out.insert(
                    iface.name.clone(),
                    json!({
                        "is_up": iface.is_up,
                        "is_enabled": iface.is_enabled,
                        "description": iface.description,
                        "last_flapped": iface.last_flapped,
                        "mtu": iface.mtu,
                        "speed": iface.speed,
                        "mac_address": iface.mac_address,
                    }),
                );
            }
            Value::Object(out)
        }
        ("get_interfaces_ip", Facts::Interfaces(i)) => {
            let mut out = Map::new();
            for a in &i.addresses {
                let family = match a.family {
                    IpFamily::Ipv4 => "ipv4",
                    IpFamily::Ipv6 => "ipv6",
                };
                let entry = out
                    .entry(a.interface.clone())
                    .or_insert_with(|| json!({}));
                if let Some(obj) = entry.as_object_mut() {
                    let fam = obj.entry(family).or_insert_with(|| json!({}));
                    if let Some(fam) = fam.as_object_mut() {
                        fam.insert(a.address.clone(), json!({ "prefix_length": a.prefix_length }));
                    }
                }
            }
            Value::Object(out)
        }
        ("get_network_instances", Facts::Interfaces(i)) => {
            let mut out = Map::new();
            for ni in &i.instances {
                let ifaces: Map<String, Value> = ni
                    .interfaces
                    .iter()
                    .map(|n| (n.clone(), json!({})))
                    .collect();
                out.insert(
                    ni.name.clone(),
                    json!({
                        "name": ni.name,
                        "type": ni.instance_type,
                        "state": { "route_distinguisher": ni.route_distinguisher },
                        "interfaces": { "interface": ifaces },
                    }),
                );
            }
            Value::Object(out)
        }
        ("get_vlans", Facts::Interfaces(i)) => {
            let mut out = Map::new();
            for v in &i.vlans {
                out.insert(
                    v.vlan_id.to_string(),
                    json!({ "name": v.name, "interfaces": v.interfaces }),
                );
            }
            Value::Object(out)
        }
        ("get_mac_address_table", Facts::EthernetSwitching(entries)) => entries
            .iter()
            .map(|m| {
                json!({
                    "mac": m.mac,
                    "interface": m.interface,
                    "vlan": m.vlan,
                    "static": m.is_static,
                    "active": m.active,
                    "moves": m.moves,
                    "last_move": m.last_move,
                })
            })
            .collect(),
        ("get_lldp_neighbors", Facts::Lldp(neighbors)) => {
            let mut out = Map::new();
            for n in neighbors {
                let key = if n.local_port_id.is_empty() {
                    &n.local_interface
                } else {
                    &n.local_port_id
                };
                let port = if n.remote_port.is_empty() {
                    &n.remote_port_description
                } else {
                    &n.remote_port
                };
                push(
                    &mut out,
                    key,
                    json!({ "hostname": n.remote_system_name, "port": port }),
                );
            }
            Value::Object(out)
        }
        ("get_lldp_neighbors_detail", Facts::Lldp(neighbors)) => {
            let mut out = Map::new();
            for n in neighbors {
                push(
                    &mut out,
                    &n.local_interface,
                    json!({
                        "parent_interface": n.parent_interface,
                        "remote_port": n.remote_port,
                        "remote_chassis_id": n.remote_chassis_id,
                        "remote_port_description": n.remote_port_description,
                        "remote_system_name": n.remote_system_name,
                        "remote_system_description": n.remote_system_description,
                        "remote_system_capab": n.remote_system_capab,
                        "remote_system_enable_capab": n.remote_system_enable_capab,
                    }),
                );
            }
            Value::Object(out)
        }
        ("get_bgp_neighbors", Facts::Bgp(bgp)) => {
            let mut out = Map::new();
            for inst in &bgp.instances {
                let mut peers = Map::new();
                for p in &inst.peers {
                    let value = if p.summary_only {
                        json!({ "uptime": p.uptime })
                    } else {
                        let families: Map<String, Value> = p
                            .address_families
                            .iter()
                            .map(|f| {
                                (
                                    f.family.clone(),
                                    json!({
                                        "received_prefixes": f.received_prefixes,
                                        "accepted_prefixes": f.accepted_prefixes,
                                        "sent_prefixes": f.sent_prefixes,
                                    }),
                                )
                            })
                            .collect();
                        json!({
                            "local_as": p.local_as,
                            "remote_as": p.remote_as,
                            "remote_id": p.remote_id,
                            "is_up": p.is_up,
                            "is_enabled": p.is_enabled,
                            "description": p.description,
                            "uptime": p.uptime,
                            "address_family": families,
                        })
                    };
                    peers.insert(p.remote_address.clone(), value);
                }
                if !peers.is_empty() {
                    out.insert(
                        inst.name.clone(),
                        json!({ "router_id": inst.router_id, "peers": peers }),
                    );
                }
            }
            Value::Object(out)
        }
        ("get_bgp_neighbors_detail", Facts::Bgp(bgp)) => {
            let mut out = Map::new();
            for inst in &bgp.instances {
                let mut by_as = Map::new();
                for p in inst.peers.iter().filter(|p| !p.summary_only) {
                    push(
                        &mut by_as,
                        &p.remote_as.to_string(),
                        json!({
                            "up": p.is_up,
                            "local_as": p.local_as,
                            "remote_as": p.remote_as,
                            "router_id": p.remote_id,
                            "local_address": p.local_address,
                            "routing_table": inst.name,
                            "local_address_configured": p.local_address_configured,
                            "local_port": p.local_port,
                            "remote_address": p.remote_address,
                            "remote_port": p.remote_port,
                            "multihop": p.multihop,
                            "multipath": p.multipath,
                            "remove_private_as": p.remove_private_as,
                            "import_policy": p.import_policy,
                            "export_policy": p.export_policy,
                            "input_messages": p.input_messages,
                            "output_messages": p.output_messages,
                            "input_updates": p.input_updates,
                            "output_updates": p.output_updates,
                            "messages_queued_out": p.messages_queued_out,
                            "connection_state": p.connection_state,
                            "previous_connection_state": p.previous_connection_state,
                            "last_event": p.last_event,
                            "suppress_4byte_as": p.suppress_4byte_as,
                            "local_as_prepend": p.local_as_prepend,
                            "holdtime": p.holdtime,
                            "configured_holdtime": p.configured_holdtime,
                            "keepalive": p.keepalive,
                            "configured_keepalive": p.configured_keepalive,
                            "active_prefix_count": p.active_prefix_count,
                            "received_prefix_count": p.received_prefix_count,
                            "accepted_prefix_count": p.accepted_prefix_count,
                            "suppressed_prefix_count": p.suppressed_prefix_count,
                            "advertised_prefix_count": p.advertised_prefix_count,
                            "flap_count": p.flap_count,
                        }),
                    );
                }
                if !by_as.is_empty() {
                    out.insert(inst.name.clone(), Value::Object(by_as));
                }
            }
            Value::Object(out)
        }
        ("get_arp_table", Facts::Arp(entries)) => entries
            .iter()
            .map(|a| json!({ "interface": a.interface, "mac": a.mac, "ip": a.ip, "age": a.age }))
            .collect(),
        ("get_ipv6_neighbors_table", Facts::Ndp(entries)) => entries
            .iter()
            .map(|n| {
                json!({
                    "interface": n.interface,
                    "mac": n.mac,
                    "ip": n.ip,
                    "age": n.age,
                    "state": n.state,
                })
            })
            .collect(),
        _ if getters_for_any(getter) => return Err(wrong()),
        _ => return Err(format!("{getter} is not a NAPALM getter nbfacts knows")),
    })
}

fn getters_for_any(getter: &str) -> bool {
    [
        "inventory",
        "interfaces",
        "ethernet_switching",
        "lldp",
        "bgp",
        "arp",
        "ndp",
    ]
    .iter()
    .any(|c| getters(c).contains(&getter))
}

fn kind(facts: &Facts) -> &'static str {
    match facts {
        Facts::Inventory(_) => "inventory",
        Facts::Interfaces(_) => "interfaces",
        Facts::EthernetSwitching(_) => "ethernet_switching",
        Facts::Lldp(_) => "lldp",
        Facts::Bgp(_) => "bgp",
        Facts::Arp(_) => "arp",
        Facts::Ndp(_) => "ndp",
        Facts::L2Circuits(_) => "l2_circuits",
        Facts::Evpn(_) => "evpn",
        Facts::Ospf(_) => "ospf",
        Facts::Other(_) => "other",
    }
}

fn push(map: &mut Map<String, Value>, key: &str, value: Value) {
    let list = map
        .entry(key.to_string())
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(items) = list {
        items.push(value);
    }
}

/// Compares `actual` with `expected` by NAPALM's test rules and returns the differences, each
/// with its JSON path (empty when they match):
///
/// * objects key by key (a missing or an extra key is a difference);
/// * `"..."` in `expected` matches anything;
/// * lists position by position, so order matters;
/// * numbers by value (`4380 == 4380.0`).
///
/// Both sides are taken after a JSON round trip, so integer dictionary keys are strings.
pub fn compare(expected: &Value, actual: &Value) -> Vec<String> {
    let mut diffs = Vec::new();
    walk("$", expected, actual, &mut diffs);
    diffs
}

fn walk(path: &str, expected: &Value, actual: &Value, diffs: &mut Vec<String>) {
    match (expected, actual) {
        (Value::String(s), _) if s == "..." => {}
        (Value::Number(a), Value::Number(b)) => {
            if a.as_f64() != b.as_f64() {
                diffs.push(format!("{path}: expected {a}, got {b}"));
            }
        }
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let p = format!("{path}.{k}");
                match a.get(k) {
                    Some(av) => walk(&p, ev, av, diffs),
                    None => diffs.push(format!("{p}: missing (expected {ev})")),
                }
            }
            for k in a.keys().filter(|k| !e.contains_key(*k)) {
                diffs.push(format!("{path}.{k}: unexpected key"));
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                diffs.push(format!(
                    "{path}: expected {} items, got {}",
                    e.len(),
                    a.len()
                ));
            }
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                walk(&format!("{path}[{i}]"), ev, av, diffs);
            }
        }
        (e, a) => {
            if e != a {
                diffs.push(format!("{path}: expected {e}, got {a}"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_compare_by_value_and_wildcards_match() {
        assert!(compare(&json!({"a": 4380, "b": "..."}), &json!({"a": 4380.0, "b": [1]})).is_empty());
        assert_eq!(
            compare(&json!({"a": -1}), &json!({"a": 0})),
            vec!["$.a: expected -1, got 0"]
        );
    }

    #[test]
    fn lists_are_positional_and_keys_must_match() {
        let d = compare(&json!([1, 2]), &json!([2, 1]));
        assert_eq!(d.len(), 2);
        let d = compare(&json!({"a": 1}), &json!({"b": 1}));
        assert_eq!(d, vec!["$.a: missing (expected 1)", "$.b: unexpected key"]);
        assert_eq!(compare(&json!([1]), &json!([1, 2])), vec!["$: expected 1 items, got 2"]);
    }

    #[test]
    fn arp_facts_convert() {
        let facts = Facts::Arp(vec![crate::ArpEntry {
            interface: "ge-0/0/0.0".into(),
            mac: "00:11:22:33:44:55".into(),
            ip: "192.0.2.1".into(),
            age: 10.0,
            extra: vec![],
        }]);
        let v = to_napalm("get_arp_table", &facts).unwrap();
        assert_eq!(v[0]["age"], 10.0);
        assert!(to_napalm("get_facts", &facts).is_err());
        assert!(to_napalm("get_nothing", &facts).is_err());
        assert_eq!(getters("lldp"), ["get_lldp_neighbors", "get_lldp_neighbors_detail"]);
    }
}
