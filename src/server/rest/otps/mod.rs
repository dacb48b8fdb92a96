//! `/2fa/send`, `/2fa/verify`, `/2fa/cancel`, `/2fa/search`, `/2fa/sandbox/messages`: each
//! handler reads its wire type into a command, runs the use case and answers its wire type.
pub mod wire;

use super::api_error::ApiError;
use super::input::{invalid, ApiInput, Loose};
use super::paging::{acting_for, link, Page};
use crate::domain::destination::Destination;
use crate::domain::otp::{self as rules, SendReceipt, Voice};
use crate::domain::{code, email, phone, template, url, CodeType};
use crate::domain::{dates, Problem};
use crate::server::auth::ApiCaller;
#[allow(unused_imports)]
use crate::server::rest::api_error::ErrorEnvelope;
use crate::server::services::otp::cancel::{self, CancelCommand};
use crate::server::services::otp::search::{self, OtpFilter, SearchPage};
use crate::server::services::otp::send::{self, IdempotencyKey, SendCommand, SendResult};
use crate::server::services::otp::verify::{self, VerifyCommand, VerifyTarget};
use crate::server::services::otp::{detail, outbox};
use crate::server::services::AccountScope;
use crate::server::state::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use http::HeaderMap;
use wire::*;

/// The scope a request acts in: the caller, or the sub-account its `accountSid` names.
pub(super) async fn acting(
    state: &AppState,
    caller: &AccountScope,
    account_sid: &Loose,
) -> Result<AccountScope, ApiError> {
    let target = account_sid.account_sid("accountSid")?;
    Ok(caller.act_as(state.db(), target.as_ref()).await?)
}

#[utoipa::path(post, path = "/2fa/send", tag = "OTP", request_body(content = SendRequest, content_type = "application/json"),
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 128, pattern = "^[!-~]{1,128}$", description = "1–128 visible ASCII characters; the same key within 24 h replays the first answer")),
    responses((status = 200, body = SendResponse), (status = 400, body = ErrorEnvelope, description = "7004, 7005, 7010, 7012, 7021"),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 413, body = ErrorEnvelope),
        (status = 415, body = ErrorEnvelope), (status = 429, body = ErrorEnvelope, description = "7020, 7022, 7024 (fraud guard), 7060")))]
pub async fn send(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    headers: HeaderMap,
    input: ApiInput,
) -> Result<Response, ApiError> {
    let request_hash =
        crate::server::crypto::hash_token(&serde_json::Value::Object(input.0.clone()).to_string());
    let req: SendRequest = input.into_wire()?;
    let cmd = send_command(&req)?;
    let scope = acting(&state, &caller, &req.account_sid).await?;
    // A callback URL must not make us reach internal addresses.
    if let Some(url) = &cmd.status_callback {
        state
            .outbound()
            .check_url(url)
            .await
            .map_err(|e| invalid("statusCallback", Problem::says(e.to_string())))?;
    }
    let idempotency = match headers.get("idempotency-key") {
        None => None,
        Some(v) => Some(IdempotencyKey {
            key: idempotency_key(v.as_bytes())?,
            request_hash,
        }),
    };
    let result = send::send(state.otp(), &scope, cmd, idempotency).await?;
    let replayed = matches!(result, SendResult::Replayed(_));
    let mut res = match result.receipt() {
        SendReceipt::Blocked {
            request_id,
            limit,
            bucket,
            retry_after,
        } => ApiError::limit_exceeded(request_id.as_str(), limit, bucket, *retry_after)
            .into_response(),
        SendReceipt::FraudBlocked {
            request_id,
            prefix,
            retry_after,
        } => ApiError::fraud_blocked(request_id.as_str(), prefix, *retry_after).into_response(),
        accepted => {
            let channel = match accepted {
                SendReceipt::Accepted { channel, .. } => *channel,
                SendReceipt::Blocked { .. } | SendReceipt::FraudBlocked { .. } => {
                    crate::domain::Channel::Sms
                }
            };
            let sandbox = crate::server::services::providers::uses_sandbox(
                state.db(),
                state.otp().code_key(),
                state.providers(),
                scope.sid(),
                channel,
            )
            .await
            .map_err(ApiError::internal)?;
            Json(SendResponse::of(accepted, sandbox)).into_response()
        }
    };
    if replayed {
        res.headers_mut().insert(
            "idempotent-replayed",
            http::HeaderValue::from_static("true"),
        );
    }
    Ok(res)
}

