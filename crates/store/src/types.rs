//! Rows and changes. Everything personal in here is already sealed (`Vec<u8>` ciphertexts) or a
//! keyed digest; nothing here can hold a plaintext value.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PolicyVersionRow {
    pub version: String,
    pub policy_id: String,
    pub effective_date: NaiveDate,
    pub first_active_at: DateTime<Utc>,
    pub document: String,
    /// The published text (markdown) in Korean and English.
    pub text_ko: String,
    pub text_en: String,
}

/// A sealed item value.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedItem {
    pub item_id: String,
    pub sealed: Vec<u8>,
}

impl fmt::Debug for SealedItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SealedItem({}, {} bytes)",
            self.item_id,
            self.sealed.len()
        )
    }
}

/// A blind-index entry: `domain` is the item id (or `login`), `digest` its keyed HMAC.
#[derive(Clone, PartialEq, Eq)]
pub struct IndexEntry {
    pub domain: String,
    pub digest: Vec<u8>,
}

impl fmt::Debug for IndexEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IndexEntry({})", self.domain)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewConsentEvent {
    pub category: String,
    pub granted: bool,
    pub policy_version: String,
    pub channel: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ConsentEventRow {
    pub seq: i64,
    pub member_id: Uuid,
    pub category: String,
    pub granted: bool,
    pub policy_version: String,
    pub channel: String,
    pub at: DateTime<Utc>,
}

/// One audit event. Identifiers and item *names* only; never values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    /// `member:<uuid>`, `staff:<id>`, `service:<name>`, `system`, `cli`.
    pub actor: String,
    /// Where the actor acted from (an IP address for staff and services; `None` otherwise).
    pub origin: Option<String>,
    pub action: String,
    pub member_id: Option<Uuid>,
    pub items: Vec<String>,
    pub purpose: Option<String>,
    /// `ok` or `denied`.
    pub outcome: String,
    /// Extra non-personal facts as JSON (for example the reason a reveal was refused).
    pub detail: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditRow {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub origin: Option<String>,
    pub action: String,
    pub member_id: Option<Uuid>,
    pub items: String,
    pub purpose: Option<String>,
    pub outcome: String,
    pub detail: String,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

impl AuditRow {
    /// The bytes the chain link covers: every column but the hashes, in a fixed order.
    pub fn canonical_body(&self) -> Vec<u8> {
        canonical_body(
            self.seq,
            &self.at,
            &self.actor,
            self.origin.as_deref(),
            &self.action,
            self.member_id,
            &self.items,
            self.purpose.as_deref(),
            &self.outcome,
            &self.detail,
        )
    }
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn canonical_body(
    seq: i64,
    at: &str,
    actor: &str,
    origin: Option<&str>,
    action: &str,
    member_id: Option<Uuid>,
    items: &str,
    purpose: Option<&str>,
    outcome: &str,
    detail: &str,
) -> Vec<u8> {
    serde_json::json!([
        seq,
        at,
        actor,
        origin,
        action,
        member_id.map(|m| m.to_string()),
        items,
        purpose,
        outcome,
        detail
    ])
    .to_string()
    .into_bytes()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewJob {
    pub id: Uuid,
    pub kind: String,
    /// Non-personal payload (ids, item names); personal values never enter a job.
    pub payload: serde_json::Value,
    pub run_at: DateTime<Utc>,
    /// The message this job delivers, written to the outbox with the job (issue 14).
    #[serde(skip)]
    pub message: Option<NewMessage>,
}

/// A message for the outbox: what it is, to whom (a member id, never the address), and the
/// message itself sealed under its own key (`message:<id>`).
#[derive(Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub id: Uuid,
    pub kind: String,
    pub channel: String,
    pub member_id: Option<Uuid>,
    pub sealed: Vec<u8>,
}

impl fmt::Debug for NewMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "NewMessage({}, {}, {})",
            self.id, self.kind, self.channel
        )
    }
}

/// A message as the outbox keeps it. `sealed` is `None` once it is sent or given up.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OutboxRow {
    pub id: Uuid,
    pub kind: String,
    pub channel: String,
    pub member_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub state: String,
    pub attempts: i64,
    pub sealed: Option<Vec<u8>>,
    pub last_error: Option<String>,
    pub done_at: Option<DateTime<Utc>>,
}

