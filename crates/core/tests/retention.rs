//! Retention and destruction (issue 5, S11, S12, R-RET-*): records kept exactly as long as their
//! class says (KST days), destroyed provably the day after, legal holds, and a purge that changes
//! nothing when it is a dry run. On both backends.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveTime};
use jikimi_core::identity::{Carrier, IdentityRequest};
use jikimi_core::retention::kst_to_utc;
use jikimi_core::{Actor, Clock, CoreError, Jikimi, PurgeReport};
use jikimi_testkit::{Backend, TestApp, lifeplan_signup, person, personal_values};

jikimi_testkit::backend_tests!(
    every_class_is_kept_through_its_last_day_and_destroyed_the_day_after,
    a_held_record_survives_purges_until_released,
    a_dry_run_changes_nothing_and_foretells_the_purge,
    the_purge_ends_expired_pending_data,
    the_daily_purge_runs_once_across_instances,
    one_transaction_purges_several_buckets_with_exact_counts,
    a_held_record_in_a_grouped_batch_survives,
    retained_records_are_numbered_in_the_order_they_were_written,
);

/// `lifeplan` with a withdrawal record for every class kept after withdrawal, so every
/// class's boundary is tested. The shipped file declares only the classes jikimi writes
/// (contract and consent records at withdrawal, complaint records when a complaint is answered:
/// the promise ledger), so the classes of flows kept elsewhere or not built yet (payments,
/// logins, access logs) are added here, each with its statutory period.
fn every_class_recorded() -> jikimi_policy::Policy {
    let src = jikimi_policy::Policy::builtin_source("lifeplan").unwrap();
    let mut out = src.to_owned();
    for (id, period) in [
        ("payment_records", "5y"),
        ("login_records", "3m"),
        ("access_logs", "1y"),
    ] {
        out.push_str(&format!(
            "\n[[retention]]\nid = \"{id}\"\nlabel = {{ ko = \"{id}\", en = \"{id}\" }}\n\
             period = \"{period}\"\nbasis = {{ ko = \"법\", en = \"law\" }}\n\
             records = {{ ko = \"기록\", en = \"records\" }}\nafter_withdrawal = true\n\
             withdrawal_record = true\nkeeps = [\"login_id\"]\n"
        ));
    }
    jikimi_policy::Policy::from_toml_str(&out, "lifeplan+records.toml")
        .unwrap()
        .policy
}

fn noop(_: u64, _: u64) {}

/// A member who signs up and withdraws at once; their withdrawal receipt.
async fn sign_up_and_leave(
    app: &Jikimi,
    p: &jikimi_testkit::Person,
) -> jikimi_core::WithdrawalReceipt {
    let id = app.sign_up(lifeplan_signup(p)).await.unwrap();
    app.withdraw(&Actor::Member(id), id, "test").await.unwrap()
}

async fn purge(app: &Jikimi) -> PurgeReport {
    app.purge(&Actor::Cli, false, &noop).await.unwrap()
}

/// The classes a receipt still shows.
async fn shown(app: &Jikimi, receipt: &str) -> Vec<String> {
    match app.retained_for_receipt(receipt).await {
        Ok(views) => views.into_iter().map(|v| v.class).collect(),
        Err(CoreError::NotFound(_)) => Vec::new(),
        Err(e) => panic!("{e:?}"),
    }
}

fn at_kst(day: NaiveDate, h: u32, m: u32, s: u32) -> chrono::DateTime<chrono::Utc> {
    kst_to_utc(day, NaiveTime::from_hms_opt(h, m, s).unwrap())
}

