//! The audit log as admins search it.

use chrono::{DateTime, Datelike, Utc};

use super::*;
use crate::db::admin::{self as queries, AuditSearch};
use crate::services::paging;
use crate::services::{Refusal, Services};
use crate::views::{AuditPage, AuditRow};

/// The audit log, newest first. `since`/`until` are dates (YYYY-MM-DD, UTC).
pub async fn audit_log(
    services: &Services,
    actor: &str,
    target: &str,
    action: &str,
    since: &str,
    until: &str,
    after: &str,
) -> Result<AuditPage, Refusal> {
    let date = |field: &str,
                value: &str,
                end_of_day: bool|
     -> Result<Option<DateTime<Utc>>, Refusal> {
        if value.trim().is_empty() {
            return Ok(None);
        }
        let day = chrono::NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d")
            .ok()
            .filter(|day| (1970..=9999).contains(&day.year()))
            .ok_or_else(|| Refusal::invalid(field, "Give a date as YYYY-MM-DD, from 1970 on."))?;
        let day = if end_of_day {
            day.succ_opt().unwrap_or(day)
        } else {
            day
        };
        Ok(Some(
            day.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc(),
        ))
    };
    for (field, value) in [("actor", actor), ("target", target), ("action", action)] {
        if value.chars().count() > 254 {
            return Err(Refusal::invalid(field, "At most 254 characters."));
        }
    }
    let after = paging::parse_cursor(after)?;
    let some = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
    let (actor, target, action) = (some(actor), some(target), some(action));
    let mut conn = services.pool.get().await?;
    let rows = queries::search_audit(
        &mut conn,
        &AuditSearch {
            actor: actor.as_deref(),
            target: target.as_deref(),
            action: action.as_deref(),
            since: date("since", since, false)?,
            until: date("until", until, true)?,
            after,
            limit: PAGE_SIZE + 1,
        },
    )
    .await?;
    let (rows, next) = paging::split(rows, PAGE_SIZE, |e| (e.created_at, &e.id));
    Ok(AuditPage {
        rows: rows
            .into_iter()
            .map(|e| AuditRow {
                id: e.id,
                created_at: e.created_at,
                actor: e.actor_label,
                action: e.action,
                target: e.target_label,
                ip_address: e.ip_address,
                detail: e.detail.to_string(),
            })
            .collect(),
        next,
    })
}
