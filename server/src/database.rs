//! Reaching the database at start, in one place: DATABASE_URL or the private PostgreSQL,
//! the pool (with retries and backoff), and the migrations.

use std::time::Duration;

use anyhow::Context;
use gatehouse_app::db::{migrations, pool, DbPool, PoolSettings};

use crate::config::Config;
use crate::local_postgres::{Durability, Installation, LocalPostgres};

#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error("cannot reach the database after {attempts} attempts: {last_error}")]
    Unreachable { attempts: usize, last_error: String },
    #[error("cannot connect to the database: {0}")]
    Connect(#[from] diesel::ConnectionError),
    #[error(transparent)]
    Migration(#[from] migrations::MigrationError),
}

/// Builds the pool and opens its first connections, retrying after each delay in `retries`
/// (1 s, 2 s, 4 s by default) while the database cannot be reached.
pub async fn connect(
    database_url: &str,
    settings: &PoolSettings,
    retries: &[Duration],
) -> Result<DbPool, DatabaseError> {
    let pool = pool::build(database_url, settings);
    let mut delays = retries.iter();
    let mut attempts = 0;
    loop {
        attempts += 1;
        let error = match pool::warm_up(&pool, settings).await {
            Ok(()) => return Ok(pool),
            Err(e) => e.to_string(),
        };
        match delays.next() {
            Some(delay) => {
                tracing::warn!(
                    attempt = attempts,
                    retry_in_ms = delay.as_millis() as u64,
                    error = %error,
                    "database not reachable yet; retrying"
                );
                tokio::time::sleep(*delay).await;
            }
            None => {
                return Err(DatabaseError::Unreachable {
                    attempts,
                    last_error: error,
                })
            }
        }
    }
}

/// Applies every pending migration on a connection of its own, in one transaction, and logs
/// each change it made (what `gatehouse db plan` would have printed).
pub async fn migrate(database_url: &str) -> Result<migrations::Plan, DatabaseError> {
    let conn = gatehouse_app::db::connect::establish(database_url).await?;
    let (_, plan) = migrations::run_pending(conn).await?;
    for version in &plan.migrations {
        tracing::info!(%version, "applied migration");
    }
    for change in &plan.changes {
        tracing::info!("database changed: {change}");
    }
    Ok(plan)
}

/// What `migrate` would change, changing nothing.
pub async fn plan(database_url: &str) -> Result<migrations::Plan, DatabaseError> {
    let conn = gatehouse_app::db::connect::establish(database_url).await?;
    let (_, plan) = migrations::plan(conn).await?;
    Ok(plan)
}

/// The database Gatehouse uses: DATABASE_URL, or its private PostgreSQL, which stops when
/// this is dropped.
pub struct Database {
    pub url: String,
    /// MIGRATION_DATABASE_URL, when serving runs as a role of less than the owner.
    pub migration_url: Option<String>,
    _local: Option<LocalPostgres>,
}

impl Database {
    pub async fn open(config: &Config) -> anyhow::Result<Self> {
        let settings = &config.database;
        if let Some(url) = &settings.url {
            return Ok(Self {
                url: url.clone(),
                migration_url: settings.migration_url.clone(),
                _local: None,
            });
        }
        let installation = Installation::find()?;
        let local = LocalPostgres::start(&installation, &settings.data_dir, Durability::Durable)
            .await
            .context("starting the private PostgreSQL (set DATABASE_URL to use another)")?;
        tracing::info!(
            data = %settings.data_dir.display(),
            "no DATABASE_URL: using Gatehouse's private PostgreSQL (unix socket only)"
        );
        Ok(Self {
            url: local.url("gatehouse"),
            migration_url: None,
            _local: Some(local),
        })
    }

    /// The same, but when the private PostgreSQL already runs (Gatehouse serves from this
    /// folder), that one is used as it is and left running.
    pub async fn open_beside_a_server(config: &Config) -> anyhow::Result<Self> {
        if config.database.url.is_none() {
            let installation = Installation::find()?;
            let running =
                LocalPostgres::running(&installation, &config.database.data_dir, "gatehouse")?;
            if let Some(url) = running {
                let migration_url = None;
                return Ok(Self {
                    url,
                    migration_url,
                    _local: None,
                });
            }
        }
        Self::open(config).await
    }

    /// The pool, once every migration has run. A run that adopted another's database also
    /// encrypts the provider tokens Better Auth kept there in the clear, at once, rather than
    /// leaving them readable until someone runs `gatehouse keys rotate`.
    pub async fn migrated(
        &self,
        config: &Config,
        secrets: &crate::secrets::Secrets,
    ) -> anyhow::Result<(DbPool, migrations::Plan)> {
        let pool = self.reach(config).await?;
        let plan = migrate(self.owner_url()).await?;
        if plan.migrations.iter().any(|v| v == migrations::ADOPTION) {
            let cipher = secrets.token_keys.cipher();
            let sealed = gatehouse_app::services::keys::rotate(&pool, &cipher).await?;
            if sealed.rewritten > 0 {
                tracing::info!(
                    tokens = sealed.rewritten,
                    "encrypted the provider tokens the adopted database kept in the clear"
                );
            }
            for (account, column, why) in &sealed.failed {
                tracing::warn!(%account, %column, %why, "a provider token was left as it was");
            }
        }
        Ok((pool, plan))
    }

    /// Where the schema is changed: MIGRATION_DATABASE_URL, or the one URL.
    pub fn owner_url(&self) -> &str {
        self.migration_url.as_deref().unwrap_or(&self.url)
    }

    /// The pool, once the database answers (with the configured retries).
    pub async fn reach(&self, config: &Config) -> anyhow::Result<gatehouse_app::db::DbPool> {
        let settings = &config.database;
        Ok(connect(&self.url, &settings.pool, &settings.retry_delays).await?)
    }
}
