//! The invariants of DESIGN.md, each proved against a real installation in a temporary directory.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use jikimi_core::{Actor, CoreError, Revealed, SUBJECT_ACCESS};
use jikimi_testkit::Backend;
use jikimi_testkit::{
    TestApp, contains, lifeplan_signup, person, person_born, personal_values, seed_signup,
};

jikimi_testkit::backend_tests!(
    raw_files_hold_no_personal_values_on_both_profiles,
    withdrawal_makes_an_earlier_copy_of_the_data_unreadable,
    former_member_sees_what_is_kept_with_the_receipt,
    failed_signups_leave_nothing_behind,
    under_14_is_stopped_before_anything_is_stored,
    reveal_needs_a_purpose_the_policy_lists,
    a_changed_audit_row_is_named_by_verify,
    consent_ledger_is_append_only_and_withdrawal_deletes_optional_items,
    correction_validates_and_reindexes,
    a_correction_answers_with_its_items_and_audits_both_at_once,
    a_correction_answered_at_once_checks_the_latest_consents,
    authentication_answers_alike_for_unknown_and_wrong,
    master_key_is_checked_and_rotation_keeps_the_data,
    sealed_values_cannot_be_moved_between_members,
    orphan_keys_are_swept_and_live_keys_kept,
    a_purpose_tied_to_consent_needs_that_consent,
    an_item_held_for_correction_is_not_used,
    identity_items_cannot_be_corrected,
    cutting_the_end_of_the_audit_chain_is_detected,
    the_audit_anchor_is_authenticated_from_the_first_day,
    the_audit_anchor_never_moves_over_a_cut_tail,
    an_older_audit_anchor_put_back_is_caught_while_running,
    re_anchoring_upgrades_an_old_anchor_and_is_recorded,
    refusing_every_optional_consent_still_signs_up,
    linking_values_never_leave_core,
);

const SEED: &str = "lifeplan-seed";
const LIFEPLAN: &str = "lifeplan";

/// Invariant 1: after sign-up, no file of the data directory holds any personal value.
async fn raw_files_hold_no_personal_values_on_both_profiles(b: Backend) {
    for (profile, signup) in [
        (
            SEED,
            seed_signup as fn(&jikimi_testkit::Person) -> jikimi_core::SignUp,
        ),
        (LIFEPLAN, lifeplan_signup),
    ] {
        let t = TestApp::on(b, profile).await;
        let people: Vec<_> = (1..=3).map(person).collect();
        for p in &people {
            t.app.sign_up(signup(p)).await.unwrap();
        }
        // The values went in: the member can read them back.
        let id = t
            .app
            .authenticate(
                &people[0].login_id,
                &Revealed::new(people[0].password.clone()),
            )
            .await
            .unwrap();
        let mine = t
            .app
            .reveal(&Actor::Member(id), None, id, &["email"], SUBJECT_ACCESS)
            .await
            .unwrap();
        assert_eq!(mine["email"].expose(), people[0].email);

        // Every file of the data directory; on PostgreSQL also every row of both schemas.
        let stored = t.stored().await;
        let places = |name: &str| stored.iter().any(|(p, _)| p.ends_with(name));
        match b {
            Backend::Sqlite => assert!(places("jikimi.db") && places("keys.db")),
            Backend::Postgres => assert!(places(".member_items") && places(".wrapped_keys")),
        }
        for p in &people {
            for value in personal_values(p) {
                for (place, bytes) in &stored {
                    assert!(
                        !contains(bytes, &value),
                        "{profile}: {place} holds a personal value in the clear"
                    );
                }
            }
        }
    }
}

/// Invariants 2 and 6: withdrawal destroys the member key, so a copy of the data taken before
/// cannot be opened with the key store as it is after.
async fn withdrawal_makes_an_earlier_copy_of_the_data_unreadable(b: Backend) {
    let t = TestApp::on(b, SEED).await;
    let p = person(7);
    let id = t.app.sign_up(seed_signup(&p)).await.unwrap();
    // A consistent copy of the data and of the key store, as a backup would take them.
    let backup = t.snapshot().await;

    let receipt = t
        .app
        .withdraw(&Actor::Member(id), id, "test")
        .await
        .unwrap();
    assert!(!receipt.code.is_empty());
    assert!(
        t.app.keyring().member_key(id).await.unwrap().is_none(),
        "the member key is gone"
    );
    assert!(
        t.app.store().member(id).await.unwrap().is_none(),
        "the member row is gone"
    );
    let counts = t.row_counts().await;
    assert_eq!(counts["members"], 0);
    assert_eq!(counts["member_items"], 0);
    assert_eq!(counts["blind_indexes"], 0);
    assert_eq!(counts["consent_events"], 0);
    assert_eq!(counts["member_keys"], 0);

    // The backup still holds the sealed rows ...
    let sealed = jikimi_testkit::TestDb::connect(&backup.database_url)
        .await
        .sealed_items(id)
        .await;
    // ... which the key store before withdrawal could open (so this test can fail) ...
    let old_keys = jikimi_store::open_key_store(&backup.key_store_url, false)
        .await
        .unwrap();
    let master = jikimi_vault::MasterKey::from_text(
        &std::fs::read_to_string(t.data_dir().join("master.key")).unwrap(),
    )
    .unwrap();
    let old_ring = jikimi_core::Keyring::open(master, old_keys).await.unwrap();
    let old_key = old_ring
        .member_key(id)
        .await
        .unwrap()
        .expect("the old key store has the key");
    let (item, bytes) = sealed.iter().find(|(i, _)| i == "email").unwrap();
    assert_eq!(
        old_key
            .open_str(&id.to_string(), item, bytes)
            .unwrap()
            .expose(),
        p.email
    );
    // ... but the key store after withdrawal has no key for any of them, and no file holds it.
    assert!(t.app.keyring().member_key(id).await.unwrap().is_none());
    let wrapped_before = jikimi_testkit::TestDb::connect(&backup.key_store_url)
        .await
        .wrapped_key(&format!("member:{id}"))
        .await
        .unwrap();
    // Nothing the installation stores holds it: no file, and (PostgreSQL) no row of either schema.
    assert_eq!(t.find_bytes(&wrapped_before).await, None);
    // A destruction record without personal data exists.
    let destroyed = t.app.store().destruction_records().await.unwrap();
    assert_eq!(destroyed.len(), 1);
    assert_eq!(destroyed[0].method, "key_destruction");
    let text = serde_json::to_string(&destroyed).unwrap();
    for v in personal_values(&p) {
        assert!(!text.contains(&v));
    }
}

