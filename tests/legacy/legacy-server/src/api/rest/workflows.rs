//! REST workflows: trigger one (`POST /api/workflows/{kind}`, body = input),
//! read an execution and its events (fact sheet 9.3).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde_json::{json, Value};

use super::{created, idempotency_key, parse_body, parse_id, rfc3339, ApiError, AppState};
use crate::auth::Principal;
use crate::service::workflow_launcher::StartWorkflow;

pub async fn trigger(
    State(state): State<AppState>,
    Path(kind): Path<String>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
    principal: Principal,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let input = parse_body(&body)?;
    let queue = params.get("queue").cloned().unwrap_or_default();
    let started = state
        .services
        .start_workflow(StartWorkflow {
            org_id: principal.org_id,
            kind,
            queue: params.get("queue").cloned().unwrap_or_default(),
            input,
            priority_seconds: 0,
            idempotency_key: idempotency_key(&headers),
        })
        .await?;
    if started.created {
        state.notifier.notify_work_available(principal.org_id, &queue);
    }
    Ok(created(started.id, started.created))
}

pub async fn execution(
    State(state): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    principal: Principal,
) -> Result<Json<Value>, ApiError> {
    let org_id = state.org(&principal, &org)?;
    let w = state.services.workflow(org_id, parse_id(&id)?).await?;
    Ok(Json(json!({
        "id": w.id,
        "orgId": w.org_id,
        "workflowKind": w.kind,
        "queue": w.queue,
        "status": w.status.as_str(),
        "input": w.input,
        "output": w.output,
        "error": w.error,
        "createdAt": rfc3339(w.created_at),
        "completedAt": w.completed_at.map(rfc3339),
    })))
}

pub async fn events(
    State(state): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    principal: Principal,
) -> Result<Json<Value>, ApiError> {
    let org_id = state.org(&principal, &org)?;
    let events = state.services.events(org_id, parse_id(&id)?).await?;
    let events: Vec<Value> = events
        .into_iter()
        .map(|e| {
            json!({
                "sequenceNumber": e.sequence_number,
                "eventType": e.event_type,
                "data": e.data,
                "createdAt": rfc3339(e.created_at),
            })
        })
        .collect();
    Ok(Json(Value::Array(events)))
}
