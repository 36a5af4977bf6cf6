//! The HTTP API (`nbfacts serve`): plans, jobs, reports and the two NetBox triggers over the
//! embeddable [`Host`].
//!
//! [`router`] builds an [`axum::Router`]; [`serve`] runs it on a listener until shutdown:
//!
//! ```no_run
//! # async fn demo(host: nbfacts_host::host::Host) -> Result<(), Box<dyn std::error::Error>> {
//! use nbfacts_host::api::ApiConfig;
//! use nbfacts_host::netbox::Secret;
//!
//! let config = ApiConfig {
//!     token: Some(Secret::new("an API token")),
//!     webhook_secret: Some(Secret::new("the NetBox webhook secret")),
//!     ..ApiConfig::default()
//! };
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! host.start();
//! nbfacts_host::api::serve(listener, host.clone(), config, async {
//!     let _ = tokio::signal::ctrl_c().await;
//! })
//! .await?;
//! host.shutdown(std::time::Duration::from_secs(30)).await;
//! # Ok(()) }
//! ```
//!
//! Routes (the full list is [`ROUTES`]; `GET /api/v1/openapi.json` describes each one):
//! * `/healthz` and `/metrics` need no token (probes and Prometheus).
//! * Everything under `/api/v1/` needs `Authorization: Bearer <token>` (or `Token <token>`),
//!   except the NetBox webhook, which is authenticated by its HMAC signature instead.
//! * `GET /api/v1/collect/device/{id}` is what the NetBox custom link "Collect facts" opens in
//!   a browser, so it also accepts the token as `?token=`.
//!
//! ## Design decisions
//!
//! * **No token, no API.** Without a configured token every `/api/v1` call is refused with
//!   401 and a message saying how to configure one: an open API that can write to NetBox is
//!   never the default.
//! * **Tokens in URLs are a trade-off, confined to one route.** A custom link cannot send a
//!   header, so the collect route accepts `?token=`. A URL ends up in browser history, proxy
//!   and access logs, and every NetBox user who can see the device page can read the link. So
//!   the query token is accepted only on that route, and [`ApiConfig::link_token`] can be set
//!   to a second token that is valid *only* there (queueing a collection of one device is all
//!   it can do); the main token then never needs to appear in NetBox.
//! * **Constant-time comparisons.** Tokens are compared through their SHA-256 digests with a
//!   constant-time equality, so neither their content nor their length leaks through timing;
//!   webhook signatures are compared in constant time too.
//! * **Webhooks cannot start a loop.** A webhook collects only when a field that decides what
//!   or how nbfacts collects changed ([`webhook::RELEVANT_FIELDS`]). nbfacts itself writes
//!   none of them on a device (the inventory collector writes `serial`, and custom fields), and
//!   changes made by nbfacts's own NetBox user ([`ApiConfig::ignore_user`]) are ignored too.
//! * **Errors are JSON.** `{"error": "..."}` with the status that says what went wrong (404 for
//!   an unknown plan or job, 400 for a body that does not parse or validate), including for
//!   unknown routes and methods.

mod jobs;
mod openapi;
pub mod webhook;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::host::{Devices, Host, HostError, Trigger};
use crate::job::StoreError;
use crate::netbox::{AddressPreference, DeviceFilter, PlatformMap, Secret, resolve_targets};
use crate::plan::Plan;

pub use openapi::openapi;
pub use webhook::{WebhookDecision, decide};

/// How the API authenticates and what it knows beyond the host.
#[derive(Debug, Clone, Default)]
pub struct ApiConfig {
    /// The API bearer token. `None`: every `/api/v1` call is refused (401).
    pub token: Option<Secret>,
    /// A second token valid only for `GET`/`POST /api/v1/collect/device/{id}` (header or
    /// `?token=`): the one to put into the NetBox custom link, so the main token never
    /// appears in NetBox. `None`: the link uses the main token.
    pub link_token: Option<Secret>,
    /// The secret shared with the NetBox webhook. `None`: webhooks are refused (503).
    pub webhook_secret: Option<Secret>,
    /// NetBox username whose changes never trigger a collection (nbfacts's own user; see
    /// [`crate::netbox::triggers::token_user`]).
    pub ignore_user: Option<String>,
    /// Platform slug → driver (the host's map), to decide whether a device is ready.
    pub platforms: PlatformMap,
}

