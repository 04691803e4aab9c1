//! The background sender of the mail outbox (docs/architecture.md, "Mail goes through an
//! outbox"): it claims messages committed to `mail_outbox`, delivers them through the
//! configured `Mailer` with no database connection held, and records the result. A failed
//! attempt is retried with exponential back-off; delivery is at least once, and each message
//! carries its outbox id (SMTP `Message-ID`, the outbox file's `id`) so a receiver can drop a
//! repeat. Every process runs one sender; leases keep two from delivering the same message.
//! Messages of pools with a `custom_email_sender` hook go to that hook instead of the mailer,
//! with the same leases and retries (docs/triggers.md, "Custom email and SMS senders").

use super::Mailer;
use crate::hooks::Hooks;
use crate::metrics::{Delivery, Metrics};
use crate::model::email::Outgoing;
use crate::sealing::Sealer;
use crate::store::{self, Store, mail_outbox};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// How long a claim protects a message from other senders: longer than an SMTP attempt takes
/// (`timeout_seconds` is at most 120 per step), so only a dead claimant's messages are taken
/// over. A server that stalls every step to its timeout may see a message twice: at least once.
pub const LEASE_SECONDS: i64 = 300;
/// How often a sender looks for due messages when nobody woke it.
pub const POLL: Duration = Duration::from_secs(1);
/// Longest wait between two attempts.
pub const MAX_RETRY_SECONDS: i64 = 300;
/// A message older than this is given up on: the longest-lived code it can carry has expired.
pub const GIVE_UP_SECONDS: i64 = 24 * 3600;

/// Seconds to wait after the `attempts`-th failed attempt: 1, 2, 4 … up to five minutes.
pub fn retry_delay(attempts: i32) -> i64 {
    let doublings = attempts.clamp(1, 20) - 1;
    (1i64 << doublings).min(MAX_RETRY_SECONDS)
}

/// When to try a message again after a failed attempt, or `None` to give up on it.
pub fn next_attempt(created_at: i64, attempts: i32, now: i64) -> Option<i64> {
    let at = now + retry_delay(attempts);
    (at - created_at <= GIVE_UP_SECONDS).then_some(at)
}

/// The handle use cases hold: after committing a message they wake the sender, which then
/// delivers at once instead of at its next poll.
#[derive(Clone, Default)]
pub struct MailQueue {
    wake: Arc<Notify>,
}

impl MailQueue {
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// Delivers the outbox of one database through one mailer.
pub struct Sender {
    store: Store,
    mailer: Arc<dyn Mailer>,
    queue: MailQueue,
    /// This process's name on its leases.
    owner: String,
    /// Where attempts are counted (`gatehouse_mail_deliveries_total`).
    metrics: Option<Arc<Metrics>>,
    /// Delivers the messages of pools with a sender hook (`flows::messages::deliver`).
    hooks: Option<(Arc<Sealer>, Arc<Hooks>)>,
}

impl Sender {
    pub fn new(store: Store, mailer: Arc<dyn Mailer>, queue: MailQueue) -> Self {
        Self {
            store,
            mailer,
            queue,
            owner: uuid::Uuid::new_v4().to_string(),
            metrics: None,
            hooks: None,
        }
    }

    /// This sender, delivering sender-hook messages through `hooks` (codes opened with
    /// `sealer`). Without it such messages fail and wait, like mail to a server that is down.
    pub fn with_hooks(mut self, sealer: Arc<Sealer>, hooks: Arc<Hooks>) -> Self {
        self.hooks = Some((sealer, hooks));
        self
    }

    /// This sender, counting its delivery attempts in `metrics`.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    fn count(&self, result: Delivery) {
        if let Some(metrics) = &self.metrics {
            metrics.mail_delivery(result);
        }
    }

    /// Runs until the process ends.
    pub async fn run(self) {
        let (_never, stop) = watch::channel(false);
        self.run_until(stop).await
    }

    /// Runs until `stop` turns true. A message being delivered then is finished and its
    /// outcome recorded, so a stop neither loses a delivery nor leaves a lease for others to
    /// wait out.
    pub async fn run_until(self, mut stop: watch::Receiver<bool>) {
        // A function, so the borrow ends before any await.
        fn asked(stop: &watch::Receiver<bool>) -> bool {
            *stop.borrow()
        }
        loop {
            while !asked(&stop) && self.deliver_one().await {}
            if asked(&stop) {
                return;
            }
            tokio::select! {
                Ok(_) = stop.wait_for(|stop| *stop) => return,
                _ = self.queue.wake.notified() => {}
                _ = actix_web::rt::time::sleep(POLL) => {}
            }
        }
    }

