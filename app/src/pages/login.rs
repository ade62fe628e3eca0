use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::auth::{sign_in_providers, SignIn};
use crate::components::form::{error_of, passkey_form, Field, FormCard, FormMessage, Notices};
use crate::components::whole::loaded;
use crate::components::{boxed, page_data};
use crate::views::{Notice, PASSKEY};

#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    let error = error_of(action);
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    view! {
        <FormCard id="login" title="Sign in">
            <Notices shows=&[Notice::Verified, Notice::PasswordReset] />
            <ProviderButtons next=Signal::derive(next) />
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
        </FormCard>
    }
}

/// "Sign in with a passkey" (where passkeys work), "Sign in with GitHub" and one button per
/// OpenID Connect provider: plain forms that post to /auth/<provider>, which sends the
/// browser on to the provider.
#[component]
fn ProviderButtons(next: Signal<String>) -> impl IntoView {
    let choices = page_data(|| (), |_| boxed(sign_in_providers()));
    view! {
        <Suspense fallback=|| ()>
            {move || loaded(async move {
                let mut providers = choices.await.unwrap_or_default();
                let passkeys = providers.first().is_some_and(|p| p.id == PASSKEY);
                if passkeys {
                    providers.remove(0);
                }
                (passkeys || !providers.is_empty()).then(|| view! {
                    <div class="providers">
                        {passkeys.then(|| view! { <div inner_html=passkey_form("sign-in", "Sign in with a passkey", &next.get_untracked()) /> })}
                        {providers.into_iter().map(|p| view! {
                            <form method="post" action=format!("/auth/{}", p.id)>
                                <input type="hidden" name="next" value=move || next.get() />
                                <button class="button secondary wide" type="submit">
                                    {format!("Sign in with {}", p.name)}
                                </button>
                            </form>
                        }).collect_view()}
                        <p class="divider">"or with your email and password"</p>
                    </div>
                })
            })}
        </Suspense>
    }
}
