//! A stand-in sign-in provider on 127.0.0.1, speaking the real protocols: GitHub's OAuth
//! endpoints and REST API under `/github`, and an OpenID Connect issuer under `/oidc` with
//! discovery, a JWKS and RS256-signed ID tokens. Codes are single use and bound to the
//! redirect URI and the PKCE challenge, as at a real provider. A test picks who signs in by
//! adding `login_as=<login or subject>` (or `deny=1`) to the authorization URL, and can make
//! the provider fail in each way a real one does.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Form, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use openidconnect::core::{
    CoreIdToken, CoreIdTokenClaims, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
    CoreRsaPrivateSigningKey,
};
use openidconnect::{
    AccessToken, Audience, EmptyAdditionalClaims, EndUserEmail, EndUserName, IssuerUrl,
    JsonWebKeyId, LocalizedClaim, Nonce, PrivateSigningKey, StandardClaims, SubjectIdentifier,
};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub const GITHUB_CLIENT_ID: &str = "gatehouse-test-github";
pub const GITHUB_CLIENT_SECRET: &str = "github-secret-0123456789";
pub const OIDC_CLIENT_ID: &str = "gatehouse-test-oidc";
pub const OIDC_CLIENT_SECRET: &str = "oidc-secret-0123456789";
/// The OIDC provider's id in Gatehouse, and its button's name.
pub const OIDC_ID: &str = "acme";
pub const OIDC_NAME: &str = "Acme ID";

const SIGNING_KEY: &str = include_str!("keys/provider-signing.pem");
/// Another key under the same key id: a token it signs must be refused.
const IMPOSTOR_KEY: &str = include_str!("keys/impostor-signing.pem");

/// A GitHub user: id, login, name, and (email, primary, verified) addresses.
#[derive(Clone, Debug)]
pub struct GithubUser {
    pub id: u64,
    pub login: String,
    pub name: Option<String>,
    pub emails: Vec<(String, bool, bool)>,
}

impl GithubUser {
    /// A user with one primary, verified address.
    pub fn new(id: u64, login: &str, email: &str) -> Self {
        Self {
            id,
            login: login.into(),
            name: Some(format!("{login} at GitHub")),
            emails: vec![(email.into(), true, true)],
        }
    }
}

/// An OpenID Connect user.
#[derive(Clone, Debug)]
pub struct OidcUser {
    pub subject: String,
    pub email: String,
    pub email_verified: bool,
    pub name: String,
}

/// How the provider misbehaves, when a test asks it to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Fault {
    #[default]
    None,
    /// Discovery, the token endpoints and the API answer 503 (the authorization page, which
    /// the person sees at the provider, still works).
    Down,
    /// The token endpoint answers 200 with something that is not a token response.
    Garbage,
    /// ID tokens signed by another key under the same key id.
    BadSignature,
    WrongAudience,
    Expired,
    WrongNonce,
    WrongIssuer,
    /// `at_hash` of another access token than the one sent.
    WrongAccessTokenHash,
}

#[derive(Clone, Debug)]
struct Grant {
    who: String,
    client_id: String,
    redirect_uri: String,
    challenge: String,
    nonce: Option<String>,
}

#[derive(Default)]
struct Inner {
    github: HashMap<String, GithubUser>,
    oidc: HashMap<String, OidcUser>,
    codes: HashMap<String, Grant>,
    /// Access and refresh tokens → who they belong to.
    access: HashMap<String, String>,
    refresh: HashMap<String, String>,
    fault: Fault,
    /// Access tokens' lifetime in seconds; with it, refresh tokens are issued.
    expires_in: Option<i64>,
    counter: u64,
    /// How many token requests (code or refresh) were answered.
    token_requests: u64,
}

#[derive(Clone)]
struct Shared {
    base: String,
    inner: Arc<Mutex<Inner>>,
}

