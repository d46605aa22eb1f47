//! State shared by every REST handler.

use std::sync::Arc;
use std::time::Instant;

use dispatch_core::alerts::BacklogAlerts;
use dispatch_core::metrics::QueueGauge;
use dispatch_core::SharedNotifier;
use dispatch_core::{DispatchService, Dispatcher, InMemoryStore, ReloadBroadcaster};
use tokio::sync::Notify;

#[derive(Clone)]
pub struct AppState {
    pub service: Arc<DispatchService>,
    /// Direct store access for the handlers that bypass the service layer.
    pub store: Arc<InMemoryStore>,
    /// Operator actions (retry, move, resume). They wake the affected
    /// queues themselves.
    pub dispatcher: Arc<Dispatcher>,
    pub notifier: SharedNotifier,
    pub reloads: Arc<ReloadBroadcaster>,
    pub alerts: Arc<BacklogAlerts>,
    pub gauge: Arc<QueueGauge>,
    /// Notified once when the process should stop.
    pub shutdown: Arc<Notify>,
    pub started_at: Instant,
}
