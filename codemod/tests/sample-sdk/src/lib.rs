//! A miniature copy of the Flovyn Rust worker SDK.
//!
//! The gRPC client is faked with an in-memory queue so the workers can be
//! exercised without a server.

pub mod client;
pub mod worker;

pub use client::{
    ClientError, TaskActivation, TaskExecutionClient, WorkAvailableEvent, WorkflowActivation,
    WorkflowDispatchClient,
};
pub use worker::task_worker::{TaskExecutorWorker, TaskWorkerConfig};
pub use worker::workflow_worker::{WorkflowExecutorWorker, WorkflowWorkerConfig};
