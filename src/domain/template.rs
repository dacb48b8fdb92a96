//! Message templates: the built-in texts per channel and language, the placeholders `{code}`,
//! `{service}`, `{ttl}` and `{minutes}` (both: minutes until the code expires), the choice of a
//! language (exact tag, its base language, the account's default, English), the length of an
//! SMS (GSM-7 or UCS-2 segments) and what a customer's template must respect. Calls speak the
//! code digit by digit. Pure: compiled for the server and the browser (the editor's preview).
use super::otp::Channel;
use super::Problem;

/// The longest text (SMS, call, email text) a template or a request's `body` may have.
pub const MAX_BODY_CHARS: usize = 1600;
/// The longest email subject.
pub const MAX_SUBJECT_CHARS: usize = 200;
/// The longest email HTML part.
pub const MAX_HTML_CHARS: usize = 20_000;
/// An SMS template longer than this (on the sample) is refused.
pub const MAX_SMS_SEGMENTS: usize = 10;
/// What a template is rendered with to measure and preview it.
pub const SAMPLE_CODE: &str = "481592";
pub const SAMPLE_SERVICE: &str = "MyApp";
pub const SAMPLE_MINUTES: u64 = 10;
/// The language used when nothing else matches.
pub const FALLBACK_LANGUAGE: &str = "en";

/// A message's parts: email has a subject and may have an HTML part; SMS and calls a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub subject: Option<String>,
    pub text: String,
    pub html: Option<String>,
}

/// The texts shipped for one language.
struct Builtin {
    language: &'static str,
    /// What the language calls itself.
    name: &'static str,
    sms: &'static str,
    call: &'static str,
    subject: &'static str,
    email: &'static str,
}

const BUILTINS: [Builtin; 12] = [
    Builtin {
        language: "en",
        name: "English",
        sms: "Your {service} code is {code}. It expires in {ttl} minutes.",
        call: "Your {service} code is {code}.",
        subject: "Your {service} code",
        email: "Your {service} verification code is {code}.\n\nIt expires in {ttl} minutes. If you did not ask for it, ignore this email.",
    },
    Builtin {
        language: "es",
        name: "Español",
        sms: "Tu código de {service} es {code}. Caduca en {ttl} minutos.",
        call: "Tu código de {service} es {code}.",
        subject: "Tu código de {service}",
        email: "Tu código de verificación de {service} es {code}.\n\nCaduca en {ttl} minutos. Si no lo has solicitado, ignora este correo.",
    },
    Builtin {
        language: "fr",
        name: "Français",
        sms: "Votre code {service} est {code}. Il expire dans {ttl} minutes.",
        call: "Votre code {service} est {code}.",
        subject: "Votre code {service}",
        email: "Votre code de vérification {service} est {code}.\n\nIl expire dans {ttl} minutes. Si vous ne l'avez pas demandé, ignorez cet e-mail.",
    },
    Builtin {
        language: "de",
        name: "Deutsch",
        sms: "Ihr Code für {service} lautet {code}. Er ist {ttl} Minuten gültig.",
        call: "Ihr Code für {service} lautet {code}.",
        subject: "Ihr Code für {service}",
        email: "Ihr Bestätigungscode für {service} lautet {code}.\n\nEr ist {ttl} Minuten gültig. Falls Sie ihn nicht angefordert haben, ignorieren Sie diese E-Mail.",
    },
    Builtin {
        language: "it",
        name: "Italiano",
        sms: "Il tuo codice {service} è {code}. Scade tra {ttl} minuti.",
        call: "Il tuo codice {service} è {code}.",
        subject: "Il tuo codice {service}",
        email: "Il tuo codice di verifica {service} è {code}.\n\nScade tra {ttl} minuti. Se non l'hai richiesto tu, ignora questa email.",
    },
    Builtin {
        language: "pt",
        name: "Português",
        sms: "O seu código {service} é {code}. Expira em {ttl} minutos.",
        call: "O seu código {service} é {code}.",
        subject: "O seu código {service}",
        email: "O seu código de verificação {service} é {code}.\n\nExpira em {ttl} minutos. Se não o solicitou, ignore este e-mail.",
    },
    Builtin {
        language: "nl",
        name: "Nederlands",
        sms: "Je code voor {service} is {code}. De code verloopt over {ttl} minuten.",
        call: "Je code voor {service} is {code}.",
        subject: "Je code voor {service}",
        email: "Je verificatiecode voor {service} is {code}.\n\nDe code verloopt over {ttl} minuten. Heb je deze code niet aangevraagd? Dan kun je deze e-mail negeren.",
    },
    Builtin {
        language: "pl",
        name: "Polski",
        sms: "Twój kod {service} to {code}. Wygasa za {ttl} min.",
        call: "Twój kod {service} to {code}.",
        subject: "Twój kod {service}",
        email: "Twój kod weryfikacyjny {service} to {code}.\n\nKod wygasa za {ttl} min. Jeśli to nie Ty prosisz o ten kod, zignoruj tę wiadomość.",
    },
    Builtin {
        language: "tr",
        name: "Türkçe",
        sms: "{service} doğrulama kodunuz: {code}. Kod {ttl} dakika geçerlidir.",
        call: "{service} doğrulama kodunuz: {code}.",
        subject: "{service} doğrulama kodunuz",
        email: "{service} doğrulama kodunuz: {code}\n\nKod {ttl} dakika geçerlidir. Bu kodu siz istemediyseniz bu e-postayı dikkate almayın.",
    },
    Builtin {
        language: "ar",
        name: "العربية",
        sms: "رمز {service} الخاص بك هو {code}. صالح لمدة {ttl} دقيقة.",
        call: "رمز {service} الخاص بك هو {code}.",
        subject: "رمز {service} الخاص بك",
        email: "رمز التحقق الخاص بك لدى {service} هو {code}.\n\nالرمز صالح لمدة {ttl} دقيقة. إذا لم تطلب هذا الرمز، فتجاهل هذه الرسالة.",
    },
    Builtin {
        language: "ja",
        name: "日本語",
        sms: "{service}の認証コードは{code}です。有効期限は{ttl}分です。",
        call: "{service}の認証コードは、{code}です。",
        subject: "{service}の認証コード",
        email: "{service}の認証コードは{code}です。\n\nこのコードの有効期限は{ttl}分です。お心当たりがない場合は、このメールを破棄してください。",
    },
    Builtin {
        language: "zh",
        name: "中文",
        sms: "您的{service}验证码是{code}，{ttl}分钟内有效。",
        call: "您的{service}验证码是{code}。",
        subject: "您的{service}验证码",
        email: "您的{service}验证码是{code}。\n\n该验证码{ttl}分钟内有效。如非本人操作，请忽略此邮件。",
    },
];

