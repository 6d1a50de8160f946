//! Processors in the browser (issue 17; S16, R-CON-10): a manager opens the office's
//! processor page on a selling site (PortOne is the processor), records a contract missing a
//! term and dated in the future (both named, what was typed kept, nothing recorded), then the
//! contract and a check; the "check due" mark goes. Both widths, both languages.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use anyhow::ensure;
use fantoccini::Locator;
use jikimi_core::staff::Role;
use jikimi_testkit::Backend;
use support::steps::{click, enrolled, fill, next_code, office_login, wait_path};

jikimi_testkit::backend_tests!(the_office_records_a_processors_contract_and_its_check);

async fn set_date(s: &support::Session, css: &str, day: &str) -> anyhow::Result<()> {
    // A date input takes its value from a script most reliably across locales.
    let el = s.visible(Locator::Css(css)).await?;
    s.client()
        .execute(
            "arguments[0].value = arguments[1];",
            vec![serde_json::to_value(&el)?, serde_json::Value::from(day)],
        )
        .await?;
    Ok(())
}

async fn the_office_records_a_processors_contract_and_its_check(b: Backend) {
    let setup = support::Setup {
        policy: Some(jikimi_testkit::lifeplan_selling()),
        ..support::Setup::default()
    };
    support::run_setup("processors", "lifeplan", b, setup, async |s| {
        let today = s.site.app.clock().today_kst();
        let secret = enrolled(s, "choi.manager", Role::Manager).await;
        office_login(s, "choi.manager", &next_code(s, &secret)).await?;
        click(s, "#to-processors").await?;
        wait_path(s, "/office/processors").await?;
        s.visible(Locator::Css("#due-portone")).await?;
        s.visible(Locator::Css("#no-checks-portone")).await?;
        ensure!(
            s.text_of("#contract-portone")
                .await?
                .contains("기록된 계약이 없습니다")
        );
        s.check_page("office-processors-first").await?;

        // Six terms of seven: the missing one named, what was typed kept. (A day after today
        // is stopped by the browser itself: the input's `max`; the server refuses it too,
        // core/tests/processors.rs.)
        let max = s
            .client()
            .find(Locator::Css("#contract-portone-on_day"))
            .await?
            .attr("max")
            .await?;
        ensure!(
            max.as_deref() == Some(today.to_string().as_str()),
            "{max:?}"
        );
        set_date(s, "#contract-portone-on_day", "2026-11-20").await?;
        for d in [
            "purpose_only",
            "safeguards",
            "purpose_and_scope",
            "onward_entrustment",
            "access_limits",
            "supervision",
        ] {
            click(s, &format!("#duty-portone-{d}")).await?;
        }
        fill(s, "#contract-portone-note", "전자계약 2026-11").await?;
        s.submit("#save-contract-portone").await?;
        let errors = s.text_of("#errors").await?;
        ensure!(errors.contains("손해배상"), "{errors}");
        let note = s
            .client()
            .find(Locator::Css("#contract-portone-note"))
            .await?
            .prop("value")
            .await?
            .unwrap_or_default();
        ensure!(note == "전자계약 2026-11", "typed note kept: {note}");
        ensure!(
            s.text_of("#contract-portone")
                .await?
                .contains("기록된 계약이 없습니다")
        );
        s.check_page("office-processors-errors").await?;
        // The error's link leads to the terms.
        click(s, "#errors li[data-field='contract-portone-duties'] a").await?;

        // The whole contract.
        set_date(s, "#contract-portone-on_day", "2026-11-20").await?;
        // The six ticked terms came back ticked: only the missing one is added.
        for d in [
            "purpose_only",
            "safeguards",
            "purpose_and_scope",
            "onward_entrustment",
            "access_limits",
            "supervision",
        ] {
            let ticked = s
                .client()
                .find(Locator::Css(&format!("#duty-portone-{d}")))
                .await?
                .prop("checked")
                .await?;
            ensure!(ticked.as_deref() == Some("true"), "{d} kept: {ticked:?}");
        }
        click(s, "#duty-portone-liability").await?;
        click(s, "#save-contract-portone").await?;
        s.visible_text("기록했습니다").await?;
        let contract = s.text_of("#contract-portone").await?;
        ensure!(
            contract.contains("2026-11-20") && contract.contains("손해배상"),
            "{contract}"
        );

        // A check.
        set_date(s, "#check-portone-on_day", &today.to_string()).await?;
        fill(
            s,
            "#check-portone-note",
            "접근 권한과 보관 기간 확인, 이상 없음",
        )
        .await?;
        click(s, "#save-check-portone").await?;
        s.visible_text("기록했습니다").await?;
        ensure!(s.text_of("#checks-portone").await?.contains("이상 없음"));
        ensure!(
            s.client().find(Locator::Css("#due-portone")).await.is_err(),
            "checked today: not due"
        );
        s.check_page("office-processors").await?;
        s.goto("/office/processors?lang=en").await?;
        ensure!(s.text_of("#contract-portone").await?.contains("liability"));
        s.check_page("office-processors-en").await?;
        Ok(())
    })
    .await;
}
