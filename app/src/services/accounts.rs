//! Email-and-password accounts: sign-up, email verification, sign-in, password reset and
//! change, name, deletion. No answer here tells whether an address is registered.

use chrono::{Duration, Utc};
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::AsyncConnection;
use serde_json::json;

use super::audit::{self, Actor, Event, Origin};
use super::context::Services;
use super::mail::Mail;
use super::passwords::Verified;
use super::rate_limit::Attempt;
use super::sessions::{self, is_banned};
use super::{access, admin};
use super::{policy, tokens, Refusal};
use crate::db::models::User;
use crate::db::{accounts, sessions as session_rows, users, verifications};
use crate::model::FieldError;

const VERIFY_EMAIL_TTL_HOURS: i64 = 24;
const RESET_TTL_HOURS: i64 = 1;

fn collect<T>(results: impl IntoIterator<Item = Result<T, FieldError>>) -> Result<Vec<T>, Refusal> {
    let mut values = Vec::new();
    let mut errors = Vec::new();
    for result in results {
        match result {
            Ok(value) => values.push(value),
            Err(error) => errors.push(error),
        }
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(Refusal::Invalid(errors))
    }
}

/// Records something a user did to their own account.
pub(crate) async fn record_own(
    conn: &mut diesel_async::AsyncPgConnection,
    user: &User,
    action: &str,
    detail: serde_json::Value,
    origin: &Origin,
) -> diesel::QueryResult<()> {
    let event = Event {
        action,
        actor: Actor::User(&user.id, &user.email),
        target: Some((&user.id, &user.email)),
        detail,
    };
    audit::record(conn, event, origin).await
}

fn verification_identifier(user_id: &str) -> String {
    format!("email-verification:{user_id}")
}

fn reset_identifier(user_id: &str) -> String {
    format!("password-reset:{user_id}")
}

/// Signs a person up. New address: a user with a password account, and a verification mail.
/// Known address: nothing changes, and the owner is told by mail. The answer is the same.
pub async fn sign_up(
    services: &Services,
    name: &str,
    email: &str,
    password: &str,
    origin: &Origin,
) -> Result<(), Refusal> {
    let email_checked = policy::email(email);
    let stored_email = email_checked.clone().unwrap_or_default();
    let fields = collect([
        policy::name(name),
        email_checked,
        policy::new_password("password", password, &stored_email).map(|()| String::new()),
    ])?;
    let (name, email) = (&fields[0], &fields[1]);
    // Each sign-up costs a hash and sends a mail: a flood must not do either without end.
    limit(services, Attempt::SignUp, email, origin)?;

    // Hash first, whichever way it goes: both answers take the same time.
    let hash = services.passwords.hash(password).await?;
    let mut conn = services.pool.get().await?;
    let created = conn
        .transaction::<_, diesel::result::Error, _>(|conn| {
            async move {
                let Some(user) = users::insert(conn, name, email, false).await? else {
                    return Ok(None);
                };
                accounts::insert_credential(conn, &user.id, &hash).await?;
                Ok(Some(user))
            }
            .scope_boxed()
        })
        .await?;
    match created {
        Some(user) => {
            send_verification(services, &mut conn, &user).await?;
            record_own(
                &mut conn,
                &user,
                "sign_up",
                json!({ "method": "password" }),
                origin,
            )
            .await?;
        }
        None => {
            services.mail_in_background(Mail {
                to: email.clone(),
                subject: "Someone tried to sign up with your address".into(),
                body: format!(
                    "Someone (maybe you) tried to create a Gatehouse account with this email \
                     address, which already has one.\n\nIf it was you, sign in at {}\n\
                     Forgotten your password? Reset it at {}\n\nIf it was not you, you can \
                     ignore this message: nothing has changed.\n",
                    services.settings.link("/login"),
                    services.settings.link("/forgot-password"),
                ),
            });
        }
    }
    Ok(())
}

async fn send_verification(
    services: &Services,
    conn: &mut crate::db::DbConn,
    user: &User,
) -> Result<(), Refusal> {
    let token = tokens::new_token();
    let identifier = verification_identifier(&user.id);
    verifications::delete_for(conn, &identifier).await?;
    verifications::insert(
        conn,
        &identifier,
        &tokens::digest(&token),
        Utc::now() + Duration::hours(VERIFY_EMAIL_TTL_HOURS),
    )
    .await?;
    services.mail_in_background(Mail {
        to: user.email.clone(),
        subject: "Confirm your email address for Gatehouse".into(),
        // No name: whoever signed up chose it, and the address may be a stranger's, so the
        // mail must not carry their words (sign-up as a relay).
        body: format!(
            "Hello,\n\nConfirm your email address by opening this link within 24 hours:\n\n{}\n\n\
             If you did not sign up for Gatehouse, ignore this message.\n",
            services
                .settings
                .link(&format!("/verify-email?token={token}")),
        ),
    });
    Ok(())
}

