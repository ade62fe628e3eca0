//! Admin invitations through the real router: an admin invites from /admin (one address, a
//! pasted list, an uploaded file), the invitee follows the mailed link and signs up already
//! let in with the role and tier chosen, or signs in with a provider whose verified address
//! matches; resend, revoke, expiry, reuse, bad input and strangers are refused clearly and
//! change nothing; everything is audited. The dashboard's failing-webhooks card too.

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use diesel::prelude::*;
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use gatehouse_app::db::schema::{invitation, user, webhook_delivery};
use gatehouse_app::services::webhooks::{self, Timing, WebhookSecret, Webhooks};

use crate::accounts::{person, sign_in, sign_up, PASSWORD};
use crate::admin::events;
use crate::support::http::{Browser, TestResponse, PUBLIC_URL};
use crate::support::provider::{GithubUser, StandIn};
use crate::support::TestApp;

const ADMIN: &str = "boss@example.com";
const INVITE: &str = "/admin/invitations";
const NEW_PASSWORD: &str = "a long and unusual passphrase";

async fn admin_app() -> TestApp {
    TestApp::with_access("", ADMIN).await
}

async fn boss(app: &TestApp) -> Browser<'_> {
    person(app, "Boss", ADMIN, "10.0.40.1").await
}

/// The invite form, posted from /admin as a browser without JavaScript does.
async fn invite(
    browser: &mut Browser<'_>,
    fields: &[(&str, &str)],
) -> (TestResponse, TestResponse) {
    browser.submit("/admin", INVITE, fields).await
}

/// The token of the n-th invitation mailed to `email`.
async fn token_of(app: &TestApp, email: &str, n: usize) -> String {
    let mail = app.mail.wait_for(email, n).await;
    assert_eq!(mail.subject, "You are invited to Gatehouse");
    let link = mail.link("http://gatehouse.test/invitation?token=");
    link.split("token=").nth(1).unwrap().to_string()
}

/// The invitee's form, posted as a browser does: the redirect, and the page it led to.
async fn submit_invitee_form(
    browser: &mut Browser<'_>,
    token: &str,
    name: &str,
    password: &str,
) -> (TestResponse, TestResponse) {
    let page = format!("/invitation?token={token}");
    let fields = [("token", token), ("name", name), ("password", password)];
    browser
        .submit(&page, "/api/accept-invitation", &fields)
        .await
}

/// The invitee's form, posted as a browser does: the redirect.
async fn accept(
    browser: &mut Browser<'_>,
    token: &str,
    name: &str,
    password: &str,
) -> TestResponse {
    submit_invitee_form(browser, token, name, password).await.0
}

/// The invitee's form refused: the page it comes back to, in this browser (the refusal
/// never rides in the address).
async fn shown_after(
    browser: &mut Browser<'_>,
    token: &str,
    name: &str,
    password: &str,
) -> TestResponse {
    let (posted, shown) = submit_invitee_form(browser, token, name, password).await;
    let page = format!("/invitation?token={token}");
    assert!(posted.location().ends_with(&page), "{}", posted.location());
    shown
}

async fn flags(app: &TestApp, email: &str) -> Option<(bool, String, String, bool)> {
    user::table
        .filter(user::email.eq(email))
        .select((
            user::is_whitelisted,
            user::role,
            user::tier,
            user::email_verified,
        ))
        .first(&mut app.db.conn().await)
        .await
        .optional()
        .unwrap()
}

