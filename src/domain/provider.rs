//! Delivery providers as an account configures them: the kinds there are, which channels each
//! kind delivers, each kind's settings (secrets apart), and the statuses their delivery
//! receipts report.
use super::otp::Channel;
use super::Problem;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// The test outbox: every account has it and uses it until another provider is configured.
    Sandbox,
    /// Twilio's REST API (or any CPaaS of that shape).
    Twilio,
    /// Restcomm Connect's REST API.
    Restcomm,
    /// A generic SMS/voice gateway: URL, method, headers and a body template.
    Http,
    /// An SMTP server.
    Smtp,
    /// A signed JSON POST to the account's own endpoint.
    Webhook,
}

impl ProviderKind {
    /// The kinds an account can configure (the sandbox is always there).
    pub const CONFIGURABLE: [ProviderKind; 5] = [
        ProviderKind::Twilio,
        ProviderKind::Restcomm,
        ProviderKind::Http,
        ProviderKind::Smtp,
        ProviderKind::Webhook,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Sandbox => "sandbox",
            ProviderKind::Twilio => "twilio",
            ProviderKind::Restcomm => "restcomm",
            ProviderKind::Http => "http",
            ProviderKind::Smtp => "smtp",
            ProviderKind::Webhook => "webhook",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ProviderKind::Sandbox => "Sandbox (test outbox)",
            ProviderKind::Twilio => "Twilio (or Twilio-compatible)",
            ProviderKind::Restcomm => "Restcomm",
            ProviderKind::Http => "HTTP gateway",
            ProviderKind::Smtp => "SMTP server",
            ProviderKind::Webhook => "Webhook",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [ProviderKind::Sandbox]
            .into_iter()
            .chain(Self::CONFIGURABLE)
            .find(|k| k.as_str() == raw.trim().to_ascii_lowercase())
    }

    /// The channels this kind can deliver.
    pub fn channels(self) -> &'static [Channel] {
        match self {
            ProviderKind::Sandbox | ProviderKind::Webhook => &Channel::ALL,
            ProviderKind::Twilio | ProviderKind::Restcomm | ProviderKind::Http => {
                &[Channel::Sms, Channel::Call]
            }
            ProviderKind::Smtp => &[Channel::Email],
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A secret (auth token, password, header value): never printed, shown only as its last four
/// characters.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(pub String);

impl Secret {
    /// `••••` and the last four characters — only of a secret long enough (12 or more) that
    /// four of them give nothing away; a shorter one is all dots.
    pub fn masked(&self) -> String {
        let chars: Vec<char> = self.0.chars().collect();
        if chars.len() < 12 {
            return "••••".into();
        }
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("••••{tail}")
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (required: never falls back to plain text).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption (a relay on the same host or network).
    None,
}

impl SmtpSecurity {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "starttls" => Some(SmtpSecurity::Starttls),
            "tls" => Some(SmtpSecurity::Tls),
            "none" => Some(SmtpSecurity::None),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SmtpSecurity::Starttls => "starttls",
            SmtpSecurity::Tls => "tls",
            SmtpSecurity::None => "none",
        }
    }
}

/// How the `http` gateway's body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BodyEncoding {
    Json,
    Form,
}

impl BodyEncoding {
    pub fn as_str(self) -> &'static str {
        match self {
            BodyEncoding::Json => "json",
            BodyEncoding::Form => "form",
        }
    }
}

/// Where Twilio's REST API is, when a Twilio provider names no other base URL.
pub const TWILIO_BASE_URL: &str = "https://api.twilio.com";

