//! Signed webhooks to the processing backend (issue 20). A change the backend must know of
//! (someone let in, banned, deleted, a job given to someone, …) is written to an outbox in
//! the change's own transaction ([`enqueue`]): an event exists exactly when its change
//! committed, and none is lost in a crash. A worker ([`run`]) posts each event to every
//! WEBHOOK_URLS endpoint, signed as Standard Webhooks signs (`webhook-id`,
//! `webhook-timestamp`, `webhook-signature`: HMAC-SHA256 under WEBHOOK_SECRET), and retries
//! with doubling waits for up to a day.
//!
//! An endpoint gets its events one at a time, in the order they were written: a later one
//! waits while an earlier one is retried. Delivery is at least once: a receiver that has
//! seen a `webhook-id` before answers 2xx and does nothing. Any number of workers may run,
//! on one instance or many: each attempt is claimed in the database by one of them, and no
//! connection is held while a request is on its way.

use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{SecondsFormat, Utc};
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use url::Url;

use super::audit::{self, Actor, Origin};
use super::{ServiceError, Services};
use crate::db::models::new_id;
use crate::db::webhooks::{self as outbox, Claimed};
use crate::db::DbPool;

/// What an event reports: its `type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    /// Let in: whitelisted (by an admin, ALLOWLIST or ADMIN_EMAILS).
    UserLetIn,
    /// No longer whitelisted; their sessions have ended.
    UserAccessRemoved,
    /// Banned (or the reason of a ban changed); their sessions have ended.
    UserBanned,
    UserUnbanned,
    UserRoleChanged,
    UserTierChanged,
    /// Deleted, with everything they owned (their jobs too).
    UserDeleted,
    /// A job was given to a user: an unowned one linked, or one moved between users.
    JobOwnerChanged,
}

impl EventType {
    pub const ALL: [EventType; 8] = [
        EventType::UserLetIn,
        EventType::UserAccessRemoved,
        EventType::UserBanned,
        EventType::UserUnbanned,
        EventType::UserRoleChanged,
        EventType::UserTierChanged,
        EventType::UserDeleted,
        EventType::JobOwnerChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::UserLetIn => "user.let_in",
            EventType::UserAccessRemoved => "user.access_removed",
            EventType::UserBanned => "user.banned",
            EventType::UserUnbanned => "user.unbanned",
            EventType::UserRoleChanged => "user.role_changed",
            EventType::UserTierChanged => "user.tier_changed",
            EventType::UserDeleted => "user.deleted",
            EventType::JobOwnerChanged => "job.owner_changed",
        }
    }
}

/// What WEBHOOK_SECRET must look like.
pub const SECRET_FORM: &str = "expected `whsec_` and the base64 of 24 to 64 random bytes, as \
     Standard Webhooks writes a secret (`echo whsec_$(openssl rand -base64 32)` makes one)";

/// WEBHOOK_SECRET's key: what events are signed with.
#[derive(Clone)]
pub struct WebhookSecret(Vec<u8>);

/// Never the key itself.
impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(…)")
    }
}

impl WebhookSecret {
    /// Standard Webhooks' form: `whsec_` and the base64 of the key (24 to 64 bytes, as the
    /// specification asks).
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        raw.trim()
            .strip_prefix("whsec_")
            .and_then(|key| STANDARD.decode(key).ok())
            .filter(|key| (24..=64).contains(&key.len()))
            .map(Self)
            .ok_or(SECRET_FORM)
    }

    /// The `webhook-signature` of `body` sent as message `id` at `timestamp` (seconds since
    /// the epoch): `v1,` and the base64 of HMAC-SHA256 over `{id}.{timestamp}.{body}`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &str) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        mac.update(format!("{id}.{timestamp}.").as_bytes());
        mac.update(body.as_bytes());
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

