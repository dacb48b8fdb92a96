//! `GET /metrics`: hidden until the operator sets a token, then Prometheus text behind a bearer
//! token, with counters that move when OTPs are sent, delivered and verified, and no personal
//! data or ids in any label. The recorder is process-wide and other tests run alongside, so
//! every check reads how a series moved (at least by what this test did), never its value.
use super::harness::TestApp;
use crate::server::db::Backend;
use serde_json::json;

super::both_backends!(
    metrics_are_hidden_without_a_token,
    metrics_need_the_bearer_token_and_count_a_lifecycle,
);

const TOKEN: &str = "scrape-token-0123456789abcdef";

async fn metrics_are_hidden_without_a_token(b: Backend) {
    let app = TestApp::start(b).await;
    let res = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let res = app
        .http
        .get(app.url("/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404, "no token configured: no metrics at all");
}

async fn scrape(app: &TestApp) -> String {
    let res = app
        .http
        .get(app.url("/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    res.text().await.unwrap()
}

/// The sum of the samples of `name` whose labels include every pair of `labels`.
fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, v) = l.rsplit_once(' ')?;
            let (metric, rest) = match series.split_once('{') {
                Some((m, rest)) => (m, rest),
                None => (series, ""),
            };
            (metric == name
                && labels
                    .iter()
                    .all(|(k, val)| rest.contains(&format!("{k}=\"{val}\""))))
            .then(|| v.parse::<f64>().ok())
            .flatten()
        })
        .sum()
}

async fn metrics_need_the_bearer_token_and_count_a_lifecycle(b: Backend) {
    let app = TestApp::start_with(b, |s| s.metrics_token = Some(TOKEN.into())).await;
    let res = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert!(res.headers().contains_key("www-authenticate"));
    let res = app
        .http
        .get(app.url("/metrics"))
        .bearer_auth("scrape-token-0123456789abcdeX")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "a wrong token is refused");

    let acc = app.account("Metrics Corp").await;
    let api = app.api(&acc);
    let before = scrape(&app).await;

    let rid = api
        .send_ok(json!({"service": "MetricsApp", "to": "+14155550177"}))
        .await;
    assert_eq!(app.deliver().await, 1);
    let (_, code) = api.sandbox_code(&rid).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (status, _) = api
        .post("/2fa/verify", json!({"requestID": rid, "code": wrong}))
        .await;
    assert_eq!(status, 400);
    let (status, _) = api
        .post("/2fa/verify", json!({"requestID": rid, "code": code}))
        .await;
    assert_eq!(status, 200);
    // Destination protection refuses the sixth send to one number in ten minutes.
    for _ in 0..5 {
        api.send_ok(json!({"service": "MetricsApp", "to": "+14155550178"}))
            .await;
    }
    let (status, _) = api
        .post(
            "/2fa/send",
            json!({"service": "MetricsApp", "to": "+14155550178"}),
        )
        .await;
    assert_eq!(status, 429);

    let after = scrape(&app).await;
    let moved = |name: &str, labels: &[(&str, &str)]| {
        value(&after, name, labels) - value(&before, name, labels)
    };
    assert!(
        moved(
            "smart2fa_otp_sends_total",
            &[("channel", "sms"), ("result", "accepted")]
        ) >= 6.0
    );
    assert!(
        moved(
            "smart2fa_otp_verifications_total",
            &[("result", "verified")]
        ) >= 1.0
    );
    assert!(
        moved(
            "smart2fa_otp_verifications_total",
            &[("result", "wrong_code")]
        ) >= 1.0
    );
    assert!(
        moved(
            "smart2fa_otp_send_refusals_total",
            &[("reason", "protection")]
        ) >= 1.0
    );
    assert!(
        moved(
            "smart2fa_deliveries_total",
            &[("channel", "sms"), ("provider", "sandbox")]
        ) >= 1.0
    );
    assert!(
        moved(
            "smart2fa_provider_request_duration_seconds_count",
            &[("channel", "sms"), ("provider", "sandbox")]
        ) >= 1.0
    );
    // HTTP: by route template and status, with a latency histogram.
    assert!(
        moved(
            "smart2fa_http_requests_total",
            &[
                ("method", "POST"),
                ("route", "/2fa/send"),
                ("status", "200")
            ]
        ) >= 6.0
    );
    assert!(
        moved(
            "smart2fa_http_requests_total",
            &[("route", "/2fa/send"), ("status", "429")]
        ) >= 1.0
    );
    assert!(
        moved(
            "smart2fa_http_request_duration_seconds_bucket",
            &[("route", "/2fa/verify"), ("le", "+Inf")]
        ) >= 2.0
    );
    // Gauges read at scrape time.
    assert!(value(&after, "smart2fa_process_resident_memory_bytes", &[]) > 1_000_000.0);
    assert!(after.contains("smart2fa_delivery_queue_depth "));
    assert!(after.contains("smart2fa_delivery_queue_oldest_due_seconds "));
    assert!(value(&after, "smart2fa_db_connections", &[("state", "open")]) >= 1.0);
    if b == Backend::Sqlite {
        assert!(
            value(&after, "smart2fa_db_writer_batch_scripts_count", &[]) >= 1.0,
            "the writer's group commits are measured"
        );
    }
    // No ids or personal data in any label.
    for secret in [
        acc.sid.as_str(),
        rid.as_str(),
        "4155550177",
        "4155550178",
        code.as_str(),
    ] {
        let leaked = after.lines().filter(|l| !l.starts_with('#')).any(|l| {
            l.rsplit_once(' ')
                .is_some_and(|(series, _)| series.contains(secret))
        });
        assert!(!leaked, "{secret} appears in a metric's labels");
    }
}