/// Twilio and Restcomm: a CPaaS REST API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpaasConfig {
    pub base_url: String,
    pub account_sid: String,
    pub auth_token: Secret,
    /// Default sender (E.164 or an alphanumeric sender id).
    pub from: Option<String>,
    /// Twilio only: send through a Messaging Service instead of `from`.
    pub messaging_service_sid: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpGatewayConfig {
    pub url: String,
    /// `GET` or `POST`.
    pub method: String,
    /// Headers sent with every request; their values are secrets (they often carry API keys).
    pub headers: Vec<(String, Secret)>,
    pub content_type: BodyEncoding,
    /// With placeholders `{to}`, `{from}`, `{text}`, `{requestID}`, `{language}`.
    pub body_template: String,
    /// Where the gateway's answer holds its message id (`data.id`, `messages.0.id`).
    pub message_id_path: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub from_address: String,
    pub from_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookConfig {
    pub url: String,
}

/// A provider's settings, by kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderConfig {
    Sandbox,
    Twilio(CpaasConfig),
    Restcomm(CpaasConfig),
    Http(HttpGatewayConfig),
    Smtp(SmtpConfig),
    Webhook(WebhookConfig),
}

impl ProviderConfig {
    pub fn kind(&self) -> ProviderKind {
        match self {
            ProviderConfig::Sandbox => ProviderKind::Sandbox,
            ProviderConfig::Twilio(_) => ProviderKind::Twilio,
            ProviderConfig::Restcomm(_) => ProviderKind::Restcomm,
            ProviderConfig::Http(_) => ProviderKind::Http,
            ProviderConfig::Smtp(_) => ProviderKind::Smtp,
            ProviderConfig::Webhook(_) => ProviderKind::Webhook,
        }
    }

    /// The settings as anyone may see them, by their API names, in the order a form shows them:
    /// secrets masked, absent optional fields left out.
    pub fn shown(&self) -> Vec<(&'static str, Shown)> {
        let text = |v: &str| Shown::Text(v.to_owned());
        let opt =
            |k: &'static str, v: &Option<String>| v.as_ref().map(|v| (k, Shown::Text(v.clone())));
        match self {
            ProviderConfig::Sandbox => Vec::new(),
            ProviderConfig::Twilio(c) | ProviderConfig::Restcomm(c) => [
                Some(("baseUrl", text(&c.base_url))),
                Some(("accountSid", text(&c.account_sid))),
                Some(("authToken", Shown::Secret(c.auth_token.masked()))),
                opt("from", &c.from),
                opt("messagingServiceSid", &c.messaging_service_sid),
            ]
            .into_iter()
            .flatten()
            .collect(),
            ProviderConfig::Http(c) => [
                Some(("url", text(&c.url))),
                Some(("method", text(&c.method))),
                Some((
                    "headers",
                    Shown::Headers(
                        c.headers
                            .iter()
                            .map(|(n, v)| (n.clone(), v.masked()))
                            .collect(),
                    ),
                )),
                Some(("contentType", text(c.content_type.as_str()))),
                Some(("bodyTemplate", text(&c.body_template))),
                opt("messageIdPath", &c.message_id_path),
            ]
            .into_iter()
            .flatten()
            .collect(),
            ProviderConfig::Smtp(c) => [
                Some(("host", text(&c.host))),
                Some(("port", Shown::Number(c.port))),
                Some(("security", text(c.security.as_str()))),
                opt("username", &c.username),
                c.password
                    .as_ref()
                    .map(|p| ("password", Shown::Secret(p.masked()))),
                Some(("fromAddress", text(&c.from_address))),
                opt("fromName", &c.from_name),
            ]
            .into_iter()
            .flatten()
            .collect(),
            ProviderConfig::Webhook(c) => vec![("url", text(&c.url))],
        }
    }

    /// The URLs this provider makes us connect to (each must pass the outbound guard).
    pub fn urls(&self) -> Vec<&str> {
        match self {
            ProviderConfig::Twilio(c) | ProviderConfig::Restcomm(c) => vec![&c.base_url],
            ProviderConfig::Http(c) => vec![&c.url],
            ProviderConfig::Webhook(c) => vec![&c.url],
            ProviderConfig::Sandbox | ProviderConfig::Smtp(_) => Vec::new(),
        }
    }
}

/// One setting of a provider as it may be shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shown {
    Text(String),
    Number(u16),
    /// A secret, masked.
    Secret(String),
    /// A gateway's headers, values masked.
    Headers(Vec<(String, String)>),
}

