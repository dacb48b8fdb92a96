//! Settings → Channels through its server functions: the form's field names (`config[…]`,
//! `channels[…]`), write-only secrets, errors next to their field, reordering, the per-channel
//! lineup (sandbox, own, parent), a real test message through a fake Twilio, and roles.
use super::fake_cpaas::{FakeCpaas, Mode};
use super::harness::{call, signed_in, TestApp};
use crate::domain::Role;
use crate::server::db::Backend;
use serde_json::{json, Value};

super::both_backends!(
    channels_page_adds_edits_reorders_and_tests_providers,
    channels_page_is_read_only_for_support_and_shows_inherited_providers,
);

/// The save form of a Twilio provider pointing at `fake`, as the browser posts it.
fn twilio_form<'a>(
    fake: &'a FakeCpaas,
    sid: &'a str,
    name: &'a str,
    token: &'a str,
) -> Vec<(&'static str, String)> {
    vec![
        ("sid", sid.to_owned()),
        ("kind", "twilio".to_owned()),
        ("name", name.to_owned()),
        ("channels[sms]", "on".to_owned()),
        ("countries", "gb, ie".to_owned()),
        ("enabled", "on".to_owned()),
        ("config[baseUrl]", fake.base.clone()),
        ("config[accountSid]", fake.state.account_sid.clone()),
        ("config[authToken]", token.to_owned()),
        ("config[from]", "+15005550006".to_owned()),
        ("config[messagingServiceSid]", String::new()),
    ]
}

