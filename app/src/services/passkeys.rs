//! Passkeys (WebAuthn, with webauthn-rs): added from the profile after a recent sign-in,
//! used to sign in from /login without an email (discoverable credentials), or as the second
//! step after a password. User verification is always required, so a passkey alone is two
//! factors: a passkey sign-in asks for nothing more.
//!
//! Stored in Better Auth's passkey plugin's columns (credential id in base64url, the COSE
//! public key in base64), so passkeys of an adopted Better Auth database keep working.
//!
//! A ceremony's state (its challenge) is good for five minutes and once, sealed under the
//! token keys (webauthn-rs checks the answer against the state itself, so it cannot be kept
//! as a hash alone). Where it waits depends on who asks:
//!
//! - A sign-in from /login is anonymous, so it costs no row: the state waits in a cookie of
//!   the browser that asked (`gatehouse_passkey`, sealed with [`SIGN_IN_COOKIE_AAD`], with
//!   its own expiry), which the sign-in step clears. The answer must be to that cookie's
//!   challenge, so an answer to another browser's request is refused. Single use holds
//!   without a row per request: a challenge that signs someone in is recorded then, once
//!   (`passkey-used:<digest>` in `verification`, under a unique index, until it would have
//!   expired), so a copy of the cookie and the answer cannot sign in again, even with an
//!   authenticator whose counter stays at 0 (as synced passkeys' do), and rows are written
//!   only as fast as people really sign in.
//! - Adding a passkey (signed in) and the second step (after a right password) keep it in a
//!   `verification` row named by the ceremony and the person: one at a time, a new request
//!   replaces the earlier one, so asking again and again costs no more rows. It is taken
//!   (deleted) by the answer.

use std::collections::BTreeMap;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_cbor_2::Value as Cbor;
use serde_json::json;
use url::Url;
use webauthn_rs::prelude::{
    COSEKey, COSEKeyType, Credential, DiscoverableAuthentication, PasskeyAuthentication,
    PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential, Uuid, Webauthn,
    WebauthnBuilder, WebauthnError,
};
use webauthn_rs_core::proto::{
    AttestationFormat, ParsedAttestation, RegisteredExtensions, ResidentKeyRequirement,
    UserVerificationPolicy,
};

use super::accounts::{record_own, require_recent_sign_in};
use super::audit::{self, Actor, Event, Origin};
use super::context::Services;
use super::providers::linking::sign_in_methods;
use super::sessions::{self, is_banned, SignedIn};
use super::two_factor::{self, tell_owner};
use super::{tokens, Refusal};
use crate::db::models::{Passkey, User};
use crate::db::passkeys::{self as rows, NewPasskey};
use crate::db::{accounts, sessions as session_rows, users, verifications};
use crate::views::PasskeyView;

/// The associated data a passkey sign-in's sealed cookie is encrypted with.
pub const SIGN_IN_COOKIE_AAD: &str = "passkey:sign-in";

/// How long a ceremony may take, from its options to the browser's answer.
const CEREMONY_MINUTES: i64 = 5;
/// The same, for the cookie a sign-in's state waits in.
pub const CEREMONY_LIFETIME: Duration = Duration::minutes(CEREMONY_MINUTES);
/// The longest name a passkey may have.
const NAME_CHARS: usize = 60;

/// The relying party for `public_url`: its host is the id, its origin the one allowed. None
/// for an address without a host name (WebAuthn has no IP-address relying parties).
pub fn relying_party(public_url: &Url) -> Option<Webauthn> {
    let host = public_url.domain()?;
    WebauthnBuilder::new(host, public_url)
        .ok()?
        .rp_name("Gatehouse")
        .build()
        .ok()
}

fn webauthn(services: &Services) -> Result<&Webauthn, Refusal> {
    services.relying_party.as_deref().ok_or_else(|| {
        Refusal::Conflict(
            "Passkeys need Gatehouse to be opened under a host name (PUBLIC_URL), not an IP \
             address."
                .into(),
        )
    })
}

/// The ceremonies a signed-in person, or one who gave the right password, answers; each
/// keeps its state in one row per person.
#[derive(Clone, Copy)]
enum Ceremony {
    Register,
    SecondStep,
}

impl Ceremony {
    fn identifier(self, user_id: &str) -> String {
        let kind = match self {
            Ceremony::Register => "register",
            Ceremony::SecondStep => "second-step",
        };
        format!("passkey:{kind}:{user_id}")
    }
}

