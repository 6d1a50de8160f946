//! Provision to a partner (issue 17; S9, S14, S15; PIPA Art. 17): members are told and asked by
//! e-mail before the first provision (the test SMTP server); only members whose `third_party`
//! consent is in force when the data leaves receive anything, and only the consent's items;
//! each provision is recorded and read with a logged reason; a correction or a departure
//! follows the data to the partner (a local Standard Webhooks receiver), which acknowledges it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::time::Duration as StdDuration;

use chrono::Duration;
use jikimi_core::partners::state;
use jikimi_core::{Actor, CoreError, Revealed};
use jikimi_testkit::partner::FakePartner;
use jikimi_testkit::smtp::TestSmtp;
use jikimi_testkit::{
    Backend, Person, TestApp, lifeplan_partner, lifeplan_signup, partner_transport, person,
};
use uuid::Uuid;

jikimi_testkit::backend_tests!(
    provision_respects_the_consent_at_the_moment_of_provision,
    corrections_and_departures_follow_the_data_and_are_acknowledged,
    a_partners_changed_facts_need_a_new_ask_and_a_new_consent,
);

async fn app(b: Backend, smtp: &TestSmtp, fake: &FakePartner) -> TestApp {
    let mail = jikimi_testkit::smtp_mail(smtp);
    let transport = partner_transport(fake);
    TestApp::configured(b, lifeplan_partner(), |cfg| {
        cfg.mail = Some(mail);
        cfg.partners = Some(transport);
    })
    .await
    .unwrap()
}

async fn join(t: &TestApp, p: &Person, third_party: bool) -> Uuid {
    let mut s = lifeplan_signup(p);
    s.consents.insert("third_party".into(), third_party);
    t.app.sign_up(s).await.unwrap()
}

async fn run_jobs(t: &TestApp) {
    for _ in 0..5 {
        t.app.run_jobs_once().await.unwrap();
    }
}

fn staff() -> Actor {
    Actor::Staff("officer".into())
}

/// R-CON-03 (the consent to provision, its own category), S15 (told and asked first), S14.
async fn provision_respects_the_consent_at_the_moment_of_provision(b: Backend) {
    let smtp = TestSmtp::start();
    let fake = FakePartner::start();
    let t = app(b, &smtp, &fake).await;
    let (a, bee, c) = (person(1), person(2), person(3));
    let ma = join(&t, &a, true).await;
    let mb = join(&t, &bee, false).await;
    let mc = join(&t, &c, true).await;
    run_jobs(&t).await;
    let welcomes = smtp.wait_for(3, StdDuration::from_secs(20)).len();

    // Not before the members were told and asked (S15).
    assert!(matches!(
        t.app.provide_to_partner(&staff(), "insurer").await,
        Err(CoreError::Conflict(_))
    ));
    assert!(fake.received().is_empty());

    // Told and asked: each member who has not consented gets the notice with who, why, which
    // items, how long, how protected and which consent.
    t.app
        .ask_partner_consent(&staff(), "insurer")
        .await
        .unwrap();
    run_jobs(&t).await;
    let mails = smtp.wait_for(welcomes + 1, StdDuration::from_secs(20));
    let asks: Vec<_> = mails
        .iter()
        .filter(|m| m.subject().contains("제3자 제공"))
        .collect();
    assert_eq!(
        asks.len(),
        1,
        "only the member without the consent is asked"
    );
    assert_eq!(asks[0].header("To").unwrap_or_default(), bee.email);
    let text = asks[0].text_body();
    for needed in [
        "가나다보험 주식회사",
        "제휴 보험 상품 안내",
        "성명",
        "전자우편",
        "이동전화번호",
        "보유·이용 기간",
        "보호 방법",
        "(선택) 개인정보 제3자 제공 동의",
        "/mypage/consents/third_party",
    ] {
        assert!(text.contains(needed), "the notice lacks {needed}: {text}");
    }
    let overview = t.app.partner_overview().await.unwrap();
    assert_eq!(overview[0].consenting, 2);
    assert_eq!(overview[0].asks.len(), 1);
    assert!(overview[0].reachable);

    // Provided to the two whose consent is in force; C withdraws before the data leaves.
    assert_eq!(
        t.app.provide_to_partner(&staff(), "insurer").await.unwrap(),
        2
    );
    t.app
        .set_consent(&Actor::Member(mc), mc, "third_party", false, "test")
        .await
        .unwrap();
    run_jobs(&t).await;
    let got = fake.received();
    let provisions: Vec<_> = got
        .iter()
        .filter(|r| r.body["type"] == "provision")
        .collect();
    assert_eq!(provisions.len(), 1, "{got:?}");
    // Nothing else: no news of a withdrawal for C, whose data never left, nor for A.
    assert_eq!(got.len(), 1, "{got:?}");
    let items = &provisions[0].body["items"];
    assert_eq!(items["name"], a.name.as_str());
    assert_eq!(items["email"], a.email.as_str());
    assert!(items.get("phone").is_none(), "only the consent's items");
    assert!(items.get("address").is_none());
    assert_eq!(
        items.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["email", "mobile", "name"]
    );
    assert_eq!(provisions[0].body["partner"], "insurer");
    assert!(provisions[0].body["consent_version"].is_string());
    assert_eq!(fake.refused(), 0, "every delivery is signed");

    // The record: A's provision, acknowledged; nothing for B (never consented) or C (withdrew
    // before it left).
    let ra = t.app.member_recipients(ma).await.unwrap();
    assert_eq!(ra.len(), 1);
    assert_eq!(ra[0].partner, "insurer");
    assert!(ra[0].acknowledged);
    assert_eq!(ra[0].items, ["email", "mobile", "name"]);
    assert_eq!(
        ra[0].consent_version.as_deref(),
        Some(t.app.policy().version().as_str())
    );
    assert!(t.app.member_recipients(mb).await.unwrap().is_empty());
    assert!(t.app.member_recipients(mc).await.unwrap().is_empty());
    let rows = t.app.partner_deliveries("insurer").await.unwrap();
    let skipped: Vec<_> = rows.iter().filter(|r| r.state == state::SKIPPED).collect();
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0].member_id, mc);

    // The read that fed the provision is in the audit chain, with the partner's purpose.
    let log = t.app.store().audit_rows(0, 10_000).await.unwrap();
    let reveal = log
        .iter()
        .find(|e| {
            e.action == "item.reveal" && e.member_id == Some(ma) && e.detail.contains("insurer")
        })
        .expect("the provision's read is logged");
    assert_eq!(reveal.purpose.as_deref(), Some("partner_offers"));
    assert_eq!(reveal.actor, "system");
    let denied = log
        .iter()
        .find(|e| e.member_id == Some(mc) && e.outcome == "denied")
        .expect("the refused read is logged");
    assert!(denied.detail.contains("insurer"), "{}", denied.detail);
    // Not a value of anyone in the chain.
    let whole = format!("{log:?}");
    for p in [&a, &bee, &c] {
        assert!(!whole.contains(&p.email) && !whole.contains(&p.name));
    }
}

