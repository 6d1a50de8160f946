//! The breach register (issue 17; PIPA Art. 34, R-BRE-01..03): an incident's members come from
//! the audit chain when an account's reads are the cause; each gets a notice by e-mail (the test
//! SMTP server) with the five items the law requires and the remedies; the 72-hour clock; the
//! report to the PIPC/KISA when one of the law's conditions holds, prepared and recorded.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration as StdDuration;

use chrono::Duration;
use jikimi_core::breaches::{
    BreachNotices, CLOSED, CONFIRMED, NewIncident, NoticePage, ReportReason, SUSPECTED, Scope,
    report_reasons,
};
use jikimi_core::{Actor, CoreError};
use jikimi_policy::Sensitivity;
use jikimi_testkit::smtp::TestSmtp;
use jikimi_testkit::{Backend, TestApp, person, seed_signup};
use uuid::Uuid;

/// R-BRE-02's decision table, at its edges: 999 and 1,000 people; each kind of item; an
/// attack from outside.
#[test]
fn the_report_decision_follows_the_law_at_its_edges() {
    assert!(report_reasons(999, &[Sensitivity::Normal], false).is_empty());
    assert_eq!(
        report_reasons(1000, &[Sensitivity::Normal], false),
        vec![ReportReason::Many(1000)]
    );
    assert_eq!(
        report_reasons(1, &[Sensitivity::Normal, Sensitivity::Sensitive], false),
        vec![ReportReason::Sensitive]
    );
    assert_eq!(
        report_reasons(1, &[Sensitivity::UniqueIdentifier], false),
        vec![ReportReason::UniqueIdentifier]
    );
    assert!(report_reasons(1, &[Sensitivity::Financial], false).is_empty());
    assert_eq!(
        report_reasons(1, &[], true),
        vec![ReportReason::OutsideAttack]
    );
}

jikimi_testkit::backend_tests!(
    an_accounts_reads_become_the_incident_and_each_member_is_told_the_five_items,
    the_report_is_required_on_any_one_condition_and_the_clock_runs_72_hours,
    a_breach_of_1200_members_sends_1200_notices_and_prepares_the_report,
);

fn staff() -> Actor {
    Actor::Staff("lee.manager".into())
}

async fn run_jobs(t: &TestApp, rounds: usize) {
    for _ in 0..rounds {
        if t.app.run_jobs_once().await.unwrap() == 0 {
            break;
        }
    }
}

fn incident(t: &TestApp, items: &[&str], scope: Scope) -> NewIncident {
    NewIncident {
        title: "상담 직원 계정 도용으로 회원 정보 조회".into(),
        state: CONFIRMED.into(),
        discovered_at: Some(t.app.clock().now() - Duration::hours(2)),
        occurred: "2026년 12월 1일 22시부터 23시 사이, 도용된 계정으로 회원 정보가 조회되었습니다."
            .into(),
        items: items.iter().map(|s| (*s).to_owned()).collect(),
        outside_attack: false,
        cause: "상담 직원 계정의 비밀번호 유출".into(),
        measures: "해당 계정을 즉시 잠그고 모든 직원의 비밀번호를 바꾸었습니다.".into(),
        advice: "출처가 분명하지 않은 전자우편의 링크를 누르지 마세요.".into(),
        scope: Some(scope),
    }
}

