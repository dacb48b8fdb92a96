//! Delivery providers: an account's own (create, change, delete, list), which ones deliver a
//! message (routing), and a test message through one of them. Secrets are sealed before they
//! reach the database and never come back out of this module except to the provider itself.
use super::{AccountScope, ServiceError};
use crate::domain::ids::ProviderSid;
use crate::domain::provider::{
    parse_config, parse_name, ConfigInput, CpaasConfig, HttpGatewayConfig, ProviderConfig,
    ProviderKind, ProviderSetup, SmtpConfig,
};
use crate::domain::{AccountSid, Channel, ErrorCode, Problem, Secret};
use crate::server::clock::Clock;
use crate::server::config::DefaultProvider;
use crate::server::crypto;
use crate::server::db::providers::{self as store, StoredProvider, WriteError};
use crate::server::db::Db;
use crate::server::outbound::Outbound;
use crate::server::providers::{ProviderRegistry, Recipient};
use anyhow::Context;
use serde::{Deserialize, Serialize};

/// A field of a provider, as the API names it (config fields by their key: `baseUrl`…).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderField {
    Kind,
    Name,
    Channels,
    Countries,
    Priority,
    Config(&'static str),
    /// The destination of a test message.
    To,
}

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("invalid {field:?}: {problem:?}")]
    Invalid {
        field: ProviderField,
        problem: Problem,
    },
    #[error("a provider with this name exists")]
    DuplicateName,
    #[error("provider not found")]
    NotFound,
    #[error("{0}")]
    Denied(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ProviderError {
    fn invalid(field: ProviderField, problem: Problem) -> Self {
        ProviderError::Invalid { field, problem }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            ProviderError::Invalid { problem, .. } => problem.code(),
            ProviderError::DuplicateName => ErrorCode::DuplicateName,
            ProviderError::NotFound => ErrorCode::NotFound,
            ProviderError::Denied(_) => ErrorCode::Forbidden,
            ProviderError::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl From<ServiceError> for ProviderError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Rule {
                code: ErrorCode::Forbidden,
                message,
                ..
            } => ProviderError::Denied(message),
            ServiceError::Rule { code, message, .. } => {
                ProviderError::Internal(anyhow::anyhow!("unexpected rule {code:?}: {message}"))
            }
            ServiceError::Internal(e) => ProviderError::Internal(e),
        }
    }
}

pub type ProviderResult<T> = Result<T, ProviderError>;

/// What a provider should be (create) or become (change: the whole resource is replaced, but
/// secrets left empty keep their current value).
#[derive(Debug, Clone)]
pub struct ProviderInput {
    pub kind: ProviderKind,
    pub name: String,
    pub channels: Vec<Channel>,
    pub countries: Vec<String>,
    pub priority: i64,
    pub enabled: bool,
    pub config: ConfigInput,
}

/// What the services need besides the database: the key secrets are sealed with, the
/// outbound guard provider URLs must pass, and the registry that caches who delivers what
/// (told of every change).
pub struct Keys<'a> {
    pub seal_key: &'a [u8],
    pub outbound: &'a Outbound,
    pub registry: &'a ProviderRegistry,
}

// ---- storage: settings as JSON, secrets sealed --------------------------------------------

#[derive(Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct StoredConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    base_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    account_sid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    messaging_service_sid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    method: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    header_names: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    body_template: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    message_id_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    security: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    from_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    from_name: Option<String>,
}

#[derive(Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct StoredSecrets {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    auth_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    password: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    header_values: Vec<String>,
}

fn seal_context(sid: &str) -> String {
    format!("provider:{sid}")
}

