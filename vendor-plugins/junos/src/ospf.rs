//! `ospf`: OSPFv2 and OSPFv3 neighbours and interfaces in every routing instance.
//!
//! Four RPCs, each with `<detail/>` and `<instance>all</instance>`:
//! `get-ospf-neighbor-information`, `get-ospf3-neighbor-information`,
//! `get-ospf-interface-information`, `get-ospf3-interface-information`. With `instance all`
//! the entries sit under `ospf-…-information-all/ospf-instance-*` next to an
//! `ospf-instance-name`; without it (the fallback for a release that answers `instance all`
//! with a syntax error) they are the default instance, reported as `master`.
//!
//! Neighbours (`ospf-neighbor` / `ospf3-neighbor`): `neighbor-id` (required, a parse error
//! naming the element otherwise), `neighbor-address`, `interface-name`,
//! `ospf-neighbor-state`, `ospf-area`, `neighbor-priority`, `dr-address`/`bdr-address`
//! (OSPFv3: `dr-id`/`bdr-id`), `activity-timer` as the dead time, and `neighbor-up-time` /
//! `neighbor-adjacency-time` in seconds from their `junos:seconds` attribute, or from the text
//! (`2w1d 18:40:26`) when the attribute is missing.
//!
//! Interfaces (`ospf-interface` / `ospf3-interface`): `interface-name` (required),
//! `ospf-interface-state`, `ospf-area`, `interface-cost`, `interface-type`, `dr-id`, `bdr-id`,
//! `neighbor-count`; passive when there is a `passive` element (or a per-topology
//! `ospf-topology-passive`).
//!
//! A protocol that is not running (`<output>OSPF instance is not running</output>` or an
//! `rpc-error`) contributes nothing.

use nbfacts_sdk::{
    CollectError, Device, Ospf, OspfInterface, OspfNeighbor, OspfVersion, parse_error,
};

use crate::common::{Payload, call_or_rpc_error, integer, ip, is_unknown_rpc, payloads};
use crate::json::load;
use crate::xml::{Doc, El};

const V2_NEIGHBORS: &str = "get-ospf-neighbor-information";
const V3_NEIGHBORS: &str = "get-ospf3-neighbor-information";
const V2_INTERFACES: &str = "get-ospf-interface-information";
const V3_INTERFACES: &str = "get-ospf3-interface-information";

/// The request for `rpc` with `<detail/>`, in every instance when `all` is set.
pub fn request(rpc: &str, all: bool) -> String {
    if all {
        format!("<{rpc}><detail/><instance>all</instance></{rpc}>")
    } else {
        format!("<{rpc}><detail/></{rpc}>")
    }
}

/// Runs the `ospf` collector.
pub fn collect(device: &dyn Device) -> Result<Ospf, CollectError> {
    let mut out = Ospf {
        neighbors: Vec::new(),
        interfaces: Vec::new(),
    };
    for (rpc, version) in [
        (V2_NEIGHBORS, OspfVersion::V2),
        (V3_NEIGHBORS, OspfVersion::V3),
    ] {
        if let Some(reply) = fetch(device, rpc)? {
            out.neighbors.extend(parse_neighbors(version, &reply)?);
        }
    }
    for (rpc, version) in [
        (V2_INTERFACES, OspfVersion::V2),
        (V3_INTERFACES, OspfVersion::V3),
    ] {
        if let Some(reply) = fetch(device, rpc)? {
            out.interfaces.extend(parse_interfaces(version, &reply)?);
        }
    }
    Ok(out)
}

/// Asks for every instance, then for the default one if the device does not know
/// `instance all`; `None` when the device answers with an rpc-error (OSPF not running).
fn fetch(device: &dyn Device, rpc: &str) -> Result<Option<String>, CollectError> {
    match call_or_rpc_error(device, &request(rpc, true))? {
        Ok(reply) => Ok(Some(reply)),
        Err(e) if is_unknown_rpc(&e) => Ok(call_or_rpc_error(device, &request(rpc, false))?.ok()),
        Err(_) => Ok(None),
    }
}

/// Parses a `get-ospf-neighbor-information` (`version` v2) or
/// `get-ospf3-neighbor-information` (v3) reply, XML or Junos JSON.
pub fn parse_neighbors(
    version: OspfVersion,
    reply: &str,
) -> Result<Vec<OspfNeighbor>, CollectError> {
    let rpc = match version {
        OspfVersion::V2 => V2_NEIGHBORS,
        OspfVersion::V3 => V3_NEIGHBORS,
    };
    parse_neighbors_doc(version, &load(rpc, reply)?)
}

