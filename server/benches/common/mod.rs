//! What both benchmarks share: a throwaway PostgreSQL with the schema, the services, and the
//! figures printed the same way.

use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel_async::{AsyncConnection, AsyncPgConnection};
use gatehouse::local_postgres::{Durability, Installation, LocalPostgres};
use gatehouse_app::db::{migrations, pool, PoolSettings};
use gatehouse_app::services::access::AccessRules;
use gatehouse_app::services::mail::Mailer;
use gatehouse_app::services::passwords::Passwords;
use gatehouse_app::services::providers::Providers;
use gatehouse_app::services::rate_limit::Limits;
use gatehouse_app::services::{AuthSettings, Services};

/// Calls per figure; override with ROUNDS=….
pub fn rounds() -> usize {
    std::env::var("ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(300)
}

/// A migrated, empty database on a PostgreSQL that goes away when dropped.
pub async fn database() -> (LocalPostgres, AsyncPgConnection, Services) {
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
    let (conn, _) = migrations::run_pending(conn).await.unwrap();
    let services = Services {
        pool: pool::build(&url, &PoolSettings::default()),
        passwords: Passwords::new(1),
        mailer: Mailer::new(None, "").expect("no SMTP needs no address"),
        background: Default::default(),
        limits: Arc::new(Limits::default()),
        settings: Arc::new(AuthSettings {
            public_url: url::Url::parse("http://bench.invalid").unwrap(),
            session_ttl: chrono::Duration::days(30),
            session_max_age: chrono::Duration::days(30),
            admin_session_max_age: chrono::Duration::hours(12),
            trusted_proxy_hops: 0,
            artwork_url_allow_hosts: Vec::new(),
        }),
        access: Arc::new(AccessRules::default()),
        providers: Arc::new(Providers::default()),
        cipher: gatehouse::secrets::TokenKeys::generate().cipher(),
    };
    (postgres, conn, services)
}

pub fn header(what: &str) {
    println!("{what:<30} {:>9} {:>9} {:>9}", "p50 ms", "p99 ms", "max ms");
}

/// Runs `call` ROUNDS times and prints p50, p99 and max.
pub async fn measure<F, Fut>(name: &str, mut call: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let rounds = rounds();
    let mut times: Vec<Duration> = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let started = Instant::now();
        call().await;
        times.push(started.elapsed());
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{name:<30} {:>9.2} {:>9.2} {:>9.2}",
        ms(times[rounds / 2]),
        ms(times[rounds * 99 / 100]),
        ms(times[rounds - 1])
    );
}
