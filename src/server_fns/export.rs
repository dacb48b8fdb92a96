//! CSV exports for signed-in console users (plain GET routes beside the server functions).
//! `GET /console/otps.csv`: the OTPs page's filtered set, streamed in keyset batches through a
//! small channel, so an export of millions of rows holds one batch in memory and stops as soon
//! as the browser goes away. `GET /console/usage.csv`: the Usage page's table.
use crate::domain::{Otp, Role};
use crate::server::auth::console;
use crate::server::services::otp::search::{self, OtpFilter, Walk};
use crate::server::services::otp::{OtpResult, OtpService};
use crate::server::services::users::SessionUser;
use crate::server::services::AccountScope;
use crate::server::state::AppState;
use crate::server_fns::otps::OtpQuery;
use crate::server_fns::usage::UsageQuery;
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::{header, StatusCode};
use tower_sessions::Session;

/// Rows read per database round trip.
const BATCH: i64 = 1000;

pub const COLUMNS: [&str; 18] = [
    "requestID",
    "dateCreated",
    "service",
    "channel",
    "workflow",
    "to",
    "emailTo",
    "countryCode",
    "status",
    "attemptsLeft",
    "reference",
    "price",
    "priceUnit",
    "sentAt",
    "deliveredAt",
    "verifiedAt",
    "canceledAt",
    "cancelReason",
];

pub async fn otps_csv(
    State(state): State<AppState>,
    session: Session,
    RawQuery(query): RawQuery,
) -> Response {
    let (user, pairs) = match signed_in_query(&state, &session, query).await {
        Ok(found) => found,
        Err(res) => return res,
    };
    let q = OtpQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let filter = match crate::server_fns::otps::otp_filter(&q) {
        Ok(f) => f,
        Err(e) => return error(StatusCode::from_u16(e.code.http_status()), &e.message),
    };
    tracing::info!(user = %user.sid, filters = %logged_filters(&q), "otp export started");
    let (tx, rx) = tokio::sync::mpsc::channel::<Chunk>(2);
    tokio::spawn(async move {
        match stream_csv(state.otp(), &user.scope, &filter, &tx).await {
            Ok(Some(rows)) => tracing::info!(rows, "otp export finished"),
            Ok(None) => tracing::info!("otp export abandoned by the client"),
            Err(e) => {
                tracing::error!(error = ?e, "otp export failed");
                let _ = tx.send(Err(std::io::Error::other("export failed"))).await;
            }
        }
    });
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"otps.csv\"",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}

/// `GET /console/usage.csv?…`: the Usage page's report (same parameters) as CSV: one line per
/// period with the series, total, verified, conversion rate and price, then the totals.
pub async fn usage_csv(
    State(state): State<AppState>,
    session: Session,
    RawQuery(query): RawQuery,
) -> Response {
    let (user, pairs) = match signed_in_query(&state, &session, query).await {
        Ok(found) => found,
        Err(res) => return res,
    };
    let q = UsageQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let now = state.clock().now_ms();
    let report =
        match crate::server_fns::usage::report_service(state.db(), &user.scope, &q, now).await {
            Ok(r) => r,
            Err(e) => return error(StatusCode::from_u16(e.code.http_status()), &e.message),
        };
    let mut header = vec!["period".to_owned(), "start".into(), "end".into()];
    // Series columns say what they split ("status:verified" is not the "verified" total).
    header.extend(report.series.iter().map(|s| format!("{}:{s}", report.by)));
    header.extend(["total", "verified", "conversionRate", "price", "priceUnit"].map(String::from));
    let mut body = csv_line(header);
    for r in report.rows.iter().chain(std::iter::once(&report.totals)) {
        let mut cells = vec![r.label.clone(), r.start.clone(), r.end.clone()];
        cells.extend(r.values.iter().map(i64::to_string));
        cells.extend([
            r.count.to_string(),
            r.verified.to_string(),
            format!("{:.4}", r.conversion),
            r.price.clone(),
            "USD".into(),
        ]);
        body.push_str(&csv_line(cells));
    }
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", report.file_name()),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response()
}

/// An export's filters as the log shows them: whether a destination (a phone number or an
/// email address: personal data) was asked for, never which one.
fn logged_filters(q: &OtpQuery) -> String {
    let pairs: Vec<(&str, String)> = q
        .filter_pairs()
        .into_iter()
        .map(|(k, v)| match k {
            "destination" => (k, "hidden".to_owned()),
            _ => (k, v),
        })
        .collect();
    crate::domain::url::query_string(&pairs)
}

