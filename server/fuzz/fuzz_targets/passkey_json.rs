//! The JSON a browser posts at the end of a passkey ceremony (`credential`: a registration
//! or an assertion, as `public/passkey.js` writes it), read as Gatehouse reads it, and the
//! parts Gatehouse reads itself: the client data's challenge and the attestation's AAGUID.
#![no_main]

use gatehouse::routes::fuzzing::json_holds_nul;
use gatehouse_app::services::passkeys::{aaguid_of, signed_challenge};
use libfuzzer_sys::fuzz_target;
use webauthn_rs::prelude::{PublicKeyCredential, RegisterPublicKeyCredential};

fuzz_target!(|data: &[u8]| {
    // The raw bytes, as client data JSON and as a CBOR attestation object.
    let _ = signed_challenge(data);
    let _ = aaguid_of(data);
    let _ = json_holds_nul(data);
    let Some(text) = gatehouse_fuzz::text(data) else {
        return;
    };
    if let Ok(registration) = serde_json::from_str::<RegisterPublicKeyCredential>(text) {
        let _ = signed_challenge(registration.response.client_data_json.as_ref());
        if let Some(aaguid) = aaguid_of(registration.response.attestation_object.as_ref()) {
            assert!(!aaguid.is_nil());
        }
    }
    if let Ok(assertion) = serde_json::from_str::<PublicKeyCredential>(text) {
        let _ = signed_challenge(assertion.response.client_data_json.as_ref());
    }
});
