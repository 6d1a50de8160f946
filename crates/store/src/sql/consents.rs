//! Consents: the append-only consent ledger (its triggers forbid updates). Events are written by
//! the members' transactions through `insert_consents_tx`.

use async_trait::async_trait;
use uuid::Uuid;

use crate::{ConsentEventRow, Result};

/// The consent ledger (part of [`Store`](crate::Store)).
#[async_trait]
pub trait ConsentStore: Send + Sync {
    async fn consent_events(&self, member: Uuid) -> Result<Vec<ConsentEventRow>>;
    /// Every consent event of `category` of active members, as (member, granted, the policy
    /// version it was given or withdrawn under), in each member's order.
    async fn consent_versions_in(&self, category: &str) -> Result<Vec<(Uuid, bool, String)>>;
}

/// Expands `insert_consents_tx` and `impl ConsentStore for $store`. Needs `Tx` from the backend
/// module.
macro_rules! consent_sql {
    ($store:ident) => {
        async fn insert_consents_tx(
            tx: &mut Tx<'_>,
            member: uuid::Uuid,
            events: &[$crate::NewConsentEvent],
        ) -> $crate::Result<()> {
            for c in events {
                sqlx::query(
                    "INSERT INTO consent_events (member_id, category, granted, policy_version, channel, at)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(member)
                .bind(&c.category)
                .bind(c.granted)
                .bind(&c.policy_version)
                .bind(&c.channel)
                .bind(c.at)
                .execute(&mut **tx)
                .await?;
            }
            Ok(())
        }

        #[async_trait::async_trait]
        impl $crate::ConsentStore for $store {
            async fn consent_events(
                &self,
                member: uuid::Uuid,
            ) -> $crate::Result<Vec<$crate::ConsentEventRow>> {
                Ok(sqlx::query_as(
                    "SELECT seq, member_id, category, granted, policy_version, channel, at
                     FROM consent_events WHERE member_id = $1 ORDER BY seq",
                )
                .bind(member)
                .fetch_all(&self.read)
                .await?)
            }

            async fn consent_versions_in(
                &self,
                category: &str,
            ) -> $crate::Result<Vec<(uuid::Uuid, bool, String)>> {
                Ok(sqlx::query_as(
                    "SELECT e.member_id, e.granted, e.policy_version FROM consent_events e
                     JOIN members m ON m.id = e.member_id AND m.status = 'active'
                     WHERE e.category = $1 ORDER BY e.member_id, e.seq",
                )
                .bind(category)
                .fetch_all(&self.read)
                .await?)
            }
        }
    };
}

pub(crate) use consent_sql;
