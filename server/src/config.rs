//! Configuration: from the environment, an optional `.env`, or the same names as flags.
//! A bad value is refused at start with the variable's name and what it expects.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use gatehouse_app::db::PoolSettings;
use gatehouse_app::services::access::AccessRules;
use gatehouse_app::services::providers::{GithubSettings, OidcSettings, Providers, GITHUB};
use gatehouse_app::services::AuthSettings;
use openidconnect::IssuerUrl;
use url::Url;

use crate::secrets::{SecretKey, TokenKeys};

/// Every setting Gatehouse reads. Flags and variables share names: `--db-pool-max` is
/// `DB_POOL_MAX`.
#[derive(clap::Args, Clone, Debug)]
pub struct Settings {
    /// PostgreSQL to use. Unset: Gatehouse runs a private PostgreSQL under DATA_DIR.
    #[arg(
        long,
        env = "DATABASE_URL",
        value_name = "DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    pub database_url: Option<String>,

    /// Address and port to listen on.
    #[arg(
        long,
        env = "BIND",
        value_name = "BIND",
        default_value = "127.0.0.1:3000",
        global = true
    )]
    pub bind: SocketAddr,

    /// The address people open, used for links and origin checks. Default: http://BIND.
    #[arg(long, env = "PUBLIC_URL", value_name = "PUBLIC_URL", global = true)]
    pub public_url: Option<PublicUrl>,

    /// Where the private PostgreSQL and generated secrets are kept.
    #[arg(
        long,
        env = "DATA_DIR",
        value_name = "DATA_DIR",
        default_value = "data",
        global = true
    )]
    pub data_dir: PathBuf,

    /// 64 hex characters (32 random bytes) that sign and encrypt Gatehouse's own cookies.
    #[arg(
        long,
        env = "SECRET_KEY",
        value_name = "SECRET_KEY",
        global = true,
        hide_env_values = true
    )]
    pub secret_key: Option<SecretKey>,

    /// Keys for provider tokens at rest: `id:64-hex-chars`, comma-separated, newest first.
    #[arg(
        long,
        env = "TOKEN_ENCRYPTION_KEYS",
        value_name = "TOKEN_ENCRYPTION_KEYS",
        global = true,
        hide_env_values = true
    )]
    pub token_encryption_keys: Option<TokenKeys>,

    /// Connections opened at start and kept.
    #[arg(
        long,
        env = "DB_POOL_MIN",
        value_name = "DB_POOL_MIN",
        default_value_t = 2,
        global = true
    )]
    pub db_pool_min: usize,

    /// Connections at most.
    #[arg(
        long,
        env = "DB_POOL_MAX",
        value_name = "DB_POOL_MAX",
        default_value_t = 10,
        global = true
    )]
    pub db_pool_max: usize,

    /// How long connecting, or waiting for a free connection, may take (milliseconds).
    #[arg(
        long,
        env = "DB_CONNECTION_TIMEOUT_MS",
        value_name = "DB_CONNECTION_TIMEOUT_MS",
        default_value_t = 5000,
        global = true
    )]
    pub db_connection_timeout_ms: u64,

    /// Retries when the database is unreachable at start.
    #[arg(
        long,
        env = "DB_MAX_RETRIES",
        value_name = "DB_MAX_RETRIES",
        default_value_t = 3,
        global = true
    )]
    pub db_max_retries: u32,

    /// The first retry's delay (milliseconds); each next one waits twice as long.
    #[arg(
        long,
        env = "DB_RETRY_DELAY_MS",
        value_name = "DB_RETRY_DELAY_MS",
        default_value_t = 1000,
        global = true
    )]
    pub db_retry_delay_ms: u64,

    /// How long a session lasts (days); activity in its second half extends it.
    #[arg(
        long,
        env = "SESSION_TTL_DAYS",
        value_name = "SESSION_TTL_DAYS",
        default_value_t = 30,
        global = true
    )]
    pub session_ttl_days: u32,

    /// How long a session can last however active it is (days from sign-in).
    #[arg(
        long,
        env = "SESSION_MAX_AGE_DAYS",
        value_name = "SESSION_MAX_AGE_DAYS",
        default_value_t = 30,
        global = true
    )]
    pub session_max_age_days: u32,

    /// How long an admin's session can last (hours from sign-in); then they sign in again.
    #[arg(
        long,
        env = "ADMIN_SESSION_HOURS",
        value_name = "ADMIN_SESSION_HOURS",
        default_value_t = 12,
        global = true
    )]
    pub admin_session_hours: u32,

    /// Hosts inside the network that an artist's image address may name (your own storage),
    /// comma-separated; every other address inside the network is refused.
    #[arg(
        long,
        env = "ARTWORK_URL_ALLOW_HOSTS",
        value_name = "ARTWORK_URL_ALLOW_HOSTS",
        default_value = "",
        global = true
    )]
    pub artwork_url_allow_hosts: String,

    /// Where mail goes: smtp://user:pass@host:587?tls=required, smtps://…, or smtp://host:25.
    /// Unset: mail is written to the log.
    #[arg(
        long,
        env = "SMTP_URL",
        value_name = "SMTP_URL",
        global = true,
        hide_env_values = true
    )]
    pub smtp_url: Option<String>,

    /// The sender of Gatehouse's mail. Default: Gatehouse <no-reply@PUBLIC_URL's host>.
    #[arg(long, env = "MAIL_FROM", value_name = "MAIL_FROM", global = true)]
    pub mail_from: Option<String>,

    /// Password hashes computed at once (each takes 19 MiB and a core for a moment).
    /// Default: the number of cores.
    #[arg(
        long,
        env = "PASSWORD_HASH_CONCURRENCY",
        value_name = "PASSWORD_HASH_CONCURRENCY",
        global = true
    )]
    pub password_hash_concurrency: Option<usize>,

    /// Who is let in at sign-in without waiting: emails, @domains, github:login, github:id,
    /// separated by commas.
    #[arg(
        long,
        env = "ALLOWLIST",
        value_name = "ALLOWLIST",
        default_value = "",
        global = true
    )]
    pub allowlist: String,

    /// Emails that are made admins (and let in) at sign-in, separated by commas.
    #[arg(
        long,
        env = "ADMIN_EMAILS",
        value_name = "ADMIN_EMAILS",
        default_value = "",
        global = true
    )]
    pub admin_emails: String,

    /// Bearer tokens for the processing backend's internal API, comma-separated (each at
    /// least 32 characters; several allow rotation). Unset: the internal API refuses everyone.
    #[arg(
        long,
        env = "INTERNAL_API_TOKENS",
        value_name = "INTERNAL_API_TOKENS",
        default_value = "",
        global = true,
        hide_env_values = true
    )]
    pub internal_api_tokens: String,

    /// How long audit events are kept (days).
    #[arg(
        long,
        env = "AUDIT_RETENTION_DAYS",
        value_name = "AUDIT_RETENTION_DAYS",
        default_value_t = 365,
        global = true
    )]
    pub audit_retention_days: u32,

    /// How many proxies (load balancers) in front of Gatehouse append the client's address
    /// to X-Forwarded-For. 0 trusts none and uses the TCP peer.
    #[arg(
        long,
        env = "TRUSTED_PROXY_HOPS",
        value_name = "TRUSTED_PROXY_HOPS",
        default_value_t = 0,
        global = true
    )]
    pub trusted_proxy_hops: usize,

    /// How often expired sessions and verification tokens are deleted (seconds).
    #[arg(
        long,
        env = "CLEANUP_INTERVAL_SECS",
        value_name = "CLEANUP_INTERVAL_SECS",
        default_value_t = 3600,
        global = true
    )]
    pub cleanup_interval_secs: u64,

    /// The GitHub OAuth app's client id. Unset: no "Sign in with GitHub".
    #[arg(
        long,
        env = "GITHUB_CLIENT_ID",
        value_name = "GITHUB_CLIENT_ID",
        global = true
    )]
    pub github_client_id: Option<String>,

    /// The GitHub OAuth app's client secret.
    #[arg(
        long,
        env = "GITHUB_CLIENT_SECRET",
        value_name = "GITHUB_CLIENT_SECRET",
        global = true,
        hide_env_values = true
    )]
    pub github_client_secret: Option<String>,

    /// GitHub's authorization page (change for GitHub Enterprise).
    #[arg(
        long,
        env = "GITHUB_AUTHORIZE_URL",
        value_name = "GITHUB_AUTHORIZE_URL",
        default_value = "https://github.com/login/oauth/authorize",
        global = true
    )]
    pub github_authorize_url: Url,

    /// GitHub's token endpoint.
    #[arg(
        long,
        env = "GITHUB_TOKEN_URL",
        value_name = "GITHUB_TOKEN_URL",
        default_value = "https://github.com/login/oauth/access_token",
        global = true
    )]
    pub github_token_url: Url,

    /// GitHub's REST API (`https://HOST/api/v3` on GitHub Enterprise).
    #[arg(
        long,
        env = "GITHUB_API_URL",
        value_name = "GITHUB_API_URL",
        default_value = "https://api.github.com",
        global = true
    )]
    pub github_api_url: Url,

    /// OpenID Connect providers' ids, comma-separated (`google,okta`). Each id needs
    /// OIDC_<ID>_ISSUER, OIDC_<ID>_CLIENT_ID and OIDC_<ID>_CLIENT_SECRET, and may have
    /// OIDC_<ID>_NAME, the name on its button, and OIDC_<ID>_TRUST_EMAIL (true: its verified
    /// emails may make and join users).
    #[arg(
        long,
        env = "OIDC_PROVIDERS",
        value_name = "OIDC_PROVIDERS",
        default_value = "",
        global = true
    )]
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
    /// Checks what single values cannot: how values relate to each other.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.db_pool_max == 0 {
            return Err(ConfigError::new(
                "DB_POOL_MAX",
                "expected at least 1 connection",
            ));
        }
        if self.db_pool_min > self.db_pool_max {
            return Err(ConfigError::new(
                "DB_POOL_MIN",
                format!(
                    "expected at most DB_POOL_MAX ({}), got {}",
                    self.db_pool_max, self.db_pool_min
                ),
            ));
        }
        if self.db_connection_timeout_ms == 0 {
            return Err(ConfigError::new(
                "DB_CONNECTION_TIMEOUT_MS",
                "expected a positive number of milliseconds",
            ));
        }
        if self.trusted_proxy_hops > 10 {
            return Err(ConfigError::new(
                "TRUSTED_PROXY_HOPS",
                "expected at most 10",
            ));
        }
        if self.cleanup_interval_secs == 0 {
            return Err(ConfigError::new(
                "CLEANUP_INTERVAL_SECS",
                "expected a positive number of seconds",
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
        if self.public_url().is_https() && self.smtp_url.is_none() {
            return Err(ConfigError::new(
                "SMTP_URL",
                "required when PUBLIC_URL is https: confirmation and reset links must be \
                 mailed, not written to a log",
            ));
        }
        if self.password_hash_concurrency == Some(0) {
            return Err(ConfigError::new(
                "PASSWORD_HASH_CONCURRENCY",
                "expected at least 1",
            ));
        }
        if let Err(problem) = AccessRules::parse(&self.allowlist, "") {
            return Err(ConfigError::new("ALLOWLIST", problem));
        }
        if let Err(problem) = AccessRules::parse("", &self.admin_emails) {
            return Err(ConfigError::new("ADMIN_EMAILS", problem));
        }
        if self.internal_tokens().iter().any(|t| t.len() < 32) {
            return Err(ConfigError::new(
                "INTERNAL_API_TOKENS",
                "expected tokens of at least 32 characters (`openssl rand -hex 32` makes one)",
            ));
        }
        if self.audit_retention_days == 0 {
            return Err(ConfigError::new(
                "AUDIT_RETENTION_DAYS",
                "expected at least 1 day",
            ));
        }
        self.providers()?;
        if self.db_max_retries > 20 {
            return Err(ConfigError::new(
                "DB_MAX_RETRIES",
                "expected at most 20 (the delay doubles each time)",
            ));
        }
        Ok(())
    }

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

    /// GitHub (when its client id is set) and each OIDC provider, from the environment.
    pub fn providers(&self) -> Result<Providers, ConfigError> {
        self.providers_from(|name| std::env::var(name).ok())
    }

    /// The same, reading per-provider variables through `var` (tests pass a map).
    pub fn providers_from(
        &self,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Providers, ConfigError> {
        let github = match (&self.github_client_id, &self.github_client_secret) {
            (None, None) => None,
            (Some(client_id), Some(client_secret)) => Some(GithubSettings {
                authorize_url: safe_url("GITHUB_AUTHORIZE_URL", &self.github_authorize_url)?,
                token_url: safe_url("GITHUB_TOKEN_URL", &self.github_token_url)?,
                api_url: safe_url("GITHUB_API_URL", &self.github_api_url)?,
                client_id: client_id.clone(),
                client_secret: client_secret.clone(),
            }),
            (Some(_), None) => {
                return Err(ConfigError::new(
                    "GITHUB_CLIENT_SECRET",
                    "expected the OAuth app's secret, since GITHUB_CLIENT_ID is set",
                ))
            }
            (None, Some(_)) => {
                return Err(ConfigError::new(
                    "GITHUB_CLIENT_ID",
                    "expected the OAuth app's client id, since GITHUB_CLIENT_SECRET is set",
                ))
            }
        };
        let mut oidc: Vec<OidcSettings> = Vec::new();
        for id in self
            .oidc_providers
            .split(',')
            .map(|id| id.trim().to_lowercase())
            .filter(|id| !id.is_empty())
        {
            let id_ok = id.len() <= 32
                && id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !id_ok || id == GITHUB || id == "credential" || oidc.iter().any(|p| p.id == id) {
                return Err(ConfigError::new(
                    "OIDC_PROVIDERS",
                    format!(
                        "`{id}` is not a usable provider id (letters, digits and -, unique, \
                         not github or credential)"
                    ),
                ));
            }
            let prefix = format!("OIDC_{}_", id.to_uppercase().replace('-', "_"));
            let required = |suffix: &str| {
                let name = format!("{prefix}{suffix}");
                var(&name)
                    .filter(|v| !v.trim().is_empty())
                    .ok_or_else(|| ConfigError::new(name, format!("required for provider `{id}`")))
            };
            let issuer_name = format!("{prefix}ISSUER");
            let issuer = required("ISSUER")?;
            let issuer = Url::parse(&issuer)
                .ok()
                .filter(is_safe_url)
                .and_then(|_| IssuerUrl::new(issuer).ok())
                .ok_or_else(|| {
                    ConfigError::new(
                        issuer_name,
                        "expected an https URL (http only for localhost)",
                    )
                })?;
            let trust_name = format!("{prefix}TRUST_EMAIL");
            let trust_email = match var(&trust_name).map(|v| v.trim().to_lowercase()).as_deref() {
                None | Some("" | "false" | "0" | "no") => false,
                Some("true" | "1" | "yes") => true,
                Some(_) => {
                    return Err(ConfigError::new(
                        trust_name,
                        "expected true or false: true only if the issuer checks every email \
                         address itself (people cannot assert their own)",
                    ))
                }
            };
            oidc.push(OidcSettings {
                trust_email,
                name: var(&format!("{prefix}NAME"))
                    .filter(|n| !n.trim().is_empty())
                    .unwrap_or_else(|| id.clone()),
                issuer,
                client_id: required("CLIENT_ID")?,
                client_secret: required("CLIENT_SECRET")?,
                id,
            });
        }
        Ok(Providers::new(github, oidc))
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

/// The address people open: an http or https URL with a host and nothing after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicUrl(Url);

impl PublicUrl {
    pub fn is_https(&self) -> bool {
        self.0.scheme() == "https"
    }

    /// The origin browsers send in the Origin header, e.g. `https://gatehouse.example`.
    pub fn origin(&self) -> String {
        self.0.origin().ascii_serialization()
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl FromStr for PublicUrl {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        const EXPECTED: &str =
            "expected an http:// or https:// address such as https://gatehouse.example";
        let url = Url::parse(value.trim()).map_err(|e| format!("{EXPECTED} ({e})"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(EXPECTED.to_string());
        }
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err(format!(
                "{EXPECTED}, with no path, query or fragment (Gatehouse is served from the root)"
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(format!("{EXPECTED}, without a user name or password"));
        }
        Ok(Self(url))
    }
}

impl std::fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.as_str())
    }
}

/// Plain http only on this machine: elsewhere anyone on the path could answer for the
/// provider (its signing keys, its tokens, its word on who someone is).
fn is_safe_url(url: &Url) -> bool {
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    url.scheme() == "https" || (url.scheme() == "http" && loopback)
}

fn safe_url(variable: &str, url: &Url) -> Result<Url, ConfigError> {
    if is_safe_url(url) {
        Ok(url.clone())
    } else {
        Err(ConfigError::new(
            variable,
            "expected an https URL (http only for localhost)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::Cli;

    fn settings(args: &[&str]) -> Result<Settings, clap::Error> {
        let mut argv = vec!["gatehouse"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).map(|cli| cli.settings)
    }

    #[test]
    fn defaults_follow_the_design() {
        // Flags stand in for the environment here: tests share one process environment.
        let s = settings(&["--database-url", "postgresql://x@localhost/y"]).unwrap();
        assert_eq!(s.bind.to_string(), "127.0.0.1:3000");
        assert_eq!((s.db_pool_min, s.db_pool_max), (2, 10));
        assert_eq!(s.db_connection_timeout_ms, 5000);
        assert_eq!(
            s.retry_delays(),
            [1, 2, 4].map(Duration::from_secs).to_vec(),
            "three retries, doubling from one second"
        );
        assert_eq!(s.public_url().as_str(), "http://127.0.0.1:3000/");
        assert!(!s.public_url().is_https());
        s.validate().unwrap();
    }

    #[test]
    fn a_bad_number_names_the_variable() {
        let error = settings(&["--db-pool-max", "ten"]).unwrap_err().to_string();
        assert!(error.contains("DB_POOL_MAX"), "{error}");
        let error = settings(&["--db-connection-timeout-ms=-5"])
            .unwrap_err()
            .to_string();
        assert!(error.contains("DB_CONNECTION_TIMEOUT_MS"), "{error}");
    }

    #[test]
    fn related_values_are_checked_together() {
        let s = settings(&["--db-pool-min", "11"]).unwrap();
        assert_eq!(
            s.validate(),
            Err(ConfigError::new(
                "DB_POOL_MIN",
                "expected at most DB_POOL_MAX (10), got 11"
            ))
        );
        let s = settings(&["--db-pool-max", "0", "--db-pool-min", "0"]).unwrap();
        assert_eq!(s.validate().unwrap_err().variable, "DB_POOL_MAX");
        let s = settings(&["--db-connection-timeout-ms", "0"]).unwrap();
        assert_eq!(
            s.validate().unwrap_err().variable,
            "DB_CONNECTION_TIMEOUT_MS"
        );
    }

    #[test]
    fn an_https_deployment_mails_and_talks_to_github_over_https() {
        let s = settings(&["--public-url", "https://gatehouse.example"]).unwrap();
        let error = s.validate().unwrap_err();
        assert_eq!(error.variable, "SMTP_URL", "{error:?}");
        let s = settings(&[
            "--public-url",
            "https://gatehouse.example",
            "--smtp-url",
            "smtp://mail.example:25",
        ])
        .unwrap();
        s.validate().unwrap();

        let github = [
            "--github-client-id",
            "id",
            "--github-client-secret",
            "secret",
        ];
        for (flag, variable) in [
            ("--github-authorize-url", "GITHUB_AUTHORIZE_URL"),
            ("--github-token-url", "GITHUB_TOKEN_URL"),
            ("--github-api-url", "GITHUB_API_URL"),
        ] {
            let mut args = github.to_vec();
            args.extend([flag, "http://github.example/x"]);
            let error = settings(&args)
                .unwrap()
                .providers_from(|_| None)
                .unwrap_err();
            assert_eq!(error.variable, variable);
            let mut args = github.to_vec();
            args.extend([flag, "http://localhost:9000/x"]);
            assert!(
                settings(&args).unwrap().providers_from(|_| None).is_ok(),
                "{flag}"
            );
        }
    }

    #[test]
    fn public_url_must_be_an_http_origin() {
        for good in [
            "https://gatehouse.example",
            "http://localhost:3000/",
            "https://[::1]:8443",
        ] {
            assert!(good.parse::<PublicUrl>().is_ok(), "{good}");
        }
        for bad in [
            "gatehouse.example",
            "ftp://gatehouse.example",
            "https://gatehouse.example/portal",
            "https://gatehouse.example/?x=1",
            "https://user:pw@gatehouse.example",
        ] {
            let error = bad.parse::<PublicUrl>().unwrap_err();
            assert!(
                error.starts_with("expected an http:// or https:// address"),
                "{bad}: {error}"
            );
        }
        let url: PublicUrl = "https://Gatehouse.Example:443/".parse().unwrap();
        assert_eq!(url.origin(), "https://gatehouse.example");
        assert!(url.is_https());
    }

    #[test]
    fn providers_come_from_their_variables_and_gaps_are_named() {
        let vars: std::collections::HashMap<&str, &str> = [
            ("OIDC_ACME_ID_ISSUER", "https://id.acme.example"),
            ("OIDC_ACME_ID_CLIENT_ID", "gatehouse"),
            ("OIDC_ACME_ID_CLIENT_SECRET", "s3cret"),
            ("OIDC_ACME_ID_NAME", "Acme"),
            ("OIDC_OKTA_ISSUER", "https://okta.example"),
            ("OIDC_PLAIN_ISSUER", "http://id.example"),
            ("OIDC_PLAIN_CLIENT_ID", "id"),
            ("OIDC_PLAIN_CLIENT_SECRET", "secret"),
            ("OIDC_OKTA_CLIENT_ID", "id"),
        ]
        .into();
        let var = |name: &str| vars.get(name).map(|v| v.to_string());
        let s = settings(&["--github-client-id", "abc", "--github-client-secret", "xyz"]).unwrap();
        let providers = s.providers_from(var).unwrap();
        let names: Vec<_> = providers
            .all()
            .iter()
            .map(|p| (p.id().to_string(), p.name().to_string()))
            .collect();
        assert_eq!(names, [("github".to_string(), "GitHub".to_string())]);

        let s = settings(&["--oidc-providers", "Acme-ID"]).unwrap();
        let providers = s.providers_from(var).unwrap();
        assert_eq!(providers.find("acme-id").unwrap().name(), "Acme");
        assert!(
            providers.find("github").is_none(),
            "no GitHub without a client id"
        );

        let missing = settings(&["--oidc-providers", "acme-id,okta"]).unwrap();
        let error = missing.providers_from(var).unwrap_err();
        assert_eq!(error.variable, "OIDC_OKTA_CLIENT_SECRET");
        for bad in ["github", "credential", "no_underscores", "acme-id,acme-id"] {
            let s = settings(&["--oidc-providers", bad]).unwrap();
            assert_eq!(
                s.providers_from(var).unwrap_err().variable,
                "OIDC_PROVIDERS",
                "{bad}"
            );
        }
        let plain = settings(&["--oidc-providers", "plain"]).unwrap();
        let error = plain.providers_from(var).unwrap_err();
        assert_eq!(
            error.variable, "OIDC_PLAIN_ISSUER",
            "http off this machine is refused"
        );
        let half = settings(&["--github-client-id", "abc"]).unwrap();
        assert_eq!(
            half.validate().unwrap_err().variable,
            "GITHUB_CLIENT_SECRET"
        );
        assert!(settings(&["--github-authorize-url", "not a url"]).is_err());
    }
}
