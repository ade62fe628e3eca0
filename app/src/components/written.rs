//! Pages and cards written on the server as HTML, which the client (whose module has a size
//! budget) has no code for: "Check your email", a refused provider sign-in, the landing pages
//! of the links a change of email address and an invitation mail, "Page not found", and the
//! profile's "Email address" card. Their forms post plainly to
//! server functions; a refusal comes back to the browser that sent it, once, and is written
//! beside the form ([`crate::api::request::form_error`]). What people typed is escaped.

use super::form::{escaped, form_message_html, HtmlField};
use super::when;
use crate::api::AppError;
use crate::services::accounts::PendingEmailChange;
use crate::services::invitations::Invited;
use crate::services::policy;
use crate::views::Role;
use crate::views::{WrittenPage, NOT_FOUND_HTML, NOT_FOUND_TITLE};

/// A page of one card: its title as the tab's and the heading's.
fn card_page(id: &str, title: &str, body: &str) -> WrittenPage {
    WrittenPage {
        title: title.to_string(),
        html: format!(
            r#"<section class="card" aria-labelledby="{id}-title"><h1 id="{id}-title">{title}</h1>{body}</section>"#
        ),
    }
}

pub fn not_found() -> WrittenPage {
    WrittenPage {
        title: NOT_FOUND_TITLE.into(),
        html: NOT_FOUND_HTML.into(),
    }
}

/// Where people land after asking for a mail (`for`: sign-up, reset or verification). It
/// says the same whether or not the address has an account.
pub fn check_email(asked_for: &str) -> WrittenPage {
    let text = match asked_for {
        "reset" => "If an account uses that address, we have sent it a link to reset the password. The link works for one hour.",
        "verification" => "If that address has an account waiting for confirmation, we have sent it a new link. The link works for 24 hours.",
        _ => "We have sent a link to the address you gave. Open it within 24 hours to confirm your address, then sign in.",
    };
    card_page(
        "check",
        "Check your email",
        &format!(
            r#"<p role="status">{text}</p><p>Nothing arrived? Look in your spam folder, or <a href="/login">go back to sign in</a>.</p>"#
        ),
    )
}

/// What a refused provider sign-in means, in words a person can act on. `{p}` is the
/// provider's name.
fn explain(reason: &str, connecting: bool) -> &'static str {
    match reason {
        "denied" if connecting => "You did not allow Gatehouse to use your {p} account, so it is not connected.",
        "denied" => "You did not allow Gatehouse to use your {p} account, so you are not signed in.",
        "expired" => "This sign-in took longer than ten minutes or was already finished. Start again.",
        "state" => "This sign-in could not be checked: it may have been started in another tab or window. Start again.",
        "replayed" => "This sign-in link was already used. Start again.",
        "provider" => "{p} did not answer as expected. Try again in a moment.",
        "no-verified-email" => "{p} has no verified email address for you. Verify your email address there, then try again.",
        "email-in-use" => "An account with this email address already exists. Sign in to it another way, then connect {p} from your profile.",
        "connect-first" => "{p} cannot sign you up or into an existing account by itself. Sign up or sign in another way, then connect {p} from your profile.",
        "linked-elsewhere" => "This {p} account is already connected to another Gatehouse account.",
        "already-connected" => "Another {p} account is already connected to yours. Disconnect it first to connect this one.",
        "confirm-email" => "Confirm your email address first: we have sent you a link, which asks for your Gatehouse password. Never had one? Choose one with “Forgotten your password?”: that confirms the address too. Then sign in again.",
        "banned" => "This account has been suspended.",
        "signed-out" => "Sign in first to connect an account.",
        "sign-in-again" => "For your safety, connecting {p} needs a sign-in from the last ten minutes. Sign in again, then connect it from your profile.",
        "rate-limited" => "Too many sign-ins were started from your network. Wait a minute, then try again.",
        _ => "Something went wrong on our side. Try again in a moment.",
    }
}

