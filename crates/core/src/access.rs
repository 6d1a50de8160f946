//! What callers outside core read without going to the store: the published policy's versions,
//! a member's consent history and held items, the destruction report, the master key's
//! fingerprint. Pages, the API and the CLI ask here; `Jikimi::store()` and `keyring()` are core's
//! own.

use uuid::Uuid;

use crate::{Jikimi, Result};

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
