//! Connectors: how a job reaches the devices NetBox lists.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use super::Connector;
use crate::device::{DeviceSession, ReplayDevice};
use crate::netbox::Target;
use crate::session::{Credentials, HostKeyVerifier, NetconfSession, SessionOptions, SshTarget};

/// SSH/NETCONF to each device's management address (from NetBox).
#[derive(Debug, Clone)]
pub struct SshConnector {
    credentials: Arc<Credentials>,
    verifier: Arc<HostKeyVerifier>,
    options: SessionOptions,
    port: u16,
    overrides: HashMap<String, (String, u16)>,
}

impl SshConnector {
    /// Connects on `port` (830 for NETCONF over SSH) with `credentials`, verifying host keys
    /// with `verifier`.
    pub fn new(
        credentials: Arc<Credentials>,
        verifier: Arc<HostKeyVerifier>,
        options: SessionOptions,
        port: u16,
    ) -> Self {
        Self {
            credentials,
            verifier,
            options,
            port,
            overrides: HashMap::new(),
        }
    }

    /// Reaches the device named `device` at `host:port` instead of its NetBox address
    /// (jump ports, NAT, the simulator).
    #[must_use]
    pub fn with_override(mut self, device: &str, host: &str, port: u16) -> Self {
        self.overrides
            .insert(device.to_string(), (host.to_string(), port));
        self
    }
}

impl Connector for SshConnector {
    fn open(&self, target: &Target) -> Result<Arc<dyn DeviceSession>, String> {
        let (host, port) = match (self.overrides.get(&target.name), &target.address) {
            (Some((h, p)), _) => (h.clone(), *p),
            (None, Some(a)) => (a.clone(), self.port),
            (None, None) => {
                return Err(format!(
                    "device {} has no management address in NetBox (primary IPv4/IPv6 or \
                     out-of-band, as the plan's connection target says)",
                    target.name
                ));
            }
        };
        Ok(Arc::new(NetconfSession::new(
            SshTarget::new(&target.name, host, port),
            &target.driver,
            self.credentials.clone(),
            self.verifier.clone(),
            self.options.clone(),
        )))
    }
}

/// Recorded replies: device `NAME` answers from `ROOT/NAME/` (the `collect --replay` layout).
#[derive(Debug, Clone)]
pub struct ReplayConnector {
    root: PathBuf,
}

impl ReplayConnector {
    /// Devices answer from subdirectories of `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }
}

impl Connector for ReplayConnector {
    fn open(&self, target: &Target) -> Result<Arc<dyn DeviceSession>, String> {
        let dir = self.root.join(&target.name);
        if !dir.is_dir() {
            return Err(format!(
                "no recorded replies for device {}: {} is not a directory",
                target.name,
                dir.display()
            ));
        }
        Ok(Arc::new(ReplayDevice::new(dir, &target.driver)))
    }
}

/// Looks up an environment variable (the caller decides where from).
pub type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// SSH connectors per plan: the plan's credentials profile, its RPC timeout, shared host-key
/// verification. Secrets are resolved when a run starts, so a rotated password is picked up
/// without a restart.
pub struct ProfileConnectors {
    profiles: HashMap<String, crate::session::CredentialProfile>,
    verifier: Arc<HostKeyVerifier>,
    options: SessionOptions,
    port: u16,
    overrides: HashMap<String, (String, u16)>,
    env: EnvLookup,
}

impl std::fmt::Debug for ProfileConnectors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProfileConnectors")
            .field("profiles", &self.profiles.keys().collect::<Vec<_>>())
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl ProfileConnectors {
    /// Connectors using `profiles` (by name), verifying host keys with `verifier`. `env`
    /// looks up the environment variables profiles name (the library never reads the process
    /// environment itself).
    pub fn new(
        profiles: HashMap<String, crate::session::CredentialProfile>,
        verifier: Arc<HostKeyVerifier>,
        options: SessionOptions,
        port: u16,
        env: EnvLookup,
    ) -> Self {
        Self {
            profiles,
            verifier,
            options,
            port,
            overrides: HashMap::new(),
            env,
        }
    }

    /// Reaches device `device` at `host:port` instead of its NetBox address.
    #[must_use]
    pub fn with_override(mut self, device: &str, host: &str, port: u16) -> Self {
        self.overrides
            .insert(device.to_string(), (host.to_string(), port));
        self
    }
}

impl crate::host::ConnectorFactory for ProfileConnectors {
    fn connector(&self, plan: &crate::plan::Plan) -> Result<Arc<dyn Connector>, String> {
        let profile = self.profiles.get(&plan.credentials).ok_or_else(|| {
            let mut known: Vec<&String> = self.profiles.keys().collect();
            known.sort();
            format!(
                "plan {}: no credentials profile `{}` (configured: {known:?})",
                plan.name, plan.credentials
            )
        })?;
        let credentials = profile
            .resolve(&|var| (self.env)(var))
            .map_err(|e| format!("plan {}: {e}", plan.name))?;
        let mut options = self.options.clone();
        options.rpc_timeout = std::time::Duration::from_secs(plan.rpc_timeout.max(1));
        let mut connector = SshConnector::new(
            Arc::new(credentials),
            self.verifier.clone(),
            options,
            self.port,
        );
        for (device, (host, port)) in &self.overrides {
            connector = connector.with_override(device, host, *port);
        }
        Ok(Arc::new(connector))
    }
}
