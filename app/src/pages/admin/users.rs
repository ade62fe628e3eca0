use leptos::form::ActionForm;
use leptos::html;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

use super::{failed, when, AdminNav};
use crate::api::admin::{admin_users, BulkWhitelist};
use crate::api::profile::viewer;
use crate::components::form::{error_of, FormMessage, Loading, Notices};
use crate::components::layout::reloads;
use crate::components::whole::loaded;
use crate::components::{boxed, page_data};
use crate::views::{Notice, Tier, UserFilter, UserRow, UsersView};

/// How long the list waits after a keystroke in the search box before it asks again.
const TYPING_PAUSE: std::time::Duration = std::time::Duration::from_millis(300);

#[component]
pub fn AdminUsersPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.read().get(name).unwrap_or_default();
    let shown = Memo::new(move |_| UsersView::read(param));
    let page = page_data(
        move || (reloads(), shown.get(), param("after")),
        |(_, view, after)| {
            let oldest = view.oldest_first();
            boxed(admin_users(view.q, view.filter, view.tier, oldest, after))
        },
    );
    let bulk = ServerAction::<BulkWhitelist>::new();
    let bulk_error = error_of(bulk);
    // The heading and the filters stay while the list changes under them, so the search box
    // keeps its focus as one types. Anyone but an admin sees only what the list's answer
    // says: the 404 page, or a way to sign in.
    let is_admin = Memo::new(move |_| viewer().is_some_and(|me| me.is_admin()));
    let badge = move || {
        Suspend::new(async move {
            page.await.ok().map(|page| {
                view! {
                    <span class="badge warn" title="People waiting for access">
                        {waiting_label(page.waiting)}
                    </span>
                }
            })
        })
    };
    view! {
        <Title text="Users · Admin" />
        <div class="stack">
            <Show when=move || is_admin.get()>
                <h1>"Users " <Transition>{badge}</Transition></h1>
                <AdminNav />
                <UserFilters shown />
            </Show>
            <Transition fallback=Loading>
                {move || loaded(async move {
                    let result = page.await;
                    let view = shown.get_untracked();
                    match result {
                        Err(e) => failed(e),
                        Ok(page) => {
                            let back = view.query(&[]);
                            // The bulk form's children are a closure of their own.
                            let (rows, form_back) = (page.rows.clone(), back.clone());
                            view! {
                                <Notices shows=&[Notice::UserDeleted, Notice::LetIn] />
                                <ActionForm action=bulk>
                                    <FormMessage error=bulk_error />
                                    <input type="hidden" name="back" value=form_back />
                                    <UsersTable rows />
                                    <button class="button secondary" type="submit">"Let the selected people in"</button>
                                </ActionForm>
                                <LetInForms rows=page.rows back action=bulk />
                                // The next page's link, invitations and failing webhook
                                // deliveries, as the server wrote them (`UserPage::cards`).
                                <div class="stack" inner_html=page.cards />
                            }
                            .into_any()
                        }
                    }
                })}
            </Transition>
        </div>
    }
}

