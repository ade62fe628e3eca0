use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::api::auth::SignUp;
use crate::components::form::{error_of, Field, FormCard, FormMessage, NewPasswordField};

#[component]
pub fn SignupPage() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    let error = error_of(action);
    view! {
        <FormCard id="signup" title="Create an account">
            <p>"After you confirm your email address, an administrator lets you in."</p>
            <ActionForm action=action attr:novalidate=true>
                <FormMessage error />
                <Field name="name" label="Name" autocomplete="name" error maxlength=100 />
                <Field name="email" label="Email" kind="email" autocomplete="email" error maxlength=254 />
                <NewPasswordField
                    label="Password"
                    hint="At least 8 characters. A few unrelated words make a strong one."
                    error
                />
                <button class="button" type="submit">"Create account"</button>
            </ActionForm>
            <p class="links">"Already have an account? " <a href="/login">"Sign in"</a></p>
        </FormCard>
    }
}
