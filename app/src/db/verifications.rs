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

/// Deletes every token for `identifier` (say, every reset link of one user).
pub async fn delete_for(conn: &mut AsyncPgConnection, identifier: &str) -> QueryResult<usize> {
    diesel::delete(verification::table.filter(verification::identifier.eq(identifier)))
        .execute(conn)
        .await
}
