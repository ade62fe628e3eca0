//! Provider sign-in over HTTP. `POST /auth/{provider}` starts a flow (to sign in, or with
//! `intent=link` to connect the provider to the signed-in user) and sends the browser to the
//! provider; `GET /auth/{provider}/callback` finishes it. The flow rides in an encrypted,
//! HttpOnly cookie for ten minutes; its state's digest is kept in the database until the
//! callback takes it, so a callback works once. Every refusal lands on /sign-in-failed with
//! a reason a person can read, and is logged and audited.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use gatehouse_app::api::request::{after_sign_in, cookie, origin_of, removal, session_of};
use gatehouse_app::services::audit::Origin;
use gatehouse_app::services::policy::local_path;
use gatehouse_app::services::providers::linking;
use gatehouse_app::services::providers::{Flow, Provider, ProviderError, FLOW_MINUTES};
use gatehouse_app::services::sessions::{self, SignedIn};
use gatehouse_app::services::two_factor::SignInStep;
use gatehouse_app::services::Refusal;
use gatehouse_app::services::Services;
use gatehouse_app::views::Notice;
use serde::Deserialize;
use tower_cookies::Cookies;

use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/{provider}", post(start))
        .route("/auth/{provider}/callback", get(callback))
}

/// Where a finished sign-in goes when it has no `next` (connecting goes back to the profile).
const SIGNED_IN: &str = "/";

#[derive(Deserialize)]
struct StartForm {
    #[serde(default)]
    next: String,
    /// `link` to connect the provider to the signed-in user.
    #[serde(default)]
    intent: String,
}

async fn start(
    State(state): State<AppState>,
    Path(provider_id): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    cookies: Cookies,
    Form(form): Form<StartForm>,
) -> Response {
    let services = &state.services;
    let Some(provider) = services.providers.find(&provider_id) else {
        return unknown_provider();
    };
    let current = signed_in(services, &cookies).await;
    let origin = origin(services, peer, &headers);
    let link_user = if form.intent == "link" {
        match &current {
            // A new way into the account needs a recent sign-in, not just a session cookie.
            Some(current) if !sessions::signed_in_recently(current) => {
                return refused(services, &provider_id, Refusal::SignInAgain, &origin, true).await
            }
            Some(current) => Some(current.user_id().to_string()),
            None => return Redirect::to("/login?next=/profile").into_response(),
        }
    } else {
        None
    };
    let connecting = link_user.is_some();
    // Someone signed in who signs in again is proving themselves anew (a step-up): the
    // provider is asked to authenticate them, not to wave them through.
    let reauthenticate = current.is_some() && !connecting;
    let linked = Notice::Linked.after("/profile");
    let fallback = if connecting { &linked } else { SIGNED_IN };
    let next = local_path(&form.next).unwrap_or(fallback);
    let flow = NewFlow {
        next,
        link_user: link_user.as_deref(),
        reauthenticate,
    };
    match begin(&state, &cookies, provider, flow, &origin).await {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(refusal) => refused(services, &provider_id, refusal, &origin, connecting).await,
    }
}

/// A flow about to start: where it ends, whom it connects the provider to (none: it signs
/// in), and whether the provider must ask the person to prove themselves anew.
pub struct NewFlow<'a> {
    /// Checked by the caller: a local path, or (Better Auth's API) a trusted origin's URL.
    pub next: &'a str,
    pub link_user: Option<&'a str>,
    pub reauthenticate: bool,
}

/// Starts a flow for Gatehouse's form and Better Auth's `sign-in/social` alike: the rate
/// limit, the flow remembered and its sealed cookie set. Returns the provider's address.
pub async fn begin(
    state: &AppState,
    cookies: &Cookies,
    provider: Provider<'_>,
    flow: NewFlow<'_>,
    origin: &Origin,
) -> Result<String, Refusal> {
    let services = &state.services;
    let provider_id = provider.id();
    linking::limit_start(services, origin).await?;
    let redirect_uri = callback_uri(services, provider_id);
    let (url, flow) = services
        .providers
        .start(
            provider,
            &redirect_uri,
            flow.next,
            flow.link_user,
            flow.reauthenticate,
        )
        .await?;
    linking::remember_flow(services, provider_id, &flow.state).await?;
    let sealed = serde_json::to_string(&flow).expect("a flow serializes");
    let name = services.settings.flow_cookie_name();
    let flow_cookie = cookie(
        &services.settings,
        name,
        sealed,
        chrono::Duration::minutes(FLOW_MINUTES),
    );
    cookies.private(&state.flow_key).add(flow_cookie);
    Ok(url.to_string())
}

#[derive(Deserialize)]
pub(super) struct CallbackQuery {
    pub(super) code: Option<String>,
    pub(super) state: Option<String>,
    pub(super) error: Option<String>,
}

