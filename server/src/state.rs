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

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