/// Keeps a ceremony's state until the browser answers, in place of any earlier request of
/// the same person's for the same ceremony.
async fn keep<State: Serialize>(
    services: &Services,
    conn: &mut AsyncPgConnection,
    identifier: &str,
    state: &State,
) -> Result<(), Refusal> {
    let state = serde_json::to_string(state).expect("webauthn-rs states serialize");
    let sealed = services.cipher.encrypt(&state, identifier);
    let expires_at = Utc::now() + Duration::minutes(CEREMONY_MINUTES);
    conn.transaction::<_, Refusal, _>(|conn| {
        Box::pin(async move {
            verifications::delete_for(conn, identifier).await?;
            verifications::insert(conn, identifier, &sealed, expires_at).await?;
            Ok(())
        })
    })
    .await
}

/// Takes the state of the ceremony the browser answered, once.
async fn take<State: DeserializeOwned>(
    services: &Services,
    conn: &mut AsyncPgConnection,
    identifier: &str,
) -> Result<State, Refusal> {
    let expired = || {
        Refusal::invalid(
            "credential",
            "This passkey request has expired or was already used. Try again.",
        )
    };
    let (sealed, expires_at) = verifications::take_identified(conn, identifier)
        .await?
        .ok_or_else(expired)?;
    if expires_at <= Utc::now() {
        return Err(expired());
    }
    let state = services.cipher.decrypt(&sealed, identifier)?;
    serde_json::from_str(&state).map_err(|_| expired())
}

/// The challenge the browser signed, from its client data.
pub fn signed_challenge(client_data_json: &[u8]) -> Result<Vec<u8>, Refusal> {
    #[derive(serde::Deserialize)]
    struct ClientData {
        challenge: String,
    }
    serde_json::from_slice::<ClientData>(client_data_json)
        .ok()
        .and_then(|data| {
            URL_SAFE_NO_PAD
                .decode(data.challenge.trim_end_matches('='))
                .ok()
        })
        .ok_or_else(malformed)
}

fn malformed() -> Refusal {
    Refusal::invalid(
        "credential",
        "The browser's passkey answer could not be read. Try again.",
    )
}

fn parse<T: DeserializeOwned>(credential: &str) -> Result<T, Refusal> {
    if credential.trim().is_empty() {
        return Err(Refusal::invalid(
            "credential",
            "Passkeys need JavaScript in your browser. Sign in with your password or a \
             provider instead.",
        ));
    }
    serde_json::from_str(credential).map_err(|_| malformed())
}

/// What a person's WebAuthn user handle is: a UUID made from their id (Better Auth's ids are
/// not UUIDs). Nothing is looked up by it: the credential id names the passkey.
fn user_handle(user_id: &str) -> Uuid {
    let digest = tokens::digest(user_id);
    let mut bytes = [0u8; 16];
    hex::decode_to_slice(&digest[..32], &mut bytes).expect("a digest is hex");
    Uuid::from_bytes(bytes)
}

/// The options for adding a passkey, for the browser's `navigator.credentials.create`.
pub async fn begin_registration(
    services: &Services,
    current: &SignedIn,
) -> Result<serde_json::Value, Refusal> {
    require_recent_sign_in(current)?;
    let webauthn = webauthn(services)?;
    let user = &current.user;
    let mut conn = services.pool.get().await?;
    let theirs = rows::of_user(&conn, &user.id).await?;
    let exclude = theirs
        .iter()
        .filter_map(|p| URL_SAFE_NO_PAD.decode(&p.credential_id).ok())
        .collect();
    let (mut options, state) = webauthn
        .start_passkey_registration(
            user_handle(&user.id),
            &user.email,
            &user.name,
            Some(exclude),
        )
        .map_err(|e| unavailable(&e))?;
    // A passkey signs in without an email typed first: the credential must be discoverable.
    if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
        selection.resident_key = Some(ResidentKeyRequirement::Required);
        selection.require_resident_key = true;
    }
    let identifier = Ceremony::Register.identifier(&user.id);
    keep(services, &mut conn, &identifier, &state).await?;
    Ok(serde_json::to_value(&options.public_key).expect("options serialize"))
}

fn unavailable(e: &WebauthnError) -> Refusal {
    tracing::warn!(error = %e, "a passkey ceremony could not start");
    Refusal::Conflict("Passkeys are not available just now. Try again later.".into())
}

