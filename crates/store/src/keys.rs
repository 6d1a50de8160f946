//! The key store: wrapped keys, apart from the data.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::{Result, StoreError};

/// One wrapped key. `context` names its owner and is bound into the wrapping.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct KeyRecord {
    pub context: String,
    pub key_id: String,
    pub wrapped: Vec<u8>,
}

impl fmt::Debug for KeyRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyRecord({}, {})", self.context, self.key_id)
    }
}

/// Where wrapped keys live. SQLite file by default; an external KMS could implement it later.
#[async_trait]
pub trait KeyStore: Send + Sync + fmt::Debug {
    /// The stored fingerprint of the master key, if one was recorded.
    async fn fingerprint(&self) -> Result<Option<String>>;
    /// Records the fingerprint the first time; errors if a different one is already there.
    async fn init_fingerprint(&self, fingerprint: &str) -> Result<()>;
    /// A named value kept beside the keys (for example the audit chain's anchor).
    async fn meta(&self, name: &str) -> Result<Option<String>>;
    async fn set_meta(&self, name: &str, value: &str) -> Result<()>;
    /// Sets a named value only if it still is `expected` (`None`: only if absent). Returns
    /// whether it was set: instances sharing a key store advance a value without losing a race.
    async fn replace_meta(&self, name: &str, expected: Option<&str>, value: &str) -> Result<bool>;
    async fn get(&self, context: &str) -> Result<Option<KeyRecord>>;
    /// Inserts a key; if one exists for the context already, keeps it and returns it.
    async fn put_if_absent(&self, record: KeyRecord) -> Result<KeyRecord>;
    /// Deletes a key. Returns whether one was there.
    async fn delete(&self, context: &str) -> Result<bool>;
    /// Deletes several keys in one transaction, followed by one `after_delete` (SQLite: one WAL
    /// checkpoint) for all of them. Returns the contexts that were there, so a caller counts
    /// exactly what it destroyed even when another process took some of them first.
    async fn delete_many(&self, contexts: &[String]) -> Result<Vec<String>>;
    /// Deletes several keys in one transaction followed by what one `delete` does after it
    /// (SQLite: one WAL checkpoint; PostgreSQL: nothing — no `VACUUM`, which a purge's
    /// `delete_many` runs and which concurrent callers would queue on). For the few keys of one
    /// write (a refused sign-up's) or of one run of the job queue (sent messages'). Returns the
    /// contexts that were there.
    async fn delete_several(&self, contexts: &[String]) -> Result<Vec<String>>;
    /// Every context with the given prefix (for example `member:`) created before `before`.
    async fn contexts(&self, prefix: &str, before: DateTime<Utc>) -> Result<Vec<String>>;
    /// One page of [`KeyStore::contexts`]: at most `limit` contexts with the prefix, created
    /// before `before`, that sort after `after` (the last of the previous page; the prefix itself
    /// for the first), in order. Memory stays one page however many keys there are.
    async fn contexts_after(
        &self,
        prefix: &str,
        after: &str,
        before: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<String>>;
    /// Inserts new keys in one transaction (the bulk seeder of the benchmarks). Nothing is
    /// inserted if any context already has a key (`Duplicate`).
    async fn put_many(&self, records: &[KeyRecord]) -> Result<()>;
    async fn all(&self) -> Result<Vec<KeyRecord>>;
    /// Replaces every wrapped key and the fingerprint in one transaction, if the stored
    /// fingerprint is still `old_fingerprint`.
    async fn rewrap_all(
        &self,
        old_fingerprint: &str,
        new_fingerprint: &str,
        records: Vec<KeyRecord>,
    ) -> Result<()>;
}

/// How durable a SQLite connection's commits are: `PRAGMA journal_mode` and `PRAGMA
/// synchronous` (0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteDurability {
    pub journal_mode: String,
    pub synchronous: i64,
    /// 1: deleted content is overwritten (`secure_delete=ON`); 2 would be `FAST`.
    pub secure_delete: i64,
}

impl SqliteDurability {
    pub(crate) async fn of<'a, E>(pool: E) -> Result<Self>
    where
        E: sqlx::Executor<'a, Database = sqlx::Sqlite> + Copy,
    {
        let journal_mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(pool)
            .await?;
        let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(pool)
            .await?;
        let secure_delete: i64 = sqlx::query_scalar("PRAGMA secure_delete")
            .fetch_one(pool)
            .await?;
        Ok(Self {
            journal_mode,
            synchronous,
            secure_delete,
        })
    }
}

