//! REST standalone tasks: `POST /api/tasks/{kind}` with the input as body.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde_json::Value;

use super::{created, idempotency_key, parse_body, ApiError, AppState};
use crate::auth::Principal;
use crate::service::client_duration;
use crate::service::task_launcher::SubmitTask;

pub async fn create(
    State(state): State<AppState>,
    Path(kind): Path<String>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
    principal: Principal,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let input = parse_body(&body)?;
    let number = |name: &str| -> Result<Option<i64>, ApiError> {
        params
            .get(name)
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, format!("{name} is not an integer: {v:?}")))
            })
            .transpose()
    };
    let max_retries = match number("maxRetries")? {
        Some(r) => Some(
            i32::try_from(r)
                .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, format!("maxRetries is out of range: {r}")))?,
        ),
        None => None,
    };
    let timeout_ms = number("timeoutMs")?
        .map(|ms| client_duration("timeoutMs", ms))
        .transpose()?;
    let submitted = state
        .services
        .submit_task(SubmitTask {
            org_id: principal.org_id,
            kind,
            queue: params.get("queue").cloned().unwrap_or_default(),
            input,
            max_retries,
            timeout_ms,
            idempotency_key: idempotency_key(&headers),
        })
        .await?;
    if submitted.created {
        let queue = params.get("queue").map_or("default", String::as_str);
        tracing::debug!(org = %principal.org_id, queue, "task created, notifying workers");
        state.notifier.notify_work_available(principal.org_id, queue);
    }
    Ok(created(submitted.id, submitted.created))
}