/// Adds the passkey the browser made: named `name` (or after the authenticator or the
/// device). The first second factor of someone without an authenticator app ends their
/// other sessions, as turning on the app does: every live session of someone with a second
/// factor has passed it.
pub async fn finish_registration(
    services: &Services,
    current: &SignedIn,
    name: &str,
    credential: &str,
    origin: &Origin,
) -> Result<(), Refusal> {
    require_recent_sign_in(current)?;
    let webauthn = webauthn(services)?;
    let name = name.trim();
    if name.chars().count() > NAME_CHARS {
        return Err(Refusal::invalid(
            "name",
            format!("A passkey's name has at most {NAME_CHARS} characters."),
        ));
    }
    let answer: RegisterPublicKeyCredential = parse(credential)?;
    let user = &current.user;
    signed_challenge(&answer.response.client_data_json)?;
    let mut conn = services.pool.get().await?;
    let identifier = Ceremony::Register.identifier(&user.id);
    let state: PasskeyRegistration = take(services, &mut conn, &identifier).await?;
    let passkey = webauthn
        .finish_passkey_registration(&answer, &state)
        .map_err(|e| refused(&e))?;
    let made: Credential = passkey.into();
    let aaguid = aaguid_of(&answer.response.attestation_object);
    let name = if name.is_empty() {
        default_name(aaguid.as_ref(), origin)
    } else {
        name.to_string()
    };
    let credential_id = URL_SAFE_NO_PAD.encode(&made.cred_id);
    let public_key = STANDARD.encode(cose_bytes(&made.cred));
    let transports = made.transports.as_ref().map(|list| {
        list.iter()
            .filter_map(|t| serde_json::to_value(t).ok()?.as_str().map(str::to_owned))
            .collect::<Vec<_>>()
            .join(",")
    });
    let aaguid = aaguid.map(|id| id.to_string());
    let first_factor = !user.two_factor_enabled && rows::count(&conn, &user.id).await? == 0;
    let added = rows::insert(
        &mut conn,
        NewPasskey {
            name: &name,
            user_id: &user.id,
            credential_id: &credential_id,
            public_key: &public_key,
            counter: i32::try_from(made.counter).unwrap_or(i32::MAX),
            device_type: if made.backup_eligible {
                "multiDevice"
            } else {
                "singleDevice"
            },
            backed_up: made.backup_state,
            transports: transports.as_deref(),
            aaguid: aaguid.as_deref(),
        },
    )
    .await?;
    if !added {
        return Err(Refusal::Conflict(
            "This passkey is already registered.".into(),
        ));
    }
    if first_factor {
        session_rows::delete_all_but(&mut conn, &user.id, Some(current.session_id())).await?;
    }
    let detail = json!({ "name": name, "credential": credential_id, "sessions_ended": if first_factor { "others" } else { "none" } });
    record_own(&mut conn, user, "passkey_added", detail, origin).await?;
    tell_owner(
        services,
        user,
        "A passkey was added to your Gatehouse account",
        &format!("a passkey named \u{201c}{name}\u{201d} was added to your Gatehouse account: it can sign you in now."),
    );
    Ok(())
}

fn refused(e: &WebauthnError) -> Refusal {
    tracing::info!(error = %e, "a passkey answer was refused");
    Refusal::invalid(
        "credential",
        "The passkey could not be verified. Try again, or use another way to sign in.",
    )
}

/// The authenticator's model (AAGUID) from an attestation object: the 16 bytes after the rp
/// id's hash, flags and counter of its authenticator data. None when it is all zeros.
pub fn aaguid_of(attestation_object: &[u8]) -> Option<Uuid> {
    let object: Cbor = serde_cbor_2::from_slice(attestation_object).ok()?;
    let Cbor::Map(object) = object else {
        return None;
    };
    let Some(Cbor::Bytes(data)) = object.get(&Cbor::Text("authData".into())) else {
        return None;
    };
    let id = Uuid::from_slice(data.get(37..53)?).ok()?;
    (!id.is_nil()).then_some(id)
}

