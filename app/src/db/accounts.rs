//! The `account` table: one row per way to sign in.

use chrono::Utc;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::models::{new_id, Account};
use super::schema::account;

/// The provider id of email-and-password accounts, as Better Auth names it.
pub const CREDENTIAL: &str = "credential";

/// The user's password account, if they have one.
pub async fn credential(
    conn: &mut AsyncPgConnection,
    user_id: &str,
) -> QueryResult<Option<Account>> {
    account::table
        .filter(account::user_id.eq(user_id))
        .filter(account::provider_id.eq(CREDENTIAL))
        .select(Account::as_select())
        .first(conn)
        .await
        .optional()
}

/// Gives the user a password account (as Better Auth does: accountId is the user id).
pub async fn insert_credential(
    conn: &mut AsyncPgConnection,
    user_id: &str,
    password_hash: &str,
) -> QueryResult<usize> {
    diesel::insert_into(account::table)
        .values((
            account::id.eq(new_id()),
            account::account_id.eq(user_id),
            account::provider_id.eq(CREDENTIAL),
            account::user_id.eq(user_id),
            account::password.eq(password_hash),
        ))
        .execute(conn)
        .await
}

/// Replaces the user's password hash, creating the password account if there is none.
pub async fn set_password(
    conn: &mut AsyncPgConnection,
    user_id: &str,
    password_hash: &str,
) -> QueryResult<()> {
    let updated = diesel::update(
        account::table
            .filter(account::user_id.eq(user_id))
            .filter(account::provider_id.eq(CREDENTIAL)),
    )
    .set((
        account::password.eq(password_hash),
        account::updated_at.eq(Utc::now()),
    ))
    .execute(conn)
    .await?;
    if updated == 0 {
        insert_credential(conn, user_id, password_hash).await?;
    }
    Ok(())
}

/// The provider tokens of one account row: (id, access, refresh, id token).
pub type StoredTokens = (String, Option<String>, Option<String>, Option<String>);

/// The next `limit` accounts after `after_id` (by id) that hold any provider token, locked
/// until the transaction ends.
pub async fn lock_tokens_after(
    conn: &mut AsyncPgConnection,
    after_id: &str,
    limit: i64,
) -> QueryResult<Vec<StoredTokens>> {
    account::table
        .filter(account::id.gt(after_id))
        .filter(
            account::access_token
                .is_not_null()
                .or(account::refresh_token.is_not_null())
                .or(account::id_token.is_not_null()),
        )
        .order(account::id)
        .select((
            account::id,
            account::access_token,
            account::refresh_token,
            account::id_token,
        ))
        .limit(limit)
        .for_update()
        .load(conn)
        .await
}

pub async fn set_tokens(conn: &mut AsyncPgConnection, tokens: &StoredTokens) -> QueryResult<usize> {
    let (id, access, refresh, id_token) = tokens;
    diesel::update(account::table.find(id))
        .set((
            account::access_token.eq(access),
            account::refresh_token.eq(refresh),
            account::id_token.eq(id_token),
        ))
        .execute(conn)
        .await
}
