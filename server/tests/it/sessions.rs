//! Sessions: the cookie's form, sliding expiry, revocation seen at once, ending sessions, the
//! password reset and change that end them, account deletion, and rate limits.

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use gatehouse_app::db::schema::{account, artwork_jobs, audit_event, session, user};
use gatehouse_app::services::tokens::digest;

use crate::accounts::{sign_in, signed_in_ada, PASSWORD};
use crate::support::{TestApp, TestDb};

const COOKIE: &str = "gatehouse_session";
/// Shaped like a real token (32 bytes, base64url), but never issued.
const WELL_FORMED: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

#[tokio::test(flavor = "multi_thread")]
async fn the_session_cookie_is_http_only_lax_and_long_lived() {
    let app = TestApp::new().await;
    let mut ada = app.browser();
    crate::accounts::sign_up(&mut ada, "Ada", "ada@example.com").await;
    let mail = app.mail.wait_for("ada@example.com", 1).await;
    crate::accounts::confirm(&mut ada, &mail.link("http://gatehouse.test/verify-email")).await;
    let answer = ada
        .call(
            "/api/sign-in",
            &[("email", "ada@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let cookie = answer.header("set-cookie").unwrap();
    assert!(cookie.starts_with("gatehouse_session="), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=2592000"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain http locally: {cookie}");
    let token = cookie.split(';').next().unwrap().split_once('=').unwrap().1;
    assert_eq!(token.len(), 43, "32 random bytes, base64url");
}

#[tokio::test(flavor = "multi_thread")]
async fn over_https_the_cookie_is_secure_host_only_and_hsts_is_sent() {
    let app = TestApp::with_public_url(TestDb::migrated().await, "https://gatehouse.test").await;
    let page = app.get("/login").await;
    assert_eq!(
        page.header("strict-transport-security"),
        Some("max-age=31536000; includeSubDomains")
    );
    assert_eq!(
        app.services.settings.session_cookie_name(),
        "__Host-gatehouse_session"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_page_carries_the_security_headers() {
    let app = TestApp::new().await;
    for path in ["/", "/login", "/no-such-page", "/healthz"] {
        let page = app.get(path).await;
        let csp = page.header("content-security-policy").unwrap_or_default();
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'self'"),
            "{path}"
        );
        assert_eq!(
            page.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(
            page.header("referrer-policy"),
            Some("same-origin"),
            "{path}"
        );
        assert_eq!(
            page.header("strict-transport-security"),
            None,
            "no HSTS over http"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_or_expired_session_is_refused_at_once() {
    let app = TestApp::new().await;
    let mut ada = app.browser();
    signed_in_ada(&app, &mut ada).await;
    let mut conn = app.db.conn().await;

    // Another instance (or an admin) ends the session: the next request is refused.
    diesel::delete(session::table)
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(ada.get("/profile").await.location(), "/login?next=/profile");
    assert_eq!(ada.cookie(COOKIE), None, "the dead cookie is cleared");
    let me = ada.call("/api/current-user", &[]).await;
    assert_eq!(me.body, "null");

    sign_in(&mut ada, "ada@example.com", PASSWORD).await;
    diesel::update(session::table)
        .set(session::expires_at.eq(Utc::now() - Duration::seconds(1)))
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(ada.get("/profile").await.location(), "/login?next=/profile");

    // A made-up cookie is simply not a session.
    ada.set_cookie(COOKIE, WELL_FORMED);
    assert_eq!(ada.get("/profile").await.location(), "/login?next=/profile");
}

async fn read(
    conn: &mut gatehouse_app::db::DbConn,
) -> (chrono::DateTime<Utc>, chrono::DateTime<Utc>) {
    session::table
        .select((session::expires_at, session::updated_at))
        .first(conn)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_slides_in_its_second_half_at_most_once_a_day() {
    let app = TestApp::new().await;
    let mut ada = app.browser();
    signed_in_ada(&app, &mut ada).await;
    let mut conn = app.db.conn().await;

    // First half: no write.
    let (before, _) = read(&mut conn).await;
    let page = ada.get("/profile").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(read(&mut conn).await.0, before);
    assert!(page.header("set-cookie").is_none());

    // Second half, last written two days ago: extended to 30 days, cookie sent again.
    let two_days_ago = Utc::now() - Duration::days(2);
    diesel::update(session::table)
        .set((
            session::expires_at.eq(Utc::now() + Duration::days(10)),
            session::updated_at.eq(two_days_ago),
        ))
        .execute(&mut conn)
        .await
        .unwrap();
    let page = ada.get("/profile").await;
    let (extended, written) = read(&mut conn).await;
    assert!(extended > Utc::now() + Duration::days(29), "{extended}");
    assert!(written > two_days_ago + Duration::days(1));
    assert!(page
        .header("set-cookie")
        .unwrap()
        .contains("Max-Age=2592000"));

    // Second half but written within the day: no second write.
    diesel::update(session::table)
        .set(session::expires_at.eq(Utc::now() + Duration::days(10)))
        .execute(&mut conn)
        .await
        .unwrap();
    ada.get("/profile").await;
    assert!(read(&mut conn).await.0 < Utc::now() + Duration::days(11));
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_can_be_listed_and_ended_but_only_ones_own() {
    let app = TestApp::new().await;
    let mut laptop = app.browser();
    signed_in_ada(&app, &mut laptop).await;
    let mut phone = app.browser_at("10.1.1.1");
    phone.user_agent = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1".into();
    sign_in(&mut phone, "ada@example.com", PASSWORD).await;
    let mut tablet = app.browser_at("10.1.1.2");
    sign_in(&mut tablet, "ada@example.com", PASSWORD).await;

    let profile = laptop.get("/profile").await;
    assert!(
        profile.body.contains("Safari on iPhone"),
        "{}",
        profile.body
    );
    assert!(profile.body.contains("10.1.1.1"));

    let mut conn = app.db.conn().await;
    let phone_session: String = session::table
        .filter(session::ip_address.eq("10.1.1.1"))
        .select(session::id)
        .first(&mut conn)
        .await
        .unwrap();

    // Someone else cannot end it.
    let mut bob = app.browser_at("10.9.9.9");
    crate::accounts::sign_up(&mut bob, "Bob", "bob@example.com").await;
    let mail = app.mail.wait_for("bob@example.com", 1).await;
    crate::accounts::confirm(&mut bob, &mail.link("http://gatehouse.test/verify-email")).await;
    sign_in(&mut bob, "bob@example.com", PASSWORD).await;
    let refused = bob
        .call("/api/end-session", &[("id", &phone_session)])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        phone.get("/profile").await.status,
        StatusCode::OK,
        "still signed in"
    );

    // Nor can nobody.
    let mut anonymous = app.browser_at("10.9.9.8");
    let refused = anonymous
        .call("/api/end-session", &[("id", &phone_session)])
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);

    let (_, page) = laptop
        .submit("/profile", "/api/end-session", &[("id", &phone_session)])
        .await;
    assert!(page.body.contains("That session has ended."));
    assert_eq!(
        phone.get("/profile").await.location(),
        "/login?next=/profile"
    );
    assert_eq!(tablet.get("/profile").await.status, StatusCode::OK);

    let (_, page) = laptop
        .submit("/profile", "/api/end-other-sessions", &[])
        .await;
    assert!(page.body.contains("Every other session has ended."));
    assert_eq!(
        tablet.get("/profile").await.location(),
        "/login?next=/profile"
    );
    assert_eq!(laptop.get("/profile").await.status, StatusCode::OK);
    assert_eq!(
        bob.get("/profile").await.status,
        StatusCode::OK,
        "Bob's session is not Ada's"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn changing_the_password_ends_the_other_sessions() {
    let app = TestApp::new().await;
    let mut laptop = app.browser();
    signed_in_ada(&app, &mut laptop).await;
    let mut phone = app.browser_at("10.1.1.1");
    sign_in(&mut phone, "ada@example.com", PASSWORD).await;

    let (_, page) = laptop
        .submit(
            "/profile",
            "/api/change-password",
            &[
                ("current_password", "wrong one!"),
                ("new_password", "a brand new passphrase"),
            ],
        )
        .await;
    assert!(
        page.body.contains("That is not your current password."),
        "{}",
        page.body
    );
    let weak = laptop
        .call(
            "/api/change-password",
            &[("current_password", PASSWORD), ("new_password", "short")],
        )
        .await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        phone.get("/profile").await.status,
        StatusCode::OK,
        "failed attempts change nothing"
    );
    laptop
        .call("/api/forgot-password", &[("email", "ada@example.com")])
        .await;
    let reset = app.mail.wait_for("ada@example.com", 2).await;
    let reset = reset.link("http://gatehouse.test/reset-password?token=");

    let (_, page) = laptop
        .submit(
            "/profile",
            "/api/change-password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "a brand new passphrase"),
            ],
        )
        .await;
    assert!(
        page.body.contains("Your password is changed"),
        "{}",
        page.body
    );
    assert_eq!(
        phone.get("/profile").await.location(),
        "/login?next=/profile"
    );
    assert_eq!(laptop.get("/profile").await.status, StatusCode::OK);
    let mut fresh = app.browser_at("10.1.1.3");
    sign_in(&mut fresh, "ada@example.com", "a brand new passphrase").await;

    // A reset link mailed before the change cannot set a password over the new one.
    let stale = fresh
        .call(
            "/api/reset-password",
            &[
                ("token", reset.split("token=").nth(1).unwrap()),
                ("password", "someone else's choice"),
            ],
        )
        .await;
    assert_eq!(stale.status, StatusCode::BAD_REQUEST, "{}", stale.body);
    sign_in(&mut fresh, "ada@example.com", "a brand new passphrase").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forgotten_password_is_reset_by_mail_and_every_session_ends() {
    let app = TestApp::new().await;
    let mut laptop = app.browser();
    signed_in_ada(&app, &mut laptop).await;
    let mut phone = app.browser_at("10.1.1.1");
    sign_in(&mut phone, "ada@example.com", PASSWORD).await;

    // Known and unknown addresses get the same answer; only the known one gets mail.
    let mut someone = app.browser_at("10.2.2.2");
    let (known, page) = someone
        .submit(
            "/forgot-password",
            "/api/forgot-password",
            &[("email", "ada@example.com")],
        )
        .await;
    let (unknown, _) = someone
        .submit(
            "/forgot-password",
            "/api/forgot-password",
            &[("email", "nobody@example.com")],
        )
        .await;
    assert_eq!(
        (known.status, known.location()),
        (unknown.status, unknown.location())
    );
    assert!(page.body.contains("If an account uses that address"));
    let mail = app.mail.wait_for("ada@example.com", 2).await;
    assert_eq!(mail.subject, "Reset your Gatehouse password");
    assert!(app.mail_settled().await.to("nobody@example.com").is_empty());
    let link = mail.link("http://gatehouse.test/reset-password?token=");
    let path = link.trim_start_matches("http://gatehouse.test");
    let token = path.split("token=").nth(1).unwrap();

    // A password that will not do leaves the link usable.
    let (_, page) = someone
        .submit(
            path,
            "/api/reset-password",
            &[("token", token), ("password", "ada@example.com")],
        )
        .await;
    assert!(page.body.contains("cannot be your email"), "{}", page.body);

    let (posted, page) = someone
        .submit(
            path,
            "/api/reset-password",
            &[("token", token), ("password", "a brand new passphrase")],
        )
        .await;
    assert_eq!(posted.location(), "/login?notice=reset");
    assert!(page.body.contains("every session has ended"));
    let told = app.mail.wait_for("ada@example.com", 3).await;
    assert_eq!(
        told.subject, "Your Gatehouse password was reset",
        "the owner hears of it"
    );
    assert_eq!(
        laptop.get("/profile").await.location(),
        "/login?next=/profile"
    );
    assert_eq!(
        phone.get("/profile").await.location(),
        "/login?next=/profile"
    );

    let old = someone
        .call(
            "/api/sign-in",
            &[("email", "ada@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    sign_in(&mut someone, "ada@example.com", "a brand new passphrase").await;

    // Used once.
    let again = someone
        .call(
            "/api/reset-password",
            &[("token", token), ("password", "yet another passphrase")],
        )
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert!(again.body.contains("already used or is not valid"));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_reset_link_says_so() {
    let app = TestApp::new().await;
    let mut ada = app.browser();
    signed_in_ada(&app, &mut ada).await;
    ada.call("/api/forgot-password", &[("email", "ada@example.com")])
        .await;
    let mail = app.mail.wait_for("ada@example.com", 2).await;
    let link = mail.link("http://gatehouse.test/reset-password?token=");
    let token = link.split("token=").nth(1).unwrap();
    let mut conn = app.db.conn().await;
    diesel::update(gatehouse_app::db::schema::verification::table)
        .set(
            gatehouse_app::db::schema::verification::expires_at
                .eq(Utc::now() - Duration::minutes(1)),
        )
        .execute(&mut conn)
        .await
        .unwrap();
    let expired = ada
        .call(
            "/api/reset-password",
            &[("token", token), ("password", "a brand new passphrase")],
        )
        .await;
    assert_eq!(expired.status, StatusCode::BAD_REQUEST);
    assert!(
        expired.body.contains("This link has expired."),
        "{}",
        expired.body
    );
    let hash: Option<String> = account::table
        .select(account::password)
        .first(&mut conn)
        .await
        .unwrap();
    let still = app
        .services
        .passwords
        .verify(hash.as_deref(), PASSWORD)
        .await
        .unwrap();
    assert!(still.is_match(), "the password did not change");
    let _ = digest(token);
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_the_account_takes_everything_it_owns() {
    let app = TestApp::new().await;
    let mut ada = app.browser();
    signed_in_ada(&app, &mut ada).await;
    let mut conn = app.db.conn().await;
    let ada_id: String = user::table.select(user::id).first(&mut conn).await.unwrap();
    diesel::insert_into(artwork_jobs::table)
        .values((
            artwork_jobs::id.eq("j1"),
            artwork_jobs::job_id.eq("job-1"),
            artwork_jobs::original_url.eq("https://cdn.example/a.png"),
            artwork_jobs::user_id.eq(&ada_id),
        ))
        .execute(&mut conn)
        .await
        .unwrap();

    let (_, page) = ada
        .submit(
            "/profile",
            "/api/delete-account",
            &[("password", PASSWORD), ("confirm", "delete")],
        )
        .await;
    assert!(
        page.body.contains("Type DELETE to confirm."),
        "{}",
        page.body
    );
    let wrong = ada
        .call(
            "/api/delete-account",
            &[("password", "not my password"), ("confirm", "DELETE")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        user::table
            .count()
            .get_result::<i64>(&mut conn)
            .await
            .unwrap(),
        1
    );

    let (posted, _) = ada
        .submit(
            "/profile",
            "/api/delete-account",
            &[("password", PASSWORD), ("confirm", "DELETE")],
        )
        .await;
    assert_eq!(posted.location(), "/?notice=deleted");
    assert_eq!(ada.cookie(COOKIE), None);
    for (table, count) in [
        (
            "user",
            user::table
                .count()
                .get_result::<i64>(&mut conn)
                .await
                .unwrap(),
        ),
        (
            "account",
            account::table
                .count()
                .get_result::<i64>(&mut conn)
                .await
                .unwrap(),
        ),
        (
            "session",
            session::table
                .count()
                .get_result::<i64>(&mut conn)
                .await
                .unwrap(),
        ),
        (
            "artwork_jobs",
            artwork_jobs::table
                .count()
                .get_result::<i64>(&mut conn)
                .await
                .unwrap(),
        ),
    ] {
        assert_eq!(count, 0, "{table}");
    }
    let deleted: i64 = audit_event::table
        .filter(audit_event::action.eq("user_deleted"))
        .filter(audit_event::target_label.eq("ada@example.com"))
        .count()
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!(deleted, 1, "the audit log remembers");
}

#[tokio::test(flavor = "multi_thread")]
async fn repeated_sign_in_failures_are_rate_limited() {
    let app = TestApp::new().await;
    // Per account: ten tries at once, then wait.
    let mut guesser = app.browser_at("10.3.3.3");
    for _ in 0..10 {
        let answer = guesser
            .call(
                "/api/sign-in",
                &[("email", "ada@example.com"), ("password", "guess guess")],
            )
            .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }
    let mut other_address = app.browser_at("10.3.3.4");
    let limited = other_address
        .call(
            "/api/sign-in",
            &[("email", "ada@example.com"), ("password", "guess guess")],
        )
        .await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=90).contains(&retry), "{retry}");
    assert!(limited.body.contains("Too many attempts"));

    // Per address: thirty tries at once over any accounts.
    let mut sprayer = app.browser_at("10.4.4.4");
    let mut statuses = Vec::new();
    for n in 0..31 {
        let email = format!("user{n}@example.com");
        statuses.push(
            sprayer
                .call(
                    "/api/sign-in",
                    &[("email", &email), ("password", "guess guess")],
                )
                .await
                .status,
        );
    }
    assert!(statuses[..30]
        .iter()
        .all(|s| *s == StatusCode::UNAUTHORIZED));
    assert_eq!(statuses[30], StatusCode::TOO_MANY_REQUESTS);

    // Reset requests too.
    for _ in 0..10 {
        sprayer = app.browser_at("10.5.5.5");
        sprayer
            .call("/api/forgot-password", &[("email", "ada@example.com")])
            .await;
    }
    let limited = app
        .browser_at("10.5.5.6")
        .call("/api/forgot-password", &[("email", "ada@example.com")])
        .await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flood_of_sign_ups_is_rate_limited() {
    let app = TestApp::new().await;
    let sign_up = |ip: String, email: String| {
        let app = &app;
        async move {
            app.browser_at(&ip)
                .call(
                    "/api/sign-up",
                    &[
                        ("name", "Someone"),
                        ("email", &email),
                        ("password", "correct horse battery staple"),
                    ],
                )
                .await
        }
    };
    // Per address: thirty at once, for any addresses.
    for n in 0..30 {
        let answer = sign_up("10.6.6.6".into(), format!("new{n}@example.com")).await;
        assert!(answer.status.is_success(), "{n}: {}", answer.status);
    }
    let limited = sign_up("10.6.6.6".into(), "new30@example.com".into()).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.header("retry-after").is_some());
    assert!(
        limited.body.contains("Too many attempts"),
        "{}",
        limited.body
    );

    // Per address signed up for: ten, from anywhere, so a stranger's inbox is not flooded
    // with "someone tried to sign up" mail.
    for n in 0..10 {
        let answer = sign_up(format!("10.7.0.{n}"), "grace@example.com".into()).await;
        assert!(answer.status.is_success(), "{n}: {}", answer.status);
    }
    let limited = sign_up("10.7.1.1".into(), "grace@example.com".into()).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);

    let mut conn = app.db.conn().await;
    let users: i64 = user::table.count().get_result(&mut conn).await.unwrap();
    assert_eq!(users, 31, "the refused sign-ups made no user");
    let mails = app.mail_settled().await.to("grace@example.com").len();
    assert_eq!(
        mails,
        1 + 9,
        "a confirmation, then nine 'someone tried' mails"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_account_function_refuses_a_caller_who_is_not_signed_in() {
    let app = TestApp::new().await;
    let mut ada = app.browser();
    signed_in_ada(&app, &mut ada).await;
    let mut conn = app.db.conn().await;
    let session_id: String = session::table
        .select(session::id)
        .first(&mut conn)
        .await
        .unwrap();

    let mut nobody = app.browser_at("10.6.6.6");
    let calls: [(&str, &[(&str, &str)]); 7] = [
        ("/api/update-name", &[("name", "Mallory")]),
        (
            "/api/change-password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "taken over now!"),
            ],
        ),
        ("/api/end-session", &[("id", &session_id)]),
        ("/api/end-other-sessions", &[]),
        (
            "/api/delete-account",
            &[("password", PASSWORD), ("confirm", "DELETE")],
        ),
        ("/api/resend-my-verification", &[]),
        ("/api/my-sessions", &[]),
    ];
    for (action, fields) in calls {
        let answer = nobody.call(action, fields).await;
        assert_eq!(
            answer.status,
            StatusCode::UNAUTHORIZED,
            "{action}: {}",
            answer.body
        );
        assert!(answer.body.contains("Sign in to continue."), "{action}");
    }
    let name: String = user::table
        .select(user::name)
        .first(&mut conn)
        .await
        .unwrap();
    assert_eq!(name, "Ada Lovelace");
    assert_eq!(
        session::table
            .count()
            .get_result::<i64>(&mut conn)
            .await
            .unwrap(),
        1
    );
    assert_eq!(ada.get("/profile").await.status, StatusCode::OK);
}

/// A server function, the fields posted to it, and what the answer must say.
type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_on_the_profile_forms_is_refused_and_changes_nothing() {
    let app = TestApp::new().await;
    let mut ada = app.browser();
    signed_in_ada(&app, &mut ada).await;
    let long_name = "n".repeat(101);
    let cases: [Case; 6] = [
        ("/api/update-name", &[("name", "   ")], "Enter your name."),
        (
            "/api/update-name",
            &[("name", &long_name)],
            "at most 100 characters",
        ),
        (
            "/api/update-name",
            &[("name", "Ada\u{7}")],
            "control characters",
        ),
        ("/api/change-password", &[], "Use at least 8 characters."),
        (
            "/api/end-session",
            &[("id", "no-such-session")],
            "already over",
        ),
        (
            "/api/delete-account",
            &[("password", PASSWORD)],
            "Type DELETE to confirm.",
        ),
    ];
    for (action, fields, expected) in cases {
        let answer = ada.call(action, fields).await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{action} {fields:?}: {}",
            answer.body
        );
        assert!(
            answer.body.contains(expected),
            "{action} {fields:?}: {}",
            answer.body
        );
    }
    let (_, page) = ada
        .submit("/profile", "/api/update-name", &[("name", &long_name)])
        .await;
    assert!(page.body.contains("at most 100 characters"));
    assert!(
        page.body.contains(&format!(r#"value="{long_name}""#)),
        "the input is kept"
    );

    let mut conn = app.db.conn().await;
    let name: String = user::table
        .select(user::name)
        .first(&mut conn)
        .await
        .unwrap();
    assert_eq!(name, "Ada Lovelace");
    assert_eq!(
        user::table
            .count()
            .get_result::<i64>(&mut conn)
            .await
            .unwrap(),
        1
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_on_the_mail_forms_is_refused() {
    let app = TestApp::new().await;
    let mut someone = app.browser();
    for (action, fields, status, expected) in [
        (
            "/api/forgot-password",
            vec![("email", "nope")],
            StatusCode::UNPROCESSABLE_ENTITY,
            "Enter an email address like",
        ),
        (
            "/api/forgot-password",
            vec![],
            StatusCode::UNPROCESSABLE_ENTITY,
            "Enter your email address.",
        ),
        (
            "/api/resend-verification",
            vec![("email", "x@")],
            StatusCode::UNPROCESSABLE_ENTITY,
            "Enter an email address like",
        ),
        (
            "/api/verify-email",
            vec![("token", "made-up")],
            StatusCode::BAD_REQUEST,
            "not valid",
        ),
        (
            "/api/verify-email",
            vec![],
            StatusCode::BAD_REQUEST,
            "not valid",
        ),
        (
            "/api/reset-password",
            vec![
                ("token", "made-up"),
                ("password", "long enough but no link"),
            ],
            StatusCode::BAD_REQUEST,
            "not valid",
        ),
        (
            "/api/reset-password",
            vec![("token", WELL_FORMED), ("password", "short")],
            StatusCode::UNPROCESSABLE_ENTITY,
            "at least 8",
        ),
        (
            "/api/reset-password",
            vec![
                ("token", WELL_FORMED),
                ("password", "long enough but no link"),
            ],
            StatusCode::BAD_REQUEST,
            "not valid",
        ),
    ] {
        let answer = someone.call(action, &fields).await;
        assert_eq!(
            answer.status, status,
            "{action} {fields:?}: {}",
            answer.body
        );
        assert!(
            answer.body.contains(expected),
            "{action} {fields:?}: {}",
            answer.body
        );
    }
    // A made-up link on the confirmation page says so and offers a new one.
    let (_, page) = someone
        .submit(
            "/verify-email?token=made-up",
            "/api/verify-email",
            &[("token", "made-up")],
        )
        .await;
    assert!(page.body.contains("already used or is not valid"));
    assert!(page.body.contains(r#"action="/api/resend-verification""#));
    assert_eq!(app.mail_settled().await.count(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_client_address_comes_from_x_forwarded_for_only_behind_a_trusted_proxy() {
    use axum::body::Body;
    use axum::http::{header, Request};
    for (app, expected) in [
        (TestApp::new().await, "127.0.0.1"),
        (TestApp::behind_a_proxy().await, "203.0.113.9"),
    ] {
        let mut ada = app.browser();
        crate::accounts::sign_up(&mut ada, "Ada", "ada@example.com").await;
        let mail = app.mail.wait_for("ada@example.com", 1).await;
        crate::accounts::confirm(&mut ada, &mail.link("http://gatehouse.test/verify-email")).await;
        let body = format!(
            "email=ada%40example.com&password={}",
            PASSWORD.replace(' ', "+")
        );
        // The client forges 6.6.6.6; the proxy appends what it saw, on the same line or, as
        // HAProxy's `option forwardfor` does, on a line of its own.
        for lines in [&["6.6.6.6, 203.0.113.9"][..], &["6.6.6.6", "203.0.113.9"]] {
            let mut request = Request::post("/api/sign-in")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ORIGIN, "http://gatehouse.test");
            for line in lines {
                request = request.header("x-forwarded-for", *line);
            }
            let answer = ada
                .raw(request.body(Body::from(body.clone())).unwrap())
                .await;
            assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        }
        let mut conn = app.db.conn().await;
        let ips: Vec<Option<String>> = session::table
            .select(session::ip_address)
            .load(&mut conn)
            .await
            .unwrap();
        assert_eq!(
            ips,
            vec![Some(expected.to_string()); 2],
            "one line, then two lines"
        );
    }
}