/// Where a refused provider sign-in (or connection, `connecting`) lands (status 400), with
/// what happened (`reason`, a code of a closed set: another code says only that something
/// went wrong, so a link cannot put words on the page) and a way back. `provider` is the
/// provider's name, if the address named one Gatehouse knows.
pub fn sign_in_failed(reason: &str, provider: Option<&str>, connecting: bool) -> WrittenPage {
    let title = if connecting {
        "Connecting did not work"
    } else {
        "Sign-in did not work"
    };
    let text = explain(reason, connecting).replace("{p}", provider.unwrap_or("the provider"));
    // A sentence starts with a capital, even "the provider".
    let mut chars = text.chars();
    let text: String = chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    let back = if connecting {
        r#"<a href="/profile">Back to your profile</a>"#
    } else {
        r#"<a href="/login">Back to sign in</a>"#
    };
    card_page(
        "failed",
        title,
        &format!(
            r#"<p class="form-error" role="alert">{text}</p><p class="links">{back}</p>"#,
            text = escaped(&text),
        ),
    )
}

/// A form posting `token` (and the `fields` before its button) to the server function at
/// `action`.
fn token_form(
    action: &str,
    token: &str,
    fields: &str,
    button: &str,
    class: &str,
    error: Option<&AppError>,
) -> String {
    format!(
        r#"<form method="post" action="{action}" novalidate>{message}<input type="hidden" name="token" value="{token}">{fields}<button class="button {class}" type="submit">{button}</button></form>"#,
        message = form_message_html(error),
        token = escaped(token),
    )
}

/// `/email-change?token=…` (from the new address's mail): a button that makes it the
/// account's address. A click, not the opening of the link: mail scanners open links. In a
/// browser where the account that asked is not signed in (`requester`), its password is
/// asked for too: the link alone proves only the mailbox.
pub fn confirm_email_change(
    new_email: &str,
    token: &str,
    requester: bool,
    error: Option<&AppError>,
) -> WrittenPage {
    let password = if requester {
        String::new()
    } else {
        let field = HtmlField {
            name: "password",
            label: "Password of the account that asked for this change",
            kind: "password",
            autocomplete: "current-password",
            maxlength: policy::PASSWORD_MAX,
            hint: Some("Not signed in here: the password proves the change is yours."),
        };
        field.html(error)
    };
    let body = format!(
        r#"<p>Make <strong>{email}</strong> the email address of your Gatehouse account? You will sign in with it from now on.</p>{form}"#,
        email = escaped(new_email),
        form = token_form(
            "/api/confirm-email-change",
            token,
            &password,
            "Confirm my new address",
            "",
            error
        ),
    );
    card_page("email-change", "Confirm your new email address", &body)
}

/// `/email-change?undo=…` (from the old address's mail): a button that stops the change, or
/// puts the old address back, and signs out every session.
pub fn undo_email_change(new_email: &str, token: &str, error: Option<&AppError>) -> WrittenPage {
    let body = format!(
        r#"<p>Someone signed in to your Gatehouse account asked to change its email address to <strong>{email}</strong>.</p><p>Undoing it keeps this address (or puts it back) and signs out every session of the account, wherever it is.</p>{form}"#,
        email = escaped(new_email),
        form = token_form(
            "/api/undo-email-change",
            token,
            "",
            "Undo the change and sign out everywhere",
            "danger",
            error
        ),
    );
    card_page(
        "email-change",
        "Undo the change of your email address",
        &body,
    )
}

/// A link about a change of address that no longer works.
pub fn email_change_link_dead() -> WrittenPage {
    card_page(
        "email-change",
        "This link no longer works",
        r#"<p class="form-error" role="alert">This link has expired or was already used.</p><p>To change your email address, ask again from <a href="/profile#email-address">your profile</a>.</p>"#,
    )
}

/// After a change of address was confirmed.
pub fn email_changed() -> WrittenPage {
    card_page(
        "email-change",
        "Your email address is changed",
        r#"<p class="notice" role="status">Your new address is confirmed: sign in with it from now on.</p><p><a href="/profile">Go to your profile</a></p>"#,
    )
}

/// After a change of address was undone.
pub fn email_change_undone() -> WrittenPage {
    card_page(
        "email-change",
        "The change is undone",
        r#"<p class="notice" role="status">Your email address is the one this mail came to, and every session of your account is signed out.</p><p>If you did not ask for the change, <a href="/forgot-password">choose a new password</a>: whoever asked knew yours. Otherwise <a href="/login">sign in again</a>.</p>"#,
    )
}

