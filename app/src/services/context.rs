//! Everything the rules need, built once at start and handed to server functions through
//! Leptos context (and to axum handlers through state).

use std::sync::Arc;

use chrono::Duration;
use url::Url;

use super::access::AccessRules;
use super::background::Background;
use super::crypto::TokenCipher;
use super::live::LiveJobs;
use super::mail::{Mail, Mailer};
use super::passwords::Passwords;
use super::providers::Providers;
use super::rate_limit::Limits;
use super::webhooks::Webhooks;
use crate::db::shared::SharedConnections;
use crate::db::DbPool;

/// Settings the sign-in rules depend on.
#[derive(Clone, Debug)]
pub struct AuthSettings {
    /// The address people open; links in mail start with it.
    pub public_url: Url,
    /// How long a session lasts without activity in its second half.
    pub session_ttl: Duration,
    /// How long a session can last however active it is, from sign-in.
    pub session_max_age: Duration,
    /// The same for an admin's session (shorter: ASVS 3.3.2 for privileged users).
    pub admin_session_max_age: Duration,
    /// How many proxies in front of Gatehouse append to X-Forwarded-For (0: trust none).
    pub trusted_proxy_hops: usize,
    /// ARTWORK_URL_ALLOW_HOSTS: hosts inside the network an artist's image address may name
    /// (the operator's own storage), lower-case.
    pub artwork_url_allow_hosts: Vec<String>,
    /// REQUIRE_ADMIN_MFA: admin pages and functions only for an admin with a second factor.
    pub require_admin_mfa: bool,
}

impl AuthSettings {
    /// The defaults, for `public_url`: 30-day sessions (12 hours for an admin), no trusted
    /// proxy, no storage hosts inside the network, admins need a second factor over https.
    pub fn new(public_url: Url) -> Self {
        Self {
            require_admin_mfa: public_url.scheme() == "https",
            public_url,
            session_ttl: Duration::days(30),
            session_max_age: Duration::days(30),
            admin_session_max_age: Duration::hours(12),
            trusted_proxy_hops: 0,
            artwork_url_allow_hosts: Vec::new(),
        }
    }

    /// When a session made at `created_at` ends at the latest, whoever uses it.
    pub fn session_ends_by(
        &self,
        user: &crate::db::models::User,
        created_at: chrono::DateTime<chrono::Utc>,
    ) -> chrono::DateTime<chrono::Utc> {
        let max_age = if user.is_admin() {
            self.admin_session_max_age.min(self.session_max_age)
        } else {
            self.session_max_age
        };
        created_at + max_age
    }

    pub fn secure_cookies(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    /// `__Host-` binds the cookie to this exact host over https, path /.
    pub fn session_cookie_name(&self) -> &'static str {
        if self.secure_cookies() {
            "__Host-gatehouse_session"
        } else {
            "gatehouse_session"
        }
    }

    /// `__Host-` over https, like the session cookie: the provider flow's cookie.
    pub fn flow_cookie_name(&self) -> &'static str {
        if self.secure_cookies() {
            "__Host-gatehouse_flow"
        } else {
            "gatehouse_flow"
        }
    }

    /// `__Host-` over https, like the session cookie: the cookie that brings a form refused
    /// without JavaScript back to its page, in this browser only.
    pub fn form_refusal_cookie_name(&self) -> &'static str {
        if self.secure_cookies() {
            "__Host-gatehouse_refusal"
        } else {
            "gatehouse_refusal"
        }
    }

    /// `__Host-` over https, like the session cookie: the cookie that carries a sign-in from
    /// its first step (a password, a provider) to its second (a code).
    pub fn second_step_cookie_name(&self) -> &'static str {
        if self.secure_cookies() {
            "__Host-gatehouse_second_step"
        } else {
            "gatehouse_second_step"
        }
    }

    /// `__Host-` over https, like the session cookie: the cookie a passkey sign-in's
    /// challenge waits in, sealed, between its options and the browser's answer.
    pub fn passkey_cookie_name(&self) -> &'static str {
        if self.secure_cookies() {
            "__Host-gatehouse_passkey"
        } else {
            "gatehouse_passkey"
        }
    }

    /// An absolute link to `path_and_query` on the public address.
    pub fn link(&self, path_and_query: &str) -> String {
        let base = self.public_url.as_str().trim_end_matches('/');
        format!("{base}{path_and_query}")
    }
}

