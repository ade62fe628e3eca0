//! Passkeys through the real router, with webauthn-authenticator-rs's software authenticator
//! answering as a browser's would: added from the profile, signing in from /login without an
//! email, the second step after a password, a counter that goes back, answers that do not
//! fit, renaming and removing (never the last way in), the admin gate and reset, and a
//! passkey as Better Auth's plugin stored it.

use axum::http::StatusCode;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use gatehouse_app::db::schema::{account, passkey};
use url::Url;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_authenticator_rs::AuthenticatorBackend;
use webauthn_rs::prelude::{
    CreationChallengeResponse, PublicKeyCredential, RegisterPublicKeyCredential,
};
use webauthn_rs_core::proto::{AllowCredentials, PublicKeyCredentialCreationOptions};

use crate::accounts::{signed_in_ada, user_id, PASSWORD};
use crate::support::http::{Browser, TestResponse, PUBLIC_URL};
use crate::support::TestApp;
use crate::two_factor::{audited, password_step, sessions_began, sign_out, SECOND_STEP, SESSION};

const API: &str = "/api/passkey";

fn origin() -> Url {
    Url::parse(PUBLIC_URL).unwrap()
}

/// A device that holds passkeys and verifies its user (with a PIN, say).
pub(crate) fn device() -> SoftPasskey {
    SoftPasskey::new(true)
}

/// The text a server function answered (its output is a JSON string).
fn answer(response: &TestResponse) -> String {
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    serde_json::from_str(&response.body).unwrap()
}

/// The message of a refused step.
fn refusal(response: &TestResponse, status: StatusCode) -> String {
    assert_eq!(response.status, status, "{}", response.body);
    let error = response.json();
    error["fields"][0]["message"]
        .as_str()
        .or(error["message"].as_str())
        .unwrap()
        .to_string()
}

/// Asks for the options of `step`, as passkey.js does.
async fn options(browser: &mut Browser<'_>, step: &str) -> String {
    answer(&browser.call(API, &[("step", step)]).await)
}

/// What the device answers to the profile's "Add a passkey".
async fn registration(browser: &mut Browser<'_>, device: &mut SoftPasskey) -> String {
    let text = options(browser, "add-options").await;
    let asked: serde_json::Value = serde_json::from_str(&text).unwrap();
    // Discoverable, so that it signs in with no email typed; the person verified.
    let selection = &asked["authenticatorSelection"];
    assert_eq!(selection["residentKey"], "required", "{asked}");
    assert_eq!(selection["userVerification"], "required", "{asked}");
    let mut options: PublicKeyCredentialCreationOptions = serde_json::from_str(&text).unwrap();
    // The software authenticator keeps no resident keys: it stands in for one that does
    // (signing in, the test names the credential, as a browser does after discovery).
    if let Some(selection) = options.authenticator_selection.as_mut() {
        selection.require_resident_key = false;
    }
    let made: RegisterPublicKeyCredential =
        AuthenticatorBackend::perform_register(device, origin(), options, 60_000).unwrap();
    serde_json::to_string(&made).unwrap()
}

/// Adds a passkey named `name` from the profile; returns its credential id.
pub(crate) async fn add_passkey(
    browser: &mut Browser<'_>,
    device: &mut SoftPasskey,
    name: &str,
) -> Vec<u8> {
    let credential = registration(browser, device).await;
    let added = browser
        .call(
            API,
            &[("step", "add"), ("credential", &credential), ("name", name)],
        )
        .await;
    assert_eq!(answer(&added), "/profile?notice=passkey-added");
    let made: RegisterPublicKeyCredential = serde_json::from_str(&credential).unwrap();
    made.raw_id
}

