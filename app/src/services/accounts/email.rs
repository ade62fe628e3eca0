//! A change of email address: asked for on the profile (with the password, or a recent
//! sign-in), confirmed from a link mailed to the new address, and undone from a link mailed
//! to the old one (which also ends every session). Until the new address is confirmed
//! nothing changes; an address another account holds is never revealed to the asker.

use chrono::{DateTime, Duration, Utc};
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::AsyncConnection;
use serde_json::json;

use super::password::check_password;
use super::*;
use crate::db::email_changes;
use crate::db::{sessions as session_rows, users, verifications};
use crate::services::access;
use crate::services::audit::Origin;
use crate::services::context::Services;
use crate::services::mail::Mail;
use crate::services::rate_limit::Attempt;
use crate::services::sessions::SignedIn;
use crate::services::{policy, tokens, Refusal};

/// How long the confirmation link works, and the old address's link to undo the change
/// (from the request, and again from the confirmation).
const EMAIL_CHANGE_TTL_HOURS: i64 = 24;

/// Said of a new address that is the one in use.
pub const SAME_EMAIL: &str = "That is already your address.";

/// A change waiting for its confirmation, as the profile shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingEmailChange {
    pub new_email: String,
    pub expires_at: DateTime<Utc>,
}

/// Asks to change the signed-in person's address to `new_email`: the password (`password`,
/// or a recent sign-in without one) first; then a confirmation link to the new address and a
/// word to the current one, with a link that undoes the change. When another account holds
/// the new address, its owner is told instead and nothing can be confirmed, but the asker's
/// answer, page and mail are the same: the change waits for a confirmation that never comes.
pub async fn request_email_change(
    services: &Services,
    current: &SignedIn,
    new_email: &str,
    password: &str,
    origin: &Origin,
) -> Result<(), Refusal> {
    let user = &current.user;
    let new_email =
        policy::email(new_email).map_err(|e| Refusal::invalid("new_email", e.message))?;
    if new_email == user.email {
        return Err(Refusal::invalid("new_email", SAME_EMAIL));
    }
    // Each request mails two addresses, one of them perhaps a stranger's.
    limit(services, Attempt::EmailChange, &user.email, origin).await?;
    check_password(services, current, "email_password", password, origin).await?;

    let (confirm, undo) = (tokens::new_token(), tokens::new_token());
    let expires_at = Utc::now() + Duration::hours(EMAIL_CHANGE_TTL_HOURS);
    let mut conn = services.pool.get().await?;
    let taken = users::find_by_email(&mut conn, &new_email).await?.is_some();
    let digests = (tokens::digest(&confirm), tokens::digest(&undo));
    let asked_for = new_email.clone();
    conn.transaction::<_, diesel::result::Error, _>(|conn| {
        async move {
            let digests = (digests.0.as_str(), digests.1.as_str());
            email_changes::replace_pending(
                conn,
                &user.id,
                &user.email,
                &asked_for,
                digests,
                expires_at,
            )
            .await?;
            let detail = json!({ "to": asked_for });
            record_own(conn, user, "email_change_requested", detail, origin).await
        }
        .scope_boxed()
    })
    .await?;

    let settings = &services.settings;
    services.mail_in_background(if taken {
        Mail {
            to: new_email.clone(),
            subject: "Someone tried to move a Gatehouse account to your address".into(),
            body: format!(
                "Hello,\n\nSomeone asked to make this address the email address of their \
                 Gatehouse account. This address already has an account of its own, so \
                 nothing has changed, and nothing will.\n\nIf it was you, sign in to your \
                 account at {}\n",
                settings.link("/login"),
            ),
        }
    } else {
        // No name: the asker chose it, and the new address may be a stranger's.
        Mail {
            to: new_email.clone(),
            subject: "Confirm your new email address for Gatehouse".into(),
            body: format!(
                "Hello,\n\nSomeone (maybe you) asked to make this the email address of their \
                 Gatehouse account. Confirm it by opening this link within 24 hours:\n\n{}\n\n\
                 If you did not ask for this, ignore this message: nothing changes.\n",
                settings.link(&format!("/email-change?token={confirm}")),
            ),
        }
    });
    services.mail_in_background(Mail {
        to: user.email.clone(),
        subject: "A change of your Gatehouse email address was asked for".into(),
        body: format!(
            "Hello {},\n\nSomeone signed in to your Gatehouse account asked to change its email \
             address to {new_email}. Nothing changes until the new address is confirmed.\n\n\
             If this was not you, stop the change and sign out every session by opening this \
             link within 24 hours:\n\n{}\n\nThen change your password: whoever asked knew it.\n",
            user.name,
            settings.link(&format!("/email-change?undo={undo}")),
        ),
    });
    Ok(())
}

