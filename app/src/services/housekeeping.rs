//! Housekeeping: removing what has expired, so the tables hold only what can still be used,
//! audit events past their retention, webhook deliveries a week old, rate-limit counters
//! that are full again, and invitations whose week ran out (marked expired, audited). The
//! server runs [`sweep`] at start and then every CLEANUP_INTERVAL_SECS.

use chrono::Utc;

use super::{Refusal, Services};
use crate::db::{maintenance, DbPool};

/// How many rows one sweep removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Swept {
    pub sessions: usize,
    pub verifications: usize,
    /// Changes of email address whose links have both run out.
    pub email_changes: usize,
}

/// One round of housekeeping, on one instance at a time: the others, finding the lock
/// taken, skip the round (the memory of their own rate limiter is tidied either way). What
/// fails is logged, and the next round tries again.
///
/// `owner` is the pool the audit log's retention deletes through: the schema owner's when
/// serving runs as a role that may not delete audit events (MIGRATION_DATABASE_URL).
pub async fn sweep(services: &Services, audit_retention: chrono::Duration, owner: &DbPool) {
    services.limits.tidy();
    let mut lock = match services.pool.get().await {
        Ok(conn) => conn,
        Err(e) => return tracing::warn!(error = %e, "no connection for housekeeping"),
    };
    match maintenance::try_lock_housekeeping(&mut lock).await {
        Ok(true) => {}
        Ok(false) => return tracing::debug!("another instance is doing the housekeeping"),
        Err(e) => return tracing::warn!(error = %e, "could not take the housekeeping lock"),
    }
    sweep_all(services, audit_retention, owner).await;
    if let Err(e) = maintenance::unlock_housekeeping(&mut lock).await {
        tracing::warn!(error = %e, "could not let go of the housekeeping lock");
    }
}

async fn sweep_all(services: &Services, audit_retention: chrono::Duration, owner: &DbPool) {
    match super::rate_limit::tidy_shared(services).await {
        Ok(n) => tracing::debug!(keys = n, "forgot rate-limit keys whose quota is full"),
        Err(e) => tracing::warn!(error = %e, "could not tidy the rate limits"),
    }
    match sweep_audit(owner, audit_retention).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(events = n, "deleted audit events past retention"),
        Err(e) => tracing::warn!(error = %e, "could not apply audit retention"),
    }
    match sweep_webhooks(&services.pool).await {
        Ok(0) => {}
        Ok(n) => tracing::debug!(deliveries = n, "deleted webhook deliveries a week old"),
        Err(e) => tracing::warn!(error = %e, "could not delete old webhook deliveries"),
    }
    match super::invitations::sweep(services).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(invitations = n, "invitations expired"),
        Err(e) => tracing::warn!(error = %e, "could not expire invitations"),
    }
    match sweep_expired(&services.pool).await {
        Ok(swept) => tracing::debug!(
            sessions = swept.sessions,
            verifications = swept.verifications,
            email_changes = swept.email_changes,
            "deleted expired rows"
        ),
        Err(e) => tracing::warn!(error = %e, "could not delete expired rows"),
    }
}

/// Deletes every expired session and verification token, and every change of email
/// address whose links have run out.
pub async fn sweep_expired(pool: &DbPool) -> Result<Swept, Refusal> {
    let mut conn = pool.get().await?;
    let now = Utc::now();
    Ok(Swept {
        sessions: maintenance::delete_expired_sessions(&mut conn, now).await?,
        verifications: maintenance::delete_expired_verifications(&mut conn, now).await?,
        email_changes: crate::db::email_changes::delete_finished(&mut conn, now).await?,
    })
}

/// Deletes audit events older than `retention`: the only deletion the audit log allows.
pub async fn sweep_audit(pool: &DbPool, retention: chrono::Duration) -> Result<usize, Refusal> {
    let mut conn = pool.get().await?;
    Ok(maintenance::delete_audit_before(&mut conn, Utc::now() - retention).await?)
}

/// How long the webhooks' outbox keeps a row: long past its last attempt (a delivery is given
/// up a day after its event), so a week of deliveries can be looked into.
pub const WEBHOOK_ROWS_KEPT: chrono::Duration = chrono::Duration::days(7);

/// Deletes webhook deliveries made more than [`WEBHOOK_ROWS_KEPT`] ago: delivered, given up,
/// or left for an endpoint no longer in WEBHOOK_URLS.
pub async fn sweep_webhooks(pool: &DbPool) -> Result<usize, Refusal> {
    let mut conn = pool.get().await?;
    let before = Utc::now() - WEBHOOK_ROWS_KEPT;
    Ok(crate::db::webhooks::delete_before(&mut conn, before).await?)
}
