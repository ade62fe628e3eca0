//! Adopting databases that are not exactly Gatehouse's: Better Auth's Drizzle schema (plural
//! tables, snake_case columns, the admin plugin, fields of the app's own) beside an Artorizer
//! `artwork_jobs` of its own shape; what the plan says; and refusals that change nothing.

use axum::http::StatusCode;
use diesel::sql_types::{Bool, Text};
use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use gatehouse::local_postgres::Installation;
use gatehouse_app::db::migrations::{self, MigrationError, Plan};
use gatehouse_app::db::{check, migrations::pending};

use crate::accounts::{sign_in, PASSWORD};
use crate::support::{TestApp, TestDb};

const DRIZZLE_PLURAL: &str = include_str!("fixtures/better_auth_drizzle_plural.sql");
const ARTORIZER_OWN: &str = include_str!("fixtures/artorizer_own_shape.sql");
const BETTER_AUTH_CURRENT: &str = include_str!("fixtures/better_auth_current.sql");
const ARTORIZER: &str = include_str!("fixtures/artorizer_artwork_jobs.sql");

const ADA: &str = "0190a0f5-aaaa-7000-8000-000000000001";
const BOB: &str = "0190a0f5-bbbb-7000-8000-000000000002";

/// Everything in the database, as `pg_dump` writes it (its per-run `\restrict` key aside).
fn dump(db: &TestDb) -> String {
    let installation = Installation::find().unwrap();
    let output = std::process::Command::new(installation.program("pg_dump"))
        .args(["--no-owner", "--dbname", &db.url])
        .output()
        .expect("pg_dump runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter(|line| !line.starts_with("\\restrict") && !line.starts_with("\\unrestrict"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One value of a query that names it `v`.
async fn text(conn: &mut AsyncPgConnection, sql: &str) -> Option<String> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
        v: Option<String>,
    }
    diesel::sql_query(sql)
        .get_result::<Row>(conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .v
}

async fn holds(conn: &mut AsyncPgConnection, sql: &str) -> bool {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Bool)]
        v: bool,
    }
    diesel::sql_query(sql)
        .get_result::<Row>(conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .v
}

