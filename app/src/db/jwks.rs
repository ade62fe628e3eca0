//! The `jwks` table (Better Auth's jwt plugin): signing keys for the JWTs backends check.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::schema::jwks;

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = jwks, check_for_backend(diesel::pg::Pg))]
pub struct StoredKey {
    pub id: String,
    /// The public half, a JWK as JSON.
    pub public_key: String,
    /// The private half, a JWK as JSON sealed with the token keys (Better Auth's own
    /// rows: sealed with its secret).
    pub private_key: String,
    pub created_at: DateTime<Utc>,
    /// When the key stopped signing; none while it is the one in use.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Every key, newest first.
pub async fn all(conn: &mut AsyncPgConnection) -> QueryResult<Vec<StoredKey>> {
    jwks::table
        .order(jwks::created_at.desc())
        .select(StoredKey::as_select())
        .load(conn)
        .await
}

/// Stores `key` and retires every other key still in use, in one transaction.
pub async fn insert_retiring_others(
    conn: &mut AsyncPgConnection,
    key: &StoredKey,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    conn.transaction(|conn| {
        async move {
            diesel::update(jwks::table.filter(jwks::expires_at.is_null()))
                .set(jwks::expires_at.eq(now))
                .execute(conn)
                .await?;
            diesel::insert_into(jwks::table)
                .values(key)
                .execute(conn)
                .await?;
            Ok(())
        }
        .scope_boxed()
    })
    .await
}

/// Deletes the keys retired before `cutoff`.
pub async fn delete_retired_before(
    conn: &mut AsyncPgConnection,
    cutoff: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::delete(jwks::table.filter(jwks::expires_at.lt(cutoff)))
        .execute(conn)
        .await
}

/// Every key's id and sealed private half, for `gatehouse keys rotate`.
pub async fn private_keys(conn: &mut AsyncPgConnection) -> QueryResult<Vec<(String, String)>> {
    jwks::table
        .select((jwks::id, jwks::private_key))
        .load(conn)
        .await
}

pub async fn set_private_key(
    conn: &mut AsyncPgConnection,
    id: &str,
    private_key: &str,
) -> QueryResult<usize> {
    diesel::update(jwks::table.find(id))
        .set(jwks::private_key.eq(private_key))
        .execute(conn)
        .await
}
