//! Replay: one workflow task runs the workflow code from the start against
//! the full history. Each step the code takes (an operation, a task, a
//! timer, a promise, a child, a state change) is matched by type and
//! position with the history: a recorded step yields its recorded outcome
//! and produces no command; a new step produces a command. A recorded step
//! of another name or kind is a determinism violation naming the step.

use std::collections::BTreeMap;

use serde_json::Value;
use uuid::Uuid;

use crate::transport::pb::{self, workflow_command::CommandData};
use crate::transport::Event;
use crate::Error;

/// The outcome of a step: done (with the sequence number of the event that
/// finished it, for `select`), or still waiting.
pub(crate) type Outcome = Option<(i32, crate::Result<Value>)>;

/// The replay state of one workflow task.
pub(crate) struct Replay {
    execution_id: Uuid,
    pub time_ms: i64,
    events: Vec<Event>,
    /// History positions of the initiating events of each step type.
    operations: Vec<usize>,
    tasks: Vec<usize>,
    timers: Vec<usize>,
    promises: Vec<usize>,
    children: Vec<usize>,
    state_changes: Vec<usize>,
    /// How many steps of each type the code took so far.
    next_operation: usize,
    next_task: usize,
    next_timer: usize,
    next_promise: usize,
    next_child: usize,
    next_state_change: usize,
    uuid_counter: u64,
    rng: u64,
    pub state: BTreeMap<String, Value>,
    pub commands: Vec<pb::WorkflowCommand>,
    /// The first determinism violation, which fails the workflow.
    pub violation: Option<String>,
    /// What the workflow waits for, for the suspension reason.
    pub waiting_for: Vec<String>,
}

impl Replay {
    pub fn new(execution_id: Uuid, time_ms: i64, events: Vec<Event>) -> Self {
        let positions = |types: &[&str]| -> Vec<usize> {
            events
                .iter()
                .enumerate()
                .filter(|(_, e)| types.contains(&e.event_type.as_str()))
                .map(|(i, _)| i)
                .collect()
        };
        let low = execution_id.as_u64_pair().1;
        Replay {
            execution_id,
            time_ms,
            operations: positions(&["OPERATION_COMPLETED"]),
            tasks: positions(&["TASK_SCHEDULED"]),
            timers: positions(&["TIMER_STARTED"]),
            promises: positions(&["PROMISE_CREATED"]),
            children: positions(&["CHILD_WORKFLOW_INITIATED"]),
            state_changes: positions(&["STATE_SET", "STATE_CLEARED"]),
            events,
            next_operation: 0,
            next_task: 0,
            next_timer: 0,
            next_promise: 0,
            next_child: 0,
            next_state_change: 0,
            uuid_counter: 0,
            rng: if low == 0 { 0x9e37_79b9_7f4a_7c15 } else { low },
            state: BTreeMap::new(),
            commands: Vec::new(),
            violation: None,
            waiting_for: Vec::new(),
        }
    }

    fn push(&mut self, command_type: pb::CommandType, data: CommandData) {
        let sequence_number = (self.events.len() + self.commands.len() + 1) as i32;
        self.commands.push(pb::WorkflowCommand {
            command_type: command_type as i32,
            sequence_number,
            command_data: Some(data),
        });
    }

    fn violate(&mut self, message: String) -> Error {
        if self.violation.is_none() {
            self.violation = Some(message.clone());
        }
        Error::Determinism(message)
    }

    /// The next deterministic UUID (shared by tasks and children).
    pub fn random_uuid(&mut self) -> Uuid {
        self.uuid_counter += 1;
        let name = format!("{}:{}", self.execution_id, self.uuid_counter);
        Uuid::new_v5(&self.execution_id, name.as_bytes())
    }

