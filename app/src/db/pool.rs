//! The connection pool (diesel-async over deadpool).

use std::time::{Duration, Instant};

use deadpool::managed::{Hook, HookError};
use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel_async::pooled_connection::deadpool::{Object, Pool, PoolError};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};

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

/// A connection idle this long is asked a `SELECT 1` before it is handed out again.
const VERIFY_AFTER_IDLE: Duration = Duration::from_secs(10);

/// Builds a pool for `database_url`. No connection is made yet: see [`warm_up`].
///
/// A connection in steady use is handed out as it is (one round trip saved on every
/// request); one that sat idle for [`VERIFY_AFTER_IDLE`] is checked first, and replaced if
/// the database dropped it meanwhile. A broken connection is never handed out again.
pub fn build(database_url: &str, settings: &PoolSettings) -> DbPool {
    let mut config = ManagerConfig::default();
    config.recycling_method = RecyclingMethod::Fast;
    // With TLS as the URL's sslmode asks (super::connect).
    config.custom_setup = Box::new(|url| {
        let url = url.to_string();
        Box::pin(async move { super::connect::establish(&url).await })
    });
    let manager =
        AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(database_url, config);
    Pool::builder(manager)
        .post_create(Hook::sync_fn(|conn: &mut AsyncPgConnection, _| {
            opened(conn);
            Ok(())
        }))
        .pre_recycle(Hook::async_fn(|conn: &mut AsyncPgConnection, metrics| {
            Box::pin(async move {
                if metrics.last_used() < VERIFY_AFTER_IDLE {
                    return Ok(());
                }
                conn.batch_execute("SELECT 1")
                    .await
                    .map_err(|e| HookError::Message(e.to_string().into()))
            })
        }))
        .max_size(settings.max.max(1))
        .runtime(deadpool::Runtime::Tokio1)
        .wait_timeout(Some(settings.connection_timeout))
        .create_timeout(Some(settings.connection_timeout))
        .recycle_timeout(Some(settings.connection_timeout))
        .build()
        .expect("a pool with a runtime and timeouts always builds")
}

/// What every new connection gets, the pool's and the shared ones (super::shared): counted,
/// and its queries timed.
pub fn opened(conn: &mut AsyncPgConnection) {
    crate::telemetry::db_connection_opened();
    conn.set_instrumentation(QueryTimer::default());
}

/// Whether `error` means the connection is gone (its task ended, the server closed it or
/// is shutting down) rather than that a query failed on a working connection.
pub fn is_lost(error: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    match error {
        Error::DatabaseError(kind, info) => {
            matches!(
                kind,
                DatabaseErrorKind::UnableToSendCommand | DatabaseErrorKind::ClosedConnection
            ) || info.message().starts_with("terminating connection")
        }
        Error::BrokenTransactionManager => true,
        _ => false,
    }
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

/// Times every query on a connection, for `gatehouse_db_query_duration_seconds`. A
/// connection may have several queries in flight (pipelined); they finish in order.
#[derive(Default)]
struct QueryTimer {
    started: std::collections::VecDeque<Instant>,
}

impl Instrumentation for QueryTimer {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { .. } => self.started.push_back(Instant::now()),
            InstrumentationEvent::FinishQuery { error, .. } => {
                if let Some(started) = self.started.pop_front() {
                    crate::telemetry::db_query(started.elapsed(), error.is_some());
                }
            }
            _ => {}
        }
    }
}
