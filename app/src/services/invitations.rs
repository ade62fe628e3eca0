//! Admin invitations (issue 20, part 2). An admin invites an address, with the role and tier
//! the person will have; the person gets a mail with a single-use link (7 days; the
//! database keeps its SHA-256 only). Following it they sign up with a name and a password,
//! the address already confirmed (the link proves the mailbox) and already let in; or they
//! sign in with a provider (or a password account made meanwhile) whose verified address is
//! the invited one, and the invitation applies at that sign-in. Sending, resending,
//! revoking, accepting and expiry are audited; an accepted invitation is a let-in for the
//! backend's webhooks as any other.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::audit::{self, Actor, Origin};
use super::rate_limit::{self, Attempt};
use super::sessions::SignedIn;
use super::two_factor::{self, SignInStep};
use super::webhooks::{self, EventType};
use super::{access, policy, tokens, Refusal, Services};
use crate::db::invitations::{self as rows, Invitation, NewInvitation};
use crate::db::models::User;
use crate::db::{accounts, users, DbConn};
use crate::views::{FieldError, Role, Tier};

/// How long a link works.
pub const LINK_DAYS: i64 = 7;
/// The most addresses one bulk invitation takes.
pub const BULK_MAX: usize = 100;
/// How long a bulk invitation's outcomes are kept for the admin's page.
const RESULT_MINUTES: i64 = 60;
/// How many pending invitations the admin page lists.
pub const LISTED: i64 = 100;

/// Who invites: an admin on the dashboard, or the command line.
#[derive(Clone, Copy, Debug)]
pub enum Inviter<'a> {
    Admin(&'a SignedIn),
    CommandLine,
}

impl Inviter<'_> {
    fn actor(&self) -> Actor<'_> {
        match self {
            Inviter::Admin(admin) => admin.actor(),
            Inviter::CommandLine => Actor::System("command line"),
        }
    }

    fn id(&self) -> Option<&str> {
        match self {
            Inviter::Admin(admin) => Some(admin.user_id()),
            Inviter::CommandLine => None,
        }
    }

    /// How the mail and the page name them.
    fn label(&self) -> &str {
        match self {
            Inviter::Admin(admin) => &admin.user.email,
            Inviter::CommandLine => "An administrator",
        }
    }

    /// Each form an admin sends counts against their quota (the command line is the
    /// operator's own).
    async fn count(&self, services: &Services, origin: &Origin) -> Result<(), Refusal> {
        if let Inviter::Admin(admin) = self {
            let address = origin.ip_address.as_deref().unwrap_or("unknown");
            rate_limit::count(services, Attempt::Invite, Some(admin.user_id()), address).await?;
        }
        Ok(())
    }
}

/// What became of one address of an invitation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Invited,
    /// Not an address (or not one in plain ASCII).
    Invalid,
    /// Already earlier in the same list.
    Duplicate,
    /// The address already has an account.
    Member,
    /// The address already has a pending invitation.
    Pending,
}

impl Verdict {
    pub fn words(self) -> &'static str {
        match self {
            Verdict::Invited => "invited",
            Verdict::Invalid => "not an email address (plain ASCII, like name@example.com)",
            Verdict::Duplicate => "listed twice; invited once",
            Verdict::Member => "already has an account",
            Verdict::Pending => "already invited; resend that invitation from the list",
        }
    }
}

/// One line of a bulk invitation's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// As typed (trimmed), or as stored when it is an address.
    pub email: String,
    pub result: Verdict,
}

