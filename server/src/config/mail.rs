//! Where Gatehouse's mail goes (SMTP_URL, or the log) and whom it is from.

use super::{ConfigError, PublicUrl};

#[derive(clap::Args, Clone, Debug)]
pub struct MailArgs {
    /// Where mail goes: smtp://user:pass@host:587?tls=required, smtps://…, or smtp://host:25.
    /// Unset: mail is written to the log.
    #[arg(long, env, global = true, hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// The sender of Gatehouse's mail. Default: Gatehouse <no-reply@PUBLIC_URL's host>.
    #[arg(long, env, global = true)]
    pub mail_from: Option<String>,
}

/// The mail settings, checked.
#[derive(Clone, Debug)]
pub struct MailConfig {
    /// `None`: mail is written to the log.
    pub smtp_url: Option<String>,
    pub from: String,
}

impl MailArgs {
    pub fn parse(&self, public_url: &PublicUrl) -> Result<MailConfig, ConfigError> {
        if public_url.is_https() && self.smtp_url.is_none() {
            return Err(ConfigError::new(
                "SMTP_URL",
                "required when PUBLIC_URL is https: confirmation and reset links must be \
                 mailed, not written to a log",
            ));
        }
        let from = self.mail_from.clone().unwrap_or_else(|| {
            let host = public_url.0.host_str().unwrap_or("localhost");
            format!("Gatehouse <no-reply@{host}>")
        });
        Ok(MailConfig {
            smtp_url: self.smtp_url.clone(),
            from,
        })
    }
}
