//! Better Auth's REST API under /api/auth (BETTER_AUTH_COMPAT=true), in Better Auth's
//! request and response shapes, so a front end written with `better-auth/client` works
//! against Gatehouse unchanged. Every Gatehouse rule holds as on the pages: the services do
//! the work; this layer only reads Better Auth's bodies and cookie and writes its answers.
//! docs/better-auth.md says what is answered and where Gatehouse differs.

pub(super) mod cookie;
mod wire;

use std::net::SocketAddr;

use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, FromRequest, Query, Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use gatehouse_app::api::request::{after_sign_in, origin_of, removal, session_of};
use gatehouse_app::services::audit::Origin;
use gatehouse_app::services::sessions::{self, SignedIn};
use gatehouse_app::services::two_factor::SignInStep;
use gatehouse_app::services::{accounts, jwt, Refusal};
use gatehouse_app::views::UserRecord;
use serde::Serialize;
use serde_json::json;
use tower_cookies::{Cookie, Cookies};
use tower_http::cors::{AllowOrigin, CorsLayer};

use self::cookie::Signer;
use self::wire::{ApiError, Body};
use super::guard::MAX_BODY_BYTES;
use crate::config::{BetterAuthConfig, PublicUrl, SecretKey};
use crate::state::AppState;

const SESSION_COOKIE: &str = "better-auth.session_token";
/// The header get-session carries the session's JWT in (Better Auth's jwt plugin).
const SET_AUTH_JWT: HeaderName = HeaderName::from_static("set-auth-jwt");
const SECURE_SESSION_COOKIE: &str = "__Secure-better-auth.session_token";
/// Better Auth's other cookies, cleared with the session's on sign-out.
const OTHER_COOKIES: [(&str, &str); 2] = [
    (
        "better-auth.session_data",
        "__Secure-better-auth.session_data",
    ),
    (
        "better-auth.dont_remember",
        "__Secure-better-auth.dont_remember",
    ),
];

/// What the API needs besides the services: the cookie's signer and whom to trust.
pub struct BetterAuth {
    signer: Signer,
    /// PUBLIC_URL's origin and TRUSTED_ORIGINS, as browsers send them.
    trusted_origins: Vec<String>,
    /// Over https the cookies are `__Secure-` and Secure, as Better Auth makes them there.
    secure: bool,
    /// Whom a JWT may be for: PUBLIC_URL and JWT_AUDIENCES.
    audiences: jwt::Audiences,
}

impl BetterAuth {
    pub fn new(config: &BetterAuthConfig, public_url: &PublicUrl, secret_key: &SecretKey) -> Self {
        let secret = match &config.secret {
            Some(secret) => secret.as_bytes().to_vec(),
            None => secret_key.bytes().to_vec(),
        };
        let mut trusted_origins = vec![public_url.origin()];
        trusted_origins.extend(config.trusted_origins.iter().cloned());
        Self {
            signer: Signer::new(&secret),
            trusted_origins,
            secure: public_url.is_https(),
            audiences: jwt::Audiences::new(&public_url.0, config.jwt_audiences.clone()),
        }
    }

