//! GitHub: OAuth 2.0 with PKCE through the `oauth2` crate, then who the person is from the
//! REST API (`/user`, and `/user/emails` for the primary verified address).

use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, Scope, TokenUrl,
};
use serde::Deserialize;
use url::Url;

use super::{Flow, FlowSecrets, GithubSettings, Identity, ProviderError, Tokens, GITHUB};

type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

fn client(settings: &GithubSettings, redirect_uri: Option<&str>) -> Result<Client, ProviderError> {
    let client = BasicClient::new(ClientId::new(settings.client_id.clone()))
        .set_client_secret(ClientSecret::new(settings.client_secret.clone()))
        .set_auth_uri(AuthUrl::from_url(settings.authorize_url.clone()))
        .set_token_uri(TokenUrl::from_url(settings.token_url.clone()));
    Ok(match redirect_uri {
        Some(uri) => client.set_redirect_uri(
            RedirectUrl::new(uri.to_string()).map_err(ProviderError::unavailable)?,
        ),
        None => client,
    })
}

/// `reauthenticate`: a signed-in person proving themselves again (a step-up). GitHub has
/// no way to ask for the password again; it shows its account picker, so the person at
/// least sees and confirms which account answers.
pub fn authorize_url(
    settings: &GithubSettings,
    redirect_uri: &str,
    reauthenticate: bool,
) -> Result<(Url, FlowSecrets), ProviderError> {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let client = client(settings, Some(redirect_uri))?;
    let mut request = client
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("read:user".into()))
        .add_scope(Scope::new("user:email".into()))
        .set_pkce_challenge(challenge);
    if reauthenticate {
        request = request.add_extra_param("prompt", "select_account");
    }
    let (url, state) = request.url();
    let secrets = FlowSecrets {
        state: state.secret().clone(),
        pkce_verifier: verifier.secret().clone(),
        nonce: None,
    };
    Ok((url, secrets))
}

#[derive(Deserialize)]
struct GithubUser {
    id: u64,
    login: String,
    name: Option<String>,
}

#[derive(Deserialize)]
struct GithubEmail {
    email: String,
    primary: bool,
    verified: bool,
}

pub async fn finish(
    http: &reqwest::Client,
    settings: &GithubSettings,
    flow: &Flow,
    code: &str,
    redirect_uri: &str,
) -> Result<(Identity, Tokens), ProviderError> {
    let response = client(settings, Some(redirect_uri))?
        .exchange_code(AuthorizationCode::new(code.to_string()))
        .set_pkce_verifier(PkceCodeVerifier::new(flow.pkce_verifier.clone()))
        .request_async(http)
        .await
        .map_err(|e| ProviderError::unavailable(format!("token exchange: {e}")))?;
    let tokens = Tokens::from_response(&response);
    let user: GithubUser = api(http, settings, "user", &tokens.access_token).await?;
    let emails: Vec<GithubEmail> = api(http, settings, "user/emails", &tokens.access_token).await?;
    let email = emails
        .into_iter()
        .find(|e| e.primary && e.verified)
        .ok_or(ProviderError::NoVerifiedEmail)?;
    let identity = Identity {
        provider: GITHUB.to_string(),
        account_id: user.id.to_string(),
        email: email.email.to_lowercase(),
        email_verified: true,
        email_trusted: true,
        name: user
            .name
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| user.login.clone()),
        login: Some(user.login),
    };
    Ok((identity, tokens))
}

/// GETs `path` under the API's base with the person's token, as JSON.
async fn api<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    settings: &GithubSettings,
    path: &str,
    access_token: &str,
) -> Result<T, ProviderError> {
    let base = settings.api_url.as_str().trim_end_matches('/');
    let response = http
        .get(format!("{base}/{path}"))
        .bearer_auth(access_token)
        .header("Accept", "application/vnd.github+json")
        .header("X-GitHub-Api-Version", "2022-11-28")
        .send()
        .await
        .map_err(|e| ProviderError::unavailable(format!("GET /{path}: {e}")))?;
    if !response.status().is_success() {
        return Err(ProviderError::unavailable(format!(
            "GET /{path}: {}",
            response.status()
        )));
    }
    response
        .json()
        .await
        .map_err(|e| ProviderError::unavailable(format!("GET /{path}: {e}")))
}

/// GitHub Apps with expiring user tokens hand out refresh tokens.
pub async fn refresh(
    http: &reqwest::Client,
    settings: &GithubSettings,
    refresh_token: &str,
) -> Result<Tokens, ProviderError> {
    let token = RefreshToken::new(refresh_token.to_string());
    let response = client(settings, None)?
        .exchange_refresh_token(&token)
        .request_async(http)
        .await
        .map_err(|e| ProviderError::unavailable(format!("refresh: {e}")))?;
    Ok(Tokens::from_response(&response))
}
