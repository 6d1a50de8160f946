//! The SMTP test server (`TestSmtp`, aiosmtpd) proved with Python's smtplib as the client: a
//! message arrives with its envelope and decoded subject and bodies; refusals and rejections reach
//! the client and store nothing; a stopped server comes back on the same port; STARTTLS, implicit
//! TLS and AUTH work. Only synthetic `@example.com` addresses.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Stdio};
use std::time::Duration;

use jikimi_testkit::smtp::{SmtpMode, SmtpOptions, TestSmtp, python};
use serde_json::json;

const SUBJECT: &str = "지킴이 시험 메일: 개인정보 처리방침이 바뀌었습니다 (안내)";
const TEXT: &str = "안녕하세요, 회원님.\n개인정보 처리방침이 바뀌었습니다. = 등호도 그대로.\n";
const HTML: &str = "<p>안녕하세요, <b>회원님</b>.</p>\n<p>처리방침이 바뀌었습니다.</p>\n";

/// The client: builds an `EmailMessage` (Python encodes the subject as RFC 2047 and the
/// multipart/alternative body) and sends it; prints one line: OK, REFUSED code message,
/// SENDERREFUSED code, AUTHFAIL code, or ERROR type.
const CLIENT: &str = r#"
import json, smtplib, ssl, sys
from email.message import EmailMessage
c = json.loads(sys.argv[1])
m = EmailMessage()
m["From"] = c["from"]
m["To"] = ", ".join(c["to"])
m["Subject"] = c["subject"]
kw = {"cte": c["text_cte"]} if c.get("text_cte") else {}
m.set_content(c["text"], **kw)
kw = {"cte": c["html_cte"]} if c.get("html_cte") else {}
m.add_alternative(c["html"], subtype="html", **kw)
ctx = ssl.create_default_context(cafile=c.get("cafile"))
try:
    if c["mode"] == "implicit":
        s = smtplib.SMTP_SSL("127.0.0.1", c["port"], context=ctx, timeout=10)
    else:
        s = smtplib.SMTP("127.0.0.1", c["port"], timeout=10)
    with s:
        if c["mode"] == "starttls":
            s.starttls(context=ctx)
        if c.get("user"):
            s.login(c["user"], c["password"])
        s.send_message(m)
    print("OK")
except smtplib.SMTPRecipientsRefused as e:
    code, msg = next(iter(e.recipients.values()))
    print("REFUSED", code, msg.decode())
except smtplib.SMTPSenderRefused as e:
    print("SENDERREFUSED", e.smtp_code)
except smtplib.SMTPAuthenticationError as e:
    print("AUTHFAIL", e.smtp_code)
except Exception as e:
    print("ERROR", type(e).__name__)
"#;

struct Send<'a> {
    mode: &'a str,
    subject: &'a str,
    to: &'a [&'a str],
    cafile: Option<&'a std::path::Path>,
    login: Option<(&'a str, &'a str)>,
    text_cte: Option<&'a str>,
    html_cte: Option<&'a str>,
}

impl Default for Send<'_> {
    fn default() -> Self {
        Send {
            mode: "plain",
            subject: SUBJECT,
            to: &["member1@example.com"],
            cafile: None,
            login: None,
            text_cte: None,
            html_cte: None,
        }
    }
}

