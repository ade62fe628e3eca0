//! A change of email address: asked for on the profile with the password, confirmed from the
//! link mailed to the new address, undone from the link mailed to the old one (every session
//! ends); another account's address is never revealed; bad input and strangers are refused.

use axum::http::StatusCode;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use gatehouse_app::db::schema::{account, email_change, invitation, passkey, session, user};
use gatehouse_app::services::accounts;
use serde_json::json;

use crate::accounts::{person, sign_in, user_id, PASSWORD};
use crate::admin::events;
use crate::support::http::{Browser, TestResponse};
use crate::support::TestApp;

const PROFILE: &str = "/profile";
const NEW_PASSWORD: &str = "a fresh and unusual passphrase";
const CHANGE: &str = "/api/change-email";

/// The profile's "Email address" form, posted as a browser without JavaScript does.
async fn ask(
    browser: &mut Browser<'_>,
    new_email: &str,
    password: &str,
) -> (TestResponse, TestResponse) {
    browser
        .submit(
            PROFILE,
            CHANGE,
            &[("new_email", new_email), ("email_password", password)],
        )
        .await
}

/// The address and the confirmation of the user `id`, as the database has them.
async fn address_of(app: &TestApp, id: &str) -> (String, bool, String) {
    user::table
        .find(id)
        .select((user::email, user::email_verified, user::role))
        .first(&mut app.db.conn().await)
        .await
        .unwrap()
}

async fn sessions_of(app: &TestApp, id: &str) -> i64 {
    session::table
        .filter(session::user_id.eq(id))
        .count()
        .get_result(&mut app.db.conn().await)
        .await
        .unwrap()
}

fn path_of(link: &str) -> String {
    link.trim_start_matches("http://gatehouse.test").to_string()
}

/// Opens a confirmation link's page and gives the password of the account that asked.
async fn press_with(
    browser: &mut Browser<'_>,
    link: &str,
    password: &str,
) -> (TestResponse, TestResponse) {
    let path = path_of(link);
    let token = path.split('=').nth(1).unwrap().to_string();
    let fields = [("token", token.as_str()), ("password", password)];
    browser
        .submit(&path, "/api/confirm-email-change", &fields)
        .await
}

