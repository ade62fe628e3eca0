//! The verification queries behind `gatehouse db check`: is the schema what Gatehouse relies on?

use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::schema::{artwork_jobs, user};

/// One line of the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckOutcome {
    pub name: String,
    pub passed: bool,
    pub detail: String,
}

impl CheckOutcome {
    fn new(name: impl Into<String>, passed: bool, detail: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            passed,
            detail: detail.into(),
        }
    }
}

/// Tables Gatehouse needs: Better Auth's four, its passkey, two-factor and jwt plugins', and
/// Gatehouse's own.
pub const REQUIRED_TABLES: [&str; 14] = [
    "user",
    "session",
    "account",
    "verification",
    "passkey",
    "twoFactor",
    "jwks",
    "artwork_jobs",
    "audit_event",
    "gatehouse_rate_limit",
    "webhook_delivery",
    "email_change",
    "invitation",
    "invitation_result",
];

/// (table, column) pairs that must reference `user` with ON DELETE CASCADE.
pub const CASCADING_TO_USER: [(&str, &str); 6] = [
    ("session", "userId"),
    ("account", "userId"),
    ("passkey", "userId"),
    ("twoFactor", "userId"),
    ("artwork_jobs", "user_id"),
    ("email_change", "user_id"),
];

/// (index, unique) pairs that must exist.
pub const REQUIRED_INDEXES: [(&str, bool); 17] = [
    ("user_email_key", true),
    ("session_token_key", true),
    ("session_userId_idx", false),
    ("session_expiresAt_idx", false),
    ("account_userId_idx", false),
    ("account_providerId_accountId_key", true),
    ("verification_identifier_idx", false),
    ("verification_expiresAt_idx", false),
    ("passkey_userId_idx", false),
    ("passkey_credentialID_key", true),
    ("twoFactor_userId_idx", false),
    ("artwork_jobs_job_id_key", true),
    ("artwork_jobs_user_id_created_at_idx", false),
    ("audit_event_created_at_idx", false),
    ("webhook_delivery_pending_idx", false),
    ("email_change_user_id_idx", false),
    ("invitation_pending_email_key", true),
];

#[derive(QueryableByName)]
struct Exists {
    #[diesel(sql_type = Bool)]
    exists: bool,
}

async fn exists(conn: &mut AsyncPgConnection, sql: &str, binds: &[&str]) -> QueryResult<bool> {
    // At most two binds are used below; diesel's bind types are static, hence the match.
    let row: Exists = match binds {
        [a] => {
            diesel::sql_query(sql)
                .bind::<Text, _>(*a)
                .get_result(conn)
                .await?
        }
        [a, b] => {
            diesel::sql_query(sql)
                .bind::<Text, _>(*a)
                .bind::<Text, _>(*b)
                .get_result(conn)
                .await?
        }
        _ => unreachable!("checks bind one or two values"),
    };
    Ok(row.exists)
}

