//! Sessions, login limits, password change and identity verification, without HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::Duration;
use jikimi_core::identity::{Carrier, IdentityRequest};
use jikimi_core::{Actor, CoreError, Revealed};
use jikimi_testkit::Backend;
use jikimi_testkit::{TestApp, lifeplan_signup, person, person_born, seed_signup};

jikimi_testkit::backend_tests!(
    sessions_end_on_logout_idle_and_absolute_expiry,
    five_failures_lock_the_login_even_with_the_right_password,
    a_login_forgets_the_failures_before_it,
    password_change_ends_other_sessions_and_follows_the_rule,
    withdrawal_ends_every_session_and_reauthentication_is_recent,
    identity_verification_by_sms_code_feeds_one_sign_up,
    the_verification_text_names_the_operator_from_the_policy,
    a_child_is_stopped_at_identity_confirmation_with_nothing_stored,
    a_failed_sign_up_keeps_the_identity_token_for_the_next_try,
    reauthentication_is_limited_too,
    housekeeping_removes_expired_sessions_and_verifications,
    concurrent_guesses_cannot_slip_past_the_limit,
    client_state_is_sealed_bound_and_expires,
    one_rule_decides_what_a_member_sees_unmasked,
    a_use_within_the_touch_interval_is_not_written,
    an_idle_session_never_outlives_idle_after_its_last_use,
    a_session_used_every_50_seconds_stays_alive_for_an_hour,
    the_my_page_in_one_read_answers_as_session_and_view_do,
);

fn pw(s: &str) -> Revealed {
    Revealed::new(s.to_owned())
}

async fn sessions_end_on_logout_idle_and_absolute_expiry(b: Backend) {
    let t = TestApp::on(b, "lifeplan-seed").await;
    let p = person(1);
    let id = t.app.sign_up(seed_signup(&p)).await.unwrap();
    let s = t.app.login(&p.login_id, &pw(&p.password)).await.unwrap();
    assert_eq!(s.member, id);
    assert_eq!(
        t.app
            .session(s.token.expose())
            .await
            .unwrap()
            .unwrap()
            .member,
        id
    );
    assert!(t.app.logout(s.token.expose()).await.unwrap());
    assert!(t.app.session(s.token.expose()).await.unwrap().is_none());

    // Idle: 29 minutes apart keeps it, 30 ends it.
    let s = t.app.login(&p.login_id, &pw(&p.password)).await.unwrap();
    t.clock.advance(Duration::minutes(29));
    assert!(t.app.session(s.token.expose()).await.unwrap().is_some());
    t.clock.advance(Duration::minutes(30));
    assert!(t.app.session(s.token.expose()).await.unwrap().is_none());

    // Absolute: used every 20 minutes, it still ends 12 hours after login.
    let s = t.app.login(&p.login_id, &pw(&p.password)).await.unwrap();
    for _ in 0..35 {
        t.clock.advance(Duration::minutes(20));
        assert!(t.app.session(s.token.expose()).await.unwrap().is_some());
    }
    t.clock.advance(Duration::minutes(20));
    assert!(t.app.session(s.token.expose()).await.unwrap().is_none());
    // A made-up token is no session.
    assert!(t.app.session("not-a-token").await.unwrap().is_none());
}

/// The recorded last use of a session, straight from the store.
async fn last_seen(t: &TestApp, token: &str) -> chrono::DateTime<chrono::Utc> {
    use sha2::{Digest, Sha256};
    let hash = Sha256::digest(token.as_bytes()).to_vec();
    t.app
        .store()
        .session(&hash)
        .await
        .unwrap()
        .expect("the session row")
        .last_seen_at
}

/// A use less than a thirtieth of the idle timeout (1 minute) after the recorded one writes
/// nothing; a use after that records its time.
async fn a_use_within_the_touch_interval_is_not_written(b: Backend) {
    let t = TestApp::on(b, "lifeplan-seed").await;
    let p = person(21);
    t.app.sign_up(seed_signup(&p)).await.unwrap();
    let s = t.app.login(&p.login_id, &pw(&p.password)).await.unwrap();
    let at_login = last_seen(&t, s.token.expose()).await;
    assert_eq!(t.app.settings().touch_every(), Duration::minutes(1));

    t.clock.advance(Duration::seconds(30));
    assert!(t.app.session(s.token.expose()).await.unwrap().is_some());
    assert_eq!(last_seen(&t, s.token.expose()).await, at_login);

    t.clock.advance(Duration::seconds(30));
    assert!(t.app.session(s.token.expose()).await.unwrap().is_some());
    assert_eq!(
        last_seen(&t, s.token.expose()).await,
        at_login + Duration::minutes(1)
    );
}

