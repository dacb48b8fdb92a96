//! Account defaults: what a send that leaves a field out gets. An account sets some of them; a
//! sub-account inherits its parent's until it sets its own; what nobody set is the built-in
//! default. Shared by the server and the console (the page shows where each value comes from).
use super::code::CodeType;
use super::otp::{self as rules, Channel, Workflow};
use super::protection::Protection;
use serde::{Deserialize, Serialize};

/// An account's own choices; `None`: not set here (the parent's, else the built-in, applies).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Defaults {
    pub code_length: Option<usize>,
    pub code_type: Option<CodeType>,
    pub expiry_secs: Option<i64>,
    pub max_attempts: Option<i64>,
    /// Sends to one destination per 10 minutes.
    pub per_10_minutes: Option<i64>,
    /// Sends to one destination per 24 hours.
    pub per_24_hours: Option<i64>,
    pub workflow: Option<Workflow>,
    pub keep_old_otp_active: Option<bool>,
    pub language: Option<String>,
    pub status_callback: Option<String>,
}

/// Where a value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Account,
    Parent,
    /// The operator's configuration (allowed countries of accounts that set none).
    Server,
    Default,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Account => "account",
            Source::Parent => "parent",
            Source::Server => "server",
            Source::Default => "default",
        }
    }
}

/// The destination countries a channel may send to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Countries {
    #[default]
    All,
    /// ISO 3166 alpha-2 codes, upper case, sorted, distinct.
    Only(Vec<String>),
}

impl Countries {
    /// The codes given (upper-cased, sorted, deduplicated); the caller checks they exist.
    pub fn only(codes: impl IntoIterator<Item = String>) -> Countries {
        let mut v: Vec<String> = codes
            .into_iter()
            .map(|c| c.trim().to_ascii_uppercase())
            .filter(|c| !c.is_empty())
            .collect();
        v.sort();
        v.dedup();
        Countries::Only(v)
    }

    /// Whether a destination in `country` may be sent to. A destination without a country (a
    /// `client:` name) is not in any country and always may.
    pub fn allows(&self, country: Option<&str>) -> bool {
        match (self, country) {
            (Countries::All, _) | (_, None) => true,
            (Countries::Only(list), Some(c)) => list.iter().any(|x| x == c),
        }
    }

    /// `all` or `GB,IE`: how it is stored.
    pub fn to_text(&self) -> String {
        match self {
            Countries::All => "all".into(),
            Countries::Only(list) => list.join(","),
        }
    }

    pub fn from_text(raw: &str) -> Countries {
        if raw.trim().eq_ignore_ascii_case("all") {
            Countries::All
        } else {
            Countries::only(raw.split(',').map(str::to_owned))
        }
    }
}

/// The channels whose destinations have a country (email addresses do not).
pub const COUNTRY_CHANNELS: [Channel; 2] = [Channel::Sms, Channel::Call];

/// The allowed countries of the phone channels, resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllowedCountries {
    pub sms: Sourced<Countries>,
    pub call: Sourced<Countries>,
}

impl AllowedCountries {
    pub fn of(&self, channel: Channel) -> Option<&Countries> {
        match channel {
            Channel::Sms => Some(&self.sms.value),
            Channel::Call => Some(&self.call.value),
            Channel::Email => None,
        }
    }

    /// The first channel of `channels` that may not send to `country`.
    pub fn refuses(&self, channels: &[Channel], country: Option<&str>) -> Option<Channel> {
        channels
            .iter()
            .copied()
            .find(|c| self.of(*c).is_some_and(|list| !list.allows(country)))
    }
}

/// A value that applies, and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sourced<T> {
    pub value: T,
    pub source: Source,
}

impl<T> Sourced<T> {
    /// The first value set, in the order settings are inherited: the account's own, its
    /// parent's, the operator's (`server`); else `builtin`.
    pub fn first_set(own: Option<T>, parent: Option<T>, server: Option<T>, builtin: T) -> Self {
        let (value, source) = match (own, parent, server) {
            (Some(v), _, _) => (v, Source::Account),
            (None, Some(v), _) => (v, Source::Parent),
            (None, None, Some(v)) => (v, Source::Server),
            (None, None, None) => (builtin, Source::Default),
        };
        Sourced { value, source }
    }
}

