//! The fraud guard at send time (see [`crate::domain::fraud`]): a phone send is checked against
//! the account's safe-list, the blocks of its number prefix, and the rules over the prefix's
//! and the country's unverified OTPs. What it decided goes into the OTP's timeline, in the same
//! transaction as the OTP (and a new block with it).
use super::{OtpResult, OtpService};
use crate::domain::fraud::{self, Counts, Decision, FraudMode, BLOCK_MS, LIFTED_GRACE_MS};
use crate::domain::otp::SendReceipt;
use crate::domain::phone::PhoneDestination;
use crate::domain::timeline::OtpEvent;
use crate::domain::{AccountSid, Channel, OtpSid, Workflow};
use crate::server::clock::Millis;
use crate::server::db::fraud::{self as store, Block};
use crate::server::services::settings::FraudSettings;

/// What the guard decided about a send.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Not checked (no phone channel, or the guard is off) or nothing to report.
    Pass,
    /// Accepted; the timeline records why the guard let it through (safe-listed, monitored).
    Note(Finding),
    /// Refused: recorded as `blocked`, with the prefix's new blocks (none when it was blocked
    /// already).
    Refuse {
        finding: Finding,
        new_blocks: Vec<Block>,
        retry_after: i64,
    },
}

/// A decision and why, for the timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub decision: Decision,
    pub prefix: String,
    pub reason: String,
    pub until: Option<Millis>,
}

impl Finding {
    pub fn event(&self) -> OtpEvent {
        OtpEvent::FraudGuard {
            decision: self.decision,
            prefix: self.prefix.clone(),
            reason: self.reason.clone(),
            until: self.until,
        }
    }
}

impl Verdict {
    /// The answer a refused send gets.
    pub fn receipt(&self, request_id: &OtpSid) -> Option<SendReceipt> {
        match self {
            Verdict::Refuse {
                finding,
                retry_after,
                ..
            } => Some(SendReceipt::FraudBlocked {
                request_id: request_id.clone(),
                prefix: finding.prefix.clone(),
                retry_after: *retry_after,
            }),
            _ => None,
        }
    }
}

/// The mode that applies to a send through these phone channels.
async fn mode(
    svc: &OtpService,
    account: &AccountSid,
    settings: &FraudSettings,
    channels: &[Channel],
) -> OtpResult<FraudMode> {
    if let Some(m) = settings.mode.value {
        return Ok(m);
    }
    // Unset: block if any of the channels goes through a real provider.
    for c in channels {
        if !svc.uses_sandbox(account, *c).await? {
            return Ok(FraudMode::Block);
        }
    }
    Ok(FraudMode::unset(true))
}

pub async fn check(
    svc: &OtpService,
    account: &AccountSid,
    settings: &FraudSettings,
    workflow: &Workflow,
    phone: &PhoneDestination,
    now: Millis,
) -> OtpResult<Verdict> {
    let channels: Vec<Channel> = workflow
        .channels()
        .iter()
        .copied()
        .filter(|c| *c != Channel::Email)
        .collect();
    if channels.is_empty() {
        return Ok(Verdict::Pass);
    }
    let mode = mode(svc, account, settings, &channels).await?;
    if mode == FraudMode::Off {
        return Ok(Verdict::Pass);
    }
    let number = phone.as_str();
    let prefix = fraud::prefix_of(number);
    if let Some(entry) = settings.safe_list.value.covering(number) {
        return Ok(Verdict::Note(Finding {
            decision: Decision::SafeListed,
            prefix,
            reason: format!("{entry} is on the safe-list: not checked."),
            until: None,
        }));
    }
    let blocks = store::of_prefix(svc.db(), account, &prefix).await?;
    let ours = |b: &&Block| channels.contains(&b.channel);
    let monitored = |reason: String| {
        Verdict::Note(Finding {
            decision: Decision::Monitored,
            prefix: prefix.clone(),
            reason,
            until: None,
        })
    };
    if let Some(b) = blocks
        .iter()
        .filter(ours)
        .filter(|b| b.lifted_at.is_none() && b.until > now)
        .max_by_key(|b| b.until)
    {
        let reason = format!(
            "The prefix is blocked since a send tripped the guard: {}",
            b.reason
        );
        return Ok(match mode {
            FraudMode::Block => Verdict::Refuse {
                finding: Finding {
                    decision: Decision::Blocked,
                    prefix: prefix.clone(),
                    reason,
                    until: Some(b.until),
                },
                new_blocks: Vec::new(),
                retry_after: seconds_until(b.until, now),
            },
            _ => monitored(format!("Would be refused (monitor mode). {reason}")),
        });
    }
    let lifted = blocks
        .iter()
        .filter(ours)
        .filter_map(|b| b.lifted_at.map(|at| (at, b.lifted_by.clone())))
        .filter(|(at, _)| *at > now - LIFTED_GRACE_MS)
        .max_by_key(|(at, _)| *at);
    let country = phone.country();
    let mut scopes = vec![store::prefix_scope(&prefix)];
    if let Some(c) = country {
        scopes.push(store::country_scope(c));
    }
    let rows = store::hours(svc.db(), account, &scopes, now).await?;
    let of = |scope: &str| {
        let hours: Vec<(i64, i64, i64)> = rows
            .iter()
            .filter(|r| r.0 == scope)
            .map(|r| (r.1, r.2, r.3))
            .collect();
        Counts::of(&hours, now)
    };
    let prefix_counts = of(&scopes[0]);
    let country_counts = scopes.get(1).map(|s| of(s));
    let trip = fraud::assess(
        (&prefix, &prefix_counts),
        country.zip(country_counts.as_ref()),
    );
    let Some(trip) = trip else {
        return Ok(Verdict::Pass);
    };
    let reason = trip.reason();
    if let Some((at, by)) = lifted {
        return Ok(monitored(format!(
            "Would be refused, but {} lifted the block of this prefix at {} (not blocked again for 24 hours). {reason}",
            by.unwrap_or_else(|| "an admin".into()),
            crate::server::clock::rfc3339(at)
        )));
    }
    if mode == FraudMode::Monitor {
        return Ok(monitored(format!(
            "Would be refused (monitor mode): {reason}"
        )));
    }
    let until = now + BLOCK_MS;
    Ok(Verdict::Refuse {
        new_blocks: channels
            .iter()
            .map(|c| Block {
                prefix: prefix.clone(),
                channel: *c,
                country_code: country.map(str::to_owned),
                reason: reason.clone(),
                since: now,
                until,
                lifted_at: None,
                lifted_by: None,
            })
            .collect(),
        finding: Finding {
            decision: Decision::Blocked,
            prefix,
            reason: format!("Blocked for 12 hours: {reason}"),
            until: Some(until),
        },
        retry_after: seconds_until(until, now),
    })
}

fn seconds_until(until: Millis, now: Millis) -> i64 {
    ((until - now).max(0) + 999) / 1000
}
