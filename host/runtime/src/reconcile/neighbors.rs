//! `arp`, `ndp` and `ethernet_switching` into NetBox: neighbour IP addresses (only inside a
//! NetBox prefix, in that prefix's VRF) and MAC address objects with where they were seen.
//!
//! MAC addresses learned from neighbours belong to other hosts, so they are created unassigned,
//! with the custom fields *seen on* (device, interface, VLAN) and *MAC ↔ IP*, plus discovery
//! method and last seen. nbfacts refreshes *last seen* at most once a day, so a re-run on an
//! unchanged device writes nothing.
//!
//! Reads: the MACs (by value, or for big tables the ones seen on the device before plus the
//! others by value), the prefix list (once per run), and the addresses some prefix contains.

use std::collections::HashMap;
use std::net::IpAddr;

use serde_json::{Value, json};

use super::{
    ChangeSet, Context, EntryState, MAC_FIELDS, Operation, ReconcileError, id_of, ips_by_host,
    is_owned, owned_tags, projection, set_field,
};
use crate::netbox::{CF_DISCOVERY_METHOD, CF_LAST_SEEN, CF_MAC_IPS, CF_SEEN_ON};

const IPS: &str = "/api/ipam/ip-addresses/";
const MACS: &str = "/api/dcim/mac-addresses/";

/// One neighbour fact, whatever the table it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Sighting {
    /// Local interface it was learned on.
    pub interface: String,
    /// The neighbour's MAC (empty when unknown).
    pub mac: String,
    /// The neighbour's IP (empty for MAC-table entries).
    pub ip: String,
    /// VLAN, 0 when none.
    pub vlan: u16,
}

/// From ARP facts.
pub fn from_arp(entries: &[nbfacts_sdk::ArpEntry]) -> Vec<Sighting> {
    entries
        .iter()
        .map(|e| Sighting {
            interface: e.interface.clone(),
            mac: e.mac.clone(),
            ip: e.ip.clone(),
            vlan: 0,
        })
        .collect()
}

/// From NDP facts.
pub fn from_ndp(entries: &[nbfacts_sdk::NdpEntry]) -> Vec<Sighting> {
    entries
        .iter()
        .map(|e| Sighting {
            interface: e.interface.clone(),
            mac: e.mac.clone(),
            ip: e.ip.clone(),
            vlan: 0,
        })
        .collect()
}

/// From MAC-table facts.
pub fn from_mac_table(entries: &[nbfacts_sdk::MacEntry]) -> Vec<Sighting> {
    entries
        .iter()
        .map(|e| Sighting {
            interface: e.interface.clone(),
            mac: e.mac.clone(),
            ip: String::new(),
            vlan: e.vlan,
        })
        .collect()
}

