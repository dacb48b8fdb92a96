//! `POST /2fa/send` parameters, validated once into a `SendParams`.
use super::input::{field_error, Fields};
use crate::domain::code::{self, CodeType};
use crate::domain::phone::{PhoneDestination, PhoneError};
use crate::domain::template::{self, BodyError};
use crate::domain::{AccountSid, Channel, EmailAddress, ErrorCode};
use crate::server::services::{ServiceError, ServiceResult};
use serde_json::{Map, Value};

pub const DEFAULT_CODE_LENGTH: usize = 6;
pub const DEFAULT_EXPIRY_SECS: i64 = 600;
pub const DEFAULT_MAX_ATTEMPTS: i64 = 5;
pub const DEFAULT_WORKFLOW_TIMEOUT: i64 = 60;

#[derive(Debug, Clone)]
pub struct SendParams {
    pub service: String,
    pub workflow: Vec<Channel>,
    pub workflow_timeout: i64,
    pub to: Option<PhoneDestination>,
    pub from: Option<String>,
    pub email_to: Option<EmailAddress>,
    pub email_from: Option<EmailAddress>,
    pub subject: Option<String>,
    pub body: Option<String>,
    pub language: String,
    pub voice: String,
    pub repeat: i64,
    pub code_length: usize,
    pub code_type: CodeType,
    pub code: Option<String>,
    pub expiry_secs: i64,
    pub max_attempts: i64,
    pub keep_old_otp_active: bool,
    pub limits: Vec<(String, String)>,
    pub status_callback: Option<String>,
    pub reference: Option<String>,
    pub account_sid: Option<AccountSid>,
}

impl SendParams {
    pub fn parse(map: &Map<String, Value>) -> ServiceResult<Self> {
        let f = Fields(map);
        let service = f.required_text("service", 1, 64)?;
        let workflow = parse_workflow(&f)?;
        let workflow_timeout = f
            .int("workflowTimeout", 15, 900)?
            .unwrap_or(DEFAULT_WORKFLOW_TIMEOUT);

        let raw_to = f.string("to")?;
        let needs_phone = workflow.iter().any(|c| c.uses_phone());
        let needs_email = workflow.contains(&Channel::Email);
        let mut email_to = match f.string("emailTo")? {
            Some(e) => Some(parse_email("emailTo", &e)?),
            None => None,
        };
        let mut to = None;
        if let Some(raw) = raw_to.as_deref() {
            if raw.contains('@') && !needs_phone {
                // An email address in `to` is accepted for the email channel.
                if email_to.is_none() {
                    email_to = Some(parse_email("to", raw)?);
                }
            } else {
                to = Some(parse_phone("to", raw)?);
            }
        }
        if needs_phone && to.is_none() {
            return Err(ServiceError::invalid(
                "to",
                "to is required for sms and call: an E.164 number like +14155550100.",
            ));
        }
        if needs_email && email_to.is_none() {
            return Err(ServiceError::invalid(
                "emailTo",
                "emailTo is required for the email channel.",
            ));
        }
        let email_from = match f.string("emailFrom")? {
            Some(e) => Some(parse_email("emailFrom", &e)?),
            None => None,
        };

        let body = f.string("body")?;
        if let Some(b) = &body {
            match template::validate_body(b) {
                Ok(()) => {}
                Err(BodyError::TooLong) => {
                    return Err(ServiceError::invalid(
                        "body",
                        "body must be at most 1600 characters.",
                    ))
                }
                Err(BodyError::LacksCode) => {
                    return Err(field_error(
                        ErrorCode::BodyLacksCode,
                        "body",
                        "body must contain the {code} placeholder.",
                    ))
                }
            }
        }

        let language = f.string("language")?.unwrap_or_else(|| "en-US".into());
        if !valid_language(&language) {
            return Err(ServiceError::invalid("language", "language must be a BCP 47 tag like en-US, optionally engine-prefixed like awspolly.ja-JP."));
        }
        let voice = match f
            .string("voice")?
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None => "woman".to_owned(),
            Some(v @ ("man" | "woman")) => v.to_owned(),
            Some(_) => {
                return Err(ServiceError::invalid(
                    "voice",
                    "voice must be man or woman.",
                ))
            }
        };
        let code_type = match f.string("codeType")? {
            None => CodeType::Numeric,
            Some(t) => CodeType::parse(&t).ok_or_else(|| {
                ServiceError::invalid("codeType", "codeType must be numeric or alphanumeric.")
            })?,
        };
        let caller_code = match f.string("code")? {
            None => None,
            Some(c) => Some(code::parse_caller_code(&c).ok_or_else(|| {
                ServiceError::invalid("code", "code must be 4–10 characters of 0-9 and A-Z.")
            })?),
        };
        let code_length = match (
            f.int("codeLength", code::MIN_LEN as i64, code::MAX_LEN as i64)?,
            &caller_code,
        ) {
            (_, Some(c)) => c.len(),
            (Some(n), None) => n as usize,
            (None, None) => DEFAULT_CODE_LENGTH,
        };
        let limits = f.string_map("limits")?.unwrap_or_default();
        if limits.len() > 5 {
            return Err(ServiceError::invalid(
                "limits",
                "limits may name at most 5 limits.",
            ));
        }
        let status_callback = f.text("statusCallback", 1, 2048)?;
        if let Some(url) = &status_callback {
            if !valid_callback(url) {
                return Err(ServiceError::invalid(
                    "statusCallback",
                    "statusCallback must be an http(s) URL.",
                ));
            }
        }
        let account_sid = f.account_sid()?;

