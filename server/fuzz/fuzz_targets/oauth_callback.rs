//! A provider's callback (`GET /auth/{provider}/callback?code=&state=&error=`) as its handler
//! reads it, the flow cookie's JSON, and the `next` path a flow carries: no panic; a provider's
//! error is shown cut to 100 characters; only a local path is ever a place to go next.
#![no_main]

use axum::http::Uri;
use gatehouse::routes::fuzzing::{oauth_callback, provider_error_shown};
use gatehouse_app::services::policy::local_path;
use gatehouse_app::services::providers::Flow;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(text) = gatehouse_fuzz::text(data) else {
        return;
    };
    if let Ok(uri) = format!("/auth/github/callback?{text}").parse::<Uri>() {
        if let Some((code, state, error)) = oauth_callback(&uri) {
            let _ = (code, state);
            if let Some(error) = error {
                let shown = provider_error_shown(&error);
                assert!(shown.chars().count() <= 100 && error.starts_with(&shown));
            }
        }
    }
    if let Ok(flow) = serde_json::from_str::<Flow>(text) {
        let _ = flow.is_expired(chrono::Utc::now());
        let _ = local_path(&flow.next);
    }
    if let Some(path) = local_path(text) {
        assert_eq!(path, text);
        let url = url::Url::parse("https://gatehouse.example/")
            .unwrap()
            .join(path)
            .unwrap();
        assert_eq!(url.host_str(), Some("gatehouse.example"), "{path}");
    }
});
