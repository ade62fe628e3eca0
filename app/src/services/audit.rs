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
                Actor::Anonymous => "anonymous",
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
