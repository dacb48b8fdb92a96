//! The bootstrap commands, run as typed, against a fresh database.
use super::harness::{test_settings, TestApp, TestDb};
use crate::server::cli::execute;
use crate::server::db::Backend;
use serde_json::Value;

super::both_backends!(
    account_and_user_creation_print_json_that_works,
    bad_input_fails_without_writing,
    demo_is_stable_across_runs,
    demo_is_refused_in_production,
    demo_leaves_a_squatted_address_alone
);

async fn account_and_user_creation_print_json_that_works(b: Backend) {
    let db = TestDb::new(b).await;
    let settings = test_settings(&db);
    let out = execute(
        &[
            "account",
            "create",
            "--name",
            "Acme",
            "--admin-email",
            "ops@acme.example",
            "--admin-password",
            "a long password",
        ],
        settings.clone(),
    )
    .await
    .unwrap();
    assert_eq!(out.lines().count(), 1, "one JSON line: {out}");
    let created: Value = serde_json::from_str(out.trim()).unwrap();
    let sid = created["accountSid"].as_str().unwrap().to_owned();
    assert!(crate::domain::AccountSid::parse(&sid).is_ok());
    assert!(created["userSid"].as_str().unwrap().starts_with("US"));
    let token = created["authToken"].as_str().unwrap().to_owned();

    let sub = execute(
        &["account", "create", "--name", "Acme EU", "--parent", &sid],
        settings.clone(),
    )
    .await
    .unwrap();
    let sub: Value = serde_json::from_str(sub.trim()).unwrap();
    assert_eq!(sub["userSid"], Value::Null);

    let user = execute(
        &[
            "user",
            "create",
            "--account",
            &sid,
            "--email",
            "help@acme.example",
            "--password",
            "support password",
            "--role",
            "support",
        ],
        settings.clone(),
    )
    .await
    .unwrap();
    let user: Value = serde_json::from_str(user.trim()).unwrap();
    assert_eq!(user["role"], "support");
    assert_eq!(user["accountSid"], sid.as_str());

    // What the CLI printed works against a server on the same database.
    let app = TestApp::start_with(b, |s| s.database_url = settings.database_url.clone()).await;
    let res = app
        .http
        .get(app.url(&format!(
            "/2fa/accounts/{}",
            sub["accountSid"].as_str().unwrap()
        )))
        .basic_auth(&sid, Some(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = app
        .http
        .post(app.url("/api/login"))
        .form(&[
            ("email", "help@acme.example"),
            ("password", "support password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

async fn bad_input_fails_without_writing(b: Backend) {
    let db = TestDb::new(b).await;
    let settings = test_settings(&db);
    let err = execute(
        &[
            "account",
            "create",
            "--name",
            "X",
            "--admin-email",
            "not-an-email",
            "--admin-password",
            "a long password",
        ],
        settings.clone(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("valid email"), "{err}");
    let err = execute(
        &[
            "account",
            "create",
            "--name",
            "X",
            "--admin-email",
            "a@b.example",
        ],
        settings.clone(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("admin-password"), "{err}");
    let err = execute(
        &[
            "user",
            "create",
            "--account",
            "AC1",
            "--email",
            "a@b.example",
            "--password",
            "long password",
            "--role",
            "admin",
        ],
        settings.clone(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("--account"), "{err}");
    let err = execute(
        &[
            "account",
            "create",
            "--name",
            "X",
            "--parent",
            "AC00000000000000000000000000000000",
        ],
        settings.clone(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("not found"), "{err}");
    // Nothing was written by the failed commands.
    let db = crate::server::db::Db::connect(&settings).await.unwrap();
    let n = db
        .scalar_i64("SELECT COUNT(*) FROM accounts", crate::args![])
        .await
        .unwrap();
    assert_eq!(n, 0);
}

async fn demo_is_stable_across_runs(b: Backend) {
    let db = TestDb::new(b).await;
    let settings = test_settings(&db);
    let first = execute(&["demo"], settings.clone()).await.unwrap();
    let second = execute(&["demo"], settings.clone()).await.unwrap();
    assert_eq!(first, second, "the same login is printed every time");
    assert!(first.contains("demo@example.com"));
    let saved: Value = serde_json::from_str(
        &std::fs::read_to_string(settings.data_dir.join("demo.json")).unwrap(),
    )
    .unwrap();
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(settings.data_dir.join("demo.json"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    // Losing the file gives the same account a fresh, working login.
    std::fs::remove_file(settings.data_dir.join("demo.json")).unwrap();
    let third = execute(&["demo"], settings.clone()).await.unwrap();
    assert!(third.contains(saved["accountSid"].as_str().unwrap()));
    assert_ne!(third, first);
    let app = TestApp::start_with(b, |s| s.database_url = settings.database_url.clone()).await;
    let saved: Value = serde_json::from_str(
        &std::fs::read_to_string(settings.data_dir.join("demo.json")).unwrap(),
    )
    .unwrap();
    let res = app
        .http
        .post(app.url("/api/login"))
        .form(&[
            ("email", saved["email"].as_str().unwrap()),
            ("password", saved["password"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

/// A production server neither prints nor creates a demo login (nor seeds one).
async fn demo_is_refused_in_production(b: Backend) {
    use crate::server::config::Environment;
    let db = TestDb::new(b).await;
    let mut settings = test_settings(&db);
    settings.environment = Environment::Production;
    for args in [&["demo"][..], &["seed", "--otps", "10", "--days", "1"][..]] {
        let err = execute(args, settings.clone())
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("production"), "{args:?}: {err}");
    }
    assert!(!settings.data_dir.join("demo.json").exists());
    let db = crate::server::db::Db::connect(&settings).await.unwrap();
    db.migrate().await.unwrap();
    let n = db
        .scalar_i64("SELECT COUNT(*) FROM accounts", crate::args![])
        .await
        .unwrap();
    assert_eq!(n, 0, "nothing created");
    assert!(crate::server::services::demo::allowed(Environment::Development).is_ok());
}

/// A tenant registered demo@example.com (and its operator suspended the account): the demo does
/// not hand that account's login out, reset its token or password, or reactivate it; it makes
/// its own account (emails are unique per account), and the tenant's user is untouched.
async fn demo_leaves_a_squatted_address_alone(b: Backend) {
    use crate::domain::AccountStatus;
    use crate::server::services::accounts::{self, AuthFailure};
    let db = TestDb::new(b).await;
    let settings = test_settings(&db);
    let out = execute(
        &[
            "account",
            "create",
            "--name",
            "Demo Company",
            "--admin-email",
            "demo@example.com",
            "--admin-password",
            "the squatter's password",
        ],
        settings.clone(),
    )
    .await
    .unwrap();
    let created: Value = serde_json::from_str(out.trim()).unwrap();
    let sid = created["accountSid"].as_str().unwrap().to_owned();
    let token = created["authToken"].as_str().unwrap().to_owned();
    let db = crate::server::db::Db::connect(&settings).await.unwrap();
    let clock = crate::server::clock::SystemClock;
    let account = crate::domain::AccountSid::parse(&sid).unwrap();
    accounts::set_status(&db, &clock, &account, AccountStatus::Suspended)
        .await
        .unwrap();

    let out = execute(&["demo"], settings.clone()).await.unwrap();
    let demo: Value = serde_json::from_str(
        &std::fs::read_to_string(settings.data_dir.join("demo.json")).unwrap(),
    )
    .unwrap();
    let demo_sid = demo["accountSid"].as_str().unwrap();
    assert_ne!(demo_sid, sid, "{out}");
    assert!(out.contains(demo_sid) && !out.contains(&sid), "{out}");
    // The demo's login opens the demo's account only.
    let login = crate::server::services::users::check_login(
        &db,
        &clock,
        "demo@example.com",
        demo["password"].as_str().unwrap(),
        None,
        (),
    )
    .await
    .unwrap();
    match login {
        crate::server::services::users::Login::SignedIn(u) => {
            assert_eq!(u.home.sid().as_str(), demo_sid)
        }
        other => panic!("{other:?}"),
    }
    // A second run keeps to the demo's own account.
    std::fs::remove_file(settings.data_dir.join("demo.json")).unwrap();
    execute(&["demo"], settings.clone()).await.unwrap();
    let again: Value = serde_json::from_str(
        &std::fs::read_to_string(settings.data_dir.join("demo.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(again["accountSid"], demo_sid);
    // Same token (still refused only as suspended), same password, still suspended.
    assert_eq!(
        accounts::authenticate(&db, &sid, &token)
            .await
            .unwrap()
            .err(),
        Some(AuthFailure::Inactive)
    );
    let user = crate::server::db::users::find_in_account(&db, &sid, "demo@example.com")
        .await
        .unwrap()
        .unwrap();
    assert!(crate::server::crypto::verify_password(
        "the squatter's password",
        &user.password_hash
    ));
}
