//! The request context: what every server function (and every axum route of Gatehouse's
//! own) learns from the request before it calls a rule — the services, who is signed in,
//! where the request came from — and the cookies it sets. The one place a refusal becomes an
//! answer is here too, once per surface: a server function's error (a status for a script, a
//! redirect back to the form for a browser without JavaScript), and JSON for axum routes.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::ConnectInfo;
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{header, HeaderMap, HeaderValue, StatusCode};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;
use tower_cookies::cookie::{time, SameSite};
use tower_cookies::{Cookie, Cookies};

use super::AppError;
use crate::services::audit::{client_address, Origin};
use crate::services::sessions::{self, SignedIn};
use crate::services::two_factor::{self, SignInStep};
use crate::services::{AuthSettings, Refusal, Services};
use crate::views::{encoded, TWO_FACTOR_PAGE};

/// What every request's server functions find in their context: the services, and who the
/// request belongs to ([`RequestSession::unknown`] until a server function asks). The router
/// calls this once per request, pages included; a page gets the client's start (`client`)
/// when there is a client build.
pub fn provide_request_context(
    services: &Services,
    session: RequestSession,
    client: Option<&crate::ClientScripts>,
) {
    provide_context(services.clone());
    provide_context(session);
    match client {
        Some(client) => provide_context(client.clone()),
        // Without a client build nothing hydrates a page: Leptos is told not to write each
        // resource's data into it as a script for the client to read, as in its islands
        // mode outside an island (that was a fifth of the artworks list's rendering;
        // docs/performance.md). A server function call has no shared context.
        None => {
            if let Some(shared) = Owner::current_shared_context() {
                shared.set_is_hydrating(false);
            }
        }
    }
}

pub fn services() -> Result<Services, AppError> {
    use_context::<Services>().ok_or_else(|| internal("the services are missing from the context"))
}

fn parts() -> Result<Parts, AppError> {
    use_context::<Parts>().ok_or_else(|| internal("the request is missing from the context"))
}

/// What a person is told of a failure of Gatehouse's own (the log says more).
pub const OUR_FAILURE: &str = "Something went wrong on our side. Try again in a moment.";

fn internal(what: &str) -> AppError {
    tracing::error!("{what}");
    AppError::refused(500, OUR_FAILURE)
}

/// A value of the request's query: while a page renders, the page's own (`/profile?x=1`).
pub fn page_query(name: &str) -> Option<String> {
    let parts = parts().ok()?;
    url::form_urlencoded::parse(parts.uri.query()?.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// The refusal a plain form posted to the server function at `path` (`/api/change-email`)
/// came back with, while its page renders: the server puts it in the page's own request
/// (`__path`, `__err`, where Leptos looks) from a sealed cookie of that browser, once
/// (`server/src/routes/form_refusals.rs`); an address never carries one. For forms the
/// server writes as HTML.
pub fn form_error(path: &str) -> Option<AppError> {
    if page_query("__path")? != path {
        return None;
    }
    let error = page_query("__err")?;
    Some(leptos::server_fn::error::ServerFnUrlError::<AppError>::decode_err(&error))
}

/// Sets the status of the page being rendered by the server function at `own_path`, unless
/// this is that function's own call (from the browser, after a navigation), whose answer
/// must stay a success to be read.
pub fn set_page_status(own_path: &str, status: StatusCode) {
    let rendering = parts().is_ok_and(|parts| parts.uri.path() != own_path);
    if let (true, Some(response)) = (rendering, use_context::<ResponseOptions>()) {
        response.set_status(status);
    }
}

/// The caller's address and browser.
pub fn origin() -> Origin {
    let (Ok(parts), Ok(services)) = (parts(), services()) else {
        return Origin::default();
    };
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0);
    origin_of(&services, peer, &parts.headers)
}

/// Where a request came from, for server functions and axum routes alike: the client's
/// address (through TRUSTED_PROXY_HOPS proxies, see [`client_address`]) and its browser.
pub fn origin_of(services: &Services, peer: Option<SocketAddr>, headers: &HeaderMap) -> Origin {
    // Every X-Forwarded-For line, in order: a proxy may add a line of its own after the
    // client's instead of appending to it (HAProxy's `option forwardfor` does).
    let forwarded_for: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let hops = services.settings.trusted_proxy_hops;
    Origin {
        ip_address: client_address(peer.map(|p| p.ip()), &forwarded_for.join(","), hops),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(512).collect()),
    }
}

