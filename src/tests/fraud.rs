//! The fraud guard against SMS pumping: a simulated attack (a burst of unverified sends to one
//! number prefix) is blocked after the threshold while verified traffic to another prefix goes
//! on; blocks are listed, lifted (audited) and end after 12 hours; monitor mode and the default
//! (block real providers' traffic, only record the sandbox's); the safe-list; validation.
use super::fake_cpaas::FakeCpaas;
use super::harness::{verified_send, Api, TestApp};
use crate::server::db::Backend;
use serde_json::{json, Value};

super::both_backends!(
    a_simulated_attack_is_blocked_and_verified_traffic_is_not,
    blocks_are_lifted_audited_and_end_after_12_hours,
    monitor_mode_and_the_default_that_follows_the_provider,
    the_safe_list_is_never_blocked_and_settings_are_validated,
    parallel_sends_and_verifies_to_one_prefix_all_succeed,
);

async fn guard(api: &Api<'_>, body: Value) -> Value {
    let (status, g) = api
        .post_method("PUT", "/2fa/settings/fraudGuard", body)
        .await;
    assert_eq!(status, 200, "{g}");
    g
}

async fn events(api: &Api<'_>, rid: &str) -> Vec<Value> {
    let (status, sdr) = api.get(&format!("/2fa/search/{rid}")).await;
    assert_eq!(status, 200, "{sdr}");
    sdr["events"].as_array().unwrap().clone()
}

/// The fraud guard's event of an OTP, if it has one.
async fn decision(api: &Api<'_>, rid: &str) -> Option<Value> {
    events(api, rid)
        .await
        .into_iter()
        .find(|e| e["type"] == "fraud_guard")
        .map(|e| e["detail"].clone())
}

async fn a_simulated_attack_is_blocked_and_verified_traffic_is_not(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Shop").await;
    let api = app.api(&acc);
    let g = guard(&api, json!({"mode": "block"})).await;
    assert_eq!(g["mode"], "block");
    assert_eq!(g["applies"], json!({"sms": "block", "call": "block"}));

    // The attack: one send to each of 40 numbers of +44 7400 12xx xx, none verified, with
    // ordinary users of +1 415 555 02xx verifying their codes in between.
    let mut accepted = Vec::new();
    let mut refused = Vec::new();
    let mut ordinary = 0;
    for i in 0..40 {
        let to = format!("+44740012{:04}", 100 + i);
        let (status, res) = api
            .post("/2fa/send", json!({"service": "Shop", "to": to}))
            .await;
        match status {
            200 => accepted.push(res["requestID"].as_str().unwrap().to_owned()),
            429 => refused.push(res),
            other => panic!("{other}: {res}"),
        }
        if i % 5 == 0 {
            verified_send(
                &app,
                &acc,
                json!({"service": "Shop", "to": format!("+141555502{:02}", i)}),
            )
            .await;
            ordinary += 1;
        }
    }
    // Blocked after the threshold: 3 unverified per hour with no verified history.
    assert_eq!(accepted.len(), 3, "accepted before the block");
    assert_eq!(refused.len(), 37);
    assert_eq!(ordinary, 8, "every ordinary user was served");
    let first = &refused[0];
    assert_eq!(first["errorCode"], 7024, "{first}");
    assert_eq!(first["prefix"], "+44740012", "{first}");
    assert_eq!(first["retryAfter"], 12 * 3600, "{first}");
    let m = first["message"].as_str().unwrap();
    assert!(
        m.contains("+44740012") && m.contains("fraud guard"),
        "says what and why: {m}"
    );
    // Refused sends are recorded as blocked, with why in the timeline.
    let rid = first["requestID"].as_str().unwrap();
    let (_, sdr) = api.get(&format!("/2fa/search/{rid}")).await;
    assert_eq!(sdr["status"], "blocked", "{sdr}");
    let d = decision(&api, rid).await.expect("a fraud_guard event");
    assert_eq!(d["decision"], "blocked", "{d}");
    assert_eq!(d["prefix"], "+44740012");
    let reason = d["reason"].as_str().unwrap();
    assert!(
        reason.contains("prefix +44740012: 4 unverified OTPs in the last hour"),
        "{reason}"
    );
    assert!(d["until"].is_string(), "{d}");
    // A later refused send names the block it met.
    let last = refused.last().unwrap()["requestID"].as_str().unwrap();
    let d = decision(&api, last).await.unwrap();
    assert!(
        d["reason"].as_str().unwrap().contains("is blocked since"),
        "{d}"
    );
    // Nothing was delivered for them; the accepted ones carry no fraud event.
    assert_eq!(decision(&api, &accepted[0]).await, None);

    // The block, listed with why and when it ends.
    let (status, blocks) = api.get("/2fa/fraudGuard/blocks").await;
    assert_eq!(status, 200, "{blocks}");
    let list = blocks["blocks"].as_array().unwrap();
    assert_eq!(list.len(), 1, "the channel the attack used: {blocks}");
    for b in list {
        assert_eq!(b["prefix"], "+44740012");
        assert_eq!(b["countryCode"], "GB");
        let at = |k: &str| crate::server::clock::parse_rfc3339(b[k].as_str().unwrap()).unwrap();
        assert_eq!(at("until") - at("since"), 12 * 3600 * 1000, "{b}");
    }
    assert_eq!(list[0]["channel"], "sms");
    // Another prefix of the same country is not blocked; a call to the prefix is refused too
    // (the prefix's unverified OTPs count for every phone channel) and blocks calls.
    api.send_ok(json!({"service": "Shop", "to": "+447400220123"}))
        .await;
    let (status, e) = api
        .post(
            "/2fa/send",
            json!({"service": "Shop", "channel": "call", "to": "+447400120999"}),
        )
        .await;
    assert_eq!((status, e["errorCode"].as_i64()), (429, Some(7024)), "{e}");
    let (_, blocks) = api.get("/2fa/fraudGuard/blocks").await;
    assert_eq!(blocks["blocks"].as_array().unwrap().len(), 2, "{blocks}");

    // An idempotent retry of a refused send answers the same refusal.
    let key_send = || async {
        app.http
            .post(app.url("/2fa/send"))
            .basic_auth(&acc.sid, Some(&acc.token))
            .header("Idempotency-Key", "attack-1")
            .json(&json!({"service": "Shop", "to": "+447400120777"}))
            .send()
            .await
            .unwrap()
    };
    let first = key_send().await;
    assert_eq!(first.status(), 429);
    assert_eq!(first.headers()["retry-after"], "43200");
    let first: Value = first.json().await.unwrap();
    let again = key_send().await;
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(
        (again["errorCode"].clone(), again["requestID"].clone()),
        (json!(7024), first["requestID"].clone())
    );
    assert_eq!(again["prefix"], "+44740012");

    // Refused sends are not counted as sent in the usage.
    let (_, usage) = api.get("/2fa/usage/records?status=blocked").await;
    let blocked: i64 = usage["usageRecords"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["count"].as_i64().unwrap())
        .sum();
    assert_eq!(blocked, 37 + 2, "{usage}");
}

