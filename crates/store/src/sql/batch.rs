//! Group commit: audit appends that stand alone (a reveal's row, a denied reveal, an office
//! action) and, on SQLite, member changes (`apply`: a correction, a consent change, a password
//! change) from concurrent requests are written by one task in one transaction, with one commit
//! (one WAL flush) for all of them, and each request is answered only **after** that commit.
//!
//! A change runs inside its own savepoint: should it fail (the member is gone, an index is taken)
//! it is rolled back alone and its request gets its error, while the rest of the batch commits —
//! a change and its audit row still commit together or not at all. The savepoint is opened by the
//! change's first command (`SAVEPOINT change; UPDATE members …`, one multi-statement command on
//! SQLite's connection) and, once the change succeeded, released by the next change's first
//! command (`RELEASE change; SAVEPOINT change; UPDATE …`) or by the commit: each command is a
//! hand-off to the connection's worker thread, and those hand-offs are most of a change's cost
//! (bench/README.md, "Issue 12, fifth session"). A change that needs no answer but the member's
//! row (a correction: its items and audit rows) is that one command altogether (`apply_at_once`,
//! "Issue 12, sixth session"), and on SQLite a batch of such changes and audit rows alone is one
//! command and a commit when the chain's head is known (`WriteConn::append_at_once` and
//! `changes_at_once`, "Issue 12, thirteenth session"); on PostgreSQL a batch of audit rows alone
//! is one statement, which takes the audit lock itself (`postgres.rs`, `WriterConn::append_at_once`,
//! "Issue 12, seventeenth session"). Savepoints are not left nested: SQLite's
//! sub-journal of a savepoint spills to a temporary file past 64 KiB. On PostgreSQL changes keep
//! their own transactions: they lock the member's row, and a batch holding the audit lock must
//! never wait for a row lock (PostgreSQL already shares WAL flushes between concurrent commits).
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

use crate::{AuditEntry, MemberChange, Result, StoreError};

/// Audit rows and changes per batch transaction at most.
pub(crate) const MAX_BATCH_ENTRIES: usize = 1024;

/// Requests waiting to be written at most; a full queue makes the next request wait.
const QUEUE: usize = 4096;

/// How a change's first command opens its savepoint (`apply_tx`).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Savepoint {
    /// The change has its own transaction (PostgreSQL).
    None,
    /// `SAVEPOINT change` first.
    Open,
    /// `RELEASE change; SAVEPOINT change` first: the previous change's savepoint is released.
    ReleaseAndOpen,
}

/// What became of a batch offered to the backend's one-command append (`WriterConn::append_at_once`).
pub(crate) enum AtOnce {
    /// Committed.
    Done,
    /// Not written (the batch has a change that needs its own commands, the chain's head is not
    /// known or has moved on, or a change's member is gone): the batch is written the usual way.
    NotTaken,
    /// The command failed; the connection is closed, and the batch written the usual way.
    Failed,
}

/// One request's write.
pub(crate) enum Op {
    Audit(Vec<AuditEntry>),
    Apply(Box<MemberChange>),
}

/// A batch of audit rows alone, linked after the chain's head the writer remembers, for a
/// backend's one-command append (`WriterConn::append_at_once`).
pub(crate) struct AtHead<'q> {
    /// The chain's last row the rows must follow: (seq, hash).
    pub after: (i64, Vec<u8>),
    pub rows: Vec<crate::sql::audit::LinkedRow<'q>>,
    /// The head the rows leave.
    pub head: (i64, Vec<u8>),
}

