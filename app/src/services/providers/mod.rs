//! Sign-in with a provider: GitHub (`github`) and any OpenID Connect issuer (`oidc`) speak
//! OAuth 2.0 with PKCE and state; `linking` turns what they vouch for into a Gatehouse user.
//!
//! A flow: `start` gives the provider's address and a [`Flow`] (kept by the browser in an
//! encrypted cookie, and its state's digest here, so a callback works once); the provider
//! sends the person back with a code; `finish` trades it for tokens and an [`Identity`].

pub mod github;
pub mod linking;
pub mod oidc;

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use url::Url;

/// The provider id of GitHub accounts, as Better Auth names it.
pub const GITHUB: &str = "github";

/// How long a person has at the provider before the flow expires.
pub const FLOW_MINUTES: i64 = 10;

/// GitHub's OAuth app and where its endpoints are (github.com, an Enterprise server, or a
/// stand-in in tests).
#[derive(Clone)]
pub struct GithubSettings {
    pub client_id: String,
    pub client_secret: String,
    pub authorize_url: Url,
    pub token_url: Url,
    /// The REST API's base (`https://api.github.com`).
    pub api_url: Url,
}

/// One OpenID Connect provider.
#[derive(Clone)]
pub struct OidcSettings {
    /// Its id in Gatehouse (the account table's providerId, the path /auth/<id>).
    pub id: String,
    /// What the button says: "Sign in with <name>".
    pub name: String,
    /// Exactly as configured: it must equal the `issuer` in discovery and in ID tokens, and
    /// `https://accounts.google.com` is not `https://accounts.google.com/`.
    pub issuer: openidconnect::IssuerUrl,
    pub client_id: String,
    pub client_secret: String,
    /// OIDC_<ID>_TRUST_EMAIL: whether its `email_verified` may make a user or join one by
    /// email. Off unless the operator knows the issuer checks every address itself (a
    /// self-service realm lets anyone assert any address).
    pub trust_email: bool,
}

/// Every configured provider, and one HTTP client for talking to them.
#[derive(Clone)]
pub struct Providers {
    github: Option<GithubSettings>,
    oidc: Vec<OidcSettings>,
    http: reqwest::Client,
}

/// A configured provider, as a page shows it.
#[derive(Clone, Copy)]
pub enum Provider<'a> {
    Github(&'a GithubSettings),
    Oidc(&'a OidcSettings),
}

impl Provider<'_> {
    pub fn id(&self) -> &str {
        match self {
            Provider::Github(_) => GITHUB,
            Provider::Oidc(s) => &s.id,
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Provider::Github(_) => "GitHub",
            Provider::Oidc(s) => &s.name,
        }
    }
}

/// Names the providers, never their secrets.
impl std::fmt::Debug for Providers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<String> = self.all().iter().map(|p| p.id().to_string()).collect();
        f.debug_struct("Providers").field("ids", &ids).finish()
    }
}

impl Default for Providers {
    fn default() -> Self {
        Self::new(None, Vec::new())
    }
}

impl Providers {
    pub fn new(github: Option<GithubSettings>, oidc: Vec<OidcSettings>) -> Self {
        let http = reqwest::Client::builder()
            // Following a provider's redirects would let it point us anywhere (SSRF).
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .user_agent("Gatehouse")
            .build()
            .expect("the HTTP client builds");
        Self { github, oidc, http }
    }