/// R-ACC-09: a session ends no later than `session_idle` after its last use, even when that use
/// was not written (it may end up to a minute early, never late).
async fn an_idle_session_never_outlives_idle_after_its_last_use(b: Backend) {
    let t = TestApp::on(b, "lifeplan-seed").await;
    let p = person(22);
    t.app.sign_up(seed_signup(&p)).await.unwrap();
    let s = t.app.login(&p.login_id, &pw(&p.password)).await.unwrap();
    // A use 50 seconds after login: not written.
    t.clock.advance(Duration::seconds(50));
    assert!(t.app.session(s.token.expose()).await.unwrap().is_some());
    // 30 minutes after that last use (30 min 50 s after login) it has ended.
    t.clock.advance(Duration::minutes(30));
    assert!(t.app.session(s.token.expose()).await.unwrap().is_none());

    // Early by less than the touch interval: 29 min 10 s after an unwritten use at +50 s.
    let s = t.app.login(&p.login_id, &pw(&p.password)).await.unwrap();
    t.clock.advance(Duration::seconds(50));
    assert!(t.app.session(s.token.expose()).await.unwrap().is_some());
    t.clock
        .advance(Duration::minutes(29) + Duration::seconds(9));
    assert!(
        t.app.session(s.token.expose()).await.unwrap().is_some(),
        "29 min 59 s after the written use"
    );
    let s2 = t.app.login(&p.login_id, &pw(&p.password)).await.unwrap();
    t.clock.advance(Duration::seconds(50));
    assert!(t.app.session(s2.token.expose()).await.unwrap().is_some());
    t.clock
        .advance(Duration::minutes(29) + Duration::seconds(10));
    assert!(
        t.app.session(s2.token.expose()).await.unwrap().is_none(),
        "30 min after the written use, 29 min 10 s after the last one"
    );
}

/// Uses 50 seconds apart (each within the touch interval of the previous one, but not of the
/// written one) keep a session alive as long as its absolute lifetime allows.
async fn a_session_used_every_50_seconds_stays_alive_for_an_hour(b: Backend) {
    let t = TestApp::on(b, "lifeplan-seed").await;
    let p = person(23);
    t.app.sign_up(seed_signup(&p)).await.unwrap();
    let s = t.app.login(&p.login_id, &pw(&p.password)).await.unwrap();
    for i in 0..72 {
        t.clock.advance(Duration::seconds(50));
        assert!(
            t.app.session(s.token.expose()).await.unwrap().is_some(),
            "use {i}"
        );
    }
}

/// `own_masked_view` reads the session and the items in one query: it answers exactly what
/// `session` + `view_masked` answer, writes the same audit entry, ends an idle session and
/// knows no made-up token.
async fn the_my_page_in_one_read_answers_as_session_and_view_do(b: Backend) {
    let t = TestApp::on(b, "lifeplan-seed").await;
    let p = person(24);
    let id = t.app.sign_up(seed_signup(&p)).await.unwrap();
    let s = t.app.login(&p.login_id, &pw(&p.password)).await.unwrap();
    let rows = t.app.verify_audit().await.unwrap().rows;
    let (session, view) = t
        .app
        .own_masked_view(s.token.expose())
        .await
        .unwrap()
        .expect("a live session");
    assert_eq!(session.member, id);
    let expected = t.app.view_masked(&Actor::Member(id), id).await.unwrap();
    assert_eq!(view, expected);
    assert!(
        view.contains_key("email") && view.contains_key("phone"),
        "{view:?}"
    );
    assert_ne!(view["email"], p.email, "masked");
    // One reveal entry each.
    let audit = t.app.store().audit_rows(rows, i64::MAX).await.unwrap();
    assert_eq!(audit.len(), 2);
    assert!(
        audit
            .iter()
            .all(|r| r.action == "item.reveal" && r.member_id == Some(id))
    );
    assert_eq!(audit[0].items, audit[1].items);

    assert!(
        t.app
            .own_masked_view("not-a-token")
            .await
            .unwrap()
            .is_none()
    );
    t.clock.advance(Duration::minutes(30));
    assert!(
        t.app
            .own_masked_view(s.token.expose())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        t.app.session(s.token.expose()).await.unwrap().is_none(),
        "ended"
    );
}

