//! API keys from the Developers page: created with a secret shown once, they authenticate as
//! their account until revoked; roles and accounts are checked on the server.
use super::harness::{call, client, dump_table, signed_in, TestApp};
use crate::domain::Role;
use crate::server::db::Backend;
use serde_json::{json, Value};

super::both_backends!(api_keys_authenticate_until_revoked);

async fn api_keys_authenticate_until_revoked(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let other = app.account("Other").await;
    let admin = signed_in(&app, &acc.email, &acc.password).await;
    let (status, list) = call(&app, &admin, "api_keys_list", &[]).await;
    assert_eq!((status, list), (200, json!([])));

    let (status, err) = call(&app, &admin, "api_key_create", &[("name", "  ")]).await;
    assert_eq!((status, err["code"].clone()), (400, json!(7004)), "{err}");
    assert_eq!(err["field"], "friendlyName");

    let (status, created) = call(&app, &admin, "api_key_create", &[("name", "checkout")]).await;
    assert_eq!(status, 200, "{created}");
    let sid = created["key"]["sid"].as_str().unwrap().to_owned();
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(sid.starts_with("SK") && sid.len() == 34, "{sid}");
    assert_eq!(secret.len(), 32);

    // It authenticates as its account: an OTP sent with it belongs to the account.
    let send = |user: String, secret: String| {
        let url = app.url("/2fa/send");
        async move {
            let res = client()
                .post(url)
                .basic_auth(user, Some(secret))
                .json(&json!({"service": "S", "to": "+14155550400"}))
                .send()
                .await
                .unwrap();
            (res.status().as_u16(), res.json::<Value>().await.unwrap())
        }
    };
    let (status, sent) = send(sid.clone(), secret.clone()).await;
    assert_eq!(status, 200, "{sent}");
    let rid = sent["requestID"].as_str().unwrap();
    let (_, sdr) = app.api(&acc).get(&format!("/2fa/search/{rid}")).await;
    assert_eq!(sdr["accountSid"], acc.sid.as_str());
    let (status, _) = send(sid.clone(), "0".repeat(32)).await;
    assert_eq!(status, 401, "a wrong secret");

    // Only a hash of the secret is stored; the list never shows it.
    let stored = dump_table(app.state.db(), "api_credentials").await;
    assert!(!stored.contains(&secret));
    assert!(stored.contains(&crate::server::crypto::hash_token(&secret)));
    let (_, list) = call(&app, &admin, "api_keys_list", &[]).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["name"], "checkout");
    assert_eq!(list[0]["revoked"], Value::Null);
    assert!(!list.to_string().contains(&secret));

    // Support staff see the list but may not create or revoke.
    let (email, password) = app.user(&acc.sid, Role::Support).await;
    let support = signed_in(&app, &email, &password).await;
    let (status, list) = call(&app, &support, "api_keys_list", &[]).await;
    assert_eq!((status, list.as_array().unwrap().len()), (200, 1));
    for (f, form) in [
        ("api_key_create", [("name", "mine")]),
        ("api_key_revoke", [("sid", sid.as_str())]),
    ] {
        let (status, err) = call(&app, &support, f, &form).await;
        assert_eq!((status, err["code"].clone()), (403, json!(7002)), "{f}");
    }
    // Another account neither sees nor revokes it.
    let stranger = signed_in(&app, &other.email, &other.password).await;
    let (_, list) = call(&app, &stranger, "api_keys_list", &[]).await;
    assert_eq!(list, json!([]));
    let (status, err) = call(&app, &stranger, "api_key_revoke", &[("sid", &sid)]).await;
    assert_eq!((status, err["code"].clone()), (404, json!(7003)));
    let (status, _) = send(sid.clone(), secret.clone()).await;
    assert_eq!(status, 200, "still works after the refused attempts");

    // Revoked: refused at once (though this process cached it a moment ago); revoking again
    // changes nothing; it stays listed as revoked.
    let (status, revoked) = call(&app, &admin, "api_key_revoke", &[("sid", &sid)]).await;
    assert_eq!(status, 200, "{revoked}");
    let at = revoked["revoked"].as_str().unwrap().to_owned();
    let (status, body) = send(sid.clone(), secret.clone()).await;
    assert_eq!((status, body["errorCode"].clone()), (401, json!(7001)));
    app.clock.advance_ms(1000);
    let (_, again) = call(&app, &admin, "api_key_revoke", &[("sid", &sid)]).await;
    assert_eq!(again["revoked"], at.as_str());
    let (_, list) = call(&app, &admin, "api_keys_list", &[]).await;
    assert_eq!(list[0]["revoked"], at.as_str());
    // The account's auth token is untouched.
    let (status, _) = send(acc.sid.clone(), acc.token.clone()).await;
    assert_eq!(status, 200);
}
