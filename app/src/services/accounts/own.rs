//! What a person does to their own account: their name, their sessions, its deletion.

use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::AsyncConnection;
use serde_json::json;

use super::password::check_password;
use super::*;
use crate::db::{sessions as session_rows, users};
use crate::services::audit::Origin;
use crate::services::context::Services;
use crate::services::sessions;
use crate::services::webhooks::{self, EventType};
use crate::services::{admin, policy, Refusal};

pub async fn update_name(
    services: &Services,
    current: &sessions::SignedIn,
    name: &str,
) -> Result<(), Refusal> {
    let user = &current.user;
    let name = policy::name(name).map_err(|e| Refusal::Invalid(vec![e]))?;
    let mut conn = services.pool.get().await?;
    users::set_name(&mut conn, &user.id, &name).await?;
    Ok(())
}

/// Deletes the account and everything it owns (CASCADE), after the password once more.
pub async fn delete_account(
    services: &Services,
    current: &sessions::SignedIn,
    password: &str,
    origin: &Origin,
) -> Result<(), Refusal> {
    check_password(services, current, "password", password, origin).await?;
    let (user, origin) = (current.user.clone(), origin.clone());
    let mut conn = services.pool.get().await?;
    conn.transaction::<_, Refusal, _>(|conn| {
        async move {
            if admin::lock_with_admins(conn, &user.id).await?.1 {
                return Err(admin::last_admin_refusal());
            }
            users::delete(conn, &user.id).await?;
            let who = json!({ "user_id": user.id, "email": user.email });
            webhooks::enqueue(conn, services, EventType::UserDeleted, who).await?;
            record_own(
                conn,
                &user,
                "user_deleted",
                json!({ "by": "self" }),
                &origin,
            )
            .await?;
            Ok(())
        }
        .scope_boxed()
    })
    .await
}

/// Ends one of the user's sessions (not found when it is not theirs).
pub async fn end_session(
    services: &Services,
    current: &sessions::SignedIn,
    session_id: &str,
    origin: &Origin,
) -> Result<bool, Refusal> {
    let user = &current.user;
    let mut conn = services.pool.get().await?;
    let ended = session_rows::delete_own(&mut conn, &user.id, session_id).await? > 0;
    if ended {
        record_own(
            &mut conn,
            user,
            "session_ended",
            json!({ "session": session_id }),
            origin,
        )
        .await?;
    }
    Ok(ended)
}

/// Ends every session of the user but the current one; returns how many.
pub async fn end_other_sessions(
    services: &Services,
    current: &sessions::SignedIn,
    origin: &Origin,
) -> Result<usize, Refusal> {
    require_recent_sign_in(current)?;
    let user = &current.user;
    let mut conn = services.pool.get().await?;
    let ended =
        session_rows::delete_all_but(&mut conn, &user.id, Some(&current.session.id)).await?;
    record_own(
        &mut conn,
        user,
        "session_ended",
        json!({ "others": ended }),
        origin,
    )
    .await?;
    Ok(ended)
}