/// S9: a correction reaches the partner that received the item, and is acknowledged; leaving
/// is passed on too; a delivery the partner refused is sent again from the office.
async fn corrections_and_departures_follow_the_data_and_are_acknowledged(b: Backend) {
    let smtp = TestSmtp::start();
    let fake = FakePartner::start();
    let t = app(b, &smtp, &fake).await;
    let a = person(11);
    let ma = join(&t, &a, true).await;
    t.app
        .ask_partner_consent(&staff(), "insurer")
        .await
        .unwrap();
    assert_eq!(
        t.app.provide_to_partner(&staff(), "insurer").await.unwrap(),
        1
    );
    // A second press before the first provision left sends nothing twice.
    assert_eq!(
        t.app.provide_to_partner(&staff(), "insurer").await.unwrap(),
        0
    );
    run_jobs(&t).await;
    assert_eq!(
        fake.received().len(),
        1,
        "{:?}",
        t.app
            .partner_deliveries("insurer")
            .await
            .unwrap()
            .iter()
            .map(|r| (r.state.clone(), r.last_error.clone()))
            .collect::<Vec<_>>()
    );
    let reference = fake.received()[0].body["member"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(reference.len(), 32);
    assert!(!reference.contains(&ma.to_string()));

    // A correction of a partner's item, while the partner is down for a moment.
    fake.fail_next(503);
    let new_email = "corrected.11@example.com";
    t.app
        .correct(
            &Actor::Member(ma),
            ma,
            BTreeMap::from([("email".to_owned(), Some(Revealed::new(new_email.into())))]),
        )
        .await
        .unwrap();
    run_jobs(&t).await;
    let waiting: Vec<_> = t
        .app
        .partner_deliveries("insurer")
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.kind == "correction")
        .collect();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].state, state::QUEUED);
    assert_eq!(waiting[0].last_error.as_deref(), Some("HTTP 503"));
    // Waiting for its next attempt: not the office's to send again (no second sender).
    assert!(matches!(
        t.app.resend_partner_delivery(&staff(), waiting[0].id).await,
        Err(CoreError::Conflict(_))
    ));
    t.clock.advance(Duration::minutes(3));
    run_jobs(&t).await;
    let got = fake.received();
    let correction = got
        .iter()
        .find(|r| r.body["type"] == "correction")
        .expect("the correction reached the partner");
    assert_eq!(correction.body["items"]["email"], new_email);
    assert_eq!(correction.body["member"], reference.as_str());
    assert!(
        correction.body["items"].get("name").is_none(),
        "only what changed"
    );
    let rows = t.app.partner_deliveries("insurer").await.unwrap();
    let c = rows.iter().find(|r| r.kind == "correction").unwrap();
    assert_eq!(c.state, state::ACKNOWLEDGED);
    assert_eq!(c.attempts, 2);

    // A correction of an item the partner never received tells it nothing.
    let before = fake.received().len();
    t.app
        .correct(
            &Actor::Member(ma),
            ma,
            BTreeMap::from([(
                "phone".to_owned(),
                Some(Revealed::new("02-3000-1234".into())),
            )]),
        )
        .await
        .unwrap();
    run_jobs(&t).await;
    assert_eq!(fake.received().len(), before);

    // Withdrawing the optional-items consent removes the mobile number the partner received:
    // the partner is told it is removed, with no value.
    t.app
        .set_consent(&Actor::Member(ma), ma, "optional_items", false, "test")
        .await
        .unwrap();
    run_jobs(&t).await;
    let got = fake.received();
    let removal = got
        .iter()
        .filter(|r| r.body["type"] == "correction")
        .find(|r| r.body["removed"] == serde_json::json!(["mobile"]))
        .expect("the removal reached the partner");
    assert_eq!(removal.body["items"], serde_json::json!({}));

    // Leaving: the partner refuses once (400), the office sees it and sends it again.
    fake.fail_next(400);
    t.app
        .withdraw(&Actor::Member(ma), ma, "test")
        .await
        .unwrap();
    run_jobs(&t).await;
    let rows = t.app.partner_deliveries("insurer").await.unwrap();
    let leaving = rows.iter().find(|r| r.kind == "withdrawal").unwrap();
    assert_eq!(leaving.state, state::FAILED);
    assert_eq!(leaving.last_error.as_deref(), Some("HTTP 400"));
    t.app
        .resend_partner_delivery(&staff(), leaving.id)
        .await
        .unwrap();
    run_jobs(&t).await;
    let got = fake.received();
    let told = got
        .iter()
        .find(|r| r.body["type"] == "withdrawal")
        .expect("the partner was told of the departure");
    assert_eq!(told.body["member"], reference.as_str());
    assert!(
        told.body.get("items").is_none(),
        "no personal value goes with it"
    );
    let rows = t.app.partner_deliveries("insurer").await.unwrap();
    assert_eq!(
        rows.iter().find(|r| r.kind == "withdrawal").unwrap().state,
        state::ACKNOWLEDGED
    );
    // An acknowledged delivery is not sent again.
    assert!(matches!(
        t.app.resend_partner_delivery(&staff(), leaving.id).await,
        Err(CoreError::Conflict(_))
    ));
}

