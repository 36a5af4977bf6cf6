//! The two NetBox triggers: the "Collect facts" custom link (a browser opens
//! `/api/v1/collect/device/{id}`) and the device-change webhook (`/api/v1/webhooks/netbox`).
//!
//! A webhook collects when a NetBox device was created, or changed in a field that decides
//! what or how nbfacts collects ([`RELEVANT_FIELDS`]), and the device is ready: it has a
//! platform (hence a driver), a management address and a status nbfacts collects from.
//! Everything else is answered `200 {"ignored": "<reason>"}`, and the last
//! `RECENT_WEBHOOKS` outcomes are kept for `GET /api/v1/webhooks/recent`, so an
//! operator can see why a change did or did not start a collection.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::{Value, json};
use sha2::{Digest, Sha512};

use super::{ApiError, ApiResult, RECENT_WEBHOOKS, Shared, constant_time_eq, json_response};
use crate::host::{Enqueued, Trigger};
use crate::netbox::inventory::target_from;
use crate::netbox::{AddressPreference, PlatformMap};

/// Device fields whose change starts a collection: identity, addressing, driver and the plan
/// filters. nbfacts never writes any of them (its inventory collector writes `serial` and its
/// custom fields), so its own writes cannot start a loop.
pub const RELEVANT_FIELDS: &[&str] = &[
    "name",
    "primary_ip4",
    "primary_ip6",
    "oob_ip",
    "platform",
    "role",
    "site",
    "status",
];

/// Device statuses nbfacts collects from.
pub const READY_STATUSES: &[&str] = &["active", "planned", "staged"];

/// The header NetBox signs webhooks with: hex HMAC-SHA512 of the body.
pub const SIGNATURE_HEADER: &str = "X-Hook-Signature";

/// What a webhook asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookDecision {
    /// Collect this device.
    Collect {
        /// NetBox device id.
        device: u64,
        /// Device name.
        name: String,
        /// Driver from the platform map.
        driver: String,
        /// Why (created, or which fields changed).
        reason: String,
    },
    /// Nothing to do, and why.
    Ignore(String),
}

