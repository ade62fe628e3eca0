//! What the outside security review found, each through the real router with real
//! concurrency: password checks cannot freeze the site, and are limited however they come.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use tower::ServiceExt;

use crate::accounts::person;
use crate::support::TestApp;

const PUBLIC_URL: &str = "http://gatehouse.test";

/// A form post to a server function, as a browser at `peer` with `cookie` sends it.
fn post(path: &str, form: &str, cookie: Option<&str>, peer: &str) -> Request<Body> {
    let mut request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .header(header::ORIGIN, PUBLIC_URL);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, format!("gatehouse_session={cookie}"));
    }
    let mut request = request.body(Body::from(form.to_string())).unwrap();
    let peer: SocketAddr = format!("{peer}:40000").parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));
    request
}

/// Sends every request at once, each on a task of its own; their statuses and Retry-After,
/// while `meanwhile` keeps loading another person's page; then how long each of those took.
async fn flood(
    app: &TestApp,
    requests: Vec<Request<Body>>,
    mut meanwhile: crate::support::http::Browser<'_>,
) -> (Vec<(StatusCode, Option<String>)>, Vec<Duration>) {
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|request| {
            let router = app.router();
            tokio::spawn(async move {
                let response = router.oneshot(request).await.unwrap();
                let retry_after = response
                    .headers()
                    .get(header::RETRY_AFTER)
                    .map(|v| v.to_str().unwrap().to_string());
                (response.status(), retry_after)
            })
        })
        .collect();
    let mut pages = Vec::new();
    while tasks.iter().any(|task| !task.is_finished()) || pages.len() < 20 {
        let started = Instant::now();
        let page = meanwhile.get("/profile").await;
        assert_eq!(page.status, StatusCode::OK, "another person's page failed");
        pages.push(started.elapsed());
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    pages.sort();
    (answers, pages)
}

