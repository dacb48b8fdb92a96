//! The services' error: a rule broken (stable code, message for people, field) or an internal
//! failure whose details go to the log only.
use crate::domain::ErrorCode;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{message}")]
    Rule {
        code: ErrorCode,
        message: String,
        field: Option<&'static str>,
    },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type ServiceResult<T> = Result<T, ServiceError>;

impl ServiceError {
    pub fn rule(code: ErrorCode, message: impl Into<String>) -> Self {
        ServiceError::Rule {
            code,
            message: message.into(),
            field: None,
        }
    }

    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        ServiceError::Rule {
            code: ErrorCode::InvalidParameter,
            message: message.into(),
            field: Some(field),
        }
    }

    pub fn not_found(what: &str) -> Self {
        Self::rule(
            ErrorCode::NotFound,
            format!("The requested {what} was not found."),
        )
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::rule(ErrorCode::Forbidden, message)
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            ServiceError::Rule { code, .. } => *code,
            ServiceError::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl From<sqlx::Error> for ServiceError {
    fn from(e: sqlx::Error) -> Self {
        ServiceError::Internal(anyhow::Error::new(e).context("database"))
    }
}
