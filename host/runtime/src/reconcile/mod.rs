//! Reconciliation: collected facts + NetBox's current state → a [`ChangeSet`] → NetBox.
//!
//! Identity comes from NetBox's unique constraints and exact matching (interface names exactly,
//! IP addresses with their VRF, MAC addresses on their interface); an explicit NetBox id wins;
//! nothing is matched fuzzily. nbfacts only ever updates or deletes objects it owns (tagged
//! **Automatically Discovered**); facts that would touch other objects become journal entries or
//! skipped entries with a reason.

pub mod bgp;
pub mod changeset;
pub mod graphql;
pub mod interfaces;
pub mod inventory;
pub mod l2vpn;
pub mod lldp;
pub mod neighbors;
pub mod ospf;
pub mod writer;

use std::time::{SystemTime, UNIX_EPOCH};

use regex::Regex;
use serde_json::{Value, json};

pub use changeset::{ChangeSet, Counts, Entry, EntryState, Operation};
pub use writer::{Action, Outcome, Refused, Written, apply, apply_batched};

use crate::netbox::{CF_DISCOVERY_METHOD, CF_LAST_SEEN, NetBox, NetBoxError, TAG_SLUG, Target};

/// What a reconciler needs besides the facts.
#[derive(Debug, Clone)]
pub struct Context {
    /// NetBox, for reads (writes happen in the writer).
    pub netbox: NetBox,
    /// The device the facts came from.
    pub device: Target,
    /// Only interfaces whose name matches are considered (the plan's interface regex).
    pub interface_filter: Option<Regex>,
    /// The collection time, ISO 8601 UTC (written to `last seen`).
    pub now: String,
    /// NetBox state shared by every device of a run (read once per run).
    pub cache: std::sync::Arc<RunCache>,
    /// Other devices reconcile at the same time, so reads by value share requests with theirs
    /// (see [`NetBox::list`]); a reconciler then prefers those to a read of its own that is
    /// cheaper only for a device reconciled alone. Only a report over several devices does
    /// this, so it also means that nothing is written during the run.
    pub shared_reads: bool,
    /// How many devices the run reconciles (1 for a device on its own).
    pub run_devices: usize,
}

/// NetBox reads that do not depend on the device, made once per run: the prefix list (ARP,
/// NDP, OSPF) and netbox-routing's BGP scopes (BGP). (The installed plugins and object type ids
/// change even more rarely: the client keeps them, see [`NetBox::status`].)
///
/// A run reconciles each device once, and a device's BGP scopes are written only while its own
/// BGP facts are reconciled, so the scopes read at the start of a run stay true for every
/// device of the run.
#[derive(Debug, Default)]
pub struct RunCache {
    prefixes: tokio::sync::OnceCell<std::sync::Arc<Vec<Value>>>,
    bgp_scopes: tokio::sync::OnceCell<std::sync::Arc<Vec<Value>>>,
    /// RIR slug → whether it exists, as far as the run knows.
    rirs: std::sync::Mutex<std::collections::HashMap<String, bool>>,
    /// The IP address table by host part, when a report indexes it (see [`ips_by_host`]).
    ip_hosts: tokio::sync::OnceCell<Option<std::sync::Arc<IpIndex>>>,
}

/// Host part of an address → ids of the NetBox IP addresses with it (any mask, any VRF).
type IpIndex = std::collections::HashMap<std::net::IpAddr, Vec<u64>>;

/// Rows of the IP address table a report indexes per device it reconciles (see
/// [`ips_by_host`]): a `fields=id,address` row costs NetBox about 0.7 ms, a read by value
/// about 40–60 ms, and a device reads about half a request's worth of addresses by value.
const IP_INDEX_ROWS_PER_DEVICE: u64 = 25;

impl RunCache {
    /// Every NetBox prefix.
    pub async fn prefixes(
        &self,
        netbox: &NetBox,
    ) -> Result<std::sync::Arc<Vec<Value>>, NetBoxError> {
        self.prefixes
            .get_or_try_init(|| async {
                netbox
                    .list("/api/ipam/prefixes/", &[])
                    .await
                    .map(std::sync::Arc::new)
            })
            .await
            .cloned()
    }

    /// Every netbox-routing BGP scope, each with its router nested (the plugin filters scopes
    /// by router only, and routers by device: one read for the run instead of two per device).
    pub async fn bgp_scopes(
        &self,
        netbox: &NetBox,
    ) -> Result<std::sync::Arc<Vec<Value>>, NetBoxError> {
        self.bgp_scopes
            .get_or_try_init(|| async {
                netbox
                    .list("/api/plugins/routing/bgp/scope/", &[])
                    .await
                    .map(std::sync::Arc::new)
            })
            .await
            .cloned()
    }

