//! The PostgreSQL queries behind [`Tx`]: the SQLite backend's statements in
//! PostgreSQL's dialect, and what makes them safe with several replicas on
//! one database:
//!
//! - a claim picks its row with `FOR UPDATE SKIP LOCKED` inside the
//!   `UPDATE`: two pollers, on one replica or two, never get the same item;
//! - the scheduler's due rows (timers, promise timeouts, expired tasks,
//!   schedules) are locked the same way, so that two replicas' schedulers
//!   split them and none fires twice;
//! - a single row read in a write transaction is locked (`FOR UPDATE`)
//!   until commit, which serialises concurrent changes of one workflow,
//!   task, promise or schedule.

use async_trait::async_trait;
use serde_json::Value;
use uuid::Uuid;

use super::PgTx;
use crate::storage::rows::{
    self, opt_text, text, ClaimedRow, EventRow, PromiseRow, ScheduleRow, TaskRow, WorkflowRow, PROMISE_COLUMNS,
    SCHEDULE_COLUMNS, TASK_COLUMNS, WORKFLOW_COLUMNS,
};
use crate::storage::{Event, Org, Promise, PromiseStatus, Result, Schedule, Task, Tx, Worker, Workflow};

#[async_trait]
impl Tx for PgTx {
    async fn commit(self: Box<Self>) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }

    async fn upsert_org(&mut self, org: &Org) -> Result<()> {
        sqlx::query("INSERT INTO orgs (id, name, slug) VALUES ($1, $2, $3) ON CONFLICT(id) DO UPDATE SET name = excluded.name, slug = excluded.slug")
            .bind(org.id.to_string())
            .bind(&org.name)
            .bind(&org.slug)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn insert_workflow(&mut self, w: &Workflow) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO workflow_executions ({WORKFLOW_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"
        ))
        .bind(w.id.to_string())
        .bind(w.org_id.to_string())
        .bind(&w.kind)
        .bind(&w.queue)
        .bind(text(&w.input))
        .bind(w.status.as_str())
        .bind(opt_text(&w.output))
        .bind(&w.error)
        .bind(w.priority_ms)
        .bind(&w.idempotency_key)
        .bind(w.parent_id.map(|p| p.to_string()))
        .bind(&w.child_name)
        .bind(w.lease_until)
        .bind(w.wakeup_pending as i64)
        .bind(w.task_time_ms)
        .bind(w.ready_at)
        .bind(w.created_at)
        .bind(w.completed_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn workflow(&mut self, id: Uuid) -> Result<Option<Workflow>> {
        let row: Option<WorkflowRow> = sqlx::query_as(&format!(
            "SELECT {WORKFLOW_COLUMNS} FROM workflow_executions WHERE id = $1{}",
            self.lock()
        ))
        .bind(id.to_string())
        .fetch_optional(&mut *self.tx)
        .await?;
        row.map(Workflow::try_from).transpose()
    }

    async fn workflow_by_key(&mut self, org_id: Uuid, key: &str) -> Result<Option<Workflow>> {
        let row: Option<WorkflowRow> = sqlx::query_as(&format!(
            "SELECT {WORKFLOW_COLUMNS} FROM workflow_executions WHERE org_id = $1 AND idempotency_key = $2"
        ))
        .bind(org_id.to_string())
        .bind(key)
        .fetch_optional(&mut *self.tx)
        .await?;
        row.map(Workflow::try_from).transpose()
    }

    async fn update_workflow(&mut self, w: &Workflow) -> Result<()> {
        sqlx::query("UPDATE workflow_executions SET status = $1, output = $2, error = $3, lease_until = $4, wakeup_pending = $5, \
             task_time_ms = $6, ready_at = $7, completed_at = $8 WHERE id = $9")
        .bind(w.status.as_str())
        .bind(opt_text(&w.output))
        .bind(&w.error)
        .bind(w.lease_until)
        .bind(w.wakeup_pending as i64)
        .bind(w.task_time_ms)
        .bind(w.ready_at)
        .bind(w.completed_at)
        .bind(w.id.to_string())
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn claim_workflow(&mut self, org_id: Uuid, queue: &str, lease_until: i64) -> Result<Option<(Workflow, i32)>> {
        // One statement: the claim and the history length together.
        let row: Option<ClaimedRow> = sqlx::query_as(&format!(
            "UPDATE workflow_executions SET status = 'RUNNING', lease_until = $1, wakeup_pending = 0 \
             WHERE id = (SELECT id FROM workflow_executions WHERE org_id = $2 AND queue = $3 AND status = 'PENDING' \
                         ORDER BY priority_ms, ready_at LIMIT 1 FOR UPDATE SKIP LOCKED) \
             RETURNING {WORKFLOW_COLUMNS}, \
                 (SELECT COUNT(*) FROM workflow_events WHERE execution_id = workflow_executions.id) AS history_len"
        ))
        .bind(lease_until)
        .bind(org_id.to_string())
        .bind(queue)
        .fetch_optional(&mut *self.tx)
        .await?;
        row.map(|r| Ok((Workflow::try_from(r.workflow)?, r.history_len as i32)))
            .transpose()
    }

    async fn append_event(&mut self, execution_id: Uuid, event_type: &str, data: &Value, now: i64) -> Result<i32> {
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO workflow_events (execution_id, sequence_number, event_type, data, created_at) \
             VALUES ($1, (SELECT COALESCE(MAX(sequence_number), 0) + 1 FROM workflow_events WHERE execution_id = $1), $2, $3, $4) \
             RETURNING sequence_number"
        )
        .bind(execution_id.to_string())
        .bind(event_type)
        .bind(text(data))
        .bind(now)
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(seq as i32)
    }

    async fn events(&mut self, execution_id: Uuid) -> Result<Vec<Event>> {
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT sequence_number, event_type, data, created_at FROM workflow_events \
             WHERE execution_id = $1 ORDER BY sequence_number",
        )
        .bind(execution_id.to_string())
        .fetch_all(&mut *self.tx)
        .await?;
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
        let inserted: Option<i64> = sqlx::query_scalar(&format!(
            "INSERT INTO tasks ({TASK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
             ON CONFLICT(id) DO NOTHING RETURNING 1::BIGINT"
        ))
        .bind(t.id.to_string())
        .bind(t.org_id.to_string())
        .bind(t.workflow_execution_id.map(|w| w.to_string()))
        .bind(&t.kind)
        .bind(&t.queue)
        .bind(text(&t.input))
        .bind(t.status.as_str())
        .bind(opt_text(&t.output))
        .bind(&t.error)
        .bind(t.execution_count as i64)
        .bind(t.max_retries as i64)
        .bind(t.timeout_ms)
        .bind(&t.idempotency_key)
        .bind(t.lease_until)
        .bind(t.ready_at)
        .bind(t.created_at)
        .bind(t.completed_at)
        .fetch_optional(&mut *self.tx)
        .await?;
        Ok(inserted.is_some())
    }

    async fn task(&mut self, id: Uuid) -> Result<Option<Task>> {
        let row: Option<TaskRow> = sqlx::query_as(&format!(
            "SELECT {TASK_COLUMNS} FROM tasks WHERE id = $1{}",
            self.lock()
        ))
        .bind(id.to_string())
        .fetch_optional(&mut *self.tx)
        .await?;
        row.map(Task::try_from).transpose()
    }

    async fn task_by_key(&mut self, org_id: Uuid, key: &str) -> Result<Option<Task>> {
        let row: Option<TaskRow> = sqlx::query_as(&format!(
            "SELECT {TASK_COLUMNS} FROM tasks WHERE org_id = $1 AND idempotency_key = $2"
        ))
        .bind(org_id.to_string())
        .bind(key)
        .fetch_optional(&mut *self.tx)
        .await?;
        row.map(Task::try_from).transpose()
    }

    async fn update_task(&mut self, t: &Task) -> Result<()> {
        sqlx::query("UPDATE tasks SET status = $1, output = $2, error = $3, execution_count = $4, lease_until = $5, ready_at = $6, \
             completed_at = $7 WHERE id = $8")
        .bind(t.status.as_str())
        .bind(opt_text(&t.output))
        .bind(&t.error)
        .bind(t.execution_count as i64)
        .bind(t.lease_until)
        .bind(t.ready_at)
        .bind(t.completed_at)
        .bind(t.id.to_string())
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn claim_task(&mut self, org_id: Uuid, queue: &str, now: i64, lease_until: i64) -> Result<Option<Task>> {
        let row: Option<TaskRow> = sqlx::query_as(&format!(
            "UPDATE tasks SET status = 'RUNNING', execution_count = execution_count + 1, \
                 lease_until = CASE WHEN timeout_ms IS NOT NULL AND $1 + timeout_ms < $2 THEN $1 + timeout_ms ELSE $2 END \
             WHERE id = (SELECT id FROM tasks WHERE org_id = $3 AND queue = $4 AND status = 'PENDING' \
                         ORDER BY ready_at LIMIT 1 FOR UPDATE SKIP LOCKED) \
             RETURNING {TASK_COLUMNS}"
        ))
        .bind(now)
        .bind(lease_until)
        .bind(org_id.to_string())
        .bind(queue)
        .fetch_optional(&mut *self.tx)
        .await?;
        row.map(Task::try_from).transpose()
    }

    async fn expired_tasks(&mut self, now: i64, limit: i64) -> Result<Vec<Task>> {
        let rows: Vec<TaskRow> = sqlx::query_as(&format!(
            "SELECT {TASK_COLUMNS} FROM tasks WHERE status = 'RUNNING' AND lease_until <= $1 ORDER BY lease_until LIMIT $2 FOR UPDATE SKIP LOCKED"
        ))
        .bind(now)
        .bind(limit)
        .fetch_all(&mut *self.tx)
        .await?;
        rows.into_iter().map(Task::try_from).collect()
    }

    async fn task_state(&mut self, task_id: Uuid, key: &str) -> Result<Option<Value>> {
        let value: Option<String> = sqlx::query_scalar("SELECT value FROM task_state WHERE task_id = $1 AND key = $2")
            .bind(task_id.to_string())
            .bind(key)
            .fetch_optional(&mut *self.tx)
            .await?;
        value.as_deref().map(rows::json).transpose()
    }

    async fn set_task_state(&mut self, task_id: Uuid, key: &str, value: &Value) -> Result<()> {
        sqlx::query(
            "INSERT INTO task_state (task_id, key, value) VALUES ($1, $2, $3) \
             ON CONFLICT(task_id, key) DO UPDATE SET value = excluded.value",
        )
        .bind(task_id.to_string())
        .bind(key)
        .bind(text(value))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn clear_task_state(&mut self, task_id: Uuid, key: Option<&str>) -> Result<()> {
        let sql = match key {
            Some(_) => "DELETE FROM task_state WHERE task_id = $1 AND key = $2",
            None => "DELETE FROM task_state WHERE task_id = $1",
        };
        let mut query = sqlx::query(sql).bind(task_id.to_string());
        if let Some(key) = key {
            query = query.bind(key);
        }
        query.execute(&mut *self.tx).await?;
        Ok(())
    }

    async fn task_state_keys(&mut self, task_id: Uuid) -> Result<Vec<String>> {
        let keys = sqlx::query_scalar("SELECT key FROM task_state WHERE task_id = $1 ORDER BY key")
            .bind(task_id.to_string())
            .fetch_all(&mut *self.tx)
            .await?;
        Ok(keys)
    }

    async fn insert_timer(&mut self, execution_id: Uuid, timer_id: &str, fire_at: i64) -> Result<()> {
        sqlx::query("INSERT INTO timers (execution_id, timer_id, fire_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(execution_id.to_string())
            .bind(timer_id)
            .bind(fire_at)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn delete_timer(&mut self, execution_id: Uuid, timer_id: &str) -> Result<bool> {
        let deleted: Option<i64> =
            sqlx::query_scalar("DELETE FROM timers WHERE execution_id = $1 AND timer_id = $2 RETURNING 1::BIGINT")
                .bind(execution_id.to_string())
                .bind(timer_id)
                .fetch_optional(&mut *self.tx)
                .await?;
        Ok(deleted.is_some())
    }

    async fn delete_timers_of(&mut self, execution_id: Uuid) -> Result<()> {
        sqlx::query("DELETE FROM timers WHERE execution_id = $1")
            .bind(execution_id.to_string())
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn due_timers(&mut self, now: i64, limit: i64) -> Result<Vec<(Uuid, String)>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT execution_id, timer_id FROM timers WHERE fire_at <= $1 ORDER BY fire_at LIMIT $2 FOR UPDATE SKIP LOCKED",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&mut *self.tx)
        .await?;
        rows.into_iter().map(|(e, t)| Ok((rows::uuid(&e)?, t))).collect()
    }

    async fn insert_promise(&mut self, p: &Promise) -> Result<()> {
        sqlx::query(
            "INSERT INTO promises (id, org_id, execution_id, name, status, timeout_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        )
        .bind(p.id.to_string())
        .bind(p.org_id.to_string())
        .bind(p.execution_id.to_string())
        .bind(&p.name)
        .bind(p.status.as_str())
        .bind(p.timeout_at)
        .bind(p.created_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn promise(&mut self, id: Uuid) -> Result<Option<Promise>> {
        let row: Option<PromiseRow> = sqlx::query_as(&format!(
            "SELECT {PROMISE_COLUMNS} FROM promises WHERE id = $1{}",
            self.lock()
        ))
        .bind(id.to_string())
        .fetch_optional(&mut *self.tx)
        .await?;
        row.map(Promise::try_from).transpose()
    }

    async fn pending_promise_named(&mut self, execution_id: Uuid, name: &str) -> Result<Option<Promise>> {
        let row: Option<PromiseRow> = sqlx::query_as(&format!(
            "SELECT {PROMISE_COLUMNS} FROM promises WHERE execution_id = $1 AND name = $2 AND status = 'PENDING' \
             ORDER BY created_at LIMIT 1{}",
            self.lock()
        ))
        .bind(execution_id.to_string())
        .bind(name)
        .fetch_optional(&mut *self.tx)
        .await?;
        row.map(Promise::try_from).transpose()
    }

    async fn set_promise_status(&mut self, id: Uuid, status: PromiseStatus) -> Result<()> {
        sqlx::query("UPDATE promises SET status = $1 WHERE id = $2")
            .bind(status.as_str())
            .bind(id.to_string())
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn due_promise_timeouts(&mut self, now: i64, limit: i64) -> Result<Vec<Promise>> {
        let rows: Vec<PromiseRow> = sqlx::query_as(&format!(
            "SELECT {PROMISE_COLUMNS} FROM promises WHERE status = 'PENDING' AND timeout_at <= $1 ORDER BY timeout_at LIMIT $2 FOR UPDATE SKIP LOCKED"
        ))
        .bind(now)
        .bind(limit)
        .fetch_all(&mut *self.tx)
        .await?;
        rows.into_iter().map(Promise::try_from).collect()
    }

    async fn insert_schedule(&mut self, sc: &Schedule) -> Result<bool> {
        let inserted: Option<i64> = sqlx::query_scalar(&format!(
            "INSERT INTO schedules ({SCHEDULE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING RETURNING 1::BIGINT"
        ))
        .bind(sc.id.to_string())
        .bind(sc.org_id.to_string())
        .bind(&sc.name)
        .bind(&sc.cron)
        .bind(&sc.workflow_kind)
        .bind(&sc.queue)
        .bind(text(&sc.input))
        .bind(sc.paused as i64)
        .bind(sc.next_fire_at)
        .bind(sc.created_at)
        .fetch_optional(&mut *self.tx)
        .await?;
        Ok(inserted.is_some())
    }

    async fn schedule(&mut self, id: Uuid) -> Result<Option<Schedule>> {
        let row: Option<ScheduleRow> = sqlx::query_as(&format!(
            "SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE id = $1{}",
            self.lock()
        ))
        .bind(id.to_string())
        .fetch_optional(&mut *self.tx)
        .await?;
        row.map(Schedule::try_from).transpose()
    }

    async fn schedules(&mut self, org_id: Uuid) -> Result<Vec<Schedule>> {
        let rows: Vec<ScheduleRow> = sqlx::query_as(&format!(
            "SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE org_id = $1 ORDER BY name"
        ))
        .bind(org_id.to_string())
        .fetch_all(&mut *self.tx)
        .await?;
        rows.into_iter().map(Schedule::try_from).collect()
    }

    async fn update_schedule(&mut self, sc: &Schedule) -> Result<()> {
        sqlx::query("UPDATE schedules SET paused = $1, next_fire_at = $2 WHERE id = $3")
            .bind(sc.paused as i64)
            .bind(sc.next_fire_at)
            .bind(sc.id.to_string())
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn delete_schedule(&mut self, id: Uuid) -> Result<()> {
        sqlx::query("DELETE FROM schedules WHERE id = $1")
            .bind(id.to_string())
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn due_schedules(&mut self, now: i64, limit: i64) -> Result<Vec<Schedule>> {
        let rows: Vec<ScheduleRow> = sqlx::query_as(&format!(
            "SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE paused = 0 AND next_fire_at <= $1 ORDER BY next_fire_at LIMIT $2 FOR UPDATE SKIP LOCKED"
        ))
        .bind(now)
        .bind(limit)
        .fetch_all(&mut *self.tx)
        .await?;
        rows.into_iter().map(Schedule::try_from).collect()
    }

    async fn set_state(&mut self, execution_id: Uuid, key: &str, value: &Value) -> Result<()> {
        sqlx::query(
            "INSERT INTO workflow_state (execution_id, key, value) VALUES ($1, $2, $3) \
             ON CONFLICT(execution_id, key) DO UPDATE SET value = excluded.value",
        )
        .bind(execution_id.to_string())
        .bind(key)
        .bind(text(value))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn clear_state(&mut self, execution_id: Uuid, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM workflow_state WHERE execution_id = $1 AND key = $2")
            .bind(execution_id.to_string())
            .bind(key)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn state(&mut self, execution_id: Uuid, key: &str) -> Result<Option<Value>> {
        let value: Option<String> =
            sqlx::query_scalar("SELECT value FROM workflow_state WHERE execution_id = $1 AND key = $2")
                .bind(execution_id.to_string())
                .bind(key)
                .fetch_optional(&mut *self.tx)
                .await?;
        value.as_deref().map(rows::json).transpose()
    }

    async fn reclaim_expired_workflows(&mut self, now: i64) -> Result<u64> {
        let reclaimed: Vec<i64> = sqlx::query_scalar(
            "UPDATE workflow_executions SET status = 'PENDING', lease_until = NULL, ready_at = $1 \
             WHERE status = 'RUNNING' AND lease_until <= $2 RETURNING 1::BIGINT",
        )
        .bind(now)
        .bind(now)
        .fetch_all(&mut *self.tx)
        .await?;
        Ok(reclaimed.len() as u64)
    }

    async fn next_due(&mut self) -> Result<Option<i64>> {
        let next: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(t) FROM ( \
               SELECT MIN(lease_until) AS t FROM workflow_executions WHERE status = 'RUNNING' \
               UNION ALL SELECT MIN(lease_until) FROM tasks WHERE status = 'RUNNING' \
               UNION ALL SELECT MIN(fire_at) FROM timers \
               UNION ALL SELECT MIN(timeout_at) FROM promises WHERE status = 'PENDING' \
               UNION ALL SELECT MIN(next_fire_at) FROM schedules WHERE paused = 0) AS due",
        )
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(next)
    }

    async fn upsert_worker(&mut self, w: &Worker) -> Result<()> {
        sqlx::query(
            "INSERT INTO workers (id, org_id, name, version, worker_type, workflow_kinds, task_kinds, registered_at, last_heartbeat) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT(id) DO UPDATE SET last_heartbeat = excluded.last_heartbeat"
        )
        .bind(w.id.to_string())
        .bind(w.org_id.to_string())
        .bind(&w.name)
        .bind(&w.version)
        .bind(&w.worker_type)
        .bind(serde_json::to_string(&w.workflow_kinds).unwrap_or_default())
        .bind(serde_json::to_string(&w.task_kinds).unwrap_or_default())
        .bind(w.registered_at)
        .bind(w.last_heartbeat)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn heartbeat(&mut self, worker_id: Uuid, now: i64) -> Result<bool> {
        let updated: Option<i64> =
            sqlx::query_scalar("UPDATE workers SET last_heartbeat = $1 WHERE id = $2 RETURNING 1::BIGINT")
                .bind(now)
                .bind(worker_id.to_string())
                .fetch_optional(&mut *self.tx)
                .await?;
        Ok(updated.is_some())
    }
}
