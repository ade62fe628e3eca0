//! The axum router: Leptos pages and server functions, health, assets, and the layers every
//! request passes (request id, tracing).

mod assets;
mod better_auth;
mod form_refusals;
mod guard;
mod health;
pub mod internal;
mod invitations;
mod live;
mod my_data;
mod oauth;
mod page_cache;

pub use better_auth::BetterAuth;
pub use page_cache::PageCache;

/// The routes' hand-written parsers, for the fuzz targets in `server/fuzz`; not an API.
#[doc(hidden)]
pub mod fuzzing {
    use axum::http::{HeaderMap, Uri};

    pub use super::better_auth::cookie::Signer;

    /// A refused form on its way back to its page (a redirect's `__err`, a sealed cookie).
    pub use super::form_refusals::Refusal;

    /// Whether a URL or a form body holds a NUL, as it is or URL-encoded.
    pub fn holds_encoded_nul(bytes: &[u8]) -> bool {
        super::guard::holds_encoded_nul(bytes)
    }

    /// Whether a JSON body holds a NUL in any string.
    pub fn json_holds_nul(bytes: &[u8]) -> bool {
        super::guard::json_holds_nul(bytes)
    }

    /// The origin a request says it comes from (Origin, or Referer's origin).
    pub fn sent_origin(headers: &HeaderMap) -> Option<String> {
        super::guard::sent_origin(headers)
    }

    /// What a provider's callback reads from its address, as its handler reads it: (code,
    /// state, error), or None when the query is refused (400).
    pub fn oauth_callback(uri: &Uri) -> Option<(Option<String>, Option<String>, Option<String>)> {
        let query = axum::extract::Query::<super::oauth::CallbackQuery>::try_from_uri(uri).ok()?;
        let query = query.0;
        Some((query.code, query.state, query.error))
    }

    /// How a provider's error is cut short for the log and the audit.
    pub fn provider_error_shown(text: &str) -> String {
        super::oauth::truncate(text)
    }
}

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_SECURITY_POLICY;
use axum::http::{HeaderName, Method};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use gatehouse_app::api::request::{provide_request_context, session_of, RequestSession};
use gatehouse_app::{shell, App};
use leptos::context::provide_context;
use leptos::nonce::Nonce;
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use tower::ServiceBuilder;
use tower_cookies::CookieManagerLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;

use crate::state::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The app's routes, found once per process. Finding them runs the app with resource loading
/// suppressed process-wide (leptos issue #4773): a page rendering at that moment would hang
/// for ever, so it must happen before anything renders, and only once.
fn route_list() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

pub fn router(state: AppState) -> Router {
    let routes = route_list();
    let services = state.services.clone();
    let leptos_options = state.leptos_options.clone();
    let better_auth = match &state.better_auth {
        Some(api) => better_auth::routes(&state, api),
        None => Router::new(),
    };
    // The processing backend's API and the health checks have no cookies, forms or pages:
    // of the page layers they need only the body limit, and every layer skipped is work
    // saved on the busiest calls.
    let machines = internal::routes(&state)
        .route("/healthz", get(health::alive))
        .route("/readyz", get(health::ready))
        .layer(middleware::from_fn(guard::limit_body));
    let pages = Router::new()
        .route("/style/{*file}", get(assets::style))
        .route("/api/artworks/events", get(live::artwork_events))
        .route(
            &format!("{}/{{file}}", crate::client::PKG),
            get(crate::client::file),
        )
        .merge(better_auth)
        .merge(oauth::routes())
        .merge(my_data::routes())
        .merge(invitations::routes())
        // The server functions (given no pages, it registers only them)...
        .leptos_routes_with_context(
            &state,
            Vec::new(),
            move || provide_request_context(&services, RequestSession::unknown(), None),
            move || shell(leptos_options.clone()),
        )
        // ...and the pages, which `page` renders.
        .leptos_routes_with_handler(routes, get(page))
        .fallback(fallback)
        .layer(
            ServiceBuilder::new()
                .layer(middleware::from_fn_with_state(
                    state.clone(),
                    guard::same_origin,
                ))
                .layer(middleware::from_fn_with_state(
                    state.clone(),
                    form_refusals::form_refusals,
                ))
                .layer(middleware::from_fn_with_state(
                    state.clone(),
                    page_cache::anonymous_pages,
                ))
                .layer(middleware::from_fn(guard::limit_body))
                .layer(CookieManagerLayer::new())
                .layer(middleware::from_fn(guard::form_posts_only))
                .layer(middleware::from_fn(guard::server_function_status)),
        );
    // What every answer gets: its count and time, a request id, a log span, the security
    // headers.
    Router::new()
        .merge(machines)
        .merge(pages)
        .layer(
            ServiceBuilder::new()
                .layer(middleware::from_fn(count_request))
                .layer(SetRequestIdLayer::new(
                    REQUEST_ID,
                    NumberedRequests::default(),
                ))
                .layer(
                    TraceLayer::new_for_http().make_span_with(|request: &Request| {
                        let request_id = request
                            .headers()
                            .get(REQUEST_ID)
                            .and_then(|id| id.to_str().ok())
                            .unwrap_or("-");
                        tracing::info_span!(
                            "request",
                            method = %request.method(),
                            path = %request.uri().path(),
                            request_id,
                        )
                    }),
                )
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(middleware::from_fn_with_state(
                    state.clone(),
                    guard::security_headers,
                )),
        )
        .with_state(state)
}

