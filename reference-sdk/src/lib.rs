//! The Flovyn worker SDK in the migration's end state: workers find work by
//! polling only. When a poll returns nothing, a worker sleeps a random time
//! between half and all of `no_work_backoff` (100 ms by default) and polls
//! again. There is no notification subscription and no push channel.
//!
//! - [`client`]: [`FlovynClient`] (start workflows, wait for results,
//!   resolve promises).
//! - [`workflow`]: [`WorkflowDefinition`] and [`WorkflowContext`]; every
//!   workflow task replays the code against the full history.
//! - [`task`]: [`TaskDefinition`] and [`TaskContext`].
//! - [`worker`]: the poll loops, and the builder that starts them.
//! - [`transport`]: the floor: generated protocol types, the channel with
//!   its bearer token, payload codec. Every module above uses it; it uses
//!   none of them.

pub mod client;
mod error;
pub mod task;
pub mod transport;
pub mod worker;
pub mod workflow;

pub use client::FlovynClient;
pub use error::{Error, Result};
pub use task::{TaskContext, TaskDefinition};
pub use worker::{FlovynClientBuilder, WorkerHandle, WorkerStats};
pub use workflow::{join_all, select, Step, WorkflowContext, WorkflowDefinition};

/// Re-exported for implementing [`WorkflowDefinition`] and [`TaskDefinition`].
pub use async_trait::async_trait;

/// The future of a definition whose types are erased (workflows, tasks).
pub(crate) type BoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>>;
