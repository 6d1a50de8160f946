//! Children under the policy's age join with a verified legal guardian's consent (issue 16, S13,
//! PIPA Art. 22-2, `korea-law.md` R-CHD-*).
//!
//! 1. The age gate refuses a child before anything is stored (R-CHD-01). The child then gives
//!    only what is needed to ask the guardian (R-CHD-03): their own name, the guardian's name and
//!    contact — the policy's items in context `guardian` with the ids below. They are sealed
//!    under the request's own key (`guardian:<id>`), the request is `pending`, and the guardian is
//!    sent a link (a text message to a mobile number, or an e-mail) naming the child and the last
//!    day. The child's browser keeps a token of its own to continue.
//! 2. The guardian opens the link, reads the same notice and consent choices an adult would, and
//!    consents in a verifiable way (R-CHD-02): where the policy verifies identities (`lifeplan`)
//!    the guardian passes 본인확인 and must be an adult (만 19세, 민법 제4조) — method
//!    `mobile_identity`, Decree Art. 17-2(1)3; elsewhere the link sent to the contact the child
//!    gave is the proof — method `email_link` or `sms_link`, Decree Art. 17-2(1)5 / 1 — and the
//!    guardian states the relationship. The record of the consent names the method and the time.
//!    A refusal destroys the request at once.
//! 3. The child signs up with their token: the age gate lets them through on the consented
//!    request, the guardian's choices are the member's consents (channel `guardian`), and the
//!    request becomes `joined` with the member in the sign-up's transaction.
//! 4. A request not consented to (or consented to and not used) within [`GUARDIAN_DAYS`] days is
//!    destroyed by the purge with a destruction record (R-CHD-04): ciphertext and key. A member
//!    who leaves takes the record of the guardian's consent with them.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use jikimi_policy::{ConsentMode, Context, IdentityMode, Item, ItemKind};
use jikimi_store::{AuditEntry, DestructionRecord, GuardianRequestRow};
use jikimi_vault::Revealed;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::keyring::GUARDIAN_PREFIX;
use crate::{Actor, CoreError, FieldError, Jikimi, Result};

/// How long a guardian has to consent, and a consented child to join (R-CHD-04).
pub const GUARDIAN_DAYS: i64 = 5;
/// The age of majority (민법 제4조): a guardian who consents must have reached it.
pub const ADULT_AGE: u32 = 19;

/// The child's name as the child gives it.
pub const CHILD_NAME: &str = "child_name";
/// The guardian's name (as the child gives it; the verified name once 본인확인 confirms it).
pub const GUARDIAN_NAME: &str = "guardian_name";
/// The guardian's mobile number (the request is sent by text message).
pub const GUARDIAN_MOBILE: &str = "guardian_mobile";
/// The guardian's e-mail address (the request is sent by e-mail).
pub const GUARDIAN_EMAIL: &str = "guardian_email";
/// The relationship the guardian states.
pub const GUARDIAN_RELATIONSHIP: &str = "guardian_relationship";
/// The guardian's DI from 본인확인, to know the guardian again.
pub const GUARDIAN_DI: &str = "guardian_di";

/// Requests to one guardian contact in a day, on top of the hourly limit.
const GUARDIAN_CONTACT_PER_DAY: crate::Limit = crate::Limit::new(10, Duration::days(1));

/// How long a guardian's mailed way back to the child's account works.
pub const ACCESS_MINUTES: i64 = 30;

/// A guardian verified again, acting for a child member (issue 16): what the guardian's pages
/// carry. Core checks it again on every use ([`Jikimi::guardian_access_valid`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuardianAccess {
    /// The request the guardian consented through.
    pub request: Uuid,
    /// The child member.
    pub member: Uuid,
}

impl GuardianAccess {
    /// The guardian as the audit chain names them.
    pub fn actor(&self) -> Actor {
        Actor::Guardian(self.request)
    }
}

/// The purpose the guardian's items are processed for.
const GUARDIAN_PURPOSE: &str = "guardian_consent";
/// The purpose a member's age is read for.
const AGE_PURPOSE: &str = "age_check";

/// A guardian's consent as the child's sign-up takes it.
pub(crate) struct Consented {
    pub(crate) request: Uuid,
    pub(crate) consents: BTreeMap<String, bool>,
    pub(crate) at: DateTime<Utc>,
    /// The child's name as the child gave it when asking.
    pub(crate) child_name: String,
}

/// Names compared as a person would: spaces and case do not count.
pub(crate) fn same_name(a: &str, b: &str) -> bool {
    let squash = |s: &str| -> String {
        s.chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_lowercase)
            .collect()
    };
    squash(a) == squash(b)
}

/// The retention class of guardian requests and consent records.
pub const GUARDIAN_CLASS: &str = "guardian_consent";
const SEAL_ITEM: &str = "guardian_request";

