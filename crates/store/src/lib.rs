#![doc = include_str!("../README.md")]

mod common;
mod keys;
mod postgres;
mod sqlite;
mod types;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

pub use keys::{KeyRecord, KeyStore, SqliteKeyStore};
pub use postgres::{PgKeyStore, PgStore, migrate_data, migrate_keys};
pub use sqlite::{SqliteStore, sqlite_options};
pub use types::*;

/// Errors from storage. None carries personal data: values are sealed before they get here.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A blind index (login ID, e-mail, RRN, CI, ...) is already taken. `domain` names the item.
    #[error("already taken: {domain}")]
    Duplicate { domain: String },
    #[error("not found: {0}")]
    NotFound(&'static str),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error("{0}")]
    NotMigrated(String),
    #[error("database file {0} does not exist; run `jikimi init` first or check the path")]
    Missing(String),
    #[error("cannot create {path}: {source}")]
    Create {
        path: String,
        source: std::io::Error,
    },
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is malformed: {0}")]
    Malformed(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Computes the audit chain's link for a row: the store calls it inside the appending transaction.
pub trait ChainLinker: Send + Sync + std::fmt::Debug {
    fn link(&self, prev: &[u8], body: &[u8]) -> Vec<u8>;
}

/// The data store. One implementation per backend (SQLite, PostgreSQL); every method
/// that writes is one transaction, so a failed call leaves nothing behind.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    // --- policy versions
    async fn record_policy_version(&self, v: PolicyVersionRow) -> Result<()>;
    async fn policy_versions(&self) -> Result<Vec<PolicyVersionRow>>;

    // --- members
    /// Creates a member with items, indexes, consents, audit entries and jobs, or nothing.
    async fn insert_member(&self, m: NewMember) -> Result<()>;
    async fn member(&self, id: Uuid) -> Result<Option<MemberRow>>;
    async fn member_by_login(&self, login_index: &[u8]) -> Result<Option<MemberRow>>;
    async fn member_by_index(&self, domain: &str, digest: &[u8]) -> Result<Option<Uuid>>;
    async fn member_ids(&self) -> Result<Vec<Uuid>>;
    async fn count_members(&self) -> Result<i64>;
    /// Sealed items of a member; all of them when `only` is `None`.
    async fn items(&self, member: Uuid, only: Option<&[String]>) -> Result<Vec<ItemRow>>;
    /// Applies a change to an active member in one transaction; `NotFound` if the member is gone.
    /// Returns how many sessions it ended.
    async fn apply(&self, change: MemberChange) -> Result<u64>;
    async fn consent_events(&self, member: Uuid) -> Result<Vec<ConsentEventRow>>;
    /// Withdraws a member: deletes every live row and writes the retained records, the
    /// destruction record, audit entries and jobs, in one transaction.
    async fn withdraw(&self, w: Withdrawal) -> Result<()>;

    // --- sessions (only token hashes are stored)
    async fn insert_session(&self, s: SessionRow) -> Result<()>;
    async fn session(&self, token_hash: &[u8]) -> Result<Option<SessionRow>>;
    async fn touch_session(&self, token_hash: &[u8], at: DateTime<Utc>) -> Result<()>;
    async fn set_session_auth(&self, token_hash: &[u8], at: DateTime<Utc>) -> Result<()>;
    async fn delete_session(&self, token_hash: &[u8]) -> Result<bool>;
    /// Deletes a member's sessions except `keep`; returns how many.
    async fn delete_member_sessions(&self, member: Uuid, keep: Option<&[u8]>) -> Result<u64>;

    /// Deletes expired sessions (past their absolute expiry, or unused for `idle`) and expired
    /// identity-verification results. Returns how many rows went.
    async fn purge_expired(&self, now: DateTime<Utc>, idle: chrono::Duration) -> Result<u64>;

    // --- login failure limits (shared by every instance, never in memory)
    /// Reserves one password attempt for a login ID, atomically, before the password is checked:
    /// refused with the lock's end if the ID is locked; otherwise the attempt is counted (a new
    /// window starts when the old one is over) and its number in the window returned. The attempt
    /// past `max` locks the ID until `at + lock`. Concurrent attempts cannot slip past the limit.
    async fn begin_login_attempt(
        &self,
        login_index: &[u8],
        at: DateTime<Utc>,
        window: chrono::Duration,
        max: i64,
        lock: chrono::Duration,
    ) -> Result<std::result::Result<i64, DateTime<Utc>>>;
    async fn lock_login(&self, login_index: &[u8], until: DateTime<Utc>) -> Result<()>;
    async fn clear_login_failures(&self, login_index: &[u8]) -> Result<()>;

    // --- identity verification results awaiting sign-up
    async fn put_identity(
        &self,
        token_hash: &[u8],
        sealed: &[u8],
        expires_at: DateTime<Utc>,
    ) -> Result<()>;
    /// Reads a result without using it up (`None` if unknown or expired).
    async fn identity(&self, token_hash: &[u8], now: DateTime<Utc>) -> Result<Option<Vec<u8>>>;
    /// Returns and deletes the result (it is used once).
    async fn take_identity(&self, token_hash: &[u8], now: DateTime<Utc>)
    -> Result<Option<Vec<u8>>>;

    // --- audit chain
    async fn append_audit(&self, entries: Vec<AuditEntry>) -> Result<()>;
    async fn audit_rows(&self, after_seq: i64, limit: i64) -> Result<Vec<AuditRow>>;
    /// The last row of the audit chain, if any.
    async fn audit_head(&self) -> Result<Option<AuditRow>>;

    // --- retention store
    async fn retained_by_receipt(&self, receipt_index: &[u8]) -> Result<Vec<RetainedRow>>;
    async fn destruction_records(&self) -> Result<Vec<DestructionRecord>>;
    /// One retained record with its ciphertext.
    async fn retained_record(&self, id: Uuid) -> Result<Option<RetainedRecord>>;
    /// Retained records without content, oldest expiry first, `limit` at a time after `after`
    /// (by id within an expiry day).
    async fn retained_meta(
        &self,
        after: Option<(chrono::NaiveDate, Uuid)>,
        limit: i64,
    ) -> Result<Vec<RetainedMeta>>;
    async fn retained_meta_by_id(&self, id: Uuid) -> Result<Option<RetainedMeta>>;
    /// The retention store by bucket and expiry day, with counts.
    async fn retention_buckets(&self) -> Result<Vec<RetentionBucket>>;
    /// Deletes up to `limit` records of a bucket that expired before `today` and are not held,
    /// and adds their number to `record` (inserted on the first batch), in one transaction; returns
    /// how many. Called repeatedly, so memory stays bounded whatever the bucket's size, and the
    /// destruction record always counts exactly what is gone.
    async fn purge_retained_batch(
        &self,
        bucket: &str,
        class: &str,
        today: chrono::NaiveDate,
        limit: i64,
        record: &DestructionRecord,
    ) -> Result<u64>;
    /// How many sessions and identity-verification results `purge_expired` would delete.
    async fn count_expired(&self, now: DateTime<Utc>, idle: chrono::Duration) -> Result<u64>;
    async fn set_hold(&self, change: HoldChange) -> Result<()>;
    /// Writes destruction records and their audit entries in one transaction.
    async fn record_destruction(
        &self,
        records: Vec<DestructionRecord>,
        audit: Vec<AuditEntry>,
    ) -> Result<()>;

    // --- jobs
    async fn jobs(&self, kind: Option<&str>) -> Result<Vec<JobRow>>;
    /// Claims the oldest due job of one of `kinds`, leased until `lease_until`.
    async fn claim_job(
        &self,
        kinds: &[&str],
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<JobRow>>;
    async fn finish_job(&self, id: Uuid, outcome: JobOutcome) -> Result<()>;
    // --- privacy-office tokens (only their SHA-256 is stored)
    /// Sets the token of a staff account (a new account, or a new token replacing the old one),
    /// with its audit entry.
    async fn set_office_token(
        &self,
        name: &str,
        token_hash: &[u8],
        at: DateTime<Utc>,
        audit: Vec<AuditEntry>,
    ) -> Result<()>;
    /// The staff account a token belongs to, unless revoked.
    async fn office_account(&self, token_hash: &[u8]) -> Result<Option<String>>;
    /// Revokes an account's token; returns whether there was one in force.
    async fn revoke_office_token(
        &self,
        name: &str,
        at: DateTime<Utc>,
        audit: Vec<AuditEntry>,
    ) -> Result<bool>;

    /// Inserts a job unless one with its id exists (a deterministic id makes a scheduled job
    /// exist once, whichever instance schedules it). Returns whether it was inserted.
    async fn schedule_job(&self, job: NewJob, now: DateTime<Utc>) -> Result<bool>;
}

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of(url: &str) -> Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl(scheme_only(url)))
        }
    }
}

