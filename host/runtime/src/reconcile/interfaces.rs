//! The `interfaces` collector into NetBox: missing interfaces (tagged), drift on owned
//! interfaces, the MAC address of each interface (and its primary MAC when empty), and the IP
//! addresses on interfaces, VRF-aware.
//!
//! Reads: the device's interfaces, and every IP address the device reports wherever NetBox has
//! it (two requests for up to 100 addresses; the addresses go 100 to a request).

use std::collections::{HashMap, HashSet};

use nbfacts_sdk::{Interfaces, IpFamily};
use serde_json::{Value, json};

use super::{
    ChangeSet, Context, EntryState, IFACE_FIELDS, Operation, ReconcileError, fact_fields, id_of,
    ips_by_host, is_owned, owned_tags, projection, set_field,
};

const IFACES: &str = "/api/dcim/interfaces/";
const MACS: &str = "/api/dcim/mac-addresses/";
const IPS: &str = "/api/ipam/ip-addresses/";

/// Builds the change set for the interfaces facts of one device.
pub async fn reconcile(ctx: &Context, facts: &Interfaces) -> Result<ChangeSet, ReconcileError> {
    let mut set = ChangeSet::new(&ctx.device.name, "interfaces");
    let device_q = [
        ("device_id".to_string(), ctx.device.id.to_string()),
        projection(IFACE_FIELDS),
    ];
    let existing = ctx.netbox.list(IFACES, &device_q).await?;
    let by_name: HashMap<&str, &Value> = existing
        .iter()
        .filter_map(|i| Some((i.get("name")?.as_str()?, i)))
        .collect();

    let wanted: Vec<_> = facts
        .interfaces
        .iter()
        .filter(|i| ctx.wants_interface(&i.name))
        .collect();
    let reported: HashSet<&str> = wanted.iter().map(|i| i.name.as_str()).collect();

    // Interfaces first (phase 0: physical; phase 1: logical units, which need their parent).
    for iface in &wanted {
        let label = format!("{} on {}", iface.name, ctx.device.name);
        let phase = u8::from(!iface.parent.is_empty());
        match by_name.get(iface.name.as_str()) {
            None => {
                let mut payload = json!({
                    "device": ctx.device.id,
                    "name": iface.name,
                    "type": interface_type(&iface.name, &iface.parent, iface.speed),
                    "enabled": iface.is_enabled,
                    "description": truncate(&iface.description, 200),
                    "tags": owned_tags(),
                    "custom_fields": fact_fields("interfaces", &ctx.now),
                });
                if iface.mtu > 0 && iface.mtu <= 65_536 {
                    set_field(&mut payload, "mtu", json!(iface.mtu));
                }
                if !iface.parent.is_empty() {
                    set_field(
                        &mut payload,
                        "parent",
                        match by_name.get(iface.parent.as_str()).and_then(|p| id_of(p)) {
                            Some(id) => json!(id),
                            None => json!({ "$ref": iface_key(&iface.parent) }),
                        },
                    );
                }
                set.push(
                    EntryState::New,
                    "dcim.interface",
                    None,
                    label,
                    Operation::Create {
                        endpoint: IFACES.into(),
                        payload,
                        key: iface_key(&iface.name),
                    },
                    "reported by the device, missing in NetBox",
                    phase,
                );
            }
            Some(current) => {
                let mut patch = serde_json::Map::new();
                let mut before = serde_json::Map::new();
                let mut drift = Vec::new();
                let cur_desc = current
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let want_desc = truncate(&iface.description, 200);
                if cur_desc != want_desc {
                    drift.push(format!("description {cur_desc:?} → {want_desc:?}"));
                    patch.insert("description".into(), json!(want_desc));
                    before.insert("description".into(), json!(cur_desc));
                }
                let cur_enabled = current.get("enabled").and_then(Value::as_bool);
                if cur_enabled != Some(iface.is_enabled) {
                    drift.push(format!("enabled {cur_enabled:?} → {}", iface.is_enabled));
                    patch.insert("enabled".into(), json!(iface.is_enabled));
                    before.insert(
                        "enabled".into(),
                        current.get("enabled").cloned().unwrap_or(Value::Null),
                    );
                }
                let cur_mtu = current.get("mtu").and_then(Value::as_i64);
                if iface.mtu > 0 && iface.mtu <= 65_536 && cur_mtu != Some(iface.mtu) {
                    drift.push(format!("mtu {cur_mtu:?} → {}", iface.mtu));
                    patch.insert("mtu".into(), json!(iface.mtu));
                    before.insert(
                        "mtu".into(),
                        current.get("mtu").cloned().unwrap_or(Value::Null),
                    );
                }
                let id = id_of(current);
                if drift.is_empty() {
                    set.push(
                        EntryState::Confirmed,
                        "dcim.interface",
                        id,
                        label,
                        Operation::None,
                        "matches the device",
                        phase,
                    );
                } else if is_owned(current) {
                    let op = match id {
                        Some(id) => Operation::Update {
                            endpoint: IFACES.into(),
                            id,
                            patch: Value::Object(patch),
                            before: Value::Object(before),
                        },
                        None => Operation::None,
                    };
                    set.push(
                        EntryState::Changed,
                        "dcim.interface",
                        id,
                        label,
                        op,
                        drift.join("; "),
                        phase,
                    );
                } else {
                    set.push(
                        EntryState::Skipped,
                        "dcim.interface",
                        id,
                        label,
                        Operation::None,
                        format!(
                            "drift on an interface nbfacts does not own (left as is): {}",
                            drift.join("; ")
                        ),
                        phase,
                    );
                }
            }
        }
    }

    // MAC addresses of interfaces (phase 2), and the primary MAC where the interface has none
    // (phase 3).
    for iface in &wanted {
        let Some(mac) = normal_mac(&iface.mac_address) else {
            continue;
        };
        let label = format!("{mac} on {} {}", ctx.device.name, iface.name);
        let current = by_name.get(iface.name.as_str());
        let has = current
            .and_then(|c| c.get("mac_addresses"))
            .and_then(Value::as_array)
            .is_some_and(|macs| {
                macs.iter().any(|m| {
                    m.get("mac_address")
                        .and_then(Value::as_str)
                        .is_some_and(|a| a.eq_ignore_ascii_case(&mac))
                })
            });
        if has {
            continue; // Confirmed with the interface; no entry of its own.
        }
        if !iface.parent.is_empty() {
            // Logical units repeat their parent's MAC; it belongs to the parent.
            continue;
        }
        let target = match current.and_then(|c| id_of(c)) {
            Some(id) => json!(id),
            None => json!({ "$ref": iface_key(&iface.name) }),
        };
        let key = format!("mac:{}:{}", iface.name, mac);
        set.push(
            EntryState::New,
            "dcim.macaddress",
            None,
            label.clone(),
            Operation::Create {
                endpoint: MACS.into(),
                payload: json!({
                    "mac_address": mac,
                    "assigned_object_type": "dcim.interface",
                    "assigned_object_id": target,
                    "tags": owned_tags(),
                    "custom_fields": fact_fields("interfaces", &ctx.now),
                }),
                key: key.clone(),
            },
            "interface MAC reported by the device",
            2,
        );
        let primary_empty =
            current.is_none_or(|c| c.get("primary_mac_address").is_none_or(Value::is_null));
        if primary_empty {
            // An interface created in this run is referred to by key; the writer resolves it.
            let (id, patch) = match current.and_then(|c| id_of(c)) {
                Some(id) => (id, json!({ "primary_mac_address": { "$ref": key } })),
                None => (
                    0,
                    json!({ "id": { "$ref": iface_key(&iface.name) }, "primary_mac_address": { "$ref": key } }),
                ),
            };
            set.push(
                EntryState::Changed,
                "dcim.interface",
                (id != 0).then_some(id),
                label,
                Operation::Update {
                    endpoint: IFACES.into(),
                    id,
                    patch,
                    before: json!({ "primary_mac_address": null }),
                },
                "primary MAC was empty",
                3,
            );
        }
    }

    // IP addresses (phase 2): every address the device reports, wherever NetBox has it, in
    // one read; those on this device's interfaces are matched first.
    let reported_ips: Vec<&nbfacts_sdk::InterfaceAddress> = facts
        .addresses
        .iter()
        .filter(|a| ctx.wants_interface(&a.interface))
        .collect();
    let mut values: Vec<String> = reported_ips.iter().map(|a| a.address.clone()).collect();
    values.sort();
    values.dedup();
    // `list_any` makes no request for an empty list of values.
    let ips = ips_by_host(ctx, &values).await?;
    let mut unknown = Vec::new();
    for addr in reported_ips {
        let cidr = format!("{}/{}", addr.address, addr.prefix_length);
        let label = format!("{cidr} on {} {}", ctx.device.name, addr.interface);
        let on_device = ips
            .iter()
            .find(|ip| same_address(ip, &addr.address) && on_device(ip, ctx.device.id));
        match on_device {
            Some(ip) if assigned_to(ip) == Some(addr.interface.as_str()) => {
                set.push(
                    EntryState::Confirmed,
                    "ipam.ipaddress",
                    id_of(ip),
                    label,
                    Operation::None,
                    "matches the device",
                    2,
                );
            }
            Some(ip) => {
                set.push(
                    EntryState::Skipped,
                    "ipam.ipaddress",
                    id_of(ip),
                    label,
                    Operation::None,
                    format!(
                        "NetBox has it on {}; nbfacts does not move addresses",
                        assigned_to(ip).unwrap_or("another object")
                    ),
                    2,
                );
            }
            None => unknown.push((addr, cidr, label)),
        }
    }
    for (addr, cidr, label) in unknown {
        let iface = by_name.get(addr.interface.as_str());
        let vrf = iface
            .and_then(|i| i.pointer("/vrf/id"))
            .and_then(Value::as_u64);
        let taken = ips.iter().find(|ip| {
            same_address(ip, &addr.address) && ip.pointer("/vrf/id").and_then(Value::as_u64) == vrf
        });
        if let Some(ip) = taken {
            set.push(
                EntryState::Skipped,
                "ipam.ipaddress",
                id_of(ip),
                label,
                Operation::None,
                "the address exists elsewhere in the same VRF; nbfacts does not move addresses",
                2,
            );
            continue;
        }
        let target = match iface.and_then(|i| id_of(i)) {
            Some(id) => json!(id),
            None => json!({ "$ref": iface_key(&addr.interface) }),
        };
        let mut payload = json!({
            "address": cidr,
            "status": "active",
            "assigned_object_type": "dcim.interface",
            "assigned_object_id": target,
            "tags": owned_tags(),
            "custom_fields": fact_fields("interfaces", &ctx.now),
        });
        if let Some(vrf) = vrf {
            set_field(&mut payload, "vrf", json!(vrf));
        }
        let family = match addr.family {
            IpFamily::Ipv4 => "IPv4",
            IpFamily::Ipv6 => "IPv6",
        };
        set.push(
            EntryState::New,
            "ipam.ipaddress",
            None,
            label,
            Operation::Create {
                endpoint: IPS.into(),
                payload,
                key: format!("ip:{cidr}"),
            },
            format!("{family} address configured on the interface"),
            2,
        );
    }

    // Stale: interfaces nbfacts created on this device that the device no longer reports,
    // read again in full (a rollback recreates a deleted interface from what it was), and
    // checked again on what that read found.
    let is_stale = |current: &Value| {
        current
            .get("name")
            .and_then(Value::as_str)
            .is_some_and(|name| {
                !reported.contains(name) && ctx.wants_interface(name) && is_owned(current)
            })
    };
    let stale: Vec<String> = existing
        .iter()
        .filter(|current| is_stale(current))
        .filter_map(id_of)
        .map(|id| id.to_string())
        .collect();
    // `list_any` makes no request for an empty list of values.
    let stale = ctx.netbox.list_any(IFACES, &[], "id", &stale).await?;
    for current in stale.iter().filter(|current| is_stale(current)) {
        let name = current
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if let Some(id) = id_of(current) {
            set.push(
                EntryState::Stale,
                "dcim.interface",
                Some(id),
                format!("{name} on {}", ctx.device.name),
                Operation::Delete {
                    endpoint: IFACES.into(),
                    id,
                    before: current.clone(),
                },
                "created by nbfacts, no longer reported by the device",
                4,
            );
        }
    }
    Ok(set)
}

