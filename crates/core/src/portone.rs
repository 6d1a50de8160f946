//! PortOne (V2 REST API, `https://api.portone.io`): the aggregator through which Korean sites
//! reach the 본인확인 agencies and the card and bank gateways. The contract is PortOne's public
//! server SDK (`portone-io/server-sdk`: `IdentityVerificationClient.getIdentityVerification`,
//! `VerifiedIdentityVerification`, `IdentityVerificationVerifiedCustomer`, the error types).
//!
//! 본인확인 runs in PortOne's window, which the browser SDK opens (`requestIdentityVerification`
//! with an id this server issued, redirecting back). The server never takes the browser's word:
//! it asks `GET /identity-verifications/{id}` with the API secret (`Authorization: PortOne …`)
//! and accepts only `VERIFIED` for the id it issued, taking the verified customer's CI, DI, name,
//! birth date and mobile number.

use std::fmt;

use async_trait::async_trait;
use chrono::NaiveDate;
use jikimi_kr::Phone;
use serde::Deserialize;
use zeroize::Zeroizing;

use crate::http::{Api, read_limited};
use crate::identity::{IdentityProvider, IdentityRequest, Window};
use crate::{CoreError, Result, VerifiedIdentity};

/// PortOne's API.
pub const API_URL: &str = "https://api.portone.io";
/// PortOne's browser SDK (V2), the one script the identity-verification page loads.
pub const SDK_URL: &str = "https://cdn.portone.io/v2/browser-sdk.js";
/// The largest answer read from PortOne (an identity verification is a few KB; a payment with
/// its cancellations and webhooks some tens).
const MAX_ANSWER: usize = 1024 * 1024;

/// What `serve` is told about the operator's PortOne store.
#[derive(Clone)]
pub struct PortOneSetup {
    /// `https://api.portone.io` (`http://` only to a loopback address, for a local fake).
    pub api_url: String,
    /// The browser SDK's address.
    pub sdk_url: String,
    /// 상점 아이디 (`store-…`).
    pub store_id: String,
    /// The identity-verification channel's key (`channel-key-…`).
    pub channel_key: String,
    /// The V2 API secret (kept by the client in memory that is wiped when dropped).
    pub api_secret: String,
}

impl fmt::Debug for PortOneSetup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PortOneSetup({}, {})", self.api_url, self.store_id)
    }
}

/// The PortOne client. `Debug` shows the API's address and the store, never the secret.
pub struct PortOne {
    api: Api,
    window: Window,
    secret: Zeroizing<String>,
}

impl fmt::Debug for PortOne {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PortOne({}, {})", self.api.shown, self.window.store_id)
    }
}

/// A PortOne identifier (store id, channel key): printable ASCII without spaces or quotes, since
/// it goes into a page's attributes and the API's query.
fn identifier(what: &str, value: &str) -> Result<String> {
    let v = value.trim();
    if v.is_empty()
        || v.len() > 200
        || !v
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(CoreError::Setup(format!(
            "PortOne: the {what} must be letters, digits, '-', '_' or '.'"
        )));
    }
    Ok(v.to_owned())
}

impl PortOne {
    pub fn new(setup: PortOneSetup) -> Result<Self> {
        let api = Api::new("PortOne API", &setup.api_url)?;
        // The SDK's address is checked like an API's (https, or http to a local fake).
        let sdk = Api::new("PortOne SDK", &setup.sdk_url)?;
        let sdk_url = sdk.base.as_str().trim_end_matches('/').to_owned();
        let origin = sdk.base.origin().ascii_serialization();
        let secret = Zeroizing::new(setup.api_secret);
        if secret.trim().is_empty() || secret.chars().any(char::is_control) {
            return Err(CoreError::Setup(
                "PortOne: the API secret is empty or has control characters".into(),
            ));
        }
        Ok(Self {
            window: Window {
                sdk_url,
                origin,
                store_id: identifier("store id", &setup.store_id)?,
                channel_key: identifier("channel key", &setup.channel_key)?,
            },
            api,
            secret: Zeroizing::new(secret.trim().to_owned()),
        })
    }

    /// The window of another channel of the same store (a payment channel).
    pub fn window_of(&self, channel_key: &str) -> Window {
        Window {
            channel_key: channel_key.to_owned(),
            ..self.window.clone()
        }
    }

