//! Payments (S2) through PortOne (issue 15).
//!
//! The server makes the order — the product and its amount come from the operator's catalogue,
//! never from the browser — and PortOne's payment window opens with the order's id. The order is
//! settled only from what PortOne itself says (`GET /payments/{id}`, on the window's return and on
//! the webhook, whichever comes first; the second finds it settled): paid when the status is
//! `PAID`, the currency KRW and the amount the order's; a payment of another amount is refused
//! and cancelled whole. A paid order writes its payment record — what the gateway returned, the
//! card number masked as PortOne masks it — sealed into the retention store (class
//! `payment_records`, 5 years from the payment: 전자상거래법 시행령 제6조), in the transaction
//! that settles it; it is kept while the member stays and after they leave, and purged the day
//! after its period. A cancellation (full or partial) asks PortOne with the amount that must
//! remain (`currentCancellableAmount`) and writes its own record.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
pub use jikimi_store::OrderRow;
use jikimi_store::RetainedRecord;
use rand::RngCore;
use serde::Serialize;
use uuid::Uuid;

use crate::portone::{Cancelled, PaymentAnswer, PortOne, WebhookRefusal, masked_card};
use crate::{Actor, CoreError, Jikimi, Result};

/// A secret in memory that is wiped when dropped.
pub type Secret = zeroize::Zeroizing<String>;

/// How many days after the day of payment a member may withdraw the offer themself
/// (전자상거래법 제17조제1항: 7 days).
pub const OFFER_WITHDRAWAL_DAYS: u64 = 7;

/// The retention class of payment records.
pub const PAYMENT_CLASS: &str = "payment_records";
/// The retention class of contract and withdrawal-of-offer records.
pub const CONTRACT_CLASS: &str = "contract_records";

/// A paid service of the site: its id, its name in both languages, its price in won.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub id: String,
    pub name_ko: String,
    pub name_en: String,
    pub amount: i64,
}

/// The catalogue file (`serve --products FILE`):
///
/// ```toml
/// [[product]]
/// id = "consulting"
/// name_ko = "재무 상담 1회"
/// name_en = "One financial consultation"
/// amount = 9900
/// ```
///
/// Ids are unique (letters, digits, `-`, `_`), names non-empty, amounts from 100 to 10,000,000
/// won. Errors name the product and the rule.
pub fn catalogue_from_toml(src: &str) -> Result<Vec<Product>> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct File {
        #[serde(default)]
        product: Vec<Entry>,
    }
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Entry {
        id: String,
        name_ko: String,
        name_en: String,
        amount: i64,
    }
    let bad = |e: String| CoreError::Setup(format!("products: {e}"));
    let file: File = toml::from_str(src).map_err(|e| bad(e.message().to_owned()))?;
    let mut out: Vec<Product> = Vec::new();
    for e in file.product {
        let id = e.id.trim().to_owned();
        if id.is_empty()
            || id.len() > 64
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(bad(format!(
                "product {id:?}: the id must be letters, digits, '-' or '_'"
            )));
        }
        if out.iter().any(|p| p.id == id) {
            return Err(bad(format!("product {id:?}: the id appears twice")));
        }
        if e.name_ko.trim().is_empty() || e.name_en.trim().is_empty() {
            return Err(bad(format!(
                "product {id:?}: name_ko and name_en are needed"
            )));
        }
        if !(100..=10_000_000).contains(&e.amount) {
            return Err(bad(format!(
                "product {id:?}: the amount must be from 100 to 10,000,000 won"
            )));
        }
        out.push(Product {
            id,
            name_ko: e.name_ko.trim().to_owned(),
            name_en: e.name_en.trim().to_owned(),
            amount: e.amount,
        });
    }
    if out.is_empty() {
        return Err(bad("no [[product]]".into()));
    }
    Ok(out)
}

/// What `serve` is told about payments: PortOne, the payment channel, the webhook secret and
/// the catalogue.
#[derive(Clone)]
pub struct PaymentSetup {
    pub portone: Arc<PortOne>,
    /// The payment channel's key (`channel-key-…`), for the window.
    pub channel_key: String,
    /// The webhook secret (`whsec_…`) from PortOne's console.
    pub webhook_secret: Option<Secret>,
    pub products: Vec<Product>,
}