/// The states of a guardian request.
pub mod state {
    pub const PENDING: &str = "pending";
    pub const CONSENTED: &str = "consented";
    pub const JOINED: &str = "joined";
    pub const REFUSED: &str = "refused";
    pub const EXPIRED: &str = "expired";
}

/// How a guardian's consent was verified (Decree Art. 17-2(1)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardianMethod {
    /// The guardian passed 휴대폰 본인확인 (item 3).
    MobileIdentity,
    /// The guardian consented through the link e-mailed to the address the child gave (item 5).
    EmailLink,
    /// The guardian consented through the link texted to the number the child gave (item 1).
    SmsLink,
}

impl GuardianMethod {
    pub fn name(self) -> &'static str {
        match self {
            Self::MobileIdentity => "mobile_identity",
            Self::EmailLink => "email_link",
            Self::SmsLink => "sms_link",
        }
    }

    /// The key of the web pages' text naming the method.
    pub fn label_key(self) -> &'static str {
        match self {
            Self::MobileIdentity => "gd_m_mobile_identity",
            Self::EmailLink => "gd_m_email_link",
            Self::SmsLink => "gd_m_sms_link",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::MobileIdentity, Self::EmailLink, Self::SmsLink]
            .into_iter()
            .find(|m| m.name() == s)
    }
}

/// What a guardian's link shows: whose request, its state and last moment, and what the
/// guardian must do.
#[derive(Debug, Clone)]
pub struct GuardianView {
    pub id: Uuid,
    /// The child's name as the child gave it.
    pub child_name: String,
    pub state: String,
    pub expires_at: DateTime<Utc>,
    /// The guardian must pass 본인확인 before consenting.
    pub needs_identity: bool,
}

/// What the child's own page shows.
#[derive(Debug, Clone)]
pub struct ChildView {
    pub state: String,
    pub expires_at: DateTime<Utc>,
    /// The consent categories the guardian granted (once consented).
    pub granted: Vec<String>,
}

/// A guardian's decision on the consent page.
#[derive(Clone)]
pub struct GuardianDecision {
    /// Every consent category decided (as at sign-up; in the single-agreement profile the
    /// required ones must all be granted).
    pub consents: BTreeMap<String, bool>,
    /// The relationship item's value.
    pub relationship: String,
    /// The guardian's 본인확인 token (where the policy verifies identities).
    pub identity_token: Option<String>,
}

impl std::fmt::Debug for GuardianDecision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuardianDecision")
            .field("consents", &self.consents)
            .field("identity_token", &self.identity_token.as_ref().map(|_| "…"))
            .finish_non_exhaustive()
    }
}

/// A member's guardian, as My page shows it.
#[derive(Debug, Clone)]
pub struct GuardianRecord {
    pub consented_at: DateTime<Utc>,
    pub method: Option<GuardianMethod>,
}

#[derive(Serialize, Deserialize)]
struct Sealed {
    /// The guardian-context items by id.
    values: BTreeMap<String, String>,
}

fn new_token() -> Revealed {
    let mut raw = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    Revealed::new(URL_SAFE_NO_PAD.encode(raw))
}

fn gone() -> CoreError {
    CoreError::NotFound("guardian request")
}

fn guardian_audit(
    at: DateTime<Utc>,
    actor: &Actor,
    action: &str,
    member: Option<Uuid>,
    items: Vec<String>,
    detail: serde_json::Value,
) -> AuditEntry {
    AuditEntry {
        at,
        actor: actor.audit_name(),
        origin: None,
        action: action.into(),
        member_id: member,
        items,
        purpose: Some(GUARDIAN_PURPOSE.into()),
        outcome: "ok".into(),
        detail,
    }
}

impl Jikimi {
    /// The policy's guardian-context items.
    pub fn guardian_items(&self) -> Vec<Item> {
        self.policy().items_in(Context::Guardian).cloned().collect()
    }

    /// Whether a child can ask a guardian: the policy declares the child's name, the guardian's
    /// name, a contact (mobile or e-mail) and the relationship in context `guardian`, and this
    /// instance can send to that contact.
    pub fn admits_children(&self) -> bool {
        let items = self.guardian_items();
        let has = |id: &str| items.iter().any(|i| i.id == id);
        let reachable = (has(GUARDIAN_MOBILE) && self.sms().is_some())
            || (has(GUARDIAN_EMAIL) && self.mail().is_some());
        has(CHILD_NAME) && has(GUARDIAN_NAME) && has(GUARDIAN_RELATIONSHIP) && reachable
    }

    fn guardians_available(&self) -> Result<()> {
        if self.admits_children() {
            Ok(())
        } else {
            Err(CoreError::Unavailable(
                "the guardian's consent cannot be asked here",
            ))
        }
    }

