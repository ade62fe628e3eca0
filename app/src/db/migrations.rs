//! The migrations in `migrations/`, embedded in the binary. Every pending migration runs in
//! one transaction: a migration that fails, or an adoption that is refused, leaves the
//! database exactly as it was; and a plan is the same run, rolled back.

use diesel::connection::SimpleConnection;
use diesel::migration::MigrationSource;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::AsyncPgConnection;
use diesel_async::RunQueryDsl;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::catalog::Catalog;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations");

/// Why the migrations did not run. Nothing they did is left: they run in one transaction.
#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    /// The adoption of an existing table was refused: one sentence naming the table, the
    /// column and SQL that would fix it.
    #[error("{0}")]
    Refused(String),
    #[error("migration failed: {0}")]
    Failed(String),
}

/// What running the pending migrations does to a database (or did, once they have run).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// The versions of the migrations that run, oldest first.
    pub migrations: Vec<String>,
    /// Every change, a line each: tables created or renamed; columns added, renamed or
    /// converted; constraints and indexes added or dropped; then rows the adoption touched.
    pub changes: Vec<String>,
}

/// The synchronous view of an async connection that diesel's migration harness needs.
pub type SyncPg = AsyncConnectionWrapper<AsyncPgConnection>;

/// The migration that adopts tables Better Auth or the Artorizer made; a run that applies it
/// has (perhaps) adopted another's database.
pub const ADOPTION: &str = "20261124000002";

/// Two instances starting at once take turns; the second finds nothing pending.
const LOCK: &str = "SELECT pg_advisory_xact_lock(7478391)";
/// How every refusal the adoption migration raises begins.
const REFUSAL: &str = "cannot adopt";
/// Where the adoption migration notes the rows it changes (see its up.sql).
const NOTES: &str = "CREATE TEMP TABLE IF NOT EXISTS gatehouse_adoption \
                     (n serial, note text NOT NULL) ON COMMIT DROP";

/// The versions of every embedded migration, oldest first.
pub fn known_versions() -> Vec<String> {
    MigrationSource::<Pg>::migrations(&MIGRATIONS)
        .expect("embedded migrations are readable")
        .iter()
        .map(|m| m.name().version().to_string())
        .collect()
}

/// Runs every pending migration in one transaction and says what changed.
pub async fn run_pending(
    conn: AsyncPgConnection,
) -> Result<(AsyncPgConnection, Plan), MigrationError> {
    in_one_transaction(conn, Outcome::Commit).await
}

/// What [`run_pending`] would change, found by running it and rolling back: the database is
/// left exactly as it was. A refusal is the one start-up would give.
pub async fn plan(conn: AsyncPgConnection) -> Result<(AsyncPgConnection, Plan), MigrationError> {
    in_one_transaction(conn, Outcome::RollBack).await
}

/// Reverts every applied migration, newest first, in one transaction.
pub async fn revert_all(
    conn: AsyncPgConnection,
) -> Result<(AsyncPgConnection, Vec<String>), MigrationError> {
    blocking(conn, |conn| {
        conn.transaction(|conn| {
            conn.revert_all_migrations(MIGRATIONS)
                .map(|versions| versions.iter().map(ToString::to_string).collect())
                .map_err(|e| failure(e.as_ref()))
        })
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

#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Commit,
    RollBack,
}

/// Why the transaction ends without a commit.
enum Stop {
    Planned(Plan),
    Failed(MigrationError),
}

impl From<diesel::result::Error> for Stop {
    fn from(error: diesel::result::Error) -> Self {
        Stop::Failed(error.into())
    }
}

impl From<diesel::result::Error> for MigrationError {
    fn from(error: diesel::result::Error) -> Self {
        MigrationError::Failed(error.to_string())
    }
}

/// A migration's failure: a refusal raised by the adoption migration keeps its own words
/// (diesel keeps its error type private, so they are found in its message).
fn failure(error: &(dyn std::error::Error + Send + Sync)) -> MigrationError {
    let message = error.to_string();
    match message.find(REFUSAL) {
        Some(start) => MigrationError::Refused(message[start..].to_string()),
        None => MigrationError::Failed(message),
    }
}

async fn in_one_transaction(
    conn: AsyncPgConnection,
    outcome: Outcome,
) -> Result<(AsyncPgConnection, Plan), MigrationError> {
    blocking(conn, move |conn| {
        conn.transaction::<Plan, Stop, _>(|conn| {
            diesel::RunQueryDsl::execute(diesel::sql_query(LOCK), conn)?;
            conn.batch_execute(NOTES)?;
            let before = Catalog::read(conn)?;
            let migrations = conn
                .run_pending_migrations(MIGRATIONS)
                .map_err(|e| Stop::Failed(failure(e.as_ref())))?
                .iter()
                .map(ToString::to_string)
                .collect();
            let mut changes = before.changes_to(&Catalog::read(conn)?);
            changes.extend(notes(conn)?);
            let plan = Plan {
                migrations,
                changes,
            };
            match outcome {
                Outcome::Commit => Ok(plan),
                Outcome::RollBack => Err(Stop::Planned(plan)),
            }
        })
        .or_else(|stop| match stop {
            Stop::Planned(plan) => Ok(plan),
            Stop::Failed(error) => Err(error),
        })
    })
    .await
}

/// Runs `work` on a blocking thread over the connection, which it hands back when done.
async fn blocking<T: Send + 'static>(
    conn: AsyncPgConnection,
    work: impl FnOnce(&mut SyncPg) -> Result<T, MigrationError> + Send + 'static,
) -> Result<(AsyncPgConnection, T), MigrationError> {
    let (conn, result) = tokio::task::spawn_blocking(move || {
        let mut conn = SyncPg::from(conn);
        let result = work(&mut conn);
        (conn.into_inner(), result)
    })
    .await
    .map_err(|e| MigrationError::Failed(e.to_string()))?;
    result.map(|value| (conn, value))
}

/// The rows the adoption migration noted it changed, in order.
fn notes(conn: &mut SyncPg) -> QueryResult<Vec<String>> {
    #[derive(QueryableByName)]
    struct Note {
        #[diesel(sql_type = Text)]
        note: String,
    }
    let notes: Vec<Note> = diesel::RunQueryDsl::load(
        diesel::sql_query("SELECT note FROM pg_temp.gatehouse_adoption ORDER BY n"),
        conn,
    )?;
    Ok(notes.into_iter().map(|n| n.note).collect())
}
