use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::auth::sign_in_providers;
use crate::components::whole::loaded;
use crate::components::{boxed, page_data};

/// What a refused provider sign-in means, in words a person can act on. `{p}` is the
/// provider's name.
fn explain(reason: &str, connecting: bool) -> &'static str {
    match reason {
        "denied" if connecting => "You did not allow Gatehouse to use your {p} account, so it is not connected.",
        "denied" => "You did not allow Gatehouse to use your {p} account, so you are not signed in.",
        "expired" => "This sign-in took longer than ten minutes or was already finished. Start again.",
        "state" => "This sign-in could not be checked: it may have been started in another tab or window. Start again.",
        "replayed" => "This sign-in link was already used. Start again.",
        "provider" => "{p} did not answer as expected. Try again in a moment.",
        "no-verified-email" => "{p} has no verified email address for you. Verify your email address there, then try again.",
        "email-in-use" => "An account with this email address already exists. Sign in to it another way, then connect {p} from your profile.",
        "connect-first" => "{p} cannot sign you up or into an existing account by itself. Sign up or sign in another way, then connect {p} from your profile.",
        "linked-elsewhere" => "This {p} account is already connected to another Gatehouse account.",
        "already-connected" => "Another {p} account is already connected to yours. Disconnect it first to connect this one.",
        "confirm-email" => "Confirm your email address first: we have sent you a link, which asks for your Gatehouse password. Never had one? Choose one with “Forgotten your password?”: that confirms the address too. Then sign in again.",
        "banned" => "This account has been suspended.",
        "signed-out" => "Sign in first to connect an account.",
        "sign-in-again" => "For your safety, connecting {p} needs a sign-in from the last ten minutes. Sign in again, then connect it from your profile.",
        "rate-limited" => "Too many sign-ins were started from your network. Wait a minute, then try again.",
        _ => "Something went wrong on our side. Try again in a moment.",
    }
}

/// Where a refused provider sign-in (or connection, with `intent=link`) lands, status 400,
/// with what happened and a way back.
#[component]
pub fn SignInFailedPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::BAD_REQUEST);
    }
    let query = use_query_map();
    let connecting = query.with_untracked(|q| q.get("intent").as_deref() == Some("link"));
    let title = if connecting {
        "Connecting did not work"
    } else {
        "Sign-in did not work"
    };
    let providers = page_data(|| (), |_| boxed(sign_in_providers()));
    view! {
        <Title text=title />
        <section class="card" aria-labelledby="failed-title">
            <h1 id="failed-title">{title}</h1>
            <Suspense fallback=|| ()>
                {move || loaded(async move {
                    let providers = providers.await.unwrap_or_default();
                    let (reason, id) = query.with(|q| (q.get("reason").unwrap_or_default(), q.get("provider")));
                    let name = providers
                        .into_iter()
                        .find(|p| Some(&p.id) == id.as_ref())
                        .map_or_else(|| "the provider".to_string(), |p| p.name);
                    let text = explain(&reason, connecting).replace("{p}", &name);
                    // A sentence starts with a capital, even "the provider".
                    let mut chars = text.chars();
                    let text: String = chars
                        .next()
                        .map(|c| c.to_uppercase().chain(chars).collect())
                        .unwrap_or_default();
                    view! { <p class="form-error" role="alert">{text}</p> }
                })}
            </Suspense>
            <p class="links">
                {if connecting {
                    view! { <a href="/profile">"Back to your profile"</a> }.into_any()
                } else {
                    view! { <a href="/login">"Back to sign in"</a> }.into_any()
                }}
            </p>
        </section>
    }
}