async fn every_class_is_kept_through_its_last_day_and_destroyed_the_day_after(b: Backend) {
    let policy = every_class_recorded();
    let expected: Vec<String> = policy
        .retention
        .iter()
        .filter(|r| r.withdrawal_record)
        .map(|r| r.id.clone())
        .collect();
    assert!(expected.len() >= 5, "{expected:?}");
    let t = TestApp::with_policy_on(b, policy).await;
    let p = person(1);
    let receipt = sign_up_and_leave(&t.app, &p).await;
    let mut by_day: BTreeMap<NaiveDate, Vec<String>> = BTreeMap::new();
    for r in &receipt.retained {
        by_day
            .entry(r.expires_on)
            .or_default()
            .push(r.class.clone());
    }
    let mut classes: Vec<_> = receipt.retained.iter().map(|r| r.class.clone()).collect();
    classes.sort();
    let mut want = expected.clone();
    want.sort();
    assert_eq!(classes, want, "a record for every class");
    // A copy of the data and keys as a backup holds it, before any purge.
    let backup = t.snapshot().await;

    let mut destroyed = Vec::new();
    for (day, due) in &by_day {
        // The last second of the expiry day (KST): everything still there, a purge leaves it.
        t.clock.set(at_kst(*day, 23, 59, 59));
        let report = purge(&t.app).await;
        assert_eq!(report.records(), 0, "{day}: nothing is due yet: {report:?}");
        let still = shown(&t.app, &receipt.code).await;
        for class in due {
            assert!(still.contains(class), "{class} is readable on {day}");
        }
        // The first second of the next day: not shown any more, and the next purge destroys it.
        t.clock.set(at_kst(day.succ_opt().unwrap(), 0, 0, 0));
        let now_shown = shown(&t.app, &receipt.code).await;
        for class in due {
            assert!(!now_shown.contains(class), "{class} is past its day");
        }
        let report = purge(&t.app).await;
        let mut purged: Vec<_> = report
            .classes
            .iter()
            .filter(|c| c.records > 0)
            .map(|c| (c.class.clone(), c.records, c.keys))
            .collect();
        purged.sort();
        let mut want: Vec<_> = due.iter().map(|c| (c.clone(), 1, 1)).collect();
        want.sort();
        assert_eq!(
            purged, want,
            "{day}: each due class loses its record and its key"
        );
        for class in due {
            let bucket = day.format("%Y-%m-%d").to_string();
            assert!(
                t.app
                    .keyring()
                    .retention_key_by_bucket(class, &bucket)
                    .await
                    .unwrap()
                    .is_none(),
                "{class}: no key remains that could open a copy"
            );
        }
        destroyed.extend(due.iter().cloned());
        // What is not due yet is still there.
        let left = shown(&t.app, &receipt.code).await;
        for (later, classes) in by_day.range(day.succ_opt().unwrap()..) {
            for class in classes {
                assert!(left.contains(class), "{class} (until {later}) is kept");
            }
        }
    }
    assert_eq!(t.row_counts().await["retained_records"], 0);

    // The backup taken before still holds the sealed records, and the key store taken with it
    // could open them (so this can fail) — the key store now cannot.
    let old_keys = jikimi_store::open_key_store(&backup.key_store_url, false)
        .await
        .unwrap();
    let bucket_contexts = old_keys
        .contexts("retention:", chrono::Utc::now() + chrono::Duration::days(1))
        .await
        .unwrap();
    assert_eq!(
        bucket_contexts.len(),
        by_day.values().map(Vec::len).sum::<usize>()
    );
    for ctx in &bucket_contexts {
        assert!(old_keys.get(ctx).await.unwrap().is_some());
        assert!(
            t.app
                .keyring()
                .key_store()
                .get(ctx)
                .await
                .unwrap()
                .is_none(),
            "{ctx} destroyed"
        );
    }

    // One destruction record per class, without personal data; the audit chain still verifies.
    let records = t.app.store().destruction_records().await.unwrap();
    for class in &destroyed {
        let r: Vec<_> = records
            .iter()
            .filter(|r| r.event == "purge" && &r.class == class)
            .collect();
        assert_eq!(r.len(), 1, "{class}: {records:?}");
        assert_eq!(r[0].count, 1);
        assert_eq!(r[0].method, "key_destruction");
        assert_eq!(r[0].actor, "cli");
        assert!(r[0].run_id.is_some());
        assert!(r[0].period.contains("expired"), "{}", r[0].period);
    }
    let text = serde_json::to_string(&records).unwrap();
    for v in personal_values(&p) {
        assert!(
            !text.contains(&v),
            "a personal value in the destruction records"
        );
    }
    assert!(t.app.verify_audit().await.unwrap().ok());
}

/// A staff account `officer` (a manager: holds are among its powers) and an auditor (they are
/// not).
async fn office_staff(t: &TestApp) {
    use jikimi_core::staff::Role;
    t.app
        .add_staff(&Actor::Cli, "officer", Role::Manager)
        .await
        .unwrap();
    t.app
        .add_staff(&Actor::Cli, "auditor", Role::Auditor)
        .await
        .unwrap();
}

