use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use gatehouse::cli::Cli;
use tracing_subscriber::EnvFilter;

/// mimalloc, not glibc's malloc: a page allocates thousands of small blocks, and glibc's
/// free and consolidation were a fifth of the instructions a request took (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    // A .env file is optional; a broken one is worth saying.
    if let Err(e) = dotenvy::dotenv() {
        if !e.not_found() {
            eprintln!("gatehouse: cannot read .env: {e}");
            return ExitCode::FAILURE;
        }
    }
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        // Logs go to stderr; stdout is for what a command reports. Colours only for a
        // terminal: a log file or journal gets plain text (and no escape codes to format).
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    match gatehouse::run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("gatehouse: {e:#}");
            ExitCode::FAILURE
        }
    }
}