/// A login with the right password forgets the failures before it, with the session it writes
/// (one write): four more wrong passwords after it are four failures, not a lock.
async fn a_login_forgets_the_failures_before_it(b: Backend) {
    let t = TestApp::on(b, "lifeplan-seed").await;
    let p = person(5);
    t.app.sign_up(seed_signup(&p)).await.unwrap();
    for round in 0..3 {
        for i in 1..=4 {
            let e = t
                .app
                .login(&p.login_id, &pw("wrong-password-1"))
                .await
                .unwrap_err();
            assert!(
                matches!(e, CoreError::BadCredentials),
                "round {round}, failure {i}: {e:?}"
            );
        }
        let s = t.app.login(&p.login_id, &pw(&p.password)).await.unwrap();
        assert!(t.app.session(s.token.expose()).await.unwrap().is_some());
    }
}

/// R-ACC-04: after 5 failures in the window, even the right password is refused until the lock
/// ends; an unknown login ID behaves the same way.
async fn five_failures_lock_the_login_even_with_the_right_password(b: Backend) {
    let t = TestApp::on(b, "lifeplan-seed").await;
    let p = person(2);
    t.app.sign_up(seed_signup(&p)).await.unwrap();
    for i in 1..=5 {
        let e = t
            .app
            .login(&p.login_id, &pw("wrong-password-1"))
            .await
            .unwrap_err();
        if i < 5 {
            assert!(matches!(e, CoreError::BadCredentials), "attempt {i}: {e:?}");
        } else {
            assert!(
                matches!(e, CoreError::TooManyAttempts { .. }),
                "attempt {i}: {e:?}"
            );
        }
    }
    assert!(matches!(
        t.app.login(&p.login_id, &pw(&p.password)).await,
        Err(CoreError::TooManyAttempts { retry_after }) if retry_after > 0 && retry_after <= 900
    ));
    t.clock.advance(Duration::minutes(16));
    t.app.login(&p.login_id, &pw(&p.password)).await.unwrap();

    // Unknown IDs: the same answers, the same lock.
    for i in 1..=5 {
        let e = t
            .app
            .login("nobody77", &pw("wrong-password-1"))
            .await
            .unwrap_err();
        assert_eq!(
            matches!(e, CoreError::TooManyAttempts { .. }),
            i == 5,
            "attempt {i}: {e:?}"
        );
    }
    // Failures spread beyond the window do not add up.
    let q = person(3);
    t.app.sign_up(seed_signup(&q)).await.unwrap();
    for _ in 0..8 {
        assert!(matches!(
            t.app.login(&q.login_id, &pw("wrong-password-1")).await,
            Err(CoreError::BadCredentials)
        ));
        t.clock.advance(Duration::minutes(4));
    }
    // A failure after the window has ended starts a new window, which counts from that failure:
    // four more within it lock the ID again.
    let r = person(4);
    t.app.sign_up(seed_signup(&r)).await.unwrap();
    for _ in 0..4 {
        assert!(matches!(
            t.app.login(&r.login_id, &pw("wrong-password-1")).await,
            Err(CoreError::BadCredentials)
        ));
    }
    t.clock.advance(Duration::minutes(16));
    for i in 1..=5 {
        let e = t
            .app
            .login(&r.login_id, &pw("wrong-password-1"))
            .await
            .unwrap_err();
        assert_eq!(
            matches!(e, CoreError::TooManyAttempts { .. }),
            i == 5,
            "attempt {i} of the new window: {e:?}"
        );
        t.clock.advance(Duration::minutes(2));
    }
}

