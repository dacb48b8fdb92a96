//! What a voice call says the code in: the request's `language` (optionally engine-prefixed,
//! `awspolly.ja-JP`, `google.de-DE`, `voicerss.fr-fr`, `acapela.en-GB`) and `voice` become the
//! provider's own naming — Twilio's `Polly.Mizuki` / `Google.de-DE-Standard-H` voices, Restcomm's
//! short language codes. A language the engine cannot speak is refused at send, not discovered
//! on the call. (Tables from Twilio's and Restcomm's published voice lists; see providers.md.)
use super::otp::Voice;
use super::Problem;

/// A text-to-speech engine a language may be prefixed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Polly,
    Google,
    VoiceRss,
    Acapela,
}

/// One language as the engines name it: our tag, Twilio's `language`, Polly's voices (woman,
/// man), Google's standard voices (woman, man), Restcomm's code (Acapela list, the RCML doc's).
struct Row {
    tag: &'static str,
    twilio: &'static str,
    polly: (Option<&'static str>, Option<&'static str>),
    google: (Option<&'static str>, Option<&'static str>),
    restcomm: Option<&'static str>,
    voicerss: Option<&'static str>,
}

const fn row(
    tag: &'static str,
    twilio: &'static str,
    polly: (Option<&'static str>, Option<&'static str>),
    google: (Option<&'static str>, Option<&'static str>),
    restcomm: Option<&'static str>,
    voicerss: Option<&'static str>,
) -> Row {
    Row {
        tag,
        twilio,
        polly,
        google,
        restcomm,
        voicerss,
    }
}

#[rustfmt::skip]
const LANGUAGES: &[Row] = &[
    row("en-US", "en-US", (Some("Joanna"), Some("Joey")), (Some("en-US-Standard-C"), Some("en-US-Standard-B")), Some("en"), Some("en-us")),
    row("en-GB", "en-GB", (Some("Amy"), Some("Brian")), (Some("en-GB-Standard-N"), Some("en-GB-Standard-O")), Some("en-gb"), Some("en-gb")),
    row("es-ES", "es-ES", (Some("Lucia"), Some("Enrique")), (Some("es-ES-Standard-A"), Some("es-ES-Standard-E")), Some("es"), Some("es-es")),
    row("es-MX", "es-MX", (Some("Mia"), None), (Some("es-US-Standard-A"), Some("es-US-Standard-B")), Some("es"), Some("es-mx")),
    row("fr-FR", "fr-FR", (Some("Celine"), Some("Mathieu")), (Some("fr-FR-Standard-F"), Some("fr-FR-Standard-G")), Some("fr"), Some("fr-fr")),
    row("fr-CA", "fr-CA", (Some("Chantal"), None), (Some("fr-CA-Standard-A"), Some("fr-CA-Standard-B")), Some("cf"), Some("fr-ca")),
    row("fr-BE", "fr-FR", (Some("Celine"), Some("Mathieu")), (Some("fr-FR-Standard-F"), Some("fr-FR-Standard-G")), Some("bf"), Some("fr-fr")),
    row("de-DE", "de-DE", (Some("Marlene"), Some("Hans")), (Some("de-DE-Standard-G"), Some("de-DE-Standard-H")), Some("de"), Some("de-de")),
    row("it-IT", "it-IT", (Some("Carla"), Some("Giorgio")), (Some("it-IT-Standard-A"), Some("it-IT-Standard-F")), Some("it"), Some("it-it")),
    row("pt-BR", "pt-BR", (Some("Camila"), Some("Ricardo")), (Some("pt-BR-Standard-C"), Some("pt-BR-Standard-B")), Some("bp"), Some("pt-br")),
    row("pt-PT", "pt-PT", (Some("Ines"), Some("Cristiano")), (Some("pt-PT-Standard-E"), Some("pt-PT-Standard-F")), Some("pt"), Some("pt-pt")),
    row("nl-NL", "nl-NL", (Some("Lotte"), Some("Ruben")), (Some("nl-NL-Standard-F"), Some("nl-NL-Standard-G")), Some("nl"), Some("nl-nl")),
    row("pl-PL", "pl-PL", (Some("Ewa"), Some("Jacek")), (Some("pl-PL-Standard-F"), Some("pl-PL-Standard-G")), Some("pl"), Some("pl-pl")),
    row("tr-TR", "tr-TR", (Some("Filiz"), None), (Some("tr-TR-Standard-A"), Some("tr-TR-Standard-B")), Some("tr"), None),
    row("ar", "arb", (Some("Zeina"), None), (Some("ar-XA-Standard-A"), Some("ar-XA-Standard-B")), Some("ar"), None),
    row("ja-JP", "ja-JP", (Some("Mizuki"), Some("Takumi")), (Some("ja-JP-Standard-B"), Some("ja-JP-Standard-C")), Some("ja"), Some("ja-jp")),
    row("zh-CN", "cmn-CN", (Some("Zhiyu"), None), (Some("cmn-CN-Standard-A"), Some("cmn-CN-Standard-B")), Some("zh-cn"), Some("zh-cn")),
    row("ko-KR", "ko-KR", (Some("Seoyeon"), None), (Some("ko-KR-Standard-A"), Some("ko-KR-Standard-C")), None, Some("ko-kr")),
    row("ru-RU", "ru-RU", (Some("Tatyana"), Some("Maxim")), (Some("ru-RU-Standard-A"), Some("ru-RU-Standard-B")), Some("ru"), Some("ru-ru")),
    row("sv-SE", "sv-SE", (Some("Astrid"), None), (Some("sv-SE-Standard-F"), Some("sv-SE-Standard-G")), Some("sv"), Some("sv-se")),
    row("da-DK", "da-DK", (Some("Naja"), Some("Mads")), (Some("da-DK-Standard-F"), Some("da-DK-Standard-G")), Some("dan"), Some("da-dk")),
    row("nb-NO", "nb-NO", (Some("Liv"), None), (Some("nb-NO-Standard-F"), Some("nb-NO-Standard-G")), Some("no"), Some("nb-no")),
    row("hi-IN", "hi-IN", (Some("Aditi"), None), (Some("hi-IN-Standard-A"), Some("hi-IN-Standard-B")), None, Some("hi-in")),
    row("fi-FI", "fi-FI", (None, None), (Some("fi-FI-Standard-B"), None), Some("fi"), Some("fi-fi")),
    row("el-GR", "el-GR", (None, None), (Some("el-GR-Standard-B"), None), Some("el"), None),
    row("cs-CZ", "cs-CZ", (None, None), (Some("cs-CZ-Standard-B"), None), Some("cs"), None),
    row("ca-ES", "ca-ES", (None, None), (Some("ca-ES-Standard-B"), None), Some("ca"), Some("ca-es")),
];