    /// The items the child gives: their name, the guardian's name and contact (R-CHD-03).
    pub fn child_ask_items(&self) -> Vec<Item> {
        self.guardian_items()
            .into_iter()
            .filter(|i| {
                [CHILD_NAME, GUARDIAN_NAME, GUARDIAN_MOBILE, GUARDIAN_EMAIL]
                    .contains(&i.id.as_str())
            })
            .collect()
    }

    /// The relationship item the guardian answers.
    pub fn relationship_item(&self) -> Option<Item> {
        self.policy().item(GUARDIAN_RELATIONSHIP).cloned()
    }

    /// The child asks a guardian (step 1): `given` holds the child-stage items by id (each
    /// checked as every item: errors name the item and rule, and nothing is written). The
    /// request is sealed under its own key and written with its message in one transaction;
    /// `link` makes the guardian's address from its token. Returns the child's token, which the
    /// child's browser keeps to continue. Limited per client as sign-ups are, and per guardian
    /// contact as account recovery is (5 an hour: nobody's phone is flooded).
    pub async fn ask_guardian(
        &self,
        client: crate::Client,
        given: &BTreeMap<String, Revealed>,
        link: impl Fn(&str) -> String,
    ) -> Result<Revealed> {
        self.guardians_available()?;
        let limits = self.limits().clone();
        self.limit_both(
            crate::Action::SignUp,
            client,
            limits.sign_up_per_client,
            &[],
        )
        .await?;
        let values = crate::validate::given_items(
            &self.child_ask_items(),
            given,
            (
                "법정대리인 동의 요청에 받는 항목이 아닙니다",
                "is not an item of the guardian's consent request",
            ),
        )?;
        // Each request texts or mails the guardian: a number or address is not flooded.
        let contact = values
            .get(GUARDIAN_MOBILE)
            .or_else(|| values.get(GUARDIAN_EMAIL))
            .cloned()
            .unwrap_or_default();
        let target = format!("guardian contact\u{0}{contact}");
        self.limit_both(
            crate::Action::SignUp,
            None,
            limits.sign_up_per_client,
            &[
                (&target, limits.recovery_per_target),
                (&format!("{target}\u{0}day"), GUARDIAN_CONTACT_PER_DAY),
            ],
        )
        .await?;
        let now = self.clock().now();
        let id = Uuid::new_v4();
        let (link_token, child_token) = (new_token(), new_token());
        let expires_at = now + Duration::days(GUARDIAN_DAYS);
        let child = values.get(CHILD_NAME).cloned().unwrap_or_default();
        let content = crate::mail::Content::GuardianAsk {
            child,
            link: link(link_token.expose()),
            until: expires_at,
        };
        let job = match (values.get(GUARDIAN_MOBILE), values.get(GUARDIAN_EMAIL)) {
            (Some(mobile), _) if self.sms().is_some() => {
                let text =
                    crate::mail::render_sms(&content, &self.mail_site())?.unwrap_or_default();
                let letter = crate::mail::Letter {
                    to: mobile.clone(),
                    subject: String::new(),
                    text,
                    html: String::new(),
                    unsubscribe: None,
                };
                Some(
                    self.seal_letter(content.kind(), "sms", None, &letter)
                        .await?,
                )
            }
            (_, Some(email)) => self.letter_job(&content, None, email).await?,
            _ => None,
        };
        let Some(job) = job else {
            return Err(CoreError::Unavailable(
                "no way to reach the guardian is configured",
            ));
        };
        let key = self.keyring().own_key(GUARDIAN_PREFIX, id).await?;
        let items: Vec<String> = values.keys().cloned().collect();
        let plain = zeroize::Zeroizing::new(
            serde_json::to_vec(&Sealed { values })
                .map_err(|e| CoreError::Setup(format!("guardian request: {e}")))?,
        );
        let row = GuardianRequestRow {
            id,
            link_hash: crate::token_hash(link_token.expose()),
            child_hash: crate::token_hash(child_token.expose()),
            state: state::PENDING.into(),
            sealed: Some(key.seal(&id.to_string(), SEAL_ITEM, &plain)?),
            method: None,
            consents: None,
            policy_version: self.policy().version().as_str().to_owned(),
            member_id: None,
            created_at: now,
            expires_at,
            consented_at: None,
            joined_at: None,
            destroyed_at: None,
        };
        let message = job.message.as_ref().map(|m| m.id);
        let audit = guardian_audit(
            now,
            &Actor::Public,
            "guardian.ask",
            None,
            items,
            serde_json::json!({ "request": id, "message": message }),
        );
        let jobs = vec![job];
        if let Err(e) = self
            .store()
            .insert_guardian_request(row, jobs.clone(), vec![audit])
            .await
        {
            self.discard_letters(&jobs).await;
            if let Err(k) = self
                .keyring()
                .destroy_own_keys(GUARDIAN_PREFIX, &[id])
                .await
            {
                tracing::error!(error = %k, "could not remove the key of a failed guardian request");
            }
            return Err(e.into());
        }
        tracing::info!(request = %id, "guardian consent asked");
        Ok(child_token)
    }