/// What the device answers to `step`'s options. A browser lets the person pick one of the
/// passkeys the device holds for the site; here the one named `held`.
async fn assertion(
    browser: &mut Browser<'_>,
    device: &mut SoftPasskey,
    step: &str,
    held: &[u8],
) -> String {
    let text = options(browser, step).await;
    let mut options: webauthn_rs_core::proto::PublicKeyCredentialRequestOptions =
        serde_json::from_str(&text).unwrap();
    if options.allow_credentials.is_empty() {
        options.allow_credentials = vec![AllowCredentials {
            type_: "public-key".into(),
            id: held.to_vec(),
            transports: None,
        }];
    }
    let used: PublicKeyCredential =
        AuthenticatorBackend::perform_auth(device, origin(), options, 60_000).unwrap();
    serde_json::to_string(&used).unwrap()
}

async fn passkeys_of(app: &TestApp, email: &str) -> Vec<(String, String, i32, Option<String>)> {
    let id = user_id(app, email).await;
    let mut conn = app.db.conn().await;
    passkey::table
        .filter(passkey::user_id.eq(id))
        .select((
            passkey::credential_id,
            passkey::public_key,
            passkey::counter,
            passkey::name,
        ))
        .load(&mut conn)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_passkey_added_on_the_profile_signs_in_from_the_login_page_without_an_email() {
    let app = TestApp::new().await;
    let mut ada = app.browser();
    signed_in_ada(&app, &mut ada).await;
    let page = ada.get("/profile").await;
    assert!(page.body.contains("Add a passkey"), "{}", page.body);

    let mut laptop = device();
    let id = add_passkey(&mut ada, &mut laptop, "Work laptop").await;
    let mail = app.mail.wait_for("ada@example.com", 2).await;
    assert!(
        mail.subject.contains("A passkey was added"),
        "{}",
        mail.subject
    );
    let page = ada.get("/profile?notice=passkey-added").await;
    assert!(
        page.body.contains("Work laptop") && page.body.contains("last used never"),
        "{}",
        page.body
    );

    // Stored as Better Auth's passkey plugin stores it.
    let stored = passkeys_of(&app, "ada@example.com").await;
    let (credential_id, public_key, _, name) = &stored[0];
    assert_eq!(credential_id, &URL_SAFE_NO_PAD.encode(&id));
    let key: serde_cbor_2::Value =
        serde_cbor_2::from_slice(&STANDARD.decode(public_key).unwrap()).unwrap();
    assert!(matches!(key, serde_cbor_2::Value::Map(_)), "a COSE key");
    assert_eq!(name.as_deref(), Some("Work laptop"));

    // Signed out, then in again with the passkey alone: no email, no password, no second step.
    sign_out(&mut ada).await;
    let mut someone = app.browser();
    let used = assertion(&mut someone, &mut laptop, "sign-in-options", &id).await;
    let signed_in = someone
        .call(
            API,
            &[
                ("step", "sign-in"),
                ("credential", &used),
                ("next", "/artworks"),
            ],
        )
        .await;
    assert_eq!(answer(&signed_in), "/artworks");
    assert!(someone.cookie(SESSION).is_some());
    let page = someone.get("/profile").await;
    assert!(page.body.contains("ada@example.com"), "{}", page.body);
    assert!(!page.body.contains("last used never"), "{}", page.body);
    let sign_ins = audited(&app, "sign_in").await;
    assert_eq!(sign_ins.last().unwrap()["method"], "passkey");

    // The same answer again: its challenge was used.
    let again = app
        .browser()
        .call(API, &[("step", "sign-in"), ("credential", &used)])
        .await;
    let message = refusal(&again, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(message.contains("expired or was already used"), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn with_a_passkey_a_password_sign_in_asks_for_it_as_the_second_step() {
    let app = TestApp::new().await;
    let mut ada = app.browser();
    signed_in_ada(&app, &mut ada).await;
    let mut phone = device();
    let id = add_passkey(&mut ada, &mut phone, "Phone").await;
    sign_out(&mut ada).await;

    password_step(&mut ada).await;
    let options: serde_json::Value =
        serde_json::from_str(&options(&mut ada, "second-step-options").await).unwrap();
    assert_eq!(
        options["allowCredentials"][0]["id"],
        URL_SAFE_NO_PAD.encode(&id),
        "{options}"
    );
    let used = assertion(&mut ada, &mut phone, "second-step-options", &id).await;
    let done = ada
        .call(
            API,
            &[
                ("step", "second-step"),
                ("credential", &used),
                ("next", "/artworks"),
            ],
        )
        .await;
    assert_eq!(answer(&done), "/artworks");
    assert!(ada.cookie(SESSION).is_some());
    assert!(ada.cookie(SECOND_STEP).is_none());
    let sign_ins = audited(&app, "sign_in").await;
    let last = sign_ins.last().unwrap();
    assert_eq!(
        (&last["method"], &last["second_factor"]),
        (&"password".into(), &"passkey".into())
    );

    // Without the first step there is nothing to answer.
    let mut stranger = app.browser();
    let refused = stranger.call(API, &[("step", "second-step-options")]).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_passkey_whose_counter_goes_back_is_refused_and_audited() {
    let app = TestApp::new().await;
    let mut ada = app.browser();
    signed_in_ada(&app, &mut ada).await;
    let mut key = device();
    let id = add_passkey(&mut ada, &mut key, "Key").await;
    // The stored counter is ahead of the device's: another copy of the key was used.
    let mut conn = app.db.conn().await;
    diesel::update(passkey::table)
        .set(passkey::counter.eq(1000))
        .execute(&mut conn)
        .await
        .unwrap();
    let mut someone = app.browser();
    let used = assertion(&mut someone, &mut key, "sign-in-options", &id).await;
    let refused = someone
        .call(API, &[("step", "sign-in"), ("credential", &used)])
        .await;
    let message = refusal(&refused, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(message.contains("may have been copied"), "{message}");
    assert!(someone.cookie(SESSION).is_none());
    assert_eq!(audited(&app, "passkey_counter_went_back").await.len(), 1);
    assert_eq!(passkeys_of(&app, "ada@example.com").await[0].2, 1000);
}

#[tokio::test(flavor = "multi_thread")]
async fn passkey_answers_that_do_not_fit_are_refused_and_change_nothing() {
    let app = TestApp::new().await;
    let mut ada = app.browser();
    signed_in_ada(&app, &mut ada).await;
    let mut device = device();

    // Not JSON, no answer at all (a browser without JavaScript), an unknown step.
    for (credential, says) in [
        ("{not json", "could not be read"),
        ("", "need JavaScript"),
        (
            r#"{"id":"x","rawId":"AAAA","type":"public-key","response":{}}"#,
            "could not be read",
        ),
    ] {
        let refused = ada
            .call(API, &[("step", "add"), ("credential", credential)])
            .await;
        let message = refusal(&refused, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(message.contains(says), "{credential}: {message}");
    }
    let refused = ada.call(API, &[("step", "perhaps")]).await;
    refusal(&refused, StatusCode::UNPROCESSABLE_ENTITY);

    // An answer to Bob's registration, posted by Ada: it is not for her challenge.
    let mut bob = app.browser();
    crate::accounts::sign_up(&mut bob, "Bob", "bob@example.com").await;
    let mail = app.mail.wait_for("bob@example.com", 1).await;
    crate::accounts::confirm(&mut bob, &mail.link("http://gatehouse.test/verify-email")).await;
    crate::accounts::sign_in(&mut bob, "bob@example.com", PASSWORD).await;
    let bobs = registration(&mut bob, &mut device).await;
    let refused = ada
        .call(API, &[("step", "add"), ("credential", &bobs)])
        .await;
    let message = refusal(&refused, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(message.contains("expired or was already used"), "{message}");
    assert!(passkeys_of(&app, "ada@example.com").await.is_empty());

    // A name too long: refused before anything is stored, and the answer is not used up.
    let mine = registration(&mut ada, &mut device).await;
    let long = "x".repeat(61);
    let refused = ada
        .call(
            API,
            &[("step", "add"), ("credential", &mine), ("name", &long)],
        )
        .await;
    refusal(&refused, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(passkeys_of(&app, "ada@example.com").await.is_empty());

    // Nobody signed in may not add one; a sign-in older than ten minutes must be renewed.
    let refused = app.browser().call(API, &[("step", "add-options")]).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.body);
    sessions_began(&app, chrono::Duration::minutes(11)).await;
    let refused = ada.call(API, &[("step", "add-options")]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn passkeys_are_renamed_and_removed_but_never_the_last_way_in() {
    let app = TestApp::new().await;
    let mut ada = app.browser();
    signed_in_ada(&app, &mut ada).await;
    let mut key = device();
    add_passkey(&mut ada, &mut key, "Old name").await;
    let mut conn = app.db.conn().await;
    let id: String = passkey::table
        .select(passkey::id)
        .first(&mut conn)
        .await
        .unwrap();

    let (posted, page) = ada
        .submit(
            "/profile",
            "/api/two-factor",
            &[
                ("step", "rename-passkey"),
                ("id", &id),
                ("name", "Blue key"),
            ],
        )
        .await;
    assert_eq!(posted.location(), "/profile?notice=passkey-renamed");
    assert!(page.body.contains("Blue key"), "{}", page.body);
    for (name, status) in [
        ("", StatusCode::UNPROCESSABLE_ENTITY),
        ("ok", StatusCode::NOT_FOUND),
    ] {
        let other = if name.is_empty() {
            id.as_str()
        } else {
            "someone-elses"
        };
        let refused = ada
            .call(
                "/api/two-factor",
                &[("step", "rename-passkey"), ("id", other), ("name", name)],
            )
            .await;
        assert_eq!(refused.status, status, "{}", refused.body);
    }

    // Without a password or a provider, the passkey is the only way in: it stays.
    diesel::delete(account::table)
        .execute(&mut conn)
        .await
        .unwrap();
    let refused = ada
        .call(
            "/api/two-factor",
            &[("step", "remove-passkey"), ("id", &id)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert_eq!(passkeys_of(&app, "ada@example.com").await.len(), 1);

    // With another way in again (a second passkey), it goes, after a recent sign-in only.
    add_passkey(&mut ada, &mut device(), "Spare").await;
    sessions_began(&app, chrono::Duration::minutes(11)).await;
    let refused = ada
        .call(
            "/api/two-factor",
            &[("step", "remove-passkey"), ("id", &id)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    sessions_began(&app, chrono::Duration::minutes(1)).await;
    let (posted, page) = ada
        .submit(
            "/profile",
            "/api/two-factor",
            &[("step", "remove-passkey"), ("id", &id)],
        )
        .await;
    assert_eq!(posted.location(), "/profile?notice=passkey-removed");
    assert!(!page.body.contains("Blue key"), "{}", page.body);
    assert_eq!(audited(&app, "passkey_removed").await.len(), 1);
    let mut bob = app.browser();
    let refused = bob
        .call(
            "/api/two-factor",
            &[("step", "remove-passkey"), ("id", &id)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_passkey_opens_admin_pages_under_require_admin_mfa_and_an_admin_can_reset_it() {
    let app = TestApp::requiring_admin_mfa("ada@example.com").await;
    let mut ada = app.browser();
    signed_in_ada(&app, &mut ada).await;
    let refused = ada.get("/admin").await;
    assert!(
        refused.body.contains("Set up two-step sign-in"),
        "{}",
        refused.body
    );
    let mut key = device();
    add_passkey(&mut ada, &mut key, "Admin key").await;
    let page = ada.get("/admin").await;
    assert!(
        !page.body.contains("Set up two-step sign-in"),
        "{}",
        page.body
    );

    // Her own reset (she lost the key): the passkey is gone, and so is her way into /admin.
    let id = user_id(&app, "ada@example.com").await;
    let (posted, _) = ada
        .submit(
            &format!("/admin/users/{id}"),
            "/api/admin/change",
            &[("id", &id), ("change", "reset-two-factor")],
        )
        .await;
    assert!(
        posted.location().contains("notice=two-factor-reset"),
        "{}",
        posted.location()
    );
    assert!(passkeys_of(&app, "ada@example.com").await.is_empty());
    let again = ada
        .call(
            "/api/admin/change",
            &[("id", &id), ("change", "reset-two-factor")],
        )
        .await;
    assert_eq!(again.status, StatusCode::FORBIDDEN, "{}", again.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_passkey_better_auth_stored_signs_in_after_the_database_is_adopted() {
    let app = TestApp::new().await;
    let mut ada = app.browser();
    signed_in_ada(&app, &mut ada).await;
    sign_out(&mut ada).await;
    // Made by the device for this site, and stored the way Better Auth's plugin stores it
    // (SimpleWebAuthn's credential: the id in base64url, the COSE key's bytes in base64).
    let mut key = device();
    let options: CreationChallengeResponse = serde_json::from_value(serde_json::json!({
        "publicKey": {
            "rp": { "id": "gatehouse.test", "name": "Artorizer" },
            "user": { "id": "YWRh", "name": "ada@example.com", "displayName": "Ada" },
            "challenge": "AAAAAAAAAAAAAAAAAAAAAA",
            "pubKeyCredParams": [{ "type": "public-key", "alg": -7 }],
        }
    }))
    .unwrap();
    let made =
        AuthenticatorBackend::perform_register(&mut key, origin(), options.public_key, 60_000)
            .unwrap();
    let (credential_id, cose_key) = credential_data(&made.response.attestation_object);
    let ada_id = user_id(&app, "ada@example.com").await;
    let mut conn = app.db.conn().await;
    diesel::insert_into(passkey::table)
        .values((
            passkey::id.eq("better-auth-passkey"),
            passkey::name.eq("Ada's key"),
            passkey::public_key.eq(STANDARD.encode(&cose_key)),
            passkey::user_id.eq(&ada_id),
            passkey::credential_id.eq(URL_SAFE_NO_PAD.encode(&credential_id)),
            passkey::counter.eq(0),
            passkey::device_type.eq("singleDevice"),
            passkey::backed_up.eq(false),
            passkey::transports.eq("usb,nfc"),
        ))
        .execute(&mut conn)
        .await
        .unwrap();

    let mut someone = app.browser();
    let used = assertion(&mut someone, &mut key, "sign-in-options", &credential_id).await;
    let signed_in = someone
        .call(API, &[("step", "sign-in"), ("credential", &used)])
        .await;
    assert_eq!(answer(&signed_in), "/profile");
    let page = someone.get("/profile").await;
    assert!(page.body.contains("Ada&#39;s key"), "{}", page.body);
}

/// The credential id and COSE public key of an attestation object's authenticator data.
fn credential_data(attestation_object: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let object: serde_cbor_2::Value = serde_cbor_2::from_slice(attestation_object).unwrap();
    let serde_cbor_2::Value::Map(object) = object else {
        panic!("a map")
    };
    let Some(serde_cbor_2::Value::Bytes(data)) =
        object.get(&serde_cbor_2::Value::Text("authData".into()))
    else {
        panic!("authData")
    };
    // rp id hash (32), flags (1), counter (4), AAGUID (16), id length (2), id, COSE key.
    let length = u16::from_be_bytes([data[53], data[54]]) as usize;
    let id = data[55..55 + length].to_vec();
    (id, data[55 + length..].to_vec())
}

/// The cookie a passkey sign-in's challenge waits in, between its options and its answer.
const CEREMONY: &str = "gatehouse_passkey";

async fn verification_rows(app: &TestApp) -> i64 {
    use gatehouse_app::db::schema::verification;
    let mut conn = app.db.conn().await;
    verification::table
        .count()
        .get_result(&mut conn)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn asking_for_sign_in_options_costs_no_row() {
    let app = TestApp::new().await;
    let before = verification_rows(&app).await;
    let mut stranger = app.browser();
    for _ in 0..200 {
        options(&mut stranger, "sign-in-options").await;
    }
    assert_eq!(
        verification_rows(&app).await,
        before,
        "200 anonymous sign-in-options calls wrote rows"
    );
    // The challenge waits in the browser instead: sealed, so its state cannot be read.
    let sealed = stranger.cookie(CEREMONY).expect("the ceremony's cookie");
    assert!(sealed.starts_with("enc:v1:"), "{sealed}");
    assert!(!sealed.contains("challenge"), "{sealed}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_passkey_sign_in_needs_this_browsers_own_unexpired_unused_challenge() {
    let app = TestApp::new().await;
    let mut ada = app.browser();
    signed_in_ada(&app, &mut ada).await;
    let mut key = device();
    let id = add_passkey(&mut ada, &mut key, "Key").await;
    sign_out(&mut ada).await;

    // Ada's browser asks, and her key answers its challenge.
    let used = assertion(&mut ada, &mut key, "sign-in-options", &id).await;
    let own = ada
        .cookie(CEREMONY)
        .expect("the ceremony's cookie")
        .to_string();
    let sign_in = [("step", "sign-in"), ("credential", used.as_str())];

    // Another browser, with a challenge of its own, or with none, cannot use that answer.
    let mut other = app.browser_at("10.9.0.7");
    options(&mut other, "sign-in-options").await;
    let refused = other.call(API, &sign_in).await;
    assert!(refused.status.is_client_error(), "{}", refused.body);
    let message = refusal(&refused, refused.status);
    assert!(message.contains("another browser"), "{message}");
    let refused = app.browser().call(API, &sign_in).await;
    assert!(refused.status.is_client_error(), "{}", refused.body);
    let message = refusal(&refused, refused.status);
    assert!(message.contains("expired or was already used"), "{message}");

    // Ada's own cookie, changed by a byte: it does not open.
    let mut tampered = own.clone().into_bytes();
    let last = tampered.len() - 2;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    ada.set_cookie(CEREMONY, std::str::from_utf8(&tampered).unwrap());
    let refused = ada.call(API, &sign_in).await;
    assert!(refused.status.is_client_error(), "{}", refused.body);
    let message = refusal(&refused, refused.status);
    assert!(message.contains("could not be read"), "{message}");

    // Ada's own cookie, sealed again with a time that has passed: expired.
    let aad = gatehouse_app::services::passkeys::SIGN_IN_COOKIE_AAD;
    let mut opened: serde_json::Value =
        serde_json::from_str(&app.services.cipher.decrypt(&own, aad).unwrap()).unwrap();
    opened["expires"] = (chrono::Utc::now().timestamp() - 1).into();
    ada.set_cookie(
        CEREMONY,
        &app.services.cipher.encrypt(&opened.to_string(), aad),
    );
    let refused = ada.call(API, &sign_in).await;
    assert!(refused.status.is_client_error(), "{}", refused.body);
    let message = refusal(&refused, refused.status);
    assert!(message.contains("expired"), "{message}");
    assert!(ada.cookie(SESSION).is_none());

    // With its own cookie as it was, Ada's browser signs in, and the cookie is gone.
    ada.set_cookie(CEREMONY, &own);
    let signed_in = ada.call(API, &sign_in).await;
    assert_eq!(answer(&signed_in), "/profile");
    assert!(ada.cookie(SESSION).is_some());
    assert!(ada.cookie(CEREMONY).is_none(), "used once, cleared");

    // The same cookie and answer again (a copy kept): used, and no second session.
    let sessions = {
        use gatehouse_app::db::schema::session;
        let mut conn = app.db.conn().await;
        session::table
            .count()
            .get_result::<i64>(&mut conn)
            .await
            .unwrap()
    };
    let mut replay = app.browser_at("10.9.0.8");
    replay.set_cookie(CEREMONY, &own);
    let refused = replay.call(API, &sign_in).await;
    assert!(refused.status.is_client_error(), "{}", refused.body);
    let message = refusal(&refused, refused.status);
    assert!(message.contains("already used"), "{message}");
    assert!(replay.cookie(SESSION).is_none());
    let after = {
        use gatehouse_app::db::schema::session;
        let mut conn = app.db.conn().await;
        session::table
            .count()
            .get_result::<i64>(&mut conn)
            .await
            .unwrap()
    };
    assert_eq!(after, sessions);
    assert!(
        audited(&app, "passkey_counter_went_back").await.is_empty(),
        "a replay is not taken for a copied key"
    );
}
