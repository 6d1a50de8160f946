//! A local stand-in for PortOne's V2 API (`https://api.portone.io`) and its browser window,
//! following PortOne's server SDK (portone-io/server-sdk): the OpenAPI document it is generated
//! from (`codegen/openapi.json`, API 1.16.0: the schemas, every error type's `type` string and its
//! `x-portone-status-code`), the generated TypeScript client
//! (`javascript/src/generated/payment/client.ts`,
//! `javascript/src/generated/identityVerification/client.ts`: paths, methods, the
//! `Authorization: PortOne <secret>` header, a POST body sent as a bare JSON string without
//! `Content-Type`), the generated types (`identityVerification/*IdentityVerification.ts`,
//! `payment/PaidPayment.ts`, `payment/PaymentAmount.ts`, `payment/CancelPaymentBody.ts`,
//! `payment/SucceededPaymentCancellation.ts`, `common/Card.ts`, `webhook/WebhookTransaction*.ts`)
//! and the webhook signing scheme (`javascript/src/webhook.ts`, Standard Webhooks).
//!
//! The API (every request needs `Authorization: PortOne <api secret>`, else 401 `UNAUTHORIZED`; a
//! `storeId` query parameter or body field other than this fake's store is 403 `FORBIDDEN`; each
//! request's method and path is kept, see [`FakePortOne::api_requests`]):
//!
//! - `GET /identity-verifications/{id}`: `READY`, `VERIFIED` or `FAILED`; 404
//!   `IDENTITY_VERIFICATION_NOT_FOUND`.
//! - `GET /payments/{id}`: `READY`, `PAID`, `FAILED`, `PARTIAL_CANCELLED` or `CANCELLED`; 404
//!   `PAYMENT_NOT_FOUND`.
//! - `POST /payments/{id}/cancel` (`CancelPaymentBody`, read as JSON whatever its
//!   `Content-Type`): 400 `INVALID_REQUEST` (not a JSON object, no non-empty string `reason`, an
//!   amount that is not a positive integer), 404 `PAYMENT_NOT_FOUND`, and 409 for
//!   `PAYMENT_ALREADY_CANCELLED`, `PAYMENT_NOT_PAID`, `CANCELLABLE_AMOUNT_CONSISTENCY_BROKEN`
//!   (`currentCancellableAmount` given and not the remaining amount),
//!   `CANCEL_AMOUNT_EXCEEDS_CANCELLABLE_AMOUNT` and
//!   `CANCEL_TAX_FREE_AMOUNT_EXCEEDS_CANCELLABLE_TAX_FREE_AMOUNT` (every payment here is fully
//!   taxable), checked in that order. Success is 200 `{"cancellation": …}`, a
//!   `SucceededPaymentCancellation`.
//!
//! Amounts: `taxFree` and `discount` are 0, `vat` is `round(total / 11)` and `supply` the rest; a
//! cancellation's `vatAmount` is `round(amount / 11)`, or the VAT not yet cancelled when it
//! cancels the whole remainder.
//!
//! The browser side: `GET /v2/browser-sdk.js` defines `window.PortOne` with
//! `requestIdentityVerification` and `requestPayment`, which always behave like
//! `windowType: REDIRECTION`: they navigate the page to this fake's window
//! (`/window/identity-verification`, `/window/payment`) and return a promise that never settles;
//! a missing required parameter resolves instead with `{transactionType, code:
//! "RequestParseFailed", message}` (the code named after the browser SDK's
//! `TxServiceIdentityVerificationErrorCode.RequestParseFailed`). The window pages are small forms;
//! on completion they redirect (303) to `redirectUrl` with, as the V2 SDK does,
//! `identityVerificationId`, `identityVerificationTxId`, `transactionType=IDENTITY_VERIFICATION`
//! (payments: `paymentId`, `txId`, `transactionType=PAYMENT`), plus `code` and `message` (and for
//! payments `pgCode`, `pgMessage`) when it failed. A wrong store or channel shows a page linking
//! back with `code=StoreNotFound` / `code=ChannelNotFound`; an identity verification already
//! verified, `code=IdentityVerificationAlreadyVerified`; a payment already paid,
//! `code=AlreadyPaid`; other bad window parameters, `code=RequestParseFailed`. The identity page
//! ("휴대폰 본인인증 (테스트)") asks for `name`, `birth_date` (YYYYMMDD) and `phone` (digits) and
//! has the buttons `action=verify` (인증 완료) and `action=cancel` (취소); the payment page
//! ("결제 (테스트)") shows the order and amount, asks for `card_number` (16 digits) and has
//! `action=pay` (결제하기) and `action=cancel` (취소). A value the page cannot take shows the form
//! again (400) with the error, nothing recorded.
//!
//! Card numbers: only the masked form is kept or shown: the first 8 digits, `****`, digits 13 to
//! 15, and `*` for the last (check) digit, so `5327500012341234` becomes `53275000****123*`.
//!
//! Webhooks (when [`FakePortOne::set_webhook_url`] is set): `Transaction.Paid` on payment,
//! `Transaction.PartialCancelled` / `Transaction.Cancelled` on cancellation (unless the cancel
//! body says `skipWebhook: true`), delivered one at a time in order from the fake's own thread,
//! signed with [`FakePortOne::webhook_secret`]. `Transaction.Ready` and `Transaction.Failed` are
//! not sent (as if the console subscribed only to the others).
//!
//! Knobs: [`FakePortOne::fail_next`] (the next API request gets an HTTP error with a PortOne
//! error body), [`FakePortOne::tamper_next_amount`] (the next payment is paid for another
//! amount, as when the browser altered it), and the control methods that do what a person in the
//! window would do.

// The handlers' helpers answer early with `Err(Response)`; its size does not matter in a fake.
#![allow(clippy::result_large_err)]

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, Utc};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::{Digest, Sha256, Sha384, Sha512};
use url::Url;

/// The failure reason the identity window records when its 취소 button is pressed.
pub const IDENTITY_CANCEL_REASON: &str = "사용자가 본인인증을 취소하였습니다";
/// The failure reason the payment window records when its 취소 button is pressed.
pub const PAYMENT_CANCEL_REASON: &str = "사용자가 결제를 취소하였습니다";
/// The PG code of a payment cancelled in the window.
pub const PAYMENT_CANCEL_PG_CODE: &str = "PAY_PROCESS_CANCELED";

const PG_PROVIDER: &str = "DANAL";
const CHANNEL_NAME: &str = "지킴 테스트 채널";

#[derive(Debug, Clone, PartialEq, Eq)]
enum IdentityState {
    Ready,
    Verified {
        customer: VerifiedCustomer,
        verified_at: DateTime<Utc>,
    },
    Failed {
        reason: String,
        pg_code: Option<String>,
    },
}

impl IdentityState {
    fn status(&self) -> &'static str {
        match self {
            Self::Ready => "READY",
            Self::Verified { .. } => "VERIFIED",
            Self::Failed { .. } => "FAILED",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct VerifiedCustomer {
    name: String,
    phone: String,
    birth: NaiveDate,
    ci: String,
    di: String,
}

#[derive(Debug, Clone)]
struct Identity {
    state: IdentityState,
    tx_id: String,
    requested_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    status_changed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PaymentStatus {
    Ready,
    Paid,
    Failed,
    PartialCancelled,
    Cancelled,
}

impl PaymentStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Ready => "READY",
            Self::Paid => "PAID",
            Self::Failed => "FAILED",
            Self::PartialCancelled => "PARTIAL_CANCELLED",
            Self::Cancelled => "CANCELLED",
        }
    }

    /// Paid at some point (and so not to be opened or paid again).
    fn settled(self) -> bool {
        matches!(self, Self::Paid | Self::PartialCancelled | Self::Cancelled)
    }
}

#[derive(Debug, Clone)]
struct Cancellation {
    id: String,
    pg_id: String,
    amount: i64,
    vat: i64,
    reason: String,
    at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
struct Payment {
    status: PaymentStatus,
    transaction_id: String,
    pg_tx_id: String,
    order_name: String,
    total: i64,
    paid: i64,
    /// The masked card number (never the full one).
    card: Option<String>,
    failure: Option<(String, Option<String>)>,
    cancellations: Vec<Cancellation>,
    requested_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    status_changed_at: DateTime<Utc>,
    paid_at: Option<DateTime<Utc>>,
    failed_at: Option<DateTime<Utc>>,
    cancelled_at: Option<DateTime<Utc>>,
}

impl Payment {
    fn cancelled(&self) -> i64 {
        self.cancellations.iter().map(|c| c.amount).sum()
    }

    fn set_status(&mut self, status: PaymentStatus, now: DateTime<Utc>) {
        if self.status != status {
            self.status_changed_at = now;
        }
        self.status = status;
        self.updated_at = now;
    }
}

#[derive(Debug, Default)]
struct Fake {
    identities: HashMap<String, Identity>,
    payments: HashMap<String, Payment>,
    fail: VecDeque<u16>,
    tamper: Option<i64>,
    requests: Vec<(String, String)>,
    webhook_url: Option<String>,
    webhooks: Vec<(String, u16)>,
}

impl Fake {
    fn set_identity(&mut self, id: &str, state: IdentityState) -> String {
        let now = Utc::now();
        let entry = self
            .identities
            .entry(id.to_owned())
            .or_insert_with(|| Identity {
                state: IdentityState::Ready,
                tx_id: new_id("identity-tx"),
                requested_at: now,
                updated_at: now,
                status_changed_at: now,
            });
        if entry.state.status() != state.status() {
            entry.status_changed_at = now;
            if state == IdentityState::Ready {
                // Opened again after it failed (or was verified): a new attempt.
                entry.tx_id = new_id("identity-tx");
                entry.requested_at = now;
            }
        }
        entry.state = state;
        entry.updated_at = now;
        entry.tx_id.clone()
    }

    /// The payment `id` as READY for `order_name` and `total`: a new attempt unless it is READY
    /// already.
    fn open_payment(&mut self, id: &str, order_name: &str, total: i64) -> &mut Payment {
        let now = Utc::now();
        let fresh = || Payment {
            status: PaymentStatus::Ready,
            transaction_id: uuid::Uuid::new_v4().to_string(),
            pg_tx_id: new_id("pgtx"),
            order_name: order_name.to_owned(),
            total,
            paid: 0,
            card: None,
            failure: None,
            cancellations: Vec::new(),
            requested_at: now,
            updated_at: now,
            status_changed_at: now,
            paid_at: None,
            failed_at: None,
            cancelled_at: None,
        };
        let payment = self.payments.entry(id.to_owned()).or_insert_with(fresh);
        if payment.status == PaymentStatus::Ready {
            payment.order_name = order_name.to_owned();
            payment.total = total;
            payment.updated_at = now;
        } else {
            *payment = fresh();
        }
        payment
    }

