use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// Where people land after asking for a mail. It says the same whether or not the address
/// has an account.
#[component]
pub fn CheckEmailPage() -> impl IntoView {
    let query = use_query_map();
    let text = move || {
        match query.read().get("for").as_deref() {
        Some("reset") => "If an account uses that address, we have sent it a link to reset the password. The link works for one hour.",
        Some("verification") => "If that address has an account waiting for confirmation, we have sent it a new link. The link works for 24 hours.",
        _ => "We have sent a link to the address you gave. Open it within 24 hours to confirm your address, then sign in.",
    }
    };
    view! {
        <Title text="Check your email" />
        <section class="card" aria-labelledby="check-title">
            <h1 id="check-title">"Check your email"</h1>
            <p role="status">{text}</p>
            <p>"Nothing arrived? Look in your spam folder, or " <a href="/login">"go back to sign in"</a> "."</p>
        </section>
    }
}
