//! The background sweep deletes what expired and nothing else.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use gatehouse_app::db::schema::{session, user, verification};
use gatehouse_app::services::housekeeping::{sweep_expired, Swept};

use crate::support::TestDb;

#[tokio::test(flavor = "multi_thread")]
async fn the_sweep_deletes_expired_sessions_and_verifications_only() {
    let db = TestDb::migrated().await;
    let mut conn = db.conn().await;
    diesel::insert_into(user::table)
        .values((
            user::id.eq("u1"),
            user::name.eq("Ada"),
            user::email.eq("ada@example.com"),
        ))
        .execute(&mut conn)
        .await
        .unwrap();
    let now = Utc::now();
    for (id, expires) in [
        ("expired", now - Duration::minutes(1)),
        ("live", now + Duration::days(1)),
    ] {
        diesel::insert_into(session::table)
            .values((
                session::id.eq(id),
                session::token.eq(format!("hash-{id}")),
                session::user_id.eq("u1"),
                session::expires_at.eq(expires),
            ))
            .execute(&mut conn)
            .await
            .unwrap();
        diesel::insert_into(verification::table)
            .values((
                verification::id.eq(id),
                verification::identifier.eq(format!("email-verification:{id}")),
                verification::value.eq("hash"),
                verification::expires_at.eq(expires),
            ))
            .execute(&mut conn)
            .await
            .unwrap();
    }

    let swept = sweep_expired(&db.pool).await.unwrap();
    assert_eq!(
        swept,
        Swept {
            sessions: 1,
            verifications: 1,
            email_changes: 0,
        }
    );
    let sessions: Vec<String> = session::table
        .select(session::id)
        .load(&mut conn)
        .await
        .unwrap();
    let verifications: Vec<String> = verification::table
        .select(verification::id)
        .load(&mut conn)
        .await
        .unwrap();
    assert_eq!(sessions, ["live"]);
    assert_eq!(verifications, ["live"]);

    assert_eq!(sweep_expired(&db.pool).await.unwrap(), Swept::default());
}

#[tokio::test(flavor = "multi_thread")]
async fn audit_events_past_retention_are_the_only_ones_deleted() {
    use diesel_async::SimpleAsyncConnection;
    use gatehouse_app::db::schema::audit_event;
    use gatehouse_app::services::housekeeping::sweep_audit;

    let db = TestDb::migrated().await;
    let mut conn = db.conn().await;
    conn.batch_execute(
        "INSERT INTO audit_event (id, created_at, actor_label, action) VALUES
           ('old', now() - interval '366 days', 'system', 'sign_in'),
           ('kept', now() - interval '364 days', 'system', 'sign_in'),
           ('new', now(), 'system', 'sign_in')",
    )
    .await
    .unwrap();
    assert_eq!(sweep_audit(&db.pool, Duration::days(365)).await.unwrap(), 1);
    let left: Vec<String> = audit_event::table
        .order(audit_event::id)
        .select(audit_event::id)
        .load(&mut conn)
        .await
        .unwrap();
    assert_eq!(left, ["kept", "new"]);
    // Outside the retention job the log stays append-only.
    let refused = conn
        .batch_execute("DELETE FROM audit_event WHERE id = 'new'")
        .await;
    assert!(refused.is_err());
}
