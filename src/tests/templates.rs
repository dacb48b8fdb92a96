//! Message templates through `/2fa/templates` and their effect on what is sent: the language
//! fallback (exact tag, base language, English), the sandbox message, email's subject and HTML
//! part through a real SMTP server, a call's text, a request's own body winning, sub-account
//! inheritance, the refusals (7012, too many segments, fields), and going back with DELETE.
use super::harness::{Api, TestApp};
use super::smtp::{available, within, SmtpServer};
use crate::server::db::Backend;
use serde_json::{json, Value};

super::both_backends!(
    templates_pick_by_language_and_reach_the_sandbox,
    templates_refuse_bad_input_naming_the_field,
    sub_accounts_inherit_their_parents_templates,
    email_templates_send_their_subject_and_html,
);

/// The newest sandbox message for a request (after delivering it).
async fn sandbox(app: &TestApp, api: &Api<'_>, rid: &str) -> Value {
    app.deliver().await;
    let (status, res) = api
        .get(&format!("/2fa/sandbox/messages?requestID={rid}"))
        .await;
    assert_eq!(status, 200, "{res}");
    res["messages"][0].clone()
}

/// What an SMS in `language` says.
async fn sms_text(app: &TestApp, api: &Api<'_>, to: &str, language: &str) -> String {
    let rid = api
        .send_ok(json!({"service": "Shop", "to": to, "language": language}))
        .await;
    sandbox(app, api, &rid).await["text"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn put(api: &Api<'_>, path: &str, body: Value) -> (u16, Value) {
    api.post_method("PUT", path, body).await
}

async fn delete(api: &Api<'_>, path: &str) -> (u16, Value) {
    api.request(reqwest::Method::DELETE, path, None).await
}

/// The six-digit code in a text.
fn code_in(text: &str) -> String {
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    digits.chars().take(6).collect()
}

async fn templates_pick_by_language_and_reach_the_sandbox(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let api = app.api(&acc);

    // Out of the box: every channel in the built-in languages.
    let (status, all) = api.get("/2fa/templates").await;
    assert_eq!(status, 200, "{all}");
    let list = all["templates"].as_array().unwrap();
    assert_eq!(list.len(), 36, "{all}");
    assert!(list.iter().all(|t| t["source"] == "builtin"));
    let es = list
        .iter()
        .find(|t| t["channel"] == "sms" && t["language"] == "es")
        .unwrap();
    assert_eq!(
        es["text"],
        "Tu código de {service} es {code}. Caduca en {ttl} minutos."
    );
    assert_eq!(es["smsLength"]["encoding"], "UCS-2");
    assert_eq!(es["smsLength"]["segments"], 1);

    // Built-in texts by fallback: fr-CA → fr, xx → en, engine prefixes are ignored.
    let fr = sms_text(&app, &api, "+14155550170", "fr-CA").await;
    assert!(fr.starts_with("Votre code Shop est "), "{fr}");
    let en = sms_text(&app, &api, "+14155550171", "xx").await;
    assert!(en.starts_with("Your Shop code is "), "{en}");
    let de = sms_text(&app, &api, "+14155550172", "google.de-DE").await;
    assert!(de.starts_with("Ihr Code für Shop lautet "), "{de}");

    // The account's own Spanish: es-MX falls back to it.
    let (status, t) = put(
        &api,
        "/2fa/templates/sms/es",
        json!({"text": "Hola: tu código de {service} es {code}, válido {minutes} min."}),
    )
    .await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(
        (&t["source"], &t["language"], &t["channel"]),
        (&json!("account"), &json!("es"), &json!("sms"))
    );
    let mx = sms_text(&app, &api, "+14155550173", "es-MX").await;
    let code = code_in(&mx);
    assert_eq!(
        mx,
        format!("Hola: tu código de Shop es {code}, válido 10 min.")
    );
    // Case does not matter.
    let (status, got) = api.get("/2fa/templates/SMS/ES-mx").await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(
        (&got["language"], &got["source"]),
        (&json!("es"), &json!("account"))
    );

    // A more exact one wins for its tag only.
    let (status, _) = put(
        &api,
        "/2fa/templates/sms/es-MX",
        json!({"text": "Código {service}: {code}"}),
    )
    .await;
    assert_eq!(status, 200);
    let mx = sms_text(&app, &api, "+14155550174", "es-mx").await;
    assert!(mx.starts_with("Código Shop: "), "{mx}");
    let es = sms_text(&app, &api, "+14155550175", "es-ES").await;
    assert!(es.starts_with("Hola: tu código"), "{es}");

    // A request's own body still wins.
    let rid = api
        .send_ok(json!({"service": "Shop", "to": "+14155550176", "language": "es", "body": "Own {code}"}))
        .await;
    let own = sandbox(&app, &api, &rid).await;
    assert!(own["text"].as_str().unwrap().starts_with("Own "), "{own}");

    // Calls speak the template of their language, digit by digit.
    let rid = api
        .send_ok(json!({"service": "Shop", "channel": "call", "to": "+14155550177", "language": "awspolly.ja-JP"}))
        .await;
    let call = sandbox(&app, &api, &rid).await;
    let text = call["text"].as_str().unwrap();
    assert!(text.starts_with("Shopの認証コードは、"), "{text}");
    assert!(text.contains(", "), "digit by digit: {text}");

    // The email subject comes from the template too.
    let rid = api
        .send_ok(json!({"service": "Shop", "channel": "email", "emailTo": "ana@example.com", "language": "it"}))
        .await;
    let mail = sandbox(&app, &api, &rid).await;
    assert_eq!(mail["subject"], "Il tuo codice Shop", "{mail}");
    assert!(mail["text"]
        .as_str()
        .unwrap()
        .starts_with("Il tuo codice di verifica Shop è "));

    // Own templates are listed with the built-in ones; es-MX is a language of its own now.
    let (_, all) = api.get("/2fa/templates").await;
    let list = all["templates"].as_array().unwrap();
    assert_eq!(list.len(), 37, "{all}");
    let own: Vec<(&str, &str)> = list
        .iter()
        .filter(|t| t["source"] == "account")
        .map(|t| {
            (
                t["channel"].as_str().unwrap(),
                t["language"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(own, [("sms", "es"), ("sms", "es-MX")]);

    // DELETE goes back to the built-in text; a second DELETE finds nothing of its own.
    let (status, back) = delete(&api, "/2fa/templates/sms/es").await;
    assert_eq!(status, 200, "{back}");
    assert_eq!(
        (&back["source"], &back["language"]),
        (&json!("builtin"), &json!("es"))
    );
    let es = sms_text(&app, &api, "+14155550178", "es").await;
    assert!(es.starts_with("Tu código de Shop es "), "{es}");
    let (status, e) = delete(&api, "/2fa/templates/sms/es").await;
    assert_eq!((status, e["errorCode"].as_i64()), (404, Some(7003)), "{e}");
    let (status, _) = delete(&api, "/2fa/templates/sms/es-MX").await;
    assert_eq!(status, 200);
    let mx = sms_text(&app, &api, "+14155550179", "es-MX").await;
    assert!(mx.starts_with("Tu código de Shop es "), "{mx}");
}

async fn templates_refuse_bad_input_naming_the_field(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let api = app.api(&acc);
    let refused = |status: u16, e: &Value| {
        (
            status,
            e["errorCode"].as_i64().unwrap_or(0),
            e["field"].as_str().unwrap_or("").to_owned(),
        )
    };

    let (s, e) = put(&api, "/2fa/templates/sms/es", json!({"text": "Sin código"})).await;
    assert_eq!(refused(s, &e), (400, 7012, "text".into()), "{e}");
    assert!(e["message"].as_str().unwrap().contains("{code}"), "{e}");

    // Over 10 segments: 700 UCS-2 characters are 11 segments of 67.
    let long = format!("{{code}} {}", "ñó".repeat(350));
    let (s, e) = put(&api, "/2fa/templates/sms/es", json!({"text": long})).await;
    assert_eq!(refused(s, &e), (400, 7004, "text".into()), "{e}");
    assert!(e["message"].as_str().unwrap().contains("segments"), "{e}");
    // A call has no segments, only the length cap.
    let (s, _) = put(&api, "/2fa/templates/call/es", json!({"text": long})).await;
    assert_eq!(s, 200);
    let too_long = format!("{{code}}{}", "x".repeat(1600));
    let (s, e) = put(&api, "/2fa/templates/call/es", json!({"text": too_long})).await;
    assert_eq!(refused(s, &e), (400, 7004, "text".into()), "{e}");

    let (s, e) = put(&api, "/2fa/templates/sms/es", json!({})).await;
    assert_eq!(refused(s, &e), (400, 7004, "text".into()), "{e}");
    let (s, e) = put(
        &api,
        "/2fa/templates/sms/es",
        json!({"text": "{code}", "subject": "Hi"}),
    )
    .await;
    assert_eq!(refused(s, &e), (400, 7004, "subject".into()), "{e}");
    let (s, e) = put(&api, "/2fa/templates/email/en", json!({"text": "{code}"})).await;
    assert_eq!(refused(s, &e), (400, 7004, "subject".into()), "{e}");
    let (s, e) = put(
        &api,
        "/2fa/templates/email/en",
        json!({"subject": "Hi", "text": "{code}", "html": "<p>no code</p>"}),
    )
    .await;
    assert_eq!(refused(s, &e), (400, 7012, "html".into()), "{e}");
    let (s, e) = put(&api, "/2fa/templates/fax/en", json!({"text": "{code}"})).await;
    assert_eq!(refused(s, &e), (400, 7004, "channel".into()), "{e}");
    let (s, e) = put(&api, "/2fa/templates/sms/e_n", json!({"text": "{code}"})).await;
    assert_eq!(refused(s, &e), (400, 7004, "language".into()), "{e}");
    let (s, e) = api.get("/2fa/templates/sms/toolonglanguage").await;
    assert_eq!(refused(s, &e), (400, 7004, "language".into()), "{e}");

    // Forms work as well as JSON.
    let res = app
        .http
        .put(app.url("/2fa/templates/sms/pt.json"))
        .basic_auth(&acc.sid, Some(&acc.token))
        .form(&[("text", "Código {service}: {code}")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (_, pt) = api.get("/2fa/templates/sms/pt-BR").await;
    assert_eq!(
        (&pt["language"], &pt["source"]),
        (&json!("pt"), &json!("account"))
    );
    // Nothing refused was stored.
    let (_, all) = api.get("/2fa/templates").await;
    let own: Vec<String> = all["templates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["source"] == "account")
        .map(|t| {
            format!(
                "{}/{}",
                t["channel"].as_str().unwrap(),
                t["language"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(own, ["sms/pt", "call/es"]);
}

async fn sub_accounts_inherit_their_parents_templates(b: Backend) {
    let app = TestApp::start(b).await;
    let parent = app.account("Parent").await;
    let sub = app.account_with_parent("Sub", Some(&parent.sid)).await;
    let p = app.api(&parent);
    let s = app.api(&sub);

    let (status, _) = put(
        &p,
        "/2fa/templates/sms/es",
        json!({"text": "Padre {service}: {code}"}),
    )
    .await;
    assert_eq!(status, 200);
    let (_, got) = s.get("/2fa/templates/sms/es-AR").await;
    assert_eq!(
        (&got["source"], &got["language"]),
        (&json!("parent"), &json!("es"))
    );
    assert!(sms_text(&app, &s, "+14155550180", "es-AR")
        .await
        .starts_with("Padre Shop: "));
    // The parent's es beats the built-in es, and the sub-account's own wins over both.
    let (status, _) = put(
        &s,
        "/2fa/templates/sms/es",
        json!({"text": "Hijo {service}: {code}"}),
    )
    .await;
    assert_eq!(status, 200);
    assert!(sms_text(&app, &s, "+14155550181", "es")
        .await
        .starts_with("Hijo Shop: "));
    assert!(sms_text(&app, &p, "+14155550182", "es")
        .await
        .starts_with("Padre Shop: "));
    let (status, back) = delete(&s, "/2fa/templates/sms/es").await;
    assert_eq!((status, &back["source"]), (200, &json!("parent")), "{back}");
    assert!(sms_text(&app, &s, "+14155550183", "es")
        .await
        .starts_with("Padre Shop: "));

    // The parent acts on the sub-account with accountSid; the parent's own stays built in.
    let (status, t) = put(
        &p,
        "/2fa/templates/sms/fr",
        json!({"text": "Sous-compte {code}", "accountSid": sub.sid}),
    )
    .await;
    assert_eq!((status, &t["accountSid"]), (200, &json!(sub.sid)), "{t}");
    let (_, mine) = p.get("/2fa/templates/sms/fr").await;
    assert_eq!(mine["source"], "builtin");
    let (_, theirs) = p
        .get(&format!("/2fa/templates/sms/fr?accountSid={}", sub.sid))
        .await;
    assert_eq!(theirs["source"], "account");
    // A sub-account never touches its parent's.
    let (status, e) = put(
        &s,
        "/2fa/templates/sms/de",
        json!({"text": "{code}", "accountSid": parent.sid}),
    )
    .await;
    assert!(status == 403 || status == 404, "{status} {e}");
    let (_, de) = p.get("/2fa/templates/sms/de").await;
    assert_eq!(de["source"], "builtin");
}

async fn email_templates_send_their_subject_and_html(b: Backend) {
    if !available() {
        return;
    }
    within(120, async {
        let smtp = SmtpServer::plain().await;
        let app = TestApp::start(b).await;
        let acc = app.account("Acme").await;
        let api = app.api(&acc);
        let (status, body) = api
            .post(
                "/2fa/providers",
                json!({"kind": "smtp", "name": "Relay", "channels": ["email"], "config": {
                    "host": "127.0.0.1", "port": smtp.port, "security": "none",
                    "fromAddress": "no-reply@acme.test"}}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let (status, t) = put(
            &api,
            "/2fa/templates/email/de",
            json!({"subject": "Dein Code fuer {service}",
                   "text": "Code: {code} ({minutes} Min.)",
                   "html": "<h1>{service}</h1><p>Code: <b>{code}</b></p>"}),
        )
        .await;
        assert_eq!(status, 200, "{t}");
        api.send_ok(json!({"service": "<Shop&Co>", "channel": "email", "emailTo": "ana@example.com", "language": "de-AT"}))
            .await;
        assert_eq!(app.deliver().await, 1);
        let got = smtp.wait_for(1).await;
        let m = &got[0];
        assert_eq!(m.header("Subject"), "Dein Code fuer <Shop&Co>");
        let text = m.part("text/plain");
        let code = code_in(text);
        assert_eq!(text.trim_end(), format!("Code: {code} (10 Min.)"));
        let html = m.part("text/html");
        assert!(
            html.contains(&format!("<h1>&lt;Shop&amp;Co&gt;</h1><p>Code: <b>{code}</b></p>")),
            "the service is escaped in HTML: {html}"
        );

        // The built-in HTML part of a language without an own template.
        api.send_ok(json!({"service": "Shop", "channel": "email", "emailTo": "bo@example.com", "language": "ar"}))
            .await;
        app.deliver().await;
        let got = smtp.wait_for(2).await;
        let html = got[1].part("text/html");
        assert!(html.contains("dir=\"rtl\""), "{html}");
        assert!(html.contains("رمز التحقق"), "{html}");
    })
    .await;
}
