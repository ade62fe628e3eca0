//! Sessions: made at sign-in, found from the cookie's token, sliding, ended.
//! The database is the truth, so a revoked session is refused at once on every instance.
//! A session slides (SESSION_TTL_DAYS from its last extension) but never past its absolute
//! end, counted from sign-in: SESSION_MAX_AGE_DAYS, or ADMIN_SESSION_HOURS for an admin.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use chrono::{DateTime, Duration, Utc};
use diesel_async::AsyncPgConnection;

use super::audit::{Actor, Origin};
use super::context::Services;
use super::tokens;
use super::Refusal;
use crate::db::models::{Session, User};
use crate::db::sessions;
use crate::views::{Me, Role, SessionRecord, SessionView, Tier, UserRecord};

/// Who a request belongs to: the signed-in person and their session. The rows it holds
/// stay inside the services (the compiler sees to it); server functions and routes read
/// what they need through its methods.
#[derive(Clone, Debug)]
pub struct SignedIn {
    pub(in crate::services) user: User,
    pub(in crate::services) session: Session,
    /// The expiry moved on during this request: send the cookie again.
    pub refreshed: bool,
}

impl SignedIn {
    pub fn user_id(&self) -> &str {
        &self.user.id
    }

    pub fn session_id(&self) -> &str {
        &self.session.id
    }

    /// When the session ends unless it slides on.
    pub fn expires_at(&self) -> DateTime<Utc> {
        self.session.expires_at
    }

    /// Let in, or an admin: may use the service.
    pub fn has_access(&self) -> bool {
        super::access::has_access(&self.user)
    }

    /// The person as the audit log names them.
    pub fn actor(&self) -> Actor<'_> {
        Actor::User(&self.user.id, &self.user.email)
    }

    /// The signed-in person, as pages see them.
    pub fn me(&self) -> Me {
        me(&self.user)
    }

    /// The user with every column Better Auth's API shows.
    pub fn user_record(&self) -> UserRecord {
        user_record(&self.user)
    }

    /// This session with every column Better Auth's API shows.
    pub fn session_record(&self) -> SessionRecord {
        record(&self.session)
    }
}

pub(in crate::services) fn user_record(user: &User) -> UserRecord {
    UserRecord {
        person: me(user),
        image: user.image.clone(),
        created_at: user.created_at,
        updated_at: user.updated_at,
    }
}

fn record(session: &Session) -> SessionRecord {
    SessionRecord {
        id: session.id.clone(),
        user_id: session.user_id.clone(),
        created_at: session.created_at,
        updated_at: session.updated_at,
        expires_at: session.expires_at,
        ip_address: session.ip_address.clone(),
        user_agent: session.user_agent.clone(),
    }
}

/// A user as the views show them; `has_access` is decided here, once.
pub(in crate::services) fn me(user: &User) -> Me {
    Me {
        id: user.id.clone(),
        name: user.name.clone(),
        email: user.email.clone(),
        email_verified: user.email_verified,
        role: Role::of(&user.role),
        tier: Tier::of(&user.tier),
        whitelisted: user.is_whitelisted,
        has_access: super::access::has_access(user),
        two_factor: user.two_factor_enabled,
    }
}

/// How a sign-in went, as RFC 8176 authentication methods, for the session to keep (and its
/// JWTs to carry as `amr`). `method` is the first step (`password`, `invitation`, which sets
/// one, `passkey`, or a provider's id), `second_factor` the second (`totp`, `recovery_code`,
/// `passkey`). A password is `pwd`, a code `otp` (a recovery code is a one-time code too), a
/// passkey `hwk`; `mfa` when more than one factor passed: a second step, or a passkey, which
/// always verifies its user. A provider's own sign-in is not named: Gatehouse did not see it.
pub fn methods(method: &str, second_factor: Option<&str>) -> Vec<&'static str> {
    let factor = |name: &str| match name {
        "password" | "invitation" => Some("pwd"),
        "totp" | "recovery_code" => Some("otp"),
        "passkey" => Some("hwk"),
        _ => None,
    };
    let mut methods: Vec<&'static str> = [Some(method), second_factor]
        .into_iter()
        .flatten()
        .filter_map(factor)
        .collect();
    methods.dedup();
    if second_factor.is_some() || methods.contains(&"hwk") {
        methods.push("mfa");
    }
    methods
}

