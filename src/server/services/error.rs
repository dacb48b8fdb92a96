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
    /// A broken rule whose answer carries more fields (`status`, `attemptsLeft`, `retryAfter`…).
    #[error("{message}")]
    RuleWith {
        code: ErrorCode,
        message: String,
        extra: serde_json::Map<String, serde_json::Value>,
        /// An HTTP status other than the code's own, where the contract says so (cancel answers
        /// 409 for every final state, also for 7031 and 7034).
        http_status: Option<u16>,
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

    pub fn with(code: ErrorCode, message: impl Into<String>, extra: serde_json::Value) -> Self {
        let extra = match extra {
            serde_json::Value::Object(m) => m,
            _ => serde_json::Map::new(),
        };
        ServiceError::RuleWith {
            code,
            message: message.into(),
            extra,
            http_status: None,
        }
    }

    /// The same rule answered with another HTTP status (only rules with extra fields use it).
    pub fn with_http_status(self, status: u16) -> Self {
        match self {
            ServiceError::RuleWith {
                code,
                message,
                extra,
                ..
            } => ServiceError::RuleWith {
                code,
                message,
                extra,
                http_status: Some(status),
            },
            other => other,
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            ServiceError::Rule { code, .. } | ServiceError::RuleWith { code, .. } => *code,
            ServiceError::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl From<sqlx::Error> for ServiceError {
    fn from(e: sqlx::Error) -> Self {
        ServiceError::Internal(anyhow::Error::new(e).context("database"))
    }
}
