//! NAPALM-shaped output, and NAPALM's rules for comparing results.
//!
//! Users coming from NAPALM (or from the "NetBox Facts" plugin, which runs NAPALM getters) can
//! diff nbfacts output against NAPALM directly, and NAPALM's own `expected_result.json` files
//! are a test oracle for every plugin:
//!
//! * [`getters`] names the NAPALM getters a collector answers;
//! * [`to_napalm`] turns [`Facts`] into the JSON that NAPALM getter returns;
//! * [`compare`] compares two results the way NAPALM's test harness does and lists the
//!   differences with their JSON paths;
//! * [`napalm_double_view`] shows a recorded reply the way NAPALM's junos test double lets
//!   PyEZ see it (needed to reproduce NAPALM's expected results exactly, see there).
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
//!
//! ```
//! use nbfacts_sdk::{napalm, ArpEntry, Facts};
//! use serde_json::json;
//!
//! let facts = Facts::Arp(vec![ArpEntry {
//!     interface: "ae1.0".into(),
//!     mac: "00:00:5E:00:53:01".into(),
//!     ip: "192.0.2.1".into(),
//!     age: 1031.0,
//!     extra: vec![],
//! }]);
//! let actual = napalm::to_napalm("get_arp_table", &facts).unwrap();
//! let expected = json!([{"interface": "ae1.0", "mac": "00:00:5E:00:53:01",
//!                        "ip": "192.0.2.1", "age": 1031}]);
//! assert!(napalm::compare(&expected, &actual).is_empty());
//! ```
//!
//! ## Conversion rules
//!
//! The facts records follow the WIT contract (`-1` = unknown); NAPALM has its own defaults
//! for some fields, which the conversion restores: in the BGP getters an unknown AS number,
//! uptime, hold time, keepalive or flap count is `0`, an unknown port is `179`, and a peer
//! seen only in the summary table is a bare `{"uptime": n}`. Dictionary keys that NAPALM
//! makes integers (AS numbers, VLAN ids) are strings, as after NAPALM's JSON round trip.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::{BgpInstance, BgpPeer, Facts, IpFamily};

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

const COLLECTORS: &[&str] = &[
    "inventory",
    "interfaces",
    "ethernet_switching",
    "lldp",
    "bgp",
    "arp",
    "ndp",
];

/// The collector whose facts answer `getter`, if any.
pub fn collector_for(getter: &str) -> Option<&'static str> {
    COLLECTORS
        .iter()
        .copied()
        .find(|c| getters(c).contains(&getter))
}

/// The result NAPALM's `getter` would return, built from `facts`.
///
/// Fails when `getter` is not a NAPALM getter nbfacts knows, or when `facts` are not the
/// facts of the collector that answers it.
pub fn to_napalm(getter: &str, facts: &Facts) -> Result<Value, String> {
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
            let mut by_interface: BTreeMap<&str, BTreeMap<&str, Map<String, Value>>> =
                BTreeMap::new();
            for a in &i.addresses {
                let family = match a.family {
                    IpFamily::Ipv4 => "ipv4",
                    IpFamily::Ipv6 => "ipv6",
                };
                by_interface
                    .entry(a.interface.as_str())
                    .or_default()
                    .entry(family)
                    .or_default()
                    .insert(
                        a.address.clone(),
                        json!({ "prefix_length": a.prefix_length }),
                    );
            }
            by_interface
                .into_iter()
                .map(|(interface, families)| {
                    let families: Map<String, Value> = families
                        .into_iter()
                        .map(|(f, addresses)| (f.to_string(), Value::Object(addresses)))
                        .collect();
                    (interface.to_string(), Value::Object(families))
                })
                .collect::<Map<String, Value>>()
                .into()
        }
        ("get_network_instances", Facts::Interfaces(i)) => {
            let mut out = Map::new();
            for ni in &i.instances {
                let interfaces: Map<String, Value> = ni
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
                        "interfaces": { "interface": interfaces },
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
                let peers: Map<String, Value> = inst
                    .peers
                    .iter()
                    .map(|p| (p.remote_address.clone(), bgp_neighbor(p)))
                    .collect();
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
                        &or_zero(p.remote_as).to_string(),
                        bgp_detail(inst, p),
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
        _ => {
            return Err(match collector_for(getter) {
                Some(collector) => format!(
                    "{getter} is built from {collector} facts, not from {} facts",
                    kind(facts)
                ),
                None => format!("{getter} is not a NAPALM getter nbfacts knows"),
            });
        }
    })
}