    /// A live request (pending or consented, within its time) by a token's hash.
    fn live_request(&self, row: Option<GuardianRequestRow>) -> Result<GuardianRequestRow> {
        let row = row.ok_or_else(gone)?;
        if row.sealed.is_none() || row.expires_at <= self.clock().now() {
            return Err(gone());
        }
        Ok(row)
    }

    async fn open_request(&self, row: &GuardianRequestRow) -> Result<Sealed> {
        let sealed = row.sealed.as_deref().ok_or_else(gone)?;
        let key = self
            .keyring()
            .existing_own_key(GUARDIAN_PREFIX, row.id)
            .await?
            .ok_or_else(gone)?;
        let plain = zeroize::Zeroizing::new(key.open(&row.id.to_string(), SEAL_ITEM, sealed)?);
        serde_json::from_slice(&plain)
            .map_err(|e| CoreError::Setup(format!("guardian request: {e}")))
    }

    /// The request behind a guardian's link, as the guardian's page shows it. `NotFound` when
    /// the link is unknown, refused, destroyed or past its time.
    pub async fn guardian_view(&self, link_token: &str) -> Result<GuardianView> {
        let hash = crate::token_hash(link_token.trim());
        let row = self.live_request(self.store().guardian_request_by_link(&hash).await?)?;
        let sealed = self.open_request(&row).await?;
        // Whoever holds the link reads the child's name: a read with its reason, logged.
        let e = guardian_audit(
            self.clock().now(),
            &Actor::Public,
            "item.reveal",
            None,
            vec![CHILD_NAME.into()],
            serde_json::json!({ "request": row.id }),
        );
        self.store().append_audit(vec![e]).await?;
        Ok(GuardianView {
            id: row.id,
            child_name: sealed.values.get(CHILD_NAME).cloned().unwrap_or_default(),
            state: row.state,
            expires_at: row.expires_at,
            needs_identity: self.policy().meta.identity == IdentityMode::Verification,
        })
    }