/// The `Idempotency-Key` header: 1–128 visible ASCII characters (spaces inside allowed, around
/// it trimmed). Anything else is refused rather than read lossily, so two different keys can
/// never become one.
fn idempotency_key(raw: &[u8]) -> Result<String, ApiError> {
    let bad = || {
        invalid(
            "Idempotency-Key",
            Problem::sentence(
                "The Idempotency-Key header must be 1–128 visible ASCII characters (letters, digits, punctuation).",
            ),
        )
    };
    let text = std::str::from_utf8(raw).map_err(|_| bad())?.trim();
    if text.is_empty()
        || text.len() > 128
        || !text.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
    {
        return Err(bad());
    }
    Ok(text.to_owned())
}

/// The send's fields as domain values; every problem names the field as the API calls it.
fn send_command(r: &SendRequest) -> Result<SendCommand, ApiError> {
    let parse = |name: &str, v: Option<String>, f: &dyn Fn(&str) -> Result<String, Problem>| {
        v.map(|raw| f(&raw).map_err(|p| invalid(name, p)))
            .transpose()
    };
    let service = r.service.required_text("service", rules::SERVICE_CHARS)?;
    let workflow = match r.workflow.list("workflow")? {
        Some(_) if r.channel.is_present() => {
            return Err(invalid(
                "workflow",
                Problem::sentence("Send either channel or workflow, not both."),
            ))
        }
        Some(items) => Some(rules::parse_workflow(&items).map_err(|p| invalid("workflow", p))?),
        None => r
            .channel
            .channel("channel")?
            .map(crate::domain::Workflow::single),
    };
    let workflow_timeout_secs = r
        .workflow_timeout
        .int("workflowTimeout", rules::WORKFLOW_TIMEOUT_SECS)?;
    let uses_phone = workflow.as_ref().is_none_or(|w| w.uses_phone());
    let mut email_to = match r.email_to.string("emailTo")? {
        Some(e) => Some(email::parse_destination(&e).map_err(|p| invalid("emailTo", p))?),
        None => None,
    };
    let mut to = None;
    if let Some(raw) = r.to.string("to")? {
        if raw.contains('@') && !uses_phone {
            // An email address in `to` is accepted for the email channel.
            if email_to.is_none() {
                email_to = Some(email::parse_destination(&raw).map_err(|p| invalid("to", p))?);
            }
        } else {
            to = Some(phone::parse_destination(&raw).map_err(|p| invalid("to", p))?);
        }
    }
    let email_from = match r.email_from.string("emailFrom")? {
        Some(e) => Some(email::parse_destination(&e).map_err(|p| invalid("emailFrom", p))?),
        None => None,
    };
    let body = parse("body", r.body.string("body")?, &template::check_body)?;
    let language = parse(
        "language",
        r.language.string("language")?,
        &rules::parse_language,
    )?;
    let voice = match r.voice.string("voice")? {
        Some(v) => Some(Voice::parse(&v).map_err(|p| invalid("voice", p))?),
        None => None,
    };
    let code_type = match r.code_type.string("codeType")? {
        Some(t) => Some(CodeType::parse_or_problem(&t).map_err(|p| invalid("codeType", p))?),
        None => None,
    };
    let code = parse("code", r.code.string("code")?, &code::parse_code)?;
    let code_length = r.code_length.int("codeLength", rules::CODE_LENGTH)?;
    let limits = r.limits.string_map("limits")?.unwrap_or_default();
    let status_callback = parse(
        "statusCallback",
        r.status_callback
            .text("statusCallback", rules::CALLBACK_URL_CHARS)?,
        &url::callback_url,
    )?;
    r.account_sid.account_sid("accountSid")?;
    Ok(SendCommand {
        service,
        workflow,
        workflow_timeout_secs,
        to,
        from: r.from.line("from", rules::FROM_CHARS)?,
        email_to,
        email_from,
        subject: r.subject.line("subject", rules::SUBJECT_CHARS)?,
        body,
        language,
        voice,
        repeat: r.repeat.int("repeat", rules::REPEAT)?,
        code_length: code_length.map(|n| n as usize),
        code_type,
        code,
        expiry_secs: r.expiry.int("expiry", rules::EXPIRY_SECS)?,
        max_attempts: r.max_attempts.int("maxAttempts", rules::MAX_ATTEMPTS)?,
        keep_old_otp_active: r.keep_old_otp_active.bool("keepOldOtpActive")?,
        limits,
        status_callback,
        reference: r.reference.text("reference", rules::REFERENCE_CHARS)?,
    })
}

