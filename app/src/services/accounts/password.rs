//! The password: a forgotten one reset by mail, a change, and the re-check (or a recent
//! sign-in) before what could hand the account over.

use chrono::{Duration, Utc};
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::AsyncConnection;
use serde_json::json;

use super::*;
use crate::db::{accounts, sessions as session_rows, users, verifications};
use crate::services::audit::{self, Actor, Event, Origin};
use crate::services::context::Services;
use crate::services::mail::Mail;
use crate::services::rate_limit::Attempt;
use crate::services::sessions;
use crate::services::{policy, tokens, Refusal};

/// Mails a reset link if the address has an account. The answer is the same either way,
/// and comes before the lookup, so how long it takes tells nothing either.
pub async fn request_password_reset(
    services: &Services,
    email: &str,
    origin: &Origin,
) -> Result<(), Refusal> {
    let what = "a password reset request";
    mail_after_answering(
        services,
        what,
        email,
        origin,
        |services, email, origin| async move { mail_reset_link(&services, &email, &origin).await },
    )
    .await
}

async fn mail_reset_link(services: &Services, email: &str, origin: &Origin) -> Result<(), Refusal> {
    let mut conn = services.pool.get().await?;
    let Some(user) = users::find_by_email(&mut conn, email).await? else {
        return Ok(());
    };
    let identifier = reset_identifier(&user.id);
    let token = new_link(&mut conn, &identifier, Duration::hours(RESET_TTL_HOURS)).await?;
    services.mail_in_background(Mail {
        to: user.email.clone(),
        subject: "Reset your Gatehouse password".into(),
        body: format!(
            "Hello {},\n\nSomeone (maybe you) asked to reset your Gatehouse password. Choose a new \
             one by opening this link within an hour:\n\n{}\n\nIf it was not you, ignore this \
             message: your password stays as it is.\n",
            user.name,
            services.settings.link(&format!("/reset-password?token={token}")),
        ),
    });
    audit::record(
        &mut conn,
        Event {
            action: "password_reset_requested",
            actor: Actor::Anonymous,
            target: Some((&user.id, &user.email)),
            detail: json!({}),
        },
        origin,
    )
    .await?;
    Ok(())
}

/// Sets a new password from a reset link, and ends every session of the user.
pub async fn reset_password(
    services: &Services,
    token: &str,
    new_password: &str,
    origin: &Origin,
) -> Result<(), Refusal> {
    if !tokens::is_well_formed(token) {
        return Err(Refusal::LinkInvalid);
    }
    // Length first, so a too-short password does not use up the link.
    policy::new_password("password", new_password, "").map_err(|e| Refusal::Invalid(vec![e]))?;
    let digest = tokens::digest(token);
    let mut conn = services.pool.get().await?;
    // A made-up link costs no hashing.
    match verifications::find(&mut conn, &digest).await? {
        Some((identifier, _)) if identifier.starts_with("password-reset:") => {}
        _ => return Err(Refusal::LinkInvalid),
    }
    // No connection is held while waiting for a hashing turn: the pool serves every page.
    drop(conn);
    let hash = services.passwords.hash(new_password).await?;
    let mut conn = services.pool.get().await?;
    let new_password = new_password.to_owned();
    let user = conn
        .transaction::<_, Refusal, _>(|conn| {
            async move {
                let Some((identifier, expires_at)) = verifications::take(conn, &digest).await?
                else {
                    return Err(Refusal::LinkInvalid);
                };
                let Some(user_id) = identifier.strip_prefix("password-reset:") else {
                    return Err(Refusal::LinkInvalid);
                };
                if expires_at <= Utc::now() {
                    return Err(Refusal::LinkExpired);
                }
                let Some(user) = users::find(conn, user_id).await? else {
                    return Err(Refusal::LinkInvalid);
                };
                // Rolls back (the link stays usable) when the password is the email.
                policy::new_password("password", &new_password, &user.email)
                    .map_err(|e| Refusal::Invalid(vec![e]))?;
                accounts::set_password(conn, &user.id, &hash).await?;
                // Whoever holds the mailbox proved it.
                users::mark_email_verified(conn, &user.id).await?;
                session_rows::delete_all_but(conn, &user.id, None).await?;
                Ok(user)
            }
            .scope_boxed()
        })
        .await;
    // An expired link is still used up.
    let user = match user {
        Err(Refusal::LinkExpired) => {
            verifications::take(&mut conn, &tokens::digest(token)).await?;
            return Err(Refusal::LinkExpired);
        }
        other => other?,
    };
    record_own(
        &mut conn,
        &user,
        "password_reset",
        json!({ "sessions_ended": "all" }),
        origin,
    )
    .await?;
    // Like every other credential change, the owner hears of it: if it was not them (their
    // mailbox is taken), they learn of it at once.
    services.mail_in_background(Mail {
        to: user.email.clone(),
        subject: "Your Gatehouse password was reset".into(),
        body: format!(
            "Hello {},\n\nThe password of your Gatehouse account was just reset from a link \
             mailed to this address, and all your sessions were ended.\n\nIf this was not \
             you, someone can read your mail: secure your mailbox, then reset the password \
             again at {}.\n",
            user.name,
            services.settings.link("/forgot-password"),
        ),
    });
    Ok(())
}

