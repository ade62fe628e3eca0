//! OpenID Connect through the `openidconnect` crate: discovery, PKCE, a nonce, and the full
//! ID token check (signature against the issuer's JWKS, issuer, audience, expiry, nonce).
//! Discovery runs at each step, so a provider's new signing keys are seen at once.

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreClientAuthMethod, CoreProviderMetadata,
};
use openidconnect::{
    AccessTokenHash, AuthType, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, RefreshToken, Scope, TokenResponse,
};
use url::Url;

use super::{Flow, FlowSecrets, Identity, OidcSettings, ProviderError, Tokens};

type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

async fn client(
    http: &reqwest::Client,
    settings: &OidcSettings,
    redirect_uri: Option<&str>,
) -> Result<Client, ProviderError> {
    let metadata = CoreProviderMetadata::discover_async(settings.issuer.clone(), http)
        .await
        .map_err(|e| ProviderError::unavailable(format!("discovery: {e}")))?;
    // The secret goes in HTTP Basic (the default), or in the form when that is all the
    // provider accepts.
    let post_only = metadata
        .token_endpoint_auth_methods_supported()
        .is_some_and(|methods| {
            methods.contains(&CoreClientAuthMethod::ClientSecretPost)
                && !methods.contains(&CoreClientAuthMethod::ClientSecretBasic)
        });
    let mut client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(settings.client_id.clone()),
        Some(ClientSecret::new(settings.client_secret.clone())),
    );
    if post_only {
        client = client.set_auth_type(AuthType::RequestBody);
    }
    Ok(match redirect_uri {
        Some(uri) => client.set_redirect_uri(
            RedirectUrl::new(uri.to_string()).map_err(ProviderError::unavailable)?,
        ),
        None => client,
    })
}

/// `reauthenticate`: a signed-in person proving themselves again (a step-up): the issuer is
/// asked to authenticate them anew (`prompt=login`, `max_age=0`) rather than wave them
/// through on its own session.
pub async fn authorize_url(
    http: &reqwest::Client,
    settings: &OidcSettings,
    redirect_uri: &str,
    reauthenticate: bool,
) -> Result<(Url, FlowSecrets), ProviderError> {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let client = client(http, settings, Some(redirect_uri)).await?;
    let mut request = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge);
    if reauthenticate {
        request = request
            .add_prompt(openidconnect::core::CoreAuthPrompt::Login)
            .set_max_age(std::time::Duration::ZERO);
    }
    let (url, state, nonce) = request.url();
    if url.origin() != settings.issuer.url().origin() {
        tracing::warn!(
            provider = settings.id,
            authorize = %url.origin().ascii_serialization(),
            "this provider's authorization page is not on its issuer's origin; browsers will \
             refuse to go there (Content-Security-Policy form-action lists the issuers)"
        );
    }
    let secrets = FlowSecrets {
        state: state.secret().clone(),
        pkce_verifier: verifier.secret().clone(),
        nonce: Some(nonce.secret().clone()),
    };
    Ok((url, secrets))
}

pub async fn finish(
    http: &reqwest::Client,
    settings: &OidcSettings,
    flow: &Flow,
    code: &str,
    redirect_uri: &str,
) -> Result<(Identity, Tokens), ProviderError> {
    let client = client(http, settings, Some(redirect_uri)).await?;
    let response = client
        .exchange_code(AuthorizationCode::new(code.to_string()))
        .map_err(|e| ProviderError::unavailable(format!("no token endpoint: {e}")))?
        .set_pkce_verifier(PkceCodeVerifier::new(flow.pkce_verifier.clone()))
        .request_async(http)
        .await
        .map_err(|e| ProviderError::unavailable(format!("token exchange: {e}")))?;
    let id_token = response
        .id_token()
        .ok_or_else(|| ProviderError::unavailable("no ID token in the token response"))?;
    let verifier = client.id_token_verifier();
    let nonce = Nonce::new(flow.nonce.clone().unwrap_or_default());
    let claims = id_token
        .claims(&verifier, &nonce)
        .map_err(|e| ProviderError::unavailable(format!("ID token refused: {e}")))?;
    // The access token must be the one the ID token was issued with.
    if let Some(expected) = claims.access_token_hash() {
        let alg = id_token.signing_alg().map_err(ProviderError::unavailable)?;
        let key = id_token
            .signing_key(&verifier)
            .map_err(ProviderError::unavailable)?;
        let actual = AccessTokenHash::from_token(response.access_token(), alg, key)
            .map_err(ProviderError::unavailable)?;
        if actual != *expected {
            return Err(ProviderError::unavailable(
                "the access token does not match the ID token",
            ));
        }
    }
    let email = claims
        .email()
        .map(|e| e.as_str().to_lowercase())
        .ok_or(ProviderError::NoVerifiedEmail)?;
    let name = claims
        .name()
        .and_then(|n| n.get(None))
        .map(|n| n.as_str().to_string())
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| email.split('@').next().unwrap_or_default().to_string());
    let email_verified = claims.email_verified() == Some(true);
    let identity = Identity {
        provider: settings.id.clone(),
        account_id: claims.subject().as_str().to_string(),
        email,
        email_verified,
        email_trusted: email_verified && settings.trust_email,
        name,
        login: None,
    };
    let mut tokens = Tokens::from_response(&response);
    tokens.id_token = Some(id_token.to_string());
    Ok((identity, tokens))
}

pub async fn refresh(
    http: &reqwest::Client,
    settings: &OidcSettings,
    refresh_token: &str,
) -> Result<Tokens, ProviderError> {
    let token = RefreshToken::new(refresh_token.to_string());
    let response = client(http, settings, None)
        .await?
        .exchange_refresh_token(&token)
        .map_err(|e| ProviderError::unavailable(format!("no token endpoint: {e}")))?
        .request_async(http)
        .await
        .map_err(|e| ProviderError::unavailable(format!("refresh: {e}")))?;
    let mut tokens = Tokens::from_response(&response);
    tokens.id_token = response.id_token().map(|t| t.to_string());
    Ok(tokens)
}
