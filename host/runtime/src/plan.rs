//! Collection plans: what to collect, from which devices, how often and how to write it.
//!
//! Plans are kept in the [`Store`](crate::job::Store) and managed declaratively from TOML
//! (`nbfacts plan apply -f plans.toml`):
//!
//! ```toml
//! [[plan]]
//! name = "leafs-hourly"
//! collectors = ["interfaces", "lldp", "arp"]
//! interval = "1h"
//! mode = "apply"
//! priority = "high"
//! credentials = "netconf"
//! connection = "primary_then_oob"
//! interface_regex = "^(xe|et)-"
//! [plan.filter]
//! sites = ["dc1"]
//! roles = ["leaf"]
//! ```

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::job::Mode;
use crate::netbox::{AddressPreference, DeviceFilter};

/// Queue priority of a plan's runs.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize, Hash,
)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Runs after everything else.
    Low,
    /// The default.
    #[default]
    Default,
    /// Runs first.
    High,
}

/// One collection plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// Unique name.
    pub name: String,
    /// Collectors, run in this order on every device.
    pub collectors: Vec<String>,
    /// Which devices (AND of every non-empty list).
    #[serde(default)]
    pub filter: DeviceFilter,
    /// Driver to use instead of the platform's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    /// Which management address to connect to.
    #[serde(default = "default_connection", with = "connection_serde")]
    pub connection: AddressPreference,
    /// Credentials profile name.
    #[serde(default = "default_profile")]
    pub credentials: String,
    /// Run every this long (`30m`, `1h`, `1d`, or seconds); none: manual runs only.
    #[serde(
        default,
        with = "interval_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub interval: Option<Duration>,
    /// Scheduled runs happen only when enabled (manual runs always can).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Queue priority.
    #[serde(default)]
    pub priority: Priority,
    /// apply, report or branch.
    #[serde(default)]
    pub mode: Mode,
    /// Only interfaces matching this regular expression are considered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface_regex: Option<String>,
    /// Seconds for one RPC.
    #[serde(default = "default_rpc_timeout")]
    pub rpc_timeout: u64,
    /// Seconds a plugin may take for one collector.
    #[serde(default = "default_plugin_timeout")]
    pub plugin_timeout: u64,
}

fn yes() -> bool {
    true
}
fn default_profile() -> String {
    "default".into()
}
fn default_connection() -> AddressPreference {
    AddressPreference::PrimaryThenOob
}
fn default_rpc_timeout() -> u64 {
    120
}
fn default_plugin_timeout() -> u64 {
    120
}

impl Plan {
    /// A plan with the defaults.
    pub fn new(
        name: impl Into<String>,
        collectors: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self {
            name: name.into(),
            collectors: collectors.into_iter().map(Into::into).collect(),
            filter: DeviceFilter::default(),
            driver: None,
            connection: default_connection(),
            credentials: default_profile(),
            interval: None,
            enabled: true,
            priority: Priority::Default,
            mode: Mode::Apply,
            interface_regex: None,
            rpc_timeout: default_rpc_timeout(),
            plugin_timeout: default_plugin_timeout(),
        }
    }

    /// Checks what serde cannot: a name, collectors, a valid regex, a sane interval.
    pub fn validate(&self) -> Result<(), String> {
        if self.name.trim().is_empty() || self.name.contains('/') {
            return Err(format!(
                "plan name `{}` is empty or contains `/`",
                self.name
            ));
        }
        if self.collectors.is_empty() {
            return Err(format!("plan {}: no collectors", self.name));
        }
        if let Some(re) = &self.interface_regex {
            regex::Regex::new(re)
                .map_err(|e| format!("plan {}: interface_regex: {e}", self.name))?;
        }
        if self.interval.is_some_and(|i| i < Duration::from_secs(10)) {
            return Err(format!("plan {}: interval under 10 seconds", self.name));
        }
        Ok(())
    }
}

/// Plans as written in a TOML file: `[[plan]]` tables.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanFile {
    /// The plans.
    #[serde(default)]
    pub plan: Vec<Plan>,
}

/// Parses `30s`, `15m`, `1h`, `2d` or a number of seconds.
pub fn parse_interval(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("bad interval `{text}`: expected e.g. 30m, 1h, 1d"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("bad interval unit in `{text}`: use s, m, h or d")),
    };
    Ok(Duration::from_secs(secs))
}

/// Formats an interval the way [`parse_interval`] reads it.
pub fn format_interval(d: Duration) -> String {
    let s = d.as_secs();
    if s.is_multiple_of(86_400) {
        format!("{}d", s / 86_400)
    } else if s.is_multiple_of(3600) {
        format!("{}h", s / 3600)
    } else if s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

mod interval_serde {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Secs(u64),
        Text(String),
    }

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(&super::format_interval(*d)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        match Option::<Raw>::deserialize(d)? {
            None => Ok(None),
            Some(Raw::Secs(0)) => Ok(None),
            Some(Raw::Secs(n)) => Ok(Some(Duration::from_secs(n))),
            Some(Raw::Text(t)) if t.is_empty() || t == "0" => Ok(None),
            Some(Raw::Text(t)) => super::parse_interval(&t)
                .map(Some)
                .map_err(serde::de::Error::custom),
        }
    }
}

mod connection_serde {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::netbox::AddressPreference;

    pub fn serialize<S: Serializer>(p: &AddressPreference, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match p {
            AddressPreference::Primary => "primary",
            AddressPreference::Oob => "oob",
            AddressPreference::PrimaryThenOob => "primary_then_oob",
            AddressPreference::OobThenPrimary => "oob_then_primary",
        })
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<AddressPreference, D::Error> {
        let s = String::deserialize(d)?;
        match s.as_str() {
            "primary" => Ok(AddressPreference::Primary),
            "oob" => Ok(AddressPreference::Oob),
            "primary_then_oob" => Ok(AddressPreference::PrimaryThenOob),
            "oob_then_primary" => Ok(AddressPreference::OobThenPrimary),
            other => Err(serde::de::Error::custom(format!(
                "connection `{other}`: use primary, oob, primary_then_oob or oob_then_primary"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_parse_and_print() {
        assert_eq!(parse_interval("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_interval("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(parse_interval("1h").unwrap(), Duration::from_secs(3600));
        assert!(parse_interval("1w").is_err());
        assert_eq!(format_interval(Duration::from_secs(7200)), "2h");
    }

    #[test]
    fn plans_round_trip_through_json() {
        let mut p = Plan::new("leafs", ["lldp", "arp"]);
        p.interval = Some(Duration::from_secs(3600));
        p.filter.sites = vec!["dc1".into()];
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["interval"], "1h");
        assert_eq!(v["connection"], "primary_then_oob");
        let back: Plan = serde_json::from_value(v).unwrap();
        assert_eq!(back, p);
        assert!(back.validate().is_ok());
        assert!(Plan::new("x", Vec::<String>::new()).validate().is_err());
    }
}
