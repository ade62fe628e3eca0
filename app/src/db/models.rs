//! Rows as diesel reads them. They stay inside the services: pages see the types in `views`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::schema::{account, passkey, session, two_factor, user};
use crate::views::Role;

#[derive(Clone, Debug, Queryable, Selectable, Identifiable)]
#[diesel(table_name = user, check_for_backend(diesel::pg::Pg))]
pub struct User {
    pub id: String,
    pub name: String,
    pub email: String,
    pub email_verified: bool,
    pub image: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub role: String,
    pub tier: String,
    pub is_whitelisted: bool,
    pub banned: bool,
    pub ban_reason: Option<String>,
    pub ban_expires: Option<DateTime<Utc>>,
    /// A code from an authenticator app is asked for after every sign-in.
    pub two_factor_enabled: bool,
    /// When the account last took its address by a change of address: the address then
    /// grants nothing by itself (ADMIN_EMAILS, ALLOWLIST, invitations).
    pub email_changed_at: Option<DateTime<Utc>>,
}

impl User {
    pub fn is_admin(&self) -> bool {
        Role::of(&self.role) == Role::Admin
    }
}

#[derive(Clone, Debug, Queryable, Selectable, Identifiable)]
#[diesel(table_name = session, check_for_backend(diesel::pg::Pg))]
pub struct Session {
    pub id: String,
    pub expires_at: DateTime<Utc>,
    /// Hex SHA-256 of the cookie's token.
    pub token: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub user_id: String,
    /// How the sign-in went, as RFC 8176 methods (`pwd`, `otp`, `hwk`, `mfa`); None for a
    /// session made before Gatehouse recorded it.
    pub amr: Option<Vec<String>>,
}

#[derive(Clone, Debug, Queryable, Selectable, Identifiable)]
#[diesel(table_name = account, check_for_backend(diesel::pg::Pg))]
pub struct Account {
    pub id: String,
    pub account_id: String,
    pub provider_id: String,
    pub user_id: String,
    pub password: Option<String>,
}

/// A person's authenticator-app secret (encrypted with the token keys) and recovery codes
/// (while a set-up is unconfirmed, encrypted so they can be shown again; after, the SHA-256
/// of each, as a JSON list), and the last time step a code was accepted in.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = two_factor, check_for_backend(diesel::pg::Pg))]
pub struct TwoFactor {
    pub id: String,
    pub secret: String,
    pub backup_codes: String,
    pub user_id: String,
    pub last_used_step: Option<i64>,
}

/// A passkey (WebAuthn credential) as Better Auth's passkey plugin stores it: the
/// credential id in base64url, the COSE public key in base64, the signature counter, and
/// Gatehouse's own time of last use.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = passkey, check_for_backend(diesel::pg::Pg))]
pub struct Passkey {
    pub id: String,
    pub name: Option<String>,
    pub public_key: String,
    pub user_id: String,
    pub credential_id: String,
    pub counter: i32,
    pub device_type: String,
    pub backed_up: bool,
    pub transports: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub aaguid: Option<String>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A new id: UUIDv7, so ids sort by creation.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
