//! Authorization by construction: tenant data is reached only through an `AccountScope`, which
//! only the authentication layer (API credentials or a console session) can create.
use super::{ServiceError, ServiceResult};
use crate::domain::{AccountSid, AccountStatus};
use crate::server::clock::{rfc3339, Millis};
use crate::server::db::{accounts::AccountRow, Db};
use anyhow::Context;

/// An account as the services see it.
#[derive(Debug, Clone)]
pub struct Account {
    pub sid: AccountSid,
    pub parent_sid: Option<AccountSid>,
    pub friendly_name: String,
    pub status: AccountStatus,
    pub date_created: Millis,
    pub date_updated: Millis,
}

impl TryFrom<AccountRow> for Account {
    type Error = anyhow::Error;
    fn try_from(row: AccountRow) -> anyhow::Result<Self> {
        Ok(Account {
            sid: AccountSid::parse(&row.sid).context("stored account sid")?,
            parent_sid: row
                .parent_sid
                .as_deref()
                .map(AccountSid::parse)
                .transpose()
                .context("stored parent sid")?,
            friendly_name: row.friendly_name,
            status: AccountStatus::parse(&row.status).context("stored account status")?,
            date_created: row.date_created,
            date_updated: row.date_updated,
        })
    }
}

impl Account {
    pub fn date_created_rfc3339(&self) -> String {
        rfc3339(self.date_created)
    }
}

/// The account a caller acts for. Not constructible outside the crate's auth paths.
#[derive(Debug, Clone)]
pub struct AccountScope {
    account: Account,
}

impl AccountScope {
    /// Only for the authentication layer, after the credentials or session were checked.
    pub(crate) fn authenticated(account: Account) -> Self {
        Self { account }
    }

    pub fn account(&self) -> &Account {
        &self.account
    }

    pub fn sid(&self) -> &AccountSid {
        &self.account.sid
    }

    /// May this scope see `other`: itself or one of its direct sub-accounts.
    pub fn can_see(&self, other: &Account) -> bool {
        other.sid == self.account.sid || other.parent_sid.as_ref() == Some(&self.account.sid)
    }

    /// The scope for `accountSid` when a caller acts for a sub-account: itself or a direct
    /// sub-account; anything else answers 403 without saying whether it exists.
    pub async fn act_as(
        &self,
        db: &Db,
        target: Option<&AccountSid>,
    ) -> ServiceResult<AccountScope> {
        let Some(target) = target.filter(|t| *t != self.sid()) else {
            return Ok(self.clone());
        };
        let not_allowed =
            || ServiceError::forbidden("These credentials may not act for that account.");
        let row = crate::server::db::accounts::find(db, target.as_str())
            .await?
            .ok_or_else(not_allowed)?;
        let account = Account::try_from(row)?;
        if account.parent_sid.as_ref() != Some(self.sid()) {
            return Err(not_allowed());
        }
        Ok(AccountScope { account })
    }
}
