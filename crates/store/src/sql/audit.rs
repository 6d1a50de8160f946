//! The audit log: a hash chain, appended to by every writing transaction through
//! `append_audit_tx`.

use async_trait::async_trait;

use crate::{AuditEntry, AuditRow, Result};

/// The hash-chained audit log (part of [`Store`](crate::Store)).
#[async_trait]
pub trait AuditStore: Send + Sync {
    async fn append_audit(&self, entries: Vec<AuditEntry>) -> Result<()>;
    async fn audit_rows(&self, after_seq: i64, limit: i64) -> Result<Vec<AuditRow>>;
    /// The last row of the audit chain, if any.
    async fn audit_head(&self) -> Result<Option<AuditRow>>;
}

/// Expands `append_audit_tx` and `impl AuditStore for $store`. Needs from the backend module:
/// `BEGIN`, `Tx` and `lock_audit(tx)`, which serialises appends (an advisory lock on PostgreSQL).
macro_rules! audit_sql {
    ($store:ident) => {
        use $crate::types::canonical_body;

        async fn append_audit_tx(
            tx: &mut Tx<'_>,
            linker: &dyn $crate::ChainLinker,
            entries: &[$crate::AuditEntry],
        ) -> $crate::Result<()> {
            if entries.is_empty() {
                return Ok(());
            }
            lock_audit(tx).await?;
            let last: Option<(i64, Vec<u8>)> =
                sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
                    .fetch_optional(&mut **tx)
                    .await?;
            let (mut seq, mut prev) = last.unwrap_or((0, vec![0u8; 32]));
            for e in entries {
                seq += 1;
                let at = e.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
                let items = e.items.join(",");
                let detail = e.detail.to_string();
                let body = canonical_body(
                    seq,
                    &at,
                    &e.actor,
                    e.origin.as_deref(),
                    &e.action,
                    e.member_id,
                    &items,
                    e.purpose.as_deref(),
                    &e.outcome,
                    &detail,
                );
                let hash = linker.link(&prev, &body);
                sqlx::query(
                    "INSERT INTO audit_log (seq, at, actor, origin, action, member_id, items, purpose, outcome, detail, prev_hash, hash)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                )
                .bind(seq)
                .bind(&at)
                .bind(&e.actor)
                .bind(&e.origin)
                .bind(&e.action)
                .bind(e.member_id)
                .bind(&items)
                .bind(&e.purpose)
                .bind(&e.outcome)
                .bind(&detail)
                .bind(&prev)
                .bind(&hash)
                .execute(&mut **tx)
                .await?;
                prev = hash;
            }
            Ok(())
        }

        #[async_trait::async_trait]
        impl $crate::AuditStore for $store {
            async fn append_audit(&self, entries: Vec<$crate::AuditEntry>) -> $crate::Result<()> {
                let mut tx = self.write.begin_with(BEGIN).await?;
                append_audit_tx(&mut tx, self.linker.as_ref(), &entries).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn audit_rows(
                &self,
                after_seq: i64,
                limit: i64,
            ) -> $crate::Result<Vec<$crate::AuditRow>> {
                Ok(sqlx::query_as(
                    "SELECT seq, at, actor, origin, action, member_id, items, purpose, outcome, detail, prev_hash, hash
                     FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2",
                )
                .bind(after_seq)
                .bind(limit)
                .fetch_all(&self.read)
                .await?)
            }

            async fn audit_head(&self) -> $crate::Result<Option<$crate::AuditRow>> {
                Ok(sqlx::query_as(
                    "SELECT seq, at, actor, origin, action, member_id, items, purpose, outcome, detail, prev_hash, hash
                     FROM audit_log ORDER BY seq DESC LIMIT 1",
                )
                .fetch_optional(&self.read)
                .await?)
            }
        }
    };
}

pub(crate) use audit_sql;
