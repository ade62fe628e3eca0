//! What every request handler shares.

use std::sync::Arc;

use axum::extract::FromRef;
use gatehouse_app::services::Services;
use leptos::config::LeptosOptions;

use crate::client::ClientBuild;
use crate::config::PublicUrl;
use crate::csp::ContentSecurityPolicy;
use crate::secrets::Secrets;

/// Shared by every handler and layer; cloning it (axum does, for each of them, on every
/// request) copies one pointer.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// What [`AppState`] holds; read through it (`state.services`).
pub struct Shared {
    pub leptos_options: LeptosOptions,
    pub public_url: PublicUrl,
    /// The public URL's origin, as browsers send it in `Origin` (made once).
    pub public_origin: Arc<str>,
    /// What server functions use, through Leptos context.
    pub services: Services,
    /// Bearer tokens the processing backend may use on /api/internal.
    pub internal_tokens: Arc<Vec<String>>,
    /// Encrypts the provider flow's cookie; derived from SECRET_KEY.
    pub flow_key: tower_cookies::Key,
    /// Sent on every response (a page's with its nonce).
    pub content_security_policy: ContentSecurityPolicy,
    /// The pages everyone not signed in sees alike, once rendered.
    pub page_cache: crate::routes::PageCache,
    /// Better Auth's API under /api/auth, when BETTER_AUTH_COMPAT is on.
    pub better_auth: Option<crate::routes::BetterAuth>,
    /// The wasm client, when there is a build: pages then hydrate.
    pub client: Option<ClientBuild>,
}

impl AppState {
    pub fn new(
        public_url: PublicUrl,
        secrets: Secrets,
        services: Services,
        internal_tokens: Vec<String>,
    ) -> Self {
        let provider_origins = services.providers.form_origins();
        Self(Arc::new(Shared {
            content_security_policy: ContentSecurityPolicy::new(&provider_origins, false),
            page_cache: Default::default(),
            better_auth: None,
            client: None,
            flow_key: tower_cookies::Key::derive_from(secrets.secret_key.bytes()),
            internal_tokens: Arc::new(internal_tokens),
            leptos_options: LeptosOptions::builder().output_name("gatehouse").build(),
            public_origin: Arc::from(public_url.origin()),
            public_url,
            services,
        }))
    }
}

impl AppState {
    /// Serves the wasm client and lets pages hydrate; called before the state is shared.
    pub fn with_client(mut self, client: ClientBuild) -> Self {
        let provider_origins = self.services.providers.form_origins();
        let shared = Arc::get_mut(&mut self.0).expect("set before the router shares the state");
        shared.content_security_policy = ContentSecurityPolicy::new(&provider_origins, true);
        shared.client = Some(client);
        self
    }

    /// Answers Better Auth's API too; called before the state is shared.
    pub fn with_better_auth(mut self, better_auth: crate::routes::BetterAuth) -> Self {
        Arc::get_mut(&mut self.0)
            .expect("set before the router shares the state")
            .better_auth = Some(better_auth);
        self
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