/// Sends a new verification link to a signed-in user whose address is not yet confirmed.
pub async fn resend_verification(services: &Services, user: &User) -> Result<(), Refusal> {
    if user.email_verified {
        return Ok(());
    }
    let mut conn = services.pool.get().await?;
    send_verification(services, &mut conn, user).await
}

/// Sends a new verification link to `email` if it belongs to an unconfirmed account.
/// The answer is the same either way, and comes before the lookup.
pub async fn resend_verification_to(
    services: &Services,
    email: &str,
    origin: &Origin,
) -> Result<(), Refusal> {
    let email = policy::email(email).map_err(|e| Refusal::Invalid(vec![e]))?;
    limit(services, Attempt::PasswordReset, &email, origin)?;
    let owned = services.clone();
    services
        .background
        .spawn("a new confirmation link", async move {
            let mut conn = owned.pool.get().await?;
            match users::find_by_email(&mut conn, &email).await? {
                Some(user) if !user.email_verified => {
                    send_verification(&owned, &mut conn, &user).await
                }
                _ => Ok(()),
            }
        });
    Ok(())
}

/// Confirms the address behind an emailed link, for whoever chose the account's password:
/// the link proves the mailbox, the password proves that the person confirming is the one
/// who signed up. Without it, someone could sign up first with another person's address and
/// a password of their own, and that person's click in the mail would hand them a confirmed
/// account (an admin one, were the address in ADMIN_EMAILS). A link works once; a wrong
/// password leaves it usable. The owner of an address someone else signed up with resets the
/// password instead, which confirms the address too.
pub async fn verify_email(
    services: &Services,
    token: &str,
    password: &str,
    origin: &Origin,
) -> Result<(), Refusal> {
    if !tokens::is_well_formed(token) {
        return Err(Refusal::LinkInvalid);
    }
    password_given(password).map_err(|e| Refusal::Invalid(vec![e]))?;
    let mut conn = services.pool.get().await?;
    let digest = tokens::digest(token);
    let Some((identifier, expires_at)) = verifications::find(&mut conn, &digest).await? else {
        return Err(Refusal::LinkInvalid);
    };
    let Some(user_id) = identifier.strip_prefix("email-verification:") else {
        return Err(Refusal::LinkInvalid);
    };
    if expires_at <= Utc::now() {
        return Err(Refusal::LinkExpired);
    }
    let Some(user) = users::find(&mut conn, user_id).await? else {
        return Err(Refusal::LinkInvalid);
    };
    limit(services, Attempt::SignIn, &user.email, origin)?;
    let stored = password_hash(&mut conn, &user.id).await?;
    // No connection is held while waiting for a hashing turn: the pool serves every page.
    drop(conn);
    let verified = services
        .passwords
        .verify(stored.as_deref(), password)
        .await?;
    let mut conn = services.pool.get().await?;
    if !verified.is_match() {
        record_own(&mut conn, &user, "email_verify_failed", json!({}), origin).await?;
        return Err(Refusal::Invalid(vec![FieldError {
            field: "password".into(),
            message: "That is not the password this account was made with. Forgotten it? \
                      Reset it: that confirms your address too."
                .into(),
        }]));
    }
    // Spent only now, and only once, whoever else is confirming at the same moment.
    if verifications::take(&mut conn, &digest).await?.is_none() {
        return Err(Refusal::LinkInvalid);
    }
    users::mark_email_verified(&mut conn, &user.id).await?;
    record_own(&mut conn, &user, "email_verified", json!({}), origin).await?;
    Ok(())
}

/// The user's password hash; none when they only sign in through a provider.
async fn password_hash(
    conn: &mut diesel_async::AsyncPgConnection,
    user_id: &str,
) -> diesel::QueryResult<Option<String>> {
    Ok(accounts::credential(conn, user_id)
        .await?
        .and_then(|c| c.password))
}

/// A password was typed, and not an impossibly long one.
fn password_given(password: &str) -> Result<(), FieldError> {
    let message = if password.is_empty() {
        "Enter your password.".to_string()
    } else if password.chars().count() > policy::PASSWORD_MAX {
        format!(
            "A password has at most {} characters.",
            policy::PASSWORD_MAX
        )
    } else {
        return Ok(());
    };
    Err(FieldError {
        field: "password".into(),
        message,
    })
}

fn limit(
    services: &Services,
    attempt: Attempt,
    email: &str,
    origin: &Origin,
) -> Result<(), Refusal> {
    let address = origin.ip_address.as_deref().unwrap_or("unknown");
    services
        .limits
        .check(attempt, email, address)
        .map_err(|retry| Refusal::RateLimited(retry.0.as_secs().max(1)))
}

