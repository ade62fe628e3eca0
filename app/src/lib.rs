//! Gatehouse's Leptos app: pages and components (both sides), `#[server]` functions, and —
//! behind the `ssr` feature — the rules (`services`) and the database (`db`).
//!
//! Layers read top-down, each calling only the one below:
//! `pages`/`components` → `api` → `services` → `db`.

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

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Link, Meta, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;
use leptos_router::SsrMode;

use components::layout::Layout;
use pages::admin::{
    audit::AdminAuditPage, jobs::AdminJobsPage, user::AdminUserPage, users::AdminUsersPage,
};
use pages::artworks::{ArtworkPage, ArtworksPage};
use pages::check_email::CheckEmailPage;
use pages::forgot_password::ForgotPasswordPage;
use pages::home::HomePage;
use pages::login::LoginPage;
use pages::not_found::NotFound;
use pages::profile::ProfilePage;
use pages::reset_password::ResetPasswordPage;
use pages::sign_in_failed::SignInFailedPage;
use pages::signup::SignupPage;
use pages::verify_email::VerifyEmailPage;

/// The stylesheet's address; the server serves `style/main.css` there.
pub const STYLESHEET_PATH: &str = "/style/main.css";

/// The whole HTML document, rendered on the server for every page.
pub fn shell(_options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The app: head tags, and the routes inside the shared layout.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet href=STYLESHEET_PATH />
        <Link rel="icon" href="/favicon.svg" type_="image/svg+xml" />
        <Meta name="description" content="Sign in to Gatehouse, the artwork-protection portal." />
        <Title formatter=|page: String| format!("{page} · Gatehouse") />
        <Router>
            <Layout>
                // Every page waits for its data before it is sent (SsrMode::Async), so it
                // is complete without JavaScript.
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=HomePage ssr=SsrMode::Async />
                    <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async />
                    <Route path=path!("/sign-in-failed") view=SignInFailedPage ssr=SsrMode::Async />
                    <Route path=path!("/signup") view=SignupPage ssr=SsrMode::Async />
                    <Route path=path!("/check-email") view=CheckEmailPage ssr=SsrMode::Async />
                    <Route path=path!("/verify-email") view=VerifyEmailPage ssr=SsrMode::Async />
                    <Route path=path!("/forgot-password") view=ForgotPasswordPage ssr=SsrMode::Async />
                    <Route path=path!("/reset-password") view=ResetPasswordPage ssr=SsrMode::Async />
                    <Route path=path!("/profile") view=ProfilePage ssr=SsrMode::Async />
                    <Route path=path!("/admin") view=AdminUsersPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/users/:id") view=AdminUserPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/audit") view=AdminAuditPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/jobs") view=AdminJobsPage ssr=SsrMode::Async />
                    <Route path=path!("/artworks") view=ArtworksPage ssr=SsrMode::Async />
                    <Route path=path!("/artworks/:job_id") view=ArtworkPage ssr=SsrMode::Async />
                </Routes>
            </Layout>
        </Router>
    }
}