/// A provider as an account (or the operator) set it up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderSetup {
    pub sid: super::ids::ProviderSid,
    /// `None`: a server-wide default provider from the configuration.
    pub account_sid: Option<super::ids::AccountSid>,
    pub name: String,
    /// The channels it delivers (a subset of its kind's).
    pub channels: Vec<Channel>,
    /// Destination countries it is for (ISO 3166 alpha-2); empty: every country.
    pub countries: Vec<String>,
    /// Lower first.
    pub priority: i64,
    pub enabled: bool,
    pub config: ProviderConfig,
    pub date_created: i64,
    pub date_updated: i64,
}

impl ProviderSetup {
    pub fn kind(&self) -> ProviderKind {
        self.config.kind()
    }

    /// Does it deliver this channel to this country (`None`: no country, e.g. email)?
    pub fn serves(&self, channel: Channel, country: Option<&str>) -> bool {
        self.enabled
            && self.channels.contains(&channel)
            && (self.countries.is_empty()
                || country.is_some_and(|c| self.countries.iter().any(|k| k == c)))
    }
}

/// Where a delivery stands as a provider reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ReceiptStatus {
    /// Accepted, queued, sending, ringing…: still under way.
    InProgress,
    /// Handed to the carrier / the call was placed.
    Sent,
    /// Delivered to the handset / the call was answered.
    Delivered,
    /// Will not arrive: undelivered, failed, rejected, expired, busy, no answer.
    Failed,
}

impl ReceiptStatus {
    /// A provider's status word (Twilio's, Restcomm's, SMPP's `DELIVRD`…), if it is one.
    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw.trim().to_ascii_lowercase().as_str() {
            "queued" | "accepted" | "scheduled" | "sending" | "initiated" | "ringing"
            | "enroute" | "acceptd" | "submitted" | "buffered" => ReceiptStatus::InProgress,
            "sent" => ReceiptStatus::Sent,
            "delivered" | "delivrd" | "read" | "in-progress" | "answered" | "completed" => {
                ReceiptStatus::Delivered
            }
            "undelivered" | "undeliv" | "failed" | "rejected" | "rejectd" | "expired"
            | "deleted" | "canceled" | "busy" | "no-answer" | "undeliverable" => {
                ReceiptStatus::Failed
            }
            _ => return None,
        })
    }

    /// A delivery's status only moves forward: a late `sent` after `delivered` changes nothing.
    pub fn moves_from(self, current: ReceiptStatus) -> bool {
        current != ReceiptStatus::Failed && current != ReceiptStatus::Delivered && self > current
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ReceiptStatus::InProgress => "sending",
            ReceiptStatus::Sent => "sent",
            ReceiptStatus::Delivered => "delivered",
            ReceiptStatus::Failed => "undelivered",
        }
    }

    /// The status a delivery attempt row holds, back.
    pub fn from_attempt(raw: &str) -> Option<Self> {
        match raw {
            "sending" => Some(ReceiptStatus::InProgress),
            "sent" => Some(ReceiptStatus::Sent),
            "delivered" => Some(ReceiptStatus::Delivered),
            "failed" | "undelivered" => Some(ReceiptStatus::Failed),
            _ => None,
        }
    }
}

/// A provider's settings as a caller gave them: each field by its API name (`baseUrl`,
/// `authToken`…), and the gateway's headers. A secret left empty keeps the current one.
#[derive(Debug, Clone, Default)]
pub struct ConfigInput {
    pub values: std::collections::BTreeMap<String, String>,
    pub headers: Vec<(String, String)>,
}

impl ConfigInput {
    /// From a JSON object (the API's `config`, a default provider of `smart2fa.toml`): strings,
    /// numbers and booleans by key, `headers` as an object of strings; `null` is absent. Else
    /// the key at fault and why.
    pub fn from_json(config: &serde_json::Value) -> Result<Self, (String, Problem)> {
        use serde_json::Value;
        let Value::Object(m) = config else {
            return Err((String::new(), Problem::says("must be an object.")));
        };
        let mut input = ConfigInput::default();
        for (k, v) in m {
            match v {
                Value::String(s) => {
                    input.values.insert(k.clone(), s.clone());
                }
                Value::Number(n) => {
                    input.values.insert(k.clone(), n.to_string());
                }
                Value::Bool(b) => {
                    input.values.insert(k.clone(), b.to_string());
                }
                Value::Object(h) if k == "headers" => {
                    for (name, value) in h {
                        let value = value
                            .as_str()
                            .ok_or_else(|| (k.clone(), Problem::says("values must be strings.")))?;
                        input.headers.push((name.clone(), value.to_owned()));
                    }
                }
                Value::Null => {}
                _ => return Err((k.clone(), Problem::says("must be a string or a number."))),
            }
        }
        Ok(input)
    }