/// Invariant 6: the retained record is minimal, sealed, and readable by the former member with
/// the receipt; the member is gone from live data.
async fn former_member_sees_what_is_kept_with_the_receipt(b: Backend) {
    let t = TestApp::on(b, SEED).await;
    let p = person(8);
    let id = t.app.sign_up(seed_signup(&p)).await.unwrap();
    let receipt = t
        .app
        .withdraw(&Actor::Member(id), id, "test")
        .await
        .unwrap();
    let classes: Vec<&str> = receipt.retained.iter().map(|r| r.class.as_str()).collect();
    assert!(classes.contains(&"contract_records"), "{classes:?}");
    let contract = receipt
        .retained
        .iter()
        .find(|r| r.class == "contract_records")
        .unwrap();
    // Five years from the day of withdrawal in KST (2026-12-02).
    assert_eq!(contract.expires_on.to_string(), "2031-12-02");
    let views = t
        .app
        .retained_for_receipt(&receipt.code.to_lowercase())
        .await
        .unwrap();
    let v = views
        .iter()
        .find(|v| v.class == "contract_records")
        .unwrap();
    assert_eq!(v.content["login_id"], p.login_id);
    // Minimal: no RRN, no address, no phone.
    let text = v.content.to_string();
    for absent in [&p.rrn, &p.address, &p.phone, &p.mobile, &p.email] {
        assert!(!text.contains(absent.as_str()));
    }
    assert!(matches!(
        t.app.retained_for_receipt("JKM-0000-0000-0000-0000").await,
        Err(CoreError::NotFound(_))
    ));
}

/// Invariant 7: a failed sign-up leaves no row, key, consent or job.
async fn failed_signups_leave_nothing_behind(b: Backend) {
    let t = TestApp::on(b, SEED).await;
    let first = person(1);
    t.app.sign_up(seed_signup(&first)).await.unwrap();
    let before = t.row_counts().await;
    assert_eq!(before["members"], 1);
    assert_eq!(before["member_keys"], 1);
    assert!(before["consent_events"] >= 1);
    // Sign-up queues no job (no mail is sent yet); a failed one must not leave one either.
    assert_eq!(before["jobs"], 0);

    // Same e-mail, another person.
    let mut dup_email = seed_signup(&person(2));
    dup_email
        .items
        .insert("email".into(), Revealed::new(first.email.to_uppercase()));
    let e = t.app.sign_up(dup_email).await.unwrap_err();
    match e {
        CoreError::AlreadyMember {
            field,
            masked_login,
        } => {
            assert_eq!(field, "email");
            assert_eq!(
                masked_login, None,
                "an e-mail match does not reveal the account"
            );
        }
        other => panic!("expected AlreadyMember, got {other:?}"),
    }
    // Same RRN, another person: an identity match, so the login ID is shown masked (audited).
    let mut dup_rrn = seed_signup(&person(3));
    dup_rrn
        .items
        .insert("rrn".into(), Revealed::new(first.rrn.replace('-', "")));
    match t.app.sign_up(dup_rrn).await {
        Err(CoreError::AlreadyMember {
            field,
            masked_login,
        }) => {
            assert_eq!(field, "rrn");
            let masked = masked_login.unwrap();
            assert!(masked.starts_with("me") && masked.contains('*') && masked != first.login_id);
        }
        other => panic!("expected AlreadyMember, got {other:?}"),
    }
    // Invalid phone.
    let mut bad_phone = seed_signup(&person(4));
    bad_phone
        .items
        .insert("phone".into(), Revealed::new("123-45".into()));
    match t.app.sign_up(bad_phone).await {
        Err(CoreError::Invalid(errors)) => {
            assert_eq!(errors.len(), 1);
            assert_eq!(errors[0].field, "phone");
            assert!(errors[0].code.starts_with("phone."));
            assert!(errors[0].ko.contains("전화"), "{}", errors[0].ko);
            assert!(!errors[0].ko.contains("123-45") && !errors[0].en.contains("123-45"));
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    // Same login ID.
    let mut dup_login = seed_signup(&person(5));
    dup_login.login_id = first.login_id.clone();
    assert!(
        matches!(t.app.sign_up(dup_login).await, Err(CoreError::Invalid(e)) if e[0].code == "login_id.taken")
    );
    // 동의하지 않음.
    let mut declined = seed_signup(&person(6));
    declined.consents.insert("privacy_policy".into(), false);
    assert!(matches!(
        t.app.sign_up(declined).await,
        Err(CoreError::AgreementDeclined)
    ));
    // An item the policy does not declare.
    let mut undeclared = seed_signup(&person(9));
    undeclared
        .items
        .insert("blood_type".into(), Revealed::new("A".into()));
    assert!(
        matches!(t.app.sign_up(undeclared).await, Err(CoreError::Invalid(e)) if e[0].code == "item.unknown")
    );

    let mut after = t.row_counts().await;
    let mut expected = before.clone();
    // The one row added is the audit entry of the RRN duplicate look-up (it read a login ID).
    *expected.get_mut("audit_log").unwrap() += 1;
    assert_eq!(after.remove("audit_log"), expected.remove("audit_log"));
    expected.remove("audit_log");
    assert_eq!(after, expected);
}

/// R-CHD-01: the age gate comes before anything is stored.
async fn under_14_is_stopped_before_anything_is_stored(b: Backend) {
    let t = TestApp::on(b, SEED).await;
    let before = t.row_counts().await;
    // Today is 2026-12-02 (KST): born 2012-12-03 is 13; born 2012-12-02 is 14.
    let child = person_born(20, chrono::NaiveDate::from_ymd_opt(2012, 12, 3).unwrap());
    assert!(matches!(
        t.app.sign_up(seed_signup(&child)).await,
        Err(CoreError::ChildNeedsGuardian { age: 14 })
    ));
    assert_eq!(t.row_counts().await, before);
    let fourteen = person_born(21, chrono::NaiveDate::from_ymd_opt(2012, 12, 2).unwrap());
    t.app.sign_up(seed_signup(&fourteen)).await.unwrap();

    // The same gate on the current-law profile, fed by 본인확인.
    let t = TestApp::on(b, LIFEPLAN).await;
    let child = person_born(22, chrono::NaiveDate::from_ymd_opt(2013, 1, 1).unwrap());
    assert!(matches!(
        t.app.sign_up(lifeplan_signup(&child)).await,
        Err(CoreError::ChildNeedsGuardian { .. })
    ));
    assert_eq!(t.row_counts().await["members"], 0);
}

/// Invariant 4: a reveal for a purpose the policy does not list for the item is refused and logged.
async fn reveal_needs_a_purpose_the_policy_lists(b: Backend) {
    let t = TestApp::on(b, SEED).await;
    let p = person(11);
    let id = t.app.sign_up(seed_signup(&p)).await.unwrap();
    let billing = Actor::Service("billing".into());
    let policy = t.app.policy().clone();
    // A purpose listed for the address, and one that is not.
    let allowed = policy.item("address").unwrap().purposes[0].clone();
    let refused = policy
        .purposes
        .iter()
        .map(|p| p.id.clone())
        .find(|pid| !policy.allows("rrn", pid))
        .unwrap();
    let got = t
        .app
        .reveal(&billing, None, id, &["address"], &allowed)
        .await
        .unwrap();
    assert_eq!(got["address"].expose(), p.address);
    let err = t
        .app
        .reveal(&billing, None, id, &["rrn"], &refused)
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::PurposeDenied { ref item, .. } if item == "rrn"));
    // Another party may not borrow the data subject's own purpose.
    assert!(
        t.app
            .reveal(&billing, None, id, &["rrn"], SUBJECT_ACCESS)
            .await
            .is_err()
    );
    // Both attempts are in the audit chain, with purpose and outcome, and no value.
    let rows = t.app.store().audit_rows(0, 100).await.unwrap();
    let reveals: Vec<_> = rows
        .iter()
        .filter(|r| r.action == "item.reveal" && r.actor == "service:billing")
        .collect();
    assert_eq!(reveals.len(), 3);
    assert_eq!(reveals[0].outcome, "ok");
    assert_eq!(reveals[0].purpose.as_deref(), Some(allowed.as_str()));
    assert_eq!(reveals[1].outcome, "denied");
    assert_eq!(reveals[1].items, "rrn");
    assert_eq!(reveals[1].purpose.as_deref(), Some(refused.as_str()));
    for r in &rows {
        let text = format!("{} {} {}", r.items, r.detail, r.actor);
        for v in personal_values(&p) {
            assert!(
                !text.contains(&v),
                "audit row {} holds a personal value",
                r.seq
            );
        }
    }
}

