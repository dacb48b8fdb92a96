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
        matches!(self.status.as_str(), "pending" | "sent" | "delivered")
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

/// The URL parameter of each filter of [`OtpQuery`], with the API field its errors name.
pub const QUERY_FIELDS: [(&str, &str); 9] = [
    ("destination", "to"),
    ("request_id", "requestID"),
    ("reference", "reference"),
    ("status", "status"),
    ("channel", "channel"),
    ("country", "countryCode"),
    ("service", "service"),
    ("from", "startTime"),
    ("until", "endTime"),
];

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

    /// The filters as the fields of a `/2fa/search` request.
    #[cfg(feature = "ssr")]
    pub fn to_fields(&self) -> serde_json::Map<String, Value> {
        let mut m = serde_json::Map::new();
        let mut put = |k: &str, v: &str| {
            if !v.trim().is_empty() {
                m.insert(k.into(), Value::String(v.trim().to_owned()));
            }
        };
        if self.destination.contains('@') {
            put("emailTo", &self.destination);
        } else {
            // People paste numbers as they read them: "+1 (415) 555-0100".
            let compact: String = self
                .destination
                .chars()
                .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.'))
                .collect();
            put("to", &compact);
        }
        put("requestID", &self.request_id);
        put("reference", &self.reference);
        put("status", &self.status);
        put("channel", &self.channel);
        put("countryCode", &self.country);
        put("service", &self.service);
        put("startTime", &self.from);
        put("endTime", &self.until);
        m
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
    use crate::server::db::otps::OtpRow;
    use crate::server::db::Db;
    use crate::server::services::otp::input::Fields;
    use crate::server::services::otp::sdr::{self, Cursor, OtpFilter, Seek};
    use crate::server::services::{AccountScope, ServiceResult};

    pub fn view(row: &OtpRow) -> SdrView {
        serde_json::from_value(sdr::summary(row)).expect("an SDR summary has every SdrView field")
    }

    /// The console's field names for an error about an API field.
    pub fn console_field(err: &mut ConsoleError) {
        if let Some(f) = err.field.as_deref() {
            let api = if f == "emailTo" { "to" } else { f };
            if let Some((console, _)) = QUERY_FIELDS.iter().find(|(_, a)| *a == api) {
                err.field = Some((*console).to_owned());
            }
        }
    }

    pub async fn search(db: &Db, scope: &AccountScope, q: &OtpQuery) -> ServiceResult<OtpPage> {
        let fields = q.to_fields();
        let filter = OtpFilter::parse(&Fields(&fields), scope)?;
        let seek = if !q.before.is_empty() {
            Seek::Older(Cursor::decode("before", &q.before)?)
        } else if !q.after.is_empty() {
            Seek::Newer(Cursor::decode("after", &q.after)?)
        } else {
            Seek::First
        };
        let (rows, more) = sdr::search_keyset(db, &filter, &seek, PAGE_SIZE).await?;
        let total = sdr::count_capped(db, &filter, COUNT_CAP).await?;
        let first = rows.first().map(Cursor::of);
        let last = rows.last().map(Cursor::of);
        // Walking older: more rows beyond means an older page; any cursor means a newer one.
        let (has_older, has_newer) = match seek {
            Seek::First => (more, false),
            Seek::Older(_) => (more, true),
            Seek::Newer(_) => (true, more),
        };
        Ok(OtpPage {
            rows: rows.iter().map(view).collect(),
            older: last.filter(|_| has_older).map(|c| c.encode()),
            newer: first.filter(|_| has_newer).map(|c| c.encode()),
            total,
        })
    }

    pub fn event_view(e: &Value) -> EventView {
        let details = match &e["detail"] {
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
            at: e["at"].as_str().unwrap_or_default().to_owned(),
            kind: e["type"].as_str().unwrap_or_default().to_owned(),
            details,
        }
    }
}

#[cfg(feature = "ssr")]
pub use server::{search as search_otps_service, view as sdr_view};

/// The OTPs page: filtered, newest first, by position.
#[server(endpoint = "otps_search")]
pub async fn search_otps(query: OtpQuery) -> Result<OtpPage, ConsoleError> {
    use super::ctx;
    use crate::domain::Role;
    let user = ctx::user(&Role::ALL).await?;
    let state = ctx::state()?;
    server::search(state.db(), &user.scope, &query)
        .await
        .map_err(|e| {
            let mut err = ctx::service(e);
            server::console_field(&mut err);
            err
        })
}

/// One SDR with its delivery attempts and timeline (never the code).
#[server(endpoint = "otp_detail")]
pub async fn otp_detail(request_id: String) -> Result<SdrDetail, ConsoleError> {
    use super::ctx;
    use crate::domain::Role;
    use crate::server::services::otp::sdr;
    let user = ctx::user(&Role::ALL).await?;
    let state = ctx::state()?;
    let v = sdr::detail(
        state.db(),
        &user.scope,
        &serde_json::Map::new(),
        &request_id,
    )
    .await
    .map_err(ctx::service)?;
    let attempts = serde_json::from_value(v["deliveryAttempts"].clone()).unwrap_or_default();
    let events = v["events"]
        .as_array()
        .map(|a| a.iter().map(server::event_view).collect())
        .unwrap_or_default();
    let sdr = serde_json::from_value(v)
        .map_err(|e| ctx::service(crate::server::services::ServiceError::Internal(e.into())))?;
    Ok(SdrDetail {
        sdr,
        attempts,
        events,
    })
}

