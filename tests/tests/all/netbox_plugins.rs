//! The optional NetBox plugins nbfacts integrates with, against a real NetBox: netbox-branching
//! (jobs write into a branch) and netbox-routing (detected by the BGP reconciler).
//!
//! `scripts/netbox up` enables both. The tests read `NB_PLUGINS` (the variable the script uses)
//! to know which plugins to expect, so the "absent" cases run with:
//!
//! ```text
//! NB_PLUGINS=branching scripts/netbox restart     # NetBox without the routing plugin
//! eval "$(scripts/netbox env)"
//! NB_PLUGINS=branching cargo test -p nbfacts-tests --test all -- --ignored netbox_plugins
//! scripts/netbox restart                          # back to both plugins
//! ```

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nbfacts_host::netbox::branch::{
    self, BranchError, BranchOptions, branching_installed, ensure_branch, find_branch,
};
use nbfacts_host::netbox::{
    AddressPreference, DeviceFilter, NetBox, PlatformMap, Target, ensure_setup, resolve_targets,
};
use nbfacts_host::reconcile::{self, Context};
use nbfacts_host::{CollectRequest, Facts, ReplayDevice};
use serde_json::json;

use super::netbox::{netbox, seed};
use super::{load, tight_runtime};

/// Whether the running NetBox is expected to load `plugin` (`branching`, `routing`).
pub(crate) fn expected(plugin: &str) -> bool {
    std::env::var("NB_PLUGINS")
        .map(|list| list.split_whitespace().any(|p| p == plugin))
        .unwrap_or(true)
}

fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{prefix}-{}-{nanos}", std::process::id())
}

async fn target(nb: &NetBox, name: &str) -> Target {
    let filter = DeviceFilter {
        devices: vec![name.to_string()],
        ..Default::default()
    };
    resolve_targets(
        nb,
        &filter,
        &PlatformMap::default(),
        AddressPreference::Primary,
    )
    .await
    .unwrap()
    .remove(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a running NetBox: scripts/netbox up"]
async fn netbox_plugins_detected_as_configured() {
    let nb = netbox();
    ensure_setup(&nb).await.unwrap();
    let name = unique("plug");
    seed(&nb, &name).await;
    let ctx = Context::new(nb.clone(), target(&nb, &name).await, None);
    assert_eq!(
        reconcile::bgp::routing_plugin_installed(&ctx)
            .await
            .unwrap(),
        expected("routing"),
        "NB_PLUGINS={:?}; see this file's header to run NetBox without the routing plugin",
        std::env::var("NB_PLUGINS").ok()
    );
    assert_eq!(
        branching_installed(&nb).await.unwrap(),
        expected("branching")
    );
    if !expected("branching") {
        let e = ensure_branch(&nb, &unique("never"), &BranchOptions::default())
            .await
            .unwrap_err();
        assert!(matches!(e, BranchError::PluginMissing { .. }), "{e}");
        assert!(e.to_string().contains("netbox-branching"), "{e}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a running NetBox: scripts/netbox up"]
async fn netbox_branch_takes_writes_that_main_does_not_see() {
    if !expected("branching") {
        eprintln!(
            "NB_PLUGINS has no `branching`: covered by netbox_plugins_detected_as_configured"
        );
        return;
    }
    let nb = netbox();
    ensure_setup(&nb).await.unwrap();
    // The device exists in main before the branch: a branch is a copy of main when provisioned.
    let device = unique("br");
    seed(&nb, &device).await;

    let job = unique("nbfacts-test-job");
    let options = BranchOptions {
        timeout: Duration::from_secs(90),
        ..BranchOptions::default()
    };
    let branch = ensure_branch(&nb, &job, &options).await.unwrap();
    assert!(branch.is_ready(), "{branch:?}");
    assert!(!branch.schema_id.is_empty());
    // Idempotent: the same job name finds the same branch.
    let again = ensure_branch(&nb, &job, &options).await.unwrap();
    assert_eq!(again.id, branch.id);
    assert_eq!(
        find_branch(&nb, &job).await.unwrap().map(|b| b.id),
        Some(branch.id)
    );

    let in_branch = nb.in_branch(&branch.schema_id);
    // A plain object through the client…
    let slug = unique("branch-site");
    in_branch
        .create("/api/dcim/sites/", json!({"name": slug, "slug": slug}))
        .await
        .unwrap();
    let q = [("slug".to_string(), slug.clone())];
    assert_eq!(
        in_branch.list("/api/dcim/sites/", &q).await.unwrap().len(),
        1
    );
    assert_eq!(nb.list("/api/dcim/sites/", &q).await.unwrap().len(), 0);

    // …and a reconciler's writes: the interfaces of a device, through the writer.
    let runtime = tight_runtime();
    let plugin = load(&runtime, nbfacts_tests::JUNOS, "builtin:junos").await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/replay/edge1");
    let Facts::Interfaces(ifaces) = plugin
        .collect(
            CollectRequest::new("interfaces"),
            Arc::new(ReplayDevice::new(&dir, "junos")),
        )
        .await
        .unwrap()
    else {
        panic!("not interfaces facts")
    };
    let target = target(&in_branch, &device).await;
    let ctx = Context::new(in_branch.clone(), target.clone(), None);
    let set = reconcile::interfaces::reconcile(&ctx, &ifaces)
        .await
        .unwrap();
    assert!(set.counts().new > 0);
    let outcome = reconcile::apply(&in_branch, &set, None).await;
    assert!(
        outcome.stopped.is_none() && outcome.refused.is_empty(),
        "{outcome:?}"
    );
    let q = [("device_id".to_string(), target.id.to_string())];
    let in_branch_ifaces = in_branch.list("/api/dcim/interfaces/", &q).await.unwrap();
    assert!(!in_branch_ifaces.is_empty());
    assert_eq!(nb.list("/api/dcim/interfaces/", &q).await.unwrap().len(), 0);
    // A re-run inside the branch sees its own writes.
    let set = reconcile::interfaces::reconcile(&ctx, &ifaces)
        .await
        .unwrap();
    assert!(set.is_noop(), "{:?}", set.counts());

    branch::delete_branch(&nb, branch.id).await.unwrap();
    assert!(find_branch(&nb, &job).await.unwrap().is_none());
}
