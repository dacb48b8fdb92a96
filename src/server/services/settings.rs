//! Account settings that are not fields of a send: a sub-account inherits its parent's until it
//! sets its own; unset everywhere, the built-in default applies. (Today: whether calls ask the
//! callee to press a key before the code is read.)
use super::AccountScope;
use crate::domain::AccountSid;
use crate::server::clock::Clock;
use crate::server::db::{self, Db};

/// Where a setting's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Account,
    Parent,
    Default,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Account => "account",
            Source::Parent => "parent",
            Source::Default => "default",
        }
    }
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
    let parent = db::accounts::find(db, account.as_str())
        .await?
        .and_then(|a| a.parent_sid);
    let mut accounts = vec![account.as_str()];
    if let Some(p) = &parent {
        accounts.push(p.as_str());
    }
    let set = db::settings::voice_press_key(db, &accounts).await?;
    let of = |sid: &str| {
        set.iter()
            .find(|(a, _)| a == sid)
            .and_then(|(_, v)| *v)
            .map(|v| v != 0)
    };
    Ok(
        match (of(account.as_str()), parent.as_deref().and_then(of)) {
            (Some(on), _) => VoicePressKey {
                on,
                source: Source::Account,
            },
            (None, Some(on)) => VoicePressKey {
                on,
                source: Source::Parent,
            },
            (None, None) => VoicePressKey {
                on: VOICE_PRESS_KEY_DEFAULT,
                source: Source::Default,
            },
        },
    )
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