    /// The guardian consents (step 2). Where the policy verifies identities, `identity_token`
    /// must be a 본인확인 of an adult (taken once); elsewhere the link is the proof. The
    /// relationship is checked as an item; in the single-agreement profile every required
    /// consent must be granted (else `AgreementDeclined`, nothing written). The request becomes
    /// `consented` with the method, the time and the choices, and the child has
    /// [`GUARDIAN_DAYS`] days to join.
    pub async fn guardian_consent(&self, link_token: &str, d: GuardianDecision) -> Result<()> {
        self.guardians_available()?;
        let hash = crate::token_hash(link_token.trim());
        let row = self.live_request(self.store().guardian_request_by_link(&hash).await?)?;
        if row.state != state::PENDING {
            return Err(CoreError::Conflict(
                "the guardian has already decided".into(),
            ));
        }
        let policy = self.policy().clone();
        let mut errors = Vec::new();
        for category in d.consents.keys() {
            if policy.consent(category).is_none() {
                errors.push(FieldError::new(
                    &format!("consents.{category}"),
                    "consent.unknown",
                    "처리방침에 없는 동의 항목입니다",
                    "is not a consent category of the privacy policy",
                ));
            }
        }
        if policy.meta.consent_mode == ConsentMode::SingleAgreement
            && !policy
                .consents
                .iter()
                .filter(|c| c.required)
                .all(|c| d.consents.get(&c.id).copied().unwrap_or(false))
        {
            return Err(CoreError::AgreementDeclined);
        }
        let relationship = match self.relationship_item() {
            Some(item) => match crate::validate::normalize(&item, d.relationship.trim()) {
                Ok(n) if !d.relationship.trim().is_empty() => Some(n.stored.expose().to_owned()),
                Ok(_) => {
                    errors.push(FieldError::new(
                        GUARDIAN_RELATIONSHIP,
                        "required",
                        format!("{}: 필수 항목입니다", item.label.ko),
                        format!("{}: is required", item.label.en),
                    ));
                    None
                }
                Err(e) => {
                    errors.push(e);
                    None
                }
            },
            None => None,
        };
        if !errors.is_empty() {
            return Err(CoreError::Invalid(errors));
        }
        let mut sealed = self.open_request(&row).await?;
        let method = if policy.meta.identity == IdentityMode::Verification {
            let Some(token) = d.identity_token.as_deref() else {
                return Err(CoreError::Invalid(vec![FieldError::new(
                    "identity",
                    "identity.required",
                    "법정대리인 본인확인을 먼저 마쳐 주세요",
                    "the guardian's identity verification must be completed first",
                )]));
            };
            let id = self.take_identity(token).await?;
            if jikimi_kr::is_under(id.birth_date, self.clock().today_kst(), ADULT_AGE) {
                return Err(not_adult());
            }
            // The person verified is the one the child's request was texted to.
            let e164 = |m: &str| jikimi_kr::Phone::parse(m).ok().map(|p| p.e164().to_owned());
            if let Some(texted) = sealed.values.get(GUARDIAN_MOBILE)
                && e164(texted) != e164(&id.mobile)
            {
                return Err(CoreError::Invalid(vec![FieldError::new(
                    "identity",
                    "guardian.other_mobile",
                    "본인확인한 휴대전화번호가 동의 요청을 받은 번호와 다릅니다. 요청을 받은 휴대전화로 본인확인을 해 주세요",
                    "the mobile number verified is not the one the request was sent to: verify with that phone",
                )]));
            }
            // The verified name is the guardian's name; the DI knows the guardian again.
            sealed.values.insert(GUARDIAN_NAME.into(), id.name.clone());
            if policy.item(GUARDIAN_DI).is_some() {
                sealed.values.insert(GUARDIAN_DI.into(), id.di.clone());
            }
            GuardianMethod::MobileIdentity
        } else if sealed.values.contains_key(GUARDIAN_EMAIL) {
            GuardianMethod::EmailLink
        } else {
            GuardianMethod::SmsLink
        };
        if let Some(r) = relationship {
            sealed.values.insert(GUARDIAN_RELATIONSHIP.into(), r);
        }
        let consents: BTreeMap<String, bool> = policy
            .consents
            .iter()
            .map(|c| {
                (
                    c.id.clone(),
                    d.consents.get(&c.id).copied().unwrap_or(false),
                )
            })
            .collect();
        let now = self.clock().now();
        let key = self.keyring().own_key(GUARDIAN_PREFIX, row.id).await?;
        let plain = zeroize::Zeroizing::new(
            serde_json::to_vec(&sealed)
                .map_err(|e| CoreError::Setup(format!("guardian request: {e}")))?,
        );
        let items: Vec<String> = sealed.values.keys().cloned().collect();
        let next = GuardianRequestRow {
            state: state::CONSENTED.into(),
            sealed: Some(key.seal(&row.id.to_string(), SEAL_ITEM, &plain)?),
            method: Some(method.name().into()),
            consents: Some(
                serde_json::to_string(&consents)
                    .map_err(|e| CoreError::Setup(format!("guardian consents: {e}")))?,
            ),
            consented_at: Some(now),
            // The version the guardian read: the child joins only under it.
            policy_version: policy.version().as_str().to_owned(),
            // The request keeps its 5 days: the child joins within them (R-CHD-04).
            ..row.clone()
        };
        let audit = guardian_audit(
            now,
            &Actor::Guardian(row.id),
            "guardian.consent",
            None,
            items,
            serde_json::json!({ "request": row.id, "method": method.name(),
                "policy_version": policy.version().as_str(), "consents": consents }),
        );
        if !self
            .store()
            .update_guardian_request(&next, state::PENDING, None, vec![audit])
            .await?
        {
            return Err(CoreError::Conflict(
                "the guardian has already decided".into(),
            ));
        }
        tracing::info!(request = %row.id, method = method.name(), "guardian consented");
        Ok(())
    }

    /// The guardian refuses, or takes back a consent the child has not used yet: the request is
    /// destroyed at once (R-CHD-04), with its destruction record.
    pub async fn guardian_refuse(&self, link_token: &str) -> Result<()> {
        let hash = crate::token_hash(link_token.trim());
        let row = self.live_request(self.store().guardian_request_by_link(&hash).await?)?;
        if row.state != state::PENDING && row.state != state::CONSENTED {
            return Err(CoreError::Conflict(
                "the guardian has already decided".into(),
            ));
        }
        let actor = Actor::Guardian(row.id);
        self.destroy_request(&row, state::REFUSED, "guardian_refusal", &actor, None)
            .await?;
        Ok(())
    }

    /// Destroys one request (refused, or expired): ciphertext NULL and the new state with its
    /// destruction record in one transaction, then its key. `false` when it had moved on.
    async fn destroy_request(
        &self,
        row: &GuardianRequestRow,
        to: &str,
        event: &str,
        actor: &Actor,
        run_id: Option<Uuid>,
    ) -> Result<bool> {
        let now = self.clock().now();
        let record = self.guardian_destruction(event, actor, now, 1, run_id);
        let next = GuardianRequestRow {
            state: to.into(),
            sealed: None,
            destroyed_at: Some(now),
            ..row.clone()
        };
        let audit = guardian_audit(
            now,
            actor,
            "guardian.destroy",
            None,
            self.guardian_items().into_iter().map(|i| i.id).collect(),
            serde_json::json!({ "request": row.id, "state": to, "destruction": record.id }),
        );
        if !self
            .store()
            .update_guardian_request(&next, &row.state, Some(record), vec![audit])
            .await?
        {
            return Ok(false);
        }
        self.keyring()
            .destroy_own_keys(GUARDIAN_PREFIX, &[row.id])
            .await?;
        Ok(true)
    }

