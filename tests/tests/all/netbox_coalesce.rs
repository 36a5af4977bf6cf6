//! Coalesced reads against the real NetBox: reads made at the same time through one client
//! (which merges them into shared requests and splits the answers) return exactly what each
//! read returns alone through a client that does not coalesce, with fewer requests. Reads
//! only what NetBox already holds; writes nothing.

use nbfacts_host::netbox::{NetBox, NetBoxConfig, Secret};
use nbfacts_host::reconcile::{Context, ips_by_host};
use serde_json::Value;

use super::netbox::{netbox, target};

fn plain() -> NetBox {
    let url = std::env::var("NETBOX_URL").unwrap();
    let token = std::env::var("NETBOX_TOKEN").unwrap();
    let mut config = NetBoxConfig::new(url, Secret::new(token));
    config.coalesce = false;
    NetBox::new(config).unwrap()
}

fn ids(objects: &[Value]) -> Vec<u64> {
    let mut ids: Vec<u64> = objects.iter().filter_map(|o| o["id"].as_u64()).collect();
    ids.sort_unstable();
    ids
}

/// Up to `n` values of `field` (a JSON pointer) from the first objects of `path`.
async fn sample(nb: &NetBox, path: &str, field: &str, n: usize) -> Vec<String> {
    let page = nb
        .get(path, &[("limit".to_string(), n.to_string())])
        .await
        .unwrap();
    page["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| match o.pointer(field)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a running NetBox: scripts/netbox up"]
async fn netbox_coalesced_reads_match_reads_alone() {
    let (coalescing, alone) = (netbox(), plain());
    // (endpoint, filter key, one read's values): several reads per endpoint, some values
    // shared between reads, addresses with and without their mask, MACs in other spellings,
    // and a value NetBox skips.
    let mut reads: Vec<(&str, &str, Vec<String>)> = Vec::new();
    let devices = sample(&alone, "/api/dcim/devices/", "/id", 12).await;
    for chunk in devices.chunks(3) {
        reads.push(("/api/dcim/interfaces/", "device_id", chunk.to_vec()));
        reads.push(("/api/dcim/inventory-items/", "device_id", chunk.to_vec()));
    }
    let names = sample(&alone, "/api/dcim/devices/", "/name", 12).await;
    for chunk in names.chunks(4) {
        reads.push(("/api/dcim/devices/", "name", chunk.to_vec()));
    }
    let addresses = sample(&alone, "/api/ipam/ip-addresses/", "/address", 40).await;
    for (i, chunk) in addresses.chunks(5).enumerate() {
        // Every other read asks for the hosts only (NetBox matches the host part).
        let values = chunk
            .iter()
            .map(|a| {
                if i % 2 == 0 {
                    a.split('/').next().unwrap().to_string()
                } else {
                    a.clone()
                }
            })
            .chain(["192.0.2.250".to_string()])
            .collect();
        reads.push(("/api/ipam/ip-addresses/", "address", values));
    }
    let macs = sample(&alone, "/api/dcim/mac-addresses/", "/mac_address", 40).await;
    for (i, chunk) in macs.chunks(8).enumerate() {
        let values = chunk
            .iter()
            .map(|m| match i % 3 {
                0 => m.to_lowercase(),
                1 => m.replace(':', "-"),
                _ => m.replace(':', ""),
            })
            .collect();
        reads.push(("/api/dcim/mac-addresses/", "mac_address", values));
    }
    let asns = sample(&alone, "/api/ipam/asns/", "/asn", 10).await;
    reads.push(("/api/ipam/asns/", "asn", asns.clone()));
    reads.push((
        "/api/ipam/asns/",
        "asn",
        asns.into_iter().rev().take(3).collect(),
    ));
    assert!(reads.len() >= 10, "NetBox holds too little to compare");

    let mut expected = Vec::new();
    for (path, key, values) in &reads {
        expected.push(alone.list_any(path, &[], key, values).await.unwrap());
    }
    let before = coalescing.counts().reads;
    let mut together = tokio::task::JoinSet::new();
    for (i, (path, key, values)) in reads.iter().cloned().enumerate() {
        let nb = coalescing.clone();
        together.spawn(async move { (i, nb.list_any(path, &[], key, &values).await) });
    }
    let mut got: Vec<_> = together.join_all().await;
    got.sort_by_key(|(i, _)| *i);
    let got = got.into_iter().map(|(_, r)| r);
    let requests = coalescing.counts().reads - before;
    for ((read, want), got) in reads.iter().zip(&expected).zip(got) {
        let got = got.unwrap();
        assert_eq!(ids(&got), ids(want), "{read:?}");
    }
    println!(
        "{} reads at once: {requests} requests (alone: {})",
        reads.len(),
        reads.len()
    );
    assert!(requests < reads.len() as u64, "{requests} requests");
}

/// A report over many devices finds IP addresses through an index of the address table it
/// reads once; what it finds is what reads by value find, for hosts NetBox has (under any
/// mask) and hosts it does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a running NetBox: scripts/netbox up"]
async fn netbox_report_address_index_matches_reads_by_value() {
    let nb = netbox();
    let name = sample(&nb, "/api/dcim/devices/", "/name", 1).await;
    let target = target(&nb, &name[0]).await;
    let alone = Context::new(plain(), target.clone(), None);
    // One run of many devices: they share the index (and the reads by id).
    let report = Context::new(nb.clone(), target, None).with_run(true, 1_000);
    let addresses = sample(&nb, "/api/ipam/ip-addresses/", "/address", 60).await;
    assert!(addresses.len() >= 10, "NetBox holds too little to compare");
    let mut reads: Vec<Vec<String>> = addresses
        .chunks(6)
        .map(|chunk| {
            chunk
                .iter()
                .map(|a| a.split('/').next().unwrap().to_string())
                .chain(["192.0.2.250".to_string(), "2001:db8::fa".to_string()])
                .collect()
        })
        .collect();
    reads.push(vec!["198.51.100.77".to_string()]);
    for hosts in &reads {
        let want = ips_by_host(&alone, hosts).await.unwrap();
        let before = nb.counts().reads;
        let got = ips_by_host(&report, hosts).await.unwrap();
        assert_eq!(ids(&got), ids(&want), "{hosts:?}");
        // After the index is read, at most the matching objects are read (by id).
        if hosts != reads.first().unwrap() {
            assert!(nb.counts().reads - before <= 1, "{hosts:?}");
        }
    }
}