    /// Every configured provider, GitHub first.
    pub fn all(&self) -> Vec<Provider<'_>> {
        self.github
            .iter()
            .map(Provider::Github)
            .chain(self.oidc.iter().map(Provider::Oidc))
            .collect()
    }

    /// Where the browser is sent to sign in: GitHub's authorization page and each issuer
    /// (OIDC authorization endpoints live on their issuer's origin at every major provider).
    pub fn form_origins(&self) -> Vec<String> {
        let urls = self
            .github
            .iter()
            .map(|g| &g.authorize_url)
            .chain(self.oidc.iter().map(|o| o.issuer.url()));
        let mut origins: Vec<String> = Vec::new();
        for origin in urls.map(|u| u.origin().ascii_serialization()) {
            if !origins.contains(&origin) {
                origins.push(origin);
            }
        }
        origins
    }

    /// Every provider as pages list them.
    pub fn choices(&self) -> Vec<crate::views::ProviderChoice> {
        self.all()
            .into_iter()
            .map(|p| crate::views::ProviderChoice {
                id: p.id().to_string(),
                name: p.name().to_string(),
            })
            .collect()
    }

    pub fn find(&self, id: &str) -> Option<Provider<'_>> {
        self.all().into_iter().find(|p| p.id() == id)
    }

    /// The provider's name, or a neutral word for an id that is not configured.
    pub fn name_of(&self, id: &str) -> String {
        self.find(id)
            .map_or_else(|| "the provider".to_string(), |p| p.name().to_string())
    }

    /// Where to send the person, and the flow to keep until they come back.
    pub async fn start(
        &self,
        provider: Provider<'_>,
        redirect_uri: &str,
        next: &str,
        link_user: Option<&str>,
        reauthenticate: bool,
    ) -> Result<(Url, Flow), ProviderError> {
        let (url, secrets) = match provider {
            Provider::Github(s) => github::authorize_url(s, redirect_uri, reauthenticate)?,
            Provider::Oidc(s) => {
                oidc::authorize_url(&self.http, s, redirect_uri, reauthenticate).await?
            }
        };
        let flow = Flow {
            provider: provider.id().to_string(),
            state: secrets.state,
            pkce_verifier: secrets.pkce_verifier,
            nonce: secrets.nonce,
            next: next.to_string(),
            link_user: link_user.map(str::to_string),
            started_at: Utc::now(),
        };
        Ok((url, flow))
    }

    /// Trades the code for tokens and learns who the person is there.
    pub async fn finish(
        &self,
        provider: Provider<'_>,
        flow: &Flow,
        code: &str,
        redirect_uri: &str,
    ) -> Result<(Identity, Tokens), ProviderError> {
        let (mut identity, tokens) = match provider {
            Provider::Github(s) => github::finish(&self.http, s, flow, code, redirect_uri).await?,
            Provider::Oidc(s) => oidc::finish(&self.http, s, flow, code, redirect_uri).await?,
        };
        // The provider's words meet the same rules as a person's typing.
        identity.email =
            super::policy::email(&identity.email).map_err(|_| ProviderError::NoVerifiedEmail)?;
        let name: String = identity
            .name
            .chars()
            .filter(|c| !c.is_control())
            .take(super::policy::NAME_MAX)
            .collect();
        identity.name = super::policy::name(&name).unwrap_or_else(|_| "Someone".to_string());
        Ok((identity, tokens))
    }

    /// New tokens from a refresh token.
    pub async fn refresh(
        &self,
        provider: Provider<'_>,
        refresh_token: &str,
    ) -> Result<Tokens, ProviderError> {
        match provider {
            Provider::Github(s) => github::refresh(&self.http, s, refresh_token).await,
            Provider::Oidc(s) => oidc::refresh(&self.http, s, refresh_token).await,
        }
    }
}

/// What one flow needs to remember while the person is at the provider.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Flow {
    pub provider: String,
    /// The `state` sent to the provider, which must come back unchanged.
    pub state: String,
    pub pkce_verifier: String,
    /// OpenID Connect only: the ID token must carry it.
    pub nonce: Option<String>,
    /// A local path to land on afterwards.
    pub next: String,
    /// Set when a signed-in user is connecting this provider to their account.
    pub link_user: Option<String>,
    pub started_at: DateTime<Utc>,
}

/// Shows where a flow goes, never its secrets.
impl std::fmt::Debug for Flow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Flow")
            .field("provider", &self.provider)
            .field("next", &self.next)
            .field("link_user", &self.link_user)
            .field("started_at", &self.started_at)
            .finish_non_exhaustive()
    }
}

