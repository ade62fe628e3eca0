//! Two-step sign-in: the second step of a sign-in (`/two-factor`), and the page where a
//! person sets up or turns off their authenticator app (`/profile/two-factor`).

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

use crate::api::auth::SecondStep;
use crate::api::profile::{
    my_two_factor, BeginTwoFactor, ConfirmTwoFactor, DisableTwoFactor, TWO_FACTOR_PAGE,
};
use crate::components::boxed;
use crate::components::form::{error_of, Field, FormCard, FormMessage, Loading, Notices};
use crate::components::layout::reloads;
use crate::components::whole::loaded;
use crate::views::{Notice, TwoFactorView};

const CODE_HINT: &str = "The 6 digits your authenticator app shows, or a recovery code.";

/// The second step of a sign-in, after the password (or the provider) passed.
#[component]
pub fn SecondStepPage() -> impl IntoView {
    let action = ServerAction::<SecondStep>::new();
    let error = error_of(action);
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    view! {
        <FormCard id="second-step" title="Two-step sign-in">
            <p>"Open your authenticator app and enter the code it shows for Gatehouse. Lost your device? Enter one of your recovery codes."</p>
            <ActionForm action=action attr:novalidate=true>
                <FormMessage error />
                <Field name="code" label="Code" autocomplete="one-time-code" hint=CODE_HINT error maxlength=20 />
                <input type="hidden" name="next" value=next />
                <button class="button" type="submit">"Continue"</button>
            </ActionForm>
            <p class="links"><a href="/login">"Start again"</a></p>
        </FormCard>
    }
}

/// Setting up an authenticator app: start, scan the QR code (or type the secret), save the
/// recovery codes, confirm with a first code; or turn it off.
#[component]
pub fn TwoFactorPage() -> impl IntoView {
    let state = Resource::new(reloads, |_| boxed(my_two_factor()));
    view! {
        <Title text="Two-step sign-in" />
        <Transition fallback=Loading>
            {move || loaded(async move {
                match state.await {
                    Ok(Some(state)) => view! { <TwoFactor state /> }.into_any(),
                    Ok(None) => view! { <Redirect path=format!("/login?next={TWO_FACTOR_PAGE}") /> }.into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn TwoFactor(state: TwoFactorView) -> impl IntoView {
    let begin = ServerAction::<BeginTwoFactor>::new();
    let confirm = ServerAction::<ConfirmTwoFactor>::new();
    let disable = ServerAction::<DisableTwoFactor>::new();
    let begin_error = error_of(begin);
    let confirm_error = error_of(confirm);
    let disable_error = error_of(disable);
    let start = move |label: &'static str| {
        view! {
            <ActionForm action=begin>
                <FormMessage error=begin_error />
                <button class="button" type="submit">{label}</button>
            </ActionForm>
        }
    };
    let body = match state {
        TwoFactorView::Off => view! {
            <p>"Two-step sign-in is off. With it on, signing in also asks for a code from an authenticator app on your phone (such as Aegis, Google Authenticator or 1Password), so a stolen password is not enough."</p>
            {start("Set up an authenticator app")}
        }
        .into_any(),
        TwoFactorView::SettingUp { qr_svg, secret, recovery_codes } => view! {
            <ol class="steps">
                <li>
                    <p>"Scan this QR code with your authenticator app:"</p>
                    <div class="qr" role="img" aria-label="QR code for your authenticator app" inner_html=qr_svg></div>
                    <p>"Or type this key into the app: " <code class="secret">{secret}</code></p>
                </li>
                <li>
                    <p>"Save these recovery codes somewhere safe. Each signs you in once if you lose your device. They are shown only until you confirm:"</p>
                    <ul class="recovery-codes" aria-label="Recovery codes">
                        {recovery_codes.into_iter().map(|code| view! { <li><code>{code}</code></li> }).collect_view()}
                    </ul>
                </li>
                <li>
                    <p>"Enter the code the app shows now to turn two-step sign-in on:"</p>
                    <ActionForm action=confirm attr:novalidate=true>
                        <FormMessage error=confirm_error />
                        <Field name="code" label="Code from the app" autocomplete="one-time-code" error=confirm_error maxlength=20 />
                        <button class="button" type="submit">"Turn on two-step sign-in"</button>
                    </ActionForm>
                </li>
            </ol>
            {start("Start over with a new key")}
        }
        .into_any(),
        TwoFactorView::On { recovery_codes_left } => view! {
            <p>{format!("Two-step sign-in is on. You have {recovery_codes_left} unused recovery codes.")}</p>
            <h2>"Turn it off"</h2>
            <ActionForm action=disable attr:novalidate=true>
                <FormMessage error=disable_error />
                <Field name="code" label="Code" autocomplete="one-time-code" hint=CODE_HINT error=disable_error maxlength=20 />
                <button class="button danger" type="submit">"Turn off two-step sign-in"</button>
            </ActionForm>
        }
        .into_any(),
    };
    view! {
        <div class="stack">
            <h1>"Two-step sign-in"</h1>
            <Notices shows=&[Notice::TwoFactorOn, Notice::TwoFactorOff] />
            <section class="card">{body}</section>
            <p><a href="/profile">"Back to your profile"</a></p>
        </div>
    }
}
