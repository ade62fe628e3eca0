//! Gatehouse under load, beside this machine's own limits, measured in one run: a bare axum
//! "hello" (the HTTP limit), `pgbench -S` (one indexed query), and
//! C = 1/(1/hello + 1/pgbench) for a request that needs HTTP and one query. Each scenario is
//! driven by wrk (`-t2 -c64`, 10 s) against the release binary on a private PostgreSQL, and
//! printed with its share of its limit and its target; the table also goes to
//! docs/performance.md. `bash .ci/bench` runs it (SECONDS_PER_RUN=… to change 10 s).
//!
//! Every request goes to 127.0.0.1 only, and every run is bounded in time.

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diesel_async::{AsyncConnection, AsyncPgConnection};
use gatehouse::local_postgres::{Durability, Installation, LocalPostgres};
use gatehouse_app::db::{jobs, users};
use gatehouse_app::services::audit::Origin;
use gatehouse_app::services::sessions;

const TOKEN: &str = "bench-internal-api-token-0123456789abcdef";

/// What wrk measured.
#[derive(Clone, Copy, Debug, Default)]
struct Load {
    per_second: f64,
    p99_ms: f64,
    /// Answers that were not 2xx or 3xx.
    failed: u64,
}

fn seconds() -> u64 {
    std::env::var("SECONDS_PER_RUN")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// wrk with `connections` for the run's seconds; `script` is Lua, for requests of its own.
fn wrk(url: &str, connections: u32, headers: &[String], script: Option<&Path>) -> Child {
    let mut command = Command::new("wrk");
    command
        .args([
            "-t2",
            &format!("-c{connections}"),
            "--latency",
            "--timeout",
            "5s",
        ])
        .arg(format!("-d{}s", seconds()));
    for header in headers {
        command.args(["-H", header]);
    }
    if let Some(script) = script {
        command.arg("-s").arg(script);
    }
    command
        .arg(url)
        .stdout(Stdio::piped())
        .spawn()
        .expect("wrk runs (bash .ci/setup --bench installs it)")
}

fn finish(child: Child) -> Load {
    let output = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    let mut load = Load::default();
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("Requests/sec:") {
            load.per_second = rest.trim().parse().unwrap_or(0.0);
        } else if let Some(rest) = line.strip_prefix("99%") {
            load.p99_ms = milliseconds(rest.trim());
        } else if let Some(rest) = line.strip_prefix("Non-2xx or 3xx responses:") {
            load.failed = rest.trim().parse().unwrap_or(0);
        }
    }
    assert!(load.per_second > 0.0, "wrk measured nothing:\n{text}");
    load
}

fn milliseconds(value: &str) -> f64 {
    let (number, unit) = value.split_at(value.find(|c: char| c.is_alphabetic()).unwrap_or(0));
    let number: f64 = number.parse().unwrap_or(f64::NAN);
    match unit {
        "us" => number / 1000.0,
        "ms" => number,
        "s" => number * 1000.0,
        "m" => number * 60_000.0,
        _ => f64::NAN,
    }
}

fn measure(url: &str, connections: u32, headers: &[String]) -> Load {
    finish(wrk(url, connections, headers, None))
}

/// The HTTP limit: axum answering "hello" on its own two-worker runtime, as Gatehouse runs.
fn start_hello() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async move {
                let app = axum::Router::new().route("/", axum::routing::get(|| async { "hello" }));
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, app).await.unwrap();
            });
    });
    address
}

/// The database limit: pgbench -S (one primary-key SELECT a transaction), 10 connections.
fn pgbench(url: &str) -> f64 {
    let init = Command::new("pgbench")
        .args(["-i", "-s", "10", "-q", url])
        .output()
        .expect("pgbench runs (it comes with PostgreSQL)");
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let run = Command::new("pgbench")
        .args([
            "-S",
            "-c",
            "10",
            "-j",
            "2",
            "-T",
            &seconds().to_string(),
            url,
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&run.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("tps = "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no tps from pgbench:\n{text}"))
}

struct Gatehouse {
    child: Child,
    base: String,
}

impl Gatehouse {
    fn start(database_url: &str, data_dir: &Path) -> Self {
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", database_url)
            .env("DATA_DIR", data_dir)
            .env("BIND", format!("127.0.0.1:{port}"))
            .env("INTERNAL_API_TOKENS", TOKEN)
            .env("TRUSTED_PROXY_HOPS", "1")
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or("info".into()),
            )
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(data_dir.join("gatehouse.log")).unwrap())
            .spawn()
            .expect("the release gatehouse binary starts");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "Gatehouse did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Self { child, base }
    }

    /// The most memory the process has held (VmHWM), in MB.
    fn peak_rss_mb(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    }
}

impl Drop for Gatehouse {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        let _ = self.child.wait();
    }
}

