//! The `gatehouse` binary's library: configuration, start-up (database, migrations, the
//! private PostgreSQL), the axum router, the background task and the command line.

pub mod cli;
pub mod config;
pub mod database;
pub mod housekeeping;
pub mod local_postgres;
pub mod routes;
pub mod secrets;
pub mod state;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use gatehouse_app::db::{check, migrations, DbPool};
use gatehouse_app::services::mail::Mailer;
use gatehouse_app::services::Refusal;
use gatehouse_app::services::Services;
use gatehouse_app::services::{admin, jobs};

use cli::{AdminCommand, Cli, Command, DbCommand, JobsCommand, KeysCommand};
use config::Settings;
use local_postgres::{Durability, Installation, LocalPostgres};
use state::AppState;

/// How long in-flight requests may take to finish after a shutdown signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs what the command line asks for.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    cli.settings.validate()?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(cli.settings).await.map(|()| ExitCode::SUCCESS),
        Command::Migrate => {
            let secrets = secrets::resolve(&cli.settings)?;
            let database = Database::open(&cli.settings).await?;
            let (_, plan) = database.migrated(&cli.settings, &secrets).await?;
            println!(
                "{} migration(s) applied; the database is current",
                plan.migrations.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Db {
            command: DbCommand::Check,
        } => db_check(&cli.settings).await,
        Command::Db {
            command: DbCommand::Plan,
        } => db_plan(&cli.settings).await,
        Command::Admin { command } => admin(&cli.settings, command).await,
        Command::Jobs { command } => link_jobs(&cli.settings, command).await,
        Command::Keys {
            command: KeysCommand::Rotate,
        } => rotate_keys(&cli.settings).await,
    }
}

/// The database Gatehouse uses: DATABASE_URL, or its private PostgreSQL, which stops when
/// this is dropped.
pub struct Database {
    pub url: String,
    _local: Option<LocalPostgres>,
}

