//! The Junos-specific collectors (`l2_circuits`, `evpn`, `ospf`) against recorded replies and
//! replies written here.
//!
//! * Every case of the shared fixture folders `l2circuit`, `evpn`, `ospf_neighbors` and
//!   `ospf_interfaces` is run. The fixtures are read where they are (`NBFACTS_FIXTURES`, or
//!   `../shared/fixtures` next to the workspace); a missing fixture directory fails the tests.
//! * XML / JSON replies are checked against values read from the reply (the sources give no
//!   expected outputs for them). For the Junos JSON replies the expected values are taken from
//!   the JSON with `serde_json`, a path independent of the plugin's own reader.
//! * The genieparser cases hold CLI text, which a NETCONF plugin does not parse; their
//!   `expected_output` dicts are compared field by field with what the plugin makes of the
//!   same data rendered as the Junos XML reply (the neighbour dicts already use the XML element
//!   names; the interface dicts are mapped back to them).

// Test helpers outside `#[test]` functions (fixture access, the Python-literal reader) may
// fail loudly: a missing fixture or an unreadable expected output is a test failure.
#![allow(clippy::panic, clippy::unwrap_used, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};

use nbfacts_junos::{Junos, evpn, generate, l2circuit, ospf};
use nbfacts_sdk::testing::FakeDevice;
use nbfacts_sdk::{
    CollectError, CollectRequest, Collector, Evpn, Facts, L2Circuits, Ospf, OspfVersion,
};
use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// Fixture access
// ---------------------------------------------------------------------------------------------

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

fn case(folder: &str, name: &str) -> PathBuf {
    let dir = fixtures().join(folder).join(name);
    assert!(dir.is_dir(), "missing fixture case {}", dir.display());
    dir
}

fn read(folder: &str, name: &str, file: &str) -> String {
    let path = case(folder, name).join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn cases(folder: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixtures().join(folder))
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn collect(collector: &str, device: &FakeDevice) -> Result<Facts, CollectError> {
    Junos::collect(&CollectRequest::new(collector), device)
}

fn l2(device: &FakeDevice) -> L2Circuits {
    match collect("l2_circuits", device).unwrap() {
        Facts::L2Circuits(c) => c,
        other => panic!("l2 circuits expected, got {other:?}"),
    }
}

fn evpn_of(device: &FakeDevice) -> Evpn {
    match collect("evpn", device).unwrap() {
        Facts::Evpn(e) => e,
        other => panic!("evpn expected, got {other:?}"),
    }
}

fn ospf_of(device: &FakeDevice) -> Ospf {
    match collect("ospf", device).unwrap() {
        Facts::Ospf(o) => o,
        other => panic!("ospf expected, got {other:?}"),
    }
}

fn extra<'a>(extra: &'a [(String, String)], key: &str) -> Option<&'a str> {
    extra
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

// ---------------------------------------------------------------------------------------------
// Junos JSON walked with serde_json (the independent oracle for the JSON cases)
// ---------------------------------------------------------------------------------------------

/// Every object under key `name`, at any depth.
fn json_all<'a>(v: &'a Value, name: &str, out: &mut Vec<&'a Value>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                if k == name
                    && let Value::Array(items) = child
                {
                    out.extend(items.iter());
                }
                json_all(child, name, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| json_all(i, name, out)),
        _ => {}
    }
}

fn objects<'a>(v: &'a Value, name: &str) -> Vec<&'a Value> {
    let mut out = Vec::new();
    json_all(v, name, &mut out);
    out
}

