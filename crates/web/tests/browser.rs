//! Real-browser tests: headless Chromium through ChromeDriver against the in-process server.
//! Screenshots go to `target/screenshots/<test>-<step>.png`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use anyhow::{Context, ensure};
use fantoccini::Locator;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn privacy_page_in_korean_switches_to_english() {
    support::run("privacy_language_switch", async |s| {
        s.goto("/privacy").await?;
        ensure!(
            s.html_lang().await? == "ko",
            "the default page is not Korean"
        );
        let title = s.text_of("h1").await?;
        ensure!(
            title == "라이프플랜 개인정보 처리방침",
            "Korean heading: {title:?}"
        );
        s.visible_text("privacy-officer@example.com")
            .await
            .context("the privacy officer's e-mail")?;
        s.screenshot("ko").await?;

        let switch = s.visible(Locator::Css("nav.lang a[hreflang='en']")).await?;
        let label = switch.text().await?;
        ensure!(label.trim() == "English", "switch link label: {label:?}");
        switch.click().await.context("clicking the English link")?;

        s.visible(Locator::Css("html[lang='en']"))
            .await
            .context("<html lang=\"en\"> after the switch")?;
        ensure!(
            s.current_path().await? == "/privacy?lang=en",
            "URL after the switch: {}",
            s.current_path().await?
        );
        let title = s.text_of("h1").await?;
        ensure!(
            title == "Life Plan Privacy Policy",
            "English heading: {title:?}"
        );
        s.visible_text("privacy-officer@example.com").await?;
        s.visible(Locator::Css("nav.lang a[hreflang='ko']"))
            .await
            .context("the link back to Korean")?;
        s.screenshot("en").await?;
        Ok(())
    })
    .await;
}
