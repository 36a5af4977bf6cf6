//! `l2_circuits`: Junos `show l2circuit connections` (LDP-signalled pseudowires).
//!
//! RPC `get-l2ckt-connection-information`. The reply holds one `l2circuit-neighbor` per remote
//! PE (`neighbor-address`) with one `connection` per virtual circuit:
//!
//! * `connection-id` is `ifname(vc N)`: the local interface and the VC id (a connection id
//!   without `(vc N)` is a parse error naming the element);
//! * `connection-type` (`rmt`, `loc`), `connection-status` (a code of the status legend, decoded
//!   into `status-text`), `last-change`, `up-transitions`;
//! * the labels: `inbound-label` is the local label, `outbound-label` the remote one;
//! * `remote-pe`, `control-word`, `local-interface/{interface-status, interface-encapsulation,
//!   interface-description}` and a few others go to `extra`.
//!
//! `connections-summary/vc-up-count` and `vc-down-count` are summed over the reply when present,
//! `-1` otherwise. An `rpc-error` answer (l2circuit not configured) or an `<output>` saying it is
//! not running gives no circuits.

use nbfacts_sdk::{CollectError, Device, L2Circuit, L2Circuits, parse_error};

use crate::common::{call_optional, integer, ip, payloads_named};
use crate::json::load;
use crate::xml::{Doc, El};

/// The RPC `l2_circuits` sends.
pub const RPC: &str = "<get-l2ckt-connection-information/>";

const NAME: &str = "get-l2ckt-connection-information";

/// Runs the `l2_circuits` collector.
pub fn collect(device: &dyn Device) -> Result<L2Circuits, CollectError> {
    match call_optional(device, RPC)? {
        Some(reply) => parse_l2circuits(&reply),
        None => Ok(empty()),
    }
}

fn empty() -> L2Circuits {
    L2Circuits {
        circuits: Vec::new(),
        vc_up_count: -1,
        vc_down_count: -1,
    }
}

/// Parses a `get-l2ckt-connection-information` reply (XML or Junos JSON).
pub fn parse_l2circuits(reply: &str) -> Result<L2Circuits, CollectError> {
    parse_l2circuits_doc(&load(NAME, reply)?)
}

/// Like [`parse_l2circuits`], for a reply already in a [`Doc`].
pub fn parse_l2circuits_doc(doc: &Doc<'_>) -> Result<L2Circuits, CollectError> {
    let mut out = empty();
    for payload in payloads_named(NAME, doc, "l2circuit-connection-information")? {
        for neighbor in payload.el.children_named("l2circuit-neighbor") {
            let address = neighbor.nonempty("neighbor-address").ok_or_else(|| {
                parse_error(
                    NAME,
                    "neighbor-address",
                    "an l2circuit-neighbor has no neighbor-address",
                )
            })?;
            for connection in neighbor.children_named("connection") {
                let mut circuit = circuit(address, connection)?;
                if !payload.re_name.is_empty() {
                    circuit
                        .extra
                        .push(("re-name".into(), payload.re_name.to_string()));
                }
                out.circuits.push(circuit);
            }
        }
        for summary in payload.el.descendants_named("connections-summary") {
            add(&mut out.vc_up_count, integer(NAME, summary, "vc-up-count")?);
            add(
                &mut out.vc_down_count,
                integer(NAME, summary, "vc-down-count")?,
            );
        }
    }
    Ok(out)
}

fn add(total: &mut i64, value: Option<i64>) {
    if let Some(v) = value {
        *total = if *total < 0 { v } else { *total + v };
    }
}

fn circuit(neighbor: &str, connection: El<'_, '_>) -> Result<L2Circuit, CollectError> {
    let id = connection.text_of("connection-id");
    let (local_interface, vc_id) = split_connection_id(id).ok_or_else(|| {
        parse_error(
            NAME,
            "connection-id",
            format!("expected 'interface(vc N)', got {id:?}"),
        )
    })?;
    let status = connection.text_of("connection-status");
    let mut extra = Vec::new();
    for name in [
        "remote-pe",
        "control-word",
        "flow-label-transmit",
        "flow-label-receive",
        "negotiated-pw-status-tlv",
        "local-pw-status",
        "remote-pw-status",
    ] {
        if let Some(value) = connection.nonempty(name) {
            extra.push((name.to_string(), value.to_string()));
        }
    }
    if let Some(local) = connection.child("local-interface") {
        for name in [
            "interface-status",
            "interface-encapsulation",
            "interface-description",
        ] {
            if let Some(value) = local.nonempty(name) {
                extra.push((name.to_string(), value.to_string()));
            }
        }
    }
    Ok(L2Circuit {
        neighbor: ip(neighbor),
        vc_id,
        local_interface: local_interface.to_string(),
        connection_type: connection.text_of("connection-type").to_string(),
        status: status.to_string(),
        status_text: status_text(status).to_string(),
        last_change: connection.text_of("last-change").to_string(),
        up_transitions: integer(NAME, connection, "up-transitions")?.unwrap_or(-1),
        local_label: integer(NAME, connection, "inbound-label")?.unwrap_or(-1),
        remote_label: integer(NAME, connection, "outbound-label")?.unwrap_or(-1),
        extra,
    })
}

/// `lt-1/2/0.2323(vc 200)` → (`lt-1/2/0.2323`, 200). Text after the closing parenthesis
/// (`(vc 5) (SP)` on some releases) is ignored.
pub fn split_connection_id(id: &str) -> Option<(&str, u32)> {
    let at = id.find("(vc ")?;
    let interface = id.get(..at)?.trim();
    let rest = id.get(at + 4..)?;
    let number = rest.get(..rest.find(')')?)?.trim();
    Some((interface, number.parse().ok()?))
}

/// The status legend Junos prints under `show l2circuit connections`, lower-case. An unknown
/// code gives `unknown`.
pub fn status_text(code: &str) -> &'static str {
    match code {
        "Up" => "up",
        "Dn" => "down",
        "VC-Dn" => "virtual circuit down",
        "EI" => "encapsulation invalid",
        "EM" => "encapsulation mismatch",
        "MM" => "mtu mismatch",
        "CM" => "control-word mismatch",
        "VM" => "vlan id mismatch",
        "OL" => "no outgoing label",
        "IL" => "no incoming label",
        "NC" => "intf encaps not CCC/TCC",
        "NP" => "interface h/w not present",
        "CF" => "call admission control failure",
        "CB" => "rcvd cell-bundle size bad",
        "IB" => "TDM incompatible bitrate",
        "TM" => "TDM misconfiguration",
        "BK" => "backup connection",
        "ST" => "standby connection",
        "SP" => "static pseudowire",
        "LD" => "local site signaled down",
        "RD" => "remote site signaled down",
        "RS" => "remote site standby",
        "HS" => "hot-standby connection",
        "XX" => "unknown",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_ids_split() {
        assert_eq!(
            split_connection_id("lt-1/2/0.2323(vc 200)"),
            Some(("lt-1/2/0.2323", 200))
        );
        assert_eq!(
            split_connection_id("ge-0/0/1.600(vc 600) (SP)"),
            Some(("ge-0/0/1.600", 600))
        );
        assert_eq!(split_connection_id("ge-0/0/1.600"), None);
        assert_eq!(split_connection_id("ge-0/0/1.600(vc x)"), None);
    }

    #[test]
    fn legend_is_decoded() {
        assert_eq!(status_text("OL"), "no outgoing label");
        assert_eq!(status_text("VC-Dn"), "virtual circuit down");
        assert_eq!(status_text("??"), "unknown");
    }
}
