//! Payments (issue 15, S2) through PortOne, against the local fake of `jikimi_testkit::portone`:
//! an order is fulfilled only when PortOne says it is paid at the order's amount; webhooks are
//! verified the Standard Webhooks way and handled once; refunds, full and partial; payment
//! records outlive a withdrawal for 5 years and are purged the day after.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use chrono::Duration;
use jikimi_core::payments::{PaymentSetup, Product, state};
use jikimi_core::portone::WebhookRefusal;
use jikimi_core::{Actor, Clock, CoreError};
use jikimi_testkit::portone::FakePortOne;
use jikimi_testkit::{Backend, TestApp, lifeplan_selling, lifeplan_signup, person};

jikimi_testkit::backend_tests!(
    an_order_is_fulfilled_only_when_paid_at_its_amount,
    webhooks_are_verified_and_handled_once,
    refunds_go_partly_then_wholly_and_never_beyond_what_was_paid,
    payment_records_outlive_a_withdrawal_for_five_years_and_go_the_day_after,
    a_payment_record_keeps_only_the_items_the_policy_declares,
    a_member_withdraws_the_offer_within_seven_days_of_paying,
);

const SECRET: &str = "portone-payments-test-secret";
/// A synthetic test card number (the fake masks it; it must never be kept whole).
const CARD: &str = "5327500012341234";
const PRICE: i64 = 9_900;

async fn app(b: Backend, fake: &FakePortOne) -> TestApp {
    app_with(b, fake, lifeplan_selling()).await
}

async fn app_with(b: Backend, fake: &FakePortOne, policy: jikimi_policy::Policy) -> TestApp {
    let portone = Arc::new(fake.client(SECRET));
    let setup = PaymentSetup {
        portone,
        channel_key: fake.channel_key(),
        webhook_secret: Some(zeroize::Zeroizing::new(fake.webhook_secret())),
        products: vec![Product {
            id: "consulting".into(),
            name_ko: "재무 상담 1회".into(),
            name_en: "One financial consultation".into(),
            amount: PRICE,
        }],
    };
    TestApp::configured(b, policy, |cfg| cfg.payments = Some(setup))
        .await
        .unwrap()
}

async fn member(t: &TestApp, n: u32) -> uuid::Uuid {
    t.app.sign_up(lifeplan_signup(&person(n))).await.unwrap()
}

async fn payment_records(t: &TestApp) -> i64 {
    t.db()
        .await
        .count("SELECT COUNT(*) FROM retained_records WHERE class = 'payment_records'")
        .await
}

async fn an_order_is_fulfilled_only_when_paid_at_its_amount(b: Backend) {
    let fake = FakePortOne::start(SECRET);
    let t = app(b, &fake).await;
    let m = member(&t, 41).await;
    // The catalogue decides the amount; an unknown product is refused by name.
    assert!(matches!(
        t.app.create_order(m, "free-lunch").await,
        Err(CoreError::Invalid(e)) if e[0].field == "product"
    ));
    let order = t.app.create_order(m, "consulting").await.unwrap();
    assert_eq!(order.amount, PRICE);
    assert_eq!(order.state, state::PENDING);
    assert!(order.id.starts_with("jikimi-pay-"));

    // The window not finished: still pending, nothing recorded.
    assert_eq!(
        t.app.settle_order(&order.id).await.unwrap().state,
        state::PENDING
    );
    fake.open_payment(&order.id, &order.order_name, PRICE);
    assert_eq!(
        t.app.settle_order(&order.id).await.unwrap().state,
        state::PENDING
    );
    fake.pay(&order.id, &order.order_name, PRICE, CARD);
    let paid = t.app.settle_order(&order.id).await.unwrap();
    assert_eq!(paid.state, state::PAID);
    assert!(paid.record_id.is_some());
    assert_eq!(payment_records(&t).await, 1);
    // Settling again changes nothing (the return and the webhook both settle).
    assert_eq!(t.app.settle_order(&order.id).await.unwrap(), paid);
    assert_eq!(payment_records(&t).await, 1);
    // The card number is nowhere whole; the record keeps only PortOne's masked form, sealed.
    for needle in [CARD, &CARD[..12], "53275000****123*"] {
        assert_eq!(
            t.find_bytes(needle.as_bytes()).await,
            None,
            "{needle} is readable in the files"
        );
    }

    // Paid with another amount (the window's amount was changed in the browser): refused and
    // cancelled whole at PortOne; nothing is fulfilled or recorded as paid.
    let order = t.app.create_order(m, "consulting").await.unwrap();
    fake.tamper_next_amount(100);
    fake.pay(&order.id, &order.order_name, 100, CARD);
    let refused = t.app.settle_order(&order.id).await.unwrap();
    assert_eq!(refused.state, state::REFUSED);
    assert_eq!(refused.record_id, None);
    assert_eq!(fake.payment_status(&order.id).as_deref(), Some("CANCELLED"));
    assert_eq!(payment_records(&t).await, 1);

    // Failed in the window.
    let order = t.app.create_order(m, "consulting").await.unwrap();
    fake.fail_payment(&order.id, "사용자가 결제를 취소하였습니다");
    assert_eq!(
        t.app.settle_order(&order.id).await.unwrap().state,
        state::FAILED
    );
    let orders = t.app.member_orders(m).await.unwrap();
    assert_eq!(orders.len(), 3);
}

