use leptos::prelude::*;
use leptos_meta::Title;

/// The sign-in page. The ways to sign in (email and password, GitHub, OpenID Connect) are
/// added by their own issues; until then the page says so plainly.
#[component]
pub fn LoginPage() -> impl IntoView {
    view! {
        <Title text="Sign in" />
        <section class="card" aria-labelledby="login-title">
            <h1 id="login-title">"Sign in"</h1>
            <p role="status">
                "Signing in is not open yet. Email and password, GitHub and OpenID Connect "
                "sign-in arrive here soon."
            </p>
        </section>
    }
}
