//! Children under 14 join with a verified guardian's consent (issue 16, S13, PIPA Art. 22-2):
//! nothing about a child is stored before the age gate decides (R-CHD-01); the child gives only
//! their name and the guardian's name and contact (R-CHD-03), sealed; the guardian is told by text
//! message (`lifeplan`) or e-mail (`lifeplan-seed`, the test SMTP server) and consents in a
//! verifiable way (R-CHD-02: 본인확인 of an adult, or the link sent to the contact); a request
//! not consented to within 5 days, or refused, is destroyed with a destruction record (R-CHD-04).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{Duration, NaiveDate};
use jikimi_core::guardians::{GuardianDecision, GuardianMethod, state};
use jikimi_core::identity::{Carrier, IdentityRequest, SmsOutbox};
use jikimi_core::sms::{SandboxSms, SmsSetup};
use jikimi_core::{Actor, Clock, CoreError, Revealed};
use jikimi_testkit::smtp::TestSmtp;
use jikimi_testkit::{
    Backend, Person, TestApp, builtin, lifeplan_signup, person, person_born, seed_signup,
};

jikimi_testkit::backend_tests!(
    a_child_joins_on_an_adult_guardians_verified_consent,
    a_request_left_for_5_days_is_destroyed_with_its_record,
    the_seed_guardian_consents_through_the_mailed_link_or_refuses,
    a_guardians_number_is_not_flooded,
    a_guardian_takes_back_a_consent_not_yet_used,
);

/// A child of 10 on the tests' day (2026-12-02).
fn child(seed: u32) -> Person {
    person_born(seed, NaiveDate::from_ymd_opt(2016, 3, 1).unwrap())
}

fn given(pairs: &[(&str, &str)]) -> BTreeMap<String, Revealed> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Revealed::new((*v).to_owned())))
        .collect()
}

fn link(token: &str) -> String {
    format!("https://lifeplan.example.com/guardian?t={token}")
}