/// Like [`parse_neighbors`], for a reply already in a [`Doc`].
pub fn parse_neighbors_doc(
    version: OspfVersion,
    doc: &Doc<'_>,
) -> Result<Vec<OspfNeighbor>, CollectError> {
    let (rpc, table, entry) = match version {
        OspfVersion::V2 => (V2_NEIGHBORS, "ospf-neighbor-information", "ospf-neighbor"),
        OspfVersion::V3 => (V3_NEIGHBORS, "ospf3-neighbor-information", "ospf3-neighbor"),
    };
    let mut out = Vec::new();
    for payload in tables(rpc, doc, table)? {
        for el in payload.el.descendants_named(entry) {
            out.push(neighbor(rpc, version, payload.re_name, el)?);
        }
    }
    Ok(out)
}

/// Parses a `get-ospf-interface-information` (v2) or `get-ospf3-interface-information` (v3)
/// reply, XML or Junos JSON.
pub fn parse_interfaces(
    version: OspfVersion,
    reply: &str,
) -> Result<Vec<OspfInterface>, CollectError> {
    let rpc = match version {
        OspfVersion::V2 => V2_INTERFACES,
        OspfVersion::V3 => V3_INTERFACES,
    };
    parse_interfaces_doc(version, &load(rpc, reply)?)
}

/// Like [`parse_interfaces`], for a reply already in a [`Doc`].
pub fn parse_interfaces_doc(
    version: OspfVersion,
    doc: &Doc<'_>,
) -> Result<Vec<OspfInterface>, CollectError> {
    let (rpc, table, entry) = match version {
        OspfVersion::V2 => (
            V2_INTERFACES,
            "ospf-interface-information",
            "ospf-interface",
        ),
        OspfVersion::V3 => (
            V3_INTERFACES,
            "ospf3-interface-information",
            "ospf3-interface",
        ),
    };
    let mut out = Vec::new();
    for payload in tables(rpc, doc, table)? {
        for el in payload.el.descendants_named(entry) {
            out.push(interface(rpc, version, payload.re_name, el)?);
        }
    }
    Ok(out)
}

/// The payloads named `table` or `table-all`; a parse error when the reply has other payloads
/// only (a not-running `<output>` gives none).
fn tables<'d, 'a>(
    rpc: &str,
    doc: &'d Doc<'a>,
    table: &str,
) -> Result<Vec<Payload<'d, 'a>>, CollectError> {
    let all = payloads(doc);
    let wanted: Vec<_> = all
        .iter()
        .copied()
        .filter(|p| {
            let name = p.el.name();
            name == table || name.strip_suffix("-all") == Some(table)
        })
        .collect();
    if wanted.is_empty()
        && let Some(other) = all.iter().find(|p| !p.el.is("output"))
    {
        return Err(parse_error(
            rpc,
            table,
            format!(
                "the reply has <{}> where <{table}> was expected",
                other.el.name()
            ),
        ));
    }
    Ok(wanted)
}

/// The routing instance of an entry: the `ospf-instance-name` (or `ospf3-instance-name`) next
/// to it or to one of its ancestors (`instance all` replies), `master` otherwise.
fn instance_of(el: El<'_, '_>) -> String {
    let mut at = el.parent();
    while let Some(p) = at {
        if let Some(name) = p
            .nonempty("ospf-instance-name")
            .or_else(|| p.nonempty("ospf3-instance-name"))
        {
            return name.to_string();
        }
        at = p.parent();
    }
    "master".to_string()
}

fn neighbor(
    rpc: &str,
    version: OspfVersion,
    re_name: &str,
    el: El<'_, '_>,
) -> Result<OspfNeighbor, CollectError> {
    let neighbor_id = el
        .nonempty("neighbor-id")
        .ok_or_else(|| parse_error(rpc, "neighbor-id", "an OSPF neighbour has no neighbor-id"))?;
    let priority = match integer(rpc, el, "neighbor-priority")? {
        Some(p) => i32::try_from(p)
            .map_err(|_| parse_error(rpc, "neighbor-priority", format!("out of range: {p}")))?,
        None => -1,
    };
    let either = |a: &str, b: &str| {
        el.nonempty(a)
            .or_else(|| el.nonempty(b))
            .map(ip)
            .unwrap_or_default()
    };
    let mut extra = Vec::new();
    if let Some(options) = el.nonempty("options") {
        extra.push(("options".to_string(), options.to_string()));
    }
    if let Some(state) = el
        .child("ospf-neighbor-topology")
        .and_then(|t| t.nonempty("ospf-neighbor-topology-state"))
    {
        extra.push(("topology-state".to_string(), state.to_string()));
    }
    if !re_name.is_empty() {
        extra.push(("re-name".to_string(), re_name.to_string()));
    }
    Ok(OspfNeighbor {
        instance: instance_of(el),
        version,
        neighbor_id: neighbor_id.to_string(),
        address: ip(el.text_of("neighbor-address")),
        interface: el.text_of("interface-name").to_string(),
        state: el.text_of("ospf-neighbor-state").to_string(),
        area: el.text_of("ospf-area").to_string(),
        priority,
        dr_address: either("dr-address", "dr-id"),
        bdr_address: either("bdr-address", "bdr-id"),
        up_time: elapsed(rpc, el, "neighbor-up-time")?,
        adjacency_time: elapsed(rpc, el, "neighbor-adjacency-time")?,
        dead_time: integer(rpc, el, "activity-timer")?.unwrap_or(-1),
        extra,
    })
}

