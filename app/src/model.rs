//! Types that cross the wire: what a page shows and what a form sends back. Database rows
//! never cross as they are.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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
