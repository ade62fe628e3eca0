//! The database layer: the schema diesel printed, the connection pool, migrations and the
//! queries that keep the tables tidy. Nothing above `services/` touches these types.

pub mod accounts;
pub mod admin;
pub mod catalog;
pub mod check;
pub mod connect;
pub mod email_changes;
pub mod export;
pub mod grants;
pub mod invitations;
pub mod jobs;
pub mod jwks;
pub mod maintenance;
pub mod migrations;
pub mod models;
pub mod passkeys;
pub mod pool;
pub mod prebuilt;
pub mod rate_limits;
pub mod schema;
pub mod sessions;
pub mod shared;
pub mod two_factor;
pub mod users;
pub mod verifications;
pub mod webhooks;

pub use pool::{DbConn, DbPool, PoolSettings};
