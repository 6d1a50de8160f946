//! Mail in a real browser, going to a real SMTP server (issue 14): 아이디 찾기 and 비밀번호
//! 재설정 (a member who forgot the password asks from the login page, the mail arrives, its link
//! sets a new password, every old session ends; the login ID comes the same way), and a policy
//! change announced on /privacy, mailed to members, and in force on its date. Each page is
//! checked at 1280 and 390 px (fit, axe) with screenshots.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use anyhow::{Context, ensure};
use fantoccini::Locator;
use jikimi_core::Revealed;
use jikimi_testkit::smtp::TestSmtp;
use jikimi_testkit::{Backend, lifeplan_signup, person, seed_signup};
use support::steps::{click, fill, login, wait_path};

jikimi_testkit::backend_tests!(
    a_forgotten_password_is_reset_by_mail_and_old_sessions_end,
    a_forgotten_login_id_comes_by_mail,
    a_policy_change_is_announced_mailed_and_applies_on_its_date,
    on_lifeplan_a_forgotten_id_and_password_come_back_through_identity_verification,
    the_sandbox_mailbox_shows_what_would_have_been_sent,
);

const WAIT: Duration = Duration::from_secs(10);

/// The path and query of the reset link in a mail's text (the site's public address is the
/// policy's website; the browser opens the same path on the test server).
fn reset_path(text: &str) -> anyhow::Result<String> {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| l.contains("/recovery/reset?t="))
        .context("a reset link in the mail")?;
    let at = line.find("/recovery/").context("the link's path")?;
    Ok(line[at..].to_owned())
}

async fn a_forgotten_password_is_reset_by_mail_and_old_sessions_end(b: Backend) {
    let smtp = TestSmtp::start();
    support::run_with_smtp("recovery_password", "lifeplan-seed", b, &smtp, async |s| {
        let p = person(41);
        let app = &s.site.app;
        app.sign_up(seed_signup(&p)).await?;
        app.run_jobs_once().await?;
        smtp.wait_for(1, WAIT);
        // A session on another device.
        let other = app
            .login(&p.login_id, &Revealed::new(p.password.clone()))
            .await?;

        // From the login page, as a member who forgot would go.
        s.goto("/login").await?;
        click(s, "#forgot").await?;
        wait_path(s, "/recovery/password").await?;
        s.check_page("form").await?;

        // Blank login ID: named, nothing sent.
        fill(s, "#login_id", "  ").await?;
        fill(s, "#email", &p.email).await?;
        s.submit("#send").await?;
        let errors = s.text_of("#errors").await?;
        ensure!(errors.contains("아이디를 입력해 주세요"), "{errors}");
        // The e-mail typed is kept after the error.
        let kept = s
            .visible(Locator::Css("#email"))
            .await?
            .prop("value")
            .await?;
        ensure!(kept.as_deref() == Some(p.email.as_str()), "{kept:?}");

        // A wrong address: the same answer as a right one, and no mail.
        fill(s, "#login_id", &p.login_id).await?;
        fill(s, "#email", "someone-else@example.com").await?;
        s.submit("#send").await?;
        let wrong = s.text_of("#notice").await?;
        ensure!(
            app.run_jobs_once().await? == 0,
            "no mail for a wrong address"
        );

        fill(s, "#login_id", &p.login_id).await?;
        fill(s, "#email", &p.email).await?;
        s.submit("#send").await?;
        let right = s.text_of("#notice").await?;
        ensure!(
            wrong == right,
            "the answer tells nothing: {wrong:?} / {right:?}"
        );
        ensure!(right.contains("안내를 보냈습니다"), "{right}");
        s.check_page("sent").await?;
        app.run_jobs_once().await?;
        let mails = smtp.wait_for(2, WAIT);
        let mail = mails.last().context("the reset mail")?;
        ensure!(
            mail.rcpt_tos == vec![p.email.clone()],
            "{:?}",
            mail.rcpt_tos
        );
        ensure!(mail.subject() == "[라이프플랜] 비밀번호 재설정 안내");
        let path = reset_path(&mail.text_body())?;

        // The link opens the new-password form; different passwords are named.
        s.goto(&path).await?;
        s.check_page("reset").await?;
        fill(s, "#new_password", "Bibimbap-Evening-31").await?;
        fill(s, "#new_password_confirm", "Bibimbap-Evening-32").await?;
        s.submit("#save").await?;
        let errors = s.text_of("#errors").await?;
        ensure!(errors.contains("비밀번호 확인이 다릅니다"), "{errors}");
        // A reload keeps the form (the token waits in the sealed form cookie, not the URL).
        s.client().refresh().await?;
        s.visible(Locator::Css("#new_password")).await?;
        ensure!(
            !s.current_path().await?.contains("t="),
            "the token left the address bar after the first answer"
        );
        // In English after the switch.
        s.goto("/recovery/reset?lang=en").await?;
        let h1 = s.text_of("h1").await?;
        ensure!(h1 == "Set a new password", "{h1}");
        s.goto("/recovery/reset?lang=ko").await?;
        fill(s, "#new_password", "Bibimbap-Evening-31").await?;
        fill(s, "#new_password_confirm", "Bibimbap-Evening-31").await?;
        click(s, "#save").await?;
        wait_path(s, "/login").await?;
        let notice = s.text_of("#notice").await?;
        ensure!(notice.contains("비밀번호를 바꾸었습니다"), "{notice}");
        s.check_page("done").await?;

        // Every old session ended; the old password no longer works, the new one does.
        ensure!(
            app.session(other.token.expose()).await?.is_none(),
            "the other device's session ended"
        );
        ensure!(
            app.login(&p.login_id, &Revealed::new(p.password.clone()))
                .await
                .is_err()
        );
        let mut q = p.clone();
        q.password = "Bibimbap-Evening-31".into();
        login(s, &q).await?;

        // The link works once.
        s.goto(&path).await?;
        let invalid = s.text_of("#reset-invalid").await?;
        ensure!(invalid.contains("이미 썼거나"), "{invalid}");
        s.check_page("used").await?;
        // The member was told the password changed.
        app.run_jobs_once().await?;
        let mails = smtp.wait_for(3, WAIT);
        ensure!(
            mails
                .last()
                .is_some_and(|m| m.subject() == "[라이프플랜] 비밀번호가 바뀌었습니다")
        );
        Ok(())
    })
    .await;
}

