//! Provider tokens at rest: AES-256-GCM, with the key's id stored beside each value
//! (`enc:v1:<key id>:<base64url(nonce ‖ ciphertext)>`), so keys can rotate: the first key
//! encrypts, every configured key decrypts. Each value is bound to its row and column (the
//! associated data), so a ciphertext copied elsewhere does not decrypt.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;

const PREFIX: &str = "enc:v1:";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("encrypted with key `{0}`, which is not configured in TOKEN_ENCRYPTION_KEYS")]
    UnknownKey(String),
    #[error("the stored value is damaged or belongs to another row")]
    Corrupt,
}

/// The configured keys, newest first.
#[derive(Clone)]
pub struct TokenCipher {
    keys: Vec<(String, [u8; 32])>,
}

impl TokenCipher {
    /// `keys` newest first; there is at least one.
    pub fn new(keys: Vec<(String, [u8; 32])>) -> Self {
        assert!(!keys.is_empty(), "at least one token key");
        Self { keys }
    }

    fn current(&self) -> &(String, [u8; 32]) {
        &self.keys[0]
    }

    pub fn encrypt(&self, plaintext: &str, aad: &str) -> String {
        let (id, key) = self.current();
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = Aes256Gcm::new(key.into())
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: aad.as_bytes(),
                },
            )
            .expect("AES-GCM encrypts any message");
        let mut bytes = nonce.to_vec();
        bytes.extend(sealed);
        format!("{PREFIX}{id}:{}", URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Whether a stored value is encrypted at all (tokens Better Auth wrote are not).
    pub fn is_encrypted(stored: &str) -> bool {
        stored.starts_with(PREFIX)
    }

    /// The key id a stored value was encrypted with.
    pub fn key_of(stored: &str) -> Option<&str> {
        stored
            .strip_prefix(PREFIX)?
            .split_once(':')
            .map(|(id, _)| id)
    }

    pub fn decrypt(&self, stored: &str, aad: &str) -> Result<String, CryptoError> {
        let rest = stored.strip_prefix(PREFIX).ok_or(CryptoError::Corrupt)?;
        let (id, data) = rest.split_once(':').ok_or(CryptoError::Corrupt)?;
        let (_, key) = self
            .keys
            .iter()
            .find(|(kid, _)| kid == id)
            .ok_or_else(|| CryptoError::UnknownKey(id.to_string()))?;
        let bytes = URL_SAFE_NO_PAD
            .decode(data)
            .map_err(|_| CryptoError::Corrupt)?;
        if bytes.len() < 12 + 16 {
            return Err(CryptoError::Corrupt);
        }
        let (nonce, sealed) = bytes.split_at(12);
        let plain = Aes256Gcm::new(key.into())
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Corrupt)?;
        String::from_utf8(plain).map_err(|_| CryptoError::Corrupt)
    }

    /// The value as it should be stored now: clear text encrypted, an old key's value
    /// re-encrypted under the current key; `None` when it is already current.
    pub fn rotate(&self, stored: &str, aad: &str) -> Result<Option<String>, CryptoError> {
        if !Self::is_encrypted(stored) {
            return Ok(Some(self.encrypt(stored, aad)));
        }
        if Self::key_of(stored) == Some(self.current().0.as_str()) {
            self.decrypt(stored, aad)?; // still check it is sound
            return Ok(None);
        }
        let plain = self.decrypt(stored, aad)?;
        Ok(Some(self.encrypt(&plain, aad)))
    }
}

/// The associated data that binds a token to its account row and column.
pub fn account_aad(account_id: &str, column: &str) -> String {
    format!("account:{account_id}:{column}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher(ids: &[(&str, u8)]) -> TokenCipher {
        TokenCipher::new(
            ids.iter()
                .map(|(id, b)| (id.to_string(), [*b; 32]))
                .collect(),
        )
    }

    #[test]
    fn a_token_round_trips_and_is_not_readable() {
        let c = cipher(&[("k1", 1)]);
        let stored = c.encrypt("gho_secret-token", "account:a1:accessToken");
        assert!(stored.starts_with("enc:v1:k1:"));
        assert!(!stored.contains("gho_secret"));
        assert_ne!(
            stored,
            c.encrypt("gho_secret-token", "account:a1:accessToken"),
            "a fresh nonce each time"
        );
        assert_eq!(
            c.decrypt(&stored, "account:a1:accessToken").unwrap(),
            "gho_secret-token"
        );
    }

    #[test]
    fn a_value_moved_to_another_row_or_damaged_does_not_decrypt() {
        let c = cipher(&[("k1", 1)]);
        let stored = c.encrypt("t", "account:a1:accessToken");
        assert_eq!(
            c.decrypt(&stored, "account:a2:accessToken"),
            Err(CryptoError::Corrupt)
        );
        assert_eq!(
            c.decrypt(&stored, "account:a1:refreshToken"),
            Err(CryptoError::Corrupt)
        );
        // Flip one bit of the tag; swapping a base64 character could leave the bytes as
        // they were (the last character carries only four of its six bits).
        let (prefix, data) = stored.rsplit_once(':').unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(data).unwrap();
        *bytes.last_mut().unwrap() ^= 1;
        let damaged = format!("{prefix}:{}", URL_SAFE_NO_PAD.encode(bytes));
        assert_eq!(
            c.decrypt(&damaged, "account:a1:accessToken"),
            Err(CryptoError::Corrupt)
        );
        assert_eq!(c.decrypt("enc:v1:k1:", "x"), Err(CryptoError::Corrupt));
    }

    #[test]
    fn keys_rotate_and_old_ones_keep_decrypting() {
        let old = cipher(&[("k1", 1)]);
        let stored = old.encrypt("t", "aad");
        let both = cipher(&[("k2", 2), ("k1", 1)]);
        assert_eq!(both.decrypt(&stored, "aad").unwrap(), "t");
        let rotated = both.rotate(&stored, "aad").unwrap().unwrap();
        assert_eq!(TokenCipher::key_of(&rotated), Some("k2"));
        assert_eq!(both.rotate(&rotated, "aad").unwrap(), None);
        let clear = both
            .rotate("plain-better-auth-token", "aad")
            .unwrap()
            .unwrap();
        assert_eq!(
            both.decrypt(&clear, "aad").unwrap(),
            "plain-better-auth-token"
        );
        let new_only = cipher(&[("k2", 2)]);
        assert_eq!(
            new_only.decrypt(&stored, "aad"),
            Err(CryptoError::UnknownKey("k1".into()))
        );
    }
}
