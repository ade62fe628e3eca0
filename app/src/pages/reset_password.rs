use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::auth::ResetPassword;
use crate::components::form::{Field, FormMessage};

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let action = ServerAction::<ResetPassword>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    view! {
        <Title text="Choose a new password" />
        <section class="card" aria-labelledby="reset-title">
            <h1 id="reset-title">"Choose a new password"</h1>
            <p>"Every session of your account ends when the password changes."</p>
            <ActionForm action=action attr:novalidate=true>
                <FormMessage error />
                <input type="hidden" name="token" value=token />
                <Field
                    name="password"
                    label="New password"
                    kind="password"
                    autocomplete="new-password"
                    hint="At least 8 characters."
                    error
                    maxlength=256
                />
                <button class="button" type="submit">"Set the new password"</button>
            </ActionForm>
            <p class="links"><a href="/forgot-password">"Ask for a new link"</a></p>
        </section>
    }
}
