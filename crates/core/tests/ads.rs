//! Advertising-consent notices (issue 14), against a real SMTP server: the result of an
//! ad-reception choice is confirmed (정보통신망법 Art. 50(7)), and every two years from the
//! consent the member is reminded of it and how to withdraw (Art. 50(8), R-MKT-04), exactly the
//! members due, once per cycle, each reminder recorded.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration as StdDuration;

use chrono::{TimeZone, Utc};
use jikimi_core::{Actor, Jikimi};
use jikimi_testkit::smtp::TestSmtp;
use jikimi_testkit::{Backend, TestApp, backend_tests, lifeplan_signup, person, test_now};
use uuid::Uuid;

const WAIT: StdDuration = StdDuration::from_secs(10);

backend_tests!(
    an_ad_choice_is_confirmed_by_mail,
    exactly_the_members_due_are_reminded_every_two_years_once,
);

async fn drain(app: &Jikimi) {
    while app.run_jobs_once().await.unwrap() > 0 {}
}

/// R-MKT-03/Art. 50(7): giving and withdrawing an ad-reception consent are each confirmed,
/// with the date, the choice and the sender; a non-ad consent is not.
async fn an_ad_choice_is_confirmed_by_mail(b: Backend) {
    let smtp = TestSmtp::start();
    let t = TestApp::with_smtp(b, "lifeplan", &smtp).await;
    let p = person(61);
    let mut s = lifeplan_signup(&p);
    s.consents.insert("ads_email".into(), true);
    let member = t.app.sign_up(s).await.unwrap();
    drain(&t.app).await;
    let mails = smtp.wait_for(2, WAIT);
    let ad = mails
        .iter()
        .find(|m| m.subject() == "[라이프플랜] 광고성 정보 수신 동의 처리 결과 안내")
        .expect("the sign-up's ad consent confirmed");
    let text = ad.text_body();
    assert!(
        text.contains("(선택) 광고성 정보 전자우편 수신 동의: 동의"),
        "{text}"
    );
    assert!(text.contains("2026년 12월 2일 10:00"), "{text}");
    assert!(text.contains("보낸 곳: 라이프플랜"), "{text}");

    let me = Actor::Member(member);
    t.app
        .set_consent(&me, member, "ads_email", false, "web")
        .await
        .unwrap();
    t.app
        .set_consent(&me, member, "marketing", true, "web")
        .await
        .unwrap();
    drain(&t.app).await;
    let mails = smtp.wait_for(3, WAIT);
    assert_eq!(
        mails.len(),
        3,
        "the marketing consent is not an ad-reception one"
    );
    let text = mails[2].text_body();
    assert!(text.contains("철회(수신 거부)"), "{text}");
    assert!(text.contains("withdrawn (no advertising)"), "{text}");
}

/// Sets the clock to 10:00 KST on `y-m-d`.
fn at(t: &TestApp, y: i32, m: u32, d: u32) {
    t.clock.set(Utc.with_ymd_and_hms(y, m, d, 1, 0, 0).unwrap());
}

async fn grant(t: &TestApp, member: Uuid, granted: bool) {
    t.app
        .set_consent(&Actor::Member(member), member, "ads_email", granted, "web")
        .await
        .unwrap();
}

/// R-MKT-04: on 2026-12-02 (the test clock), due are: a consent of exactly two years ago, one
/// missed since June (caught up), and one of four years ago already reminded once (its second
/// cycle). Not due: one of two years less a day, one withdrawn, one given again last year. Each
/// is told once, with the consent's date and how to withdraw, and the sending is recorded.
async fn exactly_the_members_due_are_reminded_every_two_years_once(b: Backend) {
    let smtp = TestSmtp::start();
    let t = TestApp::with_smtp(b, "lifeplan", &smtp).await;
    let mut ids = Vec::new();
    for n in 0..6 {
        let p = person(70 + n);
        ids.push((t.app.sign_up(lifeplan_signup(&p)).await.unwrap(), p));
    }
    let [due_exact, not_yet, withdrawn, regiven, missed, second] =
        [0, 1, 2, 3, 4, 5].map(|i| ids[i].0);
    at(&t, 2024, 12, 2);
    grant(&t, due_exact, true).await;
    at(&t, 2024, 12, 3);
    grant(&t, not_yet, true).await;
    at(&t, 2024, 11, 1);
    grant(&t, withdrawn, true).await;
    at(&t, 2025, 1, 1);
    grant(&t, withdrawn, false).await;
    at(&t, 2024, 1, 5);
    grant(&t, regiven, true).await;
    at(&t, 2025, 1, 5);
    grant(&t, regiven, false).await;
    at(&t, 2025, 2, 5);
    grant(&t, regiven, true).await;
    at(&t, 2024, 6, 1);
    grant(&t, missed, true).await;
    at(&t, 2022, 11, 20);
    grant(&t, second, true).await;
    // Two years later its first reminder went out.
    at(&t, 2024, 11, 20);
    let first: Vec<Uuid> = t
        .app
        .due_ad_reconfirmations()
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.member)
        .collect();
    assert_eq!(first, vec![second]);
    assert_eq!(t.app.send_ad_reconfirmations().await.unwrap(), 1);

    t.clock.set(test_now());
    drain(&t.app).await;
    let before = smtp.messages().len();
    let mut due: Vec<Uuid> = t
        .app
        .due_ad_reconfirmations()
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.member)
        .collect();
    due.sort();
    let mut expected = vec![due_exact, missed, second];
    expected.sort();
    assert_eq!(due, expected);

    // The daily job sends them; run again, nothing more.
    t.app
        .schedule_daily::<jikimi_core::ads::AdReconfirm>()
        .await
        .unwrap();
    t.clock
        .set(Utc.with_ymd_and_hms(2026, 12, 2, 2, 0, 0).unwrap());
    drain(&t.app).await;
    assert!(t.app.due_ad_reconfirmations().await.unwrap().is_empty());
    assert_eq!(t.app.send_ad_reconfirmations().await.unwrap(), 0);
    let mails = smtp.wait_for(before + 3, WAIT);
    let reminders: Vec<_> = mails[before..]
        .iter()
        .filter(|m| m.subject() == "[라이프플랜] 광고성 정보 수신 동의 확인 안내")
        .collect();
    assert_eq!(reminders.len(), 3);
    let to_missed = reminders
        .iter()
        .find(|m| m.rcpt_tos[0] == ids[4].1.email)
        .expect("the missed one is caught up");
    let text = to_missed.text_body();
    assert!(text.contains("2024년 6월 1일에 동의"), "{text}");
    assert!(text.contains("무료로 철회"), "{text}");
    assert!(text.contains("/mypage#consents"), "{text}");
    drain(&t.app).await;
    assert_eq!(smtp.messages().len(), before + 3, "each once");

    // Recorded: the second cycle of the four-year-old consent is its own row.
    let rows = t.app.store().reconfirmations("ads_email").await.unwrap();
    let of_second: Vec<String> = rows
        .iter()
        .filter(|r| r.member_id == second)
        .map(|r| r.due_on.to_string())
        .collect();
    assert_eq!(of_second, ["2024-11-20", "2026-11-20"]);
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|r| r.message_id.is_some()));
}
