//! Passkeys: the ceremonies `public/passkey.js` runs with the browser's WebAuthn. (The
//! profile's forms that rename and remove one are steps of `two_factor::two_step`.)

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::request::{
    cookie, cookies, end_second_step, invalid, origin, removal, require_user, second_step_token,
    services, start_session_cookie,
};
use super::AppError;
#[cfg(feature = "ssr")]
use crate::services::{passkeys, policy::local_path};
#[cfg(feature = "ssr")]
use crate::views::Notice;

/// Each step of a ceremony, by `step`: `add-options` then `add` (signed in, with an optional
/// `name`), `sign-in-options` then `sign-in` (from /login), `second-step-options` then
/// `second-step` (after a password, with the second step's cookie). An `-options` step
/// answers the options for `navigator.credentials`, as JSON text; the others take the
/// browser's answer as JSON in `credential` and answer where to go next.
#[server(endpoint = "passkey")]
pub async fn passkey_ceremony(
    #[server(default)] step: String,
    #[server(default)] credential: String,
    #[server(default)] name: String,
    #[server(default)] next: String,
) -> Result<String, AppError> {
    let services = services()?;
    let next = local_path(&next).unwrap_or("/profile").to_string();
    let options = |value: serde_json::Value| value.to_string();
    match step.as_str() {
        "add-options" => {
            let current = require_user().await?;
            Ok(options(
                passkeys::begin_registration(&services, &current).await?,
            ))
        }
        "add" => {
            let current = require_user().await?;
            passkeys::finish_registration(&services, &current, &name, &credential, &origin())
                .await
                .map_err(|e| AppError::from(e).keeping(&[("name", &name)]))?;
            Ok(Notice::PasskeyAdded.after("/profile"))
        }
        // The request waits in this browser's cookie, sealed: no row (passkeys.rs).
        "sign-in-options" => {
            let (value, sealed) = passkeys::begin_sign_in(&services)?;
            let settings = &services.settings;
            let name = settings.passkey_cookie_name();
            let lasts = passkeys::CEREMONY_LIFETIME;
            cookies().await?.add(cookie(settings, name, sealed, lasts));
            Ok(options(value))
        }
        "sign-in" => {
            // Used once in this browser, whatever comes of it.
            let jar = cookies().await?;
            let settings = &services.settings;
            let name = settings.passkey_cookie_name();
            let sealed = jar.get(name).map(|c| c.value().to_string());
            if sealed.is_some() {
                jar.remove(removal(settings, name));
            }
            let token =
                passkeys::finish_sign_in(&services, sealed.as_deref(), &credential, &origin())
                    .await?;
            start_session_cookie(&services, token).await?;
            Ok(next)
        }
        "second-step-options" | "second-step" => {
            let challenge = second_step_token(&services).await?;
            if step == "second-step-options" {
                return Ok(options(
                    passkeys::begin_second_step(&services, &challenge).await?,
                ));
            }
            let token =
                passkeys::finish_second_step(&services, &challenge, &credential, &origin()).await?;
            end_second_step(&services, token).await?;
            Ok(next)
        }
        _ => Err(invalid(
            "step",
            "Choose add-options, add, sign-in-options, sign-in, second-step-options or \
             second-step.",
            &[],
        )),
    }
}
