//! Mail to members (issue 14): messages rendered from template files (Korean or English, text and
//! HTML), sealed into the outbox with their delivery job in the transaction of the change that
//! causes them, and sent by the `outbox.deliver` job through a [`MailTransport`]: SMTP
//! ([`SmtpTransport`], lettre over rustls) or, for development on a loopback address, the
//! in-memory [`SandboxMailbox`].
//!
//! A message's recipient, subject and bodies are personal data: they are sealed under a key of
//! the message's own (`message:<id>`). Once the message is sent or given up, the outbox row
//! keeps no content and the key is destroyed, so no copy of the data directory can open it.
//! Nothing of a message reaches the logs: transport errors are reduced to an SMTP status class
//! and code.

use std::fmt;
use std::sync::{Arc, Mutex};

use askama::Template;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use jikimi_policy::Lang;
use jikimi_store::{NewJob, NewMessage, OutboxOutcome};
use jikimi_vault::DataKey;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::jobs::{Backoff, Job, JobError, RetryPolicy};
use crate::{CoreError, Jikimi, Result};

/// Delivery attempts before a message is given up (about a day with the job's backoff).
pub const MAX_ATTEMPTS: i64 = 10;
/// The purpose under which a member's e-mail address is read to send them a notice.
pub const NOTICE_PURPOSE: &str = "notices";
/// The item a notice goes to.
pub const EMAIL_ITEM: &str = "email";

/// What a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    Welcome,
    PasswordChanged,
    Withdrawal,
    PasswordReset,
    LoginId,
    PolicyChange,
    AdConsent,
    AdReconfirm,
    RequestClosed,
    RequestExtended,
    ComplaintAnswered,
    GuardianAsk,
    GuardianAccess,
    PartnerAsk,
    Advertisement,
    BreachNotice,
}

impl MessageKind {
    pub const ALL: &'static [MessageKind] = &[
        Self::Welcome,
        Self::PasswordChanged,
        Self::Withdrawal,
        Self::PasswordReset,
        Self::LoginId,
        Self::PolicyChange,
        Self::AdConsent,
        Self::AdReconfirm,
        Self::RequestClosed,
        Self::RequestExtended,
        Self::ComplaintAnswered,
        Self::GuardianAsk,
        Self::GuardianAccess,
        Self::PartnerAsk,
        Self::Advertisement,
        Self::BreachNotice,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Welcome => "welcome",
            Self::PasswordChanged => "password_changed",
            Self::Withdrawal => "withdrawal",
            Self::PasswordReset => "password_reset",
            Self::LoginId => "login_id",
            Self::PolicyChange => "policy_change",
            Self::AdConsent => "ad_consent",
            Self::AdReconfirm => "ad_reconfirm",
            Self::RequestClosed => "request_closed",
            Self::RequestExtended => "request_extended",
            Self::ComplaintAnswered => "complaint_answered",
            Self::GuardianAsk => "guardian_ask",
            Self::GuardianAccess => "guardian_access",
            Self::PartnerAsk => "partner_ask",
            Self::Advertisement => "advertisement",
            Self::BreachNotice => "breach_notice",
        }
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Self::Welcome, Lang::Ko) => "가입 환영",
            (Self::Welcome, Lang::En) => "Welcome",
            (Self::PasswordChanged, Lang::Ko) => "비밀번호 변경 알림",
            (Self::PasswordChanged, Lang::En) => "Password changed",
            (Self::Withdrawal, Lang::Ko) => "탈퇴 확인",
            (Self::Withdrawal, Lang::En) => "Withdrawal receipt",
            (Self::PasswordReset, Lang::Ko) => "비밀번호 재설정",
            (Self::PasswordReset, Lang::En) => "Password reset",
            (Self::LoginId, Lang::Ko) => "아이디 안내",
            (Self::LoginId, Lang::En) => "Login ID",
            (Self::PolicyChange, Lang::Ko) => "처리방침 변경 안내",
            (Self::PolicyChange, Lang::En) => "Policy change",
            (Self::AdConsent, Lang::Ko) => "광고 수신 동의 처리 결과",
            (Self::AdConsent, Lang::En) => "Advertising consent recorded",
            (Self::AdReconfirm, Lang::Ko) => "광고 수신 동의 확인(2년)",
            (Self::AdReconfirm, Lang::En) => "Advertising consent reminder (2 years)",
            (Self::RequestClosed, Lang::Ko) => "요청 처리 결과",
            (Self::RequestClosed, Lang::En) => "Request answered",
            (Self::RequestExtended, Lang::Ko) => "요청 기한 연장",
            (Self::RequestExtended, Lang::En) => "Request deadline extended",
            (Self::ComplaintAnswered, Lang::Ko) => "의견·불만 답변",
            (Self::ComplaintAnswered, Lang::En) => "Complaint answered",
            (Self::GuardianAsk, Lang::Ko) => "법정대리인 동의 요청",
            (Self::GuardianAsk, Lang::En) => "Guardian's consent asked",
            (Self::GuardianAccess, Lang::Ko) => "법정대리인 확인 링크",
            (Self::GuardianAccess, Lang::En) => "Guardian's sign-in link",
            (Self::PartnerAsk, Lang::Ko) => "제3자 제공 안내와 동의 요청",
            (Self::PartnerAsk, Lang::En) => "A partner: notice and consent asked",
            (Self::Advertisement, Lang::Ko) => "광고",
            (Self::Advertisement, Lang::En) => "Advertisement",
            (Self::BreachNotice, Lang::Ko) => "개인정보 유출 통지",
            (Self::BreachNotice, Lang::En) => "Personal data breach notice",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.name() == text)
    }
}

/// A message as it waits sealed in the outbox: recipient, subject, text and HTML.
#[derive(Clone, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct Letter {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// An advertisement's one-click refusal address (RFC 8058): sent as `List-Unsubscribe`
    /// with `List-Unsubscribe-Post: List-Unsubscribe=One-Click`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsubscribe: Option<String>,
}

impl fmt::Debug for Letter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Letter(<sealed>)")
    }
}

/// Who mail comes from: the operator's name and address (`From`), and where replies go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender {
    pub name: String,
    pub address: String,
    pub reply_to: Option<String>,
}

/// Why a message was not delivered. The text never carries the recipient or the server's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Worth trying again (a 4xx answer, a server that is down).
    Transient(String),
    /// Will not get better (a 5xx answer, an address the server refuses).
    Permanent(String),
}