/// A pending invitation, as the admin page lists it.
#[derive(Clone, Debug)]
pub struct Pending {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub tier: Tier,
    pub invited_by: String,
    pub sent_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// An address an admin may invite: trimmed, lower-case, and in plain ASCII (a look-alike
/// letter from another alphabet would mail a stranger on the admin's word).
pub fn address(raw: &str) -> Result<String, FieldError> {
    let email = policy::email(raw)?;
    if !email.is_ascii() {
        return Err(FieldError {
            field: "email".into(),
            message: "Use an address in plain ASCII letters, like name@example.com.".into(),
        });
    }
    Ok(email)
}

/// Invites one address: [`Verdict::Invited`], or why not ([`Verdict::Member`],
/// [`Verdict::Pending`]; [`refusal`] says it as a refusal). Refused before anything: not an
/// address (422), too many invitations (429).
pub async fn invite(
    services: &Services,
    by: Inviter<'_>,
    email: &str,
    role: Role,
    tier: Tier,
    origin: &Origin,
) -> Result<(String, Verdict), Refusal> {
    let email = address(email).map_err(|e| Refusal::Invalid(vec![e]))?;
    by.count(services, origin).await?;
    let verdict = invite_one(services, by, &email, role, tier, origin).await?;
    Ok((email, verdict))
}

/// An invitation not sent, as a refusal (nothing changed): an address with an account
/// (422), one already invited (409).
pub fn refusal(email: &str, verdict: Verdict) -> Option<Refusal> {
    match verdict {
        Verdict::Invited => None,
        Verdict::Member => Some(Refusal::invalid(
            "email",
            format!("{email} already has an account."),
        )),
        Verdict::Pending => Some(Refusal::Conflict(format!(
            "{email} is already invited: resend that invitation from the list."
        ))),
        Verdict::Invalid | Verdict::Duplicate => Some(Refusal::invalid(
            "email",
            format!("{email}: {}", verdict.words()),
        )),
    }
}

/// Invites every address of `list` (one a line; a CSV's first column, its header `email`
/// skipped), each on its own: the answer says what became of each. Refused as a whole only
/// when the list is empty or longer than [`BULK_MAX`], or too many invitations were sent.
pub async fn invite_many(
    services: &Services,
    by: Inviter<'_>,
    list: &str,
    role: Role,
    tier: Tier,
    origin: &Origin,
) -> Result<Vec<Outcome>, Refusal> {
    let lines = lines_of(list);
    if lines.is_empty() {
        return Err(Refusal::invalid(
            "addresses",
            "Enter at least one email address, one a line.",
        ));
    }
    if lines.len() > BULK_MAX {
        return Err(Refusal::invalid(
            "addresses",
            format!("At most {BULK_MAX} addresses at once."),
        ));
    }
    by.count(services, origin).await?;
    let mut seen = HashSet::new();
    let mut outcomes = Vec::with_capacity(lines.len());
    for line in lines {
        let outcome = match address(&line) {
            Err(_) => Outcome {
                email: line,
                result: Verdict::Invalid,
            },
            Ok(email) if !seen.insert(email.clone()) => Outcome {
                email,
                result: Verdict::Duplicate,
            },
            Ok(email) => {
                let result = invite_one(services, by, &email, role, tier, origin).await?;
                Outcome { email, result }
            }
        };
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

/// The addresses of a pasted list or an uploaded file: a line each, its first
/// comma-separated field, quotes and blanks trimmed; blank lines and an `email` header left
/// out.
fn lines_of(list: &str) -> Vec<String> {
    let is_header = |i: usize, line: &str| i == 0 && line.eq_ignore_ascii_case("email");
    // A spreadsheet's export may start with a byte-order mark.
    list.trim_start_matches('\u{feff}')
        .lines()
        .map(|line| {
            let first = line.split([',', ';', '\t']).next().unwrap_or("");
            first.trim().trim_matches('"').trim().to_string()
        })
        .enumerate()
        .filter(|(i, line)| !line.is_empty() && !is_header(*i, line))
        .map(|(_, line)| line)
        .collect()
}

/// One address, checked: in one transaction, refused if it has an account or a pending
/// invitation (one whose week ran out is marked expired first, and a new one made).
async fn invite_one(
    services: &Services,
    by: Inviter<'_>,
    email: &str,
    role: Role,
    tier: Tier,
    origin: &Origin,
) -> Result<Verdict, Refusal> {
    let token = tokens::new_token();
    let now = Utc::now();
    let expires_at = now + Duration::days(LINK_DAYS);
    let mut conn = services.pool.get().await?;
    let token_hash = tokens::digest(&token);
    let result = conn
        .transaction::<_, diesel::result::Error, _>(|conn| {
            let token_hash = &token_hash;
            async move {
                if users::find_by_email(conn, email).await?.is_some() {
                    return Ok(Verdict::Member);
                }
                expire_due(conn, now).await?;
                let new = NewInvitation {
                    email,
                    role: role.as_str(),
                    tier: tier.as_str(),
                    token_hash,
                    invited_by: by.id(),
                    invited_by_label: by.label(),
                    expires_at,
                };
                let Some(invitation) = rows::insert(conn, new).await? else {
                    return Ok(Verdict::Pending);
                };
                audit::record_as(
                    conn,
                    by.actor(),
                    None,
                    "invitation_sent",
                    json!({ "invitation": invitation.id, "email": email, "role": role, "tier": tier }),
                    origin,
                )
                .await?;
                Ok(Verdict::Invited)
            }
            .scope_boxed()
        })
        .await?;
    if result == Verdict::Invited {
        send(services, by.label(), email, role, tier, &token);
    }
    Ok(result)
}

fn send(services: &Services, inviter: &str, email: &str, role: Role, tier: Tier, token: &str) {
    let link = services
        .settings
        .link(&format!("/invitation?token={token}"));
    let role = match role {
        Role::Admin => "an administrator",
        Role::User => "a user",
    };
    services.mail_in_background(crate::services::mail::Mail {
        to: email.to_string(),
        subject: "You are invited to Gatehouse".into(),
        body: format!(
            "Hello,\n\n{inviter} invited you to Gatehouse, as {role} with the {tier} tier.\n\n\
             Open this link within {LINK_DAYS} days to create your account (it works once):\n\n\
             {link}\n\nIf you did not expect this, ignore this message: nothing happens \
             unless you open the link.\n"
        ),
    });
}

/// Records something that happened to an invitation (its id and address), by `actor`.
async fn record(
    conn: &mut AsyncPgConnection,
    actor: Actor<'_>,
    action: &str,
    invitation: &Invitation,
    origin: &Origin,
) -> diesel::QueryResult<()> {
    let detail = json!({ "invitation": invitation.id, "email": invitation.email });
    audit::record_as(conn, actor, None, action, detail, origin).await
}

/// Marks every pending invitation whose week ran out expired, each audited.
async fn expire_due(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
) -> diesel::QueryResult<usize> {
    let expired = rows::mark_expired(conn, now).await?;
    for invitation in &expired {
        record(
            conn,
            Actor::System("housekeeping"),
            "invitation_expired",
            invitation,
            &Origin::default(),
        )
        .await?;
    }
    Ok(expired.len())
}

/// Housekeeping: marks (and audits) invitations whose week ran out, and forgets bulk
/// outcomes whose hour is over. Returns how many invitations expired.
pub async fn sweep(services: &Services) -> Result<usize, Refusal> {
    let mut conn = services.pool.get().await?;
    let now = Utc::now();
    let expired = conn
        .transaction::<_, diesel::result::Error, _>(|conn| {
            async move { expire_due(conn, now).await }.scope_boxed()
        })
        .await?;
    rows::delete_old_results(&mut conn, now).await?;
    Ok(expired)
}

/// A new link for a pending invitation (its week starts again); the old link stops
/// working. Refused: no such pending invitation (404), too many invitations (429).
pub async fn resend(
    services: &Services,
    by: Inviter<'_>,
    id: &str,
    origin: &Origin,
) -> Result<String, Refusal> {
    by.count(services, origin).await?;
    let token = tokens::new_token();
    let expires_at = Utc::now() + Duration::days(LINK_DAYS);
    let mut conn = services.pool.get().await?;
    let renewed = conn
        .transaction::<_, diesel::result::Error, _>(|conn| {
            let token_hash = tokens::digest(&token);
            async move {
                let Some(invitation) = rows::renew(conn, id, &token_hash, expires_at).await? else {
                    return Ok(None);
                };
                record(conn, by.actor(), "invitation_resent", &invitation, origin).await?;
                Ok(Some(invitation))
            }
            .scope_boxed()
        })
        .await?;
    let invitation = renewed.ok_or(Refusal::NotFound)?;
    send(
        services,
        by.label(),
        &invitation.email,
        Role::of(&invitation.role),
        Tier::of(&invitation.tier),
        &token,
    );
    Ok(invitation.email)
}

/// Revokes a pending invitation: its link stops working. Refused: no such pending
/// invitation (404).
pub async fn revoke(
    services: &Services,
    by: Inviter<'_>,
    id: &str,
    origin: &Origin,
) -> Result<String, Refusal> {
    let mut conn = services.pool.get().await?;
    let revoked = conn
        .transaction::<_, diesel::result::Error, _>(|conn| {
            async move {
                let Some(invitation) = rows::revoke(conn, id).await? else {
                    return Ok(None);
                };
                record(conn, by.actor(), "invitation_revoked", &invitation, origin).await?;
                Ok(Some(invitation.email))
            }
            .scope_boxed()
        })
        .await?;
    revoked.ok_or(Refusal::NotFound)
}

/// The pending invitations, newest first (at most [`LISTED`]).
pub async fn pending(services: &Services) -> Result<Vec<Pending>, Refusal> {
    let mut conn = services.pool.get().await?;
    Ok(rows::open(&mut conn, LISTED)
        .await?
        .into_iter()
        .map(|i| Pending {
            id: i.id,
            email: i.email,
            role: Role::of(&i.role),
            tier: Tier::of(&i.tier),
            invited_by: i.invited_by_label,
            sent_at: i.sent_at,
            expires_at: i.expires_at,
        })
        .collect())
}

/// Keeps a bulk invitation's outcomes an hour for the admin who sent it; returns the id
/// their page is sent back with.
pub async fn keep_outcomes(
    services: &Services,
    admin: &SignedIn,
    outcomes: &[Outcome],
) -> Result<String, Refusal> {
    let id = tokens::new_token();
    let mut conn = services.pool.get().await?;
    let expires_at = Utc::now() + Duration::minutes(RESULT_MINUTES);
    let value = serde_json::to_value(outcomes).unwrap_or_default();
    rows::insert_result(&mut conn, &id, admin.user_id(), &value, expires_at).await?;
    Ok(id)
}

/// The outcomes kept as `id`, if they are this admin's and their hour is not over.
pub async fn kept_outcomes(
    services: &Services,
    admin: &SignedIn,
    id: &str,
) -> Result<Option<Vec<Outcome>>, Refusal> {
    if !tokens::is_well_formed(id) {
        return Ok(None);
    }
    let mut conn = services.pool.get().await?;
    let found = rows::find_result(&mut conn, id, admin.user_id(), Utc::now()).await?;
    Ok(found.and_then(|value| serde_json::from_value(value).ok()))
}

/// What the invitation page shows: who invited which address, as what.
#[derive(Clone, Debug)]
pub struct Invited {
    pub email: String,
    pub role: Role,
    pub tier: Tier,
    pub invited_by: String,
    pub expires_at: DateTime<Utc>,
}

/// The pending invitation behind a link; refused (410) when the link is not one, or was
/// used, revoked, or its week ran out.
pub async fn open_by_token(services: &Services, token: &str) -> Result<Invited, Refusal> {
    if !tokens::is_well_formed(token) {
        return Err(Refusal::InvitationEnded);
    }
    let mut conn = services.pool.get().await?;
    let found = rows::find_by_token(&mut conn, &tokens::digest(token)).await?;
    match found {
        Some(i) if i.is_open() && i.expires_at > Utc::now() => Ok(Invited {
            email: i.email,
            role: Role::of(&i.role),
            tier: Tier::of(&i.tier),
            invited_by: i.invited_by_label,
            expires_at: i.expires_at,
        }),
        _ => Err(Refusal::InvitationEnded),
    }
}

/// Accepts an invitation from its link: a new account for the invited address (confirmed,
/// let in, with the invitation's role and tier, the password given), signed in. Single use,
/// even for two acceptances at once. Refused: a link that does not work (410), a name or
/// password that will not do (422), an address that has an account meanwhile (409: sign in,
/// and the invitation applies), too many sign-ups (429).
pub async fn accept(
    services: &Services,
    token: &str,
    name: &str,
    password: &str,
    origin: &Origin,
) -> Result<SignInStep, Refusal> {
    let invited = open_by_token(services, token).await?;
    let email = invited.email.clone();
    let mut errors = Vec::new();
    let name = policy::name(name).map_err(|e| errors.push(e)).ok();
    if let Err(e) = policy::new_password("password", password, &email) {
        errors.push(e);
    }
    let Some(name) = name.filter(|_| errors.is_empty()) else {
        return Err(Refusal::Invalid(errors));
    };
    let address = origin.ip_address.as_deref().unwrap_or("unknown");
    rate_limit::count(services, Attempt::SignUp, Some(&email), address).await?;
    let hash = services.passwords.hash(password).await?;
    let token_hash = tokens::digest(token);
    let mut conn = services.pool.get().await?;
    let user = conn
        .transaction::<_, Refusal, _>(|conn| {
            async move {
                let Some(user) = users::insert(conn, &name, &email, true).await? else {
                    return Err(Refusal::Conflict(format!(
                        "{email} already has an account: sign in, and the invitation applies."
                    )));
                };
                let Some(invitation) = rows::accept(
                    conn,
                    rows::Pending::ByToken(&token_hash),
                    &user.id,
                    Utc::now(),
                )
                .await?
                else {
                    return Err(Refusal::InvitationEnded);
                };
                accounts::insert_credential(conn, &user.id, &hash).await?;
                let me = (user.id.as_str(), user.email.as_str());
                audit::record_as(
                    conn,
                    Actor::User(me.0, me.1),
                    Some(me),
                    "sign_up",
                    json!({ "method": "invitation" }),
                    origin,
                )
                .await?;
                Ok(grant(conn, services, user, &invitation, "link", origin).await?)
            }
            .scope_boxed()
        })
        .await?;
    let user = access::apply_at_sign_in(&mut conn, services, user, None, origin).await?;
    two_factor::finish_sign_in(services, &mut conn, &user, "invitation", origin).await
}

/// At a sign-in with a confirmed address (a password, a provider): the address's pending
/// invitation, if any, is accepted for this user, on their locked row. The usual sign-in
/// reads one index and takes no lock.
pub async fn accept_at_sign_in(
    conn: &mut DbConn,
    services: &Services,
    user: User,
    origin: &Origin,
) -> diesel::QueryResult<User> {
    let now = Utc::now();
    match rows::open_for(conn, &user.email).await? {
        Some(open) if open.expires_at > now => {}
        _ => return Ok(user),
    }
    conn.transaction(|conn| {
        async move {
            let Some(user) = users::lock(conn, &user.id).await? else {
                return Ok(user);
            };
            let Some(invitation) =
                rows::accept(conn, rows::Pending::ForEmail(&user.email), &user.id, now).await?
            else {
                return Ok(user);
            };
            grant(conn, services, user, &invitation, "sign_in", origin).await
        }
        .scope_boxed()
    })
    .await
}

/// What an accepted invitation gives: access, its tier, and its role (an admin stays one),
/// each change audited and told to the backend, as an admin's change would be.
async fn grant(
    conn: &mut AsyncPgConnection,
    services: &Services,
    mut user: User,
    invitation: &Invitation,
    via: &str,
    origin: &Origin,
) -> diesel::QueryResult<User> {
    let role = if user.is_admin() {
        Role::Admin
    } else {
        Role::of(&invitation.role)
    };
    let tier = Tier::of(&invitation.tier);
    let (was_in, was_role, was_tier) = (
        user.is_whitelisted,
        Role::of(&user.role),
        Tier::of(&user.tier),
    );
    rows::grant_to_user(conn, &user.id, role.as_str(), tier.as_str()).await?;
    let target = (user.id.as_str(), user.email.as_str());
    audit::record_as(
        conn,
        Actor::User(target.0, target.1),
        Some(target),
        "invitation_accepted",
        json!({
            "invitation": invitation.id,
            "invited_by": invitation.invited_by_label,
            // How it was taken up: from its mailed `link`, or at a `sign_in` with the address.
            "via": via,
            "role": role,
            "tier": tier,
        }),
        origin,
    )
    .await?;
    let who = json!({ "user_id": user.id, "email": user.email });
    if !was_in {
        webhooks::enqueue(conn, services, EventType::UserLetIn, who.clone()).await?;
    }
    if was_role != role {
        let mut data = who.clone();
        data["from"] = json!(was_role);
        data["to"] = json!(role);
        webhooks::enqueue(conn, services, EventType::UserRoleChanged, data).await?;
    }
    if was_tier != tier {
        let mut data = who;
        data["from"] = json!(was_tier);
        data["to"] = json!(tier);
        webhooks::enqueue(conn, services, EventType::UserTierChanged, data).await?;
    }
    user.is_whitelisted = true;
    user.role = role.as_str().into();
    user.tier = tier.as_str().into();
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_is_read_a_line_each_with_a_csv_header_left_out() {
        let list =
            "\u{feff}email\r\n\"Ada@Example.com\",Ada\n\n  bob@example.com ; x\nnot an address\n";
        assert_eq!(
            lines_of(list),
            vec!["Ada@Example.com", "bob@example.com", "not an address"]
        );
        assert_eq!(
            lines_of("ada@example.com\nemail"),
            vec!["ada@example.com", "email"]
        );
    }

    #[test]
    fn only_plain_ascii_addresses_are_invited() {
        assert_eq!(address(" Ada@Example.COM ").unwrap(), "ada@example.com");
        assert!(address("аda@example.com").is_err(), "a Cyrillic а");
        assert!(address("ada@").is_err());
        assert!(address("Ada <ada@example.com>").is_err());
    }
}
