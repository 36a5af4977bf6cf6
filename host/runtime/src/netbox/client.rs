//! A NetBox REST client built for reconciliation: bulk reads (many filter values per request,
//! pagination), concurrent reads of many devices coalesced into shared requests (see
//! `coalesce`), bulk writes (lists in one request), retries with backoff where repeating is
//! safe, request counting, and errors that carry NetBox's own message but never the token.

mod coalesce;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::Value;

/// A secret string: shown as `***` in `Debug` and `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// How to reach NetBox.
#[derive(Debug, Clone)]
pub struct NetBoxConfig {
    /// Base URL, e.g. `http://127.0.0.1:8765`.
    pub url: String,
    /// API token: a v2 token (`nbt_KEY.SECRET`) or a v1 token.
    pub token: Secret,
    /// Timeout of one request.
    pub timeout: Duration,
    /// Retries after the first attempt, for requests that are safe to repeat.
    pub retries: u32,
    /// First backoff; doubles at each retry.
    pub backoff: Duration,
    /// Items per page when reading lists.
    pub page_size: usize,
    /// Concurrent list reads that differ only in one filter's values share requests (see
    /// the module `coalesce`); `false` sends every read as it is.
    pub coalesce: bool,
}

impl NetBoxConfig {
    /// Defaults for `url` and `token`: 30 s timeout, 4 retries from 250 ms, pages of 1000.
    pub fn new(url: impl Into<String>, token: Secret) -> Self {
        Self {
            url: url.into().trim_end_matches('/').to_string(),
            token,
            timeout: Duration::from_secs(30),
            retries: 4,
            backoff: Duration::from_millis(250),
            page_size: 1000,
            coalesce: true,
        }
    }
}

/// A NetBox request failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum NetBoxError {
    /// NetBox answered with an error status. `message` is NetBox's own text.
    #[error("NetBox answered {status} to {method} {path}: {message}")]
    Status {
        /// HTTP method.
        method: String,
        /// Path and query.
        path: String,
        /// HTTP status code.
        status: u16,
        /// NetBox's message (the `detail` field or the field errors), shortened.
        message: String,
    },
    /// NetBox could not be reached, or the connection broke.
    #[error("cannot reach NetBox for {method} {path}: {message}")]
    Transport {
        /// HTTP method.
        method: String,
        /// Path and query.
        path: String,
        /// What failed.
        message: String,
    },
    /// A request timed out (after retries where retrying is safe).
    #[error("NetBox did not answer {method} {path} within {seconds} s")]
    Timeout {
        /// HTTP method.
        method: String,
        /// Path and query.
        path: String,
        /// The per-request timeout.
        seconds: u64,
    },
    /// NetBox's answer was not the JSON expected.
    #[error("unexpected answer from NetBox to {method} {path}: {message}")]
    Decode {
        /// HTTP method.
        method: String,
        /// Path and query.
        path: String,
        /// What was wrong.
        message: String,
    },
}

impl NetBoxError {
    /// The HTTP status, if NetBox answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            NetBoxError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// True for a 400 (validation) answer.
    pub fn is_validation(&self) -> bool {
        self.status() == Some(400)
    }
}

/// Requests made so far, by kind.
#[derive(Debug, Default)]
pub struct Counters {
    reads: AtomicU64,
    writes: AtomicU64,
    retries: AtomicU64,
}

/// A snapshot of [`Counters`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RequestCounts {
    /// GET requests (pages included) and GraphQL queries.
    pub reads: u64,
    /// POST (GraphQL queries aside), PATCH, PUT and DELETE requests.
    pub writes: u64,
    /// Repeated attempts.
    pub retries: u64,
}

impl Counters {
    fn snapshot(&self) -> RequestCounts {
        RequestCounts {
            reads: self.reads.load(Ordering::Relaxed),
            writes: self.writes.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
        }
    }
}

/// The requests of one piece of work (one collection of a job), across the clients it is
/// attached to with [`NetBox::tallied`]. A request that several callers share (a coalesced
/// read) counts once, for the caller that sent it, so tallies add up to the requests made.
#[derive(Debug, Clone, Default)]
pub struct Tally(Arc<Counters>);

impl Tally {
    /// Requests counted so far.
    pub fn counts(&self) -> RequestCounts {
        self.0.snapshot()
    }
}

