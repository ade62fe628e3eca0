//! The admin dashboard's cards written on the server as text (`UserPage::cards`), as the
//! profile's passkey and data cards are: the client (which has a size budget) has no code
//! for them at all. "Invitations": the form that invites one address, the one that invites
//! a pasted list or an uploaded file, the outcome of the last bulk invitation, and the
//! pending invitations with their resend and revoke forms (plain forms to the routes of
//! `server/src/routes/invitations.rs`). "Failing webhook deliveries": what the backend has
//! not received. A refused or finished form comes back as `?invite=CODE`, a code of a
//! closed set said here in words (any other code says nothing, so a link cannot put words
//! on the page); everything people typed is escaped.

use super::form::escaped;
use super::when;
use crate::services::invitations::{Outcome, Pending, Verdict, BULK_MAX};
use crate::services::webhooks::FailingDelivery;
use crate::views::{Role, Tier};

/// Where the invitation forms post.
pub const INVITE: &str = "/admin/invitations";
pub const RESEND: &str = "/admin/invitations/resend";
pub const REVOKE: &str = "/admin/invitations/revoke";

/// The words for a code the invitation routes send the admin back with: (is it good news,
/// the words, the field it is about).
pub fn invite_words(code: &str) -> Option<(bool, &'static str, Option<&'static str>)> {
    Some(match code {
        "sent" => (true, "The invitation is on its way.", None),
        "resent" => (
            true,
            "A new link is on its way; the earlier one no longer works.",
            None,
        ),
        "revoked" => (
            true,
            "The invitation was revoked: its link no longer works.",
            None,
        ),
        "email" => (
            false,
            "Enter one email address in plain ASCII, like name@example.com.",
            Some("email"),
        ),
        "member" => (false, "That address already has an account.", Some("email")),
        "pending" => (
            false,
            "That address is already invited: resend its invitation from the list below.",
            Some("email"),
        ),
        "choice" => (false, "Choose one of the listed roles and tiers.", None),
        "list" => (
            false,
            "Enter between one and 100 addresses, one a line, or upload a file of them.",
            Some("addresses"),
        ),
        "gone" => (false, "That invitation is no longer pending.", None),
        "rate-limited" => (
            false,
            "Too many invitations at once. Wait a few minutes and try again.",
            None,
        ),
        "unavailable" => (
            false,
            "The invitation could not be sent just now. Try again in a minute.",
            None,
        ),
        _ => return None,
    })
}

