//! In-process broadcast channels.
//!
//! - [`ReloadBroadcaster`] tells long-lived tasks to re-read the configuration.
//!
//! Sending with nobody subscribed is not an error.

use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::broadcast;

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
    use super::*;

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
