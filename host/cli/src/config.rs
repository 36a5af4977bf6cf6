//! `$NBFACTS_HOME/config.toml`: NetBox, SSH, credentials profiles, platforms, limits, API.
//!
//! ```toml
//! [netbox]
//! url = "https://netbox.example.net"
//! token_env = "NETBOX_TOKEN"            # the token itself never goes in a file we write
//!
//! [ssh]
//! port = 830
//! host_key_policy = "strict"            # or "accept-new"
//! # known_hosts = "/etc/nbfacts/known_hosts"   (default: $NBFACTS_HOME/known_hosts)
//!
//! [credentials.default]
//! username = "netconf"
//! password = { env = "DEVICE_PASSWORD" } # or { file = "/run/secrets/netconf" }
//! # key_file = "/etc/nbfacts/id_ed25519"
//!
//! [platforms]                           # NetBox platform slug → driver
//! juniper-junos = "junos"
//!
//! [limits]
//! max_sessions = 64
//! max_per_profile = 16
//! workers = 4
//!
//! [api]
//! listen = "127.0.0.1:8080"
//! token_env = "NBFACTS_API_TOKEN"
//! webhook_secret_env = "NBFACTS_WEBHOOK_SECRET"
//! ```

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use nbfacts_host::host::HostConfig;
use nbfacts_host::job::ProfileConnectors;
use nbfacts_host::netbox::PlatformMap;
use nbfacts_host::session::{CredentialProfile, HostKeyPolicy, HostKeyVerifier, SessionOptions};
use serde::Deserialize;

use crate::home::Home;

/// The whole file; every section is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub netbox: NetBoxSection,
    #[serde(default)]
    pub ssh: SshSection,
    #[serde(default)]
    pub credentials: HashMap<String, CredentialProfile>,
    #[serde(default)]
    pub platforms: BTreeMap<String, String>,
    #[serde(default)]
    pub limits: LimitsSection,
    #[serde(default)]
    pub api: ApiSection,
}

/// `[netbox]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetBoxSection {
    pub url: Option<String>,
    pub token_env: Option<String>,
}

/// `[ssh]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SshSection {
    #[serde(default = "default_port")]
    pub port: u16,
    #[serde(default)]
    pub known_hosts: Option<PathBuf>,
    #[serde(default = "default_policy")]
    pub host_key_policy: String,
}

impl Default for SshSection {
    fn default() -> Self {
        Self {
            port: default_port(),
            known_hosts: None,
            host_key_policy: default_policy(),
        }
    }
}

fn default_port() -> u16 {
    830
}
fn default_policy() -> String {
    "strict".into()
}

/// `[limits]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSection {
    pub max_sessions: Option<usize>,
    pub max_per_profile: Option<usize>,
    pub workers: Option<usize>,
    pub retries: Option<u32>,
}

/// `[api]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSection {
    pub listen: Option<String>,
    pub token_env: Option<String>,
    pub webhook_secret_env: Option<String>,
    pub ignore_user: Option<String>,
}

/// Reads `home/config.toml` (defaults when absent).
pub fn load(home: &Home) -> anyhow::Result<Config> {
    load_from(&home.root().join("config.toml"))
}

fn load_from(path: &Path) -> anyhow::Result<Config> {
    match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text).with_context(|| format!("{}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

impl Config {
    /// Scheduler limits.
    pub fn host_config(&self) -> HostConfig {
        let d = HostConfig::default();
        HostConfig {
            max_sessions: self.limits.max_sessions.unwrap_or(d.max_sessions),
            max_per_profile: self.limits.max_per_profile.unwrap_or(d.max_per_profile),
            workers: self.limits.workers.unwrap_or(d.workers),
            retries: self.limits.retries.unwrap_or(d.retries),
            platforms: PlatformMap(self.platforms.clone()),
            ..d
        }
    }

    /// Connectors for plans, from the credentials profiles.
    pub fn connectors(&self, home: &Home) -> anyhow::Result<ProfileConnectors> {
        let policy = match self.ssh.host_key_policy.as_str() {
            "strict" => HostKeyPolicy::Strict,
            "accept-new" => HostKeyPolicy::AcceptNew,
            other => anyhow::bail!("[ssh] host_key_policy `{other}`: use strict or accept-new"),
        };
        let known_hosts = self
            .ssh
            .known_hosts
            .clone()
            .unwrap_or_else(|| home.known_hosts());
        Ok(ProfileConnectors::new(
            self.credentials.clone(),
            Arc::new(HostKeyVerifier::new(policy, known_hosts)),
            SessionOptions::default(),
            self.ssh.port,
            Arc::new(|var: &str| std::env::var(var).ok()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example_parses() {
        let doc: String = include_str!("config.rs")
            .lines()
            .skip_while(|l| !l.starts_with("//! ```toml"))
            .skip(1)
            .take_while(|l| !l.starts_with("//! ```"))
            .map(|l| l.trim_start_matches("//!").trim_start())
            .collect::<Vec<_>>()
            .join("\n");
        let config: Config = toml::from_str(&doc).unwrap();
        assert_eq!(config.ssh.port, 830);
        assert_eq!(config.credentials["default"].username, "netconf");
        assert_eq!(config.platforms["juniper-junos"], "junos");
        assert_eq!(config.host_config().max_sessions, 64);
    }
}
