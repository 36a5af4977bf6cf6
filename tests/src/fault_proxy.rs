//! A fault-injecting HTTP proxy for tests: it sits on loopback in front of a real NetBox and,
//! following a script, answers some requests itself (a 503, a 429 with `Retry-After`, a hang
//! past the client's timeout) before or after passing them on. It counts every request.
//!
//! ```no_run
//! # async fn demo() {
//! use nbfacts_tests::fault_proxy::{Fault, FaultProxy, Rule};
//! let proxy = FaultProxy::start("http://127.0.0.1:8765").await.unwrap();
//! // The next two GETs of interfaces answer 503; the third passes through.
//! proxy.push(Rule::new("GET", "/api/dcim/interfaces/", Fault::status(503)).times(2));
//! // point the NetBox client at proxy.url() …
//! assert_eq!(proxy.injected(), 2);
//! # }
//! ```
//!
//! Rules are tried in order; the first one that matches a request and has uses left applies
//! (and uses one up); a request no rule matches passes through. "Lost answers" are faults
//! applied *after* the request went to NetBox, so NetBox did the work and the client does not
//! know: [`Fault::after_forwarding`].

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Channel, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// What the proxy does instead of (or after) passing a request on.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    kind: FaultKind,
    after_forwarding: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum FaultKind {
    Status {
        status: u16,
        retry_after: Option<u64>,
        body: String,
    },
    Hang(Duration),
    StallBody(Duration),
}

impl Fault {
    /// Answer `status` with a small JSON body, like a proxy in front of NetBox would.
    pub fn status(status: u16) -> Self {
        Self {
            kind: FaultKind::Status {
                status,
                retry_after: None,
                body: format!(r#"{{"detail":"injected {status} by the fault proxy"}}"#),
            },
            after_forwarding: false,
        }
    }

    /// Answer 429 Too Many Requests with `Retry-After: seconds`.
    pub fn too_many_requests(seconds: u64) -> Self {
        Self {
            kind: FaultKind::Status {
                status: 429,
                retry_after: Some(seconds),
                body: r#"{"detail":"Request was throttled (injected by the fault proxy)."}"#.into(),
            },
            after_forwarding: false,
        }
    }

    /// Answer `status` with `body` (e.g. a NetBox-style validation error).
    pub fn status_with_body(status: u16, body: impl Into<String>) -> Self {
        Self {
            kind: FaultKind::Status {
                status,
                retry_after: None,
                body: body.into(),
            },
            after_forwarding: false,
        }
    }

    /// Answer nothing for `duration` (then 504): longer than the client's timeout, a hang.
    pub fn hang(duration: Duration) -> Self {
        Self {
            kind: FaultKind::Hang(duration),
            after_forwarding: false,
        }
    }

    /// Pass the request to NetBox, send its status line, headers and half of its body, then
    /// nothing for `duration` (then the body ends short): an answer that times out midway.
    pub fn stall_body(duration: Duration) -> Self {
        Self {
            kind: FaultKind::StallBody(duration),
            after_forwarding: true,
        }
    }

    /// Pass the request to NetBox first and then answer with the fault instead of NetBox's
    /// answer: the write happened, the client cannot know.
    pub fn after_forwarding(mut self) -> Self {
        self.after_forwarding = true;
        self
    }
}

/// When a fault applies: method, path prefix, how many times.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    method: String,
    path_prefix: String,
    remaining: usize,
    fault: Fault,
}

impl Rule {
    /// `fault` for the next request whose method is `method` (`"*"`: any) and whose path starts
    /// with `path_prefix`. Once, unless [`Rule::times`] says otherwise.
    pub fn new(method: &str, path_prefix: &str, fault: Fault) -> Self {
        Self {
            method: method.to_ascii_uppercase(),
            path_prefix: path_prefix.to_string(),
            remaining: 1,
            fault,
        }
    }

    /// Applies to the next `n` matching requests.
    pub fn times(mut self, n: usize) -> Self {
        self.remaining = n;
        self
    }

    /// Applies to every matching request.
    pub fn always(self) -> Self {
        self.times(usize::MAX)
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        self.remaining > 0
            && (self.method == "*" || self.method == method)
            && path.starts_with(&self.path_prefix)
    }
}

/// One request the proxy saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// HTTP method.
    pub method: String,
    /// Path without the query.
    pub path: String,
    /// True when a fault was injected.
    pub faulted: bool,
    /// True when the request reached NetBox.
    pub forwarded: bool,
}

#[derive(Debug, Default)]
struct State {
    rules: Vec<Rule>,
    seen: Vec<Seen>,
}

/// The proxy. Stops when dropped.
#[derive(Debug)]
pub struct FaultProxy {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: JoinHandle<()>,
}

impl FaultProxy {
    /// Starts a proxy on an ephemeral loopback port in front of `upstream` (a base URL).
    pub async fn start(upstream: &str) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State::default()));
        let upstream = Arc::new(Upstream {
            base: upstream.trim_end_matches('/').to_string(),
            http: reqwest::Client::builder()
                .build()
                .map_err(std::io::Error::other)?,
        });
        let shared = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = shared.clone();
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let service =
                        service_fn(move |request| handle(request, state.clone(), upstream.clone()));
                    // A client that gives up mid-request closes the connection: not an error here.
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self { addr, state, task })
    }

    /// The proxy's base URL, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Adds a rule after the existing ones.
    pub fn push(&self, rule: Rule) {
        self.lock().rules.push(rule);
    }

    /// Removes every rule (requests pass through from now on).
    pub fn clear(&self) {
        self.lock().rules.clear();
    }

    /// Every request seen so far, in arrival order.
    pub fn seen(&self) -> Vec<Seen> {
        self.lock().seen.clone()
    }

    /// Requests seen with `method` (`"*"`: any) and a path starting with `path_prefix`.
    pub fn count(&self, method: &str, path_prefix: &str) -> usize {
        let method = method.to_ascii_uppercase();
        self.lock()
            .seen
            .iter()
            .filter(|s| (method == "*" || s.method == method) && s.path.starts_with(path_prefix))
            .count()
    }

    /// Faults injected so far.
    pub fn injected(&self) -> usize {
        self.lock().seen.iter().filter(|s| s.faulted).count()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A test that panicked while holding the lock has failed already; keep the data.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Debug)]
