//! The PostgreSQL stores: the data store and the key store, for operators who run several
//! `jikimi serve` instances against one database. The SQL is shared with SQLite (`sql/`,
//! `keys.rs`); what differs is here:
//!
//! - rows are locked where SQLite relies on one write at a time (`FOR UPDATE`), jobs are claimed
//!   with `FOR UPDATE SKIP LOCKED`, and appends to the audit chain take a transaction-level
//!   advisory lock, so every instance extends one chain;
//! - the schema is never changed on start: `jikimi migrate` applies migrations, and an instance
//!   refuses to start on a database that lacks one it needs (a newer database is fine: migrations
//!   only expand while old instances still run; see ARCHITECTURE.md, "Migrations").

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::Postgres;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::{ChainLinker, Result, StoreError};

/// The data store's migrations (paired by name with `migrations/sqlite`). A database already
/// migrated further by a newer binary is accepted: during a rolling upgrade the newer
/// `jikimi migrate` runs first, and migrations only expand (ARCHITECTURE.md, "Migrations").
pub fn data_migrations() -> Migrator {
    let mut m = sqlx::migrate!("./migrations/postgres");
    m.set_ignore_missing(true);
    m
}

/// The key store's migrations (paired by name with `migrations/keys-sqlite`).
pub fn key_migrations() -> Migrator {
    let mut m = sqlx::migrate!("./migrations/keys-postgres");
    m.set_ignore_missing(true);
    m
}

/// The key of the advisory lock that serialises audit appends. Any fixed number works; this one
/// spells "jikimi" in ASCII.
const AUDIT_LOCK_KEY: i64 = 0x6a69_6b69_6d69;

/// Pool sizes: every instance holds at most this many connections to each database.
const DATA_CONNECTIONS: u32 = 16;
const KEY_CONNECTIONS: u32 = 4;

fn options(url: &str) -> Result<PgConnectOptions> {
    Ok(PgConnectOptions::from_str(url)?.application_name("jikimi"))
}

async fn pool(url: &str, max: u32) -> Result<PgPool> {
    Ok(PgPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(10))
        // A connection is not pinged before each use: a dead one fails its one request and is
        // dropped (sqlx's lifetime and idle limits stay at their defaults).
        .test_before_acquire(false)
        .connect_with(options(url)?)
        .await?)
}

/// Applies the data store's migrations (`jikimi migrate`). Safe to run while instances serve:
/// sqlx takes an advisory lock, and migrations only add (see ARCHITECTURE.md).
pub async fn migrate_data(url: &str) -> Result<()> {
    let pool = pool(url, 1).await?;
    data_migrations().run(&pool).await?;
    pool.close().await;
    Ok(())
}

/// Applies the key store's migrations.
pub async fn migrate_keys(url: &str) -> Result<()> {
    let pool = pool(url, 1).await?;
    key_migrations().run(&pool).await?;
    pool.close().await;
    Ok(())
}

