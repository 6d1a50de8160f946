//! Rights requests and complaints (issue 13; PIPA Art. 35–38, R-DSR-01..04): every request is a
//! ticket with a kind, the channel it came by, when it was received, a deadline of 10 days, a
//! state, an assignee, a history and an answer.
//!
//! - A member files from My page ([`Jikimi::file_own_request`]); staff record what came by
//!   letter, phone, e-mail or fax, with how the requester's identity was checked and an agent's
//!   power of attorney ([`Jikimi::record_request`]); anyone sends an opinion or complaint through
//!   the public form ([`Jikimi::file_complaint`]) and is given a receipt code to see the answer.
//! - A correction request holds the items it names from the moment it is filed, in the same
//!   transaction (S8), until it is decided: corrected ([`Jikimi::correct_for_request`]), answered
//!   or refused.
//! - The deadline is the KST day of receipt plus 10 (the first day is not counted); from the day
//!   after it the request is overdue. An extension (once, 10 more days) or a refusal records the
//!   reason, the legal basis and how to object (R-DSR-03).
//! - What the requester wrote, the values asked for and the answer are sealed: under the
//!   member's key for a member's request (leaving destroys them with the rest), else under a key
//!   of the request's own. A complaint's record moves to the `complaint_records` retention class
//!   when it is answered and that key is destroyed.
//! - Handlers see only the requests assigned to them; managers and the officer all; auditors none
//!   ([`crate::staff::Power`]). Every view and step is an audit entry under the staff account.

use std::collections::BTreeMap;

use chrono::{DateTime, Days, NaiveDate, Utc};
use jikimi_policy::Lang;
use jikimi_store::{
    AuditEntry, MemberChange, NewRequestEvent, RequestFilter, RequestRow, RequestUpdate,
    RequestWrite, RetainedRecord, StoreError,
};
use jikimi_vault::{DataKey, Revealed};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::limits::{Action, Scope};
use crate::members::LOGIN_DOMAIN;
use crate::staff::{Power, StaffSession};
use crate::{Actor, CoreError, FieldError, Jikimi, Result, SessionInfo};

/// Days from receipt to the deadline (PIPA Enforcement Decree Art. 41(4), 43(3), 44(2)).
pub const ANSWER_DAYS: u64 = 10;
/// The retention class a closed complaint's record goes to.
pub const COMPLAINT_CLASS: &str = "complaint_records";
/// The longest text a request may carry.
const TEXT_MAX: usize = 4000;
/// The purpose under which staff open a request and a member's items for it.
pub const REQUEST_PURPOSE: &str = "office_request";

macro_rules! named_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $text:literal, $ko:literal, $en:literal;)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant,)* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            pub fn name(self) -> &'static str {
                match self { $($name::$variant => $text,)* }
            }

            pub fn parse(text: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|v| v.name() == text.trim())
            }

            pub fn label(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $(($name::$variant, Lang::Ko) => $ko,)*
                    $(($name::$variant, Lang::En) => $en,)*
                }
            }
        }
    };
}

named_enum! {
    /// What is asked.
    RequestKind {
        Access = "access", "열람", "Access";
        Correction = "correction", "정정·삭제", "Correction or erasure";
        Suspension = "suspension", "처리정지", "Stop processing";
        ConsentWithdrawal = "consent_withdrawal", "동의 철회", "Consent withdrawal";
        Withdrawal = "withdrawal", "회원 탈퇴", "Leaving";
        Complaint = "complaint", "의견·불만", "Opinion or complaint";
    }
}

named_enum! {
    /// How the request reached the office.
    Channel {
        MyPage = "mypage", "개인정보수정 화면", "My page";
        Web = "web", "누리집 양식", "Web form";
        Letter = "letter", "서면", "Letter";
        Phone = "phone", "전화", "Phone";
        Email = "email", "전자우편", "E-mail";
        Fax = "fax", "팩스", "Fax";
    }
}

named_enum! {
    /// Where a request stands.
    RequestState {
        Received = "received", "접수", "Received";
        InProgress = "in_progress", "처리 중", "In progress";
        Extended = "extended", "연장", "Extended";
        Answered = "answered", "답변 완료", "Answered";
        Refused = "refused", "거절", "Refused";
    }
}

impl RequestKind {
    /// What a member may file from My page (a complaint goes through the public form).
    pub const MEMBER: [RequestKind; 5] = [
        RequestKind::Access,
        RequestKind::Correction,
        RequestKind::Suspension,
        RequestKind::ConsentWithdrawal,
        RequestKind::Withdrawal,
    ];
}

impl Channel {
    /// The channels staff record a request from.
    pub const OFFICE: [Channel; 4] = [
        Channel::Letter,
        Channel::Phone,
        Channel::Email,
        Channel::Fax,
    ];
}

/// How to reach someone who sent a complaint (only as much as they want to give).
#[derive(Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Contact {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub email: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub phone: String,
}

impl Contact {
    fn is_empty(&self) -> bool {
        self.name.is_empty() && self.email.is_empty() && self.phone.is_empty()
    }
}

/// Someone acting for the member: a legal guardian or an agent with a power of attorney.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Agent {
    pub name: String,
    pub relation: String,
    /// The power of attorney (위임장) was received and checked.
    pub attorney: bool,
}

/// What the request says: sealed.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct RequestContent {
    #[serde(default)]
    pub text: String,
    /// A correction's wanted values by item id (empty: erase the item).
    #[serde(default)]
    pub wanted: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
    /// How staff checked the requester's identity (a request by letter, phone, e-mail or fax).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_check: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<Agent>,
}

/// `Debug` that shows no personal data.
macro_rules! redacted_debug {
    ($($t:ident),*) => {$(
        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($t), "(<redacted>)"))
            }
        }
    )*};
}

redacted_debug!(
    RequestContent,
    Contact,
    Agent,
    Notice,
    OwnRequest,
    OfficeEntry
);

/// An answer, an extension notice or a refusal, as the requester is told.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Notice {
    pub text: String,
    /// The legal basis (an extension or a refusal).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub basis: String,
    /// How to object (an extension or a refusal).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub objection: String,
}

/// One step of a request's history.
#[derive(Debug, Clone, Serialize)]
pub struct RequestEvent {
    pub at: DateTime<Utc>,
    /// `member`, `staff:<name>`, `public`, `cli`.
    pub actor: String,
    /// `filed`, `assigned`, `extended`, `corrected`, `answered`, `refused`.
    pub event: String,
    pub state: RequestState,
    /// The notice it gave (an extension, an answer, a refusal), if still readable.
    pub notice: Option<Notice>,
}

/// A request as the office or its member sees it.
#[derive(Debug, Clone, Serialize)]
pub struct RequestView {
    pub id: Uuid,
    pub kind: RequestKind,
    pub channel: Channel,
    pub member: Option<Uuid>,
    pub items: Vec<String>,
    pub purpose: Option<String>,
    pub received_at: DateTime<Utc>,
    pub due_on: NaiveDate,
    pub state: RequestState,
    pub assignee: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Open past its deadline (KST), as of now.
    pub overdue: bool,
    /// Days left to the deadline (negative: days overdue), for an open request.
    pub days_left: i64,
    /// `None` in a list, and once destroyed (the member left; a complaint's record moved to the
    /// retention store).
    pub content: Option<RequestContent>,
    pub answer: Option<Notice>,
    pub events: Vec<RequestEvent>,
}

