//! The private PostgreSQL: first start, restart with data kept, a crash's stale lock, and a
//! second instance on the same folder.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use diesel::sql_types::Text;
use diesel::QueryableByName;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use gatehouse::local_postgres::{Durability, Installation, LocalPostgres, LocalPostgresError};

/// A temporary data folder the `postgres` user can reach when tests run as root.
pub fn passable_tempdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

async fn start(root: &Path) -> Result<LocalPostgres, LocalPostgresError> {
    LocalPostgres::start(&Installation::find().unwrap(), root, Durability::Durable).await
}

#[derive(QueryableByName)]
struct Note {
    #[diesel(sql_type = Text)]
    body: String,
}

async fn notes(postgres: &LocalPostgres) -> Vec<String> {
    let mut conn = AsyncPgConnection::establish(&postgres.url("gatehouse"))
        .await
        .unwrap();
    diesel::sql_query("SELECT body FROM notes ORDER BY body")
        .load::<Note>(&mut conn)
        .await
        .unwrap()
        .into_iter()
        .map(|n| n.body)
        .collect()
}

fn pid_file(root: &Path) -> PathBuf {
    root.join("postgres").join("postmaster.pid")
}

#[tokio::test(flavor = "multi_thread")]
async fn data_survives_a_restart_and_a_stale_lock_is_cleared() {
    let dir = passable_tempdir();
    let root = dir.path().join("data");

    let postgres = start(&root).await.unwrap();
    let mut conn = AsyncPgConnection::establish(&postgres.url("gatehouse"))
        .await
        .unwrap();
    conn.batch_execute("CREATE TABLE notes (body text); INSERT INTO notes VALUES ('kept');")
        .await
        .unwrap();
    drop(conn);
    assert!(pid_file(&root).exists());
    postgres.stop();
    assert!(!pid_file(&root).exists(), "a clean stop removes the lock");

    let postgres = start(&root).await.unwrap();
    assert_eq!(notes(&postgres).await, ["kept"]);
    postgres.stop();

    // A crash leaves postmaster.pid behind, naming a process that is gone, or whose number
    // now belongs to something else (here: this test).
    for stale_pid in [i32::MAX.to_string(), std::process::id().to_string()] {
        fs::write(
            pid_file(&root),
            format!("{stale_pid}\n{}\n", root.display()),
        )
        .unwrap();
        let postgres = start(&root).await.unwrap();
        assert_eq!(notes(&postgres).await, ["kept"]);
        postgres.stop();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_postgres_on_the_same_folder_is_refused() {
    let dir = passable_tempdir();
    let root = dir.path().join("data");
    let first = start(&root).await.unwrap();
    match start(&root).await {
        Err(LocalPostgresError::AlreadyRunning { .. }) => {}
        Err(other) => panic!("expected AlreadyRunning, got {other}"),
        Ok(_) => panic!("a second PostgreSQL started on the same folder"),
    }
    // The first one is unharmed.
    let mut conn = AsyncPgConnection::establish(&first.url("gatehouse"))
        .await
        .unwrap();
    conn.batch_execute("SELECT 1").await.unwrap();
    drop(conn);
    first.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn dropping_the_handle_stops_postgres() {
    let dir = passable_tempdir();
    let root = dir.path().join("data");
    let postgres = start(&root).await.unwrap();
    let url = postgres.url("gatehouse");
    drop(postgres);
    assert!(!pid_file(&root).exists());
    assert!(AsyncPgConnection::establish(&url).await.is_err());
}
