//! The OpenAPI 3 document of the `/2fa` API, generated from the handlers' annotations and the
//! schema types below; served at `/2fa/openapi.json`. A test checks real answers carry every
//! documented field, so the document cannot drift from the code unnoticed.
#![allow(dead_code)] // the schema types exist for the document

use axum::Json;
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// `POST /2fa/send` (JSON or form). Send `channel` or `workflow`, and `to` and/or `emailTo`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SendRequest {
    /// 1–64 chars; `{service}` in templates.
    service: String,
    /// `sms` | `call` | `email` (default `sms`).
    channel: Option<String>,
    /// 1–3 distinct channels tried in order (list, repeated form keys or "sms,call").
    workflow: Option<Vec<String>>,
    /// Seconds 15–900 (default 60) before the next workflow channel when not verified.
    workflow_timeout: Option<i64>,
    /// E.164 (`+14155550100`) or `client:<name>`.
    to: Option<String>,
    from: Option<String>,
    email_to: Option<String>,
    email_from: Option<String>,
    subject: Option<String>,
    /// ≤ 1600 chars with `{code}`; also `{service}`, `{ttl}` (minutes).
    body: Option<String>,
    /// BCP 47, optionally engine-prefixed (`awspolly.ja-JP`); default `en-US`.
    language: Option<String>,
    /// `man` | `woman` (default).
    voice: Option<String>,
    /// 1–5 (default 2).
    repeat: Option<i64>,
    /// 4–10 (default 6).
    code_length: Option<i64>,
    /// `numeric` (default) | `alphanumeric`.
    code_type: Option<String>,
    /// A caller-chosen code: 4–10 of `[0-9A-Z]`.
    code: Option<String>,
    /// Seconds 60–86400 (default 600).
    expiry: Option<i64>,
    /// 1–10 (default 5).
    max_attempts: Option<i64>,
    keep_old_otp_active: Option<bool>,
    /// `{"<limitName>": "<key>"}`, ≤ 5 entries.
    limits: Option<std::collections::BTreeMap<String, String>>,
    /// http(s) URL receiving signed status callbacks.
    status_callback: Option<String>,
    /// ≤ 128 chars, searchable.
    reference: Option<String>,
    /// Act as this sub-account.
    account_sid: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SendResponse {
    /// 200 (the HTTP status; never the OTP code).
    code: u16,
    message: String,
    #[serde(rename = "requestID")]
    request_id: String,
    status: String,
    channel: String,
    to: Option<String>,
    email_to: Option<String>,
    expires_at: String,
    attempts_left: i64,
}

