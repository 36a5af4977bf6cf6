//! # nbfacts-junos: the Juniper Junos vendor plugin
//!
//! Collects facts from Junos devices over NETCONF and returns them in the shapes of the
//! `nbfacts:collector` contract. The standard collectors reproduce NAPALM's junos getters
//! (NAPALM's own expected results are the test oracle); `l2_circuits`, `evpn` and `ospf` are
//! Junos-specific.
//!
//! | collector | RPCs |
//! |---|---|
//! | `inventory` | `get-software-information`, `get-chassis-inventory`, `get-route-engine-information`, `get-interface-information` |
//! | `interfaces` | `get-interface-information` (full and terse), routing-instance configuration, VLAN / bridge-domain tables |
//! | `ethernet_switching` | `get-ethernet-switching-table-information` (ELS and legacy), `get-bridge-mac-table` (MX) |
//! | `lldp` | `get-lldp-neighbors-information`, per-interface detail |
//! | `bgp` | `get-instance-information`, `get-bgp-neighbor-information`, `get-bgp-summary-information` per instance |
//! | `arp` / `ndp` | `get-arp-table-information`, `get-ipv6-nd-information` |
//!
//! Replies are parsed by local element name, so the `rpc-reply` wrapper, default namespaces,
//! `junos:` attributes and multi-routing-engine wrappers all parse the same way. A protocol that
//! is not running gives an empty result; a malformed reply gives a typed parse error naming the
//! RPC and the element.
#![deny(unsafe_code)]

pub mod common;
pub mod xml;

use nbfacts_sdk::{CollectError, CollectRequest, Collector, Device, Driver, Facts, PluginMeta};

/// The Junos plugin.
#[derive(Debug)]
pub struct Junos;

/// The collectors this plugin implements.
pub const COLLECTORS: &[&str] = &[];

impl Collector for Junos {
    fn meta() -> PluginMeta {
        PluginMeta::new("junos", env!("CARGO_PKG_VERSION"))
            .driver(Driver {
                name: "junos".into(),
                aliases: vec!["netbox_facts.napalm.junos".into(), "juniper_junos".into()],
            })
            .collectors(COLLECTORS)
            .capabilities(&["netconf"])
    }

    fn collect(request: &CollectRequest, device: &dyn Device) -> Result<Facts, CollectError> {
        let _ = device;
        match request.collector.as_str() {
            other => Err(nbfacts_sdk::not_supported(other)),
        }
    }
}

nbfacts_sdk::export_collector!(Junos);