/// Every route: method and path (axum syntax, the same as OpenAPI's).
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("GET", "/metrics"),
    ("GET", "/api/v1/openapi.json"),
    ("GET", "/api/v1/plans"),
    ("POST", "/api/v1/plans"),
    ("GET", "/api/v1/plans/{name}"),
    ("PUT", "/api/v1/plans/{name}"),
    ("DELETE", "/api/v1/plans/{name}"),
    ("POST", "/api/v1/plans/{name}/enable"),
    ("POST", "/api/v1/plans/{name}/disable"),
    ("POST", "/api/v1/plans/{name}/run"),
    ("GET", "/api/v1/status"),
    ("GET", "/api/v1/jobs"),
    ("GET", "/api/v1/jobs/{id}"),
    ("GET", "/api/v1/jobs/{id}/log"),
    ("POST", "/api/v1/jobs/{id}/cancel"),
    ("GET", "/api/v1/reports/{id}"),
    ("POST", "/api/v1/reports/{id}/apply"),
    ("POST", "/api/v1/reports/{id}/skip"),
    ("GET", "/api/v1/plugins"),
    ("GET", "/api/v1/devices"),
    ("GET", "/api/v1/collect/device/{id}"),
    ("POST", "/api/v1/collect/device/{id}"),
    ("POST", "/api/v1/webhooks/netbox"),
    ("GET", "/api/v1/webhooks/recent"),
];

/// Path of the collect route, before the device id.
const COLLECT_PREFIX: &str = "/api/v1/collect/device/";

/// How many webhook outcomes `GET /api/v1/webhooks/recent` keeps.
const RECENT_WEBHOOKS: usize = 100;

struct ApiState {
    host: Host,
    config: ApiConfig,
    /// Report apply/skip read, change and store a job record: one at a time.
    reports: tokio::sync::Mutex<()>,
    recent: Mutex<VecDeque<Value>>,
    counters: webhook::Counters,
}

type Shared = Arc<ApiState>;

/// The API over `host`.
pub fn router(host: Host, config: ApiConfig) -> Router {
    let state = Arc::new(ApiState {
        host,
        config,
        reports: tokio::sync::Mutex::new(()),
        recent: Mutex::new(VecDeque::new()),
        counters: webhook::Counters::default(),
    });
    let protected = Router::new()
        .route("/api/v1/openapi.json", get(openapi_json))
        .route("/api/v1/plans", get(list_plans).post(create_plan))
        .route(
            "/api/v1/plans/{name}",
            get(get_plan).put(put_plan).delete(delete_plan),
        )
        .route("/api/v1/plans/{name}/enable", post(enable_plan))
        .route("/api/v1/plans/{name}/disable", post(disable_plan))
        .route("/api/v1/plans/{name}/run", post(run_plan))
        .route("/api/v1/status", get(status))
        .route("/api/v1/jobs", get(jobs::list_jobs))
        .route("/api/v1/jobs/{id}", get(jobs::get_job))
        .route("/api/v1/jobs/{id}/log", get(jobs::job_log))
        .route("/api/v1/jobs/{id}/cancel", post(jobs::cancel_job))
        .route("/api/v1/reports/{id}", get(jobs::get_report))
        .route("/api/v1/reports/{id}/apply", post(jobs::apply_report))
        .route("/api/v1/reports/{id}/skip", post(jobs::skip_report))
        .route("/api/v1/plugins", get(plugins))
        .route("/api/v1/devices", get(devices))
        .route(
            "/api/v1/collect/device/{id}",
            get(webhook::collect_link).post(webhook::collect_link),
        )
        .route("/api/v1/webhooks/recent", get(webhook::recent))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_token));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/api/v1/webhooks/netbox", post(webhook::netbox_webhook))
        .merge(protected)
        .fallback(no_route)
        .method_not_allowed_fallback(wrong_method)
        .with_state(state)
}

