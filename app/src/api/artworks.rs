//! The artist's own artwork jobs. Whitelisted people only; a job that is not theirs is 404,
//! exactly like one that does not exist.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::request::{choice, origin, redirect, require_access, services};
use super::AppError;
#[cfg(feature = "ssr")]
use crate::services::jobs;
#[cfg(feature = "ssr")]
use crate::views::JobStatus;
#[cfg(feature = "ssr")]
use crate::views::Notice;
use crate::views::{JobDetail, JobPage};

#[server(endpoint = "my-jobs")]
pub async fn my_jobs(
    #[server(default)] status: String,
    #[server(default)] after: String,
) -> Result<JobPage, AppError> {
    let current = require_access().await?;
    let status = choice(
        &status,
        JobStatus::parse,
        "status",
        "Choose queued, processing, done or failed.",
    )?;
    jobs::list_mine(&services()?, &current, status, &after)
        .await
        .map_err(AppError::from)
}

#[server(endpoint = "my-job")]
pub async fn my_job(#[server(default)] job_id: String) -> Result<JobDetail, AppError> {
    let current = require_access().await?;
    jobs::get_mine(&services()?, &current, &job_id)
        .await
        .map_err(AppError::from)
}

#[server(endpoint = "submit-artwork")]
pub async fn submit_artwork(#[server(default)] original_url: String) -> Result<String, AppError> {
    let current = require_access().await?;
    let job = jobs::submit(&services()?, &current, &original_url, &origin())
        .await
        .map_err(|e| AppError::from(e).keeping(&[("original_url", &original_url)]))?;
    redirect(&Notice::Submitted.after("/artworks"));
    Ok(job.job_id)
}
