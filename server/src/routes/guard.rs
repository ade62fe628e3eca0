//! What every request passes before it reaches a handler: the origin check on state
//! changes, limits on what a server function accepts, and the security headers.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

/// Every state-changing request must come from a page of ours: its Origin (or, failing
/// that, Referer) must be the public URL's origin. Browsers always send Origin on a
/// cross-site POST, so a forged form elsewhere is refused here (CSRF).
pub async fn same_origin(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    );
    // The internal API is called by the backend with a bearer token, not by browsers;
    // Better Auth's API checks origins itself, against TRUSTED_ORIGINS too.
    let path = request.uri().path();
    let internal = path.starts_with("/api/internal/");
    let better_auth = state.better_auth.is_some() && path.starts_with("/api/auth/");
    if safe || internal || better_auth || is_same_origin(request.headers(), &state.public_origin) {
        return next.run(request).await;
    }
    (
        StatusCode::FORBIDDEN,
        format!(
            "Refused: this request did not come from a Gatehouse page. Open {} and try again.",
            state.public_url
        ),
    )
        .into_response()
}

fn is_same_origin(headers: &HeaderMap, expected: &str) -> bool {
    sent_origin(headers).is_some_and(|origin| origin == expected)
}

/// The origin a request says it comes from: `Origin`, or the origin of `Referer` when a
/// browser sent no Origin. An Origin that is not text counts as `null`.
pub(super) fn sent_origin(headers: &HeaderMap) -> Option<String> {
    if let Some(origin) = headers.get(header::ORIGIN) {
        return Some(origin.to_str().unwrap_or("null").to_string());
    }
    headers
        .get(header::REFERER)
        .and_then(|referer| referer.to_str().ok())
        .and_then(|referer| url::Url::parse(referer).ok())
        .map(|referer| referer.origin().ascii_serialization())
}

/// Server functions (under /api/) take URL-encoded forms, what a browser posts, and nothing
/// else; anything else would fail to decode deep inside the framework.
pub async fn form_posts_only(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let server_function = path.starts_with("/api/")
        && !path.starts_with("/api/internal/")
        && !path.starts_with("/api/auth/");
    if server_function && request.method() == Method::POST {
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !content_type.starts_with("application/x-www-form-urlencoded") {
            return (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Send this form as application/x-www-form-urlencoded, as a browser does.",
            )
                .into_response();
        }
    }
    next.run(request).await
}

/// A server function that fails before its body runs (say, `on=perhaps` for a bool) is
/// answered by the framework with status 500 whatever the error. Our error carries the right
/// status; this puts it on the response, so bad input is a 4xx, never a 5xx.
pub async fn server_function_status(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key("serverfnerror")
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let status = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|error| error["status"].as_u64())
        .and_then(|status| StatusCode::from_u16(status as u16).ok());
    if let Some(status) = status {
        parts.status = status;
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The largest request body Gatehouse accepts; no Gatehouse form comes near it.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Reads the body up front, at most [`MAX_BODY_BYTES`], so nothing downstream can be made to
/// buffer more (server functions read whole bodies); and refuses a NUL character anywhere in
/// the URL or the body, which no field holds and PostgreSQL would reject deep inside a query.
pub async fn limit_body(request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "This request is too large: at most {} KiB is accepted.",
                MAX_BODY_BYTES / 1024
            ),
        )
            .into_response();
    };
    let json = parts
        .headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"application/json"));
    let nul_in_body = if json {
        json_holds_nul(&bytes)
    } else {
        holds_encoded_nul(&bytes)
    };
    let nul_in_uri = parts
        .uri
        .path_and_query()
        .is_some_and(|p| holds_encoded_nul(p.as_str().as_bytes()));
    if nul_in_uri || nul_in_body {
        return (
            StatusCode::BAD_REQUEST,
            "This request holds a NUL character, which no Gatehouse field accepts.",
        )
            .into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// A NUL as itself or URL-encoded (`%00`; a typed `%` is always sent as `%25`).
pub(super) fn holds_encoded_nul(bytes: &[u8]) -> bool {
    bytes.contains(&0) || bytes.windows(3).any(|w| w.eq_ignore_ascii_case(b"%00"))
}

/// A NUL in any string of a JSON body (written `\u0000`). A body that is not JSON is left
/// for its handler to refuse.
pub(super) fn json_holds_nul(bytes: &[u8]) -> bool {
    fn any_nul(value: &serde_json::Value) -> bool {
        match value {
            serde_json::Value::String(s) => s.contains('\0'),
            serde_json::Value::Array(items) => items.iter().any(any_nul),
            serde_json::Value::Object(fields) => fields
                .iter()
                .any(|(name, value)| name.contains('\0') || any_nul(value)),
            _ => false,
        }
    }
    bytes.contains(&0) || serde_json::from_slice(bytes).is_ok_and(|v| any_nul(&v))
}

const CROSS_ORIGIN_OPENER_POLICY: HeaderName =
    HeaderName::from_static("cross-origin-opener-policy");

/// Security headers on every response; HSTS only when served over https.
pub async fn security_headers(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    // Header names as constants: a name given as a string is parsed again for every answer.
    let set = |headers: &mut HeaderMap, name: HeaderName, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    // A page has set its own, with its nonce.
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            state.content_security_policy.plain(),
        );
    }
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, header::REFERRER_POLICY, "same-origin");
    set(headers, CROSS_ORIGIN_OPENER_POLICY, "same-origin");
    // Pages, server functions and the internal API answer about someone: no cache (a shared
    // proxy, the browser's back button on a shared computer) may keep them. Static files
    // say how long they keep for themselves.
    if !headers.contains_key(header::CACHE_CONTROL) {
        set(headers, header::CACHE_CONTROL, "no-store");
    }
    if state.public_url.is_https() {
        set(
            headers,
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nul_is_found_however_it_is_written_and_only_then() {
        assert!(holds_encoded_nul(b"name=a%00b"));
        assert!(holds_encoded_nul(b"/artworks/%00"));
        assert!(holds_encoded_nul(b"name=a\0b"));
        // A typed "%00" is sent as "%2500"; a typed "\u0000" is just text.
        assert!(!holds_encoded_nul(b"password=%2500%5Cu0000"));
        assert!(json_holds_nul(br#"{"job_id":"a\u0000"}"#));
        assert!(json_holds_nul(br#"{"a":["x",{"b\u0000":1}]}"#));
        assert!(!json_holds_nul(br#"{"error":"a \\u0000 b"}"#));
        assert!(!json_holds_nul(b"{not json"));
    }
}
