//! What each command does, a file each: serve, db (check and plan), admin, jobs, keys.
//! `boot` is the start every command that works on the data shares.

mod admin;
mod db;
mod jobs;
mod keys;
mod serve;

use std::process::ExitCode;

use gatehouse_app::db::{migrations, DbPool};

pub use serve::build_services;

use crate::cli::{Cli, Command, DbCommand, KeysCommand};
use crate::config::Settings;
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

pub async fn boot(settings: &Settings) -> anyhow::Result<(Booted, migrations::Plan)> {
    let secrets = secrets::resolve(settings)?;
    let database = Database::open(settings).await?;
    let (pool, plan) = database.migrated(settings, &secrets).await?;
    Ok((
        Booted {
            secrets,
            database,
            pool,
        },
        plan,
    ))
}

/// Runs what the command line asks for.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    cli.settings.validate()?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve::serve(cli.settings).await.map(|()| ExitCode::SUCCESS),
        Command::Migrate => {
            let (_, plan) = boot(&cli.settings).await?;
            println!(
                "{} migration(s) applied; the database is current",
                plan.migrations.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Db {
            command: DbCommand::Check,
        } => db::check(&cli.settings).await,
        Command::Db {
            command: DbCommand::Plan,
        } => db::plan(&cli.settings).await,
        Command::Admin { command } => admin::grant_or_revoke(&cli.settings, command).await,
        Command::Jobs { command } => jobs::link(&cli.settings, command).await,
        Command::Keys {
            command: KeysCommand::Rotate,
        } => keys::rotate(&cli.settings).await,
    }
}
