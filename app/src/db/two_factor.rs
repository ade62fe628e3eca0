//! The `twoFactor` table: one row a person who set up an authenticator app (Better Auth's
//! two-factor plugin's table), and `user.twoFactorEnabled`, which says it is confirmed.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::models::{new_id, TwoFactor};
use super::schema::{two_factor, user};

/// The person's row, if any (a database Better Auth made may hold more than one: the
/// newest counts).
pub async fn find(conn: &mut AsyncPgConnection, user_id: &str) -> QueryResult<Option<TwoFactor>> {
    two_factor::table
        .filter(two_factor::user_id.eq(user_id))
        .order(two_factor::id.desc())
        .select(TwoFactor::as_select())
        .first(conn)
        .await
        .optional()
}

/// Replaces whatever the person had with a new, unconfirmed set-up.
pub async fn replace(
    conn: &mut AsyncPgConnection,
    user_id: &str,
    secret: &str,
    backup_codes: &str,
) -> QueryResult<usize> {
    delete_for(conn, user_id).await?;
    diesel::insert_into(two_factor::table)
        .values((
            two_factor::id.eq(new_id()),
            two_factor::secret.eq(secret),
            two_factor::backup_codes.eq(backup_codes),
            two_factor::user_id.eq(user_id),
        ))
        .execute(conn)
        .await
}

/// Records that a code of `step` was accepted; false when one of this step or a later one
/// was already (the code was used, perhaps by a request at the same moment).
pub async fn accept_step(conn: &mut AsyncPgConnection, id: &str, step: i64) -> QueryResult<bool> {
    let updated = diesel::update(
        two_factor::table.find(id).filter(
            two_factor::last_used_step
                .is_null()
                .or(two_factor::last_used_step.lt(step)),
        ),
    )
    .set(two_factor::last_used_step.eq(step))
    .execute(conn)
    .await?;
    Ok(updated == 1)
}

/// Swaps the stored recovery codes for `new`, if they are still `old`: false when another
/// request changed them first (a code taken twice at the same moment counts once).
pub async fn swap_backup_codes(
    conn: &mut AsyncPgConnection,
    id: &str,
    old: &str,
    new: &str,
) -> QueryResult<bool> {
    let updated = diesel::update(
        two_factor::table
            .find(id)
            .filter(two_factor::backup_codes.eq(old)),
    )
    .set(two_factor::backup_codes.eq(new))
    .execute(conn)
    .await?;
    Ok(updated == 1)
}

/// Turns the second step on or off for the person.
pub async fn set_enabled(
    conn: &mut AsyncPgConnection,
    user_id: &str,
    enabled: bool,
) -> QueryResult<usize> {
    diesel::update(user::table.find(user_id))
        .set((
            user::two_factor_enabled.eq(enabled),
            user::updated_at.eq(chrono::Utc::now()),
        ))
        .execute(conn)
        .await
}

/// Removes the person's set-up (and so the second step: call [`set_enabled`] too).
pub async fn delete_for(conn: &mut AsyncPgConnection, user_id: &str) -> QueryResult<usize> {
    diesel::delete(two_factor::table.filter(two_factor::user_id.eq(user_id)))
        .execute(conn)
        .await
}

/// Every row, for `gatehouse keys rotate`.
pub async fn all(conn: &mut AsyncPgConnection) -> QueryResult<Vec<TwoFactor>> {
    two_factor::table
        .order(two_factor::id)
        .select(TwoFactor::as_select())
        .load(conn)
        .await
}

/// Stores a row's secret and recovery codes re-encrypted (`gatehouse keys rotate`).
pub async fn set_sealed(
    conn: &mut AsyncPgConnection,
    id: &str,
    secret: &str,
    backup_codes: &str,
) -> QueryResult<usize> {
    diesel::update(two_factor::table.find(id))
        .set((
            two_factor::secret.eq(secret),
            two_factor::backup_codes.eq(backup_codes),
        ))
        .execute(conn)
        .await
}
