//! A random client over every surface, through the real router: pages, server functions,
//! Better Auth's API (BETTER_AUTH_COMPAT on), the live stream, the passkey ceremonies' JSON,
//! provider sign-in and callbacks, the internal API, invitations and the data download;
//! anonymous, as a member, as an admin, with made-up cookies and headers. Every answer is
//! counted by status; any 5xx, a hang or a panic fails the test.
//!
//! CI sends a few thousand requests from one fixed seed; `RANDOM_REQUESTS=100000` sends more,
//! and `RANDOM_SEED` takes another seed (the seed is printed, so a failure can be repeated).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Method, Request};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use gatehouse::routes::fuzzing::Signer;
use gatehouse_app::db::schema::user;
use http_body_util::BodyExt;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::accounts::person;
use crate::support::http::{BETTER_AUTH_SECRET, INTERNAL_TOKEN, PUBLIC_URL};
use crate::support::provider::StandIn;
use crate::support::TestApp;

/// Requests a CI run sends, and from which seed: the same every run (chance stays out of CI;
/// another seed is another run's business).
const IN_CI: usize = 3000;
const SEED: u64 = 37;
/// Requests in flight at once.
const CLIENTS: usize = 8;
/// A front end Better Auth's API trusts.
const FRONT_END: &str = "http://front.test";

/// Panics on the random client's threads (the app's tasks run there).
static PANICS: AtomicUsize = AtomicUsize::new(0);
const THREADS: &str = "random-client";

#[test]
fn a_random_client_never_gets_a_server_error() {
    let count = std::env::var("RANDOM_REQUESTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(IN_CI);
    let seed = std::env::var("RANDOM_SEED")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(SEED);
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current()
            .name()
            .is_some_and(|name| name.starts_with(THREADS))
        {
            AtomicUsize::fetch_add(&PANICS, 1, Ordering::SeqCst);
        }
        previous(info)
    }));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(THREADS)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run(count, seed));
}

/// Who the client may be: cookies it can send.
struct Identities {
    member: String,
    admin: String,
    better_auth: String,
}

async fn run(count: usize, seed: u64) {
    let provider = StandIn::start().await;
    let app = TestApp::with_providers_and_better_auth(&provider, &[FRONT_END]).await;
    let member = person(&app, "Mia", "mia@example.com", "10.0.7.1").await;
    let admin = person(&app, "Ann", "ann@example.com", "10.0.7.2").await;
    {
        let mut conn = app.db.conn().await;
        diesel::update(user::table.filter(user::email.eq("ann@example.com")))
            .set((user::role.eq("admin"), user::is_whitelisted.eq(true)))
            .execute(&mut conn)
            .await
            .unwrap();
        diesel::update(user::table.filter(user::email.eq("mia@example.com")))
            .set(user::is_whitelisted.eq(true))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let member_token = member.cookie("gatehouse_session").unwrap().to_string();
    let identities = Arc::new(Identities {
        better_auth: Signer::new(BETTER_AUTH_SECRET.as_bytes()).sign(&member_token),
        member: member_token,
        admin: admin.cookie("gatehouse_session").unwrap().to_string(),
    });

    let statuses = Arc::new(Mutex::new(BTreeMap::<u16, usize>::new()));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let started = Instant::now();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let router = app.router();
            let identities = identities.clone();
            let statuses = statuses.clone();
            let failures = failures.clone();
            tokio::spawn(async move {
                let mut rng = StdRng::seed_from_u64(seed.wrapping_add(client as u64));
                for _ in (client..count).step_by(CLIENTS) {
                    let request = random_request(&mut rng, &identities);
                    let what = format!("{} {}", request.method(), request.uri());
                    let answered = tokio::time::timeout(Duration::from_secs(30), async {
                        let response = router.clone().oneshot(request).await.unwrap();
                        let status = response.status();
                        let stream = response
                            .headers()
                            .get(header::CONTENT_TYPE)
                            .is_some_and(|t| t.as_bytes().starts_with(b"text/event-stream"));
                        // A live stream never ends: its status and headers are its answer.
                        if !stream {
                            let _ = response.into_body().collect().await;
                        }
                        status
                    })
                    .await;
                    match answered {
                        Ok(status) => {
                            *statuses.lock().unwrap().entry(status.as_u16()).or_default() += 1;
                            if status.is_server_error() {
                                failures
                                    .lock()
                                    .unwrap()
                                    .push(format!("{status} for {what}"));
                            }
                        }
                        Err(_) => failures
                            .lock()
                            .unwrap()
                            .push(format!("no answer within 30 s to {what}")),
                    }
                }
            })
        })
        .collect();
    for client in clients {
        if let Err(e) = client.await {
            failures
                .lock()
                .unwrap()
                .push(format!("a client panicked: {e}"));
        }
    }
    let statuses = statuses.lock().unwrap().clone();
    let answered: usize = statuses.values().sum();
    let server_errors: usize = statuses
        .iter()
        .filter(|(s, _)| **s >= 500)
        .map(|(_, n)| n)
        .sum();
    let panics = AtomicUsize::load(&PANICS, Ordering::SeqCst);
    eprintln!(
        "random client: seed {seed}, {answered} answers in {:.1} s, by status {statuses:?}, \
         {server_errors} server errors, {panics} panics",
        started.elapsed().as_secs_f64()
    );
    let failures = failures.lock().unwrap();
    assert!(
        failures.is_empty() && panics == 0,
        "seed {seed}: {panics} panics; {} failures, the first: {:#?}",
        failures.len(),
        &failures[..failures.len().min(20)]
    );
    assert_eq!(answered, count);
}

