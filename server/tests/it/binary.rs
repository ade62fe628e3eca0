//! The `gatehouse` binary as a person runs it: serve, Ctrl-C, serve again; `migrate`;
//! `db check`; and clear errors for bad configuration.

use std::io::Read;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::local_postgres::passable_tempdir;
use crate::support::mail::MailSink;
use crate::support::TestDb;

/// The binary with a clean environment: no DATABASE_URL or other setting from outside, and
/// a working folder with no .env.
fn gatehouse(cwd: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gatehouse"));
    command.current_dir(cwd).env_clear();
    for keep in ["PATH", "HOME", "LANG"] {
        if let Some(value) = std::env::var_os(keep) {
            command.env(keep, value);
        }
    }
    command.env("RUST_LOG", "info").env("NO_COLOR", "1");
    command
}

/// A free port for the binary to listen on a few seconds later. It is picked below Linux's
/// ephemeral range (32768 and up), which the kernel hands to every `bind(…:0)` and outgoing
/// connection in the meantime, so none of those can take it first; and never twice in this
/// run, so two tests cannot both pick it.
fn free_port() -> u16 {
    use rand::Rng;
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap();
    loop {
        let port = rand::rng().random_range(20_000..32_000);
        if !given.contains(&port) && TcpListener::bind(("127.0.0.1", port)).is_ok() {
            given.push(port);
            return port;
        }
    }
}

fn run(command: &mut Command) -> Output {
    command
        .stdin(Stdio::null())
        .output()
        .expect("gatehouse runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A served Gatehouse, and how to reach it.
struct Served {
    child: Child,
    base: String,
}

impl Served {
    fn start(cwd: &Path, port: u16) -> Self {
        Self::start_with(cwd, port, &[])
    }

    /// Served with these settings besides.
    fn start_with(cwd: &Path, port: u16, settings: &[(&str, &str)]) -> Self {
        let child = gatehouse(cwd)
            .env("BIND", format!("127.0.0.1:{port}"))
            .envs(settings.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut served = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        served.wait_until_ready();
        served
    }

    fn get(&self, path: &str) -> Option<(u16, String)> {
        http_get(&format!("{}{path}", self.base))
    }

    fn wait_until_ready(&mut self) {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(90) {
            if let Some((200, _)) = self.get("/readyz") {
                return;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut stderr = String::new();
                self.child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut stderr)
                    .unwrap();
                panic!("gatehouse exited ({status}) before it was ready:\n{stderr}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("gatehouse was not ready within 90 s");
    }

    /// Ctrl-C, and the exit status and output once it has stopped.
    fn interrupt(self) -> (std::process::ExitStatus, String, String) {
        self.stop_with(Signal::SIGINT)
    }

    /// `signal`, and the exit status and output once it has stopped.
    fn stop_with(mut self, signal: Signal) -> (std::process::ExitStatus, String, String) {
        kill(Pid::from_raw(self.child.id() as i32), signal).unwrap();
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "no stop 30 s after Ctrl-C"
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        let mut stdout = String::new();
        let mut stderr = String::new();
        self.child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut stdout)
            .unwrap();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        (status, stdout, stderr)
    }
}

impl Served {
    /// Killed at once, as a crash would end it.
    fn crash(mut self) {
        kill(Pid::from_raw(self.child.id() as i32), Signal::SIGKILL).unwrap();
        self.child.wait().unwrap();
    }
}

/// Ada signs up at the served binary, as a browser posts the form.
async fn sign_up_ada(served: &Served) {
    let signed_up = reqwest::Client::new()
        .post(format!("{}/api/sign-up", served.base))
        .header("origin", &served.base)
        .form(&[
            ("name", "Ada"),
            ("email", "ada@example.com"),
            ("password", "correct horse battery staple"),
        ])
        .send()
        .await
        .unwrap();
    assert!(signed_up.status().is_success(), "{}", signed_up.status());
}

/// A plain HTTP/1.1 GET, enough for a smoke test: (status, body).
fn http_get(url: &str) -> Option<(u16, String)> {
    use std::io::Write;
    let rest = url.strip_prefix("http://")?;
    let (host, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}")))?;
    let mut stream = std::net::TcpStream::connect(host).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split(' ').nth(1)?.parse().ok()?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())?;
    Some((status, body))
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_stop_and_serve_again_keeps_the_data() {
    let dir = passable_tempdir();
    let port = free_port();

    let served = Served::start(dir.path(), port);
    let (status, home) = served.get("/").unwrap();
    assert_eq!(status, 200);
    assert!(home.contains("Welcome to Gatehouse"));
    let secrets = std::fs::read_to_string(dir.path().join("data/secrets.env")).unwrap();
    assert!(secrets.contains("SECRET_KEY="));

    // Something a user would leave behind, written to the private database.
    let url = gatehouse::local_postgres::socket_url(&dir.path().join("data/run"), "gatehouse");
    let mut conn = AsyncPgConnection::establish(&url).await.unwrap();
    conn.batch_execute(
        "INSERT INTO \"user\" (id, name, email) VALUES ('kept', 'Kept', 'kept@example.com')",
    )
    .await
    .unwrap();
    drop(conn);

    let (status, stdout, stderr) = served.interrupt();
    assert!(status.success(), "{status}\n{stderr}");
    assert!(
        stdout.contains(&format!("open http://127.0.0.1:{port}/")),
        "{stdout}"
    );
    assert!(stderr.contains("stopped"), "{stderr}");
    assert!(
        stderr.contains("no SMTP_URL: mail"),
        "start-up says where mail goes: {stderr}"
    );
    assert!(
        !dir.path().join("data/postgres/postmaster.pid").exists(),
        "PostgreSQL stopped with Gatehouse"
    );

    let served = Served::start(dir.path(), port);
    let mut conn = AsyncPgConnection::establish(&url).await.unwrap();
    conn.batch_execute("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM \"user\" WHERE id = 'kept') THEN RAISE EXCEPTION 'lost'; END IF; END $$")
        .await
        .expect("the row survived the restart");
    drop(conn);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("data/secrets.env")).unwrap(),
        secrets,
        "generated keys are made once"
    );
    let (status, _, stderr) = served.interrupt();
    assert!(status.success(), "{stderr}");
}

/// Root's ordinary first run on a fresh server: a clone in root's home folder (mode 0700),
/// which the `postgres` user PostgreSQL runs as cannot enter; then an explicit DATA_DIR inside
/// such a folder. Both serve, keep their data, and stop PostgreSQL on Ctrl-C and on a crash.
#[tokio::test(flavor = "multi_thread")]
async fn serves_from_a_folder_only_its_owner_can_enter() {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!(
            "not running as root: PostgreSQL runs as this user, who can enter the folder; \
             checking that it serves from a 0700 folder and with a DATA_DIR in one"
        );
    }
    // A home folder only its owner can enter, as root's is.
    let home = tempfile::tempdir().unwrap();
    std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o700)).unwrap();

    let clone = home.path().join("gatehouse");
    std::fs::create_dir(&clone).unwrap();
    serves_keeps_and_stops(&clone, &[], &clone.join("data")).await;

    let elsewhere = passable_tempdir();
    let data = home.path().join("private").join("gatehouse-data");
    let data_dir = data.to_str().unwrap();
    serves_keeps_and_stops(elsewhere.path(), &[("DATA_DIR", data_dir)], &data).await;
}

