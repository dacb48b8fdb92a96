//! `/2fa/usage/records`: periods, boundaries (UTC days, months, years), filters, groupBy,
//! sub-accounts, isolation and errors, over OTPs created at chosen instants.
use super::harness::{verified_send, TestApp};
use crate::server::db::Backend;
use serde_json::{json, Value};
use time::macros::datetime;

super::both_backends!(usage_records_by_period_group_and_account);

fn at(t: time::OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// `(startTime, count, verified)` of each record.
fn summary(v: &Value) -> Vec<(String, i64, i64)> {
    v["usageRecords"]
        .as_array()
        .unwrap_or_else(|| panic!("records: {v}"))
        .iter()
        .map(|r| {
            (
                r["startTime"].as_str().unwrap().to_owned(),
                r["count"].as_i64().unwrap(),
                r["verified"].as_i64().unwrap(),
            )
        })
        .collect()
}

async fn usage_records_by_period_group_and_account(b: Backend) {
    let app = TestApp::start_with(b, |s| s.workers_enabled = false).await;
    let acme = app.account("Acme").await;
    let child = app.account_with_parent("Acme EU", Some(&acme.sid)).await;
    let globex = app.account("Globex").await;
    let sms = |to: &str| json!({"service": "Shop", "to": to});

    app.clock.set(at(datetime!(2025-12-31 12:00 UTC)));
    verified_send(&app, &acme, sms("+14155550401")).await;
    app.clock.set(at(datetime!(2026-01-01 00:00 UTC)));
    app.api(&acme)
        .send_ok(json!({"service": "Mail", "channel": "email", "emailTo": "u@example.com"}))
        .await;
    app.clock.set(at(datetime!(2026-01-31 23:59:59.999 UTC)));
    verified_send(&app, &acme, sms("+442079460958")).await;
    app.clock.set(at(datetime!(2026-02-01 00:00 UTC)));
    verified_send(&app, &acme, sms("+14155550402")).await;
    let c = app.api(&acme).send_ok(sms("+14155550403")).await;
    app.api(&acme)
        .post("/2fa/cancel", json!({"requestID": c}))
        .await;
    app.clock.set(at(datetime!(2026-02-15 10:00 UTC)));
    app.api(&acme)
        .send_ok(json!({"service": "Shop", "channel": "call", "to": "+14155550404"}))
        .await;
    app.api(&child).send_ok(sms("+14155550405")).await;
    app.api(&globex).send_ok(sms("+14155550406")).await;

    let api = app.api(&acme);
    let get = |path: String| {
        let api = app.api(&acme);
        async move {
            let (status, v) = api.get(&path).await;
            assert_eq!(status, 200, "{path}: {v}");
            v
        }
    };

    // Named periods (today is 2026-02-15).
    let today = get("/2fa/usage/records/Today".into()).await;
    assert_eq!(summary(&today), [("2026-02-15".into(), 1, 0)]);
    let r = &today["usageRecords"][0];
    assert_eq!(
        (
            r["channel"].as_str(),
            r["unit"].as_str(),
            r["accountSid"].as_str()
        ),
        (Some("all"), Some("OTP"), Some(acme.sid.as_str()))
    );
    assert_eq!(
        summary(&get("/2fa/usage/records/today?includeSubaccounts=true".into()).await),
        [("2026-02-15".into(), 2, 0)]
    );
    assert_eq!(
        summary(&get(format!("/2fa/usage/records/Today?accountSid={}", child.sid)).await),
        [("2026-02-15".into(), 1, 0)]
    );
    assert_eq!(
        summary(&get("/2fa/usage/records/Yesterday".into()).await),
        [("2026-02-14".into(), 0, 0)]
    );
    assert_eq!(
        summary(&get("/2fa/usage/records/ThisMonth".into()).await),
        [("2026-02-01".into(), 3, 1)]
    );
    let last = get("/2fa/usage/records/LastMonth".into()).await;
    assert_eq!(summary(&last), [("2026-01-01".into(), 2, 1)]);
    assert_eq!(last["usageRecords"][0]["endTime"], "2026-01-31");
    assert_eq!(last["usageRecords"][0]["conversionRate"], 0.5);

    // Days, months, years with their boundaries.
    let daily =
        get("/2fa/usage/records/Daily?startDate=2026-01-30&endDate=2026-02-02".into()).await;
    assert_eq!(
        summary(&daily),
        [
            ("2026-01-30".into(), 0, 0),
            ("2026-01-31".into(), 1, 1),
            ("2026-02-01".into(), 2, 1),
            ("2026-02-02".into(), 0, 0)
        ]
    );
    let monthly = get("/2fa/usage/records/monthly?startDate=2025-12-01".into()).await;
    assert_eq!(
        summary(&monthly),
        [
            ("2025-12-01".into(), 1, 1),
            ("2026-01-01".into(), 2, 1),
            ("2026-02-01".into(), 3, 1)
        ]
    );
    assert_eq!(
        monthly["usageRecords"][2]["endTime"], "2026-02-15",
        "clipped to the range"
    );
    let yearly = get("/2fa/usage/records/Yearly?startDate=-2years".into()).await;
    assert_eq!(
        summary(&yearly),
        [
            ("2024-02-15".into(), 0, 0),
            ("2025-01-01".into(), 1, 1),
            ("2026-01-01".into(), 5, 2)
        ]
    );

    // Totals: the default range is the last 30 days (2026-01-17 … 2026-02-15).
    let totals = get("/2fa/usage/records".into()).await;
    assert_eq!(summary(&totals), [("2026-01-17".into(), 4, 2)]);
    assert_eq!(totals["usageRecords"][0]["endTime"], "2026-02-15");
    let relative = get("/2fa/usage/records?startDate=-29days&endDate=today".into()).await;
    assert_eq!(summary(&relative), summary(&totals));

    // Filters and groups.
    let us_sms =
        get("/2fa/usage/records?startDate=2025-12-01&channel=sms&countryCode=us".into()).await;
    assert_eq!(summary(&us_sms), [("2025-12-01".into(), 3, 2)]);
    assert_eq!(us_sms["usageRecords"][0]["channel"], "sms");
    assert_eq!(us_sms["usageRecords"][0]["countryCode"], "US");
    let by_country = get("/2fa/usage/records/AllTime?groupBy=countryCode".into()).await;
    let mut countries: Vec<(String, i64)> = by_country["usageRecords"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["countryCode"].as_str().unwrap().to_owned(),
                r["count"].as_i64().unwrap(),
            )
        })
        .collect();
    countries.sort();
    assert_eq!(
        countries,
        [("GB".into(), 1), ("US".into(), 4), ("none".into(), 1)]
    );
    let by_status =
        get("/2fa/usage/records/Monthly?startDate=2026-02-01&groupBy=status,channel".into()).await;
    let mut statuses: Vec<(String, String, i64)> = by_status["usageRecords"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["status"].as_str().unwrap().to_owned(),
                r["channel"].as_str().unwrap().to_owned(),
                r["count"].as_i64().unwrap(),
            )
        })
        .collect();
    statuses.sort();
    assert_eq!(
        statuses,
        [
            ("canceled".into(), "sms".into(), 1),
            ("pending".into(), "call".into(), 1),
            ("verified".into(), "sms".into(), 1)
        ]
    );
    assert!(by_status["usageRecords"][0]["description"]
        .as_str()
        .unwrap()
        .contains("status"));

    // Paging, POST, folding the deltas changes nothing.
    let paged = get(
        "/2fa/usage/records/Daily?startDate=2026-01-30&endDate=2026-02-02&PageSize=3&Page=1".into(),
    )
    .await;
    assert_eq!(summary(&paged), [("2026-02-02".into(), 0, 0)]);
    assert_eq!(paged["total"], 4);
    let (status, posted) = api
        .post(
            "/2fa/usage/records/Daily",
            json!({"startDate": "2026-01-30", "endDate": "2026-02-02"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(summary(&posted), summary(&daily));
    crate::server::services::usage::compact(app.state.db())
        .await
        .unwrap();
    assert_eq!(
        summary(&get("/2fa/usage/records/monthly?startDate=2025-12-01".into()).await),
        summary(&monthly)
    );
    // The same answers once everything sits in daily and monthly counters.
    for (path, before) in [
        ("/2fa/usage/records/Yearly?startDate=-2years", &yearly),
        ("/2fa/usage/records/LastMonth", &last),
        (
            "/2fa/usage/records/AllTime?groupBy=countryCode",
            &by_country,
        ),
        ("/2fa/usage/records", &totals),
        (
            "/2fa/usage/records/Daily?startDate=2026-01-30&endDate=2026-02-02",
            &daily,
        ),
    ] {
        let after = get(path.into()).await;
        assert_eq!(after["usageRecords"], before["usageRecords"], "{path}");
    }

    // Isolation.
    let (_, other) = app.api(&globex).get("/2fa/usage/records/AllTime").await;
    assert_eq!(summary(&other), [("1970-01-01".into(), 1, 0)]);
    let (status, e) = app
        .api(&globex)
        .get(&format!("/2fa/usage/records?accountSid={}", acme.sid))
        .await;
    assert_eq!(status, 403, "{e}");

    // Errors name the field.
    for (query, field) in [
        ("startDate=2026-13-01", "startDate"),
        ("endDate=yesterday-ish", "endDate"),
        ("startDate=2026-02-10&endDate=2026-02-01", "endDate"),
        ("groupBy=weekday", "groupBy"),
        ("countryCode=USA", "countryCode"),
        ("status=lost", "status"),
        ("channel=fax", "channel"),
    ] {
        let (status, e) = api.get(&format!("/2fa/usage/records/Daily?{query}")).await;
        assert_eq!(
            (status, e["errorCode"].as_u64()),
            (400, Some(7004)),
            "{query}: {e}"
        );
        assert_eq!(e["field"], field, "{query}: {e}");
    }
    let (status, e) = api.get("/2fa/usage/records/Weekly").await;
    assert_eq!((status, e["errorCode"].as_u64()), (404, Some(7003)), "{e}");
}