/// Opens the data store named by `url`. SQLite: `create` allows creating a new database file
/// (without it a missing file is an error, so a mistyped path never starts empty), and the
/// schema is migrated on open. PostgreSQL: the schema must have been migrated by
/// [`migrate`] (`jikimi migrate`); `create` does not apply.
pub async fn open_store(
    url: &str,
    create: bool,
    linker: std::sync::Arc<dyn ChainLinker>,
) -> Result<std::sync::Arc<dyn Store>> {
    Ok(match Backend::of(url)? {
        Backend::Sqlite => std::sync::Arc::new(SqliteStore::open(url, create, linker).await?),
        Backend::Postgres => std::sync::Arc::new(PgStore::open(url, linker).await?),
    })
}

/// Opens the key store named by `url` (as [`open_store`]).
pub async fn open_key_store(url: &str, create: bool) -> Result<std::sync::Arc<dyn KeyStore>> {
    Ok(match Backend::of(url)? {
        Backend::Sqlite => std::sync::Arc::new(SqliteKeyStore::open(url, create).await?),
        Backend::Postgres => std::sync::Arc::new(PgKeyStore::open(url).await?),
    })
}

/// Brings a PostgreSQL database up to this binary's schema (SQLite migrates on open, so this
/// does nothing for it). Returns whether anything was a PostgreSQL database.
pub async fn migrate(database_url: &str, key_store_url: &str) -> Result<bool> {
    let mut any = false;
    if Backend::of(key_store_url)? == Backend::Postgres {
        migrate_keys(key_store_url).await?;
        any = true;
    }
    if Backend::of(database_url)? == Backend::Postgres {
        migrate_data(database_url).await?;
        any = true;
    }
    Ok(any)
}

/// A URL's scheme only: a URL may carry a password, which must not reach an error message.
fn scheme_only(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, _)) => format!("{scheme}://…"),
        None => "(no scheme)".into(),
    }
}
