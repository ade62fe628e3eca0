use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::portal::my_overview;
use crate::api::profile::viewer;
use crate::components::form::Notices;
use crate::components::whole::loaded;
use crate::components::{boxed, page_data};
use crate::views::{Me, Notice};

#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text="Welcome" />
        <Notices shows=&[Notice::AccountDeleted] />
        {move || match viewer() {
            Some(me) if me.has_access => view! { <Portal me /> }.into_any(),
            Some(me) => view! { <Waiting me /> }.into_any(),
            None => view! { <Welcome /> }.into_any(),
        }}
    }
}

#[component]
fn Welcome() -> impl IntoView {
    view! {
        <section class="hero" aria-labelledby="home-title">
            <h1 id="home-title">"Welcome to Gatehouse"</h1>
            <p class="lead">
                "Gatehouse is where artists sign in to the artwork-protection service, "
                "see their artwork jobs, and manage their account."
            </p>
            <p>
                "New here? Create an account and an administrator will let you in. "
                "Until then your account waits on the list."
            </p>
            <p><a class="button" href="/login">"Sign in"</a> " " <a class="button secondary" href="/signup">"Create an account"</a></p>
        </section>
    }
}

/// Signed in, not yet let in: what they can do meanwhile.
#[component]
fn Waiting(me: Me) -> impl IntoView {
    view! {
        <section class="hero" aria-labelledby="waiting-title">
            <h1 id="waiting-title">"Waiting for access"</h1>
            <p class="lead">{format!("Thanks, {}. Your account is on the list.", me.name)}</p>
            <p>
                "An administrator lets people in one by one. You can use Gatehouse as soon as "
                "they have; there is nothing else you need to do."
            </p>
            <p>"Meanwhile you can " <a href="/profile">"look after your profile"</a> "."</p>
        </section>
    }
}

#[component]
fn Portal(me: Me) -> impl IntoView {
    let summary = page_data(|| (), |_| boxed(my_overview()));
    view! {
        <section class="hero" aria-labelledby="portal-title">
            <h1 id="portal-title">{format!("Welcome back, {}", me.name)}</h1>
            <Suspense>
                {move || loaded(async move {
                    match summary.await {
                        Ok(summary) if summary.total == 0 => view! {
                            <p>"You have no artwork jobs yet. " <a href="/artworks">"Protect your first artwork"</a></p>
                        }.into_any(),
                        Ok(summary) => view! {
                            <p>{format!("You have {} artwork job(s). The newest:", summary.total)}</p>
                            <ul>
                                {summary.latest.into_iter().map(|job| view! {
                                    <li><a href=format!("/artworks/{}", job.job_id)>{job.job_id.clone()}</a> " — " {job.status}</li>
                                }).collect_view()}
                            </ul>
                            <p><a href="/artworks">"All your artworks"</a></p>
                        }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.message}</p> }.into_any(),
                    }
                })}
            </Suspense>
            {me.is_admin().then(|| view! { <p><a class="button" href="/admin">"Open the admin dashboard"</a></p> })}
        </section>
    }
}
