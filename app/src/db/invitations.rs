//! The `invitation` table: addresses an admin invited, with the role and tier they will
//! have, and the SHA-256 of the mailed link's token. An invitation is pending until it is
//! accepted, revoked or found expired; at most one is pending per address.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::models::new_id;
use super::schema::invitation;

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = invitation, check_for_backend(diesel::pg::Pg))]
pub struct Invitation {
    pub id: String,
    pub email: String,
    pub role: String,
    pub tier: String,
    pub invited_by: Option<String>,
    pub invited_by_label: String,
    pub created_at: DateTime<Utc>,
    pub sent_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub expired_at: Option<DateTime<Utc>>,
}

impl Invitation {
    /// Neither accepted, revoked nor marked expired (its time may still have run out).
    pub fn is_open(&self) -> bool {
        self.accepted_at.is_none() && self.revoked_at.is_none() && self.expired_at.is_none()
    }
}

pub struct NewInvitation<'a> {
    pub email: &'a str,
    pub role: &'a str,
    pub tier: &'a str,
    pub token_hash: &'a str,
    pub invited_by: Option<&'a str>,
    pub invited_by_label: &'a str,
    pub expires_at: DateTime<Utc>,
}

/// Inserts a pending invitation; `None` when the address already has one pending.
pub async fn insert(
    conn: &mut AsyncPgConnection,
    new: NewInvitation<'_>,
) -> QueryResult<Option<Invitation>> {
    diesel::insert_into(invitation::table)
        .values((
            invitation::id.eq(new_id()),
            invitation::email.eq(new.email),
            invitation::role.eq(new.role),
            invitation::tier.eq(new.tier),
            invitation::token_hash.eq(new.token_hash),
            invitation::invited_by.eq(new.invited_by),
            invitation::invited_by_label.eq(new.invited_by_label),
            invitation::expires_at.eq(new.expires_at),
        ))
        .on_conflict_do_nothing()
        .returning(Invitation::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// The invitation a link's token stands for, whatever its state.
pub async fn find_by_token(
    conn: &mut AsyncPgConnection,
    token_hash: &str,
) -> QueryResult<Option<Invitation>> {
    invitation::table
        .filter(invitation::token_hash.eq(token_hash))
        .select(Invitation::as_select())
        .first(conn)
        .await
        .optional()
}

/// The address's pending invitation, if any (its time may have run out).
pub async fn open_for(
    conn: &mut AsyncPgConnection,
    email: &str,
) -> QueryResult<Option<Invitation>> {
    invitation::table
        .filter(invitation::email.eq(email))
        .filter(invitation::accepted_at.is_null())
        .filter(invitation::revoked_at.is_null())
        .filter(invitation::expired_at.is_null())
        .select(Invitation::as_select())
        .first(conn)
        .await
        .optional()
}

/// Every pending invitation, newest first, at most `limit`.
pub async fn open(conn: &mut AsyncPgConnection, limit: i64) -> QueryResult<Vec<Invitation>> {
    invitation::table
        .filter(invitation::accepted_at.is_null())
        .filter(invitation::revoked_at.is_null())
        .filter(invitation::expired_at.is_null())
        .order((invitation::created_at.desc(), invitation::id.desc()))
        .limit(limit)
        .select(Invitation::as_select())
        .load(conn)
        .await
}

/// Which pending invitation [`accept`] takes.
#[derive(Clone, Copy, Debug)]
pub enum Pending<'a> {
    /// The one whose link has this token's digest.
    ByToken(&'a str),
    /// The address's (a sign-in with that verified address).
    ForEmail(&'a str),
}

/// Marks the pending invitation accepted by `user_id`, if it is still pending and in time;
/// `None` otherwise. One statement: of two acceptances at once, the second waits on the row
/// and then finds it taken.
pub async fn accept(
    conn: &mut AsyncPgConnection,
    which: Pending<'_>,
    user_id: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<Invitation>> {
    let pending = diesel::update(invitation::table)
        .filter(invitation::accepted_at.is_null())
        .filter(invitation::revoked_at.is_null())
        .filter(invitation::expired_at.is_null())
        .filter(invitation::expires_at.gt(now))
        .set((
            invitation::accepted_at.eq(now),
            invitation::accepted_by.eq(user_id),
        ))
        .into_boxed();
    let this = match which {
        Pending::ByToken(token_hash) => pending.filter(invitation::token_hash.eq(token_hash)),
        Pending::ForEmail(email) => pending.filter(invitation::email.eq(email)),
    };
    this.returning(Invitation::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// A new token and a new expiry for a pending invitation (resending): the old link stops
/// working. `None` when it is no longer pending.
pub async fn renew(
    conn: &mut AsyncPgConnection,
    id: &str,
    token_hash: &str,
    expires_at: DateTime<Utc>,
) -> QueryResult<Option<Invitation>> {
    diesel::update(
        invitation::table
            .find(id)
            .filter(invitation::accepted_at.is_null())
            .filter(invitation::revoked_at.is_null())
            .filter(invitation::expired_at.is_null()),
    )
    .set((
        invitation::token_hash.eq(token_hash),
        invitation::expires_at.eq(expires_at),
        invitation::sent_at.eq(Utc::now()),
    ))
    .returning(Invitation::as_returning())
    .get_result(conn)
    .await
    .optional()
}

/// Revokes a pending invitation; `None` when it is no longer pending.
pub async fn revoke(conn: &mut AsyncPgConnection, id: &str) -> QueryResult<Option<Invitation>> {
    diesel::update(
        invitation::table
            .find(id)
            .filter(invitation::accepted_at.is_null())
            .filter(invitation::revoked_at.is_null())
            .filter(invitation::expired_at.is_null()),
    )
    .set(invitation::revoked_at.eq(Utc::now()))
    .returning(Invitation::as_returning())
    .get_result(conn)
    .await
    .optional()
}

/// Marks every pending invitation whose time ran out before `now` expired, and returns them.
pub async fn mark_expired(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
) -> QueryResult<Vec<Invitation>> {
    diesel::update(
        invitation::table
            .filter(invitation::accepted_at.is_null())
            .filter(invitation::revoked_at.is_null())
            .filter(invitation::expired_at.is_null())
            .filter(invitation::expires_at.le(now)),
    )
    .set(invitation::expired_at.eq(now))
    .returning(Invitation::as_returning())
    .get_results(conn)
    .await
}

/// Keeps a bulk invitation's outcomes for `admin_id` until `expires_at`.
pub async fn insert_result(
    conn: &mut AsyncPgConnection,
    id: &str,
    admin_id: &str,
    outcomes: &serde_json::Value,
    expires_at: DateTime<Utc>,
) -> QueryResult<usize> {
    use super::schema::invitation_result as r;
    diesel::insert_into(r::table)
        .values((
            r::id.eq(id),
            r::admin_id.eq(admin_id),
            r::outcomes.eq(outcomes),
            r::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .await
}

/// The outcomes kept as `id` for `admin_id`, while they last.
pub async fn find_result(
    conn: &mut AsyncPgConnection,
    id: &str,
    admin_id: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<serde_json::Value>> {
    use super::schema::invitation_result as r;
    r::table
        .find(id)
        .filter(r::admin_id.eq(admin_id))
        .filter(r::expires_at.gt(now))
        .select(r::outcomes)
        .first(conn)
        .await
        .optional()
}

/// Deletes kept outcomes whose hour is over.
pub async fn delete_old_results(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    use super::schema::invitation_result as r;
    diesel::delete(r::table.filter(r::expires_at.le(now)))
        .execute(conn)
        .await
}

/// What an invitation gives the person: access, and its role and tier.
pub async fn grant_to_user(
    conn: &mut AsyncPgConnection,
    user_id: &str,
    role: &str,
    tier: &str,
) -> QueryResult<usize> {
    use super::schema::user;
    diesel::update(user::table.find(user_id))
        .set((
            user::is_whitelisted.eq(true),
            user::role.eq(role),
            user::tier.eq(tier),
            user::updated_at.eq(Utc::now()),
        ))
        .execute(conn)
        .await
}
