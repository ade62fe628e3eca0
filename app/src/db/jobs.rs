//! The `artwork_jobs` table.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::artwork_jobs;

pub async fn count_of(conn: &mut AsyncPgConnection, user_id: &str) -> QueryResult<i64> {
    artwork_jobs::table
        .filter(artwork_jobs::user_id.eq(user_id))
        .count()
        .get_result(conn)
        .await
}