    fn get(&self, key: &str) -> Option<String> {
        self.values
            .get(key)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    fn required(&self, key: &'static str) -> Result<String, (&'static str, Problem)> {
        self.get(key).ok_or((key, Problem::Required))
    }

    /// A single-line text (no control characters at all: it may end up in a header).
    fn line(
        &self,
        key: &'static str,
        max: usize,
    ) -> Result<Option<String>, (&'static str, Problem)> {
        match self.get(key) {
            None => Ok(None),
            Some(v) if v.chars().count() > max => Err((
                key,
                Problem::Length {
                    min: 1,
                    max,
                    got: v.chars().count(),
                },
            )),
            Some(v) if v.chars().any(char::is_control) => Err((key, Problem::ControlChars)),
            Some(v) => Ok(Some(v)),
        }
    }

    fn url(&self, key: &'static str) -> Result<String, (&'static str, Problem)> {
        let v = self.required(key)?;
        super::url::callback_url(&v).map_err(|p| (key, p))
    }

    fn secret(&self, key: &str) -> Secret {
        Secret(self.values.get(key).cloned().unwrap_or_default())
    }
}

/// A sender for SMS and calls: E.164, or an alphanumeric sender id of 1–11 characters.
fn sender(v: &str) -> Result<String, Problem> {
    let e164 = v
        .strip_prefix('+')
        .is_some_and(|d| (1..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()));
    let alnum =
        (1..=11).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b' ');
    if e164 || alnum {
        Ok(v.to_owned())
    } else {
        Err(Problem::says(
            "must be an E.164 number like +14155550100 or a sender id of 1–11 letters and digits.",
        ))
    }
}

