//! Housekeeping's deletions: rows whose time is up, and audit events past their retention.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::{audit_event, session, verification};

/// Deletes sessions that expired before `now`; returns how many.
pub async fn delete_expired_sessions(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::delete(session::table.filter(session::expires_at.lt(now)))
        .execute(conn)
        .await
}

/// Deletes verification tokens that expired before `now`; returns how many.
pub async fn delete_expired_verifications(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::delete(verification::table.filter(verification::expires_at.lt(now)))
        .execute(conn)
        .await
}

/// Deletes audit events older than `before` (the retention job; the table's trigger allows
/// it only with the setting below, in this transaction).
pub async fn delete_audit_before(
    conn: &mut AsyncPgConnection,
    before: DateTime<Utc>,
) -> QueryResult<usize> {
    use diesel_async::scoped_futures::ScopedFutureExt;
    use diesel_async::{AsyncConnection, SimpleAsyncConnection};
    conn.transaction(|conn| {
        async move {
            conn.batch_execute("SET LOCAL gatehouse.audit_retention = 'on'")
                .await?;
            diesel::delete(audit_event::table.filter(audit_event::created_at.lt(before)))
                .execute(conn)
                .await
        }
        .scope_boxed()
    })
    .await
}
