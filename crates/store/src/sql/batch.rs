//! Group commit for audit appends that stand alone (a reveal's row, a denied reveal, an office
//! action): concurrent requests' rows are written by one task in one transaction, with one commit
//! (one WAL flush) for all of them, and each request is answered only **after** that commit.
//!
//! The task takes what is queued when it wakes — no timer, so a lone request waits for nothing —
//! up to [`MAX_BATCH_ENTRIES`] rows. The chain stays one line: the batch takes the audit lock
//! (`BEGIN IMMEDIATE` on SQLite, the advisory lock on PostgreSQL) and reads the head once, as a
//! single append did. A batch takes no row locks, so it cannot deadlock with a change that holds
//! a member row and waits for the audit lock. Should the batch fail (the database is away, another
//! process holds the lock past the busy timeout), every request in it gets the error, as each
//! would have alone; nothing of it is committed.
//!
//! Appends that belong to a change (sign-up, correction, withdrawal) stay inside that change's own
//! transaction (`append_audit_tx`): a change and its audit row commit together.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::{AuditEntry, Result, StoreError};

/// Rows per batch transaction at most.
pub(crate) const MAX_BATCH_ENTRIES: usize = 1024;

/// Requests waiting to be written at most; a full queue makes the next request wait.
const QUEUE: usize = 4096;

pub(crate) struct Job {
    pub(crate) entries: Vec<AuditEntry>,
    pub(crate) done: oneshot::Sender<Result<()>>,
}

/// The sending side of a store's audit writer task. Clones share the task; the task ends when the
/// last clone is dropped, after writing what was queued.
#[derive(Clone)]
pub(crate) struct AuditWriter {
    jobs: mpsc::Sender<Job>,
}

impl std::fmt::Debug for AuditWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditWriter").finish_non_exhaustive()
    }
}

/// What a batch write needs from the backend: one transaction with every job's rows, committed.
pub(crate) trait BatchSink: Send + Sync + 'static {
    fn write<'a>(
        &'a self,
        entries: Vec<&'a AuditEntry>,
    ) -> impl std::future::Future<Output = Result<()>> + Send + 'a;
}

impl AuditWriter {
    /// Starts the writer task on the current Tokio runtime.
    pub(crate) fn spawn(sink: impl BatchSink) -> Self {
        let (jobs, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(Arc::new(sink), rx));
        Self { jobs }
    }

    /// Appends `entries` and returns once they are committed.
    pub(crate) async fn append(&self, entries: Vec<AuditEntry>) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let (done, answer) = oneshot::channel();
        self.jobs
            .send(Job { entries, done })
            .await
            .map_err(|_| StoreError::Failed("the audit writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Failed("the audit writer stopped before answering".into()))?
    }
}

async fn run(sink: Arc<impl BatchSink>, mut rx: mpsc::Receiver<Job>) {
    let mut batches: u64 = 0;
    let mut rows: u64 = 0;
    let mut largest: usize = 0;
    while let Some(first) = rx.recv().await {
        let mut count = first.entries.len();
        let mut batch = vec![first];
        while count < MAX_BATCH_ENTRIES {
            match rx.try_recv() {
                Ok(job) => {
                    count += job.entries.len();
                    batch.push(job);
                }
                Err(_) => break,
            }
        }
        let result = sink
            .write(batch.iter().flat_map(|j| j.entries.iter()).collect())
            .await;
        batches += 1;
        rows += count as u64;
        largest = largest.max(batch.len());
        tracing::trace!(requests = batch.len(), rows = count, "audit batch");
        match result {
            Ok(()) => {
                for job in batch {
                    // A request that went away no longer waits; its rows are committed anyway.
                    let _ = job.done.send(Ok(()));
                }
            }
            Err(e) => {
                let text = e.to_string();
                tracing::error!(error = %text, requests = batch.len(), "audit batch failed");
                let mut first = Some(e);
                for job in batch {
                    let err = first
                        .take()
                        .unwrap_or_else(|| StoreError::Failed(text.clone()));
                    let _ = job.done.send(Err(err));
                }
            }
        }
    }
    if batches > 0 {
        tracing::debug!(
            batches,
            rows,
            largest_batch = largest,
            "audit writer stopped"
        );
    }
}
