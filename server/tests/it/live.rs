//! Live artwork status (`GET /api/artworks/events`): an artist's open page hears their jobs
//! change, whichever instance the backend reached, and nobody else's; streams need a session,
//! end with it, are capped per session, and resume after their last event.

use std::time::Duration;

use axum::http::StatusCode;
use gatehouse_app::services::audit::{Actor, Origin};
use gatehouse_app::services::jobs;
use gatehouse_app::services::live::STREAMS_PER_SESSION;
use serde_json::json;

use crate::accounts::{person, user_id};
use crate::artworks::{artists, create, patch};
use crate::support::http::{Browser, EventStream, Heard, SentEvent};
use crate::support::TestApp;

const EVENTS: &str = "/api/artworks/events";
/// Long enough for an event that is coming to arrive (they take milliseconds).
const QUIET: Duration = Duration::from_millis(700);

/// The next event named `name` about `job_id` with `status` (any, for `None`). An event
/// may come twice (a stream that catches up sends jobs as they are now): others are skipped.
async fn heard(
    stream: &mut EventStream,
    name: &str,
    job_id: &str,
    status: Option<&str>,
) -> SentEvent {
    loop {
        let event = stream.event().await;
        let data = event.json();
        if event.name == name
            && data["job_id"] == job_id
            && status.is_none_or(|status| data["status"] == status)
        {
            return event;
        }
    }
}

/// Ada and Bob (let in), and a queued job of Ada's.
async fn artists_and_a_job_of_adas<'a>(
    app: &'a TestApp,
    job_id: &str,
) -> (Browser<'a>, Browser<'a>) {
    let artists = artists(app).await;
    let ada_id = user_id(app, "ada@example.com").await;
    assert_eq!(create(app, job_id, Some(&ada_id)).await.status, 201);
    artists
}

