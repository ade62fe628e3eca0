//! The invitee's form, on the page an invitation's link opens (`/invitation?token=T`,
//! written on the server: `api::written`, `components::written::invitation`). Only the
//! server has it: no page's client code calls it.

use leptos::prelude::*;

use super::request::{after_sign_in, cookies, origin, redirect, services};
use super::AppError;
use crate::services::invitations;

/// Accepts an invitation: a new account for the invited address, already confirmed (the link
/// proves the mailbox) and let in with the invitation's role and tier, signed in. The link
/// works once; one that was used, revoked, or whose week ran out is refused (410).
#[server(endpoint = "accept-invitation")]
pub async fn accept_invitation(
    #[server(default)] token: String,
    #[server(default)] name: String,
    #[server(default)] password: String,
) -> Result<(), AppError> {
    let services = services()?;
    let step = invitations::accept(&services, &token, &name, &password, &origin())
        .await
        .map_err(|e| AppError::from(e).keeping(&[("name", &name)]))?;
    let next = after_sign_in(&cookies().await?, &services.settings, step, "/profile");
    redirect(&next);
    Ok(())
}
