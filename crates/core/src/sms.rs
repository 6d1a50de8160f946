//! Text messages (issue 14) behind a trait, as mail is ([`crate::mail`]): an [`SmsTransport`]
//! sends one [`TextMessage`] from the operator's registered sender number (발신번호). Two
//! transports: [`SolapiSms`], SOLAPI's (formerly CoolSMS) HTTPS API, and [`SandboxSms`], which
//! keeps messages in memory in the 본인확인 sandbox's [`SmsOutbox`] (development on a loopback
//! address, shown at `/sandbox/sms`).
//!
//! A message's number and text are personal data: `Debug` never shows them, and transport errors
//! are reduced to the HTTP status and SOLAPI's error identifier (`errorCode`, or a message's
//! four-digit `statusCode`), never the provider's own words, which may quote the number or the
//! text.
//!
//! **SMS or LMS.** Korean carriers count a text in EUC-KR bytes: ASCII one byte, Hangul (and any
//! other character) two. Up to [`SMS_MAX_BYTES`] (90) it goes as an SMS, beyond as an LMS (up to
//! [`LMS_MAX_BYTES`], 2,000, without a subject: SOLAPI fills it in). The type is computed here and
//! sent explicitly, so the price of a message never depends on the provider's guess; a longer text
//! is refused before anything is sent.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{SecondsFormat, Utc};
use hmac::{Hmac, Mac};
use jikimi_kr::Phone;
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::identity::{SmsMessage, SmsOutbox};
use crate::mail::SendError;
use crate::{CoreError, Result};

/// The most EUC-KR bytes an SMS carries (Hangul counts two).
pub const SMS_MAX_BYTES: usize = 90;
/// The most EUC-KR bytes an LMS carries.
pub const LMS_MAX_BYTES: usize = 2000;
/// How long one request to the provider may take, connecting included.
pub use crate::http::TIMEOUT;

/// One text message as the outbox holds it.
#[derive(Clone, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct TextMessage {
    /// The recipient's mobile number, E.164 (`+821012345678`).
    pub to: String,
    pub text: String,
}

impl fmt::Debug for TextMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TextMessage(<redacted>)")
    }
}

/// What kind of text message a text makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsKind {
    /// Short: up to 90 EUC-KR bytes.
    Sms,
    /// Long: up to 2,000 EUC-KR bytes.
    Lms,
}

impl SmsKind {
    /// The kind for `text`; `None` when it is empty or too long even for an LMS.
    pub fn for_text(text: &str) -> Option<Self> {
        match euc_kr_len(text) {
            0 => None,
            n if n <= SMS_MAX_BYTES => Some(Self::Sms),
            n if n <= LMS_MAX_BYTES => Some(Self::Lms),
            _ => None,
        }
    }

    /// SOLAPI's name of the type (`message.type`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Sms => "SMS",
            Self::Lms => "LMS",
        }
    }
}

/// The length of `text` in EUC-KR bytes as the carriers count it: ASCII one byte, anything else
/// (Hangul syllables, Hanja, symbols) two. Characters outside EUC-KR (emoji, rare syllables) are
/// counted as two as well; SOLAPI refuses those (status 1029).
pub fn euc_kr_len(text: &str) -> usize {
    text.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum()
}

/// Sends a text message.
#[async_trait]
pub trait SmsTransport: Send + Sync + fmt::Debug {
    /// `from`: the registered sender number (발신번호), domestic digits (hyphens are removed).
    async fn send(&self, from: &str, m: &TextMessage) -> std::result::Result<(), SendError>;
    /// The sandbox's outbox, if this is the sandbox.
    fn sandbox(&self) -> Option<Arc<SmsOutbox>> {
        None
    }
}

/// The recipient as a Korean mobile number, or why not (the rule's code, never the number).
fn recipient(m: &TextMessage) -> std::result::Result<Phone, SendError> {
    Phone::parse_mobile(&m.to)
        .map_err(|e| SendError::Permanent(format!("invalid recipient number ({})", e.code())))
}

fn kind(m: &TextMessage) -> std::result::Result<SmsKind, SendError> {
    SmsKind::for_text(&m.text).ok_or_else(|| match euc_kr_len(&m.text) {
        0 => SendError::Permanent("empty text".into()),
        n => SendError::Permanent(format!(
            "text of {n} bytes is longer than an LMS ({LMS_MAX_BYTES})"
        )),
    })
}

/// A transport that keeps text messages in memory, in the outbox it shares with the 본인확인
/// sandbox (its `/sandbox/sms` page): development on a loopback address only (`serve` refuses
/// the sandbox elsewhere). It checks the number and the length as [`SolapiSms`] does.
pub struct SandboxSms {
    outbox: Arc<SmsOutbox>,
}

