//! Drives the real axum router in memory: requests in, status, headers and body out.

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::Router;
use gatehouse::config::PublicUrl;
use gatehouse::routes;
use gatehouse::secrets::{SecretKey, Secrets, TokenKeys};
use gatehouse::state::AppState;
use http_body_util::BodyExt;
use tower::ServiceExt;

use super::TestDb;

pub const PUBLIC_URL: &str = "http://gatehouse.test";

/// The app as a browser sees it, on a database of the test's own.
pub struct TestApp {
    pub db: TestDb,
    router: Router,
}

impl TestApp {
    /// The app on a fresh, migrated database.
    pub async fn new() -> Self {
        Self::on(TestDb::migrated().await)
    }

    /// The app on the given database.
    pub fn on(db: TestDb) -> Self {
        let secrets = Secrets {
            secret_key: SecretKey::generate(),
            token_keys: TokenKeys::generate(),
        };
        let public_url: PublicUrl = PUBLIC_URL.parse().expect("a valid public URL");
        let router = routes::router(AppState::new(db.pool.clone(), public_url, secrets));
        Self { db, router }
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.request(Request::get(path).body(Body::empty()).unwrap())
            .await
    }

    pub async fn request(&self, request: Request<Body>) -> TestResponse {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router always answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("a readable body")
            .to_bytes();
        TestResponse {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }
}

/// What came back.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl TestResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}
