//! The OTP REST contract: send, verify (every outcome), cancel, SDR, search, sandbox; errors.
use super::harness::TestApp;
use crate::server::db::Backend;
use serde_json::{json, Value};

super::both_backends!(
    send_read_verify_search_lifecycle,
    verify_row_verified,
    verify_row_wrong_code,
    verify_row_expired,
    verify_row_already_verified,
    verify_row_canceled,
    verify_row_locked,
    verify_row_delivery_failed,
    verify_row_unknown,
    verify_by_service_and_destination,
    cancel_answers_final_states,
    idempotency_key_replays_and_refuses_reuse,
    superseding_and_keep_old_otp_active,
    destination_protection_and_unknown_limits,
    destination_protection_long_window,
    validation_errors_name_fields_and_never_5xx,
    search_filters_and_paging,
    search_pages_follow_links_by_position_and_keep_the_account,
    email_channel_and_call_rendering,
    sandbox_long_poll_answers_on_delivery,
);

/// `wait` holds an empty outbox answer until the message is delivered (or the time is up).
async fn sandbox_long_poll_answers_on_delivery(b: Backend) {
    // Workers running: the delivery happens on its own, and the waiting reader is told.
    let app = TestApp::start(b).await;
    crate::server::workers::spawn(app.state.clone());
    let acc = app.account("Acme").await;
    let rid = app
        .api(&acc)
        .send_ok(json!({"service": "Poll", "to": "+14155550188"}))
        .await;
    let started = std::time::Instant::now();
    let (status, page) = app
        .api(&acc)
        .get(&format!("/2fa/sandbox/messages?requestID={rid}&wait=10"))
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["messages"][0]["requestID"], rid.as_str(), "{page}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "answered on delivery, not at the deadline"
    );

    // Workers off: nothing arrives, so the answer is empty once the wait is over.
    let quiet = TestApp::start_with(b, |s| s.workers_enabled = false).await;
    let acc = quiet.account("Quiet").await;
    let rid = quiet
        .api(&acc)
        .send_ok(json!({"service": "Poll", "to": "+14155550189"}))
        .await;
    let started = std::time::Instant::now();
    let (status, page) = quiet
        .api(&acc)
        .get(&format!("/2fa/sandbox/messages?requestID={rid}&wait=1"))
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["messages"], json!([]));
    assert!(started.elapsed() >= std::time::Duration::from_millis(950));
    // Then a delivery answers a waiting reader at once.
    let waiting = {
        let api = quiet.api(&acc);
        let path = format!("/2fa/sandbox/messages?requestID={rid}&wait=10");
        async move { api.get(&path).await }
    };
    let deliver = async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        quiet.deliver().await
    };
    let started = std::time::Instant::now();
    let ((status, page), delivered) = tokio::join!(waiting, deliver);
    assert_eq!((status, delivered), (200, 1), "{page}");
    assert_eq!(page["messages"][0]["requestID"], rid.as_str());
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
    let (status, err) = quiet
        .api(&acc)
        .get(&format!("/2fa/sandbox/messages?requestID={rid}&wait=31"))
        .await;
    assert_eq!(status, 400);
    assert_error(&err, 400, 7004);
    assert_eq!(err["field"], "wait", "{err}");
}

fn assert_error(body: &Value, status: u16, code: u16) {
    assert_eq!(body["code"], status, "{body}");
    assert_eq!(body["errorCode"], code, "{body}");
    assert_eq!(body["moreInfo"], format!("/2fa/errors#{code}"), "{body}");
}