/// The signed-in console user (any role) and the request's query as pairs; or the answer to
/// send instead (401 signed out).
async fn signed_in_query(
    state: &AppState,
    session: &Session,
    query: Option<String>,
) -> Result<(SessionUser, Vec<(String, String)>), Response> {
    let user = console::require(state, session, &Role::ALL)
        .await
        .map_err(|e| error(StatusCode::from_u16(e.code.http_status()), &e.message))?;
    let raw = query.unwrap_or_default();
    let pairs = form_urlencoded::parse(raw.as_bytes())
        .into_owned()
        .collect();
    Ok((user, pairs))
}

/// A piece of the CSV body, or the error that ends it.
pub type Chunk = Result<Bytes, std::io::Error>;

/// Writes the header and every OTP matching `filter`, newest first, one batch per chunk.
/// Answers the rows written, or `None` when the receiver went away first.
pub async fn stream_csv(
    svc: &OtpService,
    scope: &AccountScope,
    filter: &OtpFilter,
    tx: &tokio::sync::mpsc::Sender<Chunk>,
) -> OtpResult<Option<u64>> {
    let mut chunk = csv_line(COLUMNS.iter().map(|c| c.to_string()));
    let mut seek = Walk::First;
    let mut rows_sent = 0u64;
    loop {
        let (rows, more) = search::walk(svc, scope, filter, &seek, BATCH).await?;
        for row in &rows {
            chunk.push_str(&csv_line(record(row)));
        }
        rows_sent += rows.len() as u64;
        if tx
            .send(Ok(Bytes::from(std::mem::take(&mut chunk))))
            .await
            .is_err()
        {
            return Ok(None);
        }
        match rows.last() {
            Some(last) if more => seek = Walk::Older(search::position_of(last)),
            _ => return Ok(Some(rows_sent)),
        }
    }
}

fn error(status: Result<StatusCode, http::status::InvalidStatusCode>, message: &str) -> Response {
    let status = status.unwrap_or(StatusCode::BAD_REQUEST);
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message.to_owned(),
    )
        .into_response()
}

/// The CSV fields of one OTP, in [`COLUMNS`] order.
fn record(o: &Otp) -> Vec<String> {
    let v = crate::server_fns::otps::sdr_view(o);
    let opt = |s: &Option<String>| s.clone().unwrap_or_default();
    vec![
        v.request_id.clone(),
        v.date_created.clone(),
        v.service.clone(),
        v.channel.clone(),
        v.workflow.join(" "),
        opt(&v.to),
        opt(&v.email_to),
        opt(&v.country_code),
        v.status.clone(),
        v.attempts_left.to_string(),
        opt(&v.reference),
        v.price.clone(),
        v.price_unit.clone(),
        opt(&v.sent_at),
        opt(&v.delivered_at),
        opt(&v.verified_at),
        opt(&v.canceled_at),
        opt(&v.cancel_reason),
    ]
}

/// One RFC 4180 line. Text a spreadsheet would run as a formula gets a leading `'`.
pub fn csv_line(fields: impl IntoIterator<Item = String>) -> String {
    let mut out = fields
        .into_iter()
        .map(|f| {
            let f = if f.starts_with(['=', '@', '\t', '\r'])
                || (f.starts_with(['+', '-']) && !is_number_like(&f))
            {
                format!("'{f}")
            } else {
                f
            };
            if f.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", f.replace('"', "\"\""))
            } else {
                f
            }
        })
        .collect::<Vec<_>>()
        .join(",");
    out.push_str("\r\n");
    out
}

/// `+14155550100` or `-1.5`: a value, not a formula.
fn is_number_like(s: &str) -> bool {
    s.len() > 1 && s[1..].bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let line = csv_line([
            "a,b".into(),
            "say \"hi\"".into(),
            "=SUM(A1)".into(),
            "+14155550100".into(),
            "-x".into(),
            String::new(),
        ]);
        assert_eq!(
            line,
            "\"a,b\",\"say \"\"hi\"\"\",'=SUM(A1),+14155550100,'-x,\r\n"
        );
    }

    #[test]
    fn the_export_log_never_names_a_destination() {
        for destination in ["+14155550100", "ana@example.com"] {
            let q = OtpQuery::from_pairs([
                ("destination", destination),
                ("status", "verified"),
                ("before", "123.OTP0"),
            ]);
            let logged = logged_filters(&q);
            assert_eq!(logged, "destination=hidden&status=verified", "{logged}");
            assert!(!logged.contains("4155550100") && !logged.contains("ana"));
        }
        let q = OtpQuery::from_pairs([("service", "Shop")]);
        assert_eq!(logged_filters(&q), "service=Shop");
    }
}
