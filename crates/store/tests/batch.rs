//! SQLite's group commit (`src/sql/batch.rs`): changes that arrive together share one
//! transaction, each in its own savepoint, opened by the change's first command and left open
//! until the batch commits. A change that fails between two that succeed is rolled back alone —
//! its items, indexes and audit rows gone — and the others, before and after it, commit.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use chrono::Utc;
use jikimi_store::{
    AuditEntry, AuditStore, ChainLinker, IndexEntry, MemberChange, MemberStore, NewMember,
    PolicyVersionRow, PolicyVersionStore, SealedItem, SqliteStore, StoreError,
};
use uuid::Uuid;

#[derive(Debug)]
struct Link;

impl ChainLinker for Link {
    fn link(&self, prev: &[u8], body: &[u8]) -> Vec<u8> {
        // Not a hash; enough for a chain whose rows the test counts.
        let mut out = prev.iter().take(16).copied().collect::<Vec<_>>();
        out.extend(body.iter().take(16));
        out
    }
}

fn entry(member: Uuid, action: &str) -> AuditEntry {
    AuditEntry {
        at: Utc::now(),
        actor: format!("member:{member}"),
        origin: None,
        action: action.to_owned(),
        member_id: Some(member),
        items: vec!["address".into()],
        purpose: None,
        outcome: "ok".into(),
        detail: serde_json::Value::Null,
    }
}

fn change(member: Uuid, value: &[u8], index: Option<&[u8]>, action: &str) -> MemberChange {
    MemberChange {
        member_id: member,
        at: Utc::now(),
        set_items: vec![SealedItem {
            item_id: "address".into(),
            sealed: value.to_vec(),
        }],
        set_indexes: index
            .map(|d| IndexEntry {
                domain: "email".into(),
                digest: d.to_vec(),
            })
            .into_iter()
            .collect(),
        audit: vec![entry(member, action)],
        ..Default::default()
    }
}

/// A new store in `dir` with one policy version, "v1", recorded.
async fn store_with_policy(dir: &tempfile::TempDir) -> SqliteStore {
    let url = format!("sqlite://{}", dir.path().join("jikimi.db").display());
    let store = SqliteStore::open(&url, true, Arc::new(Link)).await.unwrap();
    let now = Utc::now();
    store
        .record_policy_version(PolicyVersionRow {
            version: "v1".into(),
            policy_id: "test".into(),
            effective_date: now.date_naive(),
            first_active_at: now,
            document: String::new(),
            text_ko: String::new(),
            text_en: String::new(),
        })
        .await
        .unwrap();
    store
}

#[tokio::test]
async fn a_failed_change_between_two_in_one_batch_is_rolled_back_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_policy(&dir).await;
    let now = Utc::now();
    let members: Vec<Uuid> = (0..3).map(|_| Uuid::new_v4()).collect();
    for (i, id) in members.iter().enumerate() {
        store
            .insert_member(NewMember {
                id: *id,
                login_index: vec![i as u8; 32],
                login_sealed: vec![1],
                password_hash: "hash".into(),
                key_id: format!("member:{id}"),
                policy_version: "v1".into(),
                at: now,
                items: vec![],
                indexes: vec![IndexEntry {
                    domain: "email".into(),
                    digest: vec![i as u8; 32],
                }],
                consents: vec![],
                audit: vec![],
                jobs: vec![],
                guardian: None,
            })
            .await
            .unwrap();
    }
    let (a, b, c) = (members[0], members[1], members[2]);
    let gone = Uuid::new_v4();
    let head = store.audit_rows(0, 1000).await.unwrap().len();

    // Polled together on this one-threaded runtime, every change is queued before the writer
    // task runs, so they are one batch, in this order.
    let results = futures_util::future::join_all([
        store.apply(change(a, b"a1", None, "first")),
        // Takes b's index: refused as a duplicate after its item was written.
        store.apply(change(c, b"c-lost", Some(&[1u8; 32]), "duplicate")),
        store.apply(change(b, b"b1", None, "second")),
        // No such member: refused by the change's first command.
        store.apply(change(gone, b"x", None, "gone")),
        store.apply(change(a, b"a2", None, "third")),
        store.apply(change(b, b"b2", Some(&[9u8; 32]), "fourth")),
    ])
    .await;
    assert!(results[0].is_ok() && results[2].is_ok() && results[4].is_ok() && results[5].is_ok());
    assert!(matches!(results[1], Err(StoreError::Duplicate { ref domain }) if domain == "email"));
    assert!(matches!(results[3], Err(StoreError::NotFound(_))));

    let item = |m: Uuid| {
        let store = &store;
        async move {
            let rows = store.items(m, None).await.unwrap();
            rows.into_iter()
                .find(|r| r.item_id == "address")
                .map(|r| r.sealed)
        }
    };
    assert_eq!(item(a).await.as_deref(), Some(&b"a2"[..]));
    assert_eq!(item(b).await.as_deref(), Some(&b"b2"[..]));
    assert_eq!(item(c).await, None, "the failed change's value is gone");
    assert_eq!(
        store.member_by_index("email", &[2u8; 32]).await.unwrap(),
        Some(c),
        "the failed change's member keeps its index"
    );
    assert_eq!(
        store.member_by_index("email", &[9u8; 32]).await.unwrap(),
        Some(b),
        "the last change's index"
    );
    let actions: Vec<String> = store
        .audit_rows(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .skip(head)
        .map(|r| r.action)
        .collect();
    assert_eq!(actions, ["first", "second", "third", "fourth"]);
}

