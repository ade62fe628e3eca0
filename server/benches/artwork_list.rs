//! How fast an artist's list of artworks answers with 10,000,000 jobs in the table: 100,000
//! artists with 99 jobs each, and one prolific artist with 100,000. Prints p50 and p99 of the
//! service call behind /artworks (24 jobs a page) for the first page, a status filter and a
//! page deep in the list.
//!
//! `cargo bench -p gatehouse --bench artwork_list` (JOBS=… to change the count).

mod common;

use std::time::Instant;

use diesel_async::SimpleAsyncConnection;
use gatehouse_app::services::jobs::list_mine;
use gatehouse_app::views::JobStatus;

#[tokio::main]
async fn main() {
    let total: u64 = std::env::var("JOBS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000_000);
    let prolific = 100_000.min(total / 10);
    let artists = 100_000u64;
    let (postgres, mut conn, services) = common::database().await;
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
           FROM generate_series(0, {total} - 1) AS n;
         ANALYZE;"
    ))
    .await
    .unwrap();
    println!(
        "seeded {total} jobs in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let big = common::signed_in(&services, "u0").await;
    let typical = common::signed_in(&services, "u4242").await;
    let mut deep = String::new();
    for _ in 0..101 {
        deep = list_mine(&services, &big, None, &deep)
            .await
            .unwrap()
            .next
            .unwrap();
    }
    let cases = [
        ("typical artist, first page", &typical, None, ""),
        ("prolific, first page", &big, None, ""),
        ("prolific, status done", &big, Some(JobStatus::Done), ""),
        ("prolific, page 102", &big, None, deep.as_str()),
    ];
    common::header("list (24 jobs)");
    for (name, user, status, after) in cases {
        common::measure(name, || async {
            let page = list_mine(&services, user, status, after).await.unwrap();
            assert!(!page.rows.is_empty(), "{name} found nothing");
        })
        .await;
    }
    drop(services);
    postgres.stop();
}
