//! Drives the real axum router in memory: requests in, status, headers and body out. A
//! `Browser` keeps its cookies and posts forms as a browser does (Origin, Referer, a form
//! body), with or without JavaScript.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::Router;
use gatehouse::client::ClientBuild;
use gatehouse::config::{BetterAuthConfig, PublicUrl};
use gatehouse::routes::{self, BetterAuth};
use gatehouse::secrets::{SecretKey, Secrets, TokenKeys};
use gatehouse::state::AppState;
use gatehouse_app::services::access::AccessRules;
use gatehouse_app::services::mail::Mailer;
use gatehouse_app::services::providers::{GithubSettings, OidcSettings, Providers};
use gatehouse_app::services::rate_limit::{
    per_account_quota, per_address_quota, sign_up_quota, Limits,
};
use gatehouse_app::services::webhooks::{Webhooks, Worker};
use gatehouse_app::services::{AuthSettings, Services};
use governor::Quota;
use http_body_util::BodyExt;
use tower::ServiceExt;

use super::mail::MailSink;
use super::provider::{
    StandIn, GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_ID,
    OIDC_NAME,
};
use super::TestDb;

pub const PUBLIC_URL: &str = "http://gatehouse.test";
/// The processing backend's bearer tokens in tests: the current one and one being rotated out.
pub const INTERNAL_TOKEN: &str = "test-internal-token-0123456789abcdef";
pub const BETTER_AUTH_SECRET: &str = "test-better-auth-secret-0123456789abcdef";
pub const OLD_INTERNAL_TOKEN: &str = "old-internal-token-0123456789abcdef";

/// How a [`TestApp`] is configured; each constructor names what differs from the default
/// (the public URL [`PUBLIC_URL`], no access rules, no proxy, no providers).
struct Setup {
    public_url: &'static str,
    access: AccessRules,
    proxy_hops: usize,
    providers: Providers,
    better_auth: Option<BetterAuthConfig>,
    client: Option<ClientBuild>,
    require_admin_mfa: bool,
    /// Webhooks, with a worker delivering them.
    webhooks: Option<Webhooks>,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            public_url: PUBLIC_URL,
            access: AccessRules::default(),
            proxy_hops: 0,
            providers: Providers::default(),
            better_auth: None,
            require_admin_mfa: false,
            client: None,
            webhooks: None,
        }
    }
}

/// The app as browsers see it, on a database of the test's own, mailing to a local sink.
pub struct TestApp {
    pub db: TestDb,
    pub mail: MailSink,
    pub services: Services,
    /// The keys provider tokens are encrypted with.
    pub token_keys: TokenKeys,
    router: Router,
    /// Delivers webhooks, when they are on; stops when the app is dropped.
    pub webhook_worker: Option<Worker>,
}

impl TestApp {
    /// The mail sink once every mail Gatehouse has queued is delivered or has failed, to
    /// check what was not sent.
    pub async fn mail_settled(&self) -> &MailSink {
        self.services.background.settle().await;
        &self.mail
    }

    /// The app on a fresh, migrated database.
    pub async fn new() -> Self {
        Self::on(TestDb::migrated().await).await
    }

    /// The app on the given database.
    pub async fn on(db: TestDb) -> Self {
        Self::assembled(db, Setup::default()).await
    }

    pub async fn with_public_url(db: TestDb, public_url: &'static str) -> Self {
        Self::assembled(
            db,
            Setup {
                public_url,
                ..Setup::default()
            },
        )
        .await
    }

    /// The app with GitHub and one OpenID Connect provider, both at the stand-in.
    pub async fn with_providers(provider: &StandIn) -> Self {
        Self::with_providers_and_access(provider, "").await
    }

    /// The same, with ALLOWLIST.
    pub async fn with_providers_and_access(provider: &StandIn, allowlist: &str) -> Self {
        let setup = Setup {
            access: AccessRules::parse(allowlist, "").unwrap(),
            providers: stand_in_providers(provider),
            ..Setup::default()
        };
        Self::assembled(TestDb::migrated().await, setup).await
    }

