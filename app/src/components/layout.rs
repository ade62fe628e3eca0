//! The frame around every page: a skip link, the header with navigation, and the footer.

use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn Layout(children: Children) -> impl IntoView {
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
                        <li><A href="/login">"Sign in"</A></li>
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