impl fmt::Debug for OutboxRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "OutboxRow({}, {}, {}, {}, {} attempts)",
            self.id, self.kind, self.channel, self.state, self.attempts
        )
    }
}

/// How a delivery attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxOutcome {
    /// Delivered: the content is erased.
    Sent,
    /// Not delivered, worth another attempt; the content stays.
    Retry { error: String },
    /// Given up: the content is erased.
    Failed { error: String },
}

/// Which outbox records to list, the latest first.
#[derive(Debug, Clone, Default)]
pub struct OutboxFilter {
    pub member: Option<Uuid>,
    pub state: Option<String>,
    pub kind: Option<String>,
    pub limit: i64,
}

/// A biennial ad-consent reconfirmation notice, as recorded (R-MKT-04).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ReconfirmationRow {
    pub member_id: Uuid,
    pub category: String,
    pub due_on: NaiveDate,
    pub consent_at: DateTime<Utc>,
    pub sent_at: DateTime<Utc>,
    pub message_id: Option<Uuid>,
}

/// An order (issue 15): what was bought, for how much, and how far it got. Nothing personal.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OrderRow {
    /// The payment id PortOne knows.
    pub id: String,
    pub member_id: Option<Uuid>,
    pub product: String,
    pub order_name: String,
    pub amount: i64,
    pub currency: String,
    /// pending | paid | refused | failed | cancelled | partially_cancelled
    pub state: String,
    pub cancelled_amount: i64,
    pub created_at: DateTime<Utc>,
    pub settled_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    /// The payment record in the retention store.
    pub record_id: Option<Uuid>,
}

/// An event of the privacy office with prizes (issue 15, S3). Nothing personal.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PrizeEventRow {
    pub id: Uuid,
    pub title: String,
    pub prize: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

/// A winner of an event. The delivery items are sealed under the entry's own key.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PrizeWinnerRow {
    pub id: Uuid,
    pub event_id: Uuid,
    /// `None` once the member has left.
    pub member_id: Option<Uuid>,
    /// awaiting | entered | delivered | destroyed | withdrawn
    pub state: String,
    pub sealed: Option<Vec<u8>>,
    pub created_at: DateTime<Utc>,
    pub entered_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// The last KST day the items are kept (set on delivery).
    pub expires_on: Option<NaiveDate>,
    pub destroyed_at: Option<DateTime<Utc>>,
}

impl fmt::Debug for PrizeWinnerRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrizeWinnerRow({}, {})", self.id, self.state)
    }
}

/// A delivery to a partner (issue 17): a provision of a member's items, a correction of items
/// already provided, or the news that the member left (`withdrawal`) or withdrew the partner's
/// consent (`consent_withdrawn`). Item ids, never values.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PartnerDeliveryRow {
    pub id: Uuid,
    pub partner_id: String,
    pub kind: String,
    pub member_id: Uuid,
    /// The name the partner knows the member by (random, one per partner and member).
    pub reference: String,
    /// JSON array of item ids: those to provide (queued), then those that left.
    pub items: String,
    /// The policy version of the consent in force when the data left.
    pub consent_version: Option<String>,
    /// queued | acknowledged | skipped | failed
    pub state: String,
    pub attempts: i32,
    /// The partner's status, or why nothing was sent; never a value.
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub acknowledged_at: Option<DateTime<Utc>>,
}

impl fmt::Debug for PartnerDeliveryRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PartnerDeliveryRow({}, {}, {}, {})",
            self.id, self.partner_id, self.kind, self.state
        )
    }
}

/// An advertising campaign of the office (issue 17): the message for one channel (not
/// personal) and the first moment it may go.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AdCampaignRow {
    pub id: Uuid,
    /// `email` or `sms`.
    pub channel: String,
    pub subject: String,
    pub body: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub send_at: DateTime<Utc>,
}

/// A campaign sent to a member: no content, only which message carried it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdSendRow {
    pub campaign_id: Uuid,
    pub member_id: Uuid,
    pub channel: String,
    pub message_id: Uuid,
    pub queued_at: DateTime<Utc>,
}

