//! `flovyn.v1.TaskExecution`: standalone task submission, task polling,
//! completion and failure; progress, logs and stream data are accepted.

use tonic::{Request, Response, Status};

use super::delivery::Undelivered;
use super::pb;
use super::pb::task_execution_server::TaskExecution;
use super::poll_budget::poll_budget;
use super::{org_of, parse_json, parse_uuid, principal, to_bytes, GrpcState};
use crate::log_text;
use crate::service::client_duration;
use crate::service::task_execution::Retry;
use crate::service::task_launcher::SubmitTask;

pub struct TaskExecutionService {
    state: GrpcState,
}

impl TaskExecutionService {
    pub fn new(state: GrpcState) -> Self {
        TaskExecutionService { state }
    }
}

#[tonic::async_trait]
impl TaskExecution for TaskExecutionService {
    async fn submit_task(
        &self,
        request: Request<pb::SubmitTaskRequest>,
    ) -> Result<Response<pb::SubmitTaskResponse>, Status> {
        let principal = principal(&request)?;
        let req = request.into_inner();
        let org_id = org_of(&principal, &req.org_id, "org_id")?;
        if !req.workflow_execution_id.is_empty() {
            return Err(Status::unimplemented(
                "SubmitTask for a workflow is not supported; workflows schedule tasks with SCHEDULE_TASK",
            ));
        }
        if req.kind.is_empty() {
            return Err(Status::invalid_argument("kind is required"));
        }
        let key_used = req.idempotency_key.is_some();
        let queue = if req.queue.is_empty() {
            "default".to_string()
        } else {
            req.queue.clone()
        };
        let submitted = self
            .state
            .services
            .submit_task(SubmitTask {
                org_id,
                input: parse_json(&req.input, "input", self.state.max_payload_bytes)?,
                kind: req.kind,
                queue: req.queue,
                max_retries: (req.max_retries != 0).then_some(req.max_retries),
                timeout_ms: Some(client_duration("timeout_ms", req.timeout_ms)?).filter(|t| *t > 0),
                idempotency_key: req.idempotency_key.filter(|k| !k.is_empty()),
            })
            .await?;
        if submitted.created {
            tracing::debug!(%org_id, %queue, "task submitted, notifying workers");
            self.state.notifier.notify_work_available(org_id, &queue);
        }
        Ok(Response::new(pb::SubmitTaskResponse {
            task_execution_id: submitted.id.to_string(),
            idempotency_key_used: key_used,
            idempotency_key_new: submitted.created,
        }))
    }

    async fn poll_task(&self, request: Request<pb::PollTaskRequest>) -> Result<Response<pb::PollTaskResponse>, Status> {
        let principal = principal(&request)?;
        let budget = poll_budget(&request, request.get_ref().timeout_seconds);
        let req = request.into_inner();
        let org_id = org_of(&principal, &req.org_id, "org_id")?;
        let task = self.state.services.poll_task(org_id, &req.queue, budget).await?;
        let undelivered = task.clone().map(|t| {
            let services = self.state.services.clone();
            Undelivered::new(move || services.release_undelivered(t))
        });
        let mut response = Response::new(pb::PollTaskResponse {
            task: task.map(|t| pb::TaskExecutionInfo {
                task_execution_id: t.id.to_string(),
                kind: t.kind,
                input: to_bytes(&t.input),
                workflow_execution_id: t.workflow_execution_id.map(|w| w.to_string()).unwrap_or_default(),
                execution_count: t.execution_count,
                queue: t.queue,
                ..Default::default()
            }),
        });
        if let Some(undelivered) = undelivered {
            response.extensions_mut().insert(undelivered);
        }
        Ok(response)
    }

    async fn complete_task(&self, request: Request<pb::CompleteTaskRequest>) -> Result<Response<()>, Status> {
        let principal = principal(&request)?;
        let req = request.into_inner();
        let id = parse_uuid(&req.task_execution_id, "task_execution_id")?;
        let output = parse_json(&req.output, "output", self.state.max_payload_bytes)?;
        self.state.services.complete_task(principal.org_id, id, output).await?;
        // The owning workflow, if any, is pollable again.
        self.state.notifier.notify_work_available(principal.org_id, "");
        Ok(Response::new(()))
    }

    async fn fail_task(&self, request: Request<pb::FailTaskRequest>) -> Result<Response<()>, Status> {
        let principal = principal(&request)?;
        let req = request.into_inner();
        let id = parse_uuid(&req.task_execution_id, "task_execution_id")?;
        let retry = if req.non_retryable {
            Retry::Never
        } else {
            Retry::AsAllowed
        };
        self.state
            .services
            .fail_task(principal.org_id, id, req.error, retry)
            .await?;
        // A retry is back on its queue, or the owning workflow was told.
        let org_id = principal.org_id;
        self.state.notifier.notify_work_available(org_id, "");
        Ok(Response::new(()))
    }

