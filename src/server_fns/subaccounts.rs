//! The Sub-accounts page: the signed-in user's own account's sub-accounts. Admins create (the
//! new account's auth token shown once), rename, suspend, reactivate and close them; every role
//! may switch the console into one (and back).
use crate::domain::{AccountStatus, ConsoleError};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubAccountView {
    pub sid: String,
    pub name: String,
    pub status: AccountStatus,
    /// RFC 3339.
    pub created: String,
}

/// A sub-account just created, with its auth token: the only time the token is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewSubAccount {
    pub account: SubAccountView,
    pub auth_token: String,
}

#[cfg(feature = "ssr")]
impl From<crate::server::services::scope::Account> for SubAccountView {
    fn from(a: crate::server::services::scope::Account) -> Self {
        SubAccountView {
            sid: a.sid.to_string(),
            name: a.friendly_name,
            status: a.status,
            created: crate::server::clock::rfc3339(a.date_created),
        }
    }
}

/// The sub-accounts of the user's own account, oldest first.
#[server(endpoint = "subaccounts_list")]
pub async fn list_subaccounts() -> Result<Vec<SubAccountView>, ConsoleError> {
    use super::ctx;
    use crate::domain::Role;
    use crate::server::services::accounts;
    let user = ctx::user(&Role::ALL).await?;
    let state = ctx::state()?;
    let (all, _) = accounts::list_sub_accounts(state.db(), &user.home, 1000, 0)
        .await
        .map_err(ctx::service)?;
    Ok(all.into_iter().map(SubAccountView::from).collect())
}

/// Creates a sub-account. Admins only.
#[server(endpoint = "subaccount_create")]
pub async fn create_subaccount(name: String) -> Result<NewSubAccount, ConsoleError> {
    use super::ctx;
    use crate::domain::Role;
    use crate::server::services::accounts;
    let user = ctx::user(&[Role::Admin]).await?;
    let state = ctx::state()?;
    let created = accounts::create_sub_account(state.db(), state.clock(), &user.home, Some(name))
        .await
        .map_err(ctx::service)?;
    tracing::info!(user = %user.sid, account = %user.home.sid(), created = %created.account.sid, "sub-account created");
    {
        use crate::server::services::audit::{self, AuditAction, Change};
        audit::record_after(
            state.db(),
            state.clock(),
            Some(user.home.sid()),
            &ctx::audit_origin(&user),
            Change::new(AuditAction::SubaccountCreate, created.account.sid.as_str()).after(
                serde_json::json!({"friendlyName": created.account.friendly_name, "status": created.account.status.as_str()}),
            ),
        )
        .await;
    }
    Ok(NewSubAccount {
        account: created.account.into(),
        auth_token: created.auth_token,
    })
}

/// Renames a sub-account and/or changes its status (`active`, `suspended`, `closed`; a closed
/// one stays closed). Admins only.
#[server(endpoint = "subaccount_update")]
pub async fn update_subaccount(
    sid: String,
    name: Option<String>,
    status: Option<String>,
) -> Result<SubAccountView, ConsoleError> {
    use super::ctx;
    use crate::domain::Role;
    use crate::server::services::{accounts, ServiceError};
    let user = ctx::user(&[Role::Admin]).await?;
    let state = ctx::state()?;
    let status = match status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Some(AccountStatus::parse(s).map_err(|_| {
            ctx::service(ServiceError::invalid(
                "status",
                "status must be active, suspended or closed.",
            ))
        })?),
        None => None,
    };
    let name = name.filter(|n| !n.trim().is_empty());
    if sid.trim() == user.home.sid().as_str() {
        return Err(ctx::service(ServiceError::forbidden(
            "Your own account is changed by its operator, not from this page.",
        )));
    }
    let before = accounts::get_visible(state.db(), &user.home, &sid)
        .await
        .map_err(ctx::service)?;
    let account = accounts::update(state.db(), state.clock(), &user.home, &sid, name, status)
        .await
        .map_err(ctx::service)?;
    {
        use crate::server::services::audit;
        audit::record_all_after(
            state.db(),
            state.clock(),
            Some(user.home.sid()),
            &ctx::audit_origin(&user),
            audit::account_changes(&before, &account),
        )
        .await;
    }
    state
        .guards()
        .auth_cache
        .forget_account(account.sid.as_str());
    tracing::info!(user = %user.sid, account = %account.sid, status = %account.status.as_str(), "sub-account changed");
    Ok(account.into())
}

/// Switches the console into a sub-account of the user's own account, or back to it (empty
/// `sid`). Every page then works on that account, with the user's role.
#[server(endpoint = "switch_account")]
pub async fn switch_account(sid: String) -> Result<(), ConsoleError> {
    use super::ctx;
    use crate::domain::{AccountSid, Role};
    use crate::server::auth::console::ACTING_KEY;
    use crate::server::services::ServiceError;
    let user = ctx::user(&Role::ALL).await?;
    let state = ctx::state()?;
    let session = ctx::session().await?;
    let sid = sid.trim();
    if sid.is_empty() || sid == user.home.sid().as_str() {
        let _ = session.remove::<String>(ACTING_KEY).await;
        return Ok(());
    }
    let not_yours = || ctx::service(ServiceError::not_found("sub-account"));
    let target = AccountSid::parse(sid).map_err(|_| not_yours())?;
    user.home
        .act_as(state.db(), Some(&target))
        .await
        .map_err(|_| not_yours())?;
    session
        .insert(ACTING_KEY, target.as_str())
        .await
        .map_err(|e| ctx::service(anyhow::anyhow!("session insert: {e}").into()))?;
    tracing::info!(user = %user.sid, account = %target, "console switched into a sub-account");
    Ok(())
}
