//! Wakes this replica's held polls for work that any replica committed.
//! A transaction that made rows pollable sends `pg_notify` on the
//! database's pollable channel in the same transaction, so PostgreSQL
//! delivers it only if the transaction commits, and only once it has. One
//! listening connection per server hears every replica's notifications.
//!
//! A notification sent while the listener was reconnecting is lost: after
//! every (re)connection the listener wakes all held polls, which look
//! again, and held polls look again on their own every
//! [`super::RECHECK`] besides.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgListener, PgPool};
use uuid::Uuid;

use crate::storage::{QueueKey, Waiters, Work};

/// The channel of one schema: servers sharing a database in different
/// schemas do not hear each other.
pub(super) fn channel(schema: &str) -> String {
    format!("flovyn_pollable_{schema}")
}

/// `<kind> <rows> <org> <queue>`; the queue comes last and may hold spaces.
pub(super) fn payload((work, org_id, queue): &QueueKey, rows: usize) -> String {
    let kind = match work {
        Work::Workflow => 'w',
        Work::Task => 't',
    };
    format!("{kind} {rows} {org_id} {queue}")
}

fn parse(payload: &str) -> Option<(QueueKey, usize)> {
    let mut parts = payload.splitn(4, ' ');
    let work = match parts.next()? {
        "w" => Work::Workflow,
        "t" => Work::Task,
        _ => return None,
    };
    let rows = parts.next()?.parse().ok()?;
    let org_id = Uuid::parse_str(parts.next()?).ok()?;
    let queue = parts.next()?.to_string();
    Some(((work, org_id, queue), rows))
}

/// Listens on `channel` until the returned task is aborted. Returns once
/// listening: a started server hears every commit from then on.
pub(super) async fn start(
    pool: PgPool,
    channel: String,
    waiters: Arc<Waiters>,
) -> Result<tokio::task::JoinHandle<()>, sqlx::Error> {
    let first = connect(&pool, &channel).await?;
    Ok(tokio::spawn(async move {
        let mut listener = Some(first);
        loop {
            let connected = match listener.take() {
                Some(l) => Ok(l),
                None => connect(&pool, &channel).await.inspect(|_| {
                    // Whatever was committed while not listening was not heard.
                    waiters.wake_all();
                }),
            };
            if let Err(err) = match connected {
                Ok(l) => hear(l, &waiters).await,
                Err(err) => Err(err),
            } {
                tracing::warn!(error = %err, "work notifications: listener failed; reconnecting in 1 s");
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }))
}

async fn connect(pool: &PgPool, channel: &str) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(channel).await?;
    Ok(listener)
}

async fn hear(mut listener: PgListener, waiters: &Waiters) -> Result<(), sqlx::Error> {
    loop {
        match listener.try_recv().await? {
            Some(notification) => match parse(notification.payload()) {
                Some((queue, rows)) => {
                    waiters.publish(&queue, rows);
                }
                None => tracing::warn!(
                    payload = notification.payload(),
                    "work notifications: unreadable payload"
                ),
            },
            // The connection was lost and has been made again.
            None => waiters.wake_all(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip_with_spaces_in_the_queue() {
        let queue = (Work::Task, Uuid::from_u128(9), "eu west: batch".to_string());
        assert_eq!(parse(&payload(&queue, 3)), Some((queue, 3)));
        assert_eq!(parse("x 1 nil q"), None);
        assert_eq!(parse("w many 00000000-0000-0000-0000-000000000000 q"), None);
    }
}
