//! REST: trigger a workflow. This file never names the notifier type.

use axum::extract::{Path, State};
use axum::Json;

use super::AppState;
use crate::error::ApiError;

pub async fn trigger_workflow(
    State(state): State<AppState>,
    Path(kind): Path<String>,
    Json(body): Json<serde_json::Value>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let org_id = state.storage.default_org().await?;
    let queue = body["queue"].as_str().unwrap_or("default").to_string();
    let workflow = state.launcher.launch_kind(org_id, &kind, &queue, body).await?;
    state.notifier.notify_work_available(org_id, &queue);
    Ok(Json(serde_json::json!({ "id": workflow.id })))
}
