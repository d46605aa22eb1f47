//! Domain logic: what each request does to the durable state. Knows
//! [`Storage`] and nothing of HTTP, gRPC or SQL. Every operation runs in one
//! storage transaction.
//!
//! Dispatch is polling only: work that becomes available is marked
//! pollable in storage (status `PENDING`), and the next poll of its
//! (org, queue) claims it. Nothing is pushed to workers.

pub mod alarm;
pub mod clock;
pub mod commands;
pub mod dispatch;
pub mod effects;
pub mod events;
pub(crate) mod held_poll;
pub mod orgs;
pub mod promise_resolver;
pub mod schedules;
pub mod task_execution;
pub mod task_launcher;
pub mod wakeup;
pub mod workers;
pub mod workflow_launcher;

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use self::clock::Clock;
use crate::storage::{self, Storage};

/// Service failures, mapped to gRPC and HTTP in exactly one place each.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("{0}")]
    InvalidArgument(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    FailedPrecondition(String),
    #[error("{0}")]
    AlreadyExists(String),
    #[error("{0}")]
    PermissionDenied(String),
    #[error("{0}")]
    ResourceExhausted(String),
    #[error("{0}")]
    Unimplemented(String),
    #[error("storage: {0}")]
    Storage(#[from] storage::Error),
}

pub type Result<T> = std::result::Result<T, Error>;

/// Tunables of dispatch.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long a polled workflow task stays handed out without a submission.
    pub workflow_lease: Duration,
    /// How long a polled task stays handed out without completion.
    pub task_lease: Duration,
    /// Retries of a task when the request does not say (fact sheet 5.3).
    pub default_max_retries: i32,
    /// Longest a poll with nothing ready is held (zero: answered at once).
    pub max_poll_wait: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            workflow_lease: Duration::from_secs(60),
            task_lease: Duration::from_secs(300),
            default_max_retries: 3,
            max_poll_wait: Duration::from_secs(60),
        }
    }
}

/// The services, sharing one storage handle. Cheap to clone.
#[derive(Clone)]
pub struct Services {
    pub storage: Arc<dyn Storage>,
    pub settings: Arc<Settings>,
    /// Told about every new due instant (timers, leases) so the scheduler
    /// wakes in time.
    pub alarm: Arc<alarm::Alarm>,
    /// The time every stored deadline is measured in.
    pub clock: Clock,
    /// Cancelled when the server stops: held polls answer at once.
    pub shutdown: CancellationToken,
    /// Claims made pollable again because their poll went away before
    /// delivery (a release that found the claim gone is not counted).
    pub released_claims: Arc<AtomicU64>,
}

impl Services {
    pub fn new(storage: Arc<dyn Storage>, settings: Settings) -> Self {
        Services {
            storage,
            settings: Arc::new(settings),
            alarm: Arc::new(alarm::Alarm::default()),
            clock: Clock::system(),
            shutdown: CancellationToken::new(),
            released_claims: Arc::default(),
        }
    }

    /// The same services, stopping their held polls when `shutdown` is
    /// cancelled.
    pub fn with_shutdown(mut self, shutdown: CancellationToken) -> Self {
        self.shutdown = shutdown;
        self
    }

    /// The same services reading the time from `clock`.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }
}

/// `lease` from `now`, in epoch ms.
fn lease_until(now: i64, lease: Duration) -> i64 {
    now.saturating_add(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX))
}

/// The longest duration accepted from a client (timers, promise and task
/// timeouts): 100 years. Longer ones are shortened to it, so that no
/// deadline computed from one (here or in SQL) can overflow.
pub const MAX_DURATION_MS: i64 = 100 * 365 * 24 * 3600 * 1000;

/// A duration in ms sent by a client: negative is refused naming `field`,
/// longer than [`MAX_DURATION_MS`] saturates to it.
pub fn client_duration(field: &str, ms: i64) -> Result<i64> {
    if ms < 0 {
        return Err(Error::InvalidArgument(format!(
            "{field} must not be negative, got {ms}"
        )));
    }
    Ok(ms.min(MAX_DURATION_MS))
}
