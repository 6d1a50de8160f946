//! SQLite's read-only connections, handed out without sqlx's pool.
//!
//! sqlx's pool tests every connection it takes back (`PoolConnection::return_to_pool` pings it:
//! one more round trip to the connection's worker thread, and a task spawned for it) — half of a
//! point read's thread hand-offs. A read-only connection that only ever runs single statements
//! in autocommit mode has nothing to flush: its worker thread runs commands in order, and a
//! statement whose answer nobody waits for any more is reset by the worker (sqlx's `ExecuteIter`
//! resets it when dropped), so it leaves no read transaction open. So these connections go back
//! to the idle list as they are (measured in bench/README.md, "Issue 12, fourth session").
//!
//! At most `max` connections exist; a request beyond them waits for one (a semaphore, fair). A
//! connection that answered with an error other than "no row" is closed, not kept: it may be
//! broken. Nothing here ever begins a transaction — a read that needs a consistent view of
//! several statements must not use this (none does: every read of the store is one statement).
//!
//! The idle connections are a stack, so a light load keeps reusing the same one, and a connection
//! idle for [`Readers::IDLE`] is closed, all but the last one: its page cache, compiled statements
//! and worker thread go back. So the memory a burst of reads took does not stay under the next
//! burst of logins, whose hashing takes 19 MiB a thread (bench/README.md, "Issue 12, sixteenth
//! session").

use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use tokio::sync::{Semaphore, SemaphorePermit};

/// The read-only connections of one database file.
#[derive(Clone)]
pub(crate) struct Readers {
    inner: Arc<Inner>,
}

struct Inner {
    options: SqliteConnectOptions,
    /// The idle connections, each with the time it came back: the last one is the most recent.
    idle: Mutex<Vec<(SqliteConnection, Instant)>>,
    permits: Semaphore,
}

impl std::fmt::Debug for Readers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Readers")
            .field("available", &self.inner.permits.available_permits())
            .finish_non_exhaustive()
    }
}

/// A connection taken from [`Readers`]; it goes back when dropped, unless [`Reader::settle`] closed it.
struct Reader<'a> {
    conn: Option<SqliteConnection>,
    readers: &'a Readers,
    _permit: SemaphorePermit<'a>,
}

impl Readers {
    /// How long an idle connection stays open while another one is idle too: as long as a hashing
    /// thread keeps its working memory (`HashPool::IDLE` in `jikimi-vault`).
    pub(crate) const IDLE: Duration = Duration::from_secs(1);

    /// Up to `max` connections opened with `options` (the first one now, so a wrong path or a
    /// missing file is an error at start rather than at the first read).
    pub(crate) async fn open(options: SqliteConnectOptions, max: usize) -> sqlx::Result<Self> {
        Self::with_idle(options, max, Self::IDLE).await
    }

    /// As [`Readers::open`], closing connections idle for `idle` (a task of the runtime's looks
    /// every `idle / 2`, and ends when the last clone of these readers is dropped).
    pub(crate) async fn with_idle(
        options: SqliteConnectOptions,
        max: usize,
        idle: Duration,
    ) -> sqlx::Result<Self> {
        let first = SqliteConnection::connect_with(&options).await?;
        let readers = Self {
            inner: Arc::new(Inner {
                options,
                idle: Mutex::new(vec![(first, Instant::now())]),
                permits: Semaphore::new(max),
            }),
        };
        tokio::spawn(close_idle(Arc::downgrade(&readers.inner), idle));
        Ok(readers)
    }

    async fn lease(&self) -> sqlx::Result<Reader<'_>> {
        let permit = self
            .inner
            .permits
            .acquire()
            .await
            .map_err(|_| sqlx::Error::PoolClosed)?;
        let idle = self.idle().pop();
        let conn = match idle {
            Some((conn, _)) => conn,
            None => SqliteConnection::connect_with(&self.inner.options).await?,
        };
        Ok(Reader {
            conn: Some(conn),
            readers: self,
            _permit: permit,
        })
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<(SqliteConnection, Instant)>> {
        self.inner.idle()
    }
}

