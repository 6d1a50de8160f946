//! SQLite's one writing connection, handed out without sqlx's pool.
//!
//! Every write of a process goes through this connection: the writer task's batches
//! (`sql/batch.rs`) and every other writing statement or transaction of the store. It is behind
//! a fair (first come, first served) asynchronous lock, so writers of this process take turns
//! here and never meet in SQLite's busy handler, which sleeps (1, 2, 5, 10 … ms) and, against a
//! writer that always holds the lock under load, could starve. Other processes sharing the file
//! (a CLI command) and the purge's own connection still wait for each other in SQLite
//! (`BEGIN IMMEDIATE` and the busy timeout).
//!
//! Not sqlx's pool because the pool tests every connection it takes back
//! (`PoolConnection::return_to_pool` pings it, through a task of its own): under load the
//! writer's next batch waited about half a millisecond for that (bench/README.md, "Issue 12,
//! seventh session").
//!
//! The connection is opened at once (errors show at start-up), and again after a command failed
//! other than by the database's own refusal (a constraint, a missing row), since it may be
//! broken; a transaction left open by a failed batch is rolled back when it is closed.

use std::sync::Arc;

use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use tokio::sync::{MappedMutexGuard, Mutex, MutexGuard};

/// Clones share the connection.
#[derive(Clone)]
pub(crate) struct WriteConn {
    inner: Arc<Inner>,
}

struct Inner {
    options: SqliteConnectOptions,
    conn: Mutex<Option<SqliteConnection>>,
    /// The connection may hold a transaction nobody will end (a command failed in a way that
    /// leaves it unknown, or a one-command transaction's caller went away half-way): the next
    /// `acquire` closes it, which rolls back what is open, and opens a new one.
    stale: std::sync::atomic::AtomicBool,
    /// The chain's head (seq, hash) the last batch of the writer task left, if known
    /// (`SqliteStore`'s one-command append).
    head: std::sync::Mutex<Option<(i64, Vec<u8>)>>,
}

impl std::fmt::Debug for WriteConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteConn").finish_non_exhaustive()
    }
}

impl WriteConn {
    pub(crate) fn new(options: SqliteConnectOptions, conn: SqliteConnection) -> Self {
        Self {
            inner: Arc::new(Inner {
                options,
                conn: Mutex::new(Some(conn)),
                stale: std::sync::atomic::AtomicBool::new(false),
                head: std::sync::Mutex::new(None),
            }),
        }
    }

    /// The connection, once every writer of this process before has let it go.
    pub(crate) async fn acquire(&self) -> sqlx::Result<MappedMutexGuard<'_, SqliteConnection>> {
        MutexGuard::try_map(self.locked().await?, Option::as_mut)
            .map_err(|_| sqlx::Error::PoolClosed)
    }

    /// The lock, with the connection open (opened again if a failure closed it).
    async fn locked(&self) -> sqlx::Result<MutexGuard<'_, Option<SqliteConnection>>> {
        let mut conn = self.inner.conn.lock().await;
        if self
            .inner
            .stale
            .swap(false, std::sync::atomic::Ordering::SeqCst)
        {
            *conn = None;
        }
        if conn.is_none() {
            *conn = Some(SqliteConnection::connect_with(&self.inner.options).await?);
        }
        Ok(conn)
    }

    /// Marks the connection to be closed (rolling back whatever a failed command left open) and
    /// forgets the chain's head; the next `acquire` opens a new one. Called while the caller still
    /// holds the connection, so no other writer gets it in between.
    pub(crate) fn failed(&self) {
        self.inner
            .stale
            .store(true, std::sync::atomic::Ordering::SeqCst);
        *self.head() = None;
    }

    /// Armed while a command that begins a transaction itself (`BEGIN IMMEDIATE; …`) and its
    /// `COMMIT` or `ROLLBACK` run: should the caller's future be dropped before it is disarmed,
    /// the transaction may be left open, and the guard marks the connection [`failed`](Self::failed).
    pub(crate) fn arm(&self) -> Armed<'_> {
        Armed(Some(self))
    }

    pub(crate) fn head(&self) -> std::sync::MutexGuard<'_, Option<(i64, Vec<u8>)>> {
        // The value is replaced whole, so a panic elsewhere cannot leave it half-written.
        self.inner
            .head
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// After a batch of the writer task committed: the chain's head it left, if it appended.
    pub(crate) fn committed(&self, head: Option<(i64, Vec<u8>)>) {
        if head.is_some() {
            *self.head() = head;
        }
    }

    /// Runs `command` — statements the caller pushed after `BEGIN IMMEDIATE` — and `COMMIT` as
    /// one command: one hand-off to the connection's worker thread for a whole transaction. A
    /// statement that fails leaves the transaction open: it is rolled back, or, should the
    /// rollback fail other than by the database's answer (no transaction was open: `BEGIN`
    /// failed), the connection is closed, which rolls it back. Answers the rows the statements
    /// returned.
    pub(crate) async fn transact(
        &self,
        mut command: sqlx::QueryBuilder<'_, sqlx::Sqlite>,
    ) -> sqlx::Result<Vec<sqlx::sqlite::SqliteRow>> {
        command.push("; COMMIT");
        let mut conn = self.acquire().await?;
        let armed = self.arm();
        let result = command.build().fetch_all(&mut *conn).await;
        if result.is_err() {
            match sqlx::query("ROLLBACK").execute(&mut *conn).await {
                Ok(_) | Err(sqlx::Error::Database(_)) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "rolling back a one-command transaction failed; reopening the connection");
                    self.failed();
                }
            }
        }
        armed.disarm();
        result
    }

    /// Runs `command`, which begins a transaction (`BEGIN IMMEDIATE; …`), on `conn` (this
    /// connection, held) and ends it: `COMMIT` when the command answered exactly `rows` rows,
    /// `ROLLBACK` otherwise (armed meanwhile, see [`arm`](Self::arm)). Answers whether it
    /// committed, the command's error if it failed, and how the `COMMIT` or `ROLLBACK` went.
    pub(crate) async fn run_then_end(
        &self,
        conn: &mut SqliteConnection,
        mut command: sqlx::QueryBuilder<'_, sqlx::Sqlite>,
        rows: usize,
    ) -> (bool, Option<sqlx::Error>, sqlx::Result<()>) {
        let armed = self.arm();
        let written = command.build().fetch_all(&mut *conn).await;
        let whole = matches!(&written, Ok(r) if r.len() == rows);
        let end = sqlx::query(if whole { "COMMIT" } else { "ROLLBACK" })
            .execute(&mut *conn)
            .await
            .map(|_| ());
        armed.disarm();
        (whole, written.err(), end)
    }

    /// The connection for one statement of the `Executor` below.
    async fn lease(&self) -> sqlx::Result<Lease<'_>> {
        Ok(Lease {
            conn: self.locked().await?,
            head: self,
        })
    }
}