impl fmt::Debug for PaymentSetup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PaymentSetup({:?}, {} products)",
            self.portone,
            self.products.len()
        )
    }
}

/// An order's states.
pub mod state {
    pub const PENDING: &str = "pending";
    pub const PAID: &str = "paid";
    /// Paid with another amount than the order's: cancelled whole.
    pub const REFUSED: &str = "refused";
    pub const FAILED: &str = "failed";
    pub const CANCELLED: &str = "cancelled";
    pub const PARTIALLY_CANCELLED: &str = "partially_cancelled";
}

/// A payment record as the retention store keeps it (sealed): the order, the amount, when, and
/// the means as the gateway returned it — masked.
#[derive(Debug, Serialize)]
struct PaymentRecord<'a> {
    class: &'a str,
    event: &'a str,
    order: &'a str,
    member: Option<Uuid>,
    product: &'a str,
    order_name: &'a str,
    amount: i64,
    currency: &'a str,
    at: DateTime<Utc>,
    method: Option<String>,
    card_publisher: Option<String>,
    card_issuer: Option<String>,
    card_name: Option<String>,
    card_number_masked: Option<String>,
    installment_months: Option<i64>,
    bank: Option<String>,
    receipt_url: Option<String>,
    transaction: Option<String>,
    reason: Option<&'a str>,
}

/// What a record records: the event (`paid`, `cancelled`, `offer_withdrawn`), its amount and
/// the reason given.
#[derive(Debug, Clone, Copy)]
struct Event<'a> {
    name: &'a str,
    amount: i64,
    reason: Option<&'a str>,
}

fn random_id(prefix: &str) -> String {
    use base64::Engine;
    let mut raw = [0u8; 18];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
    )
}

fn entry(at: DateTime<Utc>, actor: &Actor, action: &str, o: &OrderRow) -> jikimi_store::AuditEntry {
    jikimi_store::AuditEntry {
        at,
        actor: actor.audit_name(),
        origin: None,
        action: action.to_owned(),
        member_id: o.member_id,
        items: vec![],
        purpose: None,
        outcome: "ok".into(),
        detail: serde_json::json!({ "order": o.id, "state": o.state, "amount": o.amount,
            "cancelled": o.cancelled_amount }),
    }
}

impl Jikimi {
    pub fn payments(&self) -> Option<&PaymentSetup> {
        self.inner.payments.as_ref()
    }

    fn payment_setup(&self) -> Result<&PaymentSetup> {
        self.payments()
            .ok_or(CoreError::NotFound("payments are not configured"))
    }

    /// The catalogue's product `id`.
    pub fn product(&self, id: &str) -> Option<&Product> {
        self.payments()?.products.iter().find(|p| p.id == id)
    }

    /// Makes an order of `product` for `member`: its id (the payment id PortOne's window opens
    /// with) and its amount, from the catalogue.
    pub async fn create_order(&self, member: Uuid, product: &str) -> Result<OrderRow> {
        self.payment_setup()?;
        let Some(p) = self.product(product).cloned() else {
            return Err(CoreError::field(
                "product",
                "product.unknown",
                "판매하지 않는 상품입니다",
                "this product is not for sale",
            ));
        };
        if self.store().member(member).await?.is_none() {
            return Err(CoreError::NotFound("member"));
        }
        let now = self.clock().now();
        let order = OrderRow {
            id: random_id("jikimi-pay-"),
            member_id: Some(member),
            product: p.id.clone(),
            order_name: p.name_ko.clone(),
            amount: p.amount,
            currency: "KRW".into(),
            state: state::PENDING.into(),
            cancelled_amount: 0,
            created_at: now,
            settled_at: None,
            updated_at: now,
            record_id: None,
        };
        let audit = entry(now, &Actor::Member(member), "order.create", &order);
        self.store()
            .insert_order(order.clone(), vec![audit])
            .await?;
        Ok(order)
    }

    pub async fn order(&self, id: &str) -> Result<Option<OrderRow>> {
        Ok(self.store().order(id.trim()).await?)
    }

    pub async fn member_orders(&self, member: Uuid) -> Result<Vec<OrderRow>> {
        Ok(self.store().member_orders(member).await?)
    }

