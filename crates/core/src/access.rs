//! Access: what may be shown to whom, and the views that are safe to show. Purpose-checked,
//! audited reveals; a member's own items (masked, or unmasked as [`Disclosure`] allows); the
//! export; and what callers outside core read without going to the store (the published policy's
//! versions, a member's consent history and held items, the destruction report, the master key's
//! fingerprint). Pages, the API and the CLI ask here; `Jikimi::store()` and `keyring()` are core's
//! own.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use jikimi_policy::{Item, ItemKind, Sensitivity};
use jikimi_vault::Revealed;
use uuid::Uuid;

use crate::members::*;
use crate::validate::{self};
use crate::{Actor, CoreError, FieldError, Jikimi, Result, SUBJECT_ACCESS, SessionInfo};
use jikimi_store::{AuditEntry, ItemRow};

pub use jikimi_store::{ConsentEventRow as ConsentEvent, PolicyVersionRow as PolicyVersion};

impl Jikimi {
    /// Every policy version that was ever active, oldest first, with its 시행일 and its text.
    pub async fn policy_versions(&self) -> Result<Vec<PolicyVersion>> {
        Ok(self.store().policy_versions().await?)
    }

    /// A member's consent ledger, oldest first (append-only; R-CON-08).
    pub async fn consent_history(&self, member: Uuid) -> Result<Vec<ConsentEvent>> {
        Ok(self.store().consent_events(member).await?)
    }

    /// The ids of the items a member holds now (no values).
    pub async fn held_item_ids(&self, member: Uuid) -> Result<Vec<String>> {
        Ok(self
            .store()
            .items(member, None)
            .await?
            .into_iter()
            .map(|r| r.item_id)
            .collect())
    }

    /// The ids of the member's items held while a correction is pending (S8).
    pub async fn items_held_for_correction(&self, member: Uuid) -> Result<Vec<String>> {
        Ok(self
            .store()
            .items(member, None)
            .await?
            .into_iter()
            .filter(|r| r.correction_pending)
            .map(|r| r.item_id)
            .collect())
    }

    /// Every destruction record (withdrawals and purges): no personal data.
    pub async fn destruction_records(&self) -> Result<Vec<crate::DestructionRecord>> {
        Ok(self.store().destruction_records().await?)
    }

    /// The fingerprint of the master key in use.
    pub fn master_key_fingerprint(&self) -> String {
        self.keyring().fingerprint()
    }
}

/// A member's sealed items and consent decisions as read together with their session
/// ([`Jikimi::session_and_items`]): opaque outside core, shown only through a view that audits.
pub struct OwnItems {
    pub(crate) items: Vec<ItemRow>,
    /// Category → granted, the latest decision of each.
    pub(crate) consents: BTreeMap<String, bool>,
}

impl std::fmt::Debug for OwnItems {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OwnItems({} sealed)", self.items.len())
    }
}

/// What a member asks to see unmasked.
#[derive(Debug, Clone, Copy)]
pub enum Disclosure<'a> {
    /// The named items.
    Items(&'a [&'a str]),
    /// All of one's data at once: "show all", the export, the printable page.
    Everything,
}

/// Whether an item's value is sensitive: unmasked only after the password was entered again
/// (sensitive data, unique identifiers, card and account numbers).
pub fn sensitive(item: &Item) -> bool {
    item.sensitivity != Sensitivity::Normal
        || matches!(
            item.kind,
            ItemKind::Rrn | ItemKind::CardNumber | ItemKind::AccountNumber
        )
}

