//! Starting the app for a test: a fresh database per test, port 0, a controllable clock.
use crate::domain::Role;
use crate::server::app;
use crate::server::clock::{Clock, ManualClock, SystemClock};
use crate::server::config::Settings;
use crate::server::db::{Backend, Db};
use crate::server::services::accounts::{self, NewAccount};
use crate::server::services::users::NewUser;
use crate::server::state::AppState;
use std::sync::Arc;
use std::time::Duration;

pub const PG_ENV: &str = "SMART2FA_TEST_DATABASE_URL";

/// Whether PostgreSQL tests can run; in CI a missing server is a failure, not a skip.
pub fn postgres_available() -> bool {
    if std::env::var(PG_ENV)
        .map(|v| !v.is_empty())
        .unwrap_or(false)
    {
        return true;
    }
    if std::env::var("CI").map(|v| v == "true").unwrap_or(false) {
        panic!("{PG_ENV} must name a PostgreSQL server in CI");
    }
    eprintln!("skipping PostgreSQL test: set {PG_ENV}=postgres://user@127.0.0.1:port/postgres");
    false
}

/// A fresh, empty database on the given backend (and what keeps it alive).
pub struct TestDb {
    pub url: String,
    _dir: tempfile::TempDir,
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = match backend {
            Backend::Sqlite => format!("sqlite://{}", dir.path().join("test.db").display()),
            Backend::Postgres => {
                let admin_url = std::env::var(PG_ENV).expect("postgres url");
                let name = format!("smart2fa_test_{}", crate::server::crypto::random_hex(8));
                let admin = Db::connect_url(
                    &admin_url,
                    1,
                    crate::server::config::SqliteSynchronous::Normal,
                )
                .await
                .expect("connect to the PostgreSQL test server");
                admin
                    .execute(&format!("CREATE DATABASE {name}"), crate::args![])
                    .await
                    .expect("create test database");
                admin.close().await;
                let (base, _) = admin_url
                    .rsplit_once('/')
                    .expect("url with a database name");
                format!("{base}/{name}")
            }
        };
        TestDb { url, _dir: dir }
    }

    pub fn data_dir(&self) -> std::path::PathBuf {
        self._dir.path().join("data")
    }
}

pub struct TestApp {
    pub base: String,
    pub state: AppState,
    pub clock: ManualClock,
    pub http: reqwest::Client,
    _db: TestDb,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    pub server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

pub fn test_settings(db: &TestDb) -> Settings {
    Settings {
        database_url: Some(db.url.clone()),
        data_dir: db.data_dir(),
        db_max_connections: 5,
        // Tests run their callback receivers, fake providers and SMTP servers on loopback.
        allow_private_outbound: true,
        ..Settings::default()
    }
}

impl TestApp {
    pub async fn start(backend: Backend) -> TestApp {
        Self::start_with(backend, |_| {}).await
    }

