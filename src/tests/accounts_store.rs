//! The account and user store, through the services, on both backends.
use super::harness::TestApp;
use crate::domain::{AccountStatus, ErrorCode, Role};
use crate::server::db::Backend;
use crate::server::services::accounts::{self, AuthFailure, NewAccount};
use crate::server::services::users::{self, NewUser};
use crate::server::services::ServiceError;

super::both_backends!(
    creates_account_with_token_hash_only,
    sub_accounts_nest_one_level,
    user_emails_are_unique_case_insensitively,
    invalid_input_is_refused_with_fields,
    login_checks_password_status_and_disabled,
    rotating_the_token_invalidates_the_old_one,
    failed_creation_leaves_nothing_behind,
    one_email_may_be_a_user_of_several_accounts,
);

async fn creates_account_with_token_hash_only(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    assert_eq!(acc.token.len(), 32);
    // Only the hash is stored.
    let stored = app
        .state
        .db()
        .text(
            "SELECT secret_hash FROM api_credentials WHERE sid = $1",
            crate::args![acc.sid.as_str()],
        )
        .await
        .unwrap()
        .unwrap();
    assert_ne!(stored, acc.token);
    assert_eq!(stored, crate::server::crypto::hash_token(&acc.token));
    let scope = accounts::authenticate(app.state.db(), &acc.sid, &acc.token)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(scope.account().friendly_name, "Acme");
    assert_eq!(scope.account().status, AccountStatus::Active);
    assert_eq!(
        accounts::authenticate(app.state.db(), &acc.sid, "x")
            .await
            .unwrap()
            .unwrap_err(),
        AuthFailure::BadCredentials
    );
    assert_eq!(
        accounts::authenticate(app.state.db(), "ACnotasid", &acc.token)
            .await
            .unwrap()
            .unwrap_err(),
        AuthFailure::BadCredentials
    );
}

