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
//! A claim runs in a task of its own. If the poll is cancelled while it
//! runs (the client went away), the claim still ends, and what it took is
//! released at once instead of waiting out its lease. A response that the
//! transport drops before sending it whole releases its claim the same way
//! (`api::grpc::delivery`).
//!
//! [`Ticket`]: crate::storage::Ticket

use std::sync::atomic::Ordering;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::oneshot;
use tokio::time::Instant;
use uuid::Uuid;

use super::{Result, Services};
use crate::storage::{self, QueueKey, Tx, Work};

/// What a poll hands out: claimed in one transaction, released in another.
#[async_trait]
pub(crate) trait Claim: Sized + Send + 'static {
    const WORK: Work;

    /// Claims the next pollable item of (org, queue), if any.
    async fn claim(services: &Services, org_id: Uuid, queue: &str) -> Result<Option<Self>>;

    /// The claimed item's id and the lease it was handed out under.
    fn held(&self) -> Option<(Uuid, i64)>;

    /// Makes item `id`, held under `lease_until`, pollable again (it was
    /// never delivered); `false` when it no longer was held so.
    async fn release(tx: &mut dyn Tx, id: Uuid, lease_until: i64) -> storage::Result<bool>;
}

impl Services {
    /// Claims until something is found or `budget` (capped by
    /// `max_poll_wait`) has passed. A zero budget claims once. An empty
    /// queue name is the `default` queue.
    pub(super) async fn hold<T: Claim>(&self, org_id: Uuid, queue: &str, budget: Duration) -> Result<Option<T>> {
        let queue = if queue.is_empty() { "default" } else { queue };
        let budget = budget.min(self.settings.max_poll_wait);
        let deadline = Instant::now() + budget;
        let recheck = self.storage.recheck_interval();
        let key: QueueKey = (T::WORK, org_id, queue.to_string());
        loop {
            let held = !budget.is_zero() && !self.shutdown.is_cancelled();
            let ticket = held.then(|| self.storage.waiters().register(key.clone()));
            // An empty poll only reads: it never waits for the writer nor
            // writes to disk.
            if self.storage.has_ready(T::WORK, org_id, queue).await? {
                if let Some(found) = self.claim_detached::<T>(org_id, queue).await? {
                    return Ok(Some(found));
                }
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

    async fn claim_detached<T: Claim>(&self, org_id: Uuid, queue: &str) -> Result<Option<T>> {
        let (sender, receiver) = oneshot::channel();
        let services = self.clone();
        let queue = queue.to_string();
        tokio::spawn(async move {
            let claimed = T::claim(&services, org_id, &queue).await;
            // The poll is gone: nobody will run what was claimed.
            if let Err(Ok(Some(item))) = sender.send(claimed) {
                services.give_back(item).await;
            }
        });
        receiver.await.unwrap_or(Ok(None))
    }

    /// Gives back, in a task of its own, a claim whose response never
    /// reached the worker (see `api::grpc::delivery`).
    pub(crate) fn release_undelivered<T: Claim>(&self, item: T) {
        let services = self.clone();
        tokio::spawn(async move { services.give_back(item).await });
    }

    /// Makes an undelivered claim pollable again, at once.
    async fn give_back<T: Claim>(&self, item: T) {
        let Some((id, lease_until)) = item.held() else { return };
        match self.release_held::<T>(id, lease_until).await {
            Ok(true) => {
                self.released_claims.fetch_add(1, Ordering::Relaxed);
                tracing::info!(work = ?T::WORK, %id, "poll cancelled after its claim: released the claim");
            }
            Ok(false) => {}
            Err(err) => tracing::warn!(error = %err, "could not release an undelivered claim; its lease will"),
        }
    }

    async fn release_held<T: Claim>(&self, id: Uuid, lease_until: i64) -> Result<bool> {
        let mut tx = self.storage.begin().await?;
        let released = T::release(&mut *tx, id, lease_until).await?;
        if released {
            tx.commit().await?;
        }
        Ok(released)
    }
}

async fn sleep_or_never(interval: Option<Duration>) {
    match interval {
        Some(interval) => tokio::time::sleep(interval).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::api::grpc::WorkerNotifier;
    use crate::service::dispatch::WorkflowTask;
    use crate::service::task_launcher::SubmitTask;
    use crate::service::workflow_launcher::StartWorkflow;
    use crate::service::Settings;
    use crate::storage::sqlite::SqliteStorage;
    use crate::storage::{Org, Task, WorkflowStatus};

    async fn services() -> (Services, Uuid, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let storage = SqliteStorage::open(&dir.path().join("flovyn.db")).await.unwrap();
        let services = Services::new(Arc::new(storage), Settings::default(), Arc::new(WorkerNotifier::new()));
        let org = Org {
            id: Uuid::new_v4(),
            name: "o".into(),
            slug: "o".into(),
        };
        services.register_orgs(std::slice::from_ref(&org)).await.unwrap();
        (services, org.id, dir)
    }

    /// Polls `future` once and drops it, as a poll cancelled right after it
    /// started; `true` if it was still pending. On the test's one-thread
    /// runtime, nothing it spawned has run yet.
    async fn poll_once_then_drop<F: std::future::Future>(future: F) -> bool {
        let mut future = std::pin::pin!(future);
        std::future::poll_fn(|cx| std::task::Poll::Ready(future.as_mut().poll(cx).is_pending())).await
    }

    /// Waits for the cancelled poll's claim to be given back.
    async fn until_released(services: &Services) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while services.released_claims.load(Ordering::Relaxed) == 0 {
            assert!(
                Instant::now() < deadline,
                "the cancelled poll's claim was never released"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    #[tokio::test]
    async fn a_claim_whose_poll_was_cancelled_is_released_at_once() {
        let (services, org_id, _dir) = services().await;
        let start = StartWorkflow {
            org_id,
            kind: "w".into(),
            queue: "q".into(),
            input: serde_json::json!({}),
            priority_seconds: 0,
            idempotency_key: None,
        };
        let id = services.start_workflow(start).await.unwrap().id;

        // The poll is dropped right after its claim started.
        let pending = poll_once_then_drop(services.claim_detached::<WorkflowTask>(org_id, "q")).await;
        assert!(pending, "the claim had not finished when the poll went away");

        // The claim commits, finds nobody to hand the workflow to, and
        // releases it: pollable again long before its 60 s lease ends.
        until_released(&services).await;
        let again = services.poll_workflow(org_id, "q", Duration::ZERO).await.unwrap();
        let again = again.expect("pollable again");
        assert_eq!(again.workflow.id, id);
        assert_eq!(again.workflow.status, WorkflowStatus::Running);
    }

    #[tokio::test]
    async fn a_released_task_keeps_its_attempt_count() {
        let (services, org_id, _dir) = services().await;
        let submit = SubmitTask {
            org_id,
            kind: "t".into(),
            queue: "q".into(),
            input: serde_json::json!({}),
            max_retries: None,
            timeout_ms: None,
            idempotency_key: None,
        };
        let id = services.submit_task(submit).await.unwrap().id;
        assert!(poll_once_then_drop(services.claim_detached::<Task>(org_id, "q")).await);
        until_released(&services).await;
        let again = services.poll_task(org_id, "q", Duration::ZERO).await.unwrap();
        let again = again.expect("pollable again");
        assert_eq!(
            (again.id, again.execution_count),
            (id, 1),
            "the undelivered claim was no attempt"
        );
    }
}
