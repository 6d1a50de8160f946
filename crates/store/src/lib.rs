#![doc = include_str!("../README.md")]

mod keys;
mod postgres;
mod readers;
mod sql;
mod sqlite;
mod types;
mod writing;

pub use keys::{KeyRecord, KeyStore, SqliteDurability, SqliteKeyStore};
pub use postgres::{PgKeyStore, PgStore, migrate_data, migrate_keys};
pub use sql::{
    AdStore, AuditStore, BreachStore, ConsentStore, GuardianStore, JobStore, LimitStore,
    MemberStore, OfficeStore, OutboxStore, PartnerStore, PaymentStore, PolicyVersionStore,
    PrizeStore, ProcessorStore, RequestStore, RetentionStore, SessionStore,
};
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
    /// A failure shared by several requests (a grouped audit append), as text.
    #[error("database error: {0}")]
    Failed(String),
    #[error("stored data is malformed: {0}")]
    Malformed(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Computes the audit chain's link for a row: the store calls it inside the appending transaction.
pub trait ChainLinker: Send + Sync + std::fmt::Debug {
    fn link(&self, prev: &[u8], body: &[u8]) -> Vec<u8>;
}

/// The data store. One implementation per backend (SQLite, PostgreSQL); every method
/// that writes is one transaction, so a failed call leaves nothing behind. Its methods come from
/// one trait per aggregate, each declared beside its SQL in `src/sql/`.
pub trait Store:
    MemberStore
    + ConsentStore
    + SessionStore
    + LimitStore
    + AuditStore
    + RetentionStore
    + JobStore
    + OfficeStore
    + RequestStore
    + OutboxStore
    + PaymentStore
    + PrizeStore
    + PartnerStore
    + ProcessorStore
    + AdStore
    + BreachStore
    + GuardianStore
    + PolicyVersionStore
    + Send
    + Sync
    + std::fmt::Debug
{
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