async fn sub_accounts_nest_one_level(b: Backend) {
    let app = TestApp::start(b).await;
    let parent = app.account("Parent").await;
    let child = app.account_with_parent("Child", Some(&parent.sid)).await;
    let scope = accounts::authenticate(app.state.db(), &parent.sid, &parent.token)
        .await
        .unwrap()
        .unwrap();
    let seen = accounts::get_visible(app.state.db(), &scope, &child.sid)
        .await
        .unwrap();
    assert_eq!(seen.parent_sid.unwrap().as_str(), parent.sid);
    let err = accounts::create(
        app.state.db(),
        app.state.clock(),
        NewAccount {
            friendly_name: "Grandchild".into(),
            parent: Some(crate::domain::AccountSid::parse(&child.sid).unwrap()),
            admin: None,
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Forbidden);
    let missing = crate::domain::AccountSid::generate();
    let err = accounts::create(
        app.state.db(),
        app.state.clock(),
        NewAccount {
            friendly_name: "Orphan".into(),
            parent: Some(missing),
            admin: None,
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound);
}

async fn user_emails_are_unique_case_insensitively(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let sid = crate::domain::AccountSid::parse(&acc.sid).unwrap();
    users::create(
        app.state.db(),
        app.state.clock(),
        &sid,
        NewUser {
            email: "Ana@Example.com".into(),
            password: "long enough pw".into(),
            role: Role::Support,
        },
    )
    .await
    .unwrap();
    let err = users::create(
        app.state.db(),
        app.state.clock(),
        &sid,
        NewUser {
            email: "ana@example.COM".into(),
            password: "long enough pw".into(),
            role: Role::Admin,
        },
    )
    .await
    .unwrap_err();
    match err {
        ServiceError::Rule { code, field, .. } => {
            assert_eq!(code, ErrorCode::DuplicateName);
            assert_eq!(field, Some("email"));
        }
        other => panic!("unexpected {other:?}"),
    }
}

async fn invalid_input_is_refused_with_fields(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let sid = crate::domain::AccountSid::parse(&acc.sid).unwrap();
    let field_of = |e: ServiceError| match e {
        ServiceError::Rule {
            code: ErrorCode::InvalidParameter,
            field,
            ..
        } => field,
        other => panic!("unexpected {other:?}"),
    };
    let e = users::create(
        app.state.db(),
        app.state.clock(),
        &sid,
        NewUser {
            email: "nope".into(),
            password: "long enough pw".into(),
            role: Role::Admin,
        },
    )
    .await
    .unwrap_err();
    assert_eq!(field_of(e), Some("email"));
    let e = users::create(
        app.state.db(),
        app.state.clock(),
        &sid,
        NewUser {
            email: "a@example.com".into(),
            password: "short".into(),
            role: Role::Admin,
        },
    )
    .await
    .unwrap_err();
    assert_eq!(field_of(e), Some("password"));
    let e = accounts::create(
        app.state.db(),
        app.state.clock(),
        NewAccount {
            friendly_name: "   ".into(),
            parent: None,
            admin: None,
        },
    )
    .await
    .unwrap_err();
    assert_eq!(field_of(e), Some("friendlyName"));
    let e = accounts::create(
        app.state.db(),
        app.state.clock(),
        NewAccount {
            friendly_name: "x".repeat(129),
            parent: None,
            admin: None,
        },
    )
    .await
    .unwrap_err();
    assert_eq!(field_of(e), Some("friendlyName"));
}

async fn login_checks_password_status_and_disabled(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let db = app.state.db();
    let signed_in = |l: users::Login| match l {
        users::Login::SignedIn(u) => Some(u),
        users::Login::Failed => None,
        other => panic!("{other:?}"),
    };
    let ok = signed_in(
        users::check_login(
            db,
            app.state.clock(),
            &acc.email.to_uppercase(),
            &acc.password,
            None,
            (),
        )
        .await
        .unwrap(),
    )
    .unwrap();
    assert_eq!(ok.role, Role::Admin);
    assert_eq!(ok.scope.sid().as_str(), acc.sid);
    for (email, password) in [
        (acc.email.as_str(), "wrong password"),
        ("nobody@example.com", acc.password.as_str()),
    ] {
        let login = users::check_login(db, app.state.clock(), email, password, None, ())
            .await
            .unwrap();
        assert!(signed_in(login).is_none());
    }
    // A suspended account's users cannot sign in.
    accounts::set_status(
        db,
        app.state.clock(),
        ok.scope.sid(),
        AccountStatus::Suspended,
    )
    .await
    .unwrap();
    let login = users::check_login(db, app.state.clock(), &acc.email, &acc.password, None, ())
        .await
        .unwrap();
    assert!(signed_in(login).is_none());
    assert!(users::load_session_user(db, ok.sid.as_str())
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        accounts::authenticate(db, &acc.sid, &acc.token)
            .await
            .unwrap()
            .unwrap_err(),
        AuthFailure::Inactive
    );
}

async fn rotating_the_token_invalidates_the_old_one(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let db = app.state.db();
    let scope = accounts::authenticate(db, &acc.sid, &acc.token)
        .await
        .unwrap()
        .unwrap();
    let new = accounts::rotate_auth_token(db, &scope).await.unwrap();
    assert_ne!(new, acc.token);
    assert!(accounts::authenticate(db, &acc.sid, &acc.token)
        .await
        .unwrap()
        .is_err());
    assert!(accounts::authenticate(db, &acc.sid, &new)
        .await
        .unwrap()
        .is_ok());
}

async fn failed_creation_leaves_nothing_behind(b: Backend) {
    let app = TestApp::start(b).await;
    let _first = app.account("First").await;
    // The user insert fails (a trigger refuses this address) after the account insert succeeded
    // inside the transaction: nothing of the second account may remain.
    let refuse = match b {
        Backend::Sqlite => vec![
            "CREATE TRIGGER refuse_boom BEFORE INSERT ON users WHEN NEW.email_key = 'boom@example.com' \
             BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
        ],
        Backend::Postgres => vec![
            "CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             IF NEW.email_key = 'boom@example.com' THEN RAISE EXCEPTION 'refused by the test'; END IF; \
             RETURN NEW; END $$",
            "CREATE TRIGGER refuse_boom BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION refuse_boom()",
        ],
    };
    for sql in refuse {
        app.state.db().execute(sql, crate::args![]).await.unwrap();
    }
    let err = accounts::create(
        app.state.db(),
        app.state.clock(),
        NewAccount {
            friendly_name: "Second".into(),
            parent: None,
            admin: Some(NewUser {
                email: "boom@example.com".into(),
                password: "long enough pw".into(),
                role: Role::Admin,
            }),
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Internal);
    let db = app.state.db();
    let accounts_n = db
        .scalar_i64("SELECT COUNT(*) FROM accounts", crate::args![])
        .await
        .unwrap();
    let creds_n = db
        .scalar_i64("SELECT COUNT(*) FROM api_credentials", crate::args![])
        .await
        .unwrap();
    assert_eq!((accounts_n, creds_n), (1, 1));
}

/// Emails are unique per account: another tenant may have a user with the same address (and
/// learns nothing by adding it). Sign-in opens the account whose password matched, asks which
/// when the password opens several, and opens the one named.
async fn one_email_may_be_a_user_of_several_accounts(b: Backend) {
    let app = TestApp::start(b).await;
    let db = app.state.db();
    let clock = app.state.clock();
    let mut sids = Vec::new();
    for (name, password) in [
        ("Acme", "acme's password"),
        ("Globex", "globex password"),
        ("Initech", "acme's password"),
    ] {
        let created = accounts::create(
            db,
            clock,
            NewAccount {
                friendly_name: name.into(),
                parent: None,
                admin: Some(NewUser {
                    email: if name == "Globex" {
                        "Sam@Example.com"
                    } else {
                        "sam@example.com"
                    }
                    .into(),
                    password: password.into(),
                    role: Role::Admin,
                }),
            },
        )
        .await
        .unwrap();
        sids.push(created.account.sid.to_string());
    }
    let login = |password: &'static str, account: Option<String>| async move {
        users::check_login(
            db,
            clock,
            "SAM@example.com",
            password,
            account.as_deref(),
            (),
        )
        .await
        .unwrap()
    };
    match login("globex password", None).await {
        users::Login::SignedIn(u) => assert_eq!(u.home.sid().as_str(), sids[1]),
        other => panic!("{other:?}"),
    }
    match login("acme's password", None).await {
        users::Login::ChooseAccount(choices) => {
            let mut got: Vec<(String, String)> = choices
                .into_iter()
                .map(|(sid, name)| (sid.to_string(), name))
                .collect();
            got.sort();
            let mut want = vec![
                (sids[0].clone(), "Acme".to_owned()),
                (sids[2].clone(), "Initech".to_owned()),
            ];
            want.sort();
            assert_eq!(got, want);
        }
        other => panic!("{other:?}"),
    }
    match login("acme's password", Some(sids[2].clone())).await {
        users::Login::SignedIn(u) => assert_eq!(u.home.sid().as_str(), sids[2]),
        other => panic!("{other:?}"),
    }
    // The right password in the wrong account is a failure like any other.
    assert!(matches!(
        login("globex password", Some(sids[0].clone())).await,
        users::Login::Failed
    ));
    assert!(matches!(
        login("nobody's password", None).await,
        users::Login::Failed
    ));
    // Within one account the email stays unique.
    let acme = crate::domain::AccountSid::parse(&sids[0]).unwrap();
    let err = users::create(
        db,
        clock,
        &acme,
        NewUser {
            email: "sam@EXAMPLE.com".into(),
            password: "long enough pw".into(),
            role: Role::Support,
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::DuplicateName);
}