impl<'q> AtHead<'q> {
    /// `None` when the batch has a change, no rows or more than one insert takes, or no head
    /// is known.
    pub(crate) fn link(
        ops: &[&'q Op],
        head: Option<(i64, Vec<u8>)>,
        linker: &dyn crate::ChainLinker,
    ) -> Option<Self> {
        let mut entries = Vec::new();
        for op in ops {
            match op {
                Op::Audit(e) => entries.extend(e.iter()),
                Op::Apply(_) => return None,
            }
        }
        if entries.is_empty() || entries.len() > crate::sql::audit::AUDIT_ROWS_PER_INSERT {
            return None;
        }
        let (mut seq, mut prev) = head?;
        let after = (seq, prev.clone());
        let rows = crate::sql::audit::link_audit_rows(linker, &mut seq, &mut prev, &entries);
        Some(Self {
            after,
            rows,
            head: (seq, prev),
        })
    }
}

impl Op {
    fn weight(&self) -> usize {
        match self {
            Op::Audit(entries) => entries.len(),
            Op::Apply(_) => 1,
        }
    }
}

struct Job {
    op: Op,
    done: oneshot::Sender<Result<u64>>,
}

/// The sending side of a store's writer task. Clones share the task; the task ends when the last
/// clone is dropped, after writing what was queued.
#[derive(Clone)]
pub(crate) struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").finish_non_exhaustive()
    }
}

/// What a batch needs from the backend: one transaction with every op, in order, committed. The
/// outer error fails the whole batch (nothing committed); otherwise one result per op (a change
/// rolled back alone has its error there; what committed has `Ok`).
pub(crate) trait BatchSink: Send + Sync + 'static {
    fn write<'a>(
        &'a self,
        ops: Vec<&'a Op>,
    ) -> impl std::future::Future<Output = Result<Vec<Result<u64>>>> + Send + 'a;
}

