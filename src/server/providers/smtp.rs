//! Email through an SMTP server (lettre: async over tokio, rustls; pooled connections). The
//! message is built only through the library (headers are encoded by it, never pasted), with
//! a text and an HTML part. 4xx answers and connection problems are transient; 5xx answers
//! are permanent (535: the server refused our credentials).
use super::{Content, OutboundMessage, Provider, ProviderKind, ProviderOutcome, Recipient};
use crate::domain::provider::{SmtpConfig, SmtpSecurity};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

pub struct Smtp {
    pub name: String,
    pub config: SmtpConfig,
    extra_root: Option<Vec<u8>>,
    /// Loopback, private and link-local addresses may be connected to (the operator's
    /// `allow_private_outbound`).
    allow_private: bool,
    /// The connection pool and the server it connects to (the host, or one of its addresses).
    /// Replaced when that changes, and after a send timed out.
    transport: Mutex<Option<(String, AsyncSmtpTransport<Tokio1Executor>)>>,
    /// The address a connection failed to last (another of the host's is tried next).
    unreachable: Mutex<Option<IpAddr>>,
    timeout: Duration,
}

/// The host as a TLS name or an address (`[::1]` is `::1`).
fn bare_host(config: &SmtpConfig) -> &str {
    config.host.trim_start_matches('[').trim_end_matches(']')
}

/// How the connection is secured: the server's certificate must be valid for the host name.
fn tls(config: &SmtpConfig, extra_root: Option<&[u8]>) -> Result<Tls, String> {
    let params = || -> Result<TlsParameters, String> {
        let mut t = TlsParameters::builder(bare_host(config).to_owned());
        if let Some(pem) = extra_root {
            t = t.add_root_certificate(Certificate::from_pem(pem).map_err(|e| e.to_string())?);
        }
        t.build_rustls().map_err(|e| format!("TLS settings: {e}"))
    };
    Ok(match config.security {
        // Required: never falls back to plain text when the server does not offer STARTTLS.
        SmtpSecurity::Starttls => Tls::Required(params()?),
        SmtpSecurity::Tls => Tls::Wrapper(params()?),
        SmtpSecurity::None => Tls::None,
    })
}

/// A pooled transport for `config` that connects to `server` (the host or one of its addresses).
fn transport(
    config: &SmtpConfig,
    server: &str,
    extra_root: Option<&[u8]>,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(server)
        .port(config.port)
        .timeout(Some(Duration::from_secs(10)))
        .pool_config(
            PoolConfig::new()
                .max_size(4)
                .idle_timeout(Duration::from_secs(30)),
        )
        .tls(tls(config, extra_root)?);
    if let (Some(user), Some(password)) = (&config.username, &config.password) {
        b = b.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
    }
    Ok(b.build())
}

/// A transport no message takes any more: its idle connections are closed in the background
/// (boundedly: closing says QUIT and waits for the answer).
fn retire(old: AsyncSmtpTransport<Tokio1Executor>, bound: Duration) {
    tokio::spawn(async move {
        let _ = tokio::time::timeout(bound, old.shutdown()).await;
    });
}

impl Smtp {
    /// A provider for `config` (must run inside the tokio runtime: the pool starts a task).
    /// `extra_root` is a PEM certificate to trust besides the public roots (tests' own CA).
    pub fn new(
        name: String,
        config: SmtpConfig,
        extra_root: Option<&[u8]>,
        allow_private: bool,
        timeout: Duration,
    ) -> Result<Self, String> {
        tls(&config, extra_root)?;
        Ok(Self {
            name,
            config,
            extra_root: extra_root.map(<[u8]>::to_vec),
            allow_private,
            transport: Mutex::new(None),
            unreachable: Mutex::new(None),
            timeout,
        })
    }

