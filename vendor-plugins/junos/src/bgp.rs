//! `bgp`: BGP peers per routing instance, the union of NAPALM's `get_bgp_neighbors` and
//! `get_bgp_neighbors_detail`.
//!
//! 1. `get-instance-information` lists the routing instances (`instance-core/instance-name`);
//!    internal ones (`__…`) are skipped. Without that RPC only `master` is asked.
//! 2. Per instance, `get-bgp-neighbor-information` with `<instance>NAME</instance>` gives the
//!    peers (`bgp-peer`). `<output>BGP is not running</output>` or an rpc-error means none.
//! 3. For instances with peers, `get-bgp-summary-information` for the same instance gives each
//!    peer's uptime (`elapsed-time/@seconds`). A peer found only there is added with
//!    `summary_only` set (NAPALM shows it as a bare `{"uptime": n}`).
//!
//! `master` is reported as `global`; instances without peers are left out. The field rules are
//! NAPALM's (see the fixtures README): `+port` is split off the addresses (179 when the
//! device omits it), options come from the `bgp-options` tokens (`AddressFamily` sets
//! `local_address_configured`, as in NAPALM), `local_as_prepend` is the presence of
//! `<peer-addpath-not-supported/>`, prefix counts are summed over all `bgp-rib` entries (`-1`
//! without any), and per-family counts follow NAPALM's table-name rule (for `master` the
//! family is everything before the last dot, so `backend.inet.0` counts for no family).
//!
//! A peer is disabled when `bgp-options-extended` has the token `Shutdown` (NAPALM matches
//! the substring, which also hits `GracefulShutdownRcv`; the token is what Junos means).

use std::collections::HashMap;

use nbfacts_sdk::{Bgp, BgpFamily, BgpInstance, BgpPeer, CollectError, Device, parse_error};

use crate::common::{
    as_number, call_or_rpc_error, escape, integer, ip, parse, payloads_named, seconds,
};
use crate::xml::{Doc, El};

/// The routing-instance RPC.
pub const INSTANCES_RPC: &str = "<get-instance-information/>";
const INSTANCES: &str = "get-instance-information";
const NEIGHBORS: &str = "get-bgp-neighbor-information";
const SUMMARY: &str = "get-bgp-summary-information";

/// `<get-bgp-neighbor-information><instance>NAME</instance>…`.
pub fn neighbor_request(instance: &str) -> String {
    format!(
        "<{NEIGHBORS}><instance>{}</instance></{NEIGHBORS}>",
        escape(instance)
    )
}

/// `<get-bgp-summary-information><instance>NAME</instance>…`.
pub fn summary_request(instance: &str) -> String {
    format!(
        "<{SUMMARY}><instance>{}</instance></{SUMMARY}>",
        escape(instance)
    )
}

/// Runs the `bgp` collector.
pub fn collect(device: &dyn Device) -> Result<Bgp, CollectError> {
    let names = match call_or_rpc_error(device, INSTANCES_RPC)? {
        Ok(reply) => parse_instances(&reply)?,
        Err(_) => vec!["master".to_string()],
    };
    let mut instances = Vec::new();
    for name in names {
        let reply = match call_or_rpc_error(device, &neighbor_request(&name))? {
            Ok(reply) => reply,
            Err(e) => {
                nbfacts_sdk::log::warn(&format!(
                    "BGP neighbours of instance {name}: {}",
                    e.error_message
                ));
                continue;
            }
        };
        let mut instance = parse_neighbors(&name, &reply)?;
        if instance.peers.is_empty() {
            continue;
        }
        if let Ok(reply) = call_or_rpc_error(device, &summary_request(&name))? {
            apply_summary(&mut instance, &reply)?;
        }
        instances.push(instance);
    }
    Ok(Bgp { instances })
}

/// The routing instances to ask, internal ones (`__juniper_private1__`) left out.
pub fn parse_instances(reply: &str) -> Result<Vec<String>, CollectError> {
    parse_instances_doc(&parse(INSTANCES, reply)?)
}

/// Like [`parse_instances`], for a reply already in a [`Doc`] (for example one loaded from Junos
/// JSON).
pub fn parse_instances_doc(doc: &Doc<'_>) -> Result<Vec<String>, CollectError> {
    let mut names: Vec<String> = Vec::new();
    for payload in payloads_named(INSTANCES, doc, "instance-information")? {
        for core in payload.el.children_named("instance-core") {
            let name = core.text_of("instance-name");
            if name.is_empty() || name.starts_with("__") || names.iter().any(|n| n == name) {
                continue;
            }
            names.push(name.to_string());
        }
    }
    Ok(names)
}