fn encode(config: &ProviderConfig) -> (StoredConfig, StoredSecrets) {
    let mut c = StoredConfig::default();
    let mut s = StoredSecrets::default();
    match config {
        ProviderConfig::Sandbox => {}
        ProviderConfig::Twilio(p) | ProviderConfig::Restcomm(p) => {
            c.base_url = Some(p.base_url.clone());
            c.account_sid = Some(p.account_sid.clone());
            c.from = p.from.clone();
            c.messaging_service_sid = p.messaging_service_sid.clone();
            s.auth_token = Some(p.auth_token.expose().to_owned());
        }
        ProviderConfig::Http(p) => {
            c.url = Some(p.url.clone());
            c.method = Some(p.method.clone());
            c.header_names = p.headers.iter().map(|(n, _)| n.clone()).collect();
            s.header_values = p
                .headers
                .iter()
                .map(|(_, v)| v.expose().to_owned())
                .collect();
            c.content_type = Some(p.content_type.as_str().into());
            c.body_template = Some(p.body_template.clone());
            c.message_id_path = p.message_id_path.clone();
        }
        ProviderConfig::Smtp(p) => {
            c.host = Some(p.host.clone());
            c.port = Some(p.port);
            c.security = Some(p.security.as_str().into());
            c.username = p.username.clone();
            s.password = p.password.as_ref().map(|p| p.expose().to_owned());
            c.from_address = Some(p.from_address.clone());
            c.from_name = p.from_name.clone();
        }
        ProviderConfig::Webhook(p) => c.url = Some(p.url.clone()),
    }
    (c, s)
}

fn decode(kind: ProviderKind, c: StoredConfig, s: StoredSecrets) -> anyhow::Result<ProviderConfig> {
    use crate::domain::provider::{BodyEncoding, SmtpSecurity, WebhookConfig};
    let need = |v: Option<String>, what: &str| {
        v.with_context(|| format!("stored provider without {what}"))
    };
    Ok(match kind {
        ProviderKind::Sandbox => ProviderConfig::Sandbox,
        ProviderKind::Twilio | ProviderKind::Restcomm => {
            let p = CpaasConfig {
                base_url: need(c.base_url, "baseUrl")?,
                account_sid: need(c.account_sid, "accountSid")?,
                auth_token: Secret(s.auth_token.unwrap_or_default()),
                from: c.from,
                messaging_service_sid: c.messaging_service_sid,
            };
            if kind == ProviderKind::Twilio {
                ProviderConfig::Twilio(p)
            } else {
                ProviderConfig::Restcomm(p)
            }
        }
        ProviderKind::Http => ProviderConfig::Http(HttpGatewayConfig {
            url: need(c.url, "url")?,
            method: c.method.unwrap_or_else(|| "POST".into()),
            headers: c
                .header_names
                .into_iter()
                .zip(s.header_values.into_iter().map(Secret))
                .collect(),
            content_type: if c.content_type.as_deref() == Some("form") {
                BodyEncoding::Form
            } else {
                BodyEncoding::Json
            },
            body_template: c.body_template.unwrap_or_default(),
            message_id_path: c.message_id_path,
        }),
        ProviderKind::Smtp => ProviderConfig::Smtp(SmtpConfig {
            host: need(c.host, "host")?,
            port: c.port.unwrap_or(587),
            security: c
                .security
                .as_deref()
                .and_then(SmtpSecurity::parse)
                .unwrap_or(SmtpSecurity::Starttls),
            username: c.username,
            password: s.password.map(Secret),
            from_address: need(c.from_address, "fromAddress")?,
            from_name: c.from_name,
        }),
        ProviderKind::Webhook => ProviderConfig::Webhook(WebhookConfig {
            url: need(c.url, "url")?,
        }),
    })
}

fn to_stored(
    p: &ProviderSetup,
    account: &AccountSid,
    seal_key: &[u8],
) -> anyhow::Result<StoredProvider> {
    let (config, secrets) = encode(&p.config);
    let secrets = serde_json::to_string(&secrets)?;
    Ok(StoredProvider {
        sid: p.sid.to_string(),
        account_sid: account.to_string(),
        kind: p.kind().as_str().into(),
        name: p.name.clone(),
        channels: p
            .channels
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(","),
        countries: p.countries.join(","),
        priority: p.priority as i32,
        enabled: i32::from(p.enabled),
        config: serde_json::to_string(&config)?,
        secrets: crypto::seal(seal_key, &seal_context(p.sid.as_str()), &secrets),
        date_created: p.date_created,
        date_updated: p.date_updated,
    })
}

