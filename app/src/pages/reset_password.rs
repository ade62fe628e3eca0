use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::auth::ResetPassword;
use crate::components::form::{error_of, FormCard, FormMessage, NewPasswordField};

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let action = ServerAction::<ResetPassword>::new();
    let error = error_of(action);
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    view! {
        <FormCard id="reset" title="Choose a new password">
            <p>"Every session of your account ends when the password changes."</p>
            <ActionForm action=action attr:novalidate=true>
                <FormMessage error />
                <input type="hidden" name="token" value=token />
                <NewPasswordField label="New password" hint="At least 8 characters." error />
                <button class="button" type="submit">"Set the new password"</button>
            </ActionForm>
            <p class="links"><a href="/forgot-password">"Ask for a new link"</a></p>
        </FormCard>
    }
}
