//! Sign-in with GitHub and with an OpenID Connect provider, against the stand-in provider
//! (real HTTP, real protocol) and the real router and database.

use axum::http::StatusCode;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use gatehouse_app::db::accounts::StoredTokens;
use gatehouse_app::db::schema::{account, audit_event, passkey, user};
use gatehouse_app::services::crypto::{account_aad, TokenCipher};
use gatehouse_app::services::providers::linking;

use crate::accounts::{person, user_id};
use crate::support::http::{oidc_at, provider_answer, Browser, TestResponse};
use crate::support::provider::{Fault, GithubUser, StandIn, OIDC_ID};
use crate::support::TestApp;

const FLOW_COOKIE: &str = "gatehouse_flow";
const SESSION_COOKIE: &str = "gatehouse_session";

/// The stand-in, with Octocat at GitHub and a verified person at the OIDC issuer.
async fn provider() -> StandIn {
    let provider = StandIn::start().await;
    provider.add_github(GithubUser::new(583231, "octocat", "octo@example.com"));
    provider.add_oidc("sub-ada", "ada@acme.example", true);
    provider
}

async fn users(app: &TestApp) -> Vec<(String, bool)> {
    let mut conn = app.db.conn().await;
    user::table
        .order(user::email)
        .select((user::email, user::email_verified))
        .load(&mut conn)
        .await
        .unwrap()
}

/// (provider, account id, user's email) of every account.
async fn accounts(app: &TestApp) -> Vec<(String, String, String)> {
    let mut conn = app.db.conn().await;
    account::table
        .inner_join(user::table)
        .order((account::provider_id, account::account_id))
        .select((account::provider_id, account::account_id, user::email))
        .load(&mut conn)
        .await
        .unwrap()
}

/// The reasons of refused provider sign-ins in the audit log, oldest first.
async fn refusals(app: &TestApp) -> Vec<String> {
    refusal_details(app)
        .await
        .iter()
        .map(|d| d["reason"].as_str().unwrap().to_string())
        .collect()
}

/// The audit details of refused provider sign-ins, oldest first.
async fn refusal_details(app: &TestApp) -> Vec<serde_json::Value> {
    let mut conn = app.db.conn().await;
    audit_event::table
        .filter(audit_event::action.eq("provider_sign_in_failed"))
        .order(audit_event::created_at)
        .select(audit_event::detail)
        .load(&mut conn)
        .await
        .unwrap()
}

/// Posts a form body to `path` as a page at `origin` would, answering what comes back as is.
async fn post_form(
    browser: &mut Browser<'_>,
    path: impl AsRef<str>,
    body: &'static str,
    origin: &str,
) -> TestResponse {
    let request = axum::http::Request::post(path.as_ref())
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", origin)
        .body(axum::body::Body::from(body))
        .unwrap();
    browser.raw(request).await
}

/// Connects the provider account `login_as` to the signed-in person, from their profile.
async fn connect(browser: &mut Browser<'_>, provider: &str, login_as: &str) {
    let answer = browser
        .through_provider(provider, &[("intent", "link")], login_as)
        .await;
    assert_eq!(
        answer.location(),
        "/profile?notice=linked",
        "{}",
        answer.body
    );
}