/// Invariant 5: changing one byte of an audit row is detected, and the row is named.
async fn a_changed_audit_row_is_named_by_verify(b: Backend) {
    let t = TestApp::on(b, SEED).await;
    for s in 30..33 {
        t.app.sign_up(seed_signup(&person(s))).await.unwrap();
    }
    let report = t.app.verify_audit().await.unwrap();
    assert!(report.ok(), "{report:?}");
    assert_eq!(report.rows, 3);
    // An attacker with write access to the file: drop the guard trigger, change one byte.
    let mut c = t.db().await;
    c.disable_audit_guard().await;
    c.execute(
        "UPDATE audit_log SET action = 'member.signuq' WHERE seq = 2",
        &[],
    )
    .await
    .unwrap();
    drop(c);
    let report = t.app.verify_audit().await.unwrap();
    assert!(!report.ok());
    assert_eq!(
        report.problems.iter().map(|p| p.seq).collect::<Vec<_>>(),
        vec![2]
    );
}

/// Invariant 5 (consent ledger): append-only, state derived; withdrawing the optional-items
/// consent deletes those items (R-CON-09); categories are independent (R-CON-03).
async fn consent_ledger_is_append_only_and_withdrawal_deletes_optional_items(b: Backend) {
    let t = TestApp::on(b, LIFEPLAN).await;
    let p = person(40);
    let id = t.app.sign_up(lifeplan_signup(&p)).await.unwrap();
    let me = Actor::Member(id);
    let state: BTreeMap<_, _> = t
        .app
        .consent_state(id)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.category.clone(), c))
        .collect();
    assert!(state["optional_items"].granted);
    for c in ["marketing", "ads_email", "ads_sms"] {
        assert!(!state[c].granted, "{c} starts refused");
        assert!(state[c].at.is_some(), "{c}: the refusal is recorded too");
    }
    t.app
        .set_consent(&me, id, "ads_email", true, "test")
        .await
        .unwrap();
    let after: BTreeMap<_, _> = t
        .app
        .consent_state(id)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.category.clone(), c.granted))
        .collect();
    assert!(after["ads_email"] && !after["ads_sms"] && !after["marketing"]);

    let has = |items: &BTreeMap<String, Revealed>, k: &str| items.contains_key(k);
    let items = t
        .app
        .reveal(&me, None, id, &["address", "email"], SUBJECT_ACCESS)
        .await
        .unwrap();
    assert!(has(&items, "address"));
    t.app
        .set_consent(&me, id, "optional_items", false, "test")
        .await
        .unwrap();
    let items = t
        .app
        .reveal(&me, None, id, &["address", "email"], SUBJECT_ACCESS)
        .await
        .unwrap();
    assert!(
        !has(&items, "address"),
        "optional items are deleted with their consent"
    );
    assert!(has(&items, "email"));
    // The ledger kept every decision, in order; nothing was updated.
    // One event per category at sign-up (lifeplan has four), then the two changes.
    assert_eq!(t.app.policy().consents.len(), 4);
    let events = t.app.store().consent_events(id).await.unwrap();
    assert_eq!(events.len(), 4 + 2);
    assert_eq!(events.last().unwrap().category, "optional_items");
    assert!(!events.last().unwrap().granted);
    let mut c = t.db().await;
    assert!(
        c.execute("UPDATE consent_events SET granted = TRUE", &[])
            .await
            .is_err()
    );
    // Setting an optional item again without the consent is refused.
    let err = t
        .app
        .correct(
            &me,
            id,
            [("address".to_owned(), Some(Revealed::new(p.address.clone())))].into(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::Invalid(e) if e[0].code == "consent.missing"));
}

