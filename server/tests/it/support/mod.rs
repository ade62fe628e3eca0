//! Test support: a private PostgreSQL for the whole run, a fresh database per test, a client
//! that drives the real axum router, and a local SMTP sink.

pub mod cluster;
pub mod http;
pub mod mail;
pub mod provider;

pub use cluster::TestDb;
pub use http::TestApp;