async fn a_forgotten_login_id_comes_by_mail(b: Backend) {
    let smtp = TestSmtp::start();
    support::run_with_smtp("recovery_id", "lifeplan-seed", b, &smtp, async |s| {
        let p = person(42);
        let app = &s.site.app;
        app.sign_up(seed_signup(&p)).await?;
        app.run_jobs_once().await?;
        smtp.wait_for(1, WAIT);

        s.goto("/recovery/id").await?;
        s.check_page("form").await?;
        fill(s, "#email", "not-an-address").await?;
        // The browser's own check would stop a malformed address; the server names it too.
        s.client()
            .execute(
                "document.querySelector('#email').type = 'text'; return null;",
                vec![],
            )
            .await?;
        s.submit("#send").await?;
        let errors = s.text_of("#errors").await?;
        ensure!(errors.contains("전자우편"), "{errors}");
        fill(s, "#email", &p.email.to_uppercase()).await?;
        s.submit("#send").await?;
        let notice = s.text_of("#notice").await?;
        ensure!(notice.contains("안내를 보냈습니다"), "{notice}");
        app.run_jobs_once().await?;
        let mails = smtp.wait_for(2, WAIT);
        let m = mails.last().context("the login ID mail")?;
        ensure!(m.subject() == "[라이프플랜] 아이디 안내");
        ensure!(
            m.text_body().contains(&format!("아이디: {}", p.login_id)),
            "{}",
            m.text_body()
        );

        // In English after the switch, and the way to the other form.
        s.goto("/recovery/id?lang=en").await?;
        ensure!(s.text_of("h1").await? == "Find my login ID");
        s.check_page("form-en").await?;
        click(s, "#to-password").await?;
        wait_path(s, "/recovery/password").await?;
        ensure!(s.text_of("h1").await? == "Reset my password");
        Ok(())
    })
    .await;
}

/// The seed profile, its officer renamed, taking effect on 2027-01-01 (30 days after the test
/// clock's day), its change described and marked as to members' disadvantage.
fn next_seed_version() -> jikimi_policy::Policy {
    let src = jikimi_policy::Policy::builtin_source("lifeplan-seed")
        .unwrap()
        .replacen(
            "effective_date = 2026-12-01",
            "effective_date = 2027-01-01\nchange = { summary = { ko = \"개인정보 보호책임자가 바뀝니다.\", en = \"The privacy officer changes.\" }, disadvantage = true }",
            1,
        )
        .replacen("김지킴", "김지킴이", 1);
    jikimi_policy::Policy::from_toml_str(&src, "next.toml")
        .unwrap()
        .policy
}

