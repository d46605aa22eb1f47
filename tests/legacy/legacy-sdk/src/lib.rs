//! The Flovyn worker SDK in the migration's end state: workers find work by
//! polling only. When a poll returns nothing, a worker sleeps a random time
//! between half and all of `no_work_backoff` (100 ms by default) and polls
//! again. There is no notification subscription and no push channel.
//!
//! - [`client`]: [`FlovynClient`] (start workflows, wait for results,
//!   resolve promises) and its builder, which starts the workers.
//! - [`workflow`]: [`WorkflowDefinition`] and [`WorkflowContext`]; every
//!   workflow task replays the code against the full history.
//! - [`task`]: [`TaskDefinition`] and [`TaskContext`].
//! - [`worker`]: the poll loops.

pub mod client;
mod error;
pub mod task;
pub mod worker;
pub mod workflow;

pub use client::{FlovynClient, FlovynClientBuilder, WorkerHandle};
pub use error::{Error, Result};
pub use task::{TaskContext, TaskDefinition};
pub use workflow::{join_all, select, Step, WorkflowContext, WorkflowDefinition};

/// Re-exported for implementing [`WorkflowDefinition`] and [`TaskDefinition`].
pub use async_trait::async_trait;
