//! Gatehouse's Leptos app: pages and components (both sides), `#[server]` functions, and —
//! behind the `ssr` feature — the rules (`services`) and the database (`db`).
//!
//! Layers read top-down, each calling only the one below:
//! `pages`/`components` → `api` → `services` → `db`.

#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod pages;
pub mod views;

#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod services;
#[cfg(feature = "ssr")]
pub mod telemetry;

use std::sync::Arc;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use components::layout::Layout;
use pages::admin::{
    audit::AdminAuditPage, jobs::AdminJobsPage, user::AdminUserPage, users::AdminUsersPage,
};
use pages::artworks::{ArtworkPage, ArtworksPage};
use pages::forgot_password::ForgotPasswordPage;
use pages::home::HomePage;
use pages::login::LoginPage;
use pages::profile::ProfilePage;
use pages::reset_password::ResetPasswordPage;
use pages::signup::SignupPage;
use pages::two_factor::TwoFactorPage;
use pages::verify_email::VerifyEmailPage;
use pages::written::ServerWritten;

/// The stylesheet's address; the server serves `style/main.css` there.
pub const STYLESHEET_PATH: &str = "/style/main.css";

/// How a page starts the wasm client, when the server has a client build: its module and
/// its wasm (content-hashed paths), loaded at once and hydrating the page when both are in.
#[derive(Clone, Debug)]
pub struct ClientScripts {
    js: Arc<str>,
    wasm: Arc<str>,
    start: Arc<str>,
}

impl ClientScripts {
    pub fn new(js: &str, wasm: &str) -> Self {
        let start = format!(
            "import init, {{ hydrate }} from \"{js}\";\
             init({{ module_or_path: \"{wasm}\" }}).then(() => hydrate());"
        );
        Self {
            js: js.into(),
            wasm: wasm.into(),
            start: start.into(),
        }
    }
}

/// The client's start, with the page's nonce; nothing without a client build.
#[component]
fn ClientStart() -> impl IntoView {
    use_context::<ClientScripts>().map(|client| {
        let nonce = leptos::nonce::use_nonce();
        view! {
            <link rel="modulepreload" href=client.js.to_string() nonce=nonce.clone() />
            <link rel="preload" href=client.wasm.to_string() r#as="fetch" r#type="application/wasm" crossorigin="" />
            <script type="module" nonce=nonce>{client.start.to_string()}</script>
        }
    })
}

/// The whole HTML document, rendered on the server for every page.
pub fn shell(_options: LeptosOptions) -> impl IntoView {
    // Where passkeys are off (PUBLIC_URL without a host name), the stylesheet hides every
    // passkey form, the second step's too (the document element is the server's alone: the
    // client hydrates what is inside the body).
    #[cfg(feature = "ssr")]
    let passkeys = use_context::<services::context::Services>()
        .is_some_and(|services| services::passkeys::has_relying_party(&services));
    #[cfg(not(feature = "ssr"))]
    let passkeys = false;
    view! {
        <!DOCTYPE html>
        <html lang="en" data-passkeys=if passkeys { "on" } else { "off" }>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                // What every page has is written here once, not registered with leptos_meta
                // on every render; a page's own head tags (its title) come in MetaTags.
                <meta name="description" content="Sign in to Gatehouse, the artwork-protection portal." />
                <link rel="stylesheet" href=STYLESHEET_PATH />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                // Passkeys' WebAuthn ceremonies, for the forms that offer them.
                <script nonce=leptos::nonce::use_nonce() type="module" src="/passkey.js"></script>
                <MetaTags />
                <ClientStart />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The app: the page title's pattern, and the routes inside the shared layout.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title formatter=|page: String| format!("{page} · Gatehouse") />
        <Router>
            <Layout>
                // The server renders every page whole, its data awaited (SsrMode::Async:
                // the router's `page`), so it is complete without JavaScript.
                <Routes fallback=ServerWritten>
                    <Route path=path!("/") view=HomePage />
                    <Route path=path!("/login") view=LoginPage />
                    <Route path=path!("/signup") view=SignupPage />
                    <Route path=path!("/verify-email") view=VerifyEmailPage />
                    <Route path=path!("/forgot-password") view=ForgotPasswordPage />
                    <Route path=path!("/reset-password") view=ResetPasswordPage />
                    <Route path=path!("/profile") view=ProfilePage />
                    <Route path=path!("/two-factor") view=TwoFactorPage />
                    <Route path=path!("/admin") view=AdminUsersPage />
                    <Route path=path!("/admin/users/:id") view=AdminUserPage />
                    <Route path=path!("/admin/audit") view=AdminAuditPage />
                    <Route path=path!("/admin/jobs") view=AdminJobsPage />
                    <Route path=path!("/artworks") view=ArtworksPage />
                    <Route path=path!("/artworks/:job_id") view=ArtworkPage />
                </Routes>
            </Layout>
        </Router>
    }
}
