//! JWTs for backends, as Better Auth's jwt plugin makes them: `GET /api/auth/token` gives
//! one for the caller's session, `GET /api/auth/jwks` publishes the keys that check it.
//! Ed25519 (EdDSA), 15 minutes, issuer and audience PUBLIC_URL. The keys live in the `jwks`
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

use super::context::Services;
use super::crypto::TokenCipher;
use super::sessions::SignedIn;
use super::Refusal;
use crate::db::jwks::{self, StoredKey};
use crate::db::models::new_id;
use crate::db::{DbConn, DbPool};

/// How long a token is good for, and so how long a retired key stays published.
pub const TOKEN_LIFETIME: Duration = Duration::minutes(15);

/// What a backend reads from a token. `sub` and `sid` name the user and the session.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub sub: String,
    pub sid: String,
    pub email: String,
    pub name: String,
    pub role: String,
    pub tier: String,
    pub whitelisted: bool,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
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

/// A signed token for the caller's session.
pub async fn token_for(services: &Services, current: &SignedIn) -> Result<String, Refusal> {
    let mut conn = services.pool.get().await?;
    let now = Utc::now();
    let (kid, seed) = match signing_key(&jwks::all(&mut conn).await?, &services.cipher, now) {
        Some(key) => key,
        None => create(&mut conn, &services.cipher, now).await?,
    };
    let issuer = services.settings.public_url.as_str().trim_end_matches('/');
    let user = &current.user;
    let claims = Claims {
        sub: user.id.clone(),
        sid: current.session.id.clone(),
        email: user.email.clone(),
        name: user.name.clone(),
        role: user.role.clone(),
        tier: user.tier.clone(),
        whitelisted: user.is_whitelisted,
        iat: now.timestamp(),
        exp: (now + TOKEN_LIFETIME).timestamp(),
        iss: issuer.to_string(),
        aud: issuer.to_string(),
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
