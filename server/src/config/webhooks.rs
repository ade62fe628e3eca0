//! Signed webhooks to the processing backend: where to send them and the key they are
//! signed with. Off unless WEBHOOK_URLS is set.

use gatehouse_app::services::webhooks::{self, WebhookSecret};
use url::Url;

use super::ConfigError;

#[derive(clap::Args, Clone, Debug)]
pub struct WebhookArgs {
    /// Where Gatehouse posts its signed events (someone let in, banned, deleted, a job given
    /// to someone, …), comma-separated http:// or https:// addresses. Unset: no webhooks.
    #[arg(long, env, default_value = "", global = true)]
    pub webhook_urls: String,

    /// The key events are signed with, as Standard Webhooks writes it: `whsec_` and the
    /// base64 of 24 to 64 random bytes. Required with WEBHOOK_URLS.
    #[arg(long, env, global = true, hide_env_values = true)]
    pub webhook_secret: Option<String>,
}

/// The webhooks' settings, checked.
#[derive(Clone, Debug)]
pub struct WebhookConfig {
    pub endpoints: Vec<Url>,
    pub secret: WebhookSecret,
}

impl WebhookArgs {
    /// None when WEBHOOK_URLS is empty.
    pub fn parse(&self) -> Result<Option<WebhookConfig>, ConfigError> {
        let endpoints = self
            .webhook_urls
            .split(',')
            .map(str::trim)
            .filter(|url| !url.is_empty())
            .map(webhooks::endpoint)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|why| ConfigError::new("WEBHOOK_URLS", why))?;
        // A secret is checked even without addresses: a typo should not wait for the day
        // the addresses are set.
        let secret = match &self.webhook_secret {
            Some(raw) => Some(
                WebhookSecret::parse(raw).map_err(|why| ConfigError::new("WEBHOOK_SECRET", why))?,
            ),
            None => None,
        };
        if endpoints.is_empty() {
            return Ok(None);
        }
        let secret = secret.ok_or_else(|| {
            ConfigError::new(
                "WEBHOOK_SECRET",
                "required with WEBHOOK_URLS: events are always signed",
            )
        })?;
        Ok(Some(WebhookConfig { endpoints, secret }))
    }
}