/// Parses a `get-bgp-neighbor-information` reply for the Junos instance `instance`.
pub fn parse_neighbors(instance: &str, reply: &str) -> Result<BgpInstance, CollectError> {
    parse_neighbors_doc(instance, &parse(NEIGHBORS, reply)?)
}

/// Like [`parse_neighbors`], for a reply already in a [`Doc`] (for example one loaded from Junos
/// JSON).
pub fn parse_neighbors_doc(instance: &str, doc: &Doc<'_>) -> Result<BgpInstance, CollectError> {
    let mut peers = Vec::new();
    let mut router_id = None;
    for payload in payloads_named(NEIGHBORS, doc, "bgp-information")? {
        for el in payload.el.children_named("bgp-peer") {
            if router_id.is_none() {
                router_id = Some(el.text_of("local-id").to_string());
            }
            peers.push(peer(instance, el)?);
        }
    }
    Ok(BgpInstance {
        name: if instance == "master" {
            "global".to_string()
        } else {
            instance.to_string()
        },
        router_id: router_id.unwrap_or_default(),
        local_as: peers.first().map(|p| p.local_as).unwrap_or(-1),
        peers,
    })
}

/// Sets the uptimes from a `get-bgp-summary-information` reply, adding the peers that only the
/// summary lists.
pub fn apply_summary(instance: &mut BgpInstance, reply: &str) -> Result<(), CollectError> {
    apply_summary_doc(instance, &parse(SUMMARY, reply)?)
}

/// Like [`apply_summary`], for a reply already in a [`Doc`] (for example one loaded from Junos
/// JSON).
pub fn apply_summary_doc(instance: &mut BgpInstance, doc: &Doc<'_>) -> Result<(), CollectError> {
    let mut index: HashMap<String, usize> = instance
        .peers
        .iter()
        .enumerate()
        .map(|(i, p)| (p.remote_address.clone(), i))
        .collect();
    for payload in payloads_named(SUMMARY, doc, "bgp-information")? {
        for el in payload.el.children_named("bgp-peer") {
            let (address, _) = split_port(el.text_of("peer-address"));
            if address.is_empty() {
                continue;
            }
            let uptime = seconds(SUMMARY, el, "elapsed-time")?;
            match index.get(&address).and_then(|&i| instance.peers.get_mut(i)) {
                Some(peer) => {
                    if let Some(uptime) = uptime {
                        peer.uptime = uptime;
                    }
                }
                None => {
                    let mut peer = empty_peer(address.clone());
                    peer.summary_only = true;
                    peer.uptime = uptime.unwrap_or(-1);
                    peer.remote_as = as_of(SUMMARY, el, "peer-as")?;
                    peer.connection_state = el.text_of("peer-state").to_string();
                    peer.is_up = peer.connection_state == "Established";
                    index.insert(address, instance.peers.len());
                    instance.peers.push(peer);
                }
            }
        }
    }
    Ok(())
}

/// `a.b.c.d+port` → (canonical address, port); the port is 179 when the device omits it and
/// `-1` when there is no address at all.
fn split_port(text: &str) -> (String, i32) {
    if text.is_empty() {
        return (String::new(), -1);
    }
    match text.split_once('+') {
        Some((address, port)) => (ip(address), port.trim().parse().unwrap_or(179)),
        None => (ip(text), 179),
    }
}

fn as_of(rpc: &str, el: El<'_, '_>, name: &str) -> Result<i64, CollectError> {
    match el.nonempty(name) {
        None => Ok(-1),
        Some(text) => as_number(text)
            .ok_or_else(|| parse_error(rpc, name, format!("expected an AS number, got {text:?}"))),
    }
}

fn count(el: El<'_, '_>, name: &str) -> Result<i64, CollectError> {
    Ok(integer(NEIGHBORS, el, name)?.unwrap_or(-1))
}

