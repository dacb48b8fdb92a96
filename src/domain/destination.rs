//! Where an OTP goes: a phone destination (sms, call) or an email address. OTPs are grouped by
//! destination for superseding, verifying and destination protection.
use super::phone::PhoneDestination;
use super::EmailAddress;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    Phone(PhoneDestination),
    Email(EmailAddress),
}

impl Destination {
    pub fn as_str(&self) -> &str {
        match self {
            Destination::Phone(p) => p.as_str(),
            Destination::Email(e) => e.as_str(),
        }
    }

    pub fn is_phone(&self) -> bool {
        matches!(self, Destination::Phone(_))
    }
}
