//! Random tokens and their digests. The browser or the mailbox gets the token; the database
//! only ever holds its SHA-256.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// 32 random bytes, base64url without padding (43 characters).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Hex SHA-256, as stored in `session.token` and `verification.value`.
pub fn digest(token: &str) -> String {
    let mut hex = [0u8; 64];
    // Into a buffer of the right size: `hex::encode` builds its String a char at a time,
    // and this runs on every request that carries a session.
    hex::encode_to_slice(Sha256::digest(token.as_bytes()), &mut hex)
        .expect("64 hex digits for 32 bytes");
    String::from_utf8(hex.to_vec()).expect("hex digits are ASCII")
}

/// Whether `token` looks like one of ours, before any database work.
pub fn is_well_formed(token: &str) -> bool {
    token.len() == 43 && URL_SAFE_NO_PAD.decode(token).is_ok_and(|b| b.len() == 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_well_formed() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert!(is_well_formed(&a));
        assert!(!is_well_formed("short"));
        assert!(!is_well_formed(&format!("{}!", &a[..42])));
    }

    #[test]
    fn the_digest_is_hex_sha256() {
        assert_eq!(
            digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