/// Sends a rendered message.
#[async_trait]
pub trait MailTransport: Send + Sync + fmt::Debug {
    async fn send(
        &self,
        sender: &Sender,
        id: Uuid,
        letter: &Letter,
    ) -> std::result::Result<(), SendError>;
    /// The sandbox's mailbox, if this is the sandbox.
    fn sandbox(&self) -> Option<Arc<SandboxMailbox>> {
        None
    }
}

/// Mail as configured: the transport, the sender and the site's address for links.
#[derive(Debug, Clone)]
pub struct MailSetup {
    pub transport: Arc<dyn MailTransport>,
    /// Overrides the policy's operator (name and e-mail) as the sender.
    pub sender: Option<Sender>,
    /// The site's address links start with; default: the policy's website.
    pub site: Option<String>,
}

impl MailSetup {
    pub fn new(transport: Arc<dyn MailTransport>) -> Self {
        Self {
            transport,
            sender: None,
            site: None,
        }
    }
}

/// One message as the sandbox "sent" it.
#[derive(Clone)]
pub struct SandboxMail {
    pub at: DateTime<Utc>,
    pub from: String,
    pub letter: Letter,
}

impl fmt::Debug for SandboxMail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SandboxMail(at {})", self.at)
    }
}

/// The development mailbox: messages stay in memory (the last 200), never in a file or a log.
#[derive(Debug, Default)]
pub struct SandboxMailbox {
    messages: Mutex<Vec<SandboxMail>>,
}

impl SandboxMailbox {
    pub fn messages(&self) -> Vec<SandboxMail> {
        self.messages.lock().map(|m| m.clone()).unwrap_or_default()
    }

    /// The messages sent to `to`, the latest last.
    pub fn to(&self, to: &str) -> Vec<SandboxMail> {
        self.messages()
            .into_iter()
            .filter(|m| m.letter.to.eq_ignore_ascii_case(to))
            .collect()
    }
}

/// A transport that keeps mail in memory (development on a loopback address; `serve` refuses it
/// elsewhere).
#[derive(Debug, Default)]
pub struct SandboxTransport {
    mailbox: Arc<SandboxMailbox>,
}

#[async_trait]
impl MailTransport for SandboxTransport {
    async fn send(
        &self,
        sender: &Sender,
        _id: Uuid,
        letter: &Letter,
    ) -> std::result::Result<(), SendError> {
        let mut m = self
            .mailbox
            .messages
            .lock()
            .map_err(|_| SendError::Transient("sandbox mailbox unavailable".into()))?;
        m.push(SandboxMail {
            at: Utc::now(),
            from: sender.address.clone(),
            letter: letter.clone(),
        });
        let over = m.len().saturating_sub(200);
        m.drain(..over);
        Ok(())
    }

    fn sandbox(&self) -> Option<Arc<SandboxMailbox>> {
        Some(self.mailbox.clone())
    }
}

/// SMTP through lettre, over rustls: `smtp://host:port` (STARTTLS when offered; `?tls=required`
/// to insist), `smtps://host:port` (implicit TLS). The user is in the URL, the password given
/// apart (never in the URL, so never in a process list or a log).
pub struct SmtpTransport {
    inner: lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
    /// The URL without user or password, for messages.
    shown: String,
}

impl fmt::Debug for SmtpTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SmtpTransport({})", self.shown)
    }
}

impl SmtpTransport {
    /// `ca_pem`: a certificate to trust besides the system's (a private mail server's).
    pub fn new(url: &str, password: Option<&str>, ca_pem: Option<&[u8]>) -> Result<Self> {
        use lettre::transport::smtp::authentication::Credentials;
        use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
        let setup = |e: String| CoreError::Setup(format!("--smtp-url: {e}"));
        let parsed = url::Url::parse(url).map_err(|e| setup(e.to_string()))?;
        if parsed.password().is_some() {
            return Err(setup(
                "put the password in --smtp-password-file or JIKIMI_SMTP_PASSWORD, not in the URL"
                    .into(),
            ));
        }
        let host = parsed
            .host_str()
            .ok_or_else(|| setup("no host".into()))?
            .to_owned();
        let shown = format!(
            "{}://{}:{}",
            parsed.scheme(),
            host,
            parsed.port().map(|p| p.to_string()).unwrap_or_default()
        );
        let mut builder = lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(url)
            .map_err(|e| setup(e.to_string()))?;
        if let Some(pem) = ca_pem {
            let cert = Certificate::from_pem(pem).map_err(|e| setup(format!("--smtp-ca: {e}")))?;
            let params = TlsParameters::builder(host.clone())
                .add_root_certificate(cert)
                .build_rustls()
                .map_err(|e| setup(e.to_string()))?;
            let tls = match parsed.scheme() {
                "smtps" => Tls::Wrapper(params),
                _ if parsed
                    .query_pairs()
                    .any(|(k, v)| k == "tls" && v == "required") =>
                {
                    Tls::Required(params)
                }
                _ => Tls::Opportunistic(params),
            };
            builder = builder.tls(tls);
        }
        let user = parsed.username();
        if !user.is_empty() {
            let user = percent_decode(user);
            let pw = password.ok_or_else(|| {
                setup(format!(
                    "user {user:?} given without a password (--smtp-password-file or JIKIMI_SMTP_PASSWORD)"
                ))
            })?;
            builder = builder.credentials(Credentials::new(user, pw.to_owned()));
        }
        Ok(Self {
            inner: builder
                .timeout(Some(std::time::Duration::from_secs(30)))
                .build(),
            shown,
        })
    }
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("u={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_owned())
}

/// Builds the MIME message: multipart text + HTML, subject encoded for Hangul (RFC 2047), a
/// Message-ID of the message's own id at the sender's domain.
pub fn mime_message(
    sender: &Sender,
    id: Uuid,
    letter: &Letter,
) -> std::result::Result<lettre::Message, SendError> {
    use lettre::message::{Mailbox, MultiPart};
    let bad = |what: &str| SendError::Permanent(format!("invalid {what} address"));
    let from: Mailbox = Mailbox::new(
        Some(sender.name.clone()),
        sender.address.parse().map_err(|_| bad("sender"))?,
    );
    let domain = sender
        .address
        .rsplit_once('@')
        .map_or("localhost", |(_, d)| d);
    let mut b = lettre::Message::builder()
        .from(from)
        .to(letter.to.parse().map_err(|_| bad("recipient"))?)
        .subject(letter.subject.clone())
        .message_id(Some(format!("<{id}@{domain}>")));
    if let Some(r) = &sender.reply_to {
        b = b.reply_to(r.parse().map_err(|_| bad("reply-to"))?);
    }
    if let Some(url) = &letter.unsubscribe {
        use lettre::message::header::{HeaderName, HeaderValue};
        b = b
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{url}>"),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".to_owned(),
            ));
    }
    b.multipart(MultiPart::alternative_plain_html(
        letter.text.clone(),
        letter.html.clone(),
    ))
    .map_err(|e| SendError::Permanent(format!("message: {e}")))
}

