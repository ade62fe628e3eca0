//! `gatehouse admin grant|revoke EMAIL` and `gatehouse admin invite EMAIL [--role] [--tier]`.

use std::process::ExitCode;

use gatehouse_app::services::audit::Origin;
use gatehouse_app::services::invitations::{self, Inviter, Verdict};
use gatehouse_app::services::{admin, Refusal, Services};
use gatehouse_app::views::{Role, Tier};

use super::{boot, build_services};
use crate::cli::AdminCommand;
use crate::config::Config;

pub async fn grant_or_revoke(config: &Config, command: AdminCommand) -> anyhow::Result<ExitCode> {
    let (booted, _) = boot(config).await?;
    let services = build_services(config, &booted.secrets, booted.pool.clone())?;
    let (email, grant) = match &command {
        AdminCommand::Grant { email } => (email, true),
        AdminCommand::Revoke { email } => (email, false),
        AdminCommand::Invite { email, role, tier } => {
            let code = match invite(&services, email, role, tier).await {
                Ok(line) => {
                    println!("{line}");
                    ExitCode::SUCCESS
                }
                Err(message) => {
                    eprintln!("gatehouse: {message}");
                    ExitCode::FAILURE
                }
            };
            // The mail leaves in the background: wait for it before exiting.
            services.background.settle().await;
            return Ok(code);
        }
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

/// Invites `email` as `role` with `tier`: what was done, or why nothing was.
pub async fn invite(
    services: &Services,
    email: &str,
    role: &str,
    tier: &str,
) -> Result<String, String> {
    let role = Role::parse(role.trim())
        .ok_or_else(|| format!("--role must be user or admin, not `{role}`"))?;
    let tier = Tier::parse(tier.trim())
        .ok_or_else(|| format!("--tier must be anonymous, free or member, not `{tier}`"))?;
    let by = Inviter::CommandLine;
    match invitations::invite(services, by, email, role, tier, &Origin::default()).await {
        Ok((email, Verdict::Invited)) => Ok(format!(
            "invited {email} as {role} with the {tier} tier; the link works for {} days",
            invitations::LINK_DAYS
        )),
        Ok((email, verdict)) => Err(invitations::refusal(&email, verdict)
            .map(|refusal| describe(&refusal))
            .unwrap_or_default()),
        Err(refusal) => Err(describe(&refusal)),
    }
}

fn describe(refusal: &Refusal) -> String {
    match refusal {
        Refusal::Invalid(fields) => fields
            .iter()
            .map(|f| f.message.clone())
            .collect::<Vec<_>>()
            .join(" "),
        other => other.to_string(),
    }
}
