//! Every statement behind [`Tx`], written once for both backends (see
//! `sql` for the dialect both accept). What differs between SQLite and
//! PostgreSQL is asked of the [`Backend`]: where rows are locked, and how a
//! statement runs in its transaction.
//!
//! Every write that leaves a workflow or task `PENDING` (pollable) tells
//! the backend which queue it was ([`Backend::mark_pollable`]); the backend
//! wakes that many held polls once the commit is durable. This is the only
//! place that knows, so that no caller has to remember.

use async_trait::async_trait;
use serde_json::Value;
use uuid::Uuid;

use super::rows::{
    self, opt_text, text, ClaimedRow, EventRow, PromiseRow, ScheduleRow, TaskRow, WorkflowRow, PROMISE_COLUMNS,
    SCHEDULE_COLUMNS, TASK_COLUMNS, WORKFLOW_COLUMNS,
};
use super::sql::{Backend, Stmt};
use super::{
    Event, Org, Promise, PromiseStatus, Result, Schedule, Task, TaskStatus, Tx, Work, Worker, Workflow, WorkflowStatus,
};

/// The probe behind `Storage::has_ready`: one row if (org `$1`, queue
/// `$2`) has pollable work of that kind.
pub(super) fn ready_probe(work: Work) -> &'static str {
    match work {
        Work::Workflow => {
            "SELECT CAST(1 AS BIGINT) FROM workflow_executions \
             WHERE org_id = $1 AND queue = $2 AND status = 'PENDING' LIMIT 1"
        }
        Work::Task => {
            "SELECT CAST(1 AS BIGINT) FROM tasks WHERE org_id = $1 AND queue = $2 AND status = 'PENDING' LIMIT 1"
        }
    }
}

#[async_trait]
impl<B: Backend> Tx for B {
    async fn commit(self: Box<Self>) -> Result<()> {
        Backend::commit(self).await
    }

    async fn commit_claim(self: Box<Self>) -> Result<()> {
        Backend::commit_claim(self).await
    }

    async fn upsert_org(&mut self, org: &Org) -> Result<()> {
        let stmt = Stmt::new(
            "INSERT INTO orgs (id, name, slug) VALUES ($1, $2, $3) \
             ON CONFLICT(id) DO UPDATE SET name = excluded.name, slug = excluded.slug",
        );
        self.execute(stmt.bind(org.id).bind(&org.name).bind(&org.slug)).await
    }

    async fn insert_workflow(&mut self, w: &Workflow) -> Result<()> {
        let stmt = Stmt::new(format!(
            "INSERT INTO workflow_executions ({WORKFLOW_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"
        ))
        .bind(w.id)
        .bind(w.org_id)
        .bind(&w.kind)
        .bind(&w.queue)
        .bind(text(&w.input))
        .bind(w.status.as_str())
        .bind(opt_text(&w.output))
        .bind(&w.error)
        .bind(w.priority_ms)
        .bind(&w.idempotency_key)
        .bind(w.parent_id)
        .bind(&w.child_name)
        .bind(w.lease_until)
        .bind(w.wakeup_pending)
        .bind(w.task_time_ms)
        .bind(w.ready_at)
        .bind(w.created_at)
        .bind(w.completed_at);
        self.execute(stmt).await?;
        if w.status == WorkflowStatus::Pending {
            self.mark_pollable(Work::Workflow, w.org_id, &w.queue);
        }
        Ok(())
    }

    async fn workflow(&mut self, id: Uuid) -> Result<Option<Workflow>> {
        let stmt = Stmt::new(format!(
            "SELECT {WORKFLOW_COLUMNS} FROM workflow_executions WHERE id = $1{}",
            self.row_lock()
        ));
        let row: Option<WorkflowRow> = self.fetch_optional(stmt.bind(id)).await?;
        row.map(Workflow::try_from).transpose()
    }

    async fn workflow_by_key(&mut self, org_id: Uuid, key: &str) -> Result<Option<Workflow>> {
        let stmt = Stmt::new(format!(
            "SELECT {WORKFLOW_COLUMNS} FROM workflow_executions WHERE org_id = $1 AND idempotency_key = $2"
        ));
        let row: Option<WorkflowRow> = self.fetch_optional(stmt.bind(org_id).bind(key)).await?;
        row.map(Workflow::try_from).transpose()
    }

