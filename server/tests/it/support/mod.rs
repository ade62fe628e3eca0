//! Test support: a private PostgreSQL for the whole run, a fresh database per test, a client
//! that drives the real axum router, a local SMTP sink, and a webhook receiver.

pub mod cluster;
pub mod http;
pub mod mail;
pub mod provider;
pub mod receiver;

pub use cluster::TestDb;
pub use http::TestApp;
