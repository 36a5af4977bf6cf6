//! The inventory: NetBox devices that a plan's filter selects, with what a collection needs to
//! reach each one (management address, driver).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{NetBox, NetBoxError};

/// Which devices a plan targets. Every non-empty list must match (AND); values within one list
/// are alternatives (OR). An empty filter selects every device.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeviceFilter {
    /// Device names.
    pub devices: Vec<String>,
    /// Device ids.
    pub ids: Vec<u64>,
    /// Site slugs.
    pub sites: Vec<String>,
    /// Site group slugs.
    pub site_groups: Vec<String>,
    /// Region slugs.
    pub regions: Vec<String>,
    /// Location slugs.
    pub locations: Vec<String>,
    /// Device role slugs.
    pub roles: Vec<String>,
    /// Platform slugs.
    pub platforms: Vec<String>,
    /// Device type slugs.
    pub device_types: Vec<String>,
    /// Tenant slugs.
    pub tenants: Vec<String>,
    /// Tag slugs.
    pub tags: Vec<String>,
    /// Statuses (`active`, `planned`, …).
    pub statuses: Vec<String>,
}

impl DeviceFilter {
    /// NetBox query parameters for `/api/dcim/devices/`.
    pub fn query(&self) -> Vec<(String, String)> {
        let mut q = Vec::new();
        let mut add = |key: &str, values: &[String]| {
            q.extend(values.iter().map(|v| (key.to_string(), v.clone())));
        };
        add("name", &self.devices);
        add("site", &self.sites);
        add("site_group", &self.site_groups);
        add("region", &self.regions);
        add("location", &self.locations);
        add("role", &self.roles);
        add("platform", &self.platforms);
        add("device_type", &self.device_types);
        add("tenant", &self.tenants);
        add("tag", &self.tags);
        add("status", &self.statuses);
        q.extend(self.ids.iter().map(|id| ("id".to_string(), id.to_string())));
        q
    }
}

/// Which management address to connect to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AddressPreference {
    /// The primary IP (IPv4 first, then IPv6).
    #[default]
    Primary,
    /// The out-of-band IP.
    Oob,
    /// Primary, else out-of-band.
    PrimaryThenOob,
    /// Out-of-band, else primary.
    OobThenPrimary,
}

/// NetBox platform slug → nbfacts driver name. Unmapped platforms use their slug as the driver
/// name (so a platform `junos` needs no entry).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PlatformMap(pub BTreeMap<String, String>);

impl PlatformMap {
    /// The driver for `platform_slug`.
    pub fn driver_for(&self, platform_slug: &str) -> String {
        self.0
            .get(platform_slug)
            .cloned()
            .unwrap_or_else(|| platform_slug.to_string())
    }
}

/// One device to collect from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Target {
    /// NetBox device id.
    pub id: u64,
    /// Device name.
    pub name: String,
    /// Site id and slug.
    pub site_id: Option<u64>,
    /// Site slug.
    pub site: String,
    /// Platform slug (empty when none).
    pub platform: String,
    /// Driver name from the platform map (empty when no platform).
    pub driver: String,
    /// Management address without prefix length; `None` when the device has none.
    pub address: Option<String>,
    /// Device status value.
    pub status: String,
}

/// Resolves the devices `filter` selects into targets.
pub async fn resolve_targets(
    netbox: &NetBox,
    filter: &DeviceFilter,
    platforms: &PlatformMap,
    preference: AddressPreference,
) -> Result<Vec<Target>, NetBoxError> {
    let devices = netbox.list("/api/dcim/devices/", &filter.query()).await?;
    Ok(devices
        .iter()
        .filter_map(|d| target_from(d, platforms, preference))
        .collect())
}

/// Builds a target from a NetBox device representation (as in the API or a webhook body).
pub fn target_from(
    device: &Value,
    platforms: &PlatformMap,
    preference: AddressPreference,
) -> Option<Target> {
    let id = device.get("id")?.as_u64()?;
    let name = device
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let platform = device
        .pointer("/platform/slug")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let address_of = |key: &str| {
        device
            .pointer(&format!("/{key}/address"))
            .and_then(Value::as_str)
            .map(|a| a.split('/').next().unwrap_or(a).to_string())
    };
    let primary = || address_of("primary_ip4").or_else(|| address_of("primary_ip6"));
    let oob = || address_of("oob_ip");
    let address = match preference {
        AddressPreference::Primary => primary(),
        AddressPreference::Oob => oob(),
        AddressPreference::PrimaryThenOob => primary().or_else(oob),
        AddressPreference::OobThenPrimary => oob().or_else(primary),
    };
    Some(Target {
        id,
        name,
        site_id: device.pointer("/site/id").and_then(Value::as_u64),
        site: device
            .pointer("/site/slug")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        driver: if platform.is_empty() {
            String::new()
        } else {
            platforms.driver_for(&platform)
        },
        platform,
        address,
        status: device
            .pointer("/status/value")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn filter_builds_anded_query() {
        let f = DeviceFilter {
            sites: vec!["dc1".into()],
            roles: vec!["leaf".into(), "spine".into()],
            ids: vec![7],
            ..Default::default()
        };
        let q = f.query();
        assert!(q.contains(&("site".into(), "dc1".into())));
        assert!(q.contains(&("role".into(), "spine".into())));
        assert!(q.contains(&("id".into(), "7".into())));
    }

    #[test]
    fn target_prefers_addresses_as_configured() {
        let d = json!({
            "id": 3, "name": "edge1", "site": {"id": 1, "slug": "dc1"},
            "platform": {"slug": "juniper-junos"}, "status": {"value": "active"},
            "primary_ip4": null, "primary_ip6": {"address": "2001:db8::1/64"},
            "oob_ip": {"address": "192.0.2.9/24"}
        });
        let map = PlatformMap([("juniper-junos".to_string(), "junos".to_string())].into());
        let t = target_from(&d, &map, AddressPreference::Primary).unwrap();
        assert_eq!(t.address.as_deref(), Some("2001:db8::1"));
        assert_eq!(t.driver, "junos");
        let t = target_from(&d, &map, AddressPreference::OobThenPrimary).unwrap();
        assert_eq!(t.address.as_deref(), Some("192.0.2.9"));
        let t = target_from(&d, &PlatformMap::default(), AddressPreference::Primary).unwrap();
        assert_eq!(t.driver, "juniper-junos");
    }
}
