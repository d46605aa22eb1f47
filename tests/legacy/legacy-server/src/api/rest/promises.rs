//! REST promises: `POST /api/promises/{id}/resolve` (body = value) and
//! `POST /api/promises/{id}/reject` (body = `{"error": "..."}`).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::{parse_body, ApiError, AppState};
use crate::auth::Principal;

pub async fn resolve(
    State(state): State<AppState>,
    Path(id): Path<String>,
    principal: Principal,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let value = parse_body(&body)?;
    state.services.resolve_promise(principal.org_id, &id, value).await?;
    state.notifier.notify_work_available(principal.org_id, "");
    Ok(StatusCode::NO_CONTENT)
}

pub async fn reject(
    State(state): State<AppState>,
    Path(id): Path<String>,
    principal: Principal,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let body = parse_body(&body)?;
    let error = body
        .get("error")
        .and_then(|e| e.as_str())
        .ok_or_else(|| ApiError::new(StatusCode::BAD_REQUEST, "body must be {\"error\": \"<message>\"}"))?;
    state
        .services
        .reject_promise(principal.org_id, &id, error.to_string())
        .await?;
    // Rejected or resolved, the workflow waiting on it runs again.
    state.notifier.notify_work_available(principal.org_id, "");
    Ok(StatusCode::NO_CONTENT)
}