fn from_stored(r: StoredProvider, seal_key: &[u8]) -> anyhow::Result<ProviderSetup> {
    let kind = ProviderKind::parse(&r.kind)
        .with_context(|| format!("stored provider kind {:?}", r.kind))?;
    let secrets: StoredSecrets = if r.secrets.is_empty() {
        StoredSecrets::default()
    } else {
        let opened = crypto::open(seal_key, &seal_context(&r.sid), &r.secrets)
            .context("a provider's secrets do not open with this server's key")?;
        serde_json::from_str(&opened)?
    };
    let config: StoredConfig = serde_json::from_str(&r.config)?;
    Ok(ProviderSetup {
        sid: ProviderSid::parse(&r.sid).context("stored provider sid")?,
        account_sid: Some(AccountSid::parse(&r.account_sid).context("stored account sid")?),
        name: r.name,
        channels: r.channels.split(',').filter_map(Channel::parse).collect(),
        countries: r
            .countries
            .split(',')
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect(),
        priority: i64::from(r.priority),
        enabled: r.enabled != 0,
        config: decode(kind, config, secrets)?,
        date_created: r.date_created,
        date_updated: r.date_updated,
    })
}

// ---- validation ---------------------------------------------------------------------------

fn secret_missing(config: &ProviderConfig) -> Option<&'static str> {
    match config {
        ProviderConfig::Twilio(c) | ProviderConfig::Restcomm(c)
            if c.auth_token.expose().is_empty() =>
        {
            Some("authToken")
        }
        ProviderConfig::Smtp(c) if c.password.as_ref().is_some_and(|p| p.expose().is_empty()) => {
            Some("password")
        }
        _ => None,
    }
}

/// A new configuration's secrets left empty take the current ones.
fn keep_secrets(new: &mut ProviderConfig, current: &ProviderConfig) {
    match (new, current) {
        (ProviderConfig::Twilio(n), ProviderConfig::Twilio(c))
        | (ProviderConfig::Restcomm(n), ProviderConfig::Restcomm(c))
            if n.auth_token.expose().is_empty() =>
        {
            n.auth_token = c.auth_token.clone();
        }
        (ProviderConfig::Smtp(n), ProviderConfig::Smtp(c))
            if n.password.as_ref().is_some_and(|p| p.expose().is_empty()) =>
        {
            n.password = c.password.clone();
        }
        (ProviderConfig::Http(n), ProviderConfig::Http(c)) => {
            for (name, value) in n.headers.iter_mut() {
                if value.expose().is_empty() {
                    if let Some((_, old)) =
                        c.headers.iter().find(|(o, _)| o.eq_ignore_ascii_case(name))
                    {
                        *value = old.clone();
                    }
                }
            }
        }
        _ => {}
    }
}

