//! The command line: `gatehouse` serves; `gatehouse migrate` and `gatehouse db check` look
//! after the database.

use clap::{Parser, Subcommand};

use crate::config::Settings;

#[derive(Parser, Debug)]
#[command(
    name = "gatehouse",
    version,
    about = "Gatehouse: sign-in, accounts and artwork ownership for the artwork-protection service"
)]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Serve Gatehouse (what `gatehouse` alone does).
    Serve,
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Look after the database.
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
    /// Make someone an admin, or not.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Look after the keys of provider tokens.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Give artwork jobs to their owners.
    Jobs {
        #[command(subcommand)]
        command: JobsCommand,
    },
}

#[derive(Subcommand, Debug, Clone, PartialEq, Eq)]
pub enum JobsCommand {
    /// Give the job with this job id to the user with this email.
    Link { job_id: String, email: String },
    /// The same for every `job_id,email` line of a CSV file (a header line is skipped).
    LinkCsv { file: std::path::PathBuf },
}

#[derive(Subcommand, Debug, Clone, PartialEq, Eq)]
pub enum AdminCommand {
    /// Make the user with this email an admin (and let them in).
    Grant { email: String },
    /// Make the admin with this email a plain user again (never the last admin).
    Revoke { email: String },
    /// Invite this email address: a mail with a link (single use, 7 days) to sign up
    /// already let in, with this role and tier.
    Invite {
        email: String,
        /// user or admin.
        #[arg(long, default_value = "user")]
        role: String,
        /// anonymous, free or member.
        #[arg(long, default_value = "free")]
        tier: String,
    },
}

#[derive(Subcommand, Debug, Clone, PartialEq, Eq)]
pub enum DbCommand {
    /// Connect, run the verification queries and print a report (exit code 1 on a failure).
    Check,
    /// Print what start-up would change (tables created or renamed, columns added or
    /// converted, constraints, indexes, rows); change nothing. Exit code 1, with the reason,
    /// when start-up would refuse to adopt the database.
    Plan,
    /// Write the whole database to FILE (pg_dump's custom format); works while Gatehouse
    /// serves, also from its private PostgreSQL.
    Backup { file: std::path::PathBuf },
    /// Grant ROLE exactly what serving needs (rows of Gatehouse's tables, the audit log
    /// only to add to and read), as the schema owner; prints the SQL it ran.
    GrantAppRole { role: String },
    /// Load a backup into an empty database (DATABASE_URL, or a new private one), then
    /// bring it up to date and check it.
    Restore { file: std::path::PathBuf },
}

#[derive(Subcommand, Debug, Clone, PartialEq, Eq)]
pub enum KeysCommand {
    /// Re-encrypt every stored provider token under the first key of TOKEN_ENCRYPTION_KEYS
    /// (and encrypt clear-text tokens an adopted Better Auth database holds). Older keys keep
    /// decrypting until this has run; then they can be removed.
    Rotate,
    /// Make a new key for the JWTs of `GET /api/auth/token` (BETTER_AUTH_COMPAT) and retire
    /// the others; they stay published at /api/auth/jwks until their last token expires.
    RotateJwt,
}
