//! Account settings over REST and their effect on sends: defaults applied to what a send leaves
//! out, inheritance by sub-accounts (and `null` going back to it), per-destination protection,
//! the default status callback and its rotated secret, and allowed countries (7011) with the
//! operator's default list.
use super::callbacks::start_receiver;
use super::harness::{Api, TestApp};
use crate::server::db::Backend;
use serde_json::{json, Value};

super::both_backends!(
    defaults_apply_to_sends_and_sub_accounts_inherit,
    defaults_are_validated_and_name_their_field,
    protection_keep_old_and_the_default_callback,
    countries_refuse_sends_before_anything_is_charged,
);

async fn settings(api: &Api<'_>) -> Value {
    let (status, s) = api.get("/2fa/settings").await;
    assert_eq!(status, 200, "{s}");
    s
}

async fn put(api: &Api<'_>, body: Value) -> (u16, Value) {
    api.post_method("PUT", "/2fa/settings", body).await
}

async fn sdr(api: &Api<'_>, rid: &str) -> Value {
    let (status, s) = api.get(&format!("/2fa/search/{rid}")).await;
    assert_eq!(status, 200, "{s}");
    s
}

/// Seconds between an SDR's creation and its expiry.
fn ttl(s: &Value) -> i64 {
    let at = |k: &str| crate::server::clock::parse_rfc3339(s[k].as_str().unwrap()).unwrap();
    (at("expiresAt") - at("dateCreated")) / 1000
}

