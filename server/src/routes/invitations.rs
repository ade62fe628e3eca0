//! Admin invitations (issue 20, part 2): the dashboard's plain forms (the invitee's form
//! posts to the server function `accept_invitation`).
//!
//! - `POST /admin/invitations`: one address (`email`), or many (`addresses`, one a line, or
//!   an uploaded `file`, as `multipart/form-data`), with `role` and `tier`.
//! - `POST /admin/invitations/resend` and `/revoke`: a pending invitation by `id`.
//!
//! A browser that posted a form (`Accept: text/html`) goes back to its page with a code of
//! a closed set (`/admin?invite=CODE#invitations`), which the page says in words, or, for a
//! bulk invitation, with the id of its outcomes kept for that admin
//! (`?invite_result=ID`); a script gets the status and JSON. Anyone but an admin gets 404
//! from the admin routes, as from every admin function. The routes sit with the pages, so
//! the same-origin check, the cookie layer and the body limit apply.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequest, Multipart, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Form, Json, Router};
use gatehouse_app::api::request::{origin_of, posted_by_a_page, session_of};
use gatehouse_app::services::audit::Origin;
use gatehouse_app::services::invitations::{self, Inviter, Verdict};
use gatehouse_app::services::sessions::SignedIn;
use gatehouse_app::services::{admin, Refusal, Services};
use gatehouse_app::views::{Role, Tier};
use serde::Deserialize;
use serde_json::json;
use tower_cookies::Cookies;

use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/invitations", post(invite))
        .route("/admin/invitations/resend", post(resend))
        .route("/admin/invitations/revoke", post(revoke))
}

/// The admin behind the request's session, or 404 for anyone else.
async fn admin_of(services: &Services, cookies: &Cookies) -> Result<SignedIn, Refusal> {
    let current = session_of(services, cookies)
        .await?
        .ok_or(Refusal::NotFound)?;
    admin::require_admin(services, &current).await?;
    Ok(current)
}

/// What the invitation forms send, as a plain form or `multipart/form-data`.
#[derive(Default, Deserialize)]
struct InviteForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    addresses: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    tier: String,
}

/// Reads the form: fields of a URL-encoded body, or of a multipart one, where an uploaded
/// `file`'s lines join the pasted `addresses`. `None` for a body that is neither.
async fn read_form(request: Request, state: &AppState) -> Option<InviteForm> {
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !multipart {
        return Form::<InviteForm>::from_request(request, state)
            .await
            .ok()
            .map(|Form(form)| form);
    }
    let mut parts = Multipart::from_request(request, state).await.ok()?;
    let mut form = InviteForm::default();
    while let Some(field) = parts.next_field().await.ok()? {
        let name = field.name().unwrap_or_default().to_string();
        let bytes = field.bytes().await.ok()?;
        let text = String::from_utf8(bytes.to_vec()).ok()?;
        match name.as_str() {
            "email" => form.email = text,
            "role" => form.role = text,
            "tier" => form.tier = text,
            "addresses" | "file" => {
                if !form.addresses.is_empty() && !form.addresses.ends_with('\n') {
                    form.addresses.push('\n');
                }
                form.addresses.push_str(&text);
            }
            _ => {}
        }
    }
    Some(form)
}

/// `role` and `tier` as chosen ("" for the defaults: a user, free).
fn choices(form: &InviteForm) -> Result<(Role, Tier), Refusal> {
    let role = match form.role.trim() {
        "" => Role::User,
        name => {
            Role::parse(name).ok_or_else(|| Refusal::invalid("role", "Choose user or admin."))?
        }
    };
    let tier = match form.tier.trim() {
        "" => Tier::Free,
        name => Tier::parse(name)
            .ok_or_else(|| Refusal::invalid("tier", "Choose anonymous, free or member."))?,
    };
    Ok((role, tier))
}