/// `POST /2fa/verify`: `requestID` + `code`, or `service` + `to`/`emailTo` + `code`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerifyRequest {
    #[serde(rename = "requestID")]
    request_id: Option<String>,
    service: Option<String>,
    to: Option<String>,
    email_to: Option<String>,
    code: String,
    account_sid: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerifyResponse {
    code: u16,
    message: String,
    status: String,
    #[serde(rename = "requestID")]
    request_id: String,
    to: Option<String>,
    email_to: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CancelRequest {
    #[serde(rename = "requestID")]
    request_id: String,
    reason: Option<String>,
    account_sid: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CancelResponse {
    code: u16,
    message: String,
    #[serde(rename = "requestID")]
    request_id: String,
    status: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryAttempt {
    channel: String,
    provider: String,
    provider_sid: Option<String>,
    status: String,
    error: Option<String>,
    date_created: String,
}

#[derive(Serialize, ToSchema)]
pub struct Event {
    /// created, attempt_sent, delivery_report, delivery_failed, fallback, verify_failed,
    /// verified, max_attempts, canceled, expired, failed, callback.
    #[serde(rename = "type")]
    kind: String,
    at: String,
    detail: serde_json::Value,
}

/// A session detail record.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Sdr {
    #[serde(rename = "requestID")]
    request_id: String,
    account_sid: String,
    service: String,
    reference: Option<String>,
    channel: String,
    workflow: Vec<String>,
    to: Option<String>,
    from: Option<String>,
    email_to: Option<String>,
    email_from: Option<String>,
    country_code: Option<String>,
    language: String,
    status: String,
    cancel_reason: Option<String>,
    code_length: i64,
    code_type: String,
    expires_at: String,
    max_attempts: i64,
    verify_attempts: i64,
    attempts_left: i64,
    limits: std::collections::BTreeMap<String, String>,
    price: String,
    price_unit: String,
    date_created: String,
    date_updated: String,
    sent_at: Option<String>,
    delivered_at: Option<String>,
    verified_at: Option<String>,
    canceled_at: Option<String>,
    uri: String,
    /// Only in `GET /2fa/search/{requestID}`.
    delivery_attempts: Option<Vec<DeliveryAttempt>>,
    /// Only in `GET /2fa/search/{requestID}`.
    events: Option<Vec<Event>>,
}

/// The paging fields of every list.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Page {
    page: i64,
    page_size: i64,
    num_pages: i64,
    total: i64,
    start: i64,
    end: i64,
    uri: String,
    first_page_uri: String,
    previous_page_uri: Option<String>,
    next_page_uri: Option<String>,
    last_page_uri: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SearchResponse {
    #[serde(flatten)]
    page: Page,
    otps: Vec<Sdr>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SandboxMessage {
    #[serde(rename = "requestID")]
    request_id: String,
    channel: String,
    to: Option<String>,
    email_to: Option<String>,
    from: Option<String>,
    subject: Option<String>,
    text: String,
    date_created: String,
}

#[derive(Serialize, ToSchema)]
pub struct SandboxResponse {
    #[serde(flatten)]
    page: Page,
    messages: Vec<SandboxMessage>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    account_sid: String,
    friendly_name: String,
    parent_sid: Option<String>,
    /// active | suspended | closed
    status: String,
    date_created: String,
    date_updated: String,
    uri: String,
    /// Only in `POST /2fa/accounts`: shown once.
    auth_token: Option<String>,
    /// Only in `GET /2fa/accounts/{sid}`: verifies `X-Smart2FA-Signature` of callbacks.
    callback_signing_secret: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AccountsResponse {
    #[serde(flatten)]
    page: Page,
    accounts: Vec<Account>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountCreate {
    friendly_name: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountUpdate {
    friendly_name: Option<String>,
    /// active | suspended | closed
    status: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LimitBucket {
    /// 1–64 of `[A-Za-z0-9_.-]`, unique in the limit (default `bucket1`, `bucket2`).
    name: String,
    /// 1–1 000 000 accepted sends per key…
    max_otp: i64,
    /// …in any window of this many seconds (1–31 622 400).
    interval: i64,
}

/// `POST /2fa/limits`, `PUT /2fa/limits/{limitSid}` (PUT: every field optional).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LimitRequest {
    /// 1–64 of `[A-Za-z0-9_.-]`, unique per account (409/7050).
    name: String,
    description: Option<String>,
    /// 1–2 buckets (more: 400/7051).
    buckets: Vec<LimitBucket>,
    account_sid: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Limit {
    limit_sid: String,
    account_sid: String,
    name: String,
    description: String,
    buckets: Vec<LimitBucket>,
    date_created: String,
    date_updated: String,
    uri: String,
}

#[derive(Serialize, ToSchema)]
pub struct LimitsResponse {
    #[serde(flatten)]
    page: Page,
    limits: Vec<Limit>,
}

/// One usage record: OTPs created in the period (and group), how many were verified.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsageRecord {
    account_sid: String,
    /// First day of the period (UTC, YYYY-MM-DD).
    start_time: String,
    /// Last day of the period, inclusive.
    end_time: String,
    /// `all` unless grouped or filtered by it; the same for countryCode, status, service.
    channel: String,
    /// `none` for OTPs without a country (email).
    country_code: String,
    status: String,
    service: String,
    count: i64,
    verified: i64,
    conversion_rate: f64,
    price: String,
    price_unit: String,
    unit: String,
    description: String,
    uri: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsageRecordsResponse {
    #[serde(flatten)]
    page: Page,
    usage_records: Vec<UsageRecord>,
}

/// Every error answer.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorEnvelope {
    /// The HTTP status.
    code: u16,
    /// The stable error code (see `GET /2fa/errors`).
    error_code: u16,
    message: String,
    more_info: String,
    /// The parameter at fault (7004 and others).
    field: Option<String>,
    attempts_left: Option<i64>,
    status: Option<String>,
    retry_after: Option<u64>,
    limit: Option<String>,
    bucket: Option<String>,
    #[serde(rename = "requestID")]
    request_id: Option<String>,
    /// With 7000: quote it when reporting; it is in the server log.
    error_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorInfo {
    error_code: u16,
    http_status: u16,
    message: String,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorsResponse {
    errors: Vec<ErrorInfo>,
}

#[utoipa::path(post, path = "/2fa/send", tag = "OTP", request_body(content = SendRequest, content_type = "application/json"),
    params(("Idempotency-Key" = Option<String>, Header, description = "≤ 128 chars; the same key within 24 h replays the first answer")),
    responses((status = 200, body = SendResponse), (status = 400, body = ErrorEnvelope, description = "7004, 7005, 7010, 7012, 7021"),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 413, body = ErrorEnvelope),
        (status = 415, body = ErrorEnvelope), (status = 429, body = ErrorEnvelope, description = "7020, 7022, 7060")))]
fn send() {}

#[utoipa::path(post, path = "/2fa/verify", tag = "OTP", request_body(content = VerifyRequest, content_type = "application/json"),
    responses((status = 200, body = VerifyResponse), (status = 400, body = ErrorEnvelope, description = "7030 wrong code (attemptsLeft)"),
        (status = 404, body = ErrorEnvelope, description = "7003"), (status = 409, body = ErrorEnvelope, description = "7032 verified, 7033 canceled, 7035 failed"),
        (status = 410, body = ErrorEnvelope, description = "7031 expired"), (status = 429, body = ErrorEnvelope, description = "7034 locked")))]
fn verify() {}

#[utoipa::path(post, path = "/2fa/cancel", tag = "OTP", request_body(content = CancelRequest, content_type = "application/json"),
    responses((status = 200, body = CancelResponse), (status = 404, body = ErrorEnvelope, description = "7003 unknown, or blocked by a limit (never active; status)"),
        (status = 409, body = ErrorEnvelope, description = "Already final (status): 7031 expired (an overdue OTP expires now), 7032 verified, 7033 canceled, 7034 locked, 7035 failed")))]
fn cancel() {}

#[utoipa::path(get, path = "/2fa/search", tag = "SDR",
    params(("to" = Option<String>, Query,), ("emailTo" = Option<String>, Query,), ("service" = Option<String>, Query,),
        ("channel" = Option<String>, Query,), ("status" = Option<String>, Query,), ("countryCode" = Option<String>, Query,),
        ("reference" = Option<String>, Query,), ("startTime" = Option<String>, Query, description = "RFC 3339 or YYYY-MM-DD"),
        ("endTime" = Option<String>, Query, description = "RFC 3339 or YYYY-MM-DD (inclusive day)"), ("accountSid" = Option<String>, Query,),
        ("Page" = Option<i64>, Query,), ("PageSize" = Option<i64>, Query, description = "1–1000, default 50"),
        ("AfterSid" = Option<String>, Query, description = "The requestID of the previous page's last OTP: the page continues after it by position, so deep pages stay fast. `nextPageUri` carries it; use it with the next Page number.")),
    responses((status = 200, body = SearchResponse), (status = 400, body = ErrorEnvelope, description = "7004 (field), 7010 a to/emailTo that is not a valid destination (a + in a URL query must be sent as %2B)")))]