async fn password_change_ends_other_sessions_and_follows_the_rule(b: Backend) {
    let t = TestApp::on(b, "lifeplan-seed").await;
    let p = person(4);
    t.app.sign_up(seed_signup(&p)).await.unwrap();
    let a = t.app.login(&p.login_id, &pw(&p.password)).await.unwrap();
    let b = t.app.login(&p.login_id, &pw(&p.password)).await.unwrap();
    let sa = t.app.session(a.token.expose()).await.unwrap().unwrap();
    // Wrong current password; a new password holding the birth date.
    assert!(matches!(
        t.app.change_password(&sa, &pw("not-it-123"), &pw("Another-pass-9")).await,
        Err(CoreError::Invalid(e)) if e[0].field == "current_password"
    ));
    let with_birth = format!("x{}y!", p.birth.format("%Y%m%d"));
    assert!(matches!(
        t.app.change_password(&sa, &pw(&p.password), &pw(&with_birth)).await,
        Err(CoreError::Invalid(e)) if e[0].code == "password.personal"
    ));
    let ended = t
        .app
        .change_password(&sa, &pw(&p.password), &pw("Another-pass-9"))
        .await
        .unwrap();
    assert_eq!(ended, 1);
    assert!(
        t.app.session(a.token.expose()).await.unwrap().is_some(),
        "this session stays"
    );
    assert!(
        t.app.session(b.token.expose()).await.unwrap().is_none(),
        "the other one ended"
    );
    assert!(t.app.login(&p.login_id, &pw(&p.password)).await.is_err());
    t.app
        .login(&p.login_id, &pw("Another-pass-9"))
        .await
        .unwrap();
}

async fn withdrawal_ends_every_session_and_reauthentication_is_recent(b: Backend) {
    let t = TestApp::on(b, "lifeplan-seed").await;
    let p = person(5);
    let id = t.app.sign_up(seed_signup(&p)).await.unwrap();
    let a = t.app.login(&p.login_id, &pw(&p.password)).await.unwrap();
    let sa = t.app.session(a.token.expose()).await.unwrap().unwrap();
    assert!(t.app.recently_authenticated(&sa));
    t.clock.advance(Duration::minutes(11));
    let sa = t.app.session(a.token.expose()).await.unwrap().unwrap();
    assert!(!t.app.recently_authenticated(&sa));
    assert!(
        t.app
            .reauthenticate(&sa, &pw("wrong-one-12"))
            .await
            .is_err()
    );
    t.app.reauthenticate(&sa, &pw(&p.password)).await.unwrap();
    let sa = t.app.session(a.token.expose()).await.unwrap().unwrap();
    assert!(t.app.recently_authenticated(&sa));
    t.app
        .withdraw(&Actor::Member(id), id, "test")
        .await
        .unwrap();
    assert!(t.app.session(a.token.expose()).await.unwrap().is_none());
    assert!(t.app.login(&p.login_id, &pw(&p.password)).await.is_err());
}

/// The text message names the operator's site, not the engine: Korean carriers require the
/// sender's name in brackets.
async fn the_verification_text_names_the_operator_from_the_policy(b: Backend) {
    let t = TestApp::on(b, "lifeplan").await;
    let p = person(8);
    let outbox = t.app.sandbox_outbox().unwrap();
    t.app.identity_request(request(&p)).await.unwrap();
    let code = outbox.last_code_for(&p.mobile).unwrap();
    let sms = outbox.messages().pop().unwrap();
    assert_eq!(
        sms.text,
        format!(
            "[라이프플랜] 본인확인 인증번호 [{code}]를 입력해 주세요. 3분 안에 입력해야 합니다."
        )
    );
    assert!(!sms.text.contains("지킴이"));

    // Another operator's policy: its name, taken from the policy file.
    let src = jikimi_policy::Policy::builtin_source("lifeplan").unwrap();
    let renamed = src.replacen(
        "name = { ko = \"라이프플랜\", en = \"Life Plan\" }",
        "name = { ko = \"한빛생활\", en = \"Hanbit Living\" }",
        1,
    );
    assert_ne!(renamed, src);
    let policy = jikimi_policy::Policy::from_toml_str(&renamed, "hanbit.toml")
        .unwrap()
        .policy;
    assert_eq!(policy.operator.name.ko, "한빛생활");
    let t = TestApp::with_policy_on(b, policy).await;
    let outbox = t.app.sandbox_outbox().unwrap();
    t.app.identity_request(request(&p)).await.unwrap();
    let sms = outbox.messages().pop().unwrap();
    assert!(
        sms.text.starts_with("[한빛생활] 본인확인 인증번호 ["),
        "{}",
        sms.text
    );
    assert!(!sms.text.contains("라이프플랜"));
    assert_eq!(
        jikimi_core::identity::verification_text(" 한빛생활 ", "123456"),
        "[한빛생활] 본인확인 인증번호 [123456]를 입력해 주세요. 3분 안에 입력해야 합니다."
    );
}