    /// `GET` of `segments` under the API: the status and the body. A connection that fails, an
    /// answer too long, 401/403 (our credentials), 429 and 5xx are [`CoreError::Unavailable`]
    /// (logged without the URL, which names the id); other statuses are returned.
    async fn get(&self, segments: &[&str]) -> Result<(u16, Vec<u8>)> {
        let mut url = self.api.url(segments);
        url.query_pairs_mut()
            .append_pair("storeId", &self.window.store_id);
        let answer = self
            .api
            .client
            .get(url)
            .header(
                reqwest::header::AUTHORIZATION,
                format!("PortOne {}", self.secret.as_str()),
            )
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| unavailable(&e))?;
        let status = answer.status().as_u16();
        let body = read_limited(answer, MAX_ANSWER).await.map_err(|_| {
            tracing::warn!(status, "portone: the answer could not be read");
            CoreError::Unavailable("PortOne's answer could not be read")
        })?;
        match status {
            401 | 403 => {
                tracing::error!(
                    status,
                    kind = error_type(&body).as_deref().unwrap_or("-"),
                    "portone refused the API secret or the store id"
                );
                Err(CoreError::Unavailable("PortOne refused our credentials"))
            }
            429 | 500.. => {
                tracing::warn!(status, "portone is unavailable");
                Err(CoreError::Unavailable("PortOne is unavailable"))
            }
            _ => Ok((status, body)),
        }
    }

    /// The identity verification `id` as PortOne has it.
    pub async fn identity_verification(&self, id: &str) -> Result<Verification> {
        let (status, body) = self.get(&["identity-verifications", id]).await?;
        if status == 404 {
            return Ok(Verification::NotFound);
        }
        if !(200..300).contains(&status) {
            tracing::warn!(
                status,
                kind = error_type(&body).as_deref().unwrap_or("-"),
                "portone refused an identity verification query"
            );
            return Err(CoreError::Unavailable("PortOne refused the query"));
        }
        let answer: IdentityVerificationAnswer = serde_json::from_slice(&body).map_err(|_| {
            tracing::warn!("portone: unreadable identity verification");
            CoreError::Unavailable("PortOne's answer could not be read")
        })?;
        if answer.id != id {
            return Ok(Verification::OtherId);
        }
        Ok(match answer.status.as_str() {
            "VERIFIED" => match answer.verified_customer {
                Some(c) => Verification::Verified(c),
                None => Verification::Other("VERIFIED".into()),
            },
            "READY" => Verification::Ready,
            "FAILED" => Verification::Failed,
            other => Verification::Other(other.chars().take(32).collect()),
        })
    }
}

/// An identity verification's state, as far as jikimi cares.
#[derive(Debug)]
pub enum Verification {
    /// PortOne does not know the id.
    NotFound,
    /// The answer is about another id.
    OtherId,
    /// Opened, not finished.
    Ready,
    Failed,
    Verified(VerifiedCustomer),
    /// A status this build does not know.
    Other(String),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IdentityVerificationAnswer {
    status: String,
    id: String,
    verified_customer: Option<VerifiedCustomer>,
}

/// `IdentityVerificationVerifiedCustomer`: what the agency verified. `Debug` redacts it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifiedCustomer {
    name: String,
    phone_number: Option<String>,
    birth_date: Option<String>,
    ci: Option<String>,
    di: Option<String>,
}

impl fmt::Debug for VerifiedCustomer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VerifiedCustomer(<redacted>)")
    }
}

impl VerifiedCustomer {
    /// The identity, if the answer carries everything a member's record needs: CI and DI (a
    /// channel that gives neither cannot keep one account per person), the birth date (the age
    /// gate) and the mobile number (a required item of the policy).
    fn identity(self) -> Result<VerifiedIdentity> {
        let missing = |what: &'static str| {
            tracing::error!(
                missing = what,
                "portone: the verified customer lacks an item; the channel's contract must supply it"
            );
            CoreError::Unavailable("the identity provider's answer lacks an item")
        };
        let ci = self
            .ci
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| missing("ci"))?;
        let di = self
            .di
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| missing("di"))?;
        let birth_date = self
            .birth_date
            .as_deref()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .ok_or_else(|| missing("birthDate"))?;
        let mobile = self
            .phone_number
            .as_deref()
            .and_then(|p| Phone::parse_mobile(p).ok())
            .ok_or_else(|| missing("phoneNumber"))?;
        let name = self.name.trim().to_owned();
        if name.is_empty() {
            return Err(missing("name"));
        }
        Ok(VerifiedIdentity {
            ci,
            di,
            birth_date,
            name,
            mobile: mobile.e164().to_owned(),
        })
    }
}

