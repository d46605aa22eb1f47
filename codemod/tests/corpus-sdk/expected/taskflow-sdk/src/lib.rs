//! TaskFlow worker SDK: polls a TaskFlow dispatch server for workflow executions and tasks, runs
//! them with the registered handlers and reports the results.
//!
//! Idle workers also listen for work-available events, so that new work is picked up without
//! waiting for the next poll.

pub mod api;
mod builder;
mod config;
mod metrics;
mod task;
pub mod testing;
mod worker;
mod workflow;

pub use api::{DispatchApi, EventStream, RpcResult};
pub use builder::WorkerBuilder;
pub use config::WorkerConfig;
pub use metrics::MetricsSnapshot;
pub use task::TaskFn;
pub use worker::{Worker, WorkerHandle};
pub use workflow::Workflow;