/// A WEBHOOK_URLS entry: an http or https address with a host and no user name or password
/// (the signature is what proves Gatehouse sent an event, and the address is shown to
/// admins).
pub fn endpoint(raw: &str) -> Result<Url, String> {
    let url = Url::parse(raw.trim()).map_err(|e| format!("`{raw}` is not an address ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(format!("`{raw}` is not an http:// or https:// address"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "`{}` carries a user name or password; the signature authenticates Gatehouse",
            url.host_str().unwrap_or_default()
        ));
    }
    Ok(url)
}

/// How deliveries are paced; tests make it quicker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    /// The wait after a first failed attempt; it doubles after each failure…
    pub first_retry: Duration,
    /// …up to this.
    pub longest_retry: Duration,
    /// How long after its event a delivery is retried at most; then it is given up.
    pub give_up_after: Duration,
    /// How long one attempt may take, connecting included.
    pub timeout: Duration,
    /// How often the worker looks unasked, for an announcement it missed.
    pub poll: Duration,
}

impl Default for Timing {
    /// 5 s, doubling to at most an hour, for 24 hours; 10 s an attempt; a look every 30 s.
    fn default() -> Self {
        Self {
            first_retry: Duration::from_secs(5),
            longest_retry: Duration::from_secs(3600),
            give_up_after: Duration::from_secs(24 * 3600),
            timeout: Duration::from_secs(10),
            poll: Duration::from_secs(30),
        }
    }
}

impl Timing {
    /// The wait after the `attempts`-th failed attempt.
    pub fn retry_after(&self, attempts: i32) -> Duration {
        let doublings = attempts.saturating_sub(1).clamp(0, 30) as u32;
        self.first_retry
            .saturating_mul(1 << doublings)
            .min(self.longest_retry)
    }

    /// How long a claimed attempt is kept from other workers: longer than any attempt
    /// takes, so only a worker that stopped mid-attempt (a crash) lets another try again.
    fn lease(&self) -> Duration {
        self.timeout + Duration::from_secs(30)
    }
}

/// WEBHOOK_URLS and WEBHOOK_SECRET, with the client that posts.
#[derive(Clone)]
pub struct Webhooks {
    /// Each once, as `Url` writes it: the outbox's `endpoint`.
    endpoints: Vec<String>,
    secret: WebhookSecret,
    timing: Timing,
    http: reqwest::Client,
}

impl std::fmt::Debug for Webhooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhooks")
            .field("endpoints", &self.endpoints)
            .field("timing", &self.timing)
            .finish_non_exhaustive()
    }
}

impl Webhooks {
    pub fn new(endpoints: &[Url], secret: WebhookSecret, timing: Timing) -> Self {
        let mut unique: Vec<String> = Vec::new();
        for url in endpoints {
            if !unique.contains(&url.to_string()) {
                unique.push(url.to_string());
            }
        }
        let http = reqwest::Client::builder()
            // An endpoint that moved is configured anew; following it could lead anywhere.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timing.timeout)
            .user_agent("Gatehouse-Webhooks")
            .build()
            .expect("the HTTP client builds");
        Self {
            endpoints: unique,
            secret,
            timing,
            http,
        }
    }

    pub fn endpoints(&self) -> &[String] {
        &self.endpoints
    }
}

/// Writes an event of `kind` with `data` to the outbox, one row per endpoint, in the
/// caller's transaction (call it inside the transaction of the change it reports): it is
/// sent if and only if the change commits, and the worker is woken on commit. Without
/// WEBHOOK_URLS, nothing.
pub async fn enqueue(
    conn: &mut AsyncPgConnection,
    services: &Services,
    kind: EventType,
    data: Value,
) -> diesel::QueryResult<()> {
    let Some(hooks) = &services.webhooks else {
        return Ok(());
    };
    let id = new_id();
    let body = json!({
        "id": id,
        "type": kind.as_str(),
        // The moment of the change, not the start of its transaction.
        "occurred_at": Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true),
        "data": data,
    })
    .to_string();
    let endpoints: Vec<&str> = hooks.endpoints.iter().map(String::as_str).collect();
    outbox::insert(conn, &id, kind.as_str(), &body, &endpoints).await
}

