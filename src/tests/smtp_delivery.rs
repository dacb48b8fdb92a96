//! Email through a real SMTP server (aiosmtpd on 127.0.0.1, see `smtp.rs`), driven through the
//! REST API as an integrator would: an smtp provider, an OTP by email, the message the server
//! received (headers, both parts, the code), the verification, and what the SDR shows.
use super::harness::{extract_code, Api, TestApp};
use super::smtp::{available, within, Mode, SmtpServer};
use crate::server::db::Backend;
use serde_json::{json, Value};

super::both_backends!(
    smtp_plain_delivers_the_code_in_both_parts,
    smtp_starttls_with_login,
    smtp_implicit_tls_trusts_only_the_given_certificate,
    smtp_wrong_password_is_reported_and_fails_over,
    smtp_refused_recipients_fail_or_retry,
    smtp_crlf_in_subject_never_reaches_the_server,
    smtp_a_timeout_does_not_spoil_the_next_message,
    smtp_never_connects_to_an_internal_address_unless_allowed,
);

/// Bound on each test (the whole suite shares two cores).
const SECS: u64 = 120;

const FROM: &str = "no-reply@acme.test";

/// An smtp provider for the account's email: its sid.
async fn smtp_provider(
    api: &Api<'_>,
    name: &str,
    server: &SmtpServer,
    security: &str,
    login: Option<(&str, &str)>,
    priority: i64,
) -> String {
    let (status, body) = api
        .post(
            "/2fa/providers",
            provider_body(name, server, security, login, priority),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    if let Some((_, password)) = login {
        let masked = body["config"]["password"].as_str().unwrap();
        assert!(!masked.contains(password), "the password came back: {body}");
    }
    body["providerSid"].as_str().unwrap().to_owned()
}

fn provider_body(
    name: &str,
    server: &SmtpServer,
    security: &str,
    login: Option<(&str, &str)>,
    priority: i64,
) -> Value {
    let mut config = json!({
        "host": "127.0.0.1",
        "port": server.port,
        "security": security,
        "fromAddress": FROM,
        "fromName": "Acme Security",
    });
    if let Some((user, password)) = login {
        config["username"] = json!(user);
        config["password"] = json!(password);
    }
    json!({"kind": "smtp", "name": name, "channels": ["email"], "priority": priority, "config": config})
}

/// `POST /2fa/providers/{sid}/test` to an address; the answer (always 200).
async fn test_message(api: &Api<'_>, sid: &str, to: &str) -> Value {
    let (status, body) = api
        .post(
            &format!("/2fa/providers/{sid}/test"),
            json!({"emailTo": to}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn sdr(api: &Api<'_>, rid: &str) -> Value {
    let (status, body) = api.get(&format!("/2fa/search/{rid}")).await;
    assert_eq!(status, 200, "{body}");
    body
}

fn events<'a>(sdr: &'a Value, kind: &str) -> Vec<&'a Value> {
    sdr["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == kind)
        .collect()
}

async fn verify(api: &Api<'_>, rid: &str, code: &str) -> u16 {
    let (status, _) = api
        .post("/2fa/verify", json!({"requestID": rid, "code": code}))
        .await;
    status
}

/// The OTP email as the server got it: From with the name, To, Subject, a text and an HTML
/// part with the code in both. The code.
fn check_otp_email(m: &super::smtp::Received, to: &str) -> String {
    assert_eq!(m.mail_from, FROM);
    assert_eq!(m.rcpt_tos, vec![to.to_owned()]);
    assert_eq!(m.header("From"), format!("Acme Security <{FROM}>"));
    assert_eq!(m.header("To"), to);
    assert_eq!(m.header("Subject"), "Your Shop code");
    assert!(m
        .header("Content-Type")
        .starts_with("multipart/alternative"));
    assert!(m.header("Message-ID").ends_with("@acme.test>"));
    let text = m.part("text/plain");
    let code = extract_code(text);
    assert_eq!(code.len(), 6, "{text}");
    assert!(code.bytes().all(|b| b.is_ascii_digit()), "{text}");
    assert!(text.contains("It expires in"), "{text}");
    let html = m.part("text/html");
    assert!(html.contains(&format!("code is {code}.")), "{html}");
    assert!(html.contains("<p>"), "{html}");
    code
}

async fn smtp_plain_delivers_the_code_in_both_parts(b: Backend) {
    if !available() {
        return;
    }
    within(SECS, async {
        let smtp = SmtpServer::plain().await;
        let app = TestApp::start(b).await;
        let acc = app.account("Acme").await;
        let api = app.api(&acc);
        smtp_provider(&api, "Office relay", &smtp, "none", None, 10).await;

        let rid = api
            .send_ok(json!({"service": "Shop", "channel": "email", "emailTo": "ana@example.com"}))
            .await;
        assert_eq!(app.deliver().await, 1);
        let got = smtp.wait_for(1).await;
        assert_eq!(got.len(), 1, "one message");
        let m = &got[0];
        assert!(!m.tls);
        assert_eq!(m.auth_login, None);
        let code = check_otp_email(m, "ana@example.com");

        // The SDR shows the attempt through the provider, and never the code.
        let before = sdr(&api, &rid).await;
        assert_eq!(before["status"], "sent", "{before}");
        let attempts = before["deliveryAttempts"].as_array().unwrap();
        assert_eq!(attempts.len(), 1, "{before}");
        assert_eq!(attempts[0]["provider"], "Office relay");
        assert_eq!(attempts[0]["channel"], "email");
        assert_eq!(attempts[0]["status"], "sent");
        assert_eq!(attempts[0]["error"], Value::Null);
        assert!(
            attempts[0]["providerSid"]
                .as_str()
                .unwrap()
                .starts_with("250 "),
            "{before}"
        );
        let sent = events(&before, "attempt_sent");
        assert_eq!(sent.len(), 1, "{before}");
        assert_eq!(sent[0]["detail"]["provider"], "Office relay");
        assert!(
            !before.to_string().contains(&code),
            "the code is in the SDR"
        );

        assert_eq!(verify(&api, &rid, &code).await, 200);
        let after = sdr(&api, &rid).await;
        assert_eq!(after["status"], "verified");
        assert!(!after.to_string().contains(&code), "the code is in the SDR");
        // Nothing else went out.
        assert_eq!(smtp.received().len(), 1);
    })
    .await
}

async fn smtp_starttls_with_login(b: Backend) {
    if !available() {
        return;
    }
    within(SECS, async {
        let smtp = SmtpServer::start(Mode::Starttls, Some(("mailer", "s3cret-pass"))).await;
        let cert = smtp.certificate();
        let app = TestApp::start_with(b, |s| s.tls_extra_roots = Some(cert)).await;
        let acc = app.account("Acme").await;
        let api = app.api(&acc);
        let sid = smtp_provider(
            &api,
            "Submission",
            &smtp,
            "starttls",
            Some(("mailer", "s3cret-pass")),
            10,
        )
        .await;

        // The provider's test message goes through the same way.
        let t = test_message(&api, &sid, "ops@example.com").await;
        assert_eq!(
            (t["accepted"].clone(), t["status"].clone()),
            (json!(true), json!("sent")),
            "{t}"
        );
        let got = smtp.wait_for(1).await;
        assert_eq!(got[0].rcpt_tos, vec!["ops@example.com".to_owned()]);
        assert_eq!(got[0].header("Subject"), "smart2fa test message");
        assert!(got[0].part("text/plain").contains("through Submission"));

        let rid = api
            .send_ok(json!({"service": "Shop", "channel": "email", "emailTo": "ana@example.com"}))
            .await;
        assert_eq!(app.deliver().await, 1);
        let got = smtp.wait_for(2).await;
        assert_eq!(got.len(), 2, "{:?}", smtp.log());
        for m in &got {
            assert!(m.tls, "not encrypted: {m:?}");
            assert_eq!(m.auth_login.as_deref(), Some("mailer"));
        }
        let code = check_otp_email(&got[1], "ana@example.com");
        let s = sdr(&api, &rid).await;
        assert_eq!(s["deliveryAttempts"][0]["status"], "sent", "{s}");
        assert_eq!(s["deliveryAttempts"][0]["provider"], "Submission");
        assert!(!s.to_string().contains(&code), "the code is in the SDR");
        assert_eq!(verify(&api, &rid, &code).await, 200);
    })
    .await
}

async fn smtp_implicit_tls_trusts_only_the_given_certificate(b: Backend) {
    if !available() {
        return;
    }
    within(SECS, async {
        let trusted = SmtpServer::start(Mode::Tls, Some(("mailer", "pw-465"))).await;
        // Another self-signed certificate, which the app was not told to trust.
        let stranger = SmtpServer::start(Mode::Tls, None).await;
        // A server that does not offer STARTTLS.
        let plain = SmtpServer::plain().await;
        let cert = trusted.certificate();
        let app = TestApp::start_with(b, |s| s.tls_extra_roots = Some(cert)).await;
        let acc = app.account("Acme").await;
        let api = app.api(&acc);

        let ok = smtp_provider(
            &api,
            "Port 465",
            &trusted,
            "tls",
            Some(("mailer", "pw-465")),
            10,
        )
        .await;
        let t = test_message(&api, &ok, "ops@example.com").await;
        assert_eq!(t["accepted"], true, "{t}");
        let got = trusted.wait_for(1).await;
        assert!(got[0].tls);
        assert_eq!(got[0].auth_login.as_deref(), Some("mailer"));

        let rid = api
            .send_ok(json!({"service": "Shop", "channel": "email", "emailTo": "ana@example.com"}))
            .await;
        assert_eq!(app.deliver().await, 1);
        let got = trusted.wait_for(2).await;
        let code = check_otp_email(&got[1], "ana@example.com");
        assert_eq!(verify(&api, &rid, &code).await, 200);

        // An unknown certificate: refused (worth retrying: it may be a server being fixed).
        let unknown = smtp_provider(&api, "Unknown cert", &stranger, "tls", None, 20).await;
        let t = test_message(&api, &unknown, "ops@example.com").await;
        assert_eq!(
            (t["accepted"].clone(), t["status"].clone()),
            (json!(false), json!("retry")),
            "{t}"
        );
        let error = t["error"].as_str().unwrap();
        assert!(error.contains("certificate"), "{error}");
        assert!(stranger.received().is_empty());

        // starttls never falls back to plain text when the server does not offer it.
        let downgrade = smtp_provider(&api, "No STARTTLS", &plain, "starttls", None, 30).await;
        let t = test_message(&api, &downgrade, "ops@example.com").await;
        assert_eq!(
            (t["accepted"].clone(), t["status"].clone()),
            (json!(false), json!("failed")),
            "{t}"
        );
        assert!(t["error"].as_str().unwrap().contains("STARTTLS"), "{t}");
        assert!(plain.received().is_empty());
    })
    .await
}

async fn smtp_wrong_password_is_reported_and_fails_over(b: Backend) {
    if !available() {
        return;
    }
    within(SECS, async {
        let smtp = SmtpServer::start(Mode::Starttls, Some(("mailer", "right-pass"))).await;
        let cert = smtp.certificate();
        let app = TestApp::start_with(b, |s| s.tls_extra_roots = Some(cert)).await;
        let acc = app.account("Acme").await;
        let api = app.api(&acc);
        let bad_login = Some(("mailer", "wrong-pass"));
        let bad = smtp_provider(&api, "Bad login", &smtp, "starttls", bad_login, 10).await;

        // The test message says why, in the server's words.
        let t = test_message(&api, &bad, "ops@example.com").await;
        assert_eq!(
            (t["accepted"].clone(), t["status"].clone()),
            (json!(false), json!("failed")),
            "{t}"
        );
        let error = t["error"].as_str().unwrap();
        assert!(error.contains("535"), "{error}");
        assert!(
            error.contains("Authentication credentials invalid"),
            "{error}"
        );
        assert!(smtp.received().is_empty());

        // A real delivery fails over to the next provider, and the SDR says why.
        let good_login = Some(("mailer", "right-pass"));
        smtp_provider(&api, "Good login", &smtp, "starttls", good_login, 20).await;
        let rid = api
            .send_ok(json!({"service": "Shop", "channel": "email", "emailTo": "ana@example.com"}))
            .await;
        app.deliver().await;
        let got = smtp.wait_for(1).await;
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].auth_login.as_deref(), Some("mailer"));
        let code = check_otp_email(&got[0], "ana@example.com");
        let s = sdr(&api, &rid).await;
        let attempts = s["deliveryAttempts"].as_array().unwrap();
        let seen: Vec<(&str, &str)> = attempts
            .iter()
            .map(|a| {
                (
                    a["provider"].as_str().unwrap(),
                    a["status"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            vec![("Bad login", "failed"), ("Good login", "sent")],
            "{s}"
        );
        assert!(
            attempts[0]["error"].as_str().unwrap().contains("535"),
            "{s}"
        );
        let failed = events(&s, "delivery_failed");
        assert_eq!(failed.len(), 1, "{s}");
        assert!(failed[0]["detail"]["error"]
            .as_str()
            .unwrap()
            .contains("535"));
        assert!(!s.to_string().contains(&code), "the code is in the SDR");
        assert!(
            !s.to_string().contains("wrong-pass"),
            "the password is in the SDR"
        );
        assert_eq!(verify(&api, &rid, &code).await, 200);

        // Fixed through the API (within the same millisecond: the clock stands still), the
        // provider logs in with the new password at once.
        let (status, body) = api
            .request(
                reqwest::Method::PUT,
                &format!("/2fa/providers/{bad}"),
                Some(provider_body(
                    "Bad login",
                    &smtp,
                    "starttls",
                    good_login,
                    10,
                )),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let t = test_message(&api, &bad, "ops@example.com").await;
        assert_eq!(t["accepted"], true, "{t}");
        assert_eq!(smtp.wait_for(2).await.len(), 2);

        // With no other provider, the OTP fails with the server's refusal.
        let solo = app.account("Solo").await;
        let solo_api = app.api(&solo);
        smtp_provider(&solo_api, "Only", &smtp, "starttls", bad_login, 10).await;
        let rid = solo_api
            .send_ok(json!({"service": "Shop", "channel": "email", "emailTo": "bo@example.com"}))
            .await;
        app.deliver().await;
        let s = sdr(&solo_api, &rid).await;
        assert_eq!(s["status"], "failed", "{s}");
        assert_eq!(s["deliveryAttempts"][0]["provider"], "Only");
        assert_eq!(s["deliveryAttempts"][0]["status"], "failed");
        assert!(
            s["deliveryAttempts"][0]["error"]
                .as_str()
                .unwrap()
                .contains("535"),
            "{s}"
        );
        assert_eq!(smtp.received().len(), 2, "nothing more arrived");
    })
    .await
}

async fn smtp_refused_recipients_fail_or_retry(b: Backend) {
    if !available() {
        return;
    }
    within(SECS, async {
        let smtp = SmtpServer::plain().await;
        let app = TestApp::start(b).await;
        let acc = app.account("Acme").await;
        let api = app.api(&acc);
        smtp_provider(&api, "Office relay", &smtp, "none", None, 10).await;

        // Refused for good (550): the attempt and the OTP fail.
        let rid = api
            .send_ok(
                json!({"service": "Shop", "channel": "email", "emailTo": "perm-fail@example.com"}),
            )
            .await;
        app.deliver().await;
        let s = sdr(&api, &rid).await;
        assert_eq!(s["status"], "failed", "{s}");
        let attempt = &s["deliveryAttempts"][0];
        assert_eq!(
            (attempt["provider"].as_str(), attempt["status"].as_str()),
            (Some("Office relay"), Some("failed"))
        );
        let error = attempt["error"].as_str().unwrap();
        assert!(
            error.contains("550") && error.contains("Mailbox unavailable"),
            "{error}"
        );

        // … or the workflow's next channel takes over (SMS through the sandbox).
        let rid = api
            .send_ok(json!({"service": "Shop", "workflow": ["email", "sms"],
                "emailTo": "perm-fail@example.com", "to": "+14155550123"}))
            .await;
        app.deliver().await;
        let s = sdr(&api, &rid).await;
        let seen: Vec<(&str, &str)> = s["deliveryAttempts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["channel"].as_str().unwrap(),
                    a["status"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(seen, vec![("email", "failed"), ("sms", "delivered")], "{s}");
        let (_, code) = api.sandbox_code(&rid).await;
        assert_eq!(verify(&api, &rid, &code).await, 200);

        // Try later (451): retried with back-off, the OTP still pending.
        let rid = api
            .send_ok(
                json!({"service": "Shop", "channel": "email", "emailTo": "temp-fail@example.com"}),
            )
            .await;
        assert_eq!(app.deliver().await, 1);
        let s = sdr(&api, &rid).await;
        assert_eq!(s["status"], "pending", "{s}");
        let retries = events(&s, "delivery_retry");
        assert_eq!(retries.len(), 1, "{s}");
        assert_eq!(retries[0]["detail"]["provider"], "Office relay");
        let error = retries[0]["detail"]["error"].as_str().unwrap();
        assert!(
            error.contains("451") && error.contains("Try again later"),
            "{error}"
        );
        assert_eq!(app.deliver().await, 0, "not before the back-off");
        app.clock.advance_ms(1000);
        assert_eq!(app.deliver().await, 1);
        let s = sdr(&api, &rid).await;
        assert_eq!(events(&s, "delivery_retry").len(), 2, "{s}");
        assert_eq!(s["status"], "pending");

        assert!(smtp.received().is_empty(), "{:?}", smtp.received());
    })
    .await
}

async fn smtp_crlf_in_subject_never_reaches_the_server(b: Backend) {
    if !available() {
        return;
    }
    within(SECS, async {
        let smtp = SmtpServer::plain().await;
        let app = TestApp::start(b).await;
        let acc = app.account("Acme").await;
        let api = app.api(&acc);
        smtp_provider(&api, "Office relay", &smtp, "none", None, 10).await;

        for subject in [
            "Hi\r\nBcc: spy@example.com",
            "Hi\nBcc: spy@example.com",
            "Hi\rthere",
        ] {
            let (status, body) = api
                .post(
                    "/2fa/send",
                    json!({"service": "Shop", "channel": "email",
                    "emailTo": "ana@example.com", "subject": subject}),
                )
                .await;
            assert_eq!(
                (status, body["errorCode"].clone(), body["field"].clone()),
                (400, json!(7004), json!("subject")),
                "{body}"
            );
        }
        // Nor in the sender's name.
        let mut body = provider_body("Evil", &smtp, "none", None, 20);
        body["config"]["fromName"] = json!("Acme\r\nBcc: spy@example.com");
        let (status, res) = api.post("/2fa/providers", body).await;
        assert_eq!(
            (status, res["errorCode"].clone(), res["field"].clone()),
            (400, json!(7004), json!("config.fromName")),
            "{res}"
        );
        assert_eq!(app.deliver().await, 0, "nothing to deliver");
        assert!(smtp.received().is_empty());

        // Below the API, the provider itself cannot be made to write a header: the library
        // encodes CR/LF in a subject instead of sending it.
        let provider = crate::server::providers::smtp::Smtp::new(
            "direct".into(),
            crate::domain::provider::SmtpConfig {
                host: "127.0.0.1".into(),
                port: smtp.port,
                security: crate::domain::provider::SmtpSecurity::None,
                username: None,
                password: None,
                from_address: FROM.into(),
                from_name: Some("Acme Security".into()),
            },
            None,
            true,
            std::time::Duration::from_secs(15),
        )
        .unwrap();
        let msg = crate::server::providers::OutboundMessage {
            account_sid: crate::domain::AccountSid::parse(&acc.sid).unwrap(),
            otp_sid: crate::domain::OtpSid::generate(),
            step: 0,
            channel: crate::domain::Channel::Email,
            to: crate::server::providers::Recipient::Email("ana@example.com".into()),
            from: None,
            content: crate::server::providers::Content::Email {
                subject: "Hi\r\nBcc: spy@example.com".into(),
                text: "Your code is 123456.".into(),
                html: None,
            },
            idempotency_key: "direct-0".into(),
            receipt_url: None,
            voice_url: None,
            code_shown: crate::domain::Secret("123456".into()),
            at: 0,
        };
        let outcome = crate::server::providers::Provider::deliver(&provider, &msg).await;
        assert!(
            matches!(
                outcome,
                crate::server::providers::ProviderOutcome::Sent { .. }
            ),
            "{outcome:?}"
        );
        let got = smtp.wait_for(1).await;
        let m = &got[0];
        assert_eq!(m.rcpt_tos, vec!["ana@example.com".to_owned()]);
        assert!(m.headers_named("Bcc").is_empty(), "{:?}", m.headers);
        assert_eq!(m.headers_named("Subject").len(), 1, "{:?}", m.headers);
        assert!(
            !m.raw.to_ascii_lowercase().contains("\nbcc:"),
            "a Bcc line: {}",
            m.raw
        );
        assert!(
            m.header("Subject").contains("spy@example.com"),
            "{:?}",
            m.headers
        );
    })
    .await
}

async fn smtp_a_timeout_does_not_spoil_the_next_message(b: Backend) {
    if !available() {
        return;
    }
    within(SECS, async {
        let smtp = SmtpServer::plain().await;
        let app = TestApp::start_with(b, |s| s.provider_timeout_secs = 1).await;
        let acc = app.account("Acme").await;
        let api = app.api(&acc);
        smtp_provider(&api, "Office relay", &smtp, "none", None, 10).await;

        // The server takes 3 s to answer this one's DATA: we give up after 1 s, retry later.
        let slow = api
            .send_ok(json!({"service": "Shop", "channel": "email", "emailTo": "slow@example.com"}))
            .await;
        assert_eq!(app.deliver().await, 1);
        let s = sdr(&api, &slow).await;
        assert_eq!(s["deliveryAttempts"][0]["status"], "failed", "{s}");
        let retries = events(&s, "delivery_retry");
        assert_eq!(retries.len(), 1, "{s}");
        assert!(
            retries[0]["detail"]["error"]
                .as_str()
                .unwrap()
                .contains("in time"),
            "{s}"
        );

        // The next message does not inherit the connection still waiting for that answer.
        let rid = api
            .send_ok(json!({"service": "Shop", "channel": "email", "emailTo": "ana@example.com"}))
            .await;
        assert_eq!(app.deliver().await, 1);
        let s = sdr(&api, &rid).await;
        let attempt = &s["deliveryAttempts"][0];
        assert_eq!(attempt["status"], "sent", "{s}");
        assert!(
            attempt["providerSid"].as_str().unwrap().starts_with("250 "),
            "{s}"
        );
        let got = smtp.wait_for(1).await;
        let m = got
            .iter()
            .find(|m| m.rcpt_tos == ["ana@example.com"])
            .unwrap_or_else(|| panic!("{got:?}"));
        let code = check_otp_email(m, "ana@example.com");
        assert_eq!(verify(&api, &rid, &code).await, 200);
    })
    .await
}

async fn smtp_never_connects_to_an_internal_address_unless_allowed(b: Backend) {
    if !available() {
        return;
    }
    within(SECS, async {
        let smtp = SmtpServer::plain().await;
        // A server-wide provider whose host name resolves to loopback now (as a tenant's name
        // may once DNS answers differently: checked when written, not when sending).
        let relay = crate::server::config::DefaultProvider {
            kind: "smtp".into(),
            name: "Relay".into(),
            channels: vec!["email".into()],
            countries: Vec::new(),
            priority: None,
            config: json!({"host": "localhost", "port": smtp.port, "security": "none",
                "fromAddress": FROM}),
        };
        let app = TestApp::start_with(b, |s| {
            s.allow_private_outbound = false;
            s.default_providers = vec![relay];
        })
        .await;
        let acc = app.account("Acme").await;
        let api = app.api(&acc);
        let rid = api
            .send_ok(json!({"service": "Shop", "channel": "email", "emailTo": "ana@example.com"}))
            .await;
        app.deliver().await;
        let s = sdr(&api, &rid).await;
        assert_eq!(s["status"], "failed", "{s}");
        let attempt = &s["deliveryAttempts"][0];
        assert_eq!(attempt["provider"], "Relay", "{s}");
        let error = attempt["error"].as_str().unwrap();
        assert!(error.contains("internal"), "{error}");
        assert!(smtp.received().is_empty(), "{:?}", smtp.received());
    })
    .await
}