    /// Pays `id` (opening it if it is not READY), for the tampered amount if one is set; returns
    /// the transaction id.
    fn pay(&mut self, id: &str, order_name: &str, total: i64, masked_card: String) -> String {
        let total = self.tamper.take().unwrap_or(total);
        let now = Utc::now();
        let payment = self.open_payment(id, order_name, total);
        payment.paid = total;
        payment.card = Some(masked_card);
        payment.paid_at = Some(now);
        payment.set_status(PaymentStatus::Paid, now);
        payment.transaction_id.clone()
    }

    fn fail_payment(&mut self, id: &str, reason: &str, pg_code: Option<&str>) -> String {
        let now = Utc::now();
        if self
            .payments
            .get(id)
            .is_none_or(|p| p.status != PaymentStatus::Ready)
        {
            self.open_payment(id, "", 0);
        }
        let payment = self.payments.get_mut(id).unwrap();
        payment.failure = Some((reason.to_owned(), pg_code.map(str::to_owned)));
        payment.failed_at = Some(now);
        payment.set_status(PaymentStatus::Failed, now);
        payment.transaction_id.clone()
    }
}

/// A webhook waiting to be delivered.
struct Outgoing {
    kind: String,
    url: String,
    body: String,
    headers: Vec<(String, String)>,
}

struct Shared {
    url: String,
    api_secret: String,
    store_id: String,
    channel_key: String,
    channel_id: String,
    merchant_id: String,
    webhook_secret: String,
    outgoing: tokio::sync::mpsc::UnboundedSender<Outgoing>,
    state: Mutex<Fake>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Fake> {
        self.state.lock().unwrap()
    }

    fn verify_identity(&self, id: &str, name: &str, birth: NaiveDate, phone: &str) -> String {
        let customer = VerifiedCustomer {
            name: name.to_owned(),
            phone: phone.chars().filter(char::is_ascii_digit).collect(),
            birth,
            ci: FakePortOne::identity_ci(name, birth),
            di: identity_di(name, birth, &self.store_id),
        };
        self.lock().set_identity(
            id,
            IdentityState::Verified {
                customer,
                verified_at: Utc::now(),
            },
        )
    }

    fn pay(&self, id: &str, order_name: &str, total: i64, masked_card: String) -> String {
        let tx = self.lock().pay(id, order_name, total, masked_card);
        self.emit("Transaction.Paid", id, &tx, None);
        tx
    }

    /// Queues a webhook of `kind` if a webhook URL is set. Not to be called with the state locked.
    fn emit(&self, kind: &str, payment_id: &str, transaction_id: &str, cancellation: Option<&str>) {
        let Some(url) = self.lock().webhook_url.clone() else {
            return;
        };
        let body = FakePortOne::webhook_body(
            kind,
            payment_id,
            &self.store_id,
            transaction_id,
            cancellation,
        );
        let id = format!("msg_{}", uuid::Uuid::new_v4().simple());
        let headers = sign_webhook(&self.webhook_secret, &body, &id, Utc::now().timestamp());
        let _ = self.outgoing.send(Outgoing {
            kind: kind.to_owned(),
            url,
            body,
            headers,
        });
    }

    fn channel(&self) -> Value {
        json!({
            "type": "TEST",
            "id": self.channel_id,
            "key": self.channel_key,
            "name": CHANNEL_NAME,
            "pgProvider": PG_PROVIDER,
            "pgMerchantId": "fake-pg-merchant",
        })
    }

    fn identity_json(&self, id: &str, i: &Identity) -> Value {
        let mut v = json!({
            "status": i.state.status(),
            "id": id,
            "channel": self.channel(),
            "requestedAt": stamp(i.requested_at),
            "updatedAt": stamp(i.updated_at),
            "statusChangedAt": stamp(i.status_changed_at),
            "version": "V2",
        });
        match &i.state {
            IdentityState::Ready => v["requestedCustomer"] = json!({}),
            IdentityState::Verified {
                customer,
                verified_at,
            } => {
                v["verifiedCustomer"] = json!({
                    "name": customer.name,
                    "phoneNumber": customer.phone,
                    "birthDate": customer.birth.format("%Y-%m-%d").to_string(),
                    "gender": "MALE",
                    "isForeigner": false,
                    "ci": customer.ci,
                    "di": customer.di,
                });
                v["verifiedAt"] = json!(stamp(*verified_at));
                v["pgTxId"] = json!(i.tx_id);
                v["pgRawResponse"] = json!("{}");
            }
            IdentityState::Failed { reason, pg_code } => {
                v["requestedCustomer"] = json!({});
                v["failure"] = json!({ "reason": reason });
                if let Some(code) = pg_code {
                    v["failure"]["pgCode"] = json!(code);
                    v["failure"]["pgMessage"] = json!(reason);
                }
                v["pgTxId"] = json!(i.tx_id);
            }
        }
        v
    }

    fn payment_json(&self, id: &str, p: &Payment) -> Value {
        let vat = vat_of(p.total);
        let mut v = json!({
            "status": p.status.as_str(),
            "id": id,
            "transactionId": p.transaction_id,
            "merchantId": self.merchant_id,
            "storeId": self.store_id,
            "channel": self.channel(),
            "version": "V2",
            "requestedAt": stamp(p.requested_at),
            "updatedAt": stamp(p.updated_at),
            "statusChangedAt": stamp(p.status_changed_at),
            "orderName": p.order_name,
            "amount": {
                "total": p.total,
                "taxFree": 0,
                "vat": vat,
                "supply": p.total - vat,
                "discount": 0,
                "paid": p.paid,
                "cancelled": p.cancelled(),
                "cancelledTaxFree": 0,
            },
            "currency": "KRW",
            "customer": {},
            "isCulturalExpense": false,
        });
        if let Some(masked) = &p.card {
            v["method"] = json!({
                "type": "PaymentMethodCard",
                "card": {
                    "publisher": "TEST",
                    "issuer": "TEST",
                    "brand": "LOCAL",
                    "type": "CREDIT",
                    "ownerType": "PERSONAL",
                    "bin": &masked[..8],
                    "name": "테스트카드",
                    "number": masked,
                },
                "approvalNumber": &p.pg_tx_id[p.pg_tx_id.len() - 8..],
                "installment": { "month": 0, "isInterestFree": false },
                "pointUsed": false,
            });
        }
        match p.status {
            PaymentStatus::Ready => {}
            PaymentStatus::Failed => {
                let (reason, pg_code) = p.failure.clone().unwrap_or_default();
                v["failedAt"] = json!(p.failed_at.map(stamp));
                v["failure"] = json!({ "reason": reason });
                if let Some(code) = pg_code {
                    v["failure"]["pgCode"] = json!(code);
                    v["failure"]["pgMessage"] = json!(reason);
                }
            }
            PaymentStatus::Paid | PaymentStatus::PartialCancelled | PaymentStatus::Cancelled => {
                v["paidAt"] = json!(p.paid_at.map(stamp));
                v["pgTxId"] = json!(p.pg_tx_id);
                v["receiptUrl"] = json!(format!(
                    "https://receipt.example.com/portone-fake/{}",
                    p.transaction_id
                ));
                v["cancellations"] = p.cancellations.iter().map(cancellation_json).collect();
                if p.status == PaymentStatus::Paid {
                    v["pgResponse"] = json!("{}");
                    v["disputes"] = json!([]);
                } else {
                    v["cancelledAt"] = json!(p.cancelled_at.map(stamp));
                }
            }
        }
        v
    }
}

fn cancellation_json(c: &Cancellation) -> Value {
    json!({
        "status": "SUCCEEDED",
        "id": c.id,
        "pgCancellationId": c.pg_id,
        "totalAmount": c.amount,
        "taxFreeAmount": 0,
        "vatAmount": c.vat,
        "reason": c.reason,
        "cancelledAt": stamp(c.at),
        "requestedAt": stamp(c.at),
        "trigger": "API",
    })
}

/// The fake PortOne, on a loopback port of its own (a thread with its own runtime); stopped when
/// dropped.
pub struct FakePortOne {
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl std::fmt::Debug for FakePortOne {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FakePortOne({})", self.shared.url)
    }
}

impl Drop for FakePortOne {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl FakePortOne {
    /// jikimi's PortOne client pointed at this fake (its API, SDK, store and channel), with the
    /// API secret `secret` (the fake's own, or a wrong one).
    pub fn client(&self, secret: &str) -> jikimi_core::portone::PortOne {
        jikimi_core::portone::PortOne::new(jikimi_core::portone::PortOneSetup {
            api_url: self.url(),
            sdk_url: self.sdk_url(),
            store_id: self.store_id(),
            channel_key: self.channel_key(),
            api_secret: secret.to_owned(),
        })
        .expect("a PortOne client for the fake")
    }

    /// Starts a fake that accepts `api_secret`, with a new store id (`store-<uuid>`), channel key
    /// (`channel-key-<uuid>`) and webhook secret (`whsec_` and 32 random bytes in base64).
    pub fn start(api_secret: &str) -> Self {
        assert!(!api_secret.is_empty(), "the API secret must not be empty");
        let (listener, url) = crate::fake::loopback();
        let (outgoing, queue) = tokio::sync::mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            url,
            api_secret: api_secret.to_owned(),
            store_id: format!("store-{}", uuid::Uuid::new_v4()),
            channel_key: format!("channel-key-{}", uuid::Uuid::new_v4()),
            channel_id: format!("channel-id-{}", uuid::Uuid::new_v4().simple()),
            merchant_id: format!("merchant-{}", uuid::Uuid::new_v4()),
            webhook_secret: format!("whsec_{}", STANDARD.encode(rand::random::<[u8; 32]>())),
            outgoing,
            state: Mutex::new(Fake::default()),
        });
        let app = Router::new()
            .route("/identity-verifications/{id}", get(get_identity))
            .route("/payments/{id}", get(get_payment))
            .route("/payments/{id}/cancel", post(cancel_payment))
            .route("/v2/browser-sdk.js", get(browser_sdk))
            .route(
                "/window/identity-verification",
                get(identity_window).post(identity_submit),
            )
            .route("/window/payment", get(payment_window).post(payment_submit))
            .fallback(not_found)
            .with_state(shared.clone());
        let delivering = shared.clone();
        let stop = crate::fake::serve(listener, app, Some(Box::pin(deliver(delivering, queue))));
        Self {
            shared,
            stop: Some(stop),
        }
    }