    /// The providers at the stand-in, and Better Auth's API as [`Self::with_better_auth`].
    pub async fn with_providers_and_better_auth(
        provider: &StandIn,
        trusted_origins: &[&str],
    ) -> Self {
        let setup = Setup {
            providers: stand_in_providers(provider),
            better_auth: Some(better_auth_config(trusted_origins)),
            ..Setup::default()
        };
        Self::assembled(TestDb::migrated().await, setup).await
    }

    /// The app with these OpenID Connect issuers (and no GitHub), and ADMIN_EMAILS.
    pub async fn with_issuers(issuers: Vec<OidcSettings>, admin_emails: &str) -> Self {
        let setup = Setup {
            access: AccessRules::parse("", admin_emails).unwrap(),
            providers: Providers::new(None, issuers),
            ..Setup::default()
        };
        Self::assembled(TestDb::migrated().await, setup).await
    }

    /// The app behind one load balancer that appends to X-Forwarded-For.
    pub async fn behind_a_proxy() -> Self {
        let setup = Setup {
            proxy_hops: 1,
            ..Setup::default()
        };
        Self::assembled(TestDb::migrated().await, setup).await
    }

    /// Another instance on the same database, as a second Gatehouse behind the same load
    /// balancer: its own pool, rate-limiter memory, hashing threads and mail sink.
    pub async fn another_instance(&self) -> Self {
        let db = TestDb {
            url: self.db.url.clone(),
            pool: gatehouse_app::db::pool::build(&self.db.url, &Default::default()),
        };
        let setup = Setup {
            // The same webhooks, with a worker of its own.
            webhooks: self.services.webhooks.as_deref().cloned(),
            ..Setup::default()
        };
        Self::assembled(db, setup).await
    }

    /// With ALLOWLIST, ADMIN_EMAILS and `webhooks`, and a worker delivering them.
    pub async fn with_webhooks(allowlist: &str, admin_emails: &str, webhooks: Webhooks) -> Self {
        let setup = Setup {
            access: AccessRules::parse(allowlist, admin_emails).unwrap(),
            webhooks: Some(webhooks),
            ..Setup::default()
        };
        Self::assembled(TestDb::migrated().await, setup).await
    }

    /// The app with ALLOWLIST and ADMIN_EMAILS.
    pub async fn with_access(allowlist: &str, admin_emails: &str) -> Self {
        let setup = Setup {
            access: AccessRules::parse(allowlist, admin_emails).unwrap(),
            ..Setup::default()
        };
        Self::assembled(TestDb::migrated().await, setup).await
    }

    /// With ADMIN_EMAILS and REQUIRE_ADMIN_MFA=true (the default over https).
    pub async fn requiring_admin_mfa(admin_emails: &str) -> Self {
        let setup = Setup {
            access: AccessRules::parse("", admin_emails).unwrap(),
            require_admin_mfa: true,
            ..Setup::default()
        };
        Self::assembled(TestDb::migrated().await, setup).await
    }

    /// With Better Auth's API on, its cookie signed with [`BETTER_AUTH_SECRET`], and
    /// `trusted_origins` beside the public URL's.
    pub async fn with_better_auth(trusted_origins: &[&str]) -> Self {
        let setup = Setup {
            better_auth: Some(better_auth_config(trusted_origins)),
            ..Setup::default()
        };
        Self::assembled(TestDb::migrated().await, setup).await
    }

    /// Better Auth's API with JWT_AUDIENCES `audiences`, ADMIN_EMAILS and REQUIRE_ADMIN_MFA on.
    pub async fn with_jwt_audiences(admin_emails: &str, audiences: &[&str]) -> Self {
        let mut better_auth = better_auth_config(&[]);
        better_auth.jwt_audiences = audiences.iter().map(|a| a.to_string()).collect();
        let setup = Setup {
            access: AccessRules::parse("", admin_emails).unwrap(),
            require_admin_mfa: true,
            better_auth: Some(better_auth),
            ..Setup::default()
        };
        Self::assembled(TestDb::migrated().await, setup).await
    }

    /// Serving the wasm client `client`: pages hydrate.
    pub async fn with_client(client: ClientBuild) -> Self {
        let setup = Setup {
            client: Some(client),
            ..Setup::default()
        };
        Self::assembled(TestDb::migrated().await, setup).await
    }

