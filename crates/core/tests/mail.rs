//! Mail that really goes out (issue 14), against a real SMTP server (Debian's python3-aiosmtpd,
//! started by the harness): the welcome, password-changed and withdrawal messages, account
//! recovery by e-mail, the outbox's retries and give-up, and what stays behind after sending.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration as StdDuration;

use chrono::Duration;
use jikimi_core::{Actor, CoreError, Revealed};
use jikimi_store::OutboxFilter;
use jikimi_testkit::smtp::{SmtpMode, SmtpOptions, TestSmtp};
use jikimi_testkit::{Backend, TestApp, backend_tests, person, seed_signup};

const WAIT: StdDuration = StdDuration::from_secs(10);

async fn outbox(t: &TestApp) -> Vec<jikimi_store::OutboxRow> {
    t.app
        .store()
        .messages(OutboxFilter {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap()
}

/// Signs up person `n` on the seed profile; returns the member id.
async fn join(t: &TestApp, n: u32) -> (uuid::Uuid, jikimi_testkit::Person) {
    let p = person(n);
    let id = t.app.sign_up(seed_signup(&p)).await.unwrap();
    (id, p)
}

backend_tests!(
    the_welcome_mail_arrives_encoded_and_leaves_nothing_behind,
    a_refusing_or_absent_server_makes_the_job_retry_and_loses_nothing,
    a_permanent_refusal_gives_up_and_the_office_sees_it,
    a_forgotten_password_is_reset_through_a_mailed_link,
    a_forgotten_login_id_is_mailed_and_the_answer_never_tells,
    the_password_change_and_the_withdrawal_are_mailed,
    a_policy_change_is_announced_to_every_member_once_before_it_applies,
    the_purge_takes_expired_reset_links_and_keys_of_no_waiting_message,
    a_password_change_is_also_texted_through_solapi,
    nothing_of_a_message_reaches_the_logs,
    sign_ups_refused_at_the_store_leave_no_key_and_sent_mail_none,
);

/// R-POL-01 (notices the policy promises are sent): the welcome message reaches the SMTP server
/// with the right recipient, a Hangul subject encoded by RFC 2047, text and HTML parts in both
/// languages; afterwards the outbox keeps no content, the message's key is gone, and neither
/// the address nor the body is anywhere in the data directory or the databases.
async fn the_welcome_mail_arrives_encoded_and_leaves_nothing_behind(b: Backend) {
    let smtp = TestSmtp::start_with(SmtpOptions {
        mode: SmtpMode::StartTls,
        auth: Some(("jikimi".into(), "mail-secret-1".into())),
    });
    let t = TestApp::with_smtp(b, "lifeplan-seed", &smtp).await;
    let (member, p) = join(&t, 1).await;
    let queued = outbox(&t).await;
    assert_eq!(queued.len(), 1);
    assert_eq!(
        (queued[0].kind.as_str(), queued[0].state.as_str()),
        ("welcome", "queued")
    );
    assert_eq!(queued[0].member_id, Some(member));
    // Sealed while it waits: the address is not in the stored bytes.
    assert!(t.find_bytes(p.email.as_bytes()).await.is_none());

    assert_eq!(t.app.run_jobs_once().await.unwrap(), 1);
    let got = smtp.wait_for(1, WAIT);
    let m = &got[0];
    assert_eq!(m.rcpt_tos, vec![p.email.clone()]);
    assert_eq!(m.mail_from, "help@example.com");
    assert!(
        m.header("Subject").unwrap().starts_with("=?utf-8?b?"),
        "{:?}",
        m.header("Subject")
    );
    assert_eq!(m.subject(), "[라이프플랜] 회원 가입을 환영합니다");
    assert!(
        m.header("Content-Type")
            .unwrap()
            .contains("multipart/alternative")
    );
    assert!(m.header("Message-ID").unwrap().ends_with("@example.com>"));
    let text = m.text_body();
    assert!(text.contains("회원이 되신 것을 환영합니다"), "{text}");
    assert!(text.contains("Welcome: you are now a member"), "{text}");
    assert!(
        text.contains("https://lifeplan.example.com/mypage"),
        "{text}"
    );
    let html = m.html_body();
    assert!(html.contains(r#"<div lang="en""#), "{html}");
    assert!(
        html.contains(r#"<a href="https://lifeplan.example.com/privacy""#),
        "{html}"
    );

    let sent = outbox(&t).await;
    assert_eq!(sent[0].state, "sent");
    assert_eq!(sent[0].sealed, None);
    assert!(sent[0].done_at.is_some());
    assert!(
        t.app
            .keyring()
            .message_key(sent[0].id)
            .await
            .unwrap()
            .is_none(),
        "the message's key is destroyed"
    );
    // Destroyed when the run of the queue ended, with the other keys it retired: none waits.
    assert_eq!(t.app.keyring().retired_keys(), 0);
    // The plaintext scan: nothing of the message in the data directory or either database.
    for needle in [
        p.email.as_str(),
        "회원이 되신 것을 환영합니다",
        "Welcome: you are now",
    ] {
        assert_eq!(t.find_bytes(needle.as_bytes()).await, None, "{needle}");
    }
    // Running again sends nothing more (idempotent).
    assert_eq!(t.app.run_jobs_once().await.unwrap(), 0);
    assert_eq!(smtp.messages().len(), 1);
}

async fn a_refusing_or_absent_server_makes_the_job_retry_and_loses_nothing(b: Backend) {
    let mut smtp = TestSmtp::start();
    let t = TestApp::with_smtp(b, "lifeplan-seed", &smtp).await;
    smtp.set_refusing(true);
    join(&t, 2).await;
    t.app.run_jobs_once().await.unwrap();
    let row = outbox(&t).await.remove(0);
    assert_eq!(
        (row.state.as_str(), row.attempts),
        ("queued", 1),
        "a 451 is retried"
    );
    assert_eq!(row.last_error.as_deref(), Some("smtp 451 (temporary)"));
    assert!(row.sealed.is_some(), "the content waits, sealed");
    assert!(smtp.messages().is_empty());

    // The server goes down: the next attempt (after the back-off) fails too, nothing is lost.
    smtp.set_refusing(false);
    smtp.stop();
    t.clock.advance(Duration::minutes(2));
    t.app.run_jobs_once().await.unwrap();
    let row = outbox(&t).await.remove(0);
    assert_eq!((row.state.as_str(), row.attempts), ("queued", 2));
    assert!(
        row.last_error.as_deref().unwrap().contains("unreachable"),
        "{:?}",
        row.last_error
    );

    // Back up: the message goes out once.
    smtp.restart();
    t.clock.advance(Duration::minutes(5));
    t.app.run_jobs_once().await.unwrap();
    assert_eq!(smtp.wait_for(1, WAIT).len(), 1);
    let row = outbox(&t).await.remove(0);
    assert_eq!((row.state.as_str(), row.attempts), ("sent", 3));
}

async fn a_permanent_refusal_gives_up_and_the_office_sees_it(b: Backend) {
    let smtp = TestSmtp::start();
    let t = TestApp::with_smtp(b, "lifeplan-seed", &smtp).await;
    smtp.set_rejecting(true);
    let (_, p) = join(&t, 3).await;
    t.app.run_jobs_once().await.unwrap();
    let row = outbox(&t).await.remove(0);
    assert_eq!(row.state, "failed");
    assert_eq!(row.last_error.as_deref(), Some("smtp 550 (permanent)"));
    assert_eq!(row.sealed, None, "a message given up keeps no content");
    assert!(t.app.keyring().message_key(row.id).await.unwrap().is_none());
    // The error names no address (the server's own words are not kept).
    assert!(!row.last_error.unwrap().contains(&p.email));
    // The office's list of failures.
    let failed = t.app.failed_messages().await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].kind, "welcome");
}

fn link_in(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|l| l.contains("/recovery/reset?t="))
        .unwrap_or_else(|| panic!("no reset link in {text}"))
        .to_owned()
}

/// 비밀번호 재설정: the link works once, for 30 minutes; using it ends every session; the
/// answer is the same for an unknown account; attempts are limited.
async fn a_forgotten_password_is_reset_through_a_mailed_link(b: Backend) {
    let smtp = TestSmtp::start();
    let t = TestApp::with_smtp(b, "lifeplan-seed", &smtp).await;
    let (member, p) = join(&t, 4).await;
    t.app.run_jobs_once().await.unwrap();
    let session = t
        .app
        .login(&p.login_id, &Revealed::new(p.password.clone()))
        .await
        .unwrap();
    let before = smtp.wait_for(1, WAIT).len();

    // Unknown login ID, or the right ID with another address: the same answer, no mail.
    let link = |tok: &str| format!("https://lifeplan.example.com/recovery/reset?t={tok}");
    t.app
        .send_password_reset(None, "nobody", &p.email, link)
        .await
        .unwrap();
    t.app
        .send_password_reset(None, &p.login_id, "other@example.com", link)
        .await
        .unwrap();
    assert_eq!(t.app.run_jobs_once().await.unwrap(), 0);
    // Missing fields are named.
    match t.app.send_password_reset(None, " ", "", link).await {
        Err(CoreError::Invalid(e)) => {
            let fields: Vec<_> = e.iter().map(|e| e.field.as_str()).collect();
            assert_eq!(fields, ["login_id", "email"]);
        }
        other => panic!("{other:?}"),
    }

    t.app
        .send_password_reset(None, &p.login_id.to_uppercase(), &p.email, link)
        .await
        .unwrap();
    t.app.run_jobs_once().await.unwrap();
    let mails = smtp.wait_for(before + 1, WAIT);
    let m = mails.last().unwrap();
    assert_eq!(m.subject(), "[라이프플랜] 비밀번호 재설정 안내");
    let url = link_in(&m.text_body());
    let token = url.split("t=").nth(1).unwrap().to_owned();
    // Stored only as its digest.
    assert!(t.find_bytes(token.as_bytes()).await.is_none());
    assert!(t.app.reset_token_valid(&token).await.unwrap());

    // A weak password is refused and the token stays good.
    let weak = Revealed::new("short".to_owned());
    assert!(matches!(
        t.app.reset_password(&token, &weak).await,
        Err(CoreError::Invalid(_))
    ));
    assert!(t.app.reset_token_valid(&token).await.unwrap());

    let new = Revealed::new("Tteokbokki-Night-42".to_owned());
    t.app.reset_password(&token, &new).await.unwrap();
    assert!(
        t.app
            .session(session.token.expose())
            .await
            .unwrap()
            .is_none(),
        "the old session ended"
    );
    assert!(
        t.app
            .login(&p.login_id, &Revealed::new(p.password.clone()))
            .await
            .is_err()
    );
    t.app.login(&p.login_id, &new).await.unwrap();
    // Single use.
    assert!(!t.app.reset_token_valid(&token).await.unwrap());
    match t.app.reset_password(&token, &new).await {
        Err(CoreError::Invalid(e)) => assert_eq!(e[0].code, "recovery.expired"),
        other => panic!("{other:?}"),
    }
    // The member is told the password changed.
    t.app.run_jobs_once().await.unwrap();
    let mails = smtp.wait_for(before + 2, WAIT);
    assert_eq!(
        mails.last().unwrap().subject(),
        "[라이프플랜] 비밀번호가 바뀌었습니다"
    );

    // A second link expires after 30 minutes.
    t.app
        .send_password_reset(None, &p.login_id, &p.email, link)
        .await
        .unwrap();
    t.app.run_jobs_once().await.unwrap();
    let mails = smtp.wait_for(before + 3, WAIT);
    let late = link_in(&mails.last().unwrap().text_body());
    let late = late.split("t=").nth(1).unwrap();
    t.clock.advance(Duration::minutes(31));
    assert!(!t.app.reset_token_valid(late).await.unwrap());
    assert!(t.app.reset_password(late, &new).await.is_err());

    // The audit chain records the request and the reset, with no address.
    let entries = t.app.store().audit_rows(0, 10_000).await.unwrap();
    let actions: Vec<_> = entries
        .iter()
        .filter(|e| e.member_id == Some(member))
        .map(|e| e.action.as_str())
        .collect();
    assert!(
        actions.contains(&"member.password_reset_request"),
        "{actions:?}"
    );
    assert!(actions.contains(&"member.password_reset"), "{actions:?}");
}

async fn a_forgotten_login_id_is_mailed_and_the_answer_never_tells(b: Backend) {
    let smtp = TestSmtp::start();
    let t = TestApp::with_smtp(b, "lifeplan-seed", &smtp).await;
    let (_, p) = join(&t, 5).await;
    t.app.run_jobs_once().await.unwrap();
    smtp.wait_for(1, WAIT);
    t.app
        .send_login_id(None, "nobody@example.com")
        .await
        .unwrap();
    assert_eq!(
        t.app.run_jobs_once().await.unwrap(),
        0,
        "no mail for no member"
    );
    match t.app.send_login_id(None, "not an address").await {
        Err(CoreError::Invalid(e)) => assert_eq!(e[0].field, "email"),
        other => panic!("{other:?}"),
    }
    t.app
        .send_login_id(None, &p.email.to_uppercase())
        .await
        .unwrap();
    t.app.run_jobs_once().await.unwrap();
    let mails = smtp.wait_for(2, WAIT);
    let m = mails.last().unwrap();
    assert_eq!(m.subject(), "[라이프플랜] 아이디 안내");
    assert!(
        m.text_body().contains(&format!("아이디: {}", p.login_id)),
        "{}",
        m.text_body()
    );
    // Limited per address: the sixth request within the hour is refused.
    for _ in 0..4 {
        t.app.send_login_id(None, &p.email).await.unwrap();
    }
    assert!(matches!(
        t.app.send_login_id(None, &p.email).await,
        Err(CoreError::RateLimited { .. })
    ));
}

async fn the_password_change_and_the_withdrawal_are_mailed(b: Backend) {
    let smtp = TestSmtp::start_with(SmtpOptions {
        mode: SmtpMode::Implicit,
        auth: None,
    });
    let t = TestApp::with_smtp(b, "lifeplan-seed", &smtp).await;
    let (member, p) = join(&t, 6).await;
    let s = t
        .app
        .login(&p.login_id, &Revealed::new(p.password.clone()))
        .await
        .unwrap();
    let info = t.app.session(s.token.expose()).await.unwrap().unwrap();
    let new = Revealed::new("Gimbap-Morning-77".to_owned());
    t.app
        .change_password(&info, &Revealed::new(p.password.clone()), &new)
        .await
        .unwrap();
    let receipt = t
        .app
        .withdraw(&Actor::Member(member), member, "web")
        .await
        .unwrap();
    t.app.run_jobs_once().await.unwrap();
    let mails = smtp.wait_for(3, WAIT);
    // Jobs queued at the same (fixed) moment run in any order.
    let mut subjects: Vec<String> = mails.iter().map(|m| m.subject()).collect();
    subjects.sort();
    assert_eq!(
        subjects,
        [
            "[라이프플랜] 비밀번호가 바뀌었습니다",
            "[라이프플랜] 회원 가입을 환영합니다",
            "[라이프플랜] 회원 탈퇴를 마쳤습니다",
        ]
    );
    let text = mails
        .iter()
        .find(|m| m.subject().contains("탈퇴"))
        .unwrap()
        .text_body();
    assert!(text.contains(&receipt.code), "the receipt code: {text}");
    assert!(text.contains("Withdrawal receipt"), "{text}");
    // Every message sent, none with content; the member's data and the messages' keys gone.
    let rows = outbox(&t).await;
    assert!(rows.iter().all(|r| r.state == "sent" && r.sealed.is_none()));
    for needle in [p.email.as_str(), receipt.code.as_str()] {
        assert_eq!(t.find_bytes(needle.as_bytes()).await, None, "{needle}");
    }
}

/// The seed profile, reworded, taking effect on `effective`, with its change described.
fn next_version(effective: &str, disadvantage: bool) -> jikimi_policy::Policy {
    let src = jikimi_policy::Policy::builtin_source("lifeplan-seed")
        .unwrap()
        .replacen(
            "effective_date = 2026-12-01",
            &format!(
                "effective_date = {effective}\nchange = {{ summary = {{ ko = \"개인정보 보호책임자가 바뀝니다.\", en = \"The privacy officer changes.\" }}, disadvantage = {disadvantage} }}"
            ),
            1,
        )
        .replacen("김지킴", "김지킴이", 1);
    jikimi_policy::Policy::from_toml_str(&src, "next.toml")
        .unwrap()
        .policy
}

/// R-POL-02: a new version is mailed to every member at least 7 days (30 when marked as to
/// members' disadvantage) before it applies, in pages, once however often the service starts;
/// a version announced too late is refused at start; on its date it applies.
async fn a_policy_change_is_announced_to_every_member_once_before_it_applies(b: Backend) {
    let smtp = TestSmtp::start();
    let mail = jikimi_testkit::smtp_mail(&smtp);
    let t = TestApp::configured(b, jikimi_testkit::builtin("lifeplan-seed"), |cfg| {
        cfg.mail = Some(mail);
        cfg.settings.notice_page = 2;
    })
    .await
    .unwrap();
    let mut members = Vec::new();
    for n in 11..16 {
        members.push(join(&t, n).await.1);
    }
    while t.app.run_jobs_once().await.unwrap() > 0 {}
    assert_eq!(smtp.wait_for(5, WAIT).len(), 5, "five welcomes");
    let open = |p: jikimi_policy::Policy| {
        jikimi_core::Jikimi::open_with(
            &t.cfg,
            p,
            t.clock.clone(),
            false,
            jikimi_testkit::test_hasher(),
        )
    };

    // Too late: 29 days ahead for a change to members' disadvantage, 6 days for another.
    for (date, disadvantage, need) in [
        ("2026-12-31", true, "30 days"),
        ("2026-12-08", false, "7 days"),
    ] {
        match open(next_version(date, disadvantage)).await {
            Err(CoreError::Setup(m)) => assert!(m.contains(need), "{m}"),
            other => panic!("{date}: {other:?}"),
        }
    }
    // 30 days ahead, to members' disadvantage: announced and mailed to all five, in pages of 2.
    let next = next_version("2027-01-01", true);
    let app = open(next.clone()).await.unwrap();
    assert_eq!(
        app.announced_policy().map(|p| p.version().clone()),
        Some(next.version().clone())
    );
    while app.run_jobs_once().await.unwrap() > 0 {}
    let mails = smtp.wait_for(10, WAIT);
    let notices: Vec<_> = mails
        .iter()
        .filter(|m| m.subject() == "[라이프플랜] 개인정보 처리방침 변경 안내")
        .collect();
    let mut to: Vec<String> = notices.iter().map(|m| m.rcpt_tos[0].clone()).collect();
    to.sort();
    let mut all: Vec<String> = members.iter().map(|p| p.email.clone()).collect();
    all.sort();
    assert_eq!(to, all, "each member once");
    let text = notices[0].text_body();
    assert!(text.contains("2027년 1월 1일부터 바뀝니다"), "{text}");
    assert!(text.contains("개인정보 보호책임자가 바뀝니다"), "{text}");
    assert!(text.contains("시행 30일 전에"), "{text}");
    assert!(text.contains("changes on 2027-01-01"), "{text}");

    // A restart (another instance) announces nothing again.
    let again = open(next.clone()).await.unwrap();
    while again.run_jobs_once().await.unwrap() > 0 {}
    std::thread::sleep(StdDuration::from_millis(300));
    assert_eq!(smtp.messages().len(), 10);
    let sent = app
        .store()
        .messages(OutboxFilter {
            kind: Some("policy_change".into()),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(sent.len(), 5);
    assert!(sent.iter().all(|m| m.state == "sent" && m.sealed.is_none()));

    // On its date it applies, without a restart; the old version stays in the history.
    let old = t.app.policy().version().clone();
    t.clock
        .set(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 12, 31, 15, 0, 0).unwrap());
    assert_eq!(app.policy().version(), next.version());
    let versions: Vec<String> = app
        .policy_versions()
        .await
        .unwrap()
        .into_iter()
        .map(|v| v.version)
        .collect();
    assert!(versions.contains(&old.as_str().to_owned()), "{versions:?}");
}

/// What mail leaves behind that is of no use any more goes with the daily purge: expired reset
/// links, and message keys whose message is not waiting (a transaction that failed after the
/// key was made). A waiting message's key stays.
async fn the_purge_takes_expired_reset_links_and_keys_of_no_waiting_message(b: Backend) {
    let smtp = TestSmtp::start();
    let t = TestApp::with_smtp(b, "lifeplan-seed", &smtp).await;
    let (_, p) = join(&t, 7).await;
    let waiting = outbox(&t).await.remove(0);
    let stray = uuid::Uuid::new_v4();
    t.app.keyring().create_message_key(stray).await.unwrap();
    assert_eq!(
        t.app
            .sweep_orphan_message_keys(chrono::Duration::zero())
            .await
            .unwrap(),
        1
    );
    assert!(t.app.keyring().message_key(stray).await.unwrap().is_none());
    assert!(
        t.app
            .keyring()
            .message_key(waiting.id)
            .await
            .unwrap()
            .is_some()
    );

    let link = |tok: &str| format!("https://lifeplan.example.com/recovery/reset?t={tok}");
    t.app
        .send_password_reset(None, &p.login_id, &p.email, link)
        .await
        .unwrap();
    let mut db = t.db().await;
    assert_eq!(db.count("SELECT count(*) FROM recovery_tokens").await, 1);
    t.clock.advance(Duration::minutes(31));
    t.app
        .purge(&Actor::System, false, &|_, _| {})
        .await
        .unwrap();
    assert_eq!(db.count("SELECT count(*) FROM recovery_tokens").await, 0);
}

/// Text messages go through the same outbox: a password change is also texted to the mobile
/// number the member gave (the policy lists the notices purpose for it), through SOLAPI's API
/// (a local fake that checks its documented signature and body); the row keeps no content after.
async fn a_password_change_is_also_texted_through_solapi(b: Backend) {
    let smtp = TestSmtp::start();
    let fake = jikimi_testkit::solapi::FakeSolapi::start("NCSTESTKEY0001", "test-secret-0001");
    let mail = jikimi_testkit::smtp_mail(&smtp);
    let sms = jikimi_core::sms::SmsSetup {
        transport: std::sync::Arc::new(
            jikimi_core::sms::SolapiSms::new(&fake.url(), "NCSTESTKEY0001", "test-secret-0001")
                .unwrap(),
        ),
        from: "0200000000".into(),
    };
    let t = TestApp::configured(b, jikimi_testkit::builtin("lifeplan-seed"), |cfg| {
        cfg.mail = Some(mail);
        cfg.sms = Some(sms);
    })
    .await
    .unwrap();
    let (member, p) = join(&t, 8).await;
    let s = t
        .app
        .login(&p.login_id, &Revealed::new(p.password.clone()))
        .await
        .unwrap();
    let info = t.app.session(s.token.expose()).await.unwrap().unwrap();
    let new = Revealed::new("Hotteok-Winter-19".to_owned());
    t.app
        .change_password(&info, &Revealed::new(p.password.clone()), &new)
        .await
        .unwrap();
    while t.app.run_jobs_once().await.unwrap() > 0 {}
    let texts = fake.messages();
    assert_eq!(texts.len(), 1, "only the password change has a text form");
    let digits: String = p.mobile.chars().filter(char::is_ascii_digit).collect();
    assert_eq!(texts[0].to, digits);
    assert_eq!(texts[0].from, "0200000000");
    assert!(
        texts[0]
            .text
            .contains("[라이프플랜] 비밀번호가 바뀌었습니다"),
        "{}",
        texts[0].text
    );
    let rows = t
        .app
        .store()
        .messages(OutboxFilter {
            member: Some(member),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    let sms: Vec<_> = rows.iter().filter(|r| r.channel == "sms").collect();
    assert_eq!(sms.len(), 1);
    assert_eq!(
        (sms[0].state.as_str(), sms[0].sealed.is_none()),
        ("sent", true)
    );
    assert_eq!(t.find_bytes(digits.as_bytes()).await, None);
    assert_eq!(smtp.wait_for(2, WAIT).len(), 2, "and by mail");
}

#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The plaintext scan of the logs: at the most verbose level, through a welcome, a refused and
/// retried delivery, a permanent refusal, a reset link, a text message and a withdrawal, no
/// address, number, body, token or receipt code reaches the log (every test of this binary logs
/// into the same global subscriber, which only widens the net).
async fn nothing_of_a_message_reaches_the_logs(b: Backend) {
    static CAPTURED: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
    let captured = CAPTURED
        .get_or_init(|| {
            let captured = Captured::default();
            let writer = captured.clone();
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_writer(move || writer.clone())
                .finish();
            tracing::subscriber::set_global_default(subscriber).unwrap();
            captured
        })
        .clone();
    let smtp = TestSmtp::start();
    let fake = jikimi_testkit::solapi::FakeSolapi::start("NCSTESTKEY0002", "test-secret-0002");
    let mail = jikimi_testkit::smtp_mail(&smtp);
    let sms = jikimi_core::sms::SmsSetup {
        transport: std::sync::Arc::new(
            jikimi_core::sms::SolapiSms::new(&fake.url(), "NCSTESTKEY0002", "test-secret-0002")
                .unwrap(),
        ),
        from: "0200000000".into(),
    };
    let t = TestApp::configured(b, jikimi_testkit::builtin("lifeplan-seed"), |cfg| {
        cfg.mail = Some(mail);
        cfg.sms = Some(sms);
    })
    .await
    .unwrap();
    smtp.set_refusing(true);
    let (member, p) = join(&t, 9).await;
    t.app.run_jobs_once().await.unwrap();
    smtp.set_refusing(false);
    t.clock.advance(Duration::minutes(2));
    t.app.run_jobs_once().await.unwrap();
    let link = |tok: &str| format!("https://lifeplan.example.com/recovery/reset?t={tok}");
    t.app
        .send_password_reset(None, &p.login_id, &p.email, link)
        .await
        .unwrap();
    t.app.run_jobs_once().await.unwrap();
    let reset = smtp.wait_for(2, WAIT).pop().unwrap();
    let token = reset
        .text_body()
        .lines()
        .find_map(|l| l.split("t=").nth(1).map(str::to_owned))
        .unwrap();
    let new = Revealed::new("Sikhye-Autumn-64".to_owned());
    t.app.reset_password(&token, &new).await.unwrap();
    smtp.set_rejecting(true);
    let receipt = t
        .app
        .withdraw(&Actor::Member(member), member, "web")
        .await
        .unwrap();
    while t.app.run_jobs_once().await.unwrap() > 0 {}
    assert!(!fake.messages().is_empty(), "a text went out");
    let logs = String::from_utf8_lossy(&captured.0.lock().unwrap()).into_owned();
    // The net caught the deliveries: the retry and the give-up are logged, by code only.
    assert!(logs.contains("smtp 451 (temporary)"), "{logs}");
    assert!(logs.contains("smtp 550 (permanent)"), "{logs}");
    let digits: String = p.mobile.chars().filter(char::is_ascii_digit).collect();
    for needle in [
        p.email.as_str(),
        p.mobile.as_str(),
        digits.as_str(),
        token.trim(),
        receipt.code.as_str(),
        "회원이 되신 것을 환영합니다",
        "비밀번호를 새로 정하려면",
        "비밀번호가 바뀌었습니다",
    ] {
        assert!(!logs.contains(needle), "{needle} reached the logs");
    }
}

/// A sign-up stores the member's key and its welcome letter's key together, right before its
/// rows; one that the store refuses (ten sign-ups of one person at once: one wins) removes both.
/// Then the delivery run sends every letter and destroys all their keys at once.
async fn sign_ups_refused_at_the_store_leave_no_key_and_sent_mail_none(b: Backend) {
    let smtp = TestSmtp::start();
    let t = TestApp::with_smtp(b, "lifeplan-seed", &smtp).await;
    let far = chrono::Utc::now() + Duration::days(1);
    let message_keys = || async {
        t.app
            .keyring()
            .own_key_ids("message:", far)
            .await
            .unwrap()
            .len()
    };
    let base = person(40);
    let mut tasks = Vec::new();
    for i in 0..10u32 {
        let mut p = person(41 + i);
        p.email = base.email.clone();
        let app = t.app.clone();
        tasks.push(tokio::spawn(
            async move { app.sign_up(seed_signup(&p)).await },
        ));
    }
    let mut won = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => won += 1,
            Err(CoreError::AlreadyMember { field, .. }) => assert_eq!(field, "email"),
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(won, 1);
    // Two more members, each with a welcome letter waiting.
    join(&t, 60).await;
    join(&t, 61).await;
    assert_eq!(t.row_counts().await["member_keys"], 3, "one key per member");
    assert_eq!(outbox(&t).await.len(), 3);
    assert_eq!(message_keys().await, 3, "one key per waiting letter");

    assert_eq!(t.app.run_jobs_once().await.unwrap(), 3);
    assert_eq!(smtp.wait_for(3, WAIT).len(), 3);
    assert!(outbox(&t).await.iter().all(|m| m.state == "sent"));
    assert_eq!(
        message_keys().await,
        0,
        "every sent letter's key is destroyed"
    );
    assert_eq!(t.app.keyring().retired_keys(), 0);
    assert_eq!(t.row_counts().await["member_keys"], 3);
}
