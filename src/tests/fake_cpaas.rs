//! A faithful fake of a Twilio-shaped (and Restcomm-shaped) CPaaS, built from their published
//! API documentation (providers.md): `POST …/Messages.json` and `…/Calls.json` with HTTP Basic
//! auth and form fields, `201` JSON answers with `sid` and `status`, error answers
//! `{code, message, more_info, status}` (400, 401, 429, 500), a call fetches its voice document
//! (`Url`) as Twilio does, and status callbacks are posted signed with `X-Twilio-Signature`.
//! It records everything it received.
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the fake answers.
#[derive(Debug, Clone)]
pub enum Mode {
    Accept,
    /// An error answer: HTTP status, Twilio error code, message.
    Reject(u16, i64, &'static str),
    /// Holds the answer this long (a hanging provider).
    Hang(Duration),
    /// Posts a delivery receipt with this status before answering.
    ReceiptFirst(&'static str),
}

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub form: Vec<(String, String)>,
    pub authorized: bool,
    pub idempotency_key: Option<String>,
    pub sid: String,
}

impl Received {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.form
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// A voice document the fake fetched: status, content type, cache control and body.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub status: u16,
    pub cache_control: Option<String>,
    pub body: String,
}

pub struct FakeState {
    pub account_sid: String,
    pub token: String,
    pub mode: Mutex<Mode>,
    pub received: Mutex<Vec<Received>>,
    pub fetched: Mutex<Vec<Fetched>>,
    http: reqwest::Client,
}

pub struct FakeCpaas {
    pub base: String,
    pub state: Arc<FakeState>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeCpaas {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeCpaas {
    pub async fn start() -> FakeCpaas {
        let state = Arc::new(FakeState {
            account_sid: format!("AC{}", crate::server::crypto::random_hex(16)),
            token: crate::server::crypto::random_hex(16),
            mode: Mutex::new(Mode::Accept),
            received: Mutex::new(Vec::new()),
            fetched: Mutex::new(Vec::new()),
            http: reqwest::Client::new(),
        });
        let app = Router::new()
            .route("/2010-04-01/Accounts/{sid}/Messages.json", post(message))
            .route("/2010-04-01/Accounts/{sid}/Calls.json", post(call))
            .route(
                "/restcomm/2012-04-24/Accounts/{sid}/SMS/Messages.json",
                post(message),
            )
            .route("/restcomm/2012-04-24/Accounts/{sid}/Calls.json", post(call))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeCpaas {
            base,
            state,
            server,
        }
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.state.mode.lock().unwrap() = mode;
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }

    pub fn fetched(&self) -> Vec<Fetched> {
        self.state.fetched.lock().unwrap().clone()
    }

    /// The provider config for `POST /2fa/providers`.
    pub fn config(&self) -> serde_json::Value {
        json!({
            "baseUrl": self.base,
            "accountSid": self.state.account_sid,
            "authToken": self.state.token,
            "from": "+15005550006",
        })
    }

    /// Posts a status callback to `url` as the provider would: form fields, signed with the
    /// auth token (or with a wrong one, or not at all). Answers the HTTP status.
    pub async fn callback(&self, url: &str, params: &[(&str, &str)], signing: Signing) -> u16 {
        post_callback(&self.state, url, params, signing).await
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signing {
    Valid,
    WrongToken,
    Missing,
}

async fn post_callback(
    state: &FakeState,
    url: &str,
    params: &[(&str, &str)],
    signing: Signing,
) -> u16 {
    let pairs: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut req = state.http.post(url).form(&pairs);
    match signing {
        Signing::Valid => {
            let sig = crate::server::providers::cpaas::twilio_signature(&state.token, url, &pairs);
            req = req.header("X-Twilio-Signature", sig);
        }
        Signing::WrongToken => {
            let sig =
                crate::server::providers::cpaas::twilio_signature("not-the-token", url, &pairs);
            req = req.header("X-Twilio-Signature", sig);
        }
        Signing::Missing => {}
    }
    req.send().await.unwrap().status().as_u16()
}

fn authorized(state: &FakeState, headers: &HeaderMap) -> bool {
    use base64::Engine as _;
    let expected = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", state.account_sid, state.token));
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Basic {expected}"))
}

fn error(status: u16, code: i64, message: &str) -> axum::response::Response {
    (
        StatusCode::from_u16(status).unwrap(),
        Json(json!({"code": code, "message": message, "more_info": format!("https://www.twilio.com/docs/errors/{code}"), "status": status})),
    )
        .into_response()
}

async fn record(
    state: &FakeState,
    path: String,
    headers: &HeaderMap,
    body: &[u8],
    prefix: &str,
) -> Result<Received, axum::response::Response> {
    let form: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    let ok = authorized(state, headers);
    let received = Received {
        path,
        form,
        authorized: ok,
        idempotency_key: headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        sid: format!("{prefix}{}", crate::server::crypto::random_hex(16)),
    };
    state.received.lock().unwrap().push(received.clone());
    if !ok {
        return Err(error(401, 20003, "Authenticate"));
    }
    if received.get("To").is_none() {
        return Err(error(400, 21604, "A 'To' phone number is required."));
    }
    if received.get("From").is_none() && received.get("MessagingServiceSid").is_none() {
        return Err(error(400, 21603, "A 'From' phone number is required."));
    }
    let mode = state.mode.lock().unwrap().clone();
    match mode {
        Mode::Accept => {}
        Mode::Reject(status, code, message) => return Err(error(status, code, message)),
        Mode::Hang(d) => tokio::time::sleep(d).await,
        Mode::ReceiptFirst(status) => {
            if let Some(cb) = received.get("StatusCallback") {
                post_callback(
                    state,
                    cb,
                    &[
                        ("MessageSid", &received.sid),
                        ("MessageStatus", status),
                        ("AccountSid", &state.account_sid),
                    ],
                    Signing::Valid,
                )
                .await;
            }
        }
    }
    Ok(received)
}

async fn message(
    State(state): State<Arc<FakeState>>,
    Path(_sid): Path<String>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> axum::response::Response {
    let received = match record(&state, uri.path().to_owned(), &headers, &body, "SM").await {
        Ok(r) => r,
        Err(res) => return res,
    };
    if received.get("Body").is_none() {
        return error(400, 21602, "Message body is required.");
    }
    (
        StatusCode::CREATED,
        Json(json!({"sid": received.sid, "status": "queued", "to": received.get("To"), "direction": "outbound-api", "num_segments": "1"})),
    )
        .into_response()
}

async fn call(
    State(state): State<Arc<FakeState>>,
    Path(_sid): Path<String>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> axum::response::Response {
    let received = match record(&state, uri.path().to_owned(), &headers, &body, "CA").await {
        Ok(r) => r,
        Err(res) => return res,
    };
    let Some(url) = received.get("Url") else {
        return error(400, 21205, "Url parameter is required.");
    };
    // The call is answered: fetch what to say, as Twilio does (POST with the call's fields).
    let res = state
        .http
        .post(url)
        .form(&[
            ("CallSid", received.sid.as_str()),
            ("CallStatus", "in-progress"),
        ])
        .send()
        .await
        .unwrap();
    let fetched = Fetched {
        status: res.status().as_u16(),
        cache_control: res
            .headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        body: res.text().await.unwrap_or_default(),
    };
    // A `<Gather>` (press a key first): the person who answered presses 5; the provider posts
    // the digit to the gather's action and reads out what that answers.
    let action = roxmltree::Document::parse(&fetched.body)
        .ok()
        .and_then(|doc| {
            doc.descendants()
                .find(|n| n.has_tag_name("Gather"))
                .and_then(|g| g.attribute("action").map(str::to_owned))
        });
    state.fetched.lock().unwrap().push(fetched);
    if let Some(action) = action {
        let res = state
            .http
            .post(&action)
            .form(&[("CallSid", received.sid.as_str()), ("Digits", "5")])
            .send()
            .await
            .unwrap();
        let fetched = Fetched {
            status: res.status().as_u16(),
            cache_control: res
                .headers()
                .get("cache-control")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            body: res.text().await.unwrap_or_default(),
        };
        state.fetched.lock().unwrap().push(fetched);
    }
    (
        StatusCode::CREATED,
        Json(json!({"sid": received.sid, "status": "queued", "to": received.get("To"), "direction": "outbound-api"})),
    )
        .into_response()
}

/// The `<Say>` of a voice document: its attributes and text.
pub fn say(xml: &str) -> (String, String, String, String) {
    let doc = roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("{e}: {xml}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "Response", "{xml}");
    let say = root
        .children()
        .find(|n| n.has_tag_name("Say"))
        .unwrap_or_else(|| panic!("no <Say>: {xml}"));
    (
        say.attribute("voice").unwrap_or_default().to_owned(),
        say.attribute("language").unwrap_or_default().to_owned(),
        say.attribute("loop").unwrap_or_default().to_owned(),
        say.text().unwrap_or_default().to_owned(),
    )
}
