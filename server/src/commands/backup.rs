//! `gatehouse db backup FILE` and `gatehouse db restore FILE`, with PostgreSQL's own pg_dump
//! and pg_restore (found as initdb is). A backup is pg_dump's custom format of the whole
//! Gatehouse database, without owners or grants, so it restores under any role.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use diesel::sql_types::BigInt;
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use gatehouse_app::db::{check, migrations};

use super::boot;
use crate::config::Config;
use crate::database::Database;
use crate::local_postgres::Installation;

pub async fn backup(config: &Config, file: &Path) -> anyhow::Result<ExitCode> {
    let database = Database::open_beside_a_server(config).await?;
    drop(database.reach(config).await?);
    let installation = Installation::find()?;
    let dumped = std::process::Command::new(installation.program("pg_dump"))
        .args(["--format=custom", "--no-owner", "--no-privileges", "--file"])
        .arg(file)
        .arg(&database.url)
        .status()
        .context("running pg_dump")?;
    if !dumped.success() {
        eprintln!(
            "gatehouse: pg_dump failed ({dumped}); nothing was written to {}",
            file.display()
        );
        return Ok(ExitCode::FAILURE);
    }
    let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    println!("Backed up to {} ({size} bytes)", file.display());
    Ok(ExitCode::SUCCESS)
}

#[derive(QueryableByName)]
struct Tables {
    #[diesel(sql_type = BigInt)]
    tables: i64,
}

pub async fn restore(config: &Config, file: &Path) -> anyhow::Result<ExitCode> {
    if !file.is_file() {
        eprintln!("gatehouse: {}: no such backup file", file.display());
        return Ok(ExitCode::FAILURE);
    }
    let database = Database::open(config).await?;
    drop(database.reach(config).await?);
    let mut conn = gatehouse_app::db::connect::establish(&database.url)
        .await
        .context("connecting to the database")?;
    let found: Tables = diesel::sql_query(
        "SELECT count(*) AS tables FROM pg_tables WHERE schemaname = current_schema()",
    )
    .get_result(&mut conn)
    .await?;
    if found.tables > 0 {
        eprintln!(
            "gatehouse: the database already has {} table(s); a backup is restored into an \
             empty one: create a new database and point DATABASE_URL at it (or use a new \
             DATA_DIR)",
            found.tables
        );
        return Ok(ExitCode::FAILURE);
    }
    drop(conn);
    let installation = Installation::find()?;
    let restored = std::process::Command::new(installation.program("pg_restore"))
        .args([
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--dbname",
        ])
        .arg(&database.url)
        .arg(file)
        .status()
        .context("running pg_restore")?;
    if !restored.success() {
        eprintln!("gatehouse: pg_restore failed ({restored}); see its message above");
        return Ok(ExitCode::FAILURE);
    }
    drop(database);
    // A backup from an older Gatehouse is brought up to date like any start-up would.
    let (booted, plan) = boot(config).await?;
    let mut conn = gatehouse_app::db::connect::establish(&booted.database.url).await?;
    let pending = migrations::pending(&mut conn).await?;
    let report = check::run(&mut conn, &pending).await;
    let failed: Vec<_> = report.iter().filter(|line| !line.passed).collect();
    for line in &failed {
        eprintln!("gatehouse: check failed: {} ({})", line.name, line.detail);
    }
    println!(
        "Restored from {}: {} migration(s) applied, {} of {} checks passed",
        file.display(),
        plan.migrations.len(),
        report.len() - failed.len(),
        report.len()
    );
    Ok(if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
