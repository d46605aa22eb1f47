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
    /// A workflow or task failed with this message.
    #[error("{0}")]
    Failed(String),
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