async fn defaults_apply_to_sends_and_sub_accounts_inherit(b: Backend) {
    let app = TestApp::start(b).await;
    let parent = app.account("Parent").await;
    let sub = app.account_with_parent("Sub", Some(&parent.sid)).await;
    let api = app.api(&parent);

    // Out of the box: the built-in defaults.
    let s = settings(&api).await;
    assert_eq!(
        (
            s["codeLength"].as_i64(),
            s["expiry"].as_i64(),
            s["maxAttempts"].as_i64()
        ),
        (Some(6), Some(600), Some(5)),
        "{s}"
    );
    assert_eq!(
        s["destinationProtection"],
        json!({"per10Minutes": 5, "per24Hours": 20})
    );
    assert_eq!(s["workflow"], json!(["sms"]));
    assert_eq!(s["sources"]["codeLength"], "default");

    let (status, s) = put(
        &api,
        json!({"codeLength": 8, "codeType": "alphanumeric", "expiry": 120, "maxAttempts": 3, "language": "es-MX"}),
    )
    .await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["codeLength"], 8);
    assert_eq!(s["sources"]["codeLength"], "account");
    assert_eq!(s["sources"]["workflow"], "default", "fields not given stay");

    // A send that leaves them out gets them.
    let rid = api
        .send_ok(json!({"service": "S", "to": "+14155550201"}))
        .await;
    app.deliver().await;
    // In the default language's template: "Tu código de S es AB12CD34. Caduca en 2 minutos."
    let (text, _) = api.sandbox_code(&rid).await;
    let code = text
        .split(" es ")
        .nth(1)
        .unwrap()
        .split('.')
        .next()
        .unwrap();
    assert_eq!(code.len(), 8, "{text}");
    assert!(code.chars().all(|c| c.is_ascii_alphanumeric()), "{text}");
    let o = sdr(&api, &rid).await;
    assert_eq!(
        (
            o["codeLength"].as_i64(),
            o["codeType"].as_str(),
            o["maxAttempts"].as_i64(),
            o["language"].as_str()
        ),
        (Some(8), Some("alphanumeric"), Some(3), Some("es-MX")),
        "{o}"
    );
    assert_eq!(ttl(&o), 120);
    // The default language also picks the template of a language without one (Swedish).
    let rid = api
        .send_ok(json!({"service": "S", "to": "+14155550207", "language": "sv-SE"}))
        .await;
    app.deliver().await;
    let (text, _) = api.sandbox_code(&rid).await;
    assert!(text.starts_with("Tu código de S es"), "{text}");
    // A send that gives them wins.
    let rid = api
        .send_ok(json!({"service": "S", "to": "+14155550202", "codeLength": 4, "expiry": 300, "maxAttempts": 5}))
        .await;
    let o = sdr(&api, &rid).await;
    assert_eq!(
        (o["codeLength"].as_i64(), o["maxAttempts"].as_i64()),
        (Some(4), Some(5))
    );
    assert_eq!(ttl(&o), 300);

    // The sub-account inherits, overrides, and goes back with null.
    let sub_api = app.api(&sub);
    let s = settings(&sub_api).await;
    assert_eq!(
        (
            s["codeLength"].as_i64(),
            s["sources"]["codeLength"].as_str()
        ),
        (Some(8), Some("parent"))
    );
    let rid = sub_api
        .send_ok(json!({"service": "S", "to": "+14155550203"}))
        .await;
    assert_eq!(ttl(&sdr(&sub_api, &rid).await), 120);
    let (_, s) = put(&sub_api, json!({"expiry": 900})).await;
    assert_eq!(
        (s["expiry"].as_i64(), s["sources"]["expiry"].as_str()),
        (Some(900), Some("account"))
    );
    let rid = sub_api
        .send_ok(json!({"service": "S", "to": "+14155550204"}))
        .await;
    assert_eq!(ttl(&sdr(&sub_api, &rid).await), 900);
    let (_, s) = put(&sub_api, json!({"expiry": null})).await;
    assert_eq!(
        (s["expiry"].as_i64(), s["sources"]["expiry"].as_str()),
        (Some(120), Some("parent"))
    );
    // The parent acting for its sub-account reads the same.
    let (_, s) = api
        .get(&format!("/2fa/settings?accountSid={}", sub.sid))
        .await;
    assert_eq!(s["accountSid"], sub.sid.as_str());
    assert_eq!(s["sources"]["codeLength"], "parent");
    // The parent unsets: back to the built-in for both.
    let (_, s) = put(&api, json!({"codeLength": null, "expiry": ""})).await;
    assert_eq!(
        (s["codeLength"].as_i64(), s["expiry"].as_i64()),
        (Some(6), Some(600))
    );
    assert_eq!(settings(&sub_api).await["sources"]["codeLength"], "default");

    // A default workflow: a send with a number and an address goes SMS, then email.
    put(&api, json!({"workflow": ["sms", "email"]})).await;
    let rid = api
        .send_ok(json!({"service": "S", "to": "+14155550205", "emailTo": "ana@example.com"}))
        .await;
    assert_eq!(sdr(&api, &rid).await["workflow"], json!(["sms", "email"]));
    // Every change is in the audit log, with what the account set before and after.
    let (_, log) = api.get("/2fa/audit?action=settings.update").await;
    let entries = log["entries"].as_array().unwrap();
    assert!(entries.len() >= 3, "{log}");
    assert_eq!(
        entries.last().unwrap()["after"]["expiry_secs"],
        120,
        "{log}"
    );
    // …and one without the address is told what is missing.
    let (status, e) = api
        .post("/2fa/send", json!({"service": "S", "to": "+14155550206"}))
        .await;
    assert_eq!((status, e["field"].as_str()), (400, Some("emailTo")), "{e}");
}

