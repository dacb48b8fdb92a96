//! In-process wake-ups: delivery workers are woken when jobs were committed here, and readers
//! waiting for a sandbox message look again after deliveries ran here. (Other processes' work
//! is seen by polling.)
use tokio::sync::Notify;

#[derive(Default)]
pub struct Signals {
    work: Notify,
    delivered: Notify,
}

impl Signals {
    /// New jobs were committed: wake one idle worker task (or leave it a permit when all are
    /// busy: the next to finish a pass claims again at once). Waking all of them made every
    /// send cost several claims.
    pub fn jobs_committed(&self) {
        self.work.notify_one();
    }

    /// Resolves when [`Signals::jobs_committed`] was called.
    pub async fn work(&self) {
        self.work.notified().await
    }

    /// Deliveries ran: every waiting reader looks again.
    pub fn deliveries_ran(&self) {
        self.delivered.notify_waiters();
    }

    /// Listens for the next [`Signals::deliveries_ran`] (enable it before looking, so a delivery
    /// in between is not missed).
    pub fn delivery(&self) -> tokio::sync::futures::Notified<'_> {
        self.delivered.notified()
    }
}
