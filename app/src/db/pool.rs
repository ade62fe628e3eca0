//! The connection pool (diesel-async over deadpool).

use std::time::Duration;

use diesel_async::pooled_connection::deadpool::{Object, Pool, PoolError};
use diesel_async::pooled_connection::AsyncDieselConnectionManager;
use diesel_async::AsyncPgConnection;

pub type DbPool = Pool<AsyncPgConnection>;
pub type DbConn = Object<AsyncPgConnection>;

/// How many connections to keep and how long to wait for one.
#[derive(Clone, Debug)]
pub struct PoolSettings {
    /// Connections opened at start and kept warm.
    pub min: usize,
    /// Connections at most; a request beyond that waits.
    pub max: usize,
    /// How long opening a connection, or waiting for a free one, may take.
    pub connection_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            min: 2,
            max: 10,
            connection_timeout: Duration::from_millis(5000),
        }
    }
}

/// Builds a pool for `database_url`. No connection is made yet: see [`warm_up`].
pub fn build(database_url: &str, settings: &PoolSettings) -> DbPool {
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new(database_url);
    Pool::builder(manager)
        .max_size(settings.max.max(1))
        .runtime(deadpool::Runtime::Tokio1)
        .wait_timeout(Some(settings.connection_timeout))
        .create_timeout(Some(settings.connection_timeout))
        .recycle_timeout(Some(settings.connection_timeout))
        .build()
        .expect("a pool with a runtime and timeouts always builds")
}

/// Opens `settings.min` connections at once, so the first requests find them ready.
/// deadpool keeps idle connections, so they stay in the pool.
pub async fn warm_up(pool: &DbPool, settings: &PoolSettings) -> Result<(), PoolError> {
    let mut held = Vec::with_capacity(settings.min);
    for _ in 0..settings.min.min(settings.max) {
        held.push(pool.get().await?);
    }
    Ok(())
}