    fn cookie_name(&self, names: (&'static str, &'static str)) -> &'static str {
        if self.secure {
            names.1
        } else {
            names.0
        }
    }

    fn session_cookie_name(&self) -> &'static str {
        self.cookie_name((SESSION_COOKIE, SECURE_SESSION_COOKIE))
    }

    /// The signed session cookie; without `max_age` it ends with the browser session
    /// (`rememberMe: false`).
    fn session_cookie(&self, token: &str, max_age: Option<chrono::Duration>) -> Cookie<'static> {
        let mut cookie = Cookie::build((self.session_cookie_name(), self.signer.sign(token)))
            .http_only(true)
            .same_site(tower_cookies::cookie::SameSite::Lax)
            .path("/")
            .secure(self.secure)
            .build();
        if let Some(max_age) = max_age {
            cookie.set_max_age(tower_cookies::cookie::time::Duration::seconds(
                max_age.num_seconds().max(0),
            ));
        }
        cookie
    }

    fn clear_cookies(&self, cookies: &Cookies) {
        for name in [
            (SESSION_COOKIE, SECURE_SESSION_COOKIE),
            OTHER_COOKIES[0],
            OTHER_COOKIES[1],
        ] {
            let name = self.cookie_name(name);
            if cookies.get(name).is_some() {
                cookies.remove(Cookie::build(name).path("/").secure(self.secure).build());
            }
        }
    }

    /// The session token inside the value of Better Auth's cookie, if its signature holds:
    /// a backend may pass that value to `GET /api/internal/session` as it is.
    pub fn session_token_of(&self, cookie_value: &str) -> Option<String> {
        self.signer.verify(cookie_value)
    }

    fn is_trusted(&self, origin: &str) -> bool {
        self.trusted_origins.iter().any(|trusted| trusted == origin)
    }

    /// A place to send the browser afterwards: a path on this site, or a trusted origin.
    fn check_url(&self, url: &str, field: &str) -> Result<(), ApiError> {
        let local = url.starts_with('/')
            && !url.starts_with("//")
            && !url.starts_with("/\\")
            && !url.contains(['\\', '\r', '\n']);
        let trusted = url::Url::parse(url)
            .is_ok_and(|url| self.is_trusted(&url.origin().ascii_serialization()));
        if local || trusted {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!("Invalid {field}"),
            ))
        }
    }
}

pub fn routes(state: &AppState, better_auth: &BetterAuth) -> Router<AppState> {
    let trusted: Vec<HeaderValue> = better_auth
        .trusted_origins
        .iter()
        .filter_map(|origin| HeaderValue::from_str(origin).ok())
        .collect();
    // Front ends on other origins call with `credentials: "include"`: CORS answers exactly
    // their origins, never `*`.
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(trusted))
        .allow_credentials(true)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE])
        .expose_headers([SET_AUTH_JWT]);
    Router::new()
        .route(
            "/api/auth/ok",
            get(|| async { Json(json!({ "ok": true })) }),
        )
        .route("/api/auth/get-session", get(get_session))
        .route("/api/auth/token", get(token))
        .route("/api/auth/jwks", get(jwks))
        .route("/api/auth/sign-up/email", post(sign_up_email))
        .route("/api/auth/sign-in/email", post(sign_in_email))
        .route("/api/auth/sign-in/social", post(sign_in_social))
        .route("/api/auth/update-user", post(update_user))
        .route("/api/auth/change-password", post(change_password))
        .route("/api/auth/change-email", post(change_email))
        .route(
            "/api/auth/request-password-reset",
            post(request_password_reset),
        )
        // Better Auth's name for it before 1.4; its clients still call it.
        .route("/api/auth/forget-password", post(request_password_reset))
        .route("/api/auth/reset-password", post(reset_password))
        .route("/api/auth/verify-email", get(verify_email))
        .route("/api/auth/delete-user", post(delete_user))
        .route(
            "/api/auth/send-verification-email",
            post(send_verification_email),
        )
        .route("/api/auth/sign-out", post(sign_out))
        .route("/api/auth/list-sessions", get(list_sessions))
        .route("/api/auth/revoke-session", post(revoke_session))
        .route("/api/auth/revoke-sessions", post(revoke_sessions))
        .route(
            "/api/auth/revoke-other-sessions",
            post(revoke_other_sessions),
        )
        .route("/api/auth/{*rest}", any(not_found))
        .layer(middleware::from_fn_with_state(state.clone(), check_origin))
        .layer(cors)
}

fn api(state: &AppState) -> &BetterAuth {
    state
        .better_auth
        .as_ref()
        .expect("the routes exist only with BETTER_AUTH_COMPAT")
}

async fn not_found() -> Response {
    StatusCode::NOT_FOUND.into_response()
}

