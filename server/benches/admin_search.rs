//! How fast the admin dashboard answers with 1,000,000 users: the first page, the waiting
//! queue, a prefix search, a tier filter and a page deep in the list, each through the same
//! service function the dashboard calls. Prints p50 and p99 per query.
//!
//! `cargo bench -p gatehouse --bench admin_search` (USERS=… to change the count). It runs a
//! throwaway PostgreSQL of its own, talks to it over a unix socket, and removes it after.

mod common;

use std::time::Instant;

use diesel_async::SimpleAsyncConnection;
use gatehouse_app::services::admin::list_users;
use gatehouse_app::views::{Tier, UserFilter};

#[tokio::main]
async fn main() {
    let users: u64 = std::env::var("USERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let (postgres, mut conn, services) = common::database().await;
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

    let mut deep = String::new();
    for _ in 0..201 {
        deep = list_users(&services, "", UserFilter::All, None, false, &deep)
            .await
            .unwrap()
            .next
            .unwrap();
    }
    let cases: [(&str, &str, UserFilter, Option<Tier>, &str); 5] = [
        ("first page, everyone", "", UserFilter::All, None, ""),
        ("waiting queue", "", UserFilter::Waiting, None, ""),
        ("search 'user12345'", "user12345", UserFilter::All, None, ""),
        ("tier member", "", UserFilter::All, Some(Tier::Member), ""),
        ("page 202 (keyset)", "", UserFilter::All, None, &deep),
    ];
    common::header("query (50 rows + count)");
    for (name, q, filter, tier, after) in cases {
        common::measure(name, || async {
            let page = list_users(&services, q, filter, tier, false, after)
                .await
                .unwrap();
            assert!(!page.rows.is_empty(), "{name} found nobody");
        })
        .await;
    }
    drop(services);
    postgres.stop();
}
