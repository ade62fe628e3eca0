//! What admins may do to users: let them in or out, set role and tier, ban, end sessions,
//! delete. Each change locks the user's row, applies, and records one audit event in the same
//! transaction, so concurrent changes queue and every one is on record. Gatehouse always
//! keeps at least one admin.

use chrono::{DateTime, Datelike, Utc};
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::AsyncConnection;
use serde_json::{json, Value};

use super::audit::{self, Actor, Event, Origin};
use super::paging;
use super::sessions::describe_device;
use super::Refusal;
use super::Services;
use crate::db::admin::{self as queries, AuditSearch, UserFilter, UserSearch};
use crate::db::models::User;
use crate::db::{sessions as session_rows, users};
use crate::model::{
    AuditPage, AuditRow, ConnectedAccount, JobSummary, SessionView, UserDetail, UserPage, UserRow,
    WAITING_CAP,
};

pub const PAGE_SIZE: i64 = 50;

pub const ROLES: [&str; 2] = ["user", "admin"];
pub const TIERS: [&str; 3] = ["anonymous", "free", "member"];

/// Admins only; everyone else is told there is nothing here.
pub fn require_admin(user: &User) -> Result<(), Refusal> {
    if user.role == "admin" && !user.banned {
        Ok(())
    } else {
        Err(Refusal::NotFound)
    }
}

fn row(user: User) -> UserRow {
    UserRow {
        id: user.id,
        name: user.name,
        email: user.email,
        email_verified: user.email_verified,
        role: user.role,
        tier: user.tier,
        whitelisted: user.is_whitelisted,
        banned: user.banned,
        ban_reason: user.ban_reason,
        created_at: user.created_at,
    }
}

/// The users table. `filter`: all, waiting, whitelisted, banned, admin.
pub async fn list_users(
    services: &Services,
    text: &str,
    filter: &str,
    tier: &str,
    oldest_first: bool,
    after: &str,
) -> Result<UserPage, Refusal> {
    let filter = match filter {
        "" | "all" => UserFilter::All,
        "waiting" => UserFilter::Waiting,
        "whitelisted" => UserFilter::Whitelisted,
        "banned" => UserFilter::Banned,
        "admin" => UserFilter::Admin,
        _ => {
            return Err(Refusal::invalid(
                "filter",
                "Choose one of the listed filters.",
            ))
        }
    };
    if !tier.is_empty() && !TIERS.contains(&tier) {
        return Err(Refusal::invalid("tier", "Choose one of the listed tiers."));
    }
    let text = text.trim();
    if text.chars().count() > 254 {
        return Err(Refusal::invalid("q", "Search for at most 254 characters."));
    }
    let after = paging::parse_cursor(after)?;
    let mut conn = services.pool.get().await?;
    let rows = queries::search_users(
        &mut conn,
        &UserSearch {
            text: (!text.is_empty()).then_some(text),
            filter,
            tier: (!tier.is_empty()).then_some(tier),
            oldest_first,
            after,
            limit: PAGE_SIZE + 1,
        },
    )
    .await?;
    let (rows, next) = paging::split(rows, PAGE_SIZE, |u| (u.created_at, &u.id));
    Ok(UserPage {
        rows: rows.into_iter().map(row).collect(),
        next,
        waiting: queries::count_waiting(&mut conn, WAITING_CAP + 1).await?,
    })
}

pub async fn user_detail(services: &Services, id: &str) -> Result<UserDetail, Refusal> {
    let mut conn = services.pool.get().await?;
    let user = users::find(&mut conn, id).await?.ok_or(Refusal::NotFound)?;
    let sessions = queries::sessions_of(&mut conn, id)
        .await?
        .into_iter()
        .map(|s| SessionView {
            device: describe_device(s.user_agent.as_deref()),
            this_device: false,
            ip_address: s.ip_address,
            created_at: s.created_at,
            last_active: s.updated_at,
            id: s.id,
        })
        .collect();
    let accounts = queries::accounts_of(&mut conn, id)
        .await?
        .into_iter()
        .map(|(provider, account_id, created_at)| ConnectedAccount {
            provider,
            account_id,
            created_at,
        })
        .collect();
    let jobs = queries::jobs_of(&mut conn, id, 100)
        .await?
        .into_iter()
        .map(|(job_id, status, original_url, created_at)| JobSummary {
            job_id,
            status,
            original_url,
            created_at,
        })
        .collect();
    Ok(UserDetail {
        user: row(user),
        sessions,
        accounts,
        jobs,
    })
}

/// What an admin changes about a user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    Whitelist(bool),
    Role(String),
    Tier(String),
    /// Ban with a reason, or lift the ban (`None`).
    Ban(Option<String>),
}