/// A personal-data breach, confirmed or suspected (issue 17, R-BRE-01..03): the office's words
/// about it, never a member's data.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct IncidentRow {
    pub id: Uuid,
    /// suspected | confirmed | closed
    pub state: String,
    pub title: String,
    /// When the operator became aware of it: the 72-hour clock starts here.
    pub discovered_at: DateTime<Utc>,
    /// When and how it happened.
    pub occurred: String,
    /// JSON: the items involved, as the policy stated them when it was recorded (id, labels,
    /// sensitivity), so a later policy version changes neither the notices nor the report.
    pub items: String,
    /// Unauthorised access from outside (hacking).
    pub outside_attack: bool,
    pub cause: String,
    /// What the operator did and does about it.
    pub measures: String,
    /// What members can do to reduce the harm.
    pub advice: String,
    /// JSON: how its members were chosen.
    pub scope: String,
    /// How many members it involves.
    pub affected: i64,
    /// When the notices were started.
    pub notices_at: Option<DateTime<Utc>>,
    /// The incident's state when they were started.
    pub notices_state: Option<String>,
    /// When the confirmation of a breach first notified as suspected was started.
    pub followup_at: Option<DateTime<Utc>>,
    /// When the office recorded the report to the PIPC/KISA as submitted.
    pub reported_at: Option<DateTime<Utc>>,
    /// When the notice was posted on the website, for members without an address.
    pub posted_at: Option<DateTime<Utc>>,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

/// Which members an incident involves, chosen when it is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IncidentMembers {
    /// Every active member.
    Active,
    /// The members whose data `actor` was shown (`item.reveal`, `request.view`) with
    /// `from <= at < to` (RFC 3339 texts as the audit chain stores them).
    ShownTo {
        actor: String,
        from: String,
        to: String,
    },
}

/// What the office records, once, about an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncidentMark {
    /// The notice is posted on the website (`posted_at`).
    Posted,
    /// The report to the PIPC/KISA is submitted (`reported_at`).
    Reported,
}

/// Where an incident's notices stand.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IncidentProgress {
    pub affected: i64,
    /// Members whose notice was written (a message or, without an address, none).
    pub notified: i64,
    /// Notified members without an address to send to.
    pub no_address: i64,
    pub sent: i64,
    pub queued: i64,
    pub failed: i64,
}

/// The office's record of a processor (issue 17, R-CON-10): a contract (the day signed and the
/// duties it contains) or a check of the processor (the day and what was found).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ProcessorRecordRow {
    pub id: Uuid,
    pub processor_id: String,
    /// contract | check
    pub kind: String,
    pub on_day: NaiveDate,
    /// JSON array of the duties the contract contains (empty for a check).
    pub duties: String,
    pub note: String,
    /// `staff:<name>` or `cli`.
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

/// The office told every member about a partner and asked for its consent (issue 17, S15).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PartnerAskRow {
    pub id: Uuid,
    pub partner_id: String,
    pub asked_at: DateTime<Utc>,
    /// The staff member (`staff:<id>`) or `cli`.
    pub asked_by: String,
}

/// A child's request for a guardian's consent (issue 16). What it names is sealed under the
/// request's own key; the tokens are kept only as their SHA-256.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct GuardianRequestRow {
    pub id: Uuid,
    pub link_hash: Vec<u8>,
    pub child_hash: Vec<u8>,
    /// pending | consented | joined | refused | expired | withdrawn
    pub state: String,
    pub sealed: Option<Vec<u8>>,
    /// How the consent was verified (R-CHD-02), once given.
    pub method: Option<String>,
    /// The guardian's choices, JSON `{category: granted}`, once given.
    pub consents: Option<String>,
    pub policy_version: String,
    pub member_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub consented_at: Option<DateTime<Utc>>,
    pub joined_at: Option<DateTime<Utc>>,
    pub destroyed_at: Option<DateTime<Utc>>,
}

impl fmt::Debug for GuardianRequestRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GuardianRequestRow({}, {})", self.id, self.state)
    }
}

/// An account-recovery token as stored: only its SHA-256.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RecoveryTokenRow {
    pub token_hash: Vec<u8>,
    pub member_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

