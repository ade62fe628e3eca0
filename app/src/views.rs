//! Types that cross the wire: what a page shows and what a form sends back. Database rows
//! never cross as they are.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a change that needs a fresh sign-in answers on a stale session; forms show a way
/// to sign in again beside it.
pub const SIGN_IN_AGAIN: &str =
    "For your safety, sign in again first: this needs a sign-in from the last ten minutes.";

/// What an admin without a second factor is told on every admin page and function, when
/// REQUIRE_ADMIN_MFA is on; the admin pages show a way to set one up beside it.
pub const ADMIN_NEEDS_TWO_FACTOR: &str =
    "Administrators need two-step sign-in: set up an authenticator app first.";

/// Two-step sign-in's page: the second step of a sign-in for someone signing in, the set-up
/// of an authenticator app for someone signed in.
pub const TWO_FACTOR_PAGE: &str = "/two-factor";

/// The names a closed set of values is stored and sent as, and how they are read back:
/// `ALL` in the order pages offer them, `as_str`, and `parse` (None for any other name).
macro_rules! named_values {
    ($(#[$meta:meta])* $name:ident {
        $($(#[$variant_meta:meta])* $variant:ident = $text:literal),+ $(,)?
    }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$variant_meta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(name: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|value| value.as_str() == name)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

named_values! {
    /// What someone may do.
    Role { User = "user", Admin = "admin" }
}

named_values! {
    /// The service level.
    Tier { Anonymous = "anonymous", Free = "free", Member = "member" }
}

named_values! {
    /// Where an artwork job is: queued → processing → done or failed.
    JobStatus { Queued = "queued", Processing = "processing", Done = "done", Failed = "failed" }
}

named_values! {
    /// Which users the admin list shows.
    UserFilter {
        All = "all",
        /// Not whitelisted, not banned, not admin: the queue.
        Waiting = "waiting",
        Whitelisted = "whitelisted",
        Banned = "banned",
        Admin = "admin",
    }
}

impl Role {
    /// A stored role: `admin`, or a plain user for anything else (as adoption reads them).
    pub fn of(stored: &str) -> Self {
        Self::parse(stored).unwrap_or(Role::User)
    }
}

impl Tier {
    /// A stored tier (start-up refuses any it does not know), `free` if it were unknown.
    pub fn of(stored: &str) -> Self {
        Self::parse(stored).unwrap_or(Tier::Free)
    }
}

impl UserFilter {
    /// What the filter is called on the page.
    pub fn label(self) -> &'static str {
        match self {
            UserFilter::All => "Everyone",
            UserFilter::Waiting => "Waiting for access",
            UserFilter::Whitelisted => "Whitelisted",
            UserFilter::Banned => "Banned",
            UserFilter::Admin => "Admins",
        }
    }
}

/// What a page says after a change went through: the server function sends the browser to
/// the page with `?notice=CODE`, and the page shows the words. Each is written once here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notice {
    // The sign-in pages.
    Verified,
    PasswordReset,
    // The profile.
    NameSaved,
    PasswordChanged,
    VerificationSent,
    SessionEnded,
    OtherSessionsEnded,
    Linked,
    Unlinked,
    AccountDeleted,
    TwoFactorStarted,
    TwoFactorOn,
    TwoFactorOff,
    TwoFactorReset,
    PasskeyAdded,
    PasskeyRenamed,
    PasskeyRemoved,
    // Artworks.
    Submitted,
    // The admin dashboard.
    AccessChanged,
    RoleChanged,
    TierChanged,
    Banned,
    Unbanned,
    UserSessionEnded,
    UserDeleted,
    /// `let-in-N`: N people let in at once.
    LetIn,
    JobAssigned,
}

impl Notice {
    /// Its code in the address (two pages may use one code, each with its own words).
    pub fn code(self) -> &'static str {
        use Notice::*;
        match self {
            Verified => "verified",
            PasswordReset => "reset",
            NameSaved => "name",
            PasswordChanged => "password",
            VerificationSent => "verification-sent",
            SessionEnded => "session-ended",
            OtherSessionsEnded => "sessions-ended",
            Linked => "linked",
            Unlinked => "unlinked",
            TwoFactorStarted => "two-factor-key",
            TwoFactorOn => "two-factor-on",
            TwoFactorOff => "two-factor-off",
            TwoFactorReset => "two-factor-reset",
            PasskeyAdded => "passkey-added",
            PasskeyRenamed => "passkey-renamed",
            PasskeyRemoved => "passkey-removed",
            AccountDeleted | UserDeleted => "deleted",
            Submitted => "submitted",
            AccessChanged => "access",
            RoleChanged => "role",
            TierChanged => "tier",
            Banned => "banned",
            Unbanned => "unbanned",
            UserSessionEnded => "session",
            LetIn => "let-in",
            JobAssigned => "assigned",
        }
    }

    pub fn message(self) -> &'static str {
        use Notice::*;
        match self {
            Verified => "Your email address is confirmed. Sign in to continue.",
            PasswordReset => {
                "Your password is changed and every session has ended. Sign in with the new one."
            }
            NameSaved => "Your name is saved.",
            PasswordChanged => "Your password is changed; your other sessions have ended.",
            VerificationSent => "We have sent you a new confirmation link.",
            SessionEnded | UserSessionEnded => "That session has ended.",
            OtherSessionsEnded => "Every other session has ended.",
            Linked => "The account is connected: you can sign in with it now.",
            Unlinked => "The account is disconnected.",
            TwoFactorOn => {
                "Two-step sign-in is on: signing in now asks for a code from your app. Your \
                 other sessions have ended."
            }
            TwoFactorOff => "Two-step sign-in is off.",
            TwoFactorStarted => "A new key is ready: add it to your app, then confirm below.",
            TwoFactorReset => "Their two-step sign-in is off; they have been told by mail.",
            PasskeyAdded => "Passkey added.",
            PasskeyRenamed => "Passkey renamed.",
            PasskeyRemoved => "Passkey removed.",
            AccountDeleted => "Your account and everything it owned have been deleted.",
            Submitted => "Your artwork is queued for protection.",
            AccessChanged => "Access changed.",
            RoleChanged => "Role changed.",
            TierChanged => "Tier changed.",
            Banned => "Banned: their sessions have ended.",
            Unbanned => "The ban is lifted.",
            UserDeleted => "The user and everything they owned have been deleted.",
            LetIn => "The selected people can now sign in and use Gatehouse.",
            JobAssigned => "The job now belongs to that user.",
        }
    }

    /// `path?notice=CODE` (`path` may already carry a query).
    pub fn after(self, path: &str) -> String {
        let joint = if path.contains('?') { '&' } else { '?' };
        format!("{path}{joint}notice={}", self.code())
    }

    /// Which of `shown` (a page's notices) a `?notice=` code names.
    pub fn find(shown: &[Notice], code: &str) -> Option<Notice> {
        shown.iter().copied().find(|notice| {
            code == notice.code()
                || (*notice == Notice::LetIn
                    && code
                        .strip_prefix("let-in-")
                        .is_some_and(|n| n.parse::<usize>().is_ok()))
        })
    }
}

