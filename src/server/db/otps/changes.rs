//! Changes to OTPs that commit together: status transitions with their timeline events, status
//! callbacks and jobs, delivery attempts, outbox messages and job completions, written into one
//! [`Script`] so that a whole use case reaches the database in one step (and, on SQLite, in one
//! group commit).
//!
//! A [`Selection`] is a condition on `otps` rows. A transition narrows it to the rows still in
//! one of the transition's starting states ([`Transition::from`]) and pushes everything that
//! belongs to the change *before* the change and on the change's own condition, so it happens
//! exactly for the rows the change then moves (the statements in between never touch `otps`).
//! A final status also deletes the OTP's sealed code: a trigger does that (migration 0008).
use super::status_in;
use crate::args;
use crate::domain::timeline::{CallbackAnswer, OtpEvent};
use crate::domain::{AccountSid, Channel, Otp, OtpSid, OtpStatus, Transition};
use crate::server::clock::{rfc3339, Millis};
use crate::server::db::jobs::JobKind;
use crate::server::db::script::{renumber, Arg, Script};
use serde_json::{json, Value};

/// A set of OTPs, as a condition with parameters `$1…`.
#[derive(Debug, Clone)]
pub struct Selection {
    cond: String,
    args: Vec<Arg>,
}

impl Selection {
    /// The OTP with this sid.
    pub fn one(sid: &OtpSid) -> Self {
        Selection {
            cond: "sid = $1".into(),
            args: args![sid.as_str()],
        }
    }

    /// The OTPs of one account, service and destination.
    pub fn destination(
        account: &AccountSid,
        service: &str,
        destination: &crate::domain::destination::Destination,
    ) -> Self {
        Self::by_column(
            account,
            service,
            super::destination_column(destination),
            destination.as_str(),
        )
    }

    /// The OTPs of the same account, service and destination as `otp`.
    pub fn same_destination(otp: &Otp) -> Self {
        match (&otp.to, &otp.email_to) {
            (Some(to), _) => Self::by_column(&otp.account_sid, &otp.service, "to_number", to),
            (None, Some(e)) => Self::by_column(&otp.account_sid, &otp.service, "email_to", e),
            (None, None) => Self::one(&otp.sid),
        }
    }

    fn by_column(account: &AccountSid, service: &str, column: &str, value: &str) -> Self {
        Selection {
            cond: format!("account_sid = $1 AND service = $2 AND {column} = $3"),
            args: args![account.as_str(), service, value],
        }
    }

    /// Narrows the set: `cond` has its own `$1…`.
    fn and(mut self, cond: &str, args: Vec<Arg>) -> Self {
        self.cond = format!("{} AND {}", self.cond, renumber(cond, self.args.len()));
        self.args.extend(args);
        self
    }

    /// Not yet past their expiry at `now`.
    pub fn unexpired(self, now: Millis) -> Self {
        self.and("expires_at > $1", args![now])
    }

    /// Past their expiry at `now`.
    pub fn overdue(self, now: Millis) -> Self {
        self.and("expires_at <= $1", args![now])
    }

    /// Still on this workflow step.
    pub fn on_step(self, step: usize) -> Self {
        self.and("workflow_index = $1", args![step as i32])
    }

    /// Unless a receipt has already failed the delivery attempt `key` (the OTP then moved on
    /// without it).
    pub fn unless_attempt_failed(self, key: &str) -> Self {
        self.and(
            "NOT EXISTS (SELECT 1 FROM delivery_attempts a WHERE a.delivery_key = $1 AND a.status IN ('failed', 'undelivered'))",
            args![key],
        )
    }

    /// All but `sid`, and only while `sid` can still be verified at `now` (the others of a
    /// destination are superseded exactly when `sid` is verified in the same script).
    pub fn besides_verifiable(self, sid: &OtpSid, now: Millis) -> Self {
        let verifiable = status_in(Transition::Verify.from());
        self.and(
            &format!(
                "sid <> $1 AND EXISTS (SELECT 1 FROM otps v WHERE v.sid = $1 AND v.{verifiable} AND v.expires_at > $2)"
            ),
            args![sid.as_str(), now],
        )
    }

