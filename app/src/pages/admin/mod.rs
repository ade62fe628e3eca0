//! The admin dashboard: users, one user, and the audit log. Every page asks a server function
//! that checks the caller is an admin; for anyone else the page is the 404 page, except that
//! someone signed out (an admin's session ends after ADMIN_SESSION_HOURS) is asked to sign in.

pub mod audit;
pub mod jobs;
pub mod user;
pub mod users;

use leptos::prelude::*;

use leptos_router::components::Redirect;
use leptos_router::hooks::use_location;

use crate::api::profile::viewer;
use crate::api::AppError;
use crate::pages::not_found::NotFound;
use crate::views::{ADMIN_NEEDS_TWO_FACTOR, TWO_FACTOR_PAGE};

pub(crate) use crate::components::when;

/// What a failed admin read shows: the 404 page when the caller is not an admin (or the thing
/// does not exist), the message otherwise.
fn failed(error: AppError) -> AnyView {
    if error.status == 404 {
        view! { <NotFoundOrSignIn /> }.into_any()
    } else {
        let message = error
            .fields
            .first()
            .map_or(error.message.clone(), |f| f.message.clone());
        let set_up = (message == ADMIN_NEEDS_TWO_FACTOR).then(|| {
            view! { <p><a class="button" href=TWO_FACTOR_PAGE>"Set up two-step sign-in"</a></p> }
        });
        view! { <p class="form-error" role="alert">{message}</p> {set_up} }.into_any()
    }
}

/// The 404 page for someone signed in; a way to sign in (and back here) for someone not.
#[component]
fn NotFoundOrSignIn() -> impl IntoView {
    move || match viewer() {
        None => {
            let here = use_location().pathname.get_untracked();
            view! { <Redirect path=format!("/login?next={here}") /> }.into_any()
        }
        Some(_) => view! { <NotFound /> }.into_any(),
    }
}

#[component]
fn AdminNav() -> impl IntoView {
    view! {
        <nav aria-label="Admin" class="sub-nav">
            <a href="/admin">"Users"</a>
            <a href="/admin?filter=waiting">"Waiting"</a>
            <a href="/admin/jobs">"Jobs"</a>
            <a href="/admin/audit">"Audit log"</a>
        </nav>
    }
}
