//! The console's Usage page and Home figures: server functions, the CSV export and the server
//! render, over OTPs created at chosen instants (real HTTP with a session).
use super::harness::{call, client, signed_in, verified_send, TestAccount, TestApp};
use crate::domain::Role;
use crate::server::db::usage;
use crate::server::db::Backend;
use serde_json::{json, Value};
use time::macros::datetime;

super::both_backends!(
    usage_report_periods_filters_and_errors,
    usage_csv_is_the_table,
    home_shows_the_last_day_the_month_and_failures,
);

fn at(t: time::OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

async fn report(app: &TestApp, http: &reqwest::Client, query: &[(&str, &str)]) -> Value {
    let (status, r) = report_status(app, http, query).await;
    assert_eq!(status, 200, "{query:?}: {r}");
    r
}

async fn report_status(
    app: &TestApp,
    http: &reqwest::Client,
    query: &[(&str, &str)],
) -> (u16, Value) {
    // The browser sends every field; a missing one means the default.
    let mut form: Vec<(String, &str)> = Vec::new();
    if query.is_empty() {
        form.push(("query[period]".into(), ""));
    }
    form.extend(query.iter().map(|(k, v)| (format!("query[{k}]"), *v)));
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    call(app, http, "usage_report", &form).await
}

/// Acme's history (Globex has one OTP "today" too), the clock left at 2026-11-26 12:00 UTC:
/// - 2025-06-01 sms US verified
/// - 2026-10-15 sms US verified
/// - 2026-11-20 sms US verified, service Shop
/// - 2026-11-25 11:00 email (delivered, not verified)
/// - 2026-11-26 08:00 sms GB verified; 09:00 email verified; 10:00 sms US to a failing number
///   (failed); 11:00 call US canceled.
async fn history(app: &TestApp) -> (TestAccount, TestAccount, String) {
    let acme = app.account("Acme").await;
    let globex = app.account("Globex").await;
    let sms = |to: &str, service: &str| json!({"service": service, "to": to});
    app.clock.set(at(datetime!(2025-06-01 10:00 UTC)));
    verified_send(app, &acme, sms("+14155550401", "Login")).await;
    app.clock.set(at(datetime!(2026-10-15 10:00 UTC)));
    verified_send(app, &acme, sms("+14155550402", "Login")).await;
    app.clock.set(at(datetime!(2026-11-20 10:00 UTC)));
    verified_send(app, &acme, sms("+14155550403", "Shop")).await;
    app.clock.set(at(datetime!(2026-11-25 11:00 UTC)));
    app.api(&acme)
        .send_ok(json!({"service": "Login", "channel": "email", "emailTo": "u@example.com"}))
        .await;
    app.deliver().await;
    app.clock.set(at(datetime!(2026-11-26 08:00 UTC)));
    verified_send(app, &acme, sms("+442079460958", "Login")).await;
    app.clock.set(at(datetime!(2026-11-26 09:00 UTC)));
    verified_send(
        app,
        &acme,
        json!({"service": "Login", "channel": "email", "emailTo": "v@example.com"}),
    )
    .await;
    app.clock.set(at(datetime!(2026-11-26 10:00 UTC)));
    let failed = app.api(&acme).send_ok(sms("+14155550000", "Login")).await;
    app.deliver().await;
    let (_, sdr) = app.api(&acme).get(&format!("/2fa/search/{failed}")).await;
    assert_eq!(sdr["status"], "failed", "{sdr}");
    app.clock.set(at(datetime!(2026-11-26 11:00 UTC)));
    let call = app
        .api(&acme)
        .send_ok(json!({"service": "Login", "channel": "call", "to": "+14155550404"}))
        .await;
    let (status, _) = app
        .api(&acme)
        .post("/2fa/cancel", json!({"requestID": call}))
        .await;
    assert_eq!(status, 200);
    app.api(&globex).send_ok(sms("+14155550405", "Login")).await;
    app.clock.set(at(datetime!(2026-11-26 12:00 UTC)));
    (acme, globex, failed)
}

fn row<'a>(r: &'a Value, start: &str) -> &'a Value {
    r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["start"] == start)
        .unwrap_or_else(|| panic!("no row {start} in {r}"))
}

fn labels(r: &Value) -> Vec<String> {
    r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["label"].as_str().unwrap().to_owned())
        .collect()
}