/// A delivery that is failing, as the admin dashboard shows it.
#[derive(Clone, Debug)]
pub struct FailingDelivery {
    pub endpoint: String,
    pub event_type: String,
    pub attempts: i32,
    pub last_error: String,
    /// When it is tried again; `None` once it was given up.
    pub next_attempt_at: Option<chrono::DateTime<Utc>>,
    pub given_up_at: Option<chrono::DateTime<Utc>>,
}

/// How long a given-up delivery stays on the dashboard.
pub const GIVEN_UP_SHOWN: chrono::Duration = chrono::Duration::days(1);
/// The most failing deliveries the dashboard shows.
pub const FAILING_SHOWN: i64 = 20;

/// Deliveries whose last attempt failed and that were not delivered since: those still
/// retried, and those given up in the last day; the newest first (at most
/// [`FAILING_SHOWN`]). An attempt on its way that has not failed yet is not one.
pub async fn failing(services: &Services) -> Result<Vec<FailingDelivery>, ServiceError> {
    let mut conn = services.pool.get().await?;
    let since = Utc::now() - GIVEN_UP_SHOWN;
    let rows = outbox::failing(&mut conn, since, FAILING_SHOWN).await?;
    Ok(rows
        .into_iter()
        .map(|row| FailingDelivery {
            endpoint: row.endpoint,
            event_type: row.event_type,
            attempts: row.attempts,
            last_error: row.last_error.unwrap_or_default(),
            next_attempt_at: row.failed_at.is_none().then_some(row.next_attempt_at),
            given_up_at: row.failed_at,
        })
        .collect())
}

/// After a failure to listen, the wait before trying again (the worker's own looks cover
/// the gap).
const LISTEN_AGAIN_AFTER: Duration = Duration::from_secs(5);
/// The shortest wait between two looks, so that clocks a little apart never make a busy loop.
const SHORTEST_WAIT: Duration = Duration::from_millis(20);

