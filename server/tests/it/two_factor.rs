//! Two-step sign-in with an authenticator app (TOTP) through the real router: set-up from
//! the profile, the second step after a password, recovery codes, codes used once, the
//! limit on codes, turning it off, and the first steps that must not skip it.

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use gatehouse_app::db::schema::{audit_event, session, two_factor, user};

use crate::accounts::{signed_in_ada, user_id, PASSWORD};
use crate::support::http::Browser;
use crate::support::TestApp;

const PAGE: &str = "/two-factor";
pub(crate) const SESSION: &str = "gatehouse_session";
pub(crate) const SECOND_STEP: &str = "gatehouse_second_step";

/// The code an authenticator app shows for `secret`, `steps` steps of 30 s from now.
pub(crate) fn code(secret: &str, steps: i64) -> String {
    let totp = totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(secret).unwrap())
        .build()
        .unwrap();
    let at = Utc::now().timestamp() + steps * 30;
    totp.generate(at as u64).to_string()
}

/// A six-digit code that is not `code`.
fn another_code(code: &str) -> &'static str {
    if code == "000000" {
        "111111"
    } else {
        "000000"
    }
}

/// Makes every session look as if it began `ago`.
pub(crate) async fn sessions_began(app: &TestApp, ago: Duration) {
    let mut conn = app.db.conn().await;
    diesel::update(session::table)
        .set(session::created_at.eq(Utc::now() - ago))
        .execute(&mut conn)
        .await
        .unwrap();
}

/// What the page shows between `start` and the next `end`.
fn between<'a>(page: &'a str, start: &str, end: &str) -> &'a str {
    let from = page
        .find(start)
        .unwrap_or_else(|| panic!("{start} in {page}"))
        + start.len();
    let len = page[from..].find(end).unwrap();
    &page[from..from + len]
}

pub(crate) struct SetUp {
    pub(crate) secret: String,
    recovery_codes: Vec<String>,
    /// The code the set-up was confirmed with (empty until then).
    first_code: String,
}

