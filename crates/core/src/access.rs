//! What callers outside core read without going to the store: the published policy's versions,
//! a member's consent history and held items, the destruction report, the master key's
//! fingerprint. Pages, the API and the CLI ask here; `Jikimi::store()` and `keyring()` are core's
//! own.

use std::collections::BTreeMap;

use jikimi_policy::{Item, ItemKind, Sensitivity};
use uuid::Uuid;

use crate::{CoreError, FieldError, Jikimi, Result, SessionInfo, validate};

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

    /// Every destruction record (withdrawals and purges): no personal data.
    pub async fn destruction_records(&self) -> Result<Vec<crate::DestructionRecord>> {
        Ok(self.store().destruction_records().await?)
    }

    /// The fingerprint of the master key in use.
    pub fn master_key_fingerprint(&self) -> String {
        self.keyring().fingerprint()
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
    pub async fn export_own(&self, session: &SessionInfo) -> Result<serde_json::Value> {
        self.may_disclose(session, Disclosure::Everything)?;
        self.export(session.member).await
    }
}