impl fmt::Debug for RecoveryTokenRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecoveryTokenRow({})", self.member_id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRow {
    pub id: Uuid,
    pub kind: String,
    pub payload: serde_json::Value,
    pub state: String,
    pub attempts: i64,
    pub run_at: DateTime<Utc>,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    Done,
    Retry {
        at: DateTime<Utc>,
        error: String,
    },
    Failed {
        error: String,
    },
    /// Claimed but not run (its batch ran out of time): queued again as before the claim, the
    /// claim's attempt given back.
    Release,
}

#[derive(Clone)]
pub struct NewMember {
    pub id: Uuid,
    pub login_index: Vec<u8>,
    pub login_sealed: Vec<u8>,
    pub password_hash: String,
    pub key_id: String,
    pub policy_version: String,
    pub at: DateTime<Utc>,
    pub items: Vec<SealedItem>,
    pub indexes: Vec<IndexEntry>,
    pub consents: Vec<NewConsentEvent>,
    pub audit: Vec<AuditEntry>,
    pub jobs: Vec<NewJob>,
    /// The consented guardian request of a child (issue 16): it becomes `joined` with this
    /// member in the same transaction, or nothing is written.
    pub guardian: Option<Uuid>,
}

impl fmt::Debug for NewMember {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NewMember({}, {} items)", self.id, self.items.len())
    }
}

#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MemberRow {
    pub id: Uuid,
    pub login_sealed: Vec<u8>,
    pub password_hash: String,
    pub key_id: String,
    pub status: String,
    pub policy_version: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl fmt::Debug for MemberRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MemberRow({}, {})", self.id, self.status)
    }
}

#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ItemRow {
    pub item_id: String,
    pub sealed: Vec<u8>,
    pub correction_pending: bool,
}

impl fmt::Debug for ItemRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ItemRow({})", self.item_id)
    }
}

/// A change to one active member, applied in one transaction.
#[derive(Debug, Default)]
pub struct MemberChange {
    pub member_id: Uuid,
    pub at: DateTime<Utc>,
    pub set_items: Vec<SealedItem>,
    pub remove_items: Vec<String>,
    /// Items whose pending-correction mark is set (true) or cleared (false).
    pub correction_marks: Vec<(String, bool)>,
    pub set_indexes: Vec<IndexEntry>,
    pub remove_indexes: Vec<String>,
    pub consents: Vec<NewConsentEvent>,
    pub password_hash: Option<String>,
    /// Ends every session of the member but this one (by token hash), in the same transaction.
    pub end_sessions_except: Option<Vec<u8>>,
    pub audit: Vec<AuditEntry>,
    pub jobs: Vec<NewJob>,
    /// Purposes the member's processing stops for (a suspension request granted).
    pub suspend_purposes: Vec<String>,
    /// A request of the privacy office filed or decided with this change, in the same
    /// transaction (a correction request holds its items; a correction answers its request).
    pub request: Option<RequestWrite>,
    /// An account-recovery token (its hash) used up by this change (a password reset): the
    /// change fails if the token is used, expired or another member's. Every other unused token
    /// of the member is used up with it.
    pub use_recovery: Option<Vec<u8>>,
}

/// A rights request or complaint, as the office keeps it (issue 13). Its content and answer are
/// sealed; `items` and `purpose` name policy entries, not personal values.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RequestRow {
    pub id: Uuid,
    pub kind: String,
    pub channel: String,
    pub member_id: Option<Uuid>,
    /// JSON array of item ids.
    pub items: String,
    pub purpose: Option<String>,
    pub sealed: Option<Vec<u8>>,
    pub answer_sealed: Option<Vec<u8>>,
    pub received_at: DateTime<Utc>,
    pub due_on: NaiveDate,
    pub state: String,
    pub assignee: Option<String>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

impl fmt::Debug for RequestRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RequestRow({}, {}, {})", self.id, self.kind, self.state)
    }
}

/// One step in a request's history.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RequestEventRow {
    pub seq: i64,
    pub request_id: Uuid,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub event: String,
    pub state: String,
    pub sealed: Option<Vec<u8>>,
}

impl fmt::Debug for RequestEventRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RequestEventRow({}, {})", self.request_id, self.event)
    }
}

/// A step to add to a request's history.
#[derive(Clone, Default)]
pub struct NewRequestEvent {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub event: String,
    pub state: String,
    pub sealed: Option<Vec<u8>>,
}

