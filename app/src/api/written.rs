//! Pages written on the server as HTML (`components::written`): the router's fallback asks
//! for the page at its address, so a page the client has no code for needs no route of its
//! own; an address with no such page gets "Page not found" (404). And the forms on them: the
//! two links a change of email address mails.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::request::{
    clear_session_cookie, form_error, origin, redirect, services, set_page_status,
};
use super::AppError;
#[cfg(feature = "ssr")]
use crate::components::written;
#[cfg(feature = "ssr")]
use crate::services::accounts::{self, EmailChangeLink};
use crate::views::WrittenPage;
#[cfg(feature = "ssr")]
use leptos::server_fn::ServerFn;

/// The page at `address` (a path and its query).
#[server(endpoint = "written-page")]
pub async fn written(#[server(default)] address: String) -> Result<WrittenPage, AppError> {
    let (path, query) = address.split_once('?').unwrap_or((&address, ""));
    let query: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let value = |name: &str| {
        query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    let page = match path {
        "/check-email" => Some(written::check_email(value("for").unwrap_or_default())),
        "/sign-in-failed" => {
            set_page_status(Written::PATH, http::StatusCode::BAD_REQUEST);
            let services = services()?;
            let provider = services
                .providers
                .choices()
                .into_iter()
                .find(|p| Some(p.id.as_str()) == value("provider"))
                .map(|p| p.name);
            Some(written::sign_in_failed(
                value("reason").unwrap_or_default(),
                provider.as_deref(),
                value("intent") == Some("link"),
            ))
        }
        "/email-change" => email_change_page(value("token"), value("undo"), value("done")).await?,
        "/invitation" => Some(invitation_page(value("token").unwrap_or_default()).await?),
        _ => None,
    };
    Ok(page.unwrap_or_else(|| {
        set_page_status(Written::PATH, http::StatusCode::NOT_FOUND);
        written::not_found()
    }))
}

/// `/email-change`: the new address's link (`?token=`), the old address's (`?undo=`), or
/// what came of them (`?done=confirmed|undone`).
#[cfg(feature = "ssr")]
async fn email_change_page(
    token: Option<&str>,
    undo: Option<&str>,
    done: Option<&str>,
) -> Result<Option<WrittenPage>, AppError> {
    let services = services()?;
    let link = match (token, undo, done) {
        (Some(token), _, _) => EmailChangeLink::Confirm(token),
        (_, Some(token), _) => EmailChangeLink::Undo(token),
        (_, _, Some("confirmed")) => return Ok(Some(written::email_changed())),
        (_, _, Some("undone")) => return Ok(Some(written::email_change_undone())),
        _ => return Ok(None),
    };
    let Some(change) = accounts::email_change_link(&services, link).await? else {
        set_page_status(Written::PATH, http::StatusCode::BAD_REQUEST);
        return Ok(Some(written::email_change_link_dead()));
    };
    Ok(Some(match link {
        EmailChangeLink::Confirm(token) => {
            // Signed in to the account that asked: the button is enough. Anyone else must
            // give that account's password.
            let requester = super::request::current()
                .await?
                .is_some_and(|current| current.user_id() == change.user_id);
            written::confirm_email_change(
                &change.new_email,
                token,
                requester,
                form_error("/api/confirm-email-change").as_ref(),
            )
        }
        EmailChangeLink::Undo(token) => written::undo_email_change(
            &change.new_email,
            token,
            form_error("/api/undo-email-change").as_ref(),
        ),
    }))
}

/// `/invitation?token=T`: who invited which address as what, and the form that accepts it;
/// a link that was used, revoked or ran out says so, with 410.
#[cfg(feature = "ssr")]
async fn invitation_page(token: &str) -> Result<WrittenPage, AppError> {
    let services = services()?;
    match crate::services::invitations::open_by_token(&services, token).await {
        Ok(invited) => {
            let current = super::request::current().await?;
            let signed_in_as = current.as_ref().map(|current| current.me().email);
            let refused = form_error("/api/accept-invitation");
            Ok(written::invitation(
                &invited,
                token,
                signed_in_as.as_deref(),
                refused.as_ref(),
            ))
        }
        Err(crate::services::Refusal::InvitationEnded) => {
            set_page_status(Written::PATH, http::StatusCode::GONE);
            Ok(written::invitation_ended())
        }
        Err(other) => Err(other.into()),
    }
}

/// Makes the new address the account's, from the link mailed to it: in the browser where
/// the account that asked is signed in, or with that account's password.
#[server(endpoint = "confirm-email-change")]
pub async fn confirm_email_change(
    #[server(default)] token: String,
    #[server(default)] password: String,
) -> Result<(), AppError> {
    let current = super::request::current().await?;
    accounts::confirm_email_change(&services()?, current.as_ref(), &token, &password, &origin())
        .await?;
    redirect("/email-change?done=confirmed");
    Ok(())
}

/// Stops (or reverses) a change of address and ends every session, from the link mailed to
/// the old address.
#[server(endpoint = "undo-email-change")]
pub async fn undo_email_change(#[server(default)] token: String) -> Result<(), AppError> {
    let services = services()?;
    let reset = accounts::undo_email_change(&services, &token, &origin()).await?;
    // This browser's session, if it had one, has ended with the others.
    clear_session_cookie(&services).await?;
    // The password was cleared: the owner chooses a new one at once.
    match reset {
        Some(reset) => redirect(&format!("/reset-password?token={reset}")),
        None => redirect("/email-change?done=undone"),
    }
    Ok(())
}