/// R-BRE-01 (the five items, the help desk), R-BRE-03 (remedies), the members from the audit
/// chain (who was read, when, by whom).
async fn an_accounts_reads_become_the_incident_and_each_member_is_told_the_five_items(b: Backend) {
    let smtp = TestSmtp::start();
    let t = TestApp::with_smtp(b, "lifeplan-seed", &smtp).await;
    let people: Vec<_> = (1..=4).map(person).collect();
    let mut ids = Vec::new();
    for p in &people {
        ids.push(t.app.sign_up(seed_signup(p)).await.unwrap());
    }
    run_jobs(&t, 10).await;
    let welcomes = smtp.wait_for(4, StdDuration::from_secs(20)).len();

    // A service account reads members 0 and 1 inside the window, member 2 after it.
    let crm = Actor::Service("crm".into());
    let purpose = t.app.policy().item("address").unwrap().purposes[0].clone();
    let from = t.app.clock().now();
    for m in &ids[..2] {
        t.app
            .reveal(&crm, None, *m, &["address"], &purpose)
            .await
            .unwrap();
    }
    t.clock.advance(Duration::hours(1));
    let to = t.app.clock().now();
    t.clock.advance(Duration::minutes(5));
    t.app
        .reveal(&crm, None, ids[2], &["address"], &purpose)
        .await
        .unwrap();

    // Bad input names every field and stores nothing.
    let before = t.row_counts().await;
    let blank = NewIncident {
        title: " ".into(),
        state: "maybe".into(),
        discovered_at: Some(t.app.clock().now() + Duration::hours(1)),
        occurred: String::new(),
        items: vec!["no_such_item".into()],
        outside_attack: false,
        cause: String::new(),
        measures: String::new(),
        advice: "x".repeat(2001),
        scope: Some(Scope::Reads {
            actor: " ".into(),
            from: to,
            to: from,
        }),
    };
    let Err(CoreError::Invalid(errors)) = t.app.record_incident(&staff(), blank).await else {
        panic!("bad input is refused");
    };
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    for f in [
        "title",
        "state",
        "discovered_at",
        "occurred",
        "items",
        "cause",
        "measures",
        "advice",
        "actor",
        "window",
    ] {
        assert!(fields.contains(&f), "{f} is named: {fields:?}");
    }
    assert!(errors.iter().all(|e| !e.ko.is_empty()));
    assert_eq!(t.row_counts().await, before, "nothing was written");

    // An account that read nobody in the window: refused, naming the account.
    let nobody = Scope::Reads {
        actor: "service:nobody".into(),
        from,
        to,
    };
    let Err(CoreError::Invalid(errors)) = t
        .app
        .record_incident(&staff(), incident(&t, &["name"], nobody))
        .await
    else {
        panic!("an account that read nobody is refused");
    };
    assert_eq!(errors[0].field, "actor");
    assert_eq!(t.row_counts().await, before, "nothing was written");

    let scope = Scope::Reads {
        actor: "service:crm".into(),
        from,
        to,
    };
    let id = t
        .app
        .record_incident(&staff(), incident(&t, &["name", "address"], scope))
        .await
        .unwrap();
    let view = t.app.incident_view(id).await.unwrap();
    assert_eq!(view.row.affected, 2, "the two members read in the window");
    assert!(view.report_reasons.is_empty(), "{:?}", view.report_reasons);
    assert!(view.pending, "the notices are still to be sent");
    assert_eq!(view.deadline, view.row.discovered_at + Duration::hours(72));
    assert_eq!(view.hours_left(t.app.clock().now()), 70);

    // Member 1 leaves before the notices go: nobody to mail (the website notice stands in).
    t.app
        .withdraw(&Actor::Member(ids[1]), ids[1], "test")
        .await
        .unwrap();
    run_jobs(&t, 10).await;
    let before_notices = smtp
        .wait_for(welcomes + 1, StdDuration::from_secs(20))
        .len();

    t.app.notify_incident(&staff(), id).await.unwrap();
    assert!(matches!(
        t.app.notify_incident(&staff(), id).await,
        Err(CoreError::Conflict(_))
    ));
    run_jobs(&t, 10).await;
    let mails = smtp.wait_for(before_notices + 1, StdDuration::from_secs(20));
    let notices: Vec<_> = mails
        .iter()
        .filter(|m| m.subject().contains("개인정보 유출 통지"))
        .collect();
    assert_eq!(notices.len(), 1);
    assert_eq!(
        notices[0].header("To").unwrap_or_default(),
        people[0].email,
        "only the member read, and still here, is mailed"
    );
    let text = notices[0].text_body();
    for needed in [
        "1. 유출된 개인정보 항목",
        "성명, 주소",
        "2. 유출된 시점과 그 경위",
        "도용된 계정으로",
        "3. 피해를 최소화하기 위해",
        "출처가 분명하지 않은",
        "4. 저희의 대응 조치와 피해 구제 절차",
        "계정을 즉시 잠그고",
        "손해배상",
        "법정손해배상",
        "1833-6972",
        "118",
        "5. 피해 신고·상담 담당 부서와 연락처",
        "인재경영실",
        "privacy-manager@example.com",
        "The items leaked",
    ] {
        assert!(text.contains(needed), "the notice lacks {needed}: {text}");
    }
    let view = t.app.incident_view(id).await.unwrap();
    assert_eq!(view.progress.notified, 2);
    assert_eq!(view.progress.sent, 1);
    assert_eq!(view.progress.no_address, 1);
    assert_eq!(view.unreached, 1);
    assert!(view.pending, "one member not reached, nothing posted");

    // A page run again (a job retried after it wrote) writes nothing twice.
    let outbox_before = t.row_counts().await;
    t.app
        .enqueue::<BreachNotices>(
            &NoticePage {
                incident: id,
                after: None,
                done: false,
                followup: false,
            },
            t.app.clock().now(),
        )
        .await
        .unwrap();
    run_jobs(&t, 10).await;
    let after = t.row_counts().await;
    assert_eq!(after.get("outbox"), outbox_before.get("outbox"));
    assert_eq!(
        t.app.incident_view(id).await.unwrap().progress.sent,
        1,
        "no second notice"
    );

    // A confirmed breach with a member not reached does not close.
    assert!(matches!(
        t.app.set_incident_state(&staff(), id, CLOSED).await,
        Err(CoreError::Conflict(_))
    ));
    assert!(t.app.posted_incidents().await.unwrap().is_empty());
    t.app.post_incident_notice(&staff(), id).await.unwrap();
    assert!(matches!(
        t.app.post_incident_notice(&staff(), id).await,
        Err(CoreError::Conflict(_))
    ));
    let view = t.app.incident_view(id).await.unwrap();
    assert!(!view.pending, "told, posted, and no report is required");
    assert_eq!(t.app.posted_incidents().await.unwrap().len(), 1);

    // Every notice's use of an address is in the audit chain under this incident.
    let rows = t.app.store().audit_rows(0, 10_000).await.unwrap();
    let queued = rows
        .iter()
        .filter(|r| r.action == "mail.queued" && r.detail.contains(&id.to_string()))
        .count();
    assert_eq!(queued, 1);
    for action in ["breach.record", "breach.notify", "breach.posted"] {
        assert!(rows.iter().any(|r| r.action == action), "{action} audited");
    }

    // Closed: no notices, no state change; the website notice stays 30 days.
    t.app
        .set_incident_state(&staff(), id, CLOSED)
        .await
        .unwrap();
    assert!(matches!(
        t.app.set_incident_state(&staff(), id, CONFIRMED).await,
        Err(CoreError::Conflict(_))
    ));
    assert_eq!(t.app.posted_incidents().await.unwrap().len(), 1);
    t.clock.advance(Duration::days(31));
    assert!(t.app.posted_incidents().await.unwrap().is_empty());
    assert!(matches!(
        t.app.notify_incident(&staff(), Uuid::new_v4()).await,
        Err(CoreError::NotFound(_))
    ));
}

