//! Better Auth's REST API under /api/auth (BETTER_AUTH_COMPAT): Better Auth's shapes,
//! status codes and signed cookie, with Gatehouse's rules (one session table, origins,
//! no enumeration) holding as on the pages.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD as STANDARD_NO_PAD_URL};
use base64::Engine as _;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use gatehouse_app::db::schema::session;
use gatehouse_app::services::jwt::Claims;
use gatehouse_app::services::tokens::digest;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};

use crate::accounts::{confirm, sign_up, signed_in_ada, PASSWORD};
use crate::support::http::{Browser, TestResponse, BETTER_AUTH_SECRET, PUBLIC_URL};
use crate::support::TestApp;

const FRONT_END: &str = "http://app.example";
const COOKIE: &str = "better-auth.session_token";

/// A call as `better-auth/client` makes it from the trusted front end: JSON, with Origin.
async fn call(browser: &mut Browser<'_>, method: Method, path: &str, body: Value) -> TestResponse {
    let request = Request::builder()
        .method(method.clone())
        .uri(path)
        .header(header::ORIGIN, FRONT_END);
    let request = if method == Method::GET {
        request.body(Body::empty())
    } else {
        request
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
    };
    browser.raw(request.unwrap()).await
}

async fn post(browser: &mut Browser<'_>, path: &str, body: Value) -> TestResponse {
    call(browser, Method::POST, path, body).await
}

pub(crate) async fn get(browser: &mut Browser<'_>, path: &str) -> TestResponse {
    call(browser, Method::GET, path, Value::Null).await
}

/// Ada, signed up and confirmed on Gatehouse's pages, not signed in.
async fn confirmed_ada(app: &TestApp) -> Browser<'_> {
    let mut browser = app.browser();
    sign_up(&mut browser, "Ada Lovelace", "ada@example.com").await;
    let mail = app.mail.wait_for("ada@example.com", 1).await;
    confirm(
        &mut browser,
        &mail.link("http://gatehouse.test/verify-email"),
    )
    .await;
    browser
}

async fn sign_in(browser: &mut Browser<'_>) -> TestResponse {
    let body = json!({ "email": "ada@example.com", "password": PASSWORD });
    let answer = post(browser, "/api/auth/sign-in/email", body).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer
}

async fn session_count(app: &TestApp) -> i64 {
    let mut conn = app.db.conn().await;
    session::table.count().get_result(&mut conn).await.unwrap()
}

