//! Driver dispatch: which plugin serves a (driver, collector) pair.

use std::collections::BTreeMap;
use std::sync::Arc;

use nbfacts_sdk::{CollectRequest, Facts};

use crate::device::DeviceSession;
use crate::error::{CollectionError, PluginError};
use crate::plugin::{CallTimes, Plugin};

/// Maps driver names and aliases to loaded plugins.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    plugins: Vec<Plugin>,
    /// driver name or alias (lower-case) → (index into `plugins`, canonical driver name)
    drivers: BTreeMap<String, (usize, String)>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `plugin` under every driver name and alias it declares. Fails without
    /// changing the registry if another plugin already claims one of them.
    pub fn add(&mut self, plugin: Plugin) -> Result<(), PluginError> {
        let index = self.plugins.len();
        let mut names = Vec::new();
        for driver in &plugin.info().drivers {
            names.push((driver.name.to_lowercase(), driver.name.clone()));
            for alias in &driver.aliases {
                names.push((alias.to_lowercase(), driver.name.clone()));
            }
        }
        for (name, _) in &names {
            if let Some((other, _)) = self.drivers.get(name) {
                let first = self
                    .plugins
                    .get(*other)
                    .map(Plugin::label)
                    .unwrap_or_default();
                return Err(PluginError::DuplicateDriver {
                    driver: name.clone(),
                    first,
                    second: plugin.label(),
                });
            }
        }
        for (name, canonical) in names {
            self.drivers.insert(name, (index, canonical));
        }
        self.plugins.push(plugin);
        Ok(())
    }

    /// The loaded plugins, in registration order.
    pub fn plugins(&self) -> &[Plugin] {
        &self.plugins
    }

    /// The canonical driver name for `driver` (which may be an alias), if any plugin serves it.
    pub fn canonical_driver(&self, driver: &str) -> Option<&str> {
        self.drivers
            .get(&driver.to_lowercase())
            .map(|(_, c)| c.as_str())
    }

    /// The plugin serving `collector` for `driver`.
    pub fn resolve(&self, driver: &str, collector: &str) -> Result<&Plugin, CollectionError> {
        let found = self
            .drivers
            .get(&driver.to_lowercase())
            .and_then(|(i, _)| self.plugins.get(*i))
            .filter(|p| p.has_collector(collector));
        found.ok_or_else(|| CollectionError::NotImplemented {
            collector: collector.to_string(),
            driver: driver.to_string(),
            supported: self.drivers_with(collector),
        })
    }

    /// Canonical names of the drivers that implement `collector`, sorted.
    pub fn drivers_with(&self, collector: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .plugins
            .iter()
            .filter(|p| p.has_collector(collector))
            .flat_map(|p| p.info().drivers.iter().map(|d| d.name.clone()))
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Runs `request` against `session` with the plugin that serves `driver`.
    pub async fn collect(
        &self,
        driver: &str,
        request: CollectRequest,
        session: Arc<dyn DeviceSession>,
    ) -> Result<Facts, CollectionError> {
        self.collect_timed(driver, request, session).await.0
    }

    /// [`Registry::collect`], and where the plugin call's time went (all zero when no plugin
    /// serves the pair).
    pub async fn collect_timed(
        &self,
        driver: &str,
        request: CollectRequest,
        session: Arc<dyn DeviceSession>,
    ) -> (Result<Facts, CollectionError>, CallTimes) {
        match self.resolve(driver, &request.collector) {
            Ok(plugin) => plugin.collect_timed(request, session).await,
            Err(e) => (Err(e), CallTimes::default()),
        }
    }
}