/// Checks a provider and its connections; `current` when it replaces one.
async fn validated(
    keys: &Keys<'_>,
    input: ProviderInput,
    current: Option<&ProviderSetup>,
) -> ProviderResult<(String, ProviderConfig, ProviderInput)> {
    if input.kind == ProviderKind::Sandbox {
        return Err(ProviderError::invalid(
            ProviderField::Kind,
            Problem::says(
                "must be twilio, restcomm, http, smtp or webhook (every account has the sandbox).",
            ),
        ));
    }
    let name =
        parse_name(&input.name).map_err(|p| ProviderError::invalid(ProviderField::Name, p))?;
    if input.channels.is_empty() {
        return Err(ProviderError::invalid(
            ProviderField::Channels,
            Problem::Required,
        ));
    }
    if let Some(c) = input
        .channels
        .iter()
        .find(|c| !input.kind.channels().contains(c))
    {
        return Err(ProviderError::invalid(
            ProviderField::Channels,
            Problem::says(format!(
                "{} cannot deliver {} (it delivers {}).",
                input.kind,
                c,
                input
                    .kind
                    .channels()
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        ));
    }
    if let Some(bad) = input
        .countries
        .iter()
        .find(|c| c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()))
    {
        return Err(ProviderError::invalid(
            ProviderField::Countries,
            Problem::says(format!(
                "must be ISO 3166 alpha-2 codes like GB (got {bad:?})."
            )),
        ));
    }
    if !(0..=1000).contains(&input.priority) {
        return Err(ProviderError::invalid(
            ProviderField::Priority,
            Problem::Range { min: 0, max: 1000 },
        ));
    }
    let mut config = parse_config(input.kind, &input.config)
        .map_err(|(key, p)| ProviderError::invalid(ProviderField::Config(key), p))?;
    if let Some(current) = current {
        keep_secrets(&mut config, &current.config);
    }
    if let Some(key) = secret_missing(&config) {
        return Err(ProviderError::invalid(
            ProviderField::Config(key),
            Problem::Required,
        ));
    }
    // Where it makes us connect: refused when it is internal (unless the operator allows it).
    for url in config.urls() {
        let field = match config.kind() {
            ProviderKind::Twilio | ProviderKind::Restcomm => "baseUrl",
            _ => "url",
        };
        keys.outbound.check_url(url).await.map_err(|e| {
            ProviderError::invalid(ProviderField::Config(field), Problem::says(e.to_string()))
        })?;
    }
    if let ProviderConfig::Smtp(s) = &config {
        keys.outbound
            .check_host(&s.host, s.port)
            .await
            .map_err(|e| {
                ProviderError::invalid(ProviderField::Config("host"), Problem::says(e.to_string()))
            })?;
    }
    Ok((name, config, input))
}

// ---- use cases ----------------------------------------------------------------------------

/// At most this many providers per account.
pub const MAX_PER_ACCOUNT: i64 = 50;

pub async fn create(
    db: &Db,
    clock: &dyn Clock,
    keys: &Keys<'_>,
    scope: &AccountScope,
    input: ProviderInput,
) -> ProviderResult<ProviderSetup> {
    let (name, config, input) = validated(keys, input, None).await?;
    if store::count(db, scope.sid()).await? >= MAX_PER_ACCOUNT {
        return Err(ProviderError::Denied(format!(
            "An account has at most {MAX_PER_ACCOUNT} providers."
        )));
    }
    let now = clock.now_ms();
    let p = ProviderSetup {
        sid: ProviderSid::generate(),
        account_sid: Some(scope.sid().clone()),
        name,
        channels: input.channels,
        countries: input.countries,
        priority: input.priority,
        enabled: input.enabled,
        config,
        date_created: now,
        date_updated: now,
    };
    store::insert(db, &to_stored(&p, scope.sid(), keys.seal_key)?)
        .await
        .map_err(write_error)?;
    keys.registry.forget_setups();
    Ok(p)
}

fn write_error(e: WriteError) -> ProviderError {
    match e {
        WriteError::DuplicateName => ProviderError::DuplicateName,
        WriteError::Db(e) => ProviderError::Internal(e),
    }
}

pub async fn get(
    db: &Db,
    seal_key: &[u8],
    scope: &AccountScope,
    sid: &str,
) -> ProviderResult<ProviderSetup> {
    let row = store::find(db, scope.sid(), sid.trim())
        .await?
        .ok_or(ProviderError::NotFound)?;
    Ok(from_stored(row, seal_key)?)
}

/// Replaces a provider (secrets left empty keep their value).
pub async fn update(
    db: &Db,
    clock: &dyn Clock,
    keys: &Keys<'_>,
    scope: &AccountScope,
    sid: &str,
    input: ProviderInput,
) -> ProviderResult<ProviderSetup> {
    let current = get(db, keys.seal_key, scope, sid).await?;
    let (name, config, input) = validated(keys, input, Some(&current)).await?;
    let p = ProviderSetup {
        name,
        channels: input.channels,
        countries: input.countries,
        priority: input.priority,
        enabled: input.enabled,
        config,
        date_updated: clock.now_ms(),
        ..current
    };
    store::update(db, &to_stored(&p, scope.sid(), keys.seal_key)?)
        .await
        .map_err(write_error)?;
    keys.registry.forget_setups();
    Ok(p)
}

pub async fn delete(
    db: &Db,
    keys: &Keys<'_>,
    scope: &AccountScope,
    sid: &str,
) -> ProviderResult<()> {
    if store::delete(db, scope.sid(), sid.trim()).await? {
        keys.registry.forget_setups();
        Ok(())
    } else {
        Err(ProviderError::NotFound)
    }
}

/// Moves a provider one place earlier (`earlier`) or later in the account's order; the
/// account's providers are renumbered 10, 20, 30… in the new order. Answers the new order.
pub async fn reorder(
    db: &Db,
    clock: &dyn Clock,
    keys: &Keys<'_>,
    scope: &AccountScope,
    sid: &str,
    earlier: bool,
) -> ProviderResult<Vec<ProviderSetup>> {
    let mut all = list(db, keys.seal_key, scope).await?;
    let at = all
        .iter()
        .position(|p| p.sid.as_str() == sid.trim())
        .ok_or(ProviderError::NotFound)?;
    let to = if earlier {
        at.checked_sub(1)
    } else {
        Some(at + 1).filter(|i| *i < all.len())
    };
    let Some(to) = to else {
        return Ok(all);
    };
    all.swap(at, to);
    let priorities: Vec<(String, i32)> = all
        .iter()
        .enumerate()
        .map(|(i, p)| (p.sid.to_string(), (i as i32 + 1) * 10))
        .collect();
    let now = clock.now_ms();
    store::set_priorities(db, scope.sid(), &priorities, now).await?;
    keys.registry.forget_setups();
    for (p, (_, priority)) in all.iter_mut().zip(&priorities) {
        p.priority = i64::from(*priority);
        p.date_updated = now;
    }
    Ok(all)
}

/// The account's providers, in the order they are tried (priority, then name).
pub async fn list(
    db: &Db,
    seal_key: &[u8],
    scope: &AccountScope,
) -> ProviderResult<Vec<ProviderSetup>> {
    let rows = store::of_accounts(db, &[scope.sid().as_str()]).await?;
    Ok(rows
        .into_iter()
        .map(|r| from_stored(r, seal_key))
        .collect::<anyhow::Result<_>>()?)
}

/// The provider a receipt names, whichever account it is (or a server default).
pub async fn by_sid(
    db: &Db,
    seal_key: &[u8],
    defaults: &[ProviderSetup],
    sid: &str,
) -> anyhow::Result<Option<ProviderSetup>> {
    if let Some(d) = defaults.iter().find(|d| d.sid.as_str() == sid) {
        return Ok(Some(d.clone()));
    }
    store::get(db, sid)
        .await?
        .map(|r| from_stored(r, seal_key))
        .transpose()
}

/// Which providers deliver a channel, in the order they are tried.
#[derive(Debug, Clone)]
pub struct Routing {
    pub providers: Vec<ProviderSetup>,
    /// Someone (the account, its parent or the operator) configured this channel: when no
    /// provider serves the destination's country, the delivery fails rather than falling back
    /// to the sandbox.
    pub configured: bool,
}

/// The providers of `account` and of its parent (sub-accounts inherit), read at most every
/// few seconds per account (changes through this instance are seen at once).
pub async fn setups_for(
    db: &Db,
    seal_key: &[u8],
    registry: &ProviderRegistry,
    account: &AccountSid,
) -> anyhow::Result<std::sync::Arc<Vec<ProviderSetup>>> {
    if let Some(found) = registry.cached_setups(account) {
        return Ok(found);
    }
    let parent = crate::server::db::accounts::find(db, account.as_str())
        .await?
        .and_then(|a| a.parent_sid);
    let mut accounts = vec![account.as_str()];
    if let Some(p) = &parent {
        accounts.push(p.as_str());
    }
    let rows = store::of_accounts(db, &accounts).await?;
    let setups: Vec<ProviderSetup> = rows
        .into_iter()
        .map(|r| from_stored(r, seal_key))
        .collect::<anyhow::Result<_>>()?;
    let setups = std::sync::Arc::new(setups);
    registry.cache_setups(account, setups.clone());
    Ok(setups)
}

/// Whose providers deliver a channel of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The account's own.
    Own,
    /// Its parent's (a sub-account without its own for the channel).
    Parent,
    /// The operator's defaults (`smart2fa.toml`).
    Server,
    /// Nobody configured the channel: the sandbox.
    Sandbox,
}