async fn a_held_record_survives_purges_until_released(b: Backend) {
    let t = TestApp::on(b, "lifeplan").await;
    office_staff(&t).await;
    let p = person(2);
    let receipt = sign_up_and_leave(&t.app, &p).await;
    let records = t.app.retained_records(None, 100).await.unwrap();
    let contract = records
        .iter()
        .find(|r| r.class == "contract_records")
        .unwrap()
        .clone();
    // Only a role with the power places a hold (R-ACC-01), whatever the page in front did.
    let auditor = Actor::Staff("auditor".into());
    assert!(matches!(
        t.app.hold_retained(&auditor, contract.id, "감사").await,
        Err(CoreError::Forbidden(_))
    ));
    assert!(matches!(
        t.app.purge(&auditor, true, &|_, _| {}).await,
        Err(CoreError::Forbidden(_))
    ));
    // A hold needs a reason.
    assert!(matches!(
        t.app
            .hold_retained(&Actor::Staff("officer".into()), contract.id, "  ")
            .await,
        Err(CoreError::Invalid(_))
    ));
    t.app
        .hold_retained(
            &Actor::Staff("officer".into()),
            contract.id,
            "소비자 분쟁 조정 진행 중 (사건 2031-17)",
        )
        .await
        .unwrap();
    let held = t
        .app
        .retained_records(None, 100)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.id == contract.id)
        .unwrap();
    assert!(held.hold_reason.is_some());
    assert_eq!(held.held_by.as_deref(), Some("staff:officer"));
    assert!(held.bucket.starts_with("hold-"), "under a key of its own");

    // Six years on: everything else is destroyed, the held record is kept and still shown.
    t.clock
        .set(at_kst(contract.expires_on, 0, 0, 0) + chrono::Duration::days(400));
    let report = purge(&t.app).await;
    assert_eq!(report.held, 1);
    assert!(
        report
            .classes
            .iter()
            .any(|c| c.class == "consent_records" && c.records == 1)
    );
    assert!(
        !report
            .classes
            .iter()
            .any(|c| c.class == "contract_records" && c.records > 0)
    );
    assert_eq!(shown(&t.app, &receipt.code).await, ["contract_records"]);
    // Its former bucket's key went with the bucket; its own key stays.
    let original = contract.expires_on.format("%Y-%m-%d").to_string();
    assert!(
        t.app
            .keyring()
            .retention_key_by_bucket("contract_records", &original)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        t.app
            .keyring()
            .retention_key_by_bucket("contract_records", &held.bucket)
            .await
            .unwrap()
            .is_some()
    );
    // A second purge keeps it too.
    assert_eq!(purge(&t.app).await.held, 1);

    // Released: the next purge destroys it and its key.
    t.app
        .release_retained(&Actor::Staff("officer".into()), contract.id)
        .await
        .unwrap();
    assert!(matches!(
        t.app
            .release_retained(&Actor::Staff("officer".into()), contract.id)
            .await,
        Err(CoreError::Conflict(_))
    ));
    let report = purge(&t.app).await;
    assert_eq!(report.held, 0);
    assert!(
        report
            .classes
            .iter()
            .any(|c| c.class == "contract_records" && c.records == 1 && c.keys == 1)
    );
    assert_eq!(t.row_counts().await["retained_records"], 0);
    assert!(
        t.app
            .keyring()
            .retention_key_by_bucket("contract_records", &held.bucket)
            .await
            .unwrap()
            .is_none()
    );
    // Both actions are in the audit chain, which verifies.
    let mut db = t.db().await;
    for action in ["retention.hold", "retention.release", "retention.purge"] {
        assert!(
            db.count(&format!(
                "SELECT count(*) FROM audit_log WHERE action = '{action}'"
            ))
            .await
                >= 1,
            "{action} audited"
        );
    }
    // The reason stays with the record, not in the chain.
    assert_eq!(
        db.count("SELECT count(*) FROM audit_log WHERE detail LIKE '%분쟁%'")
            .await,
        0
    );
    assert!(t.app.verify_audit().await.unwrap().ok());
}

