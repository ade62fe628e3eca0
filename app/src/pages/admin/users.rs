use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{failed, when, AdminNav};
use crate::api::admin::{admin_users, BulkWhitelist};
use crate::components::form::{error_of, FormMessage, Loading, Notices};
use crate::components::layout::reloads;
use crate::components::whole::loaded;
use crate::views::{Notice, Tier, UserFilter, UserRow};

#[component]
pub fn AdminUsersPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.read().get(name).unwrap_or_default();
    let page = Resource::new(
        move || {
            (
                reloads(),
                param("q"),
                param("filter"),
                param("tier"),
                param("order") == "oldest",
                param("after"),
            )
        },
        |(_, q, filter, tier, oldest, after)| admin_users(q, filter, tier, oldest, after),
    );
    let bulk = ServerAction::<BulkWhitelist>::new();
    let bulk_error = error_of(bulk);
    view! {
        <Title text="Users · Admin" />
        <Suspense fallback=Loading>
            {move || loaded(async move {
                let result = page.await;
                let (q, filter, tier, order) = (param("q"), param("filter"), param("tier"), param("order"));
                match result {
                    Err(e) => failed(e),
                    Ok(page) => view! {
                        <div class="stack">
                            <h1>"Users " <span class="badge warn" title="People waiting for access">{waiting_label(page.waiting)}</span></h1>
                            <AdminNav />
                            <Notices shows=&[Notice::UserDeleted, Notice::LetIn] />
                            <form method="get" action="/admin" class="filters" role="search">
                                <div class="field">
                                    <label for="q">"Email or name starts with"</label>
                                    <input id="q" name="q" type="search" maxlength="254" value=q.clone() />
                                </div>
                                <div class="field">
                                    <label for="filter">"Show"</label>
                                    <select id="filter" name="filter">
                                        {UserFilter::ALL.iter().map(|f| view! {
                                            <option value=f.as_str() selected=filter == f.as_str()>{f.label()}</option>
                                        }).collect_view()}
                                    </select>
                                </div>
                                <div class="field">
                                    <label for="tier">"Tier"</label>
                                    <select id="tier" name="tier">
                                        <option value="" selected=tier.is_empty()>"Any"</option>
                                        {Tier::ALL.iter().map(|t| t.as_str()).map(|t| view! {
                                            <option value=t selected=tier == t>{t}</option>
                                        }).collect_view()}
                                    </select>
                                </div>
                                <div class="field">
                                    <label for="order">"Order"</label>
                                    <select id="order" name="order">
                                        <option value="newest" selected=order != "oldest">"Newest first"</option>
                                        <option value="oldest" selected=order == "oldest">"Oldest first"</option>
                                    </select>
                                </div>
                                <button class="button" type="submit">"Search"</button>
                            </form>
                            <ActionForm action=bulk>
                                <FormMessage error=bulk_error />
                                <UsersTable rows=page.rows />
                                <button class="button secondary" type="submit">"Let the selected people in"</button>
                            </ActionForm>
                            {page.next.map(|next| {
                                let href = format!(
                                    "/admin?q={}&filter={}&tier={}&order={}&after={}",
                                    encode(&q), encode(&filter), encode(&tier), encode(&order), encode(&next)
                                );
                                view! { <p><a href=href rel="next">"Next page"</a></p> }
                            })}
                        </div>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn waiting_label(waiting: i64) -> String {
    if waiting > crate::views::WAITING_CAP {
        format!("more than {} waiting", crate::views::WAITING_CAP)
    } else {
        format!("{waiting} waiting")
    }
}

fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[component]
fn UsersTable(rows: Vec<UserRow>) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p role="status">"Nobody matches."</p> }.into_any();
    }
    view! {
        <div class="table-wrap" tabindex="0" role="region" aria-label="Table (scrolls sideways on small screens)">
            <table>
                <caption class="visually-hidden">"Users"</caption>
                <thead>
                    <tr>
                        <th scope="col"><span class="visually-hidden">"Select"</span></th>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Email"</th>
                        <th scope="col">"Access"</th>
                        <th scope="col">"Role"</th>
                        <th scope="col">"Tier"</th>
                        <th scope="col">"Joined"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().enumerate().map(|(i, row)| {
                        let user = row.person;
                        let checkbox_id = format!("select-{i}");
                        let access = if row.banned {
                            view! { <span class="badge danger">"banned"</span> }.into_any()
                        } else if user.has_access {
                            view! { <span class="badge ok">"in"</span> }.into_any()
                        } else {
                            view! { <span class="badge warn">"waiting"</span> }.into_any()
                        };
                        let selectable = !user.whitelisted && !row.banned;
                        view! {
                            <tr>
                                <td>
                                    {selectable.then(|| view! {
                                        <input type="checkbox" id=checkbox_id.clone() name=format!("ids[{i}]") value=user.id.clone() />
                                        <label class="visually-hidden" for=checkbox_id.clone()>{format!("Select {}", user.email)}</label>
                                    })}
                                </td>
                                <td><a href=format!("/admin/users/{}", user.id)>{user.name.clone()}</a></td>
                                <td>{user.email.clone()}</td>
                                <td>{access}</td>
                                <td>{user.role.as_str()}</td>
                                <td>{user.tier.as_str()}</td>
                                <td>{when(row.created_at)}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