    /// Delivers the next due message, if any; `false` when there was none (or the database
    /// could not be asked).
    pub async fn deliver_one(&self) -> bool {
        let owner = self.owner.clone();
        let claimed = self
            .store
            .run(move |conn| mail_outbox::claim(conn, &owner, store::now(), LEASE_SECONDS))
            .await;
        let message = match claimed {
            Ok(Some(message)) => message,
            Ok(None) => return false,
            Err(error) => {
                tracing::warn!("mail outbox unreadable: {error}");
                return false;
            }
        };
        let sent = self.send(&message).await;
        let id = message.id.clone();
        let now = store::now();
        let recorded = match sent {
            Ok(()) => {
                self.count(Delivery::Sent);
                tracing::info!(message = %id, pool = %message.pool_id, attempts = message.attempts, by = by(&message.message), "email delivered");
                self.store
                    .run(move |conn| mail_outbox::mark_sent(conn, &id, now))
                    .await
            }
            Err(error) => {
                let retry_at = next_attempt(message.created_at, message.attempts, now);
                self.count(match retry_at {
                    Some(_) => Delivery::Retrying,
                    None => Delivery::Abandoned,
                });
                match retry_at {
                    Some(at) => tracing::warn!(
                        message = %id, pool = %message.pool_id, attempts = message.attempts,
                        retry_in_seconds = at - now, by = by(&message.message),
                        "email not delivered, will retry: {error}"
                    ),
                    None => tracing::error!(
                        message = %id, pool = %message.pool_id, attempts = message.attempts,
                        by = by(&message.message), "email not delivered, giving up: {error}"
                    ),
                }
                let text = error.to_string();
                self.store
                    .run(move |conn| mail_outbox::mark_failed(conn, &id, &text, retry_at))
                    .await
            }
        };
        if let Err(error) = recorded {
            // The lease runs out and the message is tried again: at least once, never lost.
            tracing::warn!(message = %message.id, "delivery not recorded: {error}");
        }
        true
    }
}

/// Who delivers a message, for the logs.
fn by(message: &Outgoing) -> &'static str {
    match message {
        Outgoing::Hook { hook } => hook.trigger.key(),
        Outgoing::Email(_) => "mailer",
    }
}

impl Sender {
    /// One attempt, on the blocking pool: the mailer for an email, the pool's sender hook for a
    /// hook message (the pool read afresh, so its current hook and secret are used).
    async fn send(&self, message: &mail_outbox::Claimed) -> Result<(), super::MailError> {
        let id = message.id.clone();
        let work: Box<dyn FnOnce() -> Result<(), super::MailError> + Send> = match &message.message
        {
            Outgoing::Email(email) => {
                let (mailer, email) = (self.mailer.clone(), email.clone());
                Box::new(move || mailer.send(&id, &email))
            }
            Outgoing::Hook { hook } => {
                let Some((sealer, hooks)) = self.hooks.clone() else {
                    return Err(super::MailError("no hook transport in this process".into()));
                };
                let pool_id = message.pool_id.clone();
                let pool = self
                    .store
                    .run(move |conn| store::pools::get(conn, &pool_id))
                    .await
                    .map_err(|e| super::MailError(format!("pool unreadable: {e}")))?;
                let hook = hook.clone();
                Box::new(move || {
                    crate::flows::messages::deliver(&sealer, &hooks, &pool, &hook)
                        .map_err(super::MailError)
                })
            }
        };
        actix_web::rt::task::spawn_blocking(work)
            .await
            .unwrap_or_else(|panic| Err(super::MailError(format!("mailer panicked: {panic}"))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_five_minutes() {
        let delays: Vec<i64> = (1..=11).map(retry_delay).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
        assert_eq!(retry_delay(0), 1);
        assert_eq!(retry_delay(i32::MAX), 300);
    }

    #[test]
    fn a_message_is_given_up_on_after_a_day() {
        let created = 1_000_000;
        assert_eq!(next_attempt(created, 1, created), Some(created + 1));
        let late = created + GIVE_UP_SECONDS - 100;
        assert_eq!(next_attempt(created, 30, late), None);
        assert_eq!(next_attempt(created, 3, late), Some(late + 4));
    }
}