/// What a complainant sees with their receipt code.
#[derive(Debug, Clone, Serialize)]
pub struct ComplaintStatus {
    pub received_at: DateTime<Utc>,
    pub due_on: NaiveDate,
    pub state: RequestState,
    /// Their complaint and the answer, once answered (from the retention store's record).
    pub text: Option<String>,
    pub answer: Option<String>,
    /// Until when the record is kept.
    pub kept_until: Option<NaiveDate>,
}

/// A request a member files from My page.
#[derive(Clone)]
pub struct OwnRequest {
    pub kind: RequestKind,
    pub text: String,
    /// A correction's wanted values by item id (empty: erase).
    pub wanted: BTreeMap<String, Revealed>,
    /// The purpose to stop processing for (a suspension), or the consent category to withdraw
    /// (a consent withdrawal).
    pub purpose: Option<String>,
}

/// A request staff record from a letter, a call, an e-mail or a fax.
#[derive(Clone)]
pub struct OfficeEntry {
    pub kind: RequestKind,
    pub channel: Channel,
    /// The member's exact login ID (not needed for a complaint).
    pub login_id: String,
    pub text: String,
    pub wanted: BTreeMap<String, Revealed>,
    pub purpose: Option<String>,
    pub identity_check: String,
    pub agent: Option<Agent>,
    pub contact: Option<Contact>,
}

/// The content of a complaint's record in the retention store.
#[derive(Serialize, Deserialize)]
struct ComplaintRecord {
    class: String,
    received_at: DateTime<Utc>,
    answered_at: DateTime<Utc>,
    channel: String,
    text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    contact: Option<Contact>,
    answer: String,
}

/// The deadline of a request received at `at`: its KST day plus [`ANSWER_DAYS`].
pub fn due_on(at: DateTime<Utc>) -> NaiveDate {
    let day = (at + chrono::Duration::hours(9)).date_naive();
    day.checked_add_days(Days::new(ANSWER_DAYS)).unwrap_or(day)
}

pub(crate) fn uuid_v7(now: DateTime<Utc>) -> Uuid {
    Uuid::new_v7(uuid::Timestamp::from_unix(
        uuid::NoContext,
        u64::try_from(now.timestamp()).unwrap_or_default(),
        now.timestamp_subsec_nanos(),
    ))
}

fn request_context(id: Uuid) -> String {
    format!("request:{id}")
}

fn text_field(field: &str, text: &str, required: bool) -> std::result::Result<String, FieldError> {
    let t = text.trim();
    if required && t.is_empty() {
        return Err(FieldError::new(
            field,
            "required",
            "내용을 적어 주세요",
            "please write what you ask",
        ));
    }
    if t.chars().count() > TEXT_MAX {
        return Err(FieldError::new(
            field,
            "too_long",
            format!("{TEXT_MAX}자 이하로 적어 주세요"),
            format!("at most {TEXT_MAX} characters"),
        ));
    }
    Ok(t.to_owned())
}

fn required(
    field: &str,
    text: &str,
    ko: &str,
    en: &str,
) -> std::result::Result<String, FieldError> {
    let t = text.trim();
    if t.is_empty() {
        Err(FieldError::new(field, "required", ko, en))
    } else if t.chars().count() > TEXT_MAX {
        Err(FieldError::new(
            field,
            "too_long",
            format!("{TEXT_MAX}자 이하로 적어 주세요"),
            format!("at most {TEXT_MAX} characters"),
        ))
    } else {
        Ok(t.to_owned())
    }
}

/// The key a request's sealed parts are under (the member's, or the request's own), with the
/// "owner" they are bound to.
struct SealKey {
    key: std::sync::Arc<DataKey>,
    owner: String,
}

impl SealKey {
    fn key(&self) -> (&DataKey, &str) {
        (&self.key, &self.owner)
    }

    fn seal<T: Serialize>(&self, id: Uuid, part: &str, value: &T) -> Result<Vec<u8>> {
        let (key, owner) = self.key();
        let plain = zeroize::Zeroizing::new(
            serde_json::to_vec(value).map_err(|e| CoreError::Setup(format!("request: {e}")))?,
        );
        Ok(key.seal(owner, &format!("request:{id}:{part}"), &plain)?)
    }

    fn open<T: for<'de> Deserialize<'de>>(&self, id: Uuid, part: &str, sealed: &[u8]) -> Option<T> {
        let (key, owner) = self.key();
        let plain = key
            .open(owner, &format!("request:{id}:{part}"), sealed)
            .ok()?;
        serde_json::from_slice(&plain).ok()
    }
}

fn event(now: DateTime<Utc>, actor: &Actor, name: &str, state: RequestState) -> NewRequestEvent {
    NewRequestEvent {
        at: now,
        actor: actor.audit_name(),
        event: name.into(),
        state: state.name().into(),
        sealed: None,
    }
}

fn request_audit(
    now: DateTime<Utc>,
    actor: &Actor,
    action: &str,
    row: &RequestRow,
    detail: serde_json::Value,
) -> AuditEntry {
    AuditEntry {
        at: now,
        actor: actor.audit_name(),
        origin: None,
        action: action.into(),
        member_id: row.member_id,
        items: serde_json::from_str(&row.items).unwrap_or_default(),
        purpose: Some(REQUEST_PURPOSE.into()),
        outcome: "ok".into(),
        detail: {
            let mut d = serde_json::json!({ "request": row.id, "kind": row.kind });
            if let (Some(m), serde_json::Value::Object(extra)) = (d.as_object_mut(), detail) {
                m.extend(extra);
            }
            d
        },
    }
}

impl Jikimi {
    /// The key a request's parts are sealed under: the member's (`None` if they have left),
    /// else the request's own (created on first use).
    async fn request_seal(&self, id: Uuid, member: Option<Uuid>) -> Result<Option<SealKey>> {
        match member {
            Some(m) => Ok(self.keyring().member_key(m).await?.map(|key| SealKey {
                key,
                owner: m.to_string(),
            })),
            None => Ok(Some(SealKey {
                key: std::sync::Arc::new(self.keyring().system_key(&request_context(id)).await?),
                owner: id.to_string(),
            })),
        }
    }