/// Better Auth's CSRF rule, kept stricter: a state change that carries cookies must come
/// from a trusted origin; so must a browser's sign-in or sign-up (Fetch Metadata says it is
/// a browser); and any request that names its origin must name a trusted one.
async fn check_origin(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let better_auth = api(&state);
    let headers = request.headers();
    let path = request.uri().path();
    let signs_in = path == "/api/auth/sign-in/email" || path == "/api/auth/sign-up/email";
    let fetch_metadata = ["sec-fetch-site", "sec-fetch-mode", "sec-fetch-dest"]
        .iter()
        .any(|name| headers.contains_key(*name));
    let header_is = |name: &str, value: &str| {
        headers
            .get(name)
            .is_some_and(|v| v.as_bytes() == value.as_bytes())
    };
    let has_cookies = headers.contains_key(header::COOKIE);
    if signs_in
        && !has_cookies
        && header_is("sec-fetch-site", "cross-site")
        && header_is("sec-fetch-mode", "navigate")
    {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "Cross-site navigation login blocked. This request appears to be a CSRF attack.",
        )
        .into_response();
    }
    let origin = super::guard::sent_origin(headers);
    if has_cookies || (signs_in && fetch_metadata) || origin.is_some() {
        match origin.as_deref() {
            None | Some("null") => {
                return ApiError::new(StatusCode::FORBIDDEN, "Missing or null Origin")
                    .into_response()
            }
            Some(origin) if !better_auth.is_trusted(origin) => {
                return ApiError::new(StatusCode::FORBIDDEN, "Invalid origin").into_response()
            }
            Some(_) => {}
        }
    }
    next.run(request).await
}

/// The caller's session, from Better Auth's cookie or else Gatehouse's own. A Better Auth
/// cookie whose session has ended is cleared; one that slid forward is sent again.
async fn caller(state: &AppState, cookies: &Cookies) -> Result<Option<SignedIn>, ApiError> {
    let better_auth = api(state);
    let signed = cookies
        .get(better_auth.session_cookie_name())
        .and_then(|cookie| better_auth.signer.verify(cookie.value()));
    if let Some(token) = signed {
        match sessions::authenticate(&state.services, &token).await? {
            Some(current) => {
                if current.refreshed {
                    let left = current.expires_at() - chrono::Utc::now();
                    cookies.add(better_auth.session_cookie(&token, Some(left)));
                }
                return Ok(Some(current));
            }
            None => better_auth.clear_cookies(cookies),
        }
    }
    Ok(session_of(&state.services, cookies).await?)
}

async fn signed_in(state: &AppState, cookies: &Cookies) -> Result<SignedIn, ApiError> {
    caller(state, cookies)
        .await?
        .ok_or_else(ApiError::unauthorized)
}

/// What a POST handler reads: its body (JSON, or a form where Better Auth takes one) and
/// where it comes from, for the rate limits and the audit log. Taken last: it reads the body.
struct Call {
    body: Body,
    origin: Origin,
}

impl FromRequest<AppState> for Call {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| *peer);
        let origin = origin_of(&state.services, peer, request.headers());
        let forms = matches!(
            request.uri().path(),
            "/api/auth/sign-in/email" | "/api/auth/sign-up/email"
        );
        let (parts, body) = request.into_parts();
        let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
            .await
            .map_err(|_| ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "Body too large"))?;
        let body = Body::parse(&parts.headers, &bytes, forms)?;
        Ok(Self { body, origin })
    }
}

#[derive(Serialize)]
struct SessionAndUser {
    session: wire::Session,
    user: wire::User,
}

