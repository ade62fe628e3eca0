//! Better Auth's signed session cookie: `better-auth.session_token`, whose value is the
//! token, a dot, and the standard base64 (padded) of HMAC-SHA256(secret, token), percent-
//! encoded as `encodeURIComponent` does (better-call's `serializeSignedCookie`).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::Sha256;

/// What `encodeURIComponent` leaves as it is: letters, digits and `-_.!~*'()`.
const URI_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

/// Signs and checks cookie values with the Better Auth secret.
#[derive(Clone)]
pub struct Signer {
    key: Vec<u8>,
}

impl Signer {
    pub fn new(secret: &[u8]) -> Self {
        Self {
            key: secret.to_vec(),
        }
    }

    fn mac(&self, value: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key");
        mac.update(value.as_bytes());
        mac
    }

    /// The cookie's value for `value`, as Better Auth writes it.
    pub fn sign(&self, value: &str) -> String {
        let signature = STANDARD.encode(self.mac(value).finalize().into_bytes());
        utf8_percent_encode(&format!("{value}.{signature}"), URI_COMPONENT).to_string()
    }

    /// The signed value, if the signature is this secret's; percent-encoded or not.
    pub fn verify(&self, cookie: &str) -> Option<String> {
        let decoded = percent_decode_str(cookie).decode_utf8().ok()?;
        let (value, signature) = decoded.rsplit_once('.')?;
        if value.is_empty() || signature.len() != 44 || !signature.ends_with('=') {
            return None;
        }
        let signature = STANDARD.decode(signature).ok()?;
        self.mac(value).verify_slice(&signature).ok()?;
        Some(value.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Computed by better-call 1.1.8's own serializeSignedCookie (and openssl).
    const ABC_SIGNED_WITH_S: &str = "abc.R9kg7ZB4TcXq5jW%2F0IJPYS0F8J%2BaR%2FYDkN6HOtN%2BVGs%3D";

    #[test]
    fn signs_as_better_auth_does() {
        let signer = Signer::new(b"s");
        assert_eq!(signer.sign("abc"), ABC_SIGNED_WITH_S);
        assert_eq!(
            signer.sign("Yx4Sg7tJ1mQp0aZ3bC5dE7fG9hI2kL4n"),
            "Yx4Sg7tJ1mQp0aZ3bC5dE7fG9hI2kL4n.CVGl1T5KnQP8F86REYP4s2ABIJFdm7ft2PTGexDOuj0%3D"
        );
    }

    #[test]
    fn reads_the_value_back_encoded_or_not() {
        let signer = Signer::new(b"s");
        assert_eq!(signer.verify(ABC_SIGNED_WITH_S).as_deref(), Some("abc"));
        assert_eq!(
            signer
                .verify("abc.R9kg7ZB4TcXq5jW/0IJPYS0F8J+aR/YDkN6HOtN+VGs=")
                .as_deref(),
            Some("abc")
        );
    }

    #[test]
    fn refuses_another_signature_or_secret_or_shape() {
        let signer = Signer::new(b"s");
        for forged in [
            "abc.AAAA7ZB4TcXq5jW/0IJPYS0F8J+aR/YDkN6HOtN+VGs=",
            "abd.R9kg7ZB4TcXq5jW/0IJPYS0F8J+aR/YDkN6HOtN+VGs=",
            "abc.R9kg7ZB4TcXq5jW_0IJPYS0F8J-aR_YDkN6HOtN-VGs",
            "abc",
            ".R9kg7ZB4TcXq5jW/0IJPYS0F8J+aR/YDkN6HOtN+VGs=",
        ] {
            assert_eq!(signer.verify(forged), None, "{forged}");
        }
        assert_eq!(Signer::new(b"t").verify(ABC_SIGNED_WITH_S), None);
    }
}
