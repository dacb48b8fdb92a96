//! Concurrency, workflows, expiry and tenancy of OTPs.
use super::harness::TestApp;
use crate::server::db::Backend;
use serde_json::{json, Value};

super::both_backends!(
    parallel_wrong_codes_never_exceed_max_attempts,
    workflow_falls_back_on_failure_with_the_same_code,
    workflow_timeout_moves_to_the_next_channel,
    expiry_sweeper_with_the_clock_moved,
    cross_tenant_probes_leak_nothing,
    background_worker_delivers_without_help,
    two_workers_deliver_each_job_once,
    transient_failures_are_retried_with_back_off,
    sealed_codes_live_only_while_an_otp_is_active,
);

/// Fails transiently `failures` times, then delivers through the sandbox.
struct Flaky {
    failures: std::sync::atomic::AtomicU32,
}

#[async_trait::async_trait]
impl crate::server::providers::Provider for Flaky {
    fn kind(&self) -> crate::server::providers::ProviderKind {
        crate::server::providers::ProviderKind::Sandbox
    }
    fn name(&self) -> String {
        "flaky".into()
    }
    async fn deliver(
        &self,
        msg: &crate::server::providers::OutboundMessage,
    ) -> crate::server::providers::ProviderOutcome {
        use std::sync::atomic::Ordering;
        if self.failures.load(Ordering::SeqCst) > 0 {
            self.failures.fetch_sub(1, Ordering::SeqCst);
            return crate::server::providers::ProviderOutcome::Transient(
                "503 from upstream".into(),
            );
        }
        crate::server::providers::Provider::deliver(
            &crate::server::providers::sandbox::Sandbox,
            msg,
        )
        .await
    }
}

/// Delivers `acc`'s messages through `provider` from now on.
fn register(app: &TestApp, acc: &super::harness::TestAccount, provider: Flaky) {
    app.state.providers().register(
        &crate::domain::AccountSid::parse(&acc.sid).unwrap(),
        None,
        std::sync::Arc::new(provider),
    );
}

