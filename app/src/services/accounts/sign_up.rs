//! Signing up, and confirming the address from the mailed link (with the password).

use chrono::{Duration, Utc};
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::AsyncConnection;
use serde_json::json;

use super::*;
use crate::db::models::{new_id, User};
use crate::db::{accounts, users, verifications};
use crate::services::audit::Origin;
use crate::services::context::Services;
use crate::services::mail::Mail;
use crate::services::rate_limit::Attempt;
use crate::services::sessions::user_record;
use crate::services::{policy, tokens, Refusal};
use crate::views::{Person, Role, Tier, UserRecord};

/// Signs a person up. New address: a user with a password account, and a verification mail.
/// Known address: nothing changes, and the owner is told by mail. The answer is the same:
/// the new user, or for a known address a stand-in shaped like one (a fresh id, the name and
/// address given), so not even an API's answer tells the two apart.
pub async fn sign_up(
    services: &Services,
    name: &str,
    email: &str,
    password: &str,
    origin: &Origin,
) -> Result<UserRecord, Refusal> {
    let email_checked = policy::email(email);
    let stored_email = email_checked.clone().unwrap_or_default();
    let fields = collect([
        policy::name(name),
        email_checked,
        policy::new_password("password", password, &stored_email).map(|()| String::new()),
    ])?;
    let (name, email) = (&fields[0], &fields[1]);
    // Each sign-up costs a hash and sends a mail: a flood must not do either without end.
    limit(services, Attempt::SignUp, email, origin).await?;

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
            Ok(user_record(&user))
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
            let now = Utc::now();
            Ok(UserRecord {
                person: Person {
                    id: new_id(),
                    name: name.clone(),
                    email: email.clone(),
                    email_verified: false,
                    role: Role::User,
                    tier: Tier::Free,
                    whitelisted: false,
                    has_access: false,
                    two_factor: false,
                },
                image: None,
                created_at: now,
                updated_at: now,
            })
        }
    }
}

pub(super) async fn send_verification(
    services: &Services,
    conn: &mut crate::db::DbConn,
    user: &User,
) -> Result<(), Refusal> {
    let identifier = verification_identifier(&user.id);
    let token = new_link(conn, &identifier, Duration::hours(VERIFY_EMAIL_TTL_HOURS)).await?;
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
pub async fn resend_verification(
    services: &Services,
    current: &crate::services::sessions::SignedIn,
) -> Result<(), Refusal> {
    let user = &current.user;
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
    let what = "a new confirmation link";
    mail_after_answering(
        services,
        what,
        email,
        origin,
        |services, email, _| async move {
            let mut conn = services.pool.get().await?;
            match users::find_by_email(&mut conn, &email).await? {
                Some(user) if !user.email_verified => {
                    send_verification(&services, &mut conn, &user).await
                }
                _ => Ok(()),
            }
        },
    )
    .await
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
    limit(services, Attempt::SignIn, &user.email, origin).await?;
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
        return Err(Refusal::invalid(
            "password",
            "That is not the password this account was made with. Forgotten it? \
                      Reset it: that confirms your address too.",
        ));
    }
    // Spent only now, and only once, whoever else is confirming at the same moment.
    if verifications::take(&mut conn, &digest).await?.is_none() {
        return Err(Refusal::LinkInvalid);
    }
    users::mark_email_verified(&mut conn, &user.id).await?;
    record_own(&mut conn, &user, "email_verified", json!({}), origin).await?;
    Ok(())
}