#[derive(Debug, Clone)]
pub struct SqliteKeyStore {
    /// The one connection that writes (key writes are rare and must be serialised).
    pool: SqlitePool,
    /// Read-only connections for the key lookups of every reveal, so they never queue behind a
    /// key write (a sign-up's new key, the audit anchor's update, each synced to disk).
    read: crate::readers::Readers,
}

/// The page cache of each connection that writes, in KiB (negative: SQLite's unit for KiB):
/// 512 KiB, a quarter of SQLite's default. A write looks up or appends a few rows by key; the
/// operating system's page cache already holds the file, and every connection's own cache is
/// memory of the process that fills as the database grows (the members' writer at 2 MiB added
/// about 1.5 MiB to the server's peak, with no difference in `PATCH` beyond the noise:
/// bench/README.md, "Issue 12, fifteenth session").
pub(crate) const CACHE_KIB: &str = "-512";

/// The page cache of each read-only connection (four to the members' database, two to the key
/// store), in KiB: 256 KiB. A read looks up a session, a member and their items by key.
pub(crate) const READER_CACHE_KIB: &str = "-256";

pub(crate) fn sqlite_connect_options(url: &str, create: bool) -> Result<SqliteConnectOptions> {
    use std::str::FromStr;
    let opts = SqliteConnectOptions::from_str(url)?;
    let path = opts.get_filename().to_path_buf();
    if !path.exists() {
        if !create {
            return Err(StoreError::Missing(path.display().to_string()));
        }
        // Create the file readable by its owner only; SQLite gives its -wal and -shm files the
        // same mode.
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(|source| StoreError::Create {
                path: path.display().to_string(),
                source,
            })?;
    }
    Ok(opts
        .create_if_missing(create)
        .journal_mode(SqliteJournalMode::Wal)
        // FULL: every commit syncs the write-ahead log before it returns, so a withdrawal or a
        // key destruction answered "done" survives a power cut. (NORMAL syncs only at
        // checkpoints: the last commits before a power loss could come back.)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true)
        // Deleted content (a destroyed key, a withdrawn member's rows) is overwritten, not left
        // in free pages of the file.
        .pragma("secure_delete", "ON")
        // Readers and a purge's connection set their own.
        .pragma("cache_size", CACHE_KIB))
}

impl SqliteKeyStore {
    pub async fn open(url: &str, create: bool) -> Result<Self> {
        let opts = sqlite_connect_options(url, create)?;
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .connect_with(opts.clone())
            .await?;
        let mut migrator = sqlx::migrate!("./migrations/keys-sqlite");
        migrator.set_ignore_missing(true);
        migrator.run(&pool).await?;
        let read = crate::readers::Readers::open(
            opts.read_only(true).pragma("cache_size", READER_CACHE_KIB),
            2,
        )
        .await?;
        Ok(Self { pool, read })
    }

    /// The journal mode and `synchronous` level of the connection that writes (for tests and
    /// diagnostics; see [`SqliteDurability`]).
    pub async fn durability(&self) -> Result<SqliteDurability> {
        SqliteDurability::of(&self.pool).await
    }