    fn in_states(self, states: &[OtpStatus]) -> Self {
        if states.is_empty() {
            return self;
        }
        let cond = status_in(states);
        self.and(&cond, Vec::new())
    }

    /// `sql` with `{where}` replaced by the condition; `extra` values follow the condition's.
    fn push(&self, s: &mut Script, sql: &str, extra: Vec<Arg>) {
        let sql = renumber(sql, self.args.len()).replace("{where}", &self.cond);
        let mut args = self.args.clone();
        args.extend(extra);
        s.push(sql, args);
    }
}

/// A transition with what it sets besides the status.
#[derive(Debug, Clone)]
pub enum Move<'a> {
    /// The provider took the message.
    Deliver,
    /// Delivered (by the sandbox at once, or as a provider reports it).
    ReportDelivered,
    Verify,
    Expire,
    Cancel {
        reason: &'a str,
    },
    Supersede,
    /// On to the workflow's next step, on `channel`.
    Advance {
        step: usize,
        channel: Channel,
    },
    /// The same step again through another provider: waiting for that attempt.
    Failover,
    Fail,
}

impl Move<'_> {
    pub fn transition(&self) -> Transition {
        match self {
            Move::Deliver => Transition::Deliver,
            Move::ReportDelivered => Transition::ReportDelivered,
            Move::Verify => Transition::Verify,
            Move::Expire => Transition::Expire,
            Move::Cancel { .. } => Transition::Cancel,
            Move::Supersede => Transition::Supersede,
            Move::Advance { .. } | Move::Failover => Transition::Advance,
            Move::Fail => Transition::Fail,
        }
    }

    /// The SET clause (with its own `$1…`) and its values.
    fn set(&self, now: Millis) -> (String, Vec<Arg>) {
        let to = self
            .transition()
            .to()
            .expect("every move changes the status")
            .as_str();
        match self {
            Move::Deliver => (
                format!("status = '{to}', sent_at = COALESCE(sent_at, $1), date_updated = $1"),
                args![now],
            ),
            Move::ReportDelivered => (
                format!("status = '{to}', sent_at = COALESCE(sent_at, $1), delivered_at = $1, date_updated = $1"),
                args![now],
            ),
            Move::Verify => (
                format!("status = '{to}', verified_at = $1, date_updated = $1"),
                args![now],
            ),
            Move::Expire | Move::Fail | Move::Failover => {
                (format!("status = '{to}', date_updated = $1"), args![now])
            }
            Move::Cancel { reason } => (
                format!("status = '{to}', cancel_reason = $1, canceled_at = $2, date_updated = $2"),
                args![*reason, now],
            ),
            Move::Supersede => (
                format!("status = '{to}', cancel_reason = 'superseded', canceled_at = $1, date_updated = $1"),
                args![now],
            ),
            Move::Advance { step, channel } => (
                format!("workflow_index = $1, channel = $2, status = '{to}', date_updated = $3"),
                args![*step as i32, channel.as_str(), now],
            ),
        }
    }
}

/// Changes that commit together. Build them, then [`OtpChanges::commit`].
#[derive(Debug, Default)]
pub struct OtpChanges {
    pub(crate) script: Script,
}

/// Which statement of the changes moved the OTPs of a transition (its rows tell how many).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied(usize);

/// What the changes did: the rows each statement changed.
#[derive(Debug)]
pub struct Committed(Vec<u64>);

impl Committed {
    /// How many OTPs the transition moved.
    pub fn moved(&self, applied: Applied) -> u64 {
        self.0.get(applied.0).copied().unwrap_or(0)
    }
}

