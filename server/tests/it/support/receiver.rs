//! A webhook receiver on 127.0.0.1, as the processing backend would run one: it checks each
//! request's Standard Webhooks headers and signature with HMAC code of its own (not
//! Gatehouse's), answers as the test says (2xx, 503, or not at all: its port refusing
//! connections), and records every request it read.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::Router;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use tokio::sync::Notify;

/// The key the tests' Gatehouse signs with: `whsec_` and the base64 of 32 bytes.
pub const WEBHOOK_SECRET: &str = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// One request as it came, and how it was answered.
#[derive(Clone, Debug)]
pub struct Received {
    /// `webhook-id`.
    pub id: String,
    pub body: String,
    pub event: Value,
    pub answered: StatusCode,
}

#[derive(Default)]
struct Inner {
    got: Vec<Received>,
    /// What the next requests are answered (200 unless told).
    answer: Option<StatusCode>,
    /// How long each answer takes.
    delay: Duration,
    /// Requests that failed a check, with why.
    refused: Vec<String>,
}

#[derive(Clone, Default)]
struct Shared {
    inner: Arc<Mutex<Inner>>,
    arrived: Arc<Notify>,
    in_flight: Arc<AtomicUsize>,
    most_in_flight: Arc<AtomicUsize>,
}

/// The receiver: its address (the same while it is down), what it got.
pub struct Receiver {
    pub url: String,
    port: u16,
    shared: Shared,
    server: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

impl Receiver {
    /// A receiver answering 200.
    pub async fn start() -> Self {
        let mut receiver = Self::down();
        receiver.come_back().await;
        receiver
    }

    /// A receiver whose port refuses connections until [`Self::come_back`]. The port is
    /// below Linux's ephemeral range and never given twice in a run, so no outgoing
    /// connection or other test takes it meanwhile.
    pub fn down() -> Self {
        let port = free_port();
        Self {
            url: format!("http://127.0.0.1:{port}/hooks"),
            port,
            shared: Shared::default(),
            server: None,
        }
    }

    /// Listens on its port (every answer closes its connection, so a worker cannot keep one
    /// open from before).
    pub async fn come_back(&mut self) {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("the receiver's port is free");
        let app = Router::new()
            .route("/hooks", post(receive))
            .with_state(self.shared.clone());
        self.server = Some(tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        }));
    }

    /// Answers `status` from now on.
    pub fn answer(&self, status: StatusCode) {
        self.shared.inner.lock().unwrap().answer = Some(status);
    }

    /// Takes `delay` over each answer.
    pub fn slow(&self, delay: Duration) {
        self.shared.inner.lock().unwrap().delay = delay;
    }

    /// Every request read so far, in order.
    pub fn got(&self) -> Vec<Received> {
        self.shared.inner.lock().unwrap().got.clone()
    }

    /// The events answered with a 2xx, in order.
    pub fn delivered(&self) -> Vec<Received> {
        self.got()
            .into_iter()
            .filter(|r| r.answered.is_success())
            .collect()
    }

    /// Waits (at most 20 s) until `n` events have been answered with a 2xx; returns them.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let arrived = self.shared.arrived.notified();
            let delivered = self.delivered();
            if delivered.len() >= n {
                return delivered;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                panic!(
                    "{} of {n} webhooks delivered within 20 s: {:#?}",
                    delivered.len(),
                    self.got()
                );
            }
        }
    }

    /// Waits (at most 20 s) until `n` requests have come, however answered.
    pub async fn wait_for_requests(&self, n: usize) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let arrived = self.shared.arrived.notified();
            let got = self.got();
            if got.len() >= n {
                return got;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                panic!("{} of {n} requests within 20 s: {got:#?}", got.len());
            }
        }
    }

    /// Requests that failed a check of the signature or the headers.
    pub fn refused(&self) -> Vec<String> {
        self.shared.inner.lock().unwrap().refused.clone()
    }

    /// The most requests it was answering at once.
    pub fn most_at_once(&self) -> usize {
        self.shared.most_in_flight.load(Ordering::SeqCst)
    }
}

async fn receive(
    State(shared): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    shared.most_in_flight.fetch_max(now, Ordering::SeqCst);
    let delay = shared.inner.lock().unwrap().delay;
    tokio::time::sleep(delay).await;
    let checked = verify(&headers, &body);
    let status = {
        let mut inner = shared.inner.lock().unwrap();
        match checked {
            Ok((id, event)) => {
                let answered = inner.answer.unwrap_or(StatusCode::OK);
                inner.got.push(Received {
                    id,
                    body: String::from_utf8_lossy(&body).into_owned(),
                    event,
                    answered,
                });
                answered
            }
            Err(why) => {
                inner.refused.push(why);
                StatusCode::UNAUTHORIZED
            }
        }
    };
    shared.in_flight.fetch_sub(1, Ordering::SeqCst);
    shared.arrived.notify_waiters();
    (status, [(header::CONNECTION, "close")])
}

/// The checks the Standard Webhooks libraries make: the three headers, a timestamp within
/// five minutes, one of the `v1,` signatures equal to HMAC-SHA256 over
/// `{id}.{timestamp}.{body}` under the secret's key; and the body an event whose `id` is
/// the `webhook-id`.
fn verify(headers: &HeaderMap, body: &[u8]) -> Result<(String, Value), String> {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .ok_or(format!("no {name}"))
    };
    let (id, timestamp, signatures) = (
        get("webhook-id")?,
        get("webhook-timestamp")?,
        get("webhook-signature")?,
    );
    if get("content-type")? != "application/json" {
        return Err("not JSON".into());
    }
    let sent: i64 = timestamp.parse().map_err(|_| "timestamp not a number")?;
    if (chrono::Utc::now().timestamp() - sent).abs() > 300 {
        return Err(format!("timestamp {sent} too far from now"));
    }
    let key = STANDARD
        .decode(WEBHOOK_SECRET.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    if !signatures.split(' ').any(|s| s == expected) {
        return Err(format!("bad signature {signatures} for {id}"));
    }
    let event: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    if event["id"] != id.as_str() {
        return Err(format!("the body's id is not {id}"));
    }
    Ok((id, event))
}

/// A port below Linux's ephemeral range (32768 and up) that is free now, never the same twice
/// in this run (and in a range of its own, apart from the served binaries').
fn free_port() -> u16 {
    use rand::Rng;
    static GIVEN: Mutex<Vec<u16>> = Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap();
    loop {
        let port = rand::rng().random_range(10_000..20_000);
        if !given.contains(&port) && std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            given.push(port);
            return port;
        }
    }
}
