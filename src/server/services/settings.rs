//! Account settings: the defaults a send that leaves a field out gets, the destination
//! countries each phone channel may send to, and whether calls ask for a key before the code.
//! A sub-account inherits its parent's until it sets its own; unset everywhere, the operator's
//! configuration (countries) or the built-in default applies.
use super::scope::Account;
use super::AccountScope;
use crate::domain::fraud::{FraudMode, SafeList};
use crate::domain::settings::{
    AllowedCountries, Countries, Defaults, DefaultsChange, Effective, Source, Sourced,
};
use crate::domain::{AccountSid, Channel, Problem};
use crate::server::clock::Clock;
use crate::server::db::settings::Stored;
use crate::server::db::{self, Db};
use crate::server::outbound::Outbound;

/// The operator's allowed countries for accounts that set none (`[allowed_countries]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerCountries {
    pub sms: Option<Countries>,
    pub call: Option<Countries>,
}

impl ServerCountries {
    /// From the configuration's lists (each code checked).
    pub fn parse(sms: Option<&[String]>, call: Option<&[String]>) -> anyhow::Result<Self> {
        let one = |list: Option<&[String]>, name: &str| -> anyhow::Result<Option<Countries>> {
            list.map(|l| {
                countries(l.iter().map(String::as_str))
                    .map_err(|p| anyhow::anyhow!("allowed_countries.{name}: {}", p.message(name)))
            })
            .transpose()
        };
        Ok(ServerCountries {
            sms: one(sms, "sms")?,
            call: one(call, "call")?,
        })
    }
}

/// A list of ISO 3166 alpha-2 codes (or `all`), each one checked.
pub fn countries<'a>(items: impl IntoIterator<Item = &'a str>) -> Result<Countries, Problem> {
    let items: Vec<&str> = items
        .into_iter()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if items.len() == 1 && items[0].eq_ignore_ascii_case("all") {
        return Ok(Countries::All);
    }
    for c in &items {
        if isocountry::CountryCode::for_alpha2_caseless(c).is_err() {
            return Err(Problem::says(format!(
                "lists {c:?}, which is not an ISO 3166 alpha-2 country code (like GB or US); send \"all\" or a list of codes."
            )));
        }
    }
    Ok(Countries::only(items.into_iter().map(str::to_owned)))
}

/// The English name of a country code (`GB` → United Kingdom of Great Britain and Northern
/// Ireland); empty when unknown.
pub fn country_name(code: &str) -> &'static str {
    isocountry::CountryCode::for_alpha2_caseless(code)
        .map(|c| c.name())
        .unwrap_or("")
}

/// Every country: (ISO code, English name), by name.
pub fn all_countries() -> Vec<(&'static str, &'static str)> {
    let mut v: Vec<_> = isocountry::CountryCode::iter()
        .map(|c| (c.alpha2(), c.name()))
        .collect();
    v.sort_by_key(|(_, name)| *name);
    v
}

/// What `account` and its parent set.
async fn stored(db: &Db, account: &Account) -> anyhow::Result<(Stored, Option<Stored>)> {
    let mut sids = vec![account.sid.as_str()];
    if let Some(p) = &account.parent_sid {
        sids.push(p.as_str());
    }
    let mut rows = db::settings::load(db, &sids).await?;
    let mut take = |sid: &str| {
        rows.iter()
            .position(|(a, _)| a == sid)
            .map(|i| rows.swap_remove(i).1)
    };
    let own = take(account.sid.as_str()).unwrap_or_default();
    let parent = account
        .parent_sid
        .as_ref()
        .map(|p| take(p.as_str()).unwrap_or_default());
    Ok((own, parent))
}

fn resolve_countries(
    own: &Stored,
    parent: Option<&Stored>,
    server: &ServerCountries,
) -> AllowedCountries {
    AllowedCountries {
        sms: Sourced::first_set(
            own.countries_sms.clone(),
            parent.and_then(|p| p.countries_sms.clone()),
            server.sms.clone(),
            Countries::All,
        ),
        call: Sourced::first_set(
            own.countries_call.clone(),
            parent.and_then(|p| p.countries_call.clone()),
            server.call.clone(),
            Countries::All,
        ),
    }
}

/// What a send of `account` gets from its settings.
pub struct ForSend {
    pub defaults: Effective,
    pub countries: AllowedCountries,
    pub fraud: FraudSettings,
}

/// What a send of `account` gets: its defaults, allowed countries and fraud guard (one query).
pub async fn for_send(
    db: &Db,
    account: &Account,
    server: &ServerCountries,
) -> anyhow::Result<ForSend> {
    let (own, parent) = stored(db, account).await?;
    Ok(ForSend {
        defaults: Effective::resolve(&own.defaults, parent.as_ref().map(|p| &p.defaults)),
        countries: resolve_countries(&own, parent.as_ref(), server),
        fraud: resolve_fraud(&own, parent.as_ref()),
    })
}

/// The fraud guard's settings as they apply to an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FraudSettings {
    /// `None`: set nowhere — the mode follows each send's provider ([`FraudMode::unset`]).
    pub mode: Sourced<Option<FraudMode>>,
    pub safe_list: Sourced<SafeList>,
}

fn resolve_fraud(own: &Stored, parent: Option<&Stored>) -> FraudSettings {
    FraudSettings {
        mode: Sourced::first_set(
            own.fraud_mode.map(Some),
            parent.and_then(|p| p.fraud_mode).map(Some),
            None,
            None,
        ),
        safe_list: Sourced::first_set(
            own.fraud_safe_list.clone(),
            parent.and_then(|p| p.fraud_safe_list.clone()),
            None,
            SafeList::default(),
        ),
    }
}

