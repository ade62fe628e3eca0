use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::auth::ForgotPassword;
use crate::components::form::{Field, FormMessage};

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let action = ServerAction::<ForgotPassword>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    view! {
        <Title text="Forgot your password" />
        <section class="card" aria-labelledby="forgot-title">
            <h1 id="forgot-title">"Forgot your password?"</h1>
            <p>"Give your email address and we will send you a link to choose a new password."</p>
            <ActionForm action=action attr:novalidate=true>
                <FormMessage error />
                <Field name="email" label="Email" kind="email" autocomplete="email" error maxlength=254 />
                <button class="button" type="submit">"Send the link"</button>
            </ActionForm>
            <p class="links"><a href="/login">"Back to sign in"</a></p>
        </section>
    }
}
