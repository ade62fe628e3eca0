//! Better Auth's signed session cookie (`better-auth.session_token`), and Gatehouse's own
//! session token's shape: any text as a cookie is refused or verifies to a value that signs
//! back; any value signs to a cookie that verifies back to it, under its secret only.
#![no_main]

use gatehouse::routes::fuzzing::Signer;
use gatehouse_app::services::tokens;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(text) = gatehouse_fuzz::text(data) else {
        return;
    };
    let signer = Signer::new(b"a Better Auth secret, for fuzzing only");
    if let Some(value) = signer.verify(text) {
        assert!(!value.is_empty());
        assert_eq!(
            signer.verify(&signer.sign(&value)).as_deref(),
            Some(value.as_str())
        );
    }
    if !text.is_empty() {
        let cookie = signer.sign(text);
        assert_eq!(signer.verify(&cookie).as_deref(), Some(text), "{cookie}");
        assert_eq!(Signer::new(b"another secret").verify(&cookie), None);
    }
    if tokens::is_well_formed(text) {
        let digest = tokens::digest(text);
        assert!(digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit()));
    }
});
