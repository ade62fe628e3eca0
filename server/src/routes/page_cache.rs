//! The few pages someone not signed in sees (/, /login, /signup, /forgot-password) are the
//! same for everyone: they are rendered once and then served from memory, as long as the
//! request carries no session cookie and no query (`?next=`, a notice, a form's error are
//! rendered each time). Only the page itself is kept: the headers every answer gets (request
//! id, security headers, `no-store`) are added around it afresh, so is its scripts' nonce
//! (a nonce seen twice would be no nonce), and a page that set a cookie or was not 200 is
//! never kept.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use leptos::nonce::Nonce;

use crate::state::AppState;

/// The pages kept; every other path is rendered for each request.
const ANONYMOUS_PAGES: [&str; 4] = ["/", "/login", "/signup", "/forgot-password"];

/// A rendered page, with the headers it was rendered with, cut where its nonce was.
#[derive(Clone)]
struct Page {
    headers: HeaderMap,
    around_nonce: Vec<Bytes>,
}

impl Page {
    fn new(headers: HeaderMap, body: &Bytes, nonce: &str) -> Self {
        let mut around_nonce = Vec::new();
        let mut rest = &body[..];
        while let Some(at) = find(rest, nonce.as_bytes()) {
            around_nonce.push(body.slice_ref(&rest[..at]));
            rest = &rest[at + nonce.len()..];
        }
        around_nonce.push(body.slice_ref(rest));
        Self {
            headers,
            around_nonce,
        }
    }

    /// The page with `nonce` for its scripts.
    fn body(&self, nonce: &str) -> Bytes {
        self.around_nonce
            .iter()
            .map(|part| &part[..])
            .collect::<Vec<_>>()
            .join(nonce.as_bytes())
            .into()
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[derive(Clone, Default)]
pub struct PageCache(Arc<RwLock<HashMap<&'static str, Page>>>);

pub async fn anonymous_pages(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let session_cookie = state.services.settings.session_cookie_name();
    let Some(path) = ANONYMOUS_PAGES
        .into_iter()
        .find(|page| *page == request.uri().path())
        .filter(|_| request.method() == Method::GET && request.uri().query().is_none())
        .filter(|_| !carries_cookie(request.headers(), session_cookie))
    else {
        return next.run(request).await;
    };
    let kept = state
        .page_cache
        .0
        .read()
        .ok()
        .and_then(|pages| pages.get(path).cloned());
    if let Some(page) = kept {
        let nonce = Nonce::new();
        let mut response = Response::new(Body::from(page.body(&nonce)));
        *response.headers_mut() = page.headers;
        response.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            state.content_security_policy.for_page(&nonce),
        );
        return response;
    }
    let response = next.run(request).await;
    if response.status() != StatusCode::OK || response.headers().contains_key(header::SET_COOKIE) {
        return response;
    }
    let Some(nonce) = response.extensions().get::<Nonce>().cloned() else {
        return response;
    };
    let (parts, body) = response.into_parts();
    let Ok(body) = axum::body::to_bytes(body, 1 << 20).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if let Ok(mut pages) = state.page_cache.0.write() {
        let mut headers = parts.headers.clone();
        headers.remove(header::CONTENT_SECURITY_POLICY);
        pages.insert(path, Page::new(headers, &body, &nonce));
    }
    Response::from_parts(parts, Body::from(body))
}

/// Whether any `Cookie` header names `name`.
fn carries_cookie(headers: &HeaderMap, name: &str) -> bool {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .any(|pair| pair.trim().split('=').next() == Some(name))
}
