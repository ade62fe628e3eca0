//! Email-and-password accounts, a file per flow: sign-up and confirmation, sign-in, the
//! password (reset, change, the re-check before what cannot be undone), and what a person
//! does to their own account (name, sessions, deletion). No answer here tells whether an
//! address is registered.

mod email;
mod export;
mod own;
mod password;
mod sign_in;
mod sign_up;

pub use email::{
    confirm_email_change, email_change_link, pending_email_change, request_email_change,
    undo_email_change, withdraw_email_change, EmailChangeLink, LinkedChange, PendingEmailChange,
    NOT_THE_REQUESTER, SAME_EMAIL,
};
pub use export::{my_data, MyData};
pub use own::{delete_account, end_other_sessions, end_session, update_name};
pub use password::{
    change_password, request_password_reset, require_recent_sign_in, reset_password,
};
pub use sign_in::sign_in;
pub use sign_up::{resend_verification, resend_verification_to, sign_up, verify_email};

use chrono::{Duration, Utc};

use super::audit::{self, Actor, Origin};
use super::context::Services;
use super::rate_limit::Attempt;
use super::{policy, tokens, Refusal};
use crate::db::models::User;
use crate::db::{accounts, verifications};
use crate::views::FieldError;

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
    let me = (user.id.as_str(), user.email.as_str());
    audit::record_as(
        conn,
        Actor::User(me.0, me.1),
        Some(me),
        action,
        detail,
        origin,
    )
    .await
}

fn verification_identifier(user_id: &str) -> String {
    format!("email-verification:{user_id}")
}

fn reset_identifier(user_id: &str) -> String {
    format!("password-reset:{user_id}")
}

/// A single-use token for an emailed link, for `identifier`, lasting `ttl`; an earlier one
/// for the same identifier stops working. The database keeps only the token's digest.
async fn new_link(
    conn: &mut diesel_async::AsyncPgConnection,
    identifier: &str,
    ttl: Duration,
) -> Result<String, Refusal> {
    let token = tokens::new_token();
    verifications::delete_for(conn, identifier).await?;
    verifications::insert(conn, identifier, &tokens::digest(&token), Utc::now() + ttl).await?;
    Ok(token)
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

async fn limit(
    services: &Services,
    attempt: Attempt,
    email: &str,
    origin: &Origin,
) -> Result<(), Refusal> {
    let address = origin.ip_address.as_deref().unwrap_or("unknown");
    crate::services::rate_limit::count(services, attempt, Some(email), address).await
}

/// A request to mail a link to an address (a reset, a new confirmation): the address is
/// checked and counted against the limits, then `work` runs after the answer has gone, so
/// how long the answer takes says nothing about whether the address has an account.
async fn mail_after_answering<Work>(
    services: &Services,
    what: &'static str,
    email: &str,
    origin: &Origin,
    work: impl FnOnce(Services, String, Origin) -> Work,
) -> Result<(), Refusal>
where
    Work: std::future::Future<Output = Result<(), Refusal>> + Send + 'static,
{
    let email = policy::email(email).map_err(|e| Refusal::Invalid(vec![e]))?;
    limit(services, Attempt::PasswordReset, &email, origin).await?;
    let work = work(services.clone(), email, origin.clone());
    services.background.spawn(what, work);
    Ok(())
}