    /// Where to connect for this message: the host, when internal addresses are allowed (then
    /// the library tries each of its addresses). Otherwise the host is resolved again for
    /// every message and one of its public addresses is connected to, so that a name which
    /// resolves to an internal address by now (DNS rebinding: it was checked when written)
    /// cannot make us connect there.
    async fn server(&self) -> Result<(String, Option<IpAddr>), ProviderOutcome> {
        let host = bare_host(&self.config);
        if self.allow_private {
            return Ok((host.to_owned(), None));
        }
        let found: Vec<IpAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            Err(_) => {
                let lookup = tokio::net::lookup_host((host, self.config.port));
                match tokio::time::timeout(self.timeout, lookup).await {
                    Err(_) => {
                        return Err(ProviderOutcome::Transient(format!(
                            "resolving {host} took too long"
                        )))
                    }
                    Ok(Err(e)) => {
                        return Err(ProviderOutcome::Transient(format!(
                            "{host} does not resolve: {e}"
                        )))
                    }
                    Ok(Ok(addrs)) => addrs.map(|a| a.ip()).collect(),
                }
            }
        };
        let public: Vec<IpAddr> = found
            .iter()
            .copied()
            .filter(|ip| !crate::server::outbound::is_internal(*ip))
            .collect();
        let unreachable = *self.unreachable.lock().unwrap_or_else(|e| e.into_inner());
        let pick = public
            .iter()
            .find(|ip| Some(**ip) != unreachable)
            .or(public.first());
        match (pick, found.first()) {
            (Some(ip), _) => Ok((ip.to_string(), Some(*ip))),
            (None, Some(internal)) => Err(ProviderOutcome::Permanent(format!(
                "{host} resolves only to internal addresses ({internal}); this server does not connect there"
            ))),
            (None, None) => Err(ProviderOutcome::Transient(format!("{host} does not resolve"))),
        }
    }

    /// The pool that connects to `server` (a new one when that changed).
    fn transport_to(&self, server: &str) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
        let mut current = self.transport.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((to, t)) = current.as_ref() {
            if to == server {
                return Ok(t.clone());
            }
        }
        let fresh = transport(&self.config, server, self.extra_root.as_deref())?;
        if let Some((_, old)) = current.replace((server.to_owned(), fresh.clone())) {
            retire(old, self.timeout);
        }
        Ok(fresh)
    }

    /// After a timeout: the connection that gave up may still be inside a transaction (the
    /// server's answer to our DATA yet to come). Back in the pool, it would hand the next
    /// message this one's late answers, or keep it waiting behind them. So new messages take
    /// a fresh pool, and the old one closes its connections.
    fn renew(&self, used: AsyncSmtpTransport<Tokio1Executor>) {
        self.transport
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        retire(used, self.timeout);
    }

    fn message(&self, msg: &OutboundMessage) -> Result<Message, String> {
        let Recipient::Email(to) = &msg.to else {
            return Err("an SMTP server delivers email, not SMS or calls".into());
        };
        let Content::Email {
            subject,
            text,
            html,
        } = &msg.content
        else {
            return Err("an SMTP server delivers email, not SMS or calls".into());
        };
        let from_address = msg.from.as_deref().unwrap_or(&self.config.from_address);
        let from = Mailbox::new(
            self.config.from_name.clone(),
            from_address
                .parse()
                .map_err(|e| format!("sender address {from_address:?}: {e}"))?,
        );
        let to = Mailbox::new(None, to.parse().map_err(|e| format!("recipient: {e}"))?);
        let html = html.clone().unwrap_or_else(|| text_as_html(text));
        let domain = from_address
            .rsplit_once('@')
            .map(|(_, d)| d)
            .unwrap_or("smart2fa");
        Message::builder()
            .from(from)
            .to(to)
            .subject(subject.clone())
            .message_id(Some(format!("<{}@{domain}>", msg.idempotency_key)))
            .multipart(MultiPart::alternative_plain_html(text.clone(), html))
            .map_err(|e| format!("building the message: {e}"))
    }
}

/// The text part as a minimal HTML part (paragraphs, escaped).
pub fn text_as_html(text: &str) -> String {
    let escaped = quick_xml::escape::escape(text);
    let paragraphs: Vec<String> = escaped
        .split("\n\n")
        .map(|p| format!("<p>{}</p>", p.replace('\n', "<br>")))
        .collect();
    format!(
        "<!doctype html><html><body style=\"font-family:sans-serif\">{}</body></html>",
        paragraphs.join("")
    )
}

/// An SMTP failure as an outcome, in words a person can act on.
pub fn outcome_of(e: &lettre::transport::smtp::Error) -> ProviderOutcome {
    let code = e.status().map(u16::from);
    if e.is_permanent() {
        let words = match code {
            Some(530 | 534 | 535) => format!("the SMTP server refused our credentials: {e}"),
            Some(550..=553) => format!("the SMTP server refused the address: {e}"),
            _ => format!("the SMTP server refused the message: {e}"),
        };
        return ProviderOutcome::Permanent(words);
    }
    if e.is_transient() {
        return ProviderOutcome::Transient(format!("the SMTP server said try later: {e}"));
    }
    if e.is_client() {
        return ProviderOutcome::Permanent(format!("SMTP settings: {e}"));
    }
    ProviderOutcome::Transient(super::connection_failure(&super::root_cause(e)))
}

#[async_trait::async_trait]
impl Provider for Smtp {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Smtp
    }

    fn name(&self) -> String {
        self.name.clone()
    }

    async fn deliver(&self, msg: &OutboundMessage) -> ProviderOutcome {
        let message = match self.message(msg) {
            Ok(m) => m,
            Err(e) => return ProviderOutcome::Permanent(e),
        };
        let (server, address) = match self.server().await {
            Ok(s) => s,
            Err(refused) => return refused,
        };
        let transport = match self.transport_to(&server) {
            Ok(t) => t,
            Err(e) => return ProviderOutcome::Permanent(format!("SMTP settings: {e}")),
        };
        // lettre bounds the connect only: a server that stalls later is bounded here.
        match tokio::time::timeout(self.timeout, transport.send(message)).await {
            Err(_) => {
                self.renew(transport);
                ProviderOutcome::Transient("the SMTP server did not answer in time".into())
            }
            Ok(Err(e)) => {
                // No answer from the server at that address: the retry tries another one.
                if address.is_some() && e.status().is_none() && !e.is_client() {
                    *self.unreachable.lock().unwrap_or_else(|e| e.into_inner()) = address;
                }
                outcome_of(&e)
            }
            Ok(Ok(response)) => ProviderOutcome::Sent {
                provider_sid: format!(
                    "{} {}",
                    u16::from(response.code()),
                    response.message().collect::<Vec<_>>().join(" ")
                )
                .chars()
                .take(120)
                .collect(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn html_part_is_escaped_text() {
        assert_eq!(
            super::text_as_html("Code <b>1</b>\n\nbye"),
            "<!doctype html><html><body style=\"font-family:sans-serif\"><p>Code &lt;b&gt;1&lt;/b&gt;</p><p>bye</p></body></html>"
        );
    }
}