/// Who decides `channel` for `account` and their enabled providers for it, in the order they
/// are tried (priority, then name), whatever countries they are for: the account's own; else
/// its parent's (the other setups given); else the server's defaults; else none (the sandbox).
/// An account (or parent) that configured the channel at all decides for it: the next level
/// is not asked, even for a country its providers do not serve.
pub fn lineup(
    setups: &[ProviderSetup],
    defaults: &[ProviderSetup],
    account: &AccountSid,
    channel: Channel,
) -> (Source, Vec<ProviderSetup>) {
    let of = |own: bool| -> Vec<ProviderSetup> {
        setups
            .iter()
            .filter(|s| (s.account_sid.as_ref() == Some(account)) == own)
            .filter(|s| s.enabled && s.channels.contains(&channel))
            .cloned()
            .collect()
    };
    let (source, mut chosen) = [
        (Source::Own, of(true)),
        (Source::Parent, of(false)),
        (
            Source::Server,
            defaults
                .iter()
                .filter(|d| d.enabled && d.channels.contains(&channel))
                .cloned()
                .collect(),
        ),
    ]
    .into_iter()
    .find(|(_, chosen)| !chosen.is_empty())
    .unwrap_or((Source::Sandbox, Vec::new()));
    chosen.sort_by(|a, b| (a.priority, &a.name).cmp(&(b.priority, &b.name)));
    (source, chosen)
}