    /// Checks a correction's wanted values as My page would (the same rules), without changing
    /// anything; returns the items it names.
    async fn check_wanted(
        &self,
        actor: &Actor,
        member: Uuid,
        wanted: &BTreeMap<String, Revealed>,
    ) -> Result<Vec<String>> {
        if wanted.is_empty() {
            return Err(CoreError::field(
                "items",
                "request.no_items",
                "정정하거나 지울 항목을 하나 이상 고르세요",
                "choose at least one item to correct or erase",
            ));
        }
        let correctable = self.correctable_items(member).await?;
        let mut errors = Vec::new();
        for id in wanted.keys() {
            if !correctable.iter().any(|i| &i.id == id) {
                errors.push(FieldError::new(
                    id,
                    "request.item",
                    "이 항목은 정정 요청으로 고칠 수 없습니다",
                    "this item cannot be changed by a correction request",
                ));
            }
        }
        if !errors.is_empty() {
            return Err(CoreError::Invalid(errors));
        }
        let changes = wanted
            .iter()
            .map(|(k, v)| {
                let v = (!v.expose().trim().is_empty()).then(|| v.clone());
                (k.clone(), v)
            })
            .collect();
        // Validation only: the change is built (and thrown away) exactly as the correction
        // itself will be built when the request is decided.
        self.correction_change(actor, member, changes, self.clock().now())
            .await?;
        Ok(wanted.keys().cloned().collect())
    }

    /// The purpose a suspension names, if declared.
    fn check_purpose(&self, purpose: Option<&str>) -> Result<String> {
        let p = purpose.unwrap_or_default().trim();
        if self.policy().purpose(p).is_none() {
            return Err(CoreError::field(
                "purpose",
                "request.purpose",
                "처리를 멈출 목적을 고르세요",
                "choose the purpose to stop processing for",
            ));
        }
        Ok(p.to_owned())
    }

    /// The consent category a consent withdrawal names: declared, and not the agreement that
    /// membership itself needs (that ends by leaving).
    fn check_consent(&self, category: Option<&str>) -> Result<String> {
        let c = category.unwrap_or_default().trim();
        match self.policy().consent(c) {
            Some(cat) if cat.required => Err(CoreError::field(
                "consent",
                "consent.required_for_membership",
                "이 동의는 회원 자격에 필요합니다. 철회하려면 회원 탈퇴를 요청해 주세요",
                "this agreement is needed for membership; to end it, ask to leave",
            )),
            Some(_) => Ok(c.to_owned()),
            None => Err(CoreError::field(
                "consent",
                "request.consent",
                "철회할 동의를 고르세요",
                "choose the consent to withdraw",
            )),
        }
    }

    /// Builds a new request of `member` (its row, sealed content and the change that files it
    /// with its hold); nothing is written.
    #[allow(clippy::too_many_arguments)]
    async fn member_request(
        &self,
        actor: &Actor,
        member: Uuid,
        kind: RequestKind,
        channel: Channel,
        content: RequestContent,
        items: Vec<String>,
        purpose: Option<String>,
    ) -> Result<(Uuid, MemberChange)> {
        let now = self.clock().now();
        let id = uuid_v7(now);
        let seal = self
            .request_seal(id, Some(member))
            .await?
            .ok_or(CoreError::NotFound("member"))?;
        let row = RequestRow {
            id,
            kind: kind.name().into(),
            channel: channel.name().into(),
            member_id: Some(member),
            items: serde_json::to_string(&items).unwrap_or_else(|_| "[]".into()),
            purpose,
            sealed: Some(seal.seal(id, "content", &content)?),
            answer_sealed: None,
            received_at: now,
            due_on: due_on(now),
            state: RequestState::Received.name().into(),
            assignee: None,
            updated_at: now,
            closed_at: None,
        };
        let mut audit = vec![request_audit(
            now,
            actor,
            "request.file",
            &row,
            serde_json::json!({ "channel": channel.name() }),
        )];
        let hold = kind == RequestKind::Correction;
        if hold {
            audit.push(crate::members::audit(
                now,
                actor,
                "item.hold_for_correction",
                member,
                items.clone(),
            ));
        }
        let change = MemberChange {
            member_id: member,
            at: now,
            correction_marks: if hold {
                items.iter().map(|i| (i.clone(), true)).collect()
            } else {
                Vec::new()
            },
            audit,
            request: Some(RequestWrite::New {
                row,
                receipt_index: None,
                event: event(now, actor, "filed", RequestState::Received),
            }),
            ..Default::default()
        };
        Ok((id, change))
    }

    async fn apply_member_change(&self, change: MemberChange) -> Result<()> {
        self.store()
            .apply(change)
            .await
            .map(|_| ())
            .map_err(|e| match e {
                StoreError::NotFound(w) => CoreError::NotFound(w),
                StoreError::Conflict(c) => CoreError::Conflict(c),
                StoreError::Duplicate { domain } => CoreError::AlreadyMember {
                    field: domain,
                    masked_login: None,
                },
                other => CoreError::Store(other),
            })
    }

    /// A member files a request from My page. A correction request holds the items it names
    /// at once (S8), in the same transaction. Returns the request's id.
    pub async fn file_own_request(&self, session: &SessionInfo, req: OwnRequest) -> Result<Uuid> {
        let member = session.member;
        let actor = Actor::Member(member);
        let (content, items, purpose) = self
            .request_parts(
                &actor,
                member,
                req.kind,
                &req.text,
                &req.wanted,
                req.purpose,
            )
            .await?;
        let (id, change) = self
            .member_request(
                &actor,
                member,
                req.kind,
                Channel::MyPage,
                content,
                items,
                purpose,
            )
            .await?;
        self.apply_member_change(change).await?;
        Ok(id)
    }

    /// Checks what a member's request says and puts it in its sealed form.
    async fn request_parts(
        &self,
        actor: &Actor,
        member: Uuid,
        kind: RequestKind,
        text: &str,
        wanted: &BTreeMap<String, Revealed>,
        purpose: Option<String>,
    ) -> Result<(RequestContent, Vec<String>, Option<String>)> {
        if !RequestKind::MEMBER.contains(&kind) {
            return Err(CoreError::field(
                "kind",
                "request.kind",
                "요청의 종류를 고르세요",
                "choose what you ask for",
            ));
        }
        let text = text_field("text", text, false).map_err(|e| CoreError::Invalid(vec![e]))?;
        let mut content = RequestContent {
            text,
            ..Default::default()
        };
        let (items, purpose) = match kind {
            RequestKind::Correction => {
                let items = self.check_wanted(actor, member, wanted).await?;
                content.wanted = wanted
                    .iter()
                    .map(|(k, v)| (k.clone(), v.expose().trim().to_owned()))
                    .collect();
                (items, None)
            }
            RequestKind::Suspension => (Vec::new(), Some(self.check_purpose(purpose.as_deref())?)),
            RequestKind::ConsentWithdrawal => {
                (Vec::new(), Some(self.check_consent(purpose.as_deref())?))
            }
            _ => (Vec::new(), None),
        };
        Ok((content, items, purpose))
    }