fn search() {}

#[utoipa::path(get, path = "/2fa/search/{requestID}", tag = "SDR", params(("requestID" = String, Path,)),
    responses((status = 200, body = Sdr), (status = 404, body = ErrorEnvelope)))]
fn sdr() {}

#[utoipa::path(get, path = "/2fa/sandbox/messages", tag = "Sandbox",
    params(("requestID" = Option<String>, Query,), ("to" = Option<String>, Query,), ("emailTo" = Option<String>, Query,),
        ("wait" = Option<i64>, Query, description = "Seconds (0-30) to hold an empty answer until a matching message arrives (long poll)."),
        ("Page" = Option<i64>, Query,), ("PageSize" = Option<i64>, Query,)),
    responses((status = 200, body = SandboxResponse)))]
fn sandbox() {}

#[utoipa::path(post, path = "/2fa/accounts", tag = "Accounts", request_body = AccountCreate,
    responses((status = 201, body = Account), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
fn accounts_create() {}

#[utoipa::path(get, path = "/2fa/accounts", tag = "Accounts", responses((status = 200, body = AccountsResponse)))]
fn accounts_list() {}

#[utoipa::path(get, path = "/2fa/accounts/{sid}", tag = "Accounts", params(("sid" = String, Path,)),
    responses((status = 200, body = Account), (status = 404, body = ErrorEnvelope)))]