impl Jikimi {
    /// The one rule for showing a member their own data unmasked: unknown items are
    /// `item.unknown`; linking values (CI, DI) are never shown; sensitive items, and everything
    /// at once, need the password within the last 10 minutes (`ReauthRequired`).
    pub fn may_disclose(&self, session: &SessionInfo, what: Disclosure<'_>) -> Result<()> {
        let needs_password = match what {
            Disclosure::Everything => true,
            Disclosure::Items(ids) => {
                let mut any_sensitive = false;
                for id in ids {
                    let Some(item) = self.policy().item(id) else {
                        return Err(CoreError::Invalid(vec![FieldError::new(
                            id,
                            "item.unknown",
                            "처리방침에 없는 항목입니다",
                            "is not an item of the privacy policy",
                        )]));
                    };
                    if validate::never_shown(item.kind) {
                        return Err(CoreError::NeverShown(item.id.clone()));
                    }
                    any_sensitive |= sensitive(item);
                }
                any_sensitive
            }
        };
        if needs_password && !self.recently_authenticated(session) {
            return Err(CoreError::ReauthRequired);
        }
        Ok(())
    }

    /// A member's own data, unmasked, as [`Jikimi::may_disclose`] allows: the named items, or
    /// every item that is ever shown.
    pub async fn disclose_own(
        &self,
        session: &SessionInfo,
        what: Disclosure<'_>,
    ) -> Result<BTreeMap<String, String>> {
        self.may_disclose(session, what)?;
        match what {
            Disclosure::Items(ids) => self.own_items(session.member, ids).await,
            Disclosure::Everything => {
                let ids: Vec<&str> = self.policy().items.iter().map(|i| i.id.as_str()).collect();
                self.own_items(session.member, &ids).await
            }
        }
    }

    /// The items a member may correct themselves: sign-up items that are shown, not fixed by
    /// identity verification (CI, DI, RRN; with 본인확인 also name and birth date), and, for
    /// items collected on consent, whose consent is in force.
    pub async fn correctable_items(&self, member: Uuid) -> Result<Vec<Item>> {
        let policy = self.policy().clone();
        let verified = policy.meta.identity == jikimi_policy::IdentityMode::Verification;
        let state = self.consent_state(member).await?;
        Ok(policy
            .signup_items()
            .filter(|i| {
                !validate::never_shown(i.kind) && !validate::identity_locked(i.kind, verified)
            })
            .filter(|i| {
                i.basis != jikimi_policy::LegalBasis::Consent
                    || i.consent
                        .as_ref()
                        .is_some_and(|c| state.iter().any(|st| &st.category == c && st.granted))
            })
            .cloned()
            .collect())
    }

    /// Everything held about the member, machine-readable, as [`Jikimi::may_disclose`] allows
    /// for everything at once.
    pub async fn export_own(&self, session: &SessionInfo) -> Result<Export> {
        self.may_disclose(session, Disclosure::Everything)?;
        self.export(session.member).await
    }
}