async fn webhooks_are_verified_and_handled_once(b: Backend) {
    let fake = FakePortOne::start(SECRET);
    let t = app(b, &fake).await;
    let m = member(&t, 42).await;
    let order = t.app.create_order(m, "consulting").await.unwrap();
    fake.pay(&order.id, &order.order_name, PRICE, CARD);
    let tx = fake.payment(&order.id).unwrap()["transactionId"]
        .as_str()
        .unwrap()
        .to_owned();
    let body =
        FakePortOne::webhook_body("Transaction.Paid", &order.id, &fake.store_id(), &tx, None);
    let now = t.clock.now().timestamp();
    let deliver = |headers: Vec<(String, String)>, body: String| {
        let app = t.app.clone();
        async move {
            let h = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
            app.payment_webhook(
                h("webhook-id").as_deref(),
                h("webhook-timestamp").as_deref(),
                h("webhook-signature").as_deref(),
                body.as_bytes(),
            )
            .await
        }
    };
    let refused = |r: Result<(), jikimi_core::payments::WebhookError>, why: WebhookRefusal| match r
    {
        Err(jikimi_core::payments::WebhookError::Refused(w)) => assert_eq!(w, why),
        other => panic!("expected {why:?}, got {other:?}"),
    };
    // Forged: signed with another secret.
    let other = FakePortOne::start("another-store-secret");
    refused(
        deliver(other.signed_webhook(&body, "wh-forged", now), body.clone()).await,
        WebhookRefusal::BadSignature,
    );
    // Altered after signing.
    let signed = fake.signed_webhook(&body, "wh-1", now);
    refused(
        deliver(signed.clone(), body.replace("Paid", "Failed")).await,
        WebhookRefusal::BadSignature,
    );
    // Stale (or from the future), beyond 5 minutes.
    refused(
        deliver(
            fake.signed_webhook(&body, "wh-old", now - 301),
            body.clone(),
        )
        .await,
        WebhookRefusal::Stale,
    );
    refused(
        deliver(
            fake.signed_webhook(&body, "wh-new", now + 301),
            body.clone(),
        )
        .await,
        WebhookRefusal::Stale,
    );
    // No headers.
    refused(
        deliver(vec![], body.clone()).await,
        WebhookRefusal::MissingHeaders,
    );
    assert_eq!(
        t.app.order(&order.id).await.unwrap().unwrap().state,
        state::PENDING,
        "no refused webhook settled anything"
    );

    // The real one settles the order from PortOne's answer.
    let queries = || {
        fake.api_requests()
            .iter()
            .filter(|(m, p)| m == "GET" && p == &format!("/payments/{}", order.id))
            .count()
    };
    deliver(signed.clone(), body.clone()).await.unwrap();
    assert_eq!(
        t.app.order(&order.id).await.unwrap().unwrap().state,
        state::PAID
    );
    let asked = queries();
    // Delivered again (PortOne retries): acknowledged, not acted on.
    deliver(signed, body.clone()).await.unwrap();
    assert_eq!(queries(), asked, "a retried webhook is handled once");
    assert_eq!(payment_records(&t).await, 1);
}

