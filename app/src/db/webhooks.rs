//! The `webhook_delivery` table: the webhooks' outbox, one row per event and endpoint. Rows
//! are written in the transaction of the change they report; the worker claims each
//! endpoint's first pending row, posts it without holding a connection, and records how it
//! went.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Integer, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::webhook_delivery;

/// The channel an enqueued event is announced on (on commit; never for a rollback).
pub const CHANNEL: &str = "gatehouse_webhooks";

/// One event for one endpoint, as the worker claimed it.
#[derive(Clone, Debug, QueryableByName)]
pub struct Claimed {
    #[diesel(sql_type = BigInt)]
    pub seq: i64,
    #[diesel(sql_type = Text)]
    pub event_id: String,
    #[diesel(sql_type = Text)]
    pub event_type: String,
    #[diesel(sql_type = Text)]
    pub endpoint: String,
    #[diesel(sql_type = Text)]
    pub body: String,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    /// With this one.
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
}

/// Adds `body` (the event `event_id` of `event_type`) for each endpoint, and announces it.
pub async fn insert(
    conn: &mut AsyncPgConnection,
    event_id: &str,
    event_type: &str,
    body: &str,
    endpoints: &[&str],
) -> QueryResult<()> {
    let rows: Vec<_> = endpoints
        .iter()
        .map(|endpoint| {
            (
                webhook_delivery::event_id.eq(event_id),
                webhook_delivery::event_type.eq(event_type),
                webhook_delivery::endpoint.eq(*endpoint),
                webhook_delivery::body.eq(body),
            )
        })
        .collect();
    diesel::insert_into(webhook_delivery::table)
        .values(rows)
        .execute(conn)
        .await?;
    diesel::sql_query(format!("SELECT pg_notify('{CHANNEL}', '')"))
        .execute(conn)
        .await
        .map(|_| ())
}

/// The first pending row of each of `endpoints` whose attempt is due, claimed: its attempt
/// counted and its next one set `lease` ahead, so no other worker (of this instance or
/// another) takes it while it is on its way. One statement: two workers claiming at once
/// queue on the row, and the second finds it no longer due. A row after one that is not due
/// waits: an endpoint gets its events in order.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    endpoints: &[String],
    lease: std::time::Duration,
) -> QueryResult<Vec<Claimed>> {
    diesel::sql_query(
        "UPDATE webhook_delivery d
         SET attempts = d.attempts + 1,
             next_attempt_at = now() + $2 * interval '1 millisecond'
         FROM unnest($1::text[]) AS e(endpoint)
         CROSS JOIN LATERAL (
             SELECT seq FROM webhook_delivery
             WHERE endpoint = e.endpoint AND delivered_at IS NULL AND failed_at IS NULL
             ORDER BY seq LIMIT 1
         ) head
         WHERE d.seq = head.seq
           AND d.next_attempt_at <= now()
           AND d.delivered_at IS NULL AND d.failed_at IS NULL
         RETURNING d.seq, d.event_id, d.event_type, d.endpoint, d.body, d.created_at, d.attempts",
    )
    .bind::<Array<Text>, _>(endpoints)
    .bind::<BigInt, _>(millis(lease))
    .load(conn)
    .await
}

#[derive(QueryableByName)]
struct Due {
    #[diesel(sql_type = Nullable<BigInt>)]
    in_millis: Option<i64>,
}

/// How long until the first of `endpoints`' next deliveries is due, by the database's clock
/// (the one claims go by); `None` when nothing is pending.
pub async fn due_in(
    conn: &mut AsyncPgConnection,
    endpoints: &[String],
) -> QueryResult<Option<std::time::Duration>> {
    let due: Due = diesel::sql_query(
        "SELECT (EXTRACT(EPOCH FROM (min(head.next_attempt_at) - now())) * 1000)::bigint
             AS in_millis
         FROM unnest($1::text[]) AS e(endpoint)
         CROSS JOIN LATERAL (
             SELECT next_attempt_at FROM webhook_delivery
             WHERE endpoint = e.endpoint AND delivered_at IS NULL AND failed_at IS NULL
             ORDER BY seq LIMIT 1
         ) head",
    )
    .bind::<Array<Text>, _>(endpoints)
    .get_result(conn)
    .await?;
    Ok(due
        .in_millis
        .map(|ms| std::time::Duration::from_millis(ms.max(0).unsigned_abs())))
}

pub async fn mark_delivered(conn: &mut AsyncPgConnection, seq: i64) -> QueryResult<usize> {
    diesel::update(webhook_delivery::table.find(seq))
        .set((
            webhook_delivery::delivered_at.eq(Utc::now()),
            webhook_delivery::last_error.eq(None::<String>),
        ))
        .execute(conn)
        .await
}

/// Another attempt at `at`, after `error`.
pub async fn retry_at(
    conn: &mut AsyncPgConnection,
    seq: i64,
    at: DateTime<Utc>,
    error: &str,
) -> QueryResult<usize> {
    diesel::update(webhook_delivery::table.find(seq))
        .set((
            webhook_delivery::next_attempt_at.eq(at),
            webhook_delivery::last_error.eq(error),
        ))
        .execute(conn)
        .await
}

/// No more attempts: the row is failed, after `error`.
pub async fn give_up(conn: &mut AsyncPgConnection, seq: i64, error: &str) -> QueryResult<usize> {
    diesel::update(webhook_delivery::table.find(seq))
        .set((
            webhook_delivery::failed_at.eq(Utc::now()),
            webhook_delivery::last_error.eq(error),
        ))
        .execute(conn)
        .await
}

/// Deletes rows made before `before`, delivered, given up or (for an endpoint no longer
/// configured) never sent; returns how many.
pub async fn delete_before(
    conn: &mut AsyncPgConnection,
    before: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::delete(webhook_delivery::table.filter(webhook_delivery::created_at.lt(before)))
        .execute(conn)
        .await
}

fn millis(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// A delivery that failed at least once: still retried, or given up.
#[derive(Clone, Debug, Queryable)]
pub struct Failing {
    pub seq: i64,
    pub event_type: String,
    pub endpoint: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub next_attempt_at: DateTime<Utc>,
    pub failed_at: Option<DateTime<Utc>>,
}

/// Deliveries not delivered whose last attempt failed: those still retried, and those given
/// up since `given_up_since`; the newest first, at most `limit`.
pub async fn failing(
    conn: &mut AsyncPgConnection,
    given_up_since: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<Failing>> {
    use webhook_delivery as d;
    d::table
        .filter(d::delivered_at.is_null())
        .filter(d::attempts.gt(0))
        .filter(d::last_error.is_not_null())
        .filter(d::failed_at.is_null().or(d::failed_at.gt(given_up_since)))
        .order(d::seq.desc())
        .limit(limit)
        .select((
            d::seq,
            d::event_type,
            d::endpoint,
            d::attempts,
            d::last_error,
            d::next_attempt_at,
            d::failed_at,
        ))
        .load(conn)
        .await
}