/// Builds the change set for neighbour sightings; `method` is `arp`, `ndp` or
/// `ethernet_switching`.
pub async fn reconcile(
    ctx: &Context,
    method: &str,
    sightings: &[Sighting],
) -> Result<ChangeSet, ReconcileError> {
    let mut set = ChangeSet::new(&ctx.device.name, method);
    let sightings: Vec<&Sighting> = sightings
        .iter()
        .filter(|s| ctx.wants_interface(&s.interface))
        .collect();

    // MAC addresses: one object per MAC, listing every place it was seen on this device.
    let mut seen: HashMap<String, (Vec<String>, Vec<String>)> = HashMap::new();
    for s in &sightings {
        if !is_mac(&s.mac) {
            continue;
        }
        let entry = seen.entry(s.mac.to_ascii_uppercase()).or_default();
        let place = if s.vlan > 0 {
            format!("{} {} vlan {}", ctx.device.name, s.interface, s.vlan)
        } else {
            format!("{} {}", ctx.device.name, s.interface)
        };
        if !entry.0.contains(&place) {
            entry.0.push(place);
        }
        if !s.ip.is_empty() && !entry.1.contains(&s.ip) {
            entry.1.push(s.ip.clone());
        }
    }
    let mut macs: Vec<String> = seen.keys().cloned().collect();
    macs.sort();
    let existing_macs = existing_macs(ctx, &macs).await?;
    for mac in &macs {
        let Some((places, ips)) = seen.get(mac) else {
            continue;
        };
        let seen_on = places.join(", ");
        let mac_ips = ips.join(", ");
        let label = format!("{mac} seen on {seen_on}");
        let current = existing_macs.iter().find(|m| {
            m.get("mac_address")
                .and_then(Value::as_str)
                .is_some_and(|a| a.eq_ignore_ascii_case(mac))
        });
        match current {
            None => {
                let mut cf = json!({
                    CF_DISCOVERY_METHOD: method,
                    CF_LAST_SEEN: ctx.now,
                    CF_SEEN_ON: seen_on,
                });
                if !mac_ips.is_empty() {
                    set_field(&mut cf, CF_MAC_IPS, json!(mac_ips));
                }
                set.push(
                    EntryState::New,
                    "dcim.macaddress",
                    None,
                    label,
                    Operation::Create {
                        endpoint: MACS.into(),
                        payload: json!({ "mac_address": mac, "tags": owned_tags(), "custom_fields": cf }),
                        key: format!("mac:{mac}"),
                    },
                    format!("learned by {method}"),
                    0,
                );
            }
            Some(current) if is_owned(current) => {
                let cf = current.get("custom_fields").cloned().unwrap_or(Value::Null);
                let mut patch = serde_json::Map::new();
                let cur_seen = cf.get(CF_SEEN_ON).and_then(Value::as_str).unwrap_or("");
                if !covers(cur_seen, &seen_on) {
                    patch.insert(CF_SEEN_ON.into(), json!(merge(cur_seen, &seen_on)));
                }
                let cur_ips = cf.get(CF_MAC_IPS).and_then(Value::as_str).unwrap_or("");
                if !mac_ips.is_empty() && !covers(cur_ips, &mac_ips) {
                    patch.insert(CF_MAC_IPS.into(), json!(merge(cur_ips, &mac_ips)));
                }
                let stale_seen = cf
                    .get(CF_LAST_SEEN)
                    .and_then(Value::as_str)
                    .is_none_or(|t| older_than_a_day(t, &ctx.now));
                if stale_seen || !patch.is_empty() {
                    patch.insert(CF_LAST_SEEN.into(), json!(ctx.now));
                }
                if patch.is_empty() {
                    set.push(
                        EntryState::Confirmed,
                        "dcim.macaddress",
                        id_of(current),
                        label,
                        Operation::None,
                        "already known",
                        0,
                    );
                } else if let Some(id) = id_of(current) {
                    let reason = if patch.len() == 1 {
                        "refresh last seen"
                    } else {
                        "seen in new places"
                    };
                    set.push(
                        EntryState::Changed,
                        "dcim.macaddress",
                        Some(id),
                        label,
                        Operation::Update {
                            endpoint: MACS.into(),
                            id,
                            patch: json!({ "custom_fields": Value::Object(patch) }),
                            before: json!({ "custom_fields": cf }),
                        },
                        reason,
                        0,
                    );
                }
            }
            Some(current) => {
                set.push(
                    EntryState::Confirmed,
                    "dcim.macaddress",
                    id_of(current),
                    label,
                    Operation::None,
                    "known in NetBox (not owned by nbfacts; left as is)",
                    0,
                );
            }
        }
    }

    // IP addresses, only inside a NetBox prefix.
    let ips: Vec<&Sighting> = sightings
        .iter()
        .copied()
        .filter(|s| !s.ip.is_empty())
        .collect();
    if ips.is_empty() {
        return Ok(set);
    }
    let prefixes = ctx.cache.prefixes(&ctx.netbox).await?;
    let parsed: Vec<(IpAddr, u8, Option<u64>)> = prefixes
        .iter()
        .filter_map(|p| {
            let text = p.get("prefix")?.as_str()?;
            let (addr, len) = text.split_once('/')?;
            Some((
                addr.parse().ok()?,
                len.parse().ok()?,
                p.pointer("/vrf/id").and_then(Value::as_u64),
            ))
        })
        .collect();
    // Only addresses some prefix contains can be written, so only those are looked up.
    let mut addresses: Vec<String> = ips
        .iter()
        .filter(|s| {
            s.ip.parse::<IpAddr>()
                .is_ok_and(|ip| parsed.iter().any(|(net, len, _)| contains(*net, *len, ip)))
        })
        .map(|s| s.ip.clone())
        .collect();
    addresses.sort();
    addresses.dedup();
    // `list_any` makes no request for an empty list of values.
    let existing = ips_by_host(ctx, &addresses).await?;
    for s in ips {
        let label = format!(
            "{} via {method} on {} {}",
            s.ip, ctx.device.name, s.interface
        );
        let Ok(ip) = s.ip.parse::<IpAddr>() else {
            set.push(
                EntryState::Skipped,
                "ipam.ipaddress",
                None,
                label,
                Operation::None,
                "not an IP address",
                1,
            );
            continue;
        };
        // The most specific containing prefix.
        let Some((_, len, vrf)) = parsed
            .iter()
            .filter(|(net, len, _)| contains(*net, *len, ip))
            .max_by_key(|(_, len, _)| *len)
        else {
            set.push(
                EntryState::Skipped,
                "ipam.ipaddress",
                None,
                label,
                Operation::None,
                "no NetBox prefix contains it",
                1,
            );
            continue;
        };
        let found = existing.iter().find(|e| {
            e.get("address")
                .and_then(Value::as_str)
                .and_then(|a| a.split('/').next())
                .and_then(|a| a.parse::<IpAddr>().ok())
                == Some(ip)
                && e.pointer("/vrf/id").and_then(Value::as_u64) == *vrf
        });
        if let Some(found) = found {
            set.push(
                EntryState::Confirmed,
                "ipam.ipaddress",
                id_of(found),
                label,
                Operation::None,
                "already in NetBox",
                1,
            );
            continue;
        }
        let mut payload = json!({
            "address": format!("{ip}/{len}"),
            "status": "active",
            "description": if is_mac(&s.mac) { format!("MAC {}", s.mac.to_ascii_uppercase()) } else { String::new() },
            "tags": owned_tags(),
            "custom_fields": {
                CF_DISCOVERY_METHOD: method,
                CF_LAST_SEEN: ctx.now,
                CF_SEEN_ON: format!("{} {}", ctx.device.name, s.interface),
            },
        });
        if let Some(vrf) = vrf {
            set_field(&mut payload, "vrf", json!(vrf));
        }
        set.push(
            EntryState::New,
            "ipam.ipaddress",
            None,
            label,
            Operation::Create {
                endpoint: IPS.into(),
                payload,
                key: format!("ip:{ip}"),
            },
            format!("neighbour learned by {method}"),
            1,
        );
    }
    Ok(set)
}

