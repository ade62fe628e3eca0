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

/// One event. `actor` and `target` are (user id, label); the label (an email, or `system`)
/// keeps the record readable after the user is gone.
pub struct Event<'a> {
    pub action: &'a str,
    pub actor: Option<(&'a str, &'a str)>,
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
            audit_event::actor_user_id.eq(event.actor.map(|a| a.0)),
            audit_event::actor_label.eq(event.actor.map_or("anonymous", |a| a.1)),
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
