//! The signed-in person's own account: what the profile page shows and changes.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::request::{
    clear_session_cookie, current, form_error, invalid, origin, page_query, redirect, require_user,
    services,
};
use super::AppError;
#[cfg(feature = "ssr")]
use crate::services::providers::linking;
#[cfg(feature = "ssr")]
use crate::services::{accounts, passkeys, sessions, two_factor};
#[cfg(feature = "ssr")]
use crate::views::Notice;
use crate::views::{Me, ProfileView, SessionView, SignInMethods};

/// Who is signed in, for the frame and the pages that differ by it, without a server call of
/// their own: the router looks the session up before a page renders, and the client reads it
/// back from the page when it hydrates. In the browser `Layout` asks again after every
/// navigation ([`Viewer::refresh`]), since signing in or out ends on another page.
#[derive(Clone, Copy)]
pub struct Viewer(RwSignal<Option<Me>>);

impl Viewer {
    pub fn provide() -> Self {
        let known = SharedValue::<_, crate::components::PageData>::new_with_encoding(|| {
            #[cfg(feature = "ssr")]
            let known = super::request::known_viewer();
            #[cfg(not(feature = "ssr"))]
            let known = None;
            known
        })
        .into_inner();
        let viewer = Viewer(RwSignal::new(known));
        provide_context(viewer);
        viewer
    }

    /// Asks the server who is signed in now.
    #[cfg(feature = "hydrate")]
    pub fn refresh(self) {
        leptos::task::spawn_local(async move {
            if let Ok(me) = current_user().await {
                self.0.set(me);
            }
        });
    }
}

/// The signed-in person (tracked: a view that reads it in a closure follows sign-in and out).
pub fn viewer() -> Option<Me> {
    use_context::<Viewer>().and_then(|Viewer(me)| me.get())
}

/// The signed-in person, or `None`.
#[server(endpoint = "current-user")]
pub async fn current_user() -> Result<Option<Me>, AppError> {
    Ok(current().await?.map(|current| current.me()))
}

/// Everything the profile page shows, or `None` when nobody is signed in. Its reads run at
/// once, pipelined on the shared connections.
#[server(endpoint = "my-profile")]
pub async fn my_profile() -> Result<Option<ProfileView>, AppError> {
    let Some(current) = current().await? else {
        return Ok(None);
    };
    let services = services()?;
    let passkeys = async {
        if !passkeys::has_relying_party(&services) {
            return Ok(String::new());
        }
        let theirs = passkeys::list(&services, current.user_id()).await?;
        // A refused rename or removal (the card's forms post to `two-factor`).
        let refused = form_error("/api/two-factor");
        Ok(crate::components::form::passkey_card(
            &theirs,
            refused.as_ref(),
        ))
    };
    let (sessions, methods, passkeys, email_change, older_recovery_codes) = tokio::try_join!(
        sessions::list(&services, &current),
        linking::methods(&services, &current),
        passkeys,
        accounts::pending_email_change(&services, &current),
        two_factor::has_older_recovery_codes(&services, &current),
    )?;
    // A refused download of the person's data comes back as a new page, `?export=REASON`:
    // the page's own query, read where the page is rendered (a later call of this function
    // from the browser has none, and the card then shows no stale reason).
    let refused = page_query("export").unwrap_or_default();
    let me = current.me();
    let mut cards = crate::components::written::email_card(
        &me.email,
        email_change.as_ref(),
        methods.has_password,
        form_error("/api/change-email").as_ref(),
    );
    cards.push_str(&passkeys);
    cards.push_str(&crate::components::form::data_card(
        methods.has_password,
        &refused,
    ));
    Ok(Some(ProfileView {
        me,
        sessions,
        methods,
        older_recovery_codes,
        cards,
    }))
}

#[server(endpoint = "my-sessions")]
pub async fn my_sessions() -> Result<Vec<SessionView>, AppError> {
    let current = require_user().await?;
    sessions::list(&services()?, &current)
        .await
        .map_err(AppError::from)
}

