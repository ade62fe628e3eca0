//! Artwork addresses an artist submits (`original_url`) and job ids from the backend: what
//! is accepted is an http(s) address with a host and no user name or password, accepted again
//! as it is; an address whose host is an IP address inside the network is refused.
#![no_main]

use gatehouse_app::services::addresses::{check_outside, is_inside};
use gatehouse_app::services::jobs::{image_url, job_id};
use libfuzzer_sys::fuzz_target;
use url::{Host, Url};

fuzz_target!(|data: &[u8]| {
    let Some(text) = gatehouse_fuzz::text(data) else {
        return;
    };
    if let Ok(id) = job_id(text) {
        assert!(!id.is_empty() && id.len() <= 200 && id.is_ascii());
    }
    let Ok(accepted) = image_url("original_url", text) else {
        return;
    };
    assert_eq!(
        image_url("original_url", &accepted).ok().as_deref(),
        Some(accepted.as_str())
    );
    let url = Url::parse(&accepted).unwrap();
    assert!(matches!(url.scheme(), "http" | "https"));
    assert!(url.username().is_empty() && url.password().is_none());
    // Only hosts that need no name lookup: this target never touches the network.
    let inside = match url.host() {
        Some(Host::Ipv4(ip)) => Some(is_inside(ip.into())),
        Some(Host::Ipv6(ip)) => Some(is_inside(ip.into())),
        Some(Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            (name == "localhost" || name.ends_with(".localhost")).then_some(true)
        }
        None => None,
    };
    if let Some(inside) = inside {
        let checked = gatehouse_fuzz::at_once(check_outside(&url, &[]));
        assert_eq!(checked.is_err(), inside, "{url}");
    }
});
