//! The background task that runs housekeeping (`services::housekeeping::sweep`) at start
//! and then every CLEANUP_INTERVAL_SECS.

use gatehouse_app::db::DbPool;
use gatehouse_app::services::housekeeping;
use gatehouse_app::services::Services;
use tokio::task::JoinHandle;

use crate::config::Housekeeping;

/// Sweeps at once, then every `config.interval`, until the returned task is aborted; the
/// audit log's retention deletes through `owner` (see `services::housekeeping::sweep`).
pub fn spawn(services: Services, config: Housekeeping, owner: DbPool) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(config.interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            housekeeping::sweep(&services, config.audit_retention, &owner).await;
        }
    })
}
