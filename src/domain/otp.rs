//! OTP requests: channels, workflows, statuses, the state machine every status change goes
//! through ([`Transition`]), the request's limits and defaults, and the OTP itself ([`Otp`]).
use super::code::CodeType;
use super::ids::{AccountSid, OtpSid};
use super::problem::Problem;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

/// Allowed ranges `(min, max)` and defaults of a send's numbers.
pub const WORKFLOW_TIMEOUT_SECS: (i64, i64) = (15, 900);
pub const DEFAULT_WORKFLOW_TIMEOUT_SECS: i64 = 60;
pub const EXPIRY_SECS: (i64, i64) = (60, 86_400);
pub const DEFAULT_EXPIRY_SECS: i64 = 600;
pub const MAX_ATTEMPTS: (i64, i64) = (1, 10);
pub const DEFAULT_MAX_ATTEMPTS: i64 = 5;
pub const REPEAT: (i64, i64) = (1, 5);
pub const DEFAULT_REPEAT: i64 = 2;
pub const CODE_LENGTH: (i64, i64) = (super::code::MIN_LEN as i64, super::code::MAX_LEN as i64);
pub const DEFAULT_CODE_LENGTH: usize = 6;
/// Text lengths `(min, max)` in characters.
pub const SERVICE_CHARS: (usize, usize) = (1, 64);
pub const FROM_CHARS: (usize, usize) = (1, 32);
pub const SUBJECT_CHARS: (usize, usize) = (1, 200);
pub const REFERENCE_CHARS: (usize, usize) = (1, 128);
pub const CALLBACK_URL_CHARS: (usize, usize) = (1, 2048);
pub const CANCEL_REASON_CHARS: (usize, usize) = (1, 200);
/// Named limits one send may charge.
pub const MAX_LIMITS_PER_SEND: usize = 5;
/// The default text-to-speech language.
pub const DEFAULT_LANGUAGE: &str = "en-US";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Sms,
    Call,
    Email,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::Sms, Channel::Call, Channel::Email];

    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "sms" => Some(Channel::Sms),
            "call" | "voice" => Some(Channel::Call),
            "email" => Some(Channel::Email),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Call => "call",
            Channel::Email => "email",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Channel::Sms => "SMS",
            Channel::Call => "Voice",
            Channel::Email => "Email",
        }
    }

    /// Sms and call go to a phone number; email to an address.
    pub fn uses_phone(self) -> bool {
        matches!(self, Channel::Sms | Channel::Call)
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OtpStatus {
    /// Accepted, not yet accepted by a provider.
    Pending,
    /// A provider accepted the message.
    Sent,
    /// The provider reported delivery.
    Delivered,
    Verified,
    Expired,
    Canceled,
    /// Locked after too many wrong codes.
    MaxAttempts,
    /// Every channel failed.
    Failed,
    /// Refused by a limit: recorded, never delivered, never billed.
    Blocked,
}

impl OtpStatus {
    pub const ALL: [OtpStatus; 9] = [
        OtpStatus::Pending,
        OtpStatus::Sent,
        OtpStatus::Delivered,
        OtpStatus::Verified,
        OtpStatus::Expired,
        OtpStatus::Canceled,
        OtpStatus::MaxAttempts,
        OtpStatus::Failed,
        OtpStatus::Blocked,
    ];

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw.trim().to_ascii_lowercase())
    }

    pub fn as_str(self) -> &'static str {
        match self {
            OtpStatus::Pending => "pending",
            OtpStatus::Sent => "sent",
            OtpStatus::Delivered => "delivered",
            OtpStatus::Verified => "verified",
            OtpStatus::Expired => "expired",
            OtpStatus::Canceled => "canceled",
            OtpStatus::MaxAttempts => "max_attempts",
            OtpStatus::Failed => "failed",
            OtpStatus::Blocked => "blocked",
        }
    }

    /// The statuses that are still verifiable (if not past their expiry).
    pub const ACTIVE: [OtpStatus; 3] = [OtpStatus::Pending, OtpStatus::Sent, OtpStatus::Delivered];

    /// Still verifiable (if not past its expiry).
    pub fn is_active(self) -> bool {
        matches!(
            self,
            OtpStatus::Pending | OtpStatus::Sent | OtpStatus::Delivered
        )
    }

    pub fn is_final(self) -> bool {
        !self.is_active()
    }

    /// The state machine: every allowed transition, and no other.
    /// Active states move forward (pending → sent → delivered; a fallback to the next channel
    /// goes back to pending or stays) and end in exactly one final state; final states never change.
    pub fn can_become(self, next: OtpStatus) -> bool {
        use OtpStatus::*;
        match (self, next) {
            (Pending, Sent) | (Pending, Delivered) | (Sent, Delivered) => true,
            // Fallback: the next channel's attempt starts again from pending (also when the
            // attempt on this channel never left pending because it failed).
            (Pending, Pending) | (Sent, Pending) | (Delivered, Pending) => true,
            (Pending | Sent | Delivered, Verified | Expired | Canceled | MaxAttempts | Failed) => {
                true
            }
            _ => false,
        }
    }
}

