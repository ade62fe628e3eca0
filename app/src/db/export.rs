//! What a person's data export reads about them: every row that is theirs, without a secret
//! (no token, password hash, key or recovery code is ever selected).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::{account, artwork_jobs, audit_event, passkey};

/// A connected sign-in method: (provider id, the provider's account id, scope, connected at).
pub type AccountRow = (String, String, Option<String>, DateTime<Utc>);

/// A passkey: (id, name, device type, backed up, added at, last used at).
pub type PasskeyRow = (
    String,
    Option<String>,
    String,
    bool,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

/// An artwork job: (job id, status, original, protected, submitted at, updated at).
pub type JobRow = (
    String,
    String,
    String,
    Option<String>,
    DateTime<Utc>,
    DateTime<Utc>,
);

/// An audit event about the person: (id, when, actor's user id, actor's label, action,
/// address, browser, detail).
pub type EventRow = (
    String,
    DateTime<Utc>,
    Option<String>,
    String,
    String,
    Option<String>,
    Option<String>,
    serde_json::Value,
);

pub async fn accounts(conn: &mut AsyncPgConnection, user_id: &str) -> QueryResult<Vec<AccountRow>> {
    account::table
        .filter(account::user_id.eq(user_id))
        .order(account::created_at)
        .select((
            account::provider_id,
            account::account_id,
            account::scope,
            account::created_at,
        ))
        .load(conn)
        .await
}

pub async fn passkeys(conn: &mut AsyncPgConnection, user_id: &str) -> QueryResult<Vec<PasskeyRow>> {
    passkey::table
        .filter(passkey::user_id.eq(user_id))
        .order(passkey::created_at)
        .select((
            passkey::id,
            passkey::name,
            passkey::device_type,
            passkey::backed_up,
            passkey::created_at,
            passkey::last_used_at,
        ))
        .load(conn)
        .await
}

pub async fn jobs(conn: &mut AsyncPgConnection, user_id: &str) -> QueryResult<Vec<JobRow>> {
    artwork_jobs::table
        .filter(artwork_jobs::user_id.eq(user_id))
        .order((artwork_jobs::created_at, artwork_jobs::id))
        .select((
            artwork_jobs::job_id,
            artwork_jobs::status,
            artwork_jobs::original_url,
            artwork_jobs::protected_url,
            artwork_jobs::created_at,
            artwork_jobs::updated_at,
        ))
        .load(conn)
        .await
}

/// The events whose target is the person, oldest first.
pub async fn events(conn: &mut AsyncPgConnection, user_id: &str) -> QueryResult<Vec<EventRow>> {
    audit_event::table
        .filter(audit_event::target_user_id.eq(user_id))
        .order((audit_event::created_at, audit_event::id))
        .select((
            audit_event::id,
            audit_event::created_at,
            audit_event::actor_user_id,
            audit_event::actor_label,
            audit_event::action,
            audit_event::ip_address,
            audit_event::user_agent,
            audit_event::detail,
        ))
        .load(conn)
        .await
}
