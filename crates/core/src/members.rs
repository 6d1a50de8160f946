//! Sign-up, authentication, purpose-checked reveal, correction and the consent ledger.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use jikimi_kr::Rrn;
use jikimi_policy::{ConsentKind, ConsentMode, IdentityMode, Item, ItemKind, LegalBasis};
use jikimi_store::{
    AuditEntry, IndexEntry, MemberChange, NewConsentEvent, NewMember, SealedItem, StoreError,
};
use jikimi_vault::{DataKey, Revealed};
use serde::Serialize;
use uuid::Uuid;

use crate::validate::{self, Normalized};
use crate::{Actor, CoreError, FieldError, Jikimi, Result, SUBJECT_ACCESS};

/// The blind-index domain of login IDs.
pub(crate) const LOGIN_DOMAIN: &str = "login_id";
/// The seal "item" of the login ID.
pub(crate) const LOGIN_ITEM: &str = "@login_id";

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

fn audit(
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
    fn granted(&self, consents: &BTreeMap<String, bool>, category: &str) -> bool {
        consents.get(category).copied().unwrap_or(false)
    }

    /// Validates the items of a sign-up or correction. Returns normalised values by item id.
    fn check_items(
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
    fn consent_gap(&self, item: &Item, consents: &BTreeMap<String, bool>) -> Option<FieldError> {
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

    /// 아이디 중복확인: `Ok(())` when `raw` follows the login-ID rule and nobody uses it; else
    /// `Invalid` naming the `login_id` field and the rule. Answers only about the login ID.
    pub async fn check_login_id(&self, raw: &str) -> Result<()> {
        let login = validate::login_id(raw).map_err(|e| CoreError::Invalid(vec![e]))?;
        self.login_free(&login).await.map(|_| ())
    }

    /// The blind index of a valid login ID nobody uses; `login_id.taken` otherwise.
    async fn login_free(&self, login: &str) -> Result<Vec<u8>> {
        let index = self.digest(LOGIN_DOMAIN, login);
        if self.store().member_by_login(&index).await?.is_some() {
            return Err(CoreError::field(
                "login_id",
                "login_id.taken",
                "이미 사용 중인 아이디입니다",
                "this login ID is already taken",
            ));
        }
        Ok(index)
    }

    /// Signs a member up. Either everything is stored (member, sealed items, indexes, consents,
    /// audit entries, the welcome notice in the outbox) or nothing is.
    pub async fn sign_up(&self, req: SignUp) -> Result<Uuid> {
        let policy = self.policy().clone();
        let now = self.clock().now();
        let today = self.clock().today_kst();

        // 1. The consent decisions: unknown categories are errors; 동의하지 않음 ends here.
        let mut errors = Vec::new();
        for category in req.consents.keys() {
            if policy.consent(category).is_none() {
                errors.push(FieldError::new(
                    &format!("consents.{category}"),
                    "consent.unknown",
                    "처리방침에 없는 동의 항목입니다",
                    "is not a consent category of the privacy policy",
                ));
            }
        }
        if policy.meta.consent_mode == ConsentMode::SingleAgreement {
            let agreed = policy
                .consents
                .iter()
                .filter(|c| c.required)
                .all(|c| self.granted(&req.consents, &c.id));
            if !agreed {
                return Err(CoreError::AgreementDeclined);
            }
        }

        // 2. Identity: the verified identity fills its items; the RRN gives the birth date.
        let mut items = req.items.clone();
        if policy.meta.identity == IdentityMode::Verification {
            match &req.identity {
                Some(id) => {
                    for (item, value) in [
                        ("ci", id.ci.clone()),
                        ("di", id.di.clone()),
                        ("birth_date", id.birth_date.format("%Y-%m-%d").to_string()),
                    ] {
                        if policy.item(item).is_some() {
                            items.insert(item.into(), Revealed::new(value));
                        }
                    }
                    // The verified name is the name; a mobile number typed in is kept.
                    if policy.item("name").is_some() {
                        items.insert("name".into(), Revealed::new(id.name.clone()));
                    }
                    // The verified mobile number fills the `mobile` item only where it may be
                    // stored: a contract item, or a consent item whose consent was given. An
                    // optional consent refused stays refused (PIPA Art. 16(3), 22(5)).
                    if policy
                        .item("mobile")
                        .is_some_and(|i| self.consent_gap(i, &req.consents).is_none())
                        && items
                            .get("mobile")
                            .is_none_or(|v| v.expose().trim().is_empty())
                    {
                        items.insert("mobile".into(), Revealed::new(id.mobile.clone()));
                    }
                }
                None => errors.push(FieldError::new(
                    "identity",
                    "identity.required",
                    "본인확인을 먼저 마쳐 주세요",
                    "identity verification must be completed first",
                )),
            }
        }
        let birth = self.birth_date(&items, req.identity.as_ref());

        // 3. The age gate, before anything is stored (R-CHD-01).
        if let Some(b) = birth
            && jikimi_kr::is_under(b, today, policy.meta.child_age)
        {
            return Err(CoreError::ChildNeedsGuardian {
                age: policy.meta.child_age,
            });
        }

        // 4. Items, login ID, password.
        let values = self.check_items(&items, &req.consents, &mut errors);
        for item in policy.signup_items() {
            if item.required
                && !values.contains_key(&item.id)
                && !errors.iter().any(|e| e.field == item.id)
            {
                errors.push(FieldError::new(
                    &item.id,
                    "required",
                    format!("{}: 필수 항목입니다", item.label.ko),
                    format!("{}: is required", item.label.en),
                ));
            }
        }
        let login = match validate::login_id(&req.login_id) {
            Ok(l) => Some(l),
            Err(e) => {
                errors.push(e);
                None
            }
        };
        let phones: Vec<&str> = values
            .iter()
            .filter(|(id, _)| {
                policy
                    .item(id)
                    .is_some_and(|i| matches!(i.kind, ItemKind::Mobile | ItemKind::Phone))
            })
            .map(|(_, v)| v.stored.expose())
            .collect();
        let mut fragments = validate::personal_fragments(birth, &phones);
        fragments.extend(login.clone());
        if let Err(e) = validate::password(req.password.expose(), &fragments) {
            errors.push(e);
        }
        let Some(login) = login else {
            return Err(CoreError::Invalid(errors));
        };
        if !errors.is_empty() {
            return Err(CoreError::Invalid(errors));
        }

        // 5. One person, one account: look up the blind indexes first, for a clear answer.
        let login_index = self.login_free(&login).await?;
        let mut indexes = vec![];
        for (id, v) in &values {
            if let Some(ix) = &v.index {
                let digest = self.digest(id, ix.expose());
                if let Some(existing) = self.store().member_by_index(id, &digest).await? {
                    return Err(self.already_member(id, existing).await);
                }
                indexes.push(IndexEntry {
                    domain: id.clone(),
                    digest,
                });
            }
        }

        // 6. The member's own key, then everything sealed with it, in one transaction.
        let member = Uuid::new_v4();
        let key = self.keyring().create_member_key(member).await?;
        // Kept to answer a race (another sign-up of the same person committed in between, on
        // this instance or another) with the same error the look-up above gives.
        let digests: Vec<(String, Vec<u8>)> = indexes
            .iter()
            .map(|ix| (ix.domain.clone(), ix.digest.clone()))
            .collect();
        let result = self
            .insert_new_member(
                &req,
                member,
                &key,
                &login,
                login_index,
                values,
                indexes,
                now,
            )
            .await;
        if let Err(e) = result {
            // Nothing was stored; do not leave the key behind either.
            if let Err(cleanup) = self.keyring().destroy_member_key(member).await {
                tracing::error!(error = %cleanup, "could not remove the key of a failed sign-up; the orphan sweep will");
            }
            return Err(match e {
                CoreError::Store(StoreError::Duplicate { domain }) if domain == LOGIN_DOMAIN => {
                    CoreError::field(
                        "login_id",
                        "login_id.taken",
                        "이미 사용 중인 아이디입니다",
                        "this login ID is already taken",
                    )
                }
                CoreError::Store(StoreError::Duplicate { domain }) => {
                    let digest = digests.iter().find(|(d, _)| *d == domain).map(|(_, g)| g);
                    let existing = match digest {
                        Some(g) => self.store().member_by_index(&domain, g).await?,
                        None => None,
                    };
                    match existing {
                        Some(existing) => self.already_member(&domain, existing).await,
                        None => CoreError::AlreadyMember {
                            field: domain,
                            masked_login: None,
                        },
                    }
                }
                other => other,
            });
        }
        tracing::info!(member = %member, "member signed up");
        Ok(member)
    }

    #[allow(clippy::too_many_arguments)]
    async fn insert_new_member(
        &self,
        req: &SignUp,
        member: Uuid,
        key: &DataKey,
        login: &str,
        login_index: Vec<u8>,
        values: BTreeMap<String, Normalized>,
        indexes: Vec<IndexEntry>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let policy = self.policy();
        let owner = member.to_string();
        let mut sealed = Vec::with_capacity(values.len());
        for (id, v) in &values {
            sealed.push(SealedItem {
                item_id: id.clone(),
                sealed: key.seal_str(&owner, id, v.stored.expose())?,
            });
        }
        let version = policy.version().as_str().to_owned();
        let consents: Vec<NewConsentEvent> = policy
            .consents
            .iter()
            .map(|c| NewConsentEvent {
                category: c.id.clone(),
                granted: self.granted(&req.consents, &c.id),
                policy_version: version.clone(),
                channel: req.channel.clone(),
                at: now,
            })
            .collect();
        let actor = Actor::Member(member);
        let mut signup = audit(
            now,
            &actor,
            "member.signup",
            member,
            values.keys().cloned().collect(),
        );
        signup.detail = serde_json::json!({
            "policy_version": version,
            "channel": req.channel,
            "consents": consents.iter().map(|c| (c.category.clone(), c.granted)).collect::<BTreeMap<_, _>>(),
        });
        let password_hash = self.hash_password(&req.password).await?;
        self.store()
            .insert_member(NewMember {
                id: member,
                login_index,
                login_sealed: key.seal_str(&owner, LOGIN_ITEM, login)?,
                password_hash,
                key_id: key.id().to_string(),
                policy_version: version,
                at: now,
                items: sealed,
                indexes,
                consents,
                audit: vec![signup],
                // No job: mail delivery does not exist yet; it will add a typed welcome job.
                jobs: Vec::new(),
            })
            .await?;
        Ok(())
    }

    fn birth_date(
        &self,
        items: &BTreeMap<String, Revealed>,
        identity: Option<&VerifiedIdentity>,
    ) -> Option<NaiveDate> {
        if let Some(id) = identity {
            return Some(id.birth_date);
        }
        let policy = self.policy();
        for (id, v) in items {
            match policy.item(id).map(|i| i.kind) {
                Some(ItemKind::Rrn) => {
                    if let Ok(r) = Rrn::parse(v.expose()) {
                        return Some(r.birth_date());
                    }
                }
                Some(ItemKind::BirthDate) => {
                    if let Ok(d) = NaiveDate::parse_from_str(v.expose().trim(), "%Y-%m-%d") {
                        return Some(d);
                    }
                }
                _ => {}
            }
        }
        None
    }

    /// "Already a member". For an identity match (CI, DI, RRN) the existing login ID is shown
    /// masked, as the product promises (one person, one account); that read is audited. For other
    /// unique items (e-mail) only the fact is said.
    async fn already_member(&self, field: &str, existing: Uuid) -> CoreError {
        let identity = self
            .policy()
            .item(field)
            .is_some_and(|i| matches!(i.kind, ItemKind::Ci | ItemKind::Di | ItemKind::Rrn));
        let masked_login = if identity {
            let shown = match self.login_id_of(existing).await {
                Ok(Some(login)) => Some(mask_login(login.expose())),
                _ => None,
            };
            let mut e = audit(
                self.clock().now(),
                &Actor::System,
                "member.duplicate_lookup",
                existing,
                vec![LOGIN_ITEM.into()],
            );
            e.detail = serde_json::json!({ "matched": field, "shown": "login_id masked" });
            if let Err(err) = self.store().append_audit(vec![e]).await {
                tracing::error!(error = %err, "could not audit a duplicate look-up");
                return CoreError::AlreadyMember {
                    field: field.to_owned(),
                    masked_login: None,
                };
            }
            shown
        } else {
            None
        };
        CoreError::AlreadyMember {
            field: field.to_owned(),
            masked_login,
        }
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
    pub(crate) async fn member_key(&self, member: Uuid) -> Result<DataKey> {
        match self.keyring().member_key(member).await? {
            Some(key) => Ok(key),
            None if self.store().member(member).await?.is_none() => {
                Err(CoreError::NotFound("member"))
            }
            None => Err(CoreError::KeyMissing),
        }
    }

    /// Opens items of a member for a purpose. Every item must list the purpose in the policy
    /// (the data subject's own access is always allowed to the subject alone); a purpose that the
    /// policy ties to a consent needs that consent in force; an item held for a pending
    /// correction is withheld (S8). Every attempt — allowed or refused — is written to the audit
    /// chain with who, from where, whose, which items and why; never the values.
    pub async fn reveal(
        &self,
        actor: &Actor,
        origin: Option<&str>,
        member: Uuid,
        items: &[&str],
        purpose: &str,
    ) -> Result<BTreeMap<String, Revealed>> {
        let now = self.clock().now();
        let policy = self.policy().clone();
        let item_names: Vec<String> = items.iter().map(|s| (*s).to_owned()).collect();
        let subject = *actor == Actor::Member(member);
        let mut denied: Option<(String, &'static str)> = None;
        for id in items {
            let reason = match policy.item(id) {
                None => Some("item not in the policy"),
                Some(_) if purpose == SUBJECT_ACCESS && subject => None,
                Some(_) if purpose == SUBJECT_ACCESS => {
                    Some("only the data subject may use this purpose")
                }
                Some(_) if !policy.allows(id, purpose) => {
                    Some("purpose not listed for the item in the policy")
                }
                Some(_) => None,
            };
            if let Some(r) = reason {
                denied = Some(((*id).to_owned(), r));
                break;
            }
        }
        if denied.is_none()
            && let Some(category) = policy.purpose(purpose).and_then(|p| p.consent.clone())
        {
            let state = self.consent_state(member).await?;
            if !state.iter().any(|c| c.category == category && c.granted) {
                denied = Some((
                    item_names.join(","),
                    "the consent this purpose needs is not in force",
                ));
            }
        }
        let entry = |items: Vec<String>| {
            let mut e = audit(now, actor, "item.reveal", member, items);
            e.origin = origin.map(str::to_owned);
            e.purpose = Some(purpose.to_owned());
            e
        };
        if let Some((item, reason)) = denied {
            let mut e = entry(item_names);
            e.outcome = "denied".into();
            e.detail = serde_json::json!({ "reason": reason, "item": item });
            self.store().append_audit(vec![e]).await?;
            tracing::warn!(actor = %actor.audit_name(), member = %member, purpose, reason, "reveal refused");
            return Err(CoreError::PurposeDenied {
                item,
                purpose: purpose.to_owned(),
                reason,
            });
        }
        if self.store().member(member).await?.is_none() {
            return Err(CoreError::NotFound("member"));
        }
        let key = self.member_key(member).await?;
        let rows = self.store().items(member, Some(&item_names)).await?;
        let owner = member.to_string();
        let mut out = BTreeMap::new();
        let mut withheld = Vec::new();
        for row in rows {
            // S8: an item whose correction is pending is not used, except to show its owner.
            if row.correction_pending && !subject {
                withheld.push(row.item_id);
                continue;
            }
            let value = key.open_str(&owner, &row.item_id, &row.sealed)?;
            out.insert(row.item_id, value);
        }
        let mut e = entry(out.keys().cloned().collect());
        if !withheld.is_empty() {
            e.detail = serde_json::json!({ "withheld_pending_correction": withheld });
        }
        self.store().append_audit(vec![e]).await?;
        Ok(out)
    }

    /// Holds items while a correction the member asked for is pending (S8): until corrected,
    /// they are not used for any purpose but the member's own access.
    pub async fn hold_for_correction(
        &self,
        actor: &Actor,
        member: Uuid,
        items: &[&str],
    ) -> Result<()> {
        let now = self.clock().now();
        let policy = self.policy();
        if let Some(unknown) = items.iter().find(|i| policy.item(i).is_none()) {
            return Err(CoreError::field(
                unknown,
                "item.unknown",
                "처리방침에 없는 항목입니다",
                "is not an item of the privacy policy",
            ));
        }
        let names: Vec<String> = items.iter().map(|s| (*s).to_owned()).collect();
        self.store()
            .apply(MemberChange {
                member_id: member,
                at: now,
                correction_marks: names.iter().map(|i| (i.clone(), true)).collect(),
                audit: vec![audit(now, actor, "item.hold_for_correction", member, names)],
                ..Default::default()
            })
            .await
            .map(|_| ())
            .map_err(|e| match e {
                StoreError::NotFound(w) => CoreError::NotFound(w),
                other => CoreError::Store(other),
            })
    }

    /// The member's own items, opened and written as a person reads them (phones with
    /// hyphens), for the member themself. Logged like any reveal.
    pub async fn own_items(&self, member: Uuid, ids: &[&str]) -> Result<BTreeMap<String, String>> {
        // Linking values (CI, DI) are never shown, not even to the member: they are not asked
        // for, so no caller has to remember to strip them.
        let ids: Vec<&str> = ids
            .iter()
            .copied()
            .filter(|id| {
                self.policy()
                    .item(id)
                    .is_some_and(|i| !validate::never_shown(i.kind))
            })
            .collect();
        let values = self
            .reveal(&Actor::Member(member), None, member, &ids, SUBJECT_ACCESS)
            .await?;
        let policy = self.policy();
        Ok(values
            .into_iter()
            .filter_map(|(id, v)| {
                let kind = policy.item(&id)?.kind;
                Some((id, validate::display(kind, v.expose())))
            })
            .collect())
    }

    /// The member's own items, masked for display (고시 Art. 12). Logged like any reveal.
    pub async fn view_masked(
        &self,
        actor: &Actor,
        member: Uuid,
    ) -> Result<BTreeMap<String, String>> {
        let ids: Vec<String> = self
            .policy()
            .items
            .iter()
            .filter(|i| !validate::never_shown(i.kind))
            .map(|i| i.id.clone())
            .collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let values = self
            .reveal(actor, None, member, &refs, SUBJECT_ACCESS)
            .await?;
        Ok(values
            .into_iter()
            .filter_map(|(id, v)| {
                let kind = self.policy().item(&id)?.kind;
                Some((id, validate::mask(kind, v.expose())))
            })
            .collect())
    }

    /// Corrects items: `Some(value)` sets, `None` (or an empty value) removes an optional item.
    /// The same validation as sign-up; unique items re-indexed; one transaction.
    pub async fn correct(
        &self,
        actor: &Actor,
        member: Uuid,
        changes: BTreeMap<String, Option<Revealed>>,
    ) -> Result<()> {
        let result = self.correct_inner(actor, member, changes).await;
        self.gone_is_not_found(member, result).await
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

    async fn correct_inner(
        &self,
        actor: &Actor,
        member: Uuid,
        changes: BTreeMap<String, Option<Revealed>>,
    ) -> Result<()> {
        let now = self.clock().now();
        let policy = self.policy().clone();
        let consents: BTreeMap<String, bool> = self
            .consent_state(member)
            .await?
            .into_iter()
            .map(|c| (c.category, c.granted))
            .collect();
        let mut errors = Vec::new();
        let mut set = BTreeMap::new();
        let mut remove = Vec::new();
        for (id, v) in &changes {
            match v {
                Some(v) if !v.expose().trim().is_empty() => {
                    set.insert(id.clone(), v.clone());
                }
                _ => match policy.item(id) {
                    Some(item) if item.required => errors.push(FieldError::new(
                        id,
                        "required",
                        format!("{}: 필수 항목은 지울 수 없습니다", item.label.ko),
                        format!("{}: is required and cannot be removed", item.label.en),
                    )),
                    Some(_) => remove.push(id.clone()),
                    None => errors.push(FieldError::new(
                        id,
                        "item.unknown",
                        "처리방침에 없는 항목입니다",
                        "is not an item of the privacy policy",
                    )),
                },
            }
        }
        let verified = policy.meta.identity == IdentityMode::Verification;
        for id in changes.keys() {
            if let Some(item) = policy.item(id)
                && validate::identity_locked(item.kind, verified)
            {
                errors.push(FieldError::new(
                    id,
                    "item.identity_locked",
                    format!(
                        "{}: 본인확인으로 정해진 값이라 고칠 수 없습니다",
                        item.label.ko
                    ),
                    format!(
                        "{}: set by identity verification and cannot be changed",
                        item.label.en
                    ),
                ));
            }
        }
        errors.dedup_by(|a, b| a.field == b.field && a.code == b.code);
        let values = self.check_items(&set, &consents, &mut errors);
        if !errors.is_empty() {
            return Err(CoreError::Invalid(errors));
        }
        if self.store().member(member).await?.is_none() {
            return Err(CoreError::NotFound("member"));
        }
        let key = self.member_key(member).await?;
        let owner = member.to_string();
        let mut change = MemberChange {
            member_id: member,
            at: now,
            ..Default::default()
        };
        for (id, v) in &values {
            change.set_items.push(SealedItem {
                item_id: id.clone(),
                sealed: key.seal_str(&owner, id, v.stored.expose())?,
            });
            if let Some(ix) = &v.index {
                let digest = self.digest(id, ix.expose());
                if let Some(existing) = self.store().member_by_index(id, &digest).await?
                    && existing != member
                {
                    return Err(self.already_member(id, existing).await);
                }
                change.set_indexes.push(IndexEntry {
                    domain: id.clone(),
                    digest,
                });
            }
        }
        change.remove_items = remove.clone();
        change.remove_indexes = remove.clone();
        let mut touched: Vec<String> = values.keys().cloned().collect();
        touched.extend(remove);
        change
            .audit
            .push(audit(now, actor, "item.correct", member, touched));
        self.store().apply(change).await.map_err(|e| match e {
            StoreError::Duplicate { domain } => CoreError::AlreadyMember {
                field: domain,
                masked_login: None,
            },
            StoreError::NotFound(what) => CoreError::NotFound(what),
            other => CoreError::Store(other),
        })?;
        Ok(())
    }

    /// Everything held about the member, opened for the member (PIPA Art. 35): items, consent
    /// state and history, and the policy version they joined under. Logged as an export.
    pub async fn export(&self, member: Uuid) -> Result<serde_json::Value> {
        let actor = Actor::Member(member);
        let row = self
            .store()
            .member(member)
            .await?
            .ok_or(CoreError::NotFound("member"))?;
        let ids: Vec<String> = self.policy().items.iter().map(|i| i.id.clone()).collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let shown = self.own_items(member, &refs).await?;
        let login = self.login_id_of(member).await?;
        let history = self.store().consent_events(member).await?;
        let now = self.clock().now();
        self.store()
            .append_audit(vec![audit(
                now,
                &actor,
                "member.export",
                member,
                shown.keys().cloned().collect(),
            )])
            .await?;
        Ok(serde_json::json!({
            "member_id": member,
            "login_id": login.map(|l| l.expose().to_owned()),
            "member_since": row.created_at,
            "policy_version_at_signup": row.policy_version,
            "items": shown,
            "consents": self.consent_state(member).await?,
            "consent_history": history.iter().map(|e| serde_json::json!({
                "category": e.category, "granted": e.granted, "at": e.at,
                "policy_version": e.policy_version, "channel": e.channel,
            })).collect::<Vec<_>>(),
            "recipients": Vec::<serde_json::Value>::new(),
            "exported_at": now,
        }))
    }

    /// Current consent state per category of the policy, derived from the append-only ledger.
    pub async fn consent_state(&self, member: Uuid) -> Result<Vec<ConsentState>> {
        let events = self.store().consent_events(member).await?;
        Ok(self
            .policy()
            .consents
            .iter()
            .map(|c| {
                let last = events.iter().rev().find(|e| e.category == c.id);
                ConsentState {
                    category: c.id.clone(),
                    granted: last.is_some_and(|e| e.granted),
                    at: last.map(|e| e.at),
                    policy_version: last.map(|e| e.policy_version.clone()),
                }
            })
            .collect())
    }

    /// Gives or withdraws one consent. Withdrawing the optional-items consent deletes the items
    /// collected on it (R-CON-09). The single required agreement of the seed profile cannot be
    /// withdrawn on its own: leaving membership is how it ends.
    pub async fn set_consent(
        &self,
        actor: &Actor,
        member: Uuid,
        category: &str,
        granted: bool,
        channel: &str,
    ) -> Result<()> {
        let result = self
            .set_consent_inner(actor, member, category, granted, channel)
            .await;
        self.gone_is_not_found(member, result).await
    }

    async fn set_consent_inner(
        &self,
        actor: &Actor,
        member: Uuid,
        category: &str,
        granted: bool,
        channel: &str,
    ) -> Result<()> {
        let now = self.clock().now();
        let policy = self.policy().clone();
        let Some(cat) = policy.consent(category) else {
            return Err(CoreError::field(
                &format!("consents.{category}"),
                "consent.unknown",
                "처리방침에 없는 동의 항목입니다",
                "is not a consent category of the privacy policy",
            ));
        };
        if cat.required && !granted {
            return Err(CoreError::field(
                &format!("consents.{category}"),
                "consent.required_for_membership",
                "이 동의는 회원 자격에 필요합니다. 철회하려면 회원탈퇴를 해 주세요",
                "this agreement is needed for membership; to end it, withdraw from membership",
            ));
        }
        let mut change = MemberChange {
            member_id: member,
            at: now,
            ..Default::default()
        };
        change.consents.push(NewConsentEvent {
            category: category.to_owned(),
            granted,
            policy_version: policy.version().as_str().to_owned(),
            channel: channel.to_owned(),
            at: now,
        });
        let mut entry = audit(
            now,
            actor,
            if granted {
                "consent.grant"
            } else {
                "consent.withdraw"
            },
            member,
            vec![],
        );
        entry.detail = serde_json::json!({ "category": category, "channel": channel });
        if !granted && cat.kind == ConsentKind::OptionalItems {
            let dropped: Vec<String> = policy
                .items
                .iter()
                .filter(|i| i.consent.as_deref() == Some(category))
                .map(|i| i.id.clone())
                .collect();
            change.remove_items = dropped.clone();
            change.remove_indexes = dropped.clone();
            entry.items = dropped;
        }
        change.audit.push(entry);
        self.store().apply(change).await.map_err(|e| match e {
            StoreError::NotFound(what) => CoreError::NotFound(what),
            other => CoreError::Store(other),
        })?;
        Ok(())
    }

    /// Deletes member keys that have no member (a sign-up that died between creating its key
    /// and its data, or a withdrawal interrupted before its key was destroyed). Only keys older
    /// than `grace` are considered, so a sign-up in progress keeps its key.
    pub async fn sweep_orphan_keys(&self, grace: chrono::Duration) -> Result<usize> {
        let mut removed = 0;
        for id in self.orphan_member_keys(grace).await? {
            // Checked again right before: a sign-up may have committed meanwhile.
            if self.store().member(id).await?.is_none()
                && self.keyring().destroy_member_key(id).await?
            {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Member keys older than `grace` whose member does not exist.
    pub(crate) async fn orphan_member_keys(&self, grace: chrono::Duration) -> Result<Vec<Uuid>> {
        // Key ages are wall-clock facts of the key store, not domain time.
        let before = Utc::now() - grace;
        let contexts = self
            .keyring()
            .key_store()
            .contexts("member:", before)
            .await?;
        let mut out = Vec::new();
        for ctx in contexts {
            let Some(id) = ctx
                .strip_prefix("member:")
                .and_then(|s| Uuid::parse_str(s).ok())
            else {
                continue;
            };
            if self.store().member(id).await?.is_none() {
                out.push(id);
            }
        }
        Ok(out)
    }
}