async fn send_read_verify_search_lifecycle(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let api = app.api(&acc);
    let (status, sent) = api
        .post(
            "/2fa/send",
            json!({"service": "MyApp", "to": "+14155550100", "reference": "order-17"}),
        )
        .await;
    assert_eq!(status, 200, "{sent}");
    assert_eq!(sent["message"], "OK");
    assert_eq!(sent["status"], "pending");
    assert_eq!(sent["channel"], "sms");
    assert_eq!(sent["to"], "+14155550100");
    assert_eq!(sent["attemptsLeft"], 5);
    assert!(
        sent.get("code").is_some_and(|c| c == 200),
        "code is the HTTP status, never the OTP"
    );
    let rid = sent["requestID"].as_str().unwrap().to_owned();
    assert!(crate::domain::OtpSid::parse(&rid).is_ok());
    assert_eq!(app.deliver().await, 1);

    let (text, code) = api.sandbox_code(&rid).await;
    assert_eq!(
        text,
        format!("Your MyApp code is {code}. It expires in 10 minutes.")
    );
    assert_eq!(code.len(), 6);
    assert!(code.bytes().all(|c| c.is_ascii_digit()));

    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (status, body) = api
        .post("/2fa/verify", json!({"requestID": rid, "code": wrong}))
        .await;
    assert_eq!(status, 400);
    assert_error(&body, 400, 7030);
    assert_eq!(body["attemptsLeft"], 4);

    let (status, body) = api
        .post("/2fa/verify", json!({"requestID": rid, "code": code}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"code": 200, "message": "OK", "status": "verified", "requestID": rid, "to": "+14155550100"})
    );

    let (status, body) = api
        .post("/2fa/verify", json!({"requestID": rid, "code": code}))
        .await;
    assert_eq!(status, 409);
    assert_error(&body, 409, 7032);
    assert_eq!(body["status"], "verified");

    let (status, sdr) = api.get(&format!("/2fa/search/{rid}")).await;
    assert_eq!(status, 200, "{sdr}");
    assert_eq!(sdr["status"], "verified");
    assert_eq!(sdr["countryCode"], "US");
    assert_eq!(sdr["reference"], "order-17");
    assert_eq!(sdr["verifyAttempts"], 1);
    assert!(sdr["verifiedAt"].is_string() && sdr["deliveredAt"].is_string());
    let kinds: Vec<&str> = sdr["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "created",
            "attempt_sent",
            "delivery_report",
            "verify_failed",
            "verified"
        ]
    );
    assert_eq!(sdr["events"][3]["detail"]["attemptsLeft"], 4);
    assert_eq!(sdr["deliveryAttempts"][0]["provider"], "sandbox");
    assert_eq!(sdr["deliveryAttempts"][0]["status"], "delivered");
    // The same SDR answers with the .json suffix.
    let (status, again) = api.get(&format!("/2fa/search/{rid}.json")).await;
    assert_eq!((status, again["requestID"].clone()), (200, json!(rid)));

    let (status, found) = api.get("/2fa/search?to=%2B14155550100").await;
    assert_eq!(status, 200);
    assert_eq!(found["total"], 1);
    assert_eq!(found["otps"][0]["requestID"], rid.as_str());
    let (_, by_ref) = api
        .post("/2fa/search", json!({"reference": "order-17"}))
        .await;
    assert_eq!(by_ref["total"], 1);

    // Nowhere but the sandbox outbox does the code appear in clear.
    let mut dump = String::new();
    for table in [
        "otps",
        "otp_events",
        "delivery_attempts",
        "jobs",
        "otp_codes",
        "idempotency_keys",
        "accounts",
        "api_credentials",
        "users",
    ] {
        dump.push_str(&super::harness::dump_table(app.state.db(), table).await);
    }
    assert!(!dump.contains(&code), "the code appears in a table");
    for body in [sent, sdr, found] {
        assert!(
            !body.to_string().contains(&format!("\"{code}\"")),
            "the code appears in an answer"
        );
    }
}

/// Sends an OTP and delivers it; returns the requestID and the code from the sandbox.
async fn delivered(app: &TestApp, api: &super::harness::Api<'_>, body: Value) -> (String, String) {
    let rid = api.send_ok(body).await;
    app.deliver().await;
    let (_, code) = api.sandbox_code(&rid).await;
    (rid, code)
}

fn other_than(code: &str) -> String {
    if code.starts_with('9') {
        "8".repeat(code.len())
    } else {
        "9".repeat(code.len())
    }
}

// The verify outcomes table of api.md, one test per row.

