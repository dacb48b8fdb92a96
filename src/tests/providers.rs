//! Real delivery through Twilio- and Restcomm-shaped providers (a faithful fake on loopback):
//! what the provider receives, delivery receipts (signed, out of order, duplicated, early, bad),
//! voice documents, failover between providers and channels, gateways and webhooks, and the
//! provider resource itself.
use super::fake_cpaas::{say, FakeCpaas, Mode, Signing};
use super::harness::{Api, TestAccount, TestApp};
use crate::server::db::Backend;
use serde_json::{json, Value};

super::both_backends!(
    twilio_sms_is_sent_receipted_and_verified,
    receipts_move_forward_only_and_must_be_signed,
    a_receipt_before_the_providers_answer_still_finds_its_delivery,
    calls_fetch_a_voice_document_in_the_otps_language,
    calls_can_ask_for_a_key_before_the_code,
    restcomm_sms_calls_and_smpp_receipts,
    failover_to_the_next_provider_then_the_next_channel,
    http_gateway_and_webhook_deliver,
    a_hanging_provider_does_not_hold_up_other_accounts,
    providers_are_validated_and_keep_their_secrets,
    providers_route_by_country_and_sub_accounts_inherit,
);

async fn add_provider(api: &Api<'_>, body: Value) -> Value {
    let (status, p) = api.post("/2fa/providers", body).await;
    assert_eq!(status, 201, "{p}");
    p
}

async fn twilio(api: &Api<'_>, fake: &FakeCpaas, name: &str, priority: i64) -> Value {
    add_provider(
        api,
        json!({"kind": "twilio", "name": name, "channels": ["sms", "call"], "priority": priority, "config": fake.config()}),
    )
    .await
}

/// The SDR of an OTP.
async fn sdr(api: &Api<'_>, rid: &str) -> Value {
    let (status, s) = api.get(&format!("/2fa/search/{rid}")).await;
    assert_eq!(status, 200, "{s}");
    s
}

