//! Configuration: from the environment, an optional `.env`, or the same names as flags.
//! `Settings` is what clap reads, in groups of one concern each (a file each); `Config` is
//! what they mean, parsed and checked once at start, so a bad value stops Gatehouse with the
//! variable's name and what it expects, and nothing reads the environment again after.

use std::net::SocketAddr;
use std::path::PathBuf;

use gatehouse_app::services::access::AccessRules;
use gatehouse_app::services::providers::Providers;
use gatehouse_app::services::AuthSettings;
use url::Url;

mod access;
mod auth;
mod better_auth;
mod database;
mod housekeeping;
mod internal_api;
mod keys;
mod mail;
mod providers;
mod public_url;
#[cfg(test)]
mod tests;
mod webhooks;

pub use better_auth::BetterAuthConfig;
pub use database::DatabaseConfig;
pub use housekeeping::Housekeeping;
pub use keys::{KeyArgs, SecretKey, TokenKey, TokenKeys};
pub use mail::MailConfig;
pub use public_url::PublicUrl;
pub use webhooks::WebhookConfig;

/// Every setting Gatehouse reads. Flags and variables share names: `--db-pool-max` is
/// `DB_POOL_MAX`.
#[derive(clap::Args, Clone, Debug)]
pub struct Settings {
    /// Address and port to listen on.
    #[arg(long, env, default_value = "127.0.0.1:3000", global = true)]
    pub bind: SocketAddr,

    /// The address people open, used for links and origin checks. Default: http://BIND.
    #[arg(long, env, global = true)]
    pub public_url: Option<PublicUrl>,

    /// Where Prometheus scrapes /metrics (never the public port). Unset: no metrics.
    #[arg(long, env, global = true)]
    pub metrics_bind: Option<SocketAddr>,

    /// The wasm client's build (`bash .ci/client` writes it). Default: `client` in the folder
    /// above the binary's (target/client for target/release/gatehouse). Without one, pages
    /// are served as they are, without hydration.
    #[arg(long, env, global = true)]
    pub client_dir: Option<PathBuf>,

    #[command(flatten)]
    pub keys: KeyArgs,
    #[command(flatten)]
    pub database: database::DatabaseArgs,
    #[command(flatten)]
    pub auth: auth::AuthArgs,
    #[command(flatten)]
    pub access: access::AccessArgs,
    #[command(flatten)]
    pub mail: mail::MailArgs,
    #[command(flatten)]
    pub internal_api: internal_api::InternalApiArgs,
    #[command(flatten)]
    pub housekeeping: housekeeping::HousekeepingArgs,
    #[command(flatten)]
    pub providers: providers::ProviderArgs,
    #[command(flatten)]
    pub better_auth: better_auth::BetterAuthArgs,
    #[command(flatten)]
    pub webhooks: webhooks::WebhookArgs,
}

/// The configuration, parsed and checked: what every command starts from.
#[derive(Clone)]
pub struct Config {
    pub bind: SocketAddr,
    /// PUBLIC_URL, or http:// and the bound address.
    pub public_url: PublicUrl,
    /// METRICS_BIND; `None` serves no metrics.
    pub metrics_bind: Option<SocketAddr>,
    /// CLIENT_DIR, or its default.
    pub client_dir: PathBuf,
    /// As configured; `crate::secrets` makes missing ones locally.
    pub keys: KeyArgs,
    pub database: DatabaseConfig,
    pub auth: AuthSettings,
    pub password_hash_concurrency: usize,
    pub access: AccessRules,
    pub providers: Providers,
    pub mail: MailConfig,
    /// INTERNAL_API_TOKENS; none closes the internal API.
    pub internal_tokens: Vec<String>,
    pub housekeeping: Housekeeping,
    /// Better Auth's API, when BETTER_AUTH_COMPAT is on.
    pub better_auth: Option<BetterAuthConfig>,
    /// WEBHOOK_URLS and WEBHOOK_SECRET; none sends no webhooks.
    pub webhooks: Option<WebhookConfig>,
}

/// `client` in the folder above the running binary's.
fn default_client_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join("client")))
        .unwrap_or_else(|| PathBuf::from("client"))
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
    /// The configuration, with each provider's `OIDC_<ID>_…` variables from the environment.
    pub fn parse(&self) -> Result<Config, ConfigError> {
        self.parse_with(|name| std::env::var(name).ok())
    }

    /// The same, reading the per-provider variables through `var` (tests pass a map).
    pub fn parse_with(&self, var: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let public_url = self.public_url.clone().unwrap_or_else(|| {
            let url = Url::parse(&format!("http://{}", self.bind))
                .expect("a socket address makes a valid URL");
            PublicUrl(url)
        });
        if self
            .metrics_bind
            .is_some_and(|metrics| metrics.port() == self.bind.port())
        {
            return Err(ConfigError::new(
                "METRICS_BIND",
                "expected a port other than BIND's: metrics are never served to the public",
            ));
        }
        Ok(Config {
            bind: self.bind,
            metrics_bind: self.metrics_bind,
            client_dir: self.client_dir.clone().unwrap_or_else(default_client_dir),
            keys: self.keys.clone(),
            database: self.database.parse()?,
            auth: self.auth.parse(&public_url)?,
            password_hash_concurrency: self.auth.password_hash_concurrency()?,
            access: self.access.parse()?,
            providers: self.providers.parse(var)?,
            mail: self.mail.parse(&public_url)?,
            internal_tokens: self.internal_api.parse()?,
            housekeeping: self.housekeeping.parse()?,
            better_auth: self.better_auth.parse()?,
            webhooks: self.webhooks.parse()?,
            public_url,
        })
    }
}