#[async_trait]
impl MailTransport for SmtpTransport {
    async fn send(
        &self,
        sender: &Sender,
        id: Uuid,
        letter: &Letter,
    ) -> std::result::Result<(), SendError> {
        use lettre::AsyncTransport;
        let message = mime_message(sender, id, letter)?;
        self.inner.send(message).await.map(|_| ()).map_err(|e| {
            // The server's own words may quote the address: keep only the code and class.
            let code = e.status().map(|c| c.to_string());
            match (e.is_permanent(), code) {
                (true, Some(c)) => SendError::Permanent(format!("smtp {c} (permanent)")),
                (true, None) => SendError::Permanent("smtp refused (permanent)".into()),
                (false, Some(c)) => SendError::Transient(format!("smtp {c} (temporary)")),
                (false, None) if e.is_timeout() => SendError::Transient("smtp timed out".into()),
                (false, None) => {
                    SendError::Transient("smtp server unreachable or the connection failed".into())
                }
            }
        })
    }
}

// ----- rendering ---------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "mail/welcome.txt")]
struct WelcomeText<'a> {
    ko: bool,
    operator: &'a str,
    site: &'a str,
    officer: &'a str,
}

#[derive(Template)]
#[template(path = "mail/password_changed.txt")]
struct PasswordChangedText<'a> {
    ko: bool,
    operator: &'a str,
    site: &'a str,
    officer: &'a str,
    when: String,
}

#[derive(Template)]
#[template(path = "mail/withdrawal.txt")]
struct WithdrawalText<'a> {
    ko: bool,
    operator: &'a str,
    site: &'a str,
    when: String,
    code: &'a str,
    kept: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "mail/password_reset.txt")]
struct PasswordResetText<'a> {
    ko: bool,
    operator: &'a str,
    link: &'a str,
    minutes: i64,
}

#[derive(Template)]
#[template(path = "mail/policy_change.txt")]
struct PolicyChangeText<'a> {
    ko: bool,
    operator: &'a str,
    site: &'a str,
    effective: String,
    summary: &'a str,
    disadvantage: bool,
}

#[derive(Template)]
#[template(path = "mail/ad_consent.txt")]
struct AdConsentText<'a> {
    ko: bool,
    operator: &'a str,
    site: &'a str,
    when: String,
    changes: Vec<(String, bool)>,
}

#[derive(Template)]
#[template(path = "mail/ad_reconfirm.txt")]
struct AdReconfirmText<'a> {
    ko: bool,
    operator: &'a str,
    site: &'a str,
    consents: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "mail/request_closed.txt")]
struct RequestClosedText<'a> {
    ko: bool,
    operator: &'a str,
    site: &'a str,
    officer: &'a str,
    kind: &'a str,
    refused: bool,
}

#[derive(Template)]
#[template(path = "mail/request_extended.txt")]
struct RequestExtendedText<'a> {
    ko: bool,
    operator: &'a str,
    site: &'a str,
    officer: &'a str,
    kind: &'a str,
    due: String,
}

#[derive(Template)]
#[template(path = "mail/complaint_answered.txt")]
struct ComplaintAnsweredText<'a> {
    ko: bool,
    operator: &'a str,
    site: &'a str,
    officer: &'a str,
}

#[derive(Template)]
#[template(path = "mail/login_id.txt")]
struct LoginIdText<'a> {
    ko: bool,
    operator: &'a str,
    site: &'a str,
    login_id: &'a str,
}

#[derive(Template)]
#[template(path = "sms/password_changed.txt")]
struct PasswordChangedSms<'a> {
    operator: &'a str,
}

#[derive(Template)]
#[template(path = "sms/guardian_ask.txt")]
struct GuardianAskSms<'a> {
    operator: &'a str,
    child: &'a str,
    until: String,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/guardian_access.txt")]
struct GuardianAccessText<'a> {
    ko: bool,
    operator: &'a str,
    link: &'a str,
    minutes: i64,
}

#[derive(Template)]
#[template(path = "mail/guardian_ask.txt")]
struct GuardianAskText<'a> {
    ko: bool,
    operator: &'a str,
    site: &'a str,
    child: &'a str,
    until: String,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/partner_ask.txt")]
struct PartnerAskText<'a> {
    ko: bool,
    operator: &'a str,
    site: &'a str,
    partner: &'a str,
    purposes: String,
    items: String,
    retention: &'a str,
    consent: &'a str,
    category: &'a str,
}

#[derive(Template)]
#[template(path = "mail/breach_notice.txt")]
struct BreachNoticeText<'a> {
    ko: bool,
    operator: &'a str,
    followup: bool,
    suspected: bool,
    discovered: String,
    items: String,
    occurred: &'a str,
    advice: &'a str,
    measures: &'a str,
    department: &'a str,
    email: &'a str,
    phone: Option<&'a str>,
}

/// The text-message form of a notice, for the kinds that have one (a security notice: the
/// password changed). Korean only: a text message is short.
pub fn render_sms(content: &Content, site: &Site) -> Result<Option<String>> {
    let text = match content {
        Content::PasswordChanged { .. } => PasswordChangedSms {
            operator: &site.operator.ko,
        }
        .render(),
        Content::GuardianAsk { child, link, until } => GuardianAskSms {
            operator: &site.operator.ko,
            child,
            until: kst(*until, Lang::Ko),
            link,
        }
        .render(),
        _ => return Ok(None),
    }
    .map_err(|e| CoreError::Setup(format!("sms template: {e}")))?;
    Ok(Some(text.trim().to_owned()))
}

enum Para {
    Text(Vec<String>),
    Link(String),
}

#[derive(Template)]
#[template(path = "mail/layout.html")]
struct LayoutHtml<'a> {
    subject: &'a str,
    sections: Vec<Section>,
}