impl Database {
    pub async fn open(settings: &Settings) -> anyhow::Result<Self> {
        if let Some(url) = &settings.database_url {
            return Ok(Self {
                url: url.clone(),
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
            _local: Some(local),
        })
    }

    /// The pool, once every migration has run. A run that adopted another's database also
    /// encrypts the provider tokens Better Auth kept there in the clear, at once, rather than
    /// leaving them readable until someone runs `gatehouse keys rotate`.
    pub async fn migrated(
        &self,
        settings: &Settings,
        secrets: &secrets::Secrets,
    ) -> anyhow::Result<(DbPool, migrations::Plan)> {
        let pool = self.reach(settings).await?;
        let plan = database::migrate(&self.url).await?;
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

    /// The pool, once the database answers (with the configured retries).
    pub async fn reach(&self, settings: &Settings) -> anyhow::Result<gatehouse_app::db::DbPool> {
        Ok(database::connect(
            &self.url,
            &settings.pool_settings(),
            &settings.retry_delays(),
        )
        .await?)
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let secrets = secrets::resolve(&settings)?;
    let database = Database::open(&settings).await?;
    let (pool, _) = database.migrated(&settings, &secrets).await?;

    let public_url = settings.public_url();
    let services = build_services(&settings, &secrets, pool.clone())?;
    let state = AppState::new(
        public_url.clone(),
        secrets,
        services.clone(),
        settings.internal_tokens(),
    );
    let listener = tokio::net::TcpListener::bind(settings.bind)
        .await
        .with_context(|| format!("cannot listen on BIND={}", settings.bind))?;
    let background = services.background.clone();
    let cleanup = housekeeping::spawn(
        services,
        settings.cleanup_interval(),
        chrono::Duration::days(settings.audit_retention_days.into()),
    );

    tracing::info!(bind = %settings.bind, "listening");
    println!("Gatehouse is running: open {public_url} (Ctrl-C stops it)");

    let (draining_tx, draining_rx) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(
        listener,
        routes::router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing requests in flight");
        let _ = draining_tx.send(());
    });
    tokio::select! {
        served = server => served.context("serving HTTP")?,
        () = async {
            let _ = draining_rx.await;
            tokio::time::sleep(DRAIN_TIMEOUT).await;
        } => tracing::warn!("requests still running after {DRAIN_TIMEOUT:?}; stopping anyway"),
    }
    cleanup.abort();
    if tokio::time::timeout(DRAIN_TIMEOUT, background.settle())
        .await
        .is_err()
    {
        tracing::warn!("mail still being sent after {DRAIN_TIMEOUT:?}; stopping anyway");
    }
    pool.close();
    drop(database);
    tracing::info!("stopped");
    Ok(())
}

/// The rules' dependencies, from the settings.
pub fn build_services(
    settings: &Settings,
    secrets: &secrets::Secrets,
    pool: DbPool,
) -> anyhow::Result<Services> {
    let mailer = Mailer::new(settings.smtp_url.as_deref(), &settings.mail_from())?;
    if mailer.sends() {
        tracing::info!(from = %settings.mail_from(), "mail goes out through SMTP_URL");
    } else {
        tracing::warn!(
            "no SMTP_URL: mail (confirmation and reset links) is written to this log, not sent"
        );
    }
    let services = Services::new(
        pool,
        settings.auth_settings(),
        mailer,
        secrets.token_keys.cipher(),
    );
    Ok(services
        .with_password_hashing(settings.password_hash_concurrency())
        .with_access(settings.access_rules())
        .with_providers(settings.providers()?))
}

async fn admin(settings: &Settings, command: AdminCommand) -> anyhow::Result<ExitCode> {
    let secrets = secrets::resolve(settings)?;
    let database = Database::open(settings).await?;
    let (pool, _) = database.migrated(settings, &secrets).await?;
    let services = build_services(settings, &secrets, pool)?;
    let (email, grant) = match &command {
        AdminCommand::Grant { email } => (email, true),
        AdminCommand::Revoke { email } => (email, false),
    };
    match admin::set_admin_by_email(&services, email, grant).await {
        Ok(()) => {
            let role = if grant { "an admin" } else { "a plain user" };
            println!("{} is now {role}", email.trim().to_lowercase());
            Ok(ExitCode::SUCCESS)
        }
        Err(Refusal::NotFound) => {
            eprintln!("gatehouse: no user has the email {email}; they must sign up first");
            Ok(ExitCode::FAILURE)
        }
        Err(e) => {
            eprintln!("gatehouse: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// `gatehouse jobs link` and `link-csv`: each line is applied on its own; the exit code is 1
/// if any failed, and each failure is named.
async fn link_jobs(settings: &Settings, command: JobsCommand) -> anyhow::Result<ExitCode> {
    let pairs: Vec<(String, String)> = match &command {
        JobsCommand::Link { job_id, email } => vec![(job_id.clone(), email.clone())],
        JobsCommand::LinkCsv { file } => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            let mut pairs = Vec::new();
            for (n, line) in text.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() || (n == 0 && line.to_lowercase().starts_with("job_id")) {
                    continue;
                }
                let Some((job_id, email)) = line.split_once(',') else {
                    anyhow::bail!("{} line {}: expected `job_id,email`", file.display(), n + 1);
                };
                pairs.push((job_id.trim().to_string(), email.trim().to_string()));
            }
            pairs
        }
    };
    let secrets = secrets::resolve(settings)?;
    let database = Database::open(settings).await?;
    let (pool, _) = database.migrated(settings, &secrets).await?;
    let services = build_services(settings, &secrets, pool)?;
    let mut failed = 0;
    for (job_id, email) in &pairs {
        let by = gatehouse_app::services::audit::Actor::System("command line");
        match jobs::assign(&services, by, job_id, email, &Default::default()).await {
            Ok(()) => println!("{job_id} -> {}", email.to_lowercase()),
            Err(e) => {
                failed += 1;
                let why = match e {
                    Refusal::NotFound => "no job has that id".to_string(),
                    Refusal::Invalid(fields) => fields
                        .iter()
                        .map(|f| f.message.clone())
                        .collect::<Vec<_>>()
                        .join(" "),
                    other => other.to_string(),
                };
                eprintln!("gatehouse: {job_id}: {why}");
            }
        }
    }
    println!("{} of {} job(s) linked", pairs.len() - failed, pairs.len());
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn rotate_keys(settings: &Settings) -> anyhow::Result<ExitCode> {
    let secrets = secrets::resolve(settings)?;
    let database = Database::open(settings).await?;
    let (pool, _) = database.migrated(settings, &secrets).await?;
    let rotation =
        gatehouse_app::services::keys::rotate(&pool, &secrets.token_keys.cipher()).await?;
    for (account, column, why) in &rotation.failed {
        eprintln!("gatehouse: account {account} {column}: {why}; left as it was");
    }
    println!(
        "{} token(s) re-encrypted under key `{}`, {} already current, {} failed",
        rotation.rewritten,
        secrets.token_keys.current().id,
        rotation.current,
        rotation.failed.len()
    );
    Ok(if rotation.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn db_check(settings: &Settings) -> anyhow::Result<ExitCode> {
    let database = Database::open(settings).await?;
    drop(database.reach(settings).await?);
    let mut conn = AsyncPgConnection::establish(&database.url)
        .await
        .context("connecting to the database")?;
    let pending = migrations::pending(&mut conn)
        .await
        .context("reading the applied migrations")?;
    let report = check::run(&mut conn, &pending).await;
    println!("Gatehouse database check");
    for line in &report {
        let mark = if line.passed { "ok  " } else { "FAIL" };
        println!("  {mark}  {} ({})", line.name, line.detail);
    }
    let failed = report.iter().filter(|line| !line.passed).count();
    println!(
        "{} of {} checks passed{}",
        report.len() - failed,
        report.len(),
        if failed == 0 {
            ""
        } else {
            "; run `gatehouse migrate` if migrations are pending"
        }
    );
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `gatehouse db plan`: what start-up would change, changing nothing. Exit code 1 when
/// start-up would refuse, with the same message.
async fn db_plan(settings: &Settings) -> anyhow::Result<ExitCode> {
    let database = Database::open(settings).await?;
    drop(database.reach(settings).await?);
    let plan = match database::plan(&database.url).await {
        Ok(plan) => plan,
        Err(database::DatabaseError::Migration(migrations::MigrationError::Refused(why))) => {
            eprintln!("gatehouse: start-up would stop here: {why}");
            return Ok(ExitCode::FAILURE);
        }
        Err(e) => return Err(e.into()),
    };
    if plan.migrations.is_empty() {
        println!("The database is current: start-up changes nothing.");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "Start-up would apply {} migration(s) ({}), in one transaction, and:",
        plan.migrations.len(),
        plan.migrations.join(", ")
    );
    for change in &plan.changes {
        println!("  {change}");
    }
    println!("Nothing has been changed: this was a plan.");
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing a SIGTERM handler");
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate.recv() => {}
    }
}