#[server(endpoint = "update-name")]
pub async fn update_name(#[server(default)] name: String) -> Result<(), AppError> {
    let current = require_user().await?;
    accounts::update_name(&services()?, &current, &name)
        .await
        .map_err(|e| AppError::from(e).keeping(&[("name", &name)]))?;
    redirect(&Notice::NameSaved.after("/profile"));
    Ok(())
}

#[server(endpoint = "resend-my-verification")]
pub async fn resend_my_verification() -> Result<(), AppError> {
    let current = require_user().await?;
    accounts::resend_verification(&services()?, &current)
        .await
        .map_err(AppError::from)?;
    redirect(&Notice::VerificationSent.after("/profile"));
    Ok(())
}

/// Asks to change the account's address: a link to confirm goes to the new one.
#[server(endpoint = "change-email")]
pub async fn change_email(
    #[server(default)] new_email: String,
    #[server(default)] email_password: String,
) -> Result<(), AppError> {
    let current = require_user().await?;
    accounts::request_email_change(
        &services()?,
        &current,
        &new_email,
        &email_password,
        &origin(),
    )
    .await
    .map_err(|e| AppError::from(e).keeping(&[("new_email", &new_email)]))?;
    redirect("/profile#email-address");
    Ok(())
}

/// Withdraws the change of address waiting for its confirmation.
#[server(endpoint = "withdraw-email-change")]
pub async fn withdraw_email_change() -> Result<(), AppError> {
    let current = require_user().await?;
    accounts::withdraw_email_change(&services()?, &current, &origin())
        .await
        .map_err(AppError::from)?;
    redirect("/profile#email-address");
    Ok(())
}

#[server(endpoint = "change-password")]
pub async fn change_password(
    #[server(default)] current_password: String,
    #[server(default)] new_password: String,
) -> Result<(), AppError> {
    let current = require_user().await?;
    accounts::change_password(
        &services()?,
        &current,
        &current_password,
        &new_password,
        &origin(),
    )
    .await
    .map_err(AppError::from)?;
    redirect(&Notice::PasswordChanged.after("/profile"));
    Ok(())
}

#[server(endpoint = "end-session")]
pub async fn end_session(#[server(default)] id: String) -> Result<(), AppError> {
    let current = require_user().await?;
    let ended = accounts::end_session(&services()?, &current, &id, &origin())
        .await
        .map_err(AppError::from)?;
    if !ended {
        return Err(invalid("id", "That session is already over.", &[]));
    }
    redirect(&Notice::SessionEnded.after("/profile"));
    Ok(())
}

#[server(endpoint = "end-other-sessions")]
pub async fn end_other_sessions() -> Result<(), AppError> {
    let current = require_user().await?;
    accounts::end_other_sessions(&services()?, &current, &origin())
        .await
        .map_err(AppError::from)?;
    redirect(&Notice::OtherSessionsEnded.after("/profile"));
    Ok(())
}

/// How the person signs in: password or not, connected providers, and the others.
#[server(endpoint = "my-sign-in-methods")]
pub async fn my_sign_in_methods() -> Result<SignInMethods, AppError> {
    let current = require_user().await?;
    linking::methods(&services()?, &current)
        .await
        .map_err(AppError::from)
}

/// Disconnects a provider, unless it is the person's last way to sign in.
#[server(endpoint = "unlink-account")]
pub async fn unlink_account(#[server(default)] provider: String) -> Result<(), AppError> {
    let current = require_user().await?;
    linking::unlink(&services()?, &current, &provider, &origin())
        .await
        .map_err(AppError::from)?;
    redirect(&Notice::Unlinked.after("/profile"));
    Ok(())
}

/// Deletes the account: the password again, and the word DELETE typed to confirm.
#[server(endpoint = "delete-account")]
pub async fn delete_account(
    #[server(default)] password: String,
    #[server(default)] confirm: String,
) -> Result<(), AppError> {
    let current = require_user().await?;
    if confirm.trim() != "DELETE" {
        return Err(invalid("confirm", "Type DELETE to confirm.", &[]));
    }
    let services = services()?;
    accounts::delete_account(&services, &current, &password, &origin())
        .await
        .map_err(AppError::from)?;
    clear_session_cookie(&services).await?;
    redirect(&Notice::AccountDeleted.after("/"));
    Ok(())
}
