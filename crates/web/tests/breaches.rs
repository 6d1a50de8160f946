//! The breach register in the browser (issue 17; PIPA Art. 34, R-BRE-01..03): a manager
//! records an incident whose members are those one account read (the audit chain) — first with
//! mistakes, named in Korean with what was typed kept — sees its 72-hour clock on the incident
//! and on the dashboard, tells the members (the notice reaches the test SMTP server), records a
//! second incident from outside (the report is required), prepares the report and records it as
//! submitted; after 72 hours the dashboard shows the clock run out. Both widths, both languages.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use anyhow::{Context as _, ensure};
use fantoccini::Locator;
use jikimi_core::Actor;
use jikimi_core::staff::Role;
use jikimi_testkit::smtp::TestSmtp;
use jikimi_testkit::{Backend, person};
use support::steps::{click, enrolled, fill, next_code, office_login, wait_path};

jikimi_testkit::backend_tests!(
    the_office_records_a_breach_tells_the_members_and_prepares_the_report
);

/// Sets an input's value by script (date and time inputs differ across locales).
async fn set_value(s: &support::Session, css: &str, value: &str) -> anyhow::Result<()> {
    let el = s.visible(Locator::Css(css)).await?;
    s.client()
        .execute(
            "arguments[0].value = arguments[1];",
            vec![serde_json::to_value(&el)?, serde_json::Value::from(value)],
        )
        .await?;
    Ok(())
}