async fn verify_row_verified(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let api = app.api(&acc);
    let (rid, code) = delivered(&app, &api, json!({"service": "S", "to": "+14155550170"})).await;
    let (status, body) = api
        .post("/2fa/verify", json!({"requestID": rid, "code": code}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "verified");
    assert_eq!(body["to"], "+14155550170");
}

async fn verify_row_wrong_code(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let api = app.api(&acc);
    let (rid, code) = delivered(
        &app,
        &api,
        json!({"service": "S", "to": "+14155550171", "maxAttempts": 3}),
    )
    .await;
    let (status, body) = api
        .post(
            "/2fa/verify",
            json!({"requestID": rid, "code": other_than(&code)}),
        )
        .await;
    assert_eq!(status, 400);
    assert_error(&body, 400, 7030);
    assert_eq!(body["attemptsLeft"], 2);
}

async fn verify_row_expired(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let api = app.api(&acc);
    let (rid, code) = delivered(
        &app,
        &api,
        json!({"service": "S", "to": "+14155550172", "expiry": 60}),
    )
    .await;
    app.clock.advance_ms(60_000);
    let (status, body) = api
        .post("/2fa/verify", json!({"requestID": rid, "code": code}))
        .await;
    assert_eq!(status, 410);
    assert_error(&body, 410, 7031);
    assert_eq!(body["status"], "expired");
}

async fn verify_row_already_verified(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let api = app.api(&acc);
    let (rid, code) = delivered(&app, &api, json!({"service": "S", "to": "+14155550173"})).await;
    api.post("/2fa/verify", json!({"requestID": rid, "code": code}))
        .await;
    let (status, body) = api
        .post("/2fa/verify", json!({"requestID": rid, "code": code}))
        .await;
    assert_eq!(status, 409);
    assert_error(&body, 409, 7032);
    assert_eq!(body["status"], "verified");
}

async fn verify_row_canceled(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let api = app.api(&acc);
    let (rid, code) = delivered(&app, &api, json!({"service": "S", "to": "+14155550174"})).await;
    assert_eq!(
        api.post("/2fa/cancel", json!({"requestID": rid})).await.0,
        200
    );
    let (status, body) = api
        .post("/2fa/verify", json!({"requestID": rid, "code": code}))
        .await;
    assert_eq!(status, 409);
    assert_error(&body, 409, 7033);
    assert_eq!(body["status"], "canceled");
}

async fn verify_row_locked(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let api = app.api(&acc);
    let (rid, code) = delivered(
        &app,
        &api,
        json!({"service": "S", "to": "+14155550175", "maxAttempts": 2}),
    )
    .await;
    let wrong = other_than(&code);
    let (status, body) = api
        .post("/2fa/verify", json!({"requestID": rid, "code": wrong}))
        .await;
    assert_eq!((status, body["attemptsLeft"].clone()), (400, json!(1)));
    // The wrong code that uses the last attempt already answers 429.
    let (status, body) = api
        .post("/2fa/verify", json!({"requestID": rid, "code": wrong}))
        .await;
    assert_eq!(status, 429);
    assert_error(&body, 429, 7034);
    assert_eq!(body["status"], "max_attempts");
    let (status, _) = api
        .post("/2fa/verify", json!({"requestID": rid, "code": code}))
        .await;
    assert_eq!(status, 429, "even the right code is refused");
}

async fn verify_row_delivery_failed(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let api = app.api(&acc);
    let rid = api
        .send_ok(json!({"service": "S", "to": "+14155550000"}))
        .await;
    app.deliver().await;
    let (status, body) = api
        .post("/2fa/verify", json!({"requestID": rid, "code": "123456"}))
        .await;
    assert_eq!(status, 409);
    assert_error(&body, 409, 7035);
    assert_eq!(body["status"], "failed");
}

async fn verify_row_unknown(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let api = app.api(&acc);
    let (status, body) = api
        .post(
            "/2fa/verify",
            json!({"requestID": "OTP00000000000000000000000000000000", "code": "123456"}),
        )
        .await;
    assert_eq!(status, 404);
    assert_error(&body, 404, 7003);
    let (status, _) = api
        .post(
            "/2fa/verify",
            json!({"requestID": "nope", "code": "123456"}),
        )
        .await;
    assert_eq!(status, 404);
    let (status, body) = api
        .post(
            "/2fa/verify",
            json!({"service": "S", "to": "+14155550176", "code": "123456"}),
        )
        .await;
    assert_eq!(status, 404, "no active OTP");
    assert_error(&body, 404, 7003);
    let (status, body) = api
        .post(
            "/2fa/verify",
            json!({"requestID": "OTP00000000000000000000000000000000"}),
        )
        .await;
    assert_eq!((status, body["field"].clone()), (400, json!("code")));
}

async fn verify_by_service_and_destination(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let api = app.api(&acc);
    let first = api
        .send_ok(json!({"service": "Login", "to": "+14155550104", "keepOldOtpActive": true}))
        .await;
    let second = api
        .send_ok(json!({"service": "Login", "to": "+14155550104", "keepOldOtpActive": true}))
        .await;
    app.deliver().await;
    let (_, first_code) = api.sandbox_code(&first).await;
    // A wrong code costs an attempt on each active OTP.
    let (status, body) = api
        .post(
            "/2fa/verify",
            json!({"service": "Login", "to": "+14155550104", "code": "ZZZZ"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    for rid in [&first, &second] {
        let (_, sdr) = api.get(&format!("/2fa/search/{rid}")).await;
        assert_eq!(sdr["verifyAttempts"], 1);
    }
    // The late first code still verifies; the other becomes canceled (superseded).
    let (status, body) = api
        .post(
            "/2fa/verify",
            json!({"service": "Login", "to": "+14155550104", "code": first_code}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["requestID"], first.as_str());
    let (_, sdr) = api.get(&format!("/2fa/search/{second}")).await;
    assert_eq!(sdr["status"], "canceled");
    assert_eq!(sdr["cancelReason"], "superseded");
    let (status, body) = api
        .post(
            "/2fa/verify",
            json!({"service": "Login", "to": "+14155550104", "code": first_code}),
        )
        .await;
    assert_eq!(status, 404);
    assert_error(&body, 404, 7003);
    let (status, body) = api
        .post("/2fa/verify", json!({"service": "Login", "code": "1234"}))
        .await;
    assert_eq!((status, body["field"].clone()), (400, json!("to")));
}

async fn cancel_answers_final_states(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let api = app.api(&acc);
    let rid = api
        .send_ok(json!({"service": "S", "to": "+14155550105"}))
        .await;
    let (status, body) = api.post("/2fa/cancel", json!({"requestID": rid})).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"code": 200, "message": "OK", "requestID": rid, "status": "canceled"})
    );
    let (status, body) = api.post("/2fa/cancel", json!({"requestID": rid})).await;
    assert_eq!(status, 409);
    assert_error(&body, 409, 7033);
    // The queued delivery of a canceled OTP never reaches the outbox.
    app.deliver().await;
    let (_, outbox) = api
        .get(&format!("/2fa/sandbox/messages?requestID={rid}"))
        .await;
    assert_eq!(outbox["total"], 0);
    let (_, sdr) = api.get(&format!("/2fa/search/{rid}")).await;
    let canceled = sdr["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "canceled")
        .unwrap()
        .clone();
    assert_eq!(canceled["detail"]["reason"], "requested");
    let (status, _) = api.post("/2fa/cancel", json!({})).await;
    assert_eq!(status, 400);

    // Every other final state also answers 409, with its status and its own code.
    let cancel_409 = |rid: String, code: u16, state: &'static str| {
        let api = &api;
        async move {
            let (status, body) = api.post("/2fa/cancel", json!({"requestID": rid})).await;
            assert_eq!(status, 409, "{state}: {body}");
            assert_error(&body, 409, code);
            assert_eq!(body["status"], state);
        }
    };
    let (rid, code) = delivered(&app, &api, json!({"service": "S", "to": "+14155550176"})).await;
    api.post("/2fa/verify", json!({"requestID": rid, "code": code}))
        .await;
    cancel_409(rid, 7032, "verified").await;
    let (rid, code) = delivered(
        &app,
        &api,
        json!({"service": "S", "to": "+14155550177", "maxAttempts": 1}),
    )
    .await;
    api.post(
        "/2fa/verify",
        json!({"requestID": rid, "code": other_than(&code)}),
    )
    .await;
    cancel_409(rid, 7034, "max_attempts").await;
    let failing = api
        .send_ok(json!({"service": "S", "to": "+14155550000"}))
        .await;
    app.deliver().await;
    cancel_409(failing, 7035, "failed").await;
    // Overdue but not yet swept: it expires now (timeline and status), it is not canceled.
    let overdue = api
        .send_ok(json!({"service": "S", "to": "+14155550178", "expiry": 60}))
        .await;
    app.clock.advance_ms(60_000);
    cancel_409(overdue.clone(), 7031, "expired").await;
    let (_, sdr) = api.get(&format!("/2fa/search/{overdue}")).await;
    assert_eq!(sdr["status"], "expired");
    let types: Vec<_> = sdr["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect();
    assert!(types.contains(&"expired".to_owned()), "{types:?}");
    assert!(!types.contains(&"canceled".to_owned()), "{types:?}");
}

async fn idempotency_key_replays_and_refuses_reuse(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let send = |key: &str, to: &str| {
        app.http
            .post(app.url("/2fa/send"))
            .basic_auth(&acc.sid, Some(&acc.token))
            .header("idempotency-key", key)
            .json(&json!({"service": "S", "to": to}))
            .send()
    };
    let first = send("k-1", "+14155550106").await.unwrap();
    assert_eq!(first.status(), 200);
    let first: Value = first.json().await.unwrap();
    let again = send("k-1", "+14155550106").await.unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again, first, "the first answer, nothing new");
    app.deliver().await;
    let (_, outbox) = app
        .api(&acc)
        .get("/2fa/sandbox/messages?to=%2B14155550106")
        .await;
    assert_eq!(outbox["total"], 1, "one send only");
    let other = send("k-1", "+14155550107").await.unwrap();
    assert_eq!(other.status(), 400);
    let other: Value = other.json().await.unwrap();
    assert_error(&other, 400, 7004);
    assert_eq!(other["field"], "Idempotency-Key");
    // After 24 h the key is new again.
    app.clock.advance_ms(24 * 3600 * 1000 + 1000);
    let later: Value = send("k-1", "+14155550106")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_ne!(later["requestID"], first["requestID"]);
}

async fn superseding_and_keep_old_otp_active(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let api = app.api(&acc);
    let a = api
        .send_ok(json!({"service": "S", "to": "+14155550108"}))
        .await;
    app.deliver().await;
    let (_, code_a) = api.sandbox_code(&a).await;
    let b2 = api
        .send_ok(json!({"service": "S", "to": "+14155550108"}))
        .await;
    let (_, sdr_a) = api.get(&format!("/2fa/search/{a}")).await;
    assert_eq!(sdr_a["status"], "canceled");
    assert_eq!(sdr_a["cancelReason"], "superseded");
    let (status, _) = api
        .post("/2fa/verify", json!({"requestID": a, "code": code_a}))
        .await;
    assert_eq!(status, 409, "a superseded code no longer works");
    // Another service to the same number is independent.
    let other = api
        .send_ok(json!({"service": "Other", "to": "+14155550108"}))
        .await;
    let (_, sdr_b) = api.get(&format!("/2fa/search/{b2}")).await;
    assert_eq!(sdr_b["status"], "pending");

    // keepOldOtpActive: the earlier code stays verifiable.
    let c = api
        .send_ok(json!({"service": "S", "to": "+14155550108", "keepOldOtpActive": true}))
        .await;
    app.deliver().await;
    let (_, code_b) = api.sandbox_code(&b2).await;
    let (status, _) = api
        .post("/2fa/verify", json!({"requestID": b2, "code": code_b}))
        .await;
    assert_eq!(status, 200);
    let (_, sdr_c) = api.get(&format!("/2fa/search/{c}")).await;
    assert_eq!(
        sdr_c["status"], "canceled",
        "verifying one supersedes the others"
    );
    let (_, sdr_o) = api.get(&format!("/2fa/search/{other}")).await;
    assert_eq!(sdr_o["status"], "delivered");
}

async fn destination_protection_and_unknown_limits(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let api = app.api(&acc);
    for _ in 0..5 {
        api.send_ok(json!({"service": "S", "to": "+14155550109"}))
            .await;
    }
    let (status, body) = api
        .post("/2fa/send", json!({"service": "S", "to": "+14155550109"}))
        .await;
    assert_eq!(status, 429);
    assert_error(&body, 429, 7022);
    // It says when to try again (all five went out at this instant: in 10 minutes), also in
    // the Retry-After header.
    assert_eq!(body["retryAfter"], 600, "{body}");
    let res = app
        .http
        .post(app.url("/2fa/send"))
        .basic_auth(&acc.sid, Some(&acc.token))
        .json(&json!({"service": "S", "to": "+14155550109"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert_eq!(res.headers()["retry-after"], "600");
    // Other destinations are not affected; one millisecond early is still refused, and at the
    // announced moment this one works again.
    api.send_ok(json!({"service": "S", "to": "+14155550110"}))
        .await;
    app.clock.advance_ms(600 * 1000 - 1);
    let (status, body) = api
        .post("/2fa/send", json!({"service": "S", "to": "+14155550109"}))
        .await;
    assert_eq!((status, body["retryAfter"].clone()), (429, json!(1)));
    app.clock.advance_ms(1);
    api.send_ok(json!({"service": "S", "to": "+14155550109"}))
        .await;

    let (status, body) = api
        .post(
            "/2fa/send",
            json!({"service": "S", "to": "+14155550111", "limits": {"per_ip": "203.0.113.7"}}),
        )
        .await;
    assert_eq!(status, 400);
    assert_error(&body, 400, 7021);
    assert_eq!(body["field"], "limits");
}

async fn validation_errors_name_fields_and_never_5xx(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let api = app.api(&acc);
    let cases = [
        (json!({"to": "+14155550100"}), 400, 7004, "service"),
        (
            json!({"service": "S", "to": "0044 20 7946"}),
            400,
            7010,
            "to",
        ),
        (
            json!({"service": "S", "to": "+14155550100", "body": "hello"}),
            400,
            7012,
            "body",
        ),
        (
            json!({"service": "S", "to": "+14155550100", "expiry": 1_000_000_000_000i64}),
            400,
            7004,
            "expiry",
        ),
        (
            json!({"service": "S", "to": "+14155550100", "codeLength": "abc"}),
            400,
            7004,
            "codeLength",
        ),
        (
            json!({"service": "S", "to": "+14155550100", "maxAttempts": -1}),
            400,
            7004,
            "maxAttempts",
        ),
        (
            json!({"service": ["a", "b"], "to": "+14155550100"}),
            400,
            7004,
            "service",
        ),
        (
            json!({"service": {"x": 1}, "to": "+14155550100"}),
            400,
            7004,
            "service",
        ),
        (
            json!({"service": "S", "to": "+14155550100", "accountSid": "AC1"}),
            400,
            7004,
            "accountSid",
        ),
    ];
    for (input, status, code, field) in cases {
        let (got, body) = api.post("/2fa/send", input.clone()).await;
        assert_eq!(got, status, "{input} → {body}");
        assert_error(&body, status, code);
        assert_eq!(body["field"], field, "{input}");
    }
    let raw = |ct: &'static str, body: Vec<u8>| {
        app.http
            .post(app.url("/2fa/send"))
            .basic_auth(&acc.sid, Some(&acc.token))
            .header("content-type", ct)
            .body(body)
            .send()
    };
    let res = raw("application/json", b"{\"service\": ".to_vec())
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_error(&res.json().await.unwrap(), 400, 7005);
    let res = raw("application/json", b"[1,2]".to_vec()).await.unwrap();
    assert_eq!(res.status(), 400);
    let res = raw("text/plain", b"service=S".to_vec()).await.unwrap();
    assert_eq!(res.status(), 415);
    assert_error(&res.json().await.unwrap(), 415, 7005);
    let res = raw("application/json", vec![b' '; 200_000]).await.unwrap();
    assert_eq!(res.status(), 413);
    assert_error(&res.json().await.unwrap(), 413, 7005);
    let res = raw(
        "application/x-www-form-urlencoded",
        b"service=S&to=%2B14155550199&workflow=sms&workflow=call".to_vec(),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 200, "form bodies with repeated keys work");
    let res = raw(
        "application/x-www-form-urlencoded",
        b"service=S&to=+14155550199".to_vec(),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("%2B"),
        "the error says how to send +: {body}"
    );
    let res = raw("application/json", vec![0xff, 0xfe]).await.unwrap();
    assert_eq!(res.status(), 400);
}

async fn search_filters_and_paging(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let api = app.api(&acc);
    let mut ids = Vec::new();
    for i in 0..7 {
        let to = format!("+1415555{:04}", 200 + i);
        ids.push(
            api.send_ok(json!({"service": if i % 2 == 0 { "Even" } else { "Odd" }, "to": to}))
                .await,
        );
        app.clock.advance_ms(1000);
    }
    api.send_ok(json!({"service": "Mail", "channel": "email", "emailTo": "ana@example.com"}))
        .await;
    let (_, all) = api.get("/2fa/search?PageSize=3").await;
    assert_eq!(all["total"], 8);
    assert_eq!(all["numPages"], 3);
    assert_eq!(all["otps"].as_array().unwrap().len(), 3);
    assert_eq!(all["previousPageUri"], Value::Null);
    assert_eq!(all["otps"][1]["requestID"], ids[6].as_str(), "newest first");
    let next = all["nextPageUri"].as_str().unwrap().to_owned();
    let (_, page1) = api.get(&next).await;
    assert_eq!(page1["page"], 1);
    assert_eq!(page1["otps"][0]["requestID"], ids[4].as_str());
    let (_, last) = api.get(all["lastPageUri"].as_str().unwrap()).await;
    assert_eq!(last["otps"].as_array().unwrap().len(), 2);
    assert_eq!(last["nextPageUri"], Value::Null);
    let (_, even) = api.get("/2fa/search?service=Even").await;
    assert_eq!(even["total"], 4);
    let (_, email) = api.get("/2fa/search?channel=email").await;
    assert_eq!(email["total"], 1);
    assert_eq!(email["otps"][0]["emailTo"], "ana@example.com");
    let (_, by_country) = api.get("/2fa/search?countryCode=us&status=pending").await;
    assert_eq!(by_country["total"], 7);
    let today = crate::server::clock::rfc3339(app.clock.now_ms())[..10].to_owned();
    let (_, range) = api
        .get(&format!("/2fa/search?startTime={today}&endTime={today}"))
        .await;
    assert_eq!(range["total"], 8);
    let (status, body) = api.get("/2fa/search?startTime=yesterday").await;
    assert_eq!((status, body["field"].clone()), (400, json!("startTime")));
    let (status, body) = api.get("/2fa/search?status=done").await;
    assert_eq!((status, body["field"].clone()), (400, json!("status")));
    let (status, _) = api.get("/2fa/search?PageSize=1001").await;
    assert_eq!(status, 400);
    let (_, beyond) = api.get("/2fa/search?Page=50").await;
    assert_eq!(beyond["otps"], json!([]));
}
use crate::server::clock::Clock;

async fn email_channel_and_call_rendering(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let api = app.api(&acc);
    let rid = api.send_ok(json!({"service": "Shop", "channel": "email", "to": "Ana@Example.com", "codeType": "alphanumeric", "codeLength": 8})).await;
    app.deliver().await;
    let (_, outbox) = api
        .get(&format!("/2fa/sandbox/messages?requestID={rid}"))
        .await;
    let msg = &outbox["messages"][0];
    assert_eq!(msg["channel"], "email");
    assert_eq!(msg["emailTo"], "Ana@example.com");
    let code = super::harness::extract_code(msg["text"].as_str().unwrap());
    assert_eq!(code.len(), 8);
    assert!(
        code.bytes()
            .all(|c| crate::domain::code::ALPHANUMERIC.contains(&c)),
        "{code}"
    );
    assert!(msg["subject"].as_str().unwrap().contains("Shop"));
    // Codes are matched case-insensitively and without spaces.
    let (status, _) = api
        .post(
            "/2fa/verify",
            json!({"requestID": rid, "code": format!(" {} ", code.to_lowercase())}),
        )
        .await;
    assert_eq!(status, 200);

    let rid = api
        .send_ok(
            json!({"service": "Bank", "channel": "call", "to": "+14155550300", "code": "4815"}),
        )
        .await;
    app.deliver().await;
    let (text, code) = api.sandbox_code(&rid).await;
    assert_eq!(text, "Your Bank code is 4, 8, 1, 5.");
    assert_eq!(code, "4815");
}

async fn destination_protection_long_window(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let api = app.api(&acc);
    // 20 sends spread over 24 h (never 5 in 10 minutes): the 21st is refused by the daily cap.
    for _ in 0..20 {
        api.send_ok(json!({"service": "S", "to": "+14155550190"}))
            .await;
        app.clock.advance_ms(60 * 60 * 1000);
    }
    let (status, body) = api
        .post("/2fa/send", json!({"service": "S", "to": "+14155550190"}))
        .await;
    assert_eq!(status, 429, "{body}");
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("20 per 1440 minutes"));
    app.clock.advance_ms(5 * 60 * 60 * 1000);
    api.send_ok(json!({"service": "S", "to": "+14155550190"}))
        .await;
}

/// `nextPageUri` continues after the page's last OTP (`AfterSid`, by position, also through
/// OTPs created in the same millisecond) and keeps `accountSid`, so a parent walking a
/// sub-account's pages stays on the sub-account's data; the same for the outbox and limits.
/// Destinations in filters are read as they are sent: a `+` that a URL query decoded to a space
/// is an error that says how to send it, `%2B` finds the OTP.
async fn search_pages_follow_links_by_position_and_keep_the_account(b: Backend) {
    let app = TestApp::start(b).await;
    let parent = app.account("Parent").await;
    let child = app.account_with_parent("Child", Some(&parent.sid)).await;
    let (parent_api, child_api) = (app.api(&parent), app.api(&child));
    parent_api
        .send_ok(json!({"service": "S", "to": "+14155550300"}))
        .await;
    for i in 0..8 {
        child_api
            .send_ok(json!({"service": "S", "to": format!("+141555503{:02}", 10 + i)}))
            .await;
        if i % 3 == 2 {
            app.clock.advance_ms(1000); // the others share a millisecond
        }
    }
    app.deliver().await;
    let (_, by_offset) = child_api.get("/2fa/search?PageSize=100").await;
    let expected: Vec<Value> = by_offset["otps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["requestID"].clone())
        .collect();
    assert_eq!(expected.len(), 8);

    let mut uri = format!("/2fa/search?accountSid={}&PageSize=3", child.sid);
    let mut walked = Vec::new();
    let mut pages = 0;
    loop {
        let (status, page) = parent_api.get(&uri).await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["page"], pages);
        assert_eq!(page["total"], 8, "{uri}");
        assert_eq!(page["numPages"], 3);
        walked.extend(
            page["otps"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["requestID"].clone()),
        );
        pages += 1;
        match page["nextPageUri"].as_str() {
            Some(next) => {
                assert!(
                    next.contains(&format!("accountSid={}", child.sid)),
                    "{next}"
                );
                assert!(next.contains("AfterSid=OTP"), "{next}");
                uri = next.to_owned();
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(
        walked, expected,
        "every OTP once, in order, none of the parent's"
    );
    // A position that is not an OTP of this account is refused, naming the field.
    let (_, mine) = parent_api.get("/2fa/search").await;
    let parents_otp = mine["otps"][0]["requestID"].as_str().unwrap().to_owned();
    for bad in [parents_otp.as_str(), "OTPnope"] {
        let (status, body) = parent_api
            .get(&format!(
                "/2fa/search?accountSid={}&AfterSid={bad}",
                child.sid
            ))
            .await;
        assert_eq!(
            (status, body["field"].clone()),
            (400, json!("AfterSid")),
            "{body}"
        );
    }

    // The outbox and limits keep accountSid in their links too.
    let (_, outbox) = parent_api
        .get(&format!(
            "/2fa/sandbox/messages?accountSid={}&PageSize=5",
            child.sid
        ))
        .await;
    assert_eq!(outbox["total"], 8);
    let next = outbox["nextPageUri"].as_str().unwrap();
    assert!(
        next.contains(&format!("accountSid={}", child.sid)),
        "{next}"
    );
    let (_, rest) = parent_api.get(next).await;
    assert_eq!(rest["messages"].as_array().unwrap().len(), 3);
    for name in ["a", "b"] {
        let (status, _) = parent_api
            .post(
                "/2fa/limits",
                json!({"name": name, "accountSid": child.sid, "buckets": [{"name": "m", "maxOtp": 5, "interval": 60}]}),
            )
            .await;
        assert_eq!(status, 201);
    }
    let (_, limits) = parent_api
        .get(&format!("/2fa/limits?accountSid={}&PageSize=1", child.sid))
        .await;
    let next = limits["nextPageUri"].as_str().unwrap();
    let (_, second) = parent_api.get(next).await;
    assert_eq!(second["limits"][0]["name"], "b", "{next}");

    // Destinations in filters: a decoded "+" is explained, %2B finds it (search and outbox).
    for path in ["/2fa/search", "/2fa/sandbox/messages"] {
        let (status, body) = child_api.get(&format!("{path}?to=+14155550310")).await;
        assert_eq!(
            (status, body["errorCode"].clone()),
            (400, json!(7010)),
            "{body}"
        );
        assert_eq!(body["field"], "to");
        assert!(body["message"].as_str().unwrap().contains("%2B"), "{body}");
        let (status, body) = child_api.get(&format!("{path}?to=%2B14155550310")).await;
        assert_eq!(
            (status, body["total"].clone()),
            (200, json!(1)),
            "{path}: {body}"
        );
        // A number of the right shape that the numbering plan calls invalid is searched as
        // typed (it may have been valid when it was sent): nothing, not an error.
        let (status, body) = child_api.get(&format!("{path}?to=%2B19999999999")).await;
        assert_eq!(
            (status, body["total"].clone()),
            (200, json!(0)),
            "{path}: {body}"
        );
        let (status, body) = child_api
            .get(&format!("{path}?emailTo=not-an-address"))
            .await;
        assert_eq!(
            (status, body["field"].clone()),
            (400, json!("emailTo")),
            "{path}"
        );
    }
}

/// A wrong code is counted even when the client gives up while the database is busy: the
/// SQLite writer is held, a verify with a wrong code times out on the client side, the writer
/// is released, and the attempt is on record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_code_is_counted_when_the_client_gives_up() {
    use sqlx::Executor;
    let app = TestApp::start(Backend::Sqlite).await;
    let acc = app.account("Acme").await;
    let api = app.api(&acc);
    let rid = api
        .send_ok(json!({"service": "S", "to": "+14155550178"}))
        .await;
    let crate::server::db::Db::Sqlite(pool) = app.state.db() else {
        unreachable!()
    };
    let mut held = crate::server::db::write_pool(pool).acquire().await.unwrap();
    held.execute("BEGIN IMMEDIATE").await.unwrap();
    let gave_up = app
        .http
        .post(app.url("/2fa/verify"))
        .basic_auth(&acc.sid, Some(&acc.token))
        .timeout(std::time::Duration::from_millis(400))
        .json(&json!({"requestID": rid, "code": "000000"}))
        .send()
        .await;
    assert!(gave_up.is_err(), "the client timed out: {gave_up:?}");
    held.execute("ROLLBACK").await.unwrap();
    drop(held);
    let mut attempts = 0;
    for _ in 0..50 {
        let (_, sdr) = api.get(&format!("/2fa/search/{rid}")).await;
        attempts = sdr["verifyAttempts"].as_i64().unwrap();
        if attempts == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(attempts, 1, "the wrong code was counted");
}

/// The SQLite writer's queue is bounded and requests have a deadline: with the writer held and
/// room for two waiting scripts, the other sends are refused at once (503, `Retry-After`,
/// nothing written); the waiting ones answer 503 at the deadline and commit once the writer is
/// free; then sends go through again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_write_queue_and_the_deadline_answer_503() {
    use sqlx::Executor;
    let app = TestApp::start_with(Backend::Sqlite, |s| s.request_timeout_secs = 2).await;
    let acc = app.account("Acme").await;
    let api = app.api(&acc);
    let crate::server::db::Db::Sqlite(pool) = app.state.db() else {
        unreachable!()
    };
    crate::server::db::writer::limit_queue(pool, 2);
    let mut held = crate::server::db::write_pool(pool).acquire().await.unwrap();
    held.execute("BEGIN IMMEDIATE").await.unwrap();
    let started = std::time::Instant::now();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (http, url, sid, token) = (
            app.http.clone(),
            app.url("/2fa/send"),
            acc.sid.clone(),
            acc.token.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let res = http
                .post(url)
                .basic_auth(sid, Some(token))
                .json(&json!({"service": "S", "to": format!("+1415555{:04}", 180 + i)}))
                .send()
                .await
                .unwrap();
            let retry = res.headers().get("retry-after").cloned();
            let status = res.status().as_u16();
            let body: Value = res.json().await.unwrap();
            (status, retry, body, started.elapsed())
        }));
    }
    let mut busy = 0;
    let mut late = 0;
    for t in tasks {
        let (status, retry, body, took) = t.await.unwrap();
        assert_eq!(
            (status, body["errorCode"].as_i64()),
            (503, Some(7000)),
            "{body}"
        );
        assert!(retry.is_some(), "Retry-After: {body}");
        let m = body["message"].as_str().unwrap();
        if m.contains("busy") {
            busy += 1;
            assert!(
                took < std::time::Duration::from_millis(1500),
                "at once: {took:?}"
            );
        } else {
            assert!(m.contains("within 2 s"), "{m}");
            late += 1;
        }
    }
    // One taken by the committer (waiting for the connection), two queued, five refused.
    assert_eq!((busy, late), (5, 3));
    held.execute("ROLLBACK").await.unwrap();
    drop(held);
    let mut total = 0;
    for _ in 0..50 {
        let (_, found) = api.get("/2fa/search?service=S").await;
        total = found["total"].as_i64().unwrap();
        if total == 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        total, 3,
        "what was waiting committed; nothing refused was written"
    );
    assert_eq!(crate::server::db::writer::queued(pool), 0);
    api.send_ok(json!({"service": "S", "to": "+14155550190"}))
        .await;
}
