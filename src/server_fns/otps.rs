//! The OTP pages: send a test OTP and follow it, search the session detail records, open one,
//! cancel it. Every action goes through the same services as `/2fa/send`, `/2fa/verify`,
//! `/2fa/cancel` and `/2fa/search`, so a console OTP is indistinguishable from a `curl` one.
//! Admins and developers may send; support staff may search, open and cancel.
use crate::domain::ConsoleError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One OTP as the API's SDR describes it (the fields the console shows).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SdrView {
    #[serde(rename = "requestID")]
    pub request_id: String,
    pub service: String,
    pub reference: Option<String>,
    pub channel: String,
    pub workflow: Vec<String>,
    pub to: Option<String>,
    pub from: Option<String>,
    pub email_to: Option<String>,
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
    pub limits: Value,
    pub price: String,
    pub price_unit: String,
    pub date_created: String,
    pub date_updated: String,
    pub sent_at: Option<String>,
    pub delivered_at: Option<String>,
    pub verified_at: Option<String>,
    pub canceled_at: Option<String>,
}

impl SdrView {
    /// The phone number or email address the code went to.
    pub fn destination(&self) -> String {
        self.to
            .clone()
            .or_else(|| self.email_to.clone())
            .unwrap_or_default()
    }

    /// Still waiting for a verify (may be canceled).
    pub fn is_active(&self) -> bool {
        crate::domain::OtpStatus::parse(&self.status).is_some_and(|s| s.is_active())
    }
}

/// One delivery attempt of an SDR.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttemptView {
    pub channel: String,
    pub provider: String,
    pub provider_sid: Option<String>,
    pub status: String,
    pub error: Option<String>,
    pub date_created: String,
}

/// One timeline event: when, what, and its details as label/value pairs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventView {
    pub at: String,
    pub kind: String,
    pub details: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SdrDetail {
    pub sdr: SdrView,
    pub attempts: Vec<AttemptView>,
    pub events: Vec<EventView>,
}

/// The OTPs page's filters, as they appear in its URL. Empty means "any".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OtpQuery {
    /// A phone number (E.164) or an email address.
    pub destination: String,
    pub request_id: String,
    pub reference: String,
    pub status: String,
    pub channel: String,
    pub country: String,
    pub service: String,
    /// First day (YYYY-MM-DD, UTC) included.
    pub from: String,
    /// Last day (YYYY-MM-DD, UTC) included.
    pub until: String,
    /// Page position: rows older than this cursor…
    pub before: String,
    /// …or newer than this one.
    pub after: String,
}

impl OtpQuery {
    /// Every URL parameter of the OTPs page: the filters, then the page position.
    pub const PARAMS: [&'static str; 11] = [
        "destination",
        "request_id",
        "reference",
        "status",
        "channel",
        "country",
        "service",
        "from",
        "until",
        "before",
        "after",
    ];

    /// The query from URL parameters (unknown ones ignored).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut q = OtpQuery::default();
        for (k, v) in pairs {
            let v = v.trim().to_owned();
            match k {
                "destination" => q.destination = v,
                "request_id" => q.request_id = v,
                "reference" => q.reference = v,
                "status" => q.status = v,
                "channel" => q.channel = v,
                "country" => q.country = v,
                "service" => q.service = v,
                "from" => q.from = v,
                "until" => q.until = v,
                "before" => q.before = v,
                "after" => q.after = v,
                _ => {}
            }
        }
        q
    }

    /// The filters (not the page position) as URL parameters, non-empty ones only.
    pub fn filter_pairs(&self) -> Vec<(&'static str, String)> {
        [
            ("destination", &self.destination),
            ("request_id", &self.request_id),
            ("reference", &self.reference),
            ("status", &self.status),
            ("channel", &self.channel),
            ("country", &self.country),
            ("service", &self.service),
            ("from", &self.from),
            ("until", &self.until),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k, v.clone()))
        .collect()
    }

    /// A URL query string of the filters plus `extra` pairs.
    pub fn to_query_string(&self, extra: &[(&'static str, String)]) -> String {
        let mut pairs = self.filter_pairs();
        pairs.extend(extra.iter().cloned());
        crate::domain::url::query_string(&pairs)
    }
}

/// Rows per page of the OTPs table.
pub const PAGE_SIZE: i64 = 50;
/// Matches are counted up to this many (beyond it the page says "more than").
pub const COUNT_CAP: i64 = 10_000;

/// One page of the search: rows newest first and the positions of the neighbouring pages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OtpPage {
    pub rows: Vec<SdrView>,
    /// `before=` value of the next (older) page, if there is one.
    pub older: Option<String>,
    /// `after=` value of the previous (newer) page, if there is one.
    pub newer: Option<String>,
    /// Matching OTPs, counted up to [`COUNT_CAP`].
    pub total: i64,
}