    /// `http://127.0.0.1:<port>`: the API base URL (and the origin of the SDK and the window).
    pub fn url(&self) -> String {
        self.shared.url.clone()
    }

    /// Where the browser SDK is served: `{url}/v2/browser-sdk.js`.
    pub fn sdk_url(&self) -> String {
        format!("{}/v2/browser-sdk.js", self.shared.url)
    }

    pub fn store_id(&self) -> String {
        self.shared.store_id.clone()
    }

    pub fn channel_key(&self) -> String {
        self.shared.channel_key.clone()
    }

    /// The webhook secret, `whsec_…`.
    pub fn webhook_secret(&self) -> String {
        self.shared.webhook_secret.clone()
    }

    /// Where `Transaction.*` webhooks are POSTed from now on.
    pub fn set_webhook_url(&self, url: &str) {
        self.state().webhook_url = Some(url.to_owned());
    }

    /// Marks the identity verification `id` READY, as when the window opens.
    pub fn open_identity(&self, id: &str) {
        self.state().set_identity(id, IdentityState::Ready);
    }

    /// Marks `id` VERIFIED for this person (CI and DI as the window would give them).
    pub fn verify_identity(&self, id: &str, name: &str, birth: NaiveDate, phone_digits: &str) {
        self.shared.verify_identity(id, name, birth, phone_digits);
    }

    /// Marks `id` FAILED with `reason`.
    pub fn fail_identity(&self, id: &str, reason: &str) {
        self.state().set_identity(
            id,
            IdentityState::Failed {
                reason: reason.to_owned(),
                pg_code: None,
            },
        );
    }

    /// The identity verification's status (`READY`, `VERIFIED`, `FAILED`), if it exists.
    pub fn identity_status(&self, id: &str) -> Option<String> {
        let state = self.state();
        state
            .identities
            .get(id)
            .map(|i| i.state.status().to_owned())
    }

    /// The identity verification as `GET /identity-verifications/{id}` answers it.
    pub fn identity(&self, id: &str) -> Option<Value> {
        let state = self.state();
        state
            .identities
            .get(id)
            .map(|i| self.shared.identity_json(id, i))
    }

    /// The CI this fake gives the person: base64 of SHA-512 of `fake portone CI\0{name}\0{birth}`
    /// (birth as YYYY-MM-DD): the same person always gets the same CI, whatever the store.
    pub fn identity_ci(name: &str, birth: NaiveDate) -> String {
        STANDARD.encode(Sha512::digest(format!("fake portone CI\0{name}\0{birth}")))
    }

    /// The DI this fake gives the person for its store: base64 of SHA-384 of
    /// `fake portone DI\0{name}\0{birth}\0{store id}`.
    pub fn identity_di(&self, name: &str, birth: NaiveDate) -> String {
        identity_di(name, birth, &self.shared.store_id)
    }

    /// Marks the payment `id` READY for `order_name` and `total` won (a new attempt unless it was
    /// READY already).
    pub fn open_payment(&self, id: &str, order_name: &str, total: i64) {
        self.state().open_payment(id, order_name, total);
    }

    /// Pays `id` by card (`card_number`: 16 digits, spaces or hyphens allowed; only its masked
    /// form is kept) for `total` won, or the tampered amount; sends `Transaction.Paid` if a
    /// webhook URL is set.
    pub fn pay(&self, id: &str, order_name: &str, total: i64, card_number: &str) {
        let digits = card_digits(card_number).expect("a card number of 16 digits");
        self.shared.pay(id, order_name, total, mask_card(&digits));
    }

    /// Marks the payment `id` FAILED with `reason`.
    pub fn fail_payment(&self, id: &str, reason: &str) {
        self.state().fail_payment(id, reason, None);
    }

    /// The next payment (through the window or [`FakePortOne::pay`]) is paid for `total` won,
    /// whatever was asked: `amount.total` and `amount.paid` both say `total`.
    pub fn tamper_next_amount(&self, total: i64) {
        self.state().tamper = Some(total);
    }

    /// The payment's status (`READY`, `PAID`, `FAILED`, `PARTIAL_CANCELLED`, `CANCELLED`).
    pub fn payment_status(&self, id: &str) -> Option<String> {
        let state = self.state();
        state.payments.get(id).map(|p| p.status.as_str().to_owned())
    }

    /// The payment as `GET /payments/{id}` answers it.
    pub fn payment(&self, id: &str) -> Option<Value> {
        let state = self.state();
        state
            .payments
            .get(id)
            .map(|p| self.shared.payment_json(id, p))
    }

    /// The three Standard Webhooks headers (`webhook-id`, `webhook-timestamp`,
    /// `webhook-signature`) for `body`, signed with this fake's secret.
    pub fn signed_webhook(&self, body: &str, id: &str, timestamp: i64) -> Vec<(String, String)> {
        sign_webhook(&self.shared.webhook_secret, body, id, timestamp)
    }

    /// A webhook body: `{"type": kind, "timestamp": now (RFC 3339), "data": {"paymentId",
    /// "storeId", "transactionId"[, "cancellationId"]}}`.
    pub fn webhook_body(
        kind: &str,
        payment_id: &str,
        store_id: &str,
        transaction_id: &str,
        cancellation_id: Option<&str>,
    ) -> String {
        let mut data = json!({
            "paymentId": payment_id,
            "storeId": store_id,
            "transactionId": transaction_id,
        });
        if let Some(cancellation) = cancellation_id {
            data["cancellationId"] = json!(cancellation);
        }
        json!({
            "type": kind,
            "timestamp": Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
            "data": data,
        })
        .to_string()
    }

    /// The webhooks delivered so far, in order: their type and the HTTP status the receiver
    /// answered (0 when it could not be reached).
    pub fn webhooks_sent(&self) -> Vec<(String, u16)> {
        self.state().webhooks.clone()
    }

    /// Waits (up to 10 seconds) until at least `count` webhooks have been delivered, and returns
    /// them all.
    pub async fn wait_webhooks(&self, count: usize) -> Vec<(String, u16)> {
        for _ in 0..500 {
            if self.state().webhooks.len() >= count {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.webhooks_sent()
    }

    /// The API requests received so far, as (method, path), the query left out.
    pub fn api_requests(&self) -> Vec<(String, String)> {
        self.state().requests.clone()
    }

    /// Answers the next API request (after those already queued) with `status` and a PortOne
    /// error body, before looking at it: 400 `INVALID_REQUEST`, 401 `UNAUTHORIZED`, 403
    /// `FORBIDDEN`, 404 `PAYMENT_NOT_FOUND` or `IDENTITY_VERIFICATION_NOT_FOUND` (by path), 409
    /// `PAYMENT_NOT_PAID`, 502 `PG_PROVIDER` (with `pgCode` and `pgMessage`); statuses PortOne
    /// documents no body for get `INTERNAL_SERVER_ERROR` (5xx) or `UNKNOWN`.
    pub fn fail_next(&self, status: u16) {
        self.state().fail.push_back(status);
    }

    /// Everything the fake holds, as text (to check, say, that no full card number is kept).
    pub fn state_dump(&self) -> String {
        format!("{:?}", *self.state())
    }

    fn state(&self) -> MutexGuard<'_, Fake> {
        self.shared.lock()
    }
}

async fn deliver(shared: Arc<Shared>, mut queue: tokio::sync::mpsc::UnboundedReceiver<Outgoing>) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    while let Some(w) = queue.recv().await {
        let mut request = client
            .post(&w.url)
            .header(header::CONTENT_TYPE, "application/json")
            .body(w.body);
        for (name, value) in &w.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let status = match request.send().await {
            Ok(response) => response.status().as_u16(),
            Err(_) => 0,
        };
        shared.lock().webhooks.push((w.kind, status));
    }
}

fn sign_webhook(secret: &str, body: &str, id: &str, timestamp: i64) -> Vec<(String, String)> {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    let signature = STANDARD.encode(mac.finalize().into_bytes());
    vec![
        ("webhook-id".to_owned(), id.to_owned()),
        ("webhook-timestamp".to_owned(), timestamp.to_string()),
        ("webhook-signature".to_owned(), format!("v1,{signature}")),
    ]
}

