//! PostgreSQL's batch of audit rows alone as one statement (`store/src/postgres.rs`,
//! `WriterConn::append_at_once`): it waits for the audit lock like every append, and when the
//! chain has moved on since the writer's last batch — before its snapshot, or between its
//! snapshot and the lock — the batch is linked after the row that moved it. Needs
//! `JIKIMI_TEST_POSTGRES_URL` (`scripts/test-postgres.sh`); without it the tests are compiled as
//! ignored, never counted as passed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use jikimi_store::{AuditEntry, AuditRow, AuditStore, ChainLinker, PgStore};
use sqlx::{Connection, PgConnection};

/// `AUDIT_LOCK_KEY` of `store/src/postgres.rs`. Should the two differ, the batch would not wait for
/// the lock the test holds, and the first test fails.
const AUDIT_LOCK_KEY: i64 = 0x6a69_6b69_6d69;

#[derive(Debug)]
struct Link;

impl ChainLinker for Link {
    fn link(&self, prev: &[u8], body: &[u8]) -> Vec<u8> {
        // Not a hash; enough to tell rows apart and which row a row was linked after.
        let mut out = vec![0u8; 32];
        for (i, b) in prev.iter().chain(body).enumerate() {
            out[i % 32] = out[i % 32].wrapping_mul(31).wrapping_add(*b);
        }
        out
    }
}

fn entry(action: &str) -> AuditEntry {
    AuditEntry {
        at: Utc::now(),
        actor: "system:test".into(),
        origin: None,
        action: action.to_owned(),
        member_id: None,
        items: vec!["email".into()],
        purpose: None,
        outcome: "ok".into(),
        detail: serde_json::Value::Null,
    }
}

/// The tests take the one audit lock of the database in turn.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A fresh, migrated schema with one row appended by the writer (which then knows the head):
/// its store, a raw connection to watch it, and a second one that holds the audit lock in an
/// open transaction, as a change appending on another instance would.
async fn head_known_lock_held() -> (PgStore, PgConnection, PgConnection) {
    let (url, _) = jikimi_testkit::postgres_schemas().await;
    jikimi_store::migrate_data(&url).await.unwrap();
    let store = PgStore::open(&url, Arc::new(Link)).await.unwrap();
    store.append_audit(vec![entry("first")]).await.unwrap();
    let raw = PgConnection::connect(&url).await.unwrap();
    let mut holder = PgConnection::connect(&url).await.unwrap();
    sqlx::query("BEGIN").execute(&mut holder).await.unwrap();
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(AUDIT_LOCK_KEY)
        .execute(&mut holder)
        .await
        .unwrap();
    (store, raw, holder)
}

async fn commit(holder: &mut PgConnection) {
    sqlx::query("COMMIT").execute(holder).await.unwrap();
}

async fn rows(store: &PgStore) -> Vec<AuditRow> {
    store.audit_rows(0, i64::MAX).await.unwrap()
}

/// Every row's `prev_hash` is the row before's `hash`, and `seq` counts from 1 without a gap.
fn assert_one_line(rows: &[AuditRow]) {
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row.seq, i64::try_from(i).unwrap() + 1, "seq without a gap");
        if i > 0 {
            assert_eq!(
                row.prev_hash,
                rows[i - 1].hash,
                "row {} links the row before",
                row.seq
            );
        }
    }
}

/// The statement of another connection waiting for an advisory lock, once there is one (up to
/// five seconds).
async fn waiting_for_the_lock(raw: &mut PgConnection) -> Option<String> {
    for _ in 0..100 {
        let waiting: Option<String> = sqlx::query_scalar(
            "SELECT query FROM pg_stat_activity
             WHERE wait_event_type = 'Lock' AND wait_event = 'advisory' AND pid <> pg_backend_pid()
               AND datname = current_database() LIMIT 1",
        )
        .fetch_optional(&mut *raw)
        .await
        .unwrap();
        if waiting.is_some() {
            return waiting;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

/// Another transaction holds the audit lock (a change appending on another instance): the
/// writer's next batch — the head known from its last one — is one statement, and it waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(jikimi_pg),
    ignore = "PostgreSQL: set JIKIMI_TEST_POSTGRES_URL (see scripts/test-postgres.sh)"
)]
async fn a_batch_in_one_statement_waits_for_the_audit_lock() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let (store, mut raw, mut holder) = head_known_lock_held().await;
    let writer = store.clone();
    let batch = tokio::spawn(async move {
        writer
            .append_audit(vec![entry("second"), entry("third")])
            .await
    });
    let waiting = waiting_for_the_lock(&mut raw)
        .await
        .expect("the batch did not wait for the audit lock");
    assert!(
        waiting.starts_with("WITH audit_lock AS MATERIALIZED"),
        "the batch waits as one statement, not as a transaction of several: {waiting}"
    );
    assert!(
        !batch.is_finished(),
        "the batch returned while the lock was held"
    );
    commit(&mut holder).await;
    batch.await.unwrap().unwrap();
    let rows = rows(&store).await;
    let actions: Vec<_> = rows.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(actions, ["first", "second", "third"]);
    assert_one_line(&rows);
}

/// The chain moves on twice behind the writer's back: a row committed between the batch's
/// snapshot and its lock (the insert of the same `seq` fails on the primary key), and a row
/// committed before the next batch (its statement inserts nothing). Each time the batch is
/// written again, linked after the new row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(jikimi_pg),
    ignore = "PostgreSQL: set JIKIMI_TEST_POSTGRES_URL (see scripts/test-postgres.sh)"
)]
async fn a_batch_after_the_chain_moved_on_is_linked_after_the_new_row() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let (store, mut raw, mut holder) = head_known_lock_held().await;

    // Between the snapshot and the lock.
    insert_by_hand(&mut holder, 2, &rows(&store).await[0].hash, &[2u8; 32]).await;
    let writer = store.clone();
    let batch = tokio::spawn(async move { writer.append_audit(vec![entry("second")]).await });
    waiting_for_the_lock(&mut raw)
        .await
        .expect("the batch did not wait for the audit lock");
    commit(&mut holder).await;
    batch.await.unwrap().unwrap();

    // Before the next batch.
    let before = rows(&store).await;
    insert_by_hand(&mut holder, 4, &before[2].hash, &[4u8; 32]).await;
    store.append_audit(vec![entry("third")]).await.unwrap();

    let rows = rows(&store).await;
    let actions: Vec<_> = rows.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(actions, ["first", "by hand", "second", "by hand", "third"]);
    assert_eq!(
        rows[2].prev_hash, [2u8; 32],
        "linked after the row that moved the chain"
    );
    assert_eq!(
        rows[4].prev_hash, [4u8; 32],
        "linked after the row that moved the chain"
    );
    assert_one_line(&rows);
}

/// A row appended as another writer would, with `hash` standing for its link.
async fn insert_by_hand(conn: &mut PgConnection, seq: i64, prev_hash: &[u8], hash: &[u8]) {
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor, origin, action, member_id, items, purpose, outcome, detail, prev_hash, hash)
         VALUES ($1, '2026-12-06T00:00:00Z', 'system:test', NULL, 'by hand', NULL, '[]', NULL, 'ok', 'null', $2, $3)",
    )
    .bind(seq)
    .bind(prev_hash)
    .bind(hash)
    .execute(conn)
    .await
    .unwrap();
}