    pub async fn start_with(backend: Backend, tweak: impl FnOnce(&mut Settings)) -> TestApp {
        let db = TestDb::new(backend).await;
        let mut settings = test_settings(&db);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().unwrap();
        // Providers post receipts and fetch voice documents here.
        settings.public_url = Some(format!("http://{addr}"));
        tweak(&mut settings);
        let clock = ManualClock::new(SystemClock.now_ms());
        let state = app::prepare(settings, Arc::new(clock.clone()) as Arc<dyn Clock>)
            .await
            .expect("prepare app");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let router = app::router(state.clone(), crate::site::mount);
        let server = tokio::spawn(app::serve(
            listener,
            router,
            async move {
                let _ = stopped.await;
            },
            Duration::from_secs(10),
        ));
        TestApp {
            base: format!("http://{addr}"),
            state,
            clock,
            http: client(),
            _db: db,
            stop: Some(stop),
            server: Some(server),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Asks the server to shut down gracefully (as SIGTERM does) and returns its task.
    pub fn shutdown(&mut self) -> tokio::task::JoinHandle<anyhow::Result<()>> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.server.take().expect("server running")
    }

    /// Creates an account with an admin user; returns (sid, token, admin email, password).
    pub async fn account(&self, name: &str) -> TestAccount {
        self.account_with_parent(name, None).await
    }

    pub async fn account_with_parent(&self, name: &str, parent: Option<&str>) -> TestAccount {
        let email = format!("admin-{}@example.com", crate::server::crypto::random_hex(4));
        let password = "correct horse battery".to_string();
        let created = accounts::create(
            self.state.db(),
            self.state.clock(),
            NewAccount {
                friendly_name: name.into(),
                parent: parent.map(|p| crate::domain::AccountSid::parse(p).unwrap()),
                admin: Some(NewUser {
                    email: email.clone(),
                    password: password.clone(),
                    role: Role::Admin,
                }),
            },
        )
        .await
        .expect("create account");
        TestAccount {
            sid: created.account.sid.to_string(),
            token: created.auth_token,
            email,
            password,
        }
    }

    pub async fn user(&self, account: &str, role: Role) -> (String, String) {
        let email = format!(
            "{}-{}@example.com",
            role.as_str(),
            crate::server::crypto::random_hex(4)
        );
        let password = "another good password".to_string();
        crate::server::services::users::create(
            self.state.db(),
            self.state.clock(),
            &crate::domain::AccountSid::parse(account).unwrap(),
            NewUser {
                email: email.clone(),
                password: password.clone(),
                role,
            },
        )
        .await
        .expect("create user");
        (email, password)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A REST client authenticated as one account.
pub struct Api<'a> {
    pub app: &'a TestApp,
    pub sid: String,
    pub token: String,
}

impl TestApp {
    pub fn api(&self, acc: &TestAccount) -> Api<'_> {
        Api {
            app: self,
            sid: acc.sid.clone(),
            token: acc.token.clone(),
        }
    }

    /// Runs every due delivery job now (the background workers are off in tests).
    pub async fn deliver(&self) -> usize {
        crate::server::workers::run_due(&self.state)
            .await
            .expect("worker pass")
    }
}

impl Api<'_> {
    /// Any method with an optional JSON body; answers the status and the JSON body (Null when
    /// the body is not JSON).
    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let mut req = self
            .app
            .http
            .request(method, self.app.url(path))
            .basic_auth(&self.sid, Some(&self.token));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(serde_json::Value::Null))
    }

    pub async fn post(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        self.request(reqwest::Method::POST, path, Some(body)).await
    }

    /// PUT, PATCH or DELETE with a JSON body.
    pub async fn post_method(
        &self,
        method: &str,
        path: &str,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        self.request(method, path, Some(body)).await
    }

    pub async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        self.request(reqwest::Method::GET, path, None).await
    }

    /// Sends an OTP; panics unless accepted. Returns the requestID.
    pub async fn send_ok(&self, body: serde_json::Value) -> String {
        let (status, res) = self.post("/2fa/send", body).await;
        assert_eq!(status, 200, "send: {res}");
        res["requestID"].as_str().unwrap().to_owned()
    }

    /// The newest sandbox text for a request, and the code in it.
    pub async fn sandbox_code(&self, request_id: &str) -> (String, String) {
        let (status, res) = self
            .get(&format!("/2fa/sandbox/messages?requestID={request_id}"))
            .await;
        assert_eq!(status, 200, "{res}");
        let text = res["messages"][0]["text"]
            .as_str()
            .unwrap_or_else(|| panic!("no sandbox message for {request_id}: {res}"))
            .to_owned();
        (text.clone(), extract_code(&text))
    }
}

/// The code in a sandbox text: the first run of 4+ code symbols after "code is".
pub fn extract_code(text: &str) -> String {
    let after = text.split("code is ").nth(1).unwrap_or(text);
    after
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == ',' || c == ' '))
        .next()
        .unwrap_or("")
        .split('.')
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .trim()
        .to_owned()
}

pub struct TestAccount {
    pub sid: String,
    pub token: String,
    pub email: String,
    pub password: String,
}

/// A client that keeps cookies and never follows redirects (tests look at them).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        // Generous: the whole suite shares two cores; a real hang still fails the test.
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap()
}

/// Every row of a table as text (all columns cast to text), for "never stored in clear" checks.
pub async fn dump_table(db: &Db, table: &str) -> String {
    db.dump_table(table).await.unwrap()
}

/// A client signed in to the console as `email` (asserts the login worked).
pub async fn signed_in(app: &TestApp, email: &str, password: &str) -> reqwest::Client {
    let http = client();
    let res = http
        .post(app.url("/api/login"))
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    http
}

/// Calls a server function with a form body; answers status and JSON.
pub async fn call(
    app: &TestApp,
    http: &reqwest::Client,
    name: &str,
    form: &[(&str, &str)],
) -> (u16, serde_json::Value) {
    let res = http
        .post(app.url(&format!("/api/{name}")))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(serde_json::Value::Null))
}

/// Sends `body` for `acc`, delivers it, and verifies it with the sandbox code; the requestID.
pub async fn verified_send(app: &TestApp, acc: &TestAccount, body: serde_json::Value) -> String {
    let rid = app.api(acc).send_ok(body).await;
    app.deliver().await;
    let (_, code) = app.api(acc).sandbox_code(&rid).await;
    let (status, v) = app
        .api(acc)
        .post(
            "/2fa/verify",
            serde_json::json!({"requestID": rid, "code": code}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    rid
}