    /// Settles a pending order from what PortOne says about its payment (the window's return,
    /// a webhook, or a check later): paid, refused (another amount: cancelled whole), failed,
    /// or still pending (the window was not finished). An order already settled is returned
    /// as it is.
    pub async fn settle_order(&self, id: &str) -> Result<OrderRow> {
        let setup = self.payment_setup()?;
        let Some(order) = self.store().order(id.trim()).await? else {
            return Err(CoreError::NotFound("order"));
        };
        if order.state != state::PENDING {
            return Ok(order);
        }
        let Some(payment) = setup.portone.payment(&order.id).await? else {
            return Ok(order);
        };
        let now = self.clock().now();
        let mut next = order.clone();
        next.updated_at = now;
        let mut records = Vec::new();
        match payment.status.as_str() {
            "PAID" => {
                let total = payment.amount.as_ref().map(|a| a.total);
                let currency_ok = payment.currency.as_deref() == Some("KRW");
                if total == Some(order.amount) && currency_ok {
                    next.state = state::PAID.into();
                    next.settled_at = Some(now);
                    let record = self
                        .payment_record(
                            PAYMENT_CLASS,
                            &order,
                            &payment,
                            Event {
                                name: "paid",
                                amount: order.amount,
                                reason: None,
                            },
                            now,
                        )
                        .await?;
                    next.record_id = record.as_ref().map(|r| r.id);
                    records.extend(record);
                } else {
                    // Paid, but not what the server asked: the window's amount was changed.
                    // Nothing is fulfilled, and the payment is cancelled whole.
                    tracing::warn!(
                        order = %order.id,
                        "a payment's amount differs from its order's; cancelling it"
                    );
                    let paid = total.unwrap_or(0);
                    let cancelled = setup
                        .portone
                        .cancel_payment(&order.id, None, paid, "주문 금액과 결제 금액이 다릅니다")
                        .await?;
                    next.state = state::REFUSED.into();
                    next.settled_at = Some(now);
                    if let Cancelled::Succeeded { amount, .. } = cancelled {
                        next.cancelled_amount = amount;
                    }
                }
            }
            "FAILED" | "CANCELLED" => {
                next.state = state::FAILED.into();
                next.settled_at = Some(now);
            }
            _ => return Ok(order),
        }
        let audit = entry(now, &Actor::System, "order.settle", &next);
        if self
            .store()
            .update_order(&next, state::PENDING, records, vec![audit])
            .await?
        {
            Ok(next)
        } else {
            // Settled meanwhile by the other path (return or webhook).
            self.store()
                .order(&order.id)
                .await?
                .ok_or(CoreError::NotFound("order"))
        }
    }

    /// Cancels (refunds) `amount` of a paid order — all of what remains with `None` — through
    /// PortOne, and records it. Refused: an order not paid, an amount over what remains, or
    /// PortOne's refusal (its error type in the message).
    pub async fn cancel_order(
        &self,
        actor: &Actor,
        id: &str,
        amount: Option<i64>,
        reason: &str,
    ) -> Result<OrderRow> {
        self.refund(actor, id, amount, reason, false).await
    }

    /// The member withdraws the offer (청약철회, 전자상거래법 제17조): all of what remains is
    /// refunded, and besides the refund's payment record a contract record is kept (class
    /// `contract_records`, if the policy keeps it).
    pub async fn withdraw_offer(&self, actor: &Actor, id: &str, reason: &str) -> Result<OrderRow> {
        self.refund(actor, id, None, reason, true).await
    }

    /// The last KST day the member may still withdraw the offer of a paid order themself (7 days
    /// from the payment's day, 전자상거래법 제17조제1항), if that day has not passed. Only a
    /// whole payment (nothing refunded yet); otherwise the member asks the privacy office.
    pub fn offer_withdrawable_until(&self, o: &OrderRow) -> Option<chrono::NaiveDate> {
        if o.state != state::PAID {
            return None;
        }
        let last = jikimi_kr::kst_today(o.settled_at?)
            .checked_add_days(chrono::Days::new(OFFER_WITHDRAWAL_DAYS))?;
        (self.clock().today_kst() <= last).then_some(last)
    }

