//! The `session` table. `token` holds the SHA-256 of the cookie's token, never the token.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::models::{new_id, Session, User};
use super::prebuilt::{statement, Prebuilt};
use super::schema::{session, user};

pub struct NewSession<'a> {
    pub user_id: &'a str,
    pub token_hash: &'a str,
    pub expires_at: DateTime<Utc>,
    pub ip_address: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    /// How the sign-in went (RFC 8176 methods).
    pub amr: &'a [&'a str],
}

pub async fn insert(conn: &mut AsyncPgConnection, new: NewSession<'_>) -> QueryResult<Session> {
    diesel::insert_into(session::table)
        .values((
            session::id.eq(new_id()),
            session::user_id.eq(new.user_id),
            session::token.eq(new.token_hash),
            session::expires_at.eq(new.expires_at),
            session::ip_address.eq(new.ip_address),
            session::user_agent.eq(new.user_agent),
            session::amr.eq(new.amr),
        ))
        .returning(Session::as_returning())
        .get_result(conn)
        .await
}

/// The unexpired session with this token hash, and its user: every request's first query.
/// It takes the connection shared, so lookups pipeline (super::shared).
pub async fn find_live(
    mut conn: &AsyncPgConnection,
    token_hash: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<(Session, User)>> {
    statement!(LiveSession);
    let query = session::table
        .inner_join(user::table)
        .filter(session::token.eq(token_hash))
        .filter(session::expires_at.gt(now))
        .select((Session::as_select(), User::as_select()));
    Prebuilt::<_, LiveSession>::new(query)
        .get_result(&mut conn)
        .await
        .optional()
}

/// Moves the expiry on and records the activity.
pub async fn extend(
    conn: &mut AsyncPgConnection,
    id: &str,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(session::table.find(id))
        .set((
            session::expires_at.eq(expires_at),
            session::updated_at.eq(now),
        ))
        .execute(conn)
        .await
}

/// The user's unexpired sessions, newest first.
pub async fn list_live(
    mut conn: &AsyncPgConnection,
    user_id: &str,
    now: DateTime<Utc>,
) -> QueryResult<Vec<Session>> {
    statement!(LiveSessionsOfUser);
    let query = session::table
        .filter(session::user_id.eq(user_id))
        .filter(session::expires_at.gt(now))
        .order(session::created_at.desc())
        .select(Session::as_select());
    Prebuilt::<_, LiveSessionsOfUser>::new(query)
        .load(&mut conn)
        .await
}

/// Deletes one of the user's sessions; 0 when it is not theirs.
pub async fn delete_own(
    conn: &mut AsyncPgConnection,
    user_id: &str,
    id: &str,
) -> QueryResult<usize> {
    diesel::delete(
        session::table
            .filter(session::user_id.eq(user_id))
            .filter(session::id.eq(id)),
    )
    .execute(conn)
    .await
}

/// Deletes every session of the user except `keep` (none kept when `None`).
pub async fn delete_all_but(
    conn: &mut AsyncPgConnection,
    user_id: &str,
    keep: Option<&str>,
) -> QueryResult<usize> {
    let of_user = session::table.filter(session::user_id.eq(user_id));
    match keep {
        Some(keep) => {
            diesel::delete(of_user.filter(session::id.ne(keep)))
                .execute(conn)
                .await
        }
        None => diesel::delete(of_user).execute(conn).await,
    }
}
