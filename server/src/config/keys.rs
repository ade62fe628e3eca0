//! The keys' formats: SECRET_KEY (32 bytes as 64 hex characters) and TOKEN_ENCRYPTION_KEYS
//! (`id:key` pairs, newest first). Where they come from is `crate::secrets`.

use std::fmt;
use std::str::FromStr;

use rand::RngCore;

const KEY_BYTES: usize = 32;

/// The keys as configured; missing ones are made locally (see `crate::secrets`).
#[derive(clap::Args, Clone, Debug)]
pub struct KeyArgs {
    /// 64 hex characters (32 random bytes) that sign and encrypt Gatehouse's own cookies.
    #[arg(long, env, global = true, hide_env_values = true)]
    pub secret_key: Option<SecretKey>,

    /// Keys for provider tokens at rest: `id:64-hex-chars`, comma-separated, newest first.
    #[arg(long, env, global = true, hide_env_values = true)]
    pub token_encryption_keys: Option<TokenKeys>,
}

/// 32 random bytes, given as 64 hex characters.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey([u8; KEY_BYTES]);

impl SecretKey {
    pub fn generate() -> Self {
        let mut bytes = [0u8; KEY_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        Self(bytes)
    }

    pub fn bytes(&self) -> &[u8; KEY_BYTES] {
        &self.0
    }

    pub(crate) fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl FromStr for SecretKey {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        const EXPECTED: &str =
            "expected 64 hex characters (32 random bytes; `openssl rand -hex 32` makes one)";
        let bytes = hex::decode(value.trim()).map_err(|_| EXPECTED.to_string())?;
        let bytes: [u8; KEY_BYTES] = bytes.try_into().map_err(|_| EXPECTED.to_string())?;
        Ok(Self(bytes))
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

/// One key for provider tokens; its id is stored beside every value it encrypts.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenKey {
    pub id: String,
    pub key: SecretKey,
}

/// Every key that may still decrypt a stored token; the first encrypts new ones.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenKeys(Vec<TokenKey>);

impl TokenKeys {
    pub fn generate() -> Self {
        Self(vec![TokenKey {
            id: "k1".to_string(),
            key: SecretKey::generate(),
        }])
    }

    pub fn current(&self) -> &TokenKey {
        &self.0[0]
    }

    pub fn get(&self, id: &str) -> Option<&TokenKey> {
        self.0.iter().find(|k| k.id == id)
    }

    /// The cipher for provider tokens: the first key encrypts, all decrypt.
    pub fn cipher(&self) -> gatehouse_app::services::crypto::TokenCipher {
        gatehouse_app::services::crypto::TokenCipher::new(
            self.0
                .iter()
                .map(|k| (k.id.clone(), *k.key.bytes()))
                .collect(),
        )
    }

    pub(crate) fn to_config_value(&self) -> String {
        self.0
            .iter()
            .map(|k| format!("{}:{}", k.id, k.key.to_hex()))
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl FromStr for TokenKeys {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        const EXPECTED: &str = "expected `id:key` pairs separated by commas, newest first, \
             where id is letters, digits, - or _ and key is 64 hex characters";
        let mut keys: Vec<TokenKey> = Vec::new();
        for pair in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (id, key) = pair.split_once(':').ok_or(EXPECTED)?;
            let id_ok = !id.is_empty()
                && id.len() <= 32
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !id_ok {
                return Err(format!("{EXPECTED}; `{id}` is not a valid key id"));
            }
            if keys.iter().any(|k| k.id == id) {
                return Err(format!("key id `{id}` appears twice"));
            }
            let key = key.parse().map_err(|e| format!("key `{id}`: {e}"))?;
            keys.push(TokenKey {
                id: id.to_string(),
                key,
            });
        }
        if keys.is_empty() {
            return Err(EXPECTED.to_string());
        }
        Ok(Self(keys))
    }
}

impl fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<&str> = self.0.iter().map(|k| k.id.as_str()).collect();
        write!(f, "TokenKeys(ids: {ids:?}, keys: <redacted>)")
    }
}
