//! Who gets in. Nobody is whitelisted unless an admin or the configured allow-list says so;
//! ADMIN_EMAILS names the first admins. Both take effect at sign-in.

use std::collections::HashSet;

use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::AsyncConnection;
use serde_json::json;

use super::audit::{self, Actor, Origin};
use super::webhooks::{self, EventType};
use super::Services;
use crate::db::models::User;
use crate::db::{users, DbConn};
use crate::views::Role;

/// ALLOWLIST and ADMIN_EMAILS, parsed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccessRules {
    emails: HashSet<String>,
    /// `@studio.example` entries, kept with the `@`.
    domains: HashSet<String>,
    github_logins: HashSet<String>,
    github_ids: HashSet<String>,
    admin_emails: HashSet<String>,
}

impl AccessRules {
    /// `allowlist`: comma-separated emails, `@domain`s, `github:login` or `github:12345`.
    /// `admin_emails`: comma-separated emails.
    pub fn parse(allowlist: &str, admin_emails: &str) -> Result<Self, String> {
        Self::default()
            .allowing(allowlist)?
            .with_admins(admin_emails)
    }

    /// These rules, and the ALLOWLIST entries in `allowlist` too.
    pub fn allowing(mut self, allowlist: &str) -> Result<Self, String> {
        for entry in split(allowlist) {
            if let Some(github) = entry.strip_prefix("github:") {
                if github.is_empty() {
                    return Err("`github:` needs a login or a numeric id after it".into());
                }
                if github.chars().all(|c| c.is_ascii_digit()) {
                    self.github_ids.insert(github.to_string());
                } else {
                    self.github_logins.insert(github.to_string());
                }
            } else if entry.starts_with('@') && entry.len() > 2 && entry[1..].contains('.') {
                self.domains.insert(entry);
            } else if super::policy::email(&entry).is_ok() {
                self.emails.insert(entry);
            } else {
                return Err(format!(
                    "`{entry}` is not an email, an @domain or github:login / github:id"
                ));
            }
        }
        Ok(self)
    }

    /// These rules, and the ADMIN_EMAILS in `admin_emails` too.
    pub fn with_admins(mut self, admin_emails: &str) -> Result<Self, String> {
        for entry in split(admin_emails) {
            let email =
                super::policy::email(&entry).map_err(|_| format!("`{entry}` is not an email"))?;
            self.admin_emails.insert(email);
        }
        Ok(self)
    }

    /// Whether the allow-list lets this (verified) email in.
    pub fn allows_email(&self, email: &str) -> bool {
        let email = email.to_lowercase();
        self.emails.contains(&email)
            || email
                .rfind('@')
                .is_some_and(|at| self.domains.contains(&email[at..]))
            || self.is_admin_email(&email)
    }

    /// Whether the allow-list lets this GitHub account in.
    pub fn allows_github(&self, login: &str, id: &str) -> bool {
        self.github_logins.contains(&login.to_lowercase()) || self.github_ids.contains(id)
    }

    pub fn is_admin_email(&self, email: &str) -> bool {
        self.admin_emails.contains(&email.to_lowercase())
    }
}

fn split(list: &str) -> impl Iterator<Item = String> + '_ {
    list.split([',', ' ', '\n'])
        .map(|e| e.trim().to_lowercase())
        .filter(|e| !e.is_empty())
}

/// Whether a user may see whitelisted content: whitelisted, or an admin.
pub fn has_access(user: &User) -> bool {
    user.is_whitelisted || user.is_admin()
}