/// A worker delivering events, until it is stopped or dropped.
pub struct Worker {
    closed: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Worker {
    /// Starts one on `services`' pool; none without WEBHOOK_URLS.
    pub fn start(services: &Services) -> Option<Worker> {
        let hooks = services.webhooks.clone()?;
        let closed = CancellationToken::new();
        let task = tokio::spawn(run(services.clone(), hooks, closed.clone()));
        Some(Worker {
            closed,
            task: Some(task),
        })
    }

    /// Stops once the requests under way are answered and recorded (an attempt takes at
    /// most `timeout`), so no delivery is left half done; nothing more is claimed.
    pub async fn stop(mut self) {
        self.closed.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.closed.cancel();
    }
}

/// Delivers events until `closed`: at once when one is written (any instance's commit is
/// announced), when a retry is due, and every `poll` in case an announcement was missed.
async fn run(services: Services, hooks: Arc<Webhooks>, closed: CancellationToken) {
    let wake = Arc::new(Notify::new());
    let listener = tokio::spawn(listen(services.pool.clone(), wake.clone(), closed.clone()));
    while !closed.is_cancelled() {
        let wait = match deliver_due(&services, &hooks, &closed).await {
            Ok(Some(due_in)) => due_in.min(hooks.timing.poll),
            Ok(None) => hooks.timing.poll,
            Err(e) => {
                tracing::warn!(error = %e, "webhooks: cannot read the outbox; trying again");
                hooks.timing.poll
            }
        };
        tokio::select! {
            () = closed.cancelled() => break,
            () = wake.notified() => {}
            () = tokio::time::sleep(wait.max(SHORTEST_WAIT)) => {}
        }
    }
    listener.abort();
}

/// Delivers every event that is due, each endpoint's in order, until none is (or the worker
/// is stopping); returns how long until the next one is due (`None`: nothing is pending).
async fn deliver_due(
    services: &Services,
    hooks: &Webhooks,
    closed: &CancellationToken,
) -> Result<Option<Duration>, ServiceError> {
    loop {
        if closed.is_cancelled() {
            return Ok(None);
        }
        let mut conn = services.pool.get().await?;
        let claimed = outbox::claim(&mut conn, &hooks.endpoints, hooks.timing.lease()).await?;
        if claimed.is_empty() {
            return Ok(outbox::due_in(&mut conn, &hooks.endpoints).await?);
        }
        // No connection is held while the requests are on their way.
        drop(conn);
        let outcomes =
            futures_util::future::join_all(claimed.iter().map(|delivery| post(hooks, delivery)))
                .await;
        // Every outcome is recorded that can be: one left unrecorded is sent again when its
        // claim runs out.
        let mut failed = None;
        for (delivery, outcome) in claimed.iter().zip(outcomes) {
            if let Err(e) = record(services, hooks, delivery, outcome).await {
                failed = Some(e);
            }
        }
        if let Some(e) = failed {
            return Err(e);
        }
    }
}

/// One attempt: the event, signed now. Any 2xx answer delivers it.
async fn post(hooks: &Webhooks, delivery: &Claimed) -> Result<(), String> {
    let timestamp = Utc::now().timestamp();
    let signature = hooks
        .secret
        .sign(&delivery.event_id, timestamp, &delivery.body);
    let answer = hooks
        .http
        .post(&delivery.endpoint)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("webhook-id", &delivery.event_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(delivery.body.clone())
        .send()
        .await
        .map_err(|e| failure(&e, hooks.timing.timeout))?;
    if answer.status().is_success() {
        Ok(())
    } else {
        Err(format!("answered {}", answer.status()))
    }
}

/// Why a request failed, in words, without the address (the row names it).
fn failure(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return format!("no answer within {timeout:?}");
    }
    let own = match e.url() {
        Some(url) => e.to_string().replace(&format!(" ({url})"), ""),
        None => e.to_string(),
    };
    let mut why = vec![own];
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        why.push(cause.to_string());
        source = cause.source();
    }
    let mut why = why.join(": ");
    if why.len() > 500 {
        let cut = (0..=500)
            .rev()
            .find(|&i| why.is_char_boundary(i))
            .unwrap_or(0);
        why.truncate(cut);
    }
    why
}

/// What an attempt came to: delivered; or another attempt after the wait, the first failure
/// recorded in the audit log as `webhook_failing`; or, once the next attempt would come more
/// than `give_up_after` after the event, given up and recorded as `webhook_failed`. Admins
/// find both in the audit log.
async fn record(
    services: &Services,
    hooks: &Webhooks,
    delivery: &Claimed,
    outcome: Result<(), String>,
) -> Result<(), ServiceError> {
    let mut conn = services.pool.get().await?;
    let Err(error) = outcome else {
        outbox::mark_delivered(&mut conn, delivery.seq).await?;
        return Ok(());
    };
    let wait = hooks.timing.retry_after(delivery.attempts);
    let now = Utc::now();
    let age = (now - delivery.created_at).to_std().unwrap_or_default();
    let gives_up = age + wait >= hooks.timing.give_up_after;
    let retry_at = now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(1));
    tracing::warn!(
        endpoint = %delivery.endpoint,
        event_id = %delivery.event_id,
        attempts = delivery.attempts,
        %error,
        gives_up,
        "webhook delivery failed"
    );
    let mut detail = json!({
        "event_id": delivery.event_id,
        "type": delivery.event_type,
        "endpoint": delivery.endpoint,
        "attempts": delivery.attempts,
        "error": error,
    });
    conn.transaction::<_, diesel::result::Error, _>(|conn| {
        async move {
            let action = if gives_up {
                outbox::give_up(conn, delivery.seq, &error).await?;
                "webhook_failed"
            } else {
                outbox::retry_at(conn, delivery.seq, retry_at, &error).await?;
                if delivery.attempts > 1 {
                    return Ok(());
                }
                detail["retry_at"] = json!(retry_at);
                "webhook_failing"
            };
            let by = Actor::System("webhooks");
            audit::record_as(conn, by, None, action, detail, &Origin::default()).await
        }
        .scope_boxed()
    })
    .await?;
    Ok(())
}

