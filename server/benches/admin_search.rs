//! How fast the admin dashboard answers with 1,000,000 users: the first page, the waiting
//! queue, a prefix search, a tier filter and a page deep in the list, each through the same
//! service function the dashboard calls. Prints p50 and p99 per query.
//!
//! `cargo bench -p gatehouse --bench admin_search` (USERS=… to change the count). It runs a
//! throwaway PostgreSQL of its own, talks to it over a unix socket, and removes it after.

use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use gatehouse::local_postgres::{Durability, Installation, LocalPostgres};
use gatehouse_app::db::{migrations, pool, PoolSettings};
use gatehouse_app::services::access::AccessRules;
use gatehouse_app::services::admin::list_users;
use gatehouse_app::services::mail::Mailer;
use gatehouse_app::services::passwords::Passwords;
use gatehouse_app::services::rate_limit::Limits;
use gatehouse_app::services::{AuthSettings, Services};

const ROUNDS: usize = 300;

#[tokio::main]
async fn main() {
    let users: u64 = std::env::var("USERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
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
        "INSERT INTO \"user\" (id, name, email, \"emailVerified\", \"createdAt\", \"updatedAt\", role, tier, \"isWhitelisted\", banned)
         SELECT 'u' || n, 'User ' || n, 'user' || n || '@example.com', true,
                now() - n * interval '1 second', now(), 'user',
                (ARRAY['anonymous', 'free', 'member'])[1 + n % 3], n % 4 <> 0, n % 97 = 0
         FROM generate_series(1, {users}) AS n;
         ANALYZE \"user\";"
    ))
    .await
    .unwrap();
    println!(
        "seeded {users} users in {:.1} s",
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
    let deep = list_users(&services, "", "", "", false, "").await.unwrap();
    let mut cursor = deep.next.unwrap();
    for _ in 0..200 {
        cursor = list_users(&services, "", "", "", false, &cursor)
            .await
            .unwrap()
            .next
            .unwrap();
    }
    let cases: [(&str, &str, &str, &str, &str); 5] = [
        ("first page, everyone", "", "", "", ""),
        ("waiting queue", "", "waiting", "", ""),
        ("search 'user12345'", "user12345", "", "", ""),
        ("tier member", "", "", "member", ""),
        ("page 202 (keyset)", "", "", "", &cursor),
    ];
    println!(
        "{:<24} {:>9} {:>9} {:>9}",
        "query (50 rows + count)", "p50 ms", "p99 ms", "max ms"
    );
    for (name, q, filter, tier, after) in cases {
        let mut times = Vec::with_capacity(ROUNDS);
        for _ in 0..ROUNDS {
            let t = Instant::now();
            let page = list_users(&services, q, filter, tier, false, after)
                .await
                .unwrap();
            times.push(t.elapsed());
            assert!(!page.rows.is_empty(), "{name} found nobody");
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "{:<24} {:>9.2} {:>9.2} {:>9.2}",
            name,
            ms(times[ROUNDS / 2]),
            ms(times[ROUNDS * 99 / 100]),
            ms(times[ROUNDS - 1])
        );
    }
    drop(services);
    postgres.stop();
}