/// The longest request line [`NetBox::list_any`] sends (method, path and query), below
/// gunicorn's default limit of 4094 bytes, which NetBox deployments run with (a longer line
/// is answered with 400 before NetBox sees it).
pub const MAX_REQUEST_LINE: usize = 3800;

/// Length of `s` in a URL query (`application/x-www-form-urlencoded`).
fn encoded_len(s: &str) -> usize {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'*' | b' ') {
                1
            } else {
                3
            }
        })
        .sum()
}

/// `values` split so that each request line (with `filters`, the key and the paging
/// parameters) stays within [`MAX_REQUEST_LINE`]; at least one value per chunk.
fn query_chunks<'a>(
    path: &str,
    filters: &[(String, String)],
    key: &str,
    values: &'a [String],
) -> Vec<&'a [String]> {
    // "GET " + path + "?" + filters + "limit=…&offset=…" + " HTTP/1.1"
    let fixed = 4
        + path.len()
        + 1
        + filters
            .iter()
            .map(|(k, v)| encoded_len(k) + encoded_len(v) + 2)
            .sum::<usize>()
        + 40
        + 9;
    let budget = MAX_REQUEST_LINE.saturating_sub(fixed);
    let mut chunks = Vec::new();
    let (mut start, mut used) = (0, 0);
    for (i, v) in values.iter().enumerate() {
        let len = encoded_len(key) + encoded_len(v) + 2;
        if i > start && used + len > budget {
            chunks.extend(values.get(start..i));
            (start, used) = (i, 0);
        }
        used += len;
    }
    if start < values.len() {
        chunks.extend(values.get(start..));
    }
    chunks
}

/// NetBox's GraphQL endpoint (see [`NetBox::graphql`]).
const GRAPHQL: &str = "/graphql/";

/// How long answers that only change when NetBox is reconfigured are kept: the installed
/// plugins (`/api/status/`) and object type ids. A plugin installed or removed (which takes a
/// NetBox restart) is noticed within this time.
pub const STABLE_TTL: Duration = Duration::from_secs(300);

/// Answers kept for [`STABLE_TTL`], shared by a client's clones (a branch has the same
/// plugins and object types as main).
#[derive(Debug, Default)]
struct Stable {
    status: Mutex<Option<(Instant, Value)>>,
    /// `app_label.model` → (read at, id).
    object_types: Mutex<HashMap<String, (Instant, Option<u64>)>>,
    /// Coalescing group → (read at, objects the group's other filters select): only an
    /// estimate, for choosing how a batch is read (never for what it returns).
    sizes: Mutex<HashMap<String, (Instant, u64)>>,
}

/// Requests of one coalesced batch in flight at once: a big batch (thousands of values, or
/// of objects that exist) keeps both of the two gunicorn workers NetBox deployments start
/// with busy, without crowding out the other groups' requests.
const BATCH_PARALLELISM: usize = 2;

/// How long a table size estimate is used.
const SIZE_TTL: Duration = Duration::from_secs(60);

/// `filters` without a `fields` projection the caller asked for (the projection of a batch
/// read is its own).
fn without_fields(filters: &[(String, String)]) -> Vec<(String, String)> {
    filters
        .iter()
        .filter(|(k, _)| k != "fields")
        .cloned()
        .collect()
}

/// Rows of a `fields=id,<field>` projection NetBox serves in the time of one small request
/// (measured on NetBox 4.7.3, 2 cores: a 1000-row page of MACs 130–250 ms, of IP addresses
/// 300–450 ms for 540 rows, against 35–50 ms for a filtered read that finds nothing).
fn projection_rows_per_request(matcher: coalesce::Match) -> u64 {
    match matcher {
        coalesce::Match::Address => 60,
        _ => 250,
    }
}

/// The NetBox client. Cheap to clone; clones share the connection pool, the counters and the
/// answers cached for [`STABLE_TTL`].
#[derive(Debug, Clone)]
pub struct NetBox {
    http: reqwest::Client,
    config: Arc<NetBoxConfig>,
    counters: Arc<Counters>,
    stable: Arc<Stable>,
    branch: Option<String>,
    tally: Option<Tally>,
    coalescer: Arc<coalesce::Coalescer>,
}

