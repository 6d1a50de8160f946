//! Advertising campaigns (issue 17; 정보통신망법 Art. 50, R-MKT-01..03), with mail to the test
//! SMTP server: a campaign reaches only members with both the marketing consent and the
//! channel's ad-reception consent; none goes between 21:00 and 08:00 KST (a campaign made at
//! 21:30 starts at 08:00, a page due at 21:10 waits for 08:00); each message starts with
//! "(광고)", names the sender and contact and carries a refusal that works without logging in
//! (a link, and List-Unsubscribe one-click); the refusal withdraws the consent at once and its
//! result is mailed; each send is recorded per member.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration as StdDuration;

use chrono::{Duration, TimeZone, Utc};
use jikimi_core::campaigns::{next_send_at, quiet};
use jikimi_core::{Actor, CoreError};
use jikimi_policy::Channel;
use jikimi_testkit::smtp::TestSmtp;
use jikimi_testkit::{Backend, Person, TestApp, lifeplan_signup, person};
use uuid::Uuid;

jikimi_testkit::backend_tests!(
    ads_wait_for_morning_reach_only_consenting_members_and_can_be_refused,
    advertising_records_are_destroyed_six_months_after_sending,
);

/// 2026-12-02 at `h:m` KST.
fn kst(h: u32, m: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 2, h, m, 0).unwrap() - Duration::hours(9)
}

async fn join(t: &TestApp, p: &Person, marketing: bool, ads_email: bool) -> Uuid {
    let mut s = lifeplan_signup(p);
    s.consents.insert("marketing".into(), marketing);
    s.consents.insert("ads_email".into(), ads_email);
    t.app.sign_up(s).await.unwrap()
}

async fn run_jobs(t: &TestApp) {
    for _ in 0..6 {
        t.app.run_jobs_once().await.unwrap();
    }
}

fn ads(smtp: &TestSmtp) -> Vec<jikimi_testkit::smtp::ReceivedMail> {
    smtp.messages()
        .into_iter()
        .filter(|m| m.subject().starts_with("(광고)"))
        .collect()
}

#[test]
fn the_quiet_hours_are_21_to_8_kst() {
    assert!(!quiet(kst(8, 0)) && !quiet(kst(20, 59)));
    assert!(quiet(kst(21, 0)) && quiet(kst(7, 59)) && quiet(kst(0, 0)));
    assert_eq!(next_send_at(kst(10, 0)), kst(10, 0));
    assert_eq!(next_send_at(kst(21, 30)), kst(8, 0) + Duration::days(1));
    assert_eq!(next_send_at(kst(6, 0)), kst(8, 0));
}

