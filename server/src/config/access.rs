//! Who is let in, or made an admin, at sign-in: ALLOWLIST and ADMIN_EMAILS.

use gatehouse_app::services::access::AccessRules;

use super::ConfigError;

#[derive(clap::Args, Clone, Debug)]
pub struct AccessArgs {
    /// Who is let in at sign-in without waiting: emails, @domains, github:login, github:id,
    /// separated by commas.
    #[arg(long, env, default_value = "", global = true)]
    pub allowlist: String,

    /// Emails that are made admins (and let in) at sign-in, separated by commas.
    #[arg(long, env, default_value = "", global = true)]
    pub admin_emails: String,
}

impl AccessArgs {
    pub fn parse(&self) -> Result<AccessRules, ConfigError> {
        AccessRules::default()
            .allowing(&self.allowlist)
            .map_err(|problem| ConfigError::new("ALLOWLIST", problem))?
            .with_admins(&self.admin_emails)
            .map_err(|problem| ConfigError::new("ADMIN_EMAILS", problem))
    }
}
