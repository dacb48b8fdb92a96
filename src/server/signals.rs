//! In-process wake-ups: delivery workers are woken when jobs were committed here, and readers
//! waiting for a sandbox message are woken when a message they wait for was stored here.
//! (Other processes' work is seen by polling.)
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

#[derive(Default)]
pub struct Signals {
    work: Notify,
    /// Readers waiting for sandbox messages, by what they wait for: an OTP's sid, or an
    /// account's sid when they wait for any of its messages. A delivery wakes only these two
    /// keys' readers (waking every reader made each delivery cost a query per waiting reader).
    waiting: Mutex<HashMap<String, Arc<Notify>>>,
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

    /// A sandbox message of OTP `otp` in `account` was stored: its readers look again.
    pub fn message_stored(&self, account: &str, otp: &str) {
        let waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        for key in [otp, account] {
            if let Some(notify) = waiting.get(key) {
                notify.notify_waiters();
            }
        }
    }

    /// Registers a reader waiting for messages of `key` (an OTP's or an account's sid) until the
    /// watch is dropped.
    pub fn watch(&self, key: &str) -> MessageWatch<'_> {
        let notify = self
            .waiting
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key.to_owned())
            .or_default()
            .clone();
        MessageWatch {
            signals: self,
            key: key.to_owned(),
            notify,
        }
    }

    /// Keys with at least one waiting reader (tests).
    pub fn watched(&self) -> usize {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

/// A reader's registration with [`Signals::watch`].
pub struct MessageWatch<'a> {
    signals: &'a Signals,
    key: String,
    notify: Arc<Notify>,
}

impl MessageWatch<'_> {
    /// Resolves at the next [`Signals::message_stored`] for the key (enable it before looking,
    /// so a message stored in between is not missed).
    pub fn stored(&self) -> tokio::sync::futures::Notified<'_> {
        self.notify.notified()
    }
}

impl Drop for MessageWatch<'_> {
    fn drop(&mut self) {
        let mut waiting = self
            .signals
            .waiting
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        // The map's and this watch's references: nobody else waits for the key.
        if waiting
            .get(&self.key)
            .is_some_and(|n| Arc::ptr_eq(n, &self.notify) && Arc::strong_count(n) == 2)
        {
            waiting.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    fn ready<F: Future>(f: std::pin::Pin<&mut F>) -> bool {
        matches!(
            f.poll(&mut Context::from_waker(Waker::noop())),
            Poll::Ready(_)
        )
    }

    #[test]
    fn a_stored_message_wakes_only_its_otps_and_its_accounts_readers() {
        let signals = Signals::default();
        let (otp_a, otp_b, account) = (
            signals.watch("OTPa"),
            signals.watch("OTPb"),
            signals.watch("ACx"),
        );
        let mut a = pin!(otp_a.stored());
        let mut b = pin!(otp_b.stored());
        let mut acc = pin!(account.stored());
        for f in [a.as_mut(), b.as_mut()] {
            f.enable();
        }
        acc.as_mut().enable();
        signals.message_stored("ACx", "OTPa");
        assert!(ready(a.as_mut()));
        assert!(!ready(b.as_mut()));
        assert!(ready(acc.as_mut()));
        // Another account's message wakes nobody here.
        let mut b2 = pin!(otp_b.stored());
        b2.as_mut().enable();
        signals.message_stored("ACy", "OTPc");
        assert!(!ready(b2.as_mut()));
    }

    #[test]
    fn keys_are_forgotten_when_their_last_reader_leaves() {
        let signals = Signals::default();
        let first = signals.watch("OTPa");
        let second = signals.watch("OTPa");
        assert_eq!(signals.watched(), 1);
        drop(first);
        assert_eq!(signals.watched(), 1);
        drop(second);
        assert_eq!(signals.watched(), 0);
    }
}
