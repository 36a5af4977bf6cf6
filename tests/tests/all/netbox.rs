//! Reconciliation against a real NetBox (`scripts/netbox up`). Ignored by default: run with
//! `eval "$(scripts/netbox env)"; cargo test -p nbfacts-tests -- --ignored netbox`.

use std::sync::Arc;

use nbfacts_host::netbox::{
    AddressPreference, DeviceFilter, NetBox, NetBoxConfig, PlatformMap, Secret, Target,
    ensure_setup, resolve_targets,
};
use nbfacts_host::reconcile::{self, Context, neighbors};
use nbfacts_host::{CollectRequest, Facts, ReplayDevice};
use serde_json::{Value, json};

use super::{load, tight_runtime};

pub(crate) fn netbox() -> NetBox {
    let url = std::env::var("NETBOX_URL").expect("NETBOX_URL (eval \"$(scripts/netbox env)\")");
    let token = std::env::var("NETBOX_TOKEN").expect("NETBOX_TOKEN");
    NetBox::new(NetBoxConfig::new(url, Secret::new(token))).unwrap()
}

/// The collection target of device `name`, resolved as a job resolves it.
pub async fn target(nb: &NetBox, name: &str) -> Target {
    let filter = DeviceFilter {
        devices: vec![name.to_string()],
        ..DeviceFilter::default()
    };
    let mut targets = resolve_targets(
        nb,
        &filter,
        &PlatformMap::default(),
        AddressPreference::Primary,
    )
    .await
    .unwrap();
    assert_eq!(targets.len(), 1, "device {name}");
    targets.remove(0)
}

async fn get_or_create(nb: &NetBox, path: &str, key: &str, value: &str, body: Value) -> u64 {
    nb.get_or_create(path, key, value, body).await.unwrap()["id"]
        .as_u64()
        .unwrap()
}

