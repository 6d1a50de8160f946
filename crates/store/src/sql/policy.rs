//! Policy versions: every privacy-policy text that was ever in force, recorded once.

use async_trait::async_trait;

use crate::{PolicyVersionRow, Result};

/// Policy versions (part of [`Store`](crate::Store)).
#[async_trait]
pub trait PolicyVersionStore: Send + Sync {
    async fn record_policy_version(&self, v: PolicyVersionRow) -> Result<()>;
    async fn policy_versions(&self) -> Result<Vec<PolicyVersionRow>>;
}

/// Expands `impl PolicyVersionStore for $store`. Needs nothing from the backend module.
macro_rules! policy_sql {
    ($store:ident) => {
        #[async_trait::async_trait]
        impl $crate::PolicyVersionStore for $store {
            async fn record_policy_version(&self, v: $crate::PolicyVersionRow) -> $crate::Result<()> {
                sqlx::query(
                    "INSERT INTO policy_versions (version, policy_id, effective_date, first_active_at, document, text_ko, text_en)
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (version) DO NOTHING",
                )
                .bind(&v.version)
                .bind(&v.policy_id)
                .bind(v.effective_date)
                .bind(v.first_active_at)
                .bind(&v.document)
                .bind(&v.text_ko)
                .bind(&v.text_en)
                .execute(&self.write)
                .await?;
                Ok(())
            }

            async fn policy_versions(&self) -> $crate::Result<Vec<$crate::PolicyVersionRow>> {
                Ok(sqlx::query_as(
                    "SELECT version, policy_id, effective_date, first_active_at, document, text_ko, text_en
                     FROM policy_versions ORDER BY first_active_at, effective_date, version",
                )
                .fetch_all(&self.read)
                .await?)
            }
        }
    };
}

pub(crate) use policy_sql;
