//! The JWTs Gatehouse signs for backends (`GET /api/auth/token`), as a backend checks them:
//! the role only as the admin pages honour it (REQUIRE_ADMIN_MFA), how the session signed in
//! (`amr`), whether the address is confirmed and the person let in, and an audience per
//! backend (JWT_AUDIENCES) so a token for one does not replay at another.

use axum::http::StatusCode;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use gatehouse_app::db::schema::user;
use serde_json::Value;

use crate::accounts::{person, signed_in_ada, user_id};
use crate::better_auth::{get, published_keys};
use crate::support::http::{Browser, PUBLIC_URL};
use crate::support::TestApp;
use crate::two_factor::{begin, code, password_step, sign_out};

const BACKEND_A: &str = "https://render.example";
const BACKEND_B: &str = "https://billing.example";

/// What a backend does: the key by `kid` from the JWKS, then the signature, expiry, issuer
/// and its own audience.
async fn verified_for(
    browser: &mut Browser<'_>,
    token: &str,
    audience: &str,
) -> Result<Value, String> {
    let (keys, _) = published_keys(browser).await;
    crate::better_auth::verified_as(token, &keys, audience)
}

/// The token `path` answers, checked as the backend `audience` checks it.
async fn claims(browser: &mut Browser<'_>, path: &str, audience: &str) -> Value {
    let answer = get(browser, path).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let token = answer.json()["token"].as_str().unwrap().to_string();
    verified_for(browser, &token, audience).await.unwrap()
}

fn amr(claims: &Value) -> Vec<&str> {
    claims["amr"]
        .as_array()
        .unwrap_or_else(|| panic!("amr in {claims}"))
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_kept_out_by_require_admin_mfa_is_no_admin_to_backends() {
    let app = TestApp::with_jwt_audiences("ada@example.com", &[BACKEND_A]).await;
    let mut ada = app.browser();
    signed_in_ada(&app, &mut ada).await;
    let page = ada.get("/admin").await;
    assert!(page.body.contains("Administrators need two-step sign-in"));

    // A password only: the admin pages stay shut, and the token says `user`.
    let seen = claims(&mut ada, "/api/auth/token", PUBLIC_URL).await;
    assert_eq!(seen["role"], "user", "{seen}");
    assert_eq!(amr(&seen), ["pwd"], "{seen}");
    assert_eq!(seen["email_verified"], true, "{seen}");
    assert_eq!(
        seen["has_access"], true,
        "an admin may use the service: {seen}"
    );

    // With an authenticator app set up and a sign-in that used it: `admin`, and `otp`.
    let setup = begin(&mut ada).await;
    ada.submit(
        "/two-factor",
        "/api/two-factor",
        &[("step", "confirm"), ("code", &code(&setup.secret, 0))],
    )
    .await;
    sign_out(&mut ada).await;
    password_step(&mut ada).await;
    let second = ada
        .call(
            "/api/two-factor",
            &[
                ("step", "sign-in"),
                ("code", &code(&setup.secret, 1)),
                ("next", "/admin"),
            ],
        )
        .await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    assert!(!ada.get("/admin").await.body.contains("Administrators need"));
    let seen = claims(&mut ada, "/api/auth/token", PUBLIC_URL).await;
    assert_eq!(seen["role"], "admin", "{seen}");
    let methods = amr(&seen);
    assert!(
        methods.contains(&"pwd") && methods.contains(&"otp") && methods.contains(&"mfa"),
        "{seen}"
    );
    // get-session's `set-auth-jwt` says the same, for the default audience.
    let session = get(&mut ada, "/api/auth/get-session").await;
    let header = session
        .header("set-auth-jwt")
        .expect("set-auth-jwt")
        .to_string();
    let from_header = verified_for(&mut ada, &header, PUBLIC_URL).await.unwrap();
    assert_eq!(from_header["role"], "admin");
    assert_eq!(from_header["amr"], seen["amr"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_says_whether_the_person_is_confirmed_and_let_in_and_is_for_one_backend() {
    let app = TestApp::with_jwt_audiences("", &[BACKEND_A, BACKEND_B]).await;
    let mut grace = person(&app, "Grace", "grace@example.com", "10.9.0.3").await;
    let seen = claims(&mut grace, "/api/auth/token", PUBLIC_URL).await;
    assert_eq!(
        (&seen["role"], &seen["has_access"], &seen["email_verified"]),
        (
            &Value::from("user"),
            &Value::from(false),
            &Value::from(true)
        ),
        "Grace waits to be let in: {seen}"
    );
    assert_eq!(
        seen["aud"], PUBLIC_URL,
        "unasked, the audience is PUBLIC_URL"
    );

    // Let in, and (say, an adopted account) no longer confirmed: the next token says so.
    let id = user_id(&app, "grace@example.com").await;
    {
        let mut conn = app.db.conn().await;
        diesel::update(user::table.find(&id))
            .set((
                user::is_whitelisted.eq(true),
                user::email_verified.eq(false),
            ))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let seen = claims(&mut grace, "/api/auth/token", PUBLIC_URL).await;
    assert_eq!(seen["has_access"], true, "{seen}");
    assert_eq!(seen["email_verified"], false, "{seen}");

    // A token for backend A is A's: B and PUBLIC_URL refuse it.
    let answer = get(&mut grace, &format!("/api/auth/token?audience={BACKEND_A}")).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let for_a = answer.json()["token"].as_str().unwrap().to_string();
    let at_a = verified_for(&mut grace, &for_a, BACKEND_A).await.unwrap();
    assert_eq!(at_a["aud"], BACKEND_A);
    assert_eq!(at_a["sub"], id.as_str());
    let at_b = verified_for(&mut grace, &for_a, BACKEND_B).await;
    assert!(at_b.is_err(), "a token for A verified at B: {at_b:?}");
    assert!(verified_for(&mut grace, &for_a, PUBLIC_URL).await.is_err());
    let for_b = claims(
        &mut grace,
        &format!("/api/auth/token?audience={BACKEND_B}"),
        BACKEND_B,
    )
    .await;
    assert_eq!(for_b["aud"], BACKEND_B);

    // An audience not in the list is refused, and says why.
    for unknown in ["https://elsewhere.example", "", "https://render.example/"] {
        let answer = get(&mut grace, &format!("/api/auth/token?audience={unknown}")).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{unknown}: {}",
            answer.body
        );
        let error = answer.json();
        assert_eq!(error["code"], "INVALID_AUDIENCE", "{error}");
        assert!(
            error["message"].as_str().unwrap().contains("JWT_AUDIENCES"),
            "{error}"
        );
    }
}