/// R-BRE-02 (any one condition: 1,000 people, a unique identifier or sensitive data, an outside
/// attack), R-BRE-03 (a suspected breach is an incident too; the notice says it is possible).
async fn the_report_is_required_on_any_one_condition_and_the_clock_runs_72_hours(b: Backend) {
    let smtp = TestSmtp::start();
    let t = TestApp::with_smtp(b, "lifeplan-seed", &smtp).await;
    let p = person(7);
    t.app.sign_up(seed_signup(&p)).await.unwrap();
    run_jobs(&t, 10).await;
    let welcomes = smtp.wait_for(1, StdDuration::from_secs(20)).len();

    // A unique identifier: the RRN.
    let rrn = t
        .app
        .record_incident(&staff(), incident(&t, &["rrn"], Scope::All))
        .await
        .unwrap();
    let v = t.app.incident_view(rrn).await.unwrap();
    assert_eq!(v.report_reasons, vec![ReportReason::UniqueIdentifier]);
    assert_eq!(v.row.affected, 1);

    // An outside attack, suspected only.
    let mut new = incident(&t, &["email"], Scope::All);
    new.outside_attack = true;
    new.state = SUSPECTED.into();
    let attack = t.app.record_incident(&staff(), new).await.unwrap();
    let v = t.app.incident_view(attack).await.unwrap();
    assert_eq!(v.report_reasons, vec![ReportReason::OutsideAttack]);

    // Ordinary items, one member, no attack: no report.
    let plain = t
        .app
        .record_incident(&staff(), incident(&t, &["email"], Scope::All))
        .await
        .unwrap();
    assert!(
        t.app
            .incident_view(plain)
            .await
            .unwrap()
            .report_reasons
            .is_empty()
    );

    // The suspected breach's notice says it is possible.
    t.app.notify_incident(&staff(), attack).await.unwrap();
    run_jobs(&t, 10).await;
    let mails = smtp.wait_for(welcomes + 1, StdDuration::from_secs(20));
    let notice = mails
        .iter()
        .find(|m| m.subject().contains("유출 가능성"))
        .expect("the notice of a possible breach");
    assert!(notice.text_body().contains("유출되었을 가능성이 있어"));

    // Told, but the required report is not recorded yet: still pending; the clock runs out.
    let v = t.app.incident_view(attack).await.unwrap();
    assert!(v.pending);
    assert!(!v.overdue(t.app.clock().now()));
    t.clock.advance(Duration::hours(71));
    let v = t.app.incident_view(attack).await.unwrap();
    assert!(v.overdue(t.app.clock().now()), "72 hours from discovery");
    assert_eq!(
        v.hours_left(t.app.clock().now()),
        -1,
        "exactly an hour late"
    );

    // The report, prepared for submission, then recorded as submitted.
    let report = t.app.incident_report(&staff(), attack).await.unwrap();
    for needed in [
        "개인정보 유출 등 신고서",
        "정보주체의 수: 1명",
        "전자우편 주소",
        "외부로부터의 불법적인 접근",
        "유출 의심",
        "통지 시작",
        "privacy-manager@example.com",
        "privacy-officer@example.com",
    ] {
        assert!(
            report.contains(needed),
            "the report lacks {needed}: {report}"
        );
    }
    assert!(!report.contains(&p.email), "no member's data in the report");
    t.app
        .record_incident_report(&staff(), attack)
        .await
        .unwrap();
    assert!(matches!(
        t.app.record_incident_report(&staff(), attack).await,
        Err(CoreError::Conflict(_))
    ));
    let v = t.app.incident_view(attack).await.unwrap();
    assert!(!v.pending && !v.overdue(t.app.clock().now()));
    let rows = t.app.store().audit_rows(0, 10_000).await.unwrap();
    for action in ["breach.report", "breach.reported"] {
        assert!(rows.iter().any(|r| r.action == action), "{action} audited");
    }

    // Confirmed since the members were told of the possibility: they are told again, once
    // (R-BRE-03), and until then it is pending.
    t.app
        .set_incident_state(&staff(), attack, CONFIRMED)
        .await
        .unwrap();
    let v = t.app.incident_view(attack).await.unwrap();
    assert!(v.needs_followup && v.pending);
    let before = smtp.messages().len();
    t.app.notify_incident(&staff(), attack).await.unwrap();
    assert!(matches!(
        t.app.notify_incident(&staff(), attack).await,
        Err(CoreError::Conflict(_))
    ));
    run_jobs(&t, 10).await;
    let mails = smtp.wait_for(before + 1, StdDuration::from_secs(20));
    let confirmation = mails
        .iter()
        .find(|m| m.subject().contains("유출 확인 통지"))
        .expect("the confirmation");
    let text = confirmation.text_body();
    assert!(text.contains("실제로 유출된 것으로 확인"), "{text}");
    assert!(text.contains("1833-6972") && text.contains("전자우편 주소"));
    let v = t.app.incident_view(attack).await.unwrap();
    assert_eq!(v.followup.map(|f| f.sent), Some(1));
    assert!(!v.needs_followup && !v.pending);
    // A breach notified as confirmed is not told twice.
    assert!(matches!(
        t.app.notify_incident(&staff(), rrn).await.and(Ok(())),
        Ok(())
    ));
    assert!(matches!(
        t.app.notify_incident(&staff(), rrn).await,
        Err(CoreError::Conflict(_))
    ));
}