fn events(sdr: &Value, kind: &str) -> Vec<Value> {
    sdr["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == kind)
        .cloned()
        .collect()
}

/// The code in an SMS text.
fn code_in(text: &str) -> String {
    super::harness::extract_code(text)
}

async fn twilio_sms_is_sent_receipted_and_verified(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let api = app.api(&acc);
    let fake = FakeCpaas::start().await;
    let p = twilio(&api, &fake, "Twilio main", 10).await;
    let (status, sent) = api
        .post(
            "/2fa/send",
            json!({"service": "Shop", "to": "+14155550100"}),
        )
        .await;
    assert_eq!(status, 200, "{sent}");
    assert_eq!(
        sent["sandbox"], false,
        "a configured provider is not the sandbox"
    );
    let rid = sent["requestID"].as_str().unwrap().to_owned();
    assert_eq!(app.deliver().await, 1);

    let got = fake.received();
    assert_eq!(got.len(), 1);
    let r = &got[0];
    assert!(r.authorized, "HTTP Basic with the provider's credentials");
    assert!(r.path.ends_with(&format!(
        "/2010-04-01/Accounts/{}/Messages.json",
        fake.state.account_sid
    )));
    assert_eq!(r.get("To"), Some("+14155550100"));
    assert_eq!(r.get("From"), Some("+15005550006"));
    let body = r.get("Body").unwrap();
    assert!(body.starts_with("Your Shop code is "), "{body}");
    let callback = r.get("StatusCallback").unwrap().to_owned();
    assert!(
        callback.starts_with(&format!(
            "{}/2fa/providers/{}/status?d=",
            app.base,
            p["providerSid"].as_str().unwrap()
        )),
        "{callback}"
    );
    assert!(r
        .idempotency_key
        .as_deref()
        .is_some_and(|k| k.starts_with(&format!("{rid}-0-PR"))));

    let s = sdr(&api, &rid).await;
    assert_eq!(s["status"], "sent");
    assert_eq!(s["deliveryAttempts"][0]["provider"], "Twilio main");
    assert_eq!(s["deliveryAttempts"][0]["status"], "sent");
    assert_eq!(s["deliveryAttempts"][0]["providerSid"], r.sid.as_str());
    assert!(
        !s.to_string().contains(&code_in(body)),
        "never the code in the SDR"
    );

    // The receipt, signed as Twilio signs it.
    let status = fake
        .callback(
            &callback,
            &[
                ("MessageSid", &r.sid),
                ("MessageStatus", "delivered"),
                ("AccountSid", &fake.state.account_sid),
            ],
            Signing::Valid,
        )
        .await;
    assert_eq!(status, 204);
    let s = sdr(&api, &rid).await;
    assert_eq!(s["status"], "delivered");
    assert!(s["deliveredAt"].is_string());
    assert_eq!(s["deliveryAttempts"][0]["status"], "delivered");
    let reports = events(&s, "delivery_report");
    assert_eq!(reports.last().unwrap()["detail"]["reported"], "delivered");
    assert_eq!(reports.last().unwrap()["detail"]["provider"], "Twilio main");

    let (status, v) = api
        .post(
            "/2fa/verify",
            json!({"requestID": rid, "code": code_in(body)}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
}

async fn receipts_move_forward_only_and_must_be_signed(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let api = app.api(&acc);
    let fake = FakeCpaas::start().await;
    twilio(&api, &fake, "tw", 10).await;
    let rid = api
        .send_ok(json!({"service": "S", "to": "+14155550101"}))
        .await;
    app.deliver().await;
    let r = fake.received().remove(0);
    let cb = r.get("StatusCallback").unwrap().to_owned();
    let fields = |status: &'static str| {
        vec![
            ("MessageSid", r.sid.clone()),
            ("MessageStatus", status.to_owned()),
        ]
    };
    let post = |status: &'static str, signing| {
        let (fake, cb, f) = (&fake, cb.clone(), fields(status));
        async move {
            let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            fake.callback(&cb, &f, signing).await
        }
    };
    // A wrong or missing signature: refused and recorded; nothing moves.
    assert_eq!(post("delivered", Signing::WrongToken).await, 403);
    assert_eq!(post("delivered", Signing::Missing).await, 403);
    let s = sdr(&api, &rid).await;
    assert_eq!(s["status"], "sent");
    assert_eq!(events(&s, "receipt_refused").len(), 2, "{s}");
    // In order, duplicated, then late: only forward. The provider's answer already made the
    // attempt `sent`, so its `sent` receipt is a duplicate.
    assert_eq!(post("sent", Signing::Valid).await, 204);
    assert_eq!(post("delivered", Signing::Valid).await, 204);
    assert_eq!(post("delivered", Signing::Valid).await, 204);
    assert_eq!(post("sent", Signing::Valid).await, 204);
    assert_eq!(post("undelivered", Signing::Valid).await, 204);
    let s = sdr(&api, &rid).await;
    assert_eq!(s["status"], "delivered");
    assert_eq!(s["deliveryAttempts"][0]["status"], "delivered");
    let statuses: Vec<String> = events(&s, "delivery_report")
        .iter()
        .map(|e| e["detail"]["status"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        statuses,
        ["ignored", "delivered", "ignored", "ignored", "ignored"]
    );
    // Unknown deliveries and providers: 404.
    let unknown =
        cb.split("?d=").next().unwrap().to_owned() + "?d=00000000000000000000000000000000";
    assert_eq!(
        fake.callback(
            &unknown,
            &[("MessageSid", "SMnope"), ("MessageStatus", "delivered")],
            Signing::Valid
        )
        .await,
        404
    );
    let res = app
        .http
        .post(app.url("/2fa/providers/PR00000000000000000000000000000000/status"))
        .form(&[("MessageStatus", "delivered")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

async fn a_receipt_before_the_providers_answer_still_finds_its_delivery(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let api = app.api(&acc);
    let fake = FakeCpaas::start().await;
    twilio(&api, &fake, "tw", 10).await;
    fake.set_mode(Mode::ReceiptFirst("delivered"));
    let rid = api
        .send_ok(json!({"service": "S", "to": "+14155550102"}))
        .await;
    app.deliver().await;
    let s = sdr(&api, &rid).await;
    assert_eq!(s["status"], "delivered", "{s}");
    assert_eq!(s["deliveryAttempts"].as_array().unwrap().len(), 1);
    assert_eq!(
        s["deliveryAttempts"][0]["status"], "delivered",
        "the answer does not undo the receipt"
    );
    assert_eq!(
        s["deliveryAttempts"][0]["providerSid"],
        fake.received()[0].sid.as_str()
    );

    // In a workflow, the answer after a `delivered` receipt still records the attempt and
    // starts the timer for the next channel.
    let rid = api
        .send_ok(json!({"service": "S", "workflow": ["sms", "email"], "to": "+14155550112", "emailTo": "ana@example.com", "workflowTimeout": 30}))
        .await;
    app.deliver().await;
    let s = sdr(&api, &rid).await;
    assert_eq!(s["status"], "delivered", "{s}");
    assert_eq!(events(&s, "attempt_sent").len(), 1, "{s}");
    app.clock.advance_ms(31_000);
    assert!(app.deliver().await >= 1, "the workflow timer fired");
    let s = sdr(&api, &rid).await;
    assert_eq!(s["channel"], "email", "{s}");

    // An `undelivered` receipt before the answer: the next provider takes over, and the late
    // answer neither marks the OTP sent nor starts a timer for the failed attempt.
    let backup = FakeCpaas::start().await;
    twilio(&api, &backup, "backup", 20).await;
    fake.set_mode(Mode::ReceiptFirst("undelivered"));
    let rid = api
        .send_ok(json!({"service": "S", "workflow": ["sms", "email"], "to": "+14155550113", "emailTo": "bo@example.com", "workflowTimeout": 30}))
        .await;
    app.deliver().await;
    app.deliver().await;
    assert_eq!(backup.received().len(), 1);
    let s = sdr(&api, &rid).await;
    assert_eq!(s["status"], "sent", "{s}");
    let sent = events(&s, "attempt_sent");
    assert_eq!(sent.len(), 1, "only the backup's: {s}");
    assert_eq!(sent[0]["detail"]["provider"], "backup", "{s}");
    let attempts = s["deliveryAttempts"].as_array().unwrap();
    assert_eq!(
        (
            attempts[0]["status"].as_str(),
            attempts[1]["status"].as_str()
        ),
        (Some("undelivered"), Some("sent")),
        "{s}"
    );
    // The workflow's timer: 30 s after the backup took it, email; not before.
    app.clock.advance_ms(29_000);
    app.deliver().await;
    assert_eq!(sdr(&api, &rid).await["channel"], "sms");
    app.clock.advance_ms(2_000);
    app.deliver().await;
    assert_eq!(sdr(&api, &rid).await["channel"], "email");
}

async fn calls_fetch_a_voice_document_in_the_otps_language(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let api = app.api(&acc);
    let fake = FakeCpaas::start().await;
    twilio(&api, &fake, "tw", 10).await;
    let rid = api
        .send_ok(json!({"service": "Bank", "channel": "call", "to": "+14155550103", "language": "awspolly.ja-JP", "repeat": 3}))
        .await;
    app.deliver().await;
    let r = fake.received().remove(0);
    assert!(r.path.ends_with("/Calls.json"));
    assert_eq!(
        r.all("StatusCallbackEvent"),
        ["initiated", "ringing", "answered", "completed"]
    );
    let voice_url = r.get("Url").unwrap().to_owned();
    assert!(voice_url.starts_with(&format!("{}/2fa/voice/", app.base)));
    let doc = fake.fetched().remove(0);
    assert_eq!(doc.status, 200);
    assert_eq!(doc.cache_control.as_deref(), Some("no-store"));
    let (voice, language, repeat, text) = say(&doc.body);
    assert_eq!(
        (voice.as_str(), language.as_str(), repeat.as_str()),
        ("Polly.Mizuki", "ja-JP", "3")
    );
    // In the built-in Japanese template of the OTP's language.
    assert!(text.starts_with("Bankの認証コードは、"), "{text}");
    let digits: String = text.chars().filter(|c| c.is_ascii_digit()).collect();
    assert_eq!(digits.len(), 6);
    assert!(text.contains(", "), "digit by digit: {text}");
    // The token is bound to the OTP: dead once it is final.
    let (status, _) = api
        .post("/2fa/verify", json!({"requestID": rid, "code": digits}))
        .await;
    assert_eq!(status, 200);
    let res = app.http.get(&voice_url).send().await.unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let res = app
        .http
        .get(app.url("/2fa/voice/nottoken"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    // A language no engine speaks is refused at send, naming `language`.
    let (status, e) = api
        .post(
            "/2fa/send",
            json!({"service": "Bank", "channel": "call", "to": "+14155550104", "language": "tlh"}),
        )
        .await;
    assert_eq!(
        (status, e["errorCode"].as_i64(), e["field"].as_str()),
        (400, Some(7004), Some("language")),
        "{e}"
    );
    let (status, e) = api
        .post("/2fa/send", json!({"service": "Bank", "channel": "call", "to": "+14155550104", "language": "awspolly.tr-TR", "voice": "man"}))
        .await;
    assert_eq!(
        (status, e["field"].as_str()),
        (400, Some("language")),
        "{e}"
    );
}

/// An account may have calls say "press any key to hear your code" first: voicemail (no key)
/// hears no code; a person presses a key and hears it. Sub-accounts inherit the choice.
async fn calls_can_ask_for_a_key_before_the_code(b: Backend) {
    let app = TestApp::start(b).await;
    let parent = app.account("Parent").await;
    let sub = app.account_with_parent("Sub", Some(&parent.sid)).await;
    let api = app.api(&parent);
    let (status, s) = api.get("/2fa/settings").await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(
        (
            s["voicePressKey"].as_bool(),
            s["voicePressKeySource"].as_str()
        ),
        (Some(false), Some("default"))
    );
    let (status, s) = api
        .post_method("PUT", "/2fa/settings", json!({"voicePressKey": true}))
        .await;
    assert_eq!(
        (
            status,
            s["voicePressKey"].as_bool(),
            s["voicePressKeySource"].as_str()
        ),
        (200, Some(true), Some("account")),
        "{s}"
    );
    let (status, e) = api
        .post_method(
            "PUT",
            "/2fa/settings",
            json!({"voicePressKey": "sometimes"}),
        )
        .await;
    assert_eq!(
        (status, e["field"].as_str()),
        (400, Some("voicePressKey")),
        "{e}"
    );
    // The sub-account uses its parent's providers and its choice.
    let (_, s) = app.api(&sub).get("/2fa/settings").await;
    assert_eq!(
        (
            s["voicePressKey"].as_bool(),
            s["voicePressKeySource"].as_str()
        ),
        (Some(true), Some("parent")),
        "{s}"
    );
    let fake = FakeCpaas::start().await;
    twilio(&api, &fake, "tw", 10).await;
    let rid = app
        .api(&sub)
        .send_ok(json!({"service": "Bank", "channel": "call", "to": "+14155550105", "language": "en-GB"}))
        .await;
    app.deliver().await;
    let fetched = fake.fetched();
    assert_eq!(
        fetched.len(),
        2,
        "the prompt, then (a key pressed) the code"
    );
    // First the prompt: no digit of the code in it.
    let doc = roxmltree::Document::parse(&fetched[0].body).unwrap();
    let gather = doc
        .descendants()
        .find(|n| n.has_tag_name("Gather"))
        .expect("a <Gather>");
    assert_eq!(gather.attribute("numDigits"), Some("1"));
    let prompt = gather
        .descendants()
        .find(|n| n.has_tag_name("Say"))
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(prompt, "Press any key to hear your code.");
    let after = doc
        .root_element()
        .children()
        .rfind(|n| n.has_tag_name("Say"))
        .unwrap();
    assert_eq!(
        after.text(),
        Some("No key was pressed. Goodbye."),
        "voicemail hears a goodbye, no code"
    );
    let r = fake.received().remove(0);
    let voice_url = r.get("Url").unwrap();
    assert_eq!(
        gather.attribute("action"),
        Some(format!("{voice_url}?pressed=1").as_str())
    );
    // Then the code.
    let (_, language, _, text) = say(&fetched[1].body);
    assert_eq!(language, "en-GB");
    let digits: String = text.chars().filter(|c| c.is_ascii_digit()).collect();
    let spoken = text.split("code is ").nth(1).unwrap();
    assert!(
        !fetched[0].body.contains("code is")
            && !fetched[0].body.contains(spoken.trim_end_matches('.')),
        "the prompt says no code: {}",
        fetched[0].body
    );
    let (status, v) = app
        .api(&sub)
        .post("/2fa/verify", json!({"requestID": rid, "code": digits}))
        .await;
    assert_eq!(status, 200, "{v}");
    // The sub-account turns it off for itself; null goes back to the parent's.
    let (_, s) = app
        .api(&sub)
        .post_method("PUT", "/2fa/settings", json!({"voicePressKey": false}))
        .await;
    assert_eq!(
        (
            s["voicePressKey"].as_bool(),
            s["voicePressKeySource"].as_str()
        ),
        (Some(false), Some("account"))
    );
    let (_, s) = app
        .api(&sub)
        .post_method("PUT", "/2fa/settings", json!({"voicePressKey": null}))
        .await;
    assert_eq!(
        (
            s["voicePressKey"].as_bool(),
            s["voicePressKeySource"].as_str()
        ),
        (Some(true), Some("parent"))
    );
}

async fn restcomm_sms_calls_and_smpp_receipts(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let api = app.api(&acc);
    let fake = FakeCpaas::start().await;
    add_provider(
        &api,
        json!({"kind": "restcomm", "name": "rc", "channels": ["sms", "call"], "config": fake.config()}),
    )
    .await;
    let rid = api
        .send_ok(json!({"service": "S", "to": "+14155550105"}))
        .await;
    app.deliver().await;
    let r = fake.received().remove(0);
    assert!(
        r.path.ends_with(&format!(
            "/restcomm/2012-04-24/Accounts/{}/SMS/Messages.json",
            fake.state.account_sid
        )),
        "{}",
        r.path
    );
    // Restcomm does not sign: the token in our URL is what authenticates a receipt.
    let cb = r.get("StatusCallback").unwrap().to_owned();
    assert_eq!(
        fake.callback(
            &cb,
            &[("SmsSid", &r.sid), ("SmsStatus", "DELIVRD")],
            Signing::Missing
        )
        .await,
        204
    );
    assert_eq!(sdr(&api, &rid).await["status"], "delivered");

    // A call in Brazilian Portuguese: RCML with Restcomm's short language code.
    api.send_ok(json!({"service": "S", "channel": "call", "to": "+14155550106", "language": "pt-BR", "voice": "man"}))
        .await;
    app.deliver().await;
    let (voice, language, repeat, _) = say(&fake.fetched().remove(0).body);
    assert_eq!(
        (voice.as_str(), language.as_str(), repeat.as_str()),
        ("man", "bp", "2")
    );
    let calls = fake.received();
    assert_eq!(
        calls[1].get("StatusCallbackEvent"),
        Some("initiated ringing answered completed")
    );
}

async fn failover_to_the_next_provider_then_the_next_channel(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let api = app.api(&acc);
    let first = FakeCpaas::start().await;
    let second = FakeCpaas::start().await;
    twilio(&api, &first, "first", 1).await;
    twilio(&api, &second, "second", 2).await;
    // The first refuses for good: the second of the same channel delivers.
    first.set_mode(Mode::Reject(
        400,
        21211,
        "The 'To' number is not a valid phone number.",
    ));
    let rid = api
        .send_ok(json!({"service": "S", "to": "+14155550107"}))
        .await;
    app.deliver().await;
    app.deliver().await;
    assert_eq!(second.received().len(), 1);
    let s = sdr(&api, &rid).await;
    assert_eq!(s["status"], "sent");
    let attempts = s["deliveryAttempts"].as_array().unwrap();
    assert_eq!(
        (
            attempts[0]["provider"].as_str(),
            attempts[0]["status"].as_str()
        ),
        (Some("first"), Some("failed"))
    );
    assert!(
        attempts[0]["error"].as_str().unwrap().contains("21211"),
        "{}",
        attempts[0]
    );
    assert_eq!(
        (
            attempts[1]["provider"].as_str(),
            attempts[1]["status"].as_str()
        ),
        (Some("second"), Some("sent"))
    );
    let failover = events(&s, "failover");
    assert_eq!(
        (
            failover[0]["detail"]["from"].as_str(),
            failover[0]["detail"]["to"].as_str()
        ),
        (Some("first"), Some("second"))
    );

    // The second reports it undelivered: no SMS provider is left, so the workflow's next
    // channel (email, through the sandbox here) takes over.
    let rid = api
        .send_ok(json!({"service": "S", "workflow": ["sms", "email"], "to": "+14155550108", "emailTo": "ana@example.com"}))
        .await;
    app.deliver().await;
    app.deliver().await;
    let r = second.received().pop().unwrap();
    assert_eq!(r.get("To"), Some("+14155550108"));
    let cb = r.get("StatusCallback").unwrap().to_owned();
    let status = second
        .callback(
            &cb,
            &[
                ("MessageSid", &r.sid),
                ("MessageStatus", "undelivered"),
                ("ErrorCode", "30003"),
            ],
            Signing::Valid,
        )
        .await;
    assert_eq!(status, 204);
    app.deliver().await;
    let s = sdr(&api, &rid).await;
    assert_eq!(s["channel"], "email", "{s}");
    assert_eq!(s["status"], "delivered");
    let fallback = events(&s, "fallback");
    assert_eq!(fallback[0]["detail"]["to"], "email");
    assert!(fallback[0]["detail"]["reason"].as_str().is_some());
    let (_, outbox) = api
        .get(&format!("/2fa/sandbox/messages?requestID={rid}"))
        .await;
    assert_eq!(outbox["messages"][0]["channel"], "email");

    // Transient failures (429) are retried on the same provider, then counted as failed.
    second.set_mode(Mode::Reject(429, 20429, "Too Many Requests"));
    let rid = api
        .send_ok(json!({"service": "T", "to": "+14155550109"}))
        .await;
    app.deliver().await;
    let s = sdr(&api, &rid).await;
    assert_eq!(events(&s, "delivery_retry").len(), 1, "{s}");
}

async fn http_gateway_and_webhook_deliver(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let api = app.api(&acc);
    let hook = Receiver::start().await;
    add_provider(
        &api,
        json!({"kind": "http", "name": "gw", "channels": ["sms"], "config": {
            "url": format!("{}/gw?key=k1", hook.base), "method": "POST", "contentType": "json",
            "headers": {"X-Api-Key": "gw-secret-1234"},
            "bodyTemplate": "{\"to\":\"{to}\",\"text\":\"{text}\",\"ref\":\"{requestID}\"}",
            "messageIdPath": "data.id"}}),
    )
    .await;
    add_provider(
        &api,
        json!({"kind": "webhook", "name": "hook", "channels": ["email"], "config": {"url": format!("{}/hook", hook.base)}}),
    )
    .await;
    let (_, rotated) = api.post("/2fa/settings/callbackSecret", json!({})).await;
    let secret = rotated["callbackSigningSecret"]
        .as_str()
        .unwrap()
        .to_owned();
    let rid = api
        .send_ok(json!({"service": "S", "to": "+14155550110"}))
        .await;
    let rid2 = api
        .send_ok(json!({"service": "S", "channel": "email", "emailTo": "ana@example.com"}))
        .await;
    app.deliver().await;
    let got = hook.received();
    let gw = got.iter().find(|r| r.0.starts_with("/gw")).unwrap();
    assert_eq!(
        gw.1.get("x-api-key").map(String::as_str),
        Some("gw-secret-1234")
    );
    let body: Value = serde_json::from_str(&gw.2).unwrap();
    assert_eq!(body["to"], "+14155550110");
    assert_eq!(body["ref"], rid.as_str());
    assert!(body["text"].as_str().unwrap().starts_with("Your S code is"));
    assert_eq!(
        sdr(&api, &rid).await["deliveryAttempts"][0]["providerSid"],
        "gw-msg-1"
    );

    let wh = got.iter().find(|r| r.0 == "/hook").unwrap();
    let body: Value = serde_json::from_str(&wh.2).unwrap();
    assert_eq!(
        (
            body["channel"].as_str(),
            body["emailTo"].as_str(),
            body["requestID"].as_str()
        ),
        (Some("email"), Some("ana@example.com"), Some(rid2.as_str()))
    );
    // Signed like status callbacks, with the account's callback secret.
    let secret = secret.as_str();
    let sig = wh.1.get("x-smart2fa-signature").unwrap();
    let t: i64 = sig
        .split(',')
        .next()
        .unwrap()
        .trim_start_matches("t=")
        .parse()
        .unwrap();
    assert_eq!(
        sig,
        &crate::server::workers::callbacks::signature(secret, t, &wh.2)
    );
    // The gateway's header value is a secret: shown masked.
    let (_, list) = api.get("/2fa/providers").await;
    let gw = list["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "gw")
        .unwrap()
        .clone();
    assert_eq!(gw["config"]["headers"]["X-Api-Key"], "••••1234");
}

/// A request as received: path, headers, body.
type Request = (String, std::collections::HashMap<String, String>, String);

/// A small HTTP endpoint that records requests (path, headers, body) and answers a JSON id.
struct Receiver {
    base: String,
    got: std::sync::Arc<std::sync::Mutex<Vec<Request>>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Receiver {
    async fn start() -> Receiver {
        let got: std::sync::Arc<std::sync::Mutex<Vec<_>>> = Default::default();
        let store = got.clone();
        let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
            let store = store.clone();
            async move {
                let path = req.uri().to_string();
                let headers = req
                    .headers()
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.as_str().to_owned(),
                            v.to_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect();
                let body = axum::body::to_bytes(req.into_body(), 1 << 20)
                    .await
                    .unwrap();
                store.lock().unwrap().push((
                    path,
                    headers,
                    String::from_utf8_lossy(&body).into_owned(),
                ));
                axum::Json(json!({"data": {"id": "gw-msg-1"}, "id": "hook-1"}))
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver { base, got, server }
    }

    fn received(&self) -> Vec<(String, std::collections::HashMap<String, String>, String)> {
        self.got.lock().unwrap().clone()
    }
}

async fn a_hanging_provider_does_not_hold_up_other_accounts(b: Backend) {
    let app = TestApp::start_with(b, |s| s.provider_timeout_secs = 3).await;
    let hanging = app.account("Slow").await;
    let honest = app.account("Honest").await;
    let fake = FakeCpaas::start().await;
    fake.set_mode(Mode::Hang(std::time::Duration::from_secs(30)));
    twilio(&app.api(&hanging), &fake, "stuck", 10).await;
    crate::server::workers::spawn(app.state.clone());
    for i in 0..3 {
        app.api(&hanging)
            .send_ok(json!({"service": "S", "to": format!("+1415555012{i}")}))
            .await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(fake.received().len(), 3, "the slow calls are in flight");
    let started = std::time::Instant::now();
    let rid = app
        .api(&honest)
        .send_ok(json!({"service": "S", "to": "+14155550130"}))
        .await;
    let (_, outbox) = app
        .api(&honest)
        .get(&format!("/2fa/sandbox/messages?requestID={rid}&wait=10"))
        .await;
    assert_eq!(outbox["messages"].as_array().unwrap().len(), 1);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "another account's delivery waited {:?} behind the hanging provider",
        started.elapsed()
    );
}

async fn providers_are_validated_and_keep_their_secrets(b: Backend) {
    let app = TestApp::start(b).await;
    let acc: TestAccount = app.account("Acme").await;
    let api = app.api(&acc);
    let fake = FakeCpaas::start().await;
    let p = twilio(&api, &fake, "tw", 10).await;
    let sid = p["providerSid"].as_str().unwrap().to_owned();
    assert!(sid.starts_with("PR"));
    let token = fake.state.token.clone();
    assert_eq!(
        p["config"]["authToken"],
        format!("••••{}", &token[token.len() - 4..])
    );
    assert!(!p.to_string().contains(&token));
    assert!(
        !super::harness::dump_table(app.state.db(), "providers")
            .await
            .contains(&token),
        "sealed at rest"
    );
    // A change without the token keeps it (deliveries still authenticate).
    let mut config = fake.config();
    config["authToken"] = json!("");
    let (status, changed) = api
        .post_method(
            "PUT",
            &format!("/2fa/providers/{sid}"),
            json!({"kind": "twilio", "name": "tw renamed", "channels": ["sms"], "config": config}),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["name"], "tw renamed");
    api.send_ok(json!({"service": "S", "to": "+14155550140"}))
        .await;
    app.deliver().await;
    assert!(fake.received()[0].authorized);
    // Errors name the field.
    for (body, field, code) in [
        (
            json!({"kind": "fax", "name": "x", "channels": ["sms"], "config": {}}),
            "kind",
            7004,
        ),
        (
            json!({"kind": "smtp", "name": "x", "channels": ["sms"], "config": {"host": "mail.example.com", "fromAddress": "a@example.com"}}),
            "channels",
            7004,
        ),
        (
            json!({"kind": "twilio", "name": "x", "channels": ["sms"], "config": {"baseUrl": "ftp://x", "accountSid": "AC1", "authToken": "t", "from": "+15005550006"}}),
            "config.baseUrl",
            7004,
        ),
        (
            json!({"kind": "twilio", "name": "x", "channels": ["sms"], "config": {"baseUrl": "https://api.example.com", "accountSid": "AC1", "from": "+15005550006"}}),
            "config.authToken",
            7004,
        ),
        (
            json!({"kind": "twilio", "name": "x", "channels": ["sms"], "countries": ["USA"], "config": fake.config()}),
            "countries",
            7004,
        ),
        (
            json!({"kind": "twilio", "name": "tw renamed", "channels": ["sms"], "config": fake.config()}),
            "name",
            7050,
        ),
        (
            json!({"kind": "smtp", "name": "m", "channels": ["email"], "config": {"host": "mail.example.com", "fromAddress": "not-an-address"}}),
            "config.fromAddress",
            7010,
        ),
    ] {
        let (status, e) = api.post("/2fa/providers", body.clone()).await;
        assert!(status == 400 || status == 409, "{body}: {e}");
        assert_eq!(
            (e["field"].as_str(), e["errorCode"].as_i64()),
            (Some(field), Some(code)),
            "{body}: {e}"
        );
    }
    // Another account sees none of it.
    let other = app.account("Globex").await;
    let (status, _) = app.api(&other).get(&format!("/2fa/providers/{sid}")).await;
    assert_eq!(status, 404);
    let (status, _) = api
        .post_method("DELETE", &format!("/2fa/providers/{sid}"), json!({}))
        .await;
    assert_eq!(status, 204);
    let (_, sent) = api
        .post("/2fa/send", json!({"service": "S", "to": "+14155550141"}))
        .await;
    assert_eq!(sent["sandbox"], true, "back to the sandbox");

    // With the outbound guard on, internal addresses are refused when written.
    let guarded = TestApp::start_with(b, |s| s.allow_private_outbound = false).await;
    let acc = guarded.account("Acme").await;
    let api = guarded.api(&acc);
    let (status, e) = api
        .post(
            "/2fa/providers",
            json!({"kind": "twilio", "name": "x", "channels": ["sms"], "config": fake.config()}),
        )
        .await;
    assert_eq!(
        (status, e["field"].as_str()),
        (400, Some("config.baseUrl")),
        "{e}"
    );
    assert!(e["message"].as_str().unwrap().contains("private"), "{e}");
    let (status, e) = api
        .post("/2fa/send", json!({"service": "S", "to": "+14155550142", "statusCallback": format!("{}/healthz", guarded.base)}))
        .await;
    assert_eq!(
        (status, e["field"].as_str()),
        (400, Some("statusCallback")),
        "{e}"
    );
}

async fn providers_route_by_country_and_sub_accounts_inherit(b: Backend) {
    let app = TestApp::start(b).await;
    let parent = app.account("Parent").await;
    let sub = app.account_with_parent("Sub", Some(&parent.sid)).await;
    let api = app.api(&parent);
    let uk = FakeCpaas::start().await;
    let rest = FakeCpaas::start().await;
    add_provider(&api, json!({"kind": "twilio", "name": "uk", "channels": ["sms"], "countries": ["GB"], "priority": 1, "config": uk.config()})).await;
    add_provider(&api, json!({"kind": "twilio", "name": "rest", "channels": ["sms"], "priority": 2, "config": rest.config()})).await;
    api.send_ok(json!({"service": "S", "to": "+442079460958"}))
        .await;
    api.send_ok(json!({"service": "S", "to": "+14155550150"}))
        .await;
    // The sub-account has none of its own: its parent's are used.
    let (_, sent) = app
        .api(&sub)
        .post("/2fa/send", json!({"service": "S", "to": "+442079460959"}))
        .await;
    assert_eq!(sent["sandbox"], false, "{sent}");
    app.deliver().await;
    // Deliveries run in parallel: the order they arrive in is not theirs to keep.
    let to = |fake: &FakeCpaas| {
        let mut to = fake
            .received()
            .iter()
            .map(|r| r.get("To").unwrap().to_owned())
            .collect::<Vec<_>>();
        to.sort();
        to
    };
    assert_eq!(to(&uk), ["+442079460958", "+442079460959"]);
    assert_eq!(to(&rest), ["+14155550150"]);
    // Email is configured nowhere: the sandbox.
    let (_, sent) = api
        .post(
            "/2fa/send",
            json!({"service": "S", "channel": "email", "emailTo": "a@example.com"}),
        )
        .await;
    assert_eq!(sent["sandbox"], true);
}