/// What a message says, by kind.
#[derive(Debug, Clone)]
pub enum Content {
    Welcome,
    PasswordChanged {
        at: DateTime<Utc>,
    },
    Withdrawal {
        at: DateTime<Utc>,
        code: String,
        /// (retention class label, kept until) per record kind kept.
        kept: Vec<(jikimi_policy::Text, chrono::NaiveDate)>,
    },
    PasswordReset {
        link: String,
        valid_for: Duration,
    },
    LoginId {
        login_id: String,
    },
    PolicyChange {
        effective: chrono::NaiveDate,
        change: Option<jikimi_policy::Change>,
    },
    /// The result of giving or withdrawing ad-reception consents (정보통신망법 Art. 50(7)):
    /// (category title, granted).
    AdConsent {
        at: DateTime<Utc>,
        changes: Vec<(jikimi_policy::Text, bool)>,
    },
    /// The biennial reminder of ad-reception consents (Art. 50(8)): (category title, the KST day
    /// of the consent).
    AdReconfirm {
        consents: Vec<(jikimi_policy::Text, chrono::NaiveDate)>,
    },
    /// A member's rights request answered or refused by the office: read it on My page.
    RequestClosed {
        kind: jikimi_policy::Text,
        refused: bool,
    },
    /// A member's rights request given more time (once, with reasons on My page).
    RequestExtended {
        kind: jikimi_policy::Text,
        due: chrono::NaiveDate,
    },
    /// A complaint answered: read it with the receipt number (sent to the contact given).
    ComplaintAnswered,
    /// A child under 14 asks a legal guardian to consent (issue 16): the child's name as the
    /// child gave it, the guardian's link and its last day.
    GuardianAsk {
        child: String,
        link: String,
        until: DateTime<Utc>,
    },
    /// A guardian's one-time way back to the child's account (issue 16).
    GuardianAccess {
        link: String,
        valid_for: Duration,
    },
    /// A partner the office wants to provide to (S15): who, why, which items, for how long,
    /// how protected, and the consent asked for.
    PartnerAsk {
        partner: jikimi_policy::Text,
        purposes: Vec<jikimi_policy::Text>,
        items: Vec<jikimi_policy::Text>,
        retention: jikimi_policy::Text,
        consent: jikimi_policy::Text,
        /// The consent category: the link opens its page on My page.
        category: String,
    },
    /// A personal-data breach, confirmed or suspected (PIPA Art. 34, R-BRE-01..03): the items,
    /// when and how, what the member can do, what the operator does and the remedies, and where
    /// to report harm. The office's words, the same in both languages' parts.
    BreachNotice {
        /// The confirmation of a breach first notified as suspected.
        followup: bool,
        suspected: bool,
        discovered_at: DateTime<Utc>,
        items: Vec<jikimi_policy::Text>,
        occurred: String,
        advice: String,
        measures: String,
        /// The help desk: (department, e-mail, phone).
        desk: (jikimi_policy::Text, String, Option<String>),
    },
}

impl Content {
    pub fn kind(&self) -> MessageKind {
        match self {
            Self::Welcome => MessageKind::Welcome,
            Self::PasswordChanged { .. } => MessageKind::PasswordChanged,
            Self::Withdrawal { .. } => MessageKind::Withdrawal,
            Self::PasswordReset { .. } => MessageKind::PasswordReset,
            Self::LoginId { .. } => MessageKind::LoginId,
            Self::PolicyChange { .. } => MessageKind::PolicyChange,
            Self::AdConsent { .. } => MessageKind::AdConsent,
            Self::AdReconfirm { .. } => MessageKind::AdReconfirm,
            Self::RequestClosed { .. } => MessageKind::RequestClosed,
            Self::RequestExtended { .. } => MessageKind::RequestExtended,
            Self::ComplaintAnswered => MessageKind::ComplaintAnswered,
            Self::GuardianAsk { .. } => MessageKind::GuardianAsk,
            Self::GuardianAccess { .. } => MessageKind::GuardianAccess,
            Self::PartnerAsk { .. } => MessageKind::PartnerAsk,
            Self::BreachNotice { .. } => MessageKind::BreachNotice,
        }
    }
}

fn kst(at: DateTime<Utc>, lang: Lang) -> String {
    let t = at + Duration::hours(9);
    match lang {
        Lang::Ko => t.format("%Y년 %-m월 %-d일 %H:%M").to_string(),
        Lang::En => t.format("%Y-%m-%d %H:%M").to_string(),
    }
}

fn day(d: chrono::NaiveDate, lang: Lang) -> String {
    match lang {
        Lang::Ko => d.format("%Y년 %-m월 %-d일").to_string(),
        Lang::En => d.format("%Y-%m-%d").to_string(),
    }
}

/// The facts of the site a message names.
#[derive(Debug, Clone)]
pub struct Site {
    /// The operator's name, in both languages (each part of a message uses its own).
    pub operator: jikimi_policy::Text,
    pub url: String,
    pub officer: String,
}

/// One language's part of a message.
struct Section {
    lang: &'static str,
    title: String,
    paragraphs: Vec<Para>,
}

/// The text of a notice in one language (the website posting of a breach notice shows it).
pub fn render_notice_text(content: &Content, lang: Lang, site: &Site) -> Result<String> {
    render_text(content, lang, site)
}

