//! A private PostgreSQL for when no DATABASE_URL is set: `initdb` on first use, then
//! `postgres` on a unix socket only (no TCP), stopped when Gatehouse stops — even when it
//! crashes, because a small shell watchdog stops PostgreSQL as soon as Gatehouse's end of
//! its stdin closes. The test harness runs its clusters the same way.
//!
//! PostgreSQL refuses to run as root: as root, `initdb` and `postgres` run as the
//! unprivileged `postgres` system user, which owns the cluster's folders. When that user
//! cannot enter the data folder (a clone in root's home folder, mode 0700), the cluster and
//! its socket are kept in a folder of that user's under `/var/lib/gatehouse`, named after the
//! data folder, and the log says where.

use std::fs;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use diesel::sql_types::Bool;
use diesel::QueryableByName;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};

mod installation;

pub use installation::{home_elsewhere, Installation};

/// The database superuser `initdb` creates, whoever runs it.
pub const SUPERUSER: &str = "gatehouse";
/// How long PostgreSQL may take to accept connections after it starts.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// Where clusters go whose data folder the `postgres` user cannot enter.
pub const ELSEWHERE: &str = "/var/lib/gatehouse";

#[derive(Debug, thiserror::Error)]
pub enum LocalPostgresError {
    #[error(
        "PostgreSQL is not installed: install it (Debian/Ubuntu: `apt-get install postgresql`) \
         or set DATABASE_URL to a PostgreSQL server"
    )]
    NotInstalled,
    #[error(
        "running as root, but there is no `postgres` system user to run PostgreSQL as \
         (PostgreSQL refuses to run as root; the postgresql package creates that user)"
    )]
    NoUnprivilegedUser,
    #[error("PostgreSQL for {data} is already running (pid {pid}); is another Gatehouse using this data folder?")]
    AlreadyRunning { data: PathBuf, pid: i32 },
    #[error("{action} failed: {detail}")]
    Command { action: String, detail: String },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("PostgreSQL did not become ready: {detail}")]
    NotReady { detail: String },
    #[error(
        "the `postgres` user cannot enter {data}, which holds the private PostgreSQL's cluster: \
         let it pass (`chmod o+x` on {data} and each folder above it) or move the folder"
    )]
    ClusterUnreachable { data: PathBuf },
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> LocalPostgresError + '_ {
    move |source| LocalPostgresError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// How the cluster is tuned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// Every commit reaches the disk.
    Durable,
    /// For test clusters: no fsync (much faster), and the whole folder is deleted when
    /// PostgreSQL stops.
    Throwaway,
}

/// A running private PostgreSQL. Dropping it stops PostgreSQL.
pub struct LocalPostgres {
    watchdog: Child,
    /// Closing this tells the watchdog to stop PostgreSQL.
    stop_signal: Option<ChildStdin>,
    socket_dir: PathBuf,
    /// A port other than 5432, when the caller's settings chose one (it names the socket).
    port: Option<u16>,
}

impl LocalPostgres {
    /// Starts PostgreSQL on the cluster in `root/postgres` (made on first use), with its
    /// socket in `root/run` and its log in `root/postgres.log`. When the user PostgreSQL runs
    /// as cannot enter `root`, the cluster and socket are kept under [`ELSEWHERE`] instead.
    pub async fn start(
        installation: &Installation,
        root: &Path,
        durability: Durability,
    ) -> Result<Self, LocalPostgresError> {
        Self::start_with(installation, root, durability, &[]).await
    }

