//! The Sub-accounts page's server functions and the console's account switch: admins create
//! (token shown once), rename, suspend, reactivate and close sub-accounts; every role may switch
//! the console into one, whose data every page then shows; nobody reaches another account's.
use super::harness::{call, client, signed_in, TestApp};
use crate::domain::Role;
use crate::server::db::Backend;
use serde_json::{json, Value};

super::both_backends!(
    subaccounts_are_managed_and_switched_into,
    a_suspended_parent_takes_its_sub_accounts_with_it,
);

async fn api_status(app: &TestApp, sid: &str, token: &str) -> u16 {
    client()
        .get(app.url(&format!("/2fa/accounts/{sid}")))
        .basic_auth(sid, Some(token))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn subaccounts_are_managed_and_switched_into(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let stranger_acc = app.account("Stranger").await;
    let strangers_sub = app
        .account_with_parent("Stranger EU", Some(&stranger_acc.sid))
        .await;
    let admin = signed_in(&app, &acc.email, &acc.password).await;
    let (status, list) = call(&app, &admin, "subaccounts_list", &[]).await;
    assert_eq!((status, list), (200, json!([])));

    let (status, err) = call(&app, &admin, "subaccount_create", &[("name", " ")]).await;
    assert_eq!((status, err["code"].clone()), (400, json!(7004)), "{err}");
    let (status, created) = call(&app, &admin, "subaccount_create", &[("name", "Acme EU")]).await;
    assert_eq!(status, 200, "{created}");
    let sub = created["account"]["sid"].as_str().unwrap().to_owned();
    let token = created["auth_token"].as_str().unwrap().to_owned();
    assert_eq!(created["account"]["status"], "active");
    assert_eq!(
        api_status(&app, &sub, &token).await,
        200,
        "its own token works"
    );

    // Rename; suspend (its credentials are refused) and reactivate.
    let (status, renamed) = call(
        &app,
        &admin,
        "subaccount_update",
        &[("sid", &sub), ("name", "Acme Europe")],
    )
    .await;
    assert_eq!(
        (status, renamed["name"].clone()),
        (200, json!("Acme Europe"))
    );
    let (_, suspended) = call(
        &app,
        &admin,
        "subaccount_update",
        &[("sid", &sub), ("status", "suspended")],
    )
    .await;
    assert_eq!(suspended["status"], "suspended");
    assert_eq!(api_status(&app, &sub, &token).await, 403);
    call(
        &app,
        &admin,
        "subaccount_update",
        &[("sid", &sub), ("status", "active")],
    )
    .await;
    assert_eq!(api_status(&app, &sub, &token).await, 200);
    let (status, err) = call(
        &app,
        &admin,
        "subaccount_update",
        &[("sid", &sub), ("status", "paused")],
    )
    .await;
    assert_eq!((status, err["field"].clone()), (400, json!("status")));

    // Switch into it: every page works on it. A key created now belongs to the sub-account.
    let whoami = |c: reqwest::Client| {
        let url = app.url("/api/whoami");
        async move {
            c.post(url)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let (status, _) = call(&app, &admin, "switch_account", &[("sid", &sub)]).await;
    assert_eq!(status, 200);
    let me = whoami(admin.clone()).await;
    assert_eq!(
        (me["account_sid"].clone(), me["account_name"].clone()),
        (json!(sub), json!("Acme Europe")),
        "{me}"
    );
    assert_eq!(me["home_account_name"], "Acme");
    let (_, key) = call(&app, &admin, "api_key_create", &[("name", "eu-app")]).await;
    let key_sid = key["key"]["sid"].as_str().unwrap();
    let key_secret = key["secret"].as_str().unwrap();
    let res = client()
        .get(app.url(&format!("/2fa/accounts/{sub}")))
        .basic_auth(key_sid, Some(key_secret))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the key acts as the sub-account");
    // The list is still the home account's sub-accounts.
    let (_, list) = call(&app, &admin, "subaccounts_list", &[]).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    // Back home.
    let (status, _) = call(&app, &admin, "switch_account", &[("sid", "")]).await;
    assert_eq!(status, 200);
    let me = whoami(admin.clone()).await;
    assert_eq!(
        (me["account_sid"].clone(), me["home_account_name"].clone()),
        (json!(acc.sid), Value::Null)
    );
    let (_, keys) = call(&app, &admin, "api_keys_list", &[]).await;
    assert_eq!(
        keys,
        json!([]),
        "the key is the sub-account's, not the parent's"
    );

    // Another account's sub-account, or the stranger itself: not found, nothing switched.
    for target in [
        strangers_sub.sid.as_str(),
        stranger_acc.sid.as_str(),
        "ACnope",
    ] {
        let (status, err) = call(&app, &admin, "switch_account", &[("sid", target)]).await;
        assert_eq!(
            (status, err["code"].clone()),
            (404, json!(7003)),
            "{target}"
        );
        let (status, _) = call(
            &app,
            &admin,
            "subaccount_update",
            &[("sid", target), ("name", "Mine")],
        )
        .await;
        assert_eq!(status, 404, "{target}");
    }
    assert_eq!(whoami(admin.clone()).await["account_sid"], acc.sid.as_str());

    // Support may switch but not change; a switched session's role stays its own.
    let (email, password) = app.user(&acc.sid, Role::Support).await;
    let support = signed_in(&app, &email, &password).await;
    let (status, list) = call(&app, &support, "subaccounts_list", &[]).await;
    assert_eq!((status, list.as_array().unwrap().len()), (200, 1));
    for (f, form) in [
        ("subaccount_create", vec![("name", "Mine")]),
        (
            "subaccount_update",
            vec![("sid", sub.as_str()), ("status", "suspended")],
        ),
    ] {
        let (status, err) = call(&app, &support, f, &form).await;
        assert_eq!((status, err["code"].clone()), (403, json!(7002)), "{f}");
    }
    let (status, _) = call(&app, &support, "switch_account", &[("sid", &sub)]).await;
    assert_eq!(status, 200);
    let (status, _) = call(&app, &support, "api_key_create", &[("name", "x")]).await;
    assert_eq!(status, 403);

    // Closed: its token is refused and it cannot be reopened (its history stays readable).
    let (_, closed) = call(
        &app,
        &admin,
        "subaccount_update",
        &[("sid", &sub), ("status", "closed")],
    )
    .await;
    assert_eq!(closed["status"], "closed");
    assert_eq!(api_status(&app, &sub, &token).await, 403);
    let (status, err) = call(
        &app,
        &admin,
        "subaccount_update",
        &[("sid", &sub), ("status", "active")],
    )
    .await;
    assert_eq!((status, err["field"].clone()), (400, json!("status")));
    // The switched support session still reads the closed sub-account's history.
    assert_eq!(whoami(support.clone()).await["account_sid"], sub.as_str());
    let (status, _) = call(&app, &support, "api_keys_list", &[]).await;
    assert_eq!(status, 200);
    // A new sign-in in the same (switched) browser starts on the user's own account.
    let res = support
        .post(app.url("/api/login"))
        .form(&[("email", email.as_str()), ("password", password.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(whoami(support).await["account_sid"], acc.sid.as_str());
}

/// Suspending or closing a parent stops its sub-accounts at once on this instance: their auth
/// token and API keys answer 403 like an inactive account's, their console sessions end and their
/// users cannot sign in; reactivating the parent restores all of it.
async fn a_suspended_parent_takes_its_sub_accounts_with_it(b: Backend) {
    use crate::domain::{AccountSid, AccountStatus};
    use crate::server::services::accounts;
    let app = TestApp::start(b).await;
    let parent = app.account("Acme").await;
    let sub = app.account_with_parent("Acme EU", Some(&parent.sid)).await;
    let session = signed_in(&app, &sub.email, &sub.password).await;
    let (status, key) = call(&app, &session, "api_key_create", &[("name", "ci")]).await;
    assert_eq!(status, 200, "{key}");
    let key_sid = key["key"]["sid"].as_str().unwrap().to_owned();
    let key_secret = key["secret"].as_str().unwrap().to_owned();
    let key_status = || async {
        client()
            .get(app.url(&format!("/2fa/accounts/{}", sub.sid)))
            .basic_auth(&key_sid, Some(&key_secret))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    // Both credentials work (and are now in the credential cache), the session too.
    assert_eq!(api_status(&app, &sub.sid, &sub.token).await, 200);
    assert_eq!(key_status().await, 200);
    assert_eq!(call(&app, &session, "whoami", &[]).await.0, 200);

    let parent_sid = AccountSid::parse(&parent.sid).unwrap();
    let set_parent = |status| {
        let parent_sid = parent_sid.clone();
        let app = &app;
        async move {
            accounts::set_status(app.state.db(), app.state.clock(), &parent_sid, status)
                .await
                .unwrap();
            // What every status change made through this process does.
            app.state
                .guards()
                .auth_cache
                .forget_account(parent_sid.as_str());
        }
    };
    for inactive in [AccountStatus::Suspended, AccountStatus::Closed] {
        set_parent(inactive).await;
        let res = client()
            .get(app.url(&format!("/2fa/accounts/{}", sub.sid)))
            .basic_auth(&sub.sid, Some(&sub.token))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{inactive:?}");
        assert_eq!(res.json::<Value>().await.unwrap()["errorCode"], 7002);
        assert_eq!(key_status().await, 403, "{inactive:?}");
        let fresh = client();
        let res = fresh
            .post(app.url("/api/login"))
            .form(&[("email", &sub.email), ("password", &sub.password)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401, "{inactive:?}: no sign-in");
    }
    assert_eq!(
        call(&app, &session, "whoami", &[]).await.0,
        401,
        "the session ended"
    );

    set_parent(AccountStatus::Active).await;
    assert_eq!(api_status(&app, &sub.sid, &sub.token).await, 200);
    assert_eq!(key_status().await, 200);
    let again = signed_in(&app, &sub.email, &sub.password).await;
    assert_eq!(call(&app, &again, "whoami", &[]).await.0, 200);
}