/// The settings of a provider of `kind`, or the field at fault and why. Secrets may be empty
/// here (an update that keeps them); whether they are required is decided with the current
/// ones at hand.
pub fn parse_config(
    kind: ProviderKind,
    input: &ConfigInput,
) -> Result<ProviderConfig, (&'static str, Problem)> {
    Ok(match kind {
        ProviderKind::Sandbox => ProviderConfig::Sandbox,
        ProviderKind::Twilio | ProviderKind::Restcomm => {
            let account_sid = input.required("accountSid")?;
            if account_sid.len() > 64 || !account_sid.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err((
                    "accountSid",
                    Problem::says("must be 1–64 letters and digits."),
                ));
            }
            let messaging_service_sid = input.get("messagingServiceSid");
            if let Some(m) = &messaging_service_sid {
                if kind == ProviderKind::Restcomm {
                    return Err(("messagingServiceSid", Problem::says("is a Twilio setting.")));
                }
                if !(m.len() == 34
                    && m.starts_with("MG")
                    && m[2..].bytes().all(|b| b.is_ascii_hexdigit()))
                {
                    return Err((
                        "messagingServiceSid",
                        Problem::says("must be MG followed by 32 hex digits."),
                    ));
                }
            }
            let from = input
                .get("from")
                .map(|f| sender(&f).map_err(|p| ("from", p)))
                .transpose()?;
            if from.is_none() && messaging_service_sid.is_none() {
                return Err((
                    "from",
                    Problem::says("is required (or, for Twilio, messagingServiceSid)."),
                ));
            }
            // Twilio's own host unless another Twilio-compatible API is named; a Restcomm
            // server is always someone's own.
            let base_url = match input.get("baseUrl") {
                None if kind == ProviderKind::Twilio => TWILIO_BASE_URL.to_owned(),
                _ => input.url("baseUrl")?,
            };
            let c = CpaasConfig {
                base_url,
                account_sid,
                auth_token: input.secret("authToken"),
                from,
                messaging_service_sid,
            };
            if kind == ProviderKind::Twilio {
                ProviderConfig::Twilio(c)
            } else {
                ProviderConfig::Restcomm(c)
            }
        }
        ProviderKind::Http => {
            let method = input
                .get("method")
                .unwrap_or_else(|| "POST".into())
                .to_ascii_uppercase();
            if method != "POST" && method != "GET" {
                return Err(("method", Problem::says("must be GET or POST.")));
            }
            let content_type = match input
                .get("contentType")
                .as_deref()
                .map(str::to_ascii_lowercase)
                .as_deref()
            {
                None | Some("json") => BodyEncoding::Json,
                Some("form") => BodyEncoding::Form,
                Some(_) => return Err(("contentType", Problem::says("must be json or form."))),
            };
            let body_template = input
                .values
                .get("bodyTemplate")
                .cloned()
                .unwrap_or_default();
            if body_template.chars().count() > 4000 {
                return Err((
                    "bodyTemplate",
                    Problem::Length {
                        min: 0,
                        max: 4000,
                        got: body_template.chars().count(),
                    },
                ));
            }
            if method == "POST"
                && !body_template.contains("{text}")
                && !input
                    .values
                    .get("url")
                    .is_some_and(|u| u.contains("{text}"))
            {
                return Err((
                    "bodyTemplate",
                    Problem::says("must carry the message: put {text} in it (or in the URL)."),
                ));
            }
            let mut headers = Vec::new();
            for (name, value) in &input.headers {
                let name = name.trim();
                if name.is_empty()
                    || !name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                {
                    return Err((
                        "headers",
                        Problem::sentence(format!("headers: {name:?} is not a header name.")),
                    ));
                }
                if value.chars().any(char::is_control) {
                    return Err((
                        "headers",
                        Problem::sentence(format!(
                            "headers: the value of {name} has control characters."
                        )),
                    ));
                }
                headers.push((name.to_owned(), Secret(value.clone())));
            }
            ProviderConfig::Http(HttpGatewayConfig {
                url: input.url("url")?,
                method,
                headers,
                content_type,
                body_template,
                message_id_path: input.line("messageIdPath", 128)?,
            })
        }
        ProviderKind::Smtp => {
            let host = input.required("host")?;
            if host.len() > 253
                || !host.bytes().all(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']')
                })
            {
                return Err((
                    "host",
                    Problem::says("must be a host name or an IP address."),
                ));
            }
            let security = match input.get("security") {
                None => SmtpSecurity::Starttls,
                Some(s) => SmtpSecurity::parse(&s)
                    .ok_or(("security", Problem::says("must be starttls, tls or none.")))?,
            };
            let port = match input.get("port") {
                None => match security {
                    SmtpSecurity::Tls => 465,
                    SmtpSecurity::Starttls => 587,
                    SmtpSecurity::None => 25,
                },
                Some(p) => p
                    .parse::<u16>()
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or(("port", Problem::Range { min: 1, max: 65535 }))?,
            };
            let from_address = input.required("fromAddress")?;
            super::email::parse_destination(&from_address).map_err(|p| ("fromAddress", p))?;
            let username = input.line("username", 256)?;
            let password = input.secret("password");
            if username.is_none() && !password.expose().is_empty() {
                return Err((
                    "username",
                    Problem::says("is required with a password (the server logs in with both)."),
                ));
            }
            ProviderConfig::Smtp(SmtpConfig {
                host,
                port,
                security,
                password: (username.is_some()).then_some(password),
                username,
                from_address,
                from_name: input.line("fromName", 100)?,
            })
        }
        ProviderKind::Webhook => ProviderConfig::Webhook(WebhookConfig {
            url: input.url("url")?,
        }),
    })
}

/// A provider's name: 1–64 characters, no control characters.
pub fn parse_name(raw: &str) -> Result<String, Problem> {
    super::problem::text(raw.trim(), (1, 64))
}

