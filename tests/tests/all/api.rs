//! The HTTP API over real sockets: authentication, plan CRUD, jobs, the webhook signature,
//! the route table against the OpenAPI document; and, against a real NetBox, both triggers
//! end to end (NetBox's own RQ worker delivering the webhook, the custom link's URL).

use std::sync::Arc;
use std::time::Duration;

use nbfacts_host::api::{ApiConfig, ROUTES};
use nbfacts_host::host::{ConnectorFactory, Host, HostConfig, JobEvent};
use nbfacts_host::job::{Connector, JobState, Store};
use nbfacts_host::netbox::{
    NetBox, NetBoxConfig, Secret, Target, ensure_custom_link, ensure_webhook, token_user,
};
use nbfacts_host::plan::Plan;
use nbfacts_host::{DeviceSession, Registry, Runtime, RuntimeConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::broadcast;

use super::netbox::{netbox, seed};

const TOKEN: &str = "api-test-token";
const LINK_TOKEN: &str = "link-only-token";
const HOOK_SECRET: &str = "hook-secret";

/// Every device is unreachable: jobs fail fast, which is enough to see what was queued.
struct Unreachable;

impl Connector for Unreachable {
    fn open(&self, target: &Target) -> Result<Arc<dyn DeviceSession>, String> {
        Err(format!("no device behind {} in this test", target.name))
    }
}

struct Factory;

impl ConnectorFactory for Factory {
    fn connector(&self, _plan: &Plan) -> Result<Arc<dyn Connector>, String> {
        Ok(Arc::new(Unreachable))
    }
}

fn host(netbox: NetBox, registry: Registry) -> Host {
    let store = Store::open(tempfile::tempdir().unwrap().keep().join("store.redb")).unwrap();
    let config = HostConfig {
        retries: 0,
        ..HostConfig::default()
    };
    Host::new(config, store, netbox, Arc::new(registry), Arc::new(Factory))
}

/// A client for a NetBox that is not there (nothing listens on the port).
fn absent_netbox() -> NetBox {
    let mut config = NetBoxConfig::new("http://127.0.0.1:9", Secret::new("unused"));
    config.retries = 0;
    config.timeout = Duration::from_secs(2);
    NetBox::new(config).unwrap()
}

fn config() -> ApiConfig {
    ApiConfig {
        token: Some(Secret::new(TOKEN)),
        link_token: Some(Secret::new(LINK_TOKEN)),
        webhook_secret: Some(Secret::new(HOOK_SECRET)),
        ..ApiConfig::default()
    }
}

/// Serves the API on an ephemeral loopback port; returns its base URL.
async fn serve(host: Host, config: ApiConfig) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(nbfacts_host::api::serve(
        listener,
        host,
        config,
        std::future::pending(),
    ));
    base
}

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