    async fn update_workflow(&mut self, w: &Workflow) -> Result<()> {
        let stmt = Stmt::new(
            "UPDATE workflow_executions SET status = $1, output = $2, error = $3, lease_until = $4, \
             wakeup_pending = $5, task_time_ms = $6, ready_at = $7, completed_at = $8 WHERE id = $9",
        )
        .bind(w.status.as_str())
        .bind(opt_text(&w.output))
        .bind(&w.error)
        .bind(w.lease_until)
        .bind(w.wakeup_pending)
        .bind(w.task_time_ms)
        .bind(w.ready_at)
        .bind(w.completed_at)
        .bind(w.id);
        self.execute(stmt).await?;
        if w.status == WorkflowStatus::Pending {
            self.mark_pollable(Work::Workflow, w.org_id, &w.queue);
        }
        Ok(())
    }

    async fn claim_workflow(&mut self, org_id: Uuid, queue: &str, lease_until: i64) -> Result<Option<(Workflow, i32)>> {
        // One statement: the claim and the history length together.
        let stmt = Stmt::new(format!(
            "UPDATE workflow_executions SET status = 'RUNNING', lease_until = $1, wakeup_pending = 0 \
             WHERE id = (SELECT id FROM workflow_executions WHERE org_id = $2 AND queue = $3 AND status = 'PENDING' \
                         ORDER BY priority_ms, ready_at LIMIT 1{}) \
             RETURNING {WORKFLOW_COLUMNS}, \
                 (SELECT COUNT(*) FROM workflow_events WHERE execution_id = workflow_executions.id) AS history_len",
            self.skip_locked()
        ));
        let row: Option<ClaimedRow> = self
            .fetch_optional(stmt.bind(lease_until).bind(org_id).bind(queue))
            .await?;
        row.map(|r| Ok((Workflow::try_from(r.workflow)?, r.history_len as i32)))
            .transpose()
    }

    async fn append_event(&mut self, execution_id: Uuid, event_type: &str, data: &Value, now: i64) -> Result<i32> {
        let stmt = Stmt::new(
            "INSERT INTO workflow_events (execution_id, sequence_number, event_type, data, created_at) \
             VALUES ($1, (SELECT COALESCE(MAX(sequence_number), 0) + 1 FROM workflow_events WHERE execution_id = $1), \
                     $2, $3, $4) \
             RETURNING sequence_number",
        );
        let (seq,): (i64,) = self
            .fetch_one(stmt.bind(execution_id).bind(event_type).bind(text(data)).bind(now))
            .await?;
        Ok(seq as i32)
    }

    async fn events(&mut self, execution_id: Uuid) -> Result<Vec<Event>> {
        let stmt = Stmt::new(
            "SELECT sequence_number, event_type, data, created_at FROM workflow_events \
             WHERE execution_id = $1 ORDER BY sequence_number",
        );
        let rows: Vec<EventRow> = self.fetch_all(stmt.bind(execution_id)).await?;
        rows.into_iter()
            .map(|r| {
                Ok(Event {
                    sequence_number: r.sequence_number as i32,
                    event_type: r.event_type,
                    data: rows::json(&r.data)?,
                    created_at: r.created_at,
                })
            })
            .collect()
    }

    async fn insert_task(&mut self, t: &Task) -> Result<bool> {
        let stmt = Stmt::new(format!(
            "INSERT INTO tasks ({TASK_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
             ON CONFLICT(id) DO NOTHING RETURNING CAST(1 AS BIGINT)"
        ))
        .bind(t.id)
        .bind(t.org_id)
        .bind(t.workflow_execution_id)
        .bind(&t.kind)
        .bind(&t.queue)
        .bind(text(&t.input))
        .bind(t.status.as_str())
        .bind(opt_text(&t.output))
        .bind(&t.error)
        .bind(t.execution_count)
        .bind(t.max_retries)
        .bind(t.timeout_ms)
        .bind(&t.idempotency_key)
        .bind(t.lease_until)
        .bind(t.ready_at)
        .bind(t.created_at)
        .bind(t.completed_at);
        let inserted: Option<(i64,)> = self.fetch_optional(stmt).await?;
        if inserted.is_some() && t.status == TaskStatus::Pending {
            self.mark_pollable(Work::Task, t.org_id, &t.queue);
        }
        Ok(inserted.is_some())
    }