/// PortOne's error body `{"type", "message"}`: only the type is read (the message may quote
/// values).
fn error_type(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Refusal {
        #[serde(rename = "type")]
        kind: Option<String>,
    }
    serde_json::from_slice::<Refusal>(body)
        .ok()
        .and_then(|r| r.kind)
        .filter(|k| {
            k.len() <= 64
                && k.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        })
}

fn unavailable(e: &reqwest::Error) -> CoreError {
    // reqwest's words name the URL, which carries the id: only the kind goes to the log.
    if e.is_timeout() {
        tracing::warn!("portone timed out");
    } else if e.is_connect() {
        tracing::warn!("portone unreachable or the connection failed");
    } else {
        tracing::warn!("portone request failed");
    }
    CoreError::Unavailable("PortOne could not be reached")
}

#[async_trait]
impl IdentityProvider for PortOne {
    async fn request(&self, _req: IdentityRequest, _sender: &str) -> Result<String> {
        Err(CoreError::Identity(
            "this provider verifies in its own window",
        ))
    }

    async fn confirm(&self, _transaction: &str, _code: &str) -> Result<VerifiedIdentity> {
        Err(CoreError::Identity(
            "this provider verifies in its own window",
        ))
    }

    fn window(&self) -> Option<Window> {
        Some(self.window.clone())
    }

    async fn result(&self, id: &str) -> Result<VerifiedIdentity> {
        match self.identity_verification(id).await? {
            Verification::Verified(c) => c.identity(),
            Verification::NotFound | Verification::OtherId => {
                Err(CoreError::Identity("unknown identity verification"))
            }
            Verification::Ready => Err(CoreError::Identity("identity verification not finished")),
            Verification::Failed => Err(CoreError::Identity("identity verification failed")),
            Verification::Other(_) => Err(CoreError::Identity(
                "identity verification in an unknown state",
            )),
        }
    }
}

// ----- payments (`GET /payments/{id}`, `POST /payments/{id}/cancel`, webhooks) ------------

/// A payment as PortOne answers `GET /payments/{paymentId}`: the fields jikimi reads. The card
/// number comes masked (`53275000****123*`); nothing here is ever a whole card or account number.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentAnswer {
    pub status: String,
    pub id: String,
    pub amount: Option<PaymentAmount>,
    pub currency: Option<String>,
    pub method: Option<PaymentMethod>,
    pub paid_at: Option<String>,
    pub receipt_url: Option<String>,
    pub transaction_id: Option<String>,
}

impl fmt::Debug for PaymentAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PaymentAnswer({}, {})", self.id, self.status)
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentAmount {
    pub total: i64,
    #[serde(default)]
    pub paid: i64,
    #[serde(default)]
    pub cancelled: i64,
}

/// `PaymentMethod*`: by `type`; a card's publisher, issuer and masked number, the instalment
/// months; a transfer's bank.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentMethod {
    #[serde(rename = "type")]
    pub kind: String,
    pub card: Option<Card>,
    pub installment: Option<Installment>,
    pub bank: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Card {
    pub publisher: Option<String>,
    pub issuer: Option<String>,
    pub name: Option<String>,
    pub number: Option<String>,
}

impl fmt::Debug for Card {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Card(<redacted>)")
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Installment {
    pub month: i64,
}

/// A card number as the site may keep it: PortOne's masked form, checked to be masked (at most
/// 12 digits visible, at least 4 masked); anything else is dropped, never kept.
pub fn masked_card(number: &str) -> Option<String> {
    let n = number.trim();
    let digits = n.chars().filter(char::is_ascii_digit).count();
    let masked = n.chars().filter(|c| *c == '*').count();
    let shape = n
        .chars()
        .all(|c| c.is_ascii_digit() || c == '*' || c == '-' || c == ' ');
    (shape && masked >= 4 && digits <= 12).then(|| n.to_owned())
}

/// PortOne's answer to a cancellation.
#[derive(Debug)]
pub enum Cancelled {
    /// Done: this much was cancelled.
    Succeeded { id: String, amount: i64 },
    /// Requested, not done yet (some gateways cancel later; a webhook follows).
    Requested,
    /// Refused, with PortOne's error type (for example `PAYMENT_ALREADY_CANCELLED`).
    Refused(String),
}

impl PortOne {
    /// The payment `id` as PortOne has it (`None`: PortOne does not know it).
    pub async fn payment(&self, id: &str) -> Result<Option<PaymentAnswer>> {
        let (status, body) = self.get(&["payments", id]).await?;
        if status == 404 {
            return Ok(None);
        }
        if !(200..300).contains(&status) {
            tracing::warn!(
                status,
                kind = error_type(&body).as_deref().unwrap_or("-"),
                "portone refused a payment query"
            );
            return Err(CoreError::Unavailable("PortOne refused the query"));
        }
        let answer: PaymentAnswer = serde_json::from_slice(&body).map_err(|_| {
            tracing::warn!("portone: unreadable payment");
            CoreError::Unavailable("PortOne's answer could not be read")
        })?;
        if answer.id != id {
            tracing::warn!("portone answered about another payment");
            return Err(CoreError::Unavailable(
                "PortOne answered about another payment",
            ));
        }
        Ok(Some(answer))
    }

