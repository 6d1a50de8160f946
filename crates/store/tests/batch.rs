//! SQLite's group commit (`src/sql/batch.rs`): changes that arrive together share one
//! transaction, each in its own savepoint, opened by the change's first command and left open
//! until the batch commits. A change that fails between two that succeed is rolled back alone —
//! its items, indexes and audit rows gone — and the others, before and after it, commit. And the
//! other writes on SQLite's one writing connection: a sign-up in one command.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use futures_util::FutureExt;

use chrono::Utc;
use jikimi_store::{
    AuditEntry, AuditStore, ChainLinker, ConsentStore, IndexEntry, JobStore, MemberChange,
    MemberStore, NewConsentEvent, NewJob, NewMember, NewMessage, OutboxFilter, OutboxStore,
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

/// A whole new member: items, an index, a consent, a job with its message and two audit rows.
fn new_member(n: u8, login: u8, email: u8) -> NewMember {
    let id = Uuid::new_v4();
    let at = Utc::now();
    NewMember {
        id,
        login_index: vec![login; 32],
        login_sealed: vec![n],
        password_hash: format!("hash-{n}"),
        key_id: format!("member:{id}"),
        policy_version: "v1".into(),
        at,
        items: ["name", "email"]
            .into_iter()
            .map(|item| SealedItem {
                item_id: item.into(),
                sealed: vec![n, item.len() as u8],
            })
            .collect(),
        indexes: vec![IndexEntry {
            domain: "email".into(),
            digest: vec![email; 32],
        }],
        consents: vec![NewConsentEvent {
            category: "privacy_policy".into(),
            granted: true,
            policy_version: "v1".into(),
            channel: "web".into(),
            at,
        }],
        audit: vec![entry(id, "member.signup"), entry(id, "mail.queued")],
        jobs: vec![NewJob {
            id: Uuid::new_v4(),
            kind: "outbox.deliver".into(),
            payload: serde_json::json!({ "n": n }),
            run_at: at,
            message: Some(NewMessage {
                id: Uuid::new_v4(),
                kind: "welcome".into(),
                channel: "email".into(),
                member_id: Some(id),
                sealed: vec![n; 4],
            }),
        }],
        guardian: None,
    }
}

/// Every row `m` was written with is there, and nothing else of it.
async fn assert_stored(store: &SqliteStore, m: &NewMember) {
    let row = store.member(m.id).await.unwrap().expect("the member");
    assert_eq!(
        (row.login_sealed, row.password_hash),
        (m.login_sealed.clone(), m.password_hash.clone())
    );
    let items: Vec<(String, Vec<u8>)> = store
        .items(m.id, None)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.item_id, r.sealed))
        .collect();
    let mut want: Vec<(String, Vec<u8>)> = m
        .items
        .iter()
        .map(|i| (i.item_id.clone(), i.sealed.clone()))
        .collect();
    want.sort();
    assert_eq!(items, want);
    assert_eq!(
        store
            .member_by_index("email", &m.indexes[0].digest)
            .await
            .unwrap(),
        Some(m.id)
    );
    let consents = store.consent_events(m.id).await.unwrap();
    assert_eq!(consents.len(), 1);
    assert_eq!(
        (consents[0].category.as_str(), consents[0].granted),
        ("privacy_policy", true)
    );
    let job = store
        .jobs(Some("outbox.deliver"))
        .await
        .unwrap()
        .into_iter()
        .find(|j| j.id == m.jobs[0].id)
        .expect("the job");
    assert_eq!(
        (job.state.as_str(), job.payload.clone()),
        ("queued", m.jobs[0].payload.clone())
    );
    let messages = store
        .messages(OutboxFilter {
            member: Some(m.id),
            state: None,
            kind: None,
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(
        (messages[0].kind.as_str(), messages[0].state.as_str()),
        ("welcome", "queued")
    );
    let actions: Vec<String> = store
        .audit_rows(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.member_id == Some(m.id))
        .map(|r| r.action)
        .collect();
    assert_eq!(actions, ["member.signup", "mail.queued"]);
}

/// Every audit row follows the one before it.
async fn assert_one_chain(store: &SqliteStore) -> usize {
    let rows = store.audit_rows(0, 10_000).await.unwrap();
    for pair in rows.windows(2) {
        assert_eq!(pair[1].seq, pair[0].seq + 1);
        assert_eq!(pair[1].prev_hash, pair[0].hash, "row {}", pair[1].seq);
        assert_eq!(
            pair[1].hash,
            Link.link(&pair[0].hash, &pair[1].canonical_body())
        );
    }
    rows.len()
}

/// Once the chain's head is known, a sign-up is written as one command (`insert_member_at_once`):
/// every table's rows and its audit rows, as the usual transaction writes them. One whose login ID
/// or index is taken is refused with the taken one named, writes nothing, and leaves the
/// connection as it was: the next sign-up is written.
#[tokio::test]
async fn a_sign_up_in_one_command_writes_all_of_it_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_policy(&dir).await;
    // The first: the head is not known yet (the usual transaction, which reports it).
    let first = new_member(1, 1, 1);
    store.insert_member(first.clone()).await.unwrap();
    assert_stored(&store, &first).await;
    // The next ones: one command each.
    let second = new_member(2, 2, 2);
    store.insert_member(second.clone()).await.unwrap();
    assert_stored(&store, &second).await;
    let mut rows = assert_one_chain(&store).await;

    // A refused one falls back to the usual transaction, which names what is taken, and the
    // head is read again by the next sign-up's: so one is signed up after each.
    let refusals = [
        (new_member(9, 1, 9), "login_id"),
        (new_member(9, 9, 2), "email"),
    ];
    for (n, (taken, domain)) in (3..).zip(refusals) {
        let jobs = store.jobs(None).await.unwrap().len();
        let refused = store.insert_member(taken.clone()).await;
        assert!(
            matches!(refused, Err(StoreError::Duplicate { domain: ref d }) if d == domain),
            "{refused:?}"
        );
        assert_eq!(store.member(taken.id).await.unwrap(), None);
        assert!(store.items(taken.id, None).await.unwrap().is_empty());
        assert!(store.consent_events(taken.id).await.unwrap().is_empty());
        assert_eq!(store.jobs(None).await.unwrap().len(), jobs);
        assert_eq!(assert_one_chain(&store).await, rows, "no audit row of it");

        let next = new_member(n, n, n);
        store.insert_member(next.clone()).await.unwrap();
        assert_stored(&store, &next).await;
        rows += 2;
        assert_eq!(assert_one_chain(&store).await, rows);
    }
    let last = new_member(5, 5, 5);
    store.insert_member(last.clone()).await.unwrap();
    assert_stored(&store, &last).await;
    assert_eq!(assert_one_chain(&store).await, rows + 2);
}

