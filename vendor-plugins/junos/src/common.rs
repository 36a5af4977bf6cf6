//! Helpers shared by the collectors: device calls, error mapping and NAPALM's value rules.

use nbfacts_sdk::{CollectError, Device, DeviceError, RpcError, parse_error};

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
/// unchanged. Accepted like netaddr: six groups of one or two hex digits separated by `:` or
/// `-`, three groups of four separated by `.` (`000f.532b.c5e1`), two groups of six, or twelve
/// bare hex digits.
pub fn mac(text: &str) -> String {
    match parse_mac(text) {
        Some(bytes) => format_mac(&bytes),
        None => text.to_string(),
    }
}

/// The six bytes of a MAC in any of the forms [`mac`] accepts.
pub fn parse_mac(text: &str) -> Option<[u8; 6]> {
    // Byte-wise: MAC tables have tens of thousands of entries, and `str::split(char)` is slow
    // inside WebAssembly.
    let text = text.trim_ascii().as_bytes();
    let mut out = [0u8; 6];
    if let Some(canonical) = colon_form(text) {
        return Some(canonical);
    }
    if text.len() == 12 {
        fill_hex(text, &mut out)?;
        return Some(out);
    }
    let sep = *text.iter().find(|&&b| matches!(b, b':' | b'-' | b'.'))?;
    let width = match text.iter().filter(|&&b| b == sep).count() + 1 {
        6 => 1,
        3 => 2,
        2 => 3,
        _ => return None,
    };
    for (i, group) in text.split(|&b| b == sep).enumerate() {
        let chunk = out.get_mut(i * width..(i + 1) * width)?;
        if group.is_empty() || group.len() > width * 2 {
            return None;
        }
        let mut value = 0u32;
        for &b in group {
            value = value * 16 + (b as char).to_digit(16)?;
        }
        for (j, byte) in chunk.iter_mut().enumerate() {
            *byte = (value >> (8 * (width - 1 - j))) as u8;
        }
    }
    Some(out)
}

/// `xx:xx:xx:xx:xx:xx`, the form nearly every MAC arrives in, without a loop over groups.
fn colon_form(text: &[u8]) -> Option<[u8; 6]> {
    let chunk: &[u8; 17] = text.try_into().ok()?;
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = [0u8; 6];
    for (i, byte) in out.iter_mut().enumerate() {
        let at = i * 3;
        if i > 0 && chunk.get(at - 1) != Some(&b':') {
            return None;
        }
        *byte = hex(*chunk.get(at)?)? << 4 | hex(*chunk.get(at + 1)?)?;
    }
    Some(out)
}

fn fill_hex(text: &[u8], out: &mut [u8; 6]) -> Option<()> {
    for (byte, pair) in out.iter_mut().zip(text.chunks(2)) {
        let hi = (*pair.first()? as char).to_digit(16)?;
        let lo = (*pair.get(1)? as char).to_digit(16)?;
        *byte = (hi * 16 + lo) as u8;
    }
    Some(())
}

fn format_mac(bytes: &[u8; 6]) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(17);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        out.push(char::from(
            HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0'),
        ));
        out.push(char::from(
            HEX.get(usize::from(b & 0x0f)).copied().unwrap_or(b'0'),
        ));
    }
    out
}

/// NAPALM's `ip()`: canonical IPv4 / compressed IPv6; anything else unchanged.
pub fn ip(text: &str) -> String {
    canonical_ip(text).unwrap_or_else(|| text.to_string())
}

/// `text` written as [`ip`] writes it when it is an IP address; `None` when it is not (for
/// callers that must also know which it was, with one parse).
pub fn canonical_ip(text: &str) -> Option<String> {
    match text.parse::<std::net::IpAddr>().ok()? {
        // An IPv4 address that parses is already canonical (no leading zeros are accepted),
        // so it needs no formatting.
        std::net::IpAddr::V4(_) => Some(text.to_string()),
        std::net::IpAddr::V6(a) => Some(a.to_string()),
    }
}

