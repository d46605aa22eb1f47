//! REST state.

use std::sync::Arc;

use crate::api::grpc::WorkerNotifier;
use crate::service::workflow_launcher::WorkflowLauncher;
use crate::storage::Storage;

pub mod workflows;

#[derive(Clone)]
pub struct AppState {
    pub storage: Arc<Storage>,
    pub launcher: Arc<WorkflowLauncher>,
    pub notifier: Arc<WorkerNotifier>,
}

impl AppState {
    pub fn new(storage: Arc<Storage>, launcher: Arc<WorkflowLauncher>, notifier: Arc<WorkerNotifier>) -> Self {
        Self { storage, launcher, notifier }
    }
}