/// `{ session, user }` or `null`; with a session, a JWT for it in `set-auth-jwt`, as Better
/// Auth's jwt plugin sends it.
async fn get_session(
    State(state): State<AppState>,
    cookies: Cookies,
) -> Result<Response, ApiError> {
    let Some(current) = caller(&state, &cookies).await? else {
        return Ok(Json(None::<SessionAndUser>).into_response());
    };
    let audience = api(&state).audiences.pick(None).map_err(bad_audience)?;
    let jwt = jwt::token_for(&state.services, &current, audience).await?;
    let mut response = Json(SessionAndUser {
        session: current.session_record().into(),
        user: current.user_record().into(),
    })
    .into_response();
    if let Ok(value) = HeaderValue::from_str(&jwt) {
        response.headers_mut().insert(SET_AUTH_JWT, value);
    }
    Ok(response)
}

#[derive(serde::Deserialize)]
struct TokenQuery {
    audience: Option<String>,
}

/// `{ token }`: a JWT for the caller's session, for a backend to check against the JWKS; for
/// `?audience=` one of JWT_AUDIENCES (400 for any other), PUBLIC_URL without one.
async fn token(
    State(state): State<AppState>,
    cookies: Cookies,
    Query(query): Query<TokenQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let audience = api(&state)
        .audiences
        .pick(query.audience.as_deref())
        .map_err(bad_audience)?;
    let current = signed_in(&state, &cookies).await?;
    let token = jwt::token_for(&state.services, &current, audience).await?;
    Ok(Json(json!({ "token": token })))
}

fn bad_audience(unknown: jwt::UnknownAudience) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, unknown.to_string()).with_code("INVALID_AUDIENCE")
}

/// The public keys that check the tokens, kept by verifiers for five minutes: a verifier
/// that meets a newer key's `kid` fetches them again.
async fn jwks(State(state): State<AppState>) -> Result<Response, ApiError> {
    let keys = jwt::published(&state.services).await?;
    let mut response = Json(json!({ "keys": keys })).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    Ok(response)
}

#[derive(Serialize)]
struct SignedInAnswer {
    redirect: bool,
    token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    user: wire::User,
}

async fn sign_in_email(
    State(state): State<AppState>,
    cookies: Cookies,
    call: Call,
) -> Result<Response, ApiError> {
    let better_auth = api(&state);
    let body = call.body;
    let email = body.string("email")?;
    let password = body.string("password")?;
    let remember = body.optional_bool("rememberMe")?.unwrap_or(true);
    let callback = body.optional_string("callbackURL")?;
    if let Some(url) = &callback {
        better_auth.check_url(url, "callbackURL")?;
    }
    let services = &state.services;
    let token = match accounts::sign_in(services, &email, &password, &call.origin).await? {
        SignInStep::Done(token) => token,
        // As Better Auth's two-factor plugin answers: no session yet. The second step is
        // Gatehouse's page (`/two-factor`), which reads the cookie set here.
        step @ SignInStep::SecondFactor(_) => {
            after_sign_in(&cookies, &services.settings, step, "/");
            return Ok(Json(json!({ "twoFactorRedirect": true })).into_response());
        }
    };
    let mut current = sessions::authenticate(services, &token)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "Failed to create session"))?;
    if !remember {
        sessions::end_with_the_browser(services, &mut current).await?;
    }
    let max_age = remember.then(|| current.expires_at() - chrono::Utc::now());
    cookies.add(better_auth.session_cookie(&token, max_age));
    Ok(Json(SignedInAnswer {
        redirect: callback.is_some(),
        token: current.session_id().to_string(),
        url: callback,
        user: current.user_record().into(),
    })
    .into_response())
}

async fn sign_out(
    State(state): State<AppState>,
    cookies: Cookies,
    call: Call,
) -> Result<Json<serde_json::Value>, ApiError> {
    let services = &state.services;
    if let Some(current) = caller(&state, &cookies).await? {
        accounts::end_session(services, &current, current.session_id(), &call.origin).await?;
        let own = services.settings.session_cookie_name();
        if cookies.get(own).is_some() {
            cookies.remove(removal(&services.settings, own));
        }
    }
    api(&state).clear_cookies(&cookies);
    Ok(Json(json!({ "success": true })))
}

