//! `flovyn.v1.WorkflowDispatch`: polling, starting workflows, histories,
//! submissions; `SubscribeToNotifications` kept as the design's Option B
//! stub for SDKs from before the migration.

use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use super::delivery::Undelivered;
use super::pb::workflow_dispatch_server::WorkflowDispatch;
use super::pb::{self, workflow_command::CommandData};
use super::poll_budget::poll_budget;
use super::{org_of, parse_json, parse_uuid, principal, to_bytes, GrpcState};
use crate::service::client_duration;
use crate::service::commands::{Command, ScheduleChild, ScheduleTask, SubmitStatus};
use crate::service::workflow_launcher::StartWorkflow;

pub struct WorkflowDispatchService {
    state: GrpcState,
}

impl WorkflowDispatchService {
    pub fn new(state: GrpcState) -> Self {
        WorkflowDispatchService { state }
    }

    fn json(&self, bytes: &[u8], field: &str) -> Result<serde_json::Value, Status> {
        parse_json(bytes, field, self.state.max_payload_bytes)
    }

    /// Decodes one command; `index` names it in errors.
    fn command(&self, index: usize, command: pb::WorkflowCommand) -> Result<Command, Status> {
        let field = |name: &str| format!("commands[{index}].{name}");
        let missing = || Status::invalid_argument(format!("commands[{index}]: command_type without its payload"));
        let kind = pb::CommandType::try_from(command.command_type).map_err(|_| {
            Status::invalid_argument(format!(
                "{}: unknown value {}",
                field("command_type"),
                command.command_type
            ))
        })?;
        let data = command.command_data;
        Ok(match (kind, data) {
            (pb::CommandType::Unspecified, _) => Command::Ignored,
            (pb::CommandType::RecordOperation, Some(CommandData::RecordOperation(c))) => Command::RecordOperation {
                result: self.json(&c.result, &field("record_operation.result"))?,
                name: c.operation_name,
            },
            (pb::CommandType::SetState, Some(CommandData::SetState(c))) => Command::SetState {
                value: self.json(&c.value, &field("set_state.value"))?,
                key: c.key,
            },
            (pb::CommandType::ClearState, Some(CommandData::ClearState(c))) => Command::ClearState { key: c.key },
            (pb::CommandType::ScheduleTask, Some(CommandData::ScheduleTask(c))) => {
                Command::ScheduleTask(ScheduleTask {
                    task_id: parse_uuid(&c.task_execution_id, &field("schedule_task.task_execution_id"))?,
                    input: self.json(&c.input, &field("schedule_task.input"))?,
                    kind: c.kind,
                    max_retries: c.max_retries,
                    timeout_ms: duration(c.timeout_ms, &field("schedule_task.timeout_ms"))?,
                    queue: c.queue,
                })
            }
            (pb::CommandType::CompleteWorkflow, Some(CommandData::CompleteWorkflow(c))) => Command::CompleteWorkflow {
                output: self.json(&c.output, &field("complete_workflow.output"))?,
            },
            (pb::CommandType::FailWorkflow, Some(CommandData::FailWorkflow(c))) => Command::FailWorkflow {
                error: c.error,
                stack_trace: c.stack_trace,
                failure_type: c.failure_type,
            },
            (pb::CommandType::SuspendWorkflow, Some(CommandData::SuspendWorkflow(c))) => {
                Command::SuspendWorkflow { reason: c.reason }
            }
            (pb::CommandType::CancelWorkflow, Some(CommandData::CancelWorkflow(c))) => {
                Command::CancelWorkflow { reason: c.reason }
            }
            (pb::CommandType::StartTimer, Some(CommandData::StartTimer(c))) => Command::StartTimer {
                duration_ms: client_duration(&field("start_timer.duration_ms"), c.duration_ms)?,
                timer_id: c.timer_id,
            },
            (pb::CommandType::CancelTimer, Some(CommandData::CancelTimer(c))) => {
                Command::CancelTimer { timer_id: c.timer_id }
            }
            (pb::CommandType::CreatePromise, Some(CommandData::CreatePromise(c))) => {
                if c.promise_id.is_empty() {
                    return Err(Status::invalid_argument(format!(
                        "{} is required",
                        field("create_promise.promise_id")
                    )));
                }
                Command::CreatePromise {
                    timeout_ms: duration(c.timeout_ms, &field("create_promise.timeout_ms"))?,
                    name: c.promise_id,
                }
            }
            (pb::CommandType::ResolvePromise, Some(CommandData::ResolvePromise(c))) => Command::ResolvePromise {
                value: self.json(&c.value, &field("resolve_promise.value"))?,
                promise_id: c.promise_id,
            },
            (pb::CommandType::ScheduleChildWorkflow, Some(CommandData::ScheduleChildWorkflow(c))) => {
                let kind = c.workflow_kind.filter(|k| !k.is_empty()).ok_or_else(|| {
                    Status::invalid_argument(format!(
                        "{} is required",
                        field("schedule_child_workflow.workflow_kind")
                    ))
                })?;
                Command::ScheduleChildWorkflow(ScheduleChild {
                    child_id: parse_uuid(
                        &c.child_workflow_execution_id,
                        &field("schedule_child_workflow.child_workflow_execution_id"),
                    )?,
                    input: self.json(&c.input, &field("schedule_child_workflow.input"))?,
                    name: c.child_execution_name,
                    kind,
                    queue: c.queue,
                })
            }
            (pb::CommandType::RequestCancelChildWorkflow, Some(CommandData::RequestCancelChildWorkflow(c))) => {
                Command::RequestCancelChildWorkflow {
                    child_id: parse_uuid(
                        &c.child_workflow_execution_id,
                        &field("request_cancel_child_workflow.child_workflow_execution_id"),
                    )?,
                    reason: c.reason,
                }
            }
            (_, _) => return Err(missing()),
        })
    }
}