    fn guardian_destruction(
        &self,
        event: &str,
        actor: &Actor,
        at: DateTime<Utc>,
        count: i64,
        run_id: Option<Uuid>,
    ) -> DestructionRecord {
        DestructionRecord {
            id: Uuid::new_v4(),
            at,
            event: event.into(),
            class: GUARDIAN_CLASS.into(),
            period: self
                .policy()
                .retention_class(GUARDIAN_CLASS)
                .map(|c| c.period.to_string())
                .unwrap_or_else(|| format!("{GUARDIAN_DAYS}d unless consented")),
            count,
            method: "key_destruction".into(),
            actor: actor.audit_name(),
            run_id,
        }
    }

    /// The child's request as the child's page shows it. `NotFound` when unknown or destroyed.
    pub async fn child_view(&self, child_token: &str) -> Result<ChildView> {
        let hash = crate::token_hash(child_token.trim());
        let row = self
            .store()
            .guardian_request_by_child(&hash)
            .await?
            .ok_or_else(gone)?;
        let expired = row.expires_at <= self.clock().now()
            && (row.state == state::PENDING || row.state == state::CONSENTED);
        Ok(ChildView {
            state: if expired {
                state::EXPIRED.into()
            } else {
                row.state.clone()
            },
            expires_at: row.expires_at,
            granted: granted(&row),
        })
    }

    /// The consented request behind a child's token, for the child's sign-up: in force, and
    /// given under the policy version in force now (a guardian consents to what they read).
    /// `ChildNeedsGuardian` when there is none.
    pub(crate) async fn consented_request(&self, child_token: &str) -> Result<Consented> {
        let hash = crate::token_hash(child_token.trim());
        let refuse = || CoreError::ChildNeedsGuardian {
            age: self.policy().meta.child_age,
        };
        let Some(row) = self.store().guardian_request_by_child(&hash).await? else {
            return Err(refuse());
        };
        if row.state != state::CONSENTED
            || row.sealed.is_none()
            || row.expires_at <= self.clock().now()
            || row.policy_version != self.policy().version().as_str()
        {
            return Err(refuse());
        }
        let consents: BTreeMap<String, bool> = row
            .consents
            .as_deref()
            .and_then(|c| serde_json::from_str(c).ok())
            .unwrap_or_default();
        let sealed = self.open_request(&row).await?;
        Ok(Consented {
            request: row.id,
            consents,
            at: row.consented_at.unwrap_or(row.created_at),
            child_name: sealed.values.get(CHILD_NAME).cloned().unwrap_or_default(),
        })
    }

    /// The record of the guardian's consent a member joined with, if any (My page).
    pub async fn member_guardian(&self, member: Uuid) -> Result<Option<GuardianRecord>> {
        Ok(self.store().member_guardian(member).await?.and_then(|r| {
            r.consented_at.map(|at| GuardianRecord {
                consented_at: at,
                method: r.method.as_deref().and_then(GuardianMethod::parse),
            })
        }))
    }

    /// Whether `member` joined on a guardian's consent and is still under the policy's age
    /// (their birth date, or the RRN's, read with their key). Members who joined as adults are
    /// answered from the guardian table alone.
    pub async fn is_child_member(&self, member: Uuid) -> Result<bool> {
        if self.store().member_guardian(member).await?.is_none() {
            return Ok(false);
        }
        // The age is read as every read is: for a purpose the policy lists, and logged.
        let policy = self.policy().clone();
        let ids: Vec<&str> = policy
            .items
            .iter()
            .filter(|i| matches!(i.kind, ItemKind::BirthDate | ItemKind::Rrn))
            .map(|i| i.id.as_str())
            .collect();
        // (Opened here rather than through `reveal`, whose subject check asks this question.)
        if let Some(id) = ids.iter().find(|id| !policy.allows(id, AGE_PURPOSE)) {
            return Err(CoreError::PurposeDenied {
                item: (*id).to_owned(),
                purpose: AGE_PURPOSE.into(),
                reason: "purpose not listed for the item in the policy",
            });
        }
        let names: Vec<String> = ids.iter().map(|i| (*i).to_owned()).collect();
        let Some(rows) = self.store().member_items(member, Some(&names)).await? else {
            return Err(CoreError::NotFound("member"));
        };
        let (values, entry) = self
            .open_rows(
                self.clock().now(),
                &Actor::System,
                None,
                member,
                AGE_PURPOSE,
                rows,
            )
            .await?;
        self.store().append_audit(vec![entry]).await?;
        Ok(self.birth_date(&values, None).is_some_and(|b| {
            jikimi_kr::is_under(b, self.clock().today_kst(), policy.meta.child_age)
        }))
    }