/// What applies to a send of the account: every field resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Effective {
    pub code_length: Sourced<usize>,
    pub code_type: Sourced<CodeType>,
    pub expiry_secs: Sourced<i64>,
    pub max_attempts: Sourced<i64>,
    pub per_10_minutes: Sourced<i64>,
    pub per_24_hours: Sourced<i64>,
    pub workflow: Sourced<Workflow>,
    pub keep_old_otp_active: Sourced<bool>,
    pub language: Sourced<String>,
    /// No built-in default: a send without one posts no callbacks.
    pub status_callback: Sourced<Option<String>>,
}

/// The built-in defaults.
pub const DEFAULT_PER_10_MINUTES: i64 = 5;
pub const DEFAULT_PER_24_HOURS: i64 = 20;
/// Allowed ranges of the per-destination protection.
pub const PER_10_MINUTES: (i64, i64) = (1, 100);
pub const PER_24_HOURS: (i64, i64) = (1, 1000);

impl Effective {
    /// The account's own choices over its parent's over the built-in defaults.
    pub fn resolve(own: &Defaults, parent: Option<&Defaults>) -> Effective {
        fn pick<T: Clone>(own: &Option<T>, parent: Option<&Option<T>>, builtin: T) -> Sourced<T> {
            Sourced::first_set(own.clone(), parent.cloned().flatten(), None, builtin)
        }
        let p = parent;
        let status_callback = Sourced::first_set(
            own.status_callback.clone().map(Some),
            p.and_then(|p| p.status_callback.clone()).map(Some),
            None,
            None,
        );
        Effective {
            code_length: pick(
                &own.code_length,
                p.map(|p| &p.code_length),
                rules::DEFAULT_CODE_LENGTH,
            ),
            code_type: pick(&own.code_type, p.map(|p| &p.code_type), CodeType::default()),
            expiry_secs: pick(
                &own.expiry_secs,
                p.map(|p| &p.expiry_secs),
                rules::DEFAULT_EXPIRY_SECS,
            ),
            max_attempts: pick(
                &own.max_attempts,
                p.map(|p| &p.max_attempts),
                rules::DEFAULT_MAX_ATTEMPTS,
            ),
            per_10_minutes: pick(
                &own.per_10_minutes,
                p.map(|p| &p.per_10_minutes),
                DEFAULT_PER_10_MINUTES,
            ),
            per_24_hours: pick(
                &own.per_24_hours,
                p.map(|p| &p.per_24_hours),
                DEFAULT_PER_24_HOURS,
            ),
            workflow: pick(
                &own.workflow,
                p.map(|p| &p.workflow),
                Workflow::single(Channel::Sms),
            ),
            keep_old_otp_active: pick(
                &own.keep_old_otp_active,
                p.map(|p| &p.keep_old_otp_active),
                false,
            ),
            language: pick(
                &own.language,
                p.map(|p| &p.language),
                rules::DEFAULT_LANGUAGE.to_owned(),
            ),
            status_callback,
        }
    }

    /// The per-destination protection that applies.
    pub fn protection(&self) -> Protection {
        Protection {
            per_10_minutes: self.per_10_minutes.value,
            per_24_hours: self.per_24_hours.value,
        }
    }
}

/// A change to an account's defaults: `None` keeps a field, `Some(None)` unsets it (back to the
/// parent's or the built-in), `Some(Some(v))` sets it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DefaultsChange {
    pub code_length: Option<Option<usize>>,
    pub code_type: Option<Option<CodeType>>,
    pub expiry_secs: Option<Option<i64>>,
    pub max_attempts: Option<Option<i64>>,
    pub per_10_minutes: Option<Option<i64>>,
    pub per_24_hours: Option<Option<i64>>,
    pub workflow: Option<Option<Workflow>>,
    pub keep_old_otp_active: Option<Option<bool>>,
    pub language: Option<Option<String>>,
    pub status_callback: Option<Option<String>>,
}

