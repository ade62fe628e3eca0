//! The sign-in providers' settings: GitHub's from its flags, each OpenID Connect provider's
//! from `OIDC_<ID>_…` variables, every URL https (http only for localhost).

use gatehouse_app::services::providers::{GithubSettings, OidcSettings, Providers, GITHUB};
use openidconnect::IssuerUrl;
use url::Url;

use super::ConfigError;

#[derive(clap::Args, Clone, Debug)]
pub struct ProviderArgs {
    /// The GitHub OAuth app's client id. Unset: no "Sign in with GitHub".
    #[arg(long, env, global = true)]
    pub github_client_id: Option<String>,

    /// The GitHub OAuth app's client secret.
    #[arg(long, env, global = true, hide_env_values = true)]
    pub github_client_secret: Option<String>,

    /// GitHub's authorization page (change for GitHub Enterprise).
    #[arg(
        long,
        env,
        default_value = "https://github.com/login/oauth/authorize",
        global = true
    )]
    pub github_authorize_url: Url,

    /// GitHub's token endpoint.
    #[arg(
        long,
        env,
        default_value = "https://github.com/login/oauth/access_token",
        global = true
    )]
    pub github_token_url: Url,

    /// GitHub's REST API (`https://HOST/api/v3` on GitHub Enterprise).
    #[arg(long, env, default_value = "https://api.github.com", global = true)]
    pub github_api_url: Url,

    /// OpenID Connect providers' ids, comma-separated (`google,okta`). Each id needs
    /// OIDC_<ID>_ISSUER, OIDC_<ID>_CLIENT_ID and OIDC_<ID>_CLIENT_SECRET, and may have
    /// OIDC_<ID>_NAME, the name on its button, and OIDC_<ID>_TRUST_EMAIL (true: its verified
    /// emails may make and join users).
    #[arg(long, env, default_value = "", global = true)]
    pub oidc_providers: String,
}

impl ProviderArgs {
    /// GitHub (when its client id is set) and each OIDC provider, reading the per-provider
    /// variables through `var` (the environment; tests pass a map).
    pub fn parse(&self, var: impl Fn(&str) -> Option<String>) -> Result<Providers, ConfigError> {
        let github = match (&self.github_client_id, &self.github_client_secret) {
            (None, None) => None,
            (Some(client_id), Some(client_secret)) => Some(GithubSettings {
                authorize_url: safe_url("GITHUB_AUTHORIZE_URL", &self.github_authorize_url)?,
                token_url: safe_url("GITHUB_TOKEN_URL", &self.github_token_url)?,
                api_url: safe_url("GITHUB_API_URL", &self.github_api_url)?,
                client_id: client_id.clone(),
                client_secret: client_secret.clone(),
            }),
            (Some(_), None) => {
                return Err(ConfigError::new(
                    "GITHUB_CLIENT_SECRET",
                    "expected the OAuth app's secret, since GITHUB_CLIENT_ID is set",
                ))
            }
            (None, Some(_)) => {
                return Err(ConfigError::new(
                    "GITHUB_CLIENT_ID",
                    "expected the OAuth app's client id, since GITHUB_CLIENT_SECRET is set",
                ))
            }
        };
        let mut oidc: Vec<OidcSettings> = Vec::new();
        for id in self
            .oidc_providers
            .split(',')
            .map(|id| id.trim().to_lowercase())
            .filter(|id| !id.is_empty())
        {
            let id_ok = id.len() <= 32
                && id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !id_ok || id == GITHUB || id == "credential" || oidc.iter().any(|p| p.id == id) {
                return Err(ConfigError::new(
                    "OIDC_PROVIDERS",
                    format!(
                        "`{id}` is not a usable provider id (letters, digits and -, unique, \
                         not github or credential)"
                    ),
                ));
            }
            let prefix = format!("OIDC_{}_", id.to_uppercase().replace('-', "_"));
            let required = |suffix: &str| {
                let name = format!("{prefix}{suffix}");
                var(&name)
                    .filter(|v| !v.trim().is_empty())
                    .ok_or_else(|| ConfigError::new(name, format!("required for provider `{id}`")))
            };
            let issuer_name = format!("{prefix}ISSUER");
            let issuer = required("ISSUER")?;
            let issuer = Url::parse(&issuer)
                .ok()
                .filter(is_safe_url)
                .and_then(|_| IssuerUrl::new(issuer).ok())
                .ok_or_else(|| {
                    ConfigError::new(
                        issuer_name,
                        "expected an https URL (http only for localhost)",
                    )
                })?;
            let trust_name = format!("{prefix}TRUST_EMAIL");
            let trust_email = match var(&trust_name).map(|v| v.trim().to_lowercase()).as_deref() {
                None | Some("" | "false" | "0" | "no") => false,
                Some("true" | "1" | "yes") => true,
                Some(_) => {
                    return Err(ConfigError::new(
                        trust_name,
                        "expected true or false: true only if the issuer checks every email \
                         address itself (people cannot assert their own)",
                    ))
                }
            };
            oidc.push(OidcSettings {
                trust_email,
                name: var(&format!("{prefix}NAME"))
                    .filter(|n| !n.trim().is_empty())
                    .unwrap_or_else(|| id.clone()),
                issuer,
                client_id: required("CLIENT_ID")?,
                client_secret: required("CLIENT_SECRET")?,
                id,
            });
        }
        Ok(Providers::new(github, oidc))
    }
}

/// Plain http only on this machine: elsewhere anyone on the path could answer for the
/// provider (its signing keys, its tokens, its word on who someone is).
fn is_safe_url(url: &Url) -> bool {
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    url.scheme() == "https" || (url.scheme() == "http" && loopback)
}

fn safe_url(variable: &str, url: &Url) -> Result<Url, ConfigError> {
    if is_safe_url(url) {
        Ok(url.clone())
    } else {
        Err(ConfigError::new(
            variable,
            "expected an https URL (http only for localhost)",
        ))
    }
}