    /// The purge's share: requests past their time are destroyed, each with its destruction
    /// record. Returns how many (with `dry_run`, how many would be).
    pub(crate) async fn purge_guardian_requests(
        &self,
        actor: &Actor,
        run_id: Uuid,
        dry_run: bool,
    ) -> Result<i64> {
        let now = self.clock().now();
        let ids = self.store().expired_guardian_requests(now).await?;
        if dry_run {
            return Ok(ids.len() as i64);
        }
        let mut n = 0;
        for id in ids {
            if let Some(row) = self.store().guardian_request(id).await?
                && self
                    .destroy_request(&row, state::EXPIRED, "purge", actor, Some(run_id))
                    .await?
            {
                n += 1;
            }
        }
        Ok(n)
    }

    /// Whether `actor` is the guardian through whose consent `member` joined (their record still
    /// held). Only a guardian actor costs a query.
    pub(crate) async fn acts_for(&self, actor: &Actor, member: Uuid) -> Result<bool> {
        let Actor::Guardian(request) = actor else {
            return Ok(false);
        };
        Ok(self
            .store()
            .member_guardian(member)
            .await?
            .is_some_and(|r| r.id == *request && r.sealed.is_some()))
    }

    /// The joined request and child behind a login ID, if the member joined through a
    /// guardian and is still a child.
    async fn child_record(&self, login_id: &str) -> Result<Option<(Uuid, GuardianRequestRow)>> {
        let login = login_id.trim().to_lowercase();
        let index = self.digest(crate::members::LOGIN_DOMAIN, &login);
        let Some(member) = self.store().member_by_login(&index).await?.map(|m| m.id) else {
            return Ok(None);
        };
        let Some(row) = self.store().member_guardian(member).await? else {
            return Ok(None);
        };
        if row.sealed.is_none() || !self.is_child_member(member).await? {
            return Ok(None);
        }
        Ok(Some((member, row)))
    }

    fn access_audit(&self, access: &GuardianAccess, how: &str) -> AuditEntry {
        let mut e = guardian_audit(
            self.clock().now(),
            &access.actor(),
            "guardian.access",
            Some(access.member),
            Vec::new(),
            serde_json::json!({ "request": access.request, "verified_by": how }),
        );
        e.purpose = Some(crate::SUBJECT_ACCESS.into());
        e
    }

    /// A guardian comes back for the child (where the policy verifies identities): the
    /// guardian's new 본인확인 (`identity_token`, taken once; an adult) must be the one who
    /// consented (the same DI), and the member of `login_id` still a child. Limited per client
    /// as account recovery is.
    pub async fn guardian_access_by_identity(
        &self,
        client: crate::Client,
        login_id: &str,
        identity_token: &str,
    ) -> Result<GuardianAccess> {
        let limits = self.limits().clone();
        self.limit_both(
            crate::Action::Recovery,
            client,
            limits.recovery_per_client,
            &[],
        )
        .await?;
        let id = self.take_identity(identity_token).await?;
        if jikimi_kr::is_under(id.birth_date, self.clock().today_kst(), ADULT_AGE) {
            return Err(not_adult());
        }
        let Some((member, row)) = self.child_record(login_id).await? else {
            return Err(not_guardian());
        };
        let sealed = self.open_request(&row).await?;
        if sealed.values.get(GUARDIAN_DI) != Some(&id.di) {
            return Err(not_guardian());
        }
        let access = GuardianAccess {
            request: row.id,
            member,
        };
        self.store()
            .append_audit(vec![
                self.access_audit(&access, GuardianMethod::MobileIdentity.name()),
            ])
            .await?;
        Ok(access)
    }

    /// A guardian comes back for the child (where the link is the proof): if `email` is the
    /// address the guardian consented through for the member of `login_id`, still a child, a
    /// one-time link (valid [`ACCESS_MINUTES`] minutes) is mailed to it. The answer is the same
    /// either way, so nobody learns who has a guardian.
    pub async fn send_guardian_access(
        &self,
        client: crate::Client,
        login_id: &str,
        email: &str,
        link: impl Fn(&str) -> String,
    ) -> Result<()> {
        let limits = self.limits().clone();
        let target = format!("guardian\u{0}{}", login_id.trim().to_lowercase());
        self.limit_both(
            crate::Action::Recovery,
            client,
            limits.recovery_per_client,
            &[(&target, limits.recovery_per_target)],
        )
        .await?;
        let Some((member, row)) = self.child_record(login_id).await? else {
            return Ok(());
        };
        let sealed = self.open_request(&row).await?;
        let Some(address) = sealed.values.get(GUARDIAN_EMAIL) else {
            return Ok(());
        };
        let given = email.trim().to_lowercase();
        if address.to_lowercase() != given {
            return Ok(());
        }
        let token = new_token();
        let now = self.clock().now();
        let valid_for = Duration::minutes(ACCESS_MINUTES);
        let content = crate::mail::Content::GuardianAccess {
            link: link(token.expose()),
            valid_for,
        };
        let Some(job) = self.letter_job(&content, Some(member), address).await? else {
            return Err(CoreError::Unavailable(
                "no way to reach the guardian is configured",
            ));
        };
        // Nobody is verified yet: the asker is the public, the address the guardian's.
        let mut audit = guardian_audit(
            now,
            &Actor::Public,
            "mail.queued",
            Some(member),
            vec![GUARDIAN_EMAIL.into()],
            serde_json::json!({ "kind": content.kind().name(),
                "message": job.message.as_ref().map(|m| m.id) }),
        );
        audit.purpose = Some(crate::SUBJECT_ACCESS.into());
        let jobs = vec![job];
        if let Err(e) = self
            .store()
            .set_guardian_access(
                row.id,
                &crate::token_hash(token.expose()),
                now + valid_for,
                now,
                jobs.clone(),
                vec![audit],
            )
            .await
        {
            self.discard_letters(&jobs).await;
            return Err(e.into());
        }
        Ok(())
    }

