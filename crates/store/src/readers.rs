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

use std::sync::{Arc, Mutex};

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
    idle: Mutex<Vec<SqliteConnection>>,
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
    /// Up to `max` connections opened with `options` (the first one now, so a wrong path or a
    /// missing file is an error at start rather than at the first read).
    pub(crate) async fn open(options: SqliteConnectOptions, max: usize) -> sqlx::Result<Self> {
        let first = SqliteConnection::connect_with(&options).await?;
        Ok(Self {
            inner: Arc::new(Inner {
                options,
                idle: Mutex::new(vec![first]),
                permits: Semaphore::new(max),
            }),
        })
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
            Some(conn) => conn,
            None => SqliteConnection::connect_with(&self.inner.options).await?,
        };
        Ok(Reader {
            conn: Some(conn),
            readers: self,
            _permit: permit,
        })
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<SqliteConnection>> {
        // The list is only pushed to and popped from: a panic elsewhere cannot leave it torn.
        self.inner
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
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
            self.readers.idle().push(conn);
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