    /// The member withdraws the offer of their own paid order (청약철회) within
    /// [`OFFER_WITHDRAWAL_DAYS`]: the whole payment is refunded through PortOne, with a payment
    /// record and a contract record, as when the office does it.
    pub async fn withdraw_own_offer(&self, member: Uuid, id: &str) -> Result<OrderRow> {
        let order = match self.store().order(id.trim()).await? {
            Some(o) if o.member_id == Some(member) => o,
            _ => return Err(CoreError::NotFound("order")),
        };
        if self.offer_withdrawable_until(&order).is_none() {
            return Err(CoreError::Conflict(format!(
                "order {} can no longer be withdrawn by the member (paid more than {OFFER_WITHDRAWAL_DAYS} days ago, or not paid whole)",
                order.id
            )));
        }
        self.refund(
            &Actor::Member(member),
            &order.id,
            None,
            "회원의 청약철회 (전자상거래법 제17조)",
            true,
        )
        .await
    }

    async fn refund(
        &self,
        actor: &Actor,
        id: &str,
        amount: Option<i64>,
        reason: &str,
        offer_withdrawn: bool,
    ) -> Result<OrderRow> {
        let setup = self.payment_setup()?;
        let Some(order) = self.store().order(id.trim()).await? else {
            return Err(CoreError::NotFound("order"));
        };
        if order.state != state::PAID && order.state != state::PARTIALLY_CANCELLED {
            return Err(CoreError::Conflict(format!(
                "order {} is {}, not paid",
                order.id, order.state
            )));
        }
        let remaining = order.amount - order.cancelled_amount;
        let asked = amount.unwrap_or(remaining);
        if asked <= 0 || asked > remaining {
            return Err(CoreError::field(
                "amount",
                "amount.range",
                format!("취소 금액은 1원부터 남은 금액 {remaining}원까지입니다"),
                format!("the amount to cancel must be from 1 to the {remaining} won that remain"),
            ));
        }
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 200 {
            return Err(CoreError::field(
                "reason",
                "reason.length",
                "취소 사유를 200자 이내로 적어 주세요",
                "give the reason in at most 200 characters",
            ));
        }
        let done = setup
            .portone
            .cancel_payment(&order.id, Some(asked), remaining, reason)
            .await?;
        let amount = match done {
            Cancelled::Succeeded { amount, .. } => amount,
            Cancelled::Requested => {
                return Err(CoreError::Conflict(
                    "PortOne accepted the cancellation for later; its webhook settles it".into(),
                ));
            }
            Cancelled::Refused(kind) => {
                return Err(CoreError::Conflict(format!("PortOne refused: {kind}")));
            }
        };
        let now = self.clock().now();
        let mut next = order.clone();
        next.cancelled_amount += amount;
        next.state = if next.cancelled_amount >= next.amount {
            state::CANCELLED.into()
        } else {
            state::PARTIALLY_CANCELLED.into()
        };
        next.updated_at = now;
        let payment = setup.portone.payment(&order.id).await.ok().flatten();
        let mut records: Vec<RetainedRecord> = Vec::new();
        if let Some(p) = &payment {
            records.extend(
                self.payment_record(
                    PAYMENT_CLASS,
                    &order,
                    p,
                    Event {
                        name: "cancelled",
                        amount,
                        reason: Some(reason),
                    },
                    now,
                )
                .await?,
            );
            // A withdrawal of the offer (청약철회) is a contract record too.
            if offer_withdrawn {
                records.extend(
                    self.payment_record(
                        CONTRACT_CLASS,
                        &order,
                        p,
                        Event {
                            name: "offer_withdrawn",
                            amount,
                            reason: Some(reason),
                        },
                        now,
                    )
                    .await?,
                );
            }
        }
        let action = if offer_withdrawn {
            "order.offer_withdrawn"
        } else {
            "order.cancel"
        };
        let audit = entry(now, actor, action, &next);
        if !self
            .store()
            .update_order(&next, &order.state, records, vec![audit])
            .await?
        {
            return Err(CoreError::Conflict(
                "the order changed meanwhile; look again".into(),
            ));
        }
        Ok(next)
    }

