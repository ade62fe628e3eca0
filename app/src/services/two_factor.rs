//! A second step after signing in: a code from an authenticator app (TOTP, RFC 6238: SHA-1,
//! six digits, 30 s steps, one step of drift either way), or one of ten recovery codes, each
//! good once. A recovery code is 25 characters of a 31-letter alphabet (about 124 bits, ASVS
//! 2.6.2), so it is kept as a bare SHA-256 like every other high-entropy token; codes of the
//! earlier, 10-character kind (about 50 bits) still work until used, and their owner is asked
//! to make new ones (docs/decisions.md). Set up from the profile after a recent sign-in, confirmed by a first code.
//!
//! Stored as Better Auth's two-factor plugin stores it (`twoFactor`, `user.twoFactorEnabled`),
//! the secret encrypted with the token keys. A code is accepted once: the row keeps the last
//! time step a code was accepted in, and only a later one passes.

use chrono::{Duration, Utc};
use diesel_async::AsyncPgConnection;
use rand::Rng;
use serde_json::json;
use totp_rs::{Secret, Totp};

use super::accounts::{record_own, require_recent_sign_in};
use super::audit::{self, Actor, Event, Origin};
use super::context::Services;
use super::crypto::TokenCipher;
use super::mail::Mail;
use super::rate_limit;
use super::sessions::{self, is_banned, SignedIn};
use super::{tokens, Refusal};
use crate::db::models::{TwoFactor, User};
use crate::db::{
    passkeys as passkey_rows, sessions as session_rows, two_factor as rows, users, verifications,
};
use crate::views::{TwoFactorSetup, TwoFactorView};

/// How long the second step may wait after the first.
pub const SECOND_STEP_MINUTES: i64 = 5;
const RECOVERY_CODES: usize = 10;
/// Recovery codes are made of these (lower case, no 0/o, 1/l/i): 31 letters.
const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
/// A recovery code's length: 25 × log2(31) ≈ 123.8 bits, shown as five groups of five.
const RECOVERY_LENGTH: usize = 25;
/// The length of recovery codes made before (about 49.5 bits): still accepted until used.
const OLDER_RECOVERY_LENGTH: usize = 10;
/// How a recovery code is shown: groups of this many, joined by dashes.
const RECOVERY_GROUP: usize = 5;
/// What marks a stored digest as one of a code of the current kind; a digest without it
/// is of a code of the older, shorter kind.
const RECOVERY_DIGEST_PREFIX: &str = "r2:";
/// What authenticator apps show the account under.
const ISSUER: &str = "Gatehouse";

/// Where a sign-in stands once the first step (a password, a provider) passed.
#[derive(Debug)]
pub enum SignInStep {
    /// Signed in: the new session's cookie token.
    Done(String),
    /// A code is needed first: the token for the second step's cookie (never stored).
    SecondFactor(String),
}

/// Whether the person has a second factor: an authenticator app, or a passkey. Every sign-in
/// of theirs with a password or a provider asks for it.
pub async fn has_second_factor(conn: &mut AsyncPgConnection, user: &User) -> Result<bool, Refusal> {
    Ok(user.two_factor_enabled || passkey_rows::count(conn, &user.id).await? > 0)
}

/// Ends a sign-in whose first step passed: a session, or for a person with a second factor
/// (an authenticator app, a passkey), a single-use token for the second step (five minutes).
pub async fn finish_sign_in(
    services: &Services,
    conn: &mut AsyncPgConnection,
    user: &User,
    method: &str,
    origin: &Origin,
) -> Result<SignInStep, Refusal> {
    if has_second_factor(conn, user).await? {
        let token = tokens::new_token();
        let expires_at = Utc::now() + Duration::minutes(SECOND_STEP_MINUTES);
        let identifier = second_step_identifier(&user.id, method);
        verifications::insert(conn, &identifier, &tokens::digest(&token), expires_at).await?;
        return Ok(SignInStep::SecondFactor(token));
    }
    let token = start_session(services, conn, user, method, None, origin).await?;
    Ok(SignInStep::Done(token))
}