/// See [`WriteConn::arm`].
pub(crate) struct Armed<'a>(Option<&'a WriteConn>);

impl Armed<'_> {
    /// The transaction has ended (committed or rolled back).
    pub(crate) fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for Armed<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.0.take() {
            conn.failed();
        }
    }
}

/// The writing connection held for one statement (`leased_executor!`).
struct Lease<'a> {
    conn: MutexGuard<'a, Option<SqliteConnection>>,
    head: &'a WriteConn,
}

impl Lease<'_> {
    fn conn(&mut self) -> sqlx::Result<&mut SqliteConnection> {
        self.conn.as_mut().ok_or(sqlx::Error::PoolClosed)
    }

    /// After a statement: an error that is not the database's answer (a constraint, no row)
    /// closes the connection (the next `acquire` opens a new one) and forgets the chain's head.
    fn settle<T>(&mut self, result: &sqlx::Result<T>) {
        if matches!(result, Err(e) if !matches!(e, sqlx::Error::Database(_) | sqlx::Error::RowNotFound))
        {
            *self.conn = None;
            *self.head.head() = None;
        }
    }
}

// Single statements (autocommit) on the writing connection.
crate::readers::leased_executor!(WriteConn);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::WriteConn;
    use sqlx::Connection;
    use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

    /// A command that began a transaction and whose caller went away before its `COMMIT` (the
    /// armed guard dropped) leaves nothing behind: the next user of the connection gets a new
    /// one, the transaction rolled back, and can begin its own.
    #[tokio::test]
    async fn a_transaction_left_open_by_a_dropped_command_is_rolled_back() {
        let dir = tempfile::tempdir().unwrap();
        let opts = SqliteConnectOptions::new()
            .filename(dir.path().join("w.db"))
            .create_if_missing(true);
        let w = WriteConn::new(
            opts.clone(),
            SqliteConnection::connect_with(&opts).await.unwrap(),
        );
        {
            let mut conn = w.acquire().await.unwrap();
            sqlx::query("CREATE TABLE t (x INTEGER)")
                .execute(&mut *conn)
                .await
                .unwrap();
            let armed = w.arm();
            sqlx::raw_sql("BEGIN IMMEDIATE; INSERT INTO t VALUES (1)")
                .execute(&mut *conn)
                .await
                .unwrap();
            drop(armed);
        }
        let mut conn = w.acquire().await.unwrap();
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut *conn)
            .await
            .unwrap();
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM t")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!(n, 0, "the open transaction was rolled back");
        sqlx::query("COMMIT").execute(&mut *conn).await.unwrap();

        // Disarmed after its end, the connection is kept.
        let armed = w.arm();
        sqlx::query("CREATE TEMP TABLE mine (x INTEGER)")
            .execute(&mut *conn)
            .await
            .unwrap();
        armed.disarm();
        drop(conn);
        let mut conn = w.acquire().await.unwrap();
        sqlx::query("SELECT count(*) FROM mine")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
    }
}
