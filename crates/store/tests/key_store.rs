//! The key store's bulk deletion (issue 12, step 8): a purge destroys all of its bucket keys in
//! one transaction. On SQLite, and on PostgreSQL when `JIKIMI_TEST_POSTGRES_URL` is set (see
//! scripts/test-postgres.sh; without it the PostgreSQL half says so and passes).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use jikimi_store::{KeyRecord, KeyStore, PgKeyStore, SqliteKeyStore};
use sqlx::Connection;

fn key(context: &str) -> KeyRecord {
    KeyRecord {
        context: context.into(),
        key_id: "k1".into(),
        wrapped: vec![7; 60],
    }
}

/// R-RET-02, R-ENC-05: every named key goes, the others stay, and the answer names exactly the
/// keys that were there (one absent, one named twice) — by `delete_many` (a purge's) and by
/// `delete_several` (a few keys of one write or one run of the job queue) alike.
async fn delete_many_removes_every_key(store: &dyn KeyStore) {
    for several in [false, true] {
        removes_every_key(store, several).await;
    }
}

async fn removes_every_key(store: &dyn KeyStore, several: bool) {
    let delete = |contexts: Vec<String>| async move {
        if several {
            store.delete_several(&contexts).await.unwrap()
        } else {
            store.delete_many(&contexts).await.unwrap()
        }
    };
    let doomed: Vec<String> = (0..1_203)
        .map(|i| format!("retention:contract_records:b{i:05}"))
        .collect();
    for c in &doomed {
        store.put_if_absent(key(c)).await.unwrap();
    }
    store
        .put_if_absent(key("member:00000000-0000-0000-0000-000000000001"))
        .await
        .unwrap();
    store
        .put_if_absent(key("retention:consent_records:b00001"))
        .await
        .unwrap();

    let mut asked = doomed.clone();
    asked.push("retention:contract_records:absent".into());
    asked.push(doomed[0].clone());
    let mut gone = delete(asked).await;
    gone.sort();
    assert_eq!(gone, doomed, "exactly the keys that were there");
    for c in &doomed {
        assert!(store.get(c).await.unwrap().is_none(), "{c} is gone");
    }
    let left: Vec<String> = store
        .all()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.context)
        .collect();
    assert_eq!(
        left,
        [
            "member:00000000-0000-0000-0000-000000000001",
            "retention:consent_records:b00001"
        ]
    );
    // Nothing to do is no error, and deleting again finds nothing.
    assert!(delete(Vec::new()).await.is_empty());
    assert!(delete(doomed).await.is_empty());
}

#[tokio::test]
async fn delete_many_removes_every_key_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("keys.db").display());
    let store = SqliteKeyStore::open(&url, true).await.unwrap();
    delete_many_removes_every_key(&store).await;
    // One checkpoint after each transaction: no deleted key is left in the write-ahead log.
    let wal = dir.path().join("keys.db-wal");
    let wal_len = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert_eq!(wal_len, 0, "the write-ahead log was truncated");
}

#[tokio::test]
async fn delete_many_removes_every_key_postgres() {
    let Some(base) = std::env::var("JIKIMI_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        eprintln!("PostgreSQL half skipped: set JIKIMI_TEST_POSTGRES_URL");
        return;
    };
    let schema = format!("t{}_keys", &uuid::Uuid::new_v4().simple().to_string()[..16]);
    let mut admin = sqlx::PgConnection::connect(&base).await.unwrap();
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut admin)
        .await
        .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options[search_path]={schema}");
    jikimi_store::migrate_keys(&url).await.unwrap();
    let store = PgKeyStore::open(&url).await.unwrap();
    delete_many_removes_every_key(&store).await;
}