/// The fraud guard's settings of the account.
pub async fn fraud_guard(db: &Db, account: &Account) -> anyhow::Result<FraudSettings> {
    let (own, parent) = stored(db, account).await?;
    Ok(resolve_fraud(&own, parent.as_ref()))
}

/// Changes the fraud guard's mode and/or safe-list (`Some(None)`: inherit again).
pub async fn set_fraud_guard(
    db: &Db,
    clock: &dyn Clock,
    scope: &AccountScope,
    mode: Option<Option<FraudMode>>,
    safe_list: Option<Option<SafeList>>,
) -> anyhow::Result<Changed<FraudSettings>> {
    let before = fraud_guard(db, scope.account()).await?;
    db::settings::set_fraud_guard(db, scope.sid().as_str(), mode, safe_list, clock.now_ms())
        .await?;
    let after = fraud_guard(db, scope.account()).await?;
    Ok(Changed { before, after })
}

/// The account's defaults as they apply, and what it set itself.
pub async fn defaults(db: &Db, account: &Account) -> anyhow::Result<(Effective, Defaults)> {
    let (own, parent) = stored(db, account).await?;
    Ok((
        Effective::resolve(&own.defaults, parent.as_ref().map(|p| &p.defaults)),
        own.defaults,
    ))
}

/// A field of the defaults, for errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultsField {
    Per24Hours,
    StatusCallback,
}

/// A setting before and after a change (what the audit log records).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed<T> {
    pub before: T,
    pub after: T,
}

impl<T: PartialEq> Changed<T> {
    pub fn is_change(&self) -> bool {
        self.before != self.after
    }
}

/// Why a change is refused.
#[derive(Debug)]
pub enum SettingsError {
    Invalid {
        field: DefaultsField,
        problem: Problem,
    },
    Internal(anyhow::Error),
}

impl From<anyhow::Error> for SettingsError {
    fn from(e: anyhow::Error) -> Self {
        SettingsError::Internal(e)
    }
}

/// Changes the account's defaults (the fields the change names; values already in range).
/// A status callback must not point at internal addresses (unless the operator allows it).
pub async fn change_defaults(
    db: &Db,
    clock: &dyn Clock,
    outbound: &Outbound,
    scope: &AccountScope,
    change: DefaultsChange,
) -> Result<(Effective, Changed<Defaults>), SettingsError> {
    if let Some(Some(url)) = &change.status_callback {
        outbound
            .check_url(url)
            .await
            .map_err(|e| SettingsError::Invalid {
                field: DefaultsField::StatusCallback,
                problem: Problem::says(e.to_string()),
            })?;
    }
    let account = scope.account();
    let (own, parent) = stored(db, account).await?;
    let after = change.apply(&own.defaults);
    let effective = Effective::resolve(&after, parent.as_ref().map(|p| &p.defaults));
    if effective.per_24_hours.value < effective.per_10_minutes.value {
        return Err(SettingsError::Invalid {
            field: DefaultsField::Per24Hours,
            problem: Problem::says(format!(
                "must be at least the sends allowed per 10 minutes ({}).",
                effective.per_10_minutes.value
            )),
        });
    }
    db::settings::change_defaults(db, account.sid.as_str(), &change, clock.now_ms()).await?;
    Ok((
        effective,
        Changed {
            before: own.defaults,
            after,
        },
    ))
}

/// The allowed countries of the account's phone channels.
pub async fn allowed_countries(
    db: &Db,
    account: &Account,
    server: &ServerCountries,
) -> anyhow::Result<AllowedCountries> {
    let (own, parent) = stored(db, account).await?;
    Ok(resolve_countries(&own, parent.as_ref(), server))
}

/// Sets (or, with `None`, goes back to inheriting) the allowed countries of phone channels
/// (email addresses have no country).
pub async fn set_countries(
    db: &Db,
    clock: &dyn Clock,
    scope: &AccountScope,
    server: &ServerCountries,
    changes: Vec<(Channel, Option<Countries>)>,
) -> anyhow::Result<Changed<AllowedCountries>> {
    let before = allowed_countries(db, scope.account(), server).await?;
    db::settings::set_countries(db, scope.sid().as_str(), &changes, clock.now_ms()).await?;
    let after = allowed_countries(db, scope.account(), server).await?;
    Ok(Changed { before, after })
}

/// "Press any key to hear your code" before a call reads it (voicemail then records no code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VoicePressKey {
    /// What applies.
    pub on: bool,
    pub source: Source,
}

/// Off unless an account turns it on: a person who picks up hears the code at once.
pub const VOICE_PRESS_KEY_DEFAULT: bool = false;

/// What applies to `account` (its own setting, else its parent's, else the default).
pub async fn voice_press_key(db: &Db, account: &AccountSid) -> anyhow::Result<VoicePressKey> {
    let Some(row) = db::accounts::find(db, account.as_str()).await? else {
        anyhow::bail!("no account {account}");
    };
    let account = Account::try_from(row)?;
    let (own, parent) = stored(db, &account).await?;
    let v = Sourced::first_set(
        own.voice_press_key,
        parent.and_then(|p| p.voice_press_key),
        None,
        VOICE_PRESS_KEY_DEFAULT,
    );
    Ok(VoicePressKey {
        on: v.value,
        source: v.source,
    })
}

/// Sets the account's own choice, or (`None`) goes back to its parent's or the default.
pub async fn set_voice_press_key(
    db: &Db,
    clock: &dyn Clock,
    scope: &AccountScope,
    value: Option<bool>,
) -> anyhow::Result<VoicePressKey> {
    db::settings::set_voice_press_key(db, scope.sid().as_str(), value, clock.now_ms()).await?;
    voice_press_key(db, scope.sid()).await
}
