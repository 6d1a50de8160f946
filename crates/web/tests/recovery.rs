//! 아이디 찾기 and 비밀번호 재설정 in a real browser, with the mail going to a real SMTP server
//! (issue 14): a member who forgot the password asks from the login page, the mail arrives, its
//! link sets a new password, every old session ends; the login ID comes the same way. Each page
//! is checked at 1280 and 390 px (fit, axe) with screenshots.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use anyhow::{Context, ensure};
use fantoccini::Locator;
use jikimi_core::Revealed;
use jikimi_testkit::smtp::TestSmtp;
use jikimi_testkit::{Backend, person, seed_signup};
use support::steps::{click, fill, login, wait_path};

jikimi_testkit::backend_tests!(
    a_forgotten_password_is_reset_by_mail_and_old_sessions_end,
    a_forgotten_login_id_comes_by_mail,
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
        click(s, "#send").await?;
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
        click(s, "#send").await?;
        let wrong = s.text_of("#notice").await?;
        ensure!(
            app.run_jobs_once().await? == 0,
            "no mail for a wrong address"
        );

        fill(s, "#login_id", &p.login_id).await?;
        fill(s, "#email", &p.email).await?;
        click(s, "#send").await?;
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
        click(s, "#save").await?;
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
        click(s, "#send").await?;
        let errors = s.text_of("#errors").await?;
        ensure!(errors.contains("전자우편"), "{errors}");
        fill(s, "#email", &p.email.to_uppercase()).await?;
        click(s, "#send").await?;
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
