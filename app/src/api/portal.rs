//! What people who have been let in see. Every function here checks access on the server:
//! 401 without a session, 403 while waiting for an admin.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::request::{require_access, services};
use super::AppError;
use crate::views::Overview;

/// The home page's summary of the caller's own artwork jobs.
#[server(endpoint = "my-overview")]
pub async fn my_overview() -> Result<Overview, AppError> {
    let current = require_access().await?;
    crate::services::jobs::overview(&services()?, &current)
        .await
        .map_err(AppError::from)
}
