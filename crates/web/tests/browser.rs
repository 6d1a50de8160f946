//! Real-browser tests: headless Chromium through ChromeDriver against the in-process server.
//! Screenshots go to `target/screenshots/<test>-<step>.png`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use support::steps::{click, fill, fill_rrn, login, seed_details, wait_path};

use anyhow::{Context, ensure};
use fantoccini::Locator;
use jikimi_testkit::Backend;

jikimi_testkit::backend_tests!(
    privacy_page_in_korean_switches_to_english,
    seed_profile_sign_up_correct_and_withdraw,
    seed_profile_disagree_stores_nothing,
    lifeplan_sign_up_with_identity_verification_correct_and_withdraw,
    lifeplan_every_optional_consent_refused_still_joins,
    lifeplan_only_an_ad_channel_ticked_still_joins,
    seed_only_required_items_still_joins,
    reload_back_and_language_switch_on_every_signup_step,
    too_many_wrong_codes_keep_the_consents,
    unknown_pages_are_pages_with_a_way_home,
    a_visitor_who_wants_to_leave_is_told_to_log_in_first,
    withdrawing_a_consent_says_what_it_deletes_and_what_happened,
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
        // The operator's brand and company information, from the policy file, not the engine's.
        let title = s.client().title().await?;
        ensure!(title.ends_with("· 라이프플랜"), "<title>: {title:?}");
        ensure!(s.text_of("header .brand").await? == "라이프플랜");
        let company = s.text_of("footer #company").await?;
        let o = &s.site.app.policy().operator;
        for want in [
            "상호",
            "대표자",
            "사업자등록번호",
            "통신판매업 신고번호",
            o.business_number.as_deref().unwrap_or("(none)"),
            o.company
                .as_ref()
                .map(|c| c.ko.as_str())
                .unwrap_or("(none)"),
        ] {
            ensure!(company.contains(want), "footer lacks {want:?}: {company}");
        }
        let bold = s
            .visible(Locator::Css("footer a.privacy"))
            .await?
            .css_value("font-weight")
            .await?;
        ensure!(bold == "700", "개인정보 처리방침 in bold: {bold}");
        let html = s.client().source().await?;
        ensure!(
            !html.contains("지킴이") && !html.contains("(예시)"),
            "engine name or a sample on a live page"
        );
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
        ensure!(s.text_of("header .brand").await? == "Life Plan");
        let company = s.text_of("footer #company").await?;
        ensure!(
            company.contains("Business registration no."),
            "footer in English: {company}"
        );
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

async fn members(s: &support::Session) -> i64 {
    s.site.row_counts().await["members"]
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
    s.submit("#save").await?;
    s.visible(Locator::Css("#notice"))
        .await
        .context("saved notice")?;
    s.submit("#show-all").await?;
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
    s.submit("#do-withdraw").await?;
    let receipt = s.text_of("#receipt").await?;
    ensure!(receipt.starts_with("JKM-"), "receipt: {receipt:?}");
    s.screenshot("withdrawn").await?;
    ensure!(members(s).await == 0, "the member is gone");
    // Reload keeps the receipt on screen (no "Confirm Form Resubmission").
    s.client().refresh().await?;
    ensure!(
        s.text_of("#receipt").await? == receipt,
        "the receipt after a reload"
    );
    // The former member sees what is kept, with the receipt: at once after leaving, and later
    // by typing it in.
    s.goto("/retained").await?;
    s.visible(Locator::Css("details summary"))
        .await
        .context("what is kept, right after leaving")?;
    click(s, "#forget").await?;
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
    s.visible(Locator::Css("table.record-content"))
        .await
        .context("the record's content on request")?;
    let html = s.client().source().await?;
    ensure!(
        !html.contains("\"member_since\"") && !html.contains("{\""),
        "no raw JSON for people"
    );
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
        seed_details(s, &p).await?;
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
        for css in ["#f-rrn", "#f-rrn-back"] {
            let v = s
                .visible(Locator::Css(css))
                .await?
                .prop("value")
                .await?
                .unwrap_or_default();
            ensure!(v.is_empty(), "the RRN is never echoed back ({css})");
        }
        let html = s.client().source().await?;
        let back = p.rrn.split('-').nth(1).unwrap_or_default();
        ensure!(
            !html.contains(back),
            "the RRN's back half is not in the page"
        );
        s.screenshot("form-error").await?;
        ensure!(members(s).await == 0, "nothing stored after an error");
        fill(s, "#f-postal_code", &p.postal_code).await?;
        fill_rrn(s, &p.rrn).await?;
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
            boxes.len() == 4,
            "four consent categories, got {}",
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
        fill(s, "#birth_date", &p.birth.format("%Y%m%d").to_string()).await?;
        fill(s, "#mobile", &p.mobile).await?;
        s.screenshot("identity").await?;
        click(s, "#send-code").await?;
        s.visible(Locator::Css("#code")).await?;
        s.screenshot("code").await?;
        let outbox = s.site.app.sandbox_outbox().context("sandbox")?;
        let code = outbox.last_code_for(&p.mobile).context("the SMS code")?;
        fill(s, "#code", &code).await?;
        click(s, "#verify").await?;
        // The verified mobile number is filled in (its consent was given).
        let mobile = s
            .visible(Locator::Css("#f-mobile"))
            .await?
            .prop("value")
            .await?
            .unwrap_or_default();
        ensure!(mobile == p.mobile, "verified mobile prefilled: {mobile:?}");
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

// ---------------------------------------------------------------------------------------------
// Sign-up as a person would: refusing, reloading, going back, switching language

/// The heading of the current page.
async fn heading(s: &support::Session) -> anyhow::Result<String> {
    s.text_of("h1").await
}

/// Ticks the given consent boxes on `/signup` and goes on.
async fn choose_consents(s: &support::Session, ids: &[&str]) -> anyhow::Result<()> {
    s.goto("/signup").await?;
    for id in ids {
        click(s, &format!("#c-{id}")).await?;
    }
    click(s, "#next").await
}

/// 본인확인 with the sandbox: details, the SMS code, and on to the details form.
async fn verify_identity(s: &support::Session, p: &jikimi_testkit::Person) -> anyhow::Result<()> {
    fill(s, "#name", &p.name).await?;
    fill(s, "#birth_date", &p.birth.format("%Y%m%d").to_string()).await?;
    fill(s, "#mobile", &p.mobile).await?;
    click(s, "#send-code").await?;
    s.visible(Locator::Css("#code")).await?;
    let outbox = s.site.app.sandbox_outbox().context("sandbox")?;
    let code = outbox.last_code_for(&p.mobile).context("the SMS code")?;
    fill(s, "#code", &code).await?;
    click(s, "#verify").await?;
    s.visible(Locator::Css("#join"))
        .await
        .context("the details form")?;
    Ok(())
}

/// The ids of the inputs on the current page.
async fn input_ids(s: &support::Session) -> anyhow::Result<Vec<String>> {
    let mut ids = vec![];
    for el in s
        .client()
        .find_all(Locator::Css("form input, form select"))
        .await?
    {
        if let Some(id) = el.attr("id").await? {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// What the member holds after a sign-up: item ids, and whether any consent item is among them.
async fn stored_items(s: &support::Session) -> anyhow::Result<Vec<String>> {
    let ids = s.site.app.store().member_ids().await?;
    ensure!(ids.len() == 1, "one member, got {}", ids.len());
    Ok(s.site
        .app
        .store()
        .items(ids[0], None)
        .await?
        .into_iter()
        .map(|r| r.item_id)
        .collect())
}

/// R-CON-06: refusing every optional consent never blocks joining (the blocker of issue 9: the
/// verified mobile number made the refused `optional_items` consent compulsory).
async fn lifeplan_every_optional_consent_refused_still_joins(b: Backend) {
    support::run("refuse_all", b, async |s| {
        let p = jikimi_testkit::person(601);
        choose_consents(s, &[]).await?;
        verify_identity(s, &p).await?;
        let ids = input_ids(s).await?;
        for optional in ["f-mobile", "f-phone", "f-address", "f-postal_code"] {
            ensure!(
                !ids.contains(&optional.to_owned()),
                "{optional} is asked although its consent was refused: {ids:?}"
            );
        }
        fill(s, "#login_id", &p.login_id).await?;
        fill(s, "#password", &p.password).await?;
        fill(s, "#password_confirm", &p.password).await?;
        fill(s, "#f-email", &p.email).await?;
        s.screenshot("form").await?;
        click(s, "#join").await?;
        s.visible_text("가입을 마쳤습니다")
            .await
            .context("joined with every optional consent refused")?;
        s.screenshot("joined").await?;
        let items = stored_items(s).await?;
        for item in &items {
            let basis = s.site.app.policy().item(item).map(|i| i.basis);
            ensure!(
                basis != Some(jikimi_policy::LegalBasis::Consent),
                "{item} stored without its consent: {items:?}"
            );
        }
        let member = s.site.app.store().member_ids().await?[0];
        for c in s.site.app.consent_state(member).await? {
            ensure!(!c.granted, "{} stored as given", c.category);
        }
        Ok(())
    })
    .await;
}

/// Ticking only an advertising channel is no reason to demand the optional items either.
async fn lifeplan_only_an_ad_channel_ticked_still_joins(b: Backend) {
    support::run("ad_only", b, async |s| {
        let p = jikimi_testkit::person(602);
        choose_consents(s, &["ads_email"]).await?;
        verify_identity(s, &p).await?;
        fill(s, "#login_id", &p.login_id).await?;
        fill(s, "#password", &p.password).await?;
        fill(s, "#password_confirm", &p.password).await?;
        fill(s, "#f-email", &p.email).await?;
        click(s, "#join").await?;
        s.visible_text("가입을 마쳤습니다").await?;
        ensure!(!stored_items(s).await?.contains(&"mobile".to_owned()));
        let member = s.site.app.store().member_ids().await?[0];
        for c in s.site.app.consent_state(member).await? {
            ensure!(
                c.granted == (c.category == "ads_email"),
                "{} stored as chosen",
                c.category
            );
        }
        Ok(())
    })
    .await;
}

/// On the seed profile, leaving every optional field empty still joins.
async fn seed_only_required_items_still_joins(b: Backend) {
    support::run_with("seed_required_only", "lifeplan-seed", b, async |s| {
        let p = jikimi_testkit::person(603);
        s.goto("/signup").await?;
        click(s, "#agree").await?;
        seed_details(s, &p).await?;
        click(s, "#join").await?;
        s.visible_text("가입을 마쳤습니다")
            .await
            .context("joined with the optional fields empty")?;
        let items = stored_items(s).await?;
        for optional in ["mobile", "hobby", "job"] {
            ensure!(!items.contains(&optional.to_owned()), "{optional} stored");
        }
        Ok(())
    })
    .await;
}

/// Reload, the language switch and Back on one sign-up page: the same page comes back (never
/// "Confirm Form Resubmission" or 405), in the other language with the same address.
async fn survives_reload_and_switch(
    s: &support::Session,
    path: &str,
    ko: &str,
    en: &str,
) -> anyhow::Result<()> {
    wait_path(s, path)
        .await
        .context("a GET page after the form")?;
    ensure!(heading(s).await? == ko, "heading {:?}", heading(s).await?);
    s.client().refresh().await.context("reload")?;
    ensure!(
        heading(s).await? == ko,
        "after reload: {:?}",
        heading(s).await?
    );
    s.submit("#lang-switch").await?;
    wait_path(s, &format!("{path}?lang=en"))
        .await
        .context("the switch keeps the page")?;
    ensure!(heading(s).await? == en, "English: {:?}", heading(s).await?);
    s.submit("#lang-switch").await?;
    ensure!(
        heading(s).await? == ko,
        "back in Korean: {:?}",
        heading(s).await?
    );
    Ok(())
}

async fn reload_back_and_language_switch_on_every_signup_step(b: Backend) {
    support::run("signup_navigation", b, async |s| {
        let p = jikimi_testkit::person(604);
        choose_consents(s, &["optional_items", "marketing"]).await?;
        survives_reload_and_switch(s, "/signup/identity", "본인확인", "Identity verification")
            .await?;
        // Back to the consents: what was chosen is still ticked.
        s.client().back().await?;
        s.client().back().await?;
        s.client().back().await?;
        wait_path(s, "/signup")
            .await
            .context("Back to the consent page")?;
        // (Going back passed the English page, which chose English again.)
        s.goto("/signup?lang=ko").await?;
        for (id, want) in [
            ("optional_items", true),
            ("marketing", true),
            ("ads_sms", false),
        ] {
            let checked = s
                .visible(Locator::Css(&format!("#c-{id}")))
                .await?
                .prop("checked")
                .await?;
            ensure!(
                checked.as_deref() == Some(if want { "true" } else { "false" }),
                "{id} after Back: {checked:?}"
            );
        }
        click(s, "#next").await?;

        // A wrong value: the error names the field, survives a reload and the switch.
        fill(s, "#name", &p.name).await?;
        fill(s, "#birth_date", "1990").await?;
        fill(s, "#mobile", &p.mobile).await?;
        s.submit("#send-code").await?;
        let err = s.text_of("#err-birth_date").await?;
        ensure!(err.contains("8자리"), "birth date error: {err:?}");
        let input = s.visible(Locator::Css("#birth_date")).await?;
        ensure!(input.attr("aria-invalid").await?.as_deref() == Some("true"));
        s.screenshot("identity-error").await?;
        s.client().refresh().await?;
        ensure!(
            s.text_of("#err-birth_date").await? == err,
            "error after reload"
        );
        let name = s
            .visible(Locator::Css("#name"))
            .await?
            .prop("value")
            .await?;
        ensure!(
            name.as_deref() == Some(p.name.as_str()),
            "name kept: {name:?}"
        );
        s.submit("#lang-switch").await?;
        let en = s.text_of("#err-birth_date").await?;
        ensure!(en.contains("8 digits"), "the error in English: {en:?}");
        s.submit("#lang-switch").await?;

        fill(s, "#birth_date", &p.birth.format("%Y%m%d").to_string()).await?;
        click(s, "#send-code").await?;
        survives_reload_and_switch(s, "/signup/verify", "본인확인", "Identity verification")
            .await?;
        fill(s, "#code", "000000").await?;
        click(s, "#verify").await?;
        s.visible(Locator::Css("#err-code"))
            .await
            .context("wrong code")?;
        s.client().refresh().await?;
        s.visible(Locator::Css("#err-code"))
            .await
            .context("wrong code after reload")?;
        let code = s
            .site
            .app
            .sandbox_outbox()
            .context("sandbox")?
            .last_code_for(&p.mobile)
            .context("code")?;
        fill(s, "#code", &code).await?;
        click(s, "#verify").await?;
        survives_reload_and_switch(s, "/signup/details", "회원 정보 입력", "Your details").await?;

        // 아이디 중복확인 without JavaScript: the form is kept, the answer is on the page.
        fill(s, "#login_id", &p.login_id).await?;
        fill(s, "#f-email", &p.email).await?;
        s.submit("#check-id").await?;
        let ok = s.text_of("#id-ok").await?;
        ensure!(ok.contains("사용할 수 있는"), "id check: {ok:?}");
        let email = s
            .visible(Locator::Css("#f-email"))
            .await?
            .prop("value")
            .await?;
        ensure!(
            email.as_deref() == Some(p.email.as_str()),
            "e-mail kept: {email:?}"
        );
        s.screenshot("id-checked").await?;
        // A taken ID is named as taken.
        s.site
            .app
            .sign_up(jikimi_testkit::lifeplan_signup(&jikimi_testkit::person(
                605,
            )))
            .await?;
        fill(s, "#login_id", "member605").await?;
        s.submit("#check-id").await?;
        let taken = s.text_of("#err-login_id").await?;
        ensure!(taken.contains("이미 사용 중"), "taken: {taken:?}");

        fill(s, "#login_id", &p.login_id).await?;
        fill(s, "#password", &p.password).await?;
        fill(s, "#password_confirm", &p.password).await?;
        fill(s, "#f-postal_code", &p.postal_code).await?;
        fill(s, "#f-address", &p.address).await?;
        click(s, "#join").await?;
        survives_reload_and_switch(s, "/signup/done", "가입을 마쳤습니다", "Welcome").await?;
        ensure!(members(s).await == 2, "joined once, whatever was reloaded");
        // Back from the end starts a new sign-up, not a resubmission.
        s.client().back().await?;
        ensure!(
            !s.current_path().await?.starts_with("/signup/details"),
            "the finished form is gone: {}",
            s.current_path().await?
        );
        ensure!(members(s).await == 2);
        Ok(())
    })
    .await;
}

async fn too_many_wrong_codes_keep_the_consents(b: Backend) {
    support::run("wrong_codes", b, async |s| {
        let p = jikimi_testkit::person(606);
        choose_consents(s, &["optional_items", "ads_sms"]).await?;
        fill(s, "#name", &p.name).await?;
        fill(s, "#birth_date", &p.birth.format("%Y%m%d").to_string()).await?;
        fill(s, "#mobile", &p.mobile).await?;
        click(s, "#send-code").await?;
        for _ in 0..6 {
            fill(s, "#code", "000000").await?;
            // Either the code page again with its error, or the identity page with the notice.
            s.click_then_text("#verify", "#err-code, #notice").await?;
            if s.client().find(Locator::Css("#notice")).await.is_ok() {
                break;
            }
        }
        wait_path(s, "/signup/identity")
            .await
            .context("after too many wrong codes")?;
        let notice = s.text_of("#notice").await?;
        ensure!(notice.contains("그대로"), "notice: {notice:?}");
        s.screenshot("too-many").await?;
        s.goto("/signup").await?;
        for (id, want) in [
            ("optional_items", "true"),
            ("ads_sms", "true"),
            ("marketing", "false"),
        ] {
            let checked = s
                .visible(Locator::Css(&format!("#c-{id}")))
                .await?
                .prop("checked")
                .await?;
            ensure!(checked.as_deref() == Some(want), "{id}: {checked:?}");
        }
        Ok(())
    })
    .await;
}

async fn unknown_pages_are_pages_with_a_way_home(b: Backend) {
    support::run("not_found", b, async |s| {
        for (path, title) in [
            ("/no-such-page", "페이지를 찾을 수 없습니다"),
            ("/signup/consent?lang=ko", "회원가입"),
            ("/logout", "라이프플랜"),
        ] {
            s.goto(path).await?;
            ensure!(
                heading(s).await? == title,
                "{path}: {:?}",
                heading(s).await?
            );
            s.visible(Locator::Css("footer #company, footer a.privacy"))
                .await
                .with_context(|| format!("{path}: the site's layout"))?;
        }
        s.goto("/no-such-page").await?;
        s.screenshot("404").await?;
        click(s, "main a.button").await?;
        wait_path(s, "/").await.context("the way home")?;
        Ok(())
    })
    .await;
}

async fn a_visitor_who_wants_to_leave_is_told_to_log_in_first(b: Backend) {
    support::run("withdraw_logged_out", b, async |s| {
        let p = jikimi_testkit::person(607);
        s.site
            .app
            .sign_up(jikimi_testkit::lifeplan_signup(&p))
            .await?;
        s.goto("/").await?;
        s.submit("#go-withdraw").await?;
        let reason = s.text_of("#login-reason").await?;
        ensure!(
            reason.contains("회원 본인만") && reason.contains("로그인"),
            "why log in: {reason:?}"
        );
        s.screenshot("reason").await?;
        // The language switch keeps the page and where it leads.
        s.submit("#lang-switch").await?;
        let path = s.current_path().await?;
        ensure!(
            path.contains("next=/mypage/withdraw") && path.contains("lang=en"),
            "switch keeps the query: {path}"
        );
        s.submit("#lang-switch").await?;
        // A wrong password: the message, then on to the withdrawal page after the right one.
        fill(s, "#login_id", &p.login_id).await?;
        fill(s, "#password", "Wrong-password-1").await?;
        click(s, "#do-login").await?;
        s.visible(Locator::Css("#login-error")).await?;
        s.client().refresh().await?;
        s.visible(Locator::Css("#login-error")).await?;
        fill(s, "#password", &p.password).await?;
        click(s, "#do-login").await?;
        wait_path(s, "/mypage/withdraw")
            .await
            .context("after login")?;
        // Nothing kept is listed as destroyed now.
        let deleted = s.text_of("#deleted").await?;
        let kept = s.text_of("#kept").await?;
        for label in ["이름", "성명", "전자우편"] {
            ensure!(
                !(deleted.contains(label) && kept.contains(label)),
                "{label} is both destroyed now and kept"
            );
        }
        // A wrong password on the withdrawal: said, nothing done, the page survives a reload.
        fill(s, "#password", "Wrong-password-1").await?;
        s.submit("#do-withdraw").await?;
        let err = s.text_of("#withdraw-error").await?;
        ensure!(
            !err.contains("아이디"),
            "only a password was asked: {err:?}"
        );
        ensure!(members(s).await == 1);
        Ok(())
    })
    .await;
}

async fn withdrawing_a_consent_says_what_it_deletes_and_what_happened(b: Backend) {
    support::run("consent_withdrawal", b, async |s| {
        let p = jikimi_testkit::person(608);
        s.site
            .app
            .sign_up(jikimi_testkit::lifeplan_signup(&p))
            .await?;
        login(s, &p).await?;
        // No hash where a member reads a policy version: its effective date.
        let consents = s.text_of("#consent-table").await?;
        ensure!(consents.contains("2026-12-01"), "시행일 shown: {consents}");
        ensure!(!consents.contains("동의?"), "header: {consents}");
        click(s, "#toggle-optional_items").await?;
        wait_path(s, "/mypage/consents/optional_items")
            .await
            .context("asked first")?;
        let will = s.text_of("#will-delete").await?;
        ensure!(will.contains("주소"), "says what it deletes: {will:?}");
        s.screenshot("confirm").await?;
        let notice = s.click_then_text("#confirm-withdraw", "#notice").await?;
        ensure!(
            notice.contains("철회") && notice.contains("주소"),
            "says what happened: {notice:?}"
        );
        ensure!(!stored_items(s).await?.contains(&"address".to_owned()));
        // An advertising consent: the 처리결과 with sender, date and result.
        let notice = s.click_then_text("#toggle-ads_email", "#notice").await?;
        let today = s.site.app.clock().today_kst().to_string();
        ensure!(
            notice.contains("전송자") && notice.contains("라이프플랜") && notice.contains(&today),
            "정보통신망법 Art. 50(7) result: {notice:?}"
        );
        let notice = s.click_then_text("#toggle-ads_email", "#notice").await?;
        ensure!(
            notice.contains("수신 거부"),
            "withdrawal result: {notice:?}"
        );
        s.screenshot("ad-result").await?;
        // The history: labelled columns, no raw channel word.
        s.goto("/mypage/history").await?;
        let headers: Vec<String> = {
            let mut out = vec![];
            for th in s.client().find_all(Locator::Css("#history th")).await? {
                out.push(th.text().await?.trim().to_owned());
            }
            out
        };
        ensure!(
            headers.iter().all(|h| !h.is_empty()),
            "blank header: {headers:?}"
        );
        let history = s.text_of("#history").await?;
        ensure!(!history.contains("web"), "raw channel word: {history}");
        Ok(())
    })
    .await;
}