    /// The IP address table by host part, read once (`fields=id,address`) if it has at most
    /// `max_rows` addresses; `None` if it has more.
    async fn ip_hosts(
        &self,
        netbox: &NetBox,
        max_rows: u64,
    ) -> Result<Option<std::sync::Arc<IpIndex>>, NetBoxError> {
        self.ip_hosts
            .get_or_try_init(|| async {
                let count = netbox
                    .get(
                        IPS,
                        &[
                            ("fields".to_string(), "id".to_string()),
                            ("limit".to_string(), "1".to_string()),
                        ],
                    )
                    .await?
                    .get("count")
                    .and_then(Value::as_u64)
                    .unwrap_or(u64::MAX);
                if count > max_rows {
                    return Ok(None);
                }
                let rows = netbox.list(IPS, &[projection(&["id", "address"])]).await?;
                let mut index = IpIndex::new();
                for row in &rows {
                    if let (Some(host), Some(id)) = (host_of(row), id_of(row)) {
                        index.entry(host).or_default().push(id);
                    }
                }
                Ok(Some(std::sync::Arc::new(index)))
            })
            .await
            .cloned()
    }

    /// Whether the RIR `slug` exists. The run remembers an RIR it found. It remembers one it
    /// did not find only when `nothing_created` (a report): elsewhere the first device that
    /// needs the RIR creates it, and the next one must find it.
    pub async fn rir_exists(
        &self,
        netbox: &NetBox,
        slug: &str,
        nothing_created: bool,
    ) -> Result<bool, NetBoxError> {
        let known = self.rirs.lock().ok().and_then(|m| m.get(slug).copied());
        if let Some(exists) = known {
            return Ok(exists);
        }
        let exists = !netbox
            .list(bgp::RIRS, &[("slug".into(), slug.to_string())])
            .await?
            .is_empty();
        if (exists || nothing_created)
            && let Ok(mut m) = self.rirs.lock()
        {
            m.insert(slug.to_string(), exists);
        }
        Ok(exists)
    }
}

impl Context {
    /// A context stamped with the current time.
    pub fn new(netbox: NetBox, device: Target, interface_filter: Option<Regex>) -> Self {
        Self {
            netbox,
            device,
            interface_filter,
            now: rfc3339(SystemTime::now()),
            cache: std::sync::Arc::default(),
            shared_reads: false,
            run_devices: 1,
        }
    }

    /// Shares `cache` with the other devices of the run.
    #[must_use]
    pub fn with_cache(mut self, cache: std::sync::Arc<RunCache>) -> Self {
        self.cache = cache;
        self
    }

    /// Sets [`Context::shared_reads`] and [`Context::run_devices`].
    #[must_use]
    pub fn with_run(mut self, shared_reads: bool, devices: usize) -> Self {
        self.shared_reads = shared_reads;
        self.run_devices = devices.max(1);
        self
    }

    /// True if the plan's interface regex admits `name`.
    pub fn wants_interface(&self, name: &str) -> bool {
        self.interface_filter
            .as_ref()
            .is_none_or(|re| re.is_match(name))
    }
}

/// IP address objects (read with [`IP_FIELDS`]).
const IPS: &str = "/api/ipam/ip-addresses/";

/// The host part of an IP address object's `address` (`10.0.0.1/31` → `10.0.0.1`).
fn host_of(ip: &Value) -> Option<std::net::IpAddr> {
    let address = ip.get("address")?.as_str()?;
    address.split('/').next()?.parse().ok()
}

/// The NetBox IP addresses (with [`IP_FIELDS`]) whose host part is one of `hosts`, whatever
/// their mask and VRF: NetBox's `address` filter for values without a mask.
///
/// A report over many devices (see [`Context::shared_reads`]) whose IP address table is small
/// for the run (at most `IP_INDEX_ROWS_PER_DEVICE` rows per device) reads the table's
/// addresses once and then only the matching objects, by id; a fleet report of 1,000
/// devices made 425 reads by value otherwise. Every other case reads by value.
pub async fn ips_by_host(ctx: &Context, hosts: &[String]) -> Result<Vec<Value>, ReconcileError> {
    if ctx.shared_reads
        && let Some(wanted) = hosts
            .iter()
            .map(|h| h.parse().ok())
            .collect::<Option<std::collections::HashSet<std::net::IpAddr>>>()
    {
        let max_rows = IP_INDEX_ROWS_PER_DEVICE.saturating_mul(ctx.run_devices as u64);
        if let Some(index) = ctx.cache.ip_hosts(&ctx.netbox, max_rows).await? {
            let mut ids: Vec<u64> = wanted
                .iter()
                .filter_map(|h| index.get(h))
                .flatten()
                .copied()
                .collect();
            ids.sort_unstable();
            ids.dedup();
            let ids: Vec<String> = ids.iter().map(u64::to_string).collect();
            // `list_any` makes no request for an empty list of values.
            let found = ctx
                .netbox
                .list_any(IPS, &[projection(IP_FIELDS)], "id", &ids)
                .await?;
            // An address changed since the index was read counts as it is now.
            return Ok(found
                .into_iter()
                .filter(|ip| host_of(ip).is_some_and(|h| wanted.contains(&h)))
                .collect());
        }
    }
    Ok(ctx
        .netbox
        .list_any(IPS, &[projection(IP_FIELDS)], "address", hosts)
        .await?)
}