/// The NetBox MAC address objects of `macs` (upper case): by value when that takes one request
/// (up to about 90 MACs) or when other devices reconcile at the same time (their reads by
/// value share requests, and a small table is read whole instead); otherwise the MACs seen
/// on the device before (one request per thousand, however big the table) and only the
/// others by value.
///
/// The `seen on` read is the device's own: at fleet scale it costs more than it saves (a
/// report over 1,000 devices made 2,000 of its 5,023 reads this way, none of them shared).
async fn existing_macs(ctx: &Context, macs: &[String]) -> Result<Vec<Value>, ReconcileError> {
    if (ctx.shared_reads && ctx.netbox.coalesces())
        || ctx
            .netbox
            .list_any_requests(MACS, &[projection(MAC_FIELDS)], "mac_address", macs)
            <= 1
    {
        // `list_any` makes no request for an empty list of values.
        return Ok(ctx
            .netbox
            .list_any(MACS, &[projection(MAC_FIELDS)], "mac_address", macs)
            .await?);
    }
    // `seen on` lists "<device> <interface>" places; the custom field's loose filter (as
    // `nbfacts netbox init` creates it) matches a part of it. With an exact filter this finds
    // nothing and every MAC is read by value.
    let seen = ctx
        .netbox
        .list(
            MACS,
            &[
                (format!("cf_{CF_SEEN_ON}"), format!("{} ", ctx.device.name)),
                projection(MAC_FIELDS),
            ],
        )
        .await?;
    let has = |mac: &str| {
        seen.iter().any(|m| {
            m.get("mac_address")
                .and_then(Value::as_str)
                .is_some_and(|a| a.eq_ignore_ascii_case(mac))
        })
    };
    let others: Vec<String> = macs.iter().filter(|m| !has(m)).cloned().collect();
    let mut out = ctx
        .netbox
        .list_any(MACS, &[projection(MAC_FIELDS)], "mac_address", &others)
        .await?;
    out.extend(seen);
    Ok(out)
}

fn is_mac(mac: &str) -> bool {
    mac.len() == 17
        && mac.split(':').count() == 6
        && mac
            .split(':')
            .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()))
}

fn contains(net: IpAddr, len: u8, ip: IpAddr) -> bool {
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(a)) if len <= 32 => {
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            u32::from(n) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(a)) if len <= 128 => {
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - len)
            };
            u128::from(n) & mask == u128::from(a) & mask
        }
        _ => false,
    }
}

/// True if every comma-separated item of `new` is in `current`.
fn covers(current: &str, new: &str) -> bool {
    let have: Vec<&str> = current.split(", ").collect();
    new.split(", ").all(|x| have.contains(&x))
}

fn merge(current: &str, new: &str) -> String {
    let mut items: Vec<&str> = current.split(", ").filter(|s| !s.is_empty()).collect();
    for x in new.split(", ") {
        if !items.contains(&x) {
            items.push(x);
        }
    }
    items.join(", ")
}

/// Compares two `YYYY-MM-DDTHH:MM:SSZ`-prefixed stamps by date: true when `then` is on an
/// earlier day than `now` (at most one refresh a day).
fn older_than_a_day(then: &str, now: &str) -> bool {
    then.get(..10) != now.get(..10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_containment() {
        let net: IpAddr = "203.0.113.0".parse().unwrap();
        assert!(contains(net, 24, "203.0.113.9".parse().unwrap()));
        assert!(!contains(net, 24, "203.0.114.9".parse().unwrap()));
        let net6: IpAddr = "2001:db8::".parse().unwrap();
        assert!(contains(net6, 32, "2001:db8:1::5".parse().unwrap()));
        assert!(!contains(net6, 32, "203.0.113.9".parse().unwrap()));
    }

    #[test]
    fn places_merge_without_duplicates() {
        assert!(covers("a x, b y", "b y"));
        assert!(!covers("a x", "b y"));
        assert_eq!(merge("a x", "b y, a x"), "a x, b y");
        assert_eq!(merge("", "a"), "a");
    }

    #[test]
    fn last_seen_refreshes_daily() {
        assert!(!older_than_a_day(
            "2026-01-02T03:00:00Z",
            "2026-01-02T23:00:00Z"
        ));
        assert!(older_than_a_day(
            "2026-01-01T03:00:00Z",
            "2026-01-02T01:00:00Z"
        ));
    }
}