/// Asserts the callback sent the person to the failure page for `reason`, and that the
/// page explains it with `words`, status 400.
async fn assert_refused(
    browser: &mut Browser<'_>,
    callback: &TestResponse,
    reason: &str,
    words: &str,
) {
    assert_eq!(callback.status, StatusCode::SEE_OTHER, "{}", callback.body);
    let location = callback.location().to_string();
    assert!(
        location.starts_with(&format!("/sign-in-failed?reason={reason}&")),
        "expected {reason}, went to {location}"
    );
    let page = browser.get(&location).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains(words), "{words:?} not in {}", page.body);
    let back = if location.ends_with("&intent=link") {
        r#"href="/profile">Back to your profile"#
    } else {
        r#"href="/login">Back to sign in"#
    };
    assert!(page.body.contains(back), "{}", page.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn github_sign_in_makes_the_user_once_and_lands_where_they_were_going() {
    let provider = provider().await;
    let app = TestApp::with_providers(&provider).await;
    let mut browser = app.browser();

    let login = browser.get("/login?next=/artworks").await;
    assert!(
        login.body.contains(r#"action="/auth/github""#),
        "{}",
        login.body
    );
    assert!(login.body.contains("Sign in with GitHub"));
    assert!(login.body.contains("Sign in with Acme ID"));
    assert!(login.body.contains(r#"name="next" value="/artworks""#));

    let authorize = browser
        .start_provider("github", &[("next", "/artworks")])
        .await;
    assert!(
        authorize.starts_with(&provider.github_base()),
        "{authorize}"
    );
    let url = url::Url::parse(&authorize).unwrap();
    let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(query["scope"], "read:user user:email");
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(
        query["redirect_uri"],
        "http://gatehouse.test/auth/github/callback"
    );
    // The flow's cookie is encrypted: its state cannot be read from it.
    let flow = browser
        .cookie(FLOW_COOKIE)
        .expect("a flow cookie")
        .to_string();
    assert!(!flow.contains(&query["state"]));

    let callback = provider_answer(&format!("{authorize}&login_as=octocat")).await;
    let landed = browser.get(&callback).await;
    assert_eq!(landed.status, StatusCode::SEE_OTHER, "{}", landed.body);
    assert_eq!(landed.location(), "/artworks");
    assert!(browser.cookie(SESSION_COOKIE).is_some());
    assert!(
        browser.cookie(FLOW_COOKIE).is_none(),
        "the flow cookie is spent"
    );

    let profile = browser.get("/profile").await;
    assert!(
        profile.body.contains("octo@example.com"),
        "{}",
        profile.body
    );
    assert!(
        profile.body.contains("octocat at GitHub"),
        "GitHub's name is used"
    );
    assert!(profile.body.contains("Connected accounts"));
    assert!(profile.body.contains("(id 583231)"));
    assert!(profile.body.contains("your only way to sign in"));
    assert_eq!(users(&app).await, vec![("octo@example.com".into(), true)]);

    // Signing in again finds the same user.
    let mut again = app.browser();
    let landed = again.through_provider("github", &[], "octocat").await;
    assert_eq!(landed.location(), "/");
    assert_eq!(users(&app).await.len(), 1);
    assert_eq!(
        accounts(&app).await,
        vec![("github".into(), "583231".into(), "octo@example.com".into())]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn oidc_sign_in_checks_the_id_token_and_keeps_tokens_encrypted() {
    let provider = provider().await;
    let app = TestApp::with_providers(&provider).await;
    let mut browser = app.browser();

    let authorize = browser.start_provider(OIDC_ID, &[]).await;
    assert!(authorize.starts_with(&provider.issuer()), "{authorize}");
    assert!(authorize.contains("nonce="), "{authorize}");
    assert!(
        authorize.contains("scope=openid+email+profile"),
        "{authorize}"
    );
    let callback = provider_answer(&format!("{authorize}&login_as=sub-ada")).await;
    let landed = browser.get(&callback).await;
    assert_eq!(landed.location(), "/", "{}", landed.body);
    assert_eq!(users(&app).await, vec![("ada@acme.example".into(), true)]);

    // Every token at rest is ciphertext bound to its row; the cipher opens it.
    let mut conn = app.db.conn().await;
    let (id, access, id_token): (String, Option<String>, Option<String>) = account::table
        .filter(account::provider_id.eq(OIDC_ID))
        .select((account::id, account::access_token, account::id_token))
        .first(&mut conn)
        .await
        .unwrap();
    let (access, id_token) = (access.unwrap(), id_token.unwrap());
    let issued = provider.issued_access_tokens();
    assert!(access.starts_with("enc:v1:") && id_token.starts_with("enc:v1:"));
    assert!(issued.iter().all(|t| !access.contains(t.as_str())));
    let clear = app
        .services
        .cipher
        .decrypt(&access, &account_aad(&id, "accessToken"))
        .unwrap();
    assert!(issued.contains(&clear));
    let jwt = app
        .services
        .cipher
        .decrypt(&id_token, &account_aad(&id, "idToken"))
        .unwrap();
    assert_eq!(jwt.split('.').count(), 3, "a signed JWT");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_id_token_failing_any_check_is_refused() {
    let provider = provider().await;
    let app = TestApp::with_providers(&provider).await;
    let faults = [
        (
            Fault::BadSignature,
            "ID token refused: Signature verification failed",
        ),
        (Fault::WrongAudience, "ID token refused: Invalid audiences"),
        (Fault::Expired, "ID token refused: Expired"),
        (Fault::WrongNonce, "ID token refused: Invalid nonce"),
        (Fault::WrongIssuer, "ID token refused: Invalid issuer"),
        (
            Fault::WrongAccessTokenHash,
            "the access token does not match the ID token",
        ),
    ];
    for (fault, _) in faults {
        provider.set_fault(fault);
        let mut browser = app.browser();
        let callback = browser.through_provider(OIDC_ID, &[], "sub-ada").await;
        assert_refused(
            &mut browser,
            &callback,
            "provider",
            "Acme ID did not answer as expected",
        )
        .await;
        assert!(
            browser.cookie(SESSION_COOKIE).is_none(),
            "{fault:?} signed someone in"
        );
    }
    assert!(users(&app).await.is_empty());
    // Each was refused for its own reason, which the audit log keeps.
    let details = refusal_details(&app).await;
    assert_eq!(details.len(), faults.len());
    for ((fault, why), detail) in faults.iter().zip(&details) {
        assert_eq!(detail["reason"], "provider");
        let said = detail["detail"].as_str().unwrap();
        assert!(said.contains(why), "{fault:?}: {said}");
    }
    // And with the provider behaving again, the same person gets in.
    provider.set_fault(Fault::None);
    let mut browser = app.browser();
    assert_eq!(
        browser
            .through_provider(OIDC_ID, &[], "sub-ada")
            .await
            .location(),
        "/"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn each_failure_gets_a_clear_page_and_an_audit_record() {
    let provider = provider().await;
    let mut unverified = GithubUser::new(7, "nomail", "nomail@example.com");
    unverified.emails = vec![("nomail@example.com".into(), true, false)];
    provider.add_github(unverified);
    let app = TestApp::with_providers(&provider).await;

    // The person says no at GitHub.
    let mut browser = app.browser();
    let authorize = browser.start_provider("github", &[]).await;
    let callback = browser
        .get(&provider_answer(&format!("{authorize}&deny=1")).await)
        .await;
    assert_refused(
        &mut browser,
        &callback,
        "denied",
        "You did not allow Gatehouse to use your GitHub account",
    )
    .await;

    // The state that comes back is not the one sent.
    let authorize = browser.start_provider("github", &[]).await;
    let callback = provider_answer(&format!("{authorize}&login_as=octocat")).await;
    let state = callback.split("state=").nth(1).unwrap().to_string();
    let forged = callback.replace(&state, "forged-state");
    let answer = browser.get(&forged).await;
    assert_refused(&mut browser, &answer, "state", "could not be checked").await;

    // A callback in a browser that started no sign-in (the cookie is missing).
    let mut first = app.browser();
    let authorize = first.start_provider("github", &[]).await;
    let callback = provider_answer(&format!("{authorize}&login_as=octocat")).await;
    let mut other = app.browser();
    let answer = other.get(&callback).await;
    assert_refused(
        &mut other,
        &answer,
        "expired",
        "took longer than ten minutes",
    )
    .await;

    // A callback replayed with the same cookie works once.
    let flow = first.cookie(FLOW_COOKIE).unwrap().to_string();
    assert_eq!(first.get(&callback).await.location(), "/");
    let mut thief = app.browser();
    thief.set_cookie(FLOW_COOKIE, &flow);
    let answer = thief.get(&callback).await;
    assert_refused(&mut thief, &answer, "replayed", "already used").await;
    assert!(thief.cookie(SESSION_COOKIE).is_none());

    // GitHub has no verified primary address for this person.
    let mut browser = app.browser();
    let answer = browser.through_provider("github", &[], "nomail").await;
    assert_refused(
        &mut browser,
        &answer,
        "no-verified-email",
        "GitHub has no verified email address",
    )
    .await;

    // The provider is down, or answers garbage.
    provider.set_fault(Fault::Down);
    let started = post_form(
        &mut browser,
        format!("/auth/{OIDC_ID}"),
        "",
        "http://gatehouse.test",
    )
    .await;
    assert_refused(
        &mut browser,
        &started,
        "provider",
        "Acme ID did not answer as expected",
    )
    .await;
    let answer = browser.through_provider("github", &[], "octocat").await;
    assert_refused(
        &mut browser,
        &answer,
        "provider",
        "GitHub did not answer as expected",
    )
    .await;
    provider.set_fault(Fault::Garbage);
    let answer = browser.through_provider("github", &[], "octocat").await;
    assert_refused(&mut browser, &answer, "provider", "GitHub did not answer").await;
    provider.set_fault(Fault::None);

    assert_eq!(
        refusals(&app).await,
        [
            "denied",
            "state",
            "expired",
            "replayed",
            "no-verified-email",
            "provider",
            "provider",
            "provider"
        ]
    );
    assert_eq!(users(&app).await, vec![("octo@example.com".into(), true)]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_provider_joins_an_existing_user_only_when_both_verified_the_email() {
    let provider = provider().await;
    provider.add_oidc("sub-unverified", "ada@example.com", false);
    provider.add_github(GithubUser::new(42, "ada-gh", "ada@example.com"));
    provider.add_github(GithubUser::new(43, "grace-gh", "grace@example.com"));
    let app = TestApp::with_providers(&provider).await;
    let _ada = person(&app, "Ada Lovelace", "ada@example.com", "10.0.0.1").await;

    // The issuer does not vouch for the address: nothing is joined or made, and the answer
    // does not tell whether the address has an account here.
    let mut stranger = app.browser();
    let answer = stranger
        .through_provider(OIDC_ID, &[], "sub-unverified")
        .await;
    assert_refused(
        &mut stranger,
        &answer,
        "no-verified-email",
        "Acme ID has no verified email address",
    )
    .await;

    // GitHub vouches, and Ada confirmed hers: the account joins her user, she is told by
    // mail, and the audit log says how it was joined.
    let mut browser = app.browser();
    assert_eq!(
        browser
            .through_provider("github", &[], "ada-gh")
            .await
            .location(),
        "/"
    );
    assert_eq!(users(&app).await.len(), 1);
    let mut kinds: Vec<String> = accounts(&app).await.into_iter().map(|a| a.0).collect();
    kinds.sort();
    assert_eq!(kinds, ["credential", "github"]);
    let told = app.mail.wait_for("ada@example.com", 2).await;
    assert!(
        told.subject.contains("GitHub is now connected"),
        "{}",
        told.subject
    );
    assert!(told.body.contains("http://gatehouse.test/profile"));
    let mut conn = app.db.conn().await;
    let joined: Vec<serde_json::Value> = audit_event::table
        .filter(audit_event::action.eq("account_linked"))
        .select(audit_event::detail)
        .load(&mut conn)
        .await
        .unwrap();
    assert_eq!(joined.len(), 1);
    assert_eq!(joined[0]["by"], "verified email");

    // Grace signed up but never confirmed: GitHub's word does not join her user.
    let mut grace = app.browser();
    crate::accounts::sign_up(&mut grace, "Grace", "grace@example.com").await;
    let answer = grace.through_provider("github", &[], "grace-gh").await;
    assert_refused(
        &mut grace,
        &answer,
        "email-in-use",
        "connect GitHub from your profile",
    )
    .await;
    assert_eq!(users(&app).await.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_provider_that_does_not_vouch_for_the_email_makes_no_user() {
    let provider = provider().await;
    provider.add_oidc("sub-new", "new@acme.example", false);
    let app = TestApp::with_providers(&provider).await;
    let mut browser = app.browser();
    let answer = browser.through_provider(OIDC_ID, &[], "sub-new").await;
    assert_refused(
        &mut browser,
        &answer,
        "no-verified-email",
        "Verify your email address there",
    )
    .await;
    assert!(users(&app).await.is_empty());
    assert!(accounts(&app).await.is_empty());
    assert_eq!(
        app.mail_settled().await.count(),
        0,
        "no mail to an address nobody proved"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_return_path_is_a_local_path_only() {
    let provider = provider().await;
    let app = TestApp::with_providers(&provider).await;
    let too_long = format!("/{}", "a".repeat(2000));
    for (next, lands) in [
        ("/artworks?status=done", "/artworks?status=done"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("", "/"),
        (too_long.as_str(), "/"),
    ] {
        let mut browser = app.browser();
        let answer = browser
            .through_provider("github", &[("next", next)], "octocat")
            .await;
        assert_eq!(answer.location(), lands, "next={next}");
    }
    // A start that is not a form is a clear 4xx, and starts nothing.
    let mut browser = app.browser();
    let request = axum::http::Request::post("/auth/github")
        .header("content-type", "application/json")
        .header("origin", "http://gatehouse.test")
        .body(axum::body::Body::from(r#"{"next":"/"}"#))
        .unwrap();
    let refused = browser.raw(request).await;
    assert_eq!(
        refused.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "{}",
        refused.body
    );
    assert!(browser.cookie(FLOW_COOKIE).is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn people_connect_and_disconnect_providers_from_their_profile() {
    let provider = provider().await;
    provider.add_github(GithubUser::new(99, "bob-gh", "bob@elsewhere.example"));
    let app = TestApp::with_providers(&provider).await;
    let mut ada = person(&app, "Ada Lovelace", "ada@example.com", "10.0.0.1").await;

    let profile = ada.get("/profile").await;
    assert!(profile.body.contains("Connect GitHub"), "{}", profile.body);
    assert!(profile.body.contains("Connect Acme ID"));
    assert!(profile.body.contains("No account is connected yet."));

    // Connecting GitHub (another email there is fine: she asked for it).
    connect(&mut ada, "github", "bob-gh").await;
    let profile = ada.get("/profile?notice=linked").await;
    assert!(profile.body.contains("The account is connected"));
    assert!(profile.body.contains("Disconnect GitHub"));
    assert!(!profile.body.contains("Connect GitHub"));

    // Signing in with it now reaches Ada.
    let mut elsewhere = app.browser();
    elsewhere.through_provider("github", &[], "bob-gh").await;
    assert!(elsewhere
        .get("/profile")
        .await
        .body
        .contains("ada@example.com"));

    // Another signed-in person cannot take it.
    let mut eve = person(&app, "Eve", "eve@example.com", "10.0.0.2").await;
    let answer = eve
        .through_provider("github", &[("intent", "link")], "bob-gh")
        .await;
    assert_refused(
        &mut eve,
        &answer,
        "linked-elsewhere",
        "already connected to another Gatehouse account",
    )
    .await;

    // Saying no at the provider while connecting says so, and leads back to the profile.
    let authorize = eve.start_provider("github", &[("intent", "link")]).await;
    let answer = eve
        .get(&provider_answer(&format!("{authorize}&deny=1")).await)
        .await;
    assert_refused(&mut eve, &answer, "denied", "so it is not connected").await;

    // Disconnecting: bad input and strangers first.
    let mut nobody = app.browser();
    assert_eq!(
        nobody
            .call("/api/unlink-account", &[("provider", "github")])
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        eve.call("/api/unlink-account", &[("provider", "github")])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        ada.call("/api/unlink-account", &[("provider", "credential")])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        ada.call("/api/unlink-account", &[("provider", "")])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let (posted, page) = ada
        .submit("/profile", "/api/unlink-account", &[("provider", "github")])
        .await;
    assert_eq!(posted.location(), "/profile?notice=unlinked");
    assert!(page.body.contains("The account is disconnected."));
    let told = app.mail.wait_for("ada@example.com", 3).await;
    assert_eq!(
        told.subject, "GitHub was disconnected from your Gatehouse account",
        "the owner hears of it"
    );
    let kinds: Vec<String> = accounts(&app).await.into_iter().map(|a| a.0).collect();
    assert_eq!(kinds, ["credential", "credential"]);

    // Starting a connection needs a session.
    let mut nobody = app.browser();
    let started = post_form(
        &mut nobody,
        "/auth/github",
        "intent=link",
        "http://gatehouse.test",
    )
    .await;
    assert_eq!(started.location(), "/login?next=/profile");
}

#[tokio::test(flavor = "multi_thread")]
async fn nobody_can_remove_their_last_way_to_sign_in() {
    let provider = provider().await;
    let app = TestApp::with_providers(&provider).await;
    let mut octo = app.browser();
    octo.through_provider("github", &[], "octocat").await;
    let refused = octo
        .call("/api/unlink-account", &[("provider", "github")])
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(refused.json()["message"]
        .as_str()
        .unwrap()
        .contains("only way you can sign in"));
    // With a second way in, the first can go.
    octo.through_provider(OIDC_ID, &[("intent", "link")], "sub-ada")
        .await;
    let done = octo
        .call("/api/unlink-account", &[("provider", "github")])
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let kinds: Vec<String> = accounts(&app).await.into_iter().map(|a| a.0).collect();
    assert_eq!(kinds, [OIDC_ID]);
}

/// A passkey (in an adopted Better Auth database, until Gatehouse makes its own) is a way in:
/// beside it, a provider sign-in is not the last one and can be disconnected.
#[tokio::test(flavor = "multi_thread")]
async fn a_passkey_counts_as_a_way_to_sign_in() {
    let provider = provider().await;
    let app = TestApp::with_providers(&provider).await;
    let mut octo = app.browser();
    octo.through_provider("github", &[], "octocat").await;
    assert!(octo
        .get("/profile")
        .await
        .body
        .contains("your only way to sign in"));
    let octo_id = user_id(&app, "octo@example.com").await;
    let mut conn = app.db.conn().await;
    diesel::insert_into(passkey::table)
        .values((
            passkey::id.eq("pk-1"),
            passkey::public_key.eq("pQECAyYgASFYIA"),
            passkey::user_id.eq(&octo_id),
            passkey::credential_id.eq("cred-1"),
            passkey::counter.eq(0),
            passkey::device_type.eq("multiDevice"),
            passkey::backed_up.eq(true),
        ))
        .execute(&mut conn)
        .await
        .unwrap();

    let profile = octo.get("/profile").await;
    assert!(
        profile.body.contains("Disconnect GitHub"),
        "{}",
        profile.body
    );
    assert!(!profile.body.contains("your only way to sign in"));
    let done = octo
        .call("/api/unlink-account", &[("provider", "github")])
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(accounts(&app).await.is_empty());
    // With the passkey its only way in, the profile still shows what there is to set up.
    let profile = octo.get("/profile").await;
    assert_eq!(profile.status, StatusCode::OK);
    assert!(profile.body.contains("Connect GitHub"), "{}", profile.body);
    assert!(profile.body.contains("Set password"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_concurrent_double_callback_makes_one_user_and_one_account() {
    let provider = provider().await;
    let app = TestApp::with_providers(&provider).await;
    // Each round is a person nobody has seen, so both callbacks race to make them.
    for round in 0..5u64 {
        let login = format!("twin{round}");
        provider.add_github(GithubUser::new(
            1000 + round,
            &login,
            &format!("{login}@example.com"),
        ));
        let (mut a, mut b) = (app.browser(), app.browser());
        let first = a.start_provider("github", &[]).await;
        let second = b.start_provider("github", &[]).await;
        let first = provider_answer(&format!("{first}&login_as={login}")).await;
        let second = provider_answer(&format!("{second}&login_as={login}")).await;
        let (x, y) = tokio::join!(a.get(&first), b.get(&second));
        assert_eq!(
            (x.location(), y.location()),
            ("/", "/"),
            "{} {}",
            x.body,
            y.body
        );
    }
    assert_eq!(users(&app).await.len(), 5, "one user each");
    assert_eq!(accounts(&app).await.len(), 5, "one account each");
}

#[tokio::test(flavor = "multi_thread")]
async fn allowlisted_github_accounts_are_let_in_and_banned_users_stay_out() {
    let provider = provider().await;
    provider.add_github(GithubUser::new(5, "mallory", "mallory@example.com"));
    provider.add_github(GithubUser::new(77, "by-id", "by-id@example.com"));
    let app = TestApp::with_providers_and_access(&provider, "github:OctoCat, github:77").await;
    for login in ["octocat", "mallory", "by-id"] {
        let mut browser = app.browser();
        let answer = browser.through_provider("github", &[], login).await;
        assert_eq!(answer.location(), "/", "{login}");
    }
    let mut conn = app.db.conn().await;
    let let_in: Vec<(String, bool)> = user::table
        .order(user::email)
        .select((user::email, user::is_whitelisted))
        .load(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        let_in,
        [
            ("by-id@example.com".into(), true),
            ("mallory@example.com".into(), false),
            ("octo@example.com".into(), true)
        ]
    );

    diesel::update(user::table.filter(user::email.eq("mallory@example.com")))
        .set((user::banned.eq(true), user::ban_reason.eq("spam")))
        .execute(&mut conn)
        .await
        .unwrap();
    let mut again = app.browser();
    let answer = again.through_provider("github", &[], "mallory").await;
    assert_refused(&mut again, &answer, "banned", "suspended").await;
    assert!(again.cookie(SESSION_COOKIE).is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_provider_tokens_are_refreshed_and_rotation_keeps_them_readable() {
    let provider = provider().await;
    provider.expire_access_tokens_after(0);
    let app = TestApp::with_providers(&provider).await;
    let mut octo = app.browser();
    octo.through_provider("github", &[], "octocat").await;
    let mut ada = app.browser();
    ada.through_provider(OIDC_ID, &[], "sub-ada").await;
    let octo_id = user_id(&app, "octo@example.com").await;
    let first_tokens = provider.issued_access_tokens();

    provider.expire_access_tokens_after(3600);
    let before = provider.token_requests();
    let fresh = linking::access_token(&app.services, &octo_id, "github")
        .await
        .unwrap()
        .unwrap();
    assert!(!first_tokens.contains(&fresh), "a new token");
    assert_eq!(provider.token_requests(), before + 1);
    let again = linking::access_token(&app.services, &octo_id, "github")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again, fresh, "a live token is used as it is");
    assert_eq!(provider.token_requests(), before + 1);
    assert_eq!(
        linking::access_token(&app.services, &octo_id, OIDC_ID)
            .await
            .unwrap(),
        None
    );

    // Rotation: a new key first, the old one after; then the old key can go. The JWT
    // signing key's private half is re-sealed with the rest.
    let old = app.token_keys.cipher();
    let signing_key = gatehouse_app::services::jwt::rotate(&app.services.pool, &old)
        .await
        .unwrap();
    let both = TokenCipher::new(vec![
        ("k2".into(), [7; 32]),
        ("k1".into(), *app.token_keys.current().key.bytes()),
    ]);
    let rotation = gatehouse_app::services::keys::rotate(&app.services.pool, &both)
        .await
        .unwrap();
    assert!(rotation.failed.is_empty());
    assert!(rotation.rewritten >= 6, "{}", rotation.rewritten);
    let new_only = TokenCipher::new(vec![("k2".into(), [7; 32])]);
    let mut conn = app.db.conn().await;
    let rows: Vec<StoredTokens> = account::table
        .select((
            account::id,
            account::access_token,
            account::refresh_token,
            account::id_token,
        ))
        .load(&mut conn)
        .await
        .unwrap();
    let mut opened = 0;
    for (id, access, refresh, id_token) in rows {
        for (column, value) in [
            ("accessToken", access),
            ("refreshToken", refresh),
            ("idToken", id_token),
        ] {
            if let Some(value) = value {
                assert!(new_only.decrypt(&value, &account_aad(&id, column)).is_ok());
                assert!(old.decrypt(&value, &account_aad(&id, column)).is_err());
                opened += 1;
            }
        }
    }
    assert_eq!(opened, 5, "access and refresh for both, and the ID token");
    let sealed: String = gatehouse_app::db::schema::jwks::table
        .find(&signing_key)
        .select(gatehouse_app::db::schema::jwks::private_key)
        .first(&mut conn)
        .await
        .unwrap();
    let aad = gatehouse_app::services::jwt::aad(&signing_key);
    assert!(new_only.decrypt(&sealed, &aad).is_ok());
    assert!(old.decrypt(&sealed, &aad).is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_providers_and_forged_starts_are_refused() {
    let provider = provider().await;
    let app = TestApp::with_providers(&provider).await;
    assert_eq!(
        app.get("/auth/nope/callback?code=x&state=y").await.status,
        StatusCode::NOT_FOUND
    );
    let mut browser = app.browser();
    let unknown = post_form(&mut browser, "/auth/nope", "", "http://gatehouse.test").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    // A form on another site cannot start a flow.
    let forged = post_form(&mut browser, "/auth/github", "", "https://evil.example").await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(browser.cookie(FLOW_COOKIE).is_none());
    // Browsers may follow the buttons' redirect to the providers' pages, and nowhere else.
    let login = app.get("/login").await;
    let policy = login.header("content-security-policy").unwrap();
    let form_action = policy
        .split(';')
        .find(|d| d.contains("form-action"))
        .unwrap();
    assert_eq!(
        form_action.trim(),
        format!("form-action 'self' {}", provider.url)
    );
    // Without providers configured, there is no button and no route to them.
    let plain = TestApp::new().await;
    let login = plain.get("/login").await;
    assert!(!login.body.contains("/auth/github"));
    assert!(login
        .header("content-security-policy")
        .unwrap()
        .contains("form-action 'self';"));
}

#[tokio::test(flavor = "multi_thread")]
async fn someone_who_came_through_a_provider_can_set_a_password_and_delete_their_account() {
    let provider = provider().await;
    let app = TestApp::with_providers(&provider).await;
    let mut octo = app.browser();
    octo.through_provider("github", &[], "octocat").await;
    let profile = octo.get("/profile").await;
    assert!(profile.body.contains("Set password"), "{}", profile.body);
    assert!(!profile.body.contains(r#"name="current_password""#));

    // A too-short password is refused; a good one is set, and email sign-in works.
    let short = octo
        .call("/api/change-password", &[("new_password", "short")])
        .await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    let (posted, _) = octo
        .submit(
            "/profile",
            "/api/change-password",
            &[("new_password", crate::accounts::PASSWORD)],
        )
        .await;
    assert_eq!(posted.location(), "/profile?notice=password");
    let told = app.mail.wait_for("octo@example.com", 1).await;
    assert_eq!(told.subject, "Your Gatehouse password was changed");
    let mut by_mail = app.browser();
    crate::accounts::sign_in(&mut by_mail, "octo@example.com", crate::accounts::PASSWORD).await;
    // Now the password is asked for again before anything irreversible.
    let wrong = octo
        .call(
            "/api/delete-account",
            &[("password", "not the password"), ("confirm", "DELETE")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Another provider-only person deletes their account with DELETE alone.
    let mut ada = app.browser();
    ada.through_provider(OIDC_ID, &[], "sub-ada").await;
    let unconfirmed = ada
        .call("/api/delete-account", &[("confirm", "delete me")])
        .await;
    assert_eq!(unconfirmed.status, StatusCode::UNPROCESSABLE_ENTITY);
    let (posted, _) = ada
        .submit("/profile", "/api/delete-account", &[("confirm", "DELETE")])
        .await;
    assert_eq!(posted.location(), "/?notice=deleted");
    assert_eq!(users(&app).await, vec![("octo@example.com".into(), true)]);
    assert_eq!(
        accounts(&app).await.len(),
        2,
        "octocat's GitHub and password remain"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_provider_email_that_is_not_an_address_is_refused_and_names_are_tidied() {
    let provider = provider().await;
    provider.add_github(GithubUser::new(8, "weird", "not an address"));
    let mut long = GithubUser::new(9, "long", "Long@Example.COM");
    long.name = Some(format!("{}\u{7}bell", "x".repeat(300)));
    provider.add_github(long);
    let app = TestApp::with_providers(&provider).await;
    let mut browser = app.browser();
    let answer = browser.through_provider("github", &[], "weird").await;
    assert_refused(
        &mut browser,
        &answer,
        "no-verified-email",
        "GitHub has no verified email address",
    )
    .await;
    assert_eq!(
        browser
            .through_provider("github", &[], "long")
            .await
            .location(),
        "/"
    );
    let mut conn = app.db.conn().await;
    let (email, name): (String, String) = user::table
        .select((user::email, user::name))
        .first(&mut conn)
        .await
        .unwrap();
    assert_eq!(email, "long@example.com");
    assert_eq!(name, "x".repeat(100));
}

#[tokio::test(flavor = "multi_thread")]
async fn connecting_needs_the_same_person_still_signed_in_at_the_callback() {
    let provider = provider().await;
    let app = TestApp::with_providers(&provider).await;
    let mut ada = person(&app, "Ada Lovelace", "ada@example.com", "10.0.0.1").await;
    let authorize = ada.start_provider("github", &[("intent", "link")]).await;
    let callback = provider_answer(&format!("{authorize}&login_as=octocat")).await;
    let (posted, _) = ada.submit("/profile", "/api/sign-out", &[]).await;
    assert_eq!(posted.location(), "/");
    let answer = ada.get(&callback).await;
    assert_refused(
        &mut ada,
        &answer,
        "signed-out",
        "Sign in first to connect an account",
    )
    .await;
    let kinds: Vec<String> = accounts(&app).await.into_iter().map(|a| a.0).collect();
    assert_eq!(kinds, ["credential"], "nothing was connected");
}

#[tokio::test(flavor = "multi_thread")]
async fn starting_provider_sign_ins_is_limited_per_address() {
    let provider = provider().await;
    let app = TestApp::with_providers(&provider).await;
    let mut browser = app.browser_at("10.9.9.9");
    for _ in 0..30 {
        browser.start_provider("github", &[]).await;
    }
    let refused = post_form(&mut browser, "/auth/github", "", "http://gatehouse.test").await;
    assert_refused(&mut browser, &refused, "rate-limited", "Too many sign-ins").await;
    // Someone elsewhere is not affected.
    let mut other = app.browser_at("10.9.9.10");
    assert_eq!(
        other
            .through_provider("github", &[], "octocat")
            .await
            .location(),
        "/"
    );
}

/// The outside review's admin takeover: a second issuer where people assert their own
/// "verified" address. Without OIDC_<ID>_TRUST_EMAIL its word makes no user and joins none,
/// so neither the admin's account nor an ADMIN_EMAILS address can be claimed through it; even
/// a trusted issuer never joins an admin's account by itself.
#[tokio::test(flavor = "multi_thread")]
async fn an_issuer_not_trusted_with_emails_cannot_claim_an_account_or_the_admin_role() {
    let company = StandIn::start().await;
    let self_service = StandIn::start().await;
    let app = TestApp::with_issuers(
        vec![
            oidc_at(&company, "company", "Company ID", true),
            oidc_at(&self_service, "community", "Community ID", false),
        ],
        "boss@example.com, next-boss@example.com",
    )
    .await;
    let mut boss = person(&app, "Boss", "boss@example.com", "10.0.0.1").await;
    assert_eq!(boss.get("/admin").await.status, StatusCode::OK);

    // The attacker asserts the admin's address, and an address ADMIN_EMAILS names that has
    // no account yet, as verified: refused before any lookup, nothing made or joined.
    self_service.add_oidc("sub-attacker", "boss@example.com", true);
    self_service.add_oidc("sub-attacker-2", "next-boss@example.com", true);
    for subject in ["sub-attacker", "sub-attacker-2"] {
        let mut attacker = app.browser_at("10.6.6.6");
        let answer = attacker.through_provider("community", &[], subject).await;
        assert_refused(
            &mut attacker,
            &answer,
            "connect-first",
            "Community ID cannot sign you up or into an existing account by itself",
        )
        .await;
        assert_ne!(attacker.get("/admin").await.status, StatusCode::OK);
        assert_eq!(attacker.cookie(SESSION_COOKIE), None, "no session");
    }
    assert_eq!(users(&app).await.len(), 1);
    assert_eq!(accounts(&app).await.len(), 1, "only the boss's password");

    // A trusted issuer does not join an admin's account by itself either.
    company.add_oidc("sub-company-boss", "boss@example.com", true);
    let mut someone = app.browser_at("10.6.6.7");
    let answer = someone
        .through_provider("company", &[], "sub-company-boss")
        .await;
    assert_refused(
        &mut someone,
        &answer,
        "email-in-use",
        "connect Company ID from your profile",
    )
    .await;
    assert_eq!(accounts(&app).await.len(), 1);

    // The admin connects the self-service account from their profile, and it then signs
    // them in: what an untrusted issuer is for.
    self_service.add_oidc("sub-boss", "boss@community.example", true);
    connect(&mut boss, "community", "sub-boss").await;
    let mut again = app.browser_at("10.0.0.9");
    again.through_provider("community", &[], "sub-boss").await;
    assert_eq!(again.get("/admin").await.status, StatusCode::OK);
}

/// One account of each provider per user, also when a sign-in would join by email; a
/// disconnect removes that one account; and the last way in is what would remain.
#[tokio::test(flavor = "multi_thread")]
async fn one_account_per_provider_and_a_disconnect_takes_just_that_one() {
    let provider = provider().await;
    provider.add_github(GithubUser::new(7, "ada-work", "ada@work.example"));
    provider.add_github(GithubUser::new(8, "ada-home", "ada@example.com"));
    let app = TestApp::with_providers(&provider).await;
    let mut ada = person(&app, "Ada Lovelace", "ada@example.com", "10.0.0.1").await;
    connect(&mut ada, "github", "ada-work").await;

    // Another GitHub account vouching for her address does not join as a second one.
    let mut other = app.browser_at("10.0.0.2");
    let answer = other.through_provider("github", &[], "ada-home").await;
    assert_refused(
        &mut other,
        &answer,
        "already-connected",
        "Another GitHub account is already connected",
    )
    .await;
    let ada_id = user_id(&app, "ada@example.com").await;
    let theirs: Vec<String> = accounts(&app).await.into_iter().map(|a| a.1).collect();
    assert_eq!(
        theirs,
        [ada_id.as_str(), "7"],
        "her password and GitHub 7 only"
    );

    // Someone with two GitHub accounts and nothing else (as an older database may hold):
    // disconnecting one leaves the other, which is then the last way in.
    let mut octo = app.browser_at("10.0.0.3");
    octo.through_provider("github", &[], "octocat").await;
    let octo_id = user_id(&app, "octo@example.com").await;
    let mut conn = app.db.conn().await;
    diesel::insert_into(account::table)
        .values((
            account::id.eq("second-github"),
            account::account_id.eq("99999"),
            account::provider_id.eq("github"),
            account::user_id.eq(&octo_id),
        ))
        .execute(&mut conn)
        .await
        .unwrap();
    let done = octo
        .call("/api/unlink-account", &[("provider", "github")])
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let left: Vec<(String, String, String)> = accounts(&app)
        .await
        .into_iter()
        .filter(|a| a.2 == "octo@example.com")
        .collect();
    assert_eq!(
        left.len(),
        1,
        "one row went, not every GitHub row: {left:?}"
    );
    let refused = octo
        .call("/api/unlink-account", &[("provider", "github")])
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
}
