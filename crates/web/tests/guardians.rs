//! A child under 14 joins with a guardian's consent, in the browser (issue 16, S13): the child is
//! stopped by the age gate, asks a guardian (a wrong number named; nothing stored about the child
//! before), waits (refresh); the guardian gets a text message, opens the link, passes 본인확인,
//! reads the notice and consents (a missing relationship named); the child goes on, verifies and
//! joins, and logs in. On the seed profile the guardian gets an e-mail (the test SMTP server) and
//! refuses, and the request is gone.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;

use anyhow::{Context as _, ensure};
use chrono::NaiveDate;
use fantoccini::Locator;
use jikimi_core::Clock;
use jikimi_core::identity::SmsOutbox;
use jikimi_core::sms::{SandboxSms, SmsSetup};
use jikimi_testkit::smtp::TestSmtp;
use jikimi_testkit::{Backend, Person, person, person_born};
use support::Setup;
use support::steps::{account_fields, click, fill, login, seed_details, wait_path};

jikimi_testkit::backend_tests!(
    a_child_asks_the_guardian_consents_after_verifying_and_the_child_joins,
    a_seed_guardian_is_mailed_and_refuses,
    a_request_nobody_answers_is_gone_after_5_days,
);

/// A child of 10 on the tests' day (2026-12-02).
fn child(seed: u32) -> Person {
    person_born(seed, NaiveDate::from_ymd_opt(2016, 3, 1).unwrap())
}

