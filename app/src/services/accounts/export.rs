//! A person's data, downloadable: everything Gatehouse holds about them, as one JSON
//! document, after the password once more (or a recent sign-in, for someone who has no
//! password). Its shape is documented in docs/data-export.md; secrets never enter it.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Value};

use super::password::check_password;
use super::*;
use crate::db::export as rows;
use crate::services::sessions;

/// The document's version: a field a reader can check before it trusts the shape.
pub const FORMAT: &str = "gatehouse.data-export.v1";

#[derive(Serialize)]
pub struct MyData {
    pub format: &'static str,
    pub exported_at: DateTime<Utc>,
    pub account: AccountData,
    pub sign_in_methods: SignInMethodsData,
    pub sessions: Vec<SessionData>,
    pub artwork_jobs: Vec<JobData>,
    pub audit_events: Vec<EventData>,
}

#[derive(Serialize)]
pub struct AccountData {
    pub id: String,
    pub name: String,
    pub email: String,
    pub email_verified: bool,
    pub image: Option<String>,
    pub role: String,
    pub tier: String,
    pub let_in: bool,
    pub banned: bool,
    pub ban_reason: Option<String>,
    pub two_factor_enabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Serialize)]
pub struct SignInMethodsData {
    /// Whether a password is set (never the password or its hash).
    pub password: bool,
    pub providers: Vec<ProviderData>,
    pub passkeys: Vec<PasskeyData>,
}

#[derive(Serialize)]
pub struct ProviderData {
    pub provider_id: String,
    pub account_id: String,
    pub scope: Option<String>,
    pub connected_at: DateTime<Utc>,
}

#[derive(Serialize)]
pub struct PasskeyData {
    pub id: String,
    pub name: Option<String>,
    pub device_type: String,
    pub backed_up: bool,
    pub added_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

#[derive(Serialize)]
pub struct SessionData {
    pub id: String,
    pub device: String,
    pub ip_address: Option<String>,
    pub signed_in_at: DateTime<Utc>,
    pub last_active: DateTime<Utc>,
    pub this_session: bool,
}

#[derive(Serialize)]
pub struct JobData {
    pub job_id: String,
    pub status: String,
    pub original_url: String,
    pub protected_url: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Serialize)]
pub struct EventData {
    pub id: String,
    pub at: DateTime<Utc>,
    pub action: String,
    /// `you`, `someone with a link mailed to you` (what opening such a link did, in whatever
    /// browser opened it), `an administrator`, `Gatehouse` (a rule, the command line), or
    /// `someone not signed in` (a sign-in attempt on the account, say). Nobody but the person
    /// is named.
    pub by: &'static str,
    /// Where it came from; kept only when it was the person, whoever opened a link mailed to
    /// them, or someone not signed in (each said in `by`), never an administrator's address.
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub detail: Value,
}

/// What an actor who is not the person is called in the file: they are never named.
const ADMINISTRATOR: &str = "an administrator";

/// The events about the person, each saying who did it without naming anyone but the person,
/// and where from only when that was the person's (or said to be someone else's).
fn audit_events(user_id: &str, events: Vec<rows::EventRow>) -> Vec<EventData> {
    // Whoever else acted on the person, by the label their events keep (an admin's email):
    // never written out, wherever an event's detail holds it.
    let others: Vec<String> = events
        .iter()
        .filter(|(_, _, actor, ..)| actor.as_deref().is_some_and(|a| a != user_id))
        .map(|(_, _, _, label, ..)| label.to_lowercase())
        .collect();
    events
        .into_iter()
        .map(
            |(id, at, actor, label, action, ip_address, user_agent, detail)| {
                let by = match actor.as_deref() {
                    Some(actor) if actor == user_id => {
                        if from_a_mailed_link(&action, &detail) {
                            "someone with a link mailed to you"
                        } else {
                            "you"
                        }
                    }
                    Some(_) => ADMINISTRATOR,
                    None if label == audit::ANONYMOUS => "someone not signed in",
                    None => "Gatehouse",
                };
                let kept = by != ADMINISTRATOR && by != "Gatehouse";
                EventData {
                    id,
                    at,
                    action,
                    by,
                    ip_address: ip_address.filter(|_| kept),
                    user_agent: user_agent.filter(|_| kept),
                    detail: naming_nobody(detail, &others),
                }
            },
        )
        .collect()
}

