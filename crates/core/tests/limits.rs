//! Abuse limits (issue 11), without HTTP: per client address and per target, counted in the
//! database, refused before any work is done, and over when their window ends (the test clock
//! moves; nothing sleeps). Login limits follow R-ACC-04 without letting one person lock another
//! out.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::IpAddr;

use chrono::Duration;
use jikimi_core::identity::{Carrier, IdentityRequest};
use jikimi_core::{Action, Actor, Client, CoreError, Jikimi, Revealed};
use jikimi_testkit::{Backend, Person, TestApp, lifeplan_signup, person, seed_signup};

jikimi_testkit::backend_tests!(
    text_messages_are_limited_per_mobile_number_and_per_client,
    code_guesses_are_limited_per_request_and_per_client,
    failures_from_one_client_do_not_lock_the_member_out_elsewhere,
    many_failures_to_one_login_id_need_identity_verification,
    reauthentication_is_limited_per_member_and_per_client,
    receipt_look_ups_are_limited_per_client_and_per_code,
    sign_ups_and_id_checks_are_limited_per_client_and_per_login_id,
    counters_hold_no_address_or_number_and_are_swept,
);

/// A documentation address (TEST-NET-2) per client number.
fn client(n: u8) -> Client {
    Some(IpAddr::from([198, 51, 100, n]))
}

fn pw(s: &str) -> Revealed {
    Revealed::new(s.to_owned())
}

fn request(p: &Person) -> IdentityRequest {
    IdentityRequest {
        name: p.name.clone(),
        birth_date: p.birth,
        mobile: p.mobile.clone(),
        carrier: Carrier::Kt,
    }
}

fn limited(r: &Result<impl std::fmt::Debug, CoreError>, action: Action) -> bool {
    matches!(r, Err(CoreError::RateLimited { action: a, retry_after }) if *a == action && *retry_after > 0)
}

/// How many text messages the sandbox sent to `mobile`.
fn texts_to(app: &Jikimi, mobile: &str) -> usize {
    let to = jikimi_kr::Phone::parse(mobile).unwrap().e164().to_owned();
    app.sandbox_outbox()
        .unwrap()
        .messages()
        .iter()
        .filter(|m| m.to == to)
        .count()
}

/// Signs a lifeplan member up through 본인확인, as the pages do.
async fn verified_member(t: &TestApp, p: &Person) -> uuid::Uuid {
    let token = verify(&t.app, p, None).await;
    t.app
        .sign_up_with_identity_token(lifeplan_signup(p), token.expose())
        .await
        .unwrap()
}

async fn verify(app: &Jikimi, p: &Person, from: Client) -> Revealed {
    let tx = app.identity_request_from(from, request(p)).await.unwrap();
    let code = app
        .sandbox_outbox()
        .unwrap()
        .last_code_for(&p.mobile)
        .unwrap();
    app.identity_confirm_from(from, &tx, &code).await.unwrap()
}

/// Five text messages an hour to one mobile number, whoever asks; twenty an hour from one client,
/// whatever the number. A refused request sends nothing; the next window sends again.
async fn text_messages_are_limited_per_mobile_number_and_per_client(b: Backend) {
    let t = TestApp::on(b, "lifeplan").await;
    let p = person(1100);
    for i in 0..5 {
        t.app
            .identity_request_from(client(i + 1), request(&p))
            .await
            .unwrap();
    }
    assert_eq!(texts_to(&t.app, &p.mobile), 5);
    // The sixth, from a client that sent nothing yet, and one from no known client.
    let r = t.app.identity_request_from(client(77), request(&p)).await;
    assert!(limited(&r, Action::IdentityRequest), "{r:?}");
    let r = t.app.identity_request(request(&p)).await;
    assert!(limited(&r, Action::IdentityRequest), "{r:?}");
    assert_eq!(
        texts_to(&t.app, &p.mobile),
        5,
        "no text for a refused request"
    );
    if let Err(CoreError::RateLimited { retry_after, .. }) = r {
        assert!(retry_after <= 3600, "{retry_after}");
    }

    // One client, many numbers.
    for i in 0..20 {
        t.app
            .identity_request_from(client(200), request(&person(1200 + i)))
            .await
            .unwrap();
    }
    let other = person(1300);
    let r = t
        .app
        .identity_request_from(client(200), request(&other))
        .await;
    assert!(limited(&r, Action::IdentityRequest), "{r:?}");
    assert_eq!(texts_to(&t.app, &other.mobile), 0);
    // Another client is not held by it.
    t.app
        .identity_request_from(client(201), request(&other))
        .await
        .unwrap();

    // The windows end.
    t.clock.advance(Duration::minutes(61));
    t.app
        .identity_request_from(client(200), request(&p))
        .await
        .unwrap();
    assert_eq!(texts_to(&t.app, &p.mobile), 6);
}