/// The `{to}`, `{from}`, `{text}`, `{requestID}`, `{language}` placeholders of a gateway body,
/// filled with values escaped by `escape` (JSON string content or form encoding).
pub fn fill_template(
    template: &str,
    values: &[(&str, &str)],
    escape: impl Fn(&str) -> String,
) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        match values.iter().find(|(name, _)| {
            tail[1..].starts_with(name) && tail[1 + name.len()..].starts_with('}')
        }) {
            Some((name, value)) => {
                out.push_str(&escape(value));
                rest = &tail[name.len() + 2..];
            }
            None => {
                out.push('{');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_channels() {
        for k in ProviderKind::CONFIGURABLE {
            assert_eq!(ProviderKind::parse(k.as_str()), Some(k));
            assert!(!k.channels().is_empty());
        }
        assert_eq!(ProviderKind::Smtp.channels(), &[Channel::Email]);
        assert!(!ProviderKind::Twilio.channels().contains(&Channel::Email));
    }

    #[test]
    fn secrets_never_print() {
        let s = Secret("abcdef123456".into());
        assert_eq!(s.masked(), "••••3456");
        assert_eq!(format!("{s:?}"), "Secret(…)");
        assert_eq!(
            Secret("ab".into()).masked(),
            "••••",
            "a short secret shows nothing"
        );
        assert_eq!(Secret("abcdefghijk".into()).masked(), "••••");
    }

    #[test]
    fn twilio_defaults_to_its_own_host_restcomm_names_its_server() {
        let mut input = ConfigInput::default();
        input.values.insert("accountSid".into(), "AC123".into());
        input.values.insert("from".into(), "+14155550100".into());
        let ProviderConfig::Twilio(c) = parse_config(ProviderKind::Twilio, &input).unwrap() else {
            panic!("a twilio config")
        };
        assert_eq!(c.base_url, TWILIO_BASE_URL);
        assert_eq!(
            parse_config(ProviderKind::Restcomm, &input).unwrap_err().0,
            "baseUrl"
        );
    }

    #[test]
    fn config_from_json_and_shown_masked() {
        let input = ConfigInput::from_json(&serde_json::json!({
            "host": "smtp.example.com", "port": 2525, "password": "correct horse battery",
            "fromAddress": "otp@example.com", "username": "mailer", "fromName": null,
        }))
        .unwrap();
        assert_eq!(input.values["port"], "2525");
        assert!(!input.values.contains_key("fromName"));
        let config = parse_config(ProviderKind::Smtp, &input).unwrap();
        let shown = config.shown();
        assert!(shown.contains(&("port", Shown::Number(2525))));
        assert!(shown.contains(&("password", Shown::Secret("••••tery".into()))));
        assert!(!shown.iter().any(|(k, _)| *k == "fromName"));
        assert_eq!(
            ConfigInput::from_json(&serde_json::json!({"port": [1]}))
                .unwrap_err()
                .0,
            "port"
        );
        assert_eq!(
            ConfigInput::from_json(&serde_json::json!({"headers": {"X-Key": 5}}))
                .unwrap_err()
                .0,
            "headers"
        );
    }

    #[test]
    fn receipts_only_move_forward() {
        use ReceiptStatus::*;
        assert_eq!(ReceiptStatus::parse("DELIVRD"), Some(Delivered));
        assert_eq!(ReceiptStatus::parse("UNDELIV"), Some(Failed));
        assert_eq!(ReceiptStatus::parse("no-answer"), Some(Failed));
        assert_eq!(ReceiptStatus::parse("queued"), Some(InProgress));
        assert_eq!(ReceiptStatus::parse("weird"), None);
        assert!(Delivered.moves_from(Sent));
        assert!(!Sent.moves_from(Delivered), "a late sent after delivered");
        assert!(!Delivered.moves_from(Delivered), "a duplicate");
        assert!(!Delivered.moves_from(Failed));
        assert!(Failed.moves_from(Sent));
    }

    #[test]
    fn templates_fill_and_escape() {
        let body = fill_template(
            r#"{"to":"{to}","text":"{text}","x":"{unknown}"}"#,
            &[("to", "+1415"), ("text", "a \"b\"")],
            |v| v.replace('"', "\\\""),
        );
        assert_eq!(body, r#"{"to":"+1415","text":"a \"b\"","x":"{unknown}"}"#);
    }
}