fn request(p: &jikimi_testkit::Person) -> IdentityRequest {
    IdentityRequest {
        name: p.name.clone(),
        birth_date: p.birth,
        mobile: p.mobile.clone(),
        carrier: Carrier::Skt,
    }
}

async fn identity_verification_by_sms_code_feeds_one_sign_up(b: Backend) {
    let t = TestApp::on(b, "lifeplan").await;
    let p = person(6);
    let outbox = t.app.sandbox_outbox().unwrap();
    let tx = t.app.identity_request(request(&p)).await.unwrap();
    let code = outbox.last_code_for(&p.mobile).unwrap();
    assert_eq!(code.len(), 6);
    assert!(matches!(
        t.app.identity_confirm(&tx, "000000x").await,
        Err(CoreError::Invalid(e)) if e[0].code == "identity.code"
    ));
    let token = t.app.identity_confirm(&tx, &code).await.unwrap();
    assert!(
        t.app.identity_confirm(&tx, &code).await.is_err(),
        "a code confirms once"
    );
    let id = t.app.take_identity(token.expose()).await.unwrap();
    assert_eq!(id.birth_date, p.birth);
    assert_eq!(id.ci.len(), 88);
    assert_eq!(id.di.len(), 64);
    assert!(
        t.app.take_identity(token.expose()).await.is_err(),
        "a token is used once"
    );

    let mut s = lifeplan_signup(&p);
    s.identity = Some(id);
    let member = t.app.sign_up(s).await.unwrap();
    // The same person verified again gets the same CI: one person, one account.
    let tx = t.app.identity_request(request(&p)).await.unwrap();
    let token = t
        .app
        .identity_confirm(&tx, &outbox.last_code_for(&p.mobile).unwrap())
        .await
        .unwrap();
    let mut again = lifeplan_signup(&person(7));
    again.identity = Some(t.app.take_identity(token.expose()).await.unwrap());
    match t.app.sign_up(again).await {
        Err(CoreError::AlreadyMember {
            field,
            masked_login,
        }) => {
            assert!(field == "ci" || field == "di");
            assert_eq!(masked_login.unwrap(), "me****6");
        }
        other => panic!("expected AlreadyMember, got {other:?} for {member}"),
    }
}

async fn a_child_is_stopped_at_identity_confirmation_with_nothing_stored(b: Backend) {
    let t = TestApp::on(b, "lifeplan").await;
    let child = person_born(8, chrono::NaiveDate::from_ymd_opt(2015, 5, 5).unwrap());
    let outbox = t.app.sandbox_outbox().unwrap();
    let tx = t.app.identity_request(request(&child)).await.unwrap();
    let code = outbox.last_code_for(&child.mobile).unwrap();
    assert!(matches!(
        t.app.identity_confirm(&tx, &code).await,
        Err(CoreError::ChildNeedsGuardian { age: 14 })
    ));
    let n = t
        .db()
        .await
        .count("SELECT count(*) FROM identity_verifications")
        .await;
    assert_eq!(n, 0);
}

async fn a_failed_sign_up_keeps_the_identity_token_for_the_next_try(b: Backend) {
    let t = TestApp::on(b, "lifeplan").await;
    let p = person(9);
    let outbox = t.app.sandbox_outbox().unwrap();
    let tx = t.app.identity_request(request(&p)).await.unwrap();
    let token = t
        .app
        .identity_confirm(&tx, &outbox.last_code_for(&p.mobile).unwrap())
        .await
        .unwrap();
    let mut bad = lifeplan_signup(&p);
    bad.identity = None;
    bad.items
        .insert("email".into(), Revealed::new("not-an-email".into()));
    assert!(matches!(
        t.app.sign_up_with_identity_token(bad, token.expose()).await,
        Err(CoreError::Invalid(_))
    ));
    let mut good = lifeplan_signup(&p);
    good.identity = None;
    t.app
        .sign_up_with_identity_token(good, token.expose())
        .await
        .unwrap();
    let mut again = lifeplan_signup(&person(10));
    again.identity = None;
    assert!(
        matches!(
            t.app
                .sign_up_with_identity_token(again, token.expose())
                .await,
            Err(CoreError::Identity(_))
        ),
        "used up by the successful sign-up"
    );
}

