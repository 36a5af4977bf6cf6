//! The typed facts and errors of the `nbfacts:collector` contract, under their WIT names
//! (`mac-entry` is [`MacEntry`], `collect-error` is [`CollectError`], …).
//!
//! The field documentation is in `wit/collector.wit`; it is the contract.

pub use crate::__bindings::nbfacts::collector::types::{
    ArpEntry, Bgp, BgpFamily, BgpInstance, BgpPeer, CollectError, CollectRequest, DeviceError,
    DeviceFacts, DeviceInfo, Driver, Evpn, EvpnEsi, EvpnInstance, EvpnIpPrefix, EvpnL3Context,
    EvpnMac, EvpnVlan, Extra, Facts, Interface, InterfaceAddress, Interfaces, Inventory,
    InventoryItem, IpFamily, L2Circuit, L2Circuits, LldpNeighbor, MacEntry, NdpEntry,
    NetworkInstance, Ospf, OspfInterface, OspfNeighbor, OspfVersion, OtherFacts, ParseError,
    PluginInfo, RoutingEngine, RpcError, Vlan,
};
