//! The SQLite data store: WAL, one writer connection (writes are serialised, so the audit chain
//! and uniqueness checks need no locks), a small pool of readers. The SQL is shared with the
//! PostgreSQL store (see `sql/`).

use std::sync::Arc;

use sqlx::Sqlite;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};

use crate::keys::{SqliteDurability, sqlite_connect_options};
use crate::{ChainLinker, Result};

/// The connection options every jikimi SQLite database uses (WAL, busy timeout,
/// `synchronous=FULL`, foreign keys, secure delete).
pub fn sqlite_options(url: &str, create: bool) -> Result<SqliteConnectOptions> {
    sqlite_connect_options(url, create)
}

#[derive(Debug, Clone)]
pub struct SqliteStore {
    write: SqlitePool,
    read: SqlitePool,
    linker: Arc<dyn ChainLinker>,
    /// The options of the one-off connection a purge deletes on (see `purge_connection`).
    purge: SqliteConnectOptions,
}

impl SqliteStore {
    /// Opens the database file and brings its schema up to date (SQLite migrates on every start:
    /// there is only one process).
    pub async fn open(url: &str, create: bool, linker: Arc<dyn ChainLinker>) -> Result<Self> {
        let opts = sqlite_options(url, create)?;
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts.clone())
            .await?;
        // A database migrated by a newer binary is fine: migrations only expand until every
        // instance runs the newer binary (ARCHITECTURE.md, "Migrations").
        let mut migrator = sqlx::migrate!("./migrations/sqlite");
        migrator.set_ignore_missing(true);
        migrator.run(&write).await?;
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts.clone().read_only(true))
            .await?;
        let purge = opts
            .pragma("secure_delete", purge_secure_delete())
            .pragma("cache_size", format!("-{}", purge_cache_kib()));
        Ok(Self {
            write,
            read,
            linker,
            purge,
        })
    }

    /// The journal mode and `synchronous` level of the writing connection and of a reading one.
    pub async fn durability(&self) -> Result<(SqliteDurability, SqliteDurability)> {
        Ok((
            SqliteDurability::of(&self.write).await?,
            SqliteDurability::of(&self.read).await?,
        ))
    }

    /// Writes everything to the main file, so a copy of it is complete.
    pub async fn checkpoint(&self) -> Result<()> {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Leaves no copy of a withdrawn member's deleted pages in the write-ahead log. The
    /// withdrawal has committed: a failed checkpoint is logged (the next one catches up), never
    /// reported as a failure.
    async fn after_withdraw(&self) {
        if let Err(e) = self.checkpoint().await {
            tracing::warn!(error = %e, "checkpoint after withdrawal failed");
        }
    }
}

// MEASUREMENT ONLY (removed before commit): the purge configuration from the environment.
fn purge_secure_delete() -> String {
    std::env::var("PURGE_EXP_SECURE_DELETE").unwrap_or_else(|_| "FAST".into())
}
fn purge_cache_kib() -> u64 {
    std::env::var("PURGE_EXP_CACHE_KIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(65536)
}
fn purge_on_pool() -> bool {
    std::env::var("PURGE_EXP_POOL").is_ok()
}

/// The connection a purge deletes on.
enum PurgeConn {
    Pool(sqlx::pool::PoolConnection<Sqlite>),
    Own(Box<sqlx::SqliteConnection>),
}

impl std::ops::Deref for PurgeConn {
    type Target = sqlx::SqliteConnection;
    fn deref(&self) -> &Self::Target {
        match self {
            PurgeConn::Pool(c) => c,
            PurgeConn::Own(c) => c,
        }
    }
}

impl std::ops::DerefMut for PurgeConn {
    fn deref_mut(&mut self) -> &mut Self::Target {
        match self {
            PurgeConn::Pool(c) => c,
            PurgeConn::Own(c) => c,
        }
    }
}

impl SqliteStore {
    async fn purge_connection(&self) -> Result<PurgeConn> {
        use sqlx::Connection;
        if purge_on_pool() {
            return Ok(PurgeConn::Pool(self.write.acquire().await?));
        }
        Ok(PurgeConn::Own(Box::new(
            sqlx::SqliteConnection::connect_with(&self.purge).await?,
        )))
    }

    async fn after_purge_deletes(&self) {
        if let Err(e) = self.checkpoint().await {
            tracing::warn!(error = %e, "checkpoint after purge failed");
        }
    }
}

type Tx<'a> = sqlx::Transaction<'a, Sqlite>;

/// Writers take the write lock at once: another process sharing the file (a second instance, a
/// CLI command) waits for it (busy timeout) instead of failing when a read lock cannot be
/// upgraded.
const BEGIN: &str = "BEGIN IMMEDIATE";

/// One connection per process writes, and `BEGIN IMMEDIATE` serialises processes, so rows need
/// no locks.
const FOR_UPDATE: &str = "";

const CLAIM_JOB: &str = "SELECT id, kind, payload, state, attempts, run_at, last_error FROM jobs
     WHERE kind IN (SELECT value FROM json_each($1))
       AND run_at <= $2
       AND (state = 'queued' OR (state = 'running' AND locked_until <= $2))
     ORDER BY run_at, id LIMIT 1";

/// Appends are already serialised by the single writer connection.
async fn lock_audit(_tx: &mut Tx<'_>) -> Result<()> {
    Ok(())
}

crate::sql::store_impl!(SqliteStore);