/// Runs every check; a failing query becomes a failed line, never an early return.
pub async fn run(conn: &mut AsyncPgConnection, pending_migrations: &[String]) -> Vec<CheckOutcome> {
    let mut report = vec![CheckOutcome::new(
        "migrations are current",
        pending_migrations.is_empty(),
        if pending_migrations.is_empty() {
            "no pending migration".to_string()
        } else {
            format!("pending: {}", pending_migrations.join(", "))
        },
    )];

    for table in REQUIRED_TABLES {
        let found = exists(
            conn,
            "SELECT EXISTS (SELECT 1 FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name = $1) AS exists",
            &[table],
        )
        .await;
        report.push(outcome(format!("table \"{table}\" exists"), found));
    }

    for (table, column) in CASCADING_TO_USER {
        let found = exists(
            conn,
            "SELECT EXISTS (
                SELECT 1 FROM pg_constraint con
                JOIN pg_class rel ON rel.oid = con.conrelid
                JOIN pg_class ref ON ref.oid = con.confrelid
                JOIN pg_namespace ns ON ns.oid = rel.relnamespace
                JOIN pg_attribute att ON att.attrelid = rel.oid AND att.attnum = ANY (con.conkey)
                WHERE con.contype = 'f' AND con.confdeltype = 'c'
                  AND ns.nspname = current_schema() AND ref.relname = 'user'
                  AND rel.relname = $1 AND att.attname = $2) AS exists",
            &[table, column],
        )
        .await;
        report.push(outcome(
            format!("{table}.{column} references user ON DELETE CASCADE"),
            found,
        ));
    }

    for (index, unique) in REQUIRED_INDEXES {
        let found = exists(
            conn,
            "SELECT EXISTS (
                SELECT 1 FROM pg_index i
                JOIN pg_class c ON c.oid = i.indexrelid
                JOIN pg_namespace ns ON ns.oid = c.relnamespace
                WHERE ns.nspname = current_schema() AND c.relname = $1
                  AND (i.indisunique OR $2 = 'false')) AS exists",
            &[index, if unique { "true" } else { "false" }],
        )
        .await;
        let kind = if unique { "unique index" } else { "index" };
        report.push(outcome(format!("{kind} \"{index}\" exists"), found));
    }

    report.push(seed_check(conn).await);
    report
}

fn outcome(name: String, found: QueryResult<bool>) -> CheckOutcome {
    match found {
        Ok(true) => CheckOutcome::new(name, true, "ok"),
        Ok(false) => CheckOutcome::new(name, false, "missing"),
        Err(e) => CheckOutcome::new(name, false, format!("query failed: {e}")),
    }
}

/// Inserts a test user, links a test artwork to them and deletes the user (the artwork must go
/// with them), all in a transaction that is rolled back, so the database is left as it was.
async fn seed_check(conn: &mut AsyncPgConnection) -> CheckOutcome {
    const NAME: &str = "a test user can be inserted and a test artwork linked to them";
    let result = conn
        .transaction::<(), SeedError, _>(|conn| {
            async move {
                let user_id = format!("db-check-{}", uuid::Uuid::now_v7());
                diesel::insert_into(user::table)
                    .values((
                        user::id.eq(&user_id),
                        user::name.eq("Gatehouse db check"),
                        user::email.eq(format!("{user_id}@db-check.invalid")),
                    ))
                    .execute(conn)
                    .await?;
                diesel::insert_into(artwork_jobs::table)
                    .values((
                        artwork_jobs::id.eq(&user_id),
                        artwork_jobs::job_id.eq(&user_id),
                        artwork_jobs::original_url.eq("https://db-check.invalid/art.png"),
                        artwork_jobs::user_id.eq(&user_id),
                    ))
                    .execute(conn)
                    .await?;
                let linked: i64 = artwork_jobs::table
                    .filter(artwork_jobs::user_id.eq(&user_id))
                    .count()
                    .get_result(conn)
                    .await?;
                if linked != 1 {
                    return Err(SeedError::Failed(format!(
                        "{linked} artworks linked, not 1"
                    )));
                }
                diesel::delete(user::table.find(&user_id))
                    .execute(conn)
                    .await?;
                let left: i64 = artwork_jobs::table
                    .filter(artwork_jobs::job_id.eq(&user_id))
                    .count()
                    .get_result(conn)
                    .await?;
                if left != 0 {
                    return Err(SeedError::Failed(
                        "deleting the user left their artwork behind".into(),
                    ));
                }
                Err(SeedError::RolledBack)
            }
            .scope_boxed()
        })
        .await;
    match result {
        Err(SeedError::RolledBack) => CheckOutcome::new(NAME, true, "ok (rolled back)"),
        Err(SeedError::Failed(why)) => CheckOutcome::new(NAME, false, why),
        Err(SeedError::Query(e)) => CheckOutcome::new(NAME, false, format!("query failed: {e}")),
        Ok(()) => unreachable!("the seed check always rolls back"),
    }
}

#[derive(Debug, thiserror::Error)]
enum SeedError {
    #[error("rolled back")]
    RolledBack,
    #[error("{0}")]
    Failed(String),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
}
