//! Signed webhooks to the processing backend: every change it must know of reaches each
//! endpoint once, signed and in order, through a receiver that is down for a while; nothing
//! is sent for a change that was refused or rolled back, or that nobody but an admin may
//! make; two instances never send one event twice; a delivery given up shows in the audit
//! log.

use std::time::Duration;

use axum::http::StatusCode;
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, RunQueryDsl, SimpleAsyncConnection};
use gatehouse_app::db::schema::{user, webhook_delivery};
use gatehouse_app::services::audit::Actor;
use gatehouse_app::services::webhooks::{self, EventType, Timing, WebhookSecret, Webhooks};
use gatehouse_app::services::{admin, jobs};
use serde_json::{json, Value};

use crate::accounts::{person, user_id, PASSWORD};
use crate::admin::events;
use crate::artworks::create;
use crate::support::receiver::{Received, Receiver, WEBHOOK_SECRET};
use crate::support::TestApp;

/// Retries in tenths of a second, and a look every quarter second: no test waits long.
fn quick() -> Timing {
    Timing {
        first_retry: Duration::from_millis(50),
        longest_retry: Duration::from_millis(200),
        give_up_after: Duration::from_secs(3600),
        timeout: Duration::from_secs(2),
        poll: Duration::from_millis(250),
    }
}

fn hooks(receivers: &[&Receiver], timing: Timing) -> Webhooks {
    let urls: Vec<url::Url> = receivers.iter().map(|r| r.url.parse().unwrap()).collect();
    Webhooks::new(&urls, WebhookSecret::parse(WEBHOOK_SECRET).unwrap(), timing)
}

/// The `type`s of these events, in order.
fn types(events: &[Received]) -> Vec<String> {
    events
        .iter()
        .map(|e| e.event["type"].as_str().unwrap().to_string())
        .collect()
}

fn ids(events: &[Received]) -> Vec<String> {
    events.iter().map(|e| e.id.clone()).collect()
}

/// (type, attempts, delivered, failed) of each outbox row, in order.
async fn outbox(app: &TestApp) -> Vec<(String, i32, bool, bool)> {
    let mut conn = app.db.conn().await;
    webhook_delivery::table
        .order(webhook_delivery::seq)
        .select((
            webhook_delivery::event_type,
            webhook_delivery::attempts,
            webhook_delivery::delivered_at.is_not_null(),
            webhook_delivery::failed_at.is_not_null(),
        ))
        .load(&mut conn)
        .await
        .unwrap()
}