fn kst_input(at: chrono::DateTime<chrono::Utc>) -> String {
    (at + chrono::Duration::hours(9))
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

async fn facts(s: &support::Session, title: &str) -> anyhow::Result<()> {
    fill(s, "#title", title).await?;
    fill(
        s,
        "#occurred",
        "12월 2일 오전, 상담 계정으로 회원 주소가 조회되었습니다.",
    )
    .await?;
    fill(s, "#cause", "상담 직원 계정의 비밀번호 유출").await?;
    fill(
        s,
        "#measures",
        "계정을 잠그고 비밀번호를 모두 바꾸었습니다.",
    )
    .await?;
    fill(s, "#advice", "의심스러운 우편물과 전화에 주의해 주세요.").await?;
    Ok(())
}

async fn the_office_records_a_breach_tells_the_members_and_prepares_the_report(b: Backend) {
    let smtp = TestSmtp::start();
    let setup = support::Setup {
        mail: Some(jikimi_testkit::smtp_mail(&smtp)),
        ..support::Setup::default()
    };
    support::run_setup("breaches", "lifeplan-seed", b, setup, async |s| {
        let app = &s.site.app;
        let (pa, pb) = (person(811), person(812));
        let a = app.sign_up(jikimi_testkit::seed_signup(&pa)).await?;
        let bee = app.sign_up(jikimi_testkit::seed_signup(&pb)).await?;
        for _ in 0..3 {
            app.run_jobs_once().await?;
        }
        let welcomes = smtp.wait_for(2, Duration::from_secs(20)).len();
        // The account whose reads are the cause reads member A only.
        let purpose = app.policy().item("address").context("address")?.purposes[0].clone();
        let from = app.clock().now() - chrono::Duration::minutes(30);
        app.reveal(
            &Actor::Service("crm".into()),
            None,
            a,
            &["address"],
            &purpose,
        )
        .await?;
        let to = app.clock().now() + chrono::Duration::minutes(30);

        let secret = enrolled(s, "yoon.manager", Role::Manager).await;
        office_login(s, "yoon.manager", &next_code(s, &secret)).await?;
        ensure!(
            s.client()
                .find(Locator::Css("#dash-breaches"))
                .await
                .is_err(),
            "no incident yet"
        );
        click(s, "#to-breaches").await?;
        wait_path(s, "/office/breaches").await?;
        s.visible(Locator::Css("#no-incidents")).await?;
        s.check_page("office-breaches-empty").await?;

        // Mistakes: no item ticked, no account named. Both named; what was typed is kept.
        facts(s, "상담 계정 도용").await?;
        click(s, "#scope-reads").await?;
        set_value(s, "#window", &kst_input(from)).await?;
        set_value(s, "#to", &kst_input(to)).await?;
        s.submit("#record").await?;
        let errors = s.text_of("#errors").await?;
        ensure!(
            errors.contains("유출된 항목") && errors.contains("계정"),
            "{errors}"
        );
        let kept = s
            .client()
            .find(Locator::Css("#title"))
            .await?
            .prop("value")
            .await?
            .unwrap_or_default();
        ensure!(kept == "상담 계정 도용", "title kept: {kept}");
        ensure!(app.incidents().await?.is_empty(), "nothing recorded");
        s.check_page("office-breaches-errors").await?;

        // Right: the members that account read.
        click(s, "#item-address").await?;
        click(s, "#item-name").await?;
        fill(s, "#actor", "service:crm").await?;
        s.submit("#record").await?;
        ensure!(s.text_of("#notice").await?.contains("사고를 기록했습니다"));
        ensure!(s.text_of("#affected").await? == "1", "member A only");
        ensure!(s.text_of("#scope").await?.contains("service:crm"));
        let clock = s.text_of("#clock").await?;
        ensure!(clock.contains("72시간 남음"), "{clock}");
        ensure!(s.text_of("#report-state").await?.contains("해당 없음"));
        s.check_page("office-breach").await?;

        // The dashboard shows the clock.
        click(s, "a.brand").await?;
        wait_path(s, "/office").await?;
        let dash = s.text_of("#dash-breaches").await?;
        ensure!(
            dash.contains("상담 계정 도용") && dash.contains("72시간 남음"),
            "{dash}"
        );
        click(s, "#dash-breaches a").await?;
        s.visible(Locator::Css("#notify")).await?;

        // Tell the members: the notice goes to A, with the five items and the remedies.
        s.submit("#notify").await?;
        ensure!(s.text_of("#notice").await?.contains("통지를 시작했습니다"));
        for _ in 0..4 {
            app.run_jobs_once().await?;
        }
        let mails = smtp.wait_for(welcomes + 1, Duration::from_secs(20));
        let notices: Vec<_> = mails
            .iter()
            .filter(|m| m.subject().contains("개인정보 유출"))
            .collect();
        ensure!(notices.len() == 1, "one member told: {}", notices.len());
        ensure!(notices[0].header("To").unwrap_or_default() == pa.email);
        let text = notices[0].text_body();
        for needed in [
            "성명, 주소",
            "상담 계정으로",
            "1833-6972",
            "privacy-manager@example.com",
        ] {
            ensure!(text.contains(needed), "the notice lacks {needed}");
        }
        s.goto(&s.current_path().await?).await?;
        let told = s.text_of("#notices").await?;
        ensure!(told.contains("1명 중 1명 발송"), "{told}");
        ensure!(
            s.client().find(Locator::Css("#notify")).await.is_err(),
            "sent once"
        );

        // A second incident, from outside, every member: the report is required.
        click(s, "#to-register").await?;
        wait_path(s, "/office/breaches").await?;
        facts(s, "웹 서버 침입 의심").await?;
        click(s, "#item-email").await?;
        click(s, "#outside_attack").await?;
        click(s, "#scope-all").await?;
        s.submit("#record").await?;
        ensure!(s.text_of("#affected").await? == "2");
        // Member B leaves afterwards: the e-mail cannot reach B.
        app.withdraw(&Actor::Member(bee), bee, "test").await?;
        let reasons = s.text_of("#reasons").await?;
        ensure!(reasons.contains("해킹"), "{reasons}");
        ensure!(s.text_of("#state").await?.contains("의심"));
        click(s, "#to-report").await?;
        let report = s.text_of("#report").await?;
        for needed in [
            "개인정보 유출 등 신고서",
            "정보주체의 수: 2명",
            "외부로부터의 불법적인 접근",
            "아직 통지하지 않음",
        ] {
            ensure!(
                report.contains(needed),
                "the report lacks {needed}: {report}"
            );
        }
        ensure!(!report.contains(&pa.email) && !report.contains(&pb.email));
        s.check_page("office-breach-report").await?;
        click(s, "#to-incident").await?;
        s.submit("#reported").await?;
        ensure!(
            s.text_of("#notice")
                .await?
                .contains("신고 완료를 기록했습니다")
        );
        ensure!(s.text_of("#report-state").await?.contains("신고 완료"));
        s.submit("#confirm").await?;
        ensure!(s.text_of("#state").await? == "유출 확인");

        // English.
        s.goto("/office/breaches?lang=en").await?;
        ensure!(s.text_of("h1").await? == "Breach register");
        ensure!(s.text_of("#incidents").await?.contains("Confirmed"));
        s.check_page("office-breaches-en").await?;
        s.goto("/office/breaches?lang=ko").await?;

        // 73 hours on: the second incident's members were never told — overdue on the
        // dashboard.
        // (The console logged the manager out meanwhile: idle.)
        s.site.clock.advance(chrono::Duration::hours(73));
        s.goto("/office").await?;
        if s.client()
            .find(Locator::Css("#dash-breaches"))
            .await
            .is_err()
        {
            office_login(s, "yoon.manager", &next_code(s, &secret)).await?;
        }
        let dash = s.text_of("#dash-breaches").await?;
        ensure!(dash.contains("기한이"), "{dash}");
        s.check_page("office-dashboard-breach-overdue").await?;

        // Told late; B is not reached: the notice goes on the website instead.
        click(s, "#dash-breaches li.bad a").await?;
        s.submit("#notify").await?;
        for _ in 0..4 {
            app.run_jobs_once().await?;
        }
        s.goto(&s.current_path().await?).await?;
        let unreached = s.text_of("#unreached").await?;
        ensure!(unreached.contains("1명"), "{unreached}");
        s.check_page("office-breach-unreached").await?;
        s.submit("#post").await?;
        ensure!(s.text_of("#notice").await?.contains("게시했습니다"));
        ensure!(s.text_of("#posted").await?.contains("게시하고 있습니다"));
        // The public posting: the five items and the remedies, no member's data.
        s.goto("/breach-notices").await?;
        let posted = s.text_of(".breach-notice .prewrap").await?;
        for needed in ["전자우편 주소", "1833-6972", "privacy-manager@example.com"] {
            ensure!(posted.contains(needed), "the posting lacks {needed}");
        }
        ensure!(!posted.contains(&pa.email) && !posted.contains(&pb.email));
        s.check_page("breach-notices").await?;
        s.submit("#lang-switch").await?;
        ensure!(
            s.text_of(".breach-notice .prewrap")
                .await?
                .contains("The items leaked")
        );
        s.check_page("breach-notices-en").await?;

        // The first incident, told while suspected, is confirmed: the members are told again.
        let first = app
            .incidents()
            .await?
            .into_iter()
            .find(|v| v.row.title == "상담 계정 도용")
            .context("the first incident")?
            .row
            .id;
        s.goto(&format!("/office/breaches/{first}?lang=ko")).await?;
        s.submit("#confirm").await?;
        let due = s.text_of("#notices").await?;
        ensure!(due.contains("확인 통지 필요"), "{due}");
        ensure!(s.text_of("#notify").await? == "확인 통지하기");
        s.check_page("office-breach-followup").await?;
        let before = smtp.messages().len();
        s.submit("#notify").await?;
        for _ in 0..4 {
            app.run_jobs_once().await?;
        }
        let mails = smtp.wait_for(before + 1, Duration::from_secs(20));
        let confirmation = mails
            .iter()
            .find(|m| m.subject().contains("유출 확인 통지"))
            .context("the confirmation mail")?;
        ensure!(confirmation.header("To").unwrap_or_default() == pa.email);
        Ok(())
    })
    .await;
}
