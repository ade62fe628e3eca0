//! The artist's artwork jobs: the list with its submit form, and one job in detail.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::artworks::{my_job, my_jobs, SubmitArtwork};
use crate::api::AppError;
use crate::components::form::{error_of, Field, FormMessage, Loading, Notices};
use crate::components::layout::reloads;
use crate::components::live;
use crate::components::{boxed, page_data};
use crate::pages::not_found::NotFound;
use crate::views::{encoded, JobView, Notice};

use crate::components::when;
use crate::components::whole::loaded;

/// 401 and 403 say what to do; 404 is the 404 page.
fn refused(error: AppError) -> AnyView {
    match error.status {
        404 => view! { <NotFound /> }.into_any(),
        401 => view! { <p class="form-error" role="alert">"Sign in to see your artworks. " <a href="/login?next=/artworks">"Sign in"</a></p> }.into_any(),
        _ => view! { <p class="form-error" role="alert">{error.message}</p> }.into_any(),
    }
}

#[component]
fn StatusBadge(status: String) -> impl IntoView {
    let class = match status.as_str() {
        "done" => "badge ok",
        "failed" => "badge danger",
        "processing" => "badge info",
        _ => "badge warn",
    };
    view! { <span class=class>{status}</span> }
}

#[component]
fn Thumb(url: String, label: &'static str) -> impl IntoView {
    let href = url.clone();
    view! {
        <a href=href class="thumb" target="_blank" rel="noopener noreferrer">
            <img src=url alt=label loading="lazy" width="120" height="120" />
        </a>
    }
}

#[component]
pub fn ArtworksPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.read().get(name).unwrap_or_default();
    let page = page_data(
        move || (reloads(), param("status"), param("after")),
        |(_, status, after)| boxed(my_jobs(status, after)),
    );
    live::follow(
        move || match page.get() {
            Some(Ok(page)) => Some(format!("/api/artworks/events?since={}", page.as_of)),
            _ => None,
        },
        move || page.refetch(),
    );
    let submit = ServerAction::<SubmitArtwork>::new();
    let error = error_of(submit);
    view! {
        <Title text="Your artworks" />
        // A live change asks for the page again; the rows stay until the new ones are there.
        <Transition fallback=Loading>
            {move || loaded(async move {
                let status = param("status");
                match page.await {
                    Err(e) => refused(e),
                    Ok(page) => view! {
                        <div class="stack">
                            <h1>"Your artworks"</h1>
                            <Notices shows=&[Notice::Submitted] />
                            <section class="card" aria-labelledby="submit-title">
                                <h2 id="submit-title">"Protect a new artwork"</h2>
                                <ActionForm action=submit attr:novalidate=true>
                                    <FormMessage error />
                                    <Field name="original_url" label="Image address" kind="url" hint="An https:// (or http://) address of the original image." error maxlength=2048 />
                                    <button class="button" type="submit">"Submit"</button>
                                </ActionForm>
                            </section>
                            <form method="get" action="/artworks" class="filters" role="search">
                                <div class="field">
                                    <label for="status">"Status"</label>
                                    <select id="status" name="status">
                                        {["", "queued", "processing", "done", "failed"].iter().map(|s| view! {
                                            <option value=*s selected=status == *s>{if s.is_empty() { "Any" } else { s }}</option>
                                        }).collect_view()}
                                    </select>
                                </div>
                                <button class="button secondary" type="submit">"Show"</button>
                            </form>
                            <JobList rows=page.rows />
                            {page.next.map(|next| view! {
                                <p><a rel="next" href=format!("/artworks?status={status}&after={next}")>"Older artworks"</a></p>
                            })}
                        </div>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn JobList(rows: Vec<JobView>) -> impl IntoView {
    if rows.is_empty() {
        return view! {
            <p class="empty" role="status">"No artworks here yet. Submit the address of an image above and it appears in this list, queued for protection."</p>
        }
        .into_any();
    }
    view! {
        <ul class="jobs">
            {rows.into_iter().map(job_row).collect_view()}
        </ul>
    }
    .into_any()
}

/// One job of the list; its fields are moved into the row, not copied.
fn job_row(job: JobView) -> impl IntoView {
    let protected = job.protected_image().map(str::to_owned);
    let JobView {
        job_id,
        status,
        original_url,
        created_at,
        updated_at,
        ..
    } = job;
    view! {
        <li class="job card">
            <div class="job-images">
                <Thumb url=original_url label="Original" />
                {protected.map(|url| view! { <Thumb url label="Protected" /> })}
            </div>
            <div>
                <p><a href=format!("/artworks/{job_id}")>{format!("Job {job_id}")}</a> " " <StatusBadge status /></p>
                <p class="hint">"Submitted " {when(created_at)} " · updated " {when(updated_at)}</p>
            </div>
        </li>
    }
}

#[component]
pub fn ArtworkPage() -> impl IntoView {
    let params = use_params_map();
    let detail = page_data(
        move || params.read().get("job_id").unwrap_or_default(),
        |job_id| boxed(my_job(job_id)),
    );
    live::follow(
        move || match detail.get() {
            Some(Ok(detail)) => Some(format!(
                "/api/artworks/events?job_id={}&since={}",
                encoded(&detail.job.job_id),
                detail.as_of
            )),
            _ => None,
        },
        move || detail.refetch(),
    );
    view! {
        <Title text="Artwork" />
        <Transition fallback=Loading>
            {move || loaded(async move {
                match detail.await {
                    Err(e) => refused(e),
                    Ok(detail) => {
                        let job = detail.job;
                        view! {
                            <div class="stack">
                                <h1>{format!("Job {}", job.job_id)} " " <StatusBadge status=job.status.clone() /></h1>
                                <p><a href="/artworks">"Back to your artworks"</a></p>
                                <section class="card job-images" aria-label="Images">
                                    <figure><Thumb url=job.original_url.clone() label="Original" /><figcaption>"Original"</figcaption></figure>
                                    {job.protected_image().map(|url| view! {
                                        <figure><Thumb url=url.to_owned() label="Protected" /><figcaption>"Protected"</figcaption></figure>
                                    })}
                                </section>
                                <section class="card" aria-labelledby="history-title">
                                    <h2 id="history-title">"History"</h2>
                                    <ol class="history">
                                        {detail.history.into_iter().map(|e| view! { <li><time>{when(e.at)}</time> " " {e.what}</li> }).collect_view()}
                                    </ol>
                                </section>
                            </div>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}