impl fmt::Debug for NewRequestEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NewRequestEvent({})", self.event)
    }
}

/// A change to an open request. Applied only while the request is open (`closed_at IS NULL`).
#[derive(Debug, Clone, Default)]
pub struct RequestUpdate {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub state: String,
    /// `Some(name)` assigns it.
    pub assignee: Option<String>,
    pub due_on: Option<NaiveDate>,
    pub answer_sealed: Option<Vec<u8>>,
    /// Closes it (answered or refused).
    pub close: bool,
    /// Erases the sealed content and answer (their key is destroyed after the commit too).
    pub erase_content: bool,
    pub event: NewRequestEvent,
    /// Jobs (the notice to the requester) written with the change, when it is applied on its
    /// own (`RequestStore::update_request`); with a member's change, the change carries them.
    pub jobs: Vec<NewJob>,
}

/// A request written with a member's change or on its own.
#[derive(Debug, Clone)]
pub enum RequestWrite {
    New {
        row: RequestRow,
        receipt_index: Option<Vec<u8>>,
        event: NewRequestEvent,
    },
    Update(RequestUpdate),
}

/// A signed monthly review of the access log.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AccessReviewRow {
    /// `YYYY-MM` (KST).
    pub month: String,
    pub reviewer: String,
    pub reviewed_at: DateTime<Utc>,
    pub entries: i64,
    pub flagged: i64,
    pub notes_sealed: Option<Vec<u8>>,
}

impl fmt::Debug for AccessReviewRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccessReviewRow({}, {})", self.month, self.reviewer)
    }
}

/// Which requests to list.
#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    pub open_only: bool,
    pub assignee: Option<String>,
    pub member_id: Option<Uuid>,
}

/// A record the law requires to keep after withdrawal, sealed under a retention bucket key.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RetainedRecord {
    pub id: Uuid,
    pub class: String,
    pub bucket: String,
    pub key_id: String,
    pub expires_on: NaiveDate,
    pub receipt_index: Vec<u8>,
    pub sealed: Vec<u8>,
    pub created_at: DateTime<Utc>,
    /// A legal hold's reason while one is in force (never set on insert).
    #[sqlx(default)]
    pub hold_reason: Option<String>,
}

impl fmt::Debug for RetainedRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RetainedRecord({}, {}, {})",
            self.id, self.class, self.expires_on
        )
    }
}

pub type RetainedRow = RetainedRecord;

/// Proof of a destruction, without personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct DestructionRecord {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    /// `withdrawal`, `purge`, `consent_withdrawal`.
    pub event: String,
    /// Retention class (or `membership` for live data).
    pub class: String,
    pub period: String,
    pub count: i64,
    /// `key_destruction`, `deletion`.
    pub method: String,
    pub actor: String,
    /// The purge run that wrote it (`None` for a withdrawal).
    pub run_id: Option<Uuid>,
}

/// A retained record without its content: what the privacy office and a purge see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct RetainedMeta {
    pub id: Uuid,
    pub class: String,
    pub bucket: String,
    pub expires_on: NaiveDate,
    pub created_at: DateTime<Utc>,
    /// The legal hold's reason while one is in force.
    pub hold_reason: Option<String>,
    pub held_at: Option<DateTime<Utc>>,
    pub held_by: Option<String>,
}

/// The records of one bucket (every record sealed under one retention key) that expire on one
/// day, with how many of them are held.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RetentionBucket {
    pub class: String,
    pub bucket: String,
    pub expires_on: NaiveDate,
    pub records: i64,
    pub held: i64,
}

/// One class's share of a grouped purge transaction
/// ([`purge_retained_buckets`](crate::RetentionStore::purge_retained_buckets)): its buckets, and
/// the run's destruction record for the class, to which the deleted rows are added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketPurge {
    pub class: String,
    pub buckets: Vec<String>,
    pub record: DestructionRecord,
}