async fn a_dry_run_changes_nothing_and_foretells_the_purge(b: Backend) {
    let t = TestApp::on(b, "lifeplan").await;
    for i in 0..3 {
        sign_up_and_leave(&t.app, &person(10 + i)).await;
    }
    // Past the consent records (3 years), not the contract records (5 years).
    t.clock.advance(chrono::Duration::days(4 * 365));
    let before = (t.row_counts().await, t.stored().await);
    let seen = std::sync::Mutex::new(Vec::new());
    let dry = t
        .app
        .purge(&Actor::Cli, true, &|done, total| {
            seen.lock().unwrap().push((done, total))
        })
        .await
        .unwrap();
    assert!(dry.dry_run);
    assert_eq!(
        (t.row_counts().await, t.stored().await),
        before,
        "a dry run changes nothing"
    );
    assert_eq!(
        seen.lock().unwrap().last(),
        Some(&(3, 3)),
        "progress reached the end"
    );
    let real = purge(&t.app).await;
    assert_eq!(real.records(), 3);
    assert_eq!(dry.classes, real.classes, "the dry run foretold the purge");
}

async fn the_purge_ends_expired_pending_data(b: Backend) {
    let t = TestApp::on(b, "lifeplan").await;
    let p = person(20);
    t.app.sign_up(lifeplan_signup(&p)).await.unwrap();
    t.app
        .login(&p.login_id, &jikimi_core::Revealed::new(p.password.clone()))
        .await
        .unwrap();
    // An identity verification that was never used for a sign-up.
    let other = person(21);
    let request = t
        .app
        .identity_request(IdentityRequest {
            name: other.name.clone(),
            birth_date: other.birth,
            mobile: other.mobile.clone(),
            carrier: Carrier::Kt,
        })
        .await
        .unwrap();
    let code = t
        .app
        .sandbox_outbox()
        .unwrap()
        .last_code_for(&other.mobile)
        .unwrap();
    t.app.identity_confirm(&request, &code).await.unwrap();
    let mut db = t.db().await;
    assert_eq!(db.count("SELECT count(*) FROM sessions").await, 1);
    assert_eq!(
        db.count("SELECT count(*) FROM identity_verifications")
            .await,
        1
    );
    t.clock.advance(chrono::Duration::days(1));
    let report = purge(&t.app).await;
    assert_eq!(report.pending, 2);
    assert_eq!(db.count("SELECT count(*) FROM sessions").await, 0);
    assert_eq!(
        db.count("SELECT count(*) FROM identity_verifications")
            .await,
        0
    );
    let records = t.app.store().destruction_records().await.unwrap();
    assert!(
        records
            .iter()
            .any(|r| r.class == "pending_data" && r.count == 2 && r.method == "deletion")
    );
}

async fn the_daily_purge_runs_once_across_instances(b: Backend) {
    let t = TestApp::on(b, "lifeplan").await;
    let other = t.reopen("lifeplan").await;
    sign_up_and_leave(&t.app, &person(30)).await;
    t.app.run_jobs_once().await.unwrap(); // the key destruction
    // Four years on, after 04:00 KST: both instances schedule the day's purge and run jobs.
    let day = t.clock.today_kst() + chrono::Days::new(4 * 365);
    t.clock.set(at_kst(day, 4, 30, 0));
    let (a, b2) = tokio::join!(t.app.schedule_purge(), other.schedule_purge());
    assert_eq!(
        [a.unwrap(), b2.unwrap()].iter().filter(|x| **x).count(),
        1,
        "scheduled once"
    );
    let (a, b2) = tokio::join!(t.app.run_jobs_once(), other.run_jobs_once());
    assert_eq!(a.unwrap() + b2.unwrap(), 1, "run once");
    // Scheduling again the same day changes nothing.
    assert!(!t.app.schedule_purge().await.unwrap());
    assert_eq!(t.app.run_jobs_once().await.unwrap(), 0);
    let mut db = t.db().await;
    assert_eq!(
        db.count("SELECT count(*) FROM audit_log WHERE action = 'retention.purge'")
            .await,
        1
    );
    assert_eq!(
        t.app
            .store()
            .destruction_records()
            .await
            .unwrap()
            .iter()
            .filter(|r| r.event == "purge" && r.class == "consent_records")
            .count(),
        1
    );
}

/// Members who withdraw on the given days (0 = today), a day apart; their day buckets.
async fn leave_on_days(t: &TestApp, days: &[i64], seed: u32) {
    let mut day = 0;
    for (i, d) in days.iter().enumerate() {
        if *d > day {
            t.clock.advance(chrono::Duration::days(d - day));
            day = *d;
        }
        sign_up_and_leave(&t.app, &person(seed + i as u32)).await;
    }
}