fn submit_status(value: i32) -> Result<SubmitStatus, Status> {
    Ok(match pb::WorkflowStatus::try_from(value) {
        Ok(pb::WorkflowStatus::Unspecified) => SubmitStatus::Unspecified,
        Ok(pb::WorkflowStatus::Running) => SubmitStatus::Running,
        Ok(pb::WorkflowStatus::Suspended) => SubmitStatus::Suspended,
        Ok(pb::WorkflowStatus::Completed) => SubmitStatus::Completed,
        Ok(pb::WorkflowStatus::Cancelled) => SubmitStatus::Cancelled,
        Ok(pb::WorkflowStatus::Failed) => SubmitStatus::Failed,
        Err(_) => return Err(Status::invalid_argument(format!("status: unknown value {value}"))),
    })
}

#[tonic::async_trait]
impl WorkflowDispatch for WorkflowDispatchService {
    type SubscribeToNotificationsStream = ReceiverStream<Result<pb::WorkAvailableEvent, Status>>;

    async fn poll_workflow(&self, request: Request<pb::PollRequest>) -> Result<Response<pb::PollResponse>, Status> {
        let principal = principal(&request)?;
        let budget = poll_budget(&request, request.get_ref().timeout_seconds);
        let req = request.into_inner();
        let org_id = org_of(&principal, &req.org_id, "org_id")?;
        let task = self.state.services.poll_workflow(org_id, &req.queue, budget).await?;
        let undelivered = task.clone().map(|t| {
            let services = self.state.services.clone();
            Undelivered::new(move || services.release_undelivered(t))
        });
        let workflow_execution = task.map(|t| {
            let w = t.workflow;
            pb::WorkflowExecution {
                id: w.id.to_string(),
                kind: w.kind,
                org_id: w.org_id.to_string(),
                input: to_bytes(&w.input),
                queue: w.queue,
                priority_ms: w.priority_ms,
                created_at_ms: w.created_at,
                current_sequence: t.current_sequence,
                workflow_task_time_millis: w.task_time_ms,
                ..Default::default()
            }
        });
        let mut response = Response::new(pb::PollResponse {
            workflow_execution,
            traceparent: String::new(),
        });
        if let Some(undelivered) = undelivered {
            response.extensions_mut().insert(undelivered);
        }
        Ok(response)
    }

