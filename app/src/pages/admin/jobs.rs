use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{failed, when, AdminNav};
use crate::api::admin::{unowned_jobs, AssignJob};
use crate::components::form::{error_of, Field, FormMessage, Loading, Notices};
use crate::components::layout::reloads;
use crate::components::whole::loaded;
use crate::components::{boxed, page_data};
use crate::views::Notice;

/// Jobs from before their owners had accounts, to give to them; and moving any job.
#[component]
pub fn AdminJobsPage() -> impl IntoView {
    let query = use_query_map();
    let after = move || query.read().get("after").unwrap_or_default();
    let page = page_data(
        move || (reloads(), after()),
        |(_, after)| boxed(unowned_jobs(after)),
    );
    let assign = ServerAction::<AssignJob>::new();
    let error = error_of(assign);
    view! {
        <Title text="Jobs · Admin" />
        <Suspense fallback=Loading>
            {move || loaded(async move {
                match page.await {
                    Err(e) => failed(e),
                    Ok(page) => view! {
                        <div class="stack">
                            <h1>"Artwork jobs"</h1>
                            <AdminNav />
                            <Notices shows=&[Notice::JobAssigned] />
                            <section class="card" aria-labelledby="assign-title">
                                <h2 id="assign-title">"Give a job to a user"</h2>
                                <p>"For a job nobody owns, or to move a job from one user to another."</p>
                                <ActionForm action=assign attr:novalidate=true>
                                    <FormMessage error />
                                    <Field name="job_id" label="Job id" error maxlength=200 />
                                    <Field name="email" label="The user's email" kind="email" error maxlength=254 />
                                    <button class="button" type="submit">"Assign"</button>
                                </ActionForm>
                            </section>
                            <section class="card" aria-labelledby="unowned-title">
                                <h2 id="unowned-title">"Jobs nobody owns"</h2>
                                {if page.rows.is_empty() {
                                    view! { <p role="status">"Every job has an owner."</p> }.into_any()
                                } else {
                                    view! {
                                        <div class="table-wrap" tabindex="0" role="region" aria-label="Table (scrolls sideways on small screens)"><table>
                                            <thead><tr><th scope="col">"Job"</th><th scope="col">"Status"</th><th scope="col">"Image"</th><th scope="col">"Created"</th></tr></thead>
                                            <tbody>
                                                {page.rows.into_iter().map(|job| view! {
                                                    <tr>
                                                        <td><code>{job.job_id}</code></td>
                                                        <td>{job.status}</td>
                                                        <td><a href=job.original_url.clone() rel="noopener noreferrer">{job.original_url.clone()}</a></td>
                                                        <td>{when(job.created_at)}</td>
                                                    </tr>
                                                }).collect_view()}
                                            </tbody>
                                        </table></div>
                                    }.into_any()
                                }}
                                {page.next.map(|next| view! { <p><a rel="next" href=format!("/admin/jobs?after={next}")>"Older jobs"</a></p> })}
                            </section>
                        </div>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
