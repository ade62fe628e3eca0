//! Which image addresses an artist may hand to the processing backend, which fetches them.
//! Addresses inside the network (loopback, private ranges, link-local and cloud metadata,
//! CGNAT, multicast, unspecified; IPv4 and IPv6, mapped forms included, however the number is
//! spelled) would let an artist make the backend fetch what only it can reach (SSRF). So would
//! a name that resolves only to such addresses. ARTWORK_URL_ALLOW_HOSTS names an operator's
//! own storage hosts, which pass as they are.
//!
//! The name is resolved when the address is submitted; the backend's fetcher should check
//! again when it connects (a name can resolve differently later).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use url::{Host, Url};

/// How long a name may take to resolve before it is taken as not resolving.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(2);

/// Why an address was refused, in words for the person who typed it.
pub const INSIDE: &str =
    "This address points inside the network, which the artwork service does not fetch from. \
     Use the image's public address.";

/// Whether `url` may be fetched by the backend: `Err` with the reason when it may not.
pub async fn check_outside(url: &Url, allow_hosts: &[String]) -> Result<(), &'static str> {
    let Some(host) = url.host() else {
        return Err(INSIDE);
    };
    let name = url.host_str().unwrap_or_default().to_ascii_lowercase();
    if allow_hosts.contains(&name) {
        return Ok(());
    }
    match host {
        // The URL parser has already read 2130706433, 0x7f.1 and 0177.0.0.1 as 127.0.0.1.
        Host::Ipv4(ip) if is_inside(IpAddr::V4(ip)) => Err(INSIDE),
        Host::Ipv6(ip) if is_inside(IpAddr::V6(ip)) => Err(INSIDE),
        Host::Ipv4(_) | Host::Ipv6(_) => Ok(()),
        Host::Domain(domain) => {
            let domain = domain.trim_end_matches('.').to_ascii_lowercase();
            if domain == "localhost" || domain.ends_with(".localhost") {
                return Err(INSIDE);
            }
            let port = url.port_or_known_default().unwrap_or(443);
            let resolved = tokio::time::timeout(
                RESOLVE_TIMEOUT,
                tokio::net::lookup_host((domain.as_str(), port)),
            )
            .await;
            let addresses: Vec<IpAddr> = match resolved {
                Ok(Ok(found)) => found.map(|a| a.ip()).collect(),
                // A name that does not resolve here points nowhere the backend can reach
                // either; it fails there, not here.
                _ => return Ok(()),
            };
            if !addresses.is_empty() && addresses.iter().all(|ip| is_inside(*ip)) {
                Err(INSIDE)
            } else {
                Ok(())
            }
        }
    }
}

/// Whether `ip` is an address inside a network rather than one on the internet.
pub fn is_inside(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_inside_v4(v4),
        IpAddr::V6(v6) => is_inside_v6(v6),
    }
}

fn is_inside_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local() // 169.254/16: cloud metadata lives here
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // CGNAT, 100.64/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240 // reserved
}

fn is_inside_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_inside_v4(v4);
    }
    let s = ip.segments();
    // NAT64 (64:ff9b::/96) and the deprecated IPv4-compatible form (::a.b.c.d) carry an
    // IPv4 address in their last 32 bits.
    let embedded = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if (s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0; 4]) || s[0..6] == [0; 6] {
        return ip.is_unspecified() || ip.is_loopback() || is_inside_v4(embedded);
    }
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // unique local, fc00::/7
        || (s[0] & 0xffc0) == 0xfe80 // link-local, fe80::/10
        || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated), fec0::/10
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn check(address: &str) -> Result<(), &'static str> {
        check_outside(&Url::parse(address).unwrap(), &[]).await
    }

    #[tokio::test]
    async fn addresses_inside_the_network_are_refused_however_they_are_spelled() {
        for inside in [
            "http://127.0.0.1/a.png",
            "http://127.1/a.png",
            "http://2130706433/a.png",
            "http://0x7f000001/a.png",
            "http://0177.0.0.1/a.png",
            "http://0.0.0.0/a.png",
            "http://10.1.2.3/a.png",
            "http://172.16.0.1/a.png",
            "http://192.168.1.1/a.png",
            "http://169.254.169.254/latest/meta-data/",
            "http://100.64.0.1/a.png",
            "http://224.0.0.1/a.png",
            "http://255.255.255.255/a.png",
            "http://[::1]/a.png",
            "http://[::]/a.png",
            "http://[::ffff:127.0.0.1]/a.png",
            "http://[::ffff:a9fe:a9fe]/a.png",
            "http://[64:ff9b::10.0.0.1]/a.png",
            "http://[::127.0.0.1]/a.png",
            "http://[fd00::1]/a.png",
            "http://[fe80::1]/a.png",
            "http://[ff02::1]/a.png",
            "http://localhost/a.png",
            "http://LOCALHOST./a.png",
            "http://images.localhost/a.png",
        ] {
            assert_eq!(check(inside).await, Err(INSIDE), "{inside}");
        }
        for outside in [
            "https://203.0.113.0.example/a.png",
            "http://8.8.8.8/a.png",
            "http://[2606:4700::1111]/a.png",
            "http://[64:ff9b::8.8.8.8]/a.png",
            "https://cdn.example/a.png",
        ] {
            assert_eq!(check(outside).await, Ok(()), "{outside}");
        }
    }

    #[tokio::test]
    async fn an_operators_own_storage_hosts_are_allowed() {
        let allowed = vec!["minio.internal".to_string(), "10.0.0.5".to_string()];
        for address in ["http://minio.internal/a.png", "http://10.0.0.5:9000/a.png"] {
            let url = Url::parse(address).unwrap();
            assert_eq!(check_outside(&url, &allowed).await, Ok(()), "{address}");
        }
        let other = Url::parse("http://10.0.0.6/a.png").unwrap();
        assert_eq!(check_outside(&other, &allowed).await, Err(INSIDE));
    }

    #[tokio::test]
    async fn a_name_that_resolves_only_inside_is_refused() {
        // A name this machine resolves to itself: its own host name (mapped to 127.0.0.1 or
        // 127.0.1.1 in /etc/hosts on Debian), or Debian's ip6-localhost.
        let own = std::process::Command::new("hostname")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default();
        for name in [own.as_str(), "ip6-localhost"] {
            let resolved: Vec<IpAddr> = match tokio::net::lookup_host((name, 80)).await {
                Ok(found) => found.map(|a| a.ip()).collect(),
                Err(_) => continue,
            };
            if name.is_empty() || resolved.is_empty() || !resolved.iter().all(|ip| is_inside(*ip)) {
                continue;
            }
            let address = format!("http://{name}/a.png");
            assert_eq!(check(&address).await, Err(INSIDE), "{name} → {resolved:?}");
            return;
        }
        eprintln!("no name resolves only to this machine here: the resolving check is not tried");
    }
}