/// R-ACC-04 under concurrency: many guesses at once cannot slip past the limit, because each
/// attempt is reserved in the database before its password is checked.
async fn concurrent_guesses_cannot_slip_past_the_limit(b: Backend) {
    let t = TestApp::on(b, "lifeplan-seed").await;
    let p = person(30);
    t.app.sign_up(seed_signup(&p)).await.unwrap();
    // An attacker's burst: 24 wrong guesses at once. (A right password among them would
    // legitimately clear the count, so it comes after.)
    let mut tasks = Vec::new();
    for i in 0..24 {
        let app = t.app.clone();
        let login = p.login_id.clone();
        let guess = format!("Wrong-guess-{i}");
        tasks.push(tokio::spawn(
            async move { app.login(&login, &pw(&guess)).await },
        ));
    }
    let mut checked = 0;
    let mut refused = 0;
    for task in tasks {
        match task.await.unwrap() {
            Err(CoreError::BadCredentials) => checked += 1,
            Err(CoreError::TooManyAttempts { .. }) => refused += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(
        checked <= 4,
        "at most 4 wrong passwords answered as wrong (the 5th locks), got {checked}"
    );
    assert_eq!(checked + refused, 24);
    assert!(
        matches!(
            t.app.login(&p.login_id, &pw(&p.password)).await,
            Err(CoreError::TooManyAttempts { .. })
        ),
        "locked even for the right password"
    );
}

/// Re-authentication and password changes share the login's failure limit.
async fn reauthentication_is_limited_too(b: Backend) {
    let t = TestApp::on(b, "lifeplan-seed").await;
    let p = person(31);
    t.app.sign_up(seed_signup(&p)).await.unwrap();
    let s = t.app.login(&p.login_id, &pw(&p.password)).await.unwrap();
    let info = t.app.session(s.token.expose()).await.unwrap().unwrap();
    for _ in 0..4 {
        assert!(matches!(
            t.app.reauthenticate(&info, &pw("Wrong-guess-1")).await,
            Err(CoreError::BadCredentials)
        ));
    }
    assert!(matches!(
        t.app.reauthenticate(&info, &pw("Wrong-guess-1")).await,
        Err(CoreError::TooManyAttempts { .. })
    ));
    assert!(matches!(
        t.app.reauthenticate(&info, &pw(&p.password)).await,
        Err(CoreError::TooManyAttempts { .. })
    ));
    assert!(matches!(
        t.app.login(&p.login_id, &pw(&p.password)).await,
        Err(CoreError::TooManyAttempts { .. })
    ));
}

/// Without a configured provider, identity verification is unavailable (the sandbox is opt-in).
#[tokio::test]
async fn no_identity_provider_means_no_verification() {
    let dir = tempfile::tempdir().unwrap();
    let app = jikimi_core::Jikimi::open_with(
        &jikimi_core::Config::new(dir.path().join("data")),
        jikimi_testkit::builtin("lifeplan"),
        std::sync::Arc::new(jikimi_core::FixedClock::new(jikimi_testkit::test_now())),
        true,
        jikimi_testkit::test_hasher(),
    )
    .await
    .unwrap();
    assert!(app.sandbox_outbox().is_none());
    assert!(matches!(
        app.identity_request(request(&person(32))).await,
        Err(CoreError::Identity(_))
    ));
}

/// Expired sessions and verification results are deleted by housekeeping.
async fn housekeeping_removes_expired_sessions_and_verifications(b: Backend) {
    let t = TestApp::on(b, "lifeplan").await;
    let p = person(33);
    let outbox = t.app.sandbox_outbox().unwrap();
    let tx = t.app.identity_request(request(&p)).await.unwrap();
    t.app
        .identity_confirm(&tx, &outbox.last_code_for(&p.mobile).unwrap())
        .await
        .unwrap();
    t.app.sign_up(lifeplan_signup(&p)).await.unwrap();
    t.app.login(&p.login_id, &pw(&p.password)).await.unwrap();
    assert_eq!(
        t.app.housekeeping().await.unwrap(),
        0,
        "nothing expired yet"
    );
    t.clock.advance(Duration::hours(13));
    assert_eq!(
        t.app.housekeeping().await.unwrap(),
        2,
        "one session, one verification result"
    );
}

/// What a browser carries between the steps of a form is sealed: unreadable, unchangeable, bound
/// to its name, and gone after its time.
async fn client_state_is_sealed_bound_and_expires(b: Backend) {
    let t = TestApp::on(b, "lifeplan").await;
    let plain = b"{\"values\":[[\"item.email\",\"member9@example.com\"]]}";
    let sealed = t
        .app
        .seal_client_state("jikimi_form", chrono::Duration::minutes(10), plain)
        .await
        .unwrap();
    assert!(!sealed.contains("member9"), "the value is not readable");
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&sealed)
        .unwrap();
    assert!(!raw.windows(7).any(|w| w == b"member9"));
    let opened = t
        .app
        .open_client_state("jikimi_form", &sealed)
        .await
        .unwrap();
    assert_eq!(opened.as_deref().map(|v| v.as_slice()), Some(&plain[..]));
    // Another name, a changed byte, garbage: nothing.
    assert!(
        t.app
            .open_client_state("jikimi_signup", &sealed)
            .await
            .unwrap()
            .is_none()
    );
    let mut bent = raw.clone();
    let last = bent.len() - 1;
    bent[last] ^= 1;
    let bent = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bent);
    assert!(
        t.app
            .open_client_state("jikimi_form", &bent)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        t.app
            .open_client_state("jikimi_form", "not sealed")
            .await
            .unwrap()
            .is_none()
    );
    // Expired: sealed for a time already past.
    let gone = t
        .app
        .seal_client_state("jikimi_form", chrono::Duration::seconds(-1), plain)
        .await
        .unwrap();
    assert!(
        t.app
            .open_client_state("jikimi_form", &gone)
            .await
            .unwrap()
            .is_none()
    );
}