/// Starts a provider sign-in as Better Auth does: `{ url, redirect }` (and `Location`
/// unless `disableRedirect`); the browser goes to the provider, comes back to Gatehouse's own
/// callback (the address registered with the provider) and ends at `callbackURL`, signed in.
/// A refusal ends on Gatehouse's page that explains it, not at `errorCallbackURL`.
async fn sign_in_social(
    State(state): State<AppState>,
    cookies: Cookies,
    call: Call,
) -> Result<Response, ApiError> {
    let better_auth = api(&state);
    let body = call.body;
    let provider_id = body.string("provider")?;
    let next = body
        .optional_string("callbackURL")?
        .unwrap_or_else(|| "/".into());
    better_auth.check_url(&next, "callbackURL")?;
    if body.has("idToken") {
        // Signing in with a token the front end got itself is not offered: every provider
        // sign-in goes through the redirect, its state and PKCE.
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "id_token not supported",
        ));
    }
    let disable_redirect = body.optional_bool("disableRedirect")?.unwrap_or(false);
    let Some(provider) = state.services.providers.find(&provider_id) else {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "Provider not found"));
    };
    let flow = super::oauth::NewFlow {
        next: &next,
        link_user: None,
        // Someone signed in who signs in again proves themselves anew, as on the pages.
        reauthenticate: caller(&state, &cookies).await?.is_some(),
    };
    let url = super::oauth::begin(&state, &cookies, provider, flow, &call.origin).await?;
    let mut response = Json(json!({ "url": url, "redirect": !disable_redirect })).into_response();
    if !disable_redirect {
        if let Ok(location) = HeaderValue::from_str(&url) {
            response.headers_mut().insert(header::LOCATION, location);
        }
    }
    Ok(response)
}

async fn list_sessions(
    State(state): State<AppState>,
    cookies: Cookies,
) -> Result<Json<Vec<wire::Session>>, ApiError> {
    let current = signed_in(&state, &cookies).await?;
    let records = sessions::records(&state.services, &current).await?;
    Ok(Json(records.into_iter().map(Into::into).collect()))
}

fn done() -> Json<serde_json::Value> {
    Json(json!({ "status": true }))
}

/// Ends one of the caller's sessions, named by the `token` list-sessions gave (its id).
async fn revoke_session(
    State(state): State<AppState>,
    cookies: Cookies,
    call: Call,
) -> Result<Json<serde_json::Value>, ApiError> {
    let body = call.body;
    let current = signed_in(&state, &cookies).await?;
    let id = body.string("token")?;
    let services = &state.services;
    accounts::end_session(services, &current, &id, &call.origin).await?;
    Ok(done())
}

/// Ends every session of the caller's, this one too.
async fn revoke_sessions(
    State(state): State<AppState>,
    cookies: Cookies,
    call: Call,
) -> Result<Json<serde_json::Value>, ApiError> {
    let current = signed_in(&state, &cookies).await?;
    let services = &state.services;
    accounts::end_other_sessions(services, &current, &call.origin).await?;
    accounts::end_session(services, &current, current.session_id(), &call.origin).await?;
    Ok(done())
}

async fn revoke_other_sessions(
    State(state): State<AppState>,
    cookies: Cookies,
    call: Call,
) -> Result<Json<serde_json::Value>, ApiError> {
    let current = signed_in(&state, &cookies).await?;
    let services = &state.services;
    accounts::end_other_sessions(services, &current, &call.origin).await?;
    Ok(done())
}

/// Better Auth's `{ token, user }` where no new session comes of the call: after sign-up (the
/// address is confirmed before anyone signs in, Better Auth's answer with
/// `requireEmailVerification`) and after a password change (this session goes on; Gatehouse
/// ends the others, whatever was asked).
#[derive(Serialize)]
struct NoNewSession {
    token: Option<String>,
    user: wire::User,
}

impl NoNewSession {
    fn of(user: UserRecord) -> Json<Self> {
        Json(Self {
            token: None,
            user: user.into(),
        })
    }
}

