//! One throwaway PostgreSQL cluster per test run (a temporary folder, a unix socket), started
//! by the first test that needs it. A template database is migrated once; each test clones it
//! (or gets an empty one), so tests run in parallel without seeing each other's rows. The
//! cluster and its folder go away when the test process ends, however it ends.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use gatehouse::local_postgres::{Durability, Installation, LocalPostgres};
use gatehouse_app::db::{migrations, pool, DbPool, PoolSettings};

const TEMPLATE: &str = "gatehouse_template";

struct Cluster {
    postgres: LocalPostgres,
    next_database: AtomicUsize,
}

static CLUSTER: OnceLock<Cluster> = OnceLock::new();
/// CREATE DATABASE … TEMPLATE wants the template to itself; one clone at a time.
static CLONING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn cluster() -> &'static Cluster {
    CLUSTER.get_or_init(|| {
        // Tests run on runtimes of their own; the cluster starts on one of its own too.
        std::thread::spawn(|| {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("a tokio runtime");
            runtime.block_on(async {
                let installation = Installation::find().expect("PostgreSQL is installed");
                let root = tempfile::Builder::new()
                    .prefix("gatehouse-test-pg-")
                    .tempdir()
                    .expect("a temporary folder")
                    // The watchdog deletes it when the run ends.
                    .keep();
                let postgres = LocalPostgres::start(&installation, &root, Durability::Throwaway)
                    .await
                    .expect("the test PostgreSQL starts");
                postgres
                    .create_database(TEMPLATE)
                    .await
                    .expect("the template database");
                let conn = AsyncPgConnection::establish(&postgres.url(TEMPLATE))
                    .await
                    .expect("a connection to the template");
                migrations::run_pending(conn)
                    .await
                    .expect("migrations run on the template");
                Cluster {
                    postgres,
                    next_database: AtomicUsize::new(0),
                }
            })
        })
        .join()
        .expect("starting the test cluster")
    })
}

/// A database of one test's own.
pub struct TestDb {
    pub url: String,
    pub pool: DbPool,
}

impl TestDb {
    /// A fresh database with every migration applied.
    pub async fn migrated() -> Self {
        Self::create(Some(TEMPLATE)).await
    }

    /// A fresh database with nothing in it, not even migrations.
    pub async fn empty() -> Self {
        Self::create(None).await
    }

    async fn create(template: Option<&str>) -> Self {
        let cluster = cluster();
        let n = cluster.next_database.fetch_add(1, Ordering::SeqCst);
        let name = format!("test_{}_{n}", std::process::id());
        let mut admin = AsyncPgConnection::establish(&cluster.postgres.url("postgres"))
            .await
            .expect("an admin connection");
        let sql = match template {
            Some(template) => format!("CREATE DATABASE {name} TEMPLATE {template}"),
            None => format!("CREATE DATABASE {name}"),
        };
        {
            let _one_at_a_time = CLONING.lock().await;
            admin.batch_execute(&sql).await.expect("CREATE DATABASE");
        }
        let url = cluster.postgres.url(&name);
        let pool = pool::build(
            &url,
            &PoolSettings {
                min: 0,
                max: 4,
                ..PoolSettings::default()
            },
        );
        Self { url, pool }
    }

    /// A fresh database with nothing in it but these SQL fixtures (another product's tables),
    /// and a connection to it.
    pub async fn loaded(fixtures: &[&str]) -> (Self, AsyncPgConnection) {
        let db = Self::empty().await;
        let mut conn = db.connect().await;
        for fixture in fixtures {
            conn.batch_execute(fixture)
                .await
                .expect("the fixture loads");
        }
        (db, conn)
    }

    /// A connection of its own (not from the pool).
    pub async fn connect(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(&self.url)
            .await
            .expect("a connection to the test database")
    }

    /// A connection from the pool.
    pub async fn conn(&self) -> gatehouse_app::db::DbConn {
        self.pool.get().await.expect("a pooled connection")
    }
}
