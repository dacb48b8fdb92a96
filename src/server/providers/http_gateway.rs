//! A generic SMS/voice gateway (many local aggregators only offer this): a URL, a method,
//! headers and a body template (JSON or form) with `{to}`, `{from}`, `{text}`, `{requestID}`,
//! `{language}`; any 2xx means accepted; the gateway's message id is read at an optional JSON
//! path. Placeholders in the URL are filled too (URL-encoded), so a GET gateway works.
use super::{http_outcome, Content, OutboundMessage, Provider, ProviderKind, ProviderOutcome};
use crate::domain::provider::{fill_template, BodyEncoding, HttpGatewayConfig};

pub struct HttpGateway {
    /// How long a call may take.
    pub timeout: std::time::Duration,
    pub name: String,
    pub config: HttpGatewayConfig,
    pub http: reqwest::Client,
}

/// A value at a dotted path (`data.id`, `messages.0.id`), as text.
pub fn at_path(json: &serde_json::Value, path: &str) -> Option<String> {
    let mut v = json;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        v = match part.parse::<usize>() {
            Ok(i) => v.get(i)?,
            Err(_) => v.get(part)?,
        };
    }
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Null => None,
        other => Some(other.to_string()),
    }
}

fn json_string_content(v: &str) -> String {
    let quoted = serde_json::to_string(v).unwrap_or_default();
    quoted[1..quoted.len() - 1].to_owned()
}

fn form_encoded(v: &str) -> String {
    form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

#[async_trait::async_trait]
impl Provider for HttpGateway {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Http
    }

    fn name(&self) -> String {
        self.name.clone()
    }

    async fn deliver(&self, msg: &OutboundMessage) -> ProviderOutcome {
        if matches!(msg.content, Content::Email { .. }) {
            return ProviderOutcome::Permanent(
                "an HTTP gateway delivers SMS and calls, not email".into(),
            );
        }
        let language = match &msg.content {
            Content::Voice { language, .. } => language.as_str(),
            _ => "",
        };
        let request_id = msg.otp_sid.to_string();
        let values = [
            ("to", msg.to.as_str()),
            ("from", msg.from.as_deref().unwrap_or("")),
            ("text", msg.content.text()),
            ("requestID", request_id.as_str()),
            ("language", language),
        ];
        let url = fill_template(&self.config.url, &values, form_encoded);
        let method =
            reqwest::Method::from_bytes(self.config.method.to_ascii_uppercase().as_bytes())
                .unwrap_or(reqwest::Method::POST);
        let mut req = self
            .http
            .request(method.clone(), url)
            .header("Idempotency-Key", &msg.idempotency_key)
            .timeout(self.timeout);
        for (name, value) in &self.config.headers {
            req = req.header(name.as_str(), value.expose());
        }
        if method != reqwest::Method::GET && !self.config.body_template.is_empty() {
            req = match self.config.content_type {
                BodyEncoding::Json => {
                    req.header("content-type", "application/json")
                        .body(fill_template(
                            &self.config.body_template,
                            &values,
                            json_string_content,
                        ))
                }
                BodyEncoding::Form => req
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(fill_template(
                        &self.config.body_template,
                        &values,
                        form_encoded,
                    )),
            };
        }
        let path = self.config.message_id_path.clone();
        http_outcome(req.send().await, |json| {
            path.as_deref().and_then(|p| at_path(json, p))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_at_a_path() {
        let v = serde_json::json!({"data": {"id": "m-1"}, "messages": [{"id": 7}]});
        assert_eq!(at_path(&v, "data.id").as_deref(), Some("m-1"));
        assert_eq!(at_path(&v, "messages.0.id").as_deref(), Some("7"));
        assert_eq!(at_path(&v, "nope"), None);
        assert_eq!(json_string_content("a \"b\"\n"), "a \\\"b\\\"\\n");
        assert_eq!(form_encoded("+1 415&x"), "%2B1+415%26x");
    }
}