async fn blocks_are_lifted_audited_and_end_after_12_hours(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Shop").await;
    let other = app.account("Other").await;
    let api = app.api(&acc);
    guard(&api, json!({"mode": "block"})).await;
    for i in 0..4 {
        api.post(
            "/2fa/send",
            json!({"service": "S", "to": format!("+44740012{:04}", 200 + i)}),
        )
        .await;
    }
    let (status, e) = api
        .post("/2fa/send", json!({"service": "S", "to": "+447400120300"}))
        .await;
    assert_eq!((status, e["errorCode"].as_i64()), (429, Some(7024)), "{e}");

    // Another account cannot see or lift it.
    let (_, theirs) = app.api(&other).get("/2fa/fraudGuard/blocks").await;
    assert_eq!(theirs["blocks"], json!([]), "{theirs}");
    let (status, e) = app
        .api(&other)
        .request(
            reqwest::Method::DELETE,
            "/2fa/fraudGuard/blocks/%2B44740012",
            None,
        )
        .await;
    assert_eq!((status, e["errorCode"].as_i64()), (404, Some(7003)), "{e}");
    let (status, e) = api
        .request(
            reqwest::Method::DELETE,
            "/2fa/fraudGuard/blocks/44740012",
            None,
        )
        .await;
    assert_eq!(
        (status, e["errorCode"].as_i64(), e["field"].as_str()),
        (400, Some(7004), Some("prefix")),
        "{e}"
    );

    // Lifted: listed no more, recorded in the audit log, and the prefix is not blocked again
    // for a day (what the guard would have done is still recorded).
    let (status, lifted) = api
        .request(
            reqwest::Method::DELETE,
            "/2fa/fraudGuard/blocks/%2B44740012",
            None,
        )
        .await;
    assert_eq!(status, 200, "{lifted}");
    assert_eq!(lifted["blocks"].as_array().unwrap().len(), 1, "{lifted}");
    let (_, blocks) = api.get("/2fa/fraudGuard/blocks").await;
    assert_eq!(blocks["blocks"], json!([]));
    let (status, e) = api
        .request(
            reqwest::Method::DELETE,
            "/2fa/fraudGuard/blocks/%2B44740012",
            None,
        )
        .await;
    assert_eq!((status, e["errorCode"].as_i64()), (404, Some(7003)), "{e}");
    let (_, log) = api.get("/2fa/audit?action=fraud_guard.lift").await;
    let entries = log["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{log}");
    assert_eq!(entries[0]["target"], "+44740012");
    assert_eq!(entries[0]["actor"]["sid"], acc.sid.as_str());
    assert_eq!(entries[0]["before"][0]["countryCode"], "GB", "{log}");
    let rid = api
        .send_ok(json!({"service": "S", "to": "+447400120301"}))
        .await;
    let d = decision(&api, &rid).await.expect("recorded");
    assert_eq!(d["decision"], "monitored", "{d}");
    assert!(d["reason"].as_str().unwrap().contains("lifted"), "{d}");

    // Another prefix trips and is blocked; 12 hours later its block has ended.
    for i in 0..3 {
        api.send_ok(json!({"service": "S", "to": format!("+3361234{:04}", i)}))
            .await;
    }
    let (status, _) = api
        .post("/2fa/send", json!({"service": "S", "to": "+33612349999"}))
        .await;
    assert_eq!(status, 429);
    app.clock.advance_ms(12 * 3600 * 1000);
    let (_, blocks) = api.get("/2fa/fraudGuard/blocks").await;
    assert_eq!(blocks["blocks"], json!([]), "ended: {blocks}");
    api.send_ok(json!({"service": "S", "to": "+33612348888"}))
        .await;
}

