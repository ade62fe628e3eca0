//! The `verification` table: emailed tokens, stored as the SHA-256 of the token.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::models::new_id;
use super::schema::verification;

pub async fn insert(
    conn: &mut AsyncPgConnection,
    identifier: &str,
    token_hash: &str,
    expires_at: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::insert_into(verification::table)
        .values((
            verification::id.eq(new_id()),
            verification::identifier.eq(identifier),
            verification::value.eq(token_hash),
            verification::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .await
}

/// The token's identifier and expiry, leaving it in place.
pub async fn find(
    conn: &mut AsyncPgConnection,
    token_hash: &str,
) -> QueryResult<Option<(String, DateTime<Utc>)>> {
    verification::table
        .filter(verification::value.eq(token_hash))
        .select((verification::identifier, verification::expires_at))
        .first(conn)
        .await
        .optional()
}

/// Deletes the row holding `token_hash` and returns its identifier and expiry: a token can
/// be taken once only, even by two requests at the same moment.
pub async fn take(
    conn: &mut AsyncPgConnection,
    token_hash: &str,
) -> QueryResult<Option<(String, DateTime<Utc>)>> {
    diesel::delete(verification::table.filter(verification::value.eq(token_hash)))
        .returning((verification::identifier, verification::expires_at))
        .get_result(conn)
        .await
        .optional()
}

/// Deletes the row named `identifier` and returns what it held and its expiry: for values
/// looked up by name (a passkey ceremony's state), taken once.
pub async fn take_identified(
    conn: &mut AsyncPgConnection,
    identifier: &str,
) -> QueryResult<Option<(String, DateTime<Utc>)>> {
    diesel::delete(verification::table.filter(verification::identifier.eq(identifier)))
        .returning((verification::value, verification::expires_at))
        .get_result(conn)
        .await
        .optional()
}

/// Whether a row named `identifier` is there.
pub async fn exists(conn: &mut AsyncPgConnection, identifier: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        verification::table.filter(verification::identifier.eq(identifier)),
    ))
    .get_result(conn)
    .await
}

/// Inserts a row named `identifier` unless a unique index already holds one: true when this
/// call wrote it. For names a unique index covers (`passkey-used:…`), so of two writers at
/// once one wins.
pub async fn insert_once(
    conn: &mut AsyncPgConnection,
    identifier: &str,
    value: &str,
    expires_at: DateTime<Utc>,
) -> QueryResult<bool> {
    let written = diesel::insert_into(verification::table)
        .values((
            verification::id.eq(new_id()),
            verification::identifier.eq(identifier),
            verification::value.eq(value),
            verification::expires_at.eq(expires_at),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(written == 1)
}

/// Deletes every token for `identifier` (say, every reset link of one user).
pub async fn delete_for(conn: &mut AsyncPgConnection, identifier: &str) -> QueryResult<usize> {
    diesel::delete(verification::table.filter(verification::identifier.eq(identifier)))
        .execute(conn)
        .await
}