fn render_text(content: &Content, lang: Lang, site: &Site) -> Result<String> {
    let ko = lang == Lang::Ko;
    let (operator, url, officer) = (
        site.operator.get(lang),
        site.url.as_str(),
        site.officer.as_str(),
    );
    match content {
        Content::Welcome => WelcomeText {
            ko,
            operator,
            site: url,
            officer,
        }
        .render(),
        Content::PasswordChanged { at } => PasswordChangedText {
            ko,
            operator,
            site: url,
            officer,
            when: kst(*at, lang),
        }
        .render(),
        Content::Withdrawal { at, code, kept } => WithdrawalText {
            ko,
            operator,
            site: url,
            when: kst(*at, lang),
            code,
            kept: kept
                .iter()
                .map(|(c, d)| (c.get(lang).to_owned(), day(*d, lang)))
                .collect(),
        }
        .render(),
        Content::PasswordReset { link, valid_for } => PasswordResetText {
            ko,
            operator,
            link,
            minutes: valid_for.num_minutes(),
        }
        .render(),
        Content::PolicyChange { effective, change } => PolicyChangeText {
            ko,
            operator,
            site: url,
            effective: day(*effective, lang),
            summary: change.as_ref().map_or("", |c| c.summary.get(lang)),
            disadvantage: change.as_ref().is_some_and(|c| c.disadvantage),
        }
        .render(),
        Content::AdConsent { at, changes } => AdConsentText {
            ko,
            operator,
            site: url,
            when: kst(*at, lang),
            changes: changes
                .iter()
                .map(|(t, g)| (t.get(lang).to_owned(), *g))
                .collect(),
        }
        .render(),
        Content::AdReconfirm { consents } => AdReconfirmText {
            ko,
            operator,
            site: url,
            consents: consents
                .iter()
                .map(|(t, d)| (t.get(lang).to_owned(), day(*d, lang)))
                .collect(),
        }
        .render(),
        Content::RequestClosed { kind, refused } => RequestClosedText {
            ko,
            operator,
            site: url,
            officer,
            kind: kind.get(lang),
            refused: *refused,
        }
        .render(),
        Content::RequestExtended { kind, due } => RequestExtendedText {
            ko,
            operator,
            site: url,
            officer,
            kind: kind.get(lang),
            due: day(*due, lang),
        }
        .render(),
        Content::ComplaintAnswered => ComplaintAnsweredText {
            ko,
            operator,
            site: url,
            officer,
        }
        .render(),
        Content::GuardianAsk { child, link, until } => GuardianAskText {
            ko,
            operator,
            site: url,
            child,
            until: kst(*until, lang),
            link,
        }
        .render(),
        Content::GuardianAccess { link, valid_for } => GuardianAccessText {
            ko,
            operator,
            link,
            minutes: valid_for.num_minutes(),
        }
        .render(),
        Content::LoginId { login_id } => LoginIdText {
            ko,
            operator,
            site: url,
            login_id,
        }
        .render(),
        Content::PartnerAsk {
            partner,
            purposes,
            items,
            retention,
            consent,
            category,
        } => {
            let join = |v: &[jikimi_policy::Text]| {
                v.iter().map(|t| t.get(lang)).collect::<Vec<_>>().join(", ")
            };
            PartnerAskText {
                ko,
                operator,
                site: url,
                partner: partner.get(lang),
                purposes: join(purposes),
                items: join(items),
                retention: retention.get(lang),
                consent: consent.get(lang),
                category,
            }
            .render()
        }
        Content::BreachNotice {
            followup,
            suspected,
            discovered_at,
            items,
            occurred,
            advice,
            measures,
            desk,
        } => BreachNoticeText {
            ko,
            operator,
            followup: *followup,
            suspected: *suspected,
            discovered: kst(*discovered_at, lang),
            items: items
                .iter()
                .map(|t| t.get(lang))
                .collect::<Vec<_>>()
                .join(", "),
            occurred,
            advice,
            measures,
            department: desk.0.get(lang),
            email: &desk.1,
            phone: desk.2.as_deref(),
        }
        .render(),
    }
    .map_err(|e| CoreError::Setup(format!("mail template: {e}")))
}

fn paragraphs(body: &str) -> Vec<Para> {
    body.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .flat_map(|p| {
            // An address on a line of its own becomes a link paragraph.
            let mut out = Vec::new();
            let mut lines = Vec::new();
            for l in p.lines() {
                if l.starts_with("https://") || l.starts_with("http://") {
                    if !lines.is_empty() {
                        out.push(Para::Text(std::mem::take(&mut lines)));
                    }
                    out.push(Para::Link(l.trim().to_owned()));
                } else {
                    lines.push(l.to_owned());
                }
            }
            if !lines.is_empty() {
                out.push(Para::Text(lines));
            }
            out
        })
        .collect()
}

/// Renders a message in Korean, then English (a notice may go to a member who reads either, and
/// bulk notices have no page language): each text template's first line is its subject, the rest
/// its body. The subject is the Korean one; the HTML body is the same paragraphs in the HTML
/// layout, each language marked as such, addresses as links.
pub fn render(content: &Content, site: &Site, to: &str) -> Result<Letter> {
    let mut text = String::new();
    let mut sections = Vec::new();
    let mut subject = String::new();
    for lang in [Lang::Ko, Lang::En] {
        let t = render_text(content, lang, site)?;
        let (title, body) = t.split_once('\n').unwrap_or((t.as_str(), ""));
        let (title, body) = (title.trim(), body.trim());
        if lang == Lang::Ko {
            subject = title.to_owned();
            text.push_str(body);
            text.push_str("\n\n----------------------------------------\n\n");
        } else {
            text.push_str(title);
            text.push_str("\n\n");
            text.push_str(body);
            text.push('\n');
        }
        sections.push(Section {
            lang: if lang == Lang::Ko { "ko" } else { "en" },
            title: title.to_owned(),
            paragraphs: paragraphs(body),
        });
    }
    let html = LayoutHtml {
        subject: &subject,
        sections,
    }
    .render()
    .map_err(|e| CoreError::Setup(format!("mail template: {e}")))?;
    Ok(Letter {
        to: to.to_owned(),
        subject,
        text,
        html,
        unsubscribe: None,
    })
}

/// A letter of one Korean text written by the office (an advertisement): the text as is, the
/// HTML its paragraphs in the layout, addresses as links.
pub fn letter_from_text(to: &str, subject: &str, text: &str) -> Result<Letter> {
    let html = LayoutHtml {
        subject,
        sections: vec![Section {
            lang: "ko",
            title: subject.to_owned(),
            paragraphs: paragraphs(text),
        }],
    }
    .render()
    .map_err(|e| CoreError::Setup(format!("mail template: {e}")))?;
    Ok(Letter {
        to: to.to_owned(),
        subject: subject.to_owned(),
        text: text.to_owned(),
        html,
        unsubscribe: None,
    })
}

// ----- the outbox ----------------------------------------------------------------------------

/// Where the key of a message being sealed goes.
pub(crate) enum LetterKeys<'a> {
    /// Into the key store at once: the message is written right after, on its own.
    Store,
    /// Onto the list, for the caller to store with the other new keys of its write in one
    /// key-store transaction ([`crate::keyring::Keyring::store_new_keys`]) before that write.
    Defer(&'a mut Vec<jikimi_store::KeyRecord>),
}

/// The key context of a message's own key.
pub(crate) fn message_context(id: Uuid) -> String {
    format!("message:{id}")
}

const MESSAGE_PART: &str = "outbox:letter";

/// The payload of the delivery job: the message's id.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeliverPayload {
    pub message: Uuid,
}

/// Delivers one outbox message. Idempotent: a message no longer queued is left alone. A send
/// that succeeded but whose record failed is sent again (at least once).
#[derive(Debug, Clone, Copy, Default)]
pub struct Deliver;

