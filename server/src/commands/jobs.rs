//! `gatehouse jobs link` and `link-csv`.

use std::process::ExitCode;

use anyhow::Context;
use gatehouse_app::services::{jobs, Refusal};

use super::{boot, build_services};
use crate::cli::JobsCommand;
use crate::config::Config;

/// `gatehouse jobs link` and `link-csv`: each line is applied on its own; the exit code is 1
/// if any failed, and each failure is named.
pub async fn link(config: &Config, command: JobsCommand) -> anyhow::Result<ExitCode> {
    let pairs: Vec<(String, String)> = match &command {
        JobsCommand::Link { job_id, email } => vec![(job_id.clone(), email.clone())],
        JobsCommand::LinkCsv { file } => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            let mut pairs = Vec::new();
            for (n, line) in text.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() || (n == 0 && line.to_lowercase().starts_with("job_id")) {
                    continue;
                }
                let Some((job_id, email)) = line.split_once(',') else {
                    anyhow::bail!("{} line {}: expected `job_id,email`", file.display(), n + 1);
                };
                pairs.push((job_id.trim().to_string(), email.trim().to_string()));
            }
            pairs
        }
    };
    let (booted, _) = boot(config).await?;
    let services = build_services(config, &booted.secrets, booted.pool.clone())?;
    let mut failed = 0;
    for (job_id, email) in &pairs {
        let by = gatehouse_app::services::audit::Actor::System("command line");
        match jobs::assign(&services, by, job_id, email, &Default::default()).await {
            Ok(()) => println!("{job_id} -> {}", email.to_lowercase()),
            Err(e) => {
                failed += 1;
                let why = match e {
                    Refusal::NotFound => "no job has that id".to_string(),
                    Refusal::Invalid(fields) => fields
                        .iter()
                        .map(|f| f.message.clone())
                        .collect::<Vec<_>>()
                        .join(" "),
                    other => other.to_string(),
                };
                eprintln!("gatehouse: {job_id}: {why}");
            }
        }
    }
    println!("{} of {} job(s) linked", pairs.len() - failed, pairs.len());
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
