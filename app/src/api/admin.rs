//! The admin dashboard's server functions. Each checks on the server that the caller is an
//! admin; anyone else gets 404, as if there were nothing here.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::request::{choice, invalid, origin, page_query, redirect, require_admin, services};
use super::AppError;
#[cfg(feature = "ssr")]
use crate::services::admin::{self, Change};
#[cfg(feature = "ssr")]
use crate::views::Notice;
use crate::views::{AuditPage, JobPage, UserDetail, UserPage};
#[cfg(feature = "ssr")]
use crate::views::{Role, Tier, UserFilter, UsersView};

#[server(endpoint = "admin/users")]
pub async fn admin_users(
    #[server(default)] q: String,
    #[server(default)] filter: String,
    #[server(default)] tier: String,
    #[server(default)] oldest_first: bool,
    #[server(default)] after: String,
) -> Result<UserPage, AppError> {
    let admin = require_admin().await?;
    // The list's view as the page's address names it, for the next page's link.
    let view = UsersView {
        q: q.clone(),
        filter: filter.clone(),
        tier: tier.clone(),
        order: if oldest_first {
            "oldest".into()
        } else {
            String::new()
        },
    };
    let filter = choice(
        &filter,
        UserFilter::parse,
        "filter",
        "Choose one of the listed filters.",
    )?
    .unwrap_or(UserFilter::All);
    let tier = choice(
        &tier,
        Tier::parse,
        "tier",
        "Choose one of the listed tiers.",
    )?;
    let services = services()?;
    let (mut page, cards) = tokio::try_join!(
        admin::list_users(&services, &q, filter, tier, oldest_first, &after),
        dashboard_cards(&services, &admin)
    )?;
    // The next page's link is written here too: as a view of its own it cost the client's
    // module (which has a size budget) what the cards' element now does.
    let next = page.next.as_ref().map(|after| {
        format!(
            r#"<p><a href="{}" rel="next">Next page</a></p>"#,
            crate::components::form::escaped(&view.href(&[("after", after)]))
        )
    });
    page.cards = next.unwrap_or_default() + &cards;
    Ok(page)
}

/// The dashboard's cards written on the server (`components::admin_cards`): invitations,
/// and failing webhook deliveries when there are webhooks. An invitation form's outcome comes
/// back as the page's own query (`?invite=CODE`, `?invite_result=ID`), read where the page
/// is rendered; a later call from the browser has none, and the card shows no stale one.
#[cfg(feature = "ssr")]
async fn dashboard_cards(
    services: &crate::services::Services,
    admin: &crate::services::sessions::SignedIn,
) -> Result<String, crate::services::Refusal> {
    use crate::components::admin_cards;
    use crate::services::{invitations, webhooks};
    let code = page_query("invite").unwrap_or_default();
    let kept = match page_query("invite_result") {
        Some(id) => invitations::kept_outcomes(services, admin, &id).await?,
        None => None,
    };
    let pending = invitations::pending(services).await?;
    let mut cards = admin_cards::invitations_card(&code, kept.as_deref(), &pending);
    let failing = webhooks::failing(services).await?;
    if services.webhooks.is_some() || !failing.is_empty() {
        cards.push_str(&admin_cards::failing_deliveries_card(&failing));
    }
    Ok(cards)
}

#[server(endpoint = "admin/user")]
pub async fn admin_user(#[server(default)] id: String) -> Result<UserDetail, AppError> {
    require_admin().await?;
    admin::user_detail(&services()?, &id)
        .await
        .map_err(AppError::from)
}

/// A change to one user, one server function for the user's page (each function a page posts
/// to costs the client about 2 KB of its budget), by `change`: `access` (`on`: "true" lets
/// them in, "false" takes access away and ends their sessions), `role`, `tier`, `ban` (with
/// a `reason`), `unban`, or `reset-two-factor` (for someone who lost their device).
#[server(endpoint = "admin/change")]
pub async fn change_user(
    #[server(default)] id: String,
    #[server(default)] change: String,
    #[server(default)] on: bool,
    #[server(default)] role: String,
    #[server(default)] tier: String,
    #[server(default)] reason: String,
) -> Result<(), AppError> {
    let admin = require_admin().await?;
    let (change, notice) = match change.as_str() {
        "access" => (Change::Whitelist(on), Notice::AccessChanged),
        "role" => {
            let role =
                Role::parse(&role).ok_or_else(|| invalid("role", "Choose user or admin.", &[]))?;
            (Change::Role(role), Notice::RoleChanged)
        }
        "tier" => {
            let tier = Tier::parse(&tier)
                .ok_or_else(|| invalid("tier", "Choose anonymous, free or member.", &[]))?;
            (Change::Tier(tier), Notice::TierChanged)
        }
        "ban" => (Change::Ban(Some(reason)), Notice::Banned),
        "unban" => (Change::Ban(None), Notice::Unbanned),
        "reset-two-factor" => (Change::ResetTwoFactor, Notice::TwoFactorReset),
        _ => {
            return Err(invalid(
                "change",
                "Choose access, role, tier, ban, unban or reset-two-factor.",
                &[],
            ))
        }
    };
    admin::change(&services()?, admin.actor(), &id, change, &origin())
        .await
        .map_err(AppError::from)?;
    redirect(&notice.after(&format!("/admin/users/{id}")));
    Ok(())
}

#[server(endpoint = "admin/end-session")]
pub async fn admin_end_session(
    #[server(default)] id: String,
    #[server(default)] session: String,
) -> Result<(), AppError> {
    let admin = require_admin().await?;
    admin::end_session(&services()?, &admin, &id, &session, &origin())
        .await
        .map_err(AppError::from)?;
    redirect(&Notice::UserSessionEnded.after(&format!("/admin/users/{id}")));
    Ok(())
}

/// Deletes a user; `confirm` must be their email address.
#[server(endpoint = "admin/delete-user")]
pub async fn delete_user(
    #[server(default)] id: String,
    #[server(default)] confirm: String,
) -> Result<(), AppError> {
    let admin = require_admin().await?;
    admin::delete_user(&services()?, &admin, &id, &confirm, &origin())
        .await
        .map_err(|e| AppError::from(e).keeping(&[("confirm", &confirm)]))?;
    redirect(&Notice::UserDeleted.after("/admin"));
    Ok(())
}

/// Lets in every selected waiting person (checkboxes `ids[0]`, `ids[1]`, …, or one row's
/// button), then shows the list again as it was: `back` is the list's query
/// ([`UsersView::query`]); only the view's own parameters are kept from it.
#[server(endpoint = "admin/bulk-whitelist")]
pub async fn bulk_whitelist(
    #[server(default)] ids: Vec<String>,
    #[server(default)] back: String,
) -> Result<usize, AppError> {
    let admin = require_admin().await?;
    let changed = admin::bulk_whitelist(&services()?, &admin, &ids, &origin())
        .await
        .map_err(AppError::from)?;
    let view = UsersView::read(|name| {
        url::form_urlencoded::parse(back.as_bytes())
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
            .unwrap_or_default()
    });
    let notice = format!("{}-{changed}", Notice::LetIn.code());
    redirect(&view.href(&[("notice", &notice)]));
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
    crate::services::jobs::assign(&services()?, admin.actor(), &job_id, &email, &origin())
        .await
        .map_err(|e| AppError::from(e).keeping(&[("email", &email)]))?;
    redirect(&Notice::JobAssigned.after("/admin/jobs"));
    Ok(())
}
