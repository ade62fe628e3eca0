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
