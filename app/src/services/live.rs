//! Live artwork status: the changes to an artist's jobs as they happen, for their open pages
//! (server-sent events, `GET /api/artworks/events`). PostgreSQL announces every change to
//! `artwork_jobs` on commit (a trigger, migration 10), whichever instance or program made
//! it, and never one that rolled back; one listening connection per instance hears it, reads
//! the row, and passes it to this instance's streams, each of which keeps what is its user's.
//!
//! An event's id is the time of the change it sends (microseconds). A reconnect that sends
//! the last one back (`Last-Event-ID`) is first sent every job of the user's changed since,
//! read from the table, then `resync`: a job given away meanwhile left no row to read, so a
//! page asks for its list again. So are all streams when changes may have gone unheard (the
//! listener had to reconnect, or a stream fell far behind). An event sends the job as it is
//! now, so one sent twice is harmless.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::sessions::{self, SignedIn};
use super::{Refusal, Services};
use crate::db::jobs::{self, Job};
use crate::db::pool::DbPool;
use crate::db::shared::SharedConnections;
use crate::views::JobView;

/// The channel the trigger announces changes on.
pub const CHANNEL: &str = "gatehouse_artwork_jobs";
/// Streams one session may have open at once: a few tabs. One more is refused (429).
pub const STREAMS_PER_SESSION: usize = 4;
/// How often a quiet stream checks that its session is still live; a change is only sent
/// after the same check, so a session that ended hears nothing more.
const RECHECK: Duration = Duration::from_secs(10);
/// How far before a reconnect's last event its catch-up reads: a change committed a little
/// late (by another instance, or with its clock a little behind) still comes.
const CATCH_UP_MARGIN: chrono::Duration = chrono::Duration::seconds(5);
/// Jobs read per catch-up query.
const CATCH_UP_PAGE: i64 = 100;
/// After the listening connection failed, the wait before it is made again.
const LISTEN_AGAIN_AFTER: Duration = Duration::from_secs(1);
/// How long opening a stream waits for the listener to be listening.
const LISTENING_WITHIN: Duration = Duration::from_secs(5);

/// What the listener passes on to the streams.
#[derive(Debug)]
enum Change {
    /// A job changed: as it is now (`None`: deleted), and its owner before if that changed.
    Job {
        job_id: String,
        now: Option<Box<Job>>,
        was: Option<String>,
    },
    /// Announcements may have gone unheard (the listener connected again): the streams read
    /// the table for what changed.
    Missed,
}

/// What a stream sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Update {
    /// One of the user's jobs, as it is now.
    Job(JobView),
    /// A job that is no longer the user's: given to someone else, or deleted.
    Gone { job_id: String },
    /// Changes may have been missed (the jobs changed since have been sent): a page asks for
    /// its data again.
    Resync,
}

/// One event of a stream: an update and the id a reconnect resumes after.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub id: String,
    pub update: Update,
}

/// This instance's streams and the one listener that feeds them (started by the first
/// stream).
pub struct LiveJobs {
    changes: broadcast::Sender<Arc<Change>>,
    listener: Once,
    /// Whether the listener is listening now: a stream opens only then, so no change made
    /// after it opened goes unheard.
    listening: watch::Sender<bool>,
    open: Mutex<HashMap<String, usize>>,
    closed: CancellationToken,
}

impl Default for LiveJobs {
    fn default() -> Self {
        Self {
            // A stream this far behind reads the table instead (RecvError::Lagged).
            changes: broadcast::channel(1024).0,
            listener: Once::new(),
            listening: watch::channel(false).0,
            open: Mutex::default(),
            closed: CancellationToken::new(),
        }
    }
}

impl LiveJobs {
    /// Ends every stream (the server is shutting down) and the listener.
    pub fn close(&self) {
        self.closed.cancel();
    }

    /// How many streams are open, for the metrics.
    pub fn streams(&self) -> usize {
        self.open.lock().map_or(0, |open| open.values().sum())
    }

    fn listen(&self, services: &Services) {
        self.listener.call_once(|| {
            tokio::spawn(listen(
                services.pool.clone(),
                services.shared.clone(),
                self.changes.clone(),
                self.listening.clone(),
                self.closed.clone(),
            ));
        });
    }

    fn take_slot(live: &Arc<Self>, session_id: &str) -> Result<Slot, Refusal> {
        let mut open = live.open.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(session_id.to_string()).or_default();
        if *count >= STREAMS_PER_SESSION {
            return Err(Refusal::TooManyStreams);
        }
        *count += 1;
        Ok(Slot {
            live: live.clone(),
            session_id: session_id.to_string(),
        })
    }
}

