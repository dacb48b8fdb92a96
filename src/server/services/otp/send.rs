//! Send an OTP: check the command against the account, protect the destination, then store the
//! OTP with its code's HMAC, its sealed code and its first delivery job in one transaction (or,
//! when a named limit is full, record it as `blocked`), and answer.
use super::{fraud, protection, OtpError, OtpField, OtpResult, OtpService};
use crate::domain::code::{self, CodeType};
use crate::domain::destination::Destination;
use crate::domain::otp::{self as rules, CodeHash, SendReceipt, Voice};
use crate::domain::phone::PhoneDestination;
use crate::domain::protection::Protection;
use crate::domain::settings::{AllowedCountries, Effective};
use crate::domain::{AccountStatus, Channel, EmailAddress, OtpSid, Problem, Workflow};
use crate::server::crypto;
use crate::server::db::limits::Charge;
use crate::server::db::otps::send::{self as store, FraudWrite, NewOtp, SendWrite, Written};
use crate::server::metrics;
use crate::server::services::{settings, AccountScope};

/// What to send. Values are parsed already; what is left out takes the defaults.
#[derive(Debug, Clone, Default)]
pub struct SendCommand {
    pub service: String,
    /// The channels to try in order; default SMS only.
    pub workflow: Option<Workflow>,
    pub workflow_timeout_secs: Option<i64>,
    pub to: Option<PhoneDestination>,
    pub from: Option<String>,
    pub email_to: Option<EmailAddress>,
    pub email_from: Option<EmailAddress>,
    pub subject: Option<String>,
    /// A message text with `{code}`, instead of the template.
    pub body: Option<String>,
    pub language: Option<String>,
    pub voice: Option<Voice>,
    pub repeat: Option<i64>,
    pub code_length: Option<usize>,
    pub code_type: Option<CodeType>,
    /// A code the caller chose, instead of a generated one.
    pub code: Option<String>,
    pub expiry_secs: Option<i64>,
    pub max_attempts: Option<i64>,
    /// Keep the destination's other active OTPs of the service (default: they are superseded).
    pub keep_old_otp_active: Option<bool>,
    /// Named limits to charge: (limit name, key).
    pub limits: Vec<(String, String)>,
    pub status_callback: Option<String>,
    pub reference: Option<String>,
}

/// An `Idempotency-Key` and a fingerprint of the request it came with.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    pub key: String,
    pub request_hash: String,
}

/// How a send ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendResult {
    /// Accepted: the OTP is `pending` and its delivery is queued.
    Accepted(SendReceipt),
    /// Refused by a named limit or the fraud guard: recorded as `blocked`, never delivered.
    Blocked(SendReceipt),
    /// The same `Idempotency-Key` was used in the last 24 hours: what that request got.
    Replayed(SendReceipt),
}

impl SendResult {
    pub fn receipt(&self) -> &SendReceipt {
        match self {
            SendResult::Accepted(r) | SendResult::Blocked(r) | SendResult::Replayed(r) => r,
        }
    }

    pub fn request_id(&self) -> &OtpSid {
        match self.receipt() {
            SendReceipt::Accepted { request_id, .. }
            | SendReceipt::Blocked { request_id, .. }
            | SendReceipt::FraudBlocked { request_id, .. } => request_id,
        }
    }
}

pub async fn send(
    svc: &OtpService,
    scope: &AccountScope,
    cmd: SendCommand,
    idempotency: Option<IdempotencyKey>,
) -> OtpResult<SendResult> {
    let sent = send_once(svc, scope, cmd, idempotency).await;
    if let Err(e) = &sent {
        metrics::otp_send_refused(refusal_reason(e));
    }
    sent
}

/// The reason label of a refused send (a closed set).
fn refusal_reason(e: &OtpError) -> &'static str {
    match e {
        OtpError::TooManySends { .. } => "protection",
        OtpError::CountryNotAllowed { .. } => "country",
        OtpError::UnknownLimit(_) => "unknown_limit",
        OtpError::Invalid { .. } => "invalid",
        OtpError::Denied(_) | OtpError::AccountInactive { .. } => "denied",
        OtpError::IdempotencyKeyReused => "idempotency_key_reused",
        OtpError::Internal(_) => "internal",
        _ => "other",
    }
}