    async fn assembled(db: TestDb, setup: Setup) -> Self {
        let Setup {
            public_url,
            access,
            proxy_hops,
            providers,
            better_auth,
            client,
            require_admin_mfa,
            webhooks,
        } = setup;
        let mail = MailSink::start().await;
        let public_url: PublicUrl = public_url.parse().expect("a valid public URL");
        let settings = AuthSettings {
            trusted_proxy_hops: proxy_hops,
            require_admin_mfa,
            ..AuthSettings::new(url::Url::parse(public_url.as_str()).unwrap())
        };
        let token_keys = TokenKeys::generate();
        let mailer = Mailer::new(Some(&mail.url), "Gatehouse <no-reply@gatehouse.test>").unwrap();
        let services = Services::new(db.pool.clone(), settings, mailer, token_keys.cipher())
            .with_password_hashing(2)
            .with_limits(test_limits())
            .with_access(access)
            .with_providers(providers);
        let services = match webhooks {
            Some(webhooks) => services.with_webhooks(webhooks),
            None => services,
        };
        let webhook_worker = Worker::start(&services);
        let secrets = Secrets {
            secret_key: SecretKey::generate(),
            token_keys: token_keys.clone(),
        };
        let tokens = vec![INTERNAL_TOKEN.to_string(), OLD_INTERNAL_TOKEN.to_string()];
        let api = better_auth.map(|api| BetterAuth::new(&api, &public_url, &secrets.secret_key));
        let mut state = AppState::new(public_url, secrets, services.clone(), tokens);
        if let Some(api) = api {
            state = state.with_better_auth(api);
        }
        if let Some(client) = client {
            state = state.with_client(client);
        }
        let router = routes::router(state);
        Self {
            db,
            mail,
            services,
            token_keys,
            router,
            webhook_worker,
        }
    }

    /// A browser with JavaScript off: forms post and follow redirects.
    pub fn browser(&self) -> Browser<'_> {
        self.browser_at("127.0.0.1")
    }

    /// A browser connecting from `ip`.
    pub fn browser_at(&self, ip: &str) -> Browser<'_> {
        Browser {
            app: self,
            cookies: BTreeMap::new(),
            address: format!("{ip}:50000").parse().unwrap(),
            user_agent: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
                .into(),
        }
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.request(Request::get(path).body(Body::empty()).unwrap())
            .await
    }

    /// The router itself, to send requests from tasks of their own.
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    pub async fn request(&self, mut request: Request<Body>) -> TestResponse {
        if request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .is_none()
        {
            request.extensions_mut().insert(ConnectInfo::<SocketAddr>(
                "127.0.0.1:50000".parse().unwrap(),
            ));
        }
        // A hang shows as a failure naming the request, not as a stalled run.
        let what = format!("{} {}", request.method(), request.uri());
        let response = tokio::time::timeout(
            std::time::Duration::from_secs(20),
            self.router.clone().oneshot(request),
        )
        .await
        .unwrap_or_else(|_| panic!("no answer to {what} within 20 s"))
        .expect("the router always answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("a readable body")
            .to_bytes();
        TestResponse {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }
}

/// What came back.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl TestResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// Where a redirect points.
    pub fn location(&self) -> &str {
        self.header("location")
            .unwrap_or_else(|| panic!("no redirect ({}): {}", self.status, self.body))
    }
}

/// A browser: its cookie jar, its address and its user agent.
pub struct Browser<'a> {
    app: &'a TestApp,
    cookies: BTreeMap<String, String>,
    address: SocketAddr,
    pub user_agent: String,
}

