//! A plugin that misbehaves on purpose, one way per collector, for the sandbox tests.
//!
//! | collector | what it does |
//! |---|---|
//! | `ok` | one NETCONF call, returns one ARP entry |
//! | `spin` | loops forever |
//! | `hog` | allocates and touches memory without bound |
//! | `panic` | panics |
//! | `recurse` | recurses without bound |
//! | `huge` | returns `count` (option, default 5,000,000) ARP entries |
//! | `rpc-loop` | calls `netconf-rpc` in a tight loop |
#![allow(clippy::panic, clippy::unwrap_used)]

use nbfacts_sdk::{
    ArpEntry, CollectError, CollectRequest, Collector, Device, Driver, Facts, PluginMeta,
};

/// The misbehaving plugin.
pub struct Misbehave;

impl Collector for Misbehave {
    fn meta() -> PluginMeta {
        PluginMeta::new("misbehave", env!("CARGO_PKG_VERSION"))
            .driver(Driver {
                name: "misbehave".into(),
                aliases: vec![],
            })
            .collectors(&["ok", "spin", "hog", "panic", "recurse", "huge", "rpc-loop"])
    }

    fn collect(request: &CollectRequest, device: &dyn Device) -> Result<Facts, CollectError> {
        match request.collector.as_str() {
            "ok" => {
                let reply = device
                    .netconf_rpc("<get-arp-table-information/>")
                    .map_err(CollectError::Device)?;
                Ok(Facts::Arp(vec![entry(reply.len())]))
            }
            "spin" => {
                let mut x: u64 = 0;
                loop {
                    x = std::hint::black_box(x.wrapping_add(1));
                }
            }
            "hog" => {
                let mut keep: Vec<Vec<u8>> = Vec::new();
                loop {
                    keep.push(vec![1u8; 1 << 20]);
                    std::hint::black_box(&keep);
                }
            }
            "panic" => panic!("the misbehave plugin panics on purpose"),
            "recurse" => Ok(Facts::Arp(vec![entry(recurse(std::hint::black_box(1)))])),
            "huge" => {
                let count: usize = request
                    .option("count")
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(5_000_000);
                let mut entries = Vec::new();
                for n in 0..count {
                    entries.push(entry(n));
                }
                Ok(Facts::Arp(entries))
            }
            "rpc-loop" => loop {
                let _ = std::hint::black_box(device.netconf_rpc("<get-arp-table-information/>"));
            },
            other => Err(nbfacts_sdk::not_supported(other)),
        }
    }
}

fn entry(n: usize) -> ArpEntry {
    ArpEntry {
        interface: format!("ge-0/0/{n}"),
        mac: "00:11:22:33:44:55".into(),
        ip: "192.0.2.1".into(),
        age: n as f64,
        extra: vec![],
    }
}

#[allow(unconditional_recursion)]
fn recurse(n: usize) -> usize {
    let buf = std::hint::black_box([n; 64]);
    recurse(buf[n % 64] + 1) + 1
}

nbfacts_sdk::export_collector!(Misbehave);
