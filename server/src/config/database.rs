//! Where the data lives: DATABASE_URL or the private PostgreSQL under DATA_DIR, the pool,
//! and how patiently start-up waits for the database.

use std::path::PathBuf;
use std::time::Duration;

use gatehouse_app::db::PoolSettings;

use super::ConfigError;

#[derive(clap::Args, Clone, Debug)]
pub struct DatabaseArgs {
    /// PostgreSQL to use. Unset: Gatehouse runs a private PostgreSQL under DATA_DIR.
    #[arg(long, env, global = true, hide_env_values = true)]
    pub database_url: Option<String>,

    /// The schema owner's URL, for migrations (and the audit log's retention sweep); then
    /// DATABASE_URL needs only what serving needs (`gatehouse db grant-app-role ROLE`).
    /// The same database as DATABASE_URL, as another role. Unset: DATABASE_URL does all.
    #[arg(long, env, global = true, hide_env_values = true)]
    pub migration_database_url: Option<String>,

    /// Where the private PostgreSQL and generated secrets are kept.
    #[arg(long, env, default_value = "data", global = true)]
    pub data_dir: PathBuf,

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
}

/// The database settings, checked.
#[derive(Clone, Debug)]
pub struct DatabaseConfig {
    /// DATABASE_URL; `None` runs the private PostgreSQL.
    pub url: Option<String>,
    /// MIGRATION_DATABASE_URL: the schema owner, when serving runs as a role of less.
    pub migration_url: Option<String>,
    pub data_dir: PathBuf,
    pub pool: PoolSettings,
    /// The delays between start-up connection attempts: 1 s, 2 s, 4 s by default.
    pub retry_delays: Vec<Duration>,
}

impl DatabaseArgs {
    pub fn parse(&self) -> Result<DatabaseConfig, ConfigError> {
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
        if self.db_max_retries > 20 {
            return Err(ConfigError::new(
                "DB_MAX_RETRIES",
                "expected at most 20 (the delay doubles each time)",
            ));
        }
        if let Some(migration) = &self.migration_database_url {
            let Some(serving) = &self.database_url else {
                return Err(ConfigError::new(
                    "MIGRATION_DATABASE_URL",
                    "needs DATABASE_URL too: the role that serves (the private PostgreSQL has one role)",
                ));
            };
            if let (Some(owner), Some(app)) = (database_of(migration), database_of(serving)) {
                if owner != app {
                    return Err(ConfigError::new(
                        "MIGRATION_DATABASE_URL",
                        format!(
                            "expected the database DATABASE_URL names ({}), as another role; got {}",
                            app.describe(),
                            owner.describe()
                        ),
                    ));
                }
            }
        }
        Ok(DatabaseConfig {
            url: self.database_url.clone(),
            migration_url: self.migration_database_url.clone(),
            data_dir: self.data_dir.clone(),
            pool: PoolSettings {
                min: self.db_pool_min,
                max: self.db_pool_max,
                connection_timeout: Duration::from_millis(self.db_connection_timeout_ms),
            },
            retry_delays: (0..self.db_max_retries)
                .map(|attempt| {
                    Duration::from_millis(self.db_retry_delay_ms.saturating_mul(1 << attempt))
                })
                .collect(),
        })
    }
}

/// Which database a PostgreSQL URL names: its host (or socket folder), port and name.
#[derive(Debug, PartialEq, Eq)]
struct Named {
    host: String,
    port: u16,
    name: String,
}

impl Named {
    fn describe(&self) -> String {
        format!("{} on {}:{}", self.name, self.host, self.port)
    }
}

/// `None` for what is not a URL (libpq's `key=value` form is not compared).
fn database_of(url: &str) -> Option<Named> {
    let url = url::Url::parse(url).ok()?;
    let query = |key: &str| {
        url.query_pairs()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
    };
    let host = query("host").unwrap_or_else(|| url.host_str().unwrap_or("localhost").to_string());
    let port = query("port")
        .and_then(|p| p.parse().ok())
        .or(url.port())
        .unwrap_or(5432);
    let name = query("dbname").unwrap_or_else(|| url.path().trim_start_matches('/').to_string());
    Some(Named { host, port, name })
}