impl fmt::Display for OtpStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The channels of one OTP, in the order they are tried: 1–3 distinct channels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workflow(Vec<Channel>);

/// Why a list of channels is not a workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkflowError {
    Empty,
    TooMany,
    Repeated,
}

impl Workflow {
    pub const MAX: usize = 3;

    pub fn single(channel: Channel) -> Self {
        Workflow(vec![channel])
    }

    pub fn new(channels: Vec<Channel>) -> Result<Self, WorkflowError> {
        if channels.is_empty() {
            return Err(WorkflowError::Empty);
        }
        if channels.len() > Self::MAX {
            return Err(WorkflowError::TooMany);
        }
        if channels
            .iter()
            .enumerate()
            .any(|(i, c)| channels[..i].contains(c))
        {
            return Err(WorkflowError::Repeated);
        }
        Ok(Workflow(channels))
    }

    pub fn channels(&self) -> &[Channel] {
        &self.0
    }

    pub fn first(&self) -> Channel {
        self.0[0]
    }

    /// The channel of step `step` (0-based).
    pub fn step(&self, step: usize) -> Option<Channel> {
        self.0.get(step).copied()
    }

    /// Is there a channel after step `step`?
    pub fn has_next(&self, step: usize) -> bool {
        step + 1 < self.0.len()
    }

    pub fn uses_phone(&self) -> bool {
        self.0.iter().any(|c| c.uses_phone())
    }

    pub fn uses_email(&self) -> bool {
        self.0.contains(&Channel::Email)
    }

    /// `sms,call`: how it is stored.
    pub fn to_text(&self) -> String {
        self.0
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The stored form back (unknown names are skipped; an empty list is `None`).
    pub fn from_text(raw: &str) -> Option<Self> {
        Workflow::new(raw.split(',').filter_map(Channel::parse).collect()).ok()
    }
}

/// A workflow from channel names as a caller lists them, or why not.
pub fn parse_workflow(items: &[String]) -> Result<Workflow, Problem> {
    if items.len() > Workflow::MAX {
        return Err(Problem::says("lists 1–3 channels."));
    }
    let mut channels = Vec::with_capacity(items.len());
    for item in items {
        let c = Channel::parse(item).ok_or_else(|| {
            Problem::sentence(format!(
                "workflow: unknown channel {item:?} (use sms, call, email)."
            ))
        })?;
        channels.push(c);
    }
    Workflow::new(channels).map_err(|e| match e {
        WorkflowError::Empty | WorkflowError::TooMany => Problem::says("lists 1–3 channels."),
        WorkflowError::Repeated => Problem::says("channels must be distinct."),
    })
}

/// The text-to-speech voice of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Voice {
    Man,
    #[default]
    Woman,
}

impl Voice {
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "man" => Ok(Voice::Man),
            "woman" => Ok(Voice::Woman),
            _ => Err(Problem::says("must be man or woman.")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Voice::Man => "man",
            Voice::Woman => "woman",
        }
    }
}

/// A BCP 47 tag (`pt-BR`), optionally engine-prefixed (`awspolly.ja-JP`).
pub fn parse_language(raw: &str) -> Result<String, Problem> {
    let bad = || {
        Problem::says(
            "must be a BCP 47 tag like en-US, optionally engine-prefixed like awspolly.ja-JP.",
        )
    };
    let tag = match raw.split_once('.') {
        Some((engine, tag))
            if !engine.is_empty() && engine.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            tag
        }
        Some(_) => return Err(bad()),
        None => raw,
    };
    let mut parts = tag.split('-');
    let primary = parts.next().unwrap_or("");
    let ok = (2..=3).contains(&primary.len())
        && primary.bytes().all(|b| b.is_ascii_alphabetic())
        && parts
            .all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
        && tag.len() <= 35;
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(bad())
    }
}

