//! The `gatehouse_rate_limit` table: rate-limit counters shared by every instance, as GCRA
//! (the generic cell rate algorithm): each key keeps the time at which its quota would be
//! full again if no attempt came ("theoretical arrival time").

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

#[derive(QueryableByName)]
struct Taken {
    #[diesel(sql_type = Bool)]
    allowed: bool,
    /// When refused: how long until the next attempt would be allowed (unknown when the
    /// row came from a transaction this statement's snapshot does not see yet).
    #[diesel(sql_type = Nullable<BigInt>)]
    wait_micros: Option<i64>,
}

/// Counts one attempt against `key` (one every `period`, `burst` at once); `None` when it is
/// allowed, else how long until the next one would be. One statement, so concurrent attempts
/// from every instance are counted one after the other by the row's lock.
pub async fn take(
    conn: &mut AsyncPgConnection,
    key: &str,
    period: Duration,
    burst: u32,
) -> QueryResult<Option<Duration>> {
    let period = micros(period);
    let taken: Taken = diesel::sql_query(
        "WITH counted AS (
             INSERT INTO gatehouse_rate_limit AS r (key, tat)
             VALUES ($1, now() + $2 * interval '1 microsecond')
             ON CONFLICT (key) DO UPDATE
                 SET tat = GREATEST(r.tat, now()) + $2 * interval '1 microsecond'
                 WHERE r.tat <= now() + ($3 - 1) * $2 * interval '1 microsecond'
             RETURNING 1
         )
         SELECT EXISTS (SELECT 1 FROM counted) AS allowed,
                (SELECT (EXTRACT(EPOCH FROM (tat - now())) * 1000000)::bigint - ($3 - 1) * $2
                 FROM gatehouse_rate_limit WHERE key = $1) AS wait_micros",
    )
    .bind::<Text, _>(key)
    .bind::<BigInt, _>(period)
    .bind::<BigInt, _>(i64::from(burst))
    .get_result(conn)
    .await?;
    if taken.allowed {
        return Ok(None);
    }
    let wait = taken.wait_micros.unwrap_or(period).max(0).unsigned_abs();
    Ok(Some(Duration::from_micros(wait)))
}

/// Gives back one attempt counted against `key` (one every `period`): as if it had not been
/// counted, but never more than a full quota.
pub async fn give_back(
    conn: &mut AsyncPgConnection,
    key: &str,
    period: Duration,
) -> QueryResult<usize> {
    diesel::sql_query(
        "UPDATE gatehouse_rate_limit
         SET tat = GREATEST(tat - $2 * interval '1 microsecond', now())
         WHERE key = $1",
    )
    .bind::<Text, _>(key)
    .bind::<BigInt, _>(micros(period))
    .execute(conn)
    .await
}

/// A period as the statements bind it: microseconds.
fn micros(period: Duration) -> i64 {
    i64::try_from(period.as_micros()).unwrap_or(i64::MAX)
}

/// Forgets keys whose quota is full again (their time has come): they count as new.
pub async fn delete_full(conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> QueryResult<usize> {
    diesel::sql_query("DELETE FROM gatehouse_rate_limit WHERE tat < $1")
        .bind::<Timestamptz, _>(now)
        .execute(conn)
        .await
}
