//! `gatehouse db check` and `gatehouse db plan`.

use std::process::ExitCode;

use anyhow::Context;
use gatehouse_app::db::{check, migrations};

use crate::config::Config;
use crate::database::{self, Database};

pub async fn check(config: &Config) -> anyhow::Result<ExitCode> {
    let database = Database::open(config).await?;
    drop(database.reach(config).await?);
    let mut conn = gatehouse_app::db::connect::establish(&database.url)
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
pub async fn plan(config: &Config) -> anyhow::Result<ExitCode> {
    let database = Database::open(config).await?;
    drop(database.reach(config).await?);
    let plan = match database::plan(database.owner_url()).await {
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

#[derive(diesel::QueryableByName)]
struct Role {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    exists: bool,
    #[diesel(sql_type = diesel::sql_types::Text)]
    schema: String,
}

/// `gatehouse db grant-app-role ROLE`: grants ROLE what serving needs, as the schema owner
/// (MIGRATION_DATABASE_URL, or DATABASE_URL), printing each statement it ran.
pub async fn grant_app_role(config: &Config, role: &str) -> anyhow::Result<ExitCode> {
    use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
    let database = Database::open_beside_a_server(config).await?;
    drop(database.reach(config).await?);
    let mut conn = gatehouse_app::db::connect::establish(database.owner_url())
        .await
        .context("connecting to the database as its owner")?;
    let found: Role = diesel::sql_query(
        "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1) AS exists, \
         current_schema() AS schema",
    )
    .bind::<diesel::sql_types::Text, _>(role)
    .get_result(&mut conn)
    .await?;
    if !found.exists {
        eprintln!(
            "gatehouse: no role is named {role}; create it first \
             (CREATE ROLE {role} LOGIN PASSWORD '…'), then run this again"
        );
        return Ok(ExitCode::FAILURE);
    }
    for sql in gatehouse_app::db::grants::app_role(&found.schema, role) {
        conn.batch_execute(&sql)
            .await
            .with_context(|| format!("running {sql}"))?;
        println!("{sql};");
    }
    Ok(ExitCode::SUCCESS)
}