/// NAPALM's default for an unknown number in the BGP getters.
fn or_zero(value: i64) -> i64 {
    if value < 0 { 0 } else { value }
}

fn or_179(port: i32) -> i32 {
    if port < 0 { 179 } else { port }
}

fn bgp_neighbor(p: &BgpPeer) -> Value {
    if p.summary_only {
        let uptime = if p.uptime < 0 {
            Value::Null
        } else {
            json!(p.uptime)
        };
        return json!({ "uptime": uptime });
    }
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
        "local_as": or_zero(p.local_as),
        "remote_as": or_zero(p.remote_as),
        "remote_id": p.remote_id,
        "is_up": p.is_up,
        "is_enabled": p.is_enabled,
        "description": p.description,
        "uptime": or_zero(p.uptime),
        "address_family": families,
    })
}

fn bgp_detail(inst: &BgpInstance, p: &BgpPeer) -> Value {
    json!({
        "up": p.is_up,
        "local_as": or_zero(p.local_as),
        "remote_as": or_zero(p.remote_as),
        "router_id": p.remote_id,
        "local_address": p.local_address,
        "routing_table": inst.name,
        "local_address_configured": p.local_address_configured,
        "local_port": or_179(p.local_port),
        "remote_address": p.remote_address,
        "remote_port": or_179(p.remote_port),
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
        "holdtime": or_zero(p.holdtime),
        "configured_holdtime": or_zero(p.configured_holdtime),
        "keepalive": or_zero(p.keepalive),
        "configured_keepalive": or_zero(p.configured_keepalive),
        "active_prefix_count": p.active_prefix_count,
        "received_prefix_count": p.received_prefix_count,
        "accepted_prefix_count": p.accepted_prefix_count,
        "suppressed_prefix_count": p.suppressed_prefix_count,
        "advertised_prefix_count": p.advertised_prefix_count,
        "flap_count": or_zero(p.flap_count),
    })
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
    match list {
        Value::Array(items) => items.push(value),
        other => *other = Value::Array(vec![value]),
    }
}

/// Compares `actual` with `expected` by the rules of NAPALM's test harness
/// (`napalm.base.test.getters`) and returns the differences, each with its JSON path (empty
/// when they match):
///
/// * both sides are JSON, so the harness's `json.loads(json.dumps(result))` round trip has
///   already happened: integer dictionary keys are strings;
/// * objects are compared key by key (NAPALM's `dict_diff`): a missing key counts as `null`,
///   and an expected value of `"..."` matches anything but an object;
/// * a top-level list (ARP, NDP, MAC tables) is compared position by position, padding the
///   shorter list with empty objects (`list_dicts_diff`, `zip_longest`), so order matters;
/// * a list inside an object (LLDP neighbours, `interface_list`) is compared with Python's
///   `==`: same length, same order, no wildcards;
/// * numbers are compared by value, so `4380 == 4380.0` and `-1 == -1.0`. Booleans are not
///   numbers here (Python's `True == 1` is not reproduced).
pub fn compare(expected: &Value, actual: &Value) -> Vec<String> {
    let mut diffs = Vec::new();
    match (expected, actual) {
        (Value::Array(e), Value::Array(a)) => {
            for i in 0..e.len().max(a.len()) {
                let path = format!("$[{i}]");
                match (e.get(i), a.get(i)) {
                    (Some(Value::Object(ev)), Some(Value::Object(av))) => {
                        dict_diff(&path, ev, av, &mut diffs);
                    }
                    (Some(ev), None) => {
                        diffs.push(format!("{path}: missing (expected {})", show(ev)))
                    }
                    (None, Some(av)) => diffs.push(format!("{path}: unexpected {}", show(av))),
                    (Some(ev), Some(av)) => detail(&path, ev, av, &mut diffs),
                    (None, None) => {}
                }
            }
        }
        (Value::Object(e), Value::Object(a)) => dict_diff("$", e, a, &mut diffs),
        (e, a) => detail("$", e, a, &mut diffs),
    }
    diffs
}