// Reveals and views of a member's items (purpose-checked, audited).
impl Jikimi {
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
        self.reveal_from(actor, origin, member, items, purpose, None)
            .await
    }

    /// [`Jikimi::reveal`], with the member's sealed items already read (`loaded`, all of
    /// them) or read here (`None`). The same checks, the same audit entry.
    async fn reveal_from(
        &self,
        actor: &Actor,
        origin: Option<&str>,
        member: Uuid,
        items: &[&str],
        purpose: &str,
        loaded: Option<Vec<ItemRow>>,
    ) -> Result<BTreeMap<String, Revealed>> {
        let now = self.clock().now();
        let item_names: Vec<String> = items.iter().map(|s| (*s).to_owned()).collect();
        if let Some((item, reason)) = self.reveal_refusal(actor, member, items, purpose).await? {
            let mut e = reveal_entry(now, actor, origin, member, purpose, item_names);
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
        let rows = match loaded {
            Some(all) => Some(
                all.into_iter()
                    .filter(|r| item_names.contains(&r.item_id))
                    .collect::<Vec<_>>(),
            ),
            None => self.store().member_items(member, Some(&item_names)).await?,
        };
        let Some(rows) = rows else {
            self.keyring().forget_member_key(member);
            return Err(CoreError::NotFound("member"));
        };
        let (out, entry) = self
            .open_rows(now, actor, origin, member, purpose, rows)
            .await?;
        self.store().append_audit(vec![entry]).await?;
        Ok(out)
    }

    /// Why a reveal of `items` for `purpose` is refused (the item, the reason), if it is: every
    /// item must list the purpose (the subject's own access is the subject's alone), and a
    /// purpose tied to a consent needs it in force.
    pub(crate) async fn reveal_refusal(
        &self,
        actor: &Actor,
        member: Uuid,
        items: &[&str],
        purpose: &str,
    ) -> Result<Option<(String, &'static str)>> {
        let policy = self.policy().clone();
        // The data subject, or the guardian through whom a child joined (issue 16).
        // The data subject, or the guardian of record of a child still under the age (issue 16).
        let subject = *actor == Actor::Member(member)
            || (self.acts_for(actor, member).await? && self.is_child_member(member).await?);
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
                return Ok(Some(((*id).to_owned(), r)));
            }
        }
        // Processing stopped for this purpose at the member's request (PIPA Art. 37).
        if purpose != SUBJECT_ACCESS
            && self
                .store()
                .suspended_purposes(member)
                .await?
                .iter()
                .any(|p| p == purpose)
        {
            return Ok(Some((
                items.join(","),
                "processing for this purpose was stopped at the member's request",
            )));
        }
        if let Some(category) = policy.purpose(purpose).and_then(|p| p.consent.clone()) {
            let state = self.consent_state(member).await?;
            if !state.iter().any(|c| c.category == category && c.granted) {
                return Ok(Some((
                    items.join(","),
                    "the consent this purpose needs is not in force",
                )));
            }
        }
        Ok(None)
    }

    /// Opens sealed rows of a reveal [`Jikimi::reveal_refusal`] allowed, and the audit entry
    /// that records it (not yet written). An item whose correction is pending is withheld from
    /// everyone but its owner (S8).
    pub(crate) async fn open_rows(
        &self,
        now: DateTime<Utc>,
        actor: &Actor,
        origin: Option<&str>,
        member: Uuid,
        purpose: &str,
        rows: Vec<ItemRow>,
    ) -> Result<(BTreeMap<String, Revealed>, AuditEntry)> {
        let subject = *actor == Actor::Member(member);
        let key = self.member_key(member).await?;
        let owner = member.to_string();
        let opener = key.opener();
        let mut out = BTreeMap::new();
        let mut withheld = Vec::new();
        for row in rows {
            // S8: an item whose correction is pending is not used, except to show its owner.
            if row.correction_pending && !subject {
                withheld.push(row.item_id);
                continue;
            }
            let value = opener.open_str(&owner, &row.item_id, &row.sealed)?;
            out.insert(row.item_id, value);
        }
        let mut e = reveal_entry(
            now,
            actor,
            origin,
            member,
            purpose,
            out.keys().cloned().collect(),
        );
        if !withheld.is_empty() {
            e.detail = serde_json::json!({ "withheld_pending_correction": withheld });
        }
        Ok((out, e))
    }

    /// The member's own items, opened and written as a person reads them (phones with
    /// hyphens), for the member themself. Logged like any reveal.
    pub async fn own_items(&self, member: Uuid, ids: &[&str]) -> Result<BTreeMap<String, String>> {
        self.subject_items(&Actor::Member(member), member, ids)
            .await
    }

    /// [`Jikimi::own_items`] for the member themself or, for a child, the guardian who
    /// consented (`actor`); anyone else is refused (and logged) as every reveal.
    pub async fn subject_items(
        &self,
        actor: &Actor,
        member: Uuid,
        ids: &[&str],
    ) -> Result<BTreeMap<String, String>> {
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
            .reveal(actor, None, member, &ids, SUBJECT_ACCESS)
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
        self.view_masked_from(actor, member, None).await
    }

    /// The My page of the session behind `token`, in one read of the data store (the session
    /// and the member's items together) plus the audit entry: `None` if there is no live
    /// session. The same checks and audit entry as [`Jikimi::view_masked`].
    pub async fn own_masked_view(
        &self,
        token: &str,
    ) -> Result<Option<(SessionInfo, BTreeMap<String, String>)>> {
        let Some((session, items)) = self.session_with_items(token).await? else {
            return Ok(None);
        };
        let member = session.member;
        let view = self
            .view_masked_from(&Actor::Member(member), member, Some(items))
            .await?;
        Ok(Some((session, view)))
    }

    async fn view_masked_from(
        &self,
        actor: &Actor,
        member: Uuid,
        loaded: Option<Vec<ItemRow>>,
    ) -> Result<BTreeMap<String, String>> {
        let ids = self.shown_item_ids();
        let values = self
            .reveal_from(actor, None, member, &ids, SUBJECT_ACCESS, loaded)
            .await?;
        Ok(self.masked(values))
    }

    /// The ids of every item that is ever shown (not CI or DI), in the policy's order.
    pub(crate) fn shown_item_ids(&self) -> Vec<&str> {
        self.policy()
            .items
            .iter()
            .filter(|i| !validate::never_shown(i.kind))
            .map(|i| i.id.as_str())
            .collect()
    }

    /// Opened values masked as the My page shows them.
    pub(crate) fn masked(&self, values: BTreeMap<String, Revealed>) -> BTreeMap<String, String> {
        values
            .into_iter()
            .filter_map(|(id, v)| {
                let kind = self.policy().item(&id)?.kind;
                Some((id, validate::mask(kind, v.expose())))
            })
            .collect()
    }

    /// The live session behind `token` and the member's sealed items, in one read of the data
    /// store: for a change answered with the items as it leaves them
    /// ([`Jikimi::correct_own`]). `None` if there is no live session.
    pub async fn session_and_items(&self, token: &str) -> Result<Option<(SessionInfo, OwnItems)>> {
        Ok(self
            .session_with_items_consents(token)
            .await?
            .map(|(s, items, consents)| (s, OwnItems { items, consents })))
    }

    /// Everything held about the member, opened for the member (PIPA Art. 35): items, consent
    /// state and history, and the policy version they joined under. Logged as an export.
    pub async fn export(&self, member: Uuid) -> Result<Export> {
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
        Ok(Export {
            member_id: member,
            login_id: login.map(|l| l.expose().to_owned()),
            member_since: row.created_at,
            policy_version_at_signup: row.policy_version,
            items: shown,
            consents: self.consent_state(member).await?,
            consent_history: history
                .into_iter()
                .map(|e| ExportedConsentEvent {
                    category: e.category,
                    granted: e.granted,
                    at: e.at,
                    policy_version: e.policy_version,
                    channel: e.channel,
                })
                .collect(),
            recipients: vec![],
            exported_at: now,
        })
    }
}

