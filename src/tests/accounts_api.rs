//! `/2fa/accounts`: sub-accounts over the API.
use super::harness::{TestAccount, TestApp};
use crate::server::db::Backend;
use serde_json::json;

super::both_backends!(sub_accounts_lifecycle_over_the_api);

async fn sub_accounts_lifecycle_over_the_api(b: Backend) {
    let app = TestApp::start(b).await;
    let parent = app.account("Parent").await;
    let api = app.api(&parent);
    let (status, created) = api
        .post("/2fa/accounts", json!({"friendlyName": "EU shop"}))
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["parentSid"], parent.sid.as_str());
    assert_eq!(created["status"], "active");
    let child = TestAccount {
        sid: created["accountSid"].as_str().unwrap().into(),
        token: created["authToken"].as_str().unwrap().into(),
        email: String::new(),
        password: String::new(),
    };
    let (_, listed) = api.get("/2fa/accounts").await;
    assert_eq!(listed["total"], 1);
    assert_eq!(listed["accounts"][0]["accountSid"], child.sid.as_str());
    assert!(listed["accounts"][0].get("authToken").is_none());

    let child_api = app.api(&child);
    let (status, _) = child_api.get(&format!("/2fa/accounts/{}", child.sid)).await;
    assert_eq!(status, 200);
    let (status, body) = child_api
        .post("/2fa/accounts", json!({"friendlyName": "grandchild"}))
        .await;
    assert_eq!((status, body["errorCode"].clone()), (403, json!(7002)));
    let (status, _) = child_api
        .post(
            &format!("/2fa/accounts/{}", parent.sid),
            json!({"status": "suspended"}),
        )
        .await;
    assert_eq!(status, 404, "a child cannot see its parent");
    let (status, _) = child_api
        .post(
            &format!("/2fa/accounts/{}", child.sid),
            json!({"status": "closed"}),
        )
        .await;
    assert_eq!(status, 403, "nor change its own status");

    let (status, renamed) = api
        .post(
            &format!("/2fa/accounts/{}", child.sid),
            json!({"friendlyName": "EU store"}),
        )
        .await;
    assert_eq!(
        (status, renamed["friendlyName"].clone()),
        (200, json!("EU store"))
    );
    let (status, body) = api
        .post(
            &format!("/2fa/accounts/{}", child.sid),
            json!({"status": "paused"}),
        )
        .await;
    assert_eq!((status, body["field"].clone()), (400, json!("status")));
    let (status, body) = api.post("/2fa/accounts", json!({})).await;
    assert_eq!(
        (status, body["field"].clone()),
        (400, json!("friendlyName"))
    );

    let (status, _) = api
        .post(
            &format!("/2fa/accounts/{}", child.sid),
            json!({"status": "suspended"}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = child_api.get(&format!("/2fa/accounts/{}", child.sid)).await;
    assert_eq!(
        (status, body["errorCode"].clone()),
        (403, json!(7002)),
        "suspended credentials are refused"
    );
    // Its parent still reads its history but cannot send for it.
    let (status, body) = api
        .post(
            "/2fa/send",
            json!({"service": "S", "to": "+14155550190", "accountSid": child.sid}),
        )
        .await;
    assert_eq!(
        (status, body["errorCode"].clone()),
        (403, json!(7002)),
        "{body}"
    );
    assert!(body["message"].as_str().unwrap().contains("suspended"));
    let (status, _) = api
        .get(&format!("/2fa/search?accountSid={}", child.sid))
        .await;
    assert_eq!(status, 200);
    let (status, _) = api
        .post(
            &format!("/2fa/accounts/{}", child.sid),
            json!({"status": "active"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        child_api
            .get(&format!("/2fa/accounts/{}", child.sid))
            .await
            .0,
        200
    );
    api.post(
        &format!("/2fa/accounts/{}", child.sid),
        json!({"status": "closed"}),
    )
    .await;
    let (status, _) = api
        .post(
            &format!("/2fa/accounts/{}", child.sid),
            json!({"status": "active"}),
        )
        .await;
    assert_eq!(status, 400, "closed is final");
}
