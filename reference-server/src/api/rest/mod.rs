//! REST (axum): health, workflow trigger and reads, standalone tasks.
//! JSON in and out; errors are `{"error": "..."}` with the status code
//! decided in one place ([`ApiError`]). Same API keys as gRPC; one
//! middleware ([`guard`]) authenticates every route but health and checks
//! it against the permission table (`permissions::REST`); handlers take the
//! caller as a [`Principal`] argument.

pub mod limits;
pub mod promises;
pub mod schedules;
pub mod serve;
pub mod tasks;
pub mod workflows;

use std::collections::HashMap;

use axum::extract::{DefaultBodyLimit, FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::auth::{Authenticator, Principal};
use crate::permissions::{self, Denied};
use crate::service::{self, Services};

/// State shared by the REST handlers.
#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    pub auth: Authenticator,
    /// Org slug → org id, from the configuration.
    pub org_slugs: HashMap<String, Uuid>,
    pub max_payload_bytes: usize,
    /// How long reading one request body may take.
    pub body_timeout: std::time::Duration,
}

/// The router of every REST route.
pub fn router(state: AppState) -> Router {
    let limit = state.max_payload_bytes;
    Router::new()
        .route("/api/workflows/{kind}", post(workflows::trigger))
        .route("/api/orgs/{org}/workflow-executions/{id}", get(workflows::execution))
        .route(
            "/api/orgs/{org}/workflow-executions/{id}/events",
            get(workflows::events),
        )
        .route("/api/tasks/{kind}", post(tasks::create))
        .route("/api/promises/{id}/resolve", post(promises::resolve))
        .route("/api/promises/{id}/reject", post(promises::reject))
        .route("/api/schedules", post(schedules::create).get(schedules::list))
        .route("/api/schedules/{id}", delete(schedules::delete))
        .route("/api/schedules/{id}/pause", post(schedules::pause))
        .route("/api/schedules/{id}/resume", post(schedules::resume))
        // Every route above, and only those: health stays public. The guard
        // runs first, so an unauthenticated body is never read.
        .route_layer(axum::middleware::from_fn_with_state(
            limits::BodyLimits {
                max_bytes: limit,
                read_timeout: state.body_timeout,
            },
            limits::bounded_body,
        ))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), guard))
        .route("/_/health", get(health))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

/// Authenticates the caller and checks the route against the permission
/// table, before the handler (and before its body is read).
async fn guard(State(state): State<AppState>, matched: MatchedPath, mut request: Request, next: Next) -> Response {
    let header = request.headers().get("authorization").and_then(|v| v.to_str().ok());
    let principal = match state.auth.authenticate(header) {
        Ok(principal) => principal,
        Err(e) => return ApiError::new(StatusCode::UNAUTHORIZED, e.to_string()).into_response(),
    };
    let endpoint = format!("{} {}", request.method(), matched.as_str());
    if let Err(denied) = principal.may_call(permissions::REST, &endpoint) {
        let status = match denied {
            Denied::Unlisted(_) => StatusCode::NOT_FOUND,
            Denied::NotAllowed { .. } => StatusCode::FORBIDDEN,
        };
        return ApiError::new(status, denied.to_string()).into_response();
    }
    request.extensions_mut().insert(principal);
    next.run(request).await
}

/// The caller, as the [`guard`] admitted it.
impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "not authenticated"))
    }
}

async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// A REST error: status and message.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }
}

impl From<service::Error> for ApiError {
    fn from(err: service::Error) -> Self {
        let status = match &err {
            service::Error::InvalidArgument(_) => StatusCode::BAD_REQUEST,
            service::Error::NotFound(_) => StatusCode::NOT_FOUND,
            service::Error::FailedPrecondition(_) | service::Error::AlreadyExists(_) => StatusCode::CONFLICT,
            service::Error::PermissionDenied(_) => StatusCode::FORBIDDEN,
            service::Error::ResourceExhausted(_) => StatusCode::PAYLOAD_TOO_LARGE,
            service::Error::Unimplemented(_) => StatusCode::NOT_IMPLEMENTED,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %err, "internal error");
            "internal error".to_string()
        } else {
            err.to_string()
        };
        ApiError { status, message }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.message }))).into_response()
    }
}

impl AppState {
    /// The org named by a path slug, which must be the caller's. Another
    /// org's slug answers exactly as an unknown one (404), so that slugs
    /// cannot be enumerated.
    pub fn org(&self, principal: &Principal, slug: &str) -> Result<Uuid, ApiError> {
        self.org_slugs
            .get(slug)
            .copied()
            .filter(|org| *org == principal.org_id)
            .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("org {slug:?} not found")))
    }
}

/// A JSON request body (empty means `null`).
pub fn parse_body(body: &[u8]) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("body is not valid JSON: {e}")))
}

/// The optional `Idempotency-Key` header.
pub fn idempotency_key(headers: &HeaderMap) -> Option<String> {
    headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// `201 {"id", "created": true}` for something new, `200` with
/// `"created": false` when an idempotency key found an existing one.
pub fn created(id: Uuid, created: bool) -> (StatusCode, Json<Value>) {
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    (status, Json(json!({ "id": id, "created": created })))
}

/// A path id.
pub fn parse_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, format!("id is not a UUID: {id:?}")))
}

/// RFC 3339 text of an epoch-ms instant (UTC, milliseconds).
pub fn rfc3339(ms: i64) -> String {
    match chrono::DateTime::from_timestamp_millis(ms) {
        Some(at) => at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        // Outside chrono's range (about ±262,000 years): the epoch ms.
        None => ms.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339_of_known_instants() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(super::rfc3339(1_767_225_600_123), "2026-01-01T00:00:00.123Z");
        assert_eq!(super::rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }
}