/// Opens a link's page and presses its one button: the token is the link's own.
async fn press(
    browser: &mut Browser<'_>,
    link: &str,
    action: &str,
) -> (TestResponse, TestResponse) {
    let path = path_of(link);
    let token = path.split('=').nth(1).unwrap().to_string();
    browser.submit(&path, action, &[("token", &token)]).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_address_counts_only_once_confirmed_and_grants_nothing_by_itself() {
    let app = TestApp::with_access("", "boss@example.com").await;
    let mut ada = person(&app, "Ada", "ada@example.com", "10.0.0.1").await;
    let id = user_id(&app, "ada@example.com").await;

    let profile = ada.get(PROFILE).await;
    assert!(profile
        .body
        .contains(r#"<h2 id="email-title">Email address</h2>"#));
    assert!(profile.body.contains(r#"action="/api/change-email""#));
    assert!(profile
        .body
        .contains(r#"<label for="field-new_email">New email address</label>"#));

    let (posted, page) = ask(&mut ada, "Boss@Example.com", PASSWORD).await;
    assert_eq!(posted.location(), "/profile#email-address");
    assert!(
        page.body
            .contains("Waiting for you to confirm <strong>boss@example.com</strong>"),
        "{}",
        page.body
    );
    // Until it is confirmed nothing changes, and ADMIN_EMAILS does not apply.
    assert_eq!(
        address_of(&app, &id).await,
        ("ada@example.com".into(), true, "user".into())
    );
    let confirm = app.mail.wait_for("boss@example.com", 1).await;
    assert_eq!(
        confirm.subject,
        "Confirm your new email address for Gatehouse"
    );
    let confirm = confirm.link("http://gatehouse.test/email-change?token=");
    let told = app.mail.wait_for("ada@example.com", 2).await;
    assert!(told.body.contains("to boss@example.com"), "{}", told.body);
    told.link("http://gatehouse.test/email-change?undo=");

    // Opening the link changes nothing (mail scanners open links); the button does.
    let opened = ada.get(&path_of(&confirm)).await;
    assert_eq!(opened.status, StatusCode::OK);
    assert!(
        opened.body.contains("Confirm my new address"),
        "{}",
        opened.body
    );
    assert!(opened
        .body
        .contains(r#"action="/api/confirm-email-change""#));
    assert_eq!(address_of(&app, &id).await.0, "ada@example.com");

    // In a browser where she is not signed in, the link alone is not enough: her password
    // proves that the change is hers.
    let mut phone = app.browser_at("10.0.0.9");
    let opened = phone.get(&path_of(&confirm)).await;
    assert!(opened.body.contains(
        r#"<label for="field-password">Password of the account that asked for this change</label>"#
    ));
    let (posted, page) = press_with(&mut phone, &confirm, PASSWORD).await;
    assert_eq!(posted.location(), "/email-change?done=confirmed");
    assert!(
        page.body.contains("Your email address is changed"),
        "{}",
        page.body
    );
    assert_eq!(
        address_of(&app, &id).await,
        ("boss@example.com".into(), true, "user".into()),
        "confirmed; ADMIN_EMAILS does not apply to an address taken by a change"
    );
    assert_eq!(events(&app, "email_changed").await, 1);
    assert_eq!(events(&app, "email_change_grants_withheld").await, 1);
    // Her session goes on; her sign-in is the new address.
    assert!(ada.get(PROFILE).await.body.contains("boss@example.com"));
    sign_in(&mut app.browser(), "boss@example.com", PASSWORD).await;
    assert_eq!(
        address_of(&app, &id).await.2,
        "user",
        "nor at a later sign-in"
    );
    let old = app
        .browser()
        .call(
            "/api/sign-in",
            &[("email", "ada@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);

    // The old address is told, with a link to undo it; the confirmation link is spent.
    let changed = app.mail.wait_for("ada@example.com", 3).await;
    assert_eq!(changed.subject, "Your Gatehouse email address was changed");
    changed.link("http://gatehouse.test/email-change?undo=");
    let again = phone.get(&path_of(&confirm)).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert!(again
        .body
        .contains("This link has expired or was already used."));
    let token = confirm.split('=').nth(1).unwrap();
    let reused = phone
        .call("/api/confirm-email-change", &[("token", token)])
        .await;
    assert_eq!(reused.status, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_old_address_undoes_a_confirmed_change_and_every_session_ends() {
    let app = TestApp::with_access("@example.com", "").await;
    let mut ada = person(&app, "Ada", "ada@example.com", "10.0.0.1").await;
    let id = user_id(&app, "ada@example.com").await;
    ask(&mut ada, "ada@elsewhere.example", PASSWORD).await;
    let undo = app
        .mail
        .wait_for("ada@example.com", 2)
        .await
        .link("http://gatehouse.test/email-change?undo=");
    let confirm = app
        .mail
        .wait_for("ada@elsewhere.example", 1)
        .await
        .link("http://gatehouse.test/email-change?token=");
    press(&mut ada, &confirm, "/api/confirm-email-change").await;
    assert_eq!(address_of(&app, &id).await.0, "ada@elsewhere.example");

    // The first mail's link still works after the confirmation: the owner reads it first.
    let mut owner = app.browser_at("10.0.0.2");
    let page = owner.get(&path_of(&undo)).await;
    assert!(
        page.body
            .contains("asked to change its email address to <strong>ada@elsewhere.example"),
        "{}",
        page.body
    );
    assert_eq!(sessions_of(&app, &id).await, 1);
    let (posted, page) = press(&mut owner, &undo, "/api/undo-email-change").await;
    // Whoever asked knew the password: it is cleared, and the owner chooses a new one.
    let reset = posted.location().to_string();
    assert!(reset.starts_with("/reset-password?token="), "{reset}");
    assert!(page.body.contains("Choose a new password"), "{}", page.body);
    assert_eq!(
        address_of(&app, &id).await.0,
        "ada@example.com",
        "the old address is back"
    );
    assert_eq!(sessions_of(&app, &id).await, 0);
    assert_eq!(ada.get(PROFILE).await.location(), "/login?next=/profile");
    assert_eq!(events(&app, "email_change_undone").await, 1);
    let done = app.mail.wait_for("ada@example.com", 4).await;
    assert_eq!(
        done.subject,
        "The change of your Gatehouse email address was undone"
    );
    // Undoing works once, with either link.
    let second = app
        .mail
        .wait_for("ada@example.com", 3)
        .await
        .link("http://gatehouse.test/email-change?undo=");
    assert_eq!(
        owner.get(&path_of(&second)).await.status,
        StatusCode::BAD_REQUEST
    );
    let refused = owner
        .call(
            "/api/sign-in",
            &[("email", "ada@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNAUTHORIZED,
        "the old password is gone"
    );
    let token = reset.split('=').nth(1).unwrap();
    let fields = [("token", token), ("password", NEW_PASSWORD)];
    owner.submit(&reset, "/api/reset-password", &fields).await;
    sign_in(&mut owner, "ada@example.com", NEW_PASSWORD).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_still_waiting_is_dropped_by_undo_or_withdrawn_on_the_profile() {
    let app = TestApp::new().await;
    let mut ada = person(&app, "Ada", "ada@example.com", "10.0.0.1").await;
    let id = user_id(&app, "ada@example.com").await;
    ask(&mut ada, "first@example.net", PASSWORD).await;
    let first = app
        .mail
        .wait_for("first@example.net", 1)
        .await
        .link("http://gatehouse.test/email-change?token=");
    // A second request replaces the first: its link stops working.
    ask(&mut ada, "second@example.net", PASSWORD).await;
    assert_eq!(
        ada.get(&path_of(&first)).await.status,
        StatusCode::BAD_REQUEST
    );
    let (posted, page) = ada.submit(PROFILE, "/api/withdraw-email-change", &[]).await;
    assert_eq!(posted.location(), "/profile#email-address");
    assert!(!page.body.contains("Waiting for you to confirm"));
    let second = app
        .mail
        .wait_for("second@example.net", 1)
        .await
        .link("http://gatehouse.test/email-change?token=");
    assert_eq!(
        ada.get(&path_of(&second)).await.status,
        StatusCode::BAD_REQUEST
    );

    ask(&mut ada, "third@example.net", PASSWORD).await;
    let undo = app
        .mail
        .wait_for("ada@example.com", 4)
        .await
        .link("http://gatehouse.test/email-change?undo=");
    press(&mut app.browser(), &undo, "/api/undo-email-change").await;
    let third = app
        .mail
        .wait_for("third@example.net", 1)
        .await
        .link("http://gatehouse.test/email-change?token=");
    assert_eq!(
        ada.get(&path_of(&third)).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(address_of(&app, &id).await.0, "ada@example.com");
    assert_eq!(
        sessions_of(&app, &id).await,
        0,
        "undoing ends every session"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn another_accounts_address_is_not_revealed_and_cannot_be_taken() {
    let app = TestApp::new().await;
    let mut ada = person(&app, "Ada", "ada@example.com", "10.0.0.1").await;
    let _bob = person(&app, "Bob", "bob@example.com", "10.0.0.2").await;
    let ada_id = user_id(&app, "ada@example.com").await;

    let (free, free_page) = ask(&mut ada, "free@example.net", PASSWORD).await;
    let (taken, taken_page) = ask(&mut ada, "bob@example.com", PASSWORD).await;
    assert_eq!(free.status, taken.status);
    assert_eq!(free.location(), taken.location());
    assert!(taken_page
        .body
        .contains("Waiting for you to confirm <strong>bob@example.com</strong>"));
    assert!(free_page.body.contains("Waiting for you to confirm"));

    // Bob is told; no link that could take his address is mailed anywhere.
    let told = app.mail.wait_for("bob@example.com", 2).await;
    assert_eq!(
        told.subject,
        "Someone tried to move a Gatehouse account to your address"
    );
    assert!(!told.body.contains("/email-change?token="), "{}", told.body);
    let pending: i64 = email_change::table
        .filter(email_change::user_id.eq(&ada_id))
        .count()
        .get_result(&mut app.db.conn().await)
        .await
        .unwrap();
    assert_eq!(
        pending, 1,
        "one change waits, and it can never be confirmed"
    );
    assert_eq!(address_of(&app, &ada_id).await.0, "ada@example.com");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_strangers_and_dead_links_are_refused_and_nothing_changes() {
    let app = TestApp::new().await;
    let mut ada = person(&app, "Ada", "ada@example.com", "10.0.0.1").await;
    let id = user_id(&app, "ada@example.com").await;

    // A malformed address: said beside the field, what was typed kept.
    let (posted, page) = ask(&mut ada, "not an address", PASSWORD).await;
    // Back to the form; the refusal rides in this browser's cookie, not in the address.
    assert_eq!(posted.location(), "http://gatehouse.test/profile");
    assert!(
        page.body.contains(r#"<p class="field-error" id="field-new_email-error">Enter an email address like name@example.com.</p>"#),
        "{}",
        page.body
    );
    assert!(page.body.contains(r#"value="not an address""#));
    assert!(page.body.contains(r#"aria-invalid="true""#));

    for (new_email, password, field, message) in [
        (
            "ada@example.com",
            PASSWORD,
            "new_email",
            "That is already your address.",
        ),
        (
            "new@example.net",
            "wrong password",
            "email_password",
            "That is not your current password.",
        ),
        (
            "new@example.net",
            "",
            "email_password",
            "That is not your current password.",
        ),
    ] {
        let answer = ada
            .call(
                CHANGE,
                &[("new_email", new_email), ("email_password", password)],
            )
            .await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{new_email}"
        );
        let error = answer.json();
        assert_eq!(error["fields"][0]["field"], field, "{error}");
        assert_eq!(error["fields"][0]["message"], message);
    }
    // Someone not signed in, and another site's form.
    let stranger = app
        .browser()
        .call(
            CHANGE,
            &[("new_email", "x@example.net"), ("email_password", PASSWORD)],
        )
        .await;
    assert_eq!(stranger.status, StatusCode::UNAUTHORIZED);
    let forged = ada
        .raw(
            axum::http::Request::post(CHANGE)
                .header("content-type", "application/x-www-form-urlencoded")
                .header("origin", "http://evil.example")
                .body(axum::body::Body::from(
                    "new_email=evil%40example.net&email_password=x",
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let rows: i64 = email_change::table
        .count()
        .get_result(&mut app.db.conn().await)
        .await
        .unwrap();
    assert_eq!(rows, 0, "nothing was asked for");

    // Made-up, malformed and expired links.
    for link in [
        "/email-change?token=nonsense",
        "/email-change?undo=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let page = ada.get(link).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{link}");
        assert!(page
            .body
            .contains("This link has expired or was already used."));
    }
    let made_up = ada
        .call("/api/confirm-email-change", &[("token", "nonsense")])
        .await;
    assert_eq!(made_up.status, StatusCode::BAD_REQUEST);
    ask(&mut ada, "late@example.net", PASSWORD).await;
    let link = app
        .mail
        .wait_for("late@example.net", 1)
        .await
        .link("http://gatehouse.test/email-change?token=");
    diesel::update(email_change::table)
        .set(email_change::expires_at.eq(chrono::Utc::now() - chrono::Duration::minutes(1)))
        .execute(&mut app.db.conn().await)
        .await
        .unwrap();
    assert_eq!(
        ada.get(&path_of(&link)).await.status,
        StatusCode::BAD_REQUEST
    );
    let token = link.split('=').nth(1).unwrap();
    let late = ada
        .call("/api/confirm-email-change", &[("token", token)])
        .await;
    assert_eq!(late.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        late.json()["message"],
        "This link has expired. Ask for a new one below."
    );
    assert_eq!(address_of(&app, &id).await.0, "ada@example.com");

    // An unknown page is still "Page not found".
    let missing = ada.get("/email-change").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.contains("Page not found"));
}

#[tokio::test(flavor = "multi_thread")]
async fn asking_again_and_again_is_limited() {
    let app = TestApp::new().await;
    let mut ada = person(&app, "Ada", "ada@example.com", "10.0.0.1").await;
    // Each request also checks the password, which counts as a sign-in: whichever limit
    // is reached first, the answer is 429 with a wait, and nothing more is mailed.
    let mut granted = 0;
    let limited = loop {
        let new_email = format!("n{granted}@example.net");
        let answer = ada
            .call(
                CHANGE,
                &[("new_email", &new_email), ("email_password", PASSWORD)],
            )
            .await;
        if !answer.status.is_success() {
            break answer;
        }
        granted += 1;
        assert!(granted <= 10, "never limited");
    };
    assert_eq!(
        limited.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        limited.body
    );
    assert!(limited.header("retry-after").is_some());
    assert!(granted >= 5, "{granted}");
    let rows: i64 = email_change::table
        .count()
        .get_result(&mut app.db.conn().await)
        .await
        .unwrap();
    assert_eq!(rows, 1, "each request replaced the one before");
}

#[tokio::test(flavor = "multi_thread")]
async fn better_auths_change_email_asks_the_same() {
    let app = TestApp::with_better_auth(&["http://app.example"]).await;
    let mut ada = person(&app, "Ada", "ada@example.com", "10.0.0.1").await;
    let call = |body: serde_json::Value| {
        axum::http::Request::post("/api/auth/change-email")
            .header("origin", "http://app.example")
            .header("content-type", "application/json")
            .body(axum::body::Body::from(body.to_string()))
            .unwrap()
    };
    let bad = ada
        .raw(call(json!({ "newEmail": "nope", "password": PASSWORD })))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json()["message"], "Invalid email");
    let same = ada
        .raw(call(
            json!({ "newEmail": "ada@example.com", "password": PASSWORD }),
        ))
        .await;
    assert_eq!(same.json()["message"], "Email is the same");
    let no_password = ada
        .raw(call(json!({ "newEmail": "ada@new.example" })))
        .await;
    assert_eq!(no_password.status, StatusCode::BAD_REQUEST);
    assert_eq!(no_password.json()["message"], "Invalid password");
    let stranger = app
        .browser()
        .raw(call(
            json!({ "newEmail": "ada@new.example", "password": PASSWORD }),
        ))
        .await;
    assert_eq!(stranger.status, StatusCode::UNAUTHORIZED);

    let asked = ada
        .raw(call(json!({ "newEmail": "ada@new.example", "password": PASSWORD, "callbackURL": "/profile" })))
        .await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
    assert_eq!(asked.json(), json!({ "status": true }));
    let link = app
        .mail
        .wait_for("ada@new.example", 1)
        .await
        .link("http://gatehouse.test/email-change?token=");
    press_with(&mut app.browser(), &link, PASSWORD).await;
    let id = user_id(&app, "ada@new.example").await;
    assert_eq!(address_of(&app, &id).await.0, "ada@new.example");
}

/// The attack of issue 37: Mallory, with any account, asks to move it to Bob's address, which
/// carries an admin invitation, ADMIN_EMAILS and ALLOWLIST. Bob gets a genuine mail and
/// presses "Confirm". His click must hand Mallory nothing: without her session or password
/// it confirms nothing, and even a change she confirms herself gets nothing the address was
/// given, then or at a later sign-in.
#[tokio::test(flavor = "multi_thread")]
async fn an_address_owners_click_hands_the_requester_nothing() {
    let app = TestApp::with_access("@corp.example", "boss@example.com, bob@corp.example").await;
    let mut boss = person(&app, "Boss", "boss@example.com", "10.0.1.1").await;
    let (posted, _) = boss
        .submit(
            "/admin",
            "/admin/invitations",
            &[("email", "carol@corp.example"), ("role", "admin")],
        )
        .await;
    assert!(posted.status.is_redirection(), "{}", posted.body);
    let rounds = [
        ("bob@corp.example", 1, "mallory@example.net", "10.0.1.2"),
        ("carol@corp.example", 2, "mal@example.org", "10.0.1.4"),
    ];
    for (victim, nth_mail, mallorys, ip) in rounds {
        let mut mallory = person(&app, "Mallory", mallorys, ip).await;
        let id = user_id(&app, mallorys).await;
        ask(&mut mallory, victim, PASSWORD).await;
        let mail = app.mail.wait_for(victim, nth_mail).await;
        assert_eq!(mail.subject, "Confirm your new email address for Gatehouse");
        let link = mail.link("http://gatehouse.test/email-change?token=");

        // The victim, in their own browser, presses the button: refused, beside the
        // password field, and nothing changes.
        let mut bob = app.browser_at("10.0.1.3");
        let (posted, page) = press(&mut bob, &link, "/api/confirm-email-change").await;
        assert_ne!(posted.location(), "/email-change?done=confirmed");
        assert!(
            page.body.contains(accounts::NOT_THE_REQUESTER),
            "{}",
            page.body
        );
        let token = link.split('=').nth(1).unwrap();
        let answer = bob
            .call(
                "/api/confirm-email-change",
                &[("token", token), ("password", "guess")],
            )
            .await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            answer.body
        );
        assert_eq!(
            address_of(&app, &id).await,
            (mallorys.into(), true, "user".into())
        );

        // Had she the link, her own confirmation still brings her nothing of the address's,
        // then or at a later sign-in.
        press(&mut mallory, &link, "/api/confirm-email-change").await;
        let (email, _, role) = address_of(&app, &id).await;
        assert_eq!((email.as_str(), role.as_str()), (victim, "user"));
        sign_in(&mut app.browser(), victim, PASSWORD).await;
        let (whitelisted, role): (bool, String) = user::table
            .find(&id)
            .select((user::is_whitelisted, user::role))
            .first(&mut app.db.conn().await)
            .await
            .unwrap();
        assert_eq!((whitelisted, role.as_str()), (false, "user"), "{victim}");
    }
    // Carol's invitation still waits for her; admins were told of both addresses.
    let pending: i64 = invitation::table
        .filter(invitation::email.eq("carol@corp.example"))
        .filter(invitation::accepted_at.is_null())
        .count()
        .get_result(&mut app.db.conn().await)
        .await
        .unwrap();
    assert_eq!(pending, 1);
    assert_eq!(events(&app, "email_change_grants_withheld").await, 2);
}

/// A thief with the password moves V to A1, then A1 to A2, and adds a passkey, an
/// authenticator app and a provider meanwhile. V's undo link (the first one mailed) gives
/// the account back: V's address, none of what was added, no session, no known password.
#[tokio::test(flavor = "multi_thread")]
async fn the_owners_undo_gives_the_account_back_after_a_chain_of_changes() {
    let app = TestApp::new().await;
    let _vera = person(&app, "Vera", "vera@example.com", "10.0.2.1").await;
    let id = user_id(&app, "vera@example.com").await;
    // What Vera had before stays: her GitHub account, connected yesterday.
    {
        use diesel::sql_query;
        sql_query(format!(
            "INSERT INTO account (id, \"accountId\", \"providerId\", \"userId\", \"createdAt\", \"updatedAt\") \
             VALUES ('acc-vera', '1001', 'github', '{id}', now() - interval '1 day', now())"
        ))
        .execute(&mut app.db.conn().await)
        .await
        .unwrap();
    }

    let mut thief = app.browser_at("10.0.2.66");
    sign_in(&mut thief, "vera@example.com", PASSWORD).await;
    ask(&mut thief, "a1@thief.example", PASSWORD).await;
    let undo = app
        .mail
        .wait_for("vera@example.com", 2)
        .await
        .link("http://gatehouse.test/email-change?undo=");
    let confirm = app.mail.wait_for("a1@thief.example", 1).await;
    press(
        &mut thief,
        &confirm.link("http://gatehouse.test/email-change?token="),
        "/api/confirm-email-change",
    )
    .await;
    ask(&mut thief, "a2@thief.example", PASSWORD).await;
    let confirm = app.mail.wait_for("a2@thief.example", 1).await;
    press(
        &mut thief,
        &confirm.link("http://gatehouse.test/email-change?token="),
        "/api/confirm-email-change",
    )
    .await;
    assert_eq!(address_of(&app, &id).await.0, "a2@thief.example");
    // The later change's undo link went to A1, the thief's: it must not outlive Vera's undo.
    let thiefs_undo = app
        .mail
        .wait_for("a1@thief.example", 2)
        .await
        .link("http://gatehouse.test/email-change?undo=");
    let mut device = crate::passkeys::device();
    crate::passkeys::add_passkey(&mut thief, &mut device, "Thief's key").await;
    {
        use diesel_async::SimpleAsyncConnection;
        app.db
            .conn()
            .await
            .batch_execute(&format!(
                "INSERT INTO \"twoFactor\" (id, secret, \"backupCodes\", \"userId\") \
                 VALUES ('tf-thief', 'sealed', 'sealed', '{id}'); \
                 UPDATE \"user\" SET \"twoFactorEnabled\" = true WHERE id = '{id}'; \
                 INSERT INTO account (id, \"accountId\", \"providerId\", \"userId\", \"createdAt\", \"updatedAt\") \
                 VALUES ('acc-thief', '666', 'github', '{id}', now(), now())"
            ))
            .await
            .unwrap();
    }

    let mut vera = app.browser_at("10.0.2.2");
    let (posted, _) = press(&mut vera, &undo, "/api/undo-email-change").await;
    assert!(
        posted.location().starts_with("/reset-password?token="),
        "{}",
        posted.location()
    );
    assert_eq!(address_of(&app, &id).await.0, "vera@example.com");
    assert_eq!(sessions_of(&app, &id).await, 0);
    let passkeys: i64 = passkey::table
        .filter(passkey::user_id.eq(&id))
        .count()
        .get_result(&mut app.db.conn().await)
        .await
        .unwrap();
    assert_eq!(passkeys, 0);
    let (two_factor, providers, password): (bool, Vec<String>, Option<String>) = (
        user::table
            .find(&id)
            .select(user::two_factor_enabled)
            .first(&mut app.db.conn().await)
            .await
            .unwrap(),
        account::table
            .filter(account::user_id.eq(&id))
            .filter(account::provider_id.ne("credential"))
            .select(account::id)
            .load(&mut app.db.conn().await)
            .await
            .unwrap(),
        account::table
            .filter(account::user_id.eq(&id))
            .filter(account::provider_id.eq("credential"))
            .select(account::password)
            .first(&mut app.db.conn().await)
            .await
            .unwrap(),
    );
    assert_eq!(
        (two_factor, providers, password),
        (false, vec!["acc-vera".to_string()], None)
    );
    let undone = &crate::two_factor::audited(&app, "email_change_undone").await[0];
    assert_eq!(undone["removed"]["passkeys"], 1, "{undone}");
    assert_eq!(undone["removed"]["authenticator_apps"], 1);
    assert_eq!(undone["removed"]["providers"], 1);

    // The thief's password no longer signs in, nor does the thief's undo link do anything.
    let refused = thief
        .call(
            "/api/sign-in",
            &[("email", "vera@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        thief.get(&path_of(&thiefs_undo)).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(address_of(&app, &id).await.0, "vera@example.com");
}
