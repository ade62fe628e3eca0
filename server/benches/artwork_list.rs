//! How fast an artist's list of artworks answers with 10,000,000 jobs in the table: 100,000
//! artists with 99 jobs each, and one prolific artist with 100,000. Prints p50 and p99 of the
//! service call behind /artworks (24 jobs a page) for the first page, a status filter and a
//! page deep in the list.
//!
//! `cargo bench -p gatehouse --bench artwork_list` (JOBS=… to change the count).

use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use gatehouse::local_postgres::{Durability, Installation, LocalPostgres};
use gatehouse_app::db::{migrations, pool, users, PoolSettings};
use gatehouse_app::services::access::AccessRules;
use gatehouse_app::services::jobs::list_mine;
use gatehouse_app::services::mail::Mailer;
use gatehouse_app::services::passwords::Passwords;
use gatehouse_app::services::rate_limit::Limits;
use gatehouse_app::services::{AuthSettings, Services};

const ROUNDS: usize = 300;

#[tokio::main]
async fn main() {
    let total: u64 = std::env::var("JOBS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000_000);
    let prolific = 100_000.min(total / 10);
    let artists = 100_000u64;
    let root = tempfile::Builder::new()
        .prefix("gatehouse-bench-")
        .tempdir()
        .unwrap()
        .keep();
    let postgres =
        LocalPostgres::start(&Installation::find().unwrap(), &root, Durability::Throwaway)
            .await
            .expect("PostgreSQL starts");
    let url = postgres.url("gatehouse");
    let conn = AsyncPgConnection::establish(&url).await.unwrap();
    let (mut conn, _) = migrations::run_pending(conn).await.unwrap();

    let started = Instant::now();
    conn.batch_execute(&format!(
        "INSERT INTO \"user\" (id, name, email) SELECT 'u' || n, 'Artist ' || n, 'artist' || n || '@example.com'
           FROM generate_series(0, {artists}) AS n;
         INSERT INTO artwork_jobs (id, job_id, user_id, original_url, status, created_at, updated_at)
         SELECT 'j' || n, 'job-' || n,
                CASE WHEN n < {prolific} THEN 'u0' ELSE 'u' || (1 + n % {artists}) END,
                'https://cdn.example/' || n || '.png',
                (ARRAY['queued', 'processing', 'done', 'failed'])[1 + n % 4],
                now() - n * interval '1 second', now()
           FROM generate_series(0, {} - 1) AS n;
         ANALYZE;",
        total
    ))
    .await
    .unwrap();
    println!(
        "seeded {total} jobs in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let services = Services {
        pool: pool::build(&url, &PoolSettings::default()),
        passwords: Passwords::new(1),
        mailer: Mailer::Log,
        limits: Arc::new(Limits::default()),
        settings: Arc::new(AuthSettings {
            public_url: url::Url::parse("http://bench.invalid").unwrap(),
            session_ttl: chrono::Duration::days(30),
        }),
        access: Arc::new(AccessRules::default()),
    };
    let mut conn = services.pool.get().await.unwrap();
    let big = users::find(&mut conn, "u0").await.unwrap().unwrap();
    let typical = users::find(&mut conn, "u4242").await.unwrap().unwrap();
    drop(conn);
    let mut deep = list_mine(&services, &big, "", "")
        .await
        .unwrap()
        .next
        .unwrap();
    for _ in 0..100 {
        deep = list_mine(&services, &big, "", &deep)
            .await
            .unwrap()
            .next
            .unwrap();
    }
    let cases = [
        ("typical artist, first page", &typical, "", String::new()),
        ("prolific, first page", &big, "", String::new()),
        ("prolific, status done", &big, "done", String::new()),
        ("prolific, page 102", &big, "", deep),
    ];
    println!(
        "{:<28} {:>9} {:>9} {:>9}",
        "list (24 jobs)", "p50 ms", "p99 ms", "max ms"
    );
    for (name, user, status, after) in cases {
        let mut times = Vec::with_capacity(ROUNDS);
        for _ in 0..ROUNDS {
            let t = Instant::now();
            let page = list_mine(&services, user, status, &after).await.unwrap();
            times.push(t.elapsed());
            assert!(!page.rows.is_empty(), "{name} found nothing");
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "{:<28} {:>9.2} {:>9.2} {:>9.2}",
            name,
            ms(times[ROUNDS / 2]),
            ms(times[ROUNDS * 99 / 100]),
            ms(times[ROUNDS - 1])
        );
    }
    drop(services);
    postgres.stop();
}
