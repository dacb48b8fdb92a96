//! Settings → Templates through its server functions and its server-rendered page: errors next
//! to their field, a saved template reaching the sandbox message, reset, and roles (admin and
//! developer edit, support reads and is refused 403).
use super::harness::{call, signed_in, TestApp};
use crate::domain::Role;
use crate::server::db::Backend;
use serde_json::{json, Value};

super::both_backends!(
    templates_page_saves_resets_and_shows_errors_by_field,
    templates_page_roles,
);

async fn save(app: &TestApp, http: &reqwest::Client, form: &[(&str, &str)]) -> (u16, Value) {
    call(app, http, "templates_save", form).await
}

async fn templates_page_saves_resets_and_shows_errors_by_field(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let admin = signed_in(&app, &acc.email, &acc.password).await;

    let (status, page) = call(&app, &admin, "templates_page", &[]).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["templates"].as_array().unwrap().len(), 36);
    assert_eq!(page["has_parent"], false);

    // Errors name the form field.
    let (status, e) = save(
        &app,
        &admin,
        &[
            ("channel", "sms"),
            ("language", "es"),
            ("text", "Sin código"),
        ],
    )
    .await;
    assert_eq!(
        (status, e["code"].as_i64(), e["field"].as_str()),
        (400, Some(7012), Some("text")),
        "{e}"
    );
    assert_eq!(e["message"], "Text must contain the {code} placeholder.");
    let long = format!("{{code}} {}", "ó".repeat(700));
    let (status, e) = save(
        &app,
        &admin,
        &[("channel", "sms"), ("language", "es"), ("text", &long)],
    )
    .await;
    assert_eq!((status, e["field"].as_str()), (400, Some("text")), "{e}");
    assert!(e["message"].as_str().unwrap().contains("segments"), "{e}");
    let (_, e) = save(
        &app,
        &admin,
        &[("channel", "email"), ("language", "es"), ("text", "{code}")],
    )
    .await;
    assert_eq!(e["field"], "subject", "{e}");
    let (_, e) = save(
        &app,
        &admin,
        &[
            ("channel", "email"),
            ("language", "es"),
            ("subject", "Hola"),
            ("text", "{code}"),
            ("html", "<p>nada</p>"),
        ],
    )
    .await;
    assert_eq!(
        (e["code"].as_i64(), e["field"].as_str()),
        (Some(7012), Some("html")),
        "{e}"
    );
    let (_, e) = save(
        &app,
        &admin,
        &[("channel", "sms"), ("language", "e s"), ("text", "{code}")],
    )
    .await;
    assert_eq!(e["field"], "language", "{e}");

    // A saved Spanish SMS is what a send in es-MX gets.
    let (status, t) = save(
        &app,
        &admin,
        &[
            ("channel", "sms"),
            ("language", "ES"),
            ("subject", ""),
            ("text", "Código de {service}: {code}"),
            ("html", ""),
        ],
    )
    .await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(
        (&t["language"], &t["source"]),
        (&json!("es"), &json!("account"))
    );
    let api = app.api(&acc);
    let rid = api
        .send_ok(json!({"service": "Shop", "to": "+14155550190", "language": "es-MX"}))
        .await;
    app.deliver().await;
    let (text, _) = api.sandbox_code(&rid).await;
    assert!(text.starts_with("Código de Shop: "), "{text}");

    // The page renders on the server with the text, its preview and its length.
    let html = admin
        .get(app.url("/settings/templates?channel=sms&language=es"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Código de {service}: {code}"), "the text");
    assert!(html.contains("Código de MyApp: 481592"), "the preview");
    assert!(html.contains("UCS-2"), "the encoding");
    assert!(
        html.contains("this account&#x27;s own text") || html.contains("this account's own text")
    );
    // Another language falls back, and says so.
    let html = admin
        .get(app.url("/settings/templates?channel=sms&other=es-MX"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("No SMS template in es-MX yet"), "{html}");

    // Reset goes back to the built-in text; a second reset finds nothing of its own.
    let (status, t) = call(
        &app,
        &admin,
        "templates_reset",
        &[("channel", "sms"), ("language", "es")],
    )
    .await;
    assert_eq!((status, &t["source"]), (200, &json!("builtin")), "{t}");
    let (status, e) = call(
        &app,
        &admin,
        "templates_reset",
        &[("channel", "sms"), ("language", "es")],
    )
    .await;
    assert_eq!((status, e["code"].as_i64()), (404, Some(7003)), "{e}");
}

async fn templates_page_roles(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let form = [
        ("channel", "call"),
        ("language", "de"),
        ("text", "Ihr Code: {code}"),
    ];

    let (email, password) = app.user(&acc.sid, Role::Developer).await;
    let developer = signed_in(&app, &email, &password).await;
    let (status, t) = save(&app, &developer, &form).await;
    assert_eq!((status, &t["source"]), (200, &json!("account")), "{t}");

    let (email, password) = app.user(&acc.sid, Role::Support).await;
    let support = signed_in(&app, &email, &password).await;
    let (status, page) = call(&app, &support, "templates_page", &[]).await;
    assert_eq!(status, 200, "support reads: {page}");
    let own: Vec<&Value> = page["templates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["source"] == "account")
        .collect();
    assert_eq!(own.len(), 1);
    let (status, e) = save(&app, &support, &form).await;
    assert_eq!((status, e["code"].as_i64()), (403, Some(7002)), "{e}");
    let (status, e) = call(
        &app,
        &support,
        "templates_reset",
        &[("channel", "call"), ("language", "de")],
    )
    .await;
    assert_eq!((status, e["code"].as_i64()), (403, Some(7002)), "{e}");
    // The template is still there; the page shows no Save button to support.
    let html = support
        .get(app.url("/settings/templates?channel=call&language=de"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Ihr Code: {code}"));
    assert!(!html.contains(">Save<"), "no Save for support");

    // Signed out: 401.
    let (status, _) = save(&app, &app.http, &form).await;
    assert_eq!(status, 401);
}