/// A sign-up after another writer of the same file (a second process, a CLI command) appended to
/// the chain: the remembered head is not the chain's last, so the one command writes nothing and
/// the usual transaction writes the sign-up; the chain stays one line. Reveal rows of this
/// process's writer in between move the remembered head on.
#[tokio::test]
async fn a_sign_up_after_another_writer_appended_is_linked_after_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("jikimi.db").display());
    let one = store_with_policy(&dir).await;
    let two = SqliteStore::open(&url, false, Arc::new(Link))
        .await
        .unwrap();
    let mut members = Vec::new();
    for n in 1..=6u8 {
        let m = new_member(n, n, n);
        one.insert_member(m.clone()).await.unwrap();
        members.push(m);
        two.append_audit(vec![entry(Uuid::new_v4(), &format!("other-{n}"))])
            .await
            .unwrap();
        if n % 2 == 0 {
            one.append_audit(vec![entry(Uuid::new_v4(), &format!("view-{n}"))])
                .await
                .unwrap();
        }
    }
    for m in &members {
        assert_stored(&one, m).await;
    }
    assert_eq!(assert_one_chain(&one).await, 6 * 2 + 6 + 3);
}

/// Corrections that arrive together are written as one command once the chain's head is known:
/// each change's items and audit rows in queue order, the reveals' rows between them. A change
/// whose member is gone makes that command write nothing; the batch is then written the usual way,
/// each change in its own savepoint, and only that change is refused.
#[tokio::test]
async fn corrections_in_one_command_commit_together_or_fall_back_to_savepoints() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_policy(&dir).await;
    let members: Vec<NewMember> = (1..=3).map(|n| new_member(n, n, n)).collect();
    for m in &members {
        store.insert_member(m.clone()).await.unwrap();
    }
    let (a, b, c) = (members[0].id, members[1].id, members[2].id);
    let address = |m: Uuid| {
        let store = &store;
        async move {
            store
                .items(m, Some(&["address".to_owned()]))
                .await
                .unwrap()
                .first()
                .map(|r| r.sealed.clone())
        }
    };
    let mut rows = assert_one_chain(&store).await;

    // One batch (one-threaded runtime), every change found.
    let results = futures_util::future::join_all([
        store.apply(change(a, b"a1", None, "first")),
        store
            .append_audit(vec![entry(b, "view-1")])
            .map(|r| r.map(|()| 0))
            .boxed(),
        store.apply(change(b, b"b1", None, "second")),
        store.apply(change(c, b"c1", None, "third")),
    ])
    .await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    for (m, value) in [(a, &b"a1"[..]), (b, b"b1"), (c, b"c1")] {
        assert_eq!(address(m).await.as_deref(), Some(value));
    }
    let actions = |from: usize| {
        let store = &store;
        async move {
            store
                .audit_rows(0, 10_000)
                .await
                .unwrap()
                .into_iter()
                .skip(from)
                .map(|r| r.action)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(actions(rows).await, ["first", "view-1", "second", "third"]);
    rows = assert_one_chain(&store).await;

    // One batch with a change of a member who is gone, between two that commit.
    let gone = Uuid::new_v4();
    let results = futures_util::future::join_all([
        store.apply(change(a, b"a2", None, "fourth")),
        store.apply(change(gone, b"x", None, "gone")),
        store
            .append_audit(vec![entry(b, "view-2")])
            .map(|r| r.map(|()| 0))
            .boxed(),
        store.apply(change(b, b"b2", None, "fifth")),
    ])
    .await;
    assert!(
        results[0].is_ok() && results[2].is_ok() && results[3].is_ok(),
        "{results:?}"
    );
    assert!(
        matches!(results[1], Err(StoreError::NotFound(_))),
        "{results:?}"
    );
    assert_eq!(address(a).await.as_deref(), Some(&b"a2"[..]));
    assert_eq!(address(b).await.as_deref(), Some(&b"b2"[..]));
    assert!(store.items(gone, None).await.unwrap().is_empty());
    assert_eq!(actions(rows).await, ["fourth", "view-2", "fifth"]);
    assert_eq!(assert_one_chain(&store).await, rows + 3);
}
