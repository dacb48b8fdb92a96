//! `otps` rows and their timelines, delivery attempts, sealed codes and the sandbox outbox.
use crate::server::clock::Millis;

/// Statuses that are still verifiable (SQL list).
pub const ACTIVE: &str = "('pending', 'sent', 'delivered')";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OtpRow {
    pub sid: String,
    pub account_sid: String,
    pub service: String,
    pub reference: Option<String>,
    pub channel: String,
    pub workflow: String,
    pub workflow_index: i32,
    pub workflow_timeout: i32,
    pub to_number: Option<String>,
    pub from_sender: Option<String>,
    pub email_to: Option<String>,
    pub email_from: Option<String>,
    pub subject: Option<String>,
    pub body: Option<String>,
    pub country_code: Option<String>,
    pub language: String,
    pub voice: String,
    pub repeat_count: i32,
    pub code_hash: String,
    pub code_length: i32,
    pub code_type: String,
    pub expires_at: Millis,
    pub max_attempts: i32,
    pub verify_attempts: i32,
    pub status: String,
    pub cancel_reason: Option<String>,
    pub status_callback: Option<String>,
    pub limits: Option<String>,
    pub price: i64,
    pub price_unit: String,
    pub date_created: Millis,
    pub date_updated: Millis,
    pub sent_at: Option<Millis>,
    pub delivered_at: Option<Millis>,
    pub verified_at: Option<Millis>,
    pub canceled_at: Option<Millis>,
}

pub const COLUMNS: &str = "sid, account_sid, service, reference, channel, workflow, workflow_index, workflow_timeout, \
    to_number, from_sender, email_to, email_from, subject, body, country_code, language, voice, repeat_count, \
    code_hash, code_length, code_type, expires_at, max_attempts, verify_attempts, status, cancel_reason, \
    status_callback, limits, price, price_unit, date_created, date_updated, sent_at, delivered_at, verified_at, canceled_at";

pub const INSERT: &str = "INSERT INTO otps (sid, account_sid, service, reference, channel, workflow, workflow_index, \
    workflow_timeout, to_number, from_sender, email_to, email_from, subject, body, country_code, language, voice, \
    repeat_count, code_hash, code_length, code_type, expires_at, max_attempts, verify_attempts, status, \
    status_callback, limits, date_created, date_updated) VALUES \
    ($1, $2, $3, $4, $5, $6, 0, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, 0, 'pending', $23, $24, $25, $25)";

pub const INSERT_EVENT: &str =
    "INSERT INTO otp_events (otp_sid, at, type, detail) VALUES ($1, $2, $3, $4)";

pub const INSERT_JOB: &str =
    "INSERT INTO jobs (kind, otp_sid, step, run_at) VALUES ($1, $2, $3, $4)";

pub const INSERT_ATTEMPT: &str = "INSERT INTO delivery_attempts (otp_sid, channel, provider, provider_sid, status, error, date_created) \
    VALUES ($1, $2, $3, $4, $5, $6, $7)";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub at: Millis,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub detail: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttemptRow {
    pub channel: String,
    pub provider: String,
    pub provider_sid: Option<String>,
    pub status: String,
    pub error: Option<String>,
    pub date_created: Millis,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SandboxRow {
    pub otp_sid: String,
    pub channel: String,
    pub to_number: Option<String>,
    pub email_to: Option<String>,
    pub from_sender: Option<String>,
    pub subject: Option<String>,
    pub text: String,
    pub date_created: Millis,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobRow {
    pub id: i64,
    pub kind: String,
    pub otp_sid: String,
    pub step: i32,
    pub tries: i32,
    pub payload: Option<String>,
    pub created_at: Option<Millis>,
}