fn p99(sorted: &[Duration]) -> Duration {
    sorted[(sorted.len() * 99).div_ceil(100) - 1]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wrong_password_re_checks_count_against_the_sign_in_limits() {
    let app = TestApp::new().await;
    let mallory = person(&app, "Mallory", "mallory@example.com", "10.0.0.66").await;
    let cookie = mallory.cookie("gatehouse_session").unwrap().to_string();
    let ada = person(&app, "Ada", "ada@example.com", "10.0.0.1").await;

    let requests = (0..120)
        .map(|i| {
            let form = format!("current_password=wrong-{i}&new_password=a+new+long+password+{i}");
            post("/api/change-password", &form, Some(&cookie), "10.0.0.66")
        })
        .collect();
    let (answers, pages) = flood(&app, requests, ada).await;

    let limited = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!(limited >= 100, "{limited} of 120 were limited: {answers:?}");
    for (status, retry_after) in &answers {
        match *status {
            StatusCode::TOO_MANY_REQUESTS => {
                assert!(retry_after.is_some(), "429 without Retry-After")
            }
            StatusCode::UNPROCESSABLE_ENTITY => {}
            other => panic!("a wrong current password answered {other}"),
        }
    }
    assert!(
        p99(&pages) < Duration::from_secs(1),
        "pages p99 {:?}",
        p99(&pages)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sign_in_flood_from_many_addresses_is_told_busy_and_pages_keep_answering() {
    let app = TestApp::new().await;
    let ada = person(&app, "Ada", "ada@example.com", "10.0.0.1").await;

    // Each from an address of its own, for an account of its own: no quota stops them, so
    // they all reach the hashing queue, which holds two at work and 32 waiting.
    let requests = (0..120)
        .map(|i| {
            let form = format!("email=nobody{i}%40example.com&password=wrong+password");
            post(
                "/api/sign-in",
                &form,
                None,
                &format!("10.1.{}.{}", i / 200, i % 200 + 1),
            )
        })
        .collect();
    let (answers, pages) = flood(&app, requests, ada).await;

    let busy: Vec<_> = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    assert!(!busy.is_empty(), "the queue never said busy: {answers:?}");
    assert!(busy.iter().all(|(_, retry_after)| retry_after.is_some()));
    for (status, _) in &answers {
        assert!(
            [StatusCode::UNAUTHORIZED, StatusCode::SERVICE_UNAVAILABLE].contains(status),
            "a wrong sign-in answered {status}"
        );
    }
    assert!(
        p99(&pages) < Duration::from_secs(1),
        "pages p99 {:?}",
        p99(&pages)
    );
}

/// Moves the sign-in of every session of `email` back by `interval` (a PostgreSQL interval).
pub(crate) async fn signed_in_ago(app: &TestApp, email: &str, interval: &str) {
    use diesel_async::SimpleAsyncConnection;
    let mut conn = app.db.conn().await;
    conn.batch_execute(&format!(
        "UPDATE session SET \"createdAt\" = now() - interval '{interval}' \
         WHERE \"userId\" = (SELECT id FROM \"user\" WHERE email = '{email}')"
    ))
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_end_at_their_absolute_limit_and_admins_sooner() {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    use gatehouse_app::db::schema::session;

    let app = TestApp::with_access("", "boss@example.com").await;
    let mut ada = person(&app, "Ada", "ada@example.com", "10.0.0.1").await;
    let mut boss = person(&app, "Boss", "boss@example.com", "10.0.0.2").await;
    assert_eq!(boss.get("/admin").await.status, StatusCode::OK);

    // Thirteen hours after signing in, the admin signs in again; a plain session goes on.
    signed_in_ago(&app, "boss@example.com", "13 hours").await;
    signed_in_ago(&app, "ada@example.com", "13 hours").await;
    assert_eq!(boss.get("/admin").await.location(), "/login?next=/admin");
    assert_eq!(ada.get("/profile").await.status, StatusCode::OK);

    // A session used every day still ends 30 days after sign-in: extending it in its second
    // half stops at that end.
    let ada_id = crate::accounts::user_id(&app, "ada@example.com").await;
    let adas = || session::table.filter(session::user_id.eq(ada_id.clone()));
    let mut conn = app.db.conn().await;
    diesel::update(adas())
        .set((
            session::created_at.eq(chrono::Utc::now() - chrono::Duration::days(29)),
            session::updated_at.eq(chrono::Utc::now() - chrono::Duration::days(2)),
            session::expires_at.eq(chrono::Utc::now() + chrono::Duration::hours(12)),
        ))
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(ada.get("/profile").await.status, StatusCode::OK);
    let (created, expires): (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) = adas()
        .select((session::created_at, session::expires_at))
        .first(&mut conn)
        .await
        .unwrap();
    assert!(
        expires > chrono::Utc::now() + chrono::Duration::hours(23),
        "it was extended"
    );
    assert!(
        expires <= created + chrono::Duration::days(30),
        "but not past 30 days from sign-in: {created} → {expires}"
    );
    signed_in_ago(&app, "ada@example.com", "30 days 1 minute").await;
    diesel::update(adas())
        .set(session::expires_at.eq(chrono::Utc::now() + chrono::Duration::days(1)))
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(ada.get("/profile").await.location(), "/login?next=/profile");
}

#[tokio::test(flavor = "multi_thread")]
async fn what_is_about_someone_is_never_cached() {
    use crate::support::http::INTERNAL_TOKEN;
    let app = TestApp::new().await;
    let mut ada = person(&app, "Ada", "ada@example.com", "10.0.0.1").await;
    let cookie = ada.cookie("gatehouse_session").unwrap().to_string();

    let profile = ada.get("/profile").await;
    let answer = ada.call("/api/update-name", &[("name", "Ada L.")]).await;
    let internal = app
        .request(
            Request::get("/api/internal/session")
                .header(header::AUTHORIZATION, format!("Bearer {INTERNAL_TOKEN}"))
                .header("x-session-token", &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    for (what, response) in [
        ("a signed-in page", &profile),
        ("a server function", &answer),
        ("the internal API", &internal),
    ] {
        assert!(response.status.is_success(), "{what}: {}", response.status);
        assert_eq!(response.header("cache-control"), Some("no-store"), "{what}");
    }
    // The stylesheet, the same for everyone, may be kept.
    let style = app.get("/style/main.css").await;
    assert_ne!(style.header("cache-control"), Some("no-store"));
}

/// Sign-up mails a stranger's address: what the signer-up typed must not ride along.
#[tokio::test(flavor = "multi_thread")]
async fn a_confirmation_mail_carries_nothing_the_signer_up_wrote() {
    let app = TestApp::new().await;
    let mut spammer = app.browser();
    let pitch = "Cheap pills at spam example";
    let (posted, _) = spammer
        .submit(
            "/signup",
            "/api/sign-up",
            &[
                ("name", pitch),
                ("email", "victim@example.com"),
                ("password", crate::accounts::PASSWORD),
            ],
        )
        .await;
    assert_eq!(posted.location(), "/check-email?for=sign-up");
    let mail = app.mail.wait_for("victim@example.com", 1).await;
    assert!(mail.subject.contains("Confirm"), "{}", mail.subject);
    assert!(!mail.body.contains("pills"), "{}", mail.body);
    assert!(!mail.subject.contains("pills"));
}

/// A form refused without JavaScript comes back to its page in the browser that sent it,
/// once, within a minute: never in an address, which anyone could be sent (issue 37).
#[tokio::test(flavor = "multi_thread")]
async fn a_refused_form_comes_back_only_to_the_browser_that_sent_it_once() {
    let app = TestApp::new().await;
    let mut browser = app.browser();
    let typed = [
        ("email", "ada@example.com"),
        ("password", "not the password"),
    ];
    let (posted, page) = browser.submit("/login", "/api/sign-in", &typed).await;
    assert_eq!(posted.location(), "http://gatehouse.test/login");
    let sealed = posted.header("set-cookie").unwrap_or_default().to_string();
    assert!(sealed.starts_with("gatehouse_refusal="), "{sealed}");
    assert!(
        sealed.contains("HttpOnly") && sealed.contains("Max-Age=60"),
        "{sealed}"
    );
    assert!(
        !sealed.contains("ada%40example"),
        "what was typed is sealed: {sealed}"
    );
    assert!(
        page.body.contains("Email or password is incorrect."),
        "{}",
        page.body
    );
    assert!(
        page.body.contains(r#"value="ada@example.com""#),
        "typed kept"
    );
    // The page that shows it is not hydrated: the client could not show the same.
    assert_eq!(browser.cookie("gatehouse_refusal"), None, "taken once");
    let again = browser.get("/login").await;
    assert!(
        !again.body.contains(r#"role="alert""#),
        "once: {}",
        again.body
    );

    // Another browser opening the address it was sent back to sees nothing of it.
    browser.submit("/login", "/api/sign-in", &typed).await;
    let elsewhere = app.browser().get("/login").await;
    assert!(!elsewhere.body.contains("incorrect"), "{}", elsewhere.body);
    assert!(!elsewhere.body.contains("ada@example.com"));

    // A refusal copied into another browser works there only for its minute and its page,
    // and one sealed for another page shows nothing here.
    let fresh = browser
        .raw(
            Request::post("/api/sign-in")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ACCEPT, "text/html")
                .header(header::ORIGIN, "http://gatehouse.test")
                .header(header::REFERER, "http://gatehouse.test/login")
                .body(Body::from("email=ada%40example.com&password=nope"))
                .unwrap(),
        )
        .await;
    let value = fresh
        .header("set-cookie")
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let mut elsewhere = app.browser();
    elsewhere.set_cookie("gatehouse_refusal", &value);
    let signup = elsewhere.get("/signup").await;
    assert!(!signup.body.contains("incorrect"), "another page's refusal");
    assert_eq!(elsewhere.cookie("gatehouse_refusal"), Some(value.as_str()));
    // A value Gatehouse did not seal goes, and shows nothing.
    elsewhere.set_cookie("gatehouse_refusal", "enc:v1:k:Zm9yZ2Vk");
    let login = elsewhere.get("/login").await;
    assert!(!login.body.contains(r#"role="alert""#), "{}", login.body);
    assert_eq!(elsewhere.cookie("gatehouse_refusal"), None);
}

/// The address a refusal rode in before: a link that carries one (signed once, words joined
/// to it, or none at all) is sent to the same address without it, so neither the server's
/// page nor the client reading the address bar shows its words (issue 37).
#[tokio::test(flavor = "multi_thread")]
async fn a_link_cannot_put_words_on_a_gatehouse_page() {
    use base64::Engine;
    let app = TestApp::new().await;
    let b64 = base64::engine::general_purpose::URL_SAFE;
    let forged = b64.encode(r#"{"status":401,"message":"Call 555-0100 to unlock.","fields":[]}"#);
    let path = "%2Fapi%2Fsign-in";
    for link in [
        // A refusal Gatehouse once signed, with forged words joined after it.
        format!("/login?next=%2Fprofile&__path={path}&__err=e30&__errmac=00&__err={forged}"),
        // A lone one, never signed.
        format!("/login?next=%2Fprofile&__path={path}&__err={forged}"),
        format!("/profile?__err={forged}"),
    ] {
        let mut browser = app.browser();
        let answer = browser.get(&link).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{link}");
        let clean = answer.location().to_string();
        assert!(!clean.contains("__"), "{clean}");
        assert!(
            clean == "/login?next=%2Fprofile" || clean == "/profile",
            "{clean}"
        );
        let page = browser.get(&clean).await;
        assert!(!page.body.contains("555-0100"), "{link} showed its words");
        assert!(!page.body.contains(r#"role="alert""#), "{}", page.body);
    }
}

/// A stolen session cookie must not be enough to hand the account over: a new or removed
/// way in, the account's deletion, ending the other sessions. Those need a sign-in from the
/// last ten minutes (a password, where one is asked, is its own proof).
#[tokio::test(flavor = "multi_thread")]
async fn changes_that_hand_over_the_account_need_a_recent_sign_in() {
    use crate::support::http::provider_answer;
    use crate::support::provider::{GithubUser, StandIn, OIDC_ID};
    use gatehouse_app::views::SIGN_IN_AGAIN;

    let provider = StandIn::start().await;
    provider.add_github(GithubUser::new(583231, "octocat", "octo@example.com"));
    let app = TestApp::with_providers(&provider).await;
    let mut octo = app.browser_at("10.0.0.7");
    octo.through_provider("github", &[], "octocat").await;
    let mut elsewhere = app.browser_at("10.0.0.8");
    elsewhere.through_provider("github", &[], "octocat").await;
    signed_in_ago(&app, "octo@example.com", "11 minutes").await;

    let refused: [(&str, &[(&str, &str)]); 4] = [
        (
            "/api/change-password",
            &[("new_password", "a brand new passphrase")],
        ),
        ("/api/delete-account", &[("confirm", "DELETE")]),
        ("/api/end-other-sessions", &[]),
        ("/api/unlink-account", &[("provider", "github")]),
    ];
    for (action, fields) in refused {
        let answer = octo.call(action, fields).await;
        assert_eq!(
            answer.status,
            StatusCode::FORBIDDEN,
            "{action}: {}",
            answer.body
        );
        assert_eq!(answer.json()["message"], SIGN_IN_AGAIN, "{action}");
    }
    let connect = octo.start_provider(OIDC_ID, &[("intent", "link")]).await;
    assert!(
        connect.starts_with("/sign-in-failed?reason=sign-in-again&"),
        "{connect}"
    );
    // Without JavaScript the form says why, with a way to sign in again.
    let (_, page) = octo
        .submit("/profile", "/api/end-other-sessions", &[])
        .await;
    assert!(page.body.contains(SIGN_IN_AGAIN), "{}", page.body);
    assert!(page
        .body
        .contains(r#"href="/login?next=/profile">Sign in again"#));
    assert_eq!(
        elsewhere.get("/profile").await.status,
        StatusCode::OK,
        "nothing was ended"
    );

    // Signing in again is a step-up: GitHub is asked to show its account picker, an OIDC
    // issuer to authenticate anew; a first sign-in asks neither.
    let mut stranger = app.browser_at("10.0.0.9");
    let first_github = stranger.start_provider("github", &[]).await;
    let first_oidc = stranger.start_provider(OIDC_ID, &[]).await;
    assert!(!first_github.contains("prompt="), "{first_github}");
    assert!(!first_oidc.contains("prompt="), "{first_oidc}");
    let oidc_again = octo.start_provider(OIDC_ID, &[]).await;
    assert!(
        oidc_again.contains("prompt=login") && oidc_again.contains("max_age=0"),
        "{oidc_again}"
    );
    let github_again = octo.start_provider("github", &[]).await;
    assert!(
        github_again.contains("prompt=select_account"),
        "{github_again}"
    );
    let callback = provider_answer(&format!("{github_again}&login_as=octocat")).await;
    octo.get(&callback).await;
    let ended = octo.call("/api/end-other-sessions", &[]).await;
    assert_eq!(ended.status, StatusCode::OK, "{}", ended.body);
    assert_eq!(
        elsewhere.get("/profile").await.location(),
        "/login?next=/profile"
    );

    // A password asked for is its own proof: an old session changes it with the current one.
    let mut ada = person(&app, "Ada", "ada@example.com", "10.0.0.1").await;
    signed_in_ago(&app, "ada@example.com", "11 minutes").await;
    let changed = ada
        .call(
            "/api/change-password",
            &[
                ("current_password", crate::accounts::PASSWORD),
                ("new_password", "another long passphrase"),
            ],
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
}
