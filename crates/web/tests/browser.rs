//! Real-browser tests: headless Chromium through ChromeDriver against the in-process server.
//! Screenshots go to `target/screenshots/<test>-<step>.png`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use anyhow::{Context, ensure};
use fantoccini::Locator;
use jikimi_testkit::Backend;

jikimi_testkit::backend_tests!(
    privacy_page_in_korean_switches_to_english,
    seed_profile_sign_up_correct_and_withdraw,
    seed_profile_disagree_stores_nothing,
    lifeplan_sign_up_with_identity_verification_correct_and_withdraw,
);

async fn privacy_page_in_korean_switches_to_english(b: Backend) {
    support::run("privacy_language_switch", b, async |s| {
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

        let switch = s
            .visible(Locator::Css("#lang-switch[hreflang='en']"))
            .await?;
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
        s.visible(Locator::Css("#lang-switch[hreflang='ko']"))
            .await
            .context("the link back to Korean")?;
        s.screenshot("en").await?;
        Ok(())
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// Member flows

async fn fill(s: &support::Session, css: &str, value: &str) -> anyhow::Result<()> {
    let el = s
        .visible(Locator::Css(css))
        .await
        .with_context(|| format!("field {css}"))?;
    el.clear()
        .await
        .with_context(|| format!("clearing {css}"))?;
    el.send_keys(value)
        .await
        .with_context(|| format!("typing into {css}"))?;
    Ok(())
}

async fn click(s: &support::Session, css: &str) -> anyhow::Result<()> {
    s.visible(Locator::Css(css))
        .await?
        .click()
        .await
        .with_context(|| format!("clicking {css}"))?;
    Ok(())
}

/// Sets a field through the DOM (date inputs take typed text in the browser's locale format).
async fn set_value(s: &support::Session, id: &str, value: &str) -> anyhow::Result<()> {
    s.client()
        .execute(
            "document.getElementById(arguments[0]).value = arguments[1];",
            vec![id.into(), value.into()],
        )
        .await
        .with_context(|| format!("setting #{id}"))?;
    Ok(())
}

async fn members(s: &support::Session) -> i64 {
    s.site.row_counts().await["members"]
}

async fn login(s: &support::Session, p: &jikimi_testkit::Person) -> anyhow::Result<()> {
    s.goto("/login").await?;
    fill(s, "#login_id", &p.login_id).await?;
    fill(s, "#password", &p.password).await?;
    click(s, "#do-login").await?;
    s.visible(Locator::Css("#my-items"))
        .await
        .context("my page after login")?;
    Ok(())
}

/// Login, correct the address on the 개인정보수정 page, check it, then leave and keep the receipt.
async fn correct_and_withdraw(
    s: &support::Session,
    p: &jikimi_testkit::Person,
) -> anyhow::Result<()> {
    login(s, p).await?;
    let email = s.text_of("#v-email").await?;
    ensure!(
        email.contains("***@example.com") && email != p.email,
        "masked e-mail: {email:?}"
    );
    s.screenshot("mypage-masked").await?;
    click(s, "#edit").await?;
    s.screenshot("edit").await?;
    let new_address = "제주특별자치도 제주시 지킴로 99";
    fill(s, "#f-address", new_address).await?;
    click(s, "#save").await?;
    s.visible(Locator::Css("#notice"))
        .await
        .context("saved notice")?;
    click(s, "#show-all").await?;
    let address = s.text_of("#v-address").await?;
    ensure!(
        address == new_address,
        "corrected address shown: {address:?}"
    );
    s.screenshot("mypage-revealed").await?;

    // Withdrawal is reachable from the first screen.
    s.goto("/").await?;
    click(s, "#go-withdraw").await?;
    s.visible(Locator::Css("#kept"))
        .await
        .context("what is kept")?;
    s.screenshot("withdraw").await?;
    fill(s, "#password", &p.password).await?;
    click(s, "#do-withdraw").await?;
    let receipt = s.text_of("#receipt").await?;
    ensure!(receipt.starts_with("JKM-"), "receipt: {receipt:?}");
    s.screenshot("withdrawn").await?;
    ensure!(members(s).await == 0, "the member is gone");
    // The former member sees what is kept, with the receipt.
    s.goto("/retained").await?;
    fill(s, "#receipt", &receipt).await?;
    click(s, "#lookup").await?;
    // What, how long and why are shown; the content opens on request.
    s.visible(Locator::Css("details summary"))
        .await
        .context("retained record")?;
    s.screenshot("retained-summary").await?;
    for summary in s.client().find_all(Locator::Css("details summary")).await? {
        summary.click().await?;
    }
    s.visible(Locator::Css("pre.record"))
        .await
        .context("the record's content on request")?;
    s.visible_text(&p.login_id)
        .await
        .context("the contract record names the login ID")?;
    s.screenshot("retained").await?;
    // And can no longer log in.
    s.goto("/login").await?;
    fill(s, "#login_id", &p.login_id).await?;
    fill(s, "#password", &p.password).await?;
    click(s, "#do-login").await?;
    s.visible(Locator::Css("#login-error"))
        .await
        .context("login refused")?;
    Ok(())
}

async fn seed_profile_sign_up_correct_and_withdraw(b: Backend) {
    support::run_with("seed_flow", "lifeplan-seed", b, async |s| {
        let p = jikimi_testkit::person(501);
        s.goto("/").await?;
        s.screenshot("home").await?;
        click(s, "#go-signup").await?;
        s.visible(Locator::Css("#policy-text"))
            .await
            .context("the policy to agree to")?;
        s.screenshot("agree").await?;
        click(s, "#agree").await?;
        fill(s, "#login_id", &p.login_id).await?;
        fill(s, "#password", &p.password).await?;
        fill(s, "#password_confirm", &p.password).await?;
        for (id, v) in [
            ("name", &p.name),
            ("rrn", &p.rrn),
            ("phone", &p.phone),
            ("postal_code", &p.postal_code),
            ("address", &p.address),
            ("address_detail", &p.address_detail),
            ("email", &p.email),
        ] {
            fill(s, &format!("#f-{id}"), v).await?;
        }
        // A wrong postal code first: the error names the field, values stay, the password does not.
        fill(s, "#f-postal_code", "123-456").await?;
        click(s, "#join").await?;
        s.visible(Locator::Css("#err-postal_code"))
            .await
            .context("postal code error")?;
        let kept = s
            .visible(Locator::Css("#f-email"))
            .await?
            .prop("value")
            .await?
            .unwrap_or_default();
        ensure!(kept == p.email, "entered values kept on re-display");
        let pw = s
            .visible(Locator::Css("#password"))
            .await?
            .prop("value")
            .await?
            .unwrap_or_default();
        ensure!(pw.is_empty(), "the password is never re-displayed");
        s.screenshot("form-error").await?;
        ensure!(members(s).await == 0, "nothing stored after an error");
        fill(s, "#f-postal_code", &p.postal_code).await?;
        fill(s, "#password", &p.password).await?;
        fill(s, "#password_confirm", &p.password).await?;
        click(s, "#join").await?;
        s.visible_text("가입을 마쳤습니다")
            .await
            .context("joined")?;
        s.screenshot("joined").await?;
        ensure!(members(s).await == 1);
        correct_and_withdraw(s, &p).await
    })
    .await;
}

async fn seed_profile_disagree_stores_nothing(b: Backend) {
    support::run_with("seed_decline", "lifeplan-seed", b, async |s| {
        let before = s.site.row_counts().await;
        s.goto("/signup").await?;
        click(s, "#decline").await?;
        s.visible_text("하나도 저장하지 않았습니다").await?;
        s.screenshot("declined").await?;
        let after = s.site.row_counts().await;
        ensure!(before == after, "nothing stored: {before:?} vs {after:?}");
        Ok(())
    })
    .await;
}

async fn lifeplan_sign_up_with_identity_verification_correct_and_withdraw(b: Backend) {
    support::run("lifeplan_flow", b, async |s| {
        let p = jikimi_testkit::person(502);
        s.goto("/signup").await?;
        // R-CON-05: every consent box starts unchecked.
        let boxes = s
            .client()
            .find_all(Locator::Css("input[type=checkbox][name=consent]"))
            .await?;
        ensure!(
            boxes.len() == 5,
            "five consent categories, got {}",
            boxes.len()
        );
        for b in &boxes {
            ensure!(
                b.prop("checked").await?.as_deref() == Some("false"),
                "a box starts checked"
            );
        }
        // R-CON-02: contract items are a notice, not a checkbox.
        s.visible(Locator::Css("#notice")).await?;
        s.screenshot("consent").await?;
        click(s, "#c-optional_items").await?;
        click(s, "#next").await?;
        fill(s, "#name", &p.name).await?;
        set_value(s, "birth_date", &p.birth.to_string()).await?;
        fill(s, "#mobile", &p.mobile).await?;
        s.screenshot("identity").await?;
        click(s, "#send-code").await?;
        s.visible(Locator::Css("#code")).await?;
        s.screenshot("code").await?;
        let outbox = s.site.app.sandbox_outbox().context("sandbox")?;
        let code = outbox.last_code_for(&p.mobile).context("the SMS code")?;
        fill(s, "#code", &code).await?;
        click(s, "#verify").await?;
        fill(s, "#login_id", &p.login_id).await?;
        fill(s, "#password", &p.password).await?;
        fill(s, "#password_confirm", &p.password).await?;
        fill(s, "#f-email", &p.email).await?;
        fill(s, "#f-postal_code", &p.postal_code).await?;
        fill(s, "#f-address", &p.address).await?;
        fill(s, "#f-address_detail", &p.address_detail).await?;
        s.screenshot("form").await?;
        click(s, "#join").await?;
        s.visible_text("가입을 마쳤습니다")
            .await
            .context("joined")?;
        ensure!(members(s).await == 1);
        let state = s
            .site
            .app
            .consent_state(s.site.app.store().member_ids().await?[0])
            .await?;
        for c in &state {
            ensure!(
                c.granted == (c.category == "optional_items"),
                "consent {} stored as chosen",
                c.category
            );
        }
        correct_and_withdraw(s, &p).await
    })
    .await;
}