/// R-ACC-04 for codes: five codes per 본인확인 request, thirty per client, whatever the provider
/// allows; a six-digit code cannot be found by trying.
async fn code_guesses_are_limited_per_request_and_per_client(b: Backend) {
    let t = TestApp::on(b, "lifeplan").await;
    let p = person(1400);
    let tx = t.app.identity_request(request(&p)).await.unwrap();
    for i in 0..5 {
        let r = t
            .app
            .identity_confirm_from(client(i + 1), &tx, "000000x")
            .await;
        assert!(matches!(r, Err(CoreError::Invalid(_))), "{r:?}");
    }
    let r = t.app.identity_confirm_from(client(9), &tx, "000000x").await;
    assert!(limited(&r, Action::IdentityConfirm), "{r:?}");

    // One client guessing over many requests.
    for i in 0..30 {
        let tx = t
            .app
            .identity_request(request(&person(1500 + i)))
            .await
            .unwrap();
        let r = t
            .app
            .identity_confirm_from(client(50), &tx, "000000x")
            .await;
        assert!(matches!(r, Err(CoreError::Invalid(_))), "{i}: {r:?}");
    }
    let q = person(1600);
    let tx = t.app.identity_request(request(&q)).await.unwrap();
    let code = t
        .app
        .sandbox_outbox()
        .unwrap()
        .last_code_for(&q.mobile)
        .unwrap();
    let r = t.app.identity_confirm_from(client(50), &tx, &code).await;
    assert!(limited(&r, Action::IdentityConfirm), "{r:?}");
    // The refusal did not use the request up: the right code from elsewhere still confirms it.
    t.app
        .identity_confirm_from(client(51), &tx, &code)
        .await
        .unwrap();
}

/// R-ACC-04 without a lock-out: five failures from client A lock A out of the login ID (even
/// with the right password), and the member logs in from client B at once.
async fn failures_from_one_client_do_not_lock_the_member_out_elsewhere(b: Backend) {
    let t = TestApp::on(b, "lifeplan-seed").await;
    let p = person(1700);
    t.app.sign_up(seed_signup(&p)).await.unwrap();
    let (a, member) = (client(1), client(2));
    for _ in 0..4 {
        let r = t
            .app
            .login_from(a, &p.login_id, &pw("Wrong-guess-1"), None)
            .await;
        assert!(matches!(r, Err(CoreError::BadCredentials)), "{r:?}");
    }
    let r = t
        .app
        .login_from(a, &p.login_id, &pw("Wrong-guess-1"), None)
        .await;
    assert!(matches!(r, Err(CoreError::TooManyAttempts { .. })), "{r:?}");
    let r = t
        .app
        .login_from(a, &p.login_id, &pw(&p.password), None)
        .await;
    assert!(
        matches!(r, Err(CoreError::TooManyAttempts { .. })),
        "A stays locked, right password or not: {r:?}"
    );
    t.app
        .login_from(member, &p.login_id, &pw(&p.password), None)
        .await
        .expect("the member logs in from another client");
    // Re-authentication from B is not held by A's lock either.
    let s = t
        .app
        .login_from(member, &p.login_id, &pw(&p.password), None)
        .await
        .unwrap();
    let info = t.app.session(s.token.expose()).await.unwrap().unwrap();
    t.app
        .reauthenticate_from(member, &info, &pw(&p.password))
        .await
        .unwrap();
    // A's lock ends with its time.
    t.clock.advance(Duration::minutes(16));
    t.app
        .login_from(a, &p.login_id, &pw(&p.password), None)
        .await
        .unwrap();

    // Logins per client, whatever the ID (password spraying): 60 in ten minutes.
    t.clock.advance(Duration::minutes(10));
    for i in 0..60 {
        let r = t
            .app
            .login_from(client(3), &format!("nobody{i}"), &pw("Spray-pass-1"), None)
            .await;
        assert!(matches!(r, Err(CoreError::BadCredentials)), "{i}: {r:?}");
    }
    let r = t
        .app
        .login_from(client(3), &p.login_id, &pw(&p.password), None)
        .await;
    assert!(limited(&r, Action::Login), "{r:?}");
    t.app
        .login_from(client(4), &p.login_id, &pw(&p.password), None)
        .await
        .unwrap();
}