/// What goes with one transition: built by [`OtpChanges::apply`], written by [`Apply::push`].
pub struct Apply<'c, 'm> {
    changes: &'c mut OtpChanges,
    selection: Selection,
    /// `None`: no status change; what goes with it happens for the active OTPs of the selection.
    movement: Option<Move<'m>>,
    at: Millis,
    events: Vec<OtpEvent>,
    callback: bool,
    jobs: Vec<(JobKind, usize, Millis, Option<String>)>,
}

impl Apply<'_, '_> {
    /// A timeline event for each OTP that moves.
    pub fn event(mut self, e: OtpEvent) -> Self {
        self.events.push(e);
        self
    }

    /// A status callback for each OTP that moves and has a callback URL (`false` skips the
    /// statement altogether, for an OTP known to have none).
    pub fn callback(mut self, wanted: bool) -> Self {
        self.callback = wanted;
        self
    }

    /// A job for each OTP that moves.
    pub fn job(mut self, kind: JobKind, step: usize, run_at: Millis) -> Self {
        self.jobs.push((kind, step, run_at, None));
        self
    }

    /// A delivery job through the channel's provider number `provider` (0: the first).
    pub fn delivery(mut self, step: usize, provider: usize, run_at: Millis) -> Self {
        let payload = (provider > 0).then(|| provider.to_string());
        self.jobs.push((JobKind::Deliver, step, run_at, payload));
        self
    }

    /// Writes events, callback and jobs, then the change itself (last).
    pub fn push(self) -> Applied {
        let t = self.movement.as_ref().map(Move::transition);
        let moving = self
            .selection
            .in_states(t.map_or(&OtpStatus::ACTIVE[..], |t| t.from()));
        let s = &mut self.changes.script;
        for e in &self.events {
            moving.push(
                s,
                "INSERT INTO otp_events (otp_sid, at, type, detail) SELECT sid, $1, $2, $3 FROM otps WHERE {where}",
                args![self.at, e.kind(), detail(e)],
            );
        }
        if let (true, Some(t)) = (self.callback, t) {
            let to = t.to().map(OtpStatus::as_str).unwrap_or_default();
            moving.push(
                s,
                &format!(
                    "INSERT INTO jobs (kind, otp_sid, account_sid, step, run_at, created_at, payload) \
                     SELECT '{}', sid, account_sid, 0, $1, $1, $2 FROM otps WHERE {{where}} AND status_callback IS NOT NULL",
                    JobKind::Callback.as_str()
                ),
                args![self.at, to],
            );
        }
        for (kind, step, run_at, payload) in &self.jobs {
            moving.push(
                s,
                "INSERT INTO jobs (kind, otp_sid, account_sid, step, run_at, payload) SELECT $1, sid, account_sid, $2, $3, $4 FROM otps WHERE {where}",
                args![kind.as_str(), *step as i32, *run_at, payload.as_deref()],
            );
        }
        if let Some(movement) = &self.movement {
            let (set, values) = movement.set(self.at);
            moving.push(s, &format!("UPDATE otps SET {set} WHERE {{where}}"), values);
        }
        Applied(s.len() - 1)
    }
}

impl OtpChanges {
    pub fn new() -> Self {
        Self::default()
    }

    /// The transition of `movement` for the OTPs of `selection` that are still in one of its
    /// starting states when the changes run.
    pub fn apply<'c, 'm>(
        &'c mut self,
        selection: Selection,
        movement: Move<'m>,
        at: Millis,
    ) -> Apply<'c, 'm> {
        Apply {
            changes: self,
            selection,
            movement: Some(movement),
            at,
            events: Vec::new(),
            callback: true,
            jobs: Vec::new(),
        }
    }

