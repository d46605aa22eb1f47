//! The SDK's error type.

/// What can go wrong talking to the server or running code.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The connection could not be made or broke.
    #[error("transport: {0}")]
    Transport(String),
    /// The server answered with an error status.
    #[error("server: {code:?}: {message}")]
    Status { code: tonic::Code, message: String },
    /// A payload could not be encoded or decoded.
    #[error("decode: {0}")]
    Decode(String),
    /// The client was configured wrongly.
    #[error("configuration: {0}")]
    Config(String),
    /// The workflow code no longer matches its recorded history.
    #[error("determinism violation: {0}")]
    Determinism(String),
    /// A workflow or task failed with this message. A task failing so is
    /// retried while its retries last.
    #[error("{0}")]
    Failed(String),
    /// A task failed in a way that another attempt cannot fix (a declined
    /// card, input that can never be valid): it fails now, whatever its
    /// retries.
    #[error("{0}")]
    Fatal(String),
    /// Waiting for a result took longer than allowed.
    #[error("timed out: {0}")]
    Timeout(String),
}

impl From<tonic::Status> for Error {
    fn from(status: tonic::Status) -> Self {
        Error::Status {
            code: status.code(),
            message: status.message().to_string(),
        }
    }
}

impl From<tonic::transport::Error> for Error {
    fn from(e: tonic::transport::Error) -> Self {
        Error::Transport(e.to_string())
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Decode(e.to_string())
    }
}

impl Error {
    /// May another attempt of the task that failed so succeed? Everything
    /// but [`Error::Fatal`] may: a timeout, a transport error, a failure
    /// of the task's own code.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, Error::Fatal(_))
    }

    /// Is the server unreachable (reconnect with backoff) rather than
    /// refusing the request?
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Error::Transport(_))
            || matches!(
                self,
                Error::Status {
                    code: tonic::Code::Unavailable,
                    ..
                }
            )
    }
}

pub type Result<T> = std::result::Result<T, Error>;