fn identity_di(name: &str, birth: NaiveDate, store_id: &str) -> String {
    STANDARD.encode(Sha384::digest(format!(
        "fake portone DI\0{name}\0{birth}\0{store_id}"
    )))
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn new_id(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// VAT in an amount that includes it: round(amount / 11).
fn vat_of(amount: i64) -> i64 {
    (amount + 5) / 11
}

/// The 16 digits of a card number typed with or without spaces and hyphens.
fn card_digits(input: &str) -> Option<String> {
    let digits: String = input.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    (digits.len() == 16 && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// `5327500012341234` → `53275000****123*`: the first 8 digits, 4 masked, digits 13 to 15, the
/// last masked.
fn mask_card(digits: &str) -> String {
    format!("{}****{}*", &digits[..8], &digits[12..15])
}

// ---------------------------------------------------------------------------------------------
// The API

fn error(status: u16, kind: &str, message: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        axum::Json(json!({ "type": kind, "message": message })),
    )
        .into_response()
}

fn invalid(message: &str) -> Response {
    error(400, "INVALID_REQUEST", message)
}

/// The error body of a status given to [`FakePortOne::fail_next`].
fn failure(status: u16, path: &str) -> Response {
    let (kind, message) = match status {
        400 => ("INVALID_REQUEST", "요청된 입력 정보가 유효하지 않습니다."),
        401 => ("UNAUTHORIZED", "인증 정보가 올바르지 않습니다."),
        403 => ("FORBIDDEN", "요청이 거절되었습니다."),
        404 if path.starts_with("/identity-verifications/") => (
            "IDENTITY_VERIFICATION_NOT_FOUND",
            "요청된 본인인증 건이 존재하지 않습니다.",
        ),
        404 => ("PAYMENT_NOT_FOUND", "결제 건이 존재하지 않습니다."),
        409 => ("PAYMENT_NOT_PAID", "결제가 완료되지 않았습니다."),
        502 => {
            let status = StatusCode::BAD_GATEWAY;
            let body = json!({
                "type": "PG_PROVIDER",
                "message": "PG사에서 오류를 전달했습니다.",
                "pgCode": "FAKE_PG_ERROR",
                "pgMessage": "PG사 오류 (테스트)",
            });
            return (status, axum::Json(body)).into_response();
        }
        s if s >= 500 => ("INTERNAL_SERVER_ERROR", "서버 오류가 발생했습니다."),
        _ => ("UNKNOWN", "오류가 발생했습니다."),
    };
    error(status, kind, message)
}

async fn not_found() -> Response {
    error(404, "NOT_FOUND", "해당 경로가 존재하지 않습니다.")
}

/// Records the request, then answers a queued failure or refuses a missing or wrong secret.
fn gate(shared: &Shared, method: &Method, uri: &Uri, headers: &HeaderMap) -> Result<(), Response> {
    let failing = {
        let mut state = shared.lock();
        state
            .requests
            .push((method.as_str().to_owned(), uri.path().to_owned()));
        state.fail.pop_front()
    };
    if let Some(status) = failing {
        return Err(failure(status, uri.path()));
    }
    let authorized = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .is_some_and(|(scheme, secret)| {
            scheme.eq_ignore_ascii_case("PortOne") && secret.trim() == shared.api_secret
        });
    if !authorized {
        return Err(error(401, "UNAUTHORIZED", "인증 정보가 올바르지 않습니다."));
    }
    Ok(())
}

fn check_store(shared: &Shared, store_id: Option<&str>) -> Result<(), Response> {
    match store_id {
        Some(s) if s != shared.store_id => Err(error(403, "FORBIDDEN", "요청이 거절되었습니다.")),
        _ => Ok(()),
    }
}

async fn get_identity(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = gate(&shared, &method, &uri, &headers)
        .and_then(|()| check_store(&shared, query.get("storeId").map(String::as_str)))
    {
        return refused;
    }
    let state = shared.lock();
    match state.identities.get(&id) {
        Some(identity) => axum::Json(shared.identity_json(&id, identity)).into_response(),
        None => error(
            404,
            "IDENTITY_VERIFICATION_NOT_FOUND",
            "요청된 본인인증 건이 존재하지 않습니다.",
        ),
    }
}

async fn get_payment(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = gate(&shared, &method, &uri, &headers)
        .and_then(|()| check_store(&shared, query.get("storeId").map(String::as_str)))
    {
        return refused;
    }
    let state = shared.lock();
    match state.payments.get(&id) {
        Some(payment) => axum::Json(shared.payment_json(&id, payment)).into_response(),
        None => error(404, "PAYMENT_NOT_FOUND", "결제 건이 존재하지 않습니다."),
    }
}

async fn cancel_payment(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match cancel(&shared, &id, &method, &uri, &headers, &body) {
        Ok(response) | Err(response) => response,
    }
}

fn cancel(
    shared: &Shared,
    id: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, Response> {
    gate(shared, method, uri, headers)?;
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(body) else {
        return Err(invalid("요청 본문이 JSON 객체가 아닙니다."));
    };
    let store_id = match body.get("storeId") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => return Err(invalid("storeId는 문자열이어야 합니다.")),
    };
    check_store(shared, store_id)?;
    let reason = match body.get("reason") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        _ => return Err(invalid("reason은 필수 입력 값입니다.")),
    };
    let integer = |name: &str| match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| invalid(&format!("{name}는 정수여야 합니다."))),
    };
    let amount = integer("amount")?;
    let tax_free = integer("taxFreeAmount")?;
    let current = integer("currentCancellableAmount")?;
    integer("vatAmount")?;
    if amount.is_some_and(|a| a <= 0) {
        return Err(invalid("amount는 0보다 커야 합니다."));
    }
    let skip_webhook = body.get("skipWebhook").and_then(Value::as_bool) == Some(true);

    let now = Utc::now();
    let (answer, kind, transaction_id, cancellation_id) = {
        let mut state = shared.lock();
        let Some(payment) = state.payments.get_mut(id) else {
            return Err(error(
                404,
                "PAYMENT_NOT_FOUND",
                "결제 건이 존재하지 않습니다.",
            ));
        };
        match payment.status {
            PaymentStatus::Cancelled => {
                return Err(error(
                    409,
                    "PAYMENT_ALREADY_CANCELLED",
                    "결제가 이미 취소되었습니다.",
                ));
            }
            PaymentStatus::Ready | PaymentStatus::Failed => {
                return Err(error(
                    409,
                    "PAYMENT_NOT_PAID",
                    "결제가 완료되지 않았습니다.",
                ));
            }
            PaymentStatus::Paid | PaymentStatus::PartialCancelled => {}
        }
        let remaining = payment.paid - payment.cancelled();
        if current.is_some_and(|c| c != remaining) {
            return Err(error(
                409,
                "CANCELLABLE_AMOUNT_CONSISTENCY_BROKEN",
                "취소 가능 잔액 검증에 실패했습니다.",
            ));
        }
        let amount = amount.unwrap_or(remaining);
        if amount > remaining {
            return Err(error(
                409,
                "CANCEL_AMOUNT_EXCEEDS_CANCELLABLE_AMOUNT",
                "결제 취소 금액이 취소 가능 금액을 초과했습니다.",
            ));
        }
        if tax_free.is_some_and(|t| t > 0) {
            return Err(error(
                409,
                "CANCEL_TAX_FREE_AMOUNT_EXCEEDS_CANCELLABLE_TAX_FREE_AMOUNT",
                "취소 면세 금액이 취소 가능한 면세 금액을 초과했습니다.",
            ));
        }
        let vat = if amount == remaining {
            vat_of(payment.paid) - payment.cancellations.iter().map(|c| c.vat).sum::<i64>()
        } else {
            vat_of(amount)
        };
        let cancellation = Cancellation {
            id: new_id("cancellation"),
            pg_id: new_id("pgcancel"),
            amount,
            vat,
            reason,
            at: now,
        };
        let answer = json!({ "cancellation": cancellation_json(&cancellation) });
        let cancellation_id = cancellation.id.clone();
        payment.cancellations.push(cancellation);
        payment.cancelled_at = Some(now);
        let (status, kind) = if amount == remaining {
            (PaymentStatus::Cancelled, "Transaction.Cancelled")
        } else {
            (
                PaymentStatus::PartialCancelled,
                "Transaction.PartialCancelled",
            )
        };
        payment.set_status(status, now);
        (
            answer,
            kind,
            payment.transaction_id.clone(),
            cancellation_id,
        )
    };
    if !skip_webhook {
        shared.emit(kind, id, &transaction_id, Some(&cancellation_id));
    }
    Ok(axum::Json(answer).into_response())
}

// ---------------------------------------------------------------------------------------------
// The browser SDK and the window

const BROWSER_SDK: &str = r#"/* A test stand-in for PortOne's browser SDK (V2), redirecting. */
(function () {
  "use strict";
  var BASE = __BASE__;
  var IDENTITY = ["storeId", "channelKey", "identityVerificationId", "redirectUrl"];
  var PAYMENT = ["storeId", "channelKey", "paymentId", "orderName", "totalAmount", "currency",
    "payMethod", "redirectUrl"];
  function missing(opts, names) {
    for (var i = 0; i < names.length; i++) {
      var v = opts[names[i]];
      if (v === undefined || v === null || v === "") return names[i];
    }
    return null;
  }
  function navigate(path, opts, names) {
    var q = new URLSearchParams();
    for (var i = 0; i < names.length; i++) q.append(names[i], String(opts[names[i]]));
    window.location.href = BASE + path + "?" + q.toString();
    return new Promise(function () {});
  }
  function refuse(response, name) {
    response.code = "RequestParseFailed";
    response.message = "필수 파라미터가 없습니다: " + name;
    return Promise.resolve(response);
  }
  window.PortOne = {
    requestIdentityVerification: function (opts) {
      opts = opts || {};
      var m = missing(opts, IDENTITY);
      if (m) {
        return refuse({ transactionType: "IDENTITY_VERIFICATION",
          identityVerificationId: opts.identityVerificationId }, m);
      }
      return navigate("/window/identity-verification", opts, IDENTITY);
    },
    requestPayment: function (opts) {
      opts = opts || {};
      var m = missing(opts, PAYMENT);
      if (m) return refuse({ transactionType: "PAYMENT", paymentId: opts.paymentId }, m);
      return navigate("/window/payment", opts, PAYMENT);
    }
  };
})();
"#;

