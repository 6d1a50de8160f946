//! Payments through PortOne in the browser (issue 15): a member buys a paid service, pays in
//! PortOne's window (the local fake of `jikimi_testkit::portone`) or cancels there, and sees the
//! order as PortOne itself says it went; PortOne's webhook reaches the site over HTTP and is
//! verified.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;

use anyhow::{Context as _, ensure};
use fantoccini::Locator;
use jikimi_core::payments::{PaymentSetup, Product};
use jikimi_testkit::portone::FakePortOne;
use jikimi_testkit::{Backend, person};
use support::steps::{click, enrolled, fill, login, next_code, office_login, wait_path};

jikimi_testkit::backend_tests!(
    a_member_pays_in_portones_window_and_cancels_another_time,
    a_manager_refunds_part_of_an_order_then_the_rest,
    a_member_withdraws_an_order_within_seven_days,
);

const SECRET: &str = "portone-payments-browser-secret";
const CARD: &str = "5327500012341234";

fn setup(fake: &FakePortOne) -> support::Setup {
    let portone = fake.client(SECRET);
    support::Setup {
        payments: Some(PaymentSetup {
            portone: Arc::new(portone),
            channel_key: fake.channel_key(),
            webhook_secret: Some(jikimi_core::payments::Secret::new(fake.webhook_secret())),
            products: vec![Product {
                id: "consulting".into(),
                name_ko: "재무 상담 1회".into(),
                name_en: "One financial consultation".into(),
                amount: 12_900,
            }],
        }),
        policy: Some(jikimi_testkit::lifeplan_selling()),
        ..support::Setup::default()
    }
}

async fn a_member_pays_in_portones_window_and_cancels_another_time(b: Backend) {
    let fake = FakePortOne::start(SECRET);
    support::run_setup("payments", "lifeplan", b, setup(&fake), async |s| {
        // Webhooks are signed with the real time: the site's clock follows it here.
        s.site.clock.set(chrono::Utc::now());
        fake.set_webhook_url(&s.url("/api/v1/payments/webhook"));
        let p = person(551);
        s.site
            .app
            .sign_up(jikimi_testkit::lifeplan_signup(&p))
            .await?;
        login(s, &p).await?;
        click(s, "#orders-link").await?;
        wait_path(s, "/mypage/orders").await?;
        s.visible(Locator::Css("#no-orders")).await?;
        let price = s.text_of("#products .price").await?;
        ensure!(price == "12,900원", "{price}");
        s.check_page("orders").await?;

        // Buy, and pay in PortOne's window.
        click(s, "#buy-consulting").await?;
        s.visible(Locator::Css("#card_number"))
            .await
            .context("PortOne's payment window")?;
        let url = s.client().current_url().await?;
        ensure!(url.as_str().starts_with(&fake.url()), "{url}");
        s.screenshot("window").await?;
        fill(s, "#card_number", CARD).await?;
        click(s, "button[value=pay]").await?;
        wait_path(s, "/mypage/orders").await?;
        let notice = s.text_of("#notice").await?;
        ensure!(notice.contains("결제를 마쳤습니다"), "{notice}");
        let state = s.text_of("#orders tbody tr .state").await?;
        ensure!(state.contains("결제 완료"), "{state}");
        s.check_page("paid").await?;
        // PortOne's webhook came over HTTP, verified, and was acknowledged.
        let sent = fake.wait_webhooks(1).await;
        ensure!(
            sent.iter()
                .any(|(kind, status)| kind == "Transaction.Paid" && *status == 200),
            "webhooks: {sent:?}"
        );

        // Another time: cancelled in the window, so not paid.
        click(s, "#buy-consulting").await?;
        s.visible(Locator::Css("#card_number")).await?;
        click(s, "button[value=cancel]").await?;
        wait_path(s, "/mypage/orders").await?;
        let notice = s.text_of("#notice").await?;
        ensure!(notice.contains("결제를 마치지 않았습니다"), "{notice}");
        let rows = s
            .client()
            .find_all(Locator::Css("#orders tbody tr"))
            .await?;
        ensure!(rows.len() == 2, "two orders");
        let mut states = Vec::new();
        for r in &rows {
            states.push(r.text().await?);
        }
        ensure!(
            states.iter().any(|t| t.contains("결제 안 됨"))
                && states.iter().any(|t| t.contains("결제 완료")),
            "one paid, one not: {states:?}"
        );

        // English, at 390 px.
        s.goto("/mypage/orders?lang=en").await?;
        ensure!(s.text_of("#products .price").await? == "12,900 won");
        s.check_page("orders-en").await?;
        // The payment is recorded (sealed: no card number anywhere in the site's files).
        let kept = s
            .site
            .db()
            .await
            .count("SELECT COUNT(*) FROM retained_records WHERE class = 'payment_records'")
            .await;
        ensure!(kept == 1, "one payment record, got {kept}");
        ensure!(s.site.find_bytes(CARD.as_bytes()).await.is_none());

        // The member leaves; with the receipt, the payment record is there to see, masked.
        let member = s.site.app.store().member_ids().await?[0];
        let receipt = s
            .site
            .app
            .withdraw(&jikimi_core::Actor::Member(member), member, "web")
            .await?;
        s.client().delete_all_cookies().await?;
        s.goto("/retained").await?;
        fill(s, "#receipt", &receipt.code).await?;
        click(s, "#lookup").await?;
        // The kept records, once the answer is there; each record's content opens on request.
        s.visible(Locator::Css("details summary"))
            .await
            .context("what is kept, looked up with the receipt")?;
        for summary in s.client().find_all(Locator::Css("details summary")).await? {
            summary.click().await?;
        }
        s.visible(Locator::Css("table.record-content")).await?;
        s.visible_text("53275000****123*")
            .await
            .context("the payment record, card number masked")?;
        s.visible_text("12,900원").await?;
        s.check_page("retained").await?;
        Ok(())
    })
    .await;
}

