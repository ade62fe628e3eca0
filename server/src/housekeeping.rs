//! The background task that deletes expired sessions and verification tokens.

use std::time::Duration;

use gatehouse_app::db::DbPool;
use gatehouse_app::services::housekeeping;
use tokio::task::JoinHandle;

/// Sweeps at once, then every `interval`, until the returned task is aborted.
pub fn spawn(pool: DbPool, interval: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match housekeeping::sweep_expired(&pool).await {
                Ok(swept) => tracing::debug!(
                    sessions = swept.sessions,
                    verifications = swept.verifications,
                    "deleted expired rows"
                ),
                Err(e) => tracing::warn!(error = %e, "could not delete expired rows"),
            }
        }
    })
}
