//! The gRPC contract, written by hand in the shape tonic's code generator
//! produces, so that the front end does not need a build script.

use std::pin::Pin;

use async_trait::async_trait;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushRequest {
    pub queue: String,
    pub payload: String,
    pub priority: u8,
    /// Milliseconds before the job becomes visible; 0 for now.
    pub delay_ms: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushResponse {
    pub job_id: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollRequest {
    pub queue: String,
    pub worker: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollResponse {
    /// `None` when the queue had nothing ready.
    pub job: Option<LeasedJob>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeasedJob {
    pub job_id: u64,
    pub payload: String,
    pub attempt: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NackRequest {
    pub job_id: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NackResponse {}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubscriptionRequest {
    /// Queues to hear about; empty means all queues of the organisation.
    pub queues: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkAvailableEvent {
    pub org_id: String,
    pub queue: String,
}

/// The stream type front ends use for
/// [`JobDispatch::subscribe_to_notifications`].
pub type EventStream = Pin<Box<dyn Stream<Item = Result<WorkAvailableEvent, Status>> + Send>>;

#[async_trait]
pub trait JobDispatch: Send + Sync + 'static {
    type SubscribeToNotificationsStream: Stream<Item = Result<WorkAvailableEvent, Status>>
        + Send // polled from the connection's task
        + 'static;

    async fn push(&self, request: Request<PushRequest>) -> Result<Response<PushResponse>, Status>;

    async fn poll(&self, request: Request<PollRequest>) -> Result<Response<PollResponse>, Status>;

    /// Gives a leased job back without counting it as a failure.
    async fn nack(&self, request: Request<NackRequest>) -> Result<Response<NackResponse>, Status>;

    /// Server streaming: one event each time a job becomes available on one
    /// of the requested queues, for as long as the worker stays connected.
    async fn subscribe_to_notifications(
        &self,
        request: Request<SubscriptionRequest>,
    ) -> Result<Response<Self::SubscribeToNotificationsStream>, Status>;
}
