use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::auth::{ResendVerification, VerifyEmail};
use crate::components::form::{Field, FormMessage};

/// The page a confirmation link opens. Confirming takes a click (a POST), so mail scanners
/// that open links do not use them up.
#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let verify = ServerAction::<VerifyEmail>::new();
    let resend = ServerAction::<ResendVerification>::new();
    let verify_error = Signal::derive(move || verify.value().get().and_then(Result::err));
    let resend_error = Signal::derive(move || resend.value().get().and_then(Result::err));
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    view! {
        <Title text="Confirm your email" />
        <section class="card" aria-labelledby="verify-title">
            <h1 id="verify-title">"Confirm your email address"</h1>
            <Show
                when=move || verify_error.get().is_none()
                fallback=move || view! {
                    <FormMessage error=verify_error />
                    <h2>"Get a new link"</h2>
                    <ActionForm action=resend attr:novalidate=true>
                        <FormMessage error=resend_error />
                        <Field name="email" label="Email" kind="email" autocomplete="email" error=resend_error maxlength=254 />
                        <button class="button" type="submit">"Send a new link"</button>
                    </ActionForm>
                }
            >
                <ActionForm action=verify>
                    <input type="hidden" name="token" value=token />
                    <button class="button" type="submit">"Confirm my email address"</button>
                </ActionForm>
            </Show>
        </section>
    }
}