async fn send_once(
    svc: &OtpService,
    scope: &AccountScope,
    cmd: SendCommand,
    idempotency: Option<IdempotencyKey>,
) -> OtpResult<SendResult> {
    ensure_can_send(scope)?;
    let settings::ForSend {
        defaults,
        countries,
        fraud: fraud_settings,
    } = settings::for_send(svc.db(), scope.account(), svc.server_countries()).await?;
    let plan = Plan::of(cmd, &defaults)?;
    if let Some(key) = &idempotency {
        if let Some(found) = replay(svc, scope, key).await? {
            metrics::otp_send(plan.workflow.first(), "replayed");
            return Ok(SendResult::Replayed(found));
        }
    }
    // Before anything is charged.
    plan.check_country(&countries)?;
    let charges = resolve_limits(svc, scope, &plan.cmd.limits).await?;
    let now = svc.now();
    // Destination protection is checked by the write itself (in its transaction, so it is
    // exact): only a refused send reads the destination's history, to say when to retry.
    let verdict = match &plan.cmd.to {
        Some(phone) => {
            fraud::check(
                svc,
                scope.sid(),
                &fraud_settings,
                &plan.workflow,
                phone,
                now,
            )
            .await?
        }
        None => fraud::Verdict::Pass,
    };
    let (otp, sealed) = plan.new_otp(svc, scope, now);
    let accepted = receipt(&otp);
    let fraud_write = fraud_write(&verdict, &otp.sid);
    let written = write(
        svc,
        &plan,
        (&otp, &sealed),
        &charges,
        &idempotency,
        &accepted,
        fraud_write.as_ref(),
    )
    .await?;
    match written {
        Written::Accepted => {
            svc.signals().jobs_committed();
            metrics::otp_send(otp.workflow.first(), "accepted");
            tracing::info!(request_id = %otp.sid, account = %scope.sid(), channel = otp.workflow.first().as_str(), "otp accepted");
            Ok(SendResult::Accepted(accepted))
        }
        Written::Blocked(refusal) => {
            metrics::otp_send(otp.workflow.first(), "blocked_limit");
            tracing::info!(request_id = %otp.sid, account = %scope.sid(), "otp blocked by a limit");
            Ok(SendResult::Blocked(SendReceipt::Blocked {
                request_id: otp.sid,
                limit: refusal.limit.clone(),
                bucket: refusal.bucket.clone(),
                retry_after: refusal.retry_after(),
            }))
        }
        // The destination's sends fill a window (also those committed a moment ago).
        Written::TooManySends => {
            protection::check(svc, scope.sid(), &plan.destination, plan.protection, now).await?;
            Err(protection::refused_now(plan.protection))
        }
        Written::FraudBlocked => {
            let receipt = verdict
                .receipt(&otp.sid)
                .ok_or_else(|| anyhow::anyhow!("fraud block without a verdict"))?;
            metrics::otp_send(otp.workflow.first(), "blocked_fraud");
            tracing::warn!(request_id = %otp.sid, account = %scope.sid(), "otp blocked by the fraud guard");
            Ok(SendResult::Blocked(receipt))
        }
        // Another request with this key won the race: answer what it answered.
        Written::Replay => match idempotency.as_ref() {
            Some(key) => replay(svc, scope, key)
                .await?
                .map(|found| {
                    metrics::otp_send(otp.workflow.first(), "replayed");
                    SendResult::Replayed(found)
                })
                .ok_or_else(|| anyhow::anyhow!("idempotency record vanished").into()),
            None => Err(anyhow::anyhow!("replay without an idempotency key").into()),
        },
    }
}

/// A parent may still read a suspended or closed sub-account's history, but not send for it
/// (its own credentials are refused altogether).
fn ensure_can_send(scope: &AccountScope) -> OtpResult<()> {
    let account = scope.account();
    if account.status != AccountStatus::Active {
        return Err(OtpError::AccountInactive {
            account: account.sid.clone(),
            status: account.status,
        });
    }
    Ok(())
}

/// The command with its defaults and the rules that span fields applied.
struct Plan {
    cmd: SendCommand,
    workflow: Workflow,
    destination: Destination,
    code_length: usize,
    /// The destination's protection (the account's defaults).
    protection: Protection,
}

