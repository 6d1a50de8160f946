//! `meta.effective_date` is honoured (issue 10; R-POL-02: a versioned policy, its changes
//! announced in advance): a version whose date is still ahead is recorded and announced, not
//! applied; it comes into force on its date, without a restart.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
use jikimi_core::{Clock, CoreError, Jikimi};
use jikimi_policy::Policy;
use jikimi_testkit::{Backend, TestApp, builtin, person, seed_signup, test_hasher};

jikimi_testkit::backend_tests!(
    a_future_version_is_announced_and_comes_into_force_on_its_date,
    a_first_start_with_only_a_future_version_is_refused,
);

const SEED: &str = "lifeplan-seed";

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Midnight of `day` in KST, as UTC.
fn kst_midnight(day: NaiveDate) -> chrono::DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_time(NaiveTime::MIN)) - chrono::Duration::hours(9)
}

/// The seed profile, reworded, taking effect on `effective`.
fn seed_taking_effect(effective: NaiveDate) -> Policy {
    let src = Policy::builtin_source(SEED)
        .unwrap()
        .replacen(
            "effective_date = 2026-12-01",
            &format!("effective_date = {effective}"),
            1,
        )
        .replacen("김지킴", "김지킴이", 1);
    let p = Policy::from_toml_str(&src, "next.toml").unwrap().policy;
    assert_eq!(p.meta.effective_date, effective);
    p
}

/// The policy version each consent of `member` and its sign-up audit entry carry.
async fn versions_of(app: &Jikimi, member: uuid::Uuid) -> (Vec<String>, Vec<String>) {
    let consents: Vec<String> = app
        .consent_history(member)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.policy_version)
        .collect();
    assert!(!consents.is_empty());
    let audit: Vec<String> = app
        .store()
        .audit_rows(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.action == "member.signup" && r.member_id == Some(member))
        .map(|r| {
            let detail: serde_json::Value = serde_json::from_str(&r.detail).unwrap();
            detail["policy_version"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(audit.len(), 1);
    (consents, audit)
}

async fn a_future_version_is_announced_and_comes_into_force_on_its_date(b: Backend) {
    let t = TestApp::on(b, SEED).await;
    let old = builtin(SEED);
    let next = seed_taking_effect(date(2027, 1, 1));
    assert_ne!(next.version(), old.version());
    assert!(t.clock.today_kst() < next.meta.effective_date);

    // Started with the new file before its date: the old version stays in force, read back from
    // the store with its recorded hash; the new one is announced.
    let app = Jikimi::open_with(&t.cfg, next.clone(), t.clock.clone(), false, test_hasher())
        .await
        .unwrap();
    assert_eq!(app.policy().version(), old.version());
    assert_eq!(app.policy().as_ref(), &old);
    let announced = app.announced_policy().unwrap();
    assert_eq!(announced.version(), next.version());
    assert_eq!(announced.meta.effective_date, date(2027, 1, 1));
    let rows = app.policy_versions().await.unwrap();
    let recorded = rows
        .iter()
        .find(|r| r.version == next.version().as_str())
        .unwrap();
    assert_eq!(recorded.effective_date, date(2027, 1, 1));
    assert!(
        recorded.text_ko.contains("김지킴이"),
        "its text is recorded"
    );
    assert_eq!(rows.len(), 2);

    let before = app.sign_up(seed_signup(&person(1))).await.unwrap();
    let (consents, audit) = versions_of(&app, before).await;
    assert!(consents.iter().all(|v| v == old.version().as_str()));
    assert_eq!(audit, [old.version().as_str()]);

    // The last second of the day before: still the old version.
    t.clock
        .set(kst_midnight(date(2027, 1, 1)) - chrono::Duration::seconds(1));
    assert_eq!(app.policy().version(), old.version());
    assert!(app.announced_policy().is_some());

    // Its date in KST: the new version is in force, in the same running service.
    t.clock.set(kst_midnight(date(2027, 1, 1)));
    assert_eq!(app.policy().version(), next.version());
    assert!(app.announced_policy().is_none());
    let after = app.sign_up(seed_signup(&person(2))).await.unwrap();
    let (consents, audit) = versions_of(&app, after).await;
    assert!(consents.iter().all(|v| v == next.version().as_str()));
    assert_eq!(audit, [next.version().as_str()]);
    // The earlier member's consents keep the version they were given under.
    let (consents, _) = versions_of(&app, before).await;
    assert!(consents.iter().all(|v| v == old.version().as_str()));

    // Another instance opened now, with the same file, applies it directly and records nothing
    // new.
    let again = Jikimi::open_with(&t.cfg, next.clone(), t.clock.clone(), false, test_hasher())
        .await
        .unwrap();
    assert_eq!(again.policy().version(), next.version());
    assert!(again.announced_policy().is_none());
    assert_eq!(again.policy_versions().await.unwrap().len(), 2);
    assert!(again.verify_audit().await.unwrap().ok());
}

async fn a_first_start_with_only_a_future_version_is_refused(b: Backend) {
    let next = seed_taking_effect(date(2027, 1, 1));
    let err = TestApp::try_with_policy_on(b, next).await.unwrap_err();
    assert!(matches!(err, CoreError::Setup(_)), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("2027-01-01"), "{message}");
    assert!(message.contains("no earlier version"), "{message}");

    // A version dated today is in force at once.
    // (The test clock stands at 2026-12-02 10:00 KST.)
    let today = seed_taking_effect(date(2026, 12, 2));
    let t = TestApp::try_with_policy_on(b, today).await.unwrap();
    assert!(t.app.announced_policy().is_none());
}