    /// The same, with PostgreSQL settings of the caller's after Gatehouse's own (a later
    /// `-c` wins): a test that needs TCP and TLS says so here.
    pub async fn start_with(
        installation: &Installation,
        root: &Path,
        durability: Durability,
        extra_settings: &[String],
    ) -> Result<Self, LocalPostgresError> {
        let root = std::path::absolute(root).map_err(io_error(root))?;
        if durability == Durability::Throwaway {
            // The watchdog deletes the folder, as the user PostgreSQL runs as.
            installation.make_owned_dir(&root, 0o700)?;
        } else {
            // The data folder only needs to be passable; the cluster inside stays private.
            fs::create_dir_all(&root).map_err(io_error(&root))?;
        }
        let home = installation.cluster_home(&root)?;
        if home != root {
            installation.make_owned_dir(&home, 0o700)?;
            tracing::info!(
                data = %root.display(),
                cluster = %home.display(),
                "the postgres user cannot enter the data folder, so the private PostgreSQL is kept in a folder of its own"
            );
        }
        let cluster = home.join("postgres");
        let socket_dir = home.join("run");
        let log = root.join("postgres.log");
        installation.make_owned_dir(&socket_dir, 0o700)?;

        if !cluster.join("PG_VERSION").exists() {
            init_cluster(installation, &cluster, durability)?;
        }
        clear_stale_lock(&cluster, &socket_dir)?;

        let log_file = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .map_err(io_error(&log))?;
        if let Some((uid, gid)) = installation.run_as {
            std::os::unix::fs::chown(&log, Some(uid.as_raw()), Some(gid.as_raw()))
                .map_err(io_error(&log))?;
        }

        let mut settings = vec![
            "listen_addresses=".to_string(),
            "unix_socket_permissions=0700".to_string(),
        ];
        if durability == Durability::Throwaway {
            settings.extend(
                [
                    "fsync=off",
                    "synchronous_commit=off",
                    "full_page_writes=off",
                ]
                .map(String::from),
            );
        }
        settings.extend(extra_settings.iter().cloned());

        // The watchdog: PostgreSQL in the background; a reader of our stdin that asks
        // PostgreSQL for a fast shutdown when that stdin closes (Gatehouse ended, however
        // it ended); and a wait, so the watchdog ends when PostgreSQL does, after deleting
        // a throwaway cluster.
        let script = r#"
            postgres="$1"; remove="$2"; shift 2
            exec 3<&0 </dev/null
            "$postgres" "$@" &
            pg=$!
            (read -r _ <&3; kill -INT "$pg" 2>/dev/null) &
            wait "$pg"
            if [ -n "$remove" ]; then rm -rf "$remove"; fi
        "#;
        let remove_on_stop = match durability {
            Durability::Throwaway => home.as_os_str(),
            Durability::Durable => std::ffi::OsStr::new(""),
        };
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(script)
            .arg("gatehouse-postgres")
            .arg(installation.bin_dir.join("postgres"))
            .arg(remove_on_stop)
            .arg("-D")
            .arg(&cluster)
            .arg("-k")
            .arg(&socket_dir);
        for setting in &settings {
            command.arg("-c").arg(setting);
        }
        command
            .stdin(Stdio::piped())
            .stdout(log_file.try_clone().map_err(io_error(&log))?)
            .stderr(log_file)
            // Its own process group: Ctrl-C in the terminal reaches Gatehouse, which drains
            // its requests before it stops PostgreSQL.
            .process_group(0);
        installation.drop_privileges(&mut command);
        let mut watchdog = command.spawn().map_err(|e| LocalPostgresError::Command {
            action: "starting postgres".into(),
            detail: e.to_string(),
        })?;
        let stop_signal = watchdog.stdin.take();
        let port = extra_settings
            .iter()
            .find_map(|setting| setting.strip_prefix("port="))
            .and_then(|port| port.parse().ok());
        let mut running = Self {
            watchdog,
            stop_signal,
            socket_dir,
            port,
        };
        running.wait_until_ready(&log).await?;
        running.create_database("gatehouse").await?;
        Ok(running)
    }

    /// The URL of `database` on the cluster in `root` if a PostgreSQL already runs it (a
    /// Gatehouse serving from the same folder), for commands that work beside it.
    pub fn running(
        installation: &Installation,
        root: &Path,
        database: &str,
    ) -> Result<Option<String>, LocalPostgresError> {
        let root = std::path::absolute(root).map_err(io_error(root))?;
        if !root.exists() {
            return Ok(None);
        }
        let home = installation.cluster_home(&root)?;
        Ok(
            live_postmaster(&home.join("postgres"))
                .map(|_| socket_url(&home.join("run"), database)),
        )
    }

    /// The connection URL of `database` on this cluster (over the unix socket).
    pub fn url(&self, database: &str) -> String {
        let url = socket_url(&self.socket_dir, database);
        match (self.port, url.rsplit_once('/')) {
            (Some(port), Some((server, name))) => format!("{server}:{port}/{name}"),
            _ => url,
        }
    }

    /// Makes `database` unless it exists.
    pub async fn create_database(&self, database: &str) -> Result<(), LocalPostgresError> {
        #[derive(QueryableByName)]
        struct Found {
            #[diesel(sql_type = Bool)]
            found: bool,
        }
        let fail = |e: String| LocalPostgresError::Command {
            action: format!("creating database {database}"),
            detail: e,
        };
        let mut conn = AsyncPgConnection::establish(&self.url("postgres"))
            .await
            .map_err(|e| fail(e.to_string()))?;
        let found: Found = diesel::sql_query(
            "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS found",
        )
        .bind::<diesel::sql_types::Text, _>(database)
        .get_result(&mut conn)
        .await
        .map_err(|e| fail(e.to_string()))?;
        if !found.found {
            conn.batch_execute(&format!(
                "CREATE DATABASE \"{}\"",
                database.replace('"', "\"\"")
            ))
            .await
            .map_err(|e| fail(e.to_string()))?;
        }
        Ok(())
    }