async fn usage_report_periods_filters_and_errors(b: Backend) {
    let app = TestApp::start_with(b, |s| s.workers_enabled = false).await;
    let (acme, _globex, _) = history(&app).await;
    let http = signed_in(&app, &acme.email, &acme.password).await;

    // Default: the last 30 days by day, stacked by channel (every channel, stable order).
    let r = report(&app, &http, &[]).await;
    assert_eq!(
        (r["period"].as_str(), r["by"].as_str()),
        (Some("day"), Some("channel"))
    );
    assert_eq!(
        (r["start"].as_str(), r["end"].as_str()),
        (Some("2026-10-28"), Some("2026-11-26"))
    );
    assert_eq!(r["series"], json!(["sms", "call", "email"]));
    assert_eq!(
        r["rows"].as_array().unwrap().len(),
        30,
        "every day, zeros included"
    );
    let today = row(&r, "2026-11-26");
    assert_eq!(today["values"], json!([2, 1, 1]), "{today}");
    assert_eq!(
        (today["count"].as_i64(), today["verified"].as_i64()),
        (Some(4), Some(2))
    );
    assert_eq!(today["conversion"], 0.5);
    assert_eq!(row(&r, "2026-11-25")["values"], json!([0, 0, 1]));
    assert_eq!(row(&r, "2026-11-20")["values"], json!([1, 0, 0]));
    assert_eq!(row(&r, "2026-11-01")["count"], 0);
    assert_eq!(
        (
            r["totals"]["count"].as_i64(),
            r["totals"]["verified"].as_i64()
        ),
        (Some(6), Some(3))
    );
    assert_eq!(r["totals"]["values"], json!([3, 1, 2]));
    assert_eq!(r["countries"], json!(["GB", "US"]), "from pending deltas");
    assert_eq!(r["services"], json!(["Login", "Shop"]));
    // The same lists once the deltas are folded into the counters.
    usage::compact(app.state.db()).await.unwrap();
    let folded = report(&app, &http, &[]).await;
    assert_eq!(folded, r, "folding changes nothing a report shows");

    // Stacked by status: the statuses present, in their usual order.
    let r = report(&app, &http, &[("by", "status")]).await;
    assert_eq!(
        r["series"],
        json!(["delivered", "verified", "canceled", "failed"])
    );
    assert_eq!(row(&r, "2026-11-26")["values"], json!([0, 2, 1, 1]));

    // Month: the last 12 months by default; Year: the last 5 years.
    let r = report(&app, &http, &[("period", "month")]).await;
    assert_eq!(labels(&r).first().map(String::as_str), Some("2025-12"));
    assert_eq!(labels(&r).last().map(String::as_str), Some("2026-11"));
    assert_eq!(labels(&r).len(), 12);
    assert_eq!(row(&r, "2026-10-01")["count"], 1);
    assert_eq!(row(&r, "2026-11-01")["count"], 6);
    assert_eq!(
        row(&r, "2026-11-01")["end"],
        "2026-11-26",
        "cut to the range"
    );
    let r = report(&app, &http, &[("period", "year")]).await;
    assert_eq!(labels(&r), ["2022", "2023", "2024", "2025", "2026"]);
    assert_eq!(row(&r, "2025-01-01")["count"], 1);
    assert_eq!(r["totals"]["count"], 8);
    // An explicit range, cut at both ends.
    let r = report(
        &app,
        &http,
        &[
            ("period", "month"),
            ("from", "2026-10-10"),
            ("until", "2026-11-25"),
        ],
    )
    .await;
    assert_eq!(labels(&r), ["2026-10", "2026-11"]);
    assert_eq!(row(&r, "2026-10-10")["end"], "2026-10-31");
    assert_eq!(r["totals"]["count"], 3);

    // Filters: country, channel, status, service (and together).
    let year = [("period", "year")];
    let with = |extra: (&'static str, &'static str)| {
        let mut q = year.to_vec();
        q.push(extra);
        q
    };
    assert_eq!(
        report(&app, &http, &with(("country", "gb"))).await["totals"]["count"],
        1
    );
    assert_eq!(
        report(&app, &http, &with(("country", "US"))).await["totals"]["count"],
        5
    );
    assert_eq!(
        report(&app, &http, &with(("channel", "email"))).await["totals"]["count"],
        2
    );
    assert_eq!(
        report(&app, &http, &with(("status", "verified"))).await["totals"]["count"],
        5
    );
    assert_eq!(
        report(&app, &http, &with(("service", "Shop"))).await["totals"]["count"],
        1
    );
    let r = report(
        &app,
        &http,
        &[
            ("period", "year"),
            ("country", "US"),
            ("channel", "sms"),
            ("status", "verified"),
        ],
    )
    .await;
    assert_eq!(r["totals"]["count"], 3);
    assert_eq!(r["totals"]["conversion"], 1.0);

    // Errors name the page's own fields, with the API's code.
    for (query, field) in [
        (vec![("from", "26/11/2026")], "from"),
        (vec![("until", "soon")], "until"),
        (
            vec![("from", "2026-11-26"), ("until", "2026-11-01")],
            "until",
        ),
        (vec![("from", "2020-01-01")], "from"),
        (vec![("country", "USA")], "country"),
        (vec![("channel", "fax")], "channel"),
        (vec![("status", "happy")], "status"),
    ] {
        let (status, err) = report_status(&app, &http, &query).await;
        assert_eq!(status, 400, "{query:?}: {err}");
        assert_eq!(err["code"], 7004, "{err}");
        assert_eq!(err["field"], field, "{query:?}: {err}");
    }
    let (_, err) = report_status(&app, &http, &[("from", "2020-01-01")]).await;
    assert!(
        err["message"].as_str().unwrap().contains("at most 1000"),
        "{err}"
    );
    let (_, err) = report_status(&app, &http, &[("until", "soon")]).await;
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .starts_with("Until must be a date"),
        "{err}"
    );

    // A form the server cannot read is the caller's error (400, 7005), not the server's.
    let (status, err) = call(
        &app,
        &http,
        "usage_report",
        &[("query[period]", "day"), ("query[period]", "month")],
    )
    .await;
    assert_eq!((status, err["code"].as_i64()), (400, Some(7005)), "{err}");

    // Support may read usage; nobody signed out may.
    let (email, password) = app.user(&acme.sid, Role::Support).await;
    let support = signed_in(&app, &email, &password).await;
    assert_eq!(
        report(&app, &support, &[("period", "year")]).await["totals"]["count"],
        8
    );
    let (status, err) = report_status(&app, &client(), &[]).await;
    assert_eq!((status, err["code"].as_i64()), (401, Some(7001)));
}

