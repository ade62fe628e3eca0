//! The invitee's page, `/invitation?token=T`, written on the server as HTML: the client has
//! no code for it (its size budget), and the Leptos router's fallback asks the server for
//! it. It says who invited which address as what, with a form (name and password; the
//! address fixed) that posts to `POST /invitation/accept` (server/src/routes/invitations.rs). A
//! refused form comes back as `&refused=CODE`, a code of a closed set said here in words.

use crate::components::form::escaped;
use crate::components::when;
use crate::services::invitations;
use crate::services::sessions::SignedIn;
use crate::services::{policy, Refusal, Services};
use crate::views::Role;

/// The page's title.
pub const TITLE: &str = "Your invitation";

/// The page for the link's `token`, or why there is none: [`Refusal::InvitationEnded`]
/// (410) for a link that was used, revoked, or whose week ran out ([`ended_html`] says so).
pub async fn invitation_page(
    services: &Services,
    current: Option<&SignedIn>,
    token: &str,
    refused: &str,
) -> Result<String, Refusal> {
    let invited = invitations::open_by_token(services, token).await?;
    let role = match invited.role {
        Role::Admin => "an administrator",
        Role::User => "a user",
    };
    let email = escaped(&invited.email);
    let signed_in = current
        .map(|current| {
            format!(
                r#"<p class="hint">You are signed in as {}. Accepting makes a new account for {email} and signs you in to it.</p>"#,
                escaped(&current.me().email)
            )
        })
        .unwrap_or_default();
    let (form_error, name_error, password_error) = match refusal_words(refused) {
        Some((Some("name"), words)) => (String::new(), Some(words), None),
        Some((Some("password"), words)) => (String::new(), None, Some(words)),
        Some((_, words)) => (
            format!(r#"<p class="form-error" role="alert">{words}</p>"#),
            None,
            None,
        ),
        None => (String::new(), None, None),
    };
    let field = |name: &str,
                 label: &str,
                 kind: &str,
                 autocomplete: &str,
                 max: usize,
                 hint: &str,
                 error: Option<&str>| {
        let id = format!("field-{name}");
        let mut described = Vec::new();
        let hint = if hint.is_empty() {
            String::new()
        } else {
            described.push(format!("{id}-hint"));
            format!(r#"<p class="hint" id="{id}-hint">{hint}</p>"#)
        };
        let (class, invalid, message) = match error {
            Some(words) => {
                described.push(format!("{id}-error"));
                (
                    "field has-error",
                    r#" aria-invalid="true" autofocus"#,
                    format!(r#"<p class="field-error" id="{id}-error">{words}</p>"#),
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
            r#"<div class="{class}"><label for="{id}">{label}</label>{hint}<input id="{id}" name="{name}" type="{kind}" autocomplete="{autocomplete}" required maxlength="{max}"{invalid}{described}>{message}</div>"#
        )
    };
    let name = field(
        "name",
        "Name",
        "text",
        "name",
        policy::NAME_MAX,
        "",
        name_error,
    );
    let password = field(
        "password",
        "Password",
        "password",
        "new-password",
        policy::PASSWORD_MAX,
        "At least 8 characters.",
        password_error,
    );
    Ok(format!(
        r#"<section class="card" aria-labelledby="invitation-title"><h1 id="invitation-title">You are invited</h1><p>{by} invited <strong>{email}</strong> to Gatehouse, as {role} with the {tier} tier. This invitation works once, until {until}.</p>{signed_in}<form method="post" action="/invitation/accept" novalidate>{form_error}<input type="hidden" name="token" value="{token}"><div class="field"><label for="invited-email">Email</label><input id="invited-email" type="email" value="{email}" readonly aria-describedby="invited-email-hint"><p class="hint" id="invited-email-hint">The invited address, already confirmed by this link.</p></div>{name}{password}<button class="button wide" type="submit">Create my account</button></form><p>Or <a href="/login">sign in with a provider</a> that vouches for {email}: the invitation applies when you do.</p></section>"#,
        by = escaped(&invited.invited_by),
        tier = invited.tier.as_str(),
        until = when(invited.expires_at),
        token = escaped(token),
    ))
}

/// What a link that does not work shows (with status 410).
pub fn ended_html() -> String {
    r#"<section class="card" aria-labelledby="invitation-title"><h1 id="invitation-title">This invitation has expired or was already used</h1><p>Ask whoever invited you for a new one. Already accepted it? <a href="/login">Sign in</a>.</p></section>"#.to_string()
}

/// The words for a code `POST /invitation/accept` sends a refused browser back with: (the field it
/// is about, the words).
pub fn refusal_words(code: &str) -> Option<(Option<&'static str>, &'static str)> {
    Some(match code {
        "name" => (
            Some("name"),
            "Enter your name: at most 100 characters, no control characters.",
        ),
        "password" => (
            Some("password"),
            "Choose a password of 8 to 256 characters that is not one of the most common ones and not your email address.",
        ),
        "taken" => (
            None,
            "This address already has an account: sign in, and the invitation applies.",
        ),
        "rate-limited" => (None, "Too many attempts. Wait a few minutes and try again."),
        "unavailable" => (
            None,
            "Your account could not be made just now. Try again in a minute.",
        ),
        _ => return None,
    })
}

/// The code for a refusal of `POST /invitation/accept` (`None`: the link no longer works).
pub fn refusal_code(refusal: &Refusal) -> Option<&'static str> {
    Some(match refusal {
        Refusal::InvitationEnded => return None,
        Refusal::Invalid(fields) if fields.iter().any(|f| f.field == "name") => "name",
        Refusal::Invalid(_) => "password",
        Refusal::Conflict(_) => "taken",
        Refusal::RateLimited(_) => "rate-limited",
        _ => "unavailable",
    })
}
