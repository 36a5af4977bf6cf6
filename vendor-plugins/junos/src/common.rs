//! Helpers shared by the collectors: device calls, error mapping and NAPALM's value rules.

use nbfacts_sdk::{CollectError, Device, DeviceError, parse_error};

use crate::xml::{Doc, El};

/// Sends `rpc` and returns the reply text, mapping a device failure to a collect error.
pub fn call(device: &dyn Device, rpc: &str) -> Result<String, CollectError> {
    device.netconf_rpc(rpc).map_err(CollectError::Device)
}

/// Sends `rpc`; an `rpc-error` answer (unknown RPC, subsystem not running) is `Ok(None)` so the
/// caller can fall back. Transport errors and timeouts are still errors.
pub fn call_optional(device: &dyn Device, rpc: &str) -> Result<Option<String>, CollectError> {
    match device.netconf_rpc(rpc) {
        Ok(reply) => Ok(Some(reply)),
        Err(DeviceError::Rpc(_)) => Ok(None),
        Err(e) => Err(CollectError::Device(e)),
    }
}

/// Parses a reply, naming `rpc` in the error.
pub fn parse<'a>(rpc: &str, reply: &'a str) -> Result<Doc<'a>, CollectError> {
    Doc::parse(reply).map_err(|e| parse_error(rpc, "", format!("malformed XML: {e}")))
}

/// True when the reply says the protocol is not running (`<output>… not running</output>`),
/// which collectors turn into an empty result.
pub fn not_running(doc: &Doc<'_>) -> bool {
    doc.descendants("output")
        .any(|o| o.text().to_ascii_lowercase().contains("not running"))
}

/// NAPALM's `mac()`: a parsable MAC becomes upper-case colon form; anything else is returned
/// unchanged.
pub fn mac(text: &str) -> String {
    let hex: String = text
        .chars()
        .filter(|c| !matches!(c, ':' | '-' | '.'))
        .collect();
    let separators_ok = text
        .chars()
        .all(|c| c.is_ascii_hexdigit() || matches!(c, ':' | '-' | '.'));
    if hex.len() == 12 && separators_ok && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        let up = hex.to_ascii_uppercase();
        let mut out = String::with_capacity(17);
        for (i, c) in up.chars().enumerate() {
            if i > 0 && i % 2 == 0 {
                out.push(':');
            }
            out.push(c);
        }
        out
    } else {
        text.to_string()
    }
}

/// NAPALM's `ip()`: canonical IPv4 / compressed IPv6; anything else unchanged.
pub fn ip(text: &str) -> String {
    text.parse::<std::net::IpAddr>()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| text.to_string())
}

/// The integer value of `el`'s text, or a parse error naming the element.
pub fn int(rpc: &str, el: El<'_, '_>) -> Result<i64, CollectError> {
    el.text()
        .parse()
        .map_err(|_| parse_error(rpc, el.name(), format!("expected an integer, got {:?}", el.text())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_is_normalised_like_napalm() {
        assert_eq!(mac("00:0f:53:2b:c5:e1"), "00:0F:53:2B:C5:E1");
        assert_eq!(mac("000f.532b.c5e1"), "00:0F:53:2B:C5:E1");
        assert_eq!(mac("Unspecified"), "Unspecified");
        assert_eq!(mac(""), "");
    }

    #[test]
    fn ip_is_canonical() {
        assert_eq!(ip("2001:0db8:0000::1"), "2001:db8::1");
        assert_eq!(ip("10.0.0.1"), "10.0.0.1");
        assert_eq!(ip("fe80::1%ge-0/0/0"), "fe80::1%ge-0/0/0");
    }
}
