//! The voice document a calling provider fetches: TwiML (Twilio) or RCML (Restcomm) that says
//! the code digit by digit ("4, 8, 1, 5, 9, 2."), repeated, in the OTP's language and voice.
//! When the account asks for it, the call first says "press any key to hear your code" and
//! reads the code only once a key was pressed (voicemail records no code). The token in its URL
//! is unguessable and bound to one delivery attempt of one OTP; it is dead once the OTP is
//! final, expired or on another step.
use super::OtpService;
use crate::domain::provider::ProviderKind;
use crate::domain::{template, voice, Channel};
use crate::server::crypto;
use crate::server::db::otps::attempts;

/// What the callee hears before the code when a key must be pressed first.
pub const PRESS_KEY: &str = "Press any key to hear your code.";
/// …and when no key was pressed.
pub const NO_KEY: &str = "No key was pressed. Goodbye.";

/// The document for `token`, or `None` when the token is unknown or dead. `pressed`: the
/// callee pressed a key (the provider posts back to `url` + `?pressed=1`, the URL of this very
/// document).
pub async fn document(
    svc: &OtpService,
    token: &str,
    pressed: bool,
    url: &str,
) -> anyhow::Result<Option<String>> {
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
    let kind = ProviderKind::parse(&attempt.provider_kind).unwrap_or(ProviderKind::Twilio);
    if !pressed
        && crate::server::services::settings::voice_press_key(svc.db(), &otp.account_sid)
            .await?
            .on
    {
        return Ok(Some(press_a_key(
            kind,
            &otp.language,
            otp.voice,
            &format!("{url}?pressed=1"),
        )));
    }
    let body = match otp.body.clone() {
        Some(b) => b,
        None => {
            crate::server::services::templates::for_delivery(
                svc.db(),
                &otp.account_sid,
                Channel::Call,
                &otp.language,
            )
            .await?
            .template
            .text
        }
    };
    let Some(code) = sealed.and_then(|s| crypto::open(svc.code_key(), otp.sid.as_str(), &s)) else {
        return Ok(None);
    };
    let text = template::render(&body, Channel::Call, &code, &otp.service, otp.ttl_minutes());
    drop(code);
    Ok(Some(say(kind, &text, &otp.language, otp.voice, otp.repeat)))
}

const XML_HEAD: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";

/// `<Response><Say …>text</Say></Response>` as the provider kind names voices.
pub fn say(
    kind: ProviderKind,
    text: &str,
    language: &str,
    v: crate::domain::otp::Voice,
    repeat: i64,
) -> String {
    format!(
        "{XML_HEAD}<Response>{}</Response>",
        say_element(kind, text, language, v, repeat)
    )
}

/// "Press any key to hear your code" inside a `<Gather>` of one digit that posts to `action`;
/// if no key comes (voicemail), a goodbye and the call ends without the code.
pub fn press_a_key(
    kind: ProviderKind,
    language: &str,
    v: crate::domain::otp::Voice,
    action: &str,
) -> String {
    format!(
        "{XML_HEAD}<Response><Gather numDigits=\"1\" timeout=\"10\" method=\"POST\" action=\"{}\">{}</Gather>{}</Response>",
        quick_xml::escape::escape(action),
        say_element(kind, PRESS_KEY, language, v, 2),
        say_element(kind, NO_KEY, language, v, 1),
    )
}

/// One `<Say>`: the voice and language as the provider kind names them.
fn say_element(
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
    let text = if text.ends_with(['.', '。', '!', '?']) {
        text.to_owned()
    } else {
        format!("{text}.")
    };
    format!(
        "<Say voice=\"{}\" language=\"{}\" loop=\"{}\">{}</Say>",
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

    #[test]
    fn a_key_before_the_code() {
        let doc = press_a_key(
            ProviderKind::Twilio,
            "de-DE",
            Voice::Woman,
            "https://otp.example.com/2fa/voice/ab?pressed=1&x=<",
        );
        assert!(doc.starts_with(XML_HEAD), "{doc}");
        assert!(doc.contains("<Gather numDigits=\"1\" timeout=\"10\" method=\"POST\" action=\"https://otp.example.com/2fa/voice/ab?pressed=1&amp;x=&lt;\"><Say voice=\"Polly.Marlene\" language=\"de-DE\" loop=\"2\">Press any key to hear your code.</Say></Gather>"), "{doc}");
        assert!(doc.ends_with("<Say voice=\"Polly.Marlene\" language=\"de-DE\" loop=\"1\">No key was pressed. Goodbye.</Say></Response>"), "{doc}");
    }
}
