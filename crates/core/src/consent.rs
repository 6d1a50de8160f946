//! The consent ledger: the state derived from it, and giving or withdrawing an optional consent.

use jikimi_policy::ConsentKind;
use jikimi_store::{MemberChange, NewConsentEvent, StoreError};
use uuid::Uuid;

use crate::members::*;
use crate::{Actor, CoreError, Jikimi, Result};

impl Jikimi {
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

    pub(crate) async fn set_consent_inner(
        &self,
        actor: &Actor,
        member: Uuid,
        category: &str,
        granted: bool,
        channel: &str,
    ) -> Result<()> {
        self.guardian_may_act(actor, member).await?;
        // A child under the policy's age does not consent alone (PIPA Art. 22-2): only
        // withdrawing is theirs; giving is the guardian's (issue 16).
        if granted
            && matches!(actor, Actor::Member(m) if *m == member)
            && self.is_child_member(member).await?
        {
            return Err(CoreError::ChildNeedsGuardian {
                age: self.policy().meta.child_age,
            });
        }
        let now = self.clock().now();
        let mut change = self.consent_change(actor, member, category, granted, channel, now)?;
        // 정보통신망법 Art. 50(7): the result of an ad-reception choice is confirmed.
        let (jobs, audit) = self
            .ad_consent_notice_for(actor, member, &[(category.to_owned(), granted)], now)
            .await?;
        change.jobs.extend(jobs);
        change.audit.extend(audit);
        self.store().apply(change).await.map_err(|e| match e {
            StoreError::NotFound(what) => CoreError::NotFound(what),
            other => CoreError::Store(other),
        })?;
        Ok(())
    }

    /// The change one consent decision makes (its ledger event, the items it drops, its audit
    /// entry), checked and not yet applied.
    pub(crate) fn consent_change(
        &self,
        actor: &Actor,
        member: Uuid,
        category: &str,
        granted: bool,
        channel: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<MemberChange> {
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
            change.remove_indexes.extend(
                dropped
                    .iter()
                    .map(|id| format!("{}{id}", crate::members::LOOKUP_PREFIX)),
            );
            entry.items = dropped;
        }
        // S9: partners that received the data are told — of a partner's consent withdrawn, and
        // of items removed with the optional-items consent.
        if !granted {
            change.jobs.extend(self.follow_job(
                member,
                crate::partners::CONSENT_WITHDRAWN,
                &[],
                cat.partner.as_deref(),
            )?);
            change.jobs.extend(self.follow_job(
                member,
                crate::partners::CORRECTION,
                &change.remove_items,
                None,
            )?);
        }
        change.audit.push(entry);
        Ok(change)
    }
}
