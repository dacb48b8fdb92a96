//! The OTP pages' server functions and the CSV export, through real HTTP with a session.
use super::harness::{call, client, signed_in, TestAccount, TestApp};
use crate::domain::Role;
use crate::server::db::Backend;
use serde_json::json;

super::both_backends!(
    send_follow_verify_like_the_api,
    support_searches_opens_and_cancels_but_cannot_send,
    other_accounts_otps_are_invisible,
    search_filters_and_keyset_pages,
    csv_export_streams_the_filtered_set,
);

async fn admin(app: &TestApp, acc: &TestAccount) -> reqwest::Client {
    signed_in(app, &acc.email, &acc.password).await
}

async fn send_sms(app: &TestApp, http: &reqwest::Client, to: &str) -> String {
    let (status, answer) = call(
        app,
        http,
        "otp_send_test",
        &[
            ("form[channels][0]", "sms"),
            ("form[to]", to),
            ("form[service]", "Console"),
            ("form[reference]", "ref-1"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["code"], 200);
    answer["request_id"].as_str().unwrap().to_owned()
}

async fn send_follow_verify_like_the_api(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let http = admin(&app, &acc).await;

    // Field errors name the form field, with the API's code and words.
    let (status, err) = call(
        &app,
        &http,
        "otp_send_test",
        &[("form[channels][0]", "sms"), ("form[service]", "Console")],
    )
    .await;
    assert_eq!(status, 400, "{err}");
    assert_eq!(err["field"], "to");
    let (_, err) = call(
        &app,
        &http,
        "otp_send_test",
        &[
            ("form[channels][0]", "sms"),
            ("form[to]", "+14155550101"),
            ("form[service]", "Console"),
            ("form[limits]", "no equals sign"),
        ],
    )
    .await;
    assert_eq!(err["field"], "limits");
    let (_, err) = call(
        &app,
        &http,
        "otp_send_test",
        &[
            ("form[channels][0]", "sms"),
            ("form[to]", "+14155550101"),
            ("form[service]", "Console"),
            ("form[limits]", "per_ip=1.2.3.4"),
        ],
    )
    .await;
    assert_eq!(
        err["code"], 7021,
        "an unknown limit, as the API says: {err}"
    );

    // The destination check as the user types.
    let (status, d) = call(
        &app,
        &http,
        "otp_check_destination",
        &[("to", "+442079460958")],
    )
    .await;
    assert_eq!(status, 200, "{d}");
    assert_eq!(d["e164"], "+442079460958");
    assert_eq!(d["country"], "GB");
    let (status, d) = call(&app, &http, "otp_check_destination", &[("to", "12")]).await;
    assert_eq!(status, 400);
    assert_eq!(d["field"], "to");

    let rid = send_sms(&app, &http, "+14155550102").await;
    let (status, st) = call(&app, &http, "otp_test_state", &[("request_id", &rid)]).await;
    assert_eq!(status, 200, "{st}");
    assert_eq!(st["sdr"]["status"], "pending");
    assert_eq!(st["messages"].as_array().unwrap().len(), 0);
    app.deliver().await;
    let (_, st) = call(&app, &http, "otp_test_state", &[("request_id", &rid)]).await;
    assert_eq!(st["sdr"]["status"], "delivered");
    let text = st["messages"][0]["text"].as_str().unwrap().to_owned();
    let code = super::harness::extract_code(&text);
    assert!(!st.to_string().contains("code_hash"), "never the hash");

    // The same OTP through the REST API: indistinguishable.
    let (_, sdr) = app.api(&acc).get(&format!("/2fa/search/{rid}")).await;
    assert_eq!(sdr["service"], "Console");
    assert_eq!(sdr["reference"], "ref-1");

    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (status, e) = call(
        &app,
        &http,
        "otp_verify_test",
        &[("request_id", &rid), ("code", wrong)],
    )
    .await;
    assert_eq!(status, 400, "{e}");
    assert_eq!(e["code"], 7030);
    assert_eq!(e["message"], "Wrong code. 4 attempts left.");
    let (status, ok) = call(
        &app,
        &http,
        "otp_verify_test",
        &[("request_id", &rid), ("code", &code)],
    )
    .await;
    assert_eq!((status, ok.clone()), (200, json!("verified")));
    let (_, again) = call(
        &app,
        &http,
        "otp_verify_test",
        &[("request_id", &rid), ("code", &code)],
    )
    .await;
    assert_eq!(again["code"], 7032, "already verified: {again}");
    let (_, st) = call(&app, &http, "otp_test_state", &[("request_id", &rid)]).await;
    assert_eq!(st["sdr"]["status"], "verified");

    // Expired and canceled answer as the API does.
    let expiring = send_sms(&app, &http, "+14155550103").await;
    app.clock.advance_ms(11 * 60 * 1000);
    let (_, e) = call(
        &app,
        &http,
        "otp_verify_test",
        &[("request_id", &expiring), ("code", "123456")],
    )
    .await;
    assert_eq!(e["code"], 7031, "{e}");
    let canceled = send_sms(&app, &http, "+14155550104").await;
    let (status, c) = call(&app, &http, "otp_cancel", &[("request_id", &canceled)]).await;
    assert_eq!((status, c), (200, json!("canceled")));
    let (_, e) = call(
        &app,
        &http,
        "otp_verify_test",
        &[("request_id", &canceled), ("code", "123456")],
    )
    .await;
    assert_eq!(e["code"], 7033, "{e}");

    // Locked after the last allowed wrong code.
    let (_, answer) = call(
        &app,
        &http,
        "otp_send_test",
        &[
            ("form[channels][0]", "sms"),
            ("form[to]", "+14155550105"),
            ("form[service]", "Console"),
            ("form[max_attempts]", "1"),
        ],
    )
    .await;
    let locked = answer["request_id"].as_str().unwrap().to_owned();
    let (_, e) = call(
        &app,
        &http,
        "otp_verify_test",
        &[("request_id", &locked), ("code", "zzzzzz")],
    )
    .await;
    assert_eq!(e["code"], 7034, "{e}");
    let (_, st) = call(&app, &http, "otp_test_state", &[("request_id", &locked)]).await;
    assert_eq!(st["sdr"]["status"], "max_attempts");

    // A workflow whose first channel fails shows the fallback in the SDR's timeline.
    let (_, answer) = call(
        &app,
        &http,
        "otp_send_test",
        &[
            ("form[channels][0]", "sms"),
            ("form[channels][1]", "email"),
            ("form[channels][2]", ""),
            ("form[to]", "+14155550000"),
            ("form[email_to]", "user@example.com"),
            ("form[service]", "Console"),
        ],
    )
    .await;
    let fb = answer["request_id"].as_str().unwrap().to_owned();
    app.deliver().await;
    app.deliver().await;
    let (status, d) = call(&app, &http, "otp_detail", &[("request_id", &fb)]).await;
    assert_eq!(status, 200, "{d}");
    assert_eq!(d["sdr"]["workflow"], json!(["sms", "email"]));
    let kinds: Vec<&str> = d["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"fallback"), "{kinds:?}");
    assert_eq!(d["attempts"][0]["status"], "failed");
    assert!(d["attempts"][0]["error"]
        .as_str()
        .unwrap()
        .contains("always fails"));
    assert_eq!(d["attempts"][1]["channel"], "email");
}

async fn support_searches_opens_and_cancels_but_cannot_send(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let rid = app
        .api(&acc)
        .send_ok(json!({"service": "S", "to": "+14155550111"}))
        .await;
    let (email, password) = app.user(&acc.sid, Role::Support).await;
    let support = signed_in(&app, &email, &password).await;

    let (status, e) = call(
        &app,
        &support,
        "otp_send_test",
        &[
            ("form[channels][0]", "sms"),
            ("form[to]", "+14155550112"),
            ("form[service]", "S"),
        ],
    )
    .await;
    assert_eq!(status, 403, "{e}");
    assert_eq!(e["code"], 7002);
    let (status, _) = call(
        &app,
        &support,
        "otp_verify_test",
        &[("request_id", &rid), ("code", "1")],
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = call(&app, &support, "otp_test_state", &[("request_id", &rid)]).await;
    assert_eq!(status, 403);

    let (status, page) = call(
        &app,
        &support,
        "otps_search",
        &[("query[destination]", "+1 415 555 0111")],
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["total"], 1);
    assert_eq!(page["rows"][0]["requestID"], rid.as_str());
    let (status, d) = call(&app, &support, "otp_detail", &[("request_id", &rid)]).await;
    assert_eq!(status, 200);
    assert_eq!(d["events"][0]["kind"], "created");
    let (status, c) = call(&app, &support, "otp_cancel", &[("request_id", &rid)]).await;
    assert_eq!((status, c), (200, json!("canceled")));
    let (_, d) = call(&app, &support, "otp_detail", &[("request_id", &rid)]).await;
    let canceled = d["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "canceled")
        .unwrap()
        .clone();
    assert!(
        canceled.to_string().contains(&email),
        "the timeline says who: {canceled}"
    );
    let (status, e) = call(&app, &support, "otp_cancel", &[("request_id", &rid)]).await;
    assert_eq!(status, 409, "{e}");
    assert_eq!(e["code"], 7033, "already canceled");

    // Signed out: nothing.
    let (status, _) = call(&app, &client(), "otp_detail", &[("request_id", &rid)]).await;
    assert_eq!(status, 401);
}

async fn other_accounts_otps_are_invisible(b: Backend) {
    let app = TestApp::start(b).await;
    let acme = app.account("Acme").await;
    let globex = app.account("Globex").await;
    let rid = app
        .api(&acme)
        .send_ok(json!({"service": "S", "to": "+14155550121"}))
        .await;
    let http = admin(&app, &globex).await;
    for name in ["otp_detail", "otp_cancel", "otp_test_state"] {
        let (status, e) = call(&app, &http, name, &[("request_id", &rid)]).await;
        assert_eq!(status, 404, "{name}: {e}");
        assert_eq!(e["code"], 7003);
    }
    let (_, e) = call(
        &app,
        &http,
        "otp_verify_test",
        &[("request_id", &rid), ("code", "123456")],
    )
    .await;
    assert_eq!(e["code"], 7003);
    let (_, page) = call(&app, &http, "otps_search", &[("query[request_id]", &rid)]).await;
    assert_eq!(page["total"], 0);
    let (_, sdr) = app.api(&acme).get(&format!("/2fa/search/{rid}")).await;
    assert_eq!(sdr["status"], "pending", "still active for its owner");
}

async fn search_filters_and_keyset_pages(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let api = app.api(&acc);
    let mut sent = Vec::new();
    for i in 0..120 {
        let channel = if i % 3 == 0 { "email" } else { "sms" };
        let body = if channel == "email" {
            json!({"service": "Shop", "channel": "email", "emailTo": format!("u{i}@example.com"), "reference": format!("r{i}")})
        } else {
            json!({"service": if i % 2 == 0 { "Shop" } else { "Bank" }, "to": format!("+1415555{:04}", 1000 + i), "reference": format!("r{i}")})
        };
        sent.push(api.send_ok(body).await);
        // Several OTPs share a millisecond: the sid breaks the tie.
        if i % 4 == 0 {
            app.clock.advance_ms(1);
        }
    }
    let http = admin(&app, &acc).await;

    // Walk all pages, older and back newer: every OTP once, newest first.
    let mut seen = Vec::new();
    let mut before = String::new();
    let mut pages = Vec::new();
    loop {
        let (status, page) = call(&app, &http, "otps_search", &[("query[before]", &before)]).await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["total"], 120);
        let ids: Vec<String> = page["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["requestID"].as_str().unwrap().to_owned())
            .collect();
        assert!(ids.len() <= 50);
        seen.extend(ids.clone());
        pages.push((ids, page["newer"].clone()));
        match page["older"].as_str() {
            Some(c) => before = c.to_owned(),
            None => break,
        }
    }
    assert_eq!(pages.len(), 3);
    assert!(pages[0].1.is_null(), "the first page has no newer page");
    let mut expected = sent.clone();
    expected.reverse();
    // Newest first by creation time; within one millisecond by sid, descending.
    let mut by_time = seen.clone();
    by_time.sort();
    by_time.dedup();
    assert_eq!(by_time.len(), 120, "every OTP exactly once");
    let last_page_newer = pages[2].1.as_str().unwrap().to_owned();
    let (_, back) = call(
        &app,
        &http,
        "otps_search",
        &[("query[after]", &last_page_newer)],
    )
    .await;
    let back_ids: Vec<&str> = back["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["requestID"].as_str().unwrap())
        .collect();
    assert_eq!(
        back_ids,
        pages[1].0.iter().map(String::as_str).collect::<Vec<_>>(),
        "newer from page 3 is page 2"
    );

    // Filters.
    let count = |pairs: Vec<(&'static str, String)>| {
        let http = http.clone();
        let app = &app;
        async move {
            let form: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let (status, page) = call(app, &http, "otps_search", &form).await;
            assert_eq!(status, 200, "{page}");
            page["total"].as_i64().unwrap()
        }
    };
    assert_eq!(count(vec![("query[channel]", "email".into())]).await, 40);
    assert_eq!(count(vec![("query[service]", "Bank".into())]).await, 40);
    assert_eq!(count(vec![("query[reference]", "r7".into())]).await, 1);
    assert_eq!(
        count(vec![("query[destination]", "u3@example.com".into())]).await,
        1
    );
    assert_eq!(count(vec![("query[country]", "us".into())]).await, 80);
    assert_eq!(count(vec![("query[status]", "pending".into())]).await, 120);
    assert_eq!(count(vec![("query[request_id]", sent[5].clone())]).await, 1);
    let today = crate::server::clock::rfc3339(app.state.clock().now_ms())[..10].to_owned();
    assert_eq!(
        count(vec![
            ("query[from]", today.clone()),
            ("query[until]", today.clone())
        ])
        .await,
        120
    );
    assert_eq!(count(vec![("query[until]", "2020-01-01".into())]).await, 0);

    // Bad filters name the console field.
    for (field, value, code) in [
        ("status", "lost", 7004),
        ("country", "USA", 7004),
        ("from", "yesterday", 7004),
        ("before", "garbage", 7004),
    ] {
        let (status, e) = call(
            &app,
            &http,
            "otps_search",
            &[(&format!("query[{field}]"), value)],
        )
        .await;
        assert_eq!(status, 400, "{field}: {e}");
        assert_eq!(e["code"], code);
        assert_eq!(e["field"], field, "{e}");
    }
    let (_, e) = call(
        &app,
        &http,
        "otps_search",
        &[
            ("query[from]", "2026-02-02"),
            ("query[until]", "2026-01-01"),
        ],
    )
    .await;
    assert_eq!(e["field"], "until", "{e}");
}

async fn csv_export_streams_the_filtered_set(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let other = app.account("Globex").await;
    let api = app.api(&acc);
    for i in 0..2500 {
        let service = if i % 5 == 0 { "Bank" } else { "Shop" };
        // Bulk: the send path, but skipping per-destination protection with distinct numbers.
        api.send_ok(json!({"service": service, "to": format!("+1415555{i:04}"), "reference": if i == 7 { "=HYPERLINK(\"x\")".to_owned() } else { format!("r{i}") }})).await;
    }
    app.api(&other)
        .send_ok(json!({"service": "Bank", "to": "+14155550199"}))
        .await;
    let http = admin(&app, &acc).await;

    let res = http
        .get(app.url("/console/otps.csv?service=Bank"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("otps.csv"));
    let body = res.text().await.unwrap();
    let lines: Vec<&str> = body.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines[0], crate::server_fns::export::COLUMNS.join(","));
    assert_eq!(
        lines.len(),
        1 + 500,
        "every Bank OTP of this account, across batches"
    );
    assert!(lines[1..].iter().all(|l| l.contains(",Bank,")));
    assert!(!body.contains("+14155550199"), "not another account's");
    let mut ids: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l.split(',').next().unwrap())
        .collect();
    ids.dedup();
    assert_eq!(ids.len(), 500);

    let all = http
        .get(app.url("/console/otps.csv"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(all.matches("\r\n").count(), 1 + 2500);
    assert!(
        all.contains(",\"'=HYPERLINK(\"\"x\"\")\","),
        "formulas are defused"
    );

    let res = http
        .get(app.url("/console/otps.csv?status=lost"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("status must be"));
    let res = client()
        .get(app.url("/console/otps.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}