async fn serves_keeps_and_stops(cwd: &Path, settings: &[(&str, &str)], data: &Path) {
    use gatehouse::local_postgres::{home_elsewhere, socket_url};
    let as_root = nix::unistd::Uid::effective().is_root();
    let port = free_port();
    let served = Served::start_with(cwd, port, settings);
    let cluster = if as_root {
        home_elsewhere(&data.canonicalize().unwrap())
    } else {
        data.to_path_buf()
    };
    let pid_file = cluster.join("postgres/postmaster.pid");
    assert!(pid_file.exists(), "the cluster is in {}", cluster.display());
    assert_eq!(served.get("/login").unwrap().0, 200);

    let url = socket_url(&cluster.join("run"), "gatehouse");
    let mut conn = AsyncPgConnection::establish(&url).await.unwrap();
    conn.batch_execute("CREATE TABLE kept (note text); INSERT INTO kept VALUES ('here')")
        .await
        .unwrap();
    drop(conn);
    let (status, _, stderr) = served.interrupt();
    assert!(status.success(), "{status}\n{stderr}");
    if as_root {
        assert!(
            stderr.contains(&cluster.display().to_string()),
            "the log says where the cluster is: {stderr}"
        );
    }
    assert!(!pid_file.exists(), "Ctrl-C stopped PostgreSQL");

    // Served again, the data is there; then Gatehouse crashes and PostgreSQL stops anyway.
    let served = Served::start_with(cwd, port, settings);
    let mut conn = AsyncPgConnection::establish(&url).await.unwrap();
    conn.batch_execute("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM kept) THEN RAISE EXCEPTION 'lost'; END IF; END $$")
        .await
        .expect("the row survived the restart");
    drop(conn);
    served.crash();
    let crashed = Instant::now();
    while pid_file.exists() {
        assert!(
            crashed.elapsed() < Duration::from_secs(30),
            "PostgreSQL outlived a crashed Gatehouse"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    if as_root {
        std::fs::remove_dir_all(&cluster).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn mail_on_its_way_at_ctrl_c_is_still_delivered() {
    // A relay slow to answer: the confirmation mail is still on its way when Ctrl-C comes.
    let sink = MailSink::greeting_after(Duration::from_secs(3)).await;
    let dir = passable_tempdir();
    let port = free_port();
    let cwd = dir.path().to_path_buf();
    let smtp_url = sink.url.clone();
    let served = tokio::task::spawn_blocking(move || {
        Served::start_with(&cwd, port, &[("SMTP_URL", smtp_url.as_str())])
    })
    .await
    .unwrap();

    sign_up_ada(&served).await;
    assert!(sink.to("ada@example.com").is_empty(), "not delivered yet");

    let (status, _, stderr) = tokio::task::spawn_blocking(move || served.interrupt())
        .await
        .unwrap();
    assert!(status.success(), "{status}\n{stderr}");
    let delivered = sink.to("ada@example.com");
    assert_eq!(
        delivered.len(),
        1,
        "delivered before Gatehouse exited:\n{stderr}"
    );
    assert!(
        delivered[0].subject.contains("Confirm"),
        "{}",
        delivered[0].subject
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn migrate_then_db_check_passes() {
    let db = TestDb::empty().await;
    let dir = passable_tempdir();

    let check = run(gatehouse(dir.path())
        .env("DATABASE_URL", &db.url)
        .args(["db", "check"]));
    assert_eq!(
        check.status.code(),
        Some(1),
        "an unmigrated database fails the check"
    );
    assert!(text(&check.stdout).contains("FAIL  migrations are current"));

    let migrate = run(gatehouse(dir.path())
        .env("DATABASE_URL", &db.url)
        .arg("migrate"));
    assert!(migrate.status.success(), "{}", text(&migrate.stderr));
    let applied = format!(
        "{} migration(s) applied",
        gatehouse_app::db::migrations::known_versions().len()
    );
    assert!(
        text(&migrate.stdout).contains(&applied),
        "{}",
        text(&migrate.stdout)
    );

    let check = run(gatehouse(dir.path())
        .env("DATABASE_URL", &db.url)
        .args(["db", "check"]));
    let report = text(&check.stdout);
    assert!(check.status.success(), "{report}");
    assert!(!report.contains("FAIL"), "{report}");
    assert!(report.contains("ok    a test user can be inserted and a test artwork linked to them"));
    let last = report.lines().last().unwrap();
    let (passed, total) = last.split_once(" of ").unwrap();
    assert_eq!(passed, total.split(' ').next().unwrap(), "{last}");
}

/// `gatehouse db plan` on a Better Auth database: what start-up would change, nothing
/// changed; then on one it cannot adopt, the refusal that start-up also gives, exit code 1.
#[tokio::test(flavor = "multi_thread")]
async fn db_plan_says_what_start_up_would_change_and_changes_nothing() {
    let dir = passable_tempdir();
    let db = TestDb::empty().await;
    let mut conn = db.connect().await;
    conn.batch_execute(include_str!("fixtures/better_auth_drizzle_plural.sql"))
        .await
        .unwrap();
    conn.batch_execute(include_str!("fixtures/artorizer_own_shape.sql"))
        .await
        .unwrap();

    let plan = run(gatehouse(dir.path())
        .env("DATABASE_URL", &db.url)
        .args(["db", "plan"]));
    let printed = text(&plan.stdout);
    assert!(plan.status.success(), "{printed}{}", text(&plan.stderr));
    for line in [
        "  rename table users to user",
        "  convert column artwork_jobs.id from integer to text",
        "  session: 1 Better Auth sessions deleted",
        "Nothing has been changed: this was a plan.",
    ] {
        assert!(printed.contains(line), "`{line}` missing:\n{printed}");
    }
    let check = run(gatehouse(dir.path())
        .env("DATABASE_URL", &db.url)
        .args(["db", "check"]));
    assert_eq!(
        check.status.code(),
        Some(1),
        "still unmigrated after the plan"
    );

    // Start-up adopts it and logs the same changes.
    let migrate = run(gatehouse(dir.path())
        .env("DATABASE_URL", &db.url)
        .arg("migrate"));
    let log = text(&migrate.stderr);
    assert!(migrate.status.success(), "{log}");
    assert!(
        log.contains("database changed: rename table users to user"),
        "{log}"
    );
    let plan = run(gatehouse(dir.path())
        .env("DATABASE_URL", &db.url)
        .args(["db", "plan"]));
    assert!(plan.status.success());
    assert!(text(&plan.stdout).contains("The database is current: start-up changes nothing."));

    // A database it cannot adopt: the plan and start-up give one and the same reason.
    let db = TestDb::empty().await;
    let mut conn = db.connect().await;
    conn.batch_execute(
        &include_str!("fixtures/artorizer_artwork_jobs.sql").replace("original_url", "image_url"),
    )
    .await
    .unwrap();
    let fix = "ALTER TABLE artwork_jobs RENAME COLUMN image_url TO original_url;";
    let plan = run(gatehouse(dir.path())
        .env("DATABASE_URL", &db.url)
        .args(["db", "plan"]));
    assert_eq!(plan.status.code(), Some(1));
    assert!(text(&plan.stderr).contains(fix), "{}", text(&plan.stderr));
    let serve = run(gatehouse(dir.path())
        .env("DATABASE_URL", &db.url)
        .env("BIND", format!("127.0.0.1:{}", free_port())));
    assert_eq!(serve.status.code(), Some(1));
    let said = text(&serve.stderr);
    assert!(
        said.contains("gatehouse: cannot adopt table artwork_jobs: it has no column original_url"),
        "{said}"
    );
    assert!(said.contains(fix), "{said}");
}

#[test]
fn a_bad_setting_is_named_with_what_it_expects() {
    let dir = passable_tempdir();
    let cases: [(&[(&str, &str)], &str); 9] = [
        (&[("DB_POOL_MAX", "lots")], "DB_POOL_MAX"),
        (
            &[("DB_POOL_MIN", "5"), ("DB_POOL_MAX", "2")],
            "DB_POOL_MIN: expected at most DB_POOL_MAX (2), got 5",
        ),
        (
            &[("PUBLIC_URL", "gatehouse.example")],
            "expected an http:// or https:// address",
        ),
        (&[("BIND", "localhost")], "BIND"),
        (
            &[("PUBLIC_URL", "https://gatehouse.example")],
            "SMTP_URL: required when PUBLIC_URL is https",
        ),
        (
            &[
                ("PUBLIC_URL", "https://gatehouse.example"),
                ("SMTP_URL", "smtp://mail.example:25"),
            ],
            "SECRET_KEY: required when PUBLIC_URL is https",
        ),
        (
            &[("WEBHOOK_URLS", "ftp://backend.example/hooks")],
            "WEBHOOK_URLS: `ftp://backend.example/hooks` is not an http:// or https:// address",
        ),
        (
            &[
                ("WEBHOOK_URLS", "https://backend.example/hooks"),
                ("WEBHOOK_SECRET", "not-a-secret"),
            ],
            "WEBHOOK_SECRET: expected `whsec_`",
        ),
        (
            &[("WEBHOOK_URLS", "https://backend.example/hooks")],
            "WEBHOOK_SECRET: required with WEBHOOK_URLS",
        ),
    ];
    for (env, expected) in cases {
        let mut command = gatehouse(dir.path());
        command.env("DATABASE_URL", "postgresql://nobody@%2Fnowhere/none");
        for (name, value) in env {
            command.env(name, value);
        }
        let output = run(&mut command);
        assert!(!output.status.success(), "{env:?} was accepted");
        let stderr = text(&output.stderr);
        assert!(
            stderr.contains(expected),
            "{env:?}: expected {expected:?} in:\n{stderr}"
        );
    }
}

#[test]
fn an_unreachable_database_is_retried_with_backoff_then_reported() {
    let dir = passable_tempdir();
    let nowhere = gatehouse::local_postgres::socket_url(&dir.path().join("nowhere"), "gatehouse");
    let started = Instant::now();
    let output = run(gatehouse(dir.path())
        .env("DATABASE_URL", nowhere)
        .env("DB_MAX_RETRIES", "2")
        .env("DB_RETRY_DELAY_MS", "100")
        .arg("migrate"));
    let elapsed = started.elapsed();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot reach the database after 3 attempts"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("retrying").count(), 2, "{stderr}");
    assert!(
        stderr.contains("retry_in_ms=100") && stderr.contains("retry_in_ms=200"),
        "{stderr}"
    );
    // 100 ms then 200 ms of waiting, at least.
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_grant_and_revoke_from_the_command_line() {
    let db = TestDb::migrated().await;
    let dir = passable_tempdir();
    let mut conn = AsyncPgConnection::establish(&db.url).await.unwrap();
    conn.batch_execute(
        "INSERT INTO \"user\" (id, name, email, \"emailVerified\") VALUES ('u1', 'Ada', 'ada@example.com', true)",
    )
    .await
    .unwrap();
    let admin = |args: &[&str]| {
        run(gatehouse(dir.path())
            .env("DATABASE_URL", &db.url)
            .arg("admin")
            .args(args))
    };

    let granted = admin(&["grant", "Ada@Example.com"]);
    assert!(granted.status.success(), "{}", text(&granted.stderr));
    assert_eq!(
        text(&granted.stdout).trim(),
        "ada@example.com is now an admin"
    );

    let unknown = admin(&["grant", "nobody@example.com"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(text(&unknown.stderr).contains("no user has the email nobody@example.com"));

    let last = admin(&["revoke", "ada@example.com"]);
    assert_eq!(last.status.code(), Some(1));
    assert!(
        text(&last.stderr).contains("last admin"),
        "{}",
        text(&last.stderr)
    );

    let row = "SELECT 1 FROM \"user\" WHERE id = 'u1' AND role = 'admin' AND \"isWhitelisted\"";
    conn.batch_execute(&format!(
        "DO $$ BEGIN IF NOT EXISTS ({row}) THEN RAISE EXCEPTION 'not admin'; END IF; END $$"
    ))
    .await
    .expect("Ada is an admin and let in");
    let events =
        "SELECT 1 FROM audit_event WHERE actor_label = 'command line' AND action = 'role_changed'";
    conn.batch_execute(&format!(
        "DO $$ BEGIN IF NOT EXISTS ({events}) THEN RAISE EXCEPTION 'no audit'; END IF; END $$"
    ))
    .await
    .expect("the change is on record");
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_invite_from_the_command_line() {
    let db = TestDb::migrated().await;
    let dir = passable_tempdir();
    let mut conn = AsyncPgConnection::establish(&db.url).await.unwrap();
    conn.batch_execute(
        "INSERT INTO \"user\" (id, name, email, \"emailVerified\") VALUES ('u1', 'Ada', 'ada@example.com', true)",
    )
    .await
    .unwrap();
    let invite = |args: &[&str]| {
        run(gatehouse(dir.path())
            .env("DATABASE_URL", &db.url)
            .args(["admin", "invite"])
            .args(args))
    };

    let invited = invite(&["Bea@Example.com", "--role", "admin", "--tier", "member"]);
    assert!(invited.status.success(), "{}", text(&invited.stderr));
    assert_eq!(
        text(&invited.stdout).trim(),
        "invited bea@example.com as admin with the member tier; the link works for 7 days"
    );
    for (args, says) in [
        (vec!["ada@example.com"], "already has an account"),
        (vec!["bea@example.com"], "already invited"),
        (vec!["not-an-address"], "like name@example.com"),
        (
            vec!["cy@example.com", "--role", "owner"],
            "--role must be user or admin",
        ),
        (vec!["cy@example.com", "--tier", "gold"], "--tier must be"),
    ] {
        let refused = invite(&args);
        assert_eq!(refused.status.code(), Some(1), "{args:?}");
        assert!(
            text(&refused.stderr).contains(says),
            "{args:?}: {}",
            text(&refused.stderr)
        );
    }
    let row = "SELECT 1 FROM invitation WHERE email = 'bea@example.com' AND role = 'admin' \
               AND tier = 'member' AND invited_by_label = 'An administrator'";
    conn.batch_execute(&format!(
        "DO $$ BEGIN IF NOT EXISTS ({row}) THEN RAISE EXCEPTION 'no invitation'; END IF; END $$"
    ))
    .await
    .expect("one invitation, as asked");
    let events = "SELECT 1 FROM audit_event WHERE actor_label = 'command line' AND action = 'invitation_sent'";
    conn.batch_execute(&format!(
        "DO $$ BEGIN IF NOT EXISTS ({events}) THEN RAISE EXCEPTION 'no audit'; END IF; END $$"
    ))
    .await
    .expect("the invitation is on record");
}

#[tokio::test(flavor = "multi_thread")]
async fn jobs_are_linked_from_the_command_line_one_by_one_or_from_csv() {
    let db = TestDb::migrated().await;
    let dir = passable_tempdir();
    let mut conn = AsyncPgConnection::establish(&db.url).await.unwrap();
    conn.batch_execute(
        "INSERT INTO \"user\" (id, name, email) VALUES ('u1', 'Ada', 'ada@example.com'), ('u2', 'Bob', 'bob@example.com');
         INSERT INTO artwork_jobs (id, job_id, original_url) VALUES
           ('a', 'job-a', 'https://cdn.example/a.png'), ('b', 'job-b', 'https://cdn.example/b.png'),
           ('c', 'job-c', 'https://cdn.example/c.png');",
    )
    .await
    .unwrap();
    let jobs = |args: &[&str]| {
        run(gatehouse(dir.path())
            .env("DATABASE_URL", &db.url)
            .arg("jobs")
            .args(args))
    };

    let one = jobs(&["link", "job-a", "Ada@Example.com"]);
    assert!(one.status.success(), "{}", text(&one.stderr));
    assert!(text(&one.stdout).contains("job-a -> ada@example.com"));

    let csv = dir.path().join("jobs.csv");
    std::fs::write(&csv, "job_id,email\njob-b,bob@example.com\njob-c,nobody@example.com\nno-such-job,ada@example.com\n").unwrap();
    let bulk = jobs(&["link-csv", csv.to_str().unwrap()]);
    assert_eq!(
        bulk.status.code(),
        Some(1),
        "a failed line fails the command"
    );
    assert!(
        text(&bulk.stdout).contains("1 of 3 job(s) linked"),
        "{}",
        text(&bulk.stdout)
    );
    let errors = text(&bulk.stderr);
    assert!(
        errors.contains("job-c: No user has that email address."),
        "{errors}"
    );
    assert!(
        errors.contains("no-such-job: no job has that id"),
        "{errors}"
    );

    let owners = "SELECT 1 WHERE (SELECT user_id FROM artwork_jobs WHERE job_id = 'job-a') = 'u1'
                  AND (SELECT user_id FROM artwork_jobs WHERE job_id = 'job-b') = 'u2'
                  AND (SELECT user_id FROM artwork_jobs WHERE job_id = 'job-c') IS NULL";
    conn.batch_execute(&format!(
        "DO $$ BEGIN IF NOT EXISTS ({owners}) THEN RAISE EXCEPTION 'wrong owners'; END IF; END $$"
    ))
    .await
    .expect("each job went to its owner, and only those");
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_rotate_encrypts_clear_tokens_and_moves_old_ones_to_the_new_key() {
    use gatehouse::secrets::TokenKeys;
    use gatehouse_app::services::crypto::account_aad;

    let db = TestDb::migrated().await;
    let dir = passable_tempdir();
    let k1 = format!("k1:{}", "11".repeat(32));
    let k2 = format!("k2:{}", "22".repeat(32));
    let old: TokenKeys = k1.parse().unwrap();
    let under_k1 = old
        .cipher()
        .encrypt("gho_refresh", &account_aad("a2", "refreshToken"));
    let mut conn = AsyncPgConnection::establish(&db.url).await.unwrap();
    conn.batch_execute(&format!(
        "INSERT INTO \"user\" (id, name, email) VALUES ('u1', 'Ada', 'ada@example.com');
         INSERT INTO account (id, \"accountId\", \"providerId\", \"userId\", \"accessToken\", \"idToken\") VALUES
           ('a1', '583231', 'github', 'u1', 'gho_cleartext_from_better_auth', NULL);
         INSERT INTO account (id, \"accountId\", \"providerId\", \"userId\", \"refreshToken\") VALUES
           ('a2', 'sub-1', 'oidc', 'u1', '{under_k1}');
         INSERT INTO account (id, \"accountId\", \"providerId\", \"userId\", password) VALUES
           ('a3', 'u1', 'credential', 'u1', '$argon2id$v=19$m=19456,t=2,p=1$x$y');"
    ))
    .await
    .unwrap();
    let rotate = |keys: &str| {
        run(gatehouse(dir.path())
            .env("DATABASE_URL", &db.url)
            .env("SECRET_KEY", "33".repeat(32))
            .env("TOKEN_ENCRYPTION_KEYS", keys)
            .args(["keys", "rotate"]))
    };

    let first = rotate(&format!("{k2},{k1}"));
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert!(
        text(&first.stdout)
            .contains("2 token(s) re-encrypted under key `k2`, 0 already current, 0 failed"),
        "{}",
        text(&first.stdout)
    );

    assert_sealed(&mut conn, "a1", &k2, "gho_cleartext_from_better_auth").await;
    let a2 = read(&mut conn, "a2").await;
    let new: TokenKeys = k2.parse().unwrap();
    let refresh = a2.refresh.unwrap();
    assert_eq!(
        new.cipher()
            .decrypt(&refresh, &account_aad("a2", "refreshToken"))
            .unwrap(),
        "gho_refresh"
    );

    // Once rotated, the old key can go; running again changes nothing.
    let again = rotate(&k2);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(
        text(&again.stdout).contains("0 token(s) re-encrypted under key `k2`, 2 already current")
    );

    // A value under a key nobody configured is reported and left alone, not lost.
    conn.batch_execute(&format!(
        "UPDATE account SET \"refreshToken\" = '{under_k1}' WHERE id = 'a2'"
    ))
    .await
    .unwrap();
    let missing = rotate(&k2);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        text(&missing.stderr).contains("account a2 refreshToken: encrypted with key `k1`"),
        "{}",
        text(&missing.stderr)
    );
    assert_eq!(read(&mut conn, "a2").await.refresh.unwrap(), under_k1);
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_rotate_jwt_makes_a_new_signing_key_and_retires_the_old() {
    let db = TestDb::migrated().await;
    let dir = passable_tempdir();
    let rotate = || {
        run(gatehouse(dir.path())
            .env("DATABASE_URL", &db.url)
            .env("SECRET_KEY", "33".repeat(32))
            .env("TOKEN_ENCRYPTION_KEYS", format!("k1:{}", "11".repeat(32)))
            .args(["keys", "rotate-jwt"]))
    };
    let first = rotate();
    assert!(first.status.success(), "{}", text(&first.stderr));
    let second = rotate();
    assert!(second.status.success(), "{}", text(&second.stderr));
    assert!(
        text(&second.stdout).contains("the others stay published for 15 minutes"),
        "{}",
        text(&second.stdout)
    );
    let mut conn = AsyncPgConnection::establish(&db.url).await.unwrap();
    let in_use: Vec<Option<chrono::DateTime<chrono::Utc>>> = {
        use diesel::prelude::*;
        use diesel_async::RunQueryDsl;
        use gatehouse_app::db::schema::jwks;
        jwks::table
            .order(jwks::created_at)
            .select(jwks::expires_at)
            .load(&mut conn)
            .await
            .unwrap()
    };
    assert_eq!(in_use.len(), 2);
    assert!(in_use[0].is_some(), "the first key is retired");
    assert!(in_use[1].is_none(), "the new one signs");
}

#[derive(diesel::QueryableByName)]
struct Tokens {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    access: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    refresh: Option<String>,
}

/// The access and refresh token of one account row, as stored.
async fn read(conn: &mut AsyncPgConnection, id: &str) -> Tokens {
    use diesel_async::RunQueryDsl;
    diesel::sql_query(
        "SELECT \"accessToken\" AS access, \"refreshToken\" AS refresh FROM account WHERE id = $1",
    )
    .bind::<diesel::sql_types::Text, _>(id)
    .get_result(conn)
    .await
    .unwrap()
}

/// Better Auth keeps provider tokens in the clear: the start-up that adopts its database
/// encrypts them at once.
#[tokio::test(flavor = "multi_thread")]
async fn adopting_encrypts_the_tokens_better_auth_kept_in_the_clear() {
    let db = TestDb::empty().await;
    let dir = passable_tempdir();
    let mut conn = AsyncPgConnection::establish(&db.url).await.unwrap();
    conn.batch_execute(include_str!("fixtures/better_auth_current.sql"))
        .await
        .unwrap();
    let key = format!("k1:{}", "11".repeat(32));
    let migrate = run(gatehouse(dir.path())
        .env("DATABASE_URL", &db.url)
        .env("SECRET_KEY", "33".repeat(32))
        .env("TOKEN_ENCRYPTION_KEYS", &key)
        .arg("migrate"));
    let log = text(&migrate.stderr);
    assert!(migrate.status.success(), "{log}");
    assert!(log.contains("encrypted the provider tokens"), "{log}");
    assert_sealed(&mut conn, "a2", &key, "gho_cleartext").await;
}

/// Asserts account `id`'s access token is `clear`, encrypted under the first of `keys`.
async fn assert_sealed(conn: &mut AsyncPgConnection, id: &str, keys: &str, clear: &str) {
    use gatehouse::secrets::TokenKeys;
    use gatehouse_app::services::crypto::{account_aad, TokenCipher};
    let stored = read(conn, id).await.access.unwrap();
    assert!(!stored.contains(clear), "no token in the clear");
    let keys: TokenKeys = keys.parse().unwrap();
    assert_eq!(
        TokenCipher::key_of(&stored),
        Some(keys.current().id.as_str())
    );
    assert_eq!(
        keys.cipher()
            .decrypt(&stored, &account_aad(id, "accessToken"))
            .unwrap(),
        clear
    );
}

/// The value of the sample of `name` whose labels include all of `labels` (0 when none is).
fn sample(scraped: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    scraped
        .lines()
        .filter(|line| {
            line.starts_with(&format!("{name}{{")) || line.starts_with(&format!("{name} "))
        })
        .find(|line| {
            labels
                .iter()
                .all(|(label, value)| line.contains(&format!("{label}=\"{value}\"")))
        })
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_are_served_on_their_own_port_and_count_what_happened() {
    use gatehouse_app::telemetry::*;
    let db = TestDb::empty().await;
    let dir = passable_tempdir();
    let (port, metrics_port) = (free_port(), free_port());
    let (cwd, url) = (dir.path().to_path_buf(), db.url.clone());
    let metrics_bind = format!("127.0.0.1:{metrics_port}");
    let served = tokio::task::spawn_blocking(move || {
        Served::start_with(
            &cwd,
            port,
            &[
                ("DATABASE_URL", url.as_str()),
                ("METRICS_BIND", metrics_bind.as_str()),
            ],
        )
    })
    .await
    .unwrap();
    let scrape = move || {
        let (status, body) =
            http_get(&format!("http://127.0.0.1:{metrics_port}/metrics")).expect("scraped");
        assert_eq!(status, 200, "{body}");
        body
    };
    assert_eq!(
        served.get("/metrics").map(|(status, _)| status),
        Some(404),
        "never on the public port"
    );
    let before = tokio::task::spawn_blocking(scrape).await.unwrap();
    for name in [
        DB_POOL_SIZE,
        DB_POOL_IDLE,
        DB_POOL_IN_USE,
        DB_POOL_WAITING,
        DB_POOL_MAX,
    ] {
        assert!(
            before.contains(&format!("\n{name} ")) || before.starts_with(&format!("{name} ")),
            "{name}:\n{before}"
        );
    }
    assert_eq!(sample(&before, DB_POOL_MAX, &[]), 10.0);
    assert!(
        sample(&before, DB_CONNECTIONS_OPENED, &[]) >= 2.0,
        "the warm pool:\n{before}"
    );

    let login = [("method", "GET"), ("route", "/login"), ("status", "200")];
    let logins_before = sample(&before, HTTP_REQUESTS, &login);
    for _ in 0..3 {
        assert_eq!(served.get("/login").map(|(status, _)| status), Some(200));
    }
    let client = reqwest::Client::new();
    let wrong = client
        .post(format!("{}/api/sign-in", served.base))
        .header("origin", &served.base)
        .form(&[
            ("email", "nobody@example.com"),
            ("password", "not the password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    sign_up_ada(&served).await;

    // The confirmation mail leaves in the background: scrape until it is counted.
    let started = Instant::now();
    let after = loop {
        let after = tokio::task::spawn_blocking(scrape).await.unwrap();
        if sample(&after, MAIL, &[("outcome", "sent")]) >= 1.0
            || started.elapsed() > Duration::from_secs(10)
        {
            break after;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        sample(&after, HTTP_REQUESTS, &login) - logins_before,
        3.0,
        "{after}"
    );
    assert!(
        after.contains(&format!(
            "{HTTP_DURATION}_bucket{{method=\"GET\",route=\"/login\""
        )),
        "a latency histogram by route:\n{after}"
    );
    assert!(
        sample(
            &after,
            &format!("{DB_QUERY_DURATION}_count"),
            &[("outcome", "ok")]
        ) > 0.0
    );
    assert_eq!(
        sample(
            &after,
            SIGN_INS,
            &[("method", "password"), ("outcome", "wrong-password")]
        ),
        1.0,
        "{after}"
    );
    assert_eq!(sample(&after, MAIL, &[("outcome", "sent")]), 1.0, "{after}");
    assert!(after.contains(BACKGROUND_PENDING), "{after}");
    assert!(after.contains(LIVE_STREAMS), "{after}");
    let _ = served.interrupt();
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_under_load_finishes_what_started_refuses_the_new_then_stops_postgresql() {
    let dir = passable_tempdir();
    let port = free_port();
    let cwd = dir.path().to_path_buf();
    let served = tokio::task::spawn_blocking(move || {
        Served::start_with(&cwd, port, &[("PASSWORD_HASH_CONCURRENCY", "2")])
    })
    .await
    .unwrap();
    let pid_file = dir.path().join("data/postgres/postmaster.pid");
    assert!(
        pid_file.exists(),
        "the private PostgreSQL runs in the data folder"
    );

    // 32 sign-ins at once, each a password hash: they queue for the two hashing threads.
    let client = reqwest::Client::new();
    let base = served.base.clone();
    let in_flight: Vec<_> = (0..32)
        .map(|n| {
            let (client, base) = (client.clone(), base.clone());
            tokio::spawn(async move {
                client
                    .post(format!("{base}/api/sign-in"))
                    .header("origin", &base)
                    .form(&[
                        ("email", format!("p{n}@example.com")),
                        ("password", "not it".into()),
                    ])
                    .send()
                    .await
                    .map(|answer| (answer.status().as_u16(), Instant::now()))
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let signalled = Instant::now();
    let stopping = tokio::task::spawn_blocking(move || served.stop_with(Signal::SIGTERM));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let late = reqwest::Client::new()
        .get(format!("{base}/healthz"))
        .send()
        .await;
    assert!(
        late.is_err(),
        "a new connection after SIGTERM is refused: {late:?}"
    );

    let mut statuses = Vec::new();
    let mut after_the_signal = 0;
    for request in in_flight {
        let answered = request.await.unwrap();
        let (status, done) = answered.expect("every started request is answered");
        statuses.push(status);
        after_the_signal += usize::from(done > signalled);
    }
    assert!(
        statuses.iter().all(|s| [401, 429, 503].contains(s)),
        "each got a whole answer: {statuses:?}"
    );
    assert!(
        after_the_signal > 0 && statuses.contains(&401),
        "some were still being hashed when the signal came: {statuses:?}"
    );
    let (status, _, stderr) = stopping.await.unwrap();
    assert!(status.success(), "{status}\n{stderr}");
    assert!(!pid_file.exists(), "PostgreSQL stopped after Gatehouse");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backup_restores_an_account_and_its_artwork_jobs_into_an_empty_database() {
    use crate::accounts::{person, sign_in, user_id, PASSWORD};
    use crate::support::TestApp;
    use gatehouse_app::db::jobs;

    let app = TestApp::new().await;
    drop(person(&app, "Ada", "ada@example.com", "203.0.113.7").await);
    let ada = user_id(&app, "ada@example.com").await;
    let mut conn = app.db.conn().await;
    for n in 0..2 {
        let url = format!("https://cdn.example/{n}.png");
        jobs::insert(&mut conn, &format!("job-{n}"), Some(&ada), &url, "queued")
            .await
            .unwrap();
    }
    drop(conn);

    let dir = passable_tempdir();
    let file = dir.path().join("gatehouse.backup");
    let backed_up = run(gatehouse(dir.path())
        .env("DATABASE_URL", &app.db.url)
        .arg("db")
        .arg("backup")
        .arg(&file));
    assert!(backed_up.status.success(), "{}", text(&backed_up.stderr));
    assert!(text(&backed_up.stdout).starts_with("Backed up to"));

    // A database that holds tables is not restored over.
    let over = run(gatehouse(dir.path())
        .env("DATABASE_URL", &app.db.url)
        .arg("db")
        .arg("restore")
        .arg(&file));
    assert_eq!(over.status.code(), Some(1));
    assert!(
        text(&over.stderr).contains("empty one"),
        "{}",
        text(&over.stderr)
    );
    let missing = run(gatehouse(dir.path())
        .env("DATABASE_URL", &app.db.url)
        .args(["db", "restore", "no-such.backup"]));
    assert_eq!(missing.status.code(), Some(1));
    assert!(text(&missing.stderr).contains("no such backup file"));

    let target = TestDb::empty().await;
    let restored = run(gatehouse(dir.path())
        .env("DATABASE_URL", &target.url)
        .arg("db")
        .arg("restore")
        .arg(&file));
    assert!(restored.status.success(), "{}", text(&restored.stderr));
    assert!(
        text(&restored.stdout).contains("checks passed"),
        "{}",
        text(&restored.stdout)
    );

    // Ada signs in to the restored database with her password, and her jobs are there.
    let again = TestApp::on(TestDb {
        url: target.url.clone(),
        pool: target.pool.clone(),
    })
    .await;
    let mut browser = again.browser_at("203.0.113.7");
    sign_in(&mut browser, "ada@example.com", PASSWORD).await;
    let conn = again.db.conn().await;
    let theirs = jobs::page(&conn, Some(&ada), None, None, 10).await.unwrap();
    assert_eq!(theirs.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_role_granted_by_grant_app_role_serves_but_cannot_change_the_schema_or_the_audit_log() {
    use crate::accounts::person;
    use crate::support::TestApp;

    let db = TestDb::migrated().await;
    let role = format!("gatehouse_app_{}", rand::random::<u32>());
    let mut owner = db.connect().await;
    owner
        .batch_execute(&format!("CREATE ROLE {role} LOGIN"))
        .await
        .unwrap();
    let dir = passable_tempdir();
    let granted = run(gatehouse(dir.path()).env("DATABASE_URL", &db.url).args([
        "db",
        "grant-app-role",
        &role,
    ]));
    assert!(granted.status.success(), "{}", text(&granted.stderr));
    let printed = text(&granted.stdout);
    assert!(
        printed.contains(&format!(
            "GRANT SELECT, INSERT ON \"public\".audit_event TO \"{role}\";"
        )),
        "{printed}"
    );
    let unknown = run(gatehouse(dir.path()).env("DATABASE_URL", &db.url).args([
        "db",
        "grant-app-role",
        "nobody_by_that_name",
    ]));
    assert_eq!(unknown.status.code(), Some(1));
    assert!(text(&unknown.stderr).contains("no role is named"));

    // Served as that role: sign-up, confirmation, sign-in and the audit log all work.
    let as_app = db.url.replacen("gatehouse@", &format!("{role}@"), 1);
    assert_ne!(as_app, db.url);
    let app = TestApp::on(TestDb {
        pool: gatehouse_app::db::pool::build(&as_app, &Default::default()),
        url: as_app.clone(),
    })
    .await;
    let mut ada = person(&app, "Ada", "ada@example.com", "203.0.113.7").await;
    assert_eq!(ada.get("/profile").await.status, 200);
    assert_eq!(app.get("/readyz").await.status, 200);
    // The binary starts so: migrations as the owner, everything else as the role.
    let started = run(gatehouse(dir.path())
        .env("DATABASE_URL", &as_app)
        .env("MIGRATION_DATABASE_URL", &db.url)
        .arg("migrate"));
    assert!(started.status.success(), "{}", text(&started.stderr));

    // And it cannot touch the schema or rewrite history.
    let mut conn = AsyncPgConnection::establish(&as_app).await.unwrap();
    for refused in [
        "CREATE TABLE mine (a int)",
        "DROP TABLE session",
        "ALTER TABLE \"user\" ADD COLUMN x int",
        "DELETE FROM audit_event",
        "UPDATE audit_event SET action = 'nothing'",
        "TRUNCATE audit_event",
    ] {
        let error = conn.batch_execute(refused).await.expect_err(refused);
        assert!(
            error.to_string().contains("permission denied")
                || error.to_string().contains("must be owner"),
            "{refused}: {error}"
        );
    }
}

#[test]
fn a_migration_url_must_name_the_database_that_serves() {
    let dir = passable_tempdir();
    let other = run(gatehouse(dir.path())
        .env("DATABASE_URL", "postgresql://app@db.example:5432/gatehouse")
        .env(
            "MIGRATION_DATABASE_URL",
            "postgresql://owner@db.example:5432/elsewhere",
        )
        .arg("migrate"));
    assert_eq!(other.status.code(), Some(1));
    let said = text(&other.stderr);
    assert!(
        said.contains("MIGRATION_DATABASE_URL: expected the database DATABASE_URL names"),
        "{said}"
    );
    let alone = run(gatehouse(dir.path())
        .env(
            "MIGRATION_DATABASE_URL",
            "postgresql://owner@db.example/gatehouse",
        )
        .arg("migrate"));
    assert_eq!(alone.status.code(), Some(1));
    assert!(text(&alone.stderr).contains("MIGRATION_DATABASE_URL: needs DATABASE_URL"));
}

/// Settings two instances behind one load balancer share: the database, the keys, the proxy.
fn instance_settings(database_url: &str) -> Vec<(&'static str, String)> {
    let key = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    vec![
        ("DATABASE_URL", database_url.to_string()),
        ("SECRET_KEY", key.to_string()),
        ("TOKEN_ENCRYPTION_KEYS", format!("k1:{key}")),
        ("TRUSTED_PROXY_HOPS", "1".to_string()),
    ]
}

fn start_instance(cwd: &Path, settings: &[(&'static str, String)]) -> Served {
    let settings: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Served::start_with(cwd, free_port(), &settings)
}

#[tokio::test(flavor = "multi_thread")]
async fn two_binaries_on_one_database_allow_together_what_one_allows() {
    let db = TestDb::migrated().await;
    let dir = passable_tempdir();
    let settings = instance_settings(&db.url);
    let (cwd, both) = (dir.path().to_path_buf(), settings.clone());
    let (first, second) = tokio::task::spawn_blocking(move || {
        (start_instance(&cwd, &both), start_instance(&cwd, &both))
    })
    .await
    .unwrap();
    let client = reqwest::Client::new();
    let mut statuses = Vec::new();
    for n in 0..14 {
        let served = if n % 2 == 0 { &first } else { &second };
        let answer = client
            .post(format!("{}/api/sign-in", served.base))
            .header("origin", &served.base)
            .header("x-forwarded-for", format!("198.51.100.{}", n + 1))
            .form(&[
                ("email", "ada@example.com"),
                ("password", "not the password"),
            ])
            .send()
            .await
            .unwrap();
        statuses.push(answer.status().as_u16());
    }
    assert_eq!(
        (
            statuses.iter().filter(|s| **s == 401).count(),
            statuses.iter().filter(|s| **s == 429).count()
        ),
        (10, 4),
        "one quota of ten for the account across both: {statuses:?}"
    );
    let _ = first.interrupt();
    let _ = second.interrupt();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_binary_answers_503_while_postgresql_is_down_and_recovers_by_itself() {
    use gatehouse::local_postgres::{Durability, Installation, LocalPostgres};
    let root = passable_tempdir();
    let installation = Installation::find().unwrap();
    let postgres = LocalPostgres::start(&installation, root.path(), Durability::Durable)
        .await
        .unwrap();
    let dir = passable_tempdir();
    let mut settings = instance_settings(&postgres.url("gatehouse"));
    settings.push(("DB_CONNECTION_TIMEOUT_MS", "1000".to_string()));
    let cwd = dir.path().to_path_buf();
    let served = tokio::task::spawn_blocking(move || start_instance(&cwd, &settings))
        .await
        .unwrap();
    let client = reqwest::Client::new();
    // A well-formed session token: looking it up needs the database.
    let cookie = format!(
        "gatehouse_session={}",
        gatehouse_app::services::tokens::new_token()
    );

    postgres.stop();
    let words = "Gatehouse cannot reach its database; try again in a minute.";
    for _ in 0..3 {
        let ready = client
            .get(format!("{}/readyz", served.base))
            .send()
            .await
            .unwrap();
        assert_eq!(ready.status(), 503);
        let sign_in = client
            .post(format!("{}/api/sign-in", served.base))
            .header("origin", &served.base)
            .form(&[("email", "ada@example.com"), ("password", "whatever it is")])
            .send()
            .await
            .unwrap();
        assert_eq!(sign_in.status(), 503);
        assert!(sign_in.headers().contains_key("retry-after"));
        assert!(sign_in.text().await.unwrap().contains(words));
        let page = client
            .get(format!("{}/profile", served.base))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 503);
        assert!(page.text().await.unwrap().contains(words));
    }

    let postgres = LocalPostgres::start(&installation, root.path(), Durability::Durable)
        .await
        .unwrap();
    let back = Instant::now();
    loop {
        let ready = client
            .get(format!("{}/readyz", served.base))
            .send()
            .await
            .unwrap();
        if ready.status() == 200 {
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(10),
            "not ready 10 s after PostgreSQL returned"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, _, stderr) = tokio::task::spawn_blocking(move || served.interrupt())
        .await
        .unwrap();
    assert!(status.success(), "{stderr}");
    postgres.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_open_live_status_stream_ends_at_sigterm_without_holding_up_the_stop() {
    use crate::artworks::artists;
    use crate::support::TestApp;

    let app = TestApp::with_access("@example.com", "").await;
    let (ada, _bob) = artists(&app).await;
    let cookie = format!(
        "gatehouse_session={}",
        ada.cookie("gatehouse_session").unwrap()
    );
    let dir = passable_tempdir();
    let (cwd, settings) = (dir.path().to_path_buf(), instance_settings(&app.db.url));
    let served = tokio::task::spawn_blocking(move || start_instance(&cwd, &settings))
        .await
        .unwrap();
    let mut stream = reqwest::Client::new()
        .get(format!("{}/api/artworks/events", served.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    assert!(stream.chunk().await.unwrap().is_some(), "the stream opened");

    let signalled = Instant::now();
    let stopping = tokio::task::spawn_blocking(move || served.stop_with(Signal::SIGTERM));
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await;
    assert!(ended.is_ok(), "the stream ends when the server stops");
    let (status, _, stderr) = stopping.await.unwrap();
    assert!(status.success(), "{status}\n{stderr}");
    // The drain waits up to 30 s for requests in flight; an open stream is not one of them.
    assert!(
        signalled.elapsed() < Duration::from_secs(10),
        "stopped {:?} after SIGTERM:\n{stderr}",
        signalled.elapsed()
    );
    assert!(!stderr.contains("stopping anyway"), "{stderr}");
}
