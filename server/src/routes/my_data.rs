//! "Download my data" (`POST /profile/data`): the profile's form posts the password here (`data_password`) and
//! gets one JSON file, everything Gatehouse holds about the person (docs/data-export.md).
//! A plain form, not a server function: a server function's form post always ends in a
//! redirect, and this answer is a file. A browser that posted the form and was refused goes
//! back to its profile with the reason as a code (`?export=password`), which the page says in
//! words; a script gets the status and `{"error": …}`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Form, Router};
use gatehouse_app::api::request::{
    json_error, origin_of, posted_by_a_page, session_of, OUR_FAILURE,
};
use gatehouse_app::services::{accounts, Refusal};
use serde::Deserialize;
use tower_cookies::Cookies;

use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/profile/data", post(download))
}

#[derive(Deserialize)]
struct DownloadForm {
    #[serde(default)]
    data_password: String,
}

async fn download(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    cookies: Cookies,
    Form(form): Form<DownloadForm>,
) -> Response {
    let services = &state.services;
    let origin = origin_of(services, Some(peer), &headers);
    let data = match session_of(services, &cookies).await {
        Ok(Some(current)) => {
            accounts::my_data(services, &current, &form.data_password, &origin).await
        }
        Ok(None) => Err(Refusal::Unauthenticated),
        Err(refusal) => Err(refusal),
    };
    match data {
        Ok(data) => match serde_json::to_vec_pretty(&data) {
            Ok(body) => {
                let name = format!(
                    "attachment; filename=\"gatehouse-data-{}.json\"",
                    data.exported_at.format("%Y-%m-%d")
                );
                let mut response = body.into_response();
                let headers = response.headers_mut();
                headers.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                if let Ok(name) = HeaderValue::from_str(&name) {
                    headers.insert(header::CONTENT_DISPOSITION, name);
                }
                response
            }
            Err(e) => {
                tracing::error!("could not write a data export: {e}");
                json_error(StatusCode::INTERNAL_SERVER_ERROR, OUR_FAILURE)
            }
        },
        Err(refusal) if posted_by_a_page(&headers) => {
            Redirect::to(&back_to_profile(&refusal)).into_response()
        }
        Err(refusal) => refusal.into_response(),
    }
}

/// Where a refused browser goes: sign in first, or back to the profile with the reason.
fn back_to_profile(refusal: &Refusal) -> String {
    let reason = match refusal {
        Refusal::Unauthenticated => return "/login?next=/profile".to_string(),
        Refusal::Invalid(_) => "password",
        Refusal::SignInAgain => "sign-in-again",
        Refusal::RateLimited(_) => "rate-limited",
        _ => "unavailable",
    };
    format!("/profile?export={reason}#your-data")
}
