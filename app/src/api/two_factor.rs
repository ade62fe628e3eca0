//! Two-step sign-in: the second step of a sign-in, and a person's own authenticator app.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::request::{
    current, end_second_step, invalid, origin, redirect, require_user, second_step_token, services,
};
use super::AppError;
#[cfg(feature = "ssr")]
use crate::services::{passkeys, policy::local_path, two_factor};
use crate::views::TwoFactorView;
#[cfg(feature = "ssr")]
use crate::views::{Notice, TWO_FACTOR_PAGE};

/// The person's authenticator app, as its page shows it; `None` when nobody is signed in.
#[server(endpoint = "my-two-factor")]
pub async fn my_two_factor() -> Result<Option<TwoFactorView>, AppError> {
    let Some(current) = current().await? else {
        return Ok(None);
    };
    Ok(Some(two_factor::view(&services()?, &current).await?))
}

/// Every form about second factors, one server function (one client stub, and the client's
/// module has a size budget), by its `step`: `sign-in`, the second step of a sign-in (the
/// code for the sign-in the second step's cookie carries, then on to `next`); and for
/// someone signed in, `begin` an authenticator app's set-up (or start over), `confirm` it
/// with a first code, or turn it `off` with a code; `rename-passkey` (passkey `id` to
/// `name`) or `remove-passkey` (after a recent sign-in; never the last way in).
#[server(endpoint = "two-factor")]
pub async fn two_step(
    #[server(default)] step: String,
    #[server(default)] code: String,
    #[server(default)] next: String,
    #[server(default)] id: String,
    #[server(default)] name: String,
) -> Result<(), AppError> {
    let services = services()?;
    if step == "sign-in" {
        let challenge = second_step_token(&services).await?;
        let token = two_factor::complete_sign_in(&services, &challenge, &code, &origin()).await?;
        end_second_step(&services, token).await?;
        redirect(local_path(&next).unwrap_or("/profile"));
        return Ok(());
    }
    let current = require_user().await?;
    // Back to the page with a notice, so a page in the browser asks for its data again.
    let notice = match step.as_str() {
        "begin" => {
            two_factor::begin(&services, &current).await?;
            Notice::TwoFactorStarted
        }
        "confirm" => {
            two_factor::confirm(&services, &current, &code, &origin()).await?;
            Notice::TwoFactorOn
        }
        "off" => {
            two_factor::disable(&services, &current, &code, &origin()).await?;
            Notice::TwoFactorOff
        }
        "rename-passkey" => {
            passkeys::rename(&services, &current, &id, &name)
                .await
                .map_err(|e| AppError::from(e).keeping(&[("name", &name)]))?;
            Notice::PasskeyRenamed
        }
        "remove-passkey" => {
            passkeys::remove(&services, &current, &id, &origin()).await?;
            Notice::PasskeyRemoved
        }
        _ => {
            return Err(invalid(
                "step",
                "Choose sign-in, begin, confirm, off, rename-passkey or remove-passkey.",
                &[],
            ))
        }
    };
    let page = match notice {
        Notice::PasskeyRenamed | Notice::PasskeyRemoved => "/profile",
        _ => TWO_FACTOR_PAGE,
    };
    redirect(&notice.after(page));
    Ok(())
}