fn options<T: Copy + PartialEq>(all: &[T], chosen: T, name: impl Fn(T) -> &'static str) -> String {
    all.iter()
        .map(|&value| {
            let selected = if value == chosen { " selected" } else { "" };
            let name = name(value);
            format!(r#"<option value="{name}"{selected}>{name}</option>"#)
        })
        .collect()
}

/// The role and tier choices of a form, their ids starting `prefix`.
fn role_and_tier(prefix: &str) -> String {
    let roles = options(Role::ALL, Role::User, Role::as_str);
    let tiers = options(Tier::ALL, Tier::Free, Tier::as_str);
    format!(
        r#"<div class="field"><label for="{prefix}-role">Role</label><select id="{prefix}-role" name="role">{roles}</select></div><div class="field"><label for="{prefix}-tier">Tier</label><select id="{prefix}-tier" name="tier">{tiers}</select></div>"#
    )
}

/// The "Invitations" card. `code`: the page's `?invite=`; `outcomes`: the last bulk
/// invitation's, when the page was sent back with them.
pub fn invitations_card(code: &str, outcomes: Option<&[Outcome]>, pending: &[Pending]) -> String {
    let said = invite_words(code);
    let status = match said {
        Some((true, words, _)) => format!(r#"<p class="notice" role="status">{words}</p>"#),
        Some((false, words, None)) => format!(r#"<p class="form-error" role="alert">{words}</p>"#),
        _ => String::new(),
    };
    let field_error = |field: &str, id: &str| match said {
        Some((false, words, Some(f))) if f == field => (
            format!(r#" aria-invalid="true" aria-describedby="{id}-error" autofocus"#),
            format!(r#"<p class="field-error" id="{id}-error">{words}</p>"#),
            " has-error",
        ),
        _ => (String::new(), String::new(), ""),
    };
    let (email_invalid, email_error, email_class) = field_error("email", "invite-email");
    let (list_invalid, list_error, list_class) = field_error("addresses", "invite-list");
    let one = format!(
        r#"<form method="post" action="{INVITE}" novalidate aria-label="Invite someone"><div class="field{email_class}"><label for="invite-email">Email address to invite</label><input id="invite-email" name="email" type="email" autocomplete="off" required maxlength="254"{email_invalid}>{email_error}</div>{choices}<button class="button" type="submit">Invite</button></form>"#,
        choices = role_and_tier("invite"),
    );
    let many = format!(
        r#"<h3 id="invite-many-title">Invite many</h3><form method="post" action="{INVITE}" enctype="multipart/form-data" novalidate aria-labelledby="invite-many-title"><div class="field{list_class}"><label for="invite-list">Addresses, one a line (at most {BULK_MAX})</label><textarea id="invite-list" name="addresses" rows="4"{list_invalid}></textarea>{list_error}</div><div class="field"><label for="invite-file">Or a CSV or text file, one address a line</label><input id="invite-file" name="file" type="file" accept=".csv,.txt,text/csv,text/plain"></div>{choices}<button class="button secondary" type="submit">Invite them all</button></form>"#,
        choices = role_and_tier("invite-many"),
    );
    let results = outcomes.map(outcomes_table).unwrap_or_default();
    format!(
        r#"<section class="card" id="invitations" aria-labelledby="invitations-title"><h2 id="invitations-title">Invitations</h2><p>Invite someone by email: the mail's link (it works once, for {days} days) lets them sign up already let in, with the role and tier chosen here.</p>{status}{results}{one}{many}{pending}</section>"#,
        days = crate::services::invitations::LINK_DAYS,
        pending = pending_list(pending),
    )
}

// Lists, not tables: the dashboard's users are its one table (`tbody tr`).
fn outcomes_table(outcomes: &[Outcome]) -> String {
    let invited = outcomes
        .iter()
        .filter(|o| o.result == Verdict::Invited)
        .count();
    let items: String = outcomes
        .iter()
        .map(|o| {
            format!(
                "<li><strong>{}</strong>: {}</li>",
                escaped(&o.email),
                o.result.words()
            )
        })
        .collect();
    format!(
        r#"<div role="status" aria-labelledby="invite-result-title"><p class="notice" id="invite-result-title">{invited} of {} invited:</p><ul class="invitations">{items}</ul></div>"#,
        outcomes.len()
    )
}

fn pending_list(pending: &[Pending]) -> String {
    if pending.is_empty() {
        return r#"<h3>Pending</h3><p>No invitation is waiting.</p>"#.to_string();
    }
    let items: String = pending
        .iter()
        .map(|p| {
            let (email, id) = (escaped(&p.email), escaped(&p.id));
            format!(
                r#"<li><span><strong>{email}</strong> <span class="muted">{role}, {tier}; invited by {by}, sent {sent}, expires {expires}</span></span><form class="inline-form" method="post" action="{RESEND}"><input type="hidden" name="id" value="{id}"><button class="button small secondary" type="submit" aria-label="Resend the invitation to {email}">Resend</button></form><form class="inline-form" method="post" action="{REVOKE}"><input type="hidden" name="id" value="{id}"><button class="button small danger" type="submit" aria-label="Revoke the invitation to {email}">Revoke</button></form></li>"#,
                role = p.role.as_str(),
                tier = p.tier.as_str(),
                by = escaped(&p.invited_by),
                sent = when(p.sent_at),
                expires = when(p.expires_at),
            )
        })
        .collect();
    format!(r#"<h3>Pending</h3><ul class="invitations">{items}</ul>"#)
}

/// The "Failing webhook deliveries" card: each delivery whose last attempt failed (the
/// receiver's answer, escaped) and when it is tried again, or that it was given up.
pub fn failing_deliveries_card(failing: &[FailingDelivery]) -> String {
    let body = if failing.is_empty() {
        "<p>Every delivery is going through.</p>".to_string()
    } else {
        let rows: String = failing
            .iter()
            .map(|f| {
                let next = match (f.next_attempt_at, f.given_up_at) {
                    (_, Some(at)) => format!("given up {}", when(at)),
                    (Some(at), None) => when(at),
                    (None, None) => String::new(),
                };
                format!(
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{next}</td></tr>",
                    escaped(&f.endpoint),
                    escaped(&f.event_type),
                    f.attempts,
                    escaped(&f.last_error),
                )
            })
            .collect();
        format!(
            r#"<div class="table-wrap" tabindex="0" role="region" aria-label="Failing webhook deliveries"><table><caption class="visually-hidden">Failing webhook deliveries</caption><thead><tr><th scope="col">Endpoint</th><th scope="col">Event</th><th scope="col">Attempts</th><th scope="col">Last error</th><th scope="col">Next try</th></tr></thead><tbody>{rows}</tbody></table></div>"#
        )
    };
    format!(
        r#"<section class="card" id="webhook-failures" aria-labelledby="webhook-failures-title"><h2 id="webhook-failures-title">Failing webhook deliveries</h2>{body}</section>"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_codes_put_words_on_the_page_and_what_was_typed_is_escaped() {
        let card = invitations_card("call 555 to unlock", None, &[]);
        assert!(!card.contains("555"));
        assert!(!card.contains("role=\"alert\""));
        let card = invitations_card("member", None, &[]);
        assert!(card.contains("already has an account"), "{card}");
        let outcomes = [Outcome {
            email: "<script>x</script>".into(),
            result: Verdict::Invalid,
        }];
        let card = invitations_card("", Some(&outcomes), &[]);
        assert!(card.contains("&lt;script&gt;"), "{card}");
        assert!(!card.contains("<script>"));
        let failing = [FailingDelivery {
            endpoint: "http://backend.test/hook".into(),
            event_type: "user.let_in".into(),
            attempts: 3,
            last_error: "<b>502</b>".into(),
            next_attempt_at: None,
            given_up_at: Some(chrono::Utc::now()),
        }];
        let card = failing_deliveries_card(&failing);
        assert!(
            card.contains("&lt;b&gt;502") && card.contains("given up"),
            "{card}"
        );
    }
}
