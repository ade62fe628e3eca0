use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::auth::{ResendVerification, VerifyEmail};
use crate::components::form::{error_of, Field, FormCard, FormMessage};

/// The page a confirmation link opens. Confirming takes the account's password and a click
/// (a POST): mail scanners that open links do not use them up, and only whoever signed up
/// can confirm (see `services::accounts::verify_email`).
#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let verify = ServerAction::<VerifyEmail>::new();
    let resend = ServerAction::<ResendVerification>::new();
    let verify_error = error_of(verify);
    // A bad or expired link (400) offers a new one; a wrong password asks again.
    let link_error = Signal::derive(move || verify_error.get().filter(|e| e.status == 400));
    let resend_error = error_of(resend);
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    view! {
        <FormCard id="verify" title="Confirm your email" heading="Confirm your email address">
            <Show
                when=move || link_error.get().is_none()
                fallback=move || view! {
                    <FormMessage error=link_error />
                    <h2>"Get a new link"</h2>
                    <ActionForm action=resend attr:novalidate=true>
                        <FormMessage error=resend_error />
                        <Field name="email" label="Email" kind="email" autocomplete="email" error=resend_error maxlength=254 />
                        <button class="button" type="submit">"Send a new link"</button>
                    </ActionForm>
                }
            >
                <ActionForm action=verify attr:novalidate=true>
                    <FormMessage error=verify_error />
                    <input type="hidden" name="token" value=token />
                    <Field
                        name="password"
                        label="Password"
                        kind="password"
                        autocomplete="current-password"
                        hint="The one you chose when you signed up."
                        error=verify_error
                        maxlength=256
                    />
                    <button class="button" type="submit">"Confirm my email address"</button>
                </ActionForm>
                <p class="links">
                    "Did not sign up, or forgotten the password? "
                    <a href="/forgot-password">"Reset the password"</a>
                    " to take the account: that confirms the address too."
                </p>
            </Show>
        </FormCard>
    }
}
