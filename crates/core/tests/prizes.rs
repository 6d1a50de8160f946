//! Event prizes (issue 15, S3): the office records winners, a winner enters the policy's prize
//! items (validated like every item, sealed under the entry's own key), staff open them only for
//! the `delivery` purpose (audited), mark the prize delivered, and the purge destroys the items
//! the day after the `prize_delivery` period (90 days in `lifeplan`) with a destruction record.
//! A member who leaves takes the items along.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use chrono::Duration;
use jikimi_core::prizes::state;
use jikimi_core::staff::Role;
use jikimi_core::{Actor, Clock, CoreError, Revealed};
use jikimi_testkit::{Backend, TestApp, lifeplan_signup, person};
use uuid::Uuid;

jikimi_testkit::backend_tests!(
    a_prize_is_entered_revealed_for_delivery_and_destroyed_after_its_period,
    a_winner_who_leaves_takes_the_delivery_items_along,
    only_the_office_records_winners_and_only_the_winner_enters_the_items,
);

const RECIPIENT: &str = "나경품";
const STREET: &str = "서울특별시 중구 지킴로 321";

fn entry(phone: &str, postal: &str) -> BTreeMap<String, Revealed> {
    [
        ("prize_recipient_name", RECIPIENT),
        ("prize_postal_code", postal),
        ("prize_address", STREET),
        ("prize_address_detail", "101동 1001호"),
        ("prize_phone", phone),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), Revealed::new(v.to_owned())))
    .collect()
}

/// An event with `winners` (login IDs) recorded by a manager.
async fn event(t: &TestApp, winners: &str) -> Uuid {
    let manager = Actor::Staff("manager".into());
    let e = t
        .app
        .create_prize_event(&manager, "가을 설문 이벤트", "커피 교환권")
        .await
        .unwrap();
    t.app
        .record_prize_winners(&manager, e.id, winners)
        .await
        .unwrap();
    e.id
}

async fn staff(t: &TestApp) {
    for (name, role) in [
        ("manager", Role::Manager),
        ("handler", Role::Handler),
        ("auditor", Role::Auditor),
    ] {
        t.app.add_staff(&Actor::Cli, name, role).await.unwrap();
    }
}

