//! REST schedules: create, list, pause, resume, delete.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use super::{parse_body, parse_id, rfc3339, ApiError, AppState};
use crate::auth::Principal;
use crate::service::schedules::NewSchedule;
use crate::storage::Schedule;

fn to_json(s: &Schedule) -> Value {
    json!({
        "id": s.id,
        "name": s.name,
        "cron": s.cron,
        "workflowKind": s.workflow_kind,
        "queue": s.queue,
        "input": s.input,
        "paused": s.paused,
        "nextFireAt": s.next_fire_at.map(rfc3339),
        "createdAt": rfc3339(s.created_at),
    })
}

fn string_field(body: &Value, name: &str, required: bool) -> Result<String, ApiError> {
    match body.get(name) {
        Some(Value::String(s)) => Ok(s.clone()),
        None | Some(Value::Null) if !required => Ok(String::new()),
        None | Some(Value::Null) => Err(ApiError::new(StatusCode::BAD_REQUEST, format!("{name} is required"))),
        Some(_) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("{name} must be a string"),
        )),
    }
}

pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body = parse_body(&body)?;
    if !body.is_object() {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "body must be a JSON object"));
    }
    let schedule = state
        .services
        .create_schedule(NewSchedule {
            org_id: principal.org_id,
            name: string_field(&body, "name", true)?,
            cron: string_field(&body, "cron", true)?,
            workflow_kind: string_field(&body, "workflowKind", true)?,
            queue: string_field(&body, "queue", false)?,
            input: body.get("input").cloned().unwrap_or(json!({})),
        })
        .await?;
    Ok((StatusCode::CREATED, Json(to_json(&schedule))))
}

pub async fn list(State(state): State<AppState>, principal: Principal) -> Result<Json<Value>, ApiError> {
    let schedules = state.services.schedules(principal.org_id).await?;
    Ok(Json(Value::Array(schedules.iter().map(to_json).collect())))
}

pub async fn pause(
    State(state): State<AppState>,
    Path(id): Path<String>,
    principal: Principal,
) -> Result<Json<Value>, ApiError> {
    set_paused(state, id, principal, true).await
}

pub async fn resume(
    State(state): State<AppState>,
    Path(id): Path<String>,
    principal: Principal,
) -> Result<Json<Value>, ApiError> {
    set_paused(state, id, principal, false).await
}

async fn set_paused(state: AppState, id: String, principal: Principal, paused: bool) -> Result<Json<Value>, ApiError> {
    let schedule = state
        .services
        .set_schedule_paused(principal.org_id, parse_id(&id)?, paused)
        .await?;
    Ok(Json(to_json(&schedule)))
}

pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    principal: Principal,
) -> Result<StatusCode, ApiError> {
    state.services.delete_schedule(principal.org_id, parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