/// Surfaces and how often the client tries each (weights).
const SURFACES: &[(Surface, u32)] = &[
    (Surface::Page, 20),
    (Surface::ServerFunction, 30),
    (Surface::BetterAuth, 20),
    (Surface::Live, 4),
    (Surface::Passkey, 8),
    (Surface::Provider, 6),
    (Surface::Internal, 8),
    (Surface::Other, 4),
];

#[derive(Clone, Copy)]
enum Surface {
    Page,
    ServerFunction,
    BetterAuth,
    Live,
    Passkey,
    Provider,
    Internal,
    Other,
}

const PAGES: &[&str] = &[
    "/",
    "/admin",
    "/admin/audit",
    "/admin/jobs",
    "/admin/users/",
    "/artworks",
    "/artworks/",
    "/forgot-password",
    "/login",
    "/profile",
    "/reset-password",
    "/signup",
    "/two-factor",
    "/verify-email",
    "/sign-in-failed",
    "/invitation",
    "/email-change",
    "/no-such-page",
];

const SERVER_FUNCTIONS: &[&str] = &[
    "admin/users",
    "admin/user",
    "admin/change",
    "admin/end-session",
    "admin/delete-user",
    "admin/bulk-whitelist",
    "admin/audit",
    "admin/unowned-jobs",
    "admin/assign-job",
    "my-jobs",
    "my-job",
    "submit-artwork",
    "sign-up",
    "sign-in",
    "sign-out",
    "verify-email",
    "resend-verification",
    "forgot-password",
    "reset-password",
    "sign-in-providers",
    "accept-invitation",
    "passkey",
    "my-overview",
    "current-user",
    "my-profile",
    "my-sessions",
    "update-name",
    "resend-my-verification",
    "change-email",
    "withdraw-email-change",
    "change-password",
    "end-session",
    "end-other-sessions",
    "my-sign-in-methods",
    "unlink-account",
    "delete-account",
    "my-two-factor",
    "two-factor",
    "written-page",
    "confirm-email-change",
    "undo-email-change",
    "no-such-function",
];

/// The server functions' argument names (and a few no function has).
const FIELDS: &[&str] = &[
    "action",
    "actor",
    "address",
    "after",
    "back",
    "change",
    "code",
    "confirm",
    "credential",
    "current_password",
    "email",
    "email_password",
    "filter",
    "id",
    "ids",
    "ids[]",
    "ids[0]",
    "job_id",
    "name",
    "new_email",
    "new_password",
    "next",
    "oldest_first",
    "on",
    "original_url",
    "password",
    "provider",
    "q",
    "reason",
    "role",
    "session",
    "since",
    "status",
    "step",
    "target",
    "tier",
    "token",
    "until",
    "__err",
    "a[b][c][d][e][f]",
];

const BETTER_AUTH: &[&str] = &[
    "ok",
    "get-session",
    "token",
    "jwks",
    "sign-up/email",
    "sign-in/email",
    "sign-in/social",
    "update-user",
    "change-password",
    "change-email",
    "request-password-reset",
    "forget-password",
    "reset-password",
    "verify-email",
    "delete-user",
    "send-verification-email",
    "sign-out",
    "list-sessions",
    "revoke-session",
    "revoke-sessions",
    "revoke-other-sessions",
    "no-such-endpoint",
];

const BETTER_AUTH_FIELDS: &[&str] = &[
    "email",
    "password",
    "name",
    "image",
    "callbackURL",
    "errorCallbackURL",
    "newUserCallbackURL",
    "rememberMe",
    "newPassword",
    "currentPassword",
    "revokeOtherSessions",
    "newEmail",
    "token",
    "provider",
    "disableRedirect",
    "redirectTo",
    "idToken",
];

