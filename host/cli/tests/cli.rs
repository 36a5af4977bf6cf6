//! The `nbfacts` binary end to end, on the recorded device shipped in `examples/replay/edge1`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/replay/edge1")
}

fn nbfacts(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nbfacts"))
        .env("NBFACTS_HOME", home)
        .env_remove("NBFACTS_LOG")
        .args(args)
        .output()
        .expect("run nbfacts")
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn plugins_lists_the_builtin_junos_plugin() {
    let home = tempfile::tempdir().unwrap();
    let out = nbfacts(home.path(), &["plugins", "--json"]);
    assert!(out.status.success(), "{out:?}");
    let list = json(&out);
    let junos = &list[0];
    assert_eq!(junos["name"], "junos");
    assert_eq!(junos["wit_version"], "0.1.0");
    assert!(
        junos["collectors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "lldp")
    );
    // The compiled plugin is cached under NBFACTS_HOME.
    assert!(home.path().join("cache/plugins").is_dir());

    let out = nbfacts(home.path(), &["plugins"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("junos") && text.contains("netbox_facts.napalm.junos"),
        "{text}"
    );
}

#[test]
fn collect_json_from_a_recorded_device() {
    let home = tempfile::tempdir().unwrap();
    let dir = example();
    let out = nbfacts(
        home.path(),
        &[
            "collect",
            "--replay",
            dir.to_str().unwrap(),
            "--driver",
            "junos",
            "--collector",
            "arp",
            "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out);
    let arp = v["arp"].as_array().unwrap();
    assert_eq!(arp.len(), 24);
    assert_eq!(arp[0]["ip"], "203.0.113.1");
    assert_eq!(arp[0]["mac"], "02:00:00:40:00:00");
}

#[test]
fn napalm_format_is_keyed_by_getter() {
    let home = tempfile::tempdir().unwrap();
    let dir = example();
    let out = nbfacts(
        home.path(),
        &[
            "collect",
            "--replay",
            dir.to_str().unwrap(),
            "--driver",
            "netbox_facts.napalm.junos",
            "--collector",
            "lldp",
            "--collector",
            "interfaces",
            "--format",
            "napalm",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out);
    for getter in [
        "get_lldp_neighbors",
        "get_lldp_neighbors_detail",
        "get_interfaces",
        "get_interfaces_ip",
        "get_network_instances",
        "get_vlans",
    ] {
        assert!(v.get(getter).is_some(), "missing {getter} in {v}");
    }
    assert_eq!(
        v["get_lldp_neighbors"]["xe-0/0/0"][0]["hostname"],
        "peer0.example.net"
    );
    assert_eq!(v["get_interfaces"]["xe-0/0/0"]["speed"], 10000.0);
}

#[test]
fn table_output_is_readable() {
    let home = tempfile::tempdir().unwrap();
    let dir = example();
    let out = nbfacts(
        home.path(),
        &[
            "collect",
            "--replay",
            dir.to_str().unwrap(),
            "--driver",
            "junos",
            "--collector",
            "lldp",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("== lldp"), "{text}");
    assert!(text.contains("REMOTE_SYSTEM_NAME"), "{text}");
    // NAPALM's mocked-data layout has one detail reply for every interface.
    assert!(
        text.contains("xe-0/0/5") && text.contains("peer0.example.net"),
        "{text}"
    );
}

#[test]
fn unknown_driver_collector_pair_is_a_usage_error() {
    let home = tempfile::tempdir().unwrap();
    let dir = example();
    let out = nbfacts(
        home.path(),
        &[
            "collect",
            "--replay",
            dir.to_str().unwrap(),
            "--driver",
            "eos",
            "--collector",
            "arp",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("arp is not implemented for driver 'eos'. Supported drivers: [junos]"),
        "{err}"
    );
}

#[test]
fn bad_flags_are_usage_errors() {
    let home = tempfile::tempdir().unwrap();
    let out = nbfacts(home.path(), &["collect", "--driver", "junos"]);
    assert_eq!(out.status.code(), Some(2));
    let out = nbfacts(
        home.path(),
        &[
            "collect",
            "--replay",
            "/nonexistent",
            "--driver",
            "junos",
            "--collector",
            "arp",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_failing_getter_is_reported_while_the_others_print() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("get-arp-table-information.xml"),
        "<arp-table-information><arp-table-entry><mac-address>",
    )
    .unwrap();
    std::fs::copy(
        example().join("get-ipv6-nd-information.xml"),
        dir.path().join("get-ipv6-nd-information.xml"),
    )
    .unwrap();
    let out = nbfacts(
        home.path(),
        &[
            "collect",
            "--replay",
            dir.path().to_str().unwrap(),
            "--driver",
            "junos",
            "--collector",
            "arp",
            "--collector",
            "ndp",
            "--format",
            "napalm",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    let err = v["get_arp_table"]["error"].as_str().unwrap();
    assert!(err.contains("get-arp-table-information"), "{err}");
    assert_eq!(v["get_ipv6_neighbors_table"].as_array().unwrap().len(), 8);
}