pub(super) async fn start_session(
    services: &Services,
    conn: &mut AsyncPgConnection,
    user: &User,
    method: &str,
    second_factor: Option<&str>,
    origin: &Origin,
) -> Result<String, Refusal> {
    let amr = sessions::methods(method, second_factor);
    let (token, session) = sessions::start(services, conn, user, &amr, origin).await?;
    let mut detail = json!({ "method": method, "session": session.id });
    if let Some(kind) = second_factor {
        detail["second_factor"] = json!(kind);
    }
    record_own(conn, user, "sign_in", detail, origin).await?;
    Ok(token)
}

fn second_step_identifier(user_id: &str, method: &str) -> String {
    format!("two-factor:{user_id}:{method}")
}

/// A sign-in waiting for its second step.
pub(super) struct Pending {
    pub user: User,
    /// How the first step went (password, a provider).
    method: String,
    /// The digest of the second step's token.
    digest: String,
}

/// The sign-in that `challenge` (the second step's cookie) stands for, left in place.
pub(super) async fn pending_sign_in(
    conn: &mut AsyncPgConnection,
    challenge: &str,
) -> Result<Pending, Refusal> {
    if !tokens::is_well_formed(challenge) {
        return Err(Refusal::SignInExpired);
    }
    let digest = tokens::digest(challenge);
    let (identifier, expires_at) = verifications::find(conn, &digest)
        .await?
        .ok_or(Refusal::SignInExpired)?;
    let Some((user_id, method)) = identifier
        .strip_prefix("two-factor:")
        .and_then(|rest| rest.split_once(':'))
    else {
        return Err(Refusal::SignInExpired);
    };
    if expires_at <= Utc::now() {
        verifications::take(conn, &digest).await?;
        return Err(Refusal::SignInExpired);
    }
    let user = users::find(conn, user_id)
        .await?
        .ok_or(Refusal::SignInExpired)?;
    if is_banned(&user, Utc::now()) {
        return Err(Refusal::banned(&user));
    }
    Ok(Pending {
        user,
        method: method.to_string(),
        digest,
    })
}

/// Ends a second step that passed with `used` (totp, recovery_code, passkey): the session's
/// cookie token. Single use: of two requests with right answers at once, one signs in.
pub(super) async fn finish_second_step(
    services: &Services,
    conn: &mut AsyncPgConnection,
    pending: Pending,
    used: &str,
    origin: &Origin,
) -> Result<String, Refusal> {
    if verifications::take(conn, &pending.digest).await?.is_none() {
        return Err(Refusal::SignInExpired);
    }
    start_session(
        services,
        conn,
        &pending.user,
        &pending.method,
        Some(used),
        origin,
    )
    .await
}

/// The second step: `code` from the person's app (or a recovery code) for the sign-in that
/// `challenge` (the second step's cookie) stands for. Returns the session's cookie token.
pub async fn complete_sign_in(
    services: &Services,
    challenge: &str,
    code: &str,
    origin: &Origin,
) -> Result<String, Refusal> {
    let code = Code::parse(code)?;
    let mut conn = services.pool.get().await?;
    let pending = pending_sign_in(&mut conn, challenge).await?;
    let row = rows::find(&mut conn, &pending.user.id).await?;
    let used = check(
        services,
        &mut conn,
        &pending.user,
        row.as_ref(),
        &code,
        origin,
    )
    .await?;
    finish_second_step(services, &mut conn, pending, used, origin).await
}

/// What a person typed as their code.
enum Code {
    /// Six digits from the app.
    App(String),
    /// A recovery code, lower case, without dashes or spaces.
    Recovery(String),
    /// A recovery code of the older, shorter kind.
    OlderRecovery(String),
}