/// The languages with built-in texts, each with what it calls itself.
pub fn builtin_languages() -> impl Iterator<Item = (&'static str, &'static str)> {
    BUILTINS.iter().map(|b| (b.language, b.name))
}

/// What a built-in language calls itself.
pub fn language_name(language: &str) -> Option<&'static str> {
    BUILTINS
        .iter()
        .find(|b| b.language == language)
        .map(|b| b.name)
}

/// The built-in template of `channel` in `language` (a canonical tag), if one ships.
pub fn builtin(channel: Channel, language: &str) -> Option<Template> {
    let b = BUILTINS.iter().find(|b| b.language == language)?;
    Some(match channel {
        Channel::Sms => Template {
            subject: None,
            text: b.sms.to_owned(),
            html: None,
        },
        Channel::Call => Template {
            subject: None,
            text: b.call.to_owned(),
            html: None,
        },
        Channel::Email => Template {
            subject: Some(b.subject.to_owned()),
            text: b.email.to_owned(),
            html: Some(html_from_text(b.email, b.language)),
        },
    })
}

/// The English text for a channel (what applied before templates; still the last fallback).
pub fn default_body(channel: Channel) -> &'static str {
    match channel {
        Channel::Sms => BUILTINS[0].sms,
        Channel::Call => BUILTINS[0].call,
        Channel::Email => BUILTINS[0].email,
    }
}

pub fn default_subject() -> &'static str {
    BUILTINS[0].subject
}

/// A text template as a small HTML document: its paragraphs, escaped; right to left for
/// Arabic. Placeholders stay as they are (they are filled, escaped, when the email is sent).
pub fn html_from_text(text: &str, language: &str) -> String {
    let dir = if matches!(language, "ar" | "he" | "fa" | "ur") {
        " dir=\"rtl\""
    } else {
        ""
    };
    let paragraphs: String = text
        .split("\n\n")
        .map(|p| format!("<p>{}</p>", escape_html(p).replace('\n', "<br>")))
        .collect();
    format!(
        "<!doctype html>\n<html lang=\"{language}\"{dir}><body style=\"font-family:sans-serif\">{paragraphs}</body></html>"
    )
}

fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The language part of a request's `language`: after an engine prefix (`awspolly.ja-JP` →
/// `ja-JP`).
fn without_engine(raw: &str) -> &str {
    match raw.split_once('.') {
        Some((_, tag)) => tag,
        None => raw,
    }
}

/// A language tag in its usual spelling (`es-mx` → `es-MX`, `zh-hant` → `zh-Hant`), an engine
/// prefix dropped; `None` when it is no BCP 47 tag.
pub fn language_tag(raw: &str) -> Option<String> {
    let raw = raw.trim();
    super::otp::parse_language(raw).ok()?;
    let tag = without_engine(raw);
    let mut out = Vec::new();
    for (i, part) in tag.split('-').enumerate() {
        let lower = part.to_ascii_lowercase();
        out.push(if i == 0 {
            lower
        } else if part.len() == 2 || (part.len() == 3 && part.bytes().all(|b| b.is_ascii_digit())) {
            part.to_ascii_uppercase()
        } else if part.len() == 4 {
            let mut s = lower;
            s[..1].make_ascii_uppercase();
            s
        } else {
            lower
        });
    }
    Some(out.join("-"))
}

/// A template's language as the API and the console take it, or why not.
pub fn parse_language(raw: &str) -> Result<String, Problem> {
    language_tag(raw)
        .ok_or_else(|| Problem::says("must be a BCP 47 language tag like es or es-MX."))
}

/// The base language of a tag (`es-MX` → `es`), `None` when the tag is one already.
fn base(tag: &str) -> Option<&str> {
    tag.split_once('-').map(|(b, _)| b)
}

/// The languages to look for, best first: the exact tag, its base language, the account's
/// default (exact, then base), English. Case does not matter; an engine prefix is ignored.
pub fn language_choices(requested: &str, account_default: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(5);
    let mut add = |tag: Option<String>| {
        if let Some(t) = tag {
            if !out.contains(&t) {
                out.push(t);
            }
        }
    };
    for given in [Some(requested), account_default].into_iter().flatten() {
        if let Some(tag) = language_tag(given) {
            let b = base(&tag).map(str::to_owned);
            add(Some(tag));
            add(b);
        }
    }
    add(Some(FALLBACK_LANGUAGE.to_owned()));
    out
}

/// The built-in template for a request's language (built-ins exist for base languages only).
pub fn choose_builtin(
    channel: Channel,
    requested: &str,
    account_default: Option<&str>,
) -> (String, Template) {
    language_choices(requested, account_default)
        .into_iter()
        .find_map(|l| builtin(channel, &l).map(|t| (l, t)))
        .unwrap_or_else(|| {
            let en = builtin(channel, FALLBACK_LANGUAGE).expect("English is built in");
            (FALLBACK_LANGUAGE.to_owned(), en)
        })
}

/// The code as a message shows it: symbol by symbol in a call ("4, 8, 1"), else as it is.
pub fn code_text(channel: Channel, code: &str) -> String {
    if channel == Channel::Call {
        code.chars()
            .map(String::from)
            .collect::<Vec<_>>()
            .join(", ")
    } else {
        code.to_owned()
    }
}

/// Fills the placeholders. For calls the code is spoken symbol by symbol ("4, 8, 1").
pub fn render(
    template: &str,
    channel: Channel,
    code: &str,
    service: &str,
    ttl_minutes: u64,
) -> String {
    fill(template, &code_text(channel, code), service, ttl_minutes)
}

/// Fills an HTML part's placeholders with escaped values.
pub fn render_html(template: &str, code: &str, service: &str, ttl_minutes: u64) -> String {
    fill(
        template,
        &escape_html(code),
        &escape_html(service),
        ttl_minutes,
    )
}

