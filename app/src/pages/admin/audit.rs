use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{failed, when, AdminNav};
use crate::api::admin::audit_log;
use crate::components::form::Loading;
use crate::components::whole::loaded;
use crate::components::{boxed, page_data};

const FIELDS: [(&str, &str, &str); 5] = [
    ("actor", "Actor (email)", "text"),
    ("target", "Target (email)", "text"),
    ("action", "Kind (e.g. sign_in)", "text"),
    ("since", "From (date)", "date"),
    ("until", "To (date)", "date"),
];

#[component]
pub fn AdminAuditPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.read().get(name).unwrap_or_default();
    let page = page_data(
        move || {
            [
                param("actor"),
                param("target"),
                param("action"),
                param("since"),
                param("until"),
                param("after"),
            ]
        },
        |[actor, target, action, since, until, after]| {
            boxed(audit_log(actor, target, action, since, until, after))
        },
    );
    view! {
        <Title text="Audit log · Admin" />
        <Suspense fallback=Loading>
            {move || loaded(async move {
                match page.await {
                    Err(e) => failed(e),
                    Ok(page) => {
                        let next = page.next.map(|next| {
                            let mut href = String::from("/admin/audit?");
                            for (name, _, _) in FIELDS {
                                href.push_str(&format!("{name}={}&", param(name)));
                            }
                            href.push_str(&format!("after={next}"));
                            view! { <p><a href=href rel="next">"Older events"</a></p> }
                        });
                        view! {
                            <div class="stack">
                                <h1>"Audit log"</h1>
                                <AdminNav />
                                <form method="get" action="/admin/audit" class="filters" role="search">
                                    {FIELDS.iter().map(|(name, label, kind)| view! {
                                        <div class="field">
                                            <label for=*name>{*label}</label>
                                            <input id=*name name=*name type=*kind maxlength="254" value=param(name) />
                                        </div>
                                    }).collect_view()}
                                    <button class="button" type="submit">"Filter"</button>
                                </form>
                                <div class="table-wrap" tabindex="0" role="region" aria-label="Table (scrolls sideways on small screens)"><table>
                                    <caption class="visually-hidden">"Audit events, newest first"</caption>
                                    <thead><tr><th scope="col">"When"</th><th scope="col">"Actor"</th><th scope="col">"Kind"</th><th scope="col">"Target"</th><th scope="col">"From"</th><th scope="col">"Detail"</th></tr></thead>
                                    <tbody>
                                        {page.rows.into_iter().map(|e| view! {
                                            <tr>
                                                <td>{when(e.created_at)}</td>
                                                <td>{e.actor}</td>
                                                <td>{e.action}</td>
                                                <td>{e.target.unwrap_or_default()}</td>
                                                <td>{e.ip_address.unwrap_or_default()}</td>
                                                <td><code>{e.detail}</code></td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table></div>
                                {next}
                            </div>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}
