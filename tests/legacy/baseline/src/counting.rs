//! Counts what the legacy workers hear from the server. The legacy SDK
//! writes one debug line per notification event it receives, one per poll
//! that a notification started, and one per subscription it opened; a
//! [`tracing_subscriber::Layer`] in this process counts those lines.
//!
//! Both SDKs log under `reference_sdk::…` (the legacy crate keeps the
//! reference library name), so lines are told apart by their message text,
//! which only the legacy SDK writes. Debug level is enabled for the workflow
//! worker's target only, so every other debug line stays disabled at its
//! call site.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

/// The module that writes the lines counted here (in both SDKs).
const WORKER_TARGET: &str = "reference_sdk::worker::workflow_worker";
/// Written by the legacy SDK for each event received on its subscription.
const NOTIFICATION: &str = "work available notification";
/// Written when a notification, not the end of the backoff sleep, ended an
/// idle wait: the poll that follows was started by the notification.
const WOKEN_POLL: &str = "work available notification received, polling immediately";
/// Written when a subscription is open.
const SUBSCRIBED: &str = "subscribed to work notifications";

static NOTIFICATIONS: AtomicU64 = AtomicU64::new(0);
static WOKEN_POLLS: AtomicU64 = AtomicU64::new(0);
static SUBSCRIPTIONS: AtomicU64 = AtomicU64::new(0);

/// The counters at one moment; subtract two to get a window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Heard {
    pub notifications: u64,
    pub woken_polls: u64,
    pub subscriptions: u64,
}

impl std::ops::Sub for Heard {
    type Output = Heard;

    fn sub(self, earlier: Heard) -> Heard {
        Heard {
            notifications: self.notifications - earlier.notifications,
            woken_polls: self.woken_polls - earlier.woken_polls,
            subscriptions: self.subscriptions - earlier.subscriptions,
        }
    }
}

/// The counters now.
pub(crate) fn heard() -> Heard {
    Heard {
        notifications: NOTIFICATIONS.load(Ordering::Relaxed),
        woken_polls: WOKEN_POLLS.load(Ordering::Relaxed),
        subscriptions: SUBSCRIPTIONS.load(Ordering::Relaxed),
    }
}

/// Installs the process's tracing: the counting layer (debug lines of the
/// workflow worker only) and warnings of every crate on stderr.
pub(crate) fn install() {
    let counting = Counting.with_filter(Targets::new().with_target(WORKER_TARGET, Level::DEBUG));
    let warnings = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(LevelFilter::WARN);
    tracing_subscriber::registry().with(counting).with(warnings).init();
}

struct Counting;

impl<S: Subscriber> Layer<S> for Counting {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        if *event.metadata().level() != Level::DEBUG {
            return;
        }
        let mut message = Message(None);
        event.record(&mut message);
        let counter = match message.0.as_deref() {
            Some(NOTIFICATION) => &NOTIFICATIONS,
            Some(WOKEN_POLL) => &WOKEN_POLLS,
            Some(SUBSCRIBED) => &SUBSCRIPTIONS,
            _ => return,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Takes the `message` field of an event.
struct Message(Option<String>);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.0 = Some(format!("{value:?}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_the_worker_lines_by_message() {
        let subscriber = tracing_subscriber::registry()
            .with(Counting.with_filter(Targets::new().with_target(WORKER_TARGET, Level::DEBUG)));
        let before = heard();
        tracing::subscriber::with_default(subscriber, || {
            tracing::debug!(target: WORKER_TARGET, org_id = "o", queue = "q", "work available notification");
            tracing::debug!(target: WORKER_TARGET, "work available notification received, polling immediately");
            tracing::debug!(target: WORKER_TARGET, queue = "q", "subscribed to work notifications");
            tracing::debug!(target: WORKER_TARGET, "something else");
            tracing::info!(target: WORKER_TARGET, "work available notification");
            tracing::debug!(target: "reference_sdk::client", "work available notification");
        });
        let counted = heard() - before;
        assert_eq!(
            counted,
            Heard {
                notifications: 1,
                woken_polls: 1,
                subscriptions: 1
            }
        );
    }
}