fn fill(template: &str, code: &str, service: &str, ttl_minutes: u64) -> String {
    // One pass, so a service name containing "{code}" is not expanded again.
    let ttl = ttl_minutes.to_string();
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let (value, after) = if let Some(r) = tail.strip_prefix("{code}") {
            (code, r)
        } else if let Some(r) = tail.strip_prefix("{service}") {
            (service, r)
        } else if let Some(r) = tail.strip_prefix("{ttl}") {
            (ttl.as_str(), r)
        } else if let Some(r) = tail.strip_prefix("{minutes}") {
            (ttl.as_str(), r)
        } else {
            ("{", &tail[1..])
        };
        out.push_str(value);
        rest = after;
    }
    out.push_str(rest);
    out
}

/// How an SMS is encoded: GSM-7 when every character is in the GSM 03.38 alphabet (its
/// extension table counts twice), else UCS-2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Gsm7,
    Ucs2,
}

impl Encoding {
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Gsm7 => "GSM-7",
            Encoding::Ucs2 => "UCS-2",
        }
    }
}

/// The size of an SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmsLength {
    pub encoding: Encoding,
    /// Characters as a person counts them.
    pub characters: usize,
    /// Septets (GSM-7) or UTF-16 code units (UCS-2).
    pub units: usize,
    pub segments: usize,
}

const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u{1b}ÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM_EXTENSION: &str = "\u{c}^{}\\[~]|€";

/// Septets of one character in GSM-7 (`None`: not in the alphabet).
fn gsm_septets(c: char) -> Option<usize> {
    if GSM_BASIC.contains(c) {
        Some(1)
    } else if GSM_EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// Characters, encoding and segments of an SMS text: one segment holds 160 GSM-7 septets or
/// 70 UCS-2 units; a longer message is split into segments of 153 or 67 (the rest carries the
/// concatenation header), never splitting an escaped character or a surrogate pair.
pub fn sms_length(text: &str) -> SmsLength {
    let characters = text.chars().count();
    let gsm: Option<Vec<usize>> = text.chars().map(gsm_septets).collect();
    let (encoding, widths, single, multi) = match gsm {
        Some(w) => (Encoding::Gsm7, w, 160, 153),
        None => (
            Encoding::Ucs2,
            text.chars().map(char::len_utf16).collect(),
            70,
            67,
        ),
    };
    let units: usize = widths.iter().sum();
    let segments = if units == 0 {
        0
    } else if units <= single {
        1
    } else {
        let (mut segments, mut used) = (1, 0);
        for w in widths {
            if used + w > multi {
                segments += 1;
                used = 0;
            }
            used += w;
        }
        segments
    };
    SmsLength {
        encoding,
        characters,
        units,
        segments,
    }
}

/// A template rendered with the sample code, service and expiry (what the editor previews and
/// what the SMS length is measured on).
pub fn sample(template: &str, channel: Channel) -> String {
    render(
        template,
        channel,
        SAMPLE_CODE,
        SAMPLE_SERVICE,
        SAMPLE_MINUTES,
    )
}

/// A part of a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Subject,
    Text,
    Html,
}

/// A customer's template for `channel`, checked: a text with `{code}` (7012 without), at most
/// [`MAX_BODY_CHARS`]; an SMS of at most [`MAX_SMS_SEGMENTS`] segments on the sample; email
/// with a one-line subject, and an HTML part (optional) with `{code}` too; SMS and calls take
/// no subject or HTML.
pub fn check(
    channel: Channel,
    subject: Option<&str>,
    text: &str,
    html: Option<&str>,
) -> Result<Template, (Part, Problem)> {
    let text = super::problem::text(text, (1, MAX_BODY_CHARS)).map_err(|p| (Part::Text, p))?;
    if !text.contains("{code}") {
        return Err((Part::Text, Problem::LacksCode));
    }
    match channel {
        Channel::Sms | Channel::Call => {
            let only_email = || Problem::says("is for email templates only.");
            if subject.is_some() {
                return Err((Part::Subject, only_email()));
            }
            if html.is_some() {
                return Err((Part::Html, only_email()));
            }
            if channel == Channel::Sms {
                let len = sms_length(&sample(&text, channel));
                if len.segments > MAX_SMS_SEGMENTS {
                    return Err((
                        Part::Text,
                        Problem::says(format!(
                            "makes an SMS of {} segments ({} characters, {}); at most {MAX_SMS_SEGMENTS} are allowed.",
                            len.segments,
                            len.characters,
                            len.encoding.as_str()
                        )),
                    ));
                }
            }
            Ok(Template {
                subject: None,
                text,
                html: None,
            })
        }
        Channel::Email => {
            let subject = match subject.filter(|s| !s.trim().is_empty()) {
                None => return Err((Part::Subject, Problem::Required)),
                Some(s) => super::problem::line(s, (1, MAX_SUBJECT_CHARS))
                    .map_err(|p| (Part::Subject, p))?,
            };
            let html = match html.filter(|h| !h.trim().is_empty()) {
                None => None,
                Some(h) => {
                    let got = h.chars().count();
                    if got > MAX_HTML_CHARS {
                        return Err((
                            Part::Html,
                            Problem::Length {
                                min: 1,
                                max: MAX_HTML_CHARS,
                                got,
                            },
                        ));
                    }
                    if !h.contains("{code}") {
                        return Err((Part::Html, Problem::LacksCode));
                    }
                    Some(h.to_owned())
                }
            };
            Ok(Template {
                subject: Some(subject),
                text,
                html,
            })
        }
    }
}

