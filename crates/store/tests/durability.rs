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
