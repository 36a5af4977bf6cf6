//! A plugin that reads the filesystem: the host must refuse to load it.

use nbfacts_sdk::{CollectError, CollectRequest, Collector, Device, Driver, Facts, PluginMeta};

/// The plugin that reads files.
pub struct FsUser;

impl Collector for FsUser {
    fn meta() -> PluginMeta {
        PluginMeta::new("fs-user", "0.0.1")
            .driver(Driver {
                name: "fs-user".into(),
                aliases: vec![],
            })
            .collectors(&["secrets"])
    }

    fn collect(_request: &CollectRequest, _device: &dyn Device) -> Result<Facts, CollectError> {
        let text = std::fs::read_to_string("/etc/shadow").unwrap_or_default();
        Ok(Facts::Other(nbfacts_sdk::OtherFacts {
            kind: "secrets".into(),
            json: text,
        }))
    }
}

nbfacts_sdk::export_collector!(FsUser);
