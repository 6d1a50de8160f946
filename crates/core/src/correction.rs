//! Correction (정정): a member's items corrected, and items held while a correction request is pending.

use std::collections::BTreeMap;

use jikimi_policy::{IdentityMode, LegalBasis};
use jikimi_store::{IndexEntry, ItemRow, MemberChange, SealedItem, StoreError};
use jikimi_vault::Revealed;
use uuid::Uuid;

use crate::access::OwnItems;
use crate::members::*;
use crate::validate::{self};
use crate::{Actor, CoreError, FieldError, Jikimi, Result, SUBJECT_ACCESS, SessionInfo};

impl Jikimi {
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

    pub(crate) async fn correct_inner(
        &self,
        actor: &Actor,
        member: Uuid,
        changes: BTreeMap<String, Option<Revealed>>,
    ) -> Result<()> {
        self.guardian_may_act(actor, member).await?;
        let change = self
            .correction(actor, member, changes, None, self.clock().now())
            .await?;
        self.apply_correction(change).await
    }

    /// A correction by the member of `session`, answered with the member's items as it leaves
    /// them, masked as the My page shows them. `before` is what was read with the session
    /// ([`Jikimi::session_and_items`]): the answer is those items with this correction's values
    /// in place, so the change and the answer's audit entry ("item.reveal", the subject's
    /// access) are written in one transaction — no second read, no second write. The same
    /// validation, checks and audit entries as [`Jikimi::correct`] and then
    /// [`Jikimi::view_masked`].
    pub async fn correct_own(
        &self,
        session: &SessionInfo,
        before: OwnItems,
        changes: BTreeMap<String, Option<Revealed>>,
    ) -> Result<BTreeMap<String, String>> {
        let member = session.member;
        let actor = Actor::Member(member);
        let result = async {
            let now = self.clock().now();
            let mut change = self
                .correction(&actor, member, changes, Some(&before.consents), now)
                .await?;
            let shown = self.shown_item_ids();
            if self
                .reveal_refusal(&actor, member, &shown, SUBJECT_ACCESS)
                .await?
                .is_some()
            {
                // A refused view is written as its own entry by the view: the correction first,
                // then the view as any other.
                self.apply_correction(change).await?;
                return self.view_masked(&actor, member).await;
            }
            let mut rows: BTreeMap<String, ItemRow> = before
                .items
                .into_iter()
                .map(|r| (r.item_id.clone(), r))
                .collect();
            for item in &change.set_items {
                rows.insert(
                    item.item_id.clone(),
                    ItemRow {
                        item_id: item.item_id.clone(),
                        sealed: item.sealed.clone(),
                        correction_pending: false,
                    },
                );
            }
            for id in &change.remove_items {
                rows.remove(id);
            }
            let rows = rows
                .into_values()
                .filter(|r| shown.contains(&r.item_id.as_str()))
                .collect();
            let (values, entry) = self
                .open_rows(now, &actor, None, member, SUBJECT_ACCESS, rows)
                .await?;
            change.audit.push(entry);
            self.apply_correction(change).await?;
            Ok(self.masked(values))
        }
        .await;
        self.gone_is_not_found(member, result).await
    }

    /// The change a correction makes: validated, sealed, re-indexed, with its audit entry; not
    /// yet applied. `known` is the member's consents (category → granted) if already read.
    async fn correction(
        &self,
        actor: &Actor,
        member: Uuid,
        changes: BTreeMap<String, Option<Revealed>>,
        known: Option<&BTreeMap<String, bool>>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<MemberChange> {
        let policy = self.policy().clone();
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
        // The member's consents matter only to an item that rests on one.
        let consents: BTreeMap<String, bool> = if let Some(known) = known {
            known.clone()
        } else if set.keys().any(|id| {
            policy
                .item(id)
                .is_some_and(|i| i.basis == LegalBasis::Consent)
        }) {
            self.consent_state(member)
                .await?
                .into_iter()
                .map(|c| (c.category, c.granted))
                .collect()
        } else {
            BTreeMap::new()
        };
        let values = self.check_items(&set, &consents, &mut errors);
        if !errors.is_empty() {
            return Err(CoreError::Invalid(errors));
        }
        // A member who has gone has no key (`NotFound`); one who goes meanwhile is refused by
        // the change itself (only an active member's row is updated).
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
        for (id, v) in &values {
            if policy.item(id).is_some_and(crate::members::looked_up) {
                change
                    .set_indexes
                    .push(self.lookup_entry(id, v.stored.expose(), member));
            }
        }
        change.remove_items = remove.clone();
        change.remove_indexes = remove.clone();
        change.remove_indexes.extend(
            remove
                .iter()
                .map(|id| format!("{}{id}", crate::members::LOOKUP_PREFIX)),
        );
        let mut touched: Vec<String> = values.keys().cloned().collect();
        touched.extend(remove);
        // S9: a partner that received a corrected item is told.
        change
            .jobs
            .extend(self.follow_job(member, crate::partners::CORRECTION, &touched, None)?);
        change
            .audit
            .push(audit(now, actor, "item.correct", member, touched));
        Ok(change)
    }

    /// The change a correction by staff or for a request makes (validated, sealed, re-indexed,
    /// with its audit entry), not yet applied.
    pub(crate) async fn correction_change(
        &self,
        actor: &Actor,
        member: Uuid,
        changes: BTreeMap<String, Option<Revealed>>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<MemberChange> {
        self.correction(actor, member, changes, None, now).await
    }

    /// Applies a correction in one transaction.
    async fn apply_correction(&self, change: MemberChange) -> Result<()> {
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
}