/// A reconciler could not read NetBox.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReconcileError {
    /// Reading NetBox's state failed.
    #[error("cannot read NetBox state: {0}")]
    NetBox(#[from] NetBoxError),
    /// The facts are not what this reconciler handles.
    #[error("{0}")]
    Unsupported(String),
}

/// The tags list every created object carries.
pub fn owned_tags() -> Value {
    json!([{ "slug": TAG_SLUG }])
}

/// The tag in the form netbox-routing's API takes it. The plugin's serializers do not list
/// `tags`: NetBox drops them silently on a write and never returns them. NetBox's `add_tags` is
/// honoured though, and so is the `tag` filter, which is how ownership of plugin objects is
/// read (only for the objects a plan would change or delete).
pub fn add_owned_tags() -> Value {
    json!([{ "slug": TAG_SLUG }])
}

/// A netbox-routing object as NetBox returned it, in the form a rollback can recreate it from:
/// the plugin refuses `null` for its optional fields (absent is the same), and takes the tag
/// only as `add_tags`.
pub fn plugin_recreatable(object: &Value) -> Value {
    let mut before = object.clone();
    if let Some(map) = before.as_object_mut() {
        map.retain(|_, v| !v.is_null());
    }
    set_field(&mut before, "add_tags", add_owned_tags());
    before
}

/// True if a NetBox object carries nbfacts's tag.
pub fn is_owned(object: &Value) -> bool {
    object
        .get("tags")
        .and_then(Value::as_array)
        .is_some_and(|tags| {
            tags.iter()
                .any(|t| t.get("slug").and_then(Value::as_str) == Some(TAG_SLUG))
        })
}

/// Custom fields for a fact object.
pub fn fact_fields(method: &str, now: &str) -> Value {
    json!({ CF_DISCOVERY_METHOD: method, CF_LAST_SEEN: now })
}

/// Sets `key` on a JSON object (no-op on anything else).
pub fn set_field(object: &mut Value, key: &str, value: Value) {
    if let Some(map) = object.as_object_mut() {
        map.insert(key.to_string(), value);
    }
}

/// A `fields` filter: NetBox serialises only these fields of each object. A full object costs
/// NetBox several times the CPU of the few fields a reconciler compares (500 interfaces: 0.95 s
/// in full, 0.11 s for `id,name`; nested and related fields such as `tags` cost the most), and
/// NetBox's CPU is what bounds a fleet run. Reads whose objects may be deleted keep the full
/// object for rollback and read it again in full (see `interfaces`).
pub fn projection(fields: &[&str]) -> (String, String) {
    ("fields".to_string(), fields.join(","))
}

// One projection per endpoint for every reconciler that reads it, so that concurrent reads
// from different collectors still share requests (a projection is part of what a coalesced
// read is keyed by).

/// Interfaces: compared fields, ownership, MACs and VRF (`interfaces`); device, cable and
/// link peers (`lldp`).
pub const IFACE_FIELDS: &[&str] = &[
    "id",
    "name",
    "device",
    "description",
    "enabled",
    "mtu",
    "tags",
    "mac_addresses",
    "primary_mac_address",
    "vrf",
    "cable",
    "link_peers",
];
/// IP addresses: the address, its VRF and where it is assigned.
pub const IP_FIELDS: &[&str] = &[
    "id",
    "address",
    "vrf",
    "assigned_object_type",
    "assigned_object",
];
/// MAC addresses: ownership and the sighting custom fields.
pub const MAC_FIELDS: &[&str] = &["id", "mac_address", "tags", "custom_fields"];

/// Devices: name and site (`lldp`, by name), serial number (`inventory`, by id).
pub const DEVICE_FIELDS: &[&str] = &["id", "name", "site", "serial"];

/// `id` of a NetBox object.
pub fn id_of(object: &Value) -> Option<u64> {
    object.get("id").and_then(Value::as_u64)
}

/// Formats a time as ISO 8601 UTC (`2026-01-02T03:04:05Z`), the form NetBox accepts for
/// datetime custom fields.
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn rfc3339_formats_utc() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(1_767_323_045)),
            "2026-01-02T03:04:05Z"
        );
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
    }

    #[test]
    fn ownership_is_the_tag() {
        assert!(is_owned(&json!({"tags": [{"slug": TAG_SLUG}]})));
        assert!(!is_owned(&json!({"tags": [{"slug": "other"}]})));
        assert!(!is_owned(&json!({})));
    }
}