pub(crate) async fn seed(nb: &NetBox, name: &str) -> u64 {
    let site = get_or_create(
        nb,
        "/api/dcim/sites/",
        "slug",
        "lab",
        json!({"name": "Lab", "slug": "lab"}),
    )
    .await;
    get_or_create(
        nb,
        "/api/dcim/manufacturers/",
        "slug",
        "juniper",
        json!({"name": "Juniper", "slug": "juniper"}),
    )
    .await;
    let dt = get_or_create(
        nb,
        "/api/dcim/device-types/",
        "slug",
        "qfx5120",
        json!({"manufacturer": {"slug": "juniper"}, "model": "QFX5120", "slug": "qfx5120"}),
    )
    .await;
    let role = get_or_create(
        nb,
        "/api/dcim/device-roles/",
        "slug",
        "leaf",
        json!({"name": "Leaf", "slug": "leaf", "color": "2196f3"}),
    )
    .await;
    let platform = get_or_create(
        nb,
        "/api/dcim/platforms/",
        "slug",
        "junos",
        json!({"name": "Junos", "slug": "junos"}),
    )
    .await;
    get_or_create(
        nb,
        "/api/ipam/prefixes/",
        "prefix",
        "203.0.113.0/24",
        json!({"prefix": "203.0.113.0/24", "status": "active"}),
    )
    .await;
    get_or_create(nb, "/api/dcim/devices/", "name", name, json!({"name": name, "device_type": dt, "role": role, "site": site, "platform": platform, "status": "active"})).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a running NetBox: scripts/netbox up"]
async fn netbox_interfaces_and_arp_apply_then_rerun_writes_nothing() {
    let nb = netbox();
    ensure_setup(&nb).await.unwrap();
    let again = ensure_setup(&nb).await.unwrap();
    assert!(
        again
            .steps
            .iter()
            .all(|(_, _, s)| *s == nbfacts_host::netbox::InitStep::Found),
        "{again:?}"
    );

    let name = format!("edge1-{}", std::process::id());
    seed(&nb, &name).await;
    let filter = DeviceFilter {
        devices: vec![name.clone()],
        ..Default::default()
    };
    let targets = resolve_targets(
        &nb,
        &filter,
        &PlatformMap::default(),
        AddressPreference::Primary,
    )
    .await
    .unwrap();
    assert_eq!(targets.len(), 1);
    let target = targets[0].clone();
    assert_eq!(target.driver, "junos");

    let runtime = tight_runtime();
    let plugin = load(&runtime, nbfacts_tests::JUNOS, "builtin:junos").await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/replay/edge1");
    let device = Arc::new(ReplayDevice::new(&dir, "junos"));

    let Facts::Interfaces(ifaces) = plugin
        .collect(CollectRequest::new("interfaces"), device.clone())
        .await
        .unwrap()
    else {
        panic!()
    };
    let ctx = Context::new(nb.clone(), target.clone(), None);
    let set = reconcile::interfaces::reconcile(&ctx, &ifaces)
        .await
        .unwrap();
    println!("interfaces: {}", set.counts());
    assert!(set.counts().new > 0);
    let outcome = reconcile::apply(&nb, &set, None).await;
    assert!(
        outcome.stopped.is_none() && outcome.refused.is_empty(),
        "{outcome:?}"
    );

    let before = nb.counts();
    let set = reconcile::interfaces::reconcile(&ctx, &ifaces)
        .await
        .unwrap();
    let after = nb.counts();
    println!(
        "interfaces re-run: {} ({} reads)",
        set.counts(),
        after.reads - before.reads
    );
    assert!(
        set.is_noop(),
        "{:#?}",
        set.entries
            .iter()
            .filter(|e| !matches!(e.operation, reconcile::Operation::None))
            .collect::<Vec<_>>()
    );

    let Facts::Arp(arp) = plugin
        .collect(CollectRequest::new("arp"), device)
        .await
        .unwrap()
    else {
        panic!()
    };
    let sightings = neighbors::from_arp(&arp);
    let set = neighbors::reconcile(&ctx, "arp", &sightings).await.unwrap();
    println!("arp: {}", set.counts());
    let outcome = reconcile::apply(&nb, &set, None).await;
    assert!(
        outcome.stopped.is_none() && outcome.refused.is_empty(),
        "{outcome:?}"
    );
    let set = neighbors::reconcile(&ctx, "arp", &sightings).await.unwrap();
    println!("arp re-run: {}", set.counts());
    assert!(set.is_noop());
}

fn neighbor(local: &str, system: &str, port: &str) -> nbfacts_sdk::LldpNeighbor {
    nbfacts_sdk::LldpNeighbor {
        local_interface: local.into(),
        local_port_id: local.into(),
        parent_interface: "-".into(),
        remote_chassis_id: "02:00:00:00:00:01".into(),
        remote_port: port.into(),
        remote_port_description: String::new(),
        remote_system_name: system.into(),
        remote_system_description: String::new(),
        remote_system_capab: vec![],
        remote_system_enable_capab: vec![],
        detailed: true,
        extra: vec![],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a running NetBox: scripts/netbox up"]
async fn netbox_lldp_cables_only_within_a_site() {
    let nb = netbox();
    ensure_setup(&nb).await.unwrap();
    let pid = std::process::id();
    let (a, b, c) = (
        format!("lab-a-{pid}"),
        format!("lab-b-{pid}"),
        format!("far-c-{pid}"),
    );
    let a_id = seed(&nb, &a).await;
    let b_id = seed(&nb, &b).await;
    let c_id = seed(&nb, &c).await;
    let far = get_or_create(
        &nb,
        "/api/dcim/sites/",
        "slug",
        "far",
        json!({"name": "Far", "slug": "far"}),
    )
    .await;
    nb.update_many("/api/dcim/devices/", vec![json!({"id": c_id, "site": far})])
        .await
        .unwrap();
    for (dev, name) in [
        (a_id, "xe-0/0/0"),
        (a_id, "xe-0/0/1"),
        (a_id, "xe-0/0/2"),
        (b_id, "xe-0/0/9"),
        (c_id, "xe-0/0/9"),
    ] {
        nb.create(
            "/api/dcim/interfaces/",
            json!({"device": dev, "name": name, "type": "10gbase-x-sfpp"}),
        )
        .await
        .unwrap();
    }
    let target = target(&nb, &a).await;
    let ctx = Context::new(nb.clone(), target, None);
    let facts = vec![
        neighbor("xe-0/0/0", &format!("{b}.dc1.example.net"), "xe-0/0/9"),
        neighbor("xe-0/0/1", &c, "xe-0/0/9"),
        neighbor("xe-0/0/2", "nobody.example.net", "xe-0/0/0"),
    ];
    let set = reconcile::lldp::reconcile(&ctx, &facts).await.unwrap();
    println!("lldp: {}", set.counts());
    let reasons: Vec<&str> = set.entries.iter().map(|e| e.reason.as_str()).collect();
    assert_eq!(set.counts().new, 2, "{reasons:?}"); // the cable and its journal entry
    assert!(
        reasons.iter().any(|r| r.contains("another site")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("no NetBox device named")),
        "{reasons:?}"
    );
    let outcome = reconcile::apply(&nb, &set, None).await;
    assert!(
        outcome.stopped.is_none() && outcome.refused.is_empty(),
        "{outcome:?}"
    );
    let set = reconcile::lldp::reconcile(&ctx, &facts).await.unwrap();
    assert!(set.is_noop(), "{set:#?}");
    assert_eq!(set.counts().confirmed, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a running NetBox: scripts/netbox up"]
async fn netbox_inventory_sets_serial_and_parts_once() {
    let nb = netbox();
    ensure_setup(&nb).await.unwrap();
    let name = format!("inv-{}", std::process::id());
    seed(&nb, &name).await;
    let target = target(&nb, &name).await;
    let runtime = tight_runtime();
    let plugin = load(&runtime, nbfacts_tests::JUNOS, "builtin:junos").await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/replay/edge1");
    let Facts::Inventory(inv) = plugin
        .collect(
            CollectRequest::new("inventory"),
            Arc::new(ReplayDevice::new(&dir, "junos")),
        )
        .await
        .unwrap()
    else {
        panic!()
    };
    let ctx = Context::new(nb.clone(), target, None);
    let set = reconcile::inventory::reconcile(&ctx, &inv).await.unwrap();
    println!("inventory: {}", set.counts());
    assert_eq!(set.counts().changed, 1, "the serial");
    assert!(
        set.counts().new >= 4,
        "journal + chassis parts: {:#?}",
        set.entries
    );
    let outcome = reconcile::apply(&nb, &set, None).await;
    assert!(
        outcome.stopped.is_none() && outcome.refused.is_empty(),
        "{outcome:?}"
    );
    let device = nb
        .list("/api/dcim/devices/", &[("name".into(), name.clone())])
        .await
        .unwrap();
    assert_eq!(device[0]["serial"], inv.facts.serial_number);
    let set = reconcile::inventory::reconcile(&ctx, &inv).await.unwrap();
    assert!(set.is_noop(), "{set:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a running NetBox: scripts/netbox up"]
async fn netbox_bgp_asns_and_peer_addresses() {
    let nb = netbox();
    ensure_setup(&nb).await.unwrap();
    let name = format!("bgp-{}", std::process::id());
    seed(&nb, &name).await;
    let target = target(&nb, &name).await;
    let runtime = tight_runtime();
    let plugin = load(&runtime, nbfacts_tests::JUNOS, "builtin:junos").await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/replay/edge1");
    let Facts::Bgp(bgp) = plugin
        .collect(
            CollectRequest::new("bgp"),
            Arc::new(ReplayDevice::new(&dir, "junos")),
        )
        .await
        .unwrap()
    else {
        panic!()
    };
    let ctx = Context::new(nb.clone(), target, None);
    let policy = reconcile::bgp::AsnPolicy::default();
    let set = reconcile::bgp::reconcile(&ctx, &bgp, &policy)
        .await
        .unwrap();
    println!("bgp: {} {:?}", set.counts(), set.notes);
    let wanted = if super::netbox_plugins::expected("routing") {
        "routing plugin is installed"
    } else {
        "routing plugin is not installed"
    };
    assert!(
        set.notes.iter().any(|n| n.contains(wanted)),
        "{:?}",
        set.notes
    );
    let outcome = reconcile::apply(&nb, &set, None).await;
    assert!(
        outcome.stopped.is_none() && outcome.refused.is_empty(),
        "{outcome:?}"
    );
    let set = reconcile::bgp::reconcile(&ctx, &bgp, &policy)
        .await
        .unwrap();
    assert!(set.is_noop(), "{set:#?}");
    let asns = nb
        .list("/api/ipam/asns/", &[("asn".into(), "65100".into())])
        .await
        .unwrap();
    assert_eq!(asns.len(), 1);
}
