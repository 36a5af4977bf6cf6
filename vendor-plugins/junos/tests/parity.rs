//! Parity with NAPALM and with the other projects' recorded Junos replies, natively.
//!
//! The fixtures are third-party data and stay where they are: `$NBFACTS_FIXTURES` (default
//! `../shared/fixtures` next to the workspace). Both tests walk `dev/junos/<folder>/<case>/`
//! and report every failing case together, with its path and the differences.
//!
//! * `napalm_cases_match_expected_results`: every case with NAPALM's `expected.json` runs the
//!   collector for its folder against `FakeDevice::from_dir(case)` (NAPALM's file naming),
//!   converts with `napalm::to_napalm` and compares with `napalm::compare`. Replies are seen
//!   through `napalm::napalm_double_view`, as NAPALM's test double shows them to PyEZ (see
//!   there: elements in a default namespace are invisible to NAPALM in its own tests).
//!   `get_facts` compares only what NAPALM takes from the replies (`vendor`,
//!   `interface_list`); the rest are PyEZ facts from `facts.yml`, which no reply contains.
//! * `other_junos_xml_replies_parse`: every other `*.xml` reply in the standard collectors'
//!   folders (PyEZ, jsnapy, ncclient, junos_exporter, junos_upgrader, …: real replies with
//!   `rpc-reply` wrappers, namespaces, multi-RE wrappers, not-running outputs) is served under
//!   the RPC its payload answers and must parse; the number of items must match the reply,
//!   and where the source states values (`expected_from_test_asserts.json`) they must match.

// Test helpers outside `#[test]` functions: a missing or unreadable fixture is a test failure.
#![allow(clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use nbfacts_junos::Junos;
use nbfacts_sdk::testing::FakeDevice;
use nbfacts_sdk::{CollectRequest, Collector, Device, DeviceError, DeviceInfo, Facts, napalm};
use serde_json::Value;

fn fixtures() -> PathBuf {
    let root = std::env::var_os("NBFACTS_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/fixtures"
            ))
        });
    let junos = root.join("dev").join("junos");
    assert!(
        junos.is_dir(),
        "fixtures not found at {} (set NBFACTS_FIXTURES to the shared fixtures directory)",
        junos.display()
    );
    junos
}