/// Which providers deliver `channel` to `country` for `account`, in the order they are tried
/// (see [`lineup`]).
pub fn route(
    setups: &[ProviderSetup],
    defaults: &[ProviderSetup],
    account: &AccountSid,
    channel: Channel,
    country: Option<&str>,
) -> Routing {
    let (source, chosen) = lineup(setups, defaults, account, channel);
    Routing {
        providers: chosen
            .into_iter()
            .filter(|s| s.serves(channel, country))
            .collect(),
        configured: source != Source::Sandbox,
    }
}

/// For each channel, whose providers deliver it for the account and which, in order.
pub async fn lineups(
    db: &Db,
    keys: &Keys<'_>,
    scope: &AccountScope,
) -> ProviderResult<Vec<(Channel, Source, Vec<ProviderSetup>)>> {
    let setups = setups_for(db, keys.seal_key, keys.registry, scope.sid()).await?;
    Ok(Channel::ALL
        .iter()
        .map(|c| {
            let (source, chosen) = lineup(&setups, keys.registry.defaults(), scope.sid(), *c);
            (*c, source, chosen)
        })
        .collect())
}

/// Does `account` still deliver `channel` through the sandbox (no provider configured for it
/// anywhere)?
pub async fn uses_sandbox(
    db: &Db,
    seal_key: &[u8],
    registry: &ProviderRegistry,
    account: &AccountSid,
    channel: Channel,
) -> anyhow::Result<bool> {
    if registry.registered(account, channel).is_some() {
        return Ok(false);
    }
    let setups = setups_for(db, seal_key, registry, account).await?;
    Ok(!route(&setups, registry.defaults(), account, channel, None).configured)
}

/// The server's default providers from the configuration (each with a stable sid from its
/// name, so receipts find it).
pub fn defaults(list: &[DefaultProvider]) -> anyhow::Result<Vec<ProviderSetup>> {
    list.iter()
        .map(|d| {
            let kind = ProviderKind::parse(&d.kind).with_context(|| {
                format!("default provider {:?}: unknown kind {:?}", d.name, d.kind)
            })?;
            let input = ConfigInput::from_json(&d.config).map_err(|(key, p)| {
                anyhow::anyhow!(
                    "default provider {:?}: {}",
                    d.name,
                    p.message(&format!("config.{key}"))
                )
            })?;
            let config = parse_config(kind, &input).map_err(|(key, p)| {
                anyhow::anyhow!(
                    "default provider {:?}: {}",
                    d.name,
                    p.message(&format!("config.{key}"))
                )
            })?;
            let digest = crypto::hash_token(&format!("default provider {}", d.name));
            Ok(ProviderSetup {
                sid: ProviderSid::parse(&format!("PR{}", &digest[..32]))?,
                account_sid: None,
                name: d.name.clone(),
                channels: d
                    .channels
                    .iter()
                    .filter_map(|c| Channel::parse(c))
                    .collect(),
                countries: d.countries.iter().map(|c| c.to_ascii_uppercase()).collect(),
                priority: d.priority.unwrap_or(100),
                enabled: true,
                config,
                date_created: 0,
                date_updated: 0,
            })
        })
        .collect()
}

/// What a test message through one provider came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestOutcome {
    /// The provider took it (or delivered it at once).
    pub accepted: bool,
    /// `sent`, `delivered`, `failed` or `retry` (a failure worth trying again).
    pub status: &'static str,
    pub provider_message_id: Option<String>,
    /// The provider's refusal, in words.
    pub error: Option<String>,
}