/// Values worth trying anywhere: edges of lengths, numbers, cursors, paths, addresses (hosts
/// that need no name lookup: no test sends traffic off this machine), JSON, encodings.
const VALUES: &[&str] = &[
    "",
    " ",
    "a",
    "0",
    "1",
    "-1",
    "true",
    "false",
    "on",
    "perhaps",
    "null",
    "99999999999999999999",
    "1e309",
    "mia@example.com",
    "ann@example.com",
    "MIA@EXAMPLE.COM ",
    "nobody@example.com",
    "not an email",
    "@",
    "a@b",
    "wrong password 123",
    "correct horse battery staple",
    "admin",
    "user",
    "member",
    "free",
    "anonymous",
    "whitelist",
    "role",
    "tier",
    "ban",
    "github",
    "oidc",
    "credential",
    "link",
    "add-options",
    "add",
    "sign-in-options",
    "sign-in",
    "second-step-options",
    "second-step",
    "enable",
    "confirm",
    "disable",
    "rename",
    "remove",
    "recovery",
    "123456",
    "1795000000123456~abc",
    "1~",
    "~",
    "-1~x",
    "253402300800000000~a",
    "2026-12-07",
    "9999-12-31",
    "0000-01-01",
    "2026-02-30",
    "/",
    "/profile",
    "//evil.test",
    "/\\evil.test",
    "https://evil.test/",
    "javascript:alert(1)",
    "http://127.0.0.1/a.png",
    "http://[::1]/a.png",
    "http://169.254.169.254/latest/meta-data",
    "https://8.8.8.8/a.png",
    "https://203.0.113.9/a.png",
    "http://gatehouse.localhost/a.png",
    "http://user:pass@127.0.0.1/a.png",
    "ftp://127.0.0.1/a",
    "queued",
    "processing",
    "completed",
    "failed",
    "job-1",
    "job:2.a_b",
    "../../etc/passwd",
    "%",
    "%25",
    "%ZZ",
    "%C3%A9",
    "é😀\u{202e}",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "{",
    "{}",
    "[]",
    "{\"type\":\"public-key\"}",
    "eyJ0eXAiOiJKV1QifQ",
    "AAAA",
    "____",
    "a=b&c=d",
    "a[b]=c",
];

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// A value: one of [`VALUES`], a few glued, a long run, or random characters.
fn value(rng: &mut StdRng) -> String {
    match rng.random_range(0..10) {
        0..=5 => pick(rng, VALUES).to_string(),
        6 => format!("{}{}", pick(rng, VALUES), pick(rng, VALUES)),
        7 => pick(rng, VALUES).repeat(rng.random_range(1..3000)),
        8 => (0..rng.random_range(0..40))
            .map(|_| char::from(rng.random_range(0x20u8..0x7f)))
            .collect(),
        _ => (0..rng.random_range(0..20))
            .filter_map(|_| char::from_u32(rng.random_range(1..0x11000)))
            .collect(),
    }
}