/// Holds a connection that listens for enqueued events (announced on commit) and wakes the
/// worker for each; makes a new one when it fails.
async fn listen(pool: DbPool, wake: Arc<Notify>, closed: CancellationToken) {
    use deadpool::managed::Manager;
    use diesel_async::RunQueryDsl;
    use futures_util::StreamExt;
    loop {
        match pool.manager().create().await {
            Ok(mut conn) => {
                let listening = diesel::sql_query(format!("LISTEN {}", outbox::CHANNEL))
                    .execute(&mut conn)
                    .await;
                match listening {
                    Ok(_) => {
                        // What was announced while nobody listened: look now.
                        wake.notify_one();
                        let mut heard = std::pin::pin!(conn.notifications_stream());
                        loop {
                            tokio::select! {
                                () = closed.cancelled() => return,
                                next = heard.next() => match next {
                                    Some(Ok(_)) => wake.notify_one(),
                                    Some(Err(e)) => {
                                        tracing::warn!(error = %e, "webhooks: the listening connection failed");
                                        break;
                                    }
                                    None => break,
                                },
                            }
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "webhooks: cannot listen"),
                }
            }
            Err(e) => tracing::warn!(error = %e, "webhooks: cannot connect to listen"),
        }
        tokio::select! {
            () = closed.cancelled() => return,
            () = tokio::time::sleep(LISTEN_AGAIN_AFTER) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Standard Webhooks' own example (its libraries' test vector).
    #[test]
    fn signatures_follow_the_standard() {
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn a_secret_has_the_standard_form() {
        let key = STANDARD.encode([7u8; 32]);
        assert!(WebhookSecret::parse(&format!("whsec_{key}")).is_ok());
        for bad in [
            key.as_str(),
            "whsec_",
            "whsec_not base64!",
            &format!("whsec_{}", STANDARD.encode([7u8; 8])),
            &format!("whsec_{}", STANDARD.encode([7u8; 65])),
        ] {
            assert_eq!(WebhookSecret::parse(bad).unwrap_err(), SECRET_FORM, "{bad}");
        }
        let debug = format!(
            "{:?}",
            WebhookSecret::parse(&format!("whsec_{key}")).unwrap()
        );
        assert!(!debug.contains(&key), "{debug}");
    }

    #[test]
    fn endpoints_are_http_addresses_without_credentials() {
        assert!(endpoint("https://backend.example/hooks").is_ok());
        assert!(endpoint(" http://10.0.0.5:8080/gatehouse ").is_ok());
        for bad in [
            "ftp://backend.example/hooks",
            "backend.example/hooks",
            "file:///etc/passwd",
            "https://user:pw@backend.example/",
            "",
        ] {
            assert!(endpoint(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn retries_double_up_to_the_longest_wait() {
        let timing = Timing::default();
        let waits: Vec<u64> = (1..=12).map(|n| timing.retry_after(n).as_secs()).collect();
        assert_eq!(
            waits,
            [5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]
        );
        assert_eq!(timing.retry_after(i32::MAX).as_secs(), 3600);
        assert_eq!(timing.retry_after(0).as_secs(), 5);
    }

    #[test]
    fn event_types_are_named_once() {
        let names: std::collections::HashSet<&str> =
            EventType::ALL.iter().map(|t| t.as_str()).collect();
        assert_eq!(names.len(), EventType::ALL.len());
    }
}
