//! The demo account a newcomer logs into: created on first run, its credentials kept in
//! `<data_dir>/demo.json` (mode 0600) so every later run prints the same login.
use super::accounts::{self, NewAccount};
use super::users::NewUser;
use super::{ServiceError, ServiceResult};
use crate::domain::{AccountSid, EmailAddress, Role};
use crate::server::clock::Clock;
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

/// Makes sure the demo account and its admin exist and that the saved login works.
pub async fn ensure(db: &Db, clock: &dyn Clock, data_dir: &Path) -> ServiceResult<DemoLogin> {
    let file = data_dir.join("demo.json");
    if let Ok(text) = std::fs::read_to_string(&file) {
        if let Ok(saved) = serde_json::from_str::<DemoLogin>(&text) {
            if still_valid(db, &saved).await? {
                return Ok(saved);
            }
        }
    }
    let password = crypto::random_hex(8);
    let login = match db::users::find_by_email_key(db, DEMO_EMAIL).await? {
        // The saved file is gone or stale: give the existing demo a fresh token and password.
        Some(user) => {
            let account = AccountSid::parse(&user.account_sid)
                .map_err(|e| anyhow::anyhow!("stored sid: {e}"))?;
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
    let user_ok = match db::users::find_by_email_key(db, &email.login_key()).await? {
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