/// At sign-in with a confirmed email: whitelists and promotes as the configuration says, and
/// records what changed (the audit log, and the backend's webhooks), in one transaction on
/// the user's locked row, so two sign-ins at once make each change once. `github` is
/// (login, id) for a GitHub sign-in. Returns the user as it now is.
pub async fn apply_at_sign_in(
    conn: &mut DbConn,
    services: &Services,
    user: User,
    github: Option<(&str, &str)>,
    origin: &Origin,
) -> diesel::QueryResult<User> {
    let rules = &services.access;
    if !user.email_verified {
        return Ok(user);
    }
    // An address taken by a change of address grants nothing by itself: whoever asked for
    // the change would get what was meant for the address's owner (an invitation, a role).
    // Admins were told at the change (`email_change_grants_withheld`).
    let by_address = user.email_changed_at.is_none();
    // An invitation for the confirmed address lets them in (and sets its role and tier).
    let user = if by_address {
        super::invitations::accept_at_sign_in(conn, services, user, origin).await?
    } else {
        user
    };
    let allowed = (by_address && rules.allows_email(&user.email))
        || github.is_some_and(|(login, id)| rules.allows_github(login, id));
    let promoted = by_address && rules.is_admin_email(&user.email);
    let lets_in = allowed && !user.is_whitelisted;
    let promotes = promoted && !user.is_admin();
    if !lets_in && !promotes {
        // Nothing to change: the usual sign-in takes no lock.
        return Ok(user);
    }
    conn.transaction(|conn| {
        async move {
            let mut user = users::lock(conn, &user.id)
                .await?
                .ok_or(diesel::result::Error::NotFound)?;
            let who = json!({ "user_id": user.id, "email": user.email });
            if allowed && !user.is_whitelisted {
                users::set_whitelisted(conn, &user.id, true).await?;
                user.is_whitelisted = true;
                audit::record_as(
                    conn,
                    Actor::System("allowlist"),
                    Some((&user.id, &user.email)),
                    "whitelist_changed",
                    json!({ "from": false, "to": true }),
                    origin,
                )
                .await?;
                webhooks::enqueue(conn, services, EventType::UserLetIn, who.clone()).await?;
            }
            let admin = Role::Admin;
            if promoted && !user.is_admin() {
                users::set_role(conn, &user.id, admin.as_str()).await?;
                audit::record_as(
                    conn,
                    Actor::System("ADMIN_EMAILS"),
                    Some((&user.id, &user.email)),
                    "role_changed",
                    json!({ "from": user.role, "to": admin }),
                    origin,
                )
                .await?;
                let mut data = who;
                data["from"] = json!(Role::of(&user.role));
                data["to"] = json!(admin);
                webhooks::enqueue(conn, services, EventType::UserRoleChanged, data).await?;
                user.role = admin.as_str().into();
            }
            Ok(user)
        }
        .scope_boxed()
    })
    .await
}

/// What `email` would be given by itself at a sign-in: the rules that name it (ADMIN_EMAILS,
/// ALLOWLIST) and a pending invitation. A change of address to such an address gets none of
/// it; admins are told instead.
pub async fn grants_of_address(
    conn: &mut DbConn,
    services: &Services,
    email: &str,
) -> diesel::QueryResult<Vec<&'static str>> {
    let rules = &services.access;
    let mut grants = Vec::new();
    if rules.is_admin_email(email) {
        grants.push("ADMIN_EMAILS");
    } else if rules.allows_email(email) {
        grants.push("ALLOWLIST");
    }
    if crate::db::invitations::open_for(conn, email)
        .await?
        .is_some()
    {
        grants.push("invitation");
    }
    Ok(grants)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_allowlist_knows_emails_domains_and_github_accounts() {
        let rules = AccessRules::parse(
            "Ada@Example.com, @studio.example github:octocat,github:583231",
            "boss@example.com",
        )
        .unwrap();
        assert!(rules.allows_email("ada@example.com"));
        assert!(rules.allows_email("anyone@studio.example"));
        assert!(!rules.allows_email("anyone@evilstudio.example"));
        assert!(!rules.allows_email("anyone@sub.studio.example"));
        assert!(!rules.allows_email("bob@example.com"));
        assert!(rules.allows_email("boss@example.com"), "admins are let in");
        assert!(rules.allows_github("OctoCat", "1"));
        assert!(rules.allows_github("someone", "583231"));
        assert!(!rules.allows_github("someone", "1"));
        assert!(rules.is_admin_email("BOSS@example.com"));
    }

    #[test]
    fn a_bad_entry_is_named() {
        let error = AccessRules::parse("ada@example.com, not an entry", "").unwrap_err();
        assert!(error.contains("`not`"), "{error}");
        assert!(AccessRules::parse("github:", "").is_err());
        assert!(AccessRules::parse("", "nope")
            .unwrap_err()
            .contains("`nope`"));
        assert_eq!(AccessRules::parse("", "").unwrap(), AccessRules::default());
    }
}
