//! The REST front end.
//!
//! Job routes act for the organisation named in the `x-org-id` header; the
//! gateway in front of this service has already authenticated the caller.

use std::fmt;
use std::time::{Duration, Instant};

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use dispatch_core::{finish_requeue, DispatchError, Job, JobId, NewJob};
use serde::{Deserialize, Serialize};
use tracing::info;

use crate::state::AppState;

/// How long a worker may hold a job it leased over REST.
const LEASE: Duration = Duration::from_secs(30);

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/queues/{queue}/jobs", post(enqueue_job))
        .route("/queues/{queue}/jobs/batch", post(enqueue_batch))
        .route("/queues/{queue}/scheduled", post(schedule_job))
        .route("/queues/{queue}/poll", post(poll_job))
        .route("/queues/{queue}/paused", put(set_paused))
        .route("/jobs/{id}/complete", post(complete_job))
        .route("/jobs/{id}/release", post(release_lease))
        .route("/jobs/{id}/retry", post(retry_job))
        .route("/jobs/{id}/move", post(move_job))
        .route("/workers/{worker}/release", post(drop_worker))
        .route("/resume", post(resume_org))
        .route("/admin/reload", post(reload_config))
        .route("/admin/shutdown", post(shutdown))
        .with_state(state)
}

/// The organisation a request acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for OrgId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .headers
            .get("x-org-id")
            .and_then(|value| value.to_str().ok())
            .filter(|org| !org.is_empty())
            .map(|org| OrgId(org.to_owned()))
            .ok_or(ApiError::MissingOrg)
    }
}

#[derive(Debug)]
pub enum ApiError {
    MissingOrg,
    /// The job belongs to another organisation; reported as not found.
    Foreign(JobId),
    Dispatch(DispatchError),
}

impl From<DispatchError> for ApiError {
    fn from(err: DispatchError) -> Self {
        ApiError::Dispatch(err)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::MissingOrg => f.write_str("missing x-org-id header"),
            ApiError::Foreign(id) => write!(f, "{id} does not exist"),
            ApiError::Dispatch(err) => err.fmt(f),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            ApiError::MissingOrg => StatusCode::UNAUTHORIZED,
            ApiError::Foreign(_) => StatusCode::NOT_FOUND,
            ApiError::Dispatch(err) => dispatch_status(err),
        };
        let body = ErrorBody {
            error: self.to_string(),
        };
        (status, Json(body)).into_response()
    }
}

fn dispatch_status(err: &DispatchError) -> StatusCode {
    match err {
        DispatchError::NotFound(_) => StatusCode::NOT_FOUND,
        DispatchError::InvalidState { .. } => StatusCode::CONFLICT,
        DispatchError::AttemptsExhausted(_) => StatusCode::CONFLICT,
        DispatchError::InvalidQueue(_) => StatusCode::BAD_REQUEST,
        DispatchError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
    }
}

