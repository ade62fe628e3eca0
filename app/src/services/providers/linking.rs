//! What a provider's word means for Gatehouse users. A first sign-in makes the user, if the
//! provider vouches for their email and Gatehouse trusts its word (GitHub, or an OIDC issuer
//! marked OIDC_<ID>_TRUST_EMAIL). It joins an existing user only when both sides have
//! confirmed the same email, and never an admin; otherwise the person signs in another way
//! and connects the provider from their profile. A provider account belongs to one user,
//! and nobody can remove their last way to sign in.

use chrono::Utc;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::AsyncConnection;
use serde_json::json;

use super::{Identity, ProviderError, Providers, Tokens};
use crate::db::accounts::{self, EncryptedTokens, ProviderAccountRow, WaysIn, CREDENTIAL};
use crate::db::models::{new_id, User};
use crate::db::{users, verifications, DbConn};
use crate::services::accounts::record_own;
use crate::services::audit::{self, Actor, Event, Origin};
use crate::services::crypto::{account_aad, TokenCipher};
use crate::services::mail::Mail;
use crate::services::rate_limit::Attempt;
use crate::services::sessions::{self, is_banned};
use crate::services::two_factor::{self, SignInStep};
use crate::services::Refusal;
use crate::services::{access, tokens, Services};
use crate::views::{LinkedAccount, SignInMethods};

/// A flow state's digest is kept here until its callback takes it: a callback works once.
fn flow_identifier(provider: &str) -> String {
    format!("oauth-state:{provider}")
}

/// Counts a flow's start against the client's address (each start stores a row and may
/// call the provider).
pub async fn limit_start(services: &Services, origin: &Origin) -> Result<(), Refusal> {
    let address = origin.ip_address.as_deref().unwrap_or("unknown");
    crate::services::rate_limit::count(services, Attempt::ProviderSignIn, None, address).await
}

/// Remembers a flow's state until the callback (or the flow's expiry).
pub async fn remember_flow(
    services: &Services,
    provider: &str,
    state: &str,
) -> Result<(), Refusal> {
    let mut conn = services.pool.get().await?;
    verifications::insert(
        &mut conn,
        &flow_identifier(provider),
        &tokens::digest(state),
        Utc::now() + chrono::Duration::minutes(super::FLOW_MINUTES),
    )
    .await?;
    Ok(())
}

/// Takes a flow's state; `Replayed` when a callback already took it.
pub async fn take_flow(services: &Services, provider: &str, state: &str) -> Result<(), Refusal> {
    let mut conn = services.pool.get().await?;
    match verifications::take(&mut conn, &tokens::digest(state)).await? {
        Some((identifier, _)) if identifier == flow_identifier(provider) => Ok(()),
        _ => Err(ProviderError::Replayed.into()),
    }
}

/// Encrypts tokens for account row `id`, each bound to its row and column.
fn seal(cipher: &TokenCipher, id: &str, t: &Tokens) -> EncryptedTokens {
    let enc = |column: &str, value: &str| cipher.encrypt(value, &account_aad(id, column));
    EncryptedTokens {
        access_token: Some(enc("accessToken", &t.access_token)),
        refresh_token: t.refresh_token.as_deref().map(|v| enc("refreshToken", v)),
        id_token: t.id_token.as_deref().map(|v| enc("idToken", v)),
        access_token_expires_at: t.access_token_expires_at,
        refresh_token_expires_at: None,
        scope: t.scope.clone(),
    }
}

/// What find-or-create did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Found {
    /// The provider account was known.
    Known,
    /// It joined the user who has the same verified email.
    Joined,
    /// A new user was made for it.
    Made,
}

