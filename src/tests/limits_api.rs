//! Named limits: the API, exact sliding windows, blocking, concurrency.
use super::harness::TestApp;
use crate::server::clock::Clock;
use crate::server::db::Backend;
use serde_json::{json, Value};

super::both_backends!(
    limits_crud_and_validation,
    limits_block_exactly_and_record_blocked_otps,
    editing_keeps_hits_and_deleting_takes_effect,
    two_hundred_parallel_sends_accept_exactly_ten,
    thirty_parallel_sends_to_one_number_accept_exactly_five,
    parents_manage_sub_account_limits_with_account_sid,
);

async fn parents_manage_sub_account_limits_with_account_sid(b: Backend) {
    let app = TestApp::start(b).await;
    let parent = app.account("Parent").await;
    let child = app.account_with_parent("Child", Some(&parent.sid)).await;
    let sibling = app.account_with_parent("Sibling", Some(&parent.sid)).await;
    let api = app.api(&parent);
    let mut body = per_ip(1, 3600);
    body["accountSid"] = json!(child.sid);
    let (status, created) = api.post("/2fa/limits", body).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["accountSid"], child.sid.as_str());
    let sid = created["limitSid"].as_str().unwrap().to_owned();
    // It belongs to the child: the child uses and sees it, the parent only with accountSid.
    let child_api = app.api(&child);
    let (status, _) = child_api.get(&format!("/2fa/limits/{sid}")).await;
    assert_eq!(status, 200);
    assert_eq!(api.get(&format!("/2fa/limits/{sid}")).await.0, 404);
    assert_eq!(
        api.get(&format!("/2fa/limits/{sid}?accountSid={}", child.sid))
            .await
            .0,
        200
    );
    child_api
        .send_ok(json!({"service": "S", "to": "+14155550600", "limits": {"per_ip": "k"}}))
        .await;
    assert_eq!(
        child_api
            .post(
                "/2fa/send",
                json!({"service": "S", "to": "+14155550601", "limits": {"per_ip": "k"}})
            )
            .await
            .0,
        429
    );
    // Parent sending for the child charges the child's limit too.
    let (status, body) = api.post("/2fa/send", json!({"service": "S", "to": "+14155550602", "limits": {"per_ip": "k"}, "accountSid": child.sid})).await;
    assert_eq!((status, body["errorCode"].clone()), (429, json!(7020)));
    // The parent's own sends do not know the child's limit; a sibling cannot reach it.
    assert_eq!(
        api.post(
            "/2fa/send",
            json!({"service": "S", "to": "+14155550603", "limits": {"per_ip": "k"}})
        )
        .await
        .0,
        400
    );
    let sibling_api = app.api(&sibling);
    assert_eq!(sibling_api.get(&format!("/2fa/limits/{sid}")).await.0, 404);
    assert_eq!(
        sibling_api
            .get(&format!("/2fa/limits?accountSid={}", child.sid))
            .await
            .0,
        403
    );
}

fn assert_error(body: &Value, status: u16, code: u16) {
    assert_eq!(body["code"], status, "{body}");
    assert_eq!(body["errorCode"], code, "{body}");
}

fn per_ip(max: i64, interval: i64) -> Value {
    json!({"name": "per_ip", "description": "by client address", "buckets": [{"name": "short", "maxOtp": max, "interval": interval}]})
}