impl Code {
    fn parse(typed: &str) -> Result<Self, Refusal> {
        let compact: String = typed
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect::<String>()
            .to_lowercase();
        if compact.len() == 6 && compact.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Code::App(compact))
        } else if !compact.bytes().all(|b| RECOVERY_ALPHABET.contains(&b)) {
            Err(Self::not_a_code())
        } else if compact.len() == RECOVERY_LENGTH {
            Ok(Code::Recovery(compact))
        } else if compact.len() == OLDER_RECOVERY_LENGTH {
            Ok(Code::OlderRecovery(compact))
        } else {
            Err(Self::not_a_code())
        }
    }

    fn not_a_code() -> Refusal {
        Refusal::invalid(
            "code",
            "Enter the 6 digits your authenticator app shows, or one of your recovery codes.",
        )
    }

    /// How the code is found among the stored digests.
    fn stored_digest(typed: &str, older: bool) -> String {
        if older {
            tokens::digest(typed)
        } else {
            format!("{RECOVERY_DIGEST_PREFIX}{}", tokens::digest(typed))
        }
    }
}

/// Checks a code against the person's confirmed set-up; says which kind was used. Counted
/// against the person's limit first, so codes sent at once cannot all pass a check of the
/// count made before any of them was counted; given back when right, audited when wrong. A
/// recovery code is used up.
async fn check(
    services: &Services,
    conn: &mut AsyncPgConnection,
    user: &User,
    row: Option<&TwoFactor>,
    code: &Code,
    origin: &Origin,
) -> Result<&'static str, Refusal> {
    rate_limit::count_second_factor(conn, &user.id).await?;
    // A right code of a step already used: someone else may have seen it (ASVS 2.8.5).
    let mut reused = false;
    let accepted = match (row, code) {
        (Some(row), Code::App(digits)) => {
            let totp = totp(&services.cipher, row, &user.email)?;
            match totp.check(digits, now_seconds()) {
                Some(step) => {
                    let accepted = rows::accept_step(conn, &row.id, step as i64).await?;
                    reused = !accepted;
                    accepted
                }
                None => false,
            }
        }
        (Some(row), Code::Recovery(typed)) => take_recovery_code(conn, row, typed, false).await?,
        (Some(row), Code::OlderRecovery(typed)) => {
            take_recovery_code(conn, row, typed, true).await?
        }
        (None, _) => false,
    };
    if accepted {
        rate_limit::give_back_second_factor(conn, &user.id).await?;
        return Ok(match code {
            Code::App(_) => "totp",
            Code::Recovery(_) | Code::OlderRecovery(_) => "recovery_code",
        });
    }
    if reused {
        tell_owner(
            services,
            user,
            "A used sign-in code was entered for your Gatehouse account",
            "someone entered your password and then a code from your authenticator app that \
             had already been used, which Gatehouse refused. If it was you signing in twice \
             within a minute, wait for the next code.",
        );
    }
    audit::record(
        conn,
        Event {
            action: "second_factor_failed",
            actor: Actor::Anonymous,
            target: Some((&user.id, &user.email)),
            detail: json!({ "reused": reused }),
        },
        origin,
    )
    .await?;
    Err(Refusal::invalid(
        "code",
        "That code is not right, or was already used. Codes change every 30 seconds: check \
         that your device's clock is right, or use a recovery code.",
    ))
}

async fn take_recovery_code(
    conn: &mut AsyncPgConnection,
    row: &TwoFactor,
    typed: &str,
    older: bool,
) -> Result<bool, Refusal> {
    let mut digests = stored_digests(&row.backup_codes);
    let digest = Code::stored_digest(typed, older);
    let Some(at) = digests.iter().position(|d| *d == digest) else {
        return Ok(false);
    };
    digests.remove(at);
    let remaining = serde_json::to_string(&digests).expect("strings serialize");
    Ok(rows::swap_backup_codes(conn, &row.id, &row.backup_codes, &remaining).await?)
}