/// Signs in with email and password; returns the new session's cookie token.
/// Unknown email and wrong password take the same time and give the same answer.
pub async fn sign_in(
    services: &Services,
    email: &str,
    password: &str,
    origin: &Origin,
) -> Result<String, Refusal> {
    let mut errors = Vec::new();
    let email = match policy::email(email) {
        Ok(email) => email,
        Err(e) => {
            errors.push(e);
            String::new()
        }
    };
    if let Err(e) = password_given(password) {
        errors.push(e);
    }
    if !errors.is_empty() {
        return Err(Refusal::Invalid(errors));
    }
    limit(services, Attempt::SignIn, &email, origin)?;

    let mut conn = services.pool.get().await?;
    let user = users::find_by_email(&mut conn, &email).await?;
    let stored = match &user {
        Some(user) => password_hash(&mut conn, &user.id).await?,
        None => None,
    };
    // No connection is held while waiting for a hashing turn: the pool serves every page.
    drop(conn);
    let verified = services
        .passwords
        .verify(stored.as_deref(), password)
        .await?;
    let rehashed = match (&user, verified) {
        (Some(_), Verified::YesRehash) => Some(services.passwords.hash(password).await?),
        _ => None,
    };
    let mut conn = services.pool.get().await?;
    let (Some(user), true) = (user, verified.is_match()) else {
        audit::record(
            &mut conn,
            Event {
                action: "sign_in_failed",
                actor: Actor::Anonymous,
                target: None,
                detail: json!({ "email": email }),
            },
            origin,
        )
        .await?;
        return Err(Refusal::InvalidCredentials);
    };
    if is_banned(&user, Utc::now()) {
        return Err(Refusal::banned(&user));
    }
    if let Some(hash) = rehashed {
        accounts::set_password(&mut conn, &user.id, &hash).await?;
    }
    if !user.email_verified {
        send_verification(services, &mut conn, &user).await?;
        return Err(Refusal::EmailNotVerified);
    }
    let user = access::apply_at_sign_in(&mut conn, &services.access, user, None, origin).await?;
    let (token, session) = sessions::start(services, &mut conn, &user, origin).await?;
    record_own(
        &mut conn,
        &user,
        "sign_in",
        json!({ "method": "password", "session": session.id }),
        origin,
    )
    .await?;
    Ok(token)
}

/// Mails a reset link if the address has an account. The answer is the same either way,
/// and comes before the lookup, so how long it takes tells nothing either.
pub async fn request_password_reset(
    services: &Services,
    email: &str,
    origin: &Origin,
) -> Result<(), Refusal> {
    let email = policy::email(email).map_err(|e| Refusal::Invalid(vec![e]))?;
    limit(services, Attempt::PasswordReset, &email, origin)?;
    let (owned, origin) = (services.clone(), origin.clone());
    services
        .background
        .spawn("a password reset request", async move {
            mail_reset_link(&owned, &email, &origin).await
        });
    Ok(())
}

async fn mail_reset_link(services: &Services, email: &str, origin: &Origin) -> Result<(), Refusal> {
    let mut conn = services.pool.get().await?;
    let Some(user) = users::find_by_email(&mut conn, email).await? else {
        return Ok(());
    };
    let token = tokens::new_token();
    let identifier = reset_identifier(&user.id);
    verifications::delete_for(&mut conn, &identifier).await?;
    verifications::insert(
        &mut conn,
        &identifier,
        &tokens::digest(&token),
        Utc::now() + Duration::hours(RESET_TTL_HOURS),
    )
    .await?;
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
    current: &sessions::Current,
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
pub fn require_recent_sign_in(current: &sessions::Current) -> Result<(), Refusal> {
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
async fn check_password(
    services: &Services,
    current: &sessions::Current,
    field: &str,
    password: &str,
    origin: &Origin,
) -> Result<(), Refusal> {
    let user = &current.user;
    let wrong = || {
        Refusal::Invalid(vec![FieldError {
            field: field.into(),
            message: "That is not your current password.".into(),
        }])
    };
    let mut conn = services.pool.get().await?;
    let stored = password_hash(&mut conn, &user.id).await?;
    drop(conn);
    let Some(stored) = stored.as_deref() else {
        return require_recent_sign_in(current);
    };
    if password.is_empty() || password.chars().count() > policy::PASSWORD_MAX {
        return Err(wrong());
    }
    limit(services, Attempt::SignIn, &user.email, origin)?;
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

pub async fn update_name(services: &Services, user: &User, name: &str) -> Result<(), Refusal> {
    let name = policy::name(name).map_err(|e| Refusal::Invalid(vec![e]))?;
    let mut conn = services.pool.get().await?;
    users::set_name(&mut conn, &user.id, &name).await?;
    Ok(())
}

/// Deletes the account and everything it owns (CASCADE), after the password once more.
pub async fn delete_account(
    services: &Services,
    current: &sessions::Current,
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
    user: &User,
    session_id: &str,
    origin: &Origin,
) -> Result<bool, Refusal> {
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
    current: &sessions::Current,
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