/// A stream's place in its session's count, given back when the stream ends.
struct Slot {
    live: Arc<LiveJobs>,
    session_id: String,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.live.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&self.session_id) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.session_id);
            }
        }
    }
}

/// Holds a connection that listens on [`CHANNEL`], and makes a new one when it fails.
async fn listen(
    pool: DbPool,
    shared: Arc<SharedConnections>,
    changes: broadcast::Sender<Arc<Change>>,
    listening: watch::Sender<bool>,
    closed: CancellationToken,
) {
    use deadpool::managed::Manager;
    use diesel_async::RunQueryDsl;
    let mut listened_before = false;
    loop {
        match pool.manager().create().await {
            Ok(mut conn) => {
                match diesel::sql_query(format!("LISTEN {CHANNEL}"))
                    .execute(&mut conn)
                    .await
                {
                    Ok(_) => {
                        if listened_before {
                            let _ = changes.send(Arc::new(Change::Missed));
                        }
                        listened_before = true;
                        listening.send_replace(true);
                        let mut heard = std::pin::pin!(conn.notifications_stream());
                        loop {
                            let next = tokio::select! {
                                () = closed.cancelled() => return,
                                next = heard.next() => next,
                            };
                            match next {
                                Some(Ok(note)) => {
                                    let change = read_change(&shared, &note.payload).await;
                                    let _ = changes.send(Arc::new(change));
                                }
                                Some(Err(e)) => {
                                    tracing::warn!(error = %e, "live status: the listening connection failed");
                                    break;
                                }
                                None => {
                                    tracing::warn!("live status: the listening connection closed");
                                    break;
                                }
                            }
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "live status: LISTEN failed"),
                }
            }
            Err(e) => tracing::warn!(error = %e, "live status: cannot connect to listen"),
        }
        listening.send_replace(false);
        tokio::select! {
            () = closed.cancelled() => return,
            () = tokio::time::sleep(LISTEN_AGAIN_AFTER) => {}
        }
    }
}

/// The change an announcement names, with the job read as it is now. An announcement that
/// cannot be read, or a job that cannot be, is a [`Change::Missed`]: the streams read the
/// table instead.
async fn read_change(shared: &SharedConnections, payload: &str) -> Change {
    #[derive(serde::Deserialize)]
    struct Announced {
        id: String,
        job_id: String,
        was: Option<String>,
    }
    let Ok(announced) = serde_json::from_str::<Announced>(payload) else {
        tracing::warn!(payload, "live status: an announcement of another shape");
        return Change::Missed;
    };
    let id = &announced.id;
    match shared
        .read(|conn| async move { jobs::find_by_row(&conn, id).await })
        .await
    {
        Ok(now) => Change::Job {
            job_id: announced.job_id,
            now: now.map(Box::new),
            was: announced.was,
        },
        Err(e) => {
            tracing::warn!(error = ?e, "live status: cannot read a changed job");
            Change::Missed
        }
    }
}

/// The id of an event sent at `at`.
fn event_id(at: DateTime<Utc>) -> String {
    at.timestamp_micros().to_string()
}

/// The time an event id (of [`event_id`]) names.
pub fn parse_event_id(raw: &str) -> Result<DateTime<Utc>, Refusal> {
    raw.trim()
        .parse::<i64>()
        .ok()
        .and_then(DateTime::from_timestamp_micros)
        .ok_or_else(|| {
            Refusal::invalid(
                "Last-Event-ID",
                "Not an event id this stream sent: reconnect without it.",
            )
        })
}

/// The event id for a page's data read now: the stream the page opens resumes from it.
pub fn now_id() -> String {
    event_id(Utc::now())
}

/// One signed-in person's stream of changes to their jobs (or to one of them).
pub struct LiveStream {
    services: Services,
    signed_in: SignedIn,
    only: Option<String>,
    since: DateTime<Utc>,
    changes: broadcast::Receiver<Arc<Change>>,
    pending: VecDeque<Event>,
    checked: Instant,
    closed: CancellationToken,
    _slot: Slot,
}

/// Opens a stream for the person signed in: of their jobs, or of the one with
/// `job_id` (anyone else's is NotFound, as if it did not exist). With `resume_after` (an
/// event id), what changed since is sent first.
pub async fn open(
    services: &Services,
    signed_in: &SignedIn,
    job_id: Option<&str>,
    resume_after: Option<&str>,
) -> Result<LiveStream, Refusal> {
    if !signed_in.has_access() {
        return Err(Refusal::NoAccess);
    }
    let since = resume_after.map(parse_event_id).transpose()?;
    if let Some(job_id) = job_id {
        let mut conn = services.pool.get().await?;
        let owned = jobs::find(&mut conn, job_id)
            .await?
            .is_some_and(|job| job.user_id.as_deref() == Some(signed_in.user_id()));
        if !owned {
            return Err(Refusal::NotFound);
        }
    }
    let slot = LiveJobs::take_slot(&services.live, signed_in.session_id())?;
    // Subscribed before the listener is known to listen and before the catch-up reads, so a
    // change in between is sent (perhaps twice), never lost.
    let changes = services.live.changes.subscribe();
    services.live.listen(services);
    let mut listening = services.live.listening.subscribe();
    tokio::time::timeout(LISTENING_WITHIN, listening.wait_for(|now| *now))
        .await
        .map_err(|_| Refusal::Unavailable)?
        .map_err(|_| Refusal::Unavailable)?;
    let mut stream = LiveStream {
        services: services.clone(),
        signed_in: signed_in.clone(),
        only: job_id.map(str::to_string),
        since: since.unwrap_or_else(Utc::now),
        changes,
        pending: VecDeque::new(),
        checked: Instant::now(),
        closed: services.live.closed.clone(),
        _slot: slot,
    };
    if since.is_some() {
        stream.catch_up().await?;
    }
    Ok(stream)
}

impl LiveStream {
    /// The next event; `None` when the stream ends: its session ended, the server is
    /// shutting down, or the database could not be read (a reconnect catches up).
    pub async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(event);
            }
            let change = tokio::select! {
                () = self.closed.cancelled() => return None,
                () = tokio::time::sleep_until(self.checked + RECHECK) => {
                    if !self.still_signed_in().await {
                        return None;
                    }
                    continue;
                }
                change = self.changes.recv() => change,
            };
            let update = match change.as_deref() {
                Ok(Change::Job { job_id, now, was }) => match self.update_of(job_id, now, was) {
                    Some(update) => update,
                    None => continue,
                },
                // Changes may have gone unheard: the table says what they were, and the
                // page asks again for what it cannot say (a job given away).
                Ok(Change::Missed) | Err(RecvError::Lagged(_)) => {
                    if !self.still_signed_in().await || self.catch_up().await.is_err() {
                        return None;
                    }
                    continue;
                }
                Err(RecvError::Closed) => return None,
            };
            if !self.still_signed_in().await {
                return None;
            }
            return Some(self.event(update));
        }
    }

    /// What a change means to this stream, if anything.
    fn update_of(
        &self,
        job_id: &str,
        now: &Option<Box<Job>>,
        was: &Option<String>,
    ) -> Option<Update> {
        if self.only.as_deref().is_some_and(|only| only != job_id) {
            return None;
        }
        match now {
            Some(job) if job.user_id.as_deref() == Some(self.signed_in.user_id()) => {
                Some(Update::Job(super::jobs::view(Job::clone(job))))
            }
            _ if was.as_deref() == Some(self.signed_in.user_id()) => Some(Update::Gone {
                job_id: job_id.to_string(),
            }),
            _ => None,
        }
    }

    fn event(&mut self, update: Update) -> Event {
        if let Update::Job(job) = &update {
            self.since = self.since.max(job.updated_at);
        }
        Event {
            id: event_id(self.since),
            update,
        }
    }

    /// Queues every job of the user's (or the one) changed since the last event, from the
    /// table, then a [`Update::Resync`].
    async fn catch_up(&mut self) -> Result<(), Refusal> {
        let mut from = self.since - CATCH_UP_MARGIN;
        loop {
            let (user, only) = (self.signed_in.user_id(), self.only.as_deref());
            let rows = self
                .services
                .shared
                .read(|conn| async move {
                    jobs::changed_since(&conn, user, only, from, CATCH_UP_PAGE).await
                })
                .await?;
            let full = rows.len() as i64 == CATCH_UP_PAGE;
            let last = rows.last().map(|job| job.updated_at);
            for job in rows {
                let event = self.event(Update::Job(super::jobs::view(job)));
                self.pending.push_back(event);
            }
            // A full page whose changes all share one instant would be read again for ever.
            match last {
                Some(last) if full && last > from => from = last,
                _ => break,
            }
        }
        let resync = self.event(Update::Resync);
        self.pending.push_back(resync);
        Ok(())
    }

    /// Whether the stream's session is still live and may still see artworks.
    async fn still_signed_in(&mut self) -> bool {
        self.checked = Instant::now();
        match sessions::recheck(&self.services, &self.signed_in).await {
            Ok(Some(current)) => current.has_access(),
            Ok(None) | Err(_) => false,
        }
    }
}
