//! Core of the dispatch server: jobs, queues, the in-memory store, the
//! service layer and the gRPC contract that `dispatch-api` implements.
//!
//! Nothing in this crate knows about HTTP; the REST and gRPC front ends live
//! in `dispatch-api`.

pub mod alerts;
pub mod dispatcher;
pub mod error;
pub mod events;
pub mod job;
pub mod metrics;
pub mod queue;
pub mod rpc;
pub mod service;
pub mod store;
pub mod sweeper;

pub use dispatcher::{finish_requeue, Dispatcher};
pub use error::DispatchError;
pub use events::{ConfigReload, ReloadBroadcaster};
pub use events::{SharedNotifier, WorkNotification, WorkerNotifier};
pub use job::{Job, JobId, JobState, NewJob};
pub use service::{DispatchService, DispatchServiceBuilder, Limits};
pub use store::InMemoryStore;

/// Result type of every fallible operation in this crate.
pub type Result<T, E = DispatchError> = std::result::Result<T, E>;
