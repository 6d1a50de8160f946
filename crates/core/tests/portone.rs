//! 본인확인 through PortOne (issue 15), against the local fake of `jikimi_testkit::portone` that
//! answers `GET /identity-verifications/{id}` as PortOne's server SDK documents it. The server
//! accepts only `VERIFIED` for an id it issued, once, within its time; everything else is
//! refused and nothing is kept.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use chrono::{Duration, NaiveDate};
use jikimi_core::CoreError;
use jikimi_testkit::portone::FakePortOne;
use jikimi_testkit::{Backend, TestApp, builtin, lifeplan_signup, person, person_born};

jikimi_testkit::backend_tests!(
    a_portone_verification_feeds_one_sign_up_and_the_same_person_cannot_join_twice,
    only_a_verified_answer_for_an_id_issued_here_once_and_in_time_is_taken,
    a_child_verified_through_portone_is_stopped_with_nothing_kept,
);

const SECRET: &str = "portone-test-api-secret-0001";

async fn app(b: Backend, fake: &FakePortOne, secret: &str) -> TestApp {
    let portone = Arc::new(fake.client(secret));
    TestApp::configured(b, builtin("lifeplan"), |cfg| cfg.identity = Some(portone))
        .await
        .unwrap()
}

/// Digits of a person's mobile number, as the agency gives it.
fn digits(mobile: &str) -> String {
    mobile.chars().filter(char::is_ascii_digit).collect()
}

async fn a_portone_verification_feeds_one_sign_up_and_the_same_person_cannot_join_twice(
    b: Backend,
) {
    let fake = FakePortOne::start(SECRET);
    let t = app(b, &fake, SECRET).await;
    let window = t.app.identity_window().unwrap();
    assert_eq!(window.store_id, fake.store_id());
    assert_eq!(window.sdk_url, fake.sdk_url());
    assert_eq!(window.origin, fake.url());

    let p = person(21);
    let id = t.app.identity_window_issue_from(None).await.unwrap();
    assert!(id.starts_with("jikimi-iv-"), "{id}");
    assert_ne!(id, t.app.identity_window_issue_from(None).await.unwrap());
    fake.verify_identity(&id, &p.name, p.birth, &digits(&p.mobile));
    let token = t.app.identity_window_return_from(None, &id).await.unwrap();
    let verified = t.app.identity_for(token.expose()).await.unwrap();
    assert_eq!(verified.name, p.name);
    assert_eq!(verified.birth_date, p.birth);
    assert_eq!(verified.ci, FakePortOne::identity_ci(&p.name, p.birth));
    assert!(!verified.di.is_empty());
    assert_eq!(
        verified.mobile,
        jikimi_kr::Phone::parse(&p.mobile).unwrap().e164()
    );
    // The query named the store and carried the secret (the fake refuses it otherwise).
    assert!(
        fake.api_requests()
            .iter()
            .any(|(m, path)| m == "GET" && path == &format!("/identity-verifications/{id}"))
    );

    let mut s = lifeplan_signup(&p);
    s.identity = None;
    let member = t
        .app
        .sign_up_with_identity_token(s, token.expose())
        .await
        .unwrap();

    // The same person again, in another verification: the CI is the same, so no second account.
    let again = t.app.identity_window_issue_from(None).await.unwrap();
    fake.verify_identity(&again, &p.name, p.birth, &digits(&p.mobile));
    let token = t
        .app
        .identity_window_return_from(None, &again)
        .await
        .unwrap();
    let mut second = lifeplan_signup(&person(22));
    second.identity = None;
    match t
        .app
        .sign_up_with_identity_token(second, token.expose())
        .await
    {
        Err(CoreError::AlreadyMember { field, .. }) => assert!(field == "ci" || field == "di"),
        other => panic!("expected AlreadyMember, got {other:?} for {member}"),
    }
}

