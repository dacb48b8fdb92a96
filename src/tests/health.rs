//! Health endpoints and graceful shutdown.
use super::harness::TestApp;
use crate::server::db::Backend;
use std::time::Duration;

super::both_backends!(health_and_readiness, shutdown_finishes_in_flight_requests);

async fn health_and_readiness(b: Backend) {
    let app = TestApp::start(b).await;
    let res = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["status"],
        "ok"
    );
    let res = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["database"],
        "ok"
    );
    // Database gone: alive, but not ready, and API calls answer 7000 with an error id.
    let acc = app.account("Acme").await;
    app.state.db().close().await;
    let res = app
        .http
        .post(app.url("/2fa/send"))
        .basic_auth(&acc.sid, Some(&acc.token))
        .json(&serde_json::json!({"service": "S", "to": "+14155550100"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 500);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["errorCode"], 7000);
    assert_eq!(body["errorId"].as_str().unwrap().len(), 32);
    assert!(
        !body.to_string().contains("pool"),
        "no database message reaches the client: {body}"
    );
    let res = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), 503);
    let res = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
}

async fn shutdown_finishes_in_flight_requests(b: Backend) {
    // A throttled authentication waits ~1.5 s inside the handler: a request in flight.
    let mut app = TestApp::start_with(b, |s| {
        s.api_auth.slow_after = 0;
        s.api_auth.delay_step_ms = 1500;
        s.api_auth.max_delay_ms = 1500;
    })
    .await;
    let acc = app.account("Acme").await;
    let url = app.url(&format!("/2fa/accounts/{}", acc.sid));
    let client = app.http.clone();
    let (sid, token) = (acc.sid.clone(), acc.token.clone());
    let in_flight =
        tokio::spawn(async move { client.get(url).basic_auth(sid, Some(token)).send().await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let server = app.shutdown();
    let res = in_flight
        .await
        .unwrap()
        .expect("the in-flight request gets its answer");
    assert_eq!(res.status(), 200);
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("server stops")
        .unwrap()
        .unwrap();
    // After shutdown nothing listens any more.
    let fresh = reqwest::Client::new();
    assert!(fresh.get(app.url("/healthz")).send().await.is_err());
}
