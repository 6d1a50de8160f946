//! Event prizes in the browser (issue 15, S3): a manager creates an event and records a winner;
//! the winner is prompted on My page and enters the delivery items (a wrong value is named, and
//! the page is refreshed, gone Back to and read in English); a handler opens the items for
//! delivery and marks the prize delivered; the purge destroys the items 90 days after delivery
//! and the winner's page says so.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use anyhow::{Context as _, ensure};
use fantoccini::Locator;
use jikimi_core::Clock;
use jikimi_core::staff::Role;
use jikimi_testkit::{Backend, person};
use support::steps::{click, enrolled, fill, login, next_code, office_login, wait_path};

jikimi_testkit::backend_tests!(
    a_winner_enters_the_delivery_items_and_the_office_delivers_the_prize
);

const RECIPIENT: &str = "나경품";

async fn a_winner_enters_the_delivery_items_and_the_office_delivers_the_prize(b: Backend) {
    support::run("prizes", b, async |s| {
        let app = &s.site.app;
        let p = person(571);
        let member = app.sign_up(jikimi_testkit::lifeplan_signup(&p)).await?;

        // A manager creates the event and records the winner (a line naming nobody is refused).
        let secret = enrolled(s, "lee.manager", Role::Manager).await;
        office_login(s, "lee.manager", &next_code(s, &secret)).await?;
        click(s, "#to-prizes").await?;
        wait_path(s, "/office/prizes").await?;
        s.visible(Locator::Css("#no-events")).await?;
        fill(s, "#title", "가을 설문 이벤트").await?;
        fill(s, "#prize", "커피 교환권").await?;
        click(s, "#create-event").await?;
        s.visible(Locator::Css("#record-winners")).await?;
        let notice = s.text_of("#notice").await?;
        ensure!(notice.contains("이벤트를 만들었습니다"), "{notice}");
        fill(s, "#winners", &format!("{}\nnobody-at-all", p.login_id)).await?;
        s.submit("#record-winners").await?;
        let errors = s.text_of(".errors").await?;
        ensure!(errors.contains("2번째 줄"), "{errors}");
        s.visible(Locator::Css("#no-winners")).await?;
        fill(s, "#winners", &p.login_id).await?;
        click(s, "#record-winners").await?;
        s.visible_text("당첨자 1명을 기록했습니다").await?;
        ensure!(s.text_of("#winner-1 .state").await? == "배송 정보 입력 전");
        // Nothing to open before the winner enters it.
        ensure!(s.client().find(Locator::Css("#open-1")).await.is_err());
        s.check_page("office-event").await?;

        // The winner: the prompt on My page, the prize, the form.
        s.client().delete_all_cookies().await?;
        login(s, &p).await?;
        s.visible(Locator::Css("#prize-prompt")).await?;
        s.check_page("mypage-prompt").await?;
        click(s, "#prize-prompt-link").await?;
        wait_path(s, "/mypage/prizes").await?;
        s.visible_text("커피 교환권").await?;
        s.check_page("prizes").await?;
        click(s, "#prizes a.button").await?;
        s.visible(Locator::Css("#prize-notice")).await?;
        let entry_path = s.current_path().await?;
        ensure!(entry_path.starts_with("/mypage/prizes/"), "{entry_path}");
        let notice = s.text_of("#prize-notice").await?;
        ensure!(
            notice.contains("받는 사람 이름") && notice.contains("90일"),
            "the notice names the items and the period: {notice}"
        );
        s.check_page("entry").await?;
        // Wrong values: named by item, what was typed stays. (An empty required box is stopped
        // by the browser itself: `required`.)
        fill(s, "#f-prize_recipient_name", RECIPIENT).await?;
        fill(s, "#f-prize_postal_code", "4524").await?;
        fill(s, "#f-prize_address", "서울특별시 중구 지킴로 321").await?;
        fill(s, "#f-prize_phone", "02-123").await?;
        s.submit("#save").await?;
        let errors = s.text_of(".errors").await?;
        ensure!(
            errors.contains("받는 곳 우편번호") && errors.contains("받는 사람 연락처"),
            "{errors}"
        );
        ensure!(!errors.contains("받는 사람 이름"), "{errors}");
        let kept = s
            .client()
            .find(Locator::Css("#f-prize_address"))
            .await?
            .prop("value")
            .await?
            .unwrap_or_default();
        ensure!(kept.contains("지킴로 321"), "typed value kept: {kept}");
        s.check_page("entry-errors").await?;
        // A reload keeps the errors and what was typed (no "Confirm Form Resubmission").
        s.client().refresh().await?;
        ensure!(
            s.text_of(".errors").await? == errors,
            "errors after a reload"
        );
        let input = s.visible(Locator::Css("#f-prize_postal_code")).await?;
        ensure!(input.attr("aria-invalid").await?.as_deref() == Some("true"));
        ensure!(input.prop("value").await?.as_deref() == Some("4524"));
        fill(s, "#f-prize_recipient_name", RECIPIENT).await?;
        fill(s, "#f-prize_postal_code", "04524").await?;
        fill(s, "#f-prize_address", "서울특별시 중구 지킴로 321").await?;
        fill(s, "#f-prize_address_detail", "101동 1001호").await?;
        fill(s, "#f-prize_phone", "010-2345-6789").await?;
        click(s, "#save").await?;
        wait_path(s, "/mypage/prizes").await?;
        s.visible_text("배송 정보를 저장했습니다").await?;
        s.visible_text("배송 준비 중").await?;
        // Back to the form: it shows what is stored (to correct before delivery).
        s.client().back().await?;
        s.visible(Locator::Css("#prize-notice")).await?;
        let name = s
            .client()
            .find(Locator::Css("#f-prize_recipient_name"))
            .await?
            .prop("value")
            .await?
            .unwrap_or_default();
        ensure!(name == RECIPIENT, "the stored name: {name}");
        // English.
        s.goto("/mypage/prizes?lang=en").await?;
        s.visible_text("Being prepared for delivery").await?;
        s.check_page("prizes-en").await?;
        s.goto("/mypage?lang=ko").await?;
        ensure!(
            s.client()
                .find(Locator::Css("#prize-prompt"))
                .await
                .is_err(),
            "no prompt once entered"
        );

        // A handler opens the items for delivery and marks the prize delivered.
        s.client().delete_all_cookies().await?;
        let secret = enrolled(s, "park.handler", Role::Handler).await;
        office_login(s, "park.handler", &next_code(s, &secret)).await?;
        click(s, "#to-prizes").await?;
        wait_path(s, "/office/prizes").await?;
        ensure!(
            s.client()
                .find(Locator::Css("#create-event"))
                .await
                .is_err(),
            "a handler does not run events"
        );
        click(s, "#events a").await?;
        s.visible(Locator::Css("#open-1")).await?;
        ensure!(
            s.client()
                .find(Locator::Css("#record-winners"))
                .await
                .is_err()
        );
        click(s, "#open-1").await?;
        s.visible(Locator::Css("#opened")).await?;
        let opened = s.text_of("#opened").await?;
        ensure!(
            opened.contains(RECIPIENT) && opened.contains("010-2345-6789"),
            "{opened}"
        );
        s.check_page("opened").await?;
        let reveals = app
            .store()
            .audit_rows(0, 1000)
            .await?
            .into_iter()
            .filter(|r| {
                r.action == "item.reveal"
                    && r.actor == "staff:park.handler"
                    && r.purpose.as_deref() == Some("delivery")
                    && r.member_id == Some(member)
            })
            .count();
        ensure!(
            reveals == 1,
            "one logged reveal for delivery, got {reveals}"
        );
        click(s, "#deliver-1").await?;
        s.visible_text("배송 완료로 표시했습니다").await?;
        ensure!(s.text_of("#winner-1 .state").await? == "배송 완료");
        ensure!(
            s.client().find(Locator::Css("#opened")).await.is_err(),
            "the opened items are not shown again"
        );
        let until = (s.site.clock.today_kst() + chrono::Days::new(90)).to_string();
        s.visible_text(&until).await.context("kept until")?;
        s.check_page("delivered").await?;

        // The winner sees it delivered and until when it is kept; 91 days on, it is destroyed.
        s.client().delete_all_cookies().await?;
        login(s, &p).await?;
        s.goto("/mypage/prizes").await?;
        s.visible_text(&until).await?;
        s.site.clock.advance(chrono::Duration::days(91));
        let report = app
            .purge(&jikimi_core::Actor::Cli, false, &|_, _| {})
            .await?;
        ensure!(
            report
                .classes
                .iter()
                .any(|c| c.class == "prize_delivery" && c.records == 1),
            "{report:?}"
        );
        s.client().delete_all_cookies().await?;
        login(s, &p).await?;
        s.goto("/mypage/prizes").await?;
        s.visible_text("배송 정보를 파기했습니다").await?;
        ensure!(s.site.find_bytes(RECIPIENT.as_bytes()).await.is_none());
        Ok(())
    })
    .await;
}
