//! Artwork jobs: the artist's pages and their isolation, the processing backend's internal
//! API (auth, idempotent create, transitions, concurrency), and admins assigning jobs.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use gatehouse_app::db::schema::{artwork_jobs, audit_event};
use gatehouse_app::services::audit::{Actor, Origin};
use gatehouse_app::services::jobs;

use crate::accounts::{person, user_id};
use crate::support::http::{Browser, TestResponse, INTERNAL_TOKEN, OLD_INTERNAL_TOKEN};
use crate::support::TestApp;

/// Ada and Bob, both let in by the allow-list.
pub(crate) async fn artists(app: &TestApp) -> (Browser<'_>, Browser<'_>) {
    let ada = person(app, "Ada", "ada@example.com", "10.2.0.1").await;
    let bob = person(app, "Bob", "bob@example.com", "10.2.0.2").await;
    (ada, bob)
}

/// A request to the internal API.
async fn internal(
    app: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
) -> TestResponse {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let request = match body {
        Some(body) => request
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string())),
        None => request.body(Body::empty()),
    };
    app.request(request.unwrap()).await
}

pub(crate) async fn create(app: &TestApp, job_id: &str, user_id: Option<&str>) -> TestResponse {
    let body = serde_json::json!({ "job_id": job_id, "user_id": user_id, "original_url": "https://cdn.example/art.png" });
    internal(
        app,
        "POST",
        "/api/internal/jobs",
        Some(INTERNAL_TOKEN),
        Some(body),
    )
    .await
}

