//! The history's event types, one constant each, as the SDK spells them
//! (fact sheet 4.6). Event data keys are camelCase; where the protocol needs
//! an odd spelling, the constant's doc says so.

/// Event 1 of every history: `input`, `workflowKind`, `queue` (and `parentWorkflowExecutionId` for a child).
pub const WORKFLOW_STARTED: &str = "WORKFLOW_STARTED";
/// `COMPLETE_WORKFLOW`: `output`.
pub const WORKFLOW_COMPLETED: &str = "WORKFLOW_COMPLETED";
/// `FAIL_WORKFLOW`: `error`, `stackTrace`, `failureType`.
pub const WORKFLOW_EXECUTION_FAILED: &str = "WORKFLOW_EXECUTION_FAILED";
/// Written after `WORKFLOW_EXECUTION_FAILED` so that `start_workflow_and_wait` returns the error (fact sheet 8.2).
pub const WORKFLOW_FAILED: &str = "WORKFLOW_FAILED";
/// `SUSPEND_WORKFLOW`: `reason`.
pub const WORKFLOW_SUSPENDED: &str = "WORKFLOW_SUSPENDED";
/// `CANCEL_WORKFLOW`, or a parent's cancel request: `reason`.
pub const WORKFLOW_CANCELLED: &str = "WORKFLOW_CANCELLED";
/// `SCHEDULE_TASK`: `kind` and `taskType` (both spellings are read), `taskExecutionId`, `input`, `queue`, `maxRetries`.
pub const TASK_SCHEDULED: &str = "TASK_SCHEDULED";
/// A task's result: `taskExecutionId`, `result` and `output` (both spellings are read).
pub const TASK_COMPLETED: &str = "TASK_COMPLETED";
/// A task failed for good: `taskExecutionId`, `error`.
pub const TASK_FAILED: &str = "TASK_FAILED";
/// `START_TIMER`: `timerId`, `durationMs`.
pub const TIMER_STARTED: &str = "TIMER_STARTED";
/// A due timer: `timerId`.
pub const TIMER_FIRED: &str = "TIMER_FIRED";
/// `CANCEL_TIMER`: `timerId`.
pub const TIMER_CANCELLED: &str = "TIMER_CANCELLED";
/// `CREATE_PROMISE`: `promiseName`, `promiseId`, `timeoutMs`.
pub const PROMISE_CREATED: &str = "PROMISE_CREATED";
/// A promise resolved: `promiseName`, `value`.
pub const PROMISE_RESOLVED: &str = "PROMISE_RESOLVED";
/// A promise rejected: `promiseName`, `error`.
pub const PROMISE_REJECTED: &str = "PROMISE_REJECTED";
/// A promise's timeout passed: `promiseName`.
pub const PROMISE_TIMEOUT: &str = "PROMISE_TIMEOUT";
/// `SCHEDULE_CHILD_WORKFLOW` in the parent's history.
pub const CHILD_WORKFLOW_INITIATED: &str = "CHILD_WORKFLOW_INITIATED";
/// A child completed, in the parent's history: `childExecutionName`, `childWorkflowExecutionId`, `output`.
pub const CHILD_WORKFLOW_COMPLETED: &str = "CHILD_WORKFLOW_COMPLETED";
/// A child failed or was cancelled, in the parent's history. Its data carries the child id twice: `childWorkflowExecutionId` and `childworkflowExecutionId` (lower-case `w`), the spelling the Rust SDK reads for this event.
pub const CHILD_WORKFLOW_FAILED: &str = "CHILD_WORKFLOW_FAILED";
/// `RECORD_OPERATION`: `operationName`, `result`.
pub const OPERATION_COMPLETED: &str = "OPERATION_COMPLETED";
/// `SET_STATE`: `key`, `value`.
pub const STATE_SET: &str = "STATE_SET";
/// `CLEAR_STATE`: `key`.
pub const STATE_CLEARED: &str = "STATE_CLEARED";