/// The number in the text of `el`'s child `name`: `None` when the child is absent or empty, a
/// parse error naming the element when it is not a number.
pub fn number(rpc: &str, el: El<'_, '_>, name: &str) -> Result<Option<f64>, CollectError> {
    match el.child_text(name) {
        None | Some("") => Ok(None),
        Some(text) => text
            .parse::<f64>()
            .map(Some)
            .map_err(|_| parse_error(rpc, name, format!("expected a number, got {text:?}"))),
    }
}

/// Like [`number`], for integers.
pub fn integer(rpc: &str, el: El<'_, '_>, name: &str) -> Result<Option<i64>, CollectError> {
    match el.child_text(name) {
        None | Some("") => Ok(None),
        Some(text) => text
            .parse::<i64>()
            .map(Some)
            .map_err(|_| parse_error(rpc, name, format!("expected an integer, got {text:?}"))),
    }
}

/// The integer value of `el`'s text, or a parse error naming the element.
pub fn int(rpc: &str, el: El<'_, '_>) -> Result<i64, CollectError> {
    el.text().parse().map_err(|_| {
        parse_error(
            rpc,
            el.name(),
            format!("expected an integer, got {:?}", el.text()),
        )
    })
}

/// Sends `rpc` and separates the device's `rpc-error` answers (unknown RPC, subsystem not
/// running, …), which a collector may work around, from failures it cannot (transport,
/// timeout, limits), which are returned as collect errors.
pub fn call_or_rpc_error(
    device: &dyn Device,
    rpc: &str,
) -> Result<Result<String, RpcError>, CollectError> {
    match device.netconf_rpc(rpc) {
        Ok(reply) => Ok(Ok(reply)),
        Err(DeviceError::Rpc(e)) => Ok(Err(e)),
        Err(e) => Err(CollectError::Device(e)),
    }
}

/// True when an `rpc-error` says the device does not know the RPC (Junos answers
/// `syntax error`; other NETCONF servers use the `unknown-element` / `operation-not-supported`
/// tags). Collectors fall back to another RPC on this.
pub fn is_unknown_rpc(e: &RpcError) -> bool {
    e.error_message.contains("syntax error")
        || matches!(
            e.error_tag.as_str(),
            "unknown-element" | "operation-not-supported"
        )
}