fn accounts_get() {}

#[utoipa::path(post, path = "/2fa/accounts/{sid}", tag = "Accounts", params(("sid" = String, Path,)), request_body = AccountUpdate,
    responses((status = 200, body = Account), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
fn accounts_update() {}

#[utoipa::path(post, path = "/2fa/limits", tag = "Limits", request_body = LimitRequest,
    responses((status = 201, body = Limit), (status = 400, body = ErrorEnvelope, description = "7004, 7051"), (status = 409, body = ErrorEnvelope, description = "7050")))]
fn limits_create() {}

#[utoipa::path(get, path = "/2fa/limits", tag = "Limits",
    params(("name" = Option<String>, Query, description = "exact, or a prefix ending in *"), ("Page" = Option<i64>, Query,), ("PageSize" = Option<i64>, Query,)),
    responses((status = 200, body = LimitsResponse)))]
fn limits_list() {}

#[utoipa::path(get, path = "/2fa/limits/{limitSid}", tag = "Limits", params(("limitSid" = String, Path,)),
    responses((status = 200, body = Limit), (status = 404, body = ErrorEnvelope)))]
fn limits_get() {}

#[utoipa::path(put, path = "/2fa/limits/{limitSid}", tag = "Limits", params(("limitSid" = String, Path,)), request_body = LimitRequest,
    responses((status = 200, body = Limit), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
fn limits_update() {}

#[utoipa::path(delete, path = "/2fa/limits/{limitSid}", tag = "Limits", params(("limitSid" = String, Path,)),
    responses((status = 204), (status = 404, body = ErrorEnvelope)))]
fn limits_delete() {}

#[utoipa::path(get, path = "/2fa/usage/records", tag = "Usage",
    params(
        ("startDate" = Option<String>, Query, description = "YYYY-MM-DD (UTC, inclusive) or relative like -30days; default 29 days before endDate"),
        ("endDate" = Option<String>, Query, description = "YYYY-MM-DD (UTC, inclusive) or relative; default today"),
        ("channel" = Option<String>, Query,), ("countryCode" = Option<String>, Query,), ("status" = Option<String>, Query,), ("service" = Option<String>, Query,),
        ("groupBy" = Option<String>, Query, description = "comma list of channel, countryCode, status, service"),
        ("includeSubaccounts" = Option<bool>, Query,), ("accountSid" = Option<String>, Query,),
        ("Page" = Option<i64>, Query,), ("PageSize" = Option<i64>, Query,)),
    responses((status = 200, body = UsageRecordsResponse, description = "one record per group over the whole range"), (status = 400, body = ErrorEnvelope, description = "7004 naming the field")))]
fn usage_totals() {}

#[utoipa::path(get, path = "/2fa/usage/records/{period}", tag = "Usage",
    params(("period" = String, Path, description = "Daily, Monthly, Yearly, AllTime, Today, Yesterday, ThisMonth or LastMonth (any case)")),
    responses((status = 200, body = UsageRecordsResponse, description = "one record per period (and group); the same filters as /2fa/usage/records"), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
fn usage_by_period() {}

#[utoipa::path(get, path = "/2fa/errors", tag = "Errors", security(()), responses((status = 200, body = ErrorsResponse)))]
fn errors() {}

struct BasicAuth;

impl Modify for BasicAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some("AccountSid:AuthToken (or ApiKeySid:ApiKeySecret)"))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "smart2fa API", description = "Send, verify and cancel one-time codes by SMS, voice call or email; search session detail records. Every path also answers with a .json suffix. Errors are always the JSON envelope."),
    paths(send, verify, cancel, search, sdr, sandbox, accounts_create, accounts_list, accounts_get, accounts_update, limits_create, limits_list, limits_get, limits_update, limits_delete, usage_totals, usage_by_period, errors),
    modifiers(&BasicAuth),
    security(("basic" = [])),
)]
pub struct ApiDoc;

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