    /// The next deterministic number in [0, 1).
    pub fn random(&mut self) -> f64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        (self.rng >> 11) as f64 / (1u64 << 53) as f64
    }

    /// The latest event of `types` whose `key` equals `value`.
    fn terminal(&self, types: &[&str], key: &str, value: &str) -> Option<&Event> {
        self.events
            .iter()
            .filter(|e| types.contains(&e.event_type.as_str()) && e.data[key].as_str() == Some(value))
            .max_by_key(|e| e.sequence_number)
    }

    /// A recorded side effect: its recorded result, or `None` when the code
    /// must run it (then call [`Replay::record_operation`]).
    pub fn operation(&mut self, name: &str) -> Option<crate::Result<Value>> {
        let n = self.next_operation;
        self.next_operation += 1;
        let &at = self.operations.get(n)?;
        let event = &self.events[at];
        let recorded = event.data["operationName"]
            .as_str()
            .or(event.data["name"].as_str())
            .unwrap_or("")
            .to_string();
        if recorded != name {
            let message = format!(
                "step `run` #{}: history recorded operation {recorded:?}, the code runs {name:?}",
                n + 1
            );
            return Some(Err(self.violate(message)));
        }
        Some(Ok(event.data["result"].clone()))
    }

    pub fn record_operation(&mut self, name: &str, result: &Value) {
        self.push(
            pb::CommandType::RecordOperation,
            CommandData::RecordOperation(pb::RecordOperationCommand {
                operation_name: name.to_string(),
                result: serde_json::to_vec(result).unwrap_or_default(),
            }),
        );
    }

    pub fn schedule_task(&mut self, kind: &str, input: Value, max_retries: Option<i32>) -> Outcome {
        let n = self.next_task;
        self.next_task += 1;
        let generated = self.random_uuid();
        let id = match self.tasks.get(n).map(|&at| self.events[at].clone()) {
            Some(event) => {
                let recorded = event.data["kind"].as_str().unwrap_or("");
                if recorded != kind {
                    let message =
                        format!("step `schedule_task` #{}: history scheduled task kind {recorded:?}, the code schedules {kind:?}", n + 1);
                    return Some((0, Err(self.violate(message))));
                }
                event.data["taskExecutionId"]
                    .as_str()
                    .or(event.data["taskId"].as_str())
                    .unwrap_or_default()
                    .to_string()
            }
            None => {
                self.push(
                    pb::CommandType::ScheduleTask,
                    CommandData::ScheduleTask(pb::ScheduleTaskCommand {
                        kind: kind.to_string(),
                        input: serde_json::to_vec(&input).unwrap_or_default(),
                        task_execution_id: generated.to_string(),
                        max_retries,
                        ..Default::default()
                    }),
                );
                generated.to_string()
            }
        };
        let outcome = self
            .terminal(&["TASK_COMPLETED", "TASK_FAILED"], "taskExecutionId", &id)
            .map(|e| {
                let result = if e.event_type == "TASK_COMPLETED" {
                    Ok(if e.data["result"].is_null() {
                        e.data["output"].clone()
                    } else {
                        e.data["result"].clone()
                    })
                } else {
                    Err(Error::Failed(format!(
                        "Task failed: {}",
                        e.data["error"].as_str().unwrap_or("unknown error")
                    )))
                };
                (e.sequence_number, result)
            });
        if outcome.is_none() {
            self.waiting_for.push(format!("task {id} ({kind}) to complete"));
        }
        outcome
    }

    pub fn start_timer(&mut self, duration_ms: i64) -> Outcome {
        let n = self.next_timer;
        self.next_timer += 1;
        let timer_id = format!("sleep-{}", n + 1);
        match self
            .timers
            .get(n)
            .map(|&at| self.events[at].data["timerId"].as_str().unwrap_or("").to_string())
        {
            Some(recorded) if recorded != timer_id => {
                let message = format!(
                    "step `sleep` #{}: history started timer {recorded:?}, the code starts {timer_id:?}",
                    n + 1
                );
                return Some((0, Err(self.violate(message))));
            }
            Some(_) => {}
            None => self.push(
                pb::CommandType::StartTimer,
                CommandData::StartTimer(pb::StartTimerCommand {
                    timer_id: timer_id.clone(),
                    duration_ms,
                }),
            ),
        }
        let outcome = self
            .terminal(&["TIMER_FIRED", "TIMER_CANCELLED"], "timerId", &timer_id)
            .map(|e| {
                let result = if e.event_type == "TIMER_FIRED" {
                    Ok(Value::Null)
                } else {
                    Err(Error::Failed(format!("Timer cancelled: {timer_id}")))
                };
                (e.sequence_number, result)
            });
        if outcome.is_none() {
            self.waiting_for.push(format!("timer {timer_id} to fire"));
        }
        outcome
    }

    pub fn promise(&mut self, name: &str) -> Outcome {
        let n = self.next_promise;
        self.next_promise += 1;
        let Some(event) = self.promises.get(n).map(|&at| self.events[at].clone()) else {
            self.push(
                pb::CommandType::CreatePromise,
                CommandData::CreatePromise(pb::CreatePromiseCommand {
                    promise_id: name.to_string(),
                    ..Default::default()
                }),
            );
            self.waiting_for.push(format!("promise {name} to be resolved"));
            return None;
        };
        let recorded = event.data["promiseName"].as_str().unwrap_or("");
        if recorded != name {
            let message = format!(
                "step `promise` #{}: history created promise {recorded:?}, the code creates {name:?}",
                n + 1
            );
            return Some((0, Err(self.violate(message))));
        }
        let id = event.data["promiseId"].as_str().unwrap_or("").to_string();
        let outcome = self
            .terminal(
                &["PROMISE_RESOLVED", "PROMISE_REJECTED", "PROMISE_TIMEOUT"],
                "promiseId",
                &id,
            )
            .map(|e| {
                let result = match e.event_type.as_str() {
                    "PROMISE_RESOLVED" => Ok(e.data["value"].clone()),
                    "PROMISE_REJECTED" => Err(Error::Failed(format!(
                        "Promise rejected: {name}: {}",
                        e.data["error"].as_str().unwrap_or("")
                    ))),
                    _ => Err(Error::Failed(format!("Promise timeout: {name}"))),
                };
                (e.sequence_number, result)
            });
        if outcome.is_none() {
            self.waiting_for.push(format!("promise {name} to be resolved"));
        }
        outcome
    }

    pub fn child(&mut self, name: &str, kind: &str, input: Value) -> Outcome {
        let n = self.next_child;
        self.next_child += 1;
        let generated = self.random_uuid();
        match self.children.get(n).map(|&at| self.events[at].clone()) {
            Some(event) => {
                let recorded = event.data["childExecutionName"].as_str().unwrap_or("");
                let recorded_kind = event.data["childWorkflowKind"].as_str().unwrap_or("");
                if recorded != name || (!recorded_kind.is_empty() && recorded_kind != kind) {
                    let message = format!(
                        "step `schedule_workflow` #{}: history started child {recorded:?} ({recorded_kind}), the code starts {name:?} ({kind})",
                        n + 1
                    );
                    return Some((0, Err(self.violate(message))));
                }
            }
            None => self.push(
                pb::CommandType::ScheduleChildWorkflow,
                CommandData::ScheduleChildWorkflow(pb::ScheduleChildWorkflowCommand {
                    child_execution_name: name.to_string(),
                    workflow_kind: Some(kind.to_string()),
                    child_workflow_execution_id: generated.to_string(),
                    input: serde_json::to_vec(&input).unwrap_or_default(),
                    ..Default::default()
                }),
            ),
        }
        let outcome = self
            .terminal(
                &["CHILD_WORKFLOW_COMPLETED", "CHILD_WORKFLOW_FAILED"],
                "childExecutionName",
                name,
            )
            .map(|e| {
                let result = if e.event_type == "CHILD_WORKFLOW_COMPLETED" {
                    Ok(e.data["output"].clone())
                } else {
                    let id = e.data["childworkflowExecutionId"].as_str().unwrap_or("");
                    Err(Error::Failed(format!(
                        "Child workflow failed: {name} ({id}): {}",
                        e.data["error"].as_str().unwrap_or("")
                    )))
                };
                (e.sequence_number, result)
            });
        if outcome.is_none() {
            self.waiting_for.push(format!("child workflow {name} to complete"));
        }
        outcome
    }

    /// A state change: replayed (the key must match) or new.
    pub fn change_state(&mut self, key: &str, value: Option<Value>) -> crate::Result<()> {
        let n = self.next_state_change;
        self.next_state_change += 1;
        match self.state_changes.get(n).map(|&at| self.events[at].clone()) {
            Some(event) => {
                let recorded = event.data["key"].as_str().unwrap_or("");
                if recorded != key {
                    let message = format!("step `set_state`/`clear_state` #{}: history changed key {recorded:?}, the code changes {key:?}", n + 1);
                    return Err(self.violate(message));
                }
            }
            None => match &value {
                Some(v) => self.push(
                    pb::CommandType::SetState,
                    CommandData::SetState(pb::SetStateCommand {
                        key: key.to_string(),
                        value: serde_json::to_vec(v).unwrap_or_default(),
                    }),
                ),
                None => self.push(
                    pb::CommandType::ClearState,
                    CommandData::ClearState(pb::ClearStateCommand { key: key.to_string() }),
                ),
            },
        }
        match value {
            Some(v) => self.state.insert(key.to_string(), v),
            None => self.state.remove(key),
        };
        Ok(())
    }

    /// The terminal command of this workflow task and its status.
    pub fn finish(&mut self, result: Option<crate::Result<Value>>) -> pb::WorkflowStatus {
        // A violation fails the workflow, whatever the code went on to do.
        let result = match self.violation.clone() {
            Some(violation) => Some(Err(Error::Determinism(violation))),
            None => result,
        };
        match result {
            Some(Ok(output)) => {
                let output = serde_json::to_vec(&output).unwrap_or_else(|_| b"null".to_vec());
                self.push(
                    pb::CommandType::CompleteWorkflow,
                    CommandData::CompleteWorkflow(pb::CompleteWorkflowCommand { output }),
                );
                pb::WorkflowStatus::Completed
            }
            Some(Err(error)) => {
                self.push(
                    pb::CommandType::FailWorkflow,
                    CommandData::FailWorkflow(pb::FailWorkflowCommand {
                        error: error.to_string(),
                        stack_trace: String::new(),
                        failure_type: "ERROR".into(),
                    }),
                );
                pb::WorkflowStatus::Failed
            }
            None => {
                let reason = match self.waiting_for.first() {
                    Some(what) => format!("Waiting for {what}"),
                    None => "Waiting".to_string(),
                };
                self.push(
                    pb::CommandType::SuspendWorkflow,
                    CommandData::SuspendWorkflow(pb::SuspendWorkflowCommand { reason }),
                );
                pb::WorkflowStatus::Suspended
            }
        }
    }
}
