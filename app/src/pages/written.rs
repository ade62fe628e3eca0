use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_location;

use crate::api::written::written;
use crate::components::form::Loading;
use crate::components::whole::loaded;
use crate::components::{boxed, page_data};
use crate::views::WrittenPage;

/// Every address no route matches: a page the server writes as HTML (`api::written`: the
/// landing pages of mailed links, "Check your email", a refused provider sign-in), or its
/// "Page not found" with status 404. The client has no code for what these pages show, only
/// for placing it: its module has a size budget.
#[component]
pub fn ServerWritten() -> impl IntoView {
    let location = use_location();
    let address = move || {
        let (path, query) = (location.pathname.get(), location.search.get());
        if query.is_empty() {
            path
        } else {
            format!("{path}?{}", query.trim_start_matches('?'))
        }
    };
    let page = page_data(address, |address| boxed(written(address)));
    view! {
        <Transition fallback=Loading>
            {move || loaded(async move {
                match page.await {
                    Ok(WrittenPage { title, html }) => {
                        view! { <Title text=title /> <div class="stack" inner_html=html /> }.into_any()
                    }
                    Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}