impl fmt::Debug for SandboxSms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SandboxSms")
    }
}

impl SandboxSms {
    pub fn new(outbox: Arc<SmsOutbox>) -> Self {
        Self { outbox }
    }
}

#[async_trait]
impl SmsTransport for SandboxSms {
    async fn send(&self, _from: &str, m: &TextMessage) -> std::result::Result<(), SendError> {
        let to = recipient(m)?;
        kind(m)?;
        self.outbox.push(SmsMessage {
            to: to.e164().to_owned(),
            text: m.text.clone(),
            at: Utc::now(),
        });
        Ok(())
    }

    fn sandbox(&self) -> Option<Arc<SmsOutbox>> {
        Some(self.outbox.clone())
    }
}

/// SOLAPI's API for sending: `POST {base}/messages/v4/send-many/detail` with
/// `{"messages": [{"to", "from", "text", "type"}], "showMessageList": true}`, the endpoint the
/// official SDKs use today (solapi-nodejs `src/services/messages/messageService.ts`, `send`;
/// solapi-python `solapi/services/message_service.py`; developers.solapi.com
/// `references/messages/sendManyDetail`). The older `/messages/v4/send` (one `message`) is still
/// in the API reference (solapi/documents `api-reference/messages/sendSimpleMessage.md`), but
/// the Node and Python SDKs no longer call it.
///
/// Authentication (solapi/documents `authentication/api-key.md`; solapi-nodejs
/// `src/lib/authenticator.ts`): `Authorization: HMAC-SHA256 apiKey=<key>, date=<ISO 8601>,
/// salt=<random>, signature=<hex HMAC-SHA256 under the API secret of date + salt>`, the date
/// within 15 minutes of SOLAPI's clock, a signature never used twice within 15 minutes (hence a
/// fresh 32-character salt each request, as the Node SDK makes it).
///
/// The answer: HTTP 200 with `failedMessageList` (messages not accepted, each with a four-digit
/// `statusCode`), `groupInfo` (`groupId`, `count`, …) and, with `showMessageList`,
/// `messageList` (`messageId`, `statusCode`, `statusMessage`); status `2000` is "accepted"
/// (solapi/documents `api-reference/message-status-codes.md`). Refusals are
/// `{"errorCode", "errorMessage"}` with a 4xx status (400 `ValidationError`, 402
/// `NotEnoughBalance`, 403 `InvalidAPIKey`, `SignatureDoesNotMatch`, `RequestTimeTooSkewed`,
/// `DuplicatedSignature`) or a 5xx.
///
/// Which failures are worth retrying: no answer (network, timeout), 429, 5xx, a 403
/// `DuplicatedSignature` (the next request signs anew) and status 1024/2024/3024 (서버 오류).
/// Everything else (a wrong key or secret, a skewed clock, an unregistered sender, a number the
/// carriers refuse, no balance) is permanent.
pub struct SolapiSms {
    client: reqwest::Client,
    endpoint: url::Url,
    /// The base URL, for `Debug` and messages.
    shown: String,
    api_key: String,
    api_secret: Zeroizing<String>,
}

impl fmt::Debug for SolapiSms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SolapiSms({})", self.shown)
    }
}

/// The path of the send API under the base URL.
pub const SEND_PATH: &str = "messages/v4/send-many/detail";
/// The largest answer read from SOLAPI (a one-message answer is about 2 KB).
const MAX_ANSWER: usize = 256 * 1024;
/// The message status meaning "accepted" (정상 접수).
const ACCEPTED: &str = "2000";
/// Message statuses that are the provider's own trouble (서버 오류).
const SERVER_TROUBLE: [&str; 3] = ["1024", "2024", "3024"];

