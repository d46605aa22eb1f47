//! Standalone tasks (SubmitTask, `POST /api/tasks/{kind}`): pollable at
//! once on their queue; an idempotency key already used returns the
//! existing task.

use serde_json::Value;
use uuid::Uuid;

use super::{Error, Result, Services};
use crate::storage::Task;

#[derive(Debug, Clone)]
pub struct SubmitTask {
    pub org_id: Uuid,
    pub kind: String,
    pub queue: String,
    pub input: Value,
    pub max_retries: Option<i32>,
    pub timeout_ms: Option<i64>,
    pub idempotency_key: Option<String>,
}

/// The submitted (or found) task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    pub id: Uuid,
    pub created: bool,
}

impl Services {
    pub async fn submit_task(&self, req: SubmitTask) -> Result<Submitted> {
        if req.kind.trim().is_empty() {
            return Err(Error::InvalidArgument("kind must not be empty".into()));
        }
        if req.max_retries.is_some_and(|r| r < 0) {
            return Err(Error::InvalidArgument("max_retries must not be negative".into()));
        }
        let mut tx = self.storage.begin().await?;
        if let Some(key) = &req.idempotency_key {
            if let Some(existing) = tx.task_by_key(req.org_id, key).await? {
                return Ok(Submitted {
                    id: existing.id,
                    created: false,
                });
            }
        }
        let now = self.clock.now_ms();
        let queue = if req.queue.is_empty() {
            "default".into()
        } else {
            req.queue
        };
        let max_retries = req.max_retries.unwrap_or(self.settings.default_max_retries);
        let mut task = Task::pending(Uuid::new_v4(), req.org_id, req.kind, queue, req.input, max_retries, now);
        task.timeout_ms = req.timeout_ms.filter(|t| *t > 0);
        task.idempotency_key = req.idempotency_key;
        tx.insert_task(&task).await?;
        tx.commit().await?;
        // Tell the workers of the task's queue.
        self.notifier.notify_work_available(task.org_id, &task.queue);
        Ok(Submitted {
            id: task.id,
            created: true,
        })
    }
}