    /// A payment event's record for the retention store (none if the policy keeps no
    /// `payment_records`).
    async fn payment_record(
        &self,
        class: &str,
        order: &OrderRow,
        p: &PaymentAnswer,
        what: Event<'_>,
        now: DateTime<Utc>,
    ) -> Result<Option<RetainedRecord>> {
        let Event {
            name: event,
            amount,
            reason,
        } = what;
        let Some(class) = self.policy().retention_class(class).cloned() else {
            return Ok(None);
        };
        let Some(expires_on) = class.period.expires_on(self.clock().today_kst()) else {
            return Ok(None);
        };
        // Only what the policy's payment items declare is kept (the published policy lists them).
        let declared = |kind: jikimi_policy::ItemKind| {
            self.policy()
                .items_in(jikimi_policy::Context::Payment)
                .any(|i| i.kind == kind)
        };
        let (card_company, card_number, installment, bank) = (
            declared(jikimi_policy::ItemKind::CardType),
            declared(jikimi_policy::ItemKind::CardNumber),
            declared(jikimi_policy::ItemKind::Installment),
            declared(jikimi_policy::ItemKind::BankName),
        );
        let method = p.method.as_ref();
        let card = method.and_then(|m| m.card.as_ref());
        let record = PaymentRecord {
            class: &class.id,
            event,
            order: &order.id,
            member: order.member_id,
            product: &order.product,
            order_name: &order.order_name,
            amount,
            currency: &order.currency,
            at: now,
            method: method.map(|m| m.kind.clone()),
            card_publisher: card
                .filter(|_| card_company)
                .and_then(|c| c.publisher.clone()),
            card_issuer: card.filter(|_| card_company).and_then(|c| c.issuer.clone()),
            card_name: card.filter(|_| card_company).and_then(|c| c.name.clone()),
            card_number_masked: card
                .filter(|_| card_number)
                .and_then(|c| c.number.as_deref().and_then(masked_card)),
            installment_months: method
                .filter(|_| installment)
                .and_then(|m| m.installment.as_ref().map(|i| i.month)),
            bank: method.filter(|_| bank).and_then(|m| m.bank.clone()),
            receipt_url: p.receipt_url.clone(),
            transaction: p.transaction_id.clone(),
            reason,
        };
        let plain = zeroize::Zeroizing::new(
            serde_json::to_vec(&record)
                .map_err(|e| CoreError::Setup(format!("payment record: {e}")))?,
        );
        let (bucket, key) = self.keyring().retention_key(&class.id, expires_on).await?;
        let id = crate::requests::uuid_v7(now);
        let code = crate::withdrawal::receipt_code("JKP");
        Ok(Some(RetainedRecord {
            id,
            class: class.id.clone(),
            bucket,
            key_id: key.id().to_string(),
            expires_on,
            receipt_index: crate::withdrawal::receipt_index(self, &code),
            sealed: key.seal(&id.to_string(), &class.id, &plain)?,
            created_at: now,
            hold_reason: None,
        }))
    }

    /// A webhook from PortOne: verified (signature and time), handled once per webhook id
    /// (a retried delivery is acknowledged without acting again). A paid or cancelled payment's
    /// order is settled from PortOne's own answer, never from the webhook's body.
    pub async fn payment_webhook(
        &self,
        id: Option<&str>,
        timestamp: Option<&str>,
        signature: Option<&str>,
        body: &[u8],
    ) -> std::result::Result<(), WebhookError> {
        let setup = self.payment_setup().map_err(WebhookError::Core)?;
        let Some(secret) = setup.webhook_secret.as_ref() else {
            return Err(WebhookError::Refused(WebhookRefusal::BadSignature));
        };
        let hook = crate::portone::verify_webhook(
            secret,
            id,
            timestamp,
            signature,
            body,
            self.clock().now(),
        )
        .map_err(WebhookError::Refused)?;
        if !self
            .store()
            .webhook_seen(&hook.id, self.clock().now())
            .await
            .map_err(|e| WebhookError::Core(e.into()))?
        {
            return Ok(());
        }
        let Some(payment) = hook.payment_id.as_deref() else {
            return Ok(());
        };
        match hook.kind.as_str() {
            "Transaction.Paid" | "Transaction.Failed" => {
                match self.settle_order(payment).await {
                    // A payment of another site's order (or one made elsewhere): nothing to do.
                    Ok(_) | Err(CoreError::NotFound(_)) => Ok(()),
                    Err(e) => Err(WebhookError::Core(e)),
                }
            }
            _ => Ok(()),
        }
    }
}

/// Why a webhook was not acted on.
#[derive(Debug)]
pub enum WebhookError {
    /// Not PortOne's, or too old: 400, and PortOne does not retry forever.
    Refused(WebhookRefusal),
    /// A failure on this side: 5xx, so PortOne delivers it again.
    Core(CoreError),
}
