//! PostgreSQL goes away and comes back: meanwhile every answer that needs it is 503 with
//! `Retry-After` and words a person understands (never a 500), and Gatehouse recovers by
//! itself once the database is back.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use gatehouse::local_postgres::{Durability, Installation, LocalPostgres};
use gatehouse_app::db::{migrations, pool, PoolSettings};

use crate::accounts::person;
use crate::local_postgres::passable_tempdir;
use crate::support::http::INTERNAL_TOKEN;
use crate::support::{TestApp, TestDb};

const WORDS: &str = "Gatehouse cannot reach its database; try again in a minute.";

#[tokio::test(flavor = "multi_thread")]
async fn while_postgresql_is_down_answers_are_503_and_it_recovers_when_it_returns() {
    let root = passable_tempdir();
    let installation = Installation::find().unwrap();
    let postgres = LocalPostgres::start(&installation, root.path(), Durability::Durable)
        .await
        .unwrap();
    let url = postgres.url("gatehouse");
    let conn = AsyncPgConnection::establish(&url).await.unwrap();
    migrations::run_pending(conn).await.unwrap();
    let settings = PoolSettings {
        connection_timeout: std::time::Duration::from_secs(1),
        ..PoolSettings::default()
    };
    let db = TestDb {
        pool: pool::build(&url, &settings),
        url,
    };
    let app = TestApp::on(db).await;
    let mut ada = person(&app, "Ada", "ada@example.com", "203.0.113.7").await;
    let token = ada.cookie("gatehouse_session").unwrap().to_string();
    assert_eq!(ada.get("/profile").await.status, StatusCode::OK);

    postgres.stop();
    // A burst of what people and the backend do, all at once, while it is down.
    let mut statuses = Vec::new();
    for round in 0..4 {
        let profile = ada.get("/profile").await;
        assert!(profile.body.contains(WORDS), "{}", profile.body);
        assert!(profile.header("retry-after").is_some(), "round {round}");
        statuses.push(profile.status);
        let sessions = ada.call("/api/my-sessions", &[]).await;
        assert!(sessions.body.contains(WORDS), "{}", sessions.body);
        statuses.push(sessions.status);
        let mut stranger = app.browser_at(&format!("198.51.100.{round}"));
        let sign_in = stranger
            .call(
                "/api/sign-in",
                &[("email", "ada@example.com"), ("password", "whatever it is")],
            )
            .await;
        statuses.push(sign_in.status);
        let internal = app
            .request(
                Request::get("/api/internal/session")
                    .header(header::AUTHORIZATION, format!("Bearer {INTERNAL_TOKEN}"))
                    .header("x-session-token", &token)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(internal.json()["error"], WORDS, "{}", internal.body);
        statuses.push(internal.status);
        statuses.push(app.get("/readyz").await.status);
    }
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::SERVICE_UNAVAILABLE),
        "{statuses:?}"
    );

    // Back again: the same session works, without a restart of Gatehouse.
    let postgres = LocalPostgres::start(&installation, root.path(), Durability::Durable)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    loop {
        let profile = ada.get("/profile").await;
        if profile.status == StatusCode::OK {
            assert!(profile.body.contains("Your profile"));
            break;
        }
        assert_eq!(profile.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "not recovered 10 s after PostgreSQL returned"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    postgres.stop();
}
