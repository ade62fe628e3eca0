//! A refused form on its way back to its page without JavaScript: the redirect Leptos makes
//! (`?__path=…&__err=…`, the base64 JSON of the server function's error), which Gatehouse
//! turns into a sealed cookie of a minute (`routes/form_refusals.rs`). Any redirect is read
//! without a panic and leaves no refusal in the address; any cookie value that Gatehouse did
//! not seal opens to nothing; a sealed one opens to itself within its minute only; any text
//! decodes to an error without a panic, and an error encoded as Leptos encodes it decodes to
//! itself.
//!
//! Input: a redirect's location, then on the next line a cookie's value.
#![no_main]

use gatehouse::routes::fuzzing::Refusal;
use gatehouse_app::api::AppError;
use gatehouse_app::services::crypto::TokenCipher;
use gatehouse_app::views::FieldError;
use leptos::server_fn::error::ServerFnUrlError;
use libfuzzer_sys::fuzz_target;

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
    let cipher = TokenCipher::new(vec![("fuzz".into(), [7; 32])]);
    let (location, cookie) = text.split_once('\n').unwrap_or((text, ""));
    let now = 1_765_000_000;
    let _ = decode(location);
    assert_eq!(
        Refusal::open(cookie, &cipher, now),
        None,
        "only Gatehouse seals"
    );
    if let Some((refusal, clean)) = Refusal::from_location(location, now) {
        let query = clean.split_once('?').map_or("", |(_, q)| q);
        assert!(
            url::form_urlencoded::parse(query.as_bytes())
                .all(|(k, _)| k != "__err" && k != "__path" && k != "__errmac"),
            "{clean}"
        );
        let sealed = refusal.seal(&cipher);
        assert_eq!(
            Refusal::open(&sealed, &cipher, now + 60).as_ref(),
            Some(&refusal)
        );
        assert_eq!(Refusal::open(&sealed, &cipher, now + 61), None);
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
    assert_eq!(decode(&encode(&error)), error);
});