/// A few authenticators people use most, by AAGUID (the passkey-authenticator-aaguids list).
const KNOWN_AUTHENTICATORS: &[(&str, &str)] = &[
    (
        "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4",
        "Google Password Manager",
    ),
    ("adce0002-35bc-c60a-648b-0b25f1f05503", "Chrome on Mac"),
    ("fbfc3007-154e-4ecc-8c0b-6e020557d7bd", "iCloud Keychain"),
    ("dd4ec289-e01d-41c9-bb89-70fa845d4bf2", "iCloud Keychain"),
    ("08987058-cadc-4b81-b6e1-30de50dcbe96", "Windows Hello"),
    ("9ddd1817-af5a-4672-a2b9-3e3dd95000a9", "Windows Hello"),
    ("6028b017-b1d4-4c02-b4b3-afcdafc96bb2", "Windows Hello"),
    ("bada5566-a7aa-401f-bd96-45619a55120d", "1Password"),
    ("d548826e-79b4-db40-a3d8-11116f7e8349", "Bitwarden"),
    ("531126d6-e717-415c-9320-3d9aa6981239", "Dashlane"),
    ("b84e4048-15dc-4dd0-8640-f4f60813c8af", "NordPass"),
    ("0ea242b4-43c4-4a1b-8b17-dd6d0b6baec6", "Keeper"),
    ("fdb141b2-5d84-443e-8a35-4698c205a502", "KeePassXC"),
    ("cb69481e-8ff7-4039-93ec-0a2729a154a8", "YubiKey 5"),
    ("ee882879-721c-4913-9775-3dfcce97072a", "YubiKey 5"),
];

fn default_name(aaguid: Option<&Uuid>, origin: &Origin) -> String {
    let known = aaguid.and_then(|id| {
        let id = id.to_string();
        KNOWN_AUTHENTICATORS
            .iter()
            .find(|(known, _)| *known == id)
            .map(|(_, name)| name.to_string())
    });
    known.unwrap_or_else(|| {
        format!(
            "Passkey on {}",
            sessions::describe_device(origin.user_agent.as_deref())
        )
    })
}

/// The COSE key as CBOR, the bytes Better Auth (SimpleWebAuthn) stores and reads.
fn cose_bytes(key: &COSEKey) -> Vec<u8> {
    let int = |n: i128| Cbor::Integer(n);
    let algorithm = int(key.type_ as i128);
    let map: BTreeMap<Cbor, Cbor> = match &key.key {
        COSEKeyType::EC_EC2(ec) => BTreeMap::from([
            (int(1), int(2)),
            (int(3), algorithm),
            (int(-1), int(ec.curve.clone() as i128)),
            (int(-2), Cbor::Bytes(ec.x.clone())),
            (int(-3), Cbor::Bytes(ec.y.clone())),
        ]),
        COSEKeyType::EC_OKP(okp) => BTreeMap::from([
            (int(1), int(1)),
            (int(3), algorithm),
            (int(-1), int(okp.curve.clone() as i128)),
            (int(-2), Cbor::Bytes(okp.x.clone())),
        ]),
        COSEKeyType::RSA(rsa) => BTreeMap::from([
            (int(1), int(3)),
            (int(3), algorithm),
            (int(-1), Cbor::Bytes(rsa.n.clone())),
            (int(-2), Cbor::Bytes(rsa.e.to_vec())),
        ]),
    };
    serde_cbor_2::to_vec(&Cbor::Map(map)).expect("a COSE key serializes")
}

/// The stored passkey as webauthn-rs checks it. None when its columns cannot be read (a
/// key of a kind webauthn-rs does not take).
pub fn credential_of(row: &Passkey) -> Option<Credential> {
    let cred_id = URL_SAFE_NO_PAD
        .decode(row.credential_id.trim_end_matches('='))
        .ok()?;
    // Better Auth writes base64; read base64url too.
    let key = STANDARD
        .decode(&row.public_key)
        .or_else(|_| URL_SAFE_NO_PAD.decode(row.public_key.trim_end_matches('=')))
        .ok()?;
    let key: Cbor = serde_cbor_2::from_slice(&key).ok()?;
    let transports = row.transports.as_deref().map(|list| {
        list.split(',')
            .filter_map(|t| serde_json::from_value(json!(t.trim())).ok())
            .collect()
    });
    Some(Credential {
        cred_id,
        cred: COSEKey::try_from(&key).ok()?,
        counter: u32::try_from(row.counter).unwrap_or(0),
        transports,
        user_verified: true,
        backup_eligible: row.device_type == "multiDevice",
        backup_state: row.backed_up,
        registration_policy: UserVerificationPolicy::Required,
        extensions: RegisteredExtensions::none(),
        attestation: ParsedAttestation::default(),
        attestation_format: AttestationFormat::None,
    })
}