/// Where a bare language goes (`pt` is Brazilian Portuguese, as most callers mean it).
const BASES: &[(&str, &str)] = &[
    ("en", "en-US"),
    ("es", "es-ES"),
    ("fr", "fr-FR"),
    ("de", "de-DE"),
    ("it", "it-IT"),
    ("pt", "pt-BR"),
    ("nl", "nl-NL"),
    ("pl", "pl-PL"),
    ("tr", "tr-TR"),
    ("ar", "ar"),
    ("ja", "ja-JP"),
    ("zh", "zh-CN"),
    ("ko", "ko-KR"),
    ("ru", "ru-RU"),
    ("sv", "sv-SE"),
    ("da", "da-DK"),
    ("nb", "nb-NO"),
    ("no", "nb-NO"),
    ("hi", "hi-IN"),
    ("fi", "fi-FI"),
    ("el", "el-GR"),
    ("cs", "cs-CZ"),
    ("ca", "ca-ES"),
];

/// The language of a call: its engine (if the caller named one) and its table row.
pub struct Spoken {
    pub engine: Option<Engine>,
    row: &'static Row,
}

fn find(tag: &str) -> Option<&'static Row> {
    let exact = LANGUAGES.iter().find(|r| r.tag.eq_ignore_ascii_case(tag));
    exact.or_else(|| {
        let base = tag
            .split(['-', '_'])
            .next()
            .unwrap_or(tag)
            .to_ascii_lowercase();
        // ar-SA and friends: Twilio speaks "ar" for all of them.
        let via_base = BASES.iter().find(|(b, _)| *b == base)?.1;
        let regional = LANGUAGES
            .iter()
            .find(|r| r.tag.eq_ignore_ascii_case(via_base))?;
        // A region the table has under another tag (es-MX vs es-ES) is not guessed for: only
        // a bare language or a region we do not list falls back to the base's row.
        Some(regional)
    })
}

