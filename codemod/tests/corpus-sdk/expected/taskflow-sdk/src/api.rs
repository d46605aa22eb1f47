//! The client side of the TaskFlow dispatch service, written by hand instead of generated.
//!
//! [`DispatchApi`] mirrors the service's RPCs one for one;
//! [`FakeServer`](crate::testing::FakeServer) implements it in memory.

use std::pin::Pin;

use async_trait::async_trait;
use tokio_stream::Stream;
use tonic::Status;

/// Asks for the next piece of work on one queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollRequest {
    pub worker_id: String,
    pub queue: String,
}

/// A workflow execution handed to a worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowActivation {
    pub execution_id: u64,
    pub workflow_type: String,
    pub input: Vec<u8>,
}

/// A task handed to a worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskAssignment {
    pub task_id: u64,
    pub kind: String,
    pub payload: Vec<u8>,
    pub attempt: u32,
}

/// What a worker reports once a workflow execution or a task has finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletionRequest {
    pub worker_id: String,
    pub id: u64,
    pub result: Result<Vec<u8>, String>,
}

/// Opens a stream of [`WorkAvailableEvent`]s for the given queues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionRequest {
    pub worker_id: String,
    pub queues: Vec<String>,
}

/// Sent by the server when work was queued on a queue the worker subscribed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkAvailableEvent {
    pub queue: String,
    pub kind: WorkKind,
}

/// Which poller a piece of work is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkKind {
    Workflow,
    Task,
}

/// What every RPC returns: the response message, or the status the server answered with.
pub type RpcResult<T> = Result<T, Status>;

/// The response of [`DispatchApi::subscribe_to_notifications`].
pub type EventStream = Pin<Box<dyn Stream<Item = Result<WorkAvailableEvent, Status>> + Send>>;

/// The RPCs of the dispatch service that a worker calls.
#[async_trait]
pub trait DispatchApi: Send + Sync + 'static {
    /// The next workflow activation on `req.queue`, or `None` if the queue is empty.
    async fn poll_workflow(&self, req: PollRequest) -> RpcResult<Option<WorkflowActivation>>;

    async fn complete_workflow(&self, req: CompletionRequest) -> RpcResult<()>;

    /// The next task on `req.queue`, or `None` if the queue is empty.
    async fn poll_task(&self, req: PollRequest) -> RpcResult<Option<TaskAssignment>>;

    async fn complete_task(&self, req: CompletionRequest) -> RpcResult<()>;

    /// Server streaming: one event each time work is queued on one of `req.queues`, until the
    /// client drops the stream.
    async fn subscribe_to_notifications(&self, req: SubscriptionRequest) -> RpcResult<EventStream>;
}
