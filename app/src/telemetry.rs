//! What Gatehouse counts and times, for Prometheus (served on METRICS_BIND by the server).
//! Every metric's name is here, once; the layers call these functions, which do nothing
//! until the server installs a recorder (tests and commands need none). It imports nothing
//! of Gatehouse's, so any layer may use it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Whether a recorder keeps what is counted; until then the counts that would build labels
/// on every request (the requests' own) skip that work.
static RECORDING: AtomicBool = AtomicBool::new(false);

/// Says a recorder is installed (the server does, with METRICS_BIND).
pub fn start_recording() {
    RECORDING.store(true, Ordering::Relaxed);
}

pub const HTTP_REQUESTS: &str = "gatehouse_http_requests_total";
pub const HTTP_DURATION: &str = "gatehouse_http_request_duration_seconds";
pub const DB_QUERY_DURATION: &str = "gatehouse_db_query_duration_seconds";
pub const DB_POOL_ERRORS: &str = "gatehouse_db_pool_errors_total";
pub const DB_CONNECTIONS_OPENED: &str = "gatehouse_db_connections_opened_total";
pub const DB_POOL_SIZE: &str = "gatehouse_db_pool_connections";
pub const DB_POOL_IDLE: &str = "gatehouse_db_pool_idle";
pub const DB_POOL_IN_USE: &str = "gatehouse_db_pool_in_use";
pub const DB_POOL_WAITING: &str = "gatehouse_db_pool_waiting";
pub const DB_POOL_MAX: &str = "gatehouse_db_pool_max";
pub const SIGN_INS: &str = "gatehouse_sign_ins_total";
pub const RATE_LIMITED: &str = "gatehouse_rate_limited_total";
pub const HASH_WAITING: &str = "gatehouse_password_hash_waiting";
pub const HASH_WAIT: &str = "gatehouse_password_hash_wait_seconds";
pub const HASH_BUSY: &str = "gatehouse_password_hash_busy_total";
pub const BACKGROUND_PENDING: &str = "gatehouse_background_tasks_pending";
pub const LIVE_STREAMS: &str = "gatehouse_live_streams";
pub const MAIL: &str = "gatehouse_mail_total";

/// The histograms, for the recorder to give buckets to.
pub const HISTOGRAMS: [&str; 3] = [HTTP_DURATION, DB_QUERY_DURATION, HASH_WAIT];

/// A request answered: `route` is its template (`/admin/users/{id}`), never the raw path.
pub fn http_request(method: &str, route: &str, status: u16, took: Duration) {
    if !RECORDING.load(Ordering::Relaxed) {
        return;
    }
    let labels = [
        ("method", method.to_string()),
        ("route", route.to_string()),
        ("status", status.to_string()),
    ];
    metrics::counter!(HTTP_REQUESTS, &labels).increment(1);
    metrics::histogram!(HTTP_DURATION, &labels[..2]).record(took.as_secs_f64());
}

pub fn db_query(took: Duration, failed: bool) {
    let outcome = if failed { "error" } else { "ok" };
    metrics::histogram!(DB_QUERY_DURATION, "outcome" => outcome).record(took.as_secs_f64());
}

/// A connection could not be had (`kind`: timeout, backend, …).
pub fn db_pool_error(kind: &'static str) {
    metrics::counter!(DB_POOL_ERRORS, "kind" => kind).increment(1);
}

pub fn db_connection_opened() {
    metrics::counter!(DB_CONNECTIONS_OPENED).increment(1);
}

/// The pool as it is now.
pub fn db_pool(size: usize, idle: usize, waiting: usize, max: usize) {
    metrics::gauge!(DB_POOL_SIZE).set(size as f64);
    metrics::gauge!(DB_POOL_IDLE).set(idle as f64);
    metrics::gauge!(DB_POOL_IN_USE).set(size.saturating_sub(idle) as f64);
    metrics::gauge!(DB_POOL_WAITING).set(waiting as f64);
    metrics::gauge!(DB_POOL_MAX).set(max as f64);
}

/// A sign-in finished: `method` is `password` or a provider's id; `outcome` is
/// `signed-in` or the refusal's label (`Refusal::label`).
pub fn sign_in(method: &str, outcome: &'static str) {
    metrics::counter!(SIGN_INS, "method" => method.to_string(), "outcome" => outcome).increment(1);
}

/// An attempt refused by a rate limit (`attempt`: sign-in, sign-up, …).
pub fn rate_limited(attempt: &'static str) {
    metrics::counter!(RATE_LIMITED, "attempt" => attempt).increment(1);
}

pub fn hash_waiting(now: usize) {
    metrics::gauge!(HASH_WAITING).set(now as f64);
}

/// How long a password hash waited for its turn (turned away as busy, or served).
pub fn hash_waited(took: Duration, busy: bool) {
    metrics::histogram!(HASH_WAIT).record(took.as_secs_f64());
    if busy {
        metrics::counter!(HASH_BUSY).increment(1);
    }
}

pub fn background_pending(now: usize) {
    metrics::gauge!(BACKGROUND_PENDING).set(now as f64);
}

pub fn live_streams(now: usize) {
    metrics::gauge!(LIVE_STREAMS).set(now as f64);
}

pub fn mail(sent: bool) {
    let outcome = if sent { "sent" } else { "failed" };
    metrics::counter!(MAIL, "outcome" => outcome).increment(1);
}
