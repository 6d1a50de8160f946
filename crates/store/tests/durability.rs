//! A withdrawal or a key destruction answered "done" survives a power cut: both SQLite databases
//! run in WAL mode with `synchronous=FULL`, so every commit has synced the write-ahead log before
//! it returns — as ARCHITECTURE.md ("Files of an installation") says.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::Arc;

use jikimi_store::{ChainLinker, SqliteDurability, SqliteKeyStore, SqliteStore};

#[derive(Debug)]
struct NoLink;

impl ChainLinker for NoLink {
    fn link(&self, _prev: &[u8], _body: &[u8]) -> Vec<u8> {
        Vec::new()
    }
}

const FULL: i64 = 2;
/// `PRAGMA secure_delete` answers 1 for ON (2 for FAST).
const ON: i64 = 1;

#[tokio::test]
async fn both_sqlite_databases_sync_every_commit() {
    let dir = tempfile::tempdir().unwrap();
    let url = |f: &str| format!("sqlite://{}", dir.path().join(f).display());
    let data = SqliteStore::open(&url("jikimi.db"), true, Arc::new(NoLink))
        .await
        .unwrap();
    let keys = SqliteKeyStore::open(&url("keys.db"), true).await.unwrap();
    let expected = SqliteDurability {
        journal_mode: "wal".into(),
        synchronous: FULL,
        secure_delete: ON,
    };
    let (write, read) = data.durability().await.unwrap();
    assert_eq!(write, expected, "the data database's writing connection");
    assert_eq!(read.synchronous, FULL, "reading connections too");
    assert_eq!(keys.durability().await.unwrap(), expected, "the key store");

    // The documentation says the same.
    let arch = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ARCHITECTURE.md"),
    )
    .unwrap();
    assert!(
        arch.contains("WAL, `synchronous=FULL`"),
        "ARCHITECTURE.md names the SQLite durability settings"
    );
}

/// A purge deletes retained records on a one-off connection with `secure_delete=FAST` and a large
/// page cache (ARCHITECTURE.md, "What overwriting still buys at a purge"); the pool's connections,
/// which delete member rows and everything else, keep `secure_delete=ON` afterwards.
#[tokio::test]
async fn a_purge_leaves_the_pooled_connections_overwriting() {
    use jikimi_store::{BucketPurge, DestructionRecord, RetentionStore};
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("jikimi.db").display());
    let data = SqliteStore::open(&url, true, Arc::new(NoLink))
        .await
        .unwrap();
    let record = DestructionRecord {
        id: uuid::Uuid::new_v4(),
        at: chrono::Utc::now(),
        event: "purge".into(),
        class: "contract_records".into(),
        period: "test".into(),
        count: 0,
        method: "key_destruction".into(),
        actor: "cli".into(),
        run_id: None,
    };
    let parts = [BucketPurge {
        class: "contract_records".into(),
        buckets: vec!["2020-01-01".into()],
        record,
    }];
    let today = chrono::NaiveDate::from_ymd_opt(2030, 1, 1).unwrap();
    assert_eq!(
        data.purge_retained_buckets(&parts, today).await.unwrap(),
        [0]
    );
    data.after_purge().await;
    let (write, read) = data.durability().await.unwrap();
    assert_eq!(write.secure_delete, ON, "the writing connection");
    assert_eq!(read.secure_delete, ON, "a reading connection");
}