    /// Events and jobs for the OTPs of `selection` that are still active, without a status
    /// change (no callback: nothing changed that a callback would tell).
    pub fn while_active<'c>(&'c mut self, selection: Selection, at: Millis) -> Apply<'c, 'static> {
        Apply {
            changes: self,
            selection,
            movement: None,
            at,
            events: Vec::new(),
            callback: false,
            jobs: Vec::new(),
        }
    }

    /// A timeline event for `sid`, whatever its status (retries, failed attempts, callbacks).
    pub fn event(&mut self, sid: &OtpSid, at: Millis, e: &OtpEvent) {
        push_event(&mut self.script, sid.as_str(), at, e);
    }

    /// A delivery attempt's record.
    pub fn attempt(&mut self, sid: &OtpSid, attempt: &NewAttempt<'_>, at: Millis) {
        self.script.push(
            "INSERT INTO delivery_attempts (otp_sid, channel, provider, provider_sid, status, error, date_created) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            args![
                sid.as_str(),
                attempt.channel.as_str(),
                attempt.provider,
                attempt.provider_sid,
                attempt.status,
                attempt.error,
                at
            ],
        );
    }

    /// Appends raw statements of another table family (the sandbox outbox, jobs).
    pub(crate) fn extend(&mut self, other: Script) {
        self.script.extend(other);
    }

    pub fn is_empty(&self) -> bool {
        self.script.is_empty()
    }

    /// Commits every change as one transaction (with others waiting at the same moment, on
    /// SQLite). An error means none of it was written.
    pub async fn commit(self, db: &crate::server::db::Db) -> anyhow::Result<Committed> {
        Ok(Committed(
            crate::server::db::commit_script(db, self.script).await?,
        ))
    }
}

/// One delivery attempt: which provider took (or refused) which channel's message.
#[derive(Debug, Clone)]
pub struct NewAttempt<'a> {
    pub channel: Channel,
    pub provider: &'a str,
    pub provider_sid: Option<&'a str>,
    /// `sent`, `delivered` or `failed`.
    pub status: &'a str,
    pub error: Option<&'a str>,
}

/// One event, inserted as is (for a row known to exist).
pub(crate) fn push_event(s: &mut Script, sid: &str, at: Millis, e: &OtpEvent) {
    s.push(
        "INSERT INTO otp_events (otp_sid, at, type, detail) VALUES ($1, $2, $3, $4)",
        args![sid, at, e.kind(), detail(e)],
    );
}

/// A status callback for the OTP's current status, if it has a callback URL.
pub(crate) fn push_callback(s: &mut Script, sid: &str, at: Millis) {
    s.push(
        format!(
            "INSERT INTO jobs (kind, otp_sid, account_sid, step, run_at, created_at, payload) \
             SELECT '{}', sid, account_sid, 0, $1, $1, status FROM otps WHERE sid = $2 AND status_callback IS NOT NULL",
            JobKind::Callback.as_str()
        ),
        args![at, sid],
    );
}

