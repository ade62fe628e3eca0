//! Removing what has expired, so the tables hold only what can still be used.

use chrono::Utc;

use super::Refusal;
use crate::db::{maintenance, DbPool};

/// How many rows one sweep removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Swept {
    pub sessions: usize,
    pub verifications: usize,
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
    Ok(crate::db::admin::delete_audit_before(&mut conn, Utc::now() - retention).await?)
}