/// Why a caller's body is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    TooLong,
    LacksCode,
}

pub fn validate_body(body: &str) -> Result<(), BodyError> {
    if body.chars().count() > MAX_BODY_CHARS {
        return Err(BodyError::TooLong);
    }
    if !body.contains("{code}") {
        return Err(BodyError::LacksCode);
    }
    Ok(())
}

/// A caller's message text, or why not (7012 without `{code}`).
pub fn check_body(raw: &str) -> Result<String, super::Problem> {
    match validate_body(raw) {
        Ok(()) => Ok(raw.to_owned()),
        Err(BodyError::TooLong) => Err(super::Problem::says(format!(
            "must be at most {MAX_BODY_CHARS} characters."
        ))),
        Err(BodyError::LacksCode) => Err(super::Problem::LacksCode),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_placeholders_once() {
        assert_eq!(
            render(
                default_body(Channel::Sms),
                Channel::Sms,
                "481592",
                "MyApp",
                10
            ),
            "Your MyApp code is 481592. It expires in 10 minutes."
        );
        assert_eq!(
            render("{code}", Channel::Call, "4815", "x", 1),
            "4, 8, 1, 5"
        );
        assert_eq!(
            render("{service} {code}", Channel::Sms, "1234", "{code}", 1),
            "{code} 1234"
        );
        assert_eq!(
            render("{unknown} {code", Channel::Sms, "1", "s", 1),
            "{unknown} {code"
        );
        assert_eq!(
            render("{code} {ttl}={minutes}", Channel::Sms, "1", "s", 7),
            "1 7=7"
        );
        assert_eq!(
            render_html("<b>{service}</b> {code}", "12", "<A&B>", 1),
            "<b>&lt;A&amp;B&gt;</b> 12"
        );
    }

    #[test]
    fn validates_bodies() {
        assert_eq!(validate_body("Code: {code}"), Ok(()));
        assert_eq!(validate_body("no placeholder"), Err(BodyError::LacksCode));
        assert_eq!(
            validate_body(&format!("{{code}}{}", "x".repeat(1600))),
            Err(BodyError::TooLong)
        );
        for c in Channel::ALL {
            assert_eq!(validate_body(default_body(c)), Ok(()));
        }
    }

    #[test]
    fn every_builtin_is_a_valid_template() {
        assert!(builtin_languages().count() >= 12);
        for (language, name) in builtin_languages() {
            assert!(!name.is_empty());
            for channel in Channel::ALL {
                let t = builtin(channel, language).unwrap();
                let checked = check(channel, t.subject.as_deref(), &t.text, t.html.as_deref());
                assert_eq!(checked, Ok(t.clone()), "{language} {channel:?}");
                if channel == Channel::Sms {
                    assert_eq!(
                        sms_length(&sample(&t.text, channel)).segments,
                        1,
                        "{language}"
                    );
                }
            }
        }
    }

    #[test]
    fn languages_fall_back_from_exact_to_base_to_default_to_english() {
        assert_eq!(language_tag("ES-mx").as_deref(), Some("es-MX"));
        assert_eq!(language_tag("awspolly.ja-JP").as_deref(), Some("ja-JP"));
        assert_eq!(language_tag("zh-hant-tw").as_deref(), Some("zh-Hant-TW"));
        assert_eq!(language_tag("es-419").as_deref(), Some("es-419"));
        assert_eq!(language_tag("english!"), None);
        assert_eq!(language_choices("es-MX", None), ["es-MX", "es", "en"]);
        assert_eq!(
            language_choices("fr-CA", Some("de-AT")),
            ["fr-CA", "fr", "de-AT", "de", "en"]
        );
        assert_eq!(language_choices("EN", None), ["en"]);
        assert_eq!(language_choices("not a tag", Some("it")), ["it", "en"]);
        assert_eq!(choose_builtin(Channel::Sms, "es-MX", None).0, "es");
        assert_eq!(choose_builtin(Channel::Sms, "fr-CA", None).0, "fr");
        assert_eq!(choose_builtin(Channel::Sms, "xx", None).0, "en");
        assert_eq!(choose_builtin(Channel::Sms, "xx", Some("pl")).0, "pl");
        assert_eq!(
            choose_builtin(Channel::Call, "awspolly.ja-JP", None).0,
            "ja"
        );
        assert!(choose_builtin(Channel::Sms, "es-MX", None)
            .1
            .text
            .starts_with("Tu código"));
        assert_eq!(parse_language("pt-br"), Ok("pt-BR".into()));
        assert!(parse_language("x").is_err());
    }

    #[test]
    fn counts_sms_segments() {
        let gsm = sms_length("Your code is 123456.");
        assert_eq!(
            (gsm.encoding, gsm.characters, gsm.units, gsm.segments),
            (Encoding::Gsm7, 20, 20, 1)
        );
        // The extension table counts twice.
        let ext = sms_length("{code} €");
        assert_eq!(
            (ext.encoding, ext.characters, ext.units),
            (Encoding::Gsm7, 8, 11)
        );
        assert_eq!(sms_length(&"a".repeat(160)).segments, 1);
        assert_eq!(sms_length(&"a".repeat(161)).segments, 2);
        assert_eq!(sms_length(&"a".repeat(306)).segments, 2);
        assert_eq!(sms_length(&"a".repeat(307)).segments, 3);
        // An escaped character is not split over two segments.
        let split = format!("{}€", "a".repeat(152));
        assert_eq!(
            (sms_length(&split).units, sms_length(&split).segments),
            (154, 1)
        );
        let split = format!("{}€{}", "a".repeat(152), "a".repeat(10));
        assert_eq!(sms_length(&split).segments, 2);
        let split = format!("{}€{}", "a".repeat(152), "a".repeat(152));
        assert_eq!(sms_length(&split).segments, 3);
        let ucs = sms_length("código");
        assert_eq!(
            (ucs.encoding, ucs.units, ucs.segments),
            (Encoding::Ucs2, 6, 1)
        );
        assert_eq!(sms_length(&"ó".repeat(70)).segments, 1);
        assert_eq!(sms_length(&"ó".repeat(71)).segments, 2);
        assert_eq!(sms_length(&"ó".repeat(135)).segments, 3);
        // An emoji is two UTF-16 units.
        assert_eq!(sms_length("😀").units, 2);
        assert_eq!(sms_length("").segments, 0);
    }

    #[test]
    fn checks_templates() {
        assert_eq!(
            check(Channel::Sms, None, "no code here", None),
            Err((Part::Text, Problem::LacksCode))
        );
        let long = format!("{{code}} {}", "ó".repeat(700));
        let (part, problem) = check(Channel::Sms, None, &long, None).unwrap_err();
        assert_eq!(part, Part::Text);
        assert!(
            problem.message("text").contains("11 segments"),
            "{problem:?}"
        );
        assert!(
            check(Channel::Call, None, &long, None).is_ok(),
            "calls have no segments"
        );
        assert_eq!(
            check(Channel::Sms, Some("s"), "{code}", None)
                .unwrap_err()
                .0,
            Part::Subject
        );
        assert_eq!(
            check(Channel::Email, None, "{code}", None).unwrap_err(),
            (Part::Subject, Problem::Required)
        );
        assert_eq!(
            check(Channel::Email, Some("Hi"), "{code}", Some("<p>no code</p>")),
            Err((Part::Html, Problem::LacksCode))
        );
        assert_eq!(
            check(Channel::Email, Some("Hi"), "{code}", Some("  ")),
            Ok(Template {
                subject: Some("Hi".into()),
                text: "{code}".into(),
                html: None
            })
        );
        assert_eq!(
            check(Channel::Email, Some("a\nb"), "{code}", None)
                .unwrap_err()
                .0,
            Part::Subject
        );
    }
}
