//! The audit log: an entry for every change made through the console or the API (who, when,
//! from where, before → after), never a secret or a code; append-only (an UPDATE is refused),
//! pruned by age only; filters and positional paging on `GET /2fa/audit` and the console page;
//! every role reads it, another account sees nothing.
use super::fake_cpaas::FakeCpaas;
use super::harness::{call, client, dump_table, signed_in, TestApp};
use crate::domain::Role;
use crate::server::db::Backend;
use crate::server::services::audit::{self, Actor, AuditAction, Change, Origin};
use serde_json::{json, Value};

super::both_backends!(
    console_changes_are_audited_without_secrets,
    api_changes_are_audited_with_credential_and_address,
    audit_log_filters_pages_prunes_and_is_append_only,
);

/// The account's entries through the console (newest first), up to a page.
async fn console_entries(app: &TestApp, http: &reqwest::Client, form: &[(&str, &str)]) -> Value {
    let form = if form.is_empty() {
        &[("query[actor]", "")][..]
    } else {
        form
    };
    let (status, page) = call(app, http, "audit_search", form).await;
    assert_eq!(status, 200, "{page}");
    page
}

fn actions(rows: &Value) -> Vec<String> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap().to_owned())
        .collect()
}

/// The oldest entry with this action (entries are newest first).
fn find<'a>(entries: &'a Value, action: &str) -> &'a Value {
    entries
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|e| e["action"] == action)
        .unwrap_or_else(|| panic!("no {action} in {entries:#}"))
}

