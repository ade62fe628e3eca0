//! The background task that deletes expired sessions and verification tokens, and forgets
//! rate-limit counters that are full again, and audit events past their retention.

use std::time::Duration;

use gatehouse_app::services::housekeeping;
use gatehouse_app::services::Services;
use tokio::task::JoinHandle;

/// Sweeps at once, then every `interval`, until the returned task is aborted.
pub fn spawn(
    services: Services,
    interval: Duration,
    audit_retention: chrono::Duration,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            services.limits.tidy();
            match housekeeping::sweep_audit(&services.pool, audit_retention).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(events = n, "deleted audit events past retention"),
                Err(e) => tracing::warn!(error = %e, "could not apply audit retention"),
            }
            match housekeeping::sweep_expired(&services.pool).await {
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