/// R-MKT-01, R-MKT-02, R-MKT-03.
async fn ads_wait_for_morning_reach_only_consenting_members_and_can_be_refused(b: Backend) {
    let smtp = TestSmtp::start();
    let t = TestApp::with_smtp(b, "lifeplan", &smtp).await;
    let (a, bee, c) = (person(41), person(42), person(43));
    let ma = join(&t, &a, true, true).await;
    join(&t, &bee, true, false).await;
    join(&t, &c, false, true).await;
    run_jobs(&t).await;
    let office = Actor::Staff("officer".into());
    assert_eq!(t.app.ad_reach(Channel::Email).await.unwrap(), 1);

    // Bad input: named, nothing made.
    match t
        .app
        .create_ad_campaign(&office, Channel::Email, " ", "")
        .await
    {
        Err(CoreError::Invalid(e)) => {
            let fields: Vec<&str> = e.iter().map(|x| x.field.as_str()).collect();
            assert_eq!(fields, ["subject", "body"]);
        }
        other => panic!("{other:?}"),
    }
    assert!(t.app.ad_campaigns().await.unwrap().is_empty());

    // Made at 20:50, due at once, but its page runs at 21:10: it waits for 08:00.
    t.clock.set(kst(20, 50));
    let early = t
        .app
        .create_ad_campaign(
            &office,
            Channel::Email,
            "겨울 안내",
            "겨울 상품을 안내합니다.",
        )
        .await
        .unwrap();
    assert_eq!(early.send_at, kst(20, 50));
    t.clock.set(kst(21, 10));
    run_jobs(&t).await;
    // Made at 21:30: it starts at 08:00.
    t.clock.set(kst(21, 30));
    let late = t
        .app
        .create_ad_campaign(
            &office,
            Channel::Email,
            "새해 안내",
            "새해 혜택을 안내합니다.",
        )
        .await
        .unwrap();
    assert_eq!(late.send_at, kst(8, 0) + Duration::days(1));
    run_jobs(&t).await;
    std::thread::sleep(StdDuration::from_millis(500));
    assert!(ads(&smtp).is_empty(), "nothing between 21:00 and 08:00");

    // 08:00: both go, to A only (B has no ad-reception consent, C no marketing consent).
    t.clock.set(kst(8, 0) + Duration::days(1));
    run_jobs(&t).await;
    let before = smtp.messages().len();
    let all = smtp.wait_for(before.max(1), StdDuration::from_secs(20));
    let _ = all;
    let mut got = ads(&smtp);
    for _ in 0..40 {
        if got.len() >= 2 {
            break;
        }
        std::thread::sleep(StdDuration::from_millis(250));
        run_jobs(&t).await;
        got = ads(&smtp);
    }
    assert_eq!(got.len(), 2, "two campaigns to one member");
    for m in &got {
        assert_eq!(m.header("To").unwrap_or_default(), a.email);
        let text = m.text_body();
        assert!(text.starts_with("(광고) "), "{text}");
        assert!(
            text.contains("보낸 곳: ") && text.contains("연락처: "),
            "{text}"
        );
        let unsubscribe = m.header("List-Unsubscribe").expect("List-Unsubscribe");
        assert!(unsubscribe.starts_with("<") && unsubscribe.contains("/ads/refuse?t="));
        assert_eq!(
            m.header("List-Unsubscribe-Post").as_deref(),
            Some("List-Unsubscribe=One-Click")
        );
        let link = unsubscribe.trim_matches(|c| c == '<' || c == '>');
        assert!(text.contains(link), "the same link in the body");
    }
    let campaigns = t.app.ad_campaigns().await.unwrap();
    assert!(campaigns.iter().all(|(_, n)| *n == 1), "{campaigns:?}");

    // The refusal: no login, the consent withdrawn at once, the result mailed.
    let link = got[0].header("List-Unsubscribe").unwrap();
    let token = link
        .split("t=")
        .nth(1)
        .unwrap()
        .trim_end_matches('>')
        .to_owned();
    assert_eq!(
        t.app.ad_refusal_channel(&token).await.unwrap(),
        Some(Channel::Email)
    );
    assert_eq!(t.app.refuse_ads("not-a-token").await.unwrap(), None);
    assert_eq!(
        t.app.refuse_ads(&token).await.unwrap(),
        Some(Channel::Email)
    );
    let state = t.app.consent_state(ma).await.unwrap();
    assert!(
        state
            .iter()
            .any(|c| c.category == "ads_email" && !c.granted)
    );
    run_jobs(&t).await;
    let mut told = false;
    for _ in 0..40 {
        told = smtp.messages().iter().any(|m| {
            m.header("To").unwrap_or_default() == a.email
                && m.text_body().contains("철회(수신 거부)")
        });
        if told {
            break;
        }
        std::thread::sleep(StdDuration::from_millis(250));
        run_jobs(&t).await;
    }
    assert!(told, "the refusal's result is mailed");
    // A message queued before 21:00 whose delivery comes due after it waits for 08:00 too.
    let d = person(44);
    join(&t, &d, true, true).await;
    let e = person(45);
    let me = join(&t, &e, true, true).await;
    run_jobs(&t).await;
    t.clock.set(kst(20, 59) + Duration::days(1));
    t.app
        .create_ad_campaign(&office, Channel::Email, "마감 안내", "오늘 마감입니다.")
        .await
        .unwrap();
    // The page runs at 20:59 and the message is queued, but the mail server refuses it for now
    // (451); its next attempt comes at 21:05.
    smtp.set_refusing(true);
    t.app.run_jobs_once().await.unwrap();
    let queued_before = ads(&smtp).len();
    smtp.set_refusing(false);
    t.clock.set(kst(21, 5) + Duration::days(1));
    run_jobs(&t).await;
    std::thread::sleep(StdDuration::from_millis(500));
    let to_d = |smtp: &TestSmtp| {
        ads(smtp)
            .iter()
            .filter(|m| m.header("To").unwrap_or_default() == d.email)
            .count()
    };
    assert_eq!(to_d(&smtp), 0, "held overnight ({queued_before} before)");
    // E, whose ad is held too, withdraws the consent at 22:00: the held ad does not go.
    t.clock.set(kst(22, 0) + Duration::days(1));
    t.app
        .set_consent(&Actor::Member(me), me, "ads_email", false, "test")
        .await
        .unwrap();
    t.clock.set(kst(8, 0) + Duration::days(2));
    let mut n = 0;
    for _ in 0..40 {
        run_jobs(&t).await;
        n = to_d(&smtp);
        if n > 0 {
            break;
        }
        std::thread::sleep(StdDuration::from_millis(250));
    }
    assert_eq!(n, 1, "delivered at 08:00");
    let to_e = ads(&smtp)
        .iter()
        .filter(|m| m.header("To").unwrap_or_default() == e.email)
        .count();
    assert_eq!(
        to_e, 0,
        "a held ad does not go after the consent was withdrawn"
    );

    // A second press changes nothing; a new campaign reaches no one.
    assert_eq!(
        t.app.refuse_ads(&token).await.unwrap(),
        Some(Channel::Email)
    );
    assert_eq!(
        t.app.ad_reach(Channel::Email).await.unwrap(),
        1,
        "only D now"
    );
    // The send record holds no content: the audit chain names the campaign, not the text.
    let log = t.app.store().audit_rows(0, 10_000).await.unwrap();
    let queued: Vec<_> = log.iter().filter(|e| e.action == "ad.queued").collect();
    assert_eq!(queued.len(), 4);
    assert!(queued.iter().take(2).all(|e| e.member_id == Some(ma)
        && e.purpose.as_deref() == Some("marketing")
        && !e.detail.contains("안내합니다")));
}