/// A batch whose audit insert fails has nothing of it committed and every request in it gets the
/// error; the writer's next batch commits (on SQLite it opens its connection again).
#[tokio::test]
async fn the_writer_goes_on_after_a_batch_that_failed_as_a_whole() {
    use sqlx::Connection;

    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("jikimi.db").display());
    let store = SqliteStore::open(&url, true, Arc::new(Link)).await.unwrap();
    let member = Uuid::new_v4();
    store
        .append_audit(vec![entry(member, "before")])
        .await
        .unwrap();
    let head = store.audit_rows(0, 1000).await.unwrap();

    // Another connection (as another process would) makes the audit table refuse one row.
    let mut other = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query(
        "CREATE TRIGGER refuse BEFORE INSERT ON audit_log WHEN NEW.action = 'refused'
         BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
    )
    .execute(&mut other)
    .await
    .unwrap();

    // One batch (one-threaded runtime: all three are queued before the writer runs), one insert.
    let results = futures_util::future::join_all([
        store.append_audit(vec![entry(member, "first")]),
        store.append_audit(vec![entry(member, "refused")]),
        store.append_audit(vec![entry(member, "third")]),
    ])
    .await;
    assert!(results.iter().all(Result::is_err), "{results:?}");
    assert_eq!(
        store.audit_rows(0, 1000).await.unwrap(),
        head,
        "nothing committed"
    );

    sqlx::query("DROP TRIGGER refuse")
        .execute(&mut other)
        .await
        .unwrap();
    store
        .append_audit(vec![entry(member, "after")])
        .await
        .unwrap();
    let rows = store.audit_rows(0, 1000).await.unwrap();
    let actions: Vec<&str> = rows.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(actions, ["before", "after"]);
    assert_eq!(rows[1].seq, rows[0].seq + 1);
    assert_eq!(
        rows[1].prev_hash, rows[0].hash,
        "linked to the head before the failure"
    );
}

/// The writer links a batch of audit rows after the head its last batch left, in one command; a
/// row appended meanwhile by another writer of the same file (a second process, a CLI command)
/// is found, and the chain stays one unbroken line.
#[tokio::test]
async fn appends_from_two_writers_of_one_file_stay_one_chain() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("jikimi.db").display());
    let one = SqliteStore::open(&url, true, Arc::new(Link)).await.unwrap();
    let two = SqliteStore::open(&url, false, Arc::new(Link))
        .await
        .unwrap();
    let member = Uuid::new_v4();
    let mut expected = Vec::new();
    for round in 0..3 {
        for (store, name) in [(&one, "one"), (&one, "one"), (&two, "two"), (&one, "one")] {
            let action = format!("{name}-{round}-{}", expected.len());
            store
                .append_audit(vec![entry(member, &action)])
                .await
                .unwrap();
            expected.push(action);
        }
    }
    // And both at once, in several batches each.
    let (a, b) = futures_util::future::join(
        futures_util::future::join_all(
            (0..20).map(|i| one.append_audit(vec![entry(member, &format!("a{i}"))])),
        ),
        futures_util::future::join_all(
            (0..20).map(|i| two.append_audit(vec![entry(member, &format!("b{i}"))])),
        ),
    )
    .await;
    assert!(a.iter().chain(&b).all(Result::is_ok));

    let rows = one.audit_rows(0, 1000).await.unwrap();
    let actions: Vec<&str> = rows.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(actions[..expected.len()], expected);
    assert_eq!(rows.len(), expected.len() + 40);
    for pair in rows.windows(2) {
        assert_eq!(pair[1].seq, pair[0].seq + 1);
        assert_eq!(
            pair[1].prev_hash, pair[0].hash,
            "row {} follows row {}",
            pair[1].seq, pair[0].seq
        );
        let body = pair[1].canonical_body();
        assert_eq!(pair[1].hash, Link.link(&pair[0].hash, &body));
    }
}

/// The writer task's batches, other transactions and single statements all write on SQLite's one
/// writing connection, taking turns: run together on a multi-threaded runtime, every one of them
/// completes and the chain stays one line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_write_takes_its_turn_on_the_one_connection() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(store_with_policy(&dir).await);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..200u32 {
        let store = store.clone();
        tasks.spawn(async move {
            // A batch of the writer task.
            store
                .append_audit(vec![entry(Uuid::new_v4(), &format!("view-{i}"))])
                .await
                .unwrap();
            if i % 10 == 0 {
                // A transaction of its own (sign-up), with its audit row.
                let id = Uuid::new_v4();
                store
                    .insert_member(NewMember {
                        id,
                        login_index: id.as_bytes().to_vec(),
                        login_sealed: vec![1],
                        password_hash: "hash".into(),
                        key_id: format!("member:{id}"),
                        policy_version: "v1".into(),
                        at: Utc::now(),
                        items: vec![],
                        indexes: vec![],
                        consents: vec![],
                        audit: vec![entry(id, "member.create")],
                        jobs: vec![],
                        guardian: None,
                    })
                    .await
                    .unwrap();
                // A single statement.
                store.checkpoint().await.unwrap();
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let rows = store.audit_rows(0, 1000).await.unwrap();
    assert_eq!(rows.len(), 220);
    for pair in rows.windows(2) {
        assert_eq!(pair[1].seq, pair[0].seq + 1);
        assert_eq!(pair[1].prev_hash, pair[0].hash);
    }
}