async fn call(
    method: reqwest::Method,
    url: &str,
    auth: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = client().request(method, url);
    if let Some(auth) = auth {
        request = request.header("Authorization", auth);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

const BEARER: &str = "Bearer api-test-token";

fn sign(body: &[u8], secret: &str) -> String {
    hex_string(&nbfacts_host::api::webhook::hmac_sha512(
        secret.as_bytes(),
        body,
    ))
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn api_health_and_metrics_are_open_and_everything_else_needs_the_token() {
    let base = serve(host(absent_netbox(), Registry::new()), config()).await;
    let (status, health) = call(reqwest::Method::GET, &format!("{base}/healthz"), None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(health["ok"], true);
    assert_eq!(health["store"]["reachable"], true);
    assert_eq!(health["queue_length"], 0);

    let metrics = client()
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status(), StatusCode::OK);
    assert_eq!(
        metrics.headers()["content-type"],
        "text/plain; version=0.0.4"
    );
    let text = metrics.text().await.unwrap();
    assert!(text.contains("nbfacts_queue_length 0"), "{text}");
    assert!(
        text.contains("nbfacts_plugin_seconds_total 0.000"),
        "{text}"
    );
    assert!(
        text.contains("nbfacts_webhooks_total{outcome=\"refused\"} 0"),
        "{text}"
    );

    let plans = format!("{base}/api/v1/plans");
    let (status, body) = call(reqwest::Method::GET, &plans, None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("missing API token"),
        "{body}"
    );
    for wrong in [
        "Bearer nope",
        "Bearer api-test-token2",
        "Basic api-test-token",
    ] {
        let (status, body) = call(reqwest::Method::GET, &plans, Some(wrong), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{wrong}: {body}");
    }
    for right in [BEARER, "Token api-test-token", "bearer api-test-token"] {
        let (status, body) = call(reqwest::Method::GET, &plans, Some(right), None).await;
        assert_eq!(status, StatusCode::OK, "{right}: {body}");
        assert_eq!(body, json!([]));
    }
    // The query token and the link token are for the collect route only.
    let (status, _) = call(
        reqwest::Method::GET,
        &format!("{plans}?token={TOKEN}"),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = call(
        reqwest::Method::GET,
        &plans,
        Some(&format!("Bearer {LINK_TOKEN}")),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Without a configured token, nothing under /api/v1 is served, and the answer says why.
    let open = serve(host(absent_netbox(), Registry::new()), ApiConfig::default()).await;
    let (status, body) = call(
        reqwest::Method::GET,
        &format!("{open}/api/v1/plans"),
        Some(BEARER),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("no token configured"),
        "{body}"
    );
    let (status, _) = call(reqwest::Method::GET, &format!("{open}/healthz"), None, None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn api_plans_round_trip_and_jobs_are_listed_and_cancelled() {
    use reqwest::Method;
    let base = serve(host(absent_netbox(), Registry::new()), config()).await;
    let url = |path: &str| format!("{base}/api/v1{path}");
    let auth = Some(BEARER);

    let mut plan = json!({"name": "leafs", "collectors": ["lldp", "arp"],
        "filter": {"sites": ["dc1"]}, "interval": "1h"});
    let (status, created) = call(Method::POST, &url("/plans"), auth, Some(plan.clone())).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["interval"], "1h");
    assert_eq!(created["connection"], "primary_then_oob");
    let (status, _) = call(Method::POST, &url("/plans"), auth, Some(plan.clone())).await;
    assert_eq!(status, StatusCode::CONFLICT);

    let (status, shown) = call(Method::GET, &url("/plans/leafs"), auth, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(shown["plan"], created);
    let (_, list) = call(Method::GET, &url("/plans"), auth, None).await;
    assert_eq!(list, json!([created]));

    plan["interval"] = json!("30m");
    let (status, replaced) =
        call(Method::PUT, &url("/plans/leafs"), auth, Some(plan.clone())).await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    assert_eq!(replaced["interval"], "30m");
    let (status, body) = call(Method::PUT, &url("/plans/other"), auth, Some(plan.clone())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"].as_str().unwrap().contains("`other`"),
        "{body}"
    );

    let (status, disabled) = call(Method::POST, &url("/plans/leafs/disable"), auth, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(disabled["enabled"], false);
    let (_, enabled) = call(Method::POST, &url("/plans/leafs/enable"), auth, None).await;
    assert_eq!(enabled["enabled"], true);

    // Validation errors are 400 with the reason.
    let (status, body) = call(
        Method::POST,
        &url("/plans"),
        auth,
        Some(json!({"name": "empty", "collectors": []})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"].as_str().unwrap().contains("no collectors"),
        "{body}"
    );
    let (status, body) = call(
        Method::POST,
        &url("/plans"),
        auth,
        Some(json!({"name": "x", "collectors": ["lldp"], "colour": "red"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().contains("colour"), "{body}");

    // Runs: the host has no workers, so jobs stay queued.
    let (status, queued) = call(
        Method::POST,
        &url("/plans/leafs/run"),
        auth,
        Some(json!({"devices": ["leaf1"]})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    assert_eq!(queued["status"], "queued");
    let job = queued["job"].as_u64().unwrap();
    let (_, again) = call(
        Method::POST,
        &url("/plans/leafs/run"),
        auth,
        Some(json!({"devices": ["leaf1"]})),
    )
    .await;
    assert_eq!(again, json!({"status": "already_pending", "job": job}));
    let (status, _) = call(Method::POST, &url("/plans/nope/run"), auth, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (_, jobs) = call(Method::GET, &url("/jobs?limit=5"), auth, None).await;
    assert_eq!(jobs[0]["id"], job);
    assert_eq!(jobs[0]["state"], "pending");
    assert_eq!(jobs[0]["trigger"], "manual");
    let (_, full) = call(Method::GET, &url(&format!("/jobs/{job}")), auth, None).await;
    assert_eq!(full["name"], "leafs");
    let (_, log) = call(Method::GET, &url(&format!("/jobs/{job}/log")), auth, None).await;
    assert!(
        log["log"][0]
            .as_str()
            .unwrap()
            .contains("queued by manual for leaf1"),
        "{log}"
    );
    let (status, _) = call(
        Method::POST,
        &url(&format!("/jobs/{job}/cancel")),
        auth,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let (status, _) = call(
        Method::POST,
        &url(&format!("/jobs/{job}/cancel")),
        auth,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (_, full) = call(Method::GET, &url(&format!("/jobs/{job}")), auth, None).await;
    assert_eq!(full["state"], "failed");
    assert_eq!(full["cancelled"], true);
    let (status, report) = call(Method::GET, &url(&format!("/reports/{job}")), auth, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(report["results"], json!([]));
    let (status, body) = call(
        Method::POST,
        &url(&format!("/reports/{job}/skip")),
        auth,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let (status, plans) = call(Method::GET, &url("/status"), auth, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(plans[0]["plan"]["name"], "leafs");

    // Unknown plans and jobs are 404 with a JSON error.
    for path in [
        "/plans/nope",
        "/jobs/424242",
        "/jobs/424242/log",
        "/reports/424242",
    ] {
        let (status, body) = call(Method::GET, &url(path), auth, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(body["error"].is_string(), "{path}: {body}");
    }
    let (status, _) = call(Method::GET, &url("/jobs/abc"), auth, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, _) = call(Method::DELETE, &url("/plans/leafs"), auth, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(Method::GET, &url("/plans/leafs"), auth, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(Method::DELETE, &url("/plans/leafs"), auth, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

fn device_change(pre: Value, post: Value) -> Value {
    json!({
        "event": "updated", "object_type": "dcim.device",
        "data": {"id": 7, "name": "leaf7", "platform": {"slug": "junos"},
                 "status": {"value": "active"}, "primary_ip4": {"address": "192.0.2.7/24"}},
        "snapshots": {"prechange": pre, "postchange": post},
        "request": {"id": "r-1", "user": "alice"},
    })
}

async fn post_hook(base: &str, body: &[u8], signature: Option<&str>) -> (StatusCode, Value) {
    let mut request = client()
        .post(format!("{base}/api/v1/webhooks/netbox"))
        .header("Content-Type", "application/json")
        .body(body.to_vec());
    if let Some(s) = signature {
        request = request.header("X-Hook-Signature", s);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn api_webhook_signatures_are_verified_before_anything_else() {
    let comments = serde_json::to_vec(&device_change(
        json!({"status": "active", "comments": ""}),
        json!({"status": "active", "comments": "new"}),
    ))
    .unwrap();
    // No secret configured: refused, whatever the signature.
    let unconfigured = serve(
        host(absent_netbox(), Registry::new()),
        ApiConfig {
            webhook_secret: None,
            ..config()
        },
    )
    .await;
    let (status, body) = post_hook(
        &unconfigured,
        &comments,
        Some(&sign(&comments, HOOK_SECRET)),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");

    let base = serve(
        host(absent_netbox(), Registry::new()),
        ApiConfig {
            ignore_user: Some("nbfacts".into()),
            ..config()
        },
    )
    .await;
    let (status, _) = post_hook(&base, &comments, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = post_hook(&base, &comments, Some(&sign(&comments, "another secret"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = post_hook(&base, &comments, Some("zz-not-hex")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // A signature over other bytes (the same JSON re-serialised with a space) is refused.
    let mut tampered = comments.clone();
    tampered.push(b' ');
    let (status, _) = post_hook(&base, &tampered, Some(&sign(&comments, HOOK_SECRET))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Signed: a comments-only change is ignored with the reason.
    let (status, body) = post_hook(&base, &comments, Some(&sign(&comments, HOOK_SECRET))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body["ignored"].as_str().unwrap().contains("comments"),
        "{body}"
    );
    // A status change by nbfacts's own user is ignored.
    let mut own = device_change(json!({"status": "planned"}), json!({"status": "active"}));
    own["request"]["user"] = json!("nbfacts");
    let own = serde_json::to_vec(&own).unwrap();
    let (status, body) = post_hook(&base, &own, Some(&sign(&own, HOOK_SECRET))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body["ignored"].as_str().unwrap().contains("nbfacts"),
        "{body}"
    );
    // A relevant change of a ready device: the registry serves no `junos` here.
    let status_change = serde_json::to_vec(&device_change(
        json!({"status": "planned"}),
        json!({"status": "active"}),
    ))
    .unwrap();
    let (status, body) = post_hook(
        &base,
        &status_change,
        Some(&sign(&status_change, HOOK_SECRET)),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body["ignored"]
            .as_str()
            .unwrap()
            .contains("no loaded plugin"),
        "{body}"
    );

    let (_, recent) = call(
        reqwest::Method::GET,
        &format!("{base}/api/v1/webhooks/recent"),
        Some(BEARER),
        None,
    )
    .await;
    assert_eq!(recent.as_array().unwrap().len(), 3, "{recent}");
    assert_eq!(recent[2]["request_id"], "r-1");
    let metrics = client()
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("nbfacts_webhooks_total{outcome=\"refused\"} 4"),
        "{metrics}"
    );
    assert!(
        metrics.contains("nbfacts_webhooks_total{outcome=\"ignored\"} 3"),
        "{metrics}"
    );
}

#[tokio::test]
async fn api_every_route_is_served_and_documented() {
    let base = serve(host(absent_netbox(), Registry::new()), config()).await;
    let (status, doc) = call(
        reqwest::Method::GET,
        &format!("{base}/api/v1/openapi.json"),
        Some(BEARER),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    let mut documented = 0;
    for (path, operations) in paths {
        for method in operations.as_object().unwrap().keys() {
            documented += 1;
            assert!(
                ROUTES.contains(&(method.to_uppercase().as_str(), path.as_str())),
                "{method} {path} is documented but not in ROUTES"
            );
        }
    }
    assert_eq!(documented, ROUTES.len());
    // Every route is served: neither the unknown-route nor the wrong-method answer.
    for (method, path) in ROUTES {
        assert!(
            paths[*path].get(method.to_lowercase()).is_some(),
            "{method} {path} is not documented"
        );
        let concrete = path
            .replace("{name}", "no-such-plan")
            .replace("{id}", "424242");
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let (status, body) = call(
            method.clone(),
            &format!("{base}{concrete}"),
            Some(BEARER),
            None,
        )
        .await;
        assert_ne!(
            status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}: {body}"
        );
        let unrouted = body["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("no route"));
        assert!(!unrouted, "{method} {path} is not routed: {body}");
    }
    // And the fallbacks are JSON too.
    let (status, body) = call(
        reqwest::Method::GET,
        &format!("{base}/api/v1/nothing"),
        Some(BEARER),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        body["error"].as_str().unwrap().starts_with("no route"),
        "{body}"
    );
    let (status, body) = call(
        reqwest::Method::DELETE,
        &format!("{base}/api/v1/status"),
        Some(BEARER),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(body["error"].is_string(), "{body}");
}

#[tokio::test]
async fn api_collect_link_takes_the_token_from_the_query_and_answers_browsers_in_html() {
    let base = serve(host(absent_netbox(), Registry::new()), config()).await;
    let link = format!("{base}/api/v1/collect/device/5");
    for token in [TOKEN, LINK_TOKEN] {
        let response = client()
            .get(format!("{link}?token={token}"))
            .header("Accept", "text/html,application/xhtml+xml")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let page = response.text().await.unwrap();
        assert!(
            page.contains("no enabled plan selects this device"),
            "{page}"
        );
    }
    let (status, body) = call(
        reqwest::Method::POST,
        &link,
        Some(&format!("Bearer {LINK_TOKEN}")),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["jobs"], json!([]));
    let (status, _) = call(
        reqwest::Method::GET,
        &format!("{link}?token=wrong"),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

// ---------------------------------------------------------------------------------------------
// Against a real NetBox

async fn junos_registry() -> Registry {
    let runtime = Runtime::new(RuntimeConfig::default()).unwrap();
    let mut registry = Registry::new();
    registry
        .add(
            runtime
                .load(nbfacts_tests::JUNOS, "builtin:junos")
                .await
                .unwrap(),
        )
        .unwrap();
    registry
}

/// Gives the seeded device a primary IPv4 address (on an interface `mgmt0`), so it is ready.
async fn make_ready(nb: &NetBox, device: u64, octet: u8) {
    let ifaces = nb
        .list(
            "/api/dcim/interfaces/",
            &[
                ("device_id".into(), device.to_string()),
                ("name".into(), "mgmt0".into()),
            ],
        )
        .await
        .unwrap();
    let iface = match ifaces.first() {
        Some(i) => i["id"].as_u64().unwrap(),
        None => nb
            .create(
                "/api/dcim/interfaces/",
                json!({"device": device, "name": "mgmt0", "type": "virtual"}),
            )
            .await
            .unwrap()["id"]
            .as_u64()
            .unwrap(),
    };
    let pid = std::process::id();
    let address = format!("10.{}.{}.{octet}/32", (pid >> 8) & 255, pid & 255);
    let found = nb
        .list(
            "/api/ipam/ip-addresses/",
            &[("address".into(), address.clone())],
        )
        .await
        .unwrap();
    let ip = match found.first() {
        Some(ip) => ip["id"].as_u64().unwrap(),
        None => nb
            .create(
                "/api/ipam/ip-addresses/",
                json!({"address": address, "status": "active",
                       "assigned_object_type": "dcim.interface", "assigned_object_id": iface}),
            )
            .await
            .unwrap()["id"]
            .as_u64()
            .unwrap(),
    };
    nb.update_many(
        "/api/dcim/devices/",
        vec![json!({"id": device, "primary_ip4": ip, "status": "active"})],
    )
    .await
    .unwrap();
}

/// A host with the junos plugin, its workers running and a plan selecting `device` by name.
async fn host_with_plan(nb: &NetBox, plan: &str, device: &str) -> Host {
    let host = host(nb.clone(), junos_registry().await);
    let mut p = Plan::new(plan, ["inventory"]);
    p.filter.devices = vec![device.to_string()];
    host.add_plan(p).unwrap();
    host.start_workers();
    host
}

/// The next job queued for `plan`, within `within`.
async fn queued(
    events: &mut broadcast::Receiver<JobEvent>,
    plan: &str,
    within: Duration,
) -> Option<u64> {
    tokio::time::timeout(within, async {
        loop {
            match events.recv().await {
                Ok(JobEvent::Queued { job, plan: p }) if p == plan => return job,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => std::future::pending().await,
            }
        }
    })
    .await
    .ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a running NetBox: scripts/netbox up"]
async fn netbox_api_webhook_queues_relevant_changes_and_ignores_comments() {
    let nb = netbox();
    assert!(!token_user(&nb).await.unwrap().is_empty());
    let name = format!("api-hook-{}", std::process::id());
    let device = seed(&nb, &name).await;
    make_ready(&nb, device, 1).await;
    let plan = format!("hook-{}", std::process::id());
    let host = host_with_plan(&nb, &plan, &name).await;
    // The test token's user makes the changes below, so no user is ignored here (the unit
    // tests cover `ignore_user`).
    let base = serve(host.clone(), config()).await;
    let hook_url = format!("{base}/api/v1/webhooks/netbox");
    let steps = ensure_webhook(&nb, &hook_url, &Secret::new(HOOK_SECRET))
        .await
        .unwrap();
    assert_eq!(steps.len(), 2, "{steps:?}");
    let again = ensure_webhook(&nb, &hook_url, &Secret::new(HOOK_SECRET))
        .await
        .unwrap();
    assert!(
        again
            .iter()
            .all(|(_, _, s)| *s == nbfacts_host::netbox::InitStep::Found),
        "{again:?}"
    );

    // A relevant change (status) queues a job for the device.
    let mut events = host.subscribe();
    nb.update_many(
        "/api/dcim/devices/",
        vec![json!({"id": device, "status": "planned"})],
    )
    .await
    .unwrap();
    let job = queued(&mut events, &plan, Duration::from_secs(30))
        .await
        .expect("no job queued within 30 s of the status change");
    let record = host.wait(job).await.unwrap();
    assert_eq!(record.trigger, "webhook");
    assert_eq!(record.state, JobState::Failed, "{:#?}", record.log);
    assert!(
        record.results.iter().all(|r| r.device == name),
        "{:#?}",
        record.results
    );
    assert!(!record.results.is_empty());

    // An irrelevant change (comments) is delivered, and ignored.
    let comment = format!("nbfacts api test {job}");
    nb.update_many(
        "/api/dcim/devices/",
        vec![json!({"id": device, "comments": comment})],
    )
    .await
    .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let ignored = loop {
        let (_, recent) = call(
            reqwest::Method::GET,
            &format!("{base}/api/v1/webhooks/recent"),
            Some(BEARER),
            None,
        )
        .await;
        let seen = recent.as_array().unwrap().iter().find(|e| {
            e["device"] == device
                && e["ignored"]
                    .as_str()
                    .is_some_and(|w| w.contains("comments"))
        });
        if let Some(entry) = seen {
            break entry.clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the comments change was not delivered within 30 s: {recent}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        ignored["ignored"]
            .as_str()
            .unwrap()
            .contains("no relevant field"),
        "{ignored}"
    );
    let mut later = Vec::new();
    while let Ok(event) = events.try_recv() {
        if let JobEvent::Queued { job, plan: p } = event
            && p == plan
        {
            later.push(job);
        }
    }
    assert!(later.is_empty(), "a comments change queued jobs {later:?}");

    // Leave the device as it was and stop NetBox from calling a listener that goes away.
    nb.update_many(
        "/api/dcim/devices/",
        vec![json!({"id": device, "status": "active"})],
    )
    .await
    .unwrap();
    let rules = nb
        .list(
            "/api/extras/event-rules/",
            &[(
                "name".into(),
                nbfacts_host::netbox::triggers::EVENT_RULE_NAME.into(),
            )],
        )
        .await
        .unwrap();
    nb.update_many(
        "/api/extras/event-rules/",
        vec![json!({"id": rules[0]["id"], "enabled": false})],
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a running NetBox: scripts/netbox up"]
async fn netbox_api_custom_link_queues_the_device_it_is_shown_on() {
    let nb = netbox();
    let name = format!("api-link-{}", std::process::id());
    let device = seed(&nb, &name).await;
    make_ready(&nb, device, 2).await;
    let plan = format!("link-{}", std::process::id());
    let host = host_with_plan(&nb, &plan, &name).await;
    let base = serve(host.clone(), config()).await;
    let link_token = Secret::new(LINK_TOKEN);
    ensure_custom_link(&nb, &base, Some(&link_token))
        .await
        .unwrap();
    let again = ensure_custom_link(&nb, &base, Some(&link_token))
        .await
        .unwrap();
    assert_eq!(again, nbfacts_host::netbox::InitStep::Found);

    let links = nb
        .list(
            "/api/extras/custom-links/",
            &[(
                "name".into(),
                nbfacts_host::netbox::triggers::CUSTOM_LINK_NAME.into(),
            )],
        )
        .await
        .unwrap();
    let link = &links[0];
    assert_eq!(link["object_types"], json!(["dcim.device"]));
    assert_eq!(link["new_window"], true);
    let template = link["link_url"].as_str().unwrap();
    assert!(template.contains("{{ object.id }}"), "{template}");
    // The link carries the link-only token, never the main API token.
    assert!(template.ends_with("?token=link-only-token"), "{template}");
    let url = template.replace("{{ object.id }}", &device.to_string());

    let mut events = host.subscribe();
    let response = client()
        .get(&url)
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let page = response.text().await.unwrap();
    assert!(page.contains(&plan), "{page}");
    let job = queued(&mut events, &plan, Duration::from_secs(5))
        .await
        .unwrap();
    let record = host.wait(job).await.unwrap();
    assert_eq!(record.trigger, "netbox-link");
    assert!(
        record.results.iter().all(|r| r.device == name),
        "{:#?}",
        record.results
    );
    assert!(!record.results.is_empty());
}