    /// Staff record a request that came by letter, phone, e-mail or fax: the member is found by
    /// their exact login ID (a complaint needs none), the identity check and an agent's power of
    /// attorney are recorded. Needs [`Power::AllRequests`].
    pub async fn record_request(&self, staff: &StaffSession, entry: OfficeEntry) -> Result<Uuid> {
        staff.require(Power::AllRequests)?;
        let actor = staff.actor();
        let mut errors = Vec::new();
        if !Channel::OFFICE.contains(&entry.channel) {
            errors.push(FieldError::new(
                "channel",
                "request.channel",
                "요청이 들어온 경로를 고르세요",
                "choose how the request came in",
            ));
        }
        if let Some(a) = &entry.agent {
            if a.name.trim().is_empty() {
                errors.push(FieldError::new(
                    "agent_name",
                    "required",
                    "대리인의 이름을 적어 주세요",
                    "write the agent's name",
                ));
            }
            if !a.attorney {
                errors.push(FieldError::new(
                    "agent_attorney",
                    "request.attorney",
                    "대리인의 요청은 위임장을 확인해야 받을 수 있습니다",
                    "an agent's request needs a checked power of attorney",
                ));
            }
        }
        if entry.kind == RequestKind::Complaint {
            let text = text_field("text", &entry.text, true);
            if let Err(e) = &text {
                errors.push(e.clone());
            }
            if !errors.is_empty() {
                return Err(CoreError::Invalid(errors));
            }
            let content = RequestContent {
                text: text.unwrap_or_default(),
                contact: entry.contact.filter(|c| !c.is_empty()),
                identity_check: Some(entry.identity_check.trim().to_owned())
                    .filter(|s| !s.is_empty()),
                agent: entry.agent,
                ..Default::default()
            };
            return self
                .new_complaint(&actor, entry.channel, content, None)
                .await;
        }
        if let Err(e) = required(
            "identity_check",
            &entry.identity_check,
            "요청한 사람이 본인(또는 정당한 대리인)인지 어떻게 확인했는지 적어 주세요",
            "write how you checked that the requester is the member (or their agent)",
        ) {
            errors.push(e);
        }
        let member = self.find_member(&entry.login_id).await?;
        let Some(member) = member else {
            errors.push(FieldError::new(
                "login_id",
                "request.member",
                "그 아이디나 전자우편, 전화번호의 회원이 없습니다. 정확히 적어 주세요",
                "no member has that login ID, e-mail address or phone number; write it exactly",
            ));
            return Err(CoreError::Invalid(errors));
        };
        if !errors.is_empty() {
            return Err(CoreError::Invalid(errors));
        }
        let (mut content, items, purpose) = self
            .request_parts(
                &actor,
                member,
                entry.kind,
                &entry.text,
                &entry.wanted,
                entry.purpose,
            )
            .await?;
        content.identity_check = Some(entry.identity_check.trim().to_owned());
        content.agent = entry.agent;
        let (id, change) = self
            .member_request(
                &actor,
                member,
                entry.kind,
                entry.channel,
                content,
                items,
                purpose,
            )
            .await?;
        self.apply_member_change(change).await?;
        Ok(id)
    }

    /// Anyone sends an opinion or complaint through the public form, with as much contact as
    /// they choose to give. Limited per client. Returns the request's id and its receipt code
    /// (shown once; only its keyed digest is stored), with which they see the answer.
    pub async fn file_complaint(
        &self,
        client: crate::Client,
        text: &str,
        contact: Contact,
    ) -> Result<(Uuid, String)> {
        if let Some(ip) = client {
            self.limit(
                Action::Complaint,
                Scope::Client(ip),
                self.limits().complaint_per_client,
            )
            .await?;
        }
        let mut errors = Vec::new();
        let text = text_field("text", text, true).unwrap_or_else(|e| {
            errors.push(e);
            String::new()
        });
        let contact = Contact {
            name: contact.name.trim().chars().take(100).collect(),
            email: contact.email.trim().to_owned(),
            phone: contact.phone.trim().to_owned(),
        };
        if !contact.email.is_empty()
            && (contact.email.len() > 254
                || !contact
                    .email
                    .split_once('@')
                    .is_some_and(|(l, d)| !l.is_empty() && d.contains('.')))
        {
            errors.push(FieldError::new(
                "email",
                "format",
                "전자우편 주소의 형식이 맞지 않습니다 (예: name@example.com)",
                "is not an e-mail address (e.g. name@example.com)",
            ));
        }
        let digits: String = contact.phone.chars().filter(char::is_ascii_digit).collect();
        if !contact.phone.is_empty()
            && (!(9..=11).contains(&digits.len())
                || contact
                    .phone
                    .chars()
                    .any(|c| !(c.is_ascii_digit() || c == '-' || c == ' ')))
        {
            errors.push(FieldError::new(
                "phone",
                "format",
                "전화번호는 숫자와 '-'로 적어 주세요 (예: 02-123-4567)",
                "write the phone number in digits and '-' (e.g. 02-123-4567)",
            ));
        }
        if !errors.is_empty() {
            return Err(CoreError::Invalid(errors));
        }
        let content = RequestContent {
            text,
            contact: Some(contact).filter(|c| !c.is_empty()),
            ..Default::default()
        };
        let code = crate::withdrawal::receipt_code("JKC");
        let index = crate::withdrawal::receipt_index(self, &code);
        let id = self
            .new_complaint(&Actor::Public, Channel::Web, content, Some(index))
            .await?;
        Ok((id, code))
    }

    async fn new_complaint(
        &self,
        actor: &Actor,
        channel: Channel,
        content: RequestContent,
        receipt_index: Option<Vec<u8>>,
    ) -> Result<Uuid> {
        let now = self.clock().now();
        let id = uuid_v7(now);
        let seal = self
            .request_seal(id, None)
            .await?
            .ok_or(CoreError::NotFound("request"))?;
        let row = RequestRow {
            id,
            kind: RequestKind::Complaint.name().into(),
            channel: channel.name().into(),
            member_id: None,
            items: "[]".into(),
            purpose: None,
            sealed: Some(seal.seal(id, "content", &content)?),
            answer_sealed: None,
            received_at: now,
            due_on: due_on(now),
            state: RequestState::Received.name().into(),
            assignee: None,
            updated_at: now,
            closed_at: None,
        };
        let audit = vec![request_audit(
            now,
            actor,
            "request.file",
            &row,
            serde_json::json!({ "channel": channel.name() }),
        )];
        self.store()
            .insert_request(
                RequestWrite::New {
                    row,
                    receipt_index,
                    event: event(now, actor, "filed", RequestState::Received),
                },
                audit,
            )
            .await?;
        Ok(id)
    }

    /// [`Jikimi::complaint_status`] for a code typed in by a client: limited per client and per
    /// code, as withdrawal receipts are.
    pub async fn complaint_status_from(
        &self,
        client: crate::Client,
        code: &str,
    ) -> Result<ComplaintStatus> {
        self.limit_receipt_lookup(client, code).await?;
        self.complaint_status(code).await
    }