/// Signs a person in with what the provider vouched for: a session, or the second step for a
/// person who set one up.
pub async fn sign_in(
    services: &Services,
    identity: &Identity,
    tokens: &Tokens,
    origin: &Origin,
) -> Result<SignInStep, Refusal> {
    let mut conn = services.pool.get().await?;
    let mut attempts = 0;
    let (user, found) = loop {
        attempts += 1;
        match find_or_create(&mut conn, &services.cipher, identity, tokens).await {
            Err(Refusal::Race) if attempts < 3 => continue,
            other => break other?,
        }
    };
    match found {
        Found::Made => {
            let detail = json!({ "method": identity.provider });
            record_own(&mut conn, &user, "sign_up", detail, origin).await?;
        }
        Found::Joined => {
            let detail = json!({ "provider": identity.provider, "account": identity.account_id, "by": "verified email" });
            record_own(&mut conn, &user, "account_linked", detail, origin).await?;
            tell_owner(services, &user, identity);
        }
        Found::Known => {}
    }
    if is_banned(&user, Utc::now()) {
        return Err(Refusal::banned(&user));
    }
    if !user.email_verified {
        // Only a user adopted from elsewhere can be here: providers make confirmed users.
        match crate::services::accounts::resend_verification_to(services, &user.email, origin).await
        {
            Err(failed @ (Refusal::Service(_) | Refusal::Unavailable)) => return Err(failed),
            _ => return Err(Refusal::EmailNotVerified),
        }
    }
    let github = identity
        .login
        .as_deref()
        .map(|login| (login, identity.account_id.as_str()));
    let user = access::apply_at_sign_in(&mut conn, services, user, github, origin).await?;
    two_factor::finish_sign_in(services, &mut conn, &user, &identity.provider, origin).await
}

/// Mails the owner that a provider account now signs in to their account: if it was not
/// them, they learn of it at once.
fn tell_owner(services: &Services, user: &User, identity: &Identity) {
    let provider = services.providers.name_of(&identity.provider);
    services.mail_in_background(Mail {
        to: user.email.clone(),
        subject: format!("{provider} is now connected to your Gatehouse account"),
        body: format!(
            "Hello {},\n\nA {provider} account with your email address was just used to sign in \
             to Gatehouse, and is now connected to your account.\n\nIf this was not you, open {} \
             to disconnect it and end your sessions, and change your password.\n",
            user.name,
            services.settings.link("/profile"),
        ),
    });
}

/// The user behind this provider account, made or joined as the rules say.
async fn find_or_create(
    conn: &mut DbConn,
    cipher: &TokenCipher,
    identity: &Identity,
    tokens: &Tokens,
) -> Result<(User, Found), Refusal> {
    conn.transaction::<_, Refusal, _>(|conn| {
        async move {
            if let Some(account) =
                accounts::find_by_provider(conn, &identity.provider, &identity.account_id).await?
            {
                accounts::replace_tokens(conn, &account.id, &seal(cipher, &account.id, tokens))
                    .await?;
                let user = users::find(conn, &account.user_id)
                    .await?
                    .ok_or(Refusal::Race)?;
                return Ok((user, Found::Known));
            }
            // An address the provider does not vouch for makes no user and joins none: its
            // real owner, confirming it later, would share their account with whoever holds
            // this provider account.
            if !identity.email_verified {
                return Err(ProviderError::NoVerifiedEmail.into());
            }
            // An issuer where people assert their own address (a self-service realm) would
            // hand anyone the account, or the ADMIN_EMAILS role, of that address. Refused
            // before the lookup, so the answer says nothing about who has an account.
            if !identity.email_trusted {
                return Err(Refusal::UntrustedEmail);
            }
            let (user, found) = match users::find_by_email(conn, &identity.email).await? {
                // An admin's account is joined only by the admin, from their profile.
                Some(user) if user.email_verified && !user.is_admin() => {
                    // One account of each provider per user, however it comes. This very
                    // account, there since the lookup above, is a concurrent sign-in's win.
                    let theirs = accounts::of_user(conn, &user.id).await?;
                    match theirs.iter().find(|a| a.provider_id == identity.provider) {
                        Some(a) if a.account_id == identity.account_id => {
                            return Err(Refusal::Race)
                        }
                        Some(_) => return Err(Refusal::AlreadyConnected),
                        None => {}
                    }
                    (user, Found::Joined)
                }
                Some(_) => return Err(Refusal::EmailInUse),
                None => {
                    let user = users::insert(conn, &identity.name, &identity.email, true)
                        .await?
                        .ok_or(Refusal::Race)?;
                    (user, Found::Made)
                }
            };
            if !insert_account(conn, cipher, &user, identity, tokens).await? {
                return Err(Refusal::Race);
            }
            Ok((user, found))
        }
        .scope_boxed()
    })
    .await
}