/// The path and query of the guardian's link in a message.
fn link_in(text: &str) -> anyhow::Result<String> {
    let at = text.find("/guardian?t=").context("a guardian link")?;
    Ok(text[at..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect())
}

/// The sign-up's 본인확인 with the sandbox, up to the code.
async fn identity(s: &support::Session, p: &Person) -> anyhow::Result<()> {
    fill(s, "#name", &p.name).await?;
    fill(s, "#birth_date", &p.birth.format("%Y%m%d").to_string()).await?;
    fill(s, "#mobile", &p.mobile).await?;
    click(s, "#send-code").await?;
    s.visible(Locator::Css("#code")).await?;
    let outbox = s.site.app.sandbox_outbox().context("sandbox")?;
    let code = outbox.last_code_for(&p.mobile).context("the SMS code")?;
    fill(s, "#code", &code).await?;
    click(s, "#verify").await
}

/// A site whose text messages land in the returned sandbox outbox.
fn texting() -> (Arc<SmsOutbox>, Setup) {
    let texts = Arc::new(SmsOutbox::default());
    let setup = Setup {
        sms: Some(SmsSetup {
            transport: Arc::new(SandboxSms::new(texts.clone())),
            from: "0200000000".into(),
        }),
        ..Setup::default()
    };
    (texts, setup)
}

/// Rows that could hold something about a person.
async fn personal_rows(s: &support::Session) -> Vec<(String, i64)> {
    s.site
        .row_counts()
        .await
        .into_iter()
        .filter(|(t, _)| t != "rate_limits")
        .collect()
}

async fn a_child_asks_the_guardian_consents_after_verifying_and_the_child_joins(b: Backend) {
    let (texts, setup) = texting();
    support::run_setup("guardians", "lifeplan", b, setup, async |s| {
        let kid = child(701);
        let mum = person(702);
        let before = personal_rows(s).await;

        // The child signs up and is stopped by the age gate; nothing about them is stored.
        s.goto("/signup").await?;
        click(s, "#next").await?;
        identity(s, &kid).await?;
        wait_path(s, "/signup/guardian").await?;
        s.visible(Locator::Css("#child-notice")).await?;
        ensure!(
            personal_rows(s).await == before,
            "nothing stored for a child"
        );
        s.check_page("child-ask").await?;
        // Only the child's name and the guardian's name and number are asked (R-CHD-03).
        let inputs = s
            .client()
            .find_all(Locator::Css("form input[name^='item.']"))
            .await?;
        let mut names = Vec::new();
        for i in inputs {
            names.push(i.attr("name").await?.unwrap_or_default());
        }
        names.sort();
        ensure!(
            names
                == [
                    "item.child_name",
                    "item.guardian_mobile",
                    "item.guardian_name"
                ],
            "{names:?}"
        );
        fill(s, "#f-child_name", &kid.name).await?;
        fill(s, "#f-guardian_name", &mum.name).await?;
        fill(s, "#f-guardian_mobile", "010-12").await?;
        s.submit("#ask").await?;
        let errors = s.text_of(".errors").await?;
        ensure!(errors.contains("법정대리인 휴대전화번호"), "{errors}");
        ensure!(
            personal_rows(s).await == before,
            "a refused request writes nothing"
        );
        fill(s, "#f-guardian_mobile", &mum.mobile).await?;
        click(s, "#ask").await?;
        wait_path(s, "/signup/guardian/wait").await?;
        s.visible_text("보호자에게 알렸어요").await?;
        s.client().refresh().await?;
        s.visible_text("보호자에게 알렸어요").await?;
        s.check_page("child-wait").await?;

        // The guardian's text message, and the link.
        while s.site.app.run_jobs_once().await? > 0 {}
        let to = jikimi_kr::Phone::parse(&mum.mobile)?.e164().to_owned();
        let text = texts
            .messages()
            .into_iter()
            .rfind(|m| m.to == to)
            .context("the guardian's text message")?
            .text;
        ensure!(text.contains(&kid.name), "{text}");
        let link = link_in(&text)?;
        s.goto(&link).await?;
        wait_path(s, "/guardian").await?;
        let intro = s.text_of("#guardian-request").await?;
        ensure!(intro.contains(&kid.name), "{intro}");
        s.check_page("guardian-start").await?;
        click(s, "#verify-guardian").await?;
        wait_path(s, "/guardian/identity").await?;
        identity(s, &mum).await?;
        wait_path(s, "/guardian").await?;
        s.visible(Locator::Css("#notice")).await?;
        s.visible(Locator::Css("#c-optional_items")).await?;
        s.check_page("guardian-consent").await?;
        click(s, "#c-optional_items").await?;
        click(s, "#agree").await?;
        // The relationship is required: the browser stops an empty choice, or the page names it.
        if s.current_path().await? == "/guardian"
            && s.client().find(Locator::Css(".errors")).await.is_ok()
        {
            let errors = s.text_of(".errors").await?;
            ensure!(errors.contains("아동과의 관계"), "{errors}");
        }
        // (If the page is still being replaced by the server's answer, choose on the new one.)
        let mut tries = 0;
        loop {
            // (Waits for the field to be displayed: the page may be between documents.)
            let choice = s.visible(Locator::Css("#f-guardian_relationship")).await?;
            match choice.select_by_value("parent").await {
                Ok(_) => break,
                Err(e) if tries < 20 && support::is_stale(&e) => {
                    tries += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(e) => return Err(e).context("choosing the relationship"),
            }
        }
        if !s
            .client()
            .find(Locator::Css("#c-optional_items"))
            .await?
            .is_selected()
            .await?
        {
            click(s, "#c-optional_items").await?;
        }
        click(s, "#agree").await?;
        s.visible_text("동의해 주셔서 감사합니다").await?;
        s.check_page("guardian-thanks").await?;

        // The child goes on: 본인확인 again, the details, joined; then logs in.
        s.goto("/signup/guardian/wait").await?;
        s.visible_text("보호자가 동의했어요").await?;
        s.client()
            .find(Locator::LinkText("가입 계속하기"))
            .await?
            .click()
            .await?;
        wait_path(s, "/signup/identity").await?;
        identity(s, &kid).await?;
        wait_path(s, "/signup/details").await?;
        // The guardian agreed to the optional items: they are offered.
        s.visible(Locator::Css("#f-postal_code")).await?;
        account_fields(s, &kid).await?;
        fill(s, "#f-email", &kid.email).await?;
        click(s, "#join").await?;
        s.visible_text("가입을 마쳤습니다")
            .await
            .context("joined")?;
        login(s, &kid).await?;
        let note = s.text_of("#guardian-consent").await?;
        ensure!(
            note.contains("보호자(법정대리인)가") && note.contains("본인확인"),
            "{note}"
        );
        s.check_page("child-mypage").await?;
        // Giving a consent is the guardian's until 14: the page says so and changes nothing.
        s.client()
            .find(Locator::Css("#consent-marketing button"))
            .await
            .context("the marketing consent's button")?
            .click()
            .await?;
        s.visible_text("보호자(법정대리인)가 동의해야 해요").await?;
        let member = s
            .site
            .app
            .find_member(&kid.login_id)
            .await?
            .context("the child is a member")?;
        let record = s
            .site
            .app
            .member_guardian(member)
            .await?
            .context("the guardian's consent is recorded")?;
        ensure!(
            record.method == Some(jikimi_core::guardians::GuardianMethod::MobileIdentity),
            "{record:?}"
        );
        for clear in [&kid.name, &mum.name] {
            ensure!(
                s.site.find_bytes(clear.as_bytes()).await.is_none(),
                "{clear} in the clear"
            );
        }

        // The guardian comes back on another device: verified again, then the child's data.
        s.client().delete_all_cookies().await?;
        s.goto("/guardian/child").await?;
        s.check_page("guardian-child-start").await?;
        click(s, "#gc-verify").await?;
        wait_path(s, "/guardian/child/identity").await?;
        identity(s, &mum).await?;
        wait_path(s, "/guardian/child").await?;
        fill(s, "#login_id", "nobody-here").await?;
        s.submit("#gc-open").await?;
        let errors = s.text_of(".errors").await?;
        ensure!(
            errors.contains("법정대리인으로 확인되지 않습니다"),
            "{errors}"
        );
        // The verification was used: verify again, then the right login ID.
        click(s, "#gc-verify").await?;
        identity(s, &mum).await?;
        wait_path(s, "/guardian/child").await?;
        fill(s, "#login_id", &kid.login_id).await?;
        click(s, "#gc-open").await?;
        s.visible(Locator::Css("#acting")).await?;
        let items = s.text_of("#child-items").await?;
        ensure!(items.contains("@example.com"), "{items}");
        ensure!(!items.contains(&kid.email), "masked as on My page: {items}");
        s.check_page("guardian-child").await?;
        // A wrong value is named; a right one saved, as the guardian.
        fill(s, "#f-phone", "02-123").await?;
        s.submit("#save").await?;
        let errors = s.text_of(".errors").await?;
        ensure!(errors.contains("일반전화번호"), "{errors}");
        fill(s, "#f-phone", "").await?;
        fill(s, "#f-email", "kid-new@example.com").await?;
        click(s, "#save").await?;
        s.visible_text("저장했습니다").await?;
        s.submit("#gc-toggle-optional_items").await?;
        s.visible(Locator::Css("#notice")).await?;
        // Ending the membership needs the box ticked (the browser stops it otherwise).
        click(s, "#gc-confirm").await?;
        click(s, "#gc-withdraw").await?;
        s.visible_text("자녀의 회원탈퇴를 마쳤습니다").await?;
        s.check_page("guardian-child-withdrawn").await?;
        ensure!(
            s.site.app.find_member(&kid.login_id).await?.is_none(),
            "the child is no longer a member"
        );
        let log = s.site.app.store().audit_rows(0, 100_000).await?;
        let guardian = log
            .iter()
            .find(|e| e.action == "member.withdraw")
            .context("the withdrawal is audited")?;
        ensure!(
            guardian.actor.starts_with("guardian:"),
            "{}",
            guardian.actor
        );
        // R-POL-03: every cookie these steps set is in the policy's table, the guardian's
        // three among them.
        let declared: std::collections::BTreeSet<String> = s
            .site
            .app
            .policy()
            .cookies
            .iter()
            .map(|c| c.name.clone())
            .collect();
        let set = s.cookies_set();
        ensure!(
            set.is_subset(&declared),
            "set {set:?}, declared {declared:?}"
        );
        for c in ["jikimi_child", "jikimi_guardian", "jikimi_guardian_access"] {
            ensure!(set.contains(c), "{c} not set: {set:?}");
        }
        Ok(())
    })
    .await;
}

async fn a_seed_guardian_is_mailed_and_refuses(b: Backend) {
    let smtp = TestSmtp::start();
    let setup = Setup {
        mail: Some(jikimi_testkit::smtp_mail(&smtp)),
        ..Setup::default()
    };
    support::run_setup("guardians-seed", "lifeplan-seed", b, setup, async |s| {
        let kid = child(711);
        let dad = person(712);
        let mail_to = |to: &str| {
            smtp.messages()
                .into_iter()
                .rfind(|m| m.rcpt_tos.iter().any(|r| r == to))
                .map(|m| m.text_body())
        };

        // Another child's guardian refuses: the request is gone at once, the link spent.
        let other = person(713);
        let ask = [
            ("child_name", "정다운"),
            ("guardian_name", other.name.as_str()),
            ("guardian_email", other.email.as_str()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), jikimi_core::Revealed::new(v.to_owned())))
        .collect();
        s.site
            .app
            .ask_guardian(None, &ask, |t| format!("{}/guardian?t={t}", s.base_url))
            .await?;
        while s.site.app.run_jobs_once().await? > 0 {}
        let refused = link_in(&mail_to(&other.email).context("the other guardian's e-mail")?)?;
        s.goto(&refused).await?;
        wait_path(s, "/guardian").await?;
        // No 본인확인 here: the whole policy, the relationship, and the two answers.
        s.visible(Locator::Css("#policy-text")).await?;
        s.check_page("guardian-seed").await?;
        click(s, "#refuse").await?;
        s.visible_text("동의하지 않으셨습니다").await?;
        s.goto(&refused).await?;
        s.visible_text("이 주소는 더 이상 쓸 수 없습니다").await?;
        let records = s.site.app.store().destruction_records().await?;
        ensure!(
            records
                .iter()
                .any(|r| r.class == "guardian_consent" && r.event == "guardian_refusal"),
            "{records:?}"
        );
        s.client().delete_all_cookies().await?;

        // This child: the seed's form, the RRN says 10 years old.
        s.goto("/signup").await?;
        click(s, "#agree").await?;
        seed_details(s, &kid).await?;
        click(s, "#join").await?;
        wait_path(s, "/signup/guardian").await?;
        fill(s, "#f-child_name", &kid.name).await?;
        fill(s, "#f-guardian_name", &dad.name).await?;
        fill(s, "#f-guardian_email", &dad.email).await?;
        click(s, "#ask").await?;
        wait_path(s, "/signup/guardian/wait").await?;
        while s.site.app.run_jobs_once().await? > 0 {}
        let link = link_in(&mail_to(&dad.email).context("the guardian's e-mail")?)?;
        s.goto(&link).await?;
        wait_path(s, "/guardian").await?;
        s.client()
            .find(Locator::Css("#f-guardian_relationship"))
            .await?
            .select_by_value("parent")
            .await?;
        click(s, "#agree").await?;
        s.visible_text("동의해 주셔서 감사합니다").await?;

        // The child joins on it.
        s.goto("/signup/guardian/wait").await?;
        s.client()
            .find(Locator::LinkText("가입 계속하기"))
            .await?
            .click()
            .await?;
        wait_path(s, "/signup/details").await?;
        seed_details(s, &kid).await?;
        click(s, "#join").await?;
        s.visible_text("가입을 마쳤습니다")
            .await
            .context("joined")?;
        login(s, &kid).await?;
        let note = s.text_of("#guardian-consent").await?;
        ensure!(note.contains("전자우편으로 보낸 주소"), "{note}");

        // The guardian comes back through a link mailed to the address they consented through.
        s.client().delete_all_cookies().await?;
        s.goto("/guardian/child").await?;
        fill(s, "#login_id", &kid.login_id).await?;
        fill(s, "#email", &dad.email).await?;
        s.submit("#gc-open").await?;
        s.visible(Locator::Css("#notice")).await?;
        while s.site.app.run_jobs_once().await? > 0 {}
        let back = mail_to(&dad.email).context("the guardian's link back")?;
        let at = back.find("/guardian/child/open?t=").context("the link")?;
        let open: String = back[at..]
            .chars()
            .take_while(|c| !c.is_whitespace())
            .collect();
        s.goto(&open).await?;
        // Opening the link spends nothing (mail scanners open links); the button does.
        click(s, "#gc-link-go").await?;
        s.visible(Locator::Css("#acting")).await?;
        let items = s.text_of("#child-items").await?;
        // Masked, as My page shows them.
        ensure!(
            !items.contains(&kid.email) && items.contains("@example.com"),
            "{items}"
        );
        fill(s, "#f-address_detail", "202동 303호").await?;
        click(s, "#save").await?;
        s.visible_text("저장했습니다").await?;
        // The link works once.
        s.client().delete_all_cookies().await?;
        s.goto(&open).await?;
        click(s, "#gc-link-go").await?;
        s.visible_text("이미 썼거나 30분이 지났습니다").await?;

        // On the 14th birthday the child is told they are their own; nothing is lost.
        let birthday = NaiveDate::from_ymd_opt(2030, 3, 1).context("a date")?;
        let days = (birthday - s.site.clock.today_kst()).num_days();
        s.site.clock.advance(chrono::Duration::days(days));
        login(s, &kid).await?;
        let note = s.text_of("#guardian-consent").await?;
        ensure!(note.contains("이제 만 14세가 되어"), "{note}");
        s.check_page("now-14").await?;
        Ok(())
    })
    .await;
}

async fn a_request_nobody_answers_is_gone_after_5_days(b: Backend) {
    let (texts, setup) = texting();
    support::run_setup("guardians-expiry", "lifeplan", b, setup, async |s| {
        let kid = child(721);
        let mum = person(722);
        s.goto("/signup/guardian").await?;
        fill(s, "#f-child_name", &kid.name).await?;
        fill(s, "#f-guardian_name", &mum.name).await?;
        fill(s, "#f-guardian_mobile", &mum.mobile).await?;
        click(s, "#ask").await?;
        wait_path(s, "/signup/guardian/wait").await?;
        // In English too.
        s.goto("/signup/guardian/wait?lang=en").await?;
        s.visible_text("We told your parent or guardian").await?;
        s.goto("/signup/guardian/wait?lang=ko").await?;
        s.visible_text("보호자에게 알렸어요").await?;
        while s.site.app.run_jobs_once().await? > 0 {}
        let link = link_in(&texts.messages().last().context("the text message")?.text)?;

        // Five days pass without an answer; the daily purge destroys the request.
        s.site
            .clock
            .advance(chrono::Duration::days(5) + chrono::Duration::minutes(1));
        s.site
            .app
            .purge(&jikimi_core::Actor::System, false, &|_, _| {})
            .await?;
        s.client().refresh().await?;
        s.visible_text("보호자 동의 요청이 끝났어요").await?;
        s.check_page("child-expired").await?;
        s.goto(&link).await?;
        s.visible_text("이 주소는 더 이상 쓸 수 없습니다").await?;
        let records = s.site.app.store().destruction_records().await?;
        ensure!(
            records
                .iter()
                .any(|r| r.class == "guardian_consent" && r.event == "purge" && r.count == 1),
            "{records:?}"
        );
        ensure!(
            s.site.find_bytes(kid.name.as_bytes()).await.is_none(),
            "nothing of the child in the clear"
        );
        Ok(())
    })
    .await;
}