#[cfg(feature = "ssr")]
mod server {
    use super::*;
    use crate::domain::{dates, email, phone, Channel, ErrorCode, Otp, OtpStatus, Problem};
    use crate::server::clock::rfc3339;
    use crate::server::services::otp::search::{self, OtpFilter, Position, Walk};
    use crate::server::services::otp::{OtpError, OtpField, OtpService};
    use crate::server::services::AccountScope;

    /// How the console names the fields the OTP use cases judge.
    pub fn field_name(f: OtpField) -> &'static str {
        match f {
            OtpField::To => "to",
            OtpField::EmailTo => "email_to",
            OtpField::Limits => "limits",
            OtpField::IdempotencyKey => "idempotency_key",
            OtpField::After => "before",
            OtpField::Language => "language",
        }
    }

    /// An OTP use case's refusal as the console shows it.
    pub fn otp_error(e: OtpError) -> ConsoleError {
        let message = match &e {
            OtpError::UnknownLimit(name) => {
                format!("Unknown limit {name:?}: create it first on the Limits page.")
            }
            other => other.message(field_name),
        };
        let field = e.field().map(field_name);
        match e {
            OtpError::Internal(err) => crate::server::auth::console::internal_error(err),
            e => ConsoleError {
                code: e.code(),
                message,
                field: field.map(str::to_owned),
            },
        }
    }

    pub use crate::server_fns::ctx::invalid;

    pub fn view(o: &Otp) -> SdrView {
        let ts = |ms: Option<i64>| ms.map(rfc3339);
        SdrView {
            request_id: o.sid.to_string(),
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
            limits: Value::Object(
                o.limits
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect(),
            ),
            price: format!("{:.4}", o.price_micros as f64 / 1_000_000.0),
            price_unit: o.price_unit.clone(),
            date_created: rfc3339(o.date_created),
            date_updated: rfc3339(o.date_updated),
            sent_at: ts(o.sent_at),
            delivered_at: ts(o.delivered_at),
            verified_at: ts(o.verified_at),
            canceled_at: ts(o.canceled_at),
        }
    }

    /// The page's filters as a search filter; problems name the page's fields.
    pub fn filter(q: &OtpQuery) -> Result<OtpFilter, ConsoleError> {
        let text = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
        let mut f = OtpFilter::default();
        if let Some(d) = text(&q.destination) {
            if d.contains('@') {
                let e = email::parse_destination(&d)
                    .map_err(|p| invalid("destination", "destination", p))?;
                f.email_to = Some(e.as_str().to_owned());
            } else {
                // People paste numbers as they read them: "+1 (415) 555-0100".
                let compact: String = d
                    .chars()
                    .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.'))
                    .collect();
                f.to = Some(
                    phone::to_find(&compact)
                        .map_err(|p| invalid("destination", "destination", p))?,
                );
            }
        }
        f.request_id = text(&q.request_id);
        f.reference = text(&q.reference);
        f.service = text(&q.service);
        if let Some(s) = text(&q.status) {
            f.status = Some(OtpStatus::parse(&s).ok_or_else(|| {
                invalid(
                    "status",
                    "status",
                    Problem::says("must be one of pending, sent, delivered, verified, expired, canceled, max_attempts, failed, blocked."),
                )
            })?);
        }
        if let Some(c) = text(&q.channel) {
            f.channel = Some(Channel::parse(&c).ok_or_else(|| {
                invalid(
                    "channel",
                    "channel",
                    Problem::says("must be sms, call or email."),
                )
            })?);
        }
        if let Some(c) = text(&q.country) {
            let c = c.to_ascii_uppercase();
            if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(invalid(
                    "country",
                    "country",
                    Problem::says("must be an ISO 3166 alpha-2 code like US."),
                ));
            }
            f.country_code = Some(c);
        }
        if let Some(from) = text(&q.from) {
            f.created_from =
                Some(dates::parse_time(&from, false).map_err(|p| invalid("from", "from", p))?);
        }
        if let Some(until) = text(&q.until) {
            f.created_before =
                Some(dates::parse_time(&until, true).map_err(|p| invalid("until", "until", p))?);
        }
        if let (Some(a), Some(b)) = (f.created_from, f.created_before) {
            if a > b {
                return Err(invalid(
                    "until",
                    "until",
                    Problem::says("must not be before from."),
                ));
            }
        }
        Ok(f)
    }

    fn position(field: &str, raw: &str) -> Result<Position, ConsoleError> {
        Position::decode(raw).ok_or_else(|| {
            ConsoleError::field(
                ErrorCode::InvalidParameter,
                field,
                format!("{field} is not a page position from this console."),
            )
        })
    }

    pub async fn search(
        svc: &OtpService,
        scope: &AccountScope,
        q: &OtpQuery,
    ) -> Result<OtpPage, ConsoleError> {
        let f = filter(q)?;
        let seek = if !q.before.is_empty() {
            Walk::Older(position("before", &q.before)?)
        } else if !q.after.is_empty() {
            Walk::Newer(position("after", &q.after)?)
        } else {
            Walk::First
        };
        let (rows, more) = search::walk(svc, scope, &f, &seek, PAGE_SIZE)
            .await
            .map_err(otp_error)?;
        let total = search::count_capped(svc, scope, &f, COUNT_CAP)
            .await
            .map_err(otp_error)?;
        let first = rows.first().map(search::position_of);
        let last = rows.last().map(search::position_of);
        // Walking older: more rows beyond means an older page; any cursor means a newer one.
        let (has_older, has_newer) = match seek {
            Walk::First => (more, false),
            Walk::Older(_) => (more, true),
            Walk::Newer(_) => (true, more),
        };
        Ok(OtpPage {
            rows: rows.iter().map(view).collect(),
            older: last.filter(|_| has_older).map(|c| c.encode()),
            newer: first.filter(|_| has_newer).map(|c| c.encode()),
            total,
        })
    }

    pub fn attempt_view(a: &crate::server::db::otps::AttemptRecord) -> AttemptView {
        AttemptView {
            channel: a.channel.clone(),
            provider: a.provider.clone(),
            provider_sid: a.provider_sid.clone(),
            status: a.status.clone(),
            error: a.error.clone(),
            date_created: rfc3339(a.date_created),
        }
    }

    pub fn event_view(e: &crate::server::db::otps::EventRecord) -> EventView {
        let details = match &e.detail {
            Value::Object(m) => m
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| {
                    let text = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    (k.clone(), text)
                })
                .collect(),
            _ => Vec::new(),
        };
        EventView {
            at: rfc3339(e.at),
            kind: e.kind.clone(),
            details,
        }
    }
}