fn empty_peer(remote_address: String) -> BgpPeer {
    BgpPeer {
        remote_address,
        remote_port: -1,
        local_address: String::new(),
        local_port: -1,
        local_as: -1,
        remote_as: -1,
        remote_id: String::new(),
        description: String::new(),
        is_up: false,
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
        messages_queued_out: -1,
        connection_state: String::new(),
        previous_connection_state: String::new(),
        last_event: String::new(),
        suppress_4byte_as: false,
        local_as_prepend: false,
        holdtime: -1,
        configured_holdtime: -1,
        keepalive: -1,
        configured_keepalive: -1,
        active_prefix_count: -1,
        received_prefix_count: -1,
        accepted_prefix_count: -1,
        suppressed_prefix_count: -1,
        advertised_prefix_count: -1,
        flap_count: -1,
        address_families: Vec::new(),
        summary_only: false,
        extra: Vec::new(),
    }
}

fn peer(instance: &str, el: El<'_, '_>) -> Result<BgpPeer, CollectError> {
    let (remote_address, remote_port) = split_port(el.text_of("peer-address"));
    if remote_address.is_empty() {
        return Err(parse_error(
            NEIGHBORS,
            "peer-address",
            "a bgp-peer has no peer-address",
        ));
    }
    let (local_address, local_port) = split_port(el.text_of("local-address"));
    let options = el.path("bgp-option-information");
    let option_text = |name: &str| options.map(|o| o.text_of(name)).unwrap_or("");
    let tokens = option_text("bgp-options");
    let has = |token: &str| tokens.split_whitespace().any(|t| t == token);
    let remote_as = as_of(NEIGHBORS, el, "peer-as")?;
    let connection_state = el.text_of("peer-state").to_string();
    let is_up = connection_state == "Established";

    let mut messages_queued_out = 0;
    for queue in el.children_named("bgp-output-queue") {
        messages_queued_out += integer(NEIGHBORS, queue, "count")?.unwrap_or(0);
    }

    let ribs: Vec<El<'_, '_>> = el.children_named("bgp-rib").collect();
    let mut sums = [-1i64; 5];
    if !ribs.is_empty() {
        sums = [0; 5];
        for rib in &ribs {
            for (sum, name) in sums.iter_mut().zip([
                "active-prefix-count",
                "received-prefix-count",
                "accepted-prefix-count",
                "suppressed-prefix-count",
                "advertised-prefix-count",
            ]) {
                *sum += integer(NEIGHBORS, *rib, name)?.unwrap_or(0);
            }
        }
    }
    let [active, received, accepted, suppressed, advertised] = sums;

    let four_byte = integer(NEIGHBORS, el, "peer-4byte-as-capability-advertised")?.unwrap_or(0);
    let keepalive = count(el, "keepalive-interval")?;
    let mut extra = Vec::new();
    for (element, key) in [("peer-group", "peer-group"), ("peer-type", "peer-type")] {
        if let Some(value) = el.nonempty(element) {
            extra.push((key.to_string(), value.to_string()));
        }
    }
    Ok(BgpPeer {
        remote_address,
        remote_port,
        local_address,
        local_port,
        local_as: as_of(NEIGHBORS, el, "local-as")?,
        remote_as,
        remote_id: el.text_of("peer-id").to_string(),
        description: el.text_of("description").to_string(),
        is_up,
        is_enabled: !option_text("bgp-options-extended")
            .split_whitespace()
            .any(|t| t == "Shutdown"),
        uptime: -1,
        local_address_configured: has("AddressFamily"),
        multihop: has("Multihop"),
        multipath: has("Multipath"),
        remove_private_as: has("RemovePrivateAS"),
        import_policy: option_text("import-policy").to_string(),
        export_policy: option_text("export-policy").to_string(),
        input_messages: count(el, "input-messages")?,
        output_messages: count(el, "output-messages")?,
        input_updates: count(el, "input-updates")?,
        output_updates: count(el, "output-updates")?,
        messages_queued_out,
        connection_state,
        previous_connection_state: el.text_of("last-state").to_string(),
        last_event: el.text_of("last-event").to_string(),
        suppress_4byte_as: remote_as != four_byte,
        local_as_prepend: el.has_child("peer-addpath-not-supported"),
        holdtime: count(el, "active-holdtime")?,
        configured_holdtime: match options {
            Some(o) => integer(NEIGHBORS, o, "holdtime")?.unwrap_or(-1),
            None => -1,
        },
        keepalive,
        configured_keepalive: keepalive,
        active_prefix_count: active,
        received_prefix_count: received,
        accepted_prefix_count: accepted,
        suppressed_prefix_count: suppressed,
        advertised_prefix_count: advertised,
        flap_count: count(el, "flap-count")?,
        address_families: families(instance, is_up, &ribs)?,
        summary_only: false,
        extra,
    })
}

