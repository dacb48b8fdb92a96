//! The wire types of `/2fa/send`, `/2fa/verify`, `/2fa/cancel`, `/2fa/search` and the sandbox
//! outbox: requests deserialize into these, answers serialize from these, and the OpenAPI
//! document is generated from these, so the document cannot drift from the wire.
use crate::domain::delivery::OutboxMessage;
use crate::domain::otp::SendReceipt;
use crate::domain::Otp;
use crate::server::clock::{rfc3339, Millis};
use crate::server::db::otps::{AttemptRecord, EventRecord};
use crate::server::rest::input::Loose;
use crate::server::rest::paging::{Page, PageParams};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// `POST /2fa/send` (JSON or form). Send `channel` or `workflow`, and `to` and/or `emailTo`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct SendRequest {
    /// 1–64 chars; `{service}` in templates.
    #[schema(value_type = String, required = true, min_length = 1, max_length = 64, example = "My App")]
    pub service: Loose,
    /// `sms` | `call` | `email` (default `sms`).
    #[schema(value_type = Option<ChannelName>)]
    pub channel: Loose,
    /// 1–3 distinct channels tried in order (list, repeated form keys or "sms,call").
    #[schema(value_type = Option<Vec<ChannelName>>, min_items = 1, max_items = 3)]
    pub workflow: Loose,
    /// Seconds 15–900 (default 60) before the next workflow channel when not verified.
    #[schema(value_type = Option<i64>, minimum = 15, maximum = 900)]
    pub workflow_timeout: Loose,
    /// E.164 (`+14155550100`) or `client:<name>`.
    #[schema(value_type = Option<String>, example = "+14155550100")]
    pub to: Loose,
    /// 1–32 chars.
    #[schema(value_type = Option<String>, min_length = 1, max_length = 32)]
    pub from: Loose,
    #[schema(value_type = Option<String>, example = "user@example.com")]
    pub email_to: Loose,
    #[schema(value_type = Option<String>)]
    pub email_from: Loose,
    /// 1–200 chars.
    #[schema(value_type = Option<String>, min_length = 1, max_length = 200)]
    pub subject: Loose,
    /// ≤ 1600 chars with `{code}`; also `{service}`, `{ttl}` (minutes).
    #[schema(value_type = Option<String>, max_length = 1600)]
    pub body: Loose,
    /// BCP 47, optionally engine-prefixed (`awspolly.ja-JP`); default `en-US`.
    #[schema(value_type = Option<String>, example = "en-US")]
    pub language: Loose,
    /// `man` | `woman` (default).
    #[schema(value_type = Option<VoiceName>)]
    pub voice: Loose,
    /// 1–5 (default 2).
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 5)]
    pub repeat: Loose,
    /// 4–10 (default 6).
    #[schema(value_type = Option<i64>, minimum = 4, maximum = 10)]
    pub code_length: Loose,
    /// `numeric` (default) | `alphanumeric`.
    #[schema(value_type = Option<CodeTypeName>)]
    pub code_type: Loose,
    /// A caller-chosen code: 4–10 of `[0-9A-Z]`.
    #[schema(value_type = Option<String>, pattern = "^[0-9A-Z]{4,10}$")]
    pub code: Loose,
    /// Seconds 60–86400 (default 600).
    #[schema(value_type = Option<i64>, minimum = 60, maximum = 86400)]
    pub expiry: Loose,
    /// 1–10 (default 5).
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 10)]
    pub max_attempts: Loose,
    #[schema(value_type = Option<bool>)]
    pub keep_old_otp_active: Loose,
    /// `{"<limitName>": "<key>"}`, ≤ 5 entries.
    #[schema(value_type = Option<BTreeMap<String, String>>)]
    pub limits: Loose,
    /// http(s) URL receiving signed status callbacks.
    #[schema(value_type = Option<String>, max_length = 2048)]
    pub status_callback: Loose,
    /// ≤ 128 chars, searchable.
    #[schema(value_type = Option<String>, max_length = 128)]
    pub reference: Loose,
    /// Act as this sub-account.
    #[schema(value_type = Option<String>, pattern = "^AC[0-9a-f]{32}$")]
    pub account_sid: Loose,
}

/// A delivery channel (documentation of the `channel` and `workflow` fields).
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum ChannelName {
    Sms,
    Call,
    Email,
}

/// The voice of a call (documentation of the `voice` field).
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum VoiceName {
    Man,
    Woman,
}

