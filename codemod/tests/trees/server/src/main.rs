//! Server entry point.

use std::sync::Arc;

use crate::api::grpc::{GrpcState, WorkerNotifier};
use crate::api::rest::AppState;
use crate::scheduler::Scheduler;
use crate::service::workflow_launcher::WorkflowLauncher;
use crate::storage::Storage;

mod api;
mod scheduler;
mod service;
mod storage;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let storage = Arc::new(Storage::open("data/flovyn.db").await?);

    // One broadcast channel shared by every component that creates work.
    let notifier = Arc::new(WorkerNotifier::new(1000));

    let launcher = Arc::new(WorkflowLauncher::new(storage.clone(), notifier.clone()));
    let grpc_state = GrpcState {
        storage: storage.clone(),
        launcher: launcher.clone(),
        notifier: notifier.clone(),
    };
    let app_state = AppState::new(storage.clone(), launcher, notifier.clone());

    let scheduler = Scheduler::new(storage.clone(), notifier);
    tokio::spawn(scheduler.run());

    api::serve(grpc_state, app_state).await
}