fn iface_key(name: &str) -> String {
    format!("iface:{name}")
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// A NAPALM-style MAC (`00:11:22:33:44:55`) or `None` for placeholders (`None`, `Unspecified`).
fn normal_mac(mac: &str) -> Option<String> {
    let hex: String = mac.chars().filter(char::is_ascii_hexdigit).collect();
    let ok = mac.len() == 17 && hex.len() == 12 && mac.matches(':').count() == 5;
    (ok && hex != "000000000000").then(|| mac.to_ascii_uppercase())
}

fn same_address(ip: &Value, address: &str) -> bool {
    ip.get("address")
        .and_then(Value::as_str)
        .and_then(|a| a.split('/').next())
        .is_some_and(|a| {
            match (
                a.parse::<std::net::IpAddr>(),
                address.parse::<std::net::IpAddr>(),
            ) {
                (Ok(x), Ok(y)) => x == y,
                _ => a == address,
            }
        })
}

/// True if `ip` is assigned to an interface of device `device`.
fn on_device(ip: &Value, device: u64) -> bool {
    ip.get("assigned_object_type").and_then(Value::as_str) == Some("dcim.interface")
        && ip
            .pointer("/assigned_object/device/id")
            .and_then(Value::as_u64)
            == Some(device)
}

fn assigned_to(ip: &Value) -> Option<&str> {
    if ip.get("assigned_object_type").and_then(Value::as_str) != Some("dcim.interface") {
        return None;
    }
    ip.pointer("/assigned_object/name").and_then(Value::as_str)
}

/// NetBox interface type from the name and speed (Mbps).
fn interface_type(name: &str, parent: &str, speed: f64) -> &'static str {
    if !parent.is_empty() {
        return "virtual";
    }
    let prefix: String = name
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    match prefix.as_str() {
        "ae" | "reth" => return "lag",
        "lo" | "irb" | "vlan" | "gr" | "ip" | "st" | "lt" | "fxp" | "em" | "me" => return "virtual",
        _ => {}
    }
    match speed as i64 {
        100 => "100base-tx",
        1_000 => "1000base-t",
        10_000 => "10gbase-x-sfpp",
        25_000 => "25gbase-x-sfp28",
        40_000 => "40gbase-x-qsfpp",
        100_000 => "100gbase-x-qsfp28",
        400_000 => "400gbase-x-qsfpdd",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_follow_name_and_speed() {
        assert_eq!(interface_type("xe-0/0/1", "", 10_000.0), "10gbase-x-sfpp");
        assert_eq!(
            interface_type("xe-0/0/1.0", "xe-0/0/1", 10_000.0),
            "virtual"
        );
        assert_eq!(interface_type("ae0", "", -1.0), "lag");
        assert_eq!(interface_type("lo0", "", -1.0), "virtual");
        assert_eq!(interface_type("ge-0/0/0", "", -1.0), "other");
    }

    #[test]
    fn placeholder_macs_are_ignored() {
        assert_eq!(normal_mac("None"), None);
        assert_eq!(normal_mac("Unspecified"), None);
        assert_eq!(
            normal_mac("02:00:00:10:00:0a").as_deref(),
            Some("02:00:00:10:00:0A")
        );
    }

    #[test]
    fn addresses_compare_canonically() {
        let ip = json!({"address": "2001:db8::1/64"});
        assert!(same_address(&ip, "2001:0db8:0::1"));
        assert!(!same_address(&ip, "2001:db8::2"));
    }
}