/// R-POL-02: announced on /privacy with what changes, mailed to every member, in force on its
/// date without a restart (the injected clock), the old version still in the history.
async fn a_policy_change_is_announced_mailed_and_applies_on_its_date(b: Backend) {
    let smtp = TestSmtp::start();
    let setup = support::Setup {
        mail: Some(jikimi_testkit::smtp_mail(&smtp)),
        next: Some(next_seed_version()),
        ..support::Setup::default()
    };
    support::run_setup("policy_change", "lifeplan-seed", b, setup, async |s| {
        let app = &s.site.app;
        let (p, q) = (person(43), person(44));
        app.sign_up(seed_signup(&p)).await?;
        app.sign_up(seed_signup(&q)).await?;
        while app.run_jobs_once().await? > 0 {}
        let mails = smtp.wait_for(4, WAIT);
        let mut told: Vec<String> = mails
            .iter()
            .filter(|m| m.subject() == "[라이프플랜] 개인정보 처리방침 변경 안내")
            .map(|m| m.rcpt_tos[0].clone())
            .collect();
        told.sort();
        let mut both = vec![p.email.clone(), q.email.clone()];
        both.sort();
        ensure!(told == both, "both members told: {told:?}");

        s.goto("/privacy").await?;
        let note = s.text_of("#policy-announced").await?;
        ensure!(note.contains("2027-01-01"), "{note}");
        ensure!(note.contains("개인정보 보호책임자가 바뀝니다"), "{note}");
        ensure!(note.contains("30일 전부터"), "{note}");
        let page = s.text_of("main").await?;
        ensure!(
            !page.contains("김지킴이"),
            "the old text applies until the date"
        );
        s.check_page("announced").await?;
        s.goto("/privacy?lang=en").await?;
        let note = s.text_of("#policy-announced").await?;
        ensure!(
            note.contains("What changes: The privacy officer changes."),
            "{note}"
        );
        s.goto("/privacy?lang=ko").await?;

        // 00:00 KST on the date: the new version applies, without a restart.
        s.site
            .clock
            .set(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 12, 31, 15, 0, 0).unwrap());
        s.client().refresh().await?;
        ensure!(
            s.client()
                .find_all(Locator::Css("#policy-announced"))
                .await?
                .is_empty(),
            "no announcement once in force"
        );
        let page = s.text_of("main").await?;
        ensure!(page.contains("김지킴이"), "the new text applies");
        let versions = s.text_of("#version-list").await?;
        ensure!(
            versions.contains("2026-12-01") && versions.contains("이전 판"),
            "{versions}"
        );
        s.check_page("in-force").await?;
        // The earlier version is still there to read.
        // (The list is newest first: the earlier version is the last row.)
        click(s, "#version-list tbody tr:last-child a").await?;
        s.visible(Locator::Css("pre.wrap")).await?;
        let old = s.text_of("main").await?;
        ensure!(
            old.contains("김지킴") && !old.contains("김지킴이"),
            "the earlier text"
        );
        Ok(())
    })
    .await;
}