/// Serves the API on `listener` until `shutdown` completes (then finishes the requests in
/// progress). What `nbfacts serve` runs next to [`Host::start`].
pub async fn serve(
    listener: tokio::net::TcpListener,
    host: Host,
    config: ApiConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(host, config))
        .with_graceful_shutdown(shutdown)
        .await
}

// ---------------------------------------------------------------------------------------------
// Errors and authentication

/// An error answer: `{"error": message}` with `status`.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response =
            (self.status, axum::Json(json!({ "error": self.message }))).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<HostError> for ApiError {
    fn from(e: HostError) -> Self {
        let status = match &e {
            HostError::NoSuchPlan(_) | HostError::NoSuchJob(_) => StatusCode::NOT_FOUND,
            HostError::Store(StoreError::NoSuchJob(_)) => StatusCode::NOT_FOUND,
            HostError::InvalidPlan(_) => StatusCode::BAD_REQUEST,
            HostError::NetBox(_) => StatusCode::BAD_GATEWAY,
            HostError::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Self::new(status, e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NoSuchJob(id) => Self::new(StatusCode::NOT_FOUND, format!("no job {id}")),
            other => Self::new(StatusCode::INTERNAL_SERVER_ERROR, other.to_string()),
        }
    }
}

type ApiResult = Result<Response, ApiError>;

/// Equality that takes the same time whatever the inputs (their SHA-256 digests are compared
/// byte by byte without an early exit, so not even the length leaks).
fn same_secret(given: &str, expected: &Secret) -> bool {
    let a = Sha256::digest(given.as_bytes());
    let b = Sha256::digest(expected.expose().as_bytes());
    constant_time_eq(&a, &b)
}

/// Constant-time equality of two byte strings of equal length (false when lengths differ).
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    // `black_box` keeps the optimiser from turning the fold into an early-exit comparison.
    std::hint::black_box(diff) == 0
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token"))
        .then(|| token.trim())
}

fn query_token(request: &Request) -> Option<String> {
    let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(request.uri()).ok()?;
    pairs
        .into_iter()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v)
}

async fn require_token(State(state): State<Shared>, request: Request, next: Next) -> Response {
    let Some(token) = &state.config.token else {
        return ApiError::unauthorized(
            "the nbfacts API has no token configured, so it refuses every call: configure an \
             API token (for `nbfacts serve`, the API token setting) and send it as \
             `Authorization: Bearer <token>`",
        )
        .into_response();
    };
    let collect_route = request.uri().path().starts_with(COLLECT_PREFIX)
        && matches!(*request.method(), Method::GET | Method::POST);
    let given = match bearer(request.headers()) {
        Some(t) => Some(t.to_string()),
        // A custom link cannot send a header; see the module documentation for the trade-off.
        None if collect_route => query_token(&request),
        None => None,
    };
    let Some(given) = given else {
        return ApiError::unauthorized(
            "missing API token: send `Authorization: Bearer <token>` (or `Token <token>`)",
        )
        .into_response();
    };
    let link_ok = collect_route
        && state
            .config
            .link_token
            .as_ref()
            .is_some_and(|t| same_secret(&given, t));
    if same_secret(&given, token) || link_ok {
        next.run(request).await
    } else {
        ApiError::unauthorized("wrong API token").into_response()
    }
}

async fn no_route(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!(
            "no route {method} {}; see GET /api/v1/openapi.json",
            uri.path()
        ),
    )
}

async fn wrong_method(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!(
            "{} does not accept {method}; see GET /api/v1/openapi.json",
            uri.path()
        ),
    )
}

