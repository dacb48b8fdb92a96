//! Usage counters against the OTP table: after any sequence of sends (accepted, blocked,
//! superseded), deliveries, fallbacks, right and wrong codes, cancels, expiries and
//! compactions, the counters the reports read equal a count of the OTPs themselves.
use super::harness::{TestAccount, TestApp};
use crate::server::db::usage;
use crate::server::db::Backend;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

super::both_backends!(
    counters_follow_a_random_workload,
    rebuild_repairs_and_reports_differences,
    days_split_at_utc_midnight,
    seed_writes_a_realistic_history_the_counters_agree_with,
);

async fn quiet_app(b: Backend) -> TestApp {
    // No background workers: the test decides when deliveries, sweeps and compactions happen.
    TestApp::start_with(b, |s| s.workers_enabled = false).await
}

/// Asserts the counters equal the OTP table; answers the statuses present.
async fn assert_consistent(app: &TestApp, when: &str) -> Vec<String> {
    let db = app.state.db();
    let live = usage::live(db, None).await.unwrap();
    let truth = usage::from_otps(db, None).await.unwrap();
    assert_eq!(live, truth, "counters after {when}");
    let (hourly, hourly_truth) = usage::hourly_live_and_truth(db).await.unwrap();
    assert_eq!(hourly, hourly_truth, "hourly counters after {when}");
    live.keys().map(|k| k.5.clone()).collect()
}

async fn counters_follow_a_random_workload(b: Backend) {
    let app = quiet_app(b).await;
    let acme = app.account("Acme").await;
    let globex = app.account("Globex").await;
    let (status, _) = app
        .api(&acme)
        .post(
            "/2fa/limits",
            json!({"name": "tight", "buckets": [{"maxOtp": 2, "interval": 3600}]}),
        )
        .await;
    assert_eq!(status, 201);
    let mut sent: Vec<(String, &TestAccount)> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for seed in [7u64, 42, 1234] {
        let mut rng = StdRng::seed_from_u64(seed);
        for step in 0..60 {
            let acc = if rng.gen_bool(0.8) { &acme } else { &globex };
            let api = app.api(acc);
            match rng.gen_range(0..10) {
                0..=2 => {
                    let service = ["Shop", "Bank"][rng.gen_range(0..2)];
                    let to = format!("+1415555{:04}", 100 + rng.gen_range(0..12));
                    let mut body = json!({"service": service, "to": to});
                    if rng.gen_bool(0.3) && acc.sid == acme.sid {
                        body["limits"] = json!({"tight": "k"});
                    }
                    if rng.gen_bool(0.2) {
                        body["to"] = json!("+442079460958");
                    }
                    let (status, res) = api.post("/2fa/send", body).await;
                    if let Some(rid) = res["requestID"].as_str() {
                        sent.push((rid.to_owned(), acc));
                    }
                    assert!(matches!(status, 200 | 429), "{res}");
                }
                3 => {
                    let body = json!({"service": "Mail", "channel": "email", "emailTo": format!("u{}@example.com", rng.gen_range(0..5))});
                    let (_, res) = api.post("/2fa/send", body).await;
                    if let Some(rid) = res["requestID"].as_str() {
                        sent.push((rid.to_owned(), acc));
                    }
                }
                4 => {
                    // The sandbox fails numbers ending in 0000: falls back to email.
                    let body = json!({"service": "Shop", "workflow": ["sms", "email"], "to": "+14155550000", "emailTo": "fb@example.com"});
                    let (_, res) = api.post("/2fa/send", body).await;
                    if let Some(rid) = res["requestID"].as_str() {
                        sent.push((rid.to_owned(), acc));
                    }
                }
                5 => {
                    app.deliver().await;
                }
                6 | 7 if !sent.is_empty() => {
                    // Mostly one of the latest, which may still be active.
                    let (rid, owner) = &sent[sent.len() - 1 - rng.gen_range(0..sent.len().min(3))];
                    let api = app.api(owner);
                    let (_, outbox) = api
                        .get(&format!("/2fa/sandbox/messages?requestID={rid}"))
                        .await;
                    let code = outbox["messages"][0]["text"]
                        .as_str()
                        .map(super::harness::extract_code)
                        .unwrap_or_else(|| "000000".into());
                    let code = if rng.gen_bool(0.5) {
                        code
                    } else {
                        "999999x".into()
                    };
                    api.post("/2fa/verify", json!({"requestID": rid, "code": code}))
                        .await;
                }
                8 if !sent.is_empty() => {
                    let (rid, owner) = &sent[rng.gen_range(0..sent.len())];
                    app.api(owner)
                        .post("/2fa/cancel", json!({"requestID": rid}))
                        .await;
                }
                _ => {
                    app.clock.advance_ms(rng.gen_range(1..8) * 60_000);
                    crate::server::services::otp::expire::sweep(app.state.otp())
                        .await
                        .unwrap();
                }
            }
            if rng.gen_bool(0.2) {
                usage::compact(app.state.db()).await.unwrap();
            }
            seen.extend(assert_consistent(&app, &format!("seed {seed}, step {step}")).await);
        }
    }
    for s in [
        "pending",
        "delivered",
        "verified",
        "canceled",
        "blocked",
        "expired",
    ] {
        assert!(seen.contains(s), "the workload reached {s}: {seen:?}");
    }
    let live = usage::live(app.state.db(), None).await.unwrap();
    assert!(
        live.keys().any(|k| k.3 == "email" && k.4.is_empty()),
        "email rows have no country"
    );
    assert!(live.keys().any(|k| k.4 == "GB"));
    usage::compact(app.state.db()).await.unwrap();
    assert_consistent(&app, "the last compaction").await;
    assert_eq!(usage::monthly_differences(app.state.db()).await.unwrap(), 0);
    let rebuilt = usage::rebuild(app.state.db()).await.unwrap();
    assert_eq!(rebuilt.differences, 0, "live counters were already exact");
    assert!(rebuilt.rows > 0);
    assert_consistent(&app, "a rebuild").await;
    assert_eq!(usage::monthly_differences(app.state.db()).await.unwrap(), 0);
    // Isolation: each account's counters are its own OTPs.
    for acc in [&acme, &globex] {
        let mine = usage::live(app.state.db(), Some(&acc.sid)).await.unwrap();
        assert!(!mine.is_empty() && mine.keys().all(|k| k.0 == acc.sid));
        assert_eq!(
            mine,
            usage::from_otps(app.state.db(), Some(&acc.sid))
                .await
                .unwrap()
        );
    }
}

