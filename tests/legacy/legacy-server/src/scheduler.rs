//! The one background loop: fires due timers (`TIMER_FIRED`, the workflow
//! becomes pollable), times out promises (`PROMISE_TIMEOUT`), fires cron
//! schedules (one workflow per fire time), puts workflows whose lease
//! expired back on their queue and counts a task whose lease or attempt
//! timeout expired as a failed attempt (reclaim). It sleeps until the next
//! due instant, not on a busy tick. Each step is a [`Services`] method with
//! its own transaction.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::service::{Result, Services};

/// Items handled per transaction.
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
            Some(at) => Duration::from_millis((at - services.clock.now_ms()).clamp(0, 60_000) as u64),
            None => Duration::from_secs(60),
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = services.alarm.changed() => {}
            _ = services.clock.moved() => {}
            _ = shutdown.cancelled() => return,
        }
    }
}

/// One pass: fire what is due, reclaim expired leases, compute the next
/// due instant.
pub async fn pass(services: &Services) -> Result<()> {
    let _one = services.alarm.exclusive().await;
    while services.fire_due_timers(BATCH).await? == BATCH as usize {}
    while services.time_out_promises(BATCH).await? == BATCH as usize {}
    while services.fire_due_schedules(BATCH).await? == BATCH as usize {}
    let mut reclaimed = 0;
    loop {
        let expired = services.expire_tasks(BATCH).await?;
        reclaimed += expired as u64;
        if expired < BATCH as usize {
            break;
        }
    }
    reclaimed += services.reclaim_expired_workflows().await?;
    if reclaimed > 0 {
        tracing::info!(reclaimed, "put work with expired leases back on its queue");
    }
    services.alarm.reset(services.next_due().await?);
    Ok(())
}
