//! WEBHOOK_URLS entries and the webhook secret (`whsec_` and base64): an accepted endpoint
//! is an http(s) address with a host and no user name or password, accepted again as it is;
//! an accepted secret signs as Standard Webhooks asks (`v1,` and a base64 HMAC-SHA256).
#![no_main]

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use gatehouse_app::services::webhooks::{endpoint, WebhookSecret};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(text) = gatehouse_fuzz::text(data) else {
        return;
    };
    if let Ok(url) = endpoint(text) {
        assert!(matches!(url.scheme(), "http" | "https"));
        assert!(url.host_str().is_some_and(|h| !h.is_empty()));
        assert!(url.username().is_empty() && url.password().is_none());
        assert_eq!(endpoint(url.as_str()), Ok(url.clone()));
    }
    if let Ok(secret) = WebhookSecret::parse(text) {
        let signature = secret.sign("msg_1", 1_700_000_000, text);
        let mac = signature.strip_prefix("v1,").expect("a v1 signature");
        assert_eq!(STANDARD.decode(mac).map(|m| m.len()), Ok(32));
    }
});