    async fn task(&mut self, id: Uuid) -> Result<Option<Task>> {
        let stmt = Stmt::new(format!(
            "SELECT {TASK_COLUMNS} FROM tasks WHERE id = $1{}",
            self.row_lock()
        ));
        let row: Option<TaskRow> = self.fetch_optional(stmt.bind(id)).await?;
        row.map(Task::try_from).transpose()
    }

    async fn task_by_key(&mut self, org_id: Uuid, key: &str) -> Result<Option<Task>> {
        let stmt = Stmt::new(format!(
            "SELECT {TASK_COLUMNS} FROM tasks WHERE org_id = $1 AND idempotency_key = $2"
        ));
        let row: Option<TaskRow> = self.fetch_optional(stmt.bind(org_id).bind(key)).await?;
        row.map(Task::try_from).transpose()
    }

    async fn update_task(&mut self, t: &Task) -> Result<()> {
        let stmt = Stmt::new(
            "UPDATE tasks SET status = $1, output = $2, error = $3, execution_count = $4, lease_until = $5, \
             ready_at = $6, completed_at = $7 WHERE id = $8",
        )
        .bind(t.status.as_str())
        .bind(opt_text(&t.output))
        .bind(&t.error)
        .bind(t.execution_count)
        .bind(t.lease_until)
        .bind(t.ready_at)
        .bind(t.completed_at)
        .bind(t.id);
        self.execute(stmt).await?;
        if t.status == TaskStatus::Pending {
            self.mark_pollable(Work::Task, t.org_id, &t.queue);
        }
        Ok(())
    }

    async fn claim_task(&mut self, org_id: Uuid, queue: &str, now: i64, lease_until: i64) -> Result<Option<Task>> {
        let stmt = Stmt::new(format!(
            "UPDATE tasks SET status = 'RUNNING', execution_count = execution_count + 1, \
                 lease_until = CASE WHEN timeout_ms IS NOT NULL AND $1 + timeout_ms < $2 THEN $1 + timeout_ms ELSE $2 END \
             WHERE id = (SELECT id FROM tasks WHERE org_id = $3 AND queue = $4 AND status = 'PENDING' \
                         ORDER BY ready_at LIMIT 1{}) \
             RETURNING {TASK_COLUMNS}",
            self.skip_locked()
        ));
        let row: Option<TaskRow> = self
            .fetch_optional(stmt.bind(now).bind(lease_until).bind(org_id).bind(queue))
            .await?;
        row.map(Task::try_from).transpose()
    }

    async fn release_workflow(&mut self, id: Uuid, lease_until: i64) -> Result<bool> {
        let stmt = Stmt::new(
            "UPDATE workflow_executions SET status = 'PENDING', lease_until = NULL \
             WHERE id = $1 AND status = 'RUNNING' AND lease_until = $2 RETURNING org_id, queue",
        );
        let released: Option<(String, String)> = self.fetch_optional(stmt.bind(id).bind(lease_until)).await?;
        if let Some((org_id, queue)) = &released {
            self.mark_pollable(Work::Workflow, rows::uuid(org_id)?, queue);
        }
        Ok(released.is_some())
    }

    async fn release_task(&mut self, id: Uuid, lease_until: i64) -> Result<bool> {
        let stmt = Stmt::new(
            "UPDATE tasks SET status = 'PENDING', lease_until = NULL, execution_count = execution_count - 1 \
             WHERE id = $1 AND status = 'RUNNING' AND lease_until = $2 RETURNING org_id, queue",
        );
        let released: Option<(String, String)> = self.fetch_optional(stmt.bind(id).bind(lease_until)).await?;
        if let Some((org_id, queue)) = &released {
            self.mark_pollable(Work::Task, rows::uuid(org_id)?, queue);
        }
        Ok(released.is_some())
    }