#[derive(Debug, Serialize)]
struct ErrorBody {
    error: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobView {
    pub id: u64,
    pub queue: String,
    pub state: &'static str,
    pub priority: u8,
    pub attempts: u32,
    pub payload: String,
}

impl From<&Job> for JobView {
    fn from(job: &Job) -> Self {
        Self {
            id: job.id.0,
            queue: job.queue.clone(),
            state: job.state.name(),
            priority: job.priority,
            attempts: job.attempts,
            payload: job.payload.clone(),
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct EnqueueBody {
    pub payload: String,
    #[serde(default)]
    pub priority: u8,
}

#[derive(Debug, Deserialize)]
pub struct ScheduleBody {
    pub payload: String,
    pub delay_ms: u64,
}

#[derive(Debug, Deserialize)]
pub struct PollBody {
    pub worker: String,
}

#[derive(Debug, Deserialize)]
pub struct PauseBody {
    pub paused: bool,
}

#[derive(Debug, Deserialize)]
pub struct MoveBody {
    pub to_queue: String,
}

#[derive(Debug, Serialize)]
pub struct Health {
    pub uptime_secs: u64,
    pub config_generation: u64,
}

#[derive(Debug, Serialize)]
pub struct Metrics {
    pub enqueued: u64,
    pub work_signals: u64,
    pub polls: u64,
    pub empty_polls: u64,
}

/// Loads a job, hiding those of other organisations.
fn owned_job(state: &AppState, org: &OrgId, id: u64) -> Result<Job, ApiError> {
    let job = state.store.get(JobId(id))?;
    if job.org_id != org.0 {
        return Err(ApiError::Foreign(job.id));
    }
    Ok(job)
}

pub async fn health(State(state): State<AppState>) -> Json<Health> {
    Json(Health {
        uptime_secs: state.started_at.elapsed().as_secs(),
        config_generation: state.reloads.generation(),
    })
}

pub async fn metrics(State(state): State<AppState>) -> Json<Metrics> {
    let snapshot = state.gauge.snapshot();
    Json(Metrics {
        enqueued: snapshot.enqueued,
        work_signals: snapshot.work_signals,
        polls: snapshot.polls,
        empty_polls: snapshot.empty_polls,
    })
}

pub async fn enqueue_job(
    State(state): State<AppState>,
    org: OrgId,
    Path(queue): Path<String>,
    Json(body): Json<EnqueueBody>,
) -> Result<(StatusCode, Json<JobView>), ApiError> {
    let new_job = NewJob::new(&org.0, &queue, body.payload).priority(body.priority);
    let job = state.service.enqueue(new_job)?;
    let depth = state.store.depth(&org.0, &queue);
    state.alerts.check(&org.0, &queue, depth);
    Ok((StatusCode::CREATED, Json(JobView::from(&job))))
}

pub async fn enqueue_batch(
    State(state): State<AppState>,
    org: OrgId,
    Path(queue): Path<String>,
    Json(bodies): Json<Vec<EnqueueBody>>,
) -> Result<(StatusCode, Json<Vec<JobView>>), ApiError> {
    let jobs = bodies
        .into_iter()
        .map(|body| NewJob::new(&org.0, &queue, body.payload).priority(body.priority))
        .collect();
    let created = state.service.enqueue_batch(&org.0, jobs)?;
    let views = created.iter().map(JobView::from).collect();
    Ok((StatusCode::CREATED, Json(views)))
}

pub async fn schedule_job(
    State(state): State<AppState>,
    org: OrgId,
    Path(queue): Path<String>,
    Json(body): Json<ScheduleBody>,
) -> Result<(StatusCode, Json<JobView>), ApiError> {
    let delay = Duration::from_millis(body.delay_ms);
    let new_job = NewJob::new(&org.0, &queue, body.payload).due(Instant::now() + delay);
    let job = state.service.enqueue(new_job)?;
    Ok((StatusCode::ACCEPTED, Json(JobView::from(&job))))
}

/// Leases the next ready job of the queue, if any. Workers call this when a
/// `WorkAvailableEvent` wakes them, and every 30 seconds while idle.
pub async fn poll_job(
    State(state): State<AppState>,
    org: OrgId,
    Path(queue): Path<String>,
    Json(body): Json<PollBody>,
) -> Json<Option<JobView>> {
    let until = Instant::now() + LEASE;
    let job = state.service.poll(&org.0, &queue, &body.worker, until);
    Json(job.as_ref().map(JobView::from))
}

pub async fn set_paused(
    State(state): State<AppState>,
    org: OrgId,
    Path(queue): Path<String>,
    Json(body): Json<PauseBody>,
) -> StatusCode {
    state.store.set_paused(&org.0, &queue, body.paused);
    StatusCode::NO_CONTENT
}

pub async fn complete_job(
    State(state): State<AppState>,
    org: OrgId,
    Path(id): Path<u64>,
) -> Result<Json<JobView>, ApiError> {
    owned_job(&state, &org, id)?;
    let job = state.store.complete(JobId(id))?;
    Ok(Json(JobView::from(&job)))
}

pub async fn release_lease(
    State(state): State<AppState>,
    org: OrgId,
    Path(id): Path<u64>,
) -> Result<Json<JobView>, ApiError> {
    owned_job(&state, &org, id)?;
    let job = finish_requeue(&state.store, JobId(id))?;
    Ok(Json(JobView::from(&job)))
}

pub async fn retry_job(
    State(state): State<AppState>,
    org: OrgId,
    Path(id): Path<u64>,
) -> Result<Json<JobView>, ApiError> {
    owned_job(&state, &org, id)?;
    let max_attempts = state.service.limits().max_attempts;
    let job = state.dispatcher.retry(JobId(id), max_attempts)?;
    Ok(Json(JobView::from(&job)))
}

pub async fn move_job(
    State(state): State<AppState>,
    org: OrgId,
    Path(id): Path<u64>,
    Json(body): Json<MoveBody>,
) -> Result<Json<JobView>, ApiError> {
    owned_job(&state, &org, id)?;
    let job = state.dispatcher.move_job(JobId(id), &body.to_queue)?;
    Ok(Json(JobView::from(&job)))
}

/// Called by the gateway when a worker's connection drops: every job it
/// held goes back to its queue.
pub async fn drop_worker(State(state): State<AppState>, Path(worker): Path<String>) -> Json<usize> {
    let released = state.store.release_worker(&worker);
    info!(worker, released = released.len(), "worker disconnected");
    Json(released.len())
}

pub async fn resume_org(State(state): State<AppState>, org: OrgId) -> Json<Vec<String>> {
    Json(state.dispatcher.resume_org(&org.0))
}

pub async fn reload_config(State(state): State<AppState>) -> Json<u64> {
    Json(state.reloads.reload().generation)
}

pub async fn shutdown(State(state): State<AppState>) -> StatusCode {
    state.shutdown.notify_waiters();
    StatusCode::ACCEPTED
}
