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
//! | `l2_circuits` | `get-l2ckt-connection-information` |
//! | `evpn` | `get-evpn-instance-information` (extensive), `get-evpn-database-information`, `get-evpn-l3-context-information` (extensive), `get-evpn-ip-prefix-database-information` |
//! | `ospf` | `get-ospf-neighbor-information`, `get-ospf3-neighbor-information`, `get-ospf-interface-information`, `get-ospf3-interface-information` (detail, `instance all`) |
//!
//! Replies are parsed by local element name, so the `rpc-reply` wrapper, default namespaces,
//! `junos:` attributes and multi-routing-engine wrappers all parse the same way. A protocol that
//! is not running gives an empty result; a malformed reply gives a typed parse error naming the
//! RPC and the element.
//!
//! The plugin probes instead of trusting PyEZ-style facts: it asks for the ELS / VLAN form of
//! a table and falls back to the MX bridge form when the device answers with an rpc-error
//! ("syntax error"), and the same for the two per-interface LLDP RPCs. Each collector module
//! documents its RPCs and NAPALM's rules it reproduces; `nbfacts_sdk::napalm` turns the facts
//! into NAPALM's getter output, and `tests/parity.rs` checks them against NAPALM's expected
//! results.
//!
//! The Junos-specific collectors also accept Junos JSON (`| display json`, also when it comes
//! as the text of an `<output>` element): [`json`] loads it into the same tree, so one parser
//! serves both encodings.
//!
//! Parsing: replies are read into [`xml::Doc`], a small arena tree on local names; the MAC
//! table, which runs to tens of thousands of entries, is parsed in one streaming pass instead
//! ([`mac_table`]). [`generate`] builds large replies for benchmarks and the simulator.
//!
//! ```
//! use nbfacts_junos::Junos;
//! use nbfacts_sdk::{testing::FakeDevice, CollectRequest, Collector, Facts};
//!
//! let device = FakeDevice::new()
//!     .with_reply("get-arp-table-information", &nbfacts_junos::generate::arp_table(3));
//! let facts = Junos::collect(&CollectRequest::new("arp"), &device).unwrap();
//! let Facts::Arp(entries) = facts else { panic!("arp facts expected") };
//! assert_eq!(entries.len(), 3);
//! assert_eq!(entries[0].interface, "irb.100");
//! ```
#![deny(unsafe_code)]

pub mod arp;
pub mod bgp;
pub mod common;
pub mod evpn;
pub mod generate;
pub mod interfaces;
pub mod inventory;
pub mod json;
pub mod l2circuit;
pub mod lldp;
pub mod mac_table;
pub mod ospf;
pub mod xml;

use nbfacts_sdk::{CollectError, CollectRequest, Collector, Device, Driver, Facts, PluginMeta};

/// The Junos plugin.
#[derive(Debug)]
pub struct Junos;

/// The collectors this plugin implements.
pub const COLLECTORS: &[&str] = &[
    "inventory",
    "interfaces",
    "ethernet_switching",
    "lldp",
    "bgp",
    "arp",
    "ndp",
    "l2_circuits",
    "evpn",
    "ospf",
];

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
        match request.collector.as_str() {
            "inventory" => inventory::collect(device).map(Facts::Inventory),
            "interfaces" => interfaces::collect(device).map(Facts::Interfaces),
            "ethernet_switching" => mac_table::collect(device).map(Facts::EthernetSwitching),
            "lldp" => lldp::collect(device).map(Facts::Lldp),
            "bgp" => bgp::collect(device).map(Facts::Bgp),
            "arp" => arp::collect_arp(device).map(Facts::Arp),
            "ndp" => arp::collect_ndp(device).map(Facts::Ndp),
            "l2_circuits" => l2circuit::collect(device).map(Facts::L2Circuits),
            "evpn" => evpn::collect(device).map(Facts::Evpn),
            "ospf" => ospf::collect(device).map(Facts::Ospf),
            other => Err(nbfacts_sdk::not_supported(other)),
        }
    }
}

nbfacts_sdk::export_collector!(Junos);
// Each collection runs in a fresh instance and keeps most of what it allocates (the facts).
nbfacts_sdk::use_call_arena!();