/// Signs up as the sign-up page does: a confirmation link is mailed, and the answer for an
/// address that already has an account looks the same (its owner gets a mail instead).
async fn sign_up_email(
    State(state): State<AppState>,
    call: Call,
) -> Result<Json<NoNewSession>, ApiError> {
    let body = call.body;
    let name = body.string("name")?;
    let email = body.string("email")?;
    let password = body.string("password")?;
    body.optional_string("image")?;
    body.optional_bool("rememberMe")?;
    if let Some(url) = body.optional_string("callbackURL")? {
        api(&state).check_url(&url, "callbackURL")?;
    }
    ApiError::check_length(&password)?;
    let services = &state.services;
    let user = accounts::sign_up(services, &name, &email, &password, &call.origin).await?;
    Ok(NoNewSession::of(user))
}

/// The fields Gatehouse keeps for admins: nobody sets them on themselves.
const NOT_YOURS: [&str; 6] = [
    "role",
    "tier",
    "isWhitelisted",
    "banned",
    "banReason",
    "banExpires",
];

/// Changes the caller's name (the one field of theirs Better Auth's call can change here).
async fn update_user(
    State(state): State<AppState>,
    cookies: Cookies,
    call: Call,
) -> Result<Json<serde_json::Value>, ApiError> {
    let body = call.body;
    let current = signed_in(&state, &cookies).await?;
    if body.is_truthy("email") {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "Email can not be updated",
        ));
    }
    for field in NOT_YOURS.into_iter().chain(["image"]) {
        if body.has(field) {
            let message = format!("{field} is not allowed to be set");
            return Err(ApiError::new(StatusCode::BAD_REQUEST, message));
        }
    }
    let Some(name) = body.optional_string("name")? else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "No fields to update",
        ));
    };
    accounts::update_name(&state.services, &current, &name).await?;
    Ok(done())
}

async fn change_password(
    State(state): State<AppState>,
    cookies: Cookies,
    call: Call,
) -> Result<Json<NoNewSession>, ApiError> {
    let body = call.body;
    let current = signed_in(&state, &cookies).await?;
    let new_password = body.string("newPassword")?;
    let current_password = body.string("currentPassword")?;
    body.optional_bool("revokeOtherSessions")?;
    ApiError::check_length(&new_password)?;
    let services = &state.services;
    accounts::change_password(
        services,
        &current,
        &current_password,
        &new_password,
        &call.origin,
    )
    .await
    .map_err(|refusal| wrong_password_as_better_auth_says(refusal, "current_password"))?;
    Ok(NoNewSession::of(current.user_record()))
}

/// Asks to change the address, as the profile does: `password` (Gatehouse's addition: the
/// step-up the profile asks for; without a password, a sign-in from the last ten minutes),
/// then a link to the new address, which confirms it on Gatehouse's page. The answer is the
/// same whether or not another account holds the new address.
async fn change_email(
    State(state): State<AppState>,
    cookies: Cookies,
    call: Call,
) -> Result<Json<serde_json::Value>, ApiError> {
    let body = call.body;
    let current = signed_in(&state, &cookies).await?;
    let new_email = body.string("newEmail")?;
    let password = body.optional_string("password")?.unwrap_or_default();
    if let Some(url) = body.optional_string("callbackURL")? {
        api(&state).check_url(&url, "callbackURL")?;
    }
    accounts::request_email_change(
        &state.services,
        &current,
        &new_email,
        &password,
        &call.origin,
    )
    .await
    .map_err(|refusal| match refusal {
        Refusal::Invalid(fields) if fields.iter().any(|f| f.field == "new_email") => {
            let same = fields.iter().any(|f| f.message == accounts::SAME_EMAIL);
            let message = if same {
                "Email is the same"
            } else {
                "Invalid email"
            };
            ApiError::new(StatusCode::BAD_REQUEST, message)
        }
        other => wrong_password_as_better_auth_says(other, "email_password"),
    })?;
    Ok(done())
}

