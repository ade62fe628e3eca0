use leptos::prelude::*;
use leptos_meta::Title;

use crate::views::{NOT_FOUND_HTML, NOT_FOUND_TITLE};

/// "Page not found" with status 404, for a page that found nothing to show.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text=NOT_FOUND_TITLE />
        <div class="stack" inner_html=NOT_FOUND_HTML />
    }
}
