//! Prometheus metrics: the `metrics` facade, recorded where things happen, rendered by
//! `metrics-exporter-prometheus` at `GET /metrics` (404 until the operator sets `metrics_token`,
//! then only with `Authorization: Bearer <token>`).
//!
//! Every name starts with `smart2fa_`; counters end in `_total`, durations are `_seconds`.
//! Labels are closed sets (route templates, channels, provider kinds, outcomes): never a phone
//! number, email, address, account or OTP id.
use axum::extract::{MatchedPath, State};
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;

use super::state::AppState;
use crate::domain::Channel;

/// Latency buckets (seconds) of every `_seconds` histogram: 1 ms to 30 s.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// Sizes of the SQLite writer's group commits (scripts per transaction).
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

/// The process-wide recorder, installed on first use (tests start many apps in one process:
/// they share it, and read how counters move rather than their values).
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)
            .and_then(|b| {
                b.set_buckets_for_metric(
                    Matcher::Full("smart2fa_db_writer_batch_scripts".into()),
                    BATCH_BUCKETS,
                )
            })
            .expect("static buckets are not empty")
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder already installed (never in this binary): ours still renders.
        let _ = metrics::set_global_recorder(recorder);
        describe();
        handle
    })
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(
        "smart2fa_http_requests_total",
        "HTTP requests by method, route template and status"
    );
    describe_histogram!(
        "smart2fa_http_request_duration_seconds",
        Unit::Seconds,
        "HTTP request latency by method and route template"
    );
    describe_gauge!(
        "smart2fa_http_requests_in_flight",
        "HTTP requests being answered now"
    );
    describe_counter!(
        "smart2fa_otp_sends_total",
        "Send requests by first channel and result (accepted, blocked_limit, blocked_fraud, replayed, refused)"
    );
    describe_counter!(
        "smart2fa_otp_send_refusals_total",
        "Sends refused before an OTP was created, by reason (protection, country, limit_missing, ...)"
    );
    describe_counter!(
        "smart2fa_otp_verifications_total",
        "Verify requests by result (verified, wrong_code, expired, max_attempts, ...)"
    );
    describe_counter!(
        "smart2fa_otps_failed_total",
        "OTPs that ended failed (every channel and provider tried), by the channel of the last step"
    );
    describe_counter!(
        "smart2fa_deliveries_total",
        "Delivery attempts by channel, provider kind and outcome"
    );
    describe_histogram!(
        "smart2fa_provider_request_duration_seconds",
        Unit::Seconds,
        "Time a provider took to take (or refuse) a message, by channel and provider kind"
    );
    describe_gauge!(
        "smart2fa_delivery_queue_depth",
        "Jobs (deliveries, fallbacks, callbacks) not done yet"
    );
    describe_gauge!(
        "smart2fa_delivery_queue_oldest_due_seconds",
        "How long the oldest due job has been waiting"
    );
    describe_gauge!(
        "smart2fa_db_writer_queue_depth",
        "Scripts waiting for the SQLite writer"
    );
    describe_histogram!(
        "smart2fa_db_writer_batch_scripts",
        "Scripts the SQLite writer committed in one transaction (group commit)"
    );
    describe_counter!(
        "smart2fa_callbacks_total",
        "Status callbacks by outcome (accepted, rejected, timeout, connection_failed, refused)"
    );
    describe_gauge!(
        "smart2fa_process_resident_memory_bytes",
        Unit::Bytes,
        "Resident memory of the server process"
    );
    describe_gauge!(
        "smart2fa_db_connections",
        "Database pool connections by state (open, idle)"
    );
}

/// `GET /metrics`.
pub async fn serve(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(token) = state
        .settings()
        .metrics_token
        .as_deref()
        .filter(|t| !t.is_empty())
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !crate::server::crypto::constant_time_eq(given.as_bytes(), token.as_bytes()) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\"")],
        )
            .into_response();
    }
    sample(&state).await;
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle().render(),
    )
        .into_response()
}

