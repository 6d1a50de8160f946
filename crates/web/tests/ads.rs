//! Advertising in the browser (issue 17; 정보통신망법 Art. 50, R-MKT-01..03): a manager sees how
//! many members e-mail ads may reach, sends one (a missing subject is named), and it reaches
//! only the member with both consents, marked "(광고)"; that member refuses through the mail's
//! link without logging in (the page, then one press; Back and a second press change nothing),
//! a mail program's one-click POST is answered, and the office's list counts the send. Both
//! widths, both languages.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use anyhow::{Context as _, ensure};
use fantoccini::Locator;
use jikimi_core::staff::Role;
use jikimi_testkit::smtp::TestSmtp;
use jikimi_testkit::{Backend, person};
use support::steps::{click, enrolled, fill, next_code, office_login, wait_path};

jikimi_testkit::backend_tests!(an_ad_reaches_only_consenting_members_and_is_refused_without_login);

async fn an_ad_reaches_only_consenting_members_and_is_refused_without_login(b: Backend) {
    let smtp = TestSmtp::start();
    support::run_with_smtp("ads", "lifeplan", b, &smtp, async |s| {
        let app = &s.site.app;
        let a = person(811);
        let mut su = jikimi_testkit::lifeplan_signup(&a);
        su.consents.insert("marketing".into(), true);
        su.consents.insert("ads_email".into(), true);
        let member = app.sign_up(su).await?;
        let bee = person(812);
        let mut su = jikimi_testkit::lifeplan_signup(&bee);
        su.consents.insert("marketing".into(), true);
        app.sign_up(su).await?;
        app.run_jobs_once().await?;

        let secret = enrolled(s, "han.manager", Role::Manager).await;
        office_login(s, "han.manager", &next_code(s, &secret)).await?;
        click(s, "#to-ads").await?;
        wait_path(s, "/office/ads").await?;
        ensure!(s.text_of("#reach-email").await? == "1");
        s.visible(Locator::Css("#no-campaigns")).await?;
        // No subject: named, the message kept.
        fill(s, "#body", "겨울 신상품을 소개합니다.").await?;
        s.submit("#send-ad").await?;
        let errors = s.text_of("#errors").await?;
        ensure!(errors.contains("제목"), "{errors}");
        let kept = s
            .client()
            .find(Locator::Css("#body"))
            .await?
            .prop("value")
            .await?
            .unwrap_or_default();
        ensure!(kept.contains("겨울 신상품"), "{kept}");
        s.check_page("office-ads-errors").await?;
        fill(s, "#subject", "겨울 신상품").await?;
        click(s, "#send-ad").await?;
        s.visible_text("광고를 만들었습니다").await?;
        for _ in 0..4 {
            app.run_jobs_once().await?;
        }
        let mails = smtp.wait_for(3, Duration::from_secs(20));
        let ads: Vec<_> = mails
            .iter()
            .filter(|m| m.subject().starts_with("(광고)"))
            .collect();
        ensure!(ads.len() == 1, "one ad: {}", ads.len());
        ensure!(ads[0].header("To").unwrap_or_default() == a.email);
        s.client().refresh().await?;
        ensure!(s.text_of("#campaigns .sent").await? == "1");
        s.check_page("office-ads").await?;

        // The member refuses from the mail, without logging in.
        let text = ads[0].text_body();
        let link = text
            .lines()
            .find(|l| l.contains("/ads/refuse?t="))
            .context("a refusal link in the ad")?
            .trim()
            .to_owned();
        let path = &link[link.find("/ads/refuse").unwrap_or(0)..];
        s.client().delete_all_cookies().await?;
        s.goto(path).await?;
        ensure!(s.text_of("#what").await?.contains("전자우편 광고"));
        s.check_page("ad-refuse").await?;
        s.goto(&format!("{path}&lang=en")).await?;
        ensure!(s.text_of("#what").await?.contains("advertising by e-mail"));
        s.check_page("ad-refuse-en").await?;
        s.goto(&format!("{path}&lang=ko")).await?;
        click(s, "#refuse").await?;
        s.visible_text("광고 수신을 거부했습니다").await?;
        s.check_page("ad-refused").await?;
        let state = app.consent_state(member).await?;
        ensure!(
            state.iter().any(|c| c.category == "ads_email" && !c.granted),
            "withdrawn at once"
        );
        // Back, and a second press: the same answer, nothing more.
        s.client().back().await?;
        s.visible(Locator::Css("#refuse")).await?;
        click(s, "#refuse").await?;
        s.visible_text("광고 수신을 거부했습니다").await?;
        // A mail program's one-click (RFC 8058): a plain POST, no cookie, no form token.
        let url = url::Url::parse(&s.url(path))?;
        let addr = format!(
            "{}:{}",
            url.host_str().unwrap_or("127.0.0.1"),
            url.port().unwrap_or(80)
        );
        let body = "List-Unsubscribe=One-Click";
        let request = format!(
            "POST {}?{} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            url.path(),
            url.query().unwrap_or_default(),
            body.len()
        );
        let mut stream = tokio::net::TcpStream::connect(&addr).await?;
        tokio::io::AsyncWriteExt::write_all(&mut stream, request.as_bytes()).await?;
        let mut answer = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(&mut stream, &mut answer).await?;
        let answer = String::from_utf8_lossy(&answer);
        ensure!(
            answer.starts_with("HTTP/1.1 200"),
            "{}",
            answer.lines().next().unwrap_or_default()
        );
        // A link cut short.
        s.goto("/ads/refuse?t=abc").await?;
        s.visible_text("링크를 확인할 수 없습니다").await?;
        ensure!(app.ad_reach(jikimi_policy::Channel::Email).await? == 0);
        Ok(())
    })
    .await;
}