impl Inner {
    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<(SqliteConnection, Instant)>> {
        // The list is only pushed to, popped from and cut at its start: a panic elsewhere cannot
        // leave it torn.
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Takes out the connections idle for `idle` or longer, except the most recent one. The list
    /// is in the order the connections came back, so those are at its start.
    fn take_stale(&self, idle: Duration) -> Vec<(SqliteConnection, Instant)> {
        let mut list = self.idle();
        let stale = list.partition_point(|(_, since)| since.elapsed() >= idle);
        let stale = stale.min(list.len().saturating_sub(1));
        list.drain(..stale).collect()
    }
}

/// Every `idle / 2`, closes the connections idle for `idle` (all but one); ends with the readers.
async fn close_idle(inner: Weak<Inner>, idle: Duration) {
    let mut tick = tokio::time::interval(idle / 2);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(inner) = inner.upgrade() else {
            return;
        };
        let stale = inner.take_stale(idle);
        drop(inner);
        for (conn, _) in stale {
            // Its worker thread closes the database and ends; an error there leaves nothing to do.
            let _ = conn.close().await;
        }
    }
}

impl Reader<'_> {
    fn conn(&mut self) -> sqlx::Result<&mut SqliteConnection> {
        self.conn.as_mut().ok_or(sqlx::Error::PoolClosed)
    }

    /// After a statement: an error other than "no row" closes the connection instead of putting
    /// it back (its worker thread ends when it is dropped).
    fn settle<T>(&mut self, result: &sqlx::Result<T>) {
        if matches!(result, Err(e) if !matches!(e, sqlx::Error::RowNotFound)) {
            self.conn = None;
        }
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.readers.idle().push((conn, Instant::now()));
        }
    }
}

/// `impl Executor for &$source`: single statements (autocommit) on a connection leased from
/// `$source` (`lease()` gives a value with `conn()` and `settle(&result)`, which keeps or closes
/// the connection). The rows are collected on the connection and then yielded, so the
/// connection goes back before the caller looks at them. The store reads with `fetch_one`,
/// `fetch_optional` and `fetch_all` only, which hold every row in memory anyway; nothing streams
/// a result set.
macro_rules! leased_executor {
    ($source:ty) => {
        impl<'c> sqlx::Executor<'c> for &'c $source {
            type Database = sqlx::Sqlite;

            /// The rows are collected on the connection and then yielded, so the connection goes back
            /// before the caller looks at them. The store reads with `fetch_one`, `fetch_optional` and
            /// `fetch_all` only, which hold every row in memory anyway; nothing streams a result set.
            fn fetch_many<'e, 'q: 'e, E>(
                self,
                query: E,
            ) -> futures_util::stream::BoxStream<'e, sqlx::Result<sqlx::Either<sqlx::sqlite::SqliteQueryResult, sqlx::sqlite::SqliteRow>>>
            where
                'c: 'e,
                E: 'q + sqlx::Execute<'q, sqlx::Sqlite>,
            {
                use futures_util::stream::StreamExt as _;
                let all = async move {
                    let mut lease = self.lease().await?;
                    let result: sqlx::Result<Vec<_>> =
                            futures_util::TryStreamExt::try_collect(sqlx::Executor::fetch_many(lease.conn()?, query)).await;
                    lease.settle(&result);
                    result
                };
                Box::pin(
                    futures_util::stream::once(all)
                        .map(|all| match all {
                            Ok(steps) => futures_util::stream::iter(steps.into_iter().map(Ok)).boxed(),
                            Err(e) => futures_util::stream::iter([Err(e)]).boxed(),
                        })
                        .flatten(),
                )
            }

            fn fetch_optional<'e, 'q: 'e, E>(
                self,
                query: E,
            ) -> futures_util::future::BoxFuture<'e, sqlx::Result<Option<sqlx::sqlite::SqliteRow>>>
            where
                'c: 'e,
                E: 'q + sqlx::Execute<'q, sqlx::Sqlite>,
            {
                Box::pin(async move {
                    let mut lease = self.lease().await?;
                    let result = sqlx::Executor::fetch_optional(lease.conn()?, query).await;
                    lease.settle(&result);
                    result
                })
            }

            fn prepare_with<'e, 'q: 'e>(
                self,
                sql: &'q str,
                parameters: &'e [sqlx::sqlite::SqliteTypeInfo],
            ) -> futures_util::future::BoxFuture<'e, sqlx::Result<sqlx::sqlite::SqliteStatement<'q>>>
            where
                'c: 'e,
            {
                Box::pin(async move {
                    let mut lease = self.lease().await?;
                    let result = sqlx::Executor::prepare_with(lease.conn()?, sql, parameters).await;
                    lease.settle(&result);
                    result
                })
            }

            fn describe<'e, 'q: 'e>(self, sql: &'q str) -> futures_util::future::BoxFuture<'e, sqlx::Result<sqlx::Describe<sqlx::Sqlite>>>
            where
                'c: 'e,
            {
                Box::pin(async move {
                    let mut lease = self.lease().await?;
                    let result = sqlx::Executor::describe(lease.conn()?, sql).await;
                    lease.settle(&result);
                    result
                })
            }
        }
    };
}