/// NAPALM's `dict_diff(result, expected)`.
fn dict_diff(
    path: &str,
    expected: &Map<String, Value>,
    actual: &Map<String, Value>,
    diffs: &mut Vec<String>,
) {
    let keys = expected
        .keys()
        .chain(actual.keys().filter(|k| !expected.contains_key(*k)));
    for key in keys {
        let p = join(path, key);
        let ev = expected.get(key).unwrap_or(&Value::Null);
        match (actual.get(key), ev) {
            (Some(Value::Object(av)), Value::Object(ev)) => dict_diff(&p, ev, av, diffs),
            (Some(Value::Object(_)), _) => {
                detail(&p, ev, actual.get(key).unwrap_or(&Value::Null), diffs)
            }
            (_, Value::String(s)) if s == "..." => {}
            (None, Value::Null) => {}
            (None, ev) => diffs.push(format!("{p}: missing (expected {})", show(ev))),
            (Some(av), Value::Null) if !expected.contains_key(key) && !av.is_null() => {
                diffs.push(format!("{p}: unexpected key (got {})", show(av)));
            }
            (Some(av), ev) => {
                if !py_eq(ev, av) {
                    detail(&p, ev, av, diffs);
                }
            }
        }
    }
}

/// Reports why `actual` differs from `expected` (called only when they differ), descending
/// into lists and objects for a precise path.
fn detail(path: &str, expected: &Value, actual: &Value, diffs: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                diffs.push(format!(
                    "{path}: expected {} items, got {}",
                    e.len(),
                    a.len()
                ));
            }
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                if !py_eq(ev, av) {
                    detail(&format!("{path}[{i}]"), ev, av, diffs);
                }
            }
        }
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let p = join(path, k);
                match a.get(k) {
                    None => diffs.push(format!("{p}: missing (expected {})", show(ev))),
                    Some(av) if !py_eq(ev, av) => detail(&p, ev, av, diffs),
                    Some(_) => {}
                }
            }
            for (k, av) in a.iter().filter(|(k, _)| !e.contains_key(*k)) {
                diffs.push(format!(
                    "{}: unexpected key (got {})",
                    join(path, k),
                    show(av)
                ));
            }
        }
        _ if py_eq(expected, actual) => {}
        _ => diffs.push(format!(
            "{path}: expected {}, got {}",
            show(expected),
            show(actual)
        )),
    }
}

/// Python's `==` on values loaded from JSON (numbers by value).
fn py_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => match (x.as_u64(), y.as_u64()) {
                (Some(x), Some(y)) => x == y,
                _ => x.as_f64() == y.as_f64(),
            },
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| py_eq(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, xv)| y.get(k).is_some_and(|yv| py_eq(xv, yv)))
        }
        _ => a == b,
    }
}

/// `$.key` for identifier-like keys, `$["10.0.0.1"]` for the others.
fn join(path: &str, key: &str) -> String {
    let plain = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        format!("{path}.{key}")
    } else {
        format!("{path}[{}]", Value::String(key.to_string()))
    }
}

fn show(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 200 {
        let short: String = text.chars().take(200).collect();
        format!("{short}…")
    } else {
        text
    }
}