async fn browser_sdk(State(shared): State<Arc<Shared>>) -> Response {
    let base = serde_json::to_string(&shared.url).unwrap();
    (
        [
            (
                header::CONTENT_TYPE,
                "application/javascript; charset=utf-8",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        BROWSER_SDK.replace("__BASE__", &base),
    )
        .into_response()
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{margin:0;font-family:system-ui,sans-serif;line-height:1.5;color:#222}\
main{max-width:26rem;margin:0 auto;padding:1rem}h1{font-size:1.25rem}\
label{display:block;margin-top:.75rem;font-weight:600}\
input{display:block;width:100%;box-sizing:border-box;font-size:1rem;padding:.6rem;\
margin-top:.25rem}\
.actions{display:flex;gap:.5rem;margin-top:1.25rem}\
button{flex:1;font-size:1rem;padding:.75rem;min-height:44px}\
.error{color:#b00020;font-weight:600}.note{color:#555;font-size:.875rem}";

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"ko\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <link rel=\"icon\" href=\"data:,\"><title>{title}</title><style>{STYLE}</style></head>\
         <body><main><h1>{title}</h1>\
         <p class=\"note\">PortOne 테스트 대역입니다. 실제 인증·결제가 아닙니다.</p>{body}</main>\
         </body></html>",
        title = esc(title),
    );
    (status, Html(html)).into_response()
}

/// `url` with `pairs` appended to its query.
fn with_query(url: &Url, pairs: &[(&str, &str)]) -> String {
    let mut url = url.clone();
    url.query_pairs_mut().extend_pairs(pairs);
    url.to_string()
}

/// A page saying what went wrong, linking back to the site with `code` when it can.
fn window_error(title: &str, message: &str, back: Option<String>) -> Response {
    let link = back
        .map(|href| format!("<p><a href=\"{}\">돌아가기</a></p>", esc(&href)))
        .unwrap_or_default();
    page(
        StatusCode::BAD_REQUEST,
        title,
        &format!(
            "<p class=\"error\" role=\"alert\">{}</p>{link}",
            esc(message)
        ),
    )
}

fn hidden(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(name, value)| {
            format!(
                "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
                esc(value)
            )
        })
        .collect()
}

fn parse_form(body: &[u8]) -> HashMap<String, String> {
    let mut map = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(body) {
        map.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    map
}

/// The redirect URL of a window request: an absolute http(s) URL.
fn redirect_url(params: &HashMap<String, String>) -> Option<Url> {
    let url = Url::parse(params.get("redirectUrl")?).ok()?;
    matches!(url.scheme(), "http" | "https").then_some(url)
}

struct IdentityParams {
    id: String,
    redirect: Url,
}

impl IdentityParams {
    fn hidden(&self, shared: &Shared) -> String {
        hidden(&[
            ("storeId", &shared.store_id),
            ("channelKey", &shared.channel_key),
            ("identityVerificationId", &self.id),
            ("redirectUrl", self.redirect.as_str()),
        ])
    }

    fn back(&self, tx_id: &str, failure: Option<(&str, &str)>) -> String {
        let mut pairs = vec![
            ("identityVerificationId", self.id.as_str()),
            ("identityVerificationTxId", tx_id),
            ("transactionType", "IDENTITY_VERIFICATION"),
        ];
        if let Some((code, message)) = failure {
            pairs.push(("code", code));
            pairs.push(("message", message));
        }
        with_query(&self.redirect, &pairs)
    }
}

const IDENTITY_TITLE: &str = "휴대폰 본인인증 (테스트)";
const PAYMENT_TITLE: &str = "결제 (테스트)";

/// Checks a window request's parameters: an id, an absolute redirect URL, this store and
/// channel.
fn window_params(
    shared: &Shared,
    params: &HashMap<String, String>,
    id_name: &str,
    title: &str,
) -> Result<(String, Url), Response> {
    let id = params.get(id_name).filter(|s| !s.is_empty());
    let (Some(id), Some(redirect)) = (id, redirect_url(params)) else {
        return Err(window_error(
            title,
            &format!("{id_name}와 redirectUrl(http 또는 https 절대 주소)이 필요합니다."),
            None,
        ));
    };
    let refusal = if params.get("storeId") != Some(&shared.store_id) {
        Some(("StoreNotFound", "상점 아이디(storeId)가 올바르지 않습니다."))
    } else if params.get("channelKey") != Some(&shared.channel_key) {
        Some((
            "ChannelNotFound",
            "채널 키(channelKey)가 올바르지 않습니다.",
        ))
    } else {
        None
    };
    if let Some((code, message)) = refusal {
        let back = with_query(
            &redirect,
            &[(id_name, id.as_str()), ("code", code), ("message", message)],
        );
        return Err(window_error(title, message, Some(back)));
    }
    Ok((id.clone(), redirect))
}

fn identity_params(
    shared: &Shared,
    params: &HashMap<String, String>,
) -> Result<IdentityParams, Response> {
    let (id, redirect) = window_params(shared, params, "identityVerificationId", IDENTITY_TITLE)?;
    let p = IdentityParams { id, redirect };
    let state = shared.lock();
    if let Some(identity) = state.identities.get(&p.id)
        && matches!(identity.state, IdentityState::Verified { .. })
    {
        let message = "이미 완료된 본인인증입니다.";
        let back = p.back(
            &identity.tx_id,
            Some(("IdentityVerificationAlreadyVerified", message)),
        );
        return Err(window_error(IDENTITY_TITLE, message, Some(back)));
    }
    Ok(p)
}

fn identity_form(
    shared: &Shared,
    p: &IdentityParams,
    status: StatusCode,
    error: Option<&str>,
    (name, birth, phone): (&str, &str, &str),
) -> Response {
    let error = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", esc(e)))
        .unwrap_or_default();
    let body = format!(
        "{error}<form method=\"post\" action=\"/window/identity-verification\">{hidden}\
         <label for=\"name\">이름</label>\
         <input id=\"name\" name=\"name\" autocomplete=\"name\" required value=\"{name}\">\
         <label for=\"birth_date\">생년월일 8자리 (예: 19900101)</label>\
         <input id=\"birth_date\" name=\"birth_date\" inputmode=\"numeric\" autocomplete=\"bday\" \
         required value=\"{birth}\">\
         <label for=\"phone\">휴대폰 번호 (숫자만)</label>\
         <input id=\"phone\" name=\"phone\" type=\"tel\" inputmode=\"numeric\" \
         autocomplete=\"tel\" required value=\"{phone}\">\
         <div class=\"actions\">\
         <button name=\"action\" value=\"verify\">인증 완료</button>\
         <button name=\"action\" value=\"cancel\" formnovalidate>취소</button>\
         </div></form>",
        hidden = p.hidden(shared),
        name = esc(name),
        birth = esc(birth),
        phone = esc(phone),
    );
    page(status, IDENTITY_TITLE, &body)
}

async fn identity_window(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let p = match identity_params(&shared, &query) {
        Ok(p) => p,
        Err(refused) => return refused,
    };
    {
        let mut state = shared.lock();
        if state.identities.get(&p.id).map(|i| i.state.status()) != Some("READY") {
            state.set_identity(&p.id, IdentityState::Ready);
        }
    }
    identity_form(&shared, &p, StatusCode::OK, None, ("", "", ""))
}

/// A birth date typed as YYYYMMDD, not in the future.
fn parse_birth(s: &str) -> Option<NaiveDate> {
    let date = NaiveDate::parse_from_str(s, "%Y%m%d").ok()?;
    (s.len() == 8 && date.year() >= 1900 && date <= Utc::now().date_naive()).then_some(date)
}

fn parse_phone(s: &str) -> Option<String> {
    let digits: String = s.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    let ok = (10..=11).contains(&digits.len())
        && digits.starts_with("01")
        && digits.bytes().all(|b| b.is_ascii_digit());
    ok.then_some(digits)
}

async fn identity_submit(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let form = parse_form(&body);
    let p = match identity_params(&shared, &form) {
        Ok(p) => p,
        Err(refused) => return refused,
    };
    let field = |name: &str| form.get(name).map(|s| s.trim()).unwrap_or_default();
    let typed = (field("name"), field("birth_date"), field("phone"));
    match field("action") {
        "verify" => {
            let (name, birth, phone) = typed;
            let refuse = |e| identity_form(&shared, &p, StatusCode::BAD_REQUEST, Some(e), typed);
            let (birth, phone) = match (parse_birth(birth), parse_phone(phone)) {
                _ if name.is_empty() => return refuse("이름을 입력해 주세요."),
                (None, _) => return refuse("생년월일 8자리(YYYYMMDD)를 올바르게 입력해 주세요."),
                (_, None) => return refuse("휴대폰 번호를 숫자 10~11자리로 입력해 주세요."),
                (Some(birth), Some(phone)) => (birth, phone),
            };
            let tx = shared.verify_identity(&p.id, name, birth, &phone);
            Redirect::to(&p.back(&tx, None)).into_response()
        }
        "cancel" => {
            let tx = shared.lock().set_identity(
                &p.id,
                IdentityState::Failed {
                    reason: IDENTITY_CANCEL_REASON.to_owned(),
                    pg_code: None,
                },
            );
            let back = p.back(&tx, Some(("FAILURE_TYPE_PG", IDENTITY_CANCEL_REASON)));
            Redirect::to(&back).into_response()
        }
        _ => identity_form(
            &shared,
            &p,
            StatusCode::BAD_REQUEST,
            Some("인증 완료 또는 취소를 눌러 주세요."),
            typed,
        ),
    }
}

struct PaymentParams {
    id: String,
    redirect: Url,
    order_name: String,
    total: i64,
    currency: String,
    pay_method: String,
}

impl PaymentParams {
    fn hidden(&self, shared: &Shared) -> String {
        hidden(&[
            ("storeId", &shared.store_id),
            ("channelKey", &shared.channel_key),
            ("paymentId", &self.id),
            ("orderName", &self.order_name),
            ("totalAmount", &self.total.to_string()),
            ("currency", &self.currency),
            ("payMethod", &self.pay_method),
            ("redirectUrl", self.redirect.as_str()),
        ])
    }

    fn back(&self, tx_id: &str, failure: Option<(&str, &str, &str)>) -> String {
        let mut pairs = vec![
            ("paymentId", self.id.as_str()),
            ("txId", tx_id),
            ("transactionType", "PAYMENT"),
        ];
        if let Some((code, message, pg_code)) = failure {
            pairs.extend([
                ("code", code),
                ("message", message),
                ("pgCode", pg_code),
                ("pgMessage", message),
            ]);
        }
        with_query(&self.redirect, &pairs)
    }
}

fn payment_params(
    shared: &Shared,
    params: &HashMap<String, String>,
) -> Result<PaymentParams, Response> {
    let (id, redirect) = window_params(shared, params, "paymentId", PAYMENT_TITLE)?;
    let field = |name: &str| params.get(name).cloned().unwrap_or_default();
    let total = field("totalAmount").parse::<i64>().ok().filter(|t| *t > 0);
    let currency = field("currency");
    let pay_method = field("payMethod");
    let problem = if field("orderName").trim().is_empty() {
        Some("주문명(orderName)이 필요합니다.")
    } else if total.is_none() {
        Some("결제 금액(totalAmount)은 양의 정수여야 합니다.")
    } else if !matches!(currency.as_str(), "KRW" | "CURRENCY_KRW") {
        Some("이 테스트 대역은 원화(KRW) 결제만 받습니다.")
    } else if pay_method != "CARD" {
        Some("이 테스트 대역은 카드 결제(payMethod CARD)만 받습니다.")
    } else {
        None
    };
    if let Some(message) = problem {
        let back = with_query(
            &redirect,
            &[
                ("paymentId", id.as_str()),
                ("transactionType", "PAYMENT"),
                ("code", "RequestParseFailed"),
                ("message", message),
            ],
        );
        return Err(window_error(PAYMENT_TITLE, message, Some(back)));
    }
    let p = PaymentParams {
        id,
        redirect,
        order_name: field("orderName"),
        total: total.unwrap_or_default(),
        currency,
        pay_method,
    };
    let state = shared.lock();
    if let Some(payment) = state.payments.get(&p.id)
        && payment.status.settled()
    {
        let message = "이미 결제된 건입니다.";
        let back = p.back(
            &payment.transaction_id,
            Some(("AlreadyPaid", message, "ALREADY_PAID")),
        );
        return Err(window_error(PAYMENT_TITLE, message, Some(back)));
    }
    Ok(p)
}

/// `12000` → `12,000`.
fn won(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

fn payment_form(
    shared: &Shared,
    p: &PaymentParams,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    let error = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", esc(e)))
        .unwrap_or_default();
    let body = format!(
        "{error}<dl><dt>주문명</dt><dd>{order}</dd><dt>결제 금액</dt><dd>{amount}원</dd></dl>\
         <form method=\"post\" action=\"/window/payment\">{hidden}\
         <label for=\"card_number\">카드 번호 (16자리)</label>\
         <input id=\"card_number\" name=\"card_number\" inputmode=\"numeric\" \
         autocomplete=\"cc-number\" required>\
         <div class=\"actions\">\
         <button name=\"action\" value=\"pay\">결제하기</button>\
         <button name=\"action\" value=\"cancel\" formnovalidate>취소</button>\
         </div></form>",
        order = esc(&p.order_name),
        amount = won(p.total),
        hidden = p.hidden(shared),
    );
    page(status, PAYMENT_TITLE, &body)
}

async fn payment_window(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let p = match payment_params(&shared, &query) {
        Ok(p) => p,
        Err(refused) => return refused,
    };
    shared.lock().open_payment(&p.id, &p.order_name, p.total);
    payment_form(&shared, &p, StatusCode::OK, None)
}

async fn payment_submit(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let form = parse_form(&body);
    let p = match payment_params(&shared, &form) {
        Ok(p) => p,
        Err(refused) => return refused,
    };
    match form.get("action").map(String::as_str) {
        Some("pay") => {
            let Some(digits) = form.get("card_number").and_then(|c| card_digits(c)) else {
                return payment_form(
                    &shared,
                    &p,
                    StatusCode::BAD_REQUEST,
                    Some("카드 번호 16자리를 입력해 주세요."),
                );
            };
            let tx = shared.pay(&p.id, &p.order_name, p.total, mask_card(&digits));
            Redirect::to(&p.back(&tx, None)).into_response()
        }
        Some("cancel") => {
            let tx = {
                let mut state = shared.lock();
                if state
                    .payments
                    .get(&p.id)
                    .is_none_or(|x| x.status != PaymentStatus::Ready)
                {
                    state.open_payment(&p.id, &p.order_name, p.total);
                }
                state.fail_payment(&p.id, PAYMENT_CANCEL_REASON, Some(PAYMENT_CANCEL_PG_CODE))
            };
            let back = p.back(
                &tx,
                Some((
                    "FAILURE_TYPE_PG",
                    PAYMENT_CANCEL_REASON,
                    PAYMENT_CANCEL_PG_CODE,
                )),
            );
            Redirect::to(&back).into_response()
        }
        _ => payment_form(
            &shared,
            &p,
            StatusCode::BAD_REQUEST,
            Some("결제하기 또는 취소를 눌러 주세요."),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "portone-fake-unit-secret";
    const CARD: &str = "5327500012341234";

    fn client() -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    fn birth() -> NaiveDate {
        NaiveDate::from_ymd_opt(1990, 1, 1).unwrap()
    }

    async fn get_as(fake: &FakePortOne, path: &str, auth: Option<&str>) -> (u16, Value) {
        let mut request = client().get(format!("{}{path}", fake.url()));
        if let Some(auth) = auth {
            request = request.header("Authorization", auth);
        }
        let answer = request.send().await.unwrap();
        (answer.status().as_u16(), answer.json().await.unwrap())
    }

    async fn get(fake: &FakePortOne, path: &str) -> (u16, Value) {
        get_as(fake, path, Some(&format!("PortOne {SECRET}"))).await
    }

    /// A cancel request as the server SDK sends it: the JSON as a bare string body.
    async fn cancel(fake: &FakePortOne, id: &str, body: &str) -> (u16, Value) {
        let answer = client()
            .post(format!("{}/payments/{id}/cancel", fake.url()))
            .header("Authorization", format!("PortOne {SECRET}"))
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        (answer.status().as_u16(), answer.json().await.unwrap())
    }

    async fn post_form(
        fake: &FakePortOne,
        path: &str,
        fields: &[(&str, &str)],
    ) -> (u16, String, String) {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let answer = client()
            .post(format!("{}{path}", fake.url()))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = answer.status().as_u16();
        let location = answer
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (status, location, answer.text().await.unwrap())
    }

    fn query_of(location: &str) -> HashMap<String, String> {
        Url::parse(location)
            .unwrap()
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    fn hmac_b64(key: &[u8], message: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
        mac.update(message.as_bytes());
        STANDARD.encode(mac.finalize().into_bytes())
    }

    #[tokio::test]
    async fn an_unauthorised_request_is_refused() {
        let fake = FakePortOne::start(SECRET);
        fake.verify_identity("iv-1", "김지킴", birth(), "01012345678");
        let path = "/identity-verifications/iv-1";
        for auth in [
            None,
            Some("PortOne not-the-secret".to_owned()),
            Some(format!("Bearer {SECRET}")),
            Some(SECRET.to_owned()),
        ] {
            let (status, body) = get_as(&fake, path, auth.as_deref()).await;
            assert_eq!(status, 401, "{auth:?}");
            assert_eq!(body["type"], "UNAUTHORIZED");
            assert!(body["message"].is_string());
        }
        // Another store's id is refused; this store's is taken.
        let (status, body) = get(&fake, &format!("{path}?storeId=store-other")).await;
        assert_eq!((status, body["type"].as_str()), (403, Some("FORBIDDEN")));
        let (status, _) = get(&fake, &format!("{path}?storeId={}", fake.store_id())).await;
        assert_eq!(status, 200);
        let requests = fake.api_requests();
        assert_eq!(requests.len(), 6);
        assert!(requests.iter().all(|(m, p)| m == "GET" && p == path));
        assert!(!format!("{requests:?}").contains(SECRET));
    }

    #[tokio::test]
    async fn a_verified_identity_is_answered_with_the_person() {
        let fake = FakePortOne::start(SECRET);
        fake.open_identity("iv-2");
        let (status, ready) = get(&fake, "/identity-verifications/iv-2").await;
        assert_eq!(status, 200);
        assert_eq!(ready["status"], "READY");
        assert_eq!(ready["requestedCustomer"], json!({}));
        assert_eq!(ready["version"], "V2");
        assert_eq!(ready["channel"]["key"], fake.channel_key());

        fake.verify_identity("iv-2", "김지킴", birth(), "010-1234-5678");
        let (status, v) = get(&fake, "/identity-verifications/iv-2").await;
        assert_eq!(status, 200);
        assert_eq!(v["status"], "VERIFIED");
        assert_eq!(v["id"], "iv-2");
        let c = &v["verifiedCustomer"];
        assert_eq!(c["name"], "김지킴");
        assert_eq!(c["phoneNumber"], "01012345678");
        assert_eq!(c["birthDate"], "1990-01-01");
        assert_eq!(c["gender"], "MALE");
        assert_eq!(c["isForeigner"], false);
        assert_eq!(c["ci"], FakePortOne::identity_ci("김지킴", birth()));
        assert_eq!(c["di"], fake.identity_di("김지킴", birth()));
        assert_eq!(c["ci"].as_str().unwrap().len(), 88);
        assert_eq!(c["di"].as_str().unwrap().len(), 64);
        for field in [
            "requestedAt",
            "updatedAt",
            "statusChangedAt",
            "verifiedAt",
            "pgTxId",
        ] {
            assert!(v[field].is_string(), "{field}");
        }
        assert_eq!(v["pgRawResponse"], "{}");
        // The same person elsewhere has the same CI; another store gives another DI.
        let other = FakePortOne::start(SECRET);
        assert_ne!(
            other.identity_di("김지킴", birth()),
            fake.identity_di("김지킴", birth())
        );
        assert_ne!(
            FakePortOne::identity_ci("김지킴", birth()),
            FakePortOne::identity_ci("김지킴", birth().succ_opt().unwrap())
        );

        fake.fail_identity("iv-3", "본인인증에 실패했습니다");
        let (_, failed) = get(&fake, "/identity-verifications/iv-3").await;
        assert_eq!(failed["status"], "FAILED");
        assert_eq!(failed["failure"]["reason"], "본인인증에 실패했습니다");
        assert_eq!(fake.identity_status("iv-3").as_deref(), Some("FAILED"));
    }

    #[tokio::test]
    async fn unknown_ids_are_not_found() {
        let fake = FakePortOne::start(SECRET);
        let (status, body) = get(&fake, "/identity-verifications/nobody").await;
        assert_eq!(
            (status, body["type"].as_str()),
            (404, Some("IDENTITY_VERIFICATION_NOT_FOUND"))
        );
        let (status, body) = get(&fake, "/payments/nothing").await;
        assert_eq!(
            (status, body["type"].as_str()),
            (404, Some("PAYMENT_NOT_FOUND"))
        );
        let (status, body) = cancel(&fake, "nothing", r#"{"reason":"테스트"}"#).await;
        assert_eq!(
            (status, body["type"].as_str()),
            (404, Some("PAYMENT_NOT_FOUND"))
        );
    }

    #[tokio::test]
    async fn a_paid_payment_shows_only_the_masked_card() {
        let fake = FakePortOne::start(SECRET);
        fake.open_payment("order-1", "지킴 연회비", 12_000);
        assert_eq!(fake.payment_status("order-1").as_deref(), Some("READY"));
        let (_, ready) = get(&fake, "/payments/order-1").await;
        assert_eq!(ready["status"], "READY");
        assert_eq!(ready["amount"]["paid"], 0);
        assert!(ready.get("method").is_none());

        fake.pay("order-1", "지킴 연회비", 12_000, "5327 5000 1234 1234");
        let answer = client()
            .get(format!("{}/payments/order-1", fake.url()))
            .header("Authorization", format!("PortOne {SECRET}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!answer.contains(CARD), "{answer}");
        let p: Value = serde_json::from_str(&answer).unwrap();
        assert_eq!(p["status"], "PAID");
        assert_eq!(p["storeId"], fake.store_id());
        assert_eq!(p["orderName"], "지킴 연회비");
        assert_eq!(p["currency"], "KRW");
        assert_eq!(p["method"]["type"], "PaymentMethodCard");
        assert_eq!(p["method"]["card"]["number"], "53275000****123*");
        let a = &p["amount"];
        assert_eq!(
            (a["total"].as_i64(), a["paid"].as_i64()),
            (Some(12_000), Some(12_000))
        );
        assert_eq!(
            (a["vat"].as_i64(), a["supply"].as_i64()),
            (Some(1_091), Some(10_909))
        );
        assert_eq!(
            (a["cancelled"].as_i64(), a["taxFree"].as_i64()),
            (Some(0), Some(0))
        );
        assert_eq!(p["disputes"], json!([]));
        assert_eq!(p["cancellations"], json!([]));
        for field in [
            "transactionId",
            "paidAt",
            "pgTxId",
            "receiptUrl",
            "statusChangedAt",
        ] {
            assert!(p[field].is_string(), "{field}");
        }
        assert!(!fake.state_dump().contains(CARD));
        assert!(!fake.state_dump().contains("1234 1234"));
    }

    #[tokio::test]
    async fn cancelling_in_part_then_wholly_then_again_is_refused() {
        let fake = FakePortOne::start(SECRET);
        fake.pay("order-2", "지킴 연회비", 10_000, CARD);
        let (status, body) =
            cancel(&fake, "order-2", r#"{"reason":"부분 환불","amount":3000}"#).await;
        assert_eq!(status, 200, "{body}");
        let c = &body["cancellation"];
        assert_eq!(c["status"], "SUCCEEDED");
        assert_eq!(c["totalAmount"], 3_000);
        assert_eq!(c["vatAmount"], 273);
        assert_eq!(c["taxFreeAmount"], 0);
        assert_eq!(c["reason"], "부분 환불");
        for field in ["id", "pgCancellationId", "cancelledAt", "requestedAt"] {
            assert!(c[field].is_string(), "{field}");
        }
        let (_, p) = get(&fake, "/payments/order-2").await;
        assert_eq!(p["status"], "PARTIAL_CANCELLED");
        assert_eq!(p["amount"]["cancelled"], 3_000);
        assert_eq!(p["cancellations"].as_array().unwrap().len(), 1);
        assert!(p["cancelledAt"].is_string());

        let store = fake.store_id();
        let body =
            json!({ "reason": "전액 환불", "currentCancellableAmount": 7000, "storeId": store });
        let (status, body) = cancel(&fake, "order-2", &body.to_string()).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["cancellation"]["totalAmount"], 7_000);
        assert_eq!(body["cancellation"]["vatAmount"], vat_of(10_000) - 273);
        let (_, p) = get(&fake, "/payments/order-2").await;
        assert_eq!(p["status"], "CANCELLED");
        assert_eq!(p["amount"]["cancelled"], 10_000);
        assert_eq!(p["cancellations"].as_array().unwrap().len(), 2);
        assert_eq!(fake.payment_status("order-2").as_deref(), Some("CANCELLED"));

        let (status, body) = cancel(&fake, "order-2", r#"{"reason":"또 환불"}"#).await;
        assert_eq!(
            (status, body["type"].as_str()),
            (409, Some("PAYMENT_ALREADY_CANCELLED"))
        );
    }

    #[tokio::test]
    async fn a_cancel_the_payment_cannot_take_is_refused() {
        let fake = FakePortOne::start(SECRET);
        fake.pay("order-3", "지킴 연회비", 5_000, CARD);
        let refused = [
            (
                r#"{"reason":"환불","amount":6000}"#,
                409,
                "CANCEL_AMOUNT_EXCEEDS_CANCELLABLE_AMOUNT",
            ),
            (
                r#"{"reason":"환불","currentCancellableAmount":4000}"#,
                409,
                "CANCELLABLE_AMOUNT_CONSISTENCY_BROKEN",
            ),
            (
                r#"{"reason":"환불","taxFreeAmount":100}"#,
                409,
                "CANCEL_TAX_FREE_AMOUNT_EXCEEDS_CANCELLABLE_TAX_FREE_AMOUNT",
            ),
            (r#"{"amount":1000}"#, 400, "INVALID_REQUEST"),
            (r#"{"reason":""}"#, 400, "INVALID_REQUEST"),
            (
                r#"{"reason":"환불","amount":"1000"}"#,
                400,
                "INVALID_REQUEST",
            ),
            (r#"{"reason":"환불","amount":0}"#, 400, "INVALID_REQUEST"),
            ("reason=환불", 400, "INVALID_REQUEST"),
            (
                r#"{"reason":"환불","storeId":"store-other"}"#,
                403,
                "FORBIDDEN",
            ),
        ];
        for (body, status, kind) in refused {
            let (got, answer) = cancel(&fake, "order-3", body).await;
            assert_eq!(
                (got, answer["type"].as_str()),
                (status, Some(kind)),
                "{body}"
            );
        }
        assert_eq!(fake.payment_status("order-3").as_deref(), Some("PAID"));
        let (_, p) = get(&fake, "/payments/order-3").await;
        assert_eq!(p["amount"]["cancelled"], 0);

        fake.open_payment("order-4", "지킴 연회비", 5_000);
        let (status, body) = cancel(&fake, "order-4", r#"{"reason":"환불"}"#).await;
        assert_eq!(
            (status, body["type"].as_str()),
            (409, Some("PAYMENT_NOT_PAID"))
        );
        fake.fail_payment("order-4", "한도 초과");
        let (status, body) = cancel(&fake, "order-4", r#"{"reason":"환불"}"#).await;
        assert_eq!(
            (status, body["type"].as_str()),
            (409, Some("PAYMENT_NOT_PAID"))
        );
        let (_, p) = get(&fake, "/payments/order-4").await;
        assert_eq!(p["status"], "FAILED");
        assert_eq!(p["failure"]["reason"], "한도 초과");
    }

    #[test]
    fn a_signed_webhook_verifies_with_the_secret() {
        let fake = FakePortOne::start(SECRET);
        let secret = fake.webhook_secret();
        let key = STANDARD
            .decode(secret.strip_prefix("whsec_").unwrap())
            .unwrap();
        assert_eq!(key.len(), 32);
        let body = FakePortOne::webhook_body(
            "Transaction.Paid",
            "order-5",
            &fake.store_id(),
            "tx-5",
            None,
        );
        let parsed: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(parsed["type"], "Transaction.Paid");
        assert!(DateTime::parse_from_rfc3339(parsed["timestamp"].as_str().unwrap()).is_ok());
        assert_eq!(
            parsed["data"],
            json!({ "paymentId": "order-5", "storeId": fake.store_id(), "transactionId": "tx-5" })
        );
        let headers = fake.signed_webhook(&body, "msg_test", 1_767_225_600);
        let expected = format!(
            "v1,{}",
            hmac_b64(&key, &format!("msg_test.1767225600.{body}"))
        );
        assert_eq!(
            headers,
            vec![
                ("webhook-id".to_owned(), "msg_test".to_owned()),
                ("webhook-timestamp".to_owned(), "1767225600".to_owned()),
                ("webhook-signature".to_owned(), expected),
            ]
        );
        let cancelled =
            FakePortOne::webhook_body("Transaction.Cancelled", "order-5", "s", "tx-5", Some("c-1"));
        let cancelled: Value = serde_json::from_str(&cancelled).unwrap();
        assert_eq!(cancelled["data"]["cancellationId"], "c-1");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn webhooks_are_delivered_signed_and_in_order() {
        let received: Arc<Mutex<Vec<(HeaderMap, String)>>> = Arc::default();
        let keep = received.clone();
        let receiver = Router::new().route(
            "/hooks/portone",
            post(move |headers: HeaderMap, body: String| async move {
                keep.lock().unwrap().push((headers, body));
                StatusCode::OK
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let hook_url = format!("http://{}/hooks/portone", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, receiver).await });

        let fake = FakePortOne::start(SECRET);
        fake.pay("order-6", "지킴 연회비", 9_000, CARD); // no URL yet: nothing sent
        fake.set_webhook_url(&hook_url);
        fake.pay("order-7", "지킴 연회비", 9_000, CARD);
        let (status, _) = cancel(&fake, "order-7", r#"{"reason":"부분 환불","amount":1000}"#).await;
        assert_eq!(status, 200);
        let (status, _) = cancel(
            &fake,
            "order-7",
            r#"{"reason":"나머지","skipWebhook":true}"#,
        )
        .await;
        assert_eq!(status, 200);
        let sent = fake.wait_webhooks(2).await;
        assert_eq!(
            sent,
            vec![
                ("Transaction.Paid".to_owned(), 200),
                ("Transaction.PartialCancelled".to_owned(), 200),
            ]
        );
        let key = STANDARD
            .decode(fake.webhook_secret().strip_prefix("whsec_").unwrap())
            .unwrap();
        let received = received.lock().unwrap().clone();
        assert_eq!(received.len(), 2);
        for (headers, body) in &received {
            let h = |name: &str| headers.get(name).unwrap().to_str().unwrap().to_owned();
            let expected = hmac_b64(
                &key,
                &format!("{}.{}.{body}", h("webhook-id"), h("webhook-timestamp")),
            );
            assert_eq!(h("webhook-signature"), format!("v1,{expected}"));
            assert!(
                (Utc::now().timestamp() - h("webhook-timestamp").parse::<i64>().unwrap()).abs()
                    < 300
            );
            assert_eq!(h("content-type"), "application/json");
        }
        let paid: Value = serde_json::from_str(&received[0].1).unwrap();
        assert_eq!(paid["data"]["paymentId"], "order-7");
        assert_eq!(paid["data"]["storeId"], fake.store_id());
        let (_, p) = get(&fake, "/payments/order-7").await;
        assert_eq!(paid["data"]["transactionId"], p["transactionId"]);
        let partial: Value = serde_json::from_str(&received[1].1).unwrap();
        assert_eq!(
            partial["data"]["cancellationId"],
            p["cancellations"][0]["id"]
        );

        // A receiver that cannot be reached is counted with status 0.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let dead = format!("http://{}/hooks", closed.local_addr().unwrap());
        drop(closed);
        fake.set_webhook_url(&dead);
        fake.pay("order-8", "지킴 연회비", 9_000, CARD);
        let sent = fake.wait_webhooks(3).await;
        assert_eq!(sent[2], ("Transaction.Paid".to_owned(), 0));
    }

    #[tokio::test]
    async fn the_identity_window_verifies_and_goes_back() {
        let fake = FakePortOne::start(SECRET);
        let (store, channel) = (fake.store_id(), fake.channel_key());
        let redirect = "https://example.com/signup/verify?step=1";
        let params = |id: &'static str| {
            vec![
                ("storeId", store.clone()),
                ("channelKey", channel.clone()),
                ("identityVerificationId", id.to_owned()),
                ("redirectUrl", redirect.to_owned()),
            ]
        };
        let window = Url::parse_with_params(
            &format!("{}/window/identity-verification", fake.url()),
            params("iv-w1"),
        )
        .unwrap();
        let answer = client().get(window).send().await.unwrap();
        assert_eq!(answer.status(), 200);
        let html = answer.text().await.unwrap();
        for needle in [
            "<title>휴대폰 본인인증 (테스트)</title>",
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
            "<label for=\"name\">",
            "<label for=\"birth_date\">",
            "<label for=\"phone\">",
            "<button name=\"action\" value=\"verify\">인증 완료</button>",
            "<button name=\"action\" value=\"cancel\" formnovalidate>취소</button>",
        ] {
            assert!(html.contains(needle), "{needle}");
        }
        assert_eq!(fake.identity_status("iv-w1").as_deref(), Some("READY"));

        let fields = |id: &'static str, action: &'static str, birth: &'static str| {
            let mut f: Vec<(&str, String)> = params(id);
            f.extend([
                ("name", "김지킴".to_owned()),
                ("birth_date", birth.to_owned()),
                ("phone", "010-1234-5678".to_owned()),
                ("action", action.to_owned()),
            ]);
            f
        };
        let as_refs = |f: &[(&'static str, String)]| -> Vec<(&'static str, String)> { f.to_vec() };
        let post = async |f: Vec<(&'static str, String)>| {
            let refs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            post_form(&fake, "/window/identity-verification", &refs).await
        };

        // A birth date that is not one: the form again, nothing recorded.
        let (status, location, html) = post(as_refs(&fields("iv-w1", "verify", "19901350"))).await;
        assert_eq!((status, location.as_str()), (400, ""));
        assert!(html.contains("role=\"alert\""));
        assert!(html.contains("value=\"김지킴\""));
        assert_eq!(fake.identity_status("iv-w1").as_deref(), Some("READY"));

        let (status, location, _) = post(fields("iv-w1", "verify", "19900101")).await;
        assert_eq!(status, 303);
        assert!(
            location.starts_with(
                "https://example.com/signup/verify?step=1&identityVerificationId=iv-w1&"
            ),
            "{location}"
        );
        let q = query_of(&location);
        assert_eq!(q["transactionType"], "IDENTITY_VERIFICATION");
        assert!(!q.contains_key("code"));
        let (_, v) = get(&fake, "/identity-verifications/iv-w1").await;
        assert_eq!(v["status"], "VERIFIED");
        assert_eq!(v["verifiedCustomer"]["birthDate"], "1990-01-01");
        assert_eq!(v["verifiedCustomer"]["phoneNumber"], "01012345678");
        assert_eq!(
            v["verifiedCustomer"]["ci"],
            FakePortOne::identity_ci("김지킴", birth())
        );
        assert_eq!(
            v["pgTxId"].as_str(),
            Some(q["identityVerificationTxId"].as_str())
        );

        // Verified already: the window says so and links back.
        let (status, location, html) = post(fields("iv-w1", "verify", "19900101")).await;
        assert_eq!((status, location.as_str()), (400, ""));
        assert!(html.contains("IdentityVerificationAlreadyVerified"));

        // Cancelled: FAILED, and back with the code and the reason.
        let (status, location, _) = post(fields("iv-w2", "cancel", "")).await;
        assert_eq!(status, 303);
        let q = query_of(&location);
        assert_eq!(q["identityVerificationId"], "iv-w2");
        assert_eq!(q["code"], "FAILURE_TYPE_PG");
        assert_eq!(q["message"], IDENTITY_CANCEL_REASON);
        let (_, v) = get(&fake, "/identity-verifications/iv-w2").await;
        assert_eq!(v["status"], "FAILED");
        assert_eq!(v["failure"]["reason"], IDENTITY_CANCEL_REASON);

        // Another channel: refused, with a way back.
        let mut wrong = fields("iv-w3", "verify", "19900101");
        wrong[1].1 = "channel-key-other".to_owned();
        let (status, _, html) = post(wrong).await;
        assert_eq!(status, 400);
        assert!(html.contains("code=ChannelNotFound"));
        assert!(fake.identity_status("iv-w3").is_none());
        // The window is no API request.
        assert!(
            fake.api_requests()
                .iter()
                .all(|(_, p)| !p.starts_with("/window"))
        );
    }

    #[tokio::test]
    async fn the_payment_window_pays_and_goes_back() {
        let fake = FakePortOne::start(SECRET);
        let (store, channel) = (fake.store_id(), fake.channel_key());
        let fields = |id: &str, extra: &[(&str, &str)]| -> Vec<(String, String)> {
            let mut f = vec![
                ("storeId".to_owned(), store.clone()),
                ("channelKey".to_owned(), channel.clone()),
                ("paymentId".to_owned(), id.to_owned()),
                ("orderName".to_owned(), "지킴 연회비".to_owned()),
                ("totalAmount".to_owned(), "12000".to_owned()),
                ("currency".to_owned(), "KRW".to_owned()),
                ("payMethod".to_owned(), "CARD".to_owned()),
                (
                    "redirectUrl".to_owned(),
                    "https://example.com/pay/done".to_owned(),
                ),
            ];
            f.extend(
                extra
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
            );
            f
        };
        let post = async |f: Vec<(String, String)>| {
            let refs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            post_form(&fake, "/window/payment", &refs).await
        };
        let window = Url::parse_with_params(
            &format!("{}/window/payment", fake.url()),
            fields("pay-1", &[]),
        )
        .unwrap();
        let html = client()
            .get(window)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("<title>결제 (테스트)</title>"));
        assert!(html.contains("지킴 연회비") && html.contains("12,000원"));
        assert!(html.contains("<label for=\"card_number\">"));
        assert_eq!(fake.payment_status("pay-1").as_deref(), Some("READY"));

        let (status, _, html) = post(fields(
            "pay-1",
            &[("action", "pay"), ("card_number", "1234")],
        ))
        .await;
        assert_eq!(status, 400);
        assert!(html.contains("role=\"alert\""));
        assert_eq!(fake.payment_status("pay-1").as_deref(), Some("READY"));

        fake.tamper_next_amount(100);
        let (status, location, _) =
            post(fields("pay-1", &[("action", "pay"), ("card_number", CARD)])).await;
        assert_eq!(status, 303);
        let q = query_of(&location);
        assert!(
            location.starts_with("https://example.com/pay/done?paymentId=pay-1&"),
            "{location}"
        );
        assert_eq!(q["transactionType"], "PAYMENT");
        let (_, p) = get(&fake, "/payments/pay-1").await;
        assert_eq!(p["status"], "PAID");
        assert_eq!(p["transactionId"].as_str(), Some(q["txId"].as_str()));
        assert_eq!(
            (p["amount"]["total"].as_i64(), p["amount"]["paid"].as_i64()),
            (Some(100), Some(100))
        );
        assert_eq!(p["method"]["card"]["number"], "53275000****123*");
        assert!(!fake.state_dump().contains(CARD));

        // Paid already: the window will not take it again.
        let (status, _, html) =
            post(fields("pay-1", &[("action", "pay"), ("card_number", CARD)])).await;
        assert_eq!(status, 400);
        assert!(html.contains("code=AlreadyPaid"));

        // Cancelled in the window: FAILED with the PG's code.
        let (status, location, _) = post(fields("pay-2", &[("action", "cancel")])).await;
        assert_eq!(status, 303);
        let q = query_of(&location);
        assert_eq!(
            (
                q["paymentId"].as_str(),
                q["code"].as_str(),
                q["pgCode"].as_str()
            ),
            ("pay-2", "FAILURE_TYPE_PG", PAYMENT_CANCEL_PG_CODE)
        );
        assert_eq!(q["message"], PAYMENT_CANCEL_REASON);
        let (_, p) = get(&fake, "/payments/pay-2").await;
        assert_eq!(p["status"], "FAILED");
        assert_eq!(p["failure"]["pgCode"], PAYMENT_CANCEL_PG_CODE);
        assert_eq!(p["orderName"], "지킴 연회비");
    }

    #[tokio::test]
    async fn the_browser_sdk_is_served_as_javascript() {
        let fake = FakePortOne::start(SECRET);
        let answer = client().get(fake.sdk_url()).send().await.unwrap();
        assert_eq!(answer.status(), 200);
        let kind = answer.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(kind.starts_with("application/javascript"), "{kind}");
        let js = answer.text().await.unwrap();
        assert!(js.contains("requestIdentityVerification") && js.contains("requestPayment"));
        assert!(js.contains(&format!("\"{}\"", fake.url())));
        assert!(!js.contains("__BASE__"));
        assert!(fake.api_requests().is_empty());
    }

    #[tokio::test]
    async fn a_queued_failure_answers_the_next_request_only() {
        let fake = FakePortOne::start(SECRET);
        fake.pay("order-9", "지킴 연회비", 1_000, CARD);
        fake.fail_next(503);
        fake.fail_next(502);
        let (status, body) = get(&fake, "/payments/order-9").await;
        assert_eq!(
            (status, body["type"].as_str()),
            (503, Some("INTERNAL_SERVER_ERROR"))
        );
        let (status, body) = get(&fake, "/payments/order-9").await;
        assert_eq!((status, body["type"].as_str()), (502, Some("PG_PROVIDER")));
        assert!(body["pgCode"].is_string() && body["pgMessage"].is_string());
        fake.fail_next(404);
        let (status, body) = get(&fake, "/identity-verifications/iv-x").await;
        assert_eq!(
            (status, body["type"].as_str()),
            (404, Some("IDENTITY_VERIFICATION_NOT_FOUND"))
        );
        let (status, body) = get(&fake, "/payments/order-9").await;
        assert_eq!((status, body["status"].as_str()), (200, Some("PAID")));
        assert_eq!(
            fake.api_requests(),
            vec![
                ("GET".to_owned(), "/payments/order-9".to_owned()),
                ("GET".to_owned(), "/payments/order-9".to_owned()),
                ("GET".to_owned(), "/identity-verifications/iv-x".to_owned()),
                ("GET".to_owned(), "/payments/order-9".to_owned()),
            ]
        );
        assert!(format!("{fake:?}").starts_with("FakePortOne(http://127.0.0.1:"));
    }

    #[test]
    fn card_numbers_are_masked_and_amounts_written_in_won() {
        assert_eq!(mask_card(CARD), "53275000****123*");
        assert_eq!(card_digits("5327-5000-1234-1234").as_deref(), Some(CARD));
        assert_eq!(card_digits("532750001234123"), None);
        assert_eq!(card_digits("532750001234123x"), None);
        assert_eq!(won(0), "0");
        assert_eq!(won(12_000), "12,000");
        assert_eq!(won(1_234_567), "1,234,567");
        assert_eq!(vat_of(11_000), 1_000);
        assert_eq!(parse_birth("19900101"), Some(birth()));
        assert_eq!(parse_birth("19901350"), None);
        assert_eq!(parse_birth("1990011"), None);
        assert_eq!(parse_phone("010-1234-5678").as_deref(), Some("01012345678"));
        assert_eq!(parse_phone("02-123-4567"), None);
    }
}
