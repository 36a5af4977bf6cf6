//! Driver dispatch through the registry.

use nbfacts_host::{CollectRequest, CollectionError, PluginError, Registry};

use super::{arp_device, load, tight_runtime};

#[tokio::test]
async fn unserved_pair_names_the_supported_drivers() {
    let runtime = tight_runtime();
    let mut registry = Registry::new();
    registry
        .add(load(&runtime, nbfacts_tests::JUNOS, "builtin:junos").await)
        .unwrap();
    let err = registry
        .collect("eos", CollectRequest::new("arp"), arp_device())
        .await
        .unwrap_err();
    assert!(matches!(err, CollectionError::NotImplemented { .. }));
    assert_eq!(
        err.to_string(),
        "arp is not implemented for driver 'eos'. Supported drivers: [junos]"
    );
}

#[tokio::test]
async fn aliases_dispatch_to_the_same_plugin() {
    let runtime = tight_runtime();
    let mut registry = Registry::new();
    registry
        .add(load(&runtime, nbfacts_tests::JUNOS, "builtin:junos").await)
        .unwrap();
    let plugin = registry
        .resolve("netbox_facts.napalm.junos", "arp")
        .unwrap();
    assert_eq!(plugin.info().name, "junos");
    assert_eq!(
        registry.canonical_driver("NETBOX_FACTS.NAPALM.JUNOS"),
        Some("junos")
    );
}

#[tokio::test]
async fn a_driver_claimed_twice_is_refused() {
    let runtime = tight_runtime();
    let mut registry = Registry::new();
    registry
        .add(load(&runtime, nbfacts_tests::MISBEHAVE, "a").await)
        .unwrap();
    let err = registry
        .add(load(&runtime, nbfacts_tests::MISBEHAVE, "b").await)
        .unwrap_err();
    assert!(matches!(err, PluginError::DuplicateDriver { .. }), "{err}");
    assert_eq!(registry.plugins().len(), 1);
}

#[tokio::test]
async fn describe_reports_versions() {
    let runtime = tight_runtime();
    let plugin = load(&runtime, nbfacts_tests::JUNOS, "builtin:junos").await;
    let info = plugin.info();
    assert_eq!(info.wit_version, nbfacts_sdk::WIT_VERSION);
    assert_eq!(info.sdk_version, nbfacts_sdk::SDK_VERSION);
    assert_eq!(info.drivers[0].name, "junos");
}