/// A sign-in's state as its cookie carries it, sealed with [`SIGN_IN_COOKIE_AAD`].
#[derive(Serialize, Deserialize)]
struct SealedSignIn {
    /// The challenge (base64url): the browser's answer must be to this one.
    challenge: String,
    /// When the request stops being good, in Unix seconds.
    expires: i64,
    state: DiscoverableAuthentication,
}

/// The options for signing in with a passkey, no email asked (a discoverable credential),
/// and the sealed value of the cookie the request waits in ([`CEREMONY_LIFETIME`]). No row.
pub fn begin_sign_in(services: &Services) -> Result<(serde_json::Value, String), Refusal> {
    let webauthn = webauthn(services)?;
    let (options, state) = webauthn
        .start_discoverable_authentication()
        .map_err(|e| unavailable(&e))?;
    let challenge: &[u8] = &options.public_key.challenge;
    let sealed = SealedSignIn {
        challenge: URL_SAFE_NO_PAD.encode(challenge),
        expires: (Utc::now() + CEREMONY_LIFETIME).timestamp(),
        state,
    };
    let sealed = serde_json::to_string(&sealed).expect("webauthn-rs states serialize");
    Ok((
        serde_json::to_value(&options.public_key).expect("options serialize"),
        services.cipher.encrypt(&sealed, SIGN_IN_COOKIE_AAD),
    ))
}

fn sign_in_refused(why: &str) -> Refusal {
    Refusal::invalid("credential", why)
}

/// The sign-in request the browser's cookie holds, if it is whole, unexpired and the one
/// `signed` (the challenge the authenticator signed) answers.
fn open_sign_in(
    services: &Services,
    cookie: Option<&str>,
    signed: &[u8],
) -> Result<SealedSignIn, Refusal> {
    let cookie = cookie.filter(|value| !value.is_empty()).ok_or_else(|| {
        sign_in_refused(
            "This passkey request has expired or was already used, or began in another \
             browser. Try again.",
        )
    })?;
    let unreadable = || {
        sign_in_refused(
            "This passkey request could not be read: it was changed on the way. Try again.",
        )
    };
    let opened = services
        .cipher
        .decrypt(cookie, SIGN_IN_COOKIE_AAD)
        .map_err(|_| unreadable())?;
    let request: SealedSignIn = serde_json::from_str(&opened).map_err(|_| unreadable())?;
    if request.expires <= Utc::now().timestamp() {
        return Err(sign_in_refused(
            "This passkey request has expired. Try again.",
        ));
    }
    if request.challenge != URL_SAFE_NO_PAD.encode(signed) {
        return Err(sign_in_refused(
            "This passkey answer is to a request from another browser or page. Try again \
             from this page.",
        ));
    }
    Ok(request)
}

fn already_used() -> Refusal {
    sign_in_refused("This passkey request was already used. Try again.")
}

/// Signs in with the passkey the browser used, for the request its cookie (`cookie`, the
/// sealed value [`begin_sign_in`] made) holds: the session's cookie token.
pub async fn finish_sign_in(
    services: &Services,
    cookie: Option<&str>,
    credential: &str,
    origin: &Origin,
) -> Result<String, Refusal> {
    let webauthn = webauthn(services)?;
    let answer: PublicKeyCredential = parse(credential)?;
    let signed = signed_challenge(&answer.response.client_data_json)?;
    let request = open_sign_in(services, cookie, &signed)?;
    let used = format!("passkey-used:{}", tokens::digest(&request.challenge));
    let mut conn = services.pool.get().await?;
    // Read first, so that a replay is told so rather than taken for a copied authenticator
    // (its counter has not moved on); written only below, once an answer verified.
    if verifications::exists(&mut conn, &used).await? {
        return Err(already_used());
    }
    let credential_id = URL_SAFE_NO_PAD.encode(answer.get_credential_id());
    let unknown = || {
        Refusal::invalid(
            "credential",
            "This passkey does not belong to any account here. Sign in another way, then add \
             it on your profile.",
        )
    };
    let row = rows::by_credential(&mut conn, &credential_id)
        .await?
        .ok_or_else(unknown)?;
    let user = users::find(&mut conn, &row.user_id)
        .await?
        .ok_or_else(unknown)?;
    if is_banned(&user, Utc::now()) {
        return Err(Refusal::banned(&user));
    }
    let stored = credential_of(&row).ok_or_else(unknown)?;
    let checked = webauthn.finish_discoverable_authentication_v2(&answer, request.state, &stored);
    if checked.is_ok() {
        let expires_at = DateTime::from_timestamp(request.expires, 0).unwrap_or_else(Utc::now);
        if !verifications::insert_once(&mut conn, &used, "-", expires_at).await? {
            return Err(already_used());
        }
    }
    accept(&mut conn, &user, &row, checked, origin).await?;
    two_factor::start_session(services, &mut conn, &user, "passkey", None, origin).await
}