/// A confirmed, let-in artist with a session (its cookie value) and 30 jobs.
async fn seed(database_url: &str) -> String {
    let mut conn = AsyncPgConnection::establish(database_url).await.unwrap();
    let user = users::insert(&mut conn, "Ada", "ada@bench.example", true)
        .await
        .unwrap()
        .unwrap();
    users::set_whitelisted(&mut conn, &user.id, true)
        .await
        .unwrap();
    for n in 0..30 {
        let url = format!("https://cdn.example/{n}.png");
        jobs::insert(
            &mut conn,
            &format!("job-{n}"),
            Some(&user.id),
            &url,
            "queued",
        )
        .await
        .unwrap();
    }
    let services = gatehouse_app::services::Services::new(
        gatehouse_app::db::pool::build(database_url, &Default::default()),
        gatehouse_app::services::AuthSettings::new("http://bench.invalid".parse().unwrap()),
        gatehouse_app::services::mail::Mailer::new(None, "").unwrap(),
        gatehouse::secrets::TokenKeys::generate().cipher(),
    );
    let mut conn = services.pool.get().await.unwrap();
    let (token, _) = sessions::start(&services, &mut conn, &user, &["pwd"], &Origin::default())
        .await
        .unwrap();
    token
}

/// Wrong passwords for addresses nobody has, each from a new client address behind the
/// one trusted proxy, so neither the per-address nor the per-account limit stops them.
fn flood_script(dir: &Path, origin: &str) -> PathBuf {
    let path = dir.join("flood.lua");
    let script = format!(
        r#"
local n = 0
function init(args)
  math.randomseed(os.time() + tonumber(tostring({{}}):sub(8), 16) % 100000)
end
request = function()
  n = n + 1
  local a, b = math.random(0, 255), math.random(1, 254)
  local body = "email=flood-" .. n .. "-" .. math.random(1, 1000000000) ..
               "%40nobody.example&password=not-the-password&next="
  local headers = {{}}
  headers["Content-Type"] = "application/x-www-form-urlencoded"
  headers["Origin"] = "{origin}"
  headers["X-Forwarded-For"] = "198." .. (18 + a % 2) .. "." .. a .. "." .. b
  return wrk.format("POST", "/api/sign-in", headers, body)
end
"#
    );
    std::fs::write(&path, script).unwrap();
    path
}

/// One scenario, its limit, and its target: at least `share` of the limit, p99 under
/// `p99_under` ms, and (`whole`) every answer a 2xx or 3xx.
struct Row {
    scenario: &'static str,
    load: Load,
    limit: Option<(&'static str, f64)>,
    share: Option<f64>,
    p99_under: Option<f64>,
    whole: bool,
}

impl Row {
    fn new(scenario: &'static str, load: Load, limit: Option<(&'static str, f64)>) -> Self {
        Self {
            scenario,
            load,
            limit,
            share: None,
            p99_under: None,
            whole: false,
        }
    }

    fn at_least(mut self, share: f64) -> Self {
        self.share = Some(share);
        self
    }

    fn p99_under(mut self, ms: f64) -> Self {
        self.p99_under = Some(ms);
        self
    }

    fn every_answer_whole(mut self) -> Self {
        self.whole = true;
        self
    }

    fn target(&self) -> String {
        let mut said = Vec::new();
        if let (Some(share), Some((name, _))) = (self.share, self.limit) {
            said.push(format!(">= {:.0} % of {name}", share * 100.0));
        }
        if let Some(ms) = self.p99_under {
            said.push(format!("p99 < {ms:.0} ms"));
        }
        said.join(", ")
    }

    fn met(&self) -> bool {
        let share = match (self.share, self.limit) {
            (Some(share), Some((_, limit))) => self.load.per_second >= share * limit,
            _ => true,
        };
        let p99 = self.p99_under.is_none_or(|ms| self.load.p99_ms < ms);
        share && p99 && (!self.whole || self.load.failed == 0)
    }
}