fn interface(
    rpc: &str,
    version: OspfVersion,
    re_name: &str,
    el: El<'_, '_>,
) -> Result<OspfInterface, CollectError> {
    let name = el.nonempty("interface-name").ok_or_else(|| {
        parse_error(
            rpc,
            "interface-name",
            "an OSPF interface has no interface-name",
        )
    })?;
    let passive = el
        .child_text("passive")
        .is_some_and(|t| !matches!(t.to_ascii_lowercase().as_str(), "no" | "false" | "disabled"))
        || el.find("ospf-topology-passive").is_some();
    let mut extra = Vec::new();
    for key in [
        "interface-address",
        "address-mask",
        "mtu",
        "adj-count",
        "hello-interval",
        "dead-interval",
        "retransmit-interval",
        "ospf-stub-type",
        "authentication-type",
    ] {
        if let Some(value) = el.nonempty(key) {
            extra.push((key.to_string(), value.to_string()));
        }
    }
    if !re_name.is_empty() {
        extra.push(("re-name".to_string(), re_name.to_string()));
    }
    Ok(OspfInterface {
        instance: instance_of(el),
        version,
        name: name.to_string(),
        state: el.text_of("ospf-interface-state").to_string(),
        area: el.text_of("ospf-area").to_string(),
        cost: integer(rpc, el, "interface-cost")?.unwrap_or(-1),
        interface_type: el.text_of("interface-type").to_string(),
        passive,
        dr_id: el.text_of("dr-id").to_string(),
        bdr_id: el.text_of("bdr-id").to_string(),
        neighbor_count: integer(rpc, el, "neighbor-count")?.unwrap_or(-1),
        extra,
    })
}

/// Seconds of `el`'s child `name`: its `seconds` attribute (a parse error when that is not a
/// number), else its text as a Junos duration, else `-1`.
fn elapsed(rpc: &str, el: El<'_, '_>, name: &str) -> Result<i64, CollectError> {
    let Some(child) = el.child(name) else {
        return Ok(-1);
    };
    if let Some(seconds) = child.attr("seconds") {
        return seconds
            .trim()
            .parse()
            .map_err(|_| parse_error(rpc, name, format!("expected seconds, got {seconds:?}")));
    }
    Ok(duration(child.text()).unwrap_or(-1))
}

/// A Junos duration as seconds: `2w1d 18:40:26`, `07:31:22`, `1d 02:03`, `45`, `3w`.
pub fn duration(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let mut total: i64 = 0;
    for token in text.split_whitespace() {
        if token.contains(':') {
            let mut secs: i64 = 0;
            for part in token.split(':') {
                secs = secs
                    .checked_mul(60)?
                    .checked_add(part.parse::<i64>().ok()?)?;
            }
            total = total.checked_add(secs)?;
            continue;
        }
        let mut number = String::new();
        for c in token.chars() {
            if c.is_ascii_digit() {
                number.push(c);
                continue;
            }
            let unit = match c {
                'w' => 7 * 86_400,
                'd' => 86_400,
                'h' => 3_600,
                'm' => 60,
                's' => 1,
                _ => return None,
            };
            let n: i64 = number.parse().ok()?;
            total = total.checked_add(n.checked_mul(unit)?)?;
            number.clear();
        }
        if !number.is_empty() {
            total = total.checked_add(number.parse::<i64>().ok()?)?;
        }
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration("2w1d 18:40:26"), Some(1_363_226));
        assert_eq!(duration("07:31:22"), Some(27_082));
        assert_eq!(duration("3w0d 16:50:35"), Some(3 * 604_800 + 60_635));
        assert_eq!(duration("1d 02:03"), Some(86_400 + 2 * 60 + 3));
        assert_eq!(duration("45"), Some(45));
        assert_eq!(duration(""), None);
        assert_eq!(duration("soon"), None);
    }

    #[test]
    fn requests() {
        assert_eq!(
            request(V2_NEIGHBORS, true),
            "<get-ospf-neighbor-information><detail/><instance>all</instance></get-ospf-neighbor-information>"
        );
        assert_eq!(
            nbfacts_sdk::testing::reply_file_name(&request(V3_INTERFACES, true)).unwrap(),
            "get-ospf3-interface-informationall.xml"
        );
    }
}