/// Checks the authenticator's answer and records the use. A counter that did not move on
/// (the authenticator may have been copied) is refused and audited.
async fn accept(
    conn: &mut AsyncPgConnection,
    user: &User,
    row: &Passkey,
    checked: Result<webauthn_rs::prelude::AuthenticationResult, WebauthnError>,
    origin: &Origin,
) -> Result<(), Refusal> {
    let cloned = || {
        Refusal::invalid(
            "credential",
            "This passkey was refused: its authenticator may have been copied. Use another \
             way to sign in, and remove this passkey from your profile.",
        )
    };
    let result = match checked {
        Ok(result) => result,
        Err(WebauthnError::CredentialPossibleCompromise) => {
            audit_cloned(conn, user, row, origin).await?;
            return Err(cloned());
        }
        Err(e) => return Err(refused(&e)),
    };
    let counter = i32::try_from(result.counter()).unwrap_or(i32::MAX);
    let recorded = rows::record_use(
        conn,
        &row.id,
        row.counter,
        counter,
        result.backup_state(),
        Utc::now(),
    )
    .await?;
    // Another use with the same counter got there first: one of the two is a copy.
    if !recorded && counter > 0 {
        audit_cloned(conn, user, row, origin).await?;
        return Err(cloned());
    }
    Ok(())
}

async fn audit_cloned(
    conn: &mut AsyncPgConnection,
    user: &User,
    row: &Passkey,
    origin: &Origin,
) -> Result<(), Refusal> {
    audit::record(
        conn,
        Event {
            action: "passkey_counter_went_back",
            actor: Actor::Anonymous,
            target: Some((&user.id, &user.email)),
            detail: json!({ "passkey": row.id, "name": row.name, "counter": row.counter }),
        },
        origin,
    )
    .await?;
    Ok(())
}

/// The options for the second step of a sign-in with one of the person's passkeys; `challenge`
/// is the second step's cookie.
pub async fn begin_second_step(
    services: &Services,
    challenge: &str,
) -> Result<serde_json::Value, Refusal> {
    let webauthn = webauthn(services)?;
    let mut conn = services.pool.get().await?;
    let pending = two_factor::pending_sign_in(&mut conn, challenge).await?;
    let theirs: Vec<webauthn_rs::prelude::Passkey> = rows::of_user(&conn, &pending.user.id)
        .await?
        .iter()
        .filter_map(credential_of)
        .map(Into::into)
        .collect();
    if theirs.is_empty() {
        return Err(Refusal::Conflict(
            "You have no passkey here: enter a code from your authenticator app instead.".into(),
        ));
    }
    let (options, state) = webauthn
        .start_passkey_authentication(&theirs)
        .map_err(|e| unavailable(&e))?;
    let identifier = Ceremony::SecondStep.identifier(&pending.user.id);
    keep(services, &mut conn, &identifier, &state).await?;
    Ok(serde_json::to_value(&options.public_key).expect("options serialize"))
}

/// The second step with a passkey: the session's cookie token.
pub async fn finish_second_step(
    services: &Services,
    challenge: &str,
    credential: &str,
    origin: &Origin,
) -> Result<String, Refusal> {
    let webauthn = webauthn(services)?;
    let answer: PublicKeyCredential = parse(credential)?;
    signed_challenge(&answer.response.client_data_json)?;
    let mut conn = services.pool.get().await?;
    let pending = two_factor::pending_sign_in(&mut conn, challenge).await?;
    let user = &pending.user;
    let identifier = Ceremony::SecondStep.identifier(&user.id);
    let state: PasskeyAuthentication = take(services, &mut conn, &identifier).await?;
    let credential_id = URL_SAFE_NO_PAD.encode(answer.get_credential_id());
    let row = rows::by_credential(&mut conn, &credential_id)
        .await?
        .filter(|row| row.user_id == user.id)
        .ok_or_else(malformed)?;
    let checked = webauthn.finish_passkey_authentication(&answer, &state);
    accept(&mut conn, user, &row, checked, origin).await?;
    two_factor::finish_second_step(services, &mut conn, pending, "passkey", origin).await
}

