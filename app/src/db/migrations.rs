//! The migrations in `migrations/`, embedded in the binary.

use diesel::migration::MigrationSource;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use diesel_async::RunQueryDsl;
use diesel_async::{AsyncMigrationHarness, AsyncPgConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations");

#[derive(Debug, thiserror::Error)]
#[error("migration failed: {0}")]
pub struct MigrationError(String);

/// The versions of every embedded migration, oldest first.
pub fn known_versions() -> Vec<String> {
    MigrationSource::<Pg>::migrations(&MIGRATIONS)
        .expect("embedded migrations are readable")
        .iter()
        .map(|m| m.name().version().to_string())
        .collect()
}

/// Runs every pending migration and returns the versions it applied.
///
/// diesel's harness is synchronous: it runs on a blocking thread over the async connection,
/// which it hands back when done.
pub async fn run_pending(
    conn: AsyncPgConnection,
) -> Result<(AsyncPgConnection, Vec<String>), MigrationError> {
    with_harness(conn, |harness| {
        harness
            .run_pending_migrations(MIGRATIONS)
            .map(|versions| versions.iter().map(ToString::to_string).collect())
    })
    .await
}

/// Reverts every applied migration, newest first.
pub async fn revert_all(
    conn: AsyncPgConnection,
) -> Result<(AsyncPgConnection, Vec<String>), MigrationError> {
    with_harness(conn, |harness| {
        harness
            .revert_all_migrations(MIGRATIONS)
            .map(|versions| versions.iter().map(ToString::to_string).collect())
    })
    .await
}

/// The embedded migrations this database has not applied, read from diesel's own table.
pub async fn pending(conn: &mut AsyncPgConnection) -> QueryResult<Vec<String>> {
    #[derive(QueryableByName)]
    struct Present {
        #[diesel(sql_type = Bool)]
        present: bool,
    }
    #[derive(QueryableByName)]
    struct Applied {
        #[diesel(sql_type = Text)]
        version: String,
    }
    // A database no migration has touched has no table yet: everything is pending.
    let table: Present = diesel::sql_query(
        "SELECT to_regclass('__diesel_schema_migrations') IS NOT NULL AS present",
    )
    .get_result(conn)
    .await?;
    let applied: Vec<String> = if table.present {
        diesel::sql_query("SELECT version FROM __diesel_schema_migrations")
            .load::<Applied>(conn)
            .await?
            .into_iter()
            .map(|a| a.version)
            .collect()
    } else {
        Vec::new()
    };
    Ok(known_versions()
        .into_iter()
        .filter(|version| !applied.contains(version))
        .collect())
}

type HarnessResult<T> = diesel::migration::Result<T>;

async fn with_harness<T: Send + 'static>(
    conn: AsyncPgConnection,
    work: impl FnOnce(&mut AsyncMigrationHarness<AsyncPgConnection>) -> HarnessResult<T>
        + Send
        + 'static,
) -> Result<(AsyncPgConnection, T), MigrationError> {
    tokio::task::spawn_blocking(move || {
        let mut harness = AsyncMigrationHarness::new(conn);
        let outcome = work(&mut harness);
        (harness.into_inner(), outcome)
    })
    .await
    .map_err(|e| MigrationError(e.to_string()))
    .and_then(|(conn, outcome)| {
        outcome
            .map(|value| (conn, value))
            .map_err(|e| MigrationError(e.to_string()))
    })
}
