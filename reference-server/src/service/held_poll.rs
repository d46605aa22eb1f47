//! Long polls: a poll with nothing ready waits for work of its queue
//! instead of answering empty at once. It takes a [`Ticket`] before it
//! looks, so that work committed between its look and its wait still
//! wakes it; a woken poll that loses the claim to another goes back to
//! waiting; it answers empty when its budget ends or the server stops.
//!
//! Wakes come from the storage backend after a commit made rows of the
//! queue pollable (see `storage::waiters`): no code path here or anywhere
//! else has to announce work.
//!
//! [`Ticket`]: crate::storage::Ticket

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use super::{Result, Services};
use crate::storage::QueueKey;

impl Services {
    /// Runs `claim` until it finds something or `budget` (capped by
    /// `max_poll_wait`) has passed. A zero budget claims once.
    pub(super) async fn hold<T, F, Fut>(&self, queue: QueueKey, budget: Duration, mut claim: F) -> Result<Option<T>>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Option<T>>>,
    {
        let budget = budget.min(self.settings.max_poll_wait);
        let deadline = Instant::now() + budget;
        let recheck = self.storage.recheck_interval();
        loop {
            let held = !budget.is_zero() && !self.shutdown.is_cancelled();
            let ticket = held.then(|| self.storage.waiters().register(queue.clone()));
            if let Some(found) = claim().await? {
                return Ok(Some(found));
            }
            let Some(ticket) = ticket else { return Ok(None) };
            tokio::select! {
                _ = ticket.woken() => {}
                _ = sleep_or_never(recheck) => {}
                _ = tokio::time::sleep_until(deadline) => return Ok(None),
                _ = self.shutdown.cancelled() => return Ok(None),
            }
        }
    }
}

async fn sleep_or_never(interval: Option<Duration>) {
    match interval {
        Some(interval) => tokio::time::sleep(interval).await,
        None => std::future::pending().await,
    }
}