/// Every way an OTP's status changes, and the states each may start from. The database store
/// applies a transition as one guarded change (`… WHERE status IN from()`), with its timeline
/// event and status callback, so no status is ever written any other way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transition {
    /// A send is accepted: the OTP starts as `pending`.
    Send,
    /// A send is refused by a limit: the OTP is recorded as `blocked`, never delivered.
    Block,
    /// A provider took the message.
    Deliver,
    /// A provider (or the sandbox) reports the message delivered.
    ReportDelivered,
    /// A provider reports the message undelivered: the status stays until the next provider,
    /// channel or the failure moves it.
    ReportUndelivered,
    Verify,
    /// A wrong code: one attempt used, the status stays…
    WrongCode,
    /// …unless it was the last attempt.
    Lock,
    Expire,
    Cancel,
    /// Canceled because a newer OTP (or a verified one) took its place.
    Supersede,
    /// The delivery moves on to the next provider of the channel, or to the workflow's next
    /// channel (same code): a new attempt, pending again.
    Advance,
    /// Every channel failed.
    Fail,
}

impl Transition {
    pub const ALL: [Transition; 13] = [
        Transition::Send,
        Transition::Block,
        Transition::Deliver,
        Transition::ReportDelivered,
        Transition::ReportUndelivered,
        Transition::Verify,
        Transition::WrongCode,
        Transition::Lock,
        Transition::Expire,
        Transition::Cancel,
        Transition::Supersede,
        Transition::Advance,
        Transition::Fail,
    ];

    /// The states it applies to (none: it creates the OTP).
    pub fn from(self) -> &'static [OtpStatus] {
        use OtpStatus::*;
        match self {
            Transition::Send | Transition::Block => &[],
            Transition::Deliver => &[Pending],
            Transition::ReportDelivered => &[Pending, Sent],
            Transition::ReportUndelivered
            | Transition::Verify
            | Transition::WrongCode
            | Transition::Lock
            | Transition::Expire
            | Transition::Cancel
            | Transition::Supersede
            | Transition::Advance
            | Transition::Fail => &OtpStatus::ACTIVE,
        }
    }

    /// The state it leads to (`None`: the status stays as it is).
    pub fn to(self) -> Option<OtpStatus> {
        use OtpStatus::*;
        match self {
            Transition::Send | Transition::Advance => Some(Pending),
            Transition::Block => Some(Blocked),
            Transition::Deliver => Some(Sent),
            Transition::ReportDelivered => Some(Delivered),
            Transition::ReportUndelivered | Transition::WrongCode => None,
            Transition::Verify => Some(Verified),
            Transition::Lock => Some(MaxAttempts),
            Transition::Expire => Some(Expired),
            Transition::Cancel | Transition::Supersede => Some(Canceled),
            Transition::Fail => Some(Failed),
        }
    }
}

/// An HMAC of an OTP's code (never the code). Deliberately neither printable nor serializable.
#[derive(Clone, PartialEq, Eq)]
pub struct CodeHash(pub String);

impl fmt::Debug for CodeHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CodeHash(…)")
    }
}

/// One OTP request as the use cases see it.
#[derive(Debug, Clone)]
pub struct Otp {
    pub sid: OtpSid,
    pub account_sid: AccountSid,
    pub service: String,
    pub reference: Option<String>,
    /// The channel of the current workflow step.
    pub channel: Channel,
    pub workflow: Workflow,
    /// The current workflow step (0-based).
    pub step: usize,
    pub workflow_timeout_secs: i64,
    pub to: Option<String>,
    pub from: Option<String>,
    pub email_to: Option<String>,
    pub email_from: Option<String>,
    pub subject: Option<String>,
    pub body: Option<String>,
    pub country_code: Option<String>,
    pub language: String,
    pub voice: Voice,
    pub repeat: i64,
    pub code_hash: CodeHash,
    pub code_length: i64,
    pub code_type: CodeType,
    pub expires_at: Millis,
    pub max_attempts: i64,
    pub verify_attempts: i64,
    pub status: OtpStatus,
    pub cancel_reason: Option<String>,
    pub status_callback: Option<String>,
    /// The named limits charged: (limit name, key), by name.
    pub limits: Vec<(String, String)>,
    /// In millionths of `price_unit`.
    pub price_micros: i64,
    pub price_unit: String,
    pub date_created: Millis,
    pub date_updated: Millis,
    pub sent_at: Option<Millis>,
    pub delivered_at: Option<Millis>,
    pub verified_at: Option<Millis>,
    pub canceled_at: Option<Millis>,
}

impl Otp {
    /// Wrong codes still allowed (none once locked).
    pub fn attempts_left(&self) -> i64 {
        if self.status == OtpStatus::MaxAttempts {
            0
        } else {
            (self.max_attempts - self.verify_attempts).max(0)
        }
    }

    /// The phone number or email address the code goes to.
    pub fn destination(&self) -> Option<&str> {
        self.to.as_deref().or(self.email_to.as_deref())
    }

    pub fn has_callback(&self) -> bool {
        self.status_callback.is_some()
    }

    /// The code's lifetime in whole minutes (at least 1), as `{ttl}` in templates.
    pub fn ttl_minutes(&self) -> u64 {
        ((self.expires_at - self.date_created) / 60_000).max(1) as u64
    }
}