/// Issue 17's done-means: a breach of 1,200 members gives 1,200 notices and a prepared report
/// (1,000 or more people), with the clock.
async fn a_breach_of_1200_members_sends_1200_notices_and_prepares_the_report(b: Backend) {
    const N: usize = 1200;
    // The members join before mail is set up (no welcome letters to wait for), then the same
    // installation opens with the test SMTP server.
    let smtp = TestSmtp::start();
    let mut t = TestApp::on(b, "lifeplan-seed").await;
    for n in 0..N {
        let p = person(1000 + n as u32);
        t.app.sign_up(seed_signup(&p)).await.unwrap();
    }
    t.cfg.mail = Some(jikimi_testkit::smtp_mail(&smtp));
    t.app = t.reopen("lifeplan-seed").await;

    let id = t
        .app
        .record_incident(&staff(), incident(&t, &["email"], Scope::All))
        .await
        .unwrap();
    let v = t.app.incident_view(id).await.unwrap();
    assert_eq!(v.row.affected, N as i64);
    assert_eq!(v.report_reasons, vec![ReportReason::Many(N as i64)]);
    assert!(v.pending);
    assert_eq!(v.hours_left(t.app.clock().now()), 70);

    t.app.notify_incident(&staff(), id).await.unwrap();
    run_jobs(&t, 10_000).await;
    let mails = smtp.wait_for(N, StdDuration::from_secs(180));
    let mut told: Vec<String> = mails
        .iter()
        .filter(|m| m.subject().contains("개인정보 유출 통지"))
        .map(|m| m.header("To").unwrap_or_default())
        .collect();
    assert_eq!(told.len(), N, "one notice per member");
    told.sort();
    told.dedup();
    assert_eq!(told.len(), N, "each member once");
    let v = t.app.incident_view(id).await.unwrap();
    assert_eq!(v.progress.notified, N as i64);
    assert_eq!(v.progress.sent, N as i64);

    let report = t.app.incident_report(&staff(), id).await.unwrap();
    assert!(report.contains("정보주체의 수: 1200명"), "{report}");
    assert!(report.contains("1천 명 이상"), "{report}");
    assert!(report.contains("전자우편 발송 1200명"), "{report}");
}
