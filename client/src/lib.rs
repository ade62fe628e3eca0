//! The client: hydrates the page the server rendered, so forms, navigation and live
//! status run in the browser from then on.

use wasm_bindgen::prelude::wasm_bindgen;

/// Called by the page's start script (`ClientStart`) once the wasm is in.
#[wasm_bindgen]
pub fn hydrate() {
    leptos::mount::hydrate_body(gatehouse_app::App);
    // Says the page is the client's now (the browser tests wait for it).
    if let Some(html) = leptos::prelude::document().document_element() {
        let _ = html.set_attribute("data-hydrated", "");
    }
}
