//! Form pieces: the card a one-form page sits in, a labelled field with its error beside it,
//! the form-wide message, and the note a page shows after a change went through.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::AppError;
use crate::views::Notice;

/// The error of an action's last answer, if it was refused.
pub fn error_of<S>(action: ServerAction<S>) -> Signal<Option<AppError>>
where
    S: ServerFn<Error = AppError> + Send + Sync + Clone + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    // Taken once: each `value()` is a new signal in the page's arena, and a field reads
    // its error several times.
    let value = action.value();
    Signal::derive(move || value.get().and_then(Result::err))
}

/// The first error among several actions' (a section whose forms share one message).
pub fn first_error<const N: usize>(
    errors: [Signal<Option<AppError>>; N],
) -> Signal<Option<AppError>> {
    Signal::derive(move || errors.iter().find_map(|error| error.get()))
}

/// A page that is one form: its title (the tab's, and the heading's unless `heading` says
/// otherwise) over a card.
#[component]
pub fn FormCard(
    /// Names the heading (`ID-title`) the card is labelled by.
    id: &'static str,
    title: &'static str,
    #[prop(optional)] heading: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    let heading_id = format!("{id}-title");
    let labelled_by = heading_id.clone();
    view! {
        <Title text=title />
        <section class="card" aria-labelledby=labelled_by>
            <h1 id=heading_id>{heading.unwrap_or(title)}</h1>
            {children()}
        </section>
    }
}

/// The field for a new password, with what the rules ask of it.
#[component]
pub fn NewPasswordField(
    label: &'static str,
    hint: &'static str,
    #[prop(into)] error: Signal<Option<AppError>>,
) -> impl IntoView {
    view! {
        <Field
            name="password"
            label
            kind="password"
            autocomplete="new-password"
            hint
            error
            maxlength=256
        />
    }
}

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
    // A refused password is not kept: the server's page comes back without it, and so does
    // the client's (the input would otherwise keep what was typed).
    let input = NodeRef::<leptos::html::Input>::new();
    if kind == "password" {
        Effect::new(move || {
            if let (Some(_), Some(input)) = (error.get(), input.get()) {
                input.set_value("");
            }
        });
    }
    // In the browser, the first field in error of its form takes the focus, once the page
    // shows the errors (a frame later).
    #[cfg(feature = "hydrate")]
    Effect::new(move || {
        if message().is_some() {
            request_animation_frame(move || focus_if_first_error(input));
        }
    });
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
                node_ref=input
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

