//! Twilio and Restcomm: a CPaaS REST API. SMS: `POST {base}/2010-04-01/Accounts/{sid}/Messages.json`
//! (Twilio) or `{base}/restcomm/2012-04-24/Accounts/{sid}/SMS/Messages.json` (Restcomm), form
//! `To, From|MessagingServiceSid, Body, StatusCallback`; calls: `…/Calls.json` with `To, From, Url,
//! StatusCallback, StatusCallbackEvent` where `Url` is our voice document. HTTP Basic with the
//! provider's account sid and auth token; the base URL is configurable, so any CPaaS of that
//! shape works. Also: checking Twilio's `X-Twilio-Signature` on receipts.
use super::{
    http_outcome, Content, OutboundMessage, Provider, ProviderKind, ProviderOutcome, Recipient,
};
use crate::domain::provider::CpaasConfig;
use base64::Engine as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Twilio,
    Restcomm,
}

pub struct Cpaas {
    /// How long a call may take.
    pub timeout: std::time::Duration,
    pub flavor: Flavor,
    pub name: String,
    pub config: CpaasConfig,
    pub http: reqwest::Client,
}

impl Cpaas {
    fn account_path(&self) -> String {
        let base = self.config.base_url.trim_end_matches('/');
        match self.flavor {
            Flavor::Twilio => format!("{base}/2010-04-01/Accounts/{}", self.config.account_sid),
            Flavor::Restcomm => {
                format!(
                    "{base}/restcomm/2012-04-24/Accounts/{}",
                    self.config.account_sid
                )
            }
        }
    }

    fn messages_url(&self) -> String {
        match self.flavor {
            Flavor::Twilio => format!("{}/Messages.json", self.account_path()),
            Flavor::Restcomm => format!("{}/SMS/Messages.json", self.account_path()),
        }
    }

    fn calls_url(&self) -> String {
        format!("{}/Calls.json", self.account_path())
    }
}

#[async_trait::async_trait]
impl Provider for Cpaas {
    fn kind(&self) -> ProviderKind {
        match self.flavor {
            Flavor::Twilio => ProviderKind::Twilio,
            Flavor::Restcomm => ProviderKind::Restcomm,
        }
    }

    fn name(&self) -> String {
        self.name.clone()
    }

    async fn deliver(&self, msg: &OutboundMessage) -> ProviderOutcome {
        let Recipient::Phone(to) = &msg.to else {
            return ProviderOutcome::Permanent(format!(
                "{} delivers SMS and calls, not email",
                self.kind()
            ));
        };
        let from = msg.from.clone().or_else(|| self.config.from.clone());
        let mut form: Vec<(&str, String)> = vec![("To", to.clone())];
        match (
            &from,
            &self.config.messaging_service_sid,
            self.flavor,
            &msg.content,
        ) {
            (_, Some(service), Flavor::Twilio, Content::Sms { .. }) => {
                form.push(("MessagingServiceSid", service.clone()))
            }
            (Some(from), _, _, _) => form.push(("From", from.clone())),
            _ => {
                return ProviderOutcome::Permanent(
                    "no sender: set `from` in the provider (or send `from`)".into(),
                )
            }
        }
        let url = match &msg.content {
            Content::Sms { text } => {
                form.push(("Body", text.clone()));
                self.messages_url()
            }
            Content::Voice { .. } => {
                let Some(voice_url) = &msg.voice_url else {
                    return ProviderOutcome::Permanent("no voice document URL".into());
                };
                form.push(("Url", voice_url.clone()));
                form.push(("Method", "POST".into()));
                match self.flavor {
                    // Twilio: one parameter per event.
                    Flavor::Twilio => {
                        for e in ["initiated", "ringing", "answered", "completed"] {
                            form.push(("StatusCallbackEvent", e.into()));
                        }
                    }
                    Flavor::Restcomm => form.push((
                        "StatusCallbackEvent",
                        "initiated ringing answered completed".into(),
                    )),
                }
                self.calls_url()
            }
            Content::Email { .. } => {
                return ProviderOutcome::Permanent(format!(
                    "{} does not deliver email",
                    self.kind()
                ))
            }
        };
        if let Some(cb) = &msg.receipt_url {
            form.push(("StatusCallback", cb.clone()));
        }
        let res = self
            .http
            .post(url)
            .basic_auth(
                &self.config.account_sid,
                Some(self.config.auth_token.expose()),
            )
            .header("Idempotency-Key", &msg.idempotency_key)
            .form(&form)
            .timeout(self.timeout)
            .send()
            .await;
        http_outcome(res, |json| {
            json.get("sid").and_then(|s| s.as_str()).map(str::to_owned)
        })
        .await
    }
}