/// A browser posting a plain form (no JavaScript): it is answered with a redirect.
fn is_form_post() -> bool {
    parts().is_ok_and(|parts| posted_by_a_page(&parts.headers))
}

/// Whether a request was sent by a browser for a page (a plain form post: `text/html` in
/// `Accept`), not by a script asking for JSON.
pub fn posted_by_a_page(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

pub async fn cookies() -> Result<Cookies, AppError> {
    leptos_axum::extract::<Cookies>()
        .await
        .map_err(|e| internal(&format!("cookies unavailable: {e}")))
}

/// Who this request belongs to, looked up once however many server functions a page calls
/// while it renders. The router provides a fresh one for every request.
#[derive(Clone, Default)]
pub struct RequestSession(Arc<tokio::sync::OnceCell<Option<SignedIn>>>);

impl RequestSession {
    /// Not looked up yet: the first server function to ask looks it up.
    pub fn unknown() -> Self {
        Self::default()
    }

    /// Already looked up: the router does so before a page renders, so that the page's frame
    /// knows who is signed in without waiting for a server call of its own.
    pub fn known(signed_in: Option<SignedIn>) -> Self {
        Self(Arc::new(tokio::sync::OnceCell::new_with(Some(signed_in))))
    }
}

/// The signed-in person as far as this request already knows, without a lookup: `None` when
/// nobody is signed in, or when the lookup before the page failed (the page's own server call
/// then reports why).
pub fn known_viewer() -> Option<crate::views::Me> {
    use_context::<RequestSession>()?
        .0
        .get()?
        .as_ref()
        .map(SignedIn::me)
}

/// The signed-in caller, if any.
pub async fn current() -> Result<Option<SignedIn>, AppError> {
    let services = services()?;
    let cookies = cookies().await?;
    let found = match use_context::<RequestSession>() {
        Some(memo) => memo
            .0
            .get_or_try_init(|| session_of(&services, &cookies))
            .await?
            .clone(),
        None => session_of(&services, &cookies).await?,
    };
    Ok(found)
}

/// The session behind a request's cookie, if it is live: the one reading of the session
/// cookie, for server functions and axum routes alike. A session that slid forward gets its
/// cookie again; a dead one's cookie is cleared.
pub async fn session_of(
    services: &Services,
    cookies: &Cookies,
) -> Result<Option<SignedIn>, Refusal> {
    let settings = &services.settings;
    let Some(token) = cookies
        .get(settings.session_cookie_name())
        .map(|c| c.value().to_string())
    else {
        return Ok(None);
    };
    let current = sessions::authenticate(services, &token).await?;
    match &current {
        Some(current) if current.refreshed => cookies.add(session_cookie(settings, token)),
        None => cookies.remove(removal(settings, settings.session_cookie_name())),
        Some(_) => {}
    }
    Ok(current)
}

/// The signed-in caller, or 401.
pub async fn require_user() -> Result<SignedIn, AppError> {
    current()
        .await?
        .ok_or_else(|| AppError::from(Refusal::Unauthenticated))
}

/// The signed-in caller, if they may see whitelisted content; 401 or 403 otherwise.
pub async fn require_access() -> Result<SignedIn, AppError> {
    let current = require_user().await?;
    if current.has_access() {
        Ok(current)
    } else {
        Err(AppError::from(Refusal::NoAccess))
    }
}

/// The signed-in caller, if an admin; everyone else gets 404, as if there were nothing here.
/// An admin who must add a second factor first is told so (403).
pub async fn require_admin() -> Result<SignedIn, AppError> {
    let current = current()
        .await?
        .ok_or_else(|| AppError::from(Refusal::NotFound))?;
    crate::services::admin::require_admin(&services()?, &current).await?;
    Ok(current)
}

/// A cookie as Gatehouse sets them all: HttpOnly, SameSite=Lax (so it comes back on the
/// top-level redirect from a provider), Path=/, Secure over https.
pub fn cookie(
    settings: &AuthSettings,
    name: &'static str,
    value: String,
    max_age: chrono::Duration,
) -> Cookie<'static> {
    Cookie::build((name, value))
        .http_only(true)
        .same_site(SameSite::Lax)
        .path("/")
        .secure(settings.secure_cookies())
        .max_age(time::Duration::seconds(max_age.num_seconds()))
        .into()
}