impl Plan {
    /// The command with what it leaves out taken from the account's defaults.
    fn of(mut cmd: SendCommand, defaults: &Effective) -> OtpResult<Plan> {
        let workflow = cmd
            .workflow
            .take()
            .unwrap_or_else(|| defaults.workflow.value.clone());
        cmd.code_length.get_or_insert(defaults.code_length.value);
        cmd.code_type.get_or_insert(defaults.code_type.value);
        cmd.expiry_secs.get_or_insert(defaults.expiry_secs.value);
        cmd.max_attempts.get_or_insert(defaults.max_attempts.value);
        cmd.keep_old_otp_active
            .get_or_insert(defaults.keep_old_otp_active.value);
        if cmd.language.is_none() {
            cmd.language = Some(defaults.language.value.clone());
        }
        if cmd.status_callback.is_none() {
            cmd.status_callback = defaults.status_callback.value.clone();
        }
        check(&cmd, &workflow)?;
        let destination = match (&cmd.to, &cmd.email_to) {
            (Some(p), _) => Destination::Phone(p.clone()),
            (None, Some(e)) => Destination::Email(e.clone()),
            (None, None) => unreachable!("every workflow needs a phone or an email destination"),
        };
        // A caller's own code sets the length.
        let code_length = match &cmd.code {
            Some(c) => c.len(),
            None => cmd.code_length.unwrap_or(rules::DEFAULT_CODE_LENGTH),
        };
        Ok(Plan {
            cmd,
            workflow,
            destination,
            code_length,
            protection: defaults.protection(),
        })
    }

    /// A phone channel of the workflow may not send to the destination's country: 7011.
    fn check_country(&self, allowed: &AllowedCountries) -> OtpResult<()> {
        let Destination::Phone(phone) = &self.destination else {
            return Ok(());
        };
        match allowed.refuses(self.workflow.channels(), phone.country()) {
            Some(channel) => Err(OtpError::CountryNotAllowed {
                channel,
                country: phone.country().unwrap_or_default().to_owned(),
            }),
            None => Ok(()),
        }
    }

    /// The OTP to store, and its code sealed for delivery (the code itself is dropped here).
    fn new_otp(&self, svc: &OtpService, scope: &AccountScope, now: i64) -> (NewOtp, String) {
        let c = &self.cmd;
        let sid = OtpSid::generate();
        let code_type = c.code_type.unwrap_or_default();
        let the_code = c
            .code
            .clone()
            .unwrap_or_else(|| generate_code(self.code_length, code_type));
        let code_hash = CodeHash(crypto::code_hmac(svc.code_key(), sid.as_str(), &the_code));
        let sealed = crypto::seal(svc.code_key(), sid.as_str(), &the_code);
        drop(the_code);
        let mut limits = c.limits.clone();
        limits.sort();
        let otp = NewOtp {
            sid,
            account_sid: scope.sid().clone(),
            service: c.service.clone(),
            reference: c.reference.clone(),
            workflow: self.workflow.clone(),
            workflow_timeout_secs: c
                .workflow_timeout_secs
                .unwrap_or(rules::DEFAULT_WORKFLOW_TIMEOUT_SECS),
            to: c.to.as_ref().map(|t| t.as_str().to_owned()),
            from: c.from.clone(),
            email_to: c.email_to.as_ref().map(|e| e.as_str().to_owned()),
            email_from: c.email_from.as_ref().map(|e| e.as_str().to_owned()),
            subject: c.subject.clone(),
            body: c.body.clone(),
            country_code: c.to.as_ref().and_then(|t| t.country()).map(str::to_owned),
            language: c
                .language
                .clone()
                .unwrap_or_else(|| rules::DEFAULT_LANGUAGE.to_owned()),
            voice: c.voice.unwrap_or_default(),
            repeat: c.repeat.unwrap_or(rules::DEFAULT_REPEAT),
            code_hash,
            code_length: self.code_length as i64,
            code_type,
            expires_at: now + c.expiry_secs.unwrap_or(rules::DEFAULT_EXPIRY_SECS) * 1000,
            max_attempts: c.max_attempts.unwrap_or(rules::DEFAULT_MAX_ATTEMPTS),
            status_callback: c.status_callback.clone(),
            limits,
            date_created: now,
        };
        (otp, sealed)
    }
}