/// Places or lifts a legal hold, in one transaction with its audit entry. Placing a hold moves
/// the record under a key of its own (`resealed`), so that its bucket can still be destroyed
/// whole when it expires.
#[derive(Debug)]
pub struct HoldChange {
    pub record_id: Uuid,
    /// `Some((reason, by, at))` places a hold; `None` lifts it.
    pub hold: Option<(String, String, DateTime<Utc>)>,
    pub resealed: Option<Resealed>,
    pub audit: Vec<AuditEntry>,
}

/// A record's new bucket, key id and ciphertext.
#[derive(Clone, PartialEq, Eq)]
pub struct Resealed {
    pub bucket: String,
    pub key_id: String,
    pub sealed: Vec<u8>,
}

impl fmt::Debug for Resealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Resealed({})", self.bucket)
    }
}

#[derive(Debug)]
pub struct Withdrawal {
    pub member_id: Uuid,
    pub at: DateTime<Utc>,
    pub retained: Vec<RetainedRecord>,
    /// The withdrawal receipt's index: the member's payment records are filed under it, and
    /// their orders' link to the member is cut, in the same transaction.
    pub receipt_index: Vec<u8>,
    pub destruction: Vec<DestructionRecord>,
    pub audit: Vec<AuditEntry>,
    pub jobs: Vec<NewJob>,
    /// The withdrawal request this withdrawal answers, closed in the same transaction.
    pub request: Option<RequestWrite>,
}

/// A session as stored: the token itself is never stored, only its hash.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionRow {
    pub token_hash: Vec<u8>,
    pub member_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub auth_at: DateTime<Utc>,
}

impl fmt::Debug for SessionRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionRow(member {})", self.member_id)
    }
}

/// A staff account of the privacy office as stored (issue 13). The enrolment token, the password
/// and the TOTP secret are stored only as a hash, an Argon2id hash and a sealed value.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StaffRow {
    pub name: String,
    pub role: String,
    pub password_hash: Option<String>,
    pub totp_sealed: Option<Vec<u8>>,
    /// The last TOTP time step accepted: a code of that step or an earlier one is not taken again.
    pub totp_step: i64,
    pub enrol_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub enrolled_at: Option<DateTime<Utc>>,
    pub disabled_at: Option<DateTime<Utc>>,
}

impl fmt::Debug for StaffRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StaffRow({}, {})", self.name, self.role)
    }
}

/// A new staff account: its name, role, sealed TOTP secret and one-time enrolment token's hash.
#[derive(Clone)]
pub struct NewStaff {
    pub name: String,
    pub role: String,
    pub totp_sealed: Vec<u8>,
    pub enrol_hash: Vec<u8>,
    pub enrol_expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

impl fmt::Debug for NewStaff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NewStaff({}, {})", self.name, self.role)
    }
}

/// One grant, change or revocation of a staff account's rights (R-ACC-02), never deleted.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StaffGrant {
    pub at: DateTime<Utc>,
    pub name: String,
    /// `grant`, `role`, `reset` or `revoke`.
    pub change: String,
    /// The role after the change (for `revoke`, the role the account had).
    pub role: String,
    /// Who made the change (an audit actor name).
    pub actor: String,
}

/// A staff session as stored (only the token's hash).
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StaffSessionRow {
    pub token_hash: Vec<u8>,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl fmt::Debug for StaffSessionRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StaffSessionRow({})", self.name)
    }
}

/// What a staff login proved its second factor with: a TOTP code of `step` (taken only if the
/// account's last accepted step is earlier), or an unused recovery code (its hash).
#[derive(Debug, Clone)]
pub enum SecondFactor {
    Totp { step: i64 },
    Recovery { code_hash: Vec<u8> },
}

/// A change to a staff account (with its grant record and audit entry).
#[derive(Clone)]
pub enum StaffChange {
    /// A new role.
    Role(String),
    /// Back to enrolment: a new TOTP secret and enrolment token; the password, recovery codes
    /// and sessions go.
    Reset {
        totp_sealed: Vec<u8>,
        enrol_hash: Vec<u8>,
        enrol_expires_at: DateTime<Utc>,
    },
    /// Revoked: the account logs in no more and its sessions end.
    Disable,
}

impl fmt::Debug for StaffChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StaffChange::Role(r) => write!(f, "Role({r})"),
            StaffChange::Reset { .. } => f.write_str("Reset"),
            StaffChange::Disable => f.write_str("Disable"),
        }
    }
}
