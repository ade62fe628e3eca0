//! The users an admin sees: the list (searched, filtered, paged) and one user.

use super::*;
use crate::db::admin::{self as queries, UserSearch};
use crate::db::users;
use crate::services::paging;
use crate::services::sessions::describe_device;
use crate::services::{Refusal, Services};
use crate::views::{
    ConnectedAccount, JobSummary, SessionView, Tier, UserDetail, UserFilter, UserPage, WAITING_CAP,
};

/// The users table: a search, a filter and a tier, newest first or oldest first.
pub async fn list_users(
    services: &Services,
    text: &str,
    filter: UserFilter,
    tier: Option<Tier>,
    oldest_first: bool,
    after: &str,
) -> Result<UserPage, Refusal> {
    let text = text.trim();
    if text.chars().count() > 254 {
        return Err(Refusal::invalid("q", "Search for at most 254 characters."));
    }
    let after = paging::parse_cursor(after)?;
    let mut conn = services.pool.get().await?;
    let rows = queries::search_users(
        &mut conn,
        &UserSearch {
            text: (!text.is_empty()).then_some(text),
            filter,
            tier,
            oldest_first,
            after,
            limit: PAGE_SIZE + 1,
        },
    )
    .await?;
    let (rows, next) = paging::split(rows, PAGE_SIZE, |u| (u.created_at, &u.id));
    Ok(UserPage {
        rows: rows.into_iter().map(row).collect(),
        next,
        waiting: queries::count_waiting(&mut conn, WAITING_CAP + 1).await?,
        cards: String::new(),
    })
}

pub async fn user_detail(services: &Services, id: &str) -> Result<UserDetail, Refusal> {
    let mut conn = services.pool.get().await?;
    let user = users::find(&mut conn, id).await?.ok_or(Refusal::NotFound)?;
    let sessions = queries::sessions_of(&mut conn, id)
        .await?
        .into_iter()
        .map(|s| SessionView {
            device: describe_device(s.user_agent.as_deref()),
            this_device: false,
            ip_address: s.ip_address,
            created_at: s.created_at,
            last_active: s.updated_at,
            id: s.id,
        })
        .collect();
    let accounts = queries::accounts_of(&mut conn, id)
        .await?
        .into_iter()
        .map(|(provider, account_id, created_at)| ConnectedAccount {
            provider,
            account_id,
            created_at,
        })
        .collect();
    let jobs = queries::jobs_of(&mut conn, id, 100)
        .await?
        .into_iter()
        .map(|(job_id, status, original_url, created_at)| JobSummary {
            job_id,
            status,
            original_url,
            created_at,
        })
        .collect();
    let passkeys = crate::db::passkeys::count(&conn, id).await?;
    let app = user
        .two_factor_enabled
        .then(|| "an authenticator app".to_string());
    let keys = match passkeys {
        0 => None,
        1 => Some("a passkey".to_string()),
        n => Some(format!("{n} passkeys")),
    };
    let mut second_factors = app.into_iter().chain(keys).collect::<Vec<_>>().join(", ");
    if second_factors.is_empty() {
        second_factors = "none".into();
    }
    Ok(UserDetail {
        second_factors,
        user: row(user),
        sessions,
        accounts,
        jobs,
    })
}