async fn console_changes_are_audited_without_secrets(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let other = app.account("Other").await;

    // Failed sign-ins: a known email with a wrong password, and an unknown email.
    let wrong_password = "wrong password 1234";
    for email in [acc.email.as_str(), "nobody@example.com"] {
        let res = client()
            .post(app.url("/api/login"))
            .form(&[("email", email), ("password", wrong_password)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
    }
    let admin = signed_in(&app, &acc.email, &acc.password).await;
    let (_, me) = call(&app, &admin, "whoami", &[]).await;
    let admin_sid = me["user_sid"].as_str().unwrap().to_owned();

    // Users: add, role, disable, enable.
    let new_password = "initial password 5678";
    let (status, e) = call(
        &app,
        &admin,
        "user_add",
        &[
            ("email", "dev@acme.example.com"),
            ("role", "developer"),
            ("password", new_password),
        ],
    )
    .await;
    assert_eq!(status, 200, "{e}");
    let (_, users) = call(&app, &admin, "users_list", &[]).await;
    let dev_sid = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "dev@acme.example.com")
        .unwrap()["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    for (name, form) in [
        (
            "user_set_role",
            [("sid", dev_sid.as_str()), ("role", "support")],
        ),
        (
            "user_set_disabled",
            [("sid", dev_sid.as_str()), ("disabled", "true")],
        ),
        (
            "user_set_disabled",
            [("sid", dev_sid.as_str()), ("disabled", "false")],
        ),
    ] {
        let (status, e) = call(&app, &admin, name, &form).await;
        assert_eq!(status, 200, "{name}: {e}");
    }

    // API keys and the auth token.
    let (status, key) = call(&app, &admin, "api_key_create", &[("name", "checkout")]).await;
    assert_eq!(status, 200, "{key}");
    let key_sid = key["key"]["sid"].as_str().unwrap().to_owned();
    let key_secret = key["secret"].as_str().unwrap().to_owned();
    let (status, _) = call(&app, &admin, "api_key_revoke", &[("sid", &key_sid)]).await;
    assert_eq!(status, 200);

    // An OTP canceled in the console (sent before the token rotates).
    let rid = app
        .api(&acc)
        .send_ok(json!({"service": "Bank", "to": "+14155550100"}))
        .await;
    app.deliver().await;
    let (_, code) = app.api(&acc).sandbox_code(&rid).await;
    let (status, e) = call(&app, &admin, "otp_cancel", &[("request_id", &rid)]).await;
    assert_eq!(status, 200, "{e}");

    let (status, token) = call(&app, &admin, "rotate_auth_token", &[]).await;
    assert_eq!(status, 200);
    let new_token = token.as_str().unwrap().to_owned();

    // Sub-accounts: create, then rename and suspend at once (two entries), then close.
    let (status, created) = call(&app, &admin, "subaccount_create", &[("name", "Acme EU")]).await;
    assert_eq!(status, 200, "{created}");
    let sub = created["account"]["sid"].as_str().unwrap().to_owned();
    let sub_token = created["auth_token"].as_str().unwrap().to_owned();
    let (status, e) = call(
        &app,
        &admin,
        "subaccount_update",
        &[
            ("sid", &sub),
            ("name", "Acme Europe"),
            ("status", "suspended"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{e}");
    let (status, _) = call(
        &app,
        &admin,
        "subaccount_update",
        &[("sid", &sub), ("status", "closed")],
    )
    .await;
    assert_eq!(status, 200);

    // Limits: create, change, delete.
    let limit_form = |sid: &str, max1: &str| {
        vec![
            ("sid", sid.to_owned()),
            ("name", "per_ip".to_owned()),
            ("description", "by IP".to_owned()),
            ("max1", max1.to_owned()),
            ("every1", "1".to_owned()),
            ("unit1", "minutes".to_owned()),
            ("max2", String::new()),
            ("every2", String::new()),
            ("unit2", "minutes".to_owned()),
        ]
    };
    let form = limit_form("", "5");
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, limit) = call(&app, &admin, "limits_save", &form).await;
    assert_eq!(status, 200, "{limit}");
    let limit_sid = limit.as_str().unwrap().to_owned();
    let form = limit_form(&limit_sid, "7");
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, e) = call(&app, &admin, "limits_save", &form).await;
    assert_eq!(status, 200, "{e}");
    let (status, _) = call(&app, &admin, "limits_delete", &[("sid", &limit_sid)]).await;
    assert_eq!(status, 200);

    // Providers: two created, one moved, one changed, one deleted; the voice setting.
    let fake = FakeCpaas::start().await;
    let provider_form = |sid: &str, name: &str, token: &str| {
        vec![
            ("sid", sid.to_owned()),
            ("kind", "twilio".to_owned()),
            ("name", name.to_owned()),
            ("channels[sms]", "on".to_owned()),
            ("countries", String::new()),
            ("enabled", "on".to_owned()),
            ("config[baseUrl]", fake.base.clone()),
            ("config[accountSid]", fake.state.account_sid.clone()),
            ("config[authToken]", token.to_owned()),
            ("config[from]", "+15005550006".to_owned()),
            ("config[messagingServiceSid]", String::new()),
        ]
    };
    let mut provider_sids = Vec::new();
    for name in ["Main", "Backup"] {
        let form = provider_form("", name, &fake.state.token);
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, sid) = call(&app, &admin, "providers_save", &form).await;
        assert_eq!(status, 200, "{sid}");
        provider_sids.push(sid.as_str().unwrap().to_owned());
    }
    let (status, _) = call(
        &app,
        &admin,
        "providers_move",
        &[("sid", &provider_sids[1]), ("earlier", "true")],
    )
    .await;
    assert_eq!(status, 200);
    let changed_token = "a-brand-new-provider-token-42";
    let form = provider_form(&provider_sids[0], "Main EU", changed_token);
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, e) = call(&app, &admin, "providers_save", &form).await;
    assert_eq!(status, 200, "{e}");
    let (status, _) = call(
        &app,
        &admin,
        "providers_delete",
        &[("sid", &provider_sids[1])],
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = call(&app, &admin, "voice_press_key_save", &[("choice", "on")]).await;
    assert_eq!(status, 200);

    // Sign out last.
    let res = admin.post(app.url("/api/logout")).send().await.unwrap();
    assert!(res.status().is_redirection() || res.status().is_success());

    // Read it back, through the API (the new token) and the console (a support user).
    let (support_email, support_pw) = app.user(&acc.sid, Role::Support).await;
    let support = signed_in(&app, &support_email, &support_pw).await;
    let page = console_entries(&app, &support, &[]).await;
    let rest = crate::tests::harness::Api {
        app: &app,
        sid: acc.sid.clone(),
        token: new_token.clone(),
    };
    let (status, listed) = rest.get("/2fa/audit?PageSize=100").await;
    assert_eq!(status, 200, "{listed}");
    let entries = &listed["entries"];
    let mut got = actions(entries);
    let console_rows = actions(&page["rows"]);
    got.reverse();
    let expected = [
        "user.sign_in_failed",
        "user.sign_in",
        "user.add",
        "user.role",
        "user.disable",
        "user.enable",
        "api_key.create",
        "api_key.revoke",
        "otp.cancel",
        "auth_token.rotate",
        "subaccount.create",
        "subaccount.rename",
        "subaccount.suspend",
        "subaccount.close",
        "limit.create",
        "limit.update",
        "limit.delete",
        "provider.create",
        "provider.create",
        "provider.move",
        "provider.update",
        "provider.delete",
        "settings.update",
        "user.sign_out",
        // The support user's own sign-in.
        "user.sign_in",
    ];
    assert_eq!(got, expected, "oldest first: {entries:#}");
    let mut newest_first = expected.map(str::to_owned).to_vec();
    newest_first.reverse();
    assert_eq!(console_rows, newest_first, "the console shows the same");

    // Who, from where, what.
    let failed = find(entries, "user.sign_in_failed");
    assert_eq!(
        failed["actor"],
        json!({"type": "user", "sid": admin_sid, "email": acc.email})
    );
    assert_eq!(failed["address"], "127.0.0.1");
    assert_eq!(failed["before"], Value::Null);
    let signin = find(entries, "user.sign_in");
    assert_eq!(signin["actor"]["sid"], admin_sid.as_str());
    assert_eq!(signin["target"], admin_sid.as_str());
    let role = find(entries, "user.role");
    assert_eq!(role["target"], dev_sid.as_str());
    assert_eq!(role["before"]["role"], "developer");
    assert_eq!(role["after"]["role"], "support");
    assert_eq!(find(entries, "user.disable")["after"]["disabled"], true);
    assert_eq!(
        find(entries, "user.add")["after"],
        json!({"email": "dev@acme.example.com", "role": "developer"})
    );
    assert_eq!(find(entries, "api_key.create")["target"], key_sid.as_str());
    assert_eq!(
        find(entries, "api_key.revoke")["after"]["revoked"],
        json!(true)
    );
    let cancel = find(entries, "otp.cancel");
    assert_eq!(cancel["target"], rid.as_str());
    assert_eq!(cancel["after"]["status"], "canceled");
    assert_eq!(find(entries, "auth_token.rotate")["after"], Value::Null);
    let rename = find(entries, "subaccount.rename");
    assert_eq!(rename["target"], sub.as_str());
    assert_eq!(rename["before"]["friendlyName"], "Acme EU");
    assert_eq!(rename["after"]["friendlyName"], "Acme Europe");
    assert_eq!(
        find(entries, "subaccount.suspend")["after"]["status"],
        "suspended"
    );
    let limit_update = find(entries, "limit.update");
    assert_eq!(limit_update["target"], limit_sid.as_str());
    assert_eq!(limit_update["before"]["buckets"][0]["maxOtp"], 5);
    assert_eq!(limit_update["after"]["buckets"][0]["maxOtp"], 7);
    assert_eq!(
        find(entries, "limit.delete")["before"]["name"],
        json!("per_ip")
    );
    assert_eq!(find(entries, "limit.delete")["after"], Value::Null);
    let provider_update = find(entries, "provider.update");
    assert_eq!(provider_update["before"]["name"], "Main");
    assert_eq!(provider_update["after"]["name"], "Main EU");
    assert_eq!(
        provider_update["after"]["config"]["authToken"],
        "[redacted]"
    );
    let moved = find(entries, "provider.move");
    assert_eq!(moved["before"]["order"], json!(["Main", "Backup"]));
    assert_eq!(moved["after"]["order"], json!(["Backup", "Main"]));
    let settings = find(entries, "settings.update");
    assert_eq!(settings["before"]["voicePressKey"], false);
    assert_eq!(settings["after"]["voicePressKey"], true);
    assert_eq!(
        find(entries, "user.sign_out")["actor"]["sid"],
        admin_sid.as_str()
    );
    for e in entries.as_array().unwrap() {
        assert_eq!(e["address"], "127.0.0.1", "{e}");
        assert_eq!(e["actor"]["type"], "user", "{e}");
        assert!(e["auditSid"].as_str().unwrap().starts_with("AU"), "{e}");
    }

    // The unknown email's failure belongs to no account; it is stored with the email tried.
    let dump = dump_table(app.state.db(), "audit_entries").await;
    assert!(dump.contains("nobody@example.com"), "{dump}");
    assert!(!listed.to_string().contains("nobody@example.com"));

    // No secret, password, token or code anywhere in the table.
    for secret in [
        acc.password.as_str(),
        wrong_password,
        new_password,
        support_pw.as_str(),
        key_secret.as_str(),
        acc.token.as_str(),
        new_token.as_str(),
        sub_token.as_str(),
        fake.state.token.as_str(),
        changed_token,
    ] {
        assert!(!dump.contains(secret), "{secret} stored in {dump}");
    }
    assert!(
        !dump.contains(&format!("\"{code}\"")) && !dump.contains(&format!(":{code}")),
        "the code {code} is not stored: {dump}"
    );

    // Another account sees none of it, in the API or the console.
    let (status, theirs) = app.api(&other).get("/2fa/audit").await;
    assert_eq!(
        (status, theirs["total"].as_i64()),
        (200, Some(0)),
        "{theirs}"
    );
    let them = signed_in(&app, &other.email, &other.password).await;
    let page = console_entries(&app, &them, &[]).await;
    assert_eq!(
        actions(&page["rows"]),
        ["user.sign_in"],
        "only their own sign-in"
    );

    // The page renders on the server with its filters from the URL (no JavaScript needed).
    let html = support
        .get(app.url("/audit?action=limit.update"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Audit log"), "{html}");
    assert!(
        html.contains(&limit_sid) && html.contains("Limit changed"),
        "{html}"
    );
    assert!(html.contains("data-action=\"limit.update\""), "{html}");
    assert!(
        !html.contains("data-action=\"limit.create\""),
        "filtered: {html}"
    );
    assert!(
        html.contains("/console/audit.csv?action=limit.update"),
        "{html}"
    );

    // Support exports it as CSV: the header and a line per entry.
    let csv = support
        .get(app.url("/console/audit.csv?action=limit.update"))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    let text = csv.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with("auditSid,at,actorType"), "{text}");
    assert!(lines[1].contains("limit.update") && lines[1].contains(&limit_sid));
    let signed_out = client()
        .get(app.url("/console/audit.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_out.status(), 401);
}

async fn api_changes_are_audited_with_credential_and_address(b: Backend) {
    let app = TestApp::start_with(b, |s| s.trust_forwarded_for = true).await;
    let acc = app.account("Acme").await;
    let other = app.account("Other").await;
    let fake = FakeCpaas::start().await;
    let http = client();
    let req = |method: reqwest::Method, path: &str, user: &str, secret: &str, body: Value| {
        http.request(method, app.url(path))
            .basic_auth(user, Some(secret))
            .header("x-forwarded-for", "198.51.100.1, 203.0.113.9")
            .json(&body)
            .send()
    };
    let json_of = |res: reqwest::Response| async move {
        let status = res.status().as_u16();
        (status, res.json::<Value>().await.unwrap_or(Value::Null))
    };
    use reqwest::Method;
    let (status, limit) = json_of(
        req(
            Method::POST,
            "/2fa/limits",
            &acc.sid,
            &acc.token,
            json!({"name": "per_ip", "buckets": [{"name": "m", "maxOtp": 3, "interval": 60}]}),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{limit}");
    let limit_sid = limit["limitSid"].as_str().unwrap().to_owned();
    // An API key acts as its account: the entry names the key.
    let scope = crate::server::services::accounts::scope_for_session(app.state.db(), &acc.sid)
        .await
        .unwrap()
        .unwrap();
    let (key, key_secret) = crate::server::services::api_keys::create(
        app.state.db(),
        &scope,
        "ci",
        app.state.clock().now_ms(),
    )
    .await
    .unwrap();
    let (status, e) = json_of(
        req(
            Method::PUT,
            &format!("/2fa/limits/{limit_sid}"),
            &key.sid,
            &key_secret,
            json!({"description": "per client IP"}),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{e}");
    let (status, _) = json_of(
        req(
            Method::DELETE,
            &format!("/2fa/limits/{limit_sid}"),
            &acc.sid,
            &acc.token,
            json!({}),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 204);
    let (status, p) = json_of(
        req(
            Method::POST,
            "/2fa/providers",
            &acc.sid,
            &acc.token,
            json!({"kind": "twilio", "name": "Main", "channels": ["sms"], "config": fake.config()}),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{p}");
    let provider = p["providerSid"].as_str().unwrap().to_owned();
    let (status, e) = json_of(
        req(
            Method::PUT,
            &format!("/2fa/providers/{provider}"),
            &acc.sid,
            &acc.token,
            json!({"kind": "twilio", "name": "Main 2", "channels": ["sms"], "config": fake.config()}),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{e}");
    let (status, _) = json_of(
        req(
            Method::DELETE,
            &format!("/2fa/providers/{provider}"),
            &acc.sid,
            &acc.token,
            json!({}),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 204);
    let (status, e) = json_of(
        req(
            Method::PUT,
            "/2fa/settings",
            &acc.sid,
            &acc.token,
            json!({"voicePressKey": true}),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{e}");
    let rid = app
        .api(&acc)
        .send_ok(json!({"service": "Bank", "to": "+14155550100"}))
        .await;
    app.deliver().await;
    let (_, code) = app.api(&acc).sandbox_code(&rid).await;
    let (status, e) = json_of(
        req(
            Method::POST,
            "/2fa/cancel",
            &acc.sid,
            &acc.token,
            json!({"requestID": rid, "reason": "user asked"}),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{e}");
    let (status, created) = json_of(
        req(
            Method::POST,
            "/2fa/accounts",
            &acc.sid,
            &acc.token,
            json!({"friendlyName": "Sub"}),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let sub = created["accountSid"].as_str().unwrap().to_owned();
    let sub_token = created["authToken"].as_str().unwrap().to_owned();
    let (status, _) = json_of(
        req(
            Method::POST,
            &format!("/2fa/accounts/{sub}"),
            &acc.sid,
            &acc.token,
            json!({"status": "suspended"}),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = json_of(
        req(
            Method::POST,
            &format!("/2fa/accounts/{sub}"),
            &acc.sid,
            &acc.token,
            json!({"status": "active"}),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    // A parent acting for its sub-account: the entry is in the sub-account's log.
    let (status, e) = json_of(
        req(
            Method::POST,
            "/2fa/limits",
            &acc.sid,
            &acc.token,
            json!({"name": "sub_limit", "accountSid": sub, "buckets": [{"name": "m", "maxOtp": 3, "interval": 60}]}),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{e}");

    let (status, listed) = app.api(&acc).get("/2fa/audit?PageSize=100").await;
    assert_eq!(status, 200, "{listed}");
    let entries = &listed["entries"];
    let mut got = actions(entries);
    got.reverse();
    assert_eq!(
        got,
        [
            "limit.create",
            "limit.update",
            "limit.delete",
            "provider.create",
            "provider.update",
            "provider.delete",
            "settings.update",
            "otp.cancel",
            "subaccount.create",
            "subaccount.suspend",
            "subaccount.reactivate",
        ],
        "{entries:#}"
    );
    for e in entries.as_array().unwrap() {
        assert_eq!(e["address"], "203.0.113.9", "the proxy's entry: {e}");
        assert_eq!(e["actor"]["type"], "credential", "{e}");
        assert!(e["actor"].get("email").is_none(), "{e}");
        let want = if e["action"] == "limit.update" {
            key.sid.as_str()
        } else {
            acc.sid.as_str()
        };
        assert_eq!(e["actor"]["sid"], want, "{e}");
    }
    let update = find(entries, "limit.update");
    assert_eq!(update["before"]["description"], "");
    assert_eq!(update["after"]["description"], "per client IP");
    assert_eq!(find(entries, "limit.create")["target"], limit_sid.as_str());
    let cancel = find(entries, "otp.cancel");
    assert_eq!(
        cancel["after"],
        json!({"status": "canceled", "reason": "user asked"})
    );
    assert_eq!(
        find(entries, "provider.create")["after"]["config"]["authToken"],
        "[redacted]"
    );
    assert_eq!(
        find(entries, "settings.update")["after"],
        json!({"voice_press_key": true})
    );

    // The sub-account's log: its parent reads it with accountSid, and so does it itself.
    let (status, subs) = app
        .api(&acc)
        .get(&format!("/2fa/audit?accountSid={sub}"))
        .await;
    assert_eq!(status, 200, "{subs}");
    assert_eq!(actions(&subs["entries"]), ["limit.create"]);
    assert_eq!(subs["entries"][0]["actor"]["sid"], acc.sid.as_str());
    assert!(subs["uri"]
        .as_str()
        .unwrap()
        .contains(&format!("accountSid={sub}")));
    let (status, own) = crate::tests::harness::Api {
        app: &app,
        sid: sub.clone(),
        token: sub_token.clone(),
    }
    .get("/2fa/audit")
    .await;
    assert_eq!(
        (status, actions(&own["entries"])),
        (200, vec!["limit.create".to_owned()])
    );
    // A stranger may not read either.
    let (status, _) = app
        .api(&other)
        .get(&format!("/2fa/audit?accountSid={}", acc.sid))
        .await;
    assert_eq!(status, 403);
    let (_, theirs) = app.api(&other).get("/2fa/audit").await;
    assert_eq!(theirs["entries"], json!([]));

    let dump = dump_table(app.state.db(), "audit_entries").await;
    for secret in [
        acc.token.as_str(),
        key_secret.as_str(),
        fake.state.token.as_str(),
        sub_token.as_str(),
    ] {
        assert!(!dump.contains(secret), "{secret} stored in {dump}");
    }
    assert!(!dump.contains(&format!("\"{code}\"")), "{dump}");
}

async fn audit_log_filters_pages_prunes_and_is_append_only(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let db = app.state.db();
    let account = crate::domain::AccountSid::parse(&acc.sid).unwrap();
    let ana = Origin {
        actor: Actor::User {
            sid: Some("US00000000000000000000000000000001".into()),
            email: "Ana@Example.com".into(),
        },
        address: "192.0.2.1".into(),
    };
    let key = Origin {
        actor: Actor::Credential {
            sid: "SK00000000000000000000000000000002".into(),
        },
        address: "192.0.2.2".into(),
    };
    // Five entries a day apart, starting 2026-01-01T00:00:00Z; the first is old.
    let day = 86_400_000;
    let start = 1_767_225_600_000;
    app.clock.set(start);
    for i in 0..5 {
        let (who, action, target) = match i {
            0 => (&ana, AuditAction::LimitCreate, "LM1"),
            1 => (&key, AuditAction::LimitUpdate, "LM1"),
            2 => (&ana, AuditAction::ProviderCreate, "PR1"),
            3 => (&key, AuditAction::LimitDelete, "LM1"),
            _ => (&ana, AuditAction::SettingsUpdate, "settings"),
        };
        audit::record(
            db,
            app.state.clock(),
            Some(&account),
            who,
            Change::new(action, target).after(json!({"n": i, "apiKeySecret": "s3cr3t-value"})),
        )
        .await
        .unwrap();
        app.clock.advance_ms(day);
    }
    let api = app.api(&acc);
    let sids = |v: &Value| -> Vec<i64> {
        v["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["after"]["n"].as_i64())
            .collect()
    };
    let (_, all) = api.get("/2fa/audit").await;
    assert_eq!(sids(&all), [4, 3, 2, 1, 0], "newest first");
    assert_eq!(all["entries"][0]["after"]["apiKeySecret"], "[redacted]");
    assert_eq!(all["entries"][0]["at"], "2026-01-05T00:00:00Z");
    // Filters: actor by sid or email (any case), action, target, time.
    for (query, want) in [
        ("actor=ana@example.com", vec![4, 2, 0]),
        ("actor=US00000000000000000000000000000001", vec![4, 2, 0]),
        ("actor=SK00000000000000000000000000000002", vec![3, 1]),
        ("action=limit.update", vec![1]),
        ("target=LM1", vec![3, 1, 0]),
        ("startTime=2026-01-02&endTime=2026-01-03", vec![2, 1]),
        ("actor=ana@example.com&target=LM1", vec![0]),
    ] {
        let (status, v) = api.get(&format!("/2fa/audit?{query}")).await;
        assert_eq!(status, 200, "{query}: {v}");
        assert_eq!(sids(&v), want, "{query}");
        assert_eq!(v["total"].as_i64(), Some(want.len() as i64), "{query}");
    }
    let (status, e) = api.get("/2fa/audit?action=limit.explode").await;
    assert_eq!((status, e["field"].as_str()), (400, Some("action")), "{e}");
    let (status, e) = api
        .get("/2fa/audit?startTime=2026-01-03&endTime=2026-01-01")
        .await;
    assert_eq!((status, e["field"].as_str()), (400, Some("endTime")), "{e}");

    // Paging by position: nextPageUri carries AfterSid and keeps the filters.
    let (_, p1) = api.get("/2fa/audit?PageSize=2&target=LM1").await;
    assert_eq!(sids(&p1), [3, 1]);
    let next = p1["nextPageUri"].as_str().unwrap().to_owned();
    assert!(
        next.contains("AfterSid=AU") && next.contains("target=LM1"),
        "{next}"
    );
    let (status, p2) = api.get(&next).await;
    assert_eq!(status, 200, "{p2}");
    assert_eq!(sids(&p2), [0]);
    assert_eq!(p2["nextPageUri"], Value::Null);
    assert_eq!(p2["total"], 3);
    let (status, e) = api.get("/2fa/audit?AfterSid=AUnope").await;
    assert_eq!(
        (status, e["field"].as_str()),
        (400, Some("AfterSid")),
        "{e}"
    );

    // The console pages by position too, and every role reads it.
    let (support_email, support_pw) = app.user(&acc.sid, Role::Support).await;
    let support = signed_in(&app, &support_email, &support_pw).await;
    let page = console_entries(&app, &support, &[("query[target]", "LM1")]).await;
    assert_eq!(page["total"], 3);
    assert_eq!(page["newer"], Value::Null);
    assert_eq!(page["older"], Value::Null, "one page of 50");
    let page = console_entries(
        &app,
        &support,
        &[("query[actor]", "SK00000000000000000000000000000002")],
    )
    .await;
    assert_eq!(actions(&page["rows"]), ["limit.delete", "limit.update"]);
    assert_eq!(page["rows"][0]["action_label"], "Limit deleted");
    assert_eq!(page["rows"][0]["after"], "apiKeySecret: [redacted], n: 3");
    let (status, e) = call(&app, &support, "audit_search", &[("query[action]", "nope")]).await;
    assert_eq!((status, e["field"].as_str()), (400, Some("action")), "{e}");
    let (status, e) = call(
        &app,
        &support,
        "audit_search",
        &[("query[before]", "garbage")],
    )
    .await;
    assert_eq!((status, e["field"].as_str()), (400, Some("before")), "{e}");
    // More than a page: older, then newer again, by position (ties of one millisecond too).
    for i in 0..52 {
        audit::record(
            db,
            app.state.clock(),
            Some(&account),
            &key,
            Change::new(AuditAction::ProviderMove, format!("PR{i}")),
        )
        .await
        .unwrap();
    }
    let first = console_entries(&app, &support, &[("query[action]", "provider.move")]).await;
    assert_eq!(first["rows"].as_array().unwrap().len(), 50);
    assert_eq!(first["rows"][0]["target"], "PR51", "newest first");
    assert_eq!(first["total"], 52);
    let older = first["older"].as_str().unwrap().to_owned();
    let second = console_entries(
        &app,
        &support,
        &[
            ("query[action]", "provider.move"),
            ("query[before]", &older),
        ],
    )
    .await;
    let targets: Vec<&str> = second["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["target"].as_str().unwrap())
        .collect();
    assert_eq!(targets, ["PR1", "PR0"]);
    assert_eq!(second["older"], Value::Null);
    let newer = second["newer"].as_str().unwrap().to_owned();
    let back = console_entries(
        &app,
        &support,
        &[("query[action]", "provider.move"), ("query[after]", &newer)],
    )
    .await;
    assert_eq!(back["rows"], first["rows"]);
    let (_, p1) = api.get("/2fa/audit?action=provider.move&PageSize=50").await;
    let (_, p2) = api.get(p1["nextPageUri"].as_str().unwrap()).await;
    assert_eq!(p2["entries"].as_array().unwrap().len(), 2);
    assert_eq!(p2["entries"][1]["target"], "PR0");
    let (dev_email, dev_pw) = app.user(&acc.sid, Role::Developer).await;
    let dev = signed_in(&app, &dev_email, &dev_pw).await;
    console_entries(&app, &dev, &[]).await;
    let (status, _) = call(&app, &client(), "audit_search", &[("query[actor]", "")]).await;
    assert_eq!(status, 401, "signed out");

    // Append-only: an UPDATE is refused by the database itself.
    assert!(db
        .execute("UPDATE audit_entries SET action = 'limit.create'", vec![])
        .await
        .is_err());
    assert!(db
        .execute(
            "UPDATE audit_entries SET before_json = NULL WHERE target = $1",
            crate::args!["LM1"]
        )
        .await
        .is_err());

    // Retention: entries older than the setting go, the others stay.
    let before = db
        .scalar_i64("SELECT COUNT(*) FROM audit_entries", vec![])
        .await
        .unwrap();
    // 401.5 days after the first entry: entries 0 and 1 are older than 400 days, 2 is not.
    app.clock.set(start + 401 * day + day / 2);
    let pruned = audit::prune(db, app.state.clock(), 400).await.unwrap();
    assert_eq!(pruned, 2);
    let (_, left) = api.get("/2fa/audit?PageSize=100").await;
    assert_eq!(sids(&left), [4, 3, 2]);
    assert_eq!(
        db.scalar_i64("SELECT COUNT(*) FROM audit_entries", vec![])
            .await
            .unwrap(),
        before - 2
    );
    assert_eq!(
        audit::prune(db, app.state.clock(), 0).await.unwrap(),
        0,
        "0 keeps all"
    );
    assert_eq!(
        app.state.settings().audit_retention_days,
        400,
        "the default"
    );
}