/// Request ids for requests that come without one: UUIDs (version 8, RFC 9562) made of
/// this process's random half and a count, unique across instances and restarts without a
/// random draw per request.
#[derive(Clone)]
struct NumberedRequests {
    process: u64,
    next: Arc<std::sync::atomic::AtomicU64>,
}

impl Default for NumberedRequests {
    fn default() -> Self {
        Self {
            // The version nibble says 8: a UUID of custom layout.
            process: (rand::random::<u64>() & !0xF000) | 0x8000,
            next: Arc::default(),
        }
    }
}

impl MakeRequestId for NumberedRequests {
    fn make_request_id<B>(&mut self, _: &http::Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // The variant bits say RFC 9562.
        let id = uuid::Uuid::from_u64_pair(self.process, (n & (u64::MAX >> 2)) | (1 << 63));
        let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
        let text = id.hyphenated().encode_lower(&mut text);
        http::HeaderValue::from_str(text).ok().map(RequestId::new)
    }
}

/// Counts and times every answer by its route's template (`/admin/users/{id}`), never its
/// raw path, so the metrics do not grow with what clients send.
async fn count_request(request: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let method = request.method().clone();
    // A matched path is a shared string: keeping it costs no copy.
    let route = request.extensions().get::<MatchedPath>().cloned();
    let response = next.run(request).await;
    gatehouse_app::telemetry::http_request(
        method.as_str(),
        route.as_ref().map_or("unmatched", MatchedPath::as_str),
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// Anything no route matched: a file from `public/`, or the app's own 404 page.
async fn fallback(state: State<AppState>, request: Request<Body>) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD) {
        if let Some(file) = assets::public_file(request.uri().path(), request.headers()) {
            return file;
        }
    }
    page(state, request).await
}

/// A page, whole (every page waits for its data: SsrMode::Async). Who is signed in is looked
/// up first, so the page's frame shows it without a server call and a suspense of its own,
/// and the page's server functions find it known. A failed lookup is left to them to report.
/// The page's inline scripts carry a nonce of its own, which its policy names.
async fn page(State(state): State<AppState>, request: Request<Body>) -> Response {
    let session = match request.extensions().get::<tower_cookies::Cookies>() {
        Some(cookies) => match session_of(&state.services, cookies).await {
            Ok(signed_in) => RequestSession::known(signed_in),
            Err(_) => RequestSession::unknown(),
        },
        None => RequestSession::unknown(),
    };
    let nonce = Nonce::new();
    let services = state.services.clone();
    let options = state.leptos_options.clone();
    // A page showing a refused form is served without the client (`form_refusals`).
    let client = state
        .client
        .as_ref()
        .filter(|_| {
            request
                .extensions()
                .get::<form_refusals::ShowsRefusal>()
                .is_none()
        })
        .map(|build| build.scripts.clone());
    let render = leptos_axum::render_app_async_with_context(
        {
            let nonce = nonce.clone();
            move || {
                provide_request_context(&services, session.clone(), client.as_ref());
                // In place of the one leptos_axum made, so the policy can name it.
                provide_context(nonce.clone());
            }
        },
        move || shell(options.clone()),
    );
    let mut response = render(request).await;
    response.headers_mut().insert(
        CONTENT_SECURITY_POLICY,
        state.content_security_policy.for_page(&nonce),
    );
    response.extensions_mut().insert(nonce);
    response
}
