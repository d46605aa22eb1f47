//! Queue names.

use crate::error::DispatchError;

/// Longest queue name accepted, in bytes.
pub const MAX_QUEUE_NAME: usize = 64;

/// Checks that `name` is 1 to 64 bytes of ASCII letters, digits, `-`, `_`
/// and `.`.
pub fn validate_queue_name(name: &str) -> Result<(), DispatchError> {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.');
    if !name.is_empty() && name.len() <= MAX_QUEUE_NAME && name.bytes().all(allowed) {
        Ok(())
    } else {
        Err(DispatchError::InvalidQueue(name.to_owned()))
    }
}

/// One queue of one organisation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QueueKey {
    pub org_id: String,
    pub queue: String,
}

impl QueueKey {
    pub fn new(org_id: &str, queue: &str) -> Self {
        Self {
            org_id: org_id.to_owned(),
            queue: queue.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_dotted_names_and_rejects_spaces() {
        assert!(validate_queue_name("billing.invoices-v2").is_ok());
        assert!(validate_queue_name("").is_err());
        assert!(validate_queue_name("has space").is_err());
        assert!(validate_queue_name(&"q".repeat(MAX_QUEUE_NAME + 1)).is_err());
    }
}