/// A manager finds the order by its number and refunds part of it, then the rest; a wrong amount
/// is named; a handler (who works only requests assigned to them) has no such page.
async fn a_manager_refunds_part_of_an_order_then_the_rest(b: Backend) {
    let fake = FakePortOne::start(SECRET);
    support::run_setup("refunds", "lifeplan", b, setup(&fake), async |s| {
        let app = &s.site.app;
        let p = person(552);
        let member = app.sign_up(jikimi_testkit::lifeplan_signup(&p)).await?;
        let order = app.create_order(member, "consulting").await?;
        fake.pay(&order.id, &order.order_name, order.amount, CARD);
        app.settle_order(&order.id).await?;

        let secret = enrolled(s, "lee.manager", jikimi_core::staff::Role::Manager).await;
        office_login(s, "lee.manager", &next_code(s, &secret)).await?;
        click(s, "#to-orders").await?;
        wait_path(s, "/office/orders").await?;
        fill(s, "#order-id", "jikimi-pay-no-such-order").await?;
        click(s, "#find-order").await?;
        s.visible(Locator::Css("#order-not-found")).await?;
        fill(s, "#order-id", &order.id).await?;
        s.submit("#find-order").await?;
        ensure!(s.text_of("#order-state").await? == "결제 완료");
        s.check_page("order").await?;
        // More than was paid: named, nothing refunded.
        fill(s, "#amount", "20000").await?;
        fill(s, "#reason", "고객 요청").await?;
        s.submit("#refund").await?;
        let errors = s.text_of(".errors").await?;
        ensure!(errors.contains("남은 금액 12900원"), "{errors}");
        ensure!(fake.payment_status(&order.id).as_deref() == Some("PAID"));
        fill(s, "#amount", "2,900").await?;
        fill(s, "#reason", "일부 환불 요청").await?;
        click(s, "#refund").await?;
        s.visible_text("환불했습니다").await?;
        ensure!(s.text_of("#order-state").await? == "일부 환불");
        ensure!(s.text_of("#order-refunded").await? == "2,900원");
        // The rest, as a withdrawn offer (청약철회): an amount with it is refused by name.
        fill(s, "#amount", "1000").await?;
        click(s, "#offer-withdrawn").await?;
        fill(s, "#reason", "청약철회").await?;
        s.submit("#refund").await?;
        let errors = s.text_of(".errors").await?;
        ensure!(errors.contains("청약철회는 남은 금액을 모두"), "{errors}");
        fill(s, "#amount", "").await?;
        click(s, "#offer-withdrawn").await?;
        fill(s, "#reason", "청약철회").await?;
        click(s, "#refund").await?;
        s.visible_text("환불했습니다").await?;
        ensure!(s.text_of("#order-state").await? == "환불 완료");
        ensure!(s.client().find(Locator::Css("#refund")).await.is_err());
        ensure!(fake.payment_status(&order.id).as_deref() == Some("CANCELLED"));
        s.check_page("refunded").await?;
        let kept = s
            .site
            .db()
            .await
            .count("SELECT COUNT(*) FROM retained_records WHERE class = 'payment_records'")
            .await;
        ensure!(
            kept == 3,
            "the payment and two refunds recorded, got {kept}"
        );
        let contracts = s
            .site
            .db()
            .await
            .count("SELECT COUNT(*) FROM retained_records WHERE class = 'contract_records'")
            .await;
        ensure!(
            contracts == 1,
            "the withdrawn offer recorded, got {contracts}"
        );

        // A handler has no refund page.
        let secret = enrolled(s, "park.handler", jikimi_core::staff::Role::Handler).await;
        s.goto("/office/logout").await.ok();
        s.client().delete_all_cookies().await?;
        office_login(s, "park.handler", &next_code(s, &secret)).await?;
        ensure!(s.client().find(Locator::Css("#to-orders")).await.is_err());
        s.goto("/office/orders").await?;
        let h1 = s.text_of("h1").await?;
        ensure!(!h1.contains("환불"), "a handler sees {h1}");
        Ok(())
    })
    .await;
}

