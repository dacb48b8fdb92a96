//! The sandbox outbox: a code is readable while its OTP can still be verified, masked the
//! moment the OTP is final (verified, canceled, expired, locked), whichever path gets it there;
//! messages older than a week are pruned.
use super::harness::{dump_table, TestApp};
use crate::server::db::Backend;
use serde_json::json;

super::both_backends!(
    a_code_leaves_the_outbox_when_its_otp_is_final,
    the_outbox_keeps_a_week,
);

async fn a_code_leaves_the_outbox_when_its_otp_is_final(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let api = app.api(&acc);
    let send = |to: &'static str| {
        let api = &api;
        async move {
            let (status, sent) = api
                .post(
                    "/2fa/send",
                    json!({"service": "S", "to": to, "expiry": 120}),
                )
                .await;
            assert_eq!(status, 200, "{sent}");
            assert_eq!(sent["sandbox"], true, "the answer says it is the sandbox");
            sent["requestID"].as_str().unwrap().to_owned()
        }
    };
    let (verified, canceled, locked, expired, active) = (
        send("+14155550161").await,
        send("+14155550162").await,
        send("+14155550163").await,
        send("+14155550164").await,
        send("+14155550165").await,
    );
    app.deliver().await;
    let mut codes = std::collections::HashMap::new();
    for rid in [&verified, &canceled, &locked, &expired, &active] {
        let (text, code) = api.sandbox_code(rid).await;
        assert!(text.contains(&code), "readable while it can be verified");
        codes.insert(rid.clone(), code);
    }

    // Four ways to be final.
    let (status, _) = api
        .post(
            "/2fa/verify",
            json!({"requestID": verified, "code": codes[&verified]}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = api
        .post("/2fa/cancel", json!({"requestID": canceled}))
        .await;
    assert_eq!(status, 200);
    let wrong = if codes[&locked] == "000000" {
        "111111"
    } else {
        "000000"
    };
    for _ in 0..5 {
        api.post("/2fa/verify", json!({"requestID": locked, "code": wrong}))
            .await;
    }
    let (_, s) = api.get(&format!("/2fa/search/{locked}")).await;
    assert_eq!(s["status"], "max_attempts");
    // The last one expires (the sweeper records it).
    app.clock.advance_ms(60_000);
    let (status, _) = api
        .post(
            "/2fa/verify",
            json!({"requestID": active, "code": codes[&active]}),
        )
        .await;
    assert_eq!(
        status, 200,
        "the active one verifies before the others expire"
    );
    app.clock.advance_ms(61_000);
    crate::server::services::otp::expire::sweep(app.state.otp())
        .await
        .unwrap();
    let (_, s) = api.get(&format!("/2fa/search/{expired}")).await;
    assert_eq!(s["status"], "expired");

    let outbox = dump_table(app.state.db(), "sandbox_messages").await;
    for (rid, code) in &codes {
        let (status, res) = api
            .get(&format!("/2fa/sandbox/messages?requestID={rid}"))
            .await;
        assert_eq!(status, 200);
        let text = res["messages"][0]["text"].as_str().unwrap();
        assert!(!text.contains(code.as_str()), "{rid}: {text}");
        assert!(text.contains("******"), "{rid}: masked: {text}");
        assert!(
            !outbox.contains(code.as_str()),
            "{rid}: the code is still stored"
        );
    }
}

async fn the_outbox_keeps_a_week(b: Backend) {
    use crate::server::db::sandbox::{prune, KEEP_MS};
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let api = app.api(&acc);
    let old = api
        .send_ok(json!({"service": "S", "to": "+14155550171"}))
        .await;
    let new = api
        .send_ok(json!({"service": "S", "to": "+14155550172"}))
        .await;
    app.deliver().await;
    let db = app.state.db();
    let now = app.state.clock().now_ms();
    let eight_days = 8 * 24 * 60 * 60 * 1000;
    db.execute(
        "UPDATE sandbox_messages SET date_created = $1 WHERE otp_sid = $2",
        crate::args![now - eight_days, old.as_str()],
    )
    .await
    .unwrap();
    assert_eq!(prune(db, now - KEEP_MS).await.unwrap(), 1);
    let (_, res) = api
        .get(&format!("/2fa/sandbox/messages?requestID={old}"))
        .await;
    assert_eq!(res["messages"], json!([]), "older than a week: gone");
    let (_, res) = api
        .get(&format!("/2fa/sandbox/messages?requestID={new}"))
        .await;
    assert_eq!(
        res["messages"].as_array().unwrap().len(),
        1,
        "this week's: kept"
    );
}
