//! The client's address from X-Forwarded-For (behind `hops` trusted proxies), the origin a
//! request says it comes from (Origin, Referer), and the device a User-Agent names: an
//! address is an IP address (the peer's, or one of the header's entries) or none.
//!
//! Input, one a line: the peer's address (or anything: none), the hops (a digit),
//! X-Forwarded-For, Origin, Referer, User-Agent (an empty line: no such header).
#![no_main]

use std::net::IpAddr;

use axum::http::{header, HeaderMap, HeaderValue};
use gatehouse::routes::fuzzing::sent_origin;
use gatehouse_app::services::audit::client_address;
use gatehouse_app::services::sessions::describe_device;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(text) = gatehouse_fuzz::text(data) else {
        return;
    };
    let mut lines = text.splitn(6, '\n');
    let mut line = || lines.next().unwrap_or_default();
    let peer: Option<IpAddr> = line().parse().ok();
    let hops = line().bytes().next().map_or(0, |b| usize::from(b % 4));
    let forwarded_for = line();
    let (origin, referer, user_agent) = (line(), line(), line());

    let address = client_address(peer, forwarded_for, hops);
    let peer_text = peer.map(|ip| ip.to_string());
    match &address {
        None => assert!(peer.is_none()),
        Some(address) => {
            let ip: IpAddr = address.parse().expect("a client address is an IP address");
            assert_eq!(&ip.to_string(), address, "written as Rust writes it");
            let from_header = forwarded_for
                .split(',')
                .any(|entry| entry.trim().parse::<IpAddr>().is_ok_and(|e| e == ip));
            assert!(peer_text.as_ref() == Some(address) || (hops > 0 && from_header));
        }
    }
    if hops == 0 {
        assert_eq!(address, peer_text);
    }

    let mut headers = HeaderMap::new();
    for (name, value) in [(header::ORIGIN, origin), (header::REFERER, referer)] {
        if let (false, Ok(value)) = (value.is_empty(), HeaderValue::from_str(value)) {
            headers.insert(name, value);
        }
    }
    if let Some(origin) = sent_origin(&headers) {
        if !headers.contains_key(header::ORIGIN) {
            // From a Referer: an origin alone, no path, query or user.
            assert!(!origin.contains('@') && !origin.contains('?') && !origin.contains('#'));
        }
    }
    let agent = (!user_agent.is_empty()).then_some(user_agent);
    assert!(!describe_device(agent).is_empty());
});
