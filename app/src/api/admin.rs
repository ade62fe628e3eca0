//! The admin dashboard's server functions. Each checks on the server that the caller is an
//! admin; anyone else gets 404, as if there were nothing here.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::server::{origin, redirect, require_admin, services};
use super::AppError;
use crate::model::{AuditPage, JobPage, UserDetail, UserPage};
#[cfg(feature = "ssr")]
use crate::services::admin::{self, Change};
#[cfg(feature = "ssr")]
use crate::services::audit::Actor;

#[server(endpoint = "admin/users")]
pub async fn admin_users(
    #[server(default)] q: String,
    #[server(default)] filter: String,
    #[server(default)] tier: String,
    #[server(default)] oldest_first: bool,
    #[server(default)] after: String,
) -> Result<UserPage, AppError> {
    require_admin().await?;
    admin::list_users(&services()?, &q, &filter, &tier, oldest_first, &after)
        .await
        .map_err(AppError::from)
}

#[server(endpoint = "admin/user")]
pub async fn admin_user(#[server(default)] id: String) -> Result<UserDetail, AppError> {
    require_admin().await?;
    admin::user_detail(&services()?, &id)
        .await
        .map_err(AppError::from)
}

#[cfg(feature = "ssr")]
async fn apply(id: &str, change: Change, notice: &str) -> Result<(), AppError> {
    let admin = require_admin().await?;
    let actor = Actor::User(&admin.user.id, &admin.user.email);
    admin::change(&services()?, actor, id, change, &origin())
        .await
        .map_err(AppError::from)?;
    redirect(&format!("/admin/users/{id}?notice={notice}"));
    Ok(())
}

/// `on`: "true" lets the user in, "false" takes access away (and ends their sessions).
#[server(endpoint = "admin/set-whitelist")]
pub async fn set_whitelist(
    #[server(default)] id: String,
    #[server(default)] on: bool,
) -> Result<(), AppError> {
    apply(&id, Change::Whitelist(on), "access").await
}

#[server(endpoint = "admin/set-role")]
pub async fn set_role(
    #[server(default)] id: String,
    #[server(default)] role: String,
) -> Result<(), AppError> {
    apply(&id, Change::Role(role), "role").await
}

#[server(endpoint = "admin/set-tier")]
pub async fn set_tier(
    #[server(default)] id: String,
    #[server(default)] tier: String,
) -> Result<(), AppError> {
    apply(&id, Change::Tier(tier), "tier").await
}

#[server(endpoint = "admin/ban")]
pub async fn ban_user(
    #[server(default)] id: String,
    #[server(default)] reason: String,
) -> Result<(), AppError> {
    apply(&id, Change::Ban(Some(reason)), "banned").await
}

#[server(endpoint = "admin/unban")]
pub async fn unban_user(#[server(default)] id: String) -> Result<(), AppError> {
    apply(&id, Change::Ban(None), "unbanned").await
}

#[server(endpoint = "admin/end-session")]
pub async fn admin_end_session(
    #[server(default)] id: String,
    #[server(default)] session: String,
) -> Result<(), AppError> {
    let admin = require_admin().await?;
    admin::end_session(&services()?, &admin.user, &id, &session, &origin())
        .await
        .map_err(AppError::from)?;
    redirect(&format!("/admin/users/{id}?notice=session"));
    Ok(())
}

/// Deletes a user; `confirm` must be their email address.
#[server(endpoint = "admin/delete-user")]
pub async fn delete_user(
    #[server(default)] id: String,
    #[server(default)] confirm: String,
) -> Result<(), AppError> {
    let admin = require_admin().await?;
    admin::delete_user(&services()?, &admin.user, &id, &confirm, &origin())
        .await
        .map_err(|e| AppError::from(e).keeping(&[("confirm", &confirm)]))?;
    redirect("/admin?notice=deleted");
    Ok(())
}

/// Lets in every selected waiting person (checkboxes `ids[0]`, `ids[1]`, …).
#[server(endpoint = "admin/bulk-whitelist")]
pub async fn bulk_whitelist(#[server(default)] ids: Vec<String>) -> Result<usize, AppError> {
    let admin = require_admin().await?;
    let changed = admin::bulk_whitelist(&services()?, &admin.user, &ids, &origin())
        .await
        .map_err(AppError::from)?;
    redirect(&format!("/admin?filter=waiting&notice=let-in-{changed}"));
    Ok(changed)
}

#[server(endpoint = "admin/audit")]
pub async fn audit_log(
    #[server(default)] actor: String,
    #[server(default)] target: String,
    #[server(default)] action: String,
    #[server(default)] since: String,
    #[server(default)] until: String,
    #[server(default)] after: String,
) -> Result<AuditPage, AppError> {
    require_admin().await?;
    admin::audit_log(
        &services()?,
        &actor,
        &target,
        &action,
        &since,
        &until,
        &after,
    )
    .await
    .map_err(AppError::from)
}

/// Jobs nobody owns yet.
#[server(endpoint = "admin/unowned-jobs")]
pub async fn unowned_jobs(#[server(default)] after: String) -> Result<JobPage, AppError> {
    require_admin().await?;
    crate::services::jobs::unowned(&services()?, &after)
        .await
        .map_err(AppError::from)
}

/// Gives a job (unowned, or someone else's) to the user with this email.
#[server(endpoint = "admin/assign-job")]
pub async fn assign_job(
    #[server(default)] job_id: String,
    #[server(default)] email: String,
) -> Result<(), AppError> {
    let admin = require_admin().await?;
    let actor = Actor::User(&admin.user.id, &admin.user.email);
    crate::services::jobs::assign(&services()?, actor, &job_id, &email, &origin())
        .await
        .map_err(|e| AppError::from(e).keeping(&[("email", &email)]))?;
    redirect("/admin/jobs?notice=assigned");
    Ok(())
}
