//! Cron schedules: each fire time starts one workflow. The workflow's
//! idempotency key is `schedule:<id>:<fire time>`, and the next fire time
//! is stored in the same transaction, so a fire time never yields two
//! workflows, even across restarts. When the server was down over several
//! fire times, only the latest missed one fires (no burst of catch-up runs).

use std::str::FromStr;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;
use uuid::Uuid;

use super::workflow_launcher::{self, StartWorkflow};
use super::{Error, Result, Services};
use crate::storage::Schedule;

/// A request to create a schedule.
#[derive(Debug, Clone)]
pub struct NewSchedule {
    pub org_id: Uuid,
    pub name: String,
    /// Five fields (minute to day of week) or six (with seconds first).
    pub cron: String,
    pub workflow_kind: String,
    pub queue: String,
    pub input: Value,
}

/// Parses a cron expression of 5 or 6 fields.
pub fn parse_cron(expression: &str) -> Result<cron::Schedule> {
    let fields = expression.split_whitespace().count();
    let full = match fields {
        5 => format!("0 {expression}"),
        6 | 7 => expression.to_string(),
        n => {
            return Err(Error::InvalidArgument(format!(
                "cron: expected 5 fields (minute hour day month weekday) or 6 with seconds, got {n}"
            )))
        }
    };
    cron::Schedule::from_str(&full).map_err(|e| Error::InvalidArgument(format!("cron {expression:?}: {e}")))
}

/// The first fire time strictly after `after` (epoch ms).
fn next_fire(cron: &cron::Schedule, after: i64) -> Option<i64> {
    let after: DateTime<Utc> = Utc.timestamp_millis_opt(after).single()?;
    cron.after(&after).next().map(|t| t.timestamp_millis())
}

impl Services {
    pub async fn create_schedule(&self, req: NewSchedule) -> Result<Schedule> {
        if req.name.trim().is_empty() {
            return Err(Error::InvalidArgument("name must not be empty".into()));
        }
        if req.workflow_kind.trim().is_empty() {
            return Err(Error::InvalidArgument("workflowKind must not be empty".into()));
        }
        let cron = parse_cron(&req.cron)?;
        let now = self.clock.now_ms();
        let schedule = Schedule {
            id: Uuid::new_v4(),
            org_id: req.org_id,
            name: req.name,
            cron: req.cron,
            workflow_kind: req.workflow_kind,
            queue: if req.queue.is_empty() {
                "default".into()
            } else {
                req.queue
            },
            input: req.input,
            paused: false,
            next_fire_at: next_fire(&cron, now),
            created_at: now,
        };
        let mut tx = self.storage.begin().await?;
        if !tx.insert_schedule(&schedule).await? {
            return Err(Error::FailedPrecondition(format!(
                "a schedule named {:?} already exists",
                schedule.name
            )));
        }
        tx.commit().await?;
        if let Some(at) = schedule.next_fire_at {
            self.alarm.due_at(at);
        }
        Ok(schedule)
    }

    pub async fn schedules(&self, org_id: Uuid) -> Result<Vec<Schedule>> {
        let mut tx = self.storage.read().await?;
        Ok(tx.schedules(org_id).await?)
    }

    /// Pauses or resumes; a resumed schedule fires from now on.
    pub async fn set_schedule_paused(&self, org_id: Uuid, id: Uuid, paused: bool) -> Result<Schedule> {
        let mut tx = self.storage.begin().await?;
        let mut schedule = owned(&mut *tx, org_id, id).await?;
        schedule.paused = paused;
        if !paused {
            schedule.next_fire_at = next_fire(&parse_cron(&schedule.cron)?, self.clock.now_ms());
        }
        tx.update_schedule(&schedule).await?;
        tx.commit().await?;
        if let (false, Some(at)) = (paused, schedule.next_fire_at) {
            self.alarm.due_at(at);
        }
        Ok(schedule)
    }

    pub async fn delete_schedule(&self, org_id: Uuid, id: Uuid) -> Result<()> {
        let mut tx = self.storage.begin().await?;
        owned(&mut *tx, org_id, id).await?;
        tx.delete_schedule(id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Fires due schedules (at most `limit`); returns how many fired.
    pub async fn fire_due_schedules(&self, limit: i64) -> Result<usize> {
        let now = self.clock.now_ms();
        let mut tx = self.storage.begin().await?;
        let due = tx.due_schedules(now, limit).await?;
        let fired = due.len();
        for mut schedule in due {
            let Some(fire_at) = schedule.next_fire_at else { continue };
            let start = StartWorkflow {
                org_id: schedule.org_id,
                kind: schedule.workflow_kind.clone(),
                queue: schedule.queue.clone(),
                input: schedule.input.clone(),
                priority_seconds: 0,
                idempotency_key: Some(format!("schedule:{}:{fire_at}", schedule.id)),
            };
            workflow_launcher::launch(&mut *tx, start, now).await?;
            // The next fire time after now: missed fire times are skipped.
            schedule.next_fire_at = parse_cron(&schedule.cron)
                .ok()
                .and_then(|c| next_fire(&c, now.max(fire_at)));
            tx.update_schedule(&schedule).await?;
        }
        tx.commit().await?;
        Ok(fired)
    }
}

async fn owned(tx: &mut dyn crate::storage::Tx, org_id: Uuid, id: Uuid) -> Result<Schedule> {
    match tx.schedule(id).await? {
        Some(s) if s.org_id == org_id => Ok(s),
        _ => Err(Error::NotFound(format!("schedule {id} not found"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_and_six_field_expressions() {
        let every_minute = parse_cron("* * * * *").unwrap();
        assert_eq!(next_fire(&every_minute, 0), Some(60_000));
        let every_second = parse_cron("* * * * * *").unwrap();
        assert_eq!(next_fire(&every_second, 1_500), Some(2_000));
    }

    #[test]
    fn bad_expressions_name_the_field() {
        let err = parse_cron("* * *").unwrap_err().to_string();
        assert!(err.starts_with("cron:"), "{err}");
        let err = parse_cron("61 * * * *").unwrap_err().to_string();
        assert!(err.starts_with("cron"), "{err}");
    }
}