/// The gauges read at scrape time: the job queue, the writer, the pool, the process.
async fn sample(state: &AppState) {
    let db = state.db();
    let now = state.clock().now_ms();
    match crate::server::db::jobs::backlog(db, now).await {
        Ok((depth, oldest_due)) => {
            gauge!("smart2fa_delivery_queue_depth").set(depth as f64);
            let age = oldest_due.map_or(0, |due| (now - due).max(0));
            gauge!("smart2fa_delivery_queue_oldest_due_seconds").set(age as f64 / 1000.0);
        }
        Err(e) => tracing::warn!(error = %e, "metrics: the job queue could not be read"),
    }
    let pool = db.pool_state();
    gauge!("smart2fa_db_writer_queue_depth").set(pool.writer_queued as f64);
    gauge!("smart2fa_db_connections", "state" => "open").set(pool.open as f64);
    gauge!("smart2fa_db_connections", "state" => "idle").set(pool.idle as f64);
    if let Some(rss) = resident_bytes() {
        gauge!("smart2fa_process_resident_memory_bytes").set(rss as f64);
    }
}

/// Resident set size from `/proc/self/statm` (Linux; none elsewhere).
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // The page size of every Linux this runs on (x86_64, aarch64 with 4 KiB pages).
    Some(pages * 4096)
}

/// Middleware: counts every request by route template (`/2fa/Accounts/{sid}/...`, never the
/// path itself) and status, and times it.
pub async fn track(req: Request<axum::body::Body>, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = method_label(req.method());
    let started = Instant::now();
    let in_flight = gauge!("smart2fa_http_requests_in_flight");
    in_flight.increment(1.0);
    let res = next.run(req).await;
    in_flight.decrement(1.0);
    let status = res.status().as_u16().to_string();
    histogram!("smart2fa_http_request_duration_seconds", "method" => method, "route" => route.clone())
        .record(started.elapsed().as_secs_f64());
    counter!("smart2fa_http_requests_total", "method" => method, "route" => route, "status" => status)
        .increment(1);
    res
}

fn method_label(m: &axum::http::Method) -> &'static str {
    match m.as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

/// A send request's result, by its first channel.
pub fn otp_send(channel: Channel, result: &'static str) {
    counter!("smart2fa_otp_sends_total", "channel" => channel.as_str(), "result" => result)
        .increment(1);
}

/// A send refused before any OTP was created (`reason`: a closed set, see the callers).
pub fn otp_send_refused(reason: &'static str) {
    counter!("smart2fa_otp_send_refusals_total", "reason" => reason).increment(1);
}

/// A verify request's result.
pub fn otp_verification(result: &'static str) {
    counter!("smart2fa_otp_verifications_total", "result" => result).increment(1);
}

/// An OTP ended failed on `channel`.
pub fn otp_failed(channel: Channel) {
    counter!("smart2fa_otps_failed_total", "channel" => channel.as_str()).increment(1);
}

/// One delivery attempt through a provider of `provider_kind`, and how long the provider took.
pub fn delivery(
    channel: Channel,
    provider_kind: &'static str,
    outcome: &'static str,
    took: Option<std::time::Duration>,
) {
    counter!("smart2fa_deliveries_total", "channel" => channel.as_str(), "provider" => provider_kind, "outcome" => outcome)
        .increment(1);
    if let Some(took) = took {
        histogram!("smart2fa_provider_request_duration_seconds", "channel" => channel.as_str(), "provider" => provider_kind)
            .record(took.as_secs_f64());
    }
}

/// A status callback's outcome.
pub fn callback(outcome: &'static str) {
    counter!("smart2fa_callbacks_total", "outcome" => outcome).increment(1);
}

/// One group commit of the SQLite writer.
pub fn writer_batch(scripts: usize) {
    histogram!("smart2fa_db_writer_batch_scripts").record(scripts as f64);
}
