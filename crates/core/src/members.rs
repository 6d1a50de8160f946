//! What sign-up, correction, reveals and consents share: the item checks against the policy and
//! the consents, login IDs, member keys, personal fragments, audit entries. Each feature lives in
//! its own module (`signup`, `correction`, `access`, `consent`).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use jikimi_kr::Rrn;
use jikimi_policy::{Item, ItemKind, LegalBasis};
use jikimi_store::AuditEntry;
use jikimi_vault::{DataKey, Revealed};
use serde::Serialize;
use uuid::Uuid;

use crate::validate::{self, Normalized};
use crate::{Actor, CoreError, FieldError, Jikimi, Result};

/// The blind-index domain of login IDs.
pub(crate) const LOGIN_DOMAIN: &str = "login_id";
/// The seal "item" of the login ID.
pub(crate) const LOGIN_ITEM: &str = "@login_id";

/// The prefix of look-up index domains (`lookup:<item>`): phone numbers, which two accounts may
/// share, so that staff can find a member by one (there is no list of members to browse).
pub(crate) const LOOKUP_PREFIX: &str = "lookup:";

/// Whether staff find members by this item through a look-up index: a phone number that is not
/// unique (a unique one has its blind index already).
pub(crate) fn looked_up(item: &Item) -> bool {
    !item.unique && matches!(item.kind, ItemKind::Mobile | ItemKind::Phone)
}

/// What a 본인확인 provider returned for the applicant.
#[derive(Clone)]
pub struct VerifiedIdentity {
    pub ci: String,
    pub di: String,
    pub birth_date: NaiveDate,
    pub name: String,
    pub mobile: String,
}

impl std::fmt::Debug for VerifiedIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VerifiedIdentity(<redacted>)")
    }
}

/// A sign-up request: login ID, password, item values by item id, consent decisions by category.
#[derive(Clone)]
pub struct SignUp {
    pub login_id: String,
    pub password: Revealed,
    pub items: BTreeMap<String, Revealed>,
    pub consents: BTreeMap<String, bool>,
    pub identity: Option<VerifiedIdentity>,
    /// `web`, `api`, `office`.
    pub channel: String,
    /// The address the request came from, for the abuse limits (never stored); `None` outside
    /// a request.
    pub client: crate::Client,
    /// A child's token of a request their legal guardian consented to (issue 16): the age gate
    /// lets the child through, and the guardian's choices are the consents.
    pub guardian: Option<String>,
}

impl std::fmt::Debug for SignUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignUp")
            .field("items", &self.items.keys().collect::<Vec<_>>())
            .field("consents", &self.consents)
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

/// The current state of one consent category, derived from the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsentState {
    pub category: String,
    pub granted: bool,
    pub at: Option<DateTime<Utc>>,
    pub policy_version: Option<String>,
}

pub(crate) fn audit_entry(
    at: DateTime<Utc>,
    actor: &Actor,
    action: &str,
    member: Uuid,
) -> AuditEntry {
    audit(at, actor, action, member, vec![])
}

pub(crate) fn audit(
    at: DateTime<Utc>,
    actor: &Actor,
    action: &str,
    member: Uuid,
    items: Vec<String>,
) -> AuditEntry {
    AuditEntry {
        at,
        actor: actor.audit_name(),
        origin: None,
        action: action.to_owned(),
        member_id: Some(member),
        items,
        purpose: None,
        outcome: "ok".into(),
        detail: serde_json::Value::Null,
    }
}

/// `member01` → `me*****1`.
pub(crate) fn mask_login(login: &str) -> String {
    let c: Vec<char> = login.chars().collect();
    if c.len() <= 3 {
        return format!("{}**", c.first().map(|c| c.to_string()).unwrap_or_default());
    }
    format!(
        "{}{}{}",
        c[..2].iter().collect::<String>(),
        "*".repeat(c.len() - 3),
        c[c.len() - 1]
    )
}

impl Jikimi {
    /// The look-up index entry of a phone number (its stored form) of `member`: the keyed digest
    /// followed by the member's id, so that several members may share the number and a look-up
    /// is a range of the index.
    pub(crate) fn lookup_entry(
        &self,
        item: &str,
        stored: &str,
        member: Uuid,
    ) -> jikimi_store::IndexEntry {
        let domain = format!("{LOOKUP_PREFIX}{item}");
        let mut digest = self.digest(&domain, stored);
        digest.extend_from_slice(member.as_bytes());
        jikimi_store::IndexEntry { domain, digest }
    }

    pub(crate) fn granted(&self, consents: &BTreeMap<String, bool>, category: &str) -> bool {
        consents.get(category).copied().unwrap_or(false)
    }