/// Everything held about a member, as the member downloads it (PIPA Art. 35): values as a person
/// reads them, linking values (CI, DI) left out. Its JSON is the download's format.
#[derive(Clone, serde::Serialize)]
pub struct Export {
    pub member_id: Uuid,
    pub login_id: Option<String>,
    pub member_since: DateTime<Utc>,
    pub policy_version_at_signup: String,
    /// Item values by item id.
    pub items: BTreeMap<String, String>,
    pub consents: Vec<crate::ConsentState>,
    pub consent_history: Vec<ExportedConsentEvent>,
    /// Third parties that received the member's data (none are recorded yet).
    pub recipients: Vec<String>,
    pub exported_at: DateTime<Utc>,
}

impl std::fmt::Debug for Export {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Export(<redacted>)")
    }
}

/// One consent decision in the export.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ExportedConsentEvent {
    pub category: String,
    pub granted: bool,
    pub at: DateTime<Utc>,
    pub policy_version: String,
    pub channel: String,
}

/// The audit entry of a reveal: who, from where, whose, which items, why.
pub(crate) fn reveal_entry(
    now: DateTime<Utc>,
    actor: &Actor,
    origin: Option<&str>,
    member: Uuid,
    purpose: &str,
    items: Vec<String>,
) -> AuditEntry {
    let mut e = audit(now, actor, "item.reveal", member, items);
    e.origin = origin.map(str::to_owned);
    e.purpose = Some(purpose.to_owned());
    e
}
