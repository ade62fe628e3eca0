//! The rules of Gatehouse. Server functions and the server's own tasks call these; these call
//! `db/`.

pub mod access;
pub mod accounts;
pub mod addresses;
pub mod admin;
pub mod audit;
pub mod background;
pub mod context;
pub mod crypto;
pub mod error;
pub mod housekeeping;
pub mod invitations;
pub mod jobs;
pub mod jwt;
pub mod keys;
pub mod live;
pub mod mail;
pub mod paging;
pub mod passkeys;
pub mod passwords;
pub mod policy;
pub mod providers;
pub mod rate_limit;
pub mod sessions;
pub mod tokens;
pub mod two_factor;
pub mod webhooks;

pub use context::{AuthSettings, Services};
pub use error::Refusal;

use diesel_async::pooled_connection::deadpool::PoolError;

/// What can go wrong below the rules: the database is unreachable or a query failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("no database connection: {0}")]
    Pool(PoolError),
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
}

impl ServiceError {
    /// Whether the database could not be reached (down, restarting, the connection cut), as
    /// opposed to a query that failed: the caller is told to try again in a minute.
    pub fn is_unavailable(&self) -> bool {
        use diesel::result::Error;
        match self {
            ServiceError::Pool(_) => true,
            ServiceError::Query(e) if crate::db::pool::is_lost(e) => true,
            // Starting up or shutting down.
            ServiceError::Query(Error::DatabaseError(_, info)) => {
                info.message().starts_with("the database system is")
            }
            ServiceError::Query(_) => false,
        }
    }
}

impl From<crate::db::shared::ReadFailed> for ServiceError {
    fn from(e: crate::db::shared::ReadFailed) -> Self {
        use crate::db::shared::ReadFailed;
        match e {
            ReadFailed::Connect(e) => e.into(),
            ReadFailed::Query(e) => ServiceError::Query(e),
        }
    }
}

/// Every time a connection cannot be had, counted (`gatehouse_db_pool_errors_total`).
impl From<PoolError> for ServiceError {
    fn from(e: PoolError) -> Self {
        crate::telemetry::db_pool_error(match &e {
            PoolError::Timeout(_) => "timeout",
            PoolError::Backend(_) => "backend",
            PoolError::Closed => "closed",
            PoolError::NoRuntimeSpecified => "no-runtime",
            PoolError::PostCreateHook(_) => "post-create-hook",
        });
        ServiceError::Pool(e)
    }
}
