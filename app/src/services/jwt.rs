//! JWTs for backends, as Better Auth's jwt plugin makes them: `GET /api/auth/token` gives
//! one for the caller's session, `GET /api/auth/jwks` publishes the keys that check it.
//! Ed25519 (EdDSA), 15 minutes, issuer PUBLIC_URL, audience PUBLIC_URL or the backend in
//! JWT_AUDIENCES the caller asked for ([`Audiences`]). What a backend decides on is signed as
//! Gatehouse decides it: `role` is `admin` only where the admin pages would open
//! (`admin::require_admin`, so REQUIRE_ADMIN_MFA holds for backends too), `has_access` as
//! `access::has_access`, `amr` how this session's sign-in went. The keys live in the `jwks`
//! table, the private half encrypted with the token keys. `gatehouse keys rotate-jwt` makes
//! a new key and retires the others, which stay published until the last token they signed
//! has expired. A key Better Auth made (its private half sealed with Better Auth's secret)
//! is published, never used: Gatehouse's first key retires it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use ed25519_dalek::SigningKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::admin;
use super::context::Services;
use super::crypto::TokenCipher;
use super::sessions::SignedIn;
use super::Refusal;
use crate::db::jwks::{self, StoredKey};
use crate::db::models::new_id;
use crate::db::{DbConn, DbPool};
use crate::views::Role;

/// How long a token is good for, and so how long a retired key stays published.
pub const TOKEN_LIFETIME: Duration = Duration::minutes(15);

/// What a backend reads from a token. `sub` and `sid` name the user and the session.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub sub: String,
    pub sid: String,
    pub email: String,
    /// Whether the person confirmed `email`.
    pub email_verified: bool,
    pub name: String,
    /// `admin` only when the admin pages would let this session in; `user` otherwise (an
    /// admin without the second factor REQUIRE_ADMIN_MFA asks for is `user` here).
    pub role: String,
    pub tier: String,
    /// Let in by an admin or the allow-list (not the same as access: see `has_access`).
    pub whitelisted: bool,
    /// May use the service (`access::has_access`): let in, or an admin. What a backend
    /// checks before serving the person.
    pub has_access: bool,
    /// How this session's sign-in went (RFC 8176): `pwd`, `otp`, `hwk`, and `mfa` when more
    /// than one factor passed. Empty for a session older than the record, or a provider's.
    pub amr: Vec<String>,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
}

/// Whom a token may be for: PUBLIC_URL (the default, as before there was a choice) and each
/// backend of JWT_AUDIENCES. A token for one does not verify at another that checks `aud`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Audiences {
    default: String,
    others: Vec<String>,
}

impl Audiences {
    pub fn new(public_url: &url::Url, configured: Vec<String>) -> Self {
        Self {
            default: issuer(public_url).to_string(),
            others: configured,
        }
    }

    /// The audience asked for, if it is one of these; PUBLIC_URL when none is asked for.
    pub fn pick(&self, asked: Option<&str>) -> Result<&str, UnknownAudience> {
        match asked {
            None => Ok(&self.default),
            Some(asked) if asked == self.default => Ok(&self.default),
            Some(asked) => self
                .others
                .iter()
                .find(|known| *known == asked)
                .map(String::as_str)
                .ok_or(UnknownAudience),
        }
    }
}

/// An audience that is neither PUBLIC_URL nor in JWT_AUDIENCES.
#[derive(Debug, PartialEq, Eq)]
pub struct UnknownAudience;

impl std::fmt::Display for UnknownAudience {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(
            "Unknown audience: ask for one of the backends in JWT_AUDIENCES, or for none \
             (PUBLIC_URL).",
        )
    }
}

fn issuer(public_url: &url::Url) -> &str {
    public_url.as_str().trim_end_matches('/')
}

/// An Ed25519 key as a JWK (RFC 8037); `d`, the private half, only inside the sealed column.
#[derive(Serialize, Deserialize)]
struct OkpKey {
    crv: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    d: Option<String>,
    x: String,
    kty: String,
}

/// A signed token for the caller's session, for `audience` (one [`Audiences::pick`] gave).
pub async fn token_for(
    services: &Services,
    current: &SignedIn,
    audience: &str,
) -> Result<String, Refusal> {
    // The admin pages' own rule, not a copy of it: a backend sees `admin` exactly when they
    // would open for this session.
    let role = match admin::require_admin(services, current).await {
        Ok(()) => Role::Admin,
        Err(Refusal::NotFound | Refusal::SecondFactorRequired) => Role::User,
        Err(failure) => return Err(failure),
    };
    let mut conn = services.pool.get().await?;
    let now = Utc::now();
    let (kid, seed) = match signing_key(&jwks::all(&mut conn).await?, &services.cipher, now) {
        Some(key) => key,
        None => create(&mut conn, &services.cipher, now).await?,
    };
    let user = &current.user;
    let claims = Claims {
        sub: user.id.clone(),
        sid: current.session.id.clone(),
        email: user.email.clone(),
        email_verified: user.email_verified,
        name: user.name.clone(),
        role: role.as_str().to_string(),
        tier: user.tier.clone(),
        whitelisted: user.is_whitelisted,
        has_access: current.has_access(),
        amr: current.session.amr.clone().unwrap_or_default(),
        iat: now.timestamp(),
        exp: (now + TOKEN_LIFETIME).timestamp(),
        iss: issuer(&services.settings.public_url).to_string(),
        aud: audience.to_string(),
    };
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid);
    let key = EncodingKey::from_ed_der(&pkcs8(&seed));
    Ok(jsonwebtoken::encode(&header, &claims, &key).expect("an Ed25519 key signs any claims"))
}