/// How [`NetBox::coalesced`] went.
enum Coalesced {
    /// The read is not one that can share requests (no rule for the filter, or a value whose
    /// meaning to NetBox is not certain).
    NotApplicable,
    /// Its batch could not answer it exactly: it reads alone.
    Alone,
    /// The answer.
    Done(Result<Vec<Value>, NetBoxError>),
}

/// Whether a failed request may be sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Repeat {
    /// GET, PATCH, PUT, DELETE: repeating gives the same state.
    Safe,
    /// POST: repeating after an unknown outcome could create a duplicate, so only retry when
    /// NetBox certainly did not process it (429, 503, connection refused). A create whose answer
    /// was lost (a timeout, a broken connection, a 500/502/504) is not repeated: the writer
    /// stops, and the re-run finds the object if it was made (reconcilers match by identity).
    OnlyIfUnprocessed,
}

impl NetBox {
    /// A client for `config`.
    pub fn new(config: NetBoxConfig) -> Result<Self, NetBoxError> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("nbfacts/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| NetBoxError::Transport {
                method: String::new(),
                path: String::new(),
                message: e.to_string(),
            })?;
        Ok(Self {
            http,
            config: Arc::new(config),
            counters: Arc::new(Counters::default()),
            stable: Arc::default(),
            branch: None,
            tally: None,
            coalescer: Arc::default(),
        })
    }

    /// A clone that also counts its requests (and those of its own clones) in `tally`.
    pub fn tallied(&self, tally: &Tally) -> Self {
        Self {
            tally: Some(tally.clone()),
            ..self.clone()
        }
    }

    /// A client whose requests act inside a netbox-branching branch (by schema id).
    pub fn in_branch(&self, schema_id: &str) -> Self {
        Self {
            branch: Some(schema_id.to_string()),
            ..self.clone()
        }
    }

    /// The base URL.
    pub fn url(&self) -> &str {
        &self.config.url
    }

    /// Requests made so far by this client and its clones.
    pub fn counts(&self) -> RequestCounts {
        self.counters.snapshot()
    }

    /// `/api/status/` (versions, installed plugins), read at most once per [`STABLE_TTL`] by
    /// this client and its clones.
    pub async fn status(&self) -> Result<Value, NetBoxError> {
        let fresh = |slot: &Option<(Instant, Value)>| {
            slot.as_ref()
                .filter(|(at, _)| at.elapsed() < STABLE_TTL)
                .map(|(_, v)| v.clone())
        };
        if let Some(v) = self.stable.status.lock().ok().and_then(|s| fresh(&s)) {
            return Ok(v);
        }
        let status = self.get("/api/status/", &[]).await?;
        if let Ok(mut slot) = self.stable.status.lock() {
            *slot = Some((Instant::now(), status.clone()));
        }
        Ok(status)
    }

    /// The id of the object type `app_label.model` (for generic references that take an id),
    /// `None` when NetBox does not list it; read at most once per [`STABLE_TTL`].
    pub async fn object_type_id(
        &self,
        app_label: &str,
        model: &str,
    ) -> Result<Option<u64>, NetBoxError> {
        let key = format!("{app_label}.{model}");
        let cached = self.stable.object_types.lock().ok().and_then(|m| {
            m.get(&key)
                .filter(|(at, _)| at.elapsed() < STABLE_TTL)
                .map(|(_, id)| *id)
        });
        if let Some(id) = cached {
            return Ok(id);
        }
        let query = [
            ("app_label".to_string(), app_label.to_string()),
            ("model".to_string(), model.to_string()),
        ];
        let types = self.list("/api/core/object-types/", &query).await?;
        let id = types
            .first()
            .and_then(|t| t.get("id"))
            .and_then(Value::as_u64);
        if let Ok(mut m) = self.stable.object_types.lock() {
            m.insert(key, (Instant::now(), id));
        }
        Ok(id)
    }

    /// `GET path` with query pairs.
    pub async fn get(&self, path: &str, query: &[(String, String)]) -> Result<Value, NetBoxError> {
        self.send(Method::GET, path, query, None, Repeat::Safe)
            .await
    }

    /// Every object of a list endpoint that matches `filters`, following pagination.
    /// Concurrent reads that differ only in the values of one filter NetBox's answer can be
    /// split by (a device id, an address, a MAC, …) share requests.
    pub async fn list(
        &self,
        path: &str,
        filters: &[(String, String)],
    ) -> Result<Vec<Value>, NetBoxError> {
        if let Some(key) = self.coalescable_key(path, filters) {
            let (values, others): (Vec<_>, Vec<_>) =
                filters.iter().cloned().partition(|(k, _)| k == key);
            let values: Vec<String> = values.into_iter().map(|(_, v)| v).collect();
            if let Coalesced::Done(found) = self.coalesced(path, &others, key, &values).await {
                return found;
            }
        }
        self.list_direct(path, filters).await
    }

    /// The one filter key of `filters` whose values a read of `path` could share requests
    /// by (none when coalescing is off or several keys could be).
    fn coalescable_key<'a>(&self, path: &str, filters: &'a [(String, String)]) -> Option<&'a str> {
        if !self.config.coalesce {
            return None;
        }
        let mut keys = filters
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| coalesce::rule(path, k).is_some());
        let key = keys.next()?;
        keys.all(|k| k == key).then_some(key)
    }

    /// [`NetBox::list`] without coalescing.
    async fn list_direct(
        &self,
        path: &str,
        filters: &[(String, String)],
    ) -> Result<Vec<Value>, NetBoxError> {
        let mut out = Vec::new();
        let mut offset = 0usize;
        loop {
            let mut query = filters.to_vec();
            query.push(("limit".into(), self.config.page_size.to_string()));
            query.push(("offset".into(), offset.to_string()));
            let page = self.get(path, &query).await?;
            let results = page
                .get("results")
                .and_then(Value::as_array)
                .ok_or_else(|| NetBoxError::Decode {
                    method: "GET".into(),
                    path: path.into(),
                    message: "no `results` list in the answer".into(),
                })?;
            let n = results.len();
            out.extend(results.iter().cloned());
            let more = page.get("next").is_some_and(|n| !n.is_null());
            if !more || n == 0 {
                return Ok(out);
            }
            offset += n;
        }
    }

    /// Like [`NetBox::list`], filtering `key` by many `values`: as many values per request as
    /// fit in [`MAX_REQUEST_LINE`] (one request for a few hundred ids, about 90 IPv6
    /// addresses), none for an empty list.
    pub async fn list_any(
        &self,
        path: &str,
        filters: &[(String, String)],
        key: &str,
        values: &[String],
    ) -> Result<Vec<Value>, NetBoxError> {
        if values.is_empty() {
            return Ok(Vec::new());
        }
        let mut alone = false;
        if self.config.coalesce && !filters.iter().any(|(k, _)| k == key) {
            match self.coalesced(path, filters, key, values).await {
                Coalesced::Done(found) => return found,
                Coalesced::Alone => alone = true,
                Coalesced::NotApplicable => {}
            }
        }
        let mut out = Vec::new();
        for chunk in query_chunks(path, filters, key, values) {
            let mut query = filters.to_vec();
            query.extend(chunk.iter().map(|v| (key.to_string(), v.clone())));
            out.extend(if alone {
                self.list_direct(path, &query).await?
            } else {
                self.list(path, &query).await?
            });
        }
        Ok(out)
    }

    /// Reads the objects of `path` matching `others` and any of `values` of `key` together
    /// with concurrent reads of the same group.
    async fn coalesced(
        &self,
        path: &str,
        others: &[(String, String)],
        key: &str,
        values: &[String],
    ) -> Coalesced {
        let Some(matcher) = coalesce::rule(path, key) else {
            return Coalesced::NotApplicable;
        };
        let Some(norms) = values
            .iter()
            .map(|v| matcher.norm(v))
            .collect::<Option<Vec<_>>>()
            .filter(|n| !n.is_empty())
        else {
            return Coalesced::NotApplicable;
        };
        let group = format!(
            "{} {path} {key} {}",
            self.branch.as_deref().unwrap_or("-"),
            serde_json::to_string(others).unwrap_or_default()
        );
        let fetch = |union: Vec<coalesce::Norm>| {
            self.fetch_batch(&group, path, others, key, matcher, union)
        };
        match self.coalescer.run(&group, matcher, norms, fetch).await {
            coalesce::Shared::Done(r) => Coalesced::Done(r),
            coalesce::Shared::Alone => Coalesced::Alone,
        }
    }

    /// Every object of `path` matching `others` and any of `values`, each once: by value (as
    /// many values per request as fit), or, when the group's table is small against the
    /// values, from a projection of the table (`fields=id,<field>`) and then only the objects
    /// that match, by id.
    async fn fetch_batch(
        &self,
        group: &str,
        path: &str,
        others: &[(String, String)],
        key: &str,
        matcher: coalesce::Match,
        values: Vec<coalesce::Norm>,
    ) -> Result<Vec<Value>, NetBoxError> {
        let wire: Vec<String> = values.iter().map(|v| matcher.wire(v)).collect();
        let by_value = query_chunks(path, others, key, &wire).len() as u64;
        if by_value > 2 {
            let size = match self.size_estimate(group) {
                Some(size) => size,
                None => {
                    let mut query = without_fields(others);
                    query.extend([("fields".into(), "id".into()), ("limit".into(), "1".into())]);
                    let page = self.get(path, &query).await?;
                    let size = page
                        .get("count")
                        .and_then(Value::as_u64)
                        .unwrap_or(u64::MAX);
                    self.note_size(group, size);
                    size
                }
            };
            let pages = size.div_ceil(self.config.page_size.max(1) as u64);
            let projection = size / projection_rows_per_request(matcher) + pages + 1;
            if projection < by_value {
                return self
                    .fetch_by_projection(group, path, others, matcher, &values)
                    .await;
            }
        }
        let out = self.list_chunks(path, others, key, &wire).await?;
        Ok(coalesce::dedup_by_id(out))
    }

    /// The objects of `path` matching `others` and any of `values` of `key`, as many values
    /// per request as fit, [`BATCH_PARALLELISM`] requests at a time, in order.
    async fn list_chunks(
        &self,
        path: &str,
        others: &[(String, String)],
        key: &str,
        values: &[String],
    ) -> Result<Vec<Value>, NetBoxError> {
        use futures_util::{StreamExt, TryStreamExt};
        let queries: Vec<Vec<(String, String)>> = query_chunks(path, others, key, values)
            .into_iter()
            .map(|chunk| {
                let mut query = others.to_vec();
                query.extend(chunk.iter().map(|v| (key.to_string(), v.clone())));
                query
            })
            .collect();
        // Futures built up front, not in a stream adapter's closure, so callers stay `Send`
        // (rust-lang/rust#102211).
        let mut reads = Vec::with_capacity(queries.len());
        for query in &queries {
            reads.push(self.list_direct(path, query));
        }
        let pages: Vec<Vec<Value>> = futures_util::stream::iter(reads)
            .buffered(BATCH_PARALLELISM)
            .try_collect()
            .await?;
        Ok(pages.into_iter().flatten().collect())
    }

    async fn fetch_by_projection(
        &self,
        group: &str,
        path: &str,
        others: &[(String, String)],
        matcher: coalesce::Match,
        values: &[coalesce::Norm],
    ) -> Result<Vec<Value>, NetBoxError> {
        let mut query = without_fields(others);
        query.push(("fields".into(), format!("id,{}", matcher.field())));
        let rows = self.list_direct(path, &query).await?;
        self.note_size(group, rows.len() as u64);
        let wanted: std::collections::HashSet<&str> = values.iter().map(String::as_str).collect();
        let matching = |o: &Value| matcher.keys(o).iter().any(|k| wanted.contains(k.as_str()));
        let ids: Vec<String> = rows
            .iter()
            .filter(|o| matching(o))
            .filter_map(|o| o.get("id").and_then(Value::as_u64))
            .map(|id| id.to_string())
            .collect();
        // The rows must carry the matched field, whatever projection the caller asked for.
        let others: Vec<(String, String)> = others
            .iter()
            .map(|(k, v)| match k.as_str() {
                "fields" if !v.split(',').any(|f| f == matcher.field()) => {
                    (k.clone(), format!("{v},{}", matcher.field()))
                }
                _ => (k.clone(), v.clone()),
            })
            .collect();
        let mut out = self.list_chunks(path, &others, "id", &ids).await?;
        // Read again by id: an object that changed since the projection counts as it is now.
        out.retain(|o| matching(o));
        Ok(coalesce::dedup_by_id(out))
    }

    fn size_estimate(&self, group: &str) -> Option<u64> {
        let sizes = self.stable.sizes.lock().ok()?;
        sizes
            .get(group)
            .filter(|(at, _)| at.elapsed() < SIZE_TTL)
            .map(|(_, n)| *n)
    }

    fn note_size(&self, group: &str, size: u64) {
        if let Ok(mut sizes) = self.stable.sizes.lock() {
            sizes.insert(group.to_string(), (Instant::now(), size));
        }
    }

    /// Whether concurrent reads share requests (see [`NetBoxConfig::coalesce`]).
    pub fn coalesces(&self) -> bool {
        self.config.coalesce
    }

    /// How many requests [`NetBox::list_any`] makes for these values (pages aside).
    pub fn list_any_requests(
        &self,
        path: &str,
        filters: &[(String, String)],
        key: &str,
        values: &[String],
    ) -> usize {
        query_chunks(path, filters, key, values).len()
    }

    /// `POST /graphql/`: NetBox's GraphQL API, which reads several object lists (each with its
    /// own filters) in one request. Returns the answer's `data`; GraphQL errors (NetBox answers
    /// them with 200) become [`NetBoxError::Decode`]. A query reads only, so it counts as a
    /// read and is retried like a GET.
    pub async fn graphql(&self, query: &str, variables: Value) -> Result<Value, NetBoxError> {
        let body = serde_json::json!({ "query": query, "variables": variables });
        let mut answer = self
            .send(Method::POST, GRAPHQL, &[], Some(body), Repeat::Safe)
            .await?;
        if let Some(errors) = answer.get("errors").filter(|e| !e.is_null()) {
            return Err(NetBoxError::Decode {
                method: "POST".into(),
                path: GRAPHQL.into(),
                message: short(&format!("GraphQL errors: {errors}")),
            });
        }
        Ok(answer
            .get_mut("data")
            .map(Value::take)
            .unwrap_or(Value::Null))
    }

    /// Creates objects with one request (NetBox's bulk create); returns them in order.
    pub async fn create_many(
        &self,
        path: &str,
        items: Vec<Value>,
    ) -> Result<Vec<Value>, NetBoxError> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let body = Value::Array(items);
        let answer = self
            .send(
                Method::POST,
                path,
                &[],
                Some(body),
                Repeat::OnlyIfUnprocessed,
            )
            .await?;
        into_list("POST", path, answer)
    }

    /// Creates one object.
    pub async fn create(&self, path: &str, item: Value) -> Result<Value, NetBoxError> {
        self.send(
            Method::POST,
            path,
            &[],
            Some(item),
            Repeat::OnlyIfUnprocessed,
        )
        .await
    }

    /// The object of `path` whose `key` filter equals `value`, created from `body` when there
    /// is none. When the create is refused because someone created it meanwhile (a unique
    /// constraint), the object is read again instead of failing.
    pub async fn get_or_create(
        &self,
        path: &str,
        key: &str,
        value: &str,
        body: Value,
    ) -> Result<Value, NetBoxError> {
        let query = [(key.to_string(), value.to_string())];
        if let Some(found) = self.list(path, &query).await?.into_iter().next() {
            return Ok(found);
        }
        match self.create(path, body).await {
            Ok(created) => Ok(created),
            Err(e) if e.is_validation() => {
                self.list(path, &query).await?.into_iter().next().ok_or(e)
            }
            Err(e) => Err(e),
        }
    }

    /// Updates objects with one request; each item carries its `id`.
    pub async fn update_many(
        &self,
        path: &str,
        items: Vec<Value>,
    ) -> Result<Vec<Value>, NetBoxError> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let answer = self
            .send(
                Method::PATCH,
                path,
                &[],
                Some(Value::Array(items)),
                Repeat::Safe,
            )
            .await?;
        into_list("PATCH", path, answer)
    }

    /// Deletes one object by its URL path (`/api/…/{id}/`).
    pub async fn delete(&self, path: &str) -> Result<(), NetBoxError> {
        self.send(Method::DELETE, path, &[], None, Repeat::Safe)
            .await
            .map(drop)
    }

    /// Deletes objects by id with one request.
    pub async fn delete_many(&self, path: &str, ids: &[u64]) -> Result<(), NetBoxError> {
        if ids.is_empty() {
            return Ok(());
        }
        let body = Value::Array(
            ids.iter()
                .map(|id| serde_json::json!({ "id": id }))
                .collect(),
        );
        self.send(Method::DELETE, path, &[], Some(body), Repeat::Safe)
            .await
            .map(drop)
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(String, String)],
        body: Option<Value>,
        repeat: Repeat,
    ) -> Result<Value, NetBoxError> {
        let url = format!("{}{}", self.config.url, path);
        let mut attempt = 0u32;
        loop {
            // A GraphQL query changes nothing: it counts as a read.
            let read = method == Method::GET || path == GRAPHQL;
            let tally = self.tally.as_ref().map(|t| &*t.0);
            for counters in std::iter::once(&*self.counters).chain(tally) {
                let counter = if read {
                    &counters.reads
                } else {
                    &counters.writes
                };
                counter.fetch_add(1, Ordering::Relaxed);
            }
            let mut request = self
                .http
                .request(method.clone(), &url)
                .header("Authorization", self.authorization())
                .header("Accept", "application/json");
            if !query.is_empty() {
                request = request.query(query);
            }
            if let Some(branch) = &self.branch {
                request = request.header("X-NetBox-Branch", branch);
            }
            if let Some(body) = &body {
                request = request.json(body);
            }
            let outcome = request.send().await;
            let (retryable, wait, error) = match outcome {
                Ok(response) => {
                    let status = response.status();
                    if status.is_success() {
                        if status == StatusCode::NO_CONTENT {
                            return Ok(Value::Null);
                        }
                        // The body can still time out or break after the status line: that is a
                        // lost answer (retried when safe), not a decoding problem.
                        match response.bytes().await {
                            Ok(bytes) => {
                                return serde_json::from_slice::<Value>(&bytes).map_err(|e| {
                                    NetBoxError::Decode {
                                        method: method.to_string(),
                                        path: path.to_string(),
                                        message: e.to_string(),
                                    }
                                });
                            }
                            Err(e) => (
                                repeat == Repeat::Safe,
                                None,
                                self.transport_error(&method, path, &e),
                            ),
                        }
                    } else {
                        let retry_after = response
                            .headers()
                            .get("Retry-After")
                            .and_then(|v| v.to_str().ok())
                            .and_then(|v| v.parse::<u64>().ok())
                            .map(Duration::from_secs);
                        let text = response.text().await.unwrap_or_default();
                        let error = NetBoxError::Status {
                            method: method.to_string(),
                            path: path.to_string(),
                            status: status.as_u16(),
                            message: netbox_message(&text),
                        };
                        let retryable = match (status, repeat) {
                            // Rate limited or unavailable: the request was turned away unprocessed.
                            (
                                StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE,
                                _,
                            ) => true,
                            (s, Repeat::Safe) => s.is_server_error(),
                            _ => false,
                        };
                        (retryable, retry_after, error)
                    }
                }
                Err(e) => (
                    // A refused connection never reached NetBox; anything else may have.
                    repeat == Repeat::Safe || e.is_connect(),
                    None,
                    self.transport_error(&method, path, &e),
                ),
            };
            if !retryable {
                return Err(error);
            }
            if attempt >= self.config.retries {
                return Err(gave_up(error, attempt));
            }
            let backoff = self.config.backoff * 2u32.saturating_pow(attempt);
            let wait = wait.unwrap_or(backoff).min(Duration::from_secs(30));
            tracing::debug!(%method, path, attempt, wait_ms = wait.as_millis() as u64, error = %error,
                "NetBox request failed; retrying.");
            self.counters.retries.fetch_add(1, Ordering::Relaxed);
            if let Some(tally) = &self.tally {
                tally.0.retries.fetch_add(1, Ordering::Relaxed);
            }
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    fn transport_error(&self, method: &Method, path: &str, e: &reqwest::Error) -> NetBoxError {
        if e.is_timeout() {
            NetBoxError::Timeout {
                method: method.to_string(),
                path: path.to_string(),
                seconds: self.config.timeout.as_secs(),
            }
        } else {
            NetBoxError::Transport {
                method: method.to_string(),
                path: path.to_string(),
                message: error_chain(e),
            }
        }
    }

    fn authorization(&self) -> String {
        let token = self.config.token.expose();
        if token.starts_with("nbt_") {
            format!("Bearer {token}")
        } else {
            format!("Token {token}")
        }
    }
}

/// Says in the error that it is the last of several attempts.
fn gave_up(error: NetBoxError, retries: u32) -> NetBoxError {
    if retries == 0 {
        return error;
    }
    let note = format!(" (gave up after {} attempts)", retries + 1);
    match error {
        NetBoxError::Status {
            method,
            path,
            status,
            message,
        } => NetBoxError::Status {
            method,
            path,
            status,
            message: message + &note,
        },
        NetBoxError::Transport {
            method,
            path,
            message,
        } => NetBoxError::Transport {
            method,
            path,
            message: message + &note,
        },
        other => other,
    }
}

/// An error with its causes (reqwest's own text is often just "error sending request").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let shown = cause.to_string();
        if !text.contains(&shown) {
            text.push_str(": ");
            text.push_str(&shown);
        }
        source = cause.source();
    }
    text
}

