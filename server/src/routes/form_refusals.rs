//! A form refused without JavaScript comes back to its page in this browser only, once,
//! within a minute.
//!
//! Leptos sends a browser that posted a plain form back to the form's page with the refusal
//! in the address (`?__path=/api/…&__err=…`), where its page reads it. An address can be
//! sent to anyone: a link would put someone's words (or another person's typed values) on a
//! Gatehouse page. So the refusal never stays in an address:
//!
//! - the redirect after a refused form loses `__path` and `__err`, and the refusal rides
//!   instead in a cookie of a minute, sealed with the token cipher (AES-GCM: nobody can
//!   write one, nor read what was typed in it), for the page it was sent back to;
//! - that page, asked for by that browser, reads it (the server puts it back in the
//!   request's own address, where Leptos looks) and the cookie is removed: a second view,
//!   another browser or another page never see it;
//! - an address that arrives with `__path` or `__err` is sent, once, to the same address
//!   without them, so no page (and no client, which would read them from the address
//!   bar) ever shows one.
//!
//! The page that shows a refusal is served without the wasm client: what it shows was
//! written for one render, and hydrating it would meet a client that has no refusal to
//! show. Every form works without JavaScript; the next page loads the client again.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use tower_cookies::cookie::{time, Cookie, SameSite};

use crate::state::AppState;

/// The query parameters Leptos carries a refused form in: which server function, its error.
const ACTION: &str = "__path";
const ERROR: &str = "__err";
/// What Gatehouse once signed refusals with: an address carrying it is cleaned too.
const OLD_MAC: &str = "__errmac";

/// How long a refusal waits for its page, in seconds.
const LIFETIME: i64 = 60;

/// Binds the sealed value to its use, so no other sealed value of Gatehouse's passes for one.
const AAD: &str = "gatehouse form refusal";

/// Marks a page request that carries a refusal: it is rendered without the client.
#[derive(Clone, Copy, Debug)]
pub struct ShowsRefusal;

/// A refusal waiting for its page, as the cookie holds it.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Refusal {
    /// The page's path, the only one that may show it.
    pub page: String,
    /// The server function that refused (`__path`).
    pub action: String,
    /// Its error, as Leptos encodes it (`__err`).
    pub error: String,
    /// Unix time after which it is void.
    pub until: i64,
}

impl Refusal {
    /// The refusal a redirect's `location` carries, and the location without it.
    pub fn from_location(location: &str, now: i64) -> Option<(Self, String)> {
        let (path, query) = location.split_once('?')?;
        let pairs = pairs(query);
        let value = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let refusal = Self {
            // An absolute location (Leptos makes it from the Referer) keeps only its path.
            page: path_of(path),
            action: value(ACTION)?,
            error: value(ERROR)?,
            until: now + LIFETIME,
        };
        Some((refusal, format!("{path}{}", without_refusal(&pairs))))
    }

    pub fn seal(&self, cipher: &gatehouse_app::services::crypto::TokenCipher) -> String {
        let json = serde_json::to_string(self).expect("a refusal serializes");
        cipher.encrypt(&json, AAD)
    }

    /// The refusal in a cookie's value, if Gatehouse sealed it and it has not expired.
    pub fn open(
        sealed: &str,
        cipher: &gatehouse_app::services::crypto::TokenCipher,
        now: i64,
    ) -> Option<Self> {
        let json = cipher.decrypt(sealed, AAD).ok()?;
        serde_json::from_str::<Self>(&json)
            .ok()
            .filter(|refusal| refusal.until >= now)
    }
}

fn pairs(query: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// `?rest` of a query without the refusal's parameters; empty when nothing is left.
fn without_refusal(pairs: &[(String, String)]) -> String {
    let kept: Vec<_> = pairs
        .iter()
        .filter(|(k, _)| k != ACTION && k != ERROR && k != OLD_MAC)
        .collect();
    if kept.is_empty() {
        return String::new();
    }
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(kept)
        .finish();
    format!("?{query}")
}

fn path_of(location: &str) -> String {
    match url::Url::parse(location) {
        Ok(url) => url.path().to_string(),
        Err(_) => location.to_string(),
    }
}

fn names_refusal(query: &str) -> bool {
    url::form_urlencoded::parse(query.as_bytes())
        .any(|(k, _)| k == ACTION || k == ERROR || k == OLD_MAC)
}

/// The cookie's value in a request, if it came with one.
fn sent_cookie(request: &Request, name: &str) -> Option<String> {
    request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == name)
        .map(|cookie| cookie.value().to_string())
}

