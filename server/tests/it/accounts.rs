//! Email-and-password accounts through the real router, as a browser without JavaScript
//! uses them, and as a script calling the server functions directly.

use axum::http::StatusCode;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use gatehouse_app::db::schema::{account, audit_event, session, user, verification};
use gatehouse_app::services::tokens::digest;

use crate::support::http::Browser;
use crate::support::TestApp;

pub const PASSWORD: &str = "correct horse battery staple";
const COOKIE: &str = "gatehouse_session";

/// Signs a person up, confirms their address from the mailed link and signs them in, from
/// their own browser at `ip`.
pub async fn person<'a>(app: &'a TestApp, name: &str, email: &str, ip: &str) -> Browser<'a> {
    let mut browser = app.browser_at(ip);
    sign_up(&mut browser, name, email).await;
    let mail = app.mail.wait_for(email, 1).await;
    confirm(
        &mut browser,
        &mail.link("http://gatehouse.test/verify-email"),
    )
    .await;
    sign_in(&mut browser, email, PASSWORD).await;
    browser
}

/// The id of the user with this email.
pub async fn user_id(app: &TestApp, email: &str) -> String {
    let mut conn = app.db.conn().await;
    user::table
        .filter(user::email.eq(email))
        .select(user::id)
        .first(&mut conn)
        .await
        .unwrap()
}

/// Signs Ada up, confirms her address from the mailed link, and signs her in.
pub async fn signed_in_ada<'a>(app: &'a TestApp, browser: &mut Browser<'a>) {
    sign_up(browser, "Ada Lovelace", "ada@example.com").await;
    let mail = app.mail.wait_for("ada@example.com", 1).await;
    confirm(browser, &mail.link("http://gatehouse.test/verify-email")).await;
    sign_in(browser, "ada@example.com", PASSWORD).await;
}