        Ok(SendParams {
            service,
            workflow,
            workflow_timeout,
            to,
            from: f.text("from", 1, 32)?,
            email_to,
            email_from,
            subject: f.text("subject", 1, 200)?,
            body,
            language,
            voice,
            repeat: f.int("repeat", 1, 5)?.unwrap_or(2),
            code_length,
            code_type,
            code: caller_code,
            expiry_secs: f.int("expiry", 60, 86_400)?.unwrap_or(DEFAULT_EXPIRY_SECS),
            max_attempts: f.int("maxAttempts", 1, 10)?.unwrap_or(DEFAULT_MAX_ATTEMPTS),
            keep_old_otp_active: f.bool("keepOldOtpActive")?.unwrap_or(false),
            limits,
            status_callback,
            reference: f.text("reference", 1, 128)?,
            account_sid,
        })
    }

    /// The destination OTPs are grouped by for superseding and verification.
    pub fn destination(&self) -> Destination {
        match (&self.to, &self.email_to) {
            (Some(p), _) => Destination::Phone(p.as_str().to_owned()),
            (None, Some(e)) => Destination::Email(e.as_str().to_owned()),
            (None, None) => unreachable!("parse() requires a destination"),
        }
    }
}

/// Where OTPs go: a phone destination or an email address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    Phone(String),
    Email(String),
}

impl Destination {
    pub fn column(&self) -> &'static str {
        match self {
            Destination::Phone(_) => "to_number",
            Destination::Email(_) => "email_to",
        }
    }
    pub fn value(&self) -> &str {
        match self {
            Destination::Phone(v) | Destination::Email(v) => v,
        }
    }
}