/// A new session for `user_id` that signed in by `amr` ([`methods`]); returns the token for
/// the cookie (never stored).
pub async fn start(
    services: &Services,
    conn: &mut AsyncPgConnection,
    user: &User,
    amr: &[&str],
    origin: &Origin,
) -> Result<(String, Session), Refusal> {
    let token = tokens::new_token();
    let now = Utc::now();
    let settings = &services.settings;
    let session = sessions::insert(
        conn,
        sessions::NewSession {
            user_id: &user.id,
            token_hash: &tokens::digest(&token),
            expires_at: (now + settings.session_ttl).min(settings.session_ends_by(user, now)),
            ip_address: origin.ip_address.as_deref(),
            user_agent: origin.user_agent.as_deref(),
            amr,
        },
    )
    .await?;
    Ok((token, session))
}

/// The live session behind a cookie token, if any. In a session's second half a request
/// extends it, with at most one write a day.
pub async fn authenticate(services: &Services, token: &str) -> Result<Option<SignedIn>, Refusal> {
    if !tokens::is_well_formed(token) {
        return Ok(None);
    }
    by_digest(services, tokens::digest(token)).await
}

/// `signed_in`'s session as it is now, by the same rules: `None` once it ended (signed out,
/// expired, revoked, banned). For what outlives its request (a live status stream).
pub async fn recheck(
    services: &Services,
    signed_in: &SignedIn,
) -> Result<Option<SignedIn>, Refusal> {
    by_digest(services, signed_in.session.token.clone()).await
}

async fn by_digest(services: &Services, token_hash: String) -> Result<Option<SignedIn>, Refusal> {
    let now = Utc::now();
    let found = services
        .shared
        .read(|conn| {
            let token_hash = &token_hash;
            async move { sessions::find_live(&conn, token_hash, now).await }
        })
        .await?;
    let Some((mut session, user)) = found else {
        return Ok(None);
    };
    if is_banned(&user, now) {
        return Ok(None);
    }
    // Checked here, not only in the stored expiry: someone made admin during a session gets
    // the admin's shorter limit at once.
    let ends_by = services.settings.session_ends_by(&user, session.created_at);
    if now >= ends_by {
        return Ok(None);
    }
    let ttl = services.settings.session_ttl;
    let in_second_half = session.expires_at - now < ttl / 2;
    let written_today = now - session.updated_at < Duration::days(1);
    let refreshed = in_second_half && !written_today && session.expires_at < ends_by;
    if refreshed {
        session.expires_at = (now + ttl).min(ends_by);
        session.updated_at = now;
        let mut conn = services.pool.get().await?;
        sessions::extend(&mut conn, &session.id, session.expires_at, now).await?;
    }
    Ok(Some(SignedIn {
        user,
        session,
        refreshed,
    }))
}

/// How long a session lives that ends with the browser (Better Auth's `rememberMe: false`):
/// a day at most, as Better Auth's own, so a cookie a browser restores after a crash does
/// not outlive the person's visit by weeks.
pub const FORGOTTEN_AFTER: Duration = Duration::days(1);

/// Brings the session's end forward to [`FORGOTTEN_AFTER`] from now, if it is later. It
/// then never slides: it stays in the day of its last write.
pub async fn end_with_the_browser(
    services: &Services,
    current: &mut SignedIn,
) -> Result<(), Refusal> {
    let now = Utc::now();
    let ends = now + FORGOTTEN_AFTER;
    if current.session.expires_at > ends {
        let mut conn = services.pool.get().await?;
        sessions::extend(&mut conn, &current.session.id, ends, now).await?;
        current.session.expires_at = ends;
        current.session.updated_at = now;
    }
    Ok(())
}

/// How recent a sign-in must be for a change that could hand the account to someone else
/// (a new way in, a way in removed, the account deleted, the other sessions ended): a stolen
/// session cookie is not enough for those (ASVS 3.7.1).
pub const STEP_UP_MINUTES: i64 = 10;

/// Whether this session began with a sign-in in the last [`STEP_UP_MINUTES`]. Every
/// sign-in makes a new session, so its age is the time since the person last proved who
/// they are.
pub fn signed_in_recently(current: &SignedIn) -> bool {
    Utc::now() - current.session.created_at < Duration::minutes(STEP_UP_MINUTES)
}

pub fn is_banned(user: &User, now: DateTime<Utc>) -> bool {
    user.banned && user.ban_expires.is_none_or(|until| until > now)
}