/// 청약철회 by the member: a paid order shows the button with its last day; pressing it refunds
/// the whole payment; an order paid eight days ago shows none.
async fn a_member_withdraws_an_order_within_seven_days(b: Backend) {
    let fake = FakePortOne::start(SECRET);
    support::run_setup("offer", "lifeplan", b, setup(&fake), async |s| {
        let app = &s.site.app;
        let p = person(553);
        let member = app.sign_up(jikimi_testkit::lifeplan_signup(&p)).await?;
        let old = app.create_order(member, "consulting").await?;
        fake.pay(&old.id, &old.order_name, old.amount, CARD);
        app.settle_order(&old.id).await?;
        s.site.clock.advance(chrono::Duration::days(8));
        let order = app.create_order(member, "consulting").await?;
        fake.pay(&order.id, &order.order_name, order.amount, CARD);
        app.settle_order(&order.id).await?;
        login(s, &p).await?;
        s.goto("/mypage/orders").await?;
        let button = format!("#withdraw-{}", order.id);
        s.visible(Locator::Css(&button)).await?;
        let until =
            (jikimi_core::Clock::today_kst(&*s.site.clock) + chrono::Days::new(7)).to_string();
        s.visible_text(&until).await.context("the last day")?;
        ensure!(
            s.client()
                .find(Locator::Css(&format!("#withdraw-{}", old.id)))
                .await
                .is_err(),
            "no button for an order paid eight days ago"
        );
        s.check_page("offer").await?;
        click(s, &button).await?;
        s.visible_text("청약을 철회했습니다").await?;
        ensure!(s.client().find(Locator::Css(&button)).await.is_err());
        ensure!(fake.payment_status(&order.id).as_deref() == Some("CANCELLED"));
        ensure!(fake.payment_status(&old.id).as_deref() == Some("PAID"));
        s.check_page("offer-withdrawn").await?;
        Ok(())
    })
    .await;
}
