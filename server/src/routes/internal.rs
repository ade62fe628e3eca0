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
use gatehouse_app::model::JobView;
use gatehouse_app::services::audit::Origin;
use gatehouse_app::services::Refusal;
use gatehouse_app::services::{access, jobs, sessions};
use serde::{Deserialize, Serialize};
use serde_json::json;
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

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
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
        error(
            StatusCode::UNAUTHORIZED,
            "A valid bearer token is required (INTERNAL_API_TOKENS).",
        )
    }
}

/// A refusal from the rules, as JSON.
fn refused(e: Refusal) -> Response {
    match e {
        Refusal::Invalid(fields) => {
            let message = fields
                .iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join(" ");
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(json!({ "error": message, "fields": fields })),
            )
                .into_response()
        }
        Refusal::NotFound => error(StatusCode::NOT_FOUND, "No job has that id."),
        Refusal::Conflict(message) => error(StatusCode::CONFLICT, message),
        other => {
            tracing::error!(error = %other, "internal API failed");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong on our side.",
            )
        }
    }
}

fn bad_json(rejection: JsonRejection) -> Response {
    error(rejection.status(), rejection.body_text())
}

#[derive(Serialize)]
struct SessionInfo {
    user_id: String,
    email: String,
    name: String,
    role: String,
    tier: String,
    whitelisted: bool,
    /// Whitelisted or admin: may use the service.
    has_access: bool,
    session_expires_at: DateTime<Utc>,
}

async fn session(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(token) = headers.get(SESSION_HEADER).and_then(|v| v.to_str().ok()) else {
        return error(
            StatusCode::BAD_REQUEST,
            "Send the session cookie's value in the X-Session-Token header.",
        );
    };
    match sessions::authenticate(&state.services, token).await {
        Ok(Some(current)) => Json(SessionInfo {
            has_access: access::has_access(&current.user),
            user_id: current.user.id,
            email: current.user.email,
            name: current.user.name,
            role: current.user.role,
            tier: current.user.tier,
            whitelisted: current.user.is_whitelisted,
            session_expires_at: current.session.expires_at,
        })
        .into_response(),
        Ok(None) => error(StatusCode::UNAUTHORIZED, "No live session has that token."),
        Err(e) => refused(e),
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
        Err(e) => refused(e),
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
    match jobs::transition(
        &state.services,
        &job_id,
        &body.status,
        body.protected_url.as_deref(),
        &backend(),
    )
    .await
    {
        Ok(job) => Json(job).into_response(),
        Err(e) => refused(e),
    }
}

fn backend() -> Origin {
    Origin {
        ip_address: None,
        user_agent: Some("processing backend".into()),
    }
}
