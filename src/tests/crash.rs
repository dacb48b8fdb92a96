//! A server process killed with SIGKILL in the middle of a burst of sends, restarted: every
//! accepted OTP is delivered exactly once. The server runs as a child process (this same test
//! binary, running the ignored `child_server` test).
use super::harness::{client, TestDb};
use crate::server::db::{Backend, Db};
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

super::both_backends!(
    sigkill_mid_burst_loses_and_duplicates_nothing,
    sigkill_mid_burst_with_a_real_provider_sends_each_once,
    logs_never_contain_codes_or_tokens,
    two_processes_share_limits_exactly,
);

const CHILD_ENV: &str = "SMART2FA_CRASH_CHILD_DB";

/// The server half: serves on the given port until killed. Only runs when started by the test.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "started as a child process by sigkill_mid_burst_loses_and_duplicates_nothing"]
async fn child_server() {
    let Ok(url) = std::env::var(CHILD_ENV) else {
        return;
    };
    let port: u16 = std::env::var("SMART2FA_CRASH_CHILD_PORT")
        .unwrap()
        .parse()
        .unwrap();
    // Log level and format come from the environment, as for the real binary.
    let from_env: crate::server::config::Settings = crate::server::config::Settings::figment(None)
        .extract()
        .unwrap();
    let settings = crate::server::config::Settings {
        database_url: Some(url),
        data_dir: std::env::var("SMART2FA_CRASH_CHILD_DATA").unwrap().into(),
        site_addr: ([127, 0, 0, 1], port).into(),
        job_lease_secs: std::env::var("SMART2FA_CRASH_CHILD_LEASE")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2),
        ..from_env
    };
    crate::server::telemetry::init(&settings);
    crate::server::app::run(settings, crate::site::mount)
        .await
        .unwrap();
}

/// Kills the child server when the test ends, however it ends.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_child(url: &str, port: u16, data: &str) -> ChildGuard {
    spawn_child_logging(url, port, data, None, &[])
}

/// Starts the child server; with `log`, its (debug-level, JSON) log goes to that file.
fn spawn_child_logging(
    url: &str,
    port: u16,
    data: &str,
    log: Option<&std::path::Path>,
    env: &[(&str, &str)],
) -> ChildGuard {
    let debug = std::env::var_os("SMART2FA_CRASH_DEBUG").is_some();
    let (stdout, level, format) = match log {
        Some(path) => (
            Stdio::from(std::fs::File::create(path).unwrap()),
            "debug",
            "json",
        ),
        None if debug => (Stdio::inherit(), "info", "human"),
        None => (Stdio::null(), "warn", "human"),
    };
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "tests::crash::child_server",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, url)
        .env("SMART2FA_CRASH_CHILD_PORT", port.to_string())
        .env("SMART2FA_CRASH_CHILD_DATA", data)
        .env("SMART2FA_LOG_LEVEL", level)
        .env("SMART2FA_LOG_FORMAT", format)
        .env_remove("RUST_LOG")
        .envs(env.iter().copied())
        .stdout(stdout)
        .stderr(if debug {
            Stdio::inherit()
        } else {
            Stdio::null()
        })
        .spawn()
        .map(ChildGuard)
        .expect("start the child server")
}

