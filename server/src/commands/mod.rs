//! What each command does, a file each: serve, db (check and plan), admin, jobs, keys.
//! `boot` is the start every command that works on the data shares.

mod admin;
mod backup;
mod db;
mod jobs;
mod keys;
mod serve;

use std::process::ExitCode;

use gatehouse_app::db::{migrations, DbPool};

pub use serve::build_services;

use crate::cli::{Cli, Command, DbCommand, KeysCommand};
use crate::config::Config;
use crate::database::Database;
use crate::secrets::{self, Secrets};

/// Keys resolved, the database open (the private PostgreSQL started if need be) and
/// migrated: what every command that works on the data starts from.
pub struct Booted {
    pub secrets: Secrets,
    /// Dropping it stops the private PostgreSQL.
    pub database: Database,
    pub pool: DbPool,
}

pub async fn boot(config: &Config) -> anyhow::Result<(Booted, migrations::Plan)> {
    let secrets = secrets::resolve(config)?;
    let database = Database::open(config).await?;
    let (pool, plan) = database.migrated(config, &secrets).await?;
    Ok((
        Booted {
            secrets,
            database,
            pool,
        },
        plan,
    ))
}

/// Runs what the command line asks for, once the configuration holds.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = cli.settings.parse()?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve::serve(config).await.map(|()| ExitCode::SUCCESS),
        Command::Migrate => {
            let (_, plan) = boot(&config).await?;
            println!(
                "{} migration(s) applied; the database is current",
                plan.migrations.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Db {
            command: DbCommand::Check,
        } => db::check(&config).await,
        Command::Db {
            command: DbCommand::Plan,
        } => db::plan(&config).await,
        Command::Db {
            command: DbCommand::GrantAppRole { role },
        } => db::grant_app_role(&config, &role).await,
        Command::Db {
            command: DbCommand::Backup { file },
        } => backup::backup(&config, &file).await,
        Command::Db {
            command: DbCommand::Restore { file },
        } => backup::restore(&config, &file).await,
        Command::Admin { command } => admin::grant_or_revoke(&config, command).await,
        Command::Jobs { command } => jobs::link(&config, command).await,
        Command::Keys {
            command: KeysCommand::Rotate,
        } => keys::rotate(&config).await,
        Command::Keys {
            command: KeysCommand::RotateJwt,
        } => keys::rotate_jwt(&config).await,
    }
}
