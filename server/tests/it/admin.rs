//! The whitelist gate, ALLOWLIST and ADMIN_EMAILS, the admin dashboard and its refusals,
//! the last-admin rule, concurrent changes, and the audit log.

use axum::http::StatusCode;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use gatehouse_app::db::schema::{audit_event, session, user};
use gatehouse_app::services::admin::{self, Change};
use gatehouse_app::services::audit::{Actor, Origin};
use gatehouse_app::views::{Role, Tier};

use crate::accounts::{person, sign_in, user_id, PASSWORD};
use crate::support::TestApp;

async fn flags(app: &TestApp, email: &str) -> (bool, String, String, bool) {
    let mut conn = app.db.conn().await;
    user::table
        .filter(user::email.eq(email))
        .select((user::is_whitelisted, user::role, user::tier, user::banned))
        .first(&mut conn)
        .await
        .unwrap()
}

/// How many audit events of `action` there are.
pub(crate) async fn events(app: &TestApp, action: &str) -> i64 {
    let mut conn = app.db.conn().await;
    audit_event::table
        .filter(audit_event::action.eq(action))
        .count()
        .get_result(&mut conn)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_person_waits_and_is_refused_whitelisted_content() {
    let app = TestApp::new().await;
    let mut bob = person(&app, "Bob", "bob@example.com", "10.0.1.1").await;
    let home = bob.get("/").await;
    assert!(home.body.contains("Waiting for access"), "{}", home.body);
    assert!(!home.body.contains("artwork job"));
    let refused = bob.call("/api/my-overview", &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("waiting for an administrator"));
    assert_eq!(
        bob.get("/profile").await.status,
        StatusCode::OK,
        "the profile stays open"
    );
    let anonymous = app
        .browser_at("10.0.1.2")
        .call("/api/my-overview", &[])
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_allowlist_and_admin_emails_apply_at_sign_in() {
    let app = TestApp::with_access("carol@example.com, @studio.example", "boss@example.com").await;
    let mut carol = person(&app, "Carol", "carol@example.com", "10.0.2.1").await;
    let mut dan = person(&app, "Dan", "dan@studio.example", "10.0.2.2").await;
    let mut eve = person(&app, "Eve", "eve@elsewhere.example", "10.0.2.3").await;
    let mut boss = person(&app, "Boss", "boss@example.com", "10.0.2.4").await;

    assert_eq!(
        flags(&app, "carol@example.com").await,
        (true, "user".into(), "free".into(), false)
    );
    assert!(flags(&app, "dan@studio.example").await.0, "whole domains");
    assert!(!flags(&app, "eve@elsewhere.example").await.0);
    assert_eq!(
        flags(&app, "boss@example.com").await,
        (true, "admin".into(), "free".into(), false)
    );

    assert_eq!(
        carol.call("/api/my-overview", &[]).await.status,
        StatusCode::OK
    );
    assert_eq!(
        dan.call("/api/my-overview", &[]).await.status,
        StatusCode::OK
    );
    assert_eq!(
        eve.call("/api/my-overview", &[]).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(boss.get("/admin").await.status, StatusCode::OK);
    assert!(boss
        .get("/")
        .await
        .body
        .contains(r#"<a href="/admin">Admin</a>"#));
    assert_eq!(events(&app, "whitelist_changed").await, 3);
    assert_eq!(events(&app, "role_changed").await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_admin_function_answers_404_to_everyone_else_and_changes_nothing() {
    let app = TestApp::with_access("", "boss@example.com").await;
    let _boss = person(&app, "Boss", "boss@example.com", "10.0.3.1").await;
    let mut bob = person(&app, "Bob", "bob@example.com", "10.0.3.2").await;
    let bob_id = user_id(&app, "bob@example.com").await;
    let mut conn = app.db.conn().await;
    diesel::update(user::table.filter(user::email.eq("bob@example.com")))
        .set(user::is_whitelisted.eq(true))
        .execute(&mut conn)
        .await
        .unwrap();
    let before = events(&app, "role_changed").await;
    let mut anonymous = app.browser_at("10.0.3.3");

    let calls: [(&str, Vec<(&str, &str)>); 11] = [
        ("/api/admin/users", vec![]),
        ("/api/admin/user", vec![("id", &bob_id)]),
        (
            "/api/admin/change",
            vec![("change", "access"), ("id", &bob_id), ("on", "false")],
        ),
        (
            "/api/admin/change",
            vec![("change", "role"), ("id", &bob_id), ("role", "admin")],
        ),
        (
            "/api/admin/change",
            vec![("change", "tier"), ("id", &bob_id), ("tier", "member")],
        ),
        (
            "/api/admin/change",
            vec![("change", "ban"), ("id", &bob_id), ("reason", "spam")],
        ),
        (
            "/api/admin/change",
            vec![("change", "unban"), ("id", &bob_id)],
        ),
        (
            "/api/admin/end-session",
            vec![("id", &bob_id), ("session", "x")],
        ),
        (
            "/api/admin/delete-user",
            vec![("id", &bob_id), ("confirm", "bob@example.com")],
        ),
        ("/api/admin/bulk-whitelist", vec![("ids[0]", &bob_id)]),
        ("/api/admin/audit", vec![]),
    ];
    for (action, fields) in &calls {
        for (who, browser) in [("a whitelisted user", &mut bob), ("nobody", &mut anonymous)] {
            let answer = browser.call(action, fields).await;
            assert_eq!(
                answer.status,
                StatusCode::NOT_FOUND,
                "{action} by {who}: {}",
                answer.body
            );
        }
    }
    for page in ["/admin", &format!("/admin/users/{bob_id}"), "/admin/audit"] {
        let answer = bob.get(page).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{page}");
        assert!(answer.body.contains("Page not found"));
    }
    assert_eq!(
        flags(&app, "bob@example.com").await,
        (true, "user".into(), "free".into(), false)
    );
    assert_eq!(events(&app, "role_changed").await, before);
    assert_eq!(
        bob.get("/profile").await.status,
        StatusCode::OK,
        "Bob is still signed in"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_searches_filters_and_lets_people_in() {
    let app = TestApp::with_access("", "boss@example.com").await;
    let mut boss = person(&app, "Boss", "boss@example.com", "10.0.4.1").await;
    let mut bob = person(&app, "Bob Stone", "bob@example.com", "10.0.4.2").await;
    let _carl = person(&app, "Carl", "carl@example.com", "10.0.4.3").await;
    let _alice = person(&app, "Alice", "alice@other.example", "10.0.4.4").await;

    let all = boss.get("/admin").await;
    assert!(
        all.body.contains("3<!> waiting") || all.body.contains("3 waiting"),
        "{}",
        all.body
    );
    for email in [
        "boss@example.com",
        "bob@example.com",
        "carl@example.com",
        "alice@other.example",
    ] {
        assert!(all.body.contains(email), "{email}");
    }
    let search = boss.get("/admin?q=b&filter=all").await;
    assert!(search.body.contains("bob@example.com") && search.body.contains("boss@example.com"));
    assert!(!search.body.contains("carl@example.com"));
    let by_name = boss.call("/api/admin/users", &[("q", "ALI")]).await.json();
    assert_eq!(by_name["rows"].as_array().unwrap().len(), 1, "{by_name}");
    let admins = boss
        .call("/api/admin/users", &[("filter", "admin")])
        .await
        .json();
    assert_eq!(admins["rows"][0]["person"]["email"], "boss@example.com");
    let bad = boss
        .call("/api/admin/users", &[("filter", "everyone!")])
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let waiting = boss.get("/admin?filter=waiting").await;
    assert!(!waiting.body.contains("boss@example.com</td>"));

    // Bulk: let Bob and Carl in from the waiting list.
    let bob_id = user_id(&app, "bob@example.com").await;
    let carl_id = user_id(&app, "carl@example.com").await;
    let (posted, _) = boss
        .submit(
            "/admin?filter=waiting",
            "/api/admin/bulk-whitelist",
            &[
                ("ids[0]", &bob_id),
                ("ids[2]", &carl_id),
                ("back", "filter=waiting"),
            ],
        )
        .await;
    assert_eq!(
        posted.location(),
        "/admin?filter=waiting&notice=let-in-2",
        "back to the list as it was"
    );
    assert!(flags(&app, "bob@example.com").await.0);
    assert!(flags(&app, "carl@example.com").await.0);
    assert!(!flags(&app, "alice@other.example").await.0);
    assert_eq!(
        bob.call("/api/my-overview", &[]).await.status,
        StatusCode::OK,
        "at once"
    );
    // One row's button, again for Bob (in already: nobody changes); the way back keeps only
    // the list's own parameters and always leads to the list.
    let (again, _) = boss
        .submit(
            "/admin",
            "/api/admin/bulk-whitelist",
            &[
                ("ids[0]", &bob_id),
                ("back", "q=b%26c&next=//evil.example&after=x&notice=forged"),
            ],
        )
        .await;
    assert_eq!(again.location(), "/admin?q=b%26c&notice=let-in-0");
    let none = boss.call("/api/admin/bulk-whitelist", &[]).await;
    assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Role and tier show on the profile.
    boss.submit(
        &format!("/admin/users/{bob_id}"),
        "/api/admin/change",
        &[("change", "tier"), ("id", &bob_id), ("tier", "member")],
    )
    .await;
    let profile = bob.get("/profile").await;
    assert!(profile.body.contains("<dd>member</dd>"), "{}", profile.body);
    let bad_tier = boss
        .call(
            "/api/admin/change",
            &[("change", "tier"), ("id", &bob_id), ("tier", "gold")],
        )
        .await;
    assert_eq!(bad_tier.status, StatusCode::UNPROCESSABLE_ENTITY);
    let nobody = boss
        .call(
            "/api/admin/change",
            &[("change", "tier"), ("id", "no-such-user"), ("tier", "free")],
        )
        .await;
    assert_eq!(nobody.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn removing_access_or_banning_ends_sessions_at_once() {
    let app = TestApp::with_access("bob@example.com", "boss@example.com").await;
    let mut boss = person(&app, "Boss", "boss@example.com", "10.0.5.1").await;
    let mut bob = person(&app, "Bob", "bob@example.com", "10.0.5.2").await;
    let bob_id = user_id(&app, "bob@example.com").await;

    let (_, page) = boss
        .submit(
            &format!("/admin/users/{bob_id}"),
            "/api/admin/change",
            &[("change", "access"), ("id", &bob_id), ("on", "false")],
        )
        .await;
    assert!(page.body.contains("Access changed."));
    assert_eq!(bob.get("/profile").await.location(), "/login?next=/profile");

    sign_in(&mut bob, "bob@example.com", PASSWORD).await;
    let empty = boss
        .call(
            "/api/admin/change",
            &[("change", "ban"), ("id", &bob_id), ("reason", "  ")],
        )
        .await;
    assert_eq!(
        empty.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a ban needs a reason"
    );
    let (_, page) = boss
        .submit(
            &format!("/admin/users/{bob_id}"),
            "/api/admin/change",
            &[
                ("change", "ban"),
                ("id", &bob_id),
                ("reason", "Posting others' artwork"),
            ],
        )
        .await;
    assert!(page.body.contains("Banned: their sessions have ended."));
    assert_eq!(bob.get("/profile").await.location(), "/login?next=/profile");
    let refused = bob
        .call(
            "/api/sign-in",
            &[("email", "bob@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused.body.contains("suspended: Posting others' artwork"),
        "{}",
        refused.body
    );

    boss.submit(
        &format!("/admin/users/{bob_id}"),
        "/api/admin/change",
        &[("change", "unban"), ("id", &bob_id)],
    )
    .await;
    sign_in(&mut bob, "bob@example.com", PASSWORD).await;
    assert_eq!(events(&app, "banned").await, 1);
    assert_eq!(events(&app, "unbanned").await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_sees_and_ends_a_users_sessions_and_deletes_them() {
    let app = TestApp::with_access("", "boss@example.com").await;
    let mut boss = person(&app, "Boss", "boss@example.com", "10.0.6.1").await;
    let mut bob = person(&app, "Bob", "bob@example.com", "10.0.6.2").await;
    let bob_id = user_id(&app, "bob@example.com").await;
    let page = boss.get(&format!("/admin/users/{bob_id}")).await;
    assert!(
        page.body.contains("Firefox on Linux") && page.body.contains("10.0.6.2"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Email and password"));

    let mut conn = app.db.conn().await;
    let session_id: String = session::table
        .filter(session::user_id.eq(&bob_id))
        .select(session::id)
        .first(&mut conn)
        .await
        .unwrap();
    boss.submit(
        &format!("/admin/users/{bob_id}"),
        "/api/admin/end-session",
        &[("id", &bob_id), ("session", &session_id)],
    )
    .await;
    assert_eq!(bob.get("/profile").await.location(), "/login?next=/profile");

    let (_, page) = boss
        .submit(
            &format!("/admin/users/{bob_id}"),
            "/api/admin/delete-user",
            &[("id", &bob_id), ("confirm", "bob@exampl.com")],
        )
        .await;
    assert!(
        page.body
            .contains("Type the user&#x27;s email address to confirm.")
            || page
                .body
                .contains("Type the user's email address to confirm."),
        "{}",
        page.body
    );
    let (posted, _) = boss
        .submit(
            &format!("/admin/users/{bob_id}"),
            "/api/admin/delete-user",
            &[("id", &bob_id), ("confirm", "Bob@Example.com")],
        )
        .await;
    assert_eq!(posted.location(), "/admin?notice=deleted");
    assert_eq!(
        user::table
            .filter(user::id.eq(&bob_id))
            .count()
            .get_result::<i64>(&mut conn)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        boss.get(&format!("/admin/users/{bob_id}")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_last_admin_cannot_be_removed() {
    let app = TestApp::with_access("", "boss@example.com").await;
    let mut boss = person(&app, "Boss", "boss@example.com", "10.0.7.1").await;
    let boss_id = user_id(&app, "boss@example.com").await;
    for (action, fields) in [
        (
            "/api/admin/change",
            vec![
                ("change", "role"),
                ("id", boss_id.as_str()),
                ("role", "user"),
            ],
        ),
        (
            "/api/admin/change",
            vec![
                ("change", "ban"),
                ("id", boss_id.as_str()),
                ("reason", "oops"),
            ],
        ),
        (
            "/api/admin/delete-user",
            vec![("id", boss_id.as_str()), ("confirm", "boss@example.com")],
        ),
        (
            "/api/delete-account",
            vec![("password", PASSWORD), ("confirm", "DELETE")],
        ),
    ] {
        let answer = boss.call(action, &fields).await;
        assert_eq!(
            answer.status,
            StatusCode::CONFLICT,
            "{action}: {}",
            answer.body
        );
        assert!(answer.body.contains("last admin"));
    }
    let refused = admin::set_admin_by_email(&app.services, "boss@example.com", false).await;
    assert!(refused.is_err());
    assert_eq!(flags(&app, "boss@example.com").await.1, "admin");

    // With a second admin, one may step down.
    let _ann = person(&app, "Ann", "ann@example.com", "10.0.7.2").await;
    admin::set_admin_by_email(&app.services, "ann@example.com", true)
        .await
        .unwrap();
    assert_eq!(
        flags(&app, "ann@example.com").await,
        (true, "admin".into(), "free".into(), false)
    );
    let answer = boss
        .call(
            "/api/admin/change",
            &[("change", "role"), ("id", &boss_id), ("role", "user")],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_admins_demoting_each_other_at_once_leave_one() {
    let app = TestApp::new().await;
    let _a = person(&app, "A", "a@example.com", "10.0.8.1").await;
    let _b = person(&app, "B", "b@example.com", "10.0.8.2").await;
    admin::set_admin_by_email(&app.services, "a@example.com", true)
        .await
        .unwrap();
    admin::set_admin_by_email(&app.services, "b@example.com", true)
        .await
        .unwrap();
    let (a, b) = (
        user_id(&app, "a@example.com").await,
        user_id(&app, "b@example.com").await,
    );
    let demote = |actor: String, target: String| {
        let services = app.services.clone();
        tokio::spawn(async move {
            admin::change(
                &services,
                Actor::User(&actor, "x"),
                &target,
                Change::Role(Role::User),
                &Origin::default(),
            )
            .await
        })
    };
    let (first, second) = tokio::join!(demote(a.clone(), b.clone()), demote(b, a));
    let results = [first.unwrap(), second.unwrap()];
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    let mut conn = app.db.conn().await;
    let admins: i64 = user::table
        .filter(user::role.eq("admin"))
        .count()
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!(admins, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn fifty_concurrent_changes_leave_a_consistent_row_and_one_event_each() {
    let app = TestApp::with_access("", "boss@example.com").await;
    // Another admin, so Bob's role may go back and forth.
    let _boss = person(&app, "Boss", "boss@example.com", "10.0.9.2").await;
    let _bob = person(&app, "Bob", "bob@example.com", "10.0.9.1").await;
    let bob = user_id(&app, "bob@example.com").await;
    let mut tasks = Vec::new();
    for n in 0..50 {
        let services = app.services.clone();
        let bob = bob.clone();
        tasks.push(tokio::spawn(async move {
            let change = match n % 3 {
                0 => Change::Whitelist(n % 2 == 0),
                1 => Change::Tier([Tier::Free, Tier::Member][n % 2]),
                _ => Change::Role([Role::User, Role::Admin][n % 2]),
            };
            admin::change(
                &services,
                Actor::System("test"),
                &bob,
                change,
                &Origin::default(),
            )
            .await
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let mut conn = app.db.conn().await;
    let changes: Vec<(String, serde_json::Value)> = audit_event::table
        .filter(audit_event::target_user_id.eq(&bob))
        .filter(audit_event::actor_label.eq("test"))
        .order(audit_event::id)
        .select((audit_event::action, audit_event::detail))
        .load(&mut conn)
        .await
        .unwrap();
    assert_eq!(changes.len(), 50, "one event per change");
    // Replaying the events in the order they were made (ids are UUIDv7, made while the
    // row was locked) gives the row as it is: each change saw the previous one's result.
    let mut state = std::collections::HashMap::new();
    for (action, detail) in &changes {
        if let Some(previous) = state.get(action) {
            assert_eq!(&detail["from"], previous, "{action}: {detail}");
        }
        state.insert(action.clone(), detail["to"].clone());
    }
    let (whitelisted, role, tier, _) = flags(&app, "bob@example.com").await;
    assert_eq!(state["whitelist_changed"], serde_json::json!(whitelisted));
    assert_eq!(state["role_changed"], serde_json::json!(role));
    assert_eq!(state["tier_changed"], serde_json::json!(tier));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_audit_log_filters_and_pages_newest_first() {
    let app = TestApp::with_access("", "boss@example.com").await;
    let mut boss = person(&app, "Boss", "boss@example.com", "10.0.10.1").await;
    let _bob = person(&app, "Bob", "bob@example.com", "10.0.10.2").await;
    for n in 0..55 {
        let email = format!("nobody{n}@example.com");
        app.browser_at(&format!("10.1.{n}.1"))
            .call(
                "/api/sign-in",
                &[("email", &email), ("password", "wrong password")],
            )
            .await;
    }
    let page = boss.get("/admin/audit?action=sign_in").await;
    assert!(page.body.contains("bob@example.com"));
    let failures = boss
        .call("/api/admin/audit", &[("action", "sign_in_failed")])
        .await
        .json();
    assert_eq!(failures["rows"].as_array().unwrap().len(), 50, "one page");
    let next = failures["next"].as_str().expect("a next page");
    let rest = boss
        .call(
            "/api/admin/audit",
            &[("action", "sign_in_failed"), ("after", next)],
        )
        .await
        .json();
    assert_eq!(rest["rows"].as_array().unwrap().len(), 5);
    assert!(rest["next"].is_null());
    let newest = failures["rows"][0]["created_at"]
        .as_str()
        .unwrap()
        .to_string();
    let oldest = rest["rows"][4]["created_at"].as_str().unwrap().to_string();
    assert!(newest >= oldest);

    let bobs = boss
        .call("/api/admin/audit", &[("target", "Bob@Example.com")])
        .await
        .json();
    let actions: Vec<&str> = bobs["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"sign_up") && actions.contains(&"sign_in"),
        "{actions:?}"
    );
    let none = boss
        .call("/api/admin/audit", &[("since", "2999-01-01")])
        .await
        .json();
    assert!(none["rows"].as_array().unwrap().is_empty());
    let bad = boss
        .call("/api/admin/audit", &[("since", "yesterday")])
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("YYYY-MM-DD"));
    let broken = boss.call("/api/admin/audit", &[("after", "garbage")]).await;
    assert_eq!(broken.status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// A server function, the fields posted to it, and the status it must answer.
type Refusal<'a> = (&'a str, Vec<(&'a str, &'a str)>, StatusCode);

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_to_the_admin_functions_is_refused_and_changes_nothing() {
    let app = TestApp::with_access("", "boss@example.com").await;
    let mut boss = person(&app, "Boss", "boss@example.com", "10.0.11.1").await;
    let _bob = person(&app, "Bob", "bob@example.com", "10.0.11.2").await;
    let bob = user_id(&app, "bob@example.com").await;
    let long_reason = "r".repeat(501);
    let cases: [Refusal; 11] = [
        (
            "/api/admin/change",
            vec![("change", "role"), ("id", &bob), ("role", "owner")],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/admin/change",
            vec![
                ("change", "role"),
                ("id", "no-such-user"),
                ("role", "admin"),
            ],
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/admin/change",
            vec![("change", "access"), ("id", "no-such-user"), ("on", "true")],
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/admin/change",
            vec![("change", "access"), ("id", &bob), ("on", "perhaps")],
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/admin/change",
            vec![("change", "ban"), ("id", &bob), ("reason", &long_reason)],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/admin/end-session",
            vec![("id", &bob), ("session", "no-such-session")],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/admin/delete-user",
            vec![("id", &bob), ("confirm", "")],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/admin/users",
            vec![("tier", "gold")],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/admin/users",
            vec![("after", "not-a-cursor")],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/admin/users",
            vec![("after", "-300000000000000000~x")],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/admin/audit",
            vec![("since", "-5000-01-01")],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ];
    for (action, fields, status) in cases {
        let answer = boss.call(action, &fields).await;
        assert_eq!(
            answer.status, status,
            "{action} {fields:?}: {}",
            answer.body
        );
        assert!(!answer.json()["message"]
            .as_str()
            .unwrap_or_default()
            .is_empty());
    }
    for (action, fields) in [
        (
            "/api/admin/change",
            vec![("change", "role"), ("id", "\0"), ("role", "admin")],
        ),
        ("/api/admin/users", vec![("q", "bob\0"), ("tier", "")]),
    ] {
        let answer = boss.call(action, &fields).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{action}");
        assert!(answer.body.contains("NUL character"), "{}", answer.body);
    }
    assert_eq!(
        flags(&app, "bob@example.com").await,
        (false, "user".into(), "free".into(), false)
    );
    assert_eq!(
        events(&app, "role_changed").await,
        1,
        "only Boss's own promotion"
    );
}
