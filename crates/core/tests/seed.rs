//! The benchmarks' bulk seeder (feature `bench`): a seeded member is stored exactly as a
//! signed-up one, the synthetic people are those of the Lua and bash generators, and the orphan
//! key sweep pages through the key store.
//!
//! Run with `cargo test -p jikimi-core --features bench --test seed` (part of the README's test
//! command and of `.ci/run`).
#![cfg(feature = "bench")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use jikimi_core::bench::{BENCH_PASSWORD, SeedOptions, SyntheticPerson};
use jikimi_core::{Actor, Revealed, SUBJECT_ACCESS};
use jikimi_store::KeyRecord;
use jikimi_testkit::{Backend, TestApp, contains};
use uuid::Uuid;

jikimi_testkit::backend_tests!(
    seeded_members_are_stored_like_signed_up_ones,
    seeding_opens_sessions_and_anchors_the_chain,
    orphan_key_sweep_pages_through_the_key_store,
);

const SEED: &str = "lifeplan-seed";

/// The generator is a port of `bench/lua/common.lua::person_json`: these are the bash copy's
/// (`bench/run.sh`) outputs for n = 1, 12 345 and 999 999, byte for byte.
#[test]
fn synthetic_people_match_the_lua_and_bash_generators() {
    let vectors = [
        (
            1,
            r#"{"login_id":"member1","password":"Jikimi-bench-pw!","items":{"name":"이지윤","rrn":"700101-2000018","phone":"02-200-0001","postal_code":"03001","address":"서울특별시 종로구 지킴로 2","address_detail":"102동 1002호","email":"member1@example.com"},"consents":{"privacy_policy":true}}"#,
        ),
        (
            12_345,
            r#"{"login_id":"member12345","password":"Jikimi-bench-pw!","items":{"name":"임리도","rrn":"700101-2123455","phone":"02-201-2345","postal_code":"03345","address":"서울특별시 종로구 지킴로 46","address_detail":"107동 1016호","email":"member12345@example.com"},"consents":{"privacy_policy":true}}"#,
        ),
        (
            999_999,
            r#"{"login_id":"member999999","password":"Jikimi-bench-pw!","items":{"name":"황별보","rrn":"790101-2999990","phone":"02-299-9999","postal_code":"03999","address":"서울특별시 종로구 지킴로 100","address_detail":"101동 1010호","email":"member999999@example.com"},"consents":{"privacy_policy":true}}"#,
        ),
    ];
    for (n, json) in vectors {
        assert_eq!(SyntheticPerson::new(n).json(), json, "person {n}");
    }
    // Every RRN is valid (check digit), so sign-up's validation accepts them.
    for n in [1, 12_345, 999_999, 7_999_999] {
        let p = SyntheticPerson::new(n);
        assert!(jikimi_kr::Rrn::parse(&p.rrn).is_ok(), "{}", p.rrn);
    }
}

/// Every personal value of a synthetic person, in the forms it might be stored.
fn values(p: &SyntheticPerson) -> Vec<String> {
    let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    vec![
        p.name.clone(),
        p.rrn.clone(),
        digits(&p.rrn),
        p.phone.clone(),
        format!("+82{}", &digits(&p.phone)[1..]),
        p.email.clone(),
        p.address.clone(),
        p.address_detail.clone(),
        p.login_id.clone(),
    ]
}