/// A recorded Junos reply as NAPALM's junos test double lets PyEZ see it.
///
/// The double parses the mocked file with lxml and hands the tree to PyEZ's tables, whose
/// XPaths use plain element names. On a device, PyEZ strips namespaces first; in the double it
/// does not, so every element that declares a default namespace (`xmlns="…"`), together with
/// everything below it, is invisible to NAPALM. A few NAPALM junos fixtures have such elements
/// (`bgp-option-information` in the BGP cases), and their expected results show NAPALM's
/// defaults for the fields below them (no import policy, `configured_holdtime` 0, …). Replaying
/// a NAPALM case through this function reproduces what NAPALM computed; on a device the plugin
/// reads those elements, which is what NAPALM does there too.
///
/// The scan is textual (tags, comments and processing instructions; a `>` inside an attribute
/// value is not supported), which is enough for recorded replies.
pub fn napalm_double_view(xml: &str) -> String {
    let mut out = String::with_capacity(xml.len());
    let mut rest = xml;
    let mut hidden_depth = 0usize;
    while let Some(lt) = rest.find('<') {
        let (text, from_tag) = rest.split_at(lt);
        if hidden_depth == 0 {
            out.push_str(text);
        }
        let Some(gt) = from_tag.find('>') else {
            rest = from_tag;
            break;
        };
        let (tag, after) = from_tag.split_at(gt + 1);
        rest = after;
        if tag.starts_with("<?") || tag.starts_with("<!") {
            if hidden_depth == 0 {
                out.push_str(tag);
            }
            continue;
        }
        let closing = tag.starts_with("</");
        let empty = tag.ends_with("/>");
        if hidden_depth > 0 {
            if closing {
                hidden_depth -= 1;
            } else if !empty {
                hidden_depth += 1;
            }
            continue;
        }
        if !closing && declares_default_namespace(tag) {
            if !empty {
                hidden_depth = 1;
            }
            continue;
        }
        out.push_str(tag);
    }
    if hidden_depth == 0 {
        out.push_str(rest);
    }
    out
}

