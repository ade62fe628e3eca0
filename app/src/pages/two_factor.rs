//! Two-step sign-in's page (`/two-factor`): for someone signing in, the second step (a code
//! after the password or the provider); for someone signed in, setting up or turning off
//! their authenticator app. One page, not two: the router's code grows by more than a page's
//! worth with each route past sixteen (it matches routes through `EitherOf16`).

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::two_factor::{my_two_factor, TwoStep};
use crate::components::form::{
    error_of, passkey_form, Field, FormCard, FormMessage, Loading, Notices,
};
use crate::components::layout::reloads;
use crate::components::whole::loaded;
use crate::components::{boxed, page_data};
use crate::views::{Notice, TwoFactorSetup, TwoFactorView, OLDER_RECOVERY_CODES};

const CODE_HINT: &str = "The 6 digits your authenticator app shows, or a recovery code.";

/// The second step of a sign-in, after the password (or the provider) passed.
#[component]
fn SecondStep() -> impl IntoView {
    let action = ServerAction::<TwoStep>::new();
    let error = error_of(action);
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    view! {
        <FormCard id="second-step" title="Two-step sign-in">
            <p>"Enter the code your authenticator app shows for Gatehouse, or a recovery code."</p>
            <div inner_html=passkey_form("second-step", "Use a passkey", &next()) />
            <ActionForm action=action attr:novalidate=true>
                <FormMessage error />
                <Field name="code" label="Code" autocomplete="one-time-code" hint=CODE_HINT error maxlength=48 />
                <input type="hidden" name="step" value="sign-in" />
                <input type="hidden" name="next" value=next />
                <button class="button" type="submit">"Continue"</button>
            </ActionForm>
            <p class="links"><a href="/login">"Start again"</a></p>
        </FormCard>
    }
}

/// For someone signed in, their authenticator app: start, scan the QR code (or type the
/// secret), save the recovery codes, confirm with a first code; or turn it off. For
/// someone else, the second step of their sign-in.
#[component]
pub fn TwoFactorPage() -> impl IntoView {
    let state = page_data(reloads, |_| boxed(my_two_factor()));
    view! {
        <Title text="Two-step sign-in" />
        <Transition fallback=Loading>
            {move || loaded(async move {
                match state.await {
                    Ok(Some(state)) => view! { <TwoFactor state /> }.into_any(),
                    Ok(None) => view! { <SecondStep /> }.into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn TwoFactor(state: TwoFactorView) -> impl IntoView {
    // One action for the page's forms, each naming its step: one message area, at the top.
    let action = ServerAction::<TwoStep>::new();
    let error = error_of(action);
    let start = move |label: &'static str| {
        view! {
            <ActionForm action>
                <input type="hidden" name="step" value="begin" />
                <button class="button" type="submit">{label}</button>
            </ActionForm>
        }
    };
    let body = match state {
        TwoFactorView { setting_up: None, on: false, .. } => view! {
            <p>"Two-step sign-in is off. With it on, signing in also asks for a code from an authenticator app on your phone, so a stolen password is not enough."</p>
            {start("Set up an authenticator app")}
        }
        .into_any(),
        TwoFactorView { setting_up: Some(TwoFactorSetup { qr_svg, secret, recovery_codes }), .. } => view! {
            <ol class="steps">
                <li>
                    <p>"Scan this QR code with your authenticator app:"</p>
                    <div class="qr" role="img" aria-label="QR code for your authenticator app" inner_html=qr_svg></div>
                    <p>"Or type this key into the app: " <code class="secret">{secret}</code></p>
                </li>
                <li>
                    <p>"Save these recovery codes: each signs you in once without the app. They are shown only until you confirm:"</p>
                    <ul class="recovery-codes" aria-label="Recovery codes">
                        {recovery_codes.into_iter().map(|code| view! { <li><code>{code}</code></li> }).collect_view()}
                    </ul>
                </li>
                <li>
                    <p>"Enter the code the app shows now to turn two-step sign-in on:"</p>
                    <ActionForm action attr:novalidate=true>
                        <input type="hidden" name="step" value="confirm" />
                        <Field name="code" label="Code from the app" autocomplete="one-time-code" error maxlength=48 />
                        <button class="button" type="submit">"Turn on two-step sign-in"</button>
                    </ActionForm>
                </li>
            </ol>
            {start("Start over with a new key")}
        }
        .into_any(),
        TwoFactorView { recovery_codes_left, older_recovery_codes, .. } => view! {
            <p>{format!("Two-step sign-in is on. You have {recovery_codes_left} unused recovery codes. ")}{older_recovery_codes.then_some(OLDER_RECOVERY_CODES)}</p>
            <h2>"Turn it off"</h2>
            <ActionForm action attr:novalidate=true>
                <input type="hidden" name="step" value="off" />
                <Field name="code" label="Code" autocomplete="one-time-code" hint=CODE_HINT error maxlength=48 />
                <button class="button danger" type="submit">"Turn off two-step sign-in"</button>
            </ActionForm>
        }
        .into_any(),
    };
    view! {
        <div class="stack">
            <h1>"Two-step sign-in"</h1>
            <Notices shows=&[Notice::TwoFactorStarted, Notice::TwoFactorOn, Notice::TwoFactorOff] />
            <section class="card">
                <FormMessage error />
                {body}
            </section>
            <p><a href="/profile">"Back to your profile"</a></p>
        </div>
    }
}
