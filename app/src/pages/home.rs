use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::form::Notice;

#[component]
pub fn HomePage() -> impl IntoView {
    let query = use_query_map();
    let notice = Signal::derive(move || {
        (query.read().get("notice").as_deref() == Some("deleted"))
            .then_some("Your account and everything it owned have been deleted.")
    });
    view! {
        <Title text="Welcome" />
        <Notice text=notice />
        <section class="hero" aria-labelledby="home-title">
            <h1 id="home-title">"Welcome to Gatehouse"</h1>
            <p class="lead">
                "Gatehouse is where artists sign in to the artwork-protection service, "
                "see their artwork jobs, and manage their account."
            </p>
            <p>
                "New here? Sign in and an administrator will let you in. "
                "Until then your account waits on the list."
            </p>
            <p><a class="button" href="/login">"Sign in"</a></p>
        </section>
    }
}
