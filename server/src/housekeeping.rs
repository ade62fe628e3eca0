//! The background task that runs housekeeping (`services::housekeeping::sweep`) at start
//! and then every CLEANUP_INTERVAL_SECS.

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
            housekeeping::sweep(&services, audit_retention).await;
        }
    })
}
