//! Server functions' form bodies, decoded as Leptos decodes them (`serde_qs`, depth 5, not
//! strict) into the argument structs of a few server functions, each field then checked by
//! the rule its function applies first: no panic, and what passes a rule has its shape; a
//! body that passes the NUL check before them decodes to no NUL.
#![no_main]

use std::collections::BTreeMap;

use gatehouse::routes::fuzzing::holds_encoded_nul;
use gatehouse_app::api::{admin, artworks, auth, invitation, passkeys, profile, two_factor};
use gatehouse_app::services::{jobs, paging, policy};
use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;

/// What Leptos's `PostUrl` codec does with a body (server_fn's `codec/url.rs`).
fn decode<T: DeserializeOwned>(body: &str) -> Option<T> {
    serde_qs::Config::new(5, false)
        .deserialize_str::<T>(body)
        .ok()
}

fn next_path(next: &str) {
    if let Some(path) = policy::local_path(next) {
        assert!(path.starts_with('/') && !path.starts_with("//") && !path.contains('\\'));
    }
}

fuzz_target!(|data: &[u8]| {
    let Some(body) = gatehouse_fuzz::text(data) else {
        return;
    };
    // The body limit's NUL check stands before every server function: a body it lets
    // through decodes to no NUL, which PostgreSQL would refuse deep inside a query.
    if !holds_encoded_nul(data) {
        if let Some(fields) = decode::<BTreeMap<String, String>>(body) {
            for (name, value) in &fields {
                assert!(
                    !name.contains('\0') && !value.contains('\0'),
                    "{name:?}={value:?}"
                );
            }
        }
    }
    if let Some(f) = decode::<auth::SignIn>(body) {
        let _ = policy::email(&f.email);
        next_path(&f.next);
    }
    if let Some(f) = decode::<auth::SignUp>(body) {
        if let Ok(email) = policy::email(&f.email) {
            assert_eq!(email, email.trim().to_lowercase());
            assert_eq!(policy::email(&email).as_deref(), Ok(email.as_str()));
        }
        if let Ok(name) = policy::name(&f.name) {
            assert_eq!(policy::name(&name).as_deref(), Ok(name.as_str()));
        }
        let _ = policy::new_password("password", &f.password, &f.email);
    }
    if let Some(f) = decode::<admin::AdminUsers>(body) {
        let _ = paging::parse_cursor(&f.after);
    }
    if let Some(f) = decode::<admin::ChangeUser>(body) {
        let _ = (f.on, f.id, f.change);
    }
    if let Some(f) = decode::<admin::BulkWhitelist>(body) {
        next_path(&f.back);
        assert!(f.ids.len() <= body.len());
    }
    if let Some(f) = decode::<admin::AuditLog>(body) {
        let _ = paging::parse_cursor(&f.after);
    }
    if let Some(f) = decode::<artworks::SubmitArtwork>(body) {
        let _ = jobs::image_url("original_url", &f.original_url);
    }
    if let Some(f) = decode::<invitation::AcceptInvitation>(body) {
        let _ = policy::name(&f.name);
    }
    if let Some(f) = decode::<passkeys::PasskeyCeremony>(body) {
        next_path(&f.next);
        let _ = serde_json::from_str::<serde_json::Value>(&f.credential);
    }
    if let Some(f) = decode::<profile::ChangeEmail>(body) {
        let _ = policy::email(&f.new_email);
    }
    if let Some(f) = decode::<two_factor::TwoStep>(body) {
        next_path(&f.next);
    }
});