/// The session cookie for a new or extended session.
pub fn session_cookie(settings: &AuthSettings, token: String) -> Cookie<'static> {
    cookie(
        settings,
        settings.session_cookie_name(),
        token,
        settings.session_ttl,
    )
}

/// What removes a cookie set by [`cookie`].
pub fn removal(settings: &AuthSettings, name: &'static str) -> Cookie<'static> {
    Cookie::build(name)
        .path("/")
        .secure(settings.secure_cookies())
        .into()
}

/// Where a sign-in whose first step passed goes on: with the session's cookie to `next`, or
/// with the second step's cookie to its page (which then goes on to `next`).
pub fn after_sign_in(
    cookies: &Cookies,
    settings: &AuthSettings,
    step: SignInStep,
    next: &str,
) -> String {
    match step {
        SignInStep::Done(token) => {
            cookies.add(session_cookie(settings, token));
            next.to_string()
        }
        SignInStep::SecondFactor(token) => {
            let lasts = chrono::Duration::minutes(two_factor::SECOND_STEP_MINUTES);
            let name = settings.second_step_cookie_name();
            cookies.add(cookie(settings, name, token, lasts));
            format!("{TWO_FACTOR_PAGE}?next={}", encoded(next))
        }
    }
}

/// The token of the sign-in waiting for its second step (its cookie), empty without one.
pub async fn second_step_token(services: &Services) -> Result<String, AppError> {
    let name = services.settings.second_step_cookie_name();
    Ok(cookies()
        .await?
        .get(name)
        .map(|c| c.value().to_string())
        .unwrap_or_default())
}

/// The second step passed: its cookie goes, the session's comes.
pub async fn end_second_step(services: &Services, token: String) -> Result<(), AppError> {
    let settings = &services.settings;
    cookies()
        .await?
        .remove(removal(settings, settings.second_step_cookie_name()));
    start_session_cookie(services, token).await
}

/// The session cookie for a session just made, in a server function.
pub async fn start_session_cookie(services: &Services, token: String) -> Result<(), AppError> {
    cookies()
        .await?
        .add(session_cookie(&services.settings, token));
    Ok(())
}

pub async fn clear_session_cookie(services: &Services) -> Result<(), AppError> {
    let settings = &services.settings;
    cookies()
        .await?
        .remove(removal(settings, settings.session_cookie_name()));
    Ok(())
}

/// A refusal as a server function's answer: its status for a script calling the function
/// (a browser posting a form is redirected back to it, with the error, by Leptos), and
/// `Retry-After` when waiting helps. Add what was typed with [`AppError::keeping`].
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

/// A refusal as an axum route's answer: its status, `Retry-After` when waiting helps, and
/// `{"error": "…"}` (with `"fields"` for input to correct).
impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status()).unwrap_or(StatusCode::BAD_REQUEST);
        let retry_after = self.retry_after();
        let mut response = match self {
            Refusal::Invalid(fields) => {
                let message = fields
                    .iter()
                    .map(|f| format!("{}: {}", f.field, f.message))
                    .collect::<Vec<_>>()
                    .join(" ");
                let body = serde_json::json!({ "error": message, "fields": fields });
                (status, axum::Json(body)).into_response()
            }
            other if other.is_internal() => {
                tracing::error!(error = %other, "request failed");
                json_error(status, OUR_FAILURE)
            }
            other => json_error(status, &other.to_string()),
        };
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// `{"error": message}` with `status`.
pub fn json_error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
}

/// One of a closed set of values, as a form sends its name: `None` for "" or "all" (no
/// choice), a field error for any other name it does not know.
pub fn choice<T>(
    raw: &str,
    parse: fn(&str) -> Option<T>,
    field: &str,
    message: &str,
) -> Result<Option<T>, AppError> {
    match raw {
        "" | "all" => Ok(None),
        name => parse(name)
            .map(Some)
            .ok_or_else(|| invalid(field, message, &[])),
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
