//! Reaching the database at start: the pool, with retries and backoff, and the migrations.

use std::time::Duration;

use diesel_async::{AsyncConnection, AsyncPgConnection};
use gatehouse_app::db::{migrations, pool, DbPool, PoolSettings};

#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error("cannot reach the database after {attempts} attempts: {last_error}")]
    Unreachable { attempts: usize, last_error: String },
    #[error("cannot connect to the database: {0}")]
    Connect(#[from] diesel::ConnectionError),
    #[error(transparent)]
    Migration(#[from] migrations::MigrationError),
}

/// Builds the pool and opens its first connections, retrying after each delay in `retries`
/// (1 s, 2 s, 4 s by default) while the database cannot be reached.
pub async fn connect(
    database_url: &str,
    settings: &PoolSettings,
    retries: &[Duration],
) -> Result<DbPool, DatabaseError> {
    let pool = pool::build(database_url, settings);
    let mut delays = retries.iter();
    let mut attempts = 0;
    loop {
        attempts += 1;
        let error = match pool::warm_up(&pool, settings).await {
            Ok(()) => return Ok(pool),
            Err(e) => e.to_string(),
        };
        match delays.next() {
            Some(delay) => {
                tracing::warn!(
                    attempt = attempts,
                    retry_in_ms = delay.as_millis() as u64,
                    error = %error,
                    "database not reachable yet; retrying"
                );
                tokio::time::sleep(*delay).await;
            }
            None => {
                return Err(DatabaseError::Unreachable {
                    attempts,
                    last_error: error,
                })
            }
        }
    }
}

/// Applies every pending migration on a connection of its own, in one transaction, and logs
/// each change it made (what `gatehouse db plan` would have printed).
pub async fn migrate(database_url: &str) -> Result<migrations::Plan, DatabaseError> {
    let conn = AsyncPgConnection::establish(database_url).await?;
    let (_, plan) = migrations::run_pending(conn).await?;
    for version in &plan.migrations {
        tracing::info!(%version, "applied migration");
    }
    for change in &plan.changes {
        tracing::info!("database changed: {change}");
    }
    Ok(plan)
}

/// What `migrate` would change, changing nothing.
pub async fn plan(database_url: &str) -> Result<migrations::Plan, DatabaseError> {
    let conn = AsyncPgConnection::establish(database_url).await?;
    let (_, plan) = migrations::plan(conn).await?;
    Ok(plan)
}