async fn only_a_verified_answer_for_an_id_issued_here_once_and_in_time_is_taken(b: Backend) {
    let fake = FakePortOne::start(SECRET);
    let t = app(b, &fake, SECRET).await;
    let p = person(23);
    let refused = |r: Result<jikimi_core::Revealed, CoreError>, what: &str| match r {
        Err(CoreError::Identity(_)) => {}
        other => panic!("{what}: expected an identity refusal, got {other:?}"),
    };

    // An id this server did not issue, though PortOne verified it (another site's, or forged).
    let forged = "jikimi-iv-not-issued-here";
    fake.verify_identity(forged, &p.name, p.birth, &digits(&p.mobile));
    refused(
        t.app.identity_window_return_from(None, forged).await,
        "another id",
    );

    // Replayed: an id is taken once.
    let id = t.app.identity_window_issue_from(None).await.unwrap();
    fake.verify_identity(&id, &p.name, p.birth, &digits(&p.mobile));
    t.app.identity_window_return_from(None, &id).await.unwrap();
    refused(
        t.app.identity_window_return_from(None, &id).await,
        "replayed",
    );

    // Expired: an id comes back within 15 minutes.
    let id = t.app.identity_window_issue_from(None).await.unwrap();
    fake.verify_identity(&id, &p.name, p.birth, &digits(&p.mobile));
    t.clock.advance(Duration::minutes(16));
    refused(
        t.app.identity_window_return_from(None, &id).await,
        "expired",
    );

    // Failed in the window (cancelled by the person, or refused by the agency).
    let id = t.app.identity_window_issue_from(None).await.unwrap();
    fake.fail_identity(&id, "사용자가 본인인증을 취소하였습니다");
    refused(t.app.identity_window_return_from(None, &id).await, "failed");
    // ... and the id is spent: verifying it afterwards does not help.
    fake.verify_identity(&id, &p.name, p.birth, &digits(&p.mobile));
    refused(
        t.app.identity_window_return_from(None, &id).await,
        "failed, then verified",
    );

    // Opened, not finished (the person came back without completing it).
    let id = t.app.identity_window_issue_from(None).await.unwrap();
    fake.open_identity(&id);
    refused(t.app.identity_window_return_from(None, &id).await, "ready");

    // Never opened: PortOne does not know the id (404).
    let id = t.app.identity_window_issue_from(None).await.unwrap();
    refused(
        t.app.identity_window_return_from(None, &id).await,
        "unknown",
    );

    // PortOne unavailable: the request is not taken for a verification.
    let id = t.app.identity_window_issue_from(None).await.unwrap();
    fake.verify_identity(&id, &p.name, p.birth, &digits(&p.mobile));
    fake.fail_next(503);
    assert!(matches!(
        t.app.identity_window_return_from(None, &id).await,
        Err(CoreError::Unavailable(_))
    ));

    // A wrong API secret: PortOne refuses us (401), which is not the visitor's doing.
    let wrong = app(b, &fake, "not-the-secret").await;
    let id = wrong.app.identity_window_issue_from(None).await.unwrap();
    fake.verify_identity(&id, &p.name, p.birth, &digits(&p.mobile));
    assert!(matches!(
        wrong.app.identity_window_return_from(None, &id).await,
        Err(CoreError::Unavailable(_))
    ));

    // Nothing of the person is kept by any of these.
    let n = t
        .db()
        .await
        .count("SELECT COUNT(*) FROM identity_verifications WHERE length(sealed) > 0")
        .await;
    assert_eq!(n, 1, "only the one verified result is kept");
    assert_eq!(t.db().await.count("SELECT COUNT(*) FROM members").await, 0);
}

async fn a_child_verified_through_portone_is_stopped_with_nothing_kept(b: Backend) {
    let fake = FakePortOne::start(SECRET);
    let t = app(b, &fake, SECRET).await;
    let child = person_born(24, NaiveDate::from_ymd_opt(2015, 5, 5).unwrap());
    let id = t.app.identity_window_issue_from(None).await.unwrap();
    fake.verify_identity(&id, &child.name, child.birth, &digits(&child.mobile));
    assert!(matches!(
        t.app.identity_window_return_from(None, &id).await,
        Err(CoreError::ChildNeedsGuardian { age: 14 })
    ));
    let n = t
        .db()
        .await
        .count("SELECT COUNT(*) FROM identity_verifications")
        .await;
    assert_eq!(n, 0, "neither the request nor a result is kept");
}
