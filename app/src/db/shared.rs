//! A few connections that every request shares for its short reads by key: the session
//! lookup, and the profile, home and artworks pages' reads. tokio-postgres pipelines the
//! queries in flight on one connection, so under load one socket write and one read carry
//! many lookups, where a pool connection taken for each lookup costs a round trip of its own
//! (two system calls and two task wake-ups on each side, docs/performance.md). Only reads outside a transaction go here; everything else
//! takes a connection of the pool for itself.
//!
//! The connections are made by the pool's manager (the same URL and TLS) but are not the
//! pool's: they do not count against its size or show in its figures. A connection the
//! database dropped is replaced on first use after, and the read it failed is tried again
//! once on the new one.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use deadpool::managed::{Manager, TimeoutType};
use diesel::result::Error;
use diesel_async::pooled_connection::deadpool::PoolError;
use diesel_async::AsyncPgConnection;

use super::pool::{self, DbPool};

pub struct SharedConnections {
    pool: DbPool,
    slots: Box<[Slot]>,
    next: AtomicUsize,
}

#[derive(Default)]
struct Slot {
    connection: RwLock<Option<Arc<AsyncPgConnection>>>,
    /// Held while a connection is made, so a dropped one is replaced once, not by every
    /// request that finds it gone.
    connecting: tokio::sync::Mutex<()>,
}

impl SharedConnections {
    /// `count` connections (one per core serves: each is one PostgreSQL backend working
    /// through its queries in turn), made on first use.
    pub fn new(pool: DbPool, count: usize) -> Self {
        Self {
            pool,
            slots: (0..count.max(1)).map(|_| Slot::default()).collect(),
            next: AtomicUsize::new(0),
        }
    }

    /// Runs `read` on one of the shared connections, taken in turn. If the connection turns
    /// out lost, `read` runs once more on a new one; a read is safe to repeat.
    pub async fn read<R, F, Fut>(&self, read: F) -> Result<R, ReadFailed>
    where
        F: Fn(Arc<AsyncPgConnection>) -> Fut,
        Fut: Future<Output = Result<R, Error>>,
    {
        let slot = &self.slots[self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len()];
        let mut retried = false;
        loop {
            let connection = self.connection_of(slot).await?;
            match read(connection.clone()).await {
                Err(e) if pool::is_lost(&e) => {
                    slot.forget(&connection);
                    if retried {
                        return Err(ReadFailed::Query(e));
                    }
                    retried = true;
                }
                result => return result.map_err(ReadFailed::Query),
            }
        }
    }

    async fn connection_of(&self, slot: &Slot) -> Result<Arc<AsyncPgConnection>, ReadFailed> {
        if let Some(connection) = slot.current() {
            return Ok(connection);
        }
        let _connecting = slot.connecting.lock().await;
        if let Some(connection) = slot.current() {
            return Ok(connection);
        }
        let timeout = self.pool.timeouts().create;
        let created = match timeout {
            Some(limit) => tokio::time::timeout(limit, self.pool.manager().create())
                .await
                .map_err(|_| ReadFailed::Connect(PoolError::Timeout(TimeoutType::Create)))?,
            None => self.pool.manager().create().await,
        };
        let mut connection = created.map_err(|e| ReadFailed::Connect(PoolError::Backend(e)))?;
        pool::opened(&mut connection);
        let connection = Arc::new(connection);
        *slot.connection.write().expect("not poisoned") = Some(connection.clone());
        Ok(connection)
    }
}

impl Slot {
    fn current(&self) -> Option<Arc<AsyncPgConnection>> {
        self.connection.read().expect("not poisoned").clone()
    }

    /// Empties the slot if it still holds `lost` (another request may have replaced it).
    fn forget(&self, lost: &Arc<AsyncPgConnection>) {
        let mut connection = self.connection.write().expect("not poisoned");
        if connection.as_ref().is_some_and(|c| Arc::ptr_eq(c, lost)) {
            *connection = None;
        }
    }
}

/// Why a shared read failed: no connection could be made, or the query failed.
#[derive(Debug)]
pub enum ReadFailed {
    Connect(PoolError),
    Query(Error),
}
