//! What every server function does first: find the services, the caller, and their session;
//! and how a refusal becomes an answer (a status for API clients, a redirect back to the form
//! for a browser without JavaScript).

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use http::request::Parts;
use http::{header, HeaderValue, StatusCode};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;
use tower_cookies::Cookies;

use super::AppError;
use crate::services::audit::Origin;
use crate::services::sessions::{self, Current};
use crate::services::Refusal;
use crate::services::Services;

pub fn services() -> Result<Services, AppError> {
    use_context::<Services>().ok_or_else(|| internal("the services are missing from the context"))
}

fn parts() -> Result<Parts, AppError> {
    use_context::<Parts>().ok_or_else(|| internal("the request is missing from the context"))
}

fn internal(what: &str) -> AppError {
    tracing::error!("{what}");
    AppError::refused(
        500,
        "Something went wrong on our side. Try again in a moment.",
    )
}

/// The caller's address and browser.
pub fn origin() -> Origin {
    let Ok(parts) = parts() else {
        return Origin::default();
    };
    let Ok(services) = services() else {
        return Origin::default();
    };
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0);
    origin_of(&services, peer, &parts.headers)
}

/// Where a request came from, for server functions and axum routes alike: the client's
/// address (through TRUSTED_PROXY_HOPS proxies) and its browser.
pub fn origin_of(
    services: &Services,
    peer: Option<SocketAddr>,
    headers: &http::HeaderMap,
) -> Origin {
    let hops = services.settings.trusted_proxy_hops;
    Origin::of_request(peer.map(|p| p.ip()), headers, hops)
}

/// A browser posting a plain form (no JavaScript): it is answered with a redirect.
fn is_form_post() -> bool {
    parts().is_ok_and(|parts| {
        parts
            .headers
            .get(header::ACCEPT)
            .and_then(|a| a.to_str().ok())
            .is_some_and(|a| a.contains("text/html"))
    })
}

async fn cookies() -> Result<Cookies, AppError> {
    leptos_axum::extract::<Cookies>()
        .await
        .map_err(|e| internal(&format!("cookies unavailable: {e}")))
}

/// The signed-in caller, if any.
pub async fn current() -> Result<Option<Current>, AppError> {
    let services = services()?;
    let cookies = cookies().await?;
    Ok(session_of(&services, &cookies).await?)
}

/// The session behind a request's cookie, if it is live: the one reading of the session
/// cookie, for server functions and axum routes alike. A session that slid forward gets its
/// cookie again; a dead one's cookie is cleared.
pub async fn session_of(
    services: &Services,
    cookies: &Cookies,
) -> Result<Option<Current>, Refusal> {
    let name = services.settings.session_cookie_name();
    let Some(token) = cookies.get(name).map(|c| c.value().to_string()) else {
        return Ok(None);
    };
    let current = sessions::authenticate(services, &token).await?;
    match &current {
        Some(current) if current.refreshed => set_session_cookie(services, cookies, token),
        None => cookies.remove(services.settings.removal(name)),
        Some(_) => {}
    }
    Ok(current)
}

/// The signed-in caller, or 401.
pub async fn require_user() -> Result<Current, AppError> {
    current()
        .await?
        .ok_or_else(|| AppError::from(Refusal::Unauthenticated))
}

/// The signed-in caller, if they may see whitelisted content; 401 or 403 otherwise.
pub async fn require_access() -> Result<Current, AppError> {
    let current = require_user().await?;
    if crate::services::access::has_access(&current.user) {
        Ok(current)
    } else {
        Err(AppError::from(Refusal::NoAccess))
    }
}

/// The signed-in caller, if an admin; everyone else gets 404, as if there were nothing here.
pub async fn require_admin() -> Result<Current, AppError> {
    let not_found = || AppError::from(Refusal::NotFound);
    let current = current().await?.ok_or_else(not_found)?;
    crate::services::admin::require_admin(&current.user).map_err(|_| not_found())?;
    Ok(current)
}

pub async fn start_session_cookie(services: &Services, token: String) -> Result<(), AppError> {
    let cookies = cookies().await?;
    set_session_cookie(services, &cookies, token);
    Ok(())
}

fn set_session_cookie(services: &Services, cookies: &Cookies, token: String) {
    cookies.add(services.settings.session_cookie(token));
}

pub async fn clear_session_cookie(services: &Services) -> Result<(), AppError> {
    let cookies = cookies().await?;
    cookies.remove(
        services
            .settings
            .removal(services.settings.session_cookie_name()),
    );
    Ok(())
}

/// The one place a refusal becomes a server function's answer: its status for a script
/// calling the function (a browser posting a form is redirected back to it, with the error,
/// by Leptos), and `Retry-After` when waiting helps. Add what was typed with
/// [`AppError::keeping`].
impl From<Refusal> for AppError {
    fn from(refusal: Refusal) -> Self {
        let retry_after = refusal.retry_after();
        let error = match refusal {
            Refusal::Invalid(fields) => AppError::invalid(fields),
            other if other.is_internal() => internal(&format!("service failed: {other}")),
            other => AppError::refused(other.status(), other.to_string()),
        };
        if let Some(response) = use_context::<ResponseOptions>() {
            if let Some(seconds) = retry_after {
                if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
                    response.insert_header(header::RETRY_AFTER, value);
                }
            }
            if !is_form_post() {
                response.set_status(
                    StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST),
                );
            }
        }
        error
    }
}

/// A field error for input the rules never saw (say, a missing confirmation).
pub fn invalid(field: &str, message: &str, kept: &[(&str, &str)]) -> AppError {
    AppError::from(Refusal::invalid(field, message)).keeping(kept)
}

/// Sends a browser without JavaScript on to `path` after success.
pub fn redirect(path: &str) {
    leptos_axum::redirect(path);
}