async fn wait_healthy(base: &str) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if let Ok(r) = reqwest::get(format!("{base}/healthz")).await {
            if r.status() == 200 {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("child server did not come up");
}

/// A fresh database with the schema and one account, and a free port: what a child server needs.
struct Setup {
    db: TestDb,
    pool: Db,
    data: std::path::PathBuf,
    sid: String,
    token: String,
    port: u16,
    base: String,
}

async fn setup(b: Backend) -> Setup {
    let db = TestDb::new(b).await;
    let data = db.data_dir();
    std::fs::create_dir_all(&data).unwrap();
    let settings = crate::server::config::Settings {
        database_url: Some(db.url.clone()),
        data_dir: data.clone(),
        ..Default::default()
    };
    let pool = Db::connect(&settings).await.unwrap();
    pool.migrate().await.unwrap();
    let acc = crate::server::services::accounts::create(
        &pool,
        &crate::server::clock::SystemClock,
        crate::server::services::accounts::NewAccount {
            friendly_name: "Child".into(),
            parent: None,
            admin: None,
        },
    )
    .await
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    Setup {
        db,
        pool,
        data,
        sid: acc.account.sid.to_string(),
        token: acc.auth_token,
        port,
        base: format!("http://127.0.0.1:{port}"),
    }
}

async fn sigkill_mid_burst_loses_and_duplicates_nothing(b: Backend) {
    let Setup {
        db,
        pool,
        data,
        sid,
        token,
        port,
        base,
    } = setup(b).await;
    let data_s = data.display().to_string();
    // Leases of a minute: the jobs the dead process held are taken over when its heartbeat
    // stops (seconds), not when their leases run out.
    let env = [("SMART2FA_CRASH_CHILD_LEASE", "60")];
    let child = spawn_child_logging(&db.url, port, &data_s, None, &env);
    wait_healthy(&base).await;

    let accepted = burst_then_kill(&base, &sid, &token, child).await;

    // Restart on the same database: the queue resumes at once.
    let child = spawn_child_logging(&db.url, port, &data_s, None, &env);
    wait_healthy(&base).await;
    drained_within(
        &pool,
        "SELECT COUNT(*) FROM sandbox_messages",
        accepted.len(),
        Duration::from_secs(20),
    )
    .await;
    drop(child);

    for rid in &accepted {
        let count = |table: &'static str| {
            let pool = &pool;
            async move {
                pool.scalar_i64(
                    &format!("SELECT COUNT(*) FROM {table} WHERE otp_sid = $1"),
                    crate::args![rid.as_str()],
                )
                .await
                .unwrap()
            }
        };
        let (messages, attempts) = (
            count("sandbox_messages").await,
            count("delivery_attempts").await,
        );
        assert_eq!((messages, attempts), (1, 1), "{rid} delivered exactly once");
    }
    // Nothing at all was delivered twice (also OTPs whose answer was lost in the crash).
    let dupes = pool
        .scalar_i64(
            "SELECT COUNT(*) FROM (SELECT otp_sid FROM delivery_attempts GROUP BY otp_sid HAVING COUNT(*) > 1) d",
            crate::args![],
        )
        .await
        .unwrap();
    assert_eq!(dupes, 0);
    pool.close().await;
}