/// Step 9 of the issue-12 plan: member 1 seeded, member 2 signed up through the normal path.
/// Both leave the same rows in the same tables (same items, indexes, consents, audit entry),
/// both log in with the bench password, their values reveal, the chain verifies, and no file
/// (nor PostgreSQL row) holds a personal value in the clear (DESIGN.md invariant 1).
async fn seeded_members_are_stored_like_signed_up_ones(b: Backend) {
    let t = TestApp::on(b, SEED).await;
    let hash = t.app.bench_password_hash().await.unwrap();
    let before = t.row_counts().await;
    let seeded = t
        .app
        .seed_synthetic(1..=1, &hash, &SeedOptions::default(), &|_| {})
        .await
        .unwrap();
    assert_eq!(seeded.members, 1);
    let after_seed = t.row_counts().await;
    let p2 = SyntheticPerson::new(2);
    let id2 = t.app.sign_up(p2.sign_up()).await.unwrap();
    let after_signup = t.row_counts().await;
    for (table, n) in &after_seed {
        assert_eq!(
            n - before[table],
            after_signup[table] - n,
            "{table}: a seeded member leaves as many rows as a signed-up one"
        );
    }
    assert_eq!(after_seed["members"] - before["members"], 1);
    assert_eq!(after_seed["member_keys"] - before["member_keys"], 1);

    // Both log in with the bench password.
    let p1 = SyntheticPerson::new(1);
    let id1 = t
        .app
        .authenticate(&p1.login_id, &Revealed::new(BENCH_PASSWORD.to_owned()))
        .await
        .unwrap();
    let id2_again = t
        .app
        .authenticate(&p2.login_id, &Revealed::new(BENCH_PASSWORD.to_owned()))
        .await
        .unwrap();
    assert_eq!(id2, id2_again);
    assert_ne!(id1, id2);
    t.app
        .login(&p1.login_id, &Revealed::new(BENCH_PASSWORD.to_owned()))
        .await
        .unwrap();

    // Same items, same member row shape, same consents.
    let store = t.app.store();
    let item_ids = |rows: Vec<jikimi_store::ItemRow>| -> Vec<String> {
        rows.into_iter().map(|r| r.item_id).collect()
    };
    let items1 = item_ids(store.items(id1, None).await.unwrap());
    let items2 = item_ids(store.items(id2, None).await.unwrap());
    assert_eq!(items1, items2);
    assert_eq!(items1.len(), 7);
    let m1 = store.member(id1).await.unwrap().unwrap();
    let m2 = store.member(id2).await.unwrap().unwrap();
    assert_eq!(
        (&m1.status, &m1.policy_version),
        (&m2.status, &m2.policy_version)
    );
    assert_eq!(m1.key_id.len(), m2.key_id.len());
    let consents = |rows: Vec<jikimi_store::ConsentEventRow>| -> Vec<(String, bool, String)> {
        rows.into_iter()
            .map(|c| (c.category, c.granted, c.channel))
            .collect()
    };
    assert_eq!(
        consents(store.consent_events(id1).await.unwrap()),
        consents(store.consent_events(id2).await.unwrap())
    );

    // The same blind indexes: a second sign-up of person 1 is "already a member", as it would
    // be for a signed-up person 1.
    let again = t.app.sign_up(p1.sign_up()).await;
    assert!(again.is_err(), "a seeded person cannot sign up twice");

    // The same `member.signup` audit entry (items, detail) for both.
    let rows = store.audit_rows(0, 100).await.unwrap();
    let signup_of = |id: Uuid| {
        rows.iter()
            .find(|r| r.action == "member.signup" && r.member_id == Some(id))
            .cloned()
            .unwrap()
    };
    let (a1, a2) = (signup_of(id1), signup_of(id2));
    assert_eq!(a1.actor, format!("member:{id1}"));
    assert_eq!(a2.actor, format!("member:{id2}"));
    assert_eq!((&a1.items, &a1.detail), (&a2.items, &a2.detail));

    // Every value reveals as it went in.
    for (id, p) in [(id1, &p1), (id2, &p2)] {
        let all: Vec<&str> = items1.iter().map(String::as_str).collect();
        let shown = t
            .app
            .reveal(&Actor::Member(id), None, id, &all, SUBJECT_ACCESS)
            .await
            .unwrap();
        assert_eq!(shown["name"].expose(), p.name);
        assert_eq!(shown["email"].expose(), p.email);
        assert_eq!(shown["address_detail"].expose(), p.address_detail);
        // Stored normalised (digits only), as sign-up stores it.
        assert_eq!(shown["rrn"].expose(), p.rrn.replace('-', ""));
    }

    let report = t.app.verify_audit().await.unwrap();
    assert!(report.ok(), "{:?}", report.problems);

    let stored = t.stored().await;
    for p in [&p1, &p2] {
        for value in values(p) {
            for (place, bytes) in &stored {
                assert!(
                    !contains(bytes, &value),
                    "{place} holds a personal value in the clear"
                );
            }
        }
    }
}