pub(crate) use leased_executor;

leased_executor!(Readers);

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
    use sqlx::{Connection, SqliteConnection};

    use super::Readers;

    /// A WAL database with a table `t(n)` holding one row, `n = 1`; the writing connection.
    async fn database(dir: &std::path::Path) -> (SqliteConnectOptions, SqliteConnection) {
        let options = SqliteConnectOptions::new()
            .filename(dir.join("r.db"))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal);
        let mut w = SqliteConnection::connect_with(&options).await.unwrap();
        sqlx::query("CREATE TABLE t (n INTEGER NOT NULL)")
            .execute(&mut w)
            .await
            .unwrap();
        sqlx::query("INSERT INTO t VALUES (1)")
            .execute(&mut w)
            .await
            .unwrap();
        (options.read_only(true), w)
    }

    async fn max_n(r: &Readers) -> i64 {
        sqlx::query_scalar("SELECT max(n) FROM t")
            .fetch_one(r)
            .await
            .unwrap()
    }

    /// A read whose caller gave up half-way (its future dropped while the statement runs) leaves
    /// no read transaction behind: the connection goes back, the next read on it sees what was
    /// committed since, and a TRUNCATE checkpoint then finds no reader in its way.
    #[tokio::test]
    async fn an_abandoned_read_leaves_no_snapshot_behind() {
        let dir = tempfile::tempdir().unwrap();
        let (options, mut w) = database(dir.path()).await;
        let r = Readers::open(options, 1).await.unwrap();
        assert_eq!(max_n(&r).await, 1);
        let slow = sqlx::query_scalar::<_, i64>(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000)
             SELECT count(*) FROM c, t",
        )
        .fetch_one(&r);
        assert!(
            tokio::time::timeout(Duration::from_millis(20), slow)
                .await
                .is_err(),
            "the slow read was meant to be abandoned"
        );
        sqlx::query("INSERT INTO t VALUES (2)")
            .execute(&mut w)
            .await
            .unwrap();
        // One connection: this read runs on the abandoned one, after its statement.
        assert_eq!(max_n(&r).await, 2);
        assert_eq!(r.idle().len(), 1, "the connection went back");
        let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
            .fetch_one(&mut w)
            .await
            .unwrap();
        assert_eq!(busy, 0, "a reader still holds a snapshot");
    }

    /// No more than `max` connections at once: a read beyond them waits for one to come back.
    #[tokio::test]
    async fn reads_beyond_the_limit_wait_for_a_connection() {
        let dir = tempfile::tempdir().unwrap();
        let (options, _w) = database(dir.path()).await;
        let r = Readers::open(options, 2).await.unwrap();
        let a = r.lease().await.unwrap();
        let b = r.lease().await.unwrap();
        assert!(
            tokio::time::timeout(Duration::from_millis(50), r.lease())
                .await
                .is_err(),
            "a third connection was handed out"
        );
        drop(a);
        let c = tokio::time::timeout(Duration::from_secs(5), r.lease())
            .await
            .expect("a connection came back")
            .unwrap();
        drop((b, c));
        assert_eq!(r.idle().len(), 2);
        assert_eq!(max_n(&r).await, 1);
    }

    /// Three connections leased at once and given back.
    async fn three_idle(r: &Readers) {
        let leases = (
            r.lease().await.unwrap(),
            r.lease().await.unwrap(),
            r.lease().await.unwrap(),
        );
        drop(leases);
        assert_eq!(r.idle().len(), 3);
    }

    /// After [`three_idle`]: how many are idle once the closing task has closed all but one, or
    /// five seconds have passed.
    async fn idle_after_a_burst(r: &Readers) -> usize {
        three_idle(r).await;
        let start = std::time::Instant::now();
        while r.idle().len() > 1 && start.elapsed() < Duration::from_secs(5) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        r.idle().len()
    }

    /// Connections idle for the limit are closed, all but one; the readers still read, and open
    /// connections again for the next burst.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn connections_idle_past_the_limit_are_closed_but_one() {
        let dir = tempfile::tempdir().unwrap();
        let (options, _w) = database(dir.path()).await;
        let r = Readers::with_idle(options, 3, Duration::from_millis(100))
            .await
            .unwrap();
        assert_eq!(idle_after_a_burst(&r).await, 1);
        assert_eq!(max_n(&r).await, 1);
        assert_eq!(idle_after_a_burst(&r).await, 1);
        assert_eq!(max_n(&r).await, 1);
    }

    /// A connection used again within the limit stays open; only the ones that sat idle close.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn connections_in_use_stay_open() {
        let dir = tempfile::tempdir().unwrap();
        let (options, _w) = database(dir.path()).await;
        let r = Readers::with_idle(options.clone(), 3, Duration::from_secs(3600))
            .await
            .unwrap();
        // Idle far below the limit: nothing closes (the task looks every 30 minutes here, so
        // also check the rule itself).
        three_idle(&r).await;
        assert!(r.inner.take_stale(Duration::from_secs(3600)).is_empty());
        assert_eq!(r.idle().len(), 3);
        // With a limit of 300 ms and one connection read every 20 ms: that one stays (it is the
        // top of the stack), the two below it close.
        let r = Readers::with_idle(options, 3, Duration::from_millis(300))
            .await
            .unwrap();
        three_idle(&r).await;
        let start = std::time::Instant::now();
        while r.idle().len() > 1 && start.elapsed() < Duration::from_secs(5) {
            assert_eq!(max_n(&r).await, 1);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(r.idle().len(), 1);
        // Never fewer than one, even when it too has been idle past the limit.
        tokio::time::sleep(Duration::from_millis(700)).await;
        assert_eq!(r.idle().len(), 1);
        assert!(r.inner.take_stale(Duration::ZERO).is_empty());
    }

    /// A statement that fails closes its connection (it may be broken); "no row" does not.
    #[tokio::test]
    async fn a_failed_statement_closes_its_connection() {
        let dir = tempfile::tempdir().unwrap();
        let (options, _w) = database(dir.path()).await;
        let r = Readers::open(options, 1).await.unwrap();
        let none: Option<i64> = sqlx::query_scalar("SELECT n FROM t WHERE n = 99")
            .fetch_optional(&r)
            .await
            .unwrap();
        assert_eq!(none, None);
        assert_eq!(r.idle().len(), 1);
        assert!(
            sqlx::query("SELECT nope FROM t")
                .fetch_all(&r)
                .await
                .is_err()
        );
        assert_eq!(r.idle().len(), 0, "the failed connection was kept");
        // The next read opens a new one.
        assert_eq!(max_n(&r).await, 1);
        assert_eq!(r.idle().len(), 1);
    }
}