/// S15 and PIPA Art. 17(2): a consent is to the facts the member was told. Members are asked
/// once per set of facts; when a new policy version changes the partner (here its name), a
/// consent given before counts no more: nothing is provided until the members are asked again
/// and agree again.
async fn a_partners_changed_facts_need_a_new_ask_and_a_new_consent(b: Backend) {
    let smtp = TestSmtp::start();
    let fake = FakePartner::start();
    let t = app(b, &smtp, &fake).await;
    let p = person(41);
    let m = join(&t, &p, true).await;
    run_jobs(&t).await;
    t.app
        .ask_partner_consent(&staff(), "insurer")
        .await
        .unwrap();
    // Asked about these facts already: not again.
    assert!(matches!(
        t.app.ask_partner_consent(&staff(), "insurer").await,
        Err(CoreError::Conflict(_))
    ));
    assert_eq!(
        t.app.provide_to_partner(&staff(), "insurer").await.unwrap(),
        1
    );
    run_jobs(&t).await;
    assert_eq!(fake.received().len(), 1);
    assert!(!t.app.consent_outdated(m, "third_party").await.unwrap());

    // A version that changes something else (the officer's name), in force from 2026-12-15:
    // the consent and the ask still stand.
    let app = open_version(&t, "2026-12-15", ("김지킴", "김지킴이"), None).await;
    t.clock
        .set(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 12, 14, 15, 0, 0).unwrap());
    assert!(app.policy().officer.name.ko.contains("김지킴이"));
    assert!(!app.consent_outdated(m, "third_party").await.unwrap());
    assert_eq!(app.partner_overview().await.unwrap()[0].consenting, 1);
    assert!(matches!(
        app.ask_partner_consent(&staff(), "insurer").await,
        Err(CoreError::Conflict(_))
    ));

    // A new version renames the partner, in force from 2027-01-01.
    let app = open_version(
        &t,
        "2027-01-01",
        ("", ""),
        Some(("가나다보험 주식회사", "가나다생명보험 주식회사")),
    )
    .await;
    t.clock
        .set(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 12, 31, 15, 0, 0).unwrap());
    assert!(app.policy().partners[0].name.ko.contains("생명"));

    // The consent was given to other facts: not counted, not provided, shown as outdated.
    assert!(app.consent_outdated(m, "third_party").await.unwrap());
    assert_eq!(app.partner_overview().await.unwrap()[0].consenting, 0);
    assert!(matches!(
        app.provide_to_partner(&staff(), "insurer").await,
        Err(CoreError::Conflict(_))
    ));
    // Asked again about the new facts — two staff pressing at once ask once — and the member
    // is mailed again.
    let before = smtp.messages().len();
    let (s1, s2) = (staff(), Actor::Staff("manager".into()));
    let (one, two) = tokio::join!(
        app.ask_partner_consent(&s1, "insurer"),
        app.ask_partner_consent(&s2, "insurer")
    );
    assert!(
        one.is_ok() != two.is_ok(),
        "exactly one ask: {one:?} {two:?}"
    );
    assert!(matches!(
        one.err().or(two.err()),
        Some(CoreError::Conflict(_))
    ));
    // The database itself refuses a second ask about the same facts (their date: the new
    // version's day, 2027-01-01 KST).
    let since = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 12, 31, 15, 0, 0)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let again = jikimi_store::PartnerAskRow {
        id: Uuid::new_v4(),
        partner_id: "insurer".into(),
        asked_at: app.clock().now(),
        asked_by: "staff:test".into(),
    };
    assert!(
        !app.store()
            .insert_partner_ask(again, &since, vec![], vec![])
            .await
            .unwrap()
    );
    for _ in 0..5 {
        app.run_jobs_once().await.unwrap();
    }
    let mails = smtp.wait_for(before + 1, StdDuration::from_secs(20));
    let ask = mails.last().unwrap();
    assert!(ask.text_body().contains("가나다생명보험"), "the new facts");
    std::thread::sleep(StdDuration::from_millis(500));
    assert_eq!(smtp.messages().len(), before + 1, "one ask mailed, not two");
    assert_eq!(
        app.provide_to_partner(&staff(), "insurer").await.unwrap(),
        0,
        "nobody agreed to the new facts yet"
    );
    // The member agrees again: provided again.
    app.set_consent(&Actor::Member(m), m, "third_party", true, "test")
        .await
        .unwrap();
    assert!(!app.consent_outdated(m, "third_party").await.unwrap());
    assert_eq!(
        app.provide_to_partner(&staff(), "insurer").await.unwrap(),
        1
    );
    for _ in 0..5 {
        app.run_jobs_once().await.unwrap();
    }
    assert_eq!(fake.received().len(), 2);
}

/// The same installation opened with a new version of `lifeplan` + the partner file, in force
/// from `effective`, with one replacement in the profile and optionally one in the partner file.
async fn open_version(
    t: &TestApp,
    effective: &str,
    profile_edit: (&str, &str),
    partner_edit: Option<(&str, &str)>,
) -> jikimi_core::Jikimi {
    let mut partner = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/partner.toml"),
    )
    .unwrap();
    if let Some((from, to)) = partner_edit {
        partner = partner.replacen(from, to, 1);
    }
    let mut profile = jikimi_policy::Policy::builtin_source("lifeplan")
        .unwrap()
        .replacen(
            "effective_date = 2026-12-01",
            &format!("effective_date = {effective}"),
            1,
        );
    if !profile_edit.0.is_empty() {
        profile = profile.replacen(profile_edit.0, profile_edit.1, 1);
    }
    let policy = jikimi_policy::Policy::from_toml_str(&(profile + &partner), "next.toml")
        .unwrap()
        .policy;
    jikimi_core::Jikimi::open_with(
        &t.cfg,
        policy,
        t.clock.clone(),
        false,
        jikimi_testkit::test_hasher(),
    )
    .await
    .unwrap()
}
