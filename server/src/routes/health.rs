//! `/healthz`: the process is alive. `/readyz`: it can serve, because the database answers
//! and has every migration this binary knows.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use gatehouse_app::db::migrations;
use serde::Serialize;

use crate::state::AppState;

#[derive(Serialize)]
pub struct Health {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
}

pub async fn alive() -> Json<Health> {
    Json(Health {
        status: "alive",
        reason: None,
    })
}

pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    match not_ready_because(&state).await {
        None => (
            StatusCode::OK,
            Json(Health {
                status: "ready",
                reason: None,
            }),
        ),
        Some(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Health {
                status: "not ready",
                reason: Some(reason),
            }),
        ),
    }
}

/// Why not, in words for whoever asks; the details (errors, migration names) go to the log
/// only, since /readyz answers anyone.
async fn not_ready_because(state: &AppState) -> Option<&'static str> {
    let mut conn = match state.services.pool.get().await {
        Ok(conn) => conn,
        Err(e) => {
            tracing::warn!(error = %e, "not ready: the database cannot be reached");
            return Some("the database cannot be reached");
        }
    };
    match migrations::pending(&mut conn).await {
        Ok(pending) if pending.is_empty() => None,
        Ok(pending) => {
            tracing::warn!(pending = %pending.join(", "), "not ready: migrations pending");
            Some("the database schema is not current yet (migrations pending)")
        }
        Err(e) => {
            tracing::warn!(error = %e, "not ready: the database did not answer a query");
            Some("the database did not answer")
        }
    }
}
