//! The Developers page: API credentials (the auth token, API keys).
use crate::domain::ConsoleError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// An API key as the console lists it: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyView {
    pub sid: String,
    pub name: String,
    /// RFC 3339.
    pub created: String,
    /// RFC 3339, when revoked.
    pub revoked: Option<String>,
}

/// A key just created, with its secret: the only time the secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewApiKey {
    pub key: ApiKeyView,
    pub secret: String,
}

#[cfg(feature = "ssr")]
impl From<crate::server::services::api_keys::ApiKey> for ApiKeyView {
    fn from(k: crate::server::services::api_keys::ApiKey) -> Self {
        use crate::server::clock::rfc3339;
        ApiKeyView {
            sid: k.sid,
            name: k.friendly_name,
            created: rfc3339(k.date_created),
            revoked: k.revoked_at.map(rfc3339),
        }
    }
}

/// Replaces the account's auth token; the new token is returned this once. Admins only: the
/// token is the account's master credential (developers manage API keys instead).
#[server(endpoint = "rotate_auth_token")]
pub async fn rotate_auth_token() -> Result<String, ConsoleError> {
    use super::ctx;
    use crate::domain::Role;
    use crate::server::services::accounts;
    let user = ctx::user(&[Role::Admin]).await?;
    let state = ctx::state()?;
    let token = accounts::rotate_auth_token(state.db(), &user.scope)
        .await
        .map_err(ctx::service)?;
    state
        .guards()
        .auth_cache
        .forget_account(user.scope.sid().as_str());
    tracing::info!(user = %user.sid, account = %user.scope.sid(), "auth token rotated");
    {
        use crate::server::services::audit::{self, AuditAction, Change};
        // The token itself is never recorded.
        audit::record_after(
            state.db(),
            state.clock(),
            Some(user.scope.sid()),
            &ctx::audit_origin(&user),
            Change::new(AuditAction::AuthTokenRotate, user.scope.sid().as_str()),
        )
        .await;
    }
    Ok(token)
}

/// The account's API keys (every role may see the names; nobody sees a secret again).
#[server(endpoint = "api_keys_list")]
pub async fn list_api_keys() -> Result<Vec<ApiKeyView>, ConsoleError> {
    use super::ctx;
    use crate::domain::Role;
    use crate::server::services::api_keys;
    let user = ctx::user(&Role::ALL).await?;
    let state = ctx::state()?;
    let keys = api_keys::list(state.db(), &user.scope)
        .await
        .map_err(ctx::service)?;
    Ok(keys.into_iter().map(ApiKeyView::from).collect())
}

/// Creates a named API key. Admins and developers only.
#[server(endpoint = "api_key_create")]
pub async fn create_api_key(name: String) -> Result<NewApiKey, ConsoleError> {
    use super::ctx;
    use crate::domain::Role;
    use crate::server::services::api_keys;
    let user = ctx::user(&[Role::Admin, Role::Developer]).await?;
    let state = ctx::state()?;
    let (key, secret) = api_keys::create(state.db(), &user.scope, &name, state.clock().now_ms())
        .await
        .map_err(ctx::service)?;
    tracing::info!(user = %user.sid, account = %user.scope.sid(), key = %key.sid, "API key created");
    {
        use crate::server::services::audit::{self, AuditAction, Change};
        audit::record_after(
            state.db(),
            state.clock(),
            Some(user.scope.sid()),
            &ctx::audit_origin(&user),
            Change::new(AuditAction::ApiKeyCreate, key.sid.as_str())
                .after(serde_json::json!({"friendlyName": key.friendly_name})),
        )
        .await;
    }
    Ok(NewApiKey {
        key: key.into(),
        secret,
    })
}

/// Revokes an API key of the account: it stops working at once. Admins and developers only.
#[server(endpoint = "api_key_revoke")]
pub async fn revoke_api_key(sid: String) -> Result<ApiKeyView, ConsoleError> {
    use super::ctx;
    use crate::domain::Role;
    use crate::server::services::api_keys;
    let user = ctx::user(&[Role::Admin, Role::Developer]).await?;
    let state = ctx::state()?;
    let key = api_keys::revoke(state.db(), &user.scope, &sid, state.clock().now_ms())
        .await
        .map_err(ctx::service)?;
    state.guards().auth_cache.forget(&key.sid);
    tracing::info!(user = %user.sid, account = %user.scope.sid(), key = %key.sid, "API key revoked");
    {
        use crate::server::services::audit::{self, AuditAction, Change};
        audit::record_after(
            state.db(),
            state.clock(),
            Some(user.scope.sid()),
            &ctx::audit_origin(&user),
            Change::new(AuditAction::ApiKeyRevoke, key.sid.as_str())
                .before(serde_json::json!({"friendlyName": key.friendly_name, "revoked": false}))
                .after(serde_json::json!({"friendlyName": key.friendly_name, "revoked": true})),
        )
        .await;
    }
    Ok(key.into())
}
