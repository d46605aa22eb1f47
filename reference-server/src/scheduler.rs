//! The one background loop: fires due timers (`TIMER_FIRED`, the workflow
//! becomes pollable), times out promises (`PROMISE_TIMEOUT`), fires cron
//! schedules (one workflow per fire time), puts workflows whose lease
//! expired back on their queue and counts a task whose lease or attempt
//! timeout expired as a failed attempt (reclaim). It sleeps until the next due instant, not on a busy tick.

use std::time::Duration;

use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::service::events;
use crate::service::promise_resolver::{self, Outcome};
use crate::service::{now_ms, wakeup, Result, Services};

/// Timers fired per transaction.
const BATCH: i64 = 256;

/// Runs until `shutdown` is cancelled.
pub async fn run(services: Services, shutdown: CancellationToken) {
    loop {
        if let Err(err) = pass(&services).await {
            tracing::error!(error = %err, "scheduler pass failed");
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                _ = shutdown.cancelled() => return,
            }
        }
        let wait = match services.alarm.earliest() {
            Some(at) => Duration::from_millis((at - now_ms()).clamp(0, 60_000) as u64),
            None => Duration::from_secs(60),
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = services.alarm.changed() => {}
            _ = shutdown.cancelled() => return,
        }
    }
}

/// One pass: fire due timers, reclaim expired leases, compute the next
/// due instant.
pub async fn pass(services: &Services) -> Result<()> {
    loop {
        let fired = fire_due_timers(services).await?;
        if fired < BATCH as usize {
            break;
        }
    }
    loop {
        let timed_out = time_out_promises(services).await?;
        if timed_out < BATCH as usize {
            break;
        }
    }
    while services.fire_due_schedules(BATCH).await? == BATCH as usize {}
    let mut reclaimed = 0;
    loop {
        let expired = services.expire_tasks(BATCH).await?;
        reclaimed += expired as u64;
        if expired < BATCH as usize {
            break;
        }
    }
    let now = now_ms();
    let mut tx = services.storage.begin().await?;
    reclaimed += tx.reclaim_expired_workflows(now).await?;
    let next = tx.next_due().await?;
    tx.commit().await?;
    if reclaimed > 0 {
        tracing::info!(reclaimed, "put work with expired leases back on its queue");
    }
    services.alarm.reset(next);
    Ok(())
}

async fn fire_due_timers(services: &Services) -> Result<usize> {
    let now = now_ms();
    let mut tx = services.storage.begin().await?;
    let due = tx.due_timers(now, BATCH).await?;
    for (execution_id, timer_id) in &due {
        tx.delete_timer(*execution_id, timer_id).await?;
        wakeup::wake(
            &mut *tx,
            *execution_id,
            events::TIMER_FIRED,
            &json!({ "timerId": timer_id }),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(due.len())
}

async fn time_out_promises(services: &Services) -> Result<usize> {
    let now = now_ms();
    let mut tx = services.storage.begin().await?;
    let due = tx.due_promise_timeouts(now, BATCH).await?;
    for promise in &due {
        promise_resolver::settle(&mut *tx, promise, Outcome::TimedOut, now).await?;
    }
    tx.commit().await?;
    Ok(due.len())
}
