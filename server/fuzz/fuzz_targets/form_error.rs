//! A refused form's error as it rides back to its page without JavaScript (`?__err=`, the
//! base64 JSON of the server function's error) and the MAC that vouches for it: any text
//! decodes to an error without a panic; an error encoded as Leptos encodes it decodes to
//! itself; only the error's own MAC vouches for it.
//!
//! Input: the `__err` value, then on the next line its `__errmac`. To fuzz another encoding
//! of form errors, point `decode` (and `encode`) at it.
#![no_main]

use gatehouse::routes::fuzzing::{form_error_mac, form_error_vouched};
use gatehouse_app::api::AppError;
use gatehouse_app::views::FieldError;
use leptos::server_fn::error::ServerFnUrlError;
use libfuzzer_sys::fuzz_target;

const KEY: &[u8] = b"a form error key, for fuzzing only";

/// A `__err` value as the page reads it.
fn decode(value: &str) -> AppError {
    ServerFnUrlError::<AppError>::decode_err(value)
}

/// An error as the server function's redirect carries it.
fn encode(error: &AppError) -> String {
    let url = ServerFnUrlError::new("/api/sign-in", error.clone())
        .to_url("http://127.0.0.1/login")
        .unwrap();
    let value = url.query_pairs().find(|(k, _)| k == "__err").unwrap().1;
    value.into_owned()
}

fuzz_target!(|data: &[u8]| {
    let Some(text) = gatehouse_fuzz::text(data) else {
        return;
    };
    let (value, mac) = text.split_once('\n').unwrap_or((text, ""));
    let _ = decode(value);
    if form_error_vouched(KEY, value, mac) {
        assert_eq!(mac.to_ascii_lowercase(), form_error_mac(KEY, value));
    }

    // The input's lines as what a refusal says and keeps.
    let lines: Vec<&str> = text.lines().collect();
    let error = AppError {
        status: 400 + (text.len() % 100) as u16,
        message: lines.first().copied().unwrap_or_default().to_string(),
        fields: lines
            .chunks(2)
            .map(|pair| FieldError {
                field: pair[0].to_string(),
                message: pair.get(1).copied().unwrap_or_default().to_string(),
            })
            .collect(),
        kept: lines
            .iter()
            .map(|l| (l.to_string(), text.to_string()))
            .collect(),
    };
    let value = encode(&error);
    assert_eq!(decode(&value), error);
    let mac = form_error_mac(KEY, &value);
    assert!(form_error_vouched(KEY, &value, &mac));
    assert!(!form_error_vouched(b"another key", &value, &mac));
});