/// 본인확인 on the sandbox's phone, from the identity form to the code form's answer.
async fn verify_on_phone(s: &support::Session, p: &jikimi_testkit::Person) -> anyhow::Result<()> {
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

/// On `lifeplan` (members identified through 본인확인) a member who forgot both verifies their
/// identity again: the login ID is shown and a new password set; every old session ends and the
/// member is told by mail. Someone who never joined is told so.
async fn on_lifeplan_a_forgotten_id_and_password_come_back_through_identity_verification(
    b: Backend,
) {
    let smtp = TestSmtp::start();
    support::run_with_smtp("recovery_identity", "lifeplan", b, &smtp, async |s| {
        let p = person(45);
        let app = &s.site.app;
        // Joined through the sandbox's 본인확인, so the same person verifying again is found.
        let request = app
            .identity_request_from(
                None,
                jikimi_core::identity::IdentityRequest {
                    name: p.name.clone(),
                    birth_date: p.birth,
                    mobile: p.mobile.clone(),
                    carrier: jikimi_core::identity::Carrier::Skt,
                },
            )
            .await?;
        let outbox = app.sandbox_outbox().context("sandbox")?;
        let code = outbox.last_code_for(&p.mobile).context("the SMS code")?;
        let token = app.identity_confirm_from(None, &request, &code).await?;
        let mut join = lifeplan_signup(&p);
        join.identity = Some(app.identity_for(token.expose()).await?);
        app.sign_up(join).await?;
        app.run_jobs_once().await?;
        smtp.wait_for(1, WAIT);
        let other = app
            .login(&p.login_id, &Revealed::new(p.password.clone()))
            .await?;
        // No e-mail recovery on this profile: the address leads to 본인확인.
        s.goto("/recovery/password").await?;
        wait_path(s, "/recovery/identity").await?;

        s.goto("/login").await?;
        click(s, "#forgot").await?;
        wait_path(s, "/recovery/identity").await?;
        s.check_page("identity").await?;
        verify_on_phone(s, &p).await?;
        wait_path(s, "/recovery/found").await?;
        let shown = s.text_of("#found-login-id").await?;
        ensure!(shown == p.login_id, "{shown}");
        s.check_page("found").await?;
        fill(s, "#new_password", "Naengmyeon-Summer-58").await?;
        fill(s, "#new_password_confirm", "Naengmyeon-Summer-59").await?;
        s.submit("#save").await?;
        let errors = s.text_of("#errors").await?;
        ensure!(errors.contains("비밀번호 확인이 다릅니다"), "{errors}");
        // A reload keeps the verified identity (in the sealed form cookie only).
        s.client().refresh().await?;
        ensure!(s.text_of("#found-login-id").await? == p.login_id);
        fill(s, "#new_password", "Naengmyeon-Summer-58").await?;
        fill(s, "#new_password_confirm", "Naengmyeon-Summer-58").await?;
        click(s, "#save").await?;
        wait_path(s, "/login").await?;
        ensure!(
            s.text_of("#notice")
                .await?
                .contains("비밀번호를 바꾸었습니다")
        );
        ensure!(
            app.session(other.token.expose()).await?.is_none(),
            "old session ended"
        );
        let mut q = p.clone();
        q.password = "Naengmyeon-Summer-58".into();
        login(s, &q).await?;
        app.run_jobs_once().await?;
        let mails = smtp.wait_for(2, WAIT);
        ensure!(
            mails
                .last()
                .is_some_and(|m| m.subject() == "[라이프플랜] 비밀번호가 바뀌었습니다")
        );

        // Someone who never joined.
        s.goto("/logout").await.ok();
        s.client()
            .execute("document.cookie = ''; return null;", vec![])
            .await?;
        s.client().delete_all_cookies().await?;
        s.goto("/recovery/identity").await?;
        verify_on_phone(s, &person(46)).await?;
        wait_path(s, "/recovery/found").await?;
        ensure!(
            s.text_of("#found-none")
                .await?
                .contains("가입한 회원이 없습니다")
        );
        s.check_page("none").await?;
        Ok(())
    })
    .await;
}

/// Without an SMTP server (development, on a loopback address) mail lands in the sandbox
/// mailbox, shown at `/sandbox/mail`: the subject, the address masked, the text and its links;
/// the reset link there works like the mailed one.
async fn the_sandbox_mailbox_shows_what_would_have_been_sent(b: Backend) {
    let setup = support::Setup {
        mail: Some(jikimi_core::mail::MailSetup::new(std::sync::Arc::new(
            jikimi_core::mail::SandboxTransport::default(),
        ))),
        ..support::Setup::default()
    };
    support::run_setup("sandbox_mail", "lifeplan-seed", b, setup, async |s| {
        let p = person(47);
        let app = &s.site.app;
        app.sign_up(seed_signup(&p)).await?;
        s.goto("/recovery/password").await?;
        fill(s, "#login_id", &p.login_id).await?;
        fill(s, "#email", &p.email).await?;
        s.submit("#send").await?;
        s.visible(Locator::Css("#notice")).await?;
        while app.run_jobs_once().await? > 0 {}
        s.goto("/sandbox/mail").await?;
        let subjects = s.text_of("main").await?;
        ensure!(
            subjects.contains("[라이프플랜] 비밀번호 재설정 안내"),
            "{subjects}"
        );
        ensure!(
            subjects.contains("[라이프플랜] 회원 가입을 환영합니다"),
            "{subjects}"
        );
        ensure!(!subjects.contains(&p.email), "the address is masked");
        s.check_page("mailbox").await?;
        // The reset mail's link (the two were delivered in either order).
        let mut hrefs = Vec::new();
        for a in s.client().find_all(Locator::Css(".mail-link")).await? {
            hrefs.extend(a.attr("href").await?);
        }
        let path = reset_path(&hrefs.join("\n"))?;
        s.goto(&path).await?;
        s.visible(Locator::Css("#new_password")).await?;
        Ok(())
    })
    .await;
}