#[cfg(feature = "ssr")]
pub use server::{
    filter as otp_filter, otp_error, search as search_otps_service, view as sdr_view,
};

/// The OTPs page: filtered, newest first, by position.
#[server(endpoint = "otps_search")]
pub async fn search_otps(query: OtpQuery) -> Result<OtpPage, ConsoleError> {
    use super::ctx;
    use crate::domain::Role;
    let user = ctx::user(&Role::ALL).await?;
    let state = ctx::state()?;
    server::search(state.otp(), &user.scope, &query)
        .await
        .map_err(ctx::fail)
}

/// One SDR with its delivery attempts and timeline (never the code).
#[server(endpoint = "otp_detail")]
pub async fn otp_detail(request_id: String) -> Result<SdrDetail, ConsoleError> {
    use super::ctx;
    use crate::domain::Role;
    use crate::server::services::otp::detail;
    let user = ctx::user(&Role::ALL).await?;
    let state = ctx::state()?;
    let d = detail::detail(state.otp(), &user.scope, &request_id)
        .await
        .map_err(|e| ctx::fail(server::otp_error(e)))?;
    Ok(SdrDetail {
        sdr: server::view(&d.otp),
        attempts: d.attempts.iter().map(server::attempt_view).collect(),
        events: d.events.iter().map(server::event_view).collect(),
    })
}

