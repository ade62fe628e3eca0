//! A stored passkey as Gatehouse reads it back, Better Auth's rows of an adopted database
//! included (the COSE key's CBOR in base64 or base64url, transports as `a,b`): any row is
//! read or skipped, without a panic; what is read keeps the row's credential id and counter.
//!
//! Input, one column a line: credentialID, publicKey, counter, deviceType, backedUp
//! (`true`), transports (empty: none).
#![no_main]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use gatehouse_app::db::models::Passkey;
use gatehouse_app::services::passkeys::credential_of;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(text) = gatehouse_fuzz::text(data) else {
        return;
    };
    let mut lines = text.splitn(6, '\n');
    let mut line = || lines.next().unwrap_or_default();
    let (credential_id, public_key, counter) = (line(), line(), line());
    let (device_type, backed_up, transports) = (line(), line(), line());
    let counter: i32 = counter.trim().parse().unwrap_or_default();
    let passkey = Passkey {
        id: "p1".into(),
        name: None,
        public_key: public_key.to_string(),
        user_id: "u1".into(),
        credential_id: credential_id.to_string(),
        counter,
        device_type: device_type.to_string(),
        backed_up: backed_up == "true",
        transports: (!transports.is_empty()).then(|| transports.to_string()),
        created_at: None,
        aaguid: None,
        last_used_at: None,
    };
    if let Some(credential) = credential_of(&passkey) {
        let id = URL_SAFE_NO_PAD.decode(credential_id.trim_end_matches('='));
        assert_eq!(Ok(credential.cred_id.as_ref()), id.as_deref());
        assert_eq!(i64::from(credential.counter), i64::from(counter.max(0)));
        assert_eq!(credential.backup_eligible, device_type == "multiDevice");
    }
});
