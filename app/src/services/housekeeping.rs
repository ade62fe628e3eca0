//! Housekeeping: removing what has expired, so the tables hold only what can still be used,
//! audit events past their retention, and rate-limit counters that are full again. The
//! server runs [`sweep`] at start and then every CLEANUP_INTERVAL_SECS.

use chrono::Utc;

use super::{Refusal, Services};
use crate::db::{maintenance, DbPool};

/// How many rows one sweep removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Swept {
    pub sessions: usize,
    pub verifications: usize,
}

/// One round of housekeeping; what fails is logged, and the next round tries again.
pub async fn sweep(services: &Services, audit_retention: chrono::Duration) {
    services.limits.tidy();
    match sweep_audit(&services.pool, audit_retention).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(events = n, "deleted audit events past retention"),
        Err(e) => tracing::warn!(error = %e, "could not apply audit retention"),
    }
    match sweep_expired(&services.pool).await {
        Ok(swept) => tracing::debug!(
            sessions = swept.sessions,
            verifications = swept.verifications,
            "deleted expired rows"
        ),
        Err(e) => tracing::warn!(error = %e, "could not delete expired rows"),
    }
}

/// Deletes every expired session and verification token.
pub async fn sweep_expired(pool: &DbPool) -> Result<Swept, Refusal> {
    let mut conn = pool.get().await?;
    let now = Utc::now();
    Ok(Swept {
        sessions: maintenance::delete_expired_sessions(&mut conn, now).await?,
        verifications: maintenance::delete_expired_verifications(&mut conn, now).await?,
    })
}

/// Deletes audit events older than `retention`: the only deletion the audit log allows.
pub async fn sweep_audit(pool: &DbPool, retention: chrono::Duration) -> Result<usize, Refusal> {
    let mut conn = pool.get().await?;
    Ok(maintenance::delete_audit_before(&mut conn, Utc::now() - retention).await?)
}