#[utoipa::path(post, path = "/2fa/verify", tag = "OTP", request_body(content = VerifyRequest, content_type = "application/json"),
    responses((status = 200, body = VerifyResponse), (status = 400, body = ErrorEnvelope, description = "7030 wrong code (attemptsLeft)"),
        (status = 404, body = ErrorEnvelope, description = "7003"), (status = 409, body = ErrorEnvelope, description = "7032 verified, 7033 canceled, 7035 failed"),
        (status = 410, body = ErrorEnvelope, description = "7031 expired"), (status = 429, body = ErrorEnvelope, description = "7034 locked")))]
pub async fn verify(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    input: ApiInput,
) -> Result<Json<VerifyResponse>, ApiError> {
    let req: VerifyRequest = input.into_wire()?;
    let scope = acting(&state, &caller, &req.account_sid).await?;
    let code = req
        .code
        .string("code")?
        .map(|c| crate::domain::code::normalize_input(&c))
        .filter(|c| !c.is_empty())
        .ok_or_else(|| invalid("code", Problem::Required))?;
    if code.len() > 64 {
        return Err(invalid("code", Problem::says("is too long.")));
    }
    let target = match req.request_id.string("requestID")? {
        Some(id) => VerifyTarget::Request(id),
        None => VerifyTarget::Destination {
            service: req
                .service
                .required_text("service", rules::SERVICE_CHARS)
                .map_err(|_| {
                    invalid(
                        "requestID",
                        Problem::sentence("Send requestID, or service with to or emailTo."),
                    )
                })?,
            destination: verify_destination(&req)?,
        },
    };
    let otp = verify::verify(state.otp(), &scope, VerifyCommand { target, code }).await?;
    Ok(Json(VerifyResponse::from(&otp)))
}

fn verify_destination(req: &VerifyRequest) -> Result<Destination, ApiError> {
    match (req.to.string("to")?, req.email_to.string("emailTo")?) {
        (Some(to), _) if !to.contains('@') => Ok(Destination::Phone(
            phone::parse_destination(&to).map_err(|p| invalid("to", p))?,
        )),
        (Some(to), _) => Ok(Destination::Email(
            email::parse_destination(&to).map_err(|p| invalid("to", p))?,
        )),
        (None, Some(e)) => Ok(Destination::Email(
            email::parse_destination(&e).map_err(|p| invalid("emailTo", p))?,
        )),
        (None, None) => Err(invalid(
            "to",
            Problem::sentence("to or emailTo is required with service."),
        )),
    }
}

#[utoipa::path(post, path = "/2fa/cancel", tag = "OTP", request_body(content = CancelRequest, content_type = "application/json"),
    responses((status = 200, body = CancelResponse), (status = 404, body = ErrorEnvelope, description = "7003 unknown, or blocked by a limit (never active; status)"),
        (status = 409, body = ErrorEnvelope, description = "Already final (status): 7031 expired (an overdue OTP expires now), 7032 verified, 7033 canceled, 7034 locked, 7035 failed")))]
