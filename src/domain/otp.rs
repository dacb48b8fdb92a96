//! OTP requests: channels, statuses and the state machine every status change goes through.
use serde::{Deserialize, Serialize};
use std::fmt;

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
            // Fallback: a new channel's attempt starts again from pending.
            (Sent, Pending) | (Delivered, Pending) => true,
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
}
