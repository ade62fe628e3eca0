//! What an admin changes: access, role, tier, bans, sessions, deletion; one at a time or
//! many at once, and admins granted from the command line.

use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::AsyncConnection;
use serde_json::{json, Value};

use super::*;
use crate::db::admin as queries;
use crate::db::{
    passkeys as passkey_rows, sessions as session_rows, two_factor as two_factor_rows, users,
};
use crate::services::audit::{self, Actor, Event, Origin};
use crate::services::mail::Mail;
use crate::services::sessions::SignedIn;
use crate::services::webhooks::{self, EventType};
use crate::services::{policy, Refusal, Services};
use crate::views::{Role, Tier};

/// What an admin changes about a user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    Whitelist(bool),
    Role(Role),
    Tier(Tier),
    /// Ban with a reason, or lift the ban (`None`).
    Ban(Option<String>),
    /// Turn their two-step sign-in off (they lost their device): they set it up again.
    ResetTwoFactor,
}

/// Applies one change: lock, check, update, audit, in one transaction. Removing access or
/// banning ends the user's sessions at once; a second step reset is mailed to the user.
pub async fn change(
    services: &Services,
    actor: Actor<'_>,
    target_id: &str,
    change: Change,
    origin: &Origin,
) -> Result<(), Refusal> {
    match &change {
        Change::Ban(Some(reason)) if reason.trim().is_empty() || reason.chars().count() > 500 => {
            return Err(Refusal::invalid(
                "reason",
                "Give a reason of at most 500 characters; the user sees it.",
            ))
        }
        _ => {}
    }
    let (actor_id, actor_label) = match actor {
        Actor::User(id, label) => (Some(id.to_string()), label.to_string()),
        Actor::System(label) => (None, label.to_string()),
        Actor::Anonymous => (None, "anonymous".to_string()),
    };
    let target_id = target_id.to_string();
    let origin = origin.clone();
    let tells_the_user = change == Change::ResetTwoFactor;
    let mut conn = services.pool.get().await?;
    let target = conn
        .transaction::<_, Refusal, _>(|conn| {
            async move {
                let actor = match &actor_id {
                    Some(id) => Actor::User(id, &actor_label),
                    None => Actor::System(&actor_label),
                };
                let (target, last_admin) = lock_with_admins(conn, &target_id).await?;
                let removes_an_admin = matches!(change, Change::Role(Role::User))
                    || matches!(&change, Change::Ban(Some(_)));
                if removes_an_admin && last_admin {
                    return Err(last_admin_refusal());
                }
                // What the backend is told, read before the row changes.
                let event = event_of(&target, &change);
                let (action, detail): (&str, Value) = match &change {
                    Change::Whitelist(on) => {
                        users::set_whitelisted(conn, &target.id, *on).await?;
                        (
                            "whitelist_changed",
                            json!({ "from": target.is_whitelisted, "to": on }),
                        )
                    }
                    Change::Role(role) => {
                        users::set_role(conn, &target.id, role.as_str()).await?;
                        ("role_changed", json!({ "from": target.role, "to": role }))
                    }
                    Change::Tier(tier) => {
                        users::set_tier(conn, &target.id, tier.as_str()).await?;
                        ("tier_changed", json!({ "from": target.tier, "to": tier }))
                    }
                    Change::Ban(reason) => {
                        users::set_ban(conn, &target.id, reason.as_deref().map(str::trim)).await?;
                        match reason {
                            Some(reason) => ("banned", json!({ "reason": reason.trim() })),
                            None => ("unbanned", json!({})),
                        }
                    }
                    Change::ResetTwoFactor => {
                        // The authenticator app and every passkey: all they could not use.
                        let passkeys = passkey_rows::delete_for(conn, &target.id).await?;
                        if !target.two_factor_enabled && passkeys == 0 {
                            return Err(Refusal::Conflict(
                                "They have no second factor to reset.".into(),
                            ));
                        }
                        two_factor_rows::delete_for(conn, &target.id).await?;
                        two_factor_rows::set_enabled(conn, &target.id, false).await?;
                        ("two_factor_reset", json!({ "passkeys_removed": passkeys }))
                    }
                };
                if let Some((kind, data)) = event {
                    webhooks::enqueue(conn, services, kind, data).await?;
                }
                let ends_sessions =
                    matches!(change, Change::Whitelist(false) | Change::Ban(Some(_)));
                let ended = if ends_sessions {
                    session_rows::delete_all_but(conn, &target.id, None).await?
                } else {
                    0
                };
                let mut detail = detail;
                if ends_sessions {
                    detail["sessions_ended"] = json!(ended);
                }
                audit::record(
                    conn,
                    Event {
                        action,
                        actor,
                        target: Some((&target.id, &target.email)),
                        detail,
                    },
                    &origin,
                )
                .await?;
                Ok(target)
            }
            .scope_boxed()
        })
        .await?;
    if tells_the_user {
        services.mail_in_background(Mail {
            to: target.email.clone(),
            subject: "Your Gatehouse two-step sign-in was reset".into(),
            body: format!(
                "Hello {},\n\nAn administrator turned off two-step sign-in for your Gatehouse \
                 account: signing in asks only for your password now. Set it up again from \
                 your profile:\n\n{}\n\nIf you did not ask for this, tell your \
                 administrator.\n",
                target.name,
                services.settings.link(crate::views::TWO_FACTOR_PAGE),
            ),
        });
    }
    Ok(())
}