/// The day buckets of a class with their record counts, oldest first.
async fn buckets_of(app: &Jikimi, class: &str) -> Vec<(String, i64)> {
    app.store()
        .retention_buckets()
        .await
        .unwrap()
        .into_iter()
        .filter(|g| g.class == class)
        .map(|g| (g.bucket, g.records))
        .collect()
}

/// What the run's destruction records count per class.
async fn destroyed_by_run(app: &Jikimi, run: uuid::Uuid) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for r in app.store().destruction_records().await.unwrap() {
        if r.run_id == Some(run) {
            *out.entry(r.class).or_insert(0) += r.count;
        }
    }
    out
}

async fn retention_keys_left(app: &Jikimi) -> Vec<(String, String)> {
    app.keyring().retention_key_buckets().await.unwrap()
}

/// R-RET-02, R-SEC-05: the purge deletes whole buckets of both classes in one transaction, and
/// the destruction records count exactly what went, per class.
async fn one_transaction_purges_several_buckets_with_exact_counts(b: Backend) {
    let t = TestApp::on(b, "lifeplan").await;
    // Five withdrawals on three days: three day buckets per class, of 2, 2 and 1 records.
    leave_on_days(&t, &[0, 0, 1, 1, 2], 40).await;
    let contract = buckets_of(&t.app, "contract_records").await;
    assert_eq!(
        contract.iter().map(|(_, n)| *n).collect::<Vec<_>>(),
        [2, 2, 1]
    );
    t.clock.advance(chrono::Duration::days(6 * 366));
    let today = t.app.clock().today_kst();

    // One store call, one transaction: two contract buckets and a consent bucket at once, each
    // class counted exactly in its own record, the other buckets untouched.
    let run = uuid::Uuid::new_v4();
    let record = |class: &str| jikimi_store::DestructionRecord {
        id: uuid::Uuid::new_v4(),
        at: t.app.clock().now(),
        event: "purge".into(),
        class: class.into(),
        period: "test".into(),
        count: 0,
        method: "key_destruction".into(),
        actor: "cli".into(),
        run_id: Some(run),
    };
    let consent = buckets_of(&t.app, "consent_records").await;
    assert_eq!(consent.len(), 3);
    let parts = [
        jikimi_store::BucketPurge {
            class: "contract_records".into(),
            buckets: vec![contract[0].0.clone(), contract[1].0.clone()],
            record: record("contract_records"),
        },
        jikimi_store::BucketPurge {
            class: "consent_records".into(),
            buckets: vec![consent[0].0.clone()],
            record: record("consent_records"),
        },
    ];
    let n = t
        .app
        .store()
        .purge_retained_buckets(&parts, today)
        .await
        .unwrap();
    assert_eq!(n, [4, 2]);
    let counted = destroyed_by_run(&t.app, run).await;
    assert_eq!(
        counted["contract_records"], 4,
        "the destruction record counts the transaction's rows of its class"
    );
    assert_eq!(counted["consent_records"], 2);
    assert_eq!(
        buckets_of(&t.app, "contract_records").await,
        [(contract[2].0.clone(), 1)]
    );
    assert_eq!(buckets_of(&t.app, "consent_records").await.len(), 2);
    // Again: nothing left there, nothing added to the records.
    let again = t
        .app
        .store()
        .purge_retained_buckets(&parts, today)
        .await
        .unwrap();
    assert_eq!(again, [0, 0]);
    let counted = destroyed_by_run(&t.app, run).await;
    assert_eq!(
        (counted["contract_records"], counted["consent_records"]),
        (4, 2)
    );

    // The purge does the rest: exact counts per class, every bucket key destroyed.
    let report = purge(&t.app).await;
    let by_class: BTreeMap<_, _> = report
        .classes
        .iter()
        .map(|c| (c.class.as_str(), (c.records, c.keys)))
        .collect();
    assert_eq!(by_class["contract_records"], (1, 3));
    assert_eq!(by_class["consent_records"], (3, 3));
    assert_eq!(report.records(), 4);
    let counted = destroyed_by_run(&t.app, report.run_id).await;
    assert_eq!(counted["contract_records"], 1);
    assert_eq!(counted["consent_records"], 3);
    assert_eq!(t.row_counts().await["retained_records"], 0);
    assert!(retention_keys_left(&t.app).await.is_empty());
    // A second run finds nothing.
    let report = purge(&t.app).await;
    assert_eq!(report.records(), 0);
    assert!(report.classes.iter().all(|c| c.keys == 0));
    assert!(t.app.verify_audit().await.unwrap().ok());
}