/// The token inside Better Auth's cookie value, if Better Auth (same secret) would accept it.
fn verified_token(value: &str) -> Option<String> {
    let decoded = percent_encoding::percent_decode_str(value)
        .decode_utf8()
        .ok()?;
    let (token, signature) = decoded.rsplit_once('.')?;
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(BETTER_AUTH_SECRET.as_bytes()).unwrap();
    mac.update(token.as_bytes());
    mac.verify_slice(&STANDARD.decode(signature).ok()?).ok()?;
    Some(token.to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_in_answers_in_better_auths_shape_with_its_signed_cookie() {
    let app = TestApp::with_better_auth(&[FRONT_END]).await;
    let mut ada = confirmed_ada(&app).await;
    let answer = sign_in(&mut ada).await;

    let body = answer.json();
    assert_eq!(body["redirect"], false);
    assert!(
        body.get("url").is_none(),
        "no url without a callbackURL: {body}"
    );
    let user = &body["user"];
    assert_eq!(user["email"], "ada@example.com");
    assert_eq!(user["name"], "Ada Lovelace");
    assert_eq!(user["emailVerified"], true);
    assert_eq!(user["image"], Value::Null);
    assert_eq!(user["role"], "user");
    assert_eq!(user["isWhitelisted"], false);
    let created = user["createdAt"].as_str().unwrap();
    assert!(
        created.len() == 24 && created.ends_with('Z') && created.as_bytes()[19] == b'.',
        "JavaScript's toJSON form: {created}"
    );

    let set = answer.header("set-cookie").unwrap();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age="] {
        assert!(set.contains(attribute), "{attribute} in {set}");
    }
    let value = ada
        .cookie(COOKIE)
        .expect("Better Auth's session cookie")
        .to_string();
    let token = verified_token(&value).expect("signed as Better Auth signs it");
    // One session row, its token stored as a digest only; the answer names it by id.
    let mut conn = app.db.conn().await;
    let (id, stored): (String, String) = session::table
        .select((session::id, session::token))
        .first(&mut conn)
        .await
        .unwrap();
    assert_eq!(stored, digest(&token));
    assert_eq!(body["token"], id.as_str());
    assert!(
        !answer.body.contains(&token),
        "the secret token never reaches JavaScript"
    );

    let found = get(&mut ada, "/api/auth/get-session").await;
    assert_eq!(found.status, StatusCode::OK);
    let found = found.json();
    assert_eq!(found["session"]["id"], id.as_str());
    assert_eq!(found["session"]["token"], id.as_str());
    assert_eq!(found["session"]["userId"], user["id"]);
    assert!(found["session"]["userAgent"]
        .as_str()
        .unwrap()
        .contains("Firefox"));
    assert_eq!(found["user"], body["user"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_from_gatehouses_pages_is_seen_and_the_apis_shows_on_the_profile() {
    let app = TestApp::with_better_auth(&[FRONT_END]).await;
    let mut pages = app.browser();
    signed_in_ada(&app, &mut pages).await;
    let seen = get(&mut pages, "/api/auth/get-session").await.json();
    assert_eq!(seen["user"]["email"], "ada@example.com");

    let mut front_end = app.browser();
    sign_in(&mut front_end).await;
    let profile = pages.get("/profile").await;
    assert_eq!(
        profile.body.matches("End the session on").count(),
        1,
        "the API's session is listed beside this one"
    );
    let listed = get(&mut front_end, "/api/auth/list-sessions").await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.json().as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_and_unknown_credentials_get_one_answer_and_no_session() {
    let app = TestApp::with_better_auth(&[FRONT_END]).await;
    let mut ada = confirmed_ada(&app).await;
    let wrong = json!({ "email": "ada@example.com", "password": "not the password" });
    let wrong = post(&mut ada, "/api/auth/sign-in/email", wrong).await;
    let unknown = json!({ "email": "nobody@example.com", "password": PASSWORD });
    let unknown = post(&mut ada, "/api/auth/sign-in/email", unknown).await;
    for answer in [&wrong, &unknown] {
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            answer.json(),
            json!({ "code": "INVALID_EMAIL_OR_PASSWORD", "message": "Invalid email or password" })
        );
        assert!(answer.header("set-cookie").is_none());
    }
    assert_eq!(session_count(&app).await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unconfirmed_address_is_told_to_confirm_as_better_auth_says_it() {
    let app = TestApp::with_better_auth(&[FRONT_END]).await;
    let mut ada = app.browser();
    sign_up(&mut ada, "Ada Lovelace", "ada@example.com").await;
    let body = json!({ "email": "ada@example.com", "password": PASSWORD });
    let answer = post(&mut ada, "/api/auth/sign-in/email", body).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(
        answer.json(),
        json!({ "code": "EMAIL_NOT_VERIFIED", "message": "Email not verified" })
    );
    assert_eq!(session_count(&app).await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_bodies_get_better_auths_4xx_and_change_nothing() {
    let app = TestApp::with_better_auth(&[FRONT_END]).await;
    let mut ada = confirmed_ada(&app).await;
    let missing = post(
        &mut ada,
        "/api/auth/sign-in/email",
        json!({ "email": "ada@example.com" }),
    )
    .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        missing.json(),
        json!({
            "code": "VALIDATION_ERROR",
            "message": "[body.password] Invalid input: expected string, received undefined"
        })
    );
    let wrong_type = json!({ "email": "ada@example.com", "password": 12345678 });
    let wrong_type = post(&mut ada, "/api/auth/sign-in/email", wrong_type).await;
    assert_eq!(wrong_type.status, StatusCode::BAD_REQUEST);
    assert!(
        wrong_type.body.contains("expected string, received number"),
        "{}",
        wrong_type.body
    );

    let bad_email = json!({ "email": "not an address", "password": PASSWORD });
    let bad_email = post(&mut ada, "/api/auth/sign-in/email", bad_email).await;
    assert_eq!(bad_email.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_email.json()["code"], "INVALID_EMAIL");

    let foreign = json!({ "email": "ada@example.com", "password": PASSWORD, "callbackURL": "https://evil.example/x" });
    let foreign = post(&mut ada, "/api/auth/sign-in/email", foreign).await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);
    assert_eq!(
        foreign.json(),
        json!({ "code": "INVALID_CALLBACKURL", "message": "Invalid callbackURL" })
    );

    let text = Request::post("/api/auth/sign-in/email")
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from("email=ada"))
        .unwrap();
    let text = ada.raw(text).await;
    assert_eq!(text.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(text.json()["code"], "UNSUPPORTED_MEDIA_TYPE");

    let broken = Request::post("/api/auth/sign-in/email")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{\"email\": "))
        .unwrap();
    let broken = ada.raw(broken).await;
    assert_eq!(broken.status, StatusCode::BAD_REQUEST, "{}", broken.body);

    let huge = json!({ "email": "ada@example.com", "password": "x".repeat(1 << 20) });
    let huge = post(&mut ada, "/api/auth/sign-in/email", huge).await;
    assert!(huge.status.is_client_error(), "{}", huge.status);

    assert_eq!(session_count(&app).await, 0);

    let unknown = get(&mut ada, "/api/auth/no-such-endpoint").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn with_cookies_only_trusted_origins_may_change_anything() {
    let app = TestApp::with_better_auth(&[FRONT_END]).await;
    let mut ada = confirmed_ada(&app).await;
    sign_in(&mut ada).await;
    for (origin, code) in [
        (None, "MISSING_OR_NULL_ORIGIN"),
        (Some("null"), "MISSING_OR_NULL_ORIGIN"),
        (Some("https://evil.example"), "INVALID_ORIGIN"),
    ] {
        let mut request =
            Request::post("/api/auth/sign-out").header(header::CONTENT_TYPE, "application/json");
        if let Some(origin) = origin {
            request = request.header(header::ORIGIN, origin);
        }
        let answer = ada.raw(request.body(Body::from("{}")).unwrap()).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{origin:?}");
        assert_eq!(answer.json()["code"], code);
    }
    assert_eq!(session_count(&app).await, 1, "still signed in");

    // A cross-site page cannot sign someone in by navigation either (login CSRF).
    let mut stranger = app.browser();
    let navigation = Request::post("/api/auth/sign-in/email")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "cross-site")
        .header("sec-fetch-mode", "navigate")
        .body(Body::from(format!(
            "email=ada%40example.com&password={PASSWORD}"
        )))
        .unwrap();
    let navigation = stranger.raw(navigation).await;
    assert_eq!(navigation.status, StatusCode::FORBIDDEN);
    assert_eq!(session_count(&app).await, 1);

    // Gatehouse's own origin is trusted too.
    let own = Request::post("/api/auth/sign-out")
        .header(header::ORIGIN, PUBLIC_URL)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{}"))
        .unwrap();
    assert_eq!(ada.raw(own).await.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn cors_answers_trusted_front_ends_only_and_with_credentials() {
    let app = TestApp::with_better_auth(&[FRONT_END]).await;
    let preflight = |origin: &str| {
        Request::builder()
            .method(Method::OPTIONS)
            .uri("/api/auth/sign-in/email")
            .header(header::ORIGIN, origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .body(Body::empty())
            .unwrap()
    };
    let trusted = app.request(preflight(FRONT_END)).await;
    assert!(trusted.status.is_success(), "{}", trusted.status);
    assert_eq!(
        trusted.header("access-control-allow-origin"),
        Some(FRONT_END)
    );
    assert_eq!(
        trusted.header("access-control-allow-credentials"),
        Some("true")
    );
    let foreign = app.request(preflight("https://evil.example")).await;
    assert_eq!(foreign.header("access-control-allow-origin"), None);

    let mut visitor = app.browser();
    let answer = get(&mut visitor, "/api/auth/get-session").await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.body, "null",
        "no session is JSON null, as Better Auth answers"
    );
    assert_eq!(
        answer.header("access-control-allow-origin"),
        Some(FRONT_END)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forged_or_ended_cookie_is_no_session() {
    let app = TestApp::with_better_auth(&[FRONT_END]).await;
    let mut ada = confirmed_ada(&app).await;
    sign_in(&mut ada).await;
    let value = ada.cookie(COOKIE).unwrap().to_string();
    let token = verified_token(&value).unwrap();

    let mut forger = app.browser();
    forger.set_cookie(COOKIE, &format!("{token}.{}", STANDARD.encode([0u8; 32])));
    assert_eq!(get(&mut forger, "/api/auth/get-session").await.body, "null");
    forger.set_cookie(COOKIE, &token);
    assert_eq!(get(&mut forger, "/api/auth/get-session").await.body, "null");

    let out = post(&mut ada, "/api/auth/sign-out", json!({})).await;
    assert_eq!(out.status, StatusCode::OK);
    assert_eq!(out.json(), json!({ "success": true }));
    assert_eq!(ada.cookie(COOKIE), None, "the cookie is cleared");
    assert_eq!(
        session_count(&app).await,
        0,
        "the session is ended, not only forgotten"
    );

    let mut replay = app.browser();
    replay.set_cookie(COOKIE, &value);
    assert_eq!(get(&mut replay, "/api/auth/get-session").await.body, "null");
    let listed = get(&mut replay, "/api/auth/list-sessions").await;
    assert_eq!(listed.status, StatusCode::UNAUTHORIZED);
    assert_eq!(listed.body, "", "Better Auth's 401 has no body");
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_are_listed_and_revoked_by_their_owner_only() {
    let app = TestApp::with_better_auth(&[FRONT_END]).await;
    let mut laptop = confirmed_ada(&app).await;
    sign_in(&mut laptop).await;
    let mut phone = app.browser();
    let phone_session = sign_in(&mut phone).await.json()["token"].clone();
    let mut third = app.browser();
    sign_in(&mut third).await;

    let listed = get(&mut laptop, "/api/auth/list-sessions").await.json();
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["token"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 3);
    assert!(ids.contains(&phone_session.as_str().unwrap()));

    // Someone else's session cannot be ended by naming it.
    let mut grace = app.browser();
    sign_up(&mut grace, "Grace Hopper", "grace@example.com").await;
    let mail = app.mail.wait_for("grace@example.com", 1).await;
    confirm(&mut grace, &mail.link("http://gatehouse.test/verify-email")).await;
    let body = json!({ "email": "grace@example.com", "password": PASSWORD });
    assert_eq!(
        post(&mut grace, "/api/auth/sign-in/email", body)
            .await
            .status,
        StatusCode::OK
    );
    let not_hers = post(
        &mut grace,
        "/api/auth/revoke-session",
        json!({ "token": phone_session }),
    )
    .await;
    assert_eq!(not_hers.status, StatusCode::OK, "Better Auth answers alike");
    assert_eq!(session_count(&app).await, 4, "but nothing ended");

    let revoked = post(
        &mut laptop,
        "/api/auth/revoke-session",
        json!({ "token": phone_session }),
    )
    .await;
    assert_eq!(revoked.json(), json!({ "status": true }));
    assert_eq!(get(&mut phone, "/api/auth/get-session").await.body, "null");

    let missing = post(&mut laptop, "/api/auth/revoke-session", json!({})).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(missing.json()["code"], "VALIDATION_ERROR");

    let others = post(&mut laptop, "/api/auth/revoke-other-sessions", json!({})).await;
    assert_eq!(others.json(), json!({ "status": true }));
    assert_eq!(get(&mut third, "/api/auth/get-session").await.body, "null");
    assert_ne!(get(&mut laptop, "/api/auth/get-session").await.body, "null");

    let all = post(&mut laptop, "/api/auth/revoke-sessions", json!({})).await;
    assert_eq!(all.json(), json!({ "status": true }));
    assert_eq!(get(&mut laptop, "/api/auth/get-session").await.body, "null");
    assert_eq!(session_count(&app).await, 1, "only Grace's is left");

    let nobody = post(&mut app.browser(), "/api/auth/revoke-sessions", json!({})).await;
    assert_eq!(nobody.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_better_auth_compat_nothing_answers_under_api_auth() {
    let app = TestApp::new().await;
    let answer = app.get("/api/auth/get-session").await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_up_mails_a_link_and_a_known_address_gets_the_same_answer() {
    let app = TestApp::with_better_auth(&[FRONT_END]).await;
    let mut ada = app.browser();
    let body = json!({ "name": "Ada Lovelace", "email": "Ada@Example.com", "password": PASSWORD });
    let new = post(&mut ada, "/api/auth/sign-up/email", body.clone()).await;
    assert_eq!(new.status, StatusCode::OK, "{}", new.body);
    assert!(
        new.header("set-cookie").is_none(),
        "no session before the address is confirmed"
    );
    let answer = new.json();
    assert_eq!(answer["token"], Value::Null);
    assert_eq!(answer["user"]["email"], "ada@example.com");
    assert_eq!(answer["user"]["emailVerified"], false);
    assert_eq!(
        answer["user"]["id"],
        crate::accounts::user_id(&app, "ada@example.com").await
    );

    let mail = app.mail.wait_for("ada@example.com", 1).await;
    confirm(&mut ada, &mail.link("http://gatehouse.test/verify-email")).await;
    sign_in(&mut ada).await;

    let mut someone = app.browser();
    let again = post(&mut someone, "/api/auth/sign-up/email", body).await;
    assert_eq!(again.status, StatusCode::OK);
    let again = again.json();
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        keys(&again["user"]),
        keys(&answer["user"]),
        "alike in shape"
    );
    assert_eq!(again["user"]["email"], "ada@example.com");
    assert_eq!(again["user"]["emailVerified"], false);
    assert_eq!(again["token"], Value::Null);
    let told = app.mail.wait_for("ada@example.com", 2).await;
    assert!(
        told.subject.contains("tried to sign up"),
        "{}",
        told.subject
    );
    let mut conn = app.db.conn().await;
    let users: i64 = gatehouse_app::db::schema::user::table
        .count()
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!(users, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_up_refuses_bad_input_in_better_auths_words() {
    let app = TestApp::with_better_auth(&[FRONT_END]).await;
    let mut visitor = app.browser();
    let cases = [
        (
            json!({ "name": "Ada", "email": "ada@example.com", "password": "short" }),
            "PASSWORD_TOO_SHORT",
        ),
        (
            json!({ "name": "Ada", "email": "ada@example.com", "password": "x".repeat(300) }),
            "PASSWORD_TOO_LONG",
        ),
        (
            json!({ "email": "ada@example.com", "password": PASSWORD }),
            "VALIDATION_ERROR",
        ),
        (
            json!({ "name": "Ada", "email": "ada@", "password": PASSWORD }),
            "INVALID_EMAIL",
        ),
        (
            json!({ "name": "Ada", "email": "ada@example.com", "password": PASSWORD, "callbackURL": "https://evil.example" }),
            "INVALID_CALLBACKURL",
        ),
    ];
    for (body, code) in cases {
        let answer = post(&mut visitor, "/api/auth/sign-up/email", body).await;
        assert!(answer.status.is_client_error(), "{code}: {}", answer.status);
        assert_eq!(answer.json()["code"], code, "{}", answer.body);
    }
    let missing_name = post(
        &mut visitor,
        "/api/auth/sign-up/email",
        json!({ "email": "ada@example.com", "password": PASSWORD }),
    )
    .await;
    assert_eq!(
        missing_name.json()["message"],
        "[body.name] Invalid input: expected string, received undefined"
    );
    assert_eq!(app.mail_settled().await.count(), 0, "nothing was mailed");
}

#[tokio::test(flavor = "multi_thread")]
async fn update_user_changes_the_name_and_nothing_an_admin_decides() {
    let app = TestApp::with_better_auth(&[FRONT_END]).await;
    let mut ada = confirmed_ada(&app).await;
    sign_in(&mut ada).await;
    let renamed = post(
        &mut ada,
        "/api/auth/update-user",
        json!({ "name": "Ada King" }),
    )
    .await;
    assert_eq!(renamed.json(), json!({ "status": true }));
    let seen = get(&mut ada, "/api/auth/get-session").await.json();
    assert_eq!(seen["user"]["name"], "Ada King");

    for (body, code) in [
        (json!({ "role": "admin" }), "ROLE_IS_NOT_ALLOWED_TO_BE_SET"),
        (
            json!({ "name": "Ada", "isWhitelisted": true }),
            "ISWHITELISTED_IS_NOT_ALLOWED_TO_BE_SET",
        ),
        (
            json!({ "email": "eve@example.com" }),
            "EMAIL_CAN_NOT_BE_UPDATED",
        ),
        (json!({}), "NO_FIELDS_TO_UPDATE"),
        (json!({ "name": "" }), "VALIDATION_ERROR"),
        (json!({ "name": 7 }), "VALIDATION_ERROR"),
    ] {
        let answer = post(&mut ada, "/api/auth/update-user", body).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{code}");
        assert_eq!(answer.json()["code"], code, "{}", answer.body);
    }
    let seen = get(&mut ada, "/api/auth/get-session").await.json();
    assert_eq!(seen["user"]["name"], "Ada King");
    assert_eq!(seen["user"]["role"], "user");
    assert_eq!(seen["user"]["isWhitelisted"], false);

    let nobody = post(
        &mut app.browser(),
        "/api/auth/update-user",
        json!({ "name": "Eve" }),
    )
    .await;
    assert_eq!(nobody.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread")]
async fn change_password_needs_the_current_one_and_ends_the_other_sessions() {
    let app = TestApp::with_better_auth(&[FRONT_END]).await;
    let mut laptop = confirmed_ada(&app).await;
    sign_in(&mut laptop).await;
    let mut phone = app.browser();
    sign_in(&mut phone).await;

    let wrong =
        json!({ "currentPassword": "not it at all", "newPassword": "a new long passphrase" });
    let wrong = post(&mut laptop, "/api/auth/change-password", wrong).await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        wrong.json(),
        json!({ "code": "INVALID_PASSWORD", "message": "Invalid password" })
    );
    let short = json!({ "currentPassword": PASSWORD, "newPassword": "short" });
    let short = post(&mut laptop, "/api/auth/change-password", short).await;
    assert_eq!(short.json()["code"], "PASSWORD_TOO_SHORT");
    let missing = post(
        &mut laptop,
        "/api/auth/change-password",
        json!({ "newPassword": "a new long passphrase" }),
    )
    .await;
    assert_eq!(missing.json()["code"], "VALIDATION_ERROR");
    assert_eq!(session_count(&app).await, 2, "nothing changed");

    let body = json!({ "currentPassword": PASSWORD, "newPassword": "a new long passphrase" });
    let changed = post(&mut laptop, "/api/auth/change-password", body).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(changed.json()["token"], Value::Null);
    assert_eq!(changed.json()["user"]["email"], "ada@example.com");
    assert_eq!(get(&mut phone, "/api/auth/get-session").await.body, "null");
    assert_ne!(get(&mut laptop, "/api/auth/get-session").await.body, "null");
    let old = json!({ "email": "ada@example.com", "password": PASSWORD });
    let old = post(&mut app.browser(), "/api/auth/sign-in/email", old).await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forgotten_password_is_reset_with_the_mailed_token_once() {
    let app = TestApp::with_better_auth(&[FRONT_END]).await;
    let mut ada = confirmed_ada(&app).await;
    let expected = json!({
        "status": true,
        "message": "If this email exists in our system, check your email for the reset link"
    });
    let known = post(
        &mut ada,
        "/api/auth/request-password-reset",
        json!({ "email": "ada@example.com" }),
    )
    .await;
    assert_eq!(known.json(), expected);
    let unknown = post(
        &mut ada,
        "/api/auth/forget-password",
        json!({ "email": "nobody@example.com" }),
    )
    .await;
    assert_eq!(unknown.json(), expected, "the same answer: no enumeration");
    let foreign = json!({ "email": "ada@example.com", "redirectTo": "https://evil.example/reset" });
    let foreign = post(&mut ada, "/api/auth/request-password-reset", foreign).await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);
    assert_eq!(foreign.json()["code"], "INVALID_REDIRECTURL");

    let mail = app.mail.wait_for("ada@example.com", 2).await;
    let link = mail.link("http://gatehouse.test/reset-password?token=");
    let token = link.split_once("token=").unwrap().1.to_string();

    let short = post(
        &mut ada,
        "/api/auth/reset-password",
        json!({ "token": token, "newPassword": "short" }),
    )
    .await;
    assert_eq!(short.json()["code"], "PASSWORD_TOO_SHORT");
    let body = json!({ "token": token, "newPassword": "a brand new passphrase" });
    let reset = post(&mut ada, "/api/auth/reset-password", body.clone()).await;
    assert_eq!(reset.json(), json!({ "status": true }), "{}", reset.body);
    let again = post(&mut ada, "/api/auth/reset-password", body).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        again.json(),
        json!({ "code": "INVALID_TOKEN", "message": "Invalid token" })
    );
    let forged = json!({ "token": "not-a-token", "newPassword": "a brand new passphrase" });
    let forged = post(&mut ada, "/api/auth/reset-password", forged).await;
    assert_eq!(forged.json()["code"], "INVALID_TOKEN");

    let new = json!({ "email": "ada@example.com", "password": "a brand new passphrase" });
    assert_eq!(
        post(&mut ada, "/api/auth/sign-in/email", new).await.status,
        StatusCode::OK
    );
    assert_eq!(app.mail_settled().await.to("nobody@example.com").len(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_confirmation_link_is_sent_to_an_unconfirmed_address_only() {
    let app = TestApp::with_better_auth(&[FRONT_END]).await;
    let mut ada = app.browser();
    sign_up(&mut ada, "Ada Lovelace", "ada@example.com").await;
    app.mail.wait_for("ada@example.com", 1).await;
    for email in ["ada@example.com", "nobody@example.com"] {
        let answer = post(
            &mut ada,
            "/api/auth/send-verification-email",
            json!({ "email": email }),
        )
        .await;
        assert_eq!(answer.json(), json!({ "status": true }), "{email}");
    }
    let second = app.mail.wait_for("ada@example.com", 2).await;
    confirm(&mut ada, &second.link("http://gatehouse.test/verify-email")).await;
    let missing = post(&mut ada, "/api/auth/send-verification-email", json!({})).await;
    assert_eq!(missing.json()["code"], "VALIDATION_ERROR");
    assert_eq!(app.mail_settled().await.to("nobody@example.com").len(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_email_sends_the_browser_to_the_confirm_page_that_asks_for_the_password() {
    let app = TestApp::with_better_auth(&[FRONT_END]).await;
    let mut ada = app.browser();
    let redirected = get(
        &mut ada,
        "/api/auth/verify-email?token=abc%2Bdef&callbackURL=/welcome",
    )
    .await;
    assert_eq!(redirected.status, StatusCode::SEE_OTHER);
    assert_eq!(redirected.location(), "/verify-email?token=abc%2Bdef");
    let foreign = get(
        &mut ada,
        "/api/auth/verify-email?token=abc&callbackURL=https://evil.example",
    )
    .await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);
    assert_eq!(foreign.json()["code"], "INVALID_CALLBACKURL");
    let missing = get(&mut ada, "/api/auth/verify-email").await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        missing.json()["message"],
        "[query.token] Invalid input: expected string, received undefined"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_user_needs_the_password_and_removes_the_account() {
    let app = TestApp::with_better_auth(&[FRONT_END]).await;
    let mut ada = confirmed_ada(&app).await;
    sign_in(&mut ada).await;
    let wrong = post(
        &mut ada,
        "/api/auth/delete-user",
        json!({ "password": "not it at all" }),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        wrong.json(),
        json!({ "code": "INVALID_PASSWORD", "message": "Invalid password" })
    );
    let none = post(&mut ada, "/api/auth/delete-user", json!({})).await;
    assert_eq!(none.status, StatusCode::BAD_REQUEST, "{}", none.body);
    assert_eq!(session_count(&app).await, 1, "nothing deleted");

    let nobody = post(
        &mut app.browser(),
        "/api/auth/delete-user",
        json!({ "password": PASSWORD }),
    )
    .await;
    assert_eq!(nobody.status, StatusCode::UNAUTHORIZED);

    let deleted = post(
        &mut ada,
        "/api/auth/delete-user",
        json!({ "password": PASSWORD }),
    )
    .await;
    assert_eq!(
        deleted.json(),
        json!({ "success": true, "message": "User deleted" })
    );
    assert_eq!(ada.cookie(COOKIE), None);
    assert_eq!(session_count(&app).await, 0);
    let again = json!({ "email": "ada@example.com", "password": PASSWORD });
    assert_eq!(
        post(&mut app.browser(), "/api/auth/sign-in/email", again)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

/// The published keys, and how a verifier is told to keep them.
pub(crate) async fn published_keys(
    browser: &mut Browser<'_>,
) -> (jsonwebtoken::jwk::JwkSet, String) {
    let answer = get(browser, "/api/auth/jwks").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let caching = answer
        .header("cache-control")
        .unwrap_or_default()
        .to_string();
    (serde_json::from_str(&answer.body).unwrap(), caching)
}

/// What a backend does with a token: finds its key by `kid` in the JWKS and checks the
/// signature, the expiry, the issuer and the audience (PUBLIC_URL, the default).
fn verified(token: &str, keys: &jsonwebtoken::jwk::JwkSet) -> Result<Claims, String> {
    verified_as(token, keys, PUBLIC_URL)
}

/// [`verified`] for a backend of its own `audience`, its claims read as `T`.
pub(crate) fn verified_as<T: serde::de::DeserializeOwned>(
    token: &str,
    keys: &jsonwebtoken::jwk::JwkSet,
    audience: &str,
) -> Result<T, String> {
    use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
    let kid = decode_header(token).map_err(|e| e.to_string())?.kid;
    let jwk = keys
        .find(kid.as_deref().ok_or("no kid")?)
        .ok_or("no published key has that kid")?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&[PUBLIC_URL]);
    validation.set_audience(&[audience]);
    let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    decode::<T>(token, &key, &validation)
        .map(|data| data.claims)
        .map_err(|e| e.to_string())
}

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

async fn jwt_of(browser: &mut Browser<'_>) -> String {
    let answer = get(browser, "/api/auth/token").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.json()["token"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_gets_a_jwt_for_backends_that_the_published_keys_verify() {
    let app = TestApp::with_better_auth(&[FRONT_END]).await;
    let mut ada = confirmed_ada(&app).await;
    sign_in(&mut ada).await;
    let token = jwt_of(&mut ada).await;
    let (keys, caching) = published_keys(&mut ada).await;
    assert_eq!(caching, "public, max-age=300");
    let key = &keys.keys[0];
    assert_eq!(
        serde_json::to_value(key).unwrap()["crv"],
        "Ed25519",
        "EdDSA over Ed25519, as Better Auth's default"
    );

    let claims = verified(&token, &keys).unwrap();
    let session = get(&mut ada, "/api/auth/get-session").await;
    let seen = session.json();
    assert_eq!(claims.sub, seen["user"]["id"].as_str().unwrap());
    assert_eq!(claims.sid, seen["session"]["id"].as_str().unwrap());
    assert_eq!(claims.email, "ada@example.com");
    assert_eq!(
        (
            claims.role.as_str(),
            claims.tier.as_str(),
            claims.whitelisted
        ),
        ("user", "free", false),
        "the backend sees that Ada still waits to be let in"
    );
    assert_eq!(claims.exp - claims.iat, 15 * 60);

    // get-session sends one too, as the jwt plugin does, and lets a front end read it.
    let header_token = session.header("set-auth-jwt").expect("set-auth-jwt");
    assert_eq!(verified(header_token, &keys).unwrap().sid, claims.sid);
    let exposed = session
        .header("access-control-expose-headers")
        .unwrap_or_default();
    assert!(exposed.contains("set-auth-jwt"), "exposed: {exposed}");

    // Nothing secret in the table: the private half is sealed with the token keys.
    let stored: String = {
        use gatehouse_app::db::schema::jwks;
        let mut conn = app.db.conn().await;
        jwks::table
            .select(jwks::private_key)
            .first(&mut conn)
            .await
            .unwrap()
    };
    assert!(stored.starts_with("enc:v1:") && !stored.contains("\"d\""));

    // A token whose claims were changed (the role, say) no longer checks.
    let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
    let mut payload: Value =
        serde_json::from_slice(&STANDARD_NO_PAD_URL.decode(&parts[1]).unwrap()).unwrap();
    payload["role"] = json!("admin");
    parts[1] = STANDARD_NO_PAD_URL.encode(payload.to_string());
    let forged = parts.join(".");
    assert!(verified(&forged, &keys).is_err(), "a changed token fails");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_session_there_is_no_jwt() {
    let app = TestApp::with_better_auth(&[FRONT_END]).await;
    let mut stranger = app.browser();
    let answer = get(&mut stranger, "/api/auth/token").await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    let session = get(&mut stranger, "/api/auth/get-session").await;
    assert_eq!(session.body, "null");
    assert!(session.header("set-auth-jwt").is_none());
    // The keys are public: anyone may fetch them, and the first fetch makes the first key.
    let (keys, _) = published_keys(&mut stranger).await;
    assert_eq!(keys.keys.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rotated_key_stays_published_until_its_last_token_has_expired() {
    use gatehouse_app::db::schema::jwks;
    let app = TestApp::with_better_auth(&[FRONT_END]).await;
    // A key Better Auth made, its private half sealed with Better Auth's secret: published
    // for the tokens Better Auth signed before the move, never used by Gatehouse.
    {
        let mut conn = app.db.conn().await;
        diesel::insert_into(jwks::table)
            .values((
                jwks::id.eq("better-auth-key"),
                jwks::public_key.eq(r#"{"crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kty":"OKP"}"#),
                jwks::private_key.eq(r#""a5f0c2…sealed by Better Auth""#),
                jwks::created_at.eq(chrono::Utc::now() - chrono::Duration::days(3)),
            ))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let mut ada = confirmed_ada(&app).await;
    sign_in(&mut ada).await;
    let before = jwt_of(&mut ada).await;
    assert_ne!(kid_of(&before), "better-auth-key");
    let (keys, _) = published_keys(&mut ada).await;
    assert!(keys.find("better-auth-key").is_some(), "still published");

    let cipher = app.token_keys.cipher();
    let new_kid = gatehouse_app::services::jwt::rotate(&app.services.pool, &cipher)
        .await
        .unwrap();
    let after = jwt_of(&mut ada).await;
    assert_eq!(kid_of(&after), new_kid);
    assert_ne!(new_kid, kid_of(&before));
    let (keys, _) = published_keys(&mut ada).await;
    assert!(
        verified(&before, &keys).is_ok(),
        "the old token still checks"
    );
    assert!(verified(&after, &keys).is_ok());

    // Once a retired key's tokens have all expired, it is no longer published.
    {
        let mut conn = app.db.conn().await;
        diesel::update(jwks::table.filter(jwks::id.ne(&new_kid)))
            .set(jwks::expires_at.eq(chrono::Utc::now() - chrono::Duration::minutes(16)))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let (keys, _) = published_keys(&mut ada).await;
    assert_eq!(keys.keys.len(), 1);
    assert!(verified(&before, &keys).is_err(), "its key is gone");
    assert!(verified(&after, &keys).is_ok());
}

#[tokio::test(flavor = "multi_thread")]
async fn social_sign_in_starts_at_the_provider_and_ends_at_the_callback_url_signed_in() {
    use crate::support::http::provider_answer;
    use crate::support::provider::{StandIn, OIDC_ID};
    let provider = StandIn::start().await;
    provider.add_oidc("sub-ada", "ada@acme.example", true);
    let app = TestApp::with_providers_and_better_auth(&provider, &[FRONT_END]).await;
    let mut ada = app.browser();

    let callback_url = format!("{FRONT_END}/dashboard");
    let body = json!({ "provider": OIDC_ID, "callbackURL": callback_url });
    let started = post(&mut ada, "/api/auth/sign-in/social", body).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    let answer = started.json();
    assert_eq!(answer["redirect"], true);
    let url = answer["url"].as_str().unwrap();
    assert!(url.starts_with(&provider.issuer()), "{url}");
    assert_eq!(started.header("location"), Some(url));

    // The provider approves; its callback (Gatehouse's own) ends at callbackURL, signed in.
    let callback = provider_answer(&format!("{url}&login_as=sub-ada")).await;
    let landed = ada.get(&callback).await;
    assert_eq!(landed.location(), callback_url, "{}", landed.body);
    let seen = get(&mut ada, "/api/auth/get-session").await.json();
    assert_eq!(seen["user"]["email"], "ada@acme.example");

    // Without a callbackURL the flow ends on the site; disableRedirect sends no Location.
    let quiet = json!({ "provider": OIDC_ID, "disableRedirect": true });
    let started = post(&mut app.browser(), "/api/auth/sign-in/social", quiet).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    assert_eq!(started.json()["redirect"], false);
    assert!(started.header("location").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn social_sign_in_refuses_unknown_providers_and_untrusted_callbacks() {
    use crate::support::provider::{StandIn, OIDC_ID};
    let provider = StandIn::start().await;
    let app = TestApp::with_providers_and_better_auth(&provider, &[FRONT_END]).await;
    let mut browser = app.browser();
    let refused = |body: Value| {
        let mut browser = app.browser();
        async move { post(&mut browser, "/api/auth/sign-in/social", body).await }
    };

    let unknown = refused(json!({ "provider": "myspace" })).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.json()["code"], "PROVIDER_NOT_FOUND");

    let elsewhere = json!({ "provider": OIDC_ID, "callbackURL": "https://evil.example/x" });
    let untrusted = refused(elsewhere).await;
    assert_eq!(untrusted.status, StatusCode::FORBIDDEN);
    assert_eq!(untrusted.json()["code"], "INVALID_CALLBACKURL");

    let missing = refused(json!({ "callbackURL": "/" })).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(missing.json()["code"], "VALIDATION_ERROR");

    let token = json!({ "provider": OIDC_ID, "idToken": { "token": "eyJ…" } });
    let by_token = refused(token).await;
    assert_eq!(by_token.status, StatusCode::NOT_FOUND);
    assert_eq!(by_token.json()["code"], "ID_TOKEN_NOT_SUPPORTED");

    // From an origin nobody trusts, nothing starts.
    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/auth/sign-in/social")
        .header(header::ORIGIN, "https://evil.example")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({ "provider": OIDC_ID }).to_string()))
        .unwrap();
    let foreign = browser.raw(request).await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backend_checks_better_auths_cookie_by_round_trip_and_an_ended_session_gets_no_jwt() {
    use crate::support::http::INTERNAL_TOKEN;
    let app = TestApp::with_better_auth(&[FRONT_END]).await;
    let mut ada = confirmed_ada(&app).await;
    sign_in(&mut ada).await;
    let signed = ada.cookie(COOKIE).unwrap().to_string();
    let ask = |value: String| {
        let request = Request::get("/api/internal/session")
            .header(header::AUTHORIZATION, format!("Bearer {INTERNAL_TOKEN}"))
            .header("x-session-token", value)
            .body(Body::empty())
            .unwrap();
        app.request(request)
    };
    // The cookie's value as the backend finds it in the browser's request, signature and all.
    let known = ask(signed.clone()).await;
    assert_eq!(known.status, StatusCode::OK, "{}", known.body);
    assert_eq!(known.json()["email"], "ada@example.com");
    let (token, _) = signed.rsplit_once('.').unwrap();
    let forged = format!("{token}.{}", STANDARD.encode([0u8; 32]));
    assert_eq!(ask(forged).await.status, StatusCode::UNAUTHORIZED);

    // Ada ends her other sessions from her phone: this browser keeps its cookie, but the
    // session behind it is gone, for the round trip and for a new JWT alike.
    let mut phone = app.browser();
    sign_in(&mut phone).await;
    let ended = post(&mut phone, "/api/auth/revoke-other-sessions", json!({})).await;
    assert_eq!(ended.status, StatusCode::OK, "{}", ended.body);
    assert_eq!(
        ask(signed).await.status,
        StatusCode::UNAUTHORIZED,
        "ended at once"
    );
    let token = get(&mut ada, "/api/auth/token").await;
    assert_eq!(
        token.status,
        StatusCode::UNAUTHORIZED,
        "no JWT for an ended session"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_not_remembered_ends_with_the_browser_and_within_a_day() {
    let app = TestApp::with_better_auth(&[FRONT_END]).await;
    let mut ada = confirmed_ada(&app).await;
    let body = json!({ "email": "ada@example.com", "password": PASSWORD, "rememberMe": false });
    let answer = post(&mut ada, "/api/auth/sign-in/email", body).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let set = answer.header("set-cookie").unwrap();
    assert!(!set.contains("Max-Age"), "a browser-session cookie: {set}");
    let ends: chrono::DateTime<chrono::Utc> = {
        let mut conn = app.db.conn().await;
        session::table
            .select(session::expires_at)
            .first(&mut conn)
            .await
            .unwrap()
    };
    let left = ends - chrono::Utc::now();
    assert!(
        left <= chrono::Duration::days(1) && left > chrono::Duration::hours(23),
        "the session row ends within a day too: {left}"
    );
    let seen = get(&mut ada, "/api/auth/get-session").await.json();
    assert_eq!(seen["session"]["expiresAt"].as_str().unwrap().len(), 24);
}
