//! Signing in with email and password.

use chrono::Utc;
use serde_json::json;

use super::sign_up::send_verification;
use super::*;
use crate::db::{accounts, users};
use crate::services::audit::{self, Actor, Event, Origin};
use crate::services::context::Services;
use crate::services::passwords::Verified;
use crate::services::rate_limit::Attempt;
use crate::services::sessions::is_banned;
use crate::services::two_factor::{self, SignInStep};
use crate::services::{access, policy, Refusal};

/// Signs in with email and password: a session, or the second step for a person who set
/// one up. Unknown email and wrong password take the same time and give the same answer.
pub async fn sign_in(
    services: &Services,
    email: &str,
    password: &str,
    origin: &Origin,
) -> Result<SignInStep, Refusal> {
    let signed_in = check_and_start(services, email, password, origin).await;
    crate::telemetry::sign_in("password", Refusal::outcome(&signed_in));
    signed_in
}

async fn check_and_start(
    services: &Services,
    email: &str,
    password: &str,
    origin: &Origin,
) -> Result<SignInStep, Refusal> {
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
    limit(services, Attempt::SignIn, &email, origin).await?;

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
    let user = access::apply_at_sign_in(&mut conn, services, user, None, origin).await?;
    two_factor::finish_sign_in(services, &mut conn, &user, "password", origin).await
}