/// A person as pages see them: the signed-in one, or a user in the admin dashboard.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub id: String,
    pub name: String,
    pub email: String,
    pub email_verified: bool,
    pub role: Role,
    pub tier: Tier,
    pub whitelisted: bool,
    /// Let in, or an admin: may use the service (decided on the server, once).
    pub has_access: bool,
    /// Signing in asks for a code from an authenticator app too.
    pub two_factor: bool,
}

impl Person {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// The signed-in person.
pub type Me = Person;

/// A user with every column a client of Better Auth's API sees (its `user` object).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    pub person: Person,
    pub image: Option<String>,
    #[serde(deserialize_with = "rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(deserialize_with = "rfc3339")]
    pub updated_at: DateTime<Utc>,
}

/// A session with every column but its token (stored only as a digest), for Better Auth's
/// API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub id: String,
    pub user_id: String,
    #[serde(deserialize_with = "rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(deserialize_with = "rfc3339")]
    pub updated_at: DateTime<Utc>,
    #[serde(deserialize_with = "rfc3339")]
    pub expires_at: DateTime<Utc>,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
}

/// What the profile page shows, read at once: one server call for the page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileView {
    pub me: Me,
    pub sessions: Vec<SessionView>,
    pub methods: SignInMethods,
    /// Some of the person's unused recovery codes are of the older, shorter kind: the
    /// two-step card asks them to make new ones.
    pub older_recovery_codes: bool,
    /// Cards written on the server as HTML, so the client (which has a size budget) has no
    /// code for them: "Email address" (`components::written::email_card`), their passkeys
    /// (`components::form::passkey_card`; not where passkeys are off, PUBLIC_URL without a
    /// host name) and "Your data" (`components::form::data_card`).
    pub cards: String,
}

