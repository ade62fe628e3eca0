//! The `account` table: one row per way to sign in.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::models::{new_id, Account};
use super::prebuilt::{statement, Prebuilt};
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

/// A provider account as stored: tokens already encrypted by the caller.
pub struct ProviderAccountRow<'a> {
    pub id: &'a str,
    pub user_id: &'a str,
    pub provider_id: &'a str,
    pub account_id: &'a str,
    pub tokens: &'a EncryptedTokens,
}

/// Provider tokens, encrypted, with their expiries and scope: read, inserted and replaced
/// as one (a `None` clears its column).
#[derive(Clone, Debug, Default, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = account, treat_none_as_null = true, check_for_backend(diesel::pg::Pg))]
pub struct EncryptedTokens {
    pub access_token: Option<String>,
    pub refresh_token: Option<String>,
    pub id_token: Option<String>,
    pub access_token_expires_at: Option<DateTime<Utc>>,
    pub refresh_token_expires_at: Option<DateTime<Utc>>,
    pub scope: Option<String>,
}

/// The account behind a provider's user id, if any.
pub async fn find_by_provider(
    conn: &mut AsyncPgConnection,
    provider_id: &str,
    account_id: &str,
) -> QueryResult<Option<Account>> {
    account::table
        .filter(account::provider_id.eq(provider_id))
        .filter(account::account_id.eq(account_id))
        .select(Account::as_select())
        .first(conn)
        .await
        .optional()
}

/// Inserts a provider account; `false` when that provider account is already someone's
/// (the unique key on provider and account id decides a race).
pub async fn insert_provider(
    conn: &mut AsyncPgConnection,
    row: ProviderAccountRow<'_>,
) -> QueryResult<bool> {
    let inserted = diesel::insert_into(account::table)
        .values((
            account::id.eq(row.id),
            account::account_id.eq(row.account_id),
            account::provider_id.eq(row.provider_id),
            account::user_id.eq(row.user_id),
            row.tokens,
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(inserted == 1)
}

/// Replaces an account's provider tokens (a new sign-in or a refresh).
pub async fn replace_tokens(
    conn: &mut AsyncPgConnection,
    id: &str,
    t: &EncryptedTokens,
) -> QueryResult<usize> {
    diesel::update(account::table.find(id))
        .set((t, account::updated_at.eq(Utc::now())))
        .execute(conn)
        .await
}

/// The stored tokens of one account.
pub async fn tokens(conn: &mut AsyncPgConnection, id: &str) -> QueryResult<EncryptedTokens> {
    account::table
        .find(id)
        .select(EncryptedTokens::as_select())
        .first(conn)
        .await
}

/// Every way the user signs in, oldest first.
pub async fn of_user(mut conn: &AsyncPgConnection, user_id: &str) -> QueryResult<Vec<Account>> {
    statement!(AccountsOfUser);
    let query = account::table
        .filter(account::user_id.eq(user_id))
        .order(account::created_at)
        .select(Account::as_select());
    Prebuilt::<_, AccountsOfUser>::new(query)
        .load(&mut conn)
        .await
}

/// Removes the user's account with `provider_id`; how many rows went.
/// Deletes one of the user's accounts, by its row id.
pub async fn delete_one(
    conn: &mut AsyncPgConnection,
    user_id: &str,
    id: &str,
) -> QueryResult<usize> {
    diesel::delete(
        account::table
            .filter(account::user_id.eq(user_id))
            .filter(account::id.eq(id)),
    )
    .execute(conn)
    .await
}

/// Every way the user signs in: their accounts, oldest first, and how many passkeys they
/// have. One statement, as the profile asks for both on every view: the user's row left
/// joined to their accounts (so a user with passkeys only still gets a row), the passkey
/// count a subquery beside each.
pub async fn ways_in(mut conn: &AsyncPgConnection, user_id: &str) -> QueryResult<WaysIn> {
    use super::schema::{passkey, user};
    statement!(WaysInOfUser);
    let passkeys = passkey::table
        .filter(passkey::user_id.eq(user_id))
        .count()
        .single_value();
    let query = user::table
        .left_join(account::table)
        .filter(user::id.eq(user_id))
        .order(account::created_at)
        .select((Option::<Account>::as_select(), passkeys));
    let rows: Vec<(Option<Account>, Option<i64>)> = Prebuilt::<_, WaysInOfUser>::new(query)
        .load(&mut conn)
        .await?;
    let passkeys = rows.iter().find_map(|(_, count)| *count).unwrap_or(0);
    let accounts = rows
        .into_iter()
        .filter_map(|(account, _)| account)
        .collect();
    Ok(WaysIn { accounts, passkeys })
}

/// What [`ways_in`] finds.
pub struct WaysIn {
    pub accounts: Vec<Account>,
    pub passkeys: i64,
}