/// The one rule for showing a member their own data unmasked (issue 10: it lived in two
/// disagreeing copies in the web crate): ordinary items any time; sensitive ones (the RRN) and
/// everything at once (show all, export, print) only within 10 minutes of entering the password;
/// CI and DI never; unknown items are named.
async fn one_rule_decides_what_a_member_sees_unmasked(b: Backend) {
    use jikimi_core::access::Disclosure;
    let t = TestApp::on(b, "lifeplan-seed").await;
    let p = person(9);
    t.app.sign_up(seed_signup(&p)).await.unwrap();
    let a = t.app.login(&p.login_id, &pw(&p.password)).await.unwrap();
    let fresh = t.app.session(a.token.expose()).await.unwrap().unwrap();
    // Right after login everything may be shown.
    let all = t
        .app
        .disclose_own(&fresh, Disclosure::Everything)
        .await
        .unwrap();
    assert_eq!(all.get("email").map(String::as_str), Some(p.email.as_str()));
    assert!(all.contains_key("rrn"));
    t.app
        .disclose_own(&fresh, Disclosure::Items(&["rrn"]))
        .await
        .unwrap();
    assert!(t.app.export_own(&fresh).await.is_ok());

    t.clock.advance(Duration::minutes(11));
    let stale = t.app.session(a.token.expose()).await.unwrap().unwrap();
    let email = t
        .app
        .disclose_own(&stale, Disclosure::Items(&["email", "address"]))
        .await
        .unwrap();
    assert_eq!(
        email["email"], p.email,
        "ordinary items need no password again"
    );
    for what in [Disclosure::Items(&["email", "rrn"]), Disclosure::Everything] {
        assert!(
            matches!(
                t.app.disclose_own(&stale, what).await,
                Err(CoreError::ReauthRequired)
            ),
            "{what:?} without the password again"
        );
    }
    assert!(matches!(
        t.app.export_own(&stale).await,
        Err(CoreError::ReauthRequired)
    ));
    assert!(matches!(
        t.app.disclose_own(&stale, Disclosure::Items(&["nope"])).await,
        Err(CoreError::Invalid(e)) if e[0].code == "item.unknown"
    ));
    // CI and DI: never, whatever the session (the lifeplan profile has them).
    let l = TestApp::on(b, "lifeplan").await;
    let q = person(10);
    l.app.sign_up(lifeplan_signup(&q)).await.unwrap();
    let s = l.app.login(&q.login_id, &pw(&q.password)).await.unwrap();
    let s = l.app.session(s.token.expose()).await.unwrap().unwrap();
    for linking in ["ci", "di"] {
        assert!(matches!(
            l.app.disclose_own(&s, Disclosure::Items(&[linking])).await,
            Err(CoreError::NeverShown(_))
        ));
    }
    let all = l
        .app
        .disclose_own(&s, Disclosure::Everything)
        .await
        .unwrap();
    assert!(!all.contains_key("ci") && !all.contains_key("di"));
}