/// "Page not found", as the 404 page and every page that found nothing say it.
pub const NOT_FOUND_TITLE: &str = "Page not found";
pub const NOT_FOUND_HTML: &str = r#"<section class="card" aria-labelledby="not-found-title"><h1 id="not-found-title">Page not found</h1><p>There is no page at this address. It may have moved, or the link may be mistyped.</p><p><a href="/">Go to the home page</a></p></section>"#;

/// A page written on the server as HTML (`api::written`): the landing pages of mailed links,
/// and "Page not found". The client has no code for what is on it; its forms post plainly.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrittenPage {
    pub title: String,
    pub html: String,
}

/// A passkey on its owner's profile, as the server writes the card (it never reaches the
/// client as data).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasskeyView {
    pub id: String,
    pub name: String,
    pub created_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// What the two-step card (on the profile and on its page) says to someone whose unused
/// recovery codes include some of the older, shorter kind.
pub const OLDER_RECOVERY_CODES: &str = "Some of your recovery codes are of an older, shorter kind that is easier to guess. They still work, each once, but make new ones: turn two-step sign-in off and set it up again (you will scan a new QR code), and keep the new codes instead. ";

/// The person's authenticator app, as its page shows it: off, being set up, or on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwoFactorView {
    /// Signing in asks for a code.
    pub on: bool,
    /// A set-up waiting for its first code.
    pub setting_up: Option<TwoFactorSetup>,
    pub recovery_codes_left: usize,
    /// Some unused recovery codes are of the older, shorter kind: make new ones.
    pub older_recovery_codes: bool,
}

/// A set-up waiting for its first code: the QR code (an SVG), the same secret as text, and
/// the recovery codes, shown until the set-up is confirmed and never after.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwoFactorSetup {
    pub qr_svg: String,
    pub secret: String,
    pub recovery_codes: Vec<String>,
}

/// One of the person's sessions, as the profile page lists them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    pub id: String,
    pub device: String,
    pub ip_address: Option<String>,
    #[serde(deserialize_with = "rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(deserialize_with = "rfc3339")]
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
    pub person: Person,
    pub banned: bool,
    pub ban_reason: Option<String>,
    #[serde(deserialize_with = "rfc3339")]
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
    /// The invitations and failing webhook deliveries, written on the server as HTML.
    pub cards: String,
}

/// What the admin users list searches for, shows and in what order, as its address carries
/// it: `/admin?q=…&filter=…&tier=…&order=…`. The filter form, the next-page link and the
/// redirect after letting people in all write the address here, so they agree.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UsersView {
    pub q: String,
    pub filter: String,
    pub tier: String,
    pub order: String,
}

impl UsersView {
    /// The view a query names; `param` reads one parameter ("" when absent).
    pub fn read(param: impl Fn(&str) -> String) -> Self {
        UsersView {
            q: param("q"),
            filter: param("filter"),
            tier: param("tier"),
            order: param("order"),
        }
    }

    pub fn oldest_first(&self) -> bool {
        self.order == "oldest"
    }

    /// The view's query (only what is set), then `extra` pairs (a cursor, a notice).
    pub fn query(&self, extra: &[(&str, &str)]) -> String {
        let pairs = [
            ("q", self.q.as_str()),
            ("filter", &self.filter),
            ("tier", &self.tier),
            ("order", &self.order),
        ];
        let mut query = String::new();
        for (name, value) in pairs.iter().chain(extra) {
            if value.is_empty() {
                continue;
            }
            if !query.is_empty() {
                query.push('&');
            }
            query.push_str(name);
            query.push('=');
            query.extend(encoded(value));
        }
        query
    }