    /// What a complainant sees with their receipt code (a page that already holds the code in
    /// its sealed cookie opens it again without a limit).
    pub async fn complaint_status(&self, code: &str) -> Result<ComplaintStatus> {
        let index = crate::withdrawal::receipt_index(self, code);
        let row = self
            .store()
            .request_by_receipt(&index)
            .await?
            .ok_or(CoreError::NotFound("complaint"))?;
        let state = RequestState::parse(&row.state).unwrap_or(RequestState::Received);
        let mut out = ComplaintStatus {
            received_at: row.received_at,
            due_on: row.due_on,
            state,
            text: None,
            answer: None,
            kept_until: None,
        };
        if row.closed_at.is_some() {
            for r in self.store().retained_by_receipt(&index).await? {
                let Some(key) = self
                    .keyring()
                    .retention_key_by_bucket(&r.class, &r.bucket)
                    .await?
                else {
                    continue;
                };
                let plain = key.open(&r.id.to_string(), &r.class, &r.sealed)?;
                if let Ok(rec) = serde_json::from_slice::<ComplaintRecord>(&plain) {
                    out.text = Some(rec.text);
                    out.answer = Some(rec.answer);
                    out.kept_until = Some(r.expires_on);
                }
            }
        }
        let now = self.clock().now();
        self.store()
            .append_audit(vec![request_audit(
                now,
                &Actor::Public,
                "request.view",
                &row,
                serde_json::Value::Null,
            )])
            .await?;
        Ok(out)
    }

    /// The requests a staff member may work: all of them with [`Power::AllRequests`], those
    /// assigned to them with [`Power::AssignedRequests`]. No content (a list shows no personal
    /// data).
    pub async fn requests_for(
        &self,
        staff: &StaffSession,
        open_only: bool,
    ) -> Result<Vec<RequestView>> {
        let filter = if staff.role.can(Power::AllRequests) {
            RequestFilter {
                open_only,
                ..Default::default()
            }
        } else {
            staff.require(Power::AssignedRequests)?;
            RequestFilter {
                open_only,
                assignee: Some(staff.name.clone()),
                ..Default::default()
            }
        };
        let today = self.clock().today_kst();
        Ok(self
            .store()
            .requests(filter)
            .await?
            .into_iter()
            .filter_map(|r| view(r, today))
            .collect())
    }

    /// A request a staff member may work, opened (its content, answer and history), with an
    /// audit entry of the view.
    pub async fn request_for(
        &self,
        staff: &StaffSession,
        id: Uuid,
        origin: Option<std::net::IpAddr>,
    ) -> Result<RequestView> {
        let row = self.workable(staff, id).await?;
        let now = self.clock().now();
        let v = self.opened(row.clone()).await?;
        let mut e = request_audit(
            now,
            &staff.actor(),
            "request.view",
            &row,
            serde_json::Value::Null,
        );
        e.origin = origin.map(|ip| ip.to_string());
        e.outcome = if v.content.is_some() { "ok" } else { "gone" }.into();
        self.store().append_audit(vec![e]).await?;
        Ok(v)
    }

