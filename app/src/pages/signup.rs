use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::auth::SignUp;
use crate::components::form::{Field, FormMessage};

#[component]
pub fn SignupPage() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    view! {
        <Title text="Create an account" />
        <section class="card" aria-labelledby="signup-title">
            <h1 id="signup-title">"Create an account"</h1>
            <p>"After you confirm your email address, an administrator lets you in."</p>
            <ActionForm action=action attr:novalidate=true>
                <FormMessage error />
                <Field name="name" label="Name" autocomplete="name" error maxlength=100 />
                <Field name="email" label="Email" kind="email" autocomplete="email" error maxlength=254 />
                <Field
                    name="password"
                    label="Password"
                    kind="password"
                    autocomplete="new-password"
                    hint="At least 8 characters. A few unrelated words make a strong one."
                    error
                    maxlength=256
                />
                <button class="button" type="submit">"Create account"</button>
            </ActionForm>
            <p class="links">"Already have an account? " <a href="/login">"Sign in"</a></p>
        </section>
    }
}
