//! Where PostgreSQL's programs are and whom they run as (the `postgres` user, when
//! Gatehouse runs as root), and where a data folder's cluster lives when that user cannot
//! enter it.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use nix::unistd::{Gid, Uid, User};

use super::{io_error, LocalPostgresError, ELSEWHERE};

/// Where PostgreSQL's programs are, and whom they run as.
#[derive(Clone, Debug)]
pub struct Installation {
    pub(super) bin_dir: PathBuf,
    pub(super) run_as: Option<(Uid, Gid)>,
}

impl Installation {
    /// Finds `initdb` and `postgres`: on PATH, then `pg_config --bindir`, then the newest
    /// `/usr/lib/postgresql/*/bin`.
    pub fn find() -> Result<Self, LocalPostgresError> {
        let has_both = |dir: &Path| dir.join("initdb").is_file() && dir.join("postgres").is_file();
        let from_path = std::env::var_os("PATH")
            .into_iter()
            .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
            .find(|dir| has_both(dir));
        let from_pg_config = || {
            let out = Command::new("pg_config").arg("--bindir").output().ok()?;
            let dir = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
            has_both(&dir).then_some(dir)
        };
        let from_debian = || {
            let mut dirs: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
                .ok()?
                .filter_map(|entry| {
                    let entry = entry.ok()?;
                    let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
                    Some((version, entry.path().join("bin")))
                })
                .filter(|(_, dir)| has_both(dir))
                .collect();
            dirs.sort();
            dirs.pop().map(|(_, dir)| dir)
        };
        let bin_dir = from_path
            .or_else(from_pg_config)
            .or_else(from_debian)
            .ok_or(LocalPostgresError::NotInstalled)?;
        // Where the programs really are (PATH may hold links to a few of them), so that the
        // others (pg_dump, say) are found beside them.
        let bin_dir = fs::canonicalize(bin_dir.join("initdb"))
            .ok()
            .and_then(|initdb| initdb.parent().map(Path::to_path_buf))
            .unwrap_or(bin_dir);

        let run_as = if Uid::effective().is_root() {
            let user = User::from_name("postgres")
                .ok()
                .flatten()
                .ok_or(LocalPostgresError::NoUnprivilegedUser)?;
            Some((user.uid, user.gid))
        } else {
            None
        };
        Ok(Self { bin_dir, run_as })
    }

    /// One of PostgreSQL's programs (`pg_dump`, say), where `initdb` was found.
    pub fn program(&self, name: &str) -> PathBuf {
        self.bin_dir.join(name)
    }

    pub(super) fn command(&self, program: &str) -> Command {
        let mut command = Command::new(self.bin_dir.join(program));
        self.drop_privileges(&mut command);
        command
    }

    /// Runs `command` as the user PostgreSQL runs as, from a folder that user can enter
    /// (initdb and postgres change back to their starting folder and fail if they cannot).
    pub(super) fn drop_privileges(&self, command: &mut Command) {
        if let Some((uid, gid)) = self.run_as {
            command.uid(uid.as_raw()).gid(gid.as_raw()).current_dir("/");
        }
    }

    /// Whether the user PostgreSQL runs as can enter `dir`: every folder above it must let
    /// that user pass. Asked of the system by trying, as that user.
    pub(super) fn can_enter(&self, dir: &Path) -> bool {
        let mut command = Command::new("sh");
        command
            .args(["-c", "cd \"$1\"", "sh"])
            .arg(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        self.drop_privileges(&mut command);
        command.status().is_ok_and(|status| status.success())
    }

    /// Where the cluster of the data folder `root` lives: in `root` itself, or, when the user
    /// PostgreSQL runs as cannot enter `root`, in that user's folder named after it under
    /// [`ELSEWHERE`]. A cluster already kept elsewhere stays there.
    pub(super) fn cluster_home(&self, root: &Path) -> Result<PathBuf, LocalPostgresError> {
        if self.run_as.is_none() {
            return Ok(root.to_path_buf());
        }
        // Named after the real path, so that any spelling of the folder finds its cluster.
        let elsewhere = home_elsewhere(&fs::canonicalize(root).map_err(io_error(root))?);
        if has_cluster(&elsewhere) {
            return Ok(elsewhere);
        }
        if self.can_enter(root) {
            return Ok(root.to_path_buf());
        }
        if has_cluster(root) {
            return Err(LocalPostgresError::ClusterUnreachable {
                data: root.to_path_buf(),
            });
        }
        let parent = Path::new(ELSEWHERE);
        fs::create_dir_all(parent).map_err(io_error(parent))?;
        fs::set_permissions(parent, fs::Permissions::from_mode(0o755)).map_err(io_error(parent))?;
        Ok(elsewhere)
    }

    /// Makes `dir` (and its parents) and gives it to the user PostgreSQL runs as.
    pub(super) fn make_owned_dir(&self, dir: &Path, mode: u32) -> Result<(), LocalPostgresError> {
        fs::create_dir_all(dir).map_err(io_error(dir))?;
        fs::set_permissions(dir, fs::Permissions::from_mode(mode)).map_err(io_error(dir))?;
        if let Some((uid, gid)) = self.run_as {
            std::os::unix::fs::chown(dir, Some(uid.as_raw()), Some(gid.as_raw()))
                .map_err(io_error(dir))?;
        }
        Ok(())
    }
}

/// Where the cluster of the data folder `root` (an absolute path) is kept when the user
/// PostgreSQL runs as cannot enter `root`: a folder under [`ELSEWHERE`] named after the path,
/// readable, and unique by a hash of the whole path.
pub fn home_elsewhere(root: &Path) -> PathBuf {
    use sha2::{Digest, Sha256};
    let path = root.to_string_lossy();
    let words: Vec<&str> = path
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .collect();
    let mut name = words.join("-");
    // The socket's path must stay under the kernel's 107 bytes: keep the name's last part.
    if name.len() > 40 {
        name = name[name.len() - 40..].trim_start_matches('-').to_string();
    }
    let hash = hex::encode(&Sha256::digest(path.as_bytes())[..4]);
    Path::new(ELSEWHERE).join(format!("{name}-{hash}"))
}

pub(super) fn has_cluster(home: &Path) -> bool {
    home.join("postgres").join("PG_VERSION").exists()
}