/// The policy's `advertising_records` (표시·광고에 관한 기록, 6 months from sending): the purge
/// destroys a campaign's texts and sends on the day after its period, with a destruction
/// record, and keeps a younger one.
async fn advertising_records_are_destroyed_six_months_after_sending(b: Backend) {
    let smtp = TestSmtp::start();
    let t = TestApp::with_smtp(b, "lifeplan", &smtp).await;
    let a = person(61);
    join(&t, &a, true, true).await;
    run_jobs(&t).await;
    let office = Actor::Staff("officer".into());
    t.clock.set(kst(10, 0));
    let old = t
        .app
        .create_ad_campaign(
            &office,
            Channel::Email,
            "겨울 안내",
            "겨울 상품을 안내합니다.",
        )
        .await
        .unwrap();
    run_jobs(&t).await;
    smtp.wait_for(2, StdDuration::from_secs(20));
    t.clock.advance(Duration::days(60));
    let young = t
        .app
        .create_ad_campaign(&office, Channel::Email, "봄 안내", "봄 상품을 안내합니다.")
        .await
        .unwrap();
    run_jobs(&t).await;
    let purge = |app: &jikimi_core::Jikimi| {
        let app = app.clone();
        async move { app.purge(&Actor::Cli, false, &|_, _| {}).await.unwrap() }
    };

    // On the last day of its 6 months (2027-06-02 KST) it is kept.
    t.clock
        .set(Utc.with_ymd_and_hms(2027, 6, 2, 3, 0, 0).unwrap());
    purge(&t.app).await;
    assert_eq!(t.app.ad_campaigns().await.unwrap().len(), 2);
    // The day after: its texts and its sends are gone, with a destruction record; the
    // younger campaign stays.
    t.clock
        .set(Utc.with_ymd_and_hms(2027, 6, 3, 3, 0, 0).unwrap());
    purge(&t.app).await;
    let left = t.app.ad_campaigns().await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].0.id, young.id);
    assert!(left.iter().all(|(c, _)| c.id != old.id));
    let mut db = t.db().await;
    assert_eq!(
        db.count("SELECT COUNT(*) FROM ad_sends").await,
        1,
        "only the younger campaign's send"
    );
    let records = t.app.store().destruction_records().await.unwrap();
    let ads: Vec<_> = records
        .iter()
        .filter(|r| r.class == "advertising_records")
        .collect();
    assert_eq!(ads.len(), 1);
    assert_eq!(ads[0].count, 1);
    assert_eq!(ads[0].method, "deletion");
}
