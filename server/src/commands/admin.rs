//! `gatehouse admin grant|revoke EMAIL`.

use std::process::ExitCode;

use gatehouse_app::services::{admin, Refusal};

use super::{boot, build_services};
use crate::cli::AdminCommand;
use crate::config::Config;

pub async fn grant_or_revoke(config: &Config, command: AdminCommand) -> anyhow::Result<ExitCode> {
    let (booted, _) = boot(config).await?;
    let services = build_services(config, &booted.secrets, booted.pool.clone())?;
    let (email, grant) = match &command {
        AdminCommand::Grant { email } => (email, true),
        AdminCommand::Revoke { email } => (email, false),
    };
    match admin::set_admin_by_email(&services, email, grant).await {
        Ok(()) => {
            let role = if grant { "an admin" } else { "a plain user" };
            println!("{} is now {role}", email.trim().to_lowercase());
            Ok(ExitCode::SUCCESS)
        }
        Err(Refusal::NotFound) => {
            eprintln!("gatehouse: no user has the email {email}; they must sign up first");
            Ok(ExitCode::FAILURE)
        }
        Err(e) => {
            eprintln!("gatehouse: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}