async fn usage_csv_is_the_table(b: Backend) {
    let app = TestApp::start_with(b, |s| s.workers_enabled = false).await;
    let (acme, globex, _) = history(&app).await;
    let http = signed_in(&app, &acme.email, &acme.password).await;
    let query = [("period", "month"), ("country", "US"), ("by", "status")];
    let r = report(&app, &http, &query).await;
    let res = http
        .get(app.url("/console/usage.csv?period=month&country=US&by=status"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(
        res.headers()["content-disposition"],
        "attachment; filename=\"usage-month-2025-12-01-2026-11-26.csv\""
    );
    let csv = res.text().await.unwrap();
    let lines: Vec<&str> = csv.split_terminator("\r\n").collect();
    assert_eq!(
        lines[0],
        "period,start,end,status:verified,status:canceled,status:failed,total,verified,conversionRate,price,priceUnit"
    );
    let rows = r["rows"].as_array().unwrap();
    assert_eq!(
        lines.len(),
        1 + rows.len() + 1,
        "header, one line per period, totals"
    );
    for (line, row) in lines[1..].iter().zip(rows.iter().chain([&r["totals"]])) {
        let values: Vec<String> = row["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.to_string())
            .collect();
        let expected = format!(
            "{},{},{},{},{},{},{:.4},{},USD",
            row["label"].as_str().unwrap(),
            row["start"].as_str().unwrap(),
            row["end"].as_str().unwrap(),
            values.join(","),
            row["count"],
            row["verified"],
            row["conversion"].as_f64().unwrap(),
            row["price"].as_str().unwrap()
        );
        assert_eq!(*line, expected);
    }
    assert!(
        lines
            .last()
            .unwrap()
            .starts_with("Total,2025-12-01,2026-11-26,2,1,1,4,2,0.5000,"),
        "{csv}"
    );

    // Another account's export holds only its own OTPs.
    let other = signed_in(&app, &globex.email, &globex.password).await;
    let csv = other
        .get(app.url("/console/usage.csv?period=year"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        csv.contains("\r\nTotal,2022-01-01,2026-11-26,1,0,0,1,0,"),
        "{csv}"
    );

    // Bad parameters say what is wrong; signed out is 401.
    let res = http
        .get(app.url("/console/usage.csv?from=yesterday-ish"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let text = res.text().await.unwrap();
    assert!(text.starts_with("From must be a date"), "{text}");
    let res = client()
        .get(app.url("/console/usage.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

async fn home_shows_the_last_day_the_month_and_failures(b: Backend) {
    let app = TestApp::start_with(b, |s| s.workers_enabled = false).await;
    let (acme, _globex, failed) = history(&app).await;
    // Two texts either side of 12:30 the day before (its hour is only partly in the window),
    // one counted while still pending, one compacted into the hourly counters first.
    let sms = |to: &str| json!({"service": "Login", "to": to});
    app.clock.set(at(datetime!(2026-11-25 12:29:59.999 UTC)));
    app.api(&acme).send_ok(sms("+14155550406")).await;
    usage::compact(app.state.db()).await.unwrap();
    app.clock.set(at(datetime!(2026-11-25 12:30 UTC)));
    app.api(&acme).send_ok(sms("+14155550407")).await;
    app.clock.set(at(datetime!(2026-11-26 12:30 UTC)));
    let http = signed_in(&app, &acme.email, &acme.password).await;
    let (status, home) = call(&app, &http, "home_summary", &[]).await;
    assert_eq!(status, 200, "{home}");
    // The last 24 h start at 2026-11-25 12:30: the 11:00 email and the 12:29:59.999 text are
    // outside, the 12:30 text inside.
    let card = |ch: &str| {
        home["cards"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["channel"] == ch)
            .cloned()
            .unwrap()
    };
    let sms = card("sms");
    assert_eq!(
        (
            sms["sent"].as_i64(),
            sms["verified"].as_i64(),
            sms["failed"].as_i64()
        ),
        (Some(3), Some(1), Some(1))
    );
    assert_eq!(
        sms["conversion"].as_f64().map(|c| (c * 1000.0).round()),
        Some(333.0)
    );
    let email = card("email");
    assert_eq!(
        (
            email["sent"].as_i64(),
            email["verified"].as_i64(),
            email["failed"].as_i64()
        ),
        (Some(1), Some(1), Some(0))
    );
    assert_eq!(email["conversion"], 1.0);
    let call_card = card("call");
    assert_eq!(
        (call_card["sent"].as_i64(), call_card["verified"].as_i64()),
        (Some(1), Some(0))
    );
    // 30 days by channel.
    assert_eq!(home["chart"]["rows"].as_array().unwrap().len(), 30);
    assert_eq!(home["chart"]["totals"]["values"], json!([5, 1, 2]));
    // The failures, newest first, linked by request id.
    assert_eq!(home["failures"].as_array().unwrap().len(), 1);
    assert_eq!(home["failures"][0]["request_id"], failed.as_str());
    assert_eq!(home["failures"][0]["destination"], "+14155550000");

    // The pages render their numbers on the server (before or without JavaScript).
    let page = http
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#"data-testid="sms-sent">3</dd>"#), "{page}");
    assert!(page.contains(r#"data-testid="sms-conversion">33.3 %</dd>"#));
    assert!(page.contains(&format!(r#"href="/otps/{failed}""#)));
    assert!(page.contains(r#"id="home-chart""#));
    let page = http
        .get(app.url("/usage?period=month&country=US&channel=sms"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#"data-testid="usage-table""#), "{page}");
    assert!(
        page.contains(
            r#"<tr data-period="2026-10-01"><td class="nowrap">2026-10</td><td class="num">1</td>"#
        ),
        "{page}"
    );
    assert!(
        page.contains(r#"<option value="month" selected"#)
            || page.contains(r#"value="month" selected="#),
        "{page}"
    );
    assert!(
        page.contains(r#"href="/console/usage.csv?period=month&amp;country=US&amp;channel=sms""#),
        "{page}"
    );
}