/// Invariant 6 (every read has a reason): a member's correction answered with their items
/// (`correct_own`, the API's `PATCH /me`) writes the change and the answer's reveal in one
/// transaction — the correction's entry, then the subject's access — and the answer is what a
/// view read afterwards shows. A refused correction changes nothing and writes nothing; a
/// member who withdrew after the session was read gets `NotFound`.
async fn a_correction_answers_with_its_items_and_audits_both_at_once(b: Backend) {
    let t = TestApp::on(b, SEED).await;
    let p = person(53);
    let id = t.app.sign_up(seed_signup(&p)).await.unwrap();
    let me = Actor::Member(id);
    let token = login_token(&t.app, &p).await;
    let app = &t.app;
    let rows_at = |n: i64| async move { app.store().audit_rows(n, 1000).await.unwrap() };
    let head = rows_at(0).await.last().map_or(0, |r| r.seq);

    let (session, before) = own_read(&t.app, &token).await;
    let new_address = "대전광역시 유성구 지킴로 53";
    let answer = t
        .app
        .correct_own(
            &session,
            before,
            [
                (
                    "address".to_owned(),
                    Some(Revealed::new(new_address.into())),
                ),
                ("mobile".to_owned(), None),
            ]
            .into(),
        )
        .await
        .unwrap();
    let added = rows_at(head).await;
    let added: Vec<_> = added.iter().filter(|r| r.seq > head).collect();
    assert_eq!(
        added
            .iter()
            .map(|r| (r.action.as_str(), r.purpose.as_deref()))
            .collect::<Vec<_>>(),
        [
            ("item.correct", None),
            ("item.reveal", Some(SUBJECT_ACCESS))
        ],
        "the change, then the answer's reveal"
    );
    assert_eq!(added[0].at, added[1].at, "written together");
    assert!(added[1].items.contains("address") && !added[1].items.contains("mobile"));
    assert_eq!(added[1].actor, added[0].actor);
    // The answer is what a view read afterwards shows: the new address, no mobile.
    let after = t.app.view_masked(&me, id).await.unwrap();
    assert_eq!(answer, after);
    assert!(!answer.contains_key("mobile"));
    assert_eq!(answer["address"], after["address"]);
    let shown = t
        .app
        .reveal(&me, None, id, &["address"], SUBJECT_ACCESS)
        .await
        .unwrap();
    assert_eq!(shown["address"].expose(), new_address);
    for r in &added {
        for v in personal_values(&p)
            .into_iter()
            .chain([new_address.to_owned()])
        {
            assert!(!format!("{} {}", r.items, r.detail).contains(&v));
        }
    }

    // A refused correction (a required item removed) changes nothing and writes nothing.
    let head = rows_at(0).await.last().map_or(0, |r| r.seq);
    let (session, before) = own_read(&t.app, &token).await;
    let err = t
        .app
        .correct_own(
            &session,
            before,
            [
                (
                    "address".to_owned(),
                    Some(Revealed::new("부산광역시 중구 1".into())),
                ),
                ("name".to_owned(), None),
            ]
            .into(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::Invalid(ref e) if e[0].field == "name"));
    assert_eq!(rows_at(0).await.last().map_or(0, |r| r.seq), head);
    let shown = t
        .app
        .reveal(&me, None, id, &["address"], SUBJECT_ACCESS)
        .await
        .unwrap();
    assert_eq!(shown["address"].expose(), new_address, "unchanged");

    // Withdrawn between the read of the session and the correction: NotFound.
    let (session, before) = own_read(&t.app, &token).await;
    t.app.withdraw(&me, id, "test").await.unwrap();
    let err = t
        .app
        .correct_own(&session, before, set("address", new_address))
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::NotFound(_)), "{err:?}");
}

/// R-CON-09: an optional item is kept only while its consent is in force. The correction answered
/// at once (`correct_own`) checks the consents read with the session: the latest decision of each
/// category counts — refused after the consent was withdrawn, allowed once it is given again.
async fn a_correction_answered_at_once_checks_the_latest_consents(b: Backend) {
    let t = TestApp::on(b, LIFEPLAN).await;
    let p = person(54);
    let id = t.app.sign_up(lifeplan_signup(&p)).await.unwrap();
    let me = Actor::Member(id);
    let token = login_token(&t.app, &p).await;
    let phone = || -> BTreeMap<String, Option<Revealed>> { set("phone", "02-555-0154") };
    t.app
        .set_consent(&me, id, "optional_items", false, "test")
        .await
        .unwrap();
    let (session, before) = own_read(&t.app, &token).await;
    let err = t
        .app
        .correct_own(&session, before, phone())
        .await
        .unwrap_err();
    assert!(
        matches!(err, CoreError::Invalid(ref e) if e[0].field == "phone" && e[0].code == "consent.missing"),
        "{err:?}"
    );
    assert!(
        !t.app
            .held_item_ids(id)
            .await
            .unwrap()
            .contains(&"phone".to_owned())
    );

    t.app
        .set_consent(&me, id, "optional_items", true, "test")
        .await
        .unwrap();
    let (session, before) = own_read(&t.app, &token).await;
    let answer = t.app.correct_own(&session, before, phone()).await.unwrap();
    assert!(answer.contains_key("phone"));
    let shown = t
        .app
        .reveal(&me, None, id, &["phone"], SUBJECT_ACCESS)
        .await
        .unwrap();
    assert_eq!(
        shown["phone"].expose(),
        "+8225550154",
        "stored as normalised"
    );
}

/// A correction of one item to `value`.
fn set(item: &str, value: &str) -> BTreeMap<String, Option<Revealed>> {
    [(item.to_owned(), Some(Revealed::new(value.to_owned())))].into()
}

/// A new session of `p`'s member: its token.
async fn login_token(app: &jikimi_core::Jikimi, p: &jikimi_testkit::Person) -> Revealed {
    app.login(&p.login_id, &Revealed::new(p.password.clone()))
        .await
        .unwrap()
        .token
}

/// The live session behind `token` and its member's items, read as `PATCH /api/v1/me` reads them.
async fn own_read(
    app: &jikimi_core::Jikimi,
    token: &Revealed,
) -> (jikimi_core::SessionInfo, jikimi_core::access::OwnItems) {
    app.session_and_items(token.expose())
        .await
        .unwrap()
        .unwrap()
}

/// Correction: same validation as sign-up, unique items re-indexed, required items kept.
async fn correction_validates_and_reindexes(b: Backend) {
    let t = TestApp::on(b, SEED).await;
    let (a, b) = (person(50), person(51));
    let ida = t.app.sign_up(seed_signup(&a)).await.unwrap();
    t.app.sign_up(seed_signup(&b)).await.unwrap();
    let me = Actor::Member(ida);
    let new_address = "부산광역시 해운대구 지킴로 7";
    t.app
        .correct(
            &me,
            ida,
            [(
                "address".to_owned(),
                Some(Revealed::new(new_address.into())),
            )]
            .into(),
        )
        .await
        .unwrap();
    let got = t
        .app
        .reveal(&me, None, ida, &["address"], SUBJECT_ACCESS)
        .await
        .unwrap();
    assert_eq!(got["address"].expose(), new_address);
    // Taking B's e-mail is refused; removing a required item is refused.
    assert!(matches!(
        t.app
            .correct(
                &me,
                ida,
                [("email".to_owned(), Some(Revealed::new(b.email.clone())))].into()
            )
            .await,
        Err(CoreError::AlreadyMember { .. })
    ));
    assert!(matches!(
        t.app.correct(&me, ida, [("name".to_owned(), None)].into()).await,
        Err(CoreError::Invalid(e)) if e[0].code == "required"
    ));
    // A new e-mail frees the old one.
    t.app
        .correct(
            &me,
            ida,
            [(
                "email".to_owned(),
                Some(Revealed::new("renamed50@example.com".into())),
            )]
            .into(),
        )
        .await
        .unwrap();
    let mut c = seed_signup(&person(52));
    c.items
        .insert("email".into(), Revealed::new(a.email.clone()));
    t.app.sign_up(c).await.unwrap();
    // Masked view.
    let masked = t.app.view_masked(&me, ida).await.unwrap();
    assert_eq!(masked["rrn"], format!("{}******", &a.rrn[..8]));
    assert!(masked["name"].contains('*'));
    assert!(masked["email"].starts_with("re***@"));
}