/// An event's details as stored (the SDR shows them as they are).
pub(crate) fn detail(e: &OtpEvent) -> String {
    let v = match e {
        OtpEvent::Created {
            channel,
            workflow,
            expires_at,
            max_attempts,
            reference,
        } => json!({
            "channel": channel.as_str(),
            "workflow": workflow,
            "expiresAt": rfc3339(*expires_at),
            "maxAttempts": max_attempts,
            "reference": reference,
        }),
        OtpEvent::LimitCheck { limit, key, full } => {
            json!({"limit": limit, "key": key, "result": if *full { "full" } else { "ok" }})
        }
        OtpEvent::Blocked {
            limit,
            bucket,
            retry_after,
        } => json!({"limit": limit, "bucket": bucket, "retryAfter": retry_after}),
        OtpEvent::FraudGuard {
            decision,
            prefix,
            reason,
            until,
        } => {
            let mut v = json!({"decision": decision.as_str(), "prefix": prefix, "reason": reason});
            if let Some(u) = until {
                v["until"] = Value::from(rfc3339(*u));
            }
            v
        }
        OtpEvent::Superseded { by } => json!({"reason": "superseded", "by": by.as_str()}),
        OtpEvent::AttemptSent {
            channel,
            provider,
            provider_sid,
        } => {
            json!({"channel": channel.as_str(), "provider": provider, "providerSid": provider_sid})
        }
        OtpEvent::DeliveryReport {
            channel,
            status,
            provider,
            reported,
            error,
        } => {
            let mut v = json!({"channel": channel.as_str(), "status": status});
            for (k, x) in [
                ("provider", provider),
                ("reported", reported),
                ("error", error),
            ] {
                if let Some(x) = x {
                    v[k] = Value::from(x.as_str());
                }
            }
            v
        }
        OtpEvent::Failover {
            channel,
            from,
            to,
            reason,
        } => json!({"channel": channel.as_str(), "from": from, "to": to, "reason": reason}),
        OtpEvent::ReceiptRefused { provider, reason } => {
            json!({"provider": provider, "reason": reason})
        }
        OtpEvent::DeliveryFailed {
            channel,
            provider,
            error,
        } => json!({"channel": channel.as_str(), "provider": provider, "error": error}),
        OtpEvent::DeliveryRetry {
            channel,
            provider,
            error,
            try_no,
            retry_at,
        } => {
            json!({"channel": channel.as_str(), "provider": provider, "error": error, "try": try_no, "retryAt": rfc3339(*retry_at)})
        }
        OtpEvent::Fallback { from, to, reason } => {
            json!({"from": from.as_str(), "to": to.as_str(), "reason": reason})
        }
        OtpEvent::Failed {
            last_channel,
            error,
        } => json!({"lastChannel": last_channel.as_str(), "error": error}),
        OtpEvent::VerifyFailed { attempts_left } => json!({"attemptsLeft": attempts_left}),
        OtpEvent::Verified | OtpEvent::Expired => return "{}".into(),
        OtpEvent::Locked { attempts } => json!({"attempts": attempts}),
        OtpEvent::Canceled { reason, by } => json!({"reason": reason, "by": by}),
        OtpEvent::Callback {
            status,
            url,
            answer,
            try_no,
            will_retry,
        } => {
            let answer = match answer {
                CallbackAnswer::Status(code) => Value::from(*code),
                CallbackAnswer::Timeout => Value::from("timeout"),
                CallbackAnswer::ConnectionFailed => Value::from("connection failed"),
                CallbackAnswer::Refused => Value::from("refused: internal address"),
            };
            json!({"status": status, "url": url, "answer": answer, "try": try_no, "willRetry": will_retry})
        }
    };
    v.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transition_guards_every_statement_with_its_starting_states() {
        let sid = OtpSid::parse(&format!("OTP{}", "a".repeat(32))).unwrap();
        let mut c = OtpChanges::new();
        let applied = c
            .apply(Selection::one(&sid).on_step(2), Move::Deliver, 7)
            .event(OtpEvent::Verified)
            .push();
        // The event, the callback, then the change itself.
        assert_eq!(applied, Applied(2));
        let text = format!("{:?}", c.script);
        assert!(text.contains("SELECT sid, $3, $4, $5 FROM otps WHERE sid = $1 AND workflow_index = $2 AND status IN ('pending')"), "{text}");
        assert!(text.contains("UPDATE otps SET status = 'sent', sent_at = COALESCE(sent_at, $3), date_updated = $3 WHERE sid = $1 AND workflow_index = $2 AND status IN ('pending')"), "{text}");
        assert!(
            text.contains("SELECT 'callback', sid, account_sid, 0, $3, $3, $4"),
            "{text}"
        );
    }

    #[test]
    fn events_are_stored_as_the_timeline_shows_them() {
        assert_eq!(detail(&OtpEvent::Verified), "{}");
        assert_eq!(
            detail(&OtpEvent::VerifyFailed { attempts_left: 4 }),
            r#"{"attemptsLeft":4}"#
        );
        assert_eq!(
            detail(&OtpEvent::Callback {
                status: "verified".into(),
                url: "https://x".into(),
                answer: CallbackAnswer::Timeout,
                try_no: 1,
                will_retry: true
            }),
            r#"{"answer":"timeout","status":"verified","try":1,"url":"https://x","willRetry":true}"#
        );
    }
}
