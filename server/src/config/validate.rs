//! What one value cannot say alone: checks across settings, run once at start.

use gatehouse_app::services::access::AccessRules;

use super::{ConfigError, Settings};

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
}
