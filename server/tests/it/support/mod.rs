//! Test support: a private PostgreSQL for the whole run, a fresh database per test, and a
//! client that drives the real axum router.

pub mod cluster;
pub mod http;

pub use cluster::TestDb;
pub use http::TestApp;
