//! The schema: migrations on an empty database, twice, down and up again, and on databases
//! that Better Auth and the Artorizer made; the seed checks; the append-only audit log.

use chrono::{DateTime, TimeZone, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use gatehouse_app::db::schema::{account, artwork_jobs, user, verification};
use gatehouse_app::db::{check, migrations};

use crate::support::TestDb;

const BETTER_AUTH_CURRENT: &str = include_str!("fixtures/better_auth_current.sql");
const BETTER_AUTH_LEGACY: &str = include_str!("fixtures/better_auth_legacy.sql");
const ARTORIZER: &str = include_str!("fixtures/artorizer_artwork_jobs.sql");

const ADA: &str = "Qm9vVXNlcjE2Y2hhcnMx";
const BOB: &str = "Qm9vVXNlcjI2Y2hhcnMy";

async fn migrate(conn: AsyncPgConnection) -> (AsyncPgConnection, Vec<String>) {
    let (conn, plan) = migrations::run_pending(conn).await.expect("migrations run");
    (conn, plan.migrations)
}

async fn failed_checks(conn: &mut AsyncPgConnection) -> Vec<check::CheckOutcome> {
    let pending = migrations::pending(conn).await.expect("pending migrations");
    check::run(conn, &pending)
        .await
        .into_iter()
        .filter(|line| !line.passed)
        .collect()
}

/// How many rows `table` holds.
async fn count(conn: &mut AsyncPgConnection, table: &str) -> i64 {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let row: Count = diesel::sql_query(format!("SELECT count(*) AS n FROM \"{table}\""))
        .get_result(conn)
        .await
        .expect("count");
    row.n
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_database_migrates_and_passes_every_check() {
    let db = TestDb::empty().await;
    let mut conn = db.connect().await;
    assert_eq!(
        migrations::pending(&mut conn).await.unwrap(),
        migrations::known_versions(),
        "a new database has every migration pending"
    );
    assert!(
        !failed_checks(&mut conn).await.is_empty(),
        "the check fails before migrations"
    );

    let (mut conn, applied) = migrate(conn).await;
    assert_eq!(applied, migrations::known_versions());
    assert_eq!(failed_checks(&mut conn).await, vec![]);
}

#[tokio::test(flavor = "multi_thread")]
async fn migrating_twice_changes_nothing() {
    let db = TestDb::empty().await;
    let (conn, first) = migrate(db.connect().await).await;
    assert_eq!(first.len(), migrations::known_versions().len());
    let (mut conn, second) = migrate(conn).await;
    assert_eq!(second, Vec::<String>::new());
    assert_eq!(failed_checks(&mut conn).await, vec![]);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_down_then_every_up_again() {
    let db = TestDb::migrated().await;
    let conn = db.connect().await;
    let (mut conn, reverted) = migrations::revert_all(conn)
        .await
        .expect("every down.sql runs");
    assert_eq!(reverted.len(), migrations::known_versions().len());
    #[derive(QueryableByName)]
    struct Table {
        #[diesel(sql_type = diesel::sql_types::Text)]
        table_name: String,
    }
    let tables: Vec<Table> = diesel::sql_query(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'",
    )
    .load(&mut conn)
    .await
    .unwrap();
    let names: Vec<String> = tables.into_iter().map(|t| t.table_name).collect();
    assert!(names.is_empty(), "down.sql left tables behind: {names:?}");

    let (mut conn, applied) = migrate(conn).await;
    assert_eq!(applied.len(), migrations::known_versions().len());
    assert_eq!(failed_checks(&mut conn).await, vec![]);
}

/// Loads a fixture into an empty database and migrates it.
async fn adopt(fixtures: &[&str]) -> AsyncPgConnection {
    let (_db, conn) = TestDb::loaded(fixtures).await;
    let (mut conn, applied) = migrate(conn).await;
    assert_eq!(applied.len(), migrations::known_versions().len());
    assert_eq!(failed_checks(&mut conn).await, vec![]);
    conn
}

/// What must hold after adopting either Better Auth schema with the Artorizer's jobs.
async fn assert_adopted(conn: &mut AsyncPgConnection) {
    // No row lost but the clear-text sessions, which adoption deletes on purpose.
    assert_eq!(count(conn, "user").await, 2);
    assert_eq!(count(conn, "account").await, 2);
    assert_eq!(count(conn, "verification").await, 1);
    assert_eq!(count(conn, "artwork_jobs").await, 3);
    assert_eq!(count(conn, "session").await, 0);

    let (email, created, tier, whitelisted): (String, DateTime<Utc>, String, bool) = user::table
        .find(ADA)
        .select((
            user::email,
            user::created_at,
            user::tier,
            user::is_whitelisted,
        ))
        .first(conn)
        .await
        .unwrap();
    assert_eq!(email, "ada@example.com", "emails are stored lower-case");
    assert_eq!(
        created,
        utc(2024, 5, 1, 12, 0),
        "timestamps keep their UTC value"
    );
    assert_eq!(tier, "free");
    assert!(!whitelisted, "nobody is whitelisted by adoption");
    let bob_role: String = user::table
        .find(BOB)
        .select(user::role)
        .first(conn)
        .await
        .unwrap();
    assert_eq!(bob_role, "user");

    let password: Option<String> = account::table
        .find("a1")
        .select(account::password)
        .first(conn)
        .await
        .unwrap();
    assert_eq!(
        password.as_deref(),
        Some("c2FsdHNhbHQ:6b6579"),
        "password hashes are kept"
    );

    // The Artorizer's jobs keep their ids (now text), times and status, with no owner yet.
    type Job = (String, String, String, Option<String>, DateTime<Utc>);
    let jobs: Vec<Job> = artwork_jobs::table
        .order(artwork_jobs::job_id)
        .select((
            artwork_jobs::id,
            artwork_jobs::job_id,
            artwork_jobs::status,
            artwork_jobs::user_id,
            artwork_jobs::created_at,
        ))
        .load(conn)
        .await
        .unwrap();
    assert_eq!(jobs[0].0, "0190a0f5-1111-7000-8000-000000000001");
    assert_eq!(jobs[0].2, "done");
    assert_eq!(jobs[0].4, utc(2024, 7, 1, 10, 0));
    assert_eq!(jobs[1].2, "processing");
    assert!(jobs.iter().all(|job| job.3.is_none()));

    // A job can now be linked to a user, and goes when they go, with everything else of theirs.
    diesel::update(artwork_jobs::table.filter(artwork_jobs::job_id.eq("job-1")))
        .set(artwork_jobs::user_id.eq(ADA))
        .execute(conn)
        .await
        .unwrap();
    diesel::delete(user::table.find(ADA))
        .execute(conn)
        .await
        .unwrap();
    assert_eq!(count(conn, "artwork_jobs").await, 2);
    assert_eq!(count(conn, "account").await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_current_better_auth_database_is_adopted_in_place() {
    let mut conn = adopt(&[BETTER_AUTH_CURRENT, ARTORIZER]).await;
    let role: String = user::table
        .find(ADA)
        .select(user::role)
        .first(&mut conn)
        .await
        .unwrap();
    assert_eq!(role, "admin", "Better Auth's admin role is kept");
    assert_eq!(count(&mut conn, "passkey").await, 1);
    assert_adopted(&mut conn).await;
    assert_eq!(
        count(&mut conn, "passkey").await,
        0,
        "passkeys go with their user"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_legacy_better_auth_database_is_adopted_in_place() {
    let mut conn = adopt(&[BETTER_AUTH_LEGACY, ARTORIZER]).await;
    // Its foreign keys had no ON DELETE CASCADE; now a user's deletion takes their rows along.
    assert_adopted(&mut conn).await;
    let verification_created: DateTime<Utc> = verification::table
        .find("v1")
        .select(verification::created_at)
        .first(&mut conn)
        .await
        .unwrap();
    assert!(
        verification_created <= Utc::now(),
        "null timestamps are filled in"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_adopted_database_can_be_migrated_down_and_up_again() {
    let conn = adopt(&[BETTER_AUTH_LEGACY, ARTORIZER]).await;
    let (conn, _) = migrations::revert_all(conn)
        .await
        .expect("every down.sql runs");
    let (mut conn, applied) = migrate(conn).await;
    assert_eq!(applied.len(), migrations::known_versions().len());
    assert_eq!(failed_checks(&mut conn).await, vec![]);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_seed_checks_hold_on_a_migrated_database() {
    let db = TestDb::migrated().await;
    let mut conn = db.connect().await;
    let report = check::run(&mut conn, &[]).await;
    for table in ["user", "session", "account", "verification"] {
        assert!(
            report
                .iter()
                .any(|l| l.passed && l.name == format!("table \"{table}\" exists")),
            "missing the check for {table}"
        );
    }
    for (table, column) in check::CASCADING_TO_USER {
        let name = format!("{table}.{column} references user ON DELETE CASCADE");
        assert!(report.iter().any(|l| l.passed && l.name == name), "{name}");
    }
    let seed = report.last().unwrap();
    assert!(
        seed.passed && seed.name.contains("test artwork linked"),
        "{seed:?}"
    );
    // The seed check rolls back: nothing is left behind.
    assert_eq!(count(&mut conn, "user").await, 0);
    assert_eq!(count(&mut conn, "artwork_jobs").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_check_fails_when_a_cascade_is_missing() {
    let db = TestDb::migrated().await;
    let mut conn = db.connect().await;
    conn.batch_execute(
        "ALTER TABLE session DROP CONSTRAINT \"session_userId_fkey\";
         ALTER TABLE session ADD FOREIGN KEY (\"userId\") REFERENCES \"user\" (id);",
    )
    .await
    .unwrap();
    let failed = failed_checks(&mut conn).await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(
        failed[0].name,
        "session.userId references user ON DELETE CASCADE"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_audit_log_is_append_only() {
    let db = TestDb::migrated().await;
    let mut conn = db.connect().await;
    conn.batch_execute(
        "INSERT INTO audit_event (id, actor_label, action) VALUES ('e1', 'system', 'test')",
    )
    .await
    .unwrap();
    for refused in [
        "UPDATE audit_event SET action = 'changed'",
        "DELETE FROM audit_event",
        "TRUNCATE audit_event",
    ] {
        let error = conn.batch_execute(refused).await.expect_err(refused);
        assert!(
            error.to_string().contains("append-only"),
            "{refused}: {error}"
        );
    }
    // Only the retention job, which says so for its transaction, may delete.
    conn.batch_execute(
        "BEGIN; SET LOCAL gatehouse.audit_retention = 'on'; DELETE FROM audit_event; COMMIT;",
    )
    .await
    .unwrap();
    assert_eq!(count(&mut conn, "audit_event").await, 0);
}
