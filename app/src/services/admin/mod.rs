//! What admins may do to users: let them in or out, set role and tier, ban, end sessions,
//! delete. Each change locks the user's row, applies, and records one audit event in the same
//! transaction, so concurrent changes queue and every one is on record. Gatehouse always
//! keeps at least one admin. A file per flow: users (the list and one user), changes, the
//! audit log.

mod audit_log;
mod changes;
mod listing;

pub use audit_log::audit_log;
pub use changes::{bulk_whitelist, change, delete_user, end_session, set_admin_by_email, Change};
pub use listing::{list_users, user_detail};

use super::context::Services;
use super::sessions::{me, SignedIn};
use super::Refusal;
use crate::db::models::User;
use crate::db::users;
use crate::views::UserRow;

pub const PAGE_SIZE: i64 = 50;

/// Admins only; everyone else is told there is nothing here. With REQUIRE_ADMIN_MFA, an
/// admin without a second factor (an authenticator app, a passkey) is told to set one up
/// first. Every live session of a person with one began with it or passed it, or confirmed
/// it: see `two_factor::confirm` and `passkeys::finish_registration`.
pub async fn require_admin(services: &Services, caller: &SignedIn) -> Result<(), Refusal> {
    if !caller.user.is_admin() || caller.user.banned {
        return Err(Refusal::NotFound);
    }
    if !services.settings.require_admin_mfa || caller.user.two_factor_enabled {
        return Ok(());
    }
    let user_id = caller.user.id.as_str();
    let passkeys = services
        .shared
        .read(|conn| async move { crate::db::passkeys::count(&conn, user_id).await })
        .await?;
    if passkeys > 0 {
        Ok(())
    } else {
        Err(Refusal::SecondFactorRequired)
    }
}

fn row(user: User) -> UserRow {
    UserRow {
        person: me(&user),
        banned: user.banned,
        ban_reason: user.ban_reason,
        created_at: user.created_at,
    }
}

/// Locks every active admin, in id order (so that two admins removing each other at once
/// cannot leave none), then the user; says whether the user is the last admin, whom nothing
/// may demote, ban or delete.
pub(crate) async fn lock_with_admins(
    conn: &mut crate::db::DbConn,
    user_id: &str,
) -> Result<(User, bool), Refusal> {
    let admins = users::lock_active_admins(conn).await?;
    let user = users::lock(conn, user_id).await?.ok_or(Refusal::NotFound)?;
    let last_admin = admins.contains(&user.id) && admins.len() <= 1;
    Ok((user, last_admin))
}

pub(crate) fn last_admin_refusal() -> Refusal {
    Refusal::Conflict("This is the last admin: make someone else an admin first.".into())
}
