use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::{failed, when, AdminNav};
use crate::api::admin::{admin_user, AdminEndSession, ChangeUser, DeleteUser};
use crate::components::form::{error_of, first_error, Field, FormMessage, Loading, Notices};
use crate::components::layout::reloads;
use crate::components::whole::loaded;
use crate::components::{boxed, page_data};
use crate::views::{Notice, Role, Tier, UserDetail};

#[component]
pub fn AdminUserPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let detail = page_data(move || (reloads(), id()), |(_, id)| boxed(admin_user(id)));
    view! {
        <Title text="User · Admin" />
        <Suspense fallback=Loading>
            {move || loaded(async move {
                match detail.await {
                    Err(e) => failed(e),
                    Ok(detail) => view! { <UserAdmin detail /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn UserAdmin(detail: UserDetail) -> impl IntoView {
    // One action for every change to the user (each form names its `change`).
    let change = ServerAction::<ChangeUser>::new();
    let end_session = ServerAction::<AdminEndSession>::new();
    let delete = ServerAction::<DeleteUser>::new();
    let change_error = error_of(change);
    let error = first_error([change_error, error_of(end_session)]);
    let delete_error = error_of(delete);
    let (user, banned, ban_reason, joined) = (
        detail.user.person,
        detail.user.banned,
        detail.user.ban_reason,
        detail.user.created_at,
    );
    let id = StoredValue::new(user.id.clone());
    let factors = detail.second_factors;
    let has_factors = factors != "none";
    view! {
        <div class="stack">
            <h1>{user.name.clone()}</h1>
            <AdminNav />
            <Notices shows=&[Notice::AccessChanged, Notice::RoleChanged, Notice::TierChanged, Notice::Banned, Notice::Unbanned, Notice::UserSessionEnded, Notice::TwoFactorReset] />
            <FormMessage error />
            <section class="card" aria-labelledby="facts-title">
                <h2 id="facts-title">"Account"</h2>
                <dl class="facts">
                    <dt>"Email"</dt>
                    <dd>{user.email.clone()} {if user.email_verified { " (confirmed)" } else { " (not confirmed)" }}</dd>
                    <dt>"Joined"</dt><dd>{when(joined)}</dd>
                    <dt>"Access"</dt>
                    <dd>{if banned { "banned" } else if user.has_access { "in" } else { "waiting" }}</dd>
                    {ban_reason.map(|reason| view! { <dt>"Ban reason"</dt><dd>{reason}</dd> })}
                    <dt>"Second factors"</dt><dd>{factors}</dd>
                </dl>
                {has_factors.then(|| view! {
                    <ActionForm action=change>
                        <input type="hidden" name="id" value=id.get_value() />
                        <input type="hidden" name="change" value="reset-two-factor" />
                        <button class="button secondary" type="submit">"Reset their second factors (they lost their device)"</button>
                    </ActionForm>
                })}
                <ActionForm action=change>
                    <input type="hidden" name="id" value=id.get_value() />
                    <input type="hidden" name="change" value="access" />
                    <input type="hidden" name="on" value=(!user.whitelisted).to_string() />
                    <button class="button" type="submit">
                        {if user.whitelisted { "Take access away (ends their sessions)" } else { "Let them in" }}
                    </button>
                </ActionForm>
                <ActionForm action=change attr:class="inline-choice">
                    <input type="hidden" name="id" value=id.get_value() />
                    <input type="hidden" name="change" value="role" />
                    <label for="role">"Role"</label>
                    <select id="role" name="role">
                        {Role::ALL.iter().map(|&r| view! { <option value=r.as_str() selected=user.role == r>{r.as_str()}</option> }).collect_view()}
                    </select>
                    <button class="button secondary" type="submit">"Set role"</button>
                </ActionForm>
                <ActionForm action=change attr:class="inline-choice">
                    <input type="hidden" name="id" value=id.get_value() />
                    <input type="hidden" name="change" value="tier" />
                    <label for="tier">"Tier"</label>
                    <select id="tier" name="tier">
                        {Tier::ALL.iter().map(|&t| view! { <option value=t.as_str() selected=user.tier == t>{t.as_str()}</option> }).collect_view()}
                    </select>
                    <button class="button secondary" type="submit">"Set tier"</button>
                </ActionForm>
            </section>

            <section class="card" aria-labelledby="ban-title">
                <h2 id="ban-title">"Ban"</h2>
                {if banned {
                    view! {
                        <ActionForm action=change>
                            <input type="hidden" name="id" value=id.get_value() />
                            <input type="hidden" name="change" value="unban" />
                            <button class="button secondary" type="submit">"Lift the ban"</button>
                        </ActionForm>
                    }.into_any()
                } else {
                    view! {
                        <p>"A ban ends their sessions and stops them signing in; they see the reason."</p>
                        <ActionForm action=change attr:novalidate=true>
                            <input type="hidden" name="id" value=id.get_value() />
                            <input type="hidden" name="change" value="ban" />
                            <Field name="reason" label="Reason" error=change_error maxlength=500 />
                            <button class="button danger" type="submit">"Ban"</button>
                        </ActionForm>
                    }.into_any()
                }}
            </section>

            <section class="card" aria-labelledby="sessions-title">
                <h2 id="sessions-title">"Sessions"</h2>
                {if detail.sessions.is_empty() {
                    view! { <p>"Not signed in anywhere."</p> }.into_any()
                } else {
                    view! {
                        <div class="table-wrap" tabindex="0" role="region" aria-label="Table (scrolls sideways on small screens)"><table>
                            <thead><tr><th scope="col">"Device"</th><th scope="col">"Address"</th><th scope="col">"Last active"</th><th scope="col"><span class="visually-hidden">"Action"</span></th></tr></thead>
                            <tbody>
                                {detail.sessions.into_iter().map(|s| view! {
                                    <tr>
                                        <td>{s.device.clone()}</td>
                                        <td>{s.ip_address.clone().unwrap_or_default()}</td>
                                        <td>{when(s.last_active)}</td>
                                        <td>
                                            <ActionForm action=end_session>
                                                <input type="hidden" name="id" value=id.get_value() />
                                                <input type="hidden" name="session" value=s.id.clone() />
                                                <button class="button small secondary" type="submit" aria-label=format!("End the session on {}", s.device)>"End"</button>
                                            </ActionForm>
                                        </td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table></div>
                    }.into_any()
                }}
            </section>

            <section class="card" aria-labelledby="accounts-title">
                <h2 id="accounts-title">"Connected accounts"</h2>
                <ul>
                    {detail.accounts.into_iter().map(|a| view! {
                        <li>{if a.provider == "credential" { "Email and password".to_string() } else { format!("{} ({})", a.provider, a.account_id) }} ", since " {when(a.created_at)}</li>
                    }).collect_view()}
                </ul>
            </section>

            <section class="card" aria-labelledby="jobs-title">
                <h2 id="jobs-title">"Artwork jobs"</h2>
                {if detail.jobs.is_empty() {
                    view! { <p>"No artwork jobs."</p> }.into_any()
                } else {
                    view! {
                        <ul>
                            {detail.jobs.into_iter().map(|j| view! {
                                <li>{j.job_id} " — " {j.status} " — " {when(j.created_at)}</li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </section>

            <section class="card danger" aria-labelledby="delete-title">
                <h2 id="delete-title">"Delete this user"</h2>
                <p>"Deletes the account, its sessions, connected accounts and artwork jobs. It cannot be undone."</p>
                <ActionForm action=delete attr:novalidate=true>
                    <FormMessage error=delete_error />
                    <input type="hidden" name="id" value=id.get_value() />
                    <Field name="confirm" label="Type their email address to confirm" error=delete_error maxlength=254 />
                    <button class="button danger" type="submit">"Delete user"</button>
                </ActionForm>
            </section>
        </div>
    }
}