/// The keys a backend may see tokens signed with, as JWKS lists them. The first call on
/// an empty table makes the first key, as Better Auth does.
pub async fn published(services: &Services) -> Result<Vec<Value>, Refusal> {
    let mut conn = services.pool.get().await?;
    let now = Utc::now();
    let mut keys = jwks::all(&mut conn).await?;
    if keys.is_empty() {
        create(&mut conn, &services.cipher, now).await?;
        keys = jwks::all(&mut conn).await?;
    }
    Ok(keys
        .iter()
        .filter(|key| key.expires_at.is_none_or(|end| end + TOKEN_LIFETIME > now))
        .filter_map(|key| {
            let Ok(Value::Object(public)) = serde_json::from_str(&key.public_key) else {
                return None;
            };
            let mut jwk = Map::new();
            jwk.insert("alg".into(), "EdDSA".into());
            jwk.extend(public);
            jwk.insert("kid".into(), key.id.clone().into());
            Some(Value::Object(jwk))
        })
        .collect())
}

/// `gatehouse keys rotate-jwt`: a new signing key, the others retired now. Keys retired
/// longer ago than a token lives are deleted. Returns the new key's id.
pub async fn rotate(pool: &DbPool, cipher: &TokenCipher) -> Result<String, Refusal> {
    let mut conn = pool.get().await?;
    let now = Utc::now();
    let (kid, _) = create(&mut conn, cipher, now).await?;
    jwks::delete_retired_before(&mut conn, now - TOKEN_LIFETIME).await?;
    Ok(kid)
}

/// The newest key still in use whose private half this instance can open.
fn signing_key(
    keys: &[StoredKey],
    cipher: &TokenCipher,
    now: DateTime<Utc>,
) -> Option<(String, [u8; 32])> {
    keys.iter()
        .filter(|key| key.expires_at.is_none_or(|end| end > now))
        .find_map(|key| {
            let sealed = cipher.decrypt(&key.private_key, &aad(&key.id)).ok()?;
            let private: OkpKey = serde_json::from_str(&sealed).ok()?;
            let seed = URL_SAFE_NO_PAD.decode(private.d?).ok()?;
            Some((key.id.clone(), seed.try_into().ok()?))
        })
}

/// A new key, stored; every other key in use is retired now.
async fn create(
    conn: &mut DbConn,
    cipher: &TokenCipher,
    now: DateTime<Utc>,
) -> Result<(String, [u8; 32]), Refusal> {
    let mut seed = [0u8; 32];
    rand::rng().fill_bytes(&mut seed);
    let x = URL_SAFE_NO_PAD.encode(SigningKey::from_bytes(&seed).verifying_key().to_bytes());
    let jwk = |d: Option<String>| {
        serde_json::to_string(&OkpKey {
            crv: "Ed25519".into(),
            d,
            x: x.clone(),
            kty: "OKP".into(),
        })
        .expect("a JWK serializes")
    };
    let id = new_id();
    let key = StoredKey {
        public_key: jwk(None),
        private_key: cipher.encrypt(&jwk(Some(URL_SAFE_NO_PAD.encode(seed))), &aad(&id)),
        id: id.clone(),
        created_at: now,
        expires_at: None,
    };
    jwks::insert_retiring_others(conn, &key, now).await?;
    Ok((id, seed))
}

/// The associated data that binds a sealed private key to its row.
pub fn aad(key_id: &str) -> String {
    format!("jwks:{key_id}:privateKey")
}

/// The seed as the PKCS#8 document jsonwebtoken reads (RFC 8410: a fixed prefix, then it).
fn pkcs8(seed: &[u8; 32]) -> Vec<u8> {
    const PREFIX: [u8; 16] = [
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    [PREFIX.as_slice(), seed].concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_for_public_url_or_a_configured_backend_and_nothing_else() {
        let audiences = Audiences::new(
            &"https://auth.example.org/".parse().unwrap(),
            vec!["https://render.example".into(), "billing".into()],
        );
        assert_eq!(audiences.pick(None), Ok("https://auth.example.org"));
        assert_eq!(
            audiences.pick(Some("https://auth.example.org")),
            Ok("https://auth.example.org")
        );
        assert_eq!(audiences.pick(Some("billing")), Ok("billing"));
        for unknown in [
            "",
            "Billing",
            "https://render.example/",
            "https://evil.example",
        ] {
            assert_eq!(
                audiences.pick(Some(unknown)),
                Err(UnknownAudience),
                "{unknown}"
            );
        }
    }
}
