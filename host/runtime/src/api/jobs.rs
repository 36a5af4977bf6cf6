//! Jobs and report review: list, show, log, cancel; report entries with their decisions,
//! apply and skip.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, ApiResult, ApiState, Shared, json_response, ok, parse_body, parse_id};
use crate::job::{self, Job, Mode, ReportSelection};

#[derive(Debug, Deserialize)]
pub(super) struct JobsQuery {
    limit: Option<usize>,
}

fn summary(job: &Job) -> Value {
    let mut devices: Vec<&str> = job.results.iter().map(|r| r.device.as_str()).collect();
    devices.sort_unstable();
    devices.dedup();
    json!({
        "id": job.id,
        "name": job.name,
        "mode": job.mode,
        "state": job.state,
        "trigger": job.trigger,
        "created": job.created,
        "started": job.started,
        "finished": job.finished,
        "cancelled": job.cancelled,
        "rolled_back": job.rolled_back,
        "devices": devices.len(),
        "collections": job.results.len(),
        "failed": job.results.iter().filter(|r| !r.ok()).count(),
        "writes": job.writes(),
        "counts": job.counts(),
    })
}

pub(super) async fn list_jobs(
    State(state): State<Shared>,
    query: Result<Query<JobsQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let limit = query.limit.unwrap_or(50);
    let jobs = state.host.store().jobs()?;
    ok(jobs.iter().take(limit).map(summary).collect::<Vec<_>>())
}

/// A stored job without its change sets (their counts are in the results).
fn stored_job(state: &ApiState, id: &str) -> Result<Job, ApiError> {
    Ok(state.host.store().job_summary(parse_id(id, "job")?)?)
}

pub(super) async fn get_job(State(state): State<Shared>, Path(id): Path<String>) -> ApiResult {
    ok(stored_job(&state, &id)?)
}

pub(super) async fn job_log(State(state): State<Shared>, Path(id): Path<String>) -> ApiResult {
    let job = stored_job(&state, &id)?;
    ok(json!({ "id": job.id, "state": job.state, "log": job.log }))
}

pub(super) async fn cancel_job(State(state): State<Shared>, Path(id): Path<String>) -> ApiResult {
    let job = stored_job(&state, &id)?;
    if state.host.cancel(job.id)? {
        Ok(json_response(
            StatusCode::ACCEPTED,
            json!({ "id": job.id, "cancelled": true }),
        ))
    } else {
        Err(ApiError::new(
            StatusCode::CONFLICT,
            format!(
                "job {} is not queued or running (it is {})",
                job.id, job.state
            ),
        ))
    }
}

/// Which results of a report to show.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ReportQuery {
    device: Option<String>,
    collector: Option<String>,
}

/// The report of `job`, its change sets read one at a time from the store.
fn report(state: &ApiState, job: &Job, query: &ReportQuery) -> Result<Value, ApiError> {
    let wanted = |r: &&crate::job::CollectionResult| {
        query.device.as_ref().is_none_or(|d| *d == r.device)
            && query.collector.as_ref().is_none_or(|c| *c == r.collector)
    };
    let mut results = Vec::new();
    for r in job.results.iter().filter(wanted) {
        let set = match &r.changeset {
            Some(set) => Some(set.clone()),
            None if r.counts.is_some() => {
                state
                    .host
                    .store()
                    .changeset(job.id, &r.device, &r.collector)?
            }
            None => None,
        };
        results.push({
            let entries: Vec<Value> = set
                .iter()
                .flat_map(|c| c.entries.iter())
                .map(|e| {
                    let writes = !matches!(e.operation, crate::reconcile::Operation::None);
                    let decision = match r.decisions.get(&e.id) {
                        Some(d) => json!(d),
                        None if writes => json!("pending"),
                        None => Value::Null,
                    };
                    json!({
                        "ref": format!("{}/{}/{}", r.device, r.collector, e.id),
                        "id": e.id,
                        "state": e.state,
                        "object_type": e.object_type,
                        "object_id": e.object_id,
                        "label": e.label,
                        "reason": e.reason,
                        "operation": e.operation,
                        "decision": decision,
                    })
                })
                .collect();
            json!({
                "device": r.device,
                "device_id": r.device_id,
                "collector": r.collector,
                "error": r.error,
                "notes": r.notes,
                "counts": r.counts,
                "refused": r.refused,
                "entries": entries,
            })
        });
    }
    Ok(json!({
        "id": job.id,
        "name": job.name,
        "mode": job.mode,
        "state": job.state,
        "rolled_back": job.rolled_back,
        "counts": job.counts(),
        "results": results,
    }))
}

pub(super) async fn get_report(
    State(state): State<Shared>,
    Path(id): Path<String>,
    query: Result<Query<ReportQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let job = stored_job(&state, &id)?;
    ok(report(&state, &job, &query)?)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EntriesBody {
    #[serde(default)]
    entries: Vec<String>,
}

fn selection(body: &Bytes) -> Result<Option<ReportSelection>, ApiError> {
    let entries = parse_body::<EntriesBody>(body)?
        .map(|b| b.entries)
        .unwrap_or_default();
    if entries.is_empty() {
        return Ok(None);
    }
    ReportSelection::parse(&entries)
        .map(Some)
        .map_err(ApiError::bad_request)
}

/// A finished job with its change sets.
fn finished_job(state: &ApiState, id: &str) -> Result<Job, ApiError> {
    let job = state.host.store().job(parse_id(id, "job")?)?;
    if job.finished.is_none() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("job {} has not finished (it is {})", job.id, job.state),
        ));
    }
    if job.mode == Mode::Branch {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!(
                "job {} wrote into a NetBox branch: review and merge the branch in NetBox",
                job.id
            ),
        ));
    }
    Ok(job)
}

pub(super) async fn apply_report(
    State(state): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let select = selection(&body)?;
    let _one_at_a_time = state.reports.lock().await;
    let mut record = finished_job(&state, &id)?;
    let result = job::apply_report(&mut record, state.host.netbox(), select.as_ref()).await;
    record.log("info", "report apply (API)");
    state.host.store().put_job(&record)?;
    let applied = result.map_err(|e| ApiError::new(StatusCode::BAD_GATEWAY, e))?;
    let refused: usize = record.results.iter().map(|r| r.refused.len()).sum();
    ok(json!({ "id": record.id, "applied": applied, "refused": refused }))
}

pub(super) async fn skip_report(
    State(state): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let select = selection(&body)?.ok_or_else(|| {
        ApiError::bad_request(
            "request body: {\"entries\": [\"DEVICE/COLLECTOR/ID\", ...]} is required to skip",
        )
    })?;
    let _one_at_a_time = state.reports.lock().await;
    let mut record = finished_job(&state, &id)?;
    let skipped = job::skip_report(&mut record, &select);
    state.host.store().put_job(&record)?;
    ok(json!({ "id": record.id, "skipped": skipped }))
}
