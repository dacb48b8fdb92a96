//! The voice document a calling provider fetches: TwiML (Twilio) or RCML (Restcomm) that says
//! the code digit by digit ("4, 8, 1, 5, 9, 2."), repeated, in the OTP's language and voice.
//! The token in its URL is unguessable and bound to one delivery attempt of one OTP; it is dead
//! once the OTP is final, expired or on another step.
use super::OtpService;
use crate::domain::provider::ProviderKind;
use crate::domain::{template, voice, Channel};
use crate::server::crypto;
use crate::server::db::otps::attempts;

/// The document for `token`, or `None` when the token is unknown or dead.
pub async fn document(svc: &OtpService, token: &str) -> anyhow::Result<Option<String>> {
    if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let Some(attempt) = attempts::by_key(svc.db(), &crypto::hash_token(token)).await? else {
        return Ok(None);
    };
    let Some((otp, sealed)) =
        crate::server::db::otps::get_with_sealed_code(svc.db(), &attempt.otp_sid).await?
    else {
        return Ok(None);
    };
    let alive = otp.status.is_active()
        && otp.expires_at > svc.now()
        && otp.step == attempt.step
        && attempt.channel == Channel::Call;
    if !alive {
        return Ok(None);
    }
    let Some(code) = sealed.and_then(|s| crypto::open(svc.code_key(), otp.sid.as_str(), &s)) else {
        return Ok(None);
    };
    let body = otp
        .body
        .clone()
        .unwrap_or_else(|| template::default_body(Channel::Call).to_owned());
    let text = template::render(&body, Channel::Call, &code, &otp.service, otp.ttl_minutes());
    drop(code);
    let kind = ProviderKind::parse(&attempt.provider_kind).unwrap_or(ProviderKind::Twilio);
    Ok(Some(say(kind, &text, &otp.language, otp.voice, otp.repeat)))
}

/// `<Response><Say …>text</Say></Response>` as the provider kind names voices.
pub fn say(
    kind: ProviderKind,
    text: &str,
    language: &str,
    v: crate::domain::otp::Voice,
    repeat: i64,
) -> String {
    let spoken = voice::parse(language, v).ok();
    let (voice_attr, language_attr) = match kind {
        ProviderKind::Restcomm => (
            v.as_str().to_owned(),
            spoken
                .as_ref()
                .and_then(|s| s.restcomm())
                .unwrap_or("en")
                .to_owned(),
        ),
        _ => spoken
            .as_ref()
            .and_then(|s| s.twilio(v))
            .unwrap_or_else(|| (v.as_str().to_owned(), "en-US".to_owned())),
    };
    let text = if text.ends_with('.') {
        text.to_owned()
    } else {
        format!("{text}.")
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Say voice=\"{}\" language=\"{}\" loop=\"{}\">{}</Say></Response>",
        quick_xml::escape::escape(&voice_attr),
        quick_xml::escape::escape(&language_attr),
        repeat.clamp(1, 5),
        quick_xml::escape::escape(&text)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::otp::Voice;

    #[test]
    fn documents_by_provider_kind() {
        assert_eq!(
            say(ProviderKind::Twilio, "Your <A&B> code is 4, 8, 1", "awspolly.ja-JP", Voice::Woman, 2),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Say voice=\"Polly.Mizuki\" language=\"ja-JP\" loop=\"2\">Your &lt;A&amp;B&gt; code is 4, 8, 1.</Say></Response>"
        );
        assert!(say(ProviderKind::Restcomm, "x", "pt-BR", Voice::Man, 3)
            .contains("<Say voice=\"man\" language=\"bp\" loop=\"3\">x.</Say>"));
    }
}