impl Flow {
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        now - self.started_at > chrono::Duration::minutes(FLOW_MINUTES)
    }
}

/// The random values a flow sends (state, PKCE challenge, nonce) and keeps.
pub struct FlowSecrets {
    pub state: String,
    pub pkce_verifier: String,
    pub nonce: Option<String>,
}

/// Who the person is at the provider, as far as it vouches.
#[derive(Clone, Debug)]
pub struct Identity {
    pub provider: String,
    /// Their id there (GitHub's numeric id, an OIDC `sub`).
    pub account_id: String,
    pub email: String,
    /// Whether the provider says the email is theirs.
    pub email_verified: bool,
    /// Whether Gatehouse takes the provider's word for it: GitHub's verified primary email,
    /// or an OIDC issuer configured with OIDC_<ID>_TRUST_EMAIL. Only such an email makes a
    /// user or joins one.
    pub email_trusted: bool,
    pub name: String,
    /// GitHub only: the login, for `github:login` in ALLOWLIST.
    pub login: Option<String>,
}

/// What the provider's token endpoint gave, in the clear (encrypted before it is stored).
#[derive(Clone, Default)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub id_token: Option<String>,
    pub access_token_expires_at: Option<DateTime<Utc>>,
    pub scope: Option<String>,
}

/// Says which tokens there are, never what they are.
impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("refresh_token", &self.refresh_token.is_some())
            .field("id_token", &self.id_token.is_some())
            .field("access_token_expires_at", &self.access_token_expires_at)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl Tokens {
    fn from_response<T: oauth2::TokenResponse>(response: &T) -> Self {
        Self {
            access_token: response.access_token().secret().clone(),
            refresh_token: response.refresh_token().map(|t| t.secret().clone()),
            id_token: None,
            access_token_expires_at: response
                .expires_in()
                .and_then(|d| chrono::Duration::from_std(d).ok().map(|d| Utc::now() + d)),
            scope: response.scopes().map(|scopes| {
                scopes
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            }),
        }
    }
}

/// Why a provider sign-in did not work; `code()` names it in the failure page's address.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("the person did not allow access")]
    Denied,
    #[error("no sign-in was in progress, or it took over {FLOW_MINUTES} minutes")]
    Expired,
    #[error("the state that came back is not the one sent")]
    StateMismatch,
    #[error("this callback was already used")]
    Replayed,
    #[error("the provider did not answer properly: {0}")]
    Unavailable(String),
    #[error("the provider has no verified, usable email address for this person")]
    NoVerifiedEmail,
}

impl ProviderError {
    pub fn code(&self) -> &'static str {
        match self {
            ProviderError::Denied => "denied",
            ProviderError::Expired => "expired",
            ProviderError::StateMismatch => "state",
            ProviderError::Replayed => "replayed",
            ProviderError::Unavailable(_) => "provider",
            ProviderError::NoVerifiedEmail => "no-verified-email",
        }
    }

    fn unavailable(what: impl std::fmt::Display) -> Self {
        ProviderError::Unavailable(what.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow(started_at: DateTime<Utc>) -> Flow {
        Flow {
            provider: GITHUB.into(),
            state: "state-secret".into(),
            pkce_verifier: "verifier-secret".into(),
            nonce: Some("nonce-secret".into()),
            next: "/artworks".into(),
            link_user: None,
            started_at,
        }
    }

    #[test]
    fn a_flow_lasts_ten_minutes_and_never_shows_its_secrets() {
        let now = Utc::now();
        assert!(!flow(now - chrono::Duration::minutes(9)).is_expired(now));
        assert!(flow(now - chrono::Duration::minutes(11)).is_expired(now));
        let shown = format!("{:?}", flow(now));
        assert!(shown.contains("/artworks"));
        assert!(!shown.contains("secret"), "{shown}");
        let tokens = Tokens {
            access_token: "gho_secret".into(),
            refresh_token: Some("ghr_secret".into()),
            ..Tokens::default()
        };
        assert!(!format!("{tokens:?}").contains("secret"));
    }
}
