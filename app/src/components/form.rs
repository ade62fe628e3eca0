//! Form pieces: a labelled field with its error beside it, and the form-wide message.

use leptos::prelude::*;

use leptos_router::hooks::use_query_map;

use crate::api::AppError;
use crate::views::Notice;

/// A labelled input. Its error (if any) sits under it, linked for screen readers; what was
/// typed comes back after an error, except for passwords.
#[component]
pub fn Field(
    name: &'static str,
    label: &'static str,
    #[prop(into)] error: Signal<Option<AppError>>,
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = "off")] autocomplete: &'static str,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(optional, into)] value: Option<String>,
    #[prop(default = true)] required: bool,
    #[prop(optional)] maxlength: Option<usize>,
) -> impl IntoView {
    let id = format!("field-{name}");
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let message = move || error.get().and_then(|e| e.field(name));
    let kept = move || {
        if kind == "password" {
            None
        } else {
            error
                .get()
                .and_then(|e| e.kept(name))
                .or_else(|| value.clone())
        }
    };
    let described_by = {
        let (error_id, hint_id) = (error_id.clone(), hint_id.clone());
        move || {
            let mut ids = Vec::new();
            if hint.is_some() {
                ids.push(hint_id.clone());
            }
            if message().is_some() {
                ids.push(error_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    view! {
        <div class="field" class:has-error=move || message().is_some()>
            <label for=id.clone()>{label}</label>
            {hint.map(|hint| view! { <p class="hint" id=hint_id.clone()>{hint}</p> })}
            <input
                id=id.clone()
                name=name
                type=kind
                autocomplete=autocomplete
                required=required
                maxlength=maxlength
                value=kept
                aria-invalid=move || message().is_some().then_some("true")
                aria-describedby=described_by
            />
            {move || {
                message().map(|m| view! { <p class="field-error" id=error_id.clone()>{m}</p> })
            }}
        </div>
    }
}

/// The message that belongs to the whole form, announced when it appears.
#[component]
pub fn FormMessage(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error.get().map(|e| {
            let again = e.message == crate::views::SIGN_IN_AGAIN;
            let text = if e.fields.is_empty() {
                e.message
            } else {
                "Some fields need attention: see below.".into()
            };
            if again {
                view! {
                    <p class="form-error" role="alert">
                        {text} " " <a href="/login?next=/profile">"Sign in again"</a>
                    </p>
                }
                .into_any()
            } else {
                view! { <p class="form-error" role="alert">{text}</p> }.into_any()
            }
        })
    }
}

/// The success note the address names (`?notice=…`), if it is one of `shows`.
#[component]
pub fn Notices(shows: &'static [Notice]) -> impl IntoView {
    let query = use_query_map();
    move || {
        let code = query.read().get("notice").unwrap_or_default();
        Notice::find(shows, &code)
            .map(|notice| view! { <p class="notice" role="status">{notice.message()}</p> })
    }
}
