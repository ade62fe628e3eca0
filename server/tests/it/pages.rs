//! The portal over HTTP through the real router: pages, assets, health and readiness.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use gatehouse_app::db::{migrations, pool, PoolSettings};

use crate::support::{TestApp, TestDb};

#[tokio::test(flavor = "multi_thread")]
async fn the_home_page_renders_with_layout_and_navigation() {
    let app = TestApp::new().await;
    let page = app.get("/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    assert!(page.body.starts_with("<!DOCTYPE html>"), "{}", page.body);
    // gatehouse.test is a host name: passkeys are on (the stylesheet hides their forms where
    // they are off).
    assert!(page.body.contains(r#"<html lang="en" data-passkeys="on">"#));
    assert!(page.body.contains("<title>Welcome · Gatehouse</title>"));
    assert!(page.body.contains(r#"<nav aria-label="Main">"#));
    assert!(page.body.contains(r#"<a href="/login">Sign in</a>"#));
    assert!(page.body.contains(r#"<main id="main""#));
    assert!(page
        .body
        .contains(r#"<link rel="stylesheet" href="/style/main.css">"#));
    assert!(page.body.contains("Welcome to Gatehouse"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sign_in_page_has_a_labelled_form_that_posts_without_javascript() {
    let app = TestApp::new().await;
    let page = app.get("/login").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<title>Sign in · Gatehouse</title>"));
    assert!(
        page.body
            .contains(r#"<form action="/api/sign-in" method="post""#),
        "{}",
        page.body
    );
    for field in ["email", "password"] {
        assert!(
            page.body
                .contains(&format!(r#"<label for="field-{field}">"#)),
            "{field}"
        );
        assert!(
            page.body
                .contains(&format!(r#"id="field-{field}" name="{field}""#)),
            "{field}"
        );
    }
    // The current page is marked for assistive technology.
    assert!(page
        .body
        .contains(r#"<a href="/login" aria-current="page">Sign in</a>"#));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_address_gets_the_not_found_page_with_404() {
    let app = TestApp::new().await;
    for path in ["/no-such-page", "/style", "/admin/secret/../x"] {
        let page = app.get(path).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert!(
            page.body.contains("Page not found"),
            "{path}: {}",
            page.body
        );
        assert!(page.body.contains(r#"<nav aria-label="Main">"#), "{path}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_stylesheet_and_public_files_are_served() {
    let app = TestApp::new().await;
    let css = app.get("/style/main.css").await;
    assert_eq!(css.status, StatusCode::OK);
    assert_eq!(css.header("content-type"), Some("text/css"));
    assert!(css.body.contains(".site-header"));
    let etag = css.header("etag").expect("an ETag").to_string();

    let again = app
        .request(
            Request::get("/style/main.css")
                .header("if-none-match", &etag)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());

    let icon = app.get("/favicon.svg").await;
    assert_eq!(icon.status, StatusCode::OK);
    assert_eq!(icon.header("content-type"), Some("image/svg+xml"));
    assert_eq!(app.get("/robots.txt").await.status, StatusCode::OK);
    assert_eq!(
        app.get("/style/missing.css").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/style/../Cargo.toml").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_response_carries_a_request_id() {
    let app = TestApp::new().await;
    let fresh = app.get("/healthz").await;
    let id = fresh.header("x-request-id").expect("a request id");
    assert_eq!(id.len(), 36, "a UUID: {id}");

    let given = app
        .request(
            Request::get("/")
                .header("x-request-id", "from-the-load-balancer")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(given.header("x-request-id"), Some("from-the-load-balancer"));
}

#[tokio::test(flavor = "multi_thread")]
async fn healthz_says_alive() {
    let app = TestApp::new().await;
    let health = app.get("/healthz").await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.json()["status"], "alive");
}

#[tokio::test(flavor = "multi_thread")]
async fn readyz_is_ready_on_a_migrated_database() {
    let app = TestApp::new().await;
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.body);
    assert_eq!(ready.json()["status"], "ready");
}

#[tokio::test(flavor = "multi_thread")]
async fn readyz_is_not_ready_while_migrations_are_pending() {
    let app = TestApp::on(TestDb::empty().await).await;
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    let body = ready.json();
    assert_eq!(body["status"], "not ready");
    assert_eq!(
        body["reason"], "the database schema is not current yet (migrations pending)",
        "in words, naming no migration: {body}"
    );

    migrations::run_pending(app.db.connect().await)
        .await
        .unwrap();
    assert_eq!(app.get("/readyz").await.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn readyz_is_not_ready_when_the_database_is_unreachable() {
    let nowhere = tempfile::tempdir().unwrap();
    let url = gatehouse::local_postgres::socket_url(nowhere.path(), "gatehouse");
    let settings = PoolSettings {
        min: 0,
        max: 1,
        connection_timeout: std::time::Duration::from_millis(500),
    };
    let pool = pool::build(&url, &settings);
    let app = TestApp::on(TestDb { url, pool }).await;
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        ready.json()["reason"],
        "the database cannot be reached",
        "no raw error: {}",
        ready.body
    );
    // Being alive does not depend on the database.
    assert_eq!(app.get("/healthz").await.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_everyone_sees_alike_are_kept_but_never_shown_to_someone_signed_in() {
    let app = TestApp::new().await;
    let first = app.get("/").await;
    let again = app.get("/").await;
    // The same page, but for its scripts' nonce.
    let (n1, n2) = (nonce_of(&first), nonce_of(&again));
    assert_ne!(n1, n2);
    assert_eq!(first.body.replace(&n1, "N"), again.body.replace(&n2, "N"));
    assert!(again.body.contains("Welcome to Gatehouse"));
    // The answer's own headers are made afresh for every request.
    assert_ne!(first.header("x-request-id"), again.header("x-request-id"));
    assert_eq!(again.header("cache-control"), Some("no-store"));
    assert!(again.header("content-security-policy").is_some());

    // Someone signed in gets their own page, never the kept one.
    let mut ada =
        crate::accounts::person(&app, "Ada Lovelace", "ada@example.com", "203.0.113.7").await;
    let hers = ada.get("/").await;
    assert_eq!(hers.status, StatusCode::OK);
    assert!(!hers.body.contains("Welcome to Gatehouse"), "{}", hers.body);
    assert!(hers.body.contains("Ada Lovelace"), "{}", hers.body);
    // A stale session cookie is cleared, not answered from memory.
    let mut stale = app.browser();
    stale.set_cookie("gatehouse_session", "x".repeat(43).as_str());
    let cleared = stale.get("/login").await;
    assert!(
        cleared
            .header("set-cookie")
            .is_some_and(|c| c.starts_with("gatehouse_session=")),
        "{:?}",
        cleared.header("set-cookie")
    );
    // A query is rendered each time (here: where to go after signing in).
    let with_next = app.get("/login?next=/artworks").await;
    assert!(
        with_next.body.contains(r#"value="/artworks""#),
        "{}",
        with_next.body
    );
}

/// No client build reads it, so a page carries no copy of its data for hydration: what a
/// signed-in page shows is in its HTML once, not also in a script.
#[tokio::test(flavor = "multi_thread")]
async fn a_signed_in_page_carries_its_data_once_not_again_for_hydration() {
    let app = TestApp::new().await;
    let mut ada =
        crate::accounts::person(&app, "Ada Lovelace", "ada@example.com", "203.0.113.7").await;
    let profile = ada.get("/profile").await;
    assert_eq!(profile.status, StatusCode::OK);
    assert!(profile.body.contains("ada@example.com"), "{}", profile.body);
    assert!(
        !profile.body.contains("__RESOLVED_RESOURCES["),
        "{}",
        profile.body
    );
    assert!(!profile.body.contains(r#"\"email\""#), "{}", profile.body);
}

/// The header knows who is signed in on every page, the 404 page (which reads nothing of its
/// own) included, and stops knowing the moment the session ends.
#[tokio::test(flavor = "multi_thread")]
async fn the_header_names_whoever_is_signed_in_on_every_page() {
    let app = TestApp::new().await;
    let mut ada =
        crate::accounts::person(&app, "Ada Lovelace", "ada@example.com", "203.0.113.7").await;
    for path in ["/", "/profile", "/no-such-page"] {
        let page = ada.get(path).await;
        assert!(
            page.body.contains(r#"<a href="/profile""#) && page.body.contains("Ada Lovelace</a>"),
            "{path}: {}",
            page.body
        );
        assert!(page.body.contains(r#"action="/api/sign-out""#), "{path}");
        assert!(
            !page.body.contains(r#"<a href="/login">Sign in</a>"#),
            "{path}"
        );
    }

    let mut conn = app.db.conn().await;
    diesel_async::RunQueryDsl::execute(
        diesel::delete(gatehouse_app::db::schema::session::table),
        &mut conn,
    )
    .await
    .unwrap();
    let page = ada.get("/no-such-page").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(
        page.body.contains(r#"<a href="/login">Sign in</a>"#),
        "{}",
        page.body
    );
    assert!(!page.body.contains("Ada Lovelace"), "{}", page.body);
}

/// The nonce a page's policy lets its inline scripts run with.
fn nonce_of(page: &crate::support::http::TestResponse) -> String {
    let policy = page.header("content-security-policy").unwrap_or_default();
    let script_src = policy
        .split(';')
        .find(|d| d.trim().starts_with("script-src"))
        .unwrap_or_default();
    let nonce = script_src
        .split_whitespace()
        .find_map(|source| source.strip_prefix("'nonce-")?.strip_suffix('\''))
        .unwrap_or_else(|| panic!("no nonce in {policy}"));
    nonce.to_string()
}

/// Leptos writes inline scripts into every page; a browser runs them only if they carry the
/// nonce the answer's policy names, and a nonce is good for one answer only. Never
/// 'unsafe-inline'.
#[tokio::test(flavor = "multi_thread")]
async fn every_pages_scripts_carry_the_nonce_its_policy_names_new_for_each_answer() {
    let app = TestApp::new().await;
    let mut ada =
        crate::accounts::person(&app, "Ada Lovelace", "ada@example.com", "203.0.113.7").await;
    let mut seen = std::collections::HashSet::new();
    for round in 0..2 {
        for path in [
            "/",
            "/login",
            "/signup",
            "/no-such-page",
            "/profile",
            "/artworks",
        ] {
            let page = if path.starts_with("/profile") || path.starts_with("/artworks") {
                ada.get(path).await
            } else {
                app.get(path).await
            };
            let policy = page.header("content-security-policy").unwrap_or_default();
            assert!(!policy.contains("unsafe-inline"), "{path}: {policy}");
            let nonce = nonce_of(&page);
            assert!(
                seen.insert(nonce.clone()),
                "{path} (round {round}): nonce reused"
            );
            let scripts = page.body.matches("<script").count();
            assert!(scripts > 0, "{path}");
            assert_eq!(
                page.body
                    .matches(&format!("<script nonce=\"{nonce}\""))
                    .count(),
                scripts,
                "{path}: every script carries the nonce"
            );
        }
    }
    // Answers that are not pages run no inline script at all.
    let health = app.get("/healthz").await;
    let policy = health.header("content-security-policy").unwrap();
    assert!(policy.contains("script-src 'self';"), "{policy}");
}