fn declares_default_namespace(tag: &str) -> bool {
    tag.split_whitespace().any(|part| {
        part.strip_prefix("xmlns=")
            .and_then(|v| v.get(1..))
            .is_some_and(|v| !v.starts_with('"') && !v.starts_with('\''))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        ArpEntry, Bgp, BgpFamily, DeviceFacts, Interface, InterfaceAddress, Interfaces, Inventory,
        LldpNeighbor, MacEntry, NdpEntry, NetworkInstance, Vlan,
    };

    #[test]
    fn numbers_compare_by_value_and_wildcards_match() {
        assert!(
            compare(
                &json!({"a": 4380, "b": "..."}),
                &json!({"a": 4380.0, "b": [1]})
            )
            .is_empty()
        );
        assert!(
            compare(
                &json!({"a": -1.0, "b": [0.0, 1]}),
                &json!({"a": -1, "b": [0, 1.0]})
            )
            .is_empty()
        );
        assert_eq!(
            compare(&json!({"a": -1}), &json!({"a": 0})),
            ["$.a: expected -1, got 0"]
        );
        // The wildcard does not match an object (NAPALM's dict_diff checks objects first).
        assert_eq!(compare(&json!({"a": "..."}), &json!({"a": {}})).len(), 1);
        // Booleans are not numbers.
        assert_eq!(compare(&json!({"a": 1}), &json!({"a": true})).len(), 1);
    }

    #[test]
    fn objects_key_by_key_with_readable_paths() {
        let d = compare(&json!({"a": 1}), &json!({"b": 1}));
        assert_eq!(
            d,
            ["$.a: missing (expected 1)", "$.b: unexpected key (got 1)"]
        );
        let d = compare(
            &json!({"global": {"peers": {"10.0.0.1": {"uptime": 5}}}}),
            &json!({"global": {"peers": {"10.0.0.1": {"uptime": 6}}}}),
        );
        assert_eq!(
            d,
            [r#"$.global.peers["10.0.0.1"].uptime: expected 5, got 6"#]
        );
        // A missing key counts as null, like Python's dict.get.
        assert!(compare(&json!({"a": null}), &json!({})).is_empty());
    }

    #[test]
    fn top_level_lists_are_positional() {
        let d = compare(
            &json!([{"mac": "A"}, {"mac": "B"}]),
            &json!([{"mac": "B"}, {"mac": "A"}]),
        );
        assert_eq!(
            d,
            [
                r#"$[0].mac: expected "A", got "B""#,
                r#"$[1].mac: expected "B", got "A""#
            ]
        );
        let d = compare(&json!([{"mac": "A"}]), &json!([{"mac": "A"}, {"mac": "C"}]));
        assert_eq!(d, [r#"$[1]: unexpected {"mac":"C"}"#]);
        let d = compare(&json!([{"mac": "A"}, {"mac": "C"}]), &json!([{"mac": "A"}]));
        assert_eq!(d, [r#"$[1]: missing (expected {"mac":"C"})"#]);
    }

    #[test]
    fn nested_lists_compare_whole_and_in_order() {
        let d = compare(
            &json!({"xe-0/0/1": [{"hostname": "a", "port": "1"}]}),
            &json!({"xe-0/0/1": [{"hostname": "a", "port": "2"}]}),
        );
        assert_eq!(d, [r#"$["xe-0/0/1"][0].port: expected "1", got "2""#]);
        let d = compare(&json!({"l": ["a", "b"]}), &json!({"l": ["b", "a"]}));
        assert_eq!(d.len(), 2);
        let d = compare(&json!({"l": ["a"]}), &json!({"l": ["a", "b"]}));
        assert_eq!(d, ["$.l: expected 1 items, got 2"]);
        // No wildcard inside nested lists.
        assert_eq!(
            compare(&json!({"l": ["..."]}), &json!({"l": ["x"]})).len(),
            1
        );
    }

    fn peer(address: &str) -> BgpPeer {
        BgpPeer {
            remote_address: address.into(),
            remote_port: -1,
            local_address: String::new(),
            local_port: -1,
            local_as: 64496,
            remote_as: 64500,
            remote_id: "198.51.100.1".into(),
            description: String::new(),
            is_up: true,
            is_enabled: true,
            uptime: -1,
            local_address_configured: false,
            multihop: false,
            multipath: false,
            remove_private_as: false,
            import_policy: String::new(),
            export_policy: String::new(),
            input_messages: -1,
            output_messages: -1,
            input_updates: -1,
            output_updates: -1,
            messages_queued_out: 0,
            connection_state: "Established".into(),
            previous_connection_state: String::new(),
            last_event: String::new(),
            suppress_4byte_as: false,
            local_as_prepend: false,
            holdtime: -1,
            configured_holdtime: -1,
            keepalive: 30,
            configured_keepalive: 30,
            active_prefix_count: -1,
            received_prefix_count: -1,
            accepted_prefix_count: -1,
            suppressed_prefix_count: -1,
            advertised_prefix_count: -1,
            flap_count: -1,
            address_families: vec![BgpFamily {
                family: "ipv4".into(),
                received_prefixes: 3,
                accepted_prefixes: 3,
                sent_prefixes: 1,
            }],
            summary_only: false,
            extra: vec![],
        }
    }

    #[test]
    fn bgp_conversions_restore_napalm_defaults() {
        let mut summary = peer("203.0.113.9");
        summary.summary_only = true;
        summary.uptime = 42;
        let bgp = Facts::Bgp(Bgp {
            instances: vec![
                BgpInstance {
                    name: "global".into(),
                    router_id: "192.0.2.254".into(),
                    local_as: 64496,
                    peers: vec![peer("192.0.2.1"), summary],
                },
                BgpInstance {
                    name: "empty".into(),
                    router_id: String::new(),
                    local_as: -1,
                    peers: vec![],
                },
            ],
        });
        let n = to_napalm("get_bgp_neighbors", &bgp).unwrap();
        assert_eq!(
            n,
            json!({"global": {"router_id": "192.0.2.254", "peers": {
                "192.0.2.1": {"local_as": 64496, "remote_as": 64500, "remote_id": "198.51.100.1",
                    "is_up": true, "is_enabled": true, "description": "", "uptime": 0,
                    "address_family": {"ipv4": {"received_prefixes": 3, "accepted_prefixes": 3, "sent_prefixes": 1}}},
                "203.0.113.9": {"uptime": 42}}}})
        );
        let d = to_napalm("get_bgp_neighbors_detail", &bgp).unwrap();
        let p = &d["global"]["64500"][0];
        assert_eq!(
            d["global"].as_object().unwrap().len(),
            1,
            "summary-only peers are not detailed"
        );
        assert_eq!(
            (p["local_port"].clone(), p["remote_port"].clone()),
            (json!(179), json!(179))
        );
        assert_eq!(
            (p["holdtime"].clone(), p["flap_count"].clone()),
            (json!(0), json!(0))
        );
        assert_eq!(p["input_messages"], json!(-1));
        assert_eq!(p["routing_table"], json!("global"));
        assert_eq!(p.as_object().unwrap().len(), 35);
    }

    #[test]
    fn interface_conversions() {
        let facts = Facts::Interfaces(Interfaces {
            interfaces: vec![Interface {
                name: "ge-0/0/0".into(),
                parent: String::new(),
                is_up: true,
                is_enabled: true,
                description: String::new(),
                last_flapped: -1.0,
                mtu: 1514,
                speed: 1000.0,
                mac_address: "None".into(),
                extra: vec![],
            }],
            addresses: vec![
                InterfaceAddress {
                    interface: "ge-0/0/0.0".into(),
                    family: IpFamily::Ipv4,
                    address: "192.0.2.1".into(),
                    prefix_length: 31,
                    extra: vec![],
                },
                InterfaceAddress {
                    interface: "ge-0/0/0.0".into(),
                    family: IpFamily::Ipv6,
                    address: "2001:db8::1".into(),
                    prefix_length: 127,
                    extra: vec![],
                },
            ],
            instances: vec![NetworkInstance {
                name: "default".into(),
                instance_type: "DEFAULT_INSTANCE".into(),
                route_distinguisher: String::new(),
                interfaces: vec!["ge-0/0/0".into()],
                extra: vec![],
            }],
            vlans: vec![Vlan {
                vlan_id: 10,
                name: "v10".into(),
                interfaces: vec!["ge-0/0/0.0".into()],
                extra: vec![],
            }],
        });
        assert_eq!(
            to_napalm("get_interfaces_ip", &facts).unwrap(),
            json!({"ge-0/0/0.0": {"ipv4": {"192.0.2.1": {"prefix_length": 31}},
                                   "ipv6": {"2001:db8::1": {"prefix_length": 127}}}})
        );
        assert_eq!(
            to_napalm("get_vlans", &facts).unwrap(),
            json!({"10": {"name": "v10", "interfaces": ["ge-0/0/0.0"]}})
        );
        assert_eq!(
            to_napalm("get_network_instances", &facts).unwrap()["default"]["interfaces"],
            json!({"interface": {"ge-0/0/0": {}}})
        );
        assert_eq!(
            to_napalm("get_interfaces", &facts).unwrap()["ge-0/0/0"]["mtu"],
            json!(1514)
        );
    }

    #[test]
    fn table_and_lldp_conversions() {
        let mac = Facts::EthernetSwitching(vec![MacEntry {
            mac: "00:00:5E:00:53:01".into(),
            interface: "xe-0/0/1.0".into(),
            vlan: 100,
            is_static: false,
            active: true,
            moves: 0,
            last_move: 0.0,
            extra: vec![],
        }]);
        assert!(
            compare(
                &json!([{"mac": "00:00:5E:00:53:01", "interface": "xe-0/0/1.0", "vlan": 100,
                     "static": false, "active": true, "moves": 0, "last_move": 0.0}]),
                &to_napalm("get_mac_address_table", &mac).unwrap()
            )
            .is_empty()
        );
        let ndp = Facts::Ndp(vec![NdpEntry {
            interface: "ae0.3".into(),
            mac: String::new(),
            ip: "2001:db8::3".into(),
            age: 3.0,
            state: "unreachable".into(),
            extra: vec![],
        }]);
        assert_eq!(
            to_napalm("get_ipv6_neighbors_table", &ndp).unwrap()[0]["state"],
            "unreachable"
        );
        let neighbor = |local: &str, port_id: &str| LldpNeighbor {
            local_interface: local.into(),
            local_port_id: port_id.into(),
            parent_interface: "-".into(),
            remote_chassis_id: "00:00:5E:00:53:AA".into(),
            remote_port: String::new(),
            remote_port_description: "Port 7".into(),
            remote_system_name: "sw".into(),
            remote_system_description: String::new(),
            remote_system_capab: vec!["bridge".into()],
            remote_system_enable_capab: vec![],
            detailed: true,
            extra: vec![],
        };
        let lldp = Facts::Lldp(vec![neighbor("ge-0/0/1", "517"), neighbor("me0.0", "")]);
        assert_eq!(
            to_napalm("get_lldp_neighbors", &lldp).unwrap(),
            json!({"517": [{"hostname": "sw", "port": "Port 7"}],
                   "me0.0": [{"hostname": "sw", "port": "Port 7"}]})
        );
        let detail = to_napalm("get_lldp_neighbors_detail", &lldp).unwrap();
        assert_eq!(
            detail["ge-0/0/1"][0]["remote_system_capab"],
            json!(["bridge"])
        );
    }

    #[test]
    fn getters_and_errors() {
        let facts = Facts::Arp(vec![ArpEntry {
            interface: "ge-0/0/0.0".into(),
            mac: "00:11:22:33:44:55".into(),
            ip: "192.0.2.1".into(),
            age: 10.0,
            extra: vec![],
        }]);
        let v = to_napalm("get_arp_table", &facts).unwrap();
        assert_eq!(v[0]["age"], 10.0);
        let err = to_napalm("get_facts", &facts).unwrap_err();
        assert!(err.contains("inventory") && err.contains("arp"), "{err}");
        assert!(to_napalm("get_nothing", &facts).is_err());
        assert_eq!(
            getters("lldp"),
            ["get_lldp_neighbors", "get_lldp_neighbors_detail"]
        );
        assert_eq!(collector_for("get_vlans"), Some("interfaces"));
        assert!(getters("evpn").is_empty());
        let inv = Facts::Inventory(Inventory {
            facts: DeviceFacts {
                vendor: "Juniper".into(),
                model: "MX480".into(),
                serial_number: "JN1".into(),
                os_version: "21.4R3".into(),
                hostname: "r1".into(),
                fqdn: "r1".into(),
                uptime: 4380.0,
                interface_list: vec!["ge-0/0/0".into()],
                extra: vec![],
            },
            routing_engines: vec![],
            items: vec![],
        });
        let f = to_napalm("get_facts", &inv).unwrap();
        assert!(
            compare(
                &json!({"uptime": 4380, "vendor": "Juniper", "model": "...",
            "serial_number": "JN1", "os_version": "21.4R3", "hostname": "r1", "fqdn": "r1",
            "interface_list": ["ge-0/0/0"]}),
                &f
            )
            .is_empty()
        );
    }

    #[test]
    fn the_double_hides_default_namespaced_elements() {
        let xml = "<?xml version=\"1.0\"?><bgp-peer><peer-as>1</peer-as>\n<bgp-option-information xmlns=\"http://xml.juniper.net/junos/13.3R6/junos-routing\">\n<holdtime>90</holdtime><x><y/></x>\n</bgp-option-information>\n<!-- c --><flap-count>0</flap-count><a xmlns:junos=\"j\"/></bgp-peer>";
        assert_eq!(
            napalm_double_view(xml),
            "<?xml version=\"1.0\"?><bgp-peer><peer-as>1</peer-as>\n\n<!-- c --><flap-count>0</flap-count><a xmlns:junos=\"j\"/></bgp-peer>"
        );
        let plain = "<a b=\"c\">text</a>";
        assert_eq!(napalm_double_view(plain), plain);
        assert_eq!(napalm_double_view("<r><e xmlns=\"n\"/>t</r>"), "<r>t</r>");
    }
}