/// The list's filters. Without JavaScript they apply with the Search button; in the browser
/// the list follows the search box as one types (after a pause) and a choice at once, in
/// place of the address (no history entry for each keystroke).
#[component]
fn UserFilters(shown: Memo<UsersView>) -> impl IntoView {
    let initial = shown.get_untracked();
    let q = NodeRef::<html::Input>::new();
    let filter = NodeRef::<html::Select>::new();
    let tier = NodeRef::<html::Select>::new();
    let order = NodeRef::<html::Select>::new();
    let navigate = use_navigate();
    let apply = move || {
        let view = UsersView {
            q: q.get_untracked().map(|e| e.value()).unwrap_or_default(),
            filter: filter
                .get_untracked()
                .map(|e| e.value())
                .unwrap_or_default(),
            tier: tier.get_untracked().map(|e| e.value()).unwrap_or_default(),
            order: order.get_untracked().map(|e| e.value()).unwrap_or_default(),
        };
        let options = NavigateOptions {
            replace: true,
            scroll: false,
            ..Default::default()
        };
        navigate(&view.href(&[]), options);
    };
    let typed = debounce(TYPING_PAUSE, {
        let apply = apply.clone();
        move |_: leptos::ev::Event| apply()
    });
    let chosen = {
        let apply = apply.clone();
        move |_: leptos::ev::Event| apply()
    };
    let submitted = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        apply();
    };
    #[cfg(feature = "hydrate")]
    follow_address(shown, q, [filter, tier, order]);
    let (filter_now, tier_now, order_now) = (initial.filter, initial.tier, initial.order);
    view! {
        <form
            method="get"
            action="/admin"
            class="filters"
            role="search"
            on:submit=submitted
        >
            <div class="field">
                <label for="q">"Email or name starts with"</label>
                <input node_ref=q id="q" name="q" type="search" maxlength="254" value=initial.q on:input=typed />
            </div>
            <div class="field">
                <label for="filter">"Show"</label>
                <select node_ref=filter id="filter" name="filter" on:change=chosen.clone()>
                    {UserFilter::ALL.iter().map(|f| view! {
                        <option value=f.as_str() selected=filter_now == f.as_str()>{f.label()}</option>
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="tier">"Tier"</label>
                <select node_ref=tier id="tier" name="tier" on:change=chosen.clone()>
                    <option value="" selected=tier_now.is_empty()>"Any"</option>
                    {Tier::ALL.iter().map(|t| t.as_str()).map(|t| view! {
                        <option value=t selected=tier_now == t>{t}</option>
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="order">"Order"</label>
                <select node_ref=order id="order" name="order" on:change=chosen.clone()>
                    <option value="newest" selected=order_now != "oldest">"Newest first"</option>
                    <option value="oldest" selected=order_now == "oldest">"Oldest first"</option>
                </select>
            </div>
            <button class="button" type="submit">"Search"</button>
        </form>
    }
}

/// Keeps the filters showing the view the address names when something else changed it
/// (the "Users" and "Waiting" links): the search box only while nobody is typing in it.
#[cfg(feature = "hydrate")]
fn follow_address(
    shown: Memo<UsersView>,
    q: NodeRef<html::Input>,
    choices: [NodeRef<html::Select>; 3],
) {
    Effect::new(move || {
        let view = shown.get();
        if let Some(input) = q.get() {
            let element: &web_sys::Element = input.as_ref();
            let typing = document().active_element().as_ref() == Some(element);
            if !typing && input.value() != view.q {
                input.set_value(&view.q);
            }
        }
        let wanted = [&view.filter, &view.tier, &view.order];
        for (select, value) in choices.iter().zip(wanted) {
            if let Some(select) = select.get() {
                // An empty filter or order is the first choice (everyone, newest first).
                if value.is_empty() {
                    select.set_selected_index(0);
                } else {
                    select.set_value(value);
                }
            }
        }
    });
}

fn waiting_label(waiting: i64) -> String {
    if waiting > crate::views::WAITING_CAP {
        format!("more than {} waiting", crate::views::WAITING_CAP)
    } else {
        format!("{waiting} waiting")
    }
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
                        <th scope="col"><span class="visually-hidden">"Let in"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().enumerate().map(|(i, row)| {
                        let selectable = can_let_in(&row);
                        let user = row.person;
                        let checkbox_id = format!("select-{i}");
                        let access = if row.banned {
                            view! { <span class="badge danger">"banned"</span> }.into_any()
                        } else if user.has_access {
                            view! { <span class="badge ok">"in"</span> }.into_any()
                        } else {
                            view! { <span class="badge warn">"waiting"</span> }.into_any()
                        };
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
                                <td>
                                    {selectable.then(|| view! {
                                        // Submits its own form (see `LetInForms`): a form
                                        // cannot sit inside the table's.
                                        <button class="button secondary small" type="submit" form=let_in_form(i)>
                                            "Let in" <span class="visually-hidden">{format!(" {}", user.email)}</span>
                                        </button>
                                    })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

fn let_in_form(row: usize) -> String {
    format!("let-in-{row}")
}

/// One form for each waiting row's "Let in" button, outside the table (whose form is the
/// bulk one): each sends that one person, and the list's view to come back to.
#[component]
fn LetInForms(
    rows: Vec<UserRow>,
    back: String,
    action: ServerAction<BulkWhitelist>,
) -> impl IntoView {
    rows.into_iter()
        .enumerate()
        .filter(|(_, row)| can_let_in(row))
        .map(move |(i, row)| {
            let back = back.clone();
            view! {
                <ActionForm action attr:id=let_in_form(i) attr:class="inline-form">
                    <input type="hidden" name="ids[0]" value=row.person.id />
                    <input type="hidden" name="back" value=back />
                </ActionForm>
            }
        })
        .collect_view()
}

/// Whether a row is someone an admin can let in from the list: waiting, not banned.
fn can_let_in(row: &UserRow) -> bool {
    !row.person.whitelisted && !row.banned
}