async fn invitations(app: &TestApp) -> i64 {
    invitation::table
        .count()
        .get_result(&mut app.db.conn().await)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invited_person_signs_up_from_the_link_let_in_with_the_role_and_tier_chosen() {
    let app = admin_app().await;
    let mut boss = boss(&app).await;

    let dashboard = boss.get("/admin").await;
    assert!(
        dashboard
            .body
            .contains(r#"<label for="invite-email">Email address to invite</label>"#),
        "{}",
        dashboard.body
    );
    assert!(dashboard.body.contains("No invitation is waiting."));

    let (posted, page) = invite(
        &mut boss,
        &[
            ("email", " Cleo@Example.com "),
            ("role", "admin"),
            ("tier", "member"),
        ],
    )
    .await;
    assert_eq!(posted.location(), "/admin?invite=sent#invitations");
    assert!(
        page.body.contains("The invitation is on its way."),
        "{}",
        page.body
    );
    assert!(page.body.contains("cleo@example.com"), "listed as pending");
    assert!(page.body.contains("Resend"));

    let token = token_of(&app, "cleo@example.com", 1).await;
    let mail = app.mail.wait_for("cleo@example.com", 1).await;
    assert!(
        mail.body.contains("boss@example.com invited you"),
        "{}",
        mail.body
    );
    assert!(mail
        .body
        .contains("as an administrator with the member tier"));
    let stored: String = invitation::table
        .select(invitation::token_hash)
        .first(&mut app.db.conn().await)
        .await
        .unwrap();
    assert_eq!(
        stored,
        gatehouse_app::services::tokens::digest(&token),
        "only the digest"
    );

    // The page the link opens.
    let page = app.get(&format!("/invitation?token={token}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.body;
    assert!(
        html.contains("boss@example.com invited <strong>cleo@example.com</strong>"),
        "{html}"
    );
    assert!(html.contains("as an administrator with the member tier"));
    assert!(html.contains(r#"<label for="field-password">Password</label>"#));

    let mut cleo = app.browser_at("10.0.40.2");
    let opened = cleo.get(&format!("/invitation?token={token}")).await;
    assert_eq!(opened.status, StatusCode::OK);
    assert!(
        opened.body.contains("<title>You are invited · Gatehouse"),
        "{}",
        opened.body
    );
    assert!(opened
        .body
        .contains(r#"<button class="button wide" type="submit">Create my account</button>"#));
    let landed = accept(&mut cleo, &token, "Cleo", NEW_PASSWORD).await;
    assert_eq!(landed.location(), "/profile");
    let profile = cleo.get("/profile").await;
    assert!(
        profile.body.contains("Your profile"),
        "signed in: {}",
        profile.body
    );
    assert_eq!(
        flags(&app, "cleo@example.com").await,
        Some((true, "admin".into(), "member".into(), true)),
        "let in, confirmed, with the role and tier"
    );
    assert_eq!(cleo.get("/admin").await.status, StatusCode::OK);

    // The link worked once.
    let mut again = app.browser_at("10.0.40.3");
    let reused = accept(&mut again, &token, "Mallory", NEW_PASSWORD).await;
    assert!(
        reused
            .location()
            .ends_with(&format!("/invitation?token={token}")),
        "back to the page, which says why: {}",
        reused.location()
    );
    let reused = again
        .call(
            "/api/accept-invitation",
            &[
                ("token", &token),
                ("name", "Mallory"),
                ("password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(reused.status, StatusCode::GONE);
    assert!(
        reused.body.contains("expired or was already used"),
        "{}",
        reused.body
    );
    let ended = again.get(&format!("/invitation?token={token}")).await;
    assert_eq!(ended.status, StatusCode::GONE);
    assert!(ended
        .body
        .contains("This invitation has expired or was already used"));

    // And she signs in with her password later.
    let mut later = app.browser_at("10.0.40.4");
    sign_in(&mut later, "cleo@example.com", NEW_PASSWORD).await;

    assert_eq!(events(&app, "invitation_sent").await, 1);
    assert_eq!(events(&app, "invitation_accepted").await, 1);
    let after = boss.get("/admin").await;
    assert!(
        !after
            .body
            .contains("Resend the invitation to cleo@example.com"),
        "no longer pending"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn two_acceptances_at_once_make_one_account() {
    let app = admin_app().await;
    let mut boss = boss(&app).await;
    invite(&mut boss, &[("email", "dora@example.com")]).await;
    let token = token_of(&app, "dora@example.com", 1).await;
    let (mut a, mut b) = (app.browser_at("10.0.41.2"), app.browser_at("10.0.41.3"));
    let fields = |name| {
        [
            ("token", token.clone()),
            ("name", name),
            ("password", NEW_PASSWORD.to_string()),
        ]
    };
    let (fa, fb) = (fields("A".to_string()), fields("B".to_string()));
    let fa: Vec<(&str, &str)> = fa.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let fb: Vec<(&str, &str)> = fb.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (ra, rb) = tokio::join!(
        a.call("/api/accept-invitation", &fa),
        b.call("/api/accept-invitation", &fb)
    );
    let mut statuses = [ra.status.as_u16(), rb.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses[0], 200, "{} {}", ra.body, rb.body);
    assert!(statuses[1] == 409 || statuses[1] == 410, "{statuses:?}");
    assert_eq!(events(&app, "invitation_accepted").await, 1);
    let users: i64 = user::table
        .filter(user::email.eq("dora@example.com"))
        .count()
        .get_result(&mut app.db.conn().await)
        .await
        .unwrap();
    assert_eq!(users, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_revoked_and_resent_links_and_bad_input_on_the_invitee_form() {
    let app = admin_app().await;
    let mut boss = boss(&app).await;
    invite(&mut boss, &[("email", "eve@example.com")]).await;
    invite(&mut boss, &[("email", "finn@example.com")]).await;
    invite(&mut boss, &[("email", "gus@example.com")]).await;
    let eve = token_of(&app, "eve@example.com", 1).await;
    let finn = token_of(&app, "finn@example.com", 1).await;
    let gus = token_of(&app, "gus@example.com", 1).await;
    let mut browser = app.browser_at("10.0.42.2");

    // A week later (set in the database): the link no longer works, and housekeeping
    // records the expiry once.
    diesel::update(invitation::table.filter(invitation::email.eq("eve@example.com")))
        .set(invitation::expires_at.eq(chrono::Utc::now() - chrono::Duration::minutes(1)))
        .execute(&mut app.db.conn().await)
        .await
        .unwrap();
    let expired = browser
        .call(
            "/api/accept-invitation",
            &[("token", &eve), ("name", "Eve"), ("password", NEW_PASSWORD)],
        )
        .await;
    assert_eq!(expired.status, StatusCode::GONE, "{}", expired.body);
    assert!(flags(&app, "eve@example.com").await.is_none());
    assert_eq!(
        gatehouse_app::services::invitations::sweep(&app.services)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        gatehouse_app::services::invitations::sweep(&app.services)
            .await
            .unwrap(),
        0
    );
    assert_eq!(events(&app, "invitation_expired").await, 1);

    // Revoked from the list.
    let finn_id: String = invitation::table
        .filter(invitation::email.eq("finn@example.com"))
        .select(invitation::id)
        .first(&mut app.db.conn().await)
        .await
        .unwrap();
    let (posted, page) = boss
        .submit("/admin", "/admin/invitations/revoke", &[("id", &finn_id)])
        .await;
    assert_eq!(posted.location(), "/admin?invite=revoked#invitations");
    assert!(
        page.body.contains("The invitation was revoked"),
        "{}",
        page.body
    );
    let revoked = browser
        .call(
            "/api/accept-invitation",
            &[
                ("token", &finn),
                ("name", "Finn"),
                ("password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(revoked.status, StatusCode::GONE);
    let (posted, _) = boss
        .submit("/admin", "/admin/invitations/revoke", &[("id", &finn_id)])
        .await;
    assert_eq!(
        posted.location(),
        "/admin?invite=gone#invitations",
        "revoked once"
    );
    assert_eq!(events(&app, "invitation_revoked").await, 1);

    // Resent: the old link is dead, the new one works.
    let gus_id: String = invitation::table
        .filter(invitation::email.eq("gus@example.com"))
        .select(invitation::id)
        .first(&mut app.db.conn().await)
        .await
        .unwrap();
    let (posted, page) = boss
        .submit("/admin", "/admin/invitations/resend", &[("id", &gus_id)])
        .await;
    assert_eq!(posted.location(), "/admin?invite=resent#invitations");
    assert!(page.body.contains("A new link is on its way"));
    let fresh = token_of(&app, "gus@example.com", 2).await;
    assert_ne!(fresh, gus);
    let old = browser
        .call(
            "/api/accept-invitation",
            &[("token", &gus), ("name", "Gus"), ("password", NEW_PASSWORD)],
        )
        .await;
    assert_eq!(old.status, StatusCode::GONE);

    // Bad input on the invitee's form: a clear refusal, the link still good.
    let short = browser
        .call(
            "/api/accept-invitation",
            &[("token", &fresh), ("name", "Gus"), ("password", "short")],
        )
        .await;
    assert_eq!(
        short.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        short.body
    );
    let shown = shown_after(&mut browser, &fresh, "", NEW_PASSWORD).await;
    assert!(
        shown
            .body
            .contains(r#"<p class="field-error" id="field-name-error">Enter your name"#),
        "{}",
        shown.body
    );
    assert!(shown.body.contains(r#"aria-invalid="true" autofocus"#));
    // The exact rule a password broke is said beside it.
    let shown = shown_after(&mut browser, &fresh, "Gus", "gus@example.com").await;
    assert!(
        shown.body.contains(r#"id="field-password-error">"#),
        "{}",
        shown.body
    );
    assert!(shown.body.contains(r#"value="Gus""#), "the name is kept");
    let garbage = browser
        .call(
            "/api/accept-invitation",
            &[
                ("token", "nonsense"),
                ("name", "Gus"),
                ("password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(garbage.status, StatusCode::GONE);

    let landed = accept(&mut browser, &fresh, "Gus", NEW_PASSWORD).await;
    assert_eq!(landed.location(), "/profile");
    assert_eq!(events(&app, "invitation_resent").await, 1);
    assert!(flags(&app, "gus@example.com").await.unwrap().0, "let in");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_invitations_are_refused_clearly_and_change_nothing() {
    let app = admin_app().await;
    let mut boss = boss(&app).await;
    let _ada = person(&app, "Ada", "ada@example.com", "10.0.43.2").await;
    app.mail_settled().await;
    let mails = app.mail.count();

    // An address with an account.
    let (posted, page) = invite(&mut boss, &[("email", "ADA@example.com")]).await;
    assert_eq!(posted.location(), "/admin?invite=member#invitations");
    assert!(
        page.body.contains("That address already has an account."),
        "{}",
        page.body
    );
    let member = boss.call(INVITE, &[("email", "ada@example.com")]).await;
    assert_eq!(member.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        member.body.contains("already has an account"),
        "{}",
        member.body
    );

    // Malformed, and foreign (a Cyrillic letter that looks like a Latin one).
    for bad in ["not-an-address", "ada@", "аda@example.com", ""] {
        let refused = boss.call(INVITE, &[("email", bad)]).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            refused.body
        );
    }
    let (posted, page) = invite(&mut boss, &[("email", "nope")]).await;
    assert_eq!(posted.location(), "/admin?invite=email#invitations");
    assert!(
        page.body.contains(r#"id="invite-email-error""#),
        "{}",
        page.body
    );
    let odd = boss
        .call(INVITE, &[("email", "x@example.com"), ("role", "owner")])
        .await;
    assert_eq!(odd.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Already invited.
    assert_eq!(
        boss.call(INVITE, &[("email", "hal@example.com")])
            .await
            .status,
        StatusCode::CREATED
    );
    let twice = boss.call(INVITE, &[("email", "hal@example.com")]).await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.body);

    // A crafted code puts no words on the page.
    let crafted = boss.get("/admin?invite=call%20555").await;
    assert!(!crafted.body.contains("555"));

    assert_eq!(invitations(&app).await, 1);
    assert_eq!(
        app.mail_settled().await.count(),
        mails + 1,
        "one mail, to hal"
    );
    assert_eq!(events(&app, "invitation_sent").await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn strangers_and_other_sites_cannot_invite_resend_or_revoke() {
    let app = admin_app().await;
    let mut boss = boss(&app).await;
    boss.call(INVITE, &[("email", "ivy@example.com")]).await;
    let id: String = invitation::table
        .select(invitation::id)
        .first(&mut app.db.conn().await)
        .await
        .unwrap();
    let mut bob = person(&app, "Bob", "bob@example.com", "10.0.44.2").await;
    let mut anonymous = app.browser_at("10.0.44.3");
    for browser in [&mut bob, &mut anonymous] {
        for (action, fields) in [
            (INVITE, vec![("email", "x@example.com")]),
            ("/admin/invitations/resend", vec![("id", id.as_str())]),
            ("/admin/invitations/revoke", vec![("id", id.as_str())]),
        ] {
            let refused = browser.call(action, &fields).await;
            assert_eq!(refused.status, StatusCode::NOT_FOUND, "{action}");
        }
    }
    // Another site's form, posted with the admin's cookie.
    let forged = Request::post(INVITE)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ORIGIN, "http://evil.test")
        .body(Body::from("email=x%40example.com"))
        .unwrap();
    assert_eq!(boss.raw(forged).await.status, StatusCode::FORBIDDEN);
    let forged = Request::post("/api/accept-invitation")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ORIGIN, "http://evil.test")
        .body(Body::from("token=x&name=x&password=x"))
        .unwrap();
    assert_eq!(anonymous.raw(forged).await.status, StatusCode::FORBIDDEN);
    assert_eq!(invitations(&app).await, 1);
    assert_eq!(events(&app, "invitation_revoked").await, 0);
    assert_eq!(events(&app, "invitation_resent").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bulk_invitation_answers_for_each_address_pasted_or_uploaded() {
    let app = admin_app().await;
    let mut boss = boss(&app).await;
    let _ada = person(&app, "Ada", "ada@example.com", "10.0.45.2").await;
    boss.call(INVITE, &[("email", "pending@example.com")]).await;

    let list = "jo@example.com\nnot an address\n\nJO@example.com\nada@example.com\npending@example.com\nkim@example.com\n";
    let answer = boss
        .call(INVITE, &[("addresses", list), ("tier", "member")])
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let results: Vec<(String, String)> = answer.json()["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["email"].as_str().unwrap().into(),
                r["result"].as_str().unwrap().into(),
            )
        })
        .collect();
    let expected = [
        ("jo@example.com", "invited"),
        ("not an address", "invalid"),
        ("jo@example.com", "duplicate"),
        ("ada@example.com", "member"),
        ("pending@example.com", "pending"),
        ("kim@example.com", "invited"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(results, expected);
    assert_eq!(token_of(&app, "kim@example.com", 1).await.len(), 43);

    // A CSV upload from the page (multipart), with a header line; the answer is kept for
    // this admin and shown on the page the browser goes back to.
    let boundary = "XyZ123";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"addresses\"\r\n\r\n\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"people.csv\"\r\nContent-Type: text/csv\r\n\r\nemail,name\r\nlee@example.com,Lee\r\n<b>x</b>,Bad\r\n\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"role\"\r\n\r\nuser\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"tier\"\r\n\r\nfree\r\n--{boundary}--\r\n"
    );
    let request = Request::post(INVITE)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .header(header::ACCEPT, "text/html")
        .header(header::ORIGIN, PUBLIC_URL)
        .body(Body::from(body))
        .unwrap();
    let posted = boss.raw(request).await;
    assert_eq!(posted.status, StatusCode::SEE_OTHER, "{}", posted.body);
    let location = posted.location().to_string();
    assert!(location.starts_with("/admin?invite_result="), "{location}");
    let page = boss.get(location.split('#').next().unwrap()).await;
    assert!(page.body.contains("1 of 2 invited:"), "{}", page.body);
    assert!(page
        .body
        .contains("<li><strong>lee@example.com</strong>: invited</li>"));
    assert!(page.body.contains("&lt;b&gt;x&lt;/b&gt;"), "escaped");
    token_of(&app, "lee@example.com", 1).await;

    // Nobody else sees it.
    let mut other = person(&app, "Other", "other@example.com", "10.0.45.3").await;
    diesel::update(user::table.filter(user::email.eq("other@example.com")))
        .set(user::role.eq("admin"))
        .execute(&mut app.db.conn().await)
        .await
        .unwrap();
    let theirs = other.get(location.split('#').next().unwrap()).await;
    assert_eq!(theirs.status, StatusCode::OK);
    assert!(!theirs.body.contains("lee@example.com</strong>: invited"));

    // Too many at once is refused whole.
    let many: String = (0..101).map(|i| format!("p{i}@example.com\n")).collect();
    let refused = boss.call(INVITE, &[("addresses", &many)]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test(flavor = "multi_thread")]
async fn invitations_are_rate_limited_per_admin() {
    let app = admin_app().await;
    let mut boss = boss(&app).await;
    let mut statuses = Vec::new();
    for i in 0..12 {
        let email = format!("r{i}@example.com");
        statuses.push(boss.call(INVITE, &[("email", &email)]).await.status);
    }
    assert!(
        statuses[..10].iter().all(|s| *s == StatusCode::CREATED),
        "{statuses:?}"
    );
    assert_eq!(statuses[10], StatusCode::TOO_MANY_REQUESTS);
    let limited = boss.call(INVITE, &[("email", "late@example.com")]).await;
    assert!(limited.header("retry-after").is_some());
    assert_eq!(invitations(&app).await, 10);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_provider_sign_in_with_the_invited_verified_address_accepts_the_invitation() {
    let provider = StandIn::start().await;
    provider.add_github(GithubUser::new(4242, "nia-gh", "nia@example.com"));
    let app = TestApp::with_providers(&provider).await;
    let mut boss = person(&app, "Boss", ADMIN, "10.0.46.1").await;
    diesel::update(user::table.filter(user::email.eq(ADMIN)))
        .set(user::role.eq("admin"))
        .execute(&mut app.db.conn().await)
        .await
        .unwrap();
    let (posted, _) = invite(
        &mut boss,
        &[("email", "nia@example.com"), ("tier", "member")],
    )
    .await;
    assert_eq!(posted.location(), "/admin?invite=sent#invitations");

    let mut nia = app.browser_at("10.0.46.2");
    let landed = nia.through_provider("github", &[], "nia-gh").await;
    assert!(landed.status.is_redirection(), "{}", landed.body);
    assert_eq!(
        flags(&app, "nia@example.com").await,
        Some((true, "user".into(), "member".into(), true))
    );
    assert_eq!(events(&app, "invitation_accepted").await, 1);
    assert_eq!(
        nia.call("/api/my-overview", &[]).await.status,
        StatusCode::OK
    );

    // A password account made meanwhile with an invited address: the invitation applies
    // once the address is confirmed and they sign in.
    invite(&mut boss, &[("email", "omar@example.com")]).await;
    token_of(&app, "omar@example.com", 1).await;
    let mut omar = app.browser_at("10.0.46.3");
    sign_up(&mut omar, "Omar", "omar@example.com").await;
    let confirm = app.mail.wait_for("omar@example.com", 2).await;
    crate::accounts::confirm(
        &mut omar,
        &confirm.link("http://gatehouse.test/verify-email"),
    )
    .await;
    sign_in(&mut omar, "omar@example.com", PASSWORD).await;
    assert!(flags(&app, "omar@example.com").await.unwrap().0, "let in");
    assert_eq!(events(&app, "invitation_accepted").await, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_accepted_invitation_is_a_let_in_for_the_webhooks_and_failing_deliveries_show_on_admin()
{
    // An endpoint nobody answers: every delivery fails.
    let timing = Timing {
        first_retry: Duration::from_secs(60),
        longest_retry: Duration::from_secs(60),
        give_up_after: Duration::from_secs(3600),
        timeout: Duration::from_secs(2),
        poll: Duration::from_millis(100),
    };
    let hooks = Webhooks::new(
        &["http://127.0.0.1:9/hooks".parse().unwrap()],
        WebhookSecret::parse(crate::support::receiver::WEBHOOK_SECRET).unwrap(),
        timing,
    );
    let app = TestApp::with_webhooks("", ADMIN, hooks).await;
    let mut boss = boss(&app).await;
    invite(
        &mut boss,
        &[
            ("email", "pia@example.com"),
            ("role", "admin"),
            ("tier", "member"),
        ],
    )
    .await;
    let token = token_of(&app, "pia@example.com", 1).await;
    let mut pia = app.browser_at("10.0.47.2");
    assert_eq!(
        accept(&mut pia, &token, "Pia", NEW_PASSWORD)
            .await
            .location(),
        "/profile"
    );
    let types: Vec<String> = webhook_delivery::table
        .filter(webhook_delivery::body.like("%pia@example.com%"))
        .order(webhook_delivery::seq)
        .select(webhook_delivery::event_type)
        .load(&mut app.db.conn().await)
        .await
        .unwrap();
    assert_eq!(
        types,
        ["user.let_in", "user.role_changed", "user.tier_changed"]
    );

    // The worker fails to deliver; the dashboard says so.
    let mut failing = Vec::new();
    for _ in 0..100 {
        failing = webhooks::failing(&app.services).await.unwrap();
        if !failing.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!failing.is_empty(), "a failed attempt is recorded");
    assert!(failing
        .iter()
        .all(|f| f.next_attempt_at.is_some() && f.attempts >= 1));
    // One given up an hour ago, one delivered, one given up two days ago.
    app.db
        .conn()
        .await
        .batch_execute(
            "INSERT INTO webhook_delivery (event_id, event_type, endpoint, body, attempts, last_error, failed_at)
             VALUES ('e1', 'user.banned', 'http://gone.test/<x>', '{}', 9, 'HTTP 500 <b>', now() - interval '1 hour'),
                    ('e2', 'user.deleted', 'http://ok.test/', '{}', 2, NULL, NULL),
                    ('e3', 'user.unbanned', 'http://old.test/', '{}', 9, 'HTTP 500', now() - interval '2 days');
             UPDATE webhook_delivery SET delivered_at = now() WHERE event_id = 'e2';",
        )
        .await
        .unwrap();
    let failing = webhooks::failing(&app.services).await.unwrap();
    let endpoints: Vec<&str> = failing.iter().map(|f| f.endpoint.as_str()).collect();
    assert!(endpoints.contains(&"http://gone.test/<x>"), "{endpoints:?}");
    assert!(!endpoints.contains(&"http://ok.test/") && !endpoints.contains(&"http://old.test/"));
    let page = boss.get("/admin").await;
    assert!(
        page.body.contains("Failing webhook deliveries"),
        "{}",
        page.body
    );
    assert!(page.body.contains("http://gone.test/&lt;x&gt;"));
    assert!(page.body.contains("HTTP 500 &lt;b&gt;"));
    assert!(page.body.contains("given up"));
    assert!(page.body.contains("user.let_in"));
    assert!(!page.body.contains("old.test"));
}

#[tokio::test(flavor = "multi_thread")]
async fn without_webhooks_the_dashboard_has_no_failing_deliveries_card() {
    let app = admin_app().await;
    let mut boss = boss(&app).await;
    let page = boss.get("/admin").await;
    assert!(page.body.contains("Invitations"));
    assert!(!page.body.contains("Failing webhook deliveries"));
}