/// Twilio's request signature: base64(HMAC-SHA1(auth token, URL + every parameter's name and
/// value, sorted by name then value)).
pub fn twilio_signature(token: &str, url: &str, params: &[(String, String)]) -> String {
    use hmac::{Mac, SimpleHmac};
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut mac = <SimpleHmac<sha1::Sha1> as Mac>::new_from_slice(token.as_bytes())
        .expect("HMAC takes any key length");
    mac.update(url.as_bytes());
    for (k, v) in sorted {
        mac.update(k.as_bytes());
        mac.update(v.as_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Does `header` sign this request? Compared in constant time; the URL is also tried with the
/// default port added or removed (Twilio is not consistent about it).
pub fn twilio_signature_valid(
    token: &str,
    url: &str,
    params: &[(String, String)],
    header: &str,
) -> bool {
    let mut urls = vec![url.to_owned()];
    // With the scheme's default port written out and without it (the parser drops a default
    // port, so both forms are written by hand).
    if let Ok(parsed) = reqwest::Url::parse(url) {
        if let (None, Some(port), Some(host)) = (
            parsed.port(),
            parsed.port_or_known_default(),
            parsed.host_str(),
        ) {
            let tail = format!(
                "{}{}",
                parsed.path(),
                parsed.query().map(|q| format!("?{q}")).unwrap_or_default()
            );
            urls.push(format!("{}://{host}:{port}{tail}", parsed.scheme()));
            urls.push(format!("{}://{host}{tail}", parsed.scheme()));
        }
    }
    urls.iter().any(|u| {
        crate::server::crypto::constant_time_eq(
            twilio_signature(token, u, params).as_bytes(),
            header.trim().as_bytes(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn twilio_published_example_vector() {
        // twilio.com/docs/usage/webhooks/webhooks-security, re-checked with Python's hmac.
        let params = p(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]);
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(
            twilio_signature("12345", url, &params),
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        );
        assert!(twilio_signature_valid(
            "12345",
            url,
            &params,
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        ));
        assert!(!twilio_signature_valid(
            "12346",
            url,
            &params,
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        ));
        assert!(!twilio_signature_valid(
            "12345",
            url,
            &params[1..],
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        ));
    }

    #[test]
    fn repeated_keys_sort_their_values_and_ports_are_optional() {
        // Computed with twilio-python's RequestValidator.
        let params = p(&[
            ("StatusCallbackEvent", "ringing"),
            ("StatusCallbackEvent", "answered"),
            ("CallSid", "CA1"),
            ("CallStatus", "ringing"),
        ]);
        assert_eq!(
            twilio_signature("12345", "https://example.com/cb", &params),
            "H9bZrrYcA2x681bw5E6jqIhjhEk="
        );
        let sig = twilio_signature("12345", "https://example.com:443/cb", &params);
        assert!(twilio_signature_valid(
            "12345",
            "https://example.com/cb",
            &params,
            &sig
        ));
        let sig = twilio_signature("12345", "https://example.com/cb", &params);
        assert!(twilio_signature_valid(
            "12345",
            "https://example.com:443/cb",
            &params,
            &sig
        ));
    }

    #[test]
    fn a_receipt_to_our_status_url() {
        let params = p(&[
            ("MessageSid", "SM00000000000000000000000000000001"),
            ("MessageStatus", "delivered"),
            ("AccountSid", "AC00000000000000000000000000000001"),
            ("From", "+15005550006"),
            ("To", "+15551234567"),
            ("ApiVersion", "2010-04-01"),
            ("SmsSid", "SM00000000000000000000000000000001"),
            ("SmsStatus", "delivered"),
        ]);
        let url = "http://127.0.0.1:8080/2fa/providers/PR00000000000000000000000000000001/status";
        assert_eq!(
            twilio_signature("test-auth-token", url, &params),
            "d+jUD6gdsXH6TNF907+CcL/b6OU="
        );
    }
}