/// Thirty failures an hour to one login ID, from any number of clients, hold the ID: then only a
/// 본인확인 of the member (which the attacker does not have) lets the member in with the
/// password; someone else's 본인확인 does not. The hold ends with its window.
async fn many_failures_to_one_login_id_need_identity_verification(b: Backend) {
    let t = TestApp::on(b, "lifeplan").await;
    let p = person(1800);
    verified_member(&t, &p).await;
    let spray = async |first: u8| {
        for i in 0..30u8 {
            let r = t
                .app
                .login_from(client(first + i), &p.login_id, &pw("Wrong-guess-1"), None)
                .await;
            assert!(matches!(r, Err(CoreError::BadCredentials)), "{i}: {r:?}");
        }
    };
    spray(1).await;
    let home = client(250);
    let r = t
        .app
        .login_from(home, &p.login_id, &pw(&p.password), None)
        .await;
    assert!(limited(&r, Action::LoginAccount), "{r:?}");
    // The attacker's guesses are refused before the password is checked.
    let r = t
        .app
        .login_from(client(99), &p.login_id, &pw("Wrong-guess-2"), None)
        .await;
    assert!(limited(&r, Action::LoginAccount), "{r:?}");

    // Someone else's 본인확인 does not open it.
    let stranger = person(1801);
    let theirs = verify(&t.app, &stranger, client(99)).await;
    let r = t
        .app
        .login_from(
            client(99),
            &p.login_id,
            &pw(&p.password),
            Some(theirs.expose()),
        )
        .await;
    assert!(matches!(r, Err(CoreError::Identity(_))), "{r:?}");

    // The member's own does, once.
    let mine = verify(&t.app, &p, home).await;
    t.app
        .login_from(home, &p.login_id, &pw(&p.password), Some(mine.expose()))
        .await
        .expect("본인확인 lets the member in");
    let r = t
        .app
        .login_from(home, &p.login_id, &pw(&p.password), Some(mine.expose()))
        .await;
    assert!(matches!(r, Err(CoreError::Identity(_))), "used up: {r:?}");

    // Held again by a new round of failures; without 본인확인 the hold ends with its window.
    spray(100).await;
    let r = t
        .app
        .login_from(home, &p.login_id, &pw(&p.password), None)
        .await;
    assert!(limited(&r, Action::LoginAccount), "{r:?}");
    t.clock.advance(Duration::minutes(61));
    t.app
        .login_from(home, &p.login_id, &pw(&p.password), None)
        .await
        .unwrap();
}

/// R-ACC-04 for the password entered again: twenty times an hour per member (from any session),
/// thirty per ten minutes per client; password changes count too.
async fn reauthentication_is_limited_per_member_and_per_client(b: Backend) {
    let t = TestApp::on(b, "lifeplan-seed").await;
    let (p, q) = (person(1900), person(1901));
    for x in [&p, &q] {
        t.app.sign_up(seed_signup(x)).await.unwrap();
    }
    let session = async |x: &Person| {
        let s = t.app.login(&x.login_id, &pw(&x.password)).await.unwrap();
        t.app.session(s.token.expose()).await.unwrap().unwrap()
    };
    let sp = session(&p).await;
    for i in 0..20 {
        t.app
            .reauthenticate_from(client(i + 1), &sp, &pw(&p.password))
            .await
            .unwrap();
    }
    let r = t
        .app
        .reauthenticate_from(client(30), &sp, &pw(&p.password))
        .await;
    assert!(limited(&r, Action::Reauth), "{r:?}");
    let r = t
        .app
        .change_password_from(client(30), &sp, &pw(&p.password), &pw("Another-pass-19"))
        .await;
    assert!(limited(&r, Action::Reauth), "password change: {r:?}");
    t.clock.advance(Duration::minutes(61));
    let (sp, sq) = (session(&p).await, session(&q).await);
    // One client, two members.
    for i in 0..30 {
        let (s, x) = if i % 2 == 0 { (&sp, &p) } else { (&sq, &q) };
        t.app
            .reauthenticate_from(client(200), s, &pw(&x.password))
            .await
            .unwrap();
    }
    let r = t
        .app
        .reauthenticate_from(client(200), &sp, &pw(&p.password))
        .await;
    assert!(limited(&r, Action::Reauth), "{r:?}");
    t.app
        .reauthenticate_from(client(201), &sp, &pw(&p.password))
        .await
        .unwrap();
}