/// The person's passkeys, for their profile.
pub async fn list(services: &Services, user_id: &str) -> Result<Vec<PasskeyView>, Refusal> {
    let theirs = services
        .shared
        .read(|conn| async move { rows::of_user(&conn, user_id).await })
        .await?;
    Ok(theirs
        .into_iter()
        .map(|p| PasskeyView {
            name: p.name.unwrap_or_else(|| "Passkey".into()),
            id: p.id,
            created_at: p.created_at,
            last_used_at: p.last_used_at,
        })
        .collect())
}

/// Renames one of the person's passkeys.
pub async fn rename(
    services: &Services,
    current: &SignedIn,
    id: &str,
    name: &str,
) -> Result<(), Refusal> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > NAME_CHARS {
        return Err(Refusal::invalid(
            "name",
            format!("Give the passkey a name of 1 to {NAME_CHARS} characters."),
        ));
    }
    let mut conn = services.pool.get().await?;
    if rows::rename(&mut conn, &current.user.id, id, name).await? {
        Ok(())
    } else {
        Err(Refusal::NotFound)
    }
}

/// Removes one of the person's passkeys, after a recent sign-in, unless it is their last way
/// to sign in.
pub async fn remove(
    services: &Services,
    current: &SignedIn,
    id: &str,
    origin: &Origin,
) -> Result<(), Refusal> {
    require_recent_sign_in(current)?;
    let user = &current.user;
    let mut conn = services.pool.get().await?;
    let removed = conn
        .transaction::<_, Refusal, _>(|conn| {
            Box::pin(async move {
                // Locked, so two tabs cannot each remove one of the last two ways in.
                users::lock(conn, &user.id).await?;
                let ways = accounts::ways_in(conn, &user.id).await?;
                if sign_in_methods(&services.providers, &ways.accounts, ways.passkeys - 1) == 0 {
                    return Err(Refusal::Conflict(
                        "This passkey is the only way you can sign in. Set a password or \
                         connect another account first."
                            .into(),
                    ));
                }
                let removed = rows::delete_one(conn, &user.id, id)
                    .await?
                    .ok_or(Refusal::NotFound)?;
                let detail = json!({ "name": removed.name, "credential": removed.credential_id });
                record_own(conn, user, "passkey_removed", detail, origin).await?;
                Ok(removed)
            })
        })
        .await?;
    let name = removed.name.unwrap_or_else(|| "Passkey".into());
    tell_owner(
        services,
        user,
        "A passkey was removed from your Gatehouse account",
        &format!("the passkey named \u{201c}{name}\u{201d} was removed from your Gatehouse account: it no longer signs you in."),
    );
    Ok(())
}

/// Whether passkeys work here (PUBLIC_URL has a host name).
pub fn has_relying_party(services: &Services) -> bool {
    services.relying_party.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cose_key_written_as_better_auth_stores_it_reads_back_the_same() {
        let key = COSEKey {
            type_: webauthn_rs::prelude::COSEAlgorithm::ES256,
            key: COSEKeyType::EC_EC2(webauthn_rs::prelude::COSEEC2Key {
                curve: webauthn_rs::prelude::ECDSACurve::SECP256R1,
                // P-256's generator: a point on the curve.
                x: hex::decode("6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296")
                    .unwrap(),
                y: hex::decode("4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5")
                    .unwrap(),
            }),
        };
        let bytes = cose_bytes(&key);
        let read: Cbor = serde_cbor_2::from_slice(&bytes).unwrap();
        assert_eq!(COSEKey::try_from(&read).unwrap(), key);
    }

    #[test]
    fn the_relying_party_needs_a_host_name() {
        assert!(relying_party(&"https://sign-in.example.com".parse().unwrap()).is_some());
        assert!(relying_party(&"http://localhost:3000".parse().unwrap()).is_some());
        assert!(relying_party(&"http://127.0.0.1:3000".parse().unwrap()).is_none());
    }

    #[test]
    fn user_handles_are_the_same_for_one_person_and_differ_between_people() {
        assert_eq!(user_handle("a"), user_handle("a"));
        assert_ne!(user_handle("a"), user_handle("b"));
    }
}