/// The token in the last link sent (`…/guardian?t=TOKEN`).
fn token_in(text: &str) -> String {
    let at = text.rfind("guardian?t=").expect("a guardian link") + "guardian?t=".len();
    text[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// `lifeplan` with the guardian items and the sandbox's text messages.
async fn lifeplan(b: Backend) -> (TestApp, Arc<SmsOutbox>) {
    let outbox = Arc::new(SmsOutbox::default());
    let sms = SmsSetup {
        transport: Arc::new(SandboxSms::new(outbox.clone())),
        from: "0200000000".into(),
    };
    let t = TestApp::configured(b, builtin("lifeplan"), |cfg| cfg.sms = Some(sms))
        .await
        .unwrap();
    (t, outbox)
}

/// `lifeplan-seed` with the guardian items and mail to the test SMTP server.
async fn seed(b: Backend, smtp: &TestSmtp) -> TestApp {
    let mail = jikimi_testkit::smtp_mail(smtp);
    TestApp::configured(b, builtin("lifeplan-seed"), |cfg| cfg.mail = Some(mail))
        .await
        .unwrap()
}

/// A 본인확인 of `p` through the sandbox, as the pages do; `child` is a child's token.
async fn verify(t: &TestApp, p: &Person, child: Option<&str>) -> Result<Revealed, CoreError> {
    let req = IdentityRequest {
        name: p.name.clone(),
        birth_date: p.birth,
        mobile: p.mobile.clone(),
        carrier: Carrier::Skt,
    };
    let tx = t.app.identity_request(req).await.unwrap();
    let code = t
        .app
        .sandbox_outbox()
        .unwrap()
        .last_code_for(&p.mobile)
        .unwrap();
    t.app.identity_confirm_as(None, &tx, &code, child).await
}

/// The rows that could hold something about a person.
async fn personal(t: &TestApp) -> Vec<(String, i64)> {
    let counts = t.row_counts().await;
    counts
        .into_iter()
        .filter(|(table, _)| table != "rate_limits")
        .collect()
}

async fn a_child_joins_on_an_adult_guardians_verified_consent(b: Backend) {
    let (t, texts) = lifeplan(b).await;
    assert!(t.app.admits_children());
    let kid = child(31);
    let mum = person(32);

    // The age gate refuses the child before anything is stored (R-CHD-01).
    let before = personal(&t).await;
    assert!(matches!(
        verify(&t, &kid, None).await,
        Err(CoreError::ChildNeedsGuardian { age: 14 })
    ));
    assert!(matches!(
        t.app.sign_up(lifeplan_signup(&kid)).await,
        Err(CoreError::ChildNeedsGuardian { .. })
    ));
    // (본인확인 requests count toward the abuse limits; nothing else is written.)
    assert_eq!(personal(&t).await, before, "nothing stored for a child");

    // The child gives only their name and the guardian's name and contact (R-CHD-03): a bad
    // number, a missing name or any other item is refused by name, and nothing is written.
    let bad = given(&[
        ("child_name", &kid.name),
        ("guardian_mobile", "010-12"),
        ("email", &kid.email),
    ]);
    match t.app.ask_guardian(None, &bad, link).await {
        Err(CoreError::Invalid(e)) => {
            let fields: Vec<&str> = e.iter().map(|e| e.field.as_str()).collect();
            assert!(fields.contains(&"guardian_name"), "{fields:?}");
            assert!(fields.contains(&"guardian_mobile"), "{fields:?}");
            assert!(fields.contains(&"email"), "{fields:?}");
        }
        other => panic!("expected field errors, got {other:?}"),
    }
    assert_eq!(
        personal(&t).await,
        before,
        "a refused request writes nothing"
    );

    let ask = given(&[
        ("child_name", &kid.name),
        ("guardian_name", &mum.name),
        ("guardian_mobile", &mum.mobile),
    ]);
    let child_token = t.app.ask_guardian(None, &ask, link).await.unwrap();
    while t.app.run_jobs_once().await.unwrap() > 0 {}
    let to = jikimi_kr::Phone::parse(&mum.mobile)
        .unwrap()
        .e164()
        .to_owned();
    let sent: Vec<_> = texts
        .messages()
        .into_iter()
        .filter(|m| m.to == to)
        .collect();
    assert_eq!(sent.len(), 1, "the guardian is told by text message");
    assert!(sent[0].text.contains(&kid.name), "{}", sent[0].text);
    assert!(sent[0].text.contains("법정대리인 동의"), "{}", sent[0].text);
    let link_token = token_in(&sent[0].text);
    // Sealed: no name or number in the clear anywhere.
    for clear in [&kid.name, &mum.name, &to] {
        assert_eq!(
            t.find_bytes(clear.as_bytes()).await,
            None,
            "{clear} in the clear"
        );
    }
    let view = t.app.guardian_view(&link_token).await.unwrap();
    assert_eq!(view.child_name, kid.name);
    assert_eq!(view.state, state::PENDING);
    assert!(view.needs_identity);
    assert_eq!(
        t.app.child_view(child_token.expose()).await.unwrap().state,
        state::PENDING
    );
    // Before the guardian consents the child still cannot join.
    let mut early = lifeplan_signup(&kid);
    early.guardian = Some(child_token.expose().to_owned());
    assert!(matches!(
        t.app.sign_up(early).await,
        Err(CoreError::ChildNeedsGuardian { .. })
    ));

    // The guardian must pass 본인확인 (R-CHD-02) and be an adult.
    let decision = |identity: Option<String>| GuardianDecision {
        consents: [
            ("optional_items".to_owned(), true),
            ("marketing".to_owned(), false),
        ]
        .into(),
        relationship: "parent".into(),
        identity_token: identity,
    };
    match t.app.guardian_consent(&link_token, decision(None)).await {
        Err(CoreError::Invalid(e)) => assert_eq!(e[0].code, "identity.required"),
        other => panic!("expected identity.required, got {other:?}"),
    }
    let teen = person_born(33, NaiveDate::from_ymd_opt(2009, 5, 5).unwrap());
    let teen_token = verify(&t, &teen, None).await.unwrap();
    match t
        .app
        .guardian_consent(&link_token, decision(Some(teen_token.expose().to_owned())))
        .await
    {
        Err(CoreError::Invalid(e)) => assert_eq!(e[0].code, "guardian.adult"),
        other => panic!("a 17-year-old cannot consent, got {other:?}"),
    }
    // Another adult than the one the request was texted to is refused.
    let neighbour = verify(&t, &person(38), None).await.unwrap();
    match t
        .app
        .guardian_consent(&link_token, decision(Some(neighbour.expose().to_owned())))
        .await
    {
        Err(CoreError::Invalid(e)) => assert_eq!(e[0].code, "guardian.other_mobile"),
        other => panic!("only the texted guardian, got {other:?}"),
    }
    let mut wrong = decision(Some(
        verify(&t, &mum, None).await.unwrap().expose().to_owned(),
    ));
    wrong.relationship = "neighbour".into();
    assert!(matches!(
        t.app.guardian_consent(&link_token, wrong).await,
        Err(CoreError::Invalid(e)) if e[0].field == "guardian_relationship"
    ));
    let mum_token = verify(&t, &mum, None).await.unwrap();
    t.app
        .guardian_consent(&link_token, decision(Some(mum_token.expose().to_owned())))
        .await
        .unwrap();
    assert!(matches!(
        t.app.guardian_consent(&link_token, decision(None)).await,
        Err(CoreError::Conflict(_))
    ));
    let cv = t.app.child_view(child_token.expose()).await.unwrap();
    assert_eq!(cv.state, state::CONSENTED);
    assert_eq!(cv.granted, vec!["optional_items".to_owned()]);

    // The child passes 본인확인 with the consent, and joins with the guardian's choices.
    assert!(matches!(
        verify(&t, &kid, None).await,
        Err(CoreError::ChildNeedsGuardian { .. })
    ));
    // The consent is for this child: another child, or an adult, cannot join on it.
    let other_kid = child(36);
    let other_token = verify(&t, &other_kid, Some(child_token.expose()))
        .await
        .unwrap();
    let mut other = lifeplan_signup(&other_kid);
    other.identity = None;
    other.guardian = Some(child_token.expose().to_owned());
    assert!(matches!(
        t.app.sign_up_with_identity_token(other, other_token.expose()).await,
        Err(CoreError::Invalid(e)) if e[0].code == "guardian.other_child"
    ));
    let grown = person(37);
    let mut adult = lifeplan_signup(&grown);
    adult.guardian = Some(child_token.expose().to_owned());
    assert!(matches!(
        t.app.sign_up(adult).await,
        Err(CoreError::Invalid(e)) if e[0].code == "guardian.not_a_child"
    ));
    let kid_token = verify(&t, &kid, Some(child_token.expose())).await.unwrap();
    let mut req = lifeplan_signup(&kid);
    req.identity = None;
    req.consents = [("marketing".to_owned(), true)].into(); // the guardian's choices win
    req.guardian = Some(child_token.expose().to_owned());
    let member = t
        .app
        .sign_up_with_identity_token(req, kid_token.expose())
        .await
        .unwrap();
    let consents = t.app.consent_state(member).await.unwrap();
    let granted = |c: &str| consents.iter().any(|s| s.category == c && s.granted);
    assert!(granted("optional_items") && !granted("marketing"));
    let record = t.app.member_guardian(member).await.unwrap().unwrap();
    assert_eq!(record.method, Some(GuardianMethod::MobileIdentity));
    // Under 14 the child does not consent alone; withdrawing is theirs (PIPA Art. 22-2).
    assert!(t.app.is_child_member(member).await.unwrap());
    let me = Actor::Member(member);
    assert!(matches!(
        t.app
            .set_consent(&me, member, "marketing", true, "test")
            .await,
        Err(CoreError::ChildNeedsGuardian { .. })
    ));
    t.app
        .set_consent(&me, member, "optional_items", false, "test")
        .await
        .unwrap();
    assert_eq!(
        t.app.child_view(child_token.expose()).await.unwrap().state,
        state::JOINED
    );
    // The consent is used once.
    let mut again = lifeplan_signup(&person_born(34, kid.birth));
    again.guardian = Some(child_token.expose().to_owned());
    assert!(matches!(
        t.app.sign_up(again).await,
        Err(CoreError::ChildNeedsGuardian { .. })
    ));
    // The audit chain has the guardian's consent as the guardian's act.
    let log = t.app.store().audit_rows(0, 10_000).await.unwrap();
    let consent = log
        .iter()
        .find(|e| e.action == "guardian.consent")
        .expect("the consent is audited");
    assert!(consent.actor.starts_with("guardian:"), "{}", consent.actor);
    assert!(
        consent.detail.contains("mobile_identity"),
        "{}",
        consent.detail
    );
    for clear in [&kid.name, &mum.name, &to] {
        assert_eq!(
            t.find_bytes(clear.as_bytes()).await,
            None,
            "{clear} in the clear"
        );
    }

    // The guardian comes back, verified again: another adult is not the guardian; the
    // guardian sees, corrects and withdraws for the child, each act the guardian's.
    let stranger = verify(&t, &person(35), None).await.unwrap();
    assert!(matches!(
        t.app
            .guardian_access_by_identity(None, &kid.login_id, stranger.expose())
            .await,
        Err(CoreError::Invalid(e)) if e[0].code == "guardian.not_found"
    ));
    let again = verify(&t, &mum, None).await.unwrap();
    let access = t
        .app
        .guardian_access_by_identity(None, &kid.login_id, again.expose())
        .await
        .unwrap();
    assert_eq!(access.member, member);
    assert!(t.app.guardian_access_valid(&access).await.unwrap());
    let seen = t
        .app
        .subject_items(&access.actor(), member, &["email", "name"])
        .await
        .unwrap();
    assert_eq!(seen.get("email"), Some(&kid.email));
    // Someone else acting as a guardian of another's request is refused.
    let impostor = Actor::Guardian(uuid::Uuid::new_v4());
    assert!(matches!(
        t.app.subject_items(&impostor, member, &["email"]).await,
        Err(CoreError::PurposeDenied { .. })
    ));
    assert!(matches!(
        t.app
            .set_consent(&impostor, member, "marketing", false, "guardian")
            .await,
        Err(CoreError::Forbidden(_))
    ));
    assert!(matches!(
        t.app.withdraw(&impostor, member, "guardian").await,
        Err(CoreError::Forbidden(_))
    ));
    let new_email = "kid-new@example.com";
    t.app
        .correct(
            &access.actor(),
            member,
            [(
                "email".to_owned(),
                Some(Revealed::new(new_email.to_owned())),
            )]
            .into(),
        )
        .await
        .unwrap();
    t.app
        .set_consent(&access.actor(), member, "marketing", true, "guardian")
        .await
        .unwrap();
    let log = t.app.store().audit_rows(0, 10_000).await.unwrap();
    let by_guardian: Vec<&str> = log
        .iter()
        .filter(|e| e.actor == access.actor().audit_name())
        .map(|e| e.action.as_str())
        .collect();
    for action in [
        "guardian.access",
        "item.reveal",
        "item.correct",
        "consent.grant",
    ] {
        assert!(
            by_guardian.contains(&action),
            "{action} by the guardian: {by_guardian:?}"
        );
    }

    // The guardian ends the membership; it takes the record of the consent along.
    t.app
        .withdraw(&access.actor(), member, "guardian")
        .await
        .unwrap();
    assert!(t.app.member_guardian(member).await.unwrap().is_none());
    let mut keys = t.keys_db().await;
    assert_eq!(
        keys.count("SELECT COUNT(*) FROM wrapped_keys WHERE context LIKE 'guardian:%'")
            .await,
        0
    );
}

async fn a_request_left_for_5_days_is_destroyed_with_its_record(b: Backend) {
    let (t, texts) = lifeplan(b).await;
    let kid = child(41);
    let dad = person(42);
    let ask = given(&[
        ("child_name", &kid.name),
        ("guardian_name", &dad.name),
        ("guardian_mobile", &dad.mobile),
    ]);
    let child_token = t.app.ask_guardian(None, &ask, link).await.unwrap();
    while t.app.run_jobs_once().await.unwrap() > 0 {}
    let link_token = token_in(&texts.messages().last().unwrap().text);

    // Within the 5 days the purge leaves it alone.
    t.clock.advance(Duration::days(5) - Duration::minutes(1));
    t.app
        .purge(&Actor::System, false, &|_, _| {})
        .await
        .unwrap();
    assert_eq!(
        t.app.child_view(child_token.expose()).await.unwrap().state,
        state::PENDING
    );
    assert!(t.app.guardian_view(&link_token).await.is_ok());

    // Then it is destroyed: ciphertext, key, with a destruction record (R-CHD-04).
    t.clock.advance(Duration::minutes(2));
    assert!(matches!(
        t.app.guardian_view(&link_token).await,
        Err(CoreError::NotFound(_))
    ));
    let report = t
        .app
        .purge(&Actor::System, false, &|_, _| {})
        .await
        .unwrap();
    let class = report
        .classes
        .iter()
        .find(|c| c.class == "guardian_consent")
        .expect("the purge names the class");
    assert_eq!((class.records, class.keys), (1, 1));
    assert_eq!(
        t.app.child_view(child_token.expose()).await.unwrap().state,
        state::EXPIRED
    );
    let records = t.app.store().destruction_records().await.unwrap();
    assert!(
        records
            .iter()
            .any(|r| r.class == "guardian_consent" && r.event == "purge" && r.count == 1),
        "{records:?}"
    );
    let mut db = t.db().await;
    assert_eq!(
        db.count("SELECT COUNT(*) FROM guardian_requests WHERE sealed IS NOT NULL")
            .await,
        0
    );
    assert_eq!(
        t.keys_db()
            .await
            .count("SELECT COUNT(*) FROM wrapped_keys WHERE context LIKE 'guardian:%'")
            .await,
        0
    );
    // A late consent finds nothing.
    assert!(matches!(
        t.app
            .guardian_consent(
                &link_token,
                GuardianDecision {
                    consents: BTreeMap::new(),
                    relationship: "parent".into(),
                    identity_token: None,
                }
            )
            .await,
        Err(CoreError::NotFound(_))
    ));
}

async fn the_seed_guardian_consents_through_the_mailed_link_or_refuses(b: Backend) {
    let smtp = TestSmtp::start();
    let t = seed(b, &smtp).await;
    assert!(t.app.admits_children());
    let kid = child(51);
    let mum = person(52);

    // The seed's age gate reads the RRN: refused before anything is stored.
    let before = personal(&t).await;
    assert!(matches!(
        t.app.sign_up(seed_signup(&kid)).await,
        Err(CoreError::ChildNeedsGuardian { .. })
    ));
    assert_eq!(personal(&t).await, before);

    let ask = |p: &Person| {
        given(&[
            ("child_name", &kid.name),
            ("guardian_name", &p.name),
            ("guardian_email", &p.email),
        ])
    };
    // A refusal destroys the request at once.
    let other = person(53);
    t.app.ask_guardian(None, &ask(&other), link).await.unwrap();
    while t.app.run_jobs_once().await.unwrap() > 0 {}
    let mail = smtp
        .messages()
        .into_iter()
        .find(|m| m.rcpt_tos.contains(&other.email))
        .expect("the guardian's e-mail arrives");
    let refused = token_in(&mail.text_body());
    t.app.guardian_refuse(&refused).await.unwrap();
    assert!(matches!(
        t.app.guardian_view(&refused).await,
        Err(CoreError::NotFound(_))
    ));
    let records = t.app.store().destruction_records().await.unwrap();
    assert!(
        records
            .iter()
            .any(|r| r.class == "guardian_consent" && r.event == "guardian_refusal"),
        "{records:?}"
    );

    let child_token = t.app.ask_guardian(None, &ask(&mum), link).await.unwrap();
    while t.app.run_jobs_once().await.unwrap() > 0 {}
    let mail = smtp
        .messages()
        .into_iter()
        .find(|m| m.rcpt_tos.contains(&mum.email))
        .expect("the guardian's e-mail arrives");
    let body = mail.text_body();
    // The child's name and the last day: 5 days from the tests' day (2026-12-02), in KST.
    assert!(
        body.contains(&kid.name) && body.contains("2026년 12월 7일"),
        "{body}"
    );
    let link_token = token_in(&body);
    let view = t.app.guardian_view(&link_token).await.unwrap();
    assert!(!view.needs_identity, "the mailed link is the proof here");
    // The seed's single agreement: not agreeing is not consenting, and changes nothing.
    let no = GuardianDecision {
        consents: [("privacy_policy".to_owned(), false)].into(),
        relationship: "parent".into(),
        identity_token: None,
    };
    assert!(matches!(
        t.app.guardian_consent(&link_token, no).await,
        Err(CoreError::AgreementDeclined)
    ));
    assert_eq!(
        t.app.child_view(child_token.expose()).await.unwrap().state,
        state::PENDING
    );
    let yes = GuardianDecision {
        consents: [("privacy_policy".to_owned(), true)].into(),
        relationship: "guardian".into(),
        identity_token: None,
    };
    t.app.guardian_consent(&link_token, yes).await.unwrap();
    let mut req = seed_signup(&kid);
    req.guardian = Some(child_token.expose().to_owned());
    let member = t.app.sign_up(req).await.unwrap();
    let record = t.app.member_guardian(member).await.unwrap().unwrap();
    assert_eq!(record.method, Some(GuardianMethod::EmailLink));

    // The guardian's way back is a one-time link mailed to the address they consented through:
    // another address gets nothing (and is told the same).
    let back = |token: &str| format!("https://lifeplan.example.com/guardian/child/open?t={token}");
    while t.app.run_jobs_once().await.unwrap() > 0 {}
    let mails = smtp.messages().len();
    t.app
        .send_guardian_access(None, &kid.login_id, "someone@example.com", back)
        .await
        .unwrap();
    while t.app.run_jobs_once().await.unwrap() > 0 {}
    assert_eq!(smtp.messages().len(), mails, "nothing to another address");
    t.app
        .send_guardian_access(None, &kid.login_id, &mum.email.to_uppercase(), back)
        .await
        .unwrap();
    while t.app.run_jobs_once().await.unwrap() > 0 {}
    let mail = smtp.messages().into_iter().last().unwrap();
    assert!(mail.rcpt_tos.contains(&mum.email));
    let body = mail.text_body();
    let at = body.find("open?t=").unwrap() + "open?t=".len();
    let token: String = body[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    let access = t.app.guardian_access_by_link(&token).await.unwrap();
    assert_eq!(access.member, member);
    assert!(matches!(
        t.app.guardian_access_by_link(&token).await,
        Err(CoreError::NotFound(_))
    ));

    // On the 14th birthday nothing is lost, and the child is their own: the guardian's way
    // back ends (no link is sent, an access held no longer holds).
    let birthday = NaiveDate::from_ymd_opt(2030, 3, 1).unwrap();
    let days = (birthday - t.clock.today_kst()).num_days();
    t.clock.advance(Duration::days(days - 1));
    assert!(t.app.is_child_member(member).await.unwrap());
    t.clock.advance(Duration::days(1));
    assert!(!t.app.is_child_member(member).await.unwrap());
    assert!(!t.app.guardian_access_valid(&access).await.unwrap());
    assert!(matches!(
        t.app
            .subject_items(&access.actor(), member, &["email"])
            .await,
        Err(CoreError::PurposeDenied { .. })
    ));
    while t.app.run_jobs_once().await.unwrap() > 0 {}
    let mails = smtp.messages().len();
    t.app
        .send_guardian_access(None, &kid.login_id, &mum.email, back)
        .await
        .unwrap();
    while t.app.run_jobs_once().await.unwrap() > 0 {}
    assert_eq!(
        smtp.messages().len(),
        mails,
        "no way back for a guardian after 14"
    );
    assert!(
        t.app.member_guardian(member).await.unwrap().is_some(),
        "the record stays"
    );
    let seen = t.app.own_items(member, &["email"]).await.unwrap();
    assert_eq!(seen.get("email"), Some(&kid.email), "nothing is lost");
    for clear in [&kid.name, &mum.name, &mum.email] {
        assert_eq!(
            t.find_bytes(clear.as_bytes()).await,
            None,
            "{clear} in the clear"
        );
    }
}

/// A guardian who consented may take it back while the child has not joined: destroyed at once.
async fn a_guardian_takes_back_a_consent_not_yet_used(b: Backend) {
    let smtp = TestSmtp::start();
    let t = seed(b, &smtp).await;
    let kid = child(81);
    let dad = person(82);
    let ask = given(&[
        ("child_name", &kid.name),
        ("guardian_name", &dad.name),
        ("guardian_email", &dad.email),
    ]);
    let child_token = t.app.ask_guardian(None, &ask, link).await.unwrap();
    while t.app.run_jobs_once().await.unwrap() > 0 {}
    let mail = smtp
        .messages()
        .into_iter()
        .find(|m| m.rcpt_tos.contains(&dad.email))
        .unwrap();
    let link_token = token_in(&mail.text_body());
    let yes = GuardianDecision {
        consents: [("privacy_policy".to_owned(), true)].into(),
        relationship: "parent".into(),
        identity_token: None,
    };
    t.app.guardian_consent(&link_token, yes).await.unwrap();
    t.app.guardian_refuse(&link_token).await.unwrap();
    assert_eq!(
        t.app.child_view(child_token.expose()).await.unwrap().state,
        state::REFUSED
    );
    let mut req = seed_signup(&kid);
    req.guardian = Some(child_token.expose().to_owned());
    assert!(matches!(
        t.app.sign_up(req).await,
        Err(CoreError::ChildNeedsGuardian { .. })
    ));
}

async fn a_guardians_number_is_not_flooded(b: Backend) {
    let (t, texts) = lifeplan(b).await;
    let dad = person(62);
    let to = jikimi_kr::Phone::parse(&dad.mobile)
        .unwrap()
        .e164()
        .to_owned();
    let ask = |n: u32| {
        given(&[
            ("child_name", &child(60 + n).name),
            ("guardian_name", &dad.name),
            ("guardian_mobile", &dad.mobile),
        ])
    };
    for n in 0..5 {
        t.app.ask_guardian(None, &ask(n), link).await.unwrap();
    }
    assert!(matches!(
        t.app.ask_guardian(None, &ask(5), link).await,
        Err(CoreError::RateLimited { retry_after, .. }) if retry_after > 0
    ));
    while t.app.run_jobs_once().await.unwrap() > 0 {}
    assert_eq!(texts.messages().iter().filter(|m| m.to == to).count(), 5);
    // Another guardian is not held up.
    let mum = person(63);
    t.app
        .ask_guardian(
            None,
            &given(&[
                ("child_name", &child(70).name),
                ("guardian_name", &mum.name),
                ("guardian_mobile", &mum.mobile),
            ]),
            link,
        )
        .await
        .unwrap();
}
