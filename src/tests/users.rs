//! The Users page's server functions: admins add users, change roles, disable and enable them;
//! an account always keeps an active admin, even when two admins demote each other at once.
use super::harness::{call, client, signed_in, TestApp};
use crate::domain::Role;
use crate::server::db::Backend;
use serde_json::{json, Value};

super::both_backends!(
    admins_manage_users_and_keep_one_admin,
    two_admins_demoting_each_other_leave_one
);

async fn login_status(app: &TestApp, email: &str, password: &str) -> u16 {
    client()
        .post(app.url("/api/login"))
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn sid_of(list: &Value, email: &str) -> String {
    list.as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == email)
        .unwrap_or_else(|| panic!("{email} not in {list}"))["sid"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn admins_manage_users_and_keep_one_admin(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let other = app.account("Other").await;
    let admin = signed_in(&app, &acc.email, &acc.password).await;
    let (status, list) = call(&app, &admin, "users_list", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["role"], "admin");
    assert!(
        !list.to_string().contains("argon2"),
        "no password hash: {list}"
    );
    let my_sid = sid_of(&list, &acc.email);

    // Bad input names the field.
    let dev_email = "dev@acme.example.com";
    for (form, field) in [
        (
            [
                ("email", "nope"),
                ("role", "developer"),
                ("password", "long enough password"),
            ],
            "email",
        ),
        (
            [
                ("email", dev_email),
                ("role", "developer"),
                ("password", "short"),
            ],
            "password",
        ),
        (
            [
                ("email", dev_email),
                ("role", "boss"),
                ("password", "long enough password"),
            ],
            "role",
        ),
    ] {
        let (status, err) = call(&app, &admin, "user_add", &form).await;
        assert_eq!((status, err["field"].clone()), (400, json!(field)), "{err}");
    }
    let add = [
        ("email", dev_email),
        ("role", "developer"),
        ("password", "dev-password-123"),
    ];
    let (status, _) = call(&app, &admin, "user_add", &add).await;
    assert_eq!(status, 200);
    let (status, err) = call(&app, &admin, "user_add", &add).await;
    assert_eq!(
        (status, err["code"].clone(), err["field"].clone()),
        (409, json!(7050), json!("email"))
    );

    // The new user signs in with the role given; only admins manage users.
    let dev = signed_in(&app, dev_email, "dev-password-123").await;
    let (status, _) = call(&app, &dev, "api_key_create", &[("name", "ci")]).await;
    assert_eq!(status, 200, "a developer manages API keys");
    let (status, list) = call(&app, &dev, "users_list", &[]).await;
    assert_eq!((status, list.as_array().unwrap().len()), (200, 2));
    let dev_sid = sid_of(&list, dev_email);
    for (f, form) in [
        (
            "user_add",
            vec![
                ("email", "x@acme.example.com"),
                ("role", "admin"),
                ("password", "long enough password"),
            ],
        ),
        (
            "user_set_role",
            vec![("sid", my_sid.as_str()), ("role", "support")],
        ),
        (
            "user_set_disabled",
            vec![("sid", my_sid.as_str()), ("disabled", "true")],
        ),
    ] {
        let (status, err) = call(&app, &dev, f, &form).await;
        assert_eq!((status, err["code"].clone()), (403, json!(7002)), "{f}");
    }

    // A new role applies to the user's very next call.
    let (status, changed) = call(
        &app,
        &admin,
        "user_set_role",
        &[("sid", &dev_sid), ("role", "support")],
    )
    .await;
    assert_eq!(
        (status, changed["role"].clone()),
        (200, json!("support")),
        "{changed}"
    );
    let (status, _) = call(&app, &dev, "api_key_create", &[("name", "ci2")]).await;
    assert_eq!(status, 403);

    // Disabled: the session ends at once and signing in is refused; enabled: back in.
    let (status, changed) = call(
        &app,
        &admin,
        "user_set_disabled",
        &[("sid", &dev_sid), ("disabled", "true")],
    )
    .await;
    assert_eq!((status, changed["disabled"].clone()), (200, json!(true)));
    let (status, _) = call(&app, &dev, "users_list", &[]).await;
    assert_eq!(status, 401);
    assert_eq!(login_status(&app, dev_email, "dev-password-123").await, 401);
    let (status, _) = call(
        &app,
        &admin,
        "user_set_disabled",
        &[("sid", &dev_sid), ("disabled", "false")],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(login_status(&app, dev_email, "dev-password-123").await, 200);

    // The last admin can neither step down nor be disabled; nobody disables themselves.
    let (status, err) = call(
        &app,
        &admin,
        "user_set_role",
        &[("sid", &my_sid), ("role", "developer")],
    )
    .await;
    assert_eq!(
        (status, err["field"].clone()),
        (400, json!("role")),
        "{err}"
    );
    assert!(err["message"]
        .as_str()
        .unwrap()
        .contains("at least one active admin"));
    let (status, err) = call(
        &app,
        &admin,
        "user_set_disabled",
        &[("sid", &my_sid), ("disabled", "true")],
    )
    .await;
    assert_eq!(
        (status, err["field"].clone()),
        (400, json!("disabled")),
        "{err}"
    );
    // With a second admin, the first may step down (and then no longer manages users).
    call(
        &app,
        &admin,
        "user_set_role",
        &[("sid", &dev_sid), ("role", "admin")],
    )
    .await;
    let (status, _) = call(
        &app,
        &admin,
        "user_set_role",
        &[("sid", &my_sid), ("role", "developer")],
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = call(
        &app,
        &admin,
        "user_set_role",
        &[("sid", &dev_sid), ("role", "support")],
    )
    .await;
    assert_eq!(status, 403);

    // Another account neither sees nor changes them.
    let stranger = signed_in(&app, &other.email, &other.password).await;
    let (_, theirs) = call(&app, &stranger, "users_list", &[]).await;
    assert_eq!(theirs.as_array().unwrap().len(), 1);
    assert!(!theirs.to_string().contains(dev_email));
    let (status, err) = call(
        &app,
        &stranger,
        "user_set_disabled",
        &[("sid", &dev_sid), ("disabled", "true")],
    )
    .await;
    assert_eq!((status, err["code"].clone()), (404, json!(7003)));
    assert_eq!(login_status(&app, dev_email, "dev-password-123").await, 200);
}

/// Two admins demote each other at the same moment, again and again: exactly one change wins
/// each time and the account is never left without an admin.
async fn two_admins_demoting_each_other_leave_one(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let (email_b, password_b) = app.user(&acc.sid, Role::Admin).await;
    let a = signed_in(&app, &acc.email, &acc.password).await;
    let b_client = signed_in(&app, &email_b, &password_b).await;
    let (_, list) = call(&app, &a, "users_list", &[]).await;
    let (sid_a, sid_b) = (sid_of(&list, &acc.email), sid_of(&list, &email_b));
    for round in 0..10 {
        let demote_b = [("sid", sid_b.as_str()), ("role", "developer")];
        let demote_a = [("sid", sid_a.as_str()), ("role", "developer")];
        let (ra, rb) = tokio::join!(
            call(&app, &a, "user_set_role", &demote_b),
            call(&app, &b_client, "user_set_role", &demote_a),
        );
        let wins = [ra.0, rb.0].iter().filter(|s| **s == 200).count();
        assert_eq!(wins, 1, "round {round}: {ra:?} {rb:?}");
        let (_, list) = call(
            &app,
            if ra.0 == 200 { &a } else { &b_client },
            "users_list",
            &[],
        )
        .await;
        let admins: Vec<_> = list
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| u["role"] == "admin" && u["disabled"] == false)
            .collect();
        assert_eq!(admins.len(), 1, "round {round}: {list}");
        // The remaining admin promotes the other again for the next round.
        let (winner, loser_sid) = if ra.0 == 200 {
            (&a, &sid_b)
        } else {
            (&b_client, &sid_a)
        };
        let (status, _) = call(
            &app,
            winner,
            "user_set_role",
            &[("sid", loser_sid), ("role", "admin")],
        )
        .await;
        assert_eq!(status, 200);
    }
}