pub async fn cancel(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    crate::server::auth::ApiOrigin(origin): crate::server::auth::ApiOrigin,
    input: ApiInput,
) -> Result<Json<CancelResponse>, ApiError> {
    let req: CancelRequest = input.into_wire()?;
    let scope = acting(&state, &caller, &req.account_sid).await?;
    let cmd = CancelCommand {
        request_id: req.request_id.required_text("requestID", (1, 64))?,
        reason: req.reason.text("reason", rules::CANCEL_REASON_CHARS)?,
        by: "api",
    };
    let reason = cmd.reason.clone();
    let otp = cancel::cancel(state.otp(), &scope, cmd).await?;
    crate::server::services::audit::record_after(
        state.db(),
        state.clock(),
        Some(scope.sid()),
        &origin,
        crate::server::services::audit::otp_cancel_change(&otp, reason.as_deref()),
    )
    .await;
    Ok(Json(CancelResponse {
        code: 200,
        message: "OK".into(),
        request_id: otp.sid.to_string(),
        status: otp.status.as_str().into(),
    }))
}

/// The search filters, and the same filters as query pairs for the answer's links.
fn search_filter(r: &SearchRequest) -> Result<(OtpFilter, Vec<(String, String)>), ApiError> {
    let mut f = OtpFilter::default();
    let mut echo: Vec<(String, String)> = Vec::new();
    let mut keep = |name: &str, v: &Option<String>| {
        if let Some(v) = v {
            echo.push((name.to_owned(), v.clone()));
        }
    };
    // Destinations are matched as they are stored (normalized): one that could never have
    // been sent to is an error that says why, not an empty answer.
    if let Some(to) = r.to.text("to", (1, 64))? {
        f.to = Some(phone::to_find(&to).map_err(|p| invalid("to", p))?);
    }
    keep("to", &f.to);
    if let Some(e) = r.email_to.text("emailTo", (1, 254))? {
        let e = email::parse_destination(&e).map_err(|p| invalid("emailTo", p))?;
        f.email_to = Some(e.as_str().to_owned());
    }
    keep("emailTo", &f.email_to);
    f.request_id = r
        .request_id
        .text("requestID", (1, 64))?
        .map(|s| s.trim().to_owned());
    keep("requestID", &f.request_id);
    f.service = r.service.text("service", rules::SERVICE_CHARS)?;
    keep("service", &f.service);
    f.channel = r.channel.channel("channel")?;
    keep("channel", &f.channel.map(|c| c.as_str().to_owned()));
    f.status = r.status.status("status")?;
    keep("status", &f.status.map(|s| s.as_str().to_owned()));
    f.country_code = r.country_code.country_code("countryCode")?;
    keep("countryCode", &f.country_code);
    f.reference = r.reference.text("reference", rules::REFERENCE_CHARS)?;
    keep("reference", &f.reference);
    let start = r.start_time.string("startTime")?;
    let end = r.end_time.string("endTime")?;
    f.created_from = start
        .as_deref()
        .map(|s| dates::parse_time(s, false).map_err(|p| invalid("startTime", p)))
        .transpose()?;
    f.created_before = end
        .as_deref()
        .map(|s| dates::parse_time(s, true).map_err(|p| invalid("endTime", p)))
        .transpose()?;
    if let (Some(a), Some(b)) = (f.created_from, f.created_before) {
        if a > b {
            return Err(invalid(
                "endTime",
                Problem::says("must not be before startTime."),
            ));
        }
    }
    keep("startTime", &start);
    keep("endTime", &end);
    Ok((f, echo))
}