/// The digests of a confirmed set-up's recovery codes (none for anything else).
fn stored_digests(backup_codes: &str) -> Vec<String> {
    serde_json::from_str(backup_codes).unwrap_or_default()
}

/// Whether any of the stored digests is of a code of the older, shorter kind.
fn has_older_codes(digests: &[String]) -> bool {
    digests
        .iter()
        .any(|d| !d.starts_with(RECOVERY_DIGEST_PREFIX))
}

/// Whether the person's unused recovery codes include some of the older, shorter kind: their
/// profile asks them to make new ones.
pub async fn has_older_recovery_codes(
    services: &Services,
    current: &SignedIn,
) -> Result<bool, Refusal> {
    let user = &current.user;
    if !user.two_factor_enabled {
        return Ok(false);
    }
    let mut conn = services.pool.get().await?;
    Ok(rows::find(&mut conn, &user.id)
        .await?
        .is_some_and(|row| has_older_codes(&stored_digests(&row.backup_codes))))
}

fn now_seconds() -> u64 {
    Utc::now().timestamp().try_into().unwrap_or(0)
}

/// What binds a secret to its person (the associated data of its encryption).
pub fn secret_aad(row_user_id: &str) -> String {
    format!("twoFactor.secret:{row_user_id}")
}

/// What binds an unconfirmed set-up's recovery codes to their person.
pub fn codes_aad(row_user_id: &str) -> String {
    format!("twoFactor.backupCodes:{row_user_id}")
}

/// The generator for the row's secret. A secret Gatehouse cannot read (one Better Auth
/// encrypted with its own key) fails here: an admin resets that person's second step.
fn totp(cipher: &TokenCipher, row: &TwoFactor, email: &str) -> Result<Totp, Refusal> {
    let foreign = || {
        Refusal::Conflict(
            "Your authenticator app was set up with an earlier sign-in service. Use a \
             recovery code, or ask an administrator to reset your second step."
                .into(),
        )
    };
    let secret = cipher
        .decrypt(&row.secret, &secret_aad(&row.user_id))
        .map_err(|_| foreign())?;
    let secret = Secret::try_from_base32(&secret).map_err(|_| foreign())?;
    totp_rs::Builder::new()
        .with_secret(secret)
        // The otpauth address's label cannot hold a colon.
        .with_account_name(email.replace(':', "_"))
        .with_issuer(Some(ISSUER))
        .build()
        .map_err(|_| foreign())
}

/// What the set-up page shows: not set up, a set-up waiting for its first code (with the QR
/// code, the secret as text and the recovery codes), or on.
pub async fn view(services: &Services, current: &SignedIn) -> Result<TwoFactorView, Refusal> {
    let user = &current.user;
    let mut conn = services.pool.get().await?;
    let off = TwoFactorView {
        on: false,
        setting_up: None,
        recovery_codes_left: 0,
        older_recovery_codes: false,
    };
    let Some(row) = rows::find(&mut conn, &user.id).await? else {
        return Ok(off);
    };
    if user.two_factor_enabled {
        let digests = stored_digests(&row.backup_codes);
        return Ok(TwoFactorView {
            on: true,
            recovery_codes_left: digests.len(),
            older_recovery_codes: has_older_codes(&digests),
            ..off
        });
    }
    let totp = totp(&services.cipher, &row, &user.email)?;
    let url = totp.to_url().expect("an account name without ':'");
    let codes = services
        .cipher
        .decrypt(&row.backup_codes, &codes_aad(&row.user_id))?;
    let recovery_codes: Vec<String> = serde_json::from_str(&codes).unwrap_or_default();
    Ok(TwoFactorView {
        setting_up: Some(TwoFactorSetup {
            qr_svg: qr_svg(&url),
            secret: totp.secret().to_base32(),
            recovery_codes: recovery_codes.iter().map(|c| shown(c)).collect(),
        }),
        ..off
    })
}