/// The person's change waiting for its confirmation, if a link for one still works.
pub async fn pending_email_change(
    services: &Services,
    current: &SignedIn,
) -> Result<Option<PendingEmailChange>, Refusal> {
    let mut conn = services.pool.get().await?;
    Ok(email_changes::pending_of(&mut conn, &current.user.id)
        .await?
        .filter(|change| change.expires_at > Utc::now())
        .map(|change| PendingEmailChange {
            new_email: change.new_email,
            expires_at: change.expires_at,
        }))
}

/// Withdraws the signed-in person's change waiting for its confirmation (its link stops
/// working). Nothing to withdraw is no error.
pub async fn withdraw_email_change(
    services: &Services,
    current: &SignedIn,
    origin: &Origin,
) -> Result<(), Refusal> {
    let user = &current.user;
    let mut conn = services.pool.get().await?;
    if email_changes::cancel_pending(&mut conn, &user.id).await? > 0 {
        record_own(&mut conn, user, "email_change_withdrawn", json!({}), origin).await?;
    }
    Ok(())
}

/// What a link about a change of address leads to, for its page.
#[derive(Clone, Debug)]
pub struct LinkedChange {
    /// The account that asked for the change.
    pub user_id: String,
    pub new_email: String,
}

/// The change a link leads to, while the link still works.
pub async fn email_change_link(
    services: &Services,
    link: EmailChangeLink<'_>,
) -> Result<Option<LinkedChange>, Refusal> {
    let token = match link {
        EmailChangeLink::Confirm(token) | EmailChangeLink::Undo(token) => token,
    };
    if !tokens::is_well_formed(token) {
        return Ok(None);
    }
    let digest = tokens::digest(token);
    let mut conn = services.pool.get().await?;
    let now = Utc::now();
    let found = match link {
        EmailChangeLink::Confirm(_) => {
            email_changes::find_by_confirm_token(&mut conn, &digest, false)
                .await?
                .filter(|change| change.expires_at > now)
        }
        EmailChangeLink::Undo(_) => email_changes::find_by_undo_token(&mut conn, &digest)
            .await?
            .filter(|change| change.undo_until > now),
    };
    Ok(found.map(|change| LinkedChange {
        user_id: change.user_id,
        new_email: change.new_email,
    }))
}

