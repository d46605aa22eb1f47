//! How long a poll may be held: the `timeout_seconds` the worker sent (the
//! real SDK and ours send 60), and never past the call's own gRPC deadline
//! (`grpc-timeout`), so that a client with a deadline gets an empty answer
//! instead of DEADLINE_EXCEEDED. The server's `max_poll_wait_seconds`
//! caps it further (`service::held_poll`).

use std::time::Duration;

use tonic::Request;

/// Answered this much before the client's deadline, for the answer's trip.
const DEADLINE_MARGIN: Duration = Duration::from_millis(100);

/// The wait budget of a poll request; zero or negative `timeout_seconds`
/// answers at once.
pub(crate) fn poll_budget<T>(request: &Request<T>, timeout_seconds: i64) -> Duration {
    let asked = Duration::from_secs(timeout_seconds.max(0) as u64);
    match request
        .metadata()
        .get("grpc-timeout")
        .and_then(|v| v.to_str().ok())
        .and_then(grpc_timeout)
    {
        Some(deadline) => asked.min(deadline.saturating_sub(DEADLINE_MARGIN)),
        None => asked,
    }
}

/// A `grpc-timeout` value: up to 8 digits and a unit (H, M, S, m, u, n).
fn grpc_timeout(value: &str) -> Option<Duration> {
    if value.len() < 2 || value.len() > 9 {
        return None;
    }
    let (digits, unit) = value.split_at(value.len() - 1);
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n.checked_mul(3600)?),
        "M" => Duration::from_secs(n.checked_mul(60)?),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(timeout: Option<&str>) -> Request<()> {
        let mut request = Request::new(());
        if let Some(t) = timeout {
            request.metadata_mut().insert("grpc-timeout", t.parse().unwrap());
        }
        request
    }

    #[test]
    fn the_budget_is_the_asked_timeout_within_the_deadline() {
        assert_eq!(poll_budget(&request(None), 60), Duration::from_secs(60));
        assert_eq!(poll_budget(&request(None), -5), Duration::ZERO);
        assert_eq!(poll_budget(&request(Some("2S")), 60), Duration::from_millis(1900));
        assert_eq!(poll_budget(&request(Some("5M")), 60), Duration::from_secs(60));
        assert_eq!(poll_budget(&request(Some("50m")), 60), Duration::ZERO);
        assert_eq!(poll_budget(&request(Some("garbage")), 60), Duration::from_secs(60));
    }
}
