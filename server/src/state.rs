//! What every request handler shares.

use std::sync::Arc;

use axum::extract::FromRef;
use gatehouse_app::services::Services;
use leptos::config::LeptosOptions;

use crate::config::PublicUrl;
use crate::secrets::Secrets;

#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub public_url: PublicUrl,
    /// Vouches for a form's error carried in a URL; SECRET_KEY's bytes.
    pub form_error_key: Arc<[u8]>,
    /// What server functions use, through Leptos context.
    pub services: Services,
    /// Bearer tokens the processing backend may use on /api/internal.
    pub internal_tokens: Arc<Vec<String>>,
    /// Encrypts the provider flow's cookie; derived from SECRET_KEY.
    pub flow_key: tower_cookies::Key,
    /// Sent on every response; names the providers' sign-in pages.
    pub content_security_policy: http::HeaderValue,
}

impl AppState {
    pub fn new(
        public_url: PublicUrl,
        secrets: Secrets,
        services: Services,
        internal_tokens: Vec<String>,
    ) -> Self {
        let provider_origins = services.providers.form_origins();
        Self {
            content_security_policy: crate::routes::content_security_policy(&provider_origins),
            flow_key: tower_cookies::Key::derive_from(secrets.secret_key.bytes()),
            internal_tokens: Arc::new(internal_tokens),
            leptos_options: LeptosOptions::builder().output_name("gatehouse").build(),
            public_url,
            form_error_key: Arc::from(&secrets.secret_key.bytes()[..]),
            services,
        }
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