/// Reads `awspolly.ja-JP` / `de-DE`; refuses what no engine of ours can speak in that voice.
pub fn parse(language: &str, voice: Voice) -> Result<Spoken, Problem> {
    let (engine, tag) = match language.split_once('.') {
        Some((engine, tag)) => {
            let engine = match engine.to_ascii_lowercase().as_str() {
                "awspolly" | "polly" => Engine::Polly,
                "google" => Engine::Google,
                "voicerss" => Engine::VoiceRss,
                "acapela" => Engine::Acapela,
                other => {
                    return Err(Problem::says(format!(
                        "names an unknown speech engine {other:?} (use awspolly, google, voicerss or acapela)."
                    )))
                }
            };
            (Some(engine), tag)
        }
        None => (None, language),
    };
    let row = find(tag).ok_or_else(|| {
        Problem::says(format!(
            "{tag:?} is not a language our voice calls can speak."
        ))
    })?;
    let spoken = Spoken { engine, row };
    let woman = voice == Voice::Woman;
    let ok = match engine {
        Some(Engine::Polly) => pick(row.polly, woman).is_some(),
        Some(Engine::Google) => pick(row.google, woman).is_some(),
        Some(Engine::VoiceRss) => row.voicerss.is_some(),
        Some(Engine::Acapela) => row.restcomm.is_some(),
        None => true,
    };
    if !ok {
        return Err(Problem::says(format!(
            "{language:?}: that engine has no {} voice for this language.",
            voice.as_str()
        )));
    }
    Ok(spoken)
}

fn pick(pair: (Option<&'static str>, Option<&'static str>), woman: bool) -> Option<&'static str> {
    if woman {
        pair.0
    } else {
        pair.1
    }
}

impl Spoken {
    /// Twilio's `<Say voice="…" language="…">`: Polly unless the caller asked for Google (or
    /// Polly has no such voice); `None` when Twilio cannot speak it (a Restcomm-only engine).
    pub fn twilio(&self, voice: Voice) -> Option<(String, String)> {
        let woman = voice == Voice::Woman;
        let polly = pick(self.row.polly, woman).map(|v| format!("Polly.{v}"));
        let google = pick(self.row.google, woman).map(|v| format!("Google.{v}"));
        let name = match self.engine {
            Some(Engine::Polly) => polly,
            Some(Engine::Google) => google,
            Some(Engine::VoiceRss | Engine::Acapela) => None,
            None => polly.or(google),
        }?;
        let language = if let Some(google) = name.strip_prefix("Google.") {
            // Google names its voices by their own locale.
            google
                .rsplitn(3, '-')
                .nth(2)
                .unwrap_or(self.row.twilio)
                .to_owned()
        } else {
            self.row.twilio.to_owned()
        };
        Some((name, language))
    }

    /// Restcomm's `<Say language="…">` code (its server picks the engine); `None` when it has none.
    pub fn restcomm(&self) -> Option<&'static str> {
        match self.engine {
            Some(Engine::VoiceRss) => self.row.voicerss,
            Some(Engine::Polly | Engine::Google) => None,
            _ => self.row.restcomm,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engines_name_their_voices() {
        let ja = parse("awspolly.ja-JP", Voice::Woman).unwrap();
        assert_eq!(
            ja.twilio(Voice::Woman),
            Some(("Polly.Mizuki".into(), "ja-JP".into()))
        );
        let de = parse("google.de-DE", Voice::Man).unwrap();
        assert_eq!(
            de.twilio(Voice::Man),
            Some(("Google.de-DE-Standard-H".into(), "de-DE".into()))
        );
        let zh = parse("zh-CN", Voice::Woman).unwrap();
        assert_eq!(
            zh.twilio(Voice::Woman),
            Some(("Polly.Zhiyu".into(), "cmn-CN".into()))
        );
        assert_eq!(zh.restcomm(), Some("zh-cn"));
        // Polly has no man for Turkish: Google speaks it.
        let tr = parse("tr-TR", Voice::Man).unwrap();
        assert_eq!(
            tr.twilio(Voice::Man),
            Some(("Google.tr-TR-Standard-B".into(), "tr-TR".into()))
        );
        assert!(parse("awspolly.tr-TR", Voice::Man).is_err());
        // Restcomm's short codes.
        assert_eq!(parse("pt-BR", Voice::Woman).unwrap().restcomm(), Some("bp"));
        assert_eq!(parse("en", Voice::Woman).unwrap().restcomm(), Some("en"));
        assert_eq!(
            parse("voicerss.fr-fr", Voice::Woman).unwrap().restcomm(),
            Some("fr-fr")
        );
        assert_eq!(
            parse("voicerss.fr-fr", Voice::Woman)
                .unwrap()
                .twilio(Voice::Woman),
            None
        );
        // Nobody speaks Klingon; nobody knows the engine "espeak".
        assert!(parse("tlh", Voice::Woman).is_err());
        assert!(parse("espeak.en-US", Voice::Woman).is_err());
        // A bare language or an unlisted region uses its base's row.
        assert_eq!(
            parse("ar-SA", Voice::Woman)
                .unwrap()
                .twilio(Voice::Woman)
                .unwrap()
                .1,
            "arb"
        );
        assert_eq!(parse("de-AT", Voice::Woman).unwrap().restcomm(), Some("de"));
    }
}