/// Receipts cannot be found by trying: ten look-ups per client in ten minutes, twenty per receipt
/// code an hour.
async fn receipt_look_ups_are_limited_per_client_and_per_code(b: Backend) {
    let t = TestApp::on(b, "lifeplan-seed").await;
    let p = person(2000);
    let member = t.app.sign_up(seed_signup(&p)).await.unwrap();
    let receipt = t
        .app
        .withdraw(&Actor::Member(member), member, "test")
        .await
        .unwrap();
    for i in 0..10 {
        let r = t
            .app
            .retained_for_receipt_from(client(1), &format!("WRONG-{i:04}-CODE"))
            .await;
        assert!(matches!(r, Err(CoreError::NotFound(_))), "{r:?}");
    }
    let r = t
        .app
        .retained_for_receipt_from(client(1), &receipt.code)
        .await;
    assert!(
        limited(&r, Action::ReceiptLookup),
        "even the right code: {r:?}"
    );
    for i in 0..20 {
        t.app
            .retained_for_receipt_from(client(i + 10), &receipt.code)
            .await
            .unwrap();
    }
    let r = t
        .app
        .retained_for_receipt_from(client(60), &receipt.code)
        .await;
    assert!(limited(&r, Action::ReceiptLookup), "{r:?}");
    t.clock.advance(Duration::minutes(61));
    t.app
        .retained_for_receipt_from(client(1), &receipt.code)
        .await
        .unwrap();
}

/// Twenty sign-up attempts per client in ten minutes, ten per login ID; sixty 아이디 중복확인
/// per client.
async fn sign_ups_and_id_checks_are_limited_per_client_and_per_login_id(b: Backend) {
    let t = TestApp::on(b, "lifeplan-seed").await;
    for i in 0..20 {
        let mut s = seed_signup(&person(2100 + i));
        s.client = client(1);
        t.app.sign_up(s).await.unwrap();
    }
    let mut s = seed_signup(&person(2150));
    s.client = client(1);
    let r = t.app.sign_up(s).await;
    assert!(limited(&r, Action::SignUp), "{r:?}");
    assert!(t.app.sign_up(seed_signup(&person(2150))).await.is_ok());
    // A client refused by its own limit adds nothing to the login ID's count (both are counted
    // in one transaction, the client's first): twelve refused tries of one login ID from it
    // leave that login ID free to sign up from another client, under its limit of ten.
    let fresh = person(2160);
    for _ in 0..12 {
        let mut s = seed_signup(&fresh);
        s.client = client(1);
        assert!(limited(&t.app.sign_up(s).await, Action::SignUp));
    }
    let mut s = seed_signup(&fresh);
    s.client = client(4);
    t.app.sign_up(s).await.unwrap();

    // One login ID, tried from everywhere.
    let taken = person(2100).login_id;
    for i in 1..10 {
        let mut s = seed_signup(&person(2200 + i));
        s.login_id = taken.clone();
        let r = t.app.sign_up(s).await;
        assert!(matches!(r, Err(CoreError::Invalid(_))), "{i}: {r:?}");
    }
    let mut s = seed_signup(&person(2250));
    s.login_id = taken.clone();
    s.client = client(2);
    assert!(limited(&t.app.sign_up(s).await, Action::SignUp));

    for i in 0..60 {
        let r = t
            .app
            .check_login_id_from(client(3), &format!("free{i}"))
            .await;
        assert!(r.is_ok(), "{i}: {r:?}");
    }
    let r = t.app.check_login_id_from(client(3), "free61").await;
    assert!(limited(&r, Action::LoginIdCheck), "{r:?}");
    t.clock.advance(Duration::minutes(10));
    assert!(t.app.check_login_id_from(client(3), "free61").await.is_ok());
}

/// The counters are keyed hashes: nothing stored names the client's address, the mobile number
/// or the login ID. Rows whose window ended are swept by the housekeeping.
async fn counters_hold_no_address_or_number_and_are_swept(b: Backend) {
    let t = TestApp::on(b, "lifeplan").await;
    let p = person(2300);
    let from: Client = Some(IpAddr::from([203, 0, 113, 77]));
    t.app
        .identity_request_from(from, request(&p))
        .await
        .unwrap();
    let _ = t
        .app
        .login_from(from, "someone-2300", &pw("Wrong-guess-1"), None)
        .await;
    let mut db = t.db().await;
    assert!(db.count("SELECT count(*) FROM rate_limits").await >= 3);
    assert!(db.count("SELECT count(*) FROM login_failures").await >= 1);
    let e164 = jikimi_kr::Phone::parse(&p.mobile)
        .unwrap()
        .e164()
        .to_owned();
    let digits = e164.trim_start_matches('+').to_owned();
    for (place, bytes) in t.stored().await {
        for needle in [
            "203.0.113.77",
            e164.as_str(),
            digits.as_str(),
            "someone-2300",
        ] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{needle} stored in {place}"
            );
        }
    }
    t.app.housekeeping().await.unwrap();
    assert!(
        db.count("SELECT count(*) FROM rate_limits").await >= 3,
        "not over yet"
    );
    t.clock.advance(Duration::minutes(61));
    t.app.housekeeping().await.unwrap();
    assert_eq!(db.count("SELECT count(*) FROM rate_limits").await, 0);
    assert_eq!(db.count("SELECT count(*) FROM login_failures").await, 0);
}
