//! In-process broadcast channels.
//!
//! - [`WorkerNotifier`] wakes idle workers when a job lands on their queue.
//! - [`ReloadBroadcaster`] tells long-lived tasks to re-read the configuration.
//!
//! Sending with nobody subscribed is not an error.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::broadcast;

/// A job became available on `queue` of organisation `org_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkNotification {
    pub org_id: String,
    pub queue: String,
}

/// Fans work-available notifications out to every subscribed worker stream.
///
/// ```
/// use dispatch_core::WorkerNotifier;
///
/// let notifier = WorkerNotifier::new(16);
/// let _worker = notifier.subscribe();
/// assert_eq!(notifier.notify_work_available("acme", "emails"), 1);
/// ```
#[derive(Debug, Clone)]
pub struct WorkerNotifier {
    tx: broadcast::Sender<WorkNotification>,
}

/// How the service, the dispatcher and the front ends share one notifier.
pub type SharedNotifier = Arc<WorkerNotifier>;

impl WorkerNotifier {
    /// `capacity` is how far a slow subscriber may fall behind before it
    /// starts missing notifications.
    pub fn new(capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(capacity);
        Self { tx }
    }

    /// Tells every subscriber that `queue` has work. Returns how many
    /// subscribers got the notification.
    pub fn notify_work_available(&self, org_id: &str, queue: &str) -> usize {
        let notification = WorkNotification {
            org_id: org_id.to_owned(),
            queue: queue.to_owned(),
        };
        // `send` only fails when nobody is subscribed, which is the normal
        // state of a server without connected workers.
        self.tx.send(notification).unwrap_or(0)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<WorkNotification> {
        self.tx.subscribe()
    }
}

/// The configuration was reloaded for the `generation`-th time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigReload {
    pub generation: u64,
}

#[derive(Debug)]
pub struct ReloadBroadcaster {
    tx: broadcast::Sender<ConfigReload>,
    generation: AtomicU64,
}

impl ReloadBroadcaster {
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(4);
        Self {
            tx,
            generation: AtomicU64::new(0),
        }
    }

    /// Announces a reload to every subscriber and returns it.
    pub fn reload(&self) -> ConfigReload {
        let generation = self.generation.fetch_add(1, Ordering::Relaxed) + 1;
        let event = ConfigReload { generation };
        let _ = self.tx.send(event);
        event
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Relaxed)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<ConfigReload> {
        self.tx.subscribe()
    }
}

impl Default for ReloadBroadcaster {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use tokio::sync::broadcast::error::RecvError;

    use super::*;

    const ORG: &str = "acme";

    #[test]
    fn notify_without_subscribers_reaches_nobody() {
        let notifier = WorkerNotifier::new(8);
        assert_eq!(notifier.notify_work_available(ORG, "emails"), 0);
    }

    #[tokio::test]
    async fn notification_names_org_and_queue() {
        let notifier = WorkerNotifier::new(8);
        let mut rx = notifier.subscribe();
        assert_eq!(notifier.notify_work_available(ORG, "emails"), 1);
        let expected = WorkNotification {
            org_id: ORG.to_owned(),
            queue: "emails".to_owned(),
        };
        assert_eq!(rx.recv().await.unwrap(), expected);
    }

    #[tokio::test]
    async fn every_subscriber_gets_each_notification() {
        let notifier = WorkerNotifier::new(8);
        let (mut a, mut b) = (notifier.subscribe(), notifier.subscribe());
        assert_eq!(notifier.notify_work_available(ORG, "emails"), 2);
        assert_eq!(a.recv().await.unwrap().queue, "emails");
        assert_eq!(b.recv().await.unwrap().queue, "emails");
    }

    // A subscriber that falls behind by more than the capacity loses the
    // oldest notifications, not the newest.
    #[tokio::test]
    async fn lagging_subscriber_keeps_newest() {
        let notifier = WorkerNotifier::new(2);
        let mut rx = notifier.subscribe();
        for queue in ["a", "b", "c"] {
            notifier.notify_work_available(ORG, queue);
        }
        let lagged = rx.recv().await;
        assert!(matches!(lagged, Err(RecvError::Lagged(1))));
        assert_eq!(rx.recv().await.unwrap().queue, "b");
    }

    #[tokio::test]
    async fn reload_reaches_every_subscriber() {
        let reloads = ReloadBroadcaster::new();
        let (mut a, mut b) = (reloads.subscribe(), reloads.subscribe());
        assert_eq!(reloads.reload().generation, 1);
        assert_eq!(a.recv().await.unwrap().generation, 1);
        assert_eq!(b.recv().await.unwrap().generation, 1);
        assert_eq!(reloads.generation(), 1);
    }
}
