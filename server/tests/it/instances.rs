//! Two Gatehouse instances on one database, as behind a load balancer: they share the rate
//! limits, one of them at a time does the housekeeping, and a session ended or a ban made on
//! one is refused by the other at once.

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use gatehouse_app::db::maintenance;
use gatehouse_app::db::schema::{session, user};
use gatehouse_app::services::admin::{self, Change};
use gatehouse_app::services::audit::{Actor, Origin};
use gatehouse_app::services::housekeeping;

use crate::accounts::{person, user_id};
use crate::support::TestApp;

#[tokio::test(flavor = "multi_thread")]
async fn two_instances_allow_together_what_one_allows() {
    let first = TestApp::new().await;
    let second = first.another_instance().await;
    let burst = gatehouse_app::services::rate_limit::per_account_quota()
        .burst_size()
        .get() as usize;
    // Wrong passwords for one account, every one from a new address, taking turns between
    // the instances: each instance's own memory would allow `burst` of them.
    let mut statuses = Vec::new();
    for n in 0..burst + 4 {
        let app = if n % 2 == 0 { &first } else { &second };
        let mut browser = app.browser_at(&format!("198.51.100.{}", n + 1));
        let answer = browser
            .call(
                "/api/sign-in",
                &[
                    ("email", "ada@example.com"),
                    ("password", "not the password"),
                ],
            )
            .await;
        statuses.push(answer.status);
    }
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(
        (statuses.len() - refused, refused),
        (burst, 4),
        "exactly the one quota: {statuses:?}"
    );
    assert!(statuses[..burst]
        .iter()
        .all(|s| *s == StatusCode::UNAUTHORIZED));
}

#[tokio::test(flavor = "multi_thread")]
async fn housekeeping_runs_on_one_instance_at_a_time() {
    let first = TestApp::new().await;
    let second = first.another_instance().await;
    let mut conn = first.db.conn().await;
    diesel::insert_into(user::table)
        .values((
            user::id.eq("u1"),
            user::name.eq("Ada"),
            user::email.eq("ada@example.com"),
        ))
        .execute(&mut conn)
        .await
        .unwrap();
    diesel::insert_into(session::table)
        .values((
            session::id.eq("expired"),
            session::token.eq("hash-expired"),
            session::user_id.eq("u1"),
            session::expires_at.eq(Utc::now() - Duration::minutes(1)),
        ))
        .execute(&mut conn)
        .await
        .unwrap();

    // The first instance is sweeping (it holds the lock): the second skips its round.
    let mut sweeping = first.db.pool.get().await.unwrap();
    assert!(maintenance::try_lock_housekeeping(&mut sweeping)
        .await
        .unwrap());
    housekeeping::sweep(&second.services, Duration::days(365), &second.services.pool).await;
    assert_eq!(
        sessions(&mut conn).await,
        1,
        "swept while another held the lock"
    );

    // Once it is done, the next round of either does the work.
    maintenance::unlock_housekeeping(&mut sweeping)
        .await
        .unwrap();
    housekeeping::sweep(&second.services, Duration::days(365), &second.services.pool).await;
    assert_eq!(sessions(&mut conn).await, 0);
}

async fn sessions(conn: &mut diesel_async::AsyncPgConnection) -> i64 {
    session::table.count().get_result(conn).await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_ended_or_a_ban_on_one_instance_holds_on_the_other_at_once() {
    let first = TestApp::new().await;
    let second = first.another_instance().await;
    let on_second = |browser: &crate::support::http::Browser<'_>| {
        let mut there = second.browser_at("203.0.113.9");
        let cookie = browser.cookie("gatehouse_session").unwrap().to_string();
        there.set_cookie("gatehouse_session", &cookie);
        there
    };

    // Signed in on the first; the second knows the session.
    let mut ada = person(&first, "Ada", "ada@example.com", "203.0.113.7").await;
    let mut there = on_second(&ada);
    assert_eq!(there.get("/profile").await.status, StatusCode::OK);
    // Signed out on the first: the second refuses the cookie at once.
    let signed_out = ada.call("/api/sign-out", &[]).await;
    assert!(signed_out.status.is_success(), "{}", signed_out.status);
    let after = there.call("/api/my-sessions", &[]).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED, "{}", after.body);

    // Banned through the first: the second refuses her session at once.
    let mut bob = person(&first, "Bob", "bob@example.com", "203.0.113.8").await;
    let mut there = on_second(&bob);
    assert_eq!(
        there.call("/api/my-sessions", &[]).await.status,
        StatusCode::OK
    );
    let id = user_id(&first, "bob@example.com").await;
    admin::change(
        &first.services,
        Actor::System("test"),
        &id,
        Change::Ban(Some("spam".into())),
        &Origin::default(),
    )
    .await
    .unwrap();
    let banned = there.call("/api/my-sessions", &[]).await;
    assert_eq!(banned.status, StatusCode::UNAUTHORIZED, "{}", banned.body);
    assert_eq!(
        bob.call("/api/my-sessions", &[]).await.status,
        StatusCode::UNAUTHORIZED
    );
}