    async fn report_progress(&self, request: Request<pb::ReportProgressRequest>) -> Result<Response<()>, Status> {
        let principal = principal(&request)?;
        let req = request.get_ref();
        let id = parse_uuid(&req.task_execution_id, "task_execution_id")?;
        self.state.services.owned_task(principal.org_id, id).await?;
        if !(0.0..=1.0).contains(&req.progress) {
            return Err(Status::invalid_argument(format!(
                "progress must be within 0..=1, got {}",
                req.progress
            )));
        }
        Ok(Response::new(()))
    }

    async fn heartbeat(&self, request: Request<pb::HeartbeatRequest>) -> Result<Response<()>, Status> {
        let principal = principal(&request)?;
        let id = parse_uuid(&request.get_ref().task_execution_id, "task_execution_id")?;
        self.state.services.task_heartbeat(principal.org_id, id).await?;
        Ok(Response::new(()))
    }

    async fn cancel_task(&self, request: Request<pb::CancelTaskRequest>) -> Result<Response<()>, Status> {
        let principal = principal(&request)?;
        let id = parse_uuid(&request.get_ref().task_execution_id, "task_execution_id")?;
        self.state.services.cancel_task(principal.org_id, id).await?;
        self.state.notifier.notify_work_available(principal.org_id, "");
        Ok(Response::new(()))
    }

    async fn log_message(&self, request: Request<pb::LogMessageRequest>) -> Result<Response<()>, Status> {
        let principal = principal(&request)?;
        let req = request.get_ref();
        let task = parse_uuid(&req.task_execution_id, "task_execution_id")?;
        self.state.services.owned_task(principal.org_id, task).await?;
        // The worker's text as fields, never as log lines of its own.
        tracing::info!(
            %task,
            task_level = %log_text::escaped(&req.level, log_text::LEVEL_CAP),
            task_message = %log_text::escaped(&req.message, log_text::MESSAGE_CAP),
            "task log"
        );
        Ok(Response::new(()))
    }

    async fn get_state(&self, request: Request<pb::GetStateRequest>) -> Result<Response<pb::GetStateResponse>, Status> {
        let principal = principal(&request)?;
        let req = request.into_inner();
        let id = parse_uuid(&req.task_execution_id, "task_execution_id")?;
        let value = self.state.services.task_state(principal.org_id, id, &req.key).await?;
        Ok(Response::new(match value {
            Some(v) => pb::GetStateResponse {
                value: to_bytes(&v),
                found: true,
            },
            None => pb::GetStateResponse {
                value: Vec::new(),
                found: false,
            },
        }))
    }

    async fn set_state(&self, request: Request<pb::SetStateRequest>) -> Result<Response<()>, Status> {
        let principal = principal(&request)?;
        let req = request.into_inner();
        let id = parse_uuid(&req.task_execution_id, "task_execution_id")?;
        let value = parse_json(&req.value, "value", self.state.max_payload_bytes)?;
        self.state
            .services
            .set_task_state(principal.org_id, id, &req.key, value)
            .await?;
        Ok(Response::new(()))
    }

    async fn clear_state(&self, request: Request<pb::ClearStateRequest>) -> Result<Response<()>, Status> {
        let principal = principal(&request)?;
        let req = request.into_inner();
        let id = parse_uuid(&req.task_execution_id, "task_execution_id")?;
        self.state
            .services
            .clear_task_state(principal.org_id, id, Some(&req.key))
            .await?;
        Ok(Response::new(()))
    }

    async fn clear_all_state(&self, request: Request<pb::ClearAllStateRequest>) -> Result<Response<()>, Status> {
        let principal = principal(&request)?;
        let id = parse_uuid(&request.get_ref().task_execution_id, "task_execution_id")?;
        self.state.services.clear_task_state(principal.org_id, id, None).await?;
        Ok(Response::new(()))
    }

    async fn get_state_keys(
        &self,
        request: Request<pb::GetStateKeysRequest>,
    ) -> Result<Response<pb::GetStateKeysResponse>, Status> {
        let principal = principal(&request)?;
        let id = parse_uuid(&request.get_ref().task_execution_id, "task_execution_id")?;
        let keys = self.state.services.task_state_keys(principal.org_id, id).await?;
        Ok(Response::new(pb::GetStateKeysResponse { keys }))
    }

    async fn stream_task_data(
        &self,
        request: Request<pb::StreamTaskDataRequest>,
    ) -> Result<Response<pb::StreamTaskDataResponse>, Status> {
        let principal = principal(&request)?;
        let id = parse_uuid(&request.get_ref().task_execution_id, "task_execution_id")?;
        self.state.services.owned_task(principal.org_id, id).await?;
        Ok(Response::new(pb::StreamTaskDataResponse { acknowledged: true }))
    }
}
