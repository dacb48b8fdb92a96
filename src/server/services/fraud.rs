//! The fraud guard's settings and blocks (Settings → Fraud guard, `/2fa/settings/fraudGuard`,
//! `/2fa/fraudGuard/blocks`): read the mode and safe-list, change them, list the prefixes
//! blocked now, and lift a block. The send-time check is [`super::otp::fraud`].
use super::audit::{self, AuditAction, Change, Origin};
use super::otp::OtpService;
use super::settings::{self, Changed, FraudSettings};
use super::AccountScope;
use crate::domain::fraud::{self, FraudMode, SafeList};
use crate::domain::{Channel, Problem};
use crate::server::clock::Clock;
use crate::server::db::fraud::{self as store, Block};
use crate::server::db::script::Script;

/// The fraud guard of an account: its settings and the mode each phone channel gets now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FraudGuard {
    pub settings: FraudSettings,
    /// (channel, mode that applies to its traffic)
    pub applies: Vec<(Channel, FraudMode)>,
}

/// The channels the guard watches.
pub const CHANNELS: [Channel; 2] = [Channel::Sms, Channel::Call];

pub async fn get(svc: &OtpService, scope: &AccountScope) -> anyhow::Result<FraudGuard> {
    let settings = settings::fraud_guard(svc.db(), scope.account()).await?;
    let mut applies = Vec::new();
    for c in CHANNELS {
        let mode = match settings.mode.value {
            Some(m) => m,
            None => FraudMode::unset(svc.uses_sandbox(scope.sid(), c).await?),
        };
        applies.push((c, mode));
    }
    Ok(FraudGuard { settings, applies })
}

/// A safe-list as a client wrote it: entries one per line or comma-separated.
pub fn parse_safe_list<'a>(items: impl IntoIterator<Item = &'a str>) -> Result<SafeList, Problem> {
    SafeList::parse(
        items
            .into_iter()
            .flat_map(|s| s.split([',', '\n', ' ']))
            .map(str::trim)
            .filter(|s| !s.is_empty()),
    )
}

/// Changes the mode and/or safe-list (`Some(None)`: inherit again); what changed.
pub async fn set(
    svc: &OtpService,
    clock: &dyn Clock,
    scope: &AccountScope,
    mode: Option<Option<FraudMode>>,
    safe_list: Option<Option<SafeList>>,
) -> anyhow::Result<(FraudGuard, Changed<FraudSettings>)> {
    let changed = settings::set_fraud_guard(svc.db(), clock, scope, mode, safe_list).await?;
    Ok((get(svc, scope).await?, changed))
}

/// The prefixes blocked now, newest first.
pub async fn blocks(svc: &OtpService, scope: &AccountScope) -> anyhow::Result<Vec<Block>> {
    store::current(svc.db(), scope.sid(), svc.now()).await
}

/// Why a lift was refused.
#[derive(Debug)]
pub enum LiftError {
    Invalid(Problem),
    /// No block of this prefix is in force.
    NotBlocked(String),
    Internal(anyhow::Error),
}

impl From<anyhow::Error> for LiftError {
    fn from(e: anyhow::Error) -> Self {
        LiftError::Internal(e)
    }
}

/// Lifts the blocks of a prefix (every channel) on behalf of `origin`'s actor, recorded in the
/// audit log in the same transaction: the blocks lifted. The guard does not block the prefix
/// again for a day.
pub async fn lift(
    svc: &OtpService,
    scope: &AccountScope,
    prefix: &str,
    origin: &Origin,
) -> Result<Vec<Block>, LiftError> {
    let prefix = fraud::parse_prefix(prefix).map_err(LiftError::Invalid)?;
    let now = svc.now();
    let lifted: Vec<Block> = store::current(svc.db(), scope.sid(), now)
        .await?
        .into_iter()
        .filter(|b| b.prefix == prefix)
        .collect();
    if lifted.is_empty() {
        return Err(LiftError::NotBlocked(prefix));
    }
    let mut s = Script::new();
    store::lift(&mut s, scope.sid(), &prefix, &origin.actor.display(), now);
    audit::record_in(
        &mut s,
        now,
        Some(scope.sid()),
        origin,
        lift_change(&prefix, &lifted),
    );
    crate::server::db::commit_script(svc.db(), s)
        .await
        .map_err(anyhow::Error::from)?;
    Ok(lifted)
}

/// A block as the audit log and the API show it.
pub fn block_json(b: &Block) -> serde_json::Value {
    serde_json::json!({
        "prefix": b.prefix,
        "channel": b.channel.as_str(),
        "countryCode": b.country_code,
        "reason": b.reason,
        "since": crate::server::clock::rfc3339(b.since),
        "until": crate::server::clock::rfc3339(b.until),
    })
}

/// The audit entry of a lift (`fraud_guard.lift`).
pub fn lift_change(prefix: &str, lifted: &[Block]) -> Change {
    Change::new(AuditAction::FraudGuardLift, prefix)
        .before(lifted.iter().map(block_json).collect::<Vec<_>>())
        .after(serde_json::Value::Null)
}

fn settings_json(s: &FraudSettings) -> serde_json::Value {
    serde_json::json!({
        "mode": s.mode.value.map(FraudMode::as_str),
        "modeSource": s.mode.source.as_str(),
        "safeList": s.safe_list.value.entries(),
        "safeListSource": s.safe_list.source.as_str(),
    })
}

/// The audit entry of a settings change (`settings.update`, target `fraud_guard`).
pub fn settings_change(c: &Changed<FraudSettings>) -> Change {
    Change::new(AuditAction::SettingsUpdate, "fraud_guard")
        .before(settings_json(&c.before))
        .after(settings_json(&c.after))
}
