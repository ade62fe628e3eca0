//! The `email_change` table: a change of address waiting for its confirmation, or confirmed
//! and still undoable. Tokens are stored as their SHA-256.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::models::new_id;
use super::schema::{account, email_change, passkey, two_factor, user};

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = email_change, check_for_backend(diesel::pg::Pg))]
pub struct EmailChange {
    pub id: String,
    pub user_id: String,
    pub old_email: String,
    pub new_email: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub undo_until: DateTime<Utc>,
}

/// A new change for `user_id`, in place of any earlier one still waiting for confirmation
/// (its link stops working).
pub async fn replace_pending(
    conn: &mut AsyncPgConnection,
    user_id: &str,
    old_email: &str,
    new_email: &str,
    (confirm_digest, undo_digest): (&str, &str),
    expires_at: DateTime<Utc>,
) -> QueryResult<()> {
    cancel_pending(conn, user_id).await?;
    diesel::insert_into(email_change::table)
        .values((
            email_change::id.eq(new_id()),
            email_change::user_id.eq(user_id),
            email_change::old_email.eq(old_email),
            email_change::new_email.eq(new_email),
            email_change::confirm_token.eq(confirm_digest),
            email_change::undo_token.eq(undo_digest),
            email_change::expires_at.eq(expires_at),
            email_change::undo_until.eq(expires_at),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes the change of `user_id` still waiting for confirmation, if any.
pub async fn cancel_pending(conn: &mut AsyncPgConnection, user_id: &str) -> QueryResult<usize> {
    diesel::delete(
        email_change::table.filter(
            email_change::user_id
                .eq(user_id)
                .and(email_change::confirmed_at.is_null()),
        ),
    )
    .execute(conn)
    .await
}

/// The change of `user_id` waiting for confirmation, if any (expired or not).
pub async fn pending_of(
    conn: &mut AsyncPgConnection,
    user_id: &str,
) -> QueryResult<Option<EmailChange>> {
    email_change::table
        .filter(
            email_change::user_id
                .eq(user_id)
                .and(email_change::confirmed_at.is_null()),
        )
        .select(EmailChange::as_select())
        .first(conn)
        .await
        .optional()
}

/// The unconfirmed change a confirmation link's digest belongs to; `lock`ed for the rest
/// of the transaction when it is to be confirmed.
pub async fn find_by_confirm_token(
    conn: &mut AsyncPgConnection,
    digest: &str,
    lock: bool,
) -> QueryResult<Option<EmailChange>> {
    let query = email_change::table
        .filter(
            email_change::confirm_token
                .eq(digest)
                .and(email_change::confirmed_at.is_null()),
        )
        .select(EmailChange::as_select());
    if lock {
        query.for_update().first(conn).await.optional()
    } else {
        query.first(conn).await.optional()
    }
}

/// The change either undo link's digest belongs to, if any, leaving it in place.
pub async fn find_by_undo_token(
    conn: &mut AsyncPgConnection,
    digest: &str,
) -> QueryResult<Option<EmailChange>> {
    email_change::table
        .filter(
            email_change::undo_token
                .eq(digest)
                .or(email_change::second_undo_token.eq(digest)),
        )
        .select(EmailChange::as_select())
        .first(conn)
        .await
        .optional()
}

/// Marks the change confirmed, with a second undo link's digest (for the mail that says so);
/// both undo links now last until `undo_until`.
pub async fn mark_confirmed(
    conn: &mut AsyncPgConnection,
    id: &str,
    undo_digest: &str,
    undo_until: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(email_change::table.find(id))
        .set((
            email_change::confirmed_at.eq(Utc::now()),
            email_change::second_undo_token.eq(undo_digest),
            email_change::undo_until.eq(undo_until),
        ))
        .execute(conn)
        .await
}

/// Deletes the change either undo link's digest belongs to and returns it: undoing works
/// once, even when two requests do it at the same moment.
pub async fn take_by_undo_token(
    conn: &mut AsyncPgConnection,
    digest: &str,
) -> QueryResult<Option<EmailChange>> {
    diesel::delete(
        email_change::table.filter(
            email_change::undo_token
                .eq(digest)
                .or(email_change::second_undo_token.eq(digest)),
        ),
    )
    .returning(EmailChange::as_returning())
    .get_result(conn)
    .await
    .optional()
}

/// Deletes the changes of `user_id` asked for at or after `since`, confirmed or not: after
/// an undo, their links (mailed to addresses the owner may not hold) give nothing back.
pub async fn delete_asked_since(
    conn: &mut AsyncPgConnection,
    user_id: &str,
    since: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::delete(
        email_change::table.filter(
            email_change::user_id
                .eq(user_id)
                .and(email_change::created_at.ge(since)),
        ),
    )
    .execute(conn)
    .await
}

/// What an undo took away from an account: the ways in added since the change was asked
/// for, and the password.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct TakenBack {
    pub passkeys: usize,
    pub authenticator_apps: usize,
    pub providers: usize,
    pub password: bool,
}

/// Takes from `user_id` every way in added at or after `since` (passkeys, an authenticator
/// app, connected providers) and the password, whoever set it: after an undo the owner
/// chooses a new one from the link the undo gives them.
pub async fn take_back_ways_in(
    conn: &mut AsyncPgConnection,
    user_id: &str,
    since: DateTime<Utc>,
) -> QueryResult<TakenBack> {
    let passkeys = diesel::delete(
        passkey::table.filter(
            passkey::user_id
                .eq(user_id)
                .and(passkey::created_at.ge(since)),
        ),
    )
    .execute(conn)
    .await?;
    let authenticator_apps = diesel::delete(
        two_factor::table.filter(
            two_factor::user_id
                .eq(user_id)
                .and(two_factor::created_at.ge(since)),
        ),
    )
    .execute(conn)
    .await?;
    if authenticator_apps > 0 {
        diesel::update(user::table.find(user_id))
            .set(user::two_factor_enabled.eq(false))
            .execute(conn)
            .await?;
    }
    let providers = diesel::delete(
        account::table.filter(
            account::user_id
                .eq(user_id)
                .and(account::provider_id.ne(super::accounts::CREDENTIAL))
                .and(account::created_at.ge(since)),
        ),
    )
    .execute(conn)
    .await?;
    let password = diesel::update(
        account::table.filter(
            account::user_id
                .eq(user_id)
                .and(account::provider_id.eq(super::accounts::CREDENTIAL))
                .and(account::password.is_not_null()),
        ),
    )
    .set((
        account::password.eq(None::<String>),
        account::updated_at.eq(Utc::now()),
    ))
    .execute(conn)
    .await?
        > 0;
    Ok(TakenBack {
        passkeys,
        authenticator_apps,
        providers,
        password,
    })
}

/// Deletes the changes whose links have all run out.
pub async fn delete_finished(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::delete(
        email_change::table.filter(
            email_change::undo_until
                .lt(now)
                .and(email_change::expires_at.lt(now)),
        ),
    )
    .execute(conn)
    .await
}