impl Job for Deliver {
    const KIND: &'static str = "outbox.deliver";
    type Payload = DeliverPayload;
    /// A queue of mail (a burst of sign-ups, a notice to every member) is claimed and its jobs
    /// finished sixteen messages at a time: two commits for sixteen jobs instead of thirty-two
    /// (each message's own record is still written as it is sent). A batch starts no send after
    /// half its five-minute lease; with a slow server the rest are released to the next claim.
    const BATCH: u32 = 16;

    fn retry(&self) -> RetryPolicy {
        RetryPolicy {
            // The outbox gives up after MAX_ATTEMPTS itself; the job allows a few more runs so
            // that a crash between the two records still ends in the outbox's own record.
            max_attempts: u32::try_from(MAX_ATTEMPTS).unwrap_or(10) + 3,
            backoff: Backoff::Exponential {
                first: Duration::minutes(1),
                max: Duration::hours(4),
            },
            lease: Duration::minutes(5),
        }
    }

    async fn run(&self, app: &Jikimi, p: DeliverPayload) -> std::result::Result<(), JobError> {
        app.deliver(p.message).await
    }
}

impl Jikimi {
    /// Mail as configured, if any.
    pub fn mail(&self) -> Option<&MailSetup> {
        self.inner.mail.as_ref()
    }

    /// The sandbox's mailbox, when the sandbox transport is the one configured.
    pub fn sandbox_mailbox(&self) -> Option<Arc<SandboxMailbox>> {
        self.mail().and_then(|m| m.transport.sandbox())
    }

    /// The sender of mail: as configured, else the operator (name, and e-mail as `From` and
    /// `Reply-To`).
    pub fn mail_sender(&self) -> Option<Sender> {
        let m = self.mail()?;
        if let Some(s) = &m.sender {
            return Some(s.clone());
        }
        let op = &self.policy().operator;
        let address = op.email.clone()?;
        Some(Sender {
            name: op.name.ko.clone(),
            address: address.clone(),
            reply_to: Some(address),
        })
    }

    /// The site's facts messages name.
    pub fn mail_site(&self) -> Site {
        let p = self.policy();
        let url = self
            .mail()
            .and_then(|m| m.site.clone())
            .unwrap_or_else(|| p.operator.website.clone());
        Site {
            operator: p.operator.name.clone(),
            url: url.trim_end_matches('/').to_owned(),
            officer: p.officer.email.clone(),
        }
    }

    /// Renders and seals a message into its outbox row and delivery job, to be written in the
    /// transaction of the change that causes it. `None` when no mail is configured (nothing is
    /// queued: there is nothing that could send it).
    pub(crate) async fn letter_job(
        &self,
        content: &Content,
        member: Option<Uuid>,
        to: &str,
    ) -> Result<Option<NewJob>> {
        self.letter_job_in(content, member, to, &mut LetterKeys::Store)
            .await
    }

    /// [`Jikimi::letter_job`], its key going where `keys` says.
    pub(crate) async fn letter_job_in(
        &self,
        content: &Content,
        member: Option<Uuid>,
        to: &str,
        keys: &mut LetterKeys<'_>,
    ) -> Result<Option<NewJob>> {
        if self.mail().is_none() {
            return Ok(None);
        }
        let letter = render(content, &self.mail_site(), to)?;
        Ok(Some(
            self.seal_letter_in(content.kind(), "email", member, &letter, keys)
                .await?,
        ))
    }

    /// Seals a rendered message under a new key of its own into its outbox row and delivery job.
    pub(crate) async fn seal_letter(
        &self,
        kind: MessageKind,
        channel: &str,
        member: Option<Uuid>,
        letter: &Letter,
    ) -> Result<NewJob> {
        self.seal_letter_in(kind, channel, member, letter, &mut LetterKeys::Store)
            .await
    }

    /// [`Jikimi::seal_letter`], the message's key going where `keys` says.
    async fn seal_letter_in(
        &self,
        kind: MessageKind,
        channel: &str,
        member: Option<Uuid>,
        letter: &Letter,
        keys: &mut LetterKeys<'_>,
    ) -> Result<NewJob> {
        let id = Uuid::new_v4();
        let key = match keys {
            LetterKeys::Store => self.keyring().create_message_key(id).await?,
            LetterKeys::Defer(records) => {
                let (key, record) = self.keyring().new_message_key(id)?;
                records.push(record);
                key
            }
        };
        let plain = zeroize::Zeroizing::new(
            serde_json::to_vec(&letter).map_err(|e| CoreError::Setup(format!("letter: {e}")))?,
        );
        let sealed = key.seal(&message_context(id), MESSAGE_PART, &plain)?;
        let mut job = Deliver::new_job(&DeliverPayload { message: id }, self.clock().now())?;
        job.message = Some(NewMessage {
            id,
            kind: kind.name().into(),
            channel: channel.into(),
            member_id: member,
            sealed,
        });
        Ok(job)
    }

    /// Messages given up (the office's list of mail that did not go out), the latest first.
    pub async fn failed_messages(&self) -> Result<Vec<jikimi_store::OutboxRow>> {
        Ok(self
            .store()
            .messages(jikimi_store::OutboxFilter {
                state: Some("failed".into()),
                limit: 200,
                ..Default::default()
            })
            .await?)
    }

    /// Whether the policy sends notices to the e-mail item: it declares the item with the
    /// notices purpose among its purposes.
    pub fn sends_notices(&self) -> bool {
        self.mail().is_some()
            && self
                .policy()
                .item(EMAIL_ITEM)
                .is_some_and(|i| i.purposes.iter().any(|p| p == NOTICE_PURPOSE))
    }

    /// The member's e-mail address for a notice: opened with the member's key, when the policy
    /// sends notices to it and the member gave one. With `respect_suspension`, `None` too when
    /// the member stopped processing for the notices purpose (a notice the member asked for —
    /// a reset link, their login ID, their withdrawal receipt — is sent regardless).
    pub(crate) async fn notice_address(
        &self,
        member: Uuid,
        respect_suspension: bool,
    ) -> Result<Option<String>> {
        if !self.sends_notices() {
            return Ok(None);
        }
        if respect_suspension
            && self
                .store()
                .suspended_purposes(member)
                .await?
                .iter()
                .any(|p| p == NOTICE_PURPOSE)
        {
            return Ok(None);
        }
        let rows = self
            .store()
            .items(member, Some(&[EMAIL_ITEM.to_owned()]))
            .await?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let key = self.member_key(member).await?;
        let v = key.open_str(&member.to_string(), EMAIL_ITEM, &row.sealed)?;
        Ok(Some(v.expose().to_owned()))
    }