struct Upstream {
    base: String,
    http: reqwest::Client,
}

type Body = BoxBody<Bytes, Infallible>;

async fn handle(
    request: Request<Incoming>,
    state: Arc<Mutex<State>>,
    upstream: Arc<Upstream>,
) -> Result<Response<Body>, Infallible> {
    let method = request.method().as_str().to_string();
    let path = request.uri().path().to_string();
    let fault = {
        let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
        let fault = state
            .rules
            .iter_mut()
            .find(|r| r.matches(&method, &path))
            .map(|rule| {
                rule.remaining = rule.remaining.saturating_sub(1);
                rule.fault.clone()
            });
        state.seen.push(Seen {
            method: method.clone(),
            path: path.clone(),
            faulted: fault.is_some(),
            forwarded: fault.as_ref().is_none_or(|f| f.after_forwarding),
        });
        fault
    };
    let forwarded = match &fault {
        Some(f) if !f.after_forwarding => None,
        _ => Some(forward(request, &upstream).await),
    };
    Ok(match (fault, forwarded) {
        (Some(fault), forwarded) => inject(&fault.kind, forwarded).await,
        (None, Some(answer)) => answer.map(BodyExt::boxed),
        (None, None) => plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            "unreachable".into(),
            None,
        )
        .map(BodyExt::boxed),
    })
}

async fn forward(request: Request<Incoming>, upstream: &Upstream) -> Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            return plain(
                StatusCode::BAD_GATEWAY,
                format!("reading the request: {e}"),
                None,
            );
        }
    };
    let target = format!(
        "{}{}",
        upstream.base,
        parts.uri.path_and_query().map_or("/", |p| p.as_str())
    );
    let Ok(method) = reqwest::Method::from_bytes(parts.method.as_str().as_bytes()) else {
        return plain(StatusCode::BAD_REQUEST, "bad method".into(), None);
    };
    let mut out = upstream.http.request(method, &target).body(body);
    for (name, value) in &parts.headers {
        if !is_hop_by_hop(name.as_str()) && name != "host" {
            out = out.header(name.as_str(), value.as_bytes());
        }
    }
    let answer = match out.send().await {
        Ok(answer) => answer,
        Err(e) => return plain(StatusCode::BAD_GATEWAY, format!("upstream: {e}"), None),
    };
    let status = answer.status().as_u16();
    let headers: Vec<(String, Vec<u8>)> = answer
        .headers()
        .iter()
        .filter(|(name, _)| !is_hop_by_hop(name.as_str()) && *name != "content-length")
        .map(|(name, value)| (name.as_str().to_string(), value.as_bytes().to_vec()))
        .collect();
    let bytes = match answer.bytes().await {
        Ok(bytes) => bytes,
        Err(e) => return plain(StatusCode::BAD_GATEWAY, format!("upstream body: {e}"), None),
    };
    let mut response = Response::builder().status(status);
    for (name, value) in headers {
        response = response.header(name, value);
    }
    response
        .body(Full::new(bytes))
        .unwrap_or_else(|e| plain(StatusCode::BAD_GATEWAY, format!("answer: {e}"), None))
}

async fn inject(kind: &FaultKind, forwarded: Option<Response<Full<Bytes>>>) -> Response<Body> {
    match kind {
        FaultKind::StallBody(duration) => {
            let Some(answer) = forwarded else {
                return plain(StatusCode::BAD_GATEWAY, "nothing to stall".into(), None)
                    .map(BodyExt::boxed);
            };
            let (mut parts, body) = answer.into_parts();
            let bytes = match body.collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(never) => match never {},
            };
            let (mut sender, channel) = Channel::<Bytes, Infallible>::new(1);
            let duration = *duration;
            tokio::spawn(async move {
                let half = bytes.slice(..bytes.len() / 2);
                if sender.send_data(half).await.is_ok() {
                    tokio::time::sleep(duration).await;
                }
                // The client has given up by now; ending the body short is all that is left.
                drop(sender);
            });
            // Chunked: the client cannot tell the answer is short until it ends.
            parts.headers.remove(hyper::header::CONTENT_LENGTH);
            Response::from_parts(parts, channel.boxed())
        }
        FaultKind::Status {
            status,
            retry_after,
            body,
        } => plain(
            StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            body.clone(),
            *retry_after,
        )
        .map(BodyExt::boxed),
        FaultKind::Hang(duration) => {
            // The client gives up first and closes the connection, which drops this future.
            tokio::time::sleep(*duration).await;
            plain(StatusCode::GATEWAY_TIMEOUT, "hung".into(), None).map(BodyExt::boxed)
        }
    }
}

fn plain(status: StatusCode, body: String, retry_after: Option<u64>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(hyper::header::RETRY_AFTER, seconds.into());
    }
    response
}

fn is_hop_by_hop(name: &str) -> bool {
    matches!(
        name,
        "connection"
            | "keep-alive"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
    )
}
