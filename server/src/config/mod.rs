//! Configuration: from the environment, an optional `.env`, or the same names as flags.
//! A bad value is refused at start with the variable's name and what it expects. The keys'
//! formats (`keys`), the providers' settings (`providers`) and the public address
//! (`public_url`) have files of their own.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use gatehouse_app::db::PoolSettings;
use gatehouse_app::services::access::AccessRules;
use gatehouse_app::services::AuthSettings;
use url::Url;

mod keys;
mod providers;
mod public_url;
#[cfg(test)]
mod tests;
mod validate;

pub use keys::{SecretKey, TokenKey, TokenKeys};
pub use public_url::PublicUrl;

/// Every setting Gatehouse reads. Flags and variables share names: `--db-pool-max` is
/// `DB_POOL_MAX`.
#[derive(clap::Args, Clone, Debug)]
pub struct Settings {
    /// PostgreSQL to use. Unset: Gatehouse runs a private PostgreSQL under DATA_DIR.
    #[arg(long, env, global = true, hide_env_values = true)]
    pub database_url: Option<String>,

    /// Address and port to listen on.
    #[arg(long, env, default_value = "127.0.0.1:3000", global = true)]
    pub bind: SocketAddr,

    /// The address people open, used for links and origin checks. Default: http://BIND.
    #[arg(long, env, global = true)]
    pub public_url: Option<PublicUrl>,

    /// Where the private PostgreSQL and generated secrets are kept.
    #[arg(long, env, default_value = "data", global = true)]
    pub data_dir: PathBuf,

    /// 64 hex characters (32 random bytes) that sign and encrypt Gatehouse's own cookies.
    #[arg(long, env, global = true, hide_env_values = true)]
    pub secret_key: Option<SecretKey>,

    /// Keys for provider tokens at rest: `id:64-hex-chars`, comma-separated, newest first.
    #[arg(long, env, global = true, hide_env_values = true)]
    pub token_encryption_keys: Option<TokenKeys>,

    /// Connections opened at start and kept.
    #[arg(long, env, default_value_t = 2, global = true)]
    pub db_pool_min: usize,

    /// Connections at most.
    #[arg(long, env, default_value_t = 10, global = true)]
    pub db_pool_max: usize,

    /// How long connecting, or waiting for a free connection, may take (milliseconds).
    #[arg(long, env, default_value_t = 5000, global = true)]
    pub db_connection_timeout_ms: u64,

    /// Retries when the database is unreachable at start.
    #[arg(long, env, default_value_t = 3, global = true)]
    pub db_max_retries: u32,

    /// The first retry's delay (milliseconds); each next one waits twice as long.
    #[arg(long, env, default_value_t = 1000, global = true)]
    pub db_retry_delay_ms: u64,

    /// How long a session lasts (days); activity in its second half extends it.
    #[arg(long, env, default_value_t = 30, global = true)]
    pub session_ttl_days: u32,

    /// How long a session can last however active it is (days from sign-in).
    #[arg(long, env, default_value_t = 30, global = true)]
    pub session_max_age_days: u32,

    /// How long an admin's session can last (hours from sign-in); then they sign in again.
    #[arg(long, env, default_value_t = 12, global = true)]
    pub admin_session_hours: u32,

    /// Hosts inside the network that an artist's image address may name (your own storage),
    /// comma-separated; every other address inside the network is refused.
    #[arg(long, env, default_value = "", global = true)]
    pub artwork_url_allow_hosts: String,

    /// Where mail goes: smtp://user:pass@host:587?tls=required, smtps://…, or smtp://host:25.
    /// Unset: mail is written to the log.
    #[arg(long, env, global = true, hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// The sender of Gatehouse's mail. Default: Gatehouse <no-reply@PUBLIC_URL's host>.
    #[arg(long, env, global = true)]
    pub mail_from: Option<String>,

    /// Password hashes computed at once (each takes 19 MiB and a core for a moment).
    /// Default: the number of cores.
    #[arg(long, env, global = true)]
    pub password_hash_concurrency: Option<usize>,

    /// Who is let in at sign-in without waiting: emails, @domains, github:login, github:id,
    /// separated by commas.
    #[arg(long, env, default_value = "", global = true)]
    pub allowlist: String,

    /// Emails that are made admins (and let in) at sign-in, separated by commas.
    #[arg(long, env, default_value = "", global = true)]
    pub admin_emails: String,

