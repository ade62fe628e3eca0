//! Password hashing: argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane), computed on
//! blocking threads, a bounded number at once, so a flood of sign-ins queues instead of
//! taking every core from page rendering. Hashes Better Auth wrote (scrypt) still verify, and
//! are replaced by argon2id at the next sign-in.

use std::sync::{Arc, OnceLock};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;
use unicode_normalization::UnicodeNormalization;

/// OWASP's argon2id: m = 19 MiB, t = 2, p = 1.
const MEMORY_KIB: u32 = 19_456;
const PASSES: u32 = 2;
const LANES: u32 = 1;

fn argon2() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// What checking a password found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verified {
    No,
    Yes,
    /// Right, but stored in an older form: store a new hash.
    YesRehash,
}

impl Verified {
    pub fn is_match(self) -> bool {
        self != Verified::No
    }
}

/// Hashes and verifies passwords, at most `limit` at once.
#[derive(Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
}

impl Passwords {
    pub fn new(limit: usize) -> Self {
        // Made now, so the first sign-in for an unknown email is not the slow one.
        dummy_hash();
        Self {
            permits: Arc::new(Semaphore::new(limit.max(1))),
        }
    }

    /// A PHC string for `password`.
    pub async fn hash(&self, password: &str) -> String {
        let password = password.to_owned();
        self.run(move || {
            let salt = SaltString::generate(&mut OsRng);
            argon2()
                .hash_password(password.as_bytes(), &salt)
                .expect("argon2 hashes any password")
                .to_string()
        })
        .await
    }

    /// Checks `password` against a stored hash; `None` stands for "no such account", and costs
    /// the same time as a real check, so the answer's timing tells nothing.
    pub async fn verify(&self, stored: Option<&str>, password: &str) -> Verified {
        let stored = stored.unwrap_or_else(|| dummy_hash()).to_owned();
        let is_real = stored != dummy_hash();
        let password = password.to_owned();
        let verified = self.run(move || verify_blocking(&stored, &password)).await;
        if is_real {
            verified
        } else {
            Verified::No
        }
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> T {
        let _permit = self
            .permits
            .acquire()
            .await
            .expect("the semaphore is never closed");
        tokio::task::spawn_blocking(work)
            .await
            .expect("password hashing does not panic")
    }
}

fn verify_blocking(stored: &str, password: &str) -> Verified {
    if stored.starts_with("$argon2") {
        let Ok(parsed) = PasswordHash::new(stored) else {
            return Verified::No;
        };
        if argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_err()
        {
            return Verified::No;
        }
        let current = parsed.algorithm.as_str() == "argon2id"
            && Params::try_from(&parsed).is_ok_and(|p| {
                p.m_cost() == MEMORY_KIB && p.t_cost() == PASSES && p.p_cost() == LANES
            });
        return if current {
            Verified::Yes
        } else {
            Verified::YesRehash
        };
    }
    if better_auth_scrypt_matches(stored, password) {
        return Verified::YesRehash;
    }
    Verified::No
}

/// Better Auth's format: `salt:key` in hex, where key = scrypt(NFKC(password), salt as
/// text, N = 16384, r = 16, p = 1, 64 bytes).
fn better_auth_scrypt_matches(stored: &str, password: &str) -> bool {
    let Some((salt, key)) = stored.split_once(':') else {
        return false;
    };
    let Ok(expected) = hex::decode(key) else {
        return false;
    };
    if expected.len() != 64 {
        return false;
    }
    let params = scrypt::Params::new(14, 16, 1, 64).expect("valid scrypt parameters");
    let normalized: String = password.nfkc().collect();
    let mut derived = [0u8; 64];
    if scrypt::scrypt(
        normalized.as_bytes(),
        salt.as_bytes(),
        &params,
        &mut derived,
    )
    .is_err()
    {
        return false;
    }
    derived.ct_eq(expected.as_slice()).into()
}

/// A hash of a random password nobody knows, to check unknown emails against.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        let secret = super::tokens::new_token();
        argon2()
            .hash_password(secret.as_bytes(), &salt)
            .expect("argon2 hashes any password")
            .to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn argon2id_with_owasp_parameters_round_trips() {
        let passwords = Passwords::new(2);
        let hash = passwords.hash("correct horse battery staple").await;
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert_eq!(
            passwords
                .verify(Some(&hash), "correct horse battery staple")
                .await,
            Verified::Yes
        );
        assert_eq!(
            passwords
                .verify(Some(&hash), "Correct horse battery staple")
                .await,
            Verified::No
        );
        assert_eq!(
            passwords.verify(None, "correct horse battery staple").await,
            Verified::No
        );
        assert_eq!(passwords.verify(Some("garbage"), "x").await, Verified::No);
    }

    /// Made by Better Auth 1.7.25 itself: `hashPassword` from `better-auth/crypto`.
    const BETTER_AUTH_HASH: &str = "9ed9f68f365a11efe27b16ffd79320ce:16ac8489d29a03c3d30ae146f0845e588c3f0e2dd49ee9afe9d8584808289deba33e02cd94c3b35352b8271137c570f5b23b63ea44c2f7a7b8b0ad14fa98a333";
    /// The same, for a password that NFKC changes (the ﬁ ligature becomes "fi").
    const BETTER_AUTH_UNICODE_HASH: &str = "5c05f22615298dc0c5d24427faf7302d:29a6e4918816da0c0b20bb8a44332ff7c83d7464cd2930c3563283a90735b3a1b7bed644b3dcbb8a3d94250d44d226ab5c66f7e8fdad4162a89940892b0cfc4a";

    #[tokio::test]
    async fn better_auth_scrypt_hashes_verify_and_ask_for_a_rehash() {
        let passwords = Passwords::new(2);
        let verify = |hash: &'static str, password: &'static str| {
            let passwords = passwords.clone();
            async move { passwords.verify(Some(hash), password).await }
        };
        assert_eq!(
            verify(BETTER_AUTH_HASH, "correct horse battery staple").await,
            Verified::YesRehash
        );
        assert_eq!(
            verify(BETTER_AUTH_HASH, "correct horse battery stapler").await,
            Verified::No
        );
        assert_eq!(
            verify(BETTER_AUTH_UNICODE_HASH, "Ünïcödé pässwörd ﬁ").await,
            Verified::YesRehash
        );
        assert_eq!(
            verify(BETTER_AUTH_UNICODE_HASH, "Ünïcödé pässwörd fi").await,
            Verified::YesRehash
        );
        assert_eq!(verify("zz:zz", "x").await, Verified::No);
        assert_eq!(
            verify("9ed9f68f365a11efe27b16ffd79320ce:16ac", "x").await,
            Verified::No
        );
    }

    #[tokio::test]
    async fn weaker_argon2_hashes_verify_and_ask_for_a_rehash() {
        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8, 1, 1, None).unwrap(),
        )
        .hash_password(b"hunter22", &SaltString::generate(&mut OsRng))
        .unwrap()
        .to_string();
        let passwords = Passwords::new(1);
        assert_eq!(
            passwords.verify(Some(&weak), "hunter22").await,
            Verified::YesRehash
        );
    }
}
