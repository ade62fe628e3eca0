//! Artwork jobs: what their owner sees and submits, what the processing backend reports, and
//! what admins assign. Only the owner ever sees a job; to anyone else it does not exist.
//! Every change is an audit event, which is also the job's history.

use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::AsyncConnection;
use serde_json::json;

use super::audit::{self, Actor, Origin};
use super::paging;
use super::sessions::SignedIn;
use super::webhooks::{self, EventType};
use super::Refusal;
use super::Services;
use crate::db::jobs::{self, Job};
use crate::db::users;
use crate::views::{JobDetail, JobEvent, JobPage, JobStatus, JobSummary, JobView, Overview};

pub const URL_MAX: usize = 2048;
pub const JOB_ID_MAX: usize = 200;
const PAGE_SIZE: i64 = 24;

pub(super) fn view(job: Job) -> JobView {
    JobView {
        job_id: job.job_id,
        status: job.status,
        original_url: job.original_url,
        protected_url: job.protected_url,
        created_at: job.created_at,
        updated_at: job.updated_at,
    }
}

/// An image address Gatehouse will store: http or https, with a host, at most 2048 characters.
pub fn image_url(field: &str, raw: &str) -> Result<String, Refusal> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(Refusal::invalid(field, "Enter the address of the image."));
    }
    if raw.chars().count() > URL_MAX {
        return Err(Refusal::invalid(
            field,
            format!("An address has at most {URL_MAX} characters."),
        ));
    }
    let url = url::Url::parse(raw).map_err(|_| {
        Refusal::invalid(
            field,
            "Enter a full address starting with https:// or http://.",
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(Refusal::invalid(
            field,
            "Only http:// and https:// addresses are accepted.",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Refusal::invalid(
            field,
            "An address cannot carry a user name or password.",
        ));
    }
    Ok(url.to_string())
}

/// A job id from the backend: 1 to 200 letters, digits, `-`, `_`, `.` or `:`.
pub fn job_id(raw: &str) -> Result<&str, Refusal> {
    let ok = !raw.is_empty()
        && raw.len() <= JOB_ID_MAX
        && raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c));
    if ok {
        Ok(raw)
    } else {
        Err(Refusal::invalid(
            "job_id",
            "A job id is 1 to 200 letters, digits, -, _, . or :.",
        ))
    }
}

/// How many jobs the user owns, and the five newest.
pub async fn overview(services: &Services, owner: &SignedIn) -> Result<Overview, Refusal> {
    let user = &owner.user;
    let (total, latest) = services
        .shared
        .read(|conn| async move {
            tokio::try_join!(
                jobs::count_of(&conn, &user.id),
                jobs::page(&conn, Some(&user.id), None, None, 5)
            )
        })
        .await?;
    let latest = latest
        .into_iter()
        .map(|job| JobSummary {
            job_id: job.job_id,
            status: job.status,
            original_url: job.original_url,
            created_at: job.created_at,
        })
        .collect();
    Ok(Overview { total, latest })
}

/// A page of the user's own jobs, newest first, optionally of one status.
pub async fn list_mine(
    services: &Services,
    owner: &SignedIn,
    status: Option<JobStatus>,
    after: &str,
) -> Result<JobPage, Refusal> {
    page_of(services, Some(&owner.user.id), status, after).await
}

/// A page of jobs of `owner` (or nobody's, `None`) after the cursor `after`, newest first.
async fn page_of(
    services: &Services,
    owner: Option<&str>,
    status: Option<JobStatus>,
    after: &str,
) -> Result<JobPage, Refusal> {
    let after = &paging::parse_cursor(after)?;
    let status = status.map(JobStatus::as_str);
    let as_of = super::live::now_id();
    let rows =
        services
            .shared
            .read(|conn| async move {
                jobs::page(&conn, owner, status, after.clone(), PAGE_SIZE + 1).await
            })
            .await?;
    let (rows, next) = paging::split(rows, PAGE_SIZE, |j| (j.created_at, &j.id));
    Ok(JobPage {
        rows: rows.into_iter().map(view).collect(),
        next,
        as_of,
    })
}

