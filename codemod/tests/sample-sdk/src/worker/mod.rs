//! Workers that poll the server for work and execute it.

pub mod task_worker;
pub mod workflow_worker;
