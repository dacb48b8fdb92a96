//! HTTP Basic authentication of the REST API, tenancy of `GET /2fa/accounts/{sid}`, throttling.
use super::harness::TestApp;
use crate::domain::AccountStatus;
use crate::server::db::Backend;
use serde_json::Value;
use std::time::{Duration, Instant};

super::both_backends!(
    own_account_with_right_credentials,
    wrong_or_missing_credentials_answer_401_envelope,
    tenancy_parent_child_sibling_and_strangers,
    inactive_accounts_answer_403,
    failures_are_slowed_then_refused,
    a_bad_credential_does_not_lock_out_its_neighbours,
    forwarded_for_takes_the_last_hop_of_every_line,
    unknown_paths_and_methods_answer_json,
);

async fn get(
    app: &TestApp,
    path: &str,
    user: &str,
    pass: &str,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let res = app
        .http
        .get(app.url(path))
        .basic_auth(user, Some(pass))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = res.json::<Value>().await.unwrap_or(Value::Null);
    (status, body, headers)
}

fn assert_envelope(body: &Value, status: u16, code: u16) {
    assert_eq!(body["code"], status, "{body}");
    assert_eq!(body["errorCode"], code, "{body}");
    assert_eq!(body["moreInfo"], format!("/2fa/errors#{code}"), "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

async fn own_account_with_right_credentials(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme Corp").await;
    for path in [
        format!("/2fa/accounts/{}", acc.sid),
        format!("/2fa/accounts/{}.json", acc.sid),
    ] {
        let (status, body, headers) = get(&app, &path, &acc.sid, &acc.token).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(body["accountSid"], acc.sid.as_str());
        assert_eq!(body["friendlyName"], "Acme Corp");
        assert_eq!(body["status"], "active");
        assert_eq!(body["parentSid"], Value::Null);
        assert_eq!(body["uri"], format!("/2fa/accounts/{}", acc.sid));
        assert!(body["dateCreated"].as_str().unwrap().ends_with('Z'));
        assert!(
            body.get("authToken").is_none(),
            "the token is never shown again"
        );
        assert!(
            headers.get("x-request-id").is_some(),
            "every answer carries a request id"
        );
    }
}

async fn wrong_or_missing_credentials_answer_401_envelope(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let path = format!("/2fa/accounts/{}", acc.sid);
    let (status, body, headers) =
        get(&app, &path, &acc.sid, "0123456789abcdef0123456789abcdef").await;
    assert_eq!(status, 401);
    assert_envelope(&body, 401, 7001);
    assert_eq!(headers["www-authenticate"], "Basic realm=\"smart2fa\"");
    let (status, _, _) = get(
        &app,
        &path,
        "ACffffffffffffffffffffffffffffffff",
        &acc.token,
    )
    .await;
    assert_eq!(status, 401);
    let res = app.http.get(app.url(&path)).send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.headers()["www-authenticate"],
        "Basic realm=\"smart2fa\""
    );
    assert_envelope(&res.json().await.unwrap(), 401, 7001);
    let res = app
        .http
        .get(app.url(&path))
        .header("authorization", "Bearer abc")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let res = app
        .http
        .get(app.url(&path))
        .header("authorization", "Basic !!!notbase64")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

async fn tenancy_parent_child_sibling_and_strangers(b: Backend) {
    let app = TestApp::start(b).await;
    let parent = app.account("Parent").await;
    let child = app.account_with_parent("Child", Some(&parent.sid)).await;
    let sibling = app.account_with_parent("Sibling", Some(&parent.sid)).await;
    let stranger = app.account("Stranger").await;
    let missing = "AC00000000000000000000000000000000";

    // The parent sees its child.
    let (status, body, _) = get(
        &app,
        &format!("/2fa/accounts/{}", child.sid),
        &parent.sid,
        &parent.token,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["parentSid"], parent.sid.as_str());
    // The child sees itself, but not its parent, its sibling or a stranger; all answer exactly
    // like an id that does not exist.
    let (status, _, _) = get(
        &app,
        &format!("/2fa/accounts/{}", child.sid),
        &child.sid,
        &child.token,
    )
    .await;
    assert_eq!(status, 200);
    let (_, not_found, _) = get(
        &app,
        &format!("/2fa/accounts/{missing}"),
        &child.sid,
        &child.token,
    )
    .await;
    assert_envelope(&not_found, 404, 7003);
    for other in [&parent.sid, &sibling.sid, &stranger.sid] {
        let (status, body, _) = get(
            &app,
            &format!("/2fa/accounts/{other}"),
            &child.sid,
            &child.token,
        )
        .await;
        assert_eq!(status, 404, "{body}");
        assert_eq!(body, not_found, "no difference between hidden and missing");
    }
    // A stranger sees none of the family.
    for other in [&parent.sid, &child.sid] {
        let (status, _, _) = get(
            &app,
            &format!("/2fa/accounts/{other}"),
            &stranger.sid,
            &stranger.token,
        )
        .await;
        assert_eq!(status, 404);
    }
    // Malformed ids are simply not found.
    let (status, _, _) = get(&app, "/2fa/accounts/not-an-id", &parent.sid, &parent.token).await;
    assert_eq!(status, 404);
}

async fn inactive_accounts_answer_403(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let sid = crate::domain::AccountSid::parse(&acc.sid).unwrap();
    for status in [AccountStatus::Suspended, AccountStatus::Closed] {
        crate::server::services::accounts::set_status(
            app.state.db(),
            app.state.clock(),
            &sid,
            status,
        )
        .await
        .unwrap();
        let (code, body, _) = get(
            &app,
            &format!("/2fa/accounts/{}", acc.sid),
            &acc.sid,
            &acc.token,
        )
        .await;
        assert_eq!(code, 403, "{body}");
        assert_envelope(&body, 403, 7002);
    }
}

async fn failures_are_slowed_then_refused(b: Backend) {
    let app = TestApp::start_with(b, |s| {
        s.api_auth.slow_after = 2;
        s.api_auth.refuse_after = 4;
        s.api_auth.delay_step_ms = 400;
        s.api_auth.max_delay_ms = 400;
    })
    .await;
    let acc = app.account("Acme").await;
    let path = format!("/2fa/accounts/{}", acc.sid);
    for _ in 0..2 {
        let t = Instant::now();
        let (status, _, _) = get(&app, &path, &acc.sid, "wrong").await;
        assert_eq!(status, 401);
        assert!(t.elapsed() < Duration::from_millis(400), "not slowed yet");
    }
    // Past `slow_after`: every attempt, even a right one, waits first.
    let t = Instant::now();
    let (status, _, _) = get(&app, &path, &acc.sid, "wrong").await;
    assert_eq!(status, 401);
    assert!(
        t.elapsed() >= Duration::from_millis(400),
        "slowed: {:?}",
        t.elapsed()
    );
    let (status, _, _) = get(&app, &path, &acc.sid, "wrong").await;
    assert_eq!(status, 401);
    // Past `refuse_after`: refused with 429 and Retry-After, even with the right token.
    let (status, body, headers) = get(&app, &path, &acc.sid, &acc.token).await;
    assert_eq!(status, 429, "{body}");
    assert_envelope(&body, 429, 7060);
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=15 * 60).contains(&retry), "{retry}");
    assert_eq!(body["retryAfter"], retry);
    // The window slides: once it has passed, the right credentials work again.
    app.clock.advance_ms(16 * 60 * 1000);
    let (status, _, _) = get(&app, &path, &acc.sid, &acc.token).await;
    assert_eq!(status, 200);
}