fn parse_workflow(f: &Fields) -> ServiceResult<Vec<Channel>> {
    if let Some(items) = f.list("workflow")? {
        if f.has("channel") {
            return Err(ServiceError::invalid(
                "workflow",
                "Send either channel or workflow, not both.",
            ));
        }
        if items.len() > 3 {
            return Err(ServiceError::invalid(
                "workflow",
                "workflow lists 1–3 channels.",
            ));
        }
        let mut out = Vec::new();
        for item in items {
            let c = Channel::parse(&item).ok_or_else(|| {
                ServiceError::invalid(
                    "workflow",
                    format!("workflow: unknown channel {item:?} (use sms, call, email)."),
                )
            })?;
            if out.contains(&c) {
                return Err(ServiceError::invalid(
                    "workflow",
                    "workflow channels must be distinct.",
                ));
            }
            out.push(c);
        }
        return Ok(out);
    }
    match f.string("channel")? {
        None => Ok(vec![Channel::Sms]),
        Some(c) => Channel::parse(&c)
            .map(|c| vec![c])
            .ok_or_else(|| ServiceError::invalid("channel", "channel must be sms, call or email.")),
    }
}

/// A phone destination (E.164 or `client:name`), or 7010 naming the field. A form body or URL
/// query decodes "+1415…" to " 1415…": the message then says how to send it.
pub fn parse_phone(field: &'static str, raw: &str) -> ServiceResult<PhoneDestination> {
    PhoneDestination::parse(raw).map_err(|e| phone_error(field, raw, e))
}

/// A phone number to search for, as stored: E.164 or `client:name` in shape. A number of the
/// right shape that the numbering plan no longer calls valid is still searched for (it may
/// have been valid when it was sent).
pub fn phone_to_find(field: &'static str, raw: &str) -> ServiceResult<String> {
    match PhoneDestination::parse(raw) {
        Ok(p) => Ok(p.as_str().to_owned()),
        Err(PhoneError::Invalid) => Ok(raw.trim().to_owned()),
        Err(e) => Err(phone_error(field, raw, e)),
    }
}

fn phone_error(field: &'static str, raw: &str, e: PhoneError) -> ServiceError {
    let hint = if raw.starts_with(' ') && raw.trim_start().bytes().all(|b| b.is_ascii_digit()) {
        " In a form body or URL query the + must be sent as %2B (curl --data-urlencode 'to=+1…')."
    } else {
        ""
    };
    field_error(
        ErrorCode::InvalidDestination,
        field,
        format!("{field} {e}.{hint}"),
    )
}

pub fn parse_email(field: &'static str, raw: &str) -> ServiceResult<EmailAddress> {
    EmailAddress::parse(raw).map_err(|_| {
        field_error(
            ErrorCode::InvalidDestination,
            field,
            format!("{field} is not a valid email address."),
        )
    })
}

fn valid_language(raw: &str) -> bool {
    let tag = match raw.split_once('.') {
        Some((engine, tag))
            if !engine.is_empty() && engine.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            tag
        }
        Some(_) => return false,
        None => raw,
    };
    let mut parts = tag.split('-');
    let primary = parts.next().unwrap_or("");
    (2..=3).contains(&primary.len())
        && primary.bytes().all(|b| b.is_ascii_alphabetic())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
        && tag.len() <= 35
}