/// Authentication: the same answer for an unknown ID and a wrong password.
async fn authentication_answers_alike_for_unknown_and_wrong(b: Backend) {
    let t = TestApp::on(b, SEED).await;
    let p = person(60);
    let id = t.app.sign_up(seed_signup(&p)).await.unwrap();
    assert_eq!(
        t.app
            .authenticate(
                &p.login_id.to_uppercase(),
                &Revealed::new(p.password.clone())
            )
            .await
            .unwrap(),
        id
    );
    let wrong = t
        .app
        .authenticate(&p.login_id, &Revealed::new("nope-nope-1".into()))
        .await
        .unwrap_err();
    let unknown = t
        .app
        .authenticate("nobody99", &Revealed::new(p.password.clone()))
        .await
        .unwrap_err();
    assert!(matches!(wrong, CoreError::BadCredentials));
    assert_eq!(wrong.to_string(), unknown.to_string());
}

/// The master key is bound to its key store: another key is refused; rotation re-wraps every
/// key and leaves the data untouched.
async fn master_key_is_checked_and_rotation_keeps_the_data(b: Backend) {
    let t = TestApp::on(b, SEED).await;
    let p = person(70);
    let id = t.app.sign_up(seed_signup(&p)).await.unwrap();
    let data_before = t.data_image().await;

    let mut wrong = t.cfg.clone();
    wrong.master_key = Some(jikimi_vault::MasterKey::generate().to_text().to_string());
    let err = jikimi_core::Jikimi::open_with(
        &wrong,
        jikimi_testkit::builtin(SEED),
        t.clock.clone(),
        false,
        jikimi_testkit::test_hasher(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, CoreError::MasterKeyMismatch { .. }));
    assert!(err.to_string().contains("does not match"));

    let key_file = t.data_dir().join("master.key");
    let old_text = std::fs::read_to_string(&key_file).unwrap();
    let n = t.app.rotate_master_key(&key_file).await.unwrap();
    assert!(n >= 3, "member key, blind-index key, chain key: {n}");
    assert_ne!(std::fs::read_to_string(&key_file).unwrap(), old_text);
    assert_eq!(
        t.data_image().await,
        data_before,
        "the data file is untouched"
    );
    // The old key no longer opens the store; the new one does, and the data reads as before.
    let mut old = t.cfg.clone();
    old.master_key = Some(old_text);
    assert!(matches!(
        jikimi_core::Jikimi::open_with(
            &old,
            jikimi_testkit::builtin(SEED),
            t.clock.clone(),
            false,
            jikimi_testkit::test_hasher()
        )
        .await,
        Err(CoreError::MasterKeyMismatch { .. })
    ));
    let again = t.reopen(SEED).await;
    let got = again
        .reveal(&Actor::Member(id), None, id, &["email"], SUBJECT_ACCESS)
        .await
        .unwrap();
    assert_eq!(got["email"].expose(), p.email);
    assert_eq!(again.verify_audit().await.unwrap().problems, vec![]);
}

/// A sealed value copied to another member's row does not open (associated data).
async fn sealed_values_cannot_be_moved_between_members(b: Backend) {
    let t = TestApp::on(b, SEED).await;
    let ida = t.app.sign_up(seed_signup(&person(80))).await.unwrap();
    let idb = t.app.sign_up(seed_signup(&person(81))).await.unwrap();
    let mut c = t.db().await;
    // Move B's e-mail ciphertext into A's name row.
    c.execute(
        "UPDATE member_items SET sealed = (SELECT sealed FROM member_items WHERE member_id = $1 AND item_id = 'email')
         WHERE member_id = $2 AND item_id = 'name'",
        &[idb, ida],
    )
    .await
    .unwrap();
    assert!(
        t.app
            .reveal(&Actor::Member(ida), None, ida, &["name"], SUBJECT_ACCESS)
            .await
            .is_err()
    );
}

/// Orphan keys (a sign-up that died after creating its key) are swept; live keys are kept.
async fn orphan_keys_are_swept_and_live_keys_kept(b: Backend) {
    let t = TestApp::on(b, SEED).await;
    let id = t.app.sign_up(seed_signup(&person(90))).await.unwrap();
    let orphan = uuid::Uuid::new_v4();
    t.app.keyring().create_member_key(orphan).await.unwrap();
    // Within the grace period nothing is swept (a sign-up may be in flight).
    assert_eq!(
        t.app
            .sweep_orphan_keys(chrono::Duration::hours(1))
            .await
            .unwrap(),
        0
    );
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    assert_eq!(
        t.app
            .sweep_orphan_keys(chrono::Duration::zero())
            .await
            .unwrap(),
        1
    );
    assert!(t.app.keyring().member_key(orphan).await.unwrap().is_none());
    assert!(t.app.keyring().member_key(id).await.unwrap().is_some());
}