async fn refunds_go_partly_then_wholly_and_never_beyond_what_was_paid(b: Backend) {
    let fake = FakePortOne::start(SECRET);
    let t = app(b, &fake).await;
    let m = member(&t, 43).await;
    let office = Actor::Cli;
    let order = t.app.create_order(m, "consulting").await.unwrap();
    // Not paid: nothing to cancel.
    assert!(matches!(
        t.app
            .cancel_order(&office, &order.id, None, "고객 요청")
            .await,
        Err(CoreError::Conflict(_))
    ));
    fake.pay(&order.id, &order.order_name, PRICE, CARD);
    t.app.settle_order(&order.id).await.unwrap();
    // A reason is needed.
    assert!(matches!(
        t.app.cancel_order(&office, &order.id, Some(900), " ").await,
        Err(CoreError::Invalid(e)) if e[0].field == "reason"
    ));
    let part = t
        .app
        .cancel_order(&office, &order.id, Some(900), "일부 환불")
        .await
        .unwrap();
    assert_eq!(part.state, state::PARTIALLY_CANCELLED);
    assert_eq!(part.cancelled_amount, 900);
    assert_eq!(
        fake.payment_status(&order.id).as_deref(),
        Some("PARTIAL_CANCELLED")
    );
    // More than remains: refused by name, nothing sent to PortOne.
    assert!(matches!(
        t.app.cancel_order(&office, &order.id, Some(PRICE), "전액").await,
        Err(CoreError::Invalid(e)) if e[0].field == "amount"
    ));
    let whole = t
        .app
        .cancel_order(&office, &order.id, None, "청약철회")
        .await
        .unwrap();
    assert_eq!(whole.state, state::CANCELLED);
    assert_eq!(whole.cancelled_amount, PRICE);
    assert_eq!(fake.payment_status(&order.id).as_deref(), Some("CANCELLED"));
    assert!(matches!(
        t.app.cancel_order(&office, &order.id, None, "또").await,
        Err(CoreError::Conflict(_))
    ));
    // The payment and both refunds are recorded.
    assert_eq!(payment_records(&t).await, 3);

    // A withdrawn offer (청약철회): refunded whole, and kept as a contract record too.
    let order = t.app.create_order(m, "consulting").await.unwrap();
    fake.pay(&order.id, &order.order_name, PRICE, CARD);
    t.app.settle_order(&order.id).await.unwrap();
    let withdrawn = t
        .app
        .withdraw_offer(&Actor::Member(m), &order.id, "단순 변심")
        .await
        .unwrap();
    assert_eq!(withdrawn.state, state::CANCELLED);
    assert_eq!(withdrawn.cancelled_amount, PRICE);
    assert_eq!(payment_records(&t).await, 5);
    let contracts = t
        .db()
        .await
        .count("SELECT COUNT(*) FROM retained_records WHERE class = 'contract_records'")
        .await;
    assert_eq!(contracts, 1);
}

async fn payment_records_outlive_a_withdrawal_for_five_years_and_go_the_day_after(b: Backend) {
    let fake = FakePortOne::start(SECRET);
    let t = app(b, &fake).await;
    let m = member(&t, 44).await;
    let order = t.app.create_order(m, "consulting").await.unwrap();
    fake.pay(&order.id, &order.order_name, PRICE, CARD);
    let paid = t.app.settle_order(&order.id).await.unwrap();
    assert!(paid.record_id.is_some());
    assert_eq!(payment_records(&t).await, 1);

    // A refund of part of it: a second record.
    t.app
        .cancel_order(&Actor::Cli, &order.id, Some(900), "일부 환불")
        .await
        .unwrap();
    let receipt = t.app.withdraw(&Actor::Member(m), m, "web").await.unwrap();
    assert_eq!(payment_records(&t).await, 2, "kept after the member left");
    // The withdrawal says they are kept, and until when; the former member sees them with the
    // receipt; the order no longer names the member.
    let five_years = t
        .clock
        .today_kst()
        .checked_add_months(chrono::Months::new(60))
        .unwrap();
    assert!(
        receipt
            .retained
            .iter()
            .any(|r| r.class == "payment_records" && r.expires_on == five_years),
        "{receipt:?}"
    );
    let seen = t.app.retained_for_receipt(&receipt.code).await.unwrap();
    let payments: Vec<_> = seen
        .iter()
        .filter(|v| v.class == "payment_records")
        .collect();
    assert_eq!(payments.len(), 2, "{seen:?}");
    let events: Vec<&str> = payments
        .iter()
        .filter_map(|v| v.content["event"].as_str())
        .collect();
    assert!(
        events.contains(&"paid") && events.contains(&"cancelled"),
        "{events:?}"
    );
    assert_eq!(
        payments
            .iter()
            .find(|v| v.content["event"] == "paid")
            .unwrap()
            .content["card_number_masked"],
        "53275000****123*"
    );
    assert_eq!(
        t.app.order(&order.id).await.unwrap().unwrap().member_id,
        None
    );
    let purge = |t: &TestApp| {
        let app = t.app.clone();
        async move { app.purge(&Actor::Cli, false, &|_, _| {}).await.unwrap() }
    };
    // The last day of five years from the payment (KST): still kept.
    let today = t.clock.today_kst();
    let last = today.checked_add_months(chrono::Months::new(60)).unwrap();
    t.clock.advance(Duration::days((last - today).num_days()));
    purge(&t).await;
    assert_eq!(payment_records(&t).await, 2, "kept through its last day");
    t.clock.advance(Duration::days(1));
    purge(&t).await;
    assert_eq!(payment_records(&t).await, 0, "destroyed the day after");
}