async fn rebuild_repairs_and_reports_differences(b: Backend) {
    let app = quiet_app(b).await;
    let acc = app.account("Acme").await;
    for i in 0..5 {
        app.api(&acc)
            .send_ok(json!({"service": "S", "to": format!("+14155550{:03}", 200 + i)}))
            .await;
    }
    usage::compact(app.state.db()).await.unwrap();
    // Damage: one counter off by three, another lost.
    let db = app.state.db();
    async {
        db.execute("UPDATE usage_daily SET count = count + 3 WHERE status = 'pending'", crate::args![]).await?;
        db.execute("INSERT INTO usage_daily (account_sid, day, service, channel, country_code, status, count, price) VALUES ($1, 1, 'Ghost', 'sms', 'US', 'verified', 7, 0)",
            crate::args![acc.sid.as_str()]).await?;
        Ok::<(), sqlx::Error>(())
    }
    .await
    .unwrap();
    let r = usage::rebuild(app.state.db()).await.unwrap();
    assert_eq!(r.differences, 2);
    assert_consistent(&app, "the repair").await;
    let out = crate::server::cli::execute(&["usage", "rebuild"], app.state.settings().clone())
        .await
        .unwrap();
    assert_eq!(out.trim(), r#"{"differences":0,"rows":1}"#);
}

async fn days_split_at_utc_midnight(b: Backend) {
    let app = quiet_app(b).await;
    let acc = app.account("Acme").await;
    let now = app.state.clock().now_ms();
    let next_midnight = (now / 86_400_000 + 1) * 86_400_000;
    app.clock.set(next_midnight - 1);
    app.api(&acc)
        .send_ok(json!({"service": "S", "to": "+14155550301"}))
        .await;
    app.clock.set(next_midnight);
    app.api(&acc)
        .send_ok(json!({"service": "S", "to": "+14155550302"}))
        .await;
    let live = usage::live(app.state.db(), Some(&acc.sid)).await.unwrap();
    let days: Vec<i64> = live.keys().map(|k| k.1).collect();
    assert_eq!(
        days,
        vec![next_midnight / 86_400_000 - 1, next_midnight / 86_400_000]
    );
}

/// The bulk seed goes through the same triggers: its counters equal the OTP table, and the
/// history has the promised shape.
async fn seed_writes_a_realistic_history_the_counters_agree_with(b: Backend) {
    let app = quiet_app(b).await;
    let acc = app.account("Seeded").await;
    let db = app.state.db();
    let mut reported = Vec::new();
    let rows = crate::server::seed::seed(db, &acc.sid, 12_000, 28, &mut |n| reported.push(n))
        .await
        .unwrap();
    assert_eq!(rows, 12_000);
    assert_eq!(reported.len(), 28);
    assert_eq!(*reported.last().unwrap(), 12_000);
    let live = usage::live(db, Some(&acc.sid)).await.unwrap();
    assert_eq!(live, usage::from_otps(db, Some(&acc.sid)).await.unwrap());
    assert_eq!(usage::monthly_differences(db).await.unwrap(), 0);
    let total: i64 = live.values().map(|v| v.0).sum();
    assert_eq!(total, 12_000);
    let newest = db
        .scalar_i64(
            "SELECT MAX(date_created) FROM otps WHERE account_sid = $1",
            crate::args![acc.sid.as_str()],
        )
        .await
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    assert!(
        newest <= now,
        "no OTP lies in the future ({newest} > {now})"
    );
    let countries: std::collections::BTreeSet<&str> = live
        .keys()
        .map(|k| k.4.as_str())
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(countries.len(), 40, "{countries:?}");
    let statuses: std::collections::BTreeSet<&str> = live.keys().map(|k| k.5.as_str()).collect();
    assert_eq!(statuses.len(), 9, "{statuses:?}");
    let channels: std::collections::BTreeSet<&str> = live.keys().map(|k| k.3.as_str()).collect();
    assert_eq!(channels.len(), 3);
    // Weekdays carry more traffic than weekends.
    let (mut weekday, mut weekend) = (0i64, 0i64);
    for (k, v) in &live {
        if (k.1 + 3).rem_euclid(7) >= 5 {
            weekend += v.0
        } else {
            weekday += v.0
        }
    }
    assert!(
        weekday as f64 / 20.0 > weekend as f64 / 8.0 * 1.3,
        "{weekday} vs {weekend}"
    );
    // And the rows are OTPs like any other: searchable and readable as SDRs.
    let (status, found) = app
        .api(&acc)
        .get("/2fa/search?status=max_attempts&PageSize=1")
        .await;
    assert_eq!(status, 200, "{found}");
    assert!(found["total"].as_i64().unwrap() > 100);
    let rid = found["otps"][0]["requestID"].as_str().unwrap().to_owned();
    let (status, sdr) = app.api(&acc).get(&format!("/2fa/search/{rid}")).await;
    assert_eq!(status, 200, "{sdr}");
    assert_eq!(sdr["attemptsLeft"], 0);
}
