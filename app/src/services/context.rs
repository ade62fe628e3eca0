//! Everything the rules need, built once at start and handed to server functions through
//! Leptos context (and to axum handlers through state).

use std::sync::Arc;

use chrono::Duration;
use url::Url;

use super::access::AccessRules;
use super::mail::Mailer;
use super::passwords::Passwords;
use super::rate_limit::Limits;
use crate::db::DbPool;

/// Settings the sign-in rules depend on.
#[derive(Clone, Debug)]
pub struct AuthSettings {
    /// The address people open; links in mail start with it.
    pub public_url: Url,
    /// How long a session lasts without activity in its second half.
    pub session_ttl: Duration,
    /// How many proxies in front of Gatehouse append to X-Forwarded-For (0: trust none).
    pub trusted_proxy_hops: usize,
}

impl AuthSettings {
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

    /// An absolute link to `path_and_query` on the public address.
    pub fn link(&self, path_and_query: &str) -> String {
        let base = self.public_url.as_str().trim_end_matches('/');
        format!("{base}{path_and_query}")
    }
}

#[derive(Clone)]
pub struct Services {
    pub pool: DbPool,
    pub passwords: Passwords,
    pub mailer: Mailer,
    pub limits: Arc<Limits>,
    pub settings: Arc<AuthSettings>,
    /// ALLOWLIST and ADMIN_EMAILS.
    pub access: Arc<AccessRules>,
}