async fn transient_failures_are_retried_with_back_off(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    register(&app, &acc, Flaky { failures: 2.into() });
    let api = app.api(&acc);
    let rid = api
        .send_ok(json!({"service": "S", "to": "+14155550160"}))
        .await;
    assert_eq!(app.deliver().await, 1); // try 1: transient, retry in 1 s
    assert_eq!(app.deliver().await, 0, "not before the back-off");
    app.clock.advance_ms(1000);
    assert_eq!(app.deliver().await, 1); // try 2: transient, retry in 2 s
    app.clock.advance_ms(1999);
    assert_eq!(app.deliver().await, 0);
    app.clock.advance_ms(1);
    assert_eq!(app.deliver().await, 1); // try 3: delivered
    let (_, sdr) = api.get(&format!("/2fa/search/{rid}")).await;
    assert_eq!(sdr["status"], "delivered");
    let retries: Vec<Value> = sdr["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "delivery_retry")
        .cloned()
        .collect();
    assert_eq!(retries.len(), 2);
    assert_eq!(retries[0]["detail"]["error"], "503 from upstream");
    assert_eq!(sdr["deliveryAttempts"].as_array().unwrap().len(), 1);
    assert_eq!(sdr["deliveryAttempts"][0]["provider"], "flaky");

    // A provider that never recovers: after 8 tries the channel counts as failed.
    register(
        &app,
        &acc,
        Flaky {
            failures: 100.into(),
        },
    );
    let rid = api
        .send_ok(json!({"service": "T", "to": "+14155550161"}))
        .await;
    for _ in 0..10 {
        app.deliver().await;
        app.clock.advance_ms(5 * 60 * 1000);
    }
    let (_, sdr) = api.get(&format!("/2fa/search/{rid}")).await;
    assert_eq!(sdr["status"], "failed");
    assert!(sdr["deliveryAttempts"][0]["error"]
        .as_str()
        .unwrap()
        .starts_with("gave up after 8 tries"));
}

async fn parallel_wrong_codes_never_exceed_max_attempts(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let api = app.api(&acc);
    let rid = api
        .send_ok(json!({"service": "S", "to": "+14155550120", "maxAttempts": 3, "code": "4815"}))
        .await;
    let mut tasks = Vec::new();
    for _ in 0..24 {
        let (http, url, sid, token, rid) = (
            app.http.clone(),
            app.url("/2fa/verify"),
            acc.sid.clone(),
            acc.token.clone(),
            rid.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let res = http
                .post(url)
                .basic_auth(sid, Some(token))
                .json(&json!({"requestID": rid, "code": "0000"}))
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let body: Value = res.json().await.unwrap();
            (status, body["errorCode"].as_u64().unwrap())
        }));
    }
    let mut wrong = 0;
    let mut locked = 0;
    for t in tasks {
        match t.await.unwrap() {
            (400, 7030) => wrong += 1,
            (429, 7034) => locked += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(wrong, 2, "only maxAttempts - 1 plain wrong answers");
    assert_eq!(locked, 22);
    let (_, sdr) = api.get(&format!("/2fa/search/{rid}")).await;
    assert_eq!(
        sdr["verifyAttempts"], 3,
        "exactly maxAttempts checks were counted"
    );
    assert_eq!(sdr["status"], "max_attempts");
    let (status, _) = api
        .post("/2fa/verify", json!({"requestID": rid, "code": "4815"}))
        .await;
    assert_eq!(status, 429, "locked even for the right code");
}

async fn workflow_falls_back_on_failure_with_the_same_code(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let api = app.api(&acc);
    let rid = api
        .send_ok(json!({"service": "S", "workflow": ["sms", "email"], "to": "+14155550000", "emailTo": "ana@example.com"}))
        .await;
    app.deliver().await;
    let (_, outbox) = api
        .get(&format!("/2fa/sandbox/messages?requestID={rid}"))
        .await;
    assert_eq!(outbox["total"], 1);
    assert_eq!(outbox["messages"][0]["channel"], "email");
    let code = super::harness::extract_code(outbox["messages"][0]["text"].as_str().unwrap());
    let (_, sdr) = api.get(&format!("/2fa/search/{rid}")).await;
    assert_eq!(sdr["channel"], "email");
    assert_eq!(sdr["status"], "delivered");
    let attempts: Vec<(String, String)> = sdr["deliveryAttempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["channel"].as_str().unwrap().into(),
                a["status"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        attempts,
        [
            ("sms".into(), "failed".into()),
            ("email".into(), "delivered".into())
        ]
    );
    let fallback = sdr["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "fallback")
        .expect("fallback event")
        .clone();
    assert_eq!(
        fallback["detail"],
        json!({"from": "sms", "to": "email", "reason": "delivery failed"})
    );
    let (status, _) = api
        .post("/2fa/verify", json!({"requestID": rid, "code": code}))
        .await;
    assert_eq!(status, 200);

    // Every channel failing ends in `failed`.
    let rid = api.send_ok(json!({"service": "T", "workflow": "sms,email", "to": "+14155550000", "emailTo": "fail@example.com"})).await;
    app.deliver().await;
    let (_, sdr) = api.get(&format!("/2fa/search/{rid}")).await;
    assert_eq!(sdr["status"], "failed");
    assert_eq!(
        sdr["events"].as_array().unwrap().last().unwrap()["type"],
        "failed"
    );
}

async fn workflow_timeout_moves_to_the_next_channel(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let api = app.api(&acc);
    let rid = api
        .send_ok(json!({"service": "S", "workflow": ["sms", "call"], "to": "+14155550121", "workflowTimeout": 30}))
        .await;
    app.deliver().await;
    let (_, sms) = api.sandbox_code(&rid).await;
    // Not verified within 30 s: the timer moves on to a call with the same code.
    app.clock.advance_ms(29_000);
    assert_eq!(app.deliver().await, 0, "not yet");
    app.clock.advance_ms(2_000);
    assert!(app.deliver().await >= 1);
    let (_, outbox) = api
        .get(&format!("/2fa/sandbox/messages?requestID={rid}"))
        .await;
    assert_eq!(outbox["total"], 2);
    assert_eq!(outbox["messages"][0]["channel"], "call");
    let call_code = super::harness::extract_code(outbox["messages"][0]["text"].as_str().unwrap());
    assert_eq!(call_code, sms);
    let (_, sdr) = api.get(&format!("/2fa/search/{rid}")).await;
    let fallback = sdr["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "fallback")
        .unwrap()
        .clone();
    assert_eq!(
        fallback["detail"]["reason"],
        "not verified within workflowTimeout"
    );

    // Verified in time: no fallback.
    let rid = api.send_ok(json!({"service": "U", "workflow": ["sms", "call"], "to": "+14155550122", "workflowTimeout": 30})).await;
    app.deliver().await;
    let (_, code) = api.sandbox_code(&rid).await;
    api.post("/2fa/verify", json!({"requestID": rid, "code": code}))
        .await;
    app.clock.advance_ms(31_000);
    app.deliver().await;
    let (_, outbox) = api
        .get(&format!("/2fa/sandbox/messages?requestID={rid}"))
        .await;
    assert_eq!(outbox["total"], 1);
}

async fn expiry_sweeper_with_the_clock_moved(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let api = app.api(&acc);
    let short = api
        .send_ok(json!({"service": "S", "to": "+14155550123", "expiry": 60}))
        .await;
    let long = api
        .send_ok(json!({"service": "S", "to": "+14155550124", "expiry": 600}))
        .await;
    app.clock.advance_ms(60_000);
    assert_eq!(
        crate::server::services::otp::expire::sweep(app.state.otp())
            .await
            .unwrap(),
        1
    );
    let (_, a) = api.get(&format!("/2fa/search/{short}")).await;
    let (_, b2) = api.get(&format!("/2fa/search/{long}")).await;
    assert_eq!(a["status"], "expired");
    assert_eq!(
        a["events"].as_array().unwrap().last().unwrap()["type"],
        "expired"
    );
    assert_eq!(b2["status"], "pending");
    // An expired OTP's pending delivery is dropped, not sent.
    app.deliver().await;
    let (_, outbox) = api
        .get(&format!("/2fa/sandbox/messages?requestID={short}"))
        .await;
    assert_eq!(outbox["total"], 0);
    let sealed = app
        .state
        .db()
        .scalar_i64(
            "SELECT COUNT(*) FROM otp_codes WHERE otp_sid = $1",
            crate::args![short.as_str()],
        )
        .await
        .unwrap();
    assert_eq!(sealed, 0, "the sealed code is gone once final");
}

async fn cross_tenant_probes_leak_nothing(b: Backend) {
    let app = TestApp::start(b).await;
    let parent = app.account("Parent").await;
    let child = app.account_with_parent("Child", Some(&parent.sid)).await;
    let sibling = app.account_with_parent("Sibling", Some(&parent.sid)).await;
    let stranger = app.account("Stranger").await;

    let child_api = app.api(&child);
    let rid = child_api
        .send_ok(json!({"service": "S", "to": "+14155550125", "code": "4815"}))
        .await;
    app.deliver().await;
    // The parent acts for its child with accountSid; it sees the OTP that way only.
    let parent_api = app.api(&parent);
    let (status, _) = parent_api
        .get(&format!("/2fa/search/{rid}?accountSid={}", child.sid))
        .await;
    assert_eq!(status, 200);
    let (status, _) = parent_api.get(&format!("/2fa/search/{rid}")).await;
    assert_eq!(status, 404);
    let (_, listed) = parent_api
        .get(&format!("/2fa/search?accountSid={}", child.sid))
        .await;
    assert_eq!(listed["total"], 1);

    for other in [&sibling, &stranger] {
        let api = app.api(other);
        let (s1, b1) = api.get(&format!("/2fa/search/{rid}")).await;
        assert_eq!((s1, b1["errorCode"].clone()), (404, json!(7003)));
        let (s2, _) = api
            .post("/2fa/verify", json!({"requestID": rid, "code": "4815"}))
            .await;
        assert_eq!(s2, 404);
        let (s3, _) = api.post("/2fa/cancel", json!({"requestID": rid})).await;
        assert_eq!(s3, 404);
        let (_, outbox) = api.get("/2fa/sandbox/messages").await;
        assert_eq!(outbox["total"], 0);
        let (_, search) = api.get("/2fa/search?to=%2B14155550125").await;
        assert_eq!(search["total"], 0);
        let (s4, b4) = api
            .get(&format!("/2fa/search?accountSid={}", child.sid))
            .await;
        assert_eq!((s4, b4["errorCode"].clone()), (403, json!(7002)));
        let (s5, _) = api
            .post(
                "/2fa/send",
                json!({"service": "S", "to": "+14155550126", "accountSid": child.sid}),
            )
            .await;
        assert_eq!(s5, 403);
    }
    // A child can never act for its parent.
    let (s, _) = child_api
        .get(&format!("/2fa/search?accountSid={}", parent.sid))
        .await;
    assert_eq!(s, 403);
    // The OTP is untouched by the probes.
    let (_, sdr) = parent_api
        .get(&format!("/2fa/search/{rid}?accountSid={}", child.sid))
        .await;
    assert_eq!(sdr["status"], "delivered");
    assert_eq!(sdr["verifyAttempts"], 0);
}

async fn background_worker_delivers_without_help(b: Backend) {
    let app = TestApp::start(b).await;
    crate::server::workers::spawn(app.state.clone());
    let acc = app.account("Acme").await;
    let api = app.api(&acc);
    let rid = api
        .send_ok(json!({"service": "S", "to": "+14155550127"}))
        .await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (_, outbox) = api
            .get(&format!("/2fa/sandbox/messages?requestID={rid}"))
            .await;
        if outbox["total"] == 1 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not delivered within 10 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn two_workers_deliver_each_job_once(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let api = app.api(&acc);
    let mut ids = Vec::new();
    for i in 0..30 {
        ids.push(
            api.send_ok(json!({"service": "S", "to": format!("+1415555{:04}", 400 + i)}))
                .await,
        );
    }
    // A second "process": same database, its own worker id.
    let other = crate::server::app::prepare(
        crate::server::config::Settings {
            database_url: app.state.settings().database_url.clone(),
            data_dir: app.state.settings().data_dir.clone(),
            ..crate::server::config::Settings::default()
        },
        std::sync::Arc::new(app.clock.clone()),
    )
    .await
    .unwrap();
    let (a, b2) = tokio::join!(
        crate::server::workers::run_due(&app.state),
        crate::server::workers::run_due(&other)
    );
    assert_eq!(a.unwrap() + b2.unwrap(), 30, "every job ran once in total");
    let (_, outbox) = api.get("/2fa/sandbox/messages?PageSize=100").await;
    assert_eq!(outbox["total"], 30);
    let attempts = app
        .state
        .db()
        .scalar_i64("SELECT COUNT(*) FROM delivery_attempts", crate::args![])
        .await
        .unwrap();
    assert_eq!(attempts, 30, "no delivery attempted twice");
}

/// Every way an OTP ends (verified, canceled, superseded, locked by wrong codes, failed on every
/// channel, expired, or a status set by hand in SQL) deletes its sealed code; an active OTP
/// keeps it (the delivery worker needs it).
async fn sealed_codes_live_only_while_an_otp_is_active(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let api = app.api(&acc);
    let sealed = |sid: String| {
        let db = app.state.db().clone();
        async move {
            db.scalar_i64(
                "SELECT COUNT(*) FROM otp_codes WHERE otp_sid = $1",
                crate::args![sid.as_str()],
            )
            .await
            .unwrap()
        }
    };
    let verified = api
        .send_ok(json!({"service": "S", "to": "+14155550131"}))
        .await;
    let canceled = api
        .send_ok(json!({"service": "S", "to": "+14155550132"}))
        .await;
    let superseded = api
        .send_ok(json!({"service": "S", "to": "+14155550133"}))
        .await;
    let newer = api
        .send_ok(json!({"service": "S", "to": "+14155550133"}))
        .await;
    let locked = api
        .send_ok(json!({"service": "S", "to": "+14155550134", "maxAttempts": 1}))
        .await;
    let failed = api
        .send_ok(json!({"service": "S", "to": "+14155550000"}))
        .await;
    let by_hand = api
        .send_ok(json!({"service": "S", "to": "+14155550135"}))
        .await;
    for sid in [
        &verified,
        &canceled,
        &superseded,
        &newer,
        &locked,
        &failed,
        &by_hand,
    ] {
        let expected = if sid == &superseded { 0 } else { 1 };
        assert_eq!(sealed(sid.clone()).await, expected, "{sid} before");
    }
    app.deliver().await;
    let (_, code) = api.sandbox_code(&verified).await;
    let (status, _) = api
        .post("/2fa/verify", json!({"requestID": verified, "code": code}))
        .await;
    assert_eq!(status, 200);
    let (status, _) = api
        .post("/2fa/cancel", json!({"requestID": canceled}))
        .await;
    assert_eq!(status, 200);
    let (status, _) = api
        .post(
            "/2fa/verify",
            json!({"requestID": locked, "code": "000000"}),
        )
        .await;
    assert!(status >= 400);
    {
        use crate::server::db::otps::changes::{Move, OtpChanges, Selection};
        let mut c = OtpChanges::new();
        let sid = crate::domain::OtpSid::parse(&by_hand).unwrap();
        c.apply(
            Selection::one(&sid),
            Move::Expire,
            crate::server::clock::Clock::now_ms(&app.clock),
        )
        .push();
        c.commit(app.state.db()).await.unwrap();
    }
    for sid in [
        &verified,
        &canceled,
        &superseded,
        &locked,
        &failed,
        &by_hand,
    ] {
        let (_, sdr) = api.get(&format!("/2fa/search/{sid}")).await;
        assert!(
            ["verified", "canceled", "max_attempts", "failed", "expired"]
                .contains(&sdr["status"].as_str().unwrap()),
            "{sid}: {sdr}"
        );
        assert_eq!(sealed(sid.clone()).await, 0, "{sid} is {}", sdr["status"]);
    }
    assert_eq!(
        sealed(newer.clone()).await,
        1,
        "the active one keeps its code"
    );
}