impl SolapiSms {
    /// `base_url`: `https://api.solapi.com` in production (`http://` only to a loopback
    /// address, for a local fake). The key and secret are SOLAPI's API key pair.
    pub fn new(base_url: &str, api_key: &str, api_secret: &str) -> Result<Self> {
        let setup = |e: &str| CoreError::Setup(format!("SOLAPI: {e}"));
        if api_key.is_empty() || !api_key.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(setup("the API key must be letters and digits"));
        }
        if api_secret.is_empty() || api_secret.chars().any(char::is_control) {
            return Err(setup("the API secret is empty or has control characters"));
        }
        let api = crate::http::Api::new("SOLAPI", base_url)?;
        let endpoint = api
            .base
            .join(SEND_PATH)
            .map_err(|e| setup(&e.to_string()))?;
        let (client, shown) = (api.client, api.shown);
        Ok(Self {
            client,
            endpoint,
            shown,
            api_key: api_key.to_owned(),
            api_secret: Zeroizing::new(api_secret.to_owned()),
        })
    }

    /// The `Authorization` header for one request, signed now with a fresh salt.
    fn authorization(&self) -> std::result::Result<String, SendError> {
        const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        let date = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
        let mut rng = rand::rngs::OsRng;
        let salt: String = (0..32)
            .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
            .collect();
        let mut mac = Hmac::<Sha256>::new_from_slice(self.api_secret.as_bytes())
            .map_err(|_| SendError::Permanent("solapi: unusable API secret".into()))?;
        mac.update(date.as_bytes());
        mac.update(salt.as_bytes());
        let signature = hex::encode(mac.finalize().into_bytes());
        Ok(format!(
            "HMAC-SHA256 apiKey={}, date={date}, salt={salt}, signature={signature}",
            self.api_key
        ))
    }
}

