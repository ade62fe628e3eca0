//! `GET /api/artworks/events`: the signed-in artist's jobs as they change, as server-sent
//! events (services::live). `?job_id=` follows one job; `Last-Event-ID` (or `?since=`, the
//! `as_of` of the page's data) resumes. Events: `job` with the job as JSON, `gone` with its
//! `job_id` when it is no longer the artist's, `resync` when changes may have been missed
//! (after a resume's catch-up): ask for the list again.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, StreamExt};
use gatehouse_app::api::request::session_of;
use gatehouse_app::services::live::{self, Update};
use gatehouse_app::services::Refusal;
use serde::Deserialize;
use tower_cookies::Cookies;

use crate::state::AppState;

/// How long a browser waits before it reconnects a stream that ended.
const RETRY: Duration = Duration::from_secs(2);

#[derive(Deserialize)]
pub struct Following {
    job_id: Option<String>,
    since: Option<String>,
}

pub async fn artwork_events(
    State(state): State<AppState>,
    cookies: Cookies,
    headers: HeaderMap,
    Query(following): Query<Following>,
) -> Response {
    let services = &state.services;
    let signed_in = match session_of(services, &cookies).await {
        Ok(Some(signed_in)) => signed_in,
        Ok(None) => return Refusal::Unauthenticated.into_response(),
        Err(refusal) => return refusal.into_response(),
    };
    let resume_after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .or(following.since.as_deref());
    let opened = live::open(
        services,
        &signed_in,
        following.job_id.as_deref(),
        resume_after,
    )
    .await;
    let stream = match opened {
        Ok(stream) => stream,
        Err(refusal) => return refusal.into_response(),
    };
    let retry = Event::default().retry(RETRY);
    let events = stream::unfold(stream, |mut stream| async move {
        let event = stream.next().await?;
        Some((Ok::<_, Infallible>(sse_event(event)), stream))
    });
    let mut response = Sse::new(stream::once(async { Ok(retry) }).chain(events))
        .keep_alive(KeepAlive::default())
        .into_response();
    // A proxy that buffers answers (nginx does) would hold events back.
    response
        .headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

fn sse_event(event: live::Event) -> Event {
    let (name, data) = match event.update {
        Update::Job(job) => ("job", serde_json::to_value(&job).unwrap_or_default()),
        Update::Gone { job_id } => ("gone", serde_json::json!({ "job_id": job_id })),
        Update::Resync => ("resync", serde_json::json!({})),
    };
    Event::default()
        .id(event.id)
        .event(name)
        .data(data.to_string())
}