    async fn expired_tasks(&mut self, now: i64, limit: i64) -> Result<Vec<Task>> {
        let stmt = Stmt::new(format!(
            "SELECT {TASK_COLUMNS} FROM tasks WHERE status = 'RUNNING' AND lease_until <= $1 \
             ORDER BY lease_until LIMIT $2{}",
            self.skip_locked()
        ));
        let rows: Vec<TaskRow> = self.fetch_all(stmt.bind(now).bind(limit)).await?;
        rows.into_iter().map(Task::try_from).collect()
    }

    async fn task_state(&mut self, task_id: Uuid, key: &str) -> Result<Option<Value>> {
        let stmt = Stmt::new("SELECT value FROM task_state WHERE task_id = $1 AND key = $2");
        let value: Option<(String,)> = self.fetch_optional(stmt.bind(task_id).bind(key)).await?;
        value.map(|(v,)| rows::json(&v)).transpose()
    }

    async fn set_task_state(&mut self, task_id: Uuid, key: &str, value: &Value) -> Result<()> {
        let stmt = Stmt::new(
            "INSERT INTO task_state (task_id, key, value) VALUES ($1, $2, $3) \
             ON CONFLICT(task_id, key) DO UPDATE SET value = excluded.value",
        );
        self.execute(stmt.bind(task_id).bind(key).bind(text(value))).await
    }

    async fn clear_task_state(&mut self, task_id: Uuid, key: Option<&str>) -> Result<()> {
        let stmt = match key {
            Some(key) => Stmt::new("DELETE FROM task_state WHERE task_id = $1 AND key = $2")
                .bind(task_id)
                .bind(key),
            None => Stmt::new("DELETE FROM task_state WHERE task_id = $1").bind(task_id),
        };
        self.execute(stmt).await
    }

    async fn task_state_keys(&mut self, task_id: Uuid) -> Result<Vec<String>> {
        let stmt = Stmt::new("SELECT key FROM task_state WHERE task_id = $1 ORDER BY key");
        let keys: Vec<(String,)> = self.fetch_all(stmt.bind(task_id)).await?;
        Ok(keys.into_iter().map(|(k,)| k).collect())
    }