    /// A notice to a member at `to`: its outbox job and the audit entry of the address's use
    /// (purpose `notices`), to be written in the transaction of the change that causes it. Empty
    /// when there is no address or no mail.
    pub(crate) async fn notice(
        &self,
        actor: &crate::Actor,
        member: Uuid,
        to: Option<&str>,
        content: &Content,
    ) -> Result<(Vec<NewJob>, Vec<jikimi_store::AuditEntry>)> {
        self.notice_in(actor, member, to, content, &mut LetterKeys::Store)
            .await
    }

    /// [`Jikimi::notice`], the letter's key going where `keys` says.
    pub(crate) async fn notice_in(
        &self,
        actor: &crate::Actor,
        member: Uuid,
        to: Option<&str>,
        content: &Content,
        keys: &mut LetterKeys<'_>,
    ) -> Result<(Vec<NewJob>, Vec<jikimi_store::AuditEntry>)> {
        let Some(to) = to else {
            return Ok((Vec::new(), Vec::new()));
        };
        let Some(job) = self.letter_job_in(content, Some(member), to, keys).await? else {
            return Ok((Vec::new(), Vec::new()));
        };
        let message = job.message.as_ref().map(|m| m.id);
        let mut entry = crate::members::audit(
            self.clock().now(),
            actor,
            "mail.queued",
            member,
            vec![EMAIL_ITEM.to_owned()],
        );
        entry.purpose = Some(NOTICE_PURPOSE.into());
        entry.detail = serde_json::json!({ "kind": content.kind().name(), "message": message });
        Ok((vec![job], vec![entry]))
    }

    /// A notice's text message to a member's mobile number (when text messages are configured,
    /// the policy lists the notices purpose for the mobile item, the member gave one and the
    /// kind has a text form): its outbox job and the audit entry of the number's use.
    pub(crate) async fn text_notice(
        &self,
        actor: &crate::Actor,
        member: Uuid,
        content: &Content,
    ) -> Result<(Vec<NewJob>, Vec<jikimi_store::AuditEntry>)> {
        let Some(text) = render_sms(content, &self.mail_site())? else {
            return Ok((Vec::new(), Vec::new()));
        };
        let Some(mobile) = self.notice_mobile(member).await? else {
            return Ok((Vec::new(), Vec::new()));
        };
        let letter = Letter {
            to: mobile,
            subject: String::new(),
            text,
            html: String::new(),
            unsubscribe: None,
        };
        let job = self
            .seal_letter(content.kind(), "sms", Some(member), &letter)
            .await?;
        let message = job.message.as_ref().map(|m| m.id);
        let mut entry = crate::members::audit(
            self.clock().now(),
            actor,
            "sms.queued",
            member,
            vec![crate::sms::MOBILE_ITEM.to_owned()],
        );
        entry.purpose = Some(NOTICE_PURPOSE.into());
        entry.detail = serde_json::json!({ "kind": content.kind().name(), "message": message });
        Ok((vec![job], vec![entry]))
    }

    fn open_letter(&self, key: &DataKey, id: Uuid, sealed: &[u8]) -> Option<Letter> {
        let plain = key.open(&message_context(id), MESSAGE_PART, sealed).ok()?;
        serde_json::from_slice(&plain).ok()
    }

    /// Sends one queued message (the delivery job's work).
    pub(crate) async fn deliver(&self, id: Uuid) -> std::result::Result<(), JobError> {
        let store = self.store();
        let Some(row) = store.outbox_message(id).await? else {
            return Ok(());
        };
        if row.state != "queued" {
            return Ok(());
        }
        let now = self.clock().now();
        let give_up = |error: String| async move {
            store
                .finish_message(
                    id,
                    now,
                    OutboxOutcome::Failed {
                        error: error.clone(),
                    },
                )
                .await?;
            self.keyring().retire_message_key(id);
            Err::<(), JobError>(JobError::GiveUp(error))
        };
        if row.kind == MessageKind::Advertisement.name() {
            // An advertisement goes only while both consents are in force: a refusal, a
            // withdrawn consent or the member's leaving after it was queued stops it.
            if !self.ad_still_wanted(&row).await? {
                return give_up("the member's consent to advertising is no longer in force".into())
                    .await;
            }
            // R-MKT-02: one whose delivery slipped into 21:00-08:00 KST (a retry, a queue that
            // ran late) waits for 08:00 as a fresh job (once per message and day), its attempts
            // untouched.
            if crate::campaigns::quiet(now) {
                let at = crate::campaigns::next_send_at(now);
                let job = Deliver::new_job_with_id(
                    Uuid::new_v5(&id, format!("hold:{at}").as_bytes()),
                    &DeliverPayload { message: id },
                    at,
                )?;
                store.schedule_job(job, now).await?;
                return Ok(());
            }
        }
        let Some(sealed) = row.sealed.as_deref() else {
            return give_up("the message has no content".into()).await;
        };
        let Some(key) = self.keyring().message_key(id).await? else {
            return give_up("the message's key is gone".into()).await;
        };
        let Some(letter) = self.open_letter(&key, id, sealed) else {
            return give_up("the message cannot be opened".into()).await;
        };
        let sent = if row.channel == "sms" {
            let Some(sms) = self.sms() else {
                return Err(JobError::Retry(
                    "no text-message transport is configured".into(),
                ));
            };
            let m = crate::sms::TextMessage {
                to: letter.to.clone(),
                text: letter.text.clone(),
            };
            sms.transport.send(&sms.from, &m).await
        } else {
            let (Some(mail), Some(sender)) = (self.mail(), self.mail_sender()) else {
                return Err(JobError::Retry("no mail transport is configured".into()));
            };
            mail.transport.send(&sender, id, &letter).await
        };
        match sent {
            Ok(()) => {
                store.finish_message(id, now, OutboxOutcome::Sent).await?;
                self.keyring().retire_message_key(id);
                Ok(())
            }
            Err(SendError::Permanent(e)) => give_up(e).await,
            Err(SendError::Transient(e)) if row.attempts + 1 >= MAX_ATTEMPTS => give_up(e).await,
            Err(SendError::Transient(e)) => {
                store
                    .finish_message(id, now, OutboxOutcome::Retry { error: e.clone() })
                    .await?;
                Err(JobError::Retry(e))
            }
        }
    }
}

// ----- announcing a policy change (R-POL-02) ------------------------------------------------

