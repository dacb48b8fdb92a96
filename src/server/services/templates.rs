//! Message templates: what an account's messages say per channel and language. An account's
//! own template wins, then (for a sub-account) its parent's, then the built-in text; a request's
//! language picks by exact tag, then base language, then the account's default language, then
//! English — language first, so a parent's `es` beats the built-in `es` but an own `es-MX` beats
//! a parent's `es`.
use super::AccountScope;
use crate::domain::template::{self, Part, Template};
use crate::domain::{AccountSid, Channel, ErrorCode, Problem};
use crate::server::clock::{Clock, Millis};
use crate::server::db::templates::{self as store, StoredTemplate};
use crate::server::db::Db;

/// Where a template comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The account's own.
    Account,
    /// The parent account's (a sub-account without its own).
    Parent,
    /// Shipped with the server.
    BuiltIn,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Account => "account",
            Source::Parent => "parent",
            Source::BuiltIn => "builtin",
        }
    }
}

/// A template as it applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effective {
    pub channel: Channel,
    /// The template's own language (`es` when `es-MX` fell back to it).
    pub language: String,
    pub template: Template,
    pub source: Source,
    /// When the account's or parent's template was last written (`None`: built in).
    pub date_updated: Option<Millis>,
}

/// A template's address: its channel and language (a canonical tag).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateKey {
    pub channel: Channel,
    pub language: String,
}

/// What a template write or read names as wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateField {
    Channel,
    Language,
    Subject,
    Text,
    Html,
}

