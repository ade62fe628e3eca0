//! The sign-in rules' settings: how long sessions last, whom to believe about a client's
//! address, where artists' images may be, and how many password hashes run at once.

use gatehouse_app::services::AuthSettings;

use super::{ConfigError, PublicUrl};

#[derive(clap::Args, Clone, Debug)]
pub struct AuthArgs {
    /// How long a session lasts (days); activity in its second half extends it.
    #[arg(long, env, default_value_t = 30, global = true)]
    pub session_ttl_days: u32,

    /// How long a session can last however active it is (days from sign-in).
    #[arg(long, env, default_value_t = 30, global = true)]
    pub session_max_age_days: u32,

    /// How long an admin's session can last (hours from sign-in); then they sign in again.
    #[arg(long, env, default_value_t = 12, global = true)]
    pub admin_session_hours: u32,

    /// How many proxies (load balancers) in front of Gatehouse append the client's address
    /// to X-Forwarded-For. 0 trusts none and uses the TCP peer.
    #[arg(long, env, default_value_t = 0, global = true)]
    pub trusted_proxy_hops: usize,

    /// Hosts inside the network that an artist's image address may name (your own storage),
    /// comma-separated; every other address inside the network is refused.
    #[arg(long, env, default_value = "", global = true)]
    pub artwork_url_allow_hosts: String,

    /// Whether an admin needs a second factor (an authenticator app) before the admin pages
    /// open. Default: true when PUBLIC_URL is https, false otherwise (local development).
    #[arg(long, env, global = true)]
    pub require_admin_mfa: Option<bool>,

    /// Password hashes computed at once (each takes 19 MiB and a core for a moment).
    /// Default: the number of cores.
    #[arg(long, env, global = true)]
    pub password_hash_concurrency: Option<usize>,
}

impl AuthArgs {
    /// The rules' settings for `public_url`, checked.
    pub fn parse(&self, public_url: &PublicUrl) -> Result<AuthSettings, ConfigError> {
        if self.trusted_proxy_hops > 10 {
            return Err(ConfigError::new(
                "TRUSTED_PROXY_HOPS",
                "expected at most 10",
            ));
        }
        if !(1..=400).contains(&self.session_ttl_days) {
            return Err(ConfigError::new(
                "SESSION_TTL_DAYS",
                "expected between 1 and 400 days",
            ));
        }
        if !(1..=400).contains(&self.session_max_age_days) {
            return Err(ConfigError::new(
                "SESSION_MAX_AGE_DAYS",
                "expected between 1 and 400 days",
            ));
        }
        if !(1..=24 * 30).contains(&self.admin_session_hours) {
            return Err(ConfigError::new(
                "ADMIN_SESSION_HOURS",
                "expected between 1 and 720 hours",
            ));
        }
        let defaults = AuthSettings::new(public_url.0.clone());
        Ok(AuthSettings {
            session_ttl: chrono::Duration::days(self.session_ttl_days.into()),
            session_max_age: chrono::Duration::days(self.session_max_age_days.into()),
            admin_session_max_age: chrono::Duration::hours(self.admin_session_hours.into()),
            trusted_proxy_hops: self.trusted_proxy_hops,
            artwork_url_allow_hosts: self
                .artwork_url_allow_hosts
                .split(',')
                .map(|host| host.trim().trim_end_matches('.').to_ascii_lowercase())
                .filter(|host| !host.is_empty())
                .collect(),
            require_admin_mfa: self.require_admin_mfa.unwrap_or(defaults.require_admin_mfa),
            ..defaults
        })
    }

    /// PASSWORD_HASH_CONCURRENCY, or the number of cores.
    pub fn password_hash_concurrency(&self) -> Result<usize, ConfigError> {
        match self.password_hash_concurrency {
            Some(0) => Err(ConfigError::new(
                "PASSWORD_HASH_CONCURRENCY",
                "expected at least 1",
            )),
            Some(n) => Ok(n),
            None => Ok(std::thread::available_parallelism().map_or(2, |n| n.get())),
        }
    }
}
