//! Deleting rows whose time is up.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::{session, verification};

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