/// Where a test message goes: an email address (channel email unless given) or a phone
/// number (sms unless given).
pub fn test_recipient(channel: Option<Channel>, to: &str) -> ProviderResult<(Channel, Recipient)> {
    let to = to.trim();
    let invalid = |p| ProviderError::invalid(ProviderField::To, p);
    if to.is_empty() {
        return Err(invalid(Problem::sentence(
            "Enter where the test message goes: a phone number or an email address.",
        )));
    }
    if to.contains('@') {
        let email = crate::domain::email::parse_destination(to).map_err(invalid)?;
        Ok((
            channel.unwrap_or(Channel::Email),
            Recipient::Email(email.as_str().to_owned()),
        ))
    } else {
        let phone = crate::domain::phone::parse_destination(to).map_err(invalid)?;
        Ok((
            channel.unwrap_or(Channel::Sms),
            Recipient::Phone(phone.as_str().to_owned()),
        ))
    }
}

/// Sends a real test message through the account's provider `sid` alone, to `to` (see
/// [`test_recipient`]). Answers the channel it went by and what the provider said.
pub async fn test(
    db: &Db,
    now: i64,
    keys: &Keys<'_>,
    scope: &AccountScope,
    sid: &str,
    channel: Option<Channel>,
    to: &str,
) -> ProviderResult<(Channel, TestOutcome)> {
    let setup = get(db, keys.seal_key, scope, sid).await?;
    let (channel, to) = test_recipient(channel, to)?;
    let secret =
        Secret(super::accounts::callback_secret(db, keys.seal_key, scope.sid().as_str()).await?);
    let outcome = send_test(keys.registry, &setup, channel, to, Some(&secret), now).await?;
    Ok((channel, outcome))
}

/// Sends a real test message (no code in it) through `setup` alone, to `to`.
pub async fn send_test(
    registry: &ProviderRegistry,
    setup: &ProviderSetup,
    channel: Channel,
    to: Recipient,
    webhook_secret: Option<&Secret>,
    now: i64,
) -> ProviderResult<TestOutcome> {
    use crate::server::providers::{Content, OutboundMessage, ProviderOutcome};
    if !setup.channels.contains(&channel) {
        return Err(ProviderError::invalid(
            ProviderField::Channels,
            Problem::says(format!("do not include {channel} for this provider.")),
        ));
    }
    if channel == Channel::Call {
        return Err(ProviderError::invalid(
            ProviderField::Channels,
            Problem::sentence(
                "A test message goes by SMS or email; test a call with a test OTP (Send test OTP).",
            ),
        ));
    }
    let text = format!(
        "This is a test message from smart2fa through {}.",
        setup.name
    );
    let content = match channel {
        Channel::Email => Content::Email {
            subject: "smart2fa test message".into(),
            text,
            html: None,
        },
        _ => Content::Sms { text },
    };
    let provider = registry.instance(setup, webhook_secret).map_err(|e| {
        ProviderError::invalid(ProviderField::Config("security"), Problem::sentence(e))
    })?;
    let otp_sid = crate::domain::OtpSid::generate();
    let msg = OutboundMessage {
        account_sid: setup.account_sid.clone().unwrap_or_else(|| {
            AccountSid::parse(&format!("AC{}", "0".repeat(32))).expect("a valid sid")
        }),
        idempotency_key: format!("test-{otp_sid}"),
        otp_sid,
        step: 0,
        channel,
        to,
        from: None,
        content,
        receipt_url: None,
        voice_url: None,
        code_shown: Secret::default(),
        at: now,
    };
    Ok(match provider.deliver(&msg).await {
        ProviderOutcome::Delivered { provider_sid, .. } => TestOutcome {
            accepted: true,
            status: "delivered",
            provider_message_id: Some(provider_sid),
            error: None,
        },
        ProviderOutcome::Sent { provider_sid } => TestOutcome {
            accepted: true,
            status: "sent",
            provider_message_id: Some(provider_sid).filter(|s| !s.is_empty()),
            error: None,
        },
        ProviderOutcome::Permanent(e) => TestOutcome {
            accepted: false,
            status: "failed",
            provider_message_id: None,
            error: Some(e),
        },
        ProviderOutcome::Transient(e) => TestOutcome {
            accepted: false,
            status: "retry",
            provider_message_id: None,
            error: Some(e),
        },
    })
}