/// Invariant 4 (consent): a purpose the policy ties to a consent is refused until the member gives
/// it, and allowed while it is in force; the origin of the caller is recorded.
async fn a_purpose_tied_to_consent_needs_that_consent(b: Backend) {
    let t = TestApp::on(b, LIFEPLAN).await;
    let p = person(100);
    let id = t.app.sign_up(lifeplan_signup(&p)).await.unwrap();
    let crm = Actor::Service("crm".into());
    assert_eq!(
        t.app
            .policy()
            .purpose("marketing")
            .unwrap()
            .consent
            .as_deref(),
        Some("marketing")
    );
    assert!(t.app.policy().allows("email", "marketing"));
    let err = t
        .app
        .reveal(&crm, Some("192.0.2.10"), id, &["email"], "marketing")
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::PurposeDenied { .. }));
    t.app
        .set_consent(&Actor::Member(id), id, "marketing", true, "test")
        .await
        .unwrap();
    let got = t
        .app
        .reveal(&crm, Some("192.0.2.10"), id, &["email"], "marketing")
        .await
        .unwrap();
    assert_eq!(got["email"].expose(), p.email);
    t.app
        .set_consent(&Actor::Member(id), id, "marketing", false, "test")
        .await
        .unwrap();
    assert!(
        t.app
            .reveal(&crm, None, id, &["email"], "marketing")
            .await
            .is_err()
    );
    let rows = t.app.store().audit_rows(0, 100).await.unwrap();
    let crm_rows: Vec<_> = rows.iter().filter(|r| r.actor == "service:crm").collect();
    assert_eq!(
        crm_rows
            .iter()
            .map(|r| r.outcome.as_str())
            .collect::<Vec<_>>(),
        ["denied", "ok", "denied"]
    );
    assert_eq!(crm_rows[1].origin.as_deref(), Some("192.0.2.10"));
}

/// S8: while a correction is pending the item is not used, except to show its owner; correcting
/// it lifts the hold.
async fn an_item_held_for_correction_is_not_used(b: Backend) {
    let t = TestApp::on(b, SEED).await;
    let p = person(101);
    let id = t.app.sign_up(seed_signup(&p)).await.unwrap();
    let me = Actor::Member(id);
    let shop = Actor::Service("shop".into());
    let delivery = t.app.policy().item("address").unwrap().purposes[0].clone();
    t.app
        .hold_for_correction(&me, id, &["address"])
        .await
        .unwrap();
    let got = t
        .app
        .reveal(&shop, None, id, &["address"], &delivery)
        .await
        .unwrap();
    assert!(got.is_empty(), "held item withheld from other purposes");
    let mine = t
        .app
        .reveal(&me, None, id, &["address"], SUBJECT_ACCESS)
        .await
        .unwrap();
    assert_eq!(mine["address"].expose(), p.address);
    t.app
        .correct(
            &me,
            id,
            [(
                "address".to_owned(),
                Some(Revealed::new("대구광역시 중구 지킴로 3".into())),
            )]
            .into(),
        )
        .await
        .unwrap();
    let got = t
        .app
        .reveal(&shop, None, id, &["address"], &delivery)
        .await
        .unwrap();
    assert_eq!(got["address"].expose(), "대구광역시 중구 지킴로 3");
}

/// What identity verification established cannot be edited: changing CI/DI, birth date or name
/// (or the RRN) would free one person's identity for a second account.
async fn identity_items_cannot_be_corrected(b: Backend) {
    let t = TestApp::on(b, LIFEPLAN).await;
    let p = person(110);
    let mut s = lifeplan_signup(&p);
    // A typed name never overrides the verified one.
    s.items
        .insert("name".into(), Revealed::new("김다른".into()));
    let id = t.app.sign_up(s).await.unwrap();
    let me = Actor::Member(id);
    let got = t
        .app
        .reveal(&me, None, id, &["name"], SUBJECT_ACCESS)
        .await
        .unwrap();
    assert_eq!(got["name"].expose(), p.name);
    let other = person(111);
    for (item, value) in [
        ("ci", other.ci.as_str()),
        ("di", other.di.as_str()),
        ("birth_date", "1990-01-01"),
        ("name", "김다른"),
    ] {
        let err = t
            .app
            .correct(
                &me,
                id,
                [(item.to_owned(), Some(Revealed::new(value.into())))].into(),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, CoreError::Invalid(ref e) if e[0].code == "item.identity_locked"),
            "{item}: {err:?}"
        );
    }
    let t = TestApp::on(b, SEED).await;
    let p = person(112);
    let id = t.app.sign_up(seed_signup(&p)).await.unwrap();
    let err = t
        .app
        .correct(
            &Actor::Member(id),
            id,
            [("rrn".to_owned(), Some(Revealed::new(person(113).rrn)))].into(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::Invalid(ref e) if e[0].code == "item.identity_locked"));
}

/// Invariant 5: cutting rows off the end of the audit chain is detected once the head was
/// anchored in the key store.
async fn cutting_the_end_of_the_audit_chain_is_detected(b: Backend) {
    let t = TestApp::on(b, SEED).await;
    for s in 120..124 {
        t.app.sign_up(seed_signup(&person(s))).await.unwrap();
    }
    assert_eq!(t.app.anchor_audit().await.unwrap().head, 4);
    assert!(t.app.verify_audit().await.unwrap().ok());
    let mut c = t.db().await;
    c.disable_audit_guard().await;
    c.execute("DELETE FROM audit_log WHERE seq >= 3", &[])
        .await
        .unwrap();
    drop(c);
    let report = t.app.verify_audit().await.unwrap();
    assert!(!report.ok(), "a chain cut short is caught");
    assert_eq!(report.problems[0].seq, 4);
}

/// The key-store name of the audit chain's anchor.
const ANCHOR: &str = "audit_anchor";

async fn anchor_of(app: &jikimi_core::Jikimi) -> Option<String> {
    app.keyring().key_store().meta(ANCHOR).await.unwrap()
}

async fn set_anchor(app: &jikimi_core::Jikimi, value: &str) {
    app.keyring()
        .key_store()
        .set_meta(ANCHOR, value)
        .await
        .unwrap();
}

/// The hash of audit row `seq`, in hex.
async fn row_hash(app: &jikimi_core::Jikimi, seq: i64) -> String {
    let rows = app.store().audit_rows(seq - 1, 1).await.unwrap();
    assert_eq!(rows[0].seq, seq);
    hex::encode(&rows[0].hash)
}

