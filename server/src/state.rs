//! What every request handler shares.

use std::sync::Arc;

use axum::extract::FromRef;
use gatehouse_app::db::DbPool;
use leptos::config::LeptosOptions;

use crate::config::PublicUrl;
use crate::secrets::Secrets;

#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub pool: DbPool,
    pub public_url: PublicUrl,
    pub secrets: Arc<Secrets>,
}

impl AppState {
    pub fn new(pool: DbPool, public_url: PublicUrl, secrets: Secrets) -> Self {
        Self {
            leptos_options: LeptosOptions::builder().output_name("gatehouse").build(),
            pool,
            public_url,
            secrets: Arc::new(secrets),
        }
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