/// Behind one NAT: 35 bad attempts with sid A from an address throttle A there, not the
/// address: B's right credentials from the same address still get through (and B's own wrong
/// ones are 401, not 429).
async fn a_bad_credential_does_not_lock_out_its_neighbours(b: Backend) {
    let app = TestApp::start_with(b, |s| {
        s.api_auth.slow_after = 1000;
        s.api_auth.refuse_after = 30;
    })
    .await;
    let a = app.account("A").await;
    let b_acc = app.account("B").await;
    let path_a = format!("/2fa/accounts/{}", a.sid);
    let path_b = format!("/2fa/accounts/{}", b_acc.sid);
    let mut statuses = Vec::new();
    for _ in 0..35 {
        statuses.push(get(&app, &path_a, &a.sid, "wrong").await.0);
    }
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 30);
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 5);
    let (status, body, _) = get(&app, &path_b, &b_acc.sid, &b_acc.token).await;
    assert_eq!(status, 200, "{body}");
    let (status, body, _) = get(&app, &path_b, &b_acc.sid, "wrong").await;
    assert_eq!(status, 401, "{body}");
    // A stays throttled at this address, even with its right token.
    let (status, body, _) = get(&app, &path_a, &a.sid, &a.token).await;
    assert_eq!(status, 429, "{body}");
    assert_envelope(&body, 429, 7060);
}

/// With `trust_forwarded_for`, the client is the last entry of the last `X-Forwarded-For` line
/// (the one our proxy added), whatever the client put in lines of its own before it.
async fn forwarded_for_takes_the_last_hop_of_every_line(b: Backend) {
    let app = TestApp::start_with(b, |s| {
        s.trust_forwarded_for = true;
        s.api_auth.slow_after = 1000;
        s.api_auth.refuse_after = 3;
    })
    .await;
    let acc = app.account("Acme").await;
    let path = format!("/2fa/accounts/{}", acc.sid);
    let with_lines = |lines: &[&str], token: &str| {
        let mut req = app
            .http
            .get(app.url(&path))
            .basic_auth(&acc.sid, Some(token));
        for line in lines {
            req = req.header("x-forwarded-for", *line);
        }
        req.send()
    };
    // Three failures from 203.0.113.9, each time behind a different made-up first line.
    for first in ["1.1.1.1", "2.2.2.2", "3.3.3.3, 4.4.4.4"] {
        let res = with_lines(&[first, "203.0.113.9"], "wrong").await.unwrap();
        assert_eq!(res.status(), 401);
    }
    // Still 203.0.113.9 (throttled), whatever the first line says.
    let res = with_lines(&["5.5.5.5", "198.51.100.1, 203.0.113.9"], &acc.token)
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    // Another last hop is another client.
    let res = with_lines(&["203.0.113.9", "198.51.100.7"], &acc.token)
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

async fn unknown_paths_and_methods_answer_json(b: Backend) {
    let app = TestApp::start(b).await;
    let res = app
        .http
        .get(app.url("/2fa/nothing-here"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(res.headers()["content-type"], "application/json");
    assert_envelope(&res.json().await.unwrap(), 404, 7003);
    let res = app
        .http
        .delete(app.url("/2fa/errors"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    let res = app
        .http
        .get(app.url("/2fa/errors.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let codes: Vec<u64> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["errorCode"].as_u64().unwrap())
        .collect();
    assert!(codes.contains(&7001) && codes.contains(&7060) && codes.len() == 22);
}