/// Cancels an active OTP (admins, developers and support staff), like `/2fa/cancel`.
#[server(endpoint = "otp_cancel")]
pub async fn cancel_otp(request_id: String) -> Result<String, ConsoleError> {
    use super::ctx;
    use crate::domain::Role;
    use crate::server::services::otp::cancel::{self, CancelCommand};
    let user = ctx::user(&Role::ALL).await?;
    let state = ctx::state()?;
    let reason = format!("canceled in the console by {}", user.email);
    let cmd = CancelCommand {
        request_id,
        reason: Some(reason.clone()),
        by: "console",
    };
    let otp = cancel::cancel(state.otp(), &user.scope, cmd)
        .await
        .map_err(|e| ctx::fail(server::otp_error(e)))?;
    crate::server::services::audit::record_after(
        state.db(),
        state.clock(),
        Some(user.scope.sid()),
        &ctx::audit_origin(&user),
        crate::server::services::audit::otp_cancel_change(&otp, Some(&reason)),
    )
    .await;
    tracing::info!(user = %user.sid, otp = %otp.sid, "otp canceled in the console");
    Ok(otp.status.as_str().to_owned())
}

/// The send form: the fields of `/2fa/send`, as text (empty means "not given").
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SendForm {
    /// Channels in order: one is `channel`, more are a `workflow`.
    pub channels: Vec<String>,
    pub to: String,
    pub email_to: String,
    pub service: String,
    pub from: String,
    pub language: String,
    pub voice: String,
    pub repeat: String,
    pub code_length: String,
    pub code_type: String,
    pub expiry: String,
    pub max_attempts: String,
    pub keep_old_otp_active: bool,
    /// Limits to charge, one `name=key` per line.
    pub limits: String,
    pub reference: String,
}

/// What a send answered: the API's code and message, and the OTP (also when blocked).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendAnswer {
    pub code: u16,
    pub message: String,
    pub request_id: Option<String>,
}