/// `text` escaped for use as an RPC argument value.
pub fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains(['&', '<', '>']) {
        std::borrow::Cow::Owned(
            text.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;"),
        )
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// One payload element of a reply, with the routing engine it came from.
#[derive(Debug, Clone, Copy)]
pub struct Payload<'d, 'a> {
    /// `re-name` of the enclosing `multi-routing-engine-item`; empty outside such a wrapper.
    pub re_name: &'d str,
    /// The payload element (`software-information`, `output`, …).
    pub el: El<'d, 'a>,
}

/// The payload elements of a reply, in order: the `rpc-reply` wrapper and
/// `multi-routing-engine-results/multi-routing-engine-item` wrappers are looked through, and
/// `rpc-error`, warnings and the trailing `<cli><banner>` are skipped.
pub fn payloads<'d, 'a>(doc: &'d Doc<'a>) -> Vec<Payload<'d, 'a>> {
    let mut out = Vec::new();
    for root in doc.roots() {
        collect_payloads(root, "", &mut out);
    }
    out
}

fn collect_payloads<'d, 'a>(el: El<'d, 'a>, re_name: &'d str, out: &mut Vec<Payload<'d, 'a>>) {
    match el.name() {
        "rpc-reply" | "multi-routing-engine-results" => {
            for child in el.children() {
                collect_payloads(child, re_name, out);
            }
        }
        "multi-routing-engine-item" => {
            let name = el.text_of("re-name");
            for child in el.children() {
                collect_payloads(child, name, out);
            }
        }
        "re-name" | "cli" | "rpc-error" | "warning" | "ok" => {}
        _ => out.push(Payload { re_name, el }),
    }
}

/// The payloads named `name`; a parse error naming `rpc` when the reply has payloads but none
/// of them is `name` (or a not-running `<output>`, which gives an empty list).
pub fn payloads_named<'d, 'a>(
    rpc: &str,
    doc: &'d Doc<'a>,
    name: &str,
) -> Result<Vec<Payload<'d, 'a>>, CollectError> {
    let all = payloads(doc);
    let wanted: Vec<_> = all.iter().copied().filter(|p| p.el.is(name)).collect();
    if wanted.is_empty()
        && let Some(other) = all.iter().find(|p| !p.el.is("output"))
    {
        return Err(parse_error(
            rpc,
            name,
            format!(
                "the reply has <{}> where <{name}> was expected",
                other.el.name()
            ),
        ));
    }
    Ok(wanted)
}

/// NAPALM's `as_number()`: an AS number, plain or asdot (`1.10` is 65546).
pub fn as_number(text: &str) -> Option<i64> {
    match text.split_once('.') {
        Some((high, low)) => {
            let high: i64 = high.parse().ok()?;
            let low: i64 = low.parse().ok()?;
            Some(high * 65536 + low)
        }
        None => text.parse().ok(),
    }
}

/// The `seconds` attribute of `el`'s child `name` (`<elapsed-time seconds="…">`): `None`
/// when absent, a parse error naming the element when it is not an integer.
pub fn seconds(rpc: &str, el: El<'_, '_>, name: &str) -> Result<Option<i64>, CollectError> {
    match el.child(name).and_then(|c| c.attr("seconds")) {
        None => Ok(None),
        Some(text) => text
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| parse_error(rpc, name, format!("expected seconds, got {text:?}"))),
    }
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
        assert_eq!(mac("0:f:53:2b:c5:e1"), "00:0F:53:2B:C5:E1");
        assert_eq!(mac("00-0F-53-2B-C5-E1"), "00:0F:53:2B:C5:E1");
        assert_eq!(mac("000f532bc5e1"), "00:0F:53:2B:C5:E1");
        assert_eq!(mac("000f53:2bc5e1"), "00:0F:53:2B:C5:E1");
        assert_eq!(mac("none"), "none");
        assert_eq!(mac("00:0f:53:2b:c5"), "00:0f:53:2b:c5");
        assert_eq!(mac("00:0f:53:2b:c5:e1:00"), "00:0f:53:2b:c5:e1:00");
        assert_eq!(mac("0g:0f:53:2b:c5:e1"), "0g:0f:53:2b:c5:e1");
        assert_eq!(mac("+0:0f:53:2b:c5:e1"), "+0:0f:53:2b:c5:e1");
    }

    #[test]
    fn payloads_look_through_wrappers() {
        let doc = Doc::parse(
            "<rpc-reply><rpc-error><error-message>re0 down</error-message></rpc-error>\
             <multi-routing-engine-results><multi-routing-engine-item><re-name>re1</re-name>\
             <software-information/></multi-routing-engine-item></multi-routing-engine-results>\
             <cli><banner>{master}</banner></cli></rpc-reply>",
        )
        .unwrap();
        let p = payloads(&doc);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].re_name, "re1");
        assert_eq!(p[0].el.name(), "software-information");
        assert!(payloads_named("get-x", &doc, "chassis-inventory").is_err());
        let out = Doc::parse("<output>BGP is not running</output>").unwrap();
        assert!(
            payloads_named("get-x", &out, "bgp-information")
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn as_numbers_accept_asdot() {
        assert_eq!(as_number("65000"), Some(65000));
        assert_eq!(as_number("1.10"), Some(65546));
        assert_eq!(as_number("x"), None);
    }

    #[test]
    fn ip_is_canonical() {
        assert_eq!(ip("2001:0db8:0000::1"), "2001:db8::1");
        assert_eq!(ip("10.0.0.1"), "10.0.0.1");
        assert_eq!(ip("fe80::1%ge-0/0/0"), "fe80::1%ge-0/0/0");
    }
}
