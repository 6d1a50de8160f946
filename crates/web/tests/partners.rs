//! Provision to a partner in the browser (issue 17; S9, S15): a manager opens the office's
//! partner page, is refused a provision before the members were told, tells and asks every
//! member (the mail reaches the test SMTP server); the member reads it, gives the consent on My
//! page, and after the provision sees on My page and over the API who received which items;
//! the member's correction reaches the partner (a local Standard Webhooks receiver) and the
//! office sees it acknowledged. Both widths, both languages.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use anyhow::{Context as _, ensure};
use fantoccini::Locator;
use jikimi_core::staff::Role;
use jikimi_testkit::partner::FakePartner;
use jikimi_testkit::smtp::TestSmtp;
use jikimi_testkit::{Backend, person};
use support::steps::{click, enrolled, fill, login, next_code, office_login, wait_path};

jikimi_testkit::backend_tests!(the_office_asks_provides_and_the_member_sees_who_received_the_data);

async fn the_office_asks_provides_and_the_member_sees_who_received_the_data(b: Backend) {
    let smtp = TestSmtp::start();
    let fake = FakePartner::start();
    let setup = support::Setup {
        mail: Some(jikimi_testkit::smtp_mail(&smtp)),
        policy: Some(jikimi_testkit::lifeplan_partner()),
        partners: Some(jikimi_testkit::partner_transport(&fake)),
        ..support::Setup::default()
    };
    support::run_setup("partners", "lifeplan", b, setup, async |s| {
        let app = &s.site.app;
        let p = person(733);
        let member = app.sign_up(jikimi_testkit::lifeplan_signup(&p)).await?;
        app.run_jobs_once().await?;

        // The office: nothing provided before the members are told and asked (S15).
        let secret = enrolled(s, "kim.manager", Role::Manager).await;
        office_login(s, "kim.manager", &next_code(s, &secret)).await?;
        click(s, "#to-partners").await?;
        wait_path(s, "/office/partners").await?;
        ensure!(s.text_of("#consenting-insurer").await? == "0");
        ensure!(s.text_of("#asked-insurer").await?.contains("아직"));
        s.submit("#provide-insurer").await?;
        let notice = s.text_of("#notice").await?;
        ensure!(notice.contains("먼저 회원에게"), "{notice}");
        s.check_page("office-partners-first").await?;
        click(s, "#ask-insurer").await?;
        s.visible_text("동의 요청을 보내기 시작했습니다").await?;
        for _ in 0..3 {
            app.run_jobs_once().await?;
        }
        let mails = smtp.wait_for(2, Duration::from_secs(20));
        let ask = mails
            .iter()
            .find(|m| m.subject().contains("제3자 제공"))
            .context("the member is told and asked by e-mail")?;
        ensure!(ask.header("To").unwrap_or_default() == p.email);
        let text = ask.text_body();
        ensure!(
            text.contains("가나다보험") && text.contains("이동전화번호"),
            "{text}"
        );
        s.client().refresh().await?;
        ensure!(!s.text_of("#asked-insurer").await?.contains("아직"));

        // The member: nobody has received anything; the consent, given on My page.
        s.client().delete_all_cookies().await?;
        login(s, &p).await?;
        s.visible(Locator::Css("#no-recipients")).await?;
        // The mail's link: the consent's facts (R-CON-04: the recipient, its purpose, the
        // items, the retention), then the consent.
        let link = text
            .lines()
            .find(|l| l.contains("/mypage/consents/"))
            .context("the mail links to the consent")?;
        let path = &link[link.find("/mypage/").unwrap_or(0)..];
        s.goto(path.trim()).await?;
        let facts = s.text_of("main").await?;
        ensure!(
            facts.contains("가나다보험")
                && facts.contains("보험 상품을 안내")
                && facts.contains("이동전화번호"),
            "{facts}"
        );
        s.check_page("consent-third-party").await?;
        s.submit("#give").await?;
        s.visible(Locator::Css("#notice")).await?;
        s.goto("/mypage").await?;
        let row = s.text_of("#consent-third_party").await?;
        ensure!(
            row.contains("동의 철회"),
            "given, so it can be withdrawn: {row}"
        );

        // The office provides; the delivery leaves and is acknowledged.
        s.client().delete_all_cookies().await?;
        office_login(s, "kim.manager", &next_code(s, &secret)).await?;
        click(s, "#to-partners").await?;
        wait_path(s, "/office/partners").await?;
        ensure!(s.text_of("#consenting-insurer").await? == "1");
        click(s, "#provide-insurer").await?;
        s.visible_text("1명의 정보 제공을 시작했습니다").await?;
        for _ in 0..3 {
            app.run_jobs_once().await?;
        }
        let got = fake.received();
        ensure!(got.len() == 1, "{got:?}");
        ensure!(got[0].body["items"]["email"] == p.email.as_str());
        s.client().refresh().await?;
        let table = s.text_of("#deliveries-insurer").await?;
        ensure!(
            table.contains("제공") && table.contains("확인됨"),
            "{table}"
        );
        s.check_page("office-partners").await?;

        // The member sees who received which items, on My page and over the API.
        s.client().delete_all_cookies().await?;
        login(s, &p).await?;
        let table = s.text_of("#recipient-table").await?;
        ensure!(
            table.contains("가나다보험")
                && table.contains("성명")
                && table.contains("전자우편")
                && table.contains("확인됨"),
            "{table}"
        );
        s.check_page("mypage-recipients").await?;
        s.goto("/mypage?lang=en").await?;
        let table = s.text_of("#recipient-table").await?;
        ensure!(
            table.contains("Ganada Insurance") && table.contains("Confirmed"),
            "{table}"
        );
        s.check_page("mypage-recipients-en").await?;
        s.goto("/mypage?lang=ko").await?;
        let recipients = app.member_recipients(member).await?;
        ensure!(recipients.len() == 1 && recipients[0].acknowledged);

        // A correction of the e-mail address reaches the partner (S9).
        s.goto("/mypage/edit").await?;
        fill(s, "#f-email", "moved.733@example.com").await?;
        s.submit("#save").await?;
        s.visible(Locator::Css("#notice")).await?;
        for _ in 0..3 {
            app.run_jobs_once().await?;
        }
        let got = fake.received();
        let correction = got
            .iter()
            .find(|r| r.body["type"] == "correction")
            .context("the correction reached the partner")?;
        ensure!(correction.body["items"]["email"] == "moved.733@example.com");
        s.goto("/mypage").await?;
        let table = s.text_of("#recipient-table").await?;
        ensure!(table.contains("정정 알림"), "{table}");

        // The office sees the correction acknowledged.
        s.client().delete_all_cookies().await?;
        office_login(s, "kim.manager", &next_code(s, &secret)).await?;
        click(s, "#to-partners").await?;
        wait_path(s, "/office/partners").await?;
        s.goto("/office/partners?lang=en").await?;
        let table = s.text_of("#deliveries-insurer").await?;
        ensure!(
            table.contains("Correction") && table.contains("Acknowledged"),
            "{table}"
        );
        s.check_page("office-partners-en").await?;
        Ok(())
    })
    .await;
}