#[cfg(feature = "ssr")]
impl SendForm {
    /// The form as a send command; every problem names the form's own field.
    pub fn to_command(
        &self,
    ) -> Result<crate::server::services::otp::send::SendCommand, ConsoleError> {
        use crate::domain::otp::{self as rules, Voice};
        use crate::domain::{email, phone, problem, CodeType, ErrorCode, Problem};
        use crate::server_fns::ctx::{given as text, int_field as int};
        use server::invalid;
        let bounded = |name: &str, label: &str, v: &str, range: (usize, usize)| {
            text(v)
                .map(|v| problem::text(&v, range).map_err(|p| invalid(name, label, p)))
                .transpose()
        };
        let channels: Vec<String> = self.channels.iter().filter_map(|c| text(c)).collect();
        let workflow = if channels.is_empty() {
            None
        } else {
            Some(rules::parse_workflow(&channels).map_err(|p| invalid("channels", "Channels", p))?)
        };
        let mut limits = Vec::new();
        for line in self.limits.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let (name, key) = line.split_once('=').ok_or_else(|| {
                ConsoleError::field(
                    ErrorCode::InvalidParameter,
                    "limits",
                    format!("Write each limit as name=key (got {line:?})."),
                )
            })?;
            limits.push((name.trim().to_owned(), key.trim().to_owned()));
        }
        Ok(crate::server::services::otp::send::SendCommand {
            service: text(&self.service)
                .ok_or_else(|| invalid("service", "Service", Problem::Required))
                .and_then(|s| {
                    problem::text(&s, rules::SERVICE_CHARS)
                        .map_err(|p| invalid("service", "Service", p))
                })?,
            workflow,
            workflow_timeout_secs: None,
            to: text(&self.to)
                .map(|t| phone::parse_destination(&t).map_err(|p| invalid("to", "Phone number", p)))
                .transpose()?,
            from: bounded("from", "From", &self.from, rules::FROM_CHARS)?,
            email_to: text(&self.email_to)
                .map(|e| {
                    email::parse_destination(&e)
                        .map_err(|p| invalid("email_to", "Email address", p))
                })
                .transpose()?,
            email_from: None,
            subject: None,
            body: None,
            language: text(&self.language)
                .map(|l| rules::parse_language(&l).map_err(|p| invalid("language", "Language", p)))
                .transpose()?,
            voice: text(&self.voice)
                .map(|v| Voice::parse(&v).map_err(|p| invalid("voice", "Voice", p)))
                .transpose()?,
            repeat: int("repeat", "Repeat", &self.repeat, rules::REPEAT)?,
            code_length: int(
                "code_length",
                "Code length",
                &self.code_length,
                rules::CODE_LENGTH,
            )?
            .map(|n| n as usize),
            code_type: text(&self.code_type)
                .map(|t| {
                    CodeType::parse_or_problem(&t).map_err(|p| invalid("code_type", "Code type", p))
                })
                .transpose()?,
            code: None,
            expiry_secs: int("expiry", "Expiry", &self.expiry, rules::EXPIRY_SECS)?,
            max_attempts: int(
                "max_attempts",
                "Max attempts",
                &self.max_attempts,
                rules::MAX_ATTEMPTS,
            )?,
            // Unchecked: the account's default.
            keep_old_otp_active: self.keep_old_otp_active.then_some(true),
            limits,
            status_callback: None,
            reference: bounded(
                "reference",
                "Reference",
                &self.reference,
                rules::REFERENCE_CHARS,
            )?,
        })
    }
}

/// Sends a test OTP through the same use case as `/2fa/send` (admins and developers).
#[server(endpoint = "otp_send_test")]
pub async fn send_test_otp(form: SendForm) -> Result<SendAnswer, ConsoleError> {
    use super::ctx;
    use crate::domain::otp::SendReceipt;
    use crate::domain::{ErrorCode, Role};
    use crate::server::services::otp::send;
    let user = ctx::user(&[Role::Admin, Role::Developer]).await?;
    let state = ctx::state()?;
    let cmd = form.to_command().map_err(ctx::fail)?;
    let result = send::send(state.otp(), &user.scope, cmd, None)
        .await
        .map_err(|e| ctx::fail(server::otp_error(e)))?;
    let request_id = Some(result.request_id().to_string());
    tracing::info!(user = %user.sid, otp = ?request_id, "test otp sent from the console");
    Ok(match result.receipt() {
        SendReceipt::Accepted { .. } => SendAnswer {
            code: 200,
            message: "OK".into(),
            request_id,
        },
        // Recorded as blocked; the page shows why, as the API's 429 says it.
        SendReceipt::Blocked {
            limit,
            bucket,
            retry_after,
            ..
        } => {
            return Err(ctx::fail(ConsoleError::new(
                ErrorCode::LimitExceeded,
                format!("Limit {limit:?} exceeded (bucket {bucket:?}): the next send is accepted in {retry_after} s."),
            )))
        }
        SendReceipt::FraudBlocked {
            prefix,
            retry_after,
            ..
        } => {
            return Err(ctx::fail(ConsoleError::new(
                ErrorCode::FraudBlocked,
                format!("Numbers starting {prefix} are blocked by the fraud guard (many codes sent there were never verified, a sign of SMS pumping): sends are accepted again in {retry_after} s, or an admin can lift the block under Settings → Fraud guard."),
            )))
        }
    })
}