/// Decides what a NetBox webhook body asks for. `payload` is NetBox 4.7's body
/// (`event`, `object_type`, `data`, `snapshots`, `request.user`); the pre-4.5 names (`model`,
/// `username`) are read too.
pub fn decide(
    payload: &Value,
    platforms: &PlatformMap,
    ignore_user: Option<&str>,
) -> WebhookDecision {
    use WebhookDecision::Ignore;
    let object_type = payload
        .get("object_type")
        .or_else(|| payload.get("model"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    if object_type != "dcim.device" && object_type != "device" {
        return Ignore(format!("not a device event (object type `{object_type}`)"));
    }
    let event = payload
        .get("event")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let event = event.strip_prefix("object_").unwrap_or(event);
    let user = payload
        .pointer("/request/user")
        .or_else(|| payload.get("username"))
        .and_then(Value::as_str);
    if let (Some(user), Some(ignored)) = (user, ignore_user)
        && user == ignored
    {
        return Ignore(format!("made by `{user}`, nbfacts's own NetBox user"));
    }
    let reason = match event {
        "created" => "device created".to_string(),
        "updated" => {
            let pre = payload.pointer("/snapshots/prechange");
            let post = payload.pointer("/snapshots/postchange");
            let (Some(pre), Some(post)) = (pre.filter(|v| v.is_object()), post) else {
                return Ignore("an update without snapshots: cannot tell what changed".into());
            };
            let changed: Vec<&str> = RELEVANT_FIELDS
                .iter()
                .copied()
                .filter(|f| pre.get(f) != post.get(f))
                .collect();
            if changed.is_empty() {
                let mut others: Vec<&str> = post
                    .as_object()
                    .map(|o| {
                        o.iter()
                            .filter(|(k, v)| pre.get(k.as_str()) != Some(*v))
                            .map(|(k, _)| k.as_str())
                            .collect()
                    })
                    .unwrap_or_default();
                others.sort_unstable();
                return Ignore(format!(
                    "no relevant field changed (changed: {})",
                    if others.is_empty() {
                        "nothing".to_string()
                    } else {
                        others.join(", ")
                    }
                ));
            }
            format!("changed: {}", changed.join(", "))
        }
        other => return Ignore(format!("`{other}` events do not start a collection")),
    };
    let Some(data) = payload.get("data") else {
        return Ignore("no `data` in the webhook body".into());
    };
    let Some(target) = target_from(data, platforms, AddressPreference::PrimaryThenOob) else {
        return Ignore("the device in `data` has no id".into());
    };
    if target.driver.is_empty() {
        return Ignore(format!(
            "device {} has no platform, so no driver",
            target.name
        ));
    }
    if target.address.is_none() {
        return Ignore(format!(
            "device {} has no primary or out-of-band IP",
            target.name
        ));
    }
    if !READY_STATUSES.contains(&target.status.as_str()) {
        return Ignore(format!(
            "device {} is {} (collected when {})",
            target.name,
            if target.status.is_empty() {
                "without status"
            } else {
                &target.status
            },
            READY_STATUSES.join(", ")
        ));
    }
    WebhookDecision::Collect {
        device: target.id,
        name: target.name,
        driver: target.driver,
        reason,
    }
}

/// HMAC-SHA512 (RFC 2104). Written out because the workspace's `hmac` is built on a newer
/// `digest` than its `sha2`; the unit tests pin it to RFC 4231's test vectors.
pub fn hmac_sha512(key: &[u8], message: &[u8]) -> [u8; 64] {
    const BLOCK: usize = 128;
    let mut block = [0u8; BLOCK];
    let hashed;
    let key = if key.len() > BLOCK {
        hashed = Sha512::digest(key);
        hashed.as_slice()
    } else {
        key
    };
    for (slot, byte) in block.iter_mut().zip(key) {
        *slot = *byte;
    }
    let pad = |with: u8| block.map(|b| b ^ with);
    let inner = Sha512::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    let outer = Sha512::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize();
    outer.into()
}

/// True when `signature` (hex) is the HMAC-SHA512 of `body` with `secret`.
pub fn signature_valid(secret: &[u8], body: &[u8], signature: &str) -> bool {
    let Ok(given) = hex::decode(signature.trim()) else {
        return false;
    };
    constant_time_eq(&hmac_sha512(secret, body), &given)
}

/// Webhook and link counters for `/metrics`.
#[derive(Debug, Default)]
pub(super) struct Counters {
    collect: AtomicU64,
    ignored: AtomicU64,
    refused: AtomicU64,
    failed: AtomicU64,
    link: AtomicU64,
}

pub(super) fn metrics_text(state: &super::ApiState) -> String {
    let c = &state.counters;
    let n = |a: &AtomicU64| a.load(Ordering::Relaxed);
    format!(
        "# HELP nbfacts_webhooks_total NetBox webhooks by outcome.\n# TYPE nbfacts_webhooks_total counter\n\
         nbfacts_webhooks_total{{outcome=\"collect\"}} {}\n\
         nbfacts_webhooks_total{{outcome=\"ignored\"}} {}\n\
         nbfacts_webhooks_total{{outcome=\"refused\"}} {}\n\
         nbfacts_webhooks_total{{outcome=\"failed\"}} {}\n\
         # HELP nbfacts_link_requests_total Collections requested through the NetBox link.\n\
         # TYPE nbfacts_link_requests_total counter\nnbfacts_link_requests_total {}\n",
        n(&c.collect),
        n(&c.ignored),
        n(&c.refused),
        n(&c.failed),
        n(&c.link)
    )
}

fn remember(state: &super::ApiState, entry: Value) {
    let mut recent = state
        .recent
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if recent.len() >= RECENT_WEBHOOKS {
        recent.pop_back();
    }
    recent.push_front(entry);
}

/// `GET /api/v1/webhooks/recent`: the last webhook outcomes, newest first.
pub(super) async fn recent(State(state): State<Shared>) -> Response {
    let recent: Vec<Value> = state
        .recent
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .iter()
        .cloned()
        .collect();
    json_response(StatusCode::OK, recent)
}

/// `POST /api/v1/webhooks/netbox`.
pub(super) async fn netbox_webhook(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let Some(secret) = &state.config.webhook_secret else {
        state.counters.refused.fetch_add(1, Ordering::Relaxed);
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no webhook secret is configured, so NetBox webhooks cannot be verified and are \
             refused; configure one and run `nbfacts netbox init --webhook URL` with it",
        ));
    };
    let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    let Some(signature) = signature else {
        state.counters.refused.fetch_add(1, Ordering::Relaxed);
        return Err(ApiError::unauthorized(format!(
            "missing {SIGNATURE_HEADER}: set the webhook's secret in NetBox"
        )));
    };
    if !signature_valid(secret.expose().as_bytes(), &body, signature) {
        state.counters.refused.fetch_add(1, Ordering::Relaxed);
        return Err(ApiError::unauthorized(format!(
            "wrong {SIGNATURE_HEADER}: the webhook's secret in NetBox differs from nbfacts's"
        )));
    }
    let payload: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("webhook body: {e}")))?;
    let mut decision = decide(
        &payload,
        &state.config.platforms,
        state.config.ignore_user.as_deref(),
    );
    if let WebhookDecision::Collect { name, driver, .. } = &decision
        && state.host.registry().canonical_driver(driver).is_none()
        && !state
            .host
            .store()
            .plans()?
            .iter()
            .any(|p| p.enabled && p.driver.is_some())
    {
        decision = WebhookDecision::Ignore(format!(
            "device {name}: no loaded plugin serves driver `{driver}`"
        ));
    }
    let device_id = payload.pointer("/data/id").and_then(Value::as_u64);
    let mut entry = json!({
        "time": crate::reconcile::rfc3339(SystemTime::now()),
        "device": device_id,
        "name": payload.pointer("/data/name"),
        "event": payload.get("event"),
        "user": payload.pointer("/request/user").or_else(|| payload.get("username")),
        "request_id": payload.pointer("/request/id").or_else(|| payload.get("request_id")),
    });
    let (status, answer) = match decision {
        WebhookDecision::Ignore(reason) => (StatusCode::OK, json!({ "ignored": reason })),
        WebhookDecision::Collect {
            device,
            name,
            reason,
            ..
        } => match state.host.collect_device(device, Trigger::Webhook).await {
            Ok(jobs) if jobs.is_empty() => (
                StatusCode::OK,
                json!({ "ignored": format!("no enabled plan selects device {name} ({reason})") }),
            ),
            Ok(jobs) => {
                tracing::info!(device = %name, reason = %reason, jobs = jobs.len(),
                    "NetBox webhook: collection queued.");
                (
                    StatusCode::ACCEPTED,
                    json!({ "device": device, "name": name, "reason": reason, "jobs": jobs }),
                )
            }
            Err(e) => {
                state.counters.failed.fetch_add(1, Ordering::Relaxed);
                if let (Some(obj), Some(more)) = (
                    entry.as_object_mut(),
                    json!({"error": e.to_string()}).as_object(),
                ) {
                    obj.extend(more.clone());
                }
                remember(&state, entry);
                return Err(ApiError::from(e));
            }
        },
    };
    let counter = if status == StatusCode::ACCEPTED {
        &state.counters.collect
    } else {
        &state.counters.ignored
    };
    counter.fetch_add(1, Ordering::Relaxed);
    if let (Some(obj), Some(more)) = (entry.as_object_mut(), answer.as_object()) {
        obj.extend(more.clone());
    }
    remember(&state, entry);
    Ok(json_response(status, answer))
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{t}</title>\
         <style>body{{font-family:sans-serif;margin:2em}}</style></head>\
         <body><h1>{t}</h1>{body}</body></html>\n",
        t = escape(title)
    )
}

