//! The `user` table.

use chrono::Utc;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::models::{new_id, User};
use super::schema::user;

pub async fn find_by_email(conn: &mut AsyncPgConnection, email: &str) -> QueryResult<Option<User>> {
    user::table
        .filter(user::email.eq(email))
        .select(User::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn find(conn: &mut AsyncPgConnection, id: &str) -> QueryResult<Option<User>> {
    user::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .await
        .optional()
}

/// Inserts a user; `None` when the email is taken (a concurrent sign-up won the race).
pub async fn insert(
    conn: &mut AsyncPgConnection,
    name: &str,
    email: &str,
    email_verified: bool,
) -> QueryResult<Option<User>> {
    diesel::insert_into(user::table)
        .values((
            user::id.eq(new_id()),
            user::name.eq(name),
            user::email.eq(email),
            user::email_verified.eq(email_verified),
        ))
        .on_conflict_do_nothing()
        .returning(User::as_returning())
        .get_result(conn)
        .await
        .optional()
}

pub async fn set_name(conn: &mut AsyncPgConnection, id: &str, name: &str) -> QueryResult<usize> {
    diesel::update(user::table.find(id))
        .set((user::name.eq(name), user::updated_at.eq(Utc::now())))
        .execute(conn)
        .await
}

pub async fn mark_email_verified(conn: &mut AsyncPgConnection, id: &str) -> QueryResult<usize> {
    diesel::update(user::table.find(id))
        .set((
            user::email_verified.eq(true),
            user::updated_at.eq(Utc::now()),
        ))
        .execute(conn)
        .await
}

/// Deletes the user; their sessions, accounts, passkeys and jobs go with them (CASCADE).
pub async fn delete(conn: &mut AsyncPgConnection, id: &str) -> QueryResult<usize> {
    diesel::delete(user::table.find(id)).execute(conn).await
}

pub async fn set_whitelisted(
    conn: &mut AsyncPgConnection,
    id: &str,
    on: bool,
) -> QueryResult<usize> {
    diesel::update(user::table.find(id))
        .set((user::is_whitelisted.eq(on), user::updated_at.eq(Utc::now())))
        .execute(conn)
        .await
}

pub async fn set_role(conn: &mut AsyncPgConnection, id: &str, role: &str) -> QueryResult<usize> {
    diesel::update(user::table.find(id))
        .set((user::role.eq(role), user::updated_at.eq(Utc::now())))
        .execute(conn)
        .await
}

pub async fn set_tier(conn: &mut AsyncPgConnection, id: &str, tier: &str) -> QueryResult<usize> {
    diesel::update(user::table.find(id))
        .set((user::tier.eq(tier), user::updated_at.eq(Utc::now())))
        .execute(conn)
        .await
}

/// Bans (with a reason) or lifts a ban.
pub async fn set_ban(
    conn: &mut AsyncPgConnection,
    id: &str,
    reason: Option<&str>,
) -> QueryResult<usize> {
    diesel::update(user::table.find(id))
        .set((
            user::banned.eq(reason.is_some()),
            user::ban_reason.eq(reason),
            user::ban_expires.eq(None::<chrono::DateTime<Utc>>),
            user::updated_at.eq(Utc::now()),
        ))
        .execute(conn)
        .await
}

/// The user's row, locked until the transaction ends, so concurrent changes queue.
pub async fn lock(conn: &mut AsyncPgConnection, id: &str) -> QueryResult<Option<User>> {
    user::table
        .find(id)
        .select(User::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Every admin who is not banned, locked: the last-admin rule counts them.
pub async fn lock_active_admins(conn: &mut AsyncPgConnection) -> QueryResult<Vec<String>> {
    user::table
        .filter(user::role.eq("admin"))
        .filter(user::banned.eq(false))
        .order(user::id)
        .select(user::id)
        .for_update()
        .load(conn)
        .await
}

/// Marks the account's address as one taken by a change of address, now.
pub async fn mark_email_changed(conn: &mut AsyncPgConnection, id: &str) -> QueryResult<usize> {
    diesel::update(user::table.find(id))
        .set(user::email_changed_at.eq(Utc::now()))
        .execute(conn)
        .await
}

/// Sets a confirmed address: `None` when another account holds it already (the unique index
/// decides, whoever else is taking it at the same moment).
pub async fn set_confirmed_email(
    conn: &mut AsyncPgConnection,
    id: &str,
    email: &str,
) -> QueryResult<Option<User>> {
    let taken = user::table
        .filter(user::email.eq(email).and(user::id.ne(id)))
        .select(user::id)
        .first::<String>(conn)
        .await
        .optional()?;
    if taken.is_some() {
        return Ok(None);
    }
    diesel::update(user::table.find(id))
        .set((
            user::email.eq(email),
            user::email_verified.eq(true),
            user::updated_at.eq(Utc::now()),
        ))
        .returning(User::as_returning())
        .get_result(conn)
        .await
        .optional()
}