fn assert_names(plan: &Plan, expected: &[&str]) {
    for line in expected {
        assert!(
            plan.changes.iter().any(|change| change.starts_with(line)),
            "the plan does not say `{line}`:\n{}",
            plan.changes.join("\n")
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn better_auth_on_drizzle_beside_the_artorizers_own_jobs_is_adopted() {
    let (db, conn) = TestDb::loaded(&[DRIZZLE_PLURAL, ARTORIZER_OWN]).await;
    let before = dump(&db);

    // The plan changes nothing, and names every change start-up will make.
    let (conn, planned) = migrations::plan(conn).await.expect("a plan");
    assert_eq!(dump(&db), before, "the plan changed the database");
    assert_eq!(planned.migrations, migrations::known_versions());
    assert_names(
        &planned,
        &[
            "rename table users to user",
            "rename table sessions to session",
            "rename table accounts to account",
            "rename table verifications to verification",
            "create table passkey",
            "create table audit_event",
            "rename column user.email_verified to emailVerified",
            "rename column user.ban_expires to banExpires",
            "rename column session.impersonated_by to impersonatedBy",
            "rename column account.provider_id to providerId",
            "convert column user.createdAt from timestamp without time zone to timestamp with time zone",
            "add column user.isWhitelisted (boolean not null)",
            "convert column artwork_jobs.id from integer to text",
            "convert column artwork_jobs.user_id from uuid to text",
            "add column artwork_jobs.protected_url (text)",
            "add column artwork_jobs.status (text not null)",
            "add column artwork_jobs.updated_at (timestamp with time zone not null)",
            "add constraint artwork_jobs_user_id_fkey on artwork_jobs: FOREIGN KEY (user_id) REFERENCES \"user\"(id) ON DELETE CASCADE",
            "add constraint user_role_check on user",
            "add index artwork_jobs_user_id_created_at_idx on artwork_jobs",
            "add index user_email_prefix_idx on user",
            "session: 1 Better Auth sessions deleted",
            "user: 1 roles mapped to admin",
            "user: 1 roles mapped to user",
            "user: 1 emails lower-cased",
            "user: 1 empty tiers set to free",
            "user: 1 empty ban flags set to false",
            "artwork_jobs: 3 ids converted from integer to text",
            "artwork_jobs: 2 user_ids converted from uuid to text",
            "artwork_jobs: 1 creation times filled in",
            "artwork_jobs: 3 update times filled in",
            "artwork_jobs: 3 statuses set to queued",
        ],
    );
    assert!(
        !planned
            .changes
            .iter()
            .any(|c| c.starts_with("drop") || c.starts_with("change")),
        "adoption drops nothing of theirs, and their foreign keys already cascade:\n{}",
        planned.changes.join("\n")
    );

    // Start-up does what the plan said, and the schema is then what Gatehouse relies on.
    let (mut conn, applied) = migrations::run_pending(conn).await.expect("adopted");
    assert_eq!(applied, planned, "start-up did what the plan said");
    let pending = pending(&mut conn).await.unwrap();
    let failed: Vec<_> = check::run(&mut conn, &pending)
        .await
        .into_iter()
        .filter(|line| !line.passed)
        .collect();
    assert_eq!(failed, vec![]);

    // No row lost (the clear-text sessions aside); their own columns, indexes and checks kept.
    for (table, rows) in [
        ("user", "3"),
        ("account", "3"),
        ("verification", "1"),
        ("artwork_jobs", "3"),
        ("session", "0"),
    ] {
        let sql = format!("SELECT count(*)::text AS v FROM \"{table}\"");
        assert_eq!(
            text(&mut conn, &sql).await.as_deref(),
            Some(rows),
            "{table}"
        );
    }
    let ada =
        |column: &str| format!("SELECT \"{column}\"::text AS v FROM \"user\" WHERE id = '{ADA}'");
    assert_eq!(
        text(&mut conn, &ada("stripe_customer_id")).await.as_deref(),
        Some("cus_ada")
    );
    assert_eq!(
        text(&mut conn, &ada("role")).await.as_deref(),
        Some("admin")
    );
    assert_eq!(
        text(&mut conn, &ada("tier")).await.as_deref(),
        Some("member")
    );
    assert_eq!(
        text(&mut conn, &ada("email")).await.as_deref(),
        Some("ada@example.com")
    );
    assert_eq!(
        text(&mut conn, &ada("createdAt")).await.as_deref(),
        Some("2024-05-01 12:00:00+00"),
        "timestamps keep their UTC value"
    );
    assert_eq!(
        text(
            &mut conn,
            "SELECT title || ' ' || width AS v FROM artwork_jobs WHERE job_id = 'job-a'"
        )
        .await
        .as_deref(),
        Some("Sunrise 1024")
    );
    assert_eq!(
        text(
            &mut conn,
            "SELECT user_id AS v FROM artwork_jobs WHERE job_id = 'job-a'"
        )
        .await
        .as_deref(),
        Some(ADA),
        "the Artorizer's owner column keeps its links"
    );
    for kept in [
        "users_stripe_customer_idx",
        "artwork_jobs_title_idx",
        "users_email_unique",
        "artwork_jobs_title_length",
    ] {
        let sql = format!(
            "SELECT EXISTS (SELECT 1 FROM pg_class WHERE relname = '{kept}') \
             OR EXISTS (SELECT 1 FROM pg_constraint WHERE conname = '{kept}') AS v"
        );
        assert!(holds(&mut conn, &sql).await, "{kept} was not kept");
    }
    // The Artorizer's own id sequence still numbers the rows it inserts.
    conn.batch_execute(
        "INSERT INTO artwork_jobs (job_id, original_url) VALUES ('job-d', 'https://cdn.example/d.png')",
    )
    .await
    .unwrap();
    drop(conn);

    // As a person sees it: the Better Auth admin signs in with their old password and reaches
    // /admin; the banned one cannot sign in.
    let app = TestApp::on(db).await;
    let mut ada = app.browser();
    sign_in(&mut ada, "ada@example.com", PASSWORD).await;
    assert_eq!(ada.get("/admin").await.status, StatusCode::OK);
    let mut bob = app.browser_at("10.0.0.2");
    let refused = bob
        .call(
            "/api/sign-in",
            &[("email", "bob@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let mut conn = app.db.connect().await;
    let bob_banned =
        format!("SELECT banned AND \"banReason\" = 'spam' AS v FROM \"user\" WHERE id = '{BOB}'");
    assert!(holds(&mut conn, &bob_banned).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn what_cannot_be_adopted_is_refused_with_the_fix_and_changes_nothing() {
    // (what makes the database one Gatehouse cannot adopt, what the refusal must say)
    let cases: [(&str, &[&str]); 5] = [
        (
            "ALTER TABLE artwork_jobs RENAME COLUMN original_url TO image_url",
            &["artwork_jobs", "original_url", "ALTER TABLE artwork_jobs RENAME COLUMN image_url TO original_url;"],
        ),
        (
            "ALTER TABLE artwork_jobs DROP COLUMN job_id",
            &["artwork_jobs", "job_id", "ALTER TABLE artwork_jobs ADD COLUMN job_id text;"],
        ),
        (
            "ALTER TABLE \"user\" ADD COLUMN tier text; UPDATE \"user\" SET tier = 'pro'",
            &["\"user\"", "tier", "UPDATE \"user\" SET \"tier\" = 'member' WHERE \"tier\" = 'pro';"],
        ),
        (
            "ALTER TABLE artwork_jobs ADD COLUMN user_id text; UPDATE artwork_jobs SET user_id = 'nobody'",
            &["artwork_jobs", "user_id", "'nobody'", "UPDATE artwork_jobs SET user_id = NULL"],
        ),
        (
            "ALTER TABLE \"user\" ADD COLUMN \"isWhitelisted\" integer",
            &["\"user\"", "isWhitelisted", "integer", "RENAME COLUMN \"isWhitelisted\" TO \"own_isWhitelisted\";"],
        ),
    ];
    for (damage, says) in cases {
        let (db, mut conn) = TestDb::loaded(&[BETTER_AUTH_CURRENT, ARTORIZER]).await;
        conn.batch_execute(damage).await.unwrap();
        let before = dump(&db);

        let planned = migrations::plan(conn).await.map(|(_, plan)| plan);
        let Err(MigrationError::Refused(plan_says)) = planned else {
            panic!("{damage}: the plan did not refuse: {planned:?}");
        };
        for part in says {
            assert!(
                plan_says.contains(part),
                "{damage}: `{part}` missing from: {plan_says}"
            );
        }
        let started = migrations::run_pending(db.connect().await)
            .await
            .map(|(_, plan)| plan);
        let Err(MigrationError::Refused(start_says)) = started else {
            panic!("{damage}: start-up did not refuse: {started:?}");
        };
        assert_eq!(start_says, plan_says, "the plan and start-up say the same");
        assert_eq!(
            dump(&db),
            before,
            "{damage}: the refusal changed the database"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_jobs_table_keyed_by_job_id_alone_gets_an_id_per_row() {
    let (_db, mut conn) = TestDb::loaded(&[BETTER_AUTH_CURRENT, ARTORIZER]).await;
    conn.batch_execute(
        "ALTER TABLE artwork_jobs DROP COLUMN id; ALTER TABLE artwork_jobs ADD PRIMARY KEY (job_id)",
    )
    .await
    .unwrap();
    let (mut conn, plan) = migrations::run_pending(conn).await.expect("adopted");
    assert_names(
        &plan,
        &[
            "add column artwork_jobs.id (text not null)",
            "add index artwork_jobs_id_key on artwork_jobs",
            "user: 1 have not confirmed their address",
        ],
    );
    assert_eq!(
        text(
            &mut conn,
            "SELECT count(DISTINCT id)::text AS v FROM artwork_jobs"
        )
        .await
        .as_deref(),
        Some("3"),
        "every job has an id of its own"
    );
    let pending = pending(&mut conn).await.unwrap();
    assert!(check::run(&mut conn, &pending)
        .await
        .iter()
        .all(|line| line.passed));
}