async fn monitor_mode_and_the_default_that_follows_the_provider(b: Backend) {
    let app = TestApp::start(b).await;
    let parent = app.account("Parent").await;
    let sub = app.account_with_parent("Sub", Some(&parent.sid)).await;
    let api = app.api(&parent);

    // Unset, with the sandbox: recorded, never blocked.
    let (status, g) = api.get("/2fa/settings/fraudGuard").await;
    assert_eq!(status, 200, "{g}");
    assert_eq!(g["mode"], Value::Null);
    assert_eq!(g["applies"], json!({"sms": "monitor", "call": "monitor"}));
    assert_eq!(
        g["sources"],
        json!({"mode": "default", "safeList": "default"})
    );
    let mut rids = Vec::new();
    for i in 0..6 {
        rids.push(
            api.send_ok(json!({"service": "S", "to": format!("+44740012{:04}", 400 + i)}))
                .await,
        );
    }
    assert_eq!(decision(&api, &rids[2]).await, None, "under the threshold");
    let d = decision(&api, &rids[3]).await.expect("recorded");
    assert_eq!(d["decision"], "monitored", "{d}");
    assert!(
        d["reason"].as_str().unwrap().contains("monitor mode"),
        "{d}"
    );
    let (_, blocks) = api.get("/2fa/fraudGuard/blocks").await;
    assert_eq!(blocks["blocks"], json!([]));

    // Once SMS goes through a real provider, its traffic is blocked (calls still sandboxed).
    let fake = FakeCpaas::start().await;
    let (status, p) = api
        .post(
            "/2fa/providers",
            json!({"kind": "twilio", "name": "tw", "channels": ["sms"], "config": fake.config()}),
        )
        .await;
    assert_eq!(status, 201, "{p}");
    let (_, g) = api.get("/2fa/settings/fraudGuard").await;
    assert_eq!(
        g["applies"],
        json!({"sms": "block", "call": "monitor"}),
        "{g}"
    );
    let (status, e) = api
        .post("/2fa/send", json!({"service": "S", "to": "+447400120499"}))
        .await;
    assert_eq!((status, e["errorCode"].as_i64()), (429, Some(7024)), "{e}");

    // An explicit mode applies to all traffic; a sub-account inherits it.
    let g = guard(&api, json!({"mode": "monitor"})).await;
    assert_eq!(g["applies"], json!({"sms": "monitor", "call": "monitor"}));
    assert_eq!(g["sources"]["mode"], "account");
    let (_, sg) = app.api(&sub).get("/2fa/settings/fraudGuard").await;
    assert_eq!(
        (sg["mode"].clone(), sg["sources"]["mode"].clone()),
        (json!("monitor"), json!("parent"))
    );
    // Monitor: the blocked prefix is let through, and what would have happened is recorded.
    let rid = api
        .send_ok(json!({"service": "S", "to": "+447400120498"}))
        .await;
    assert_eq!(decision(&api, &rid).await.unwrap()["decision"], "monitored");
    // Off: no check at all.
    guard(&api, json!({"mode": "off"})).await;
    let rid = api
        .send_ok(json!({"service": "S", "to": "+447400120497"}))
        .await;
    assert_eq!(decision(&api, &rid).await, None);
    // null goes back to the default.
    let g = guard(&api, json!({"mode": null})).await;
    assert_eq!(
        (g["mode"].clone(), g["sources"]["mode"].clone()),
        (Value::Null, json!("default"))
    );
    // The changes are in the audit log (settings.update, target fraud_guard).
    let (_, log) = api.get("/2fa/audit?action=settings.update").await;
    let entries = log["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3, "{log}");
    assert_eq!(entries[0]["target"], "fraud_guard");
    assert_eq!(entries[0]["before"]["mode"], "off", "{log}");
    assert_eq!(entries[0]["after"]["mode"], Value::Null);
}

async fn the_safe_list_is_never_blocked_and_settings_are_validated(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Shop").await;
    let api = app.api(&acc);
    let g = guard(
        &api,
        json!({"mode": "block", "safeList": ["+44740012", " +14155550100"]}),
    )
    .await;
    assert_eq!(g["safeList"], json!(["+14155550100", "+44740012"]));
    assert_eq!(g["sources"]["safeList"], "account");
    // (Five: safe-listed sends still count for the country's rules.)
    for i in 0..5 {
        let rid = api
            .send_ok(json!({"service": "S", "to": format!("+44740012{:04}", 500 + i)}))
            .await;
        let d = decision(&api, &rid).await.expect("recorded");
        assert_eq!(d["decision"], "safe_listed", "{d}");
    }
    // A prefix not on the list is blocked after the threshold.
    for i in 0..3 {
        api.send_ok(json!({"service": "S", "to": format!("+44740022{:04}", 500 + i)}))
            .await;
    }
    let (status, _) = api
        .post("/2fa/send", json!({"service": "S", "to": "+447400220999"}))
        .await;
    assert_eq!(status, 429);
    // Fields given change, the others stay; an empty list is a list.
    let g = guard(&api, json!({"safeList": []})).await;
    assert_eq!(
        (g["safeList"].clone(), g["mode"].clone()),
        (json!([]), json!("block"))
    );

    for (body, field) in [
        (json!({"mode": "strict"}), "mode"),
        (json!({"safeList": ["44740012"]}), "safeList"),
        (json!({"safeList": ["+44 77a"]}), "safeList"),
    ] {
        let (status, e) = api
            .post_method("PUT", "/2fa/settings/fraudGuard", body.clone())
            .await;
        assert_eq!(
            (status, e["errorCode"].as_i64(), e["field"].as_str()),
            (400, Some(7004), Some(field)),
            "{body}: {e}"
        );
    }
    let too_many: Vec<String> = (0..501).map(|i| format!("+1{i:06}")).collect();
    let (status, e) = api
        .post_method(
            "PUT",
            "/2fa/settings/fraudGuard",
            json!({"safeList": too_many}),
        )
        .await;
    assert_eq!(
        (status, e["field"].as_str()),
        (400, Some("safeList")),
        "{e}"
    );
    // 7024 is listed with the other error codes.
    let (_, errors) = api.get("/2fa/errors").await;
    assert!(errors.to_string().contains("7024"), "{errors}");
}

/// Sends and verifies to numbers of one prefix and country, many at once: the guard's counters
/// are written in one lock order with the rows spread over shards, so PostgreSQL never has to
/// break a deadlock by failing a request (it did: a send locked the prefix row then the
/// country row while a verify locked them in the table's order, and one answered 500).
async fn parallel_sends_and_verifies_to_one_prefix_all_succeed(b: Backend) {
    let app = TestApp::start_with(b, |s| s.db_max_connections = 32).await;
    crate::server::workers::spawn(app.state.clone());
    let acc = app.account("Busy").await;
    let lifecycle = |n: usize| {
        let api = app.api(&acc);
        async move {
            let to = format!("+1415555{:04}", 1001 + n);
            let (status, sent) = api
                .post("/2fa/send", json!({"service": "Rush", "to": to}))
                .await;
            if status != 200 {
                return (status, sent);
            }
            let rid = sent["requestID"].as_str().unwrap().to_owned();
            let (status, page) = api
                .get(&format!("/2fa/sandbox/messages?requestID={rid}&wait=10"))
                .await;
            let code =
                super::harness::extract_code(page["messages"][0]["text"].as_str().unwrap_or(""));
            if status != 200 {
                return (status, page);
            }
            api.post("/2fa/verify", json!({"requestID": rid, "code": code}))
                .await
        }
    };
    for round in 0..6 {
        let answers = futures::future::join_all((0..64).map(|i| lifecycle(round * 64 + i))).await;
        for (status, body) in answers {
            assert_eq!(status, 200, "round {round}: {body}");
        }
    }
    // The guard counted every send and verify of the prefix.
    let counted = app
        .state
        .db()
        .scalar_i64(
            "SELECT CAST(SUM(sent) + SUM(verified) AS BIGINT) FROM fraud_counts WHERE account_sid = $1 AND scope = 'p+1415555'",
            crate::args![acc.sid.clone()],
        )
        .await
        .unwrap();
    assert_eq!(counted, 2 * 6 * 64);
}