/// Mails a reset link to Gatehouse's reset page if the address has an account; the answer
/// is Better Auth's, the same either way.
async fn request_password_reset(
    State(state): State<AppState>,
    call: Call,
) -> Result<Json<serde_json::Value>, ApiError> {
    let body = call.body;
    let email = body.string("email")?;
    if let Some(url) = body.optional_string("redirectTo")? {
        api(&state).check_url(&url, "redirectURL")?;
    }
    let services = &state.services;
    accounts::request_password_reset(services, &email, &call.origin).await?;
    Ok(Json(json!({
        "status": true,
        "message": "If this email exists in our system, check your email for the reset link"
    })))
}

/// Sets a new password with the token from a reset link; every session of the user ends.
async fn reset_password(
    State(state): State<AppState>,
    call: Call,
) -> Result<Json<serde_json::Value>, ApiError> {
    let body = call.body;
    let new_password = body.string("newPassword")?;
    let token = body.string("token")?;
    ApiError::check_length(&new_password)?;
    let services = &state.services;
    accounts::reset_password(services, &token, &new_password, &call.origin).await?;
    Ok(done())
}

/// A new confirmation link, if the address has an account that is not confirmed yet; the
/// answer is the same either way.
async fn send_verification_email(
    State(state): State<AppState>,
    call: Call,
) -> Result<Json<serde_json::Value>, ApiError> {
    let body = call.body;
    let email = body.string("email")?;
    if let Some(url) = body.optional_string("callbackURL")? {
        api(&state).check_url(&url, "callbackURL")?;
    }
    let services = &state.services;
    accounts::resend_verification_to(services, &email, &call.origin).await?;
    Ok(done())
}

/// A wrong password given again to confirm a change: Better Auth's 400 `INVALID_PASSWORD`.
fn wrong_password_as_better_auth_says(refusal: Refusal, field: &str) -> ApiError {
    match refusal {
        Refusal::Invalid(fields) if fields.iter().any(|f| f.field == field) => {
            ApiError::new(StatusCode::BAD_REQUEST, "Invalid password")
        }
        other => other.into(),
    }
}

#[derive(serde::Deserialize)]
struct VerifyEmailQuery {
    token: Option<String>,
    #[serde(rename = "callbackURL")]
    callback_url: Option<String>,
}

/// Better Auth confirms on this bare GET; Gatehouse sends the browser to its confirm page
/// for the token instead, which asks for the account's password: someone who signed up
/// first with another's address cannot have the owner's click confirm it.
async fn verify_email(
    State(state): State<AppState>,
    query: Result<Query<VerifyEmailQuery>, QueryRejection>,
) -> Result<Redirect, ApiError> {
    let Ok(Query(query)) = query else {
        return Err(Body::missing_query("token"));
    };
    if let Some(url) = &query.callback_url {
        api(&state).check_url(url, "callbackURL")?;
    }
    let token = query.token.ok_or_else(|| Body::missing_query("token"))?;
    let token: String = url::form_urlencoded::byte_serialize(token.as_bytes()).collect();
    Ok(Redirect::to(&format!("/verify-email?token={token}")))
}

/// Deletes the caller's account and all it owns, after the password once more (Gatehouse's
/// rule; Better Auth's `password` is optional there).
async fn delete_user(
    State(state): State<AppState>,
    cookies: Cookies,
    call: Call,
) -> Result<Json<serde_json::Value>, ApiError> {
    let current = signed_in(&state, &cookies).await?;
    let body = call.body;
    let password = body.optional_string("password")?.unwrap_or_default();
    if let Some(url) = body.optional_string("callbackURL")? {
        api(&state).check_url(&url, "callbackURL")?;
    }
    accounts::delete_account(&state.services, &current, &password, &call.origin)
        .await
        .map_err(|refusal| wrong_password_as_better_auth_says(refusal, "password"))?;
    api(&state).clear_cookies(&cookies);
    Ok(Json(json!({ "success": true, "message": "User deleted" })))
}