fn json_response(status: StatusCode, value: impl Serialize) -> Response {
    (status, axum::Json(value)).into_response()
}

fn ok(value: impl Serialize) -> ApiResult {
    Ok(json_response(StatusCode::OK, value))
}

/// Parses a JSON body (`None` when it is empty), with a 400 that says what is wrong.
fn parse_body<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<Option<T>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(body)
        .map(Some)
        .map_err(|e| ApiError::bad_request(format!("request body: {e}")))
}

fn parse_id(text: &str, what: &str) -> Result<u64, ApiError> {
    text.parse()
        .map_err(|_| ApiError::bad_request(format!("`{text}` is not a {what} id (a number)")))
}

// ---------------------------------------------------------------------------------------------
// Health, metrics, the document

async fn healthz(State(state): State<Shared>) -> Response {
    let store = state
        .host
        .store()
        .plans()
        .map(|_| ())
        .map_err(|e| e.to_string());
    let queue = state.host.queue_len();
    let ok = store.is_ok();
    let body = json!({
        "ok": ok,
        "store": { "reachable": ok, "error": store.err() },
        "queue_length": queue,
    });
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    json_response(status, body)
}

async fn metrics(State(state): State<Shared>) -> Response {
    let mut text = state.host.metrics_text();
    text.push_str(&webhook::metrics_text(&state));
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4"),
        )],
        text,
    )
        .into_response()
}

async fn openapi_json() -> Response {
    json_response(StatusCode::OK, openapi())
}

// ---------------------------------------------------------------------------------------------
// Plans

async fn list_plans(State(state): State<Shared>) -> ApiResult {
    ok(state.host.store().plans()?)
}

fn plan_from(body: &Bytes) -> Result<Plan, ApiError> {
    let plan: Plan = parse_body(body)?
        .ok_or_else(|| ApiError::bad_request("request body: a plan (JSON) is required"))?;
    plan.validate().map_err(ApiError::bad_request)?;
    Ok(plan)
}

async fn create_plan(State(state): State<Shared>, body: Bytes) -> ApiResult {
    let plan = plan_from(&body)?;
    if state.host.store().plan(&plan.name)?.is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!(
                "plan `{}` exists; PUT /api/v1/plans/{} replaces it",
                plan.name, plan.name
            ),
        ));
    }
    state.host.add_plan(plan.clone())?;
    Ok(json_response(StatusCode::CREATED, plan))
}

fn stored_plan(state: &ApiState, name: &str) -> Result<Plan, ApiError> {
    state
        .host
        .store()
        .plan(name)?
        .ok_or_else(|| HostError::NoSuchPlan(name.into()).into())
}

async fn get_plan(State(state): State<Shared>, Path(name): Path<String>) -> ApiResult {
    let plan = stored_plan(&state, &name)?;
    let status = state
        .host
        .status()?
        .into_iter()
        .find(|s| s.plan.name == name);
    ok(json!({
        "plan": plan,
        "state": status.as_ref().map(|s| &s.state),
        "next_run": status.as_ref().and_then(|s| s.next_run),
        "pending": status.as_ref().is_some_and(|s| s.pending),
    }))
}

async fn put_plan(State(state): State<Shared>, Path(name): Path<String>, body: Bytes) -> ApiResult {
    let plan = plan_from(&body)?;
    if plan.name != name {
        return Err(ApiError::bad_request(format!(
            "the plan in the body is named `{}`, the URL names `{name}`",
            plan.name
        )));
    }
    let existed = state.host.store().plan(&name)?.is_some();
    state.host.add_plan(plan.clone())?;
    let status = if existed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok(json_response(status, plan))
}