async fn invite(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    cookies: Cookies,
    request: Request,
) -> Response {
    let headers = request.headers().clone();
    let services = &state.services;
    let origin = origin_of(services, Some(peer), &headers);
    let admin = match admin_of(services, &cookies).await {
        Ok(admin) => admin,
        Err(refusal) => return refusal.into_response(),
    };
    let Some(form) = read_form(request, &state).await else {
        return refused(
            &headers,
            "list",
            Refusal::invalid(
                "addresses",
                "Send the form as a browser does, the addresses as UTF-8 text, one a line.",
            ),
        );
    };
    let (role, tier) = match choices(&form) {
        Ok(chosen) => chosen,
        Err(refusal) => return refused(&headers, "choice", refusal),
    };
    if form.email.trim().is_empty() && !form.addresses.trim().is_empty() {
        return invite_many(
            services,
            &admin,
            &form.addresses,
            role,
            tier,
            &origin,
            &headers,
        )
        .await;
    }
    let by = Inviter::Admin(&admin);
    match invitations::invite(services, by, &form.email, role, tier, &origin).await {
        Ok((email, Verdict::Invited)) => {
            if posted_by_a_page(&headers) {
                back("invite=sent")
            } else {
                let body = json!({ "email": email, "result": Verdict::Invited });
                (StatusCode::CREATED, Json(body)).into_response()
            }
        }
        Ok((email, verdict)) => {
            let code = match verdict {
                Verdict::Member => "member",
                _ => "pending",
            };
            let refusal = invitations::refusal(&email, verdict).unwrap_or(Refusal::NotFound);
            refused(&headers, code, refusal)
        }
        Err(refusal) => {
            let code = match &refusal {
                Refusal::Invalid(_) => "email",
                other => general_code(other),
            };
            refused(&headers, code, refusal)
        }
    }
}

async fn invite_many(
    services: &Services,
    admin: &SignedIn,
    list: &str,
    role: Role,
    tier: Tier,
    origin: &Origin,
    headers: &HeaderMap,
) -> Response {
    let by = Inviter::Admin(admin);
    let outcomes = match invitations::invite_many(services, by, list, role, tier, origin).await {
        Ok(outcomes) => outcomes,
        Err(refusal) => {
            let code = match &refusal {
                Refusal::Invalid(_) => "list",
                other => general_code(other),
            };
            return refused(headers, code, refusal);
        }
    };
    if !posted_by_a_page(headers) {
        return Json(json!({ "results": outcomes })).into_response();
    }
    match invitations::keep_outcomes(services, admin, &outcomes).await {
        Ok(id) => back(&format!("invite_result={id}")),
        Err(refusal) => refused(headers, general_code(&refusal), refusal),
    }
}

#[derive(Deserialize)]
struct IdForm {
    #[serde(default)]
    id: String,
}

async fn resend(
    state: State<AppState>,
    peer: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    cookies: Cookies,
    Form(form): Form<IdForm>,
) -> Response {
    pending(Change::Resend, state, peer, headers, cookies, &form.id).await
}

async fn revoke(
    state: State<AppState>,
    peer: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    cookies: Cookies,
    Form(form): Form<IdForm>,
) -> Response {
    pending(Change::Revoke, state, peer, headers, cookies, &form.id).await
}

/// What an admin does to a pending invitation from its row.
#[derive(Clone, Copy)]
enum Change {
    Resend,
    Revoke,
}

/// Resends or revokes the pending invitation `id`: its address for a script, back to the
/// dashboard with what happened for a browser.
async fn pending(
    change: Change,
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    cookies: Cookies,
    id: &str,
) -> Response {
    let services = &state.services;
    let admin = match admin_of(services, &cookies).await {
        Ok(admin) => admin,
        Err(refusal) => return refusal.into_response(),
    };
    let origin = origin_of(services, Some(peer), &headers);
    let by = Inviter::Admin(&admin);
    let (done, code) = match change {
        Change::Resend => (
            invitations::resend(services, by, id, &origin).await,
            "invite=resent",
        ),
        Change::Revoke => (
            invitations::revoke(services, by, id, &origin).await,
            "invite=revoked",
        ),
    };
    match done {
        Ok(email) if !posted_by_a_page(&headers) => Json(json!({ "email": email })).into_response(),
        Ok(_) => back(code),
        Err(Refusal::NotFound) => refused(&headers, "gone", gone()),
        Err(refusal) => refused(&headers, general_code(&refusal), refusal),
    }
}

/// A pending invitation that is not there (any more): 410, as a link that ended.
fn gone() -> Refusal {
    Refusal::Conflict("That invitation is no longer pending.".into())
}

fn general_code(refusal: &Refusal) -> &'static str {
    match refusal {
        Refusal::RateLimited(_) => "rate-limited",
        _ => "unavailable",
    }
}

/// Back to the dashboard's invitations, with `query`.
fn back(query: &str) -> Response {
    Redirect::to(&format!("/admin?{query}#invitations")).into_response()
}

/// A refusal: for a browser, back to the dashboard with `code`; for a script, its status
/// and JSON.
fn refused(headers: &HeaderMap, code: &str, refusal: Refusal) -> Response {
    if posted_by_a_page(headers) {
        back(&format!("invite={code}"))
    } else {
        refusal.into_response()
    }
}