    /// Checkpoints, so a deleted key does not linger in the write-ahead log.
    async fn after_delete(&self) -> Result<()> {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// One checkpoint for all the keys of a `delete_many`.
    async fn after_delete_many(&self) -> Result<()> {
        self.after_delete().await
    }
}

/// Contexts per `DELETE` statement in `delete_many` (well under both backends' parameter limits).
pub(crate) const DELETE_CHUNK: usize = 500;

/// The `KeyStore` implementation shared by both backends (the SQL is the same; `$n` parameters).
/// `$store` must have a `pool` (writes), a `read` pool (key and meta lookups; the same pool on
/// PostgreSQL) and `after_delete` and `after_delete_many` methods.
macro_rules! key_store_impl {
    ($store:ident) => {
        fn key_record<R: sqlx::Row>(row: &R) -> $crate::Result<$crate::KeyRecord>
        where
            for<'r> $crate::KeyRecord: sqlx::FromRow<'r, R>,
        {
            Ok(<$crate::KeyRecord as sqlx::FromRow<R>>::from_row(row)?)
        }

        impl $store {
            /// Deletes the keys of `contexts` in one transaction; returns those that were there.
            async fn delete_rows(&self, contexts: &[String]) -> $crate::Result<Vec<String>> {
                let mut deleted = Vec::with_capacity(contexts.len());
                let mut tx = self.pool.begin_with(BEGIN).await?;
                for chunk in contexts.chunks($crate::keys::DELETE_CHUNK) {
                    let list = (1..=chunk.len())
                        .map(|i| format!("${i}"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let sql = format!(
                        "DELETE FROM wrapped_keys WHERE context IN ({list}) RETURNING context"
                    );
                    let mut q = sqlx::query_scalar(&sql);
                    for c in chunk {
                        q = q.bind(c);
                    }
                    let gone: Vec<String> = q.fetch_all(&mut *tx).await?;
                    deleted.extend(gone);
                }
                tx.commit().await?;
                Ok(deleted)
            }
        }

        #[async_trait::async_trait]
        impl $crate::KeyStore for $store {
    async fn fingerprint(&self) -> $crate::Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT value FROM key_meta WHERE name = 'master_fingerprint'")
                .fetch_optional(&self.read)
                .await?,
        )
    }

    async fn init_fingerprint(&self, fingerprint: &str) -> $crate::Result<()> {
        let mut tx = self.pool.begin_with(BEGIN).await?;
        let existing: Option<String> =
            sqlx::query_scalar("SELECT value FROM key_meta WHERE name = 'master_fingerprint'")
                .fetch_optional(&mut *tx)
                .await?;
        match existing {
            Some(fp) if fp == fingerprint => {}
            Some(_) => {
                return Err($crate::StoreError::Conflict(
                    "the key store belongs to another master key".into(),
                ));
            }
            None => {
                sqlx::query("INSERT INTO key_meta (name, value) VALUES ('master_fingerprint', $1)")
                    .bind(fingerprint)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    async fn meta(&self, name: &str) -> $crate::Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT value FROM key_meta WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.read)
                .await?,
        )
    }

    async fn set_meta(&self, name: &str, value: &str) -> $crate::Result<()> {
        if name == "master_fingerprint" {
            return Err($crate::StoreError::Conflict(
                "the fingerprint changes only by rotation".into(),
            ));
        }
        sqlx::query(
            "INSERT INTO key_meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
        .bind(name)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn replace_meta(
        &self,
        name: &str,
        expected: Option<&str>,
        value: &str,
    ) -> $crate::Result<bool> {
        if name == "master_fingerprint" {
            return Err($crate::StoreError::Conflict(
                "the fingerprint changes only by rotation".into(),
            ));
        }
        let done = match expected {
            None => sqlx::query(
                "INSERT INTO key_meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            )
            .bind(name)
            .bind(value)
            .execute(&self.pool)
            .await?,
            Some(old) => sqlx::query("UPDATE key_meta SET value = $2 WHERE name = $1 AND value = $3")
                .bind(name)
                .bind(value)
                .bind(old)
                .execute(&self.pool)
                .await?,
        };
        Ok(done.rows_affected() == 1)
    }

    async fn get(&self, context: &str) -> $crate::Result<Option<$crate::KeyRecord>> {
        let row =
            sqlx::query("SELECT context, key_id, wrapped FROM wrapped_keys WHERE context = $1")
                .bind(context)
                .fetch_optional(&self.pool)
                .await?;
        row.as_ref().map(key_record).transpose()
    }

    async fn put_if_absent(&self, rec: $crate::KeyRecord) -> $crate::Result<$crate::KeyRecord> {
        let mut tx = self.pool.begin_with(BEGIN).await?;
        sqlx::query(
            "INSERT INTO wrapped_keys (context, key_id, wrapped, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (context) DO NOTHING",
        )
        .bind(&rec.context)
        .bind(&rec.key_id)
        .bind(&rec.wrapped)
        .bind(chrono::Utc::now())
        .execute(&mut *tx)
        .await?;
        let row =
            sqlx::query("SELECT context, key_id, wrapped FROM wrapped_keys WHERE context = $1")
                .bind(&rec.context)
                .fetch_one(&mut *tx)
                .await?;
        tx.commit().await?;
        key_record(&row)
    }

    async fn delete(&self, context: &str) -> $crate::Result<bool> {
        let done = sqlx::query("DELETE FROM wrapped_keys WHERE context = $1")
            .bind(context)
            .execute(&self.pool)
            .await?;
        self.after_delete().await?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_many(&self, contexts: &[String]) -> $crate::Result<Vec<String>> {
        if contexts.is_empty() {
            return Ok(Vec::new());
        }
        let deleted = self.delete_rows(contexts).await?;
        self.after_delete_many().await?;
        Ok(deleted)
    }

    async fn delete_several(&self, contexts: &[String]) -> $crate::Result<Vec<String>> {
        if contexts.is_empty() {
            return Ok(Vec::new());
        }
        let deleted = self.delete_rows(contexts).await?;
        self.after_delete().await?;
        Ok(deleted)
    }


    async fn contexts(&self, prefix: &str, before: chrono::DateTime<chrono::Utc>) -> $crate::Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT context FROM wrapped_keys
             WHERE substr(context, 1, length($1)) = $1 AND created_at < $2 ORDER BY context",
        )
        .bind(prefix)
        .bind(before)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn contexts_after(
        &self,
        prefix: &str,
        after: &str,
        before: chrono::DateTime<chrono::Utc>,
        limit: i64,
    ) -> $crate::Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT context FROM wrapped_keys
             WHERE context > $2 AND substr(context, 1, length($1)) = $1 AND created_at < $3
             ORDER BY context LIMIT $4",
        )
        .bind(prefix)
        .bind(after)
        .bind(before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn put_many(&self, records: &[$crate::KeyRecord]) -> $crate::Result<()> {
        // 4 parameters a row: well under both backends' limit per statement.
        const PER_INSERT: usize = 1000;
        let now = chrono::Utc::now();
        // A macro, not a closure: the statement borrows the records (no copies of key material).
        macro_rules! insert {
            ($chunk:expr) => {{
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO wrapped_keys (context, key_id, wrapped, created_at) ",
                );
                q.push_values($chunk, |mut b, rec| {
                    b.push_bind(&rec.context)
                        .push_bind(&rec.key_id)
                        .push_bind(&rec.wrapped)
                        .push_bind(now);
                });
                q
            }};
        }
        let duplicate = |e: sqlx::Error| match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                $crate::StoreError::Duplicate {
                    domain: "key context".into(),
                }
            }
            _ => $crate::StoreError::Db(e),
        };
        // One statement is all or nothing by itself: a sign-up's keys are one round trip to
        // the connection, not three (begin, insert, commit).
        if records.len() <= PER_INSERT {
            if !records.is_empty() {
                insert!(records).build().execute(&self.pool).await.map_err(duplicate)?;
            }
            return Ok(());
        }
        let mut tx = self.pool.begin_with(BEGIN).await?;
        for chunk in records.chunks(PER_INSERT) {
            insert!(chunk).build().execute(&mut *tx).await.map_err(duplicate)?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn all(&self) -> $crate::Result<Vec<$crate::KeyRecord>> {
        let rows =
            sqlx::query("SELECT context, key_id, wrapped FROM wrapped_keys ORDER BY context")
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(key_record).collect()
    }

    async fn rewrap_all(
        &self,
        old_fingerprint: &str,
        new_fingerprint: &str,
        records: Vec<$crate::KeyRecord>,
    ) -> $crate::Result<()> {
        let mut tx = self.pool.begin_with(BEGIN).await?;
        let stored: Option<String> =
            sqlx::query_scalar("SELECT value FROM key_meta WHERE name = 'master_fingerprint'")
                .fetch_optional(&mut *tx)
                .await?;
        if stored.as_deref() != Some(old_fingerprint) {
            return Err($crate::StoreError::Conflict(
                "the key store's master key changed during rotation".into(),
            ));
        }
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM wrapped_keys")
            .fetch_one(&mut *tx)
            .await?;
        if count != records.len() as i64 {
            return Err($crate::StoreError::Conflict(
                "keys were added or removed during rotation; run it again".into(),
            ));
        }
        for rec in &records {
            let done =
                sqlx::query("UPDATE wrapped_keys SET wrapped = $1 WHERE context = $2 AND key_id = $3")
                    .bind(&rec.wrapped)
                    .bind(&rec.context)
                    .bind(&rec.key_id)
                    .execute(&mut *tx)
                    .await?;
            if done.rows_affected() != 1 {
                return Err($crate::StoreError::Conflict(format!(
                    "key {} changed during rotation",
                    rec.context
                )));
            }
        }
        sqlx::query("UPDATE key_meta SET value = $1 WHERE name = 'master_fingerprint'")
            .bind(new_fingerprint)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.after_delete().await?;
        Ok(())
    }
}
    };
}
pub(crate) use key_store_impl;

/// Writers take the lock at once: two processes sharing the file wait for each other (busy
/// timeout) instead of failing when a read lock cannot be upgraded.
const BEGIN: &str = "BEGIN IMMEDIATE";

key_store_impl!(SqliteKeyStore);