/// The otpauth address as an SVG QR code, for the page itself (no script, no image request).
fn qr_svg(url: &str) -> String {
    // An address of a few hundred bytes at most (an email has at most 254).
    let code = qrcode::QrCode::new(url.as_bytes()).expect("an otpauth address fits a QR code");
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    // Inline in the page: without the XML declaration.
    match svg.find("<svg") {
        Some(start) => svg[start..].to_string(),
        None => svg,
    }
}

/// A recovery code as people read it: groups of five, "abcde-fghjk-mnpqr-stuvw-xyz23".
fn shown(code: &str) -> String {
    code.as_bytes()
        .chunks(RECOVERY_GROUP)
        .map(|group| std::str::from_utf8(group).expect("ASCII letters"))
        .collect::<Vec<_>>()
        .join("-")
}

/// Starts a set-up (or starts it over): a new secret and recovery codes, not yet in force.
/// Needs a recent sign-in: whoever sets it up decides who can sign in next time.
pub async fn begin(services: &Services, current: &SignedIn) -> Result<(), Refusal> {
    require_recent_sign_in(current)?;
    let user = &current.user;
    if user.two_factor_enabled {
        return Err(Refusal::Conflict(
            "Two-step sign-in is already on. Turn it off first to set up another app.".into(),
        ));
    }
    let mut secret = [0u8; 20];
    rand::rng().fill(&mut secret);
    let secret = Secret::from(secret.as_slice()).to_base32();
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
    let codes = serde_json::to_string(&codes).expect("strings serialize");
    let cipher = &services.cipher;
    let mut conn = services.pool.get().await?;
    rows::replace(
        &mut conn,
        &user.id,
        &cipher.encrypt(&secret, &secret_aad(&user.id)),
        &cipher.encrypt(&codes, &codes_aad(&user.id)),
    )
    .await?;
    Ok(())
}

fn new_recovery_code() -> String {
    let mut rng = rand::rng();
    (0..RECOVERY_LENGTH)
        .map(|_| RECOVERY_ALPHABET[rng.random_range(0..RECOVERY_ALPHABET.len())] as char)
        .collect()
}

/// Confirms a set-up with a first code from the app: from then on every sign-in asks for a
/// code. The recovery codes are kept only as digests from here on.
pub async fn confirm(
    services: &Services,
    current: &SignedIn,
    code: &str,
    origin: &Origin,
) -> Result<(), Refusal> {
    let code = Code::parse(code)?;
    if !matches!(code, Code::App(_)) {
        return Err(Refusal::invalid(
            "code",
            "Enter the 6 digits your authenticator app shows.",
        ));
    }
    let user = &current.user;
    let mut conn = services.pool.get().await?;
    let row = match rows::find(&mut conn, &user.id).await? {
        Some(row) if !user.two_factor_enabled => row,
        _ => {
            return Err(Refusal::Conflict(
                "There is no set-up waiting for a code: start again.".into(),
            ))
        }
    };
    let codes = services
        .cipher
        .decrypt(&row.backup_codes, &codes_aad(&user.id))?;
    check(services, &mut conn, user, Some(&row), &code, origin).await?;
    let codes: Vec<String> = serde_json::from_str(&codes).unwrap_or_default();
    let digests: Vec<String> = codes
        .iter()
        .map(|c| Code::stored_digest(c, false))
        .collect();
    let digests = serde_json::to_string(&digests).expect("strings serialize");
    rows::swap_backup_codes(&mut conn, &row.id, &row.backup_codes, &digests).await?;
    rows::set_enabled(&mut conn, &user.id, true).await?;
    // The code just given proves this session's holder has the app; any other session
    // began with a password alone, and ends: every live session of a person with the
    // second step on has passed it (what opens /admin under REQUIRE_ADMIN_MFA).
    session_rows::delete_all_but(&mut conn, &user.id, Some(current.session_id())).await?;
    record_own(
        &mut conn,
        user,
        "two_factor_enabled",
        json!({ "sessions_ended": "others" }),
        origin,
    )
    .await?;
    tell_owner(
        services,
        user,
        "Two-step sign-in is on for your Gatehouse account",
        "two-step sign-in was turned on for your Gatehouse account: from now on, signing in \
         also asks for a code from your authenticator app.",
    );
    Ok(())
}