    /// The requests of the member of `session`, opened, newest first.
    pub async fn own_requests(&self, session: &SessionInfo) -> Result<Vec<RequestView>> {
        let rows = self
            .store()
            .requests(RequestFilter {
                member_id: Some(session.member),
                ..Default::default()
            })
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(self.opened(r).await?);
        }
        out.sort_by_key(|r| std::cmp::Reverse(r.received_at));
        Ok(out)
    }

    /// A request a staff member may work on: any with [`Power::AllRequests`], else one assigned
    /// to them. Others are `NotFound` (a handler does not learn what exists).
    async fn workable(&self, staff: &StaffSession, id: Uuid) -> Result<RequestRow> {
        self.staff_may(&staff.actor(), Power::AssignedRequests)
            .await?;
        let row = self
            .store()
            .request(id)
            .await?
            .ok_or(CoreError::NotFound("request"))?;
        if staff.role.can(Power::AllRequests) || row.assignee.as_deref() == Some(&staff.name) {
            Ok(row)
        } else {
            Err(CoreError::NotFound("request"))
        }
    }

    async fn opened(&self, row: RequestRow) -> Result<RequestView> {
        let today = self.clock().today_kst();
        let seal = self.request_seal(row.id, row.member_id).await?;
        let events = self.store().request_events(row.id).await?;
        let id = row.id;
        let content = match (&seal, &row.sealed) {
            (Some(s), Some(b)) => s.open::<RequestContent>(id, "content", b),
            _ => None,
        };
        let answer = match (&seal, &row.answer_sealed) {
            (Some(s), Some(b)) => s.open::<Notice>(id, "answer", b),
            _ => None,
        };
        let events = events
            .into_iter()
            .map(|e| RequestEvent {
                at: e.at,
                actor: e.actor,
                state: RequestState::parse(&e.state).unwrap_or(RequestState::Received),
                notice: match (&seal, &e.sealed) {
                    (Some(s), Some(b)) => s.open::<Notice>(id, &e.event, b),
                    _ => None,
                },
                event: e.event,
            })
            .collect();
        let mut v = view(row, today).ok_or(CoreError::NotFound("request"))?;
        v.content = content;
        v.answer = answer;
        v.events = events;
        Ok(v)
    }

    /// Assigns a request to a staff account that can work requests. Needs
    /// [`Power::AllRequests`].
    pub async fn assign_request(&self, staff: &StaffSession, id: Uuid, to: &str) -> Result<()> {
        staff.require(Power::AllRequests)?;
        self.staff_may(&staff.actor(), Power::AllRequests).await?;
        let to = to.trim().to_lowercase();
        let ok = self
            .store()
            .staff(&to)
            .await?
            .filter(|r| r.disabled_at.is_none() && r.enrolled_at.is_some())
            .and_then(|r| crate::staff::Role::parse(&r.role))
            .is_some_and(|r| r.can(Power::AssignedRequests));
        if !ok {
            return Err(CoreError::field(
                "assignee",
                "request.assignee",
                "요청을 처리할 수 있는 직원 계정을 고르세요",
                "choose a staff account that can work requests",
            ));
        }
        let row = self.workable(staff, id).await?;
        let state = match RequestState::parse(&row.state) {
            Some(RequestState::Extended) => RequestState::Extended,
            _ => RequestState::InProgress,
        };
        let now = self.clock().now();
        let actor = staff.actor();
        let ev = event(now, &actor, "assigned", state);
        self.update(
            RequestUpdate {
                id,
                at: now,
                state: state.name().into(),
                assignee: Some(to.clone()),
                event: ev,
                ..Default::default()
            },
            Vec::new(),
            vec![request_audit(
                now,
                &actor,
                "request.assign",
                &row,
                serde_json::json!({ "assignee": to }),
            )],
        )
        .await
    }

    async fn update(
        &self,
        update: RequestUpdate,
        retained: Vec<RetainedRecord>,
        audit: Vec<AuditEntry>,
    ) -> Result<()> {
        if self.store().update_request(update, retained, audit).await? {
            Ok(())
        } else {
            Err(CoreError::Conflict("the request is already closed".into()))
        }
    }

    fn notice_fields(
        reason: &str,
        basis: &str,
        objection: &str,
    ) -> std::result::Result<Notice, CoreError> {
        let mut errors = Vec::new();
        let mut get = |field: &str, v: &str, ko: &str, en: &str| {
            required(field, v, ko, en).unwrap_or_else(|e| {
                errors.push(e);
                String::new()
            })
        };
        let n = Notice {
            text: get("reason", reason, "이유를 적어 주세요", "write the reason"),
            basis: get(
                "basis",
                basis,
                "근거가 되는 법령을 적어 주세요",
                "write the legal basis",
            ),
            objection: get(
                "objection",
                objection,
                "이의를 제기하는 방법을 적어 주세요",
                "write how to object",
            ),
        };
        if errors.is_empty() {
            Ok(n)
        } else {
            Err(CoreError::Invalid(errors))
        }
    }

    /// Extends a request's deadline once by 10 days, telling the requester why, on what legal
    /// basis and how to object (R-DSR-02/03).
    pub async fn extend_request(
        &self,
        staff: &StaffSession,
        id: Uuid,
        reason: &str,
        basis: &str,
        objection: &str,
    ) -> Result<()> {
        let notice = Self::notice_fields(reason, basis, objection)?;
        let row = self.workable(staff, id).await?;
        if row.state == RequestState::Extended.name() {
            return Err(CoreError::Conflict(
                "the deadline was already extended once".into(),
            ));
        }
        let seal = self
            .request_seal(id, row.member_id)
            .await?
            .ok_or(CoreError::NotFound("member"))?;
        let now = self.clock().now();
        let actor = staff.actor();
        let mut ev = event(now, &actor, "extended", RequestState::Extended);
        ev.sealed = Some(seal.seal(id, "extended", &notice)?);
        let due = row
            .due_on
            .checked_add_days(Days::new(ANSWER_DAYS))
            .unwrap_or(row.due_on);
        // The member is told by mail, in the same transaction (R-DSR-02: a postponement is
        // notified within the 10 days).
        let (jobs, notices) = match (row.member_id, RequestKind::parse(&row.kind)) {
            (Some(member), Some(kind)) => {
                let to = self.notice_address(member, false).await?;
                let content = crate::mail::Content::RequestExtended {
                    kind: jikimi_policy::Text::new(kind.label(Lang::Ko), kind.label(Lang::En)),
                    due,
                };
                self.notice(&actor, member, to.as_deref(), &content).await?
            }
            _ => (Vec::new(), Vec::new()),
        };
        self.update(
            RequestUpdate {
                id,
                at: now,
                state: RequestState::Extended.name().into(),
                due_on: Some(due),
                event: ev,
                jobs,
                ..Default::default()
            },
            Vec::new(),
            std::iter::once(request_audit(
                now,
                &actor,
                "request.extend",
                &row,
                serde_json::json!({ "due_on": due }),
            ))
            .chain(notices)
            .collect(),
        )
        .await
    }

    /// Refuses a rights request, with the reason, the legal basis and how to object (R-DSR-03,
    /// R-DSR-04). Items held for it are released. A complaint is answered, not refused.
    pub async fn refuse_request(
        &self,
        staff: &StaffSession,
        id: Uuid,
        reason: &str,
        basis: &str,
        objection: &str,
    ) -> Result<()> {
        let notice = Self::notice_fields(reason, basis, objection)?;
        let row = self.workable(staff, id).await?;
        if row.kind == RequestKind::Complaint.name() {
            return Err(CoreError::Conflict(
                "a complaint is answered, not refused".into(),
            ));
        }
        self.close(staff, row, RequestState::Refused, notice, None)
            .await
    }

    /// Answers a request and closes it. Items held for a correction request are released. A
    /// complaint's record (what was sent, the contact, the answer) moves to the
    /// `complaint_records` retention class and the request's own key is destroyed.
    pub async fn answer_request(&self, staff: &StaffSession, id: Uuid, answer: &str) -> Result<()> {
        let text = required("answer", answer, "답변을 적어 주세요", "write the answer")
            .map_err(|e| CoreError::Invalid(vec![e]))?;
        let row = self.workable(staff, id).await?;
        let notice = Notice {
            text,
            ..Default::default()
        };
        self.close(staff, row, RequestState::Answered, notice, None)
            .await
    }

    /// Makes the correction a request asks for (the same validation as My page) and answers it,
    /// in one transaction: the held items are released by being corrected. Needs
    /// [`Power::MemberData`].
    pub async fn correct_for_request(
        &self,
        staff: &StaffSession,
        id: Uuid,
        answer: &str,
    ) -> Result<()> {
        staff.require(Power::MemberData)?;
        let row = self.workable(staff, id).await?;
        let (Some(member), true) = (row.member_id, row.kind == RequestKind::Correction.name())
        else {
            return Err(CoreError::Conflict(
                "only a member's correction request is corrected".into(),
            ));
        };
        let v = self.opened(row.clone()).await?;
        let Some(content) = v.content else {
            return Err(CoreError::NotFound("member"));
        };
        let changes = content
            .wanted
            .iter()
            .map(|(k, v)| (k.clone(), (!v.is_empty()).then(|| Revealed::new(v.clone()))))
            .collect();
        let now = self.clock().now();
        let change = self
            .correction_change(&staff.actor(), member, changes, now)
            .await?;
        let text = answer.trim();
        let notice = Notice {
            text: if text.is_empty() {
                "요청하신 대로 정정했습니다. / Corrected as you asked.".into()
            } else {
                text.chars().take(TEXT_MAX).collect()
            },
            ..Default::default()
        };
        self.close(staff, row, RequestState::Answered, notice, Some(change))
            .await
    }

    /// Closes a request with its notice: in the member's change (releasing held items, or with
    /// the correction `with`), or on its own; a complaint's record goes to the retention store.
    async fn close(
        &self,
        staff: &StaffSession,
        row: RequestRow,
        state: RequestState,
        notice: Notice,
        with: Option<MemberChange>,
    ) -> Result<()> {
        let now = self.clock().now();
        let actor = staff.actor();
        let id = row.id;
        let seal = self.request_seal(id, row.member_id).await?;
        let event_name = match (&with, row.kind.as_str()) {
            (Some(_), "suspension") => "suspended",
            (Some(_), "consent_withdrawal") => "consent_withdrawn",
            (Some(_), _) => "corrected",
            (None, _) => state.name(),
        };
        let mut ev = event(now, &actor, event_name, state);
        let answer_sealed = match &seal {
            Some(s) => Some(s.seal(id, "answer", &notice)?),
            None => None,
        };
        if let Some(s) = &seal {
            ev.sealed = Some(s.seal(id, event_name, &notice)?);
        }
        let action = match state {
            RequestState::Refused => "request.refuse",
            _ => "request.answer",
        };
        let audit = request_audit(now, &actor, action, &row, serde_json::Value::Null);
        let complaint = row.kind == RequestKind::Complaint.name();
        let mut update = RequestUpdate {
            id,
            at: now,
            state: state.name().into(),
            answer_sealed,
            close: true,
            erase_content: complaint,
            event: ev,
            ..Default::default()
        };
        if complaint {
            // The complaint's record is all that stays: the ticket keeps no content.
            update.event.sealed = None;
            // The contact given, if an e-mail address, is told the answer is ready.
            let contact = match (&seal, &row.sealed) {
                (Some(s), Some(b)) => s
                    .open::<RequestContent>(row.id, "content", b)
                    .and_then(|c| c.contact)
                    .map(|c| c.email)
                    .filter(|e| !e.is_empty()),
                _ => None,
            };
            if let Some(to) = contact
                && let Some(job) = self
                    .letter_job(&crate::mail::Content::ComplaintAnswered, None, &to)
                    .await?
            {
                update.jobs.push(job);
            }
            let retained = self
                .complaint_record(&row, seal.as_ref(), &notice, now)
                .await?;
            self.update(update, retained, vec![audit]).await?;
            if let Err(e) = self
                .keyring()
                .key_store()
                .delete(&request_context(id))
                .await
            {
                tracing::error!(request = %id, error = %e, "a closed complaint's key was not destroyed");
            }
            return Ok(());
        }
        match row.member_id {
            Some(member) if self.keyring().member_key(member).await?.is_some() => {
                let items: Vec<String> = serde_json::from_str(&row.items).unwrap_or_default();
                let mut change = with.unwrap_or(MemberChange {
                    member_id: member,
                    at: now,
                    ..Default::default()
                });
                // Release what is still held (corrected items are released by the correction).
                change.correction_marks.extend(
                    items
                        .iter()
                        .filter(|i| !change.set_items.iter().any(|s| &&s.item_id == i))
                        .filter(|i| !change.remove_items.contains(i))
                        .map(|i| (i.clone(), false)),
                );
                if !items.is_empty() {
                    change.audit.push(crate::members::audit(
                        now,
                        &actor,
                        "item.release_correction_hold",
                        member,
                        items,
                    ));
                }
                change.audit.push(audit);
                // The member is told the answer is on My page, in the same transaction.
                if let Some(kind) = RequestKind::parse(&row.kind) {
                    let to = self.notice_address(member, false).await?;
                    let content = crate::mail::Content::RequestClosed {
                        kind: jikimi_policy::Text::new(kind.label(Lang::Ko), kind.label(Lang::En)),
                        refused: state == RequestState::Refused,
                    };
                    let (jobs, notices) =
                        self.notice(&actor, member, to.as_deref(), &content).await?;
                    change.jobs.extend(jobs);
                    change.audit.extend(notices);
                }
                change.request = Some(RequestWrite::Update(update));
                self.apply_member_change(change).await
            }
            _ => self.update(update, Vec::new(), vec![audit]).await,
        }
    }

    /// A closed complaint's record for the retention store (none if the policy keeps no
    /// `complaint_records`).
    async fn complaint_record(
        &self,
        row: &RequestRow,
        seal: Option<&SealKey>,
        notice: &Notice,
        now: DateTime<Utc>,
    ) -> Result<Vec<RetainedRecord>> {
        let Some(class) = self.policy().retention_class(COMPLAINT_CLASS).cloned() else {
            return Ok(Vec::new());
        };
        let Some(expires_on) = class.period.expires_on(self.clock().today_kst()) else {
            return Ok(Vec::new());
        };
        let content = match (seal, &row.sealed) {
            (Some(s), Some(b)) => s.open::<RequestContent>(row.id, "content", b),
            _ => None,
        }
        .unwrap_or_default();
        let record = ComplaintRecord {
            class: class.id.clone(),
            received_at: row.received_at,
            answered_at: now,
            channel: row.channel.clone(),
            text: content.text,
            contact: content.contact,
            answer: notice.text.clone(),
        };
        let plain = zeroize::Zeroizing::new(
            serde_json::to_vec(&record)
                .map_err(|e| CoreError::Setup(format!("complaint record: {e}")))?,
        );
        let (bucket, key) = self.keyring().retention_key(&class.id, expires_on).await?;
        let id = uuid_v7(now);
        // A complaint from the public form is found again by its receipt code.
        let receipt_index = match self.store().request_receipt_index(row.id).await? {
            Some(ix) => ix,
            None => {
                let code = crate::withdrawal::receipt_code("JKC");
                crate::withdrawal::receipt_index(self, &code)
            }
        };
        Ok(vec![RetainedRecord {
            id,
            class: class.id.clone(),
            bucket,
            key_id: key.id().to_string(),
            expires_on,
            receipt_index,
            sealed: key.seal(&id.to_string(), &class.id, &plain)?,
            created_at: now,
            hold_reason: None,
        }])
    }
}