async fn defaults_are_validated_and_name_their_field(b: Backend) {
    let app = TestApp::start_with(b, |s| s.allow_private_outbound = false).await;
    let acc = app.account("Acme").await;
    let api = app.api(&acc);
    for (body, field) in [
        (json!({"codeLength": 3}), "codeLength"),
        (json!({"codeType": "emoji"}), "codeType"),
        (json!({"expiry": 30}), "expiry"),
        (json!({"maxAttempts": 0}), "maxAttempts"),
        (json!({"workflow": ["sms", "fax"]}), "workflow"),
        (json!({"workflow": ["sms", "sms"]}), "workflow"),
        (json!({"language": "not a tag"}), "language"),
        (json!({"keepOldOtpActive": "perhaps"}), "keepOldOtpActive"),
        (
            json!({"statusCallback": "ftp://example.com/cb"}),
            "statusCallback",
        ),
        (
            json!({"statusCallback": "http://127.0.0.1:9/cb"}),
            "statusCallback",
        ),
        (json!({"destinationProtection": 5}), "destinationProtection"),
        (
            json!({"destinationProtection": {"per10Minutes": 0}}),
            "destinationProtection.per10Minutes",
        ),
        (
            json!({"destinationProtection": {"per10Minutes": 10, "per24Hours": 5}}),
            "destinationProtection.per24Hours",
        ),
        (json!({"voicePressKey": "sometimes"}), "voicePressKey"),
    ] {
        let (status, e) = put(&api, body.clone()).await;
        assert_eq!(
            (status, e["errorCode"].as_i64(), e["field"].as_str()),
            (400, Some(7004), Some(field)),
            "{body}: {e}"
        );
    }
    // Nothing of a refused change was kept.
    let s = settings(&api).await;
    assert!(
        s["sources"]
            .as_object()
            .unwrap()
            .values()
            .all(|v| v == "default"),
        "{s}"
    );
    // Form bodies work as for every other endpoint.
    let res = app
        .http
        .put(app.url("/2fa/settings"))
        .basic_auth(&acc.sid, Some(&acc.token))
        .form(&[("expiry", "240"), ("workflow", "sms,call")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let s: Value = res.json().await.unwrap();
    assert_eq!(
        (s["expiry"].as_i64(), s["workflow"].clone()),
        (Some(240), json!(["sms", "call"]))
    );
}

async fn protection_keep_old_and_the_default_callback(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let api = app.api(&acc);

    // An account's own per-destination protection.
    let (status, _) = put(
        &api,
        json!({"destinationProtection": {"per10Minutes": 2, "per24Hours": 3}}),
    )
    .await;
    assert_eq!(status, 200);
    for _ in 0..2 {
        api.send_ok(json!({"service": "S", "to": "+14155550211", "keepOldOtpActive": true}))
            .await;
    }
    let (status, e) = api
        .post("/2fa/send", json!({"service": "S", "to": "+14155550211"}))
        .await;
    assert_eq!((status, e["errorCode"].as_i64()), (429, Some(7022)), "{e}");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("at most 2 per 10 minutes"),
        "{e}"
    );

    // keepOldOtpActive by default: a second send leaves the first active.
    put(
        &api,
        json!({"keepOldOtpActive": true, "destinationProtection": null}),
    )
    .await;
    let first = api
        .send_ok(json!({"service": "K", "to": "+14155550212"}))
        .await;
    api.send_ok(json!({"service": "K", "to": "+14155550212"}))
        .await;
    assert_eq!(sdr(&api, &first).await["status"], "pending");
    // …and a send may still ask for superseding.
    api.send_ok(json!({"service": "K", "to": "+14155550212", "keepOldOtpActive": false}))
        .await;
    assert_eq!(sdr(&api, &first).await["status"], "canceled");

    // A default status callback, signed with a secret that can be rotated (shown once).
    let (url, rec) = start_receiver(0).await;
    let (status, s) = put(&api, json!({"statusCallback": url})).await;
    assert_eq!(
        (status, s["statusCallback"].as_str()),
        (200, Some(url.as_str())),
        "{s}"
    );
    let (status, rotated) = api.post("/2fa/settings/callbackSecret", json!({})).await;
    assert_eq!(status, 200, "{rotated}");
    let secret = rotated["callbackSigningSecret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(secret.len(), 64);
    api.send_ok(json!({"service": "C", "to": "+14155550213"}))
        .await;
    app.deliver().await;
    app.deliver().await;
    let got = rec.got.lock().unwrap().clone();
    assert_eq!(
        got.len(),
        1,
        "the delivered callback went to the default URL"
    );
    let (sig, body) = &got[0];
    let t: i64 = sig
        .split(',')
        .next()
        .unwrap()
        .trim_start_matches("t=")
        .parse()
        .unwrap();
    assert_eq!(
        sig,
        &crate::server::workers::callbacks::signature(&secret, t, body)
    );
    // Rotating again: the old secret no longer signs.
    let (_, again) = api.post("/2fa/settings/callbackSecret", json!({})).await;
    assert_ne!(
        again["callbackSigningSecret"],
        rotated["callbackSigningSecret"]
    );
}

async fn countries_refuse_sends_before_anything_is_charged(b: Backend) {
    let app = TestApp::start_with(b, |s| {
        s.allowed_countries.call = Some(vec!["US".into(), "CA".into()]);
    })
    .await;
    let parent = app.account("Parent").await;
    let sub = app.account_with_parent("Sub", Some(&parent.sid)).await;
    let api = app.api(&parent);

    // The operator's list for calls; SMS everywhere.
    let (status, c) = api.get("/2fa/settings/countries").await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["sms"], "all");
    assert_eq!(c["call"], json!(["CA", "US"]));
    assert_eq!(c["email"], "all");
    assert_eq!(
        c["sources"],
        json!({"sms": "default", "call": "server", "email": "default"})
    );
    let (status, e) = api
        .post(
            "/2fa/send",
            json!({"service": "S", "channel": "call", "to": "+447400123451"}),
        )
        .await;
    assert_eq!(
        (status, e["errorCode"].as_i64(), e["field"].as_str()),
        (403, Some(7011), Some("to")),
        "{e}"
    );
    let m = e["message"].as_str().unwrap();
    assert!(
        m.contains("GB") && m.contains("calls"),
        "names the country and channel: {m}"
    );

    // The account narrows SMS to GB and IE (codes in any case, as a list or a string).
    let (status, c) = api
        .post_method("PUT", "/2fa/settings/countries", json!({"sms": "gb, IE"}))
        .await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["sms"], json!(["GB", "IE"]));
    assert_eq!(c["sources"]["sms"], "account");
    // A limit that would be charged: a refused send does not touch it.
    let (status, l) = api
        .post(
            "/2fa/limits",
            json!({"name": "per_user", "buckets": [{"name": "hour", "maxOtp": 10, "interval": 3600}]}),
        )
        .await;
    assert_eq!(status, 201, "{l}");
    let (status, e) = api
        .post(
            "/2fa/send",
            json!({"service": "S", "to": "+14155550221", "limits": {"per_user": "u1"}}),
        )
        .await;
    assert_eq!((status, e["errorCode"].as_i64()), (403, Some(7011)), "{e}");
    assert!(e["message"].as_str().unwrap().contains("US"), "{e}");
    let (_, found) = api.get("/2fa/search?to=%2B14155550221").await;
    assert_eq!(found["total"], 0, "nothing recorded: {found}");
    let (_, usage) = api.get("/2fa/usage/records").await;
    assert_eq!(
        usage["usageRecords"]
            .as_array()
            .map(|r| r.iter().map(|x| x["count"].as_i64().unwrap()).sum::<i64>()),
        Some(0),
        "{usage}"
    );
    // GB goes through; a workflow that would call a GB number is refused as a whole.
    api.send_ok(json!({"service": "S", "to": "+447400123452"}))
        .await;
    let (status, e) = api
        .post(
            "/2fa/send",
            json!({"service": "S", "workflow": ["sms", "call"], "to": "+447400123453"}),
        )
        .await;
    assert_eq!((status, e["errorCode"].as_i64()), (403, Some(7011)), "{e}");
    // Email has no country.
    api.send_ok(json!({"service": "S", "channel": "email", "emailTo": "ana@example.com"}))
        .await;

    // The sub-account inherits the parent's SMS list, and its own call list wins.
    let sub_api = app.api(&sub);
    let (_, c) = sub_api.get("/2fa/settings/countries").await;
    assert_eq!(
        (c["sms"].clone(), c["sources"]["sms"].as_str()),
        (json!(["GB", "IE"]), Some("parent"))
    );
    let (status, c) = sub_api
        .post_method("PUT", "/2fa/settings/countries", json!({"call": "all"}))
        .await;
    assert_eq!((status, c["call"].clone()), (200, json!("all")));
    sub_api
        .send_ok(json!({"service": "S", "channel": "call", "to": "+447400123454"}))
        .await;
    // null: inherit again (here the operator's list).
    let (_, c) = sub_api
        .post_method("PUT", "/2fa/settings/countries", json!({"call": null}))
        .await;
    assert_eq!(c["sources"]["call"], "server");

    // Bad lists name their channel.
    for (body, field) in [
        (json!({"sms": ["GB", "XX"]}), "sms"),
        (json!({"call": "everywhere"}), "call"),
        (json!({"email": ["GB"]}), "email"),
    ] {
        let (status, e) = api
            .post_method("PUT", "/2fa/settings/countries", body.clone())
            .await;
        assert_eq!(
            (status, e["field"].as_str()),
            (400, Some(field)),
            "{body}: {e}"
        );
    }
    let (_, c) = api.get("/2fa/settings/countries").await;
    assert_eq!(
        c["sms"],
        json!(["GB", "IE"]),
        "unchanged by refused changes"
    );
    let (_, log) = api.get("/2fa/audit?action=countries.update").await;
    assert_eq!(log["entries"][0]["after"]["sms"], "GB,IE", "{log}");
}
