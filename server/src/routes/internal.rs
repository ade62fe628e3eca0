//! The internal API for the processing backend, under /api/internal: who a session belongs
//! to, and the jobs it creates and moves along. Bearer tokens from INTERNAL_API_TOKENS
//! (several, so they can rotate), compared in constant time; 401 without a valid one.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use gatehouse_app::api::request::json_error;
use gatehouse_app::services::audit::Origin;
use gatehouse_app::services::Refusal;
use gatehouse_app::services::{jobs, sessions};
use gatehouse_app::views::{JobStatus, JobView, Role, Tier};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::state::AppState;

/// The header that carries the session cookie's value to `GET /api/internal/session`.
pub const SESSION_HEADER: &str = "x-session-token";

pub fn routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/api/internal/session", get(session))
        .route("/api/internal/jobs", post(create_job))
        .route("/api/internal/jobs/{job_id}", patch(update_job))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            require_token,
        ))
}

/// Compares against every configured token, always all of them, in constant time each.
fn token_is_valid(headers: &HeaderMap, tokens: &[String]) -> bool {
    let Some(given) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    tokens.iter().fold(false, |found, token| {
        found | bool::from(token.as_bytes().ct_eq(given.trim().as_bytes()))
    })
}

async fn require_token(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if token_is_valid(request.headers(), &state.internal_tokens) {
        next.run(request).await
    } else {
        json_error(
            StatusCode::UNAUTHORIZED,
            "A valid bearer token is required (INTERNAL_API_TOKENS).",
        )
    }
}

fn bad_json(rejection: JsonRejection) -> Response {
    json_error(rejection.status(), &rejection.body_text())
}

#[derive(Serialize)]
struct SessionInfo {
    user_id: String,
    email: String,
    name: String,
    role: Role,
    tier: Tier,
    whitelisted: bool,
    /// Whitelisted or admin: may use the service.
    has_access: bool,
    session_expires_at: DateTime<Utc>,
}

async fn session(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(value) = headers.get(SESSION_HEADER).and_then(|v| v.to_str().ok()) else {
        return json_error(
            StatusCode::BAD_REQUEST,
            "Send the session cookie's value in the X-Session-Token header.",
        );
    };
    // Gatehouse's cookie holds the token itself; Better Auth's (BETTER_AUTH_COMPAT) holds it
    // signed, and is taken as a backend finds it in the browser's request.
    let signed = state
        .better_auth
        .as_ref()
        .and_then(|api| api.session_token_of(value));
    let token = signed.as_deref().unwrap_or(value);
    match sessions::authenticate(&state.services, token).await {
        Ok(Some(signed_in)) => {
            let me = signed_in.me();
            Json(SessionInfo {
                user_id: me.id,
                email: me.email,
                name: me.name,
                role: me.role,
                tier: me.tier,
                whitelisted: me.whitelisted,
                has_access: me.has_access,
                session_expires_at: signed_in.expires_at(),
            })
            .into_response()
        }
        Ok(None) => json_error(StatusCode::UNAUTHORIZED, "No live session has that token."),
        Err(refusal) => refusal.into_response(),
    }
}

#[derive(Deserialize)]
struct CreateJob {
    job_id: String,
    user_id: Option<String>,
    original_url: String,
}

async fn create_job(
    State(state): State<AppState>,
    body: Result<Json<CreateJob>, JsonRejection>,
) -> Response {
    let Json(body) = match body {
        Ok(body) => body,
        Err(rejection) => return bad_json(rejection),
    };
    let new = jobs::NewJob {
        job_id: &body.job_id,
        user_id: body.user_id.as_deref(),
        original_url: &body.original_url,
    };
    match jobs::create_or_adopt(&state.services, new, &backend()).await {
        Ok((job, true)) => (StatusCode::CREATED, Json(job)).into_response(),
        Ok((job, false)) => (StatusCode::OK, Json::<JobView>(job)).into_response(),
        Err(refusal) => refusal.into_response(),
    }
}

#[derive(Deserialize)]
struct UpdateJob {
    status: String,
    protected_url: Option<String>,
}

async fn update_job(
    State(state): State<AppState>,
    Path(job_id): Path<String>,
    body: Result<Json<UpdateJob>, JsonRejection>,
) -> Response {
    let Json(body) = match body {
        Ok(body) => body,
        Err(rejection) => return bad_json(rejection),
    };
    let Some(status) = JobStatus::parse(&body.status) else {
        let message = "The status is one of queued, processing, done or failed.";
        return Refusal::invalid("status", message).into_response();
    };
    match jobs::transition(
        &state.services,
        &job_id,
        status,
        body.protected_url.as_deref(),
        &backend(),
    )
    .await
    {
        Ok(job) => Json(job).into_response(),
        Err(refusal) => refusal.into_response(),
    }
}

fn backend() -> Origin {
    Origin {
        ip_address: None,
        user_agent: Some("processing backend".into()),
    }
}
