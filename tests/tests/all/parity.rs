//! NAPALM parity through the shipped WebAssembly plugin: every NAPALM junos case under the
//! shared fixtures that has an `expected.json` is collected through the sandbox with a
//! `ReplayDevice` and compared with NAPALM's rules.

use std::path::Path;
use std::sync::Arc;

use nbfacts_host::{BoxFuture, CollectRequest, DeviceSession, ReplayDevice};
use nbfacts_sdk::{DeviceError, DeviceInfo, napalm};

/// NAPALM's test double does not strip namespaces, so PyEZ never sees elements that declare a
/// default namespace (`<bgp-option-information xmlns="…junos-routing">`); its expected results
/// reflect that. This device shows the plugin the replies as the double shows them to NAPALM.
struct NapalmDouble(ReplayDevice);

impl DeviceSession for NapalmDouble {
    fn netconf_rpc<'a>(&'a self, rpc: &'a str) -> BoxFuture<'a, Result<String, DeviceError>> {
        Box::pin(async move {
            self.0
                .netconf_rpc(rpc)
                .await
                .map(|reply| napalm::napalm_double_view(&reply))
        })
    }

    fn cli<'a>(&'a self, command: &'a str) -> BoxFuture<'a, Result<String, DeviceError>> {
        self.0.cli(command)
    }

    fn info(&self) -> DeviceInfo {
        self.0.info()
    }
}

use super::{load, tight_runtime};

/// Fixture folder → (collector, NAPALM getter).
const FOLDERS: &[(&str, &str, &str)] = &[
    ("arp_table", "arp", "get_arp_table"),
    ("bgp_neighbors", "bgp", "get_bgp_neighbors"),
    ("bgp_neighbors_detail", "bgp", "get_bgp_neighbors_detail"),
    ("facts", "inventory", "get_facts"),
    ("interfaces", "interfaces", "get_interfaces"),
    ("interfaces_ip", "interfaces", "get_interfaces_ip"),
    ("ipv6_neighbors", "ndp", "get_ipv6_neighbors_table"),
    ("lldp_neighbors", "lldp", "get_lldp_neighbors"),
    ("lldp_neighbors_detail", "lldp", "get_lldp_neighbors_detail"),
    ("mac_table", "ethernet_switching", "get_mac_address_table"),
    ("network_instances", "interfaces", "get_network_instances"),
    ("vlans", "interfaces", "get_vlans"),
];

/// `get_facts` fields that NAPALM takes from the replies; the others come from PyEZ facts
/// that the NAPALM cases do not contain.
const FACTS_FROM_REPLIES: &[&str] = &["vendor", "interface_list"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_napalm_junos_case_matches_through_the_sandbox() {
    let root = nbfacts_tests::fixtures_dir().join("dev").join("junos");
    let runtime = tight_runtime();
    let plugin = load(&runtime, nbfacts_tests::JUNOS, "builtin:junos").await;
    let mut cases = 0;
    let mut failures = Vec::new();
    for (folder, collector, getter) in FOLDERS {
        let dir = root.join(folder);
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.join("expected.json").exists())
            .collect();
        entries.sort();
        for case in entries {
            cases += 1;
            if let Err(diff) = check_case(&plugin, &case, collector, getter).await {
                failures.push(format!("{} ({getter}):\n{diff}", case.display()));
            }
        }
    }
    println!(
        "parity through wasm: {cases} cases, {} ok",
        cases - failures.len()
    );
    assert!(
        cases >= 18,
        "expected at least 18 NAPALM cases, found {cases}"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

async fn check_case(
    plugin: &nbfacts_host::Plugin,
    case: &Path,
    collector: &str,
    getter: &str,
) -> Result<(), String> {
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(case.join("expected.json")).unwrap())
            .unwrap();
    let device = Arc::new(NapalmDouble(ReplayDevice::new(case, "junos")));
    let facts = plugin
        .collect(CollectRequest::new(collector), device)
        .await
        .map_err(|e| format!("collection failed: {e}"))?;
    let mut actual = napalm::to_napalm(getter, &facts)?;
    let mut expected = expected;
    if getter == "get_facts" {
        for v in [&mut actual, &mut expected] {
            if let Some(obj) = v.as_object_mut() {
                obj.retain(|k, _| FACTS_FROM_REPLIES.contains(&k.as_str()));
            }
        }
    }
    let diffs = napalm::compare(&expected, &actual);
    if diffs.is_empty() {
        Ok(())
    } else {
        Err(diffs.join("\n"))
    }
}