/// The profile's "Email address" card: the address in use, the change waiting for its
/// confirmation (with a button to withdraw it), and the form that asks for a change (the
/// password once more, where there is one). `error` is the form's refusal.
pub fn email_card(
    email: &str,
    pending: Option<&PendingEmailChange>,
    has_password: bool,
    error: Option<&AppError>,
) -> String {
    let pending = pending
        .map(|change| {
            format!(
                r#"<p class="notice" role="status">Waiting for you to confirm <strong>{new}</strong>: open the link we sent there before {until}.</p><form method="post" action="/api/withdraw-email-change"><button class="button small secondary" type="submit">Withdraw this change</button></form>"#,
                new = escaped(&change.new_email),
                until = when(change.expires_at),
            )
        })
        .unwrap_or_default();
    let new_email = HtmlField {
        name: "new_email",
        label: "New email address",
        kind: "email",
        autocomplete: "email",
        maxlength: 254,
        hint: None,
    }
    .html(error);
    let password = if has_password {
        HtmlField {
            name: "email_password",
            label: "Password to change your address",
            kind: "password",
            autocomplete: "current-password",
            maxlength: 256,
            hint: None,
        }
        .html(error)
    } else {
        String::new()
    };
    format!(
        r#"<section class="card" id="email-address" aria-labelledby="email-title"><h2 id="email-title">Email address</h2><p>You sign in with <strong>{email}</strong>. To change it, we send a link to the new address to confirm it, and tell this one, which can undo the change for 24 hours.</p>{pending}<form method="post" action="/api/change-email" novalidate>{message}{new_email}{password}<button class="button" type="submit">Send a confirmation link</button></form></section>"#,
        email = escaped(email),
        message = form_message_html(error),
    )
}

/// The page an invitation's link opens, `/invitation?token=…`: who invited which address as
/// what, and the form that accepts it (name and password; the address fixed, confirmed by
/// the link), posting to `accept_invitation`. `signed_in_as`: whoever this browser is signed
/// in as, who is told that accepting makes another account.
pub fn invitation(
    invited: &Invited,
    token: &str,
    signed_in_as: Option<&str>,
    error: Option<&AppError>,
) -> WrittenPage {
    let role = match invited.role {
        Role::Admin => "an administrator",
        Role::User => "a user",
    };
    let email = escaped(&invited.email);
    let signed_in = signed_in_as
        .map(|who| {
            format!(
                r#"<p class="hint">You are signed in as {}. Accepting makes a new account for {email} and signs you in to it.</p>"#,
                escaped(who)
            )
        })
        .unwrap_or_default();
    let name = HtmlField {
        name: "name",
        label: "Name",
        kind: "text",
        autocomplete: "name",
        maxlength: policy::NAME_MAX,
        hint: None,
    }
    .html(error);
    let password = HtmlField {
        name: "password",
        label: "Password",
        kind: "password",
        autocomplete: "new-password",
        maxlength: policy::PASSWORD_MAX,
        hint: Some("At least 8 characters."),
    }
    .html(error);
    let body = format!(
        r#"<p>{by} invited <strong>{email}</strong> to Gatehouse, as {role} with the {tier} tier. This invitation works once, until {until}.</p>{signed_in}<form method="post" action="/api/accept-invitation" novalidate>{message}<input type="hidden" name="token" value="{token}"><div class="field"><label for="invited-email">Email</label><input id="invited-email" type="email" value="{email}" readonly aria-describedby="invited-email-hint"><p class="hint" id="invited-email-hint">The invited address, already confirmed by this link.</p></div>{name}{password}<button class="button wide" type="submit">Create my account</button></form><p>Or <a href="/login">sign in with a provider</a> that vouches for {email}: the invitation applies when you do.</p>"#,
        by = escaped(&invited.invited_by),
        tier = invited.tier.as_str(),
        until = when(invited.expires_at),
        token = escaped(token),
        message = form_message_html(error),
    );
    card_page("invitation", "You are invited", &body)
}

/// An invitation's link that was used, revoked, or whose week ran out.
pub fn invitation_ended() -> WrittenPage {
    card_page(
        "invitation",
        "This invitation has expired or was already used",
        r#"<p>Ask whoever invited you for a new one. Already accepted it? <a href="/login">Sign in</a>.</p>"#,
    )
}
