use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use crate::api::profile::{
    my_profile, ChangePassword, DeleteAccount, EndOtherSessions, EndSession, ResendMyVerification,
    UnlinkAccount, UpdateName,
};
use crate::components::form::{error_of, first_error, Field, FormMessage, Loading, Notices};
use crate::components::layout::reloads;
use crate::components::{boxed, page_data};
use crate::views::{
    LinkedAccount, Me, Notice, ProfileView, ProviderChoice, SessionView, SignInMethods,
    OLDER_RECOVERY_CODES, TWO_FACTOR_PAGE,
};

use crate::components::when;
use crate::components::whole::loaded;

#[component]
pub fn ProfilePage() -> impl IntoView {
    let profile = page_data(reloads, |_| boxed(my_profile()));
    view! {
        <Title text="Your profile" />
        // A Transition: after a change (a session ended, a name saved) the page stays as it
        // was until the new one is here, instead of blinking to "Loading…".
        <Transition fallback=Loading>
            {move || loaded(async move {
                match profile.await {
                    Ok(Some(ProfileView { me, sessions, methods, older_recovery_codes, cards })) => {
                        view! { <Profile me sessions methods older_recovery_codes cards /> }.into_any()
                    }
                    Ok(None) => view! { <Redirect path="/login?next=/profile" /> }.into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Profile(
    me: Me,
    sessions: Vec<SessionView>,
    methods: SignInMethods,
    older_recovery_codes: bool,
    cards: String,
) -> impl IntoView {
    let update_name = ServerAction::<UpdateName>::new();
    let resend = ServerAction::<ResendMyVerification>::new();
    let change_password = ServerAction::<ChangePassword>::new();
    let end_session = ServerAction::<EndSession>::new();
    let end_others = ServerAction::<EndOtherSessions>::new();
    let delete = ServerAction::<DeleteAccount>::new();
    let name_error = error_of(update_name);
    let resend_error = error_of(resend);
    let password_error = error_of(change_password);
    let session_error = first_error([error_of(end_session), error_of(end_others)]);
    let delete_error = error_of(delete);
    let others = sessions.iter().filter(|s| !s.this_device).count();
    let has_password = methods.has_password;
    let access = if me.whitelisted {
        "You have access."
    } else {
        "Waiting for an administrator to let you in."
    };

    view! {
        <div class="stack">
            <h1>"Your profile"</h1>
            <Notices shows=&[Notice::NameSaved, Notice::PasswordChanged, Notice::VerificationSent, Notice::SessionEnded, Notice::OtherSessionsEnded, Notice::Linked, Notice::Unlinked, Notice::PasskeyAdded, Notice::PasskeyRenamed, Notice::PasskeyRemoved] />

            <section class="card" aria-labelledby="account-title">
                <h2 id="account-title">"Account"</h2>
                <dl class="facts">
                    <dt>"Email"</dt>
                    <dd>
                        {me.email.clone()} " "
                        {if me.email_verified {
                            view! { <span class="badge ok">"confirmed"</span> }.into_any()
                        } else {
                            view! { <span class="badge warn">"not confirmed"</span> }.into_any()
                        }}
                    </dd>
                    <dt>"Role"</dt><dd>{me.role.as_str()}</dd>
                    <dt>"Tier"</dt><dd>{me.tier.as_str()}</dd>
                    <dt>"Access"</dt><dd>{access}</dd>
                </dl>
                <Show when=move || !me.email_verified>
                    <ActionForm action=resend>
                        <FormMessage error=resend_error />
                        <button class="button secondary" type="submit">"Send a new confirmation link"</button>
                    </ActionForm>
                </Show>
                <ActionForm action=update_name attr:novalidate=true>
                    <FormMessage error=name_error />
                    <Field name="name" label="Name" autocomplete="name" error=name_error value=me.name.clone() maxlength=100 />
                    <button class="button" type="submit">"Save name"</button>
                </ActionForm>
            </section>

            // "Email address", "Passkeys" and "Your data", as the server wrote them
            // (`ProfileView::cards`).
            <div class="stack" inner_html=cards />

            <Connected linked=methods.linked available=methods.available />

            <section class="card" aria-labelledby="password-title">
                <h2 id="password-title">"Password"</h2>
                <p>
                    {if has_password {
                        "Changing it ends every other session."
                    } else {
                        "You sign in through a provider. Set a password to sign in with your email too; it ends every other session."
                    }}
                </p>
                <ActionForm action=change_password attr:novalidate=true>
                    <FormMessage error=password_error />
                    <Show when=move || has_password>
                        <Field name="current_password" label="Current password" kind="password" autocomplete="current-password" error=password_error maxlength=256 />
                    </Show>
                    <Field name="new_password" label="New password" kind="password" autocomplete="new-password" hint="At least 8 characters." error=password_error maxlength=256 />
                    <button class="button" type="submit">{if has_password { "Change password" } else { "Set password" }}</button>
                </ActionForm>
            </section>

            <section class="card" aria-labelledby="two-factor-title">
                <h2 id="two-factor-title">"Two-step sign-in"</h2>
                <p>
                    {if me.two_factor {
                        "On: signing in also asks for a code from your authenticator app."
                    } else {
                        "Off: a password alone signs you in."
                    }}
                    " "
                    // Plain text, not a view of its own: the client has a size budget.
                    {older_recovery_codes.then_some(OLDER_RECOVERY_CODES)}
                    <a href=TWO_FACTOR_PAGE>{if me.two_factor { "Manage two-step sign-in" } else { "Set up two-step sign-in" }}</a>
                </p>
            </section>

            <section class="card" aria-labelledby="sessions-title">
                <h2 id="sessions-title">"Sessions"</h2>
                <FormMessage error=session_error />
                <div class="table-wrap" tabindex="0" role="region" aria-label="Table (scrolls sideways on small screens)">
                    <table>
                        <caption class="visually-hidden">"Where you are signed in"</caption>
                        <thead>
                            <tr><th scope="col">"Device"</th><th scope="col">"Address"</th><th scope="col">"Signed in"</th><th scope="col">"Last active"</th><th scope="col"><span class="visually-hidden">"Action"</span></th></tr>
                        </thead>
                        <tbody>
                            {sessions.into_iter().map(|s| {
                                let label = format!("End the session on {}", s.device);
                                view! {
                                    <tr>
                                        <td>{s.device.clone()} {s.this_device.then(|| view! { " " <span class="badge ok">"this device"</span> })}</td>
                                        <td>{s.ip_address.clone().unwrap_or_else(|| "unknown".into())}</td>
                                        <td>{when(s.created_at)}</td>
                                        <td>{when(s.last_active)}</td>
                                        <td>
                                            {(!s.this_device).then(|| view! {
                                                <ActionForm action=end_session>
                                                    <input type="hidden" name="id" value=s.id.clone() />
                                                    <button class="button small secondary" type="submit" aria-label=label.clone()>"End"</button>
                                                </ActionForm>
                                            })}
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
                {(others > 0).then(|| view! {
                    <ActionForm action=end_others>
                        <button class="button secondary" type="submit">"End all other sessions"</button>
                    </ActionForm>
                })}
            </section>

            <section class="card danger" aria-labelledby="delete-title">
                <h2 id="delete-title">"Delete your account"</h2>
                <p>"This deletes your account, your sessions and your artwork jobs. It cannot be undone."</p>
                <ActionForm action=delete attr:novalidate=true>
                    <FormMessage error=delete_error />
                    <Show when=move || has_password>
                        <Field name="password" label="Your password" kind="password" autocomplete="current-password" error=delete_error maxlength=256 />
                    </Show>
                    <Field name="confirm" label="Type DELETE to confirm" error=delete_error maxlength=10 />
                    <button class="button danger" type="submit">"Delete my account"</button>
                </ActionForm>
            </section>
        </div>
    }
}

/// "Connected accounts": each provider account the person signs in with, with a button to
/// disconnect it (not offered for the last way in), and buttons to connect the others.
#[component]
fn Connected(linked: Vec<LinkedAccount>, available: Vec<ProviderChoice>) -> impl IntoView {
    let unlink = ServerAction::<UnlinkAccount>::new();
    let error = error_of(unlink);
    if linked.is_empty() && available.is_empty() {
        return None;
    }
    Some(view! {
        <section class="card" aria-labelledby="connected-title">
            <h2 id="connected-title">"Connected accounts"</h2>
            <FormMessage error />
            {if linked.is_empty() {
                view! { <p>"No account is connected yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="connected">
                        {linked.into_iter().map(|account| {
                            let label = format!("Disconnect {}", account.provider_name);
                            view! {
                                <li>
                                    <span>{account.provider_name.clone()} " " <span class="muted">{format!("(id {})", account.account_id)}</span></span>
                                    {if account.can_unlink {
                                        view! {
                                            <ActionForm action=unlink>
                                                <input type="hidden" name="provider" value=account.provider_id.clone() />
                                                <button class="button small secondary" type="submit" aria-label=label>"Disconnect"</button>
                                            </ActionForm>
                                        }.into_any()
                                    } else {
                                        view! { <span class="muted">"your only way to sign in"</span> }.into_any()
                                    }}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            {available.into_iter().map(|p| view! {
                <form method="post" action=format!("/auth/{}", p.id)>
                    <input type="hidden" name="intent" value="link" />
                    <button class="button secondary" type="submit">{format!("Connect {}", p.name)}</button>
                </form>
            }).collect_view()}
        </section>
    })
}