    async fn wait_until_ready(&mut self, log: &Path) -> Result<(), LocalPostgresError> {
        let started = Instant::now();
        let url = self.url("postgres");
        loop {
            let last_error = match AsyncPgConnection::establish(&url).await {
                Ok(_) => return Ok(()),
                Err(e) => e.to_string(),
            };
            let exited = self.watchdog.try_wait().ok().flatten();
            if exited.is_some() || started.elapsed() > READY_TIMEOUT {
                let tail = log_tail(log);
                return Err(LocalPostgresError::NotReady {
                    detail: match exited {
                        Some(status) => {
                            format!("postgres exited ({status}); its log ends:\n{tail}")
                        }
                        None => format!("{last_error}; its log ends:\n{tail}"),
                    },
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Stops PostgreSQL (fast shutdown) and waits until it has.
    pub fn stop(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        if let Some(stdin) = self.stop_signal.take() {
            drop(stdin);
            let _ = self.watchdog.wait();
        }
    }
}

impl Drop for LocalPostgres {
    fn drop(&mut self) {
        self.shut_down();
    }
}

/// A libpq-style URL for a unix socket: the socket folder, percent-encoded, as the host.
pub fn socket_url(socket_dir: &Path, database: &str) -> String {
    let host = gatehouse_app::views::encoded(&socket_dir.to_string_lossy()).to_string();
    format!("postgresql://{SUPERUSER}@{host}/{database}")
}

fn init_cluster(
    installation: &Installation,
    cluster: &Path,
    durability: Durability,
) -> Result<(), LocalPostgresError> {
    installation.make_owned_dir(cluster, 0o700)?;
    let mut command = installation.command("initdb");
    command.arg("-D").arg(cluster).args([
        "-U",
        SUPERUSER,
        "-A",
        "trust",
        "-E",
        "UTF8",
        "--locale=C",
    ]);
    if durability == Durability::Throwaway {
        command.arg("--no-sync");
    }
    let output = command.output().map_err(|e| LocalPostgresError::Command {
        action: "initdb".into(),
        detail: e.to_string(),
    })?;
    if !output.status.success() {
        // Leave no half-made cluster behind: the next start tries again from scratch.
        let _ = fs::remove_dir_all(cluster);
        return Err(LocalPostgresError::Command {
            action: "initdb".into(),
            detail: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    Ok(())
}

/// After a crash PostgreSQL's lock files stay behind. A lock whose process is gone (or is no
/// longer PostgreSQL) is removed; a live PostgreSQL on the same folder is an error.
fn clear_stale_lock(cluster: &Path, socket_dir: &Path) -> Result<(), LocalPostgresError> {
    let pid_file = cluster.join("postmaster.pid");
    if !pid_file.exists() {
        return Ok(());
    }
    if let Some(pid) = live_postmaster(cluster) {
        return Err(LocalPostgresError::AlreadyRunning {
            data: cluster.to_path_buf(),
            pid,
        });
    }
    tracing::warn!(path = %pid_file.display(), "removing a stale PostgreSQL lock left by a crash");
    fs::remove_file(&pid_file).map_err(io_error(&pid_file))?;
    if let Ok(entries) = fs::read_dir(socket_dir) {
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(".s.PGSQL.") {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
    Ok(())
}

/// The PostgreSQL that holds `cluster`'s lock file, if it is alive (a lock whose process is
/// gone, or is no longer PostgreSQL, is stale).
fn live_postmaster(cluster: &Path) -> Option<i32> {
    fs::read_to_string(cluster.join("postmaster.pid"))
        .ok()?
        .lines()
        .next()
        .and_then(|line| line.trim().parse::<i32>().ok())
        .filter(|pid| is_postgres(*pid))
}

fn is_postgres(pid: i32) -> bool {
    fs::read(format!("/proc/{pid}/cmdline"))
        .map(|cmdline| {
            let program = cmdline.split(|b| *b == 0).next().unwrap_or_default();
            String::from_utf8_lossy(program).ends_with("postgres")
        })
        .unwrap_or(false)
}

fn log_tail(log: &Path) -> String {
    let text = fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}
