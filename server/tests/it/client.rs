//! The wasm client as the server serves it: the build's files under their hashed names,
//! compressed as the browser accepts, kept for good; pages that start it under their nonce;
//! and, without a build, pages as they were.

use std::path::Path;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use gatehouse::client::ClientBuild;

use crate::support::http::{TestApp, TestResponse};

const JS: &str = "gatehouse.0123456789abcdef.js";
const WASM: &str = "gatehouse.fedcba9876543210.wasm";

/// A build as `.ci/client` writes it; each copy's bytes say which copy it is.
fn build_in(dir: &Path) {
    std::fs::write(
        dir.join("client.json"),
        format!(r#"{{"js": "{JS}", "wasm": "{WASM}"}}"#),
    )
    .unwrap();
    for name in [JS, WASM] {
        std::fs::write(dir.join(name), format!("plain {name}")).unwrap();
        std::fs::write(dir.join(format!("{name}.br")), format!("brotli {name}")).unwrap();
        std::fs::write(dir.join(format!("{name}.gz")), format!("gzip {name}")).unwrap();
    }
}

async fn app_with_a_client() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    build_in(dir.path());
    TestApp::with_client(ClientBuild::load(dir.path()).unwrap()).await
}

async fn fetch(app: &TestApp, path: &str, accept_encoding: Option<&str>) -> TestResponse {
    let mut request = Request::get(path);
    if let Some(codings) = accept_encoding {
        request = request.header(header::ACCEPT_ENCODING, codings);
    }
    app.request(request.body(Body::empty()).unwrap()).await
}

#[tokio::test]
async fn the_clients_files_come_compressed_as_the_browser_accepts_and_are_kept_for_good() {
    let app = app_with_a_client().await;
    for (accepts, coding, body) in [
        (Some("gzip, deflate, br, zstd"), Some("br"), "brotli"),
        (Some("gzip;q=1.0"), Some("gzip"), "gzip"),
        (Some("identity"), None, "plain"),
        (None, None, "plain"),
    ] {
        let wasm = fetch(&app, &format!("/pkg/{WASM}"), accepts).await;
        assert_eq!(wasm.status, StatusCode::OK, "{accepts:?}");
        assert_eq!(wasm.body, format!("{body} {WASM}"), "{accepts:?}");
        assert_eq!(wasm.header("content-encoding"), coding, "{accepts:?}");
        assert_eq!(wasm.header("content-type"), Some("application/wasm"));
        assert_eq!(wasm.header("vary"), Some("accept-encoding"));
        assert_eq!(
            wasm.header("cache-control"),
            Some("public, max-age=31536000, immutable")
        );
    }
    let js = fetch(&app, &format!("/pkg/{JS}"), Some("br")).await;
    assert_eq!(js.header("content-type"), Some("text/javascript"));
    assert_eq!(js.body, format!("brotli {JS}"));

    // Only the build's own files: not its manifest, not a guess, not a way out of the folder.
    for path in [
        "/pkg/client.json",
        "/pkg/gatehouse.js",
        &format!("/pkg/{WASM}.br"),
        "/pkg/..%2Fclient.json",
    ] {
        let answer = fetch(&app, path, Some("br")).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(answer.body, "No such file.", "{path}");
    }
}

#[tokio::test]
async fn with_a_client_every_page_starts_it_under_the_nonce_its_policy_names() {
    let app = app_with_a_client().await;
    let mut ada =
        crate::accounts::person(&app, "Ada Lovelace", "ada@example.com", "203.0.113.7").await;
    // Twice each: the anonymous pages come from the page cache the second time.
    for path in ["/", "/login", "/", "/login", "/profile", "/no-such-page"] {
        let page = if path == "/profile" {
            ada.get(path).await
        } else {
            app.get(path).await
        };
        let policy = page.header("content-security-policy").unwrap().to_string();
        let nonce = policy
            .split_whitespace()
            .find_map(|source| source.strip_prefix("'nonce-")?.strip_suffix('\''))
            .unwrap_or_else(|| panic!("{path}: no nonce in {policy}"));
        assert!(policy.contains("'wasm-unsafe-eval'"), "{path}: {policy}");
        assert!(!policy.contains("unsafe-inline"), "{path}: {policy}");
        let start = format!(
            "<script type=\"module\" nonce=\"{nonce}\">import init, {{ hydrate }} from \"/pkg/{JS}\";\
             init({{ module_or_path: \"/pkg/{WASM}\" }}).then(() => hydrate());</script>"
        );
        assert!(
            page.body.contains(&start),
            "{path}: no start script in\n{}",
            page.body
        );
        assert!(
            page.body.contains(&format!(
                "<link rel=\"modulepreload\" href=\"/pkg/{JS}\" nonce=\"{nonce}\">"
            )),
            "{path}"
        );
    }
    // The data the client reads back as it hydrates is in the page: who is signed in.
    let profile = ada.get("/profile").await;
    assert!(
        profile.body.contains("__RESOLVED_RESOURCES"),
        "{}",
        profile.body
    );
    assert!(profile.body.contains("ada@example.com"));
}

#[tokio::test]
async fn without_a_client_pages_are_served_as_they_are_and_pkg_has_nothing() {
    let app = TestApp::new().await;
    let page = app.get("/login").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("/pkg/"), "{}", page.body);
    // Nor the data a client would read back (Leptos still writes its empty lists).
    assert!(
        !page.body.contains("__RESOLVED_RESOURCES["),
        "{}",
        page.body
    );
    let policy = page.header("content-security-policy").unwrap();
    assert!(!policy.contains("wasm-unsafe-eval"), "{policy}");
    let answer = fetch(&app, &format!("/pkg/{WASM}"), None).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
}

#[test]
fn a_missing_or_broken_build_is_an_error_that_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = ClientBuild::load(dir.path()).err().unwrap();
    assert!(missing.contains("client.json"), "{missing}");

    std::fs::write(dir.path().join("client.json"), "{\"js\": 1}").unwrap();
    let broken = ClientBuild::load(dir.path()).err().unwrap();
    assert!(broken.contains("client.json"), "{broken}");

    build_in(dir.path());
    std::fs::remove_file(dir.path().join(WASM)).unwrap();
    let no_wasm = ClientBuild::load(dir.path()).err().unwrap();
    assert!(no_wasm.contains(WASM), "{no_wasm}");
}
