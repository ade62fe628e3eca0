//! The frame around every page: a skip link, the header with navigation (which knows whether
//! someone is signed in, from [`viewer`], without a server call or a suspense of its own),
//! and the footer.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::api::auth::SignOut;
use crate::api::profile::{viewer, Viewer};
use crate::components::whole::Whole;

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let _viewer = Viewer::provide();
    let reloads = RwSignal::new(0);
    provide_context(Reloads(reloads));
    // In the browser, after every navigation: who is signed in now, and whether the page
    // stayed and should ask for its data again: an action's redirect back to its page (it
    // names a notice, `Notice::after`; sign-out names the page it is on). A page's own moves
    // (the admin list's filters, a next page) are neither: its resources follow the query.
    #[cfg(feature = "hydrate")]
    {
        let url = leptos_router::hooks::use_url();
        Effect::watch(
            move || url.with(|url| (url.path().to_owned(), url.search().to_owned())),
            move |(path, search), previous, _| {
                let again = previous.is_some_and(|(was_path, was_search)| {
                    let notice = search.split('&').any(|pair| pair.starts_with("notice="));
                    was_path == path && (was_search == search || notice)
                });
                if again {
                    reloads.update(|n| *n += 1);
                }
                _viewer.refresh();
            },
            false,
        );
    }
    let sign_out = ServerAction::<SignOut>::new();
    let path = use_location().pathname;
    let link = move |href: &'static str, label: String| {
        let current = move || path.with(|path| is_within(path, href)).then_some("page");
        view! { <li><a href=href aria-current=current>{label}</a></li> }
    };
    // The header and footer wait for nothing: rendered in one pass (see `Whole`).
    let header = Whole(view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="site-header">
            <div class="container header-row">
                <a class="brand" href="/">
                    <img src="/favicon.svg" alt="" width="28" height="28" />
                    <span>"Gatehouse"</span>
                </a>
                <nav aria-label="Main">
                    <ul class="nav-list">
                        {link("/", "Home".into())}
                        {move || match viewer() {
                            Some(me) => view! {
                                {me.has_access.then(|| link("/artworks", "Artworks".into()))}
                                {me.is_admin().then(|| link("/admin", "Admin".into()))}
                                {link("/profile", me.name)}
                                <li>
                                    <ActionForm action=sign_out attr:class="inline-form">
                                        <button class="link-button" type="submit">"Sign out"</button>
                                    </ActionForm>
                                </li>
                            }.into_any(),
                            None => view! {
                                {link("/login", "Sign in".into())}
                                {link("/signup", "Create account".into())}
                            }.into_any(),
                        }}
                    </ul>
                </nav>
            </div>
        </header>
    });
    let footer = Whole(view! {
        <footer class="site-footer">
            <div class="container">
                <p>"Gatehouse — sign-in and access for the artwork-protection service."</p>
            </div>
        </footer>
    });
    view! {
        {header}
        <main id="main" class="container" tabindex="-1">
            {children()}
        </main>
        {footer}
    }
}

/// How many times the browser navigated and stayed on the page: a form whose action changed
/// something ends so, back on its page with a notice. A page's resource reads it in its
/// source, so its data is asked for again each time. Always 0 on the server.
#[derive(Clone, Copy)]
struct Reloads(RwSignal<u64>);

/// See [`Reloads`]: read (tracked) in the source of every page resource an action changes.
pub fn reloads() -> u64 {
    use_context::<Reloads>().map_or(0, |Reloads(n)| n.get())
}

/// Whether a page at `path` is within the section `href` links to, for `aria-current`: the
/// section's own page or one below it (`/admin/audit` is within `/admin`); home is only
/// itself. One location signal serves every link: the router's `<A>` keeps a resolved path
/// and a memo of its own for each, 7 % of the signed-in 404 page (docs/performance.md).
fn is_within(path: &str, href: &str) -> bool {
    match path.strip_prefix(href) {
        Some(rest) => rest.is_empty() || (href != "/" && rest.starts_with('/')),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::is_within;

    #[test]
    fn a_link_is_current_on_its_page_and_below_it_and_home_only_on_itself() {
        assert!(is_within("/", "/"));
        assert!(!is_within("/profile", "/"));
        assert!(is_within("/admin", "/admin"));
        assert!(is_within("/admin/audit", "/admin"));
        assert!(!is_within("/administrators", "/admin"));
        assert!(!is_within("/login", "/signup"));
    }
}