/// The text of leaf `name` of a Junos JSON object (`""` when absent).
fn leaf(v: &Value, name: &str) -> String {
    v.get(name)
        .and_then(|l| l.get(0))
        .and_then(|l| l.get("data"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .replace("&gt;", ">")
        .replace("&lt;", "<")
}

fn leaf_attr(v: &Value, name: &str, attr: &str) -> Option<String> {
    v.get(name)?
        .get(0)?
        .get("attributes")?
        .get(attr)?
        .as_str()
        .map(str::to_string)
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

// ---------------------------------------------------------------------------------------------
// genieparser expected_output: a Python literal
// ---------------------------------------------------------------------------------------------

struct Py<'a> {
    s: &'a [u8],
    i: usize,
}

impl Py<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() {
            match self.s[self.i] {
                b' ' | b'\n' | b'\r' | b'\t' => self.i += 1,
                b'#' => {
                    while self.i < self.s.len() && self.s[self.i] != b'\n' {
                        self.i += 1;
                    }
                }
                _ => break,
            }
        }
    }

    fn value(&mut self) -> Value {
        self.ws();
        match self.s[self.i] {
            b'{' => {
                self.i += 1;
                let mut map = serde_json::Map::new();
                loop {
                    self.ws();
                    if self.s[self.i] == b'}' {
                        self.i += 1;
                        return Value::Object(map);
                    }
                    let key = match self.value() {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    self.ws();
                    assert_eq!(self.s[self.i], b':');
                    self.i += 1;
                    let v = self.value();
                    map.insert(key, v);
                    self.ws();
                    if self.s[self.i] == b',' {
                        self.i += 1;
                    }
                }
            }
            b'[' | b'(' => {
                let close = if self.s[self.i] == b'[' { b']' } else { b')' };
                self.i += 1;
                let mut items = Vec::new();
                loop {
                    self.ws();
                    if self.s[self.i] == close {
                        self.i += 1;
                        return Value::Array(items);
                    }
                    items.push(self.value());
                    self.ws();
                    if self.s[self.i] == b',' {
                        self.i += 1;
                    }
                }
            }
            q @ (b'"' | b'\'') => {
                self.i += 1;
                let mut out = Vec::new();
                while self.s[self.i] != q {
                    if self.s[self.i] == b'\\' {
                        self.i += 1;
                    }
                    out.push(self.s[self.i]);
                    self.i += 1;
                }
                self.i += 1;
                Value::String(String::from_utf8(out).unwrap())
            }
            _ => {
                let start = self.i;
                while self.i < self.s.len()
                    && !matches!(self.s[self.i], b',' | b'}' | b']' | b')' | b':')
                    && !self.s[self.i].is_ascii_whitespace()
                {
                    self.i += 1;
                }
                let word = std::str::from_utf8(&self.s[start..self.i]).unwrap();
                match word {
                    "True" => Value::Bool(true),
                    "False" => Value::Bool(false),
                    "None" => Value::Null,
                    n => serde_json::from_str(n).unwrap_or_else(|_| panic!("python token {n}")),
                }
            }
        }
    }
}

fn genie_expected(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    let start = text.find('{').unwrap();
    Py {
        s: &text.as_bytes()[start..],
        i: 0,
    }
    .value()
}

fn expected_file(dir: &Path) -> PathBuf {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with("_expected.py"))
        .unwrap_or_else(|| panic!("no *_expected.py in {}", dir.display()))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A genie dict whose keys are Junos element names, as XML (`#text` is the element's text).
fn render(name: &str, v: &Value, out: &mut String) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| render(name, i, out)),
        Value::Object(map) => {
            out.push_str(&format!("<{name}>"));
            for (k, child) in map {
                if k == "#text" {
                    out.push_str(&escape(child.as_str().unwrap()));
                } else {
                    render(k, child, out);
                }
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::String(s) => out.push_str(&format!("<{name}>{}</{name}>", escape(s))),
        other => out.push_str(&format!("<{name}>{other}</{name}>")),
    }
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Coverage: every case of the four folders is exercised by a test below
// ---------------------------------------------------------------------------------------------

#[test]
fn every_fixture_case_is_covered() {
    let covered: &[(&str, &[&str])] = &[
        (
            "l2circuit",
            &[
                "junos_upgrader-get_l2_circuit_info_json",
                "junos_upgrader-get_l2_circuit_info_xml",
            ],
        ),
        (
            "evpn",
            &[
                "junos_exporter-database_duplicate_and_l3context",
                "junos_exporter-instance_multi_engine",
                "junos_exporter-instance_multi_evi_mixed",
                "junos_exporter-ip_prefix_database",
                "suzieq-qfx-leaf01-evpnVni",
                "suzieq-qfx-leaf01-routes",
                "suzieq-qfx-spine01-evpnVni",
            ],
        ),
        (
            "ospf_neighbors",
            &[
                "genieparser-ShowOspfNeighbor-golden_output",
                "genieparser-ShowOspfNeighborDetail-golden_output",
                "genieparser-ShowOspfNeighborExtensive-golden_output",
                "junos_upgrader-get_ospf_neighbor_information",
                "junos_upgrader-get_ospf_neighbor_information_one_nei",
                "junos_upgrader-ospf_not_running",
                "suzieq-qfx-dcedge01-ospfNbr",
                "suzieq-qfx-spine01-ospfNbr",
            ],
        ),
        (
            "ospf_interfaces",
            &[
                "genieparser-ShowOspfInterface-golden_output",
                "genieparser-ShowOspfInterface-golden_output_interface",
                "genieparser-ShowOspfInterfaceBrief-golden_output",
                "genieparser-ShowOspfInterfaceBrief-golden_output_master",
                "genieparser-ShowOspfInterfaceDetail-golden_output",
                "genieparser-ShowOspfInterfaceDetail-golden_output_interface",
                "genieparser-ShowOspfInterfaceDetail-golden_output_interface_instance",
                "suzieq-qfx-leaf01-ospfIf",
            ],
        ),
    ];
    for (folder, names) in covered {
        assert_eq!(
            cases(folder),
            names.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            "the cases of {folder} changed: add tests for the new ones"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// l2_circuits
// ---------------------------------------------------------------------------------------------

const L2: &str = "get-l2ckt-connection-information";

#[test]
fn l2circuit_xml_fixture() {
    let reply = read(
        "l2circuit",
        "junos_upgrader-get_l2_circuit_info_xml",
        "get_l2_circuit_info_as_xml.xml",
    );
    let c = l2(&FakeDevice::new().with_reply(L2, &reply));
    assert_eq!(c.circuits.len(), 2);
    let first = &c.circuits[0];
    assert_eq!(first.neighbor, "10.10.10.10");
    assert_eq!(first.vc_id, 200);
    assert_eq!(first.local_interface, "lt-1/2/0.2323");
    assert_eq!(first.connection_type, "rmt");
    assert_eq!(first.status, "Up");
    assert_eq!(first.status_text, "up");
    assert_eq!(first.up_transitions, -1);
    assert_eq!(first.local_label, -1);
    let second = &c.circuits[1];
    assert_eq!(
        (
            second.neighbor.as_str(),
            second.vc_id,
            second.local_interface.as_str()
        ),
        ("11.11.11.11", 100, "lt-1/2/0.3")
    );
    assert_eq!((c.vc_up_count, c.vc_down_count), (-1, -1));
}

#[test]
fn l2circuit_json_fixture_inside_output() {
    let reply = read(
        "l2circuit",
        "junos_upgrader-get_l2_circuit_info_json",
        "get_l2_circuit_info_as_json.xml",
    );
    let c = l2(&FakeDevice::new().with_reply(L2, &reply));
    let body = &reply[reply.find('{').unwrap()..reply.rfind('}').unwrap() + 1];
    let oracle = json(body);
    let neighbors = objects(&oracle, "l2circuit-neighbor");
    let mut expected = Vec::new();
    for n in &neighbors {
        for conn in objects(n, "connection") {
            expected.push((
                leaf(n, "neighbor-address"),
                leaf(conn, "connection-id"),
                leaf(conn, "connection-type"),
                leaf(conn, "connection-status"),
            ));
        }
    }
    assert_eq!(expected.len(), 2);
    let got: Vec<_> = c
        .circuits
        .iter()
        .map(|x| {
            (
                x.neighbor.clone(),
                format!("{}(vc {})", x.local_interface, x.vc_id),
                x.connection_type.clone(),
                x.status.clone(),
            )
        })
        .collect();
    assert_eq!(got, expected);
    assert!(
        c.circuits
            .iter()
            .all(|x| x.status_text == "no outgoing label")
    );
}

const L2_FULL: &str = r#"<rpc-reply xmlns:junos="http://xml.juniper.net/junos/21.4R3/junos">
<l2circuit-connection-information xmlns="http://xml.juniper.net/junos/21.4R3/junos-routing" junos:style="extensive">
  <l2circuit-neighbor>
    <neighbor-address>192.0.2.2</neighbor-address>
    <connection heading="Interface                 Type  St     Time last up          # Up trans">
      <connection-id>ge-0/0/1.600(vc 600)</connection-id>
      <connection-type>rmt</connection-type>
      <connection-status>Up</connection-status>
      <last-change>Apr 20 08:37:43 2024</last-change>
      <up-transitions>3</up-transitions>
      <remote-pe>192.0.2.2</remote-pe>
      <control-word>Yes</control-word>
      <inbound-label>299776</inbound-label>
      <outbound-label>299840</outbound-label>
      <local-interface>
        <interface-name>ge-0/0/1.600</interface-name>
        <interface-status>Up</interface-status>
        <interface-encapsulation>VLAN</interface-encapsulation>
      </local-interface>
    </connection>
    <connection>
      <connection-id>ge-0/0/2.700(vc 700)</connection-id>
      <connection-type>rmt</connection-type>
      <connection-status>RD</connection-status>
    </connection>
  </l2circuit-neighbor>
  <connections-summary><vc-up-count>1</vc-up-count><vc-down-count>1</vc-down-count></connections-summary>
</l2circuit-connection-information>
<cli><banner>{master}</banner></cli>
</rpc-reply>"#;

#[test]
fn l2circuit_labels_transitions_and_summary() {
    let c = l2circuit::parse_l2circuits(L2_FULL).unwrap();
    assert_eq!(c.circuits.len(), 2);
    let x = &c.circuits[0];
    assert_eq!(x.last_change, "Apr 20 08:37:43 2024");
    assert_eq!(
        (x.up_transitions, x.local_label, x.remote_label),
        (3, 299_776, 299_840)
    );
    assert_eq!(extra(&x.extra, "interface-encapsulation"), Some("VLAN"));
    assert_eq!(extra(&x.extra, "control-word"), Some("Yes"));
    assert_eq!(c.circuits[1].status_text, "remote site signaled down");
    assert_eq!((c.vc_up_count, c.vc_down_count), (1, 1));
}

#[test]
fn l2circuit_multi_routing_engine_and_not_running() {
    let reply = "<rpc-reply><multi-routing-engine-results>\
        <multi-routing-engine-item><re-name>re0</re-name>\
        <l2circuit-connection-information><l2circuit-neighbor><neighbor-address>192.0.2.9</neighbor-address>\
        <connection><connection-id>ge-0/0/3.1(vc 1)</connection-id><connection-status>Dn</connection-status></connection>\
        </l2circuit-neighbor></l2circuit-connection-information></multi-routing-engine-item>\
        </multi-routing-engine-results></rpc-reply>";
    let c = l2circuit::parse_l2circuits(reply).unwrap();
    assert_eq!(c.circuits.len(), 1);
    assert_eq!(extra(&c.circuits[0].extra, "re-name"), Some("re0"));
    assert_eq!(c.circuits[0].status_text, "down");

    let out = l2circuit::parse_l2circuits("<output>l2circuit is not running</output>").unwrap();
    assert!(out.circuits.is_empty());
    // No reply at all: the fake device answers with an rpc-error, which means "not configured".
    assert!(l2(&FakeDevice::new()).circuits.is_empty());
}

#[test]
fn l2circuit_malformed_is_a_parse_error() {
    let bad_id = "<l2circuit-connection-information><l2circuit-neighbor><neighbor-address>192.0.2.1</neighbor-address>\
        <connection><connection-id>ge-0/0/1.600</connection-id></connection></l2circuit-neighbor></l2circuit-connection-information>";
    match collect("l2_circuits", &FakeDevice::new().with_reply(L2, bad_id)) {
        Err(CollectError::Parse(e)) => {
            assert_eq!(e.rpc, L2);
            assert_eq!(e.element, "connection-id");
        }
        other => panic!("parse error expected, got {other:?}"),
    }
    let bad_label = L2_FULL.replace("<inbound-label>299776", "<inbound-label>x");
    match l2circuit::parse_l2circuits(&bad_label) {
        Err(CollectError::Parse(e)) => assert_eq!(e.element, "inbound-label"),
        other => panic!("parse error expected, got {other:?}"),
    }
    assert!(matches!(
        l2circuit::parse_l2circuits("<l2circuit-connection-information><l2circuit-neighbor>"),
        Err(CollectError::Parse(_))
    ));
    assert!(matches!(
        l2circuit::parse_l2circuits("<route-information/>"),
        Err(CollectError::Parse(_))
    ));
    assert!(matches!(
        l2circuit::parse_l2circuits("{\"l2circuit-connection-information\": [{"),
        Err(CollectError::Parse(_))
    ));
}

#[test]
fn l2circuit_generator_round_trips() {
    let c = l2circuit::parse_l2circuits(&generate::l2circuit_connections(40)).unwrap();
    assert_eq!(c.circuits.len(), 40);
    assert_eq!(c.circuits[9].status, "OL");
    assert_eq!(c.circuits[9].remote_label, -1);
    assert_eq!(c.circuits[0].vc_id, 1000);
    assert_eq!(c.circuits[0].local_label, 299_776);
}

// ---------------------------------------------------------------------------------------------
// evpn
// ---------------------------------------------------------------------------------------------

const INSTANCES: &str = "get-evpn-instance-information";
const DATABASE: &str = "get-evpn-database-information";
const L3: &str = "get-evpn-l3-context-information";
const PREFIXES: &str = "get-evpn-ip-prefix-database-information";

#[test]
fn evpn_instances_multi_engine() {
    let reply = read(
        "evpn",
        "junos_exporter-instance_multi_engine",
        "multiEngineSample.xml",
    );
    let e = evpn_of(&FakeDevice::new().with_reply(INSTANCES, &reply));
    let got: Vec<_> = e
        .instances
        .iter()
        .map(|i| {
            (
                i.name.as_str(),
                i.route_distinguisher.as_str(),
                i.encapsulation.as_str(),
                extra(&i.extra, "re-name").unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("EVI-A", "65000:1", "vxlan", "fpc0"),
            ("EVI-B", "65000:2", "vxlan", "fpc1")
        ]
    );
    // The three other RPCs are unknown to this device: empty, not an error.
    assert!(e.macs.is_empty() && e.l3_contexts.is_empty() && e.ip_prefixes.is_empty());
}

#[test]
fn evpn_instances_mixed() {
    let reply = read(
        "evpn",
        "junos_exporter-instance_multi_evi_mixed",
        "multiEVIMixed.xml",
    );
    let instances = evpn::parse_instances(&reply).unwrap();
    assert_eq!(instances.len(), 2);
    let default = &instances[0];
    assert_eq!(default.name, "__default_evpn__");
    assert_eq!(default.route_distinguisher, "65000:0");
    assert_eq!(default.encapsulation, "");
    assert_eq!(default.neighbors, ["192.0.2.1"]);
    let b = &instances[1];
    assert_eq!(b.name, "EVI-B");
    assert_eq!(b.encapsulation, "vxlan");
    assert_eq!(b.neighbors, ["192.0.2.1", "192.0.2.2"]);
    assert_eq!(extra(&b.extra, "local-macs"), Some("50"));
    assert_eq!(extra(&b.extra, "remote-macs"), Some("20"));
    assert_eq!(extra(&b.extra, "evpn-router-id"), Some("192.0.2.10"));
    assert_eq!(
        extra(&b.extra, "evpn-instance-control-word"),
        Some("enabled")
    );
}

#[test]
fn evpn_database_and_l3_contexts() {
    let dir = "junos_exporter-database_duplicate_and_l3context";
    let macs = evpn::parse_database(&read("evpn", dir, "duplicatePopulated.xml")).unwrap();
    let got: Vec<_> = macs
        .iter()
        .map(|m| (m.instance.as_str(), m.vni, m.mac.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("EVI-A", 10001, "00:00:5E:00:53:01"),
            ("EVI-A", 10001, "00:00:5E:00:53:02"),
            ("EVI-B", 10002, "00:00:5E:00:53:11"),
        ]
    );
    assert!(
        evpn::parse_database(&read("evpn", dir, "duplicateEmpty.xml"))
            .unwrap()
            .is_empty()
    );
    let contexts = evpn::parse_l3_contexts(&read("evpn", dir, "l3ContextPopulated.xml")).unwrap();
    let got: Vec<_> = contexts
        .iter()
        .map(|c| {
            (
                c.name.as_str(),
                c.vni,
                c.encapsulation.as_str(),
                c.router_mac.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("vrf-a", 10001, "vxlan", "00:00:5E:00:53:42"),
            ("vrf-b", 20002, "mpls", "00:00:5E:00:53:43"),
        ]
    );
    assert_eq!(extra(&contexts[0].extra, "context-type"), Some("cfg"));
    assert!(
        evpn::parse_l3_contexts(&read("evpn", dir, "l3ContextEmpty.xml"))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn evpn_ip_prefix_database_xml() {
    let dir = "junos_exporter-ip_prefix_database";
    let e = evpn_of(&FakeDevice::new().with_reply(PREFIXES, &read("evpn", dir, "populated.xml")));
    let p = &e.ip_prefixes;
    let exported: Vec<_> = p
        .iter()
        .filter(|x| extra(&x.extra, "direction") == Some("ip-to-evpn"))
        .map(|x| x.prefix.as_str())
        .collect();
    assert_eq!(
        exported,
        [
            "192.0.2.0/24",
            "198.51.100.0/24",
            "203.0.113.0/24",
            "2001:db8::/32"
        ]
    );
    assert!(p.iter().all(|x| x.context == "vrf-a"));
    assert_eq!(extra(&p[0].extra, "table-description"), Some("IPv4->EVPN"));
    let received: Vec<_> = p
        .iter()
        .filter(|x| extra(&x.extra, "direction") == Some("evpn-to-ip"))
        .collect();
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].prefix, "192.0.2.0/24");
    assert_eq!(received[0].route_distinguisher, "65000:1");
    assert_eq!(received[0].vni, 10001);
    assert_eq!(received[0].next_hops, ["192.0.2.1", "192.0.2.2"]);
    assert_eq!(received[1].route_distinguisher, "65000:3");
    assert_eq!(
        extra(&received[1].extra, "adv-ip-route-status"),
        Some("Rejected")
    );
    assert!(
        evpn::parse_ip_prefixes(&read("evpn", dir, "emptyResponse.xml"))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn evpn_qfx_leaf_json_matches_the_json() {
    let dir = "suzieq-qfx-leaf01-evpnVni";
    let instance_text = read("evpn", dir, "show_evpn_instance_extensive.json");
    let l3_text = read("evpn", dir, "show_evpn_l3_context_extensive.json");
    let e = evpn_of(
        &FakeDevice::new()
            .with_reply(INSTANCES, &instance_text)
            .with_reply(L3, &l3_text),
    );
    let oracle = json(&instance_text);
    let want = objects(&oracle, "evpn-instance");
    assert_eq!(e.instances.len(), want.len());
    for (got, want) in e.instances.iter().zip(&want) {
        assert_eq!(got.name, leaf(want, "evpn-instance-name"));
        assert_eq!(got.route_distinguisher, leaf(want, "route-distinguisher"));
        assert_eq!(
            got.encapsulation,
            leaf(want, "evpn-encap-type").to_lowercase()
        );
        let vlans: Vec<(u16, u32)> = objects(want, "bridge-domain")
            .iter()
            .map(|bd| {
                (
                    leaf(bd, "vlan-id").parse().unwrap(),
                    leaf(bd, "domain-id").parse().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            got.vlans
                .iter()
                .map(|v| (v.vlan_id, v.vni))
                .collect::<Vec<_>>(),
            vlans
        );
        let neighbors: Vec<String> = objects(want, "evpn-neighbor-route-information")
            .iter()
            .map(|n| leaf(n, "evpn-neighbor-address"))
            .collect();
        assert_eq!(got.neighbors, neighbors);
        let esis: Vec<(String, String)> = objects(want, "evpn-esi")
            .iter()
            .map(|s| {
                (
                    leaf(s, "evpn-esi-value"),
                    objects(s, "evpn-esi-local-intf-information")
                        .first()
                        .map(|l| leaf(l, "evpn-esi-local-intf-name"))
                        .unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(
            got.esis
                .iter()
                .map(|s| (s.esi.clone(), s.interface.clone()))
                .collect::<Vec<_>>(),
            esis
        );
    }
    let default_switch = &e.instances[1];
    assert_eq!(default_switch.name, "default-switch");
    assert_eq!(
        default_switch
            .vlans
            .iter()
            .map(|v| (v.vlan_id, v.vni))
            .collect::<Vec<_>>(),
        [(10, 10), (30, 30)]
    );
    assert_eq!(default_switch.neighbors, ["10.0.0.12"]);
    assert_eq!(default_switch.esis.len(), 2);
    assert_eq!(
        extra(&default_switch.esis[0].extra, "evpn-esi-local-intf-status"),
        Some("Up/Forwarding")
    );

    let l3 = json(&l3_text);
    let want = objects(&l3, "evpn-l3-context");
    assert_eq!(e.l3_contexts.len(), want.len());
    for (got, want) in e.l3_contexts.iter().zip(&want) {
        assert_eq!(got.name, leaf(want, "context-name"));
        assert_eq!(got.route_distinguisher, leaf(want, "route-distinguisher"));
        assert_eq!(got.vni.to_string(), leaf(want, "context-vni"));
        assert_eq!(
            got.encapsulation,
            leaf(want, "context-encapsulation").to_lowercase()
        );
        assert_eq!(
            got.router_mac,
            leaf(want, "context-router-mac").to_uppercase()
        );
    }
    assert_eq!(e.l3_contexts[0].name, "evpn-vrf");
    assert_eq!(e.l3_contexts[0].vni, 999);
    assert_eq!(
        e.l3_contexts[0]
            .extra
            .iter()
            .filter(|(k, _)| k == "source-vtep")
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>(),
        ["10.0.0.11", "fe80::205:860f:fc71:ad00"]
    );
    // `show ethernet-switching vxlan-tunnel-end-point remote` is not one of the collector's
    // RPCs; the file must still be Junos JSON the reader accepts.
    let vtep = read(
        "evpn",
        dir,
        "show_ethernet_switching_vxlan_tunnel_end_point_remote.json",
    );
    let doc = nbfacts_junos::json::parse_json(&vtep).unwrap();
    assert_eq!(
        doc.find("remote-vtep-address").unwrap().text(),
        leaf(
            objects(&json(&vtep), "vxlan-remote-vtep-information")[0],
            "remote-vtep-address"
        )
    );
    assert_eq!(
        doc.find("vtep-logical-system-name").unwrap().text(),
        "<default>"
    );
}

#[test]
fn evpn_qfx_ip_prefix_json_matches_the_json() {
    let text = read(
        "evpn",
        "suzieq-qfx-leaf01-routes",
        "show_evpn_ip_prefix_database.json",
    );
    let got = evpn::parse_ip_prefixes(&text).unwrap();
    let oracle = json(&text);
    let mut want = Vec::new();
    for context in objects(&oracle, "evpn-pfxdb-l3-context") {
        let name = leaf(context, "context-name");
        for table in objects(context, "evpn-pfxdb-ip-table") {
            for entry in objects(table, "evpn-pfxdb-ip-entry") {
                want.push((
                    name.clone(),
                    leaf(entry, "entry-prefix"),
                    String::new(),
                    0u32,
                    Vec::<String>::new(),
                ));
            }
        }
        for table in objects(context, "evpn-pfxdb-evpn-ip-table") {
            for entry in objects(table, "evpn-pfxdb-evpn-ip-entry") {
                let advs = objects(entry, "evpn-pfxdb-evpn-ip-adv");
                want.push((
                    name.clone(),
                    leaf(entry, "entry-prefix"),
                    leaf(advs[0], "route-distinguisher"),
                    leaf(advs[0], "adv-vni").parse().unwrap(),
                    advs.iter().map(|a| leaf(a, "adv-bgp-nexthop")).collect(),
                ));
            }
        }
    }
    assert!(want.len() > 10, "{}", want.len());
    let got: Vec<_> = got
        .into_iter()
        .map(|p| {
            (
                p.context,
                p.prefix,
                p.route_distinguisher,
                p.vni,
                p.next_hops,
            )
        })
        .collect();
    assert_eq!(got, want);
}

#[test]
fn evpn_qfx_spine_without_evpn_is_empty() {
    let dir = "suzieq-qfx-spine01-evpnVni";
    let e = evpn_of(
        &FakeDevice::new()
            .with_reply(
                INSTANCES,
                &read("evpn", dir, "show_evpn_instance_extensive.json"),
            )
            .with_reply(
                L3,
                &read("evpn", dir, "show_evpn_l3_context_extensive.json"),
            ),
    );
    assert!(e.instances.is_empty() && e.l3_contexts.is_empty());
    let vtep = read(
        "evpn",
        dir,
        "show_ethernet_switching_vxlan_tunnel_end_point_remote.json",
    );
    let doc = nbfacts_junos::json::parse_json(&vtep).unwrap();
    assert_eq!(doc.len(), 1);
}

const DATABASE_INLINE: &str = r#"<rpc-reply xmlns:junos="http://xml.juniper.net/junos/21.4R3/junos">
<evpn-database-information xmlns="http://xml.juniper.net/junos/21.4R3/junos-routing">
  <evpn-database-instance>
    <instance-name>default-switch</instance-name>
    <mac-entry junos:style="brief">
      <vlan-id>10</vlan-id>
      <mac-address>00:00:5e:00:53:aa</mac-address>
      <active-source>xe-0/0/2.0</active-source>
      <timestamp>Jun 07 00:21:05</timestamp>
      <ip-address>10.1.10.101</ip-address>
      <ip-address>2001:0db8::65</ip-address>
    </mac-entry>
    <mac-entry junos:style="brief">
      <vni-id>30</vni-id>
      <mac-address>00:00:5e:00:53:bb</mac-address>
      <active-source>10.0.0.12</active-source>
    </mac-entry>
  </evpn-database-instance>
</evpn-database-information>
<cli><banner>{master:0}</banner></cli>
</rpc-reply>"#;

#[test]
fn evpn_macs_sources_addresses_and_vlan_vni_fill() {
    let instances = read(
        "evpn",
        "suzieq-qfx-leaf01-evpnVni",
        "show_evpn_instance_extensive.json",
    );
    let e = evpn_of(
        &FakeDevice::new()
            .with_reply(INSTANCES, &instances)
            .with_reply(DATABASE, DATABASE_INLINE),
    );
    assert_eq!(e.macs.len(), 2);
    let local = &e.macs[0];
    assert_eq!(local.instance, "default-switch");
    assert_eq!((local.vlan_id, local.vni), (10, 10));
    assert_eq!(local.mac, "00:00:5E:00:53:AA");
    assert_eq!(local.active_source, "xe-0/0/2.0");
    assert!(!local.remote);
    assert_eq!(local.ip_addresses, ["10.1.10.101", "2001:db8::65"]);
    assert_eq!(local.timestamp, "Jun 07 00:21:05");
    let remote = &e.macs[1];
    assert_eq!((remote.vlan_id, remote.vni), (30, 30));
    assert!(remote.remote);
    assert_eq!(remote.active_source, "10.0.0.12");
    assert_eq!(remote.timestamp, "");
}

#[test]
fn evpn_not_running_and_malformed() {
    let e = evpn_of(
        &FakeDevice::new()
            .with_reply(INSTANCES, "<output>EVPN is not running</output>")
            .with_reply(
                DATABASE,
                "{\"output\": [{\"data\": \"EVPN is not running\"}]}",
            ),
    );
    assert!(e.instances.is_empty() && e.macs.is_empty());

    let bad = DATABASE_INLINE.replace("<vni-id>30", "<vni-id>thirty");
    match collect("evpn", &FakeDevice::new().with_reply(DATABASE, &bad)) {
        Err(CollectError::Parse(e)) => {
            assert_eq!(e.rpc, DATABASE);
            assert_eq!(e.element, "vni-id");
        }
        other => panic!("parse error expected, got {other:?}"),
    }
    match evpn::parse_instances(
        "<evpn-instance-information><evpn-instance><route-distinguisher>1:1</route-distinguisher></evpn-instance></evpn-instance-information>",
    ) {
        Err(CollectError::Parse(e)) => assert_eq!(e.element, "evpn-instance-name"),
        other => panic!("parse error expected, got {other:?}"),
    }
    assert!(matches!(
        evpn::parse_database("<evpn-database-information><mac-entry>"),
        Err(CollectError::Parse(_))
    ));
    assert!(matches!(
        evpn::parse_l3_contexts("<bgp-information/>"),
        Err(CollectError::Parse(_))
    ));
}

#[test]
fn evpn_generators_round_trip() {
    let macs = evpn::parse_database(&generate::evpn_database(10_000)).unwrap();
    assert_eq!(macs.len(), 10_000);
    assert_eq!(macs.iter().filter(|m| m.remote).count(), 7_500);
    assert_eq!(macs[0].ip_addresses.len(), 1);
    assert_eq!((macs[5].vlan_id, macs[5].vni), (105, 10_105));
    let instances = evpn::parse_instances(&generate::evpn_instance(50, 4)).unwrap();
    assert_eq!(instances.len(), 1);
    let i = &instances[0];
    assert_eq!(i.vlans.len(), 50);
    assert_eq!((i.vlans[0].vlan_id, i.vlans[0].vni), (100, 10_100));
    assert_eq!(i.neighbors.len(), 4);
    assert_eq!(i.esis[0].mode, "all-active");
    assert_eq!(i.esis[0].interface, "ae0.0");
    assert_eq!(i.esis[0].remote_pes, ["100.127.0.1"]);
}

// ---------------------------------------------------------------------------------------------
// ospf
// ---------------------------------------------------------------------------------------------

const NBR: &str = "get-ospf-neighbor-information";
const NBR_ALL: &str = "get-ospf-neighbor-informationall";
const NBR3_ALL: &str = "get-ospf3-neighbor-informationall";
const IFS_ALL: &str = "get-ospf-interface-informationall";

#[test]
fn ospf_neighbors_xml_fixture_and_fallback_without_instance_all() {
    let reply = read(
        "ospf_neighbors",
        "junos_upgrader-get_ospf_neighbor_information",
        "get_ospf_neighbor_information.xml",
    );
    // The device knows only the plain RPC: `instance all` gets a syntax error, then the
    // plugin asks again without it.
    let device = FakeDevice::new().with_reply(NBR, &reply);
    let o = ospf_of(&device);
    assert_eq!(device.calls()[..2], [NBR_ALL, NBR]);
    assert_eq!(o.neighbors.len(), 2);
    let n = &o.neighbors[0];
    assert_eq!(n.instance, "master");
    assert_eq!(n.version, OspfVersion::V2);
    assert_eq!(n.neighbor_id, "66.59.146.166");
    assert_eq!(n.address, "172.19.48.165");
    assert_eq!(n.interface, "xe-0/3/1.50");
    assert_eq!(n.state, "Full");
    assert_eq!(n.area, "0.0.0.0");
    assert_eq!(n.priority, 128);
    assert_eq!(
        (n.dr_address.as_str(), n.bdr_address.as_str()),
        ("0.0.0.0", "0.0.0.0")
    );
    assert_eq!(
        (n.up_time, n.adjacency_time, n.dead_time),
        (1_363_226, 1_363_226, 31)
    );
    assert_eq!(extra(&n.extra, "options"), Some("0x52"));
    assert_eq!(extra(&n.extra, "topology-state"), Some("Bidirectional"));
    assert_eq!(o.neighbors[1].neighbor_id, "66.59.146.167");

    let one = read(
        "ospf_neighbors",
        "junos_upgrader-get_ospf_neighbor_information_one_nei",
        "get_ospf_neighbor_information_one_nei.xml",
    );
    let parsed = ospf::parse_neighbors(OspfVersion::V2, &one).unwrap();
    assert_eq!(parsed.len(), 1);
    assert_eq!(parsed[0], o.neighbors[0]);
}

#[test]
fn ospf_not_running_fixtures_are_empty() {
    let xml = read(
        "ospf_neighbors",
        "junos_upgrader-ospf_not_running",
        "get_ospf_nei_no_ospf_running.xml",
    );
    let json_reply = read(
        "ospf_neighbors",
        "suzieq-qfx-dcedge01-ospfNbr",
        "show_ospf_neighbor_instance_all_detail.json",
    );
    for reply in [&xml, &json_reply] {
        let o = ospf_of(
            &FakeDevice::new()
                .with_reply(NBR_ALL, reply)
                .with_reply(NBR3_ALL, reply)
                .with_reply(IFS_ALL, reply),
        );
        assert!(o.neighbors.is_empty() && o.interfaces.is_empty());
    }
    // Nothing answered at all (every RPC an rpc-error): empty as well.
    let o = ospf_of(&FakeDevice::new());
    assert!(o.neighbors.is_empty() && o.interfaces.is_empty());
}

#[test]
fn ospf_neighbors_qfx_json_instance_all_matches_the_json() {
    let text = read(
        "ospf_neighbors",
        "suzieq-qfx-spine01-ospfNbr",
        "show_ospf_neighbor_instance_all_detail.json",
    );
    let o = ospf_of(&FakeDevice::new().with_reply(NBR_ALL, &text));
    let oracle = json(&text);
    let mut want = Vec::new();
    for instance in objects(&oracle, "ospf-instance-neighbor") {
        let name = leaf(instance, "ospf-instance-name");
        for n in objects(instance, "ospf-neighbor") {
            want.push((
                name.clone(),
                leaf(n, "neighbor-id"),
                leaf(n, "neighbor-address"),
                leaf(n, "interface-name"),
                leaf(n, "ospf-neighbor-state"),
                leaf(n, "ospf-area"),
                leaf(n, "neighbor-priority").parse::<i32>().unwrap(),
                leaf(n, "activity-timer").parse::<i64>().unwrap(),
                leaf_attr(n, "neighbor-up-time", "junos:seconds")
                    .unwrap()
                    .parse::<i64>()
                    .unwrap(),
                leaf_attr(n, "neighbor-adjacency-time", "junos:seconds")
                    .unwrap()
                    .parse::<i64>()
                    .unwrap(),
            ));
        }
    }
    assert_eq!(want.len(), 4);
    let got: Vec<_> = o
        .neighbors
        .iter()
        .map(|n| {
            (
                n.instance.clone(),
                n.neighbor_id.clone(),
                n.address.clone(),
                n.interface.clone(),
                n.state.clone(),
                n.area.clone(),
                n.priority,
                n.dead_time,
                n.up_time,
                n.adjacency_time,
            )
        })
        .collect();
    assert_eq!(got, want);
    assert_eq!(o.neighbors[0].up_time, 27_082);
}

/// genie's neighbour dicts use the XML element names: render them as the reply, parse, and
/// compare every field genie gives.
#[test]
fn ospf_neighbors_match_genie_expected_outputs() {
    for name in [
        "genieparser-ShowOspfNeighbor-golden_output",
        "genieparser-ShowOspfNeighborDetail-golden_output",
        "genieparser-ShowOspfNeighborExtensive-golden_output",
    ] {
        let dir = case("ospf_neighbors", name);
        let expected = genie_expected(&expected_file(&dir));
        let info = &expected["ospf-neighbor-information"];
        let mut xml = String::from("<rpc-reply>");
        render("ospf-neighbor-information", info, &mut xml);
        xml.push_str("</rpc-reply>");
        let got = ospf::parse_neighbors(OspfVersion::V2, &xml).unwrap();
        let want = info["ospf-neighbor"].as_array().unwrap();
        assert_eq!(got.len(), want.len(), "{name}");
        for (g, w) in got.iter().zip(want) {
            let field = |k: &str| w.get(k).map(text_of).unwrap_or_default();
            assert_eq!(g.address, field("neighbor-address"), "{name}");
            assert_eq!(g.interface, field("interface-name"), "{name}");
            assert_eq!(g.state, field("ospf-neighbor-state"), "{name}");
            assert_eq!(g.neighbor_id, field("neighbor-id"), "{name}");
            assert_eq!(g.priority.to_string(), field("neighbor-priority"), "{name}");
            assert_eq!(g.dead_time.to_string(), field("activity-timer"), "{name}");
            assert_eq!(g.area, field("ospf-area"), "{name}");
            assert_eq!(g.dr_address, field("dr-address"), "{name}");
            assert_eq!(g.bdr_address, field("bdr-address"), "{name}");
            match w.get("neighbor-up-time") {
                Some(up) => {
                    let text = up["#text"].as_str().unwrap();
                    assert_eq!(Some(g.up_time), ospf::duration(text), "{name}");
                    assert!(g.up_time > 0);
                }
                None => assert_eq!(g.up_time, -1),
            }
        }
        if name.contains("Detail") {
            // 3w0d 16:50:35
            assert_eq!(got[0].up_time, 3 * 7 * 86_400 + 16 * 3600 + 50 * 60 + 35);
            assert_eq!(
                got[1].adjacency_time,
                3 * 7 * 86_400 + 2 * 86_400 + 3 * 3600 + 12 * 60 + 15
            );
        }
    }
}

#[test]
fn ospf_interfaces_qfx_json_matches_the_json() {
    let text = read(
        "ospf_interfaces",
        "suzieq-qfx-leaf01-ospfIf",
        "show_ospf_interface_detail.json",
    );
    let o = ospf_of(&FakeDevice::new().with_reply("get-ospf-interface-information", &text));
    let oracle = json(&text);
    let want: Vec<_> = objects(&oracle, "ospf-interface")
        .iter()
        .map(|i| {
            (
                leaf(i, "interface-name"),
                leaf(i, "ospf-interface-state"),
                leaf(i, "ospf-area"),
                leaf(i, "interface-cost").parse::<i64>().unwrap(),
                leaf(i, "interface-type"),
                i.get("passive").is_some(),
                leaf(i, "dr-id"),
                leaf(i, "bdr-id"),
                leaf(i, "neighbor-count").parse::<i64>().unwrap(),
            )
        })
        .collect();
    assert_eq!(want.len(), 3);
    let got: Vec<_> = o
        .interfaces
        .iter()
        .map(|i| {
            (
                i.name.clone(),
                i.state.clone(),
                i.area.clone(),
                i.cost,
                i.interface_type.clone(),
                i.passive,
                i.dr_id.clone(),
                i.bdr_id.clone(),
                i.neighbor_count,
            )
        })
        .collect();
    assert_eq!(got, want);
    assert!(o.interfaces[0].passive, "lo0.0 is passive");
    assert!(!o.interfaces[1].passive);
    assert_eq!(o.interfaces[1].instance, "master");
    assert_eq!(extra(&o.interfaces[1].extra, "mtu"), Some("9200"));
    // `show ospf overview` is not one of the collector's RPCs; it must still load.
    let overview = read(
        "ospf_interfaces",
        "suzieq-qfx-leaf01-ospfIf",
        "show_ospf_overview.json",
    );
    let doc = nbfacts_junos::json::parse_json(&overview).unwrap();
    assert_eq!(doc.find("ospf-router-id").unwrap().text(), "10.0.0.11");
}

/// genie's interface dicts (`instance/areas/interfaces`) mapped back to the Junos elements.
fn genie_interfaces_xml(expected: &Value) -> String {
    let map = [
        ("state", "ospf-interface-state"),
        ("dr_id", "dr-id"),
        ("bdr_id", "bdr-id"),
        ("nbrs_count", "neighbor-count"),
        ("type", "interface-type"),
        ("address", "interface-address"),
        ("mask", "address-mask"),
        ("mtu", "mtu"),
        ("cost", "interface-cost"),
        ("adj_count", "adj-count"),
        ("hello", "hello-interval"),
        ("dead", "dead-interval"),
        ("rexmit", "retransmit-interval"),
        ("ospf_stub_type", "ospf-stub-type"),
        ("authentication_type", "authentication-type"),
    ];
    let mut xml = String::from("<rpc-reply><ospf-interface-information-all>");
    for (instance, body) in expected["instance"].as_object().unwrap() {
        xml.push_str(&format!(
            "<ospf-instance-interface><ospf-instance-name>{instance}</ospf-instance-name>"
        ));
        for (area, area_body) in body["areas"].as_object().unwrap() {
            for (name, fields) in area_body["interfaces"].as_object().unwrap() {
                xml.push_str(&format!(
                    "<ospf-interface><interface-name>{name}</interface-name><ospf-area>{area}</ospf-area>"
                ));
                for (genie, element) in map {
                    if let Some(v) = fields.get(genie) {
                        xml.push_str(&format!("<{element}>{}</{element}>", escape(&text_of(v))));
                    }
                }
                xml.push_str("</ospf-interface>");
            }
        }
        xml.push_str("</ospf-instance-interface>");
    }
    xml.push_str("</ospf-interface-information-all></rpc-reply>");
    xml
}

#[test]
fn ospf_interfaces_match_genie_expected_outputs() {
    for name in cases("ospf_interfaces")
        .into_iter()
        .filter(|n| n.starts_with("genieparser-"))
    {
        let dir = case("ospf_interfaces", &name);
        let expected = genie_expected(&expected_file(&dir));
        let xml = genie_interfaces_xml(&expected);
        let device = FakeDevice::new().with_reply(IFS_ALL, &xml);
        let got = ospf_of(&device).interfaces;
        let mut n = 0;
        for (instance, body) in expected["instance"].as_object().unwrap() {
            for (area, area_body) in body["areas"].as_object().unwrap() {
                for (ifname, fields) in area_body["interfaces"].as_object().unwrap() {
                    let g = got
                        .iter()
                        .find(|g| &g.name == ifname && &g.instance == instance)
                        .unwrap_or_else(|| panic!("{name}: {ifname} missing"));
                    n += 1;
                    assert_eq!(&g.area, area, "{name}");
                    let field = |k: &str| fields.get(k).map(text_of);
                    assert_eq!(Some(g.state.clone()), field("state"), "{name}");
                    assert_eq!(Some(g.dr_id.clone()), field("dr_id"), "{name}");
                    assert_eq!(Some(g.bdr_id.clone()), field("bdr_id"), "{name}");
                    assert_eq!(
                        Some(g.neighbor_count.to_string()),
                        field("nbrs_count"),
                        "{name}"
                    );
                    match field("cost") {
                        Some(cost) => assert_eq!(g.cost.to_string(), cost, "{name}"),
                        None => assert_eq!(g.cost, -1, "{name}"),
                    }
                    match field("type") {
                        Some(t) => assert_eq!(g.interface_type, t, "{name}"),
                        None => assert_eq!(g.interface_type, "", "{name}"),
                    }
                    for (genie, key) in [
                        ("address", "interface-address"),
                        ("mtu", "mtu"),
                        ("hello", "hello-interval"),
                        ("dead", "dead-interval"),
                    ] {
                        assert_eq!(
                            extra(&g.extra, key).map(str::to_string),
                            field(genie),
                            "{name}: {genie}"
                        );
                    }
                    assert!(!g.passive);
                    assert_eq!(g.version, OspfVersion::V2);
                }
            }
        }
        assert!(n > 0, "{name}");
        assert_eq!(got.len(), n, "{name}");
    }
}

const OSPF3_NEIGHBORS: &str = r#"<rpc-reply xmlns:junos="http://xml.juniper.net/junos/21.4R3/junos">
<ospf3-neighbor-information-all xmlns="http://xml.juniper.net/junos/21.4R3/junos-routing">
  <ospf3-instance-neighbor>
    <ospf3-instance-name>red</ospf3-instance-name>
    <ospf3-neighbor>
      <neighbor-id>192.0.2.2</neighbor-id>
      <interface-name>xe-0/0/0.0</interface-name>
      <ospf-neighbor-state>Full</ospf-neighbor-state>
      <activity-timer>35</activity-timer>
      <neighbor-priority>128</neighbor-priority>
      <neighbor-address>fe80::0205:86ff:fe71:5500</neighbor-address>
      <ospf-area>0.0.0.0</ospf-area>
      <dr-id>0.0.0.0</dr-id>
      <bdr-id>0.0.0.0</bdr-id>
      <neighbor-up-time junos:seconds="3600">01:00:00</neighbor-up-time>
    </ospf3-neighbor>
  </ospf3-instance-neighbor>
  <ospf3-instance-neighbor>
    <ospf-instance-name>blue</ospf-instance-name>
    <ospf3-neighbor>
      <neighbor-id>198.51.100.2</neighbor-id>
      <interface-name>xe-0/0/1.10</interface-name>
      <ospf-neighbor-state>Init</ospf-neighbor-state>
      <neighbor-address>fe80::2</neighbor-address>
      <neighbor-up-time>2d 01:00:05</neighbor-up-time>
    </ospf3-neighbor>
  </ospf3-instance-neighbor>
</ospf3-neighbor-information-all>
<cli><banner>{master:0}</banner></cli>
</rpc-reply>"#;

#[test]
fn ospf3_neighbors_per_instance() {
    let o = ospf_of(&FakeDevice::new().with_reply(NBR3_ALL, OSPF3_NEIGHBORS));
    assert_eq!(o.neighbors.len(), 2);
    let a = &o.neighbors[0];
    assert_eq!(a.version, OspfVersion::V3);
    assert_eq!(a.instance, "red");
    assert_eq!(a.address, "fe80::205:86ff:fe71:5500");
    assert_eq!(a.dr_address, "0.0.0.0");
    assert_eq!(a.up_time, 3600);
    assert_eq!(a.adjacency_time, -1);
    let b = &o.neighbors[1];
    assert_eq!(b.instance, "blue");
    assert_eq!(b.priority, -1);
    assert_eq!(b.up_time, 2 * 86_400 + 3605);
    assert_eq!(b.area, "");
}

#[test]
fn ospf_multi_routing_engine_namespaces_and_bare_payload() {
    let wrapped = r#"<rpc-reply xmlns:junos="http://xml.juniper.net/junos/21.4R3/junos">
<multi-routing-engine-results><multi-routing-engine-item><re-name>fpc1</re-name>
<ospf-neighbor-information xmlns="http://xml.juniper.net/junos/21.4R3/junos-routing">
<ospf-neighbor><neighbor-address>192.0.2.1</neighbor-address><interface-name>ae0.0</interface-name>
<ospf-neighbor-state>Full</ospf-neighbor-state><neighbor-id>192.0.2.11</neighbor-id>
<neighbor-up-time junos:seconds="42">00:00:42</neighbor-up-time></ospf-neighbor>
</ospf-neighbor-information></multi-routing-engine-item></multi-routing-engine-results></rpc-reply>"#;
    let n = ospf::parse_neighbors(OspfVersion::V2, wrapped).unwrap();
    assert_eq!(n.len(), 1);
    assert_eq!(extra(&n[0].extra, "re-name"), Some("fpc1"));
    assert_eq!(n[0].up_time, 42);
    let bare = "<ospf-neighbor-information><ospf-neighbor><neighbor-id>192.0.2.11</neighbor-id></ospf-neighbor></ospf-neighbor-information>";
    assert_eq!(
        ospf::parse_neighbors(OspfVersion::V2, bare).unwrap().len(),
        1
    );
}

#[test]
fn ospf_malformed_is_a_parse_error() {
    let cases = [
        (
            "<ospf-neighbor-information><ospf-neighbor><neighbor-address>192.0.2.1</neighbor-address></ospf-neighbor></ospf-neighbor-information>",
            "neighbor-id",
        ),
        (
            "<ospf-neighbor-information><ospf-neighbor><neighbor-id>1.1.1.1</neighbor-id><neighbor-priority>high</neighbor-priority></ospf-neighbor></ospf-neighbor-information>",
            "neighbor-priority",
        ),
        (
            "<ospf-neighbor-information><ospf-neighbor><neighbor-id>1.1.1.1</neighbor-id><neighbor-up-time seconds=\"x\">1</neighbor-up-time></ospf-neighbor></ospf-neighbor-information>",
            "neighbor-up-time",
        ),
        ("<bgp-information/>", "ospf-neighbor-information"),
    ];
    for (reply, element) in cases {
        match collect("ospf", &FakeDevice::new().with_reply(NBR_ALL, reply)) {
            Err(CollectError::Parse(e)) => {
                assert_eq!(e.rpc, NBR);
                assert_eq!(e.element, element);
            }
            other => panic!("parse error expected for {reply}, got {other:?}"),
        }
    }
    match collect(
        "ospf",
        &FakeDevice::new().with_reply(
            IFS_ALL,
            "<ospf-interface-information><ospf-interface><interface-cost>1</interface-cost></ospf-interface></ospf-interface-information>",
        ),
    ) {
        Err(CollectError::Parse(e)) => {
            assert_eq!(e.rpc, "get-ospf-interface-information");
            assert_eq!(e.element, "interface-name");
        }
        other => panic!("parse error expected, got {other:?}"),
    }
    assert!(matches!(
        ospf::parse_neighbors(
            OspfVersion::V2,
            "<ospf-neighbor-information><ospf-neighbor>"
        ),
        Err(CollectError::Parse(_))
    ));
    assert!(matches!(
        ospf::parse_neighbors(OspfVersion::V2, "{\"ospf-neighbor-information\": [}"),
        Err(CollectError::Parse(_))
    ));
}

#[test]
fn ospf_generator_round_trips() {
    let n = ospf::parse_neighbors(OspfVersion::V2, &generate::ospf_neighbors(300)).unwrap();
    assert_eq!(n.len(), 300);
    assert_eq!(n[0].instance, "master");
    assert_eq!(n[0].up_time, 86_400);
    assert_eq!(ospf::duration("1d 00:00:37"), Some(n[1].up_time));
}

#[test]
fn meta_lists_the_junos_specific_collectors() {
    let meta = Junos::meta();
    for c in ["l2_circuits", "evpn", "ospf"] {
        assert!(meta.collectors.iter().any(|x| x == c), "{c}");
    }
}