async fn insert_account(
    conn: &mut DbConn,
    cipher: &TokenCipher,
    user: &User,
    identity: &Identity,
    tokens: &Tokens,
) -> diesel::QueryResult<bool> {
    let id = new_id();
    let sealed = seal(cipher, &id, tokens);
    accounts::insert_provider(
        conn,
        ProviderAccountRow {
            id: &id,
            user_id: &user.id,
            provider_id: &identity.provider,
            account_id: &identity.account_id,
            tokens: &sealed,
        },
    )
    .await
}

/// Connects a provider account to the signed-in user.
pub async fn link(
    services: &Services,
    current: &sessions::SignedIn,
    identity: &Identity,
    tokens: &Tokens,
    origin: &Origin,
) -> Result<(), Refusal> {
    let user = &current.user;
    let cipher = &services.cipher;
    let mut conn = services.pool.get().await?;
    let linked = conn
        .transaction::<_, Refusal, _>(|conn| {
            async move {
                users::lock(conn, &user.id)
                    .await?
                    .ok_or(Refusal::Unauthenticated)?;
                if let Some(account) =
                    accounts::find_by_provider(conn, &identity.provider, &identity.account_id)
                        .await?
                {
                    if account.user_id != user.id {
                        return Err(Refusal::LinkedElsewhere);
                    }
                    let sealed = seal(cipher, &account.id, tokens);
                    accounts::replace_tokens(conn, &account.id, &sealed).await?;
                    return Ok(false);
                }
                let theirs = accounts::of_user(conn, &user.id).await?;
                if theirs.iter().any(|a| a.provider_id == identity.provider) {
                    return Err(Refusal::AlreadyConnected);
                }
                if !insert_account(conn, cipher, user, identity, tokens).await? {
                    return Err(Refusal::LinkedElsewhere);
                }
                Ok(true)
            }
            .scope_boxed()
        })
        .await?;
    if linked {
        let detail = json!({ "provider": identity.provider, "account": identity.account_id });
        record_own(&mut conn, user, "account_linked", detail, origin).await?;
        tell_owner(services, user, identity);
    }
    Ok(())
}

/// The ways the user can sign in with these accounts: a password, each account at a
/// provider still configured, each passkey.
pub(crate) fn sign_in_methods<'a>(
    providers: &Providers,
    accounts: impl IntoIterator<Item = &'a crate::db::models::Account>,
    passkeys: i64,
) -> usize {
    let usable = accounts
        .into_iter()
        .filter(|a| match a.provider_id.as_str() {
            CREDENTIAL => a.password.is_some(),
            provider => providers.find(provider).is_some(),
        })
        .count();
    usable + usize::try_from(passkeys).unwrap_or(0)
}

/// Disconnects a provider from the user, unless it is their last way to sign in. Needs a
/// sign-in from the last ten minutes.
pub async fn unlink(
    services: &Services,
    current: &sessions::SignedIn,
    provider_id: &str,
    origin: &Origin,
) -> Result<(), Refusal> {
    if provider_id == CREDENTIAL {
        return Err(Refusal::NotFound);
    }
    crate::services::accounts::require_recent_sign_in(current)?;
    let user = &current.user;
    let mut conn = services.pool.get().await?;
    conn.transaction::<_, Refusal, _>(|conn| {
        async move {
            // Locked, so two tabs cannot each remove one of the last two ways in.
            users::lock(conn, &user.id).await?;
            let WaysIn {
                accounts: theirs,
                passkeys,
            } = accounts::ways_in(conn, &user.id).await?;
            let Some(account) = theirs.iter().find(|a| a.provider_id == provider_id) else {
                return Err(Refusal::NotFound);
            };
            let remaining = theirs.iter().filter(|a| a.id != account.id);
            if sign_in_methods(&services.providers, remaining, passkeys) == 0 {
                return Err(Refusal::Conflict(
                    "This is the only way you can sign in. Set a password (\u{201c}Forgot your \
                     password?\u{201d} on the sign-in page) or connect another account first."
                        .into(),
                ));
            }
            accounts::delete_one(conn, &user.id, &account.id).await?;
            let detail = json!({ "provider": provider_id, "account": account.account_id });
            record_own(conn, user, "account_unlinked", detail, origin).await?;
            Ok(())
        }
        .scope_boxed()
    })
    .await?;
    let provider = services.providers.name_of(provider_id);
    services.mail_in_background(Mail {
        to: user.email.clone(),
        subject: format!("{provider} was disconnected from your Gatehouse account"),
        body: format!(
            "Hello {},\n\nYour {provider} account no longer signs in to your Gatehouse \
             account.\n\nIf this was not you, open {} to end your sessions, and change your \
             password.\n",
            user.name,
            services.settings.link("/profile"),
        ),
    });
    Ok(())
}

