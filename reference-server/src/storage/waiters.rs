//! Held polls and what wakes them. A poll that finds nothing registers a
//! [`Ticket`] for its (work, org, queue) and waits; a commit that made rows
//! of that queue pollable wakes as many tickets as it made rows, oldest
//! first, never all of them. Nothing here reaches workers: a woken poll
//! claims like any other and answers its own RPC.
//!
//! The publisher is the storage backend, when the commit is made (SQLite,
//! in-process: the woken poll's claim then waits for the commit's flush
//! before it answers) or when the database tells it (PostgreSQL,
//! `LISTEN`), so no code that creates work has to remember to wake anyone.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;
use uuid::Uuid;

use super::Work;

/// A queue that polls wait on.
pub type QueueKey = (Work, Uuid, String);

/// Every held poll of one server, by queue.
#[derive(Debug, Default)]
pub struct Waiters {
    queues: Mutex<HashMap<QueueKey, VecDeque<Arc<Slot>>>>,
    /// Tickets woken so far (a wake passed on counts again).
    woken: AtomicU64,
    /// Tickets whose holder waits in [`Ticket::woken`] now: its look found
    /// nothing. A ticket is in line before its look, so the line can be longer.
    parked: AtomicUsize,
}

#[derive(Debug, Default)]
struct Slot {
    /// Taken out of the queue by a wake.
    woken: AtomicBool,
    /// The wake was seen by [`Ticket::woken`].
    consumed: AtomicBool,
    notify: Notify,
}

impl Waiters {
    /// Queues a ticket at the back of `key`'s line.
    pub fn register(self: &Arc<Self>, key: QueueKey) -> Ticket {
        let slot = Arc::new(Slot::default());
        self.lock().entry(key.clone()).or_default().push_back(slot.clone());
        Ticket {
            waiters: self.clone(),
            key,
            slot,
        }
    }

    /// `rows` rows of `key` became pollable: wakes that many tickets, the
    /// longest waiting first. Returns how many it woke.
    pub fn publish(&self, key: &QueueKey, rows: usize) -> usize {
        let mut queues = self.lock();
        let Some(line) = queues.get_mut(key) else {
            return 0;
        };
        let mut woke = 0;
        while woke < rows {
            let Some(slot) = line.pop_front() else { break };
            slot.woken.store(true, Ordering::Release);
            slot.notify.notify_one();
            woke += 1;
        }
        if line.is_empty() {
            queues.remove(key);
        }
        drop(queues);
        self.woken.fetch_add(woke as u64, Ordering::Relaxed);
        woke
    }

    /// Wakes every ticket: each looks again for work of its queue (after
    /// notifications may have been missed).
    pub fn wake_all(&self) {
        let lines: Vec<_> = {
            let mut queues = self.lock();
            let lines: Vec<_> = queues.drain().flat_map(|(_, line)| line).collect();
            for slot in &lines {
                slot.woken.store(true, Ordering::Release);
            }
            lines
        };
        for slot in &lines {
            slot.notify.notify_one();
        }
        self.woken.fetch_add(lines.len() as u64, Ordering::Relaxed);
    }

    /// Tickets woken since start.
    pub fn woken_total(&self) -> u64 {
        self.woken.load(Ordering::Relaxed)
    }

    /// Tickets in line now, whether their holder waits or still looks.
    pub fn in_line(&self) -> usize {
        self.lock().values().map(VecDeque::len).sum()
    }

    /// Holders waiting for a wake now (looked, found nothing).
    pub fn parked(&self) -> usize {
        self.parked.load(Ordering::Acquire)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<QueueKey, VecDeque<Arc<Slot>>>> {
        self.queues.lock().expect("never poisoned")
    }
}

/// One held poll's place in line. Dropped unwoken, it leaves the line;
/// dropped woken but before its holder saw the wake (the RPC was
/// cancelled, or its claim succeeded meanwhile), it passes the wake on to
/// the next in line, so that no pollable row is left without a poll.
#[derive(Debug)]
pub struct Ticket {
    waiters: Arc<Waiters>,
    key: QueueKey,
    slot: Arc<Slot>,
}

impl Ticket {
    /// Completes when a commit woke this ticket. While it waits, its
    /// holder counts as [`Waiters::parked`].
    pub async fn woken(&self) {
        let _parked = Parked::new(&self.waiters.parked);
        self.slot.notify.notified().await;
        self.slot.consumed.store(true, Ordering::Release);
    }
}

/// One count in [`Waiters::parked`] for as long as it lives (a cancelled
/// wait gives its count back too).
struct Parked<'a>(&'a AtomicUsize);

