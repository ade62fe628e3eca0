//! The `artwork_jobs` table.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::models::new_id;
use super::schema::{artwork_jobs, audit_event};

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = artwork_jobs, check_for_backend(diesel::pg::Pg))]
pub struct Job {
    pub id: String,
    pub job_id: String,
    pub original_url: String,
    pub protected_url: Option<String>,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub user_id: Option<String>,
}

pub async fn count_of(mut conn: &AsyncPgConnection, user_id: &str) -> QueryResult<i64> {
    artwork_jobs::table
        .filter(artwork_jobs::user_id.eq(user_id))
        .count()
        .get_result(&mut conn)
        .await
}

/// One page of jobs, newest first: the owner's (`Some`), or nobody's (`None`).
pub async fn page(
    mut conn: &AsyncPgConnection,
    owner: Option<&str>,
    status: Option<&str>,
    after: Option<(DateTime<Utc>, String)>,
    limit: i64,
) -> QueryResult<Vec<Job>> {
    let mut query = artwork_jobs::table.select(Job::as_select()).into_boxed();
    query = match owner {
        Some(owner) => query.filter(artwork_jobs::user_id.eq(owner.to_string())),
        None => query.filter(artwork_jobs::user_id.is_null()),
    };
    if let Some(status) = status {
        query = query.filter(artwork_jobs::status.eq(status.to_string()));
    }
    if let Some((at, id)) = after {
        query = query.filter(
            artwork_jobs::created_at
                .lt(at)
                .or(artwork_jobs::created_at.eq(at).and(artwork_jobs::id.lt(id))),
        );
    }
    query
        .order((artwork_jobs::created_at.desc(), artwork_jobs::id.desc()))
        .limit(limit)
        .load(&mut conn)
        .await
}

/// The job with this `job_id`, whoever owns it.
pub async fn find(conn: &mut AsyncPgConnection, job_id: &str) -> QueryResult<Option<Job>> {
    artwork_jobs::table
        .filter(artwork_jobs::job_id.eq(job_id))
        .select(Job::as_select())
        .first(conn)
        .await
        .optional()
}

/// The job, locked until the transaction ends.
pub async fn lock(conn: &mut AsyncPgConnection, job_id: &str) -> QueryResult<Option<Job>> {
    artwork_jobs::table
        .filter(artwork_jobs::job_id.eq(job_id))
        .select(Job::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Inserts a job; `None` when the job id is taken.
pub async fn insert(
    conn: &mut AsyncPgConnection,
    job_id: &str,
    user_id: Option<&str>,
    original_url: &str,
    status: &str,
) -> QueryResult<Option<Job>> {
    diesel::insert_into(artwork_jobs::table)
        .values((
            artwork_jobs::id.eq(new_id()),
            artwork_jobs::job_id.eq(job_id),
            artwork_jobs::user_id.eq(user_id),
            artwork_jobs::original_url.eq(original_url),
            artwork_jobs::status.eq(status),
        ))
        .on_conflict_do_nothing()
        .returning(Job::as_returning())
        .get_result(conn)
        .await
        .optional()
}

pub async fn set_status(
    conn: &mut AsyncPgConnection,
    job_id: &str,
    status: &str,
    protected_url: Option<&str>,
) -> QueryResult<usize> {
    diesel::update(artwork_jobs::table.filter(artwork_jobs::job_id.eq(job_id)))
        .set((
            artwork_jobs::status.eq(status),
            artwork_jobs::protected_url.eq(protected_url),
            artwork_jobs::updated_at.eq(Utc::now()),
        ))
        .execute(conn)
        .await
}

pub async fn set_owner(
    conn: &mut AsyncPgConnection,
    job_id: &str,
    user_id: &str,
) -> QueryResult<usize> {
    diesel::update(artwork_jobs::table.filter(artwork_jobs::job_id.eq(job_id)))
        .set((
            artwork_jobs::user_id.eq(user_id),
            artwork_jobs::updated_at.eq(Utc::now()),
        ))
        .execute(conn)
        .await
}

/// (when, action, detail) of the audit events about one job, oldest first.
pub async fn history(
    conn: &mut AsyncPgConnection,
    job_id: &str,
) -> QueryResult<Vec<(DateTime<Utc>, String, serde_json::Value)>> {
    diesel::sql_query(
        "SELECT created_at, action, detail FROM audit_event \
         WHERE detail ? 'job_id' AND detail ->> 'job_id' = $1 ORDER BY created_at, id",
    )
    .bind::<diesel::sql_types::Text, _>(job_id)
    .load::<HistoryRow>(conn)
    .await
    .map(|rows| {
        rows.into_iter()
            .map(|r| (r.created_at, r.action, r.detail))
            .collect()
    })
}

#[derive(QueryableByName)]
#[diesel(table_name = audit_event)]
struct HistoryRow {
    created_at: DateTime<Utc>,
    action: String,
    detail: serde_json::Value,
}

/// The job stored under row `id` (what a change's announcement names), whoever owns it.
pub async fn find_by_row(mut conn: &AsyncPgConnection, id: &str) -> QueryResult<Option<Job>> {
    artwork_jobs::table
        .find(id)
        .select(Job::as_select())
        .first(&mut conn)
        .await
        .optional()
}

/// The owner's jobs (or the one with `job_id`) changed at or after `since`, oldest change
/// first, at most `limit`.
pub async fn changed_since(
    mut conn: &AsyncPgConnection,
    owner: &str,
    job_id: Option<&str>,
    since: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<Job>> {
    let mut query = artwork_jobs::table
        .select(Job::as_select())
        .filter(artwork_jobs::user_id.eq(owner.to_string()))
        .filter(artwork_jobs::updated_at.ge(since))
        .into_boxed();
    if let Some(job_id) = job_id {
        query = query.filter(artwork_jobs::job_id.eq(job_id.to_string()));
    }
    query
        .order((artwork_jobs::updated_at.asc(), artwork_jobs::id.asc()))
        .limit(limit)
        .load(&mut conn)
        .await
}