/// What acting on a withdrawal request gives the office: the receipt, to pass on to the
/// requester (it is shown once, here).
pub type WithdrawalForRequest = crate::WithdrawalReceipt;

// Acting for a member on a request (look-up, reading, stopping processing, withdrawal).
impl Jikimi {
    /// The member an exact login ID, e-mail address or phone number names, through their blind
    /// and look-up indexes (there is no list of members to browse). A phone number that several
    /// members share names none of them: the error says to use the login ID or e-mail.
    pub async fn find_member(&self, text: &str) -> Result<Option<Uuid>> {
        let t = text.trim();
        if t.is_empty() {
            return Ok(None);
        }
        let login = t.to_lowercase();
        if let Some(r) = self
            .store()
            .member_by_login(&self.digest(LOGIN_DOMAIN, &login))
            .await?
        {
            return Ok(Some(r.id));
        }
        let policy = self.policy().clone();
        for item in policy
            .items
            .iter()
            .filter(|i| i.unique && i.kind == jikimi_policy::ItemKind::Email)
        {
            if let Ok(n) = crate::validate::normalize(item, t)
                && let Some(ix) = n.index
                && let Some(m) = self
                    .store()
                    .member_by_index(&item.id, &self.digest(&item.id, ix.expose()))
                    .await?
            {
                return Ok(Some(m));
            }
        }
        let mut found = std::collections::BTreeSet::new();
        for item in policy
            .signup_items()
            .filter(|i| crate::members::looked_up(i))
        {
            let Ok(n) = crate::validate::normalize(item, t) else {
                continue;
            };
            let domain = format!("{}{}", crate::members::LOOKUP_PREFIX, item.id);
            let prefix = self.digest(&domain, n.stored.expose());
            found.extend(self.store().members_by_lookup(&domain, &prefix).await?);
        }
        match found.len() {
            0 => Ok(None),
            1 => Ok(found.into_iter().next()),
            _ => Err(CoreError::field(
                "login_id",
                "request.member_ambiguous",
                "이 전화번호를 쓰는 회원이 여럿입니다. 아이디나 전자우편으로 찾아 주세요",
                "several members have this phone number; use the login ID or e-mail",
            )),
        }
    }

    /// The purposes processing of the member's items is stopped for.
    pub async fn suspended_purposes(&self, member: Uuid) -> Result<Vec<String>> {
        Ok(self.store().suspended_purposes(member).await?)
    }