    /// The list's address for this view; always the list itself, whatever the view holds.
    pub fn href(&self, extra: &[(&str, &str)]) -> String {
        let query = self.query(extra);
        if query.is_empty() {
            "/admin".into()
        } else {
            format!("/admin?{query}")
        }
    }
}

/// What an address keeps as it is: RFC 3986's unreserved characters.
const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A moment as the views carry it (RFC 3339, as chrono writes it), read with chrono's RFC 3339
/// parser: its general one (`str::parse`, what serde's reading of a `DateTime` calls) is most
/// of chrono's share of the client.
fn rfc3339<'de, D: serde::Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    let text = String::deserialize(d)?;
    DateTime::parse_from_rfc3339(&text)
        .map(|at| at.with_timezone(&Utc))
        .map_err(serde::de::Error::custom)
}

/// `value` percent-encoded for a path or a query, leaving only the unreserved characters.
pub fn encoded(value: &str) -> percent_encoding::PercentEncode<'_> {
    percent_encoding::utf8_percent_encode(value, UNRESERVED)
}

/// A way to sign in, as an admin sees it (never its tokens).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectedAccount {
    pub provider: String,
    pub account_id: String,
    #[serde(deserialize_with = "rfc3339")]
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

/// The id of the sign-in choice that is a passkey, not a provider (no provider has it: ids
/// are the paths /auth/<id>, and this one is not configurable).
pub const PASSKEY: &str = "passkey";

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
    /// As stored: one of [`JobStatus`], or another word an adopted Artorizer table holds.
    pub status: String,
    pub original_url: String,
    #[serde(deserialize_with = "rfc3339")]
    pub created_at: DateTime<Utc>,
}

/// Everything the admin page of one user shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDetail {
    pub user: UserRow,
    /// Their second factors in words ("an authenticator app, 2 passkeys", or "none").
    pub second_factors: String,
    pub sessions: Vec<SessionView>,
    pub accounts: Vec<ConnectedAccount>,
    pub jobs: Vec<JobSummary>,
}

/// One audit event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub id: String,
    #[serde(deserialize_with = "rfc3339")]
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
    /// As stored: one of [`JobStatus`], or another word an adopted Artorizer table holds.
    pub status: String,
    pub original_url: String,
    pub protected_url: Option<String>,
    #[serde(deserialize_with = "rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(deserialize_with = "rfc3339")]
    pub updated_at: DateTime<Utc>,
}

impl JobView {
    /// The protected image, which pages show only once the job is done.
    pub fn protected_image(&self) -> Option<&str> {
        self.protected_url
            .as_deref()
            .filter(|_| self.status == JobStatus::Done.as_str())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobPage {
    pub rows: Vec<JobView>,
    pub next: Option<String>,
    /// The moment the rows were read, as a live stream's event id: the page's stream
    /// resumes from it, so a change made while the page loaded still comes.
    pub as_of: String,
}

/// One line of a job's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobEvent {
    #[serde(deserialize_with = "rfc3339")]
    pub at: DateTime<Utc>,
    pub what: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobDetail {
    pub job: JobView,
    pub history: Vec<JobEvent>,
    /// As [`JobPage::as_of`].
    pub as_of: String,
}

#[cfg(test)]
mod tests {
    use super::UsersView;

    #[test]
    fn a_users_view_writes_only_what_is_set_encoded_and_always_to_the_list() {
        assert_eq!(UsersView::default().href(&[]), "/admin");
        let view = UsersView {
            q: "ada lovelace&co/".into(),
            filter: "waiting".into(),
            ..UsersView::default()
        };
        assert_eq!(
            view.href(&[("notice", "let-in-2")]),
            "/admin?q=ada%20lovelace%26co%2F&filter=waiting&notice=let-in-2"
        );
        let read = UsersView::read(|name| {
            if name == "order" {
                "oldest".into()
            } else {
                String::new()
            }
        });
        assert!(read.oldest_first());
        assert_eq!(read.query(&[("after", "x y")]), "order=oldest&after=x%20y");
    }
}
