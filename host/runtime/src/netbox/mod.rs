//! NetBox: the client, the one-time setup nbfacts needs (`nbfacts netbox init`), and the
//! device inventory that collection plans select from.
//!
//! Everything nbfacts creates carries the tag **Automatically Discovered**; facts objects carry
//! nbfacts's custom fields (names prefixed `nbfacts_` so they never collide with a site's own).

pub mod branch;
pub mod client;
pub mod init;
pub mod inventory;
pub mod triggers;

pub use branch::{Branch, BranchError, BranchOptions, ensure_branch};
pub use client::{NetBox, NetBoxConfig, NetBoxError, RequestCounts, Secret};
pub use init::{InitReport, InitStep, ensure_setup};
pub use inventory::{AddressPreference, DeviceFilter, PlatformMap, Target, resolve_targets};
pub use triggers::{ensure_custom_link, ensure_webhook, token_user};

/// Name of the tag on every object nbfacts creates.
pub const TAG_NAME: &str = "Automatically Discovered";
/// Slug of that tag.
pub const TAG_SLUG: &str = "automatically-discovered";
/// Custom field: how the object was discovered (`lldp`, `arp`, `evpn`, …).
pub const CF_DISCOVERY_METHOD: &str = "nbfacts_discovery_method";
/// Custom field: when nbfacts last saw the object (ISO 8601).
pub const CF_LAST_SEEN: &str = "nbfacts_last_seen";
/// Custom field: the interfaces (and VLAN) a MAC address was learned on.
pub const CF_SEEN_ON: &str = "nbfacts_seen_on";
/// Custom field: the IP addresses a MAC address answered for (ARP/NDP).
pub const CF_MAC_IPS: &str = "nbfacts_mac_ips";
