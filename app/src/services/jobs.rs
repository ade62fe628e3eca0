//! Artwork jobs, as their owner sees them.

use super::{ServiceError, Services};
use crate::db::admin::jobs_of;
use crate::db::models::User;
use crate::model::{JobSummary, Overview};

/// How many jobs the user owns, and the five newest.
pub async fn overview(services: &Services, user: &User) -> Result<Overview, ServiceError> {
    let mut conn = services.pool.get().await?;
    let total = crate::db::jobs::count_of(&mut conn, &user.id).await?;
    let latest = jobs_of(&mut conn, &user.id, 5)
        .await?
        .into_iter()
        .map(|(job_id, status, original_url, created_at)| JobSummary {
            job_id,
            status,
            original_url,
            created_at,
        })
        .collect();
    Ok(Overview { total, latest })
}