pub struct StandIn {
    pub url: String,
    shared: Shared,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl StandIn {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let shared = Shared {
            base: url.clone(),
            inner: Arc::default(),
        };
        let app = Router::new()
            .route("/github/login/oauth/authorize", get(authorize))
            .route("/github/login/oauth/access_token", post(github_token))
            .route("/github/api/user", get(github_user))
            .route("/github/api/user/emails", get(github_emails))
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/oidc/jwks", get(jwks))
            .route("/oidc/authorize", get(authorize))
            .route("/oidc/token", post(oidc_token))
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            url,
            shared,
            server,
        }
    }

    pub fn github_base(&self) -> String {
        format!("{}/github", self.url)
    }

    /// The issuer has no path, like `https://accounts.google.com`: it must be kept exactly
    /// as it is, without a trailing slash.
    pub fn issuer(&self) -> String {
        self.url.clone()
    }

    pub fn add_github(&self, user: GithubUser) {
        let mut inner = self.shared.inner.lock().unwrap();
        inner.github.insert(user.login.clone(), user);
    }

    pub fn add_oidc(&self, subject: &str, email: &str, email_verified: bool) {
        let mut inner = self.shared.inner.lock().unwrap();
        inner.oidc.insert(
            subject.into(),
            OidcUser {
                subject: subject.into(),
                email: email.into(),
                email_verified,
                name: format!("Person {subject}"),
            },
        );
    }

    pub fn set_fault(&self, fault: Fault) {
        self.shared.inner.lock().unwrap().fault = fault;
    }

    /// Access tokens expire after `seconds` (0: at once), and come with a
    /// refresh token.
    pub fn expire_access_tokens_after(&self, seconds: i64) {
        self.shared.inner.lock().unwrap().expires_in = Some(seconds);
    }

    pub fn token_requests(&self) -> u64 {
        self.shared.inner.lock().unwrap().token_requests
    }

    /// Every access token handed out so far.
    pub fn issued_access_tokens(&self) -> Vec<String> {
        let inner = self.shared.inner.lock().unwrap();
        inner.access.keys().cloned().collect()
    }
}

fn fault(shared: &Shared) -> Fault {
    shared.inner.lock().unwrap().fault
}

fn unavailable() -> Response {
    (StatusCode::SERVICE_UNAVAILABLE, "down for maintenance").into_response()
}

/// The authorization endpoint of both: approves as `login_as`, or denies with `deny=1`.
async fn authorize(
    State(shared): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (Some(redirect_uri), Some(state)) = (q.get("redirect_uri"), q.get("state")) else {
        return (
            StatusCode::BAD_REQUEST,
            "redirect_uri and state are required",
        )
            .into_response();
    };
    let mut target = url::Url::parse(redirect_uri).unwrap();
    if q.contains_key("deny") {
        target
            .query_pairs_mut()
            .append_pair("error", "access_denied")
            .append_pair("state", state);
        return Redirect::to(target.as_str()).into_response();
    }
    let method_ok = q.get("code_challenge_method").map(String::as_str) == Some("S256");
    let (Some(who), Some(challenge), true) =
        (q.get("login_as"), q.get("code_challenge"), method_ok)
    else {
        return (
            StatusCode::BAD_REQUEST,
            "login_as and an S256 code_challenge are required",
        )
            .into_response();
    };
    let mut inner = shared.inner.lock().unwrap();
    inner.counter += 1;
    let code = format!("code-{}-{}", inner.counter, rand::random::<u64>());
    inner.codes.insert(
        code.clone(),
        Grant {
            who: who.clone(),
            client_id: q.get("client_id").cloned().unwrap_or_default(),
            redirect_uri: redirect_uri.clone(),
            challenge: challenge.clone(),
            nonce: q.get("nonce").cloned(),
        },
    );
    target
        .query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", state);
    Redirect::to(target.as_str()).into_response()
}