async fn nothing_within(stream: &mut EventStream, what: &str) {
    match stream.next(QUIET).await {
        Heard::Nothing => {}
        other => panic!("{what}: expected nothing, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_artists_open_page_hears_their_job_move_on_any_instance_and_nobody_else_does() {
    let app = TestApp::with_access("@example.com", "").await;
    let (mut ada, mut bob) = artists_and_a_job_of_adas(&app, "live-1").await;

    let mut ada_tab = ada.events(EVENTS, None).await.expect("Ada's stream");
    let mut ada_other_tab = ada.events(EVENTS, None).await.expect("a second tab");
    let mut bob_tab = bob.events(EVENTS, None).await.expect("Bob's stream");

    let moved = patch(&app, "live-1", json!({ "status": "processing" })).await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    for tab in [&mut ada_tab, &mut ada_other_tab] {
        let event = heard(tab, "job", "live-1", Some("processing")).await;
        assert!(event.id.is_some(), "an id to resume after");
    }

    // The backend reached the other instance: PostgreSQL tells this one.
    let other = app.another_instance().await;
    let protected = "https://cdn.example/protected.png";
    let done = patch(
        &other,
        "live-1",
        json!({ "status": "done", "protected_url": protected }),
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let event = heard(&mut ada_tab, "job", "live-1", Some("done")).await;
    assert_eq!(event.json()["protected_url"], protected);

    nothing_within(&mut bob_tab, "Bob's stream, about Ada's job").await;

    // A refused change (done is final) changes nothing, and nothing is sent.
    let refused = patch(&app, "live-1", json!({ "status": "processing" })).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    nothing_within(&mut ada_tab, "a rolled-back change").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_given_to_someone_else_leaves_one_stream_and_joins_the_other() {
    let app = TestApp::with_access("@example.com", "").await;
    let (mut ada, mut bob) = artists_and_a_job_of_adas(&app, "moving").await;
    let mut ada_tab = ada.events(EVENTS, None).await.unwrap();
    let mut ada_job_page = ada
        .events(&format!("{EVENTS}?job_id=moving"), None)
        .await
        .unwrap();
    let mut bob_tab = bob.events(EVENTS, None).await.unwrap();

    jobs::assign(
        &app.services,
        Actor::System("test"),
        "moving",
        "bob@example.com",
        &Origin::default(),
    )
    .await
    .unwrap();

    for stream in [&mut ada_tab, &mut ada_job_page] {
        let gone = heard(stream, "gone", "moving", None).await;
        assert_eq!(gone.json(), json!({ "job_id": "moving" }), "only its id");
    }
    heard(&mut bob_tab, "job", "moving", Some("queued")).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stream_needs_a_session_access_and_a_job_of_ones_own() {
    let app = TestApp::with_access("@example.com", "").await;
    let (mut ada, mut bob) = artists_and_a_job_of_adas(&app, "adas").await;

    let refused = app.browser().events(EVENTS, None).await.err().unwrap();
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(refused.json()["error"]
        .as_str()
        .unwrap()
        .contains("Sign in"));

    for job in ["adas", "no-such-job"] {
        let refused = bob
            .events(&format!("{EVENTS}?job_id={job}"), None)
            .await
            .err()
            .unwrap();
        assert_eq!(refused.status, StatusCode::NOT_FOUND, "Bob and {job}");
    }
    assert!(ada
        .events(&format!("{EVENTS}?job_id=adas"), None)
        .await
        .is_ok());

    let bad = ada.events(EVENTS, Some("yesterday")).await.err().unwrap();
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("Last-Event-ID"), "{}", bad.body);

    // Someone still waiting to be let in sees no artworks, live or not.
    let waiting = TestApp::new().await;
    let mut carol = person(&waiting, "Carol", "carol@example.com", "10.2.0.3").await;
    let refused = carol.events(EVENTS, None).await.err().unwrap();
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_holds_a_few_streams_and_one_more_is_429() {
    let app = TestApp::with_access("@example.com", "").await;
    let (mut ada, mut bob) = artists(&app).await;
    let mut open = Vec::new();
    for _ in 0..STREAMS_PER_SESSION {
        open.push(ada.events(EVENTS, None).await.expect("within the cap"));
    }
    let refused = ada.events(EVENTS, None).await.err().unwrap();
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        refused.body.contains("close a few tabs"),
        "{}",
        refused.body
    );
    let bobs = bob.events(EVENTS, None).await;
    assert!(bobs.is_ok(), "the cap is per session");
    assert_eq!(
        app.services.live.streams(),
        STREAMS_PER_SESSION + 1,
        "what the metrics show"
    );

    drop(open.pop());
    drop(bobs);
    let again = ada.events(EVENTS, None).await;
    assert!(again.is_ok(), "a closed stream frees its place");
    assert_eq!(app.services.live.streams(), STREAMS_PER_SESSION);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reconnect_is_sent_what_changed_after_its_last_event() {
    let app = TestApp::with_access("@example.com", "").await;
    let (mut ada, _bob) = artists_and_a_job_of_adas(&app, "resumed").await;
    let mut tab = ada.events(EVENTS, None).await.unwrap();
    patch(&app, "resumed", json!({ "status": "processing" })).await;
    let last = heard(&mut tab, "job", "resumed", Some("processing"))
        .await
        .id
        .unwrap();
    drop(tab);

    // Away (a network blip): the job is done meanwhile.
    let done = json!({ "status": "done", "protected_url": "https://cdn.example/p.png" });
    assert_eq!(patch(&app, "resumed", done).await.status, StatusCode::OK);

    let mut back = ada.events(EVENTS, Some(&last)).await.unwrap();
    let caught_up = heard(&mut back, "job", "resumed", Some("done")).await;
    let resync = back.event().await;
    assert_eq!(resync.name, "resync", "then: ask for the list again");
    assert!(
        caught_up.id.as_deref().unwrap() >= last.as_str(),
        "ids go on from the last one"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stream_ends_with_its_session_and_tells_it_nothing_more() {
    let app = TestApp::with_access("@example.com", "").await;
    let (mut ada, _bob) = artists_and_a_job_of_adas(&app, "after").await;
    let mut tab = ada.events(EVENTS, None).await.unwrap();
    let cookie = ada.cookie("gatehouse_session").unwrap().to_string();

    ada.submit("/profile", "/api/sign-out", &[]).await;
    patch(&app, "after", json!({ "status": "processing" })).await;
    match tab.next(Duration::from_secs(5)).await {
        Heard::Ended => {}
        other => panic!("the stream of an ended session ends, got {other:?}"),
    }

    // The old cookie opens nothing.
    let mut thief = app.browser();
    thief.set_cookie("gatehouse_session", &cookie);
    let refused = thief.events(EVENTS, None).await.err().unwrap();
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
}
