//! The commands a workflow task submits, as the service understands them
//! (decoded from the wire by the gRPC adapter), and the status it ends with.

use serde_json::Value;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    RecordOperation {
        name: String,
        result: Value,
    },
    SetState {
        key: String,
        value: Value,
    },
    ClearState {
        key: String,
    },
    ScheduleTask(ScheduleTask),
    CompleteWorkflow {
        output: Value,
    },
    FailWorkflow {
        error: String,
        stack_trace: String,
        failure_type: String,
    },
    SuspendWorkflow {
        reason: String,
    },
    CancelWorkflow {
        reason: String,
    },
    StartTimer {
        timer_id: String,
        duration_ms: i64,
    },
    CreatePromise {
        name: String,
        timeout_ms: Option<i64>,
    },
    /// Resolves a promise (of any workflow of the org) from workflow code.
    ResolvePromise {
        promise_id: String,
        value: Value,
    },
    ScheduleChildWorkflow(ScheduleChild),
    RequestCancelChildWorkflow {
        child_id: Uuid,
        reason: String,
    },
    CancelTimer {
        timer_id: String,
    },
    /// A command this server does not implement yet; the submission is
    /// refused as a whole.
    Unsupported(&'static str),
    /// `COMMAND_TYPE_UNSPECIFIED`: ignored (fact sheet 4.4).
    Ignored,
}

/// `SCHEDULE_TASK`: a task of the workflow, with the id the SDK chose.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleTask {
    pub task_id: Uuid,
    pub kind: String,
    pub input: Value,
    pub max_retries: Option<i32>,
    pub timeout_ms: Option<i64>,
    pub queue: Option<String>,
}

/// `SCHEDULE_CHILD_WORKFLOW`: a child execution, with the id the SDK chose.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleChild {
    pub name: String,
    pub kind: String,
    pub child_id: Uuid,
    pub input: Value,
    pub queue: String,
}

/// The outcome of a workflow task (the wire's `WorkflowStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubmitStatus {
    Unspecified,
    Running,
    Suspended,
    Completed,
    Cancelled,
    Failed,
}