/// NAPALM's per-family prefix counts: `ipv4` and `ipv6` start at `-1`; for an established
/// peer each `bgp-rib` of a known family sets its family (the last one wins). `sent` is the
/// rib's advertised count when its send state is "in sync", else 0 (with a single rib NAPALM
/// does not look at the send state).
fn families(
    instance: &str,
    is_up: bool,
    ribs: &[El<'_, '_>],
) -> Result<Vec<BgpFamily>, CollectError> {
    let empty = |family: &str| BgpFamily {
        family: family.to_string(),
        received_prefixes: -1,
        accepted_prefixes: -1,
        sent_prefixes: -1,
    };
    let mut out = vec![empty("ipv4"), empty("ipv6")];
    if !is_up {
        return Ok(out);
    }
    for rib in ribs {
        let Some(family) = family_of(rib.text_of("name"), instance) else {
            continue;
        };
        let advertised = integer(NEIGHBORS, *rib, "advertised-prefix-count")?.unwrap_or(-1);
        let sent = if ribs.len() == 1 || rib.text_of("send-state").contains("in sync") {
            advertised
        } else {
            0
        };
        let counts = BgpFamily {
            family: family.to_string(),
            received_prefixes: integer(NEIGHBORS, *rib, "received-prefix-count")?.unwrap_or(-1),
            accepted_prefixes: integer(NEIGHBORS, *rib, "accepted-prefix-count")?.unwrap_or(-1),
            sent_prefixes: sent,
        };
        match out.iter_mut().find(|f| f.family == family) {
            Some(slot) => *slot = counts,
            None => out.push(counts),
        }
    }
    Ok(out)
}

