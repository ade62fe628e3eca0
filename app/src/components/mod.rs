//! Pieces shared by pages.

use std::future::Future;
use std::pin::Pin;

use leptos::prelude::Resource;

#[cfg(feature = "ssr")]
pub mod admin_cards;
pub mod form;
pub mod layout;
pub mod live;
pub mod whole;
#[cfg(feature = "ssr")]
pub mod written;

/// A page resource's fetch, boxed. A server function's future holds the state of every await
/// below it (kilobytes, on the server), and Leptos moves it by value several times before it
/// first polls it; boxed, each move is a pointer's. `/profile`: 595,000 → 558,000
/// instructions (docs/performance.md).
pub fn boxed<F: Future>(fetch: F) -> Pin<Box<F>> {
    Box::pin(fetch)
}

/// The codec of the pages' data: JSON, as Leptos's default, but read back from bytes, as a
/// server function's answer is. With the default (which reads a `&str`) the client held every
/// view type's reading twice, once for the page it hydrates and once for a server call:
/// 50 KB of the module.
pub struct PageData;

impl<T: serde::Serialize> codee::Encoder<T> for PageData {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(value: &T) -> Result<String, serde_json::Error> {
        serde_json::to_string(value)
    }
}

impl<T: serde::de::DeserializeOwned> codee::Decoder<T> for PageData {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(encoded: &str) -> Result<T, serde_json::Error> {
        serde_json::from_slice(encoded.as_bytes())
    }
}

/// A page's data: `fetch` (a server function, [`boxed`]) for each value of `source`, written
/// into the page on the server and read back by the client as it hydrates ([`PageData`]).
pub fn page_data<T, S, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetch: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> Resource<T, PageData>
where
    T: serde::Serialize + serde::de::DeserializeOwned + Send + Sync + 'static,
    S: PartialEq + Clone + Send + Sync + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, fetch, false)
}

/// A moment as pages show it: `2026-11-28 21:05 UTC`. Written digit by digit: chrono's
/// `format` (which parses its pattern on every call) and even `format!` with padding took
/// 2,000 instructions a date, 9 % of the artworks list's (sixty dates a page;
/// docs/performance.md).
pub fn when(at: chrono::DateTime<chrono::Utc>) -> String {
    use chrono::{Datelike, Timelike};
    fn digits(out: &mut String, value: u32, width: u32) {
        for place in (0..width).rev() {
            let digit = value / 10u32.pow(place) % 10;
            out.push(char::from(b'0' + digit as u8));
        }
    }
    let mut out = String::with_capacity(20);
    digits(&mut out, at.year().clamp(0, 9999) as u32, 4);
    out.push('-');
    digits(&mut out, at.month(), 2);
    out.push('-');
    digits(&mut out, at.day(), 2);
    out.push(' ');
    digits(&mut out, at.hour(), 2);
    out.push(':');
    digits(&mut out, at.minute(), 2);
    out.push_str(" UTC");
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_moment_reads_as_date_hours_and_minutes_in_utc() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-03-04T05:06:59.9Z").unwrap();
        assert_eq!(super::when(at.to_utc()), "2026-03-04 05:06 UTC");
        let late = chrono::DateTime::parse_from_rfc3339("2026-12-31T23:59:00+00:00").unwrap();
        assert_eq!(super::when(late.to_utc()), "2026-12-31 23:59 UTC");
    }
}