impl Writer {
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
        self.submit(Op::Audit(entries)).await.map(|_| ())
    }

    /// Applies a member change (see `MemberStore::apply`) and returns once it is committed.
    pub(crate) async fn apply(&self, change: MemberChange) -> Result<u64> {
        self.submit(Op::Apply(Box::new(change))).await
    }

    async fn submit(&self, op: Op) -> Result<u64> {
        let (done, answer) = oneshot::channel();
        self.jobs
            .send(Job { op, done })
            .await
            .map_err(|_| StoreError::Failed("the store's writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Failed("the store's writer stopped before answering".into()))?
    }
}

async fn run(sink: Arc<impl BatchSink>, mut rx: mpsc::Receiver<Job>) {
    let mut batches: u64 = 0;
    let mut ops: u64 = 0;
    let mut largest: usize = 0;
    while let Some(first) = rx.recv().await {
        let mut weight = first.op.weight();
        let mut batch = vec![first];
        while weight < MAX_BATCH_ENTRIES {
            match rx.try_recv() {
                Ok(job) => {
                    weight += job.op.weight();
                    batch.push(job);
                }
                Err(_) => break,
            }
        }
        let result = sink.write(batch.iter().map(|j| &j.op).collect()).await;
        batches += 1;
        ops += batch.len() as u64;
        largest = largest.max(batch.len());
        tracing::trace!(requests = batch.len(), weight, "write batch");
        match result {
            Ok(results) if results.len() == batch.len() => {
                for (job, result) in batch.into_iter().zip(results) {
                    // A request that went away no longer waits; what it wrote is committed.
                    let _ = job.done.send(result);
                }
            }
            Ok(_) => fail_all(
                batch,
                StoreError::Failed("write batch answered the wrong number of results".into()),
            ),
            Err(e) => fail_all(batch, e),
        }
    }
    if batches > 0 {
        tracing::debug!(
            batches,
            ops,
            largest_batch = largest,
            "store writer stopped"
        );
    }
}

/// Nothing of the batch was committed: every request in it gets the error.
fn fail_all(batch: Vec<Job>, e: StoreError) {
    let text = e.to_string();
    tracing::error!(error = %text, requests = batch.len(), "write batch failed");
    let mut first = Some(e);
    for job in batch {
        let err = first
            .take()
            .unwrap_or_else(|| StoreError::Failed(text.clone()));
        let _ = job.done.send(Err(err));
    }
}

/// Expands the backend's batch transaction (`WriterSink`) and `store_writer(conn, &linker)`,
/// which starts the writer task. Needs from the backend module: `BEGIN`, `Db`, `Tx`,
/// `WriterConn` (where the writer's connection comes from: `acquire` it for a batch, offer the
/// batch to `append_at_once`, report the chain's head to `committed` after a commit and call
/// `failed` after a batch that failed), and the helpers `append_audit_refs` and `apply_tx` (expanded by the audit
/// and member macros).
macro_rules! writer_sql {
    () => {
        /// One batch: the ops in queue order in one transaction; consecutive audit appends as one
        /// multi-row insert; each change in its own savepoint.
        struct WriterSink {
            conn: WriterConn,
            linker: std::sync::Arc<dyn $crate::ChainLinker>,
        }

        impl $crate::sql::batch::BatchSink for WriterSink {
            fn write<'a>(
                &'a self,
                ops: Vec<&'a $crate::sql::batch::Op>,
            ) -> impl std::future::Future<Output = $crate::Result<Vec<$crate::Result<u64>>>>
            + Send
            + 'a {
                async move {
                    use $crate::sql::batch::AtOnce;
                    let mut conn = self.conn.acquire().await?;
                    match self.conn.append_at_once(&mut conn, self.linker.as_ref(), &ops).await {
                        AtOnce::Done => return Ok(ops.iter().map(|_| Ok(0)).collect()),
                        AtOnce::NotTaken => {}
                        AtOnce::Failed => {
                            self.conn.failed();
                            drop(conn);
                            conn = self.conn.acquire().await?;
                        }
                    }
                    match self.write_on(&mut conn, ops).await {
                        Ok((results, head)) => {
                            self.conn.committed(head);
                            Ok(results)
                        }
                        Err(e) => {
                            self.conn.failed();
                            drop(conn);
                            Err(e)
                        }
                    }
                }
            }
        }

        impl WriterSink {
            /// Writes the batch in one transaction on `conn`; answers each op's result and the
            /// chain's head after the commit (`None` if the batch appended no row).
            async fn write_on(
                &self,
                conn: &mut <Db as sqlx::Database>::Connection,
                ops: Vec<&$crate::sql::batch::Op>,
            ) -> $crate::Result<(Vec<$crate::Result<u64>>, Option<(i64, Vec<u8>)>)> {
                use $crate::sql::batch::{Op, Savepoint};
                // Whether a change's savepoint is still open (succeeded, not yet released).
                let mut open = false;
                let mut tx = sqlx::Connection::begin_with(conn, BEGIN).await?;
                let mut results = Vec::with_capacity(ops.len());
                let mut pending: Vec<&$crate::AuditEntry> = Vec::new();
                // The chain's head, read once (under the audit lock) by the first append.
                let mut head: Option<(i64, Vec<u8>)> = None;
                for op in ops {
                    match op {
                        Op::Audit(entries) => {
                            pending.extend(entries.iter());
                            results.push(Ok(0));
                        }
                        Op::Apply(change) => {
                            let linker = self.linker.as_ref();
                            append_audit_refs(&mut tx, linker, &mut head, &pending).await?;
                            pending.clear();
                            let before = head.clone();
                            let mut opened = false;
                            // The previous change's savepoint, if it succeeded, is released
                            // by this change's first command (or by the commit).
                            let savepoint = if open {
                                Savepoint::ReleaseAndOpen
                            } else {
                                Savepoint::Open
                            };
                            open = false;
                            match apply_tx(&mut tx, linker, &mut head, change, savepoint, &mut opened)
                                .await
                            {
                                Ok(ended) => {
                                    open = true;
                                    results.push(Ok(ended));
                                }
                                Err(e) if opened => {
                                    sqlx::query("ROLLBACK TO change")
                                        .execute(&mut *tx)
                                        .await?;
                                    sqlx::query("RELEASE change").execute(&mut *tx).await?;
                                    // Its audit rows were rolled back with it.
                                    head = before;
                                    results.push(Err(e));
                                }
                                // No savepoint was opened: nothing of this batch is kept.
                                Err(e) => return Err(e),
                            }
                        }
                    }
                }
                append_audit_refs(&mut tx, self.linker.as_ref(), &mut head, &pending).await?;
                tx.commit().await?;
                Ok((results, head))
            }
        }

        /// Starts the store's writer task on its connection.
        fn store_writer(
            conn: WriterConn,
            linker: &std::sync::Arc<dyn $crate::ChainLinker>,
        ) -> $crate::sql::batch::Writer {
            $crate::sql::batch::Writer::spawn(WriterSink {
                conn,
                linker: linker.clone(),
            })
        }
    };
}

pub(crate) use writer_sql;