#[tokio::main]
async fn main() {
    let root = tempfile::Builder::new()
        .prefix("gatehouse-load-")
        .tempdir()
        .unwrap();
    let postgres = LocalPostgres::start(
        &Installation::find().unwrap(),
        root.path(),
        Durability::Durable,
    )
    .await
    .expect("PostgreSQL starts");
    postgres.create_database("pgbench").await.unwrap();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("{cores} cores; wrk -t2 -c64 for {} s a run\n", seconds());

    let pg = pgbench(&postgres.url("pgbench"));
    let hello_at = start_hello();
    let hello = measure(&format!("http://{hello_at}/"), 64, &[]);
    let c = 1.0 / (1.0 / hello.per_second + 1.0 / pg);

    let data = root.path().join("gatehouse");
    std::fs::create_dir_all(&data).unwrap();
    let url = postgres.url("gatehouse");
    let gatehouse = Gatehouse::start(&url, &data);
    let token = seed(&url).await;
    let base = gatehouse.base.clone();
    let cookie = format!("Cookie: gatehouse_session={token}");

    // Pages carry their data twice when they hydrate (as HTML and for the client).
    let log = std::fs::read_to_string(data.join("gatehouse.log")).unwrap_or_default();
    let pages = if log.contains("pages hydrate with the wasm client") {
        "pages hydrating with the wasm client"
    } else {
        "pages without a client build, so without hydration data"
    };
    println!("{pages}\n");

    let health = measure(&format!("{base}/healthz"), 64, &[]);
    let session = measure(
        &format!("{base}/api/internal/session"),
        64,
        &[
            format!("Authorization: Bearer {TOKEN}"),
            format!("X-Session-Token: {token}"),
        ],
    );
    let profile = measure(
        &format!("{base}/profile"),
        64,
        std::slice::from_ref(&cookie),
    );
    let artworks = measure(
        &format!("{base}/artworks"),
        64,
        std::slice::from_ref(&cookie),
    );
    let login = measure(&format!("{base}/login"), 64, &[]);

    let script = flood_script(root.path(), &base);
    let flood = wrk(&format!("{base}/api/sign-in"), 16, &[], Some(&script));
    std::thread::sleep(Duration::from_secs(1));
    let during = measure(&format!("{base}/profile"), 8, std::slice::from_ref(&cookie));
    let flood = finish(flood);
    let rss = gatehouse.peak_rss_mb();

    let (by_hello, by_c) = (Some(("hello", hello.per_second)), Some(("C", c)));
    let rows = [
        Row::new("Gatehouse /healthz", health, by_hello),
        Row::new("GET /api/internal/session", session, by_c)
            .at_least(0.7)
            .p99_under(10.0),
        Row::new("/profile, signed in", profile, by_c)
            .at_least(0.25)
            .p99_under(20.0),
        Row::new("/artworks, signed in", artworks, by_c)
            .at_least(0.25)
            .p99_under(20.0),
        Row::new("/login, anonymous", login, by_hello).at_least(0.3),
        Row::new("/profile (8 conn.) during a sign-in flood", during, None)
            .p99_under(50.0)
            .every_answer_whole(),
        Row::new(
            "the flood: wrong passwords, 16 conn., new addresses (busy is 503)",
            flood,
            None,
        ),
    ];

    let mut table = String::new();
    writeln!(
        table,
        "| scenario | req/s | p99 ms | share of its limit | target | met |"
    )
    .unwrap();
    writeln!(table, "| --- | ---: | ---: | ---: | --- | --- |").unwrap();
    writeln!(
        table,
        "| pgbench -S, 10 connections (one indexed query) | {pg:.0} | | limit | | |"
    )
    .unwrap();
    writeln!(
        table,
        "| bare axum hello (HTTP) | {:.0} | {:.1} | limit | | |",
        hello.per_second, hello.p99_ms
    )
    .unwrap();
    writeln!(
        table,
        "| C = 1/(1/hello + 1/pgbench) | {c:.0} | | limit | | |"
    )
    .unwrap();
    for row in &rows {
        let share = row
            .limit
            .map(|(name, limit)| format!("{:.0} % of {name}", 100.0 * row.load.per_second / limit))
            .unwrap_or_default();
        let failed = if row.load.failed > 0 {
            format!(" ({} not 2xx/3xx)", row.load.failed)
        } else {
            String::new()
        };
        writeln!(
            table,
            "| {}{failed} | {:.0} | {:.1} | {share} | {} | {} |",
            row.scenario,
            row.load.per_second,
            row.load.p99_ms,
            row.target(),
            if row.met() { "yes" } else { "**no**" }
        )
        .unwrap();
    }
    let rss_met = rss < 100.0;
    writeln!(
        table,
        "| peak RSS of Gatehouse, the flood included | {rss:.0} MB | | | < 100 MB | {} |",
        if rss_met { "yes" } else { "**no**" }
    )
    .unwrap();
    let all_met = rss_met && rows.iter().all(Row::met);
    println!("{table}");
    println!(
        "{}",
        if all_met {
            "every target met"
        } else {
            "some targets NOT met"
        }
    );

    drop(gatehouse);
    write_report(&table, cores, pages, all_met);
    postgres.stop();
}

/// docs/performance.md keeps its prose; the measured table between its markers is replaced.
fn write_report(table: &str, cores: usize, pages: &str, all_met: bool) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/performance.md");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return;
    };
    let (begin, end) = ("<!-- bench:begin -->", "<!-- bench:end -->");
    let (Some(start), Some(stop)) = (text.find(begin), text.find(end)) else {
        return;
    };
    let date = Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let verdict = if all_met {
        "every target met"
    } else {
        "some targets not met"
    };
    let measured = format!(
        "{begin}\nMeasured {date} on {cores} cores by `bash .ci/bench`, {pages} ({verdict}):\n\n{table}"
    );
    let updated = format!("{}{measured}{}", &text[..start], &text[stop..]);
    let mut file = std::fs::File::create(&path).unwrap();
    file.write_all(updated.as_bytes()).unwrap();
}