    async fn insert_timer(&mut self, execution_id: Uuid, timer_id: &str, fire_at: i64) -> Result<()> {
        let stmt = Stmt::new(
            "INSERT INTO timers (execution_id, timer_id, fire_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        );
        self.execute(stmt.bind(execution_id).bind(timer_id).bind(fire_at)).await
    }

    async fn delete_timer(&mut self, execution_id: Uuid, timer_id: &str) -> Result<bool> {
        let stmt =
            Stmt::new("DELETE FROM timers WHERE execution_id = $1 AND timer_id = $2 RETURNING CAST(1 AS BIGINT)");
        let deleted: Option<(i64,)> = self.fetch_optional(stmt.bind(execution_id).bind(timer_id)).await?;
        Ok(deleted.is_some())
    }

    async fn delete_timers_of(&mut self, execution_id: Uuid) -> Result<()> {
        let stmt = Stmt::new("DELETE FROM timers WHERE execution_id = $1");
        self.execute(stmt.bind(execution_id)).await
    }

    async fn due_timers(&mut self, now: i64, limit: i64) -> Result<Vec<(Uuid, String)>> {
        let stmt = Stmt::new(format!(
            "SELECT execution_id, timer_id FROM timers WHERE fire_at <= $1 ORDER BY fire_at LIMIT $2{}",
            self.skip_locked()
        ));
        let rows: Vec<(String, String)> = self.fetch_all(stmt.bind(now).bind(limit)).await?;
        rows.into_iter().map(|(e, t)| Ok((rows::uuid(&e)?, t))).collect()
    }

    async fn insert_promise(&mut self, p: &Promise) -> Result<()> {
        let stmt = Stmt::new(format!(
            "INSERT INTO promises ({PROMISE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ))
        .bind(p.id)
        .bind(p.org_id)
        .bind(p.execution_id)
        .bind(&p.name)
        .bind(p.status.as_str())
        .bind(p.timeout_at)
        .bind(p.created_at);
        self.execute(stmt).await
    }

    async fn promise(&mut self, id: Uuid) -> Result<Option<Promise>> {
        let stmt = Stmt::new(format!(
            "SELECT {PROMISE_COLUMNS} FROM promises WHERE id = $1{}",
            self.row_lock()
        ));
        let row: Option<PromiseRow> = self.fetch_optional(stmt.bind(id)).await?;
        row.map(Promise::try_from).transpose()
    }

    async fn pending_promise_named(&mut self, execution_id: Uuid, name: &str) -> Result<Option<Promise>> {
        let stmt = Stmt::new(format!(
            "SELECT {PROMISE_COLUMNS} FROM promises WHERE execution_id = $1 AND name = $2 AND status = 'PENDING' \
             ORDER BY created_at LIMIT 1{}",
            self.row_lock()
        ));
        let row: Option<PromiseRow> = self.fetch_optional(stmt.bind(execution_id).bind(name)).await?;
        row.map(Promise::try_from).transpose()
    }

    async fn set_promise_status(&mut self, id: Uuid, status: PromiseStatus) -> Result<()> {
        let stmt = Stmt::new("UPDATE promises SET status = $1 WHERE id = $2");
        self.execute(stmt.bind(status.as_str()).bind(id)).await
    }

    async fn due_promise_timeouts(&mut self, now: i64, limit: i64) -> Result<Vec<Promise>> {
        let stmt = Stmt::new(format!(
            "SELECT {PROMISE_COLUMNS} FROM promises WHERE status = 'PENDING' AND timeout_at <= $1 \
             ORDER BY timeout_at LIMIT $2{}",
            self.skip_locked()
        ));
        let rows: Vec<PromiseRow> = self.fetch_all(stmt.bind(now).bind(limit)).await?;
        rows.into_iter().map(Promise::try_from).collect()
    }

    async fn insert_schedule(&mut self, sc: &Schedule) -> Result<bool> {
        let stmt = Stmt::new(format!(
            "INSERT INTO schedules ({SCHEDULE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT DO NOTHING RETURNING CAST(1 AS BIGINT)"
        ))
        .bind(sc.id)
        .bind(sc.org_id)
        .bind(&sc.name)
        .bind(&sc.cron)
        .bind(&sc.workflow_kind)
        .bind(&sc.queue)
        .bind(text(&sc.input))
        .bind(sc.paused)
        .bind(sc.next_fire_at)
        .bind(sc.created_at);
        let inserted: Option<(i64,)> = self.fetch_optional(stmt).await?;
        Ok(inserted.is_some())
    }

    async fn schedule(&mut self, id: Uuid) -> Result<Option<Schedule>> {
        let stmt = Stmt::new(format!(
            "SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE id = $1{}",
            self.row_lock()
        ));
        let row: Option<ScheduleRow> = self.fetch_optional(stmt.bind(id)).await?;
        row.map(Schedule::try_from).transpose()
    }

    async fn schedules(&mut self, org_id: Uuid) -> Result<Vec<Schedule>> {
        let stmt = Stmt::new(format!(
            "SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE org_id = $1 ORDER BY name"
        ));
        let rows: Vec<ScheduleRow> = self.fetch_all(stmt.bind(org_id)).await?;
        rows.into_iter().map(Schedule::try_from).collect()
    }

    async fn update_schedule(&mut self, sc: &Schedule) -> Result<()> {
        let stmt = Stmt::new("UPDATE schedules SET paused = $1, next_fire_at = $2 WHERE id = $3");
        self.execute(stmt.bind(sc.paused).bind(sc.next_fire_at).bind(sc.id))
            .await
    }

    async fn delete_schedule(&mut self, id: Uuid) -> Result<()> {
        self.execute(Stmt::new("DELETE FROM schedules WHERE id = $1").bind(id))
            .await
    }

    async fn due_schedules(&mut self, now: i64, limit: i64) -> Result<Vec<Schedule>> {
        let stmt = Stmt::new(format!(
            "SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE paused = 0 AND next_fire_at <= $1 \
             ORDER BY next_fire_at LIMIT $2{}",
            self.skip_locked()
        ));
        let rows: Vec<ScheduleRow> = self.fetch_all(stmt.bind(now).bind(limit)).await?;
        rows.into_iter().map(Schedule::try_from).collect()
    }

    async fn set_state(&mut self, execution_id: Uuid, key: &str, value: &Value) -> Result<()> {
        let stmt = Stmt::new(
            "INSERT INTO workflow_state (execution_id, key, value) VALUES ($1, $2, $3) \
             ON CONFLICT(execution_id, key) DO UPDATE SET value = excluded.value",
        );
        self.execute(stmt.bind(execution_id).bind(key).bind(text(value))).await
    }

    async fn clear_state(&mut self, execution_id: Uuid, key: &str) -> Result<()> {
        let stmt = Stmt::new("DELETE FROM workflow_state WHERE execution_id = $1 AND key = $2");
        self.execute(stmt.bind(execution_id).bind(key)).await
    }

    async fn state(&mut self, execution_id: Uuid, key: &str) -> Result<Option<Value>> {
        let stmt = Stmt::new("SELECT value FROM workflow_state WHERE execution_id = $1 AND key = $2");
        let value: Option<(String,)> = self.fetch_optional(stmt.bind(execution_id).bind(key)).await?;
        value.map(|(v,)| rows::json(&v)).transpose()
    }

    async fn reclaim_expired_workflows(&mut self, now: i64) -> Result<u64> {
        let stmt = Stmt::new(
            "UPDATE workflow_executions SET status = 'PENDING', lease_until = NULL, ready_at = $1 \
             WHERE status = 'RUNNING' AND lease_until <= $1 RETURNING org_id, queue",
        );
        let reclaimed: Vec<(String, String)> = self.fetch_all(stmt.bind(now)).await?;
        for (org_id, queue) in &reclaimed {
            self.mark_pollable(Work::Workflow, rows::uuid(org_id)?, queue);
        }
        Ok(reclaimed.len() as u64)
    }

    async fn next_due(&mut self) -> Result<Option<i64>> {
        let stmt = Stmt::new(
            "SELECT MIN(t) FROM ( \
               SELECT MIN(lease_until) AS t FROM workflow_executions WHERE status = 'RUNNING' \
               UNION ALL SELECT MIN(lease_until) FROM tasks WHERE status = 'RUNNING' \
               UNION ALL SELECT MIN(fire_at) FROM timers \
               UNION ALL SELECT MIN(timeout_at) FROM promises WHERE status = 'PENDING' \
               UNION ALL SELECT MIN(next_fire_at) FROM schedules WHERE paused = 0) AS due",
        );
        let (next,): (Option<i64>,) = self.fetch_one(stmt).await?;
        Ok(next)
    }

    async fn upsert_worker(&mut self, w: &Worker) -> Result<()> {
        let stmt = Stmt::new(
            "INSERT INTO workers (id, org_id, name, version, worker_type, workflow_kinds, task_kinds, \
                 registered_at, last_heartbeat) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT(id) DO UPDATE SET last_heartbeat = excluded.last_heartbeat",
        )
        .bind(w.id)
        .bind(w.org_id)
        .bind(&w.name)
        .bind(&w.version)
        .bind(&w.worker_type)
        .bind(serde_json::to_string(&w.workflow_kinds).unwrap_or_default())
        .bind(serde_json::to_string(&w.task_kinds).unwrap_or_default())
        .bind(w.registered_at)
        .bind(w.last_heartbeat);
        self.execute(stmt).await
    }

    async fn heartbeat(&mut self, worker_id: Uuid, now: i64) -> Result<bool> {
        let stmt = Stmt::new("UPDATE workers SET last_heartbeat = $1 WHERE id = $2 RETURNING CAST(1 AS BIGINT)");
        let updated: Option<(i64,)> = self.fetch_optional(stmt.bind(now).bind(worker_id)).await?;
        Ok(updated.is_some())
    }
}