/// Everything the rules need, shared: cloning a `Services` (every request does, more than
/// once) copies one pointer.
#[derive(Clone)]
pub struct Services(Arc<ServiceSet>);

/// What [`Services`] holds; read through it (`services.pool`).
#[derive(Clone)]
pub struct ServiceSet {
    pub pool: DbPool,
    /// The connections the session lookups share, pipelined (db::shared).
    pub shared: Arc<SharedConnections>,
    pub passwords: Passwords,
    pub mailer: Mailer,
    pub limits: Arc<Limits>,
    pub settings: Arc<AuthSettings>,
    /// ALLOWLIST and ADMIN_EMAILS.
    pub access: Arc<AccessRules>,
    /// GitHub and the OpenID Connect providers people may sign in with.
    pub providers: Arc<Providers>,
    /// Encrypts provider tokens at rest (TOKEN_ENCRYPTION_KEYS).
    pub cipher: TokenCipher,
    /// What runs after the answer has gone.
    pub background: Background,
    /// The artists' open pages following their jobs' status.
    pub live: Arc<LiveJobs>,
    /// WebAuthn for PUBLIC_URL; none when it has no host name (passkeys are off).
    pub relying_party: Option<Arc<webauthn_rs::Webauthn>>,
    /// WEBHOOK_URLS and WEBHOOK_SECRET; none: no event is written or sent.
    pub webhooks: Option<Arc<Webhooks>>,
}

impl std::ops::Deref for Services {
    type Target = ServiceSet;

    fn deref(&self) -> &ServiceSet {
        &self.0
    }
}

impl Services {
    /// The rules over `pool`, as a fresh configuration has them: nobody on the allow-list, no
    /// provider, the production rate limits, one password hash at a time. The server, the
    /// tests and the benches each build theirs from here.
    pub fn new(pool: DbPool, settings: AuthSettings, mailer: Mailer, cipher: TokenCipher) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let relying_party = super::passkeys::relying_party(&settings.public_url).map(Arc::new);
        Self(Arc::new(ServiceSet {
            shared: Arc::new(SharedConnections::new(pool.clone(), cores)),
            pool,
            passwords: Passwords::new(1),
            mailer,
            limits: Arc::new(Limits::default()),
            settings: Arc::new(settings),
            access: Arc::default(),
            providers: Arc::default(),
            cipher,
            background: Background::default(),
            live: Arc::default(),
            relying_party,
            webhooks: None,
        }))
    }

    /// The set, to change while building (a copy of its own if it is shared already).
    fn set(&mut self) -> &mut ServiceSet {
        Arc::make_mut(&mut self.0)
    }

    /// At most `concurrency` password hashes at once.
    pub fn with_password_hashing(mut self, concurrency: usize) -> Self {
        self.set().passwords = Passwords::new(concurrency);
        self
    }

    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.set().limits = Arc::new(limits);
        self
    }

    /// ALLOWLIST and ADMIN_EMAILS.
    pub fn with_access(mut self, access: AccessRules) -> Self {
        self.set().access = Arc::new(access);
        self
    }

    pub fn with_providers(mut self, providers: Providers) -> Self {
        self.set().providers = Arc::new(providers);
        self
    }

    /// Signed webhooks to these endpoints (services::webhooks).
    pub fn with_webhooks(mut self, webhooks: Webhooks) -> Self {
        self.set().webhooks = Some(Arc::new(webhooks));
        self
    }

    /// Sends without holding up the request: how long a mail takes must not tell anyone
    /// whether an address is registered. A failure is logged.
    pub fn mail_in_background(&self, mail: Mail) {
        let mailer = self.mailer.clone();
        self.background.spawn("sending mail", async move {
            let sent = mailer.send(&mail).await;
            crate::telemetry::mail(sent.is_ok());
            sent.map_err(|e| format!("to {} ({}): {e}", mail.to, mail.subject))
        });
    }
}