    /// A staff member reads the items of the member a request concerns, to answer it: only for
    /// an open request they may work, with [`Power::MemberData`], and with a reason of their own
    /// words, which goes into the audit entry with the request (purpose `office_request`). An
    /// item held for a pending correction stays withheld (S8).
    pub async fn reveal_for_request(
        &self,
        staff: &StaffSession,
        id: Uuid,
        reason: &str,
        origin: Option<std::net::IpAddr>,
    ) -> Result<BTreeMap<String, Revealed>> {
        staff.require(Power::MemberData)?;
        self.staff_may(&staff.actor(), Power::MemberData).await?;
        let reason = required(
            "reason",
            reason,
            "왜 이 회원의 정보를 보는지 적어 주세요",
            "write why you read this member's data",
        )
        .map_err(|e| CoreError::Invalid(vec![e]))?;
        let row = self.workable(staff, id).await?;
        let Some(member) = row.member_id else {
            return Err(CoreError::Conflict("the request concerns no member".into()));
        };
        if row.closed_at.is_some() {
            return Err(CoreError::Conflict("the request is already closed".into()));
        }
        let ids: Vec<String> = self
            .shown_item_ids()
            .into_iter()
            .map(str::to_owned)
            .collect();
        let rows = self
            .store()
            .member_items(member, Some(&ids))
            .await?
            .ok_or(CoreError::NotFound("member"))?;
        let now = self.clock().now();
        let origin = origin.map(|ip| ip.to_string());
        let (values, mut entry) = self
            .open_rows(
                now,
                &staff.actor(),
                origin.as_deref(),
                member,
                REQUEST_PURPOSE,
                rows,
            )
            .await?;
        let mut detail = serde_json::json!({ "request": id, "reason": reason });
        if let (Some(d), Some(w)) = (
            detail.as_object_mut(),
            entry.detail.get("withheld_pending_correction"),
        ) {
            d.insert("withheld_pending_correction".into(), w.clone());
        }
        entry.detail = detail;
        self.store().append_audit(vec![entry]).await?;
        Ok(values)
    }

    /// Stops processing for the purpose a suspension request names and answers it, in one
    /// transaction: from then on every reveal of the member's items for that purpose is refused
    /// (PIPA Art. 37). Needs [`Power::MemberData`].
    pub async fn suspend_for_request(
        &self,
        staff: &StaffSession,
        id: Uuid,
        answer: &str,
    ) -> Result<()> {
        staff.require(Power::MemberData)?;
        let row = self.workable(staff, id).await?;
        let (Some(member), Some(purpose), true) = (
            row.member_id,
            row.purpose.clone(),
            row.kind == RequestKind::Suspension.name(),
        ) else {
            return Err(CoreError::Conflict(
                "only a member's suspension request stops processing".into(),
            ));
        };
        let now = self.clock().now();
        let mut change = MemberChange {
            member_id: member,
            at: now,
            suspend_purposes: vec![purpose.clone()],
            ..Default::default()
        };
        let mut e =
            crate::members::audit(now, &staff.actor(), "member.suspend", member, Vec::new());
        e.purpose = Some(purpose);
        e.detail = serde_json::json!({ "request": id });
        change.audit.push(e);
        let text = answer.trim();
        let notice = Notice {
            text: if text.is_empty() {
                "요청하신 목적의 처리를 멈췄습니다. / Processing for that purpose has stopped."
                    .into()
            } else {
                text.chars().take(TEXT_MAX).collect()
            },
            ..Default::default()
        };
        self.close(staff, row, RequestState::Answered, notice, Some(change))
            .await
    }

    /// Withdraws the consent a consent-withdrawal request names (the same withdrawal as My
    /// page's: what was held on it is deleted) and answers the request, in one transaction.
    /// Needs [`Power::MemberData`].
    pub async fn withdraw_consent_for_request(
        &self,
        staff: &StaffSession,
        id: Uuid,
        answer: &str,
    ) -> Result<()> {
        staff.require(Power::MemberData)?;
        let row = self.workable(staff, id).await?;
        let (Some(member), Some(category), true) = (
            row.member_id,
            row.purpose.clone(),
            row.kind == RequestKind::ConsentWithdrawal.name(),
        ) else {
            return Err(CoreError::Conflict(
                "only a member's consent-withdrawal request withdraws a consent".into(),
            ));
        };
        let now = self.clock().now();
        let mut change =
            self.consent_change(&staff.actor(), member, &category, false, "office", now)?;
        if let Some(e) = change.audit.last_mut() {
            e.detail["request"] = serde_json::json!(id);
        }
        let (jobs, audit) = self
            .ad_consent_notice_for(&staff.actor(), member, &[(category.clone(), false)], now)
            .await?;
        change.jobs.extend(jobs);
        change.audit.extend(audit);
        let text = answer.trim();
        let notice = Notice {
            text: if text.is_empty() {
                "요청하신 동의를 철회했습니다. / The consent you named is withdrawn.".into()
            } else {
                text.chars().take(TEXT_MAX).collect()
            },
            ..Default::default()
        };
        self.close(staff, row, RequestState::Answered, notice, Some(change))
            .await
    }

    /// Withdraws the member a withdrawal request concerns (the same withdrawal as the member's
    /// own) and closes the request; returns the receipt for the office to pass on. What was
    /// sealed under the member's key, the request's own text included, goes with it. Needs
    /// [`Power::MemberData`].
    pub async fn withdraw_for_request(
        &self,
        staff: &StaffSession,
        id: Uuid,
    ) -> Result<WithdrawalForRequest> {
        staff.require(Power::MemberData)?;
        let row = self.workable(staff, id).await?;
        let (Some(member), true) = (row.member_id, row.kind == RequestKind::Withdrawal.name())
        else {
            return Err(CoreError::Conflict(
                "only a member's withdrawal request withdraws".into(),
            ));
        };
        if row.closed_at.is_some() {
            return Err(CoreError::Conflict("the request is already closed".into()));
        }
        let now = self.clock().now();
        let actor = staff.actor();
        // The ticket closes in the withdrawal's transaction; its sealed parts go with the
        // member's key.
        let update = RequestUpdate {
            id,
            at: now,
            state: RequestState::Answered.name().into(),
            close: true,
            event: event(now, &actor, "withdrawn", RequestState::Answered),
            ..Default::default()
        };
        let audit = request_audit(now, &actor, "request.answer", &row, serde_json::Value::Null);
        self.withdraw_with(
            &actor,
            member,
            "office",
            Some(RequestWrite::Update(update)),
            vec![audit],
        )
        .await
    }
}

/// A row as a view (without content), its deadline judged against `today` (KST).
fn view(r: RequestRow, today: NaiveDate) -> Option<RequestView> {
    let state = RequestState::parse(&r.state)?;
    let open = r.closed_at.is_none();
    Some(RequestView {
        id: r.id,
        kind: RequestKind::parse(&r.kind)?,
        channel: Channel::parse(&r.channel)?,
        member: r.member_id,
        items: serde_json::from_str(&r.items).unwrap_or_default(),
        purpose: r.purpose,
        received_at: r.received_at,
        due_on: r.due_on,
        state,
        assignee: r.assignee,
        closed_at: r.closed_at,
        overdue: open && today > r.due_on,
        days_left: if open {
            (r.due_on - today).num_days()
        } else {
            0
        },
        content: None,
        answer: None,
        events: Vec::new(),
    })
}