impl From<Part> for TemplateField {
    fn from(p: Part) -> Self {
        match p {
            Part::Subject => TemplateField::Subject,
            Part::Text => TemplateField::Text,
            Part::Html => TemplateField::Html,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("invalid {field:?}: {problem:?}")]
    Invalid {
        field: TemplateField,
        problem: Problem,
    },
    /// Deleting a template the account does not have.
    #[error("no own template")]
    NotFound,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl TemplateError {
    pub fn code(&self) -> ErrorCode {
        match self {
            TemplateError::Invalid { problem, .. } => problem.code(),
            TemplateError::NotFound => ErrorCode::NotFound,
            TemplateError::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl TemplateKey {
    /// A channel (`sms`, `call`/`voice`, `email`) and a language tag as a caller gave them.
    pub fn parse(channel: &str, language: &str) -> Result<Self, TemplateError> {
        let channel = Channel::parse(channel).ok_or(TemplateError::Invalid {
            field: TemplateField::Channel,
            problem: Problem::says("must be sms, call or email."),
        })?;
        let language =
            template::parse_language(language).map_err(|problem| TemplateError::Invalid {
                field: TemplateField::Language,
                problem,
            })?;
        Ok(Self { channel, language })
    }
}

/// A template as a caller wrote it (checked by [`put`]).
#[derive(Debug, Clone, Default)]
pub struct TemplateInput {
    pub subject: Option<String>,
    pub text: String,
    pub html: Option<String>,
}

fn stored_template(t: &StoredTemplate) -> Template {
    Template {
        subject: t.subject.clone(),
        text: t.text.clone(),
        html: t.html.clone(),
    }
}

/// The template for `channel` among `stored` (the account's and its parent's) and the built-in
/// ones, trying `languages` in order.
fn choose(
    stored: &[StoredTemplate],
    account: &str,
    channel: Channel,
    languages: &[String],
) -> Effective {
    for language in languages {
        let of = |own: bool| {
            stored.iter().find(|t| {
                t.channel == channel.as_str()
                    && t.language == *language
                    && (t.account_sid == account) == own
            })
        };
        if let Some((t, source)) = of(true)
            .map(|t| (t, Source::Account))
            .or_else(|| of(false).map(|t| (t, Source::Parent)))
        {
            return Effective {
                channel,
                language: language.clone(),
                template: stored_template(t),
                source,
                date_updated: Some(t.date_updated),
            };
        }
        if let Some(t) = template::builtin(channel, language) {
            return builtin(channel, language, t);
        }
    }
    let (language, t) = template::choose_builtin(channel, template::FALLBACK_LANGUAGE, None);
    builtin(channel, &language, t)
}

fn builtin(channel: Channel, language: &str, template: Template) -> Effective {
    Effective {
        channel,
        language: language.to_owned(),
        template,
        source: Source::BuiltIn,
        date_updated: None,
    }
}

/// Every template that applies to the account: per channel, the built-in languages and every
/// language the account or its parent wrote one for.
pub async fn list(db: &Db, scope: &AccountScope) -> anyhow::Result<Vec<Effective>> {
    let account = scope.sid().as_str();
    let stored = store::of_account_and_parent(db, account).await?;
    let mut languages: Vec<String> = template::builtin_languages()
        .map(|(l, _)| l.to_owned())
        .collect();
    let mut extra: Vec<String> = stored
        .iter()
        .map(|t| t.language.clone())
        .filter(|l| !languages.contains(l))
        .collect();
    extra.sort();
    extra.dedup();
    languages.extend(extra);
    let mut out = Vec::new();
    for channel in Channel::ALL {
        for language in &languages {
            let has = template::builtin(channel, language).is_some()
                || stored
                    .iter()
                    .any(|t| t.channel == channel.as_str() && t.language == *language);
            if has {
                out.push(choose(
                    &stored,
                    account,
                    channel,
                    std::slice::from_ref(language),
                ));
            }
        }
    }
    Ok(out)
}

/// The template a message in `key.language` gets (its language says which one applied).
pub async fn get(db: &Db, scope: &AccountScope, key: &TemplateKey) -> anyhow::Result<Effective> {
    chosen(db, scope.sid(), key.channel, &key.language).await
}

/// Writes the account's own template (replacing the one it had).
pub async fn put(
    db: &Db,
    clock: &dyn Clock,
    scope: &AccountScope,
    key: &TemplateKey,
    input: TemplateInput,
) -> Result<Effective, TemplateError> {
    let t = template::check(
        key.channel,
        input.subject.as_deref(),
        &input.text,
        input.html.as_deref(),
    )
    .map_err(|(part, problem)| TemplateError::Invalid {
        field: part.into(),
        problem,
    })?;
    let now = clock.now_ms();
    store::upsert(
        db,
        &StoredTemplate {
            account_sid: scope.sid().to_string(),
            channel: key.channel.as_str().to_owned(),
            language: key.language.clone(),
            subject: t.subject.clone(),
            text: t.text.clone(),
            html: t.html.clone(),
            date_updated: now,
        },
    )
    .await?;
    Ok(Effective {
        channel: key.channel,
        language: key.language.clone(),
        template: t,
        source: Source::Account,
        date_updated: Some(now),
    })
}

/// Removes the account's own template: the parent's or the built-in one applies again (and is
/// answered). `NotFound` when the account had none.
pub async fn delete(
    db: &Db,
    scope: &AccountScope,
    key: &TemplateKey,
) -> Result<Effective, TemplateError> {
    let gone = store::delete(
        db,
        scope.sid().as_str(),
        key.channel.as_str(),
        &key.language,
    )
    .await?;
    if !gone {
        return Err(TemplateError::NotFound);
    }
    Ok(get(db, scope, key).await?)
}

/// The template a delivery of `channel` in `language` (a request's language, maybe
/// engine-prefixed) uses for `account`: one query on the templates' primary key.
pub async fn for_delivery(
    db: &Db,
    account: &AccountSid,
    channel: Channel,
    language: &str,
) -> anyhow::Result<Effective> {
    chosen(db, account, channel, language).await
}

async fn chosen(
    db: &Db,
    account: &AccountSid,
    channel: Channel,
    language: &str,
) -> anyhow::Result<Effective> {
    let languages = template::language_choices(language, None);
    let stored = store::candidates(db, account.as_str(), channel.as_str(), &languages).await?;
    let found = choose(&stored, account.as_str(), channel, &languages);
    // Neither the language nor its base has a template: the account's default language comes
    // before English (looked up only then, so the usual delivery costs one query).
    let asked_for_english = template::language_tag(language).is_some_and(|t| {
        t == template::FALLBACK_LANGUAGE
            || t.starts_with(&format!("{}-", template::FALLBACK_LANGUAGE))
    });
    if found.language != template::FALLBACK_LANGUAGE || asked_for_english {
        return Ok(found);
    }
    let Some(row) = crate::server::db::accounts::find(db, account.as_str()).await? else {
        return Ok(found);
    };
    let owner = crate::server::services::scope::Account::try_from(row)?;
    let (defaults, _) = crate::server::services::settings::defaults(db, &owner).await?;
    let account_default = defaults.language.value;
    let languages = template::language_choices(language, Some(&account_default));
    let stored = store::candidates(db, account.as_str(), channel.as_str(), &languages).await?;
    Ok(choose(&stored, account.as_str(), channel, &languages))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(account: &str, channel: &str, language: &str, text: &str) -> StoredTemplate {
        StoredTemplate {
            account_sid: account.into(),
            channel: channel.into(),
            language: language.into(),
            subject: None,
            text: text.into(),
            html: None,
            date_updated: 1,
        }
    }

    #[test]
    fn language_before_owner_and_own_before_parent() {
        let stored = [
            row("SUB", "sms", "es", "sub es {code}"),
            row("PARENT", "sms", "es", "parent es {code}"),
            row("PARENT", "sms", "es-MX", "parent es-MX {code}"),
            row("PARENT", "call", "fr", "parent fr {code}"),
        ];
        let pick = |account: &str, channel: Channel, lang: &str| {
            let e = choose(
                &stored,
                account,
                channel,
                &template::language_choices(lang, None),
            );
            (e.language, e.source, e.template.text)
        };
        assert_eq!(
            pick("SUB", Channel::Sms, "es-MX"),
            ("es-MX".into(), Source::Parent, "parent es-MX {code}".into())
        );
        assert_eq!(
            pick("SUB", Channel::Sms, "es-ES"),
            ("es".into(), Source::Account, "sub es {code}".into())
        );
        assert_eq!(pick("SUB", Channel::Call, "fr-CA").1, Source::Parent);
        assert_eq!(pick("SUB", Channel::Sms, "fr-CA").0, "fr");
        assert_eq!(pick("SUB", Channel::Sms, "fr-CA").1, Source::BuiltIn);
        assert_eq!(pick("SUB", Channel::Email, "xx").0, "en");
    }
}