/// Whether `action` was done by opening a link mailed to the person: whoever opened it did
/// it, in whatever browser, and Gatehouse cannot tell whether that was the person (the
/// confirmation or undoing of a change of address, a reset password, an invitation taken up
/// from its link, a confirmation refused for a wrong password). Confirming one's address
/// needs the password too, and is the person's own.
fn from_a_mailed_link(action: &str, detail: &Value) -> bool {
    match action {
        "email_changed" | "email_change_undone" | "password_reset" | "email_verify_failed" => true,
        "sign_up" | "sign_in" => detail["method"] == "invitation",
        // Taken up at a sign-in with the invited address, it is the person's; older records
        // do not say, and are not claimed as theirs.
        "invitation_accepted" => detail["via"] != "sign_in",
        _ => false,
    }
}

/// An event's detail without anyone else's name: who invited the person, and any value that
/// is another actor's label, read as "an administrator".
fn naming_nobody(mut detail: Value, others: &[String]) -> Value {
    fn walk(value: &mut Value, others: &[String]) {
        match value {
            Value::String(s) if others.contains(&s.to_lowercase()) => {
                *value = json!(ADMINISTRATOR);
            }
            Value::Array(items) => items.iter_mut().for_each(|v| walk(v, others)),
            Value::Object(fields) => fields.values_mut().for_each(|v| walk(v, others)),
            _ => {}
        }
    }
    if let Some(inviter) = detail.get_mut("invited_by") {
        *inviter = json!(ADMINISTRATOR);
    }
    walk(&mut detail, others);
    detail
}

/// Everything held about the signed-in person, after the step-up; counted against the
/// person's and the address's limits, and audited.
pub async fn my_data(
    services: &Services,
    current: &sessions::SignedIn,
    password: &str,
    origin: &Origin,
) -> Result<MyData, Refusal> {
    let user = &current.user;
    limit(services, Attempt::DataExport, &user.email, origin).await?;
    check_password(services, current, "data_password", password, origin).await?;
    let sessions = sessions::list(services, current).await?;
    let mut conn = services.pool.get().await?;
    let password_set = password_hash(&mut conn, &user.id).await?.is_some();
    let providers = rows::accounts(&mut conn, &user.id).await?;
    let passkeys = rows::passkeys(&mut conn, &user.id).await?;
    let jobs = rows::jobs(&mut conn, &user.id).await?;
    let events = rows::events(&mut conn, &user.id).await?;
    // Recorded before the document is made: a download is audited even if the answer is lost.
    record_own(&mut conn, user, "data_exported", json!({}), origin).await?;
    drop(conn);
    Ok(MyData {
        format: FORMAT,
        exported_at: Utc::now(),
        account: AccountData {
            id: user.id.clone(),
            name: user.name.clone(),
            email: user.email.clone(),
            email_verified: user.email_verified,
            image: user.image.clone(),
            role: user.role.clone(),
            tier: user.tier.clone(),
            let_in: user.is_whitelisted,
            banned: user.banned,
            ban_reason: user.ban_reason.clone(),
            two_factor_enabled: user.two_factor_enabled,
            created_at: user.created_at,
            updated_at: user.updated_at,
        },
        sign_in_methods: SignInMethodsData {
            password: password_set,
            providers: providers
                .into_iter()
                .filter(|(provider_id, ..)| provider_id != accounts::CREDENTIAL)
                .map(
                    |(provider_id, account_id, scope, connected_at)| ProviderData {
                        provider_id,
                        account_id,
                        scope,
                        connected_at,
                    },
                )
                .collect(),
            passkeys: passkeys
                .into_iter()
                .map(
                    |(id, name, device_type, backed_up, added_at, last_used_at)| PasskeyData {
                        id,
                        name,
                        device_type,
                        backed_up,
                        added_at,
                        last_used_at,
                    },
                )
                .collect(),
        },
        sessions: sessions
            .into_iter()
            .map(|s| SessionData {
                id: s.id,
                device: s.device,
                ip_address: s.ip_address,
                signed_in_at: s.created_at,
                last_active: s.last_active,
                this_session: s.this_device,
            })
            .collect(),
        artwork_jobs: jobs
            .into_iter()
            .map(
                |(job_id, status, original_url, protected_url, created_at, updated_at)| JobData {
                    job_id,
                    status,
                    original_url,
                    protected_url,
                    created_at,
                    updated_at,
                },
            )
            .collect(),
        audit_events: audit_events(&user.id, events),
    })
}