/// Changes the password of a signed-in user; ends every other session of theirs.
pub async fn change_password(
    services: &Services,
    current: &sessions::SignedIn,
    current_password: &str,
    new_password: &str,
    origin: &Origin,
) -> Result<(), Refusal> {
    let user = &current.user;
    policy::new_password("new_password", new_password, &user.email)
        .map_err(|e| Refusal::Invalid(vec![e]))?;
    check_password(
        services,
        current,
        "current_password",
        current_password,
        origin,
    )
    .await?;
    let hash = services.passwords.hash(new_password).await?;
    let mut conn = services.pool.get().await?;
    conn.transaction::<_, diesel::result::Error, _>(|conn| {
        async move {
            accounts::set_password(conn, &user.id, &hash).await?;
            // A reset link mailed before now would set a password over the one just chosen.
            verifications::delete_for(conn, &reset_identifier(&user.id)).await?;
            let ended =
                session_rows::delete_all_but(conn, &user.id, Some(&current.session.id)).await?;
            let detail = json!({ "other_sessions_ended": ended });
            record_own(conn, user, "password_changed", detail, origin).await
        }
        .scope_boxed()
    })
    .await?;
    // A new way in deserves a word to the owner: if it was not them, they learn of it.
    services.mail_in_background(Mail {
        to: user.email.clone(),
        subject: "Your Gatehouse password was changed".into(),
        body: format!(
            "Hello {},\n\nThe password of your Gatehouse account was just set or changed, and \
             your other sessions were ended.\n\nIf this was not you, reset it at {} at once.\n",
            user.name,
            services.settings.link("/forgot-password"),
        ),
    });
    Ok(())
}

/// Refuses unless the session began with a sign-in in the last ten minutes.
pub fn require_recent_sign_in(current: &sessions::SignedIn) -> Result<(), Refusal> {
    if sessions::signed_in_recently(current) {
        Ok(())
    } else {
        Err(Refusal::SignInAgain)
    }
}

/// Re-asks for the password before something that cannot be undone: the password is the
/// step-up. Someone who has no password (they came through a provider) has nothing to
/// re-enter, so they must have signed in within the last ten minutes instead. Each try
/// counts against the same per-account and per-address limits as signing in: a stolen
/// session gets no more guesses than a stranger.
pub(super) async fn check_password(
    services: &Services,
    current: &sessions::SignedIn,
    field: &str,
    password: &str,
    origin: &Origin,
) -> Result<(), Refusal> {
    let user = &current.user;
    let wrong = || Refusal::invalid(field, "That is not your current password.");
    let mut conn = services.pool.get().await?;
    let stored = password_hash(&mut conn, &user.id).await?;
    drop(conn);
    let Some(stored) = stored.as_deref() else {
        return require_recent_sign_in(current);
    };
    if password.is_empty() || password.chars().count() > policy::PASSWORD_MAX {
        return Err(wrong());
    }
    limit(services, Attempt::SignIn, &user.email, origin).await?;
    if services
        .passwords
        .verify(Some(stored), password)
        .await?
        .is_match()
    {
        Ok(())
    } else {
        Err(wrong())
    }
}