/// One of the user's own jobs with its history; anyone else's, or none, is NotFound alike.
pub async fn get_mine(
    services: &Services,
    owner: &SignedIn,
    job_id: &str,
) -> Result<JobDetail, Refusal> {
    let user = &owner.user;
    let as_of = super::live::now_id();
    let mut conn = services.pool.get().await?;
    let job = jobs::find(&mut conn, job_id).await?;
    let job = job
        .filter(|job| job.user_id.as_deref() == Some(user.id.as_str()))
        .ok_or(Refusal::NotFound)?;
    let history = jobs::history(&mut conn, &job.job_id)
        .await?
        .into_iter()
        .map(|(at, action, detail)| JobEvent {
            at,
            what: describe(&action, &detail),
        })
        .collect();
    Ok(JobDetail {
        job: view(job),
        history,
        as_of,
    })
}

fn describe(action: &str, detail: &serde_json::Value) -> String {
    let field = |name: &str| detail[name].as_str().unwrap_or("?").to_string();
    match action {
        "job_created" => format!("Submitted ({})", field("status")),
        "job_status_changed" => format!("{} → {}", field("from"), field("to")),
        "job_assigned" => "Assigned to this account".to_string(),
        other => other.replace('_', " "),
    }
}

/// Submits an artwork by address: a new queued job owned by the user.
pub async fn submit(
    services: &Services,
    owner: &SignedIn,
    original_url: &str,
    origin: &Origin,
) -> Result<JobView, Refusal> {
    let user = &owner.user;
    let url = image_url("original_url", original_url)?;
    // The backend fetches what an artist names: nothing inside the network (the backend's
    // own calls, authenticated, may name its storage).
    let parsed = url::Url::parse(&url)
        .map_err(|_| Refusal::invalid("original_url", super::addresses::INSIDE))?;
    super::addresses::check_outside(&parsed, &services.settings.artwork_url_allow_hosts)
        .await
        .map_err(|why| Refusal::invalid("original_url", why))?;
    let mut conn = services.pool.get().await?;
    let job_id = uuid::Uuid::now_v7().to_string();
    let queued = JobStatus::Queued.as_str();
    let job = jobs::insert(&mut conn, &job_id, Some(&user.id), &url, queued)
        .await?
        .ok_or_else(|| Refusal::Conflict("That job already exists.".into()))?;
    audit::record_as(
        &mut conn,
        owner.actor(),
        Some((&user.id, &user.email)),
        "job_created",
        json!({ "job_id": job_id, "status": queued, "by": "owner" }),
        origin,
    )
    .await?;
    Ok(view(job))
}

/// What the backend asks to create (or adopt).
pub struct NewJob<'a> {
    pub job_id: &'a str,
    pub user_id: Option<&'a str>,
    pub original_url: &'a str,
}

/// Creates a job, or returns the existing one with this job id: idempotent. An existing job
/// nobody owns is adopted by `user_id`; one owned by someone else is a conflict.
/// Returns the job and whether it was created.
pub async fn create_or_adopt(
    services: &Services,
    new: NewJob<'_>,
    origin: &Origin,
) -> Result<(JobView, bool), Refusal> {
    let job_id = job_id(new.job_id)?.to_string();
    let url = image_url("original_url", new.original_url)?;
    let mut conn = services.pool.get().await?;
    let owner = match new.user_id {
        Some(id) => Some(
            users::find(&mut conn, id)
                .await?
                .ok_or_else(|| Refusal::invalid("user_id", "No user has that id."))?,
        ),
        None => None,
    };
    let origin = origin.clone();
    conn.transaction::<_, Refusal, _>(|conn| {
        async move {
            let owner_id = owner.as_ref().map(|u| u.id.as_str());
            let target = owner.as_ref().map(|u| (u.id.as_str(), u.email.as_str()));
            let queued = JobStatus::Queued.as_str();
            if let Some(job) = jobs::insert(conn, &job_id, owner_id, &url, queued).await? {
                audit::record_as(
                    conn,
                    Actor::System("backend"),
                    target,
                    "job_created",
                    json!({ "job_id": job_id, "status": queued, "by": "backend" }),
                    &origin,
                )
                .await?;
                return Ok((view(job), true));
            }
            let existing = jobs::lock(conn, &job_id).await?.ok_or(Refusal::NoSuchJob)?;
            match (&existing.user_id, owner_id) {
                (None, Some(owner)) => {
                    jobs::set_owner(conn, &job_id, owner).await?;
                    let linked = json!({ "job_id": job_id, "from": null, "to": owner });
                    webhooks::enqueue(conn, services, EventType::JobOwnerChanged, linked).await?;
                    audit::record_as(
                        conn,
                        Actor::System("backend"),
                        target,
                        "job_assigned",
                        json!({ "job_id": job_id, "from": null, "to": owner }),
                        &origin,
                    )
                    .await?;
                    let adopted = jobs::find(conn, &job_id).await?.ok_or(Refusal::NoSuchJob)?;
                    Ok((view(adopted), false))
                }
                (Some(current), Some(owner)) if current != owner => Err(Refusal::Conflict(
                    "That job belongs to another user; an admin can move it.".into(),
                )),
                _ => Ok((view(existing), false)),
            }
        }
        .scope_boxed()
    })
    .await
}