    /// Bearer tokens for the processing backend's internal API, comma-separated (each at
    /// least 32 characters; several allow rotation). Unset: the internal API refuses everyone.
    #[arg(long, env, default_value = "", global = true, hide_env_values = true)]
    pub internal_api_tokens: String,

    /// How long audit events are kept (days).
    #[arg(long, env, default_value_t = 365, global = true)]
    pub audit_retention_days: u32,

    /// How many proxies (load balancers) in front of Gatehouse append the client's address
    /// to X-Forwarded-For. 0 trusts none and uses the TCP peer.
    #[arg(long, env, default_value_t = 0, global = true)]
    pub trusted_proxy_hops: usize,

    /// How often expired sessions and verification tokens are deleted (seconds).
    #[arg(long, env, default_value_t = 3600, global = true)]
    pub cleanup_interval_secs: u64,

    /// The GitHub OAuth app's client id. Unset: no "Sign in with GitHub".
    #[arg(long, env, global = true)]
    pub github_client_id: Option<String>,

    /// The GitHub OAuth app's client secret.
    #[arg(long, env, global = true, hide_env_values = true)]
    pub github_client_secret: Option<String>,

    /// GitHub's authorization page (change for GitHub Enterprise).
    #[arg(
        long,
        env,
        default_value = "https://github.com/login/oauth/authorize",
        global = true
    )]
    pub github_authorize_url: Url,

    /// GitHub's token endpoint.
    #[arg(
        long,
        env,
        default_value = "https://github.com/login/oauth/access_token",
        global = true
    )]
    pub github_token_url: Url,

    /// GitHub's REST API (`https://HOST/api/v3` on GitHub Enterprise).
    #[arg(long, env, default_value = "https://api.github.com", global = true)]
    pub github_api_url: Url,

    /// OpenID Connect providers' ids, comma-separated (`google,okta`). Each id needs
    /// OIDC_<ID>_ISSUER, OIDC_<ID>_CLIENT_ID and OIDC_<ID>_CLIENT_SECRET, and may have
    /// OIDC_<ID>_NAME, the name on its button, and OIDC_<ID>_TRUST_EMAIL (true: its verified
    /// emails may make and join users).
    #[arg(long, env, default_value = "", global = true)]
    pub oidc_providers: String,
}

/// A configuration value that parsed but makes no sense.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    pub variable: String,
    pub problem: String,
}

impl ConfigError {
    pub fn new(variable: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            variable: variable.into(),
            problem: problem.into(),
        }
    }
}

impl Settings {
    /// The public address: PUBLIC_URL, or http:// and the bound address.
    pub fn public_url(&self) -> PublicUrl {
        self.public_url.clone().unwrap_or_else(|| {
            let url = Url::parse(&format!("http://{}", self.bind))
                .expect("a socket address makes a valid URL");
            PublicUrl(url)
        })
    }

    pub fn pool_settings(&self) -> PoolSettings {
        PoolSettings {
            min: self.db_pool_min,
            max: self.db_pool_max,
            connection_timeout: Duration::from_millis(self.db_connection_timeout_ms),
        }
    }

    /// The delays between start-up connection attempts: 1 s, 2 s, 4 s by default.
    pub fn retry_delays(&self) -> Vec<Duration> {
        (0..self.db_max_retries)
            .map(|attempt| {
                Duration::from_millis(self.db_retry_delay_ms.saturating_mul(1 << attempt))
            })
            .collect()
    }

    pub fn auth_settings(&self) -> AuthSettings {
        AuthSettings {
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
            ..AuthSettings::new(self.public_url().0)
        }
    }

    pub fn internal_tokens(&self) -> Vec<String> {
        self.internal_api_tokens
            .split(',')
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect()
    }

    pub fn access_rules(&self) -> AccessRules {
        AccessRules::parse(&self.allowlist, &self.admin_emails).expect("validated at start")
    }

    /// The sender: MAIL_FROM, or no-reply at the public host.
    pub fn mail_from(&self) -> String {
        self.mail_from.clone().unwrap_or_else(|| {
            let host = self
                .public_url()
                .0
                .host_str()
                .unwrap_or("localhost")
                .to_string();
            format!("Gatehouse <no-reply@{host}>")
        })
    }

    pub fn password_hash_concurrency(&self) -> usize {
        self.password_hash_concurrency
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
    }

    pub fn cleanup_interval(&self) -> Duration {
        Duration::from_secs(self.cleanup_interval_secs)
    }
}