/// Refuses a database that lacks a migration this binary needs, or whose applied migration
/// differs from this binary's. Migrations it does not know (from a newer binary) are fine.
async fn check_migrated(pool: &PgPool, migrator: &Migrator, what: &str) -> Result<()> {
    let exists: Option<String> = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations')::text")
        .fetch_one(pool)
        .await?;
    let applied: Vec<(i64, Vec<u8>)> = if exists.is_some() {
        sqlx::query_as("SELECT version, checksum FROM _sqlx_migrations WHERE success")
            .fetch_all(pool)
            .await?
    } else {
        Vec::new()
    };
    for m in migrator.iter() {
        match applied.iter().find(|(v, _)| *v == m.version) {
            None => {
                return Err(StoreError::NotMigrated(format!(
                    "the {what} lacks migration {} ({}); run `jikimi migrate`",
                    m.version, m.description
                )));
            }
            Some((_, checksum)) if checksum.as_slice() != &*m.checksum => {
                return Err(StoreError::NotMigrated(format!(
                    "the {what}'s migration {} ({}) differs from this binary's",
                    m.version, m.description
                )));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// The data store on PostgreSQL. One pool serves reads and writes (`read` and `write` are the
/// same pool; the shared code names both).
#[derive(Debug, Clone)]
pub struct PgStore {
    write: PgPool,
    read: PgPool,
    linker: Arc<dyn ChainLinker>,
    writer: crate::sql::batch::Writer,
}

impl PgStore {
    /// Connects and checks the schema; it never migrates (`jikimi migrate` does).
    pub async fn open(url: &str, linker: Arc<dyn ChainLinker>) -> Result<Self> {
        let write = pool(url, DATA_CONNECTIONS).await?;
        check_migrated(&write, &data_migrations(), "database").await?;
        Ok(Self {
            writer: store_writer(WriterConn::new(write.clone()), &linker),
            read: write.clone(),
            write,
            linker,
        })
    }

    /// PostgreSQL keeps deleted rows until VACUUM; they are ciphertexts whose key is destroyed
    /// (see ARCHITECTURE.md, "What PostgreSQL keeps").
    async fn after_withdraw(&self) {}

    /// A purge deletes on a connection of the pool.
    async fn purge_connection(&self) -> Result<sqlx::pool::PoolConnection<Postgres>> {
        Ok(self.write.acquire().await?)
    }

    /// The connection goes back to the pool.
    async fn release_purge_connection(&self, conn: sqlx::pool::PoolConnection<Postgres>) {
        drop(conn);
    }

    /// Dead rows are ciphertexts whose bucket key the purge destroys next; autovacuum reclaims
    /// them.
    async fn after_purge_deletes(&self) {}
}

type Db = Postgres;
type Tx<'a> = sqlx::Transaction<'a, Db>;

const BEGIN: &str = "BEGIN";

/// Changes lock member rows: they keep their own transactions, never inside a batch that holds
/// the audit lock (see `sql/batch.rs`).
const GROUP_CHANGES: bool = false;

/// The writer's batches take a connection of the pool, like every other transaction. The
/// chain's head after the writer's last batch is remembered, so the next batch of audit rows
/// alone can be one statement ([`WriterConn::append_at_once`]).
struct WriterConn {
    pool: PgPool,
    head: std::sync::Mutex<Option<(i64, Vec<u8>)>>,
}

impl WriterConn {
    fn new(pool: PgPool) -> Self {
        Self {
            pool,
            head: std::sync::Mutex::new(None),
        }
    }

    async fn acquire(&self) -> sqlx::Result<sqlx::pool::PoolConnection<Postgres>> {
        self.pool.acquire().await
    }

    fn head(&self) -> std::sync::MutexGuard<'_, Option<(i64, Vec<u8>)>> {
        // The value is replaced whole, so a panic elsewhere cannot leave it half-written.
        self.head
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The pool tests and replaces its connections itself; the head is read again.
    fn failed(&self) {
        *self.head() = None;
    }

    /// Writes a batch of audit rows alone as **one statement**, in its own implicit transaction,
    /// linked after the remembered head, instead of five round trips (`BEGIN`, the audit lock,
    /// the head, the insert, `COMMIT`): on this machine kind those round trips, not the rows,
    /// were most of a batch's time, and the batch is what every `GET /me` waits for.
    ///
    /// The statement takes the audit lock too (held until its commit), so a change's transaction
    /// that appends next reads these rows as the head. Its rows are inserted only if the
    /// remembered row is still the chain's last in the statement's snapshot; a row appended since
    /// (another instance, or a change's own transaction) means nothing is inserted, and a row
    /// committed between the snapshot and the lock makes the insert of the same `seq` fail on
    /// the primary key. Either way the batch is written the usual way, which reads the head
    /// under the lock: the chain stays one line (ARCHITECTURE.md, "Data flows", **Reveal**).
    async fn append_at_once(
        &self,
        conn: &mut sqlx::PgConnection,
        linker: &dyn ChainLinker,
        ops: &[&crate::sql::batch::Op],
    ) -> crate::sql::batch::AtOnce {
        use crate::sql::batch::{AtHead, AtOnce};
        let head = self.head().clone();
        let Some(AtHead { after, rows, head }) = AtHead::link(ops, head, linker) else {
            return AtOnce::NotTaken;
        };
        let count = rows.len();
        let mut command = sqlx::QueryBuilder::<Postgres>::new(
            "WITH audit_lock AS MATERIALIZED (SELECT pg_advisory_xact_lock(",
        );
        command.push_bind(AUDIT_LOCK_KEY).push(")) ");
        push_audit_insert(&mut command, rows, Some(after));
        command.push(" AND EXISTS (SELECT 1 FROM audit_lock) RETURNING seq");
        match command.build().fetch_all(&mut *conn).await {
            Ok(inserted) if inserted.len() == count => {
                *self.head() = Some(head);
                AtOnce::Done
            }
            Ok(_) => {
                *self.head() = None;
                AtOnce::NotTaken
            }
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                *self.head() = None;
                tracing::debug!(
                    "the chain moved on during a one-statement audit append; writing the batch the usual way"
                );
                AtOnce::NotTaken
            }
            Err(e) => {
                tracing::warn!(error = %e, "one-statement audit append failed; writing the batch again");
                AtOnce::Failed
            }
        }
    }

    /// After a batch of the writer task committed: the chain's head it left, if it appended.
    fn committed(&self, head: Option<(i64, Vec<u8>)>) {
        if head.is_some() {
            *self.head() = head;
        }
    }
}

/// A sign-up is its own transaction here: statements cost no hand-off between threads, and
/// PostgreSQL takes no multi-statement command with parameters.
impl PgStore {
    async fn insert_member_at_once(&self, _m: &crate::NewMember) -> Result<bool> {
        Ok(false)
    }

    fn member_inserted(&self, _head: Option<(i64, Vec<u8>)>) {}
}

/// `LimitStore::hit_limits`: the counters in one transaction, in order, stopping at the first
/// over its limit.
async fn hit_limits_in(
    store: &PgStore,
    counters: &[(&[u8], chrono::DateTime<chrono::Utc>, i64)],
) -> Result<Option<usize>> {
    let mut tx = store.write.begin().await?;
    let mut over = None;
    for (i, (key, expires_at, max)) in counters.iter().enumerate() {
        let n: i64 = sqlx::query_scalar(crate::sql::limits::HIT)
            .bind(*key)
            .bind(*expires_at)
            .fetch_one(&mut *tx)
            .await?;
        if n > *max {
            over = Some(i);
            break;
        }
    }
    tx.commit().await?;
    Ok(over)
}

/// `SessionStore::insert_login_session` as one statement: the login pair's failures deleted in a
/// data-modifying `WITH`, the session inserted.
async fn insert_login_session_in(
    store: &PgStore,
    s: crate::SessionRow,
    cleared: &[u8],
) -> Result<()> {
    sqlx::query(concat!(
        "WITH cleared AS (DELETE FROM login_failures WHERE login_index = $7) INSERT INTO sessions (",
        crate::sql::sessions::session_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6)"
    ))
    .bind(s.token_hash)
    .bind(s.member_id)
    .bind(s.created_at)
    .bind(s.last_seen_at)
    .bind(s.expires_at)
    .bind(s.auth_at)
    .bind(cleared)
    .execute(&store.write)
    .await?;
    Ok(())
}

const FOR_UPDATE: &str = " FOR UPDATE";

/// A due job that no other instance holds: rows locked by another transaction are skipped.
const CLAIM_SKIP_LOCKED: &str = " FOR UPDATE SKIP LOCKED";

/// One chain, many writers: appends take turns, held until the transaction ends, so the next
/// writer reads this one's last row.
async fn lock_audit(tx: &mut Tx<'_>) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(AUDIT_LOCK_KEY)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The rows of an `INSERT INTO audit_log (…)`: `VALUES (…), …`, twelve parameters a row.
fn push_audit_rows<'q>(
    query: &mut sqlx::QueryBuilder<'q, Db>,
    rows: Vec<crate::sql::audit::LinkedRow<'q>>,
) {
    crate::sql::audit::push_audit_values(query, rows);
}

/// The SQL expression for the sealed items of the member whose id is the column `$member`, as
/// one JSON text `[[item_id, hex(sealed), correction_pending], …]`: one row for all of a member's
/// items (`sql::items_from_json` reads it).
/// PostgreSQL: `json_agg` (NULL for no rows, hence the `COALESCE`), as text.
macro_rules! items_json {
    ($member:literal) => {
        concat!(
            "(SELECT COALESCE(json_agg(json_build_array(i.item_id, encode(i.sealed, 'hex'), i.correction_pending)), '[]')::text FROM member_items i WHERE i.member_id = ", $member, ")"
        )
    };
}

/// The SQL expression for the consent decisions of the member whose id is the column `$member`,
/// as one JSON text `[[category, granted], …]` in the order they were made
/// (`sql::consents_from_json` reads it).
macro_rules! consents_json {
    ($member:literal) => {
        concat!(
            "(SELECT COALESCE(json_agg(json_build_array(c.category, c.granted) ORDER BY c.seq), '[]')::text FROM consent_events c WHERE c.member_id = ", $member, ")"
        )
    };
}

/// A text column that is NULL (in a query whose other form selects `consents_json!`).
macro_rules! null_text {
    () => {
        "NULL::text"
    };
}

crate::sql::store_impl!(PgStore);

/// The key store on PostgreSQL: its own database (or schema) reached with its own role and URL.
#[derive(Debug, Clone)]
pub struct PgKeyStore {
    pool: PgPool,
    /// The same pool: PostgreSQL's readers never wait for writers.
    read: PgPool,
}

impl PgKeyStore {
    pub async fn open(url: &str) -> Result<Self> {
        let pool = pool(url, KEY_CONNECTIONS).await?;
        check_migrated(&pool, &key_migrations(), "key store").await?;
        Ok(Self {
            read: pool.clone(),
            pool,
        })
    }

    /// A deleted key's row is gone for every reader at commit; VACUUM reclaims its space.
    async fn after_delete(&self) -> Result<()> {
        Ok(())
    }

    /// After a purge's bucket keys: `VACUUM wrapped_keys`, so their dead rows do not wait for
    /// autovacuum's threshold (a fifth of the table) before their space is free for reuse. It
    /// scans only pages not marked all-visible. The keys are already destroyed for every
    /// reader, so a failed VACUUM (for example a role that does not own the table) is logged,
    /// not reported; autovacuum stays the rule (ARCHITECTURE.md, "What PostgreSQL keeps").
    async fn after_delete_many(&self) -> Result<()> {
        if let Err(e) = sqlx::query("VACUUM wrapped_keys").execute(&self.pool).await {
            tracing::warn!(error = %e, "VACUUM of the key store after a purge failed");
        }
        Ok(())
    }
}

crate::keys::key_store_impl!(PgKeyStore);