/// The client's id and secret, from HTTP Basic or the form (`form_only`: Basic is refused).
fn client_credentials(
    headers: &HeaderMap,
    form: &HashMap<String, String>,
    form_only: bool,
) -> (String, String) {
    if form_only {
        if headers.contains_key(header::AUTHORIZATION) {
            return Default::default();
        }
        return (
            form.get("client_id").cloned().unwrap_or_default(),
            form.get("client_secret").cloned().unwrap_or_default(),
        );
    }
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            let (id, secret) = s.split_once(':')?;
            let decode = |v: &str| {
                url::form_urlencoded::parse(format!("v={v}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            };
            Some((decode(id), decode(secret)))
        });
    basic.unwrap_or_else(|| {
        (
            form.get("client_id").cloned().unwrap_or_default(),
            form.get("client_secret").cloned().unwrap_or_default(),
        )
    })
}

fn oauth_error(error: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": error }))).into_response()
}

/// Checks a token request: whom it is for (and the nonce of the grant), or the OAuth error.
fn redeem(
    shared: &Shared,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
    client: (&str, &str),
) -> Result<(String, Option<String>), &'static str> {
    // The OIDC issuer takes the secret in the form only, as its discovery document says.
    let form_only = client.0 == OIDC_CLIENT_ID;
    if client_credentials(headers, form, form_only) != (client.0.to_string(), client.1.to_string())
    {
        return Err("invalid_client");
    }
    let mut inner = shared.inner.lock().unwrap();
    inner.token_requests += 1;
    match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            let code = form.get("code").cloned().unwrap_or_default();
            // Single use: a replayed code finds nothing.
            let grant = inner.codes.remove(&code).ok_or("invalid_grant")?;
            let verifier = form.get("code_verifier").cloned().unwrap_or_default();
            let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
            if grant.client_id != client.0
                || form.get("redirect_uri") != Some(&grant.redirect_uri)
                || challenge != grant.challenge
            {
                return Err("invalid_grant");
            }
            Ok((grant.who, grant.nonce))
        }
        Some("refresh_token") => {
            let token = form.get("refresh_token").cloned().unwrap_or_default();
            let who = inner.refresh.remove(&token).ok_or("invalid_grant")?;
            Ok((who, None))
        }
        _ => Err("unsupported_grant_type"),
    }
}

/// A fresh access token (and a refresh token when tokens expire) for `who`.
fn issue(shared: &Shared, who: &str, scope: &str) -> Value {
    let mut inner = shared.inner.lock().unwrap();
    inner.counter += 1;
    let access = format!("access-{}-{}", inner.counter, rand::random::<u64>());
    inner.access.insert(access.clone(), who.into());
    let mut body = json!({ "access_token": access, "token_type": "bearer", "scope": scope });
    if let Some(seconds) = inner.expires_in {
        let refresh = format!("refresh-{}-{}", inner.counter, rand::random::<u64>());
        inner.refresh.insert(refresh.clone(), who.into());
        body["refresh_token"] = json!(refresh);
        body["expires_in"] = json!(seconds);
    }
    body
}

async fn github_token(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    match fault(&shared) {
        Fault::Down => return unavailable(),
        Fault::Garbage => return (StatusCode::OK, "<html>surprise</html>").into_response(),
        _ => {}
    }
    match redeem(
        &shared,
        &headers,
        &form,
        (GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET),
    ) {
        Ok((who, _)) => Json(issue(&shared, &who, "read:user,user:email")).into_response(),
        Err(error) => oauth_error(error),
    }
}

/// The GitHub user behind the request's bearer token.
fn github_caller(shared: &Shared, headers: &HeaderMap) -> Option<GithubUser> {
    let token = headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")?;
    let inner = shared.inner.lock().unwrap();
    let login = inner.access.get(token)?;
    inner.github.get(login).cloned()
}

async fn github_user(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    if fault(&shared) == Fault::Down {
        return unavailable();
    }
    match github_caller(&shared, &headers) {
        Some(u) => Json(json!({ "id": u.id, "login": u.login, "name": u.name })).into_response(),
        None => (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "message": "Bad credentials" })),
        )
            .into_response(),
    }
}