async fn a_prize_is_entered_revealed_for_delivery_and_destroyed_after_its_period(b: Backend) {
    let t = TestApp::on(b, "lifeplan").await;
    staff(&t).await;
    let p = person(61);
    let m = t.app.sign_up(lifeplan_signup(&p)).await.unwrap();
    let ev = event(&t, &format!("{}\n", p.login_id)).await;
    let prizes = t.app.member_prizes(m).await.unwrap();
    assert_eq!(prizes.len(), 1);
    let (w, e) = &prizes[0];
    assert_eq!((w.state.as_str(), e.id), (state::AWAITING, ev));
    let winner = w.id;

    // Bad values are refused by item and rule, and nothing changes.
    let before = t.data_image().await;
    let mut bad = entry("02-123", "4524");
    bad.remove("prize_recipient_name");
    match t.app.enter_prize(m, winner, &bad).await {
        Err(CoreError::Invalid(errors)) => {
            let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
            assert!(fields.contains(&"prize_recipient_name"), "{fields:?}");
            assert!(fields.contains(&"prize_postal_code"), "{fields:?}");
            assert!(fields.contains(&"prize_phone"), "{fields:?}");
            let named = errors
                .iter()
                .find(|e| e.field == "prize_postal_code")
                .unwrap();
            assert!(named.ko.contains("받는 곳 우편번호"), "{}", named.ko);
        }
        other => panic!("expected field errors, got {other:?}"),
    }
    assert!(
        t.data_image().await == before,
        "a refused entry wrote nothing"
    );
    // An item that is not a prize item is refused too.
    let mut extra = entry("010-2345-6789", "04524");
    extra.insert("rrn".into(), Revealed::new("9001011234568".into()));
    assert!(matches!(
        t.app.enter_prize(m, winner, &extra).await,
        Err(CoreError::Invalid(e)) if e.iter().any(|e| e.field == "rrn")
    ));

    t.app
        .enter_prize(m, winner, &entry("010-2345-6789", "04524"))
        .await
        .unwrap();
    // Sealed: no value is stored in the clear anywhere, and the entry has its own key.
    for v in [RECIPIENT, STREET, "01023456789", "+821023456789"] {
        assert!(
            !t.stored()
                .await
                .iter()
                .any(|(_, bytes)| jikimi_testkit::contains(bytes, v)),
            "{v} stored in the clear"
        );
    }
    let context = format!("prize:{winner}");
    assert!(t.keys_db().await.wrapped_key(&context).await.is_some());
    // The winner sees their own entry (stored form) and may correct it before delivery.
    let own = t.app.own_prize_entry(m, winner).await.unwrap();
    assert_eq!(own["prize_recipient_name"], RECIPIENT);
    t.app
        .enter_prize(m, winner, &entry("02-312-3456", "04524"))
        .await
        .unwrap();

    // Staff without the power to read members' data cannot open it; a handler can, for delivery,
    // and the reveal is in the audit chain with that purpose and without values.
    let auditor = Actor::Staff("auditor".into());
    assert!(matches!(
        t.app.reveal_prize(&auditor, None, winner).await,
        Err(CoreError::Forbidden(_))
    ));
    let handler = Actor::Staff("handler".into());
    let shown = t
        .app
        .reveal_prize(&handler, Some("192.0.2.7"), winner)
        .await
        .unwrap();
    assert_eq!(shown["prize_recipient_name"], RECIPIENT);
    assert_eq!(shown["prize_phone"], "02-312-3456");
    assert_eq!(shown["prize_postal_code"], "04524");
    let rows = t.app.store().audit_rows(0, 1000).await.unwrap();
    let reveal = rows
        .iter()
        .rfind(|r| r.action == "item.reveal" && r.actor == "staff:handler")
        .unwrap();
    assert_eq!(reveal.purpose.as_deref(), Some("delivery"));
    assert_eq!(reveal.outcome, "ok");
    assert_eq!(reveal.member_id, Some(m));
    assert_eq!(reveal.origin.as_deref(), Some("192.0.2.7"));
    assert!(reveal.items.contains("prize_address"), "{}", reveal.items);
    assert!(!reveal.detail.contains(RECIPIENT));

    // A member who stopped processing for delivery (PIPA Art. 37) is not opened: refused, logged.
    t.db()
        .await
        .execute(
            "INSERT INTO processing_suspensions (member_id, purpose, since) VALUES ($1, 'delivery', '2026-01-01T00:00:00Z')",
            &[m],
        )
        .await
        .unwrap();
    assert!(matches!(
        t.app.reveal_prize(&handler, None, winner).await,
        Err(CoreError::PurposeDenied { .. })
    ));
    let rows = t.app.store().audit_rows(0, 1000).await.unwrap();
    let denied = rows
        .iter()
        .rfind(|r| r.action == "item.reveal" && r.actor == "staff:handler")
        .unwrap();
    assert_eq!(denied.outcome, "denied");
    t.db()
        .await
        .execute(
            "DELETE FROM processing_suspensions WHERE member_id = $1",
            &[m],
        )
        .await
        .unwrap();

    // Not deliverable before the items are entered; delivered once.
    let delivered = t.app.mark_prize_delivered(&handler, winner).await.unwrap();
    assert_eq!(delivered.state, state::DELIVERED);
    let last = t.clock.today_kst() + chrono::Days::new(90);
    assert_eq!(delivered.expires_on, Some(last));
    assert!(matches!(
        t.app.mark_prize_delivered(&handler, winner).await,
        Err(CoreError::Conflict(_))
    ));
    // Delivered: the winner can no longer change it.
    assert!(matches!(
        t.app
            .enter_prize(m, winner, &entry("010-2345-6789", "04524"))
            .await,
        Err(CoreError::Conflict(_))
    ));

    // Kept through its last day (90 days after delivery), destroyed the day after.
    let purge = |t: &TestApp| {
        let app = t.app.clone();
        async move { app.purge(&Actor::Cli, false, &|_, _| {}).await.unwrap() }
    };
    t.clock.advance(Duration::days(90));
    let report = purge(&t).await;
    assert!(
        !report.classes.iter().any(|c| c.class == "prize_delivery"),
        "{report:?}"
    );
    assert!(t.app.reveal_prize(&handler, None, winner).await.is_ok());
    t.clock.advance(Duration::days(1));
    let report = purge(&t).await;
    let class = report
        .classes
        .iter()
        .find(|c| c.class == "prize_delivery")
        .unwrap();
    assert_eq!((class.records, class.keys), (1, 1));
    // Gone: no key, no ciphertext, the staff cannot open it, and a destruction record says so.
    assert!(t.keys_db().await.wrapped_key(&context).await.is_none());
    let w = &t.app.member_prizes(m).await.unwrap()[0].0;
    assert_eq!(w.state, state::DESTROYED);
    assert!(w.sealed.is_none());
    assert!(matches!(
        t.app.reveal_prize(&handler, None, winner).await,
        Err(CoreError::NotFound(_))
    ));
    let d = t.app.destruction_records().await.unwrap();
    let rec = d
        .iter()
        .find(|r| r.class == "prize_delivery" && r.event == "purge")
        .unwrap();
    assert_eq!((rec.count, rec.method.as_str()), (1, "key_destruction"));
    assert_eq!(rec.run_id, Some(report.run_id));
    // The member stays; the event and the winner's state stay, without the items.
    assert!(t.app.store().member(m).await.unwrap().is_some());
    t.app.verify_audit().await.unwrap();
}

