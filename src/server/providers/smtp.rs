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
use std::sync::Mutex;
use std::time::Duration;

pub struct Smtp {
    pub name: String,
    pub config: SmtpConfig,
    extra_root: Option<Vec<u8>>,
    /// The connection pool; replaced by a fresh one after a send timed out.
    transport: Mutex<AsyncSmtpTransport<Tokio1Executor>>,
    timeout: Duration,
}

/// A pooled transport for `config`.
fn transport(
    config: &SmtpConfig,
    extra_root: Option<&[u8]>,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let host = config.host.clone();
    let tls_params = || -> Result<TlsParameters, String> {
        let mut t = TlsParameters::builder(host.clone());
        if let Some(pem) = extra_root {
            t = t.add_root_certificate(Certificate::from_pem(pem).map_err(|e| e.to_string())?);
        }
        t.build_rustls().map_err(|e| format!("TLS settings: {e}"))
    };
    let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.as_str())
        .port(config.port)
        .timeout(Some(Duration::from_secs(10)))
        .pool_config(
            PoolConfig::new()
                .max_size(4)
                .idle_timeout(Duration::from_secs(30)),
        );
    b = match config.security {
        // Required: never falls back to plain text when the server does not offer STARTTLS.
        SmtpSecurity::Starttls => b.tls(Tls::Required(tls_params()?)),
        SmtpSecurity::Tls => b.tls(Tls::Wrapper(tls_params()?)),
        SmtpSecurity::None => b.tls(Tls::None),
    };
    if let (Some(user), Some(password)) = (&config.username, &config.password) {
        b = b.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
    }
    Ok(b.build())
}

impl Smtp {
    /// A provider for `config` (must run inside the tokio runtime: the pool starts a task).
    /// `extra_root` is a PEM certificate to trust besides the public roots (tests' own CA).
    pub fn new(
        name: String,
        config: SmtpConfig,
        extra_root: Option<&[u8]>,
        timeout: Duration,
    ) -> Result<Self, String> {
        Ok(Self {
            name,
            transport: Mutex::new(transport(&config, extra_root)?),
            config,
            extra_root: extra_root.map(<[u8]>::to_vec),
            timeout,
        })
    }

    /// After a timeout: the connection that gave up may still be inside a transaction (the
    /// server's answer to our DATA yet to come). Back in the pool, it would hand the next
    /// message this one's late answers, or keep it waiting behind them. So new messages take
    /// a fresh pool, and the old one closes its connections in the background (boundedly).
    fn renew(&self, used: AsyncSmtpTransport<Tokio1Executor>) {
        if let Ok(fresh) = transport(&self.config, self.extra_root.as_deref()) {
            *self.transport.lock().unwrap_or_else(|e| e.into_inner()) = fresh;
        }
        let bound = self.timeout;
        tokio::spawn(async move {
            let _ = tokio::time::timeout(bound, used.shutdown()).await;
        });
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
    let cause = super::root_cause(e);
    if cause.contains("certificate") || cause.to_ascii_lowercase().contains("tls") {
        return ProviderOutcome::Transient(format!("TLS failure: {cause}"));
    }
    ProviderOutcome::Transient(format!("connection failed: {cause}"))
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
        let transport = self
            .transport
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        // lettre bounds the connect only: a server that stalls later is bounded here.
        match tokio::time::timeout(self.timeout, transport.send(message)).await {
            Err(_) => {
                self.renew(transport);
                ProviderOutcome::Transient("the SMTP server did not answer in time".into())
            }
            Ok(Err(e)) => outcome_of(&e),
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