async fn save(
    app: &TestApp,
    http: &reqwest::Client,
    form: &[(&'static str, String)],
) -> (u16, Value) {
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    call(app, http, "providers_save", &form).await
}

fn lineup(page: &Value, channel: &str) -> (String, Vec<String>) {
    let l = page["lineups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["channel"] == channel)
        .unwrap();
    (
        l["source"].as_str().unwrap().to_owned(),
        l["providers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p[0].as_str().unwrap().to_owned())
            .collect(),
    )
}

async fn channels_page_adds_edits_reorders_and_tests_providers(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let admin = signed_in(&app, &acc.email, &acc.password).await;
    let fake = FakeCpaas::start().await;

    // A new account delivers everything through the sandbox.
    let (status, page) = call(&app, &admin, "providers_page", &[]).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["providers"], json!([]));
    for c in ["sms", "call", "email"] {
        assert_eq!(lineup(&page, c), ("sandbox".to_owned(), vec![]));
    }

    // Errors name the form field they concern.
    let token = fake.state.token.clone();
    let mut bad = twilio_form(&fake, "", "Main", &token);
    bad[9].1 = "not a number".into();
    let (status, e) = save(&app, &admin, &bad).await;
    assert_eq!((status, e["field"].as_str()), (400, Some("from")), "{e}");
    assert!(
        e["message"].as_str().unwrap().starts_with("From must be"),
        "{e}"
    );
    let mut bad = twilio_form(&fake, "", "Main", "");
    bad[5].1 = String::new();
    let (status, e) = save(&app, &admin, &bad).await;
    assert_eq!(
        (status, e["field"].as_str()),
        (400, Some("authToken")),
        "{e}"
    );
    let mut bad = twilio_form(&fake, "", "Main", &token);
    bad[3] = ("channels[email]", "on".into());
    let (_, e) = save(&app, &admin, &bad).await;
    assert_eq!(e["field"], "channels", "twilio cannot deliver email: {e}");
    let mut bad = twilio_form(&fake, "", "Main", &token);
    bad[1].1 = "sandbox".into();
    let (_, e) = save(&app, &admin, &bad).await;
    assert_eq!(e["field"], "kind", "{e}");

    // Two providers: the second goes last.
    let (status, main) = save(&app, &admin, &twilio_form(&fake, "", "Main", &token)).await;
    assert_eq!(status, 200, "{main}");
    let main = main.as_str().unwrap().to_owned();
    let (status, backup) = save(&app, &admin, &twilio_form(&fake, "", "Backup", &token)).await;
    assert_eq!(status, 200, "{backup}");
    let backup = backup.as_str().unwrap().to_owned();
    let (status, e) = save(&app, &admin, &twilio_form(&fake, "", "Main", &token)).await;
    assert_eq!(
        (status, e["code"].as_i64(), e["field"].as_str()),
        (409, Some(7050), Some("name"))
    );

    let (_, page) = call(&app, &admin, "providers_page", &[]).await;
    let names: Vec<&str> = page["providers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Main", "Backup"]);
    let p = &page["providers"][0];
    assert_eq!(p["countries"], json!(["GB", "IE"]));
    assert_eq!(p["channels"], json!(["sms"]));
    assert_eq!(
        p["config"]["authToken"],
        format!("••••{}", &token[token.len() - 4..])
    );
    assert!(
        !page.to_string().contains(&token),
        "the token never comes back"
    );
    assert_eq!(
        lineup(&page, "sms"),
        (
            "own".to_owned(),
            vec!["Main".to_owned(), "Backup".to_owned()]
        )
    );
    assert_eq!(lineup(&page, "email").0, "sandbox");
    // The REST API sees the same providers.
    let (_, listed) = app.api(&acc).get("/2fa/providers").await;
    assert_eq!(listed["providers"][0]["providerSid"], main.as_str());

    // Reorder: Backup first, then back; the first cannot move earlier.
    let (status, _) = call(
        &app,
        &admin,
        "providers_move",
        &[("sid", &backup), ("earlier", "true")],
    )
    .await;
    assert_eq!(status, 200);
    let (_, page) = call(&app, &admin, "providers_page", &[]).await;
    assert_eq!(lineup(&page, "sms").1, ["Backup", "Main"]);
    let (status, _) = call(
        &app,
        &admin,
        "providers_move",
        &[("sid", &backup), ("earlier", "true")],
    )
    .await;
    assert_eq!(status, 200);
    let (_, page) = call(&app, &admin, "providers_page", &[]).await;
    assert_eq!(lineup(&page, "sms").1, ["Backup", "Main"]);
    let (_, listed) = app.api(&acc).get("/2fa/providers").await;
    let priorities: Vec<i64> = listed["providers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["priority"].as_i64().unwrap())
        .collect();
    assert_eq!(priorities, [10, 20]);

    // Edit with the secret left empty: it keeps its value (the fake checks it); the place in the
    // order stays; unticking "enabled" takes it out of the lineup.
    let mut edit = twilio_form(&fake, &backup, "Backup", "");
    edit.retain(|(k, _)| *k != "enabled");
    let (status, _) = save(&app, &admin, &edit).await;
    assert_eq!(status, 200);
    let (_, page) = call(&app, &admin, "providers_page", &[]).await;
    assert_eq!(page["providers"][0]["enabled"], false);
    assert_eq!(page["providers"][0]["name"], "Backup");
    assert_eq!(lineup(&page, "sms").1, ["Main"]);

    // A test message through one provider: the fake receives it with the kept token.
    let (status, t) = call(
        &app,
        &admin,
        "providers_test",
        &[("sid", &backup), ("to", "+14155550101")],
    )
    .await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(
        (
            t["accepted"].as_bool(),
            t["status"].as_str(),
            t["channel"].as_str()
        ),
        (Some(true), Some("sent"), Some("sms")),
        "{t}"
    );
    let got = fake.received();
    assert_eq!(got.len(), 1);
    assert!(got[0].authorized, "the kept token authenticates");
    assert_eq!(got[0].get("To"), Some("+14155550101"));
    assert!(got[0].get("Body").unwrap().contains("test message"));
    assert_eq!(t["message_id"].as_str(), Some(got[0].sid.as_str()));
    // The provider's refusal comes back in words.
    fake.set_mode(Mode::Reject(
        400,
        21211,
        "The 'To' number +14155550101 is not a valid phone number.",
    ));
    let (_, t) = call(
        &app,
        &admin,
        "providers_test",
        &[("sid", &main), ("to", "+14155550101")],
    )
    .await;
    assert_eq!(t["accepted"], false, "{t}");
    assert!(
        t["error"]
            .as_str()
            .unwrap()
            .contains("not a valid phone number"),
        "{t}"
    );
    // A destination that is no destination: an error next to the field.
    let (status, e) = call(
        &app,
        &admin,
        "providers_test",
        &[("sid", &main), ("to", "call me")],
    )
    .await;
    assert_eq!((status, e["field"].as_str()), (400, Some("to")), "{e}");

    // An SMTP server that is not there: the refusal in words.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port().to_string();
    drop(closed);
    let smtp: Vec<(&'static str, String)> = vec![
        ("sid", String::new()),
        ("kind", "smtp".into()),
        ("name", "Mail".into()),
        ("channels[email]", "on".into()),
        ("enabled", "on".into()),
        ("config[host]", "127.0.0.1".into()),
        ("config[port]", port),
        ("config[security]", "none".into()),
        ("config[fromAddress]", "otp@example.com".into()),
    ];
    let (status, mail) = save(&app, &admin, &smtp).await;
    assert_eq!(status, 200, "{mail}");
    let (_, t) = call(
        &app,
        &admin,
        "providers_test",
        &[
            ("sid", mail.as_str().unwrap()),
            ("to", "someone@example.com"),
        ],
    )
    .await;
    assert_eq!(
        (t["accepted"].as_bool(), t["channel"].as_str()),
        (Some(false), Some("email")),
        "{t}"
    );
    assert!(
        t["error"]
            .as_str()
            .unwrap()
            .starts_with("connection refused"),
        "{t}"
    );
    let (status, _) = call(
        &app,
        &admin,
        "providers_delete",
        &[("sid", mail.as_str().unwrap())],
    )
    .await;
    assert_eq!(status, 200);

    // Delete.
    let (status, _) = call(&app, &admin, "providers_delete", &[("sid", &main)]).await;
    assert_eq!(status, 200);
    let (status, e) = call(&app, &admin, "providers_delete", &[("sid", &main)]).await;
    assert_eq!(status, 404, "{e}");
    let (_, page) = call(&app, &admin, "providers_page", &[]).await;
    assert_eq!(page["providers"].as_array().unwrap().len(), 1);
    // Only a disabled provider left: SMS is back on the sandbox.
    assert_eq!(lineup(&page, "sms").0, "sandbox");
}

async fn channels_page_is_read_only_for_support_and_shows_inherited_providers(b: Backend) {
    let app = TestApp::start(b).await;
    let parent = app.account("Parent").await;
    let child = app.account_with_parent("Child", Some(&parent.sid)).await;
    let fake = FakeCpaas::start().await;
    let admin = signed_in(&app, &parent.email, &parent.password).await;
    let (status, sid) = save(
        &app,
        &admin,
        &twilio_form(&fake, "", "Parent SMS", &fake.state.token),
    )
    .await;
    assert_eq!(status, 200, "{sid}");
    let sid = sid.as_str().unwrap().to_owned();

    // The sub-account's page: the parent's provider delivers its SMS; it has none of its own.
    let child_admin = signed_in(&app, &child.email, &child.password).await;
    let (_, page) = call(&app, &child_admin, "providers_page", &[]).await;
    assert_eq!(page["providers"], json!([]));
    assert_eq!(
        lineup(&page, "sms"),
        ("parent".to_owned(), vec!["Parent SMS".to_owned()])
    );
    assert_eq!(lineup(&page, "email").0, "sandbox");
    // …and cannot change or test the parent's provider.
    let (status, _) = call(
        &app,
        &child_admin,
        "providers_test",
        &[("sid", &sid), ("to", "+14155550101")],
    )
    .await;
    assert_eq!(status, 404);

    // Calls: the sub-account asks for a key once its parent does, until it chooses itself.
    let voice = |page: &Value| {
        (
            page["voice"]["press_key"].as_bool().unwrap(),
            page["voice"]["source"].as_str().unwrap().to_owned(),
        )
    };
    assert_eq!(voice(&page), (false, "default".to_owned()));
    let (status, _) = call(&app, &admin, "voice_press_key_save", &[("choice", "on")]).await;
    assert_eq!(status, 200);
    let (_, page) = call(&app, &child_admin, "providers_page", &[]).await;
    assert_eq!(voice(&page), (true, "parent".to_owned()));
    let (status, _) = call(
        &app,
        &child_admin,
        "voice_press_key_save",
        &[("choice", "off")],
    )
    .await;
    assert_eq!(status, 200);
    let (_, page) = call(&app, &child_admin, "providers_page", &[]).await;
    assert_eq!(voice(&page), (false, "account".to_owned()));
    let (status, err) = call(
        &app,
        &child_admin,
        "voice_press_key_save",
        &[("choice", "maybe")],
    )
    .await;
    assert_eq!(status, 400, "{err}");
    let (status, _) = call(
        &app,
        &child_admin,
        "voice_press_key_save",
        &[("choice", "inherit")],
    )
    .await;
    assert_eq!(status, 200);
    let (_, page) = call(&app, &child_admin, "providers_page", &[]).await;
    assert_eq!(voice(&page), (true, "parent".to_owned()));

    // Support reads, and nothing else.
    let (email, pw) = app.user(&parent.sid, Role::Support).await;
    let support = signed_in(&app, &email, &pw).await;
    let (status, page) = call(&app, &support, "providers_page", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(page["providers"][0]["name"], "Parent SMS");
    let (status, _) = save(&app, &support, &twilio_form(&fake, &sid, "Renamed", "")).await;
    assert_eq!(status, 403);
    for (name, form) in [
        (
            "providers_test",
            vec![("sid", sid.as_str()), ("to", "+14155550101")],
        ),
        (
            "providers_move",
            vec![("sid", sid.as_str()), ("earlier", "false")],
        ),
        ("providers_delete", vec![("sid", sid.as_str())]),
        ("voice_press_key_save", vec![("choice", "off")]),
    ] {
        let (status, _) = call(&app, &support, name, &form).await;
        assert_eq!(status, 403, "{name}");
    }
    assert!(fake.received().is_empty(), "nothing was sent");
    // A developer may change providers.
    let (email, pw) = app.user(&parent.sid, Role::Developer).await;
    let developer = signed_in(&app, &email, &pw).await;
    let (status, _) = call(
        &app,
        &developer,
        "providers_move",
        &[("sid", &sid), ("earlier", "false")],
    )
    .await;
    assert_eq!(status, 200);
}
