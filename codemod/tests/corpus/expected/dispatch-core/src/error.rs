//! Errors returned by the store and the service layer.

use std::fmt;

use crate::job::JobId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DispatchError {
    /// No job with this id exists.
    NotFound(JobId),
    /// The job exists but its state does not allow the operation.
    InvalidState { id: JobId, expected: &'static str },
    /// The queue name is empty, too long or has forbidden characters.
    InvalidQueue(String),
    /// The payload is larger than [`Limits::max_payload_bytes`](crate::Limits).
    PayloadTooLarge { size: usize, limit: usize },
    /// The job has already been tried as often as allowed.
    AttemptsExhausted(JobId),
}

impl fmt::Display for DispatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DispatchError::NotFound(id) => write!(f, "{id} does not exist"),
            DispatchError::InvalidState { id, expected } => {
                write!(f, "{id} is not {expected}")
            }
            DispatchError::InvalidQueue(name) => write!(f, "invalid queue name {name:?}"),
            DispatchError::PayloadTooLarge { size, limit } => {
                write!(f, "payload of {size} bytes exceeds the limit of {limit}")
            }
            DispatchError::AttemptsExhausted(id) => write!(f, "{id} has no attempts left"),
        }
    }
}

impl std::error::Error for DispatchError {}
