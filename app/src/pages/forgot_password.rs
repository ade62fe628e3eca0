use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::api::auth::ForgotPassword;
use crate::components::form::{error_of, Field, FormCard, FormMessage};

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let action = ServerAction::<ForgotPassword>::new();
    let error = error_of(action);
    view! {
        <FormCard id="forgot" title="Forgot your password" heading="Forgot your password?">
            <p>"Give your email address and we will send you a link to choose a new password."</p>
            <ActionForm action=action attr:novalidate=true>
                <FormMessage error />
                <Field name="email" label="Email" kind="email" autocomplete="email" error maxlength=254 />
                <button class="button" type="submit">"Send the link"</button>
            </ActionForm>
            <p class="links"><a href="/login">"Back to sign in"</a></p>
        </FormCard>
    }
}
