//! Work done after the answer has gone: mail, and requests whose duration must not tell
//! whether an address has an account. Shutdown (and a test checking what did not happen)
//! waits for it to settle.

use std::future::Future;

use tokio_util::task::TaskTracker;

#[derive(Clone, Default)]
pub struct Background {
    tasks: TaskTracker,
}

impl Background {
    /// Runs `work` on its own; a failure is `what` in the error log.
    pub fn spawn<E: std::fmt::Display>(
        &self,
        what: &'static str,
        work: impl Future<Output = Result<(), E>> + Send + 'static,
    ) {
        self.tasks.spawn(async move {
            if let Err(e) = work.await {
                tracing::error!(error = %e, "{what} failed");
            }
        });
    }

    /// How many tasks are still running.
    pub fn pending(&self) -> usize {
        self.tasks.len()
    }

    /// Waits until everything spawned so far, and whatever it spawns in turn, is done.
    /// Not for concurrent use.
    pub async fn settle(&self) {
        self.tasks.close();
        self.tasks.wait().await;
        self.tasks.reopen();
    }
}