fn case_dirs(folder: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(folder)
        .unwrap_or_else(|e| panic!("{}: {e}", folder.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// Fixture folder → NAPALM getter.
const NAPALM_FOLDERS: &[(&str, &str)] = &[
    ("arp_table", "get_arp_table"),
    ("bgp_neighbors", "get_bgp_neighbors"),
    ("bgp_neighbors_detail", "get_bgp_neighbors_detail"),
    ("facts", "get_facts"),
    ("interfaces", "get_interfaces"),
    ("interfaces_ip", "get_interfaces_ip"),
    ("ipv6_neighbors", "get_ipv6_neighbors_table"),
    ("lldp_neighbors", "get_lldp_neighbors"),
    ("lldp_neighbors_detail", "get_lldp_neighbors_detail"),
    ("mac_table", "get_mac_address_table"),
    ("network_instances", "get_network_instances"),
    ("vlans", "get_vlans"),
];

/// `get_facts` fields NAPALM takes from replies; the others are PyEZ facts.
const FACTS_FROM_REPLIES: &[&str] = &["vendor", "interface_list"];

/// A recorded case as NAPALM's junos test double presents it.
struct NapalmDouble(FakeDevice);

impl Device for NapalmDouble {
    fn netconf_rpc(&self, rpc: &str) -> Result<String, DeviceError> {
        self.0
            .netconf_rpc(rpc)
            .map(|reply| napalm::napalm_double_view(&reply))
    }

    fn cli(&self, command: &str) -> Result<String, DeviceError> {
        self.0.cli(command)
    }

    fn info(&self) -> DeviceInfo {
        self.0.info()
    }
}

fn collect(collector: &str, device: &dyn Device) -> Result<Facts, String> {
    Junos::collect(&CollectRequest::new(collector), device)
        .map_err(|e| format!("collection failed: {e:?}"))
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn napalm_case(case: &Path, getter: &str) -> Result<(), String> {
    let collector = napalm::collector_for(getter).ok_or("no collector for the getter")?;
    let mut expected = read_json(&case.join("expected.json"));
    let device = NapalmDouble(FakeDevice::from_dir(case));
    let facts = collect(collector, &device)?;
    let mut actual = napalm::to_napalm(getter, &facts)?;
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

#[test]
fn napalm_cases_match_expected_results() {
    let root = fixtures();
    let mut cases = 0;
    let mut per_getter: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    for (folder, getter) in NAPALM_FOLDERS {
        let dir = root.join(folder);
        if !dir.is_dir() {
            continue;
        }
        for case in case_dirs(&dir) {
            if !case.join("expected.json").is_file() {
                continue;
            }
            cases += 1;
            let tally = per_getter.entry(getter).or_default();
            tally.0 += 1;
            match napalm_case(&case, getter) {
                Ok(()) => tally.1 += 1,
                Err(diff) => failures.push(format!("{} ({getter}):\n{diff}", case.display())),
            }
        }
    }
    for (getter, (total, ok)) in &per_getter {
        println!("  {getter}: {ok}/{total}");
    }
    println!("parity: {cases} cases, {} ok", cases - failures.len());
    assert!(cases > 0, "no NAPALM cases under {}", root.display());
    assert!(
        failures.is_empty(),
        "{} of {cases} NAPALM cases differ:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// The standard collectors' folders and the collector each reply of theirs goes to.
const XML_FOLDERS: &[(&str, &str)] = &[
    ("arp_table", "arp"),
    ("bgp_neighbors", "bgp"),
    ("bgp_neighbors_detail", "bgp"),
    ("facts", "inventory"),
    ("interfaces", "interfaces"),
    ("interfaces_ip", "interfaces"),
    ("inventory", "inventory"),
    ("ipv6_neighbors", "ndp"),
    ("lldp_neighbors", "lldp"),
    ("lldp_neighbors_detail", "lldp"),
    ("mac_table", "ethernet_switching"),
    ("network_instances", "interfaces"),
    ("vlans", "interfaces"),
];

/// The first payload element of a reply, looking through `rpc-reply` and multi-RE wrappers.
fn payload_name(reply: &str) -> Result<String, String> {
    let doc = nbfacts_junos::xml::Doc::parse(reply).map_err(|e| format!("malformed XML: {e}"))?;
    Ok(nbfacts_junos::common::payloads(&doc)
        .first()
        .map(|p| p.el.name().to_string())
        .unwrap_or_default())
}

/// The reply-file key (`FakeDevice::with_reply`) under which `collector` asks for a reply
/// whose payload is `payload`; `None` for replies no collector asks for (PyEZ's `file show`,
/// virtual-chassis information).
fn rpc_key(collector: &str, payload: &str) -> Option<&'static str> {
    Some(match (collector, payload) {
        (_, "software-information") => "get-software-information",
        (_, "chassis-inventory") => "get-chassis-inventory",
        (_, "route-engine-information") => "get-route-engine-information",
        ("inventory" | "interfaces", "interface-information") => "get-interface-information",
        ("arp", "arp-table-information" | "output") => "get-arp-table-information",
        ("ndp", "ipv6-nd-information" | "output") => "get-ipv6-nd-information",
        ("bgp", "bgp-information" | "output") => "get-bgp-neighbor-informationmaster",
        ("bgp", "instance-information") => "get-instance-information",
        ("lldp", "lldp-neighbors-information" | "output") => "get-lldp-neighbors-information",
        ("ethernet_switching", "l2ald-rtb-macdb") => "get-bridge-mac-table",
        (
            "ethernet_switching",
            "l2ng-l2ald-rtb-macdb" | "ethernet-switching-table-information" | "output",
        ) => "get-ethernet-switching-table-information",
        ("interfaces", "vlan-information") => "get-vlan-information",
        ("interfaces", "l2ald-bridge-instance-information") => "get-bridge-instance-information",
        _ => return None,
    })
}

/// How many items the collector should find in `reply` (counted in the text).
fn items_in(collector: &str, key: &str, reply: &str) -> Option<usize> {
    let count = |tag: &str| {
        reply.matches(&format!("<{tag}>")).count() + reply.matches(&format!("<{tag} ")).count()
    };
    match (collector, key) {
        ("arp", _) => Some(count("arp-table-entry")),
        ("ndp", _) => Some(count("ipv6-nd-entry")),
        ("bgp", "get-bgp-neighbor-informationmaster") => Some(count("bgp-peer")),
        ("lldp", "get-lldp-neighbors-information") => Some(count("lldp-neighbor-information")),
        ("ethernet_switching", _) => Some(
            count("l2ng-l2ald-mac-entry-vlan")
                + count("l2ald-mac-entry")
                + count("mac-table-entry"),
        ),
        ("interfaces", "get-interface-information") => {
            Some(count("physical-interface") + count("logical-interface"))
        }
        _ => None,
    }
}

fn found(facts: &Facts) -> usize {
    match facts {
        Facts::Arp(e) => e.len(),
        Facts::Ndp(e) => e.len(),
        Facts::Bgp(b) => b.instances.iter().map(|i| i.peers.len()).sum(),
        Facts::Lldp(n) => n.len(),
        Facts::EthernetSwitching(e) => e.len(),
        Facts::Interfaces(i) => i.interfaces.len(),
        _ => 0,
    }
}

/// One collection over some of a case's replies.
struct Run {
    collector: &'static str,
    replies: Vec<(&'static str, PathBuf, String)>,
}

fn xml_case(case: &Path, collector: &'static str) -> Result<usize, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(case)
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .collect();
    files.sort();
    let mut runs: Vec<Run> = Vec::new();
    let mut problems = Vec::new();
    for file in files {
        let reply = std::fs::read_to_string(&file).map_err(|e| e.to_string())?;
        let payload = match payload_name(&reply) {
            Ok(p) => p,
            Err(e) => {
                problems.push(format!("{}: {e}", file.display()));
                continue;
            }
        };
        let Some(key) = rpc_key(collector, &payload) else {
            println!(
                "  skipped {} (<{payload}> is no {collector} reply)",
                file.display()
            );
            continue;
        };
        // Replies for different RPCs share one run; a second reply for the same RPC gets its own.
        match runs
            .iter_mut()
            .find(|r| r.replies.iter().all(|(k, _, _)| *k != key))
        {
            Some(run) => run.replies.push((key, file, reply)),
            None => runs.push(Run {
                collector,
                replies: vec![(key, file, reply)],
            }),
        }
    }
    let asserts = case.join("expected_from_test_asserts.json");
    let asserts = asserts.is_file().then(|| read_json(&asserts));
    let mut checked = 0;
    for run in &runs {
        let mut device = FakeDevice::new();
        for (key, _, reply) in &run.replies {
            device = device.with_reply(key, reply);
        }
        let facts = match collect(run.collector, &device) {
            Ok(f) => f,
            Err(e) => {
                let names: Vec<_> = run
                    .replies
                    .iter()
                    .map(|(_, f, _)| f.display().to_string())
                    .collect();
                problems.push(format!("{}: {e}", names.join(", ")));
                continue;
            }
        };
        checked += run.replies.len();
        for (key, file, reply) in &run.replies {
            if let Some(want) = items_in(run.collector, key, reply)
                && found(&facts) != want
            {
                problems.push(format!(
                    "{}: {want} items in the reply, {} collected",
                    file.display(),
                    found(&facts)
                ));
            }
        }
        if let Some(asserts) = &asserts {
            problems.extend(check_asserts(asserts, &facts, &device));
        }
    }
    if problems.is_empty() {
        Ok(checked)
    } else {
        Err(problems.join("\n"))
    }
}

/// Compares the values the source's own tests assert with what was collected.
fn check_asserts(asserts: &Value, facts: &Facts, device: &FakeDevice) -> Vec<String> {
    let mut problems = Vec::new();
    let mut expect = |what: &str, want: &Value, got: &str| {
        let want_text = match want {
            // PyEZ's placeholder for an unknown version.
            Value::String(s) if s == "0.0I0.0" => String::new(),
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        if want_text != got {
            problems.push(format!("{what}: expected {want_text:?}, got {got:?}"));
        }
    };
    let Some(asserts) = asserts.as_object() else {
        return vec!["expected_from_test_asserts.json is not an object".into()];
    };
    match facts {
        Facts::Inventory(inv) => {
            let f = &inv.facts;
            let per_re = |names: &[&str]| -> String {
                f.extra
                    .iter()
                    .find(|(k, _)| names.iter().any(|n| k == &format!("version-{n}")))
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            };
            let single_re = !f.extra.iter().any(|(k, _)| k.starts_with("version-"));
            for (key, want) in asserts {
                match key.as_str() {
                    "hostname" => expect("hostname", want, &f.hostname),
                    "model" => expect("model", want, &f.model),
                    "version" => expect("version", want, &f.os_version),
                    "serialnumber" => expect("serial", want, &f.serial_number),
                    "version_RE0" if single_re => expect("version_RE0", want, &f.os_version),
                    "version_RE0" => expect(
                        "version_RE0",
                        want,
                        &per_re(&["re0", "fpc0", "node0", "server0"]),
                    ),
                    "version_RE1" if single_re => expect("version_RE1", want, ""),
                    "version_RE1" => expect(
                        "version_RE1",
                        want,
                        &per_re(&["re1", "fpc1", "node1", "server1"]),
                    ),
                    _ => {}
                }
            }
        }
        Facts::Arp(entries) => {
            if let Some(n) = asserts.get("entries").and_then(Value::as_u64) {
                expect("entries", &Value::from(n), &entries.len().to_string());
            }
            if let Some(per) = asserts.get("per_interface").and_then(Value::as_object) {
                for (interface, n) in per {
                    let got = entries.iter().filter(|e| &e.interface == interface).count();
                    expect(&format!("entries on {interface}"), n, &got.to_string());
                }
            }
        }
        Facts::EthernetSwitching(_) => {
            if let Some(style) = asserts.get("switch_style").and_then(Value::as_str) {
                // The probe must settle on the table PyEZ's switch_style names.
                let rpc = match style {
                    "BRIDGE_DOMAIN" => "get-bridge-mac-table",
                    _ => "get-ethernet-switching-table-information",
                };
                let calls = device.calls();
                let answered = calls.first().map(String::as_str);
                if answered != Some(rpc) {
                    problems.push(format!(
                        "switch_style {style}: first answered RPC was {answered:?}"
                    ));
                }
            }
        }
        _ => {}
    }
    problems
}

#[test]
fn other_junos_xml_replies_parse() {
    let root = fixtures();
    let mut cases = 0;
    let mut replies = 0;
    let mut failures = Vec::new();
    for (folder, collector) in XML_FOLDERS {
        let dir = root.join(folder);
        if !dir.is_dir() {
            continue;
        }
        for case in case_dirs(&dir) {
            if case.join("expected.json").is_file() {
                continue; // a NAPALM case: the parity test covers it.
            }
            let has_xml = std::fs::read_dir(&case)
                .map(|d| {
                    d.flatten()
                        .any(|e| e.path().extension().is_some_and(|x| x == "xml"))
                })
                .unwrap_or(false);
            if !has_xml {
                continue;
            }
            cases += 1;
            match xml_case(&case, collector) {
                Ok(n) => replies += n,
                Err(e) => failures.push(format!("{} ({collector}):\n{e}", case.display())),
            }
        }
    }
    println!(
        "junos xml: {cases} cases ({replies} replies), {} ok",
        cases - failures.len()
    );
    assert!(cases > 0, "no XML cases under {}", root.display());
    assert!(
        failures.is_empty(),
        "{} of {cases} XML cases failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
