//! Types that cross the wire: what a page shows and what a form sends back. Database rows
//! never cross as they are.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a change that needs a fresh sign-in answers on a stale session; forms show a way
/// to sign in again beside it.
pub const SIGN_IN_AGAIN: &str =
    "For your safety, sign in again first: this needs a sign-in from the last ten minutes.";

/// What someone may do. Stored and sent as its name (`user`, `admin`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    User,
    Admin,
}

impl Role {
    /// Every role, in the order pages offer them.
    pub const ALL: [Role; 2] = [Role::User, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.as_str() == name)
    }
}

/// The service level. Stored and sent as its name (`anonymous`, `free`, `member`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tier {
    Anonymous,
    Free,
    Member,
}

impl Tier {
    /// Every tier, in the order pages offer them.
    pub const ALL: [Tier; 3] = [Tier::Anonymous, Tier::Free, Tier::Member];

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Anonymous => "anonymous",
            Tier::Free => "free",
            Tier::Member => "member",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|tier| tier.as_str() == name)
    }
}

/// The signed-in person, as pages see them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub name: String,
    pub email: String,
    pub email_verified: bool,
    pub role: String,
    pub tier: String,
    pub whitelisted: bool,
}

/// One of the person's sessions, as the profile page lists them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    pub id: String,
    pub device: String,
    pub ip_address: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_active: DateTime<Utc>,
    pub this_device: bool,
}

/// A message about one form field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// A user as the admin dashboard lists them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    pub id: String,
    pub name: String,
    pub email: String,
    pub email_verified: bool,
    pub role: String,
    pub tier: String,
    pub whitelisted: bool,
    pub banned: bool,
    pub ban_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// The waiting badge counts this far, then says "more than".
pub const WAITING_CAP: i64 = 10_000;

/// One page of the users table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserPage {
    pub rows: Vec<UserRow>,
    /// The cursor of the next page, when there is one.
    pub next: Option<String>,
    /// How many people wait for access.
    pub waiting: i64,
}

/// A way to sign in, as an admin sees it (never its tokens).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectedAccount {
    pub provider: String,
    pub account_id: String,
    pub created_at: DateTime<Utc>,
}

/// A provider account connected to the signed-in person, on their profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedAccount {
    pub provider_id: String,
    pub provider_name: String,
    pub account_id: String,
    /// False when it is their only way to sign in.
    pub can_unlink: bool,
}

/// How the signed-in person signs in, for their profile.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInMethods {
    /// Whether they have a password (people who came through a provider may not).
    pub has_password: bool,
    pub linked: Vec<LinkedAccount>,
    /// Configured providers they have not connected.
    pub available: Vec<ProviderChoice>,
}

/// A provider people can sign in with: its id (the path /auth/<id>) and its name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderChoice {
    pub id: String,
    pub name: String,
}

/// An artwork job, in a list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobSummary {
    pub job_id: String,
    pub status: String,
    pub original_url: String,
    pub created_at: DateTime<Utc>,
}

/// Everything the admin page of one user shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDetail {
    pub user: UserRow,
    pub sessions: Vec<SessionView>,
    pub accounts: Vec<ConnectedAccount>,
    pub jobs: Vec<JobSummary>,
}

/// One audit event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub id: String,
    pub created_at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub ip_address: Option<String>,
    pub detail: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub rows: Vec<AuditRow>,
    pub next: Option<String>,
}

/// The caller's own artwork jobs at a glance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    pub total: i64,
    pub latest: Vec<JobSummary>,
}

/// One artwork job, as its owner sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobView {
    pub job_id: String,
    pub status: String,
    pub original_url: String,
    pub protected_url: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobPage {
    pub rows: Vec<JobView>,
    pub next: Option<String>,
}

/// One line of a job's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobEvent {
    pub at: DateTime<Utc>,
    pub what: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobDetail {
    pub job: JobView,
    pub history: Vec<JobEvent>,
}
