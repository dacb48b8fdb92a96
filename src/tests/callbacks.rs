//! Signed status callbacks with retries, against a real HTTP receiver on loopback.
use super::harness::TestApp;
use crate::server::db::Backend;
use axum::routing::post;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

super::both_backends!(
    callbacks_are_signed_retried_and_in_the_timeline,
    a_secret_stored_in_clear_is_sealed_and_still_signs,
    a_slow_callback_receiver_never_delays_other_tenants_codes,
);

#[derive(Clone, Default)]
pub(super) struct Receiver {
    pub got: Arc<Mutex<Vec<(String, String)>>>,
    fail_first: Arc<Mutex<u32>>,
}

pub(super) async fn start_receiver(fail_first: u32) -> (String, Receiver) {
    let rec = Receiver {
        fail_first: Arc::new(Mutex::new(fail_first)),
        ..Default::default()
    };
    let r = rec.clone();
    let app = axum::Router::new().route(
        "/cb",
        post(move |headers: http::HeaderMap, body: String| {
            let r = r.clone();
            async move {
                let sig = headers
                    .get("x-smart2fa-signature")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                r.got.lock().unwrap().push((sig, body));
                let mut left = r.fail_first.lock().unwrap();
                if *left > 0 {
                    *left -= 1;
                    http::StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    http::StatusCode::NO_CONTENT
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/cb"), rec)
}

async fn callbacks_are_signed_retried_and_in_the_timeline(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Acme").await;
    let api = app.api(&acc);
    // The signing secret is shown once, when it is (re)made; never by reading the account.
    let (status, rotated) = api.post("/2fa/settings/callbackSecret", json!({})).await;
    assert_eq!(status, 200, "{rotated}");
    let secret = rotated["callbackSigningSecret"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, account) = api.get(&format!("/2fa/accounts/{}", acc.sid)).await;
    assert!(account.get("callbackSigningSecret").is_none(), "{account}");
    // Sealed at rest.
    let stored = super::harness::dump_table(app.state.db(), "accounts").await;
    assert!(
        !stored.contains(&secret),
        "the secret is not stored in clear"
    );
    let (url, rec) = start_receiver(1).await;
    let rid = api
        .send_ok(json!({"service": "S", "to": "+14155550130", "statusCallback": url}))
        .await;
    app.deliver().await; // delivery, then the "delivered" callback, answered 500
    assert_eq!(rec.got.lock().unwrap().len(), 1);
    app.clock.advance_ms(29_000);
    app.deliver().await;
    assert_eq!(rec.got.lock().unwrap().len(), 1, "no retry before 30 s");
    app.clock.advance_ms(2_000);
    app.deliver().await;
    assert_eq!(rec.got.lock().unwrap().len(), 2, "retried after back-off");

    let (_, code) = api.sandbox_code(&rid).await;
    api.post("/2fa/verify", json!({"requestID": rid, "code": code}))
        .await;
    app.deliver().await;
    let got = rec.got.lock().unwrap().clone();
    assert_eq!(got.len(), 3);
    let statuses: Vec<String> = got
        .iter()
        .map(|(_, b)| {
            serde_json::from_str::<Value>(b).unwrap()["status"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(statuses, ["delivered", "delivered", "verified"]);

    // Each signature verifies with the account's secret over "<t>.<body>".
    for (sig, body) in &got {
        let t: i64 = sig
            .split(',')
            .next()
            .unwrap()
            .trim_start_matches("t=")
            .parse()
            .unwrap();
        assert_eq!(
            sig,
            &crate::server::workers::callbacks::signature(&secret, t, body)
        );
        let v: Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["requestID"], rid.as_str());
        assert_eq!(v["accountSid"], acc.sid.as_str());
        assert!(
            v.as_object().unwrap().values().all(|x| x != &json!(code)),
            "no code in callbacks"
        );
    }
    let (_, sdr) = api.get(&format!("/2fa/search/{rid}")).await;
    let tries: Vec<Value> = sdr["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "callback")
        .map(|e| e["detail"]["answer"].clone())
        .collect();
    assert_eq!(tries, [json!(500), json!(204), json!(204)]);
}

/// A callback secret stored in clear by an older version still signs callbacks, and is sealed
/// in the database the first time it is used.
async fn a_secret_stored_in_clear_is_sealed_and_still_signs(b: Backend) {
    let app = TestApp::start(b).await;
    let acc = app.account("Old").await;
    let clear = "ab".repeat(32);
    crate::server::db::accounts::set_callback_secret(app.state.db(), &acc.sid, &clear)
        .await
        .unwrap();
    let (url, rec) = start_receiver(0).await;
    app.api(&acc)
        .send_ok(json!({"service": "S", "to": "+14155550131", "statusCallback": url}))
        .await;
    app.deliver().await;
    app.deliver().await;
    let got = rec.got.lock().unwrap().clone();
    assert!(!got.is_empty(), "a callback was posted");
    let (sig, body) = &got[0];
    let t: i64 = sig
        .split(',')
        .next()
        .unwrap()
        .trim_start_matches("t=")
        .parse()
        .unwrap();
    assert_eq!(
        sig,
        &crate::server::workers::callbacks::signature(&clear, t, body)
    );
    let stored = crate::server::db::accounts::callback_secret(app.state.db(), &acc.sid)
        .await
        .unwrap();
    assert_ne!(stored, clear, "sealed now");
    assert_eq!(
        crate::server::services::accounts::callback_secret(
            app.state.db(),
            app.state.otp().code_key(),
            &acc.sid
        )
        .await
        .unwrap(),
        clear
    );
}

/// One tenant's callback receiver hangs: its callbacks run at most `PER_ACCOUNT` at a time in
/// their own lane, and another tenant's codes are delivered while they hang (before the slow
/// receiver has answered even once).
async fn a_slow_callback_receiver_never_delays_other_tenants_codes(b: Backend) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    #[derive(Clone, Default)]
    struct Slow {
        now: Arc<AtomicUsize>,
        most: Arc<AtomicUsize>,
        done: Arc<AtomicUsize>,
    }
    let slow = Slow::default();
    let app_r = axum::Router::new().route(
        "/cb",
        post({
            let slow = slow.clone();
            move || {
                let slow = slow.clone();
                async move {
                    let n = slow.now.fetch_add(1, Ordering::SeqCst) + 1;
                    slow.most.fetch_max(n, Ordering::SeqCst);
                    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
                    slow.now.fetch_sub(1, Ordering::SeqCst);
                    slow.done.fetch_add(1, Ordering::SeqCst);
                    http::StatusCode::NO_CONTENT
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/cb", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app_r).await });

    let app = TestApp::start_with(b, |s| s.worker_tasks = 1).await;
    crate::server::workers::spawn(app.state.clone());
    let noisy = app.account("Noisy").await;
    let honest = app.account("Honest").await;
    // 20 codes whose "delivered" callbacks all go to the hanging receiver (more than the 16
    // workers one lane used to share with deliveries).
    for i in 0..20 {
        app.api(&noisy)
            .send_ok(json!({"service": "S", "to": format!("+1415555{:04}", 300 + i), "statusCallback": url}))
            .await;
    }
    for _ in 0..100 {
        if slow.now.load(Ordering::SeqCst) >= crate::server::workers::callbacks::PER_ACCOUNT {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let api = app.api(&honest);
    let mut rids = Vec::new();
    for i in 0..3 {
        rids.push(
            api.send_ok(json!({"service": "S", "to": format!("+1415555{:04}", 400 + i)}))
                .await,
        );
    }
    let mut delivered = 0;
    for _ in 0..100 {
        delivered = 0;
        for rid in &rids {
            let (_, sdr) = api.get(&format!("/2fa/search/{rid}")).await;
            if sdr["status"] == "delivered" {
                delivered += 1;
            }
        }
        if delivered == rids.len() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(delivered, 3, "the honest tenant's codes were delivered");
    assert_eq!(
        slow.done.load(Ordering::SeqCst),
        0,
        "…while the slow receiver had not answered once"
    );
    assert!(
        slow.most.load(Ordering::SeqCst) <= crate::server::workers::callbacks::PER_ACCOUNT,
        "at most {} of one account's callbacks at once, saw {}",
        crate::server::workers::callbacks::PER_ACCOUNT,
        slow.most.load(Ordering::SeqCst)
    );
}
