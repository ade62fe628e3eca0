//! The audit log: who did what to whom, when, from where. Append-only.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;

use crate::db::models::new_id;
use crate::db::schema::audit_event;

/// Where a request came from.
#[derive(Clone, Debug, Default)]
pub struct Origin {
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
}

/// The client's address: the TCP peer, or, behind `hops` trusted proxies that each append to
/// X-Forwarded-For (all its lines joined in order), the address the outermost of them saw.
/// Entries further left were written by the client and prove nothing, so they are never used.
pub fn client_address(
    peer: Option<std::net::IpAddr>,
    forwarded_for: &str,
    hops: usize,
) -> Option<String> {
    if hops > 0 {
        let entries: Vec<&str> = forwarded_for
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .collect();
        if let Some(entry) = entries.len().checked_sub(hops).and_then(|i| entries.get(i)) {
            if let Ok(ip) = entry.parse::<std::net::IpAddr>() {
                return Some(ip.to_string());
            }
        }
    }
    peer.map(|ip| ip.to_string())
}

/// Who did it.
#[derive(Clone, Copy, Debug)]
pub enum Actor<'a> {
    /// A user: (id, email).
    User(&'a str, &'a str),
    /// Someone not signed in.
    Anonymous,
    /// Gatehouse itself, for a reason: `allowlist`, `command line`, …
    System(&'a str),
}

/// The label of an event by someone not signed in.
pub const ANONYMOUS: &str = "anonymous";

/// One event. The target is (user id, label); labels (an email, or what the system was)
/// keep the record readable after the user is gone.
pub struct Event<'a> {
    pub action: &'a str,
    pub actor: Actor<'a>,
    pub target: Option<(&'a str, &'a str)>,
    pub detail: Value,
}

pub async fn record(
    conn: &mut AsyncPgConnection,
    event: Event<'_>,
    origin: &Origin,
) -> QueryResult<()> {
    diesel::insert_into(audit_event::table)
        .values((
            audit_event::id.eq(new_id()),
            // The moment of the event, not the start of its transaction.
            audit_event::created_at.eq(chrono::Utc::now()),
            audit_event::actor_user_id.eq(match event.actor {
                Actor::User(id, _) => Some(id),
                _ => None,
            }),
            audit_event::actor_label.eq(match event.actor {
                Actor::User(_, label) | Actor::System(label) => label,
                Actor::Anonymous => ANONYMOUS,
            }),
            audit_event::action.eq(event.action),
            audit_event::target_user_id.eq(event.target.map(|t| t.0)),
            audit_event::target_label.eq(event.target.map(|t| t.1)),
            audit_event::ip_address.eq(origin.ip_address.as_deref()),
            audit_event::user_agent.eq(origin.user_agent.as_deref()),
            audit_event::detail.eq(event.detail),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// Records what `actor` did (to `target`, a (user id, label) pair, if anyone).
pub async fn record_as(
    conn: &mut AsyncPgConnection,
    actor: Actor<'_>,
    target: Option<(&str, &str)>,
    action: &str,
    detail: Value,
    origin: &Origin,
) -> QueryResult<()> {
    let event = Event {
        action,
        actor,
        target,
        detail,
    };
    record(conn, event, origin).await
}

#[cfg(test)]
mod tests {
    use super::client_address;

    #[test]
    fn forwarded_addresses_count_only_behind_trusted_proxies() {
        let peer = Some("10.0.0.1".parse().unwrap());
        let xff = "6.6.6.6, 203.0.113.9";
        assert_eq!(
            client_address(peer, xff, 0).as_deref(),
            Some("10.0.0.1"),
            "trust none: spoofing does nothing"
        );
        assert_eq!(client_address(peer, xff, 1).as_deref(), Some("203.0.113.9"));
        assert_eq!(client_address(peer, xff, 2).as_deref(), Some("6.6.6.6"));
        assert_eq!(
            client_address(peer, xff, 3).as_deref(),
            Some("10.0.0.1"),
            "fewer entries than hops"
        );
        assert_eq!(
            client_address(peer, "not-an-ip", 1).as_deref(),
            Some("10.0.0.1")
        );
        assert_eq!(client_address(peer, "", 1).as_deref(), Some("10.0.0.1"));
    }
}