/// SOLAPI's refusal: `{"errorCode", "errorMessage"}`. Only the code is read.
#[derive(Deserialize)]
struct Refusal {
    #[serde(rename = "errorCode")]
    error_code: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Answer {
    #[serde(default)]
    failed_message_list: Vec<Status>,
    #[serde(default)]
    message_list: Option<Vec<Status>>,
    #[serde(default)]
    group_info: Option<GroupInfo>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Status {
    status_code: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroupInfo {
    count: Option<Count>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Count {
    #[serde(default)]
    registered_success: u64,
}

/// SOLAPI's `errorCode` if it looks like an identifier (`ValidationError`): anything else (a
/// sentence, digits that might be a phone number) is dropped.
fn error_code(code: Option<String>) -> Option<String> {
    code.filter(|c| {
        c.len() <= 64
            && c.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
            && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    })
}

/// The outcome of a message's four-digit status in a 2xx answer.
fn status_outcome(http: u16, code: Option<String>) -> std::result::Result<(), SendError> {
    let code = code.filter(|c| c.len() == 4 && c.bytes().all(|b| b.is_ascii_digit()));
    match code.as_deref() {
        Some(ACCEPTED) => Ok(()),
        Some(c) if SERVER_TROUBLE.contains(&c) => Err(SendError::Transient(format!(
            "solapi {http} status {c} (temporary)"
        ))),
        Some(c) => Err(SendError::Permanent(format!(
            "solapi {http} status {c} (permanent)"
        ))),
        None => Err(SendError::Transient(format!(
            "solapi {http} answer without a readable status (temporary)"
        ))),
    }
}

fn read_answer(http: u16, body: &[u8]) -> std::result::Result<(), SendError> {
    let answer: Answer = serde_json::from_slice(body).map_err(|_| {
        SendError::Transient(format!("solapi {http} unreadable answer (temporary)"))
    })?;
    if let Some(failed) = answer.failed_message_list.into_iter().next() {
        return status_outcome(http, failed.status_code);
    }
    match answer.message_list.and_then(|l| l.into_iter().next()) {
        Some(m) => status_outcome(http, m.status_code),
        None => {
            let accepted = answer
                .group_info
                .and_then(|g| g.count)
                .is_some_and(|c| c.registered_success > 0);
            if accepted {
                Ok(())
            } else {
                status_outcome(http, None)
            }
        }
    }
}

fn refusal(http: u16, body: &[u8]) -> SendError {
    let code = serde_json::from_slice::<Refusal>(body)
        .ok()
        .and_then(|r| error_code(r.error_code));
    let said = code.as_deref().map(|c| format!(" {c}")).unwrap_or_default();
    let transient = http == 429 || http >= 500 || code.as_deref() == Some("DuplicatedSignature");
    if transient {
        SendError::Transient(format!("solapi {http}{said} (temporary)"))
    } else {
        SendError::Permanent(format!("solapi {http}{said} (permanent)"))
    }
}

fn unreachable(e: &reqwest::Error) -> SendError {
    // reqwest's own words name the URL and the cause; neither is needed, and the URL stays out.
    if e.is_timeout() {
        SendError::Transient("solapi timed out".into())
    } else if e.is_connect() {
        SendError::Transient("solapi unreachable or the connection failed".into())
    } else {
        SendError::Transient("solapi request failed".into())
    }
}

#[async_trait]
impl SmsTransport for SolapiSms {
    async fn send(&self, from: &str, m: &TextMessage) -> std::result::Result<(), SendError> {
        let to = recipient(m)?;
        let kind = kind(m)?;
        let from: String = from
            .chars()
            .filter(|c| !matches!(c, '-' | ' ' | '.' | '(' | ')'))
            .collect();
        if from.is_empty() || !from.bytes().all(|b| b.is_ascii_digit()) {
            return Err(SendError::Permanent("invalid sender number".into()));
        }
        // Domestic digits: the national form without its hyphens (`01012345678`).
        let to = to.display().replace('-', "");
        let payload = serde_json::json!({
            "messages": [{
                "to": to,
                "from": from,
                "text": m.text,
                "type": kind.name(),
            }],
            "showMessageList": true,
        });
        let answer = self
            .client
            .post(self.endpoint.clone())
            .header(reqwest::header::AUTHORIZATION, self.authorization()?)
            .json(&payload)
            .send()
            .await
            .map_err(|e| unreachable(&e))?;
        let http = answer.status().as_u16();
        let read = match crate::http::read_limited(answer, MAX_ANSWER).await {
            Ok(read) => read,
            Err(crate::http::ReadError::Failed(e)) => return Err(unreachable(&e)),
            Err(crate::http::ReadError::TooLong) => {
                return Err(SendError::Transient(format!(
                    "solapi {http} answer too long (temporary)"
                )));
            }
        };
        if answer_is_success(http) {
            read_answer(http, &read)
        } else {
            Err(refusal(http, &read))
        }
    }
}

fn answer_is_success(http: u16) -> bool {
    (200..300).contains(&http)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_follow_euc_kr() {
        assert_eq!(euc_kr_len("abc"), 3);
        assert_eq!(euc_kr_len("가나다"), 6);
        assert_eq!(SmsKind::for_text(&"가".repeat(45)), Some(SmsKind::Sms));
        assert_eq!(
            SmsKind::for_text(&format!("{}a", "가".repeat(45))),
            Some(SmsKind::Lms)
        );
        assert_eq!(SmsKind::for_text(&"a".repeat(2000)), Some(SmsKind::Lms));
        assert_eq!(SmsKind::for_text(&"a".repeat(2001)), None);
        assert_eq!(SmsKind::for_text(""), None);
    }

    #[test]
    fn only_identifiers_of_the_provider_are_kept() {
        let code = |c: &str| error_code(Some(c.to_owned()));
        assert_eq!(code("ValidationError").as_deref(), Some("ValidationError"));
        assert_eq!(code("수신번호 01000000000"), None);
        assert_eq!(code("01000000000"), None);
        let e = refusal(
            400,
            br#"{"errorCode":"Bad 0100000","errorMessage":"0100000"}"#,
        );
        assert_eq!(e, SendError::Permanent("solapi 400 (permanent)".into()));
        let e = refusal(
            403,
            br#"{"errorCode":"DuplicatedSignature","errorMessage":"x"}"#,
        );
        assert_eq!(
            e,
            SendError::Transient("solapi 403 DuplicatedSignature (temporary)".into())
        );
        assert!(status_outcome(200, Some("2000".into())).is_ok());
        assert_eq!(
            status_outcome(200, Some("01000000000".into())),
            Err(SendError::Transient(
                "solapi 200 answer without a readable status (temporary)".into()
            ))
        );
    }
}

/// Text messages as configured: the transport and the registered sender number (발신번호).
#[derive(Debug, Clone)]
pub struct SmsSetup {
    pub transport: Arc<dyn SmsTransport>,
    /// Domestic digits, as registered with the provider.
    pub from: String,
}

/// The item a text notice goes to.
pub const MOBILE_ITEM: &str = "mobile";

impl crate::Jikimi {
    /// Text messages as configured, if any.
    pub fn sms(&self) -> Option<&SmsSetup> {
        self.inner.sms.as_ref()
    }

    /// The member's mobile number for a text notice: when text messages are configured, the
    /// policy lists the notices purpose for the mobile item and the member gave one.
    pub(crate) async fn notice_mobile(&self, member: uuid::Uuid) -> Result<Option<String>> {
        if self.sms().is_none()
            || !self
                .policy()
                .item(MOBILE_ITEM)
                .is_some_and(|i| i.purposes.iter().any(|p| p == crate::mail::NOTICE_PURPOSE))
        {
            return Ok(None);
        }
        let rows = self
            .store()
            .items(member, Some(&[MOBILE_ITEM.to_owned()]))
            .await?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let key = self.member_key(member).await?;
        let v = key.open_str(&member.to_string(), MOBILE_ITEM, &row.sealed)?;
        Ok(Some(v.expose().to_owned()))
    }
}