    /// The guardian opened the mailed link: taken once, within its time, for a child still.
    pub async fn guardian_access_by_link(&self, token: &str) -> Result<GuardianAccess> {
        let hash = crate::token_hash(token.trim());
        let Some(request) = self
            .store()
            .take_guardian_access(&hash, self.clock().now())
            .await?
        else {
            return Err(gone());
        };
        let member = self
            .store()
            .guardian_request(request)
            .await?
            .and_then(|r| r.member_id)
            .ok_or_else(gone)?;
        if !self.is_child_member(member).await? {
            return Err(gone());
        }
        let access = GuardianAccess { request, member };
        self.store()
            .append_audit(vec![
                self.access_audit(&access, GuardianMethod::EmailLink.name()),
            ])
            .await?;
        Ok(access)
    }

    /// A guardian acting for `member` must be the guardian of record of a child still under
    /// the policy's age; any other actor is the caller's business. `Forbidden` otherwise.
    pub(crate) async fn guardian_may_act(&self, actor: &Actor, member: Uuid) -> Result<()> {
        if !matches!(actor, Actor::Guardian(_)) {
            return Ok(());
        }
        if self.acts_for(actor, member).await? && self.is_child_member(member).await? {
            Ok(())
        } else {
            Err(CoreError::Forbidden(
                "only the guardian of record acts for a child under the policy's age",
            ))
        }
    }

    /// Whether a guardian's access still holds: the record is the member's and the member is
    /// still a child.
    pub async fn guardian_access_valid(&self, access: &GuardianAccess) -> Result<bool> {
        Ok(self.acts_for(&access.actor(), access.member).await?
            && self.is_child_member(access.member).await?)
    }

    /// Destroys the keys of guardian requests that hold nothing any more (an interrupted
    /// destruction or withdrawal), older than `grace`. Returns how many.
    pub(crate) async fn sweep_orphan_guardian_keys(&self, grace: Duration) -> Result<usize> {
        self.sweep_own_keys(GUARDIAN_PREFIX, grace).await
    }

    /// A leaving member's record of the guardian's consent: its request id (whose key is
    /// destroyed after the withdrawal commits) and the destruction record the withdrawal writes.
    pub(crate) async fn guardian_leaving(
        &self,
        actor: &Actor,
        member: Uuid,
        at: DateTime<Utc>,
    ) -> Result<(Vec<Uuid>, Option<DestructionRecord>)> {
        let Some(row) = self.store().member_guardian(member).await? else {
            return Ok((Vec::new(), None));
        };
        let record = self.guardian_destruction("withdrawal", actor, at, 1, None);
        Ok((vec![row.id], Some(record)))
    }
}

/// The consent categories a request's guardian granted.
fn granted(row: &GuardianRequestRow) -> Vec<String> {
    row.consents
        .as_deref()
        .and_then(|c| serde_json::from_str::<BTreeMap<String, bool>>(c).ok())
        .map(|m| m.into_iter().filter(|(_, g)| *g).map(|(c, _)| c).collect())
        .unwrap_or_default()
}

/// The verified person or the address is not this child's guardian (or the child is 14 now):
/// the same answer for every case, naming the login ID field.
fn not_guardian() -> CoreError {
    CoreError::Invalid(vec![FieldError::new(
        "login_id",
        "guardian.not_found",
        "이 아이디의 회원을 대신할 법정대리인으로 확인되지 않습니다. 아이디를 확인해 주세요. 만 14세가 된 회원은 직접 관리합니다.",
        "You could not be confirmed as the legal guardian of the member with this login ID. Check the login ID. A member who is 14 manages their own account.",
    )])
}

/// A guardian who is not an adult.
pub(crate) fn not_adult() -> CoreError {
    CoreError::Invalid(vec![FieldError::new(
        "identity",
        "guardian.adult",
        "법정대리인은 만 19세 이상 성인이어야 합니다",
        "the guardian must be an adult (19 or over)",
    )])
}