/// A burst of sends from 8 concurrent clients; the server is killed (SIGKILL) in the middle of
/// it. Answers the requestIDs that were accepted.
async fn burst_then_kill(base: &str, sid: &str, token: &str, mut child: ChildGuard) -> Vec<String> {
    let accepted = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let mut senders = Vec::new();
    for c in 0..8 {
        let (base, sid, token, accepted) = (
            base.to_owned(),
            sid.to_owned(),
            token.to_owned(),
            accepted.clone(),
        );
        senders.push(tokio::spawn(async move {
            let http = client();
            for i in 0..60 {
                let to = format!("+1415556{c}{:03}", i + 1);
                let res = http
                    .post(format!("{base}/2fa/send"))
                    .basic_auth(&sid, Some(&token))
                    .json(&json!({"service": "Crash", "to": to}))
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status() == 200 => {
                        let v: Value = r.json().await.unwrap();
                        accepted
                            .lock()
                            .unwrap()
                            .push(v["requestID"].as_str().unwrap().to_owned());
                    }
                    Ok(r) => panic!(
                        "unexpected {}: {}",
                        r.status(),
                        r.text().await.unwrap_or_default()
                    ),
                    Err(_) => return, // the server is gone
                }
            }
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while accepted.lock().unwrap().len() < 120 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.0.kill().expect("SIGKILL"); // std's kill() is SIGKILL on Unix
    child.0.wait().unwrap();
    for s in senders {
        s.await.unwrap();
    }
    let accepted = accepted.lock().unwrap().clone();
    assert!(
        accepted.len() >= 120,
        "the burst was under way ({} accepted)",
        accepted.len()
    );

    accepted
}

/// Waits (at most a minute) until no job is left and `done` holds.
async fn drained(pool: &Db, done: &str, expected: usize) {
    drained_within(pool, done, expected, Duration::from_secs(60)).await
}

async fn drained_within(pool: &Db, done: &str, expected: usize, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let delivered = pool.scalar_i64(done, crate::args![]).await.unwrap();
        let pending = pool
            .scalar_i64(
                "SELECT COUNT(*) FROM jobs WHERE done_at IS NULL",
                crate::args![],
            )
            .await
            .unwrap();
        if pending == 0 && delivered as usize >= expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "not drained: {delivered} delivered, {pending} jobs left"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// An SMS gateway on loopback that honours `Idempotency-Key`: a repeated key gets the first
/// answer and sends nothing new. Each message takes 15 ms, so a kill often lands mid-call.
struct Gateway {
    base: String,
    /// Idempotency key → (requests with it, the body of the message sent).
    sent: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, (usize, String)>>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Gateway {
    async fn start() -> Gateway {
        use axum::{extract::State, http::HeaderMap, routing::post, Json, Router};
        type Sent =
            std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, (usize, String)>>>;
        async fn send(
            State(sent): State<Sent>,
            headers: HeaderMap,
            body: String,
        ) -> (http::StatusCode, Json<Value>) {
            let Some(key) = headers.get("idempotency-key").and_then(|v| v.to_str().ok()) else {
                return (
                    http::StatusCode::BAD_REQUEST,
                    Json(json!({"error": "Idempotency-Key is required"})),
                );
            };
            tokio::time::sleep(Duration::from_millis(15)).await;
            let mut sent = sent.lock().unwrap();
            let entry = sent.entry(key.to_owned()).or_insert((0, body));
            entry.0 += 1;
            (
                http::StatusCode::OK,
                Json(json!({"id": format!("gw-{key}")})),
            )
        }
        let sent: Sent = Default::default();
        let app = Router::new()
            .route("/send", post(send))
            .with_state(sent.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Gateway { base, sent, server }
    }
}

/// As above with a real provider: an HTTP gateway on loopback. Every accepted OTP reaches it,
/// and none is sent twice per (requestID, step, provider): a call cut short by the kill is
/// repeated with the same idempotency key, which the gateway answers without sending again.
/// Prints how many calls were repeated.
async fn sigkill_mid_burst_with_a_real_provider_sends_each_once(b: Backend) {
    let Setup {
        db,
        pool,
        data,
        sid,
        token,
        port,
        base,
    } = setup(b).await;
    let gateway = Gateway::start().await;
    let data_s = data.display().to_string();
    // This operator lets providers use loopback addresses (the gateway is on 127.0.0.1).
    let env = [("SMART2FA_ALLOW_PRIVATE_OUTBOUND", "true")];
    let child = spawn_child_logging(&db.url, port, &data_s, None, &env);
    wait_healthy(&base).await;
    let res = client()
        .post(format!("{base}/2fa/providers"))
        .basic_auth(&sid, Some(&token))
        .json(
            &json!({"kind": "http", "name": "gateway", "channels": ["sms"], "config": {
            "url": format!("{}/send", gateway.base), "method": "POST", "contentType": "json",
            "bodyTemplate": r#"{"to": "{to}", "text": "{text}", "ref": "{requestID}"}"#,
            "messageIdPath": "id"}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        201,
        "{}",
        res.text().await.unwrap_or_default()
    );
    // A burst of unverified sends to one prefix through a real provider is what the fraud
    // guard blocks by default; this test is about crashes, so the account turns it off.
    let res = client()
        .put(format!("{base}/2fa/settings/fraudGuard"))
        .basic_auth(&sid, Some(&token))
        .json(&json!({"mode": "off"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    let accepted = burst_then_kill(&base, &sid, &token, child).await;
    let child = spawn_child_logging(&db.url, port, &data_s, None, &env);
    wait_healthy(&base).await;
    drained(
        &pool,
        "SELECT COUNT(*) FROM delivery_attempts WHERE status = 'sent'",
        accepted.len(),
    )
    .await;
    drop(child);

    let sent = gateway.sent.lock().unwrap().clone();
    let replays: usize = sent.values().map(|(n, _)| n - 1).sum();
    eprintln!(
        "{} OTPs accepted, {} messages sent by the gateway, {replays} call(s) repeated after the kill",
        accepted.len(),
        sent.len()
    );
    // Keys are (requestID, step, provider): one per OTP, whatever the crash did. (An OTP whose
    // answer was lost in the crash is on record and delivered too.)
    let mut keys_per_otp = std::collections::HashMap::<&str, usize>::new();
    for key in sent.keys() {
        *keys_per_otp
            .entry(key.split('-').next().unwrap())
            .or_default() += 1;
    }
    assert!(
        keys_per_otp.values().all(|n| *n == 1),
        "an OTP sent under two keys: {keys_per_otp:?}"
    );
    let on_record = pool
        .scalar_i64("SELECT COUNT(*) FROM otps", crate::args![])
        .await
        .unwrap();
    assert_eq!(
        sent.len() as i64,
        on_record,
        "every OTP on record reached the gateway once"
    );
    for rid in &accepted {
        let key = sent
            .keys()
            .find(|k| k.starts_with(&format!("{rid}-")))
            .unwrap_or_else(|| panic!("{rid} never reached the gateway"));
        assert!(sent[key].1.contains(rid.as_str()), "{rid}: its own message");
        let attempts = pool
            .scalar_i64(
                "SELECT COUNT(*) FROM delivery_attempts WHERE otp_sid = $1 AND status = 'sent'",
                crate::args![rid.as_str()],
            )
            .await
            .unwrap();
        assert_eq!(attempts, 1, "{rid}: one attempt went through");
    }
    // A call the kill cut short is on record as interrupted, not left `sending`.
    let open = pool
        .scalar_i64(
            "SELECT COUNT(*) FROM delivery_attempts WHERE status NOT IN ('sent', 'interrupted')",
            crate::args![],
        )
        .await
        .unwrap();
    assert_eq!(open, 0, "every attempt is sent or interrupted");
    let sandbox = pool
        .scalar_i64("SELECT COUNT(*) FROM sandbox_messages", crate::args![])
        .await
        .unwrap();
    assert_eq!(sandbox, 0, "nothing went to the sandbox");
    pool.close().await;
}

/// A whole lifecycle with debug logging on: neither the code nor the auth token appears in any
/// log line (the log is the real server's stdout, in JSON).
async fn logs_never_contain_codes_or_tokens(b: Backend) {
    let Setup {
        db,
        pool,
        data,
        sid,
        token,
        port,
        base,
    } = setup(b).await;
    let log = data.join("server.log");
    let child = spawn_child_logging(&db.url, port, &data.display().to_string(), Some(&log), &[]);
    wait_healthy(&base).await;
    let http = client();
    let post = |path: &str, body: Value| {
        http.post(format!("{base}{path}"))
            .basic_auth(&sid, Some(&token))
            .json(&body)
            .send()
    };
    let sent: Value = post(
        "/2fa/send",
        json!({"service": "Logs", "to": "+14155550140", "codeLength": 8}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let rid = sent["requestID"].as_str().unwrap().to_owned();
    let mut code = String::new();
    for _ in 0..200 {
        let outbox: Value = http
            .get(format!("{base}/2fa/sandbox/messages?requestID={rid}"))
            .basic_auth(&sid, Some(&token))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if let Some(text) = outbox["messages"][0]["text"].as_str() {
            code = super::harness::extract_code(text);
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(code.len(), 8, "delivered");
    let wrong = post("/2fa/verify", json!({"requestID": rid, "code": "00000000"}))
        .await
        .unwrap();
    assert_eq!(wrong.status(), 400);
    let right = post("/2fa/verify", json!({"requestID": rid, "code": code}))
        .await
        .unwrap();
    assert_eq!(right.status(), 200);
    // A failed authentication is logged too; the presented secret must not be.
    let bad = http
        .get(format!("{base}/2fa/accounts/{sid}"))
        .basic_auth(&sid, Some("not-the-token-xyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(child);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.lines().count() > 10,
        "the server logged ({} lines)",
        text.lines().count()
    );
    assert!(text.contains(&rid), "requests are traceable by requestID");
    assert!(!text.contains(&code), "the code appears in the log");
    assert!(!text.contains(&token), "the auth token appears in the log");
    assert!(
        !text.contains("not-the-token-xyz"),
        "a presented secret appears in the log"
    );
    pool.close().await;
}

/// Two server processes on one database: 200 parallel sends split between them against a
/// bucket with room for 10 accept exactly 10.
async fn two_processes_share_limits_exactly(b: Backend) {
    let Setup {
        db,
        pool,
        data,
        sid,
        token,
        port,
        base,
    } = setup(b).await;
    let port2 = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base2 = format!("http://127.0.0.1:{port2}");
    let data_s = data.display().to_string();
    let _one = spawn_child(&db.url, port, &data_s);
    let _two = spawn_child(&db.url, port2, &data_s);
    wait_healthy(&base).await;
    wait_healthy(&base2).await;
    let http = client();
    let res = http.post(format!("{base}/2fa/limits")).basic_auth(&sid, Some(&token))
        .json(&json!({"name": "per_ip", "buckets": [{"name": "hour", "maxOtp": 10, "interval": 3600}]})).send().await.unwrap();
    assert_eq!(res.status(), 201);
    let mut tasks = Vec::new();
    for i in 0..200 {
        let url = format!("{}/2fa/send", if i % 2 == 0 { &base } else { &base2 });
        let (http, sid, token) = (http.clone(), sid.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            http.post(url).basic_auth(sid, Some(token))
                .json(&json!({"service": "Two", "to": format!("+1415557{:04}", i + 1), "limits": {"per_ip": "198.51.100.7"}}))
                .send().await.unwrap().status().as_u16()
        }));
    }
    let mut by_status = std::collections::BTreeMap::new();
    for t in tasks {
        *by_status.entry(t.await.unwrap()).or_insert(0) += 1;
    }
    assert_eq!(
        by_status,
        std::collections::BTreeMap::from([(200, 10), (429, 190)])
    );
    let hits = pool
        .scalar_i64("SELECT COUNT(*) FROM limit_hits", crate::args![])
        .await
        .unwrap();
    assert_eq!(hits, 10);
    pool.close().await;
}