async fn a_winner_who_leaves_takes_the_delivery_items_along(b: Backend) {
    let t = TestApp::on(b, "lifeplan").await;
    staff(&t).await;
    let (p, q) = (person(62), person(63));
    let m = t.app.sign_up(lifeplan_signup(&p)).await.unwrap();
    let n = t.app.sign_up(lifeplan_signup(&q)).await.unwrap();
    // E-mail addresses name winners too.
    let ev = event(&t, &format!("{}, {}", p.login_id, q.email)).await;
    assert_eq!(t.app.prize_winners(ev).await.unwrap().len(), 2);
    let wm = t.app.member_prizes(m).await.unwrap()[0].0.id;
    let wn = t.app.member_prizes(n).await.unwrap()[0].0.id;
    t.app
        .enter_prize(m, wm, &entry("010-2345-6789", "04524"))
        .await
        .unwrap();
    t.app
        .enter_prize(n, wn, &entry("010-3456-7890", "04524"))
        .await
        .unwrap();
    let handler = Actor::Staff("handler".into());
    t.app.mark_prize_delivered(&handler, wn).await.unwrap();

    // Both leave: the one waiting for delivery and the one delivered.
    t.app.withdraw(&Actor::Member(m), m, "web").await.unwrap();
    t.app.withdraw(&Actor::Member(n), n, "web").await.unwrap();
    for w in [wm, wn] {
        assert!(
            t.keys_db()
                .await
                .wrapped_key(&format!("prize:{w}"))
                .await
                .is_none()
        );
        assert!(matches!(
            t.app.reveal_prize(&handler, None, w).await,
            Err(CoreError::NotFound(_))
        ));
    }
    let winners = t.app.prize_winners(ev).await.unwrap();
    assert!(
        winners
            .iter()
            .all(|w| w.state == state::WITHDRAWN && w.sealed.is_none() && w.member_id.is_none())
    );
    let d = t.app.destruction_records().await.unwrap();
    let prize: Vec<_> = d
        .iter()
        .filter(|r| r.class == "prize_delivery" && r.event == "withdrawal")
        .collect();
    assert_eq!(prize.len(), 2);
    assert!(prize.iter().all(|r| r.count == 1));
    for v in [RECIPIENT, STREET] {
        assert!(
            !t.stored()
                .await
                .iter()
                .any(|(_, bytes)| jikimi_testkit::contains(bytes, v))
        );
    }
}

async fn only_the_office_records_winners_and_only_the_winner_enters_the_items(b: Backend) {
    let t = TestApp::on(b, "lifeplan").await;
    staff(&t).await;
    let (p, q) = (person(64), person(65));
    let m = t.app.sign_up(lifeplan_signup(&p)).await.unwrap();
    let n = t.app.sign_up(lifeplan_signup(&q)).await.unwrap();
    let manager = Actor::Staff("manager".into());
    let handler = Actor::Staff("handler".into());
    // A handler may not run events; empty names are refused by field.
    assert!(matches!(
        t.app.create_prize_event(&handler, "이벤트", "경품").await,
        Err(CoreError::Forbidden(_))
    ));
    match t.app.create_prize_event(&manager, " ", "").await {
        Err(CoreError::Invalid(e)) => {
            let fields: Vec<&str> = e.iter().map(|e| e.field.as_str()).collect();
            assert_eq!(fields, ["title", "prize"]);
        }
        other => panic!("{other:?}"),
    }
    let e = t
        .app
        .create_prize_event(&manager, "가입 축하 이벤트", "문화상품권")
        .await
        .unwrap();
    // A line naming nobody refuses the whole list, by line, and records nobody.
    match t
        .app
        .record_prize_winners(&manager, e.id, &format!("{}\nnobody-here", p.login_id))
        .await
    {
        Err(CoreError::Invalid(errs)) => {
            assert_eq!(errs[0].field, "winners");
            assert!(errs[0].ko.contains("2번째 줄"), "{}", errs[0].ko);
            assert!(!errs[0].ko.contains("nobody-here"));
        }
        other => panic!("{other:?}"),
    }
    assert!(t.app.prize_winners(e.id).await.unwrap().is_empty());
    assert!(matches!(
        t.app.record_prize_winners(&manager, e.id, " \n ").await,
        Err(CoreError::Invalid(_))
    ));
    // Recorded once, however often named.
    let added = t
        .app
        .record_prize_winners(&manager, e.id, &format!("{0}\n{0}", p.login_id))
        .await
        .unwrap();
    assert_eq!(added, 1);
    let again = t
        .app
        .record_prize_winners(&manager, e.id, &p.login_id)
        .await
        .unwrap();
    assert_eq!(again, 0);
    // Another member cannot see or fill in the winner's entry; not deliverable while awaiting.
    let w = t.app.member_prizes(m).await.unwrap()[0].0.id;
    assert!(t.app.member_prizes(n).await.unwrap().is_empty());
    assert!(matches!(
        t.app
            .enter_prize(n, w, &entry("010-2345-6789", "04524"))
            .await,
        Err(CoreError::NotFound(_))
    ));
    assert!(matches!(
        t.app.own_prize_entry(n, w).await,
        Err(CoreError::NotFound(_))
    ));
    assert!(matches!(
        t.app.mark_prize_delivered(&handler, w).await,
        Err(CoreError::Conflict(_))
    ));
    assert!(matches!(
        t.app.reveal_prize(&handler, None, w).await,
        Err(CoreError::NotFound(_))
    ));
}
