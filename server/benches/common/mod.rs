//! What both benchmarks share: a throwaway PostgreSQL with the schema, the services, and the
//! figures printed the same way.

use std::time::{Duration, Instant};

use diesel_async::{AsyncConnection, AsyncPgConnection};
use gatehouse::local_postgres::{Durability, Installation, LocalPostgres};
use gatehouse_app::db::{migrations, pool, PoolSettings};
use gatehouse_app::services::mail::Mailer;
use gatehouse_app::services::sessions::{self, SignedIn};
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
    let services = Services::new(
        pool::build(&url, &PoolSettings::default()),
        AuthSettings::new(url::Url::parse("http://bench.invalid").unwrap()),
        Mailer::new(None, "").expect("no SMTP needs no address"),
        gatehouse::secrets::TokenKeys::generate().cipher(),
    );
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

/// `user_id` signed in, as a server function sees them.
#[allow(dead_code)] // not every bench signs anyone in
pub async fn signed_in(services: &Services, user_id: &str) -> SignedIn {
    let mut conn = services.pool.get().await.unwrap();
    let user = gatehouse_app::db::users::find(&mut conn, user_id)
        .await
        .unwrap()
        .unwrap();
    let origin = gatehouse_app::services::audit::Origin::default();
    let (token, _) = sessions::start(services, &mut conn, &user, &["pwd"], &origin)
        .await
        .unwrap();
    sessions::authenticate(services, &token)
        .await
        .unwrap()
        .unwrap()
}