fn into_list(method: &str, path: &str, answer: Value) -> Result<Vec<Value>, NetBoxError> {
    match answer {
        Value::Array(items) => Ok(items),
        other => Err(NetBoxError::Decode {
            method: method.into(),
            path: path.into(),
            message: format!("expected a list, got {}", short(&other.to_string())),
        }),
    }
}

/// NetBox's error text: `detail`, or the field errors, shortened.
fn netbox_message(body: &str) -> String {
    match serde_json::from_str::<Value>(body) {
        Ok(Value::Object(m)) => match m.get("detail").and_then(Value::as_str) {
            Some(detail) => {
                let errors = m.get("errors").map(|e| format!(" {e}")).unwrap_or_default();
                short(&format!("{detail}{errors}"))
            }
            None => short(&Value::Object(m).to_string()),
        },
        Ok(other) => short(&other.to_string()),
        Err(_) => short(body.trim()),
    }
}

fn short(text: &str) -> String {
    const MAX: usize = 2000;
    if text.len() <= MAX {
        return text.to_string();
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", text.get(..end).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_values_are_chunked_by_request_line_length() {
        let ids: Vec<String> = (10_000..10_600).map(|i| i.to_string()).collect();
        let chunks = query_chunks("/api/plugins/routing/bgp/peer/", &[], "scope_id", &ids);
        assert_eq!(chunks.iter().map(|c| c.len()).sum::<usize>(), 600);
        assert!(chunks.len() <= 3, "{} requests for 600 ids", chunks.len());
        let v6: Vec<String> = (0..200)
            .map(|i| format!("2001:db8:b9b:{i:x}:{:x}::{i:x}", i * 7))
            .collect();
        let filters = [("vrf_id".to_string(), "null".to_string())];
        for chunk in query_chunks("/api/ipam/ip-addresses/", &filters, "address", &v6) {
            let query: String = filters
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .chain(chunk.iter().map(|v| ("address", v.as_str())))
                .chain([("limit", "1000"), ("offset", "100000")])
                .map(|(k, v)| format!("{}={}&", k, v.replace(':', "%3A")))
                .collect();
            let line = format!("GET /api/ipam/ip-addresses/?{query} HTTP/1.1");
            assert!(line.len() <= MAX_REQUEST_LINE, "{}", line.len());
        }
        assert!(query_chunks("/x/", &[], "k", &[]).is_empty());
        let huge = vec!["x".repeat(5000)];
        assert_eq!(query_chunks("/x/", &[], "k", &huge).len(), 1);
    }

    #[test]
    fn secrets_never_print() {
        let config = NetBoxConfig::new("http://x", Secret::new("nbt_abc.def"));
        let shown = format!("{config:?}");
        assert!(!shown.contains("def"), "{shown}");
        assert!(shown.contains("***"));
    }

    #[test]
    fn netbox_messages_are_extracted() {
        assert_eq!(
            netbox_message(r#"{"detail":"Invalid v2 token"}"#),
            "Invalid v2 token"
        );
        assert_eq!(
            netbox_message(r#"{"mac_address":["Invalid MAC address format: zz"]}"#),
            r#"{"mac_address":["Invalid MAC address format: zz"]}"#
        );
        assert_eq!(
            netbox_message("<html>bad gateway</html>"),
            "<html>bad gateway</html>"
        );
    }
}