    /// Cancels `amount` of the payment `id` (all of what remains with `None`), only if what
    /// remains is `remaining` (`currentCancellableAmount`: a cancellation made elsewhere in the
    /// meantime refuses this one instead of cancelling twice).
    pub async fn cancel_payment(
        &self,
        id: &str,
        amount: Option<i64>,
        remaining: i64,
        reason: &str,
    ) -> Result<Cancelled> {
        let mut body = serde_json::json!({
            "storeId": self.window.store_id,
            "reason": reason,
            "currentCancellableAmount": remaining,
            "requester": "ADMIN",
        });
        if let Some(a) = amount {
            body["amount"] = serde_json::json!(a);
        }
        let answer = self
            .api
            .client
            .post(self.api.url(&["payments", id, "cancel"]))
            .header(
                reqwest::header::AUTHORIZATION,
                format!("PortOne {}", self.secret.as_str()),
            )
            .json(&body)
            .send()
            .await
            .map_err(|e| unavailable(&e))?;
        let status = answer.status().as_u16();
        let body = read_limited(answer, MAX_ANSWER)
            .await
            .map_err(|_| CoreError::Unavailable("PortOne's answer could not be read"))?;
        match status {
            200..=299 => {
                #[derive(Deserialize)]
                struct Answer {
                    cancellation: Cancellation,
                }
                #[derive(Deserialize)]
                #[serde(rename_all = "camelCase")]
                struct Cancellation {
                    status: String,
                    id: Option<String>,
                    total_amount: Option<i64>,
                }
                let a: Answer = serde_json::from_slice(&body)
                    .map_err(|_| CoreError::Unavailable("PortOne's answer could not be read"))?;
                Ok(
                    match (a.cancellation.status.as_str(), a.cancellation.total_amount) {
                        ("SUCCEEDED", Some(amount)) => Cancelled::Succeeded {
                            id: a.cancellation.id.unwrap_or_default(),
                            amount,
                        },
                        ("REQUESTED", _) => Cancelled::Requested,
                        _ => Cancelled::Refused("CANCELLATION_FAILED".into()),
                    },
                )
            }
            401 | 403 => {
                tracing::error!(status, "portone refused the API secret or the store id");
                Err(CoreError::Unavailable("PortOne refused our credentials"))
            }
            429 | 500.. => Err(CoreError::Unavailable("PortOne is unavailable")),
            _ => Ok(Cancelled::Refused(
                error_type(&body).unwrap_or_else(|| "UNKNOWN".into()),
            )),
        }
    }
}

/// Why a webhook is refused (Standard Webhooks, as PortOne's server SDK checks them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookRefusal {
    MissingHeaders,
    /// The timestamp is more than 5 minutes off.
    Stale,
    BadSignature,
    Unreadable,
}

/// PortOne's webhook tolerance (its SDK's `WEBHOOK_TOLERANCE_IN_SECONDS`).
pub const WEBHOOK_TOLERANCE_SECONDS: i64 = 5 * 60;

/// A verified webhook: its id (for idempotence), type and payment.
#[derive(Debug, Clone)]
pub struct Webhook {
    pub id: String,
    pub kind: String,
    pub payment_id: Option<String>,
}