/// Waits (at most 20 s) until `done` holds of the outbox.
async fn outbox_until(
    app: &TestApp,
    what: &str,
    holds: impl Fn(&[(String, i32, bool, bool)]) -> bool,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let rows = outbox(app).await;
        if holds(&rows) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} within 20 s: {rows:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether a server function called as a script did what it was asked (its answer is the
/// redirect it would send a browser).
fn done(status: StatusCode) -> bool {
    status.is_success() || status.is_redirection()
}

/// An admin's change to the user `id`, as the user's page posts it; the answer's status.
async fn change(
    admin: &mut crate::support::http::Browser<'_>,
    id: &str,
    fields: &[(&str, &str)],
) -> StatusCode {
    let mut all = vec![("id", id)];
    all.extend_from_slice(fields);
    admin.call("/api/admin/change", &all).await.status
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_changes_reach_every_endpoint_signed_and_in_order() {
    let (first, second) = (Receiver::start().await, Receiver::start().await);
    let app = TestApp::with_webhooks(
        "carol@example.com",
        "boss@example.com",
        hooks(&[&first, &second], quick()),
    )
    .await;
    let mut boss = person(&app, "Boss", "boss@example.com", "10.0.40.1").await;
    let _bob = person(&app, "Bob", "bob@example.com", "10.0.40.2").await;
    let _carol = person(&app, "Carol", "carol@example.com", "10.0.40.3").await;
    let _dan = person(&app, "Dan", "dan@example.com", "10.0.40.4").await;
    let (boss_id, bob_id, carol_id, dan_id) = (
        user_id(&app, "boss@example.com").await,
        user_id(&app, "bob@example.com").await,
        user_id(&app, "carol@example.com").await,
        user_id(&app, "dan@example.com").await,
    );

    let steps: [&[(&str, &str)]; 11] = [
        &[("change", "access"), ("on", "true")],
        &[("change", "access"), ("on", "true")], // already in: no news
        &[("change", "role"), ("role", "admin")],
        &[("change", "role"), ("role", "user")],
        &[("change", "tier"), ("tier", "member")],
        &[("change", "tier"), ("tier", "member")], // the same tier: no news
        &[("change", "ban"), ("reason", "spam")],
        &[("change", "unban")],
        &[("change", "unban")], // not banned: no news
        &[("change", "access"), ("on", "false")],
        &[("change", "access"), ("on", "false")], // already out: no news
    ];
    for step in steps {
        assert!(done(change(&mut boss, &bob_id, step).await), "{step:?}");
    }
    let bulk = boss
        .call(
            "/api/admin/bulk-whitelist",
            &[("ids[0]", &bob_id), ("ids[1]", &dan_id)],
        )
        .await;
    assert!(done(bulk.status), "{}", bulk.body);
    let deleted = boss
        .call(
            "/api/admin/delete-user",
            &[("id", &bob_id), ("confirm", "bob@example.com")],
        )
        .await;
    assert!(done(deleted.status), "{}", deleted.body);

    let expected = [
        ("user.let_in", &boss_id),
        ("user.role_changed", &boss_id),
        ("user.let_in", &carol_id),
        ("user.let_in", &bob_id),
        ("user.role_changed", &bob_id),
        ("user.role_changed", &bob_id),
        ("user.tier_changed", &bob_id),
        ("user.banned", &bob_id),
        ("user.unbanned", &bob_id),
        ("user.access_removed", &bob_id),
        ("user.let_in", &bob_id),
        ("user.let_in", &dan_id),
        ("user.deleted", &bob_id),
    ];
    let got = first.wait_for(expected.len()).await;
    let also = second.wait_for(expected.len()).await;
    assert_eq!(
        first.refused(),
        Vec::<String>::new(),
        "every signature holds"
    );
    assert_eq!(second.refused(), Vec::<String>::new());
    let seen: Vec<(String, String)> = got
        .iter()
        .map(|e| {
            let data = &e.event["data"];
            (
                e.event["type"].as_str().unwrap().to_string(),
                data["user_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let wanted: Vec<(String, String)> = expected
        .iter()
        .map(|(kind, id)| (kind.to_string(), id.to_string()))
        .collect();
    assert_eq!(seen, wanted, "in the order the changes were made");
    assert_eq!(ids(&got), ids(&also), "every endpoint gets the same events");
    assert_eq!(got.len(), expected.len(), "each once");
    let mut unique = ids(&got);
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), got.len(), "ids are unique");

    // The shape: id, type, occurred_at, data.
    let promoted = &got[1].event;
    assert_eq!(promoted["id"], got[1].id.as_str());
    assert!(
        chrono::DateTime::parse_from_rfc3339(promoted["occurred_at"].as_str().unwrap()).is_ok()
    );
    assert_eq!(
        promoted["data"],
        json!({ "user_id": boss_id, "email": "boss@example.com", "from": "user", "to": "admin" })
    );
    assert_eq!(got[5].event["data"]["from"], "admin");
    assert_eq!(got[6].event["data"]["to"], "member");
    assert_eq!(got[6].event["data"]["from"], "free");
    assert_eq!(got[7].event["data"]["reason"], "spam");
    assert_eq!(got[12].event["data"]["email"], "bob@example.com");
    let mut keys: Vec<&String> = promoted.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["data", "id", "occurred_at", "type"]);

    // The receiver counts an event before its answer reaches the worker.
    outbox_until(
        &app,
        "a row per event and endpoint, each delivered",
        |rows| {
            rows.len() == 2 * expected.len() && rows.iter().all(|(_, _, delivered, _)| *delivered)
        },
    )
    .await;
    let rows = outbox(&app).await;
    assert!(
        rows.iter().all(|(_, attempts, _, _)| *attempts == 1),
        "{rows:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn jobs_given_away_and_the_command_line_are_announced() {
    let receiver = Receiver::start().await;
    let app = TestApp::with_webhooks(
        "@example.com",
        "boss@example.com",
        hooks(&[&receiver], quick()),
    )
    .await;
    let mut boss = person(&app, "Boss", "boss@example.com", "10.0.41.1").await;
    let mut ada = person(&app, "Ada", "ada@example.com", "10.0.41.2").await;
    let _bob = person(&app, "Bob", "bob@example.com", "10.0.41.3").await;
    let (ada_id, bob_id) = (
        user_id(&app, "ada@example.com").await,
        user_id(&app, "bob@example.com").await,
    );
    // Boss: let in and promoted; Ada and Bob: let in.
    let before = receiver.wait_for(4).await.len();

    // The backend: a job nobody owns, then linked to Ada (news); one made with its owner
    // (the backend knows).
    assert_eq!(create(&app, "j1", None).await.status, StatusCode::CREATED);
    assert_eq!(
        create(&app, "j1", Some(&ada_id)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        create(&app, "j2", Some(&ada_id)).await.status,
        StatusCode::CREATED
    );
    // An admin moves j2 to Bob, twice (the second is no news).
    for _ in 0..2 {
        let moved = boss
            .call(
                "/api/admin/assign-job",
                &[("job_id", "j2"), ("email", "bob@example.com")],
            )
            .await;
        assert!(done(moved.status), "{}", moved.body);
    }
    // `gatehouse jobs link` and `gatehouse admin grant` call these.
    let by = Actor::System("command line");
    jobs::assign(
        &app.services,
        by,
        "j1",
        "bob@example.com",
        &Default::default(),
    )
    .await
    .unwrap();
    admin::set_admin_by_email(&app.services, "ada@example.com", true)
        .await
        .unwrap();
    // Ada deletes her own account (no longer the last admin).
    let gone = ada
        .call(
            "/api/delete-account",
            &[("password", PASSWORD), ("confirm", "DELETE")],
        )
        .await;
    assert!(done(gone.status), "{}", gone.body);

    let got = receiver.wait_for(before + 5).await;
    let news: Vec<Value> = got[before..].iter().map(|e| e.event.clone()).collect();
    let kinds: Vec<&str> = news.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "job.owner_changed",
            "job.owner_changed",
            "job.owner_changed",
            "user.role_changed",
            "user.deleted"
        ]
    );
    assert_eq!(
        news[0]["data"],
        json!({ "job_id": "j1", "from": null, "to": ada_id })
    );
    assert_eq!(
        news[1]["data"],
        json!({ "job_id": "j2", "from": ada_id, "to": bob_id })
    );
    assert_eq!(
        news[2]["data"],
        json!({ "job_id": "j1", "from": ada_id, "to": bob_id })
    );
    assert_eq!(news[3]["data"]["user_id"], ada_id.as_str());
    assert_eq!(news[4]["data"]["user_id"], ada_id.as_str());
    assert_eq!(receiver.refused(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_receiver_that_is_down_gets_every_event_once_when_it_comes_back() {
    let mut receiver = Receiver::down();
    let app = TestApp::with_webhooks("", "boss@example.com", hooks(&[&receiver], quick())).await;
    let mut boss = person(&app, "Boss", "boss@example.com", "10.0.42.1").await;
    let _bob = person(&app, "Bob", "bob@example.com", "10.0.42.2").await;
    let bob_id = user_id(&app, "bob@example.com").await;
    for tier in ["member", "anonymous"] {
        let step = [("change", "tier"), ("tier", tier)];
        assert!(done(change(&mut boss, &bob_id, &step).await));
    }

    // Connections refused: the first event is tried again and again, the rest wait for it.
    outbox_until(&app, "the first event retried", |rows| {
        rows.len() == 4 && rows[0].1 >= 3 && rows[1..].iter().all(|r| r.1 == 0)
    })
    .await;

    // Back, but failing: still the first event, the same id and the same bytes each time.
    receiver.answer(StatusCode::SERVICE_UNAVAILABLE);
    receiver.come_back().await;
    let refused = receiver.wait_for_requests(3).await;
    assert!(refused
        .iter()
        .all(|r| r.id == refused[0].id && r.body == refused[0].body));

    // Well again: every event, once each, in order.
    receiver.answer(StatusCode::OK);
    let got = receiver.wait_for(4).await;
    assert_eq!(
        types(&got),
        [
            "user.let_in",
            "user.role_changed",
            "user.tier_changed",
            "user.tier_changed"
        ]
    );
    assert_eq!(got[0].id, refused[0].id, "a retry keeps its webhook-id");
    assert_eq!(got[3].event["data"]["to"], "anonymous");
    outbox_until(&app, "every row delivered", |rows| {
        rows.iter().all(|(_, _, delivered, _)| *delivered)
    })
    .await;
    // One more change is the last thing the receiver gets: nothing was sent twice.
    let step = [("change", "tier"), ("tier", "free")];
    assert!(done(change(&mut boss, &bob_id, &step).await));
    let all = receiver.wait_for(5).await;
    assert_eq!(all.len(), 5);
    let mut unique = ids(&all);
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 5, "each event delivered once");
    assert_eq!(receiver.refused(), Vec::<String>::new());
    // The first failure is on record for admins; the retries are not.
    assert_eq!(events(&app, "webhook_failing").await, 1);
    assert_eq!(events(&app, "webhook_failed").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delivery_is_given_up_after_its_time_and_admins_see_it() {
    let receiver = Receiver::start().await;
    receiver.answer(StatusCode::SERVICE_UNAVAILABLE);
    let timing = Timing {
        give_up_after: Duration::from_secs(1),
        ..quick()
    };
    let app = TestApp::with_webhooks("", "boss@example.com", hooks(&[&receiver], timing)).await;
    let mut boss = person(&app, "Boss", "boss@example.com", "10.0.43.1").await;
    outbox_until(&app, "both events given up", |rows| {
        rows.len() == 2
            && rows
                .iter()
                .all(|(_, _, delivered, failed)| *failed && !delivered)
    })
    .await;
    assert_eq!(events(&app, "webhook_failed").await, 2);

    let page = boss.get("/admin/audit?action=webhook_failed").await;
    assert_eq!(page.status, StatusCode::OK);
    let first = &receiver.got()[0];
    for shown in [
        receiver.url.as_str(),
        "user.let_in",
        "503 Service Unavailable",
        &first.id,
    ] {
        assert!(page.body.contains(shown), "{shown} in {}", page.body);
    }

    // The endpoint is not stuck behind what was given up.
    receiver.answer(StatusCode::OK);
    let boss_id = user_id(&app, "boss@example.com").await;
    let step = [("change", "tier"), ("tier", "member")];
    assert!(done(change(&mut boss, &boss_id, &step).await));
    let got = receiver.wait_for(1).await;
    assert_eq!(types(&got), ["user.tier_changed"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_refused_or_rolled_back_sends_nothing() {
    let receiver = Receiver::start().await;
    let app = TestApp::with_webhooks("", "boss@example.com", hooks(&[&receiver], quick())).await;
    let mut boss = person(&app, "Boss", "boss@example.com", "10.0.44.1").await;
    let _bob = person(&app, "Bob", "bob@example.com", "10.0.44.2").await;
    let (boss_id, bob_id) = (
        user_id(&app, "boss@example.com").await,
        user_id(&app, "bob@example.com").await,
    );
    receiver.wait_for(2).await;

    // The last admin cannot be demoted, banned or deleted.
    let demote = [("change", "role"), ("role", "user")];
    assert_eq!(
        change(&mut boss, &boss_id, &demote).await,
        StatusCode::CONFLICT
    );
    let ban = [("change", "ban"), ("reason", "oops")];
    assert_eq!(
        change(&mut boss, &boss_id, &ban).await,
        StatusCode::CONFLICT
    );
    let delete = boss
        .call(
            "/api/admin/delete-user",
            &[("id", &boss_id), ("confirm", "boss@example.com")],
        )
        .await;
    assert_eq!(delete.status, StatusCode::CONFLICT);

    // A change whose transaction fails after its event was written: the audit log refuses
    // its record.
    let mut conn = app.db.conn().await;
    conn.batch_execute(
        "CREATE FUNCTION refuse_tier() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN RAISE EXCEPTION 'refused for the test'; END $$;
         CREATE TRIGGER refuse_tier BEFORE INSERT ON audit_event
         FOR EACH ROW WHEN (NEW.action = 'tier_changed') EXECUTE FUNCTION refuse_tier();",
    )
    .await
    .unwrap();
    let tier = [("change", "tier"), ("tier", "member")];
    let failed = change(&mut boss, &bob_id, &tier).await;
    assert!(failed.is_server_error(), "{failed}");
    let bob_tier: String = user::table
        .find(&bob_id)
        .select(user::tier)
        .first(&mut conn)
        .await
        .unwrap();
    assert_eq!(bob_tier, "free", "the change rolled back");
    conn.batch_execute("DROP TRIGGER refuse_tier ON audit_event")
        .await
        .unwrap();

    // Written in a transaction that rolls back.
    let rolled_back = conn
        .transaction::<(), diesel::result::Error, _>(|conn| {
            let services = app.services.clone();
            async move {
                let data = json!({ "user_id": "nobody" });
                webhooks::enqueue(conn, &services, EventType::UserBanned, data).await?;
                Err(diesel::result::Error::RollbackTransaction)
            }
            .scope_boxed()
        })
        .await;
    assert!(rolled_back.is_err());
    assert_eq!(outbox(&app).await.len(), 2, "only the two that committed");

    // What comes next is the next thing the receiver gets.
    assert!(done(change(&mut boss, &bob_id, &tier).await));
    let got = receiver.wait_for(3).await;
    assert_eq!(
        types(&got),
        ["user.let_in", "user.role_changed", "user.tier_changed"]
    );
    assert_eq!(receiver.got().len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn nobody_but_an_admin_causes_an_event() {
    let receiver = Receiver::start().await;
    let app = TestApp::with_webhooks(
        "bob@example.com",
        "boss@example.com",
        hooks(&[&receiver], quick()),
    )
    .await;
    let mut boss = person(&app, "Boss", "boss@example.com", "10.0.45.1").await;
    let mut bob = person(&app, "Bob", "bob@example.com", "10.0.45.2").await;
    let _eve = person(&app, "Eve", "eve@example.com", "10.0.45.3").await;
    let (boss_id, bob_id, eve_id) = (
        user_id(&app, "boss@example.com").await,
        user_id(&app, "bob@example.com").await,
        user_id(&app, "eve@example.com").await,
    );
    assert_eq!(create(&app, "j1", None).await.status, StatusCode::CREATED);
    let mut anonymous = app.browser_at("10.0.45.4");

    let calls: [(&str, Vec<(&str, &str)>); 9] = [
        (
            "/api/admin/change",
            vec![("change", "access"), ("id", &eve_id), ("on", "true")],
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
            vec![("change", "ban"), ("id", &boss_id), ("reason", "coup")],
        ),
        (
            "/api/admin/change",
            vec![("change", "access"), ("id", &boss_id), ("on", "false")],
        ),
        (
            "/api/admin/delete-user",
            vec![("id", &eve_id), ("confirm", "eve@example.com")],
        ),
        ("/api/admin/bulk-whitelist", vec![("ids[0]", &eve_id)]),
        (
            "/api/admin/assign-job",
            vec![("job_id", "j1"), ("email", "bob@example.com")],
        ),
        (
            "/api/admin/change",
            vec![("change", "unban"), ("id", &bob_id)],
        ),
    ];
    for (action, fields) in &calls {
        for (who, browser) in [("a user let in", &mut bob), ("nobody", &mut anonymous)] {
            let answer = browser.call(action, fields).await;
            assert_eq!(answer.status, StatusCode::NOT_FOUND, "{action} by {who}");
        }
    }
    // The backend's API without its token.
    let linked = axum::http::Request::post("/api/internal/jobs")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(
            json!({ "job_id": "j1", "user_id": bob_id, "original_url": "https://cdn.example/a.png" })
                .to_string(),
        ))
        .unwrap();
    assert_eq!(app.request(linked).await.status, StatusCode::UNAUTHORIZED);

    // Boss let in and promoted, Bob let in: nothing else was written…
    assert_eq!(outbox(&app).await.len(), 3);
    // …so an admin's change is the next thing the receiver gets.
    let step = [("change", "access"), ("on", "true")];
    assert!(done(change(&mut boss, &eve_id, &step).await));
    let got = receiver.wait_for(4).await;
    assert_eq!(
        types(&got),
        [
            "user.let_in",
            "user.role_changed",
            "user.let_in",
            "user.let_in"
        ]
    );
    assert_eq!(got[3].event["data"]["user_id"], eve_id.as_str());
    assert_eq!(receiver.got().len(), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_webhook_urls_nothing_is_written() {
    let app = TestApp::with_access("", "boss@example.com").await;
    let mut boss = person(&app, "Boss", "boss@example.com", "10.0.46.1").await;
    let _bob = person(&app, "Bob", "bob@example.com", "10.0.46.2").await;
    let bob_id = user_id(&app, "bob@example.com").await;
    let step = [("change", "access"), ("on", "true")];
    assert!(done(change(&mut boss, &bob_id, &step).await));
    assert!(app.webhook_worker.is_none(), "no worker runs");
    assert_eq!(outbox(&app).await, []);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_instances_never_send_one_event_twice() {
    let receiver = Receiver::start().await;
    // Each answer takes a while, so both workers are awake while one delivers.
    receiver.slow(Duration::from_millis(30));
    let app = TestApp::with_webhooks("", "boss@example.com", hooks(&[&receiver], quick())).await;
    let other = app.another_instance().await;
    assert!(app.webhook_worker.is_some() && other.webhook_worker.is_some());
    let mut boss = person(&app, "Boss", "boss@example.com", "10.0.47.1").await;
    let _bob = person(&app, "Bob", "bob@example.com", "10.0.47.2").await;
    let bob_id = user_id(&app, "bob@example.com").await;
    let tiers = ["member", "free"].repeat(8);
    for tier in &tiers {
        let step = [("change", "tier"), ("tier", *tier)];
        assert!(done(change(&mut boss, &bob_id, &step).await));
    }
    // Changes made through the other instance go out the same way.
    let boss_id = user_id(&app, "boss@example.com").await;
    admin::change(
        &other.services,
        Actor::System("command line"),
        &boss_id,
        admin::Change::Tier(gatehouse_app::views::Tier::Member),
        &Default::default(),
    )
    .await
    .unwrap();

    let total = 2 + tiers.len() + 1;
    let got = receiver.wait_for(total).await;
    let to: Vec<&str> = got[2..2 + tiers.len()]
        .iter()
        .map(|e| e.event["data"]["to"].as_str().unwrap())
        .collect();
    assert_eq!(to, tiers, "in order");
    assert_eq!(got[total - 1].event["data"]["user_id"], boss_id.as_str());
    outbox_until(&app, "every row delivered", |rows| {
        rows.len() == total && rows.iter().all(|(_, _, delivered, _)| *delivered)
    })
    .await;
    assert_eq!(receiver.got().len(), total, "no event sent twice");
    assert!(
        outbox(&app)
            .await
            .iter()
            .all(|(_, attempts, _, _)| *attempts == 1),
        "each claimed once"
    );
    assert_eq!(
        receiver.most_at_once(),
        1,
        "one delivery at a time to an endpoint"
    );
}