/// Turns the second step off, with a current code or a recovery code and a recent sign-in.
pub async fn disable(
    services: &Services,
    current: &SignedIn,
    code: &str,
    origin: &Origin,
) -> Result<(), Refusal> {
    let code = Code::parse(code)?;
    require_recent_sign_in(current)?;
    let user = &current.user;
    if !user.two_factor_enabled {
        return Err(Refusal::Conflict("Two-step sign-in is not on.".into()));
    }
    let mut conn = services.pool.get().await?;
    let row = rows::find(&mut conn, &user.id).await?;
    check(services, &mut conn, user, row.as_ref(), &code, origin).await?;
    rows::delete_for(&mut conn, &user.id).await?;
    rows::set_enabled(&mut conn, &user.id, false).await?;
    record_own(&mut conn, user, "two_factor_disabled", json!({}), origin).await?;
    tell_owner(
        services,
        user,
        "Two-step sign-in is off for your Gatehouse account",
        "two-step sign-in was turned off for your Gatehouse account: signing in no longer \
         asks for a code.",
    );
    Ok(())
}

/// Mails the owner that a second factor changed, with the way out if it was not them.
pub(super) fn tell_owner(services: &Services, user: &User, subject: &str, what: &str) {
    services.mail_in_background(Mail {
        to: user.email.clone(),
        subject: subject.into(),
        body: format!(
            "Hello {},\n\n{what}\n\nIf it was not you, reset your password at once:\n\n{}\n",
            user.name,
            services.settings.link("/forgot-password"),
        ),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_read_as_app_codes_or_recovery_codes_and_nothing_else() {
        assert!(matches!(Code::parse(" 123 456 "), Ok(Code::App(d)) if d == "123456"));
        assert!(
            matches!(Code::parse("ABCDE-FGHJK"), Ok(Code::OlderRecovery(c)) if c == "abcdefghjk")
        );
        let long = "abcde-fghjk-mnpqr-stuvw-xyz23";
        for typed in [
            long.to_string(),
            long.to_uppercase(),
            long.replace('-', " "),
            long.replace('-', ""),
            format!(" {} ", long.replace('-', " - ")),
        ] {
            assert!(
                matches!(Code::parse(&typed), Ok(Code::Recovery(c)) if c == long.replace('-', "")),
                "{typed:?}"
            );
        }
        for wrong in [
            "",
            "12345",
            "1234567",
            "12345a",
            "abcde-fghji",
            "abcde-fghj0",
            "abcde-fghjk-mnpqr-stuvw-xyz2",
            "abcde-fghjk-mnpqr-stuvw-xyz230",
            "abcde-fghjk-mnpqr-stuvw-xyz2l",
        ] {
            assert!(Code::parse(wrong).is_err(), "{wrong:?}");
        }
    }

    #[test]
    fn recovery_codes_have_112_bits_of_their_alphabet_and_are_shown_in_groups() {
        let code = new_recovery_code();
        assert_eq!(code.len(), RECOVERY_LENGTH);
        let bits = RECOVERY_LENGTH as f64 * (RECOVERY_ALPHABET.len() as f64).log2();
        assert!(bits >= 112.0, "{bits}");
        assert_eq!(shown(&code).split('-').count(), 5);
        assert!(code.bytes().all(|b| RECOVERY_ALPHABET.contains(&b)));
        assert!(matches!(Code::parse(&shown(&code)), Ok(Code::Recovery(c)) if c == code));
        assert_ne!(new_recovery_code(), code);
    }
}
