//! Changes to a set of OTPs, written into a [`Script`] so that a whole use case (its status
//! change, timeline events, callbacks and jobs) reaches the database in one step.
//!
//! An [`Otps`] is a condition on `otps` rows. Everything that belongs to a status change is
//! pushed *before* the change and on the change's own condition, so it happens exactly for the
//! rows the change then moves (the statements in between never touch `otps`):
//! ```text
//! let moving = Otps::one(sid).and("status IN ('pending', 'sent', 'delivered')", args![]);
//! moving.event(&mut s, now, VERIFIED, &detail);   // only if it is still active
//! moving.update(&mut s, "status = 'verified', verified_at = $1", args![now]);  // last
//! ```
//! A final status also deletes the OTP's sealed code: a trigger does that (migration 0008).
use crate::args;
use crate::server::db::script::{renumber, Arg, Script};
use crate::server::services::otp::events::detail_text;
use serde_json::Value;

#[derive(Debug, Clone)]
pub struct Otps {
    /// A condition over `otps` with parameters `$1…`.
    cond: String,
    args: Vec<Arg>,
}

impl Otps {
    /// The OTP with this sid.
    pub fn one(sid: &str) -> Self {
        Otps {
            cond: "sid = $1".into(),
            args: args![sid],
        }
    }

    /// The OTPs of one account, service and destination (`to_number` or `email_to`).
    pub fn of_destination(account: &str, service: &str, column: &str, value: &str) -> Self {
        debug_assert!(column == "to_number" || column == "email_to");
        Otps {
            cond: format!("account_sid = $1 AND service = $2 AND {column} = $3"),
            args: args![account, service, value],
        }
    }

    /// Narrows the set: `cond` has its own `$1…`.
    pub fn and(mut self, cond: &str, args: Vec<Arg>) -> Self {
        self.cond = format!("{} AND {}", self.cond, renumber(cond, self.args.len()));
        self.args.extend(args);
        self
    }

    /// `sql` with `{where}` replaced by the condition; `extra` values follow the condition's.
    fn push(&self, s: &mut Script, sql: &str, extra: Vec<Arg>) {
        let n = self.args.len();
        let sql = renumber(sql, n).replace("{where}", &self.cond);
        let mut args = self.args.clone();
        args.extend(extra);
        s.push(sql, args);
    }

    /// One timeline event per OTP of the set.
    pub fn event(&self, s: &mut Script, at: i64, kind: &str, detail: &Value) {
        self.push(
            s,
            "INSERT INTO otp_events (otp_sid, at, type, detail) SELECT sid, $1, $2, $3 FROM otps WHERE {where}",
            args![at, kind, detail_text(detail)],
        );
    }

    /// A status callback (for `status`, the status the change moves them to) for each OTP of
    /// the set that has a callback URL.
    pub fn callback(&self, s: &mut Script, at: i64, status: &str) {
        self.push(
            s,
            "INSERT INTO jobs (kind, otp_sid, step, run_at, created_at, payload) \
             SELECT 'callback', sid, 0, $1, $1, $2 FROM otps WHERE {where} AND status_callback IS NOT NULL",
            args![at, status],
        );
    }

    /// A job for each OTP of the set.
    pub fn job(&self, s: &mut Script, kind: &str, step: i32, run_at: i64) {
        self.push(
            s,
            "INSERT INTO jobs (kind, otp_sid, step, run_at) SELECT $1, sid, $2, $3 FROM otps WHERE {where}",
            args![kind, step, run_at],
        );
    }

    /// The change itself: `set` has its own `$1…`. Push it after what depends on it.
    pub fn update(&self, s: &mut Script, set: &str, args: Vec<Arg>) {
        self.push(s, &format!("UPDATE otps SET {set} WHERE {{where}}"), args);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_and_values_line_up() {
        let set =
            Otps::one("OTP1").and("status IN ('pending') AND workflow_index = $1", args![2i32]);
        let mut s = Script::new();
        set.event(&mut s, 7, "x", &Value::Null);
        set.update(
            &mut s,
            "status = $1, date_updated = $2",
            args!["sent", 7i64],
        );
        let text = format!("{s:?}");
        assert!(text.contains("SELECT sid, $3, $4, $5 FROM otps WHERE sid = $1 AND status IN ('pending') AND workflow_index = $2"), "{text}");
        assert!(text.contains("UPDATE otps SET status = $3, date_updated = $4 WHERE sid = $1 AND status IN ('pending') AND workflow_index = $2"), "{text}");
    }
}
