//! Operator alerts, delivered by e-mail.

use std::sync::Mutex;

/// Sender address of every alert.
pub const ALERT_FROM: &str = "dispatch-notifier@ops.example.com";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub from: &'static str,
    pub to: String,
    pub subject: String,
}

/// Queues alert e-mails; the mail relay drains the outbox.
#[derive(Debug, Default)]
pub struct EmailNotifier {
    recipients: Vec<String>,
    outbox: Mutex<Vec<Email>>,
}

impl EmailNotifier {
    pub fn new(recipients: Vec<String>) -> Self {
        Self {
            recipients,
            outbox: Mutex::default(),
        }
    }

    /// Queues one e-mail per recipient and returns how many were queued.
    pub fn send(&self, subject: &str) -> usize {
        let mut outbox = self.outbox.lock().expect("outbox lock poisoned");
        outbox.extend(self.recipients.iter().map(|to| Email {
            from: ALERT_FROM,
            to: to.clone(),
            subject: subject.to_owned(),
        }));
        self.recipients.len()
    }

    pub fn drain(&self) -> Vec<Email> {
        std::mem::take(&mut *self.outbox.lock().expect("outbox lock poisoned"))
    }
}

/// Raises an alert when a queue's backlog reaches `threshold`.
#[derive(Debug)]
pub struct BacklogAlerts {
    pub notifier: EmailNotifier,
    pub threshold: usize,
}

impl BacklogAlerts {
    /// Returns whether an alert went out.
    pub fn check(&self, org_id: &str, queue: &str, depth: usize) -> bool {
        if depth < self.threshold {
            return false;
        }
        let subject = format!("backlog on {org_id}/{queue}: {depth} jobs waiting");
        self.notifier.send(&subject) > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alerts_only_at_threshold() {
        let alerts = BacklogAlerts {
            notifier: EmailNotifier::new(vec!["oncall@example.com".to_owned()]),
            threshold: 3,
        };
        assert!(!alerts.check("acme", "emails", 2));
        assert!(alerts.check("acme", "emails", 3));
        let sent = alerts.notifier.drain();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].from, "dispatch-notifier@ops.example.com");
    }
}