/// A message in the sandbox outbox, as the user would receive it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SandboxView {
    pub channel: String,
    pub to: Option<String>,
    pub email_to: Option<String>,
    pub subject: Option<String>,
    pub text: String,
    pub date_created: String,
}

/// The test OTP now: its SDR, its deliveries, and what the sandbox delivered for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestOtpProgress {
    pub sdr: SdrView,
    pub attempts: Vec<AttemptView>,
    pub messages: Vec<SandboxView>,
}

#[server(endpoint = "otp_test_state")]
pub async fn test_otp_state(request_id: String) -> Result<TestOtpProgress, ConsoleError> {
    use super::ctx;
    use crate::domain::Role;
    use crate::server::clock::rfc3339;
    use crate::server::services::otp::{detail, outbox};
    use crate::server::services::paging::PageRequest;
    let user = ctx::user(&[Role::Admin, Role::Developer]).await?;
    let state = ctx::state()?;
    let d = detail::detail(state.otp(), &user.scope, &request_id)
        .await
        .map_err(|e| ctx::fail(server::otp_error(e)))?;
    let otp = d.otp;
    let filter = outbox::OutboxFilter {
        request_id: Some(otp.sid.to_string()),
        ..Default::default()
    };
    let found = outbox::messages(
        state.otp(),
        &user.scope,
        &filter,
        PageRequest::default(),
        std::time::Duration::ZERO,
    )
    .await
    .map_err(|e| ctx::fail(server::otp_error(e)))?;
    Ok(TestOtpProgress {
        sdr: server::view(&otp),
        attempts: d.attempts.iter().map(server::attempt_view).collect(),
        messages: found
            .items
            .iter()
            .map(|m| SandboxView {
                channel: m.channel.as_str().into(),
                to: m.to.clone(),
                email_to: m.email_to.clone(),
                subject: m.subject.clone(),
                text: m.text.clone(),
                date_created: rfc3339(m.date_created),
            })
            .collect(),
    })
}

/// Verifies a code for an OTP exactly as `/2fa/verify` would answer it.
#[server(endpoint = "otp_verify_test")]
pub async fn verify_test_otp(request_id: String, code: String) -> Result<String, ConsoleError> {
    use super::ctx;
    use crate::domain::{ErrorCode, Role};
    use crate::server::services::otp::verify::{self, VerifyCommand, VerifyTarget};
    let user = ctx::user(&[Role::Admin, Role::Developer]).await?;
    let state = ctx::state()?;
    if crate::domain::code::normalize_input(&code).is_empty() {
        return Err(ctx::fail(ConsoleError::field(
            ErrorCode::InvalidParameter,
            "code",
            "Code is required.",
        )));
    }
    let cmd = VerifyCommand {
        target: VerifyTarget::Request(request_id),
        code,
    };
    let otp = verify::verify(state.otp(), &user.scope, cmd)
        .await
        .map_err(|e| ctx::fail(server::otp_error(e)))?;
    Ok(otp.status.as_str().to_owned())
}

/// A destination as the send would read it: the E.164 number and its country.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DestinationInfo {
    pub e164: String,
    pub country: Option<String>,
}

/// Checks a phone number as the user types (the same parser as the send).
#[server(endpoint = "otp_check_destination")]
pub async fn check_destination(to: String) -> Result<DestinationInfo, ConsoleError> {
    use super::ctx;
    use crate::domain::phone::PhoneDestination;
    use crate::domain::{ErrorCode, Role};
    ctx::user(&Role::ALL).await?;
    let p = PhoneDestination::parse(&to).map_err(|e| {
        ctx::fail(ConsoleError::field(
            ErrorCode::InvalidDestination,
            "to",
            format!("to {e}."),
        ))
    })?;
    Ok(DestinationInfo {
        e164: p.as_str().to_owned(),
        country: p.country().map(str::to_owned),
    })
}