async fn github_emails(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    match github_caller(&shared, &headers) {
        Some(u) => Json(
            u.emails
                .iter()
                .map(|(email, primary, verified)| {
                    json!({ "email": email, "primary": primary, "verified": verified, "visibility": null })
                })
                .collect::<Vec<_>>(),
        )
        .into_response(),
        None => (StatusCode::UNAUTHORIZED, Json(json!({ "message": "Bad credentials" })))
            .into_response(),
    }
}

fn signing_key(pem: &str) -> CoreRsaPrivateSigningKey {
    CoreRsaPrivateSigningKey::from_pem(pem, Some(JsonWebKeyId::new("key-1".into()))).unwrap()
}

async fn discovery(State(shared): State<Shared>) -> Response {
    if fault(&shared) == Fault::Down {
        return unavailable();
    }
    let base = &shared.base;
    Json(json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/oidc/authorize"),
        "token_endpoint": format!("{base}/oidc/token"),
        "jwks_uri": format!("{base}/oidc/jwks"),
        // Only in the form body: Gatehouse must notice and not use HTTP Basic.
        "token_endpoint_auth_methods_supported": ["client_secret_post"],
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
    }))
    .into_response()
}

async fn jwks() -> Response {
    let set = CoreJsonWebKeySet::new(vec![signing_key(SIGNING_KEY).as_verification_key()]);
    Json(serde_json::to_value(set).unwrap()).into_response()
}

async fn oidc_token(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let fault = fault(&shared);
    match fault {
        Fault::Down => return unavailable(),
        Fault::Garbage => return (StatusCode::OK, "not json at all").into_response(),
        _ => {}
    }
    let (who, nonce) = match redeem(
        &shared,
        &headers,
        &form,
        (OIDC_CLIENT_ID, OIDC_CLIENT_SECRET),
    ) {
        Ok(found) => found,
        Err(error) => return oauth_error(error),
    };
    let Some(user) = shared.inner.lock().unwrap().oidc.get(&who).cloned() else {
        return oauth_error("invalid_grant");
    };
    let mut body = issue(&shared, &who, "openid email profile");
    let access = AccessToken::new(body["access_token"].as_str().unwrap().to_string());
    let now = chrono::Utc::now();
    let expires = if fault == Fault::Expired {
        now - chrono::Duration::minutes(5)
    } else {
        now + chrono::Duration::minutes(5)
    };
    let audience = if fault == Fault::WrongAudience {
        "someone-else"
    } else {
        OIDC_CLIENT_ID
    };
    let nonce = match (fault, nonce) {
        (Fault::WrongNonce, _) => Some("not-the-nonce-sent".to_string()),
        (_, nonce) => nonce,
    };
    let claims = CoreIdTokenClaims::new(
        IssuerUrl::new(if fault == Fault::WrongIssuer {
            format!("{}/elsewhere", shared.base)
        } else {
            shared.base.clone()
        })
        .unwrap(),
        vec![Audience::new(audience.into())],
        expires,
        now,
        StandardClaims::new(SubjectIdentifier::new(user.subject.clone()))
            .set_email(Some(EndUserEmail::new(user.email.clone())))
            .set_email_verified(Some(user.email_verified))
            .set_name(Some(LocalizedClaim::from(EndUserName::new(
                user.name.clone(),
            )))),
        EmptyAdditionalClaims {},
    )
    .set_nonce(nonce.map(Nonce::new));
    let key = if fault == Fault::BadSignature {
        signing_key(IMPOSTOR_KEY)
    } else {
        signing_key(SIGNING_KEY)
    };
    let hashed = if fault == Fault::WrongAccessTokenHash {
        AccessToken::new("another-access-token".into())
    } else {
        access
    };
    let id_token = CoreIdToken::new(
        claims,
        &key,
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        Some(&hashed),
        None,
    )
    .unwrap();
    body["id_token"] = json!(id_token.to_string());
    Json(body).into_response()
}
