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
    reason: Option<String>,
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
        Some(reason) => {
            tracing::warn!(%reason, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Health {
                    status: "not ready",
                    reason: Some(reason),
                }),
            )
        }
    }
}

async fn not_ready_because(state: &AppState) -> Option<String> {
    let mut conn = match state.pool.get().await {
        Ok(conn) => conn,
        Err(e) => return Some(format!("database unreachable: {e}")),
    };
    match migrations::pending(&mut conn).await {
        Ok(pending) if pending.is_empty() => None,
        Ok(pending) => Some(format!("migrations pending: {}", pending.join(", "))),
        Err(e) => Some(format!("database query failed: {e}")),
    }
}