#[utoipa::path(get, path = "/2fa/search", tag = "SDR",
    params(("to" = Option<String>, Query,), ("emailTo" = Option<String>, Query,), ("service" = Option<String>, Query,),
        ("channel" = Option<String>, Query,), ("status" = Option<String>, Query,), ("countryCode" = Option<String>, Query,),
        ("reference" = Option<String>, Query,), ("startTime" = Option<String>, Query, description = "RFC 3339 or YYYY-MM-DD"),
        ("endTime" = Option<String>, Query, description = "RFC 3339 or YYYY-MM-DD (inclusive day)"), ("accountSid" = Option<String>, Query,),
        ("Page" = Option<i64>, Query,), ("PageSize" = Option<i64>, Query, description = "1–1000, default 50"),
        ("AfterSid" = Option<String>, Query, description = "The requestID of the previous page's last OTP: the page continues after it by position, so deep pages stay fast. `nextPageUri` carries it; use it with the next Page number.")),
    responses((status = 200, body = SearchResponse), (status = 400, body = ErrorEnvelope, description = "7004 (field), 7010 a to/emailTo that is not a valid destination (a + in a URL query must be sent as %2B)")))]
pub async fn search(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    input: ApiInput,
) -> Result<Json<SearchResponse>, ApiError> {
    let req: SearchRequest = input.into_wire()?;
    let scope = acting(&state, &caller, &req.account_sid).await?;
    let after = req.after_sid.text("AfterSid", (1, 64))?;
    let paging = req.paging.parse_positional(after.is_some())?;
    let (filter, filters) = search_filter(&req)?;
    let page = match after {
        Some(after) => SearchPage::After {
            after,
            size: paging.size,
        },
        None => SearchPage::Page(paging),
    };
    let found = search::search(state.otp(), &scope, &filter, page).await?;
    let mut echo = acting_for(&scope, &caller);
    echo.extend(filters);
    let mut page = Page::counted(
        paging,
        found.total,
        found.capped,
        found.items.len(),
        "/2fa/search",
        &echo,
    );
    // The next page continues after this page's last OTP (`AfterSid`), not by offset.
    if let (Some(last), Some(_)) = (found.items.last(), &page.next_page_uri) {
        echo.push(("AfterSid".into(), last.sid.to_string()));
        page.next_page_uri = Some(link("/2fa/search", &echo, paging.page + 1, paging.size));
    }
    Ok(Json(SearchResponse {
        page,
        otps: found.items.iter().map(Sdr::from).collect(),
    }))
}

#[utoipa::path(get, path = "/2fa/search/{requestID}", tag = "SDR", params(("requestID" = String, Path,)),
    responses((status = 200, body = Sdr), (status = 404, body = ErrorEnvelope)))]
pub async fn sdr_one(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(sid): Path<String>,
    input: ApiInput,
) -> Result<Json<Sdr>, ApiError> {
    let req: ScopeRequest = input.into_wire()?;
    let scope = acting(&state, &caller, &req.account_sid).await?;
    let d = detail::detail(state.otp(), &scope, &sid).await?;
    let mut sdr = Sdr::from(&d.otp);
    sdr.delivery_attempts = Some(d.attempts.iter().map(DeliveryAttempt::from).collect());
    sdr.events = Some(d.events.iter().map(Event::from).collect());
    Ok(Json(sdr))
}

#[utoipa::path(get, path = "/2fa/sandbox/messages", tag = "Sandbox",
    params(("requestID" = Option<String>, Query,), ("to" = Option<String>, Query,), ("emailTo" = Option<String>, Query,),
        ("wait" = Option<i64>, Query, description = "Seconds (0-30) to hold an empty answer until a matching message arrives (long poll)."),
        ("Page" = Option<i64>, Query,), ("PageSize" = Option<i64>, Query,)),
    responses((status = 200, body = SandboxResponse)))]