/// Sessions for the last members seeded work as logins' sessions do, and the chain is anchored
/// at its head after seeding (so `serve` starts without verifying the seeded rows again).
async fn seeding_opens_sessions_and_anchors_the_chain(b: Backend) {
    let t = TestApp::on(b, SEED).await;
    let hash = t.app.bench_password_hash().await.unwrap();
    let opts = SeedOptions {
        member_batch: 7,
        key_batch: 20,
        sessions: 3,
    };
    let done = std::sync::atomic::AtomicU64::new(0);
    let report = t
        .app
        .seed_synthetic(101..=150, &hash, &opts, &|n| {
            done.store(n, std::sync::atomic::Ordering::SeqCst);
        })
        .await
        .unwrap();
    assert_eq!(report.members, 50);
    assert_eq!(done.load(std::sync::atomic::Ordering::SeqCst), 50);
    assert_eq!(t.app.store().count_members().await.unwrap(), 50);
    let numbers: Vec<u64> = report.sessions.iter().map(|(n, _)| *n).collect();
    assert_eq!(numbers, vec![148, 149, 150]);
    for (n, token) in &report.sessions {
        let s = t.app.session(token.expose()).await.unwrap().unwrap();
        let login = SyntheticPerson::new(*n).login_id;
        let id = t
            .app
            .authenticate(&login, &Revealed::new(BENCH_PASSWORD.to_owned()))
            .await
            .unwrap();
        assert_eq!(s.member, id);
    }
    // One audit row per member, all anchored: anchoring again finds nothing new to verify.
    assert!(report.audit_head >= 50);
    let again = t.app.anchor_audit().await.unwrap();
    assert!(again.ok());
    assert_eq!(again.head, report.audit_head);
    // A number seeded twice is refused by the unique indexes, and the batch leaves nothing.
    let dup = t
        .app
        .seed_synthetic(150..=151, &hash, &SeedOptions::default(), &|_| {})
        .await;
    assert!(dup.is_err());
    assert_eq!(t.app.store().count_members().await.unwrap(), 50);
    assert!(t.app.verify_audit().await.unwrap().ok());
}

/// The orphan sweep reads member keys a page (1 000) at a time: with 2 500 members and orphans
/// placed at the start, the end, on both sides of the first page boundary and at random, every
/// orphan is found and swept, and no member's key is touched.
async fn orphan_key_sweep_pages_through_the_key_store(b: Backend) {
    let t = TestApp::on(b, SEED).await;
    let hash = t.app.bench_password_hash().await.unwrap();
    t.app
        .seed_synthetic(1..=2500, &hash, &SeedOptions::default(), &|_| {})
        .await
        .unwrap();
    let keys = t.app.keyring().key_store().clone();
    let far = chrono::Utc::now() + chrono::Duration::days(1);
    let mut contexts = Vec::new();
    let mut after = "member:".to_owned();
    loop {
        let page = keys
            .contexts_after("member:", &after, far, 1000)
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        after = last.clone();
        contexts.extend(page);
    }
    assert_eq!(contexts.len(), 2500, "paging reads every member key once");
    let sorted: Vec<u128> = contexts
        .iter()
        .map(|c| Uuid::parse_str(&c["member:".len()..]).unwrap().as_u128())
        .collect();
    // Around the first page boundary (in byte order; on a PostgreSQL collation that orders
    // otherwise they still land somewhere in the pages), at both ends, and some at random.
    let mut orphans: BTreeSet<Uuid> = [
        sorted[998] - 1,
        sorted[998] + 1,
        sorted[1999] + 1,
        0,
        u128::MAX,
    ]
    .into_iter()
    .map(Uuid::from_u128)
    .collect();
    orphans.extend((0..20).map(|_| Uuid::new_v4()));
    let records: Vec<KeyRecord> = orphans
        .iter()
        .map(|id| KeyRecord {
            context: format!("member:{id}"),
            key_id: "orphan".into(),
            wrapped: vec![0; 40],
        })
        .collect();
    keys.put_many(&records).await.unwrap();
    // Keys of other kinds sort before and after the member keys and are never candidates.
    keys.put_many(&[
        KeyRecord {
            context: "mem".into(),
            key_id: "x".into(),
            wrapped: vec![1],
        },
        KeyRecord {
            context: "member;".into(),
            key_id: "x".into(),
            wrapped: vec![1],
        },
    ])
    .await
    .unwrap();
    // Let the keys age past a zero grace (created_at < now).
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let removed = t
        .app
        .sweep_orphan_keys(chrono::Duration::zero())
        .await
        .unwrap();
    assert_eq!(removed, orphans.len());
    for id in &orphans {
        assert!(keys.get(&format!("member:{id}")).await.unwrap().is_none());
    }
    assert_eq!(t.row_counts().await["member_keys"], 2500);
    assert!(keys.get("mem").await.unwrap().is_some());
    // Every member still reads their data.
    let p = SyntheticPerson::new(1234);
    let id = t
        .app
        .authenticate(&p.login_id, &Revealed::new(BENCH_PASSWORD.to_owned()))
        .await
        .unwrap();
    let shown = t
        .app
        .reveal(&Actor::Member(id), None, id, &["email"], SUBJECT_ACCESS)
        .await
        .unwrap();
    assert_eq!(shown["email"].expose(), p.email);
}
