//! The frame around every page: a skip link, the header with navigation (which knows whether
//! someone is signed in, from [`viewer`], without a server call or a suspense of its own),
//! and the footer.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::auth::SignOut;
use crate::api::profile::viewer;

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="site-header">
            <div class="container header-row">
                <a class="brand" href="/">
                    <img src="/favicon.svg" alt="" width="28" height="28" />
                    <span>"Gatehouse"</span>
                </a>
                <nav aria-label="Main">
                    <ul class="nav-list">
                        <li><A href="/">"Home"</A></li>
                        {match viewer() {
                            Some(me) => view! {
                                {me.has_access.then(|| view! { <li><A href="/artworks">"Artworks"</A></li> })}
                                {me.is_admin().then(|| view! { <li><A href="/admin">"Admin"</A></li> })}
                                <li><A href="/profile">{me.name}</A></li>
                                <li>
                                    <ActionForm action=sign_out attr:class="inline-form">
                                        <button class="link-button" type="submit">"Sign out"</button>
                                    </ActionForm>
                                </li>
                            }.into_any(),
                            None => view! {
                                <li><A href="/login">"Sign in"</A></li>
                                <li><A href="/signup">"Create account"</A></li>
                            }.into_any(),
                        }}
                    </ul>
                </nav>
            </div>
        </header>
        <main id="main" class="container" tabindex="-1">
            {children()}
        </main>
        <footer class="site-footer">
            <div class="container">
                <p>"Gatehouse — sign-in and access for the artwork-protection service."</p>
            </div>
        </footer>
    }
}
