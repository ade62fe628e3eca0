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

/// The advisory lock that makes one instance at a time do housekeeping ("gatehous").
const HOUSEKEEPING_LOCK: i64 = 0x6761_7465_686f_7573;

#[derive(diesel::QueryableByName)]
struct Locked {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    locked: bool,
}

/// Takes the housekeeping lock on this connection unless another holds it; it lasts until
/// [`unlock_housekeeping`] or the connection's end (a crashed instance lets go of it).
pub async fn try_lock_housekeeping(conn: &mut AsyncPgConnection) -> QueryResult<bool> {
    let locked: Locked = diesel::sql_query("SELECT pg_try_advisory_lock($1) AS locked")
        .bind::<diesel::sql_types::BigInt, _>(HOUSEKEEPING_LOCK)
        .get_result(conn)
        .await?;
    Ok(locked.locked)
}

pub async fn unlock_housekeeping(conn: &mut AsyncPgConnection) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_unlock($1)")
        .bind::<diesel::sql_types::BigInt, _>(HOUSEKEEPING_LOCK)
        .execute(conn)
        .await
        .map(|_| ())
}
