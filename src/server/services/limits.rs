//! Named limits: create, read, change, delete, list. (Charging them is part of the send: see
//! `otp::send` and `db::limits`.)
use super::paging::{Listed, PageRequest};
use super::{AccountScope, ServiceError};
use crate::domain::ids::LimitSid;
use crate::domain::limit::{self, Bucket, BucketError, Limit};
use crate::domain::{ErrorCode, Problem};
use crate::server::clock::{Clock, Millis};
use crate::server::db::limits::{self as store, NameFilter, WriteError};
use crate::server::db::Db;

pub use store::NameFilter as LimitNameFilter;

/// What to set on a limit; on a change, what is left out stays as it is.
#[derive(Debug, Clone, Default)]
pub struct LimitChange {
    pub name: Option<String>,
    pub description: Option<String>,
    pub buckets: Option<Vec<Bucket>>,
}

/// A field of a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitField {
    Name,
    Description,
    Buckets,
}

#[derive(Debug, thiserror::Error)]
pub enum LimitError {
    #[error("invalid {field:?}: {problem:?}")]
    Invalid { field: LimitField, problem: Problem },
    /// A bucket breaks a rule (`None`: the set as a whole).
    #[error("bucket rule: {0:?}")]
    Bucket(BucketError),
    #[error("a limit with this name exists")]
    DuplicateName,
    #[error("limit not found")]
    NotFound,
    #[error("{0}")]
    Denied(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<ServiceError> for LimitError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Rule {
                code: ErrorCode::Forbidden,
                message,
                ..
            } => LimitError::Denied(message),
            ServiceError::Rule { code, message, .. } => {
                LimitError::Internal(anyhow::anyhow!("unexpected rule {code:?}: {message}"))
            }
            ServiceError::Internal(e) => LimitError::Internal(e),
        }
    }
}

impl From<WriteError> for LimitError {
    fn from(e: WriteError) -> Self {
        match e {
            WriteError::DuplicateName => LimitError::DuplicateName,
            WriteError::Db(e) => LimitError::Internal(e),
        }
    }
}

impl LimitError {
    pub fn code(&self) -> ErrorCode {
        match self {
            LimitError::Invalid { problem, .. } => problem.code(),
            LimitError::Bucket(BucketError::TooMany) => ErrorCode::TooManyBuckets,
            LimitError::Bucket(_) => ErrorCode::InvalidParameter,
            LimitError::DuplicateName => ErrorCode::DuplicateName,
            LimitError::NotFound => ErrorCode::NotFound,
            LimitError::Denied(_) => ErrorCode::Forbidden,
            LimitError::Internal(_) => ErrorCode::Internal,
        }
    }

    pub fn field(&self) -> Option<LimitField> {
        match self {
            LimitError::Invalid { field, .. } => Some(*field),
            LimitError::Bucket(_) => Some(LimitField::Buckets),
            LimitError::DuplicateName => Some(LimitField::Name),
            _ => None,
        }
    }
}

pub type LimitResult<T> = Result<T, LimitError>;

fn check_name(name: &str) -> LimitResult<()> {
    if limit::valid_name(name) {
        Ok(())
    } else {
        Err(LimitError::Invalid {
            field: LimitField::Name,
            problem: Problem::says("must be 1–64 characters of letters, digits, '_', '.' or '-'."),
        })
    }
}

fn check_buckets(buckets: &[Bucket]) -> LimitResult<()> {
    limit::validate_buckets(buckets).map_err(LimitError::Bucket)
}

pub async fn create(
    db: &Db,
    clock: &dyn Clock,
    scope: &AccountScope,
    change: LimitChange,
) -> LimitResult<Limit> {
    let name = change.name.ok_or(LimitError::Invalid {
        field: LimitField::Name,
        problem: Problem::Required,
    })?;
    check_name(&name)?;
    let buckets = change.buckets.ok_or(LimitError::Invalid {
        field: LimitField::Buckets,
        problem: Problem::says("is required: 1–2 of {name, maxOtp, interval}."),
    })?;
    check_buckets(&buckets)?;
    let now = clock.now_ms();
    let l = Limit {
        sid: LimitSid::generate(),
        account_sid: scope.sid().clone(),
        name,
        description: change.description.unwrap_or_default(),
        buckets,
        date_created: now,
        date_updated: now,
    };
    store::insert(db, &l).await?;
    Ok(l)
}

pub async fn get(db: &Db, scope: &AccountScope, sid: &str) -> LimitResult<Limit> {
    store::find(db, scope.sid(), sid.trim())
        .await?
        .ok_or(LimitError::NotFound)
}

/// Replaces what `change` gives (description, buckets) and may rename. Counted hits are kept.
pub async fn update(
    db: &Db,
    clock: &dyn Clock,
    scope: &AccountScope,
    sid: &str,
    change: LimitChange,
) -> LimitResult<Limit> {
    let current = get(db, scope, sid).await?;
    if let Some(n) = &change.name {
        check_name(n)?;
    }
    if let Some(b) = &change.buckets {
        check_buckets(b)?;
    }
    let l = Limit {
        name: change.name.unwrap_or(current.name.clone()),
        description: change.description.unwrap_or(current.description.clone()),
        buckets: change.buckets.unwrap_or(current.buckets.clone()),
        date_updated: clock.now_ms(),
        ..current
    };
    store::update(db, &l).await?;
    Ok(l)
}

pub async fn delete(db: &Db, scope: &AccountScope, sid: &str) -> LimitResult<()> {
    let current = get(db, scope, sid).await?;
    store::delete(db, &current.sid).await?;
    Ok(())
}

/// The account's limits by name.
pub async fn list(
    db: &Db,
    scope: &AccountScope,
    name: &NameFilter,
    page: PageRequest,
) -> LimitResult<Listed<Limit>> {
    let (items, total) = store::list(db, scope.sid(), name, page.size, page.offset()).await?;
    // An account's limits are few: counted exactly.
    Ok(Listed {
        items,
        total,
        capped: false,
    })
}

/// Every limit of the account with how many sends it blocked since `since` (the Limits page).
pub async fn overview(
    db: &Db,
    scope: &AccountScope,
    since: Millis,
) -> LimitResult<Vec<(Limit, i64)>> {
    Ok(store::with_blocked_counts(db, scope.sid(), since).await?)
}