/// Verifies a webhook as PortOne signs it: `webhook-signature` holds `v1,<base64 HMAC-SHA256>`
/// entries over `"{webhook-id}.{webhook-timestamp}.{body}"` with the secret (`whsec_<base64>`);
/// the timestamp within 5 minutes of `now`.
pub fn verify_webhook(
    secret: &str,
    id: Option<&str>,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: chrono::DateTime<chrono::Utc>,
) -> std::result::Result<Webhook, WebhookRefusal> {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use hmac::{Hmac, Mac};
    let (Some(id), Some(ts), Some(sig)) = (id, timestamp, signature) else {
        return Err(WebhookRefusal::MissingHeaders);
    };
    let ts_n: i64 = ts
        .trim()
        .parse()
        .map_err(|_| WebhookRefusal::BadSignature)?;
    if (now.timestamp() - ts_n).abs() > WEBHOOK_TOLERANCE_SECONDS {
        return Err(WebhookRefusal::Stale);
    }
    let key = STANDARD
        .decode(
            secret
                .trim()
                .strip_prefix("whsec_")
                .unwrap_or(secret.trim()),
        )
        .map_err(|_| WebhookRefusal::BadSignature)?;
    let mut mac =
        Hmac::<sha2::Sha256>::new_from_slice(&key).map_err(|_| WebhookRefusal::BadSignature)?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(ts.as_bytes());
    mac.update(b".");
    mac.update(body);
    // `verify_slice` compares in constant time.
    let matches = sig.split(' ').any(|entry| {
        let mut parts = entry.splitn(2, ',');
        match (parts.next(), parts.next()) {
            (Some("v1"), Some(s)) => STANDARD
                .decode(s)
                .is_ok_and(|d| mac.clone().verify_slice(&d).is_ok()),
            _ => false,
        }
    });
    if !matches {
        return Err(WebhookRefusal::BadSignature);
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Body {
        #[serde(rename = "type")]
        kind: String,
        data: Option<Data>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Data {
        payment_id: Option<String>,
    }
    let b: Body = serde_json::from_slice(body).map_err(|_| WebhookRefusal::Unreadable)?;
    Ok(Webhook {
        id: id.to_owned(),
        kind: b.kind,
        payment_id: b.data.and_then(|d| d.payment_id),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_masked_card_numbers_are_kept() {
        assert_eq!(
            masked_card("53275000****123*").as_deref(),
            Some("53275000****123*")
        );
        assert_eq!(
            masked_card("5327-50**-****-1234").as_deref(),
            Some("5327-50**-****-1234")
        );
        // Whole, or too little hidden: dropped.
        assert_eq!(masked_card("5327500012341234"), None);
        assert_eq!(masked_card("532750001234***4"), None);
        assert_eq!(masked_card("card 5327****"), None);
    }

    #[test]
    fn a_webhook_verifies_only_with_its_secret_body_and_time() {
        use base64::Engine;
        use base64::engine::general_purpose::STANDARD;
        use hmac::{Hmac, Mac};
        let key = b"0123456789abcdef0123456789abcdef";
        let secret = format!("whsec_{}", STANDARD.encode(key));
        let body = br#"{"type":"Transaction.Paid","timestamp":"2026-12-02T01:00:00Z","data":{"paymentId":"p-1","storeId":"s","transactionId":"t"}}"#;
        let now = chrono::DateTime::from_timestamp(1_796_000_000, 0).unwrap();
        let ts = now.timestamp().to_string();
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
        mac.update(format!("wh-1.{ts}.").as_bytes());
        mac.update(body);
        let sig = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
        // Several signatures, one of them right (a secret being rotated).
        let both = format!("v1,AAAA {sig}");
        let ok = verify_webhook(&secret, Some("wh-1"), Some(&ts), Some(&both), body, now).unwrap();
        assert_eq!(ok.kind, "Transaction.Paid");
        assert_eq!(ok.payment_id.as_deref(), Some("p-1"));
        let refused = |id: &str, ts: &str, sig: &str, body: &[u8]| {
            verify_webhook(&secret, Some(id), Some(ts), Some(sig), body, now).unwrap_err()
        };
        assert_eq!(
            refused("wh-2", &ts, &sig, body),
            WebhookRefusal::BadSignature
        );
        assert_eq!(
            refused("wh-1", &ts, &sig, b"{\"type\":\"Transaction.Paid\"}"),
            WebhookRefusal::BadSignature
        );
        assert_eq!(
            refused("wh-1", &(now.timestamp() - 301).to_string(), &sig, body),
            WebhookRefusal::Stale
        );
        assert_eq!(
            refused("wh-1", &ts, &sig.replace("v1,", "v2,"), body),
            WebhookRefusal::BadSignature
        );
        assert_eq!(
            verify_webhook(&secret, None, Some(&ts), Some(&sig), body, now).unwrap_err(),
            WebhookRefusal::MissingHeaders
        );
    }
}
