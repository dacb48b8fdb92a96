//! The demo account a newcomer logs into: created on first run, its credentials kept in
//! `<data_dir>/demo.json` (mode 0600) so every later run prints the same login. Development
//! only; it never touches an account it did not create.
use super::accounts::{self, NewAccount};
use super::users::NewUser;
use super::{ServiceError, ServiceResult};
use crate::domain::{AccountSid, EmailAddress, Role};
use crate::server::clock::Clock;
use crate::server::config::Environment;
use crate::server::crypto;
use crate::server::db::{self, Db};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

pub const DEMO_EMAIL: &str = "demo@example.com";
pub const DEMO_ACCOUNT_NAME: &str = "Demo Company";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoLogin {
    pub account_sid: String,
    pub auth_token: String,
    pub email: String,
    pub password: String,
}

/// The demo is for trying smart2fa out on one's own machine: a production server refuses it
/// (its login would be printed in the logs, and `demo@example.com` is an address any tenant
/// could have registered).
pub fn allowed(environment: Environment) -> ServiceResult<()> {
    match environment {
        Environment::Development => Ok(()),
        Environment::Production => Err(ServiceError::forbidden(
            "The demo account is refused in production (environment = \"production\"): create \
             accounts with `smart2fa account create` instead.",
        )),
    }
}

/// Makes sure the demo account and its admin exist and that the saved login works. Only the
/// account the demo created is ever reset; refused in production.
pub async fn ensure(
    db: &Db,
    clock: &dyn Clock,
    environment: Environment,
    data_dir: &Path,
) -> ServiceResult<DemoLogin> {
    allowed(environment)?;
    let file = data_dir.join("demo.json");
    let saved = std::fs::read_to_string(&file)
        .ok()
        .and_then(|text| serde_json::from_str::<DemoLogin>(&text).ok());
    if let Some(saved) = &saved {
        if still_valid(db, saved).await? {
            return Ok(saved.clone());
        }
    }
    let password = crypto::random_hex(8);
    // The demo's own account: the one its saved file names, else the one marked as created by
    // the demo. A user with the demo's email in any other account is left alone (emails are
    // unique per account only).
    let mut demo_user = None;
    let candidates = saved
        .as_ref()
        .map(|s| s.account_sid.clone())
        .into_iter()
        .chain(db::accounts::demo_account(db).await?);
    for account in candidates {
        if let Some(user) = db::users::find_in_account(db, &account, DEMO_EMAIL).await? {
            demo_user = Some(user);
            break;
        }
    }
    let login = match demo_user {
        // The saved file is gone or stale: give the demo's account a fresh token and password.
        Some(user) => {
            let account = AccountSid::parse(&user.account_sid)
                .map_err(|e| anyhow::anyhow!("stored sid: {e}"))?;
            db::accounts::mark_created_by_demo(db, account.as_str()).await?;
            let token = crypto::random_hex(16);
            db::credentials::set_secret_hash(db, account.as_str(), &crypto::hash_token(&token))
                .await?;
            let hash = crypto::hash_password(&password)?;
            db::users::reset_password(db, &user.sid, &hash, clock.now_ms()).await?;
            accounts::set_status(db, clock, &account, crate::domain::AccountStatus::Active).await?;
            DemoLogin {
                account_sid: account.to_string(),
                auth_token: token,
                email: user.email,
                password,
            }
        }
        None => {
            let created = accounts::create(
                db,
                clock,
                NewAccount {
                    friendly_name: DEMO_ACCOUNT_NAME.into(),
                    parent: None,
                    admin: Some(NewUser {
                        email: DEMO_EMAIL.into(),
                        password: password.clone(),
                        role: Role::Admin,
                    }),
                },
            )
            .await?;
            db::accounts::mark_created_by_demo(db, created.account.sid.as_str()).await?;
            DemoLogin {
                account_sid: created.account.sid.to_string(),
                auth_token: created.auth_token,
                email: DEMO_EMAIL.into(),
                password,
            }
        }
    };
    save(&file, &login)?;
    Ok(login)
}

async fn still_valid(db: &Db, saved: &DemoLogin) -> ServiceResult<bool> {
    let token_ok = accounts::authenticate(db, &saved.account_sid, &saved.auth_token)
        .await?
        .is_ok();
    let Ok(email) = EmailAddress::parse(&saved.email) else {
        return Ok(false);
    };
    let user_ok =
        match db::users::find_in_account(db, &saved.account_sid, &email.login_key()).await? {
            Some(u) => {
                u.disabled_at.is_none() && u.account_sid == saved.account_sid && {
                    let (pw, hash) = (saved.password.clone(), u.password_hash.clone());
                    tokio::task::spawn_blocking(move || crypto::verify_password(&pw, &hash))
                        .await
                        .map_err(|e| anyhow::anyhow!("{e}"))?
                }
            }
            None => false,
        };
    Ok(token_ok && user_ok)
}

fn save(file: &Path, login: &DemoLogin) -> ServiceResult<()> {
    let write = || -> std::io::Result<()> {
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = file.with_extension("json.tmp");
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(
            serde_json::to_string_pretty(login)
                .unwrap_or_default()
                .as_bytes(),
        )?;
        f.sync_all()?;
        std::fs::rename(&tmp, file)
    };
    write().map_err(|e| ServiceError::Internal(anyhow::anyhow!("writing {}: {e}", file.display())))
}
