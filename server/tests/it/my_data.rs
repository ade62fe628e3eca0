//! "Download my data": a person's own data as one JSON file, after the password once more
//! (or a recent sign-in), never anyone else's and never a secret; refused clearly otherwise.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use gatehouse_app::db::schema::{account, audit_event, session};
use gatehouse_app::views::SIGN_IN_AGAIN;

use crate::accounts::{user_id, PASSWORD};
use crate::artworks::{artists, create};
use crate::hardening::signed_in_ago;
use crate::support::http::{Browser, TestResponse, PUBLIC_URL};
use crate::support::TestApp;

const DOWNLOAD: &str = "/profile/data";

/// The profile's form, posted as a browser without JavaScript does (the answer is a file, or
/// a redirect back to the profile when refused).
async fn from_the_page(browser: &mut Browser<'_>, password: &str) -> TestResponse {
    download(browser, password, "text/html,application/xhtml+xml").await
}

async fn download(browser: &mut Browser<'_>, password: &str, accept: &str) -> TestResponse {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("data_password", password)
        .finish();
    let request = Request::post(DOWNLOAD)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, accept)
        .header(header::ORIGIN, PUBLIC_URL)
        .header(header::REFERER, format!("{PUBLIC_URL}/profile"))
        .body(Body::from(body))
        .unwrap();
    browser.raw(request).await
}