pub async fn form_refusals(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let settings = &state.services.settings;
    let name = settings.form_refusal_cookie_name();
    let cipher = &state.services.cipher;
    let now = Utc::now().timestamp();
    let page = request.method() == Method::GET || request.method() == Method::HEAD;

    if page {
        if let Some(query) = request.uri().query().filter(|q| names_refusal(q)) {
            let clean = format!("{}{}", request.uri().path(), without_refusal(&pairs(query)));
            return (
                StatusCode::SEE_OTHER,
                [(header::LOCATION, clean)],
                "This address carried a form's answer meant for one browser; it is left out.",
            )
                .into_response();
        }
    }

    // The refusal waiting in this browser, taken by the page it was sent back to.
    let mut taken = false;
    let waiting = sent_cookie(&request, name);
    if let (true, Some(sealed)) = (page, &waiting) {
        let refusal = Refusal::open(sealed, cipher, now);
        match refusal {
            Some(refusal) if refusal.page == request.uri().path() => {
                let query = request.uri().query().map(pairs).unwrap_or_default();
                let mut with = url::form_urlencoded::Serializer::new(String::new());
                with.extend_pairs(query)
                    .append_pair(ACTION, &refusal.action)
                    .append_pair(ERROR, &refusal.error);
                let uri = format!("{}?{}", request.uri().path(), with.finish());
                if let Ok(uri) = uri.parse::<Uri>() {
                    *request.uri_mut() = uri;
                    request.extensions_mut().insert(ShowsRefusal);
                    taken = true;
                }
            }
            // Another page's (a stylesheet, the client's files): it waits for its own.
            Some(_) => {}
            // Expired, or not Gatehouse's: it goes.
            None => taken = true,
        }
    }

    let mut response = next.run(request).await;
    let secure = settings.secure_cookies();
    if taken {
        let removal = Cookie::build((name, ""))
            .path("/")
            .secure(secure)
            .max_age(time::Duration::ZERO);
        append_cookie(&mut response, removal.build());
    }

    let location = response
        .headers()
        .get(header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .map(str::to_owned);
    if let Some((refusal, clean)) = location.and_then(|l| Refusal::from_location(&l, now)) {
        if let Ok(clean) = HeaderValue::from_str(&clean) {
            response.headers_mut().insert(header::LOCATION, clean);
            let cookie = Cookie::build((name, refusal.seal(cipher)))
                .http_only(true)
                .same_site(SameSite::Lax)
                .path("/")
                .secure(secure)
                .max_age(time::Duration::seconds(LIFETIME));
            append_cookie(&mut response, cookie.build());
        }
    }
    response
}

fn append_cookie(response: &mut Response, cookie: Cookie<'_>) {
    if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher() -> gatehouse_app::services::crypto::TokenCipher {
        gatehouse_app::services::crypto::TokenCipher::new(vec![("k1".into(), [7; 32])])
    }

    #[test]
    fn a_refusal_leaves_the_address_for_a_sealed_value_that_expires() {
        let location = "http://gatehouse.test/reset-password?token=abc&__path=%2Fapi%2Freset-password&__err=RVJS";
        let (refusal, clean) = Refusal::from_location(location, 1000).unwrap();
        assert_eq!(clean, "http://gatehouse.test/reset-password?token=abc");
        assert_eq!(refusal.page, "/reset-password");
        assert_eq!(refusal.action, "/api/reset-password");
        assert_eq!(refusal.error, "RVJS");
        let sealed = refusal.seal(&cipher());
        assert!(!sealed.contains("RVJS"), "what was typed is not readable");
        assert_eq!(Refusal::open(&sealed, &cipher(), 1060), Some(refusal));
        assert_eq!(
            Refusal::open(&sealed, &cipher(), 1061),
            None,
            "a minute only"
        );
        let mut forged = sealed.clone();
        forged.pop();
        forged.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(Refusal::open(&forged, &cipher(), 1000), None);
        assert_eq!(Refusal::open("anything", &cipher(), 1000), None);
        // A redirect without a refusal has none.
        assert!(Refusal::from_location("/profile?x=1", 0).is_none());
    }

    #[test]
    fn an_address_naming_a_refusal_is_known() {
        assert!(names_refusal("__err=x"));
        assert!(names_refusal("a=1&__path=%2Fapi"));
        assert!(names_refusal("__errmac=00"));
        assert!(!names_refusal("err=1&path=2"));
        let kept = without_refusal(&pairs("a=1&__err=x&__err=y&b=%2F"));
        assert_eq!(kept, "?a=1&b=%2F");
        assert_eq!(without_refusal(&pairs("__err=x")), "");
    }
}