/// Sends with smtplib to `port`; the client's one-line outcome.
fn send(port: u16, s: Send<'_>) -> String {
    let config = json!({
        "port": port,
        "mode": s.mode,
        "from": "office@example.com",
        "to": s.to,
        "subject": s.subject,
        "text": TEXT,
        "html": HTML,
        "text_cte": s.text_cte,
        "html_cte": s.html_cte,
        "cafile": s.cafile.map(|p| p.to_str().unwrap().to_owned()),
        "user": s.login.map(|l| l.0),
        "password": s.login.map(|l| l.1),
    });
    let o = Command::new(python())
        .args(["-c", CLIENT, &config.to_string()])
        .stdin(Stdio::null())
        .output()
        .expect("python3 runs the smtplib client");
    assert!(
        o.status.success(),
        "the client failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap().trim().to_owned()
}

const WAIT: Duration = Duration::from_secs(10);

#[test]
fn a_message_arrives_with_its_envelope_and_decoded_subject_and_bodies() {
    let smtp = TestSmtp::start();
    assert_eq!(smtp.url(), format!("smtp://127.0.0.1:{}", smtp.port()));
    assert_eq!(smtp.password(), None);
    assert_eq!(smtp.ca_cert_pem_path(), None);
    let outcome = send(
        smtp.port(),
        Send {
            to: &["member1@example.com", "member2@example.com"],
            text_cte: Some("quoted-printable"),
            html_cte: Some("base64"),
            ..Send::default()
        },
    );
    assert_eq!(outcome, "OK");
    let mails = smtp.wait_for(1, WAIT);
    assert_eq!(mails.len(), 1);
    let m = &mails[0];
    assert_eq!(m.mail_from, "office@example.com");
    assert_eq!(m.rcpt_tos, ["member1@example.com", "member2@example.com"]);
    let raw_subject = m.header("SUBJECT").unwrap();
    assert!(raw_subject.starts_with("=?utf-8?b?"), "{raw_subject}");
    assert!(!raw_subject.contains('\n'), "unfolded: {raw_subject:?}");
    assert_eq!(m.subject(), SUBJECT);
    assert!(
        m.header("content-type")
            .unwrap()
            .starts_with("multipart/alternative"),
        "{}",
        m.raw
    );
    assert!(
        m.raw
            .contains("Content-Transfer-Encoding: quoted-printable")
    );
    assert!(m.raw.contains("Content-Transfer-Encoding: base64"));
    assert_eq!(m.text_body(), TEXT);
    assert_eq!(m.html_body(), HTML);
    assert_eq!(
        m.header("to").as_deref(),
        Some("member1@example.com, member2@example.com")
    );
}

#[test]
fn eight_bit_bodies_decode_and_messages_keep_their_arrival_order() {
    let smtp = TestSmtp::start();
    for subject in ["첫째", "둘째", "셋째"] {
        let outcome = send(
            smtp.port(),
            Send {
                subject,
                ..Send::default()
            },
        );
        assert_eq!(outcome, "OK");
    }
    let mails = smtp.wait_for(3, WAIT);
    let subjects: Vec<String> = mails.iter().map(|m| m.subject()).collect();
    assert_eq!(subjects, ["첫째", "둘째", "셋째"]);
    assert!(mails[0].raw.contains("Content-Transfer-Encoding: 8bit"));
    assert_eq!(mails[0].text_body(), TEXT);
    assert_eq!(mails[0].html_body(), HTML);
}

#[test]
fn refusing_answers_451_and_rejecting_550_and_nothing_is_stored() {
    let smtp = TestSmtp::start();
    smtp.set_refusing(true);
    let outcome = send(smtp.port(), Send::default());
    assert_eq!(outcome, "REFUSED 451 4.3.0 Try again later");
    smtp.set_refusing(false);
    smtp.set_rejecting(true);
    let outcome = send(smtp.port(), Send::default());
    assert_eq!(outcome, "REFUSED 550 5.1.1 Mailbox unavailable");
    smtp.set_rejecting(false);
    smtp.set_rejecting(false); // switching off twice is fine
    std::thread::sleep(Duration::from_millis(200));
    assert!(smtp.messages().is_empty());

    assert_eq!(send(smtp.port(), Send::default()), "OK");
    let mails = smtp.wait_for(1, WAIT);
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].rcpt_tos, ["member1@example.com"]);
}

#[test]
fn a_stopped_server_refuses_connections_and_restarts_on_the_same_port() {
    let mut smtp = TestSmtp::start();
    let port = smtp.port();
    assert_eq!(
        send(
            port,
            Send {
                subject: "before",
                ..Send::default()
            }
        ),
        "OK"
    );
    smtp.stop();
    smtp.stop(); // stopping twice is fine
    assert_eq!(send(port, Send::default()), "ERROR ConnectionRefusedError");
    smtp.restart();
    assert_eq!(smtp.port(), port);
    assert_eq!(
        send(
            port,
            Send {
                subject: "after",
                ..Send::default()
            }
        ),
        "OK"
    );
    let subjects: Vec<String> = smtp.wait_for(2, WAIT).iter().map(|m| m.subject()).collect();
    assert_eq!(subjects, ["before", "after"]);
    // A restart of a running server works too.
    smtp.restart();
    assert_eq!(send(port, Send::default()), "OK");
    assert_eq!(smtp.wait_for(3, WAIT).len(), 3);
}