/// The rules that span a command's fields: the destinations its channels need, how many limits.
fn check(cmd: &SendCommand, workflow: &Workflow) -> OtpResult<()> {
    if workflow.uses_phone() && cmd.to.is_none() {
        return Err(OtpError::Invalid {
            field: OtpField::To,
            problem: Problem::says(
                "is required for sms and call: an E.164 number like +14155550100.",
            ),
        });
    }
    if workflow.uses_email() && cmd.email_to.is_none() {
        return Err(OtpError::Invalid {
            field: OtpField::EmailTo,
            problem: Problem::says("is required for the email channel."),
        });
    }
    // A call's language and voice must be ones a speech engine can say (refused now, not
    // discovered on the call).
    if workflow.channels().contains(&Channel::Call) {
        let language = cmd.language.as_deref().unwrap_or(rules::DEFAULT_LANGUAGE);
        crate::domain::voice::parse(language, cmd.voice.unwrap_or_default()).map_err(
            |problem| OtpError::Invalid {
                field: OtpField::Language,
                problem,
            },
        )?;
    }
    if cmd.limits.len() > rules::MAX_LIMITS_PER_SEND {
        return Err(OtpError::Invalid {
            field: OtpField::Limits,
            problem: Problem::says(format!(
                "may name at most {} limits.",
                rules::MAX_LIMITS_PER_SEND
            )),
        });
    }
    Ok(())
}

/// A fresh code from the operating system's random source, drawn without bias.
fn generate_code(len: usize, kind: CodeType) -> String {
    let mut bytes = crypto::random_bytes::<64>().into_iter();
    // 64 random bytes are far more than any code needs; refill if ever exhausted.
    let mut fresh = || {
        bytes
            .next()
            .unwrap_or_else(|| crypto::random_bytes::<1>()[0])
    };
    code::generate(len, kind, &mut fresh)
}

/// The answer of an accepted send.
fn receipt(otp: &NewOtp) -> SendReceipt {
    SendReceipt::Accepted {
        request_id: otp.sid.clone(),
        channel: otp.workflow.first(),
        to: otp.to.clone(),
        email_to: otp.email_to.clone(),
        expires_at: otp.expires_at,
        attempts_left: otp.max_attempts,
    }
}

/// What the store records of the guard's verdict.
fn fraud_write(verdict: &fraud::Verdict, sid: &OtpSid) -> Option<FraudWrite> {
    match verdict {
        fraud::Verdict::Pass => None,
        fraud::Verdict::Note(finding) => Some(FraudWrite {
            event: finding.event(),
            refused: None,
        }),
        fraud::Verdict::Refuse {
            finding,
            new_blocks,
            ..
        } => Some(FraudWrite {
            event: finding.event(),
            refused: verdict.receipt(sid).map(|r| (r, new_blocks.clone())),
        }),
    }
}

async fn write(
    svc: &OtpService,
    plan: &Plan,
    (otp, sealed): (&NewOtp, &str),
    charges: &[Charge],
    idempotency: &Option<IdempotencyKey>,
    accepted: &SendReceipt,
    fraud: Option<&FraudWrite>,
) -> OtpResult<Written> {
    let supersede = (!plan.cmd.keep_old_otp_active.unwrap_or(false)).then_some(&plan.destination);
    let w = SendWrite {
        otp,
        sealed_code: sealed,
        supersede,
        charges,
        idempotency: idempotency
            .as_ref()
            .map(|k| (k.key.as_str(), k.request_hash.as_str())),
        accepted,
        fraud,
        protection: Some((&plan.destination, plan.protection)),
    };
    Ok(store::write(svc.db(), &w).await?)
}

/// The stored answer for an idempotency key used within 24 h, if any.
async fn replay(
    svc: &OtpService,
    scope: &AccountScope,
    key: &IdempotencyKey,
) -> OtpResult<Option<SendReceipt>> {
    use crate::server::db::idempotency;
    let cutoff = svc.now() - 24 * 60 * 60 * 1000;
    let Some(found) = idempotency::find(svc.db(), scope.sid(), &key.key).await? else {
        return Ok(None);
    };
    if found.date_created <= cutoff {
        // Expired key: forget it and treat the request as new.
        idempotency::forget_if_older(svc.db(), scope.sid(), &key.key, cutoff).await?;
        return Ok(None);
    }
    if found.request_hash != key.request_hash {
        return Err(OtpError::IdempotencyKeyReused);
    }
    Ok(Some(found.receipt))
}

