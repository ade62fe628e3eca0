//! The artist's own artwork jobs. Whitelisted people only; a job that is not theirs is 404,
//! exactly like one that does not exist.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::server::{origin, redirect, require_access, services};
use super::AppError;
use crate::model::{JobDetail, JobPage};
#[cfg(feature = "ssr")]
use crate::services::jobs;

#[server(endpoint = "my-jobs")]
pub async fn my_jobs(
    #[server(default)] status: String,
    #[server(default)] after: String,
) -> Result<JobPage, AppError> {
    let current = require_access().await?;
    jobs::list_mine(&services()?, &current.user, &status, &after)
        .await
        .map_err(AppError::from)
}

#[server(endpoint = "my-job")]
pub async fn my_job(#[server(default)] job_id: String) -> Result<JobDetail, AppError> {
    let current = require_access().await?;
    jobs::get_mine(&services()?, &current.user, &job_id)
        .await
        .map_err(AppError::from)
}

#[server(endpoint = "submit-artwork")]
pub async fn submit_artwork(#[server(default)] original_url: String) -> Result<String, AppError> {
    let current = require_access().await?;
    let job = jobs::submit(&services()?, &current.user, &original_url, &origin())
        .await
        .map_err(|e| AppError::from(e).keeping(&[("original_url", &original_url)]))?;
    redirect("/artworks?notice=submitted");
    Ok(job.job_id)
}
