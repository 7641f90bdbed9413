//! The one error type of the store. When to use which variant:
//! - `NotFound`, `Duplicate`, `Refused`, `Invalid`, `Lifecycle`: the user asked for something that cannot be done;
//!   the message says why and is safe to show.
//! - `Constraint`: the database refused a write that code above did not check first (a typed fallback).
//! - `Crypto`, `Corrupt`, `Database`, `Migration`, `Config`, `Connect`: operational failures; logged with context.
//!
//! No variant ever carries embargoed content.

use forewarn_core::advisory::LifecycleError;
use forewarn_core::Invalid;
use sqlx::error::ErrorKind;

use crate::crypto::CryptoError;

/// Which integrity rule the database enforced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConstraintKind {
    Unique,
    ForeignKey,
    NotNull,
    Check,
    Other,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{what} {id} does not exist")]
    NotFound { what: &'static str, id: String },
    #[error("{what} {id} already exists")]
    Duplicate { what: &'static str, id: String },
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error(transparent)]
    Lifecycle(#[from] LifecycleError),
    #[error(transparent)]
    Status(#[from] forewarn_core::StatusError),
    #[error("the database refused the change ({kind:?} constraint): {message}")]
    Constraint { kind: ConstraintKind, message: String },
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("could not connect to the database: {0}")]
    Connect(String),
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error("{0}")]
    Config(String),
    #[error("database error: {0}")]
    Database(sqlx::Error),
    /// Another write of this process held the database too long (SQLite).
    #[error("the database is busy: another write has not finished in {0} s")]
    Busy(u64),
}

impl StoreError {
    pub(crate) fn connect(e: sqlx::Error) -> Self {
        Self::Connect(e.to_string())
    }

    /// Whether the error is the user's to fix (bad input, a refused step) rather than an operational failure.
    pub fn is_user_error(&self) -> bool {
        matches!(
            self,
            Self::NotFound { .. }
                | Self::Duplicate { .. }
                | Self::Refused(_)
                | Self::Invalid(_)
                | Self::Lifecycle(_)
                | Self::Status(_)
                | Self::Constraint { .. }
        )
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let Some(db) = e.as_database_error() {
            let kind = match db.kind() {
                ErrorKind::UniqueViolation => ConstraintKind::Unique,
                ErrorKind::ForeignKeyViolation => ConstraintKind::ForeignKey,
                ErrorKind::NotNullViolation => ConstraintKind::NotNull,
                ErrorKind::CheckViolation => ConstraintKind::Check,
                _ => ConstraintKind::Other,
            };
            if kind != ConstraintKind::Other {
                // The driver's message names the constraint, not the values (PostgreSQL keeps those in `detail`).
                return Self::Constraint { kind, message: db.message().to_owned() };
            }
        }
        Self::Database(e)
    }
}