/// The named limits of a send as charges, in (limit, key) order (so concurrent sends lock them
/// in one order). An unknown name is refused.
async fn resolve_limits(
    svc: &OtpService,
    scope: &AccountScope,
    named: &[(String, String)],
) -> OtpResult<Vec<Charge>> {
    let mut out = Vec::with_capacity(named.len());
    for (name, key) in named {
        if key.is_empty() || key.chars().count() > 256 {
            return Err(OtpError::Invalid {
                field: OtpField::Limits,
                problem: Problem::sentence(format!(
                    "The key for limit {name:?} must be 1–256 characters."
                )),
            });
        }
        let limit = crate::server::db::limits::find_by_name(svc.db(), scope.sid(), name)
            .await?
            .ok_or_else(|| OtpError::UnknownLimit(name.clone()))?;
        out.push(Charge {
            limit_sid: limit.sid,
            name: limit.name,
            key: key.clone(),
            buckets: limit.buckets,
        });
    }
    out.sort_by(|a, b| (&a.limit_sid, &a.key).cmp(&(&b.limit_sid, &b.key)));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::clock::SystemClock;
    use std::sync::Arc;

    fn svc() -> OtpService {
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .connect_lazy("sqlite::memory:")
            .unwrap();
        OtpService::new(
            crate::server::db::Db::Sqlite(pool),
            Arc::new(SystemClock),
            vec![7; 32],
            Default::default(),
        )
    }

    fn scope() -> AccountScope {
        AccountScope::authenticated(crate::server::services::scope::Account {
            sid: crate::domain::AccountSid::parse(&format!("AC{}", "a".repeat(32))).unwrap(),
            parent_sid: None,
            friendly_name: "A".into(),
            status: AccountStatus::Active,
            date_created: 0,
            date_updated: 0,
        })
    }

    fn to(raw: &str) -> Option<PhoneDestination> {
        Some(PhoneDestination::parse(raw).unwrap())
    }

    fn builtin() -> Effective {
        Effective::resolve(&Default::default(), None)
    }

    #[tokio::test]
    async fn defaults() {
        let cmd = SendCommand {
            service: "MyApp".into(),
            to: to("+14155550100"),
            ..Default::default()
        };
        let plan = Plan::of(cmd, &builtin()).unwrap();
        let (otp, sealed) = plan.new_otp(&svc(), &scope(), 1_000);
        assert_eq!(otp.workflow, Workflow::single(Channel::Sms));
        assert_eq!(
            (
                otp.code_length,
                otp.expires_at,
                otp.max_attempts,
                otp.repeat
            ),
            (6, 601_000, 5, 2)
        );
        assert_eq!((otp.language.as_str(), otp.voice), ("en-US", Voice::Woman));
        assert_eq!(otp.country_code.as_deref(), Some("US"));
        assert_eq!(otp.code_type, CodeType::Numeric);
        // Only a keyed hash and a seal of the code are kept.
        let code = crypto::open(&[7; 32], otp.sid.as_str(), &sealed).unwrap();
        assert_eq!(code.len(), 6);
        assert!(crypto::code_matches(
            &[7; 32],
            otp.sid.as_str(),
            &code,
            &otp.code_hash.0
        ));
    }

    #[test]
    fn rules_that_span_fields_name_their_field() {
        let needs = |workflow: Vec<Channel>, cmd: SendCommand| {
            let w = Workflow::new(workflow).unwrap();
            match check(&cmd, &w) {
                Err(OtpError::Invalid { field, .. }) => Some(field),
                Ok(()) => None,
                Err(other) => panic!("{other:?}"),
            }
        };
        let base = SendCommand {
            service: "x".into(),
            ..Default::default()
        };
        assert_eq!(needs(vec![Channel::Sms], base.clone()), Some(OtpField::To));
        assert_eq!(
            needs(vec![Channel::Email], base.clone()),
            Some(OtpField::EmailTo)
        );
        let both = SendCommand {
            to: to("+14155550100"),
            email_to: Some(EmailAddress::parse("a@example.com").unwrap()),
            ..base.clone()
        };
        assert_eq!(
            needs(vec![Channel::Sms, Channel::Email], both.clone()),
            None
        );
        let many = SendCommand {
            limits: (0..6).map(|i| (format!("l{i}"), "k".to_owned())).collect(),
            ..both
        };
        assert_eq!(needs(vec![Channel::Sms], many), Some(OtpField::Limits));
    }

    #[test]
    fn a_callers_code_sets_the_length() {
        let cmd = SendCommand {
            service: "x".into(),
            to: to("+14155550100"),
            code: Some("AB12".into()),
            code_length: Some(8),
            ..Default::default()
        };
        assert_eq!(Plan::of(cmd, &builtin()).unwrap().code_length, 4);
    }
}