async fn exports_audited(app: &TestApp, email: &str) -> i64 {
    let id = user_id(app, email).await;
    audit_event::table
        .filter(audit_event::action.eq("data_exported"))
        .filter(audit_event::target_user_id.eq(id))
        .count()
        .get_result(&mut app.db.conn().await)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_person_downloads_their_own_data_and_no_secret() {
    let app = TestApp::with_access("@example.com", "").await;
    let (mut ada, _bob) = artists(&app).await;
    let ada_id = user_id(&app, "ada@example.com").await;
    let bob_id = user_id(&app, "bob@example.com").await;
    assert_eq!(
        create(&app, "ada-1", Some(&ada_id)).await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        create(&app, "bob-1", Some(&bob_id)).await.status,
        StatusCode::CREATED
    );

    let profile = ada.get("/profile").await;
    assert!(
        profile.body.contains("Download my data"),
        "{}",
        profile.body
    );
    assert!(profile.body.contains(r#"action="/profile/data""#));

    let file = from_the_page(&mut ada, PASSWORD).await;
    assert_eq!(file.status, StatusCode::OK, "{}", file.body);
    assert_eq!(file.header("content-type"), Some("application/json"));
    let disposition = file.header("content-disposition").unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"gatehouse-data-"),
        "{disposition}"
    );
    assert_eq!(file.header("cache-control"), Some("no-store"));
    let data = file.json();
    assert_eq!(data["format"], "gatehouse.data-export.v1");
    assert_eq!(data["account"]["email"], "ada@example.com");
    assert_eq!(data["account"]["id"], ada_id.as_str());
    assert_eq!(data["account"]["let_in"], true);
    assert_eq!(data["sign_in_methods"]["password"], true);
    let jobs = data["artwork_jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 1, "only her own jobs: {jobs:?}");
    assert_eq!(jobs[0]["job_id"], "ada-1");
    let sessions = data["sessions"].as_array().unwrap();
    assert!(sessions.iter().any(|s| s["this_session"] == true));
    let events = data["audit_events"].as_array().unwrap();
    assert!(
        events
            .iter()
            .any(|e| e["action"] == "sign_in" && e["by"] == "you"),
        "{events:?}"
    );

    // Nothing secret, and nothing of Bob's.
    let mut conn = app.db.conn().await;
    let hashes: Vec<Option<String>> = account::table
        .filter(account::user_id.eq(&ada_id))
        .select(account::password)
        .load(&mut conn)
        .await
        .unwrap();
    let hash = hashes.into_iter().flatten().next().unwrap();
    let digests: Vec<String> = session::table
        .filter(session::user_id.eq(&ada_id))
        .select(session::token)
        .load(&mut conn)
        .await
        .unwrap();
    assert!(!file.body.contains(&hash));
    assert!(!file.body.contains("$argon2"));
    for digest in digests {
        assert!(!file.body.contains(&digest), "a session digest in the file");
    }
    assert!(!file.body.contains(ada.cookie("gatehouse_session").unwrap()));
    assert!(!file.body.contains("bob"), "{}", file.body);
    assert_eq!(exports_audited(&app, "ada@example.com").await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_password_a_stranger_or_another_site_gets_nothing() {
    let app = TestApp::with_access("@example.com", "").await;
    let (mut ada, _bob) = artists(&app).await;

    // From the page: back to the profile, which says why beside the field.
    let refused = from_the_page(&mut ada, "not my password").await;
    assert_eq!(refused.status, StatusCode::SEE_OTHER);
    assert_eq!(refused.location(), "/profile?export=password#your-data");
    let page = ada.get("/profile?export=password").await;
    assert!(
        page.body.contains("That is not your current password."),
        "{}",
        page.body
    );
    // A script: the status and the reason.
    let refused = download(&mut ada, "", "application/json").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.json()["fields"][0]["field"], "data_password");
    // A code the page does not know shows nothing.
    let page = ada.get("/profile?export=call-555-0100").await;
    assert!(!page.body.contains("555-0100"));
    assert!(!page.body.contains(r#"role="alert""#), "{}", page.body);

    // Signed out: sign in first (a script gets 401).
    let mut stranger = app.browser_at("10.9.0.1");
    let refused = from_the_page(&mut stranger, PASSWORD).await;
    assert_eq!(refused.status, StatusCode::SEE_OTHER);
    assert_eq!(refused.location(), "/login?next=/profile");
    let refused = download(&mut stranger, PASSWORD, "application/json").await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);

    // Another site's form, with Ada's cookie and password: refused before anything runs.
    let request = Request::post(DOWNLOAD)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ORIGIN, "https://evil.example")
        .body(Body::from(format!(
            "data_password={}",
            PASSWORD.replace(' ', "+")
        )))
        .unwrap();
    assert_eq!(ada.raw(request).await.status, StatusCode::FORBIDDEN);
    // Not a form at all.
    let request = Request::post(DOWNLOAD)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ORIGIN, PUBLIC_URL)
        .body(Body::from("{}"))
        .unwrap();
    let answer = ada.raw(request).await;
    assert!(answer.status.is_client_error(), "{}", answer.status);

    assert_eq!(exports_audited(&app, "ada@example.com").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn downloads_are_limited_per_person() {
    let app = TestApp::with_access("@example.com", "").await;
    let (mut ada, _bob) = artists(&app).await;
    // Each try counts against the person's limits (the password check against sign-in's
    // too): at most ten at once, whatever their answers.
    let mut downloaded = 0;
    for _ in 0..10 {
        let answer = download(&mut ada, PASSWORD, "application/json").await;
        match answer.status {
            StatusCode::OK => downloaded += 1,
            StatusCode::TOO_MANY_REQUESTS => {}
            other => panic!("{other}: {}", answer.body),
        }
    }
    assert!(downloaded >= 5, "{downloaded}");
    let limited = download(&mut ada, PASSWORD, "application/json").await;
    assert_eq!(
        limited.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        limited.body
    );
    assert!(limited.header("retry-after").is_some());
    let from_page = from_the_page(&mut ada, PASSWORD).await;
    assert_eq!(
        from_page.location(),
        "/profile?export=rate-limited#your-data"
    );
    assert_eq!(exports_audited(&app, "ada@example.com").await, downloaded);
}

/// Someone who signs in only through a provider has no password to give: a sign-in from the
/// last ten minutes is the step-up. Their provider account is listed, its tokens are not.
#[tokio::test(flavor = "multi_thread")]
async fn a_provider_only_person_needs_a_recent_sign_in() {
    use crate::support::provider::{GithubUser, StandIn};

    let provider = StandIn::start().await;
    provider.add_github(GithubUser::new(583231, "octocat", "octo@example.com"));
    let app = TestApp::with_providers(&provider).await;
    let mut octo = app.browser_at("10.0.0.7");
    octo.through_provider("github", &[], "octocat").await;

    signed_in_ago(&app, "octo@example.com", "11 minutes").await;
    let refused = download(&mut octo, "", "application/json").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_eq!(refused.json()["error"], SIGN_IN_AGAIN);
    let refused = from_the_page(&mut octo, "").await;
    assert_eq!(
        refused.location(),
        "/profile?export=sign-in-again#your-data"
    );
    let page = octo.get("/profile?export=sign-in-again").await;
    assert!(page.body.contains(SIGN_IN_AGAIN), "{}", page.body);

    signed_in_ago(&app, "octo@example.com", "1 minute").await;
    let file = download(&mut octo, "", "application/json").await;
    assert_eq!(file.status, StatusCode::OK, "{}", file.body);
    let data = file.json();
    assert_eq!(data["sign_in_methods"]["password"], false);
    let providers = data["sign_in_methods"]["providers"].as_array().unwrap();
    assert_eq!(providers.len(), 1);
    assert_eq!(providers[0]["provider_id"], "github");
    assert_eq!(providers[0]["account_id"], "583231");
    let token: Option<String> = account::table
        .filter(account::provider_id.eq("github"))
        .select(account::access_token)
        .first(&mut app.db.conn().await)
        .await
        .unwrap();
    assert!(!file.body.contains(&token.unwrap()));
    assert!(!file.body.contains("access_token") && !file.body.contains("accessToken"));
}

/// An invited person's file never names the admin who invited them (the invitation's
/// record keeps the admin's address for the audit log, not for the export).
#[tokio::test(flavor = "multi_thread")]
async fn an_invited_persons_file_never_names_the_admin() {
    const ADMIN: &str = "boss@example.com";
    let app = TestApp::with_access("", ADMIN).await;
    let mut boss = crate::accounts::person(&app, "Boss", ADMIN, "10.0.40.1").await;
    let (posted, _) = boss
        .submit(
            "/admin",
            "/admin/invitations",
            &[
                ("email", "cleo@example.com"),
                ("role", "user"),
                ("tier", "member"),
            ],
        )
        .await;
    assert_eq!(posted.location(), "/admin?invite=sent#invitations");
    let link = app
        .mail
        .wait_for("cleo@example.com", 1)
        .await
        .link("http://gatehouse.test/invitation?token=");
    let token = link.split("token=").nth(1).unwrap().to_string();
    let mut cleo = app.browser_at("10.0.40.2");
    cleo.submit(
        &format!("/invitation?token={token}"),
        "/api/accept-invitation",
        &[("token", &token), ("name", "Cleo"), ("password", PASSWORD)],
    )
    .await;
    assert!(cleo.cookie("gatehouse_session").is_some(), "signed in");

    let file = download(&mut cleo, PASSWORD, "application/json").await;
    assert_eq!(file.status, StatusCode::OK, "{}", file.body);
    assert!(
        !file.body.to_lowercase().contains(ADMIN),
        "the admin's address is in the file: {}",
        file.body
    );
    let data = file.json();
    let events = data["audit_events"].as_array().unwrap();
    let accepted = events
        .iter()
        .find(|e| e["action"] == "invitation_accepted")
        .unwrap_or_else(|| panic!("{events:?}"));
    assert_eq!(accepted["detail"]["invited_by"], "an administrator");
}

/// What was done from a link mailed to the person, in a browser that may not be theirs, is
/// not shown as theirs: the address of whoever opened the link is not "you".
#[tokio::test(flavor = "multi_thread")]
async fn a_mailed_link_opened_in_another_browser_is_not_shown_as_the_person() {
    const OTHER_IP: &str = "10.0.50.66";
    const OTHER_BROWSER: &str = "OtherBrowser/1.0";
    let app = TestApp::with_access("@example.com", "").await;
    let mut ada = crate::accounts::person(&app, "Ada", "ada@example.com", "10.0.50.1").await;
    ada.submit(
        "/profile",
        "/api/change-email",
        &[
            ("new_email", "ada@elsewhere.example"),
            ("email_password", PASSWORD),
        ],
    )
    .await;
    let confirm = app
        .mail
        .wait_for("ada@elsewhere.example", 1)
        .await
        .link("http://gatehouse.test/email-change?token=");
    let path = confirm.trim_start_matches(PUBLIC_URL).to_string();
    let token = path.split('=').nth(1).unwrap().to_string();
    let mut other = app.browser_at(OTHER_IP);
    other.user_agent = OTHER_BROWSER.into();
    // Away from her session, the link asks for her password too.
    let fields = [("token", token.as_str()), ("password", PASSWORD)];
    let (posted, _) = other
        .submit(&path, "/api/confirm-email-change", &fields)
        .await;
    assert!(posted.status.is_redirection(), "{}", posted.body);

    let file = download(&mut ada, PASSWORD, "application/json").await;
    assert_eq!(file.status, StatusCode::OK, "{}", file.body);
    let data = file.json();
    let events = data["audit_events"].as_array().unwrap();
    let changed = events
        .iter()
        .find(|e| e["action"] == "email_changed")
        .unwrap_or_else(|| panic!("{events:?}"));
    assert_ne!(changed["by"], "you", "{changed}");
    for event in events {
        if event["by"] == "you" {
            assert_ne!(event["ip_address"], OTHER_IP, "{event}");
            assert_ne!(event["user_agent"], OTHER_BROWSER, "{event}");
        }
    }
    // Her own events keep where they came from.
    assert!(
        events
            .iter()
            .any(|e| e["by"] == "you" && e["ip_address"] == "10.0.50.1"),
        "{events:?}"
    );
}