fn encoded(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// A URL-encoded form or query of random fields.
fn form(rng: &mut StdRng, fields: &[&str]) -> String {
    let count = rng.random_range(0..6);
    let mut pairs: Vec<String> = (0..count)
        .map(|_| {
            format!(
                "{}={}",
                encoded(pick::<&str>(rng, fields)),
                encoded(&value(rng))
            )
        })
        .collect();
    if rng.random_ratio(1, 10) {
        // What no browser sends: raw bytes, broken escapes, bare names.
        pairs.push(pick(rng, &["%", "&&", "=", "a", "%FF%FE", "a=%", "=b"]).to_string());
    }
    pairs.join("&")
}

/// A random JSON value, shallow or nested.
fn json_value(rng: &mut StdRng, depth: u32) -> Value {
    match rng.random_range(0..if depth > 2 { 5 } else { 8 }) {
        0 => Value::Null,
        1 => Value::Bool(rng.random()),
        2 => json!(rng.random_range(-5i64..100_000_000_000)),
        3 | 4 => Value::String(value(rng)),
        5 => json!(rng.random::<f64>() * 1e6),
        6 => Value::Array(
            (0..rng.random_range(0..4))
                .map(|_| json_value(rng, depth + 1))
                .collect(),
        ),
        _ => json_object(rng, BETTER_AUTH_FIELDS, depth + 1),
    }
}

fn json_object(rng: &mut StdRng, fields: &[&str], depth: u32) -> Value {
    let mut object = serde_json::Map::new();
    for _ in 0..rng.random_range(0..6) {
        object.insert(pick(rng, fields).to_string(), json_value(rng, depth));
    }
    Value::Object(object)
}

/// A body meant as JSON: mostly an object, sometimes broken.
fn json_body(rng: &mut StdRng, fields: &[&str]) -> String {
    match rng.random_range(0..10) {
        0 => value(rng),
        1 => json_value(rng, 0).to_string(),
        _ => json_object(rng, fields, 0).to_string(),
    }
}

/// The JSON a browser's passkey answer has, with random parts.
fn passkey_credential(rng: &mut StdRng) -> String {
    let b64 = |rng: &mut StdRng| -> Value {
        match rng.random_range(0..4) {
            0 => json_value(rng, 2),
            1 => Value::String(value(rng)),
            _ => {
                let bytes: Vec<u8> = (0..rng.random_range(0..120))
                    .map(|_| rng.random())
                    .collect();
                use base64::Engine as _;
                Value::String(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
            }
        }
    };
    let client_data = json!({
        "type": pick(rng, &["webauthn.create", "webauthn.get", "x"]),
        "challenge": b64(rng),
        "origin": pick(rng, &[PUBLIC_URL, "https://evil.test", ""]),
    });
    let client_data = {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(client_data.to_string())
    };
    let mut response = serde_json::Map::new();
    response.insert("clientDataJSON".into(), json!(client_data));
    for name in [
        "attestationObject",
        "authenticatorData",
        "signature",
        "userHandle",
    ] {
        if rng.random_ratio(2, 3) {
            response.insert(name.into(), b64(rng));
        }
    }
    let credential = json!({
        "id": b64(rng),
        "rawId": b64(rng),
        "type": pick(rng, &["public-key", "", "password"]),
        "response": response,
        "extensions": {},
        "clientExtensionResults": json_value(rng, 2),
    });
    match rng.random_range(0..8) {
        0 => value(rng),
        _ => credential.to_string(),
    }
}

/// A request, from a random address, with random cookies and headers.
fn random_request(rng: &mut StdRng, who: &Identities) -> Request<Body> {
    let total: u32 = SURFACES.iter().map(|(_, w)| w).sum();
    let mut roll = rng.random_range(0..total);
    let surface = SURFACES
        .iter()
        .find(|(_, w)| {
            let hit = roll < *w;
            roll = roll.saturating_sub(*w);
            hit
        })
        .map(|(s, _)| *s)
        .unwrap_or(Surface::Page);
    let form_type = "application/x-www-form-urlencoded";
    let (method, uri, content_type, body): (Method, String, Option<&str>, String) = match surface {
        Surface::Page => {
            let mut path = pick(rng, PAGES).to_string();
            if path.ends_with('/') && path.len() > 1 {
                path.push_str(&encoded(&value(rng)));
            }
            let query = form(rng, FIELDS);
            (Method::GET, format!("{path}?{query}"), None, String::new())
        }
        Surface::ServerFunction => {
            let name = pick(rng, SERVER_FUNCTIONS);
            let method = if rng.random_ratio(1, 12) {
                Method::GET
            } else {
                Method::POST
            };
            let content_type = match rng.random_range(0..20) {
                0 => Some("application/json"),
                1 => None,
                2 => Some("multipart/form-data; boundary=x"),
                _ => Some(form_type),
            };
            (
                method,
                format!("/api/{name}"),
                content_type,
                form(rng, FIELDS),
            )
        }
        Surface::BetterAuth => {
            let endpoint = pick(rng, BETTER_AUTH);
            let method = match rng.random_range(0..10) {
                0..=5 => Method::POST,
                6..=8 => Method::GET,
                _ => Method::OPTIONS,
            };
            let query = if method == Method::GET {
                format!(
                    "?{}",
                    form(rng, &["token", "callbackURL", "disableCookieCache"])
                )
            } else {
                String::new()
            };
            let content_type = match rng.random_range(0..10) {
                0 => Some(form_type),
                1 => None,
                _ => Some("application/json"),
            };
            (
                method,
                format!("/api/auth/{endpoint}{query}"),
                content_type,
                json_body(rng, BETTER_AUTH_FIELDS),
            )
        }
        Surface::Live => {
            let query = form(rng, &["job_id", "after", "since"]);
            (
                Method::GET,
                format!("/api/artworks/events?{query}"),
                None,
                String::new(),
            )
        }
        Surface::Passkey => {
            let step = pick(
                rng,
                &[
                    "add-options",
                    "add",
                    "sign-in-options",
                    "sign-in",
                    "second-step-options",
                    "second-step",
                    "other",
                ],
            );
            let body = format!(
                "step={step}&credential={}&name={}&next={}",
                encoded(&passkey_credential(rng)),
                encoded(&value(rng)),
                encoded(&value(rng)),
            );
            (Method::POST, "/api/passkey".into(), Some(form_type), body)
        }
        Surface::Provider => {
            let provider = pick(rng, &["github", "oidc", "nope", "%2e%2e"]);
            if rng.random() {
                let body = form(rng, &["next", "intent"]);
                (
                    Method::POST,
                    format!("/auth/{provider}"),
                    Some(form_type),
                    body,
                )
            } else {
                let query = form(rng, &["code", "state", "error", "error_description"]);
                (
                    Method::GET,
                    format!("/auth/{provider}/callback?{query}"),
                    None,
                    String::new(),
                )
            }
        }
        Surface::Internal => {
            let path = match rng.random_range(0..4) {
                0 => "/api/internal/jobs".to_string(),
                1 => "/api/internal/session".to_string(),
                _ => format!("/api/internal/jobs/{}", encoded(&value(rng))),
            };
            let method = pick(
                rng,
                &[
                    Method::GET,
                    Method::POST,
                    Method::PATCH,
                    Method::PUT,
                    Method::DELETE,
                ],
            )
            .clone();
            let fields = &[
                "job_id",
                "user_id",
                "email",
                "original_url",
                "protected_url",
                "status",
                "error",
            ];
            (
                method,
                path,
                Some("application/json"),
                json_body(rng, fields),
            )
        }
        Surface::Other => {
            let (method, path) = pick(
                rng,
                &[
                    (Method::POST, "/profile/data"),
                    (Method::POST, "/admin/invitations"),
                    (Method::POST, "/admin/invitations/resend"),
                    (Method::POST, "/admin/invitations/revoke"),
                    (Method::GET, "/healthz"),
                    (Method::GET, "/readyz"),
                    (Method::GET, "/style/main.css"),
                    (Method::GET, "/style/..%2F..%2Fetc%2Fpasswd"),
                    (Method::GET, "/pkg/gatehouse.js"),
                    (Method::HEAD, "/"),
                    (Method::DELETE, "/login"),
                ],
            )
            .clone();
            let body = form(rng, &["email", "role", "tier", "id", "password", "name"]);
            (method, path.into(), Some(form_type), body)
        }
    };

    let uri = if uri.parse::<axum::http::Uri>().is_ok() {
        uri
    } else {
        "/?broken".to_string()
    };
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(content_type) = content_type {
        request = request.header(header::CONTENT_TYPE, content_type);
    }
    request = request.header(
        header::ACCEPT,
        *pick(
            rng,
            &["application/json", "text/html", "*/*", "text/event-stream"],
        ),
    );
    match rng.random_range(0..10) {
        0..=5 => request = request.header(header::ORIGIN, PUBLIC_URL),
        6 => request = request.header(header::ORIGIN, FRONT_END),
        7 => request = request.header(header::ORIGIN, "https://evil.test"),
        8 => request = request.header(header::REFERER, format!("{PUBLIC_URL}/login")),
        _ => {}
    }
    let session = match rng.random_range(0..10) {
        0..=2 => None,
        3..=5 => Some(format!("gatehouse_session={}", who.member)),
        6 | 7 => Some(format!("gatehouse_session={}", who.admin)),
        8 => Some(format!("better-auth.session_token={}", who.better_auth)),
        _ => Some(format!(
            "{}={}",
            pick(
                rng,
                &[
                    "gatehouse_session",
                    "better-auth.session_token",
                    "gatehouse_flow",
                    "gatehouse_second_step",
                ]
            ),
            encoded(&value(rng))
        )),
    };
    if let Some(cookie) = session {
        request = request.header(header::COOKIE, cookie);
    }
    if rng.random_ratio(1, 4) {
        request = request.header("x-forwarded-for", encoded(&value(rng)));
    }
    if rng.random_ratio(1, 5) {
        request = request.header(header::USER_AGENT, encoded(&value(rng)));
    }
    if rng.random_ratio(1, 8) {
        request = request.header(header::AUTHORIZATION, format!("Bearer {INTERNAL_TOKEN}"));
    } else if rng.random_ratio(1, 10) {
        request = request.header(header::AUTHORIZATION, encoded(&value(rng)));
    }
    if rng.random_ratio(1, 10) {
        request = request.header("last-event-id", encoded(&value(rng)));
    }
    let mut request = request.body(Body::from(body)).unwrap();
    let peer: SocketAddr = format!(
        "127.0.{}.{}:{}",
        rng.random_range(0..4),
        rng.random_range(1..255),
        rng.random_range(1024..65535)
    )
    .parse()
    .unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));
    request
}
