//! The Developers page: API credentials.
use crate::domain::ConsoleError;
use leptos::prelude::*;

/// Replaces the account's auth token; the new token is returned this once.
/// Admins and developers only.
#[server(endpoint = "rotate_auth_token")]
pub async fn rotate_auth_token() -> Result<String, ConsoleError> {
    use super::ctx;
    use crate::domain::Role;
    use crate::server::services::accounts;
    let user = ctx::user(&[Role::Admin, Role::Developer]).await?;
    let state = ctx::state()?;
    let token = accounts::rotate_auth_token(state.db(), &user.scope)
        .await
        .map_err(ctx::service)?;
    state
        .inner
        .auth_cache
        .forget_account(user.scope.sid().as_str());
    tracing::info!(user = %user.sid, account = %user.scope.sid(), "auth token rotated");
    Ok(token)
}