async fn callback(
    State(state): State<AppState>,
    Path(provider_id): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    cookies: Cookies,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let services = &state.services;
    let Some(provider) = services.providers.find(&provider_id) else {
        return unknown_provider();
    };
    let jar = cookies.private(&state.flow_key);
    let name = services.settings.flow_cookie_name();
    let flow = jar
        .get(name)
        .and_then(|c| serde_json::from_str::<Flow>(c.value()).ok());
    // Spent only by its own callback: a stray link to this address leaves a sign-in in
    // progress alone.
    if flow
        .as_ref()
        .is_some_and(|f| query.state.as_deref() == Some(f.state.as_str()))
    {
        cookies.remove(removal(&services.settings, name));
    }
    let origin = origin(services, peer, &headers);
    let connecting = flow.as_ref().is_some_and(|f| f.link_user.is_some());
    match finish(services, &cookies, provider, flow, query, &origin).await {
        Ok(Finished::SignedIn { step, next }) => {
            gatehouse_app::telemetry::sign_in(&provider_id, "signed-in");
            Redirect::to(&after_sign_in(&cookies, &services.settings, step, &next)).into_response()
        }
        Ok(Finished::Linked { next }) => Redirect::to(&next).into_response(),
        Err(refusal) => refused(services, &provider_id, refusal, &origin, connecting).await,
    }
}

enum Finished {
    SignedIn { step: SignInStep, next: String },
    Linked { next: String },
}

async fn finish(
    services: &Services,
    cookies: &Cookies,
    provider: Provider<'_>,
    flow: Option<Flow>,
    query: CallbackQuery,
    origin: &Origin,
) -> Result<Finished, Refusal> {
    let provider_id = provider.id();
    let flow = flow
        .filter(|f| f.provider == provider_id && !f.is_expired(chrono::Utc::now()))
        .ok_or(ProviderError::Expired)?;
    if query.state.as_deref() != Some(flow.state.as_str()) {
        return Err(ProviderError::StateMismatch.into());
    }
    linking::take_flow(services, provider_id, &flow.state).await?;
    match query.error.as_deref() {
        Some("access_denied") => return Err(ProviderError::Denied.into()),
        Some(other) => {
            let what = format!("the provider answered `{}`", truncate(other));
            return Err(ProviderError::Unavailable(what).into());
        }
        None => {}
    }
    let code = query
        .code
        .filter(|c| !c.is_empty() && c.len() <= 2048)
        .ok_or_else(|| ProviderError::Unavailable("no code in the callback".into()))?;
    // Connecting: still the same person, still signed in (checked before the provider is
    // asked for anything).
    let connecting_user = match &flow.link_user {
        Some(user_id) => Some(
            signed_in(services, cookies)
                .await
                .filter(|c| c.user_id() == user_id)
                .ok_or(Refusal::Unauthenticated)?,
        ),
        None => None,
    };
    let redirect_uri = callback_uri(services, provider_id);
    let (identity, tokens) = services
        .providers
        .finish(provider, &flow, &code, &redirect_uri)
        .await?;
    match connecting_user {
        Some(user) => {
            linking::link(services, &user, &identity, &tokens, origin).await?;
            Ok(Finished::Linked { next: flow.next })
        }
        None => {
            let step = linking::sign_in(services, &identity, &tokens, origin).await?;
            Ok(Finished::SignedIn {
                step,
                next: flow.next,
            })
        }
    }
}

/// Logs and audits a refusal, and sends the person to a page that explains it (`connecting`:
/// they were connecting the provider to their account, not signing in).
async fn refused(
    services: &Services,
    provider_id: &str,
    refusal: Refusal,
    origin: &Origin,
    connecting: bool,
) -> Response {
    match &refusal {
        Refusal::Service(e) => {
            tracing::error!(provider = provider_id, "provider sign-in failed: {e}")
        }
        other => tracing::warn!(
            provider = provider_id,
            reason = other.code(),
            "provider sign-in refused: {other}"
        ),
    }
    if !connecting {
        gatehouse_app::telemetry::sign_in(provider_id, refusal.label());
    }
    if let Err(e) = linking::record_refusal(services, provider_id, &refusal, origin).await {
        tracing::error!("could not audit a refused provider sign-in: {e}");
    }
    let intent = if connecting { "&intent=link" } else { "" };
    let page = format!(
        "/sign-in-failed?reason={}&provider={provider_id}{intent}",
        refusal.code()
    );
    Redirect::to(&page).into_response()
}

fn unknown_provider() -> Response {
    (
        StatusCode::NOT_FOUND,
        "No such sign-in provider is configured here.",
    )
        .into_response()
}

fn callback_uri(services: &Services, provider_id: &str) -> String {
    services
        .settings
        .link(&format!("/auth/{provider_id}/callback"))
}

async fn signed_in(services: &Services, cookies: &Cookies) -> Option<SignedIn> {
    session_of(services, cookies).await.ok().flatten()
}

fn origin(services: &Services, peer: SocketAddr, headers: &HeaderMap) -> Origin {
    origin_of(services, Some(peer), headers)
}

pub(super) fn truncate(text: &str) -> String {
    text.chars().take(100).collect()
}