/// The user's live sessions for the profile page, newest first.
pub async fn list(services: &Services, current: &SignedIn) -> Result<Vec<SessionView>, Refusal> {
    Ok(live_rows(services, current)
        .await?
        .into_iter()
        .map(|row| SessionView {
            this_device: row.id == current.session.id,
            device: describe_device(row.user_agent.as_deref()),
            ip_address: row.ip_address,
            created_at: row.created_at,
            last_active: row.updated_at,
            id: row.id,
        })
        .collect())
}

/// The user's live sessions with every column Better Auth's API shows, newest first.
pub async fn records(
    services: &Services,
    current: &SignedIn,
) -> Result<Vec<SessionRecord>, Refusal> {
    Ok(live_rows(services, current)
        .await?
        .iter()
        .map(record)
        .collect())
}

async fn live_rows(services: &Services, current: &SignedIn) -> Result<Vec<Session>, Refusal> {
    let (user_id, now) = (current.user_id(), Utc::now());
    let rows = services
        .shared
        .read(|conn| async move { sessions::list_live(&conn, user_id, now).await })
        .await?;
    Ok(rows)
}

/// "Firefox on Linux", from a user agent; "Unknown device" when it says nothing useful.
/// A person's sessions come back on every profile view, and parsing a user agent cost a
/// tenth of rendering that page, so descriptions are kept (a bounded set, forgotten at once
/// when full: an attacker's made-up agents only cost the parse again).
pub fn describe_device(user_agent: Option<&str>) -> String {
    const KEPT: usize = 1024;
    const LONGEST_KEPT: usize = 512;
    static DESCRIBED: LazyLock<Mutex<HashMap<String, String>>> = LazyLock::new(Default::default);
    let Some(agent) = user_agent else {
        return UNKNOWN_DEVICE.to_string();
    };
    if let Some(known) = DESCRIBED.lock().expect("not poisoned").get(agent) {
        return known.clone();
    }
    let description = parse_device(agent);
    if agent.len() <= LONGEST_KEPT {
        let mut described = DESCRIBED.lock().expect("not poisoned");
        if described.len() >= KEPT {
            described.clear();
        }
        described.insert(agent.to_string(), description.clone());
    }
    description
}

const UNKNOWN_DEVICE: &str = "Unknown device";

fn parse_device(user_agent: &str) -> String {
    let Some(parsed) = woothee::parser::Parser::new().parse(user_agent) else {
        return UNKNOWN_DEVICE.to_string();
    };
    let known = |s: &str| !s.is_empty() && s != woothee::woothee::VALUE_UNKNOWN;
    match (known(parsed.name), known(parsed.os)) {
        (true, true) => format!("{} on {}", parsed.name, parsed.os),
        (true, false) => parsed.name.to_string(),
        (false, true) => format!("A browser on {}", parsed.os),
        (false, false) => UNKNOWN_DEVICE.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::{describe_device, methods};

    #[test]
    fn a_sign_in_is_named_by_the_rfc_8176_methods_it_used() {
        assert_eq!(methods("password", None), ["pwd"]);
        assert_eq!(methods("invitation", None), ["pwd"]);
        assert_eq!(methods("password", Some("totp")), ["pwd", "otp", "mfa"]);
        assert_eq!(
            methods("password", Some("recovery_code")),
            ["pwd", "otp", "mfa"]
        );
        assert_eq!(methods("password", Some("passkey")), ["pwd", "hwk", "mfa"]);
        assert_eq!(methods("passkey", None), ["hwk", "mfa"]);
        // A provider's own sign-in is the provider's to name; the code after it is ours.
        assert!(methods("github", None).is_empty());
        assert_eq!(methods("github", Some("totp")), ["otp", "mfa"]);
    }

    const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0";

    #[test]
    fn devices_are_described_the_same_from_the_parse_and_from_what_was_kept() {
        assert_eq!(describe_device(Some(FIREFOX)), "Firefox on Linux");
        assert_eq!(describe_device(Some(FIREFOX)), "Firefox on Linux");
        assert_eq!(describe_device(None), "Unknown device");
        // More made-up agents than are kept, and one far too long to keep: each is
        // described from its own parse, and a known one still comes out right after.
        for n in 0..1500 {
            assert_eq!(
                describe_device(Some(&format!("made-up {n}"))),
                "Unknown device"
            );
        }
        let long = format!("{FIREFOX} {}", "x".repeat(600));
        assert_eq!(describe_device(Some(&long)), "Firefox on Linux");
        assert_eq!(describe_device(Some(FIREFOX)), "Firefox on Linux");
    }
}
