use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::auth::SignIn;
use crate::components::form::{Field, FormMessage, Notice};

#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let notice = Signal::derive(move || match query.read().get("notice").as_deref() {
        Some("verified") => Some("Your email address is confirmed. Sign in to continue."),
        Some("reset") => {
            Some("Your password is changed and every session has ended. Sign in with the new one.")
        }
        _ => None,
    });
    view! {
        <Title text="Sign in" />
        <section class="card" aria-labelledby="login-title">
            <h1 id="login-title">"Sign in"</h1>
            <Notice text=notice />
            <ActionForm action=action attr:novalidate=true>
                <FormMessage error />
                <Field name="email" label="Email" kind="email" autocomplete="email" error maxlength=254 />
                <Field name="password" label="Password" kind="password" autocomplete="current-password" error maxlength=256 />
                <input type="hidden" name="next" value=next />
                <button class="button" type="submit">"Sign in"</button>
            </ActionForm>
            <p class="links">
                <a href="/forgot-password">"Forgot your password?"</a>
                " · "
                <a href="/signup">"Create an account"</a>
            </p>
        </section>
    }
}
