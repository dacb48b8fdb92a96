//! Settings → Defaults, Countries and Fraud guard through their server functions: what the
//! page shows (values and where they come from), saving (empty goes back to inheriting),
//! errors next to their field, the effect on a send, and roles (admins change, others read).
use super::harness::{call, signed_in, TestApp};
use crate::domain::Role;
use crate::server::db::Backend;
use serde_json::json;

super::both_backends!(
    defaults_page_saves_inherits_and_applies,
    countries_page_saves_and_refuses_sends,
    fraud_guard_page_saves_lists_and_lifts_blocks,
);

async fn defaults_page_saves_inherits_and_applies(b: Backend) {
    let app = TestApp::start(b).await;
    let parent = app.account("Parent").await;
    let child = app.account_with_parent("Child", Some(&parent.sid)).await;
    let admin = signed_in(&app, &parent.email, &parent.password).await;

    let (status, page) = call(&app, &admin, "defaults_page", &[]).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        page["expiry"],
        json!({"own": "", "now": "600", "source": "default"})
    );
    assert_eq!(page["has_parent"], false);

    // Errors name the form field.
    for (field, value) in [
        ("expiry", "5"),
        ("code_length", "x"),
        ("workflow", "sms, fax"),
        ("language", "not a tag"),
        ("keep_old_otp_active", "maybe"),
        ("status_callback", "ftp://x.example"),
    ] {
        let (status, e) = call(&app, &admin, "defaults_save", &[(field, value)]).await;
        assert_eq!(
            (status, e["field"].as_str()),
            (400, Some(field)),
            "{field}: {e}"
        );
    }
    let (status, e) = call(
        &app,
        &admin,
        "defaults_save",
        &[("per_10_minutes", "10"), ("per_24_hours", "4")],
    )
    .await;
    assert_eq!(
        (status, e["field"].as_str()),
        (400, Some("per_24_hours")),
        "{e}"
    );

    let (status, e) = call(
        &app,
        &admin,
        "defaults_save",
        &[
            ("expiry", "180"),
            ("code_length", "8"),
            ("workflow", "sms, email"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{e}");
    let (_, page) = call(&app, &admin, "defaults_page", &[]).await;
    assert_eq!(
        page["expiry"],
        json!({"own": "180", "now": "180", "source": "account"})
    );
    assert_eq!(page["workflow"]["now"], "sms,email");
    // A test OTP from the console gets them (its empty fields are left out).
    let (status, sent) = call(
        &app,
        &admin,
        "otp_send_test",
        &[
            ("form[channels][0]", "sms"),
            ("form[to]", "+14155550231"),
            ("form[service]", "Console"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{sent}");
    let rid = sent["request_id"].as_str().unwrap().to_owned();
    let (_, o) = app.api(&parent).get(&format!("/2fa/search/{rid}")).await;
    assert_eq!(o["codeLength"], 8, "{o}");

    // The sub-account sees the parent's values until it sets its own; empty goes back.
    let child_admin = signed_in(&app, &child.email, &child.password).await;
    let (_, page) = call(&app, &child_admin, "defaults_page", &[]).await;
    assert_eq!(
        page["expiry"],
        json!({"own": "", "now": "180", "source": "parent"})
    );
    assert_eq!(page["has_parent"], true);
    call(&app, &child_admin, "defaults_save", &[("expiry", "900")]).await;
    let (_, page) = call(&app, &child_admin, "defaults_page", &[]).await;
    assert_eq!(page["expiry"]["source"], "account");
    call(&app, &child_admin, "defaults_save", &[("expiry", "")]).await;
    let (_, page) = call(&app, &child_admin, "defaults_page", &[]).await;
    assert_eq!(page["expiry"]["source"], "parent");

    // Developers and support read, and change nothing.
    for role in [Role::Developer, Role::Support] {
        let (email, pw) = app.user(&parent.sid, role).await;
        let user = signed_in(&app, &email, &pw).await;
        let (status, page) = call(&app, &user, "defaults_page", &[]).await;
        assert_eq!((status, page["expiry"]["now"].as_str()), (200, Some("180")));
        let (status, _) = call(&app, &user, "defaults_save", &[("expiry", "60")]).await;
        assert_eq!(status, 403, "{role:?}");
    }
}

async fn countries_page_saves_and_refuses_sends(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let admin = signed_in(&app, &acc.email, &acc.password).await;
    let (status, page) = call(&app, &admin, "countries_page", &[]).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        page["sms"],
        json!({"mode": "all", "list": [], "source": "default"})
    );
    let countries = page["countries"].as_array().unwrap();
    assert!(countries.len() > 240, "every country");
    assert!(countries.iter().any(|c| c[0] == "DE" && c[1] == "Germany"));

    // Only GB and IE for SMS; calls everywhere.
    let (status, e) = call(
        &app,
        &admin,
        "countries_save",
        &[
            ("sms_mode", "only"),
            ("sms[GB]", "on"),
            ("sms[IE]", "on"),
            ("call_mode", "all"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{e}");
    let (_, page) = call(&app, &admin, "countries_page", &[]).await;
    assert_eq!(
        page["sms"],
        json!({"mode": "only", "list": ["GB", "IE"], "source": "account"})
    );
    assert_eq!(page["call"]["source"], "account");
    let api = app.api(&acc);
    let (status, e) = api
        .post("/2fa/send", json!({"service": "S", "to": "+14155550232"}))
        .await;
    assert_eq!((status, e["errorCode"].as_i64()), (403, Some(7011)), "{e}");
    api.send_ok(json!({"service": "S", "channel": "call", "to": "+14155550232"}))
        .await;

    // "Only" with nothing ticked is refused next to the channel's choice.
    let (status, e) = call(
        &app,
        &admin,
        "countries_save",
        &[("sms_mode", "only"), ("call_mode", "inherit")],
    )
    .await;
    assert_eq!(
        (status, e["field"].as_str()),
        (400, Some("sms_mode")),
        "{e}"
    );
    let (status, e) = call(
        &app,
        &admin,
        "countries_save",
        &[
            ("sms_mode", "only"),
            ("sms[ZZ]", "on"),
            ("call_mode", "all"),
        ],
    )
    .await;
    assert_eq!(
        (status, e["field"].as_str()),
        (400, Some("sms_mode")),
        "{e}"
    );
    // Back to inheriting.
    call(
        &app,
        &admin,
        "countries_save",
        &[("sms_mode", "inherit"), ("call_mode", "inherit")],
    )
    .await;
    let (_, page) = call(&app, &admin, "countries_page", &[]).await;
    assert_eq!(page["sms"]["source"], "default");
    api.send_ok(json!({"service": "S", "to": "+14155550233"}))
        .await;

    let (email, pw) = app.user(&acc.sid, Role::Support).await;
    let support = signed_in(&app, &email, &pw).await;
    let (status, _) = call(&app, &support, "countries_page", &[]).await;
    assert_eq!(status, 200);
    let (status, _) = call(
        &app,
        &support,
        "countries_save",
        &[("sms_mode", "all"), ("call_mode", "all")],
    )
    .await;
    assert_eq!(status, 403);
}

async fn fraud_guard_page_saves_lists_and_lifts_blocks(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Shop").await;
    let admin = signed_in(&app, &acc.email, &acc.password).await;
    let (status, page) = call(&app, &admin, "fraud_guard_page", &[]).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["mode"], "inherit");
    assert_eq!(
        page["applies"],
        json!([["SMS", "monitor"], ["Calls", "monitor"]])
    );
    assert_eq!(page["blocks"], json!([]));

    // Errors next to their field.
    let (status, e) = call(&app, &admin, "fraud_guard_save", &[("mode", "strict")]).await;
    assert_eq!((status, e["field"].as_str()), (400, Some("mode")), "{e}");
    let (status, e) = call(
        &app,
        &admin,
        "fraud_guard_save",
        &[("mode", "block"), ("safe_list", "+4474001\n0044")],
    )
    .await;
    assert_eq!(
        (status, e["field"].as_str()),
        (400, Some("safe_list")),
        "{e}"
    );
    let (status, e) = call(
        &app,
        &admin,
        "fraud_guard_save",
        &[("mode", "block"), ("safe_list", "+14155550100\n+4474001")],
    )
    .await;
    assert_eq!(status, 200, "{e}");
    let (_, page) = call(&app, &admin, "fraud_guard_page", &[]).await;
    assert_eq!(page["mode"], "block");
    assert_eq!(page["safe_list"], "+14155550100\n+4474001");
    assert!(
        page["mode_now"]
            .as_str()
            .unwrap()
            .starts_with("Block (set here)"),
        "{page}"
    );

    // An attack on a prefix: listed on the page with why, and lifted there.
    let api = app.api(&acc);
    for i in 0..4 {
        api.post(
            "/2fa/send",
            json!({"service": "S", "to": format!("+4474003{:05}", i + 100)}),
        )
        .await;
    }
    let (_, page) = call(&app, &admin, "fraud_guard_page", &[]).await;
    let blocks = page["blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), 1, "{page}");
    assert_eq!(
        (
            blocks[0]["prefix"].as_str(),
            blocks[0]["country"].as_str(),
            blocks[0]["channel"].as_str()
        ),
        (Some("+44740030"), Some("GB"), Some("SMS"))
    );
    assert!(
        blocks[0]["reason"].as_str().unwrap().contains("unverified"),
        "{page}"
    );

    // Support and developers read; only admins change or lift.
    for role in [Role::Support, Role::Developer] {
        let (email, pw) = app.user(&acc.sid, role).await;
        let http = signed_in(&app, &email, &pw).await;
        let (status, _) = call(&app, &http, "fraud_guard_page", &[]).await;
        assert_eq!(status, 200, "{role:?} reads");
        let (status, _) = call(&app, &http, "fraud_guard_save", &[("mode", "off")]).await;
        assert_eq!(status, 403, "{role:?} may not change");
        let (status, _) = call(&app, &http, "fraud_guard_lift", &[("prefix", "+44740030")]).await;
        assert_eq!(status, 403, "{role:?} may not lift");
    }
    let (status, e) = call(&app, &admin, "fraud_guard_lift", &[("prefix", "+44740030")]).await;
    assert_eq!(status, 200, "{e}");
    let (_, page) = call(&app, &admin, "fraud_guard_page", &[]).await;
    assert_eq!(page["blocks"], json!([]));
    let (status, e) = call(&app, &admin, "fraud_guard_lift", &[("prefix", "+44740030")]).await;
    assert_eq!((status, e["code"].as_i64()), (404, Some(7003)), "{e}");
    // Both are in the audit log, by the signed-in user.
    let (_, log) = api.get("/2fa/audit").await;
    let entries = log["entries"].as_array().unwrap();
    let of = |action: &str| {
        entries
            .iter()
            .find(|e| e["action"] == action)
            .cloned()
            .unwrap()
    };
    assert_eq!(of("fraud_guard.lift")["actor"]["email"], acc.email.as_str());
    assert_eq!(of("fraud_guard.lift")["target"], "+44740030");
    let change = of("settings.update");
    assert_eq!(change["target"], "fraud_guard");
    assert_eq!(change["after"]["mode"], "block");

    // "As inherited" for both goes back to the defaults.
    call(
        &app,
        &admin,
        "fraud_guard_save",
        &[("mode", "inherit"), ("safe_list_inherit", "on")],
    )
    .await;
    let (_, page) = call(&app, &admin, "fraud_guard_page", &[]).await;
    assert_eq!(
        (page["mode"].as_str(), page["safe_list_own"].as_bool()),
        (Some("inherit"), Some(false))
    );

    // The page renders on the server with the tab.
    let html = admin
        .get(app.url("/settings/fraud"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Settings · Fraud guard") && html.contains("Blocked prefixes"),
        "{html}"
    );
}