impl Browser<'_> {
    fn prepare(&self, mut request: Request<Body>) -> Request<Body> {
        let headers = request.headers_mut();
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            headers.insert(header::COOKIE, jar.join("; ").parse().unwrap());
        }
        headers.insert(header::USER_AGENT, self.user_agent.parse().unwrap());
        request.extensions_mut().insert(ConnectInfo(self.address));
        request
    }

    async fn send(&mut self, request: Request<Body>) -> TestResponse {
        let response = self.app.request(self.prepare(request)).await;
        for set in response.headers.get_all(header::SET_COOKIE) {
            let set = set.to_str().unwrap();
            let (pair, attributes) = set.split_once(';').unwrap_or((set, ""));
            let (name, value) = pair.split_once('=').unwrap();
            let expired = attributes.to_ascii_lowercase().contains("max-age=0") || value.is_empty();
            if expired {
                self.cookies.remove(name.trim());
            } else {
                self.cookies
                    .insert(name.trim().to_string(), value.trim().to_string());
            }
        }
        response
    }

    /// The value of a cookie the browser holds.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(String::as_str)
    }

    pub fn set_cookie(&mut self, name: &str, value: &str) {
        self.cookies.insert(name.into(), value.into());
    }

    pub async fn get(&mut self, path: &str) -> TestResponse {
        self.send(Request::get(path).body(Body::empty()).unwrap())
            .await
    }

    /// Posts a form from `page` as a browser without JavaScript does, and follows the
    /// redirect; returns the redirect and the page it led to.
    pub async fn submit(
        &mut self,
        page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> (TestResponse, TestResponse) {
        let posted = self
            .post_from(page, action, fields, "text/html,application/xhtml+xml")
            .await;
        assert!(
            posted.status.is_redirection(),
            "a form post is answered with a redirect, got {}: {}",
            posted.status,
            posted.body
        );
        let target = posted.location().trim_start_matches(PUBLIC_URL).to_string();
        let page = self.get(&target).await;
        (posted, page)
    }

    /// Calls a server function as a script would (no `text/html` in Accept): the answer
    /// carries the status and the error.
    pub async fn call(&mut self, action: &str, fields: &[(&str, &str)]) -> TestResponse {
        self.post_from("/", action, fields, "application/json")
            .await
    }

    async fn post_from(
        &mut self,
        page: &str,
        action: &str,
        fields: &[(&str, &str)],
        accept: &str,
    ) -> TestResponse {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let request = Request::post(action)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, accept)
            .header(header::ORIGIN, PUBLIC_URL)
            .header(header::REFERER, format!("{PUBLIC_URL}{page}"))
            .body(Body::from(body))
            .unwrap();
        self.send(request).await
    }

    /// Presses a "Sign in with …" (or "Connect") button: posts its form to
    /// `/auth/<provider>` and returns the provider's authorization URL it redirects to.
    pub async fn start_provider(&mut self, provider: &str, fields: &[(&str, &str)]) -> String {
        let started = self
            .post_from("/login", &format!("/auth/{provider}"), fields, "text/html")
            .await;
        assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
        started.location().to_string()
    }

    /// Signs in or connects through the stand-in provider as `login_as`; returns the
    /// callback's answer (a redirect to where the person lands).
    pub async fn through_provider(
        &mut self,
        provider: &str,
        fields: &[(&str, &str)],
        login_as: &str,
    ) -> TestResponse {
        let authorize = self.start_provider(provider, fields).await;
        let callback = provider_answer(&format!("{authorize}&login_as={login_as}")).await;
        self.get(&callback).await
    }

    /// Sends a request as built, with this browser's cookies and address.
    pub async fn raw(&mut self, request: Request<Body>) -> TestResponse {
        self.send(request).await
    }

    /// Opens a stream of server-sent events at `path` (with `Last-Event-ID` if given): the
    /// events as they come, or the refusal when it is not 200.
    pub async fn events(
        &mut self,
        path: &str,
        last_event_id: Option<&str>,
    ) -> Result<EventStream, TestResponse> {
        let mut request = Request::get(path).header(header::ACCEPT, "text/event-stream");
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let request = self.prepare(request.body(Body::empty()).unwrap());
        let response = self
            .app
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router always answers");
        if response.status() != StatusCode::OK {
            let status = response.status();
            let headers = response.headers().clone();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            return Err(TestResponse {
                status,
                headers,
                body: String::from_utf8_lossy(&bytes).into_owned(),
            });
        }
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "text/event-stream",
            "a stream of events"
        );
        Ok(EventStream {
            body: response.into_body(),
            buffer: String::new(),
        })
    }
}

/// An open stream of server-sent events.
pub struct EventStream {
    body: Body,
    buffer: String,
}

/// One server-sent event: its id, name and data.
#[derive(Debug, Clone)]
pub struct SentEvent {
    pub id: Option<String>,
    pub name: String,
    pub data: String,
}

impl SentEvent {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.data).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.data))
    }
}

/// What a stream did within the time given.
#[derive(Debug)]
pub enum Heard {
    Event(SentEvent),
    /// The server ended the stream.
    Ended,
    /// Nothing came.
    Nothing,
}