/// The kind of code (documentation of the `codeType` field).
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum CodeTypeName {
    Numeric,
    Alphanumeric,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SendResponse {
    /// 200 (the HTTP status; never the OTP code).
    pub code: u16,
    pub message: String,
    #[serde(rename = "requestID")]
    pub request_id: String,
    pub status: String,
    pub channel: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_to: Option<String>,
    pub expires_at: String,
    pub attempts_left: i64,
    /// True while the account's codes go to the sandbox outbox (no provider configured for
    /// the channel): nothing reaches a real phone or mailbox.
    pub sandbox: bool,
}

impl SendResponse {
    /// The answer of an accepted send (`None` for a blocked one, which answers an error).
    pub fn of(receipt: &SendReceipt, sandbox: bool) -> Option<Self> {
        match receipt {
            SendReceipt::Accepted {
                request_id,
                channel,
                to,
                email_to,
                expires_at,
                attempts_left,
            } => Some(SendResponse {
                code: 200,
                message: "OK".into(),
                request_id: request_id.to_string(),
                status: crate::domain::OtpStatus::Pending.as_str().into(),
                channel: channel.as_str().into(),
                to: to.clone(),
                email_to: email_to.clone(),
                expires_at: rfc3339(*expires_at),
                attempts_left: *attempts_left,
                sandbox,
            }),
            SendReceipt::Blocked { .. } | SendReceipt::FraudBlocked { .. } => None,
        }
    }
}

/// `POST /2fa/verify`: `requestID` + `code`, or `service` + `to`/`emailTo` + `code`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct VerifyRequest {
    #[serde(rename = "requestID")]
    #[schema(value_type = Option<String>, example = "OTP0123456789abcdef0123456789abcdef")]
    pub request_id: Loose,
    #[schema(value_type = Option<String>)]
    pub service: Loose,
    #[schema(value_type = Option<String>)]
    pub to: Loose,
    #[schema(value_type = Option<String>)]
    pub email_to: Loose,
    #[schema(value_type = String, required = true, example = "123456")]
    pub code: Loose,
    #[schema(value_type = Option<String>)]
    pub account_sid: Loose,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerifyResponse {
    pub code: u16,
    pub message: String,
    pub status: String,
    #[serde(rename = "requestID")]
    pub request_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_to: Option<String>,
}

impl From<&Otp> for VerifyResponse {
    fn from(otp: &Otp) -> Self {
        VerifyResponse {
            code: 200,
            message: "OK".into(),
            status: otp.status.as_str().into(),
            request_id: otp.sid.to_string(),
            to: otp.to.clone(),
            email_to: otp.email_to.clone(),
        }
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct CancelRequest {
    #[serde(rename = "requestID")]
    #[schema(value_type = String, required = true, example = "OTP0123456789abcdef0123456789abcdef")]
    pub request_id: Loose,
    /// ≤ 200 chars, kept in the timeline.
    #[schema(value_type = Option<String>, max_length = 200)]
    pub reason: Loose,
    #[schema(value_type = Option<String>)]
    pub account_sid: Loose,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CancelResponse {
    pub code: u16,
    pub message: String,
    #[serde(rename = "requestID")]
    pub request_id: String,
    pub status: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryAttempt {
    pub channel: String,
    pub provider: String,
    pub provider_sid: Option<String>,
    pub status: String,
    pub error: Option<String>,
    pub date_created: String,
}

impl From<&AttemptRecord> for DeliveryAttempt {
    fn from(a: &AttemptRecord) -> Self {
        DeliveryAttempt {
            channel: a.channel.clone(),
            provider: a.provider.clone(),
            provider_sid: a.provider_sid.clone(),
            status: a.status.clone(),
            error: a.error.clone(),
            date_created: rfc3339(a.date_created),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Event {
    /// created, limit_check, blocked, attempt_sent, delivery_report, delivery_failed,
    /// delivery_retry, fallback, verify_failed, verified, max_attempts, canceled, expired,
    /// failed, callback.
    #[serde(rename = "type")]
    pub kind: String,
    pub at: String,
    pub detail: serde_json::Value,
}

impl From<&EventRecord> for Event {
    fn from(e: &EventRecord) -> Self {
        Event {
            kind: e.kind.clone(),
            at: rfc3339(e.at),
            detail: e.detail.clone(),
        }
    }
}

fn ts(ms: Option<Millis>) -> Option<String> {
    ms.map(rfc3339)
}

/// A session detail record.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Sdr {
    #[serde(rename = "requestID")]
    pub request_id: String,
    pub account_sid: String,
    pub service: String,
    pub reference: Option<String>,
    pub channel: String,
    pub workflow: Vec<String>,
    pub to: Option<String>,
    pub from: Option<String>,
    pub email_to: Option<String>,
    pub email_from: Option<String>,
    pub country_code: Option<String>,
    pub language: String,
    pub status: String,
    pub cancel_reason: Option<String>,
    pub code_length: i64,
    pub code_type: String,
    pub expires_at: String,
    pub max_attempts: i64,
    pub verify_attempts: i64,
    pub attempts_left: i64,
    pub limits: BTreeMap<String, String>,
    pub price: String,
    pub price_unit: String,
    pub date_created: String,
    pub date_updated: String,
    pub sent_at: Option<String>,
    pub delivered_at: Option<String>,
    pub verified_at: Option<String>,
    pub canceled_at: Option<String>,
    pub uri: String,
    /// Only in `GET /2fa/search/{requestID}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_attempts: Option<Vec<DeliveryAttempt>>,
    /// Only in `GET /2fa/search/{requestID}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<Event>>,
}

impl From<&Otp> for Sdr {
    fn from(o: &Otp) -> Self {
        Sdr {
            request_id: o.sid.to_string(),
            account_sid: o.account_sid.to_string(),
            service: o.service.clone(),
            reference: o.reference.clone(),
            channel: o.channel.as_str().into(),
            workflow: o
                .workflow
                .channels()
                .iter()
                .map(|c| c.as_str().to_owned())
                .collect(),
            to: o.to.clone(),
            from: o.from.clone(),
            email_to: o.email_to.clone(),
            email_from: o.email_from.clone(),
            country_code: o.country_code.clone(),
            language: o.language.clone(),
            status: o.status.as_str().into(),
            cancel_reason: o.cancel_reason.clone(),
            code_length: o.code_length,
            code_type: o.code_type.as_str().into(),
            expires_at: rfc3339(o.expires_at),
            max_attempts: o.max_attempts,
            verify_attempts: o.verify_attempts,
            attempts_left: o.attempts_left(),
            limits: o.limits.iter().cloned().collect(),
            price: format!("{:.4}", o.price_micros as f64 / 1_000_000.0),
            price_unit: o.price_unit.clone(),
            date_created: rfc3339(o.date_created),
            date_updated: rfc3339(o.date_updated),
            sent_at: ts(o.sent_at),
            delivered_at: ts(o.delivered_at),
            verified_at: ts(o.verified_at),
            canceled_at: ts(o.canceled_at),
            uri: format!("/2fa/search/{}", o.sid),
            delivery_attempts: None,
            events: None,
        }
    }
}

/// `GET|POST /2fa/search`: filters, paging (`Page`, `PageSize`, `AfterSid`), `accountSid`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SearchRequest {
    pub to: Loose,
    pub email_to: Loose,
    #[serde(rename = "requestID")]
    pub request_id: Loose,
    pub service: Loose,
    pub channel: Loose,
    pub status: Loose,
    pub country_code: Loose,
    pub reference: Loose,
    pub start_time: Loose,
    pub end_time: Loose,
    pub account_sid: Loose,
    #[serde(rename = "AfterSid")]
    pub after_sid: Loose,
    #[serde(flatten)]
    pub paging: PageParams,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResponse {
    #[serde(flatten)]
    pub page: Page,
    pub otps: Vec<Sdr>,
}

/// `GET /2fa/search/{requestID}`: `accountSid` only.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ScopeRequest {
    pub account_sid: Loose,
}

/// `GET /2fa/sandbox/messages`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SandboxRequest {
    #[serde(rename = "requestID")]
    pub request_id: Loose,
    pub to: Loose,
    pub email_to: Loose,
    pub wait: Loose,
    pub account_sid: Loose,
    #[serde(flatten)]
    pub paging: PageParams,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SandboxMessage {
    #[serde(rename = "requestID")]
    pub request_id: String,
    pub channel: String,
    pub to: Option<String>,
    pub email_to: Option<String>,
    pub from: Option<String>,
    pub subject: Option<String>,
    pub text: String,
    pub date_created: String,
}

impl From<&OutboxMessage> for SandboxMessage {
    fn from(m: &OutboxMessage) -> Self {
        SandboxMessage {
            request_id: m.request_id.to_string(),
            channel: m.channel.as_str().into(),
            to: m.to.clone(),
            email_to: m.email_to.clone(),
            from: m.from.clone(),
            subject: m.subject.clone(),
            text: m.text.clone(),
            date_created: rfc3339(m.date_created),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SandboxResponse {
    #[serde(flatten)]
    pub page: Page,
    pub messages: Vec<SandboxMessage>,
}