fn reasons(report: &jikimi_core::audit::AuditReport) -> String {
    report
        .problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Invariant 5 (issue 11): the anchor carries a MAC under the chain key, and a key store has one
/// from its creation on (sequence 0). A forged, plain or deleted anchor is a failure, and so is
/// an empty chain whose authentic anchor says rows existed.
async fn the_audit_anchor_is_authenticated_from_the_first_day(b: Backend) {
    let t = TestApp::on(b, SEED).await;
    let genesis = anchor_of(&t.app).await.unwrap();
    assert!(genesis.starts_with("mac1:0:"), "{genesis}");
    let report = t.app.verify_audit().await.unwrap();
    assert!(report.ok() && report.rows == 0, "{report:?}");
    for s in 130..133 {
        t.app.sign_up(seed_signup(&person(s))).await.unwrap();
    }
    assert!(t.app.verify_audit().await.unwrap().ok());
    let anchored = anchor_of(&t.app).await.unwrap();
    assert!(anchored.starts_with("mac1:3:"), "{anchored}");

    // Someone with write access to the key store but without the chain key.
    let hash2 = row_hash(&t.app, 2).await;
    let fresh = || async { t.reopen(SEED).await };
    for (forged, reason) in [
        (format!("mac1:2:{hash2}:{}", "00".repeat(32)), "forged"),
        (
            format!(
                "mac1:3:{}:{}",
                "11".repeat(32),
                &anchored[anchored.len() - 64..]
            ),
            "forged",
        ),
        (format!("2:{hash2}"), "not authenticated"),
        ("mac1:x".to_owned(), "forged"),
    ] {
        set_anchor(&t.app, &forged).await;
        let app = fresh().await;
        let report = app.verify_audit().await.unwrap();
        assert!(!report.ok(), "{forged}");
        assert!(
            reasons(&report).contains(reason),
            "{forged}: {}",
            reasons(&report)
        );
        assert!(report.problems.iter().all(|p| p.anchor), "{report:?}");
        let step = app.anchor_audit().await.unwrap();
        assert!(!step.ok());
        assert!(app.audit_chain_broken());
        assert_eq!(
            anchor_of(&app).await.unwrap(),
            forged,
            "the anchor did not move"
        );
    }

    // The anchor deleted: an initialised key store without one has lost it.
    set_anchor(&t.app, &anchored).await;
    assert!(fresh().await.verify_audit().await.unwrap().ok());
    let mut keys = t.keys_db().await;
    keys.execute("DELETE FROM key_meta WHERE name = 'audit_anchor'", &[])
        .await
        .unwrap();
    let report = fresh().await.verify_audit().await.unwrap();
    assert!(
        reasons(&report).contains("holds no audit anchor"),
        "{}",
        reasons(&report)
    );

    // Every row deleted too: "verified: 0 rows" is not a pass.
    let mut c = t.db().await;
    c.disable_audit_guard().await;
    c.execute("DELETE FROM audit_log", &[]).await.unwrap();
    let report = fresh().await.verify_audit().await.unwrap();
    assert_eq!(report.rows, 0);
    assert!(!report.ok());
    // ... and with the authentic anchor put back, the missing rows are named.
    set_anchor(&t.app, &anchored).await;
    let report = fresh().await.verify_audit().await.unwrap();
    assert!(
        reasons(&report).contains("audit anchor (row 3): the anchored row is missing"),
        "{}",
        reasons(&report)
    );
}

/// Invariant 5 (issue 11): rows cut off the end, then new rows written by ordinary operation: the
/// anchoring step verifies from the anchor before it moves it, so it never moves over the gap,
/// and a new instance (what `serve` does at start) finds the break too.
async fn the_audit_anchor_never_moves_over_a_cut_tail(b: Backend) {
    let t = TestApp::on(b, SEED).await;
    for s in 140..144 {
        t.app.sign_up(seed_signup(&person(s))).await.unwrap();
    }
    assert_eq!(t.app.anchor_audit().await.unwrap().head, 4);
    let anchored = anchor_of(&t.app).await.unwrap();
    let mut c = t.db().await;
    c.disable_audit_guard().await;
    c.execute("DELETE FROM audit_log WHERE seq >= 3", &[])
        .await
        .unwrap();
    drop(c);
    // Ordinary operation writes rows 3, 4 and 5 again, past the anchored row 4.
    for s in 144..147 {
        t.app.sign_up(seed_signup(&person(s))).await.unwrap();
    }
    let step = t.app.anchor_audit().await.unwrap();
    assert_eq!(step.head, 4);
    assert!(
        step.problems
            .iter()
            .any(|p| p.anchor && p.seq == 4 && p.reason == "the anchored row was replaced"),
        "{step:?}"
    );
    assert!(t.app.audit_chain_broken());
    assert_eq!(
        anchor_of(&t.app).await.unwrap(),
        anchored,
        "the anchor stayed"
    );
    assert!(!t.app.verify_audit().await.unwrap().ok());

    let again = t.reopen(SEED).await;
    assert!(!again.audit_chain_broken());
    assert!(!again.anchor_audit().await.unwrap().ok());
    assert!(again.audit_chain_broken());
    assert!(!again.verify_audit().await.unwrap().ok());
    assert_eq!(anchor_of(&again).await.unwrap(), anchored);

    // A row changed after the anchor is a break as well: the anchor does not move over it.
    let u = TestApp::on(b, SEED).await;
    for s in 150..152 {
        u.app.sign_up(seed_signup(&person(s))).await.unwrap();
    }
    assert_eq!(u.app.anchor_audit().await.unwrap().head, 2);
    u.app.sign_up(seed_signup(&person(152))).await.unwrap();
    let mut c = u.db().await;
    c.disable_audit_guard().await;
    c.execute(
        "UPDATE audit_log SET action = 'member.signuq' WHERE seq = 3",
        &[],
    )
    .await
    .unwrap();
    let step = u.app.anchor_audit().await.unwrap();
    assert_eq!(step.head, 2);
    assert_eq!(
        step.problems.iter().map(|p| p.seq).collect::<Vec<_>>(),
        vec![3]
    );
    assert!(anchor_of(&u.app).await.unwrap().starts_with("mac1:2:"));
}

/// Invariant 5 (issue 11): the anchor never moves backward. An older authentic anchor put back
/// into the key store (with the rows after it cut) is caught by a running instance. A new process
/// cannot tell it from the real one: the key store is the trusted part (ARCHITECTURE.md,
/// "Audit chain"), and this test records that limit too.
async fn an_older_audit_anchor_put_back_is_caught_while_running(b: Backend) {
    let t = TestApp::on(b, SEED).await;
    let genesis = anchor_of(&t.app).await.unwrap();
    for s in 160..163 {
        t.app.sign_up(seed_signup(&person(s))).await.unwrap();
    }
    assert_eq!(t.app.anchor_audit().await.unwrap().head, 3);
    let mut c = t.db().await;
    c.disable_audit_guard().await;
    c.execute("DELETE FROM audit_log", &[]).await.unwrap();
    set_anchor(&t.app, &genesis).await;

    let step = t.app.anchor_audit().await.unwrap();
    assert!(
        step.problems
            .iter()
            .any(|p| p.anchor && p.reason.contains("moved backward")),
        "{step:?}"
    );
    assert!(t.app.audit_chain_broken());
    assert!(!t.app.verify_audit().await.unwrap().ok());
    assert_eq!(anchor_of(&t.app).await.unwrap(), genesis);

    // The limit: a new process with the restored key store sees a consistent, empty chain.
    let again = t.reopen(SEED).await;
    assert!(again.verify_audit().await.unwrap().ok());
}

/// Issue 11: an installation older than authenticated anchors (a plain `seq:hash` anchor) is
/// refused until `jikimi audit re-anchor` verified every link and anchored anew; the re-anchoring
/// is a row of the chain. An authentic anchor the chain no longer reaches is replaced only when
/// the loss is accepted, and never over a changed row.
async fn re_anchoring_upgrades_an_old_anchor_and_is_recorded(b: Backend) {
    let t = TestApp::on(b, SEED).await;
    for s in 170..173 {
        t.app.sign_up(seed_signup(&person(s))).await.unwrap();
    }
    // What an older release left: the head in the plain form.
    set_anchor(&t.app, &format!("3:{}", row_hash(&t.app, 3).await)).await;
    assert!(!t.app.verify_audit().await.unwrap().ok());
    let app = t.reopen(SEED).await;
    let done = app.reanchor_audit(&Actor::Cli, false).await.unwrap();
    assert_eq!(
        done,
        jikimi_core::audit::Reanchored::Anchored {
            previous: "plain (unauthenticated)",
            head: 4
        }
    );
    let rows = app.store().audit_rows(3, 10).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].action.as_str(), rows[0].actor.as_str()),
        ("audit.reanchor", "cli")
    );
    assert!(rows[0].detail.contains("plain"), "{}", rows[0].detail);
    let report = t.reopen(SEED).await.verify_audit().await.unwrap();
    assert!(report.ok() && report.rows == 4, "{report:?}");
    // Again: nothing to do.
    assert_eq!(
        app.reanchor_audit(&Actor::Cli, false).await.unwrap(),
        jikimi_core::audit::Reanchored::AlreadyAnchored { head: 4 }
    );

    // Rows lost below an authentic anchor: refused without --accept-loss.
    let mut c = t.db().await;
    c.disable_audit_guard().await;
    c.execute("DELETE FROM audit_log WHERE seq >= 3", &[])
        .await
        .unwrap();
    let app = t.reopen(SEED).await;
    let err = app.reanchor_audit(&Actor::Cli, false).await.unwrap_err();
    assert!(err.to_string().contains("--accept-loss"), "{err}");
    assert!(!app.verify_audit().await.unwrap().ok());
    let done = app.reanchor_audit(&Actor::Cli, true).await.unwrap();
    assert_eq!(
        done,
        jikimi_core::audit::Reanchored::Anchored {
            previous: "authentic, chain cut short",
            head: 3
        }
    );
    assert!(t.reopen(SEED).await.verify_audit().await.unwrap().ok());

    // A changed row: never re-anchored over.
    c.execute(
        "UPDATE audit_log SET action = 'member.signuq' WHERE seq = 2",
        &[],
    )
    .await
    .unwrap();
    let err = app.reanchor_audit(&Actor::Cli, true).await.unwrap_err();
    assert!(err.to_string().contains("links do not verify"), "{err}");
}