/// What a send answered, kept with its `Idempotency-Key` so that a retry gets the same answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendReceipt {
    /// Accepted as `pending`.
    Accepted {
        request_id: OtpSid,
        channel: Channel,
        to: Option<String>,
        email_to: Option<String>,
        expires_at: Millis,
        attempts_left: i64,
    },
    /// Refused by a named limit (and recorded as `blocked`).
    Blocked {
        request_id: OtpSid,
        limit: String,
        bucket: String,
        retry_after: i64,
    },
    /// Refused by the fraud guard: the number's prefix is blocked (recorded as `blocked`).
    FraudBlocked {
        request_id: OtpSid,
        prefix: String,
        retry_after: i64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use OtpStatus::*;

    #[test]
    fn statuses_round_trip() {
        for s in OtpStatus::ALL {
            assert_eq!(OtpStatus::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        assert_eq!(OtpStatus::parse("MAX_ATTEMPTS"), Some(MaxAttempts));
        assert_eq!(OtpStatus::parse("done"), None);
    }

    #[test]
    fn channels_parse() {
        assert_eq!(Channel::parse("SMS"), Some(Channel::Sms));
        assert_eq!(Channel::parse("call"), Some(Channel::Call));
        assert_eq!(Channel::parse("email"), Some(Channel::Email));
        assert_eq!(Channel::parse("fax"), None);
        assert!(Channel::Call.uses_phone() && !Channel::Email.uses_phone());
    }

    #[test]
    fn exactly_the_allowed_transitions() {
        let allowed = [
            (Pending, Pending),
            (Pending, Sent),
            (Pending, Delivered),
            (Sent, Delivered),
            (Sent, Pending),
            (Delivered, Pending),
        ];
        let finals = [Verified, Expired, Canceled, MaxAttempts, Failed];
        for from in OtpStatus::ALL {
            for to in OtpStatus::ALL {
                let expected =
                    allowed.contains(&(from, to)) || (from.is_active() && finals.contains(&to));
                assert_eq!(from.can_become(to), expected, "{from} -> {to}");
            }
        }
        // Final states never change; blocked is only ever a starting state.
        for f in finals.iter().chain([Blocked].iter()) {
            assert!(OtpStatus::ALL.iter().all(|t| !f.can_become(*t)));
            assert!(!Pending.can_become(Blocked));
        }
    }

    #[test]
    fn every_transition_is_one_the_state_machine_allows() {
        for t in Transition::ALL {
            match t.to() {
                Some(to) if t.from().is_empty() => {
                    // Creations: the only ways an OTP starts.
                    assert!(matches!(to, Pending | Blocked), "{t:?}");
                }
                Some(to) => {
                    for from in t.from() {
                        assert!(from.can_become(to), "{t:?}: {from} -> {to}");
                    }
                }
                None => {
                    // The status stays: only active OTPs record such changes.
                    assert!(
                        !t.from().is_empty() && t.from().iter().all(|f| f.is_active()),
                        "{t:?}"
                    );
                }
            }
        }
        // Every final status is reached by some transition, and every allowed change between
        // two states is some transition's.
        for from in OtpStatus::ALL {
            for to in OtpStatus::ALL {
                if from.can_become(to) {
                    assert!(
                        Transition::ALL
                            .iter()
                            .any(|t| t.from().contains(&from) && t.to() == Some(to)),
                        "{from} -> {to} has no transition"
                    );
                }
            }
        }
    }

    #[test]
    fn workflows() {
        let w = Workflow::new(vec![Channel::Sms, Channel::Email]).unwrap();
        assert_eq!(w.to_text(), "sms,email");
        assert_eq!(Workflow::from_text("sms,email"), Some(w.clone()));
        assert!(w.has_next(0) && !w.has_next(1));
        assert!(w.uses_phone() && w.uses_email());
        assert_eq!(Workflow::new(vec![]), Err(WorkflowError::Empty));
        assert_eq!(
            Workflow::new(vec![Channel::Sms, Channel::Sms]),
            Err(WorkflowError::Repeated)
        );
        assert_eq!(
            Workflow::new(vec![
                Channel::Sms,
                Channel::Call,
                Channel::Email,
                Channel::Sms
            ]),
            Err(WorkflowError::TooMany)
        );
    }

    #[test]
    fn languages_and_voices() {
        assert!(parse_language("awspolly.ja-JP").is_ok() && parse_language("pt-BR").is_ok());
        assert!(parse_language("e").is_err() && parse_language("english!").is_err());
        assert_eq!(Voice::parse("MAN"), Ok(Voice::Man));
        assert!(Voice::parse("robot").is_err());
    }
}