/// The webhook event `change` makes of `target` (as it was before), if it changes
/// something the backend acts on: letting in someone already in, the same tier again or
/// lifting a ban that is not there is no news. A ban with a new reason is.
fn event_of(target: &User, change: &Change) -> Option<(EventType, Value)> {
    let mut data = json!({ "user_id": target.id, "email": target.email });
    let kind = match change {
        Change::Whitelist(on) if *on == target.is_whitelisted => return None,
        Change::Whitelist(true) => EventType::UserLetIn,
        Change::Whitelist(false) => EventType::UserAccessRemoved,
        Change::Role(role) => {
            let was = Role::of(&target.role);
            if was == *role {
                return None;
            }
            data["from"] = json!(was);
            data["to"] = json!(role);
            EventType::UserRoleChanged
        }
        Change::Tier(tier) => {
            if target.tier == tier.as_str() {
                return None;
            }
            data["from"] = json!(target.tier);
            data["to"] = json!(tier);
            EventType::UserTierChanged
        }
        Change::Ban(Some(reason)) => {
            let reason = reason.trim();
            if target.banned && target.ban_reason.as_deref() == Some(reason) {
                return None;
            }
            data["reason"] = json!(reason);
            EventType::UserBanned
        }
        Change::Ban(None) if !target.banned => return None,
        Change::Ban(None) => EventType::UserUnbanned,
        Change::ResetTwoFactor => return None,
    };
    Some((kind, data))
}

/// Whitelists every listed user who is waiting; returns how many changed.
pub async fn bulk_whitelist(
    services: &Services,
    admin: &SignedIn,
    ids: &[String],
    origin: &Origin,
) -> Result<usize, Refusal> {
    if ids.is_empty() {
        return Err(Refusal::invalid("ids", "Select at least one person."));
    }
    if ids.len() > PAGE_SIZE as usize {
        return Err(Refusal::invalid(
            "ids",
            "Select at most one page of people at a time.",
        ));
    }
    let mut changed = 0;
    for id in ids {
        let mut conn = services.pool.get().await?;
        let waiting = users::find(&mut conn, id)
            .await?
            .is_some_and(|u| !u.is_whitelisted);
        drop(conn);
        if waiting {
            change(services, admin.actor(), id, Change::Whitelist(true), origin).await?;
            changed += 1;
        }
    }
    Ok(changed)
}

/// Ends one session of a user.
pub async fn end_session(
    services: &Services,
    admin: &SignedIn,
    user_id: &str,
    session_id: &str,
    origin: &Origin,
) -> Result<(), Refusal> {
    let mut conn = services.pool.get().await?;
    let target = users::find(&mut conn, user_id)
        .await?
        .ok_or(Refusal::NotFound)?;
    if queries::delete_session(&mut conn, user_id, session_id).await? == 0 {
        return Err(Refusal::invalid("session", "That session is already over."));
    }
    audit::record(
        &mut conn,
        Event {
            action: "session_ended",
            actor: admin.actor(),
            target: Some((&target.id, &target.email)),
            detail: json!({ "session": session_id, "by": "admin" }),
        },
        origin,
    )
    .await?;
    Ok(())
}

/// Deletes a user and everything they own, once the admin has typed their email.
pub async fn delete_user(
    services: &Services,
    admin: &SignedIn,
    user_id: &str,
    confirm_email: &str,
    origin: &Origin,
) -> Result<(), Refusal> {
    let admin = admin.clone();
    let user_id = user_id.to_string();
    let confirm = confirm_email.trim().to_lowercase();
    let origin = origin.clone();
    let mut conn = services.pool.get().await?;
    conn.transaction::<_, Refusal, _>(|conn| {
        async move {
            let (target, last_admin) = lock_with_admins(conn, &user_id).await?;
            if confirm != target.email {
                return Err(Refusal::invalid(
                    "confirm",
                    "Type the user's email address to confirm.",
                ));
            }
            if last_admin {
                return Err(last_admin_refusal());
            }
            users::delete(conn, &target.id).await?;
            let who = json!({ "user_id": target.id, "email": target.email });
            webhooks::enqueue(conn, services, EventType::UserDeleted, who).await?;
            audit::record(
                conn,
                Event {
                    action: "user_deleted",
                    actor: admin.actor(),
                    target: Some((&target.id, &target.email)),
                    detail: json!({ "by": "admin" }),
                },
                &origin,
            )
            .await?;
            Ok(())
        }
        .scope_boxed()
    })
    .await
}

/// `gatehouse admin grant|revoke EMAIL`: makes the user an admin (and lets them in), or a
/// plain user again; the last admin cannot be revoked.
pub async fn set_admin_by_email(
    services: &Services,
    email: &str,
    admin: bool,
) -> Result<(), Refusal> {
    let email = policy::email(email).map_err(|e| Refusal::Invalid(vec![e]))?;
    let mut conn = services.pool.get().await?;
    let user = users::find_by_email(&mut conn, &email)
        .await?
        .ok_or(Refusal::NotFound)?;
    drop(conn);
    let by = Actor::System("command line");
    let origin = Origin::default();
    if admin {
        change(services, by, &user.id, Change::Role(Role::Admin), &origin).await?;
        if !user.is_whitelisted {
            change(services, by, &user.id, Change::Whitelist(true), &origin).await?;
        }
    } else {
        change(services, by, &user.id, Change::Role(Role::User), &origin).await?;
    }
    Ok(())
}