async fn delete_plan(State(state): State<Shared>, Path(name): Path<String>) -> ApiResult {
    state.host.remove_plan(&name)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn enable_plan(State(state): State<Shared>, Path(name): Path<String>) -> ApiResult {
    state.host.set_enabled(&name, true)?;
    ok(stored_plan(&state, &name)?)
}

async fn disable_plan(State(state): State<Shared>, Path(name): Path<String>) -> ApiResult {
    state.host.set_enabled(&name, false)?;
    ok(stored_plan(&state, &name)?)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RunBody {
    #[serde(default)]
    devices: Vec<String>,
}

async fn run_plan(State(state): State<Shared>, Path(name): Path<String>, body: Bytes) -> ApiResult {
    let devices = parse_body::<RunBody>(&body)?
        .map(|b| b.devices)
        .filter(|d| !d.is_empty())
        .map(Devices::Names);
    let queued = state.host.enqueue(&name, Trigger::Manual, devices)?;
    Ok(json_response(StatusCode::ACCEPTED, queued))
}

async fn status(State(state): State<Shared>) -> ApiResult {
    ok(state.host.status()?)
}

// ---------------------------------------------------------------------------------------------
// Plugins and devices

async fn plugins(State(state): State<Shared>) -> ApiResult {
    let list: Vec<Value> = state
        .host
        .registry()
        .plugins()
        .iter()
        .map(|p| {
            let info = p.info();
            json!({
                "name": info.name,
                "version": info.version,
                "wit_version": info.wit_version,
                "sdk_version": info.sdk_version,
                "drivers": info.drivers.iter()
                    .map(|d| json!({ "name": d.name, "aliases": d.aliases }))
                    .collect::<Vec<_>>(),
                "collectors": info.collectors,
                "capabilities": info.capabilities,
                "source": p.source_name(),
                "sha256": p.digest(),
            })
        })
        .collect();
    ok(list)
}

async fn devices(
    State(state): State<Shared>,
    query: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
) -> ApiResult {
    let Query(pairs) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let mut filter = DeviceFilter::default();
    let mut preference = AddressPreference::PrimaryThenOob;
    for (key, value) in pairs {
        let list = match key.as_str() {
            "site" => &mut filter.sites,
            "role" => &mut filter.roles,
            "platform" => &mut filter.platforms,
            "tag" => &mut filter.tags,
            "status" => &mut filter.statuses,
            "name" => &mut filter.devices,
            "id" => {
                filter.ids.push(parse_id(&value, "device")?);
                continue;
            }
            "connection" => {
                preference =
                    serde_json::from_value(Value::String(value.clone())).map_err(|_| {
                        ApiError::bad_request(format!(
                            "connection `{value}`: use primary, oob, primary_then_oob or \
                         oob_then_primary"
                        ))
                    })?;
                continue;
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown filter `{other}`: use site, role, platform, tag, status, name, id \
                     (each may repeat) or connection"
                )));
            }
        };
        list.push(value);
    }
    let targets = resolve_targets(
        state.host.netbox(),
        &filter,
        &state.config.platforms,
        preference,
    )
    .await
    .map_err(|e| ApiError::new(StatusCode::BAD_GATEWAY, e.to_string()))?;
    ok(json!({ "count": targets.len(), "devices": targets }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_by_digest() {
        let t = Secret::new("abc");
        assert!(same_secret("abc", &t));
        assert!(!same_secret("abd", &t));
        assert!(!same_secret("ab", &t));
        assert!(!constant_time_eq(b"a", b"ab"));
    }

    #[test]
    fn the_document_and_the_route_table_agree() {
        let doc = openapi();
        let paths = doc["paths"].as_object().unwrap();
        for (method, path) in ROUTES {
            assert!(
                paths
                    .get(*path)
                    .and_then(|p| p.get(method.to_lowercase()))
                    .is_some(),
                "{method} {path} is not in the OpenAPI document"
            );
        }
        for (path, ops) in paths {
            for method in ops.as_object().unwrap().keys() {
                assert!(
                    ROUTES.contains(&(method.to_uppercase().as_str(), path.as_str())),
                    "{method} {path} is documented but not routed"
                );
            }
        }
    }
}