async fn limits_crud_and_validation(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let api = app.api(&acc);
    let (status, created) = api.post("/2fa/limits", json!({"name": "per_ip", "buckets": [{"name": "minute", "maxOtp": 5, "interval": 60}, {"name": "day", "maxOtp": 30, "interval": 86400}]})).await;
    assert_eq!(status, 201, "{created}");
    let sid = created["limitSid"].as_str().unwrap().to_owned();
    assert!(sid.starts_with("LM") && sid.len() == 34);
    assert_eq!(
        created["buckets"][1],
        json!({"name": "day", "maxOtp": 30, "interval": 86400})
    );
    assert_eq!(created["uri"], format!("/2fa/limits/{sid}"));

    let cases = [
        (
            json!({"name": "per_ip", "buckets": [{"maxOtp": 1, "interval": 1}]}),
            409,
            7050,
        ),
        (json!({"name": "x", "buckets": []}), 400, 7004),
        (
            json!({"name": "x", "buckets": [{"maxOtp": 1, "interval": 1}, {"maxOtp": 1, "interval": 2}, {"maxOtp": 1, "interval": 3}]}),
            400,
            7051,
        ),
        (
            json!({"name": "x", "buckets": [{"maxOtp": 0, "interval": 60}]}),
            400,
            7004,
        ),
        (
            json!({"name": "x", "buckets": [{"maxOtp": 5, "interval": 0}]}),
            400,
            7004,
        ),
        (
            json!({"name": "x", "buckets": [{"maxOtp": 1_000_000_000_000i64, "interval": 60}]}),
            400,
            7004,
        ),
        (
            json!({"name": "x", "buckets": [{"maxOtp": 5, "interval": 99_999_999_999i64}]}),
            400,
            7004,
        ),
        (
            json!({"name": "café", "buckets": [{"maxOtp": 5, "interval": 60}]}),
            400,
            7004,
        ),
        (
            json!({"name": "x", "buckets": [{"maxOtp": "five", "interval": 60}]}),
            400,
            7004,
        ),
        (
            json!({"buckets": [{"maxOtp": 5, "interval": 60}]}),
            400,
            7004,
        ),
        (json!({"name": "x"}), 400, 7004),
    ];
    for (input, status, code) in cases {
        let (got, body) = api.post("/2fa/limits", input.clone()).await;
        assert_eq!(got, status, "{input} → {body}");
        assert_error(&body, status, code);
    }
    let (status, other) = api
        .post(
            "/2fa/limits",
            json!({"name": "per_phone", "buckets": [{"maxOtp": 3, "interval": 600}]}),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(
        other["buckets"][0]["name"], "bucket1",
        "an unnamed bucket gets a name"
    );
    // Rename onto an existing name.
    let (status, body) = app
        .http
        .put(app.url(&format!("/2fa/limits/{sid}")))
        .basic_auth(&acc.sid, Some(&acc.token))
        .json(&json!({"name": "per_phone"}))
        .send()
        .await
        .map(|r| (r.status().as_u16(), r))
        .unwrap();
    assert_eq!(status, 409);
    assert_error(&body.json().await.unwrap(), 409, 7050);
    let res = app
        .http
        .put(app.url(&format!("/2fa/limits/{sid}")))
        .basic_auth(&acc.sid, Some(&acc.token))
        .json(&json!({"name": "per_client", "description": "renamed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let renamed: Value = res.json().await.unwrap();
    assert_eq!(
        (
            renamed["name"].clone(),
            renamed["buckets"].as_array().unwrap().len()
        ),
        (json!("per_client"), 2)
    );

    let (_, list) = api.get("/2fa/limits").await;
    assert_eq!(list["total"], 2);
    let (_, filtered) = api.get("/2fa/limits?name=per_c*").await;
    assert_eq!(filtered["total"], 1);
    assert_eq!(filtered["limits"][0]["name"], "per_client");

    // Other tenants see nothing.
    let stranger = app.account("Stranger").await;
    let (status, _) = app.api(&stranger).get(&format!("/2fa/limits/{sid}")).await;
    assert_eq!(status, 404);
    let res = app
        .http
        .delete(app.url(&format!("/2fa/limits/{sid}")))
        .basic_auth(&stranger.sid, Some(&stranger.token))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);

    let res = app
        .http
        .delete(app.url(&format!("/2fa/limits/{sid}")))
        .basic_auth(&acc.sid, Some(&acc.token))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let (status, _) = api.get(&format!("/2fa/limits/{sid}")).await;
    assert_eq!(status, 404);
}

async fn limits_block_exactly_and_record_blocked_otps(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let api = app.api(&acc);
    assert_eq!(api.post("/2fa/limits", per_ip(3, 60)).await.0, 201);
    let start = app.clock.now_ms();
    for i in 0..3 {
        api.send_ok(json!({"service": "S", "to": format!("+1415555{:04}", 300 + i), "limits": {"per_ip": "203.0.113.7"}})).await;
        app.clock.advance_ms(10_000);
    }
    // 4th within the minute: blocked; the oldest hit (t=0) frees a slot at t=60 s; now t=30 s.
    let res = app
        .http
        .post(app.url("/2fa/send"))
        .basic_auth(&acc.sid, Some(&acc.token))
        .json(&json!({"service": "S", "to": "+14155550399", "limits": {"per_ip": "203.0.113.7"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert_eq!(res.headers()["retry-after"], "30");
    let body: Value = res.json().await.unwrap();
    assert_error(&body, 429, 7020);
    assert_eq!(
        (
            body["limit"].clone(),
            body["bucket"].clone(),
            body["retryAfter"].clone()
        ),
        (json!("per_ip"), json!("short"), json!(30))
    );
    let blocked = body["requestID"].as_str().unwrap().to_owned();
    // Another key is not affected.
    api.send_ok(
        json!({"service": "S", "to": "+14155550398", "limits": {"per_ip": "198.51.100.1"}}),
    )
    .await;

    // The blocked OTP is on record, never delivered.
    app.deliver().await;
    let (_, sdr) = api.get(&format!("/2fa/search/{blocked}")).await;
    assert_eq!(sdr["status"], "blocked");
    let kinds: Vec<&str> = sdr["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["created", "limit_check", "blocked"]);
    assert_eq!(
        sdr["events"][1]["detail"],
        json!({"limit": "per_ip", "key": "203.0.113.7", "result": "full"})
    );
    assert_eq!(
        sdr["events"][2]["detail"],
        json!({"limit": "per_ip", "bucket": "short", "retryAfter": 30})
    );
    let (_, outbox) = api
        .get(&format!("/2fa/sandbox/messages?requestID={blocked}"))
        .await;
    assert_eq!(outbox["total"], 0);
    let (_, found) = api.get("/2fa/search?status=blocked").await;
    assert_eq!(found["total"], 1);
    let (status, body) = api
        .post(
            "/2fa/verify",
            json!({"requestID": blocked, "code": "123456"}),
        )
        .await;
    assert_eq!((status, body["status"].clone()), (404, json!("blocked")));

    // The window is exact: one millisecond before t=60 s still blocked, at t=60 s accepted.
    app.clock.set(start + 59_999);
    let (status, _) = api
        .post(
            "/2fa/send",
            json!({"service": "S", "to": "+14155550397", "limits": {"per_ip": "203.0.113.7"}}),
        )
        .await;
    assert_eq!(status, 429);
    app.clock.set(start + 60_000);
    api.send_ok(json!({"service": "S", "to": "+14155550396", "limits": {"per_ip": "203.0.113.7"}}))
        .await;
    // Blocked sends were not counted: the next slot opens when the hit at t=10 s ages out.
    let (status, body) = api
        .post(
            "/2fa/send",
            json!({"service": "S", "to": "+14155550395", "limits": {"per_ip": "203.0.113.7"}}),
        )
        .await;
    assert_eq!((status, body["retryAfter"].clone()), (429, json!(10)));
}

async fn editing_keeps_hits_and_deleting_takes_effect(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let api = app.api(&acc);
    let (_, created) = api.post("/2fa/limits", per_ip(2, 3600)).await;
    let sid = created["limitSid"].as_str().unwrap().to_owned();
    for i in 0..2 {
        api.send_ok(json!({"service": "S", "to": format!("+1415555{:04}", 500 + i), "limits": {"per_ip": "k"}})).await;
    }
    assert_eq!(
        api.post(
            "/2fa/send",
            json!({"service": "S", "to": "+14155550510", "limits": {"per_ip": "k"}})
        )
        .await
        .0,
        429
    );
    // Raise maxOtp: the two counted hits stay counted.
    let res = app
        .http
        .put(app.url(&format!("/2fa/limits/{sid}")))
        .basic_auth(&acc.sid, Some(&acc.token))
        .json(&json!({"buckets": [{"name": "short", "maxOtp": 3, "interval": 3600}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    api.send_ok(json!({"service": "S", "to": "+14155550511", "limits": {"per_ip": "k"}}))
        .await;
    assert_eq!(
        api.post(
            "/2fa/send",
            json!({"service": "S", "to": "+14155550512", "limits": {"per_ip": "k"}})
        )
        .await
        .0,
        429
    );
    // Deleted: the name is unknown on the next send.
    app.http
        .delete(app.url(&format!("/2fa/limits/{sid}")))
        .basic_auth(&acc.sid, Some(&acc.token))
        .send()
        .await
        .unwrap();
    let (status, body) = api
        .post(
            "/2fa/send",
            json!({"service": "S", "to": "+14155550513", "limits": {"per_ip": "k"}}),
        )
        .await;
    assert_eq!(status, 400);
    assert_error(&body, 400, 7021);
}

async fn two_hundred_parallel_sends_accept_exactly_ten(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let api = app.api(&acc);
    assert_eq!(api.post("/2fa/limits", per_ip(10, 3600)).await.0, 201);
    let mut tasks = Vec::new();
    for i in 0..200 {
        let (http, url, sid, token) = (
            app.http.clone(),
            app.url("/2fa/send"),
            acc.sid.clone(),
            acc.token.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let res = http.post(url).basic_auth(sid, Some(token))
                .json(&json!({"service": "S", "to": format!("+1415556{:04}", i + 1), "limits": {"per_ip": "203.0.113.9"}}))
                .send().await.unwrap();
            res.status().as_u16()
        }));
    }
    let mut ok = 0;
    let mut blocked = 0;
    for t in tasks {
        match t.await.unwrap() {
            200 => ok += 1,
            429 => blocked += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!((ok, blocked), (10, 190));
    let (_, found) = api.get("/2fa/search?status=blocked&PageSize=1").await;
    assert_eq!(found["total"], 190);
}

/// Per-destination protection is exact under concurrency: 30 parallel sends to one number,
/// 5 allowed per 10 minutes, accept exactly 5 (the check runs in each send's transaction).
async fn thirty_parallel_sends_to_one_number_accept_exactly_five(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let mut tasks = Vec::new();
    for i in 0..30 {
        let (http, url, sid, token) = (
            app.http.clone(),
            app.url("/2fa/send"),
            acc.sid.clone(),
            acc.token.clone(),
        );
        // Some with an idempotency key (the transactional path), most without (group commit).
        tasks.push(tokio::spawn(async move {
            let mut req = http.post(url).basic_auth(sid, Some(token));
            if i % 3 == 0 {
                req = req.header("Idempotency-Key", format!("k{i}"));
            }
            let res = req
                .json(&json!({"service": "S", "to": "+14155550177"}))
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let body: serde_json::Value = res.json().await.unwrap();
            (status, body)
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            (200, _) => ok += 1,
            (429, e) => {
                assert_eq!(e["errorCode"], 7022, "{e}");
                assert!(e["retryAfter"].as_u64().unwrap() > 0, "{e}");
            }
            (other, e) => panic!("unexpected status {other}: {e}"),
        }
    }
    assert_eq!(ok, 5);
    let (_, found) = app.api(&acc).get("/2fa/search?to=%2B14155550177").await;
    assert_eq!(found["total"], 5, "only the accepted ones are recorded");
}
