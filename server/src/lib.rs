//! The `gatehouse` binary's library: configuration, start-up (database, migrations, the
//! private PostgreSQL), the axum router, the background task, the metrics listener and the
//! command line.

pub mod cli;
pub mod client;
pub mod commands;
pub mod config;
pub mod csp;
pub mod database;
pub mod housekeeping;
pub mod local_postgres;
pub mod metrics;
pub mod routes;
pub mod secrets;
pub mod state;

pub use commands::{build_services, run};