    /// Validates the items of a sign-up or correction. Returns normalised values by item id.
    pub(crate) fn check_items(
        &self,
        given: &BTreeMap<String, Revealed>,
        consents: &BTreeMap<String, bool>,
        errors: &mut Vec<FieldError>,
    ) -> BTreeMap<String, Normalized> {
        let policy = self.policy();
        let mut out = BTreeMap::new();
        for (id, raw) in given {
            let Some(item) = policy.item(id) else {
                errors.push(FieldError::new(
                    id,
                    "item.unknown",
                    "처리방침에 없는 항목은 받을 수 없습니다",
                    "is not an item of the privacy policy and cannot be stored",
                ));
                continue;
            };
            if item.context != jikimi_policy::Context::Signup {
                errors.push(FieldError::new(
                    id,
                    "item.context",
                    format!("{}: 회원가입에서 받는 항목이 아닙니다", item.label.ko),
                    format!("{}: is not collected at sign-up", item.label.en),
                ));
                continue;
            }
            if raw.expose().trim().is_empty() {
                continue;
            }
            if let Some(err) = self.consent_gap(item, consents) {
                errors.push(err);
                continue;
            }
            match validate::normalize(item, raw.expose()) {
                Ok(n) => {
                    out.insert(id.clone(), n);
                }
                Err(e) => errors.push(e),
            }
        }
        out
    }

    /// An item collected on consent needs that consent to be given.
    pub(crate) fn consent_gap(
        &self,
        item: &Item,
        consents: &BTreeMap<String, bool>,
    ) -> Option<FieldError> {
        if item.basis != LegalBasis::Consent {
            return None;
        }
        let category = item.consent.as_deref().unwrap_or_default();
        if self.granted(consents, category) {
            return None;
        }
        // The consent as the member saw it on screen, never its internal id.
        let (title_ko, title_en) = self
            .policy()
            .consent(category)
            .map(|c| (c.title.ko.clone(), c.title.en.clone()))
            .unwrap_or_default();
        Some(FieldError::new(
            &item.id,
            "consent.missing",
            format!(
                "{}: 이 선택 항목은 「{title_ko}」에 동의한 경우에만 저장할 수 있습니다",
                item.label.ko
            ),
            format!(
                "{}: this optional item can only be stored with the consent “{title_en}”",
                item.label.en
            ),
        ))
    }

    pub(crate) async fn login_id_of(&self, member: Uuid) -> Result<Option<Revealed>> {
        let Some(row) = self.store().member(member).await? else {
            return Ok(None);
        };
        let key = self.member_key(member).await?;
        Ok(Some(key.open_str(
            &member.to_string(),
            LOGIN_ITEM,
            &row.login_sealed,
        )?))
    }

    /// Strings a member's password must not contain: login-independent parts (birth date from
    /// the birth-date or RRN item, phone numbers).
    pub(crate) async fn personal_fragments(&self, member: Uuid) -> Result<Vec<String>> {
        let policy = self.policy().clone();
        let wanted: Vec<String> = policy
            .items
            .iter()
            .filter(|i| {
                matches!(
                    i.kind,
                    ItemKind::BirthDate | ItemKind::Rrn | ItemKind::Mobile | ItemKind::Phone
                )
            })
            .map(|i| i.id.clone())
            .collect();
        let key = self.member_key(member).await?;
        let owner = member.to_string();
        let mut birth = None;
        let mut phones = Vec::new();
        for row in self.store().items(member, Some(&wanted)).await? {
            let v = key.open_str(&owner, &row.item_id, &row.sealed)?;
            match policy.item(&row.item_id).map(|i| i.kind) {
                Some(ItemKind::BirthDate) => {
                    birth = NaiveDate::parse_from_str(v.expose(), "%Y-%m-%d").ok()
                }
                Some(ItemKind::Rrn) => birth = Rrn::parse(v.expose()).ok().map(|r| r.birth_date()),
                _ => phones.push(v),
            }
        }
        let refs: Vec<&str> = phones.iter().map(|p| p.expose()).collect();
        Ok(validate::personal_fragments(birth, &refs))
    }

    /// The member's key. A member who withdrew meanwhile (on this instance or another) is
    /// `NotFound`; a live member without a key is an integrity error.
    pub(crate) async fn member_key(&self, member: Uuid) -> Result<std::sync::Arc<DataKey>> {
        match self.keyring().member_key(member).await? {
            Some(key) => Ok(key),
            None if self.store().member(member).await?.is_none() => {
                Err(CoreError::NotFound("member"))
            }
            None => Err(CoreError::KeyMissing),
        }
    }

    /// A change that failed because the member withdrew meanwhile (on this instance or another:
    /// their consents or key vanished half-way) is `NotFound`, not a validation or integrity error.
    pub(crate) async fn gone_is_not_found<T>(&self, member: Uuid, result: Result<T>) -> Result<T> {
        match result {
            Err(e)
                if !matches!(e, CoreError::NotFound(_))
                    && self.store().member(member).await?.is_none() =>
            {
                tracing::debug!(member = %member, error = %e, "the member withdrew during a change");
                Err(CoreError::NotFound("member"))
            }
            other => other,
        }
    }
}