fn valid_callback(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    matches!(rest, Some(r) if !r.is_empty() && !r.starts_with('/') && !url.chars().any(char::is_whitespace))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> ServiceResult<SendParams> {
        SendParams::parse(v.as_object().unwrap())
    }

    fn field(e: ServiceError) -> (ErrorCode, Option<&'static str>) {
        match e {
            ServiceError::Rule { code, field, .. } => (code, field),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn defaults() {
        let p = parse(json!({"service": "MyApp", "to": "+14155550100"})).unwrap();
        assert_eq!(p.workflow, vec![Channel::Sms]);
        assert_eq!(
            (p.code_length, p.expiry_secs, p.max_attempts, p.repeat),
            (6, 600, 5, 2)
        );
        assert_eq!(p.language, "en-US");
        assert_eq!(p.voice, "woman");
        assert_eq!(p.to.unwrap().country(), Some("US"));
    }

    #[test]
    fn each_rule_names_its_field() {
        let cases = [
            (
                json!({"to": "+14155550100"}),
                ErrorCode::InvalidParameter,
                "service",
            ),
            (json!({"service": "x"}), ErrorCode::InvalidParameter, "to"),
            (
                json!({"service": "x", "to": "12345"}),
                ErrorCode::InvalidDestination,
                "to",
            ),
            (
                json!({"service": "x", "channel": "email"}),
                ErrorCode::InvalidParameter,
                "emailTo",
            ),
            (
                json!({"service": "x", "channel": "email", "emailTo": "nope"}),
                ErrorCode::InvalidDestination,
                "emailTo",
            ),
            (
                json!({"service": "x", "channel": "fax", "to": "+14155550100"}),
                ErrorCode::InvalidParameter,
                "channel",
            ),
            (
                json!({"service": "x", "workflow": ["sms", "sms"], "to": "+14155550100"}),
                ErrorCode::InvalidParameter,
                "workflow",
            ),
            (
                json!({"service": "x", "workflow": "sms,call,email,sms", "to": "+14155550100"}),
                ErrorCode::InvalidParameter,
                "workflow",
            ),
            (
                json!({"service": "x", "to": "+14155550100", "body": "no code"}),
                ErrorCode::BodyLacksCode,
                "body",
            ),
            (
                json!({"service": "x", "to": "+14155550100", "codeLength": 3}),
                ErrorCode::InvalidParameter,
                "codeLength",
            ),
            (
                json!({"service": "x", "to": "+14155550100", "expiry": 59}),
                ErrorCode::InvalidParameter,
                "expiry",
            ),
            (
                json!({"service": "x", "to": "+14155550100", "maxAttempts": 11}),
                ErrorCode::InvalidParameter,
                "maxAttempts",
            ),
            (
                json!({"service": "x", "to": "+14155550100", "code": "12"}),
                ErrorCode::InvalidParameter,
                "code",
            ),
            (
                json!({"service": "x", "to": "+14155550100", "voice": "robot"}),
                ErrorCode::InvalidParameter,
                "voice",
            ),
            (
                json!({"service": "x", "to": "+14155550100", "language": "english!"}),
                ErrorCode::InvalidParameter,
                "language",
            ),
            (
                json!({"service": "x", "to": "+14155550100", "statusCallback": "ftp://x"}),
                ErrorCode::InvalidParameter,
                "statusCallback",
            ),
            (
                json!({"service": "x", "to": "+14155550100", "workflowTimeout": 10}),
                ErrorCode::InvalidParameter,
                "workflowTimeout",
            ),
            (
                json!({"service": "x".repeat(65), "to": "+14155550100"}),
                ErrorCode::InvalidParameter,
                "service",
            ),
            (
                json!({"service": "x", "to": "+14155550100", "repeat": 6}),
                ErrorCode::InvalidParameter,
                "repeat",
            ),
            (
                json!({"service": "x", "to": "+14155550100", "keepOldOtpActive": "maybe"}),
                ErrorCode::InvalidParameter,
                "keepOldOtpActive",
            ),
        ];
        for (input, code, name) in cases {
            let got = field(parse(input.clone()).unwrap_err());
            assert_eq!(got, (code, Some(name)), "{input}");
        }
    }

    #[test]
    fn email_in_to_and_workflows() {
        let p =
            parse(json!({"service": "x", "channel": "email", "to": "ana@example.com"})).unwrap();
        assert_eq!(p.email_to.unwrap().as_str(), "ana@example.com");
        let p = parse(json!({"service": "x", "workflow": "sms,email", "to": "+14155550100", "emailTo": "a@example.com"})).unwrap();
        assert_eq!(p.workflow, vec![Channel::Sms, Channel::Email]);
        assert_eq!(p.destination(), Destination::Phone("+14155550100".into()));
        let p =
            parse(json!({"service": "x", "to": "+14155550100", "code": "AB12", "codeLength": 8}))
                .unwrap();
        assert_eq!(p.code_length, 4);
        assert!(
            valid_language("awspolly.ja-JP") && valid_language("pt-BR") && !valid_language("e")
        );
    }
}