/// Whether a job may move from its stored status to another: queued → processing → done |
/// failed. A status of another word (an adopted table's) moves nowhere.
pub fn may_move(from: &str, to: JobStatus) -> bool {
    use JobStatus::*;
    matches!(
        (JobStatus::parse(from), to),
        (Some(Queued), Processing) | (Some(Processing), Done | Failed)
    )
}

/// The backend reports progress. Any other transition is a conflict and changes nothing.
pub async fn transition(
    services: &Services,
    job_id: &str,
    status: JobStatus,
    protected_url: Option<&str>,
    origin: &Origin,
) -> Result<JobView, Refusal> {
    let protected_url = match protected_url {
        Some(url) => Some(image_url("protected_url", url)?),
        None => None,
    };
    if status == JobStatus::Done && protected_url.is_none() {
        return Err(Refusal::invalid(
            "protected_url",
            "A done job needs the address of its protected image.",
        ));
    }
    let job_id = job_id.to_string();
    let origin = origin.clone();
    let mut conn = services.pool.get().await?;
    conn.transaction::<_, Refusal, _>(|conn| {
        async move {
            let job = jobs::lock(conn, &job_id).await?.ok_or(Refusal::NoSuchJob)?;
            if !may_move(&job.status, status) {
                return Err(Refusal::Conflict(format!(
                    "A job cannot move from {} to {status}.",
                    job.status
                )));
            }
            let protected = protected_url.as_deref().or(job.protected_url.as_deref());
            jobs::set_status(conn, &job_id, status.as_str(), protected).await?;
            let owner = match &job.user_id {
                Some(id) => users::find(conn, id).await?,
                None => None,
            };
            let target = owner.as_ref().map(|u| (u.id.as_str(), u.email.as_str()));
            audit::record_as(
                conn,
                Actor::System("backend"),
                target,
                "job_status_changed",
                json!({ "job_id": job_id, "from": job.status, "to": status }),
                &origin,
            )
            .await?;
            Ok(view(
                jobs::find(conn, &job_id).await?.ok_or(Refusal::NoSuchJob)?,
            ))
        }
        .scope_boxed()
    })
    .await
}

/// Gives a job to the user with `email` (an unowned job, or moving one between users).
pub async fn assign(
    services: &Services,
    actor: Actor<'_>,
    job_id: &str,
    email: &str,
    origin: &Origin,
) -> Result<(), Refusal> {
    let email = super::policy::email(email).map_err(|e| Refusal::Invalid(vec![e]))?;
    let mut conn = services.pool.get().await?;
    let user = users::find_by_email(&mut conn, &email)
        .await?
        .ok_or_else(|| Refusal::invalid("email", "No user has that email address."))?;
    // The job's row is locked, so two admins moving it at once record true `from`s.
    conn.transaction::<_, Refusal, _>(|conn| {
        async move {
            let job = jobs::lock(conn, job_id).await?.ok_or(Refusal::NotFound)?;
            jobs::set_owner(conn, &job.job_id, &user.id).await?;
            if job.user_id.as_deref() != Some(user.id.as_str()) {
                let moved = json!({ "job_id": job.job_id, "from": job.user_id, "to": user.id });
                webhooks::enqueue(conn, services, EventType::JobOwnerChanged, moved).await?;
            }
            audit::record_as(
                conn,
                actor,
                Some((&user.id, &user.email)),
                "job_assigned",
                json!({ "job_id": job.job_id, "from": job.user_id, "to": user.id }),
                origin,
            )
            .await?;
            Ok(())
        }
        .scope_boxed()
    })
    .await
}

/// Jobs nobody owns yet (rows from before users existed), newest first.
pub async fn unowned(services: &Services, after: &str) -> Result<JobPage, Refusal> {
    page_of(services, None, None, after).await
}