/// `GET`/`POST /api/v1/collect/device/{id}`: what the NetBox link opens.
pub(super) async fn collect_link(
    State(state): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let html = wants_html(&headers);
    let device = match super::parse_id(&id, "device") {
        Ok(d) => d,
        Err(e) if html => {
            return (e.status, Html(page("nbfacts", &escape(&e.message)))).into_response();
        }
        Err(e) => return e.into_response(),
    };
    state.counters.link.fetch_add(1, Ordering::Relaxed);
    let jobs = match state.host.collect_device(device, Trigger::NetboxLink).await {
        Ok(jobs) => jobs,
        Err(e) => {
            let e = ApiError::from(e);
            if html {
                let title = format!("nbfacts: device {device}");
                return (
                    e.status,
                    Html(page(&title, &format!("<p>{}</p>", escape(&e.message)))),
                )
                    .into_response();
            }
            return e.into_response();
        }
    };
    let plan_of = |job: u64| {
        state
            .host
            .store()
            .job(job)
            .map(|j| j.name)
            .unwrap_or_default()
    };
    let listed: Vec<Value> = jobs
        .iter()
        .map(|q| {
            let status = match q {
                Enqueued::Queued(_) => "queued",
                Enqueued::AlreadyPending(_) => "already_pending",
            };
            json!({ "job": q.job(), "status": status, "plan": plan_of(q.job()) })
        })
        .collect();
    let message = if jobs.is_empty() {
        "no enabled plan selects this device".to_string()
    } else {
        format!("{} job(s) queued or already pending", jobs.len())
    };
    let status = if jobs.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    if html {
        let items: String = listed
            .iter()
            .map(|j| {
                format!(
                    "<li>job {} ({}): plan <b>{}</b></li>",
                    j["job"],
                    escape(j["status"].as_str().unwrap_or_default()),
                    escape(j["plan"].as_str().unwrap_or_default())
                )
            })
            .collect();
        let body = format!(
            "<p>{}</p><ul>{items}</ul><p>Follow a job with <code>nbfacts job show ID</code>; \
             its results appear on the device in NetBox when it completes.</p>",
            escape(&message)
        );
        return (
            status,
            Html(page(&format!("nbfacts: collect device {device}"), &body)),
        )
            .into_response();
    }
    json_response(
        status,
        json!({ "device": device, "message": message, "jobs": listed }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_sha512_matches_rfc4231() {
        // Test case 2.
        let mac = hmac_sha512(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac),
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d\
             034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
        );
        // Test case 6: a key longer than the block.
        let key = [0xaau8; 131];
        let mac = hmac_sha512(
            &key,
            b"Test Using Larger Than Block-Size Key - Hash Key First",
        );
        assert_eq!(
            hex::encode(mac),
            "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd\
             0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598"
        );
        assert!(signature_valid(
            b"Jefe",
            b"what do ya want for nothing?",
            &hex::encode(hmac_sha512(b"Jefe", b"what do ya want for nothing?"))
        ));
        assert!(!signature_valid(
            b"Jefe",
            b"what do ya want for nothing!",
            "00"
        ));
        assert!(!signature_valid(b"Jefe", b"x", "not hex"));
    }

    fn device(status: &str, ip: Option<&str>) -> Value {
        json!({
            "id": 13, "name": "leaf1", "site": {"id": 1, "slug": "lab"},
            "platform": {"id": 1, "slug": "junos"}, "status": {"value": status},
            "primary_ip4": ip.map(|a| json!({"id": 5, "address": a})),
            "primary_ip6": null, "oob_ip": null,
        })
    }

    fn updated(pre: Value, post: Value, data: Value) -> Value {
        json!({
            "event": "updated", "object_type": "dcim.device", "data": data,
            "snapshots": {"prechange": pre, "postchange": post},
            "request": {"id": "r1", "user": "alice"},
        })
    }

    #[test]
    fn webhooks_collect_only_for_relevant_changes_of_ready_devices() {
        let map = PlatformMap::default();
        let ready = device("active", Some("192.0.2.1/24"));
        let pre = json!({"status": "planned", "serial": "", "platform": 1, "comments": ""});
        let status_changed =
            json!({"status": "active", "serial": "", "platform": 1, "comments": ""});
        match decide(
            &updated(pre.clone(), status_changed, ready.clone()),
            &map,
            None,
        ) {
            WebhookDecision::Collect {
                device,
                reason,
                driver,
                ..
            } => {
                assert_eq!(device, 13);
                assert_eq!(driver, "junos");
                assert_eq!(reason, "changed: status");
            }
            other => panic!("{other:?}"),
        }
        // nbfacts's inventory collector writes the serial: never a trigger.
        let serial = json!({"status": "planned", "serial": "SN1", "platform": 1, "comments": ""});
        let WebhookDecision::Ignore(why) =
            decide(&updated(pre.clone(), serial, ready.clone()), &map, None)
        else {
            panic!()
        };
        assert!(
            why.contains("no relevant field") && why.contains("serial"),
            "{why}"
        );
        let comments = json!({"status": "planned", "serial": "", "platform": 1, "comments": "x"});
        assert!(matches!(
            decide(&updated(pre.clone(), comments, ready.clone()), &map, None),
            WebhookDecision::Ignore(_)
        ));
        // nbfacts's own user.
        let status_changed =
            json!({"status": "active", "serial": "", "platform": 1, "comments": ""});
        let WebhookDecision::Ignore(why) = decide(
            &updated(pre.clone(), status_changed.clone(), ready.clone()),
            &map,
            Some("alice"),
        ) else {
            panic!()
        };
        assert!(why.contains("alice"), "{why}");
        // Not ready: no address, or offline.
        let no_ip = device("active", None);
        assert!(matches!(
            decide(&updated(pre.clone(), status_changed.clone(), no_ip), &map, None),
            WebhookDecision::Ignore(w) if w.contains("no primary")
        ));
        let offline = device("offline", Some("192.0.2.1/24"));
        assert!(matches!(
            decide(&updated(pre, status_changed, offline), &map, None),
            WebhookDecision::Ignore(w) if w.contains("offline")
        ));
        // Created: no snapshot needed.
        let created = json!({"event": "created", "object_type": "dcim.device", "data": ready,
            "snapshots": {"prechange": null, "postchange": {}}});
        assert!(matches!(
            decide(&created, &map, None),
            WebhookDecision::Collect { .. }
        ));
        let deleted = json!({"event": "deleted", "object_type": "dcim.device", "data": {}});
        assert!(matches!(
            decide(&deleted, &map, None),
            WebhookDecision::Ignore(_)
        ));
        let site = json!({"event": "created", "object_type": "dcim.site", "data": {}});
        assert!(matches!(
            decide(&site, &map, None),
            WebhookDecision::Ignore(_)
        ));
    }
}