pub async fn sandbox_messages(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    input: ApiInput,
) -> Result<Json<SandboxResponse>, ApiError> {
    let req: SandboxRequest = input.into_wire()?;
    let wait = req.wait.int("wait", (0, 30))?.unwrap_or(0);
    let scope = acting(&state, &caller, &req.account_sid).await?;
    let paging = req.paging.parse()?;
    let mut filter = outbox::OutboxFilter {
        request_id: req
            .request_id
            .text("requestID", (1, 64))?
            .map(|v| v.trim().to_owned()),
        ..Default::default()
    };
    if let Some(v) = req.to.text("to", (1, 64))? {
        filter.to = Some(phone::to_find(&v).map_err(|p| invalid("to", p))?);
    }
    if let Some(v) = req.email_to.text("emailTo", (1, 254))? {
        let e = email::parse_destination(&v).map_err(|p| invalid("emailTo", p))?;
        filter.email_to = Some(e.as_str().to_owned());
    }
    let mut echo = acting_for(&scope, &caller);
    for (name, v) in [
        ("requestID", &filter.request_id),
        ("to", &filter.to),
        ("emailTo", &filter.email_to),
    ] {
        if let Some(v) = v {
            echo.push((name.to_owned(), v.clone()));
        }
    }
    let found = outbox::messages(
        state.otp(),
        &scope,
        &filter,
        paging,
        std::time::Duration::from_secs(wait as u64),
    )
    .await?;
    Ok(Json(SandboxResponse {
        page: Page::counted(
            paging,
            found.total,
            found.capped,
            found.items.len(),
            "/2fa/sandbox/messages",
            &echo,
        ),
        messages: found.items.iter().map(SandboxMessage::from).collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Channel, ErrorCode};
    use serde_json::{json, Value};

    fn parse(v: Value) -> Result<SendCommand, ApiError> {
        let req: SendRequest = serde_json::from_value(v).unwrap();
        send_command(&req)
    }

    #[test]
    fn each_rule_names_its_field() {
        let cases = [
            (
                json!({"to": "+14155550100"}),
                ErrorCode::InvalidParameter,
                "service",
            ),
            (
                json!({"service": "x", "to": "12345"}),
                ErrorCode::InvalidDestination,
                "to",
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
                json!({"service": "x", "workflow": "sms", "channel": "sms", "to": "+14155550100"}),
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
            (
                json!({"service": "x", "to": "+14155550100", "accountSid": "AC1"}),
                ErrorCode::InvalidParameter,
                "accountSid",
            ),
            (
                json!({"service": "x", "channel": "email", "emailTo": "a@example.com", "subject": "Hi\r\nBcc: x@example.com"}),
                ErrorCode::InvalidParameter,
                "subject",
            ),
            (
                json!({"service": "x", "to": "+14155550100", "from": "Me\nYou"}),
                ErrorCode::InvalidParameter,
                "from",
            ),
        ];
        for (input, code, name) in cases {
            let e = parse(input.clone()).unwrap_err();
            assert_eq!(
                (e.code, e.details.field.as_deref()),
                (code, Some(name)),
                "{input}: {}",
                e.message
            );
        }
        let e = parse(json!({"service": "x", "to": "+14155550100", "expiry": "soon"})).unwrap_err();
        assert_eq!(e.message, "expiry must be a whole number from 60 to 86400.");
        let e = parse(json!({"service": "x", "to": " 14155550100"})).unwrap_err();
        assert!(e.message.contains("%2B"), "{}", e.message);
    }

    #[test]
    fn email_in_to_and_workflows() {
        let c =
            parse(json!({"service": "x", "channel": "email", "to": "ana@example.com"})).unwrap();
        assert_eq!(c.email_to.unwrap().as_str(), "ana@example.com");
        assert!(c.to.is_none());
        let c = parse(json!({"service": "x", "workflow": "sms,email", "to": "+14155550100", "emailTo": "a@example.com"})).unwrap();
        assert_eq!(
            c.workflow.unwrap().channels(),
            &[Channel::Sms, Channel::Email]
        );
        // Forms send numbers and lists as text.
        let c = parse(json!({"service": "x", "to": "+14155550100", "expiry": "120", "workflow": ["call"], "keepOldOtpActive": "true", "limits": "{\"per_ip\": \"1.2.3.4\"}"})).unwrap();
        assert_eq!(c.expiry_secs, Some(120));
        assert_eq!(c.keep_old_otp_active, Some(true));
        assert_eq!(c.limits, vec![("per_ip".to_owned(), "1.2.3.4".to_owned())]);
        assert_eq!(c.workflow.unwrap().channels(), &[Channel::Call]);
    }
}
