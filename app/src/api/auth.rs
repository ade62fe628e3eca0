//! Signing up, in and out, confirming an address, and resetting a forgotten password.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::request::{after_sign_in, clear_session_cookie, cookies, origin, redirect, services};
use super::AppError;
#[cfg(feature = "ssr")]
use crate::services::{accounts, policy::local_path};
#[cfg(feature = "ssr")]
use crate::views::Notice;

/// Where a browser without JavaScript lands once a mail is on its way.
pub const CHECK_EMAIL: &str = "/check-email";

#[server(endpoint = "sign-up")]
pub async fn sign_up(
    #[server(default)] name: String,
    #[server(default)] email: String,
    #[server(default)] password: String,
) -> Result<(), AppError> {
    let services = services()?;
    accounts::sign_up(&services, &name, &email, &password, &origin())
        .await
        .map_err(|e| AppError::from(e).keeping(&[("name", &name), ("email", &email)]))?;
    redirect(&format!("{CHECK_EMAIL}?for=sign-up"));
    Ok(())
}

#[server(endpoint = "sign-in")]
pub async fn sign_in(
    #[server(default)] email: String,
    #[server(default)] password: String,
    #[server(default)] next: String,
) -> Result<(), AppError> {
    let services = services()?;
    let step = accounts::sign_in(&services, &email, &password, &origin())
        .await
        .map_err(|e| AppError::from(e).keeping(&[("email", &email)]))?;
    let next = local_path(&next).unwrap_or("/profile");
    redirect(&after_sign_in(
        &cookies().await?,
        &services.settings,
        step,
        next,
    ));
    Ok(())
}

#[server(endpoint = "sign-out")]
pub async fn sign_out() -> Result<(), AppError> {
    let services = services()?;
    if let Some(current) = super::request::current().await? {
        accounts::end_session(&services, &current, current.session_id(), &origin())
            .await
            .map_err(AppError::from)?;
    }
    clear_session_cookie(&services).await?;
    redirect("/");
    Ok(())
}

#[server(endpoint = "verify-email")]
pub async fn verify_email(
    #[server(default)] token: String,
    #[server(default)] password: String,
) -> Result<(), AppError> {
    let services = services()?;
    accounts::verify_email(&services, &token, &password, &origin())
        .await
        .map_err(AppError::from)?;
    redirect(&Notice::Verified.after("/login"));
    Ok(())
}

/// A new confirmation link for an address whose link expired or was lost.
#[server(endpoint = "resend-verification")]
pub async fn resend_verification(#[server(default)] email: String) -> Result<(), AppError> {
    let services = services()?;
    accounts::resend_verification_to(&services, &email, &origin())
        .await
        .map_err(|e| AppError::from(e).keeping(&[("email", &email)]))?;
    redirect(&format!("{CHECK_EMAIL}?for=verification"));
    Ok(())
}

#[server(endpoint = "forgot-password")]
pub async fn forgot_password(#[server(default)] email: String) -> Result<(), AppError> {
    let services = services()?;
    accounts::request_password_reset(&services, &email, &origin())
        .await
        .map_err(|e| AppError::from(e).keeping(&[("email", &email)]))?;
    redirect(&format!("{CHECK_EMAIL}?for=reset"));
    Ok(())
}

#[server(endpoint = "reset-password")]
pub async fn reset_password(
    #[server(default)] token: String,
    #[server(default)] password: String,
) -> Result<(), AppError> {
    let services = services()?;
    accounts::reset_password(&services, &token, &password, &origin())
        .await
        .map_err(AppError::from)?;
    clear_session_cookie(&services).await?;
    redirect(&Notice::PasswordReset.after("/login"));
    Ok(())
}

/// The ways to sign in besides a password, for the buttons on /login: a passkey first
/// (`PASSKEY`), where passkeys work here, then the providers.
#[server(endpoint = "sign-in-providers")]
pub async fn sign_in_providers() -> Result<Vec<crate::views::ProviderChoice>, AppError> {
    let services = services()?;
    let passkey = crate::services::passkeys::has_relying_party(&services).then(|| {
        crate::views::ProviderChoice {
            id: crate::views::PASSKEY.into(),
            name: "a passkey".into(),
        }
    });
    Ok(passkey
        .into_iter()
        .chain(services.providers.choices())
        .collect())
}