/// Cancels an active OTP (admins, developers and support staff), like `/2fa/cancel`.
#[server(endpoint = "otp_cancel")]
pub async fn cancel_otp(request_id: String) -> Result<String, ConsoleError> {
    use super::ctx;
    use crate::domain::Role;
    use crate::server::services::otp::cancel;
    let user = ctx::user(&Role::ALL).await?;
    let state = ctx::state()?;
    let mut body = serde_json::Map::new();
    body.insert("requestID".into(), request_id.into());
    body.insert(
        "reason".into(),
        format!("canceled in the console by {}", user.email).into(),
    );
    let row = cancel::cancel(&state, &user.scope, &body, "console")
        .await
        .map_err(ctx::service)?;
    tracing::info!(user = %user.sid, otp = %row.sid, "otp canceled in the console");
    Ok(row.status)
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
    /// The `/2fa/send` body; a malformed limits line names the `limits` field.
    pub fn to_body(&self) -> Result<serde_json::Map<String, Value>, ConsoleError> {
        use crate::domain::ErrorCode;
        let mut m = serde_json::Map::new();
        let channels: Vec<&str> = self
            .channels
            .iter()
            .map(|c| c.trim())
            .filter(|c| !c.is_empty())
            .collect();
        match channels.as_slice() {
            [] => {}
            [one] => {
                m.insert("channel".into(), (*one).into());
            }
            many => {
                m.insert("workflow".into(), many.to_vec().into());
            }
        }
        for (k, v) in [
            ("to", &self.to),
            ("emailTo", &self.email_to),
            ("service", &self.service),
            ("from", &self.from),
            ("language", &self.language),
            ("voice", &self.voice),
            ("codeType", &self.code_type),
            ("reference", &self.reference),
        ] {
            if !v.trim().is_empty() {
                m.insert(k.into(), v.trim().into());
            }
        }
        for (k, v) in [
            ("repeat", &self.repeat),
            ("codeLength", &self.code_length),
            ("expiry", &self.expiry),
            ("maxAttempts", &self.max_attempts),
        ] {
            let v = v.trim();
            if !v.is_empty() {
                // Numbers stay numbers; anything else goes through as text for the API's message.
                let value = v.parse::<i64>().map(Value::from).unwrap_or(v.into());
                m.insert(k.into(), value);
            }
        }
        if self.keep_old_otp_active {
            m.insert("keepOldOtpActive".into(), true.into());
        }
        let mut limits = serde_json::Map::new();
        for line in self.limits.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let (name, key) = line.split_once('=').ok_or_else(|| {
                ConsoleError::field(
                    ErrorCode::InvalidParameter,
                    "limits",
                    format!("Write each limit as name=key (got {line:?})."),
                )
            })?;
            limits.insert(name.trim().into(), key.trim().into());
        }
        if !limits.is_empty() {
            m.insert("limits".into(), limits.into());
        }
        Ok(m)
    }
}

/// Sends a test OTP through the same use case as `/2fa/send` (admins and developers).
#[server(endpoint = "otp_send_test")]
pub async fn send_test_otp(form: SendForm) -> Result<SendAnswer, ConsoleError> {
    use super::ctx;
    use crate::domain::Role;
    use crate::server::services::otp::send;
    let user = ctx::user(&[Role::Admin, Role::Developer]).await?;
    let state = ctx::state()?;
    let body = form.to_body().map_err(ctx::fail)?;
    let out = send::send(&state, &user.scope, &body, None)
        .await
        .map_err(ctx::service)?;
    let request_id = out.body["requestID"].as_str().map(str::to_owned);
    tracing::info!(user = %user.sid, otp = ?request_id, "test otp sent from the console");
    Ok(SendAnswer {
        code: out.body["code"].as_u64().unwrap_or(out.status as u64) as u16,
        message: out.body["message"].as_str().unwrap_or_default().to_owned(),
        request_id,
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

/// The test OTP now: its SDR and what the sandbox delivered for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestOtpProgress {
    pub sdr: SdrView,
    pub messages: Vec<SandboxView>,
}

#[server(endpoint = "otp_test_state")]
pub async fn test_otp_state(request_id: String) -> Result<TestOtpProgress, ConsoleError> {
    use super::ctx;
    use crate::domain::Role;
    use crate::server::services::otp::sdr;
    let user = ctx::user(&[Role::Admin, Role::Developer]).await?;
    let state = ctx::state()?;
    let row = sdr::load_row(state.db(), &user.scope, &request_id)
        .await
        .map_err(ctx::service)?;
    let mut filter = serde_json::Map::new();
    filter.insert("requestID".into(), row.sid.clone().into());
    let outbox = sdr::sandbox_messages(state.db(), &user.scope, &filter)
        .await
        .map_err(ctx::service)?;
    let messages = serde_json::from_value(outbox["messages"].clone()).unwrap_or_default();
    Ok(TestOtpProgress {
        sdr: server::view(&row),
        messages,
    })
}

/// Verifies a code for an OTP exactly as `/2fa/verify` would answer it.
#[server(endpoint = "otp_verify_test")]
pub async fn verify_test_otp(request_id: String, code: String) -> Result<String, ConsoleError> {
    use super::ctx;
    use crate::domain::Role;
    use crate::server::services::otp::verify;
    let user = ctx::user(&[Role::Admin, Role::Developer]).await?;
    let state = ctx::state()?;
    let mut body = serde_json::Map::new();
    body.insert("requestID".into(), request_id.into());
    body.insert("code".into(), code.into());
    let v = verify::verify(&state, &user.scope, &body)
        .await
        .map_err(ctx::service)?;
    Ok(v.row.status)
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