#[test]
fn starttls_accepts_a_client_that_trusts_the_certificate() {
    let smtp = TestSmtp::start_with(SmtpOptions {
        mode: SmtpMode::StartTls,
        auth: None,
    });
    assert_eq!(
        smtp.url(),
        format!("smtp://127.0.0.1:{}?tls=required", smtp.port())
    );
    let cert = smtp.ca_cert_pem_path().unwrap();
    assert!(
        std::fs::read_to_string(cert)
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----")
    );
    // Without STARTTLS the server takes no mail.
    assert_eq!(send(smtp.port(), Send::default()), "SENDERREFUSED 530");
    // A client that does not trust the certificate does not get through.
    let untrusted = send(
        smtp.port(),
        Send {
            mode: "starttls",
            ..Send::default()
        },
    );
    assert_eq!(untrusted, "ERROR SSLCertVerificationError");
    let outcome = send(
        smtp.port(),
        Send {
            mode: "starttls",
            cafile: Some(cert),
            ..Send::default()
        },
    );
    assert_eq!(outcome, "OK");
    let mails = smtp.wait_for(1, WAIT);
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].subject(), SUBJECT);
}

#[test]
fn implicit_tls_accepts_a_client_that_trusts_the_certificate() {
    let smtp = TestSmtp::start_with(SmtpOptions {
        mode: SmtpMode::Implicit,
        auth: None,
    });
    assert_eq!(smtp.url(), format!("smtps://127.0.0.1:{}", smtp.port()));
    let outcome = send(
        smtp.port(),
        Send {
            mode: "implicit",
            cafile: smtp.ca_cert_pem_path(),
            ..Send::default()
        },
    );
    assert_eq!(outcome, "OK");
    assert_eq!(smtp.wait_for(1, WAIT)[0].text_body(), TEXT);
}

#[test]
fn auth_takes_the_right_password_only() {
    let smtp = TestSmtp::start_with(SmtpOptions {
        mode: SmtpMode::Plain,
        auth: Some(("mailer@example.com".into(), "correct horse".into())),
    });
    assert_eq!(
        smtp.url(),
        format!("smtp://mailer%40example.com@127.0.0.1:{}", smtp.port())
    );
    assert!(!smtp.url().contains("horse"));
    assert_eq!(smtp.user(), Some("mailer@example.com"));
    assert_eq!(smtp.password(), Some("correct horse"));
    assert_eq!(send(smtp.port(), Send::default()), "SENDERREFUSED 530");
    let wrong = send(
        smtp.port(),
        Send {
            login: Some(("mailer@example.com", "wrong horse")),
            ..Send::default()
        },
    );
    assert_eq!(wrong, "AUTHFAIL 535");
    let right = send(
        smtp.port(),
        Send {
            login: Some(("mailer@example.com", "correct horse")),
            ..Send::default()
        },
    );
    assert_eq!(right, "OK");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(smtp.messages().len(), 1);
}

#[test]
fn auth_over_starttls() {
    let smtp = TestSmtp::start_with(SmtpOptions {
        mode: SmtpMode::StartTls,
        auth: Some(("mailer".into(), "s3cret".into())),
    });
    assert_eq!(
        smtp.url(),
        format!("smtp://mailer@127.0.0.1:{}?tls=required", smtp.port())
    );
    let cert = smtp.ca_cert_pem_path();
    let wrong = send(
        smtp.port(),
        Send {
            mode: "starttls",
            cafile: cert,
            login: Some(("mailer", "guess")),
            ..Send::default()
        },
    );
    assert_eq!(wrong, "AUTHFAIL 535");
    let right = send(
        smtp.port(),
        Send {
            mode: "starttls",
            cafile: cert,
            login: Some(("mailer", "s3cret")),
            ..Send::default()
        },
    );
    assert_eq!(right, "OK");
    assert_eq!(smtp.wait_for(1, WAIT)[0].html_body(), HTML);
}