/// One of the two links a change of address mails out.
#[derive(Clone, Copy, Debug)]
pub enum EmailChangeLink<'a> {
    /// To the new address: makes it the account's.
    Confirm(&'a str),
    /// To the old address: stops the change, or puts the old address back.
    Undo(&'a str),
}

/// Confirms a change of address from the link mailed to the new address: the account's
/// address becomes the new one, confirmed. The link proves the mailbox; the requester must
/// be proved too, by their session in this browser (`current`) or the account's password,
/// or the owner of an address could be tricked into handing it to a stranger's account.
/// The new address grants nothing by itself (no invitation is accepted, ADMIN_EMAILS and
/// ALLOWLIST do not apply): admins are told when it would have. The old address is told,
/// with a second link to undo it within 24 hours from now. A link works once.
pub async fn confirm_email_change(
    services: &Services,
    current: Option<&SignedIn>,
    token: &str,
    password: &str,
    origin: &Origin,
) -> Result<(), Refusal> {
    if !tokens::is_well_formed(token) {
        return Err(Refusal::LinkInvalid);
    }
    let digest = tokens::digest(token);
    let mut conn = services.pool.get().await?;
    let Some(asked) = email_changes::find_by_confirm_token(&mut conn, &digest, false).await? else {
        return Err(Refusal::LinkInvalid);
    };
    if asked.expires_at <= Utc::now() {
        return Err(Refusal::LinkExpired);
    }
    drop(conn);
    if current.is_none_or(|current| current.user.id != asked.user_id) {
        check_requester(services, &asked, password, origin).await?;
    }

    let undo = tokens::new_token();
    let undo_digest = tokens::digest(&undo);
    let undo_until = Utc::now() + Duration::hours(EMAIL_CHANGE_TTL_HOURS);
    let mut conn = services.pool.get().await?;
    let (user, change) = conn
        .transaction::<_, Refusal, _>(|conn| {
            async move {
                let Some(change) =
                    email_changes::find_by_confirm_token(conn, &digest, true).await?
                else {
                    return Err(Refusal::LinkInvalid);
                };
                let Some(user) = users::lock(conn, &change.user_id).await? else {
                    return Err(Refusal::LinkInvalid);
                };
                // The address changed another way since: this request is stale.
                if user.email != change.old_email {
                    return Err(Refusal::LinkInvalid);
                }
                let Some(user) =
                    users::set_confirmed_email(conn, &user.id, &change.new_email).await?
                else {
                    return Err(Refusal::Conflict(
                        "Another account has this address now, so it cannot be yours. Ask for \
                         the change again with another address."
                            .into(),
                    ));
                };
                users::mark_email_changed(conn, &user.id).await?;
                email_changes::mark_confirmed(conn, &change.id, &undo_digest, undo_until).await?;
                // Links mailed to the old address must not reset the password any more.
                verifications::delete_for(conn, &reset_identifier(&user.id)).await?;
                let detail = json!({ "from": change.old_email, "to": change.new_email });
                record_own(conn, &user, "email_changed", detail, origin).await?;
                let withheld = access::grants_of_address(conn, services, &user.email).await?;
                if !withheld.is_empty() {
                    let detail = json!({ "address": user.email, "not_applied": withheld });
                    record_own(conn, &user, "email_change_grants_withheld", detail, origin).await?;
                }
                Ok((user, change))
            }
            .scope_boxed()
        })
        .await?;
    services.mail_in_background(Mail {
        to: change.old_email.clone(),
        subject: "Your Gatehouse email address was changed".into(),
        body: format!(
            "Hello {},\n\nThe email address of your Gatehouse account is now {}. Sign in with \
             it from now on.\n\nIf this was not you, put this address back and sign out every \
             session by opening this link within 24 hours:\n\n{}\n\nThen change your password: \
             whoever did it knew it.\n",
            user.name,
            change.new_email,
            services
                .settings
                .link(&format!("/email-change?undo={undo}")),
        ),
    });
    Ok(())
}

/// The password of the account that asked for `change`, from someone confirming it in a
/// browser without that account's session. It counts as a sign-in attempt. An account
/// without a password confirms only from a browser signed in to it.
async fn check_requester(
    services: &Services,
    change: &email_changes::EmailChange,
    password: &str,
    origin: &Origin,
) -> Result<(), Refusal> {
    if password.is_empty() {
        return Err(Refusal::invalid("password", NOT_THE_REQUESTER));
    }
    let mut conn = services.pool.get().await?;
    let Some(user) = users::find(&mut conn, &change.user_id).await? else {
        return Err(Refusal::LinkInvalid);
    };
    let stored = password_hash(&mut conn, &user.id).await?;
    drop(conn);
    limit(services, Attempt::SignIn, &user.email, origin).await?;
    let verified = services
        .passwords
        .verify(stored.as_deref(), password)
        .await?;
    if verified.is_match() && password.chars().count() <= policy::PASSWORD_MAX {
        Ok(())
    } else {
        Err(Refusal::invalid(
            "password",
            "That is not the password of the account that asked for this change.",
        ))
    }
}

/// Said to someone confirming a change without the requester's session or password.
pub const NOT_THE_REQUESTER: &str = "Enter the password of the Gatehouse account that asked \
     for this change, or open this link in the browser where that account is signed in.";

/// Undoes a change of address from the link mailed to the old address, and gives the
/// account back to the owner of that address: the old address is put back (confirmed: the
/// link proves the mailbox) whatever changes followed, those changes' links die, the ways in
/// added since the change was asked for (passkeys, an authenticator app, providers) are
/// removed, the password is cleared and every session ends, wherever it is. Returns a link's
/// token for choosing a new password (none for an account that had none). A link works once.
pub async fn undo_email_change(
    services: &Services,
    token: &str,
    origin: &Origin,
) -> Result<Option<String>, Refusal> {
    if !tokens::is_well_formed(token) {
        return Err(Refusal::LinkInvalid);
    }
    let digest = tokens::digest(token);
    let mut conn = services.pool.get().await?;
    let (user, change, reset) = conn
        .transaction::<_, Refusal, _>(|conn| {
            async move {
                let Some(change) = email_changes::take_by_undo_token(conn, &digest).await? else {
                    return Err(Refusal::LinkInvalid);
                };
                if change.undo_until <= Utc::now() {
                    return Err(Refusal::LinkExpired);
                }
                let Some(mut user) = users::lock(conn, &change.user_id).await? else {
                    return Err(Refusal::LinkInvalid);
                };
                if user.email != change.old_email {
                    user = users::set_confirmed_email(conn, &user.id, &change.old_email)
                        .await?
                        .ok_or_else(|| {
                            Refusal::Conflict(
                                "Another account has taken your old address since, so it cannot \
                                 be put back. Ask an administrator for help."
                                    .into(),
                            )
                        })?;
                }
                email_changes::delete_asked_since(conn, &user.id, change.created_at).await?;
                let taken =
                    email_changes::take_back_ways_in(conn, &user.id, change.created_at).await?;
                session_rows::delete_all_but(conn, &user.id, None).await?;
                // The link that proved the mailbox leads on to choosing a new password.
                let reset = match taken.password {
                    true => {
                        let ttl = Duration::hours(RESET_TTL_HOURS);
                        Some(new_link(conn, &reset_identifier(&user.id), ttl).await?)
                    }
                    false => None,
                };
                let detail = json!({
                    "from": change.new_email,
                    "back_to": change.old_email,
                    "was_confirmed": change.confirmed_at.is_some(),
                    "sessions_ended": "all",
                    "removed": taken,
                });
                record_own(conn, &user, "email_change_undone", detail, origin).await?;
                Ok((user, change, reset))
            }
            .scope_boxed()
        })
        .await?;
    let password = match &reset {
        Some(reset) => format!(
            "Its password was cleared, as whoever asked knew it. Choose a new one within an hour \
             at:\n\n{}\n\n(or later at {}).",
            services
                .settings
                .link(&format!("/reset-password?token={reset}")),
            services.settings.link("/forgot-password"),
        ),
        None => {
            "If you did not ask for the change, check the ways you sign in on your profile.".into()
        }
    };
    services.mail_in_background(Mail {
        to: change.old_email.clone(),
        subject: "The change of your Gatehouse email address was undone".into(),
        body: format!(
            "Hello {},\n\nThe change of your Gatehouse account's email address to {} was undone: \
             {} is its address, every session was signed out, and passkeys, authenticator apps \
             and providers added since the change was asked for were removed.\n\n{password}\n",
            user.name, change.new_email, user.email,
        ),
    });
    Ok(reset)
}
