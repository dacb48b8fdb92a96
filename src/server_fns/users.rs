//! The Users page: the account's console users; admins add users, change roles, disable and
//! enable them (the account always keeps an active admin).
use crate::domain::{ConsoleError, Role};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    pub sid: String,
    pub email: String,
    pub role: Role,
    pub disabled: bool,
    /// RFC 3339.
    pub last_login: Option<String>,
    /// RFC 3339.
    pub created: String,
}

#[cfg(feature = "ssr")]
impl TryFrom<crate::server::services::users::UserListing> for UserView {
    type Error = ConsoleError;
    fn try_from(u: crate::server::services::users::UserListing) -> Result<Self, ConsoleError> {
        use crate::server::clock::rfc3339;
        let role = Role::parse(&u.role).map_err(|e| {
            super::ctx::service(anyhow::anyhow!("stored role of {}: {e}", u.sid).into())
        })?;
        Ok(UserView {
            sid: u.sid,
            email: u.email,
            role,
            disabled: u.disabled_at.is_some(),
            last_login: u.last_login_at.map(rfc3339),
            created: rfc3339(u.date_created),
        })
    }
}

/// Every user of the account (all roles may see who is on the team).
#[server(endpoint = "users_list")]
pub async fn list_users() -> Result<Vec<UserView>, ConsoleError> {
    use super::ctx;
    use crate::server::services::users;
    let user = ctx::user(&Role::ALL).await?;
    let state = ctx::state()?;
    users::list(state.db(), &user.scope)
        .await
        .map_err(ctx::service)?
        .into_iter()
        .map(UserView::try_from)
        .collect()
}

/// Adds a user with a role and an initial password (at least 10 characters) that the admin
/// passes on. Admins only.
#[server(endpoint = "user_add")]
pub async fn add_user(email: String, role: String, password: String) -> Result<(), ConsoleError> {
    use super::ctx;
    use crate::server::services::{users, ServiceError};
    let user = ctx::user(&[Role::Admin]).await?;
    let state = ctx::state()?;
    let role = Role::parse(&role).map_err(|_| {
        ctx::service(ServiceError::invalid(
            "role",
            "Choose a role: admin, developer or support.",
        ))
    })?;
    let email_given = email.trim().to_owned();
    let input = users::NewUser {
        email,
        password,
        role,
    };
    let sid = users::create(state.db(), state.clock(), user.scope.sid(), input)
        .await
        .map_err(ctx::service)?;
    tracing::info!(user = %user.sid, account = %user.scope.sid(), added = %sid, role = %role, "console user added");
    {
        use crate::server::services::audit::{self, AuditAction, Change};
        audit::record_after(
            state.db(),
            state.clock(),
            Some(user.scope.sid()),
            &ctx::audit_origin(&user),
            Change::new(AuditAction::UserAdd, sid.as_str())
                .after(serde_json::json!({"email": email_given, "role": role.as_str()})),
        )
        .await;
    }
    Ok(())
}

/// Changes a user's role. Admins only.
#[server(endpoint = "user_set_role")]
pub async fn set_user_role(sid: String, role: String) -> Result<UserView, ConsoleError> {
    use crate::server::services::{users::UserChange, ServiceError};
    let role = Role::parse(&role).map_err(|_| {
        super::ctx::service(ServiceError::invalid(
            "role",
            "Choose a role: admin, developer or support.",
        ))
    })?;
    change(sid, UserChange::Role(role)).await
}

/// Disables (`disabled = true`) or enables a user. Admins only.
#[server(endpoint = "user_set_disabled")]
pub async fn set_user_disabled(sid: String, disabled: bool) -> Result<UserView, ConsoleError> {
    change(
        sid,
        crate::server::services::users::UserChange::Disabled(disabled),
    )
    .await
}

#[cfg(feature = "ssr")]
async fn change(
    sid: String,
    what: crate::server::services::users::UserChange,
) -> Result<UserView, ConsoleError> {
    use super::ctx;
    use crate::server::services::users;
    let user = ctx::user(&[Role::Admin]).await?;
    let state = ctx::state()?;
    // For the audit log: the user as they were.
    let before = users::list(state.db(), &user.scope)
        .await
        .map_err(ctx::service)?
        .into_iter()
        .find(|u| u.sid == sid.trim());
    let changed = users::change(
        state.db(),
        state.clock(),
        &user.scope,
        &user.sid,
        &sid,
        what,
    )
    .await
    .map_err(ctx::service)?;
    tracing::info!(user = %user.sid, account = %user.scope.sid(), changed = %changed.sid, change = ?what, "console user changed");
    {
        use crate::server::services::audit::{self, AuditAction, Change};
        let action = match what {
            users::UserChange::Role(_) => AuditAction::UserRole,
            users::UserChange::Disabled(true) => AuditAction::UserDisable,
            users::UserChange::Disabled(false) => AuditAction::UserEnable,
        };
        let shown = |u: &users::UserListing| serde_json::json!({"email": u.email, "role": u.role, "disabled": u.disabled_at.is_some()});
        audit::record_after(
            state.db(),
            state.clock(),
            Some(user.scope.sid()),
            &ctx::audit_origin(&user),
            Change::new(action, changed.sid.as_str())
                .before(before.as_ref().map(shown))
                .after(shown(&changed)),
        )
        .await;
    }
    changed.try_into()
}
