//! The admin dashboard's reads: users by search and filter, one user's accounts and jobs, and
//! the audit log; all newest first with keyset pagination, so a page costs the same at any
//! depth.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::models::{Session, User};
use super::schema::{account, artwork_jobs, audit_event, session, user};
use crate::views::{Role, Tier, UserFilter};

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

pub struct UserSearch<'a> {
    /// A prefix of the email or the name.
    pub text: Option<&'a str>,
    pub filter: UserFilter,
    pub tier: Option<Tier>,
    /// Oldest first instead of newest first.
    pub oldest_first: bool,
    /// Where the previous page ended.
    pub after: Option<(DateTime<Utc>, String)>,
    pub limit: i64,
}

/// `%` and `_` match literally in a search.
fn prefix_pattern(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("{escaped}%")
}

pub async fn search_users(
    conn: &mut AsyncPgConnection,
    search: &UserSearch<'_>,
) -> QueryResult<Vec<User>> {
    let mut query = user::table.select(User::as_select()).into_boxed();
    if let Some(text) = search.text {
        let email = prefix_pattern(&text.to_lowercase());
        query = query.filter(
            user::email
                .like(email.clone())
                .or(lower(user::name).like(email)),
        );
    }
    query = match search.filter {
        UserFilter::All => query,
        UserFilter::Waiting => query
            .filter(user::is_whitelisted.eq(false))
            .filter(user::banned.eq(false))
            .filter(user::role.ne(Role::Admin.as_str())),
        UserFilter::Whitelisted => query.filter(user::is_whitelisted.eq(true)),
        UserFilter::Banned => query.filter(user::banned.eq(true)),
        UserFilter::Admin => query.filter(user::role.eq(Role::Admin.as_str())),
    };
    if let Some(tier) = search.tier {
        query = query.filter(user::tier.eq(tier.as_str()));
    }
    if let Some((at, id)) = &search.after {
        query = if search.oldest_first {
            query.filter(
                user::created_at
                    .gt(at)
                    .or(user::created_at.eq(at).and(user::id.gt(id.clone()))),
            )
        } else {
            query.filter(
                user::created_at
                    .lt(at)
                    .or(user::created_at.eq(at).and(user::id.lt(id.clone()))),
            )
        };
    }
    query = if search.oldest_first {
        query.order((user::created_at.asc(), user::id.asc()))
    } else {
        query.order((user::created_at.desc(), user::id.desc()))
    };
    query.limit(search.limit).load(conn).await
}

/// How many people wait for access, counting no further than `cap` (so the badge costs the
/// same however long the queue grows).
pub async fn count_waiting(conn: &mut AsyncPgConnection, cap: i64) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let count: Count = diesel::sql_query(
        "SELECT count(*) AS n FROM (SELECT 1 FROM \"user\" \
         WHERE NOT \"isWhitelisted\" AND NOT \"banned\" AND \"role\" <> 'admin' LIMIT $1) AS waiting",
    )
    .bind::<diesel::sql_types::BigInt, _>(cap)
    .get_result(conn)
    .await?;
    Ok(count.n)
}

/// (provider, account id, created) for each way the user signs in.
pub async fn accounts_of(
    conn: &mut AsyncPgConnection,
    user_id: &str,
) -> QueryResult<Vec<(String, String, DateTime<Utc>)>> {
    account::table
        .filter(account::user_id.eq(user_id))
        .order(account::created_at)
        .select((
            account::provider_id,
            account::account_id,
            account::created_at,
        ))
        .load(conn)
        .await
}

/// (job id, status, original URL, created), newest first, at most `limit`.
pub async fn jobs_of(
    conn: &mut AsyncPgConnection,
    user_id: &str,
    limit: i64,
) -> QueryResult<Vec<(String, String, String, DateTime<Utc>)>> {
    artwork_jobs::table
        .filter(artwork_jobs::user_id.eq(user_id))
        .order(artwork_jobs::created_at.desc())
        .select((
            artwork_jobs::job_id,
            artwork_jobs::status,
            artwork_jobs::original_url,
            artwork_jobs::created_at,
        ))
        .limit(limit)
        .load(conn)
        .await
}

/// The user's live sessions.
pub async fn sessions_of(conn: &mut AsyncPgConnection, user_id: &str) -> QueryResult<Vec<Session>> {
    super::sessions::list_live(conn, user_id, Utc::now()).await
}

/// Deletes one session of the given user.
pub async fn delete_session(
    conn: &mut AsyncPgConnection,
    user_id: &str,
    session_id: &str,
) -> QueryResult<usize> {
    diesel::delete(
        session::table
            .filter(session::user_id.eq(user_id))
            .filter(session::id.eq(session_id)),
    )
    .execute(conn)
    .await
}

pub struct AuditSearch<'a> {
    /// The actor's label (email) or `system`/`anonymous`, exactly.
    pub actor: Option<&'a str>,
    /// The target's label (email), exactly.
    pub target: Option<&'a str>,
    pub action: Option<&'a str>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub after: Option<(DateTime<Utc>, String)>,
    pub limit: i64,
}

#[derive(Queryable)]
pub struct AuditEvent {
    pub id: String,
    pub created_at: DateTime<Utc>,
    pub actor_label: String,
    pub action: String,
    pub target_label: Option<String>,
    pub ip_address: Option<String>,
    pub detail: serde_json::Value,
}

pub async fn search_audit(
    conn: &mut AsyncPgConnection,
    search: &AuditSearch<'_>,
) -> QueryResult<Vec<AuditEvent>> {
    let mut query = audit_event::table
        .select((
            audit_event::id,
            audit_event::created_at,
            audit_event::actor_label,
            audit_event::action,
            audit_event::target_label,
            audit_event::ip_address,
            audit_event::detail,
        ))
        .into_boxed();
    if let Some(actor) = search.actor {
        query = query.filter(audit_event::actor_label.eq(actor.to_lowercase()));
    }
    if let Some(target) = search.target {
        query = query.filter(audit_event::target_label.eq(target.to_lowercase()));
    }
    if let Some(action) = search.action {
        query = query.filter(audit_event::action.eq(action.to_string()));
    }
    if let Some(since) = search.since {
        query = query.filter(audit_event::created_at.ge(since));
    }
    if let Some(until) = search.until {
        query = query.filter(audit_event::created_at.lt(until));
    }
    if let Some((at, id)) = &search.after {
        query = query.filter(
            audit_event::created_at.lt(at).or(audit_event::created_at
                .eq(at)
                .and(audit_event::id.lt(id.clone()))),
        );
    }
    query
        .order((audit_event::created_at.desc(), audit_event::id.desc()))
        .limit(search.limit)
        .load(conn)
        .await
}