/// Applies one change: lock, check, update, audit, in one transaction. Removing access or
/// banning ends the user's sessions at once.
pub async fn change(
    services: &Services,
    actor: Actor<'_>,
    target_id: &str,
    change: Change,
    origin: &Origin,
) -> Result<(), Refusal> {
    match &change {
        Change::Role(role) if !ROLES.contains(&role.as_str()) => {
            return Err(Refusal::invalid("role", "Choose user or admin."))
        }
        Change::Tier(tier) if !TIERS.contains(&tier.as_str()) => {
            return Err(Refusal::invalid(
                "tier",
                "Choose anonymous, free or member.",
            ))
        }
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
    let mut conn = services.pool.get().await?;
    conn.transaction::<_, Refusal, _>(|conn| {
        async move {
            let actor = match &actor_id {
                Some(id) => Actor::User(id, &actor_label),
                None => Actor::System(&actor_label),
            };
            let (target, last_admin) = lock_with_admins(conn, &target_id).await?;
            let removes_an_admin = matches!(&change, Change::Role(role) if role != "admin")
                || matches!(&change, Change::Ban(Some(_)));
            if removes_an_admin && last_admin {
                return Err(last_admin_refusal());
            }
            let (action, detail): (&str, Value) = match &change {
                Change::Whitelist(on) => {
                    users::set_whitelisted(conn, &target.id, *on).await?;
                    (
                        "whitelist_changed",
                        json!({ "from": target.is_whitelisted, "to": on }),
                    )
                }
                Change::Role(role) => {
                    users::set_role(conn, &target.id, role).await?;
                    ("role_changed", json!({ "from": target.role, "to": role }))
                }
                Change::Tier(tier) => {
                    users::set_tier(conn, &target.id, tier).await?;
                    ("tier_changed", json!({ "from": target.tier, "to": tier }))
                }
                Change::Ban(reason) => {
                    users::set_ban(conn, &target.id, reason.as_deref().map(str::trim)).await?;
                    match reason {
                        Some(reason) => ("banned", json!({ "reason": reason.trim() })),
                        None => ("unbanned", json!({})),
                    }
                }
            };
            let ends_sessions = matches!(change, Change::Whitelist(false) | Change::Ban(Some(_)));
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
            Ok(())
        }
        .scope_boxed()
    })
    .await
}

/// Whitelists every listed user who is waiting; returns how many changed.
pub async fn bulk_whitelist(
    services: &Services,
    admin: &User,
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
            change(
                services,
                Actor::User(&admin.id, &admin.email),
                id,
                Change::Whitelist(true),
                origin,
            )
            .await?;
            changed += 1;
        }
    }
    Ok(changed)
}

/// Ends one session of a user.
pub async fn end_session(
    services: &Services,
    admin: &User,
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
            actor: Actor::User(&admin.id, &admin.email),
            target: Some((&target.id, &target.email)),
            detail: json!({ "session": session_id, "by": "admin" }),
        },
        origin,
    )
    .await?;
    Ok(())
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

/// Deletes a user and everything they own, once the admin has typed their email.
pub async fn delete_user(
    services: &Services,
    admin: &User,
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
            audit::record(
                conn,
                Event {
                    action: "user_deleted",
                    actor: Actor::User(&admin.id, &admin.email),
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

/// The audit log, newest first. `since`/`until` are dates (YYYY-MM-DD, UTC).
pub async fn audit_log(
    services: &Services,
    actor: &str,
    target: &str,
    action: &str,
    since: &str,
    until: &str,
    after: &str,
) -> Result<AuditPage, Refusal> {
    let date = |field: &str,
                value: &str,
                end_of_day: bool|
     -> Result<Option<DateTime<Utc>>, Refusal> {
        if value.trim().is_empty() {
            return Ok(None);
        }
        let day = chrono::NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d")
            .ok()
            .filter(|day| (1970..=9999).contains(&day.year()))
            .ok_or_else(|| Refusal::invalid(field, "Give a date as YYYY-MM-DD, from 1970 on."))?;
        let day = if end_of_day {
            day.succ_opt().unwrap_or(day)
        } else {
            day
        };
        Ok(Some(
            day.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc(),
        ))
    };
    for (field, value) in [("actor", actor), ("target", target), ("action", action)] {
        if value.chars().count() > 254 {
            return Err(Refusal::invalid(field, "At most 254 characters."));
        }
    }
    let after = paging::parse_cursor(after)?;
    let some = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
    let (actor, target, action) = (some(actor), some(target), some(action));
    let mut conn = services.pool.get().await?;
    let rows = queries::search_audit(
        &mut conn,
        &AuditSearch {
            actor: actor.as_deref(),
            target: target.as_deref(),
            action: action.as_deref(),
            since: date("since", since, false)?,
            until: date("until", until, true)?,
            after,
            limit: PAGE_SIZE + 1,
        },
    )
    .await?;
    let (rows, next) = paging::split(rows, PAGE_SIZE, |e| (e.created_at, &e.id));
    Ok(AuditPage {
        rows: rows
            .into_iter()
            .map(|e| AuditRow {
                id: e.id,
                created_at: e.created_at,
                actor: e.actor_label,
                action: e.action,
                target: e.target_label,
                ip_address: e.ip_address,
                detail: e.detail.to_string(),
            })
            .collect(),
        next,
    })
}

/// `gatehouse admin grant|revoke EMAIL`: makes the user an admin (and lets them in), or a
/// plain user again; the last admin cannot be revoked.
pub async fn set_admin_by_email(
    services: &Services,
    email: &str,
    admin: bool,
) -> Result<(), Refusal> {
    let email = super::policy::email(email).map_err(|e| Refusal::Invalid(vec![e]))?;
    let mut conn = services.pool.get().await?;
    let user = users::find_by_email(&mut conn, &email)
        .await?
        .ok_or(Refusal::NotFound)?;
    drop(conn);
    let by = Actor::System("command line");
    let origin = Origin::default();
    if admin {
        change(
            services,
            by,
            &user.id,
            Change::Role("admin".into()),
            &origin,
        )
        .await?;
        if !user.is_whitelisted {
            change(services, by, &user.id, Change::Whitelist(true), &origin).await?;
        }
    } else {
        change(services, by, &user.id, Change::Role("user".into()), &origin).await?;
    }
    Ok(())
}