pub(crate) async fn patch(app: &TestApp, job_id: &str, body: serde_json::Value) -> TestResponse {
    internal(
        app,
        "PATCH",
        &format!("/api/internal/jobs/{job_id}"),
        Some(INTERNAL_TOKEN),
        Some(body),
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn an_artist_submits_an_artwork_and_only_they_see_it() {
    let app = TestApp::with_access("@example.com", "").await;
    let (mut ada, mut bob) = artists(&app).await;

    let empty = ada.get("/artworks").await;
    assert!(
        empty.body.contains("No artworks here yet"),
        "{}",
        empty.body
    );
    let (posted, page) = ada
        .submit(
            "/artworks",
            "/api/submit-artwork",
            &[("original_url", "https://cdn.example/sunflowers.png")],
        )
        .await;
    assert_eq!(posted.location(), "/artworks?notice=submitted");
    assert!(page.body.contains("Your artwork is queued for protection."));
    assert!(page
        .body
        .contains(r#"src="https://cdn.example/sunflowers.png""#));
    assert!(
        page.body
            .contains(r#"<span class="badge warn">queued</span>"#),
        "{}",
        page.body
    );

    let mut conn = app.db.conn().await;
    let job_id: String = artwork_jobs::table
        .select(artwork_jobs::job_id)
        .first(&mut conn)
        .await
        .unwrap();
    let detail = ada.get(&format!("/artworks/{job_id}")).await;
    assert_eq!(detail.status, StatusCode::OK);
    assert!(
        detail.body.contains("Submitted (queued)"),
        "{}",
        detail.body
    );

    // Bob: not in his list, and the page, the function and a made-up id are the same 404.
    assert!(!bob.get("/artworks").await.body.contains("sunflowers"));
    let theirs = bob.get(&format!("/artworks/{job_id}")).await;
    let nobodys = bob.get("/artworks/no-such-job").await;
    assert_eq!(
        (theirs.status, nobodys.status),
        (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND)
    );
    let theirs = bob.call("/api/my-job", &[("job_id", &job_id)]).await;
    let nobodys = bob.call("/api/my-job", &[("job_id", "no-such-job")]).await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    assert_eq!(theirs.body, nobodys.body, "existence is not revealed");
    let bobs_list = bob.call("/api/my-jobs", &[]).await.json();
    assert!(bobs_list["rows"].as_array().unwrap().is_empty());

    // Filters and the home page summary.
    let done = ada.call("/api/my-jobs", &[("status", "done")]).await.json();
    assert!(done["rows"].as_array().unwrap().is_empty());
    let queued = ada
        .call("/api/my-jobs", &[("status", "queued")])
        .await
        .json();
    assert_eq!(queued["rows"][0]["job_id"], job_id.as_str());
    assert_eq!(
        ada.call("/api/my-jobs", &[("status", "lost")]).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert!(ada
        .get("/")
        .await
        .body
        .contains("You have 1 artwork job(s)."));
}

#[tokio::test(flavor = "multi_thread")]
async fn artworks_are_for_people_who_have_been_let_in() {
    let app = TestApp::new().await;
    let mut waiting = person(&app, "Wes", "wes@example.com", "10.2.1.1").await;
    for action in ["/api/my-jobs", "/api/my-job", "/api/submit-artwork"] {
        let answer = waiting
            .call(action, &[("original_url", "https://cdn.example/a.png")])
            .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{action}");
        let anonymous = app.browser_at("10.2.1.2").call(action, &[]).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED, "{action}");
    }
    assert!(waiting
        .get("/artworks")
        .await
        .body
        .contains("waiting for an administrator"));
    let mut conn = app.db.conn().await;
    assert_eq!(
        artwork_jobs::table
            .count()
            .get_result::<i64>(&mut conn)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_artwork_address_is_refused() {
    let app = TestApp::with_access("@example.com", "").await;
    let (mut ada, _) = artists(&app).await;
    let long = format!("https://cdn.example/{}", "a".repeat(2100));
    for (url, expected) in [
        ("", "Enter the address"),
        ("cdn.example/a.png", "full address"),
        ("ftp://cdn.example/a.png", "Only http:// and https://"),
        ("javascript:alert(1)", "Only http:// and https://"),
        ("https://user:pw@cdn.example/a.png", "user name or password"),
        (long.as_str(), "at most 2048 characters"),
        // What only the backend could reach (SSRF), however it is spelled.
        (
            "http://169.254.169.254/latest/meta-data/",
            "points inside the network",
        ),
        ("http://127.0.0.1:5432/", "points inside the network"),
        ("http://2130706433/a.png", "points inside the network"),
        (
            "http://[::ffff:10.0.0.1]/a.png",
            "points inside the network",
        ),
        ("http://[fd12::1]/a.png", "points inside the network"),
        ("http://localhost:3000/a.png", "points inside the network"),
    ] {
        let answer = ada
            .call("/api/submit-artwork", &[("original_url", url)])
            .await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        assert!(answer.body.contains(expected), "{url}: {}", answer.body);
    }
    let (_, page) = ada
        .submit(
            "/artworks",
            "/api/submit-artwork",
            &[("original_url", "ftp://x.example/a")],
        )
        .await;
    assert!(
        page.body.contains(r#"value="ftp://x.example/a""#),
        "the input is kept"
    );
    let mut conn = app.db.conn().await;
    assert_eq!(
        artwork_jobs::table
            .count()
            .get_result::<i64>(&mut conn)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_internal_api_wants_a_valid_bearer_token() {
    let app = TestApp::new().await;
    let body = serde_json::json!({ "job_id": "j1", "original_url": "https://cdn.example/a.png" });
    for token in [
        None,
        Some("wrong"),
        Some("test-internal-token-0123456789abcdeX"),
        Some(""),
    ] {
        for (method, path) in [
            ("GET", "/api/internal/session"),
            ("POST", "/api/internal/jobs"),
            ("PATCH", "/api/internal/jobs/j1"),
        ] {
            let answer = internal(&app, method, path, token, Some(body.clone())).await;
            assert_eq!(
                answer.status,
                StatusCode::UNAUTHORIZED,
                "{method} {path} with {token:?}"
            );
            assert!(answer.body.contains("bearer token"));
        }
    }
    // The token being rotated out still works alongside the new one.
    let old = internal(
        &app,
        "POST",
        "/api/internal/jobs",
        Some(OLD_INTERNAL_TOKEN),
        Some(body),
    )
    .await;
    assert_eq!(old.status, StatusCode::CREATED, "{}", old.body);
}

/// The session lookups of concurrent requests share a few connections, pipelined
/// (db::shared): each answer must still be about its own session.
#[tokio::test(flavor = "multi_thread")]
async fn concurrent_session_checks_each_learn_their_own_person() {
    let app = TestApp::new().await;
    let mut tokens = Vec::new();
    for n in 0..4 {
        let email = format!("person{n}@example.com");
        let browser = person(&app, &format!("Person {n}"), &email, &format!("10.3.3.{n}")).await;
        tokens.push((
            email,
            browser.cookie("gatehouse_session").unwrap().to_string(),
        ));
    }
    let app = &app;
    let checks = (0..64).map(|i| {
        let (email, token) = &tokens[i % tokens.len()];
        let request = Request::get("/api/internal/session")
            .header(header::AUTHORIZATION, format!("Bearer {INTERNAL_TOKEN}"))
            .header("x-session-token", token)
            .body(Body::empty())
            .unwrap();
        async move { (email, app.request(request).await) }
    });
    for (email, answer) in futures::future::join_all(checks).await {
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        assert_eq!(answer.json()["email"], email.as_str());
    }
}

/// PostgreSQL ends every connection of Gatehouse's (a failover, an administrator's
/// `pg_terminate_backend`): the next session check is answered on a new connection, not
/// refused.
#[tokio::test(flavor = "multi_thread")]
async fn a_session_check_is_answered_after_the_database_ends_its_connections() {
    let app = TestApp::with_access("ada@example.com", "").await;
    let ada = person(&app, "Ada", "ada@example.com", "10.2.2.9").await;
    let token = ada.cookie("gatehouse_session").unwrap().to_string();
    let ask = || {
        app.request(
            Request::get("/api/internal/session")
                .header(header::AUTHORIZATION, format!("Bearer {INTERNAL_TOKEN}"))
                .header("x-session-token", &token)
                .body(Body::empty())
                .unwrap(),
        )
    };
    let mut admin = AsyncPgConnection::establish(&app.db.url).await.unwrap();
    for round in 0..3 {
        let answer = ask().await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "round {round}: {}",
            answer.body
        );
        assert_eq!(answer.json()["email"], "ada@example.com");
        let ended: Vec<bool> = diesel::sql_query(
            "SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .load::<Ended>(&mut admin)
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.ended)
        .collect();
        assert!(!ended.is_empty() && ended.iter().all(|e| *e), "{ended:?}");
    }
    let answer = ask().await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
}

#[derive(diesel::QueryableByName, Debug)]
struct Ended {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    ended: bool,
}

#[tokio::test(flavor = "multi_thread")]
async fn the_backend_learns_who_a_session_belongs_to() {
    let app = TestApp::with_access("ada@example.com", "").await;
    let ada = person(&app, "Ada", "ada@example.com", "10.2.2.1").await;
    let cookie = ada.cookie("gatehouse_session").unwrap().to_string();
    let ask = |token: Option<String>| {
        let mut request = Request::get("/api/internal/session")
            .header(header::AUTHORIZATION, format!("Bearer {INTERNAL_TOKEN}"));
        if let Some(token) = token {
            request = request.header("x-session-token", token);
        }
        app.request(request.body(Body::empty()).unwrap())
    };
    let known = ask(Some(cookie.clone())).await;
    assert_eq!(known.status, StatusCode::OK, "{}", known.body);
    let info = known.json();
    assert_eq!(info["email"], "ada@example.com");
    assert_eq!(info["role"], "user");
    assert_eq!(info["tier"], "free");
    assert_eq!(info["whitelisted"], true);
    assert_eq!(
        info["user_id"],
        user_id(&app, "ada@example.com").await.as_str()
    );
    assert!(info["session_expires_at"].as_str().unwrap() > "2026");

    assert_eq!(
        ask(Some("not-a-session".into())).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(ask(None).await.status, StatusCode::BAD_REQUEST);
    let mut ada = ada;
    ada.submit("/profile", "/api/sign-out", &[]).await;
    assert_eq!(
        ask(Some(cookie)).await.status,
        StatusCode::UNAUTHORIZED,
        "revoked at once"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn creating_a_job_is_idempotent_and_adopts_unowned_ones() {
    let app = TestApp::with_access("@example.com", "").await;
    let (_ada, _bob) = artists(&app).await;
    let (ada, bob) = (
        user_id(&app, "ada@example.com").await,
        user_id(&app, "bob@example.com").await,
    );

    let first = create(&app, "job-7", Some(&ada)).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(first.json()["status"], "queued");
    let again = create(&app, "job-7", Some(&ada)).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json()["job_id"], "job-7");
    let stolen = create(&app, "job-7", Some(&bob)).await;
    assert_eq!(stolen.status, StatusCode::CONFLICT);

    let unowned = create(&app, "job-8", None).await;
    assert_eq!(unowned.status, StatusCode::CREATED);
    let adopted = create(&app, "job-8", Some(&bob)).await;
    assert_eq!(adopted.status, StatusCode::OK);
    let mut conn = app.db.conn().await;
    let owner: Option<String> = artwork_jobs::table
        .filter(artwork_jobs::job_id.eq("job-8"))
        .select(artwork_jobs::user_id)
        .first(&mut conn)
        .await
        .unwrap();
    assert_eq!(owner.as_deref(), Some(bob.as_str()));
    assert_eq!(
        artwork_jobs::table
            .count()
            .get_result::<i64>(&mut conn)
            .await
            .unwrap(),
        2
    );

    // Bad input: 4xx with a message, nothing stored.
    let cases = [
        (
            serde_json::json!({ "job_id": "j", "original_url": "ftp://x.example/a" }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "http://",
        ),
        (
            serde_json::json!({ "job_id": "bad id!", "original_url": "https://x.example/a" }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "job id",
        ),
        (
            serde_json::json!({ "job_id": "j", "user_id": "nobody", "original_url": "https://x.example/a" }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "No user",
        ),
        (
            serde_json::json!({ "original_url": "https://x.example/a" }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "job_id",
        ),
        (
            serde_json::json!({ "job_id": "j\u{0}", "original_url": "https://x.example/a" }),
            StatusCode::BAD_REQUEST,
            "NUL",
        ),
    ];
    for (body, status, expected) in cases {
        let answer = internal(
            &app,
            "POST",
            "/api/internal/jobs",
            Some(INTERNAL_TOKEN),
            Some(body.clone()),
        )
        .await;
        assert_eq!(answer.status, status, "{body}: {}", answer.body);
        assert!(answer.body.contains(expected), "{body}: {}", answer.body);
    }
    let garbage = app
        .request(
            Request::post("/api/internal/jobs")
                .header(header::AUTHORIZATION, format!("Bearer {INTERNAL_TOKEN}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{not json"))
                .unwrap(),
        )
        .await;
    assert_eq!(garbage.status, StatusCode::BAD_REQUEST);
    let untyped = app
        .request(
            Request::post("/api/internal/jobs")
                .header(header::AUTHORIZATION, format!("Bearer {INTERNAL_TOKEN}"))
                .body(Body::from(
                    r#"{"job_id":"x","original_url":"https://x.example/a"}"#,
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(untyped.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let huge = serde_json::json!({ "job_id": "big", "original_url": format!("https://x.example/{}", "a".repeat(20_000)) });
    let too_large = internal(
        &app,
        "POST",
        "/api/internal/jobs",
        Some(INTERNAL_TOKEN),
        Some(huge),
    )
    .await;
    assert_eq!(too_large.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        artwork_jobs::table
            .count()
            .get_result::<i64>(&mut conn)
            .await
            .unwrap(),
        2
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn jobs_move_queued_processing_done_and_nothing_else() {
    let app = TestApp::with_access("@example.com", "").await;
    let (mut ada, _) = artists(&app).await;
    let ada_id = user_id(&app, "ada@example.com").await;
    create(&app, "job-1", Some(&ada_id)).await;

    for (body, status) in [
        (
            serde_json::json!({ "status": "done", "protected_url": "https://cdn.example/p.png" }),
            StatusCode::CONFLICT,
        ),
        (
            serde_json::json!({ "status": "queued" }),
            StatusCode::CONFLICT,
        ),
        (
            serde_json::json!({ "status": "exploded" }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            serde_json::json!({ "status": "processing" }),
            StatusCode::OK,
        ),
        (
            serde_json::json!({ "status": "processing" }),
            StatusCode::CONFLICT,
        ),
        (
            serde_json::json!({ "status": "done" }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            serde_json::json!({ "status": "done", "protected_url": "javascript:x" }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            serde_json::json!({ "status": "done", "protected_url": "https://cdn.example/p.png" }),
            StatusCode::OK,
        ),
        (
            serde_json::json!({ "status": "failed" }),
            StatusCode::CONFLICT,
        ),
    ] {
        let answer = patch(&app, "job-1", body.clone()).await;
        assert_eq!(answer.status, status, "{body}: {}", answer.body);
    }
    assert_eq!(
        patch(
            &app,
            "no-such-job",
            serde_json::json!({ "status": "processing" })
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );

    let page = ada.get("/artworks/job-1").await;
    assert!(
        page.body.contains(r#"<span class="badge ok">done</span>"#),
        "{}",
        page.body
    );
    assert!(page.body.contains(r#"src="https://cdn.example/p.png""#));
    let list = ada.get("/artworks").await;
    assert!(
        list.body.contains(r#"src="https://cdn.example/p.png""#),
        "the list shows the done job's protected image: {}",
        list.body
    );
    assert!(page.body.contains("queued → processing") && page.body.contains("processing → done"));
    let mut conn = app.db.conn().await;
    let changes: i64 = audit_event::table
        .filter(audit_event::action.eq("job_status_changed"))
        .count()
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!(changes, 2, "only the two real changes are on record");
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_patches_of_one_job_end_in_a_valid_state() {
    let app = TestApp::new().await;
    create(&app, "race", None).await;
    let attempts = (0..20).map(|n| {
        let body = if n % 2 == 0 {
            serde_json::json!({ "status": "processing" })
        } else {
            serde_json::json!({ "status": "failed" })
        };
        patch(&app, "race", body)
    });
    // Polled together: every PATCH is in flight at once.
    let answers = futures::future::join_all(attempts).await;
    let ok: Vec<_> = answers
        .iter()
        .filter(|a| a.status == StatusCode::OK)
        .collect();
    assert!(answers
        .iter()
        .all(|a| a.status == StatusCode::OK || a.status == StatusCode::CONFLICT));
    // queued → processing once, then at most processing → failed once.
    assert!((1..=2).contains(&ok.len()), "{} succeeded", ok.len());
    let mut conn = app.db.conn().await;
    let status: String = artwork_jobs::table
        .select(artwork_jobs::status)
        .first(&mut conn)
        .await
        .unwrap();
    assert!(["processing", "failed"].contains(&status.as_str()));
    let changes: i64 = audit_event::table
        .filter(audit_event::action.eq("job_status_changed"))
        .count()
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!(changes as usize, ok.len(), "one event per applied change");
}

#[tokio::test(flavor = "multi_thread")]
async fn admins_give_unowned_jobs_to_their_owners() {
    let app = TestApp::with_access("@example.com", "boss@example.com").await;
    let mut boss = person(&app, "Boss", "boss@example.com", "10.2.3.1").await;
    let (mut ada, mut bob) = artists(&app).await;
    create(&app, "old-1", None).await;
    let page = boss.get("/admin/jobs").await;
    assert!(page.body.contains("old-1"), "{}", page.body);
    assert_eq!(ada.get("/admin/jobs").await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        ada.call(
            "/api/admin/assign-job",
            &[("job_id", "old-1"), ("email", "ada@example.com")]
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );

    let (posted, page) = boss
        .submit(
            "/admin/jobs",
            "/api/admin/assign-job",
            &[("job_id", "old-1"), ("email", "Ada@Example.com")],
        )
        .await;
    assert_eq!(posted.location(), "/admin/jobs?notice=assigned");
    assert!(page.body.contains("Every job has an owner."));
    assert_eq!(ada.get("/artworks/old-1").await.status, StatusCode::OK);

    // Moving it to Bob: Ada loses it.
    boss.submit(
        "/admin/jobs",
        "/api/admin/assign-job",
        &[("job_id", "old-1"), ("email", "bob@example.com")],
    )
    .await;
    assert_eq!(
        ada.get("/artworks/old-1").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(bob.get("/artworks/old-1").await.status, StatusCode::OK);

    let unknown = boss
        .call(
            "/api/admin/assign-job",
            &[("job_id", "old-1"), ("email", "nobody@example.com")],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    let missing = boss
        .call(
            "/api/admin/assign-job",
            &[("job_id", "nope"), ("email", "bob@example.com")],
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let mut conn = app.db.conn().await;
    let assigned: i64 = audit_event::table
        .filter(audit_event::action.eq("job_assigned"))
        .count()
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!(assigned, 2);

    // Admins moving one job at once: each move is recorded from the owner it really had.
    let (ada_id, bob_id) = (
        user_id(&app, "ada@example.com").await,
        user_id(&app, "bob@example.com").await,
    );
    let moves = (0..12).map(|n| {
        let to = if n % 2 == 0 {
            "ada@example.com"
        } else {
            "bob@example.com"
        };
        let services = app.services.clone();
        async move {
            jobs::assign(
                &services,
                Actor::System("test"),
                "old-1",
                to,
                &Origin::default(),
            )
            .await
        }
    });
    for moved in futures::future::join_all(moves.map(tokio::spawn)).await {
        moved.unwrap().unwrap();
    }
    let details: Vec<serde_json::Value> = audit_event::table
        .filter(audit_event::action.eq("job_assigned"))
        .order(audit_event::id)
        .select(audit_event::detail)
        .load(&mut conn)
        .await
        .unwrap();
    assert_eq!(details.len(), 14);
    for pair in details.windows(2) {
        assert_eq!(pair[1]["from"], pair[0]["to"], "{details:#?}");
    }
    let owner: Option<String> = artwork_jobs::table
        .filter(artwork_jobs::job_id.eq("old-1"))
        .select(artwork_jobs::user_id)
        .first(&mut conn)
        .await
        .unwrap();
    assert_eq!(owner.as_deref(), details[13]["to"].as_str());
    assert!([ada_id, bob_id].contains(&owner.unwrap()));
}