pub async fn sign_up(browser: &mut Browser<'_>, name: &str, email: &str) {
    let (posted, page) = browser
        .submit(
            "/signup",
            "/api/sign-up",
            &[("name", name), ("email", email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(posted.location(), "/check-email?for=sign-up");
    assert!(page.body.contains("We have sent a link"), "{}", page.body);
}

pub async fn confirm(browser: &mut Browser<'_>, link: &str) {
    let path = link.trim_start_matches("http://gatehouse.test");
    let page = browser.get(path).await;
    assert_eq!(page.status, StatusCode::OK);
    let token = path.split("token=").nth(1).unwrap();
    assert!(
        page.body
            .contains(&format!(r#"name="token" value="{token}""#)),
        "{}",
        page.body
    );
    let (posted, page) = browser
        .submit(
            path,
            "/api/verify-email",
            &[("token", token), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(posted.location(), "/login?notice=verified");
    assert!(page.body.contains("Your email address is confirmed"));
}

pub async fn sign_in(browser: &mut Browser<'_>, email: &str, password: &str) {
    let (posted, page) = browser
        .submit(
            "/login",
            "/api/sign-in",
            &[("email", email), ("password", password)],
        )
        .await;
    assert_eq!(posted.location(), "/profile", "{}", page.body);
    assert!(page.body.contains("Your profile"), "{}", page.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_up_confirm_sign_in_edit_and_sign_out() {
    let app = TestApp::new().await;
    let mut browser = app.browser();

    let form = browser.get("/signup").await;
    assert!(
        form.body.contains(r#"action="/api/sign-up""#),
        "{}",
        form.body
    );
    assert!(form
        .body
        .contains(r#"<label for="field-email">Email</label>"#));

    sign_up(&mut browser, "Ada Lovelace", "  Ada@Example.COM ").await;
    let mut conn = app.db.conn().await;
    let (user_id, email, verified): (String, String, bool) = user::table
        .select((user::id, user::email, user::email_verified))
        .first(&mut conn)
        .await
        .unwrap();
    assert_eq!(email, "ada@example.com", "trimmed and lower-case");
    assert!(!verified);
    let hash: Option<String> = account::table
        .select(account::password)
        .first(&mut conn)
        .await
        .unwrap();
    assert!(hash.unwrap().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));

    // The link came through SMTP; the database holds only the token's SHA-256.
    let mail = app.mail.wait_for("ada@example.com", 1).await;
    assert_eq!(mail.subject, "Confirm your email address for Gatehouse");
    let link = mail.link("http://gatehouse.test/verify-email?token=");
    let token = link.split("token=").nth(1).unwrap();
    let stored: (String, String) = verification::table
        .select((verification::identifier, verification::value))
        .first(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        stored,
        (format!("email-verification:{user_id}"), digest(token))
    );

    // Before confirming, signing in says so and sends a new link.
    let (_, page) = browser
        .submit(
            "/login",
            "/api/sign-in",
            &[("email", "ada@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert!(
        page.body.contains("Confirm your email address first"),
        "{}",
        page.body
    );
    let second = app.mail.wait_for("ada@example.com", 2).await;
    let link = second.link("http://gatehouse.test/verify-email?token=");
    let path = link.trim_start_matches("http://gatehouse.test");
    let token = path.split("token=").nth(1).unwrap();

    // A wrong password, without JavaScript: the page comes back with the error and the
    // link still in it, and the right password from there confirms.
    let (posted, page) = browser
        .submit(
            path,
            "/api/verify-email",
            &[("token", token), ("password", "not my password")],
        )
        .await;
    assert!(
        page.body
            .contains("not the password this account was made with"),
        "{}",
        page.body
    );
    assert!(page
        .body
        .contains(&format!(r#"name="token" value="{token}""#)));
    let again = posted
        .location()
        .trim_start_matches("http://gatehouse.test");
    let (posted, page) = browser
        .submit(
            again,
            "/api/verify-email",
            &[("token", token), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(posted.location(), "/login?notice=verified");
    assert!(page.body.contains("Your email address is confirmed"));

    // A link works once.
    let (_, page) = browser
        .submit(
            path,
            "/api/verify-email",
            &[("token", token), ("password", PASSWORD)],
        )
        .await;
    assert!(
        page.body.contains("already used or is not valid"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Send a new link"));

    sign_in(&mut browser, "ada@example.com", PASSWORD).await;
    let cookie = browser
        .cookie(COOKIE)
        .expect("a session cookie")
        .to_string();
    let stored_token: String = session::table
        .select(session::token)
        .first(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        stored_token,
        digest(&cookie),
        "the database holds the SHA-256 only"
    );

    let profile = browser.get("/profile").await;
    assert!(profile.body.contains("ada@example.com"));
    assert!(profile.body.contains("Ada Lovelace"));
    assert!(profile.body.contains("Firefox on Linux"));
    assert!(profile.body.contains("this device"));

    let (_, page) = browser
        .submit("/profile", "/api/update-name", &[("name", "Ada King")])
        .await;
    assert!(page.body.contains("Your name is saved."));
    assert!(page.body.contains(r#"value="Ada King""#));

    let (posted, _) = browser.submit("/profile", "/api/sign-out", &[]).await;
    assert_eq!(posted.location(), "/");
    assert_eq!(browser.cookie(COOKIE), None);
    assert_eq!(
        session::table
            .count()
            .get_result::<i64>(&mut conn)
            .await
            .unwrap(),
        0
    );
    let profile = browser.get("/profile").await;
    assert_eq!(profile.location(), "/login?next=/profile");

    let actions: Vec<String> = audit_event::table
        .order(audit_event::created_at)
        .select(audit_event::action)
        .load(&mut conn)
        .await
        .unwrap();
    for expected in ["sign_up", "email_verified", "sign_in", "session_ended"] {
        assert!(
            actions.contains(&expected.to_string()),
            "{expected} in {actions:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn signing_up_with_a_known_address_answers_the_same_and_mails_the_owner() {
    let app = TestApp::new().await;
    let mut first = app.browser();
    let new = first
        .call(
            "/api/sign-up",
            &[
                ("name", "Ada"),
                ("email", "ada@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    // Mail goes out in the background: the first must be in before the second is sent, or
    // the two could arrive in either order.
    app.mail.wait_for("ada@example.com", 1).await;
    let mut second = app.browser_at("10.0.0.2");
    let known = second
        .call(
            "/api/sign-up",
            &[
                ("name", "Mallory"),
                ("email", "ADA@example.com"),
                ("password", "another long password"),
            ],
        )
        .await;
    assert_eq!((new.status, &new.body), (known.status, &known.body));
    assert_eq!(
        new.header("serverfnredirect"),
        known.header("serverfnredirect")
    );

    let owner = app.mail.wait_for("ada@example.com", 2).await;
    assert_eq!(owner.subject, "Someone tried to sign up with your address");
    assert!(owner.body.contains("http://gatehouse.test/forgot-password"));
    let mut conn = app.db.conn().await;
    let names: Vec<String> = user::table
        .select(user::name)
        .load(&mut conn)
        .await
        .unwrap();
    assert_eq!(names, ["Ada"], "nothing changed for the existing account");
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_email_and_wrong_password_get_the_same_answer() {
    let app = TestApp::new().await;
    let mut ada = app.browser();
    signed_in_ada(&app, &mut ada).await;

    let mut stranger = app.browser_at("10.0.0.3");
    let wrong_password = stranger
        .call(
            "/api/sign-in",
            &[
                ("email", "ada@example.com"),
                ("password", "not her password"),
            ],
        )
        .await;
    let unknown_email = stranger
        .call(
            "/api/sign-in",
            &[
                ("email", "bob@example.com"),
                ("password", "not her password"),
            ],
        )
        .await;
    assert_eq!(wrong_password.status, StatusCode::UNAUTHORIZED);
    // Alike but for the echo of the typed address.
    assert_eq!(
        (
            wrong_password.status,
            wrong_password.body.replace("ada@example.com", "@")
        ),
        (
            unknown_email.status,
            unknown_email.body.replace("bob@example.com", "@")
        )
    );
    assert!(wrong_password
        .body
        .contains("Email or password is incorrect."));
    assert_eq!(stranger.cookie(COOKIE), None);

    // Through the form, the message shows above the fields and the email is kept.
    let (_, page) = stranger
        .submit(
            "/login",
            "/api/sign-in",
            &[("email", "bob@example.com"), ("password", "nope nope nope")],
        )
        .await;
    assert!(
        page.body
            .contains(r#"class="form-error">Email or password is incorrect.</p>"#),
        "{}",
        page.body
    );
    assert!(page.body.contains(r#"value="bob@example.com""#));
    assert!(
        !page.body.contains("nope nope nope"),
        "a password is never shown again"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_sign_up_input_is_shown_beside_its_field_and_changes_nothing() {
    let app = TestApp::new().await;
    let mut browser = app.browser();
    let (_, page) = browser
        .submit(
            "/signup",
            "/api/sign-up",
            &[
                ("name", "Ada"),
                ("email", "not-an-email"),
                ("password", "password1"),
            ],
        )
        .await;
    assert!(
        page.body
            .contains("Enter an email address like name@example.com."),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("one of the most common ones"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains(r#"value="not-an-email""#),
        "the input is kept"
    );
    assert!(page.body.contains(r#"aria-invalid="true""#));

    let long_name = "n".repeat(101);
    let long_email = format!("{}@example.com", "e".repeat(250));
    let long_password = "p".repeat(257);
    let cases: [(&[(&str, &str)], &str); 6] = [
        (&[], "Enter your name."),
        (
            &[("name", "Ada"), ("email", "ada@example.com")],
            "Use at least 8 characters.",
        ),
        (
            &[
                ("name", &long_name),
                ("email", "ada@example.com"),
                ("password", PASSWORD),
            ],
            "at most 100 characters",
        ),
        (
            &[
                ("name", "Ada"),
                ("email", &long_email),
                ("password", PASSWORD),
            ],
            "at most 254 characters",
        ),
        (
            &[
                ("name", "Ada"),
                ("email", "ada@example.com"),
                ("password", &long_password),
            ],
            "at most 256 characters",
        ),
        (
            &[
                ("name", "Ada"),
                ("email", "ada@example.com"),
                ("password", "Ada@Example.com"),
            ],
            "cannot be your email",
        ),
    ];
    for (fields, expected) in cases {
        let answer = browser.call("/api/sign-up", fields).await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{fields:?}: {}",
            answer.body
        );
        assert!(
            answer.body.contains(expected),
            "{fields:?}: {}",
            answer.body
        );
    }
    let mut conn = app.db.conn().await;
    assert_eq!(
        user::table
            .count()
            .get_result::<i64>(&mut conn)
            .await
            .unwrap(),
        0
    );
    assert_eq!(app.mail_settled().await.count(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn only_whoever_signed_up_can_confirm_and_the_owner_of_the_address_takes_it_by_reset() {
    let app = TestApp::with_access("", "ada@example.com").await;
    // Mallory signs up first with Ada's address, which is an admin's in the configuration.
    let mut mallory = app.browser_at("10.0.13.1");
    let (_, page) = mallory
        .submit(
            "/signup",
            "/api/sign-up",
            &[
                ("name", "Gatehouse Team"),
                ("email", "ada@example.com"),
                ("password", "mallory's own password"),
            ],
        )
        .await;
    assert!(page.body.contains("We have sent a link"));
    let link = app
        .mail
        .wait_for("ada@example.com", 1)
        .await
        .link("http://gatehouse.test/verify-email?token=");
    let path = link.trim_start_matches("http://gatehouse.test");
    let token = path.split("token=").nth(1).unwrap();

    // Ada opens the mail and presses the button: her click alone confirms nothing.
    let mut ada = app.browser_at("10.0.13.2");
    let page = ada.get(path).await;
    assert!(page.body.contains(r#"type="password""#), "{}", page.body);
    for password in ["", PASSWORD] {
        let (posted, page) = ada
            .submit(
                path,
                "/api/verify-email",
                &[("token", token), ("password", password)],
            )
            .await;
        assert_ne!(posted.location(), "/login?notice=verified");
        assert!(
            page.body.contains("Enter your password")
                || page
                    .body
                    .contains("not the password this account was made with"),
            "{}",
            page.body
        );
    }
    let answer = ada
        .call(
            "/api/verify-email",
            &[("token", token), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut conn = app.db.conn().await;
    let verified = || {
        user::table
            .filter(user::email.eq("ada@example.com"))
            .select(user::email_verified)
    };
    assert!(!verified().first::<bool>(&mut conn).await.unwrap());
    let failures: i64 = audit_event::table
        .filter(audit_event::action.eq("email_verify_failed"))
        .count()
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!(failures, 2, "each wrong password is audited");

    // Mallory cannot sign in before the address is confirmed, whatever she does.
    let page = mallory
        .call(
            "/api/sign-in",
            &[
                ("email", "ada@example.com"),
                ("password", "mallory's own password"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    app.mail.wait_for("ada@example.com", 2).await; // a new link, to Ada's mailbox

    // Ada takes the account by resetting the password: the address is confirmed and hers.
    ada.submit(
        "/forgot-password",
        "/api/forgot-password",
        &[("email", "ada@example.com")],
    )
    .await;
    let reset = app.mail.wait_for("ada@example.com", 3).await;
    assert_eq!(reset.subject, "Reset your Gatehouse password");
    let reset = reset.link("http://gatehouse.test/reset-password?token=");
    let reset_token = reset.split("token=").nth(1).unwrap();

    // A reset link is no confirmation link, and trying it as one does not use it up.
    let misused = ada
        .call(
            "/api/verify-email",
            &[("token", reset_token), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(misused.status, StatusCode::BAD_REQUEST);
    let reset_path = reset.trim_start_matches("http://gatehouse.test");
    let (posted, _) = ada
        .submit(
            reset_path,
            "/api/reset-password",
            &[("token", reset_token), ("password", PASSWORD)],
        )
        .await;
    assert!(
        posted.location().starts_with("/login"),
        "{}",
        posted.location()
    );
    assert!(verified().first::<bool>(&mut conn).await.unwrap());
    let stolen = mallory
        .call(
            "/api/sign-in",
            &[
                ("email", "ada@example.com"),
                ("password", "mallory's own password"),
            ],
        )
        .await;
    assert_eq!(stolen.status, StatusCode::UNAUTHORIZED);
    sign_in(&mut ada, "ada@example.com", PASSWORD).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_requests_get_a_clear_4xx() {
    let app = TestApp::new().await;
    let mut browser = app.browser();
    use axum::body::Body;
    use axum::http::{header, Request};

    let json = browser
        .raw(
            Request::post("/api/sign-in")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::ORIGIN, "http://gatehouse.test")
                .body(Body::from(r#"{"email":"a@b.co","password":"x"}"#))
                .unwrap(),
        )
        .await;
    assert_eq!(json.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(json.body.contains("application/x-www-form-urlencoded"));

    let huge = format!("email=a%40b.co&password={}", "x".repeat(1024 * 1024));
    let too_large = browser
        .raw(
            Request::post("/api/sign-in")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ORIGIN, "http://gatehouse.test")
                .body(Body::from(huge))
                .unwrap(),
        )
        .await;
    assert_eq!(too_large.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(too_large.body.contains("too large"), "{}", too_large.body);

    let missing = browser.call("/api/sign-in", &[]).await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(missing.body.contains("Enter your email address."));
    assert!(missing.body.contains("Enter your password."));

    let garbage = browser
        .call(
            "/api/reset-password",
            &[("token", "%%%"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(garbage.status, StatusCode::BAD_REQUEST);
    assert!(garbage.body.contains("not valid"), "{}", garbage.body);

    for action in ["/api/no-such-function", "/api/sign-in?x=1"] {
        let answer = browser.call(action, &[("email", "a@b.co")]).await;
        assert!(
            answer.status.is_client_error(),
            "{action}: {}",
            answer.status
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_nul_character_or_an_impossible_page_link_is_a_4xx() {
    let app = TestApp::with_access("ada@example.com", "").await;
    let mut ada = person(&app, "Ada", "ada@example.com", "10.0.12.1").await;
    for (action, fields, status) in [
        (
            "/api/end-session",
            vec![("id", "\0")],
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/my-job",
            vec![("job_id", "a\0b")],
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/update-name",
            vec![("name", "Ada\0Lovelace")],
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/my-jobs",
            vec![("after", "-300000000000000000~x")],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/my-jobs",
            vec![("after", "300000000000000000~x")],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let answer = ada.call(action, &fields).await;
        assert_eq!(
            answer.status, status,
            "{action} {fields:?}: {}",
            answer.body
        );
        assert!(
            answer.body.contains("NUL") || answer.body.contains("page link is broken"),
            "{action}: {}",
            answer.body
        );
    }
    for path in ["/artworks/%00", "/artworks?after=1~%00"] {
        let page = ada.get(path).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{path}");
    }
    let mut conn = app.db.conn().await;
    let names: Vec<String> = user::table
        .select(user::name)
        .load(&mut conn)
        .await
        .unwrap();
    assert_eq!(names, ["Ada"], "nothing changed");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_post_from_another_site_is_refused() {
    let app = TestApp::new().await;
    let mut browser = app.browser();
    use axum::body::Body;
    use axum::http::{header, Request};
    let post = |origin: Option<&str>, referer: Option<&str>| {
        let mut request = Request::post("/api/sign-up")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(origin) = origin {
            request = request.header(header::ORIGIN, origin);
        }
        if let Some(referer) = referer {
            request = request.header(header::REFERER, referer);
        }
        request
            .body(Body::from(format!(
                "name=Eve&email=eve%40example.com&password={PASSWORD}"
            )))
            .unwrap()
    };
    for (origin, referer) in [
        (Some("https://evil.example"), None),
        (Some("null"), None),
        (Some("http://gatehouse.test.evil.example"), None),
        (None, Some("https://evil.example/form")),
        (None, None),
    ] {
        let answer = browser.raw(post(origin, referer)).await;
        assert_eq!(
            answer.status,
            StatusCode::FORBIDDEN,
            "{origin:?} {referer:?}"
        );
        assert!(answer.body.contains("did not come from a Gatehouse page"));
    }
    let same_site = browser
        .raw(post(None, Some("http://gatehouse.test/signup")))
        .await;
    assert_eq!(same_site.status, StatusCode::OK, "{}", same_site.body);
    let mut conn = app.db.conn().await;
    assert_eq!(
        user::table
            .count()
            .get_result::<i64>(&mut conn)
            .await
            .unwrap(),
        1
    );
}

/// Made by Better Auth 1.7.25 itself (`hashPassword` from `better-auth/crypto`) for
/// "correct horse battery staple".
const BETTER_AUTH_HASH: &str = "9ed9f68f365a11efe27b16ffd79320ce:16ac8489d29a03c3d30ae146f0845e588c3f0e2dd49ee9afe9d8584808289deba33e02cd94c3b35352b8271137c570f5b23b63ea44c2f7a7b8b0ad14fa98a333";

#[tokio::test(flavor = "multi_thread")]
async fn a_better_auth_password_signs_in_and_is_upgraded_to_argon2id() {
    let app = TestApp::new().await;
    let mut conn = app.db.conn().await;
    diesel::insert_into(user::table)
        .values((
            user::id.eq("ba-user-1"),
            user::name.eq("Grace"),
            user::email.eq("grace@example.com"),
            user::email_verified.eq(true),
        ))
        .execute(&mut conn)
        .await
        .unwrap();
    diesel::insert_into(account::table)
        .values((
            account::id.eq("ba-account-1"),
            account::account_id.eq("ba-user-1"),
            account::provider_id.eq("credential"),
            account::user_id.eq("ba-user-1"),
            account::password.eq(BETTER_AUTH_HASH),
        ))
        .execute(&mut conn)
        .await
        .unwrap();

    let mut grace = app.browser();
    let wrong = grace
        .call(
            "/api/sign-in",
            &[
                ("email", "grace@example.com"),
                ("password", "not the password"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let unchanged: Option<String> = account::table
        .select(account::password)
        .first(&mut conn)
        .await
        .unwrap();
    assert_eq!(unchanged.as_deref(), Some(BETTER_AUTH_HASH));

    sign_in(&mut grace, "grace@example.com", PASSWORD).await;
    let upgraded: Option<String> = account::table
        .select(account::password)
        .first(&mut conn)
        .await
        .unwrap();
    assert!(upgraded
        .unwrap()
        .starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));

    // And the new hash works.
    let mut again = app.browser_at("10.7.7.7");
    sign_in(&mut again, "grace@example.com", PASSWORD).await;
}