/// Starts a set-up from the page and reads what it shows: the secret and the codes.
pub(crate) async fn begin(browser: &mut Browser<'_>) -> SetUp {
    let (posted, page) = browser
        .submit(PAGE, "/api/two-factor", &[("step", "begin")])
        .await;
    assert_eq!(posted.location(), "/two-factor?notice=two-factor-key");
    assert!(
        page.body
            .contains(r#"aria-label="QR code for your authenticator app""#)
            && page.body.contains("<svg"),
        "{}",
        page.body
    );
    let secret = between(&page.body, r#"<code class="secret">"#, "</code>").to_string();
    let list = between(&page.body, r#"aria-label="Recovery codes""#, "</ul>");
    let recovery_codes: Vec<String> = list
        .split("<code>")
        .skip(1)
        .map(|c| c.split("</code>").next().unwrap().to_string())
        .collect();
    assert_eq!(recovery_codes.len(), 10, "{list}");
    SetUp {
        secret,
        recovery_codes,
        first_code: String::new(),
    }
}

/// Ada, signed in, with two-step sign-in on.
async fn ada_with_two_factor<'a>(app: &'a TestApp) -> (Browser<'a>, SetUp) {
    let mut ada = app.browser();
    signed_in_ada(app, &mut ada).await;
    let mut setup = begin(&mut ada).await;
    setup.first_code = code(&setup.secret, 0);
    let (posted, page) = ada
        .submit(
            PAGE,
            "/api/two-factor",
            &[("step", "confirm"), ("code", &setup.first_code)],
        )
        .await;
    assert_eq!(posted.location(), "/two-factor?notice=two-factor-on");
    assert!(
        page.body.contains("Two-step sign-in is on"),
        "{}",
        page.body
    );
    (ada, setup)
}

async fn enabled(app: &TestApp, email: &str) -> bool {
    let mut conn = app.db.conn().await;
    user::table
        .filter(user::email.eq(email))
        .select(user::two_factor_enabled)
        .first(&mut conn)
        .await
        .unwrap()
}

pub(crate) async fn sign_out(browser: &mut Browser<'_>) {
    browser.submit("/profile", "/api/sign-out", &[]).await;
    assert!(browser.cookie(SESSION).is_none());
}

/// The first step with the password: no session yet, the second step's page instead.
pub(crate) async fn password_step(browser: &mut Browser<'_>) {
    let (posted, page) = browser
        .submit(
            "/login?next=/artworks",
            "/api/sign-in",
            &[
                ("email", "ada@example.com"),
                ("password", PASSWORD),
                ("next", "/artworks"),
            ],
        )
        .await;
    assert_eq!(posted.location(), "/two-factor?next=%2Fartworks");
    assert!(page.body.contains("Two-step sign-in"), "{}", page.body);
    assert!(
        browser.cookie(SESSION).is_none(),
        "no session before the code"
    );
    assert!(browser.cookie(SECOND_STEP).is_some());
}

async fn second_step(browser: &mut Browser<'_>, code: &str) -> crate::support::http::TestResponse {
    browser
        .call(
            "/api/two-factor",
            &[("step", "sign-in"), ("code", code), ("next", "/artworks")],
        )
        .await
}

pub(crate) async fn audited(app: &TestApp, action: &str) -> Vec<serde_json::Value> {
    let mut conn = app.db.conn().await;
    audit_event::table
        .filter(audit_event::action.eq(action))
        .order(audit_event::created_at)
        .select(audit_event::detail)
        .load(&mut conn)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn with_an_authenticator_app_set_up_every_sign_in_asks_for_a_code_used_once() {
    let app = TestApp::new().await;
    let (mut ada, setup) = ada_with_two_factor(&app).await;
    assert!(enabled(&app, "ada@example.com").await);
    let mail = app.mail.wait_for("ada@example.com", 2).await;
    assert!(
        mail.subject.contains("Two-step sign-in is on"),
        "{}",
        mail.subject
    );

    // Stored: the secret encrypted, the recovery codes only as digests.
    let mut conn = app.db.conn().await;
    let (secret, codes): (String, String) = two_factor::table
        .filter(two_factor::user_id.eq(user_id(&app, "ada@example.com").await))
        .select((two_factor::secret, two_factor::backup_codes))
        .first(&mut conn)
        .await
        .unwrap();
    assert!(secret.starts_with("enc:v1:") && !secret.contains(&setup.secret));
    let plain = setup.recovery_codes[0].replace('-', "");
    assert!(!codes.contains(&plain) && !codes.contains(&setup.recovery_codes[0]));
    // The codes are not shown again.
    let page = ada.get(PAGE).await;
    assert!(
        !page.body.contains(&setup.recovery_codes[0]),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("10 unused recovery codes"),
        "{}",
        page.body
    );
    let profile = ada.get("/profile").await;
    assert!(profile.body.contains("Manage two-step sign-in"));

    // The password alone is not enough.
    sign_out(&mut ada).await;
    password_step(&mut ada).await;

    // The code of the set-up's step was used: the next step's code signs in.
    let used = second_step(&mut ada, &setup.first_code).await;
    assert_eq!(
        used.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        used.body
    );
    assert!(used.body.contains("already used"), "{}", used.body);
    let next = code(&setup.secret, 1);
    let signed_in = second_step(&mut ada, &next).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.body);
    assert!(ada.cookie(SESSION).is_some());
    assert!(
        ada.cookie(SECOND_STEP).is_none(),
        "the second step's cookie is gone"
    );
    let profile = ada.get("/profile").await;
    assert!(profile.body.contains("Your profile"), "{}", profile.body);

    // The same code again, in another sign-in: refused.
    sign_out(&mut ada).await;
    password_step(&mut ada).await;
    let replayed = second_step(&mut ada, &next).await;
    assert_eq!(replayed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(ada.cookie(SESSION).is_none());

    // A recovery code signs in once, typed any way round.
    let recovery = setup.recovery_codes[3].to_uppercase();
    let signed_in = second_step(&mut ada, &recovery).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.body);
    assert!(ada.get(PAGE).await.body.contains("9 unused recovery codes"));
    sign_out(&mut ada).await;
    password_step(&mut ada).await;
    let again = second_step(&mut ada, &recovery).await;
    assert_eq!(
        again.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        again.body
    );

    let sign_ins = audited(&app, "sign_in").await;
    let kinds: Vec<_> = sign_ins
        .iter()
        .filter_map(|d| d["second_factor"].as_str())
        .collect();
    assert_eq!(kinds, ["totp", "recovery_code"]);
    assert_eq!(audited(&app, "second_factor_failed").await.len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_second_step_refuses_bad_codes_a_missing_first_step_and_too_many_tries() {
    let app = TestApp::new().await;
    let (mut ada, setup) = ada_with_two_factor(&app).await;
    sign_out(&mut ada).await;

    // No first step: nothing to complete.
    let alone = second_step(&mut ada, &code(&setup.secret, 1)).await;
    assert_eq!(alone.status, StatusCode::BAD_REQUEST, "{}", alone.body);
    assert!(alone.body.contains("Sign in again"), "{}", alone.body);
    ada.set_cookie(SECOND_STEP, "made-up");
    let made_up = second_step(&mut ada, &code(&setup.secret, 1)).await;
    assert_eq!(made_up.status, StatusCode::BAD_REQUEST);

    password_step(&mut ada).await;
    // Not a code at all: a message beside the field, not counted.
    for typed in ["", "12345", "12a456", "1234567"] {
        let wrong = second_step(&mut ada, typed).await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY, "{typed:?}");
        assert!(wrong.body.contains("6 digits"), "{}", wrong.body);
    }
    // Without JavaScript the error comes back beside the form.
    let (posted, page) = ada
        .submit(
            "/two-factor",
            "/api/two-factor",
            &[("step", "sign-in"), ("code", "nope")],
        )
        .await;
    assert_eq!(posted.location(), "http://gatehouse.test/two-factor");
    assert!(page.body.contains("6 digits"), "{}", page.body);

    // Five wrong codes, then even the right one waits.
    let right = code(&setup.secret, 1);
    let wrong = another_code(&right);
    for _ in 0..5 {
        let refused = second_step(&mut ada, wrong).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.body
        );
    }
    let limited = second_step(&mut ada, &right).await;
    assert_eq!(
        limited.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        limited.body
    );
    assert!(limited.header("retry-after").is_some());
    assert!(ada.cookie(SESSION).is_none());

    // A second step that waited too long: sign in again.
    let mut conn = app.db.conn().await;
    diesel::sql_query(
        "UPDATE verification SET \"expiresAt\" = now() - interval '1 second' \
         WHERE identifier LIKE 'two-factor:%'",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let mut bob = app.browser_at("10.9.0.2");
    bob.set_cookie(SECOND_STEP, ada.cookie(SECOND_STEP).unwrap());
    let late = second_step(&mut bob, &code(&setup.secret, 1)).await;
    assert_eq!(late.status, StatusCode::BAD_REQUEST, "{}", late.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn setting_up_needs_a_recent_sign_in_and_a_right_first_code() {
    let app = TestApp::new().await;
    let mut stranger = app.browser();
    let refused = stranger.call("/api/two-factor", &[("step", "begin")]).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    // Signed out, the page is a sign-in's second step.
    let page = stranger.get(PAGE).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains(r#"name="step" value="sign-in""#),
        "{}",
        page.body
    );

    let mut ada = app.browser();
    signed_in_ada(&app, &mut ada).await;
    assert!(ada
        .get(PAGE)
        .await
        .body
        .contains("Set up an authenticator app"));
    let setup = begin(&mut ada).await;
    // A wrong or malformed first code changes nothing.
    for typed in ["000000x", &setup.recovery_codes[0]] {
        let wrong = ada
            .call("/api/two-factor", &[("step", "confirm"), ("code", typed)])
            .await;
        assert_eq!(
            wrong.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            wrong.body
        );
    }
    let right = code(&setup.secret, 0);
    let wrong = another_code(&right);
    let refused = ada
        .call("/api/two-factor", &[("step", "confirm"), ("code", wrong)])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!enabled(&app, "ada@example.com").await);
    // Until confirmed, signing in needs no code.
    sign_out(&mut ada).await;
    crate::accounts::sign_in(&mut ada, "ada@example.com", PASSWORD).await;

    // An hour-old session cannot set it up: whoever does decides who signs in next.
    sessions_began(&app, Duration::hours(1)).await;
    let unknown = ada.call("/api/two-factor", &[("step", "sideways")]).await;
    assert_eq!(
        unknown.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        unknown.body
    );
    let stale = ada.call("/api/two-factor", &[("step", "begin")]).await;
    assert_eq!(stale.status, StatusCode::FORBIDDEN, "{}", stale.body);
    assert!(stale.body.contains("sign in again"), "{}", stale.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn turning_it_off_needs_a_code_and_a_recent_sign_in_and_is_mailed() {
    let app = TestApp::new().await;
    let (mut ada, setup) = ada_with_two_factor(&app).await;
    let right = code(&setup.secret, 1);
    let wrong = another_code(&right);
    let refused = ada
        .call("/api/two-factor", &[("step", "off"), ("code", wrong)])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let malformed = ada
        .call("/api/two-factor", &[("step", "off"), ("code", "off")])
        .await;
    assert_eq!(malformed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(enabled(&app, "ada@example.com").await);

    sessions_began(&app, Duration::hours(1)).await;
    let stale = ada
        .call("/api/two-factor", &[("step", "off"), ("code", &right)])
        .await;
    assert_eq!(stale.status, StatusCode::FORBIDDEN, "{}", stale.body);
    assert!(enabled(&app, "ada@example.com").await);

    sessions_began(&app, Duration::zero()).await;
    let (posted, page) = ada
        .submit(
            PAGE,
            "/api/two-factor",
            &[("step", "off"), ("code", &right)],
        )
        .await;
    assert_eq!(posted.location(), "/two-factor?notice=two-factor-off");
    assert!(
        page.body.contains("Two-step sign-in is off"),
        "{}",
        page.body
    );
    assert!(!enabled(&app, "ada@example.com").await);
    let mail = app.mail.wait_for("ada@example.com", 3).await;
    assert!(mail.subject.contains("off"), "{}", mail.subject);
    sign_out(&mut ada).await;
    crate::accounts::sign_in(&mut ada, "ada@example.com", PASSWORD).await;
    assert_eq!(audited(&app, "two_factor_disabled").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn better_auths_sign_in_answers_two_factor_redirect_and_starts_no_session() {
    let app = TestApp::with_better_auth(&[]).await;
    let (mut ada, _) = ada_with_two_factor(&app).await;
    sign_out(&mut ada).await;
    let request = axum::http::Request::post("/api/auth/sign-in/email")
        .header("content-type", "application/json")
        .header("origin", crate::support::http::PUBLIC_URL)
        .body(axum::body::Body::from(
            serde_json::json!({ "email": "ada@example.com", "password": PASSWORD }).to_string(),
        ))
        .unwrap();
    let answer = ada.raw(request).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(
        answer.json(),
        serde_json::json!({ "twoFactorRedirect": true })
    );
    assert!(ada.cookie(SESSION).is_none());
    assert!(ada.cookie("better-auth.session_token").is_none());
    assert!(ada.cookie(SECOND_STEP).is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn with_admin_mfa_required_an_admin_reaches_admin_pages_only_after_setting_up_a_second_factor(
) {
    let app = TestApp::requiring_admin_mfa("ada@example.com").await;
    let mut ada = app.browser();
    signed_in_ada(&app, &mut ada).await;
    let mut grace = crate::accounts::person(&app, "Grace", "grace@example.com", "10.9.0.3").await;
    let grace_id = user_id(&app, "grace@example.com").await;

    // An admin with a password only: told to set up a second factor, on every admin page
    // and by every admin function; nothing changes.
    for path in [
        "/admin",
        "/admin/audit",
        &format!("/admin/users/{grace_id}"),
    ] {
        let page = ada.get(path).await;
        assert!(
            page.body.contains("Administrators need two-step sign-in"),
            "{path}: {}",
            page.body
        );
        assert!(page.body.contains(r#"href="/two-factor""#), "{path}");
    }
    let refused = ada
        .call(
            "/api/admin/change",
            &[("change", "access"), ("id", &grace_id), ("on", "true")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(
        refused.body.contains("two-step sign-in"),
        "{}",
        refused.body
    );
    let mut conn = app.db.conn().await;
    let let_in: bool = user::table
        .find(&grace_id)
        .select(user::is_whitelisted)
        .first(&mut conn)
        .await
        .unwrap();
    assert!(!let_in);
    // Someone who is not an admin still finds nothing there.
    let page = grace.get("/api/admin/users").await;
    assert_ne!(page.status, StatusCode::OK);
    assert!(!grace.get("/admin").await.body.contains("two-step"));

    // With the app set up (in this session, which the first code proved), /admin opens.
    let setup = begin(&mut ada).await;
    ada.submit(
        PAGE,
        "/api/two-factor",
        &[("step", "confirm"), ("code", &code(&setup.secret, 0))],
    )
    .await;
    let page = ada.get("/admin").await;
    assert!(!page.body.contains("Administrators need"), "{}", page.body);
    assert!(page.body.contains("grace@example.com"), "{}", page.body);
    let allowed = ada
        .call(
            "/api/admin/change",
            &[("change", "access"), ("id", &grace_id), ("on", "true")],
        )
        .await;
    assert!(allowed.status.is_success(), "{}", allowed.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_resets_the_second_step_of_someone_who_lost_their_device() {
    let app = TestApp::with_access("", "grace@example.com").await;
    let (mut ada, _) = ada_with_two_factor(&app).await;
    let ada_id = user_id(&app, "ada@example.com").await;
    let mut grace = crate::accounts::person(&app, "Grace", "grace@example.com", "10.9.0.4").await;
    let page = grace.get(&format!("/admin/users/{ada_id}")).await;
    assert!(
        page.body.contains("Reset their second factors"),
        "{}",
        page.body
    );

    // Not for someone who is not an admin; nothing for a made-up user.
    let refused = ada
        .call(
            "/api/admin/change",
            &[("change", "reset-two-factor"), ("id", &ada_id)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    let nobody = grace
        .call(
            "/api/admin/change",
            &[("change", "reset-two-factor"), ("id", "no-such-user")],
        )
        .await;
    assert_eq!(nobody.status, StatusCode::NOT_FOUND, "{}", nobody.body);
    assert!(enabled(&app, "ada@example.com").await);

    let (posted, page) = grace
        .submit(
            &format!("/admin/users/{ada_id}"),
            "/api/admin/change",
            &[("change", "reset-two-factor"), ("id", &ada_id)],
        )
        .await;
    assert!(posted.location().ends_with("notice=two-factor-reset"));
    assert!(
        page.body.contains("they have been told by mail"),
        "{}",
        page.body
    );
    assert!(!enabled(&app, "ada@example.com").await);
    let mail = app.mail.wait_for("ada@example.com", 3).await;
    assert!(mail.subject.contains("reset"), "{}", mail.subject);
    assert_eq!(audited(&app, "two_factor_reset").await.len(), 1);
    // Once off, there is nothing to reset.
    let again = grace
        .call(
            "/api/admin/change",
            &[("change", "reset-two-factor"), ("id", &ada_id)],
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    sign_out(&mut ada).await;
    crate::accounts::sign_in(&mut ada, "ada@example.com", PASSWORD).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_provider_sign_in_asks_for_the_code_too() {
    use crate::support::provider::{GithubUser, StandIn};
    let provider = StandIn::start().await;
    provider.add_github(GithubUser::new(583231, "octocat", "octo@example.com"));
    let app = TestApp::with_providers(&provider).await;
    let mut octo = app.browser();
    let landed = octo.through_provider("github", &[], "octocat").await;
    assert_eq!(landed.location(), "/");
    let mut setup = begin(&mut octo).await;
    setup.first_code = code(&setup.secret, 0);
    octo.submit(
        PAGE,
        "/api/two-factor",
        &[("step", "confirm"), ("code", &setup.first_code)],
    )
    .await;
    assert!(enabled(&app, "octo@example.com").await);
    sign_out(&mut octo).await;

    let landed = octo
        .through_provider("github", &[("next", "/artworks")], "octocat")
        .await;
    assert_eq!(landed.location(), "/two-factor?next=%2Fartworks");
    assert!(octo.cookie(SESSION).is_none(), "no session before the code");
    let signed_in = second_step(&mut octo, &code(&setup.secret, 1)).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.body);
    assert!(octo.cookie(SESSION).is_some());
    let sign_ins = audited(&app, "sign_in").await;
    let last = sign_ins.last().unwrap();
    assert_eq!(last["method"], "github");
    assert_eq!(last["second_factor"], "totp");
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_rotate_moves_authenticator_secrets_to_the_newest_key() {
    use gatehouse::secrets::TokenKeys;
    use gatehouse_app::services::two_factor::{codes_aad, secret_aad};

    let app = TestApp::new().await;
    let (_ada, setup) = ada_with_two_factor(&app).await;
    // Grace is half-way through a set-up: her recovery codes are still encrypted too.
    let mut grace = crate::accounts::person(&app, "Grace", "grace@example.com", "10.9.0.5").await;
    begin(&mut grace).await;
    let newest = format!("k9:{}", "99".repeat(32));
    let old = app.token_keys.current();
    let old = format!("{}:{}", old.id, hex::encode(old.key.bytes()));
    let both: TokenKeys = format!("{newest},{old}").parse().unwrap();
    let rotation = gatehouse_app::services::keys::rotate(&app.services.pool, &both.cipher())
        .await
        .unwrap();
    assert!(rotation.failed.is_empty(), "{:?}", rotation.failed);
    assert_eq!(rotation.rewritten, 3, "two secrets and one set-up's codes");

    let only_newest: TokenKeys = newest.parse().unwrap();
    let cipher = only_newest.cipher();
    let mut conn = app.db.conn().await;
    let ada_id = user_id(&app, "ada@example.com").await;
    let grace_id = user_id(&app, "grace@example.com").await;
    let row = |id: String| {
        two_factor::table
            .filter(two_factor::user_id.eq(id))
            .select((two_factor::secret, two_factor::backup_codes))
    };
    let (secret, codes): (String, String) = row(ada_id.clone()).first(&mut conn).await.unwrap();
    assert_eq!(
        cipher.decrypt(&secret, &secret_aad(&ada_id)).unwrap(),
        setup.secret
    );
    assert!(
        codes.starts_with('['),
        "confirmed codes stay digests: {codes}"
    );
    let (_, codes): (String, String) = row(grace_id.clone()).first(&mut conn).await.unwrap();
    assert!(cipher.decrypt(&codes, &codes_aad(&grace_id)).is_ok());
}

/// The second step's request for `code`, as `browser` would send it, to send from a task
/// of its own (so many can be in flight at once).
fn second_step_request(browser: &Browser<'_>, code: &str) -> axum::http::Request<axum::body::Body> {
    use axum::http::header;
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([("step", "sign-in"), ("code", code), ("next", "/artworks")])
        .finish();
    let mut request = axum::http::Request::post("/api/two-factor")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .header(header::ORIGIN, crate::support::http::PUBLIC_URL)
        .header(header::USER_AGENT, &browser.user_agent)
        .header(
            header::COOKIE,
            format!("{SECOND_STEP}={}", browser.cookie(SECOND_STEP).unwrap()),
        )
        .body(axum::body::Body::from(body))
        .unwrap();
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo::<std::net::SocketAddr>(
            "127.0.0.1:50000".parse().unwrap(),
        ));
    request
}

#[tokio::test(flavor = "multi_thread")]
async fn parallel_wrong_codes_are_counted_before_they_are_checked() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let app = TestApp::new().await;
    let (mut ada, setup) = ada_with_two_factor(&app).await;
    sign_out(&mut ada).await;
    password_step(&mut ada).await;
    let burst = gatehouse_app::services::rate_limit::second_factor_quota()
        .burst_size()
        .get() as usize;

    // The pool's connections open first, so the guesses start together rather than one
    // connection at a time.
    let warm: Vec<_> = futures::future::join_all((0..4).map(|_| app.services.pool.get()))
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    drop(warm);

    // 40 wrong codes at once, and the right one in the same burst, sent once the limit's
    // worth of answers came back.
    let right = code(&setup.secret, 1);
    let wrong = another_code(&right);
    let answered = AtomicUsize::new(0);
    let guesses = (0..40).map(|_| {
        let request = second_step_request(&ada, wrong);
        let answered = &answered;
        let app = &app;
        async move {
            let answer = app.request(request).await;
            answered.fetch_add(1, Ordering::SeqCst);
            answer
        }
    });
    let late_right = {
        let request = second_step_request(&ada, &right);
        let answered = &answered;
        let app = &app;
        async move {
            while answered.load(Ordering::SeqCst) < burst {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            app.request(request).await
        }
    };
    let (answers, right_answer) = tokio::join!(futures::future::join_all(guesses), late_right);
    let checked = answers
        .iter()
        .filter(|a| a.status == StatusCode::UNPROCESSABLE_ENTITY)
        .count();
    let limited = answers
        .iter()
        .filter(|a| a.status == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(checked + limited, 40, "only those two answers");
    assert!(
        (1..=burst).contains(&checked),
        "{checked} of 40 parallel wrong codes were checked (the limit is {burst})"
    );
    assert_eq!(
        right_answer.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        right_answer.body
    );
    assert!(ada.cookie(SESSION).is_none());
    assert_eq!(
        audited(&app, "second_factor_failed").await.len(),
        checked,
        "each checked code is audited"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_right_code_under_the_limit_signs_in_and_does_not_use_up_a_try() {
    let app = TestApp::new().await;
    let (mut ada, setup) = ada_with_two_factor(&app).await;
    let burst = gatehouse_app::services::rate_limit::second_factor_quota()
        .burst_size()
        .get();
    sign_out(&mut ada).await;
    password_step(&mut ada).await;
    let right = code(&setup.secret, 1);
    let wrong = another_code(&right);
    for _ in 1..burst {
        let refused = second_step(&mut ada, wrong).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    // One try left: the right code signs in.
    let signed_in = second_step(&mut ada, &right).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.body);
    // It was counted while checked, and given back: one try is still left.
    sign_out(&mut ada).await;
    password_step(&mut ada).await;
    let signed_in = second_step(&mut ada, &setup.recovery_codes[0]).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.body);
}

/// What recovery codes are made of: lower-case letters and digits without look-alikes.
const RECOVERY_ALPHABET: &str = "abcdefghjkmnpqrstuvwxyz23456789";

async fn stored_codes(app: &TestApp, email: &str) -> String {
    two_factor::table
        .filter(two_factor::user_id.eq(user_id(app, email).await))
        .select(two_factor::backup_codes)
        .first(&mut app.db.conn().await)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn recovery_codes_have_112_bits_are_kept_as_digests_and_work_once_however_typed() {
    use gatehouse_app::services::tokens::digest;
    let app = TestApp::new().await;
    let (mut ada, setup) = ada_with_two_factor(&app).await;
    let stored = stored_codes(&app, "ada@example.com").await;
    let alphabet = RECOVERY_ALPHABET.len() as f64;
    for shown in &setup.recovery_codes {
        let compact: String = shown.chars().filter(|c| *c != '-').collect();
        assert!(
            compact.chars().all(|c| RECOVERY_ALPHABET.contains(c)),
            "{shown}"
        );
        let bits = compact.len() as f64 * alphabet.log2();
        assert!(bits >= 112.0, "{shown}: {bits:.1} bits");
        // Shown in groups a person can read out and type.
        assert!(shown.split('-').all(|g| g.len() <= 6), "{shown}");
        // Kept only as its SHA-256.
        assert!(!stored.contains(&compact) && !stored.contains(shown.as_str()));
        assert!(stored.contains(&digest(&compact)), "{stored}");
    }
    assert!(
        !ada.get(PAGE).await.body.contains("older, shorter"),
        "new codes need no warning"
    );

    // Typed with spaces for dashes, in capitals, or run together: each works, once.
    let typed = [
        setup.recovery_codes[0].replace('-', " ").to_uppercase(),
        setup.recovery_codes[1].replace('-', ""),
        format!(" {} ", setup.recovery_codes[2].replace('-', " - ")),
    ];
    for code in &typed {
        sign_out(&mut ada).await;
        password_step(&mut ada).await;
        let signed_in = second_step(&mut ada, code).await;
        assert_eq!(
            signed_in.status,
            StatusCode::OK,
            "{code:?}: {}",
            signed_in.body
        );
    }
    sign_out(&mut ada).await;
    password_step(&mut ada).await;
    let again = second_step(&mut ada, &setup.recovery_codes[0]).await;
    assert_eq!(
        again.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        again.body
    );
    let signed_in = second_step(&mut ada, &setup.recovery_codes[3]).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.body);
    assert!(ada.get(PAGE).await.body.contains("6 unused recovery codes"));
}

#[tokio::test(flavor = "multi_thread")]
async fn recovery_codes_of_the_older_shorter_kind_work_until_used_and_the_person_is_told() {
    use gatehouse_app::services::tokens::digest;
    let app = TestApp::new().await;
    let (mut ada, _) = ada_with_two_factor(&app).await;
    // Codes made before: ten characters, kept as their bare SHA-256.
    let old = ["abcde-fghjk", "mnpqr-stuvw"];
    let digests: Vec<String> = old.iter().map(|c| digest(&c.replace('-', ""))).collect();
    diesel::update(two_factor::table)
        .set(two_factor::backup_codes.eq(serde_json::to_string(&digests).unwrap()))
        .execute(&mut app.db.conn().await)
        .await
        .unwrap();

    // The two-step card, on the profile and on its page, says to make new ones.
    for path in ["/profile", PAGE] {
        let page = ada.get(path).await;
        assert!(
            page.body.contains("older, shorter kind"),
            "{path}: {}",
            page.body
        );
    }

    // Each still signs in, once.
    sign_out(&mut ada).await;
    password_step(&mut ada).await;
    let signed_in = second_step(&mut ada, "ABCDE FGHJK").await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.body);
    sign_out(&mut ada).await;
    password_step(&mut ada).await;
    let again = second_step(&mut ada, old[0]).await;
    assert_eq!(
        again.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        again.body
    );
    let signed_in = second_step(&mut ada, old[1]).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.body);
    // None left: nothing to warn about any more (only to count).
    let page = ada.get(PAGE).await;
    assert!(
        page.body.contains("0 unused recovery codes"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("older, shorter kind"), "{}", page.body);
}