impl DefaultsChange {
    /// `own` with the change applied.
    pub fn apply(&self, own: &Defaults) -> Defaults {
        fn f<T: Clone>(change: &Option<Option<T>>, current: &Option<T>) -> Option<T> {
            match change {
                None => current.clone(),
                Some(v) => v.clone(),
            }
        }
        Defaults {
            code_length: f(&self.code_length, &own.code_length),
            code_type: f(&self.code_type, &own.code_type),
            expiry_secs: f(&self.expiry_secs, &own.expiry_secs),
            max_attempts: f(&self.max_attempts, &own.max_attempts),
            per_10_minutes: f(&self.per_10_minutes, &own.per_10_minutes),
            per_24_hours: f(&self.per_24_hours, &own.per_24_hours),
            workflow: f(&self.workflow, &own.workflow),
            keep_old_otp_active: f(&self.keep_old_otp_active, &own.keep_old_otp_active),
            language: f(&self.language, &own.language),
            status_callback: f(&self.status_callback, &own.status_callback),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries_allow_and_store() {
        let only = Countries::only(["ie".to_owned(), "GB".to_owned(), "gb".to_owned()]);
        assert_eq!(only, Countries::Only(vec!["GB".into(), "IE".into()]));
        assert!(only.allows(Some("GB")));
        assert!(!only.allows(Some("DE")));
        assert!(only.allows(None), "client: names have no country");
        assert!(Countries::All.allows(Some("DE")));
        assert_eq!(Countries::from_text(&only.to_text()), only);
        assert_eq!(Countries::from_text("all"), Countries::All);
        let allowed = AllowedCountries {
            sms: Sourced {
                value: Countries::All,
                source: Source::Default,
            },
            call: Sourced {
                value: only,
                source: Source::Account,
            },
        };
        let wf = [Channel::Sms, Channel::Call, Channel::Email];
        assert_eq!(allowed.refuses(&wf, Some("DE")), Some(Channel::Call));
        assert_eq!(allowed.refuses(&wf, Some("IE")), None);
        assert_eq!(allowed.refuses(&[Channel::Email], Some("DE")), None);
    }

    #[test]
    fn own_over_parent_over_builtin() {
        let parent = Defaults {
            expiry_secs: Some(300),
            code_length: Some(8),
            status_callback: Some("https://p.example/cb".into()),
            ..Defaults::default()
        };
        let own = Defaults {
            expiry_secs: Some(120),
            ..Defaults::default()
        };
        let e = Effective::resolve(&own, Some(&parent));
        assert_eq!(
            e.expiry_secs,
            Sourced {
                value: 120,
                source: Source::Account
            }
        );
        assert_eq!(
            e.code_length,
            Sourced {
                value: 8,
                source: Source::Parent
            }
        );
        assert_eq!(e.max_attempts.source, Source::Default);
        assert_eq!(e.max_attempts.value, rules::DEFAULT_MAX_ATTEMPTS);
        assert_eq!(
            e.status_callback.value.as_deref(),
            Some("https://p.example/cb")
        );
        let alone = Effective::resolve(&own, None);
        assert_eq!(alone.code_length.source, Source::Default);
        assert_eq!(alone.status_callback.value, None);
        assert_eq!(alone.workflow.value, Workflow::single(Channel::Sms));
        assert_eq!(
            alone.protection(),
            Protection {
                per_10_minutes: DEFAULT_PER_10_MINUTES,
                per_24_hours: DEFAULT_PER_24_HOURS
            }
        );
    }

    #[test]
    fn a_change_keeps_sets_and_unsets() {
        let own = Defaults {
            expiry_secs: Some(120),
            max_attempts: Some(3),
            ..Defaults::default()
        };
        let change = DefaultsChange {
            expiry_secs: Some(None),
            code_length: Some(Some(4)),
            ..DefaultsChange::default()
        };
        let after = change.apply(&own);
        assert_eq!(after.expiry_secs, None);
        assert_eq!(after.code_length, Some(4));
        assert_eq!(after.max_attempts, Some(3));
    }
}
