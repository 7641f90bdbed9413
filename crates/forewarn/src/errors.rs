//! The CLI's one error type. User errors (bad input, a refused step) exit with code 2; operational failures
//! with code 1. Either way the message is one line that says what to do.

use std::fmt;

#[derive(Debug)]
pub enum CliError {
    /// The user's to fix. Exit code 2.
    User(String),
    /// Something failed that the user did not cause. Exit code 1.
    Internal(String),
}

impl CliError {
    pub fn user(m: impl Into<String>) -> Self {
        Self::User(m.into())
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            Self::User(_) => 2,
            Self::Internal(_) => 1,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::User(m) | Self::Internal(m) => f.write_str(m),
        }
    }
}

impl From<forewarn_store::StoreError> for CliError {
    fn from(e: forewarn_store::StoreError) -> Self {
        if e.is_user_error() {
            Self::User(e.to_string())
        } else {
            Self::Internal(e.to_string())
        }
    }
}

impl From<forewarn_core::Invalid> for CliError {
    fn from(e: forewarn_core::Invalid) -> Self {
        Self::User(e.to_string())
    }
}

impl From<forewarn_core::LifecycleError> for CliError {
    fn from(e: forewarn_core::LifecycleError) -> Self {
        Self::User(e.to_string())
    }
}

impl From<forewarn_store::keys::KeyError> for CliError {
    fn from(e: forewarn_store::keys::KeyError) -> Self {
        use forewarn_store::keys::KeyError;
        match e {
            KeyError::Missing(_) | KeyError::Malformed(_) | KeyError::Permissions { .. } | KeyError::Exists { .. } => {
                Self::User(e.to_string())
            }
            _ => Self::Internal(e.to_string()),
        }
    }
}

impl From<forewarn_store::CryptoError> for CliError {
    fn from(e: forewarn_store::CryptoError) -> Self {
        Self::Internal(e.to_string())
    }
}

pub type CliResult<T = ()> = Result<T, CliError>;

impl From<forewarn_store::DbError> for CliError {
    fn from(e: forewarn_store::DbError) -> Self {
        forewarn_store::StoreError::from(e).into()
    }
}