impl EventStream {
    /// The next event with a name (comments and a bare `retry:` are skipped), the end of
    /// the stream, or nothing within `within`.
    pub async fn next(&mut self, within: std::time::Duration) -> Heard {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut id, mut name, mut data) = (None, None, Vec::new());
                for line in block.lines() {
                    match line.split_once(':') {
                        Some(("id", value)) => id = Some(value.trim().to_string()),
                        Some(("event", value)) => name = Some(value.trim().to_string()),
                        Some(("data", value)) => {
                            data.push(value.strip_prefix(' ').unwrap_or(value))
                        }
                        _ => {}
                    }
                }
                if let Some(name) = name {
                    let data = data.join("\n");
                    return Heard::Event(SentEvent { id, name, data });
                }
            }
            match tokio::time::timeout_at(deadline, self.body.frame()).await {
                Err(_) => return Heard::Nothing,
                Ok(None) => return Heard::Ended,
                Ok(Some(frame)) => {
                    let frame = frame.expect("a readable stream");
                    if let Ok(bytes) = frame.into_data() {
                        self.buffer.push_str(&String::from_utf8_lossy(&bytes));
                    }
                }
            }
        }
    }

    /// The next event, which must come within five seconds.
    pub async fn event(&mut self) -> SentEvent {
        match self.next(std::time::Duration::from_secs(5)).await {
            Heard::Event(event) => event,
            other => panic!("expected an event within 5 s, got {other:?}"),
        }
    }
}

/// GitHub and one OpenID Connect provider, both at the stand-in.
fn stand_in_providers(provider: &StandIn) -> Providers {
    let github = GithubSettings {
        client_id: GITHUB_CLIENT_ID.into(),
        client_secret: GITHUB_CLIENT_SECRET.into(),
        authorize_url: format!("{}/login/oauth/authorize", provider.github_base())
            .parse()
            .unwrap(),
        token_url: format!("{}/login/oauth/access_token", provider.github_base())
            .parse()
            .unwrap(),
        api_url: format!("{}/api", provider.github_base()).parse().unwrap(),
    };
    Providers::new(
        Some(github),
        vec![oidc_at(provider, OIDC_ID, OIDC_NAME, true)],
    )
}

fn better_auth_config(trusted_origins: &[&str]) -> BetterAuthConfig {
    BetterAuthConfig {
        secret: Some(BETTER_AUTH_SECRET.into()),
        trusted_origins: trusted_origins.iter().map(|o| o.to_string()).collect(),
        jwt_audiences: Vec::new(),
    }
}

/// What the provider's authorization page answers (it approves or denies at once): the
/// callback path on Gatehouse it redirects to.
pub async fn provider_answer(authorize_url: &str) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let answer = client.get(authorize_url).send().await.unwrap();
    assert!(
        answer.status().is_redirection(),
        "the provider approves at once, got {}",
        answer.status()
    );
    let location = answer.headers()[header::LOCATION].to_str().unwrap();
    location
        .strip_prefix(PUBLIC_URL)
        .unwrap_or_else(|| panic!("the provider sends the person back to Gatehouse: {location}"))
        .to_string()
}

/// Gatehouse's limits, with the per-address quota's burst as in production but refilled only
/// once an hour instead of every 2 s: on a busy machine thirty argon2 checks can take longer
/// than 2 s, and a slot coming back mid-test would let the attempt the test expects refused.
fn test_limits() -> Limits {
    let burst = per_address_quota().burst_size();
    let per_address = Quota::with_period(std::time::Duration::from_secs(3600))
        .expect("a positive period")
        .allow_burst(burst);
    Limits::new(per_account_quota(), per_address, sign_up_quota())
}

/// An OpenID Connect issuer at the stand-in, as Gatehouse is configured for it.
pub fn oidc_at(provider: &StandIn, id: &str, name: &str, trust_email: bool) -> OidcSettings {
    OidcSettings {
        id: id.into(),
        name: name.into(),
        issuer: openidconnect::IssuerUrl::new(provider.issuer()).unwrap(),
        client_id: OIDC_CLIENT_ID.into(),
        client_secret: OIDC_CLIENT_SECRET.into(),
        trust_email,
    }
}