/// NAPALM's `_get_address_family`: `inet.0` → ipv4, `blue.inet6.0` → ipv6, `inetflow.0` →
/// flow. For `master` the family is all but the last dot-part, so `blue.inet.0` has none.
fn family_of(table: &str, instance: &str) -> Option<&'static str> {
    let family = if instance == "master" {
        table.rsplit_once('.')?.0
    } else {
        let mut parts = table.rsplit('.');
        parts.next()?;
        parts.next()?
    };
    match family {
        "inet" => Some("ipv4"),
        "inet6" => Some("ipv6"),
        "inetflow" => Some("flow"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nbfacts_sdk::testing::FakeDevice;

    const INSTANCES_REPLY: &str = r#"<rpc-reply xmlns:junos="http://xml.juniper.net/junos/21.4R3/junos">
<instance-information xmlns="http://xml.juniper.net/junos/21.4R3/junos-routing" junos:style="terse">
  <instance-core><instance-name>master</instance-name><instance-type>forwarding</instance-type></instance-core>
  <instance-core><instance-name>__juniper_private1__</instance-name></instance-core>
  <instance-core><instance-name>blue</instance-name><instance-type>vrf</instance-type></instance-core>
  <instance-core><instance-name>green</instance-name><instance-type>vrf</instance-type></instance-core>
</instance-information>
</rpc-reply>"#;

    const MASTER_PEERS: &str = r#"<rpc-reply xmlns:junos="http://xml.juniper.net/junos/21.4R3/junos">
<bgp-information xmlns="http://xml.juniper.net/junos/21.4R3/junos-routing">
  <bgp-peer junos:style="detail">
    <peer-address>192.0.2.1+179</peer-address>
    <peer-as>64500</peer-as>
    <local-address>192.0.2.0+60123</local-address>
    <local-as>64496</local-as>
    <description>transit</description>
    <peer-group>ebgp</peer-group>
    <peer-state>Established</peer-state>
    <last-state>OpenConfirm</last-state>
    <last-event>RecvKeepAlive</last-event>
    <bgp-option-information>
      <export-policy>
        EXPORT
      </export-policy>
      <import-policy>IMPORT</import-policy>
      <bgp-options>Preference LocalAddress Multipath RemovePrivateAS AddressFamily</bgp-options>
      <bgp-options-extended>GracefulShutdownRcv</bgp-options-extended>
      <holdtime>90</holdtime>
    </bgp-option-information>
    <flap-count>3</flap-count>
    <peer-id>198.51.100.1</peer-id>
    <local-id>198.51.100.254</local-id>
    <active-holdtime>90</active-holdtime>
    <keepalive-interval>30</keepalive-interval>
    <peer-4byte-as-capability-advertised>64500</peer-4byte-as-capability-advertised>
    <peer-addpath-not-supported/>
    <bgp-rib junos:style="detail">
      <name>inet.0</name>
      <send-state>in sync</send-state>
      <active-prefix-count>5</active-prefix-count>
      <received-prefix-count>10</received-prefix-count>
      <accepted-prefix-count>9</accepted-prefix-count>
      <suppressed-prefix-count>0</suppressed-prefix-count>
      <advertised-prefix-count>4</advertised-prefix-count>
    </bgp-rib>
    <bgp-rib junos:style="detail">
      <name>inet6.0</name>
      <send-state>not advertising</send-state>
      <active-prefix-count>1</active-prefix-count>
      <received-prefix-count>2</received-prefix-count>
      <accepted-prefix-count>2</accepted-prefix-count>
      <suppressed-prefix-count>0</suppressed-prefix-count>
    </bgp-rib>
    <bgp-rib><name>blue.inet.0</name><received-prefix-count>7</received-prefix-count></bgp-rib>
    <input-messages>100</input-messages>
    <input-updates>10</input-updates>
    <output-messages>50</output-messages>
    <output-updates>5</output-updates>
    <bgp-output-queue><number>0</number><count>1</count></bgp-output-queue>
    <bgp-output-queue><number>1</number><count>2</count></bgp-output-queue>
  </bgp-peer>
  <bgp-peer junos:style="detail">
    <peer-address>2001:db8::2</peer-address>
    <peer-as>4200000000</peer-as>
    <local-as>64496</local-as>
    <peer-state>Idle</peer-state>
    <bgp-option-information><bgp-options-extended>Shutdown</bgp-options-extended></bgp-option-information>
  </bgp-peer>
</bgp-information>
</rpc-reply>"#;

    const MASTER_SUMMARY: &str = r#"<bgp-information>
  <bgp-peer junos:style="terse" xmlns:junos="x">
    <peer-address>192.0.2.1</peer-address><peer-as>64500</peer-as>
    <elapsed-time junos:seconds="3600">1:00:00</elapsed-time><peer-state>Established</peer-state>
  </bgp-peer>
  <bgp-peer><peer-address>203.0.113.9</peer-address><peer-as>1.10</peer-as>
    <elapsed-time seconds="42">42</elapsed-time><peer-state>Active</peer-state></bgp-peer>
</bgp-information>"#;

    fn device() -> FakeDevice {
        FakeDevice::new()
            .with_reply(INSTANCES, INSTANCES_REPLY)
            .with_reply("get-bgp-neighbor-informationmaster", MASTER_PEERS)
            .with_reply("get-bgp-summary-informationmaster", MASTER_SUMMARY)
            .with_reply(
                "get-bgp-neighbor-informationblue",
                "<rpc-reply><output>BGP is not running</output></rpc-reply>",
            )
    }

    #[test]
    fn instances_peers_and_summary() {
        let dev = device();
        let bgp = collect(&dev).unwrap();
        assert_eq!(
            dev.calls(),
            [
                INSTANCES,
                "get-bgp-neighbor-informationmaster",
                "get-bgp-summary-informationmaster",
                "get-bgp-neighbor-informationblue",
                "get-bgp-neighbor-informationgreen",
            ]
        );
        assert_eq!(bgp.instances.len(), 1);
        let global = &bgp.instances[0];
        assert_eq!(global.name, "global");
        assert_eq!(global.router_id, "198.51.100.254");
        assert_eq!(global.local_as, 64496);
        assert_eq!(global.peers.len(), 3);

        let p = &global.peers[0];
        assert_eq!(
            (p.remote_address.as_str(), p.remote_port),
            ("192.0.2.1", 179)
        );
        assert_eq!(
            (p.local_address.as_str(), p.local_port),
            ("192.0.2.0", 60123)
        );
        assert_eq!((p.remote_as, p.uptime), (64500, 3600));
        assert!(p.is_up && p.is_enabled && p.multipath && p.remove_private_as);
        assert!(p.local_address_configured && !p.multihop && p.local_as_prepend);
        assert!(!p.suppress_4byte_as);
        assert_eq!(
            (p.import_policy.as_str(), p.export_policy.as_str()),
            ("IMPORT", "EXPORT")
        );
        assert_eq!(
            (p.holdtime, p.configured_holdtime, p.keepalive),
            (90, 90, 30)
        );
        assert_eq!(p.messages_queued_out, 3);
        assert_eq!(
            (p.received_prefix_count, p.advertised_prefix_count),
            (19, 4)
        );
        let fam = |name: &str| {
            let f = p
                .address_families
                .iter()
                .find(|f| f.family == name)
                .unwrap();
            (f.received_prefixes, f.accepted_prefixes, f.sent_prefixes)
        };
        assert_eq!(fam("ipv4"), (10, 9, 4));
        assert_eq!(fam("ipv6"), (2, 2, 0));
        assert_eq!(
            p.address_families.len(),
            2,
            "blue.inet.0 has no family in master"
        );
        assert_eq!(p.extra, [("peer-group".to_string(), "ebgp".to_string())]);

        let down = &global.peers[1];
        assert_eq!(down.remote_address, "2001:db8::2");
        assert_eq!((down.remote_port, down.local_port), (179, -1));
        assert!(!down.is_up && !down.is_enabled);
        assert_eq!(down.uptime, -1);
        assert!(down.suppress_4byte_as);
        assert_eq!(down.received_prefix_count, -1);
        assert!(
            down.address_families
                .iter()
                .all(|f| f.received_prefixes == -1)
        );

        let only = &global.peers[2];
        assert!(only.summary_only);
        assert_eq!(
            (only.remote_address.as_str(), only.uptime, only.remote_as),
            ("203.0.113.9", 42, 65546)
        );
    }

    #[test]
    fn without_instance_rpc_only_master_is_asked() {
        let dev = FakeDevice::new().with_reply("get-bgp-neighbor-informationmaster", MASTER_PEERS);
        let bgp = collect(&dev).unwrap();
        assert_eq!(bgp.instances[0].peers.len(), 2);
        assert_eq!(bgp.instances[0].peers[0].uptime, -1);
    }

    #[test]
    fn not_running_is_empty() {
        let dev = FakeDevice::new().with_reply(
            "get-bgp-neighbor-informationmaster",
            "<output>\n    BGP is not running\n</output>",
        );
        assert!(collect(&dev).unwrap().instances.is_empty());
    }

    #[test]
    fn malformed_counter_names_rpc_and_element() {
        let reply = "<bgp-information><bgp-peer><peer-address>192.0.2.1</peer-address><flap-count>many</flap-count></bgp-peer></bgp-information>";
        match parse_neighbors("master", reply) {
            Err(CollectError::Parse(e)) => {
                assert_eq!(e.rpc, NEIGHBORS);
                assert_eq!(e.element, "flap-count");
            }
            other => panic!("expected a parse error, got {other:?}"),
        }
        let reply = "<bgp-information><bgp-peer><peer-as>1</peer-as></bgp-peer></bgp-information>";
        assert!(
            matches!(parse_neighbors("master", reply), Err(CollectError::Parse(e)) if e.element == "peer-address")
        );
    }

    #[test]
    fn families_follow_napalm_table_names() {
        assert_eq!(family_of("inet.0", "master"), Some("ipv4"));
        assert_eq!(family_of("inet6.0", "master"), Some("ipv6"));
        assert_eq!(family_of("inetflow.0", "master"), Some("flow"));
        assert_eq!(family_of("blue.inet.0", "master"), None);
        assert_eq!(family_of("blue.inet.0", "blue"), Some("ipv4"));
        assert_eq!(family_of("blue.inet6.0", "blue"), Some("ipv6"));
        assert_eq!(family_of("bgp.evpn.0", "master"), None);
        assert_eq!(family_of("inet", "blue"), None);
    }

    #[test]
    fn requests_carry_the_instance() {
        assert_eq!(
            neighbor_request("blue"),
            "<get-bgp-neighbor-information><instance>blue</instance></get-bgp-neighbor-information>"
        );
        assert_eq!(
            nbfacts_sdk::testing::reply_file_name(&summary_request("blue")).as_deref(),
            Some("get-bgp-summary-informationblue.xml")
        );
    }
}