/// R-CON-06 (PIPA Art. 16(3), 22(5)): refusing every optional consent never stops a sign-up. The
/// verified mobile number is stored only where its item may be stored: with `lifeplan`'s
/// `optional_items` consent refused, it is not kept at all, and nothing optional is.
async fn refusing_every_optional_consent_still_signs_up(b: Backend) {
    let t = TestApp::on(b, LIFEPLAN).await;
    let p = person(77);
    let mut req = lifeplan_signup(&p);
    req.items.retain(|k, _| k == "email");
    for (_, granted) in req.consents.iter_mut() {
        *granted = false;
    }
    let id = t
        .app
        .sign_up(req)
        .await
        .expect("a sign-up with every optional consent refused");
    let held: Vec<String> = t
        .app
        .store()
        .items(id, None)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.item_id)
        .collect();
    assert!(held.contains(&"email".to_owned()), "{held:?}");
    assert!(
        !held.contains(&"mobile".to_owned()),
        "the verified mobile is not kept without its consent: {held:?}"
    );
    for item in &held {
        let basis = t.app.policy().item(item).unwrap().basis;
        assert_ne!(
            basis,
            jikimi_policy::LegalBasis::Consent,
            "{item} is a consent item and was stored without consent"
        );
    }
    for c in t.app.consent_state(id).await.unwrap() {
        assert!(!c.granted, "{} stored as refused", c.category);
    }

    // With the consent given, the verified mobile fills the item.
    let q = person(78);
    let mut req = lifeplan_signup(&q);
    req.items.retain(|k, _| k == "email");
    let id = t.app.sign_up(req).await.unwrap();
    let held = t.app.store().items(id, None).await.unwrap();
    assert!(held.iter().any(|r| r.item_id == "mobile"));

    // An optional item sent without its consent is refused naming the consent as the member saw
    // it, never its internal id.
    let r = person(79);
    let mut req = lifeplan_signup(&r);
    req.consents.insert("optional_items".into(), false);
    match t.app.sign_up(req).await {
        Err(CoreError::Invalid(errors)) => {
            for e in &errors {
                for lang in [jikimi_policy::Lang::Ko, jikimi_policy::Lang::En] {
                    let m = e.message(lang);
                    assert!(!m.contains("optional_items"), "internal id shown: {m}");
                }
            }
            assert!(errors.iter().any(|e| {
                e.message(jikimi_policy::Lang::Ko)
                    .contains("개인정보 수집·이용 동의")
            }));
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

/// CI and DI are never shown, not even to the member: core's own views and the export leave them
/// out, so no page or API has to strip them (issue 10: core is the only door).
async fn linking_values_never_leave_core(b: Backend) {
    let t = TestApp::on(b, LIFEPLAN).await;
    let p = person(81);
    let id = t.app.sign_up(lifeplan_signup(&p)).await.unwrap();
    let all: Vec<String> = t.app.policy().items.iter().map(|i| i.id.clone()).collect();
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    let own = t.app.own_items(id, &refs).await.unwrap();
    assert!(own.contains_key("email"));
    let masked = t.app.view_masked(&Actor::Member(id), id).await.unwrap();
    let export = serde_json::to_string(&t.app.export(id).await.unwrap()).unwrap();
    for linking in ["ci", "di"] {
        assert!(!own.contains_key(linking), "own_items gave {linking}");
        assert!(!masked.contains_key(linking), "view_masked gave {linking}");
    }
    for value in [&p.ci, &p.di] {
        assert!(
            !export.contains(value.as_str()),
            "the export holds a linking value"
        );
    }
    assert!(
        t.app
            .held_item_ids(id)
            .await
            .unwrap()
            .contains(&"ci".to_owned()),
        "CI is held"
    );
}