/// Namespace of the announcement pages' job ids.
const ANNOUNCE_NAMESPACE: Uuid = Uuid::from_u128(0x6a69_6b69_6d69_2d61_6e6e_6f75_6e63_6531);

/// One page of the announcement of an announced policy version: the members after `after`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AnnouncePayload {
    pub version: String,
    #[serde(default)]
    pub after: Option<Uuid>,
    /// The marker that the last page was written (runs do nothing).
    #[serde(default)]
    pub done: bool,
}

impl AnnouncePayload {
    /// The job id of this page: the version and the cursor, so each page exists once.
    fn job_id(&self) -> Uuid {
        page_job_id(&ANNOUNCE_NAMESPACE, &self.version, self.after, self.done)
    }
}

/// The id of one page job of a mailing to every member (`key` names the mailing, `after` and
/// `done` the page), so each page exists once whichever instance writes it.
pub(crate) fn page_job_id(namespace: &Uuid, key: &str, after: Option<Uuid>, done: bool) -> Uuid {
    let after = match (done, after) {
        (true, _) => "done".to_owned(),
        (false, Some(a)) => a.to_string(),
        (false, None) => "first".to_owned(),
    };
    Uuid::new_v5(namespace, format!("{key}:{after}").as_bytes())
}

/// How a page of a mailing to every member is retried.
pub(crate) fn page_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 20,
        backoff: Backoff::Exponential {
            first: Duration::minutes(1),
            max: Duration::hours(1),
        },
        lease: Duration::minutes(10),
    }
}

/// Mails the announcement of a policy version to every member, a page at a time: each page
/// queues its members' messages and the next page in one transaction, once (the next page's id
/// is deterministic; a page run again writes nothing).
#[derive(Debug, Clone, Copy, Default)]
pub struct PolicyAnnounce;

impl Job for PolicyAnnounce {
    const KIND: &'static str = "policy.announce";
    type Payload = AnnouncePayload;

    fn retry(&self) -> RetryPolicy {
        page_retry()
    }

    async fn run(&self, app: &Jikimi, p: AnnouncePayload) -> std::result::Result<(), JobError> {
        app.announce_page(p).await
    }
}

impl Jikimi {
    /// Queues the first page of the announcement of the announced version (once per version,
    /// whichever instance starts first). Nothing without mail.
    pub(crate) async fn schedule_announcement(&self) -> Result<()> {
        let Some(next) = self.announced_policy() else {
            return Ok(());
        };
        if !self.sends_notices() {
            return Ok(());
        }
        let first = AnnouncePayload {
            version: next.version().as_str().to_owned(),
            after: None,
            done: false,
        };
        let job = PolicyAnnounce::new_job_with_id(first.job_id(), &first, self.clock().now())?;
        self.store().schedule_job(job, self.clock().now()).await?;
        Ok(())
    }

    /// Destroys the keys of messages that are not waiting in the outbox, older than `grace`
    /// (a transaction that failed after its letter's key was made, a crash between sending and
    /// destroying). Returns how many.
    pub async fn sweep_orphan_message_keys(&self, grace: Duration) -> Result<usize> {
        // Key ages are wall-clock facts of the key store, not domain time.
        let before = Utc::now() - grace;
        let mut removed = 0;
        for id in self.keyring().own_key_ids("message:", before).await? {
            let waiting = self
                .store()
                .outbox_message(id)
                .await?
                .is_some_and(|m| m.state == "queued");
            if !waiting && self.keyring().destroy_message_key(id).await? {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Destroys the keys of messages that were never queued (their transaction did not commit).
    pub(crate) async fn discard_letters(&self, jobs: &[NewJob]) {
        for m in jobs.iter().filter_map(|j| j.message.as_ref()) {
            if let Err(e) = self.keyring().destroy_message_key(m.id).await {
                tracing::warn!(message = %m.id, error = %e, "an unused message key stays until the purge");
            }
        }
    }

    async fn announce_page(&self, p: AnnouncePayload) -> std::result::Result<(), JobError> {
        if p.done {
            return Ok(());
        }
        let Some(next) = self.announced_policy().cloned() else {
            // In force already (or replaced): nothing is announced any more.
            return Ok(());
        };
        if next.version().as_str() != p.version {
            return Ok(());
        }
        let page = self.settings().notice_page.max(1);
        let ids = self.store().member_ids_after(p.after, page).await?;
        let content = Content::PolicyChange {
            effective: next.meta.effective_date,
            change: next.meta.change.clone(),
        };
        let following = if i64::try_from(ids.len()).unwrap_or(i64::MAX) >= page {
            AnnouncePayload {
                version: p.version.clone(),
                after: ids.last().copied(),
                done: false,
            }
        } else {
            AnnouncePayload {
                version: p.version.clone(),
                after: ids.last().copied().or(p.after),
                done: true,
            }
        };
        let marker =
            PolicyAnnounce::new_job_with_id(following.job_id(), &following, self.clock().now())?;
        self.mail_page(&ids, &content, marker).await
    }

    /// Settles a page's write: when the write failed, or an earlier run wrote the page (nothing
    /// written), the keys of the letters sealed for it are destroyed.
    pub(crate) async fn settle_page(
        &self,
        jobs: &[NewJob],
        written: std::result::Result<bool, jikimi_store::StoreError>,
    ) -> std::result::Result<(), JobError> {
        match written {
            Ok(true) => Ok(()),
            Ok(false) => {
                self.discard_letters(jobs).await;
                Ok(())
            }
            Err(e) => {
                self.discard_letters(jobs).await;
                Err(e.into())
            }
        }
    }

    /// Writes one page of a mailing to every member: `content` to each of `members` (those who
    /// stopped processing for notices are left out), with `marker`, the next page's job, in one
    /// transaction, once: a page written before writes nothing (its letters are discarded).
    pub(crate) async fn mail_page(
        &self,
        members: &[Uuid],
        content: &Content,
        marker: NewJob,
    ) -> std::result::Result<(), JobError> {
        let (mut jobs, mut audit) = (Vec::new(), Vec::new());
        for member in members {
            let to = self.notice_address(*member, true).await?;
            let (j, a) = self
                .notice(&crate::Actor::System, *member, to.as_deref(), content)
                .await?;
            jobs.extend(j);
            audit.extend(a);
        }
        let now = self.clock().now();
        let written = self
            .store()
            .enqueue_once(marker, jobs.clone(), audit, now)
            .await;
        self.settle_page(&jobs, written).await
    }
}