/// How the user signs in, for their profile page.
pub async fn methods(
    services: &Services,
    current: &sessions::SignedIn,
) -> Result<SignInMethods, Refusal> {
    let user = &current.user;
    let WaysIn {
        accounts: theirs,
        passkeys,
    } = services
        .shared
        .read(|conn| async move { accounts::ways_in(&conn, &user.id).await })
        .await?;
    let linked: Vec<LinkedAccount> = theirs
        .iter()
        .filter(|a| a.provider_id != CREDENTIAL)
        .map(|a| LinkedAccount {
            provider_id: a.provider_id.clone(),
            provider_name: services.providers.name_of(&a.provider_id),
            account_id: a.account_id.clone(),
            can_unlink: sign_in_methods(
                &services.providers,
                theirs.iter().filter(|other| other.id != a.id),
                passkeys,
            ) > 0,
        })
        .collect();
    let available = services
        .providers
        .choices()
        .into_iter()
        .filter(|p| !linked.iter().any(|l| l.provider_id == p.id))
        .collect();
    Ok(SignInMethods {
        has_password: theirs
            .iter()
            .any(|a| a.provider_id == CREDENTIAL && a.password.is_some()),
        linked,
        available,
    })
}

/// The user's access token at `provider_id`, refreshed first when it has expired and a
/// refresh token exists. `None` when they have no such account or no token.
pub async fn access_token(
    services: &Services,
    user_id: &str,
    provider_id: &str,
) -> Result<Option<String>, Refusal> {
    let cipher = &services.cipher;
    let mut conn = services.pool.get().await?;
    let theirs = accounts::of_user(&conn, user_id).await?;
    let Some(account) = theirs.into_iter().find(|a| a.provider_id == provider_id) else {
        return Ok(None);
    };
    let stored = accounts::tokens(&mut conn, &account.id).await?;
    let open = |column: &str, value: &str| {
        cipher
            .decrypt(value, &account_aad(&account.id, column))
            .map_err(|e| Refusal::Provider(ProviderError::unavailable(e)))
    };
    let expired = stored
        .access_token_expires_at
        .is_some_and(|at| at <= Utc::now());
    match (&stored.access_token, &stored.refresh_token) {
        (Some(access), _) if !expired => Ok(Some(open("accessToken", access)?)),
        (_, Some(refresh)) => {
            let provider = services
                .providers
                .find(provider_id)
                .ok_or_else(|| ProviderError::unavailable("the provider is not configured"))?;
            let refresh = open("refreshToken", refresh)?;
            let mut fresh = services.providers.refresh(provider, &refresh).await?;
            // A provider may keep the refresh token and not send it again.
            fresh.refresh_token.get_or_insert(refresh);
            if fresh.id_token.is_none() {
                let kept = stored.id_token.as_deref();
                fresh.id_token = kept.map(|t| open("idToken", t)).transpose()?;
            }
            accounts::replace_tokens(&mut conn, &account.id, &seal(cipher, &account.id, &fresh))
                .await?;
            Ok(Some(fresh.access_token))
        }
        _ => Ok(None),
    }
}

/// Writes a refused provider sign-in to the audit log.
pub async fn record_refusal(
    services: &Services,
    provider: &str,
    refusal: &Refusal,
    origin: &Origin,
) -> Result<(), Refusal> {
    let mut conn = services.pool.get().await?;
    let event = Event {
        action: "provider_sign_in_failed",
        actor: Actor::Anonymous,
        target: None,
        detail: json!({ "provider": provider, "reason": refusal.code(), "detail": refusal.to_string() }),
    };
    audit::record(&mut conn, event, origin).await?;
    Ok(())
}