impl<'a> Parked<'a> {
    fn new(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::AcqRel);
        Parked(count)
    }
}

impl Drop for Parked<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if self.slot.consumed.load(Ordering::Acquire) {
            return;
        }
        {
            let mut queues = self.waiters.lock();
            if !self.slot.woken.load(Ordering::Acquire) {
                if let Some(line) = queues.get_mut(&self.key) {
                    line.retain(|s| !Arc::ptr_eq(s, &self.slot));
                    if line.is_empty() {
                        queues.remove(&self.key);
                    }
                }
                return;
            }
        }
        self.waiters.publish(&self.key, 1);
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::time::Duration;

    use super::*;

    fn key(queue: &str) -> QueueKey {
        (Work::Task, Uuid::nil(), queue.to_string())
    }

    async fn is_woken(ticket: &Ticket) -> bool {
        tokio::time::timeout(Duration::from_millis(50), ticket.woken())
            .await
            .is_ok()
    }

    #[tokio::test]
    async fn one_row_wakes_the_oldest_ticket_only() {
        let waiters = Arc::new(Waiters::default());
        let first = waiters.register(key("q"));
        let second = waiters.register(key("q"));
        assert_eq!(waiters.publish(&key("q"), 1), 1);
        assert!(is_woken(&first).await);
        assert!(!is_woken(&second).await, "one row, one wake");
        assert_eq!(waiters.in_line(), 1);
    }

    #[tokio::test]
    async fn a_wake_for_another_queue_wakes_nobody() {
        let waiters = Arc::new(Waiters::default());
        let ticket = waiters.register(key("q"));
        assert_eq!(waiters.publish(&key("other"), 3), 0);
        assert!(!is_woken(&ticket).await);
    }

    #[tokio::test]
    async fn a_dropped_woken_ticket_passes_its_wake_on() {
        let waiters = Arc::new(Waiters::default());
        let cancelled = waiters.register(key("q"));
        let next = waiters.register(key("q"));
        waiters.publish(&key("q"), 1);
        drop(cancelled); // woken, never looked
        assert!(is_woken(&next).await, "the wake went to the next in line");
        assert_eq!(waiters.woken_total(), 2);
    }

    #[tokio::test]
    async fn a_dropped_unwoken_ticket_leaves_the_line() {
        let waiters = Arc::new(Waiters::default());
        drop(waiters.register(key("q")));
        assert_eq!(waiters.in_line(), 0);
        let later = waiters.register(key("q"));
        assert_eq!(waiters.publish(&key("q"), 1), 1);
        assert!(is_woken(&later).await);
    }

    #[tokio::test]
    async fn a_ticket_is_parked_only_while_its_holder_waits() {
        let waiters = Arc::new(Waiters::default());
        let ticket = waiters.register(key("q"));
        assert_eq!((waiters.in_line(), waiters.parked()), (1, 0), "still looking");
        assert!(!is_woken(&ticket).await);
        assert_eq!(waiters.parked(), 0, "a wait cut short gives its count back");
        let mut wait = std::pin::pin!(ticket.woken());
        let pending = std::future::poll_fn(|cx| std::task::Poll::Ready(wait.as_mut().poll(cx).is_pending())).await;
        assert!(pending);
        assert_eq!(waiters.parked(), 1);
        waiters.publish(&key("q"), 1);
        wait.await;
        assert_eq!((waiters.in_line(), waiters.parked()), (0, 0));
    }

    #[tokio::test]
    async fn a_seen_wake_is_not_passed_on() {
        let waiters = Arc::new(Waiters::default());
        let ticket = waiters.register(key("q"));
        let next = waiters.register(key("q"));
        waiters.publish(&key("q"), 1);
        ticket.woken().await;
        drop(ticket);
        assert!(!is_woken(&next).await);
    }
}