    async fn subscribe_to_notifications(
        &self,
        _request: Request<pb::SubscriptionRequest>,
    ) -> Result<Response<Self::SubscribeToNotificationsStream>, Status> {
        // WorkerNotifier was removed: workers discover work by polling. This stub keeps
        // SDKs from before the removal connected: it accepts the call, never sends an
        // event and ends the stream after 30 seconds (or when the client goes away).
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<pb::WorkAvailableEvent, Status>>(1);
        tokio::spawn(async move {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(30), tx.closed()).await;
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }

    async fn start_workflow(
        &self,
        request: Request<pb::StartWorkflowRequest>,
    ) -> Result<Response<pb::StartWorkflowResponse>, Status> {
        let principal = principal(&request)?;
        let req = request.into_inner();
        let org_id = org_of(&principal, &req.org_id, "org_id")?;
        if req.workflow_kind.is_empty() {
            return Err(Status::invalid_argument("workflow_kind is required"));
        }
        // Validated, not linked: a child is started by its parent's
        // SCHEDULE_CHILD_WORKFLOW, which records it in the parent's history.
        if let Some(parent) = req.parent_workflow_execution_id.as_deref().filter(|p| !p.is_empty()) {
            let field = "parent_workflow_execution_id";
            let id = parse_uuid(parent, field)?;
            self.state
                .services
                .workflow(org_id, id)
                .await
                .map_err(|e| match Status::from(e) {
                    s if s.code() == tonic::Code::NotFound => Status::not_found(format!("{field}: {}", s.message())),
                    s => s,
                })?;
        }
        let key_used = req.idempotency_key.is_some();
        let started = self
            .state
            .services
            .start_workflow(StartWorkflow {
                org_id,
                input: self.json(&req.input, "input")?,
                kind: req.workflow_kind,
                queue: req.queue,
                priority_seconds: req.priority_seconds,
                idempotency_key: req.idempotency_key.filter(|k| !k.is_empty()),
            })
            .await?;
        Ok(Response::new(pb::StartWorkflowResponse {
            workflow_execution_id: started.id.to_string(),
            idempotency_key_used: key_used,
            idempotency_key_new: started.created,
        }))
    }

    async fn get_visual_workflow_definition_by_id(
        &self,
        _request: Request<pb::GetVisualWorkflowDefinitionByIdRequest>,
    ) -> Result<Response<pb::GetVisualWorkflowDefinitionByIdResponse>, Status> {
        Err(Status::unimplemented(
            "visual workflow definitions are not supported by this server",
        ))
    }

    async fn start_child_workflow(
        &self,
        _request: Request<pb::StartChildWorkflowRequest>,
    ) -> Result<Response<pb::StartChildWorkflowResponse>, Status> {
        Err(Status::unimplemented(
            "StartChildWorkflow is not supported by this server yet",
        ))
    }

    async fn resolve_promise(&self, request: Request<pb::ResolvePromiseRequest>) -> Result<Response<()>, Status> {
        let principal = principal(&request)?;
        let req = request.into_inner();
        let value = self.json(&req.value, "value")?;
        self.state
            .services
            .resolve_promise(principal.org_id, &req.promise_id, value)
            .await?;
        Ok(Response::new(()))
    }

    async fn reject_promise(&self, request: Request<pb::RejectPromiseRequest>) -> Result<Response<()>, Status> {
        let principal = principal(&request)?;
        let req = request.into_inner();
        self.state
            .services
            .reject_promise(principal.org_id, &req.promise_id, req.error)
            .await?;
        Ok(Response::new(()))
    }

    async fn get_events(
        &self,
        request: Request<pb::GetEventsRequest>,
    ) -> Result<Response<pb::GetEventsResponse>, Status> {
        let principal = principal(&request)?;
        let id = parse_uuid(&request.get_ref().workflow_execution_id, "workflow_execution_id")?;
        let events = self.state.services.events(principal.org_id, id).await?;
        let events = events
            .into_iter()
            .map(|e| pb::WorkflowEvent {
                sequence_number: e.sequence_number,
                event_type: e.event_type,
                event_data: to_bytes(&e.data),
            })
            .collect();
        Ok(Response::new(pb::GetEventsResponse { events }))
    }

    async fn submit_workflow_commands(
        &self,
        request: Request<pb::SubmitWorkflowCommandsRequest>,
    ) -> Result<Response<()>, Status> {
        let principal = principal(&request)?;
        let req = request.into_inner();
        let id = parse_uuid(&req.workflow_execution_id, "workflow_execution_id")?;
        let status = submit_status(req.status)?;
        let commands = req
            .commands
            .into_iter()
            .enumerate()
            .map(|(i, c)| self.command(i, c))
            .collect::<Result<Vec<_>, _>>()?;
        self.state
            .services
            .submit_workflow_task(principal.org_id, id, commands, status)
            .await?;
        Ok(Response::new(()))
    }

    async fn report_execution_spans(
        &self,
        request: Request<pb::ReportExecutionSpansRequest>,
    ) -> Result<Response<pb::ReportExecutionSpansResponse>, Status> {
        principal(&request)?;
        let accepted = request.get_ref().spans.len() as i32;
        Ok(Response::new(pb::ReportExecutionSpansResponse {
            accepted_count: accepted,
            rejected_count: 0,
        }))
    }
}

/// An optional client duration (`None` stays `None`).
fn duration(ms: Option<i64>, field: &str) -> Result<Option<i64>, Status> {
    Ok(ms.map(|ms| client_duration(field, ms)).transpose()?)
}
