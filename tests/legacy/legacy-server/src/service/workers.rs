//! Worker registration and heartbeats. Registration is informational: it
//! never decides routing (dispatch goes by org and queue).

use uuid::Uuid;

use super::{Result, Services};
use crate::storage::Worker;

#[derive(Debug, Clone)]
pub struct Registration {
    pub org_id: Uuid,
    pub name: String,
    pub version: String,
    pub worker_type: String,
    pub workflow_kinds: Vec<String>,
    pub task_kinds: Vec<String>,
}

impl Services {
    /// Registers a worker and returns its server id.
    pub async fn register_worker(&self, reg: Registration) -> Result<Uuid> {
        let now = self.clock.now_ms();
        let worker = Worker {
            id: Uuid::new_v4(),
            org_id: reg.org_id,
            name: reg.name,
            version: reg.version,
            worker_type: reg.worker_type,
            workflow_kinds: reg.workflow_kinds,
            task_kinds: reg.task_kinds,
            registered_at: now,
            last_heartbeat: now,
        };
        let mut tx = self.storage.begin().await?;
        tx.upsert_worker(&worker).await?;
        tx.commit().await?;
        Ok(worker.id)
    }

    /// Records a heartbeat. Unknown workers are accepted (fact sheet 7.2).
    pub async fn heartbeat(&self, worker_id: Uuid) -> Result<()> {
        let mut tx = self.storage.begin().await?;
        tx.heartbeat(worker_id, self.clock.now_ms()).await?;
        tx.commit().await?;
        Ok(())
    }
}