/// R-RET-02, R-RET-03 (a legal hold keeps a record past its period): a held record survives the grouped delete of its bucket, whether it
/// stays in its day bucket or was moved under a key of its own; its bucket's key stays too.
async fn a_held_record_in_a_grouped_batch_survives(b: Backend) {
    let t = TestApp::on(b, "lifeplan").await;
    office_staff(&t).await;
    // Day 0: two withdrawals, day 1: one.
    leave_on_days(&t, &[0, 0, 1], 60).await;
    let contract = buckets_of(&t.app, "contract_records").await;
    assert_eq!(contract.len(), 2);
    let metas = t.app.retained_records(None, 100).await.unwrap();
    // A contract record held in its day bucket (as the store allows), ...
    let in_bucket = metas
        .iter()
        .find(|m| m.class == "contract_records" && m.bucket == contract[0].0)
        .unwrap()
        .id;
    let mut db = t.db().await;
    assert_eq!(
        db.execute(
            "UPDATE retained_records SET hold_reason = 'dispute', held_by = 'staff:officer' WHERE id = $1",
            &[in_bucket],
        )
        .await
        .unwrap(),
        1
    );
    // ... and a consent record held the usual way, under a key of its own.
    let consent = metas
        .iter()
        .find(|m| m.class == "consent_records")
        .unwrap()
        .id;
    t.app
        .hold_retained(&Actor::Staff("officer".into()), consent, "분쟁 조정 중")
        .await
        .unwrap();

    t.clock.advance(chrono::Duration::days(6 * 366));
    let report = purge(&t.app).await;
    assert_eq!(report.held, 2);
    let by_class: BTreeMap<_, _> = report
        .classes
        .iter()
        .map(|c| (c.class.as_str(), (c.records, c.keys)))
        .collect();
    // Contract: day 0 loses one of two (its key stays), day 1 goes whole with its key.
    assert_eq!(by_class["contract_records"], (2, 1));
    assert_eq!(by_class["consent_records"].0, 2);
    let counted = destroyed_by_run(&t.app, report.run_id).await;
    assert_eq!(counted["contract_records"], 2);
    assert_eq!(counted["consent_records"], 2);
    let left: Vec<uuid::Uuid> = t
        .app
        .retained_records(None, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(left.len(), 2);
    assert!(left.contains(&in_bucket) && left.contains(&consent));
    let keys = retention_keys_left(&t.app).await;
    assert!(keys.contains(&("contract_records".into(), contract[0].0.clone())));
    assert!(!keys.contains(&("contract_records".into(), contract[1].0.clone())));
    assert!(
        t.app
            .keyring()
            .retention_key_by_bucket("contract_records", &contract[0].0)
            .await
            .unwrap()
            .is_some(),
        "the held record can still be opened"
    );

    // Released, both go with their keys.
    for id in [in_bucket, consent] {
        t.app
            .release_retained(&Actor::Staff("officer".into()), id)
            .await
            .unwrap();
    }
    let report = purge(&t.app).await;
    assert_eq!(report.held, 0);
    assert_eq!(report.records(), 2);
    assert_eq!(t.row_counts().await["retained_records"], 0);
    assert!(retention_keys_left(&t.app).await.is_empty());
}

/// A retained record's id is time-ordered (UUIDv7 of its creation): the records of one bucket,
/// written on one day, lie together in the id index, so a purge deletes a run of the index
/// instead of entries scattered over it (bench/README.md, "Purge").
async fn retained_records_are_numbered_in_the_order_they_were_written(b: Backend) {
    let t = TestApp::on(b, "lifeplan").await;
    sign_up_and_leave(&t.app, &person(8301)).await;
    t.clock.advance(chrono::Duration::seconds(1));
    sign_up_and_leave(&t.app, &person(8302)).await;
    let rows = t.app.store().retained_meta(None, 100).await.unwrap();
    assert!(
        rows.len() >= 4,
        "two withdrawals, two classes each: {}",
        rows.len()
    );
    for r in &rows {
        assert_eq!(r.id.get_version_num(), 7, "a time-ordered id");
    }
    let mut by_id = rows.clone();
    by_id.sort_by_key(|r| r.id);
    let created: Vec<_> = by_id.iter().map(|r| r.created_at).collect();
    let mut sorted = created.clone();
    sorted.sort();
    assert_eq!(created, sorted, "ids follow the creation time");
    assert!(created.first() < created.last(), "two creation times");
}