/// A policy that declares only the card company as a payment item: the record keeps the card
/// company, and neither the masked number nor the instalments, though PortOne reports them.
async fn a_payment_record_keeps_only_the_items_the_policy_declares(b: Backend) {
    let selling = jikimi_testkit::SELLING
        .replace(
            r#"items = ["card_company", "card_number_masked", "installment_months"]"#,
            r#"items = ["card_company"]"#,
        )
        .replace(r#"id = "card_number_masked""#, r#"id = "unused_a""#)
        .replace(r#"id = "installment_months""#, r#"id = "unused_b""#)
        .replace(r#"kind = "card_number""#, r#"kind = "text""#)
        .replace(r#"sensitivity = "financial""#, "")
        .replace(r#"kind = "installment""#, r#"kind = "text""#);
    let src = jikimi_policy::Policy::builtin_source("lifeplan")
        .unwrap()
        .to_owned()
        + &selling;
    let policy = jikimi_policy::Policy::from_toml_str(&src, "card-company-only")
        .unwrap()
        .policy;
    let fake = FakePortOne::start(SECRET);
    let t = app_with(b, &fake, policy).await;
    let m = member(&t, 45).await;
    let order = t.app.create_order(m, "consulting").await.unwrap();
    fake.pay(&order.id, &order.order_name, PRICE, CARD);
    t.app.settle_order(&order.id).await.unwrap();
    let receipt = t.app.withdraw(&Actor::Member(m), m, "web").await.unwrap();
    let seen = t.app.retained_for_receipt(&receipt.code).await.unwrap();
    let paid = seen
        .iter()
        .find(|v| v.class == "payment_records" && v.content["event"] == "paid")
        .unwrap();
    assert_eq!(paid.content["card_publisher"], "TEST");
    assert!(
        paid.content["card_number_masked"].is_null(),
        "{:?}",
        paid.content
    );
    assert!(
        paid.content["installment_months"].is_null(),
        "{:?}",
        paid.content
    );
    assert_eq!(paid.content["amount"], PRICE);
    // Nothing of the card number anywhere, not even masked.
    assert!(t.find_bytes(b"53275000").await.is_none());
}

/// 청약철회 by the member (전자상거래법 제17조): their own paid order, within 7 days (KST) of the
/// day of payment, refunded whole with a payment record and a contract record; after that, or
/// another member's order, refused and nothing refunded.
async fn a_member_withdraws_the_offer_within_seven_days_of_paying(b: Backend) {
    let fake = FakePortOne::start(SECRET);
    let t = app(b, &fake).await;
    let m = member(&t, 46).await;
    let other = member(&t, 47).await;
    let late = t.app.create_order(m, "consulting").await.unwrap();
    fake.pay(&late.id, &late.order_name, PRICE, CARD);
    let late = t.app.settle_order(&late.id).await.unwrap();
    let last = t.clock.today_kst() + chrono::Days::new(7);
    assert_eq!(t.app.offer_withdrawable_until(&late), Some(last));
    // Not another member's.
    assert!(matches!(
        t.app.withdraw_own_offer(other, &late.id).await,
        Err(CoreError::NotFound(_))
    ));
    let on_time = t.app.create_order(m, "consulting").await.unwrap();
    fake.pay(&on_time.id, &on_time.order_name, PRICE, CARD);
    t.app.settle_order(&on_time.id).await.unwrap();
    // The seventh day after payment: still possible; the eighth: not.
    t.clock.advance(Duration::days(7));
    let done = t.app.withdraw_own_offer(m, &on_time.id).await.unwrap();
    assert_eq!(done.state, state::CANCELLED);
    assert_eq!(done.cancelled_amount, PRICE);
    assert_eq!(
        fake.payment_status(&on_time.id).as_deref(),
        Some("CANCELLED")
    );
    assert_eq!(t.app.offer_withdrawable_until(&done), None);
    let contracts = t
        .db()
        .await
        .count("SELECT COUNT(*) FROM retained_records WHERE class = 'contract_records'")
        .await;
    assert_eq!(contracts, 1);
    t.clock.advance(Duration::days(1));
    let late = t.app.order(&late.id).await.unwrap().unwrap();
    assert_eq!(t.app.offer_withdrawable_until(&late), None);
    assert!(matches!(
        t.app.withdraw_own_offer(m, &late.id).await,
        Err(CoreError::Conflict(_))
    ));
    assert_eq!(fake.payment_status(&late.id).as_deref(), Some("PAID"));
    assert_eq!(payment_records(&t).await, 3, "two payments and one refund");
}