#[cfg(feature = "hydrate")]
fn focus_if_first_error(input: NodeRef<leptos::html::Input>) {
    let Some(input) = input.get_untracked() else {
        return;
    };
    let first = input
        .form()
        .and_then(|form| form.query_selector("[aria-invalid=true]").ok().flatten());
    let element: &web_sys::Element = input.as_ref();
    if first.as_ref().is_none_or(|first| first == element) {
        let _ = input.focus();
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

/// The success note the address names (`?notice=…`), if it is one of `shows`. Read once, as
/// the page renders: an action's redirect back to its page shows the note with the data it
/// asks for again, not beside what was there before.
#[component]
pub fn Notices(shows: &'static [Notice]) -> impl IntoView {
    let code = use_query_map().with_untracked(|query| query.get("notice").unwrap_or_default());
    Notice::find(shows, &code)
        .map(|notice| view! { <p class="notice" role="status">{notice.message()}</p> })
}

/// What a page shows while its data is on the way (in the browser, after a navigation).
#[component]
pub fn Loading() -> impl IntoView {
    view! { <p class="loading" role="status">"Loading…"</p> }
}

/// A form that `public/passkey.js` runs as a WebAuthn ceremony (`kind`: add, sign-in or
/// second-step; adding asks for a name), as HTML: its button starts disabled beside a note
/// that passkeys need JavaScript, and the script turns it on. Without JavaScript it never
/// posts, so it needs no action. Written as text, not as a view: the client's module (which
/// has a size budget) then carries no rendering code for it, only this.
pub fn passkey_form(kind: &str, label: &str, next: &str) -> String {
    passkey_form_with(kind, "", label, next)
}

/// [`passkey_form`] with the fields `name` first.
fn passkey_form_with(kind: &str, name: &str, label: &str, next: &str) -> String {
    format!(
        r#"<form class="passkey" method="post" action="/api/passkey" data-passkey="{kind}">{name}<input type="hidden" name="next" value="{next}"><button class="button secondary wide" type="submit" disabled>{label}</button><p class="hint" data-passkey-note>Passkeys need JavaScript, which is off here.</p><p class="form-error" aria-live="assertive" data-passkey-error hidden></p></form>"#,
        next = escaped(next),
    )
}

/// The profile's "Passkeys" card: what they are, the list, each with its rename and remove
/// forms (plain forms to `two_step`: with JavaScript or without, the page comes back with a
/// notice or the refusal, `refused`, said at the top of the card), and the form that adds one. Written on the server as text, which the
/// page carries as its data: the client (which has a size budget) has no code for it at all.
/// The names people gave are escaped.
#[cfg(feature = "ssr")]
pub fn passkey_card(passkeys: &[crate::views::PasskeyView], refused: Option<&AppError>) -> String {
    let mut html = String::from(
        r#"<section class="card" aria-labelledby="passkeys-title"><h2 id="passkeys-title">Passkeys</h2><p>A passkey signs you in with your device's screen lock or a security key, no password needed. Once you have one, signing in with a password asks for it too.</p>"#,
    );
    html.push_str(&form_message_html(refused));
    if !passkeys.is_empty() {
        html.push_str(r#"<ul class="passkeys">"#);
    }
    for p in passkeys {
        let name = escaped(&p.name);
        let id = escaped(&p.id);
        let added = p
            .created_at
            .map_or_else(|| "unknown".to_string(), super::when);
        let used = p
            .last_used_at
            .map_or_else(|| "never".to_string(), super::when);
        html.push_str(&format!(
            r#"<li><span><strong>{name}</strong> <span class="muted">added {added}, last used {used}</span></span><form class="inline-form" method="post" action="/api/two-factor"><input type="hidden" name="step" value="rename-passkey"><input type="hidden" name="id" value="{id}"><input name="name" value="{name}" maxlength="60" required aria-label="New name for {name}"><button class="button small secondary" type="submit" aria-label="Rename {name}">Rename</button></form><form method="post" action="/api/two-factor"><input type="hidden" name="step" value="remove-passkey"><input type="hidden" name="id" value="{id}"><button class="button small danger" type="submit" aria-label="Remove {name}">Remove</button></form></li>"#
        ));
    }
    if !passkeys.is_empty() {
        html.push_str("</ul>");
    }
    html.push_str(&add_passkey_form());
    html.push_str("</section>");
    html
}

/// The profile's "Your data" card: a plain form to `POST /profile/data` (its answer is a
/// file, not a page), with the password once more where there is one. A refused download
/// comes back to the profile as `?export=REASON`: a code of a closed set, said here in words
/// beside the form (any other code says nothing, so a link cannot put words on the page).
/// Written on the server as text, as the passkey card is: the client has no code for it.
#[cfg(feature = "ssr")]
pub fn data_card(has_password: bool, refused: &str) -> String {
    let (field_error, form_error) = match refused {
        "password" => (Some("That is not your current password."), None),
        "sign-in-again" => (
            None,
            Some(format!(
                r#"{} <a href="/login?next=/profile">Sign in again</a>"#,
                crate::views::SIGN_IN_AGAIN
            )),
        ),
        "rate-limited" => (
            None,
            Some("Too many downloads or wrong passwords. Wait a few minutes and try again.".into()),
        ),
        "unavailable" => (
            None,
            Some("Your data could not be gathered just now. Try again in a minute.".into()),
        ),
        _ => (None, None),
    };
    let form_error = form_error
        .map(|m| format!(r#"<p class="form-error" role="alert">{m}</p>"#))
        .unwrap_or_default();
    let password = if has_password {
        let (invalid, message) = match field_error {
            Some(m) => (
                r#" aria-invalid="true" aria-describedby="field-data_password-error" autofocus"#,
                format!(r#"<p class="field-error" id="field-data_password-error">{m}</p>"#),
            ),
            None => ("", String::new()),
        };
        let class = if field_error.is_some() {
            "field has-error"
        } else {
            "field"
        };
        format!(
            r#"<div class="{class}"><label for="field-data_password">Password to download your data</label><input id="field-data_password" name="data_password" type="password" autocomplete="current-password" required maxlength="256"{invalid}>{message}</div>"#
        )
    } else {
        String::new()
    };
    format!(
        r#"<section class="card" id="your-data" aria-labelledby="data-title"><h2 id="data-title">Your data</h2><p>Download everything Gatehouse holds about you as one JSON file: your account, how you sign in (never a password or a token), your sessions, your artwork jobs and the events about your account.</p><form method="post" action="/profile/data" novalidate>{form_error}{password}<button class="button secondary" type="submit">Download my data</button></form></section>"#
    )
}

/// A labelled input as [`Field`] writes it, for forms the server writes as HTML: its error
/// (from `error`, the form's refusal) under it, linked for screen readers; what was typed
/// comes back after an error, except for passwords.
#[cfg(feature = "ssr")]
pub struct HtmlField<'a> {
    pub name: &'a str,
    pub label: &'a str,
    pub kind: &'a str,
    pub autocomplete: &'a str,
    pub maxlength: usize,
    pub hint: Option<&'a str>,
}

#[cfg(feature = "ssr")]
impl HtmlField<'_> {
    pub fn html(&self, error: Option<&AppError>) -> String {
        let (name, id) = (self.name, format!("field-{}", self.name));
        let message = error.and_then(|e| e.field(name));
        let kept = error
            .filter(|_| self.kind != "password")
            .and_then(|e| e.kept(name))
            .map(|value| format!(r#" value="{}""#, escaped(&value)))
            .unwrap_or_default();
        let mut described = Vec::new();
        let hint = self
            .hint
            .map(|hint| {
                described.push(format!("{id}-hint"));
                format!(r#"<p class="hint" id="{id}-hint">{hint}</p>"#)
            })
            .unwrap_or_default();
        let (class, invalid, message) = match message {
            Some(m) => {
                described.push(format!("{id}-error"));
                (
                    "field has-error",
                    // The first field in error takes the focus as the page loads.
                    r#" aria-invalid="true" autofocus"#,
                    format!(
                        r#"<p class="field-error" id="{id}-error">{}</p>"#,
                        escaped(&m)
                    ),
                )
            }
            None => ("field", "", String::new()),
        };
        let described = if described.is_empty() {
            String::new()
        } else {
            format!(r#" aria-describedby="{}""#, described.join(" "))
        };
        format!(
            r#"<div class="{class}"><label for="{id}">{label}</label>{hint}<input id="{id}" name="{name}" type="{kind}" autocomplete="{autocomplete}" required maxlength="{max}"{kept}{invalid}{described}>{message}</div>"#,
            label = self.label,
            kind = self.kind,
            autocomplete = self.autocomplete,
            max = self.maxlength,
        )
    }
}

/// [`FormMessage`] as HTML, for forms the server writes.
#[cfg(feature = "ssr")]
pub fn form_message_html(error: Option<&AppError>) -> String {
    let Some(error) = error else {
        return String::new();
    };
    let text = if error.fields.is_empty() {
        escaped(&error.message)
    } else {
        "Some fields need attention: see below.".into()
    };
    let again = if error.message == crate::views::SIGN_IN_AGAIN {
        r#" <a href="/login?next=/profile">Sign in again</a>"#
    } else {
        ""
    };
    format!(r#"<p class="form-error" role="alert">{text}{again}</p>"#)
}

#[cfg(feature = "ssr")]
fn add_passkey_form() -> String {
    let name = r#"<label for="passkey-name">Name for the new passkey (optional)</label><input id="passkey-name" name="name" maxlength="60" autocomplete="off">"#;
    passkey_form_with("add", name, "Add a passkey", "")
}

/// `text` for HTML text or a quoted attribute.
pub fn escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn what_people_typed_cannot_become_markup() {
        assert_eq!(
            super::escaped(r#"<b onclick="x">Tom & 'Jerry'</b>"#),
            "&lt;b onclick=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/b&gt;"
        );
        let form = super::passkey_form("sign-in", "Sign in with a passkey", "/a\"><script>");
        assert!(
            form.contains(r#"value="/a&quot;&gt;&lt;script&gt;""#),
            "{form}"
        );
        assert!(!form.contains("passkey-name"));
        #[cfg(feature = "ssr")]
        assert!(super::add_passkey_form().contains(r#"<label for="passkey-name">"#));
    }
}
