//! How often housekeeping runs, and how long the audit log keeps its events.

use std::time::Duration;

use super::ConfigError;

#[derive(clap::Args, Clone, Debug)]
pub struct HousekeepingArgs {
    /// How long audit events are kept (days).
    #[arg(long, env, default_value_t = 365, global = true)]
    pub audit_retention_days: u32,

    /// How often expired sessions and verification tokens are deleted (seconds).
    #[arg(long, env, default_value_t = 3600, global = true)]
    pub cleanup_interval_secs: u64,
}

/// The housekeeping settings, checked.
#[derive(Clone, Copy, Debug)]
pub struct Housekeeping {
    pub interval: Duration,
    pub audit_retention: chrono::Duration,
}

impl HousekeepingArgs {
    pub fn parse(&self) -> Result<Housekeeping, ConfigError> {
        if self.cleanup_interval_secs == 0 {
            return Err(ConfigError::new(
                "CLEANUP_INTERVAL_SECS",
                "expected a positive number of seconds",
            ));
        }
        if self.audit_retention_days == 0 {
            return Err(ConfigError::new(
                "AUDIT_RETENTION_DAYS",
                "expected at least 1 day",
            ));
        }
        Ok(Housekeeping {
            interval: Duration::from_secs(self.cleanup_interval_secs),
            audit_retention: chrono::Duration::days(self.audit_retention_days.into()),
        })
    }
}
