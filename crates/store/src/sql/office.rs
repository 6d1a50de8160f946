//! Privacy-office tokens: the staff accounts of the privacy office (only each token's SHA-256 is
//! stored).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::{AuditEntry, Result};

/// Privacy-office tokens (part of [`Store`](crate::Store)).
#[async_trait]
pub trait OfficeStore: Send + Sync {
    /// Sets the token of a staff account (a new account, or a new token replacing the old one),
    /// with its audit entry.
    async fn set_office_token(
        &self,
        name: &str,
        token_hash: &[u8],
        at: DateTime<Utc>,
        audit: Vec<AuditEntry>,
    ) -> Result<()>;
    /// The staff account a token belongs to, unless revoked.
    async fn office_account(&self, token_hash: &[u8]) -> Result<Option<String>>;
    /// Revokes an account's token; returns whether there was one in force.
    async fn revoke_office_token(
        &self,
        name: &str,
        at: DateTime<Utc>,
        audit: Vec<AuditEntry>,
    ) -> Result<bool>;
}

/// Expands `impl OfficeStore for $store`. Needs `BEGIN` from the backend module, and
/// `append_audit_tx`.
macro_rules! office_sql {
    ($store:ident) => {
        #[async_trait::async_trait]
        impl $crate::OfficeStore for $store {
            async fn set_office_token(
                &self,
                name: &str,
                token_hash: &[u8],
                at: chrono::DateTime<chrono::Utc>,
                audit: Vec<$crate::AuditEntry>,
            ) -> $crate::Result<()> {
                let mut conn = self.write.acquire().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                sqlx::query(
                    "INSERT INTO office_tokens (name, token_hash, created_at, revoked_at)
                     VALUES ($1, $2, $3, NULL)
                     ON CONFLICT (name) DO UPDATE SET token_hash = excluded.token_hash,
                         created_at = excluded.created_at, revoked_at = NULL",
                )
                .bind(name)
                .bind(token_hash)
                .bind(at)
                .execute(&mut *tx)
                .await?;
                append_audit_tx(&mut tx, self.linker.as_ref(), &audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn office_account(&self, token_hash: &[u8]) -> $crate::Result<Option<String>> {
                Ok(sqlx::query_scalar(
                    "SELECT name FROM office_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
                )
                .bind(token_hash)
                .fetch_optional(&self.read)
                .await?)
            }

            async fn revoke_office_token(
                &self,
                name: &str,
                at: chrono::DateTime<chrono::Utc>,
                audit: Vec<$crate::AuditEntry>,
            ) -> $crate::Result<bool> {
                let mut conn = self.write.acquire().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                let done = sqlx::query(
                    "UPDATE office_tokens SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL",
                )
                .bind(name)
                .bind(at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if done == 1 {
                    append_audit_tx(&mut tx, self.linker.as_ref(), &audit).await?;
                }
                tx.commit().await?;
                Ok(done == 1)
            }
        }
    };
}

pub(crate) use office_sql;
