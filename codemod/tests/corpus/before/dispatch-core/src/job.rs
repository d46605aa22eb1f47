//! Job records and their life cycle.

use std::fmt;
use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct JobId(pub u64);

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "job-{}", self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobState {
    /// Waiting for a worker.
    Pending,
    /// Invisible to workers until `due`.
    Scheduled {
        due: Instant,
    },
    /// Handed to `worker`, which must finish or release it before `until`.
    Leased {
        worker: String,
        until: Instant,
    },
    Failed {
        reason: String,
    },
    Done,
}

impl JobState {
    pub fn name(&self) -> &'static str {
        match self {
            JobState::Pending => "pending",
            JobState::Scheduled { .. } => "scheduled",
            JobState::Leased { .. } => "leased",
            JobState::Failed { .. } => "failed",
            JobState::Done => "done",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Job {
    pub id: JobId,
    pub org_id: String,
    pub queue: String,
    pub payload: String,
    pub priority: u8,
    pub attempts: u32,
    pub state: JobState,
}

impl Job {
    pub fn is_pending(&self) -> bool {
        matches!(self.state, JobState::Pending)
    }

    /// Whether a worker polling at `now` may take this job.
    pub fn is_ready(&self, now: Instant) -> bool {
        match self.state {
            JobState::Pending => true,
            JobState::Scheduled { due } => due <= now,
            _ => false,
        }
    }
}

/// A job as submitted, before the store gives it an id.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub org_id: String,
    pub queue: String,
    pub payload: String,
    pub priority: u8,
    pub due: Option<Instant>,
}

impl NewJob {
    pub fn new(org_id: &str, queue: &str, payload: impl Into<String>) -> Self {
        Self {
            org_id: org_id.to_owned(),
            queue: queue.to_owned(),
            payload: payload.into(),
            priority: 0,
            due: None,
        }
    }

    pub fn priority(mut self, priority: u8) -> Self {
        self.priority = priority;
        self
    }

    pub fn due(mut self, due: Instant) -> Self {
        self.due = Some(due);
        self
    }
}
